"""Perl Mail::IMAPClient over IMAPS (IO::Socket::SSL, certificate verified):
the library scenario (clientlib.LIBRARY_SCENARIO)."""

import os

import clientlib

CLIENT = {
    "name": "Perl Mail::IMAPClient",
    "package": "libmail-imapclient-perl",
    "scenario": clientlib.LIBRARY_SCENARIO,
    "workarounds": "none",
}


def test_mail_imapclient(petrel, workdir):
    uids = clientlib.inbox_uids(petrel)
    r = clientlib.run(["perl", os.path.join(clientlib.HERE, "scripts", "mail_imapclient.pl"),
                       *clientlib.library_args(petrel, workdir)])
    clientlib.check_library_scenario(petrel, clientlib.library_output(r), uids,
                                     folders_decoded=False)
