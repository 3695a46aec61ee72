#!/usr/bin/python3
"""The library scenario (see clientlib.py) with Python's standard imaplib,
or with imaplib2 when the first argument is --imaplib2. Connects with
STARTTLS on the plain port when --starttls PORT is given."""

import email
import email.header
import hashlib
import json
import re
import ssl
import sys

args = sys.argv[1:]
lib = "imaplib"
starttls_port = None
if args[0] == "--imaplib2":
    lib = "imaplib2"
    args = args[1:]
if args[0] == "--starttls":
    starttls_port = int(args[1])
    args = args[2:]
host, port, ca, user, password, draft_path = args
if lib == "imaplib2":
    import imaplib2 as imaplib
else:
    import imaplib

ctx = ssl.create_default_context(cafile=ca)
if starttls_port:
    M = imaplib.IMAP4(host, starttls_port)
    M.starttls(ssl_context=ctx)
elif lib == "imaplib2":
    M = imaplib.IMAP4_SSL(host, int(port), ca_certs=ca)
else:
    M = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
M.login(user, password)


def ok(resp):
    typ, data = resp
    assert typ == "OK", resp
    return data


def mutf7_encode(s):
    import base64
    out, buf = [], []

    def flush():
        if buf:
            b = "".join(buf).encode("utf-16-be")
            out.append("&" + base64.b64encode(b).decode().rstrip("=").replace("/", ",") + "-")
            buf.clear()
    for ch in s:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            buf.append(ch)
    flush()
    return "".join(out)


folders = []
for line in ok(M.list('""', "*")):
    name = re.match(rb'^\([^)]*\) "[^"]*" (.*)$', line).group(1).decode()
    folders.append(name.strip('"'))

ok(M.select("INBOX"))
unseen = [int(x) for x in ok(M.uid("SEARCH", None, "UNSEEN"))[0].split()]


def uid_of(msgid):
    found = ok(M.uid("SEARCH", None, "HEADER", "Message-ID", f'"<{msgid}@seed.petrel.test>"'))[0].split()
    assert len(found) == 1, (msgid, found)
    return found[0].decode()


m04 = uid_of("m04-rfc2047")
data = ok(M.uid("FETCH", m04, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
hdr = email.message_from_bytes(data[0][1])
subject = str(email.header.make_header(email.header.decode_header(hdr["Subject"])))

m03 = uid_of("m03-attachments")
data = ok(M.uid("FETCH", m03, "(BODY.PEEK[2])"))
import base64
pdf = base64.b64decode(data[0][1])
data = ok(M.uid("FETCH", m03, "(FLAGS)"))
m03_flags = re.search(rb"FLAGS \(([^)]*)\)", data[0]).group(1).decode().split()

m06 = uid_of("m06-big")
data = ok(M.uid("FETCH", m06, "(BODY[])"))
big_size = len(data[0][1])

ok(M.uid("STORE", uid_of("m01-plain"), "+FLAGS", r"(\Flagged)"))
ok(M.uid("COPY", uid_of("m02-alternative"), "Archive"))
ok(M.uid("MOVE", uid_of("m07-lunch"), '"Projects/Alpha"'))
ok(M.uid("STORE", uid_of("m08-reply"), "+FLAGS", r"(\Deleted)"))
ok(M.expunge())

with open(draft_path, "rb") as f:
    ok(M.append('"' + mutf7_encode("Entwürfe") + '"', r"(\Draft)", None, f.read()))
ok(M.create("Library/A"))
ok(M.rename("Library/A", "Library/B"))
ok(M.delete('"Projects/Alpha/Archiv 2025"'))
M.logout()

print(json.dumps({"folders": folders, "unseen": unseen, "subject": subject,
                  "pdf_sha256": hashlib.sha256(pdf).hexdigest(), "big_size": big_size,
                  "m03_flags": m03_flags}))
