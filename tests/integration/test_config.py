#!/usr/bin/env python3
"""Options, config file and logging (DESIGN.md §8, §9), black-box.

Run: python3 tests/integration/test_config.py --binary build/eventide
"""

import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import start_server, run_to_exit  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CONF = os.path.normpath(os.path.join(HERE, "..", "..", "config", "eventide.conf"))

OPTIONS = ["ingest.listen", "http.listen", "http.max-body", "engine.parsers",
           "engine.shards", "ingest.max-inflight", "limits.max-event-bytes",
           "limits.max-depth", "dedup.window", "storage.mode", "storage.data-dir",
           "storage.fsync", "log.level", "log.format", "cluster.port",
           "cluster.seeds", "cluster.node-name", "limits.max-connections",
           "limits.idle-timeout-ms", "limits.header-timeout-ms",
           "http.max-header-bytes"]

# a file that starts a harmless server when nothing is wrong with it
BASE = {"ingest.listen": '"127.0.0.1:0"', "http.listen": '"127.0.0.1:0"',
        "storage.mode": '"memory"'}


def render_conf(values, header=""):
    """INI text from {"section.key": raw value text}."""
    sections = {}
    for dotted, raw in values.items():
        sec, _, key = dotted.partition(".")
        sections.setdefault(sec, []).append("%s = %s" % (key, raw))
    out = [header] if header else []
    for sec, lines in sections.items():
        out.append("[%s]" % sec)
        out.extend(lines)
        out.append("")
    return "\n".join(out)


class ConfFile:
    def __init__(self, text):
        fd, self.path = tempfile.mkstemp(prefix="eventide-it-", suffix=".conf")
        with os.fdopen(fd, "w") as f:
            f.write(text)

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        os.unlink(self.path)
        return False


def names_key(text, dotted):
    t = text.lower()
    sec, _, key = dotted.lower().partition(".")
    return dotted.lower() in t or (sec in t and key in t)


def expect_refused(binary, args, key, what):
    code, out, err, started = run_to_exit(binary, args, timeout=10)
    assert code is not None, "%s: not refused, still running after 10 s\n%s%s" % (
        what, err[-2000:], out[-2000:])
    assert not started, "%s: the server started (printed its listening line) " \
                        "instead of refusing; exit %s" % (what, code)
    assert code != 0, "%s: exit code 0, expected non-zero" % what
    if key is not None:
        assert names_key(err, key), \
            "%s: stderr does not name %r:\n%s" % (what, key, err[-2000:] or "(empty)")
    return err


def padded_event(eid, key, length):
    base = '{"id":"%s","key":"%s","op":"set","data":{"p":""}}' % (eid, key)
    pad = length - len(base)
    assert pad >= 0
    line = '{"id":"%s","key":"%s","op":"set","data":{"p":"%s"}}' % (eid, key, "x" * pad)
    assert len(line) == length
    return line.encode()


