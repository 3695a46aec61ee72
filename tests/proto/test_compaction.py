"""The expunge log QRESYNC answers from is compacted ([store]
expunge_log_max_entries, expunge_log_max_age): a client resynchronising
from a MODSEQ older than what is kept must still learn of every UID it
knows that no longer exists (RFC 7162 §3.2.5.1, §3.2.6), and a selected
session left behind must still be told of every expunge."""

import re
import sqlite3

import pytest

from test_condstore import highestmodseq, uidvalidity
from test_select_append import append

# A log of three entries per mailbox: every expunge beyond that compacts.
SMALL_LOG = "[store]\nexpunge_log_max_entries = 3\n"


def uid_set(text):
    out = set()
    for part in text.split(","):
        lo, _, hi = part.partition(":")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def vanished_earlier(untagged):
    """The UIDs of every VANISHED (EARLIER) response (at most one line)."""
    lines = [l for l in untagged if l.startswith("* VANISHED (EARLIER) ")]
    assert len(lines) <= 1, untagged
    return uid_set(lines[0].split(" ", 3)[3]) if lines else set()


def expunge_one(c, uid):
    """UID EXPUNGE of one message (one log entry); returns the new
    HIGHESTMODSEQ from the tagged OK (RFC 7162 §3.2.7)."""
    c.ok(f"UID STORE {uid} +FLAGS.SILENT (\\Deleted)")
    untagged, tagged = c.command(f"UID EXPUNGE {uid}")
    m = re.search(r"OK \[HIGHESTMODSEQ (\d+)\]", tagged)
    assert m, tagged
    return int(m.group(1))


def expunge_log(server, user="demo"):
    """(entries, expunge floor) of the user's INBOX, read from the store."""
    (path,) = list(server.data_dir.glob(f"users/*/{user}/mail.db"))
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        floor, box = db.execute("SELECT expunge_floor, id FROM mailboxes WHERE name = 'INBOX'").fetchone()
        (entries,) = db.execute("SELECT count(*) FROM expunged WHERE mailbox_id = ?", (box,)).fetchone()
        return entries, floor
    finally:
        db.close()


def fill(c, n):
    for _ in range(n):
        append(c, "INBOX")


@pytest.fixture
def small_log_server(make_server):
    return make_server(SMALL_LOG)


def test_resync_from_below_the_floor_reports_every_known_uid_gone(small_log_server):
    server = small_log_server
    a = server.login()
    fill(a, 12)
    a.ok("ENABLE QRESYNC")
    untagged = a.ok("SELECT INBOX")
    uv, m0 = uidvalidity(untagged), highestmodseq(untagged)
    gone = [2, 3, 5, 8, 9, 11]
    for uid in gone:
        expunge_one(a, uid)
    entries, floor = expunge_log(server)
    assert entries <= 3 and floor > m0, (entries, floor, m0)

    b = server.login()
    b.ok("ENABLE QRESYNC")
    # Without known-uids the client knows 1:UIDNEXT-1 = 1:12.
    untagged = b.ok(f"SELECT INBOX (QRESYNC ({uv} {m0}))")
    assert vanished_earlier(untagged) == set(gone)
    assert "* 6 EXISTS" in untagged
    # Only what the client says it knows.
    b.ok("UNSELECT")
    untagged = b.ok(f"SELECT INBOX (QRESYNC ({uv} {m0} 1:6,10:12))")
    assert vanished_earlier(untagged) == {2, 3, 5, 11}
    # The same from UID FETCH ... VANISHED.
    untagged = b.ok(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {m0} VANISHED)")
    assert vanished_earlier(untagged) == set(gone)
    assert not any(" FETCH " in l for l in untagged)


def test_resync_around_the_floor(small_log_server):
    server = small_log_server
    a = server.login()
    fill(a, 12)
    a.ok("ENABLE QRESYNC")
    uv = uidvalidity(a.ok("SELECT INBOX"))
    gone = [2, 3, 5, 8, 9, 11]
    after = {uid: expunge_one(a, uid) for uid in gone}
    entries, floor = expunge_log(server)
    assert entries == 3 and floor == after[5], (entries, floor, after)
    b = server.login()
    b.ok("ENABLE QRESYNC")
    # At the floor: the log still holds everything later, exactly.
    untagged = b.ok(f"SELECT INBOX (QRESYNC ({uv} {after[5]}))")
    assert vanished_earlier(untagged) == {8, 9, 11}
    b.ok("UNSELECT")
    # Below it: every known UID that is gone, the ones the client already
    # knew about allowed, none of those expunged since missing.
    untagged = b.ok(f"SELECT INBOX (QRESYNC ({uv} {after[3]}))")
    reported = vanished_earlier(untagged)
    assert {5, 8, 9, 11} <= reported <= set(gone), reported


