#include "imap/imap-parser.h"
#include "imap/imap-chars.h"

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

#include <assert.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

/* Arena block size and the most buffer memory kept between commands: a
 * server holds one parser per connection, most of them idle. */
#define PARSER_ARENA_BLOCK 2048
#define PARSER_KEEP_BYTES 4096

enum parser_state {
	ST_TAG,          /* at or in the tag; idle when tok is empty */
	ST_NAME,         /* in the command name (or the one after UID) */
	ST_ARG_START,    /* after SP or "(": an argument, ")" or line end */
	ST_ARG_SEP,      /* after an argument: SP, ")" or line end */
	ST_ATOM,
	ST_TILDE,        /* "~" at token start: literal8 or an atom */
	ST_QUOTED,
	ST_QUOTED_ESC,
	ST_LIT_NUM,      /* after "{": digits */
	ST_LIT_CLOSE,    /* after "+": "}" */
	ST_LIT_CR,       /* after "}": CR or LF */
	ST_LIT_LF,       /* after "}" CR: LF */
	ST_LIT_DATA,     /* literal bytes */
	ST_EOL_LF,       /* after the CR ending the command: LF */
	ST_SKIP,         /* after an error: up to the end of the line */
	ST_SKIP_LITERAL, /* after an error: a non-sync literal's bytes */
	ST_LINE,         /* raw-line mode */
	ST_FATAL,
};

/* What the byte handler did with one byte. */
enum step {
	STEP_OK,          /* consumed */
	STEP_AGAIN,       /* state changed: handle the same byte again */
	STEP_ERROR,       /* error raised; the byte is consumed */
	STEP_ERROR_AGAIN, /* error raised; the byte belongs to the skipped line */
	STEP_COMMAND,     /* consumed: the command is complete */
	STEP_CONTINUE,    /* consumed: send a continuation request */
	STEP_LINE,        /* consumed: a raw line is complete */
	STEP_FATAL,
};

enum literal_sink { SINK_MEMORY, SINK_FILE };

struct imap_parser {
	struct imap_parser_limits limits;
	struct imap_parser_limits next_limits;
	imap_literal_callback_t *literal_cb;
	void *literal_ctx;

	struct arena *arena;       /* the current command's results */
	enum parser_state state;
	bool result_pending;       /* a result was returned: clear on entry */

	struct buf tok;            /* token being read */
	size_t line_bytes;         /* bytes of the command outside literals */

	/* Command being built. */
	const char *tag;
	const char *name;
	bool uid;
	unsigned arg_total;        /* arguments counted against the limit */
	struct imap_arg *pend;     /* arguments of all open lists, in order */
	size_t pend_count, pend_alloc;
	size_t *frames;            /* pend index where each open list starts */
	unsigned depth, frames_alloc;
	struct imap_command cmd;

	/* Atom with a "[...]" section. */
	bool in_bracket, bracket_quoted, bracket_escape;

	/* Literal header and data. */
	bool lit_nonsync, lit_literal8, lit_overflow, lit_digits;
	uint64_t lit_size, lit_remaining;
	uint64_t lit_memory_total;  /* in-memory literal bytes, this command */
	enum literal_sink lit_sink;
	unsigned char *lit_data;
	int lit_fd;

	/* Skipping: a literal header seen at the end of the skipped line
	 * (0 none, 1 "{", 2 digits, 3 "+", 4 "}", 5 "}" CR). */
	unsigned skip_lit;
	bool skip_lit_plus, skip_lit_overflow, skip_literals;
	uint64_t skip_lit_size;

	/* Raw line result. */
	const char *line;
	size_t line_len;

	/* Error result. */
	const char *err_message;
	const char *err_code;
};

void imap_parser_limits_default(struct imap_parser_limits *limits_r)
{
	limits_r->line_length = IMAP_PARSER_DEFAULT_LINE_LENGTH;
	limits_r->literal_size = IMAP_PARSER_DEFAULT_LITERAL_SIZE;
	limits_r->nonsync_literal_size = IMAP_PARSER_DEFAULT_NONSYNC_LITERAL_SIZE;
	limits_r->discard_size = IMAP_PARSER_DEFAULT_DISCARD_SIZE;
	limits_r->nesting_depth = IMAP_PARSER_DEFAULT_NESTING_DEPTH;
	limits_r->arguments = IMAP_PARSER_DEFAULT_ARGUMENTS;
	limits_r->tag_length = IMAP_PARSER_DEFAULT_TAG_LENGTH;
}

/* tag = 1*<any ASTRING-CHAR except "+"> */
static bool is_tag_char(unsigned char c)
{
	return imap_char_astring(c) && c != '+';
}

static void parser_clear_command(struct imap_parser *p)
{
	arena_reset(p->arena);
	/* An idle connection keeps little: drop buffers a long command grew. */
	if (p->tok.cap > PARSER_KEEP_BYTES)
		buf_free(&p->tok);
	buf_reset(&p->tok);
	if (p->pend_alloc * sizeof(*p->pend) > PARSER_KEEP_BYTES) {
		free(p->pend);
		p->pend = NULL;
		p->pend_alloc = 0;
	}
	p->line_bytes = 0;
	p->tag = NULL;
	p->name = NULL;
	p->uid = false;
	p->arg_total = 0;
	p->pend_count = 0;
	p->depth = 0;
	memset(&p->cmd, 0, sizeof(p->cmd));
	p->in_bracket = p->bracket_quoted = p->bracket_escape = false;
	p->lit_data = NULL;
	p->lit_fd = -1;
	p->lit_memory_total = 0;
	p->line = NULL;
	p->line_len = 0;
	p->err_message = NULL;
	p->err_code = NULL;
	p->result_pending = false;
}

struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits)
{
	struct imap_parser *p = xcalloc(1, sizeof(*p));
	if (limits != NULL)
		p->limits = *limits;
	else
		imap_parser_limits_default(&p->limits);
	p->next_limits = p->limits;
	p->arena = arena_new(PARSER_ARENA_BLOCK);
	buf_init(&p->tok);
	p->state = ST_TAG;
	parser_clear_command(p);
	return p;
}

void imap_parser_destroy(struct imap_parser **pp)
{
	struct imap_parser *p = *pp;
	if (p == NULL)
		return;
	arena_destroy(&p->arena);
	buf_free(&p->tok);
	free(p->pend);
	free(p->frames);
	free(p);
	*pp = NULL;
}

void imap_parser_set_limits(struct imap_parser *p,
			    const struct imap_parser_limits *limits)
{
	p->next_limits = *limits;
	if (imap_parser_is_idle(p))
		p->limits = *limits;
}

void imap_parser_set_literal_callback(struct imap_parser *p,
				      imap_literal_callback_t *callback,
				      void *context)
{
	p->literal_cb = callback;
	p->literal_ctx = context;
}

void imap_parser_reset(struct imap_parser *p)
{
	p->state = ST_TAG;
	p->skip_lit = 0;
	parser_clear_command(p);
}

bool imap_parser_is_idle(const struct imap_parser *p)
{
	return p->state == ST_TAG && p->tok.len == 0;
}

uint64_t imap_parser_literal_remaining(const struct imap_parser *p)
{
	return p->state == ST_LIT_DATA || p->state == ST_SKIP_LITERAL ? p->lit_remaining : 0;
}

const struct imap_command *imap_parser_get_command(const struct imap_parser *p)
{
	return p->result_pending && p->cmd.tag != NULL ? &p->cmd : NULL;
}

void imap_parser_get_error(const struct imap_parser *p,
			   struct imap_parser_error *error_r)
{
	error_r->tag = p->tag;
	error_r->name = p->name;
	error_r->uid = p->uid;
	error_r->message = p->err_message != NULL ? p->err_message : "";
	error_r->code = p->err_code;
}

/* Raises an error: the rest of the line is skipped. A literal header being
 * read when the error struck still counts for the skipping, so that the
 * bytes of a non-sync literal it announces are skipped too. */
static enum step parser_error(struct imap_parser *p, bool consumed,
			      const char *code, const char *message)
{
	p->err_code = code;
	p->err_message = message;
	p->skip_lit = 0;
	switch (p->state) {
	case ST_LIT_NUM:
		p->skip_lit = p->lit_digits ? 2 : 1;
		p->skip_lit_plus = false;
		p->skip_lit_size = p->lit_size;
		p->skip_lit_overflow = p->lit_overflow;
		break;
	case ST_LIT_CLOSE:
	case ST_LIT_CR:
	case ST_LIT_LF:
		p->skip_lit = p->state == ST_LIT_CLOSE ? 3 :
			p->state == ST_LIT_CR ? 4 : 5;
		p->skip_lit_plus = p->lit_nonsync;
		p->skip_lit_size = p->lit_size;
		p->skip_lit_overflow = p->lit_overflow;
		break;
	default:
		break;
	}
	p->skip_literals = p->state != ST_LINE;
	p->state = ST_SKIP;
	return consumed ? STEP_ERROR : STEP_ERROR_AGAIN;
}

