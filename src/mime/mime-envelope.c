/* ENVELOPE (RFC 3501 / RFC 9051 7.5.2) from the RFC 5322 header: raw,
 * unfolded values; address lists parsed per RFC 5322 3.4 with the obsolete
 * forms of 4.4 (routes, missing commas, empty list members). */

#include "mime/mime-private.h"
#include "mime/mime-imapstr.h"
#include "lib/arena.h"
#include "lib/buf.h"

#include <string.h>

/* Placeholders for an address without a local part or a domain: NIL there
 * would turn the address into RFC 9051 group syntax. */
#define MIME_ENVELOPE_MISSING_MAILBOX "MISSING_MAILBOX"
#define MIME_ENVELOPE_MISSING_DOMAIN "MISSING_DOMAIN"
#define MIME_ENVELOPE_MAX_TOKENS 10000

enum mime_token_kind {
	MIME_TOKEN_ATOM,	/* atext run (8-bit included) */
	MIME_TOKEN_QUOTED,	/* quoted-string; text is the unescaped content */
	MIME_TOKEN_DOMAIN_LITERAL, /* [ ... ] verbatim */
	MIME_TOKEN_SPECIAL,	/* one of < > @ , ; : . */
};

struct mime_token {
	enum mime_token_kind kind;
	const char *text;
	size_t len;
	bool space_before;	/* whitespace or a comment preceded it */
	const char *comment;	/* text of a comment that followed it */
};

struct mime_addr_ctx {
	struct arena *a;
	struct mime_token *tokens;
	size_t count, pos;
	struct buf *out;
	unsigned int written;
};

static bool mime_is_addr_special(char c)
{
	return c != '\0' && strchr("<>@,;:.[]()\"\\", c) != NULL;
}

/* Returns the last comment text (for display names) and advances p. */
static const char *mime_skip_comment(struct arena *a, const char *p, const char **comment_r)
{
	const char *start = p + 1;
	int level = 0;
	do {
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '(')
			level++;
		else if (*p == ')')
			level--;
		p++;
	} while (*p != '\0' && level > 0);
	size_t len = (size_t)(p - start);
	if (level == 0 && len > 0)
		len--; /* the closing ')' */
	*comment_r = arena_strndup(a, start, len);
	return p;
}

static size_t mime_tokenize(struct arena *a, const char *p, struct mime_token *tokens,
			    size_t max)
{
	size_t n = 0;
	bool space = false;
	while (*p != '\0' && n < max) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			space = true;
			p++;
			continue;
		}
		if (*p == '(') {
			const char *comment;
			p = mime_skip_comment(a, p, &comment);
			if (n > 0)
				tokens[n - 1].comment = comment;
			space = true;
			continue;
		}
		struct mime_token *t = &tokens[n++];
		t->comment = NULL;
		t->space_before = space;
		space = false;
		if (*p == '"') {
			struct buf b = BUF_INIT;
			p++;
			while (*p != '\0' && *p != '"') {
				if (*p == '\\' && p[1] != '\0')
					p++;
				buf_append_char(&b, *p++);
			}
			if (*p == '"')
				p++;
			t->kind = MIME_TOKEN_QUOTED;
			t->text = arena_strndup(a, buf_cstr(&b), b.len);
			t->len = b.len;
			buf_free(&b);
		} else if (*p == '[') {
			const char *start = p;
			while (*p != '\0' && *p != ']') {
				if (*p == '\\' && p[1] != '\0')
					p++;
				p++;
			}
			if (*p == ']')
				p++;
			t->kind = MIME_TOKEN_DOMAIN_LITERAL;
			t->text = start;
			t->len = (size_t)(p - start);
		} else if (mime_is_addr_special(*p) && *p != ']' && *p != ')' && *p != '\\') {
			t->kind = MIME_TOKEN_SPECIAL;
			t->text = p++;
			t->len = 1;
		} else {
			const char *start = p;
			while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' &&
			       (!mime_is_addr_special(*p) || p == start))
				p++;
			t->kind = MIME_TOKEN_ATOM;
			t->text = start;
			t->len = (size_t)(p - start);
		}
	}
	return n;
}

