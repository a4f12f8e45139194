#!/usr/bin/env python3
"""Admin and observability API (DESIGN.md §5), black-box against the real
binary: /v1/actors, /v1/actors/{id}, /v1/stats, /v1/cluster, /metrics
(checked with promtool), /v1/tap, and the slow-batch warning.

Run: python3 tests/integration/test_admin_api.py --binary build/eventide
"""

import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import start_server, wait_until, assert_json_error  # noqa: E402

SHARDS = 4
PARSERS = 2
ARGS = ["--engine.shards=%d" % SHARDS, "--engine.parsers=%d" % PARSERS]
ACTOR_MEMBERS = {"id", "name", "kind", "node", "shard", "mailbox", "processed",
                 "applied", "rejected", "keys", "bytes", "busy_ns",
                 "uptime_ms", "last_error"}


def incr(eid, key, n=1):
    return json.dumps({"id": eid, "key": key, "op": "incr", "data": {"n": n}})


def get_json(srv, path):
    st, headers, body = srv.http("GET", path)
    assert st == 200, (path, st, body)
    assert headers["content-type"].startswith("application/json"), headers
    return body


def actors_by_kind(srv):
    body = get_json(srv, "/v1/actors")
    out = {}
    for a in body["actors"]:
        assert set(a) == ACTOR_MEMBERS, a
        out.setdefault(a["kind"], []).append(a)
    return body, out


def test_actor_table_lists_every_actor(binary):
    with start_server(binary, ARGS + ["--cluster.node-name=node-a"]) as srv:
        c = srv.tcp()
        lines = [incr("e%d" % i, "k%d" % (i % 7)) for i in range(500)]
        lines.append('{"id":"x","key":"k1","op":"incr","data":{"n":"NaN"}}')
        c.send_lines(lines)
        c.wait_ack(501)
        body, kinds = actors_by_kind(srv)
        assert body["node"] == "node-a", body["node"]
        ids = [a["id"] for a in body["actors"]]
        assert ids == sorted(ids) and len(set(ids)) == len(ids), ids
        assert len(kinds["shard"]) == SHARDS, kinds.keys()
        assert len(kinds["parser"]) == PARSERS
        assert len(kinds["router"]) == 1
        assert sorted(a["name"] for a in kinds["listener"]) == \
            ["http-listener", "tcp-listener"]
        # The open connection shows as a session named after its peer.
        assert len(kinds["session"]) == 1, kinds.get("session")
        session = kinds["session"][0]
        assert session["name"].startswith("session-127.0.0.1:"), session
        assert session["applied"] == 500 and session["rejected"] == 1, session
        assert session["last_error"]["code"] == "not_a_number", session
        for a in body["actors"]:
            assert a["node"] == "node-a"
            assert (a["shard"] is None) == (a["kind"] != "shard"), a
        assert sorted(a["shard"] for a in kinds["shard"]) == list(range(SHARDS))
        assert sum(a["applied"] for a in kinds["shard"]) == 500
        assert sum(a["keys"] for a in kinds["shard"]) == 7
        assert sum(a["applied"] for a in kinds["parser"]) == 500
        assert sum(a["rejected"] for a in kinds["parser"]) == 1
        busy = [a for a in kinds["shard"] if a["applied"] > 0]
        assert all(a["processed"] >= 1 and a["busy_ns"] > 0 and a["bytes"] > 0
                   for a in busy), busy
        # Closing the connection removes its session from the table.
        c.close()
        wait_until(lambda: "session" not in actors_by_kind(srv)[1], 10,
                   what="the session to leave the actor table")


