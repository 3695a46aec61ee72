#include "test-common.h"

#include "imap/imap-parser.h"
#include "lib/buf.h"

#include <stdint.h>
#include <unistd.h>

/* ---- harness: run an input through a parser and describe the events ----
 *
 * Every event is appended to a transcript, one per line:
 *   C <tag> <NAME> [UID] <args>     a command
 *   E <tag|-> <code|-> <message>    an error
 *   +                               a continuation request
 *   F <code|-> <message>            fatal (the run stops)
 *   L <bytes>                       a raw line (line mode)
 * Arguments: atom as is, NIL as NIL, quoted as "..." (with \xNN for bytes
 * outside printable ASCII), literal as {n}bytes (~{n} for literal8, a '+'
 * for non-sync), file literal as F{n}=bytes, list as (a b). */

struct sink_ctx {
	enum imap_literal_dest dest;
	const char *code, *message;
	FILE *files[16];
	unsigned nfiles;
	struct imap_literal_request last;  /* tag/name point to the copies */
	char last_tag[64], last_name[64];
	unsigned calls;
	int fixed_fd;   /* > 0: answer FILE with this descriptor */
	bool no_fd;     /* answer FILE without a descriptor */
};

static enum imap_literal_dest
sink_callback(void *context, const struct imap_literal_request *req,
	      struct imap_literal_answer *answer_r)
{
	struct sink_ctx *ctx = context;
	ctx->last = *req;
	snprintf(ctx->last_tag, sizeof(ctx->last_tag), "%s", req->tag);
	snprintf(ctx->last_name, sizeof(ctx->last_name), "%s", req->name);
	ctx->last.tag = ctx->last_tag;
	ctx->last.name = ctx->last_name;
	ctx->calls++;
	if (ctx->dest == IMAP_LITERAL_FILE && ctx->no_fd) {
		/* answer_r->fd stays -1 */
	} else if (ctx->dest == IMAP_LITERAL_FILE && ctx->fixed_fd > 0) {
		answer_r->fd = ctx->fixed_fd;
	} else if (ctx->dest == IMAP_LITERAL_FILE) {
		if (ctx->nfiles == 16)
			return IMAP_LITERAL_REJECT;
		FILE *f = tmpfile();
		if (f == NULL)
			return IMAP_LITERAL_REJECT;
		ctx->files[ctx->nfiles++] = f;
		answer_r->fd = fileno(f);
	} else if (ctx->dest == IMAP_LITERAL_REJECT) {
		answer_r->code = ctx->code;
		answer_r->message = ctx->message;
	}
	return ctx->dest;
}

static void sink_close(struct sink_ctx *ctx)
{
	for (unsigned i = 0; i < ctx->nfiles; i++)
		fclose(ctx->files[i]);
	ctx->nfiles = 0;
}

static void describe_bytes(struct buf *out, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];
		if (c < 0x20 || c >= 0x7f || c == '\\')
			buf_printf(out, "\\x%02x", c);
		else
			buf_append_char(out, (char)c);
	}
}

static void describe_args(struct buf *out, const struct imap_arg *args,
			  size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const struct imap_arg *a = &args[i];
		if (i > 0)
			buf_append_char(out, ' ');
		switch (a->type) {
		case IMAP_ARG_ATOM:
		case IMAP_ARG_NIL:
			describe_bytes(out, a->data, a->len);
			TEST_CHECK((a->type == IMAP_ARG_NIL) ==
				   (strcasecmp(a->data, "NIL") == 0));
			break;
		case IMAP_ARG_STRING:
			buf_append_char(out, '"');
			describe_bytes(out, a->data, a->len);
			buf_append_char(out, '"');
			break;
		case IMAP_ARG_LITERAL:
			buf_printf(out, "%s{%zu%s}", a->literal8 ? "~" : "",
				   a->len, a->nonsync ? "+" : "");
			describe_bytes(out, a->data, a->len);
			TEST_CHECK(a->data[a->len] == '\0');
			break;
		case IMAP_ARG_LITERAL_FILE: {
			char tmp[256];
			ssize_t n = pread(a->fd, tmp, sizeof(tmp), 0);
			buf_printf(out, "%sF{%llu}=", a->literal8 ? "~" : "",
				   (unsigned long long)a->size);
			describe_bytes(out, tmp, n > 0 ? (size_t)n : 0);
			break;
		}
		case IMAP_ARG_LIST:
			buf_append_char(out, '(');
			describe_args(out, a->list, a->list_count);
			buf_append_char(out, ')');
			break;
		}
	}
}

static bool describe_event(struct imap_parser *p, enum imap_parse_result r,
			   struct buf *out, const char *line, size_t line_len)
{
	struct imap_parser_error err;
	switch (r) {
	case IMAP_PARSE_NEED_MORE:
		return true;
	case IMAP_PARSE_COMMAND: {
		const struct imap_command *cmd = imap_parser_get_command(p);
		TEST_CHECK(cmd != NULL);
		if (cmd == NULL)
			return false;
		buf_printf(out, "C %s %s%s", cmd->tag, cmd->name,
			   cmd->uid ? " UID" : "");
		if (cmd->args_count > 0) {
			buf_append_char(out, ' ');
			describe_args(out, cmd->args, cmd->args_count);
		}
		buf_append_char(out, '\n');
		return true;
	}
	case IMAP_PARSE_LINE:
		buf_append_str(out, "L ");
		describe_bytes(out, line, line_len);
		buf_append_char(out, '\n');
		return true;
	case IMAP_PARSE_CONTINUE:
		TEST_CHECK(imap_parser_get_command(p) == NULL);
		buf_append_str(out, "+\n");
		return true;
	case IMAP_PARSE_ERROR:
		TEST_CHECK(imap_parser_get_command(p) == NULL);
		imap_parser_get_error(p, &err);
		buf_printf(out, "E %s %s %s\n", err.tag ? err.tag : "-",
			   err.code ? err.code : "-", err.message);
		return true;
	case IMAP_PARSE_FATAL:
		imap_parser_get_error(p, &err);
		buf_printf(out, "F %s %s\n", err.code ? err.code : "-",
			   err.message);
		return false;
	}
	return false;
}

struct run_opts {
	const struct imap_parser_limits *limits;
	struct sink_ctx *sink;
	bool line_mode;
};

/* Feeds input in chunks of chunk bytes (0: all at once) and returns the
 * transcript (caller frees). */
