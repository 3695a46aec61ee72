"""SORT (RFC 5256, RFC 5957 DISPLAYFROM) and THREAD (ORDEREDSUBJECT,
REFERENCES) over a small hand-checked mailbox."""

import pytest

from test_select_append import append


def msg(subj, frm, date, mid, refs=None, irt=None):
    h = f"From: {frm}\r\nTo: x@y\r\nSubject: {subj}\r\nDate: {date}\r\nMessage-ID: <{mid}>\r\n"
    if refs:
        h += f"References: {refs}\r\n"
    if irt:
        h += f"In-Reply-To: {irt}\r\n"
    return h + "\r\nbody\r\n"


@pytest.fixture
def box(server):
    c = server.login()
    append(c, "INBOX", msg("Hello", "Zed <z@a>", "Mon, 1 Jan 2024 10:00:00 +0000", "1@a"))
    append(c, "INBOX", msg("Re: Hello", "amy@b", "Mon, 1 Jan 2024 11:00:00 +0000", "2@a", refs="<1@a>"))
    append(c, "INBOX", msg("Other", "Bob <bob@c>", "Sun, 31 Dec 2023 10:00:00 +0000", "3@a"))
    append(c, "INBOX", msg("[list] Re: Hello", "carl@d", "Mon, 1 Jan 2024 12:00:00 +0000", "4@a",
                           refs="<1@a> <2@a>"))
    append(c, "INBOX", msg("Fwd: Other", "dan@e", "Tue, 2 Jan 2024 12:00:00 +0000", "5@a",
                           refs="<missing@x>"))
    append(c, "INBOX", msg("Hello", "eve@f", "Wed, 3 Jan 2024 12:00:00 +0000", "6@a"))
    append(c, "INBOX", msg("[fwd: Re: Hello (fwd)]", "fay@g", "Thu, 4 Jan 2024 12:00:00 +0000",
                           "7@a", irt="<6@a> trailing text"))
    c.ok("SELECT INBOX")
    return c


@pytest.mark.parametrize("cmd,expected", [
    ("SORT (SUBJECT) UTF-8 ALL", "* SORT 1 2 4 6 7 3 5"),
    ("SORT (REVERSE DATE) UTF-8 ALL", "* SORT 7 6 5 4 2 1 3"),
    ("SORT (DATE) UTF-8 ALL", "* SORT 3 1 2 4 5 6 7"),
    ("SORT (FROM) UTF-8 ALL", "* SORT 2 3 4 5 6 7 1"),
    ("SORT (DISPLAYFROM) UTF-8 ALL", "* SORT 2 3 4 5 6 7 1"),
    ("SORT (SUBJECT REVERSE DATE) UTF-8 ALL", "* SORT 7 6 4 2 1 5 3"),
    ("SORT (ARRIVAL) US-ASCII ALL", "* SORT 1 2 3 4 5 6 7"),
    ("UID SORT (SIZE) UTF-8 UID 2:3", None),
    ("SORT (SUBJECT) UTF-8 FROM bob", "* SORT 3"),
    ("SORT (SUBJECT) UTF-8 FROM nobody", "* SORT"),
    ("THREAD ORDEREDSUBJECT UTF-8 ALL", "* THREAD (3 5)(1 (2)(4)(6)(7))"),
    ("THREAD REFERENCES UTF-8 ALL", "* THREAD (3 5)((1 2 4)(6 7))"),
    ("THREAD REFERENCES UTF-8 FROM nobody", "* THREAD"),
])
def test_sort_and_thread(box, cmd, expected):
    untagged = box.ok(cmd)
    assert len(untagged) == 1
    if expected is None:
        assert sorted(untagged[0].split()[2:]) == ["2", "3"]
    else:
        assert untagged[0] == expected


def test_uid_thread_returns_uids(box):
    box.ok("UID STORE 1 +FLAGS (\\Deleted)")
    box.ok("EXPUNGE")
    # 2 is a reply, 6 is not: 6 heads the merged HELLO thread (RFC 5256 step 5).
    assert box.ok("UID THREAD REFERENCES UTF-8 ALL") == ["* THREAD (3 5)(6 (2 4)(7))"]


@pytest.mark.parametrize("cmd", [
    "SORT SUBJECT UTF-8 ALL", "SORT () UTF-8 ALL", "SORT (BOGUS) UTF-8 ALL", "SORT (SUBJECT) UTF-8",
    "SORT (REVERSE) UTF-8 ALL", "THREAD UTF-8 ALL", "THREAD FOO UTF-8 ALL", "SORT (SUBJECT) UTF-8 BOGUS",
])
def test_sort_thread_errors(box, cmd):
    box.bad(cmd)


def test_unknown_charset(box):
    box.no("SORT (SUBJECT) X-UNKNOWN ALL", "BADCHARSET")
    box.no("THREAD REFERENCES X-UNKNOWN ALL", "BADCHARSET")


def test_thread_of_a_very_deep_chain(server):
    """One message whose References list 60,000 ids makes a chain of
    60,000 dummies: THREAD must neither recurse that deep (the stack would
    overflow) nor walk the chain for every link (quadratic), and pruning
    leaves the message itself as the root."""
    c = server.login()
    refs = "\r\n ".join(" ".join(f"<r{i}.{j}@deep>" for j in range(20)) for i in range(3000))
    append(c, "INBOX", msg("Deep", "a@b", "Mon, 1 Jan 2024 10:00:00 +0000", "deep@a",
                           refs=refs))
    append(c, "INBOX", msg("Re: Deep", "b@c", "Mon, 1 Jan 2024 11:00:00 +0000", "reply@a",
                           irt="<deep@a>"))
    append(c, "INBOX", msg("Other", "c@d", "Mon, 1 Jan 2024 09:00:00 +0000", "other@a",
                           refs="<r0.0@deep>"))
    c.ok("SELECT INBOX")
    # Message 3 hangs from the first dummy of the chain and message 1 from
    # the last: one thread under a dummy root, 3 (earliest) first.
    assert c.ok("THREAD REFERENCES UTF-8 ALL") == ["* THREAD ((3)(1 2))"]
    assert c.ok("THREAD ORDEREDSUBJECT UTF-8 ALL") == ["* THREAD (3)(1 2)"]
