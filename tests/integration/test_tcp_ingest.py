#!/usr/bin/env python3
"""TCP NDJSON ingest (DESIGN.md §2-§4), black-box against the real binary.

Run: python3 tests/integration/test_tcp_ingest.py --binary build/eventide
"""

import json
import os
import random
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import start_server, check_error_order, request, quote  # noqa: E402

INT64_MAX = 2**63 - 1
INT64_MIN = -2**63


# --------------------------------------------------------------------------
# helpers

def incr_line(eid, key, n=1):
    return ('{"id":"%s","key":"%s","op":"incr","data":{"n":%d}}' % (eid, key, n)).encode()


def stream_concurrently(srv, per_conn_batches, timeout=300):
    """Open one connection per entry of per_conn_batches (a list of lists of
    bytes, each bytes a batch of complete lines), write the batches from one
    thread per connection while the client's reader thread drains replies,
    half-close and wait for the final ack.  Returns (clients, seconds)."""
    clients = [srv.tcp() for _ in per_conn_batches]
    failures = []
    counts = [sum(b.count(b"\n") for b in batches) for batches in per_conn_batches]

    def run(i):
        c = clients[i]
        try:
            for batch in per_conn_batches[i]:
                c.send(batch)
            c.finish(counts[i], timeout=timeout)
        except BaseException as e:  # reported by the main thread
            failures.append("connection %d: %r" % (i, e))

    t0 = time.monotonic()
    threads = [threading.Thread(target=run, args=(i,), daemon=True)
               for i in range(len(clients))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout + 30
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic()))
    elapsed = time.monotonic() - t0
    if any(t.is_alive() for t in threads):
        failures.append("writer threads still running after %.0f s" % elapsed)
    assert not failures, "; ".join(failures)
    for i, c in enumerate(clients):
        replies, errors, max_ack, perr = c.snapshot()
        assert max_ack == counts[i], "conn %d: final ack %d != %d" % (
            i, max_ack, counts[i])
        assert not errors, "conn %d: %d unexpected error replies, first %r" % (
            i, len(errors), errors[:3])
        assert not perr, "conn %d: %s" % (i, perr[:3])
    return clients, elapsed


def build_incr_workload(conns=8, total=200_000, keys=10_000, batch=1000):
    """Global event number n -> key k{n % keys}, id c{conn}-{n}."""
    per = total // conns
    out = []
    for c in range(conns):
        batches = []
        lines = []
        for n in range(c * per, (c + 1) * per):
            lines.append(incr_line("c%d-%d" % (c, n), "k%d" % (n % keys)))
            if len(lines) == batch:
                batches.append(b"\n".join(lines) + b"\n")
                lines = []
        if lines:
            batches.append(b"\n".join(lines) + b"\n")
        out.append(batches)
    expected = {}
    for n in range(per * conns):
        k = "k%d" % (n % keys)
        expected[k] = expected.get(k, 0) + 1
    return out, expected


class KeyReader:
    """GETs over one keep-alive connection (reconnecting once if the server
    closed it in between, which http.client does by itself when told)."""

    def __init__(self, srv):
        self.srv = srv
        self.conn = srv.http_connection()

    def get(self, key):
        try:
            return request(self.conn, "GET", "/v1/keys/" + quote(key))
        except (ConnectionError, OSError, harness.http.client.HTTPException):
            self.conn.close()
            self.conn = self.srv.http_connection()
            return request(self.conn, "GET", "/v1/keys/" + quote(key))

    def close(self):
        self.conn.close()


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_counters(srv, expected, field="n"):
    """Every key in `expected` holds fields {field: count} with events and
    version == count.  Collects all mismatches before failing."""
    reader = KeyReader(srv)
    bad = []
    try:
        for key, count in expected.items():
            status, _, body = reader.get(key)
            if status != 200 or not isinstance(body, dict):
                bad.append("%s: status %s body %r" % (key, status, body))
            else:
                fields = body.get("fields")
                if (body.get("key") != key or fields != {field: count}
                        or not is_int((fields or {}).get(field))
                        or body.get("events") != count
                        or body.get("version") != count):
                    bad.append("%s: got %r, expected %s=%d events=version=%d"
                               % (key, body, field, count, count))
            if len(bad) >= 20:
                break
    finally:
        reader.close()
    assert not bad, "%s%s" % ("\n".join(bad[:20]),
                              "\n(stopped after 20 mismatches)" if len(bad) >= 20 else "")