static char *run_split(const void *input, size_t len, size_t chunk,
		       const struct run_opts *opts)
{
	struct imap_parser *p = imap_parser_new(opts ? opts->limits : NULL);
	struct buf out = BUF_INIT, pending = BUF_INIT;
	const unsigned char *in = input;
	size_t pos = 0;
	bool alive = true;

	if (opts != NULL && opts->sink != NULL)
		imap_parser_set_literal_callback(p, sink_callback, opts->sink);
	while (alive && pos < len) {
		size_t n = chunk == 0 ? len - pos : chunk;
		if (n > len - pos)
			n = len - pos;
		buf_append(&pending, in + pos, n);
		pos += n;
		for (;;) {
			size_t consumed = 0;
			const char *line = NULL;
			size_t line_len = 0;
			enum imap_parse_result r;
			if (opts != NULL && opts->line_mode)
				r = imap_parser_read_line(p, pending.data,
					pending.len, &consumed, &line, &line_len);
			else
				r = imap_parser_feed(p, pending.data,
						     pending.len, &consumed);
			TEST_CHECK(consumed <= pending.len);
			if (r == IMAP_PARSE_NEED_MORE)
				TEST_CHECK(consumed == pending.len);
			buf_consume(&pending, consumed);
			if (!describe_event(p, r, &out, line, line_len)) {
				alive = false;
				break;
			}
			if (r == IMAP_PARSE_NEED_MORE)
				break;
		}
	}
	if (alive && imap_parser_is_idle(p))
		buf_append_str(&out, "idle\n");
	imap_parser_destroy(&p);
	TEST_CHECK(p == NULL);
	buf_free(&pending);
	char *s = strdup(buf_cstr(&out));
	buf_free(&out);
	return s;
}

/* Runs input whole, byte by byte and in a few other chunk sizes; every run
 * must give expected. */
static void check_parse_opts(const void *input, size_t len,
			     const struct run_opts *opts, const char *expected,
			     int line)
{
	static const size_t chunks[] = { 0, 1, 2, 3, 7, 64 };
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		if (opts != NULL && opts->sink != NULL)
			sink_close(opts->sink);
		char *got = run_split(input, len, chunks[i], opts);
		if (strcmp(got, expected) != 0) {
			fprintf(stderr, "  FAIL line %d (chunk %zu):\n--- got:\n%s"
				"--- expected:\n%s", line, chunks[i], got,
				expected);
			test_checks_failed++;
		}
		free(got);
	}
	if (opts != NULL && opts->sink != NULL)
		sink_close(opts->sink);
}

#define CHECK_PARSE(input, expected) \
	check_parse_opts(input, sizeof(input) - 1, NULL, expected, __LINE__)
#define CHECK_PARSE_OPTS(input, opts, expected) \
	check_parse_opts(input, sizeof(input) - 1, opts, expected, __LINE__)

/* ---- token types ---- */

static void test_parser_simple_commands(void)
{
	CHECK_PARSE("a1 NOOP\r\n", "C a1 NOOP\nidle\n");
	CHECK_PARSE("a1 noop\r\n", "C a1 NOOP\nidle\n");
	CHECK_PARSE("A001 CAPABILITY\r\nA002 LOGOUT\r\n",
		    "C A001 CAPABILITY\nC A002 LOGOUT\nidle\n");
	CHECK_PARSE("a]1 NOOP\r\n", "C a]1 NOOP\nidle\n");
	CHECK_PARSE("a1 SELECT INBOX\r\n", "C a1 SELECT INBOX\nidle\n");
	/* incomplete input is not a command yet */
	CHECK_PARSE("a1 NOOP", "");
	CHECK_PARSE("a1 NOOP\r", "");
}

static void test_parser_uid_prefix(void)
{
	CHECK_PARSE("a2 uid fetch 1:3,5,* (FLAGS)\r\n",
		    "C a2 FETCH UID 1:3,5,* (FLAGS)\nidle\n");
	CHECK_PARSE("a2 UID STORE $ +FLAGS.SILENT (\\Seen $Forwarded)\r\n",
		    "C a2 STORE UID $ +FLAGS.SILENT (\\x5cSeen $Forwarded)\nidle\n");
	/* "UID UID" leaves name UID for the command table to refuse */
	CHECK_PARSE("a UID UID\r\n", "C a UID UID\nidle\n");
}

static void test_parser_bracket_atoms(void)
{
	CHECK_PARSE("a FETCH 1 (BODY.PEEK[1.2.MIME] BODY[HEADER.FIELDS (From To)]<0.100>)\r\n",
		    "C a FETCH 1 (BODY.PEEK[1.2.MIME] BODY[HEADER.FIELDS (From To)]<0.100>)\nidle\n");
	CHECK_PARSE("a FETCH 1 BODY[]\r\n", "C a FETCH 1 BODY[]\nidle\n");
	CHECK_PARSE("a FETCH 1 BODY[HEADER.FIELDS.NOT (\"X-A\" \"Y]\\\"\")]\r\n",
		    "C a FETCH 1 BODY[HEADER.FIELDS.NOT (\"X-A\" \"Y]\\x5c\"\")]\nidle\n");
	CHECK_PARSE("a SELECT [Gmail]/Sent\r\n", "C a SELECT [Gmail]/Sent\nidle\n");
	/* "]" alone is an ASTRING-CHAR (resp-specials) */
	CHECK_PARSE("a SELECT foo]\r\n", "C a SELECT foo]\nidle\n");
}

static void test_parser_list_patterns_and_specials(void)
{
	CHECK_PARSE("a LIST \"\" *\r\n", "C a LIST \"\" *\nidle\n");
	CHECK_PARSE("a LIST \"\" foo/%\r\n", "C a LIST \"\" foo/%\nidle\n");
	CHECK_PARSE("a LIST \"\" %\r\n", "C a LIST \"\" %\nidle\n");
	CHECK_PARSE("a SEARCH $\r\n", "C a SEARCH $\nidle\n");
	CHECK_PARSE("a X ~ ~foo \xc3\xa9t\xc3\xa9\r\n",
		    "C a X ~ ~foo \\xc3\\xa9t\\xc3\\xa9\nidle\n");
}

static void test_parser_quoted_strings(void)
{
	CHECK_PARSE("a LOGIN \"us er\" \"p\\\"w\\\\d\"\r\n",
		    "C a LOGIN \"us er\" \"p\"w\\x5cd\"\nidle\n");
	CHECK_PARSE("a X \"\"\r\n", "C a X \"\"\nidle\n");
	CHECK_PARSE("a SELECT \"caf\xc3\xa9\"\r\n",
		    "C a SELECT \"caf\\xc3\\xa9\"\nidle\n");
	CHECK_PARSE("a X \"(){}[]%*\"\r\n", "C a X \"(){}[]%*\"\nidle\n");
}

static void test_parser_nil_and_lists(void)
{
	CHECK_PARSE("a ID NIL\r\n", "C a ID NIL\nidle\n");
	CHECK_PARSE("a ID nil\r\n", "C a ID nil\nidle\n");
	CHECK_PARSE("a ID NILS\r\n", "C a ID NILS\nidle\n");
	CHECK_PARSE("a ID (\"name\" \"x\" \"version\" NIL)\r\n",
		    "C a ID (\"name\" \"x\" \"version\" NIL)\nidle\n");
	CHECK_PARSE("a X () (()) ((a) (b c))\r\n",
		    "C a X () (()) ((a) (b c))\nidle\n");
	CHECK_PARSE("a SEARCH OR (FROM x) (NOT (TO y))\r\n",
		    "C a SEARCH OR (FROM x) (NOT (TO y))\nidle\n");
}

