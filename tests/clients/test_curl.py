"""curl: what its users script with it over IMAPS (certificate verified) and
over STARTTLS (--ssl-reqd): list folders, fetch whole messages and one
section by UID (the 2 MB one too), search, examine a non-ASCII folder, store a
flag with a custom request, and upload (APPEND) a message."""

import re
import urllib.parse

import clientlib
import seed

CLIENT = {
    "name": "curl",
    "package": "curl",
    "scenario": "IMAPS + STARTTLS: list, fetch by UID (2 MB too) and by section, search, examine non-ASCII folder, custom STORE, upload",
    "workarounds": "none",
}


def test_curl(petrel, workdir):
    base = f"imaps://localhost:{petrel.imaps_port}"

    def curl(url, *args, check=True):
        r = clientlib.run(["curl", "-sS", "--cacert", petrel.ca, "-u", "demo:demo",
                           *args, url], timeout=60, check=check)
        return r

    with petrel.checker() as c:
        uids = {n: m["uid"] for n, m in c.messages("INBOX").items()}

    # List.
    out = curl(base + "/").out
    listed = set()
    for line in out.splitlines():
        m = re.match(r'^\* LIST \([^)]*\) "/" "?([^"]*)"?$', line.strip())
        assert m, line
        listed.add(seed.mutf7_decode(m.group(1)))
    assert set(seed.SEED) <= listed

    # Fetch whole messages by UID, byte for byte.
    raw = subprocess_bytes(["curl", "-sS", "--cacert", petrel.ca, "-u", "demo:demo",
                            f"{base}/INBOX;UID={uids['m06-big']}"])
    assert raw == seed.message("m06-big")
    raw = subprocess_bytes(["curl", "-sS", "--cacert", petrel.ca, "-u", "demo:demo",
                            f"{base}/INBOX;UID={uids['m04-rfc2047']}"])
    assert raw == seed.message("m04-rfc2047")
    # One section: the CSV attachment of the invoice (part 3).
    part = subprocess_bytes(["curl", "-sS", "--cacert", petrel.ca, "-u", "demo:demo",
                             f"{base}/INBOX;UID={uids['m03-attachments']};SECTION=3"])
    # The CRLF before the boundary belongs to the boundary (RFC 2046 5.1.1).
    assert part == seed.CSV_TEXT.encode()[:-2]
    # Over STARTTLS on the plain port, with TLS required.
    raw = subprocess_bytes(["curl", "-sS", "--ssl-reqd", "--cacert", petrel.ca,
                            "-u", "demo:demo",
                            f"imap://localhost:{petrel.imap_port}/INBOX;UID={uids['m01-plain']}"])
    assert raw == seed.message("m01-plain")

    # Search (URL query) and a custom UID SEARCH.
    out = curl(f"{base}/INBOX?SUBJECT%20Lunch").out
    assert re.search(r"^\* SEARCH 7\s*$", out, re.M), out
    out = curl(f"{base}/INBOX", "-X", "UID SEARCH UNSEEN").out
    found = set(map(int, re.search(r"^\* SEARCH([\d ]*)", out, re.M).group(1).split()))
    # m01, m04 and m06 were fetched with BODY[] above, which set \Seen.
    assert found == {uids["m07-lunch"]}

    # Examine a folder with a non-ASCII name (URL-encoded modified UTF-7).
    mbox = urllib.parse.quote(seed.mutf7_encode(seed.JAPANESE))
    out = curl(f"{base}/{mbox}", "-X", f'EXAMINE "{seed.mutf7_encode(seed.JAPANESE)}"').out
    assert re.search(r"^\* 1 EXISTS", out, re.M), out

    # A custom STORE.
    curl(f"{base}/INBOX", "-X", f"UID STORE {uids['m07-lunch']} +FLAGS (\\Flagged)")

    # Upload into a subfolder.
    up = workdir / "upload.eml"
    up.write_bytes(clientlib.new_message("curl-upload", "Uploaded with curl"))
    curl(f"{base}/Projects/Beta", "-T", str(up))

    with petrel.checker() as c:
        s = c.state()
        assert c.raw(seed.BETA, "curl-upload") == up.read_bytes()
    assert s["INBOX"]["m07-lunch"] == {r"\Flagged"}
    assert set(s[seed.BETA]) == {"b01-plan", "curl-upload"}
    # curl fetches with BODY[] (not PEEK), which sets \Seen (RFC 3501 6.4.5);
    # nothing else changed.
    expected = clientlib.seeded_state()["INBOX"]
    for n in ("m01-plain", "m04-rfc2047", "m06-big"):
        expected[n] = expected[n] | {r"\Seen"}
    expected["m07-lunch"] = {r"\Flagged"}
    assert s["INBOX"] == expected


def subprocess_bytes(args):
    import subprocess
    r = subprocess.run(args, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout
