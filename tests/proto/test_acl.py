"""Access control (RFC 4314) as a client sees it: for every right, one
command that needs it works with it and is refused without it, whether the
right comes from the user's own entry, from "anyone", from a $group, or is
taken away by a negative entry; the exact SETACL, DELETEACL, GETACL,
LISTRIGHTS and MYRIGHTS answers; a mailbox without any right looks exactly
like one that does not exist; READ-ONLY and PERMANENTFLAGS follow the
rights; STORE, APPEND and COPY drop the flags the user may not set (the
RFC 4314 section 4 example); CLOSE without "e" expunges nothing.

alice owns the mailboxes; bob (a member of the group "team") and carol use
them as "Other Users/alice/<name>". Each test makes mailboxes of its own,
so the tests share one server."""

import itertools
import re

import pytest

from conftest import Server

USERS = (("alice", "alice"), ("bob", "bob"), ("carol", "carol"), ("dave", "dave"))
MSG = "From: a@example.org\r\nSubject: acl\r\nMessage-ID: <acl@example.org>\r\n\r\nhello\r\n"

_names = itertools.count(1)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    """alice, bob, carol and dave; bob is in the group "team" (groups are
    read at login, so before any session starts)."""
    s = Server(tmp_path_factory.mktemp("acl"), users=USERS)
    s.cli("group", "add", "team", "bob")
    s.start()
    yield s
    rc = s.stop()
    assert rc == 0, f"petrel exited with {rc}:\n{s.log_text()[-5000:]}"


# ---- helpers shared with test_shared.py ----

def q(name):
    """A mailbox name or identifier as a quoted string."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def other(owner, name):
    return f"Other Users/{owner}/{name}"


def fresh(prefix="m"):
    """A mailbox name no other test uses."""
    return f"{prefix}{next(_names)}"


def login(s, user):
    return s.login(user, user)


def append(c, mailbox, flags="", msg=MSG):
    """APPEND with a non-synchronising literal; returns the tagged line."""
    tag = c.next_tag()
    data = msg.encode()
    flags = f" {flags}" if flags else ""
    c.send(f"{tag} APPEND {q(mailbox)}{flags} {{{len(data)}+}}\r\n".encode() + data + b"\r\n")
    return c.read_until_tagged(tag)[1]


def make_mailbox(s, name, messages=1, flags="", owner="alice"):
    """owner creates name with messages; owner's session claims \\Recent
    (SELECT + UNSELECT) so that other sessions' FLAGS never show it."""
    a = login(s, owner)
    a.ok(f"CREATE {q(name)}")
    for _ in range(messages):
        assert " OK" in append(a, name, flags), name
    if messages:
        a.ok(f"SELECT {q(name)}")
        a.ok("UNSELECT")
    return a


def setacl(c, mailbox, identifier, rights):
    c.ok(f"SETACL {q(mailbox)} {q(identifier)} {q(rights)}")


def tagged_text(tagged):
    """A tagged line without its tag."""
    return tagged.split(" ", 1)[1]


def expect_no(resp, code):
    untagged, tagged = resp
    assert re.match(r"^\S+ NO \[%s\] " % code, tagged), tagged
    return tagged


def outcome(resp, refusal="NOPERM"):
    """True for a tagged OK, False for NO [refusal]; anything else fails."""
    untagged, tagged = resp
    if re.match(r"^\S+ OK", tagged):
        return True
    assert re.match(r"^\S+ NO \[%s\] " % refusal, tagged), tagged
    return False


def listed(c, pattern):
    """Names in LIST's answer (LIST never answers NO for rights)."""
    untagged = c.ok(f'LIST "" {q(pattern)}')
    out = []
    for line in untagged:
        m = re.match(r'^\* LIST \(([^)]*)\) "/" "((?:[^"\\]|\\.)*)"$', line)
        assert m, line
        out.append(m.group(2))
    return out


