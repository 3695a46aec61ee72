"""STORE / UID STORE (RFC 9051 6.4.6, CONDSTORE UNCHANGEDSINCE RFC 7162
3.1.3), COPY / UID COPY with COPYUID (RFC 4315) and MOVE / UID MOVE
(RFC 6851), alone and with two sessions on one mailbox (RFC 2180).

FETCH is not used: flags are read back through STORE's own FETCH responses
(an empty "+FLAGS ()" reports the current flags without changing them), the
FLAGS/EXISTS lines of SELECT and what another session is told at NOOP."""

import re

import pytest

from test_select_append import MSG, append

R = "\\Recent"


def msg(n):
    return MSG.replace("Hello", f"Message {n}").replace("<1@", f"<{n}@")


def fill(c, mailbox="INBOX", count=3, flags=""):
    """Appends count distinct messages; returns their UIDs."""
    uids = []
    for n in range(1, count + 1):
        _, tagged = append(c, mailbox, msg=msg(n), flags=flags)
        uids.append(int(re.search(r"APPENDUID \d+ (\d+)", tagged).group(1)))
    return uids


def selected(server, mailbox="INBOX", count=3):
    """A session with count fresh messages, all \\Recent to it."""
    c = server.login()
    fill(c, mailbox, count)
    c.ok(f"SELECT {mailbox}")
    return c


def flags_of(c, seq):
    """The current flags of message seq, through a STORE that changes
    nothing."""
    untagged = c.ok(f"STORE {seq} +FLAGS ()")
    assert len(untagged) == 1, untagged
    return untagged[0]


def run(c, text):
    """(untagged lines, tagged line without its tag)."""
    untagged, tagged = c.command(text)
    return untagged, tagged.split(" ", 1)[1]


def highestmodseq(untagged):
    for line in untagged:
        m = re.match(r"\* OK \[HIGHESTMODSEQ (\d+)\]", line)
        if m:
            return int(m.group(1))
    raise AssertionError(untagged)


def uidvalidity(c, mailbox):
    untagged = c.ok(f"STATUS {mailbox} (UIDVALIDITY)")
    return int(re.search(r"UIDVALIDITY (\d+)", untagged[0]).group(1))


def blob_count(server):
    return sum(1 for p in (server.data_dir / "users").glob("*/*/blobs/**/*") if p.is_file())


# ---- STORE ------------------------------------------------------------------


def test_store_replace_add_remove(server):
    c = selected(server)
    assert run(c, "STORE 1 FLAGS (\\Seen)") == (
        [f"* 1 FETCH (FLAGS (\\Seen {R}))"], "OK STORE completed")
    assert c.ok("STORE 1:2 +FLAGS (\\Flagged \\Answered)") == [
        f"* 1 FETCH (FLAGS (\\Answered \\Flagged \\Seen {R}))",
        f"* 2 FETCH (FLAGS (\\Answered \\Flagged {R}))"]
    assert c.ok("STORE 1 -FLAGS \\Seen") == [f"* 1 FETCH (FLAGS (\\Answered \\Flagged {R}))"]
    assert c.ok("STORE 2 FLAGS ()") == [f"* 2 FETCH (FLAGS ({R}))"]
    assert c.ok("STORE 3 +FLAGS \\Draft \\Deleted") == [f"* 3 FETCH (FLAGS (\\Deleted \\Draft {R}))"]
    assert c.ok("STORE 2:3 -FLAGS (\\Draft)") == [
        f"* 2 FETCH (FLAGS ({R}))", f"* 3 FETCH (FLAGS (\\Deleted {R}))"]
    # Case does not matter in the item name or the flags.
    assert c.ok("store 1 flags (\\seen \\DRAFT)") == [f"* 1 FETCH (FLAGS (\\Seen \\Draft {R}))"]


def test_store_without_recent_in_a_session_that_does_not_own_it(server):
    selected(server)
    b = server.login()
    b.ok("SELECT INBOX")
    assert b.ok("STORE 1:* +FLAGS (\\Seen)") == [
        "* 1 FETCH (FLAGS (\\Seen))", "* 2 FETCH (FLAGS (\\Seen))", "* 3 FETCH (FLAGS (\\Seen))"]


