"""Capability hiding per user and per address ([capabilities] hide) and the
named client workarounds ([workarounds]): what a client sees with and
without a rule that matches it, and the configuration errors that stop
petrel at start. The tests connect from 127.0.0.1; rules use a block that
holds it (127.0.0.0/8) and one that does not (192.0.2.0/24, TEST-NET-1)."""

import json
import re
import subprocess

import pytest

from conftest import PETREL_BIN

EX_CONFIG = 78

MESSAGE = (
    "From: a@example.org\r\n"
    "To: b@example.org\r\n"
    "Subject: compat {n}\r\n"
    "Message-ID: <compat-{n}@example.org>\r\n"
    "\r\n"
    "Body {n}.\r\n"
)


def caps_of(line):
    """The capability names of a CAPABILITY response or response code."""
    m = re.search(r"CAPABILITY ([^\]\r\n]*)", line)
    assert m, line
    return set(m.group(1).split())


def greeting_caps(client):
    return caps_of(client.greeting)


def capability(client):
    untagged = client.ok("CAPABILITY")
    lines = [u for u in untagged if u.startswith("* CAPABILITY ")]
    assert len(lines) == 1, untagged
    return caps_of(lines[0])


def login_caps(client, user="demo", password="demo"):
    """Logs in; returns the capabilities of the tagged OK's response code."""
    untagged, tagged = client.command(f"LOGIN {user} {password}")
    assert " OK " in tagged, tagged
    return caps_of(tagged)


def append(client, mailbox, n):
    data = MESSAGE.format(n=n)
    client.send(f"ap{n} APPEND {mailbox} {{{len(data)}+}}\r\n{data}\r\n")
    _, tagged = client.read_until_tagged(f"ap{n}")
    assert " OK " in tagged, tagged


def unknown_command(client, text):
    tagged = client.bad(text)
    assert "Unknown command" in tagged, tagged


def enabled(client, names):
    untagged = client.ok(f"ENABLE {names}")
    return [u for u in untagged if u.startswith("* ENABLED")]


# --- Capability hiding -------------------------------------------------------


def test_without_rules_every_capability_is_offered(make_server):
    s = make_server()
    c = s.connect()
    pre = greeting_caps(c)
    assert {"IMAP4rev1", "IMAP4rev2", "ID", "ENABLE"} <= pre
    assert capability(c) == pre
    post = login_caps(c)
    assert {"IDLE", "MOVE", "CONDSTORE", "QRESYNC", "ESEARCH", "SEARCHRES", "NAMESPACE",
            "UNSELECT", "QUOTA", "SORT", "THREAD=REFERENCES", "WITHIN"} <= post
    assert capability(c) == post
    c.close()


def test_address_rule_applies_before_and_after_login(make_server):
    s = make_server("[capabilities]\nhide = IDLE ID for address=127.0.0.0/8\n")
    c = s.connect()
    pre = greeting_caps(c)
    # IDLE is part of IMAP4rev2 (RFC 9051 Appendix E): hiding it hides rev2.
    assert "ID" not in pre and "IMAP4rev2" not in pre
    assert {"IMAP4rev1", "ENABLE", "AUTH=PLAIN"} <= pre
    assert capability(c) == pre
    unknown_command(c, 'ID ("name" "probe")')
    post = login_caps(c)
    assert not {"IDLE", "ID", "IMAP4rev2"} & post
    assert {"MOVE", "CONDSTORE", "ENABLE"} <= post
    assert capability(c) == post
    unknown_command(c, "IDLE")
    unknown_command(c, "ID NIL")
    # ENABLE of a capability the session does not offer is ignored.
    assert enabled(c, "IMAP4rev2") == ["* ENABLED"]
    c.close()
    assert "event=capabilities_hidden user=- names=IMAP4rev2,ID,IDLE" in s.log_text()


def test_address_rule_for_another_block_changes_nothing(make_server):
    s = make_server("[capabilities]\n"
                    "hide = IDLE ID for address=192.0.2.0/24, address=2001:db8::/32\n")
    c = s.connect()
    assert {"ID", "IMAP4rev2"} <= greeting_caps(c)
    assert {"IDLE", "ID", "IMAP4rev2"} <= login_caps(c)
    c.ok("SELECT INBOX")
    c.send("i1 IDLE\r\n")
    assert c.readline().startswith("+ ")
    c.send("DONE\r\n")
    _, tagged = c.read_until_tagged("i1")
    assert tagged.startswith("i1 OK")
    c.close()


