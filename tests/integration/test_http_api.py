#!/usr/bin/env python3
"""HTTP API (DESIGN.md §2, §3, §5), black-box against the real binary.

Run: python3 tests/integration/test_http_api.py --binary build/eventide
"""

import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import start_server, request, quote, assert_json_error  # noqa: E402

NDJSON = {"Content-Type": "application/x-ndjson"}
JSON = {"Content-Type": "application/json"}
RECORD_MEMBERS = {"key", "fields", "events", "first_ts", "last_ts", "version"}


def ev(eid, key, op=None, data=None, ts=None, **extra):
    e = {"id": eid, "key": key}
    if op is not None:
        e["op"] = op
    if data is not None:
        e["data"] = data
    if ts is not None:
        e["ts"] = ts
    e.update(extra)
    return e


def ndjson(*events):
    return "".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in events)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def post(srv, body, headers, conn=None):
    if conn is None:
        return srv.http("POST", "/v1/events", body, headers)
    return request(conn, "POST", "/v1/events", body, headers)


def check_result(status, body, accepted, duplicates, rejected, error_index_codes=(),
                 what=""):
    """200 {"accepted":A,"duplicates":D,"rejected":R,"errors":[...]} with
    the errors' (index, code) pairs as given (index from 0)."""
    assert status == 200, "%s: status %s body %r" % (what, status, body)
    assert isinstance(body, dict), "%s: body %r" % (what, body)
    got = (body.get("accepted"), body.get("duplicates"), body.get("rejected"))
    assert got == (accepted, duplicates, rejected), \
        "%s: (accepted, duplicates, rejected) = %r, expected %r; body %r" % (
            what, got, (accepted, duplicates, rejected), body)
    errors = body.get("errors")
    assert isinstance(errors, list), "%s: errors is not a list: %r" % (what, body)
    pairs = sorted((e.get("index"), e.get("error")) for e in errors)
    assert pairs == sorted(error_index_codes), \
        "%s: errors %r, expected (index, code) %r" % (what, errors, list(error_index_codes))
    for e in errors:
        assert is_int(e.get("index")), e
        assert isinstance(e.get("detail", ""), str), e
    return body


def get_record(srv, key, conn=None):
    status, _, body = srv.get_key(key, conn)
    assert status == 200, "GET %s: %s %r" % (key, status, body)
    assert isinstance(body, dict) and set(body) == RECORD_MEMBERS, \
        "record members %r, expected exactly %r" % (
            sorted(body) if isinstance(body, dict) else body, sorted(RECORD_MEMBERS))
    assert body["key"] == key, body
    assert isinstance(body["fields"], dict), body
    for m in ("events", "version", "first_ts", "last_ts"):
        assert is_int(body[m]), "%s is not an integer: %r" % (m, body)
    return body


def assert_absent(srv, key):
    status, _, body = srv.get_key(key)
    assert_json_error(status, body, 404, "not_found", "GET absent %r" % key)


# --------------------------------------------------------------------------

def test_post_ndjson(binary):
    with start_server(binary) as srv:
        body = ndjson(ev("h1", "hk1", "set", {"a": 1}),
                      ev("h2", "hk2", "incr", {"n": 2}),
                      ev("h3", "hk3", "set", {}, extra=1),       # unknown member
                      ev("h4", "hk1", "incr", {"a": 41}))
        status, _, res = post(srv, body, NDJSON)
        res = check_result(status, res, 3, 0, 1, [(2, "unknown_field")], "first POST")
        assert res["errors"][0].get("id") == "h3", res

        status, _, res = post(srv, body, NDJSON)
        check_result(status, res, 0, 3, 1, [(2, "unknown_field")], "same body again")

        assert get_record(srv, "hk1")["fields"] == {"a": 42}
        r = get_record(srv, "hk2")
        assert r["fields"] == {"n": 2} and r["events"] == 1 and r["version"] == 1, r
        assert_absent(srv, "hk3")

        # last line without a newline counts; charset parameter accepted
        body2 = ndjson(ev("h5", "hk2", "incr", {"n": 1})) + json.dumps(
            ev("h6", "hk2", "incr", {"n": 1}))
        status, _, res = post(srv, body2,
                              {"Content-Type": "application/x-ndjson; charset=utf-8"})
        check_result(status, res, 2, 0, 0, [], "unterminated last line")
        assert get_record(srv, "hk2")["fields"] == {"n": 4}

        # garbage NDJSON lines are per-line rejections, not a 400
        status, _, res = post(srv, "garbage\n" + ndjson(ev("h7", "hk7", "set", {"x": 1})),
                              NDJSON)
        check_result(status, res, 1, 0, 1, [(0, "invalid_json")], "garbage line")