static enum step parser_fatal(struct imap_parser *p, const char *code,
			      const char *message)
{
	p->err_code = code;
	p->err_message = message;
	p->state = ST_FATAL;
	return STEP_FATAL;
}

static void parser_push_arg(struct imap_parser *p, const struct imap_arg *arg)
{
	if (p->pend_count == p->pend_alloc) {
		p->pend_alloc = p->pend_alloc ? p->pend_alloc * 2 : 16;
		p->pend = xrealloc(p->pend, p->pend_alloc * sizeof(*p->pend));
	}
	p->pend[p->pend_count++] = *arg;
}

static void arg_init(struct imap_arg *arg, enum imap_arg_type type)
{
	memset(arg, 0, sizeof(*arg));
	arg->type = type;
	arg->fd = -1;
}

/* Copies pend[start..] into the arena as one array. */
static const struct imap_arg *parser_take_args(struct imap_parser *p,
					       size_t start, size_t *count_r)
{
	size_t n = p->pend_count - start;
	struct imap_arg *arr = arena_alloc(p->arena, (n ? n : 1) * sizeof(*arr));
	if (n)
		memcpy(arr, p->pend + start, n * sizeof(*arr));
	p->pend_count = start;
	*count_r = n;
	return arr;
}

/* Counts one argument (token or list) against the limit. */
static bool parser_count_arg(struct imap_parser *p)
{
	if (p->arg_total >= p->limits.arguments)
		return false;
	p->arg_total++;
	return true;
}

static void parser_finish_atom(struct imap_parser *p)
{
	struct imap_arg arg;
	bool nil = p->tok.len == 3 &&
		strncasecmp((const char *)p->tok.data, "NIL", 3) == 0;
	arg_init(&arg, nil ? IMAP_ARG_NIL : IMAP_ARG_ATOM);
	arg.data = arena_strndup(p->arena, p->tok.data, p->tok.len);
	arg.len = p->tok.len;
	parser_push_arg(p, &arg);
	buf_reset(&p->tok);
	p->state = ST_ARG_SEP;
}

static void parser_finish_literal(struct imap_parser *p)
{
	struct imap_arg arg;
	if (p->lit_sink == SINK_FILE) {
		arg_init(&arg, IMAP_ARG_LITERAL_FILE);
		arg.fd = p->lit_fd;
		arg.size = p->lit_size;
	} else {
		arg_init(&arg, IMAP_ARG_LITERAL);
		p->lit_data[p->lit_size] = '\0';
		arg.data = (const char *)p->lit_data;
		arg.len = (size_t)p->lit_size;
	}
	arg.literal8 = p->lit_literal8;
	arg.nonsync = p->lit_nonsync;
	parser_push_arg(p, &arg);
	p->lit_data = NULL;
	p->lit_fd = -1;
	p->state = ST_ARG_SEP;
}

/* A rejected literal: a sync literal's bytes will not come (the client
 * waits for a continuation and gets our tagged answer instead), so the
 * command line ended at the header; a non-sync literal's bytes are on their
 * way and must be read and dropped, then the rest of the line. */
static enum step parser_reject_literal(struct imap_parser *p, const char *code,
				       const char *message)
{
	p->err_code = code;
	p->err_message = message;
	if (!p->lit_nonsync) {
		p->state = ST_TAG;
		buf_reset(&p->tok);
		return STEP_ERROR;
	}
	if (p->lit_overflow || p->lit_size > p->limits.discard_size)
		return parser_fatal(p, "TOOBIG",
				    "Non-synchronizing literal too large");
	p->lit_remaining = p->lit_size;
	p->skip_literals = true;
	p->state = ST_SKIP_LITERAL;
	return STEP_ERROR;
}

/* Called at the LF ending a literal header: decides where the literal goes.
 * RFC 7888 section 5: with LITERAL-, a non-sync literal above 4096 bytes is
 * rejected with TOOBIG, and its bytes are still read. */
static enum step parser_literal_header_done(struct imap_parser *p)
{
	if (p->lit_overflow)
		return parser_reject_literal(p, "TOOBIG", "Literal too large");
	if (p->lit_nonsync && p->lit_size > p->limits.nonsync_literal_size)
		return parser_reject_literal(p, "TOOBIG",
			"Non-synchronizing literal too large, "
			"use a synchronizing literal");

