"""Smoke run of the load generator (bench/petrel-load) against a Petrel
started by the conftest fixture: every workload runs for a few seconds,
must produce its results and must find no consistency error. No timing is
asserted: CI machines are too noisy for that; docs/benchmarks.md has the
numbers.

The binary is not built here: PETREL_LOAD_BIN, default build/bench/petrel-load."""

import os
import subprocess

import pytest

from conftest import ROOT

LOAD_BIN = os.environ.get("PETREL_LOAD_BIN", os.path.join(ROOT, "build", "bench", "petrel-load"))
PASSWORD = "bench"
USERS = tuple((f"bench{i}", PASSWORD) for i in range(1, 5)) + (("bigbox", PASSWORD),)

pytestmark = pytest.mark.skipif(not os.access(LOAD_BIN, os.X_OK),
                                reason=f"{LOAD_BIN} not built")


def run_load(server, workload, *args, timeout=180):
    cmd = [LOAD_BIN, workload, "--port", str(server.imap_port), "--password", PASSWORD,
           "--label", "petrel", "--timeout", "60", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    results = {}
    for line in r.stdout.splitlines():
        if line.startswith("RESULT "):
            kv = dict(x.split("=", 1) for x in line.split()[1:])
            results[(kv["workload"], kv["cmd"], kv["metric"])] = float(kv["value"])
    return r, results


def assert_clean(r, results, workload):
    detail = f"\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"
    assert (workload, "ALL", "consistency_errors") in results, "no results" + detail
    for metric in ("consistency_errors", "protocol_errors", "connection_errors"):
        assert results[(workload, "ALL", metric)] == 0, metric + detail
    assert r.returncode == 0, f"exit {r.returncode}" + detail


@pytest.fixture
def bench_server(make_server):
    # Cheap password hashes: short sessions log in many times.
    return make_server(extra_config="password_hash_ops = 1\npassword_hash_memory = 8K\n",
                       users=USERS)


def test_mixed_short_and_long_sessions(bench_server):
    for workload, extra in (("mixed", []), ("mixed-long", ["--long"])):
        r, res = run_load(bench_server, "mixed", "--clients", "4", "--msgs", "20",
                          "--duration", "3", *extra)
        assert_clean(r, res, workload)
        for cmd in ("FETCH_SYNC", "FETCH_HEADERS", "FETCH_BODY", "STORE"):
            assert res.get((workload, cmd, "count"), 0) > 0, (cmd, r.stderr[-2000:])
        assert (workload, "ALL", "ops_per_s") in res
        if workload == "mixed":
            assert res.get((workload, "LOGIN", "count"), 0) > 0


def test_mixed_checks_can_fail(bench_server):
    """The model is corrupted on purpose: the run must report it."""
    r, res = run_load(bench_server, "mixed", "--clients", "2", "--msgs", "10",
                      "--duration", "2", "--inject-fault")
    assert res.get(("mixed", "ALL", "consistency_errors"), 0) > 0, r.stderr[-2000:]
    assert r.returncode != 0


def test_append(bench_server):
    r, res = run_load(bench_server, "append", "--sizes", "2048,102400", "--client-counts", "1,2",
                      "--duration", "4")
    for c in (1, 2):
        for s in (2048, 102400):
            wl = f"append-c{c}-s{s}"
            assert_clean(r, res, wl)
            assert res.get((wl, "APPEND", "count"), 0) > 0, (wl, r.stderr[-2000:])


def test_bigbox(bench_server):
    r, res = run_load(bench_server, "populate", "--user", "bigbox", "--n", "300", "--multiappend")
    assert r.returncode == 0, r.stderr[-2000:]
    r, res = run_load(bench_server, "bigbox", "--user", "bigbox", "--n", "300", "--reps", "1")
    assert_clean(r, res, "bigbox")
    for cmd in ("SELECT", "FETCH_ENVELOPE", "FETCH_FLAGS", "SEARCH_TEXT"):
        assert ("bigbox", cmd, "p50_ms") in res, (cmd, r.stderr[-2000:])
    assert res[("bigbox", "ALL", "messages")] == 300


def test_idle(bench_server):
    r, res = run_load(bench_server, "idle", "--count", "40", "--users", "4",
                      "--server-pid", str(bench_server.proc.pid))
    assert_clean(r, res, "idle")
    assert res[("idle", "ALL", "idle_connections")] == 40
    assert res[("idle", "ALL", "delivered")] == 40
    assert ("idle", "ALL", "mem_per_conn_kb") in res


def test_latency(bench_server):
    r, res = run_load(bench_server, "latency", "--count", "20", "--mailbox", "bench-latency")
    assert_clean(r, res, "latency")
    assert res[("latency", "ALL", "deliveries")] == 20
    assert ("latency", "DELIVERY", "p99_ms") in res
