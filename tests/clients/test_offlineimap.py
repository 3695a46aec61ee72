"""OfflineIMAP 3: two-way sync of every folder to a local Maildir tree with
UTF-8 folder names (utf8foldernames), through local and server-side flag
changes, deletions, additions and a folder made offline with a non-ASCII
name; then a sync that must change nothing."""

import os
import re
import time

import clientlib
import seed

CLIENT = {
    "name": "OfflineIMAP",
    "package": "offlineimap3",
    "scenario": "sync all folders (UTF-8 names) to Maildir; flag, delete, add, make a non-ASCII folder offline and on the server; resync; compare",
    "workarounds": "none",
}

FLAG_LETTERS = {r"\Draft": "D", r"\Flagged": "F", r"\Answered": "R", r"\Seen": "S"}


def letters(flags):
    return "".join(sorted(FLAG_LETTERS[f] for f in flags if f in FLAG_LETTERS))


def local_state(root):
    out = {}
    for dirpath, _dirs, _files in os.walk(root):
        if os.path.isdir(os.path.join(dirpath, "cur")):
            out[os.path.relpath(dirpath, root)] = {
                n: "".join(sorted(info)) for n, (info, _r, _p)
                in clientlib.maildir_messages(dirpath).items()}
    return out


def test_offlineimap_two_way(petrel, workdir):
    mail = workdir / "mail"
    meta = workdir / "meta"
    mail.mkdir()
    conf = workdir / "offlineimaprc"
    conf.write_text(f"""
[general]
accounts = petrel
metadata = {meta}

[Account petrel]
localrepository = local
remoterepository = remote
utf8foldernames = yes

[Repository local]
type = Maildir
localfolders = {mail}
sep = /

[Repository remote]
type = IMAP
remotehost = localhost
remoteport = {petrel.imaps_port}
remoteuser = demo
remotepass = demo
ssl = yes
sslcacertfile = {petrel.ca}
""")

    def sync():
        r = clientlib.run(["offlineimap", "-c", str(conf), "-o", "-u", "basic"], timeout=180)
        assert "ERROR" not in r.out + r.err, r.out + r.err
        return r

    sync()
    with petrel.checker() as c:
        server = c.state()
    loc = local_state(str(mail))
    # Every folder, with UTF-8 names on disk; every message with its flags.
    assert set(loc) == set(server), (sorted(loc), sorted(server))
    assert os.path.isdir(mail / "Entwürfe" / "cur") and os.path.isdir(mail / "日本語" / "cur")
    for folder, msgs in seed.SEED.items():
        local = clientlib.maildir_messages(str(mail / folder))
        for name, flags, _d, raw in msgs:
            assert clientlib.same_message(local[name][1], raw), (folder, name)
            assert loc[folder][name] == letters(flags), (folder, name)

    # Local changes.
    inbox = clientlib.maildir_messages(str(mail / "INBOX"))
    p = inbox["m04-rfc2047"][2]
    os.rename(p, p.split(":2,")[0] + ":2,FS")
    os.unlink(inbox["m08-reply"][2])
    with open(mail / "Projects" / "Alpha" / "new" / f"{int(time.time())}_0.1.host", "wb") as f:
        f.write(clientlib.new_message("offline-new", "Written offline"))
    nd = mail / "Notizen" / "Übersicht"
    for d in (mail / "Notizen", nd):  # offlineimap wants every level to be a Maildir
        for sub in ("cur", "new", "tmp"):
            (d / sub).mkdir(parents=True)
    with open(nd / "new" / f"{int(time.time())}_1.2.host", "wb") as f:
        f.write(clientlib.new_message("offline-folder", "Übersicht offline"))
    # Server changes.
    with petrel.checker() as c:
        c.append(seed.JAPANESE, clientlib.new_message("server-new", "Neu auf dem Server"))
        c.store("INBOX", "m02-alternative", "-FLAGS", r"(\Seen)")
        c.delete_message(seed.ALPHA_OLD, "o01-notes")

    sync()
    with petrel.checker() as c:
        s = c.state()
    assert s["INBOX"]["m04-rfc2047"] == {r"\Seen", r"\Flagged"}
    assert "m08-reply" not in s["INBOX"]
    assert "offline-new" in s[seed.ALPHA]
    assert set(s.get("Notizen/Übersicht", {})) == {"offline-folder"}, sorted(s)
    loc = local_state(str(mail))
    assert "server-new" in loc[seed.JAPANESE]
    assert loc["INBOX"]["m02-alternative"] == ""
    assert "o01-notes" not in loc[seed.ALPHA_OLD]
    for folder, msgs in s.items():
        assert {n: letters(f) for n, f in msgs.items()} == loc[folder], folder

    sync()
    with petrel.checker() as c:
        assert c.state() == s
    assert local_state(str(mail)) == loc