def fetch_flags(c, seqs="1:*"):
    """{seq: set of flags} from FETCH FLAGS (a later line about the same
    message, solicited, wins over an unsolicited one)."""
    out = {}
    for line in c.ok(f"FETCH {seqs} FLAGS"):
        if " FETCH " not in line:
            continue  # e.g. new PERMANENTFLAGS after an ACL change
        m = re.match(r"^\* (\d+) FETCH \((?:.* )?FLAGS \(([^)]*)\)", line)
        assert m, line
        out[int(m.group(1))] = set(m.group(2).split())
    return out


def messages(c, mailbox):
    untagged = c.ok(f"STATUS {q(mailbox)} (MESSAGES)")
    return int(re.search(r"MESSAGES (\d+)", untagged[0]).group(1))


# ---- the rights matrix ----
#
# For each right: the rights bob needs besides it to reach the command,
# and the attempt, which returns True when the command was allowed and
# False when it was refused with NO [NOPERM] (or, where bob is left with
# no right at all, NO [NONEXISTENT]).

def attempt_l(s, c, mb):
    return mb in listed(c, mb)


def attempt_r(s, c, mb):
    return outcome(c.command(f"SELECT {q(mb)}"))


def select_rw(c, mb):
    _, tagged = c.command(f"SELECT {q(mb)}")
    assert tagged.endswith("OK [READ-WRITE] SELECT completed"), tagged


def attempt_store(flag):
    def attempt(s, c, mb):
        select_rw(c, mb)
        allowed = outcome(c.command(f"STORE 1 +FLAGS ({flag})"))
        assert (flag in fetch_flags(c)[1]) == allowed
        return allowed
    return attempt


def attempt_i(s, c, mb):
    tagged = append(c, mb)
    if " OK" in tagged:
        return True
    assert re.match(r"^\S+ NO \[NOPERM\] ", tagged), tagged
    return False


def attempt_p(s, c, mb):
    # No IMAP command needs "p" (it is for mail submitted to the mailbox):
    # MYRIGHTS shows whether it is granted.
    untagged = c.ok(f"MYRIGHTS {q(mb)}")
    assert untagged in ([f"* MYRIGHTS {q(mb)} l"], [f"* MYRIGHTS {q(mb)} lp"]), untagged
    return untagged == [f"* MYRIGHTS {q(mb)} lp"]


def attempt_k(s, c, mb):
    allowed = outcome(c.command(f"CREATE {q(mb + '/sub')}"))
    a = login(s, "alice")
    assert (mb.split("/", 2)[2] + "/sub" in listed(a, "*")) == allowed
    return allowed


def attempt_x(s, c, mb):
    allowed = outcome(c.command(f"DELETE {q(mb)}"))
    a = login(s, "alice")
    assert (mb.split("/", 2)[2] in listed(a, "*")) != allowed
    return allowed


def attempt_e(s, c, mb):
    select_rw(c, mb)
    c.ok("STORE 1 +FLAGS (\\Deleted)")
    untagged, tagged = c.command("EXPUNGE")
    allowed = outcome((untagged, tagged))
    assert ("* 1 EXPUNGE" in untagged) == allowed
    return allowed


def attempt_a(s, c, mb):
    untagged, tagged = c.command(f"GETACL {q(mb)}")
    allowed = outcome((untagged, tagged))
    assert len(untagged) == (1 if allowed else 0), untagged
    return allowed


MATRIX = {
    "l": ("r", attempt_l),
    "r": ("l", attempt_r),
    "s": ("lrw", attempt_store("\\Seen")),
    "w": ("lrs", attempt_store("\\Flagged")),
    "i": ("lr", attempt_i),
    "p": ("l", attempt_p),
    "k": ("lr", attempt_k),
    "x": ("lr", attempt_x),
    "t": ("lrw", attempt_store("\\Deleted")),
    "e": ("lrwt", attempt_e),
    "a": ("lr", attempt_a),
}

# How bob gets the rights: (entries granting base+right, entries granting
# only base). A negative entry takes the right away from bob alone.
MODES = {
    "user": lambda base, right: ([("bob", base + right)], [("bob", base)]),
    "anyone": lambda base, right: ([("anyone", base + right)], [("anyone", base)]),
    "group": lambda base, right: ([("$team", base + right)], [("$team", base)]),
    "negative": lambda base, right: ([("anyone", base + right)],
                                     [("anyone", base + right), ("-bob", right)]),
}


