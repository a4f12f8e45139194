#!/usr/bin/env python3
"""Cluster (DESIGN.md §7), black-box against real eventide processes on
127.0.0.1, each with its own ports and data dir: exact counters read from
any node, a node joining and one leaving during a steady stream, kill -9 of
a node (its shards answer `unavailable`, the others keep acknowledging; after
a restart every acknowledged event is there exactly once), and a handshake
mismatch refused on both sides.

Run: python3 tests/integration/test_cluster.py --binary build/eventide
"""

import contextlib
import json
import os
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import start_server, wait_until  # noqa: E402

SHARDS = 16
KEYS = 60


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """The nodes of one test: name -> (server, port, data dir)."""

    def __init__(self, root):
        self.root = root
        self.nodes = {}
        self.ports = {}

    def start(self, name, seeds=(), shards=SHARDS, extra=()):
        if name not in self.ports:
            self.ports[name] = free_port()
        data = os.path.join(self.root, name)
        args = ["--ingest.listen=127.0.0.1:0", "--http.listen=127.0.0.1:0",
                "--storage.mode=disk", "--storage.data-dir=" + data,
                "--engine.shards=%d" % shards,
                "--cluster.port=%d" % self.ports[name],
                "--cluster.node-name=" + name,
                "--cluster.heartbeat-ms=200", "--cluster.timeout-ms=1000",
                "--log.level=" + os.environ.get("EVENTIDE_TEST_LOG", "info")]
        args += list(extra)
        if seeds:
            args.append("--cluster.seeds=" + ",".join(
                "127.0.0.1:%d" % self.ports[s] for s in seeds))
        srv = start_server(self.binary, args, base_args=False)
        self.nodes[name] = srv
        return srv

    def view(self, name):
        st, _, body = self.nodes[name].http("GET", "/v1/cluster")
        assert st == 200, (st, body)
        return body

    def settled(self, names):
        """Every node in `names` sees exactly these members up, owning and
        holding the same shards (no handoff in flight), and is ready."""
        for n in names:
            v = self.view(n)
            members = {m["node"]: m for m in v["members"]}
            if set(members) != set(names):
                return False
            for m in members.values():
                if m["state"] != "up" or m["held"] != m["shards"]:
                    return False
            st, _, _ = self.nodes[n].http("GET", "/readyz")
            if st != 200:
                return False
        placements = {json.dumps(self.view(n)["placement"], sort_keys=True)
                      for n in names}
        return len(placements) == 1

    def wait_settled(self, names, timeout=60):
        wait_until(lambda: self.settled(names), timeout,
                   interval=0.2, what="cluster %s settled" % sorted(names))

    def stop_all(self):
        for srv in self.nodes.values():
            if srv.alive():
                srv.stop()


@contextlib.contextmanager
def running_cluster(binary, names=("a", "b", "c"), c_seed="a"):
    """Nodes a (the first), b (seeded with a) and c (seeded with `c_seed`),
    settled; every node is stopped afterwards."""
    with tempfile.TemporaryDirectory() as root:
        cl = Cluster(root)
        cl.binary = binary
        try:
            seeds = {"a": [], "b": ["a"], "c": [c_seed]}
            for n in names:
                cl.start(n, seeds=seeds[n])
            cl.wait_settled(list(names))
            yield cl
        finally:
            cl.stop_all()


def model_of(streamer):
    """Every event a Streamer sent, counted per key."""
    model = {"k%d" % i: 0 for i in range(KEYS)}
    for events in streamer.sent.values():
        for _, key in events:
            model[key] += 1
    return model


incr = harness.incr_line
counters = harness.read_counters


def check_counters(cluster, names, model):
    for n in names:
        got = counters(cluster.nodes[n], sorted(model))
        wrong = {k: (got[k], model[k]) for k in model if got[k] != model[k]}
        assert not wrong, "node %s: counter (got, expected): %s" % (n, wrong)


class Streamer(threading.Thread):
    """Sends rounds of incr events, one TCP connection per node, until
    stopped; remembers every event and which ones were acknowledged."""

    def __init__(self, cluster, names, prefix, per_round=300):
        super().__init__(daemon=True)
        self.cluster, self.names, self.prefix = cluster, names, prefix
        self.per_round = per_round
        self.stop_flag = threading.Event()
        self.sent = {n: [] for n in names}  # node -> [(id, key)]
        self.clients = {}
        self.error = None
        self.rounds = 0

    def run(self):
        try:
            for n in self.names:
                self.clients[n] = self.cluster.nodes[n].tcp()
            i = 0
            while not self.stop_flag.is_set():
                for n in self.names:
                    batch = []
                    for _ in range(self.per_round):
                        ev = ("%s-%d" % (self.prefix, i), "k%d" % (i % KEYS))
                        batch.append(ev)
                        i += 1
                    self.sent[n].extend(batch)
                    self.clients[n].send_lines([incr(e, k) for e, k in batch])
                self.rounds += 1
                time.sleep(0.05)
        except BaseException as e:  # noqa: B036 - reported by finish()
            self.error = e

    def finish(self, timeout=60):
        self.stop_flag.set()
        self.join(timeout)
        assert self.error is None, self.error
        for n, c in self.clients.items():
            c.wait_ack(len(self.sent[n]), timeout=timeout)


