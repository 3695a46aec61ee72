"""Petrel and Debian's Dovecot side by side: every message of tests/corpus/
is appended to both, and every FETCH item that describes or cuts up a
message (ENVELOPE, BODY, BODYSTRUCTURE, RFC822.SIZE, BODY[...] for the whole
message and for every part number found in the BODYSTRUCTURE, HEADER.FIELDS
lists, partial fetches, BINARY[n] and BINARY.SIZE[n] for every leaf) must
come back byte for byte the same from both servers.

Where the RFCs let a server choose (string form, case of MIME tokens,
echoed field names, one language as a string), RULES rewrite both answers
the same narrow way. Where the two differ otherwise and the RFCs make
Petrel's answer the right one (or allow both), the difference is listed in
KNOWN_DIFFERENCES with the clause that decides it, for named messages and
FETCH items only, each with the exact text substitution or the check that
it must pass; anything else still fails, and a rule or entry that no longer
matches anything fails too (test_every_rule_and_known_difference_is_used).
docs/compatibility.md summarises them.

PETREL_DIFF_DUMP=FILE writes every unexplained difference in full."""

import os
import re
from dataclasses import dataclass, field

import pytest

from conftest import Client, ROOT
from dovecot import dovecot_server  # noqa: F401  (module-scoped fixture)

CORPUS = os.path.join(ROOT, "tests", "corpus")
MESSAGES = sorted(f for f in os.listdir(CORPUS) if f.endswith(".eml"))


# ---- A small IMAP response reader ------------------------------------------

class Atom(str):
    pass


class Str(bytes):
    """A string value; .raw is how the server wrote it (quoted or literal)."""
    raw = b""


class List(list):
    """A parenthesised list; .seps[k] is the whitespace the server wrote
    before item k, so that rendering keeps its layout."""
    seps = ()


LITERAL = re.compile(rb"~?\{(\d+)\}\r\n")
ATOM = re.compile(rb"[^ ()\[\]]+(\[[^\]]*\](<\d+>)?)?")


def parse_value(data, i):
    """Parses one IMAP value at data[i:] (bytes). Returns (value, end):
    List, Str (quoted or literal), None for NIL, Atom for anything else."""
    c = data[i:i + 1]
    if c == b"(":
        i += 1
        out, seps = List(), []
        while True:
            j = i
            while data[i:i + 1] == b" ":
                i += 1
            if data[i:i + 1] == b")":
                out.seps = seps
                return out, i + 1
            seps.append(data[j:i].decode())
            v, i = parse_value(data, i)
            out.append(v)
    if c == b'"':
        j = i
        i += 1
        v = bytearray()
        while data[i:i + 1] != b'"':
            if data[i:i + 1] == b"\\":
                i += 1
            v += data[i:i + 1]
            i += 1
        out = Str(v)
        out.raw = data[j:i + 1]
        return out, i + 1
    m = LITERAL.match(data, i)
    if m:
        n = int(m.group(1))
        out = Str(data[m.end():m.end() + n])
        out.raw = data[i:m.end() + n]
        return out, m.end() + n
    m = ATOM.match(data, i)
    assert m and m.end() > i, data[i:i + 80]
    tok = m.group(0).decode()
    return (None if tok.upper() == "NIL" else Atom(tok)), m.end()


def render(v, string_form=False):
    """The value as text: exactly as the server wrote it, except that with
    string_form every string (quoted or literal) is written quoted."""
    if v is None:
        return "NIL"
    if isinstance(v, Str):
        if not string_form:
            return v.raw.decode("utf-8", "surrogateescape")
        body = bytes(v).replace(b"\\", b"\\\\").replace(b'"', b'\\"')
        # A literal8 stays marked: which of string and literal8 BINARY
        # uses is not free (RFC 3516 4.3).
        mark = "~" if v.raw.startswith(b"~") else ""
        return mark + '"' + body.decode("utf-8", "surrogateescape") + '"'
    if isinstance(v, list):
        seps = getattr(v, "seps", None) or [""] + [" "] * (len(v) - 1)
        return "(" + "".join(sep + render(x, string_form) for sep, x in zip(seps, v)) + ")"
    return str(v)


