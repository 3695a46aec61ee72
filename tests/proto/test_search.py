"""SEARCH and UID SEARCH (RFC 9051 §6.4.4, RFC 3501 §6.4.4), ESEARCH
(RFC 4731), SEARCHRES (RFC 5182) and WITHIN (RFC 5032) against a corpus
appended through IMAP; the full-text index compared with a forced scan
(PETREL_SEARCH_NO_INDEX)."""

import base64
import random
import re

import pytest

from test_select_append import append


def msg(headers, body, ctype=None):
    lines = list(headers)
    if ctype:
        lines.append(ctype)
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def append_bytes(c, data, flags="", date=""):
    tag = c.next_tag()
    parts = [tag, "APPEND", "INBOX"]
    if flags:
        parts.append(flags)
    if date:
        parts.append(f'"{date}"')
    c.send(" ".join(parts).encode() + f" {{{len(data)}+}}\r\n".encode() + data + b"\r\n")
    untagged, tagged = c.read_until_tagged(tag)
    assert " OK " in tagged, tagged
    return tagged


ATTACHMENT = base64.encodebytes(b"SECRETWORD inside an attachment\n" * 200).replace(b"\n", b"\r\n")

CORPUS = [
    # 1: plain ASCII, Bcc, sent late on 2 March in New York (3 March UTC)
    (msg(["From: Alice <alice@example.org>", "To: Bob <bob@example.org>",
          "Cc: Carol <carol@example.org>", "Bcc: Dave <dave@secret.example>",
          "Subject: Quarterly report", "Date: Mon, 2 Mar 2026 23:30:00 -0500",
          "Message-ID: <1@example.org>"],
         b"The numbers are in.\r\nSwimming pool closed.\r\n"),
     "(\\Seen $Work)", "02-Mar-2026 23:30:00 -0500"),
    # 2: RFC 2047 headers, base64 UTF-8 body (Greek, Cyrillic)
    (msg(["From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@example.de>",
          "To: =?UTF-8?B?UmVuw6ll?= <renee@example.fr>",
          "Subject: =?ISO-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=",
          "Date: Tue, 3 Mar 2026 00:30:00 +0100", "Message-ID: <2@example.de>",
          "MIME-Version: 1.0", "Content-Transfer-Encoding: base64"],
         base64.encodebytes("Ελληνικά και русский текст\n".encode()).replace(b"\n", b"\r\n"),
         "Content-Type: text/plain; charset=utf-8"),
     "(\\Flagged)", "03-Mar-2026 00:30:00 +0100"),
    # 3: quoted-printable UTF-8 body
    (msg(["From: Chef <chef@example.fr>", "To: list@example.net", "Subject: Dessert",
          "Date: Thu, 15 Jan 2026 10:00:00 +0000", "Message-ID: <3@example.fr>",
          "MIME-Version: 1.0", "Content-Transfer-Encoding: quoted-printable"],
         b"caf=C3=A9 cr=C3=A8me br=C3=BBl=C3=A9e\r\n",
         "Content-Type: text/plain; charset=utf-8"),
     "(\\Answered \\Draft)", "15-Jan-2026 12:00:00 +0000"),
    # 4: ISO-8859-1 8bit body, custom header
    (msg(["From: Hans <hans@example.de>", "To: list@example.net", "Subject: Latin",
          "Date: Fri, 20 Feb 2026 10:00:00 +0000", "Message-ID: <4@example.de>",
          "X-Custom: yes", "MIME-Version: 1.0", "Content-Transfer-Encoding: 8bit"],
         b"Stra\xdfe und \xc4pfel\r\n", "Content-Type: text/plain; charset=ISO-8859-1"),
     "(\\Deleted)", "20-Feb-2026 10:00:00 +0000"),
    # 5: large multipart with a binary attachment
    (msg(["From: Robot <robot@example.com>", "To: list@example.net", "Subject: Logs",
          "Date: Wed, 1 Apr 2026 08:00:00 +0000", "Message-ID: <5@example.com>",
          "MIME-Version: 1.0"],
         b"--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--b\r\n"
         b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
         + ATTACHMENT + b"--b--\r\n",
         "Content-Type: multipart/mixed; boundary=b"),
     "(\\Seen $Later)", "01-Apr-2026 08:00:00 +0000"),
    # 6: no Date, no Subject; internal date is now
    (msg(["From: nobody@example.net", "To: list@example.net"], b"in\r\n"), "", ""),
]