def find_number(obj, name, depth=0):
    """An integer member called `name` of the stats object or of an object
    nested in it (breadth first; lists such as per-shard rows are skipped,
    so a node-wide total is found rather than one shard's count)."""
    if not isinstance(obj, dict):
        return None
    v = obj.get(name)
    if is_int(v):
        return v
    if depth >= 2:
        return None
    for v in obj.values():
        r = find_number(v, name, depth + 1)
        if r is not None:
            return r
    return None


# --------------------------------------------------------------------------
# tests

def test_concurrent_incr_stream(binary):
    workload, expected = build_incr_workload()
    total = sum(expected.values())
    with start_server(binary) as srv:
        _, elapsed = stream_concurrently(srv, workload)
        print("    streamed %d incr events over %d connections in %.2f s: "
              "%.0f events/s" % (total, len(workload), elapsed, total / elapsed))
        srv.assert_alive()
        check_counters(srv, expected)


def test_replay_same_events_changes_nothing(binary):
    workload, expected = build_incr_workload()
    total = sum(expected.values())
    with start_server(binary) as srv:
        stream_concurrently(srv, workload)
        status, _, stats_before = srv.http("GET", "/v1/stats")
        assert status == 200, (status, stats_before)
        dup_before = find_number(stats_before, "duplicates")

        _, elapsed = stream_concurrently(srv, workload)
        print("    replayed %d events in %.2f s" % (total, elapsed))
        check_counters(srv, expected)

        if dup_before is not None:
            # Only when the stats carry a recognisable 'duplicates' counter;
            # the strict duplicate counts are checked via POST in test_http_api.
            def grown():
                _, _, s = srv.http("GET", "/v1/stats")
                d = find_number(s, "duplicates")
                return d is not None and d - dup_before >= total and d
            d = harness.wait_until(grown, 10, 0.2, "stats duplicates to grow by %d" % total)
            assert d - dup_before == total, \
                "stats duplicates grew by %d, expected %d" % (d - dup_before, total)


# ---- mixed good / bad stream -----------------------------------------------

def _deep(levels):
    return "[" * levels + "]" * levels


