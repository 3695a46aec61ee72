"""IMAP4rev2 (RFC 9051) next to IMAP4rev1: ENABLE IMAP4rev2 switches to
rev2 answers (no RECENT/\\Recent, ESEARCH, UTF-8 mailbox names), and APPEND
takes literal8 (RFC 3516)."""

from test_select_append import MSG, append


def test_both_revisions_advertised(server):
    c = server.connect()
    assert c.greeting.startswith("* OK [CAPABILITY IMAP4rev1 IMAP4rev2 ")
    c.ok("LOGIN demo demo")
    caps = c.ok("CAPABILITY")[0].split()
    assert "IMAP4rev2" in caps and "BINARY" in caps


def test_rev2_select_fetch_search(server):
    c = server.login()
    append(c, "INBOX")
    assert c.ok("ENABLE IMAP4rev2") == ["* ENABLED IMAP4rev2"]
    untagged = c.ok("SELECT INBOX")
    assert not any("RECENT" in l or "UNSEEN" in l for l in untagged)
    assert c.ok("FETCH 1 FLAGS") == ["* 1 FETCH (FLAGS ())"]
    untagged, tagged = c.command("SEARCH ALL")
    assert untagged[0].startswith("* ESEARCH (TAG ") and untagged[0].endswith(" ALL 1")


def test_rev1_client_keeps_rev1_answers(server):
    c = server.login()
    append(c, "INBOX")
    untagged = c.ok("SELECT INBOX")
    assert "* 1 RECENT" in untagged
    assert c.ok("SEARCH ALL") == ["* SEARCH 1"]


def test_rev2_mailbox_names_are_utf8(server):
    c = server.login()
    c.ok("ENABLE IMAP4rev2")
    name = "Entwürfe".encode()
    c.send(b'a1 CREATE "' + name + b'"\r\n')
    assert c.read_until_tagged("a1")[1].startswith("a1 OK")
    lines = c.ok('LIST "" "Entw*"')
    assert any("Entwürfe" in l for l in lines), lines
    rev1 = server.login()
    assert any("Entw&APw-rfe" in l for l in rev1.ok('LIST "" "Entw*"'))


def test_append_literal8(server):
    c = server.login()
    data = MSG.encode()
    c.send(f"a1 APPEND INBOX ~{{{len(data)}+}}\r\n".encode() + data + b"\r\n")
    assert c.read_until_tagged("a1")[1].startswith("a1 OK [APPENDUID ")
    binary = b"Subject: bin\r\n\r\nzero\x00byte\r\n"
    c.send(f"a2 APPEND INBOX ~{{{len(binary)}+}}\r\n".encode() + binary + b"\r\n")
    assert c.read_until_tagged("a2")[1].startswith("a2 NO [UNKNOWN-CTE]")
    assert "* 1 EXISTS" in c.ok("SELECT INBOX")
