"""SELECT of a big mailbox is served from a per-worker copy of the view
brought up to date from HIGHESTMODSEQ (store-view.c). Whatever other
sessions did in between, a new SELECT must show exactly the mailbox as it
is: the right messages at the right sequence numbers with the right flags
and MODSEQs."""

import re

from test_condstore import highestmodseq

# Above the size from which views are kept (4096 messages).
BIG = 4200
CONFIG = "[limits]\narguments = 100000\nline_length = 4M\n"


def slow_login(server):
    """A session that waits long for answers: FETCH 1:* of thousands of
    messages on a machine shared with other builds (no timing is asserted)."""
    c = server.login()
    c.sock.settimeout(120)
    return c


def multiappend(c, count, flags_for):
    """One MULTIAPPEND (RFC 3502) of count small messages: one transaction."""
    tag = c.next_tag()
    parts = [tag.encode() + b" APPEND INBOX"]
    for i in range(count):
        body = b"Subject: m%d\r\n\r\nx\r\n" % i
        parts.append(b" (%s) {%d+}\r\n" % (flags_for(i).encode(), len(body)) + body)
    c.send(b"".join(parts) + b"\r\n")
    # Thousands of messages, each written durably: more than the usual
    # 20 s under the sanitizers.
    c.sock.settimeout(300)
    try:
        untagged, tagged = c.read_until_tagged(tag)
    finally:
        c.sock.settimeout(120)
    assert " OK " in tagged, tagged


def state(c):
    """[(uid, flags, modseq)] in sequence order, from FETCH."""
    rows = []
    for line in c.ok("FETCH 1:* (UID FLAGS MODSEQ)"):
        m = re.match(r"\* (\d+) FETCH \(UID (\d+) FLAGS \(([^)]*)\) MODSEQ \((\d+)\)\)", line)
        assert m, line
        assert int(m.group(1)) == len(rows) + 1
        flags = " ".join(sorted(f for f in m.group(3).split() if f != "\\Recent"))
        rows.append((int(m.group(2)), flags, int(m.group(4))))
    return rows


def searches(c):
    """SEARCH keys answered from the session's view of the flags."""
    return [c.ok(f"UID SEARCH {key}") for key in ("FLAGGED", "UNSEEN", "DELETED", "ANSWERED")]


def test_reselect_after_changes_by_others_shows_the_mailbox_as_it_is(make_server):
    server = make_server(CONFIG)
    a = slow_login(server)
    multiappend(a, BIG, lambda i: "\\Seen" if i % 3 else "")
    untagged = a.ok("SELECT INBOX")
    assert f"* {BIG} EXISTS" in untagged
    before = state(a)
    a.ok("SELECT INBOX")  # now from the worker's copy
    assert state(a) == before
    # Another session changes flags, expunges and appends.
    b = slow_login(server)
    b.ok("SELECT INBOX")
    b.ok("UID STORE 5:9 +FLAGS.SILENT (\\Flagged)")
    b.ok("UID STORE 100:104,4000 +FLAGS.SILENT (\\Deleted)")
    b.ok("UID EXPUNGE 100:104")
    b.ok("UID STORE 1 -FLAGS.SILENT (\\Seen)")
    multiappend(b, 3, lambda i: "\\Answered")
    b.ok("UID STORE 4200 +FLAGS.SILENT (\\Deleted)")
    b.ok("UID EXPUNGE 4200")
    expected = state(b)
    assert len(expected) == BIG - 6 + 3
    c = slow_login(server)
    (status,) = c.ok("STATUS INBOX (HIGHESTMODSEQ)")
    modseq = int(re.search(r"HIGHESTMODSEQ (\d+)", status).group(1))
    expected_searches = searches(b)
    assert expected_searches[0] == ["* SEARCH 5 6 7 8 9"]
    for _ in range(2):
        untagged = a.ok("SELECT INBOX")
        assert f"* {len(expected)} EXISTS" in untagged
        assert highestmodseq(untagged) == modseq
        # The first message lost \Seen: rev1's UNSEEN code comes from the view.
        assert "* OK [UNSEEN 1] First unseen" in untagged
        assert searches(a) == expected_searches
        assert state(a) == expected
    # And in a session that never saw the mailbox.
    c.ok("EXAMINE INBOX")
    assert searches(c) == expected_searches
    assert state(c) == expected
