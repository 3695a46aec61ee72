"""fetchmail: poll two folders over IMAPS (certificate checked) into an MDA,
keeping mail on the server (only unseen mail is fetched, then marked seen), a
second poll that fetches nothing, then `fetchall` without `keep`, which must
empty INBOX on the server."""

import os

import clientlib
import seed

CLIENT = {
    "name": "fetchmail",
    "package": "fetchmail",
    "scenario": "poll INBOX + a subfolder with keep (unseen only, then marked seen), repoll (nothing), fetchall+nokeep (server emptied); compare delivered bytes",
    "workarounds": "none",
}


def delivered(d):
    out = {}
    for fn in sorted(os.listdir(d)):
        with open(os.path.join(d, fn), "rb") as f:
            raw = f.read()
        import email
        m = email.message_from_bytes(raw)
        key = m.get("Message-ID", "").strip().strip("<>").split("@")[0]
        assert key not in out, f"{key} delivered twice"
        out[key] = raw
    return out


def test_fetchmail(petrel, workdir):
    box = workdir / "delivered"
    box.mkdir()
    mda = workdir / "deliver.sh"
    mda.write_text('#!/bin/sh\nexec cat > "$1/$(date +%s%N)-$$.eml"\n')
    mda.chmod(0o755)
    rc = workdir / "fetchmailrc"

    def poll(options):
        rc.write_text(f"""set no syslog
poll localhost protocol IMAP port {petrel.imaps_port}
  user "demo" password "demo" is "demo" here
  ssl sslcertck sslcertfile "{petrel.ca}"
  folder INBOX, "Projects/Alpha"
  mda "{mda} {box}"
  {options}
""")
        rc.chmod(0o600)
        r = clientlib.run(["fetchmail", "-f", str(rc), "-v", "--nodetach",
                           "--pidfile", str(workdir / "fm.pid")],
                          env={"HOME": str(workdir)}, check=False, timeout=120)
        # 0: mail fetched; 1: no mail.
        assert r.returncode in (0, 1), r.out + r.err
        return r

    r = poll("keep")
    assert r.returncode == 0
    got = delivered(box)
    unseen = {n: raw for f in ("INBOX", seed.ALPHA) for n, fl, _d, raw in seed.SEED[f]
              if r"\Seen" not in fl}
    assert set(got) == set(unseen)
    for n, raw in unseen.items():
        assert clientlib.same_message(got[n], raw), n
    with petrel.checker() as c:
        s = c.state()
    for n in unseen:
        folder = seed.all_names()[n]
        assert r"\Seen" in s[folder][n], n
    # Nothing else changed on the server.
    assert set(s["INBOX"]) == {n for n, *_ in seed.SEED["INBOX"]}

    r = poll("keep")
    assert r.returncode == 1, r.out  # "no mail"
    assert len(os.listdir(box)) == len(unseen)

    with petrel.checker() as c:
        c.append("INBOX", clientlib.new_message("late", "Arrived late"))
    for fn in os.listdir(box):
        os.unlink(box / fn)
    r = poll("fetchall no keep")
    got = delivered(box)
    assert set(got) == {n for f in ("INBOX", seed.ALPHA) for n, *_ in seed.SEED[f]} | {"late"}
    for f in ("INBOX", seed.ALPHA):
        for n, _fl, _d, raw in seed.SEED[f]:
            assert clientlib.same_message(got[n], raw), n
    with petrel.checker() as c:
        assert c.names("INBOX") == set()
        assert c.names(seed.ALPHA) == set()
        assert c.names(seed.BETA) == {"b01-plan"}
