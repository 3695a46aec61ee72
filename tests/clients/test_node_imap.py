"""node-imap ("imap" on npm, Node.js) over IMAPS with the certificate
verified: the library scenario (clientlib.LIBRARY_SCENARIO)."""

import os

import clientlib

CLIENT = {
    "name": "node-imap (Node.js)",
    "package": "npm:imap",
    "scenario": clientlib.LIBRARY_SCENARIO,
    "workarounds": "none",
}


def test_node_imap(petrel, workdir, node_modules):
    uids = clientlib.inbox_uids(petrel)
    r = clientlib.run(["node", os.path.join(node_modules, "node_imap_scenario.js"),
                       *clientlib.library_args(petrel, workdir)], timeout=120)
    clientlib.check_library_scenario(petrel, clientlib.library_output(r), uids)
