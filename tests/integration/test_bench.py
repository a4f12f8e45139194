#!/usr/bin/env python3
"""eventide-bench against the real server: its verdicts must be right.

The bench binary is found next to the server binary.
Run: python3 tests/integration/test_bench.py --binary build/eventide
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import start_server  # noqa: E402

BINARY_DIR = None


def bench(srv, *args, timeout=120):
    exe = os.path.join(BINARY_DIR, "eventide-bench")
    cmd = ["timeout", str(timeout), exe, "--port", str(srv.ingest_port),
           "--http-port", str(srv.http_port), "--json", "--quiet", *args]
    out = subprocess.run(cmd, capture_output=True, text=True)
    try:
        result = json.loads(out.stdout)
    except json.JSONDecodeError:
        raise AssertionError("bench printed no JSON (exit %d): %s %s"
                             % (out.returncode, out.stdout, out.stderr))
    return out.returncode, result


def test_tcp_run_with_bad_lines_and_verify_passes(binary):
    with start_server(binary) as srv:
        code, r = bench(srv, "--events", "50000", "--connections", "3",
                        "--keys", "500", "--bad-ratio", "0.1",
                        "--op-mix", "2:2:1", "--verify")
        assert code == 0, r
        assert r["verdict"] == "PASS", r
        assert r["events_acked"] == 50000, r
        assert r["error_lines"] == r["bad_sent"] > 0, r
        assert r["unexpected_errors"] == 0, r
        assert r["verify"]["pass"] and r["verify"]["keys_checked"] > 0, r
        stats = srv.http("GET", "/v1/stats")[2]
        assert stats["rejected"] == r["bad_sent"], (stats, r)


def test_http_mode_and_repeated_runs_pass(binary):
    with start_server(binary) as srv:
        for _ in range(2):  # a second run must not collide with the first's ids
            code, r = bench(srv, "--http", "--batch", "500", "--events",
                            "20000", "--keys", "100", "--verify")
            assert code == 0 and r["verdict"] == "PASS", r
            assert r["duplicates"] == 0 and r["verify"]["pass"], r


def test_paced_run_reports_scheduled_latency(binary):
    with start_server(binary) as srv:
        code, r = bench(srv, "--events", "5000", "--rate", "10000",
                        "--lines-per-write", "10")
        assert code == 0 and r["verdict"] == "PASS", r
        assert r["scheduled_latency_us"]["count"] > 0, r
        lat = r["ack_latency_us"]
        assert 0 < lat["p50"] <= lat["p99"] <= lat["max"], lat


def test_a_server_that_loses_acks_fails_the_verdict(binary):
    # A server stopped mid-run cannot acknowledge everything: the bench
    # must say FAIL and exit non-zero rather than report a throughput.
    srv = start_server(binary)
    try:
        exe = os.path.join(BINARY_DIR, "eventide-bench")
        proc = subprocess.Popen(
            ["timeout", "60", exe, "--port", str(srv.ingest_port),
             "--http-port", str(srv.http_port), "--json", "--quiet",
             "--events", "400000", "--rate", "50000",
             "--drain-timeout", "5"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        harness.wait_until(lambda: srv.http("GET", "/v1/stats")[2]
                           .get("accepted", 0) > 1000, 60, what="ingest")
        srv.proc.kill()
        out, _ = proc.communicate(timeout=60)
        r = json.loads(out)
        assert proc.returncode != 0, r
        assert r["verdict"] == "FAIL", r
    finally:
        if srv.proc.poll() is None:
            srv.proc.kill()


if __name__ == "__main__":
    args = harness.parse_args()
    BINARY_DIR = os.path.dirname(os.path.abspath(args.binary))
    harness.run_tests(globals())