def search(c, text):
    untagged, tagged = c.command(text)
    assert " OK " in tagged, f"{text!r} -> {tagged!r}"
    lines = [l for l in untagged if l.startswith("* SEARCH")]
    assert len(lines) == 1, untagged
    return [int(x) for x in lines[0].split()[2:]]


def search_bytes(c, parts):
    """parts: list of str/bytes; bytes are sent as literals."""
    tag = c.next_tag()
    out = tag.encode()
    for p in parts:
        if isinstance(p, bytes):
            out += b" {%d+}\r\n" % len(p) + p
        else:
            out += b" " + p.encode()
    c.send(out + b"\r\n")
    return c.read_until_tagged(tag)


def search_lit(c, parts):
    untagged, tagged = search_bytes(c, parts)
    assert " OK " in tagged, f"{parts!r} -> {tagged!r}"
    lines = [l for l in untagged if l.startswith("* SEARCH")]
    assert len(lines) == 1, untagged
    return [int(x) for x in lines[0].split()[2:]]


@pytest.fixture
def corpus(server):
    c = server.login()
    for data, flags, date in CORPUS:
        append_bytes(c, data, flags, date)
    c.ok("SELECT INBOX")
    return c


CASES = [
    ("ALL", [1, 2, 3, 4, 5, 6]),
    ("ANSWERED", [3]), ("UNANSWERED", [1, 2, 4, 5, 6]),
    ("DELETED", [4]), ("UNDELETED", [1, 2, 3, 5, 6]),
    ("DRAFT", [3]), ("UNDRAFT", [1, 2, 4, 5, 6]),
    ("FLAGGED", [2]), ("UNFLAGGED", [1, 3, 4, 5, 6]),
    ("SEEN", [1, 5]), ("UNSEEN", [2, 3, 4, 6]),
    ("KEYWORD $Work", [1]), ("KEYWORD $work", [1]), ("KEYWORD $Nope", []),
    ("UNKEYWORD $Work", [2, 3, 4, 5, 6]), ("UNKEYWORD $Nope", [1, 2, 3, 4, 5, 6]),
    ("RECENT", [1, 2, 3, 4, 5, 6]), ("NEW", [2, 3, 4, 6]), ("OLD", []),
    # internal dates, each in its own zone: 1 is 3 March in UTC, 2 is 2 March
    ("ON 2-Mar-2026", [1]), ("ON 3-Mar-2026", [2]), ("ON \"03-Mar-2026\"", [2]),
    ("BEFORE 3-Mar-2026", [1, 3, 4]), ("SINCE 3-Mar-2026", [2, 5, 6]),
    ("BEFORE 2-Mar-2026", [3, 4]), ("SINCE 2-Mar-2026", [1, 2, 5, 6]),
    ("ON 1-Jan-2000", []),
    # Date: header, disregarding time and zone; 6 has none
    ("SENTON 2-Mar-2026", [1]), ("SENTON 3-Mar-2026", [2]),
    ("SENTBEFORE 3-Mar-2026", [1, 3, 4]), ("SENTSINCE 3-Mar-2026", [2, 5]),
    ("NOT SENTSINCE 1-Jan-1990", [6]),
    ("LARGER 5000", [5]), ("SMALLER 5000", [1, 2, 3, 4, 6]), ("LARGER 99999999", []),
    ("YOUNGER 3600", [6]), ("OLDER 3600", [1, 2, 3, 4, 5]),
    ("OLDER 2000000000", []), ("YOUNGER 2000000000", [1, 2, 3, 4, 5, 6]),
    ("FROM alice", [1]), ("FROM ALICE@EXAMPLE", [1]), ("FROM bob", []),
    ("TO bob", [1]), ("TO list", [3, 4, 5, 6]), ("CC carol", [1]), ("CC dave", []),
    ("BCC dave", [1]), ("BCC SECRET.example", [1]), ("BCC alice", []),
    ("SUBJECT report", [1]), ("SUBJECT \"\"", [1, 2, 3, 4, 5]), ("SUBJECT nothing", []),
    ("HEADER Message-ID \"<3@\"", [3]), ("HEADER x-custom \"\"", [4]),
    ("HEADER X-CUSTOM YES", [4]), ("HEADER X-Custom no", []), ("HEADER Subject rep", [1]),
    ("BODY swimming", [1]), ("BODY quarterly", []), ("TEXT quarterly", [1]),
    ("TEXT dave", [1]), ("BODY SECRETWORD", []), ("BODY attached", [5]),
    ("BODY in", [1, 6]), ("BODY \"\"", [1, 2, 3, 4, 5, 6]), ("TEXT \"<5@\"", [5]),
    ("2:4", [2, 3, 4]), ("*", [6]), ("5:*", [5, 6]), ("UID 1:2", [1, 2]), ("UID 6:*", [6]),
    ("UID 100:200", []), ("UID *", [6]),
    ("OR FLAGGED DRAFT", [2, 3]), ("NOT SEEN", [2, 3, 4, 6]), ("(SEEN KEYWORD $Later)", [5]),
    ("NOT (SEEN UNKEYWORD $Later)", [2, 3, 4, 5, 6]),
    ("OR (FROM alice) (OR SUBJECT dessert TO renee)", [1, 2, 3]),
    ("SEEN NOT 1", [5]), ("1:3 UNSEEN", [2, 3]),
]


