"""CONDSTORE and QRESYNC (RFC 7162): MODSEQ, CHANGEDSINCE, SELECT with
QRESYNC after changes made while the client was away, VANISHED."""

import re

from test_select_append import append


def highestmodseq(untagged):
    for line in untagged:
        m = re.match(r"\* OK \[HIGHESTMODSEQ (\d+)\]", line)
        if m:
            return int(m.group(1))
    raise AssertionError(untagged)


def uidvalidity(untagged):
    for line in untagged:
        m = re.match(r"\* OK \[UIDVALIDITY (\d+)\]", line)
        if m:
            return int(m.group(1))
    raise AssertionError(untagged)


def test_enable_condstore_and_qresync(server):
    c = server.login()
    caps = c.ok("CAPABILITY")[0]
    assert " CONDSTORE" in caps and " QRESYNC" in caps
    assert c.ok("ENABLE QRESYNC") == ["* ENABLED QRESYNC"]
    assert c.ok("ENABLE CONDSTORE QRESYNC") == ["* ENABLED"]


def test_qresync_parameter_needs_enable(server):
    c = server.login()
    c.bad("SELECT INBOX (QRESYNC (1 1))")
    c.ok("ENABLE QRESYNC")
    c.bad("SELECT INBOX (QRESYNC (1))")
    c.bad("SELECT INBOX (QRESYNC (1 0))")
    c.bad("SELECT INBOX (FOO)")
    c.ok("SELECT INBOX (QRESYNC (1 1))")


def test_modseq_and_changedsince(server):
    c = server.login()
    for _ in range(3):
        append(c, "INBOX")
    untagged = c.ok("SELECT INBOX (CONDSTORE)")
    base = highestmodseq(untagged)
    lines = c.ok("FETCH 1:* (MODSEQ)")
    assert all(re.match(r"\* \d FETCH \(MODSEQ \(\d+\)\)", l) for l in lines)
    assert c.ok(f"FETCH 1:* (FLAGS) (CHANGEDSINCE {base})") == []
    c.ok("STORE 2 +FLAGS.SILENT (\\Flagged)")
    changed = c.ok(f"FETCH 1:* (FLAGS) (CHANGEDSINCE {base})")
    assert len(changed) == 1 and changed[0].startswith("* 2 FETCH (FLAGS (\\Flagged \\Recent) MODSEQ (")
    c.bad("FETCH 1:* (FLAGS) (CHANGEDSINCE 0)")
    c.bad("FETCH 1:* (FLAGS) (CHANGEDSINCE 5 VANISHED)")  # VANISHED only with UID FETCH


def test_qresync_after_changes_while_away(server):
    a = server.login()
    for _ in range(5):
        append(a, "INBOX")
    a.ok("ENABLE QRESYNC")
    untagged = a.ok("SELECT INBOX")
    uv, ms = uidvalidity(untagged), highestmodseq(untagged)
    a.ok("LOGOUT")
    # Another client changes flags of UID 2 and expunges UID 4 and 5.
    b = server.login()
    b.ok("SELECT INBOX")
    b.ok("UID STORE 2 +FLAGS (\\Answered)")
    b.ok("UID STORE 4:5 +FLAGS (\\Deleted)")
    b.ok("EXPUNGE")
    append(b, "INBOX")  # UID 6
    c = server.login()
    c.ok("ENABLE QRESYNC")
    untagged = c.ok(f"SELECT INBOX (QRESYNC ({uv} {ms} 1:5))")
    assert "* VANISHED (EARLIER) 4:5" in untagged
    fetches = [l for l in untagged if " FETCH " in l]
    assert len(fetches) == 1
    assert re.match(r"\* 2 FETCH \(UID 2 FLAGS \(\\Answered\) MODSEQ \(\d+\)\)$", fetches[0]), fetches
    # Without known-uids the client is assumed to know 1:UIDNEXT-1.
    c.ok("UNSELECT")
    untagged = c.ok(f"SELECT INBOX (QRESYNC ({uv} {ms}))")
    assert "* VANISHED (EARLIER) 4:5" in untagged
    assert any(l.startswith("* 4 FETCH (UID 6 ") for l in untagged)
    # A different UIDVALIDITY: no resync data at all.
    c.ok("UNSELECT")
    untagged = c.ok(f"SELECT INBOX (QRESYNC ({uv + 1} {ms}))")
    assert not any("VANISHED" in l or "FETCH" in l for l in untagged)


def test_uid_fetch_vanished(server):
    a = server.login()
    for _ in range(4):
        append(a, "INBOX", flags="(\\Deleted)")
    a.ok("ENABLE QRESYNC")
    ms = highestmodseq(a.ok("SELECT INBOX"))
    b = server.login()
    b.ok("SELECT INBOX")
    b.ok("UID EXPUNGE 1:2")
    untagged = a.ok(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {ms} VANISHED)")
    assert "* VANISHED (EARLIER) 1:2" in untagged


def test_qresync_session_gets_vanished_not_expunge(server):
    a = server.login()
    for _ in range(3):
        append(a, "INBOX", flags="(\\Deleted)")
    a.ok("ENABLE QRESYNC")
    ms = highestmodseq(a.ok("SELECT INBOX"))
    untagged, tagged = a.command("EXPUNGE")
    assert untagged == ["* VANISHED 1:3"]
    m = re.search(r"OK \[HIGHESTMODSEQ (\d+)\] EXPUNGE completed", tagged)
    assert m and int(m.group(1)) > ms, tagged
