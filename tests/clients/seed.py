#!/usr/bin/python3
"""Seeds a Petrel account with a fixed, deterministic set of folders and
messages, through IMAP only (CREATE, SUBSCRIBE, APPEND with flags and an
internal date), so that every client scenario starts from the same mailbox.

Use as a module (`seed(imap)` / `SEED`) or from the command line:

    tests/clients/seed.py --host localhost --port 1993 --tls --user demo --password demo

Every seeded message has a unique Message-ID `<NAME@seed.petrel.test>`;
scenarios identify messages by it. `SEED` maps a folder's (UTF-8) name to its
messages: (name, flags, internal date, raw bytes)."""

import argparse
import base64
import hashlib
import imaplib
import ssl
import sys

CRLF = "\r\n"
DOMAIN = "seed.petrel.test"


def mid(name):
    return f"<{name}@{DOMAIN}>"


def _headers(name, subject, frm, date, to="Demo User <demo@petrel.test>", extra=()):
    h = [f"From: {frm}", f"To: {to}", f"Subject: {subject}",
         f"Date: {date}", f"Message-ID: {mid(name)}", "MIME-Version: 1.0", *extra]
    return CRLF.join(h) + CRLF


def _b64_lines(data, width=76):
    s = base64.b64encode(data).decode()
    return CRLF.join(s[i:i + width] for i in range(0, len(s), width)) + CRLF


def _det_bytes(seed, n):
    """n deterministic pseudo-random bytes."""
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:n])


def plain(name, subject, body, frm="Alice Example <alice@example.org>",
          date="Mon, 02 Nov 2026 09:15:00 +0100", extra=()):
    return (_headers(name, subject, frm, date, extra=extra)
            + "Content-Type: text/plain; charset=utf-8" + CRLF
            + "Content-Transfer-Encoding: 8bit" + CRLF + CRLF
            + body.replace("\n", CRLF)).encode()


def alternative():
    b = "alt-boundary-2026"
    return (_headers("m02-alternative", "Newsletter November",
                     "Bob Builder <bob@example.com>", "Tue, 03 Nov 2026 10:00:00 +0000")
            + f'Content-Type: multipart/alternative; boundary="{b}"' + CRLF + CRLF
            + "This is a multi-part message in MIME format." + CRLF
            + f"--{b}" + CRLF
            + "Content-Type: text/plain; charset=us-ascii" + CRLF + CRLF
            + "Newsletter in plain text." + CRLF + "Second line." + CRLF
            + f"--{b}" + CRLF
            + "Content-Type: text/html; charset=us-ascii" + CRLF + CRLF
            + "<html><body><p>Newsletter in <b>HTML</b>.</p></body></html>" + CRLF
            + f"--{b}--" + CRLF).encode()


PDF_BYTES = b"%PDF-1.4\n" + _det_bytes("pdf", 20000) + b"\n%%EOF\n"
CSV_TEXT = "Monat;Betrag\r\nOktober;120,50\r\nNovember;99,00\r\n"


def attachments():
    b = "mixed-boundary-2026"
    return (_headers("m03-attachments", "Rechnung 2026-11",
                     "Billing <billing@example.net>", "Wed, 04 Nov 2026 08:30:00 +0100")
            + f'Content-Type: multipart/mixed; boundary="{b}"' + CRLF + CRLF
            + f"--{b}" + CRLF
            + "Content-Type: text/plain; charset=utf-8" + CRLF + CRLF
            + "Please find the invoice attached." + CRLF
            + f"--{b}" + CRLF
            + 'Content-Type: application/pdf; name="rechnung.pdf"' + CRLF
            + "Content-Transfer-Encoding: base64" + CRLF
            + 'Content-Disposition: attachment; filename="rechnung.pdf"' + CRLF + CRLF
            + _b64_lines(PDF_BYTES)
            + f"--{b}" + CRLF
            + 'Content-Type: text/csv; charset=utf-8; name="zahlen.csv"' + CRLF
            + 'Content-Disposition: attachment; filename="zahlen.csv"' + CRLF + CRLF
            + CSV_TEXT
            + f"--{b}--" + CRLF).encode()


# "Grüße aus Köln – 日本語のテスト"
SUBJECT_2047_TEXT = "Grüße aus Köln – 日本語のテスト"
SUBJECT_2047 = "=?UTF-8?B?" + base64.b64encode(SUBJECT_2047_TEXT.encode()).decode() + "?="
FROM_2047 = "=?ISO-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.de>"
UBERSICHT = "Übersicht der Termine\r\n"


