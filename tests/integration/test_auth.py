#!/usr/bin/env python3
"""Bearer-token authentication (README "Security") against the real server:
scopes per route, 401/403 answers, the TCP auth line, the start-up checks
(non-loopback without tokens, bad token files), quiet logs with counters,
and the clients (eventide-ctl --token-file / EVENTIDE_TOKEN, eventide-bench
--token).

Run: python3 tests/integration/test_auth.py --binary build/eventide
"""

import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import start_server, run_to_exit, wait_until  # noqa: E402

BINARY_DIR = None

TOKENS = {
    "read": "read-token-0123456789",
    "write": "write-token-0123456789",
    "admin": "admin-token-0123456789",
    "full": "full-token-0123456789abcdef",
}
UNKNOWN = "not-a-configured-token-42"


def token_file(text=None, mode=0o600):
    d = tempfile.mkdtemp(prefix="eventide-auth-")
    path = os.path.join(d, "tokens")
    if text is None:
        text = ("# eventide tokens\n\n"
                "read %s\nwrite %s\nadmin %s\nread,write,admin %s\n" % (
                    TOKENS["read"], TOKENS["write"], TOKENS["admin"],
                    TOKENS["full"]))
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def auth_server(binary, extra=()):
    return start_server(binary, ["--auth.token-file=" + token_file(), *extra])


def bearer(name):
    return {"Authorization": "Bearer " + TOKENS.get(name, name)}


def status_of(srv, method, path, headers=None, body=None):
    """(status, headers, parsed body or None for a stream)."""
    conn = srv.http_connection(timeout=10)
    try:
        hdrs = dict(headers or {})
        if body is not None:
            hdrs.setdefault("Content-Type", "application/x-ndjson")
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        rh = {k.lower(): v for k, v in resp.getheaders()}
        if rh.get("transfer-encoding") == "chunked" and resp.status == 200:
            return resp.status, rh, None   # a live tap: do not wait for it
        return resp.status, rh, harness.decode_body(resp.read())
    finally:
        conn.close()


EVENT = '{"id":"e1","key":"k1","op":"set","data":{"a":1}}\n'

# (method, path, body, the scope it needs)
ROUTES = [
    ("POST", "/v1/events", EVENT, "write"),
    ("GET", "/v1/keys/k1", None, "read"),
    ("DELETE", "/v1/keys/nothing-here", None, "write"),
    ("GET", "/v1/stats", None, "read"),
    ("GET", "/metrics", None, "read"),
    ("GET", "/v1/actors", None, "admin"),
    ("GET", "/v1/actors/{id}", None, "admin"),
    ("GET", "/v1/cluster", None, "admin"),
    ("GET", "/v1/tap?key=k1", None, "admin"),
]


def test_every_route_family_needs_its_scope(binary):
    with auth_server(binary) as srv:
        st, _, actors = status_of(srv, "GET", "/v1/actors", bearer("admin"))
        assert st == 200, actors
        actor_id = actors["actors"][0]["id"]
        for method, path, body, needed in ROUTES:
            path = path.replace("{id}", str(actor_id))
            what = "%s %s" % (method, path)
            # no token, another scheme, an unknown token: 401 + challenge
            for hdrs in ({}, {"Authorization": "Basic dXNlcjpwYXNz"},
                         bearer(UNKNOWN)):
                st, rh, b = status_of(srv, method, path, hdrs, body)
                assert st == 401, (what, hdrs, st, b)
                assert rh.get("www-authenticate") == 'Bearer realm="eventide"', \
                    (what, rh)
                assert b["error"] == "unauthorized" and b["detail"], (what, b)
            # tokens without the scope: 403, no challenge
            for other in ("read", "write", "admin"):
                if other == needed:
                    continue
                st, rh, b = status_of(srv, method, path, bearer(other), body)
                assert st == 403, (what, other, st, b)
                assert "www-authenticate" not in rh, (what, rh)
                assert b == {"error": "forbidden",
                             "detail": "this token lacks the %s scope" % needed}, \
                    (what, b)
            # the scope itself, and the full-access token
            for good in (needed, "full"):
                st, _, b = status_of(srv, method, path, bearer(good), body)
                assert st in (200, 404), (what, good, st, b)
                if st == 404:
                    assert b["error"] == "not_found", (what, b)
        # the POST went through: the record is there
        st, _, rec = status_of(srv, "GET", "/v1/keys/k1", bearer("read"))
        assert st == 200 and rec["fields"] == {"a": 1}, rec


