"""Debian's INN (inn2) as a real upstream news server for the news feed
tests: innd with its own inn.conf, spool, history and overview in a
directory of its own, listening on a loopback port the test picks. Nothing
of the system's INN is used but the programs: INNCONF points innd, ctlinnd
and nnrpd at our inn.conf, whose every path lies in that directory; the
system's /etc/news and /var/spool/news are never read or written.

    from inn import Inn
    inn = Inn().start()
    inn.newgroup("comp.lang.c")
    inn.post(article_bytes)          # nntplib, authenticated
    ... NNTP on 127.0.0.1:inn.port ...
    inn.stop()

How it runs: innd must run as its configured user (`runasuser`) and checks
this at start-up. As root we run it as Debian's `news` user, so the
directory is made with mkdtemp in /tmp (pytest keeps /tmp/pytest-of-<user>
at mode 0700, which `news` could not traverse) and handed to `news`; as any
other user, INN runs as that user. Reader connections (ours and nntplib's)
are handed by innd to nnrpd, as on a real server: anonymous readers may
read, the user `petrel` (AUTHINFO USER/PASS, checked by INN's ckpasswd)
may also post. With tls=True nnrpd offers STARTTLS (RFC 4642) with a
self-signed certificate for "localhost" made here (cert_path).

innd reports its own errors through syslog only; start() raises with
innd's standard output when it does not come up."""

import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import warnings

from conftest import free_port

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import nntplib  # noqa: E402  (in the 3.11 standard library; gone in 3.13)

INN_BIN = "/usr/lib/news/bin"
INNCONF_NAME = "inn.conf"
USER = "petrel"
PASSWORD = "news-secret"


def inn_available():
    return os.path.exists(os.path.join(INN_BIN, "innd"))