def run_attempt(s, right, entries):
    base, attempt = MATRIX[right]
    name = fresh(f"mx{right}")
    a = make_mailbox(s, name)
    for identifier, rights in entries:
        if rights:
            setacl(a, name, identifier, rights)
    return attempt(s, login(s, "bob"), other("alice", name))


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("right", list(MATRIX))
def test_rights_matrix(srv, right, mode):
    base = MATRIX[right][0]
    granting, lacking = MODES[mode](base, right)
    assert run_attempt(srv, right, lacking) is False
    assert run_attempt(srv, right, granting) is True


def test_negative_right_takes_away_only_from_its_identifier(srv):
    name = fresh()
    a = make_mailbox(srv, name)
    setacl(a, name, "anyone", "lrs")
    setacl(a, name, "-bob", "s")
    setacl(a, name, "$team", "w")
    setacl(a, name, "-$team", "r")
    mb = other("alice", name)
    # bob: anyone + $team, minus -bob and -$team.
    assert login(srv, "bob").ok(f"MYRIGHTS {q(mb)}") == [f"* MYRIGHTS {q(mb)} lw"]
    assert login(srv, "carol").ok(f"MYRIGHTS {q(mb)}") == [f"* MYRIGHTS {q(mb)} lrs"]


# ---- SETACL, DELETEACL, GETACL, LISTRIGHTS, MYRIGHTS ----

OWNER_LINE = "alice lrswipkxteacd"


def getacl(c, mailbox):
    untagged = c.ok(f"GETACL {q(mailbox)}")
    assert len(untagged) == 1, untagged
    return untagged[0]


def test_getacl_shows_the_owner_without_a_stored_entry(srv):
    name = fresh()
    a = make_mailbox(srv, name, messages=0)
    assert getacl(a, name) == f"* ACL {q(name)} {OWNER_LINE}"
    assert a.ok("GETACL INBOX") == [f'* ACL "INBOX" {OWNER_LINE}']


def test_setacl_replaces_adds_and_removes(srv):
    name = fresh()
    a = make_mailbox(srv, name, messages=0)
    # RFC 4314 2.1.1: "d" expands to "e" and "t"; the answer lists c and d
    # after the letters whenever a member is present.
    setacl(a, name, "bob", "lrswida")
    assert getacl(a, name) == f"* ACL {q(name)} {OWNER_LINE} bob lrswitead"
    setacl(a, name, "bob", "+c")
    assert getacl(a, name) == f"* ACL {q(name)} {OWNER_LINE} bob lrswikteacd"
    setacl(a, name, "bob", "-d")
    assert getacl(a, name) == f"* ACL {q(name)} {OWNER_LINE} bob lrswikac"
    setacl(a, name, "bob", "lr")
    assert getacl(a, name) == f"* ACL {q(name)} {OWNER_LINE} bob lr"
    setacl(a, name, "bob", "+")
    assert getacl(a, name) == f"* ACL {q(name)} {OWNER_LINE} bob lr"
    # Nothing left: the entry goes.
    setacl(a, name, "bob", "-lr")
    assert getacl(a, name) == f"* ACL {q(name)} {OWNER_LINE}"


def test_setacl_rfc_example_plus_cda(srv):
    # RFC 4314 3.1: Chris lrswi, then "+cda".
    name = fresh()
    a = make_mailbox(srv, name, messages=0)
    setacl(a, name, "carol", "lrswi")
    setacl(a, name, "carol", "+cda")
    assert getacl(a, name) == f"* ACL {q(name)} {OWNER_LINE} carol lrswikteacd"


def test_acl_lists_entries_by_identifier(srv):
    name = fresh()
    a = make_mailbox(srv, name, messages=0)
    setacl(a, name, "carol", "lr")
    setacl(a, name, "anyone", "l")
    setacl(a, name, "-bob", "w")
    setacl(a, name, "$team", "lrs")
    setacl(a, name, "bob", "lrsw")
    assert getacl(a, name) == (f"* ACL {q(name)} {OWNER_LINE} $team lrs -bob w anyone l"
                               " bob lrsw carol lr")


