#!/usr/bin/env python3
"""A bounded soak of the real server: valid traffic, 10% bad lines,
connection churn, abrupt disconnects (RST mid-stream) and HTTP posts, for
--duration seconds. Afterwards every acknowledged event must be applied
exactly once, no reject may carry a code outside the expected ones, the log
must hold only expected lines, and RSS must stay flat (its curve is
printed, sampled every --sample seconds).

Run: tests/soak/soak.py --binary build/release/eventide --duration 600
Exit status 0 when every check passed.
"""

import argparse
import http.client
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

LISTEN_RE = re.compile(r"listening ingest=(\S+) http=(\S+)")
EXPECTED_CODES = {"invalid_json", "missing_field", "wrong_type", "bad_op",
                  "not_a_number", "not_an_object"}
KEYS = 200


def bad_line(rng, i):
    return rng.choice([
        "not json %d" % i,
        json.dumps({"id": "b%d" % i, "op": "incr"}),                 # no key
        json.dumps({"id": "b%d" % i, "key": 5, "op": "incr"}),       # wrong type
        json.dumps({"id": "b%d" % i, "key": "x", "op": "mul"}),      # bad op
        json.dumps({"id": "b%d" % i, "key": "x", "op": "incr",
                    "data": {"n": "one"}}),                          # not a number
        "[1,2,3]",
    ])


class Model:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.acked = 0
        self.failures = []

    def add(self, keys):
        with self.lock:
            for k in keys:
                self.counts[k] = self.counts.get(k, 0) + 1
            self.acked += len(keys)

    def fail(self, msg):
        with self.lock:
            self.failures.append(msg)


def read_replies(sock, want_ack, timeout=60):
    """Reads reply lines until {"ack":want_ack}; returns the error objects."""
    sock.settimeout(timeout)
    buf = b""
    errors = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before ack %d" % want_ack)
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            obj = json.loads(line)
            if "ack" in obj:
                if obj["ack"] == want_ack:
                    return errors
            else:
                errors.append(obj)


def tcp_worker(wid, addr, stop, model, rng):
    n = 0
    while not stop.is_set():
        lines, good, good_seqs = [], [], set()
        batch = rng.randrange(1, 3000)
        for i in range(batch):
            n += 1
            if rng.random() < 0.10:
                lines.append(bad_line(rng, n))
                continue
            key = "k%d" % rng.randrange(KEYS)
            lines.append(json.dumps({"id": "w%d-%d" % (wid, n), "key": key,
                                     "op": "incr", "data": {"n": 1}}))
            good.append(key)
            good_seqs.add(i + 1)
        abort = rng.random() < 0.15
        try:
            s = socket.create_connection(addr, timeout=30)
            payload = ("\n".join(lines) + "\n").encode()
            if abort:
                # Abrupt disconnect mid-stream: whatever was applied must not
                # count in the model, so these go to keys never checked.
                cut = rng.randrange(len(payload))
                payload = payload.replace(b'"key": "k', b'"key": "lost-k')
                s.sendall(payload[:cut])
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.close()
                continue
            s.sendall(payload)
            errors = read_replies(s, len(lines))
            s.close()
        except (OSError, ConnectionError) as e:
            model.fail("worker %d: %s" % (wid, e))
            return
        err_seqs = {e["seq"] for e in errors}
        if err_seqs & good_seqs:
            model.fail("valid lines rejected: %s" %
                       [e for e in errors if e["seq"] in good_seqs][:3])
        if len(errors) != len(lines) - len(good):
            model.fail("%d errors for %d bad lines" %
                       (len(errors), len(lines) - len(good)))
        for e in errors:
            if e["error"] not in EXPECTED_CODES:
                model.fail("unexpected code %s" % e)
        model.add(good)


