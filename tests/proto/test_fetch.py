"""FETCH and UID FETCH: every attribute and section form, \\Seen, partials,
BINARY, macros, errors, and memory staying flat on big bodies."""

import re
import time

import pytest

from conftest import Client
from test_select_append import append

PLAIN = ("From: Alice <alice@example.org>\r\n"
         "To: Bob <bob@example.org>, carol@example.org\r\n"
         "Subject: Plain\r\n"
         "Date: Wed, 25 Nov 2026 10:00:00 +0100\r\n"
         "Message-ID: <p@example.org>\r\n"
         "\r\n"
         "Line one.\r\nLine two.\r\n")

MULTI = ("From: a@example.org\r\n"
         "Subject: =?UTF-8?B?SGVsbG8gd29ybGQ=?=\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: multipart/mixed; boundary=XX\r\n"
         "\r\n"
         "preamble\r\n"
         "--XX\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n"
         "Content-Transfer-Encoding: quoted-printable\r\n"
         "\r\n"
         "caf=C3=A9\r\n"
         "--XX\r\n"
         "Content-Type: application/octet-stream; name=data.bin\r\n"
         "Content-Transfer-Encoding: base64\r\n"
         "\r\n"
         "AAECAw==\r\n"
         "--XX\r\n"
         "Content-Type: message/rfc822\r\n"
         "\r\n"
         "From: inner@example.org\r\n"
         "Subject: Inner\r\n"
         "\r\n"
         "inner body\r\n"
         "--XX--\r\n")


@pytest.fixture
def box(server):
    c = server.login()
    append(c, "INBOX", msg=PLAIN, date="25-Nov-2026 10:00:00 +0100")
    append(c, "INBOX", msg=MULTI, flags="(\\Flagged)")
    c.ok("SELECT INBOX")
    return c


def fetch1(c, cmd):
    untagged, tagged = c.command(cmd)
    assert " OK " in tagged, tagged
    assert len(untagged) == 1, untagged
    return untagged[0]


def test_fast_all_full_macros(box):
    line = fetch1(box, "FETCH 1 FAST")
    assert line == ('* 1 FETCH (FLAGS (\\Recent) INTERNALDATE "25-Nov-2026 10:00:00 +0100" '
                    f'RFC822.SIZE {len(PLAIN)})')
    line = fetch1(box, "FETCH 1 ALL")
    assert line.endswith('ENVELOPE ("Wed, 25 Nov 2026 10:00:00 +0100" "Plain" '
                         '(("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) '
                         '(("Alice" NIL "alice" "example.org")) '
                         '(("Bob" NIL "bob" "example.org")(NIL NIL "carol" "example.org")) '
                         'NIL NIL NIL "<p@example.org>"))')
    line = fetch1(box, "FETCH 1 FULL")
    assert 'BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 22 2)' in line


def test_bodystructure_of_multipart(box):
    line = fetch1(box, "FETCH 2 BODYSTRUCTURE")
    assert line.startswith('* 2 FETCH (BODYSTRUCTURE (("TEXT" "PLAIN" ("charset" "utf-8") NIL NIL "QUOTED-PRINTABLE" 9 0 ')
    assert '"MESSAGE" "RFC822" NIL NIL NIL "7BIT"' in line
    assert '"MIXED" ("boundary" "XX")' in line


def test_uid_fetch_always_returns_uid(box):
    assert fetch1(box, "UID FETCH 2 FLAGS") == "* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent))"