	struct imap_literal_answer answer;
	enum imap_literal_dest dest;
	memset(&answer, 0, sizeof(answer));
	answer.fd = -1;
	if (p->literal_cb != NULL) {
		struct imap_literal_request req;
		memset(&req, 0, sizeof(req));
		req.tag = p->tag;
		req.name = p->name;
		req.uid = p->uid;
		req.arg_index = p->depth == 0 ? p->pend_count : p->frames[0];
		req.depth = p->depth;
		req.size = p->lit_size;
		req.sync = !p->lit_nonsync;
		req.literal8 = p->lit_literal8;
		dest = p->literal_cb(p->literal_ctx, &req, &answer);
	} else {
		dest = IMAP_LITERAL_MEMORY;
	}

	switch (dest) {
	case IMAP_LITERAL_MEMORY:
		/* literal_size bounds the sum of one command's in-memory
		 * literals, so many literals cannot add up. */
		if (p->lit_size > p->limits.literal_size ||
		    p->lit_size > p->limits.literal_size - p->lit_memory_total ||
		    p->lit_size >= SIZE_MAX)
			return parser_reject_literal(p, "TOOBIG",
						     "Literal too large");
		p->lit_memory_total += p->lit_size;
		p->lit_sink = SINK_MEMORY;
		p->lit_data = arena_alloc(p->arena, (size_t)p->lit_size + 1);
		break;
	case IMAP_LITERAL_FILE:
		if (answer.fd < 0)
			return parser_reject_literal(p, "SERVERBUG",
				"Internal error: no file for the literal");
		p->lit_sink = SINK_FILE;
		p->lit_fd = answer.fd;
		break;
	case IMAP_LITERAL_REJECT:
	default:
		return parser_reject_literal(p,
			answer.code != NULL ?
			arena_strdup(p->arena, answer.code) : NULL,
			answer.message != NULL ?
			arena_strdup(p->arena, answer.message) :
			"Literal not accepted");
	}

	p->lit_remaining = p->lit_size;
	p->state = ST_LIT_DATA;
	if (p->lit_remaining == 0)
		parser_finish_literal(p);
	return p->lit_nonsync ? STEP_OK : STEP_CONTINUE;
}

/* The LF ending the command line. */
static enum step parser_end_of_line(struct imap_parser *p)
{
	if (p->depth > 0)
		return parser_error(p, false, NULL, "Missing ')'");
	p->cmd.tag = p->tag;
	p->cmd.name = p->name;
	p->cmd.uid = p->uid;
	p->cmd.args = parser_take_args(p, 0, &p->cmd.args_count);
	p->state = ST_TAG;
	buf_reset(&p->tok);
	return STEP_COMMAND;
}

/* tag = 1*<any ASTRING-CHAR except "+"> */
static enum step parser_tag_byte(struct imap_parser *p, unsigned char c)
{
	if (c == ' ') {
		if (p->tok.len == 0)
			return parser_error(p, false, NULL, "Missing tag");
		p->tag = arena_strndup(p->arena, p->tok.data, p->tok.len);
		buf_reset(&p->tok);
		p->state = ST_NAME;
		return STEP_OK;
	}
	if (c == '\r' || c == '\n') {
		if (p->tok.len == 0)
			return parser_error(p, false, NULL, "Empty command line");
		p->tag = arena_strndup(p->arena, p->tok.data, p->tok.len);
		return parser_error(p, false, NULL, "Missing command name");
	}
	if (!is_tag_char(c))
		return parser_error(p, false, NULL, "Invalid character in tag");
	if (p->tok.len >= p->limits.tag_length)
		return parser_error(p, false, NULL, "Tag too long");
	buf_append_char(&p->tok, (char)c);
	return STEP_OK;
}

/* command = tag SP (command-any / command-auth / command-nonauth /
 *           command-select) CRLF
 * uid     = "UID" SP (copy / move / fetch / search / store /
 *           uid-expunge) */
static enum step parser_name_byte(struct imap_parser *p, unsigned char c)
{
	if (c == ' ' || c == '\r' || c == '\n') {
		if (p->tok.len == 0) {
			if (c == ' ')
				return STEP_OK; /* tolerate extra spaces */
			return parser_error(p, false, NULL, p->uid ?
					    "Missing command after UID" :
					    "Missing command name");
		}
		for (size_t i = 0; i < p->tok.len; i++) {
			if (p->tok.data[i] >= 'a' && p->tok.data[i] <= 'z')
				p->tok.data[i] = (unsigned char)(p->tok.data[i] - 'a' + 'A');
		}
		if (!p->uid && p->tok.len == 3 &&
		    memcmp(p->tok.data, "UID", 3) == 0) {
			p->uid = true;
			buf_reset(&p->tok);
			if (c == ' ')
				return STEP_OK;
			return parser_error(p, false, NULL,
					    "Missing command after UID");
		}
		p->name = arena_strndup(p->arena, p->tok.data, p->tok.len);
		buf_reset(&p->tok);
		if (c == ' ') {
			p->state = ST_ARG_START;
			return STEP_OK;
		}
		p->state = ST_ARG_SEP;
		return STEP_AGAIN;
	}
	if (!imap_char_atom(c))
		return parser_error(p, false, NULL,
				    "Invalid character in command name");
	if (p->tok.len >= IMAP_PARSER_NAME_MAX)
		return parser_error(p, false, NULL, "Command name too long");
	buf_append_char(&p->tok, (char)c);
	return STEP_OK;
}

