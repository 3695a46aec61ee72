"""Shared fixtures for protocol tests: a real `petrel serve` on loopback
ports of its own, with a fresh data directory, and a small raw IMAP client
that lets tests assert exact responses."""

import os
import re
import signal
import socket
import ssl
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PETREL_BIN = os.environ.get("PETREL_BIN", os.path.join(ROOT, "build", "petrel"))


def tmp_files(data_dir):
    """Files left in data_dir/tmp/ and in its subdirectories, where
    messages are written before they are linked into place."""
    found = []
    for root, dirs, files in os.walk(os.path.join(data_dir, "tmp")):
        found += [os.path.join(root, f) for f in files]
    return found


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """A running petrel serve. Stopped with SIGTERM; a non-zero exit (crash,
    sanitizer report) fails the test that owns it."""

    def __init__(self, tmp_path, extra_config="", users=(("demo", "demo"),)):
        self.dir = tmp_path
        self.data_dir = tmp_path / "var"
        self.imap_port = free_port()
        self.imaps_port = free_port()
        self.lmtp_port = free_port()
        self.config_path = tmp_path / "petrel.conf"
        self.config_path.write_text(
            f"data_dir = {self.data_dir}\n"
            "[server]\nworkers = 2\nlog_level = debug\n"
            f"[imap]\nlisten = 127.0.0.1:{self.imap_port}\n"
            f"[imaps]\nlisten = 127.0.0.1:{self.imaps_port}\n"
            f"[lmtp]\nlisten = 127.0.0.1:{self.lmtp_port}\n"
            # A cheap Argon2id cost: the tests log in hundreds of times
            # and measure nothing about hashing.
            "[auth]\nfail_delay_ms = 50\npassword_hash_ops = 1\npassword_hash_memory = 64K\n"
            + extra_config
        )
        self.log_path = tmp_path / "petrel.log"
        for name, password in users:
            self.add_user(name, password)
        self.proc = None

    def cli(self, *args, input=None, check=True):
        r = subprocess.run([PETREL_BIN, "-c", str(self.config_path), *args],
                           input=input, capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError(f"petrel {' '.join(args)} failed: {r.returncode} {r.stderr}")
        return r

    def add_user(self, name, password):
        self.cli("user", "add", name, input=password + "\n")

    def new_ports(self):
        """Another process took a port between free_port() and petrel's
        bind (the machine runs other tests and servers): take new ones."""
        text = self.config_path.read_text()
        for attr in ("imap_port", "imaps_port", "lmtp_port"):
            old, new = getattr(self, attr), free_port()
            text = text.replace(f"127.0.0.1:{old}\n", f"127.0.0.1:{new}\n")
            setattr(self, attr, new)
        self.config_path.write_text(text)

    def start(self, attempts=5):
        log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([PETREL_BIN, "-c", str(self.config_path), "serve"],
                                     stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                if attempts > 1 and "address already in use" in self.log_text()[log_start:]:
                    self.log.close()
                    self.new_ports()
                    return self.start(attempts - 1)
                raise AssertionError(f"petrel exited at start: {self.log_text()}")
            # Ready once petrel itself says so: a port that accepts could
            # belong to another process on a busy machine.
            if " event=started " in self.log_text()[log_start:]:
                return self
            time.sleep(0.05)
        raise AssertionError("petrel did not start listening")

    def stop(self, timeout=30):
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            raise AssertionError("petrel did not stop within %ds of SIGTERM" % timeout)
        finally:
            self.log.close()
        self.proc = None
        return rc

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()
        self.proc = None

    def diagnosis(self):
        """For a failure message: the end of the server's log, the state of
        each of its threads, and their stacks where gdb is installed."""
        parts = ["--- server log (end) ---", self.log_text()[-6000:]]
        if self.proc is None or self.proc.poll() is not None:
            parts.append("--- server not running (exit %r) ---"
                         % (self.proc.returncode if self.proc else None))
            return "\n".join(parts)
        pid = self.proc.pid
        parts.append("--- threads (name state wchan) ---")
        for tid in sorted(os.listdir(f"/proc/{pid}/task"), key=int):
            try:
                with open(f"/proc/{pid}/task/{tid}/stat") as f:
                    stat = f.read()
                with open(f"/proc/{pid}/task/{tid}/wchan") as f:
                    wchan = f.read()
            except OSError:
                continue
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            state = stat[stat.rindex(")") + 2]
            parts.append(f"{tid} {name} {state} {wchan}")
        try:
            r = subprocess.run(["gdb", "-p", str(pid), "-batch", "-nx",
                                "-ex", "thread apply all bt"],
                               capture_output=True, text=True, timeout=120)
            frames = [line[:200] for line in r.stdout.splitlines()
                      if line.startswith(("Thread ", "#"))]
            parts += ["--- stacks ---", "\n".join(frames)[:40000]]
        except (OSError, subprocess.TimeoutExpired) as e:
            parts.append(f"--- no stacks: {e} ---")
        return "\n".join(parts)

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def connect(self, tls=False, greeting=True):
        return Client(self, tls=tls, greeting=greeting)

    def login(self, user="demo", password="demo", tls=False):
        c = self.connect(tls=tls)
        c.ok(f"LOGIN {user} {password}")
        return c


class Client:
    """A raw IMAP client: sends exactly what the test says and returns the
    lines the server answered, so tests can assert exact responses."""

    def __init__(self, server, tls=False, greeting=True, port=None, rcvbuf=None):
        self.server = server
        if port is None:
            port = server.imaps_port if tls else server.imap_port
        if rcvbuf is None:
            sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        else:
            # A small receive window and segments, announced in the
            # handshake: the server's socket then takes little output
            # ahead of what the client reads.
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
            sock.settimeout(20)
            sock.connect(("127.0.0.1", port))
        if tls:
            sock = self.tls_context().wrap_socket(sock, server_hostname="localhost")
        self.sock = sock
        self.buf = b""
        self.tagn = 0
        self.greeting = self.readline() if greeting else None

    @staticmethod
    def tls_context():
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def starttls(self):
        self.sock = self.tls_context().wrap_socket(self.sock, server_hostname="localhost")

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def recv(self):
        """The next bytes from the server; a read that times out fails with
        what the server was doing (its log and every thread's stack), since
        a hang seen once in CI is otherwise not seen again."""
        try:
            return self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            raise TimeoutError("no answer from the server in %ss; pending: %r\n%s"
                               % (self.sock.gettimeout(), self.buf[-200:],
                                  self.server.diagnosis() if self.server else "")) from None

    def readline(self):
        while b"\r\n" not in self.buf:
            chunk = self.recv()
            if not chunk:
                raise EOFError("connection closed; pending: %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        # A literal at the end of a line: read its bytes and the rest.
        m = re.search(rb"\{(\d+)\}$", line)
        while m:
            n = int(m.group(1))
            while len(self.buf) < n:
                chunk = self.recv()
                if not chunk:
                    raise EOFError("connection closed inside a literal")
                self.buf += chunk
            lit, self.buf = self.buf[:n], self.buf[n:]
            rest = self.readline_raw()
            line = line + b"\r\n" + lit + rest
            m = re.search(rb"\{(\d+)\}$", rest)
        return line.decode("utf-8", errors="surrogateescape")

    def readline_raw(self):
        while b"\r\n" not in self.buf:
            chunk = self.recv()
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def next_tag(self):
        self.tagn += 1
        return "a%03d" % self.tagn

    def command(self, text, tag=None):
        """Sends one command; returns (untagged lines, tagged line)."""
        tag = tag or self.next_tag()
        self.send(f"{tag} {text}\r\n")
        return self.read_until_tagged(tag)

    def read_until_tagged(self, tag):
        untagged = []
        while True:
            line = self.readline()
            if line.startswith(tag + " "):
                return untagged, line
            untagged.append(line)

    def ok(self, text):
        untagged, tagged = self.command(text)
        assert re.match(r"^\S+ OK", tagged), f"{text!r} -> {tagged!r}"
        return untagged

    def no(self, text, code=None):
        untagged, tagged = self.command(text)
        assert re.match(r"^\S+ NO", tagged), f"{text!r} -> {tagged!r}"
        if code:
            assert f"[{code}" in tagged, f"{text!r} -> {tagged!r}"
        return tagged

    def bad(self, text):
        untagged, tagged = self.command(text)
        assert re.match(r"^\S+ BAD", tagged), f"{text!r} -> {tagged!r}"
        return tagged

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


@pytest.fixture
def server(tmp_path):
    """A started server with the user demo/demo; stopped after the test,
    which fails if the server did not exit cleanly."""
    s = Server(tmp_path).start()
    yield s
    rc = s.stop()
    assert rc == 0, f"petrel exited with {rc}:\n{s.log_text()[-5000:]}"


@pytest.fixture(scope="module")
def module_server(tmp_path_factory):
    """One started server (user demo/demo) shared by a whole test module;
    stopped after its last test, failing it if the server did not exit
    cleanly."""
    s = Server(tmp_path_factory.mktemp("petrel")).start()
    yield s
    rc = s.stop()
    assert rc == 0, f"petrel exited with {rc}:\n{s.log_text()[-5000:]}"


@pytest.fixture
def make_server(tmp_path):
    """Factory for servers with extra configuration."""
    made = []

    def make(extra_config="", users=(("demo", "demo"),), start=True):
        d = tmp_path / f"s{len(made)}"
        d.mkdir()
        s = Server(d, extra_config, users)
        made.append(s)
        return s.start() if start else s

    yield make
    for s in made:
        rc = s.stop()
        assert rc == 0, f"petrel exited with {rc}:\n{s.log_text()[-5000:]}"