static void test_parser_whitespace_and_line_ends(void)
{
	/* lone LF accepted; extra spaces tolerated */
	CHECK_PARSE("a NOOP\n", "C a NOOP\nidle\n");
	CHECK_PARSE("a  NOOP \r\n", "C a NOOP\nidle\n");
	CHECK_PARSE("a X  ( a  b )  c \r\n", "C a X (a b) c\nidle\n");
	CHECK_PARSE("a X {1}\nz\n", "+\nC a X {1}z\nidle\n");
}

static void test_parser_sync_literals(void)
{
	CHECK_PARSE("a LOGIN {4}\r\nuser {4}\r\npass\r\n",
		    "+\n+\nC a LOGIN {4}user {4}pass\nidle\n");
	CHECK_PARSE("a X {0}\r\n\r\n", "+\nC a X {0}\nidle\n");
	CHECK_PARSE("a X ({3}\r\nabc)\r\n", "+\nC a X ({3}abc)\nidle\n");
	/* literal bytes are not interpreted */
	CHECK_PARSE("a X {6}\r\n\"(\r\n)\\ b\r\n",
		    "+\nC a X {6}\"(\\x0d\\x0a)\\x5c b\nidle\n");
	CHECK_PARSE("a X {005}\r\nhello\r\n", "+\nC a X {5}hello\nidle\n");
}

static void test_parser_nonsync_literals(void)
{
	CHECK_PARSE("a LOGIN {4+}\r\nuser \"pw\"\r\nb NOOP\r\n",
		    "C a LOGIN {4+}user \"pw\"\nC b NOOP\nidle\n");
	CHECK_PARSE("a X {0+}\r\n\r\n", "C a X {0+}\nidle\n");
}

static void test_parser_literal8(void)
{
	CHECK_PARSE("a APPEND INBOX ~{3}\r\na\0b\r\n",
		    "+\nC a APPEND INBOX ~{3}a\\x00b\nidle\n");
	CHECK_PARSE("a APPEND INBOX ~{3+}\r\n\0\0\0\r\n",
		    "C a APPEND INBOX ~{3+}\\x00\\x00\\x00\nidle\n");
	/* NUL only in literal8 */
	CHECK_PARSE("a APPEND INBOX {3}\r\na\0b\r\nb NOOP\r\n",
		    "+\nE a - NUL in literal (use literal8)\nC b NOOP\nidle\n");
	CHECK_PARSE("a X ~{x}\r\nb NOOP\r\n",
		    "E a - Invalid literal size\nC b NOOP\nidle\n");
}

/* ---- errors and resynchronisation ---- */

static void test_parser_tag_errors(void)
{
	CHECK_PARSE("\r\na NOOP\r\n", "E - - Empty command line\nC a NOOP\nidle\n");
	CHECK_PARSE("\na NOOP\r\n", "E - - Empty command line\nC a NOOP\nidle\n");
	CHECK_PARSE(" a NOOP\r\nb NOOP\r\n", "E - - Missing tag\nC b NOOP\nidle\n");
	CHECK_PARSE("a+ NOOP\r\nb NOOP\r\n",
		    "E - - Invalid character in tag\nC b NOOP\nidle\n");
	CHECK_PARSE("a* NOOP\r\n", "E - - Invalid character in tag\nidle\n");
	CHECK_PARSE("a% NOOP\r\n", "E - - Invalid character in tag\nidle\n");
	CHECK_PARSE("a\\ NOOP\r\n", "E - - Invalid character in tag\nidle\n");
	CHECK_PARSE("a\"b NOOP\r\n", "E - - Invalid character in tag\nidle\n");
	CHECK_PARSE("a{1} NOOP\r\n", "E - - Invalid character in tag\nidle\n");
	CHECK_PARSE("a( NOOP\r\n", "E - - Invalid character in tag\nidle\n");
	CHECK_PARSE("\xc3\xa9 NOOP\r\n", "E - - Invalid character in tag\nidle\n");
	CHECK_PARSE("+ NOOP\r\n", "E - - Invalid character in tag\nidle\n");
	CHECK_PARSE("a\r\n", "E a - Missing command name\nidle\n");
	CHECK_PARSE("a \r\n", "E a - Missing command name\nidle\n");
}

static void test_parser_tag_too_long(void)
{
	struct imap_parser_limits limits;
	imap_parser_limits_default(&limits);
	limits.tag_length = 4;
	struct run_opts opts = { .limits = &limits };
	CHECK_PARSE_OPTS("abcd NOOP\r\nabcde NOOP\r\nb NOOP\r\n", &opts,
			 "C abcd NOOP\nE - - Tag too long\nC b NOOP\nidle\n");
}

static void test_parser_name_errors(void)
{
	CHECK_PARSE("a UID\r\nb NOOP\r\n",
		    "E a - Missing command after UID\nC b NOOP\nidle\n");
	CHECK_PARSE("a UID \r\n", "E a - Missing command after UID\nidle\n");
	CHECK_PARSE("a NO(OP\r\n", "E a - Invalid character in command name\nidle\n");
	CHECK_PARSE("a FE[TCH\r\n", "C a FE[TCH\nidle\n");
	CHECK_PARSE("a \"NOOP\"\r\n", "E a - Invalid character in command name\nidle\n");
	CHECK_PARSE("a AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n",
		    "E a - Command name too long\nidle\n");
}

static void test_parser_quoted_errors(void)
{
	CHECK_PARSE("a LOGIN \"abc\r\nb NOOP\r\n",
		    "E a - Unterminated quoted string\nC b NOOP\nidle\n");
	CHECK_PARSE("a LOGIN \"abc\nb NOOP\r\n",
		    "E a - Unterminated quoted string\nC b NOOP\nidle\n");
	CHECK_PARSE("a LOGIN \"a\0c\"\r\nb NOOP\r\n",
		    "E a - NUL in quoted string\nC b NOOP\nidle\n");
	CHECK_PARSE("a LOGIN \"a\\nc\"\r\nb NOOP\r\n",
		    "E a - Invalid escape in quoted string\nC b NOOP\nidle\n");
	CHECK_PARSE("a LOGIN \"a\\\r\nb NOOP\r\n",
		    "E a - Invalid escape in quoted string\nC b NOOP\nidle\n");
	CHECK_PARSE("a LOGIN \"a\"b\r\n", "E a - Missing space after argument\nidle\n");
	CHECK_PARSE("a LOGIN \"a\"(b)\r\n", "E a - Missing space after argument\nidle\n");
	CHECK_PARSE("a LOGIN \"a\"{1}\r\n", "E a - Missing space after argument\nidle\n");
}