def test_user_rule_applies_after_login_only(make_server):
    s = make_server("[capabilities]\nhide = ID CONDSTORE for user=ali*\n",
                    users=(("demo", "demo"), ("alice", "alice")))
    c = s.connect()
    assert "ID" in greeting_caps(c)            # the user is not known yet
    c.ok('ID ("name" "probe")')
    post = login_caps(c, "alice", "alice")
    # QRESYNC is built on CONDSTORE and goes with it.
    assert not {"ID", "CONDSTORE", "QRESYNC"} & post
    assert {"IMAP4rev2", "IDLE", "ENABLE"} <= post
    unknown_command(c, "ID NIL")
    c.close()
    d = s.connect()
    assert {"ID", "CONDSTORE", "QRESYNC"} <= login_caps(d)
    d.ok("ID NIL")
    d.close()


def test_rule_for_user_and_address_needs_both(make_server):
    s = make_server("[capabilities]\n"
                    "hide = MOVE for user=demo address=127.0.0.1\n"
                    "hide = UNSELECT for user=demo address=192.0.2.1\n",
                    users=(("demo", "demo"), ("alice", "alice")))
    c = s.connect()
    post = login_caps(c)
    assert "MOVE" not in post and "IMAP4rev2" not in post
    assert "UNSELECT" in post
    c.ok("CREATE Target")
    append(c, "INBOX", 1)
    c.ok("SELECT INBOX")
    unknown_command(c, "MOVE 1 Target")
    unknown_command(c, "UID MOVE 1 Target")
    c.ok("UNSELECT")
    c.close()
    a = s.connect()
    assert {"MOVE", "IMAP4rev2"} <= login_caps(a, "alice", "alice")
    a.close()


CONDSTORE_REFUSED = [
    "FETCH 1 (MODSEQ)",
    "FETCH 1 (FLAGS) (CHANGEDSINCE 1)",
    "UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1)",
    "STORE 1 (UNCHANGEDSINCE 100) +FLAGS (\\Flagged)",
    "SEARCH MODSEQ 1",
    "STATUS INBOX (MESSAGES HIGHESTMODSEQ)",
    'LIST "" "*" RETURN (STATUS (HIGHESTMODSEQ))',
    "SORT (DATE) UTF-8 MODSEQ 1",
]


def test_hidden_condstore_is_off_not_only_unlisted(make_server):
    s = make_server("[capabilities]\nhide = CONDSTORE for user=demo\n",
                    users=(("demo", "demo"), ("alice", "alice")))
    c = s.login()
    append(c, "INBOX", 1)
    # Neither ENABLE nor an enabling command turns it on (RFC 7162 §3.1).
    assert enabled(c, "CONDSTORE QRESYNC") == ["* ENABLED"]
    tagged = c.bad("SELECT INBOX (CONDSTORE)")
    assert "Invalid SELECT parameters" in tagged
    untagged = c.ok("SELECT INBOX")
    assert not any("HIGHESTMODSEQ" in u for u in untagged), untagged
    for command in CONDSTORE_REFUSED:
        c.bad(command)
    untagged = c.ok("FETCH 1 (FLAGS)")
    assert untagged == ["* 1 FETCH (FLAGS (\\Recent))"], untagged
    untagged = c.ok("STORE 1 +FLAGS (\\Seen)")
    assert untagged == ["* 1 FETCH (FLAGS (\\Seen \\Recent))"], untagged
    c.close()
    # The same commands work for a user without the rule.
    a = s.login("alice", "alice")
    append(a, "INBOX", 1)
    a.ok("SELECT INBOX (CONDSTORE)")
    for command in CONDSTORE_REFUSED:
        a.ok(command)
    a.close()


def test_hidden_qresync_refuses_enable_and_select(make_server):
    s = make_server("[capabilities]\nhide = QRESYNC for address=127.0.0.1\n")
    c = s.connect()
    post = login_caps(c)
    assert "QRESYNC" not in post and "CONDSTORE" in post
    assert enabled(c, "QRESYNC") == ["* ENABLED"]
    assert enabled(c, "CONDSTORE") == ["* ENABLED CONDSTORE"]
    tagged = c.bad("SELECT INBOX (QRESYNC (1 1))")
    assert "QRESYNC must be enabled first" in tagged
    c.close()