static bool mime_token_is(const struct mime_token *t, char c)
{
	return t->kind == MIME_TOKEN_SPECIAL && t->text[0] == c;
}

/* Joins tokens [from, to) as a phrase: single spaces where the header had
 * whitespace, quoted-strings unquoted. NULL when empty. */
static const char *mime_join_phrase(struct mime_addr_ctx *ctx, size_t from, size_t to)
{
	struct buf b = BUF_INIT;
	for (size_t i = from; i < to; i++) {
		if (b.len > 0 && ctx->tokens[i].space_before)
			buf_append_char(&b, ' ');
		buf_append(&b, ctx->tokens[i].text, ctx->tokens[i].len);
	}
	const char *s = b.len == 0 && from == to ? NULL :
			arena_strndup(ctx->a, buf_cstr(&b), b.len);
	buf_free(&b);
	return s;
}

/* Joins tokens [from, to) without spaces: local-part, domain or route.
 * RFC 3501 / RFC 9051 9 (addr-mailbox): the local-part is carried "after
 * removing [RFC 5322] quoting", so a quoted-string contributes its
 * unescaped content, as it does in a phrase. */
static const char *mime_join_compact(struct mime_addr_ctx *ctx, size_t from, size_t to)
{
	struct buf b = BUF_INIT;
	for (size_t i = from; i < to; i++)
		buf_append(&b, ctx->tokens[i].text, ctx->tokens[i].len);
	const char *s = arena_strndup(ctx->a, buf_cstr(&b), b.len);
	buf_free(&b);
	return s;
}

static void mime_write_address(struct mime_addr_ctx *ctx, const char *name,
			       const char *route, const char *mailbox, const char *host)
{
	if (ctx->written++ == 0)
		buf_append_char(ctx->out, '(');
	buf_append_char(ctx->out, '(');
	mime_imapstr_append_nstring_cstr(ctx->out, name);
	buf_append_char(ctx->out, ' ');
	mime_imapstr_append_nstring_cstr(ctx->out, route);
	buf_append_char(ctx->out, ' ');
	mime_imapstr_append_nstring_cstr(ctx->out, mailbox);
	buf_append_char(ctx->out, ' ');
	mime_imapstr_append_nstring_cstr(ctx->out, host);
	buf_append_char(ctx->out, ')');
}

/* addr-spec = local-part "@" domain, tokens [from, to); the last '@'
 * separates them (a quoted local-part may not contain a bare '@' token). */
static void mime_write_addr_spec(struct mime_addr_ctx *ctx, const char *name,
				 const char *route, size_t from, size_t to)
{
	size_t at = to;
	for (size_t i = from; i < to; i++) {
		if (mime_token_is(&ctx->tokens[i], '@'))
			at = i;
	}
	const char *local = mime_join_compact(ctx, from, at);
	const char *domain = at < to ? mime_join_compact(ctx, at + 1, to) : "";
	if (*local == '\0')
		local = MIME_ENVELOPE_MISSING_MAILBOX;
	if (*domain == '\0')
		domain = MIME_ENVELOPE_MISSING_DOMAIN;
	mime_write_address(ctx, name, route, local, domain);
}

/* angle-addr = [CFWS] "<" [obs-route] addr-spec ">" [CFWS];
 * obs-route = obs-domain-list ":" (RFC 5322 4.4). ctx->pos is after '<'. */