def test_body_sections(box):
    c = box
    assert fetch1(c, "FETCH 2 BODY.PEEK[1]") == "* 2 FETCH (BODY[1] {9}\r\ncaf=C3=A9)"
    assert fetch1(c, "FETCH 2 BODY.PEEK[3.HEADER]") == (
        "* 2 FETCH (BODY[3.HEADER] {43}\r\nFrom: inner@example.org\r\nSubject: Inner\r\n\r\n)")
    assert fetch1(c, "FETCH 2 BODY.PEEK[3.TEXT]") == "* 2 FETCH (BODY[3.TEXT] {10}\r\ninner body)"
    assert fetch1(c, "FETCH 2 BODY.PEEK[3.1]") == "* 2 FETCH (BODY[3.1] {10}\r\ninner body)"
    mime = ("Content-Type: application/octet-stream; name=data.bin\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n")
    assert fetch1(c, "FETCH 2 BODY.PEEK[2.MIME]") == f"* 2 FETCH (BODY[2.MIME] {{{len(mime)}}}\r\n{mime})"
    assert fetch1(c, "FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT to)]") == (
        "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT to)] {64}\r\n"
        "To: Bob <bob@example.org>, carol@example.org\r\nSubject: Plain\r\n\r\n)")
    line = fetch1(c, "FETCH 1 BODY.PEEK[HEADER.FIELDS.NOT (Subject To Date Message-ID)]")
    assert line == "* 1 FETCH (BODY[HEADER.FIELDS.NOT (Subject To Date Message-ID)] {35}\r\nFrom: Alice <alice@example.org>\r\n\r\n)"
    assert fetch1(c, "FETCH 1 BODY.PEEK[TEXT]") == "* 1 FETCH (BODY[TEXT] {22}\r\nLine one.\r\nLine two.\r\n)"
    assert fetch1(c, "FETCH 1 BODY.PEEK[1]") == "* 1 FETCH (BODY[1] {22}\r\nLine one.\r\nLine two.\r\n)"
    assert fetch1(c, "FETCH 1 BODY.PEEK[]") == f"* 1 FETCH (BODY[] {{{len(PLAIN)}}}\r\n{PLAIN})"
    # A part that does not exist is the empty string.
    assert fetch1(c, "FETCH 1 BODY.PEEK[7]") == '* 1 FETCH (BODY[7] "")'


def test_partial_fetch(box):
    c = box
    assert fetch1(c, "FETCH 1 BODY.PEEK[TEXT]<5.4>") == "* 1 FETCH (BODY[TEXT]<5> {4}\r\none.)"
    assert fetch1(c, "FETCH 1 BODY.PEEK[TEXT]<100.4>") == "* 1 FETCH (BODY[TEXT]<100> {0}\r\n)"
    c.bad("FETCH 1 BODY.PEEK[TEXT]<5.0>")
    c.bad("FETCH 1 BODY.PEEK[TEXT]<5>")


def test_binary_decodes(box):
    c = box
    assert fetch1(c, "FETCH 2 BINARY.PEEK[1]") == "* 2 FETCH (BINARY[1] {5}\r\ncaf\u00e9)"
    line = fetch1(c, "FETCH 2 (BINARY.SIZE[1] BINARY.SIZE[2])")
    assert line == "* 2 FETCH (BINARY.SIZE[1] 5 BINARY.SIZE[2] 4)"
    raw = fetch1(c, "FETCH 2 BINARY.PEEK[2]")
    assert raw == "* 2 FETCH (BINARY[2] ~{4}\r\n\x00\x01\x02\x03)"


def test_non_peek_sets_seen_and_reports_flags(box):
    c = box
    line = fetch1(c, "FETCH 1 BODY[TEXT]")
    assert line.endswith(" FLAGS (\\Seen \\Recent))")
    assert fetch1(c, "FETCH 1 FLAGS") == "* 1 FETCH (FLAGS (\\Seen \\Recent))"
    # RFC822.HEADER is a peek.
    fetch1(c, "FETCH 2 RFC822.HEADER")
    assert fetch1(c, "FETCH 2 FLAGS") == "* 2 FETCH (FLAGS (\\Flagged \\Recent))"


def test_examine_never_sets_seen(server):
    c = server.login()
    append(c, "INBOX", msg=PLAIN)
    c.ok("EXAMINE INBOX")
    fetch1(c, "FETCH 1 BODY[]")
    assert fetch1(c, "FETCH 1 FLAGS") == "* 1 FETCH (FLAGS ())"


def test_rfc822_forms(box):
    c = box
    hdr = PLAIN.split("\r\n\r\n")[0] + "\r\n\r\n"
    assert fetch1(c, "FETCH 1 RFC822.HEADER") == f"* 1 FETCH (RFC822.HEADER {{{len(hdr)}}}\r\n{hdr})"
    assert fetch1(c, "FETCH 1 RFC822.SIZE") == f"* 1 FETCH (RFC822.SIZE {len(PLAIN)})"


