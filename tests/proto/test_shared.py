"""Shared and public folders as clients see them: NAMESPACE, LIST and LSUB
of the "Other Users" and "Public Folders" roots and of what is shared,
SELECT of the roots, two users working live on one mailbox, per-user
\\Seen, public folders made with `petrel public create`, the default ACL
and inheritance, groups made with `petrel group`, the QUOTA root of the
public folders, and the `petrel acl` command line."""

import re
import socket

import pytest

from conftest import Server
from test_acl import (OWNER_LINE, USERS, append, expect_no, fetch_flags, fresh, getacl,
                      listed, login, make_mailbox, messages, other, q, setacl)

NAMESPACE = '* NAMESPACE (("" "/")) (("Other Users/" "/")) (("Public Folders/" "/"))'


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("shared"), users=USERS).start()
    yield s
    rc = s.stop()
    assert rc == 0, f"petrel exited with {rc}:\n{s.log_text()[-5000:]}"


@pytest.fixture
def own(make_server):
    """A server of the test's own, for tests that look at a whole
    namespace (what another test shares would show there)."""
    return make_server(users=USERS)


def list_lines(c, pattern, ref=""):
    return sorted(c.ok(f"LIST {q(ref)} {q(pattern)}"))


def lsub_names(c, pattern="*"):
    out = []
    for line in c.ok(f'LSUB "" {q(pattern)}'):
        m = re.match(r'^\* LSUB \([^)]*\) "/" "((?:[^"\\]|\\.)*)"$', line)
        assert m, line
        out.append(m.group(1))
    return out


def read_until(c, pattern, seconds=10):
    """Lines an idling client gets until one matches pattern (a liveness
    bound, not a timing check: the push normally takes milliseconds)."""
    c.sock.settimeout(seconds)
    seen = []
    try:
        while True:
            line = c.readline()
            seen.append(line)
            if re.match(pattern, line):
                return seen
    except socket.timeout:
        raise AssertionError(f"no line matching {pattern!r}; got {seen!r}")
    finally:
        c.sock.settimeout(20)


def status_unseen(c, mailbox):
    untagged = c.ok(f"STATUS {q(mailbox)} (UNSEEN)")
    return int(re.search(r"UNSEEN (\d+)", untagged[0]).group(1))


def search(c, criteria):
    untagged = c.ok(f"SEARCH {criteria}")
    assert len(untagged) == 1 and untagged[0].startswith("* SEARCH"), untagged
    return [int(n) for n in untagged[0].split()[2:]]


# ---- capabilities and namespaces ----

def test_capability_and_namespace(srv):
    c = login(srv, "bob")
    caps = c.ok("CAPABILITY")[0].split()
    assert "ACL" in caps and "RIGHTS=texk" in caps
    assert c.ok("NAMESPACE") == [NAMESPACE]


def test_roots_without_anything_shared(own):
    # Empty namespace roots stay out of wildcard listings, so that a
    # server without sharing shows clients no empty folders; a pattern
    # that names a root still gets it (clients LIST the NAMESPACE
    # prefixes).
    c = login(own, "dave")
    lines = list_lines(c, "%")
    assert not any('"Other Users"' in line or '"Public Folders"' in line for line in lines)
    assert '* LIST (\\HasNoChildren) "/" "INBOX"' in lines
    assert list_lines(c, "Other Users") == [
        '* LIST (\\Noselect \\HasNoChildren) "/" "Other Users"']
    assert list_lines(c, "Public Folders") == [
        '* LIST (\\Noselect \\HasNoChildren) "/" "Public Folders"']
    assert list_lines(c, "Other Users/%") == []
    assert list_lines(c, "Public Folders/*") == []