def test_uid_store_reports_uid_and_ignores_missing_uids(server):
    c = server.login()
    fill(c, count=4)
    c.ok("SELECT INBOX")
    c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    c.ok("EXPUNGE")  # message 1 is now UID 2
    assert run(c, "UID STORE 3 +FLAGS (\\Seen)") == (
        [f"* 2 FETCH (UID 3 FLAGS (\\Seen {R}))"], "OK UID STORE completed")
    assert c.ok("UID STORE 1,4:99 +FLAGS (\\Flagged)") == [
        f"* 3 FETCH (UID 4 FLAGS (\\Flagged {R}))"]
    assert run(c, "UID STORE 1,50:60 +FLAGS (\\Flagged)") == ([], "OK UID STORE completed")
    assert c.ok("UID STORE 2:* -FLAGS.SILENT (\\Flagged \\Seen)") == []
    assert flags_of(c, 1) == f"* 1 FETCH (FLAGS ({R}))"


def test_store_silent_sends_nothing_and_changes_flags(server):
    c = selected(server)
    assert c.ok("STORE 1:2 +FLAGS.SILENT (\\Seen \\Flagged)") == []
    assert c.ok("STORE 2 -flags.silent \\Flagged") == []
    assert c.ok("STORE 3 FLAGS.SILENT (\\Answered)") == []
    assert c.ok("NOOP") == []
    assert c.ok("STORE 1:3 +FLAGS ()") == [
        f"* 1 FETCH (FLAGS (\\Flagged \\Seen {R}))",
        f"* 2 FETCH (FLAGS (\\Seen {R}))",
        f"* 3 FETCH (FLAGS (\\Answered {R}))"]


def test_store_keywords_update_flags_in_both_sessions(server):
    a = selected(server)
    b = server.login()
    b.ok("SELECT INBOX")
    # The new keywords are announced (FLAGS, PERMANENTFLAGS) before the
    # FETCH that uses them.
    assert a.ok("STORE 1 +FLAGS ($Work Urgent)") == [
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work Urgent)",
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work Urgent \\*)]"
        " Flags permitted",
        f"* 1 FETCH (FLAGS ({R} $Work Urgent))"]
    assert b.ok("NOOP") == [
        "* 1 FETCH (FLAGS ($Work Urgent))",
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work Urgent)",
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work Urgent \\*)]"
        " Flags permitted"]
    # Keywords compare without case: no duplicate, no new FLAGS.
    assert a.ok("STORE 1:2 +FLAGS (URGENT \\Seen)") == [
        f"* 1 FETCH (FLAGS (\\Seen {R} $Work Urgent))",
        f"* 2 FETCH (FLAGS (\\Seen {R} URGENT))"]
    assert a.ok("STORE 1 -FLAGS (urgent)") == [f"* 1 FETCH (FLAGS (\\Seen {R} $Work))"]
    assert a.ok("STORE 1 FLAGS (\\Draft)") == [f"* 1 FETCH (FLAGS (\\Draft {R}))"]
    assert b.ok("NOOP") == ["* 1 FETCH (FLAGS (\\Draft))", "* 2 FETCH (FLAGS (\\Seen URGENT))"]
    # A new session's SELECT lists every keyword of the mailbox.
    assert server.login().ok("EXAMINE INBOX")[0] == \
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work Urgent)"


@pytest.mark.parametrize("args", [
    "1 +FLAGS (\\Recent)",
    "1 FLAGS \\Recent",
    "1 +FLAGS (\\Bogus)",
    "1 +FLAGS (\"quoted\")",
    "1 +FLAGS ((\\Seen))",
    "1 +FLAGS (bad%kw)",
    "1 FLAGX (\\Seen)",
    "1 +FLAGS.LOUD (\\Seen)",
    "1 FLAGS",
    "1 +FLAGS (\\Seen) \\Draft",
    "1",
    "(\\Seen) +FLAGS 1",
    "0 +FLAGS (\\Seen)",
    "4 +FLAGS (\\Seen)",
    "2:4 +FLAGS (\\Seen)",
    "1,* +FLAGS (\\Seen) extra",
    "1 () +FLAGS (\\Seen)",
    "1 (FOO 1) +FLAGS (\\Seen)",
    "1 (UNCHANGEDSINCE) +FLAGS (\\Seen)",
    "1 (UNCHANGEDSINCE x) +FLAGS (\\Seen)",
    "1 (UNCHANGEDSINCE -1) +FLAGS (\\Seen)",
    "1 (UNCHANGEDSINCE 9223372036854775808) +FLAGS (\\Seen)",
    "1 (UNCHANGEDSINCE 5 UNCHANGEDSINCE 6) +FLAGS (\\Seen)",
    "1 (UNCHANGEDSINCE 5) (UNCHANGEDSINCE 6) +FLAGS (\\Seen)",
])
def test_store_syntax_errors_are_bad_and_change_nothing(server, args):
    c = selected(server)
    untagged, tagged = run(c, f"STORE {args}")
    assert tagged.startswith("BAD "), tagged
    assert untagged == []
    assert flags_of(c, 1) == f"* 1 FETCH (FLAGS ({R}))"
    assert c.ok("NOOP") == []