def build_mixed_stream(prefix, seed, n_good=2000):
    """A stream with ~10% bad lines of every kind and some blank lines.

    Returns (lines, expected_errors, model) where lines is a list of bytes
    (without line ending), expected_errors maps seq -> (set of allowed codes,
    id that must be reported or None) and model maps key -> (fields, events)
    for the good events (all in one connection, so their order per key is
    the send order)."""
    rng = random.Random(seed)
    lines = []
    expected = {}
    model = {}
    counter = [0]

    def new_id(tag):
        counter[0] += 1
        return "%s-%s-%d" % (prefix, tag, counter[0])

    def good(key, op, data, eid=None):
        eid = eid or new_id("g")
        ev = {"id": eid, "key": key, "op": op}
        if data is not None:
            ev["data"] = data
        lines.append(json.dumps(ev, separators=(",", ":")).encode())
        fields, events = model.get(key, ({}, 0))
        fields = dict(fields)
        if op == "set":
            fields.update(data)
        elif op == "incr":
            for k, v in data.items():
                fields[k] = fields.get(k, 0) + v
        elif op == "del":
            for k in data:
                fields.pop(k, None)
        model[key] = (fields, events + 1)

    def bad(raw, codes, eid=None):
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        lines.append(raw)
        expected[len(lines)] = (set(codes), eid)

    K = lambda i: "%s%d" % (prefix, i)  # noqa: E731
    big, small, strk = prefix + "big", prefix + "small", prefix + "str"

    # set-up events whose state later bad lines rely on
    good(big, "set", {"v": INT64_MAX - 7, "n": 0})
    good(small, "set", {"v": INT64_MIN + 7})
    good(strk, "set", {"s": "text", "o": {"a": 1}})
    good(prefix + "deep", "set", {"d": json.loads(_deep(20))})

    def bad_line(i):
        kind = i % 33
        k = K(rng.randrange(40))
        if kind == 0:
            bad('{"id":"%s","key":' % new_id("b"), ["invalid_json"])
        elif kind == 1:
            bad("this is not json", ["invalid_json"])
        elif kind == 2:
            bad('{"id":"%s","key":"%s","data":{"a":1},}' % (new_id("b"), k), ["invalid_json"])
        elif kind == 3:
            bad('[{"id":"%s","key":"%s","data":{"a":1}}]' % (new_id("b"), k), ["not_an_object"])
        elif kind == 4:
            bad('"just a string"', ["not_an_object"])
        elif kind == 5:
            bad("42", ["not_an_object"])
        elif kind == 6:
            eid = new_id("b")
            bad('{"id":"%s","op":"set","data":{"a":1}}' % eid, ["missing_field"], eid)
        elif kind == 7:
            bad('{"key":"%s","op":"set","data":{"a":1}}' % k, ["missing_field"])
        elif kind == 8:
            eid = new_id("b")
            bad('{"id":"%s","key":"%s","op":"incr"}' % (eid, k), ["missing_field"], eid)
        elif kind == 9:
            eid = new_id("b")
            bad('{"id":"%s","key":"%s","op":"set","data":{"a":1},"extra":1}' % (eid, k),
                ["unknown_field"], eid)
        elif kind == 10:
            eid = new_id("b")
            bad('{"id":"%s","key":"%s","key":"%s","op":"set","data":{"a":1}}' % (eid, k, k),
                ["duplicate_field"])
        elif kind == 11:
            eid = new_id("b")
            bad('{"id":"%s","key":"%s","op":"set","data":{"a":1},"data":{"a":2}}' % (eid, k),
                ["duplicate_field"])
        elif kind == 12:
            eid = new_id("b")
            bad('{"id":"%s","key":"%s","op":"mul","data":{"n":2}}' % (eid, k), ["bad_op"], eid)
        elif kind == 13:
            eid = new_id("b")
            bad('{"id":"%s","key":"%s","op":"SET","data":{"n":2}}' % (eid, k), ["bad_op"], eid)
        elif kind == 14:
            eid = new_id("b")
            bad('{"id":"%s","key":"%s","op":"incr","data":{"n":"1"}}' % (eid, k),
                ["not_a_number"], eid)
        elif kind == 15:
            eid = new_id("b")
            bad('{"id":"%s","key":"%s","op":"incr","data":{"n":true}}' % (eid, k),
                ["not_a_number"], eid)
        elif kind == 16:
            eid = new_id("b")
            bad('{"id":"%s","key":42,"op":"set","data":{"a":1}}' % eid, ["wrong_type"], eid)
        elif kind == 17:
            eid = new_id("b")
            bad('{"id":"%s","key":"%s","op":"set","data":[1,2]}' % (eid, k), ["wrong_type"], eid)
        elif kind == 18:
            eid = new_id("b")
            bad('{"id":"%s","key":"%s","op":"set","data":{"a":1},"ts":"yesterday"}' % (eid, k),
                ["wrong_type"], eid)
        elif kind == 19:
            bad('{"id":17,"key":"%s","op":"set","data":{"a":1}}' % k, ["wrong_type"])
        elif kind == 20:
            bad('{"id":"%s","key":"%s","op":"set","data":{"d":%s}}' % (
                new_id("b"), k, _deep(38)), ["too_deep"])
        elif kind == 21:
            pad = "x" * 70_000
            bad('{"id":"%s","key":"%s","op":"set","data":{"pad":"%s"}}' % (
                new_id("b"), k, pad), ["too_large"])
        elif kind == 22:
            eid = new_id("b")   # whole event rejected: n must not move either
            bad('{"id":"%s","key":"%s","op":"incr","data":{"n":1,"v":100}}' % (eid, big),
                ["overflow"], eid)
        elif kind == 23:
            eid = new_id("b")
            bad('{"id":"%s","key":"%s","op":"incr","data":{"v":-100}}' % (eid, small),
                ["overflow"], eid)
        elif kind == 24:
            eid = new_id("b")
            bad('{"id":"%s","key":"%s","op":"incr","data":{"s":1}}' % (eid, strk),
                ["field_not_numeric"], eid)
        elif kind == 25:
            eid = new_id("b")
            bad('{"id":"%s","key":"%s","op":"incr","data":{"o":1}}' % (eid, strk),
                ["field_not_numeric"], eid)
        elif kind == 26:
            bad('{"id":"%s","key":"%s","op":"set","data":{"a":1}}' % ("i" * 129, k),
                ["too_large", "wrong_type"])
        elif kind == 27:
            bad('{"id":"","key":"%s","op":"set","data":{"a":1}}' % k,
                ["missing_field", "wrong_type", "too_large"])
        elif kind == 28:
            bad('{"id":"%s","key":"%s","op":"set","data":{"a":1}}' % (new_id("b"), "K" * 513),
                ["too_large", "wrong_type"])
        elif kind == 29:
            bad(b'{"id":"' + new_id("b").encode() + b'","key":"\xff\xfe","data":{"a":1}}',
                ["invalid_json", "wrong_type"])
        elif kind == 30:
            bad("null", ["not_an_object"])
        elif kind == 31:
            eid = new_id("b")
            bad('{"id":"%s","key":"%s","op":"set"}' % (eid, k), ["missing_field"], eid)
        elif kind == 32:
            bad('{"id":"%s","key":"%s","data":{"a":1}}{"x":1}' % (new_id("b"), k),
                ["invalid_json"])

    n_bad = 0
    for i in range(n_good):
        # about 10% bad lines, cycling through every kind (33 kinds)
        while rng.random() < 0.1:
            bad_line(n_bad)
            n_bad += 1
        if rng.random() < 0.02:
            lines.append(b"")          # blank: takes a seq, no reply
        k = K(rng.randrange(40))
        r = rng.random()
        if r >= 0.75 and r < 0.85 and k not in model:
            r = 0.0        # 'del' only on records that exist
        if r < 0.45:
            good(k, "incr", {"n": 1})
        elif r < 0.60:
            good(k, "incr", {"x": 0.25})
        elif r < 0.75:
            good(k, "set", {"s": "v%d" % i, "obj": {"a": [1, 2, {"b": None}]}})
        elif r < 0.85:
            good(k, "del", {"s": None})
        elif r < 0.92:
            good(k, "incr", {"neg": -3})
        else:
            good(k, "set", {"flag": i % 2 == 0, "nothing": None})
    while n_bad < 66:              # every kind at least twice
        bad_line(n_bad)
        n_bad += 1
    # boundary: reaching exactly INT64_MAX / INT64_MIN is fine
    good(big, "incr", {"v": 7})
    good(small, "incr", {"v": -7})
    return lines, expected, model


