#!/usr/bin/env python3
"""Cluster throughput on one machine: a standalone server against 2- and
3-node clusters (memory mode, 64 shards), the load always sent to node a,
so that (N-1)/N of the batches cross to another node. Prints one JSON line
per run: events/s, the CPU of all server processes per event, and the batch
messages the other nodes' owner shards handled (the remote hops).

Run: tests/perf/cluster_bench.py build/release
"""
import json, os, re, socket, subprocess, sys, tempfile, time, urllib.request
B = sys.argv[1]
SH = 64
def free():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
def cpu(pid):
    f = open("/proc/%d/stat" % pid).read().split(")")[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
def start(name, cport, seeds):
    args = [B + "/eventide", "--ingest.listen=127.0.0.1:0", "--http.listen=127.0.0.1:0",
            "--storage.mode=memory", "--engine.shards=%d" % SH]
    if cport:
        args += ["--cluster.port=%d" % cport, "--cluster.node-name=" + name]
        if seeds: args.append("--cluster.seeds=" + ",".join("127.0.0.1:%d" % s for s in seeds))
    p = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    for line in p.stderr:
        m = re.search(r"listening ingest=\S+:(\d+) http=\S+:(\d+)", line)
        if m: return p, int(m.group(1)), int(m.group(2))
def get(port, path):
    return json.loads(urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10).read())
def run(n, rep):
    procs = []
    ports = [free() for _ in range(n)] if n > 1 else [0]
    for i in range(n):
        procs.append(start("abc"[i], ports[i], ports[:1] if i else []))
    if n > 1:
        for _ in range(200):
            v = get(procs[0][2], "/v1/cluster")
            if len(v["members"]) == n and all(m["held"] == m["shards"] for m in v["members"]): break
            time.sleep(0.1)
        time.sleep(0.5)
    c0 = sum(cpu(p.pid) for p, _, _ in procs)
    out = subprocess.run([B + "/eventide-bench", "--port", str(procs[0][1]), "--http-port", str(procs[0][2]),
        "--json", "--quiet", "--events", "2000000", "--connections", "4", "--keys", "100000", "--fields", "3",
        "--op-mix", "1:1:0", "--lines-per-write", "100", "--seed", str(rep), "--verify"],
        capture_output=True, text=True, timeout=300)
    r = json.loads(out.stdout)
    c1 = sum(cpu(p.pid) for p, _, _ in procs)
    remote = 0
    for p, _, hp in procs[1:2]:  # /v1/actors lists every node's actors
        acts = get(hp, "/v1/actors")["actors"]
        remote += sum(a["processed"] for a in acts if a["kind"] == "shard" and a["node"] != "a" and a["keys"] > 0)
    for p, _, _ in procs: p.terminate()
    for p, _, _ in procs: p.wait(20)
    return {"nodes": n, "eps": r["events_per_s"], "verdict": r["verdict"],
            "cpu_us_per_event": (c1 - c0) / 2e6 * 1e6, "remote_msgs": remote, "cpu_s": c1 - c0}
res = []
for rep in range(3):
    for n in (1, 2, 3):
        x = run(n, rep + 1); print(json.dumps(x), flush=True); res.append(x)