@pytest.mark.parametrize("use_index", [True, False], ids=["index", "scan"])
def test_every_key_positive_and_negative(make_server, monkeypatch, use_index):
    if not use_index:
        monkeypatch.setenv("PETREL_SEARCH_NO_INDEX", "1")
    server = make_server()
    c = server.login()
    for data, flags, date in CORPUS:
        append_bytes(c, data, flags, date)
    c.ok("SELECT INBOX")
    failures = []
    for text, expected in CASES:
        got = search(c, "SEARCH " + text)
        if got != expected:
            failures.append((text, got, expected))
    assert failures == []


UTF8_CASES = [
    (["FROM", "jürgen".encode()], [2]), (["FROM", "MÜLLER".encode()], [2]),
    (["TO", "RENÉE".encode()], [2]), (["SUBJECT", "grüße".encode()], [2]),
    (["SUBJECT", "GRÜSSE".encode()], []), (["SUBJECT", "KÖLN".encode()], [2]),
    (["HEADER", "from", "MÜLLER".encode()], [2]), (["HEADER", "To", "renée".encode()], [2]),
    (["HEADER", "Subject", "müller".encode()], []),
    (["BODY", "ελληνικά".encode()], [2]), (["BODY", "РУССКИЙ".encode()], [2]),
    (["BODY", "Crème BRÛLÉE".encode()], [3]), (["BODY", "é".encode()], [3]),
    (["BODY", "straße".encode()], [4]), (["BODY", "ÄPFEL".encode()], [4]),
    (["BODY", "STRASSE".encode()], []), (["TEXT", "ÜLL".encode()], [2]),
    (["CHARSET", "UTF-8", "BODY", "русский".encode()], [2]),
    (["CHARSET", "ISO-8859-1", "BODY", b"stra\xdfe"], [4]),
    (["CHARSET", "ISO-8859-1", "SUBJECT", b"GR\xdc"], [2]),
    (["CHARSET", "KOI8-R", "BODY", "текст".encode("koi8-r")], [2]),
    (["CHARSET", "us-ascii", "FROM", b"chef"], [3]),
]