def test_three_nodes_give_exact_counters_from_any_node(binary):
    with running_cluster(binary, c_seed="a") as cl:
        # Every shard has one owner and all three own some.
        v = cl.view("b")
        owners = set(v["placement"].values())
        assert owners == {"a", "b", "c"}, v
        model = {"k%d" % i: 0 for i in range(KEYS)}
        clients = {n: cl.nodes[n].tcp() for n in ("a", "b", "c")}
        sent = {n: 0 for n in clients}
        for i in range(6000):
            n = "abc"[i % 3]
            key = "k%d" % (i % KEYS)
            clients[n].send_lines([incr("e%d" % i, key)])
            sent[n] += 1
            model[key] += 1
        for n, c in clients.items():
            c.wait_ack(sent[n], timeout=60)
            assert not c.errors, c.errors[:3]
        check_counters(cl, ["a", "b", "c"], model)
        st, _, body = cl.nodes["c"].http("GET", "/v1/stats")
        assert st == 200 and body["accepted"] == 6000, body
        # Re-sent ids are duplicates wherever they arrive.
        c = cl.nodes["a"].tcp()
        c.send_lines([incr("e%d" % i, "k%d" % (i % KEYS))
                      for i in range(300)])
        c.wait_ack(300)
        check_counters(cl, ["a"], model)
        # /v1/actors shows the actors of every node.
        st, _, body = cl.nodes["a"].http("GET", "/v1/actors")
        nodes = {a["node"] for a in body["actors"]}
        assert nodes == {"a", "b", "c"}, nodes
        kinds = {a["kind"] for a in body["actors"]}
        assert "node" in kinds, kinds


def test_a_fourth_node_joins_during_a_steady_stream(binary):
    with running_cluster(binary, c_seed="b") as cl:
        s = Streamer(cl, ["a", "b", "c"], "j")
        order = cl.nodes["a"].tcp()  # one connection, one key, in order
        s.start()
        wait_until(lambda: s.rounds >= 3, 30, what="stream running")
        cl.start("d", seeds=["b"])
        last = 0
        deadline = time.monotonic() + 60
        while not cl.settled(["a", "b", "c", "d"]):
            assert time.monotonic() < deadline, "no settled cluster"
            last += 1
            order.send_lines([json.dumps({"id": "o%d" % last,
                                          "key": "ordered", "op": "set",
                                          "data": {"v": last}})])
            time.sleep(0.02)
        time.sleep(0.5)  # some more traffic on the new placement
        s.finish()
        order.wait_ack(last)
        assert not order.errors, order.errors[:3]
        for n, c in s.clients.items():
            assert not c.errors, (n, c.errors[:3])
        moved = [k for k, o in cl.view("a")["placement"].items()
                 if o == "d"]
        assert moved, "the new node owns no shard"
        model = model_of(s)
        check_counters(cl, ["a", "d"], model)
        st, _, body = cl.nodes["d"].get_key("ordered")
        assert st == 200 and body["fields"]["v"] == last, (st, body, last)
        assert "shards move" in cl.nodes["a"].stderr_text()


def test_a_graceful_leave_during_a_stream(binary):
    with running_cluster(binary, c_seed="a") as cl:
        s = Streamer(cl, ["a", "b"], "l")
        s.start()
        wait_until(lambda: s.rounds >= 3, 30, what="stream running")
        st, _, body = cl.nodes["a"].http("POST",
                                         "/v1/cluster/leave?node=c")
        assert st == 202, (st, body)
        # The node hands its shards off and stops by itself.
        cl.nodes["c"].proc.wait(60)
        assert cl.nodes["c"].proc.returncode == 0, \
            cl.nodes["c"].log_tail()
        del cl.nodes["c"]
        cl.wait_settled(["a", "b"])
        time.sleep(0.3)
        s.finish()
        for n, c in s.clients.items():
            assert not c.errors, (n, c.errors[:3])
        model = model_of(s)
        check_counters(cl, ["a", "b"], model)


