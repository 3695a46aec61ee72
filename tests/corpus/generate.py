#!/usr/bin/env python3
"""Regenerates the machine-made corpus files (run from tests/corpus/):
   50-thousand-parts.eml  multipart/mixed with 1,000 text/plain parts
   51-deep-nesting.eml    multipart nested 40 levels (beyond the default
                          depth limit of 32), innermost a text part
   52-deep-rfc822.eml     message/rfc822 nested 40 levels"""


def thousand_parts():
    out = ["From: many@example.com", "To: you@example.com",
           "Subject: 1000 parts", "MIME-Version: 1.0",
           'Content-Type: multipart/mixed; boundary="kk"', ""]
    for i in range(1, 1001):
        out += ["--kk", "Content-Type: text/plain", "", "part %d" % i]
    out += ["--kk--", ""]
    return "\n".join(out)


def deep_multipart(levels):
    out = ["From: deep@example.com", "To: you@example.com",
           "Subject: deep nesting", "MIME-Version: 1.0"]
    for i in range(levels):
        out += ['Content-Type: multipart/mixed; boundary="d%d"' % i, "", "--d%d" % i]
    out += ["Content-Type: text/plain", "", "innermost"]
    for i in reversed(range(levels)):
        out += ["--d%d--" % i]
    return "\n".join(out) + "\n"


def deep_rfc822(levels):
    out = []
    for i in range(levels):
        out += ["From: level%d@example.com" % i, "Subject: level %d" % i,
                "Content-Type: message/rfc822", ""]
    out += ["From: bottom@example.com", "Subject: bottom", "", "bottom body"]
    return "\n".join(out) + "\n"


for name, text in (("50-thousand-parts.eml", thousand_parts()),
                   ("51-deep-nesting.eml", deep_multipart(40)),
                   ("52-deep-rfc822.eml", deep_rfc822(40))):
    with open(name, "w", newline="\n") as f:
        f.write(text)