def run_mixed(binary, ending, prefix, seed):
    lines, expected, model = build_mixed_stream(prefix, seed)
    data = ending.join(lines) + ending
    assert len(lines) > 2000 and len(expected) >= 200, (len(lines), len(expected))
    rng = random.Random(seed + 1)
    with start_server(binary) as srv:
        c = srv.tcp()
        # random write sizes so lines are cut at arbitrary places
        pos = 0
        while pos < len(data):
            step = rng.choice((1, 7, 100, 1000, 4096, 20000, 100000))
            c.send(data[pos:pos + step])
            pos += step
        c.finish(len(lines), timeout=120)
        replies, errors, max_ack, perr = c.snapshot()

        problems = []
        seen = {}
        for e in errors:
            seq = e.get("seq")
            if not harness_is_int(seq):
                problems.append("error reply without integer seq: %r" % e)
                continue
            if seq in seen:
                problems.append("two error replies for seq %d: %r / %r" % (
                    seq, seen[seq], e))
                continue
            seen[seq] = e
            if seq not in expected:
                problems.append("error for a good or blank line seq %d (%r): %r" % (
                    seq, lines[seq - 1][:120], e))
                continue
            codes, eid = expected[seq]
            if e.get("error") not in codes:
                problems.append("seq %d: error %r, expected one of %s; line %r" % (
                    seq, e.get("error"), sorted(codes), lines[seq - 1][:120]))
            if eid is not None and e.get("id") != eid:
                problems.append("seq %d: id %r, expected %r" % (seq, e.get("id"), eid))
            if "id" in e and not isinstance(e["id"], str):
                problems.append("seq %d: id is not a string: %r" % (seq, e))
            if not isinstance(e.get("detail", ""), str):
                problems.append("seq %d: detail is not a string: %r" % (seq, e))
        for seq in sorted(set(expected) - set(seen)):
            problems.append("no error reply for bad line seq %d: %r" % (
                seq, lines[seq - 1][:120]))
        problems += check_error_order(replies)
        assert not problems, "%d problems:\n%s" % (len(problems), "\n".join(problems[:30]))

        check_model(srv, model)