def test_kill9_of_a_node_then_restart_loses_and_doubles_nothing(binary):
    with running_cluster(binary, c_seed="a") as cl:
        model = {"k%d" % i: 0 for i in range(KEYS)}
        first = [("p%d" % i, "k%d" % (i % KEYS)) for i in range(3000)]
        c = cl.nodes["a"].tcp()
        c.send_lines([incr(e, k) for e, k in first])
        c.wait_ack(len(first))
        assert not c.errors
        for _, k in first:
            model[k] += 1
        victim = cl.nodes["c"]
        victim.kill()  # SIGKILL
        wait_until(lambda: any(
            m["node"] == "c" and m["state"] == "unreachable"
            for m in cl.view("a")["members"]), 20, what="c unreachable")
        # Its shards answer unavailable; the others acknowledge.
        second = [("q%d" % i, "k%d" % (i % KEYS)) for i in range(3000)]
        c = cl.nodes["b"].tcp()
        c.send_lines([incr(e, k) for e, k in second])
        c.wait_ack(len(second), timeout=60)
        failed = {e["seq"] for e in c.errors}
        assert failed, "no event was refused while c was down"
        assert {e["error"] for e in c.errors} == {"unavailable"}, \
            c.errors[:3]
        assert len(failed) < len(second), "every event was refused"
        for seq, (_, k) in enumerate(second, start=1):
            if seq not in failed:
                model[k] += 1
        owners = cl.view("a")["placement"]
        on_c = [k for k in model if owners[str(shard_of(cl, k))] == "c"]
        st, _, body = cl.nodes["a"].get_key(on_c[0])
        assert st == 503 and body["error"] == "unavailable", (st, body)
        st, _, _ = cl.nodes["a"].http("GET", "/readyz")
        assert st == 503
        # Back with its data dir: everything acknowledged is there.
        del cl.nodes["c"]
        cl.start("c", seeds=["a"])
        cl.wait_settled(["a", "b", "c"])
        check_counters(cl, ["a", "c"], model)
        # The refused events, re-sent with the same ids, count once.
        retry = [second[seq - 1] for seq in sorted(failed)]
        c = cl.nodes["c"].tcp()
        c.send_lines([incr(e, k) for e, k in retry])
        c.wait_ack(len(retry))
        assert not c.errors, c.errors[:3]
        for _, k in retry:
            model[k] += 1
        check_counters(cl, ["b", "c"], model)
        assert "is unreachable" in cl.nodes["a"].stderr_text()


M64 = (1 << 64) - 1


def stable_key_hash(key):
    """actors/placement.cpp's key hash (pinned by the unit tests)."""
    h = 14695981039346656037
    for b in key.encode():
        h ^= b
        h = (h * 1099511628211) & M64
    h ^= h >> 33
    h = (h * 0xff51afd7ed558ccd) & M64
    h ^= h >> 33
    h = (h * 0xc4ceb9fe1a85ec53) & M64
    h ^= h >> 33
    return h


def shard_of(cluster, key):
    return stable_key_hash(key) % SHARDS


def ctl(binary, srv, *args):
    """eventide-ctl (built next to the server) against `srv`."""
    import subprocess
    exe = os.path.join(os.path.dirname(os.path.abspath(binary)), "eventide-ctl")
    out = subprocess.run([exe, "--server", srv.http_addr] + list(args),
                         capture_output=True, text=True, timeout=30)
    return out.returncode, out.stdout, out.stderr


def test_ctl_removes_a_dead_node_and_its_shards_start_empty(binary):
    with running_cluster(binary, c_seed="a") as cl:
        c = cl.nodes["a"].tcp()
        c.send_lines([incr("r%d" % i, "k%d" % (i % KEYS))
                      for i in range(600)])
        c.wait_ack(600)
        owners = cl.view("a")["placement"]
        on_c = [k for k in ("k%d" % i for i in range(KEYS))
                if owners[str(shard_of(cl, k))] == "c"]
        assert on_c, owners
        # A live member cannot be removed, only asked to leave.
        code, out, err = ctl(binary, cl.nodes["a"], "cluster", "remove",
                             "c")
        assert code == 1 and "use 'cluster leave'" in err, (code, out, err)
        cl.nodes["c"].kill()
        del cl.nodes["c"]
        wait_until(lambda: any(m["state"] == "unreachable"
                               for m in cl.view("b")["members"]),
                   20, what="c unreachable")
        code, out, err = ctl(binary, cl.nodes["b"], "cluster", "remove",
                             "c")
        assert code == 0 and "removed" in out, (code, out, err)
        cl.wait_settled(["a", "b"])
        assert "removed member c" in cl.nodes["b"].stderr_text()
        # c's keys are gone; the rest are intact; new events are taken.
        got = counters(cl.nodes["a"], ["k%d" % i for i in range(KEYS)])
        for k, n in got.items():
            assert n == (0 if k in on_c else 10), (k, n)
        c = cl.nodes["b"].tcp()
        c.send_lines([incr("s-" + k, k) for k in on_c])
        c.wait_ack(len(on_c))
        assert not c.errors, c.errors[:3]
        assert counters(cl.nodes["a"], on_c) == {k: 1 for k in on_c}
        code, out, err = ctl(binary, cl.nodes["a"], "cluster")
        assert code == 0 and "c" not in [
            line.split()[0] for line in out.splitlines()[1:] if line.split()
        ], out


