"""SELECT/EXAMINE, APPEND (MULTIAPPEND, APPENDUID), EXPUNGE, CLOSE, UNSELECT
and CHECK, alone and with two sessions on one mailbox (RFC 2180)."""

import random
import re
import socket
import struct
import time

import pytest

MSG = ("From: Alice <alice@example.org>\r\n"
       "To: Bob <bob@example.org>\r\n"
       "Subject: Hello\r\n"
       "Date: Wed, 25 Nov 2026 10:00:00 +0100\r\n"
       "Message-ID: <1@example.org>\r\n"
       "\r\n"
       "Hi Bob.\r\n")


def append(c, mailbox, msg=MSG, flags="", date=""):
    tag = c.next_tag()
    data = msg.encode()
    parts = [tag, "APPEND", mailbox]
    if flags:
        parts.append(flags)
    if date:
        parts.append(f'"{date}"')
    c.send(" ".join(parts) + f" {{{len(data)}+}}\r\n".encode().decode())
    c.send(data + b"\r\n")
    return c.read_until_tagged(tag)


def appenduid(tagged):
    m = re.search(r"\[APPENDUID (\d+) ([\d:,]+)\]", tagged)
    assert m, tagged
    return int(m.group(1)), m.group(2)


def test_select_empty_inbox(server):
    c = server.login()
    untagged, tagged = c.command("SELECT INBOX")
    assert untagged[0] == "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)"
    assert "* 0 EXISTS" in untagged and "* 0 RECENT" in untagged
    assert any(re.match(r"\* OK \[UIDVALIDITY \d+\]", l) for l in untagged)
    assert "* OK [UIDNEXT 1] Predicted next UID" in untagged
    assert any(l.startswith("* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)]") for l in untagged)
    assert tagged.endswith("OK [READ-WRITE] SELECT completed")


def test_examine_is_read_only(server):
    c = server.login()
    untagged, tagged = c.command("EXAMINE inbox")
    assert "* OK [PERMANENTFLAGS ()] Flags permitted" in untagged
    assert tagged.endswith("OK [READ-ONLY] EXAMINE completed")
    c.no("EXPUNGE")


def test_select_missing_and_noselect(server):
    c = server.login()
    c.no("SELECT nosuch", "NONEXISTENT")
    c.ok("CREATE a/b")
    c.ok("DELETE a")
    c.no("SELECT a")
    untagged, tagged = c.command("SELECT INBOX")
    assert "OK" in tagged


def test_append_returns_appenduid_and_select_sees_it(server):
    c = server.login()
    untagged, tagged = append(c, "INBOX", flags="(\\Seen $Work)", date="25-Nov-2026 10:00:00 +0100")
    uidvalidity, uid = appenduid(tagged)
    assert uid == "1"
    untagged = c.ok("SELECT INBOX")
    assert "* 1 EXISTS" in untagged and "* 1 RECENT" in untagged
    assert f"* OK [UIDVALIDITY {uidvalidity}] UIDs valid" in untagged
    assert untagged[0] == "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)"
    assert "* OK [UIDNEXT 2] Predicted next UID" in untagged


def test_multiappend_is_all_or_nothing(server):
    c = server.login()
    m1, m2 = MSG.encode(), MSG.replace("Hello", "Second").encode()
    c.send(f"a1 APPEND INBOX {{{len(m1)}+}}\r\n".encode() + m1 + f" (\\Flagged) {{{len(m2)}+}}\r\n".encode() + m2 + b"\r\n")
    untagged, tagged = c.read_until_tagged("a1")
    assert appenduid(tagged)[1] == "1:2"
    # A bad date in the second message: nothing is stored.
    c.send(f"a2 APPEND INBOX {{{len(m1)}+}}\r\n".encode() + m1 + f' "31-Feb-2026 10:00:00 +0000" {{{len(m2)}+}}\r\n'.encode() + m2 + b"\r\n")
    assert c.read_until_tagged("a2")[1].startswith("a2 BAD")
    status = c.ok("SELECT INBOX")
    assert "* 2 EXISTS" in status


