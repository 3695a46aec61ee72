"""Alpine (UW c-client underneath), driven in tmux as a person would: IMAPS
with the certificate verified through OpenSSL's default paths; through the
first-run greeting and the password prompt, read a message, jump to others to
flag, delete and save one into a subfolder, expunge and quit."""

import clientlib
import seed

CLIENT = {
    "name": "Alpine",
    "package": "alpine",
    "scenario": "tmux: greeting, password prompt, read, flag (*), delete, save to subfolder, expunge, quit",
    "workarounds": "none",
}


def test_alpine(petrel, workdir):
    box = f"{{localhost:{petrel.imaps_port}/ssl/user=demo}}"
    rc = workdir / "pinerc"
    rc.write_text(f"""personal-name=Demo User
user-domain=petrel.test
inbox-path={box}INBOX
folder-collections=Mail {box}[]
feature-list=quit-without-confirm,expunge-without-confirm,enable-flag-cmd
""")
    t = clientlib.Tmux(str(workdir), f"cd {workdir} && alpine -p {rc} -i",
                       env={"HOME": str(workdir), "SSL_CERT_FILE": petrel.ca})
    try:
        t.wait_for(r"GREETING TEXT", 30)
        t.keys("E")
        t.wait_for(r"ENTER PASSWORD", 30)
        t.keys("demo", literal=True)
        t.keys("Enter")
        t.wait_for(r"Preserve password", 10)
        t.keys("n")
        t.wait_for(r"Lunch on Friday\?", 30)
        # Read the first message.
        t.keys("Enter")
        t.wait_for(r"this is a plain text message", 20)
        t.keys("<")
        t.wait_for(r"MESSAGE INDEX", 10)
        # Flag message 7.
        for keys in (["J"], ["7"], ["Enter"]):
            t.keys(*keys)
        t.keys("*")
        t.wait_for(r"Flag New, Deleted, Answered, Forwarded or Important", 10)
        t.keys("*")  # Important, i.e. \Flagged
        # Delete message 2.
        for keys in (["J"], ["2"], ["Enter"], ["D"]):
            t.keys(*keys)
        # Save message 3 into Projects/Beta (the original is marked deleted).
        for keys in (["J"], ["3"], ["Enter"], ["S"]):
            t.keys(*keys)
        t.wait_for(r"SAVE Msg #3 to folder", 10)
        t.keys("C-u")
        t.keys("Projects/Beta", literal=True)
        t.keys("Enter")
        t.wait_for(r"Saving|Message 3 of 8 DEL", 20)
        t.keys("X")
        t.wait_for(r"of 6", 20)  # two messages fewer
        t.keys("Q")
        t.wait_for(r"EXITED-0", 30)
    finally:
        t.kill()

    with petrel.checker() as c:
        s = c.state()
    seeded = clientlib.seeded_state()["INBOX"]
    assert s["INBOX"]["m01-plain"] == {r"\Seen"}
    assert r"\Flagged" in s["INBOX"]["m07-lunch"]
    assert "m02-alternative" not in s["INBOX"] and "m03-attachments" not in s["INBOX"]
    assert s[seed.BETA]["m03-attachments"] >= {r"\Flagged"}
    for n in ("m04-rfc2047", "m05-forward", "m06-big", "m08-reply"):
        assert s["INBOX"][n] == seeded[n], n
    with petrel.checker() as c:
        assert c.raw(seed.BETA, "m03-attachments") == seed.message("m03-attachments")
