"""Helpers shared by the client scenarios: the independent checker (Python's
imaplib over TLS, on a connection of its own), program versions, running a
program with a time limit, and a small tmux driver for terminal clients."""

import email
import email.header
import email.policy
import imaplib
import os
import re
import shlex
import shutil
import ssl
import subprocess
import time

import seed as seedmod

HERE = os.path.dirname(os.path.abspath(__file__))


# ---- versions ----------------------------------------------------------------

def deb_version(package):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package],
                       capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else "not installed"


def npm_version(package):
    import json
    p = os.path.join(HERE, "node", "node_modules", package, "package.json")
    try:
        with open(p) as f:
            return json.load(f)["version"]
    except OSError:
        return "not installed"


def have(program):
    return shutil.which(program) is not None


# ---- running programs --------------------------------------------------------

def run(args, timeout=120, check=True, env=None, cwd=None, input=None, what=None):
    """Runs a client program; on failure raises with its output."""
    e = dict(os.environ)
    if env:
        e.update(env)
    try:
        r = subprocess.run(args, capture_output=True, timeout=timeout, env=e, cwd=cwd,
                           input=input)
    except FileNotFoundError:
        raise AssertionError(f"{args[0]} is not installed: ./dev.sh installs the client "
                             "packages (PACKAGES)")
    except subprocess.TimeoutExpired as ex:
        raise AssertionError(f"{what or args[0]} timed out after {timeout}s\n"
                             f"stdout: {ex.stdout!r}\nstderr: {ex.stderr!r}")
    out = r.stdout.decode(errors="replace")
    err = r.stderr.decode(errors="replace")
    if check and r.returncode != 0:
        raise AssertionError(f"{what or shlex.join(map(str, args))} exited {r.returncode}\n"
                             f"--- stdout\n{out[-6000:]}\n--- stderr\n{err[-6000:]}")
    r.out, r.err = out, err
    return r


# ---- the independent checker -------------------------------------------------

def decode_header(value):
    if value is None:
        return None
    return str(email.header.make_header(email.header.decode_header(value)))


