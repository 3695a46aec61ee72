"""Mailbox management over real sockets: CREATE, DELETE, RENAME, SUBSCRIBE,
UNSUBSCRIBE, LIST (RFC 3501 6.3.8, RFC 9051 6.3.9, LIST-EXTENDED RFC 5258,
LIST-STATUS RFC 5819, SPECIAL-USE RFC 6154), LSUB, NAMESPACE and STATUS,
with the exact answers and response codes, and bad input that must change
nothing."""

import re
import time

import pytest

DEFAULT_LIST = [
    '* LIST (\\HasNoChildren \\Archive) "/" "Archive"',
    '* LIST (\\HasNoChildren \\Drafts) "/" "Drafts"',
    '* LIST (\\HasNoChildren) "/" "INBOX"',
    '* LIST (\\HasNoChildren \\Junk) "/" "Junk"',
    '* LIST (\\HasNoChildren \\Sent) "/" "Sent"',
    '* LIST (\\HasNoChildren \\Trash) "/" "Trash"',
]
DEFAULT_NAMES = ["Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"]


def names(lines):
    """Mailbox names of LIST/LSUB lines, in order."""
    out = []
    for line in lines:
        m = re.match(r'^\* (?:LIST|LSUB) \([^)]*\) "/" "((?:[^"\\]|\\.)*)"', line)
        assert m, line
        out.append(m.group(1))
    return out


def list_all(c):
    return c.ok('LIST "" "*"')


def no_code(c, cmd, code):
    """Sends cmd, expects a tagged NO with exactly [code] and no untagged data."""
    untagged, tagged = c.command(cmd)
    assert re.match(r"^\S+ NO \[%s\] " % re.escape(code), tagged), (cmd, tagged)
    assert untagged == [], (cmd, untagged)
    return tagged


def bad(c, cmd):
    untagged, tagged = c.command(cmd)
    assert re.match(r"^\S+ BAD ", tagged), (cmd, tagged)
    assert untagged == [], (cmd, untagged)
    return tagged


def literal_command(c, prefix, data, suffix=b""):
    """Sends prefix + a non-synchronising literal holding data + suffix."""
    tag = c.next_tag()
    c.send(tag.encode() + b" " + prefix.encode() + b" {%d+}\r\n" % len(data) + data
           + suffix + b"\r\n")
    return c.read_until_tagged(tag)


def append(c, mailbox, body="From: a@example.org\r\nSubject: t\r\n\r\nhello\r\n"):
    tag = c.next_tag()
    c.send(f"{tag} APPEND {mailbox} {{{len(body)}+}}\r\n{body}\r\n")
    untagged, tagged = c.read_until_tagged(tag)
    assert tagged.startswith(tag + " OK"), tagged


# ---- First login ---------------------------------------------------------

def test_default_folders_after_first_login(server):
    c = server.login()
    assert list_all(c) == DEFAULT_LIST


def test_default_folders_are_subscribed(server):
    c = server.login()
    assert c.ok('LSUB "" "*"') == ['* LSUB () "/" "%s"' % n for n in DEFAULT_NAMES]
    assert c.ok('LIST (SUBSCRIBED) "" "*"') == [
        '* LIST (\\HasNoChildren \\Subscribed \\Archive) "/" "Archive"',
        '* LIST (\\HasNoChildren \\Subscribed \\Drafts) "/" "Drafts"',
        '* LIST (\\HasNoChildren \\Subscribed) "/" "INBOX"',
        '* LIST (\\HasNoChildren \\Subscribed \\Junk) "/" "Junk"',
        '* LIST (\\HasNoChildren \\Subscribed \\Sent) "/" "Sent"',
        '* LIST (\\HasNoChildren \\Subscribed \\Trash) "/" "Trash"',
    ]


def test_capabilities_after_login(server):
    c = server.login()
    caps = c.ok("CAPABILITY")[0].split()[2:]
    for cap in ("LIST-EXTENDED", "LIST-STATUS", "SPECIAL-USE", "CREATE-SPECIAL-USE",
                "CHILDREN", "NAMESPACE", "STATUS=SIZE", "APPENDLIMIT=67108864"):
        assert cap in caps, cap
    before = server.connect().ok("CAPABILITY")[0].split()
    assert "LIST-EXTENDED" not in before


def test_mailbox_commands_need_login(server):
    c = server.connect()
    for cmd in ('LIST "" "*"', 'LSUB "" "*"', "CREATE x", "DELETE x", "RENAME x y",
                "SUBSCRIBE x", "UNSUBSCRIBE x", "NAMESPACE", "STATUS INBOX (MESSAGES)"):
        bad(c, cmd)


def test_namespace(server):
    c = server.login()
    untagged, tagged = c.command("NAMESPACE")
    assert untagged == ['* NAMESPACE (("" "/")) (("Other Users/" "/")) (("Public Folders/" "/"))']
    assert tagged.endswith("OK NAMESPACE completed")
    bad(c, "NAMESPACE extra")


# ---- LIST basics (RFC 3501 6.3.8 / RFC 9051 6.3.9) ------------------------

def test_list_empty_pattern_returns_delimiter(server):
    c = server.login()
    assert c.ok('LIST "" ""') == ['* LIST (\\Noselect) "/" ""']
    # The root of a non-rooted reference is "" (RFC 9051 6.3.9 allows it).
    assert c.ok('LIST "Sent/2024" ""') == ['* LIST (\\Noselect) "/" ""']
    assert c.ok('LSUB "" ""') == ['* LSUB (\\Noselect) "/" ""']
    # Not in the extended syntax: there "" is just ignored.
    assert c.ok('LIST () "" ""') == []
    assert c.ok('LIST "" ("")') == []