def http_worker(addr, stop, model, rng):
    n = 0
    while not stop.is_set():
        keys, lines = [], []
        for _ in range(rng.randrange(1, 500)):
            n += 1
            key = "k%d" % rng.randrange(KEYS)
            keys.append(key)
            lines.append(json.dumps({"id": "h-%d" % n, "key": key, "op": "incr",
                                     "data": {"n": 1}}))
        try:
            c = http.client.HTTPConnection(*addr, timeout=60)
            c.request("POST", "/v1/events", "\n".join(lines),
                      {"Content-Type": "application/x-ndjson"})
            r = c.getresponse()
            body = json.loads(r.read())
            c.close()
        except (OSError, http.client.HTTPException) as e:
            model.fail("http: %s" % e)
            return
        if r.status != 200 or body["accepted"] != len(keys):
            model.fail("http answer %d %s" % (r.status, body))
            return
        model.add(keys)
        time.sleep(0.01)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--duration", type=float, default=600)
    ap.add_argument("--sample", type=float, default=10)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    data = tempfile.mkdtemp(prefix="eventide-soak-")
    cmd = ["timeout", str(int(a.duration + 300)), a.binary,
           "--ingest.listen=127.0.0.1:0", "--http.listen=127.0.0.1:0",
           "--storage.mode=disk", "--storage.data-dir=" + data]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    log = []
    started = threading.Event()

    def pump():
        for line in proc.stderr:
            log.append(line)
            if LISTEN_RE.search(line):
                started.set()
    threading.Thread(target=pump, daemon=True).start()
    if not started.wait(30):
        print("server did not start:", "".join(log))
        return 1
    m = LISTEN_RE.search("".join(log))
    ingest = m.group(1).rsplit(":", 1)
    httpa = m.group(2).rsplit(":", 1)
    ingest = (ingest[0], int(ingest[1]))
    httpa = (httpa[0], int(httpa[1]))
    pid = int(subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                             text=True).stdout.split()[0])
    model = Model()
    stop = threading.Event()
    rng = random.Random(a.seed)
    threads = [threading.Thread(target=tcp_worker,
                                args=(i, ingest, stop, model,
                                      random.Random(rng.random())))
               for i in range(a.workers)]
    threads.append(threading.Thread(target=http_worker,
                                    args=(httpa, stop, model,
                                          random.Random(rng.random()))))
    for t in threads:
        t.start()
    curve = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < a.duration and not model.failures:
        time.sleep(a.sample)
        curve.append((round(time.monotonic() - t0), rss_kib(pid) // 1024,
                      model.acked))
        print("t=%4ds rss=%4d MiB acked=%d" % curve[-1], flush=True)
    stop.set()
    for t in threads:
        t.join(120)
    # Every acknowledged event applied exactly once.
    c = http.client.HTTPConnection(*httpa, timeout=60)
    wrong = []
    for k, want in sorted(model.counts.items()):
        c.request("GET", "/v1/keys/" + k)
        r = c.getresponse()
        body = json.loads(r.read())
        got = body["fields"]["n"] if r.status == 200 else 0
        if got != want:
            wrong.append((k, got, want))
    c.request("GET", "/v1/stats")
    stats = json.loads(c.getresponse().read())
    c.close()
    proc.terminate()
    proc.wait(30)
    failures = list(model.failures)
    if wrong:
        failures.append("counters differ (key, server, model): %s" % wrong[:5])
    odd_codes = {code for code, n in stats["rejected_by_code"].items()
                 if n and code not in EXPECTED_CODES}
    if odd_codes:
        failures.append("unexpected reject codes: %s" % odd_codes)
    expected_log = re.compile(r" (info|warning) (eventide .* starting|recovered"
                              r"|listening|rejected \d+ events in the last"
                              r"|signal \d+ received|stopped)")
    odd_log = [line for line in log if not expected_log.search(line)]
    if odd_log:
        failures.append("unexpected log lines: %s" % odd_log[:5])
    # Flat RSS: the second half of the run may not grow past the first
    # half's peak by more than 25 %.
    half = [mib for t, mib, _ in curve if t > a.duration / 2]
    first = [mib for t, mib, _ in curve if t <= a.duration / 2]
    if first and half and max(half) > max(first) * 1.25:
        failures.append("RSS grew: first half peak %d MiB, second half peak "
                        "%d MiB" % (max(first), max(half)))
    print(json.dumps({"duration_s": a.duration, "acked_events": model.acked,
                      "keys_checked": len(model.counts),
                      "rss_curve_mib": [(t, mib) for t, mib, _ in curve],
                      "log_lines": len(log), "failures": failures}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