def parse_fetch(line):
    """'* N FETCH (name value ...)' -> [(name, parsed value)]."""
    data = line.encode("utf-8", "surrogateescape")
    m = re.match(rb"\* \d+ FETCH \(", data)
    assert m, line[:200]
    i = m.end()
    items = []
    while data[i:i + 1] != b")":
        name, i = parse_value(data, i)
        assert data[i:i + 1] == b" ", data[i:i + 80]
        start = i + 1
        value, i = parse_value(data, start)
        items.append((str(name), value))
        if data[i:i + 1] == b" ":
            i += 1
    assert i + 1 == len(data), data[i:i + 80]
    return items


# ---- Part numbers from a BODYSTRUCTURE (RFC 3501 6.4.5) --------------------

def is_multipart(node):
    return isinstance(node, list) and node and isinstance(node[0], list)


def walk_parts(bs):
    """Yields (part number, node) for every part, in order. A message that
    is not multipart has one part, "1"; a MESSAGE/RFC822 part n has the
    parts of its embedded message as n.1, n.2, ... (or n.1 when that body
    is not multipart)."""
    def walk(node, number):
        yield number, node
        if is_multipart(node):
            for k, child in enumerate(children(node), 1):
                yield from walk(child, f"{number}.{k}")
        elif embedded_body(node) is not None:
            inner = embedded_body(node)
            if is_multipart(inner):
                for k, child in enumerate(children(inner), 1):
                    yield from walk(child, f"{number}.{k}")
            else:
                yield from walk(inner, f"{number}.1")

    if is_multipart(bs):
        for k, child in enumerate(children(bs), 1):
            yield from walk(child, str(k))
    else:
        yield from walk(bs, "1")


def children(node):
    out = []
    for c in node:
        if not isinstance(c, list):
            break
        out.append(c)
    return out


def embedded_body(node):
    # body-type-msg: "MESSAGE" "RFC822" fields envelope body lines
    if (len(node) >= 10 and isinstance(node[0], bytes) and node[0].upper() == b"MESSAGE"
            and isinstance(node[7], list) and isinstance(node[8], list)):
        return node[8]
    return None


def parts_of(bs):
    return dict(walk_parts(bs))


# ---- The two servers --------------------------------------------------------

def normalise(raw):
    """What an IMAP client hands to APPEND: the file with CRLF line ends."""
    return re.sub(rb"\r?\n", b"\r\n", raw)


def append_raw(c, data, binary):
    """APPEND with a synchronising literal; returns (untagged, tagged). A
    message holding NUL goes in a literal8 (RFC 3516 4.4) when the server
    has BINARY."""
    tag = c.next_tag()
    prefix = "~" if binary and b"\0" in data else ""
    c.send(f"{tag} APPEND INBOX {prefix}{{{len(data)}}}\r\n")
    line = c.readline()
    if not line.startswith("+"):
        return [], line
    c.send(data + b"\r\n")
    return c.read_until_tagged(tag)


def status_of(tagged):
    """The tagged answer without its tag, human text and response code
    arguments: 'OK', 'NO [UNKNOWN-CTE]', 'OK [APPENDUID]', 'BAD' ...
    (Dovecot appends timings to its text; UIDVALIDITY values differ)."""
    m = re.match(r"\S+ (OK|NO|BAD)(?: \[([^\] ]*))?", tagged)
    assert m, tagged
    return m.group(1) + (f" [{m.group(2)}]" if m.group(2) else "")


class Side:
    def __init__(self, name, client):
        self.name = name
        self.c = client
        self.seq = {}       # file -> sequence number
        self.append_status = {}
        self.append_detail = {}

    def fetch_many(self, seq, items):
        """Sends 'FETCH seq (item)' for every item, one at a time (Dovecot
        runs pipelined FETCHes concurrently, so their untagged answers
        could not be told apart). Returns {item: (status, [untagged])}."""
        return {item: self.fetch(seq, item) for item in items}

    def fetch(self, seq, item):
        untagged, tagged = self.c.command(f"FETCH {seq} ({item})")
        return status_of(tagged), untagged


