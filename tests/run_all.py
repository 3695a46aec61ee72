#!/usr/bin/python3
"""Runs every test layer and prints one closing line "N passed, N failed".

Layers: unit tests (each binary prints its own count), protocol tests
(pytest against a real petrel), all of it again under ASan+UBSan, and a
short bounded run of every fuzz target. Exits non-zero if anything failed."""

import argparse
import glob
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
totals = {"passed": 0, "failed": 0}
failures = []


def record(layer, passed, failed):
    totals["passed"] += passed
    totals["failed"] += failed
    print(f"== {layer}: {passed} passed, {failed} failed", flush=True)
    if failed:
        failures.append(layer)


def run_unit(build, label, env):
    for exe in sorted(glob.glob(os.path.join(build, "tests", "unit", "test-*"))):
        if not os.access(exe, os.X_OK) or exe.endswith(".p"):
            continue
        name = f"{label} unit {os.path.basename(exe)}"
        r = subprocess.run([exe], capture_output=True, text=True, env=env, timeout=900)
        m = re.findall(r"^(\d+) passed, (\d+) failed$", r.stdout, re.M)
        if m:
            passed, failed = int(m[-1][0]), int(m[-1][1])
        else:
            passed, failed = 0, 1
        if r.returncode != 0 and failed == 0:
            failed = 1
        if failed:
            sys.stdout.write(r.stdout[-4000:] + r.stderr[-4000:])
        record(name, passed, failed)


def run_pytest(build, label, env, paths):
    env = dict(env, PETREL_BIN=os.path.join(ROOT, build, "petrel"))
    # Two workers: most tests wait on sockets and fsync, not on the CPU.
    r = subprocess.run(["/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "-n", "2", *paths], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=3600)
    tail = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    passed = sum(int(x) for x in re.findall(r"(\d+) passed", tail))
    failed = sum(int(x) for x in re.findall(r"(\d+) (?:failed|error)", tail))
    if r.returncode not in (0, 5) and failed == 0:
        failed = 1
    if failed:
        # Long enough for a hung server's stacks of every thread (conftest).
        sys.stdout.write(r.stdout[-100000:] + r.stderr[-4000:])
    record(f"{label} protocol", passed, failed)


def run_fuzz(build, seconds):
    for exe in sorted(glob.glob(os.path.join(build, "fuzz", "fuzz-*"))):
        if not os.access(exe, os.X_OK) or os.path.isdir(exe):
            continue
        name = os.path.basename(exe)
        corpus = os.path.join(ROOT, "fuzz", "corpus", name[len("fuzz-"):])
        work = os.path.join(ROOT, build, "fuzz-work", name)
        os.makedirs(work, exist_ok=True)
        args = [exe, f"-max_total_time={seconds}", "-rss_limit_mb=2048", "-timeout=10", work]
        if os.path.isdir(corpus):
            args.append(corpus)
        dict_path = os.path.join(ROOT, "fuzz", "imap.dict")
        if name == "fuzz-imap-parser" and os.path.exists(dict_path):
            args.insert(1, f"-dict={dict_path}")
        r = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 300)
        if r.returncode != 0:
            sys.stdout.write(r.stderr[-6000:])
        record(f"fuzz {name}", 1 if r.returncode == 0 else 0, 0 if r.returncode == 0 else 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--asan")
    ap.add_argument("--fuzz")
    ap.add_argument("--fuzz-seconds", type=int, default=30)
    ap.add_argument("--proto", nargs="*", default=["tests/proto"])
    args = ap.parse_args()
    start = time.time()
    env = dict(os.environ)
    run_unit(args.build, "normal", env)
    run_pytest(args.build, "normal", env, args.proto)
    # Real client programs: slow, run once, against the normal build.
    run_pytest(args.build, "clients", env, ["tests/clients"])
    if args.asan:
        aenv = dict(env, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23",
                    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
        run_unit(args.asan, "asan", aenv)
        run_pytest(args.asan, "asan", aenv, args.proto)
    if args.fuzz:
        run_fuzz(args.fuzz, args.fuzz_seconds)
    print(f"== total time {time.time() - start:.0f}s; failed layers: {failures or 'none'}")
    print(f"{totals['passed']} passed, {totals['failed']} failed")
    return 1 if totals["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