# (rule, capabilities that must be gone, capabilities that must stay,
#  commands refused, commands still accepted) -- a mailbox is selected.
EXTENSIONS = [
    ("NAMESPACE", {"NAMESPACE", "IMAP4rev2"}, {"IMAP4rev1"}, ["NAMESPACE"], []),
    ("UNSELECT", {"UNSELECT"}, {"MOVE"}, ["UNSELECT"], ["CLOSE"]),
    ("QUOTA", {"QUOTA", "QUOTA=RES-STORAGE", "QUOTA=RES-MESSAGE"}, {"IMAP4rev2"},
     ["GETQUOTAROOT INBOX", 'GETQUOTA ""', 'SETQUOTA "" (STORAGE 100)'], []),
    ("SORT", {"SORT", "SORT=DISPLAY", "ESORT"}, {"THREAD=REFERENCES"},
     ["SORT (DATE) UTF-8 ALL", "UID SORT (DATE) UTF-8 ALL"], ["THREAD REFERENCES UTF-8 ALL"]),
    ("THREAD=REFERENCES", {"THREAD=REFERENCES"}, {"THREAD=ORDEREDSUBJECT", "SORT"},
     ["THREAD REFERENCES UTF-8 ALL"], ["THREAD ORDEREDSUBJECT UTF-8 ALL"]),
    ("THREAD=REFERENCES THREAD=ORDEREDSUBJECT", {"THREAD=REFERENCES", "THREAD=ORDEREDSUBJECT"},
     {"SORT"}, ["THREAD ORDEREDSUBJECT UTF-8 ALL"], ["SORT (DATE) UTF-8 ALL"]),
    ("ESEARCH", {"ESEARCH", "SEARCHRES", "IMAP4rev2"}, {"WITHIN"},
     ["SEARCH RETURN (COUNT) ALL"], ["SEARCH ALL", "UID SEARCH ALL"]),
    ("SEARCHRES", {"SEARCHRES", "IMAP4rev2"}, {"ESEARCH"},
     ["SEARCH RETURN (SAVE) ALL"], ["SEARCH RETURN (COUNT) ALL"]),
    ("WITHIN", {"WITHIN"}, {"IMAP4rev2"}, ["SEARCH YOUNGER 3600", "SEARCH OLDER 1"],
     ["SEARCH SINCE 1-Jan-2000"]),
]


@pytest.mark.parametrize("rule,gone,kept,refused,accepted", EXTENSIONS,
                         ids=[e[0] for e in EXTENSIONS])
def test_hidden_extension_commands_are_refused(make_server, rule, gone, kept, refused, accepted):
    s = make_server(f"[capabilities]\nhide = {rule} for user=demo\n")
    c = s.connect()
    post = login_caps(c)
    assert not gone & post, post
    assert kept <= post, post
    append(c, "INBOX", 1)
    c.ok("SELECT INBOX")
    for command in refused:
        c.bad(command)
    for command in accepted:
        c.ok(command)
    c.close()


def test_hidden_enable_refuses_the_command(make_server):
    s = make_server("[capabilities]\nhide = ENABLE for address=127.0.0.1\n")
    c = s.connect()
    pre = greeting_caps(c)
    assert "ENABLE" not in pre and "IMAP4rev2" not in pre
    post = login_caps(c)
    assert not {"ENABLE", "QRESYNC", "IMAP4rev2"} & post
    assert "CONDSTORE" in post     # still usable through SELECT (CONDSTORE)
    unknown_command(c, "ENABLE CONDSTORE")
    untagged = c.ok("SELECT INBOX (CONDSTORE)")
    assert any("HIGHESTMODSEQ" in u for u in untagged)
    c.close()


def test_hidden_imap4rev2_is_not_enabled(make_server):
    s = make_server("[capabilities]\nhide = IMAP4rev2\n")   # every client
    c = s.connect()
    assert "IMAP4rev2" not in greeting_caps(c)
    post = login_caps(c)
    assert "IMAP4rev2" not in post and {"IDLE", "ENABLE"} <= post
    assert enabled(c, "IMAP4rev2 CONDSTORE") == ["* ENABLED CONDSTORE"]
    append(c, "INBOX", 1)
    c.ok("SELECT INBOX")
    # Still an IMAP4rev1 session: SEARCH answers SEARCH, not ESEARCH.
    assert c.ok("SEARCH ALL") == ["* SEARCH 1"]
    c.close()


# --- Configuration errors ----------------------------------------------------