@pytest.mark.parametrize("args,answer", [
    ("(\\Recent)", "BAD"), ("(\\Bogus)", "BAD"), ('"32-Jan-2026 00:00:00 +0000"', "BAD"),
    ('"1-Jan-2026 00:00:00 +0000"', "BAD"), ("(foo{bar)", "BAD"),
])
def test_append_rejects_bad_flags_and_dates(server, args, answer):
    c = server.login()
    data = MSG.encode()
    c.send(f"a1 APPEND INBOX {args} {{{len(data)}+}}\r\n".encode() + data + b"\r\n")
    assert c.read_until_tagged("a1")[1].startswith("a1 " + answer)
    assert "* 0 EXISTS" in c.ok("SELECT INBOX")


def test_append_zero_bytes_and_missing_mailbox(server):
    c = server.login()
    c.send("a1 APPEND INBOX {0+}\r\n\r\n")
    assert c.read_until_tagged("a1")[1].startswith("a1 NO")
    untagged, tagged = append(c, "Nowhere")
    assert tagged.split()[1:3] == ["NO", "[TRYCREATE]"]


def test_append_over_appendlimit_is_refused_before_data(make_server):
    s = make_server("[limits]\nappend_size = 1K\n")
    c = s.login()
    c.send("a1 APPEND INBOX {5000}\r\n")
    line = c.readline()
    assert line.startswith("a1 NO [TOOBIG]"), line
    c.ok("NOOP")


def test_append_large_literal_streams_through_a_file(server):
    c = server.login()
    body = MSG + ("x" * 998 + "\r\n") * 2000  # ~2 MB
    untagged, tagged = append(c, "INBOX", msg=body)
    assert appenduid(tagged)[1] == "1"


def _text_body(size, seed):
    """A message of about size bytes of CRLF lines, different per seed."""
    rng = random.Random(seed)
    lines, n = [MSG], len(MSG)
    while n < size:
        line = "".join(rng.choice("abcdefghij klmnopqrstuvwxyz.,;ÄÖÜéß0123456789")
                       for _ in range(rng.randrange(1, 120))) + "\r\n"
        lines.append(line)
        n += len(line.encode())
    return "".join(lines).encode()


def _body_of(c, uid):
    untagged, tagged = c.command(f"UID FETCH {uid} (BODY.PEEK[])")
    assert " OK " in tagged, tagged
    (line,) = untagged
    return line.split("\r\n", 1)[1].encode("utf-8", "surrogateescape")[:-1]


@pytest.mark.parametrize("size", [20 * 1024, 200 * 1024, 3 * 1024 * 1024])
def test_large_literal_arrives_intact_with_a_command_behind_it(server, size):
    # Large literals are read from the socket in big pieces: the bytes of
    # the literal and the command pipelined right after it must both land.
    c = server.login()
    body = _text_body(size, size)
    c.send(b"a1 APPEND INBOX {%d+}\r\n" % len(body) + body + b"\r\na2 NOOP\r\n")
    _, tagged = c.read_until_tagged("a1")
    assert " OK " in tagged, tagged
    _, tagged = c.read_until_tagged("a2")
    assert tagged == "a2 OK NOOP completed"
    c.ok("SELECT INBOX")
    uid = c.ok("UID SEARCH ALL")[0].split()[-1]
    assert _body_of(c, uid) == body


def _stored_as_sent(c, tag, body):
    """The APPEND tagged tag succeeded and INBOX's one message is body."""
    _, tagged = c.read_until_tagged(tag)
    assert " OK " in tagged, tagged
    c.ok("SELECT INBOX")
    uid = c.ok("UID SEARCH ALL")[0].split()[-1]
    return _body_of(c, uid) == body


def test_large_literal_sent_in_dribs_arrives_intact(server):
    c = server.login()
    body = _text_body(1024 * 1024, 7)
    c.send(b"a1 APPEND INBOX {%d}\r\n" % len(body))
    assert c.readline().startswith("+ ")
    rng = random.Random(3)
    i = 0
    while i < len(body):
        n = rng.choice((1, 7, 4096, 20000, 65536, 300000))
        c.send(body[i:i + n])
        i += n
        if rng.random() < 0.2:
            time.sleep(0.01)
    c.send(b"\r\n")
    assert _stored_as_sent(c, "a1", body)


