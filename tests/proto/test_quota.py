"""QUOTA (RFC 9208): GETQUOTA, GETQUOTAROOT, SETQUOTA (refused), limits set
with `petrel user quota`, NO [OVERQUOTA] on APPEND, MULTIAPPEND and COPY
that changes nothing, MOVE never refused, and usage that stays exact
through APPEND, COPY, MOVE, EXPUNGE and DELETE."""

import re

import pytest


def message(n, body_size=100):
    body = ("x" * 70 + "\r\n") * (body_size // 72 + 1)
    return (f"From: a@example.org\r\nSubject: message {n}\r\n"
            f"Message-ID: <{n}@example.org>\r\n\r\n{body}").encode()


def append(c, mailbox, *msgs):
    """APPEND (MULTIAPPEND with several messages); returns the tagged line."""
    tag = c.next_tag()
    data = f"{tag} APPEND {mailbox}".encode()
    for m in msgs:
        data += f" {{{len(m)}+}}\r\n".encode() + m
    c.send(data + b"\r\n")
    return c.read_until_tagged(tag)[1]


def quota(c):
    """GETQUOTA "": {resource: (usage, limit)}."""
    untagged = c.ok('GETQUOTA ""')
    lines = [line for line in untagged if line.startswith("* QUOTA ")]
    assert len(lines) == 1, untagged
    m = re.fullmatch(r'\* QUOTA "" \((.*)\)', lines[0])
    assert m, lines[0]
    words = m.group(1).split()
    assert len(words) % 3 == 0, lines[0]
    return {words[i]: (int(words[i + 1]), int(words[i + 2])) for i in range(0, len(words), 3)}


def status(c, mailbox):
    untagged = c.ok(f"STATUS {mailbox} (MESSAGES SIZE UIDNEXT)")
    m = re.search(r"MESSAGES (\d+) SIZE (\d+) UIDNEXT (\d+)", untagged[0])
    return tuple(int(x) for x in m.groups())


def cli_usage(server, user="demo"):
    """Exact usage and limits from `petrel user quota`."""
    out = server.cli("user", "quota", user).stdout
    m = re.search(r"storage (\d+) KiB \((\d+) bytes\), limit (\S+)", out)
    n = re.search(r"messages (\d+), limit (\S+)", out)
    assert m and n, out
    return {"kib": int(m.group(1)), "bytes": int(m.group(2)), "storage_limit": m.group(3),
            "messages": int(n.group(1)), "message_limit": n.group(2)}


def all_sizes(c):
    """Sum of STATUS SIZE and MESSAGES over every selectable mailbox."""
    total_size = total_messages = 0
    for line in c.ok('LIST "" "*"'):
        if "\\Noselect" in line or "\\NonExistent" in line:
            continue
        name = line.rsplit(" ", 1)[1]
        messages, size, _ = status(c, name)
        total_size += size
        total_messages += messages
    return total_size, total_messages


def check_exact(server, c):
    """Usage from the CLI (bytes), GETQUOTA (KiB rounded up) and the sum of
    STATUS SIZE over all mailboxes agree exactly."""
    size, messages = all_sizes(c)
    u = cli_usage(server)
    assert u["bytes"] == size and u["messages"] == messages
    assert u["kib"] == (size + 1023) // 1024
    server.cli("user", "quota", "demo", "--storage", "1T", "--messages", "1000000000")
    q = quota(c)
    assert q["STORAGE"][0] == (size + 1023) // 1024
    assert q["MESSAGE"][0] == messages
    return size, messages


def test_capabilities(server):
    c = server.connect()
    pre = c.ok("CAPABILITY")[0]
    assert " QUOTA" not in pre
    c.ok("LOGIN demo demo")
    caps = c.ok("CAPABILITY")[0].split()
    assert "QUOTA" in caps and "QUOTA=RES-STORAGE" in caps and "QUOTA=RES-MESSAGE" in caps
    # Only administrators set limits: no QUOTASET (RFC 9208 4.1.3).
    assert "QUOTASET" not in caps


def test_quota_commands_need_login(server):
    c = server.connect()
    for cmd in ('GETQUOTA ""', "GETQUOTAROOT INBOX", 'SETQUOTA "" (STORAGE 1)'):
        _, tagged = c.command(cmd)
        assert not re.match(r"^\S+ OK", tagged), (cmd, tagged)


def test_getquota_without_limits_is_an_empty_list(server):
    c = server.login()
    untagged = c.ok('GETQUOTA ""')
    assert untagged == ['* QUOTA "" ()']
    untagged = c.ok("GETQUOTAROOT INBOX")
    assert untagged == ['* QUOTAROOT "INBOX" ""', '* QUOTA "" ()']


def test_getquota_and_getquotaroot_with_limits(server):
    server.cli("user", "quota", "demo", "--storage", "10M", "--messages", "500")
    c = server.login()
    assert append(c, "INBOX", message(1, 3000)).split()[1] == "OK"
    size = status(c, "INBOX")[1]
    untagged = c.ok('GETQUOTA ""')
    assert untagged == [f'* QUOTA "" (STORAGE {(size + 1023) // 1024} 10240 MESSAGE 1 500)']
    # Any mailbox, existing or not, is under the one root "" (RFC 9208 4.1.2).
    for mailbox, shown in (("INBOX", '"INBOX"'), ("inbox", '"INBOX"'), ("Sent", '"Sent"'),
                           ('"Not/There/Yet"', '"Not/There/Yet"'),
                           ("&AOk-t&AOk-", '"&AOk-t&AOk-"')):
        untagged = c.ok(f"GETQUOTAROOT {mailbox}")
        assert untagged[0] == f'* QUOTAROOT {shown} ""', untagged
        assert untagged[1] == f'* QUOTA "" (STORAGE {(size + 1023) // 1024} 10240 MESSAGE 1 500)'
    # Only one resource limited: only that one listed (RFC 9208 4.2.1).
    server.cli("user", "quota", "demo", "--storage", "none")
    assert c.ok('GETQUOTA ""') == ['* QUOTA "" (MESSAGE 1 500)']
    server.cli("user", "quota", "demo", "--storage", "1G", "--messages", "none")
    assert c.ok('GETQUOTA ""') == [f'* QUOTA "" (STORAGE {(size + 1023) // 1024} 1048576)']


def test_getquota_errors(server):
    c = server.login()
    c.no('GETQUOTA "#user/demo"', "NONEXISTENT")
    c.no("GETQUOTA other", "NONEXISTENT")
    c.bad("GETQUOTA")
    c.bad('GETQUOTA "" extra')
    c.bad("GETQUOTAROOT")
    c.bad("GETQUOTAROOT INBOX Sent")
    # A name that can never be a mailbox.
    c.no('GETQUOTAROOT "a//b"')


def test_setquota_is_refused_and_changes_nothing(server):
    server.cli("user", "quota", "demo", "--storage", "100K")
    c = server.login()
    before = quota(c)
    c.no('SETQUOTA "" (STORAGE 100000)', "NOPERM")
    c.no('SETQUOTA "" ()', "NOPERM")
    c.no('SETQUOTA "" (STORAGE 1 MESSAGE 2)', "NOPERM")
    c.no('SETQUOTA "#user/demo" (MESSAGE 2)', "NOPERM")
    assert quota(c) == before
    assert cli_usage(server)["storage_limit"] == "100"
    for bad in ('SETQUOTA ""', 'SETQUOTA "" STORAGE', 'SETQUOTA "" (STORAGE)',
                'SETQUOTA "" (STORAGE x)', 'SETQUOTA "" ("STORAGE" 1)',
                'SETQUOTA "" (STORAGE -1)', 'SETQUOTA "" (STORAGE 1) extra'):
        c.bad(bad)


def test_append_over_storage_is_overquota_and_stores_nothing(server):
    c = server.login()
    assert append(c, "INBOX", message(1, 2000)).split()[1] == "OK"
    used = status(c, "INBOX")[1]
    # Room for exactly one more byte than the used size rounded to KiB.
    limit_kib = (used + 1023) // 1024 + 1
    server.cli("user", "quota", "demo", "--storage", f"{limit_kib}K")
    before = status(c, "INBOX"), cli_usage(server)
    tagged = append(c, "INBOX", message(2, 2000))
    assert re.match(r"^\S+ NO \[OVERQUOTA\]", tagged), tagged
    assert (status(c, "INBOX"), cli_usage(server)) == before
    # A message that fits exactly up to the limit is accepted: the limit is
    # inclusive (usage may reach it, not exceed it).
    room = limit_kib * 1024 - used
    header = b"Subject: fill\r\n\r\n"
    exact = header + b"y" * (room - len(header))
    assert len(exact) == room
    assert append(c, "INBOX", exact).split()[1] == "OK"
    assert cli_usage(server)["bytes"] == limit_kib * 1024
    assert quota(c)["STORAGE"] == (limit_kib, limit_kib)
    tagged = append(c, "INBOX", b"Subject: one more\r\n\r\nz")
    assert re.match(r"^\S+ NO \[OVERQUOTA\]", tagged), tagged


def test_multiappend_over_quota_stores_none(server):
    server.cli("user", "quota", "demo", "--messages", "3")
    c = server.login()
    assert append(c, "INBOX", message(1)).split()[1] == "OK"
    before = status(c, "INBOX")
    tagged = append(c, "INBOX", message(2), message(3), message(4))
    assert re.match(r"^\S+ NO \[OVERQUOTA\]", tagged), tagged
    assert status(c, "INBOX") == before
    assert cli_usage(server)["messages"] == 1
    tagged = append(c, "INBOX", message(2), message(3))
    assert tagged.split()[1] == "OK"
    assert status(c, "INBOX")[0] == 3
    assert quota(c)["MESSAGE"] == (3, 3)
    tagged = append(c, "Sent", message(5))
    assert re.match(r"^\S+ NO \[OVERQUOTA\]", tagged), tagged
    assert status(c, "Sent")[0] == 0


def test_copy_over_quota_changes_nothing(server):
    c = server.login()
    for n in range(3):
        assert append(c, "INBOX", message(n, 1500)).split()[1] == "OK"
    server.cli("user", "quota", "demo", "--messages", "5")
    c.ok("SELECT INBOX")
    before = status(c, "Trash"), cli_usage(server)
    tagged = c.no("COPY 1:3 Trash", "OVERQUOTA")
    assert "COPYUID" not in tagged
    tagged = c.no("UID COPY 1:* Trash", "OVERQUOTA")
    assert (status(c, "Trash"), cli_usage(server)) == before
    # Two fit.
    c.ok("COPY 1:2 Trash")
    assert status(c, "Trash")[0] == 2
    assert quota(c)["MESSAGE"] == (5, 5)
    # Storage limit as well: copies count their full size.
    server.cli("user", "quota", "demo", "--messages", "none",
               "--storage", str(cli_usage(server)["bytes"] + 100))
    before = status(c, "Archive"), cli_usage(server)
    c.no("COPY 3 Archive", "OVERQUOTA")
    assert (status(c, "Archive"), cli_usage(server)) == before


def test_move_is_never_refused_for_quota(server):
    c = server.login()
    for n in range(4):
        assert append(c, "INBOX", message(n, 1000)).split()[1] == "OK"
    u = cli_usage(server)
    # At the limit, and then below usage (an administrator lowered it).
    server.cli("user", "quota", "demo", "--storage", f"{u['kib']}K", "--messages", "4")
    c.ok("SELECT INBOX")
    c.ok("MOVE 1 Trash")
    assert cli_usage(server)["bytes"] == u["bytes"]
    server.cli("user", "quota", "demo", "--storage", "1K", "--messages", "1")
    c.ok("UID MOVE 2:3 Trash")
    assert status(c, "INBOX")[0] == 1 and status(c, "Trash")[0] == 3
    assert cli_usage(server)["bytes"] == u["bytes"]
    # Over quota: adding is refused, removing works and frees room.
    c.no("COPY 1 Sent", "OVERQUOTA")
    assert re.match(r"^\S+ NO \[OVERQUOTA\]", append(c, "INBOX", message(9)))
    c.ok("SELECT Trash")
    c.ok("STORE 1:* +FLAGS.SILENT (\\Deleted)")
    c.ok("EXPUNGE")
    c.ok("SELECT INBOX")
    c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    c.ok("EXPUNGE")
    assert cli_usage(server)["bytes"] == 0
    assert append(c, "INBOX", b"Subject: s\r\n\r\nsmall").split()[1] == "OK"


def test_usage_is_exact_through_every_operation(server):
    c = server.login()
    assert check_exact(server, c) == (0, 0)
    sizes = [300, 1500, 5000, 70]
    for n, s in enumerate(sizes):
        assert append(c, "INBOX", message(n, s)).split()[1] == "OK"
    total, count = check_exact(server, c)
    assert count == 4 and total == status(c, "INBOX")[1]
    # MULTIAPPEND
    assert append(c, "Sent", message(10, 800), message(11, 900)).split()[1] == "OK"
    total2, count2 = check_exact(server, c)
    assert count2 == 6 and total2 == total + status(c, "Sent")[1]
    # COPY counts again (the blob is shared on disk, the quota counts it
    # per message).
    c.ok("SELECT INBOX")
    c.ok("COPY 1:2 Archive")
    total3, count3 = check_exact(server, c)
    assert count3 == 8 and total3 == total2 + status(c, "Archive")[1]
    # MOVE: no change.
    c.ok("MOVE 3:4 Trash")
    assert check_exact(server, c) == (total3, count3)
    # \Deleted messages count until EXPUNGE.
    c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    assert check_exact(server, c) == (total3, count3)
    first = status(c, "INBOX")[1]
    c.ok("EXPUNGE")
    total4, count4 = check_exact(server, c)
    assert count4 == 7 and total4 == total3 - (first - status(c, "INBOX")[1])
    # DELETE of a mailbox with messages.
    c.ok("CREATE Old")
    c.ok("SELECT Trash")
    c.ok("MOVE 1:* Old")
    trash_moved = status(c, "Old")[1]
    assert check_exact(server, c) == (total4, count4)
    c.ok("UNSELECT")
    c.ok("DELETE Old")
    assert check_exact(server, c) == (total4 - trash_moved, 5)
    # A second session's view agrees.
    d = server.login()
    assert quota(d) == quota(c)


def test_cli_quota_values_and_errors(server):
    def limit(*args):
        server.cli("user", "quota", "demo", *args)
        return cli_usage(server)
    assert limit("--storage", "1G")["storage_limit"] == "1048576"
    assert limit("--storage", "2m")["storage_limit"] == "2048"
    assert limit("--storage", "1500")["storage_limit"] == "2"   # bytes, rounded up
    assert limit("--storage", "1024")["storage_limit"] == "1"
    assert limit("--storage", "0")["storage_limit"] == "0"
    assert limit("--messages", "100000")["message_limit"] == "100000"
    u = limit("--storage", "none")
    assert u["storage_limit"] == "none" and u["message_limit"] == "100000"
    assert limit("--messages", "none")["message_limit"] == "none"
    for bad in (["--storage", "lots"], ["--storage", "-1"], ["--storage", "1X"],
                ["--messages", "1K"], ["--messages", ""], ["--storage", "99999999999T"],
                # A space once passed as a unit (its bit 5 cleared is NUL).
                ["--storage", "10 "], ["--storage", "10K "]):
        r = server.cli("user", "quota", "demo", *bad, check=False)
        assert r.returncode == 65, (bad, r.returncode, r.stderr)
    assert server.cli("user", "quota", "nobody", check=False).returncode == 67
    assert server.cli("user", "quota", check=False).returncode == 64
    assert server.cli("user", "quota", "demo", "--storage", check=False).returncode == 64
    assert server.cli("user", "quota", "demo", "--bogus", "1", check=False).returncode == 64


def test_zero_limit_refuses_everything(server):
    server.cli("user", "quota", "demo", "--messages", "0")
    c = server.login()
    assert quota(c) == {"MESSAGE": (0, 0)}
    assert re.match(r"^\S+ NO \[OVERQUOTA\]", append(c, "INBOX", message(1)))
    assert status(c, "INBOX")[0] == 0


@pytest.mark.parametrize("mode", ["temporary", "permanent"])
def test_lmtp_overquota_config_key_is_accepted(make_server, mode):
    s = make_server(f"[quota]\nlmtp_overquota = {mode}\n")
    c = s.login()
    c.ok('GETQUOTA ""')


def test_lmtp_overquota_config_key_rejects_other_values(make_server):
    s = make_server("[quota]\nlmtp_overquota = sometimes\n", users=(), start=False)
    r = s.cli("user", "list", check=False)
    assert r.returncode == 78 and "temporary or permanent" in r.stderr


def test_status_deleted_storage_is_exact(server):
    """RFC 9208 4.1.4: DELETED and DELETED-STORAGE (octets) tell what an
    EXPUNGE would free; required with QUOTA=RES-MESSAGE/RES-STORAGE."""
    c = server.login()
    for n, s in enumerate((300, 1500, 5000)):
        assert append(c, "INBOX", message(n, s)).split()[1] == "OK"

    def deleted():
        line = c.ok("STATUS INBOX (DELETED DELETED-STORAGE SIZE)")[0]
        m = re.search(r"DELETED (\d+) DELETED-STORAGE (\d+) SIZE (\d+)", line)
        assert m, line
        return tuple(int(x) for x in m.groups())

    assert deleted()[:2] == (0, 0)
    c.ok("SELECT INBOX")
    sizes = [int(re.search(r"RFC822.SIZE (\d+)", line).group(1))
             for line in c.ok("FETCH 1:3 RFC822.SIZE")]
    c.ok("STORE 1,3 +FLAGS.SILENT (\\Deleted)")
    assert deleted() == (2, sizes[0] + sizes[2], sum(sizes))
    c.ok("STORE 1 -FLAGS.SILENT (\\Deleted)")
    c.ok("STORE 3 +FLAGS.SILENT (\\Deleted \\Seen)")
    assert deleted() == (1, sizes[2], sum(sizes))
    # A \Deleted message copied keeps its flag in the copy.
    c.ok("COPY 3 Trash")
    line = c.ok("STATUS Trash (DELETED-STORAGE)")[0]
    assert line.endswith(f"(DELETED-STORAGE {sizes[2]})"), line
    free_before = cli_usage(server)["bytes"]
    c.ok("EXPUNGE")
    assert deleted() == (0, 0, sizes[0] + sizes[1])
    assert cli_usage(server)["bytes"] == free_before - sizes[2]
    c.bad("STATUS INBOX (DELETED-STORAGES)")
