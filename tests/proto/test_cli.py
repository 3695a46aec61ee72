"""Tests of the petrel command line: user administration, configuration
errors, help and exit codes (sysexits). Runs the binary named by PETREL_BIN
(default: build/petrel in the repository)."""

import hashlib
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PETREL = Path(os.environ.get("PETREL_BIN", REPO / "build" / "petrel"))

EX_USAGE, EX_DATAERR, EX_NOUSER, EX_CANTCREAT, EX_CONFIG = 64, 65, 67, 73, 78


@pytest.fixture(scope="session")
def petrel_bin():
    if not PETREL.is_file():
        pytest.fail(f"petrel binary not found at {PETREL} (build it or set PETREL_BIN)")
    return str(PETREL)


@pytest.fixture
def env(tmp_path, petrel_bin):
    """A config with its data_dir in tmp_path and the cheapest hash cost."""
    data = tmp_path / "data"
    cfg = tmp_path / "petrel.ini"
    cfg.write_text(
        f"data_dir = {data}\n"
        "[auth]\n"
        "password_hash_ops = 1\n"
        "password_hash_memory = 8K\n"
    )

    def run(*args, input="", config=cfg, cwd=tmp_path):
        argv = [petrel_bin]
        if config is not None:
            argv += ["-c", str(config)]
        return subprocess.run(argv + list(args), input=input.encode() if isinstance(input, str) else input,
                              capture_output=True, cwd=cwd, timeout=60)

    run.data = data
    run.cfg = cfg
    return run


def out(r):
    return r.stdout.decode()


def err(r):
    return r.stderr.decode()


def users(env):
    r = env("user", "list")
    assert r.returncode == 0, err(r)
    return out(r).splitlines()


def password_hash(env, name):
    db = sqlite3.connect(env.data / "petrel.db")
    try:
        row = db.execute("SELECT password_hash FROM users WHERE name = ?", (name,)).fetchone()
    finally:
        db.close()
    return row[0] if row else None


def test_user_add_list_passwd_del(env):
    assert users(env) == []
    r = env("user", "add", "alice", input="secret\n")
    assert r.returncode == 0, err(r)
    assert out(r) == "" and err(r) == ""
    assert env("user", "add", "bob@example.org", input="pw2\n").returncode == 0
    assert env("user", "add", "Carl", input="pw3").returncode == 0  # no newline
    assert users(env) == ["Carl", "alice", "bob@example.org"]

    first = password_hash(env, "alice")
    assert first.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    r = env("user", "passwd", "alice", input="changed\n")
    assert r.returncode == 0, err(r)
    assert password_hash(env, "alice") not in (None, first)

    r = env("user", "del", "alice")
    assert r.returncode == 0, err(r)
    assert users(env) == ["Carl", "bob@example.org"]
    r = env("user", "del", "alice")
    assert r.returncode == EX_NOUSER
    assert err(r).startswith("petrel: ") and "no such user" in err(r)


def test_user_del_removes_mail(env):
    assert env("user", "add", "dora", input="pw\n").returncode == 0
    # store.h: users/<first two hex digits of SHA-256(user)>/<user>/
    shard = hashlib.sha256(b"dora").hexdigest()[:2]
    mail = env.data / "users" / shard / "dora"
    (mail / "blobs").mkdir(parents=True)
    (mail / "blobs" / "x").write_text("message")
    (mail / "mail.db").write_text("")
    r = env("user", "del", "dora")
    assert r.returncode == 0, err(r)
    assert not mail.exists()
    # A user who never received mail is deleted as well.
    assert env("user", "add", "eve", input="pw\n").returncode == 0
    assert env("user", "del", "eve").returncode == 0
    assert users(env) == []


def test_duplicate_user(env):
    assert env("user", "add", "alice", input="one\n").returncode == 0
    before = password_hash(env, "alice")
    r = env("user", "add", "alice", input="two\n")
    assert r.returncode == EX_CANTCREAT
    assert err(r) == "petrel: user add alice: user alice already exists\n"
    r = env("user", "add", "ALICE", input="two\n")
    assert r.returncode == EX_CANTCREAT
    assert "different letter case" in err(r)
    assert password_hash(env, "alice") == before
    assert users(env) == ["alice"]


@pytest.mark.parametrize("name", [
    "a/b", "ctl\x01char", "tab\tname", "space name", "x" * 65, ".dot", "-dash", "anyone",
    "bad\udcffutf8",
])
def test_invalid_names(env, name):
    arg = os.fsencode(name) if "\udcff" in name else name
    for cmd in ("add", "passwd", "del"):
        # "--" so that "-dash" is taken as a name, not an option.
        r = env("user", cmd, "--", arg, input="pw\n")
        assert r.returncode == EX_DATAERR, (cmd, name, err(r))
        assert err(r).startswith(f"petrel: user {cmd}: invalid user name: ")
    assert users(env) == []