@pytest.fixture
def fruit(server):
    """RFC 5258 section 5's hierarchy, next to the default folders."""
    c = server.login()
    for name in ("Fruit/Apple", "Fruit/Banana", "Tofu", "Vegetable/Broccoli",
                 "Vegetable/Corn"):
        c.ok(f"CREATE {name}")
    return c


def test_list_wildcards(fruit):
    c = fruit
    assert names(c.ok('LIST "" "%"')) == DEFAULT_NAMES[:2] + ["Fruit"] + DEFAULT_NAMES[2:5] + [
        "Tofu", "Trash", "Vegetable"]
    assert names(c.ok('LIST "" "Fruit/%"')) == ["Fruit/Apple", "Fruit/Banana"]
    assert names(c.ok('LIST "" "Fruit*"')) == ["Fruit", "Fruit/Apple", "Fruit/Banana"]
    assert names(c.ok('LIST "" "Fruit%"')) == ["Fruit"]
    assert names(c.ok('LIST "" "%/%"')) == ["Fruit/Apple", "Fruit/Banana",
                                            "Vegetable/Broccoli", "Vegetable/Corn"]
    assert names(c.ok('LIST "" "*/B*"')) == ["Fruit/Banana", "Vegetable/Broccoli"]
    assert names(c.ok('LIST "" "*a*a*"')) == ["Fruit/Banana"]
    assert names(c.ok('LIST "" "T%"')) == ["Tofu", "Trash"]
    assert names(c.ok('LIST "" "Tofu"')) == ["Tofu"]
    assert c.ok('LIST "" "tofu"') == []
    assert c.ok('LIST "" "NoSuchThing*"') == []
    assert c.ok('LIST "" "Fruit/Apple/%"') == []


def test_list_attributes(fruit):
    c = fruit
    assert c.ok('LIST "" "Fruit"') == ['* LIST (\\HasChildren) "/" "Fruit"']
    assert c.ok('LIST "" "Fruit/Apple"') == ['* LIST (\\HasNoChildren) "/" "Fruit/Apple"']
    # Special-use attributes are always in the basic LIST (RFC 6154 2).
    assert c.ok('LIST "" "Sent"') == ['* LIST (\\HasNoChildren \\Sent) "/" "Sent"']


def test_list_reference_is_prefixed(fruit):
    c = fruit
    assert c.ok('LIST "Fruit/" "%"') == [
        '* LIST (\\HasNoChildren) "/" "Fruit/Apple"',
        '* LIST (\\HasNoChildren) "/" "Fruit/Banana"',
    ]
    # A reference without the trailing delimiter is simply prefixed too.
    assert names(c.ok('LIST "Fruit" "/%"')) == ["Fruit/Apple", "Fruit/Banana"]
    assert names(c.ok('LIST "Fruit" "%"')) == ["Fruit"]
    assert names(c.ok('LIST "Veg" "etable/*"')) == ["Vegetable/Broccoli", "Vegetable/Corn"]
    assert names(c.ok('LIST "Fruit/" "*"')) == ["Fruit/Apple", "Fruit/Banana"]
    assert c.ok('LIST "Nothing/" "*"') == []


def test_list_inbox_is_case_insensitive(server):
    c = server.login()
    for pattern in ("INBOX", "inbox", "InBoX", "in%", "I*X"):
        assert c.ok(f'LIST "" "{pattern}"') == ['* LIST (\\HasNoChildren) "/" "INBOX"'], pattern
    c.ok("CREATE inbox/Sub")
    assert c.ok('LIST "" "Inbox/%"') == ['* LIST (\\HasNoChildren) "/" "INBOX/Sub"']
    assert c.ok('LIST "" "INBOX"') == ['* LIST (\\HasChildren) "/" "INBOX"']
    assert c.ok('LIST "inbox/" "%"') == ['* LIST (\\HasNoChildren) "/" "INBOX/Sub"']


def test_list_percent_returns_noselect_levels(server):
    c = server.login()
    c.ok("CREATE a/b/c")
    c.ok("DELETE a/b")  # has a child: stays as \Noselect
    assert c.ok('LIST "" "a/%"') == ['* LIST (\\Noselect \\HasChildren) "/" "a/b"']
    assert c.ok('LIST "" "a/*"') == ['* LIST (\\Noselect \\HasChildren) "/" "a/b"',
                                     '* LIST (\\HasNoChildren) "/" "a/b/c"']


def test_list_bad_arguments(server):
    c = server.login()
    bad(c, "LIST")
    bad(c, 'LIST ""')
    bad(c, 'LIST "" "*" extra')
    bad(c, 'LIST (BOGUS) "" "*"')
    bad(c, 'LIST (RECURSIVEMATCH) "" "*"')
    bad(c, 'LIST (REMOTE RECURSIVEMATCH) "" "*"')
    bad(c, 'LIST (SPECIAL-USE RECURSIVEMATCH) "" "*"')
    bad(c, 'LIST "" "*" RETURN (BOGUS)')
    bad(c, 'LIST "" "*" RETURN CHILDREN')
    bad(c, 'LIST "" "*" RETURNS (CHILDREN)')
    bad(c, 'LIST "" "*" RETURN (STATUS)')
    bad(c, 'LIST "" "*" RETURN (STATUS ())')
    bad(c, 'LIST "" "*" RETURN (STATUS (BOGUS))')
    bad(c, 'LIST "" ()')
    bad(c, 'LIST (("x")) "" "*"')


# ---- LIST-EXTENDED (RFC 5258 section 5 examples, adapted) -----------------

