"""One change, many IDLE sessions on the mailbox: each worker reads the
store once for all of them, and only IMAP4rev1 read-write sessions claim
\\Recent (RFC 3501 §2.3.2: one session only). Every session must still get
exactly the updates meant for it."""

import re

from test_idle import read_line_within
from test_select_append import append

SESSIONS = 12


def idle(c):
    c.send("i1 IDLE\r\n")
    assert c.readline() == "+ idling"


def done(c):
    c.send("DONE\r\n")
    untagged, tagged = c.read_until_tagged("i1")
    assert tagged == "i1 OK IDLE terminated", tagged
    return untagged


def lines_until(c, last, limit=10):
    """Lines pushed to an idling client, up to and including last."""
    out = []
    while True:
        line = read_line_within(c, 10)
        out.append(line)
        if line == last or len(out) > limit:
            return out


def open_sessions(server):
    """rev1 (read-write), rev1 EXAMINE, IMAP4rev2 and QRESYNC sessions in
    turn, all idling on INBOX, with the kind of each."""
    sessions = []
    for i in range(SESSIONS):
        kind = ("rev1", "examine", "rev2", "qresync")[i % 4]
        c = server.login()
        if kind == "rev2":
            c.ok("ENABLE IMAP4rev2")
        if kind == "qresync":
            c.ok("ENABLE QRESYNC")
        c.ok("EXAMINE INBOX" if kind == "examine" else "SELECT INBOX")
        idle(c)
        sessions.append((kind, c))
    return sessions


def test_one_delivery_reaches_every_kind_of_session_once(server):
    b = server.login()
    append(b, "INBOX")
    append(b, "INBOX", flags="(\\Seen)")
    sessions = open_sessions(server)
    # Both messages were claimed at the first read-write rev1 SELECT.
    append(b, "INBOX")
    took = []
    for i, (kind, c) in enumerate(sessions):
        got = [read_line_within(c, 10)]
        assert got == ["* 3 EXISTS"], (kind, got)
        if kind != "rev2":
            got.append(read_line_within(c, 10))
            m = re.fullmatch(r"\* (\d) RECENT", got[1])
            assert m, (kind, got)
            # Session 0 already had messages 1 and 2 as \Recent.
            if int(m.group(1)) - (2 if i == 0 else 0) == 1:
                took.append(kind)
    # Exactly one session, a read-write rev1 one, has the new message as
    # \Recent.
    assert took in (["rev1"], ["qresync"]), took
    # A flag change: FETCH to everyone (with UID and MODSEQ for QRESYNC).
    b.ok("SELECT INBOX")
    b.ok("STORE 1 +FLAGS.SILENT (\\Flagged)")
    for i, (kind, c) in enumerate(sessions):
        line = read_line_within(c, 10)
        if kind == "qresync":
            assert line.startswith("* 1 FETCH (UID 1 FLAGS (\\Flagged) MODSEQ ("), line
        elif i == 0:
            # The first read-write SELECT took messages 1 and 2.
            assert line == "* 1 FETCH (FLAGS (\\Flagged \\Recent))", line
        else:
            assert line == "* 1 FETCH (FLAGS (\\Flagged))", (kind, line)
    # An expunge: EXPUNGE, or VANISHED for QRESYNC.
    b.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    for kind, c in sessions:
        if kind == "qresync":
            assert lines_until(c, "* VANISHED 2")[-1] == "* VANISHED 2"
        else:
            # The \Deleted FETCH first, then the EXPUNGE.
            assert lines_until(c, "* 2 EXPUNGE")[-1] == "* 2 EXPUNGE", kind
    for kind, c in sessions:
        assert done(c) == []
        assert c.ok("FETCH 1:* (UID)") == ["* 1 FETCH (UID 1)", "* 2 FETCH (UID 3)"]


def test_rev2_sessions_leave_recent_to_rev1(server):
    a = server.login()
    a.ok("ENABLE IMAP4rev2")
    a.ok("SELECT INBOX")
    idle(a)
    b = server.login()
    append(b, "INBOX")
    assert read_line_within(a, 10) == "* 1 EXISTS"
    done(a)
    # IMAP4rev2 has no \Recent: the rev2 session took nothing, so the first
    # rev1 session to look is the one told.
    c = server.login()
    assert "* 1 RECENT" in c.ok("SELECT INBOX")
    d = server.login()
    assert "* 0 RECENT" in d.ok("SELECT INBOX")


def test_examine_never_takes_recent(server):
    a = server.login()
    a.ok("EXAMINE INBOX")
    idle(a)
    b = server.login()
    append(b, "INBOX")
    assert read_line_within(a, 10) == "* 1 EXISTS"
    assert read_line_within(a, 10) == "* 0 RECENT"
    done(a)
    c = server.login()
    assert "* 1 RECENT" in c.ok("SELECT INBOX")
