#!/usr/bin/python3
"""Runs the real-client scenarios (tests/clients/test_*.py) against a Petrel
each test starts on its own ports, and optionally writes the "Client matrix"
section of docs/compatibility.md from the results.

    tests/clients/run.py [--build build] [--write-matrix] [-k EXPR] [-- pytest args]

The top-level runner (tests/run_all.py) runs the same tests with pytest
directly; this wrapper adds the matrix. npm packages (tests/clients/node)
are installed with `npm ci` by the test session when missing."""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DOC = os.path.join(ROOT, "docs", "compatibility.md")
BEGIN = "<!-- client-matrix:begin (written by tests/clients/run.py --write-matrix) -->"
END = "<!-- client-matrix:end -->"


def group(results):
    """One row per client (test module): its tests' results combined."""
    rows = {}
    for nodeid, e in sorted(results.items()):
        module, _, test = nodeid.partition("::")
        row = rows.setdefault(module, dict(e, results=[]))
        row["results"].append((test, e["result"]))
    for row in rows.values():
        rs = row["results"]
        if len(rs) == 1:
            row["result"] = rs[0][1]
        elif all(r == "passed" for _t, r in rs):
            row["result"] = "passed"
        else:
            row["result"] = "; ".join(f"{t}: {r}" for t, r in rs)
    return sorted(rows.values(), key=lambda e: e["name"].lower())


def render(results, seconds):
    rows = group(results)
    out = [BEGIN, "## Client matrix", "",
           "Each real client program runs one scenario against a Petrel started by the",
           "suite on its own loopback ports, from the same seeded account",
           "(`tests/clients/seed.py`), and the outcome is checked independently, over",
           "IMAP or on the files the client wrote. Regenerate with",
           "`tests/clients/run.py --write-matrix`.", "",
           "| Client | Version | Scenario | Result | Workarounds used |",
           "| --- | --- | --- | --- | --- |"]

    def cell(s):
        return str(s).replace("|", "\\|").replace("\n", " ")
    for e in rows:
        out.append(f"| {cell(e['name'])} | {cell(e['version'])} | {cell(e['scenario'])} | "
                   f"{cell(e['result'])} | {cell(e['workarounds'])} |")
    passed = sum(1 for e in rows if e["result"] == "passed")
    failed = sum(1 for e in rows if "FAILED" in e["result"])
    out += ["", f"{len(rows)} clients: {passed} passed every test, {failed} failed, "
            f"{len(rows) - passed - failed} passed with an expected failure named in the table. "
            f"The suite ran in {seconds:.0f} s on a 2-core machine.", END]
    return "\n".join(out) + "\n"


def write_matrix(results, seconds):
    section = render(results, seconds)
    try:
        with open(DOC) as f:
            text = f.read()
    except FileNotFoundError:
        text = "# Compatibility\n\n"
    if BEGIN in text and END in text:
        start = text.index(BEGIN)
        end = text.index(END) + len(END)
        if text[end:end + 1] == "\n":
            end += 1
        text = text[:start] + section + text[end:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(DOC, "w") as f:
        f.write(text)
    print(f"wrote the client matrix ({len(results)} rows) to {os.path.relpath(DOC, ROOT)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build", help="build dir holding petrel")
    ap.add_argument("--write-matrix", action="store_true")
    ap.add_argument("-k", help="pytest -k expression")
    ap.add_argument("pytest_args", nargs="*")
    a = ap.parse_args()
    fd, results = tempfile.mkstemp(prefix="petrel-clients-", suffix=".json")
    os.close(fd)
    env = dict(os.environ, PETREL_CLIENT_RESULTS=results,
               PETREL_BIN=os.path.join(ROOT, a.build, "petrel"))
    args = ["/usr/bin/python3", "-m", "pytest", "-p", "no:cacheprovider", "-rfEsxX", HERE]
    if a.k:
        args += ["-k", a.k]
    start = time.time()
    rc = subprocess.run(args + a.pytest_args, cwd=ROOT, env=env).returncode
    seconds = time.time() - start
    try:
        with open(results) as f:
            data = json.load(f)
    finally:
        os.unlink(results)
    if a.write_matrix:
        write_matrix(data, seconds)
    return rc


if __name__ == "__main__":
    sys.exit(main())