def encoded_headers():
    b = "i18n-boundary"
    return (_headers("m04-rfc2047", SUBJECT_2047, FROM_2047, "Thu, 05 Nov 2026 12:00:00 +0100")
            + f'Content-Type: multipart/mixed; boundary="{b}"' + CRLF + CRLF
            + f"--{b}" + CRLF
            + "Content-Type: text/plain; charset=iso-8859-1" + CRLF
            + "Content-Transfer-Encoding: quoted-printable" + CRLF + CRLF
            + "Sch=F6ne Gr=FC=DFe aus K=F6ln!" + CRLF
            + f"--{b}" + CRLF
            + "Content-Type: text/plain; charset=utf-8" + CRLF
            + "Content-Transfer-Encoding: base64" + CRLF
            + "Content-Disposition: attachment; filename*=UTF-8''%C3%9Cbersicht.txt" + CRLF + CRLF
            + _b64_lines(UBERSICHT.encode())
            + f"--{b}--" + CRLF).encode()


def forwarded():
    b = "fwd-boundary"
    inner = plain("m01-plain-inner", "Plain hello", "Hello Demo,\nthis is the original.\n")
    return (_headers("m05-forward", "Fwd: Plain hello", "Carol <carol@example.org>",
                     "Fri, 06 Nov 2026 16:45:00 +0000")
            + f'Content-Type: multipart/mixed; boundary="{b}"' + CRLF + CRLF
            + f"--{b}" + CRLF
            + "Content-Type: text/plain; charset=us-ascii" + CRLF + CRLF
            + "See the forwarded message below." + CRLF
            + f"--{b}" + CRLF
            + "Content-Type: message/rfc822" + CRLF
            + "Content-Disposition: inline" + CRLF + CRLF
            + inner.decode() + CRLF
            + f"--{b}--" + CRLF).encode()


BIG_BYTES = _det_bytes("big", 1_560_000)  # ~2.1 MB once base64-encoded


def big():
    b = "big-boundary"
    return (_headers("m06-big", "Big attachment", "Dave <dave@example.org>",
                     "Sat, 07 Nov 2026 07:00:00 +0000")
            + f'Content-Type: multipart/mixed; boundary="{b}"' + CRLF + CRLF
            + f"--{b}" + CRLF
            + "Content-Type: text/plain" + CRLF + CRLF
            + "Two megabytes follow." + CRLF
            + f"--{b}" + CRLF
            + 'Content-Type: application/octet-stream; name="blob.bin"' + CRLF
            + "Content-Transfer-Encoding: base64" + CRLF
            + 'Content-Disposition: attachment; filename="blob.bin"' + CRLF + CRLF
            + _b64_lines(BIG_BYTES)
            + f"--{b}--" + CRLF).encode()


INBOX = "INBOX"
DRAFTS_DE = "Entwürfe"
JAPANESE = "日本語"
PROJECTS = "Projects"
ALPHA = "Projects/Alpha"
BETA = "Projects/Beta"
ALPHA_OLD = "Projects/Alpha/Archiv 2025"

# Folders created by the seed (besides Petrel's default ones), parents first.
FOLDERS = [DRAFTS_DE, JAPANESE, PROJECTS, ALPHA, BETA, ALPHA_OLD]


def _d(day, hm="09:00:00"):
    return f'"{day:02d}-Nov-2026 {hm} +0000"'