def test_roots_and_owner_nodes_with_shares(own):
    a = make_mailbox(own, "Projects")
    make_mailbox(own, "Private")
    setacl(a, "Projects", "bob", "lr")
    own.cli("public", "create", "News")
    b = login(own, "bob")
    lines = list_lines(b, "%")
    assert '* LIST (\\Noselect \\HasChildren) "/" "Other Users"' in lines
    assert '* LIST (\\Noselect \\HasChildren) "/" "Public Folders"' in lines
    assert list_lines(b, "Other Users/%") == [
        '* LIST (\\Noselect \\HasChildren) "/" "Other Users/alice"']
    assert list_lines(b, "Other Users/alice/%") == [
        '* LIST (\\HasNoChildren) "/" "Other Users/alice/Projects"']
    assert list_lines(b, "Public Folders/%") == [
        '* LIST (\\HasNoChildren) "/" "Public Folders/News"']
    everything = listed(b, "*")
    assert "Other Users/alice/Projects" in everything
    assert "Public Folders/News" in everything
    assert "Other Users/alice/Private" not in everything
    assert "INBOX" in everything
    # carol is offered nothing of alice's.
    c = login(own, "carol")
    assert list_lines(c, "Other Users/%") == []
    assert not any('"Other Users"' in line for line in list_lines(c, "%"))
    assert list_lines(c, "Other Users") == [
        '* LIST (\\Noselect \\HasNoChildren) "/" "Other Users"']


def test_list_with_reference(srv):
    name = fresh("ref")
    a = make_mailbox(srv, name)
    setacl(a, name, "bob", "lr")
    b = login(srv, "bob")
    assert list_lines(b, name, ref="Other Users/alice/") == [
        f'* LIST (\\HasNoChildren) "/" "Other Users/alice/{name}"']


def test_lookup_on_a_child_only_hides_the_parent(srv):
    # RFC 4314 section 4: "l" on A/B but not on A: LIST behaves as if A
    # did not exist.
    top = fresh("A")
    a = make_mailbox(srv, top)
    a.ok(f"CREATE {q(top + '/B')}")
    setacl(a, f"{top}/B", "bob", "lr")
    b = login(srv, "bob")
    everything = listed(b, "*")
    assert other("alice", f"{top}/B") in everything
    assert other("alice", top) not in everything
    expect_no(b.command(f"SELECT {q(other('alice', top))}"), "NONEXISTENT")
    b.ok(f"SELECT {q(other('alice', top + '/B'))}")


def test_select_of_roots_and_owner_nodes(srv):
    name = fresh()
    a = make_mailbox(srv, name)
    setacl(a, name, "bob", "lr")
    b = login(srv, "bob")
    for node in ("Other Users", "Other Users/alice", "Public Folders"):
        for cmd in (f"SELECT {q(node)}", f"EXAMINE {q(node)}",
                    f"STATUS {q(node)} (MESSAGES)"):
            untagged, tagged = b.command(cmd)
            assert re.match(r"^\S+ NO \[CANNOT\] ", tagged), (cmd, tagged)
            assert untagged == [], (cmd, untagged)
    # The session is still well: not selected, commands work.
    b.ok("NOOP")
    untagged, tagged = b.command("FETCH 1 FLAGS")
    assert re.match(r"^\S+ BAD ", tagged), tagged


def test_reserved_personal_names(srv):
    c = login(srv, "dave")
    for name in ("Other Users", "Other Users/x", "Public Folders", "Public Folders/y/z"):
        untagged, tagged = c.command(f"CREATE {q(name)}")
        assert re.match(r"^\S+ NO \[(CANNOT|NOPERM)\] ", tagged), (name, tagged)
    # A top-level public folder is made by the administrator only.
    expect_no(c.command(f"CREATE {q('Public Folders/' + fresh('p'))}"), "NOPERM")
    expect_no(c.command(f"CREATE {q('Other Users')}"), "CANNOT")
    expect_no(c.command(f"RENAME INBOX {q('Other Users')}"), "CANNOT")
    assert not any(n.startswith(("Other Users/", "Public Folders/"))
                   for n in listed(c, "*"))


