"""Roundcube webmail (Debian's package) in a real browser: PHP's built-in web
server serves it on loopback from a private configuration (SQLite in the
test's temporary folder, IMAPS to the suite's Petrel with the certificate
verified), and Debian's Chromium, driven by Playwright
(tests/clients/roundcube/scenario.js), logs in, opens a folder, reads two
messages with attachments and downloads one of each, searches with the quick
search box, moves a message to a folder, deletes one, looks at both folders
and logs out. Then a separate imaplib connection checks what Roundcube did:
the moved message is in the target folder and gone from INBOX, the deleted
one is in Trash (Roundcube moves to Trash, with UID MOVE), and every message
shown in the preview is \\Seen."""

import email
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request

import clientlib
import seed

CLIENT = {
    "name": "Roundcube (Chromium, Playwright)",
    "package": "roundcube-core",
    "scenario": "browser: log in, list INBOX, open a non-ASCII folder, read two messages and "
                "download an attachment of each (RFC 2231 name, PDF), quick search (ASCII "
                "and UTF-8), move to a subfolder, delete to Trash, log out",
    "workarounds": "none",
}

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO = os.path.join(HERE, "roundcube", "scenario.js")
CONFIG = os.path.join(HERE, "roundcube", "config.inc.php")
# Debian's web root for Roundcube and its defaults, read only.
DOCROOT = "/var/lib/roundcube/public_html"
DEBIAN_CONFIG = "/etc/roundcube"
CHROMIUM = "/usr/bin/chromium"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path, limit=6000):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return f"({os.path.basename(path)}: none)"
    return data[-limit:].decode(errors="replace")