def test_deleteacl(srv):
    name = fresh()
    a = make_mailbox(srv, name, messages=0)
    setacl(a, name, "bob", "lr")
    setacl(a, name, "-bob", "r")
    a.ok(f"DELETEACL {q(name)} bob")
    # "bob" and "-bob" are separate entries (RFC 4314 2).
    assert getacl(a, name) == f"* ACL {q(name)} {OWNER_LINE} -bob r"
    # Deleting what is not there is not an error.
    a.ok(f"DELETEACL {q(name)} bob")
    a.ok(f"DELETEACL {q(name)} -bob")
    assert getacl(a, name) == f"* ACL {q(name)} {OWNER_LINE}"


def test_setacl_bad_arguments(srv):
    name = fresh()
    a = make_mailbox(srv, name, messages=0)
    setacl(a, name, "bob", "lr")
    # RFC 4314 3.1: upper case and unknown rights are BAD, never ignored.
    for rights in ("lrQs", "lrqs", "+L", "-1", "l r", "+-l"):
        untagged, tagged = a.command(f"SETACL {q(name)} bob {q(rights)}")
        assert re.match(r"^\S+ BAD ", tagged), (rights, tagged)
        assert untagged == []
    # RFC 4314 3: an empty identifier is BAD.
    for cmd in (f'SETACL {q(name)} "" lr', f'DELETEACL {q(name)} ""',
                f'LISTRIGHTS {q(name)} ""', f"SETACL {q(name)} bob",
                "GETACL", "MYRIGHTS"):
        untagged, tagged = a.command(cmd)
        assert re.match(r"^\S+ BAD ", tagged), (cmd, tagged)
    assert getacl(a, name) == f"* ACL {q(name)} {OWNER_LINE} bob lr"


def test_owner_entry_cannot_change(srv):
    name = fresh()
    a = make_mailbox(srv, name, messages=0)
    expect_no(a.command(f"SETACL {q(name)} alice lr"), "CANNOT")
    expect_no(a.command(f"DELETEACL {q(name)} alice"), "CANNOT")
    assert getacl(a, name) == f"* ACL {q(name)} {OWNER_LINE}"
    # Nor through the shared name by someone holding "a".
    setacl(a, name, "bob", "lra")
    b = login(srv, "bob")
    expect_no(b.command(f"SETACL {q(other('alice', name))} alice lr"), "CANNOT")
    expect_no(b.command(f"DELETEACL {q(other('alice', name))} alice"), "CANNOT")
    assert a.ok(f"MYRIGHTS {q(name)}") == [f"* MYRIGHTS {q(name)} lrswipkxteacd"]


def test_listrights(srv):
    name = fresh()
    a = make_mailbox(srv, name, messages=0)
    assert a.ok(f"LISTRIGHTS {q(name)} alice") == [f"* LISTRIGHTS {q(name)} alice lrswipkxtea"]
    for identifier in ("bob", "anyone", "$team", "-bob", "nobody-yet"):
        assert a.ok(f"LISTRIGHTS {q(name)} {q(identifier)}") == [
            f'* LISTRIGHTS {q(name)} {identifier} "" l r s w i p k x t e a c d']


def test_myrights(srv):
    name = fresh()
    a = make_mailbox(srv, name, messages=0)
    assert a.ok(f"MYRIGHTS {q(name)}") == [f"* MYRIGHTS {q(name)} lrswipkxteacd"]
    setacl(a, name, "bob", "lrk")
    mb = other("alice", name)
    assert login(srv, "bob").ok(f"MYRIGHTS {q(mb)}") == [f"* MYRIGHTS {q(mb)} lrkc"]
    setacl(a, name, "bob", "lrt")
    assert login(srv, "bob").ok(f"MYRIGHTS {q(mb)}") == [f"* MYRIGHTS {q(mb)} lrtd"]
    expect_no(a.command('MYRIGHTS "no such mailbox"'), "NONEXISTENT")