def test_actor_detail(binary):
    with start_server(binary, ARGS) as srv:
        c = srv.tcp()
        lines = []
        for i in range(300):  # hot:0 gets 100 events, hot:1 60, others fewer
            key = "hot:0" if i < 100 else "hot:1" if i < 160 else "cold:%d" % i
            lines.append(incr("d%d" % i, key))
        lines.append(incr("d0", "hot:0"))  # a duplicate
        c.send_lines(lines)
        c.wait_ack(len(lines))
        _, kinds = actors_by_kind(srv)
        for shard in kinds["shard"]:
            d = get_json(srv, "/v1/actors/%d" % shard["id"])
            assert d["id"] == shard["id"] and d["kind"] == "shard"
            detail = d["detail"]
            hot = detail["hot_keys"]
            assert len(hot) <= 10
            assert [h["events"] for h in hot] == \
                sorted((h["events"] for h in hot), reverse=True), hot
            for h in hot:
                rec = get_json(srv, "/v1/keys/" + h["key"])
                assert rec["events"] == h["events"], (h, rec)
            assert detail["dedup_window"]["ids"] == d["applied"], d
            assert detail["dedup_window"]["capacity"] > 0
            if any(h["key"] == "hot:0" for h in hot):
                assert hot[0] == {"key": "hot:0", "events": 100}, hot
                assert detail["duplicates"] == 1, detail
        parser = get_json(srv, "/v1/actors/%d" % kinds["parser"][0]["id"])
        assert {"chunks", "lines", "bytes", "rejected_by_code"} <= \
            set(parser["detail"]), parser
        session = get_json(srv, "/v1/actors/%d" % kinds["session"][0]["id"])
        assert session["detail"]["lines"] == len(lines), session
        assert session["detail"]["acked"] == len(lines), session
        assert session["detail"]["inflight"] == 0, session
        tcp = [a for a in kinds["listener"] if a["name"] == "tcp-listener"][0]
        lst = get_json(srv, "/v1/actors/%d" % tcp["id"])
        assert lst["detail"]["address"] == srv.ingest_addr, lst
        assert lst["detail"]["open"] == 1 and lst["detail"]["accepted"] == 1
        st, _, body = srv.http("GET", "/v1/actors/999999")
        assert_json_error(st, body, 404, "not_found", "unknown actor id")
        st, _, body = srv.http("GET", "/v1/actors/abc")
        assert_json_error(st, body, 400, "bad_request", "non-numeric id")


def test_stats_and_cluster(binary):
    with start_server(binary, ARGS + ["--cluster.node-name=n1"]) as srv:
        c = srv.tcp()
        c.send_lines([incr("s%d" % i, "k") for i in range(50)] + ["oops"])
        c.wait_ack(51)
        s = get_json(srv, "/v1/stats")
        assert s["node"] == "n1" and s["accepted"] == 50, s
        assert s["rejected"] == 1 and s["rejected_by_code"]["invalid_json"] == 1
        ing = s["ingest"]
        assert ing["connections"] == 1 and ing["connections_total"] == 1, ing
        assert ing["inflight_events"] == 0, ing
        assert ing["bytes_total"] > 50 * 40, ing
        lat = s["ack_latency"]
        assert len(lat["counts"]) == len(lat["le_us"]) + 1, lat
        assert lat["count"] >= 1 and sum(lat["counts"]) == lat["count"], lat
        cl = get_json(srv, "/v1/cluster")
        assert cl["self"] == "n1" and cl["epoch"] >= 1, cl
        assert cl["members"] == [{"node": "n1", "address": "", "state": "up",
                                  "shards": SHARDS, "held": SHARDS}], cl
        assert cl["placement"] == {str(i): "n1" for i in range(SHARDS)}, cl


def parse_metrics(text):
    values = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, value = line.rsplit(" ", 1)
        values[name] = float(value)
    return values


def test_metrics_pass_promtool_and_match_the_api(binary):
    with start_server(binary, ARGS) as srv:
        c = srv.tcp()
        c.send_lines([incr("m%d" % i, "k%d" % (i % 3)) for i in range(200)]
                     + ['{"id":"b"}'])
        c.wait_ack(201)
        st, headers, body = srv.http("GET", "/metrics")
        assert st == 200, st
        assert headers["content-type"].startswith("text/plain; version=0.0.4")
        text = body.decode() if isinstance(body, bytes) else body
        m = parse_metrics(text)
        assert m["eventide_events_accepted_total"] == 200, m
        assert m['eventide_events_rejected_total{code="missing_field"}'] == 1
        assert m['eventide_connections{transport="tcp"}'] == 1
        assert m["eventide_keys"] == 3
        assert m['eventide_ack_latency_seconds_bucket{le="+Inf"}'] == \
            m["eventide_ack_latency_seconds_count"] >= 1
        assert sum(v for k, v in m.items()
                   if k.startswith("eventide_shard_keys{")) == 3
        assert m["process_resident_memory_bytes"] > 1e6
        assert m["process_cpu_seconds_total"] >= 0  # clock ticks: may still be 0
        assert m['eventide_actors{kind="shard"}'] == SHARDS
        promtool = shutil.which("promtool")
        if promtool is None:
            if os.environ.get("CI"):
                raise AssertionError("promtool is missing (scripts/install-deps.sh installs it)")
            print("  promtool not installed: format check skipped")
            return
        check = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                               capture_output=True, timeout=60)
        assert check.returncode == 0, (check.stdout, check.stderr)