def test_health_and_console_stay_open(binary):
    with auth_server(binary) as srv:
        for path in ("/healthz", "/readyz", "/admin", "/admin/",
                     "/admin/console.js", "/admin/console.css",
                     "/admin/favicon.svg"):
            st, _, b = status_of(srv, "GET", path)
            assert st == 200, (path, st, b)
        # unknown paths stay 404 (not 401), wrong methods 405
        st, _, _ = status_of(srv, "GET", "/nope")
        assert st == 404
        st, _, _ = status_of(srv, "PUT", "/v1/stats")
        assert st == 405


def test_keep_alive_survives_a_401_without_body(binary):
    with auth_server(binary) as srv:
        conn = srv.http_connection(timeout=10)
        try:
            st, _, _ = harness.request(conn, "GET", "/v1/stats")
            assert st == 401
            st, _, b = harness.request(conn, "GET", "/v1/stats",
                                       headers=bearer("read"))
            assert st == 200 and "auth" in b, b
            assert b["auth"]["enabled"] is True, b
        finally:
            conn.close()


def test_tcp_auth_line_accepted_and_seq_starts_at_one(binary):
    with auth_server(binary) as srv:
        c = srv.tcp()
        c.send_lines([json.dumps({"auth": TOKENS["write"]}),
                      '{"id":"t1","key":"tk","op":"incr","data":{"n":1}}',
                      '{"id":"t2","op":"incr","data":{"n":1}}',
                      '{"id":"t3","key":"tk","op":"incr","data":{"n":1}}'])
        c.finish(3)
        _, errors, _, _ = c.snapshot()
        assert [(e["seq"], e["error"]) for e in errors] == \
            [(2, "missing_field")], errors
        st, _, rec = status_of(srv, "GET", "/v1/keys/tk", bearer("read"))
        assert st == 200 and rec["fields"]["n"] == 2, rec
        # the full-access token works too
        c = srv.tcp()
        c.send_lines([json.dumps({"auth": TOKENS["full"]}),
                      '{"id":"t4","key":"tk","op":"incr","data":{"n":1}}'])
        c.finish(1)


def refused(srv, first_lines, expect_error, expect_detail=None):
    c = srv.tcp()
    c.send_lines(first_lines)
    reason = c.wait_closed(10)
    replies, errors, max_ack, protocol = c.snapshot()
    assert not protocol, protocol
    assert max_ack == 0, replies
    assert len(errors) == 1 and errors[0]["error"] == expect_error, \
        (reason, replies)
    assert "seq" not in errors[0], errors
    if expect_detail:
        assert errors[0]["detail"] == expect_detail, errors
    c.close()


def test_tcp_refuses_bad_missing_or_read_only_tokens(binary):
    ev = '{"id":"x1","key":"never","op":"set","data":{"a":1}}'
    with auth_server(binary) as srv:
        refused(srv, [json.dumps({"auth": UNKNOWN}), ev], "unauthorized",
                "unknown token")
        refused(srv, [json.dumps({"auth": TOKENS["read"]}), ev], "forbidden",
                "this token lacks the write scope")
        refused(srv, [json.dumps({"auth": TOKENS["admin"]}), ev], "forbidden")
        refused(srv, [ev, ev], "unauthorized")            # no auth line
        refused(srv, ["", ev], "unauthorized")            # blank first line
        refused(srv, ['{"auth":"%s","x":1}' % TOKENS["write"], ev],
                "unauthorized")                           # not just auth
        refused(srv, ["not json", ev], "unauthorized")
        # half-close without any line
        c = srv.tcp()
        c.shutdown_write()
        c.wait_closed(10)
        _, errors, _, _ = c.snapshot()
        assert [e["error"] for e in errors] == ["unauthorized"], errors
        # an over-long first line is cut off
        c = srv.tcp()
        c.send(b"x" * 10000)
        c.wait_closed(10)
        _, errors, _, _ = c.snapshot()
        assert [e["error"] for e in errors] == ["unauthorized"], errors
        # nothing after a refused auth line was applied
        st, _, _ = status_of(srv, "GET", "/v1/keys/never", bearer("read"))
        assert st == 404, st
        st, _, stats = status_of(srv, "GET", "/v1/stats", bearer("read"))
        assert stats["accepted"] == 0 and stats["rejected"] == 0, stats


def test_tcp_auth_line_split_across_writes(binary):
    with auth_server(binary) as srv:
        c = srv.tcp()
        line = json.dumps({"auth": TOKENS["write"]}).encode() + b"\n"
        c.send(line[:5])
        time.sleep(0.1)
        c.send(line[5:] + b'{"id":"s1","key":"sk","data":{"a":1}}')
        c.finish(1)   # the last line without '\n' at half-close counts


