/* RFC 5322 + MIME (RFC 2045, RFC 2046) parser: one linear pass over a
 * contiguous buffer, building the part tree with byte offsets.
 *
 * Boundaries: a line is a boundary delimiter when it is "--" and the
 * boundary of an open multipart, then only whitespace, or "--" and anything
 * for the close-delimiter (RFC 2046 5.1.1); the innermost open boundary is
 * tried first. A boundary of an enclosing
 * multipart closes every inner part, which is how a missing close-delimiter
 * is recovered. */

#include "mime/mime-private.h"
#include "lib/arena.h"

#include <string.h>

/* The parser recurses once per nesting level; this bounds the stack whatever
 * limits the caller passes. */
#define MIME_PARSE_MAX_NESTING 256
/* RFC 2046 5.1.1: boundary := 0*69<bchars> bcharsnospace. Longer boundary
 * parameters are accepted up to this length. */
#define MIME_PARSE_MAX_BOUNDARY 200

struct mime_parse_ctx {
	struct arena *a;
	const unsigned char *msg;
	size_t len;
	unsigned int max_depth;
	unsigned int max_parts;
	unsigned int part_count;
	bool no_line_counts;
	/* open multipart boundaries, outermost first */
	const char *boundaries[MIME_PARSE_MAX_NESTING];
	size_t boundary_lens[MIME_PARSE_MAX_NESTING];
	unsigned int boundary_count;
};

/* A boundary line found in the data, or the end of the data (index -1). */
struct mime_boundary_hit {
	int index;		/* into ctx->boundaries */
	bool close;		/* "--boundary--" */
	size_t line_start, line_end;
};

/* delimiter := CRLF dash-boundary transport-padding ... CRLF
 * close-delimiter := delimiter "--" (RFC 2046 5.1.1). After the boundary
 * only whitespace (transport padding) may follow on a delimiter line, which
 * keeps "--b1" from matching a line "--b10"; a close-delimiter may be
 * followed by anything. */
static bool mime_parse_rest_is_padding(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len && p[i] != '\n'; i++) {
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	}
	return true;
}

static int mime_parse_match_boundary(const struct mime_parse_ctx *ctx, size_t pos,
				     bool *close_r)
{
	const unsigned char *p = ctx->msg + pos;
	size_t avail = ctx->len - pos;
	if (avail < 3 || p[0] != '-' || p[1] != '-')
		return -1;
	for (int i = (int)ctx->boundary_count - 1; i >= 0; i--) {
		size_t blen = ctx->boundary_lens[i];
		if (avail - 2 < blen || memcmp(p + 2, ctx->boundaries[i], blen) != 0)
			continue;
		const unsigned char *rest = p + 2 + blen;
		size_t rest_len = avail - 2 - blen;
		if (rest_len >= 2 && rest[0] == '-' && rest[1] == '-') {
			*close_r = true;
			return i;
		}
		if (mime_parse_rest_is_padding(rest, rest_len)) {
			*close_r = false;
			return i;
		}
	}
	return -1;
}

static void mime_parse_find_boundary(const struct mime_parse_ctx *ctx, size_t pos,
				     struct mime_boundary_hit *hit_r)
{
	hit_r->index = -1;
	hit_r->close = false;
	hit_r->line_start = hit_r->line_end = ctx->len;
	if (ctx->boundary_count == 0)
		return;
	while (pos < ctx->len) {
		bool close;
		int i = mime_parse_match_boundary(ctx, pos, &close);
		size_t next = mime_line_end(ctx->msg, pos, ctx->len);
		if (i >= 0) {
			hit_r->index = i;
			hit_r->close = close;
			hit_r->line_start = pos;
			hit_r->line_end = next;
			return;
		}
		pos = next;
	}
}

/* RFC 2046 5.1.1: the CRLF preceding the boundary delimiter line is part of
 * the boundary, not of the body before it. */
static size_t mime_parse_body_end(const struct mime_parse_ctx *ctx, size_t body_start,
				  const struct mime_boundary_hit *hit)
{
	size_t e = hit->line_start;
	if (hit->index < 0)
		return ctx->len;
	if (e > body_start && ctx->msg[e - 1] == '\n') {
		e--;
		if (e > body_start && ctx->msg[e - 1] == '\r')
			e--;
	}
	return e;
}

