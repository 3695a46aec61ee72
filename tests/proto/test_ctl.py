"""`petrel ctl` against a running daemon: protocol traces switched on and off
at run time, secrets masked in every form a client can send them, the live
session list, kick, statistics, and the control socket's owner check."""

import base64
import json
import os
import re
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import PETREL_BIN, Client

CHEAP_HASH = "[auth]\npassword_hash_ops = 1\npassword_hash_memory = 8K\n"
TS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
EX_NOPERM = 77


def ctl(server, *args, check=True):
    r = server.cli("ctl", *args, check=False)
    if check:
        assert r.returncode == 0, f"petrel ctl {' '.join(args)}: {r.returncode} {r.stderr}"
    return r


def sessions(server):
    return json.loads(ctl(server, "sessions", "--json").stdout)


def session_id(server, user):
    ids = [s["id"] for s in sessions(server) if s["user"] == user]
    assert len(ids) == 1, sessions(server)
    return ids[0]


def trace_files(server):
    """Trace files with at least one client line: the connections the
    fixture opens and closes at once to see that the server is up may be
    traced too when a rule covers every connection."""
    root = server.data_dir / "trace"
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*.trace") if " C: " in p.read_text())


def conversation(text):
    """The C:/S: lines of a trace, without timestamps."""
    out = []
    for line in text.splitlines():
        m = re.match(TS + r" ([CS]): (.*)$", line)
        if m:
            out.append(f"{m.group(1)}: {m.group(2)}")
    return out


