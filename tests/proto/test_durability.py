"""Acknowledged means durable (DESIGN.md §4) with commits made durable off
the event loop (store.h, "Durability off the event loop"): an APPEND, STORE
or LMTP 250 is answered only once the sync threads have made its commit
durable; pipelined commands keep their order behind a held answer; an IDLE
client hears of a change only once it is durable; other sessions are not
held up meanwhile.

The server under test runs with PETREL_TEST_SYNC_GATE naming a file: while
the file exists no commit becomes durable (the sync threads wait before
each fdatasync), so a test can watch what waits for durability and what
does not."""

import re
import socket
import time

import pytest

from conftest import Client
from test_lmtp import Lmtp

MESSAGE = (b"From: durable@example.org\r\nSubject: durable\r\n\r\n"
           b"kept across power failures\r\n")


class Gate:
    def __init__(self, path):
        self.path = path

    def close(self):
        self.path.write_text("closed\n")

    def open(self):
        self.path.unlink()


@pytest.fixture
def gated(make_server, tmp_path, monkeypatch):
    """A server whose syncs wait while the gate is closed, with users demo
    and bob; yields (server, gate). The gate is open at the start and
    opened again at the end so that the server can stop."""
    gate = Gate(tmp_path / "sync-gate")
    monkeypatch.setenv("PETREL_TEST_SYNC_GATE", str(gate.path))
    server = make_server(users=(("demo", "demo"), ("bob", "bob")))
    yield server, gate
    if gate.path.exists():
        gate.open()


def lines_within(c, seconds):
    """Every complete line that arrives within seconds (none is fine)."""
    lines = []
    c.sock.settimeout(seconds)
    try:
        while True:
            lines.append(c.readline())
    except (socket.timeout, TimeoutError):
        pass
    finally:
        c.sock.settimeout(20)
    return lines


def append_command(tag, mailbox="INBOX", body=MESSAGE):
    return f"{tag} APPEND {mailbox} {{{len(body)}+}}\r\n".encode() + body + b"\r\n"


def status_messages(c, mailbox="INBOX"):
    untagged = c.ok(f"STATUS {mailbox} (MESSAGES)")
    m = re.search(r"\(MESSAGES (\d+)\)", untagged[-1])
    return int(m.group(1))


def wait_for_messages(c, count, mailbox="INBOX"):
    """Polls STATUS until the mailbox holds count messages: the commit
    happens a moment after the command is sent."""
    deadline = time.time() + 20
    while status_messages(c, mailbox) != count:
        assert time.time() < deadline, f"{mailbox} never reached {count} messages"
        time.sleep(0.05)


def ready(server, user="demo"):
    """A logged-in client with INBOX selected, its store already made (a
    store's first opening commits too)."""
    c = server.login(user, user)
    c.ok("SELECT INBOX")
    return c


def test_append_is_answered_once_durable(gated):
    server, gate = gated
    a = ready(server)
    # Not selected: a session with the mailbox selected would claim the new
    # message as \Recent in its next answer, a commit that waits too.
    other = server.login()
    gate.close()
    a.send(append_command("p1"))
    # Committed (the EXISTS is reported after the commit) and visible to
    # another session at once...
    assert a.readline() == "* 1 EXISTS"
    assert status_messages(other) == 1
    # ...but not acknowledged: the tagged answer waits for the sync.
    early = lines_within(a, 1.5)
    assert not [l for l in early if l.startswith("p1 ")], early
    gate.open()
    untagged, tagged = a.read_until_tagged("p1")
    assert re.match(r"p1 OK \[APPENDUID \d+ 1\] APPEND completed", tagged), tagged


def test_store_answer_waits_but_other_sessions_do_not(gated):
    server, gate = gated
    a = ready(server)
    a.send(append_command("s0"))
    a.read_until_tagged("s0")
    reader = ready(server, "bob")
    gate.close()
    a.send("s1 UID STORE 1 +FLAGS (\\Flagged)\r\n")
    early = lines_within(a, 1.5)
    assert not [l for l in early if l.startswith("s1 ")], early
    # A session of another user on the same workers is not held up by the
    # sync that demo's STORE waits for.
    assert reader.command("NOOP")[1].endswith("OK NOOP completed")
    assert status_messages(reader) == 0
    gate.open()
    untagged, tagged = a.read_until_tagged("s1")
    assert tagged == "s1 OK UID STORE completed"
    assert [l for l in early + untagged
            if re.fullmatch(r"\* 1 FETCH \(UID 1 FLAGS \(\\Flagged( \\Recent)?\)\)", l)]