SEED = {
    INBOX: [
        ("m01-plain", (), _d(2), plain("m01-plain", "Plain hello",
                                       "Hello Demo,\nthis is a plain text message.\nBye\n")),
        ("m02-alternative", (r"\Seen",), _d(3), alternative()),
        ("m03-attachments", (r"\Seen", r"\Flagged"), _d(4), attachments()),
        ("m04-rfc2047", (), _d(5), encoded_headers()),
        ("m05-forward", (r"\Seen",), _d(6), forwarded()),
        ("m06-big", (), _d(7), big()),
        ("m07-lunch", (), _d(8), plain("m07-lunch", "Lunch on Friday?",
                                       "Shall we meet at noon?\n",
                                       date="Sun, 08 Nov 2026 11:00:00 +0100")),
        ("m08-reply", (r"\Seen", r"\Answered"), _d(9),
         plain("m08-reply", "Re: Plain hello", "Thanks, got it.\n",
               frm="Demo User <demo@petrel.test>", date="Mon, 09 Nov 2026 08:00:00 +0100",
               extra=(f"In-Reply-To: {mid('m01-plain')}", f"References: {mid('m01-plain')}"))),
    ],
    DRAFTS_DE: [
        ("d01-entwurf", (r"\Seen", r"\Draft"), _d(10),
         plain("d01-entwurf", "Entwurf: Angebot", "Sehr geehrte Damen und Herren,\n",
               frm="Demo User <demo@petrel.test>")),
    ],
    JAPANESE: [
        ("j01-gijiroku", (), _d(11),
         plain("j01-gijiroku", "=?UTF-8?B?" + base64.b64encode("会議の議事録".encode()).decode() + "?=",
               "会議は金曜日です。\n", frm="Tanaka <tanaka@example.jp>")),
    ],
    PROJECTS: [
        ("p01-kickoff", (), _d(12), plain("p01-kickoff", "Project kickoff", "Kickoff at 10.\n")),
    ],
    ALPHA: [
        ("a01-status", (), _d(13), plain("a01-status", "Alpha status", "All green.\n")),
        ("a02-budget", (r"\Seen",), _d(14), plain("a02-budget", "Alpha budget", "Budget ok.\n",
                                                  frm="Eve <eve@example.org>")),
    ],
    BETA: [
        ("b01-plan", (), _d(15), plain("b01-plan", "Beta plan", "Plan attached later.\n",
                                       frm="Eve <eve@example.org>")),
    ],
    ALPHA_OLD: [
        ("o01-notes", (r"\Seen",), '"15-Jan-2025 10:00:00 +0000"',
         plain("o01-notes", "Old notes", "From last year.\n",
               date="Wed, 15 Jan 2025 10:00:00 +0000")),
    ],
    "Sent": [
        ("s01-sent", (r"\Seen",), _d(16), plain("s01-sent", "Sent reply", "I sent this.\n",
                                                frm="Demo User <demo@petrel.test>")),
    ],
}


def all_names():
    """Every seeded message name, with its folder."""
    return {name: folder for folder, msgs in SEED.items() for name, *_ in msgs}


def message(name):
    for msgs in SEED.values():
        for n, _flags, _date, raw in msgs:
            if n == name:
                return raw
    raise KeyError(name)


# ---- Modified UTF-7 (RFC 3501 5.1.3) ----------------------------------------

def mutf7_encode(s):
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


def mutf7_decode(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "&":
            j = s.index("-", i)
            if j == i + 1:
                out.append("&")
            else:
                b64 = s[i + 1:j].replace(",", "/")
                b64 += "=" * (-len(b64) % 4)
                out.append(base64.b64decode(b64).decode("utf-16-be"))
            i = j + 1
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def quote(mailbox_utf8):
    """The mailbox as an IMAP quoted string, in modified UTF-7."""
    m = mutf7_encode(mailbox_utf8)
    return '"' + m.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ok(resp, what):
    typ, data = resp
    if typ != "OK":
        raise RuntimeError(f"seed: {what} failed: {typ} {data}")
    return data


def seed(imap):
    """Seeds the logged-in imaplib connection `imap`."""
    for folder in FOLDERS:
        _ok(imap.create(quote(folder)), f"CREATE {folder}")
        _ok(imap.subscribe(quote(folder)), f"SUBSCRIBE {folder}")
    for folder, msgs in SEED.items():
        for name, flags, date, raw in msgs:
            _ok(imap.append(quote(folder), "(" + " ".join(flags) + ")" if flags else None,
                            date, raw), f"APPEND {name} to {folder}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="localhost")
    ap.add_argument("--port", type=int, default=1993)
    ap.add_argument("--tls", action="store_true", help="implicit TLS (IMAPS)")
    ap.add_argument("--cafile", help="certificate to trust (default: do not verify)")
    ap.add_argument("--user", default="demo")
    ap.add_argument("--password", default="demo")
    a = ap.parse_args()
    if a.tls:
        ctx = ssl.create_default_context(cafile=a.cafile)
        if not a.cafile:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        imap = imaplib.IMAP4_SSL(a.host, a.port, ssl_context=ctx)
    else:
        imap = imaplib.IMAP4(a.host, a.port)
    imap.login(a.user, a.password)
    seed(imap)
    imap.logout()
    print(f"seeded {sum(len(m) for m in SEED.values())} messages in {len(SEED)} folders")
    return 0


if __name__ == "__main__":
    sys.exit(main())