@pytest.fixture(scope="module")
def pair(module_server, dovecot_server):
    petrel = Side("petrel", Client(module_server))
    dovecot = Side("dovecot", Client(module_server, port=dovecot_server.port))
    for side in (petrel, dovecot):
        caps = " ".join(side.c.ok("LOGIN demo demo")).split() + side.c.ok("CAPABILITY")[0].split()
        binary = "BINARY" in caps
        n = 0
        for f in MESSAGES:
            with open(os.path.join(CORPUS, f), "rb") as fh:
                data = normalise(fh.read())
            untagged, tagged = append_raw(side.c, data, binary)
            side.append_detail[f] = tagged
            # Only the answer counts: response codes are optional (RFC
            # 9051 7.1), and Dovecot gives none when it refuses.
            side.append_status[f] = status_of(tagged).split()[0]
            if side.append_status[f] == "OK":
                n += 1
                side.seq[f] = n
        side.c.ok("SELECT INBOX")
    yield petrel, dovecot
    for side in (petrel, dovecot):
        side.c.close()


# ---- What is fetched --------------------------------------------------------

FIELD_LISTS = [
    "HEADER.FIELDS (From To Subject)",
    "HEADER.FIELDS (content-type CONTENT-TRANSFER-ENCODING)",
    "HEADER.FIELDS (Date Message-ID X-Not-There)",
    "HEADER.FIELDS.NOT (Received Subject)",
    "HEADER.FIELDS.NOT (X-Not-There)",
]


def top_items(size):
    items = ["ENVELOPE", "BODY", "BODYSTRUCTURE", "RFC822.SIZE", "RFC822.HEADER",
             "BODY.PEEK[]", "BODY.PEEK[HEADER]", "BODY.PEEK[TEXT]"]
    items += [f"BODY.PEEK[{f}]" for f in FIELD_LISTS]
    items += ["BODY.PEEK[]<0.10>", f"BODY.PEEK[]<{max(size - 5, 0)}.100>",
              f"BODY.PEEK[]<{size}.10>", f"BODY.PEEK[]<{size + 10}.1>",
              "BODY.PEEK[TEXT]<3.7>", "BODY.PEEK[HEADER]<0.1>",
              f"BODY.PEEK[HEADER.FIELDS (From Subject)]<2.{max(size // 3, 1)}>"]
    return items


def part_items(number, nodes, leaf_budget):
    items = [f"BODY.PEEK[{number}]", f"BODY.PEEK[{number}.MIME]",
             f"BODY.PEEK[{number}.HEADER]", f"BODY.PEEK[{number}.TEXT]"]
    if any(embedded_body(n) is not None for n in nodes):
        items += [f"BODY.PEEK[{number}.HEADER.FIELDS (From Subject)]",
                  f"BODY.PEEK[{number}.HEADER.FIELDS.NOT (Subject)]"]
    if any(is_leaf(n) for n in nodes):
        items += [f"BINARY.PEEK[{number}]", f"BINARY.SIZE[{number}]"]
        if leaf_budget:
            items += [f"BODY.PEEK[{number}]<1.12>", f"BINARY.PEEK[{number}]<2.9>"]
    return items


def is_leaf(node):
    """RFC 9051 6.4.5: BINARY can only be requested for leaf body parts,
    media types other than multipart/*, message/rfc822, message/global."""
    if is_multipart(node):
        return False
    t = bytes(node[0] or b"").upper(), bytes(node[1] or b"").upper()
    return not (t[0] == b"MESSAGE" and t[1] in (b"RFC822", b"GLOBAL"))


def items_for(pair, f):
    """Every FETCH item to compare for message f: the top-level ones and
    those of every part number either server's BODYSTRUCTURE has."""
    size = 0
    parts = {}
    for side in pair:
        res = side.fetch_many(side.seq[f], ["BODYSTRUCTURE", "RFC822.SIZE"])
        for item, (status, lines) in res.items():
            assert status == "OK" and len(lines) == 1, (side.name, item, status, lines)
            for key, value in parse_fetch(lines[0]):
                if key == "RFC822.SIZE":
                    size = max(size, int(value))
                elif key == "BODYSTRUCTURE":
                    for number, node in parts_of(value).items():
                        parts.setdefault(number, []).append(node)
    # No BINARY[]: the whole message is not a leaf body part (RFC 9051
    # 6.4.5), so neither answer would be more right than the other.
    items = top_items(size)
    ordered = sorted(parts, key=lambda n: [int(x) for x in n.split(".")])
    for k, number in enumerate(ordered):
        nodes = parts[number]
        items += part_items(number, nodes, leaf_budget=k < 40)
    # A part number one beyond the last top-level part.
    top = [int(n) for n in parts if "." not in n]
    beyond = (max(top) if top else 1) + 1
    items += [f"BODY.PEEK[{beyond}]", f"BINARY.SIZE[{beyond}]"]
    return items


