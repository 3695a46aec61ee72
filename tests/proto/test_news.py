"""The news feed (docs/news.md) against a real news server: Debian's INN,
started by tests/proto/inn.py on a loopback port of its own with its own
configuration. Articles are posted to INN with Python's nntplib, pulled by
`petrel news pull` (or the daemon's periodic pull), and read over IMAP by
our raw client and by curl. Every Petrel here has a data directory of its
own and pulls only its test's groups (the groups wildmat), while one INN
serves the whole module.

Petrel talks to INN over STARTTLS (RFC 4642) with the certificate INN was
given, and authenticates with AUTHINFO USER/PASS (RFC 4643): INN lets only
that user post, so a Petrel without the password is refused. Posting is
tested through news_post twice: `petrel news post`, and an IMAP APPEND
into a news folder by a user with the 'p' right."""

import email.utils
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import PETREL_BIN
from inn import PASSWORD, USER, Inn, inn_available

pytestmark = pytest.mark.skipif(not inn_available(),
                                reason="inn2 is installed by dev.sh (PACKAGES)")


@pytest.fixture(scope="module")
def inn():
    server = Inn(tls=True).start()
    yield server
    server.stop()


def news_config(inn, groups, expire="0", interval="0", user=USER, password=PASSWORD,
                extra=""):
    auth = f"user = {user}\npassword = {password}\n" if user else ""
    return ("[news]\n"
            f"expire = {expire}\n"
            f"pull_interval = {interval}\n"
            f"[news-server inn]\n"
            "host = localhost\n"
            f"port = {inn.port}\n"
            "tls = starttls\n"
            f"ca_file = {inn.cert_path}\n"
            + auth +
            f"groups = {groups}\n" + extra)


def article(groups, msgid, subject, body="Hello.\n", refs=None, date=None, sender="a@example.org"):
    date = date or email.utils.formatdate(time.time() - 60)
    lines = [f"From: Poster <{sender}>", f"Newsgroups: {groups}", f"Subject: {subject}",
             f"Message-ID: {msgid}", f"Date: {date}"]
    if refs:
        lines.append(f"References: {refs}")
    return "\n".join(lines) + "\n\n" + body


def pull(server, *args, check=True):
    r = server.cli("news", "pull", "-v", *args, check=False)
    if check:
        assert r.returncode == 0, f"news pull: {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


def folder(group):
    return "Public Folders/News/" + group.replace(".", "/")