def test_post_json_array_and_object(binary):
    with start_server(binary) as srv:
        arr = [ev("j1", "jk", "set", {"a": 1}),
               ev("j2", "jk", "mul", {"a": 1}),              # bad op
               ev("j3", "jk", "incr", {"a": 2}),
               5,                                           # not an object
               {"key": "jk", "data": {"z": 1}},             # missing id
               ev("j6", "jk", "incr", {"a": "x"})]          # not a number
        expect_errors = [(1, "bad_op"), (3, "not_an_object"), (4, "missing_field"),
                         (5, "not_a_number")]
        status, _, res = post(srv, json.dumps(arr), JSON)
        res = check_result(status, res, 2, 0, 4, expect_errors, "array")
        ids = {e["index"]: e.get("id") for e in res["errors"]}
        assert ids[1] == "j2" and ids[5] == "j6", res
        status, _, res = post(srv, json.dumps(arr), JSON)
        check_result(status, res, 0, 2, 4, expect_errors, "array again")
        r = get_record(srv, "jk")
        assert r["fields"] == {"a": 3} and r["events"] == 2 and r["version"] == 2, r

        one = ev("o1", "ok", "incr", {"c": 1})
        status, _, res = post(srv, json.dumps(one), JSON)
        check_result(status, res, 1, 0, 0, [], "single object")
        status, _, res = post(srv, json.dumps(one),
                              {"Content-Type": "application/json; charset=utf-8"})
        check_result(status, res, 0, 1, 0, [], "single object again")
        assert get_record(srv, "ok")["fields"] == {"c": 1}

        # a single bad object: 200 with one rejection at index 0
        status, _, res = post(srv, json.dumps(ev("o2", "ok", "incr", {"c": "1"})), JSON)
        check_result(status, res, 0, 0, 1, [(0, "not_a_number")], "single bad object")
        # an empty array is fine
        status, _, res = post(srv, "[]", JSON)
        check_result(status, res, 0, 0, 0, [], "empty array")


def test_dedup_rules(binary):
    with start_server(binary) as srv:
        # same (key, id) twice within one body: once applied, once duplicate
        body = ndjson(ev("d1", "dk", "incr", {"n": 1}), ev("d1", "dk", "incr", {"n": 1}))
        check_result(*post(srv, body, NDJSON)[::2], 1, 1, 0, [], "dup in one body")
        # the same id on another key is a different event
        check_result(*post(srv, ndjson(ev("d1", "dk2", "incr", {"n": 1})), NDJSON)[::2],
                     1, 0, 0, [], "same id other key")
        # a rejected id is not remembered: a corrected retry is applied
        check_result(*post(srv, ndjson(ev("d2", "dk", "incr", {"n": "one"})), NDJSON)[::2],
                     0, 0, 1, [(0, "not_a_number")], "rejected")
        check_result(*post(srv, ndjson(ev("d2", "dk", "incr", {"n": 1})), NDJSON)[::2],
                     1, 0, 0, [], "corrected retry")
        r = get_record(srv, "dk")
        assert r["fields"] == {"n": 2} and r["events"] == 2, r
        assert get_record(srv, "dk2")["fields"] == {"n": 1}