def lsub_line(c, name):
    lines = [l for l in c.ok(f"LSUB \"\" {q(name)}")]
    assert len(lines) == 1, lines
    return lines[0]


def test_lsub_shows_only_what_can_be_looked_up(srv):
    name, never = fresh("sub"), fresh("never")
    a = make_mailbox(srv, name)
    setacl(a, name, "bob", "lr")
    b = login(srv, "bob")
    mb = other("alice", name)
    b.ok(f"SUBSCRIBE {q(mb)}")
    b.ok(f"SUBSCRIBE {q(other('alice', never))}")
    assert lsub_line(b, mb) == f'* LSUB () "/" {q(mb)}'
    assert mb in lsub_names(b, "Other Users/alice/%")
    # Without "l" the subscribed name is shown as any subscribed name
    # that names no mailbox (RFC 9051 6.3.7): nothing tells it exists.
    a.ok(f"DELETEACL {q(name)} bob")
    assert lsub_line(b, mb) == f'* LSUB (\\Noselect) "/" {q(mb)}'
    assert lsub_line(b, other("alice", never)) == (
        f'* LSUB (\\Noselect) "/" {q(other("alice", never))}')
    assert b.ok(f'LIST (SUBSCRIBED) "" {q(mb)}') == [
        f'* LIST (\\NonExistent \\Subscribed) "/" {q(mb)}']


# ---- two users on one mailbox ----

def test_two_users_see_each_others_changes_live(srv):
    name = fresh("live")
    a = make_mailbox(srv, name, messages=0)
    setacl(a, name, "bob", "lrswite")
    mb = other("alice", name)
    # alice idles in her own mailbox; bob works in it.
    a.ok("ENABLE IMAP4rev2")
    a.ok(f"SELECT {q(name)}")
    a.send("i1 IDLE\r\n")
    assert a.readline() == "+ idling"
    b = login(srv, "bob")
    assert " OK" in append(b, mb)
    read_until(a, r"^\* 1 EXISTS$")
    b.ok(f"SELECT {q(mb)}")
    b.ok("STORE 1 +FLAGS.SILENT (\\Flagged)")
    read_until(a, r"^\* 1 FETCH \(.*FLAGS \(\\Flagged\)")
    b.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    read_until(a, r"^\* 1 FETCH \(.*FLAGS \(\\Flagged \\Deleted\)")
    b.ok("EXPUNGE")
    read_until(a, r"^\* 1 EXPUNGE$")
    a.send("DONE\r\n")
    assert a.readline() == "i1 OK IDLE terminated"
    assert messages(a, name) == 0

    # And the other way round: bob idles, alice writes.
    assert " OK" in append(a, name)
    b.ok("NOOP")
    b.send("i2 IDLE\r\n")
    assert b.readline() == "+ idling"
    assert " OK" in append(a, name)
    read_until(b, r"^\* 2 EXISTS$")
    a.ok(f"SELECT {q(name)}")
    a.ok("STORE 2 +FLAGS.SILENT (\\Answered)")
    read_until(b, r"^\* 2 FETCH \(.*FLAGS \(\\Answered")
    a.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    a.ok("EXPUNGE")
    read_until(b, r"^\* 1 EXPUNGE$")
    b.send("DONE\r\n")
    assert b.readline() == "i2 OK IDLE terminated"


def test_noop_brings_the_other_users_changes(srv):
    name = fresh("noop")
    a = make_mailbox(srv, name)
    setacl(a, name, "bob", "lrw")
    b = login(srv, "bob")
    b.ok(f"SELECT {q(other('alice', name))}")
    assert " OK" in append(a, name)
    a.ok(f"SELECT {q(name)}")
    a.ok("STORE 1 +FLAGS.SILENT (\\Flagged)")
    untagged = b.ok("NOOP")
    assert "* 2 EXISTS" in untagged, untagged
    assert any(re.match(r"^\* 1 FETCH \(.*FLAGS \(\\Flagged\)", l) for l in untagged), untagged