# ---- Differences the RFCs allow ---------------------------------------------
#
# A rule rewrites both answers the same way, in one narrow place, where the
# RFCs let a server choose; two answers that differ only there are the same
# answer. Each rule is used only where it is needed: an item is accepted
# when the answers are equal with all rules applied, and a rule counts as
# seen only if the answers differ without it.

def upper_str(v):
    if isinstance(v, Str):
        out = Str(bytes(v).upper())
        out.raw = b'"' + bytes(out) + b'"'
        return out
    return v


def canon_media(node, lang):
    """BODY/BODYSTRUCTURE node with the tokens MIME defines as
    case-insensitive upper-cased (type, subtype, encoding, disposition
    type, the implicit charset=us-ascii), and with lang, a one-language
    body-fld-lang written as a list."""
    if not isinstance(node, list):
        return node
    out = List(node)
    out.seps = getattr(node, "seps", ())
    if is_multipart(node):
        k = len(children(node))
        for i in range(k):
            out[i] = canon_media(node[i], lang)
        ext = k + 2  # subtype, body-fld-param, then body-fld-dsp
        if k < len(out):
            out[k] = upper_str(out[k])
    else:
        for i in (0, 1, 5):
            if i < len(out):
                out[i] = upper_str(out[i])
        if len(out) > 2 and isinstance(out[2], list):
            params = List(out[2])
            params.seps = getattr(out[2], "seps", ())
            for i in range(0, len(params) - 1, 2):
                if (bytes(params[i] or b"").lower() == b"charset"
                        and bytes(params[i + 1] or b"").lower() == b"us-ascii"):
                    params[i], params[i + 1] = upper_str(params[i]), upper_str(params[i + 1])
            out[2] = params
        t = bytes(node[0] or b"").upper()
        if embedded_body(node) is not None:
            out[8] = canon_media(node[8], lang)
            ext = 11
        elif t == b"TEXT":
            ext = 9
        else:
            ext = 8
    # ext is the index of body-fld-dsp; body-fld-lang follows it.
    if ext < len(out) and isinstance(out[ext], list) and out[ext]:
        dsp = List(out[ext])
        dsp.seps = getattr(out[ext], "seps", ())
        dsp[0] = upper_str(dsp[0])
        out[ext] = dsp
    if lang and ext + 1 < len(out) and isinstance(out[ext + 1], Str):
        one = List([out[ext + 1]])
        one.seps = [""]
        out[ext + 1] = one
    return out


FIELDS_IN_NAME = re.compile(r"(HEADER\.FIELDS(?:\.NOT)? \()([^)]*)(\))")


@dataclass
class Rule:
    name: str
    reason: str
    seen: set = field(default_factory=set)


RULES = {
    "string-form": Rule(
        "string-form",
        "A string may be sent quoted or as a literal (RFC 3501 4.3, RFC 9051 "
        "4.3); Petrel quotes short strings that need no literal (\"\" for an "
        "empty section), Dovecot sends some of them as literals."),
    "binary-literal8": Rule(
        "binary-literal8",
        "RFC 3516 4.3 / RFC 9051 7.5.2: decoded data without NUL SHOULD be sent "
        "as a string rather than a literal8. Petrel does; Dovecot sends every "
        "decoded base64/quoted-printable part as a literal8, which is allowed."),
    "field-names-case": Rule(
        "field-names-case",
        "The header-list echoed in BODY[HEADER.FIELDS (...)] names the "
        "fields the client asked for; field names match ASCII "
        "case-insensitively (RFC 9051 6.4.5). Petrel echoes the names as the "
        "client wrote them, Dovecot upper-cases them."),
    "media-case": Rule(
        "media-case",
        "Type, subtype (RFC 2045 5.1), transfer encoding (RFC 2045 6.1), "
        "disposition type (RFC 2183 2) and the implicit charset=us-ascii "
        "(RFC 2045 5.2) are case-insensitive; Petrel writes them upper-case "
        "as the examples of RFC 3501 / RFC 9051 7.5.2 do, Dovecot lower-case."),
    "language-list": Rule(
        "language-list",
        "body-fld-lang = nstring / \"(\" string *(SP string) \")\" (RFC "
        "9051 9): Petrel sends one language as a string, Dovecot always a "
        "list."),
}