/* Line end or ")" after an argument or at an argument's place. */
static enum step parser_delim_byte(struct imap_parser *p, unsigned char c)
{
	switch (c) {
	case '\r':
		p->state = ST_EOL_LF;
		return STEP_OK;
	case '\n':
		return parser_end_of_line(p);
	case ')': {
		if (p->depth == 0)
			return parser_error(p, false, NULL, "Unexpected ')'");
		struct imap_arg arg;
		arg_init(&arg, IMAP_ARG_LIST);
		size_t start = p->frames[--p->depth];
		arg.list = parser_take_args(p, start, &arg.list_count);
		parser_push_arg(p, &arg);
		p->state = ST_ARG_SEP;
		return STEP_OK;
	}
	default:
		return parser_error(p, false, NULL, "Invalid character");
	}
}

static enum step parser_arg_start_byte(struct imap_parser *p, unsigned char c)
{
	switch (c) {
	case ' ':
		return STEP_OK;
	case '\r':
	case '\n':
	case ')':
		return parser_delim_byte(p, c);
	case '(':
		if (p->depth >= p->limits.nesting_depth)
			return parser_error(p, false, NULL,
					    "Too deeply nested parentheses");
		if (!parser_count_arg(p))
			return parser_error(p, false, NULL, "Too many arguments");
		if (p->depth == p->frames_alloc) {
			p->frames_alloc = p->frames_alloc ? p->frames_alloc * 2 : 8;
			p->frames = xrealloc(p->frames,
					     p->frames_alloc * sizeof(*p->frames));
		}
		p->frames[p->depth++] = p->pend_count;
		return STEP_OK;
	}
	if (!parser_count_arg(p))
		return parser_error(p, false, NULL, "Too many arguments");
	buf_reset(&p->tok);
	switch (c) {
	case '"':
		p->state = ST_QUOTED;
		return STEP_OK;
	case '{':
		p->lit_literal8 = false;
		p->state = ST_LIT_NUM;
		p->lit_size = 0;
		p->lit_overflow = p->lit_digits = p->lit_nonsync = false;
		return STEP_OK;
	case '~':
		buf_append_char(&p->tok, '~');
		p->state = ST_TILDE;
		return STEP_OK;
	}
	if (imap_char_ctl(c))
		return parser_error(p, false, NULL, "Invalid character");
	p->state = ST_ATOM;
	p->in_bracket = p->bracket_quoted = p->bracket_escape = false;
	return STEP_AGAIN;
}

/* An argument ended: SP, ")" or the line end must follow. */
static enum step parser_arg_sep_byte(struct imap_parser *p, unsigned char c)
{
	if (c == ' ') {
		p->state = ST_ARG_START;
		return STEP_OK;
	}
	if (c == '\r' || c == '\n' || c == ')')
		return parser_delim_byte(p, c);
	return parser_error(p, false, NULL, "Missing space after argument");
}

/* The liberal atom (see the header), with "[...]" sections:
 *   section = "[" [section-spec] "]"
 *   header-list = "(" header-fld-name *(SP header-fld-name) ")"
 * header-fld-name is an astring, so a quoted string may appear inside. */
static enum step parser_atom_byte(struct imap_parser *p, unsigned char c)
{
	if (p->in_bracket) {
		if (p->bracket_quoted) {
			if (c == '\0' || c == '\r' || c == '\n')
				return parser_error(p, false, NULL,
					"Unterminated quoted string in []");
			if (p->bracket_escape)
				p->bracket_escape = false;
			else if (c == '\\')
				p->bracket_escape = true;
			else if (c == '"')
				p->bracket_quoted = false;
		} else if (c == ']') {
			p->in_bracket = false;
		} else if (c == '"') {
			p->bracket_quoted = true;
		} else if (c == '[') {
			return parser_error(p, false, NULL, "Nested '[' in atom");
		} else if (c == '{') {
			return parser_error(p, false, NULL,
					    "Literal inside [] not supported");
		} else if (c == '\r' || c == '\n') {
			return parser_error(p, false, NULL, "Missing ']'");
		} else if (imap_char_ctl(c)) {
			return parser_error(p, false, NULL,
					    "Invalid character in atom");
		}
		buf_append_char(&p->tok, (char)c);
		return STEP_OK;
	}
	switch (c) {
	case ' ':
	case ')':
	case '\r':
	case '\n':
		parser_finish_atom(p);
		return STEP_AGAIN;
	case '[':
		p->in_bracket = true;
		break;
	case '(':
		return parser_error(p, false, NULL, "Missing space before '('");
	case '"':
		return parser_error(p, false, NULL, "Unexpected '\"' in atom");
	case '{':
		return parser_error(p, false, NULL, "Unexpected '{' in atom");
	default:
		if (imap_char_ctl(c))
			return parser_error(p, false, NULL,
					    "Invalid character in atom");
		break;
	}
	buf_append_char(&p->tok, (char)c);
	return STEP_OK;
}