# ---- per-user \Seen ----

def test_seen_is_kept_per_user(srv):
    name = fresh("seen")
    a = make_mailbox(srv, name, messages=2)
    setacl(a, name, "bob", "lrsw")
    setacl(a, name, "carol", "lrs")
    mb = other("alice", name)
    b = login(srv, "bob")
    b.ok(f"SELECT {q(mb)}")
    b.ok("FETCH 1 BODY[]")
    assert fetch_flags(b) == {1: {"\\Seen"}, 2: set()}
    # alice's (the owner's) \Seen is the shared flag: unchanged.
    a.ok(f"SELECT {q(name)}")
    assert fetch_flags(a) == {1: set(), 2: set()}
    assert status_unseen(a, name) == 2
    assert search(a, "UNSEEN") == [1, 2]
    assert status_unseen(b, mb) == 1
    assert search(b, "UNSEEN") == [2]
    # alice reads message 2; bob's view does not change.
    a.ok("STORE 2 +FLAGS.SILENT (\\Seen)")
    assert fetch_flags(b) == {1: {"\\Seen"}, 2: set()}
    assert search(b, "SEEN") == [1]
    # carol has her own.
    c = login(srv, "carol")
    assert status_unseen(c, mb) == 2
    c.ok(f"SELECT {q(mb)}")
    assert fetch_flags(c) == {1: set(), 2: set()}
    c.ok("STORE 2 +FLAGS.SILENT (\\Seen)")
    # Other flags are shared.
    b.ok("STORE 1 +FLAGS.SILENT (\\Flagged)")
    b.ok("STORE 1 -FLAGS.SILENT (\\Seen)")
    assert fetch_flags(a) == {1: {"\\Flagged"}, 2: {"\\Seen"}}
    assert fetch_flags(b) == {1: {"\\Flagged"}, 2: set()}
    assert fetch_flags(c) == {1: {"\\Flagged"}, 2: {"\\Seen"}}
    assert status_unseen(b, mb) == 2
    assert status_unseen(c, mb) == 1
    assert status_unseen(a, name) == 1


def test_seen_of_public_folders_is_per_user(srv):
    name = fresh("PubSeen")
    srv.cli("public", "create", name, "--acl", "anyone=lrsi")
    mb = f"Public Folders/{name}"
    b = login(srv, "bob")
    assert " OK" in append(b, mb)
    b.ok(f"SELECT {q(mb)}")
    b.ok("STORE 1 +FLAGS.SILENT (\\Seen)")
    c = login(srv, "carol")
    assert status_unseen(c, mb) == 1
    assert status_unseen(b, mb) == 0


# ---- public folders ----

def test_public_create_with_default_acl(srv):
    name = fresh("Pub")
    srv.cli("public", "create", name)
    assert srv.cli("acl", "get", "--public", name).stdout == "anyone lrs\n"
    mb = f"Public Folders/{name}"
    b = login(srv, "bob")
    assert mb in listed(b, "Public Folders/*")
    untagged, tagged = b.command(f"SELECT {q(mb)}")
    assert tagged.endswith("OK [READ-WRITE] SELECT completed"), tagged
    assert any(l.startswith("* OK [PERMANENTFLAGS (\\Seen)]") for l in untagged), untagged
    assert b.ok(f"MYRIGHTS {q(mb)}") == [f"* MYRIGHTS {q(mb)} lrs"]
    # Read-only for users: no "i".
    assert re.match(r"^\S+ NO \[NOPERM\] ", append(b, mb))
    # Public folders have no owner: GETACL needs "a" like anywhere else.
    expect_no(b.command(f"GETACL {q(mb)}"), "NOPERM")


def test_configured_default_acl(make_server):
    s = make_server("[public]\ndefault_acl = anyone=lr $staff=lrswipkxtea\n", users=USERS)
    s.cli("public", "create", "Board")
    assert s.cli("acl", "get", "--public", "Board").stdout == "$staff lrswipkxtea\nanyone lr\n"