def canonical(answer, rules):
    status, lines = answer
    out = [status]
    for line in lines:
        if not re.match(r"\* \d+ FETCH \(", line):
            out.append(line)
            continue
        parts = []
        for name, value in parse_fetch(line):
            if "field-names-case" in rules:
                name = FIELDS_IN_NAME.sub(lambda m: m.group(1) + m.group(2).upper() + m.group(3), name)
            if ("binary-literal8" in rules and name.startswith("BINARY[") and
                    isinstance(value, Str) and value.raw.startswith(b"~") and b"\0" not in value):
                plain = Str(value)
                plain.raw = value.raw[1:]
                value = plain
            if name in ("BODY", "BODYSTRUCTURE") and rules & {"media-case", "language-list"}:
                if "media-case" in rules:
                    value = canon_media(value, "language-list" in rules)
                else:
                    value = canon_media_lang_only(value)
            parts.append(name + " " + render(value, "string-form" in rules))
        out.append("* FETCH (" + " ".join(parts) + ")")
    return "\n".join(out)


def canon_media_lang_only(value):
    # language-list without media-case: rewrite only the language field.
    full = canon_media(value, True)
    no_lang = canon_media(value, False)
    # Take the language fields from `full` and everything else from value.
    return _merge_lang(value, full, no_lang)


def _merge_lang(orig, full, no_lang):
    if not isinstance(orig, list):
        return orig
    out = List(orig)
    out.seps = getattr(orig, "seps", ())
    for i in range(len(orig)):
        if render(full[i]) != render(no_lang[i]) and not isinstance(orig[i], list):
            out[i] = full[i]
        elif isinstance(orig[i], list):
            out[i] = _merge_lang(orig[i], full[i], no_lang[i])
    return out


# ---- Known differences -------------------------------------------------------

def wild(patterns, s):
    """True when s matches one of the patterns, where '*' is the only
    wildcard (brackets in FETCH items are literal)."""
    if isinstance(patterns, str):
        patterns = (patterns,)
    return any(re.fullmatch(".*".join(map(re.escape, p.split("*"))), s, re.S) for p in patterns)


@dataclass
class Known:
    """One documented difference: for the messages matching `files` and the
    FETCH items matching `item` (patterns for wild()), Petrel's answer becomes
    Dovecot's by replacing each petrel text of `subs` with its dovecot text
    (on the answers with every rule above applied), or, for differences
    too big to spell out, `check(petrel, dovecot)` says so. `reason` cites
    the RFC clause that makes Petrel's answer right or both allowed."""
    name: str
    files: str
    item: str
    reason: str
    subs: tuple = ()
    check: object = None
    seen: set = field(default_factory=set)

    def matches(self, f, item, p, d):
        if not (wild(self.files, f) and wild(self.item, item)):
            return False
        if self.check is not None:
            return bool(self.check(p, d))
        for old, new in self.subs:
            if old not in p:
                return False
            p = p.replace(old, new)
        return p == d


def status(text):
    return text.split("\n", 1)[0]


def same_status(p, d):
    return status(p) == status(d)


def moved(text):
    """Check for a message whose header has no blank line before the text:
    `text` is in Petrel's body and Dovecot's header or the other way round
    (partial fetches and sizes: the same answer status is all that is
    checked)."""
    def check(p, d):
        if re.search(r"\]<\d+> |BINARY\.SIZE\[", p):
            return same_status(p, d)
        return same_status(p, d) and (text in p) != (text in d)
    return check


def dovecot_empty(p, d):
    """Dovecot made up an empty part where Petrel has the whole body."""
    return (status(p) == status(d) == "OK" and
            re.search(r'\](<\d+>)? (""|0)\)$', d) is not None and
            re.search(r'\](<\d+>)? (""|0)\)$', p) is None)


def crlf_added(p, d):
    """Dovecot's section is Petrel's plus the line break that RFC 2046
    5.1.1 gives to the next delimiter."""
    return p.endswith('")') and d == p[:-2] + '\r\n")'


def depth(n):
    return lambda p, d: p.count('"MIXED"') + p.count('"RFC822"') + 8 == \
        d.count('"MIXED"') + d.count('"RFC822"') and same_status(p, d)


def beyond_depth(p, d):
    """A part below Petrel's depth limit: Petrel has no such part (the
    empty string, RFC 9051 6.4.5) or sees the opaque leaf's text."""
    return same_status(p, d)