def test_nul_inside_a_large_literal_is_refused_and_skipped(server):
    c = server.login()
    body = bytearray(_text_body(1024 * 1024, 9))
    body[600000] = 0
    c.send(b"a1 APPEND INBOX {%d+}\r\n" % len(body) + bytes(body) + b"\r\na2 NOOP\r\n")
    _, tagged = c.read_until_tagged("a1")
    assert tagged.startswith("a1 BAD"), tagged
    _, tagged = c.read_until_tagged("a2")
    assert tagged == "a2 OK NOOP completed"
    assert "* 0 EXISTS" in c.ok("SELECT INBOX")


def test_large_literal_over_tls_arrives_intact(server):
    c = server.login(tls=True)
    body = _text_body(1024 * 1024, 11)
    c.send(b"a1 APPEND INBOX {%d+}\r\n" % len(body) + body + b"\r\n")
    assert _stored_as_sent(c, "a1", body)


def test_a_reset_during_append_leaves_no_body_that_no_message_uses(server):
    """A client that resets its connection while its APPEND's body is being
    written and linked into place: either the message is stored (the reset
    came too late) or its body file goes again at once, not at the next
    start of the server. The resets are spread over the few milliseconds
    the body takes."""
    body = ("x" * 998 + "\r\n") * 2000
    for i, delay in enumerate([0, 0.002, 0.004, 0.006, 0.008, 0.012, 0.016, 0.025]):
        c = server.login()
        data = (MSG.replace("Subject: Hello", f"Subject: Reset {i}") + body).encode()
        c.send(f"r APPEND INBOX {{{len(data)}+}}\r\n".encode() + data + b"\r\n")
        time.sleep(delay)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
    watcher = server.login()
    deadline = time.time() + 10
    while True:
        stored = int(re.search(r"MESSAGES (\d+)", watcher.ok("STATUS INBOX (MESSAGES)")[0])[1])
        blobs = [p for p in (server.data_dir / "users").glob("*/demo/blobs/*/*") if p.is_file()]
        if len(blobs) == stored or time.time() > deadline:
            break
        time.sleep(0.2)
    assert len(blobs) == stored


def test_expunge_sends_expunge_responses(server):
    c = server.login()
    for _ in range(4):
        append(c, "INBOX")
    c.ok("SELECT INBOX")
    c.ok("UNSELECT")
    for _ in range(2):
        append(c, "INBOX", flags="(\\Deleted)")
    c.ok("SELECT INBOX")
    untagged = c.ok("EXPUNGE")
    assert untagged == ["* 5 EXPUNGE", "* 5 EXPUNGE"]
    assert "* 4 EXISTS" in c.ok("SELECT INBOX")


def test_uid_expunge_only_in_set(server):
    c = server.login()
    for _ in range(3):
        append(c, "INBOX", flags="(\\Deleted)")
    c.ok("SELECT INBOX")
    assert c.ok("UID EXPUNGE 2:3") == ["* 2 EXPUNGE", "* 2 EXPUNGE"]
    c.bad("UID EXPUNGE")
    c.bad("UID EXPUNGE 0")


def test_close_expunges_silently_and_unselect_does_not(server):
    c = server.login()
    append(c, "INBOX", flags="(\\Deleted)")
    c.ok("SELECT INBOX")
    assert c.ok("UNSELECT") == []
    c.ok("SELECT INBOX")
    assert c.ok("CLOSE") == []
    assert "* 0 EXISTS" in c.ok("SELECT INBOX")
    c.ok("CHECK")
    c.bad("CHECK now")


def test_select_switch_sends_closed(server):
    c = server.login()
    c.ok("SELECT INBOX")
    untagged = c.ok("SELECT Sent")
    assert untagged[0] == "* OK [CLOSED] Previous mailbox closed"


def test_commands_need_selected_state(server):
    c = server.login()
    for cmd in ("EXPUNGE", "CLOSE", "UNSELECT", "CHECK"):
        c.bad(cmd)