static void test_parser_atom_and_list_errors(void)
{
	CHECK_PARSE("a X b)\r\nb NOOP\r\n", "E a - Unexpected ')'\nC b NOOP\nidle\n");
	CHECK_PARSE("a X )\r\n", "E a - Unexpected ')'\nidle\n");
	CHECK_PARSE("a X (b\r\nb NOOP\r\n", "E a - Missing ')'\nC b NOOP\nidle\n");
	CHECK_PARSE("a X ((b)\r\n", "E a - Missing ')'\nidle\n");
	CHECK_PARSE("a X FLAGS(b)\r\n", "E a - Missing space before '('\nidle\n");
	CHECK_PARSE("a X b\"c\"\r\n", "E a - Unexpected '\"' in atom\nidle\n");
	CHECK_PARSE("a X b{3}\r\nb NOOP\r\n", "E a - Unexpected '{' in atom\nC b NOOP\nidle\n");
	CHECK_PARSE("a X BODY[1[2]]\r\n", "E a - Nested '[' in atom\nidle\n");
	CHECK_PARSE("a X BODY[1\r\nb NOOP\r\n", "E a - Missing ']'\nC b NOOP\nidle\n");
	CHECK_PARSE("a X BODY[HEADER.FIELDS ({4+}\r\nFrom)]\r\n",
		    "E a - Literal inside [] not supported\nidle\n");
	CHECK_PARSE("a X BODY[\"x\r\n", "E a - Unterminated quoted string in []\nidle\n");
	CHECK_PARSE("a X BODY[\x01]\r\n", "E a - Invalid character in atom\nidle\n");
	CHECK_PARSE("a X b\tc\r\n", "E a - Invalid character in atom\nidle\n");
	CHECK_PARSE("a X \t\r\n", "E a - Invalid character\nidle\n");
	CHECK_PARSE("a X \x7f\r\n", "E a - Invalid character\nidle\n");
	CHECK_PARSE("a X b\x7f\r\n", "E a - Invalid character in atom\nidle\n");
	CHECK_PARSE("a X () b\rc\r\nb NOOP\r\n",
		    "E a - CR not followed by LF\nC b NOOP\nidle\n");
	CHECK_PARSE("a X\rb NOOP\r\n", "E a - CR not followed by LF\nidle\n");
}

static void test_parser_literal_header_errors(void)
{
	CHECK_PARSE("a X {}\r\nb NOOP\r\n", "E a - Invalid literal size\nC b NOOP\nidle\n");
	CHECK_PARSE("a X {+}\r\n", "E a - Invalid literal size\nidle\n");
	CHECK_PARSE("a X {5x}\r\n", "E a - Invalid literal size\nidle\n");
	CHECK_PARSE("a X {5+x}\r\n", "E a - Missing '}' in literal\nidle\n");
	CHECK_PARSE("a X {5} \r\nb NOOP\r\n",
		    "E a - Missing CRLF after literal\nC b NOOP\nidle\n");
	CHECK_PARSE("a X {5}\rx\r\nb NOOP\r\n",
		    "E a - Missing LF after literal\nC b NOOP\nidle\n");
	CHECK_PARSE("a X {-1}\r\n", "E a - Invalid literal size\nidle\n");
}

static void test_parser_resync_after_error_in_same_buffer(void)
{
	/* a bad line, then good commands: all in one buffer */
	CHECK_PARSE("a X )\r\nb NOOP\r\nc LOGIN {1+}\r\nx y\r\n",
		    "E a - Unexpected ')'\nC b NOOP\nC c LOGIN {1+}x y\nidle\n");
	/* a non-sync literal announced on the bad line is skipped whole,
	 * even when it looks like commands */
	CHECK_PARSE("a X ) {12+}\r\nz NOOP\r\nzz X\r\nb NOOP\r\n",
		    "E a - Unexpected ')'\nC b NOOP\nidle\n");
	/* ... and the line continues after the literal */
	CHECK_PARSE("a X ) {3+}\r\nabc rest {2+}\r\nxy\r\nb NOOP\r\n",
		    "E a - Unexpected ')'\nC b NOOP\nidle\n");
	/* a sync literal's bytes are not sent when the command failed */
	CHECK_PARSE("a X ) {5}\r\nb NOOP\r\n", "E a - Unexpected ')'\nC b NOOP\nidle\n");
	/* an error inside a list stops list parsing */
	CHECK_PARSE("a X ((((\"x\0\r\nb NOOP\r\n",
		    "E a - NUL in quoted string\nC b NOOP\nidle\n");
	/* an error in the literal header itself still skips the data */
	CHECK_PARSE("a X \"x\" {3+}}\r\n",
		    "E a - Missing CRLF after literal\nidle\n");
}

/* ---- literal policy ---- */

static void test_parser_literal_sizes_never_overflow(void)
{
	CHECK_PARSE("a APPEND x {4294967296}\r\nb NOOP\r\n",
		    "E a TOOBIG Literal too large\nC b NOOP\nidle\n");
	CHECK_PARSE("a APPEND x {99999999999999999999}\r\nb NOOP\r\n",
		    "E a TOOBIG Literal too large\nC b NOOP\nidle\n");
	CHECK_PARSE("a APPEND x {18446744073709551616}\r\nb NOOP\r\n",
		    "E a TOOBIG Literal too large\nC b NOOP\nidle\n");
	CHECK_PARSE("a APPEND x ~{9223372036854775808}\r\nb NOOP\r\n",
		    "E a TOOBIG Literal too large\nC b NOOP\nidle\n");
	/* non-sync: too large to be read and thrown away */
	CHECK_PARSE("a APPEND x {99999999999999999999+}\r\nb NOOP\r\n",
		    "F TOOBIG Non-synchronizing literal too large\n");
	CHECK_PARSE("a APPEND x {4294967296+}\r\nb NOOP\r\n",
		    "F TOOBIG Non-synchronizing literal too large\n");
	/* also when the huge literal is on a line already in error */
	CHECK_PARSE("a X ) {99999999999999999999+}\r\nb NOOP\r\n",
		    "E a - Unexpected ')'\nF TOOBIG Non-synchronizing literal too large\n");
}

static void test_parser_literal_minus_limit(void)
{
	/* RFC 7888 5: non-sync over 4096 is rejected with TOOBIG, read and
	 * discarded, and the next command parses. */
	size_t n = 5000;
	struct buf in = BUF_INIT;
	buf_printf(&in, "a APPEND INBOX {%zu+}\r\n", n);
	for (size_t i = 0; i < n; i++)
		buf_append_char(&in, (i % 50) == 49 ? '\n' : 'x');
	buf_append_str(&in, " more args\r\nb NOOP\r\n");
	check_parse_opts(in.data, in.len, NULL,
			 "E a TOOBIG Non-synchronizing literal too large, use a synchronizing literal\n"
			 "C b NOOP\nidle\n", __LINE__);
	buf_free(&in);

	/* exactly 4096 is fine */
	buf_printf(&in, "a APPEND INBOX {4096+}\r\n");
	for (size_t i = 0; i < 4096; i++)
		buf_append_char(&in, 'y');
	buf_append_str(&in, "\r\n");
	struct imap_parser *p = imap_parser_new(NULL);
	size_t consumed;
	TEST_CHECK_INT(imap_parser_feed(p, in.data, in.len, &consumed),
		       IMAP_PARSE_COMMAND);
	TEST_CHECK_INT(consumed, in.len);
	const struct imap_command *cmd = imap_parser_get_command(p);
	TEST_CHECK(cmd != NULL && cmd->args_count == 2 &&
		   cmd->args[1].type == IMAP_ARG_LITERAL &&
		   cmd->args[1].len == 4096);
	imap_parser_destroy(&p);
	buf_free(&in);
}