@pytest.fixture
def rfc5258(fruit):
    """Example 2's subscriptions: Fruit/Banana, Fruit/Peach (which does not
    exist), Vegetable, Vegetable/Broccoli, plus INBOX; the other default
    folders are unsubscribed."""
    c = fruit
    for n in ("Archive", "Drafts", "Junk", "Sent", "Trash"):
        c.ok(f"UNSUBSCRIBE {n}")
    for n in ("Fruit/Banana", "Fruit/Peach", "Vegetable", "Vegetable/Broccoli"):
        c.ok(f"SUBSCRIBE {n}")
    return c


def test_list_extended_subscribed(rfc5258):
    assert rfc5258.ok('LIST (SUBSCRIBED) "" "*"') == [
        '* LIST (\\HasNoChildren \\Subscribed) "/" "Fruit/Banana"',
        '* LIST (\\NonExistent \\Subscribed) "/" "Fruit/Peach"',
        '* LIST (\\HasNoChildren \\Subscribed) "/" "INBOX"',
        '* LIST (\\HasChildren \\Subscribed) "/" "Vegetable"',
        '* LIST (\\HasNoChildren \\Subscribed) "/" "Vegetable/Broccoli"',
    ]
    # REMOTE changes nothing here (no remote mailboxes).
    assert rfc5258.ok('LIST (REMOTE SUBSCRIBED) "" "*"') == rfc5258.ok(
        'LIST (SUBSCRIBED) "" "*"')


def test_list_extended_children(rfc5258):
    expected = [
        '* LIST (\\HasNoChildren \\Archive) "/" "Archive"',
        '* LIST (\\HasNoChildren \\Drafts) "/" "Drafts"',
        '* LIST (\\HasChildren) "/" "Fruit"',
        '* LIST (\\HasNoChildren) "/" "INBOX"',
        '* LIST (\\HasNoChildren \\Junk) "/" "Junk"',
        '* LIST (\\HasNoChildren \\Sent) "/" "Sent"',
        '* LIST (\\HasNoChildren) "/" "Tofu"',
        '* LIST (\\HasNoChildren \\Trash) "/" "Trash"',
        '* LIST (\\HasChildren) "/" "Vegetable"',
    ]
    assert rfc5258.ok('LIST () "" "%" RETURN (CHILDREN)') == expected
    assert rfc5258.ok('LIST (REMOTE) "" "%" RETURN (CHILDREN)') == expected


def test_list_extended_return_subscribed(rfc5258):
    # Example 6: subscription state of existing mailboxes only (no
    # Fruit/Peach, which does not exist).
    lines = rfc5258.ok('LIST (REMOTE) "" "*" RETURN (SUBSCRIBED)')
    assert [l for l in lines if "Fruit" in l or "Vegetable" in l or "Tofu" in l] == [
        '* LIST (\\HasChildren) "/" "Fruit"',
        '* LIST (\\HasNoChildren) "/" "Fruit/Apple"',
        '* LIST (\\HasNoChildren \\Subscribed) "/" "Fruit/Banana"',
        '* LIST (\\HasNoChildren) "/" "Tofu"',
        '* LIST (\\HasChildren \\Subscribed) "/" "Vegetable"',
        '* LIST (\\HasNoChildren \\Subscribed) "/" "Vegetable/Broccoli"',
        '* LIST (\\HasNoChildren) "/" "Vegetable/Corn"',
    ]
    assert '* LIST (\\HasNoChildren \\Subscribed) "/" "INBOX"' in lines
    assert '* LIST (\\HasNoChildren \\Sent) "/" "Sent"' in lines


def test_list_multiple_patterns(rfc5258):
    # Example 7; a name matched by two patterns is listed once.
    assert names(rfc5258.ok('LIST "" ("INBOX" "Tofu" "Vegetable/%")')) == [
        "INBOX", "Tofu", "Vegetable/Broccoli", "Vegetable/Corn"]
    assert names(rfc5258.ok('LIST "" ("Tofu" "T*" "Tofu")')) == ["Tofu", "Trash"]
    assert names(rfc5258.ok('LIST "" ("" "Tofu")')) == ["Tofu"]
    assert names(rfc5258.ok('LIST "Fruit/" ("Apple" "B%")')) == ["Fruit/Apple", "Fruit/Banana"]


def test_list_recursivematch_childinfo(server):
    """Example 8: Foo, Foo/Bar, Foo/Baz, Moo; only Foo/Baz subscribed."""
    c = server.login()
    for n in DEFAULT_NAMES:
        c.ok(f"UNSUBSCRIBE {n}")
    for n in ("Foo/Bar", "Foo/Baz", "Moo"):
        c.ok(f"CREATE {n}")
    c.ok("SUBSCRIBE Foo/Baz")
    assert c.ok('LIST (SUBSCRIBED) "" "*"') == [
        '* LIST (\\HasNoChildren \\Subscribed) "/" "Foo/Baz"']
    assert c.ok('LIST (SUBSCRIBED) "" "%"') == []
    assert c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"') == [
        '* LIST (\\HasChildren) "/" "Foo" ("CHILDINFO" ("SUBSCRIBED"))']
    # A1: Foo subscribed too.
    c.ok("SUBSCRIBE Foo")
    assert c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"') == [
        '* LIST (\\HasChildren \\Subscribed) "/" "Foo" ("CHILDINFO" ("SUBSCRIBED"))']
    # A2: a parent that exists nowhere but in a subscribed name.
    c.ok("SUBSCRIBE Qux/Bar")
    assert c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" "Q%"') == [
        '* LIST (\\NonExistent) "/" "Qux" ("CHILDINFO" ("SUBSCRIBED"))']
    # C: only Foo and Moo subscribed: no CHILDINFO.
    c.ok("UNSUBSCRIBE Foo/Baz")
    c.ok("UNSUBSCRIBE Qux/Bar")
    c.ok("SUBSCRIBE Moo")
    assert c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (CHILDREN)') == [
        '* LIST (\\HasChildren \\Subscribed) "/" "Foo"',
        '* LIST (\\HasNoChildren \\Subscribed) "/" "Moo"',
    ]
    # B: nothing subscribed, nothing listed.
    c.ok("UNSUBSCRIBE Foo")
    c.ok("UNSUBSCRIBE Moo")
    assert c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"') == []


