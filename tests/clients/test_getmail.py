"""getmail6: retrieve two folders (one with a non-ASCII name given in UTF-8)
over IMAPS with the certificate verified, into a Maildir; a second run must
retrieve only what is new; a last run with delete=true empties them."""

import email
import os
import pathlib
import shutil
import tempfile

import clientlib
import seed

CLIENT = {
    "name": "getmail6",
    "package": "getmail6",
    "scenario": "retrieve INBOX + 'Entwürfe' to Maildir; rerun gets only new mail (oldmail); delete=true empties server folders; compare bytes",
    "workarounds": "none (client side: delivers as user=nobody, since getmail refuses to deliver as root)",
}


def test_getmail(petrel, workdir, request):
    gdir = workdir / "getmail"
    gdir.mkdir()
    # The Maildir must be reachable by that user: outside pytest's 0700 tmp dirs.
    top = tempfile.mkdtemp(prefix="petrel-getmail-")
    os.chmod(top, 0o755)
    request.addfinalizer(lambda: shutil.rmtree(top, ignore_errors=True))
    md = pathlib.Path(top) / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (md / sub).mkdir(parents=True)
        (md / sub).chmod(0o777)  # getmail delivers as `user` below: it refuses root

    def run(read_all, delete):
        (gdir / "getmailrc").write_text(f"""[retriever]
type = SimpleIMAPSSLRetriever
server = localhost
port = {petrel.imaps_port}
username = demo
password = demo
mailboxes = ("INBOX", "Entwürfe")
ca_certs = {petrel.ca}

[destination]
type = Maildir
path = {md}/
user = nobody

[options]
verbose = 2
read_all = {read_all}
delete = {delete}
""")
        return clientlib.run(["getmail", "--getmaildir", str(gdir), "--rcfile", "getmailrc"],
                             timeout=120)

    def got():
        return {n: raw for n, (_i, raw, _p) in clientlib.maildir_messages(str(md)).items()}

    run("true", "false")
    g = got()
    want = {n: raw for f in ("INBOX", seed.DRAFTS_DE) for n, _fl, _d, raw in seed.SEED[f]}
    assert set(g) == set(want)
    for n, raw in want.items():
        clientlib.assert_same(g[n], raw, n)
    with petrel.checker() as c:
        assert {f: s for f, s in c.state().items() if f in seed.SEED} == clientlib.seeded_state()
        c.append(seed.DRAFTS_DE, clientlib.new_message("late", "Spät angekommen"))

    run("false", "false")
    g2 = got()
    assert set(g2) == set(want) | {"late"}
    assert clientlib.decode_header(
        email.message_from_bytes(g2["late"])["X-getmail-retrieved-from-mailbox"]) in (
        "Entwürfe", seed.mutf7_encode("Entwürfe"))

    run("true", "true")
    with petrel.checker() as c:
        assert c.names("INBOX") == set()
        assert c.names(seed.DRAFTS_DE) == set()
        assert c.names(seed.JAPANESE) == {"j01-gijiroku"}