def test_empty_name(env):
    r = env("user", "add", "", input="pw\n")
    assert r.returncode == EX_DATAERR
    assert "user name is empty" in err(r)


def test_longest_name_accepted(env):
    name = "n" * 64
    assert env("user", "add", name, input="pw\n").returncode == 0
    assert users(env) == [name]


@pytest.mark.parametrize("stdin", ["", "\n", "\r\n", b"a\0b\n"])
def test_empty_or_bad_password_refused(env, stdin):
    r = env("user", "add", "alice", input=stdin)
    assert r.returncode == EX_DATAERR
    assert err(r).startswith("petrel: ")
    assert users(env) == []


def test_password_is_one_line(env):
    assert env("user", "add", "alice", input="first line\nsecond line\n").returncode == 0
    assert env("user", "passwd", "alice", input="\n").returncode == EX_DATAERR


def test_unknown_user(env):
    r = env("user", "passwd", "ghost", input="pw\n")
    assert r.returncode == EX_NOUSER
    assert err(r) == "petrel: user passwd ghost: no such user: ghost\n"
    r = env("user", "del", "ghost")
    assert r.returncode == EX_NOUSER


def test_bad_config_unknown_key(env, tmp_path):
    cfg = tmp_path / "bad.ini"
    cfg.write_text(f"data_dir = {env.data}\n[server]\nbogus = 1\n")
    r = env("user", "list", config=cfg)
    assert r.returncode == EX_CONFIG
    assert err(r) == f"petrel: {cfg}:3: [server] bogus: unknown key\n"
    assert not env.data.exists()


@pytest.mark.parametrize("text,line,what", [
    ("[nosuch]\nkey = 1\n", 2, "[nosuch] key: unknown section"),
    ("[limits]\nappend_size = lots\n", 2, "[limits] append_size: expected a size"),
    ("[imap]\nlisten = 127.0.0.1\n", 2, "[imap] listen: expected host:port"),
    ("data_dir = /x\nnot an assignment\n", 2, "syntax error"),
])
def test_bad_config_values(env, tmp_path, text, line, what):
    cfg = tmp_path / "bad.ini"
    cfg.write_text(text)
    r = env("user", "list", config=cfg)
    assert r.returncode == EX_CONFIG
    assert err(r).startswith(f"petrel: {cfg}:{line}: {what}")


def test_missing_config_file(env, tmp_path):
    r = env("user", "list", config=tmp_path / "nope.ini")
    assert r.returncode == EX_CONFIG
    assert "nope.ini: cannot open" in err(r)


def test_builtin_defaults_without_config(env, tmp_path):
    # Without -c the data lives in ./var, relative to the working directory.
    r = env("user", "add", "alice", input="pw\n", config=None)
    assert r.returncode == 0, err(r)
    assert (tmp_path / "var" / "petrel.db").is_file()
    r = env("user", "list", config=None)
    assert out(r) == "alice\n"


@pytest.mark.parametrize("args", [
    ["--help"], ["-h"], ["help"],
    ["user", "--help"], ["user", "-h"], ["user", "help"],
    ["user", "add", "--help"], ["user", "passwd", "-h"], ["user", "del", "--help"],
    ["user", "list", "--help"], ["serve", "--help"], ["serve", "-h"], ["version", "--help"],
])
def test_help_everywhere(env, args):
    r = env(*args, config=None)
    assert r.returncode == 0, err(r)
    assert out(r).lower().startswith("usage: petrel")
    assert err(r) == ""


def test_version(env):
    for args in (["version"], ["--version"], ["-V"]):
        r = env(*args, config=None)
        assert r.returncode == 0
        assert out(r).startswith("petrel ")
        assert len(out(r).split()) == 2 and out(r).split()[1][0].isdigit()


@pytest.mark.parametrize("args", [
    [], ["frobnicate"], ["--bogus", "user", "list"], ["-c"],
    ["user"], ["user", "nosuch"], ["user", "add"], ["user", "add", "a", "b"],
    ["user", "list", "extra"], ["user", "del", "--force", "x"], ["version", "extra"],
])
def test_usage_errors(env, args):
    r = env(*args, config=None)
    assert r.returncode == EX_USAGE, err(r)
    assert err(r).startswith("petrel: ")
    assert "Usage: petrel" in err(r)