static void test_parser_literal_memory_limit(void)
{
	struct imap_parser_limits limits;
	imap_parser_limits_default(&limits);
	limits.literal_size = 5;
	limits.nonsync_literal_size = 100;
	limits.discard_size = 10;
	struct run_opts opts = { .limits = &limits };
	CHECK_PARSE_OPTS("a X {5}\r\nabcde\r\nb X {6}\r\nc NOOP\r\n", &opts,
			 "+\nC a X {5}abcde\nE b TOOBIG Literal too large\nC c NOOP\nidle\n");
	/* the limit is for all of one command's in-memory literals */
	CHECK_PARSE_OPTS("a X {3}\r\nabc {2}\r\nde\r\nb X {3}\r\nabc {3}\r\nc NOOP\r\n", &opts,
			 "+\n+\nC a X {3}abc {2}de\n+\nE b TOOBIG Literal too large\nC c NOOP\nidle\n");
	/* non-sync over the memory limit: discarded */
	CHECK_PARSE_OPTS("a X {6+}\r\nabcdef\r\nc NOOP\r\n", &opts,
			 "E a TOOBIG Literal too large\nC c NOOP\nidle\n");
	/* non-sync over the discard limit: fatal */
	CHECK_PARSE_OPTS("a X {11+}\r\nabcdefghijk\r\nc NOOP\r\n", &opts,
			 "F TOOBIG Non-synchronizing literal too large\n");
}

static void test_parser_fatal_is_sticky_until_reset(void)
{
	struct imap_parser *p = imap_parser_new(NULL);
	size_t consumed;
	const char *in = "a X {99999999999+}\r\n";
	TEST_CHECK_INT(imap_parser_feed(p, (const unsigned char *)in,
					strlen(in), &consumed), IMAP_PARSE_FATAL);
	TEST_CHECK_INT(imap_parser_feed(p, (const unsigned char *)"b NOOP\r\n",
					8, &consumed), IMAP_PARSE_FATAL);
	TEST_CHECK_INT(consumed, 0);
	struct imap_parser_error err;
	imap_parser_get_error(p, &err);
	TEST_CHECK_STR(err.code, "TOOBIG");
	imap_parser_reset(p);
	TEST_CHECK(imap_parser_is_idle(p));
	TEST_CHECK_INT(imap_parser_feed(p, (const unsigned char *)"b NOOP\r\n",
					8, &consumed), IMAP_PARSE_COMMAND);
	imap_parser_destroy(&p);
}

static void test_parser_literal_file_sink(void)
{
	struct sink_ctx sink = { .dest = IMAP_LITERAL_FILE };
	struct run_opts opts = { .sink = &sink };
	CHECK_PARSE_OPTS("a APPEND INBOX (\\Seen) {12}\r\nhello\r\nworld\r\n",
			 &opts, "+\nC a APPEND INBOX (\\x5cSeen) F{12}=hello\\x0d\\x0aworld\nidle\n");
	TEST_CHECK_STR(sink.last.name, "APPEND");
	TEST_CHECK_STR(sink.last.tag, "a");
	TEST_CHECK_INT(sink.last.arg_index, 2);
	TEST_CHECK_INT(sink.last.depth, 0);
	TEST_CHECK_INT(sink.last.size, 12);
	TEST_CHECK(sink.last.sync);
	TEST_CHECK(!sink.last.literal8);

	CHECK_PARSE_OPTS("a APPEND INBOX ~{3+}\r\na\0b\r\n", &opts,
			 "C a APPEND INBOX ~F{3}=a\\x00b\nidle\n");
	TEST_CHECK(!sink.last.sync);
	TEST_CHECK(sink.last.literal8);

	/* literal inside a list: index of the enclosing top-level list */
	CHECK_PARSE_OPTS("a UID X 1 (x ({2+}\r\nab))\r\n", &opts,
			 "C a X UID 1 (x (F{2}=ab))\nidle\n");
	TEST_CHECK_STR(sink.last.name, "X");
	TEST_CHECK(sink.last.uid);
	TEST_CHECK_INT(sink.last.arg_index, 1);
	TEST_CHECK_INT(sink.last.depth, 2);

	/* a NUL in a file literal still fails and the rest is skipped */
	CHECK_PARSE_OPTS("a APPEND INBOX {3}\r\na\0b\r\nb NOOP\r\n", &opts,
			 "+\nE a - NUL in literal (use literal8)\nC b NOOP\nidle\n");
}

static void test_parser_literal_file_write_error(void)
{
	/* a descriptor that cannot be written (a pipe's read end): the
	 * command fails with SERVERBUG, the rest of the literal and of the
	 * line is skipped */
	int fds[2];
	TEST_CHECK(pipe(fds) == 0);
	struct sink_ctx sink = { .dest = IMAP_LITERAL_FILE, .fixed_fd = fds[0] };
	struct run_opts opts = { .sink = &sink };
	CHECK_PARSE_OPTS("a APPEND INBOX {3}\r\nabc x\r\nb NOOP\r\n", &opts,
			 "+\nE a SERVERBUG Internal error writing the literal: "
			 "Bad file descriptor\nC b NOOP\nidle\n");
	close(fds[0]);
	close(fds[1]);
}

static void test_parser_literal_file_without_fd(void)
{
	struct sink_ctx sink = { .dest = IMAP_LITERAL_FILE, .no_fd = true };
	struct run_opts opts = { .sink = &sink };
	CHECK_PARSE_OPTS("a APPEND INBOX {3}\r\nb NOOP\r\n", &opts,
			 "E a SERVERBUG Internal error: no file for the literal\n"
			 "C b NOOP\nidle\n");
}

