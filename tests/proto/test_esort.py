"""ESORT (RFC 5267 §3): SORT and UID SORT with RETURN options answer with
one ESEARCH response (RFC 4731 forms) whose MIN, MAX and ALL follow the
sort order; plus the MODSEQ that CONDSTORE (RFC 7162 §3.1.9, §3.1.10) adds
to SORT answers, and SORT after another session expunged."""

import re

import pytest

from test_sort_thread import box  # noqa: F401  (the fixture: 7 messages)

# The box fixture's messages in DATE order (sequence numbers): 3 1 2 4 5 6 7.


def esearch(c, text):
    """Sends text; returns (its tag, the one untagged line) after checking
    that the command succeeded with exactly one untagged response."""
    tag = c.next_tag()
    untagged, tagged = c.command(text, tag=tag)
    assert tagged.startswith(f"{tag} OK"), tagged
    assert len(untagged) == 1, untagged
    return tag, untagged[0]


def test_esort_advertised(server):
    c = server.login()
    caps = c.ok("CAPABILITY")[0].split()
    assert "ESORT" in caps and "SORT" in caps


@pytest.mark.parametrize("ret,criteria,data", [
    # MIN and MAX are the first and last in sort order (§3.1), not the
    # lowest and highest numbers.
    ("(MIN MAX COUNT ALL)", "(DATE)", "MIN 3 MAX 7 COUNT 7 ALL 3,1:2,4:7"),
    ("(MIN MAX)", "(REVERSE DATE)", "MIN 7 MAX 3"),
    # ALL keeps the sort order: a range only where the order ascends one
    # by one (§3.2), so a descending run is listed number by number.
    ("(ALL)", "(REVERSE DATE)", "ALL 7,6,5,4,2,1,3"),
    ("()", "(ARRIVAL)", "ALL 1:7"),
    ("(COUNT)", "(SUBJECT)", "COUNT 7"),
    ("(ALL)", "(SUBJECT REVERSE DATE)", "ALL 7,6,4,2,1,5,3"),
    ("(MAX)", "(FROM)", "MAX 1"),
])
def test_esort_return_options(box, ret, criteria, data):
    tag, line = esearch(box, f"SORT RETURN {ret} {criteria} UTF-8 ALL")
    assert line == f'* ESEARCH (TAG "{tag}") {data}'


def test_esort_without_matches_keeps_count_only(box):
    tag, line = esearch(box, "SORT RETURN (MIN MAX COUNT ALL) (DATE) UTF-8 FROM nobody")
    assert line == f'* ESEARCH (TAG "{tag}") COUNT 0'
    tag, line = esearch(box, "SORT RETURN (MIN MAX ALL) (DATE) UTF-8 FROM nobody")
    assert line == f'* ESEARCH (TAG "{tag}")'


def test_esort_with_search_keys(box):
    tag, line = esearch(box, "SORT RETURN (ALL COUNT) (REVERSE DATE) UTF-8 SUBJECT hello")
    assert line == f'* ESEARCH (TAG "{tag}") COUNT 5 ALL 7,6,4,2,1'


def test_uid_esort_answers_uids(box):
    box.ok("STORE 1 +FLAGS (\\Deleted)")
    box.ok("EXPUNGE")
    # UIDs 2..7 remain at sequence numbers 1..6; UID 3 is the oldest.
    tag, line = esearch(box, "UID SORT RETURN (MIN MAX ALL) (DATE) UTF-8 ALL")
    assert line == f'* ESEARCH (TAG "{tag}") UID MIN 3 MAX 7 ALL 3,2,4:7'
    tag, line = esearch(box, "SORT RETURN (MIN MAX ALL) (DATE) UTF-8 ALL")
    assert line == f'* ESEARCH (TAG "{tag}") MIN 2 MAX 6 ALL 2,1,3:6'