def test_auth_off_keeps_the_old_behaviour(binary):
    with start_server(binary) as srv:
        c = srv.tcp()
        c.send_lines(['{"auth":"whatever-token-12345"}',
                      '{"id":"o1","key":"ok","data":{"a":1}}'])
        c.finish(2)
        _, errors, _, _ = c.snapshot()
        assert [(e["seq"], e["error"]) for e in errors] == \
            [(1, "unknown_field")], errors
        st, _, stats = status_of(srv, "GET", "/v1/stats")
        assert st == 200 and stats["auth"]["enabled"] is False, stats
        st, _, _ = status_of(srv, "GET", "/v1/actors")
        assert st == 200


def test_refuses_non_loopback_listeners_without_tokens(binary):
    for args in (["--http.listen=0.0.0.0:0", "--ingest.listen=127.0.0.1:0"],
                 ["--http.listen=127.0.0.1:0", "--ingest.listen=0.0.0.0:0"]):
        code, out, err, started = run_to_exit(
            binary, args + ["--storage.mode=memory"], timeout=20)
        assert not started and code == 2, (code, out, err)
        for word in ("auth.token-file", "auth.allow-insecure", "0.0.0.0"):
            assert word in err, (word, err)
        refusal = [l for l in err.splitlines() if "refusing" in l]
        assert len(refusal) == 1, err
        assert ("http.listen=0.0.0.0" in refusal[0]) == \
            ("http.listen=0.0.0.0" in args[0]), refusal
        assert ("ingest.listen=0.0.0.0" in refusal[0]) == \
            ("ingest.listen=0.0.0.0" in args[1]), refusal


def test_allow_insecure_starts_with_one_warning(binary):
    with start_server(binary, ["--http.listen=0.0.0.0:0",
                               "--ingest.listen=0.0.0.0:0",
                               "--storage.mode=memory",
                               "--auth.allow-insecure=true"],
                      base_args=False) as srv:
        st, _, _ = status_of(srv, "GET", "/v1/stats")
        assert st == 200
        warnings = [l for l in srv.stderr_text().splitlines()
                    if "allow-insecure" in l and " warn" in l]
        assert len(warnings) == 1, srv.stderr_text()
    # with tokens, non-loopback needs no flag and warns about nothing
    with start_server(binary, ["--http.listen=0.0.0.0:0",
                               "--ingest.listen=127.0.0.1:0",
                               "--storage.mode=memory",
                               "--auth.token-file=" + token_file()],
                      base_args=False) as srv:
        st, _, _ = status_of(srv, "GET", "/v1/stats")
        assert st == 401
        assert " warn" not in srv.stderr_text(), srv.stderr_text()


def test_bad_token_files_refuse_start_up(binary):
    good = TOKENS["full"]
    cases = [
        ("read %s\nbogus %s\n" % (TOKENS["read"], good), ":2: unknown scope"),
        ("read short\n", ":1: token shorter than 16"),
        ("read %s\nwrite %s\n" % (good, good), ":2: duplicate token"),
        ("%s\n" % good, ":1: expected 'SCOPES TOKEN'"),
        ("# nothing\n", ": no tokens"),
    ]
    for text, expect in cases:
        path = token_file(text)
        code, out, err, started = run_to_exit(
            binary, ["--auth.token-file=" + path, "--storage.mode=memory",
                     "--http.listen=127.0.0.1:0", "--ingest.listen=127.0.0.1:0"],
            timeout=20)
        assert not started and code == 2, (text, code, err)
        assert path + expect in err, (expect, err)
        assert good not in err and good not in out, err
    code, _, err, started = run_to_exit(
        binary, ["--auth.token-file=/nonexistent/tokens",
                 "--storage.mode=memory"], timeout=20)
    assert not started and code == 2 and "/nonexistent/tokens" in err, err


def test_token_file_readable_by_others_warns_once(binary):
    path = token_file(mode=0o644)
    with start_server(binary, ["--auth.token-file=" + path]) as srv:
        lines = [l for l in srv.stderr_text().splitlines()
                 if "readable by group or others" in l]
        assert len(lines) == 1 and path in lines[0], srv.stderr_text()
        for t in TOKENS.values():
            assert t not in srv.stderr_text()
    with auth_server(binary) as srv:   # 0600: quiet
        assert "readable by" not in srv.stderr_text()


