"""Foundation behaviour over real sockets: greeting, capabilities, login,
SASL, STARTTLS, ID, ENABLE, and the bad input every server meets."""

import base64
import re
import socket
import ssl
import threading
import time

import pytest

from conftest import Client
from test_select_append import append


def caps_of(line):
    m = re.search(r"CAPABILITY ([^\]]*)", line)
    assert m, line
    return m.group(1).split()


def test_greeting_lists_capabilities(server):
    c = server.connect()
    assert c.greeting.startswith("* OK [CAPABILITY IMAP4rev1 ")
    caps = caps_of(c.greeting)
    assert "STARTTLS" in caps and "AUTH=PLAIN" in caps and "SASL-IR" in caps
    assert "LOGINDISABLED" not in caps  # loopback is trusted


def test_capability_differs_before_and_after_login(server):
    c = server.connect()
    untagged = c.ok("CAPABILITY")
    assert len(untagged) == 1
    before = untagged[0].split()[2:]
    untagged, tagged = c.command("LOGIN demo demo")
    assert re.match(r"a\d+ OK \[CAPABILITY IMAP4rev1 .*\] Logged in$", tagged)
    after = c.ok("CAPABILITY")[0].split()[2:]
    assert "AUTH=PLAIN" in before and "AUTH=PLAIN" not in after
    assert "STARTTLS" in before and "STARTTLS" not in after
    assert after == caps_of(tagged)


def test_noop_and_logout(server):
    c = server.connect()
    assert c.command("NOOP")[1].endswith("OK NOOP completed")
    untagged, tagged = c.command("LOGOUT")
    assert untagged == ["* BYE Logging out"]
    assert tagged.endswith(" OK LOGOUT completed")
    assert c.sock.recv(10) == b""


def test_commands_sent_before_the_client_closes_its_side_are_all_answered(server):
    """A client may send its last commands and close its side at once
    (a script piping into a socket). A STORE waits for its commit to be
    durable while the end of the stream arrives behind the commands queued
    after it; every one of them is still answered, in order, and then the
    server closes."""
    c = server.login()
    append(c, "INBOX")
    c.ok("SELECT INBOX")
    c.send("b1 STORE 1 +FLAGS (\\Flagged)\r\nb2 NOOP\r\nb3 FETCH 1 (FLAGS)\r\n")
    c.sock.shutdown(socket.SHUT_WR)
    assert c.read_until_tagged("b1") == (["* 1 FETCH (FLAGS (\\Flagged \\Recent))"],
                                         "b1 OK STORE completed")
    assert c.read_until_tagged("b2") == ([], "b2 OK NOOP completed")
    assert c.read_until_tagged("b3") == (["* 1 FETCH (FLAGS (\\Flagged \\Recent))"],
                                         "b3 OK FETCH completed")
    assert c.buf == b"" and c.sock.recv(100) == b""


def test_command_names_are_case_insensitive(server):
    c = server.connect()
    c.ok("noop")
    c.ok("CaPaBiLiTy")


def test_login_wrong_password_and_unknown_user_look_the_same(server):
    c = server.connect()
    wrong = c.no("LOGIN demo nope", "AUTHENTICATIONFAILED")
    unknown = c.no("LOGIN nosuchuser nope", "AUTHENTICATIONFAILED")
    assert wrong.split(" ", 1)[1] == unknown.split(" ", 1)[1]
    c.ok("LOGIN demo demo")


def test_user_changes_made_while_running_apply_to_the_next_login(server):
    """The daemon keeps its user-database handles open between logins;
    passwd, add and del by the command line still apply at once."""
    for _ in range(3):  # more logins than hashing threads: handles reused
        server.login().ok("LOGOUT")
    server.cli("user", "passwd", "demo", input="changed\n")
    server.connect().no("LOGIN demo demo", "AUTHENTICATIONFAILED")
    server.login(password="changed").ok("LOGOUT")
    server.add_user("newcomer", "fresh")
    server.login(user="newcomer", password="fresh").ok("LOGOUT")
    server.cli("user", "del", "newcomer")
    server.connect().no("LOGIN newcomer fresh", "AUTHENTICATIONFAILED")


def test_login_with_quoted_and_literal_arguments(server):
    c = server.connect()
    c.send('a1 LOGIN "demo" {4}\r\n')
    assert c.readline().startswith("+ ")
    c.send("demo\r\n")
    assert c.read_until_tagged("a1")[1].startswith("a1 OK")