INVALID = "Invalid input; no RFC defines the recovery, and Petrel's keeps more of the message readable. "
HEADER_END = (INVALID + "RFC 5322 2.1/2.2: a header is header fields (a name, a colon, a body) "
              "ended by an empty line. Petrel ends the header at the first line that is not "
              "a field, so that line starts the body; Dovecot takes every line up to an "
              "empty line (or the end) as header and leaves the body empty.")
HEADER_END_ITEMS = ("BODY.PEEK[HEADER]*", "BODY.PEEK[TEXT]*", "RFC822.HEADER",
                    "BODY.PEEK[HEADER.FIELDS.NOT*", "BODY.PEEK[1]*", "BODY.PEEK[1.MIME]",
                    "BINARY.PEEK[1]*", "BINARY.SIZE[1]")
DEEP = ("RFC 2046 5.1 sets no nesting limit and DESIGN.md 8 asks for one: Petrel parses "
        "32 levels (MIME_DEFAULT_MAX_DEPTH) and keeps the rest as one opaque leaf; "
        "Dovecot went on to 40.")

KNOWN_DIFFERENCES = [
    Known("unfolding", "29-*", "ENVELOPE",
          "RFC 5322 2.2.3: unfolding removes only the CRLF before WSP, so the Subject "
          "keeps its spaces and tab (Dovecot collapses them); 3.6.4: msg-id = [CFWS] "
          "\"<\" ... so the space left by the fold is not part of the Message-ID "
          "(Dovecot keeps it).",
          subs=(('"This subject is folded   across several lines\twith tabs and spaces"',
                 '"This subject is folded across several lines with tabs and spaces"'),
                ('"<folded@example.com>"', '" <folded@example.com>"'))),
    Known("rfc2231-charset", "15-*", "BODY*",
          "RFC 2231 4: charset*=... is the charset parameter with an extended value; "
          "RFC 2046 4.1.2 assumes US-ASCII only in the absence of a charset parameter. "
          "Dovecot adds a second, contradicting charset.",
          subs=(('"title*" "us-ascii\'en-us\'This%20is%20%2A%2A%2Afun%2A%2A%2A")',
                 '"title*" "us-ascii\'en-us\'This%20is%20%2A%2A%2Afun%2A%2A%2A" '
                 '"CHARSET" "US-ASCII")'),)),
    Known("param-recovery", "42-*", "BODY*",
          INVALID + "RFC 2045 5.1: a value with spaces must be quoted, and the field "
          "repeats name=. Petrel takes the text up to the next ';' (the file name a "
          "reader shows) and keeps the first of a repeated parameter, as it does for "
          "repeated fields; Dovecot keeps the first word and both names.",
          subs=(('"name" "unquoted file name.txt"', '"name" "unquoted" "name" "second"'),)),
    Known("nested-multipart-end", ("34-*", "35-*"), "BODY.PEEK[1]",
          "RFC 2046 5.1.1: the CRLF preceding a boundary delimiter line belongs to the "
          "delimiter, so a nested multipart ends with its close-delimiter; Dovecot adds "
          "the line break of the next outer delimiter.",
          check=crlf_added),
    Known("nested-multipart-end-deep", "51-*", "BODY.PEEK[1*]",
          "As nested-multipart-end, for every level of 51-deep-nesting.",
          check=crlf_added),
    Known("header-without-blank-line", "19-*", "BODY", HEADER_END,
          subs=(('"7BIT" 68 2', '"7BIT" 0 0'),)),
    Known("header-without-blank-line-bs", "19-*", "BODYSTRUCTURE", HEADER_END,
          subs=(('"7BIT" 68 2', '"7BIT" 0 0'),)),
    Known("no-header", "24-*", "BODY*", HEADER_END,
          subs=(('"7BIT" 48 2', '"7BIT" 0 0'),)),
    Known("part-header-without-blank-line", "20-*", "BODY*", HEADER_END,
          subs=(('"7BIT" 37 0', '"7BIT" 0 0'),)),
    Known("multipart-without-boundary-parameter", "18-*", "BODY*",
          "RFC 2046 5.1.1 makes the boundary parameter mandatory, so the Content-Type "
          "is invalid and RFC 2045 5.2 says to assume text/plain; charset=us-ascii: "
          "Petrel shows the whole body as that text part; Dovecot invents a multipart "
          "with one empty part.",
          check=lambda p, d: '"TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 63 5' in p
          and '"MIXED"' in d and '"MIXED"' not in p),
    Known("multipart-without-delimiter", "17-*", "BODY*",
          INVALID + "RFC 2046 5.1.1: a multipart body has at least one body part "
          "after a dash-boundary line, and this one has none. Petrel keeps the body as "
          "one opaque text part (with the declared parameters); Dovecot invents a "
          "multipart with one empty part.",
          check=lambda p, d: '"7BIT" 76 3' in p and '"MIXED"' in d and '"MIXED"' not in p),
    Known("opaque-multipart-sections", ("17-*", "18-*"), "B*[1*",
          "Sections of the two multiparts above: Petrel's part 1 is the whole body "
          "(its MIME header the message header), Dovecot's invented part is empty.",
          check=dovecot_empty),
    Known("rfc822-with-base64", "33-*", "BODY*",
          "RFC 2046 5.2.1: no encoding other than 7bit, 8bit or binary is permitted "
          "for message/rfc822, so this part cannot be parsed as a message: Petrel "
          "describes it as an opaque leaf of 58 bytes; Dovecot as an empty message of "
          "60 bytes, counting the CRLF that RFC 2046 5.1.1 gives to the delimiter.",
          check=lambda p, d: '"BASE64" 58 1' in p and '"BASE64" 60' in d and same_status(p, d)),
    Known("rfc822-with-base64-sections", "33-*", "B*[1*",
          "Sections of the part above: Petrel's part 1 is a leaf whose BINARY is the "
          "decoded message; for Dovecot it is a message/rfc822 with an empty header.",
          check=same_status),
    Known("message-global", "38-*", "*",
          "RFC 9051 7.5.2 and 6.4.5: MESSAGE/GLOBAL carries envelope, body structure "
          "and lines like MESSAGE/RFC822 and has nested part numbers (media-message = "
          "\"MESSAGE\" (\"RFC822\" / \"GLOBAL\")); Dovecot 2.3 treats it as a leaf.",
          check=lambda p, d: same_status(p, d) and ('"GLOBAL"' not in p or re.search(
              r'"GLOBAL" NIL NIL NIL "7BIT" 87[ )]', d))),
    Known("binary-invalid-data", "37-*", "BINARY*",
          "RFC 3516 4.3 / RFC 9051 6.4.5 name only UNKNOWN-CTE for a part that cannot "
          "be decoded; Petrel uses it for invalid base64/quoted-printable too, Dovecot "
          "answers NO [PARSE] (RFC 5530: an error in the header) with an untagged FETCH "
          "carrying only the UID.",
          check=lambda p, d: p == "NO [UNKNOWN-CTE]" and
          re.fullmatch(r"NO \[(PARSE|UNKNOWN-CTE)\]\n\* FETCH \(UID \d+\)", d)),
    Known("binary-duplicate-cte", "23-*", "BINARY*[1]*",
          "RFC 2045 6.1 gives a part one encoding; of two Content-Transfer-Encoding "
          "fields both servers report the first in BODYSTRUCTURE, and Petrel decodes "
          "BINARY with that one, while Dovecot refuses with NO [PARSE], which RFC 3516 "
          "does not provide for.",
          check=lambda p, d: status(p) == "OK" and
          re.fullmatch(r"NO \[PARSE\]\n\* FETCH \(UID \d+\)", d)),
    Known("nul-append", "26-*", "APPEND",
          "RFC 3516 4.4: a server that cannot store binary content fails an APPEND "
          "of NUL octets with NO [UNKNOWN-CTE] (Petrel); one that can MAY change the "
          "content transfer encoding instead (Dovecot stores the part as base64).",
          check=lambda p, d: p == "NO [UNKNOWN-CTE]" and d == "OK [APPENDUID]"),
    Known("depth-limit", ("51-*", "52-*"), "BODY*", DEEP, check=depth(8)),
    Known("depth-limit-sections", ("51-*", "52-*"), "*1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1*",
          DEEP + " Sections at and below the limit differ accordingly.", check=beyond_depth),
]
for _item in HEADER_END_ITEMS:
    for _f in ("19-*", "24-*"):
        KNOWN_DIFFERENCES.append(Known(f"header-end {_f} {_item}", _f, _item, HEADER_END,
                                       check=moved({"19-*": "This line starts the body",
                                                    "24-*": "This message has no header"}[_f])))