def test_public_folder_where_everyone_posts(srv):
    name = fresh("Board")
    srv.cli("public", "create", name, "--acl", "anyone=lrsip")
    mb = f"Public Folders/{name}"
    assert " OK" in append(login(srv, "bob"), mb)
    c = login(srv, "carol")
    assert " OK" in append(c, mb)
    assert messages(c, mb) == 2
    assert srv.cli("acl", "get", "--public", name).stdout == "anyone lrsip\n"


def test_public_subfolders_inherit_acl(srv):
    name = fresh("Tree")
    srv.cli("group", "add", "staff", "carol")
    srv.cli("public", "create", name, "--acl", "anyone=lr $staff=lrswipkxtea")
    acl = "$staff lrswipkxtea\nanyone lr\n"
    # Made by the administrator below an existing folder...
    srv.cli("public", "create", f"{name}/Cli")
    assert srv.cli("acl", "get", "--public", f"{name}/Cli").stdout == acl
    # ...or by a user holding "k" on the parent.
    c = login(srv, "carol")
    c.ok(f"CREATE {q('Public Folders/' + name + '/Imap')}")
    assert srv.cli("acl", "get", "--public", f"{name}/Imap").stdout == acl
    assert c.ok(f"GETACL {q('Public Folders/' + name + '/Imap')}") == [
        f"* ACL {q('Public Folders/' + name + '/Imap')} $staff lrswipkxteacd anyone lr"]
    # bob has no "k": NOPERM.
    expect_no(login(srv, "bob").command(f"CREATE {q('Public Folders/' + name + '/Bob')}"),
              "NOPERM")
    # An explicit --acl wins over the parent's.
    srv.cli("public", "create", f"{name}/Own", "--acl", "bob=lr")
    assert srv.cli("acl", "get", "--public", f"{name}/Own").stdout == "bob lr\n"


def test_public_list_delete_and_errors(srv):
    name = fresh("Gone")
    srv.cli("public", "create", name, "--acl", "anyone=lr")
    srv.cli("public", "create", f"{name}/Sub")
    out = srv.cli("public", "list").stdout
    assert f"{name}\n  anyone lr\n{name}/Sub\n  anyone lr\n" in out
    # Superiors made on the way get the folder's ACL.
    deep = fresh("Deep")
    srv.cli("public", "create", f"{deep}/a/b", "--acl", "bob=lr")
    out = srv.cli("public", "list").stdout
    assert f"{deep}\n  bob lr\n{deep}/a\n  bob lr\n{deep}/a/b\n  bob lr\n" in out
    r = srv.cli("public", "create", f"{name}/Sub", check=False)
    assert r.returncode == 73, r
    r = srv.cli("public", "create", fresh("Bad"), "--acl", "anyone=lrQ", check=False)
    assert r.returncode == 65, r
    r = srv.cli("public", "create", fresh("Bad"), "--acl", "anyone", check=False)
    assert r.returncode == 65, r
    r = srv.cli("public", "create", "a//b", check=False)
    assert r.returncode == 65, r
    # A folder with a subfolder stays as a name without messages.
    srv.cli("public", "delete", name)
    assert f"{name} (\\Noselect)\n" in srv.cli("public", "list").stdout
    # Below it, new folders get the default ACL, and it stays \Noselect.
    srv.cli("public", "create", f"{name}/New")
    assert srv.cli("acl", "get", "--public", f"{name}/New").stdout == "anyone lrs\n"
    assert f"{name} (\\Noselect)\n" in srv.cli("public", "list").stdout
    srv.cli("public", "delete", f"{name}/New")
    srv.cli("public", "delete", f"{name}/Sub")
    assert name not in srv.cli("public", "list").stdout
    r = srv.cli("public", "delete", name, check=False)
    assert r.returncode == 66, r
    assert srv.cli("public", "list", "extra", check=False).returncode == 64
    assert srv.cli("public", "frobnicate", check=False).returncode == 64
    assert "Usage: petrel" in srv.cli("public", "create", "--help").stdout