def test_login_twice_is_bad(server):
    c = server.login()
    c.bad("LOGIN demo demo")


def test_authenticated_commands_need_login(server):
    c = server.connect()
    t = c.bad("ENABLE CONDSTORE")
    assert "before login" in t


def test_authenticate_plain_with_initial_response(server):
    c = server.connect()
    ir = base64.b64encode(b"\0demo\0demo").decode()
    untagged, tagged = c.command(f"AUTHENTICATE PLAIN {ir}")
    assert re.match(r"a\d+ OK \[CAPABILITY ", tagged)


def test_authenticate_plain_with_continuation(server):
    c = server.connect()
    c.send("a1 AUTHENTICATE PLAIN\r\n")
    assert c.readline() == "+ "
    c.send(base64.b64encode(b"\0demo\0wrong").decode() + "\r\n")
    assert c.read_until_tagged("a1")[1].startswith("a1 NO [AUTHENTICATIONFAILED]")


def test_authenticate_login_mechanism(server):
    c = server.connect()
    c.send("a1 AUTHENTICATE LOGIN\r\n")
    assert base64.b64decode(c.readline()[2:]) == b"Username:"
    c.send(base64.b64encode(b"demo").decode() + "\r\n")
    assert base64.b64decode(c.readline()[2:]) == b"Password:"
    c.send(base64.b64encode(b"demo").decode() + "\r\n")
    assert c.read_until_tagged("a1")[1].startswith("a1 OK")


def test_authenticate_cancel_and_bad_base64(server):
    c = server.connect()
    c.send("a1 AUTHENTICATE PLAIN\r\n")
    assert c.readline() == "+ "
    c.send("*\r\n")
    assert c.read_until_tagged("a1")[1] == "a1 BAD Authentication cancelled"
    c.send("a2 AUTHENTICATE PLAIN\r\n")
    c.readline()
    c.send("!!!notbase64\r\n")
    assert c.read_until_tagged("a2")[1].startswith("a2 BAD")
    c.no("AUTHENTICATE CRAM-MD5", "CANNOT")
    c.ok("LOGIN demo demo")


def test_starttls_then_login(server):
    c = server.connect()
    assert c.command("STARTTLS")[1].endswith("OK Begin TLS negotiation now")
    c.starttls()
    caps = c.ok("CAPABILITY")[0]
    assert "STARTTLS" not in caps
    c.bad("STARTTLS")
    c.ok("LOGIN demo demo")


def test_starttls_discards_pipelined_plaintext(server):
    c = server.connect()
    # The injected NOOP must not be executed after the handshake.
    c.send("a1 STARTTLS\r\na2 NOOP\r\n")
    assert c.readline() == "a1 OK Begin TLS negotiation now"
    c.starttls()
    c.send("a3 NOOP\r\n")
    assert c.readline() == "a3 OK NOOP completed"


def test_implicit_tls_port(server):
    c = server.connect(tls=True)
    assert c.greeting.startswith("* OK [CAPABILITY")
    assert "STARTTLS" not in c.greeting
    assert c.sock.version() in ("TLSv1.2", "TLSv1.3")
    c.ok("LOGIN demo demo")


def test_id_is_answered_and_logged(server):
    c = server.connect()
    untagged = c.ok('ID ("name" "TestClient" "version" "1.2")')
    assert untagged == ['* ID ("name" "Petrel" "version" "0.1.0")']
    c.ok("ID NIL")
    c.bad('ID ("name")')
    c.bad("ID foo")
    c.ok("LOGIN demo demo")
    c.ok("LOGOUT")
    time.sleep(0.2)
    assert re.search(r"event=login user=demo .*client=TestClient/1.2", server.log_text())


def test_enable_lists_only_known_extensions(server):
    c = server.login()
    assert c.ok("ENABLE X-UNKNOWN") == ["* ENABLED"]
    c.bad("ENABLE")


def test_unknown_command_and_uid_misuse(server):
    c = server.connect()
    assert c.bad("FROBNICATE") .endswith("Unknown command FROBNICATE")
    c.bad("UID NOOP")