def test_other_session_sees_append_and_expunge(server):
    a = server.login()
    b = server.login()
    a.ok("SELECT INBOX")
    b.ok("SELECT INBOX")
    append(b, "INBOX")
    append(b, "INBOX", flags="(\\Deleted)")
    untagged = a.ok("NOOP")
    assert "* 2 EXISTS" in untagged
    # b saw its own appends first and took \Recent for them (RFC 3501
    # 2.3.2: exactly one session gets it).
    assert "* 0 RECENT" in untagged
    b.ok("EXPUNGE")
    assert a.ok("NOOP") == ["* 2 EXPUNGE"]
    assert "* 1 EXISTS" in a.ok("SELECT INBOX")


def test_recent_is_given_to_one_session_only(server):
    a = server.login()
    append(a, "INBOX")
    b = server.login()
    first = b.ok("SELECT INBOX")
    second = server.login().ok("SELECT INBOX")
    assert "* 1 RECENT" in first and "* 0 RECENT" in second


# ---- when a session looks at its mailbox again -------------------------------
# A session skips reading its mailbox at the end of a command when nothing
# was committed on the database in the daemon since it last looked (less
# than a second ago); NOOP, CHECK and IDLE always look. Deliveries by
# another process (petrel deliver) are not counted, so they show at the
# next NOOP, or at any command a second later.

def _deliver_cli(server, text):
    r = server.cli("deliver", "-u", "demo", input=text)
    assert r.returncode == 0, r.stderr


def test_commit_in_the_daemon_shows_at_the_next_command(server):
    a, b = server.login(), server.login()
    a.ok("SELECT INBOX")
    a.ok("UID SEARCH ALL")              # looked: nothing new
    b.ok("APPEND INBOX {12+}\r\nSubject: x\r\n")
    # Not a poll: the commit made by another session shows anyway.
    untagged = a.ok("UID SEARCH ALL")
    assert "* 1 EXISTS" in untagged
    a.close()
    b.close()


def test_delivery_by_another_process_shows_at_noop_at_once(server):
    a = server.login()
    a.ok("SELECT INBOX")
    a.ok("UID SEARCH ALL")
    _deliver_cli(server, "Subject: from outside\n\nhello\n")
    assert "* 1 EXISTS" in a.ok("NOOP")
    a.close()


def test_own_store_after_a_delivery_by_another_process_reports_it(server):
    """A STORE whose commit follows the session's last look skips the read
    only when its MODSEQ is the next one: here a delivery by another
    process took one in between, so the STORE reports it."""
    a = server.login()
    a.ok("APPEND INBOX {12+}\r\nSubject: x\r\n")
    a.ok("SELECT INBOX")
    a.ok("UID SEARCH ALL")
    _deliver_cli(server, "Subject: from outside\n\nhello\n")
    untagged = a.ok("STORE 1 +FLAGS (\\Flagged)")
    assert "* 2 EXISTS" in untagged, untagged
    a.close()


def test_own_stores_and_expunges_keep_the_view_exact(server):
    """Own writes in a row (which need no read of the mailbox) interleaved
    with another session's: each command reports exactly the other's
    changes, and the view stays the store's."""
    a, b = server.login(), server.login()
    for i in range(4):
        a.ok("APPEND INBOX {%d+}\r\nSubject: %d\r\n" % (len(f"Subject: {i}") + 2, i))
    a.ok("SELECT INBOX")
    b.ok("SELECT INBOX")
    assert a.ok("STORE 1 +FLAGS.SILENT (\\Seen)") == []
    assert a.ok("STORE 2 +FLAGS (\\Answered)") == ["* 2 FETCH (FLAGS (\\Answered \\Recent))"]
    b.ok("STORE 3 +FLAGS.SILENT (\\Flagged)")
    assert a.ok("STORE 1 +FLAGS.SILENT (\\Deleted)") == ["* 3 FETCH (FLAGS (\\Flagged \\Recent))"]
    assert a.ok("EXPUNGE") == ["* 1 EXPUNGE"]
    b.ok("UID STORE 2 -FLAGS.SILENT (\\Answered)")
    assert a.ok("STORE 3 +FLAGS.SILENT (\\Seen)") == ["* 1 FETCH (FLAGS (\\Recent))"]
    assert a.ok("FETCH 1:* (FLAGS)") == [
        "* 1 FETCH (FLAGS (\\Recent))",
        "* 2 FETCH (FLAGS (\\Flagged \\Recent))",
        "* 3 FETCH (FLAGS (\\Seen \\Recent))"]
    a.close()
    b.close()