static uint64_t mime_parse_count_lines(const unsigned char *p, size_t len)
{
	uint64_t n = 0;
	const unsigned char *end = p + len;
	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	return n;
}

/* Creates a part and links it after prev (NULL: as parent's first child). */
static struct mime_part *mime_parse_new_part(struct mime_parse_ctx *ctx,
					     struct mime_part *parent,
					     struct mime_part *prev)
{
	struct mime_part *part = arena_zalloc(ctx->a, sizeof(*part));
	ctx->part_count++;
	part->parent = parent;
	if (parent != NULL) {
		part->depth = parent->depth + 1;
		if (prev == NULL)
			parent->children = part;
		else
			prev->next = part;
		parent->child_count++;
	}
	return part;
}

static bool mime_parse_can_add_part(const struct mime_parse_ctx *ctx)
{
	return ctx->part_count < ctx->max_parts;
}

static void mime_parse_field(struct mime_parse_ctx *ctx, struct mime_part *part,
			     const struct mime_header_field *f)
{
	struct arena *a = ctx->a;
	if (mime_header_name_is(f, "Content-Type")) {
		if (part->type != NULL)
			return; /* duplicated: the first valid one wins */
		const char *value = mime_header_unfold(a, f->value, f->value_len);
		const char *type, *subtype;
		struct mime_param *params;
		unsigned int count;
		if (mime_header_parse_content_type(a, value, &type, &subtype, &params, &count)) {
			part->type = type;
			part->subtype = subtype;
			part->params = params;
			part->param_count = count;
		}
	} else if (mime_header_name_is(f, "Content-Transfer-Encoding")) {
		if (part->encoding == NULL)
			part->encoding = mime_header_parse_token(a,
				mime_header_unfold(a, f->value, f->value_len));
	} else if (mime_header_name_is(f, "Content-ID")) {
		if (part->content_id == NULL)
			part->content_id = mime_header_unfold(a, f->value, f->value_len);
	} else if (mime_header_name_is(f, "Content-Description")) {
		if (part->description == NULL)
			part->description = mime_header_unfold(a, f->value, f->value_len);
	} else if (mime_header_name_is(f, "Content-MD5")) {
		if (part->md5 == NULL)
			part->md5 = mime_header_unfold(a, f->value, f->value_len);
	} else if (mime_header_name_is(f, "Content-Location")) {
		if (part->location == NULL)
			part->location = mime_header_unfold(a, f->value, f->value_len);
	} else if (mime_header_name_is(f, "Content-Language")) {
		if (part->languages == NULL)
			mime_header_parse_languages(a, mime_header_unfold(a, f->value, f->value_len),
						    &part->languages, &part->language_count);
	} else if (mime_header_name_is(f, "Content-Disposition")) {
		if (part->disposition == NULL)
			mime_header_parse_disposition(a,
				mime_header_unfold(a, f->value, f->value_len),
				&part->disposition, &part->disp_params,
				&part->disp_param_count);
	}
}

/* Finds the end of the header starting at pos: the blank line (included), a
 * boundary line, or the first line that is neither a field nor a
 * continuation (then the body starts at that line). */
static void mime_parse_header(struct mime_parse_ctx *ctx, struct mime_part *part,
			      size_t pos)
{
	part->header_start = pos;
	bool blank = false;
	for (;;) {
		bool close;
		if (mime_parse_match_boundary(ctx, pos, &close) >= 0) {
			/* RFC 2046 5.1.1: the line break before a delimiter
			 * belongs to the delimiter, not to this header. */
			if (pos > part->header_start && ctx->msg[pos - 1] == '\n') {
				pos--;
				if (pos > part->header_start && ctx->msg[pos - 1] == '\r')
					pos--;
			}
			break;
		}
		enum mime_line_kind kind = mime_header_line_kind(ctx->msg, pos, ctx->len);
		if (kind == MIME_LINE_BLANK) {
			pos = mime_line_end(ctx->msg, pos, ctx->len);
			blank = true;
			break;
		}
		if (kind != MIME_LINE_FIELD && kind != MIME_LINE_CONTINUATION)
			break;
		pos = mime_line_end(ctx->msg, pos, ctx->len);
	}
	part->header_end = part->body_start = pos;
	if (!blank)
		part->flags |= MIME_PART_FLAG_NO_BLANK_LINE;

	size_t p = (size_t)part->header_start;
	struct mime_header_field f;
	while (mime_header_next_field(ctx->msg, pos, &p, &f)) {
		mime_parse_field(ctx, part, &f);
		for (size_t i = f.start; i < f.end; i++) {
			if (ctx->msg[i] >= 0x80) {
				part->flags |= MIME_PART_FLAG_HEADER_8BIT;
				break;
			}
		}
	}
}

