"""Fixtures for the real-client scenarios: a Petrel of its own (the protocol
tests' Server class), seeded through IMAP with tests/clients/seed.py, and the
recording of each scenario's outcome for the compatibility matrix.

Every test module describes its client in a module-level CLIENT dict:
    name        the program or library as users know it
    package     the Debian or npm package it comes from ("npm:NAME" for npm)
    scenario    one line: what the scenario does and checks
    workarounds what had to be configured on either side to make it work
"""

import fcntl
import importlib.util
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

_spec = importlib.util.spec_from_file_location(
    "petrel_proto_conftest", os.path.join(HERE, "..", "proto", "conftest.py"))
_proto = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_proto)
Server = _proto.Server

import clientlib  # noqa: E402
import seed as seedmod  # noqa: E402


class Petrel:
    """A started, seeded Petrel. Clients reach it as `localhost` on
    imap_port (STARTTLS) or imaps_port (implicit TLS); `ca` is its
    self-signed certificate, for clients that verify."""

    def __init__(self, server):
        self.server = server
        self.imap_port = server.imap_port
        self.imaps_port = server.imaps_port
        self.ca = str(server.data_dir / "tls" / "petrel.crt")
        self.user = "demo"
        self.password = "demo"
        self.dir = server.dir

    def checker(self, user="demo", password="demo"):
        return clientlib.Checker(self, user, password)

    def log_text(self):
        return self.server.log_text()


def _start(tmp_path, extra_users=(), do_seed=True):
    users = (("demo", "demo"), *extra_users)
    s = Server(tmp_path, users=users).start()
    p = Petrel(s)
    if do_seed:
        with p.checker() as c:
            seedmod.seed(c.imap)
    return p


@pytest.fixture
def petrel(tmp_path):
    p = _start(tmp_path)
    yield p
    rc = p.server.stop()
    assert rc == 0, f"petrel exited with {rc}:\n{p.log_text()[-5000:]}"


@pytest.fixture
def make_petrel(tmp_path):
    """Factory: make_petrel(extra_users=(("mirror", "pw"),), seed=True)."""
    made = []

    def make(extra_users=(), seed=True):
        d = tmp_path / f"petrel{len(made)}"
        d.mkdir()
        p = _start(d, extra_users, seed)
        made.append(p)
        return p
    yield make
    for p in made:
        rc = p.server.stop()
        assert rc == 0, f"petrel exited with {rc}:\n{p.log_text()[-5000:]}"


@pytest.fixture(scope="session")
def node_modules():
    """tests/clients/node with its npm packages installed (`npm ci` when
    node_modules is missing or older than package-lock.json)."""
    d = os.path.join(HERE, "node")
    nm = os.path.join(d, "node_modules", ".package-lock.json")
    lock = os.path.join(d, "package-lock.json")
    # Each pytest-xdist worker has its own session: the lock keeps two of
    # them from running `npm ci` (which first deletes node_modules) at once.
    with open(os.path.join(d, ".npm-ci.lock"), "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        if not os.path.exists(nm) or os.path.getmtime(nm) < os.path.getmtime(lock):
            if not clientlib.have("npm"):
                pytest.skip("npm is not installed")
            r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=d,
                               capture_output=True, text=True, timeout=600)
            if r.returncode != 0:
                pytest.fail(f"npm ci failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return d


@pytest.fixture
def workdir(tmp_path):
    d = tmp_path / "client"
    d.mkdir()
    return d


# ---- the matrix ------------------------------------------------------------------

def _version(package):
    if package.startswith("npm:"):
        return clientlib.npm_version(package[4:])
    if package.startswith("stdlib:"):
        return package[7:]
    return clientlib.deb_version(package)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    path = os.environ.get("PETREL_CLIENT_RESULTS")
    if not path:
        return
    client = getattr(item.module, "CLIENT", None)
    if client is None:
        return
    if rep.when == "call" or (rep.when == "setup" and rep.outcome != "passed") or \
            (rep.when == "teardown" and rep.outcome == "failed"):
        if hasattr(rep, "wasxfail"):
            result = "expected failure: " + (rep.wasxfail or "").replace("reason: ", "")
            if rep.outcome == "passed":
                result = "passed (unexpectedly; marked expected-to-fail)"
        elif rep.outcome == "skipped":
            reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
            result = "skipped: " + reason.replace("Skipped: ", "")
        elif rep.outcome == "failed":
            result = "FAILED" + (" (in teardown: server exit)" if rep.when == "teardown" else "")
        else:
            result = "passed"
        entry = dict(client, test=item.nodeid, result=result,
                     version=_version(client["package"]),
                     seconds=round(getattr(rep, "duration", 0), 1))
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError):
            data = {}
        key = item.nodeid
        if key in data and rep.when == "teardown":
            data[key]["result"] = result
        else:
            data[key] = entry
        with open(path, "w") as f:
            json.dump(data, f, indent=1, ensure_ascii=False)
