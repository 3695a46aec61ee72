"""Perl Net::IMAP::Simple over IMAPS (IO::Socket::SSL, certificate verified),
working on sequence numbers:
the library scenario (clientlib.LIBRARY_SCENARIO)."""

import os

import clientlib

CLIENT = {
    "name": "Perl Net::IMAP::Simple",
    "package": "libnet-imap-simple-perl",
    "scenario": clientlib.LIBRARY_SCENARIO,
    "workarounds": "none",
}


def test_net_imap_simple(petrel, workdir):
    uids = clientlib.inbox_uids(petrel)
    r = clientlib.run(["perl", os.path.join(clientlib.HERE, "scripts", "net_imap_simple.pl"),
                       *clientlib.library_args(petrel, workdir)])
    clientlib.check_library_scenario(petrel, clientlib.library_output(r), uids,
                                     folders_decoded=False)
