"""isync (mbsync): two-way sync of every folder between Petrel (IMAPS, certificate
verified) and a local Maildir++-style tree, through additions, flag changes,
moves and deletions on both sides, then a third sync that must change nothing."""

import os
import re
import shutil
import time

import clientlib
import seed

CLIENT = {
    "name": "isync (mbsync)",
    "package": "isync",
    "scenario": "sync all folders to Maildir; change flags, move, delete, add, create folder on both sides; resync twice; compare both sides",
    "workarounds": "none",
}

FLAG_LETTERS = {r"\Draft": "D", r"\Flagged": "F", r"\Answered": "R", r"\Seen": "S"}


def letters(flags):
    return "".join(sorted(FLAG_LETTERS[f] for f in flags if f in FLAG_LETTERS))


def local_dir(root, folder):
    """mbsync 1.4 keeps names as the server sends them (modified UTF-7)."""
    return os.path.join(root, folder if folder == "INBOX" else seed.mutf7_encode(folder))


def local_state(root):
    out = {}
    for dirpath, dirnames, _files in os.walk(root):
        if os.path.isdir(os.path.join(dirpath, "cur")):
            rel = os.path.relpath(dirpath, root)
            out[seed.mutf7_decode(rel)] = {
                n: info for n, (info, _raw, _p) in clientlib.maildir_messages(dirpath).items()}
    return out


def test_mbsync_two_way(petrel, workdir):
    mail = workdir / "mail"
    mail.mkdir()
    rc = workdir / "mbsyncrc"
    rc.write_text(f"""
IMAPAccount petrel
Host localhost
Port {petrel.imaps_port}
User demo
Pass demo
SSLType IMAPS
CertificateFile {petrel.ca}

IMAPStore remote
Account petrel

MaildirStore local
Path {mail}/
Inbox {mail}/INBOX
SubFolders Verbatim

Channel all
Far :remote:
Near :local:
Patterns *
Create Both
Remove Both
Expunge Both
SyncState *
""")

    def sync():
        return clientlib.run(["mbsync", "-c", str(rc), "-V", "all"], timeout=120)

    sync()

    # 1. Everything arrived, byte for byte, with its flags.
    with petrel.checker() as c:
        server = c.state()
        for folder, msgs in seed.SEED.items():
            local = clientlib.maildir_messages(local_dir(str(mail), folder))
            assert set(local) == set(n for n, *_ in msgs), folder
            for name, flags, _date, raw in msgs:
                info, data, _path = local[name]
                # Stored with LF line ends and an X-TUID header mbsync adds for tracking.
                assert re.sub(rb"\nX-TUID: [^\n]*", b"", data) == raw.replace(b"\r\n", b"\n"), \
                    (folder, name)
                assert letters(flags) == "".join(sorted(info.replace(",", ""))), (folder, name, info)
        assert set(local_state(str(mail))) == set(server)

    # 2. Changes on the local side.
    inbox = clientlib.maildir_messages(local_dir(str(mail), "INBOX"))
    _i, _r, p = inbox["m01-plain"]
    os.rename(p, p.split(":2,")[0] + ":2,FS")                      # flag + read
    os.unlink(inbox["m07-lunch"][2])                               # delete
    alpha = clientlib.maildir_messages(local_dir(str(mail), seed.ALPHA))
    src = alpha["a02-budget"][2]
    fname = os.path.basename(src).split(",U=")[0] + ":2,S"
    shutil.move(src, os.path.join(local_dir(str(mail), seed.BETA), "cur", fname))  # move
    newmsg = clientlib.new_message("local-new", "Written offline")
    with open(os.path.join(local_dir(str(mail), seed.PROJECTS), "new",
                           f"{int(time.time())}.local1.host"), "wb") as f:
        f.write(newmsg)                                            # add
    newdir = mail / "Neu" / "Ideen"
    for sub in ("cur", "new", "tmp"):
        (newdir / sub).mkdir(parents=True)
    with open(newdir / "new" / f"{int(time.time())}.local2.host", "wb") as f:
        f.write(clientlib.new_message("local-folder-msg", "In a new folder"))

    # ... and on the server side.
    with petrel.checker() as c:
        c.append("INBOX", clientlib.new_message("server-new", "Arrived on the server"))
        c.store(seed.BETA, "b01-plan", "+FLAGS", r"(\Flagged)")
        c.delete_message(seed.PROJECTS, "p01-kickoff")
        c.move("INBOX", "m05-forward", "Archive")

    sync()

    with petrel.checker() as c:
        s = c.state()
    assert s["INBOX"]["m01-plain"] == {r"\Seen", r"\Flagged"}
    assert "m07-lunch" not in s["INBOX"]
    assert "a02-budget" not in s[seed.ALPHA]
    assert s[seed.BETA]["a02-budget"] == {r"\Seen"}
    assert "local-new" in s[seed.PROJECTS]
    assert "Neu/Ideen" in s and set(s["Neu/Ideen"]) == {"local-folder-msg"}
    loc = local_state(str(mail))
    assert "server-new" in loc["INBOX"]
    assert loc[seed.BETA]["b01-plan"] == "F"
    assert "p01-kickoff" not in loc[seed.PROJECTS]
    assert "m05-forward" not in loc["INBOX"] and "m05-forward" in loc["Archive"]
    # Both sides now hold the same messages with the same flags.
    for folder, msgs in s.items():
        if folder not in loc:  # a parent the server made for Neu/Ideen
            assert folder == "Neu" and not msgs
            continue
        assert set(loc[folder]) == set(msgs), folder
        for name, flags in msgs.items():
            assert letters(flags) == "".join(sorted(loc[folder][name].replace(",", ""))), \
                (folder, name)

    # 3. A sync with nothing to do changes nothing.
    r = sync()
    with petrel.checker() as c:
        assert c.state() == s
    after = local_state(str(mail))
    # The server-made parent "Neu" is only seen (and created locally, empty) now.
    assert after.pop("Neu", {}) == {}
    assert after == loc
    assert "Error" not in r.err