# ---- quota of the public folders ----

def test_public_quota_root(own):
    own.cli("public", "create", "Q", "--acl", "anyone=lrsi")
    b = login(own, "bob")
    assert b.ok(f'GETQUOTAROOT {q("Public Folders/Q")}') == [
        '* QUOTAROOT "Public Folders/Q" "Public Folders"',
        '* QUOTA "Public Folders" ()']
    out = own.cli("public", "quota", "--storage", "1M", "--messages", "1").stdout
    assert out == "public folders\nstorage 0 KiB (0 bytes), limit 1024 KiB\nmessages 0, limit 1\n"
    assert b.ok('GETQUOTA "Public Folders"') == [
        '* QUOTA "Public Folders" (STORAGE 0 1024 MESSAGE 0 1)']
    assert " OK" in append(b, "Public Folders/Q")
    assert re.match(r"^\S+ NO \[OVERQUOTA\] ", append(b, "Public Folders/Q"))
    quota = b.ok('GETQUOTA "Public Folders"')
    assert re.fullmatch(r'\* QUOTA "Public Folders" \(STORAGE 1 1024 MESSAGE 1 1\)', quota[0])
    # bob's own quota root is untouched by it.
    assert b.ok('GETQUOTA ""') == ['* QUOTA "" ()']
    out = own.cli("public", "quota", "--messages", "none").stdout
    assert out.endswith("messages 1, limit none\n"), out
    assert own.cli("public", "quota", "--storage", "lots", check=False).returncode == 65


def test_other_users_mailboxes_have_no_quota_root(srv):
    name = fresh("q")
    a = make_mailbox(srv, name)
    setacl(a, name, "bob", "lr")
    mb = other("alice", name)
    assert login(srv, "bob").ok(f"GETQUOTAROOT {q(mb)}") == [f"* QUOTAROOT {q(mb)}"]


# ---- groups ----

def test_groups_from_the_command_line(own):
    own.cli("group", "add", "team", "bob", "carol")
    own.cli("group", "add", "$team", "dave")
    assert own.cli("group", "members", "team").stdout == "bob\ncarol\ndave\n"
    assert own.cli("group", "list").stdout == "team\n"
    a = make_mailbox(own, "Team")
    setacl(a, "Team", "$team", "lrs")
    mb = other("alice", "Team")
    carol_before = login(own, "carol")
    assert carol_before.ok(f"MYRIGHTS {q(mb)}") == [f"* MYRIGHTS {q(mb)} lrs"]
    own.cli("group", "del", "team", "carol")
    assert own.cli("group", "members", "team").stdout == "bob\ndave\n"
    # Membership is read at login: a new session of carol's has lost the
    # rights, the one that was open keeps them.
    expect_no(login(own, "carol").command(f"MYRIGHTS {q(mb)}"), "NONEXISTENT")
    assert carol_before.ok(f"MYRIGHTS {q(mb)}") == [f"* MYRIGHTS {q(mb)} lrs"]
    assert login(own, "bob").ok(f"MYRIGHTS {q(mb)}") == [f"* MYRIGHTS {q(mb)} lrs"]
    own.cli("group", "del", "team")
    assert own.cli("group", "list").stdout == ""
    expect_no(login(own, "bob").command(f"MYRIGHTS {q(mb)}"), "NONEXISTENT")


def test_group_command_errors(own):
    r = own.cli("group", "add", "team", "bob", "nosuchuser", check=False)
    assert r.returncode == 67, r
    # Nothing was added, not even bob.
    assert own.cli("group", "list").stdout == ""
    assert own.cli("group", "members", "team", check=False).returncode == 66
    assert own.cli("group", "del", "team", check=False).returncode == 66
    own.cli("group", "add", "team", "bob")
    assert own.cli("group", "del", "team", "carol", check=False).returncode == 66
    assert own.cli("group", "add", "team", check=False).returncode == 64
    assert own.cli("group", "add", "bad/name", "bob", check=False).returncode == 65
    assert own.cli("group", "list", "extra", check=False).returncode == 64
    assert own.cli("group", "members", "team").stdout == "bob\n"