def test_failures_are_counted_not_logged(binary):
    with auth_server(binary) as srv:
        time.sleep(0.3)
        before = srv.stderr_text()
        conn = srv.http_connection(timeout=10)
        for i in range(100):
            hdrs = [{}, bearer(UNKNOWN), bearer("write")][i % 3]
            st, _, _ = harness.request(conn, "GET", "/v1/stats", headers=hdrs)
            assert st in (401, 403), st
        conn.close()
        for _ in range(3):
            refused(srv, ['{"auth":"%s"}' % UNKNOWN], "unauthorized")
        time.sleep(0.3)
        assert srv.stderr_text() == before, srv.stderr_text()[len(before):]
        st, _, stats = status_of(srv, "GET", "/v1/stats", bearer("read"))
        assert stats["auth"]["failures"] == {
            "missing": 34, "invalid": 33 + 3, "scope": 33}, stats["auth"]
        st, _, metrics = status_of(srv, "GET", "/metrics", bearer("read"))
        text = metrics.decode() if isinstance(metrics, bytes) else str(metrics)
        for line in ('eventide_auth_failures_total{reason="missing"} 34',
                     'eventide_auth_failures_total{reason="invalid"} 36',
                     'eventide_auth_failures_total{reason="scope"} 33'):
            assert line in text, (line, text[:3000])
        promtool = shutil.which("promtool")
        if promtool:
            chk = subprocess.run([promtool, "check", "metrics"],
                                 input=text.encode(), capture_output=True)
            assert chk.returncode == 0, chk.stdout + chk.stderr


# -- clients ------------------------------------------------------------------

def ctl(srv, *args, env=None):
    exe = os.path.join(BINARY_DIR, "eventide-ctl")
    full_env = dict(os.environ)
    full_env.pop("EVENTIDE_TOKEN", None)
    full_env.update(env or {})
    out = subprocess.run(
        ["timeout", "30", exe, "--server",
         "%s:%d" % (srv.http_host, srv.http_port), *args],
        capture_output=True, text=True, env=full_env,
        stdin=subprocess.DEVNULL)
    assert out.returncode != 124, "eventide-ctl timed out"
    return out.returncode, out.stdout, out.stderr


def test_ctl_token_file_and_env(binary):
    server_file = token_file()
    # the server's own file: its first token (read) is used
    with auth_server(binary) as srv:
        code, out, err = ctl(srv, "stats")
        assert code == 1 and "unauthorized" in err, (code, out, err)
        code, out, err = ctl(srv, "--token-file", server_file, "stats")
        assert code == 0, (code, out, err)
        code, out, err = ctl(srv, "--token-file", server_file, "actors")
        assert code == 1 and "forbidden" in err, (code, out, err)
        # a file holding just the token
        just = token_file(TOKENS["admin"] + "\n")
        code, out, err = ctl(srv, "--token-file", just, "--json", "actors")
        assert code == 0 and json.loads(out)["actors"], (code, out, err)
        # the environment variable
        code, out, err = ctl(srv, "--json", "cluster",
                             env={"EVENTIDE_TOKEN": TOKENS["admin"]})
        assert code == 0 and json.loads(out)["members"], (code, out, err)
        code, out, err = ctl(srv, "get", "nope",
                             env={"EVENTIDE_TOKEN": UNKNOWN})
        assert code == 1 and "unauthorized" in err, (code, out, err)
        # --token-file wins over the environment
        code, out, err = ctl(srv, "--token-file", just, "actors",
                             env={"EVENTIDE_TOKEN": UNKNOWN})
        assert code == 0, (code, out, err)
        # send needs write
        ev = tempfile.NamedTemporaryFile("w", suffix=".ndjson", delete=False)
        ev.write(EVENT)
        ev.close()
        code, out, err = ctl(srv, "send", ev.name,
                             env={"EVENTIDE_TOKEN": TOKENS["write"]})
        assert code == 0 and "accepted 1" in out, (code, out, err)
        code, out, err = ctl(srv, "--token-file", "/nonexistent/t", "stats")
        assert code == 64 and "/nonexistent/t" in err, (code, out, err)


def bench(srv, *args):
    exe = os.path.join(BINARY_DIR, "eventide-bench")
    out = subprocess.run(
        ["timeout", "60", exe, "--port", str(srv.ingest_port),
         "--http-port", str(srv.http_port), "--json", "--quiet", *args],
        capture_output=True, text=True)
    try:
        return out.returncode, json.loads(out.stdout)
    except json.JSONDecodeError:
        raise AssertionError("bench printed no JSON (exit %d): %s %s"
                             % (out.returncode, out.stdout, out.stderr))


def test_bench_token_over_tcp_and_http(binary):
    with auth_server(binary) as srv:
        common = ["--events", "4000", "--connections", "2", "--keys", "100",
                  "--verify", "--verify-keys", "50"]
        code, r = bench(srv, "--token", TOKENS["full"], *common)
        assert code == 0 and r["verdict"] == "PASS", r
        code, r = bench(srv, "--token", TOKENS["full"], "--http", *common)
        assert code == 0 and r["verdict"] == "PASS", r
        code, r = bench(srv, "--events", "100", "--connections", "1")
        assert code != 0 and r["verdict"] == "FAIL", r


if __name__ == "__main__":
    args = harness.parse_args()
    BINARY_DIR = os.path.dirname(os.path.abspath(args.binary))
    harness.run_tests(globals())