static void mime_parse_angle_addr(struct mime_addr_ctx *ctx, const char *name)
{
	size_t start = ctx->pos, end = start;
	while (end < ctx->count && !mime_token_is(&ctx->tokens[end], '>'))
		end++;
	const char *route = NULL;
	size_t spec = start;
	if (start < end && mime_token_is(&ctx->tokens[start], '@')) {
		for (size_t i = start; i < end; i++) {
			if (mime_token_is(&ctx->tokens[i], ':')) {
				route = mime_join_compact(ctx, start, i);
				spec = i + 1;
				break;
			}
		}
	}
	if (spec == end && name == NULL && route == NULL) {
		/* "<>": the null reverse path; nothing to describe */
		mime_write_address(ctx, NULL, NULL, MIME_ENVELOPE_MISSING_MAILBOX,
				   MIME_ENVELOPE_MISSING_DOMAIN);
	} else {
		mime_write_addr_spec(ctx, name, route, spec, end);
	}
	ctx->pos = end < ctx->count ? end + 1 : end;
	/* anything between '>' and the next separator is ignored */
	while (ctx->pos < ctx->count && !mime_token_is(&ctx->tokens[ctx->pos], ',') &&
	       !mime_token_is(&ctx->tokens[ctx->pos], ';'))
		ctx->pos++;
}

/* mailbox = name-addr / addr-spec. Stops before ',' or ';' (or at end). */
static void mime_parse_mailbox(struct mime_addr_ctx *ctx, bool in_group)
{
	size_t start = ctx->pos, i = start;
	while (i < ctx->count) {
		const struct mime_token *t = &ctx->tokens[i];
		if (mime_token_is(t, ',') || mime_token_is(t, '<') ||
		    (in_group && mime_token_is(t, ';')))
			break;
		i++;
	}
	if (i < ctx->count && mime_token_is(&ctx->tokens[i], '<')) {
		const char *name = mime_join_phrase(ctx, start, i);
		ctx->pos = i + 1;
		mime_parse_angle_addr(ctx, name);
		return;
	}
	ctx->pos = i;
	if (i == start)
		return; /* empty list member (obs-mbox-list) */
	/* A bare addr-spec; a trailing comment is the conventional name. */
	const char *name = NULL;
	for (size_t k = start; k < i; k++) {
		if (ctx->tokens[k].comment != NULL && ctx->tokens[k].comment[0] != '\0')
			name = ctx->tokens[k].comment;
	}
	mime_write_addr_spec(ctx, name, NULL, start, i);
}

/* group = display-name ":" [group-list] ";" — written as a start marker
 * (NIL NIL name NIL), the members, and an end marker (NIL NIL NIL NIL). */
static void mime_parse_group(struct mime_addr_ctx *ctx, size_t colon)
{
	const char *name = mime_join_phrase(ctx, ctx->pos, colon);
	mime_write_address(ctx, NULL, NULL, name == NULL ? "" : name, NULL);
	ctx->pos = colon + 1;
	while (ctx->pos < ctx->count && !mime_token_is(&ctx->tokens[ctx->pos], ';')) {
		if (mime_token_is(&ctx->tokens[ctx->pos], ',')) {
			ctx->pos++;
			continue;
		}
		mime_parse_mailbox(ctx, true);
	}
	if (ctx->pos < ctx->count)
		ctx->pos++; /* ';' */
	mime_write_address(ctx, NULL, NULL, NULL, NULL);
}

/* address-list = (address *("," address)) / obs-addr-list */
static void mime_parse_address_list(struct mime_addr_ctx *ctx)
{
	while (ctx->pos < ctx->count) {
		const struct mime_token *t = &ctx->tokens[ctx->pos];
		if (mime_token_is(t, ',') || mime_token_is(t, ';') || mime_token_is(t, '>')) {
			ctx->pos++;
			continue;
		}
		size_t i = ctx->pos;
		while (i < ctx->count && !mime_token_is(&ctx->tokens[i], ',') &&
		       !mime_token_is(&ctx->tokens[i], '<') &&
		       !mime_token_is(&ctx->tokens[i], ':'))
			i++;
		if (i < ctx->count && mime_token_is(&ctx->tokens[i], ':'))
			mime_parse_group(ctx, i);
		else
			mime_parse_mailbox(ctx, false);
	}
}