def test_list_recursivematch_children_outside_pattern(server):
    """Example 9, with the redundant CHILDINFO suppressed (RFC 5258 3.5)."""
    c = server.login()
    for n in DEFAULT_NAMES:
        c.ok(f"UNSUBSCRIBE {n}")
    for n in ("foo2/bar1", "foo2/bar2", "baz2/bar2", "baz2/bar22", "baz2/bar222",
              "eps2/mamba"):
        c.ok(f"CREATE {n}")
    for n in ("foo2/bar1", "foo2/bar2", "baz2/bar2", "baz2/bar22", "baz2/bar222",
              "eps2", "eps2/mamba", "qux2/bar2"):
        c.ok(f"SUBSCRIBE {n}")
    assert c.ok('LIST (RECURSIVEMATCH SUBSCRIBED) "" "*2"') == [
        '* LIST (\\HasNoChildren \\Subscribed) "/" "baz2/bar2"',
        '* LIST (\\HasNoChildren \\Subscribed) "/" "baz2/bar22"',
        '* LIST (\\HasNoChildren \\Subscribed) "/" "baz2/bar222"',
        '* LIST (\\HasChildren \\Subscribed) "/" "eps2" ("CHILDINFO" ("SUBSCRIBED"))',
        '* LIST (\\HasChildren) "/" "foo2" ("CHILDINFO" ("SUBSCRIBED"))',
        '* LIST (\\HasNoChildren \\Subscribed) "/" "foo2/bar2"',
        '* LIST (\\NonExistent \\Subscribed) "/" "qux2/bar2"',
    ]


def test_list_recursivematch_with_multiple_patterns(server):
    """Example 10."""
    c = server.login()
    c.ok("CREATE foo")
    c.ok("SUBSCRIBE foo/bar")
    assert c.ok('LIST "" ("foo" "foo/*")') == ['* LIST (\\HasNoChildren) "/" "foo"']
    assert c.ok('LIST (SUBSCRIBED) "" "foo/*"') == [
        '* LIST (\\NonExistent \\Subscribed) "/" "foo/bar"']
    assert c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" foo RETURN (CHILDREN)') == [
        '* LIST (\\HasNoChildren) "/" "foo" ("CHILDINFO" ("SUBSCRIBED"))']


def test_list_special_use(server):
    c = server.login()
    c.ok("CREATE Plain")
    expected = [l for l in DEFAULT_LIST if "INBOX" not in l]
    assert c.ok('LIST (SPECIAL-USE) "" "*"') == expected
    assert c.ok('LIST "" "*" RETURN (SPECIAL-USE)') == DEFAULT_LIST[:4] + [
        '* LIST (\\HasNoChildren) "/" "Plain"'] + DEFAULT_LIST[4:]
    c.ok("UNSUBSCRIBE Junk")
    assert names(c.ok('LIST (SPECIAL-USE SUBSCRIBED) "" "*"')) == [
        "Archive", "Drafts", "Sent", "Trash"]


def test_list_status(server):
    c = server.login()
    append(c, "INBOX")
    append(c, "INBOX")
    c.ok("CREATE Lists/a")
    c.ok("DELETE Lists")  # \Noselect with a child
    untagged = c.ok('LIST "" "%" RETURN (STATUS (MESSAGES UNSEEN))')
    assert untagged == [
        DEFAULT_LIST[0], '* STATUS "Archive" (MESSAGES 0 UNSEEN 0)',
        DEFAULT_LIST[1], '* STATUS "Drafts" (MESSAGES 0 UNSEEN 0)',
        DEFAULT_LIST[2], '* STATUS "INBOX" (MESSAGES 2 UNSEEN 2)',
        DEFAULT_LIST[3], '* STATUS "Junk" (MESSAGES 0 UNSEEN 0)',
        '* LIST (\\Noselect \\HasChildren) "/" "Lists"',
        DEFAULT_LIST[4], '* STATUS "Sent" (MESSAGES 0 UNSEEN 0)',
        DEFAULT_LIST[5], '* STATUS "Trash" (MESSAGES 0 UNSEEN 0)',
    ]
    # A name listed only for CHILDINFO, or that does not exist, gets no
    # STATUS (RFC 5819 3).
    for n in DEFAULT_NAMES:
        c.ok(f"UNSUBSCRIBE {n}")
    c.ok("SUBSCRIBE Lists/a")
    c.ok("SUBSCRIBE Gone")
    assert c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (STATUS (MESSAGES))') == [
        '* LIST (\\NonExistent \\Subscribed) "/" "Gone"',
        '* LIST (\\Noselect \\HasChildren) "/" "Lists" ("CHILDINFO" ("SUBSCRIBED"))',
    ]


