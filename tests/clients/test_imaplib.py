"""Python's standard imaplib: the library scenario (clientlib.LIBRARY_SCENARIO)
over IMAPS with the certificate verified, and a STARTTLS session on the plain
port that ends with LOGOUT (imaplib insists on reading LOGOUT's answer)."""

import os
import ssl
import sys
import imaplib

import pytest

import clientlib

CLIENT = {
    "name": "Python imaplib",
    "package": "stdlib:" + sys.version.split()[0],
    "scenario": clientlib.LIBRARY_SCENARIO + "; STARTTLS session ending in LOGOUT",
    "workarounds": "none",
}


def test_imaplib(petrel, workdir):
    uids = clientlib.inbox_uids(petrel)
    r = clientlib.run(["/usr/bin/python3", os.path.join(clientlib.HERE, "scripts", "imaplib_scenario.py"),
                       *clientlib.library_args(petrel, workdir)])
    clientlib.check_library_scenario(petrel, clientlib.library_output(r), uids,
                                     folders_decoded=False)


def test_imaplib_starttls_logout(petrel):
    # Found by this suite: the goodbye was lost in the TLS layer's buffer.
    ctx = ssl.create_default_context(cafile=petrel.ca)
    M = imaplib.IMAP4("localhost", petrel.imap_port)
    M.starttls(ssl_context=ctx)
    M.login("demo", "demo")
    typ, data = M.select("INBOX", readonly=True)
    assert typ == "OK" and int(data[0]) == 8
    typ, data = M.logout()
    assert typ == "BYE", (typ, data)