def harness_is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_model(srv, model):
    reader = KeyReader(srv)
    bad = []
    try:
        for key, (fields, events) in sorted(model.items()):
            status, _, body = reader.get(key)
            if status != 200 or not isinstance(body, dict):
                bad.append("%s: status %s %r" % (key, status, body))
                continue
            got = body.get("fields")
            if (body.get("key") != key or got != fields
                    or body.get("events") != events or body.get("version") != events):
                bad.append("%s:\n   got      %r\n   expected fields=%r events=version=%d" % (
                    key, body, fields, events))
                continue
            for name, v in fields.items():   # int stays int
                if harness_is_int(v) and not harness_is_int(got[name]):
                    bad.append("%s.%s: %r should be an integer" % (key, name, got[name]))
    finally:
        reader.close()
    assert not bad, "\n".join(bad[:20])


def test_mixed_stream_with_bad_lines(binary):
    run_mixed(binary, b"\n", "m", 1234)


def test_mixed_stream_crlf(binary):
    run_mixed(binary, b"\r\n", "r", 987)


def test_too_large_line_keeps_connection(binary):
    with start_server(binary) as srv:
        c = srv.tcp()
        c.send(incr_line("t-1", "tl") + b"\n")
        c.wait_ack(1, 30)
        # an over-long valid event, written in pieces ...
        long_event = ('{"id":"t-2","key":"tl","op":"set","data":{"pad":"%s"}}'
                      % ("y" * 100_000)).encode()
        for i in range(0, len(long_event), 8192):
            c.send(long_event[i:i + 8192])
        c.send(b"\n")
        # ... and 300 kB of junk without any JSON structure
        c.send(b"z" * 300_000 + b"\n")
        c.send(incr_line("t-3", "tl") + b"\n" + incr_line("t-4", "tl", 5) + b"\n")
        c.wait_ack(5, 30)
        c.send(incr_line("t-5", "tl") + b"\n")
        c.finish(6)
        _, errors, _, _ = c.snapshot()
        got = sorted((e.get("seq"), e.get("error")) for e in errors)
        assert got == [(2, "too_large"), (3, "too_large")], errors
        status, _, body = srv.get_key("tl")
        assert status == 200 and body["fields"] == {"n": 8} and body["events"] == 4, body


def test_last_line_without_newline(binary):
    with start_server(binary) as srv:
        c = srv.tcp()
        c.send(incr_line("nl-1", "nl") + b"\n" + b"\n" + incr_line("nl-2", "nl", 10))
        c.finish(3)
        _, errors, _, _ = c.snapshot()
        assert not errors, errors
        status, _, body = srv.get_key("nl")
        assert status == 200 and body["fields"] == {"n": 11}, (status, body)

        # an unterminated bad last line is reported with its seq
        c = srv.tcp()
        c.send(incr_line("nl-3", "nl") + b"\n" + b'{"id":"nl-4","key":"nl","op":"incr"')
        c.finish(2)
        _, errors, _, _ = c.snapshot()
        assert [(e.get("seq"), e.get("error")) for e in errors] == [(2, "invalid_json")], errors
        status, _, body = srv.get_key("nl")
        assert body["fields"] == {"n": 12} and body["events"] == 3, body


def test_sequence_numbers_per_connection(binary):
    """Each connection numbers its own lines from 1."""
    with start_server(binary) as srv:
        a, b = srv.tcp(), srv.tcp()
        a.send(b"\n\nbad\n")
        b.send(b"bad\n")
        a.finish(3)
        b.finish(1)
        assert [(e["seq"], e["error"]) for e in a.snapshot()[1]] == [(3, "invalid_json")]
        assert [(e["seq"], e["error"]) for e in b.snapshot()[1]] == [(1, "invalid_json")]


def test_small_inflight_limit_no_deadlock(binary):
    with start_server(binary, ["--ingest.max-inflight=100"]) as srv:
        batches = [b"".join(incr_line("s-%d" % n, "s%d" % (n % 10)) + b"\n"
                            for n in range(i, i + 5000))
                   for i in range(0, 50_000, 5000)]
        stream_concurrently(srv, [batches, batches[:2]])
        check_counters(srv, {"s%d" % i: 5000 for i in range(10)})