def test_acl_commands_by_a_user_holding_a(srv):
    name = fresh()
    a = make_mailbox(srv, name, messages=0)
    setacl(a, name, "bob", "lra")
    mb = other("alice", name)
    b = login(srv, "bob")
    b.ok(f"SETACL {q(mb)} carol lrs")
    assert b.ok(f"GETACL {q(mb)}") == [f"* ACL {q(mb)} {OWNER_LINE} bob lra carol lrs"]
    assert b.ok(f"LISTRIGHTS {q(mb)} carol") == [
        f'* LISTRIGHTS {q(mb)} carol "" l r s w i p k x t e a c d']
    b.ok(f"DELETEACL {q(mb)} carol")
    assert getacl(a, name) == f"* ACL {q(name)} {OWNER_LINE} bob lra"


def test_acl_commands_without_a(srv):
    name = fresh()
    a = make_mailbox(srv, name, messages=0)
    setacl(a, name, "bob", "lrswipkxte")
    mb = other("alice", name)
    b = login(srv, "bob")
    for cmd in (f"SETACL {q(mb)} carol lr", f"DELETEACL {q(mb)} bob",
                f"GETACL {q(mb)}", f"LISTRIGHTS {q(mb)} carol"):
        expect_no(b.command(cmd), "NOPERM")
    # MYRIGHTS needs any right.
    assert b.ok(f"MYRIGHTS {q(mb)}") == [f"* MYRIGHTS {q(mb)} lrswipkxtecd"]
    assert getacl(a, name) == f"* ACL {q(name)} {OWNER_LINE} bob lrswipkxtecd"


def test_acl_change_applies_from_the_next_command(srv):
    name = fresh()
    a = make_mailbox(srv, name, messages=0)
    setacl(a, name, "bob", "lr")
    mb = other("alice", name)
    b = login(srv, "bob")
    assert b.ok(f"MYRIGHTS {q(mb)}") == [f"* MYRIGHTS {q(mb)} lr"]
    setacl(a, name, "bob", "+w")
    assert b.ok(f"MYRIGHTS {q(mb)}") == [f"* MYRIGHTS {q(mb)} lrw"]
    a.ok(f"DELETEACL {q(name)} bob")
    expect_no(b.command(f"MYRIGHTS {q(mb)}"), "NONEXISTENT")


# ---- a mailbox without any right does not exist ----

LEAK_COMMANDS = [
    "SELECT {mb}",
    "EXAMINE {mb}",
    "STATUS {mb} (MESSAGES UNSEEN)",
    "GETACL {mb}",
    "MYRIGHTS {mb}",
    "LISTRIGHTS {mb} carol",
    "SETACL {mb} carol lr",
    "DELETEACL {mb} carol",
    "DELETE {mb}",
    "RENAME {mb} {new}",
    "APPEND",
]


def leak_answer(c, cmd, mb):
    """The tagged answer to cmd on mb, without its tag."""
    if cmd == "APPEND":
        return tagged_text(append(c, mb))
    untagged, tagged = c.command(cmd.format(mb=q(mb), new=q(mb + "-renamed")))
    assert untagged == [], (cmd, untagged)
    return tagged_text(tagged)


@pytest.mark.parametrize("cmd", LEAK_COMMANDS)
def test_no_right_answers_like_nonexistent(srv, cmd):
    hidden, negated = fresh("hidden"), fresh("negated")
    a = make_mailbox(srv, hidden)
    make_mailbox(srv, negated)
    setacl(a, negated, "anyone", "lrswipkxtea")
    setacl(a, negated, "-bob", "lrswipkxtea")
    setacl(a, hidden, "carol", "lrswipkxtea")
    b = login(srv, "bob")
    answers = {
        "missing": leak_answer(b, cmd, other("alice", fresh("missing"))),
        "no such user": leak_answer(b, cmd, other("nosuchuser", "INBOX")),
        "hidden": leak_answer(b, cmd, other("alice", hidden)),
        "negated": leak_answer(b, cmd, other("alice", negated)),
    }
    assert answers["missing"].startswith("NO [NONEXISTENT] "), answers
    for answer in answers.values():
        assert answer == answers["missing"], answers
    # Nothing changed.
    for name in (hidden, negated):
        assert messages(a, name) == 1
    assert getacl(a, hidden) == f"* ACL {q(hidden)} {OWNER_LINE} carol lrswipkxteacd"
    assert getacl(a, negated) == (f"* ACL {q(negated)} {OWNER_LINE} -bob lrswipkxteacd"
                                  " anyone lrswipkxteacd")