/* quoted      = DQUOTE *QUOTED-CHAR DQUOTE
 * QUOTED-CHAR = <any TEXT-CHAR except quoted-specials> /
 *               "\" quoted-specials / UTF8-2 / UTF8-3 / UTF8-4 */
static enum step parser_quoted_byte(struct imap_parser *p, unsigned char c)
{
	if (p->state == ST_QUOTED_ESC) {
		if (c != '"' && c != '\\')
			return parser_error(p, false, NULL,
					    "Invalid escape in quoted string");
		buf_append_char(&p->tok, (char)c);
		p->state = ST_QUOTED;
		return STEP_OK;
	}
	switch (c) {
	case '"': {
		struct imap_arg arg;
		arg_init(&arg, IMAP_ARG_STRING);
		arg.data = arena_strndup(p->arena, p->tok.data, p->tok.len);
		arg.len = p->tok.len;
		parser_push_arg(p, &arg);
		buf_reset(&p->tok);
		p->state = ST_ARG_SEP;
		return STEP_OK;
	}
	case '\\':
		p->state = ST_QUOTED_ESC;
		return STEP_OK;
	case '\0':
		return parser_error(p, false, NULL, "NUL in quoted string");
	case '\r':
	case '\n':
		return parser_error(p, false, NULL, "Unterminated quoted string");
	}
	buf_append_char(&p->tok, (char)c);
	return STEP_OK;
}

/* literal  = "{" number64 ["+"] "}" CRLF *CHAR8
 * literal8 = "~{" number64 ["+"] "}" CRLF *OCTET   (RFC 4466, RFC 7888 6) */
static enum step parser_literal_header_byte(struct imap_parser *p,
					    unsigned char c)
{
	switch (p->state) {
	case ST_LIT_NUM:
		if (c >= '0' && c <= '9') {
			unsigned d = c - '0';
			if (p->lit_size > (IMAP_NUMBER64_MAX - d) / 10)
				p->lit_overflow = true;
			else
				p->lit_size = p->lit_size * 10 + d;
			p->lit_digits = true;
			return STEP_OK;
		}
		if (!p->lit_digits)
			return parser_error(p, false, NULL, "Invalid literal size");
		if (c == '+') {
			p->lit_nonsync = true;
			p->state = ST_LIT_CLOSE;
			return STEP_OK;
		}
		if (c == '}') {
			p->state = ST_LIT_CR;
			return STEP_OK;
		}
		return parser_error(p, false, NULL, "Invalid literal size");
	case ST_LIT_CLOSE:
		if (c != '}')
			return parser_error(p, false, NULL, "Missing '}' in literal");
		p->state = ST_LIT_CR;
		return STEP_OK;
	case ST_LIT_CR:
		if (c == '\r') {
			p->state = ST_LIT_LF;
			return STEP_OK;
		}
		if (c == '\n')
			return parser_literal_header_done(p);
		return parser_error(p, false, NULL, "Missing CRLF after literal");
	case ST_LIT_LF:
		if (c != '\n')
			return parser_error(p, false, NULL,
					    "Missing LF after literal");
		return parser_literal_header_done(p);
	default:
		abort();
	}
}

/* After an error: drop bytes up to the end of the line, following a
 * non-sync literal announced at a line end ("{n+}" CRLF) through its data,
 * as the client sends it without waiting. */