static void test_parser_error_reports_tag_and_name(void)
{
	struct imap_parser *p = imap_parser_new(NULL);
	struct imap_parser_error err;
	size_t consumed;
	const char *in = "t1 uid fetch 1 )\r\n";
	TEST_CHECK_INT(imap_parser_feed(p, (const unsigned char *)in, strlen(in),
					&consumed), IMAP_PARSE_ERROR);
	TEST_CHECK_INT(consumed, strlen("t1 uid fetch 1 "));
	imap_parser_get_error(p, &err);
	TEST_CHECK_STR(err.tag, "t1");
	TEST_CHECK_STR(err.name, "FETCH");
	TEST_CHECK(err.uid);
	TEST_CHECK(err.code == NULL);
	TEST_CHECK_STR(err.message, "Unexpected ')'");
	TEST_CHECK(imap_parser_get_command(p) == NULL);
	TEST_CHECK(!imap_parser_is_idle(p));
	/* the rest of the line is skipped */
	TEST_CHECK_INT(imap_parser_feed(p, (const unsigned char *)in + consumed,
					strlen(in) - consumed, &consumed),
		       IMAP_PARSE_NEED_MORE);
	TEST_CHECK(imap_parser_is_idle(p));
	imap_parser_destroy(&p);
	imap_parser_destroy(&p); /* NULL is fine */
}

static void test_parser_literal_callback_reject(void)
{
	struct sink_ctx sink = { .dest = IMAP_LITERAL_REJECT, .code = "TOOBIG",
				 .message = "APPEND limit is 10" };
	struct run_opts opts = { .sink = &sink };
	CHECK_PARSE_OPTS("a APPEND INBOX {100}\r\nb NOOP\r\n", &opts,
			 "E a TOOBIG APPEND limit is 10\nC b NOOP\nidle\n");
	CHECK_PARSE_OPTS("a APPEND INBOX {10+}\r\n0123456789\r\nb NOOP\r\n", &opts,
			 "E a TOOBIG APPEND limit is 10\nC b NOOP\nidle\n");
	sink.code = NULL;
	sink.message = NULL;
	CHECK_PARSE_OPTS("a APPEND INBOX {1}\r\nb NOOP\r\n", &opts,
			 "E a - Literal not accepted\nC b NOOP\nidle\n");
	/* callback says memory: still bounded by literal_size */
	struct imap_parser_limits limits;
	imap_parser_limits_default(&limits);
	limits.literal_size = 2;
	sink.dest = IMAP_LITERAL_MEMORY;
	opts.limits = &limits;
	CHECK_PARSE_OPTS("a X {2}\r\nab\r\nb X {3}\r\n", &opts,
			 "+\nC a X {2}ab\nE b TOOBIG Literal too large\nidle\n");
	/* the LITERAL- check comes before the callback */
	sink.calls = 0;
	CHECK_PARSE_OPTS("a X {4097+}\r\n", &opts,
			 "E a TOOBIG Non-synchronizing literal too large, use a synchronizing literal\n");
	TEST_CHECK_INT(sink.calls, 0);
}

/* ---- limits ---- */

static void test_parser_line_length_limit(void)
{
	struct imap_parser_limits limits;
	imap_parser_limits_default(&limits);
	limits.line_length = 16;
	struct run_opts opts = { .limits = &limits };
	/* 16 bytes including CRLF is fine; literal bytes do not count */
	CHECK_PARSE_OPTS("a X 0123456789\r\n", &opts, "C a X 0123456789\nidle\n");
	CHECK_PARSE_OPTS("a X {20}\r\n01234567890123456789\r\n", &opts,
			 "+\nC a X {20}01234567890123456789\nidle\n");
	CHECK_PARSE_OPTS("a X 01234567890\r\nb NOOP\r\n", &opts,
			 "E a TOOBIG Command line too long\nC b NOOP\nidle\n");
	/* the count covers every line of the command */
	CHECK_PARSE_OPTS("a X {1}\r\nz 01234\r\nb NOOP\r\n", &opts,
			 "+\nE a TOOBIG Command line too long\nC b NOOP\nidle\n");
	/* no tag when the tag was not complete */
	limits.tag_length = 10;
	CHECK_PARSE_OPTS("aaaaaaaaaaaaaaaaaaaaa\r\nb NOOP\r\n", &opts,
			 "E - - Tag too long\nC b NOOP\nidle\n");
	limits.tag_length = 100;
	CHECK_PARSE_OPTS("aaaaaaaaaaaaaaaaaaaaa\r\nb NOOP\r\n", &opts,
			 "E - TOOBIG Command line too long\nC b NOOP\nidle\n");
}

static void test_parser_megabyte_line_is_skipped(void)
{
	/* 1 MB without CRLF: one ERROR once past the limit, then skipped
	 * without buffering, then the next command */
	struct imap_parser *p = imap_parser_new(NULL);
	size_t chunk = 4096, consumed, errors = 0;
	unsigned char buf[4096];
	memset(buf, 'x', sizeof(buf));
	enum imap_parse_result r = imap_parser_feed(p,
		(const unsigned char *)"a X ", 4, &consumed);
	TEST_CHECK_INT(r, IMAP_PARSE_NEED_MORE);
	for (size_t total = 0; total < 1024 * 1024; total += chunk) {
		size_t off = 0;
		while (off < chunk) {
			r = imap_parser_feed(p, buf + off, chunk - off, &consumed);
			off += consumed;
			if (r == IMAP_PARSE_ERROR) {
				struct imap_parser_error err;
				imap_parser_get_error(p, &err);
				TEST_CHECK_STR(err.tag, "a");
				TEST_CHECK_STR(err.message, "Command line too long");
				errors++;
			} else {
				TEST_CHECK_INT(r, IMAP_PARSE_NEED_MORE);
			}
		}
	}
	TEST_CHECK_INT(errors, 1);
	TEST_CHECK(!imap_parser_is_idle(p));
	const char *rest = "xxx\r\nb NOOP\r\n";
	r = imap_parser_feed(p, (const unsigned char *)rest, strlen(rest),
			     &consumed);
	TEST_CHECK_INT(r, IMAP_PARSE_COMMAND);
	TEST_CHECK_STR(imap_parser_get_command(p)->tag, "b");
	imap_parser_destroy(&p);
}

static void test_parser_nesting_limit(void)
{
	struct buf in = BUF_INIT;
	buf_append_str(&in, "a X ");
	for (int i = 0; i < 1000; i++)
		buf_append_char(&in, '(');
	for (int i = 0; i < 1000; i++)
		buf_append_char(&in, ')');
	buf_append_str(&in, "\r\nb NOOP\r\n");
	check_parse_opts(in.data, in.len, NULL,
			 "E a - Too deeply nested parentheses\nC b NOOP\nidle\n",
			 __LINE__);
	buf_free(&in);

	struct imap_parser_limits limits;
	imap_parser_limits_default(&limits);
	limits.nesting_depth = 2;
	struct run_opts opts = { .limits = &limits };
	CHECK_PARSE_OPTS("a X ((a)) (b)\r\n", &opts, "C a X ((a)) (b)\nidle\n");
	CHECK_PARSE_OPTS("a X (((a)))\r\n", &opts,
			 "E a - Too deeply nested parentheses\nidle\n");
}

