"""petrel import and petrel export: a Maildir written by Debian's Dovecot,
mbox files written by Python's mailbox module, a directory of mbox files,
export -> import round trips, re-runs and interrupted imports that never
duplicate, compared message by message over IMAP (BODY[], FLAGS,
INTERNALDATE)."""

import calendar
import mailbox
import os
import re
import signal
import subprocess
import time
from datetime import datetime

import pytest

from conftest import PETREL_BIN, Client
from dovecot import start_dovecot


# ---- Reading a whole account over IMAP ----

LIST_RE = re.compile(r'^\* LIST \(([^)]*)\) (?:NIL|"(.)") (.*)$')


def unquote(name):
    if name.startswith('"'):
        return name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return name


def mailboxes(c):
    """Selectable mailbox names (modified UTF-7) with '/' as delimiter."""
    names = []
    for line in c.ok('LIST "" "*"'):
        m = LIST_RE.match(line)
        assert m, line
        if "\\noselect" in m.group(1).lower() or "\\nonexistent" in m.group(1).lower():
            continue
        name = unquote(m.group(3))
        if m.group(2) and m.group(2) != "/":
            name = name.replace(m.group(2), "/")
        names.append(name)
    return sorted(names)


FETCH_RE = re.compile(rb"^\* \d+ FETCH \(")


def parse_fetch(raw):
    """(FLAGS without \\Recent, INTERNALDATE as Unix time, BODY[] bytes)."""
    flags = re.search(rb"FLAGS \(([^)]*)\)", raw).group(1).decode().split()
    flags = frozenset(f for f in flags if f.lower() != "\\recent")
    date = re.search(rb'INTERNALDATE "([^"]+)"', raw).group(1).decode().strip()
    when = datetime.strptime(date, "%d-%b-%Y %H:%M:%S %z").timestamp()
    m = re.search(rb"BODY\[\] \{(\d+)\}\r\n", raw)
    n = int(m.group(1))
    body = raw[m.end():m.end() + n]
    assert len(body) == n
    return flags, int(when), body


def messages(c, name, sep="/"):
    c.ok('EXAMINE "%s"' % name.replace("/", sep))
    out = []
    for line in c.ok("UID FETCH 1:* (FLAGS INTERNALDATE BODY.PEEK[])"):
        raw = line.encode("utf-8", "surrogateescape")
        if FETCH_RE.match(raw):
            out.append(parse_fetch(raw))
    return out


def account(c, sep="/", only=None):
    """{mailbox: [(flags, date, body), ...] in UID order}."""
    names = only if only is not None else mailboxes(c)
    return {name: messages(c, name, sep) for name in names}


def append(c, mailbox, body, flags="", date=None):
    tag = c.next_tag()
    parts = [tag, "APPEND", '"%s"' % mailbox]
    if flags:
        parts.append(f"({flags})")
    if date:
        parts.append(f'"{date}"')
    c.send((" ".join(parts) + " {%d+}\r\n" % len(body)).encode() + body + b"\r\n")
    _, tagged = c.read_until_tagged(tag)
    assert re.match(r"^\S+ OK", tagged), tagged


def import_(server, *args, check=True):
    r = subprocess.run([PETREL_BIN, "-c", str(server.config_path), "import", *args],
                       capture_output=True, text=True, timeout=300)
    if check:
        assert r.returncode == 0, (r.returncode, r.stderr)
    return r


def export(server, *args, check=True):
    r = subprocess.run([PETREL_BIN, "-c", str(server.config_path), "export", *args],
                       capture_output=True, text=True, timeout=300)
    if check:
        assert r.returncode == 0, (r.returncode, r.stderr)
    return r


def count_messages(server, user):
    out = server.cli("user", "quota", user).stdout
    return int(re.search(r"messages (\d+)", out).group(1))


# ---- Sample messages ----