@pytest.mark.parametrize("parts,expected", UTF8_CASES)
def test_decoded_text_found_by_utf8_and_other_charsets(corpus, parts, expected):
    assert search_lit(corpus, ["SEARCH", *parts]) == expected


def test_uid_search_answers_uids_after_expunge(corpus):
    c = corpus
    c.ok("EXPUNGE")
    assert search(c, "SEARCH LARGER 5000") == [4]
    assert search(c, "UID SEARCH LARGER 5000") == [5]
    assert search(c, "UID SEARCH ALL") == [1, 2, 3, 5, 6]
    assert search(c, "UID SEARCH 4") == [5]
    assert search(c, "SEARCH UID 5") == [4]
    assert search(c, "UID SEARCH UID 4") == []


def test_old_and_recent_in_a_second_session(server, corpus):
    other = server.login()
    other.ok("SELECT INBOX")
    assert search(other, "SEARCH RECENT") == []
    assert search(other, "SEARCH OLD") == [1, 2, 3, 4, 5, 6]
    assert search(other, "SEARCH NEW") == []
    assert search(corpus, "SEARCH NEW") == [2, 3, 4, 6]


def esearch(c, text):
    untagged, tagged = c.command(text)
    assert " OK " in tagged, tagged
    return untagged, tagged


def test_esearch_forms(corpus):
    c = corpus
    tag = c.next_tag()
    untagged, tagged = c.command("SEARCH RETURN (MIN MAX COUNT ALL) UNSEEN", tag=tag)
    assert untagged == [f'* ESEARCH (TAG "{tag}") MIN 2 MAX 6 COUNT 4 ALL 2:4,6']
    tag = c.next_tag()
    untagged, _ = c.command("UID SEARCH RETURN () SEEN", tag=tag)
    assert untagged == [f'* ESEARCH (TAG "{tag}") UID ALL 1,5']
    tag = c.next_tag()
    untagged, _ = c.command("SEARCH RETURN (COUNT) KEYWORD $Nope", tag=tag)
    assert untagged == [f'* ESEARCH (TAG "{tag}") COUNT 0']
    tag = c.next_tag()
    untagged, _ = c.command("SEARCH RETURN (MIN MAX ALL) KEYWORD $Nope", tag=tag)
    assert untagged == [f'* ESEARCH (TAG "{tag}")']
    tag = c.next_tag()
    untagged, _ = c.command("UID SEARCH RETURN (max min) 1:*", tag=tag)
    assert untagged == [f'* ESEARCH (TAG "{tag}") UID MIN 1 MAX 6']
    tag = c.next_tag()
    untagged, _ = c.command("SEARCH RETURN (COUNT) CHARSET UTF-8 ALL", tag=tag)
    assert untagged == [f'* ESEARCH (TAG "{tag}") COUNT 6']
    assert "BAD" in c.bad("SEARCH RETURN (FOO) ALL")
    c.bad("SEARCH RETURN ALL")
    c.bad("SEARCH RETURN")
    c.bad("SEARCH RETURN (MIN)")