def test_hidden_mailbox_is_not_listed(srv):
    hidden = fresh("hidden")
    make_mailbox(srv, hidden)
    b = login(srv, "bob")
    assert other("alice", hidden) not in listed(b, "*")
    assert other("alice", hidden) not in listed(b, other("alice", hidden))


# ---- READ-ONLY / READ-WRITE and PERMANENTFLAGS ----

@pytest.mark.parametrize("rights,code,permanent", [
    ("lr", "READ-ONLY", ""),
    ("lrpkxa", "READ-ONLY", ""),
    ("lrs", "READ-WRITE", "\\Seen"),
    ("lrt", "READ-WRITE", "\\Deleted"),
    ("lrw", "READ-WRITE", "\\Answered \\Flagged \\Draft \\*"),
    ("lri", "READ-WRITE", ""),
    ("lre", "READ-WRITE", ""),
    ("lrst", "READ-WRITE", "\\Deleted \\Seen"),
    ("lrswt", "READ-WRITE", "\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*"),
])
def test_select_mode_and_permanentflags_follow_rights(srv, rights, code, permanent):
    name = fresh()
    a = make_mailbox(srv, name)
    setacl(a, name, "bob", rights)
    mb = other("alice", name)
    b = login(srv, "bob")
    untagged, tagged = b.command(f"SELECT {q(mb)}")
    assert tagged.endswith(f"OK [{code}] SELECT completed"), tagged
    perm = [line for line in untagged if line.startswith("* OK [PERMANENTFLAGS ")]
    assert len(perm) == 1 and perm[0].startswith(f"* OK [PERMANENTFLAGS ({permanent})]"), perm
    # EXAMINE is read-only whatever the rights.
    untagged, tagged = b.command(f"EXAMINE {q(mb)}")
    assert tagged.endswith("OK [READ-ONLY] EXAMINE completed"), tagged
    assert "* OK [PERMANENTFLAGS ()] Flags permitted" in untagged


# ---- flags the user has no right for are dropped (RFC 4314 section 4) ----

def test_store_drops_flags_without_right(srv):
    name = fresh()
    a = make_mailbox(srv, name)
    setacl(a, name, "bob", "lrsw")
    b = login(srv, "bob")
    select_rw(b, other("alice", name))
    # \Deleted needs "t": dropped; the rest is stored and the STORE is OK.
    b.ok("STORE 1 +FLAGS (\\Seen \\Deleted \\Flagged)")
    assert fetch_flags(b) == {1: {"\\Seen", "\\Flagged"}}
    # Nothing requested is allowed: NO [NOPERM], nothing changes.
    expect_no(b.command("STORE 1 +FLAGS (\\Deleted)"), "NOPERM")
    expect_no(b.command("STORE 1 -FLAGS (\\Deleted)"), "NOPERM")
    assert fetch_flags(b) == {1: {"\\Seen", "\\Flagged"}}
    setacl(a, name, "bob", "lrs")
    b = login(srv, "bob")
    select_rw(b, other("alice", name))
    expect_no(b.command("STORE 1 +FLAGS (\\Answered $Label)"), "NOPERM")
    b.ok("STORE 1 -FLAGS (\\Seen \\Flagged)")
    assert fetch_flags(b) == {1: {"\\Flagged"}}
    # bob's \Seen was his own; \Flagged is shared.
    a.ok(f"SELECT {q(name)}")
    assert fetch_flags(a) == {1: {"\\Flagged"}}


