"""Crash safety (DESIGN.md §4): SIGKILL while four clients APPEND (some
pipelined two at a time), flag and EXPUNGE, and an MTA delivers over LMTP;
after each restart every acknowledged APPEND and delivery is there with its
UID and exact bytes, every acknowledged flag is set, no UID is reused,
UIDVALIDITY is unchanged, and no orphan blob or row without its blob
remains. Commits become durable on the sync threads after the command that
made them (store.h, "Durability off the event loop"): the kill lands
anywhere between a commit, its sync and its answer."""

import hashlib
import os
import random
import re
import socket
import threading
import time

from conftest import Client, Server, tmp_files

ROUNDS = 20
CLIENTS = 4


class Ledger:
    """What the clients were told, shared by the client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}          # uid -> bytes, APPEND answered OK
        self.delivered = {}      # uid -> bytes, LMTP 250 (stored after trace fields)
        self.flagged = set()     # UID STORE +FLAGS (\Flagged) answered OK
        self.expunged = set()    # UID EXPUNGE answered OK
        self.maybe_expunged = set()  # EXPUNGE sent, answer lost in the crash


def client_loop(server, ledger, seed, stop):
    rnd = random.Random(seed)
    try:
        c = server.login()
        c.ok("SELECT INBOX")
    except Exception:
        return
    mine = []
    n = 0
    while not stop.is_set():
        # Sometimes two APPENDs in one write: the second waits behind the
        # first's answer.
        bodies = []
        for _ in range(2 if rnd.random() < 0.3 else 1):
            n += 1
            bodies.append((f"From: load{seed}@example.org\r\nSubject: crash {seed}-{n}\r\n\r\n"
                           + "x" * rnd.randrange(10, 20000)
                           + f"\r\n{seed}-{n}-{rnd.random()}\r\n").encode())
        try:
            tags = [c.next_tag() for _ in bodies]
            c.send(b"".join(f"{tag} APPEND INBOX {{{len(body)}+}}\r\n".encode() + body + b"\r\n"
                            for tag, body in zip(tags, bodies)))
            for tag, body in zip(tags, bodies):
                untagged, tagged = c.read_until_tagged(tag)
                m = re.search(r"\[APPENDUID \d+ (\d+)\]", tagged)
                if not m:
                    return
                uid = int(m.group(1))
                with ledger.lock:
                    ledger.acked[uid] = body
                mine.append(uid)
        except Exception:
            return
        if mine and rnd.random() < 0.3:
            target = rnd.choice(mine)
            try:
                c.ok(f"UID STORE {target} +FLAGS.SILENT (\\Flagged)")
            except Exception:
                return
            with ledger.lock:
                ledger.flagged.add(target)
        if len(mine) > 3 and rnd.random() < 0.3:
            victim = mine.pop(rnd.randrange(len(mine)))
            with ledger.lock:
                ledger.maybe_expunged.add(victim)
            try:
                c.ok(f"UID STORE {victim} +FLAGS.SILENT (\\Deleted)")
                c.ok(f"UID EXPUNGE {victim}")
            except Exception:
                return
            with ledger.lock:
                ledger.expunged.add(victim)
                ledger.maybe_expunged.discard(victim)


def lmtp_loop(server, ledger, seed, stop):
    """An MTA delivering to demo, one message per transaction."""
    rnd = random.Random(seed)
    try:
        s = socket.create_connection(("127.0.0.1", server.lmtp_port), timeout=20)
        f = s.makefile("rb")

        def reply():
            while True:
                line = f.readline()
                if not line:
                    raise EOFError
                if line[3:4] != b"-":
                    return line.decode()

        reply()
        s.sendall(b"LHLO mta.example.org\r\n")
        reply()
    except Exception:
        return
    n = 0
    while not stop.is_set():
        n += 1
        body = (f"From: mta@example.org\r\nSubject: lmtp {seed}-{n}\r\n\r\n"
                + "y" * rnd.randrange(10, 5000) + f"\r\n{seed}-{n}-{rnd.random()}\r\n").encode()
        try:
            s.sendall(b"MAIL FROM:<mta@example.org>\r\nRCPT TO:<demo@example.org>\r\nDATA\r\n")
            for _ in range(3):
                reply()
            s.sendall(body + b".\r\n")
            m = re.match(r"250 2\.0\.0 <demo@example\.org> Saved as UID (\d+) in INBOX", reply())
        except Exception:
            return
        if not m:
            return
        with ledger.lock:
            ledger.delivered[int(m.group(1))] = body


def fetch_all(server):
    c = server.login()
    untagged = c.ok("SELECT INBOX")
    uv = int(next(re.match(r"\* OK \[UIDVALIDITY (\d+)\]", l).group(1)
                  for l in untagged if "UIDVALIDITY" in l))
    messages = {}
    flags = {}
    untagged, tagged = c.command("UID FETCH 1:* (UID FLAGS BODY.PEEK[])")
    assert " OK " in tagged, tagged
    for line in untagged:
        m = re.match(r"\* \d+ FETCH \(UID (\d+) FLAGS \(([^)]*)\) BODY\[\] \{(\d+)\}\r\n",
                     line, re.S)
        assert m, line[:200]
        start = m.end()
        size = int(m.group(3))
        uid = int(m.group(1))
        messages[uid] = line[start:start + size].encode("utf-8", "surrogateescape")
        flags[uid] = m.group(2).split()
    c.ok("LOGOUT")
    return uv, messages, flags


def blob_hashes(data_dir):
    found = set()
    for root, dirs, files in os.walk(os.path.join(data_dir, "users")):
        if os.sep + "blobs" in root:
            found.update(files)
    return found


def test_sigkill_during_appends_and_expunges(tmp_path):
    server = Server(tmp_path).start()
    ledger = Ledger()
    uv0 = None
    rnd = random.Random(1234)
    try:
        for round_no in range(ROUNDS):
            stop = threading.Event()
            threads = [threading.Thread(target=client_loop,
                                        args=(server, ledger, round_no * 10 + i, stop))
                       for i in range(CLIENTS)]
            threads.append(threading.Thread(target=lmtp_loop,
                                            args=(server, ledger, round_no * 10 + 9, stop)))
            with ledger.lock:
                before = len(ledger.acked)
            for t in threads:
                t.start()
            # Let the clients log in and get going (logins cost an Argon2id
            # hash each), then kill at a random moment of the load.
            deadline = time.time() + 20
            while time.time() < deadline:
                with ledger.lock:
                    if len(ledger.acked) >= before + 3:
                        break
                time.sleep(0.01)
            time.sleep(rnd.uniform(0.0, 0.5))
            server.kill()
            stop.set()
            for t in threads:
                t.join(30)
            server.start()
            uv, messages, flags = fetch_all(server)
            uv0 = uv0 or uv
            assert uv == uv0, "UIDVALIDITY changed after a crash"
            with ledger.lock:
                for uid, body in ledger.acked.items():
                    if uid in ledger.expunged:
                        assert uid not in messages, f"expunged UID {uid} came back"
                    elif uid not in ledger.maybe_expunged:
                        assert uid in messages, f"acknowledged UID {uid} lost (round {round_no})"
                        assert messages[uid] == body, f"UID {uid} changed content"
                # No UID reused: anything present that was acknowledged has
                # that content; anything present was acknowledged or was
                # committed just before the kill (its bytes are unique).
                for uid, body in messages.items():
                    if uid in ledger.acked:
                        assert body == ledger.acked[uid]
                for uid, body in ledger.delivered.items():
                    assert uid in messages, f"delivered UID {uid} lost (round {round_no})"
                    assert messages[uid].endswith(body), f"UID {uid} changed content"
                    assert uid not in ledger.acked, f"UID {uid} given twice"
                for uid in ledger.flagged:
                    if uid in messages:
                        assert "\\Flagged" in flags[uid], f"flag on UID {uid} lost"
                    else:
                        assert uid in ledger.expunged | ledger.maybe_expunged
            stored = {hashlib.sha256(b).hexdigest() for b in messages.values()}
            on_disk = blob_hashes(server.data_dir)
            assert on_disk == stored, (f"orphans {len(on_disk - stored)}, "
                                       f"missing {len(stored - on_disk)}")
            assert tmp_files(server.data_dir) == []
        assert len(ledger.acked) > 50
        assert ledger.delivered and ledger.flagged
    finally:
        rc = server.stop()
    assert rc == 0