def settle_log(srv, quiet=0.5, limit=5.0):
    """Wait until the server's log output stops growing for `quiet` s."""
    deadline = time.monotonic() + limit
    size, since = srv.log_size(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = srv.log_size()
        if now != size:
            size, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return srv.log_size()


# --------------------------------------------------------------------------

def test_help_lists_every_option(binary):
    code, out, err, started = run_to_exit(binary, ["--help"], timeout=10)
    assert code == 0, "--help exit code %s\n%s%s" % (code, out[-2000:], err[-2000:])
    assert not started, "--help started the server"
    text = out + err
    missing = [o for o in OPTIONS if o not in text]
    assert not missing, "--help does not list %s:\n%s" % (missing, text[:3000])
    assert "--config" in text, "--help does not mention --config"
    defaults = ["127.0.0.1:7070", "127.0.0.1:8080", "16777216", "65536", "1000000",
                "disk", "batch", "./data"]
    missing = [d for d in defaults if d not in text]
    assert not missing, "--help does not show the defaults %s" % missing


def test_config_file_errors_refused(binary):
    cases = [
        ("engine.bogus-option", "3", "unknown key"),
        ("nosuch.key", "1", "unknown section"),
        ("engine.shards", '"many"', "string for an integer"),
        ("engine.shards", "0", "zero shards"),
        ("engine.shards", "-3", "negative shards"),
        ("engine.parsers", "-1", "negative parsers"),
        ("limits.max-depth", "1.5", "double for an integer"),
        ("http.max-body", '"big"', "string for an integer"),
        ("ingest.max-inflight", "-1", "negative in-flight limit"),
        ("dedup.window", "lots", "word for an integer"),
        ("http.listen", '"nonsense"', "not host:port"),
        ("ingest.listen", '"127.0.0.1:99999"', "port out of range"),
        ("cluster.port", "70000", "port out of range"),
        ("storage.mode", '"cloud"', "unknown mode"),
        ("storage.fsync", '"sometimes"', "unknown fsync policy"),
        ("log.level", '"loud"', "unknown log level"),
        ("log.format", '"xml"', "unknown log format"),
        ("limits.max-connections", "0", "no connections at all"),
        ("limits.idle-timeout-ms", "5", "idle timeout below 100 ms"),
        ("limits.header-timeout-ms", "-1", "negative header timeout"),
        ("http.max-header-bytes", "100", "header limit below 1 KiB"),
    ]
    failures = []
    for key, raw, why in cases:
        values = dict(BASE)
        values[key] = raw
        with ConfFile(render_conf(values)) as path:
            try:
                expect_refused(binary, ["--config", path], key,
                               "config %s = %s (%s)" % (key, raw, why))
            except AssertionError as e:
                failures.append(str(e))
    assert not failures, "%d of %d bad config files were not refused properly:\n\n%s" % (
        len(failures), len(cases), "\n\n".join(failures))


def test_command_line_errors_refused(binary):
    base = ["--ingest.listen=127.0.0.1:0", "--http.listen=127.0.0.1:0",
            "--storage.mode=memory"]
    cases = [("engine.shards", "--engine.shards=0"),
             ("engine.shards", "--engine.shards=abc"),
             ("no-such.option", "--no-such.option=1"),
             ("limits.max-depth", "--limits.max-depth=-2"),
             ("log.format", "--log.format=xml")]
    failures = []
    for key, arg in cases:
        try:
            expect_refused(binary, base + [arg], key, "command line %s" % arg)
        except AssertionError as e:
            failures.append(str(e))
    assert not failures, "\n\n".join(failures)


def test_missing_config_file_refused(binary):
    path = os.path.join(tempfile.gettempdir(), "no-such-dir-eventide",
                        "eventide-missing.conf")
    err = expect_refused(binary, ["--config", path, "--ingest.listen=127.0.0.1:0",
                                  "--http.listen=127.0.0.1:0", "--storage.mode=memory"],
                         None, "--config of a missing file")
    assert "eventide-missing.conf" in err, \
        "the message does not name the missing file:\n%s" % err[-2000:]


def _probe_limit(srv, prefix):
    """Send a 150-byte and a 250-byte event; return their error codes."""
    c = srv.tcp()
    c.send(padded_event(prefix + "-150", prefix, 150) + b"\n" +
           padded_event(prefix + "-250", prefix, 250) + b"\n")
    c.finish(2)
    errs = {e.get("seq"): e.get("error") for e in c.snapshot()[1]}
    return errs.get(1), errs.get(2)


def test_command_line_wins_over_file(binary):
    values = dict(BASE)
    values["limits.max-event-bytes"] = "100"
    with ConfFile(render_conf(values)) as path:
        # the file alone is honoured ...
        with start_server(binary, ["--config", path]) as srv:
            assert _probe_limit(srv, "f") == ("too_large", "too_large"), \
                "file limits.max-event-bytes=100 not applied"
        # ... and the command line wins
        with start_server(binary, ["--config", path, "--limits.max-event-bytes=200"]) as srv:
            got = _probe_limit(srv, "c")
            assert got == (None, "too_large"), \
                "with --limits.max-event-bytes=200 over a file saying 100: %r" % (got,)
            st, _, r = srv.get_key("c")
            assert st == 200 and len(r["fields"]["p"]) > 0, (st, r)
        # same when the option comes before --config
        with start_server(binary, ["--limits.max-event-bytes=200", "--config", path]) as srv:
            assert _probe_limit(srv, "d") == (None, "too_large")


def test_config_file_format(binary):
    text = """
# eventide test config; '#' and ';' start comments
; a semicolon comment

[ingest]
listen = "127.0.0.1:0"
max-inflight=1000

[http]
  listen   =   127.0.0.1:0
max-body = 100000

[limits]
max-event-bytes = 300
max-depth = 5

[storage]
mode = memory

[log]
level = "info"
"""
    with ConfFile(text) as path:
        with start_server(binary, ["--config", path], base_args=False) as srv:
            c = srv.tcp()
            c.send(padded_event("cf-1", "cf", 250) + b"\n" +
                   padded_event("cf-2", "cf", 400) + b"\n" +
                   b'{"id":"cf-3","key":"cf","data":{"d":[[[[[[1]]]]]]}}\n' +
                   b'{"id":"cf-4","key":"cf","data":{"e":[1]}}\n')
            c.finish(4)
            errs = {e.get("seq"): e.get("error") for e in c.snapshot()[1]}
            assert errs == {2: "too_large", 3: "too_deep"}, errs
            st, _, r = srv.get_key("cf")
            assert st == 200 and r["events"] == 2, (st, r)


def test_default_config_file_starts(binary):
    assert os.path.isfile(DEFAULT_CONF), "missing default config %s" % DEFAULT_CONF
    with start_server(binary, ["--config", DEFAULT_CONF]) as srv:
        st, _, _ = srv.http("GET", "/healthz")
        assert st == 200
        c = srv.tcp()
        c.send(b'{"id":"dc-1","key":"dc","op":"incr","data":{"n":1}}\n')
        c.finish(1)
        st, _, r = srv.get_key("dc")
        assert st == 200 and r["fields"] == {"n": 1}, (st, r)


def test_bad_input_not_logged_per_event(binary):
    bad_kinds = [b"not json", b"[1,2]", b'{"id":"x"}', b'{"id":"y","key":"k","op":"mul"}',
                 b'{"id":"z","key":"k","op":"incr","data":{"n":"1"}}',
                 b'{"id":"w","key":"k","data":{"a":1},"extra":true}']
    with start_server(binary) as srv:
        assert srv.http("GET", "/healthz")[0] == 200
        before = settle_log(srv)
        c = srv.tcp()
        lines = [bad_kinds[i % len(bad_kinds)] for i in range(10_000)]
        c.send(b"\n".join(lines) + b"\n")
        c.finish(10_000, timeout=60)
        assert len(c.snapshot()[1]) == 10_000, "expected 10000 error replies"
        after = settle_log(srv, quiet=1.0)
        grew = after - before
        assert grew < 2048, "server log grew by %d bytes for 10000 bad lines:\n%s" % (
            grew, (srv.stderr_text() + srv.stdout_text())[-3000:])


def test_log_format_json(binary):
    with start_server(binary, ["--log.format=json"]) as srv:
        assert srv.http("GET", "/healthz")[0] == 200
        lines = [l for l in srv.stderr_text().splitlines() + srv.stdout_text().splitlines()
                 if "listening ingest=" in l]
        assert lines, "no start-up line"
        try:
            obj = json.loads(lines[0])
        except ValueError:
            raise AssertionError("with --log.format=json the start-up line is not "
                                 "JSON: %r" % lines[0])
        assert isinstance(obj, dict), lines[0]


if __name__ == "__main__":
    harness.run_tests(globals())