def sample(n, extra=""):
    return (f"From: Sender {n} <s{n}@example.org>\r\n"
            f"To: demo@example.org\r\n"
            f"Subject: sample {n}{extra}\r\n"
            f"Date: Mon, 4 Jan 2021 10:{n % 60:02d}:00 +0100\r\n"
            f"Message-ID: <sample{n}@example.org>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n"
            "\r\n"
            f"Body of message {n}: caf\u00e9 \u2603\r\n"
            "From here on a line that mbox must escape.\r\n"
            "\r\n"
            "-- \r\nsig\r\n").encode()


# ---- Dovecot's Maildir ----

DOVECOT_FOLDERS = ["Sub", "Sub.Folder", "Caf&AOk-", "Lists.Team.Dev"]
DOVECOT_MESSAGES = [
    # (folder, flags, internal date)
    ("INBOX", "", None),
    ("INBOX", "\\Seen", "05-Jan-2021 10:00:00 +0200"),
    ("INBOX", "\\Seen \\Answered \\Flagged", "06-Feb-2019 23:59:59 -0500"),
    ("Sub", "\\Draft", "07-Mar-2020 01:02:03 +0000"),
    ("Sub.Folder", "\\Deleted \\Seen", "08-Apr-2018 12:00:00 +0000"),
    ("Sub.Folder", "$Forwarded Work", "09-May-2017 12:00:00 +0000"),
    ("Caf&AOk-", "\\Flagged Junk $Forwarded", "10-Jun-2016 12:00:00 +0000"),
    ("Lists.Team.Dev", "", "11-Jul-2015 12:00:00 +0000"),
    ("Lists.Team.Dev", "\\Seen", "11-Jul-2015 12:00:00 +0000"),
]


def test_import_dovecot_maildir(server, tmp_path):
    d = start_dovecot(tmp_path / "dovecot")
    try:
        c = Client(None, port=d.port)
        c.ok("LOGIN demo demo")
        for folder in DOVECOT_FOLDERS:
            c.ok(f'CREATE "{folder}"')
        for n, (folder, flags, date) in enumerate(DOVECOT_MESSAGES):
            append(c, folder, sample(n), flags, date)
        # The same message twice in one folder: both are kept.
        append(c, "INBOX", sample(0))
        expected = account(c, sep=".")
        c.ok("LOGOUT")
        c.close()
    finally:
        d.stop()
    maildir = tmp_path / "dovecot" / "mail" / "demo" / "Maildir"
    assert (maildir / ".Sub.Folder" / "cur").is_dir()
    r = import_(server, "demo", str(maildir))
    assert "10 stored" in r.stderr, r.stderr
    p = server.login()
    got = account(p, only=sorted(expected))
    assert got == expected
    assert set(expected) <= set(mailboxes(p))
    assert "Caf&AOk-" in expected and "Lists/Team/Dev" in expected
    assert len(expected["INBOX"]) == 4
    # Running it again stores nothing.
    r = import_(server, "demo", str(maildir))
    assert "0 stored, 10 already imported" in r.stderr, r.stderr
    assert account(p, only=sorted(expected)) == expected


# ---- mbox from Python's mailbox module ----

MBOX_MESSAGES = [
    # (status flags for mboxMessage.set_flags, IMAP flags, From_ date)
    ("", set(), (2021, 1, 4, 10, 0, 0)),
    ("RO", {"\\Seen"}, (2020, 2, 29, 23, 59, 59)),
    ("ROA", {"\\Seen", "\\Answered"}, (2019, 12, 31, 0, 0, 0)),
    ("F", {"\\Flagged"}, (2018, 7, 1, 12, 30, 0)),
    ("RD", {"\\Seen", "\\Deleted"}, (2017, 1, 1, 1, 1, 1)),
    ("T", {"\\Draft"}, (2016, 6, 6, 6, 6, 6)),
]