class TapReader(threading.Thread):
    """Reads a chunked /v1/tap stream line by line in the background."""

    def __init__(self, srv, query):
        super().__init__(daemon=True)
        self.conn = http.client.HTTPConnection(srv.http_host, srv.http_port,
                                               timeout=30)
        self.conn.request("GET", "/v1/tap?" + query)
        self.resp = self.conn.getresponse()
        self.lines = []
        self.start()

    def run(self):
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    return
                self.lines.append(json.loads(line))
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            # our own close() ends the read mid-chunk
            return

    def events(self):
        return [x for x in self.lines if "seq" in x]

    def close(self):
        self.conn.sock.shutdown(2)
        self.conn.close()


def shard_taps(srv, shard_index):
    _, kinds = actors_by_kind(srv)
    shard = [a for a in kinds["shard"] if a["shard"] == shard_index][0]
    return get_json(srv, "/v1/actors/%d" % shard["id"])["detail"]["taps"]


def test_tap_streams_a_key_and_a_shard(binary):
    with start_server(binary, ARGS) as srv:
        key_tap = TapReader(srv, "key=user%3A1")
        assert key_tap.resp.status == 200
        assert key_tap.resp.getheader("Content-Type") == "application/x-ndjson"
        wait_until(lambda: key_tap.lines, 10, what="the tap's first line")
        head = key_tap.lines[0]
        assert head["tap"] == "key" and head["key"] == "user:1", head
        c = srv.tcp()
        lines = [incr("t%d" % i, "user:1") for i in range(5)]
        lines.append(incr("t0", "user:1"))           # duplicate
        lines.append(incr("o1", "user:2"))           # another key
        lines.append('{"id":"big","key":"user:1","op":"incr","data":{"n":9223372036854775807}}')
        c.send_lines(lines)
        c.wait_ack(len(lines))
        wait_until(lambda: len(key_tap.events()) >= 7, 10, what="7 tapped events")
        got = key_tap.events()
        assert [e["id"] for e in got] == ["t0", "t1", "t2", "t3", "t4", "t0", "big"], got
        assert [e["outcome"] for e in got] == \
            ["applied"] * 5 + ["duplicate", "rejected"], got
        assert got[-1]["error"] == "overflow", got[-1]
        assert all(e["key"] == "user:1" and e["op"] == "incr" for e in got)
        assert [e["seq"] for e in got] == [1, 2, 3, 4, 5, 6, 8], got
        shard = got[0]["shard"]
        assert shard_taps(srv, shard) == 1
        key_tap.close()
        wait_until(lambda: shard_taps(srv, shard) == 0, 10,
                   what="the shard to drop a closed tap")

        # A shard tap is rate limited: what does not fit is counted.
        shard_tap = TapReader(srv, "shard=%d&rate=5" % shard)
        wait_until(lambda: shard_tap.lines, 10, what="the shard tap's head")
        assert shard_tap.lines[0] == {"tap": "shard", "shard": shard, "rate": 5}
        c.send_lines([incr("r%d" % i, "user:1") for i in range(200)])
        c.wait_ack(len(lines) + 200)
        wait_until(lambda: any("dropped" in x for x in shard_tap.lines), 10,
                   what="a dropped note")
        seen = len(shard_tap.events())
        dropped = sum(x.get("dropped", 0) for x in shard_tap.lines)
        assert 1 <= seen <= 10, shard_tap.lines
        assert seen + dropped == 200, (seen, dropped)
        shard_tap.close()

        for query, what in (("", "no filter"), ("key=a&shard=1", "both"),
                            ("shard=%d" % SHARDS, "shard out of range"),
                            ("shard=-1", "negative shard"),
                            ("key=a&rate=0", "zero rate"),
                            ("key=", "empty key")):
            st, _, body = srv.http("GET", "/v1/tap?" + query)
            assert_json_error(st, body, 400, "bad_request", what)


def test_slow_batch_warning_is_rate_limited(binary):
    with start_server(binary, ["--engine.shards=1", "--log.slow-batch-ms=1"]) as srv:
        c = srv.tcp()
        total = 0
        for round_ in range(5):
            batch = [json.dumps({"id": "w%d-%d" % (round_, i), "key": "k%d" % i,
                                 "op": "set", "data": {"a": i, "b": "x" * 40}})
                     for i in range(20000)]
            c.send_lines(batch)
            total += len(batch)
            c.wait_ack(total, timeout=120)
        warnings = [line for line in srv.stderr_text().splitlines()
                    if "spent" in line and "one batch" in line]
        assert len(warnings) == 1, warnings
        assert "shard 0" in warnings[0] and "threshold 1 ms" in warnings[0]


if __name__ == "__main__":
    harness.run_tests(globals())