/* Appends the address list of value, or NIL when it has no address.
 * Returns the number of addresses written. */
static unsigned int mime_envelope_write_addresses(struct buf *out, struct arena *a,
						  const char *value)
{
	if (value == NULL) {
		buf_append(out, "NIL", 3);
		return 0;
	}
	size_t max = strlen(value) + 1;
	if (max > MIME_ENVELOPE_MAX_TOKENS)
		max = MIME_ENVELOPE_MAX_TOKENS;
	struct mime_addr_ctx ctx = { .a = a, .out = out };
	ctx.tokens = arena_alloc(a, sizeof(*ctx.tokens) * max);
	ctx.count = mime_tokenize(a, value, ctx.tokens, max);
	mime_parse_address_list(&ctx);
	if (ctx.written == 0)
		buf_append(out, "NIL", 3);
	else
		buf_append_char(out, ')');
	return ctx.written;
}

enum mime_envelope_field {
	MIME_ENV_DATE, MIME_ENV_SUBJECT, MIME_ENV_FROM, MIME_ENV_SENDER,
	MIME_ENV_REPLY_TO, MIME_ENV_TO, MIME_ENV_CC, MIME_ENV_BCC,
	MIME_ENV_IN_REPLY_TO, MIME_ENV_MESSAGE_ID, MIME_ENV_COUNT
};

static const char *const mime_envelope_names[MIME_ENV_COUNT] = {
	"Date", "Subject", "From", "Sender", "Reply-To", "To", "Cc", "Bcc",
	"In-Reply-To", "Message-ID",
};

void mime_envelope_write(struct buf *out, const unsigned char *msg, size_t msg_len,
			 const struct mime_part *msg_root)
{
	struct arena *a = arena_new(0);
	const char *values[MIME_ENV_COUNT] = { NULL };
	size_t end = msg_root->header_end <= msg_len ? (size_t)msg_root->header_end : msg_len;
	size_t pos = msg_root->header_start <= end ? (size_t)msg_root->header_start : end;
	struct mime_header_field f;
	while (mime_header_next_field(msg, end, &pos, &f)) {
		for (int i = 0; i < MIME_ENV_COUNT; i++) {
			/* the first occurrence of a field is the one described */
			if (values[i] == NULL && mime_header_name_is(&f, mime_envelope_names[i]))
				values[i] = mime_header_unfold(a, f.value, f.value_len);
		}
	}
	buf_append_char(out, '(');
	mime_imapstr_append_nstring_cstr(out, values[MIME_ENV_DATE]);
	buf_append_char(out, ' ');
	mime_imapstr_append_nstring_cstr(out, values[MIME_ENV_SUBJECT]);
	buf_append_char(out, ' ');
	size_t from_start = out->len;
	mime_envelope_write_addresses(out, a, values[MIME_ENV_FROM]);
	const char *from_text = arena_strndup(a, out->data + from_start, out->len - from_start);
	/* RFC 9051 7.5.2: Sender and Reply-To default to From when absent
	 * or empty. */
	for (int i = MIME_ENV_SENDER; i <= MIME_ENV_REPLY_TO; i++) {
		buf_append_char(out, ' ');
		size_t before = out->len;
		if (mime_envelope_write_addresses(out, a, values[i]) == 0) {
			out->len = before;
			buf_append_str(out, from_text);
		}
	}
	for (int i = MIME_ENV_TO; i <= MIME_ENV_BCC; i++) {
		buf_append_char(out, ' ');
		mime_envelope_write_addresses(out, a, values[i]);
	}
	buf_append_char(out, ' ');
	mime_imapstr_append_nstring_cstr(out, values[MIME_ENV_IN_REPLY_TO]);
	buf_append_char(out, ' ');
	mime_imapstr_append_nstring_cstr(out, values[MIME_ENV_MESSAGE_ID]);
	buf_append_char(out, ')');
	arena_destroy(&a);
}
