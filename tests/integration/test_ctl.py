#!/usr/bin/env python3
"""eventide-ctl against the real server: output, exit codes, --json, and
the interactive mode driven through tmux.

The ctl binary is found next to the server binary. Every ctl run is
wrapped in timeout(1); the tmux test uses a private tmux server (-L) that
it kills at the end.
Run: python3 tests/integration/test_ctl.py --binary build/eventide
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import start_server  # noqa: E402

BINARY_DIR = None


def ctl_exe():
    return os.path.join(BINARY_DIR, "eventide-ctl")


def ctl(srv, *args, stdin=None, timeout=60):
    """Runs eventide-ctl once: (exit code, stdout, stderr)."""
    server = "%s:%d" % (srv.http_host, srv.http_port) if srv else None
    cmd = ["timeout", str(timeout), ctl_exe()]
    if server:
        cmd += ["--server", server]
    cmd += list(args)
    out = subprocess.run(cmd, input=stdin, capture_output=True, text=True,
                         stdin=None if stdin is not None else subprocess.DEVNULL)
    assert out.returncode != 124, "eventide-ctl %s timed out" % (args,)
    return out.returncode, out.stdout, out.stderr


def write_events(lines):
    f = tempfile.NamedTemporaryFile("w", suffix=".ndjson", delete=False)
    f.write("".join(l + "\n" for l in lines))
    f.close()
    return f.name


GOOD_AND_BAD = [
    '{"id":"e-1","key":"user:42","op":"incr","data":{"clicks":1,"spent":9.5}}',
    'not json',
    '',
    '{"id":"e-3","op":"incr","data":{"clicks":1}}',
    '{"id":"e-2","key":"user:42","op":"set","data":{"country":"DE"}}',
    '{"id":"e-4","key":"user:42","op":"incr","data":{"country":1}}',
]


def test_send_reports_bad_lines_by_input_line_and_exits_1(binary):
    path = write_events(GOOD_AND_BAD)
    try:
        with start_server(binary) as srv:
            # batches of 2: line numbers must still count from the file start
            code, out, err = ctl(srv, "send", path, "--batch", "2")
            assert code == 1, (code, out, err)
            lines = out.splitlines()
            assert lines == [
                "line 2: invalid_json: not valid JSON: syntax error",
                "line 4: missing_field: key is required (id e-3)",
                lines[2],
                "accepted 2, duplicates 0, rejected 3",
            ], out
            assert lines[2].startswith("line 6: field_not_numeric"), out
            assert lines[2].endswith("(id e-4)"), out
            assert "\r" not in err, "progress line on a non-terminal: %r" % err
            stats = srv.http("GET", "/v1/stats")[2]
            assert stats["accepted"] == 2 and stats["rejected"] == 3, stats
            # the same good events again from stdin: duplicates, exit 0
            code, out, err = ctl(srv, "send", "-",
                                 stdin=GOOD_AND_BAD[0] + "\n" + GOOD_AND_BAD[4])
            assert code == 0, (code, out, err)
            assert out == "accepted 0, duplicates 2, rejected 0\n", out
    finally:
        os.unlink(path)


def test_send_json_is_one_document_with_input_lines(binary):
    with start_server(binary) as srv:
        code, out, err = ctl(srv, "--json", "send", "--batch", "4",
                             stdin="\n".join(GOOD_AND_BAD) + "\n")
        assert code == 1, (code, out, err)
        doc = json.loads(out)
        assert (doc["accepted"], doc["duplicates"], doc["rejected"]) == (2, 0, 3)
        assert [e["line"] for e in doc["errors"]] == [2, 4, 6], doc
        assert doc["errors"][1]["error"] == "missing_field", doc


def test_send_many_batches_counts_everything(binary):
    events = ['{"id":"m-%d","key":"k%d","op":"incr","data":{"n":1}}'
              % (i, i % 7) for i in range(2500)]
    events[1700] = '{"id":"bad"}'
    with start_server(binary) as srv:
        code, out, err = ctl(srv, "send", "--batch", "300",
                             stdin="\n".join(events))
        assert code == 1, (code, out, err)
        assert out.splitlines() == [
            "line 1701: missing_field: key is required (id bad)",
            "accepted 2499, duplicates 0, rejected 1"], out


def test_send_reports_a_server_failure(binary):
    with start_server(binary, ["--http.max-body=100"]) as srv:
        code, out, err = ctl(srv, "send", stdin="\n".join(GOOD_AND_BAD))
        assert code == 1, (code, out, err)
        assert "error: too_large" in err and "(lines 1-6)" in err, err
        assert out == "accepted 0, duplicates 0, rejected 0\n", out


def test_get_and_del(binary):
    with start_server(binary) as srv:
        ctl(srv, "send", stdin="\n".join(GOOD_AND_BAD))
        code, out, err = ctl(srv, "get", "user:42")
        assert code == 0, (code, out, err)
        assert re.search(r"^key +user:42$", out, re.M), out
        assert re.search(r"^version +2$", out, re.M), out
        assert re.search(r'^  country +"DE"$', out, re.M), out
        assert re.search(r"^  spent +9\.5$", out, re.M), out
        code, out, _ = ctl(srv, "--json", "get", "user:42")
        assert code == 0
        assert json.loads(out) == srv.get_key("user:42")[2]
        code, out, err = ctl(srv, "del", "user:42")
        assert code == 0 and out == "deleted user:42\n", (code, out, err)
        code, out, err = ctl(srv, "get", "user:42")
        assert code == 1 and out == "", (code, out, err)
        assert err == "error: not_found: no record for key 'user:42'\n", err
        code, _, err = ctl(srv, "del", "user:42")
        assert code == 1 and "not_found" in err, err
        # keys with reserved characters are percent-encoded
        ctl(srv, "send", stdin='{"id":"x","key":"a b/c?d","data":{"v":1}}')
        code, out, _ = ctl(srv, "get", "a b/c?d")
        assert code == 0 and "a b/c?d" in out, out


def test_stats(binary):
    with start_server(binary) as srv:
        ctl(srv, "send", stdin="\n".join(GOOD_AND_BAD))
        code, out, err = ctl(srv, "stats")
        assert code == 0, (code, out, err)
        assert re.search(r"^accepted +2\b", out, re.M), out
        assert re.search(r"^rejected +3", out, re.M), out
        assert "invalid_json 1" in out and "missing_field 1" in out, out
        assert re.search(r"^engine +\d+ shards, \d+ parsers$", out, re.M), out
        code, out, _ = ctl(srv, "--json", "stats")
        assert code == 0
        doc = json.loads(out)
        assert doc["accepted"] == 2 and doc["rejected"] == 3, doc


def test_actors_table_and_detail(binary):
    with start_server(binary, ["--engine.shards=4", "--engine.parsers=2"]) as srv:
        ctl(srv, "send", stdin="\n".join(GOOD_AND_BAD))
        code, out, err = ctl(srv, "actors")
        assert code == 0, (code, out, err)
        lines = out.splitlines()
        assert lines[0].split() == ["ID", "NAME", "KIND", "SHARD", "MAILBOX",
                                    "PROCESSED", "APPLIED", "REJECTED",
                                    "KEYS", "BYTES", "BUSY"], lines[0]
        rows = [l.split() for l in lines[1:]]
        kinds = {r[2] for r in rows}
        assert {"parser", "shard", "router"} <= kinds, out
        ids = [int(r[0]) for r in rows]
        assert ids == sorted(ids), out
        assert sum(1 for r in rows if r[2] == "shard") == 4, out
        # --json is the server's document
        code, out, _ = ctl(srv, "--json", "actors")
        doc = json.loads(out)
        assert code == 0 and len(doc["actors"]) == len(rows), doc
        code, out, _ = ctl(srv, "actors", "--kind", "shard", "--sort", "keys")
        shard_rows = [l.split() for l in out.splitlines()[1:]]
        assert [r[2] for r in shard_rows] == ["shard"] * 4, out
        keys = [int(r[8]) for r in shard_rows]
        assert keys == sorted(keys, reverse=True) and keys[0] >= 1, out
        # the shard holding user:42 in depth
        code, out, err = ctl(srv, "actor", shard_rows[0][0])
        assert code == 0, (code, out, err)
        assert re.search(r"^kind +shard$", out, re.M), out
        assert "hot keys:" in out and "user:42" in out, out
        code, _, err = ctl(srv, "actor", "999999999")
        assert code == 1 and "not_found" in err, err


def test_cluster(binary):
    with start_server(binary, ["--engine.shards=4"]) as srv:
        code, out, err = ctl(srv, "cluster")
        assert code == 0, (code, out, err)
        assert re.search(r"^NODE +ADDRESS +STATE +SHARDS +HELD$", out, re.M), out
        assert "placement: 4 shards" in out, out
        assert re.search(r"\s4\s+0-3$", out, re.M), out
        code, out, _ = ctl(srv, "--json", "cluster")
        assert code == 0 and len(json.loads(out)["placement"]) == 4


def test_tap_streams_events_until_interrupted(binary):
    with start_server(binary) as srv:
        proc = subprocess.Popen(
            ["timeout", "60", ctl_exe(), "--server",
             "%s:%d" % (srv.http_host, srv.http_port), "tap", "--key",
             "user:42"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        try:
            first = proc.stdout.readline()
            assert first.startswith("tapping key user:42"), first
            ctl(srv, "send", stdin="\n".join(GOOD_AND_BAD))
            seen = [proc.stdout.readline() for _ in range(3)]
            assert any(" applied  incr  user:42  id e-1" in l for l in seen), seen
            assert any("rejected (field_not_numeric)" in l for l in seen), seen
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        assert proc.returncode == 0, proc.returncode


def test_top_once_and_json_frames(binary):
    with start_server(binary, ["--engine.shards=4"]) as srv:
        code, out, err = ctl(srv, "top", "--once")
        assert code == 0, (code, out, err)
        assert "\x1b[" not in out, "ANSI codes on a non-terminal"
        assert out.startswith("eventide top "), out
        assert re.search(r"^ *ID +NAME +KIND +BUSY% +MSGS/S", out, re.M), out
        code, out, err = ctl(srv, "--json", "top", "--iterations", "3",
                             "--interval", "0.2")
        frames = [json.loads(l) for l in out.splitlines()]
        assert code == 0 and len(frames) == 3, (code, out, err)
        assert frames[0]["interval_s"] == 0 and frames[2]["interval_s"] > 0
        assert {"parser", "shard"} <= {a["kind"] for a in frames[2]["actors"]}


def test_connection_failure_and_usage_errors(binary):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    code, out, err = ctl(None, "--server", "127.0.0.1:%d" % port, "stats")
    assert code == 2 and out == "", (code, out, err)
    assert err.startswith("eventide-ctl: cannot reach 127.0.0.1:%d: " % port), err
    code, out, err = ctl(None, "frobnicate")
    assert code == 64 and "frobnicate" in err, (code, err)
    code, _, err = ctl(None, "tap")
    assert code == 64 and "--key" in err, err
    code, out, _ = ctl(None, "--help")
    assert code == 0 and "send" in out and "top" in out, out
    # no command and stdin not a terminal: no prompt, a hint
    code, _, err = ctl(None)
    assert code == 64 and "--help" in err, err


# --------------------------------------------------------------------------
# interactive mode in tmux

class Tmux:
    """A private tmux server (its own socket) with one 200x50 session."""

    def __init__(self, command, env_home):
        self.sock = "eventide-ctl-test-%d" % os.getpid()
        self.run("new-session", "-d", "-x", "200", "-y", "50", "-s", "ctl",
                 "env HOME=%s TERM=xterm %s; echo CTL-EXITED=$?; sleep 120"
                 % (env_home, command))

    def run(self, *args):
        return subprocess.run(["timeout", "10", "tmux", "-L", self.sock]
                              + list(args), capture_output=True, text=True,
                              check=True).stdout

    def keys(self, *keys):
        self.run("send-keys", "-t", "ctl", *keys)

    def type(self, text):
        self.run("send-keys", "-t", "ctl", "-l", text)

    def screen(self):
        return self.run("capture-pane", "-p", "-t", "ctl")

    def wait_for(self, pred, what, timeout=20):
        last = [""]

        def check():
            last[0] = self.screen()
            return pred(last[0])
        try:
            harness.wait_until(check, timeout, interval=0.1, what=what)
        except AssertionError:
            raise AssertionError("%s; screen:\n%s" % (what, last[0]))
        return last[0]

    def kill(self):
        subprocess.run(["timeout", "10", "tmux", "-L", self.sock,
                        "kill-server"], capture_output=True)


def test_interactive_mode_in_tmux(binary):
    if shutil.which("tmux") is None:
        print("  (skipped: tmux is not installed)")
        return
    home = tempfile.mkdtemp(prefix="eventide-ctl-home-")
    with start_server(binary, ["--engine.shards=4"]) as srv:
        ctl(srv, "send", stdin="\n".join(GOOD_AND_BAD))
        # --foreground: a program in timeout's own process group could not
        # read the terminal (SIGTTIN)
        tmux = Tmux("timeout --foreground 120 %s --server %s:%d" % (
            ctl_exe(), srv.http_host, srv.http_port), home)
        try:
            # capture-pane drops trailing blanks: an empty prompt reads "eventide>"
            prompt_count = lambda s: s.count("eventide>")
            tmux.wait_for(lambda s: "eventide>" in s, "the prompt")
            tmux.type("stats")
            tmux.keys("Enter")
            tmux.wait_for(lambda s: re.search(r"^accepted +2", s, re.M)
                          and prompt_count(s) == 2, "stats output")
            # tab completion: "ge<Tab>" becomes "get "
            tmux.type("ge")
            tmux.keys("Tab")
            tmux.wait_for(lambda s: re.search(r"eventide> get\s*$", s, re.M),
                          "completion of 'ge'")
            tmux.type("user:42")
            tmux.keys("Enter")
            s = tmux.wait_for(lambda s: s.count('"DE"') == 1
                              and prompt_count(s) == 3, "the record")
            assert re.search(r"eventide> get +user:42", s), s
            # history: Up recalls the last command
            tmux.keys("Up")
            tmux.wait_for(lambda s: re.search(r"eventide> get +user:42\s*$",
                                              s.rstrip("\n"), re.M)
                          and prompt_count(s) == 3, "history recall")
            tmux.keys("Enter")
            tmux.wait_for(lambda s: s.count('"DE"') == 2, "the record again")
            # a bad command does not end the session
            tmux.type("frobnicate")
            tmux.keys("Enter")
            tmux.wait_for(lambda s: "not expected: frobnicate" in s
                          and prompt_count(s) == 5, "usage error")
            tmux.type("top --interval 0.3")
            tmux.keys("Enter")
            s = tmux.wait_for(lambda s: "last 0.3 s" in s,
                              "top refreshing")
            first_header = s.splitlines()[0]
            time.sleep(1.2)
            s = tmux.screen()
            # redrawn in place: one header (its clock moved on), one
            # table, nothing above
            assert s.splitlines()[0] != first_header, (first_header, s)
            assert s.count("eventide top") == 1, s
            assert s.count("MSGS/S") == 1, s
            assert s.startswith("eventide top"), s
            assert "since start" not in s, s
            tmux.type("q")
            tmux.wait_for(lambda s: s.rstrip().endswith("eventide>"),
                          "the prompt after top")
            tmux.type("quit")
            tmux.keys("Enter")
            tmux.wait_for(lambda s: "CTL-EXITED=0" in s, "exit code 0")
        finally:
            tmux.kill()
    history = open(os.path.join(home, ".eventide_ctl_history")).read()
    assert "stats" in history and "get" in history and "quit" in history, \
        history
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    args = harness.parse_args()
    BINARY_DIR = os.path.dirname(os.path.abspath(args.binary))
    harness.run_tests(globals())