def test_appends_into_the_selected_mailbox_keep_the_view_exact(server):
    """APPEND into the mailbox the session has selected (which needs no
    read of the mailbox when nothing else changed it): the session is told
    EXISTS and RECENT at once, the new messages are \\Recent to it and to
    no other session, and another session's or process's changes in
    between are reported with it."""
    a, b = server.login(), server.login()
    append(a, "INBOX")
    untagged = a.ok("SELECT INBOX")
    assert "* 1 EXISTS" in untagged and "* 1 RECENT" in untagged, untagged
    untagged, tagged = append(a, "INBOX", flags="(\\Flagged)")
    assert untagged == ["* 2 EXISTS", "* 2 RECENT"], untagged
    assert appenduid(tagged)[1] == "2"
    untagged, tagged = append(a, "INBOX")
    assert untagged == ["* 3 EXISTS", "* 3 RECENT"], untagged
    # Another session's APPEND, then ours: both reported, ours \Recent.
    append(b, "INBOX")
    untagged, _ = append(a, "INBOX")
    assert untagged == ["* 5 EXISTS", "* 5 RECENT"], untagged
    _deliver_cli(server, "Subject: from outside\n\nhello\n")
    # MULTIAPPEND after another process's delivery, and one more.
    tag = a.next_tag()
    a.send(f"{tag} APPEND INBOX {{{len(MSG)}+}}\r\n{MSG} {{{len(MSG)}+}}\r\n{MSG}\r\n")
    untagged, tagged = a.read_until_tagged(tag)
    assert untagged == ["* 8 EXISTS", "* 8 RECENT"], untagged
    assert appenduid(tagged)[1] == "7:8"
    untagged, tagged = append(a, "INBOX", flags="(\\Seen)")
    assert untagged == ["* 9 EXISTS", "* 9 RECENT"], untagged
    assert a.ok("FETCH 1:* (UID FLAGS)") == [
        "* 1 FETCH (UID 1 FLAGS (\\Recent))",
        "* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent))"] + [
        f"* {i} FETCH (UID {i} FLAGS (\\Recent))" for i in range(3, 9)] + [
        "* 9 FETCH (UID 9 FLAGS (\\Seen \\Recent))"]
    assert a.ok("NOOP") == []
    untagged = b.ok("SELECT INBOX")
    assert "* 9 EXISTS" in untagged and "* 0 RECENT" in untagged, untagged
    assert b.ok("UID FETCH 9 (FLAGS)") == ["* 9 FETCH (UID 9 FLAGS (\\Seen))"]
    a.close()
    b.close()


def test_append_into_the_selected_mailbox_by_other_kinds_of_session(server):
    """IMAP4rev2 has no RECENT and leaves \\Recent to others; EXAMINE
    takes none; a new keyword brings a new FLAGS response."""
    a, b, c = server.login(), server.login(), server.login()
    append(a, "INBOX")
    a.ok("ENABLE IMAP4rev2")
    a.ok("SELECT INBOX")
    untagged, _ = append(a, "INBOX")
    assert untagged == ["* 2 EXISTS"], untagged
    b.ok("EXAMINE INBOX")
    untagged, _ = append(b, "INBOX")
    assert untagged == ["* 3 EXISTS", "* 0 RECENT"], untagged
    untagged = c.ok("SELECT INBOX")
    assert "* 3 RECENT" in untagged, untagged
    untagged, _ = append(c, "INBOX", flags="($Label1)")
    assert untagged[0] == "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label1)", untagged
    assert untagged[-2:] == ["* 4 EXISTS", "* 4 RECENT"], untagged
    for s in (a, b, c):
        s.close()


def test_delivery_by_another_process_shows_within_a_second(server):
    a = server.login()
    a.ok("SELECT INBOX")
    a.ok("UID SEARCH ALL")
    _deliver_cli(server, "Subject: from outside\n\nhello\n")
    time.sleep(1.1)
    assert "* 1 EXISTS" in a.ok("UID SEARCH ALL")
    a.close()
