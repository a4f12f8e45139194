#!/usr/bin/env python3
"""Packaging (issue 6): `cmake --install` and the .deb built by CPack.

The build dir is the directory of --binary. The tests install it into
temporary roots (DESTDIR, never the real /), check every file, the systemd
unit and the package metadata, and finally run the server unpacked from
the .deb: one event in over TCP, read back over HTTP, from a temp data dir.

The .deb test is skipped in a sanitizer build: a package of a sanitized
binary never ships (dpkg-shlibdeps would make it depend on libasan), and
the packaging rules do not depend on the build type, so the release run
covers them. The `cmake --install` tests run in both builds.

Run: python3 tests/integration/test_package.py --binary build/eventide
"""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import start_server  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.normpath(os.path.join(HERE, "..", ".."))
CONF = "etc/eventide/eventide.conf"
UNIT = "usr/lib/systemd/system/eventide.service"
PROGRAMS = ["eventide", "eventide-ctl", "eventide-bench"]
# What `cmake --install --prefix /usr` puts under DESTDIR, and the .deb too.
EXPECTED = sorted(["usr/bin/" + p for p in PROGRAMS] + [CONF, UNIT])
# Directives the unit must carry, with the value where one is required.
UNIT_REQUIRED = {
    "User": "eventide", "Group": "eventide", "Restart": "on-failure",
    "NoNewPrivileges": "yes", "ProtectSystem": "strict",
    "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
    "ProtectControlGroups": "yes", "RestrictNamespaces": "yes",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "LockPersonality": "yes", "MemoryDenyWriteExecute": "yes",
    "SystemCallArchitectures": "native", "CapabilityBoundingSet": "",
    "ReadWritePaths": "/var/lib/eventide", "LimitNOFILE": None,
    "TimeoutStopSec": None, "ExecStart": None,
}
STEP_TIMEOUT = 120


# --------------------------------------------------------------------------
# helpers

def build_dir(binary):
    d = os.path.dirname(os.path.abspath(binary))
    assert os.path.isfile(os.path.join(d, "CMakeCache.txt")), \
        "%s is not a CMake build dir (no CMakeCache.txt next to --binary)" % d
    return d


def cache(build):
    """CMakeCache.txt as {name: value}."""
    out = {}
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        for line in f:
            m = re.match(r"([^#/][^:=]*):[A-Z]+=(.*)$", line.rstrip("\n"))
            if m:
                out[m.group(1)] = m.group(2)
    return out


def sanitized(build):
    value = cache(build).get("EVENTIDE_SANITIZE", "")
    if value:
        print("  (skipped: sanitizer build, EVENTIDE_SANITIZE=%s; a sanitized "
              "binary is never packaged, the release build checks the .deb)"
              % value)
    return bool(value)


def tool(build, cache_key, name):
    path = cache(build).get(cache_key) or shutil.which(name)
    return path if path and os.access(path, os.X_OK) else None


def run(cmd, env=None, timeout=STEP_TIMEOUT, check=True):
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout)
    out = p.stdout.decode("utf-8", "replace")
    if check:
        assert p.returncode == 0, "%s exited %d:\n%s" % (
            " ".join(cmd), p.returncode, out[-4000:])
    return p.returncode, out


def tree(root):
    """Every non-directory under root, relative, sorted."""
    out = []
    for d, _, files in os.walk(root):
        out += [os.path.relpath(os.path.join(d, f), root) for f in files]
    return sorted(out)


def install(build, destdir, prefix="/usr"):
    cmake = tool(build, "CMAKE_COMMAND", "cmake")
    env = dict(os.environ, DESTDIR=destdir) if destdir else None
    _, out = run([cmake, "--install", build, "--prefix", prefix], env=env)
    return out


def check_programs(root):
    for p in PROGRAMS:
        path = os.path.join(root, "usr/bin", p)
        mode = os.stat(path).st_mode
        assert mode & stat.S_IXOTH and not mode & stat.S_IWOTH, \
            "%s has mode %o" % (path, mode)
        code, out = run([path, "--help"], timeout=30, check=False)
        assert code == 0, "%s --help exited %d:\n%s" % (path, code, out)
    _, out = run([os.path.join(root, "usr/bin/eventide"), "--help"])
    assert "--storage.data-dir" in out, "eventide --help:\n" + out
    with open(os.path.join(root, CONF)) as f, \
            open(os.path.join(SOURCE_DIR, "config", "eventide.conf")) as g:
        assert f.read() == g.read(), "installed config differs from the source"


def read_unit(path):
    """The [Service] section as {key: [values]} (keys may repeat)."""
    sections, current = {}, None
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                current = sections.setdefault(line[1:-1], {})
                continue
            key, sep, value = line.partition("=")
            assert sep and current is not None, "%s: bad line %r" % (path, raw)
            current.setdefault(key.strip(), []).append(value.strip())
    return sections