def write_python_mbox(path, first=0):
    box = mailbox.mbox(str(path))
    expected = []
    for i, (status, flags, date) in enumerate(MBOX_MESSAGES):
        raw = sample(first + i).replace(b"\r\n", b"\n")
        msg = mailbox.mboxMessage(raw)
        msg.set_flags(status)
        msg.set_from("MAILER-DAEMON", time.struct_time(date + (0, 0, 0)))
        box.add(msg)
        when = calendar.timegm(date + (0, 0, 0))
        expected.append((frozenset(flags), when, sample(first + i)))
    box.flush()
    box.close()
    return expected


def test_import_python_mbox(server, tmp_path):
    path = tmp_path / "python.mbox"
    expected = write_python_mbox(path)
    text = path.read_bytes()
    # What Python wrote: From_ lines, Status/X-Status, mboxo ">From".
    assert text.startswith(b"From MAILER-DAEMON ")
    assert b"\nStatus: RO\n" in text and b"\nX-Status: A\n" in text
    assert b"\n>From here on" in text
    import_(server, "demo", str(path))
    c = server.login()
    assert messages(c, "INBOX") == expected
    # Status/X-Status are turned into flags and not stored.
    for _, _, body in messages(c, "INBOX"):
        assert b"\r\nStatus:" not in body and b"X-Status" not in body
    # --mailbox: INBOX of the source becomes that mailbox.
    import_(server, "demo", str(path), "--mailbox", "Old mail/2021")
    assert messages(c, "Old mail/2021") == expected
    assert len(messages(c, "INBOX")) == len(expected)


def test_mbox_escaping_and_separators(server, tmp_path):
    path = tmp_path / "rd.mbox"
    # mboxrd: ">From" gains a '>' when written; one is removed on import.
    path.write_bytes(
        b"From someone@example.org Thu Jan  7 08:09:10 2021\n"
        b"Subject: one\n"
        b"X-Keywords: Work, $Label1\n"
        b"Status: R\n"
        b"\n"
        b">From the start\n"
        b">>From quoted\n"
        b"From: is not a separator? it is escaped above\n"
        b"\n"
        b"\n"
        b"From someone@example.org Fri Jan  8 08:09:10 2021 +0100\n"
        b"Subject: two\n"
        b"\n"
        b"last line without blank separator")
    import_(server, "demo", str(path))
    c = server.login()
    got = messages(c, "INBOX")
    assert got[0][0] == frozenset({"\\Seen", "Work", "$Label1"})
    assert got[0][1] == calendar.timegm((2021, 1, 7, 8, 9, 10, 0, 0, 0))
    assert got[0][2] == (b"Subject: one\r\n\r\nFrom the start\r\n>From quoted\r\n"
                         b"From: is not a separator? it is escaped above\r\n\r\n")
    assert got[1][1] == calendar.timegm((2021, 1, 8, 7, 9, 10, 0, 0, 0))
    assert got[1][2] == b"Subject: two\r\n\r\nlast line without blank separator"


def test_import_directory_of_mbox_files(server, tmp_path):
    top = tmp_path / "mail"
    (top / "Lists.sbd").mkdir(parents=True)
    (top / "deep" / "er").mkdir(parents=True)
    exp_inbox = write_python_mbox(top / "INBOX", 0)
    exp_lists = write_python_mbox(top / "Lists", 10)
    exp_team = write_python_mbox(top / "Lists.sbd" / "Team", 20)
    exp_deep = write_python_mbox(top / "deep" / "er" / "Caf\u00e9", 30)
    (top / "Lists.msf").write_bytes(b"// not mail\n")
    (top / ".hidden").write_bytes(b"From x Thu Jan  7 08:09:10 2021\n\nx\n")
    r = import_(server, "demo", str(top))
    assert "not an mbox file" in r.stderr
    c = server.login()
    assert messages(c, "INBOX") == exp_inbox
    assert messages(c, "Lists") == exp_lists
    assert messages(c, "Lists/Team") == exp_team
    assert messages(c, "deep/er/Caf&AOk-") == exp_deep
    assert "hidden" not in " ".join(mailboxes(c))


