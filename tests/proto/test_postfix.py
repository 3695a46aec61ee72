"""Real components: Debian's Postfix hands mail to Petrel over LMTP (TCP and
a unix socket), and swaks speaks LMTP to Petrel directly. Postfix runs as
its own instance (`postfix -c DIR start`): main.cf, master.cf, queue and
data directories in a directory of the test's own; the system's
/etc/postfix is only read (meta_directory), never changed. Everything
listens on 127.0.0.1 and mail for other domains goes to Postfix's error
transport, so nothing leaves the machine.

That directory is made with mkdtemp in /tmp rather than under tmp_path:
Postfix's daemons run as the postfix user and must reach it by path, and
pytest keeps /tmp/pytest-of-<user> at mode 0700 (each new pytest session,
ours or a concurrent one, sets it back)."""

import os
import pathlib
import re
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import free_port
from test_lmtp import fetch_bodies

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
SWAKS = shutil.which("swaks")

pytestmark = [
    pytest.mark.skipif(not os.path.exists(POSTFIX) or SWAKS is None,
                       reason="postfix and swaks are installed by dev.sh (PACKAGES)"),
]

needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                reason="a Postfix instance's master must start as root")

MESSAGE = ("From: Demo <demo@example.org>\r\n"
           "To: Bob <bob@example.org>\r\n"
           "Subject: Through Postfix\r\n"
           "Message-ID: <pf-1@example.org>\r\n"
           "Date: Wed, 25 Nov 2026 10:00:00 +0000\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n"
           "Content-Transfer-Encoding: 8bit\r\n"
           "\r\n"
           "Hello through Postfix and LMTP.\r\n"
           ".a line with a leading dot\r\n"
           ".\r\n"
           "caf\u00e9 \u2713\r\n"
           "Last line.\r\n")

MASTER_CF = """\
127.0.0.1:{smtp_port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
lmtp      unix  - - n -  - lmtp
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


class Postfix:
    """One private Postfix instance relaying example.org to an LMTP target."""

    def __init__(self, base, lmtp_target):
        self.base = base
        self.conf = base / "conf"
        self.queue = base / "queue"
        self.data = base / "data"
        self.maillog = base / "maillog"
        for d in (self.conf, self.queue, self.data):
            d.mkdir(parents=True)
        shutil.chown(self.data, user="postfix")
        self.smtp_port = free_port()
        (self.conf / "main.cf").write_text(f"""\
compatibility_level = 3.6
queue_directory = {self.queue}
data_directory = {self.data}
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.test
mydomain = postfix.test
myorigin = postfix.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = example.org
virtual_mailbox_maps = static:ok
virtual_transport = lmtp:{lmtp_target}
default_transport = error:no mail leaves this test
relay_transport = error:no mail leaves this test
smtp_dns_support_level = disabled
maillog_file = {self.maillog}
maillog_file_prefixes = {base}
alias_maps =
alias_database =
biff = no
smtpd_tls_security_level = none
lmtp_tls_security_level = none
""")
        (self.conf / "master.cf").write_text(MASTER_CF.format(smtp_port=self.smtp_port))

    def postfix(self, *args):
        return subprocess.run([POSTFIX, "-c", str(self.conf), *args],
                              capture_output=True, text=True, timeout=60)

    def start(self):
        r = self.postfix("start")
        assert r.returncode == 0, f"postfix start: {r.stdout}{r.stderr}{self.log()}"
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.smtp_port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError("postfix did not listen:\n" + self.log())

    def stop(self):
        pid_file = self.queue / "pid" / "master.pid"
        pid = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
        r = self.postfix("stop")
        if r.returncode != 0:
            self.postfix("abort")
        deadline = time.time() + 20
        while pid is not None and time.time() < deadline and pid_alive(pid):
            time.sleep(0.1)

    def log(self):
        return self.maillog.read_text(errors="replace") if self.maillog.exists() else ""

    def wait_log(self, pattern, seconds=30):
        deadline = time.time() + seconds
        while time.time() < deadline:
            m = re.search(pattern, self.log())
            if m:
                return m
            time.sleep(0.1)
        raise AssertionError(f"{pattern!r} not in maillog:\n{self.log()}")


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture
def pf_dir():
    """A directory the postfix user can reach by path (mode 0711: search,
    not list), removed after the test."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="petrel-postfix-"))
    os.chmod(d, 0o711)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def swaks(*args, input=None):
    return subprocess.run([SWAKS, "--hide-informational", *args], input=input,
                          capture_output=True, text=True, timeout=60)


