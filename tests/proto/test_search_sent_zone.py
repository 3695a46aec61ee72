"""SEARCH SENTBEFORE/SENTON/SENTSINCE compare the Date: header's day as the
sender wrote it (RFC 9051 §6.4.4, "disregarding time and timezone"): the
store keeps the header's zone beside its instant from delivery on, and
messages stored before it did (no zone kept) get the same answers."""

import glob
import os
import sqlite3
import subprocess

from conftest import PETREL_BIN
from test_select_append import append


def message(date, subject):
    return (f"From: a@example.org\r\nTo: demo@example.org\r\nSubject: {subject}\r\n"
            f"Date: {date}\r\nMessage-ID: <{subject}@example.org>\r\n\r\nbody\r\n")


# Each is sent on one calendar day in its own zone and falls on another in
# UTC, on either side of midnight.
MESSAGES = [
    ("Sun, 31 Dec 2023 23:30:00 -0500", "newyork"),   # 1 Jan 2024 04:30 UTC
    ("Mon, 1 Jan 2024 00:15:00 +0530", "kolkata"),    # 31 Dec 2023 18:45 UTC
    ("Mon, 1 Jan 2024 12:00:00 +0000", "london"),
    ("Tue, 2 Jan 2024 00:59:59 +0100", "paris"),      # 1 Jan 2024 23:59:59 UTC
    ("Mon, 1 Jan 2024 23:00:00 -1200", "bakerisland"),  # 2 Jan 2024 11:00 UTC
]

# In the order of MESSAGES (sequence numbers 1..5).
EXPECTED = [
    ("SENTON 31-Dec-2023", "* SEARCH 1"),
    ("SENTON 1-Jan-2024", "* SEARCH 2 3 5"),
    ("SENTON 2-Jan-2024", "* SEARCH 4"),
    ("SENTBEFORE 1-Jan-2024", "* SEARCH 1"),
    ("SENTSINCE 2-Jan-2024", "* SEARCH 4"),
    ("SENTSINCE 1-Jan-2024 SENTBEFORE 2-Jan-2024", "* SEARCH 2 3 5"),
    ("NOT SENTON 1-Jan-2024", "* SEARCH 1 4"),
    # ON compares the internal date (here: the time of delivery), never
    # the Date: header.
    ("ON 1-Jan-2024", "* SEARCH"),
]


def deliver(server, data):
    r = subprocess.run([PETREL_BIN, "-c", str(server.config_path), "deliver", "-u", "demo"],
                       input=data.encode(), capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr


def fill(server):
    """The first three arrive through petrel deliver (the LMTP path), the
    others through APPEND: every way in keeps the zone."""
    for date, subject in MESSAGES[:3]:
        deliver(server, message(date, subject))
    c = server.login()
    for date, subject in MESSAGES[3:]:
        untagged, tagged = append(c, "INBOX", message(date, subject))
        assert " OK " in tagged, tagged
    c.ok("SELECT INBOX")
    return c


def check(c):
    for key, answer in EXPECTED:
        assert c.ok(f"SEARCH {key}") == [answer], key
    # SORT (DATE) compares instants, not days.
    assert c.ok("SORT (DATE) UTF-8 ALL") == ["* SORT 2 1 3 4 5"]


def test_senton_uses_the_senders_zone(server):
    check(fill(server))


def test_messages_stored_without_a_zone_get_the_same_days(server):
    fill(server).close()
    assert server.stop() == 0
    # As a store written before the zone was kept: the column is NULL.
    (db,) = glob.glob(os.path.join(str(server.data_dir), "users", "*", "demo", "mail.db"))
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM emails WHERE sent_tz IS NOT NULL").fetchone()[0] == 5
    con.execute("UPDATE emails SET sent_tz = NULL")
    con.commit()
    con.close()
    server.start()
    c = server.login()
    c.ok("SELECT INBOX")
    check(c)
