"""Ruby's net/imap (the default gem of Debian's Ruby) over IMAPS with the
certificate verified: the library scenario (clientlib.LIBRARY_SCENARIO)."""

import os
import subprocess

import clientlib


def _version():
    r = subprocess.run(["ruby", "-rnet/imap", "-e", "print Net::IMAP::VERSION"],
                       capture_output=True, text=True)
    return r.stdout.strip() or "unknown"


CLIENT = {
    "name": "Ruby net/imap",
    "package": "stdlib:" + _version() + " (ruby " + clientlib.deb_version("ruby3.1") + ")",
    "scenario": clientlib.LIBRARY_SCENARIO,
    "workarounds": "none",
}


def test_ruby_net_imap(petrel, workdir):
    uids = clientlib.inbox_uids(petrel)
    r = clientlib.run(["ruby", os.path.join(clientlib.HERE, "scripts", "ruby_net_imap.rb"),
                       *clientlib.library_args(petrel, workdir)])
    clientlib.check_library_scenario(petrel, clientlib.library_output(r), uids)