@pytest.mark.parametrize("text,line,what", [
    ("[capabilities]\nhide = STARTTLS\n", 2,
     "[capabilities] hide: STARTTLS cannot be hidden: clients need it to log in"),
    ("[capabilities]\n\nhide = IDLE AUTH=PLAIN\n", 3,
     "[capabilities] hide: AUTH=PLAIN cannot be hidden"),
    ("[capabilities]\nhide = IMAP4rev1\n", 2, "[capabilities] hide: IMAP4rev1 cannot be hidden"),
    ("[capabilities]\nhide = LOGINDISABLED for user=x\n", 2,
     "[capabilities] hide: LOGINDISABLED cannot be hidden"),
    ("[capabilities]\nhide = UIDONLY\n", 2,
     "[capabilities] hide: 'UIDONLY' cannot be hidden; hideable: IMAP4rev2 CONDSTORE"),
    ("[capabilities]\nhide = IDLE for address=192.0.2.300\n", 2,
     "[capabilities] hide: expected an address or CIDR block"),
    ("[capabilities]\nhide = IDLE for address=192.0.2.0/33\n", 2,
     "[capabilities] hide: expected an address or CIDR block"),
    ("[capabilities]\nhide = IDLE for id.name=Mail\n", 2,
     "[capabilities] hide: capabilities are never chosen by the client's ID (RFC 2971"),
    ("[capabilities]\nhide = IDLE for\n", 2, "[capabilities] hide: expected a match"),
    ("[capabilities]\nhide = IDLE for user=a,\n", 2, "[capabilities] hide: expected a match"),
    ("[capabilities]\nhide = IDLE user=a\n", 2,
     "[capabilities] hide: missing 'for' before 'user=a'"),
    ("[capabilities]\nhide = for user=a\n", 2,
     "[capabilities] hide: expected capabilities to hide"),
    ("[capabilities]\nhide = IDLE for host=a\n", 2,
     "[capabilities] hide: expected user=, address="),
    ("[capabilities]\nhide = IDLE for user=\n", 2, "[capabilities] hide: empty user value"),
    ("[capabilities]\nhide = IDLE for user=a user=b\n", 2,
     "[capabilities] hide: user given twice in one match"),
    ("[capabilities]\nshow = IDLE\n", 2, "[capabilities] show: unknown key"),
    ("[workarounds]\nnosuch = user=a\n", 2,
     "[workarounds] nosuch: unknown workaround (known: updates_on_poll_only, "
     "no_updates_during_fetch)"),
    ("[workarounds]\nupdates_on_poll_only =\n", 2,
     "[workarounds] updates_on_poll_only: expected a match"),
    ('[workarounds]\nupdates_on_poll_only = id.name="Old Mail\n', 2,
     "[workarounds] updates_on_poll_only: id.name value: missing closing '\"'"),
    ("[workarounds]\nno_updates_during_fetch = address=example.org\n", 2,
     "[workarounds] no_updates_during_fetch: expected an address or CIDR block"),
])
def test_bad_rules_stop_petrel_at_start(make_server, text, line, what):
    s = make_server(start=False)
    base = s.config_path.read_text()
    base_lines = base.count("\n")
    s.config_path.write_text(base + text)
    r = subprocess.run([PETREL_BIN, "-c", str(s.config_path), "serve"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == EX_CONFIG, r.stderr
    assert r.stderr.startswith(f"petrel: {s.config_path}:{base_lines + line}: {what}"), r.stderr


def test_rules_accumulate_and_accept_quoted_values(make_server):
    s = make_server("[capabilities]\n"
                    "hide = IDLE for user=nobody\n"
                    "hide = MOVE for address=::1, user=demo\n"
                    "[workarounds]\n"
                    'updates_on_poll_only = id.name="Old Mail" id.version=1.*\n'
                    "updates_on_poll_only = user=alice\n")
    c = s.connect()
    post = login_caps(c)
    assert "IDLE" in post and "MOVE" not in post
    c.close()


# --- Workarounds ---------------------------------------------------------------


def updates(untagged):
    """The EXISTS and EXPUNGE responses among untagged lines."""
    return [u for u in untagged if re.match(r"\* \d+ (EXISTS|EXPUNGE)$", u)]


def select_inbox(server, count, id_name=None, version="1.2"):
    """A session (after ID when id_name is given) with INBOX of count
    messages selected."""
    c = server.login()
    if id_name is not None:
        c.ok(f'ID ("name" "{id_name}" "version" "{version}")')
    for n in range(1, count + 1):
        append(c, "INBOX", n)
    c.ok("SELECT INBOX")
    return c


def other_session_changes(server):
    """Another session expunges message 2 of INBOX and adds message 3."""
    o = server.login()
    o.ok("SELECT INBOX")
    o.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
    o.ok("EXPUNGE")
    append(o, "INBOX", 3)
    o.close()


POLL_ONLY = '[workarounds]\nupdates_on_poll_only = id.name="Old Mail" id.version=1.*\n'


def test_updates_on_poll_only_holds_changes_until_noop(make_server):
    s = make_server(POLL_ONLY)
    c = select_inbox(s, 2, "Old Mail")
    other_session_changes(s)
    for command in ["FETCH 1 (FLAGS)", "UID FETCH 1 (FLAGS)", "SEARCH ALL", "UID SEARCH ALL",
                    "STORE 1 +FLAGS (\\Seen)", "STATUS INBOX (MESSAGES)", "CAPABILITY"]:
        assert updates(c.ok(command)) == [], command
    # The view is still the one the client knows: message 2 is there.
    c.ok("SEARCH ALL")
    assert updates(c.ok("NOOP")) == ["* 2 EXPUNGE", "* 2 EXISTS"]
    assert c.ok("UID SEARCH ALL") == ["* SEARCH 1 3"]
    c.close()
    log = s.log_text()
    assert re.search(r"session=\S+ event=workarounds names=updates_on_poll_only user=demo "
                     r"client=\"?Old Mail/1\.2", log), log[-3000:]


@pytest.mark.parametrize("id_name,version", [("New Mail", "1.2"), ("Old Mail", "2.0"),
                                             (None, None)])
def test_updates_on_poll_only_off_for_other_clients(make_server, id_name, version):
    s = make_server(POLL_ONLY)
    c = select_inbox(s, 2, id_name, version)
    other_session_changes(s)
    # UID commands may carry EXPUNGE (RFC 9051 §7.5.1).
    assert updates(c.ok("UID SEARCH ALL")) == ["* 2 EXPUNGE", "* 2 EXISTS"]
    c.close()
    assert "event=workarounds" not in s.log_text()


def test_updates_on_poll_only_while_idle(make_server):
    s = make_server("[workarounds]\nupdates_on_poll_only = user=demo\n")
    c = select_inbox(s, 1)
    o = s.login()
    append(o, "INBOX", 2)
    assert updates(c.ok("FETCH 1 (FLAGS)")) == []
    c.send("i1 IDLE\r\n")
    assert c.readline().startswith("+ ")
    assert c.readline() == "* 2 EXISTS"
    append(o, "INBOX", 3)
    line = c.readline()
    while line != "* 3 EXISTS":
        assert line.endswith(" RECENT"), line
        line = c.readline()
    c.send("DONE\r\n")
    _, tagged = c.read_until_tagged("i1")
    assert tagged.startswith("i1 OK")
    o.close()
    c.close()


def test_no_updates_during_fetch(make_server):
    s = make_server("[workarounds]\nno_updates_during_fetch = address=127.0.0.0/8\n")
    c = select_inbox(s, 2)
    other_session_changes(s)
    assert updates(c.ok("FETCH 1 (FLAGS)")) == []
    assert updates(c.ok("UID FETCH 1 (FLAGS)")) == []
    # Any other command carries them (EXPUNGE only where RFC 9051 §7.5.1
    # allows it).
    assert updates(c.ok("SEARCH UNSEEN")) == ["* 3 EXISTS"]
    assert updates(c.ok("NOOP")) == ["* 2 EXPUNGE"]
    c.close()


def test_no_updates_during_fetch_off_for_other_addresses(make_server):
    s = make_server("[workarounds]\nno_updates_during_fetch = address=192.0.2.0/24\n")
    c = select_inbox(s, 2)
    other_session_changes(s)
    assert updates(c.ok("FETCH 1 (FLAGS)")) == ["* 3 EXISTS"]
    c.close()


def test_ctl_sessions_show_workarounds(make_server):
    s = make_server("[workarounds]\n"
                    "no_updates_during_fetch = user=demo\n"
                    "updates_on_poll_only = user=demo\n")
    c = s.login()
    d = s.login("demo", "demo")
    r = subprocess.run([PETREL_BIN, "-c", str(s.config_path), "ctl", "sessions", "--json"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [row["workarounds"] for row in rows] == \
        ["updates_on_poll_only,no_updates_during_fetch"] * 2
    c.close()
    d.close()


def test_trailing_separator_is_accepted_without_a_workaround(make_server):
    """Thunderbird has been seen to add a hierarchy separator to mailbox
    names; Petrel drops one trailing "/" from every name it is given, for
    every client, so this needs no workaround."""
    s = make_server()
    c = s.login()
    c.ok('CREATE "Projects/"')
    assert c.ok('LIST "" "Projects"') == ['* LIST (\\HasNoChildren) "/" "Projects"']
    c.ok('CREATE "Projects/Alpha/"')
    assert c.ok('STATUS "Projects/Alpha/" (MESSAGES)') == \
        ['* STATUS "Projects/Alpha" (MESSAGES 0)']
    untagged = c.ok('SELECT "INBOX/"')
    assert "* 0 EXISTS" in untagged
    c.ok('DELETE "Projects/Alpha/"')
    c.close()