static bool mime_parse_encoding_is_identity(const char *enc)
{
	return enc == NULL || strcmp(enc, "7bit") == 0 || strcmp(enc, "8bit") == 0 ||
	       strcmp(enc, "binary") == 0;
}

static void mime_parse_entity(struct mime_parse_ctx *ctx, struct mime_part *part,
			      size_t pos, struct mime_boundary_hit *hit_r);

static void mime_parse_leaf(struct mime_parse_ctx *ctx, struct mime_part *part,
			    struct mime_boundary_hit *hit_r)
{
	mime_parse_find_boundary(ctx, (size_t)part->body_start, hit_r);
	part->body_end = mime_parse_body_end(ctx, (size_t)part->body_start, hit_r);
}

static void mime_parse_make_opaque(struct mime_parse_ctx *ctx, struct mime_part *part,
				   struct mime_boundary_hit *hit_r)
{
	part->kind = MIME_PART_LEAF;
	part->flags |= MIME_PART_FLAG_OPAQUE;
	mime_parse_leaf(ctx, part, hit_r);
}

static void mime_parse_multipart(struct mime_parse_ctx *ctx, struct mime_part *part,
				 const struct mime_param *boundary,
				 struct mime_boundary_hit *hit_r)
{
	int own = (int)ctx->boundary_count;
	ctx->boundaries[own] = boundary->raw_value;
	ctx->boundary_lens[own] = strlen(boundary->raw_value);
	ctx->boundary_count++;

	struct mime_boundary_hit h;
	/* preamble: everything before the first delimiter */
	mime_parse_find_boundary(ctx, (size_t)part->body_start, &h);
	if (h.index != own || h.close || !mime_parse_can_add_part(ctx)) {
		/* No usable delimiter (or no room for a child): opaque. */
		ctx->boundary_count--;
		mime_parse_make_opaque(ctx, part, hit_r);
		return;
	}
	part->kind = MIME_PART_MULTIPART;
	struct mime_part *prev = NULL;
	while (h.index == own && !h.close && mime_parse_can_add_part(ctx)) {
		prev = mime_parse_new_part(ctx, part, prev);
		mime_parse_entity(ctx, prev, h.line_end, &h);
	}
	ctx->boundary_count--;
	if (h.index == own) {
		/* close-delimiter (or the part limit): the rest is epilogue,
		 * up to a boundary of an enclosing multipart. */
		mime_parse_find_boundary(ctx, h.line_end, &h);
	} else {
		part->flags |= MIME_PART_FLAG_UNCLOSED;
	}
	*hit_r = h;
	part->body_end = mime_parse_body_end(ctx, (size_t)part->body_start, &h);
}

static void mime_parse_message(struct mime_parse_ctx *ctx, struct mime_part *part,
			       struct mime_boundary_hit *hit_r)
{
	part->kind = MIME_PART_MESSAGE;
	struct mime_part *child = mime_parse_new_part(ctx, part, NULL);
	mime_parse_entity(ctx, child, (size_t)part->body_start, hit_r);
	part->body_end = child->body_end;
}

/* The plain boundary parameter; an RFC 2231 boundary*= is not usable. */
static const struct mime_param *mime_parse_boundary_param(const struct mime_part *part)
{
	for (unsigned int i = 0; i < part->param_count; i++) {
		if (!part->params[i].extended && mime_ascii_ieq(part->params[i].name, "boundary"))
			return &part->params[i];
	}
	return NULL;
}

