#!/usr/bin/env python3
"""Connection limits, timeouts, header/body limits, request smuggling and the
per-connection memory bound (README "Security / Limits"), black-box against
the real binary with small limits given on the command line.

Run: python3 tests/integration/test_limits.py --binary build/eventide
"""

import json
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import start_server, wait_until, assert_json_error  # noqa: E402

OVERLOADED_LINE = (b'{"error":"overloaded","detail":"too many connections '
                   b'(limit %d)"}\n')


def event(i, key="k"):
    return ('{"id":"e%d","key":"%s","op":"incr","data":{"n":1}}' % (i, key)).encode()


def connect(port, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_to_eof(s, timeout=5.0, limit=1 << 20):
    """Everything the server sends until it closes (or `timeout`)."""
    s.settimeout(timeout)
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(out) < limit:
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not data:
            return out, True
        out += data
    return out, False


def closed_within(s, timeout):
    """True when the server closes `s` (EOF or reset) within `timeout` s."""
    s.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not s.recv(65536):
                return True
    except socket.timeout:
        return False
    except OSError:
        return True
    return False


def parse_responses(raw):
    """[(status, headers, body)] of the HTTP/1.1 responses in `raw`."""
    out = []
    while raw:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        body, raw = rest[:n], rest[n:]
        out.append((status, headers, body))
    return out


def one_error_response(raw, status, code, what):
    responses = parse_responses(raw)
    assert len(responses) == 1, "%s: %d responses, expected exactly one: %r" % (
        what, len(responses), raw[:600])
    st, headers, body = responses[0]
    assert_json_error(st, json.loads(body), status, code, what)
    assert headers.get("connection", "").lower() == "close", \
        "%s: no Connection: close (%r)" % (what, headers)


def stats(srv):
    st, _, body = srv.http("GET", "/v1/stats")
    assert st == 200, (st, body)
    return body["ingest"]


def metric(srv, name, labels):
    st, _, body = srv.http("GET", "/metrics")
    assert st == 200
    text = body.decode() if isinstance(body, bytes) else body
    m = re.search(r"^%s\{%s\} (\S+)$" % (re.escape(name), re.escape(labels)),
                  text, re.M)
    assert m, "%s{%s} missing from /metrics" % (name, labels)
    return float(m.group(1))


def open_fds(srv):
    return len(os.listdir("/proc/%d/fd" % srv.proc.pid))


def fd_list(srv):
    d = "/proc/%d/fd" % srv.proc.pid
    return sorted(os.readlink(os.path.join(d, f)) for f in os.listdir(d))


def rss_kib(srv):
    with open("/proc/%d/status" % srv.proc.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# --------------------------------------------------------------------------

def test_tcp_max_connections(binary):
    limit = 3
    with start_server(binary, ["--limits.max-connections=%d" % limit]) as srv:
        warm = srv.tcp()  # the first connection and request open some fds
        warm.send(event(0) + b"\n")
        warm.finish(1)
        warm.close()
        stats(srv)
        fds_before = open_fds(srv)
        held = [srv.tcp() for _ in range(limit)]
        for i, c in enumerate(held):
            c.send(event(i) + b"\n")
            c.wait_ack(1)
        # a burst over the limit: each gets the line and is closed, and
        # accepting goes on (the last one is answered too)
        for _ in range(20):
            s = connect(srv.ingest_port)
            data, eof = read_to_eof(s)
            s.close()
            assert data == OVERLOADED_LINE % limit, data
            assert eof, "an over-limit connection was not closed"
        ingest = stats(srv)
        assert ingest["connections_rejected"]["tcp"] == 20, ingest
        assert ingest["connections"] == limit, ingest
        assert metric(srv, "eventide_connections_rejected_total",
                      'transport="tcp"') == 20
        # after one closes, a new one is served
        held[0].finish(1)
        held[0].close()

        def served():
            c = srv.tcp()
            c.send(event(99) + b"\n")
            try:
                c.wait_ack(1, timeout=2)
                return c
            except AssertionError:
                c.close()
                return None
        fresh = wait_until(served, 5, what="a connection accepted again")
        fresh.finish(1)
        for c in held[1:] + [fresh]:
            c.close()
        # no descriptor leaks from the rejected connections
        wait_until(lambda: open_fds(srv) <= fds_before, 5,
                   what="fds back to %d: %s" % (fds_before, fd_list(srv)))


def test_http_max_connections(binary):
    limit = 3
    with start_server(binary, ["--limits.max-connections=%d" % limit]) as srv:
        held = [srv.http_connection(timeout=5) for _ in range(limit)]
        for conn in held:
            st, _, _ = harness.request(conn, "GET", "/healthz")
            assert st == 200
        s = connect(srv.http_port)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        data, eof = read_to_eof(s)
        s.close()
        assert eof, "the over-limit connection was not closed"
        one_error_response(data, 503, "overloaded", "HTTP over the limit")
        # the held connections still work (keep-alive) and see the counter
        st, _, body = harness.request(held[1], "GET", "/v1/stats")
        assert st == 200 and body["ingest"]["connections_rejected"]["http"] == 1, body
        held[0].close()

        def served():
            try:
                st, _, _ = srv.http("GET", "/healthz", timeout=2)
            except OSError:
                return False
            return st == 200
        wait_until(served, 5, what="an HTTP connection accepted again")
        for conn in held[1:]:
            conn.close()
        assert metric(srv, "eventide_connections_rejected_total",
                      'transport="http"') >= 1


def test_tcp_idle_timeout(binary):
    with start_server(binary, ["--limits.idle-timeout-ms=800"]) as srv:
        idle = srv.tcp()
        idle.send(event(1) + b"\n")
        idle.wait_ack(1)
        t0 = time.monotonic()
        reason = idle.wait_closed(timeout=5)
        took = time.monotonic() - t0
        assert reason == "eof", reason
        assert 0.5 <= took <= 3.0, "idle connection closed after %.1f s" % took
        assert idle.max_ack == 1
        # a slow but active client: one byte every 0.2 s for 2.4 s, more
        # than three idle timeouts in all
        slow = srv.tcp()
        line = event(2, "slow") + b"\n"
        per_byte = max(1, len(line) // 12)
        for i in range(0, len(line), per_byte):
            slow.send(line[i:i + per_byte])
            time.sleep(0.2)
        slow.wait_ack(1, timeout=5)
        assert not slow.closed, "a slow but active client was cut"
        slow.finish(1)
        assert stats(srv)["connections_timed_out"]["tcp"] == 1


def test_http_idle_and_header_timeouts(binary):
    args = ["--limits.idle-timeout-ms=1000", "--limits.header-timeout-ms=1500"]
    with start_server(binary, args) as srv:
        # keep-alive idle: closed after about 1 s
        s = connect(srv.http_port)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        time.sleep(0.2)
        s.recv(65536)
        t0 = time.monotonic()
        assert closed_within(s, 4), "an idle keep-alive connection stayed open"
        assert 0.6 <= time.monotonic() - t0 <= 3.5
        s.close()
        # slowloris: a header byte every 0.25 s is never idle for 1 s, but
        # the header is not complete within 1.5 s
        loris = connect(srv.http_port)
        header = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 40
        t0 = time.monotonic()
        cut = False
        for b in header:
            try:
                loris.sendall(bytes([b]))
            except OSError:
                cut = True
                break
            if closed_within(loris, 0.25):
                cut = True
                break
        took = time.monotonic() - t0
        assert cut, "a slowloris header was not closed after %.1f s" % took
        assert 1.2 <= took <= 4.0, "slowloris closed after %.1f s" % took
        loris.close()
        # a normal slow client: header in three pieces, 0.3 s apart, and
        # a body trickled over 2.5 s (longer than the header timeout, no
        # pause as long as the idle timeout)
        body = b"\n".join(event(i, "slowpost") for i in range(5)) + b"\n"
        head = (b"POST /v1/events HTTP/1.1\r\nHost: t\r\n"
                b"Content-Type: application/x-ndjson\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body))
        c = connect(srv.http_port)
        for i in range(0, len(head), len(head) // 3 + 1):
            c.sendall(head[i:i + len(head) // 3 + 1])
            time.sleep(0.3)
        step = len(body) // 5 + 1
        for i in range(0, len(body), step):
            c.sendall(body[i:i + step])
            time.sleep(0.5)
        c.settimeout(5)
        raw = b""
        while b"}" not in raw:
            data = c.recv(65536)
            assert data, "slow client's connection closed: %r" % raw
            raw += data
        st, _, rbody = parse_responses(raw)[0]
        assert st == 200, raw
        assert json.loads(rbody)["accepted"] == 5, rbody
        c.close()
        assert stats(srv)["connections_timed_out"]["http"] >= 2


def test_header_too_large_is_431(binary):
    with start_server(binary, ["--http.max-header-bytes=2048"]) as srv:
        ok = connect(srv.http_port)
        ok.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Pad: " + b"p" * 1500
                   + b"\r\nConnection: close\r\n\r\n")
        data, _ = read_to_eof(ok)
        ok.close()
        assert parse_responses(data)[0][0] == 200, data[:300]
        s = connect(srv.http_port)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Pad: " + b"p" * 4000
                  + b"\r\n\r\n")
        data, eof = read_to_eof(s)
        s.close()
        assert eof
        one_error_response(data, 431, "too_large", "header over the limit")


def test_body_limit_before_and_while_streaming(binary):
    limit = 100_000
    with start_server(binary, ["--http.max-body=%d" % limit]) as srv:
        # Content-Length over the limit: 413 without sending a body byte
        for expect in (b"", b"Expect: 100-continue\r\n"):
            s = connect(srv.http_port)
            s.sendall(b"POST /v1/events HTTP/1.1\r\nHost: t\r\n"
                      b"Content-Type: application/x-ndjson\r\n" + expect
                      + b"Content-Length: 50000000\r\n\r\n")
            data, eof = read_to_eof(s)
            s.close()
            assert eof, "connection not closed after 413"
            one_error_response(data, 413, "too_large", "Content-Length %r" % expect)
        # chunked: cut as soon as the body passes the limit, before its end
        s = connect(srv.http_port)
        s.sendall(b"POST /v1/events HTTP/1.1\r\nHost: t\r\n"
                  b"Content-Type: application/x-ndjson\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n")
        line = event(1) + b"\n"
        chunk = line * (30_000 // len(line))
        sent = 0
        for _ in range(3):  # 90 kB: under the limit
            s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
        s.settimeout(0.5)
        try:
            early = s.recv(65536)
        except socket.timeout:
            early = None
        assert early is None, "answered before the limit was passed: %r" % early
        s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))  # 120 kB: over it
        data, eof = read_to_eof(s)
        s.close()
        assert eof
        one_error_response(data, 413, "too_large", "chunked body over the limit")
        st, _, body = srv.http("GET", "/v1/keys/k")
        assert st == 404, "a cut body was applied: %r" % body


SMUGGLING = [
    ("Content-Length and Transfer-Encoding",
     b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("Transfer-Encoding and Content-Length",
     b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"),
    ("conflicting Content-Length",
     b"Content-Length: 0\r\nContent-Length: 36\r\n\r\n"),
    ("duplicate Content-Length",
     b"Content-Length: 0\r\nContent-Length: 0\r\n\r\n"),
    ("Content-Length list", b"Content-Length: 0, 0\r\n\r\n"),
    ("Content-Length with a sign", b"Content-Length: +0\r\n\r\n"),
    ("Transfer-Encoding gzip", b"Transfer-Encoding: gzip\r\n\r\n"),
    ("Transfer-Encoding identity", b"Transfer-Encoding: identity\r\n\r\n"),
    ("Transfer-Encoding gzip, chunked",
     b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
    ("Transfer-Encoding chunked twice",
     b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"),
    ("two Transfer-Encoding fields",
     b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("non-hex chunk size", b"Transfer-Encoding: chunked\r\n\r\nzz\r\n"),
    ("negative chunk size", b"Transfer-Encoding: chunked\r\n\r\n-5\r\n"),
    ("overflowing chunk size",
     b"Transfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\n"),
    ("0x chunk size", b"Transfer-Encoding: chunked\r\n\r\n0x10\r\n"),
]


def test_request_smuggling_is_400(binary):
    hidden = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"  # 36 bytes
    with start_server(binary) as srv:
        failures = []
        for name, rest in SMUGGLING:
            s = connect(srv.http_port)
            s.sendall(b"POST /v1/events HTTP/1.1\r\nHost: t\r\n"
                      b"Content-Type: application/x-ndjson\r\n" + rest + hidden)
            data, eof = read_to_eof(s)
            s.close()
            try:
                assert eof, "%s: connection not closed" % name
                one_error_response(data, 400, "bad_request", name)
            except (AssertionError, ValueError) as e:
                failures.append(str(e))
        assert not failures, "\n".join(failures)
        # HTTP/1.0 with chunked
        s = connect(srv.http_port)
        s.sendall(b"POST /v1/events HTTP/1.0\r\nHost: t\r\n"
                  b"Content-Type: application/x-ndjson\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + hidden)
        data, _ = read_to_eof(s)
        s.close()
        responses = parse_responses(data)
        assert len(responses) == 1 and responses[0][0] == 400, data[:400]
        srv.assert_alive()


def test_memory_bound_for_a_client_that_never_reads(binary):
    # every line is rejected (no key), so each line produces an error reply
    # of ~250 bytes that the client never reads
    # (the idle timeout is long enough to watch the stall, then drops it)
    args = ["--ingest.max-inflight=4096", "--limits.idle-timeout-ms=4000"]
    with start_server(binary, args) as srv:
        warm = srv.tcp()
        warm.send(b"".join(event(i, "w%d" % i) + b"\n" for i in range(2000)))
        warm.finish(2000)
        warm.close()
        base = rss_kib(srv)
        s = connect(srv.ingest_port)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setblocking(False)
        line = b'{"id":"%s","op":"set","data":{"a":1}}\n' % (b"i" * 120)
        block = line * 2000
        sent, stalled_since, peak = 0, None, base
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                n = s.send(block)
            except BlockingIOError:
                n = 0
            sent += n
            if n:
                stalled_since = None
            elif stalled_since is None:
                stalled_since = time.monotonic()
            elif time.monotonic() - stalled_since > 2:
                break
            if not n:
                time.sleep(0.02)
            peak = max(peak, rss_kib(srv))
        assert stalled_since is not None, \
            "the server kept reading %d MB from a client that never reads" % (
                sent >> 20)
        # while it is stuck, the server serves others
        other = srv.tcp()
        other.send(event(1, "other") + b"\n")
        other.wait_ack(1, timeout=5)
        other.finish(1)
        st, _, _ = srv.http("GET", "/healthz", timeout=5)
        assert st == 200
        peak = max(peak, rss_kib(srv))
        growth_mb = (peak - base) / 1024
        print("  sent %.1f MB before the server stopped reading; RSS %d -> %d "
              "KiB (+%.1f MB)" % (sent / 1e6, base, peak, growth_mb))
        assert sent < 64e6, "server read %.1f MB from a non-reading client" % (
            sent / 1e6)
        assert growth_mb < 96, "RSS grew by %.1f MB" % growth_mb
        # its replies make no progress: dropped after the idle timeout
        wait_until(lambda: stats(srv)["connections_timed_out"]["tcp"] == 1
                   and stats(srv)["connections"] == 0, 10,
                   what="the non-reading client dropped")
        s.close()


def test_http_answer_lists_at_most_1000_errors(binary):
    """A body of tiny bad lines: every line is counted, 1000 are listed,
    and neither the answer nor the server's memory grows with the body."""
    with start_server(binary, ["--http.max-body=4194304"]) as srv:
        body = b"x\n" * 10_000 + b"y\n" * 2 + b'{"id":"a","key":"k","data":{}}\n'
        st, _, r = srv.http("POST", "/v1/events", body,
                            {"Content-Type": "application/x-ndjson"})
        assert st == 200, (st, r)
        assert r["accepted"] == 1 and r["rejected"] == 10_002, r
        assert len(r["errors"]) == 1000, len(r["errors"])
        assert r["errors_omitted"] == 9_002, r["errors_omitted"]
        assert r["rejected_by_code"] == {"invalid_json": 10_002}, r
        idx = [e["index"] for e in r["errors"]]
        assert idx == sorted(idx) and len(set(idx)) == 1000, idx[:5]
        # The same as a JSON array: elements that are not objects.
        st, _, r = srv.http("POST", "/v1/events", b"[" + b"1," * 5000 + b"1]",
                            {"Content-Type": "application/json"})
        assert st == 200, (st, r)
        assert r["rejected"] == 5001 and len(r["errors"]) == 1000, r["rejected"]
        assert r["rejected_by_code"] == {"not_an_object": 5001}, r
        # Few errors: listed in full, no extra members.
        st, _, r = srv.http("POST", "/v1/events", b"x\n" * 3,
                            {"Content-Type": "application/x-ndjson"})
        assert r["rejected"] == 3 and len(r["errors"]) == 3, r
        assert "errors_omitted" not in r, r
        # 4 MiB of two-byte bad lines (2 M rejections) used to peak near
        # 1 GB; now the rejections past 1000 are only counted.
        before = rss_kib(srv)
        st, _, r = srv.http("POST", "/v1/events", b"x\n" * (2 * 1024 * 1024),
                            {"Content-Type": "application/x-ndjson"})
        assert st == 200 and r["rejected"] == 2 * 1024 * 1024, (st, r.get("rejected"))
        grown_mib = (rss_kib(srv) - before) / 1024
        assert grown_mib < 150, "RSS grew by %.0f MiB" % grown_mib
        # Counted once each in /v1/stats, listed or not.
        _, _, stats = srv.http("GET", "/v1/stats")
        assert stats["rejected"] == 2 * 1024 * 1024 + 15_006, stats["rejected"]

if __name__ == "__main__":
    harness.run_tests(globals())