class Checker:
    """A fresh imaplib connection over IMAPS (certificate verified) that reads
    back what a client did."""

    def __init__(self, petrel, user="demo", password="demo"):
        ctx = ssl.create_default_context(cafile=petrel.ca)
        self.imap = imaplib.IMAP4_SSL("localhost", petrel.imaps_port, ssl_context=ctx,
                                      timeout=60)
        self.imap.login(user, password)

    def close(self):
        try:
            self.imap.logout()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def ok(self, resp, what=""):
        typ, data = resp
        assert typ == "OK", f"checker: {what} -> {typ} {data}"
        return data

    def folders(self):
        """UTF-8 names of every folder."""
        data = self.ok(self.imap.list('""', "*"), "LIST")
        out = []
        for line in data:
            if isinstance(line, tuple):  # a literal name
                out.append(seedmod.mutf7_decode(line[1].decode()))
                continue
            m = re.match(rb'^\(([^)]*)\) (?:"[^"]*"|NIL) (.*)$', line)
            assert m, line
            name = m.group(2).decode()
            if name.startswith('"'):
                name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            out.append(seedmod.mutf7_decode(name))
        return sorted(out)

    def subscribed(self):
        data = self.ok(self.imap.lsub('""', "*"), "LSUB")
        out = []
        for line in data:
            m = re.match(rb'^\(([^)]*)\) (?:"[^"]*"|NIL) (.*)$', line)
            name = m.group(2).decode()
            if name.startswith('"'):
                name = name[1:-1]
            out.append(seedmod.mutf7_decode(name))
        return sorted(out)

    def select(self, folder, readonly=True):
        return self.ok(self.imap.select(seedmod.quote(folder), readonly=readonly),
                       f"SELECT {folder}")

    def messages(self, folder):
        """{message-id name (or full Message-ID): {"uid", "flags", "subject", "size"}}"""
        self.select(folder)
        typ, data = self.imap.uid("FETCH", "1:*", "(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID SUBJECT)])")
        assert typ == "OK", data
        out = {}
        for item in data:
            if not isinstance(item, tuple):
                continue
            meta = item[0].decode()
            hdr = email.message_from_bytes(item[1])
            uid = int(re.search(r"UID (\d+)", meta).group(1))
            size = int(re.search(r"RFC822\.SIZE (\d+)", meta).group(1))
            flags = set(re.search(r"FLAGS \(([^)]*)\)", meta).group(1).split())
            flags.discard(r"\Recent")
            key = (hdr.get("Message-ID") or "").strip()
            m = re.match(r"^<(.*)@" + re.escape(seedmod.DOMAIN) + ">$", key)
            if m:
                key = m.group(1)
            out[key] = {"uid": uid, "flags": flags, "size": size,
                        "subject": decode_header(hdr.get("Subject"))}
        return out

    def names(self, folder):
        return set(self.messages(folder))

    def raw(self, folder, name):
        msgs = self.messages(folder)
        uid = msgs[name]["uid"]
        typ, data = self.imap.uid("FETCH", str(uid), "(BODY.PEEK[])")
        assert typ == "OK", data
        return [x for x in data if isinstance(x, tuple)][0][1]

    def state(self):
        """{folder: {name: flags}} for every folder."""
        return {f: {n: m["flags"] for n, m in self.messages(f).items()}
                for f in self.folders()}

    def append(self, folder, raw, flags=None):
        self.ok(self.imap.append(seedmod.quote(folder), flags, None, raw), "APPEND")

    def store(self, folder, name, op, flags):
        self.select(folder, readonly=False)
        uid = self.messages_selected()[name]
        self.ok(self.imap.uid("STORE", str(uid), op, flags), "STORE")

    def messages_selected(self):
        typ, data = self.imap.uid("FETCH", "1:*", "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        out = {}
        for item in data:
            if isinstance(item, tuple):
                uid = int(re.search(rb"UID (\d+)", item[0]).group(1))
                key = email.message_from_bytes(item[1]).get("Message-ID", "").strip()
                m = re.match(r"^<(.*)@" + re.escape(seedmod.DOMAIN) + ">$", key)
                out[m.group(1) if m else key] = uid
        return out

    def move(self, src, name, dst):
        self.select(src, readonly=False)
        uid = self.messages_selected()[name]
        self.ok(self.imap.uid("MOVE", str(uid), seedmod.quote(dst)), "MOVE")

    def delete_message(self, folder, name):
        self.select(folder, readonly=False)
        uid = self.messages_selected()[name]
        self.ok(self.imap.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)"), "STORE")
        self.ok(self.imap.expunge(), "EXPUNGE")


def seeded_state():
    """What Checker.state() returns right after seeding, for the seeded folders."""
    return {f: {n: set(flags) for n, flags, _d, _r in msgs} for f, msgs in seedmod.SEED.items()}


def new_message(name, subject, body="Created during a client scenario.\n",
                frm="Scenario <scenario@example.org>"):
    return seedmod.plain(name, subject, body, frm=frm)


# ---- Maildir reading -----------------------------------------------------------

def maildir_messages(path):
    """{name: (flags letters, raw bytes)} of a Maildir folder (cur + new)."""
    out = {}
    for sub in ("cur", "new"):
        d = os.path.join(path, sub)
        if not os.path.isdir(d):
            continue
        for fn in os.listdir(d):
            with open(os.path.join(d, fn), "rb") as f:
                raw = f.read()
            msg = email.message_from_bytes(raw)
            key = (msg.get("Message-ID") or "").strip()
            m = re.match(r"^<(.*)@" + re.escape(seedmod.DOMAIN) + ">$", key)
            key = m.group(1) if m else key
            info = fn.split(":2,", 1)[1] if ":2," in fn else ""
            out[key] = (info, raw, os.path.join(d, fn))
    return out


def strip_client_headers(raw):
    """Raw message without headers some clients add on delivery (Received,
    Return-Path, X-*, Delivered-To, Status), LF line ends, header fields
    unfolded and their white space collapsed (some clients refold)."""
    raw = raw.replace(b"\r\n", b"\n")
    head, sep, body = raw.partition(b"\n\n")
    fields = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b" " + line.strip()
        else:
            fields.append(line)
    if fields and fields[0].startswith(b"From "):
        fields = fields[1:]
    kept = []
    for f in fields:
        name, _c, value = f.partition(b":")
        n = name.strip().lower()
        if (n in (b"received", b"return-path", b"delivered-to", b"status", b"x-status",
                  b"x-keywords", b"x-uid", b"content-length", b"lines", b"x-tuid",
                  b"x-imapbase")
                or n.startswith(b"x-getmail") or n.startswith(b"x-fetchmail")
                or n.startswith(b"x-offlineimap")):
            continue
        kept.append(name.strip() + b": " + b" ".join(value.split()))
    return b"\n".join(kept) + sep + body


def same_message(a, b):
    return strip_client_headers(a).rstrip(b"\n") == strip_client_headers(b).rstrip(b"\n")


# ---- tmux ------------------------------------------------------------------------

class Tmux:
    """Drives a terminal program in a private tmux server."""

    _count = 0

    def __init__(self, workdir, cmd, env=None, width=160, height=48):
        Tmux._count += 1  # a socket of its own: a killed server may still be exiting
        self.sock = os.path.join(workdir, f"tmux{Tmux._count}.sock")
        self.env = dict(os.environ, TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8")
        if env:
            self.env.update(env)
        r = self.tmux("new-session", "-d", "-x", str(width), "-y", str(height), "-s", "t",
                      "sh", "-c", cmd + "; echo EXITED-$?; sleep 600")
        assert r.returncode == 0, f"tmux new-session failed: {r.stderr}"

    def tmux(self, *args):
        return subprocess.run(["tmux", "-S", self.sock, "-f", "/dev/null", *args],
                              capture_output=True, text=True, env=self.env, timeout=30)

    def keys(self, *keys, literal=False, pause=0.15):
        if literal:
            self.tmux("send-keys", "-t", "t", "-l", *keys)
        else:
            self.tmux("send-keys", "-t", "t", *keys)
        time.sleep(pause)
        if os.environ.get("PETREL_TMUX_TRACE"):
            with open(os.environ["PETREL_TMUX_TRACE"], "a") as f:
                f.write(f"==== after {keys!r}\n{self.screen()}\n")

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", "t").stdout

    def wait_for(self, pattern, timeout=30):
        deadline = time.time() + timeout
        rx = re.compile(pattern)
        while time.time() < deadline:
            s = self.screen()
            if rx.search(s):
                return s
            time.sleep(0.2)
        raise AssertionError(f"screen never showed {pattern!r}:\n{self.screen()}")

    def kill(self):
        self.tmux("kill-server")


def assert_same(got, want, what=""):
    """same_message, with a diff of the first lines that differ on failure."""
    if same_message(got, want):
        return
    import difflib
    a = strip_client_headers(got).decode(errors="replace").splitlines()
    b = strip_client_headers(want).decode(errors="replace").splitlines()
    diff = "\n".join(list(difflib.unified_diff(b, a, "seeded", "client", lineterm="", n=1))[:40])
    raise AssertionError(f"{what}: message differs from the seeded one\n{diff}")


# ---- the library scenario ----------------------------------------------------------
#
# Every IMAP *library* (Perl, PHP, Ruby, Node, Go, Java, Python) runs the same
# script, written in its own language under tests/clients/scripts/, as a user
# of the library would write it. Arguments: host, IMAPS port, CA file, user,
# password, path of a message to append. On TLS with the certificate verified
# it must:
#   1. list every folder                                 -> "folders"
#   2. UID SEARCH UNSEEN in INBOX                        -> "unseen" (UIDs)
#   3. find m04 by SEARCH HEADER Message-ID, its subject -> "subject"
#   4. download part 2 of m03 (the PDF), decoded         -> "pdf_sha256"
#   5. fetch the whole 2 MB m06                          -> "big_size"
#   6. read m03's flags                                  -> "m03_flags"
#   7. flag m01 \Flagged; copy m02 to Archive; move m07 to Projects/Alpha;
#      mark m08 \Deleted and expunge
#   8. append the message file to "Entwürfe" with \Draft
#   9. create Library/A, rename it to Library/B, delete "Projects/Alpha/Archiv 2025"
# and print one JSON object with the keys above as its last line of output.

LIBRARY_SCENARIO = ("list, search UNSEEN, find by Message-ID, decode subject, download attachment, "
                    "fetch 2 MB, flag, copy, move, expunge, append to non-ASCII folder, "
                    "create/rename/delete folders")


def library_args(petrel, workdir):
    draft = os.path.join(str(workdir), "draft.eml")
    with open(draft, "wb") as f:
        f.write(new_message("lib-draft", "Entwurf aus der Bibliothek"))
    return ["localhost", str(petrel.imaps_port), petrel.ca, "demo", "demo", draft]


def library_output(r):
    import json
    lines = [x for x in r.out.strip().splitlines() if x.startswith("{")]
    assert lines, f"no JSON output\n{r.out[-3000:]}\n{r.err[-3000:]}"
    return json.loads(lines[-1])


def inbox_uids(petrel):
    with Checker(petrel) as c:
        return {n: m["uid"] for n, m in c.messages("INBOX").items()}


def check_library_scenario(petrel, out, uids, subject_decoded=True, folders_decoded=True,
                           extra_inbox=()):
    """uids: inbox_uids() taken before the client ran."""
    import hashlib
    want_folders = set(seedmod.SEED) | set(seedmod.FOLDERS)
    got = set(out["folders"])
    if not folders_decoded:
        got = {seedmod.mutf7_decode(f) for f in got}
    got = {"INBOX" if f.upper() == "INBOX" else f for f in got}  # INBOX is case-insensitive
    assert want_folders <= got, f"missing folders: {want_folders - got} (got {sorted(got)})"
    with Checker(petrel) as c:
        s = c.state()
        folders = c.folders()
        draft = c.raw(seedmod.DRAFTS_DE, "lib-draft")
    assert sorted(out["unseen"]) == sorted(
        uids[n] for n, fl, *_ in seedmod.SEED["INBOX"] if r"\Seen" not in fl), out["unseen"]
    if subject_decoded:
        import unicodedata  # c-client's imap_utf8() gives NFD: compare in NFC
        assert unicodedata.normalize("NFC", out["subject"]) == seedmod.SUBJECT_2047_TEXT, \
            ascii(out["subject"])
    else:
        assert out["subject"] in (seedmod.SUBJECT_2047, seedmod.SUBJECT_2047_TEXT), out["subject"]
    assert out["pdf_sha256"] == hashlib.sha256(seedmod.PDF_BYTES).hexdigest()
    assert out["big_size"] == len(seedmod.message("m06-big"))
    assert set(out["m03_flags"]) >= {r"\Seen", r"\Flagged"}, out["m03_flags"]
    seeded = seeded_state()
    # Fetching bodies (not PEEK) may set \Seen on m03/m04/m06: allowed.
    inbox = dict(s["INBOX"])
    for n in ("m03-attachments", "m04-rfc2047", "m06-big"):
        inbox[n] = inbox[n] - {r"\Seen"}
    want_inbox = {n: f - {r"\Seen"} if n in ("m03-attachments", "m04-rfc2047", "m06-big") else f
                  for n, f in seeded["INBOX"].items() if n not in ("m07-lunch", "m08-reply")}
    want_inbox["m01-plain"] = {r"\Flagged"}
    for n in extra_inbox:
        want_inbox[n] = inbox.get(n, "missing")
    assert inbox == want_inbox
    assert s["Archive"] == {"m02-alternative": {r"\Seen"}}
    assert s[seedmod.ALPHA] == dict(seeded[seedmod.ALPHA], **{"m07-lunch": set()})
    assert set(s[seedmod.DRAFTS_DE]) == {"d01-entwurf", "lib-draft"}
    assert r"\Draft" in s[seedmod.DRAFTS_DE]["lib-draft"]
    assert draft.replace(b"\r\n", b"\n") == new_message(
        "lib-draft", "Entwurf aus der Bibliothek").replace(b"\r\n", b"\n")
    assert "Library/B" in folders and "Library/A" not in folders
    assert seedmod.ALPHA_OLD not in folders
    assert seedmod.ALPHA in folders