def seconds(text):
    m = re.fullmatch(r"(\d+)\s*(s|min)?", text)
    assert m, "unsupported time span %r" % text
    return int(m.group(1)) * (60 if m.group(2) == "min" else 1)


def check_unit(root):
    unit = read_unit(os.path.join(root, UNIT))
    assert set(unit) == {"Unit", "Service", "Install"}, sorted(unit)
    svc = unit["Service"]
    for key, want in UNIT_REQUIRED.items():
        assert key in svc, "the unit lacks %s=" % key
        if want is not None:
            assert svc[key][-1] == want, "%s=%r, expected %r" % (
                key, svc[key][-1], want)
    assert seconds(svc["TimeoutStopSec"][-1]) > 2, \
        "TimeoutStopSec must exceed the server's 2 s drain"
    assert int(svc["LimitNOFILE"][-1]) >= 4096, svc["LimitNOFILE"]
    assert unit["Install"].get("WantedBy") == ["multi-user.target"]
    argv = svc["ExecStart"][-1].split()
    assert argv[0] == "/usr/bin/eventide", argv
    assert argv[1:3] == ["--config", "/etc/eventide/eventide.conf"], argv
    assert "--storage.data-dir=/var/lib/eventide" in argv, argv
    for path in (argv[0], argv[2]):   # what ExecStart names is installed
        assert os.path.isfile(os.path.join(root, path.lstrip("/"))), path
    verify_unit(root)