# ---- petrel acl ----

def test_acl_cli_round_trip(srv):
    name = fresh("cli")
    a = make_mailbox(srv, name)
    assert srv.cli("acl", "get", "alice", name).stdout == "alice lrswipkxtea\n"
    srv.cli("acl", "set", "alice", name, "bob", "lrs")
    srv.cli("acl", "set", "alice", name, "bob", "+w")
    srv.cli("acl", "set", "alice", name, "-carol", "r")
    srv.cli("acl", "set", "alice", name, "$team", "lrsd")
    assert srv.cli("acl", "get", "alice", name).stdout == (
        "alice lrswipkxtea\n$team lrste\n-carol r\nbob lrsw\n")
    # What the CLI sets is what IMAP shows, and the other way round.
    assert getacl(a, name) == (f"* ACL {q(name)} {OWNER_LINE} $team lrsted -carol r bob lrsw")
    mb = other("alice", name)
    assert login(srv, "bob").ok(f"MYRIGHTS {q(mb)}") == [f"* MYRIGHTS {q(mb)} lrsw"]
    setacl(a, name, "bob", "-s")
    srv.cli("acl", "set", "alice", name, "$team", "-d")
    assert srv.cli("acl", "get", "alice", name).stdout == (
        "alice lrswipkxtea\n$team lrs\n-carol r\nbob lrw\n")
    srv.cli("acl", "delete", "alice", name, "-carol")
    srv.cli("acl", "delete", "alice", name, "bob")
    srv.cli("acl", "set", "alice", name, "$team", "")
    assert srv.cli("acl", "get", "alice", name).stdout == "alice lrswipkxtea\n"
    expect_no(login(srv, "bob").command(f"MYRIGHTS {q(mb)}"), "NONEXISTENT")


def test_acl_cli_errors(srv):
    name = fresh("clierr")
    make_mailbox(srv, name, messages=0)
    cases = [
        (("acl", "get", "nosuchuser", "INBOX"), 67),
        (("acl", "get", "alice", "no/such/mailbox"), 66),
        (("acl", "get", "--public", "no such folder"), 66),
        (("acl", "set", "alice", name, "bob", "lrQ"), 65),
        (("acl", "set", "alice", name, "bob", "lr x"), 65),
        (("acl", "set", "alice", name, "", "lr"), 65),
        (("acl", "set", "alice", name, "alice", "lr"), 65),
        (("acl", "delete", "alice", name, "alice"), 65),
        (("acl", "set", "alice", name, "bob"), 64),
        (("acl", "get", "alice"), 64),
        (("acl", "get", "--bogus", "INBOX"), 64),
        (("acl", "frob", "alice", "INBOX"), 64),
        (("acl",), 64),
    ]
    for args, code in cases:
        r = srv.cli(*args, check=False)
        assert r.returncode == code, (args, r.returncode, r.stderr)
        assert r.stderr.startswith("petrel: "), (args, r.stderr)
    assert srv.cli("acl", "get", "alice", name).stdout == "alice lrswipkxtea\n"
    assert "Usage: petrel" in srv.cli("acl", "set", "--help").stdout
    assert "Usage: petrel" in srv.cli("acl", "--help").stdout


def test_acl_cli_takes_identifiers_and_rights_starting_with_dash(srv):
    name = fresh("dash")
    make_mailbox(srv, name, messages=0)
    srv.cli("acl", "set", "alice", name, "-bob", "lrs")
    srv.cli("acl", "set", "alice", name, "-bob", "-s")
    assert srv.cli("acl", "get", "alice", name).stdout == "alice lrswipkxtea\n-bob lr\n"