@pytest.mark.parametrize("cmd", [
    "FETCH 0 FLAGS", "FETCH 3 FLAGS", "FETCH 1 BOGUS", "FETCH 1 ()", "FETCH 1",
    "FETCH 1 BODY[HEADER.FIELDS]", "FETCH 1 BODY[1.]", "FETCH 1 BODY[0]",
    "FETCH 1 BINARY[TEXT]", "FETCH 1:* (FLAGS) (FOO)", "FETCH x FLAGS",
])
def test_fetch_errors_are_bad(box, cmd):
    box.bad(cmd)
    box.ok("NOOP")


def test_uid_fetch_out_of_range_matches_nothing(box):
    untagged, tagged = box.command("UID FETCH 100:200 FLAGS")
    assert untagged == [] and " OK " in tagged
    untagged, tagged = box.command("UID FETCH 1:4294967295 UID")
    assert untagged == ["* 1 FETCH (UID 1)", "* 2 FETCH (UID 2)"]


def test_fetch_star_on_many_messages(server):
    c = server.login()
    msgs = []
    for i in range(30):
        append(c, "INBOX", msg=PLAIN.replace("Plain", f"Number {i}"))
    c.ok("SELECT INBOX")
    untagged, tagged = c.command("FETCH 1:* (UID RFC822.SIZE)")
    assert len(untagged) == 30 and untagged[29].startswith("* 30 FETCH (UID 30 ")


def test_big_body_fetch_streams(server):
    c = server.login()
    big = PLAIN + ("y" * 998 + "\r\n") * 10000  # ~10 MB
    append(c, "INBOX", msg=big)
    c.ok("SELECT INBOX")
    line = fetch1(c, "FETCH 1 BODY.PEEK[]")
    assert line == f"* 1 FETCH (BODY[] {{{len(big)}}}\r\n{big})"


def test_a_client_that_reads_late_gets_every_answer_in_order(server):
    """Answers are written straight to the socket; what the socket does not
    take waits until the client reads. A client that pipelines two
    commands behind a FETCH of 200 KB (less than the server buffers before
    it waits for the client, more than the socket takes from a client with
    a small window and segments) and reads only a second later gets the
    whole body and then the other answers in order, and a command sent
    after that is answered as usual."""
    big = PLAIN + ("z" * 998 + "\r\n") * 200
    append(server.login(), "INBOX", msg=big)
    c = Client(server, rcvbuf=4096)
    c.ok("LOGIN demo demo")
    c.ok("SELECT INBOX")
    c.send("b1 FETCH 1 BODY.PEEK[]\r\nb2 NOOP\r\nb3 FETCH 1 (RFC822.SIZE)\r\n")
    time.sleep(1)
    untagged, tagged = c.read_until_tagged("b1")
    assert untagged == [f"* 1 FETCH (BODY[] {{{len(big)}}}\r\n{big})"]
    assert tagged == "b1 OK FETCH completed"
    assert c.read_until_tagged("b2") == ([], "b2 OK NOOP completed")
    assert c.read_until_tagged("b3") == ([f"* 1 FETCH (RFC822.SIZE {len(big)})"],
                                         "b3 OK FETCH completed")
    assert c.command("NOOP")[1].endswith(" OK NOOP completed")


def test_another_session_flag_change_shows_in_fetch(server):
    a = server.login()
    append(a, "INBOX", msg=PLAIN)
    a.ok("SELECT INBOX")
    b = server.login()
    b.ok("SELECT INBOX")
    b.ok("FETCH 1 BODY[]")  # sets \Seen in b's session
    untagged = a.ok("NOOP")
    assert untagged == ["* 1 FETCH (FLAGS (\\Seen \\Recent))"] or untagged == ["* 1 FETCH (FLAGS (\\Seen))"]