def message_ids(client, box):
    """Message-IDs of every message in box, in UID order."""
    client.ok(f'EXAMINE "{box}"')
    lines = client.ok("UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    return re.findall(r"Message-ID: (<[^>]+>)", "\n".join(lines), re.I)


def test_pull_then_read_over_imap(inn, make_server):
    for g in ("t1.comp.lang.c", "t1.misc"):
        inn.newgroup(g)
    inn.post(article("t1.comp.lang.c", "<t1-parent@example.org>", "Pointers",
                     body="What is a pointer?\n.A line that starts with a dot\n"))
    inn.post(article("t1.comp.lang.c", "<t1-reply@example.org>", "Re: Pointers",
                     body="An address.\n", refs="<t1-parent@example.org>"))
    inn.post(article("t1.misc", "<t1-misc@example.org>", "Other things"))
    s = make_server(news_config(inn, "t1.*"), start=False)

    out = pull(s).stdout
    assert "server inn: 2 groups" in out
    assert "t1.comp.lang.c: articles 1-2" in out
    assert "t1.comp.lang.c 1 <t1-parent@example.org> stored" in out
    assert "t1.comp.lang.c 2 <t1-reply@example.org> stored" in out
    assert "t1.misc 1 <t1-misc@example.org> stored" in out
    assert out.rstrip().endswith("done: 3 stored, 0 copied, 0 skipped, 0 expired, 0 errors")

    s.start()
    c = s.login()
    listed = "\n".join(c.ok('LIST "" "Public Folders/News/t1/*"'))
    assert f'"{folder("t1.comp.lang.c")}"' in listed
    assert f'"{folder("t1.misc")}"' in listed
    # The default ACL of news folders: anyone may look, read and keep \Seen.
    assert f'* MYRIGHTS "{folder("t1.misc")}" lrs' in c.ok(f'MYRIGHTS "{folder("t1.misc")}"')
    untagged = c.ok(f'SELECT "{folder("t1.comp.lang.c")}"')
    assert "* 2 EXISTS" in untagged
    # The headers threading needs are kept as posted.
    hdrs = "\n".join(c.ok("FETCH 2 (BODY.PEEK[HEADER.FIELDS (NEWSGROUPS MESSAGE-ID REFERENCES)])"))
    assert "Newsgroups: t1.comp.lang.c" in hdrs
    assert "Message-ID: <t1-reply@example.org>" in hdrs
    assert "References: <t1-parent@example.org>" in hdrs
    # Dot-stuffing undone: the body is what was posted.
    body = "\n".join(c.ok("FETCH 1 (BODY.PEEK[TEXT])"))
    assert "What is a pointer?\r\n.A line that starts with a dot\r\n" in body
    # RFC 5256: the reply is threaded under its parent.
    assert c.ok("THREAD REFERENCES UTF-8 ALL") == ["* THREAD (1 2)"]
    c.ok("LOGOUT")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is installed by dev.sh")
def test_curl_lists_and_fetches_articles(inn, make_server):
    inn.newgroup("t2.announce")
    inn.post(article("t2.announce", "<t2-1@example.org>", "Release 1.0",
                     body="Petrel 1.0 is out.\n"))
    s = make_server(news_config(inn, "t2.*"))
    pull(s)
    base = f"imap://127.0.0.1:{s.imap_port}"
    listing = subprocess.run(["curl", "-sS", "--max-time", "30", "-u", "demo:demo",
                              "-X", 'LIST "" "Public Folders/News/*"', base + "/"],
                             capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0, listing.stderr
    assert '"Public Folders/News/t2/announce"' in listing.stdout
    fetched = subprocess.run(["curl", "-sS", "--max-time", "30", "-u", "demo:demo",
                              base + "/Public%20Folders/News/t2/announce;UID=1"],
                             capture_output=True, text=True, timeout=60)
    assert fetched.returncode == 0, fetched.stderr
    assert "Subject: Release 1.0" in fetched.stdout
    assert "Message-ID: <t2-1@example.org>" in fetched.stdout
    assert "Petrel 1.0 is out." in fetched.stdout


def blob_files(server):
    found = []
    for root, _, names in os.walk(server.data_dir / "public"):
        if os.sep + "blobs" in root:
            found += names
    return found


def test_crosspost_is_stored_once(inn, make_server):
    for g in ("t3.a", "t3.b", "t3.c"):
        inn.newgroup(g)
    inn.post(article("t3.a,t3.b,t3.c", "<t3-x@example.org>", "Everywhere"))
    s = make_server(news_config(inn, "t3.*"))
    out = pull(s).stdout
    assert "t3.a 1 <t3-x@example.org> stored" in out
    assert "t3.b 1 <t3-x@example.org> copied (cross-post)" in out
    assert "t3.c 1 <t3-x@example.org> copied (cross-post)" in out
    # One blob for the three folders (single-instance storage).
    assert len(blob_files(s)) == 1
    c = s.login()
    for g in ("t3.a", "t3.b", "t3.c"):
        assert message_ids(c, folder(g)) == ["<t3-x@example.org>"]


def test_high_water_marks_fetch_only_new_articles(inn, make_server):
    inn.newgroup("t4.dev")
    inn.post(article("t4.dev", "<t4-1@example.org>", "one"))
    inn.post(article("t4.dev", "<t4-2@example.org>", "two"))
    s = make_server(news_config(inn, "t4.*"))
    assert "done: 2 stored" in pull(s).stdout
    again = pull(s).stdout
    assert "t4.dev: nothing new" in again
    assert "done: 0 stored, 0 copied, 0 skipped" in again
    inn.post(article("t4.dev", "<t4-3@example.org>", "three"))
    third = pull(s).stdout
    assert "t4.dev: articles 3-3" in third
    assert "t4.dev 3 <t4-3@example.org> stored" in third
    assert "done: 1 stored, 0 copied, 0 skipped" in third
    c = s.login()
    assert message_ids(c, folder("t4.dev")) == [
        "<t4-1@example.org>", "<t4-2@example.org>", "<t4-3@example.org>"]


def post_many(inn, group, count):
    """Creates group and posts count articles of a few KB to it over one
    connection; returns their Message-IDs in order."""
    inn.newgroup(group)
    prefix = group.split(".")[0]
    posted = [f"<{prefix}-{i}@example.org>" for i in range(count)]
    with inn.client() as n:
        for i, mid in enumerate(posted):
            n.post(article(group, mid, f"Article {i}",
                           body=f"Body of article {i}.\n" * 40).encode())
    return posted


def test_pull_killed_midway_loses_and_duplicates_nothing(inn, make_server):
    posted = post_many(inn, "t5.busy", 120)
    s = make_server(news_config(inn, "t5.*"), start=False)
    p = subprocess.Popen([PETREL_BIN, "-c", str(s.config_path), "news", "pull", "-v"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stored_before_kill = 0
    for line in p.stdout:
        if line.rstrip().endswith("> stored"):
            stored_before_kill += 1
            if stored_before_kill == 10:
                p.send_signal(signal.SIGKILL)
                break
    p.wait(timeout=60)
    p.stdout.close()
    p.stderr.close()
    assert p.returncode == -signal.SIGKILL
    assert stored_before_kill == 10

    out = pull(s).stdout
    second = len(re.findall(r"> stored$", out, re.M))
    assert 0 < second <= len(posted) - stored_before_kill
    # The mark followed every article: only the one being stored when the
    # kill came can be looked at again, and then it is recognised by its
    # Message-ID instead of being stored twice.
    assert len(re.findall(r"> already stored$", out, re.M)) <= 1
    s.start()
    c = s.login()
    ids = message_ids(c, folder("t5.busy"))
    assert sorted(ids) == sorted(posted)
    assert len(ids) == len(set(ids))
    assert "nothing new" in pull(s).stdout


def test_daemon_killed_midway_and_restarted_loses_and_duplicates_nothing(inn, make_server):
    posted = post_many(inn, "t12.busy", 100)
    s = make_server(news_config(inn, "t12.*", interval="1s"))
    box = folder("t12.busy")
    # Kill the daemon (SIGKILL, no goodbye) once its first pull is under way.
    deadline = time.time() + 60
    count = 0
    while time.time() < deadline and count == 0:
        c = s.login()
        untagged, tagged = c.command(f'STATUS "{box}" (MESSAGES)')
        c.close()
        m = re.search(r"MESSAGES (\d+)", "\n".join(untagged))
        count = int(m.group(1)) if m else 0
    assert 0 < count < len(posted)
    s.kill()
    s.start()
    assert wait_for_messages(s, box, len(posted)) == len(posted)
    c = s.login()
    ids = message_ids(c, box)
    assert sorted(ids) == sorted(posted)
    assert len(ids) == len(set(ids))


def test_expiry_removes_old_articles_and_qresync_sees_vanished(inn, make_server):
    inn.newgroup("t6.old")
    old_date = email.utils.formatdate(time.time() - 60 * 86400)
    inn.post(article("t6.old", "<t6-old@example.org>", "Old news", date=old_date))
    inn.post(article("t6.old", "<t6-new@example.org>", "Fresh news"))
    s = make_server(news_config(inn, "t6.*", expire="0"))
    assert "done: 2 stored" in pull(s).stdout

    c = s.login()
    c.ok("ENABLE QRESYNC")
    untagged = c.ok(f'SELECT "{folder("t6.old")}"')
    uidvalidity = re.search(r"UIDVALIDITY (\d+)", "\n".join(untagged)).group(1)
    modseq = re.search(r"HIGHESTMODSEQ (\d+)", "\n".join(untagged)).group(1)
    c.ok("UNSELECT")

    # Now keep articles for 30 days: the 60-day-old one goes.
    text = s.config_path.read_text().replace("expire = 0\n", "expire = 30d\n")
    s.config_path.write_text(text)
    out = pull(s).stdout
    assert "t6.old: 1 expired article removed" in out
    assert "done: 0 stored, 0 copied, 0 skipped, 1 expired, 0 errors" in out

    untagged = c.ok(f'SELECT "{folder("t6.old")}" (QRESYNC ({uidvalidity} {modseq}))')
    assert "* VANISHED (EARLIER) 1" in untagged
    assert "* 1 EXISTS" in untagged
    assert message_ids(c, folder("t6.old")) == ["<t6-new@example.org>"]
    # An article already older than the expiry age is not stored at all.
    inn.post(article("t6.old", "<t6-older@example.org>", "Ancient", date=old_date))
    out = pull(s).stdout
    assert "t6.old 3 <t6-older@example.org> older than [news] expire, skipped" in out
    assert message_ids(c, folder("t6.old")) == ["<t6-new@example.org>"]


def wait_for_messages(server, box, count, timeout=60):
    """Polls STATUS until box has count messages (the daemon pulls on its
    own schedule); returns the last count seen."""
    deadline = time.time() + timeout
    seen = -1
    while time.time() < deadline:
        c = server.login()
        untagged, tagged = c.command(f'STATUS "{box}" (MESSAGES)')
        m = re.search(r"MESSAGES (\d+)", "\n".join(untagged))
        c.close()
        seen = int(m.group(1)) if m and "OK" in tagged else -1
        if seen == count:
            return seen
        time.sleep(0.2)
    return seen


def test_daemon_pulls_on_its_interval_and_stops_on_sigterm(inn, make_server):
    inn.newgroup("t7.live")
    inn.post(article("t7.live", "<t7-1@example.org>", "first"))
    s = make_server(news_config(inn, "t7.*", interval="1s"))
    assert wait_for_messages(s, folder("t7.live"), 1) == 1
    # A client idling in the folder hears of the next article as soon as
    # the daemon's thread stores it (the store's change notification).
    idler = s.login()
    idler.ok(f'SELECT "{folder("t7.live")}"')
    idler.send("i1 IDLE\r\n")
    assert idler.readline().startswith("+ ")
    inn.post(article("t7.live", "<t7-2@example.org>", "second"))
    line = idler.readline()
    while line.startswith("* OK"):
        line = idler.readline()
    assert line == "* 2 EXISTS"
    idler.send("DONE\r\n")
    assert idler.read_until_tagged("i1")[1].startswith("i1 OK")
    idler.close()
    assert wait_for_messages(s, folder("t7.live"), 2) == 2
    assert s.stop() == 0
    log = s.log_text()
    assert "event=news_daemon_started" in log
    assert re.search(r"event=news_pull servers=1 groups=1 stored=1", log)
    s.start()
    c = s.login()
    assert message_ids(c, folder("t7.live")) == ["<t7-1@example.org>", "<t7-2@example.org>"]


def test_post_through_petrel_then_pull_keeps_one_copy(inn, make_server):
    inn.newgroup("t8.talk")
    s = make_server(news_config(inn, "t8.*"), start=False)
    # No Message-ID and no Newsgroups: news_post adds both and says so.
    r = s.cli("news", "post", "t8.talk",
              input="From: Demo <demo@example.org>\nSubject: Posted by Petrel\n\n.hi\n")
    assert r.stdout.startswith("posted to t8.talk\n")
    added = dict(line.split(": ", 1) for line in r.stdout.splitlines()[1:])
    assert added["Newsgroups"] == "t8.talk"
    msgid = added["Message-ID"]
    assert re.fullmatch(r"<petrel\.[0-9a-f]{24}@[^>]+>", msgid)
    with inn.client() as n:
        _, info = n.article(msgid)
        assert b".hi" in info.lines
        assert b"Subject: Posted by Petrel" in info.lines
    out = pull(s).stdout
    assert f"t8.talk 1 {msgid} stored" in out

    # An article the server refuses: the server's own answer, exit 65.
    r = s.cli("news", "post", "t8.talk", input=f"From: x@example.org\nSubject: again\n"
              f"Message-ID: {msgid}\n\nduplicate\n", check=False)
    assert r.returncode == 65, r.stderr
    assert "441" in r.stderr


def test_post_refused_without_authinfo(inn, make_server):
    inn.newgroup("t9.closed")
    s = make_server(news_config(inn, "t9.*", user=None), start=False)
    r = s.cli("news", "post", "t9.closed", input="From: x@example.org\nSubject: s\n\nb\n",
              check=False)
    assert r.returncode == 65, r.stderr
    # RFC 4643 §2.2: 480, authentication required.
    assert "petrel: news: inn: 480 " in r.stderr
    # Reading needs no AUTHINFO on this server: a pull works.
    assert pull(s).returncode == 0


def test_connection_problems_are_reported(inn, make_server):
    inn.newgroup("t10.x")
    bad_password = make_server(news_config(inn, "t10.*", password="wrong"), start=False)
    r = pull(bad_password, check=False)
    assert r.returncode == 75
    assert "petrel: news: inn: localhost refused AUTHINFO for petrel: 481" in r.stderr
    assert "done: 0 stored, 0 copied, 0 skipped, 0 expired, 1 error" in r.stdout

    # The system's CAs do not know INN's self-signed certificate.
    no_ca = make_server(news_config(inn, "t10.*").replace(f"ca_file = {inn.cert_path}\n", ""),
                        start=False)
    r = pull(no_ca, check=False)
    assert r.returncode == 75
    assert "certificate" in r.stderr

    closed_port = make_server(news_config(inn, "t10.*").replace(f"port = {inn.port}",
                                                                 "port = 9"), start=False)
    r = pull(closed_port, check=False)
    assert r.returncode == 75
    assert "connect" in r.stderr


def test_bad_news_configuration_is_refused(make_server):
    s = make_server("[news]\nroot = News\n", users=(), start=False)
    r = s.cli("news", "pull", check=False)
    assert r.returncode == 78
    assert "[news] root: expected a folder name below \"Public Folders/\"" in r.stderr
    s2 = make_server("", users=(), start=False)
    r = s2.cli("news", "pull", check=False)
    assert r.returncode == 78
    assert "no [news-server] section" in r.stderr


def append(client, box, msg):
    tag = client.next_tag()
    client.send(f'{tag} APPEND "{box}" {{{len(msg)}}}\r\n')
    assert client.readline().startswith("+")
    client.send(msg + "\r\n")
    return client.read_until_tagged(tag)[1]


def test_append_into_news_folder_posts_upstream(inn, make_server):
    inn.newgroup("t11.post")
    s = make_server(news_config(inn, "t11.*") + "[public]\ndefault_acl = anyone=lrs poster=lrsp\n",
                    users=(("demo", "demo"), ("poster", "poster")))
    pull(s)
    box = folder("t11.post")
    msg = ("From: Poster <poster@example.org>\r\nSubject: via IMAP\r\n"
           "Message-ID: <t11-1@example.org>\r\n\r\nPosted with APPEND.\r\n")
    # Without the 'p' right (RFC 4314 §2.1): refused, nothing posted.
    demo = s.login()
    assert "[NOPERM]" in append(demo, box, msg)
    with inn.client() as n:
        assert n.group("t11.post")[1] == 0
    # With it: posted upstream, then kept in the folder.
    poster = s.login("poster", "poster")
    assert re.match(r"a\d+ OK", append(poster, box, msg))
    with inn.client() as n:
        _, info = n.article("<t11-1@example.org>")
        assert b"Posted with APPEND." in info.lines
    assert message_ids(poster, box) == ["<t11-1@example.org>"]
    # The next pull knows it by its Message-ID: still one copy.
    assert "t11.post 1 <t11-1@example.org> already stored" in pull(s).stdout
    assert message_ids(poster, box) == ["<t11-1@example.org>"]
    # A second APPEND of the same article: the server's refusal, verbatim.
    tagged = append(poster, box, msg)
    assert " NO " in tagged and "441" in tagged, tagged
    assert message_ids(poster, box) == ["<t11-1@example.org>"]
