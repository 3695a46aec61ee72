"""s-nail (the BSD/POSIX mailx of Debian, with its own IMAP code) in batch
mode over IMAPS with the certificate verified: list headers, read a message,
then flag, copy, move and delete by IMAP SEARCH message specifications, and
quit, which commits the changes."""

import clientlib
import seed

CLIENT = {
    "name": "s-nail (mailx)",
    "package": "s-nail",
    "scenario": "batch: headers, print, flag/copy/move/delete by IMAP-search message specs, quit commits; non-ASCII folder listing",
    "workarounds": "none",
}


def test_snail(petrel, workdir):
    url = f"imaps://demo@localhost:{petrel.imaps_port}"
    commands = "\n".join([
        "headers",
        # Message specifications are shell tokens: quote the parentheses.
        "print '(subject Lunch)'",
        "flag '(from alice@example.org)'",
        "copy '(subject Newsletter)' +Archive",
        "move '(subject Big)' +Projects/Beta",
        """delete '(subject "Re: Plain")'""",
        "folders",
        "quit",
    ]) + "\n"
    r = clientlib.run(["s-nail", "-#", "-S", "v15-compat", "-S", f"tls-ca-file={petrel.ca}",
                       "-S", "tls-ca-no-defaults", "-S", "tls-verify=strict",
                       "-S", f"password-demo@localhost:{petrel.imaps_port}=demo",
                       "-S", f"folder={url}/", "-S", "ttycharset=utf-8",
                       "-f", f"{url}/INBOX"],
                      input=commands.encode(), env={"HOME": str(workdir), "LC_ALL": "C.UTF-8"},
                      timeout=120)
    out = r.out
    assert "Lunch on Friday?" in out and "Rechnung 2026-11" in out, out + r.err
    assert "Shall we meet at noon?" in out, out + r.err  # the printed message
    assert "No applicable messages" not in r.err, r.err
    assert "Entwürfe" in out and "日本語" in out, out      # folder names decoded
    with petrel.checker() as c:
        s = c.state()
    seeded = clientlib.seeded_state()
    assert r"\Flagged" in s["INBOX"]["m01-plain"] and r"\Flagged" in s["INBOX"]["m07-lunch"]
    assert r"\Seen" in s["INBOX"]["m07-lunch"]           # printed
    assert s["Archive"] == {"m02-alternative": seeded["INBOX"]["m02-alternative"]}
    assert "m02-alternative" in s["INBOX"]
    assert "m06-big" not in s["INBOX"] and "m06-big" in s[seed.BETA]
    assert "m08-reply" not in s["INBOX"]
    with petrel.checker() as c:
        assert c.raw(seed.BETA, "m06-big") == seed.message("m06-big")