def wait_messages(server, user, count, mailbox="INBOX", seconds=30):
    deadline = time.time() + seconds
    while True:
        c = server.login(user, user)
        bodies = fetch_bodies(c, mailbox)
        c.close()
        if len(bodies) >= count or time.time() > deadline:
            return bodies
        time.sleep(0.2)


def split_message(stored):
    head, _, body = stored.partition(b"\r\n\r\n")
    return head.decode("utf-8", errors="replace"), body


@pytest.fixture
def petrel(make_server):
    return make_server(users=(("demo", "demo"), ("bob", "bob")))


@pytest.fixture
def postfix(pf_dir, petrel):
    pf = Postfix(pf_dir / "postfix", f"inet:127.0.0.1:{petrel.lmtp_port}").start()
    yield pf
    pf.stop()


@needs_root
def test_postfix_delivers_to_several_users(petrel, postfix, tmp_path):
    msg_file = tmp_path / "message.eml"
    # swaks ends the data with CRLF "." CRLF itself.
    msg_file.write_bytes(MESSAGE.encode()[:-2])
    r = swaks("--server", f"127.0.0.1:{postfix.smtp_port}", "--from", "demo@example.org",
              "--to", "bob@example.org,demo@example.org", "--data", f"@{msg_file}")
    assert r.returncode == 0, r.stdout + r.stderr
    postfix.wait_log(r"to=<demo@example.org>.*status=sent \(250 2\.0\.0 <demo@example\.org> "
                     r"Saved as UID 1 in INBOX\)")
    for user in ("bob", "demo"):
        stored = wait_messages(petrel, user, 1)
        assert len(stored) == 1
        head, body = split_message(stored[0])
        # The body arrives byte for byte (dot-stuffed by Postfix, unstuffed
        # by Petrel); our trace fields come first, then Postfix's, then the
        # original header.
        assert body == MESSAGE.encode().partition(b"\r\n\r\n")[2]
        lines = head.split("\r\n")
        assert lines[0] == "Return-Path: <demo@example.org>"
        assert lines[1] == "Received: from postfix.test (127.0.0.1)"
        assert lines[2].startswith("\tby ") and "(Petrel) with LMTP id" in lines[2]
        assert "by postfix.test (Postfix) with ESMTP id" in head
        assert head.endswith(MESSAGE.partition("\r\n\r\n")[0])
    # One Postfix delivery for two users: one blob, linked twice.
    blobs = [os.path.join(d, f) for d, _, files in os.walk(petrel.data_dir / "users")
             for f in files if "/blobs/" in os.path.join(d, f)]
    assert len(blobs) == 2 and os.stat(blobs[0]).st_ino == os.stat(blobs[1]).st_ino


@needs_root
def test_postfix_bounces_unknown_user_and_delivers_the_bounce(petrel, postfix):
    r = swaks("--server", f"127.0.0.1:{postfix.smtp_port}", "--from", "demo@example.org",
              "--to", "nobody@example.org", "--header", "Subject: for nobody")
    assert r.returncode == 0, r.stdout + r.stderr
    postfix.wait_log(r"to=<nobody@example\.org>.*dsn=5\.1\.1, status=bounced \(host "
                     r"127\.0\.0\.1\[127\.0\.0\.1\] said: 550 5\.1\.1 <nobody@example\.org> "
                     r"User unknown \(in reply to RCPT TO command\)\)")
    # The non-delivery report comes back to the sender through Petrel.
    stored = wait_messages(petrel, "demo", 1)
    assert len(stored) == 1
    head, body = split_message(stored[0])
    assert head.startswith("Return-Path: <>\r\n")
    assert "Subject: Undelivered Mail Returned to Sender" in head
    assert b"550 5.1.1 <nobody@example.org> User unknown" in stored[0]


