"""Shared helpers for eventide's black-box integration tests.

Standard library only. Everything here is written from docs/DESIGN.md (the
contract), not from the server's code.

* start_server(binary, extra_args) launches the real binary with both
  listeners on port 0 and in-memory storage, waits (20 s at most) for its
  start-up line ``listening ingest=HOST:PORT http=HOST:PORT`` and returns a
  Server.  Use it as a context manager: leaving the block stops the server
  with SIGTERM and (when the block itself did not fail) requires exit code 0.
* Server.http(...) does one HTTP request; Server.tcp() opens an ingest
  connection (TcpClient) whose replies are read by a background thread.
* run_tests(globals()) is the tiny runner every test file ends with.

No server outlives the test process: every server is registered, killed in
the runner's per-test cleanup, at exit, on SIGTERM/SIGINT, and (on Linux)
through PR_SET_PDEATHSIG when the test process dies hard.
"""

import argparse
import atexit
import http.client
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
DEFAULT_TEST_TIMEOUT = 300

LISTEN_RE = re.compile(
    r"listening ingest=([^\s\"',}]+)\s+http=([^\s\"',}]+)")

_live_servers = []          # every Server not yet reaped
_servers_this_test = []     # servers started by the current test (for logs)
_lock = threading.Lock()


# --------------------------------------------------------------------------
# process management

try:  # loaded once here, not in the forked child (no dlopen after fork)
    import ctypes  # stdlib; an optional nicety, ignored where unavailable
    _libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
    _prctl = _libc.prctl if _libc is not None else None
except Exception:
    _prctl = None


def _pdeathsig():
    """preexec_fn: ask Linux to SIGKILL the server if this process dies."""
    if _prctl is not None:
        try:
            _prctl(1, int(signal.SIGKILL), 0, 0, 0)   # PR_SET_PDEATHSIG
        except Exception:
            pass


def _split_hostport(text):
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::", "*"):
        host = "127.0.0.1"
    return host, int(port)


class _StreamCollector(threading.Thread):
    """Reads one pipe of the server line by line until EOF, so it never fills."""

    def __init__(self, pipe, name, on_line):
        super().__init__(name=name, daemon=True)
        self.pipe = pipe
        self.on_line = on_line
        self.chunks = []
        self.nbytes = 0
        self.lock = threading.Lock()

    def run(self):
        try:
            for raw in iter(self.pipe.readline, b""):
                with self.lock:
                    self.chunks.append(raw)
                    self.nbytes += len(raw)
                try:
                    self.on_line(raw.decode("utf-8", "replace"))
                except Exception:
                    pass
        except (OSError, ValueError):
            pass

    def text(self):
        with self.lock:
            return b"".join(self.chunks).decode("utf-8", "replace")

    def size(self):
        with self.lock:
            return self.nbytes


class ServerError(AssertionError):
    pass