def test_uid_store_bad_set_and_wrong_state(server):
    c = selected(server)
    c.bad("UID STORE 0 +FLAGS (\\Seen)")
    c.bad("UID STORE 1:x +FLAGS (\\Seen)")
    d = server.login()
    d.bad("STORE 1 +FLAGS (\\Seen)")
    d.bad("UID STORE 1 +FLAGS (\\Seen)")


def test_store_on_read_only_mailbox_is_no(server):
    c = selected(server)
    c.ok("STORE 1 +FLAGS (\\Answered)")
    e = server.login()
    e.ok("EXAMINE INBOX")
    assert run(e, "STORE 1:3 +FLAGS (\\Seen)") == ([], "NO Mailbox is read-only")
    assert run(e, "UID STORE 1 FLAGS.SILENT ()") == ([], "NO Mailbox is read-only")
    e.no("STORE 1 +FLAGS ($New)")
    assert c.ok("NOOP") == []
    assert c.ok("STORE 1:2 +FLAGS ()") == [
        f"* 1 FETCH (FLAGS (\\Answered {R}))", f"* 2 FETCH (FLAGS ({R}))"]
    assert server.login().ok("EXAMINE INBOX")[0] == \
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)"


def test_store_on_empty_mailbox_with_star(server):
    c = server.login()
    c.ok("SELECT Trash")
    assert run(c, "STORE 1:* +FLAGS (\\Seen)") == ([], "OK STORE completed")
    c.bad("STORE 1 +FLAGS (\\Seen)")


def test_keyword_limits(make_server):
    s = make_server("[limits]\nkeywords = 2\nkeyword_length = 8\n")
    c = selected(s)
    # The limit is reached: PERMANENTFLAGS no longer offers \*.
    assert c.ok("STORE 1 +FLAGS (alpha beta)") == [
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft alpha beta)",
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft alpha beta)]"
        " Flags permitted",
        f"* 1 FETCH (FLAGS ({R} alpha beta))"]
    assert c.no("STORE 2 +FLAGS (gamma)", "LIMIT").endswith(
        "NO [LIMIT] A mailbox may hold at most 2 keywords")
    c.no("STORE 2 FLAGS (ALPHA gamma \\Seen)", "LIMIT")
    # Keywords the mailbox already has can always be set; removal always
    # works.
    assert c.ok("STORE 2 FLAGS (ALPHA \\Seen)") == [f"* 2 FETCH (FLAGS (\\Seen {R} ALPHA))"]
    assert c.ok("STORE 2 -FLAGS (gamma alpha)") == [f"* 2 FETCH (FLAGS (\\Seen {R}))"]
    assert c.no("STORE 3 +FLAGS (abcdefghi)", "LIMIT").endswith(
        "NO [LIMIT] Keywords may be at most 8 bytes long")
    assert flags_of(c, 3) == f"* 3 FETCH (FLAGS ({R}))"
    assert c.ok("STORE 3 +FLAGS (\\Flagged)") == [f"* 3 FETCH (FLAGS (\\Flagged {R}))"]


def test_keywords_disabled(make_server):
    s = make_server("[limits]\nkeywords = 0\n")
    c = selected(s, count=1)
    c.no("STORE 1 +FLAGS ($Junk)", "LIMIT")
    c.no("STORE 1 FLAGS \\Seen x", "LIMIT")
    assert c.ok("STORE 1 +FLAGS \\Seen") == [f"* 1 FETCH (FLAGS (\\Seen {R}))"]


def test_store_in_one_session_is_seen_by_the_other(server):
    a = selected(server)
    b = server.login()
    b.ok("SELECT INBOX")
    a.ok("STORE 2 +FLAGS (\\Seen)")
    a.ok("STORE 3 +FLAGS.SILENT (\\Deleted)")
    assert b.ok("NOOP") == ["* 2 FETCH (FLAGS (\\Seen))", "* 3 FETCH (FLAGS (\\Deleted))"]
    assert b.ok("NOOP") == []
    # a's own changes are not reported back to a.
    assert a.ok("NOOP") == []


