#!/usr/bin/env python3
"""Runs eventide's standard benchmark scenarios and writes BENCHMARKS.md.

Each scenario starts a fresh server (wrapped in a timeout) on ephemeral
ports, runs eventide-bench against it --reps times, and records the bench's
figures plus the server's CPU time and peak RSS read from /proc. Medians of
the repetitions are reported; every figure comes with its exact commands.

Usage: tests/perf/run_suite.py --build build/release [--reps 3] [--out BENCHMARKS.md]
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

LISTEN_RE = re.compile(r"listening ingest=(\S+) http=(\S+)")


class Server:
    def __init__(self, binary, args, memory=True):
        self.cmd = ["timeout", "600", binary, "--ingest.listen=127.0.0.1:0",
                    "--http.listen=127.0.0.1:0"]
        if memory:
            self.cmd.append("--storage.mode=memory")
        self.cmd += args
        self.proc = subprocess.Popen(self.cmd, stderr=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, text=True)
        self.log_bytes = 0
        self.lines = []
        ready = threading.Event()

        def pump():
            for line in self.proc.stderr:
                self.log_bytes += len(line.encode())
                self.lines.append(line)
                if LISTEN_RE.search(line):
                    ready.set()
        threading.Thread(target=pump, daemon=True).start()
        if not ready.wait(20):
            self.stop()
            raise RuntimeError("server did not start: " + "".join(self.lines))
        m = LISTEN_RE.search("".join(self.lines))
        self.ingest_port = m.group(1).rsplit(":", 1)[1]
        self.http_port = m.group(2).rsplit(":", 1)[1]
        self.pid = self.server_pid()
        self.log_after_start = self.log_bytes

    def server_pid(self):
        # `timeout` is our child; the server is its child.
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)],
                             capture_output=True, text=True).stdout.split()
        return int(out[0])

    def cpu_seconds(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def status(self, name):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1]) * 1024
        return 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run_bench(bench, server, args):
    cmd = [bench, "--port", server.ingest_port, "--http-port",
           server.http_port, "--json", "--quiet"] + args
    cpu0 = server.cpu_seconds()
    out = subprocess.run(["timeout", "600"] + cmd, capture_output=True,
                         text=True)
    cpu1 = server.cpu_seconds()
    try:
        result = json.loads(out.stdout)
    except json.JSONDecodeError:
        raise RuntimeError("bench failed: " + out.stdout + out.stderr)
    result["server_cpu_s"] = cpu1 - cpu0
    return result


def scenario(name, bench, binary, server_args, bench_args, reps,
             disk=False):
    """Fresh server per repetition (with a fresh data dir when `disk`);
    returns list of results."""
    results = []
    for i in range(reps):
        data_dir = tempfile.mkdtemp(prefix="eventide-perf-") if disk else None
        args = server_args + (["--storage.mode=disk",
                               "--storage.data-dir=" + data_dir]
                              if disk else [])
        server = Server(binary, args, memory=not disk)
        try:
            r = run_bench(bench, server, bench_args + ["--seed", str(i + 1)])
            r["peak_rss"] = server.status("VmHWM")
            r["rss_after"] = server.status("VmRSS")
            r["log_bytes"] = server.log_bytes - server.log_after_start
            stats = subprocess.run(
                ["curl", "-s", f"127.0.0.1:{server.http_port}/v1/stats"],
                capture_output=True, text=True).stdout
            r["stats"] = json.loads(stats) if stats else {}
            # a reject summary is written at most every 10 s: wait for it
            if "--bad-ratio" in bench_args:
                time.sleep(11)
                r["log_bytes"] = server.log_bytes - server.log_after_start
        finally:
            server.stop()
            if data_dir:
                shutil.rmtree(data_dir, ignore_errors=True)
        r["server_cmd"] = " ".join(server.cmd[2:])
        if data_dir:
            r["server_cmd"] = r["server_cmd"].replace(data_dir, "DIR")
        results.append(r)
        print(f"  {name} #{i + 1}: {r['events_per_s']:.0f} events/s "
              f"verdict={r['verdict']}", file=sys.stderr)
    return results


RECOVERED_RE = re.compile(
    r"recovered (\d+) keys and (\d+) applied events .* in (\d+) ms")


def recovery(bench, binary):
    """Loads over 1,000,000 keys into a disk-backed server (3,000,000 sets
    over 1,100,000 uniformly drawn keys: ~1.03 M distinct), then restarts
    it on the same data dir twice: after SIGTERM and after kill -9."""
    data_dir = tempfile.mkdtemp(prefix="eventide-perf-")
    args = ["--storage.mode=disk", "--storage.data-dir=" + data_dir]
    load = ["--events", "3000000", "--connections", "4", "--keys", "1100000",
            "--fields", "3", "--op-mix", "1:0:0", "--lines-per-write", "100"]
    out = {"load": " ".join(["eventide-bench", "--port P --http-port H"]
                            + load),
           "server_cmd": " ".join(["eventide", "--ingest.listen=127.0.0.1:0",
                                   "--http.listen=127.0.0.1:0"]
                                  + args).replace(data_dir, "DIR")}
    try:
        server = Server(binary, args, memory=False)
        try:
            out["load_result"] = run_bench(bench, server, load)
        finally:
            server.stop()
        for how in ("sigterm", "kill9"):
            server = Server(binary, args, memory=False)
            m = RECOVERED_RE.search("".join(server.lines))
            out[how] = {"keys": int(m.group(1)), "events": int(m.group(2)),
                        "ms": int(m.group(3))}
            if how == "sigterm":
                server.stop()
            else:
                os.kill(server.pid, signal.SIGKILL)
                server.proc.wait()
            print(f"  recovery after {how}: {out[how]}", file=sys.stderr)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return out


def med(results, fn):
    return statistics.median(fn(r) for r in results)


def fmt_us(us):
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.0f} µs"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build/release")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", default="BENCHMARKS.md")
    a = ap.parse_args()
    binary = os.path.abspath(os.path.join(a.build, "eventide"))
    bench = os.path.abspath(os.path.join(a.build, "eventide-bench"))

    base = ["--events", "2000000", "--connections", "4", "--keys", "100000",
            "--fields", "3", "--op-mix", "1:1:0", "--lines-per-write", "100"]
    runs = {}
    print("scenario 1: throughput", file=sys.stderr)
    runs["1"] = scenario("throughput", bench, binary, [], base + ["--verify"],
                         a.reps)
    runs["1b"] = scenario("throughput, max-inflight 8192", bench, binary,
                          ["--ingest.max-inflight=8192"], base, a.reps)
    print("scenario 2: latency at 50,000 events/s", file=sys.stderr)
    runs["2"] = scenario("latency", bench, binary, [],
                         ["--events", "1000000", "--rate", "50000",
                          "--connections", "4", "--keys", "100000",
                          "--fields", "3", "--op-mix", "1:1:0",
                          "--lines-per-write", "10"], a.reps)
    print("scenario 3: memory at 1,000,000 keys", file=sys.stderr)
    runs["3"] = scenario("memory", bench, binary, [],
                         ["--events", "1000000", "--connections", "4",
                          "--keys", "1000000", "--fields", "3", "--op-mix",
                          "1:0:0", "--lines-per-write", "100"], 1)
    print("scenario 4: 10% bad lines", file=sys.stderr)
    runs["4"] = scenario("bad input", bench, binary, [],
                         base + ["--bad-ratio", "0.1"], 1)
    print("scenario 5: HTTP batches of 1,000", file=sys.stderr)
    runs["5"] = scenario("http", bench, binary, [],
                         ["--http", "--batch", "1000", "--events", "1000000",
                          "--connections", "4", "--keys", "100000",
                          "--fields", "3", "--op-mix", "1:1:0"], a.reps)
    print("scenario 6: scaling", file=sys.stderr)
    runs["6a"] = scenario("1 thread", bench, binary,
                          ["--engine.parsers=1", "--engine.threads=1"], base,
                          a.reps)
    runs["6b"] = scenario("2 threads", bench, binary,
                          ["--engine.parsers=2", "--engine.threads=2"], base,
                          a.reps)
    print("scenario 7: in-process pipeline vs plain loop", file=sys.stderr)
    pipeline = os.path.abspath(os.path.join(a.build,
                                            "eventide-pipeline-bench"))
    print("scenario 8: durability, fsync policies", file=sys.stderr)
    for key, policy in (("8b", "batch"), ("8a", "always"), ("8n", "none")):
        runs[key] = scenario("fsync " + policy, bench, binary,
                             ["--storage.fsync=" + policy], base, a.reps,
                             disk=True)
    print("scenario 9: recovery of 1,000,000 keys", file=sys.stderr)
    runs["9"] = recovery(bench, binary)
    runs["7"] = []
    for lines in (100, 1000, 8700):
        cmd = [pipeline, "--events", "1000000", "--chunk-lines", str(lines),
               "--reps", str(a.reps), "--json"]
        out = subprocess.run(["timeout", "600"] + cmd, capture_output=True,
                             text=True, check=True).stdout
        r = json.loads(out)
        r["command"] = " ".join(["eventide-pipeline-bench"] + cmd[1:])
        r["chunk_lines"] = lines
        runs["7"].append(r)
        print(f"  chunk of {lines} lines: {r['per_core_ratio']:.0%} per core",
              file=sys.stderr)
    write_report(a.out, runs, a.reps, binary)


def cmd_of(r):
    opts = r["command"].split(" ", 1)[1]
    opts = re.sub(r"--port \d+ --http-port \d+ ", "--port P --http-port H ",
                  opts)
    return (f"`{r['server_cmd'].replace('/work/main/', '')}`<br>"
            f"`eventide-bench {opts}`")


def write_report(path, runs, reps, binary):
    r1, r2, r3, r4, r5 = (runs[k] for k in ("1", "2", "3", "4", "5"))
    eps1 = med(r1, lambda r: r["events_per_s"])
    cpu_per_event = med(r1, lambda r: r["server_cpu_s"] / r["events_acked"])
    rss1 = med(r1, lambda r: r["peak_rss"])
    p99 = med(r2, lambda r: r["ack_latency_us"]["p99"])
    p99_sched = med(r2, lambda r: (r.get("scheduled_latency_us") or
                                   r["ack_latency_us"])["p99"])
    p50 = med(r2, lambda r: r["ack_latency_us"]["p50"])
    keys3 = r3[0]["stats"].get("keys", 0)
    rss3 = r3[0]["rss_after"]
    eps6a = med(runs["6a"], lambda r: r["events_per_s"])
    eps6b = med(runs["6b"], lambda r: r["events_per_s"])
    lines = []
    w = lines.append
    w("# eventide benchmarks\n")
    w("Produced by `tests/perf/run_suite.py --build "
      f"{os.path.relpath(os.path.dirname(binary))}` on a Release build (see "
      f"README) on {time.strftime('%Y-%m-%d')}, on this project's 2-core "
      "machine with the load generator on the same machine. Each scenario "
      "starts a fresh server; figures are medians of "
      f"{reps} repetitions unless marked single. Server CPU is user+system "
      "time of the server process from /proc during the run. The machine "
      "is shared and noisy: compare ratios within one run.\n")
    w("| # | scenario | figure | target | result |")
    w("|---|---|---|---|---|")
    w(f"| 1 | throughput, TCP, 2,000,000 events | {eps1:,.0f} events/s | "
      f"≥ 1,000,000 | {'met' if eps1 >= 1e6 else 'missed'} |")
    w(f"| 1 | server CPU per event | {cpu_per_event * 1e6:.2f} µs | ≤ 1.5 µs | "
      f"{'met' if cpu_per_event <= 1.5e-6 else 'missed'} |")
    w(f"| 1 | peak RSS (100,000 keys, 1,000,000-id window) | "
      f"{rss1 / 2**20:.0f} MiB | ≤ 150 MB | "
      f"{'met' if rss1 <= 150e6 else 'missed'} |")
    r1b = runs["1b"]
    w(f"| 1b | run 1 with `--ingest.max-inflight=8192` | "
      f"{med(r1b, lambda r: r['events_per_s']):,.0f} events/s, peak RSS "
      f"{med(r1b, lambda r: r['peak_rss']) / 2**20:.0f} MiB, "
      f"{med(r1b, lambda r: r['server_cpu_s'] / r['events_acked']) * 1e6:.2f}"
      f" µs CPU/event | | |")
    w(f"| 2 | ack latency at 50,000 events/s | p50 {fmt_us(p50)}, p99 "
      f"{fmt_us(p99)} (from scheduled send: p99 {fmt_us(p99_sched)}) | "
      f"p99 ≤ 500 µs | {'met' if p99 <= 500 else 'missed'} |")
    w(f"| 3 | RSS per key at {keys3:,} keys (single) | "
      f"{rss3 / max(keys3, 1):.0f} bytes (RSS {rss3 / 2**20:.0f} MiB) | | |")
    w(f"| 4 | 10% bad lines (single) | {r4[0]['events_per_s']:,.0f} events/s, "
      f"{r4[0]['log_bytes']} log bytes for 2,000,000 events | ≤ 4 KB log | "
      f"{'met' if r4[0]['log_bytes'] <= 4096 else 'missed'} |")
    w(f"| 5 | HTTP POST batches of 1,000 | "
      f"{med(r5, lambda r: r['events_per_s']):,.0f} events/s | | |")
    w(f"| 6 | scaling: 1 vs 2 threads (parsers + scheduler) | "
      f"{eps6a:,.0f} vs {eps6b:,.0f} events/s ({eps6b / eps6a:.2f}×) | | |")
    for r in runs["7"]:
        ratio = r["per_core_ratio"]
        w(f"| 7 | in-process pipeline vs plain loop, chunks of "
          f"{r['chunk_lines']:,} lines | plain {r['plain_events_per_s']:,.0f} "
          f"events/s (1 thread); actors {r['actor_events_per_s']:,.0f} "
          f"events/s (2 threads), {r['actor_events_per_cpu_s']:,.0f} per CPU "
          f"second: {ratio:.0%} per core | ≥ 80% | "
          f"{'met' if ratio >= 0.8 else 'missed'} |")
    ebatch = med(runs["8b"], lambda r: r["events_per_s"])
    for key, policy in (("8b", "batch"), ("8a", "always"), ("8n", "none")):
        eps = med(runs[key], lambda r: r["events_per_s"])
        cpu = med(runs[key], lambda r: r["server_cpu_s"] / r["events_acked"])
        target = "≥ 70% of run 1" if key == "8b" else ""
        result = ("met" if eps >= 0.7 * eps1 else "missed") if key == "8b" \
            else ""
        w(f"| 8 | run 1 on disk, `storage.fsync={policy}` | {eps:,.0f} "
          f"events/s ({eps / eps1:.0%} of memory-only run 1), "
          f"{cpu * 1e6:.2f} µs CPU/event | {target} | {result} |")
    rec = runs["9"]
    for how, label in (("sigterm", "after SIGTERM"), ("kill9", "after kill -9")):
        r = rec[how]
        w(f"| 9 | recovery {label} (single) | {r['keys']:,} keys, "
          f"{r['events']:,} events in {r['ms']:,} ms | < 5 s | "
          f"{'met' if r['ms'] < 5000 and r['keys'] >= 1000000 else 'missed'} |")
    w("")
    w("## Commands\n")
    for key, label in (("1", "throughput"),
                       ("1b", "throughput, smaller in-flight bound"),
                       ("2", "latency"),
                       ("3", "memory"), ("4", "bad input"), ("5", "HTTP"),
                       ("6a", "scaling, 1 thread"),
                       ("6b", "scaling, 2 threads"),
                       ("8b", "on disk, fsync batch"),
                       ("8a", "on disk, fsync always"),
                       ("8n", "on disk, fsync none")):
        w(f"* {key} {label}: {cmd_of(runs[key][0])}")
    w(f"* 9 recovery: `{rec['server_cmd']}`, loaded with `{rec['load']}`, "
      "stopped with SIGTERM and started again (the start-up line "
      "`recovered … in N ms` gives the time), then killed with SIGKILL and "
      "started again")
    for r in runs["7"]:
        w(f"* 7 pipeline, {r['chunk_lines']} lines per chunk: "
          f"`{r['command']}`")
    w("\n(`--seed` differs per repetition; ports are ephemeral. A TCP "
      "session hands over chunks of up to 1 MiB, about 8,700 lines of "
      "scenario 1.)\n")
    w("## All repetitions\n")
    w("| scenario | events/s | server CPU µs/event | peak RSS MiB | "
      "ack p50 | ack p99 | verdict |")
    w("|---|---|---|---|---|---|---|")
    for key, results in runs.items():
        if key in ("7", "9"):
            continue
        for r in results:
            lat = r["ack_latency_us"]
            w(f"| {key} | {r['events_per_s']:,.0f} | "
              f"{r['server_cpu_s'] / max(r['events_acked'], 1) * 1e6:.2f} | "
              f"{r['peak_rss'] / 2**20:.0f} | {fmt_us(lat['p50'])} | "
              f"{fmt_us(lat['p99'])} | {r['verdict']} |")
    # The generated part sits between markers; text around it is kept.
    begin, end = "<!-- generated: begin -->", "<!-- generated: end -->"
    body = begin + "\n" + "\n".join(lines) + "\n" + end
    old = open(path).read() if os.path.exists(path) else ""
    if begin in old and end in old:
        text = old[:old.index(begin)] + body + old[old.index(end) + len(end):]
    else:
        text = body + "\n" + old
    with open(path, "w") as f:
        f.write(text)
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