def test_untagged_bad_without_tag(server):
    c = server.connect()
    c.send("\r\n")
    assert c.readline().startswith("* BAD")
    c.send("+tag NOOP\r\n")
    assert c.readline().startswith("* BAD")
    c.ok("NOOP")


# --- Bad input: each has a defined answer and the server keeps serving ---

def assert_still_serving(server):
    c = server.login()
    c.ok("NOOP")
    c.close()


def test_megabyte_line_without_crlf(server):
    c = server.connect()
    c.send(b"a1 NOOP " + b"x" * (1024 * 1024))
    line = c.readline()
    assert line.startswith("a1 BAD") or line.startswith("* BAD")
    c.send(b"\r\na2 NOOP\r\n")
    assert c.read_until_tagged("a2")[1] == "a2 OK NOOP completed"
    assert_still_serving(server)


@pytest.mark.parametrize("size", ["4294967296", "99999999999999999999"])
def test_huge_sync_literal_is_refused_before_data(server, size):
    c = server.connect()
    c.send(f"a1 LOGIN {{{size}}}\r\n")
    line = c.readline()
    assert re.match(r"a1 (NO|BAD) ", line), line
    c.ok("NOOP")
    c.login_after = c.ok("LOGIN demo demo")


@pytest.mark.parametrize("size", ["4294967296", "99999999999999999999"])
def test_huge_nonsync_literal_ends_connection(server, size):
    c = server.connect()
    c.send(f"a1 LOGIN {{{size}+}}\r\nxxxx")
    line = c.readline()
    assert line.startswith("* BYE") or line.startswith("a1 BAD") or line.startswith("a1 NO"), line
    assert_still_serving(server)


def test_unterminated_quoted_string(server):
    c = server.connect()
    c.send('a1 LOGIN "demo demo\r\n')
    assert c.readline().startswith("a1 BAD")
    c.ok("LOGIN demo demo")


def test_nul_bytes(server):
    c = server.connect()
    c.send(b"a1 LOGIN \"de\x00mo\" demo\r\n")
    assert c.readline().startswith("a1 BAD")
    c.send(b"a2 NO\x00OP\r\n")
    assert c.readline().startswith("a2 BAD")
    c.ok("NOOP")


def test_thousand_nested_parentheses(server):
    c = server.login()
    c.send("a1 ID " + "(" * 1000 + ")" * 1000 + "\r\n")
    assert c.readline().startswith("a1 BAD")
    c.ok("NOOP")


def test_ten_thousand_pipelined_noops(server):
    c = server.login()
    c.send("".join(f"p{i} NOOP\r\n" for i in range(10000)))
    for i in range(10000):
        assert c.readline() == f"p{i} OK NOOP completed"
    c.ok("NOOP")


def test_binary_garbage_before_login(server):
    c = server.connect()
    import random
    rnd = random.Random(7)
    garbage = bytes(rnd.randrange(256) for _ in range(20000)).replace(b"{", b"[")
    c.send(garbage + b"\r\n")
    c.sock.settimeout(5)
    # Whatever was answered, the server is alive and serves others.
    assert_still_serving(server)


def test_tls_handshake_on_plain_port(server):
    raw = socket.create_connection(("127.0.0.1", server.imap_port), timeout=10)
    raw.recv(1000)  # greeting
    ctx = Client.tls_context()
    with pytest.raises((ssl.SSLError, OSError)):
        ctx.wrap_socket(raw, server_hostname="localhost")
    assert_still_serving(server)


def test_plain_text_on_tls_port(server):
    raw = socket.create_connection(("127.0.0.1", server.imaps_port), timeout=10)
    raw.sendall(b"a1 LOGIN demo demo\r\n")
    # The TLS layer rejects the bytes and the connection is closed (a TLS
    # alert, then EOF or a reset); no IMAP answer is ever given.
    data = b""
    try:
        while True:
            chunk = raw.recv(1000)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    assert b"OK" not in data and b"a1" not in data
    assert_still_serving(server)


def test_slow_client_is_disconnected_before_login(make_server):
    # Each byte restarts an idle timer, so only an absolute deadline ends
    # this: the drip would take 30 s, the deadline is 2 s.
    s = make_server("[timeouts]\npreauth = 2s\n")
    c = s.connect()
    c.sock.settimeout(30)
    line = b"a1 LOGIN " + b"x" * 111
    for ch in line:
        try:
            c.send(bytes([ch]))
        except OSError:
            break
        time.sleep(0.25)
        c.sock.setblocking(False)
        try:
            if c.sock.recv(1, socket.MSG_PEEK):
                break
        except BlockingIOError:
            pass
        finally:
            c.sock.setblocking(True)
            c.sock.settimeout(30)
    assert c.readline().startswith("* BYE"), "no BYE before the drip ended"
    assert_still_serving(s)