def verify_unit(root):
    """systemd-analyze verify, where installed. It needs no running systemd,
    but it checks that ExecStart's binary exists on this machine, so it
    verifies a copy whose ExecStart points into the temp root. It exits 0
    even on unknown keys or bad values, so any line about the unit fails."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        print("  (systemd-analyze not installed: unit verification skipped)")
        return
    with open(os.path.join(root, UNIT)) as f:
        text = f.read()
    binary = os.path.join(root, "usr/bin/eventide")
    text = text.replace("ExecStart=/usr/bin/eventide", "ExecStart=" + binary)
    with tempfile.TemporaryDirectory(prefix="eventide-unit-") as d:
        unit = os.path.join(d, "eventide.service")
        with open(unit, "w") as f:
            f.write(text)
        code, out = run([analyze, "verify", "--man=no", unit], timeout=60,
                        check=False)
    lines = [l for l in out.splitlines() if l.strip()]
    about_unit = [l for l in lines if "eventide" in l]
    assert not about_unit, "systemd-analyze verify:\n" + out
    if code != 0 or lines:
        print("  (systemd-analyze verify cannot run here, exit %d: %s)"
              % (code, " | ".join(lines[-3:])))


def build_deb(build, outdir):
    cpack = tool(build, "CMAKE_CPACK_COMMAND", "cpack")
    run([cpack, "-G", "DEB", "--config",
         os.path.join(build, "CPackConfig.cmake"), "-B", outdir])
    debs = [f for f in os.listdir(outdir) if f.endswith(".deb")]
    assert len(debs) == 1, "cpack made %r" % debs
    return os.path.join(outdir, debs[0])


def deb_fields(deb):
    _, out = run(["dpkg-deb", "-f", deb])
    fields, last = {}, None
    for line in out.splitlines():
        if line.startswith(" ") and last:
            fields[last] += "\n" + line
            continue
        key, _, value = line.partition(":")
        last = key
        fields[key] = value.strip()
    return fields


def check_fields(build, deb):
    fields = deb_fields(deb)
    version = cache(build).get("CMAKE_PROJECT_VERSION")
    _, arch = run(["dpkg", "--print-architecture"])
    assert fields.get("Package") == "eventide", fields
    assert fields.get("Version") == version, (fields.get("Version"), version)
    assert fields.get("Architecture") == arch.strip(), fields
    assert fields.get("Section") == "net", fields
    assert "@" in fields.get("Maintainer", ""), fields
    assert fields.get("Description", "").startswith("actor-model"), fields
    depends = fields.get("Depends", "")
    for lib in ("libcaf-core0.17", "libboost-json1.81.0",
                "libspdlog1", "libfmt9", "libjemalloc2", "libedit2",
                "libc6", "adduser"):
        assert lib in depends, "Depends lacks %s: %s" % (lib, depends)


def check_control(deb, tmp):
    control = os.path.join(tmp, "control")
    run(["dpkg-deb", "-e", deb, control])
    with open(os.path.join(control, "conffiles")) as f:
        assert f.read().split() == ["/" + CONF], "conffiles"
    for script in ("postinst", "prerm", "postrm"):
        path = os.path.join(control, script)
        assert os.stat(path).st_mode & stat.S_IXUSR, script + " not executable"
        run(["sh", "-n", path])
    with open(os.path.join(control, "postinst")) as f:
        text = f.read()
    assert "adduser --system" in text and "/run/systemd/system" in text, \
        "postinst must create the user and start nothing without systemd"
    assert "systemctl start" not in text, "postinst must not start the service"
    run_postinst_with_stubs(os.path.join(control, "postinst"), tmp)


def run_postinst_with_stubs(postinst, tmp):
    """`postinst configure` on a first install with every command it runs
    replaced by a stub that logs its arguments: it creates the group, the
    user and the data dir, and touches systemd only where systemd runs."""
    stubs = os.path.join(tmp, "stubs")
    log = os.path.join(tmp, "stubs.log")
    os.mkdir(stubs)
    for name in ("getent", "addgroup", "adduser", "install", "systemctl",
                 "useradd", "groupadd", "chown", "mkdir"):
        path = os.path.join(stubs, name)
        with open(path, "w") as f:
            # getent finds nothing, so the user must be created
            f.write('#!/bin/sh\necho "%s $*" >> "%s"\n%s\n' % (
                name, log, "exit 2" if name == "getent" else "exit 0"))
        os.chmod(path, 0o755)
    env = {"PATH": stubs + ":/usr/bin:/bin"}
    if os.path.isdir("/var/lib/eventide"):
        print("  (/var/lib/eventide exists here: data dir creation unchecked)")
    run(["sh", postinst, "configure", ""], env=env)
    with open(log) as f:
        calls = f.read().splitlines()
    assert any(c.startswith("addgroup --system") and c.endswith(" eventide")
               for c in calls), calls
    assert any(c.startswith("adduser --system") and "--ingroup eventide" in c
               and c.endswith(" eventide") for c in calls), calls
    if not os.path.isdir("/var/lib/eventide"):
        assert any(c.startswith("install -d -o eventide -g eventide") and
                   c.endswith(" /var/lib/eventide") for c in calls), calls
    systemctl = [c for c in calls if c.startswith("systemctl")]
    assert not any(" start" in c or "restart" in c for c in systemctl), calls
    if not os.path.isdir("/run/systemd/system"):
        assert not systemctl, "systemctl called without systemd: %s" % calls


# --------------------------------------------------------------------------
# tests

def test_cmake_install_puts_every_file_in_place(binary):
    build = build_dir(binary)
    with tempfile.TemporaryDirectory(prefix="eventide-pkg-") as tmp:
        root = os.path.join(tmp, "root")
        install(build, root)
        got = tree(root)
        assert got == EXPECTED, "installed %s, expected %s" % (got, EXPECTED)
        check_programs(root)
        check_unit(root)


def test_cmake_install_other_prefix_keeps_an_edited_config(binary):
    build = build_dir(binary)
    with tempfile.TemporaryDirectory(prefix="eventide-pkg-") as tmp:
        prefix = os.path.join(tmp, "local")
        install(build, None, prefix)
        conf = os.path.join(prefix, "etc/eventide/eventide.conf")
        assert os.path.isfile(conf), tree(prefix)
        with open(conf, "a") as f:
            f.write("\n# edited by the operator\n")
        install(build, None, prefix)
        with open(conf) as f:
            assert f.read().endswith("# edited by the operator\n"), \
                "a re-install overwrote the edited config"
        assert os.path.isfile(conf + ".default"), tree(prefix)


def test_deb_installs_into_a_temp_root_and_serves(binary):
    build = build_dir(binary)
    if sanitized(build):
        return
    if tool(build, "CMAKE_CPACK_COMMAND", "cpack") is None \
            or shutil.which("dpkg-deb") is None:
        print("  (skipped: cpack or dpkg-deb is not installed)")
        return
    with tempfile.TemporaryDirectory(prefix="eventide-pkg-") as tmp:
        deb = build_deb(build, os.path.join(tmp, "out"))
        check_fields(build, deb)
        check_control(deb, tmp)
        root = os.path.join(tmp, "root")
        run(["dpkg-deb", "-x", deb, root])
        got = tree(root)
        assert got == EXPECTED, "the .deb holds %s, expected %s" % (
            got, EXPECTED)
        check_programs(root)
        check_unit(root)
        serve_one_event(root, os.path.join(tmp, "data"))


def serve_one_event(root, data_dir):
    """The unpacked server with the packaged config, ephemeral ports and a
    temp data dir: one event in over TCP, read back over HTTP."""
    args = ["--config", os.path.join(root, CONF),
            "--ingest.listen=127.0.0.1:0", "--http.listen=127.0.0.1:0",
            "--storage.data-dir=" + data_dir, "--engine.shards=4"]
    with start_server(os.path.join(root, "usr/bin/eventide"), args,
                      base_args=False) as srv:
        c = srv.tcp()
        c.send_lines([json.dumps({"id": "p-1", "key": "pkg:1", "op": "incr",
                                  "data": {"n": 5}})])
        c.finish(1, timeout=30)
        st, _, body = srv.get_key("pkg:1")
        assert st == 200 and body["fields"] == {"n": 5}, (st, body)
    assert os.path.isfile(os.path.join(data_dir, "META")), tree(data_dir)


if __name__ == "__main__":
    harness.run_tests(globals())