for _item in ("BODY.PEEK[2]*", "BODY.PEEK[2.MIME]", "BINARY.PEEK[2]*", "BINARY.SIZE[2]"):
    KNOWN_DIFFERENCES.append(Known(f"part-header-end {_item}", "20-*", _item, HEADER_END,
                                   check=moved("body right after header without blank")))


def answer_text(status, lines):
    """One comparable text for a FETCH answer: the tagged status and every
    untagged line with the sequence number removed."""
    body = [re.sub(r"^\* \d+ FETCH ", "* FETCH ", l) for l in lines]
    return status + "\n" + "\n".join(body)


_results = {}


def explain(f, item, pa, da):
    """None when the answers are the same up to the rules and the known
    differences (marking what was used as seen), else (item, p, d)."""
    every = set(RULES)
    pc, dc = canonical(pa, every), canonical(da, every)
    if pc == dc:
        for r in RULES:
            if canonical(pa, every - {r}) != canonical(da, every - {r}):
                RULES[r].seen.add((f, item))
        return None
    hit = [k for k in KNOWN_DIFFERENCES if k.matches(f, item, pc, dc)]
    for k in hit:
        k.seen.add((f, item))
    return None if hit else (item, pc, dc)


def compare(pair, f):
    """Returns the list of unexplained differences for message f (cached)."""
    if f in _results:
        return _results[f]
    petrel, dovecot = pair
    diffs = []
    ps, ds = petrel.append_status[f], dovecot.append_status[f]
    if ps != ds:
        p, d = status_of(petrel.append_detail[f]), status_of(dovecot.append_detail[f])
        hit = [k for k in KNOWN_DIFFERENCES if k.matches(f, "APPEND", p, d)]
        for k in hit:
            k.seen.add((f, "APPEND"))
        if not hit:
            diffs.append(("APPEND", petrel.append_detail[f], dovecot.append_detail[f]))
    elif ps == "OK":
        items = items_for(pair, f)
        pa = petrel.fetch_many(petrel.seq[f], items)
        da = dovecot.fetch_many(dovecot.seq[f], items)
        for item in items:
            if answer_text(*pa[item]) != answer_text(*da[item]):
                d = explain(f, item, pa[item], da[item])
                if d:
                    diffs.append(d)
    _results[f] = diffs
    dump = os.environ.get("PETREL_DIFF_DUMP")
    if dump and diffs:
        # Every unexplained difference in full, for working through them.
        with open(dump, "a") as out:
            for item, p, d in diffs:
                out.write(f"=== {f} {item}\n--- petrel\n{p}\n--- dovecot\n{d}\n")
    return diffs


