"""Full-text indexing off the APPEND path: petrel serve indexes new text in
a background thread ([store] fts_index_delay says how long after the
delivery). SEARCH must answer exactly the same before the text is indexed,
while part of the mailbox is, and after: messages not yet indexed are
scanned."""

import random
import re
import sqlite3
import time

from test_search import WORDS, append_bytes, random_key, random_message, run_programs

NEVER = "[store]\nfts_index_delay = 3600s\n"
AT_ONCE = "[store]\nfts_index_delay = 0\n"


def set_delay(server, section):
    text = server.config_path.read_text()
    text = re.sub(r"\[store\]\nfts_index_delay = \S+\n", "", text)
    server.config_path.write_text(text + section)


def waiting_texts(server, user="demo"):
    (path,) = list(server.data_dir.glob(f"users/*/{user}/mail.db"))
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT count(*) FROM email_text_pending").fetchone()[0]
    finally:
        db.close()


def wait_until_indexed(server, user="demo"):
    """Waits for the indexer to report it has nothing left for user (a
    deadline for a condition, not a timing assertion)."""
    deadline = time.time() + 60
    while time.time() < deadline:
        if re.search(rf"fts_indexed user={user} count=\d+ more=0", server.log_text()) and \
                waiting_texts(server, user) == 0:
            return
        time.sleep(0.05)
    raise AssertionError("texts were not indexed: " + server.log_text()[-2000:])


def programs_for(rng, count):
    programs = []
    for _ in range(150):
        prog = []
        for _ in range(rng.randint(1, 3)):
            prog += random_key(rng, 0, count)
        programs.append(prog)
    for w in WORDS:
        for key in ("BODY", "TEXT", "SUBJECT", "FROM"):
            programs.append([key, w.encode()])
            programs.append([key, w.upper().encode()])
    return programs


def append_messages(server, rng, first, n):
    c = server.login()
    for i in range(first, first + n):
        append_bytes(c, random_message(rng, i))
    c.close()


def test_search_before_during_and_after_indexing_answers_the_same(make_server, monkeypatch):
    rng = random.Random(20261126)
    server = make_server(AT_ONCE)
    # Half the mailbox indexed...
    append_messages(server, rng, 0, 30)
    wait_until_indexed(server)
    # ...the other half waiting.
    assert server.stop() == 0
    set_delay(server, NEVER)
    server.start()
    append_messages(server, rng, 30, 30)
    assert waiting_texts(server) == 30
    programs = programs_for(rng, 60)
    mixed = run_programs(server, programs)
    assert waiting_texts(server) == 30
    # The index was consulted for the indexed half.
    assert re.search(r"indexed=[1-9]", server.log_text())
    # A restart hands what waits to the indexer.
    assert server.stop() == 0
    set_delay(server, AT_ONCE)
    server.start()
    wait_until_indexed(server)
    indexed = run_programs(server, programs)
    # And a pure scan, without the index.
    assert server.stop() == 0
    monkeypatch.setenv("PETREL_SEARCH_NO_INDEX", "1")
    server.start()
    scanned = run_programs(server, programs)
    assert [p for p, a, b in zip(programs, mixed, indexed) if a != b] == []
    assert [p for p, a, b in zip(programs, mixed, scanned) if a != b] == []
    sizes = [len(r.split()) - 2 for r in mixed]
    assert sum(1 for n in sizes if 0 < n < 60) > 40


def test_search_right_after_append_finds_the_new_message(make_server):
    server = make_server(NEVER)
    c = server.login()
    c.ok("SELECT INBOX")
    append_bytes(c, b"From: a@example.org\r\nSubject: first\r\n\r\nnothing here\r\n")
    append_bytes(c, b"From: b@example.org\r\nSubject: second\r\n\r\nrare zanzibar word\r\n")
    assert waiting_texts(server) == 2
    assert c.ok("SEARCH BODY zanzibar") == ["* SEARCH 2"]
    assert c.ok("SEARCH TEXT ZANZIBAR") == ["* SEARCH 2"]
    assert c.ok("SEARCH SUBJECT first") == ["* SEARCH 1"]
    assert c.ok("SEARCH NOT BODY zanzibar") == ["* SEARCH 1"]
    assert c.ok("SEARCH BODY absent-word") == ["* SEARCH"]
    # FETCH of the body is unaffected by where the text waits.
    lines = c.ok("FETCH 2 BODY.PEEK[TEXT]")
    assert "rare zanzibar word" in "\r\n".join(lines)


def test_lmtp_delivery_is_indexed_in_the_background(make_server):
    import smtplib
    server = make_server(AT_ONCE)
    client = smtplib.LMTP("127.0.0.1", server.lmtp_port)
    client.sendmail("sender@example.org", ["demo@example.org"],
                    b"From: sender@example.org\r\nSubject: via lmtp\r\n\r\nquokka sighted\r\n")
    client.quit()
    wait_until_indexed(server)
    c = server.login()
    c.ok("SELECT INBOX")
    assert c.ok("SEARCH BODY quokka") == ["* SEARCH 1"]
    assert c.ok("SEARCH BODY wombat") == ["* SEARCH"]
