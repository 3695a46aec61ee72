"""imaplib2 (the threaded imaplib rewrite OfflineIMAP is built on), over
IMAPS with the certificate verified: the library scenario."""

import os

import clientlib

CLIENT = {
    "name": "Python imaplib2",
    "package": "python3-imaplib2",
    "scenario": clientlib.LIBRARY_SCENARIO,
    "workarounds": "none",
}


def test_imaplib2(petrel, workdir):
    uids = clientlib.inbox_uids(petrel)
    r = clientlib.run(["/usr/bin/python3", os.path.join(clientlib.HERE, "scripts", "imaplib_scenario.py"),
                       "--imaplib2", *clientlib.library_args(petrel, workdir)])
    clientlib.check_library_scenario(petrel, clientlib.library_output(r), uids,
                                     folders_decoded=False)