def wait_for(pred, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def exchange(client, text):
    """Runs a command and returns the conversation lines it should give."""
    tag = client.next_tag()
    untagged, tagged = client.command(text, tag=tag)
    return [f"C: {tag} {text}"] + [f"S: {u}" for u in untagged] + [f"S: {tagged}"]


# --- Tracing -------------------------------------------------------------------


def test_trace_starts_at_next_command_for_one_user_only(make_server):
    server = make_server(CHEAP_HASH, users=(("demo", "demo"), ("bob", "bobpw")))
    alice = server.login("demo", "demo")
    bob = server.login("bob", "bobpw")
    alice.ok("NOOP")                      # before tracing: not in the trace
    r = ctl(server, "trace", "on", "--user", "demo")
    assert "tracing user demo" in r.stdout
    assert trace_files(server) == []      # nothing until the next command

    expected = exchange(alice, "NOOP")
    expected += exchange(alice, "SELECT INBOX")
    expected += exchange(alice, 'STATUS INBOX (MESSAGES UIDNEXT)')
    bob.ok("NOOP")
    bob.ok("SELECT INBOX")

    sid = session_id(server, "demo")
    files = trace_files(server)
    day = time.strftime("%Y-%m-%d", time.gmtime())
    assert files == [server.data_dir / "trace" / "demo" / day / f"{sid}.trace"]
    text = files[0].read_text()
    assert conversation(text) == expected
    # Every line is timestamped; each command's duration follows its answer.
    for line in text.splitlines():
        assert re.match(TS + r" (C:|S:|--) ", line), line
    assert re.search(TS + r" -- trace started session=" + sid + r" .*user=demo", text)
    assert re.search(r"-- a\d+ NOOP OK in \d+\.\d{3} ms", text)
    assert re.search(r"-- a\d+ SELECT OK in \d+\.\d{3} ms", text)
    # The old NOOP is not there; bob is not traced at all.
    assert text.count("NOOP") == 3   # C:, S: and the duration line
    assert not (server.data_dir / "trace" / "bob").exists()

    # trace show prints the same file; trace list shows the rule and session.
    shown = ctl(server, "trace", "show", sid).stdout
    assert conversation(shown) == expected
    listing = ctl(server, "trace", "list").stdout
    assert re.search(r"user\s+demo\s+until switched off", listing)
    assert sid in listing and str(files[0]) in listing
    flags = {s["user"]: s["traced"] for s in sessions(server)}
    assert flags == {"demo": True, "bob": False}

    # Off: the next command is the last thing in the file.
    ctl(server, "trace", "off", "--user", "demo")
    alice.ok("NOOP")
    after = exchange(alice, "CHECK")
    text = files[0].read_text()
    assert "trace stopped" in text
    assert "CHECK" not in text and after[0] not in conversation(text)
    r = ctl(server, "trace", "off", "--user", "demo", check=False)
    assert r.returncode == 1 and "no such trace rule" in r.stderr
    alice.close()
    bob.close()


def test_trace_literals_cut_and_connect_events(make_server):
    server = make_server(CHEAP_HASH)
    ctl(server, "trace", "on", "--address", "127.0.0.0/8", "--literal-bytes", "10")
    c = server.connect()
    c.ok("LOGIN demo demo")
    body = "Subject: hello\r\n\r\n" + "x" * 80 + "\r\n"
    tag = c.next_tag()
    c.send(f"{tag} APPEND INBOX {{{len(body)}}}\r\n")
    assert c.readline().startswith("+")
    c.send(body + "\r\n")
    _, tagged = c.read_until_tagged(tag)
    assert " OK " in tagged
    c.ok("SELECT INBOX")
    c.ok("FETCH 1 BODY.PEEK[]")
    c.ok("LOGOUT")
    c.close()
    assert wait_for(lambda: sessions(server) == [])
    files = trace_files(server)
    assert len(files) == 1, files
    (path,) = files
    text = path.read_text()
    lines = conversation(text)
    assert lines[0].startswith("S: * OK [CAPABILITY")       # traced from connect
    assert re.search(TS + r" -- connect session=\w+ remote=127\.0\.0\.1 port=\d+ "
                     r"local_port=\d+ tls=no literal_bytes=10", text)
    assert re.search(r"-- login user=demo method=LOGIN", text)
    assert re.search(r"-- disconnect bytes_in=\d+ bytes_out=\d+", text)
    assert "C: Subject: h[... 90 more bytes]" in lines
    assert "S: Subject: h[... 90 more bytes])" in lines
    assert "x" * 11 not in text
    # Logged in: the file moved from the pre-login directory to the user's.
    assert path.parts[-3] == "demo"
    assert not any(" C: " in p.read_text()
                   for p in (server.data_dir / "trace" / ".preauth").rglob("*.trace"))


def test_trace_rule_expires(make_server):
    server = make_server(CHEAP_HASH)
    ctl(server, "trace", "on", "--all", "--for", "2s")
    listing = ctl(server, "trace", "list").stdout
    assert re.search(r"all\s+-\s+until \S+ \(\d+s left\)", listing)
    assert wait_for(lambda: "No trace rules." in ctl(server, "trace", "list").stdout, 6)
    c = server.login()
    c.ok("NOOP")
    assert trace_files(server) == []
    c.close()


def test_trace_tail_follows_and_stops(make_server):
    server = make_server(CHEAP_HASH)
    ctl(server, "trace", "on", "--user", "demo")
    tail = subprocess.Popen([PETREL_BIN, "-c", str(server.config_path), "ctl", "trace", "tail",
                             "--user", "demo", "--for", "4s"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    c = server.login()
    expected = exchange(c, "NOOP")
    sid = session_id(server, "demo")
    out, err = tail.communicate(timeout=15)
    assert tail.returncode == 0, err
    got = [re.sub(r"^\[" + sid + r"\] " + TS + " ", "", line)
           for line in out.splitlines() if line.startswith(f"[{sid}] ")]
    assert expected[0] in got and expected[-1] in got
    assert any("-- login user=demo" in line for line in got)

    # Without --for it runs until SIGINT or SIGTERM, and exits cleanly.
    for sig in (signal.SIGINT, signal.SIGTERM):
        tail = subprocess.Popen([PETREL_BIN, "-c", str(server.config_path), "ctl", "trace",
                                 "tail", "--user", "demo"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        c.ok("NOOP")
        time.sleep(0.7)
        assert tail.poll() is None
        tail.send_signal(sig)
        tail.communicate(timeout=5)
        assert tail.returncode == 0
    c.close()

    # A user nobody traces by name gets a warning on stderr.
    r = subprocess.run([PETREL_BIN, "-c", str(server.config_path), "ctl", "trace", "tail",
                        "--user", "nobody-here", "--for", "1s"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and "tracing is not on for nobody-here" in r.stderr


def test_starttls_is_noted(make_server):
    server = make_server(CHEAP_HASH)
    ctl(server, "trace", "on", "--all")
    c = server.connect()
    c.ok("STARTTLS")
    c.starttls()
    c.ok("LOGIN demo demo")
    c.ok("NOOP")
    c.close()
    assert wait_for(lambda: sessions(server) == [])
    text = trace_files(server)[0].read_text()
    assert re.search(r"-- a001 STARTTLS OK in [\d.]+ ms\n" + TS + r" -- TLS started \(STARTTLS\)",
                     text)
    assert "C: a002 LOGIN demo ***" in conversation(text)


# --- Secrets -------------------------------------------------------------------

PASSWORD = "Zq8-correct-Horse"
WRONG = ["Wr0ng-atom-X1", "wr0ng quoted Y2", "Wr0ng-literal-Z3", "Wr0ng-nonsync-Q4",
         "Wr0ng-plain-R5", "Wr0ng-login-S6"]


def b64(s):
    return base64.b64encode(s.encode()).decode()


def secrets():
    out = []
    for pw in [PASSWORD] + WRONG:
        out += [pw, b64(pw), b64("\0demo\0" + pw), b64("demo\0demo\0" + pw)]
    return out


def login_every_way(server, password, expect_ok):
    """Logs in as demo with password in every form a client can use."""
    results = []

    def finish(c, tag):
        _, tagged = c.read_until_tagged(tag)
        results.append(tagged)
        c.close()

    c = server.connect()
    _, tagged = c.command(f"LOGIN demo {password}", tag="t1")     # an atom
    results.append(tagged)
    c.close()
    c = server.connect()
    _, tagged = c.command(f'LOGIN "demo" "{password}"', tag="t2")
    results.append(tagged)
    c.close()
    # Synchronising literals for both arguments.
    c = server.connect()
    c.send("t3 LOGIN {4}\r\n")
    assert c.readline().startswith("+")
    c.send(f"demo {{{len(password)}}}\r\n")
    assert c.readline().startswith("+")
    c.send(password + "\r\n")
    finish(c, "t3")
    # Non-synchronising literal (LITERAL+).
    c = server.connect()
    c.send(f"t4 LOGIN demo {{{len(password)}+}}\r\n{password}\r\n")
    finish(c, "t4")
    # AUTHENTICATE PLAIN with an initial response (SASL-IR).
    c = server.connect()
    c.send(f"t5 AUTHENTICATE PLAIN {b64(chr(0) + 'demo' + chr(0) + password)}\r\n")
    finish(c, "t5")
    # AUTHENTICATE PLAIN with a continuation.
    c = server.connect()
    c.send("t6 AUTHENTICATE PLAIN\r\n")
    assert c.readline().startswith("+")
    c.send(b64("demo\0demo\0" + password) + "\r\n")
    finish(c, "t6")
    # AUTHENTICATE LOGIN: user name and password in two continuations.
    c = server.connect()
    c.send("t7 AUTHENTICATE LOGIN\r\n")
    assert c.readline().startswith("+")
    c.send(b64("demo") + "\r\n")
    assert c.readline().startswith("+")
    c.send(b64(password) + "\r\n")
    finish(c, "t7")
    for tagged in results:
        assert (" OK " in tagged) == expect_ok, tagged
    return results


def test_no_password_or_sasl_secret_in_trace_or_log(make_server):
    server = make_server(CHEAP_HASH + "max_failures_per_address = 1000\n"
                         "max_failures_per_user = 1000\n",
                         users=(("demo", PASSWORD),))
    ctl(server, "trace", "on", "--all")
    login_every_way(server, PASSWORD, True)
    for wrong in WRONG:
        c = server.connect()
        c.no(f'LOGIN demo "{wrong}"')
        c.close()
    login_every_way(server, WRONG[0], False)
    assert wait_for(lambda: sessions(server) == [])
    files = trace_files(server)
    assert len(files) == 2 * 7 + len(WRONG)
    everything = "".join(p.read_text() for p in files) + server.log_text()
    for secret in secrets():
        assert secret not in everything, secret
    # The traces did record these logins, with the secrets masked.
    conv = [line for p in files for line in conversation(p.read_text())]
    for line in ["C: t1 LOGIN demo ***", 'C: t2 LOGIN "demo" ***', "C: t3 LOGIN {4}",
                 f"C: demo {{{len(PASSWORD)}}}", f"C: t4 LOGIN demo {{{len(PASSWORD)}+}}",
                 "C: t5 AUTHENTICATE PLAIN ***", "C: t6 AUTHENTICATE PLAIN",
                 "C: t7 AUTHENTICATE LOGIN", "C: ***"]:
        assert line in conv, line
    assert conv.count("C: ***") >= 2 * (2 + 1 + 2)


# --- Sessions, kick --------------------------------------------------------------


def test_sessions_show_client_id_and_mailbox(make_server):
    server = make_server(CHEAP_HASH)
    c = server.login()
    c.ok('ID ("name" "Thunderbird" "version" "115.3")')
    c.ok("SELECT INBOX")
    pre = server.connect()
    (s,) = [x for x in sessions(server) if x["user"] == "demo"]
    assert s["client_id"] == "Thunderbird/115.3"
    assert s["mailbox"] == "INBOX" and s["state"] == "selected"
    assert s["tls"] is False and s["traced"] is False
    assert re.fullmatch(r"127\.0\.0\.1:\d+", s["remote"])
    assert s["commands"] == 3
    assert s["bytes_in"] > 0 and s["bytes_out"] > 0
    assert 0 <= s["idle_ms"] < 60000
    assert abs(s["since_ms"] / 1000 - time.time()) < 60
    (anon,) = [x for x in sessions(server) if x["user"] is None]
    assert anon["state"] == "not_authenticated" and anon["mailbox"] is None
    text = ctl(server, "sessions").stdout
    assert re.search(s["id"] + r"\s+demo\s+127\.0\.0\.1:\d+\s+no\s+Thunderbird/115\.3\s+"
                     r"selected\s+INBOX\s", text)
    c.close()
    pre.close()


def test_kick_ends_sessions_with_bye(make_server):
    server = make_server(CHEAP_HASH, users=(("demo", "demo"), ("bob", "bobpw")))
    a1, a2 = server.login(), server.login()
    b = server.login("bob", "bobpw")
    r = ctl(server, "kick", "--user", "demo")
    assert r.stdout.count("ended session") == 2
    for c in (a1, a2):
        assert c.readline() == "* BYE Disconnected by the administrator"
        with pytest.raises(EOFError):
            c.readline()
    b.ok("NOOP")
    sid = session_id(server, "bob")
    ctl(server, "kick", sid, "--reason", "Mailbox maintenance, back in 5 minutes")
    assert b.readline() == "* BYE Mailbox maintenance, back in 5 minutes"
    with pytest.raises(EOFError):
        b.readline()
    r = ctl(server, "kick", sid, check=False)
    assert r.returncode == 1 and "no such session" in r.stderr
    assert "event=kicked" in server.log_text()


# --- Statistics ------------------------------------------------------------------


class CountingClient:
    """A raw client that counts every byte each way."""

    def __init__(self, server):
        self.sock = socket.create_connection(("127.0.0.1", server.imap_port), timeout=20)
        self.sent = 0
        self.received = b""
        self.wait(b"\r\n")

    def wait(self, marker):
        while marker not in self.received:
            chunk = self.sock.recv(65536)
            assert chunk, self.received
            self.received += chunk

    def run(self, tag, text):
        line = f"{tag} {text}\r\n".encode()
        self.sock.sendall(line)
        self.sent += len(line)
        self.wait(f"\r\n{tag} ".encode())
        self.wait(b"\r\n", )
        end = self.received.rindex(f"{tag} ".encode())
        self.wait_line_end(end)
        return self.received[end:].split(b"\r\n")[0].decode()

    def wait_line_end(self, start):
        while b"\r\n" not in self.received[start:]:
            chunk = self.sock.recv(65536)
            assert chunk
            self.received += chunk

    def finish(self):
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.received += chunk
        self.sock.close()


def test_stats_match_what_was_sent(make_server):
    server = make_server(CHEAP_HASH + "max_failures_per_address = 1000\n")
    # The fixture's start-up probes are connections too: count from here.
    assert wait_for(lambda: sessions(server) == [])
    base = json.loads(ctl(server, "stats", "--json").stdout)
    c1 = CountingClient(server)
    assert " OK " in c1.run("s1", 'ID ("name" "TestClient" "version" "2.0")')
    assert " NO " in c1.run("s2", "LOGIN demo wrong1")
    assert " NO " in c1.run("s3", "LOGIN demo wrong2")
    assert " OK " in c1.run("s4", "LOGIN demo demo")
    for i in range(3):
        assert " OK " in c1.run(f"n{i}", "NOOP")
    assert " BAD " in c1.run("s5", "FROBNICATE")
    assert " NO " in c1.run("s6", "SELECT NoSuchBox")
    c2 = CountingClient(server)
    assert " OK " in c2.run("x1", "NOOP")
    assert " BAD " in c2.run("x0", "LOGIN")
    c1.run("s7", "LOGOUT")
    c2.run("x2", "LOGOUT")
    c1.finish()
    c2.finish()
    assert wait_for(lambda: sessions(server) == [])

    st = json.loads(ctl(server, "stats", "--json").stdout)
    assert st["connections"] - base["connections"] == 2
    assert st["logins_ok"] == 1 and st["logins_failed"] == 2
    assert st["bytes_in"] - base["bytes_in"] == c1.sent + c2.sent
    assert st["bytes_out"] - base["bytes_out"] == len(c1.received) + len(c2.received)
    assert st["deliveries"] == 0
    cmds = st["commands"]
    assert cmds["NOOP"]["count"] == 4 and cmds["NOOP"]["no"] == 0
    assert cmds["LOGIN"]["no"] == 2
    assert cmds["UNKNOWN"] == {**cmds["UNKNOWN"], "count": 1, "bad": 1}
    assert cmds["SELECT"]["no"] == 1 and cmds["LOGOUT"]["count"] == 2
    assert cmds["ID"]["count"] == 1
    assert "FROBNICATE" not in cmds
    for c in cmds.values():
        assert 0 <= c["p50_us"] <= c["p90_us"] <= c["p99_us"] <= c["max_us"]
    assert st["clients"]["TestClient"] == {"no": 3, "bad": 1}
    assert st["clients"]["(no ID)"] == {"no": 0, "bad": 1}
    assert cmds["LOGIN"]["bad"] == 1 and cmds["LOGIN"]["count"] == 4
    text = ctl(server, "stats").stdout
    assert re.search(r"^logins_failed\s+2$", text, re.M)
    assert re.search(r"^NOOP\s+4\s", text, re.M)
    assert re.search(r"^TestClient\s+3\s+1$", text, re.M)


def test_slow_commands_are_logged(make_server):
    server = make_server(CHEAP_HASH + "[log]\nslow_command_ms = 1\n")
    c = server.login()
    c.ok("NOOP")                          # microseconds: not slow
    # Storing 4 MB (copy, SHA-256, MIME parse, commit) takes well over 1 ms.
    body = ("X-Filler: " + "y" * 88 + "\r\n") * 40000 + "\r\nbody\r\n"
    tag = c.next_tag()
    c.send(f"{tag} APPEND INBOX {{{len(body)}+}}\r\n{body}\r\n")
    _, tagged = c.read_until_tagged(tag)
    assert " OK " in tagged
    # IDLE waits for the client: never reported, however long.
    c.send("i1 IDLE\r\n")
    assert c.readline().startswith("+")
    time.sleep(0.05)
    c.send("DONE\r\n")
    c.read_until_tagged("i1")
    c.close()
    log = server.log_text()
    assert re.search(r"session=\w+ event=slow_command user=demo command=APPEND tag=" + tag +
                     r" status=OK duration_ms=\d+\.\d{3}", log), log[-3000:]
    assert not re.search(r"event=slow_command .*command=(NOOP|IDLE)", log)


# --- Access control -----------------------------------------------------------------


def run_as_nobody(args):
    return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           os.path.abspath(PETREL_BIN), *args], capture_output=True, text=True, timeout=30,
                          cwd="/")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch to nobody")
def test_ctl_refuses_other_users(make_server):
    sockdir = Path(tempfile.mkdtemp(prefix="petrel-ctl-"))
    sockdir.chmod(0o755)
    sock = sockdir / "ctl.sock"
    try:
        server = make_server(CHEAP_HASH + f"[ctl]\nsocket = {sock}\n")
        st = sock.stat()
        assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
        assert st.st_uid == os.geteuid()
        assert "petrel" in ctl(server, "ping").stdout
        # The file mode keeps others out...
        r = run_as_nobody(["ctl", "--socket", str(sock), "sessions"])
        assert r.returncode == EX_NOPERM, r
        assert "permission denied" in r.stderr
        # ...and so does the daemon when the mode is opened up.
        sock.chmod(0o666)
        r = run_as_nobody(["ctl", "--socket", str(sock), "trace", "on", "--all"])
        assert r.returncode == EX_NOPERM, r
        assert "permission denied" in r.stderr
        assert "No trace rules." in ctl(server, "trace", "list").stdout
        assert re.search(r"event=ctl_refused uid=65534", server.log_text())
        # The owner still gets in.
        assert "petrel" in subprocess.run([os.path.abspath(PETREL_BIN), "ctl", "--socket",
                                           str(sock), "ping"],
                                          capture_output=True, text=True).stdout
        server.stop()
        assert not sock.exists()      # removed at shutdown
    finally:
        if sock.exists():
            sock.unlink()
        sockdir.rmdir()


def test_ctl_without_daemon_and_bad_usage(make_server):
    server = make_server(CHEAP_HASH, start=False)
    r = ctl(server, "sessions", check=False)
    assert r.returncode == 69 and "is petrel serve running?" in r.stderr
    server.start()
    for args in (["trace", "on"], ["trace", "on", "--user", "a", "--all"], ["kick"],
                 ["trace", "on", "--all", "--for", "soon"], ["frobnicate"]):
        r = ctl(server, *args, check=False)
        assert r.returncode == 64, (args, r.stderr)
    r = ctl(server, "trace", "on", "--address", "300.1.1.1/8", check=False)
    assert r.returncode == 1 and "invalid address" in r.stderr
    r = ctl(server, "trace", "show", "nosuchsession", check=False)
    assert r.returncode == 1 and "no trace for session" in r.stderr


def test_old_traces_are_removed_at_start(make_server):
    server = make_server(CHEAP_HASH + "[trace]\nmax_age = 1d\n", start=False)
    old = server.data_dir / "trace" / "alice" / "2026-01-01" / "0123abcd.trace"
    recent = server.data_dir / "trace" / "bob" / "2026-11-24" / "4567ef01.trace"
    for p in (old, recent):
        p.parent.mkdir(parents=True)
        p.write_text("2026-01-01T00:00:00.000Z C: a1 NOOP\n")
    t = time.time() - 3 * 86400
    os.utime(old, (t, t))
    server.start()
    assert not old.exists() and not old.parent.parent.exists()
    assert recent.exists()
    assert "event=traces_removed count=1 max_age_s=86400" in server.log_text()