def test_connection_limit_per_address(make_server):
    s = make_server("[server]\nmax_connections_per_address = 20\n")
    conns = [s.connect() for _ in range(20)]
    extra = Client(s, greeting=False)
    assert extra.readline().startswith("* BYE [UNAVAILABLE]")
    for c in conns:
        c.close()
    time.sleep(0.3)
    assert_still_serving(s)


def test_five_hundred_connections_at_once(make_server):
    s = make_server("[server]\nmax_connections_per_address = 400\n")
    socks, refused = [], 0
    for _ in range(500):
        sk = socket.create_connection(("127.0.0.1", s.imap_port), timeout=20)
        socks.append(sk)
    greeted = 0
    for sk in socks:
        f = sk.makefile("rb")
        line = f.readline()
        if line.startswith(b"* OK"):
            greeted += 1
        elif line.startswith(b"* BYE"):
            refused += 1
    assert greeted == 400 and refused == 100
    for sk in socks:
        sk.close()


def test_sigterm_says_bye(server):
    c = server.login()
    server.proc.send_signal(15)
    assert c.readline().startswith("* BYE")


def test_logout_after_starttls_is_answered(server):
    # The goodbye must survive the TLS layer's buffering before the close.
    c = server.connect()
    c.command("STARTTLS")
    c.starttls()
    c.ok("LOGIN demo demo")
    untagged, tagged = c.command("LOGOUT")
    assert untagged == ["* BYE Logging out"] and tagged.endswith("OK LOGOUT completed")


def _logout(c):
    untagged, tagged = c.command("LOGOUT")
    assert untagged == ["* BYE Logging out"] and tagged.endswith("OK LOGOUT completed")


def _strict_tls(sock):
    """Wraps sock so that a close without TLS close_notify raises."""
    ctx = Client.tls_context()
    ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
    return ctx.wrap_socket(sock, server_hostname="localhost", suppress_ragged_eofs=False)


def test_bytes_sent_after_logout_are_not_answered_with_a_reset(server):
    # A client that sends after LOGOUT's OK (node-imap ends its TLS session
    # then) must not get a reset, which it reports as an error.
    c = server.connect()
    _logout(c)
    assert c.sock.recv(10) == b""
    c.sock.sendall(b"a002 NOOP\r\n")
    time.sleep(0.2)  # time for a reset to come back, were one sent
    c.sock.sendall(b"a003 NOOP\r\n")
    assert c.sock.recv(10) == b""


def test_client_staying_after_logout_is_let_go(server):
    # The server reads a client's late bytes only for a short while: one
    # that never closes gets a reset in the end instead of holding the slot.
    c = server.connect()
    _logout(c)
    assert c.sock.recv(10) == b""
    deadline = time.monotonic() + 30
    with pytest.raises((BrokenPipeError, ConnectionResetError)):
        while time.monotonic() < deadline:
            c.sock.sendall(b"x")
            time.sleep(0.1)


def test_logout_over_tls_ends_with_close_notify(server):
    c = Client(server, port=server.imaps_port, greeting=False)
    c.sock = _strict_tls(c.sock)
    assert c.readline().startswith("* OK")
    _logout(c)
    assert c.sock.recv(10) == b""


def test_logout_after_starttls_ends_with_close_notify(server):
    c = server.connect()
    c.command("STARTTLS")
    c.sock = _strict_tls(c.sock)
    _logout(c)
    assert c.sock.recv(10) == b""


def test_second_server_on_the_same_port_is_refused(server, tmp_path):
    from conftest import PETREL_BIN
    import subprocess
    conf = tmp_path / "other.conf"
    conf.write_text(f"data_dir = {tmp_path / 'other'}\n[imap]\nlisten = 127.0.0.1:{server.imap_port}\n"
                    "[imaps]\nlisten =\n[lmtp]\nlisten =\n")
    r = subprocess.run([PETREL_BIN, "-c", str(conf), "serve"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0 and "already in use" in r.stderr