def test_rights_change_reaches_the_selected_session(srv):
    # "ACL changes apply from the next command of every session", also a
    # session that has the mailbox selected.
    name = fresh()
    a = make_mailbox(srv, name, messages=2)
    setacl(a, name, "bob", "lrw")
    b = login(srv, "bob")
    select_rw(b, other("alice", name))
    setacl(a, name, "bob", "lrws")
    b.ok("FETCH 1 BODY[]")
    b.ok("STORE 2 +FLAGS (\\Seen)")
    assert fetch_flags(b) == {1: {"\\Seen"}, 2: {"\\Seen"}}
    setacl(a, name, "bob", "lrs")
    expect_no(b.command("STORE 1 +FLAGS (\\Flagged)"), "NOPERM")
    assert fetch_flags(b) == {1: {"\\Seen"}, 2: {"\\Seen"}}


COPY_SOURCE_FLAGS = ["(\\Draft \\Deleted)", "(\\Answered)", "($Forwarded \\Seen)"]


@pytest.mark.parametrize("rights,expected", [
    # RFC 4314 section 4's example: MYRIGHTS "rwis", then "rsti" (with "l"
    # and "r" so that bob can look at the result).
    ("lrswi", [{"\\Draft"}, {"\\Answered"}, {"$Forwarded", "\\Seen"}]),
    ("lrsti", [{"\\Deleted"}, set(), {"\\Seen"}]),
])
@pytest.mark.parametrize("how", ["COPY", "APPEND"])
def test_copy_and_append_drop_flags_without_right(srv, rights, expected, how):
    target = fresh("target")
    a = make_mailbox(srv, target, messages=0)
    setacl(a, target, "bob", rights)
    mb = other("alice", target)
    b = login(srv, "bob")
    if how == "COPY":
        source = fresh("source")
        make_mailbox(srv, source, messages=0, owner="bob")
        for flags in COPY_SOURCE_FLAGS:
            assert " OK" in append(b, source, flags)
        b.ok(f"SELECT {q(source)}")
        b.ok(f"COPY 1:3 {q(mb)}")
        b.ok("UNSELECT")
    else:
        for flags in COPY_SOURCE_FLAGS:
            assert " OK" in append(b, mb, flags)
    b.ok(f"EXAMINE {q(mb)}")
    assert fetch_flags(b) == {1: expected[0], 2: expected[1], 3: expected[2]}


def test_fetch_without_s_does_not_set_seen(srv):
    name = fresh()
    a = make_mailbox(srv, name)
    setacl(a, name, "bob", "lrw")
    b = login(srv, "bob")
    select_rw(b, other("alice", name))
    untagged = b.ok("FETCH 1 BODY[]")
    assert not any("\\Seen" in line for line in untagged), untagged
    assert fetch_flags(b) == {1: set()}
    setacl(a, name, "bob", "lrws")
    b = login(srv, "bob")
    select_rw(b, other("alice", name))
    b.ok("FETCH 1 BODY[]")
    assert fetch_flags(b) == {1: {"\\Seen"}}


def test_close_without_e_does_not_expunge(srv):
    name = fresh()
    a = make_mailbox(srv, name)
    setacl(a, name, "bob", "lrwt")
    b = login(srv, "bob")
    select_rw(b, other("alice", name))
    b.ok("STORE 1 +FLAGS (\\Deleted)")
    # RFC 4314 4: CLOSE without "e" closes and answers OK, expunging nothing.
    b.ok("CLOSE")
    assert messages(a, name) == 1
    setacl(a, name, "bob", "lrwte")
    select_rw(b, other("alice", name))
    b.ok("CLOSE")
    assert messages(a, name) == 0


def test_uid_expunge_needs_e(srv):
    name = fresh()
    a = make_mailbox(srv, name, flags="(\\Deleted)")
    setacl(a, name, "bob", "lrwt")
    b = login(srv, "bob")
    select_rw(b, other("alice", name))
    expect_no(b.command("UID EXPUNGE 1:*"), "NOPERM")
    expect_no(b.command("EXPUNGE"), "NOPERM")
    assert messages(a, name) == 1