def test_searchres_saves_uids_for_later_commands(corpus):
    c = corpus
    untagged, tagged = c.command("SEARCH RETURN (SAVE) OR FLAGGED DRAFT")
    assert untagged == [] and "OK" in tagged
    assert search(c, "UID SEARCH UID $") == [2, 3]
    assert search(c, "UID SEARCH $ SEEN") == []
    assert search(c, "SEARCH $") == [2, 3]
    assert search(c, "SEARCH NOT $") == [1, 4, 5, 6]
    # SAVE with MIN only keeps the minimum (RFC 5182 §2.4)
    tag = c.next_tag()
    untagged, _ = c.command("UID SEARCH RETURN (SAVE MIN) UNSEEN", tag=tag)
    assert untagged == [f'* ESEARCH (TAG "{tag}") UID MIN 2']
    assert search(c, "UID SEARCH UID $") == [2]
    c.command("SEARCH RETURN (SAVE MIN MAX) UNSEEN")
    assert search(c, "SEARCH $") == [2, 6]
    c.command("SEARCH RETURN (SAVE COUNT MIN) UNSEEN")
    assert search(c, "SEARCH $") == [2, 3, 4, 6]
    # BAD leaves $ alone; NO with SAVE empties it (RFC 5182 §2.1)
    c.bad("SEARCH RETURN (SAVE) FOO")
    assert search(c, "SEARCH $") == [2, 3, 4, 6]
    c.no("SEARCH RETURN (SAVE) CHARSET X-NO-SUCH ALL", "BADCHARSET")
    assert search(c, "SEARCH $") == []
    c.command("SEARCH RETURN (SAVE) SEEN")
    c.ok("EXPUNGE")
    assert search(c, "UID SEARCH UID $") == [1, 5]
    c.ok("SELECT INBOX")
    assert search(c, "UID SEARCH UID $") == []


def test_modseq_key_reports_the_highest_modseq(corpus):
    c = corpus
    untagged, tagged = c.command("SEARCH MODSEQ 1")
    assert " OK " in tagged
    assert re.match(r"\* OK \[HIGHESTMODSEQ \d+\]", untagged[0]), untagged
    m = re.match(r"^\* SEARCH 1 2 3 4 5 6 \(MODSEQ (\d+)\)$", untagged[1])
    assert m, untagged
    high = int(m.group(1))
    c.ok("STORE 3 +FLAGS.SILENT (\\Flagged)")
    untagged, _ = c.command(f"SEARCH MODSEQ {high + 1}")
    m = re.match(r"^\* SEARCH 3 \(MODSEQ (\d+)\)$", untagged[0])
    assert m and int(m.group(1)) > high, untagged
    new = int(m.group(1))
    # The entry name is accepted and ignored (one MODSEQ per message).
    untagged, _ = c.command(f'UID SEARCH MODSEQ "/flags/\\\\flagged" all {high + 1}')
    assert untagged == [f"* SEARCH 3 (MODSEQ {new})"]
    assert c.ok(f"SEARCH MODSEQ {new + 1}") == ["* SEARCH"]
    assert c.ok(f"SEARCH NOT MODSEQ {new}") == [f"* SEARCH 1 2 4 5 6 (MODSEQ {high})"]
    tag = c.next_tag()
    untagged, _ = c.command(f"SEARCH RETURN (ALL) MODSEQ {high + 1}", tag=tag)
    assert untagged == [f'* ESEARCH (TAG "{tag}") ALL 3 MODSEQ {new}']
    tag = c.next_tag()
    untagged, _ = c.command(f"SEARCH RETURN (COUNT) MODSEQ {new + 1}", tag=tag)
    assert untagged == [f'* ESEARCH (TAG "{tag}") COUNT 0']
    c.bad("SEARCH MODSEQ")
    c.bad('SEARCH MODSEQ "/flags/x" sometimes 1')


def test_capabilities_listed(server):
    c = server.login()
    caps = c.ok("CAPABILITY")[0].split()
    for cap in ("ESEARCH", "SEARCHRES", "WITHIN"):
        assert cap in caps


BAD_PROGRAMS = [
    "SEARCH", "SEARCH FOO", "SEARCH FROM", "SEARCH HEADER Subject", "SEARCH OR SEEN",
    "SEARCH NOT", "SEARCH ()", "SEARCH BEFORE 31-Feb-2026", "SEARCH ON 2026-03-01",
    "SEARCH LARGER x", "SEARCH SMALLER -1", "SEARCH OLDER 0", "SEARCH YOUNGER x",
    "SEARCH KEYWORD \\Seen", "SEARCH UID x", "SEARCH 1:x", "SEARCH 7", "SEARCH 1,9:10",
    "SEARCH CHARSET", "SEARCH CHARSET UTF-8", "SEARCH ALL (", "SEARCH ALL )",
]