def test_header_sections_of_long_headers_and_bodies(server):
    """Header fetches read only the start of a body file: a header longer
    than that first read, a field at its very end, and a header fetch
    followed by the whole message in one command must all come out exact."""
    c = server.login()
    filler = "".join(f"X-Filler-{i}: {'f' * 70}\r\n" for i in range(300))  # ~26 KB
    long_header = ("From: a@example.org\r\n" + filler + "X-Late: last field\r\n\r\n")
    body = ("b" * 998 + "\r\n") * 200
    msgs = [long_header + body,
            PLAIN.split("\r\n\r\n")[0] + "\r\n\r\n" + body,
            "\r\nno header at all\r\n",
            "Subject: no blank line\r\n"]
    for m in msgs:
        append(c, "INBOX", msg=m)
    c.ok("SELECT INBOX")
    for seq, m in enumerate(msgs, 1):
        head = m[:m.index("\r\n\r\n") + 4] if "\r\n\r\n" in m else (
            "\r\n" if m.startswith("\r\n") else m)
        assert fetch1(c, f"FETCH {seq} BODY.PEEK[HEADER]") == (
            f"* {seq} FETCH (BODY[HEADER] {{{len(head)}}}\r\n{head})")
    assert fetch1(c, "FETCH 1 BODY.PEEK[HEADER.FIELDS (X-LATE)]") == (
        "* 1 FETCH (BODY[HEADER.FIELDS (X-LATE)] {22}\r\nX-Late: last field\r\n\r\n)")
    text = body
    line = fetch1(c, "FETCH 1 (BODY.PEEK[HEADER.FIELDS (FROM)] BODY.PEEK[] BODY.PEEK[TEXT])")
    assert line == ("* 1 FETCH (BODY[HEADER.FIELDS (FROM)] {23}\r\nFrom: a@example.org\r\n\r\n"
                    f" BODY[] {{{len(msgs[0])}}}\r\n{msgs[0]}"
                    f" BODY[TEXT] {{{len(text)}}}\r\n{text})")
    line = fetch1(c, "FETCH 2 (BODY.PEEK[HEADER] RFC822.SIZE BODY.PEEK[1])")
    assert line.endswith(f"RFC822.SIZE {len(msgs[1])} BODY[1] {{{len(body)}}}\r\n{body})")


def subject_message(i):
    return (f"From: a@example.org\r\nSubject: number {i}\r\nMessage-ID: <{i}@example.org>\r\n"
            f"\r\nbody {i}\r\n")


def test_fetch_of_neighbours_some_expunged_by_another_session(server):
    """A FETCH of a few neighbouring messages (their rows read in one
    query) answers each message it names with its own data, skips those
    another session expunged meanwhile (RFC 2180 §4.1.2: NO
    [EXPUNGEISSUED]), and a \\Seen it sets is in the FLAGS it reports."""
    a = server.login()
    for i in range(1, 9):
        append(a, "INBOX", msg=subject_message(i))
    a.ok("SELECT INBOX")
    untagged = a.ok("UID FETCH 2,4:5,7 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert untagged == [
        f"* {i} FETCH (UID {i} FLAGS (\\Recent) BODY[HEADER.FIELDS (SUBJECT)] "
        f"{{{len(f'Subject: number {i}') + 4}}}\r\nSubject: number {i}\r\n\r\n)"
        for i in (2, 4, 5, 7)]
    b = server.login()
    b.ok("SELECT INBOX")
    b.ok("STORE 3,6 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    untagged, tagged = a.command("FETCH 2:7 (UID BODY[TEXT])")
    assert tagged.endswith("NO [EXPUNGEISSUED] Some messages were expunged meanwhile"), tagged
    assert untagged == [
        f"* {i} FETCH (UID {i} BODY[TEXT] {{{len(f'body {i}') + 2}}}\r\nbody {i}\r\n"
        " FLAGS (\\Seen \\Recent))"
        for i in (2, 4, 5, 7)]
    # Once told, the sequence numbers close up and nothing is missing.
    untagged = a.ok("NOOP")
    assert untagged == ["* 3 EXPUNGE", "* 5 EXPUNGE"]
    assert a.ok("FETCH 2:6 (UID FLAGS)") == [
        f"* {seq} FETCH (UID {uid} FLAGS (\\Seen \\Recent))"
        for seq, uid in zip(range(2, 6), (2, 4, 5, 7))] + ["* 6 FETCH (UID 8 FLAGS (\\Recent))"]