def test_list_large_output_is_complete(server):
    """Enough output to pass the connection's high-water mark while the
    client does not read: LIST must resume and finish in order."""
    c = server.login()
    level = "x" * 28
    for i in range(40):
        c.ok("CREATE " + "/".join([f"m{i:02d}{level}"] + [level] * 31))
    tag = c.next_tag()
    c.send(f'{tag} LIST "" "m*" RETURN (STATUS (MESSAGES UIDNEXT UIDVALIDITY SIZE))\r\n')
    time.sleep(1.0)
    untagged, tagged = c.read_until_tagged(tag)
    assert tagged == f"{tag} OK LIST completed"
    assert len(untagged) == 2 * 40 * 32
    listed = names(untagged[0::2])
    assert listed == sorted(listed) and len(set(listed)) == 40 * 32
    for lst, st in zip(untagged[0::2], untagged[1::2]):
        assert st.startswith('* STATUS "%s" (MESSAGES 0 UIDNEXT 1 UIDVALIDITY ' % names([lst])[0])
    c.ok("NOOP")


# ---- LSUB (RFC 3501 6.3.9) -----------------------------------------------

def test_lsub_percent_returns_unsubscribed_parent_noselect(server):
    c = server.login()
    c.ok("CREATE foo/bar")
    c.ok("SUBSCRIBE foo/bar")
    assert c.ok('LSUB "" "f%"') == ['* LSUB (\\Noselect) "/" "foo"']
    assert c.ok('LSUB "" "foo/%"') == ['* LSUB () "/" "foo/bar"']
    assert c.ok('LSUB "" "f*"') == ['* LSUB () "/" "foo/bar"']
    c.ok("SUBSCRIBE foo")
    assert c.ok('LSUB "" "f%"') == ['* LSUB () "/" "foo"']
    assert c.ok('LSUB "foo/" "%"') == ['* LSUB () "/" "foo/bar"']


def test_lsub_keeps_names_that_no_longer_exist(server):
    c = server.login()
    c.ok("CREATE Old")
    c.ok("SUBSCRIBE Old")
    c.ok("DELETE Old")
    assert c.ok('LSUB "" "Old"') == ['* LSUB (\\Noselect) "/" "Old"']
    assert c.ok('LIST (SUBSCRIBED) "" "Old"') == ['* LIST (\\NonExistent \\Subscribed) "/" "Old"']
    assert c.ok('LIST "" "Old"') == []
    bad(c, "LSUB")
    bad(c, 'LSUB "" "*" x')


# ---- SUBSCRIBE / UNSUBSCRIBE ---------------------------------------------

def test_subscribe_and_unsubscribe(server):
    c = server.login()
    assert c.command("SUBSCRIBE Later")[1].endswith("OK SUBSCRIBE completed")
    c.ok("SUBSCRIBE Later")  # twice is fine
    assert c.ok('LSUB "" "Later"') == ['* LSUB (\\Noselect) "/" "Later"']
    c.ok("CREATE Later")
    assert c.ok('LSUB "" "Later"') == ['* LSUB () "/" "Later"']
    assert c.command("UNSUBSCRIBE Later")[1].endswith("OK UNSUBSCRIBE completed")
    c.ok("UNSUBSCRIBE Later")
    assert c.ok('LSUB "" "Later"') == []
    assert c.ok('LIST "" "Later"') == ['* LIST (\\HasNoChildren) "/" "Later"']
    c.ok("SUBSCRIBE inbox")
    assert c.ok('LSUB "" "INBOX"') == ['* LSUB () "/" "INBOX"']
    bad(c, "SUBSCRIBE")
    bad(c, "UNSUBSCRIBE a b")
    no_code(c, 'SUBSCRIBE "a/../b"', "CANNOT")
    assert c.ok('LSUB "" "a*"') == []


# ---- CREATE --------------------------------------------------------------

def test_create_and_trailing_delimiter(server):
    c = server.login()
    untagged, tagged = c.command("CREATE Projects/")
    assert untagged == [] and tagged.endswith("OK CREATE completed")
    assert c.ok('LIST "" "Proj*"') == ['* LIST (\\HasNoChildren) "/" "Projects"']
    no_code(c, "CREATE Projects", "ALREADYEXISTS")
    no_code(c, "CREATE Projects/", "ALREADYEXISTS")


def test_create_makes_intermediate_levels(server):
    c = server.login()
    c.ok("CREATE a/b/c")
    assert c.ok('LIST "" "a*"') == [
        '* LIST (\\HasChildren) "/" "a"',
        '* LIST (\\HasChildren) "/" "a/b"',
        '* LIST (\\HasNoChildren) "/" "a/b/c"',
    ]
    no_code(c, "CREATE a/b", "ALREADYEXISTS")
    c.ok("STATUS a (MESSAGES)")


def test_create_inbox_is_refused(server):
    c = server.login()
    for name in ("INBOX", "inbox", "Inbox/"):
        no_code(c, f"CREATE {name}", "ALREADYEXISTS")
    assert list_all(c) == DEFAULT_LIST
    c.ok("CREATE inbox/child")
    assert c.ok('LIST "" "INBOX/*"') == ['* LIST (\\HasNoChildren) "/" "INBOX/child"']


def test_create_over_noselect_level(server):
    c = server.login()
    c.ok("CREATE p/q")
    before = c.ok("STATUS p (UIDVALIDITY)")[0]
    c.ok("DELETE p")
    assert c.ok('LIST "" "p"') == ['* LIST (\\Noselect \\HasChildren) "/" "p"']
    c.ok("CREATE p")
    assert c.ok('LIST "" "p"') == ['* LIST (\\HasChildren) "/" "p"']
    assert c.ok("STATUS p (UIDVALIDITY)")[0] != before