def test_pipelined_commands_wait_behind_a_held_answer_in_order(gated):
    server, gate = gated
    a = ready(server)
    gate.close()
    a.send(append_command("q1")
           + b"q2 UID STORE 1 +FLAGS (\\Seen)\r\n"
           + b"q3 NOOP\r\n"
           + append_command("q4")
           + b"q5 UID FETCH 1:* (FLAGS)\r\n")
    early = lines_within(a, 1.5)
    assert not [l for l in early if l[:1] == "q"], early
    gate.open()
    lines = early
    while not any(l.startswith("q5 ") for l in lines):
        lines.append(a.readline())
    tagged = [l for l in lines if not l.startswith("*")]
    assert [t.split(" ")[0] for t in tagged] == ["q1", "q2", "q3", "q4", "q5"]
    assert all(t.split(" ")[1] == "OK" for t in tagged), tagged
    # Each command's untagged responses come after the previous answer.
    at = {t.split(" ")[0]: lines.index(t) for t in tagged}
    seen_flag = [i for i, l in enumerate(lines)
                 if re.fullmatch(r"\* 1 FETCH \(UID 1 FLAGS \(\\Seen( \\Recent)?\)\)", l)]
    assert len(seen_flag) == 2  # the STORE's, then the FETCH's
    assert at["q1"] < seen_flag[0] < at["q2"]
    assert at["q4"] < seen_flag[1] < at["q5"]
    second = [i for i, l in enumerate(lines) if l.startswith("* 2 FETCH (UID 2 FLAGS (")]
    assert len(second) == 1 and at["q4"] < second[0] < at["q5"]


def test_many_pipelined_writes_keep_their_order(server):
    a = server.login()
    a.ok("SELECT INBOX")
    batch = b""
    tags = []
    for i in range(1, 41):
        tags.append(f"w{i}a")
        batch += append_command(f"w{i}a", body=MESSAGE + f"{i}\r\n".encode())
        tags.append(f"w{i}s")
        batch += f"w{i}s UID STORE {i} +FLAGS.SILENT (\\Answered)\r\n".encode()
    a.send(batch)
    answered = []
    while len(answered) < len(tags):
        line = a.readline()
        if not line.startswith("*"):
            answered.append(line)
    assert [l.split(" ")[0] for l in answered] == tags
    for i, line in enumerate(answered):
        if i % 2 == 0:
            assert re.match(rf"w{i // 2 + 1}a OK \[APPENDUID \d+ {i // 2 + 1}\]", line), line
        else:
            assert line == f"w{i // 2 + 1}s OK UID STORE completed"
    untagged = a.ok("UID SEARCH ANSWERED")
    assert untagged == ["* SEARCH " + " ".join(str(i) for i in range(1, 41))]


def test_idle_hears_of_an_append_once_it_is_durable(gated):
    server, gate = gated
    idler = ready(server)
    idler.send("i1 IDLE\r\n")
    assert idler.readline() == "+ idling"
    a = ready(server)
    watcher = server.login()
    gate.close()
    a.send(append_command("p1"))
    wait_for_messages(watcher, 1)
    # Not durable yet: nothing is pushed to the idling client.
    assert lines_within(idler, 1.5) == []
    gate.open()
    assert a.read_until_tagged("p1")[1].startswith("p1 OK [APPENDUID")
    idler.sock.settimeout(10)
    assert idler.readline() == "* 1 EXISTS"
    idler.send("DONE\r\n")
    assert idler.read_until_tagged("i1")[1] == "i1 OK IDLE terminated"


def test_lmtp_replies_once_every_recipient_is_durable(gated):
    server, gate = gated
    ready(server).ok("LOGOUT")
    ready(server, "bob").ok("LOGOUT")
    watcher = server.login()
    lmtp = Lmtp(server)
    lmtp.lhlo()
    assert lmtp.one("MAIL FROM:<sender@example.org>").startswith("250")
    assert lmtp.one("RCPT TO:<demo@example.org>").startswith("250")
    assert lmtp.one("RCPT TO:<bob@example.org>").startswith("250")
    assert lmtp.one("DATA").startswith("354")
    gate.close()
    lmtp.send(MESSAGE + b".\r\n")
    # Stored for both, visible at once; no 250 before both are durable.
    wait_for_messages(watcher, 1)
    lmtp.sock.settimeout(1.5)
    with pytest.raises((socket.timeout, TimeoutError)):
        lmtp.line()
    lmtp.sock.settimeout(20)
    gate.open()
    assert re.match(r"250 2\.0\.0 <demo@example.org> Saved as UID 1 in INBOX", lmtp.line())
    assert re.match(r"250 2\.0\.0 <bob@example.org> Saved as UID 1 in INBOX", lmtp.line())
    assert lmtp.one("QUIT").startswith("221")


def test_logout_after_a_held_answer_says_bye_after_it(gated):
    server, gate = gated
    a = ready(server)
    gate.close()
    a.send(append_command("p1") + b"p2 LOGOUT\r\n")
    assert [l for l in lines_within(a, 1.0) if not l.startswith("* ")] == []
    gate.open()
    untagged, tagged = a.read_until_tagged("p1")
    assert tagged.startswith("p1 OK [APPENDUID")
    untagged, tagged = a.read_until_tagged("p2")
    assert untagged == ["* BYE Logging out"]
    assert tagged == "p2 OK LOGOUT completed"


def test_shutdown_answers_a_held_command_first(gated):
    server, gate = gated
    a = ready(server)
    watcher = server.login()
    gate.close()
    a.send(append_command("p1"))
    wait_for_messages(watcher, 1)
    server.proc.send_signal(15)  # SIGTERM: graceful stop
    gate.open()
    untagged, tagged = a.read_until_tagged("p1")
    assert tagged.startswith("p1 OK [APPENDUID")
    assert a.readline().startswith("* BYE")
    assert server.stop() == 0