def test_silent_store_does_not_hide_another_sessions_change(server):
    a = selected(server)
    b = server.login()
    b.ok("SELECT INBOX")
    b.ok("STORE 1 +FLAGS (\\Flagged)")
    # a has not heard of b's \Flagged yet: it is told before its own silent
    # change, so what it derives (\Flagged \Seen) is right.
    assert a.ok("STORE 1 +FLAGS.SILENT (\\Seen)") == [f"* 1 FETCH (FLAGS (\\Flagged {R}))"]
    assert a.ok("NOOP") == []
    assert flags_of(a, 1) == f"* 1 FETCH (FLAGS (\\Flagged \\Seen {R}))"
    assert b.ok("NOOP") == ["* 1 FETCH (FLAGS (\\Flagged \\Seen))"]


def test_store_on_messages_expunged_by_another_session(server):
    """RFC 2180 4.2: STORE sends no EXPUNGE; the messages that still exist
    are changed; NO (or OK for .SILENT) tells the client to look."""
    a = selected(server)
    b = server.login()
    b.ok("SELECT INBOX")
    b.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    untagged, tagged = run(a, "STORE 1:3 +FLAGS (\\Seen)")
    assert untagged == [f"* 1 FETCH (FLAGS (\\Seen {R}))", f"* 3 FETCH (FLAGS (\\Seen {R}))"]
    assert tagged == "NO [EXPUNGEISSUED] Some of the messages no longer exist"
    untagged, tagged = run(a, "STORE 2 +FLAGS (\\Seen)")
    assert (untagged, tagged) == ([], "NO [EXPUNGEISSUED] Some of the messages no longer exist")
    untagged, tagged = run(a, "STORE 1:3 -FLAGS.SILENT (\\Seen)")
    assert (untagged, tagged) == ([], "OK [EXPUNGEISSUED] STORE completed")
    assert a.ok("NOOP") == ["* 2 EXPUNGE"]
    assert flags_of(a, 2) == f"* 2 FETCH (FLAGS ({R}))"


def test_uid_store_may_send_expunge(server):
    a = selected(server)
    b = server.login()
    b.ok("SELECT INBOX")
    b.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    # A UID command catches up with expunges before it runs, so its FETCH
    # responses use the new sequence numbers.
    untagged, tagged = run(a, "UID STORE 1:3 +FLAGS (\\Seen)")
    assert untagged == ["* 2 EXPUNGE",
                        f"* 1 FETCH (UID 1 FLAGS (\\Seen {R}))",
                        f"* 2 FETCH (UID 3 FLAGS (\\Seen {R}))"]
    assert tagged == "OK UID STORE completed"


def test_store_with_large_output_sends_everything(server):
    """About 500 KiB of FETCH responses: more than the connection buffers
    at once, so STORE writes them in steps (DESIGN 3)."""
    c = server.login()
    body = MSG.encode()
    count = 400
    c.send(b"m1 APPEND INBOX" + b"".join(
        f" {{{len(body)}+}}\r\n".encode() + body for _ in range(count)) + b"\r\n")
    assert c.read_until_tagged("m1")[1].startswith("m1 OK [APPENDUID ")
    c.ok("SELECT INBOX")
    keywords = " ".join(f"K{i}" + "x" * 200 for i in range(5))
    untagged, tagged = run(c, f"STORE 1:* +FLAGS ({keywords})")
    assert tagged == "OK STORE completed"
    assert untagged[0] == f"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft {keywords})"
    assert untagged[2:] == [f"* {n} FETCH (FLAGS ({R} {keywords}))" for n in range(1, count + 1)]
    assert c.ok("NOOP") == []


# ---- CONDSTORE: STORE (UNCHANGEDSINCE n) ------------------------------------