def test_bad_programs_get_bad_and_session_goes_on(corpus):
    c = corpus
    for text in BAD_PROGRAMS:
        c.bad(text)
    assert search(c, "SEARCH SEEN") == [1, 5]


def test_charsets_and_invalid_utf8(corpus):
    c = corpus
    tagged = c.no("SEARCH CHARSET X-UNKNOWN BODY x", "BADCHARSET")
    assert "[BADCHARSET (UTF-8 US-ASCII)]" in tagged
    c.no('SEARCH CHARSET "UTF-8//IGNORE" BODY x', "BADCHARSET")
    untagged, tagged = search_bytes(c, ["SEARCH", "CHARSET", "UTF-8", "BODY", b"\xc3("])
    assert re.match(r"^\S+ BAD .*UTF-8", tagged), tagged
    untagged, tagged = search_bytes(c, ["SEARCH", "BODY", b"\xed\xa0\x80"])
    assert " BAD " in tagged
    untagged, tagged = search_bytes(c, ["SEARCH", "CHARSET", "UTF-16BE", "BODY", b"\xd8\x41"])
    assert " BAD " in tagged and "UTF-16BE" in tagged
    assert search(c, "SEARCH DRAFT") == [3]


def test_huge_string_and_huge_sets_are_refused(corpus):
    c = corpus
    big = b"x" * (10 * 1024 * 1024)
    tag = c.next_tag()
    c.send(f"{tag} SEARCH BODY {{{len(big)}}}\r\n")
    line = c.readline()
    if line.startswith("+"):
        c.send(big + b"\r\n")
        _, tagged = c.read_until_tagged(tag)
    else:
        tagged = line
    assert tagged.startswith(tag + " BAD") and "too long" in tagged, tagged
    ranges = ",".join(str(2 * i + 1) for i in range(1000000))
    c.bad(f"UID SEARCH UID {ranges}")
    c.bad("SEARCH " + "NOT " * 10000 + "ALL")
    c.bad("SEARCH " + "(" * 10000 + "ALL" + ")" * 10000)
    assert search(c, "SEARCH FLAGGED") == [2]


def test_deep_programs_refused_by_the_search_parser(make_server):
    """With parser limits raised, the search program's own depth and size
    limits answer."""
    s = make_server("[limits]\narguments = 1000000\nline_length = 4194304\n"
                    "nesting_depth = 10000\nsearch_size = 1024\n")
    c = s.login()
    append_bytes(c, CORPUS[0][0])
    c.ok("SELECT INBOX")
    tagged = c.bad("SEARCH " + "NOT " * 10000 + "ALL")
    assert "nested too deeply" in tagged
    tagged = c.bad("SEARCH " + "OR ALL " * 10000 + "ALL")
    assert "nested too deeply" in tagged
    tagged = c.bad("SEARCH " + "(" * 5000 + "ALL" + ")" * 5000)
    assert "nested too deeply" in tagged
    tagged = c.bad("SEARCH " + "SEEN " * 20000)
    assert "too many" in tagged
    tagged = c.bad("SEARCH BODY " + "y" * 2000)
    assert "too long" in tagged
    assert search(c, "SEARCH " + "NOT " * 100 + "ALL") == [1]
    assert search(c, "SEARCH " + "SEEN " * 5000) == []


