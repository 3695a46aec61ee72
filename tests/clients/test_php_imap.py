"""PHP's imap extension (UW c-client, as used by PHP webmails) over IMAPS with
the certificate verified through OpenSSL's default paths: the library
scenario (clientlib.LIBRARY_SCENARIO)."""

import os

import clientlib

CLIENT = {
    "name": "PHP imap (c-client)",
    "package": "php8.2-imap",
    "scenario": clientlib.LIBRARY_SCENARIO,
    "workarounds": "none on the server; client side the folder name is written in modified UTF-7 by hand, because imap_utf7_encode() of PHP 8.2 gives \"Entw&,A-rfe\" for \"Entwürfe\"",
}


def test_php_imap(petrel, workdir):
    uids = clientlib.inbox_uids(petrel)
    r = clientlib.run(["php", os.path.join(clientlib.HERE, "scripts", "php_imap.php"),
                       *clientlib.library_args(petrel, workdir)],
                      env={"SSL_CERT_FILE": petrel.ca})
    clientlib.check_library_scenario(petrel, clientlib.library_output(r), uids,
                                     folders_decoded=False)