def show(diffs, limit=12):
    out = []
    for item, p, d in diffs[:limit]:
        out.append(f"--- {item}\n  petrel:  {p[:1500]!r}\n  dovecot: {d[:1500]!r}")
    if len(diffs) > limit:
        out.append(f"... and {len(diffs) - limit} more")
    return "\n".join(out)


@pytest.mark.parametrize("f", MESSAGES)
def test_same_as_dovecot(pair, f):
    diffs = compare(pair, f)
    assert not diffs, f"{f}: {len(diffs)} answers differ from Dovecot\n" + show(diffs)


def test_corpus_covers_structures(pair):
    """The comparison is only worth something if it walked real trees."""
    petrel, dovecot = pair
    assert len(MESSAGES) >= 45
    # Both refuse the empty file; Petrel refuses the NUL message (nul-append).
    assert sorted(set(MESSAGES) - set(dovecot.seq)) == ["27-empty-file.eml"], dovecot.append_detail
    assert sorted(set(MESSAGES) - set(petrel.seq)) == ["26-nul-bytes.eml", "27-empty-file.eml"], \
        petrel.append_detail
    res = petrel.fetch_many(petrel.seq["50-thousand-parts.eml"], ["BODYSTRUCTURE"])
    bs = parse_fetch(res["BODYSTRUCTURE"][1][0])[0][1]
    assert len(parts_of(bs)) == 1000


def test_every_rule_and_known_difference_is_used(pair):
    for f in MESSAGES:
        compare(pair, f)
    stale = [r.name for r in RULES.values() if not r.seen]
    stale += [k.name for k in KNOWN_DIFFERENCES if not k.seen]
    assert not stale, f"rules or known differences that no longer occur: {stale}"