def test_plain_sort_unchanged_without_return(box):
    assert box.ok("SORT (DATE) UTF-8 ALL") == ["* SORT 3 1 2 4 5 6 7"]


@pytest.mark.parametrize("cmd", [
    "SORT RETURN (BOGUS) (DATE) UTF-8 ALL",
    "SORT RETURN (SAVE) (DATE) UTF-8 ALL",
    "SORT RETURN MIN (DATE) UTF-8 ALL",
    "SORT RETURN (MIN) UTF-8 ALL",
    "SORT RETURN (MIN) (DATE) UTF-8",
    "SORT RETURN",
    "UID SORT RETURN (ALL) (NOSUCHKEY) UTF-8 ALL",
])
def test_esort_syntax_errors(box, cmd):
    box.bad(cmd)


def test_esort_unknown_charset(box):
    box.no("SORT RETURN (COUNT) (DATE) X-UNKNOWN ALL", "BADCHARSET")


def modseq_of(c, seq):
    line = [l for l in c.ok(f"FETCH {seq} (MODSEQ)") if l.startswith(f"* {seq} FETCH")][0]
    return int(re.search(r"MODSEQ \((\d+)\)", line).group(1))


def test_sort_with_modseq_key(box):
    # Give message 1 (second in date order) the highest MODSEQ.
    box.ok("STORE 1 +FLAGS (\\Flagged)")
    m1, m3, m7 = modseq_of(box, 1), modseq_of(box, 3), modseq_of(box, 7)
    assert m1 > m3 and m1 > m7
    # RFC 7162 §3.1.9: plain SORT appends the highest MODSEQ returned.
    assert box.ok("SORT (DATE) UTF-8 MODSEQ 1") == [f"* SORT 3 1 2 4 5 6 7 (MODSEQ {m1})"]
    assert box.ok(f"SORT (DATE) UTF-8 MODSEQ {m1 + 1}") == ["* SORT"]
    # RFC 4731 §3.2: a lone MIN or MAX carries its own message's MODSEQ,
    # MIN with MAX the higher of the two, anything with ALL or COUNT the
    # highest of all.
    tag, line = esearch(box, "SORT RETURN (MIN) (DATE) UTF-8 MODSEQ 1")
    assert line == f'* ESEARCH (TAG "{tag}") MIN 3 MODSEQ {m3}'
    tag, line = esearch(box, "SORT RETURN (MIN MAX) (DATE) UTF-8 MODSEQ 1")
    assert line == f'* ESEARCH (TAG "{tag}") MIN 3 MAX 7 MODSEQ {max(m3, m7)}'
    tag, line = esearch(box, "SORT RETURN (COUNT) (DATE) UTF-8 MODSEQ 1")
    assert line == f'* ESEARCH (TAG "{tag}") COUNT 7 MODSEQ {m1}'
    tag, line = esearch(box, f"SORT RETURN (ALL) (DATE) UTF-8 MODSEQ {m1 + 1}")
    assert line == f'* ESEARCH (TAG "{tag}")'
    # THREAD answers are unchanged by a MODSEQ key (§3.1.9).
    assert box.ok("THREAD REFERENCES UTF-8 MODSEQ 1") == ["* THREAD (3 5)((1 2 4)(6 7))"]


def test_sort_after_another_session_expunged(server, box):
    other = server.login()
    other.ok("SELECT INBOX")
    other.ok("STORE 2 +FLAGS (\\Deleted)")
    other.ok("EXPUNGE")
    # Whether this session hears of the expunge before or after its SORT,
    # the answer never lists the message that is gone.
    untagged = box.ok("UID SORT (DATE) UTF-8 ALL")
    sort = [l for l in untagged if l.startswith("* SORT")]
    assert sort == ["* SORT 3 1 4 5 6 7"]
    untagged = box.ok("UID THREAD REFERENCES UTF-8 ALL")
    assert [l for l in untagged if l.startswith("* THREAD")] == ["* THREAD (3 5)((1 4)(6 7))"]