static enum step parser_skip_byte(struct imap_parser *p, unsigned char c)
{
	if (c == '\n') {
		if (p->skip_literals && p->skip_lit_plus &&
		    (p->skip_lit == 4 || p->skip_lit == 5)) {
			if (p->skip_lit_overflow ||
			    p->skip_lit_size > p->limits.discard_size)
				return parser_fatal(p, "TOOBIG",
					"Non-synchronizing literal too large");
			p->lit_remaining = p->skip_lit_size;
			p->state = ST_SKIP_LITERAL;
			p->skip_lit = 0;
			return STEP_OK;
		}
		p->skip_lit = 0;
		p->state = ST_TAG;
		buf_reset(&p->tok);
		p->line_bytes = 0;
		return STEP_OK;
	}
	if (c == '{') {
		p->skip_lit = 1;
		p->skip_lit_plus = false;
		p->skip_lit_overflow = false;
		p->skip_lit_size = 0;
	} else if (c >= '0' && c <= '9' &&
		   (p->skip_lit == 1 || p->skip_lit == 2)) {
		unsigned d = c - '0';
		if (p->skip_lit_size > (IMAP_NUMBER64_MAX - d) / 10)
			p->skip_lit_overflow = true;
		else
			p->skip_lit_size = p->skip_lit_size * 10 + d;
		p->skip_lit = 2;
	} else if (c == '+' && p->skip_lit == 2) {
		p->skip_lit_plus = true;
		p->skip_lit = 3;
	} else if (c == '}' && (p->skip_lit == 2 || p->skip_lit == 3)) {
		p->skip_lit = 4;
	} else if (c == '\r' && p->skip_lit == 4) {
		p->skip_lit = 5;
	} else {
		p->skip_lit = 0;
	}
	return STEP_OK;
}

static enum step parser_line_byte(struct imap_parser *p, unsigned char c)
{
	if (c != '\n') {
		buf_append_char(&p->tok, (char)c);
		return STEP_OK;
	}
	size_t n = p->tok.len;
	if (n > 0 && p->tok.data[n - 1] == '\r')
		n--;
	p->line = arena_strndup(p->arena, p->tok.data, n);
	p->line_len = n;
	buf_reset(&p->tok);
	p->state = ST_TAG;
	return STEP_LINE;
}

static bool state_counts_line(enum parser_state state)
{
	return state != ST_LIT_DATA && state != ST_SKIP &&
		state != ST_SKIP_LITERAL && state != ST_FATAL;
}

static enum step parser_byte(struct imap_parser *p, unsigned char c)
{
	switch (p->state) {
	case ST_TAG:
		return parser_tag_byte(p, c);
	case ST_NAME:
		return parser_name_byte(p, c);
	case ST_ARG_START:
		return parser_arg_start_byte(p, c);
	case ST_ARG_SEP:
		return parser_arg_sep_byte(p, c);
	case ST_ATOM:
		return parser_atom_byte(p, c);
	case ST_TILDE:
		if (c == '{') {
			p->lit_literal8 = true;
			p->state = ST_LIT_NUM;
			p->lit_size = 0;
			p->lit_overflow = p->lit_digits = p->lit_nonsync = false;
			buf_reset(&p->tok);
			return STEP_OK;
		}
		p->state = ST_ATOM;
		p->in_bracket = p->bracket_quoted = p->bracket_escape = false;
		return STEP_AGAIN;
	case ST_QUOTED:
	case ST_QUOTED_ESC:
		return parser_quoted_byte(p, c);
	case ST_LIT_NUM:
	case ST_LIT_CLOSE:
	case ST_LIT_CR:
	case ST_LIT_LF:
		return parser_literal_header_byte(p, c);
	case ST_EOL_LF:
		if (c != '\n')
			return parser_error(p, false, NULL,
					    "CR not followed by LF");
		return parser_end_of_line(p);
	case ST_SKIP:
		return parser_skip_byte(p, c);
	case ST_LINE:
		return parser_line_byte(p, c);
	case ST_LIT_DATA:
	case ST_SKIP_LITERAL:
	case ST_FATAL:
		break;
	}
	abort();
}

/* Literal bytes in bulk. Returns the bytes used; *step_r is set when an
 * event happened. */
static size_t parser_literal_data(struct imap_parser *p,
				  const unsigned char *data, size_t len,
				  enum step *step_r)
{
	size_t n = len;
	if (n > p->lit_remaining)
		n = (size_t)p->lit_remaining;
	*step_r = STEP_OK;
	if (p->state == ST_SKIP_LITERAL) {
		p->lit_remaining -= n;
		if (p->lit_remaining == 0) {
			p->state = ST_SKIP;
			p->skip_lit = 0;
		}
		return n;
	}