static void test_parser_argument_limit(void)
{
	struct imap_parser_limits limits;
	imap_parser_limits_default(&limits);
	limits.arguments = 3;
	struct run_opts opts = { .limits = &limits };
	CHECK_PARSE_OPTS("a X a b c\r\n", &opts, "C a X a b c\nidle\n");
	CHECK_PARSE_OPTS("a X (a b)\r\n", &opts, "C a X (a b)\nidle\n");
	CHECK_PARSE_OPTS("a X a b c d\r\nb NOOP\r\n", &opts,
			 "E a - Too many arguments\nC b NOOP\nidle\n");
	CHECK_PARSE_OPTS("a X (a b c)\r\n", &opts, "E a - Too many arguments\nidle\n");
	/* the literal announced at the limit is skipped too */
	CHECK_PARSE_OPTS("a X a b c {2+}\r\nzz\r\nb NOOP\r\n", &opts,
			 "E a - Too many arguments\nC b NOOP\nidle\n");
}

static void test_parser_set_limits_between_commands(void)
{
	struct imap_parser_limits small, big;
	imap_parser_limits_default(&small);
	small.line_length = 10;
	big = small;
	big.line_length = 100;
	struct imap_parser *p = imap_parser_new(&small);
	size_t consumed;
	const char *in = "a X abcdefgh\r\n";
	TEST_CHECK_INT(imap_parser_feed(p, (const unsigned char *)in, strlen(in),
					&consumed), IMAP_PARSE_ERROR);
	/* mid-line: applies from the next command */
	imap_parser_set_limits(p, &big);
	TEST_CHECK_INT(imap_parser_feed(p, (const unsigned char *)in + consumed,
					strlen(in) - consumed, &consumed),
		       IMAP_PARSE_NEED_MORE);
	TEST_CHECK_INT(imap_parser_feed(p, (const unsigned char *)in, strlen(in),
					&consumed), IMAP_PARSE_COMMAND);
	imap_parser_destroy(&p);
}

/* ---- raw-line mode ---- */

static void test_parser_read_line(void)
{
	struct run_opts opts = { .line_mode = true };
	CHECK_PARSE_OPTS("DONE\r\n", &opts, "L DONE\nidle\n");
	CHECK_PARSE_OPTS("dGVzdA==\r\n*\r\n\r\n", &opts,
			 "L dGVzdA==\nL *\nL \nidle\n");
	CHECK_PARSE_OPTS("a {5+}\n", &opts, "L a {5+}\nidle\n");

	struct imap_parser_limits limits;
	imap_parser_limits_default(&limits);
	limits.line_length = 8;
	opts.limits = &limits;
	/* the limit counts the CRLF; a long line is skipped, literal-looking
	 * endings are not followed in line mode */
	CHECK_PARSE_OPTS("123456\r\n1234567\r\nDONE\r\n", &opts,
			 "L 123456\nE - TOOBIG Line too long\nL DONE\nidle\n");
	CHECK_PARSE_OPTS("abcdefgh {2+}\r\nDONE\r\n", &opts,
			 "E - TOOBIG Line too long\nL DONE\nidle\n");
}

static void test_parser_read_line_then_command(void)
{
	struct imap_parser *p = imap_parser_new(NULL);
	const char *in = "a IDLE\r\nDONE\r\nb NOOP\r\n";
	const unsigned char *u = (const unsigned char *)in;
	size_t len = strlen(in), pos = 0, consumed;
	const char *line;
	size_t line_len;
	TEST_CHECK_INT(imap_parser_feed(p, u, len, &consumed), IMAP_PARSE_COMMAND);
	TEST_CHECK_STR(imap_parser_get_command(p)->name, "IDLE");
	pos += consumed;
	TEST_CHECK_INT(imap_parser_read_line(p, u + pos, len - pos, &consumed,
					     &line, &line_len), IMAP_PARSE_LINE);
	TEST_CHECK_MEM(line, line_len, "DONE", 4);
	TEST_CHECK(imap_parser_get_command(p) == NULL);
	pos += consumed;
	TEST_CHECK_INT(imap_parser_feed(p, u + pos, len - pos, &consumed),
		       IMAP_PARSE_COMMAND);
	TEST_CHECK_STR(imap_parser_get_command(p)->tag, "b");
	imap_parser_destroy(&p);
}

/* ---- results and typed readers ---- */

static const struct imap_command *parse_one(struct imap_parser *p,
					    const char *in)
{
	size_t consumed;
	enum imap_parse_result r = imap_parser_feed(p, (const unsigned char *)in,
						    strlen(in), &consumed);
	while (r == IMAP_PARSE_CONTINUE) {
		in += consumed;
		r = imap_parser_feed(p, (const unsigned char *)in, strlen(in),
				     &consumed);
	}
	TEST_CHECK_INT(r, IMAP_PARSE_COMMAND);
	return imap_parser_get_command(p);
}