def test_create_special_use(server):
    c = server.login()
    c.ok("CREATE MyDrafts (USE (\\Drafts))")
    c.ok("CREATE Both (USE (\\Sent \\Archive))")
    c.ok("CREATE NoUse (USE ())")
    c.ok("CREATE lower (use (\\junk))")
    assert c.ok('LIST "" ("MyDrafts" "Both" "NoUse" "lower")') == [
        '* LIST (\\HasNoChildren \\Archive \\Sent) "/" "Both"',
        '* LIST (\\HasNoChildren \\Drafts) "/" "MyDrafts"',
        '* LIST (\\HasNoChildren) "/" "NoUse"',
        '* LIST (\\HasNoChildren \\Junk) "/" "lower"',
    ]
    before = list_all(c)
    # Unsupported uses: NO [USEATTR] and nothing created (RFC 6154 3).
    no_code(c, "CREATE Everything (USE (\\All))", "USEATTR")
    no_code(c, "CREATE Starred (USE (\\Flagged))", "USEATTR")
    no_code(c, "CREATE Odd (USE (\\Bogus))", "USEATTR")
    no_code(c, "CREATE Odd (USE (\\Drafts \\Bogus))", "USEATTR")
    # Syntax errors: BAD (RFC 4466 2.2).
    bad(c, "CREATE Odd (USE)")
    bad(c, "CREATE Odd (USE \\Drafts)")
    bad(c, "CREATE Odd (USE (Drafts))")
    bad(c, "CREATE Odd (BOGUS (\\Drafts))")
    bad(c, "CREATE Odd (USE (\\Drafts) USE (\\Sent))")
    bad(c, "CREATE Odd ()")
    bad(c, "CREATE Odd USE")
    bad(c, "CREATE Odd (USE (\\Drafts)) extra")
    bad(c, "CREATE")
    assert list_all(c) == before


# ---- DELETE --------------------------------------------------------------

def test_delete(server):
    c = server.login()
    c.ok("CREATE Temp")
    untagged, tagged = c.command("DELETE Temp")
    assert untagged == [] and tagged.endswith("OK DELETE completed")
    assert c.ok('LIST "" "Temp"') == []
    no_code(c, "DELETE Temp", "NONEXISTENT")
    no_code(c, "DELETE NeverWas", "NONEXISTENT")
    bad(c, "DELETE")
    bad(c, "DELETE a b")


def test_delete_inbox_is_refused(server):
    c = server.login()
    append(c, "INBOX")
    for name in ("INBOX", "inbox"):
        no_code(c, f"DELETE {name}", "CANNOT")
    assert list_all(c) == DEFAULT_LIST
    assert c.ok("STATUS INBOX (MESSAGES)") == ['* STATUS "INBOX" (MESSAGES 1)']


def test_delete_with_children_leaves_noselect(server):
    c = server.login()
    c.ok("CREATE Work/2024")
    append(c, "Work")
    c.ok("DELETE Work")
    assert c.ok('LIST "" "Work*"') == [
        '* LIST (\\Noselect \\HasChildren) "/" "Work"',
        '* LIST (\\HasNoChildren) "/" "Work/2024"',
    ]
    # RFC 3501 6.3.4 / RFC 5530: a \Noselect name with inferiors cannot go.
    no_code(c, "DELETE Work", "HASCHILDREN")
    no_code(c, "STATUS Work (MESSAGES)", "NONEXISTENT")
    # Deleting the last child takes the placeholder with it.
    c.ok("DELETE Work/2024")
    assert c.ok('LIST "" "Work*"') == []


def test_delete_selected_mailbox(server):
    c = server.login()
    c.ok("CREATE Busy")
    append(c, "Busy")
    c.ok("SELECT Busy")
    c.ok("DELETE Busy")
    c.ok("NOOP")
    assert c.ok('LIST "" "Busy"') == []
    other = server.login()
    assert names(list_all(other)) == DEFAULT_NAMES


# ---- RENAME --------------------------------------------------------------

def test_rename_moves_children(server):
    c = server.login()
    c.ok("CREATE Old/Child/Grand")
    append(c, "Old/Child")
    validity = c.ok("STATUS Old/Child (UIDVALIDITY)")[0].split("UIDVALIDITY ")[1]
    untagged, tagged = c.command("RENAME Old New")
    assert untagged == [] and tagged.endswith("OK RENAME completed")
    assert c.ok('LIST "" "Old*"') == []
    assert c.ok('LIST "" "New*"') == [
        '* LIST (\\HasChildren) "/" "New"',
        '* LIST (\\HasChildren) "/" "New/Child"',
        '* LIST (\\HasNoChildren) "/" "New/Child/Grand"',
    ]
    assert c.ok("STATUS New/Child (MESSAGES UIDVALIDITY)") == [
        '* STATUS "New/Child" (MESSAGES 1 UIDVALIDITY %s' % validity]


def test_rename_into_new_hierarchy(server):
    c = server.login()
    c.ok("CREATE Leaf")
    c.ok("RENAME Leaf Deep/er/Leaf")
    assert names(c.ok('LIST "" "Deep*"')) == ["Deep", "Deep/er", "Deep/er/Leaf"]
    c.ok("RENAME Deep/er/Leaf Leaf")
    # The superior levels CREATE/RENAME made are ordinary mailboxes: they
    # stay (RFC 9051 6.3.4 creates them as needed, 6.3.6 moves only the
    # renamed name and its inferiors).
    assert c.ok('LIST "" "Deep*"') == ['* LIST (\\HasChildren) "/" "Deep"',
                                       '* LIST (\\HasNoChildren) "/" "Deep/er"']
    c.ok("STATUS Deep/er (MESSAGES)")


