#!/usr/bin/env python3
"""Durability (storage.mode=disk), black-box against the real binary:
restarts, kill -9 crash rounds checked against a model built from the acks,
snapshots and WAL clean-up, torn tails, corruption, foreign data dirs, and a
full disk.

Run: python3 tests/integration/test_durability.py --binary build/eventide
"""

import glob
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import start_server, wait_until, run_to_exit  # noqa: E402

KEYS = 40


def disk_args(data_dir, fsync="batch", extra=()):
    return ["--ingest.listen=127.0.0.1:0", "--http.listen=127.0.0.1:0",
            "--storage.mode=disk", "--storage.data-dir=" + data_dir,
            "--storage.fsync=" + fsync, "--engine.shards=8"] + list(extra)


def start(binary, data_dir, fsync="batch", extra=()):
    return start_server(binary, disk_args(data_dir, fsync, extra),
                        base_args=False)


incr_line = harness.incr_line
counters = harness.read_counters


def check_model(srv, model):
    got = counters(srv, sorted(model))
    wrong = {k: (got[k], model[k]) for k in model if got[k] != model[k]}
    assert not wrong, "counter (server, model): %s" % wrong


def test_restart_keeps_every_acknowledged_event(binary):
    with tempfile.TemporaryDirectory() as d:
        with start(binary, d) as srv:
            c = srv.tcp()
            c.send_lines([incr_line("a%d" % i, "k%d" % (i % KEYS)) for i in range(5000)])
            c.wait_ack(5000)
        with start(binary, d) as srv:
            assert "recovered %d keys and 5000 applied events" % KEYS in srv.stderr_text()
            check_model(srv, {"k%d" % i: 5000 // KEYS for i in range(KEYS)})
            # Ids stay de-duplicated across the restart.
            c = srv.tcp()
            c.send_lines([incr_line("a%d" % i, "k%d" % (i % KEYS)) for i in range(100)])
            c.wait_ack(100)
            check_model(srv, {"k%d" % i: 5000 // KEYS for i in range(KEYS)})
            st, _, body = srv.http("GET", "/v1/stats")
            assert body["duplicates"] == 100, body


def test_delete_survives_kill9(binary):
    """An acknowledged DELETE is in the log: the key stays gone after a
    kill -9, and a key deleted and written again keeps only the new write."""
    with tempfile.TemporaryDirectory() as d:
        srv = start(binary, d)
        try:
            c = srv.tcp()
            c.send_lines([incr_line("d%d" % i, "k%d" % (i % 3)) for i in range(30)])
            c.wait_ack(30)
            for key in ("k0", "k1"):
                st, _, body = srv.http("DELETE", "/v1/keys/" + key)
                assert st == 200 and body == {"deleted": True}, (st, body)
            st, _, body = srv.http("DELETE", "/v1/keys/nothing")
            assert st == 404, (st, body)
            c = srv.tcp()
            c.send_lines([incr_line("again", "k1")])
            c.wait_ack(1)
            os.kill(srv.proc.pid, signal.SIGKILL)
            srv.proc.wait(10)
        finally:
            srv.kill()
        with start(binary, d) as srv:
            got = counters(srv, ["k0", "k1", "k2"])
            assert got == {"k0": 0, "k1": 1, "k2": 10}, got


def crash_rounds(binary, fsync, rounds, seed):
    """Streams incr events, kill -9 at a random moment, restarts, re-sends
    the unacknowledged tail with the same ids, and compares every key with
    a model built from what was sent: each event counted exactly once."""
    rng = random.Random(seed)
    model = {"k%d" % i: 0 for i in range(KEYS)}
    with tempfile.TemporaryDirectory() as d:
        for r in range(rounds):
            events = [("r%d-%d" % (r, i), "k%d" % rng.randrange(KEYS))
                      for i in range(rng.randrange(5000, 30000))]
            lines = [incr_line(eid, key) for eid, key in events]
            srv = start(binary, d, fsync)
            try:
                c = srv.tcp()
                c.send(("\n".join(lines) + "\n").encode(), stall_timeout=30)
                time.sleep(rng.uniform(0.0, 0.25))
                os.kill(srv.proc.pid, signal.SIGKILL)  # no chance to flush
                srv.proc.wait(10)
                c.wait_closed(10)
                acked = c.max_ack
            finally:
                srv.kill()
            assert 0 <= acked <= len(lines)
            with start(binary, d, fsync) as srv:
                # What was acknowledged survived: check it before re-sending.
                for eid, key in events[:acked]:
                    model[key] += 1
                got = counters(srv, sorted(model))
                for k in model:
                    # Applied but unacknowledged events may be there too,
                    # never fewer than the acknowledged ones.
                    assert got[k] >= model[k], (r, k, got[k], model[k], acked)
                c = srv.tcp()
                tail = lines[acked:]
                if tail:
                    c.send_lines(tail)
                    c.wait_ack(len(tail), timeout=120)
                for eid, key in events[acked:]:
                    model[key] += 1
                check_model(srv, model)
    return model


def test_kill9_rounds_fsync_always(binary):
    crash_rounds(binary, "always", 20, seed=1)


def test_kill9_rounds_fsync_batch(binary):
    crash_rounds(binary, "batch", 20, seed=2)


def test_snapshots_replace_old_log_segments(binary):
    with tempfile.TemporaryDirectory() as d:
        extra = ["--storage.segment-bytes=65536", "--storage.snapshot-bytes=262144"]
        model = {"k%d" % i: 0 for i in range(KEYS)}
        with start(binary, d, extra=extra) as srv:
            c = srv.tcp()
            for batch in range(5):
                lines = []
                for i in range(10000):
                    key = "k%d" % ((batch * 7 + i) % KEYS)
                    lines.append(incr_line("s%d-%d" % (batch, i), key))
                    model[key] += 1
                c.send_lines(lines)
                c.wait_ack((batch + 1) * 10000, timeout=120)
            wait_until(lambda: len(glob.glob(d + "/snapshots/*.snap")) == 8, 20,
                       what="a snapshot of every shard")
            segments = glob.glob(d + "/wal/*.log")
            wal_bytes = sum(os.path.getsize(p) for p in segments)
            assert wal_bytes < 2_000_000, (len(segments), wal_bytes)
        with start(binary, d, extra=extra) as srv:
            log = srv.stderr_text()
            assert "(8 snapshots," in log, log
            check_model(srv, model)


def stop_at(binary, d):
    with start(binary, d) as srv:
        c = srv.tcp()
        c.send_lines([incr_line("t%d" % i, "k%d" % (i % KEYS)) for i in range(2000)])
        c.wait_ack(2000)


def last_segment(d):
    return sorted(glob.glob(d + "/wal/*.log"))[-1]


def test_torn_tail_is_cut_with_one_log_line(binary):
    with tempfile.TemporaryDirectory() as d:
        stop_at(binary, d)
        seg = last_segment(d)
        size = os.path.getsize(seg)
        with open(seg, "ab") as f:
            # A record header that promises 1000 bytes, and 5 of them.
            f.write((1000).to_bytes(4, "little") + (~1000 & 0xFFFFFFFF).to_bytes(4, "little")
                    + b"\0\0\0\0" + b"abcde")
        with start(binary, d) as srv:
            log = srv.stderr_text()
            assert "cut 17 bytes of a torn tail" in log and seg in log, log
            check_model(srv, {"k%d" % i: 2000 // KEYS for i in range(KEYS)})
        assert os.path.getsize(seg) == size


def test_corruption_in_the_middle_stops_start_up(binary):
    with tempfile.TemporaryDirectory() as d:
        stop_at(binary, d)
        seg = sorted(glob.glob(d + "/wal/*.log"))[0]
        with open(seg, "r+b") as f:
            f.seek(200)
            b = f.read(1)
            f.seek(200)
            f.write(bytes([b[0] ^ 0x10]))
        code, _, err, _ = run_to_exit(binary, disk_args(d), timeout=20)
        assert code != 0, err
        assert seg in err and "offset" in err and "refusing to start" in err, err


def test_foreign_data_dir_is_refused(binary):
    with tempfile.TemporaryDirectory() as d:
        stop_at(binary, d)
        args = disk_args(d)
        args[args.index("--engine.shards=8")] = "--engine.shards=16"
        code, _, err, _ = run_to_exit(binary, args, timeout=20)
        assert code != 0, err
        assert "engine.shards=8" in err, err
        with open(d + "/META", "w") as f:
            f.write("eventide data dir\nformat 99\nshards 8\n")
        code, _, err, _ = run_to_exit(binary, disk_args(d), timeout=20)
        assert code != 0 and "format 99" in err, err


def test_full_disk_stops_acks_and_resumes(binary):
    mount = tempfile.mkdtemp(prefix="eventide-small-")
    try:
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mount],
                           capture_output=True, timeout=20)
        if r.returncode != 0:
            print("  cannot mount a small tmpfs here (%s): full-disk test skipped"
                  % r.stderr.decode().strip())
            return
        try:
            full_disk_round(binary, mount)
        finally:
            subprocess.run(["umount", "-l", mount], timeout=20)
    finally:
        shutil.rmtree(mount, ignore_errors=True)


def full_disk_round(binary, mount):
    d = mount + "/data"
    filler = mount + "/filler"
    model = {"k%d" % i: 0 for i in range(KEYS)}
    with start(binary, d) as srv:
        with open(filler, "wb") as f:  # leave about 300 KB free
            free = shutil.disk_usage(mount).free
            f.write(b"\0" * (free - 300_000))
        c = srv.tcp()
        lines = [incr_line("f%d" % i, "k%d" % (i % KEYS)) for i in range(20000)]
        c.send_lines(lines)
        c.wait_ack(len(lines), timeout=120)
        errors = c.snapshot()[1]
        failed = {e["seq"] for e in errors}
        assert failed, "a full disk must stop acknowledgements"
        assert all(e["error"] == "unavailable" for e in errors), errors[:3]
        st, _, _ = srv.http("GET", "/readyz")
        assert st == 503
        st, _, body = srv.http("GET", "/v1/actors")
        assert any(a["last_error"] and a["last_error"]["code"] == "unavailable"
                   for a in body["actors"]), body
        assert "storage:" in srv.stderr_text()
        for seq, line in enumerate(lines, 1):
            if seq not in failed:
                model["k%d" % ((seq - 1) % KEYS)] += 1
        os.remove(filler)
        wait_until(lambda: srv.http("GET", "/readyz")[0] == 200, 20,
                   what="readiness once the disk has room")
        assert "acknowledging again" in srv.stderr_text()
        retry = [lines[s - 1] for s in sorted(failed)]
        c2 = srv.tcp()
        c2.send_lines(retry)
        c2.wait_ack(len(retry), timeout=120)
        assert not c2.snapshot()[1], c2.snapshot()[1][:3]
        for s in failed:
            model["k%d" % ((s - 1) % KEYS)] += 1
        check_model(srv, model)
    with start(binary, d) as srv:
        check_model(srv, model)


if __name__ == "__main__":
    harness.run_tests(globals())
