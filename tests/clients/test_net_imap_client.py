"""Perl Net::IMAP::Client over IMAPS (IO::Socket::SSL, certificate verified):
the library scenario (clientlib.LIBRARY_SCENARIO)."""

import os

import clientlib

CLIENT = {
    "name": "Perl Net::IMAP::Client",
    "package": "libnet-imap-client-perl",
    "scenario": clientlib.LIBRARY_SCENARIO,
    "workarounds": "none on the server; client side the CA file goes in ssl_options, because new() drops its documented ssl_ca_file argument",
}


def test_net_imap_client(petrel, workdir):
    uids = clientlib.inbox_uids(petrel)
    r = clientlib.run(["perl", os.path.join(clientlib.HERE, "scripts", "net_imap_client.pl"),
                       *clientlib.library_args(petrel, workdir)])
    clientlib.check_library_scenario(petrel, clientlib.library_output(r), uids,
                                     folders_decoded=False)