def test_sequence_match_data_narrows_the_answer(small_log_server):
    server = small_log_server
    a = server.login()
    fill(a, 12)
    a.ok("ENABLE QRESYNC")
    uv = uidvalidity(a.ok("SELECT INBOX"))
    m_client = expunge_one(a, 3)  # the client below synced after this one
    for uid in (9, 10, 11, 12):
        expunge_one(a, uid)
    entries, floor = expunge_log(server)
    assert floor > m_client, (floor, m_client)
    append(a, "INBOX")  # UID 13, unknown to the client
    b = server.login()
    b.ok("ENABLE QRESYNC")
    # The client's cache: 1,2,4:12 at sequence numbers 1..11.
    untagged = b.ok(f"SELECT INBOX (QRESYNC ({uv} {m_client} 1:12))")
    assert vanished_earlier(untagged) == {3, 9, 10, 11, 12}
    b.ok("UNSELECT")
    # Sequence numbers 1..7 still have the UIDs the client had there
    # (1,2,4:8): nothing at or below UID 8 can have vanished unseen.
    untagged = b.ok(f"SELECT INBOX (QRESYNC ({uv} {m_client} 1:12 (1:7 1,2,4:8)))")
    assert vanished_earlier(untagged) == {9, 10, 11, 12}
    b.ok("UNSELECT")
    # A pair that no longer matches proves nothing from there on.
    untagged = b.ok(f"SELECT INBOX (QRESYNC ({uv} {m_client} 1:12 (1,2,9 1,2,10)))")
    assert vanished_earlier(untagged) == {3, 9, 10, 11, 12}


def test_selected_session_left_behind_gets_every_expunge(small_log_server):
    server = small_log_server
    a = server.login()
    fill(a, 10)
    b = server.login()
    untagged = b.ok("SELECT INBOX")
    assert "* 10 EXISTS" in untagged
    a.ok("SELECT INBOX")
    for uid in (2, 4, 6, 7, 9):
        a.ok(f"UID STORE {uid} +FLAGS.SILENT (\\Deleted)")
        a.ok(f"UID EXPUNGE {uid}")
    append(a, "INBOX")  # UID 11
    entries, floor = expunge_log(server)
    assert entries <= 3
    untagged = b.ok("NOOP")
    # RFC 9051 §7.5.1: each EXPUNGE shifts the later numbers down.
    assert [l for l in untagged if l.endswith(" EXPUNGE")] == [
        "* 2 EXPUNGE", "* 3 EXPUNGE", "* 4 EXPUNGE", "* 4 EXPUNGE", "* 5 EXPUNGE"]
    assert "* 6 EXISTS" in untagged
    fetched = b.ok("FETCH 1:* (UID)")
    assert [re.search(r"UID (\d+)", l).group(1) for l in fetched] == ["1", "3", "5", "8", "10", "11"]


def test_qresync_session_left_behind_gets_vanished(small_log_server):
    server = small_log_server
    a = server.login()
    fill(a, 8)
    b = server.login()
    b.ok("ENABLE QRESYNC")
    b.ok("SELECT INBOX")
    a.ok("SELECT INBOX")
    for uid in (1, 3, 5, 6, 8):
        a.ok(f"UID STORE {uid} +FLAGS.SILENT (\\Deleted)")
        a.ok(f"UID EXPUNGE {uid}")
    untagged = b.ok("NOOP")
    vanished = [l for l in untagged if l.startswith("* VANISHED ")]
    assert vanished == ["* VANISHED 1,3,5:6,8"]


def test_log_kept_within_limits_without_compaction_below_them(make_server):
    server = make_server("[store]\nexpunge_log_max_entries = 100\n")
    a = server.login()
    fill(a, 6)
    a.ok("ENABLE QRESYNC")
    untagged = a.ok("SELECT INBOX")
    uv, m0 = uidvalidity(untagged), highestmodseq(untagged)
    for uid in (1, 2, 3):
        expunge_one(a, uid)
    entries, floor = expunge_log(server)
    assert entries == 3 and floor == 0
    b = server.login()
    b.ok("ENABLE QRESYNC")
    # Complete log: exactly the expunges after the client's MODSEQ.
    untagged = b.ok(f"SELECT INBOX (QRESYNC ({uv} {m0} 1:20))")
    assert vanished_earlier(untagged) == {1, 2, 3}


def test_old_entries_go_by_age(make_server):
    # expunge_log_max_age = 0 would mean "no limit"; one second is the
    # smallest age. Entries stamped a second ago or more are forgotten at
    # the next expunge, so backdate them instead of sleeping.
    server = make_server("[store]\nexpunge_log_max_age = 1\n")
    a = server.login()
    fill(a, 6)
    a.ok("ENABLE QRESYNC")
    untagged = a.ok("SELECT INBOX")
    uv, m0 = uidvalidity(untagged), highestmodseq(untagged)
    first = expunge_one(a, 1)
    expunge_one(a, 2)
    server.stop()
    (path,) = list(server.data_dir.glob("users/*/demo/mail.db"))
    db = sqlite3.connect(path)
    db.execute("UPDATE expunged SET expunged_at = expunged_at - 3600")
    db.commit()
    db.close()
    server.start()
    a = server.login()
    a.ok("ENABLE QRESYNC")
    a.ok("SELECT INBOX")
    expunge_one(a, 4)
    entries, floor = expunge_log(server)
    assert entries == 1 and floor > first, (entries, floor)
    b = server.login()
    b.ok("ENABLE QRESYNC")
    untagged = b.ok(f"SELECT INBOX (QRESYNC ({uv} {m0}))")
    assert vanished_earlier(untagged) == {1, 2, 4}