def test_unchangedsince_enables_condstore_and_reports_modified(server):
    c = server.login()
    fill(c, count=4)
    untagged = c.ok("SELECT INBOX")
    h = highestmodseq(untagged)
    c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    c.ok("EXPUNGE")  # sequence numbers 1:3 are now UIDs 2:4
    untagged, tagged = run(c, f"STORE 1 (UNCHANGEDSINCE {h}) +FLAGS (\\Seen)")
    # First CONDSTORE enabling command: HIGHESTMODSEQ, then MODSEQ in FETCH.
    assert len(untagged) == 2 and untagged[0].startswith("* OK [HIGHESTMODSEQ ")
    h2 = highestmodseq(untagged)
    assert h2 > h
    m = re.fullmatch(r"\* 1 FETCH \(FLAGS \(\\Seen \\Recent\) MODSEQ \((\d+)\)\)", untagged[1])
    assert m, untagged
    m1 = int(m.group(1))
    assert m1 > h2
    assert tagged == "OK STORE completed"
    # Message 1 changed after h: it fails and is reported with its flags
    # (RFC 7162 Example 10); message 2 passes; .SILENT still gives MODSEQ.
    untagged, tagged = run(c, f"STORE 1:2 (UNCHANGEDSINCE {h}) +FLAGS.SILENT (\\Flagged)")
    assert untagged[0] == f"* 1 FETCH (FLAGS (\\Seen {R}) MODSEQ ({m1}))"
    m2 = int(re.fullmatch(r"\* 2 FETCH \(MODSEQ \((\d+)\)\)", untagged[1]).group(1))
    assert m2 > m1 and len(untagged) == 2
    assert tagged == "OK [MODIFIED 1] Conditional STORE failed"
    # UID STORE names UIDs in MODIFIED and FETCH.
    untagged, tagged = run(c, f"UID STORE 2:3 (UNCHANGEDSINCE {m1}) -FLAGS (\\Seen \\Flagged)")
    assert untagged == [f"* 1 FETCH (UID 2 FLAGS ({R}) MODSEQ ({m2 + 1}))",
                        f"* 2 FETCH (UID 3 FLAGS (\\Flagged {R}) MODSEQ ({m2}))"]
    assert tagged == "OK [MODIFIED 3] Conditional STORE failed"
    assert c.ok("NOOP") == []


def test_unchangedsince_zero_always_fails(server):
    """RFC 7162 Example 8: testing for a keyword with UNCHANGEDSINCE 0."""
    c = selected(server, count=2)
    untagged, tagged = run(c, "STORE 2 (UNCHANGEDSINCE 0) +FLAGS.SILENT ($MDNSent)")
    assert untagged[0].startswith("* OK [HIGHESTMODSEQ ")
    assert re.fullmatch(r"\* 2 FETCH \(FLAGS \(\\Recent\) MODSEQ \(\d+\)\)", untagged[1])
    assert tagged == "OK [MODIFIED 2] Conditional STORE failed"
    assert server.login().ok("EXAMINE INBOX")[0] == \
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)"


def test_unchangedsince_high_value_passes_for_all(server):
    c = selected(server)
    untagged, tagged = run(c, "STORE 1:3 (UNCHANGEDSINCE 9223372036854775807) +FLAGS.SILENT ($Done)")
    assert tagged == "OK STORE completed"
    lines = [l for l in untagged if " FETCH " in l]
    # Every message of the set gets its new MODSEQ even with .SILENT; all
    # changed together, so they share one.
    mods = {re.fullmatch(r"\* (\d) FETCH \(MODSEQ \((\d+)\)\)", l).group(2) for l in lines}
    assert len(lines) == 3 and len(mods) == 1
    # A second identical STORE changes nothing but still reports the MODSEQ.
    untagged, tagged = run(c, "STORE 1:3 (UNCHANGEDSINCE 9223372036854775807) +FLAGS.SILENT ($Done)")
    m = mods.pop()
    assert untagged == [f"* {n} FETCH (MODSEQ ({m}))" for n in (1, 2, 3)]
    # No second HIGHESTMODSEQ: CONDSTORE is already on.
    assert not any("HIGHESTMODSEQ" in l for l in untagged)