def test_garbage_clients(binary):
    rng = random.Random(42)
    with start_server(binary) as srv:
        # 1. random binary bytes, then an orderly half-close
        blob = bytes(rng.getrandbits(8) for _ in range(1 << 20))
        c = srv.tcp()
        c.send(blob)
        nlines = blob.count(b"\n") + (0 if blob.endswith(b"\n") else 1)
        c.finish(nlines, timeout=120)
        _, errors, _, _ = c.snapshot()
        seqs = [e.get("seq") for e in errors]
        assert len(seqs) == len(set(seqs)), "duplicate error seqs"
        assert all(harness_is_int(s) and 1 <= s <= nlines for s in seqs)

        # 2. disconnect mid-line: FIN, then RST
        c = srv.tcp()
        c.send(b'{"id":"g-1","key":"garb","op":"incr","da')
        c.close()
        c = srv.tcp()
        c.send(b'{"id":"g-2","key":"garb","op":"incr","data":{"n":1}}\n{"id":"g-3","ke')
        c.abort()
        # 3. connect and close at once (both ways)
        for _ in range(20):
            srv.tcp().close()
            srv.tcp().abort()
        # 4. lots of bad lines, never read the replies, reset (the server's
        #    reply writes then fail with EPIPE/ECONNRESET; it must not die)
        raw = socket.create_connection((srv.ingest_host, srv.ingest_port), timeout=5)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            raw.sendall(b"nope\n" * 100_000)
        except OSError:
            pass
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                       b"\x01\x00\x00\x00\x00\x00\x00\x00")
        raw.close()
        # 5. a huge line that never ends, then reset
        c = srv.tcp()
        try:
            for _ in range(40):
                c.send(b"q" * 65536, stall_timeout=10)
        except (OSError, AssertionError):
            pass
        c.abort()

        srv.assert_alive()
        status, _, body = srv.http("GET", "/healthz")
        assert status == 200, (status, body)
        c = srv.tcp()
        c.send(incr_line("g-ok", "garb-ok") + b"\n")
        c.finish(1)
        status, _, body = srv.get_key("garb-ok")
        assert status == 200 and body["fields"] == {"n": 1}, body


def test_sigterm_mid_stream(binary):
    srv = start_server(binary)
    stop = threading.Event()
    state = {"writer_error": None}
    try:
        c = srv.tcp()
        idle = srv.tcp()
        keep = srv.http_connection()
        assert request(keep, "GET", "/healthz")[0] == 200

        def writer():
            n = 0
            try:
                while not stop.is_set() and n < 20_000_000:
                    batch = b"".join(incr_line("st-%d" % i, "st%d" % (i % 1000)) + b"\n"
                                     for i in range(n, n + 2000))
                    c.send(batch, stall_timeout=30)
                    n += 2000
            except (OSError, ValueError, AssertionError) as e:
                state["writer_error"] = e   # the server went away: expected

        t = threading.Thread(target=writer, daemon=True)
        t.start()
        c.wait_ack(20_000, timeout=120)
        ack_at_term = c.max_ack
        assert t.is_alive(), "writer finished before SIGTERM: %r" % (state["writer_error"],)
        t0 = time.monotonic()
        code = srv.stop(signal.SIGTERM, timeout=10)
        took = time.monotonic() - t0
    finally:
        stop.set()
        srv.kill()
    assert code == 0, "exit code %s after SIGTERM\n%s" % (code, srv.log_tail())
    print("    server exited %.2f s after SIGTERM" % took)
    reason = c.wait_closed(10)
    t.join(30)
    assert not t.is_alive(), "writer still blocked after the server exited"
    idle_reason = idle.wait_closed(10)
    keep.close()

    replies, errors, final_ack, perr = c.snapshot()
    assert not perr, perr[:5]
    assert not errors, errors[:5]
    assert replies and replies[-1][0] == "ack", "no final ack before close"
    assert final_ack >= ack_at_term
    assert final_ack <= c.lines_sent, \
        "acked %d lines but only %d complete lines were sent" % (
            final_ack, c.lines_sent)
    assert reason == "eof", (
        "streaming connection ended with %s, expected final ack then EOF "
        "(server should shut down its write side after the final ack; a "
        "plain close() with unread input sends RST and may destroy the ack)"
        % reason)
    assert idle_reason == "eof", "idle connection ended with %s" % idle_reason
    print("    acked %d of %d lines sent (ack %d at SIGTERM)" % (
        final_ack, c.lines_sent, ack_at_term))


if __name__ == "__main__":
    harness.run_tests(globals())
