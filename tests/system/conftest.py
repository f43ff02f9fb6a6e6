"""Shared fixtures of the system tests, modelled on BIND's and Knot's: every
test starts its own daemons on free ports from a templated config, and the
session fails if a process or a listening socket it started is left behind.
"""
import os
import pathlib
import re
import signal
import socket
import subprocess
import time

import pytest
import yaml

BUILD = pathlib.Path(os.environ.get("PEERCDN_BUILD_DIR", "build")).resolve()
SOURCE = pathlib.Path(os.environ.get("PEERCDN_SOURCE_DIR", ".")).resolve()
PEERCDND = BUILD / "src" / "node" / "peercdnd"
PEERCDNCTL = BUILD / "src" / "ctl" / "peercdnctl"

_started = []  # (pid, ports) of every daemon any test started
_outcomes = {}  # nodeid -> "passed" | "failed" | "skipped", one per test that ran
_deselected = []  # tests collected and then deselected (-k, -m)


@pytest.fixture(scope="session")
def source_dir():
    return SOURCE


@pytest.fixture(scope="session")
def ctl():
    """Runs peercdnctl; returns the CompletedProcess (bounded by a timeout)."""
    assert PEERCDNCTL.exists(), f"{PEERCDNCTL} not built"

    def run(*args, check=None):
        proc = subprocess.run([str(PEERCDNCTL), *map(str, args)], capture_output=True,
                              text=True, timeout=60)
        if check is not None:
            assert proc.returncode == check, (proc.returncode, proc.stdout, proc.stderr)
        return proc

    return run


_GIVEN_PORTS = set()