def test_record_semantics(binary):
    with start_server(binary) as srv:
        big = 2**53 + 1            # not representable as a double
        body = ndjson(
            ev("r1", "rec", "set", {"a": 1, "s": "x", "o": {"p": [1, 2]}, "z": None,
                                    "big": big}, ts=1764000000123),
            ev("r2", "rec", "incr", {"a": 2, "c": 5, "f": 0.5, "neg": -4}, ts=1764000000500),
            ev("r3", "rec", "incr", {"a": 0.5, "big": 1}, ts=1764000001000),
            ev("r4", "rec", "del", {"s": None}, ts=1764000002000),
            ev("r5", "rec", None, {"t": True, "c": 10}, ts=1764000009000),   # default op set
            ev("r6", "rec", "incr", {"o": 1}, ts=1764000009999),   # field_not_numeric
            ev("r7", "rec", "incr", {"big": 2**63 - 1}, ts=1764000009999),  # overflow
        )
        status, _, res = post(srv, body, NDJSON)
        check_result(status, res, 5, 0, 2, [(5, "field_not_numeric"), (6, "overflow")],
                     "record events")
        r = get_record(srv, "rec")
        assert r["fields"] == {"a": 3.5, "c": 10, "f": 0.5, "neg": -4, "o": {"p": [1, 2]},
                               "z": None, "t": True, "big": big + 1}, r
        assert isinstance(r["fields"]["a"], float), "int + double must be a double: %r" % r
        assert is_int(r["fields"]["big"]) and r["fields"]["big"] == big + 1, \
            "int64 must stay exact: %r" % r["fields"]["big"]
        assert is_int(r["fields"]["neg"]), r
        assert (r["events"], r["version"]) == (5, 5), r
        assert (r["first_ts"], r["last_ts"]) == (1764000000123, 1764000009000), r

        # whole-record delete
        check_result(*post(srv, ndjson(ev("g1", "gone", "set", {"a": 1}),
                                       ev("g2", "gone", "del")), NDJSON)[::2],
                     2, 0, 0, [], "set + del")
        assert_absent(srv, "gone")

        # ts from the server's clock when absent
        before = int(time.time() * 1000)
        check_result(*post(srv, ndjson(ev("c1", "clock", "incr", {"n": 1})), NDJSON)[::2],
                     1, 0, 0, [], "no ts")
        after = int(time.time() * 1000)
        r = get_record(srv, "clock")
        for m in ("first_ts", "last_ts"):
            assert before - 5000 <= r[m] <= after + 5000, \
                "%s=%d not near the clock [%d, %d]" % (m, r[m], before, after)

        # field delete leaves the rest; version keeps counting
        check_result(*post(srv, ndjson(ev("r8", "rec", "del", {"t": None, "z": None},
                                          ts=1764000010000)), NDJSON)[::2],
                     1, 0, 0, [], "field del")
        r = get_record(srv, "rec")
        assert "t" not in r["fields"] and "z" not in r["fields"] and "a" in r["fields"], r
        assert (r["events"], r["version"], r["last_ts"]) == (6, 6, 1764000010000), r


def test_percent_encoded_keys(binary):
    keys = ["user:42", "a b", "a/b", "100%", "a+b", "ключ", "q?x=1#f"]
    with start_server(binary) as srv:
        body = ndjson(*[ev("p%d" % i, k, "set", {"i": i}) for i, k in enumerate(keys)])
        check_result(*post(srv, body, NDJSON)[::2], len(keys), 0, 0, [], "keys")
        for i, k in enumerate(keys):
            r = get_record(srv, k)          # fully percent-encoded path
            assert r["fields"] == {"i": i}, (k, r)
        st, _, r = srv.http("GET", "/v1/keys/user%3A42")
        assert st == 200 and r["key"] == "user:42", (st, r)
        st, _, r = srv.http("GET", "/v1/keys/user:42")
        assert st == 200 and r["key"] == "user:42", (st, r)
        st, _, r = srv.http("GET", "/v1/keys/a+b")      # '+' is literal in a path
        assert st == 200 and r["key"] == "a+b", (st, r)
        st, _, r = srv.http("DELETE", "/v1/keys/a%2Fb")
        assert st == 200 and r == {"deleted": True}, (st, r)
        assert_absent(srv, "a/b")
        assert get_record(srv, "a b")["fields"] == {"i": 1}