def test_condstore_silent_store_reports_modseq_of_changed_messages(server):
    c = selected(server)
    c.ok("STORE 1 (UNCHANGEDSINCE 9223372036854775807) +FLAGS.SILENT (\\Seen)")
    untagged = c.ok("STORE 1:2 +FLAGS.SILENT (\\Seen)")
    assert len(untagged) == 1 and re.fullmatch(r"\* 2 FETCH \(MODSEQ \(\d+\)\)", untagged[0])
    untagged = c.ok("STORE 3 +FLAGS (\\Answered)")
    assert re.fullmatch(r"\* 3 FETCH \(FLAGS \(\\Answered \\Recent\) MODSEQ \(\d+\)\)", untagged[0])
    # Another session's change reaches this CONDSTORE session with UID
    # and MODSEQ.
    b = server.login()
    b.ok("SELECT INBOX")
    b.ok("STORE 3 -FLAGS (\\Answered)")
    untagged = c.ok("NOOP")
    assert len(untagged) == 1 and re.fullmatch(
        r"\* 3 FETCH \(UID 3 FLAGS \(\\Recent\) MODSEQ \(\d+\)\)", untagged[0])


def test_unchangedsince_on_read_only_mailbox(server):
    selected(server)
    e = server.login()
    e.ok("EXAMINE INBOX")
    untagged, tagged = run(e, "STORE 1 (UNCHANGEDSINCE 1) +FLAGS (\\Seen)")
    assert tagged == "NO Mailbox is read-only"
    assert len(untagged) == 1 and untagged[0].startswith("* OK [HIGHESTMODSEQ ")


def test_unchangedsince_with_expunged_messages(server):
    """RFC 7162 Example 11: MODIFIED in a tagged NO when some messages were
    expunged meanwhile; the failed one is reported with its flags."""
    a = server.login()
    fill(a)
    h = highestmodseq(a.ok("SELECT INBOX"))
    b = server.login()
    b.ok("SELECT INBOX")
    b.ok("STORE 1 +FLAGS (\\Flagged)")
    b.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    untagged, tagged = run(a, f"STORE 1:2 (UNCHANGEDSINCE {h}) +FLAGS (\\Seen)")
    assert tagged == "NO [MODIFIED 1] Some of the messages no longer exist"
    assert untagged[0] == f"* OK [HIGHESTMODSEQ {h}] Highest"
    assert re.fullmatch(r"\* 1 FETCH \(FLAGS \(\\Flagged \\Recent\) MODSEQ \(\d+\)\)", untagged[1])
    assert len(untagged) == 2
    assert a.ok("NOOP") == ["* 2 EXPUNGE"]
    assert flags_of(a, 1).startswith("* 1 FETCH (FLAGS (\\Flagged \\Recent) MODSEQ")


# ---- COPY -------------------------------------------------------------------


def test_copy_returns_copyuid_and_keeps_flags(server):
    c = selected(server)
    c.ok("STORE 1 +FLAGS (\\Seen $Work)")
    v = uidvalidity(c, "Trash")
    assert run(c, "COPY 1:2 Trash") == ([], f"OK [COPYUID {v} 1:2 1:2] COPY completed")
    # UID COPY: sets in the same (ascending) order whatever the client wrote.
    assert run(c, "UID COPY 3,1 Trash") == ([], f"OK [COPYUID {v} 1,3 3:4] UID COPY completed")
    untagged = c.ok("SELECT Trash")
    assert untagged[0] == "* OK [CLOSED] Previous mailbox closed"
    assert "* 4 EXISTS" in untagged
    assert untagged[1] == "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)"
    assert c.ok("STORE 1:4 +FLAGS ()") == [
        f"* 1 FETCH (FLAGS (\\Seen {R} $Work))", f"* 2 FETCH (FLAGS ({R}))",
        f"* 3 FETCH (FLAGS (\\Seen {R} $Work))", f"* 4 FETCH (FLAGS ({R}))"]


def test_copy_shares_the_blob(server):
    c = selected(server)
    before = blob_count(server)
    assert before == 3
    c.ok("COPY 1:3 Archive")
    c.ok("UID COPY 1:* Trash")
    c.ok("MOVE 1 Junk")
    assert blob_count(server) == before


def test_copy_into_selected_mailbox(server):
    c = selected(server, count=2)
    v = uidvalidity(c, "INBOX")
    untagged, tagged = run(c, "COPY 2 INBOX")
    assert tagged == f"OK [COPYUID {v} 2 3] COPY completed"
    assert untagged == ["* 3 EXISTS", "* 3 RECENT"]