class Roundcube:
    """Debian's Roundcube served by `php -S` on a free loopback port, with a
    private configuration folder (ROUNDCUBE_CONFIG_DIR): this suite's
    config.inc.php and Debian's defaults, database, logs and temporary files
    all in `root`."""

    def __init__(self, root, petrel):
        self.root = root
        self.config_dir = root / "config"
        self.logs = root / "logs"
        for d in (self.config_dir, self.logs, root / "temp"):
            d.mkdir(parents=True)
        os.symlink(CONFIG, self.config_dir / "config.inc.php")
        for name in ("defaults.inc.php", "mimetypes.php"):
            os.symlink(os.path.join(DEBIAN_CONFIG, name), self.config_dir / name)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.server_log = root / "php-server.log"
        self.env = dict(os.environ, ROUNDCUBE_CONFIG_DIR=str(self.config_dir),
                        PETREL_RC_DIR=str(root), PETREL_RC_IMAP_PORT=str(petrel.imaps_port),
                        PETREL_RC_CA=petrel.ca,
                        # Roundcube's page asks for several things at once.
                        PHP_CLI_SERVER_WORKERS="4")
        self.proc = None

    def start(self):
        log = open(self.server_log, "ab")
        # A session of its own: the server's worker processes go with it.
        self.proc = subprocess.Popen(["php", "-S", f"127.0.0.1:{self.port}", "-t", DOCROOT],
                                     env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.time() + 60
        while time.time() < deadline:
            assert self.proc.poll() is None, f"php -S exited:\n{tail(self.server_log)}"
            try:
                with urllib.request.urlopen(self.url, timeout=10) as r:
                    if b"rcmloginuser" in r.read():
                        return self
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"Roundcube's login page never came:\n{tail(self.server_log)}")

    def stop(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def imap_log(self):
        return tail(self.logs / "imap.log", limit=10 ** 8)

    def errors(self):
        """Roundcube's error log (PHP errors, IMAP errors), empty if none."""
        p = self.logs / "errors.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def server_messages(self):
        routine = re.compile(r"\] 127\.0\.0\.1:\d+ (Accepted|Closing|\[(200|302|304)\]: )")
        return "\n".join(line for line in tail(self.server_log, 10 ** 7).splitlines()
                         if not routine.search(line))

    def diagnostics(self, petrel, artifacts):
        return "\n".join([
            f"--- artifacts in {artifacts}: {sorted(os.listdir(artifacts))}",
            "--- Roundcube errors.log", self.errors()[-6000:] or "(empty)",
            "--- Roundcube imap.log (end)", tail(self.logs / "imap.log"),
            "--- php -S (without routine request lines)", self.server_messages()[-3000:],
            "--- petrel", petrel.log_text()[-6000:]])


def run_browser(rc, node_modules, artifacts):
    env = {"NODE_PATH": os.path.join(node_modules, "node_modules"), "HOME": str(artifacts)}
    r = clientlib.run(["node", SCENARIO, rc.url, "demo", "demo", str(artifacts)], env=env,
                      timeout=900, what="the Roundcube scenario (node scenario.js)")
    lines = [x for x in r.out.splitlines() if x.startswith("{")]
    assert lines, f"no JSON output\n{r.out[-3000:]}\n{r.err[-3000:]}"
    return json.loads(lines[-1])


def subject_of(name):
    """The seeded message's subject, decoded, as a reader shows it."""
    return clientlib.decode_header(email.message_from_bytes(seed.message(name))["Subject"])


def inbox_subjects():
    return {subject_of(n) for n, *_ in seed.SEED[seed.INBOX]}


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def check_what_the_browser_showed(out, folders):
    """What the pages showed, against the seed and the folders that IMAP
    LIST gave the checker."""
    assert set(out["inbox"]) == inbox_subjects() and len(out["inbox"]) == 8, out["inbox"]
    assert out["inbox_again"] == out["inbox"]
    # The folder list's links carry the IMAP (modified UTF-7) names.
    assert sorted(seed.mutf7_decode(f) for f in out["folders"]) == folders
    assert out["japanese"] == [subject_of("j01-gijiroku")]

    m04 = out["read_m04"]
    assert m04["subject"] == seed.SUBJECT_2047_TEXT
    assert m04["attachments"] == ["Übersicht.txt"]  # RFC 2231 filename*
    assert m04["body"] == "Schöne Grüße aus Köln!"  # quoted-printable ISO-8859-1
    assert m04["download"]["name"] == "Übersicht.txt"
    assert m04["download"]["sha256"] == sha256(seed.UBERSICHT.encode()), m04["download"]
    m03 = out["read_m03"]
    assert m03["subject"] == "Rechnung 2026-11"
    assert m03["attachments"] == ["rechnung.pdf", "zahlen.csv"]
    assert m03["download"] == {"name": "rechnung.pdf", "size": len(seed.PDF_BYTES),
                               "sha256": sha256(seed.PDF_BYTES)}

    # Quick search, default scope: subject and sender, this folder.
    assert sorted(out["search_plain"]) == sorted(
        s for s in inbox_subjects() if "plain hello" in s.lower()), out["search_plain"]
    assert len(out["search_plain"]) == 3
    assert out["search_koeln"] == [seed.SUBJECT_2047_TEXT]

    # After a move or delete Roundcube shows the next message in the list.
    assert out["shown_after_move"] == subject_of("m06-big")
    assert out["shown_after_delete"] == subject_of("m01-plain")
    assert set(out["inbox_after"]) == inbox_subjects() - {
        subject_of("m07-lunch"), subject_of("m02-alternative")}, out["inbox_after"]
    assert sorted(out["beta"]) == sorted([subject_of("m07-lunch"), subject_of("b01-plan")])
    assert out["trash"] == [subject_of("m02-alternative")]
    assert out["logged_out"] is True
    assert out["page_errors"] == []


def check_over_imap(petrel, folders_before):
    """What Roundcube did to the mailbox, read back over a connection of our own."""
    seeded = clientlib.seeded_state()
    with petrel.checker() as c:
        s = c.state()
        folders = c.folders()
        moved = c.raw(seed.BETA, "m07-lunch") if "m07-lunch" in s[seed.BETA] else None
    assert folders == folders_before, "Roundcube created or deleted folders"
    seen = r"\Seen"
    # Every INBOX message that was shown in the preview is now \Seen: the two
    # read on purpose (m04, m03) and the two shown next after the move and the
    # delete (m06, m01); the others keep their flags.
    want_inbox = {n: set(f) for n, f in seeded["INBOX"].items()
                  if n not in ("m07-lunch", "m02-alternative")}
    for n in ("m04-rfc2047", "m03-attachments", "m06-big", "m01-plain"):
        want_inbox[n] |= {seen}
    assert s["INBOX"] == want_inbox
    # Moved with UID MOVE: in the target folder (read before the move), gone
    # from INBOX, the bytes unchanged.
    assert s[seed.BETA] == {"b01-plan": set(), "m07-lunch": {seen}}
    clientlib.assert_same(moved, seed.message("m07-lunch"), "moved m07")
    # Deleted: moved to Trash, not flagged \Deleted anywhere.
    assert s["Trash"] == {"m02-alternative": {seen}}
    for folder in set(seeded) - {"INBOX", seed.BETA}:
        assert s[folder] == seeded[folder], folder


def check_roundcube_logs(rc):
    """Roundcube saw no IMAP error and logged none, and used the commands
    the checks above assume."""
    imap = rc.imap_log()
    refused = [line for line in imap.splitlines() if re.search(r"S: A\d+ (NO|BAD) ", line)]
    assert not refused, "Petrel refused commands of Roundcube:\n" + "\n".join(refused)
    assert re.search(r"C: A\d+ UID MOVE \d+ Projects/Beta", imap), "no UID MOVE to the folder"
    assert re.search(r"C: A\d+ UID MOVE \d+ Trash", imap), "delete was not a move to Trash"
    assert rc.errors() == "", "Roundcube logged errors"


def test_roundcube(petrel, workdir, node_modules):
    for program in ("php", "node", CHROMIUM):
        assert clientlib.have(program), f"{program} is missing: ./dev.sh installs PACKAGES"
    assert os.path.isdir(DOCROOT), "roundcube-core is missing: ./dev.sh installs PACKAGES"
    artifacts = workdir / "browser"
    artifacts.mkdir()
    with petrel.checker() as c:
        folders_before = c.folders()
    rc = Roundcube(workdir / "roundcube", petrel)
    try:
        try:
            rc.start()
            out = run_browser(rc, node_modules, artifacts)
        finally:
            rc.stop()
        check_what_the_browser_showed(out, folders_before)
        check_over_imap(petrel, folders_before)
        check_roundcube_logs(rc)
    except AssertionError as e:
        raise AssertionError(f"{e}\n{rc.diagnostics(petrel, artifacts)}") from None
