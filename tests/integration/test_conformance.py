#!/usr/bin/env python3
"""JSON conformance over the network: every file of the public
JSONTestSuite (../shared/testdata/JSONTestSuite/test_parsing) sent to the
real server, as an event line over TCP and as a POST body over HTTP.

* n_ files are rejected with invalid_json (too_deep / too_large where a
  limit is hit first); y_ files are accepted or rejected by schema with a
  code other than invalid_json; i_ files may go either way.
* Every line gets exactly one answer, the final ack covers them all, and
  the server is still up and answering afterwards: no file crashes it.

The unit suite checks the same corpus against the codec directly.

Run: python3 tests/integration/test_conformance.py --binary build/eventide
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import start_server  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared",
                                       "testdata", "JSONTestSuite",
                                       "test_parsing"))
LIMIT_CODES = {"too_deep", "too_large"}


def corpus():
    if not os.path.isdir(CORPUS):
        return None
    files = []
    for name in sorted(os.listdir(CORPUS)):
        with open(os.path.join(CORPUS, name), "rb") as f:
            files.append((name, f.read()))
    return files


def judge(name, code, failures):
    """code: None when applied (or a duplicate), else the error code."""
    if name.startswith("n_"):
        if code is None:
            failures.append("%s was accepted" % name)
        elif code != "invalid_json" and code not in LIMIT_CODES:
            failures.append("%s rejected as %s, not invalid_json" % (name, code))
    elif name.startswith("y_"):
        if code == "invalid_json":
            failures.append("%s (valid JSON) rejected as invalid_json" % name)


def test_every_file_over_tcp(binary):
    files = corpus()
    if files is None:
        print("  no JSONTestSuite at %s: skipped" % CORPUS)
        return
    # A line cannot hold a newline: those files go over HTTP below.
    lines = [(n, body) for n, body in files if b"\n" not in body]
    assert len(lines) > 250, len(lines)
    with start_server(binary) as srv:
        c = srv.tcp()
        c.send(b"".join(body + b"\n" for _, body in lines), stall_timeout=60)
        # Blank lines (a file of only spaces) are skipped but still counted.
        c.wait_ack(len(lines), timeout=120)
        _, errors, max_ack, protocol_errors = c.snapshot()
        assert max_ack == len(lines), (max_ack, len(lines))
        assert not protocol_errors, protocol_errors[:3]
        by_seq = {}
        for e in errors:
            assert e["seq"] not in by_seq, "two answers for line %d" % e["seq"]
            by_seq[e["seq"]] = e["error"]
        failures = []
        for seq, (name, body) in enumerate(lines, 1):
            if not body.strip(b" \t\r"):
                continue  # a blank line is not an event
            judge(name, by_seq.get(seq), failures)
        assert not failures, failures
        st, _, body = srv.http("GET", "/v1/stats")
        assert st == 200 and body["rejected"] == len(errors), body


def test_every_file_as_an_http_body(binary):
    files = corpus()
    if files is None:
        print("  no JSONTestSuite at %s: skipped" % CORPUS)
        return
    failures = []
    with start_server(binary) as srv:
        conn = srv.http_connection()
        try:
            for name, body in files:
                st, _, reply = harness.request(
                    conn, "POST", "/v1/events", body,
                    {"Content-Type": "application/json"})
                if st == 400:
                    code = reply["error"]
                elif st == 200:
                    # An array of events or one event: schema errors are
                    # per element; none may claim the body was not JSON.
                    codes = {e["error"] for e in reply["errors"]}
                    code = "invalid_json" if "invalid_json" in codes else None
                else:
                    failures.append("%s: HTTP %d %s" % (name, st, reply))
                    continue
                judge(name, code, failures)
        finally:
            conn.close()
        assert srv.http("GET", "/healthz")[0] == 200
    assert not failures, failures


if __name__ == "__main__":
    harness.run_tests(globals())