def test_empty_mailbox(server):
    c = server.login()
    c.ok("SELECT INBOX")
    assert search(c, "SEARCH ALL") == []
    assert search(c, "UID SEARCH 1:*") == []
    assert search(c, "UID SEARCH UID 1:*") == []
    assert search(c, "SEARCH BODY hello") == []
    tag = c.next_tag()
    untagged, _ = c.command("SEARCH RETURN (MIN MAX COUNT ALL) ALL", tag=tag)
    assert untagged == [f'* ESEARCH (TAG "{tag}") COUNT 0']
    c.bad("SEARCH 1")


def test_search_needs_selected_state(server):
    c = server.login()
    untagged, tagged = c.command("SEARCH ALL")
    assert " BAD " in tagged or " NO " in tagged


# ---- Index against scan ----------------------------------------------------

# Words whose case forms test the folding: Latin-1, Latin Extended-A (with
# Ÿ/ÿ across blocks), Greek with tonos and final sigma, Cyrillic with Ё,
# sharp s, dotted capital I, the Kelvin sign (U+212A).
WORDS = ["alpha", "Beta", "GAMMA", "delta", "echo", "Foxtrot", "golf", "hotel", "india",
         "Ελληνικά", "ΚΑΛΗΜΕΡΑ", "Άρτος", "привет", "МИР", "Ёлка", "été", "ÉCOLE", "Łódź",
         "straße", "Ÿes", "naïve", "ab", "xyz", "r\u00e9sum\u00e9", "SIGMAς", "İstanbul",
         "\u212aelvin"]


