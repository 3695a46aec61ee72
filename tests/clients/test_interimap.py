"""InterIMAP: two-way IMAP-to-IMAP synchronisation with QRESYNC, between the
seeded account (remote) and an empty one (local) on the same Petrel, both
over IMAPS with the certificate verified. After the first run the local
account must mirror every folder, message and flag; then changes on both
sides (flags, deletions, additions, a new folder) are synced by a second run,
and a third run changes nothing."""

import pytest

import clientlib
import seed

CLIENT = {
    "name": "InterIMAP",
    "package": "interimap",
    "scenario": "IMAP-to-IMAP sync (QRESYNC) of all folders to a second account; flag, delete, add, new folder on both sides; resync; compare both accounts",
    "workarounds": "none",
}


def test_interimap(make_petrel, workdir):
    petrel = make_petrel(extra_users=(("mirror", "mirror"),))
    conf = workdir / "config"
    conf.write_text(f"""database = {workdir / 'interimap.db'}

[local]
type = imaps
host = localhost
port = {petrel.imaps_port}
username = mirror
password = mirror
SSL_CAfile = {petrel.ca}

[remote]
type = imaps
host = localhost
port = {petrel.imaps_port}
username = demo
password = demo
SSL_CAfile = {petrel.ca}
""")

    def sync():
        r = clientlib.run(["interimap", f"--config={conf}"], timeout=180, check=False,
                          env={"HOME": str(workdir)})
        assert r.returncode == 0, r.out + r.err
        return r

    sync()
    with petrel.checker() as c:
        remote = c.state()
    with petrel.checker("mirror", "mirror") as c:
        local = c.state()
    assert local == remote
    assert set(seed.SEED) <= set(local)

    with petrel.checker() as c:
        c.store("INBOX", "m01-plain", "+FLAGS", r"(\Flagged)")
        c.delete_message(seed.ALPHA, "a01-status")
        c.append(seed.JAPANESE, clientlib.new_message("remote-new", "Remote addition"))
    with petrel.checker("mirror", "mirror") as c:
        c.store("INBOX", "m02-alternative", "-FLAGS", r"(\Seen)")
        c.delete_message(seed.BETA, "b01-plan")
        c.append(seed.DRAFTS_DE, clientlib.new_message("local-new", "Local addition"))
        c.ok(c.imap.create(seed.quote("Lokal/Neu")), "CREATE")
        c.append("Lokal/Neu", clientlib.new_message("local-folder", "In a local folder"))

    sync()
    with petrel.checker() as c:
        remote = c.state()
    with petrel.checker("mirror", "mirror") as c:
        local = c.state()
    assert local == remote
    assert remote["INBOX"]["m01-plain"] == {r"\Flagged"}
    assert remote["INBOX"]["m02-alternative"] == set()
    assert "a01-status" not in remote[seed.ALPHA] and "b01-plan" not in remote[seed.BETA]
    assert "remote-new" in remote[seed.JAPANESE] and "local-new" in remote[seed.DRAFTS_DE]
    assert set(remote["Lokal/Neu"]) == {"local-folder"}

    sync()
    with petrel.checker() as c:
        assert c.state() == remote
    with petrel.checker("mirror", "mirror") as c:
        assert c.state() == local