def test_get_absent_and_delete(binary):
    with start_server(binary) as srv:
        assert_absent(srv, "nope")
        st, _, r = srv.http("DELETE", "/v1/keys/nope")
        assert_json_error(st, r, 404, "not_found", "DELETE absent")

        check_result(*post(srv, ndjson(ev("x1", "del-me", "set", {"a": 1})), NDJSON)[::2],
                     1, 0, 0, [], "set")
        st, _, r = srv.http("DELETE", "/v1/keys/del-me")
        assert st == 200 and r == {"deleted": True}, (st, r)
        assert_absent(srv, "del-me")
        st, _, r = srv.http("DELETE", "/v1/keys/del-me")
        assert_json_error(st, r, 404, "not_found", "second DELETE")
        # a retry of an already applied event does not resurrect the record
        check_result(*post(srv, ndjson(ev("x1", "del-me", "set", {"a": 1})), NDJSON)[::2],
                     0, 1, 0, [], "retry after delete")
        assert_absent(srv, "del-me")
        # a new event creates it again
        check_result(*post(srv, ndjson(ev("x2", "del-me", "set", {"b": 2})), NDJSON)[::2],
                     1, 0, 0, [], "new after delete")
        assert get_record(srv, "del-me")["fields"] == {"b": 2}


def test_bad_requests(binary):
    with start_server(binary) as srv:
        st, _, r = post(srv, '{"id":"x","key":', JSON)
        assert_json_error(st, r, 400, "invalid_json", "JSON body that is not JSON")
        st, _, r = post(srv, "not json at all", JSON)
        assert_json_error(st, r, 400, "invalid_json", "plain words as JSON")
        st, _, r = post(srv, ndjson(ev("t1", "tk", "set", {"a": 1})),
                        {"Content-Type": "text/plain"})
        assert_json_error(st, r, 415, None, "text/plain")
        assert_absent(srv, "tk")


def test_body_limit(binary):
    with start_server(binary, ["--http.max-body=1024"]) as srv:
        small = ndjson(*[ev("s%d" % i, "bl", "incr", {"n": 1}) for i in range(10)])
        assert len(small) < 1024
        check_result(*post(srv, small, NDJSON)[::2], 10, 0, 0, [], "under the limit")
        large = ndjson(*[ev("l%d" % i, "bl", "incr", {"n": 1}) for i in range(60)])
        assert len(large) > 1024
        st, _, r = post(srv, large, NDJSON)
        assert_json_error(st, r, 413, None, "body over --http.max-body")
        # chunked bodies are limited as well (no Content-Length to trust)
        conn = srv.http_connection()
        try:
            conn.putrequest("POST", "/v1/events")
            conn.putheader("Content-Type", "application/x-ndjson")
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            data = large.encode()
            try:
                for i in range(0, len(data), 300):
                    piece = data[i:i + 300]
                    conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
                conn.send(b"0\r\n\r\n")
            except OSError:
                pass    # the server may answer 413 early and stop reading
            resp = conn.getresponse()
            st, r = resp.status, harness.decode_body(resp.read())
        except (ConnectionError, OSError) as e:
            raise AssertionError("chunked over-limit body: connection failed "
                                 "instead of 413: %r" % e)
        finally:
            conn.close()
        assert_json_error(st, r, 413, None, "chunked body over --http.max-body")
        r = get_record(srv, "bl")
        assert r["fields"] == {"n": 10}, "over-limit bodies must not be applied: %r" % r
        st, _, _ = srv.http("GET", "/healthz")
        assert st == 200


def test_stats_health_ready(binary):
    with start_server(binary) as srv:
        st, _, r = srv.http("GET", "/healthz")
        assert st == 200, (st, r)
        harness.wait_until(lambda: srv.http("GET", "/readyz")[0] == 200, 10, 0.1,
                           "/readyz to answer 200")
        check_result(*post(srv, ndjson(ev("a", "sk", "set", {"a": 1}), "bad"), NDJSON)[::2],
                     1, 0, 1, [(1, "invalid_json")], "events")
        st, h, r = srv.http("GET", "/v1/stats")
        assert st == 200 and isinstance(r, dict) and r, (st, r)
        assert "json" in h.get("content-type", ""), h