def free_port(host="127.0.0.1"):
    """A port free for both UDP and TCP on host, an IPv4 or IPv6 address
    (bounded number of tries), and never one given before in this run: a
    config names its ports before any daemon binds them, and the kernel
    hands a port it just freed out again, so two roles of one test could
    otherwise get the same port (a metrics scrape once reached an HTTP
    redirector that way)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(100):
        with socket.socket(family, socket.SOCK_STREAM) as tcp:
            tcp.bind((host, 0))
            port = tcp.getsockname()[1]
            if port in _GIVEN_PORTS:
                continue
            try:
                with socket.socket(family, socket.SOCK_DGRAM) as udp:
                    udp.bind((host, port))
            except OSError:
                continue
            _GIVEN_PORTS.add(port)
            return port
    raise RuntimeError("no free port")


def default_config():
    """The embedded default federation as a dict, to be modified per test.
    The redirector roles are turned off: their ports in the default config
    are fixed, and a test that wants them gives them free ports."""
    cfg = yaml.safe_load((SOURCE / "etc" / "peercdn.yaml").read_text())
    for role in ("http", "rtsp", "cdsr"):
        cfg[role] = {"enabled": False}
    return cfg


class Daemon:
    """One peercdnd process started from a config dict."""

    def __init__(self, workdir, config, name="peercdnd", node=None):
        self.workdir = pathlib.Path(workdir)
        self.config = config
        self.name = name
        self.node = node
        self.proc = None
        self.config_path = self.workdir / f"{name}.yaml"
        self.log_path = self.workdir / f"{name}.log"

    @property
    def dns_port(self):
        return self.config["dns"]["port"]

    @property
    def metrics_port(self):
        return self.config.get("control", {}).get("metrics_port")

    def write_config(self, text=None):
        self.config_path.write_text(text if text is not None else yaml.safe_dump(self.config))

    def command(self):
        """The daemon's argv; a subclass may wrap it (a namespace)."""
        args = [str(PEERCDND), "-c", str(self.config_path)]
        if self.node:
            args += ["-n", self.node]
        return args

    def start(self, timeout=15):
        self.write_config()
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT)
        _started.append((self.proc.pid, self.ports()))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "msg=started" in self.log():
                return self
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited {self.proc.returncode}:\n{self.log()}")
            time.sleep(0.05)
        raise AssertionError(f"{self.name} did not start:\n{self.log()}")

    def ports(self):
        ports = [self.config.get("dns", {}).get("port")]
        for role in ("http", "rtsp", "cdsr", "edge", "icp", "directory"):
            if self.config.get(role, {}).get("enabled"):
                ports.append(self.config[role].get("port"))
        if self.metrics_port:
            ports.append(self.metrics_port)
        return [p for p in ports if p]

    def log(self):
        return self.log_path.read_text() if self.log_path.exists() else ""

    def wait_log(self, pattern, count=1, timeout=10):
        """Waits until pattern occurs count times in the log (bounded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log().count(pattern) >= count:
                return
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} x{count} in log:\n{self.log()}")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def metrics_text(self, host=None):
        """The /metrics page; a subclass may fetch it another way."""
        import urllib.request
        host = host or self.metrics_host()
        with urllib.request.urlopen(f"http://{host}:{self.metrics_port}/metrics",
                                    timeout=5) as resp:
            return resp.read().decode()

    def metrics(self, host=None):
        """Prometheus metrics as {name{labels}: value}."""
        body = self.metrics_text(host)
        values = {}
        for line in body.splitlines():
            if line and not line.startswith("#"):
                key, value = line.rsplit(" ", 1)
                values[key] = float(value)
        return values

    def metrics_host(self):
        listen = self.config.get("control", {}).get("metrics_listen")
        return listen or "127.0.0.1"

    def stop(self, timeout=10):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=timeout)
            raise AssertionError(f"{self.name} ignored SIGTERM:\n{self.log()}")
        finally:
            self._log.close()
        return self.proc.returncode


@pytest.fixture
def daemons(tmp_path):
    """Factory of daemons; stops each (by PID) at the end of the test and
    fails the test if one did not exit cleanly."""
    started = []

    def start(config, name="peercdnd", node=None):
        d = Daemon(tmp_path, config, name=name, node=node)
        started.append(d)
        return d.start()

    yield start
    failures = []
    for d in started:
        code = d.stop()
        if code not in (0, None):
            failures.append(f"{d.name} exited {code}:\n{d.log()[-3000:]}")
        # ASan/UBSan reports end up in the log: a clean exit is not enough.
        if "ERROR: AddressSanitizer" in d.log() or "runtime error:" in d.log():
            failures.append(f"{d.name} sanitizer report:\n{d.log()[-5000:]}")
    assert not failures, "\n".join(failures)


def _listening(port):
    out = subprocess.run(["ss", "-Hlnup", f"sport = :{port}"], capture_output=True,
                         text=True, timeout=10).stdout
    out += subprocess.run(["ss", "-Hlntp", f"sport = :{port}"], capture_output=True,
                          text=True, timeout=10).stdout
    return out.strip()


def pytest_deselected(items):
    _deselected.extend(items)


def pytest_runtest_logreport(report):
    """Records each test's outcome: a failed or skipped setup, the call, or
    a failed teardown (which fails a test that passed)."""
    if report.when == "call" or report.outcome != "passed":
        if _outcomes.get(report.nodeid) != "failed":
            _outcomes[report.nodeid] = report.outcome


def _ours(pid, started):
    """Whether pid is a daemon this session started or a descendant of this
    process: on a shared machine another session's daemon may listen on a
    port number one of ours used and gave back."""
    me = os.getpid()
    for _ in range(64):
        if pid in started or pid == me:
            return True
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if pid <= 1:
            return False
    return False


def _our_listener(port, started):
    """ss's lines for port, if a process of ours holds it (all of them when
    ss shows no owners, as for an unprivileged user)."""
    out = _listening(port)
    owners = [int(p) for p in re.findall(r"pid=(\d+)", out)]
    if owners and not any(_ours(pid, started) for pid in owners):
        return ""
    return out


def pytest_sessionfinish(session, exitstatus):
    """Fails the run if fewer tests ran than were collected (deselection,
    -x, an interruption), and if any daemon or its sockets outlived the
    tests. Prints "pytest: collected N, ran N: ..." for scripts/test.sh
    (tools/check-tests-ran.py), which checks it."""
    collected = session.testscollected + len(_deselected)
    counts = {k: list(_outcomes.values()).count(k) for k in ("passed", "failed", "skipped")}
    line = (f"pytest: collected {collected}, ran {len(_outcomes)}: {counts['passed']} passed,"
            f" {counts['failed']} failed, {counts['skipped']} skipped")
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        reporter.write_line(line)
    else:
        print("\n" + line)
    if len(_outcomes) < collected:
        print(f"\nFEWER TESTS RAN ({len(_outcomes)}) THAN WERE COLLECTED ({collected})")
        session.exitstatus = 1
    leftovers = []
    for pid, ports in _started:
        try:
            os.kill(pid, 0)
            leftovers.append(f"process {pid} still running")
        except ProcessLookupError:
            pass
        for port in ports:
            held = _our_listener(port, {p for p, _ in _started})
            if held:
                leftovers.append(f"port {port} still open: {held}")
    if leftovers:
        print("\nLEFTOVERS:\n" + "\n".join(leftovers))
        session.exitstatus = 1