@needs_root
def test_postfix_plus_detail_and_size_limit(make_server, pf_dir):
    s = make_server("[limits]\nappend_size = 4096\n", users=(("demo", "demo"),))
    imap = s.login()
    imap.ok("CREATE lists")
    pf = Postfix(pf_dir / "postfix", f"inet:127.0.0.1:{s.lmtp_port}").start()
    try:
        r = swaks("--server", f"127.0.0.1:{pf.smtp_port}", "--from", "demo@example.org",
                  "--to", "demo+lists@example.org", "--header", "Subject: to lists")
        assert r.returncode == 0, r.stdout
        pf.wait_log(r"to=<demo\+lists@example\.org>.*status=sent \(250 2\.0\.0 "
                    r"<demo\+lists@example\.org> Saved as UID 1 in lists\)")
        assert len(wait_messages(s, "demo", 1, "lists")) == 1
        # Postfix learns our SIZE from LHLO and bounces what cannot fit
        # without sending it.
        r = swaks("--server", f"127.0.0.1:{pf.smtp_port}", "--from", "bob@elsewhere.test",
                  "--to", "demo@example.org", "--body", ("x" * 70 + "\n") * 120)
        assert r.returncode == 0, r.stdout
        pf.wait_log(r"to=<demo@example\.org>.*dsn=5\.3\.4, status=bounced \(message size "
                    r"\d+ exceeds size limit 4096 of server 127\.0\.0\.1")
    finally:
        pf.stop()


@needs_root
def test_postfix_over_unix_socket(make_server, pf_dir):
    sock = pf_dir / "lmtp.sock"
    s = make_server(f"[lmtp]\nlisten = {sock}\n", users=(("demo", "demo"),))
    pf = Postfix(pf_dir / "postfix", f"unix:{sock}").start()
    try:
        r = swaks("--server", f"127.0.0.1:{pf.smtp_port}", "--from", "demo@example.org",
                  "--to", "demo@example.org", "--header", "Subject: via socket",
                  "--body", "over a unix socket")
        assert r.returncode == 0, r.stdout
        pf.wait_log(r"to=<demo@example\.org>, relay=.*lmtp\.sock.*status=sent")
        stored = wait_messages(s, "demo", 1)
        head, body = split_message(stored[0])
        assert head.startswith("Return-Path: <demo@example.org>\r\n"
                               "Received: from postfix.test (local)\r\n")
        assert body.startswith(b"over a unix socket\r\n")
    finally:
        pf.stop()


# ---- swaks speaking LMTP to Petrel directly -----------------------------------

def lmtp_swaks(server, *args):
    return swaks("--protocol", "LMTP", "--server", f"127.0.0.1:{server.lmtp_port}",
                 "--helo", "swaks.test", "--from", "demo@example.org", *args)


def test_swaks_lmtp_delivery_and_per_recipient_replies(petrel):
    r = lmtp_swaks(petrel, "--to", "demo@example.org,nobody@example.org,bob@example.org",
                   "--pipeline", "--header", "Subject: swaks")
    out = r.stdout
    assert "<** 550 5.1.1 <nobody@example.org> User unknown" in out
    assert "<~  250 2.1.5 <demo@example.org> Recipient OK" in out or \
        "<-  250 2.1.5 <demo@example.org> Recipient OK" in out
    assert re.search(r"<.  250 2\.0\.0 <demo@example\.org> Saved as UID 1 in INBOX", out)
    assert re.search(r"<.  250 2\.0\.0 <bob@example\.org> Saved as UID 1 in INBOX", out)
    head, _ = split_message(wait_messages(petrel, "bob", 1)[0])
    assert head.startswith("Return-Path: <demo@example.org>\r\n"
                           "Received: from swaks.test (127.0.0.1)\r\n")


@pytest.mark.parametrize("args,code,expect", [
    (("--to", "nobody@example.org"), 24, "<** 550 5.1.1 <nobody@example.org> User unknown"),
    (("--to", "demo@example.org", "--from", "bad address"), 23,
     "<** 501 5.1.7 Bad sender address syntax"),
    (("--to", "demo@example.org", "--protocol", "ESMTP"), 22,
     "<** 500 5.5.1 This is LMTP: use LHLO"),
])
def test_swaks_lmtp_errors(petrel, args, code, expect):
    r = lmtp_swaks(petrel, *args)
    assert r.returncode == code, r.stdout
    assert expect in r.stdout


def test_swaks_lmtp_size_limit(make_server):
    s = make_server("[limits]\nappend_size = 1024\n")
    r = lmtp_swaks(s, "--to", "demo@example.org", "--body", ("y" * 70 + "\n") * 40)
    assert r.returncode == 26, r.stdout
    assert "<** 552 5.3.4 <demo@example.org> Message size exceeds fixed limit of 1024 bytes" \
        in r.stdout