def test_unknown_paths_and_methods(binary):
    with start_server(binary) as srv:
        for path in ("/nope", "/v1/nope", "/v1/keysx/a", "/v2/keys/a", "/"):
            st, _, r = srv.http("GET", path)
            if path == "/" and st in (200, 301, 302, 307, 308):
                continue      # '/' may well lead to the admin console
            assert_json_error(st, r, 404, None, "GET %s" % path)
        for method, path in (("PUT", "/v1/events"), ("GET", "/v1/events"),
                             ("DELETE", "/v1/events"), ("POST", "/v1/keys/x"),
                             ("PUT", "/v1/keys/x"), ("POST", "/v1/stats"),
                             ("DELETE", "/v1/stats"), ("POST", "/healthz")):
            st, _, r = srv.http(method, path, b"{}" if method in ("PUT", "POST") else None,
                                JSON if method in ("PUT", "POST") else {})
            assert_json_error(st, r, 405, None, "%s %s" % (method, path))


def test_keep_alive(binary):
    with start_server(binary) as srv:
        conn = srv.http_connection()
        try:
            st, _, r = request(conn, "GET", "/healthz")
            assert st == 200
            sock = conn.sock
            assert sock is not None, "server closed a keep-alive connection after /healthz"
            steps = [
                ("POST", "/v1/events", ndjson(ev("k1", "ka", "incr", {"n": 1})), NDJSON, 200),
                ("GET", "/v1/keys/ka", None, {}, 200),
                ("GET", "/v1/keys/absent", None, {}, 404),
                ("POST", "/v1/events", json.dumps([ev("k2", "ka", "incr", {"n": 1})]), JSON, 200),
                ("PUT", "/v1/events", "{}", JSON, 405),
                ("GET", "/v1/stats", None, {}, 200),
                ("POST", "/v1/events", "bad", NDJSON, 200),
                ("DELETE", "/v1/keys/ka", None, {}, 200),
                ("GET", "/v1/keys/ka", None, {}, 404),
                ("GET", "/healthz", None, {}, 200),
            ] * 3
            for i, (method, path, body, hdrs, want) in enumerate(steps):
                st, h, r = request(conn, method, path, body, hdrs)
                if i >= 10 and path == "/v1/keys/ka" and method == "GET" and want == 200:
                    want = 404     # deleted in the first round; ids are duplicates now
                if i >= 10 and method == "DELETE":
                    want = 404
                assert st == want, "request %d %s %s: %s %r" % (i, method, path, st, r)
                assert conn.sock is sock, \
                    "connection was not kept alive after request %d (%s %s -> %s, %r)" % (
                        i, method, path, st, h.get("connection"))
        finally:
            conn.close()


def test_http_garbage(binary):
    with start_server(binary) as srv:
        for junk in (b"GARBAGE\r\n\r\n", b"\x00\xff" * 1000, b"GET / HTTP/9.9\r\n\r\n",
                     b"POST /v1/events HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc",
                     b"GET /v1/keys/" + b"a" * 100_000 + b" HTTP/1.1\r\n\r\n"):
            s = socket.create_connection((srv.http_host, srv.http_port), timeout=10)
            try:
                s.sendall(junk)
                s.shutdown(socket.SHUT_WR)
                s.settimeout(10)
                while s.recv(65536):
                    pass
            except (socket.timeout, OSError):
                pass
            finally:
                s.close()
        srv.assert_alive()
        st, _, _ = srv.http("GET", "/healthz")
        assert st == 200


def test_large_post(binary):
    with start_server(binary) as srv:
        events = [ev("lp%d" % i, "lk%d" % (i % 100), "incr", {"n": 1, "f": 0.5})
                  for i in range(20_000)]
        st, _, r = post(srv, ndjson(*events), NDJSON)
        check_result(st, r, 20_000, 0, 0, [], "20k events")
        st, _, r = post(srv, json.dumps(events), JSON)
        check_result(st, r, 0, 20_000, 0, [], "20k duplicates as a JSON array")
        conn = srv.http_connection()
        try:
            for i in range(100):
                rec = get_record(srv, "lk%d" % i, conn)
                assert rec["fields"] == {"n": 200, "f": 100.0} and rec["events"] == 200, rec
        finally:
            conn.close()


if __name__ == "__main__":
    harness.run_tests(globals())
