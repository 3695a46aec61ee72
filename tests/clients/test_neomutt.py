"""NeoMutt (the Mutt fork, whose IMAP code has diverged since 2016), driven in
tmux exactly like test_mutt.py: IMAPS with the certificate verified,
header and body caches on; open INBOX, search and read a message, tag by
pattern and save the tagged ones into a subfolder, read a forward and flag it
from the pager, delete by pattern, save a message into another subfolder,
sync, visit a folder with a non-ASCII name, quit; then reopen with
the warm header cache. Checked over IMAP and on the cache files."""

import os

import clientlib
import seed

CLIENT = {
    "name": "NeoMutt",
    "package": "neomutt",
    "scenario": "tmux: open INBOX (header+body cache), search+read, tag by pattern and save tagged to subfolder, flag, delete by pattern, save, sync, open non-ASCII folder, reopen from cache",
    "workarounds": "none",
}


def test_neomutt(petrel, workdir):
    rc = workdir / "muttrc"
    rc.write_text(f"""
set folder="imaps://demo@localhost:{petrel.imaps_port}/"
set imap_pass="demo"
set spoolfile="+INBOX"
set ssl_ca_certificates_file="{petrel.ca}"
set ssl_verify_host=yes
set ssl_force_tls=yes
set header_cache="{workdir}/hcache"
set message_cachedir="{workdir}/bodies"
set certificate_file="{workdir}/certificates"
set charset="utf-8"
set sort=date
set index_format="%4C %Z %-20.20L %s"
set pager_stop=yes
set wait_key=no
set delete=yes
set confirmappend=no
set confirmcreate=no
set copy=no
set move=no
set mark_old=no
set beep=no
set mail_check=3600
set imap_keepalive=600
set timeout=3600
set quit=yes
set help=no
set resolve=no
""")
    (workdir / "hcache").mkdir()
    (workdir / "bodies").mkdir()
    cmd = f"neomutt -n -F {rc}"
    t = clientlib.Tmux(str(workdir), cmd, env={"HOME": str(workdir)})
    try:
        s = t.wait_for(r"Lunch on Friday\?", 40)
        assert "Newsletter November" in s and "Big attachment" in s
        # Search for a message and read it.
        t.keys("/")
        t.keys("~i m01-plain", literal=True)
        t.keys("Enter")
        t.keys("Enter")
        t.wait_for(r"this is a plain text message", 20)
        t.keys("q")
        t.wait_for(r"Lunch on Friday\?", 20)
        # Tag everything from Alice and save the tagged messages into her project
        # (saving deletes the originals).
        t.keys("T")
        t.keys("~f alice@example.org", literal=True)
        t.keys("Enter")
        t.wait_for(r"Tag:2", 10)
        t.keys(r"\;")  # tag-prefix (a bare ";" is a command separator for tmux)
        t.keys("s")
        t.wait_for(r"Save tagged to mailbox|Save to mailbox", 10)
        t.keys("C-u")
        t.keys("=Projects/Alpha", literal=True)
        t.keys("Enter")
        t.wait_for(r"Del:2", 20)
        # Read the forward (with its attached message) and flag it from the pager.
        t.keys("/")
        t.keys("~i m05-forward", literal=True)
        t.keys("Enter")
        t.keys("Enter")
        t.wait_for(r"See the forwarded message below", 20)
        t.wait_for(r"this is the original", 5)
        t.keys("F")
        t.keys("q")
        # Delete the newsletter by pattern.
        t.keys("D")
        t.keys("~s Newsletter", literal=True)
        t.keys("Enter")
        # Save the invoice into a subfolder (the original is deleted).
        t.keys("/")
        t.keys("~s Rechnung", literal=True)
        t.keys("Enter")
        t.keys("s")
        t.wait_for(r"Save to mailbox", 10)
        t.keys("C-u")
        t.keys("=Projects/Beta", literal=True)
        t.keys("Enter")
        # Sync, then visit the folder with the non-ASCII name.
        t.keys("$", pause=1.0)
        t.keys("c")
        t.keys("C-u")
        t.keys("=Entwürfe", literal=True)
        t.keys("Enter")
        t.wait_for(r"Entwurf: Angebot", 30)
        t.keys("q")
        t.wait_for(r"EXITED-0", 30)
    finally:
        t.kill()

    with petrel.checker() as c:
        s = c.state()
    assert "m01-plain" not in s["INBOX"] and "m07-lunch" not in s["INBOX"]
    assert s[seed.ALPHA]["m01-plain"] == {r"\Seen"}  # read in the pager
    assert s[seed.ALPHA]["m07-lunch"] == set()
    assert s["INBOX"]["m05-forward"] == {r"\Seen", r"\Flagged"}
    assert "m02-alternative" not in s["INBOX"]
    assert "m03-attachments" not in s["INBOX"]
    assert s[seed.BETA]["m03-attachments"] == {r"\Seen", r"\Flagged"}
    unchanged = clientlib.seeded_state()["INBOX"]
    for n in ("m04-rfc2047", "m06-big", "m08-reply"):
        assert s["INBOX"][n] == unchanged[n], n
    cached = [f for _d, _s, fs in os.walk(workdir / "hcache") for f in fs]
    assert cached, "no header cache written"
    bodies = [f for _d, _s, fs in os.walk(workdir / "bodies") for f in fs]
    assert bodies, "no message (body) cache written"

    # Reopen: the index comes from the warm header cache and shows the changes.
    t = clientlib.Tmux(str(workdir), cmd, env={"HOME": str(workdir)})
    try:
        scr = t.wait_for(r"Big attachment", 40)
        assert "Newsletter November" not in scr and "Rechnung" not in scr
        assert "Fwd: Plain hello" in scr and "Lunch on Friday" not in scr
        t.keys("q")
        t.wait_for(r"EXITED-0", 30)
    finally:
        t.kill()