# ---- Export and round trips ----

def fill_account(c):
    folders = ["Work", "Work/2021", "Caf&AOk-", "dots.in.name", "Sub/x.y", "a&-b"]
    for f in folders:
        c.ok(f'CREATE "{f}"')
    specs = [
        ("INBOX", "", "01-Jan-2021 00:00:00 +0000"),
        ("INBOX", "\\Seen \\Flagged", "02-Feb-2021 13:14:15 +0530"),
        ("INBOX", "\\Answered $Forwarded", "03-Mar-2021 01:00:00 -0800"),
        ("Work", "\\Draft Important", "04-Apr-2020 10:00:00 +0000"),
        ("Work/2021", "\\Deleted \\Seen $Label1 $Label2", "05-May-2019 10:00:00 +0000"),
        ("Caf&AOk-", "\\Seen", "06-Jun-2018 10:00:00 +0000"),
        ("dots.in.name", "", "07-Jul-2017 10:00:00 +0000"),
        ("Sub/x.y", "NonJunk", "08-Aug-2016 10:00:00 +0000"),
        ("a&-b", "", "09-Sep-2015 10:00:00 +0000"),
        ("Sent", "\\Seen", "10-Oct-2014 10:00:00 +0000"),
    ]
    for n, (folder, flags, date) in enumerate(specs):
        append(c, folder, sample(100 + n), flags, date)
    append(c, "INBOX", sample(100), "", "11-Nov-2021 10:00:00 +0000")  # same bytes again


def test_export_import_round_trip(server, tmp_path):
    c = server.login()
    fill_account(c)
    before = account(c)
    out = tmp_path / "export"
    r = export(server, "demo", str(out))
    assert "11 messages written" in r.stderr, r.stderr
    assert (out / "cur").is_dir() and (out / ".Work.2021" / "cur").is_dir()
    assert (out / ".Caf&AOk-" / "maildirfolder").exists()
    assert (out / ".dots&AC4-in&AC4-name" / "cur").is_dir()
    names = sorted(os.listdir(out / "cur"))
    assert len(names) == 3 + 1
    assert any(n.endswith(":2,FS") for n in names)
    assert any(n.endswith(":2,PRa") for n in names)
    server.add_user("copy", "copy")
    import_(server, "copy", str(out))
    d = server.login("copy", "copy")
    after = account(d)
    assert after == before
    # A second export writes nothing; a flag change renames one file.
    r = export(server, "demo", str(out))
    assert "0 messages written, 0 flags updated, 11 already there" in r.stderr, r.stderr
    c.ok('SELECT "Work/2021"')
    c.ok("STORE 1 -FLAGS.SILENT (\\Deleted $Label2)")
    r = export(server, "demo", str(out))
    assert "0 messages written, 1 flags updated, 10 already there" in r.stderr, r.stderr
    files = os.listdir(out / ".Work.2021" / "cur")
    assert len(files) == 1 and files[0].endswith(":2,Sa"), files
    # Importing the tree again stores nothing new.
    r = import_(server, "copy", str(out))
    assert "0 stored, 11 already imported" in r.stderr, r.stderr
    assert count_messages(server, "copy") == 11


def test_export_then_dovecot_reads_it(server, tmp_path):
    c = server.login()
    fill_account(c)
    before = account(c)
    d = start_dovecot(tmp_path / "dovecot")
    try:
        maildir = tmp_path / "dovecot" / "mail" / "demo" / "Maildir"
        export(server, "demo", str(maildir))
        subprocess.run(["chown", "-R", "nobody:nogroup", str(maildir)], check=True)
        v = Client(None, port=d.port)
        v.ok("LOGIN demo demo")
        # Dovecot cannot name a mailbox with '.' in a Maildir++ level; the
        # rest it reads with the same bytes, flags, keywords and dates.
        comparable = [n for n in before if "." not in n]
        got = account(v, sep=".", only=comparable)
        v.ok("LOGOUT")
        v.close()
    finally:
        d.stop()
    assert got == {n: before[n] for n in comparable}


