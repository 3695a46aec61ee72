"""IDLE (RFC 2177): changes made by other sessions reach an idling client at
once, without a poll."""

import socket
import time

from test_select_append import append


def read_line_within(c, seconds):
    c.sock.settimeout(seconds)
    try:
        return c.readline()
    finally:
        c.sock.settimeout(20)


def test_idle_gets_exists_from_another_session(server):
    a = server.login()
    a.ok("SELECT INBOX")
    a.send("i1 IDLE\r\n")
    assert a.readline() == "+ idling"
    b = server.login()
    append(b, "INBOX")
    # Pushed by the notification hub, not found by a poll: it arrives
    # while the client only waits.
    assert read_line_within(a, 10) == "* 1 EXISTS"
    assert read_line_within(a, 5) == "* 1 RECENT"
    a.send("DONE\r\n")
    assert a.readline() == "i1 OK IDLE terminated"


def test_idle_gets_expunge_and_flags(server):
    b = server.login()
    append(b, "INBOX")
    append(b, "INBOX", flags="(\\Deleted)")
    a = server.login()
    a.ok("SELECT INBOX")
    a.send("i1 IDLE\r\n")
    assert a.readline() == "+ idling"
    b.ok("SELECT INBOX")
    b.ok("EXPUNGE")
    assert read_line_within(a, 5) == "* 2 EXPUNGE"
    a.send("DONE\r\n")
    assert a.readline() == "i1 OK IDLE terminated"


def test_idle_needs_done(server):
    a = server.login()
    a.send("i1 IDLE\r\n")
    assert a.readline() == "+ idling"
    a.send("NOOP\r\n")
    assert a.readline().startswith("i1 BAD")
    a.ok("NOOP")


def test_idle_keepalive(make_server):
    s = make_server("[timeouts]\nidle_keepalive = 1s\n")
    a = s.login()
    a.send("i1 IDLE\r\n")
    assert a.readline() == "+ idling"
    assert read_line_within(a, 5) == "* OK Still here"
    a.send("DONE\r\n")
    assert a.readline() == "i1 OK IDLE terminated"