def test_move_needs_i_on_target_and_t_e_on_source(srv):
    name = fresh()
    a = make_mailbox(srv, name)
    target = fresh("target")
    make_mailbox(srv, target, messages=0, owner="bob")
    b = login(srv, "bob")
    setacl(a, name, "bob", "lrwi")
    select_rw(b, other("alice", name))
    expect_no(b.command(f"MOVE 1 {q(target)}"), "NOPERM")
    assert messages(a, name) == 1 and messages(b, target) == 0
    setacl(a, name, "bob", "lrwite")
    select_rw(b, other("alice", name))
    b.ok(f"MOVE 1 {q(target)}")
    assert messages(a, name) == 0 and messages(b, target) == 1
    # Into alice's mailbox, "i" is needed there.
    b.ok(f"SELECT {q(target)}")
    setacl(a, name, "bob", "lrwte")
    expect_no(b.command(f"COPY 1 {q(other('alice', name))}"), "NOPERM")
    expect_no(b.command(f"MOVE 1 {q(other('alice', name))}"), "NOPERM")
    assert messages(a, name) == 0 and messages(b, target) == 1


# ---- mailbox management ----

def test_create_needs_k_on_the_nearest_existing_parent(srv):
    name = fresh()
    a = make_mailbox(srv, name, messages=0)
    setacl(a, name, "bob", "lr")
    b = login(srv, "bob")
    expect_no(b.command(f"CREATE {q(other('alice', name) + '/x/y')}"), "NOPERM")
    setacl(a, name, "bob", "lrk")
    b.ok(f"CREATE {q(other('alice', name) + '/x/y')}")
    assert f"{name}/x/y" in listed(a, "*")
    # Top level of another user's store: nothing above it to hold "k".
    expect_no(b.command(f"CREATE {q(other('alice', fresh('top')))}"), "NOPERM")


def test_new_mailbox_inherits_its_parents_acl(srv):
    name = fresh()
    a = make_mailbox(srv, name, messages=0)
    setacl(a, name, "bob", "lrk")
    setacl(a, name, "$team", "lrs")
    setacl(a, name, "-carol", "w")
    b = login(srv, "bob")
    b.ok(f"CREATE {q(other('alice', name) + '/child')}")
    a.ok(f"CREATE {q(name + '/own')}")
    for child in ("child", "own"):
        assert getacl(a, f"{name}/{child}") == (
            f"* ACL {q(name + '/' + child)} {OWNER_LINE} $team lrs -carol w bob lrkc")


def test_delete_removes_the_acl(srv):
    name = fresh()
    a = make_mailbox(srv, name, messages=0)
    setacl(a, name, "bob", "lrx")
    login(srv, "bob").ok(f"DELETE {q(other('alice', name))}")
    a.ok(f"CREATE {q(name)}")
    assert getacl(a, name) == f"* ACL {q(name)} {OWNER_LINE}"


def test_rename_needs_x_on_source_and_k_on_new_parent(srv):
    src, dst = fresh("src"), fresh("dst")
    a = make_mailbox(srv, src)
    make_mailbox(srv, dst, messages=0)
    setacl(a, src, "bob", "lr")
    setacl(a, dst, "bob", "lr")
    b = login(srv, "bob")
    new = other("alice", dst) + "/moved"
    expect_no(b.command(f"RENAME {q(other('alice', src))} {q(new)}"), "NOPERM")
    setacl(a, src, "bob", "lrx")
    expect_no(b.command(f"RENAME {q(other('alice', src))} {q(new)}"), "NOPERM")
    setacl(a, dst, "bob", "lrk")
    b.ok(f"RENAME {q(other('alice', src))} {q(new)}")
    assert messages(a, f"{dst}/moved") == 1
    # RFC 4314 4: RENAME keeps the ACL.
    assert getacl(a, f"{dst}/moved") == f"* ACL {q(dst + '/moved')} {OWNER_LINE} bob lrx"


def test_rename_cannot_move_between_owners(srv):
    name = fresh()
    a = make_mailbox(srv, name)
    setacl(a, name, "bob", "lrxk")
    b = login(srv, "bob")
    expect_no(b.command(f"RENAME {q(other('alice', name))} {q(fresh('mine'))}"), "CANNOT")
    expect_no(b.command(f"RENAME INBOX {q(other('alice', name) + '/inbox')}"), "CANNOT")
    assert messages(a, name) == 1