# ---- Interrupted imports ----

def test_killed_import_resumes_without_duplicates(server, tmp_path):
    path = tmp_path / "big.mbox"
    total = 6000
    with open(path, "wb") as f:
        for n in range(total):
            f.write(b"From MAILER-DAEMON Thu Jan  7 08:09:10 2021\n")
            f.write(f"Subject: bulk {n}\nMessage-ID: <bulk{n}@x>\n\n".encode())
            f.write((f"line of message {n}\n" * 40).encode())
            f.write(b"\n")
    proc = subprocess.Popen([PETREL_BIN, "-c", str(server.config_path), "import", "demo",
                             str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    partial = 0
    while time.time() < deadline and proc.poll() is None:
        partial = count_messages(server, "demo")
        if partial >= 300:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    partial = count_messages(server, "demo")
    assert 0 < partial < total, f"import not interrupted midway ({partial} of {total})"
    r = import_(server, "demo", str(path))
    assert f"{total - partial} stored, {partial} already imported" in r.stderr, r.stderr
    assert count_messages(server, "demo") == total
    c = server.login()
    c.ok("EXAMINE INBOX")
    subjects = [line for line in c.ok("FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
                if "Subject: bulk" in line]
    found = sorted(int(re.search(r"bulk (\d+)", s).group(1)) for s in subjects)
    assert found == list(range(total))
    # In file order.
    uids = c.ok("UID SEARCH SUBJECT \"bulk 5999\"")
    assert uids[0].split()[-1] == str(total)


def test_identical_messages_are_all_kept_once(server, tmp_path):
    path = tmp_path / "dup.mbox"
    one = b"From a Thu Jan  7 08:09:10 2021\nSubject: same\n\nsame body\n\n"
    path.write_bytes(one * 3)
    import_(server, "demo", str(path))
    import_(server, "demo", str(path))
    assert count_messages(server, "demo") == 3
    path.write_bytes(one * 4)
    r = import_(server, "demo", str(path))
    assert "1 stored, 3 already imported" in r.stderr, r.stderr


# ---- Errors ----

def test_import_export_errors(server, tmp_path):
    assert import_(server, "demo", str(tmp_path / "missing"), check=False).returncode == 66
    (tmp_path / "notmail").write_text("hello\n")
    assert import_(server, "demo", str(tmp_path / "notmail"), check=False).returncode == 65
    mbox = tmp_path / "m.mbox"
    mbox.write_bytes(b"From a Thu Jan  7 08:09:10 2021\n\nx\n")
    assert import_(server, "nobody", str(mbox), check=False).returncode == 67
    assert import_(server, "demo", check=False).returncode == 64
    assert import_(server, "demo", str(mbox), "--bogus", check=False).returncode == 64
    assert import_(server, "demo", str(mbox), "--mailbox", "a//b", check=False).returncode == 65
    assert export(server, "nobody", str(tmp_path / "e"), check=False).returncode == 67
    assert export(server, "demo", check=False).returncode == 64
    (tmp_path / "file").write_text("x")
    assert export(server, "demo", str(tmp_path / "file" / "sub"), check=False).returncode == 73
    # Over quota: the batch that would exceed it is not stored and the
    # import stops with 73.
    server.cli("user", "quota", "demo", "--messages", "2")
    mbox.write_bytes(b"".join(b"From a Thu Jan  7 08:09:10 2021\nSubject: %d\n\nx\n\n" % n
                              for n in range(5)))
    r = import_(server, "demo", str(mbox), check=False)
    assert r.returncode == 73 and "Quota" in r.stderr, (r.returncode, r.stderr)
    assert count_messages(server, "demo") == 0