def test_rename_inbox_moves_messages(server):
    c = server.login()
    c.ok("CREATE INBOX/Kept")
    append(c, "INBOX")
    append(c, "INBOX")
    c.ok("RENAME INBOX Saved")
    assert c.ok("STATUS INBOX (MESSAGES UIDNEXT)") == ['* STATUS "INBOX" (MESSAGES 0 UIDNEXT 3)']
    assert c.ok("STATUS Saved (MESSAGES UIDNEXT)") == ['* STATUS "Saved" (MESSAGES 2 UIDNEXT 3)']
    # INBOX stays, with its children.
    assert names(c.ok('LIST "" "INBOX*"')) == ["INBOX", "INBOX/Kept"]


def test_rename_errors_change_nothing(server):
    c = server.login()
    c.ok("CREATE A/B")
    c.ok("CREATE C")
    before = list_all(c)
    no_code(c, "RENAME A C", "ALREADYEXISTS")
    no_code(c, "RENAME A Sent", "ALREADYEXISTS")
    no_code(c, "RENAME C INBOX", "ALREADYEXISTS")
    no_code(c, "RENAME C inbox", "ALREADYEXISTS")
    no_code(c, "RENAME A A", "ALREADYEXISTS")
    no_code(c, "RENAME A/B A", "ALREADYEXISTS")
    no_code(c, "RENAME Missing X", "NONEXISTENT")
    no_code(c, "RENAME A A/B/C", "CANNOT")
    no_code(c, 'RENAME C "a/../b"', "CANNOT")
    no_code(c, 'RENAME "a/../b" D', "NONEXISTENT")
    bad(c, "RENAME A")
    bad(c, "RENAME A B C")
    bad(c, "RENAME")
    assert list_all(c) == before


# ---- STATUS --------------------------------------------------------------

def test_status_items(server):
    c = server.login()
    append(c, "INBOX")
    untagged, tagged = c.command(
        "STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE "
        "HIGHESTMODSEQ APPENDLIMIT)")
    assert tagged.endswith("OK STATUS completed")
    assert len(untagged) == 1
    m = re.match(r'^\* STATUS "INBOX" \(MESSAGES 1 RECENT 1 UIDNEXT 2 UIDVALIDITY (\d+) '
                 r'UNSEEN 1 DELETED 0 SIZE (\d+) HIGHESTMODSEQ (\d+) APPENDLIMIT 67108864\)$',
                 untagged[0])
    assert m, untagged[0]
    assert int(m.group(1)) > 0 and int(m.group(2)) == 42 and int(m.group(3)) > 0
    # Any case, any order, repeats once, INBOX in any case.
    assert c.ok("STATUS inbox (uidnext messages UIDNEXT)") == [
        '* STATUS "INBOX" (UIDNEXT 2 MESSAGES 1)']


def test_status_errors(server):
    c = server.login()
    c.ok("CREATE Tree/Leaf")
    c.ok("DELETE Tree")
    no_code(c, "STATUS Nope (MESSAGES)", "NONEXISTENT")
    no_code(c, "STATUS Tree (MESSAGES)", "NONEXISTENT")
    no_code(c, 'STATUS "a/../b" (MESSAGES)', "NONEXISTENT")
    bad(c, "STATUS INBOX ()")
    bad(c, "STATUS INBOX (BOGUS)")
    bad(c, "STATUS INBOX MESSAGES")
    bad(c, "STATUS INBOX")
    bad(c, "STATUS (MESSAGES)")
    bad(c, "STATUS INBOX (MESSAGES) extra")


# ---- Non-ASCII names (modified UTF-7, RFC 3501 5.1.3) ---------------------

def test_non_ascii_names_round_trip(server):
    c = server.login()
    c.ok('CREATE "&ZeVnLIqe-"')           # 日本語
    c.ok('CREATE "&ZeVnLIqe-/&U,BTFw-"')   # 日本語/台北
    c.ok('CREATE "Caf&AOk-"')             # Café
    c.ok('CREATE "A&-B"')                 # A&B
    assert c.ok('LIST "" "&ZeVnLIqe-*"') == [
        '* LIST (\\HasChildren) "/" "&ZeVnLIqe-"',
        '* LIST (\\HasNoChildren) "/" "&ZeVnLIqe-/&U,BTFw-"',
    ]
    assert c.ok('LIST "&ZeVnLIqe-/" "%"') == ['* LIST (\\HasNoChildren) "/" "&ZeVnLIqe-/&U,BTFw-"']
    assert c.ok('LIST "" "Caf%"') == ['* LIST (\\HasNoChildren) "/" "Caf&AOk-"']
    assert c.ok('LIST "" "A&-*"') == ['* LIST (\\HasNoChildren) "/" "A&-B"']
    assert c.ok('STATUS "Caf&AOk-" (MESSAGES)') == ['* STATUS "Caf&AOk-" (MESSAGES 0)']
    c.ok('RENAME "Caf&AOk-" "&ZeVnLIqe-/Caf&AOk-"')
    # Sorted by the UTF-8 names: "C" before "台".
    assert names(c.ok('LIST "" "&ZeVnLIqe-/%"')) == ["&ZeVnLIqe-/Caf&AOk-",
                                                    "&ZeVnLIqe-/&U,BTFw-"]
    c.ok('SUBSCRIBE "&ZeVnLIqe-"')
    assert c.ok('LSUB "" "&ZeVnLIqe-"') == ['* LSUB () "/" "&ZeVnLIqe-"']
    c.ok('DELETE "&ZeVnLIqe-/&U,BTFw-"')
    assert names(c.ok('LIST "" "&ZeVnLIqe-/*"')) == ["&ZeVnLIqe-/Caf&AOk-"]
    # A non-ASCII pattern matches by character, not by encoded byte.
    assert names(c.ok('LIST "" "%/Caf&AOk-"')) == ["&ZeVnLIqe-/Caf&AOk-"]
    assert c.ok('LIST "" "&ZeVnLIqe"') == []  # not valid mUTF-7: ignored