	/* literal: *CHAR8, CHAR8 = %x01-ff (only literal8 may hold NUL) */
	size_t good = n;
	if (!p->lit_literal8) {
		const unsigned char *nul = memchr(data, '\0', n);
		if (nul != NULL)
			good = (size_t)(nul - data);
	}
	size_t offset = (size_t)(p->lit_size - p->lit_remaining);
	if (p->lit_sink == SINK_MEMORY) {
		memcpy(p->lit_data + offset, data, good);
	} else {
		size_t done = 0;
		while (done < good) {
			ssize_t ret = write(p->lit_fd, data + done, good - done);
			if (ret < 0 && errno == EINTR)
				continue;
			if (ret <= 0) {
				p->lit_remaining -= done;
				p->lit_fd = -1;
				p->state = ST_SKIP_LITERAL;
				p->skip_literals = true;
				p->err_code = "SERVERBUG";
				p->err_message = arena_printf(p->arena,
					"Internal error writing the literal: %s",
					ret < 0 ? strerror(errno) : "short write");
				*step_r = STEP_ERROR;
				return done;
			}
			done += (size_t)ret;
		}
	}
	p->lit_remaining -= good;
	if (good < n) {
		p->state = ST_SKIP_LITERAL;
		p->skip_literals = true;
		p->err_code = NULL;
		p->err_message = "NUL in literal (use literal8)";
		*step_r = STEP_ERROR;
		return good;
	}
	if (p->lit_remaining == 0)
		parser_finish_literal(p);
	return n;
}

static enum imap_parse_result step_result(enum step step)
{
	switch (step) {
	case STEP_COMMAND:
		return IMAP_PARSE_COMMAND;
	case STEP_CONTINUE:
		return IMAP_PARSE_CONTINUE;
	case STEP_LINE:
		return IMAP_PARSE_LINE;
	case STEP_ERROR:
	case STEP_ERROR_AGAIN:
		return IMAP_PARSE_ERROR;
	case STEP_FATAL:
		return IMAP_PARSE_FATAL;
	case STEP_OK:
	case STEP_AGAIN:
		break;
	}
	return IMAP_PARSE_NEED_MORE;
}

/* The common loop of feed and read_line. line_mode: a new line starts a
 * raw line rather than a command. */
static enum imap_parse_result
parser_run(struct imap_parser *p, const unsigned char *data, size_t len,
	   size_t *consumed_r, bool line_mode)
{
	size_t i = 0;
	enum step step = STEP_OK;

	if (p->state == ST_FATAL) {
		*consumed_r = 0;
		return IMAP_PARSE_FATAL;
	}
	if (p->result_pending)
		parser_clear_command(p);

	while (i < len && step == STEP_OK) {
		if (p->state == ST_LIT_DATA || p->state == ST_SKIP_LITERAL) {
			i += parser_literal_data(p, data + i, len - i, &step);
			continue;
		}
		if (p->state == ST_TAG && p->tok.len == 0) {
			/* A new command (or raw line) starts here: limits
			 * changed meanwhile apply from now on. */
			p->limits = p->next_limits;
			p->line_bytes = 0;
			if (line_mode)
				p->state = ST_LINE;
		}
		unsigned char c = data[i];
		if (state_counts_line(p->state)) {
			if (p->line_bytes >= p->limits.line_length) {
				const char *msg = p->state == ST_LINE ?
					"Line too long" : "Command line too long";
				step = parser_error(p, false, "TOOBIG", msg);
				break;
			}
			p->line_bytes++;
		}
		do {
			step = parser_byte(p, c);
		} while (step == STEP_AGAIN);
		if (step != STEP_ERROR_AGAIN)
			i++;
	}
	if (step == STEP_ERROR_AGAIN || step == STEP_ERROR ||
	    step == STEP_COMMAND || step == STEP_LINE)
		p->result_pending = true;
	*consumed_r = i;
	return step_result(step);
}

enum imap_parse_result
imap_parser_feed(struct imap_parser *p, const unsigned char *data, size_t len,
		 size_t *consumed_r)
{
	assert(p->state != ST_LINE);
	return parser_run(p, data, len, consumed_r, false);
}

enum imap_parse_result
imap_parser_read_line(struct imap_parser *p, const unsigned char *data,
		      size_t len, size_t *consumed_r,
		      const char **line_r, size_t *line_len_r)
{
	/* Only between commands, or in the middle of a raw line or of
	 * skipping a bad one. */
	assert(p->state == ST_LINE || p->state == ST_SKIP ||
	       p->state == ST_SKIP_LITERAL || p->state == ST_FATAL ||
	       p->result_pending || imap_parser_is_idle(p));
	enum imap_parse_result ret = parser_run(p, data, len, consumed_r, true);
	if (ret == IMAP_PARSE_LINE) {
		*line_r = p->line;
		*line_len_r = p->line_len;
	}
	return ret;
}