def test_copy_errors(server):
    c = selected(server)
    assert c.no("COPY 1 Nosuch", "TRYCREATE").endswith(" NO [TRYCREATE] Mailbox does not exist")
    c.no("UID COPY 1 Nosuch", "TRYCREATE")
    c.ok("CREATE a/b")
    c.ok("DELETE a")  # a stays as \Noselect: CREATE a makes it usable
    c.no("COPY 1 a", "TRYCREATE")
    c.bad("COPY 4 Trash")
    c.bad("COPY 0 Trash")
    c.bad("COPY 1")
    c.bad("COPY 1 Trash extra")
    c.bad("COPY (1) Trash")
    c.no("COPY 1 \"a//b\"", "NONEXISTENT")
    server.login().bad("COPY 1 Trash")
    assert c.ok("STATUS Trash (MESSAGES)") == ['* STATUS "Trash" (MESSAGES 0)']
    # A set that matches nothing copies nothing: no COPYUID.
    assert run(c, "UID COPY 50:60 Trash") == ([], "OK UID COPY completed")


def test_copy_of_messages_expunged_by_another_session(server):
    """RFC 2180 4.4: what still exists is copied (COPYUID says which) and
    the pending EXPUNGE is sent before the tagged OK."""
    a = selected(server)
    v = uidvalidity(a, "Trash")
    b = server.login()
    b.ok("SELECT INBOX")
    b.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    assert run(a, "COPY 1:3 Trash") == (["* 2 EXPUNGE"], f"OK [COPYUID {v} 1,3 1:2] COPY completed")


def test_copy_and_move_from_a_mailbox_deleted_meanwhile(server):
    """The source is gone, not the target: NONEXISTENT, never TRYCREATE."""
    a = server.login()
    a.ok("CREATE Work")
    fill(a, "Work", count=2)
    a.ok("SELECT Work")
    server.login().ok("DELETE Work")
    untagged, tagged = run(a, "COPY 1 Trash")
    assert tagged.startswith("NO [NONEXISTENT] "), tagged
    assert untagged == ["* 1 EXPUNGE", "* 1 EXPUNGE"]
    a.bad("COPY 1 Trash")  # the view is empty now
    a.ok("CREATE Work")
    fill(a, "Work", count=1)
    a.ok("SELECT Work")
    server.login().ok("DELETE Work")
    untagged, tagged = run(a, "MOVE 1 Trash")
    assert tagged.startswith("NO [NONEXISTENT] "), tagged
    assert untagged == ["* 1 EXPUNGE"]
    assert a.ok("STATUS Trash (MESSAGES)") == ['* STATUS "Trash" (MESSAGES 0)']


def test_copy_from_read_only_mailbox_is_allowed(server):
    selected(server)
    e = server.login()
    e.ok("EXAMINE INBOX")
    v = uidvalidity(e, "Sent")
    assert run(e, "COPY 2 Sent") == ([], f"OK [COPYUID {v} 2 1] COPY completed")


def test_copy_is_seen_by_a_session_on_the_target(server):
    a = selected(server)
    b = server.login()
    b.ok("SELECT Archive")
    a.ok("COPY 1:2 Archive")
    assert b.ok("NOOP") == ["* 2 EXISTS", "* 2 RECENT"]


# ---- MOVE -------------------------------------------------------------------


def test_move_sends_copyuid_then_expunge(server):
    a = selected(server, count=4)
    b = server.login()
    b.ok("SELECT INBOX")
    v = uidvalidity(a, "Trash")
    untagged, tagged = run(a, "MOVE 2 Trash")
    assert untagged == [f"* OK [COPYUID {v} 2 1] Moved", "* 2 EXPUNGE"]
    assert tagged == "OK MOVE completed"
    # Now UIDs 1,3,4 are messages 1:3.
    untagged, tagged = run(a, "UID MOVE 4,1 Trash")
    assert untagged == [f"* OK [COPYUID {v} 1,4 2:3] Moved", "* 1 EXPUNGE", "* 2 EXPUNGE"]
    assert tagged == "OK UID MOVE completed"
    # b learns of UIDs 1, 2 and 4 at once, in ascending order.
    assert b.ok("NOOP") == ["* 1 EXPUNGE", "* 1 EXPUNGE", "* 2 EXPUNGE"]
    assert "* 1 EXISTS" in a.ok("SELECT INBOX")
    assert "* 3 EXISTS" in a.ok("SELECT Trash")


def test_move_keeps_flags_and_does_not_set_deleted(server):
    a = selected(server, count=2)
    a.ok("STORE 2 +FLAGS (\\Answered Later)")
    a.ok("MOVE 1:2 Archive")
    untagged = a.ok("SELECT Archive")
    assert untagged[1] == "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft Later)"
    assert a.ok("STORE 1:2 +FLAGS ()") == [
        f"* 1 FETCH (FLAGS ({R}))", f"* 2 FETCH (FLAGS (\\Answered {R} Later))"]


