"""imapfilter: a Lua rule file (UTF-8 folder names, which it converts) of the kind its users write, run once over
IMAPS (certificate verified): searches by sender, size, body text, date and
a UTF-8 subject (CHARSET UTF-8), then moves, copies, flags, marks seen,
deletes, and moves into a folder that does not exist yet (TRYCREATE)."""

import clientlib
import seed

CLIENT = {
    "name": "imapfilter",
    "package": "imapfilter",
    "scenario": "Lua rules: move by sender, flag+copy by size, flag by body text, mark seen, delete by Date, UTF-8 subject search adds a keyword, move to a new folder (TRYCREATE)",
    "workarounds": "none",
}

RULES = r"""
options.timeout = 60
options.create = true
options.subscribe = true
options.charset = 'UTF-8'

acct = IMAP {
  server = 'localhost',
  port = @PORT@,
  username = 'demo',
  password = 'demo',
  ssl = 'auto',
}

-- Mail from Alice goes to her project.
acct.INBOX:contain_from('alice@example.org'):move_messages(acct['Projects/Alpha'])
-- Big mail is flagged and archived (copied).
big = acct.INBOX:is_larger(1000000)
big:add_flags({'\\Flagged'})
big:copy_messages(acct['Archive'])
-- Forwards are flagged.
acct.INBOX:contain_body('forwarded message below'):mark_flagged()
-- Beta is read.
acct['Projects/Beta']:is_unseen():mark_seen()
-- Old notes are deleted (by their Date: header).
acct['Projects/Alpha/Archiv 2025']:sent_before('01-Jan-2026'):delete_messages()
-- Minutes found by a Japanese subject get a keyword.
acct['日本語']:contain_subject('議事録'):add_flags({'$Minutes'})
-- Drafts are done: into a folder that does not exist yet.
acct['Entwürfe']:select_all():move_messages(acct['Erledigt'])
"""


def test_imapfilter(petrel, workdir):
    cfg = workdir / "config.lua"
    cfg.write_text(RULES.replace("@PORT@", str(petrel.imaps_port)))
    clientlib.run(["imapfilter", "-c", str(cfg), "-t", petrel.ca, "-v", "-d", str(workdir / "debug.log")],
                  env={"HOME": str(workdir)}, timeout=120)
    with petrel.checker() as c:
        s = c.state()
        subscribed = c.subscribed()
    assert set(s["INBOX"]) == {"m02-alternative", "m03-attachments", "m04-rfc2047",
                               "m05-forward", "m06-big", "m08-reply"}
    assert set(s[seed.ALPHA]) == {"a01-status", "a02-budget", "m01-plain", "m07-lunch"}
    assert s["INBOX"]["m06-big"] == {r"\Flagged"}
    assert s["Archive"] == {"m06-big": {r"\Flagged"}}
    assert s["INBOX"]["m05-forward"] == {r"\Seen", r"\Flagged"}
    assert s["INBOX"]["m02-alternative"] == {r"\Seen"}  # "forwarded" only in m05's body
    assert s[seed.BETA]["b01-plan"] == {r"\Seen"}
    assert s[seed.ALPHA_OLD] == {}
    assert s[seed.JAPANESE]["j01-gijiroku"] == {"$Minutes"}
    assert s[seed.DRAFTS_DE] == {}
    assert s["Erledigt"] == {"d01-entwurf": {r"\Seen", r"\Draft"}}
    assert "Erledigt" in subscribed
    # The moved big message is intact.
    with petrel.checker() as c:
        assert c.raw("Archive", "m06-big") == seed.message("m06-big")
