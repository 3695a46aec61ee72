"""Perl Mail::IMAPTalk over IMAPS (IO::Socket::SSL, certificate verified), with
its unicode folder names on:
the library scenario (clientlib.LIBRARY_SCENARIO)."""

import os

import clientlib

CLIENT = {
    "name": "Perl Mail::IMAPTalk",
    "package": "libmail-imaptalk-perl",
    "scenario": clientlib.LIBRARY_SCENARIO,
    "workarounds": "none",
}


def test_mail_imaptalk(petrel, workdir):
    uids = clientlib.inbox_uids(petrel)
    r = clientlib.run(["perl", os.path.join(clientlib.HERE, "scripts", "mail_imaptalk.pl"),
                       *clientlib.library_args(petrel, workdir)])
    clientlib.check_library_scenario(petrel, clientlib.library_output(r), uids,
                                     folders_decoded=True)
