"""Debian's Dovecot as a reference IMAP server, run from a private
configuration in a directory of our own (never /etc/dovecot, never the
system service), for side-by-side comparisons in tests and in bench/.

    from dovecot import start_dovecot
    d = start_dovecot(some_dir, users=(("demo", "demo"),))
    ... IMAP on 127.0.0.1:d.port ...
    d.stop()

How it runs as root in the sandbox: Dovecot refuses mail access as uid 0
("Mail access not allowed for root") and refuses to run imap-login as root,
so mail processes run as `nobody`/`nogroup` and login processes as the
package's `dovenull` user (dovecot-core creates it). Both are chrooted by
root before they drop privileges (imap-login into base_dir/login, mail
processes into the mail directory, `mail_chroot`), so they never need to
traverse the caller's directories, which pytest creates with mode 0700.
Every process is in a session of its own, so stop() can check that nothing
of it is left running.

Pytest fixture: `dovecot_server` (module scope), one user demo/demo."""

import os
import shutil
import tempfile
import pwd
import grp
import signal
import socket
import subprocess
import time

import pytest

DOVECOT_BIN = os.environ.get("DOVECOT_BIN", "/usr/sbin/dovecot")
MAIL_USER = "nobody"
MAIL_GROUP = "nogroup"


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_config(directory, users=(("demo", "demo"),), port=None):
    """Writes a complete Dovecot configuration under `directory` (created if
    needed) and returns (config_path, port). Nothing outside `directory` is
    read or written by a Dovecot started from it, except the package's
    binaries and the dovenull/nobody accounts."""
    directory = os.path.abspath(str(directory))
    port = port or _free_port()
    # Unix socket paths are limited to 108 bytes and test directories are
    # deep: the runtime directory gets a short path of its own.
    os.makedirs(directory, exist_ok=True)
    run_dir = tempfile.mkdtemp(prefix="pdv-", dir="/tmp")
    os.chmod(run_dir, 0o755)
    with open(os.path.join(directory, "run_dir"), "w") as f:
        f.write(run_dir)
    state_dir = os.path.join(directory, "state")
    mail_dir = os.path.join(directory, "mail")
    for d in (state_dir, mail_dir):
        os.makedirs(d, exist_ok=True)
    uid = pwd.getpwnam(MAIL_USER).pw_uid
    gid = grp.getgrnam(MAIL_GROUP).gr_gid
    os.chown(mail_dir, uid, gid)
    passwd = os.path.join(directory, "passwd")
    with open(passwd, "w") as f:
        for name, password in users:
            # user:password:uid:gid:gecos:home:shell:extra; home is inside
            # the mail chroot.
            f.write(f"{name}:{{PLAIN}}{password}::::/{name}::\n")
            home = os.path.join(mail_dir, name)
            os.makedirs(home, exist_ok=True)
            os.chown(home, uid, gid)
    config = os.path.join(directory, "dovecot.conf")
    with open(config, "w") as f:
        f.write(f"""\
# Written by tests/proto/dovecot.py; private to this directory.
base_dir = {run_dir}
state_dir = {state_dir}
log_path = {directory}/dovecot.log
instance_name = petrel-ref-{port}
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
auth_cache_size = 0
mail_location = maildir:~/Maildir
mail_chroot = {mail_dir}
valid_chroot_dirs = {mail_dir}
mail_uid = {MAIL_USER}
mail_gid = {MAIL_GROUP}
first_valid_uid = 1
first_valid_gid = 1
mail_fsync = never
mail_save_crlf = yes
default_internal_user = root
default_internal_group = root
default_login_user = dovenull
login_trusted_networks =
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {passwd}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""")
    return config, port


class Dovecot:
    """A running Dovecot master (`dovecot -F`) and its children."""

    def __init__(self, directory, users=(("demo", "demo"),), port=None):
        self.dir = os.path.abspath(str(directory))
        self.config_path, self.port = write_config(self.dir, users, port)
        self.imap_port = self.port  # the attribute name conftest.Client uses
        self.log_path = os.path.join(self.dir, "dovecot.log")
        self.proc = None

    def start(self, timeout=30):
        if not os.access(DOVECOT_BIN, os.X_OK):
            raise AssertionError(f"{DOVECOT_BIN} is missing: install dovecot-imapd "
                                 "(./dev.sh test does)")
        self.out = open(os.path.join(self.dir, "dovecot.out"), "ab")
        self.proc = subprocess.Popen([DOVECOT_BIN, "-F", "-c", self.config_path],
                                     stdout=self.out, stderr=self.out,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.out.close()
                raise AssertionError(f"dovecot exited at start:\n{self.log_text()}")
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
                greeting = s.recv(1000)
                s.close()
                if greeting.startswith(b"* OK"):
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise AssertionError("dovecot did not start listening:\n" + self.log_text())

    def stop(self, timeout=30):
        """SIGTERM to the master, which stops its children; waits, then makes
        sure no process of its session is left (killing leftovers, which
        fails the caller)."""
        if self.proc is None:
            return
        pgid = self.proc.pid  # start_new_session: the session and group id
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("dovecot did not stop within %ds of SIGTERM" % timeout)
            deadline = time.time() + 10
            while time.time() < deadline and _group_alive(pgid):
                time.sleep(0.05)
            if _group_alive(pgid):
                os.killpg(pgid, signal.SIGKILL)
                raise AssertionError("dovecot left processes running after it stopped")
        finally:
            self.out.close()
            self.proc = None
            self._remove_run_dir()

    def _remove_run_dir(self):
        try:
            with open(os.path.join(self.dir, "run_dir")) as f:
                shutil.rmtree(f.read().strip(), ignore_errors=True)
        except FileNotFoundError:
            pass

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


def _group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def start_dovecot(directory, users=(("demo", "demo"),), port=None):
    """Writes the configuration under `directory`, starts Dovecot and waits
    until it greets. Returns the Dovecot object (.proc, .port, .stop())."""
    return Dovecot(directory, users, port).start()


@pytest.fixture(scope="module")
def dovecot_server(tmp_path_factory):
    """One Dovecot for a whole test module, user demo/demo."""
    d = start_dovecot(tmp_path_factory.mktemp("dovecot"))
    yield d
    d.stop()