# ---- Bad names: the RFC's answer, and nothing changes ---------------------

BAD_NEW_NAMES = [
    ('"a/../b"', "CANNOT"),
    ('".."', "CANNOT"),
    ('"."', "CANNOT"),
    ('"a//b"', "CANNOT"),
    ('"/a"', "CANNOT"),
    ('"/"', "CANNOT"),
    ('""', "CANNOT"),
    ('"&Jjo"', "CANNOT"),        # unterminated base64 section
    ('"&AGE-"', "CANNOT"),       # "a" must not be encoded
    ('"&2D0-"', "CANNOT"),       # unpaired surrogate
    ('"a&b"', "CANNOT"),         # bare "&"
]


@pytest.mark.parametrize("name,code", BAD_NEW_NAMES)
def test_bad_names_are_refused(server, name, code):
    c = server.login()
    before = list_all(c)
    no_code(c, f"CREATE {name}", code)
    no_code(c, f"RENAME Sent {name}", code)
    no_code(c, f"DELETE {name}", "NONEXISTENT")
    assert list_all(c) == before


def test_control_characters_and_nul(server):
    c = server.login()
    before = list_all(c)
    for data in (b"a\x01b", b"a\tb", b"a\x7fb", b"tab/\x1f"):
        untagged, tagged = literal_command(c, "CREATE", data)
        assert re.match(r"^\S+ NO \[CANNOT\] ", tagged), (data, tagged)
    untagged, tagged = c.command('CREATE "a\tb"')
    assert re.match(r"^\S+ NO \[CANNOT\] ", tagged), tagged
    # NUL cannot be in a string at all: BAD from the parser.
    untagged, tagged = literal_command(c, "CREATE", b"a\x00b")
    assert re.match(r"^\S+ BAD ", tagged), tagged
    tag = c.next_tag()
    c.send(tag.encode() + b" CREATE ~{3+}\r\na\x00b\r\n")
    assert re.match(r"^\S+ BAD ", c.read_until_tagged(tag)[1])
    # 8-bit bytes are not modified UTF-7 (no UTF8=ACCEPT).
    untagged, tagged = literal_command(c, "CREATE", "Grüße".encode())
    assert re.match(r"^\S+ NO \[CANNOT\] ", tagged), tagged
    assert list_all(c) == before
    c.ok("NOOP")


def test_name_length_and_depth_limits(server):
    c = server.login()
    before = list_all(c)
    no_code(c, "CREATE " + "x" * 1025, "LIMIT")
    no_code(c, "CREATE " + "/".join(["d"] * 200), "LIMIT")
    no_code(c, "CREATE " + "/".join(["d"] * 33), "LIMIT")
    no_code(c, "RENAME Sent " + "/".join(["d"] * 33), "LIMIT")
    no_code(c, "SUBSCRIBE " + "y" * 1025, "LIMIT")
    assert list_all(c) == before
    c.ok("CREATE " + "x" * 1024)
    c.ok("CREATE " + "/".join(["d"] * 32))
    assert len(names(c.ok('LIST "" "d*"'))) == 32


def test_configured_limits(make_server):
    s = make_server("[limits]\nmailbox_name_length = 20\nmailbox_depth = 3\n")
    c = s.login()
    no_code(c, "CREATE " + "x" * 21, "LIMIT")
    no_code(c, "CREATE a/b/c/d", "LIMIT")
    # UTF-8 bytes count: "&ZeVnLIqe-" is 9 bytes, so 3 of them are 27.
    no_code(c, 'CREATE "&ZeVnLIqeZeVnLIqeZeVnLIqe-"', "LIMIT")
    c.ok('CREATE "&ZeVnLIqeZeVnLIqe-"')
    c.ok("CREATE " + "x" * 20)
    c.ok("CREATE a/b/c")
    # Existing names are not refused for a limit.
    c.ok("STATUS " + "x" * 20 + " (MESSAGES)")
    no_code(c, "DELETE " + "x" * 21, "NONEXISTENT")
    no_code(c, "DELETE a/b/c/d", "NONEXISTENT")


# ---- Two sessions --------------------------------------------------------

def test_changes_are_seen_by_another_session(server):
    a = server.login()
    b = server.login()
    assert b.ok('LIST "" "Shared*"') == []
    a.ok("CREATE Shared/Box")
    assert b.ok('LIST "" "Shared*"') == [
        '* LIST (\\HasChildren) "/" "Shared"',
        '* LIST (\\HasNoChildren) "/" "Shared/Box"',
    ]
    b.ok("RENAME Shared/Box Shared/Renamed")
    assert names(a.ok('LIST "" "Shared/%"')) == ["Shared/Renamed"]
    a.ok("SUBSCRIBE Shared/Renamed")
    assert b.ok('LSUB "" "Shared/*"') == ['* LSUB () "/" "Shared/Renamed"']
    b.ok("DELETE Shared/Renamed")
    assert a.ok('LIST "" "Shared*"') == ['* LIST (\\HasNoChildren) "/" "Shared"']
    a.ok("DELETE Shared")
    assert b.ok('LIST "" "Shared*"') == []
    no_code(b, "DELETE Shared", "NONEXISTENT")