static void mime_parse_entity(struct mime_parse_ctx *ctx, struct mime_part *part,
			      size_t pos, struct mime_boundary_hit *hit_r)
{
	mime_parse_header(ctx, part, pos);
	const char *type = mime_part_type(part);
	const char *subtype = mime_part_subtype(part);
	bool can_nest = part->depth < ctx->max_depth &&
			ctx->boundary_count < MIME_PARSE_MAX_NESTING;

	if (strcmp(type, "multipart") == 0) {
		const struct mime_param *b = mime_parse_boundary_param(part);
		if (can_nest && b != NULL && b->raw_value[0] != '\0' &&
		    strlen(b->raw_value) <= MIME_PARSE_MAX_BOUNDARY)
			mime_parse_multipart(ctx, part, b, hit_r);
		else
			mime_parse_make_opaque(ctx, part, hit_r);
	} else if (strcmp(type, "message") == 0 &&
		   (strcmp(subtype, "rfc822") == 0 || strcmp(subtype, "global") == 0)) {
		/* RFC 2046 5.2.1: only 7bit, 8bit or binary may encode an
		 * encapsulated message; anything else is opaque. */
		if (can_nest && mime_parse_encoding_is_identity(part->encoding) &&
		    mime_parse_can_add_part(ctx))
			mime_parse_message(ctx, part, hit_r);
		else
			mime_parse_make_opaque(ctx, part, hit_r);
	} else {
		mime_parse_leaf(ctx, part, hit_r);
	}
	if (!ctx->no_line_counts)
		part->body_lines = mime_parse_count_lines(ctx->msg + part->body_start,
							  (size_t)(part->body_end - part->body_start));
}

struct mime_part *mime_parse(struct arena *a, const unsigned char *msg,
			     size_t len, const struct mime_limits *lim)
{
	struct mime_parse_ctx *ctx = arena_zalloc(a, sizeof(*ctx));
	ctx->a = a;
	ctx->msg = msg;
	ctx->len = len;
	ctx->max_depth = lim != NULL ? lim->max_depth : MIME_DEFAULT_MAX_DEPTH;
	ctx->max_parts = lim != NULL ? lim->max_parts : MIME_DEFAULT_MAX_PARTS;
	ctx->no_line_counts = lim != NULL && lim->no_line_counts;
	if (ctx->max_depth >= MIME_PARSE_MAX_NESTING)
		ctx->max_depth = MIME_PARSE_MAX_NESTING - 1;
	if (ctx->max_parts < 1)
		ctx->max_parts = 1;
	struct mime_part *root = mime_parse_new_part(ctx, NULL, NULL);
	struct mime_boundary_hit hit;
	/* With no enclosing boundary every path ends the root at len. */
	mime_parse_entity(ctx, root, 0, &hit);
	return root;
}

struct mime_part *mime_header_root(struct arena *a, size_t header_len)
{
	struct mime_part *root = arena_zalloc(a, sizeof(*root));
	root->kind = MIME_PART_LEAF;
	root->header_end = root->body_start = root->body_end = header_len;
	return root;
}

const char *mime_part_type(const struct mime_part *part)
{
	if (part->type != NULL)
		return part->type;
	/* RFC 2046 5.1.5: in a digest the default is message/rfc822 */
	const struct mime_part *parent = part->parent;
	if (parent != NULL && parent->kind == MIME_PART_MULTIPART &&
	    parent->subtype != NULL && strcmp(parent->subtype, "digest") == 0)
		return "message";
	return "text";
}

const char *mime_part_subtype(const struct mime_part *part)
{
	if (part->type != NULL)
		return part->subtype;
	return strcmp(mime_part_type(part), "message") == 0 ? "rfc822" : "plain";
}

const struct mime_param *mime_part_param(const struct mime_part *part, const char *name)
{
	const struct mime_param *found = NULL;
	for (unsigned int i = 0; i < part->param_count; i++) {
		if (mime_ascii_ieq(part->params[i].name, name)) {
			if (part->params[i].extended)
				return &part->params[i];
			if (found == NULL)
				found = &part->params[i];
		}
	}
	return found;
}

unsigned int mime_part_count(const struct mime_part *part)
{
	unsigned int n = 1;
	for (const struct mime_part *c = part->children; c != NULL; c = c->next)
		n += mime_part_count(c);
	return n;
}