class Inn:
    def __init__(self, port=None, tls=False):
        self.port = port or free_port()
        self.tls = tls
        self.dir = tempfile.mkdtemp(prefix="petrel-inn-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        if os.geteuid() == 0:
            self.user, self.group_name = "news", "news"
        else:
            self.user = pwd.getpwuid(os.geteuid()).pw_name
            self.group_name = grp.getgrgid(os.getegid()).gr_name
        self.uid = pwd.getpwnam(self.user).pw_uid
        self.gid = grp.getgrnam(self.group_name).gr_gid
        self.proc = None
        self.cert_path = os.path.join(self.dir, "etc", "cert.pem")
        self._write_tree()

    # ---- configuration ----

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def _inn_conf(self):
        d = self.dir
        lines = {
            # innconfval refuses a host name without a domain (as in
            # containers): give it one.
            "domain": "petrel.test",
            "pathhost": "inn.petrel.test",
            "organization": '"Petrel tests"',
            "mta": '"/bin/true %s"',
            "runasuser": self.user,
            "runasgroup": self.group_name,
            "pathnews": "/usr/lib/news",
            "pathbin": INN_BIN,
            "pathcontrol": "/usr/lib/news/bin/control",
            "pathfilter": f"{d}/filter",
            "pathetc": f"{d}/etc",
            "pathdb": f"{d}/db",
            "pathrun": f"{d}/run",
            "pathlog": f"{d}/log",
            "pathhttp": f"{d}/http",
            "pathspool": f"{d}/spool",
            "patharticles": f"{d}/spool/articles",
            "pathoverview": f"{d}/spool/overview",
            "pathincoming": f"{d}/spool/incoming",
            "pathtmp": f"{d}/spool/incoming/tmp",
            "pathoutgoing": f"{d}/spool/outgoing",
            "patharchive": f"{d}/spool/archive",
            "hismethod": "hisv6",
            "ovmethod": "tradindexed",
            "enableoverview": "true",
            "port": str(self.port),
            "bindaddress": "127.0.0.1",
            # Tests post articles dated in the past (expiry).
            "artcutoff": "0",
            # No Perl/Python filters, no external helpers.
            "pgpverify": "false",
            "doinnwatch": "false",
            "nnrpdcheckart": "true",
            "readerswhenstopped": "true",
            # nnrpd turns readers away above this load average; test
            # machines run builds beside us.
            "nnrpdloadlimit": "0",
        }
        if self.tls:
            lines["tlscertfile"] = self.cert_path
            lines["tlskeyfile"] = self.path("etc", "key.pem")
            lines["tlscafile"] = self.cert_path
        return "".join(f"{k}: {v}\n" for k, v in lines.items())

    def _readers_conf(self):
        return (
            'auth "local" {\n'
            '    hosts: "127.0.0.1, ::1, localhost, stdin"\n'
            f'    auth: "ckpasswd -f {self.dir}/etc/passwd"\n'
            '    default: "<anonymous>"\n'
            "}\n"
            'access "readers" {\n'
            '    users: "<anonymous>"\n'
            '    newsgroups: "*"\n'
            "    access: R\n"
            "}\n"
            'access "posters" {\n'
            f'    users: "{USER}"\n'
            '    newsgroups: "*"\n'
            "    access: RPA\n"
            "}\n")

    def _write_tree(self):
        for sub in ("etc", "db", "run", "log", "http", "filter", "spool/articles",
                    "spool/overview", "spool/incoming/tmp", "spool/outgoing",
                    "spool/archive"):
            os.makedirs(self.path(sub), exist_ok=True)
        files = {
            "etc/inn.conf": self._inn_conf(),
            "etc/storage.conf": "method tradspool {\n    newsgroups: *\n    class: 0\n}\n",
            "etc/expire.ctl": "/remember/:11\n*:A:1:90:never\n",
            "etc/newsfeeds": "ME:!*/!local::\n",
            # No peers: every connection is a reader, handed to nnrpd.
            "etc/incoming.conf": "streaming: true\nmax-connections: 8\n",
            "etc/readers.conf": self._readers_conf(),
            "etc/passwd": f"{USER}:{self._crypt(PASSWORD)}\n",
            # innd needs these groups to exist.
            "db/active": ("control 0000000000 0000000001 n\n"
                          "control.cancel 0000000000 0000000001 n\n"
                          "junk 0000000000 0000000001 n\n"),
            "db/active.times": "",
            "db/newsgroups": "",
            "db/history": "",
        }
        for name, text in files.items():
            with open(self.path(name), "w") as f:
                f.write(text)
        os.chmod(self.path("etc/incoming.conf"), 0o640)
        if self.tls:
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-days", "2", "-subj", "/CN=localhost",
                            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                            "-keyout", self.path("etc", "key.pem"), "-out", self.cert_path],
                           check=True, capture_output=True)
            os.chmod(self.path("etc", "key.pem"), 0o600)
        for root, dirs, names in os.walk(self.dir):
            for n in dirs + names:
                os.chown(os.path.join(root, n), self.uid, self.gid)
        os.chown(self.dir, self.uid, self.gid)
        self._run_tool("makedbz", "-i", "-o", "-f", self.path("db", "history"))

    @staticmethod
    def _crypt(password):
        r = subprocess.run(["openssl", "passwd", "-6", password], check=True,
                           capture_output=True, text=True)
        return r.stdout.strip()

    # ---- processes ----

    def _env(self):
        return dict(os.environ, INNCONF=self.path("etc", INNCONF_NAME), HOME=self.dir)

    def _demote(self):
        if os.geteuid() == 0:
            os.setgroups([])
            os.setgid(self.gid)
            os.setuid(self.uid)

    def _run_tool(self, tool, *args):
        r = subprocess.run([os.path.join(INN_BIN, tool), *args], env=self._env(),
                           preexec_fn=self._demote, capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"{tool} {' '.join(args)}: {r.returncode} {r.stdout} {r.stderr}")
        return r.stdout

    def start(self):
        self.log = open(self.path("innd.out"), "ab")
        self.proc = subprocess.Popen([os.path.join(INN_BIN, "innd"), "-d", "-f"],
                                     env=self._env(), preexec_fn=self._demote,
                                     stdout=self.log, stderr=self.log,
                                     start_new_session=True)
        deadline = time.time() + 60
        greeting = b""
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"innd exited with {self.proc.returncode}: "
                                     f"{self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    s.settimeout(10)
                    greeting = s.recv(512)
                    if greeting.startswith(b"200"):
                        return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"innd did not answer on port {self.port} "
                             f"(last greeting {greeting!r}): {self.output()}")

    def output(self):
        try:
            with open(self.path("innd.out"), errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def ctlinnd(self, *args):
        return self._run_tool("ctlinnd", "-t", "30", *args)

    def newgroup(self, name, status="y"):
        self.ctlinnd("newgroup", name, status, USER)

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    self.ctlinnd("shutdown", "tests done")
                    self.proc.wait(timeout=30)
                except Exception:
                    self.proc.kill()
                    self.proc.wait()
            self.log.close()
            # nnrpd children of this innd are in its session.
            try:
                os.killpg(self.proc.pid, 9)
            except ProcessLookupError:
                pass
            self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- a news client (Python's nntplib) ----

    def client(self, user=USER, password=PASSWORD):
        return nntplib.NNTP("127.0.0.1", self.port, user=user, password=password,
                            readermode=True, timeout=30)

    def post(self, article):
        """Posts article (bytes with CRLF or LF line ends) as the posting
        user; returns the server's answer."""
        if isinstance(article, str):
            article = article.encode()
        with self.client() as c:
            return c.post(article)

    def group(self, name):
        with self.client() as c:
            return c.group(name)