def test_a_shard_count_mismatch_is_refused_on_both_sides(binary):
    with running_cluster(binary, names=("a",)) as cl:
        port = free_port()
        code, out, err, started = harness.run_to_exit(
            binary,
            ["--ingest.listen=127.0.0.1:0", "--http.listen=127.0.0.1:0",
             "--storage.mode=memory", "--engine.shards=8",
             "--cluster.port=%d" % port, "--cluster.node-name=x",
             "--cluster.seeds=127.0.0.1:%d" % cl.ports["a"]],
            timeout=30)
        assert code == 2, (code, err)
        assert "refused this node" in err and "engine.shards=8" in err, err
        wait_until(lambda: "refused node 'x'" in
                   cl.nodes["a"].stderr_text(), 10, what="a's log line")
        assert [m["node"] for m in cl.view("a")["members"]] == ["a"]
        # The only member cannot leave: nobody could take its shards.
        st, _, body = cl.nodes["a"].http("POST", "/v1/cluster/leave?node=a")
        assert st == 500 and "last member" in body["detail"], (st, body)
        assert cl.nodes["a"].alive()


def make_ca(d, name):
    """A CA and one certificate it signed, with the openssl command line."""
    import subprocess
    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True,
                       capture_output=True, timeout=60)
    ca_key, ca = os.path.join(d, name + "-ca.key"), os.path.join(d, name + "-ca.pem")
    key, csr, cert = (os.path.join(d, name + ext)
                      for ext in (".key", ".csr", ".pem"))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    run("req", "-x509", *ec, "-nodes", "-keyout", ca_key, "-out", ca,
        "-days", "2", "-subj", "/CN=%s test CA" % name)
    run("req", *ec, "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/CN=%s node" % name)
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
        "-CAcreateserial", "-out", cert, "-days", "2")
    return ca, cert, key


def tls_args(ca, cert, key):
    return ["--cluster.tls-certificate=" + cert, "--cluster.tls-key=" + key,
            "--cluster.tls-ca-file=" + ca]


def test_two_nodes_over_tls_and_a_wrong_certificate_is_refused(binary):
    with tempfile.TemporaryDirectory() as root:
        good = make_ca(root, "good")
        bad = make_ca(root, "bad")
        cl = Cluster(root)
        cl.binary = binary
        try:
            cl.start("a", extra=tls_args(*good))
            cl.start("b", seeds=["a"], extra=tls_args(*good))
            cl.wait_settled(["a", "b"])
            assert "cluster.tls=encrypted+verified" in \
                cl.nodes["a"].stderr_text()
            model = {"k%d" % i: 0 for i in range(KEYS)}
            c = cl.nodes["b"].tcp()
            c.send_lines([incr("t%d" % i, "k%d" % (i % KEYS))
                          for i in range(1200)])
            c.wait_ack(1200)
            assert not c.errors, c.errors[:3]
            for i in range(1200):
                model["k%d" % (i % KEYS)] += 1
            check_counters(cl, ["a", "b"], model)
            # A node whose certificate another CA signed never gets in.
            x = cl.start("x", seeds=["a"], extra=tls_args(*bad))
            wait_until(lambda: "cannot connect to" in x.stderr_text(), 20,
                       what="x's refusal line")
            time.sleep(1)
            assert [m["node"] for m in cl.view("x")["members"]] == ["x"]
            assert sorted(m["node"] for m in cl.view("a")["members"]) \
                == ["a", "b"]
            # Nor does a node without TLS.
            y = cl.start("y", seeds=["a"])
            wait_until(lambda: "cannot connect to" in y.stderr_text(), 20,
                       what="y's refusal line")
            assert sorted(m["node"] for m in cl.view("a")["members"]) \
                == ["a", "b"]
        finally:
            cl.stop_all()


if __name__ == "__main__":
    harness.run_tests(globals())