def random_text(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def random_message(rng, i):
    name = random_text(rng, 2)
    subject = random_text(rng, 3)
    enc = rng.choice(["plain", "b64", "qp", "latin1"])
    headers = [f"From: =?UTF-8?B?{base64.b64encode(name.encode()).decode()}?= <u{i}@example.org>",
               f"To: {rng.choice(WORDS).encode('ascii', 'ignore').decode() or 'x'}@example.net",
               f"Subject: =?UTF-8?Q?{''.join('=%02X' % b for b in subject.encode())}?=",
               f"Date: {rng.randint(1, 28)} Mar 2026 {rng.randint(0, 23):02d}:00:00 "
               f"{rng.choice(['+0000', '-0800', '+0930'])}",
               "MIME-Version: 1.0"]
    if rng.random() < 0.3:
        headers.append(f"Cc: {random_text(rng, 1)} <cc{i}@example.com>")
    if rng.random() < 0.3:
        headers.append(f"Bcc: {random_text(rng, 1)} <bcc{i}@example.com>")
    body = random_text(rng, rng.randint(1, 30))
    if enc == "plain":
        return msg(headers, body.encode() + b"\r\n", "Content-Type: text/plain; charset=utf-8")
    if enc == "b64":
        headers.append("Content-Transfer-Encoding: base64")
        return msg(headers, base64.encodebytes(body.encode()).replace(b"\n", b"\r\n"),
                   "Content-Type: text/plain; charset=utf-8")
    if enc == "qp":
        headers.append("Content-Transfer-Encoding: quoted-printable")
        qp = "".join("=%02X" % b for b in body.encode())
        lines = [qp[k:k + 72] for k in range(0, len(qp), 72)]
        return msg(headers, "=\r\n".join(lines).encode() + b"\r\n",
                   "Content-Type: text/plain; charset=utf-8")
    headers.append("Content-Transfer-Encoding: 8bit")
    return msg(headers, body.encode("latin-1", "replace") + b"\r\n",
               "Content-Type: text/plain; charset=ISO-8859-1")


def random_needle(rng):
    """A piece of a corpus word, mostly long enough for the index, in a
    random mix of cases (Python's case mapping, which is wider than the
    server's folding: both paths must still agree)."""
    w = rng.choice(WORDS)
    size = rng.randint(1, 2) if rng.random() < 0.2 else rng.randint(3, 6)
    a = rng.randint(0, max(0, len(w) - size))
    s = w[a:a + size]
    mixed = "".join(ch.upper() if rng.random() < 0.5 else ch.lower() for ch in s)
    return mixed if len(mixed) == len(s) else s


def random_key(rng, depth, count):
    r = rng.random()
    if depth < 3 and r < 0.12:
        return ["NOT", *random_key(rng, depth + 1, count)]
    if depth < 3 and r < 0.22:
        return ["OR", *random_key(rng, depth + 1, count), *random_key(rng, depth + 1, count)]
    if depth < 3 and r < 0.28:
        inner = random_key(rng, depth + 1, count) + random_key(rng, depth + 1, count)
        return ["("] + inner + [")"]
    if r < 0.65:
        key = rng.choice(["FROM", "TO", "CC", "BCC", "SUBJECT", "BODY", "TEXT", "HEADER"])
        needle = random_needle(rng).encode()
        if key == "HEADER":
            return ["HEADER", rng.choice(["Subject", "from", "BCC", "Date", "X-None"]), needle]
        return [key, needle]
    return [rng.choice(["SEEN", "UNSEEN", "FLAGGED", "ANSWERED", "DELETED",
                        f"LARGER {rng.randint(200, 900)}", f"SMALLER {rng.randint(200, 900)}",
                        f"SENTSINCE {rng.randint(1, 28)}-Mar-2026",
                        f"SENTBEFORE {rng.randint(1, 28)}-Mar-2026",
                        f"{rng.randint(1, count)}:{rng.randint(1, count)}",
                        f"UID {rng.randint(1, count)}:*", "KEYWORD $A", "UNKEYWORD $A"])]


def render(parts):
    """Joins a key list; "(" and ")" attach to their neighbours."""
    out, prev = b"", None
    for p in parts:
        piece = b"{%d+}\r\n" % len(p) + p if isinstance(p, bytes) else p.encode()
        if prev is None or prev == "(" or p == ")":
            out += piece
        else:
            out += b" " + piece
        prev = p
    return out


def run_programs(server, programs):
    c = server.login()
    c.ok("SELECT INBOX")
    results = []
    for prog in programs:
        tag = c.next_tag()
        c.send(tag.encode() + b" UID SEARCH " + render(prog) + b"\r\n")
        untagged, tagged = c.read_until_tagged(tag)
        assert " OK " in tagged, (render(prog), tagged)
        line = [l for l in untagged if l.startswith("* SEARCH")]
        results.append(line[0])
    c.close()
    return results


def test_index_and_scan_answer_identically(make_server, monkeypatch):
    rng = random.Random(20261125)
    server = make_server()
    c = server.login()
    count = 60
    for i in range(count):
        flags = " ".join(f for f in ["\\Seen", "\\Flagged", "\\Answered", "$A"]
                         if rng.random() < 0.3)
        append_bytes(c, random_message(rng, i), f"({flags})" if flags else "")
    c.close()
    programs = []
    for _ in range(400):
        prog = []
        for _ in range(rng.randint(1, 3)):
            prog += random_key(rng, 0, count)
        programs.append(prog)
    # Every corpus word in each case form, in the keys that hold them.
    for w in WORDS:
        for form in {w, w.upper(), w.lower(), w.swapcase()}:
            for key in ("BODY", "TEXT", "SUBJECT", "FROM"):
                programs.append([key, form.encode()])
    indexed = run_programs(server, programs)
    assert server.stop() == 0
    log = server.log_text()
    assert re.search(r"indexed=[1-9]", log), "the index was never used"
    monkeypatch.setenv("PETREL_SEARCH_NO_INDEX", "1")
    server.start()
    mark = len(server.log_text())
    scanned = run_programs(server, programs)
    assert not re.search(r"indexed=[1-9]", server.log_text()[mark:])
    diffs = [(render(p), a, b) for p, a, b in zip(programs, indexed, scanned) if a != b]
    assert diffs == []
    # The programs are not trivial: many match something, many not all.
    sizes = [len(r.split()) - 2 for r in indexed]
    assert sum(1 for n in sizes if 0 < n < count) > 100
