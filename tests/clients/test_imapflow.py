"""ImapFlow (Node.js, npm) over IMAPS with the certificate verified: the
library scenario (clientlib.LIBRARY_SCENARIO), then IDLE on INBOX while a
second connection appends, which must arrive as an unsolicited EXISTS."""

import os

import clientlib

CLIENT = {
    "name": "ImapFlow (Node.js)",
    "package": "npm:imapflow",
    "scenario": clientlib.LIBRARY_SCENARIO + "; IDLE sees another connection's APPEND",
    "workarounds": "none",
}


def test_imapflow(petrel, workdir, node_modules):
    uids = clientlib.inbox_uids(petrel)
    r = clientlib.run(["node", os.path.join(node_modules, "imapflow_scenario.js"),
                       *clientlib.library_args(petrel, workdir)], timeout=120)
    out = clientlib.library_output(r)
    assert out["idle_exists"] == 1, out
    clientlib.check_library_scenario(petrel, out, uids, extra_inbox=("idle-new",))
