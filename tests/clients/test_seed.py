"""The seeded account itself: every folder, message, flag and byte is there as
seed.py appended it. The scenarios' checks rely on this."""

import clientlib
import seed


def test_seeded_account(petrel):
    with petrel.checker() as c:
        folders = c.folders()
        for f in seed.SEED:
            assert f in folders
        assert set(seed.FOLDERS) <= set(c.subscribed())
        assert {f: s for f, s in c.state().items() if f in seed.SEED} == clientlib.seeded_state()
        for folder, msgs in seed.SEED.items():
            for name, _flags, _date, raw in msgs:
                assert c.raw(folder, name) == raw, (folder, name)
        big = c.messages("INBOX")["m06-big"]["size"]
        assert big > 2_000_000
        assert c.messages("INBOX")["m04-rfc2047"]["subject"] == seed.SUBJECT_2047_TEXT