def test_move_errors(server):
    a = selected(server)
    assert a.no("MOVE 1 INBOX", "CANNOT").endswith(" NO [CANNOT] Cannot move messages into the same mailbox")
    a.no("UID MOVE 1:* inbox", "CANNOT")
    assert a.no("MOVE 1 Nosuch", "TRYCREATE").endswith(" NO [TRYCREATE] Mailbox does not exist")
    a.bad("MOVE 4 Trash")
    a.bad("MOVE 1")
    a.bad("MOVE 1:2")
    assert run(a, "UID MOVE 7:9 Trash") == ([], "OK UID MOVE completed")
    e = server.login()
    e.ok("EXAMINE INBOX")
    assert run(e, "MOVE 1 Trash") == ([], "NO Mailbox is read-only")
    e.bad("MOVE 9 Trash")
    server.login().bad("MOVE 1 Trash")
    assert "* 3 EXISTS" in a.ok("SELECT INBOX")
    assert a.ok("STATUS Trash (MESSAGES)") == ['* STATUS "Trash" (MESSAGES 0)']


def test_move_of_messages_expunged_by_another_session(server):
    a = selected(server)
    v = uidvalidity(a, "Trash")
    b = server.login()
    b.ok("SELECT INBOX")
    b.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    untagged, tagged = run(a, "MOVE 2:3 Trash")
    # Message 3 moves; message 2 was already gone: both are expunged.
    assert untagged == [f"* OK [COPYUID {v} 3 1] Moved", "* 3 EXPUNGE", "* 2 EXPUNGE"]
    assert tagged == "OK MOVE completed"
    untagged, tagged = run(a, "MOVE 1 Trash")
    assert tagged == "OK MOVE completed"


def test_move_in_condstore_session_reports_highestmodseq(server):
    a = selected(server)
    untagged = a.ok("STORE 1 (UNCHANGEDSINCE 9223372036854775807) +FLAGS.SILENT (\\Seen)")
    h = highestmodseq(untagged)
    untagged, tagged = run(a, "MOVE 1 Trash")
    m = re.fullmatch(r"OK \[HIGHESTMODSEQ (\d+)\] MOVE completed", tagged)
    assert m and int(m.group(1)) > h, tagged
    assert untagged[1] == "* 1 EXPUNGE"
    assert highestmodseq(a.ok("SELECT INBOX")) == int(m.group(1))


def test_qresync_session_gets_vanished_uid_and_modseq(server):
    """RFC 6851 4.4 / RFC 7162 3.2.4: VANISHED instead of EXPUNGE, UID in
    every FETCH, HIGHESTMODSEQ in the tagged OK of MOVE."""
    c = server.login()
    c.ok("ENABLE QRESYNC")
    fill(c, count=3)
    v = uidvalidity(c, "Trash")
    h = highestmodseq(c.ok("SELECT INBOX"))
    untagged = c.ok("STORE 2 +FLAGS (\\Seen)")
    m = re.fullmatch(r"\* 2 FETCH \(UID 2 FLAGS \(\\Seen \\Recent\) MODSEQ \((\d+)\)\)", untagged[0])
    assert m and int(m.group(1)) > h and len(untagged) == 1, untagged
    untagged, tagged = run(c, "MOVE 1:2 Trash")
    assert untagged == [f"* OK [COPYUID {v} 1:2 1:2] Moved", "* VANISHED 1:2"]
    h2 = int(re.fullmatch(r"OK \[HIGHESTMODSEQ (\d+)\] MOVE completed", tagged).group(1))
    assert h2 > int(m.group(1))
    assert c.ok("NOOP") == []


def test_imap4rev2_session_has_no_recent(server):
    c = server.login()
    c.ok("ENABLE IMAP4rev2")
    fill(c, count=2)
    c.ok("SELECT INBOX")
    assert c.ok("STORE 1:2 +FLAGS (\\Seen)") == ["* 1 FETCH (FLAGS (\\Seen))",
                                                 "* 2 FETCH (FLAGS (\\Seen))"]


def test_capabilities_list_move_and_uidplus(server):
    c = server.login()
    caps = c.ok("CAPABILITY")[0].split()
    assert "MOVE" in caps and "UIDPLUS" in caps