class Server:
    """A running eventide process (see start_server)."""

    def __init__(self, binary, args, cwd=None, env=None):
        self.binary = binary
        self.args = list(args)
        self._tmpdir = None
        if cwd is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="eventide-it-")
            cwd = self._tmpdir.name
        self.cwd = cwd
        self.ingest_host = self.ingest_port = None
        self.http_host = self.http_port = None
        self.ingest_addr = self.http_addr = None
        self.returncode = None
        self._cond = threading.Condition()
        self._clients = []
        self.proc = subprocess.Popen(
            [binary] + self.args, cwd=cwd, env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, preexec_fn=_pdeathsig)
        with _lock:
            _live_servers.append(self)
            _servers_this_test.append(self)
        self._err = _StreamCollector(self.proc.stderr, "stderr", self._on_line)
        self._out = _StreamCollector(self.proc.stdout, "stdout", self._on_line)
        self._err.start()
        self._out.start()

    # -- start-up ---------------------------------------------------------
    def _on_line(self, line):
        m = LISTEN_RE.search(line)
        if m:
            with self._cond:
                if self.ingest_addr is None:
                    self.ingest_addr, self.http_addr = m.group(1), m.group(2)
                    self.ingest_host, self.ingest_port = _split_hostport(m.group(1))
                    self.http_host, self.http_port = _split_hostport(m.group(2))
                self._cond.notify_all()

    def wait_started(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.ingest_addr is None:
                if self.proc.poll() is not None:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(min(left, 0.1))
        if self.ingest_addr is None:
            code = self.proc.poll()
            self.kill()
            self._join_collectors()
            why = ("exited with code %s" % code if code is not None
                   else "printed no 'listening ingest=... http=...' line "
                        "within %.0f s" % timeout)
            raise ServerError("server %s\ncommand: %s\n%s" % (
                why, " ".join([self.binary] + self.args), self.log_tail()))
        return self

    # -- logs ---------------------------------------------------------------
    def stderr_text(self):
        return self._err.text()

    def stdout_text(self):
        return self._out.text()

    def log_size(self):
        """Bytes the server wrote to stderr and stdout so far."""
        return self._err.size() + self._out.size()

    def stderr_size(self):
        return self._err.size()

    def log_tail(self, n=40):
        out = []
        for name, col in (("stderr", self._err), ("stdout", self._out)):
            lines = col.text().splitlines()
            if lines:
                out.append("---- server %s (last %d of %d lines) ----" % (
                    name, min(n, len(lines)), len(lines)))
                out.extend(lines[-n:])
        return "\n".join(out) if out else "(server wrote nothing)"

    def _join_collectors(self, timeout=5):
        self._err.join(timeout)
        self._out.join(timeout)

    # -- life cycle ---------------------------------------------------------
    def alive(self):
        return self.proc.poll() is None

    def assert_alive(self):
        code = self.proc.poll()
        if code is not None:
            raise ServerError("server died unexpectedly with exit code %s\n%s"
                              % (code, self.log_tail()))

    def kill(self):
        """SIGKILL without questions (cleanup path)."""
        for c in list(self._clients):
            c.close()
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except OSError:
                pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.returncode = self.proc.poll()
        self._reap()

    def _reap(self):
        with _lock:
            if self in _live_servers:
                _live_servers.remove(self)
        if self._tmpdir is not None and self.proc.poll() is not None:
            try:
                self._tmpdir.cleanup()
            except Exception:
                pass
            self._tmpdir = None

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Send `sig`, wait up to `timeout` s, return the exit code.

        If the server overruns it is SIGKILLed and ServerError is raised.
        If it had already exited before the signal, ServerError is raised
        too (it crashed or quit on its own)."""
        code = self.proc.poll()
        if code is not None:
            self._join_collectors()
            self.returncode = code
            self._reap()
            raise ServerError("server had already exited (code %s) before it "
                              "was told to stop\n%s" % (code, self.log_tail()))
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self._join_collectors()
            raise ServerError("server did not exit within %.0f s after signal %d;"
                              " killed\n%s" % (timeout, sig, self.log_tail()))
        self._join_collectors()
        self.returncode = code
        self._reap()
        return code

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            if self.proc.poll() is None:
                try:
                    self.proc.send_signal(signal.SIGTERM)
                    self.proc.wait(5)
                except Exception:
                    pass
            self.kill()
            return False
        for c in list(self._clients):
            c.close()
        code = self.stop()
        if code != 0:
            raise ServerError("server exited with code %s after SIGTERM "
                              "(expected 0)\n%s" % (code, self.log_tail()))
        return False

    # -- HTTP ---------------------------------------------------------------
    def http_connection(self, timeout=30):
        return http.client.HTTPConnection(self.http_host, self.http_port,
                                          timeout=timeout)

    def http(self, method, path, body=None, headers=None, timeout=30):
        """One request on a fresh connection: (status, headers, body).

        body may be bytes, str, or a dict/list (sent as application/json).
        The returned body is parsed JSON when it parses, else raw bytes;
        headers is a dict with lower-case names."""
        conn = self.http_connection(timeout)
        try:
            return request(conn, method, path, body, headers)
        finally:
            conn.close()

    def get_key(self, key, conn=None):
        path = "/v1/keys/" + quote(key)
        if conn is None:
            return self.http("GET", path)
        return request(conn, "GET", path)

    # -- TCP ----------------------------------------------------------------
    def tcp(self, timeout=10):
        c = TcpClient(self.ingest_host, self.ingest_port, timeout)
        self._clients.append(c)
        return c


def start_server(binary, extra_args=(), cwd=None, timeout=START_TIMEOUT,
                 base_args=True, env=None):
    """Launch eventide on free ports with in-memory storage and wait for it."""
    args = []
    if base_args:
        args = ["--ingest.listen=127.0.0.1:0", "--http.listen=127.0.0.1:0",
                "--storage.mode=memory"]
    args += list(extra_args)
    return Server(binary, args, cwd=cwd, env=env).wait_started(timeout)


def run_to_exit(binary, args, timeout=10.0, cwd=None):
    """Run the binary expecting it to exit by itself within `timeout` s.

    Returns (exit_code, stdout_text, stderr_text, started) where started says
    whether it printed its listening line (i.e. it came up as a server).  A
    process still running at the deadline is killed and code is None."""
    tmp = None
    if cwd is None:
        tmp = tempfile.TemporaryDirectory(prefix="eventide-it-")
        cwd = tmp.name
    try:
        proc = subprocess.Popen([binary] + list(args), cwd=cwd,
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                preexec_fn=_pdeathsig)
        try:
            out, err = proc.communicate(timeout=timeout)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate(timeout=10)
            code = None
        out = out.decode("utf-8", "replace")
        err = err.decode("utf-8", "replace")
        started = bool(LISTEN_RE.search(out) or LISTEN_RE.search(err))
        return code, out, err, started
    finally:
        if tmp is not None:
            tmp.cleanup()


def _kill_all():
    with _lock:
        servers = list(_live_servers)
    for s in servers:
        try:
            s.kill()
        except Exception:
            pass


atexit.register(_kill_all)


def _on_fatal_signal(signum, frame):
    _kill_all()
    sys.stderr.write("test process got signal %d; servers killed\n" % signum)
    os._exit(128 + signum)


# --------------------------------------------------------------------------
# HTTP helpers

def quote(s):
    """Percent-encode everything except unreserved characters (RFC 3986)."""
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        if c.isascii() and (c.isalnum() or c in "-._~"):
            out.append(c)
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def decode_body(raw):
    if not raw:
        return raw
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return raw


def request(conn, method, path, body=None, headers=None):
    """One request on an existing http.client connection."""
    hdrs = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        body = body.encode("utf-8")
    conn.request(method, path, body=body, headers=hdrs)
    resp = conn.getresponse()
    raw = resp.read()
    rh = {k.lower(): v for k, v in resp.getheaders()}
    return resp.status, rh, decode_body(raw)


def assert_json_error(status, body, expect_status=None, code=None, what=""):
    """An error answer: right status, JSON object with a string "error"."""
    if expect_status is not None:
        assert status == expect_status, "%s: status %s, expected %s, body %r" % (
            what, status, expect_status, body)
    assert isinstance(body, dict), "%s: error body is not a JSON object: %r" % (
        what, body)
    assert isinstance(body.get("error"), str), \
        "%s: error body has no string 'error' member: %r" % (what, body)
    if code is not None:
        assert body["error"] == code, "%s: error %r, expected %r" % (
            what, body["error"], code)


def incr_line(eid, key):
    """One NDJSON event adding 1 to field `n` of `key`."""
    return json.dumps({"id": eid, "key": key, "op": "incr", "data": {"n": 1}})


def read_counters(srv, keys):
    """Field `n` of every key (0 when absent), checking that each record's
    `events` equals it (every event was one incr_line)."""
    out = {}
    conn = srv.http_connection()
    try:
        for k in keys:
            st, _, body = request(conn, "GET", "/v1/keys/" + k)
            if st == 404:
                out[k] = 0
                continue
            assert st == 200, (k, st, body)
            out[k] = body["fields"]["n"]
            assert body["events"] == out[k], body
    finally:
        conn.close()
    return out


def wait_until(pred, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (
                timeout, what))
        time.sleep(interval)


# --------------------------------------------------------------------------
# TCP ingest client

class TcpClient:
    """One ingest connection.  A reader thread collects the server's NDJSON
    replies, so a writer never deadlocks against backpressure.

    Observed state (guarded by self.cond):
      replies  – every reply in arrival order: ("ack", n) | ("error", obj)
      errors   – the error objects;  acks – the ack values
      max_ack  – highest ack so far
      protocol_errors – unparsable reply lines, decreasing acks, ...
      closed / close_reason – "eof" or "reset: <exc>" once the server closed
    """

    def __init__(self, host, port, timeout=10):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.cond = threading.Condition()
        self.replies = []
        self.errors = []
        self.acks = []
        self.max_ack = 0
        self.protocol_errors = []
        self.closed = False
        self.close_reason = None
        self.lines_sent = 0       # '\n' bytes fully written
        self.bytes_sent = 0
        self._stop = False
        self._reader = threading.Thread(target=self._read_loop, daemon=True,
                                        name="tcp-reader")
        self._reader.start()

    # -- reading ------------------------------------------------------------
    def _read_loop(self):
        buf = bytearray()
        while not self._stop:
            try:
                r, _, _ = select.select([self.sock], [], [], 0.2)
            except (OSError, ValueError):
                self._mark_closed("reset: socket closed locally")
                return
            if not r:
                continue
            try:
                data = self.sock.recv(1 << 18)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as e:
                self._mark_closed("reset: %r" % (e,))
                return
            if not data:
                if buf:
                    self._handle_lines([bytes(buf)], partial=True)
                self._mark_closed("eof")
                return
            buf += data
            cut = buf.rfind(b"\n")
            if cut >= 0:
                lines = bytes(buf[:cut]).split(b"\n")
                del buf[:cut + 1]
                self._handle_lines(lines)

    def _handle_lines(self, lines, partial=False):
        with self.cond:
            for raw in lines:
                if partial:
                    self.protocol_errors.append(
                        "reply line without trailing newline: %r" % raw[:200])
                line = raw.strip()
                if not line:
                    continue
                try:
                    obj = json.loads(line)
                except ValueError:
                    self.protocol_errors.append("unparsable reply: %r" % line[:200])
                    continue
                if isinstance(obj, dict) and "ack" in obj and "error" not in obj:
                    n = obj["ack"]
                    if not isinstance(n, int) or isinstance(n, bool):
                        self.protocol_errors.append("non-integer ack: %r" % obj)
                        continue
                    if n < self.max_ack:
                        self.protocol_errors.append(
                            "ack went backwards: %d after %d" % (n, self.max_ack))
                    self.max_ack = max(self.max_ack, n)
                    self.acks.append(n)
                    self.replies.append(("ack", n))
                elif isinstance(obj, dict) and "error" in obj:
                    self.errors.append(obj)
                    self.replies.append(("error", obj))
                else:
                    self.protocol_errors.append("unexpected reply: %r" % line[:200])
            self.cond.notify_all()

    def _mark_closed(self, reason):
        with self.cond:
            if not self.closed:
                self.closed = True
                self.close_reason = reason
            self.cond.notify_all()

    # -- writing ------------------------------------------------------------
    def send(self, data, stall_timeout=60.0):
        """Write all of `data`; fail if no byte can be written for
        `stall_timeout` seconds.  Raises OSError when the peer is gone."""
        view = memoryview(data)
        last_progress = time.monotonic()
        while view:
            try:
                n = self.sock.send(view)
            except (BlockingIOError, InterruptedError):
                n = 0
            if n:
                chunk = view[:n]
                self.lines_sent += bytes(chunk).count(b"\n")
                self.bytes_sent += n
                view = view[n:]
                last_progress = time.monotonic()
                continue
            left = stall_timeout - (time.monotonic() - last_progress)
            if left <= 0:
                raise AssertionError(
                    "could not write for %.0f s (server not reading?); "
                    "max_ack=%d lines_sent=%d" % (stall_timeout, self.max_ack,
                                                  self.lines_sent))
            select.select([], [self.sock], [self.sock], min(left, 0.5))

    def send_lines(self, lines, ending=b"\n", **kw):
        enc = [l.encode("utf-8") if isinstance(l, str) else l for l in lines]
        data = ending.join(enc) + ending if enc else b""
        self.send(data, **kw)

    def shutdown_write(self):
        self.sock.shutdown(socket.SHUT_WR)

    # -- waiting ------------------------------------------------------------
    def wait_ack(self, n, timeout=30.0):
        """Wait until max_ack >= n; AssertionError on timeout or close."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.max_ack < n:
                if self.closed:
                    raise AssertionError(
                        "connection closed (%s) with ack %d, waiting for %d; "
                        "%d error replies" % (self.close_reason, self.max_ack,
                                              n, len(self.errors)))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        "timed out after %.0f s waiting for ack %d; got %d "
                        "(%d error replies, lines sent %d)" % (
                            timeout, n, self.max_ack, len(self.errors),
                            self.lines_sent))
                self.cond.wait(min(left, 0.5))
        return self.max_ack

    def wait_closed(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        "server did not close the connection within %.0f s "
                        "(ack %d)" % (timeout, self.max_ack))
                self.cond.wait(min(left, 0.5))
        return self.close_reason

    def finish(self, expected_lines, timeout=60.0):
        """Half-close, wait for the final ack == expected_lines and EOF."""
        self.shutdown_write()
        self.wait_ack(expected_lines, timeout)
        reason = self.wait_closed(timeout)
        assert reason == "eof", "connection ended with %s, expected a clean " \
                                "close (EOF)" % reason
        with self.cond:
            assert self.max_ack == expected_lines, \
                "final ack %d, expected %d" % (self.max_ack, expected_lines)
            assert not self.protocol_errors, \
                "protocol errors: %s" % self.protocol_errors[:5]

    def snapshot(self):
        with self.cond:
            return (list(self.replies), list(self.errors), self.max_ack,
                    list(self.protocol_errors))

    def close(self):
        self._stop = True
        try:
            self.sock.close()
        except OSError:
            pass

    def abort(self):
        """Close with RST (SO_LINGER 0)."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        self.close()


def check_error_order(replies):
    """Every error for seq s must arrive before any ack >= s (an ack covers
    lines 'applied, duplicate, or reported above')."""
    problems = []
    max_ack = 0
    for kind, v in replies:
        if kind == "ack":
            max_ack = max(max_ack, v)
        else:
            seq = v.get("seq")
            if isinstance(seq, int) and seq <= max_ack:
                problems.append("error for seq %d arrived after ack %d" % (
                    seq, max_ack))
    return problems


# --------------------------------------------------------------------------
# runner

def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True, help="path to the eventide binary")
    p.add_argument("-k", dest="filter", default=None,
                   help="run only tests whose name contains this")
    p.add_argument("--test-timeout", type=int, default=DEFAULT_TEST_TIMEOUT,
                   help="seconds one test may take (default %(default)s)")
    return p.parse_args()


class _TestTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise _TestTimeout("test exceeded its time limit")


def run_tests(namespace):
    """Run every function named test_* in `namespace` (definition order),
    each called with the binary path.  Prints one line per test and ends
    with exactly 'N passed, M failed'."""
    args = parse_args()
    binary = os.path.abspath(args.binary)
    signal.signal(signal.SIGTERM, _on_fatal_signal)
    signal.signal(signal.SIGINT, _on_fatal_signal)
    signal.signal(signal.SIGALRM, _alarm)
    tests = [(n, f) for n, f in namespace.items()
             if n.startswith("test_") and callable(f)]
    if args.filter:
        tests = [(n, f) for n, f in tests if args.filter in n]
    passed = failed = 0
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        print("binary %s does not exist or is not executable" % binary)
        print("0 passed, %d failed" % len(tests))
        sys.stdout.flush()
        sys.exit(1)
    for name, fn in tests:
        del _servers_this_test[:]
        t0 = time.monotonic()
        print("%s ..." % name, flush=True)
        signal.alarm(args.test_timeout)
        try:
            fn(binary)
            signal.alarm(0)
            print("%s ok (%.1f s)" % (name, time.monotonic() - t0), flush=True)
            passed += 1
        except BaseException as e:  # noqa: B036 - report everything
            signal.alarm(0)
            if isinstance(e, KeyboardInterrupt):
                _kill_all()
                raise
            print("%s FAIL (%.1f s)" % (name, time.monotonic() - t0), flush=True)
            traceback.print_exc(file=sys.stdout)
            for s in list(_servers_this_test):
                if not isinstance(e, ServerError):
                    print(s.log_tail(25))
            failed += 1
        finally:
            signal.alarm(0)
            _kill_all()
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed), flush=True)
    sys.exit(0 if failed == 0 else 1)