static void test_parser_typed_readers(void)
{
	struct imap_parser *p = imap_parser_new(NULL);
	const struct imap_command *cmd = parse_one(p,
		"a X foo NIL \"q s\" {3}\r\nl t ~{2}\r\nzz (a b) * foo]"
		" BODY[1] 123 0 4294967296 9223372036854775807 007 \xc3\xa9\r\n");
	TEST_CHECK(cmd != NULL && cmd->args_count == 15);
	if (cmd == NULL || cmd->args_count != 15) {
		imap_parser_destroy(&p);
		return;
	}
	const struct imap_arg *a = cmd->args;
	const char *s;
	size_t len;
	const struct imap_arg *list;
	size_t count;
	uint32_t n32;
	uint64_t n64;
	int fd;

	/* atom */
	TEST_CHECK(imap_arg_get_atom(&a[0], &s) && strcmp(s, "foo") == 0);
	TEST_CHECK(imap_arg_get_atom(&a[1], &s) && strcmp(s, "NIL") == 0);
	TEST_CHECK(!imap_arg_get_atom(&a[2], &s));
	TEST_CHECK(!imap_arg_get_atom(NULL, &s));
	TEST_CHECK(imap_arg_atom_equals(&a[0], "FOO"));
	TEST_CHECK(!imap_arg_atom_equals(&a[2], "q s"));
	/* string = quoted / literal */
	TEST_CHECK(imap_arg_get_string(&a[2], &s, &len) && len == 3);
	TEST_CHECK(imap_arg_get_string(&a[3], &s, &len) &&
		   len == 3 && memcmp(s, "l t", 3) == 0);
	TEST_CHECK(!imap_arg_get_string(&a[4], &s, &len)); /* literal8 */
	TEST_CHECK(!imap_arg_get_string(&a[0], &s, &len));
	TEST_CHECK(imap_arg_get_literal(&a[4], &s, &len) && a[4].literal8);
	TEST_CHECK(!imap_arg_get_literal(&a[2], &s, &len));
	TEST_CHECK(!imap_arg_get_literal_file(&a[3], &fd, &n64));
	/* astring */
	TEST_CHECK(imap_arg_get_astring(&a[0], &s, &len) && len == 3);
	TEST_CHECK(imap_arg_get_astring(&a[1], &s, &len) && strcmp(s, "NIL") == 0);
	TEST_CHECK(imap_arg_get_astring(&a[2], &s, &len));
	TEST_CHECK(imap_arg_get_astring(&a[3], &s, &len));
	TEST_CHECK(!imap_arg_get_astring(&a[5], &s, &len));  /* list */
	TEST_CHECK(!imap_arg_get_astring(&a[6], &s, &len));  /* "*" */
	TEST_CHECK(imap_arg_get_astring(&a[7], &s, &len));   /* foo] */
	TEST_CHECK(imap_arg_get_astring(&a[8], &s, &len));   /* BODY[1] */
	TEST_CHECK(!imap_arg_get_astring(&a[14], &s, &len)); /* 8-bit atom */
	/* nstring */
	TEST_CHECK(imap_arg_get_nstring(&a[1], &s, &len) && s == NULL && len == 0);
	TEST_CHECK(imap_arg_get_nstring(&a[2], &s, &len) && s != NULL);
	TEST_CHECK(!imap_arg_get_nstring(&a[0], &s, &len));
	/* list-mailbox */
	TEST_CHECK(imap_arg_get_list_mailbox(&a[6], &s, &len) && strcmp(s, "*") == 0);
	TEST_CHECK(imap_arg_get_list_mailbox(&a[2], &s, &len));
	TEST_CHECK(!imap_arg_get_list_mailbox(&a[5], &s, &len));
	/* list */
	TEST_CHECK(imap_arg_get_list(&a[5], &list, &count) && count == 2 &&
		   imap_arg_atom_equals(&list[1], "b"));
	TEST_CHECK(!imap_arg_get_list(&a[0], &list, &count));
	/* numbers */
	TEST_CHECK(imap_arg_get_number(&a[9], &n32) && n32 == 123);
	TEST_CHECK(imap_arg_get_number(&a[10], &n32) && n32 == 0);
	TEST_CHECK(!imap_arg_get_nz_number(&a[10], &n32));
	TEST_CHECK(imap_arg_get_nz_number(&a[9], &n32) && n32 == 123);
	TEST_CHECK(!imap_arg_get_number(&a[11], &n32));
	TEST_CHECK(imap_arg_get_number64(&a[11], &n64) && n64 == 4294967296ULL);
	TEST_CHECK(imap_arg_get_number64(&a[12], &n64) &&
		   n64 == 9223372036854775807ULL);
	TEST_CHECK(imap_arg_get_number(&a[13], &n32) && n32 == 7);
	TEST_CHECK(!imap_arg_get_nz_number(&a[13], &n32));
	TEST_CHECK(!imap_arg_get_number(&a[0], &n32));
	TEST_CHECK(!imap_arg_get_number(&a[2], &n32)); /* quoted */
	TEST_CHECK_STR(imap_arg_type_name(a[5].type), "LIST");
	TEST_CHECK_STR(imap_arg_type_name(IMAP_ARG_LITERAL_FILE), "LITERAL_FILE");

	/* the next feed releases the command */
	size_t consumed;
	TEST_CHECK_INT(imap_parser_feed(p, (const unsigned char *)"b", 1,
					&consumed), IMAP_PARSE_NEED_MORE);
	TEST_CHECK(imap_parser_get_command(p) == NULL);
	TEST_CHECK(!imap_parser_is_idle(p));
	imap_parser_reset(p);
	TEST_CHECK(imap_parser_is_idle(p));
	imap_parser_destroy(&p);
}

static void test_parser_number64_overflow(void)
{
	struct imap_parser *p = imap_parser_new(NULL);
	const struct imap_command *cmd = parse_one(p,
		"a X 9223372036854775808 99999999999999999999999 4294967295\r\n");
	uint64_t n64;
	uint32_t n32;
	TEST_CHECK(cmd != NULL && cmd->args_count == 3);
	if (cmd != NULL && cmd->args_count == 3) {
		TEST_CHECK(!imap_arg_get_number64(&cmd->args[0], &n64));
		TEST_CHECK(!imap_arg_get_number64(&cmd->args[1], &n64));
		TEST_CHECK(imap_arg_get_number(&cmd->args[2], &n32) &&
			   n32 == 4294967295U);
	}
	imap_parser_destroy(&p);
}

int main(void)
{
	test_run("parser_simple_commands", test_parser_simple_commands);
	test_run("parser_uid_prefix", test_parser_uid_prefix);
	test_run("parser_bracket_atoms", test_parser_bracket_atoms);
	test_run("parser_list_patterns_and_specials", test_parser_list_patterns_and_specials);
	test_run("parser_quoted_strings", test_parser_quoted_strings);
	test_run("parser_nil_and_lists", test_parser_nil_and_lists);
	test_run("parser_whitespace_and_line_ends", test_parser_whitespace_and_line_ends);
	test_run("parser_sync_literals", test_parser_sync_literals);
	test_run("parser_nonsync_literals", test_parser_nonsync_literals);
	test_run("parser_literal8", test_parser_literal8);
	test_run("parser_tag_errors", test_parser_tag_errors);
	test_run("parser_tag_too_long", test_parser_tag_too_long);
	test_run("parser_name_errors", test_parser_name_errors);
	test_run("parser_quoted_errors", test_parser_quoted_errors);
	test_run("parser_atom_and_list_errors", test_parser_atom_and_list_errors);
	test_run("parser_literal_header_errors", test_parser_literal_header_errors);
	test_run("parser_resync_after_error_in_same_buffer", test_parser_resync_after_error_in_same_buffer);
	test_run("parser_literal_sizes_never_overflow", test_parser_literal_sizes_never_overflow);
	test_run("parser_literal_minus_limit", test_parser_literal_minus_limit);
	test_run("parser_literal_memory_limit", test_parser_literal_memory_limit);
	test_run("parser_fatal_is_sticky_until_reset", test_parser_fatal_is_sticky_until_reset);
	test_run("parser_literal_file_sink", test_parser_literal_file_sink);
	test_run("parser_literal_file_write_error", test_parser_literal_file_write_error);
	test_run("parser_literal_file_without_fd", test_parser_literal_file_without_fd);
	test_run("parser_error_reports_tag_and_name", test_parser_error_reports_tag_and_name);
	test_run("parser_literal_callback_reject", test_parser_literal_callback_reject);
	test_run("parser_line_length_limit", test_parser_line_length_limit);
	test_run("parser_megabyte_line_is_skipped", test_parser_megabyte_line_is_skipped);
	test_run("parser_nesting_limit", test_parser_nesting_limit);
	test_run("parser_argument_limit", test_parser_argument_limit);
	test_run("parser_set_limits_between_commands", test_parser_set_limits_between_commands);
	test_run("parser_read_line", test_parser_read_line);
	test_run("parser_read_line_then_command", test_parser_read_line_then_command);
	test_run("parser_typed_readers", test_parser_typed_readers);
	test_run("parser_number64_overflow", test_parser_number64_overflow);
	return test_finish();
}
