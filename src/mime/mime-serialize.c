/* Compact binary form of the part tree, stored with the message so that
 * FETCH BODY[1.2] or BINARY[2] needs no reparse.
 *
 * Layout: "PMT" version(1) then the parts in pre-order. Integers are LEB128
 * varints; a string is varint(len + 1) then len bytes, 0 meaning NULL.
 *   part = kind flags header_start header_end body_end body_lines
 *          child_count type subtype content_id description encoding md5
 *          disposition location params disp_params languages children
 *   params = count *(name raw_value value extended) */

#include "mime/mime-private.h"
#include "lib/arena.h"
#include "lib/buf.h"

#include <string.h>

#define MIME_TREE_MAGIC "PMT"
#define MIME_TREE_VERSION 1
#define MIME_TREE_MAX_DEPTH 256

static void mime_ser_varint(struct buf *out, uint64_t v)
{
	unsigned char b[10];
	size_t n = 0;
	do {
		b[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v != 0)
			b[n] |= 0x80;
		n++;
	} while (v != 0);
	buf_append(out, b, n);
}

static void mime_ser_string(struct buf *out, const char *s)
{
	if (s == NULL) {
		mime_ser_varint(out, 0);
		return;
	}
	size_t len = strlen(s);
	mime_ser_varint(out, (uint64_t)len + 1);
	buf_append(out, s, len);
}

static void mime_ser_params(struct buf *out, const struct mime_param *params,
			    unsigned int count)
{
	mime_ser_varint(out, count);
	for (unsigned int i = 0; i < count; i++) {
		mime_ser_string(out, params[i].name);
		mime_ser_string(out, params[i].raw_value);
		mime_ser_string(out, params[i].value);
		mime_ser_varint(out, params[i].extended ? 1 : 0);
	}
}

static void mime_ser_part(struct buf *out, const struct mime_part *p)
{
	mime_ser_varint(out, (uint64_t)p->kind);
	mime_ser_varint(out, p->flags);
	mime_ser_varint(out, p->header_start);
	mime_ser_varint(out, p->header_end);
	mime_ser_varint(out, p->body_end);
	mime_ser_varint(out, p->body_lines);
	mime_ser_varint(out, p->child_count);
	mime_ser_string(out, p->type);
	mime_ser_string(out, p->subtype);
	mime_ser_string(out, p->content_id);
	mime_ser_string(out, p->description);
	mime_ser_string(out, p->encoding);
	mime_ser_string(out, p->md5);
	mime_ser_string(out, p->disposition);
	mime_ser_string(out, p->location);
	mime_ser_params(out, p->params, p->param_count);
	mime_ser_params(out, p->disp_params, p->disp_param_count);
	mime_ser_varint(out, p->language_count);
	for (unsigned int i = 0; i < p->language_count; i++)
		mime_ser_string(out, p->languages[i]);
	for (const struct mime_part *c = p->children; c != NULL; c = c->next)
		mime_ser_part(out, c);
}

void mime_tree_serialize(struct buf *out, const struct mime_part *root)
{
	buf_append(out, MIME_TREE_MAGIC, 3);
	buf_append_char(out, MIME_TREE_VERSION);
	mime_ser_part(out, root);
}

struct mime_deser {
	struct arena *a;
	const unsigned char *p, *end;
	const char *error;
};

static bool mime_deser_fail(struct mime_deser *d, const char *error)
{
	if (d->error == NULL)
		d->error = error;
	return false;
}

static bool mime_deser_varint(struct mime_deser *d, uint64_t *v_r)
{
	uint64_t v = 0;
	for (unsigned int shift = 0; shift < 64; shift += 7) {
		if (d->p >= d->end)
			return mime_deser_fail(d, "truncated integer");
		unsigned char b = *d->p++;
		if (shift == 63 && (b & 0x7e) != 0)
			return mime_deser_fail(d, "integer overflow");
		v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*v_r = v;
			return true;
		}
	}
	return mime_deser_fail(d, "integer too long");
}

static bool mime_deser_uint(struct mime_deser *d, unsigned int max, unsigned int *v_r)
{
	uint64_t v;
	if (!mime_deser_varint(d, &v))
		return false;
	if (v > max)
		return mime_deser_fail(d, "value out of range");
	*v_r = (unsigned int)v;
	return true;
}

static bool mime_deser_string(struct mime_deser *d, const char **s_r)
{
	uint64_t n;
	if (!mime_deser_varint(d, &n))
		return false;
	if (n == 0) {
		*s_r = NULL;
		return true;
	}
	if (n - 1 > (uint64_t)(d->end - d->p))
		return mime_deser_fail(d, "truncated string");
	*s_r = arena_strndup(d->a, d->p, (size_t)(n - 1));
	d->p += n - 1;
	return true;
}

/* Counts are bounded by the bytes left: every item takes at least one. */
static unsigned int mime_deser_max_count(const struct mime_deser *d)
{
	size_t left = (size_t)(d->end - d->p);
	return left > 1000000 ? 1000000 : (unsigned int)left;
}

static bool mime_deser_params(struct mime_deser *d, struct mime_param **params_r,
			      unsigned int *count_r)
{
	unsigned int count;
	if (!mime_deser_uint(d, mime_deser_max_count(d), &count))
		return false;
	struct mime_param *params = count == 0 ? NULL :
				    arena_zalloc(d->a, sizeof(*params) * count);
	for (unsigned int i = 0; i < count; i++) {
		unsigned int extended;
		if (!mime_deser_string(d, &params[i].name) ||
		    !mime_deser_string(d, &params[i].raw_value) ||
		    !mime_deser_string(d, &params[i].value) ||
		    !mime_deser_uint(d, 1, &extended))
			return false;
		if (params[i].name == NULL || params[i].raw_value == NULL || params[i].value == NULL)
			return mime_deser_fail(d, "missing parameter string");
		params[i].extended = extended != 0;
	}
	*params_r = params;
	*count_r = count;
	return true;
}

static bool mime_deser_check_part(struct mime_deser *d, const struct mime_part *p)
{
	if (p->header_start > p->header_end || p->header_end > p->body_end)
		return mime_deser_fail(d, "offsets out of order");
	if ((p->type == NULL) != (p->subtype == NULL))
		return mime_deser_fail(d, "type without subtype");
	switch (p->kind) {
	case MIME_PART_LEAF:
		return p->child_count == 0 || mime_deser_fail(d, "leaf with children");
	case MIME_PART_MESSAGE:
		return p->child_count == 1 || mime_deser_fail(d, "message without one child");
	case MIME_PART_MULTIPART:
		return p->child_count >= 1 || mime_deser_fail(d, "empty multipart");
	}
	return mime_deser_fail(d, "bad part kind");
}

static bool mime_deser_part(struct mime_deser *d, struct mime_part *parent,
			    unsigned int depth, struct mime_part **part_r)
{
	if (depth > MIME_TREE_MAX_DEPTH)
		return mime_deser_fail(d, "tree too deep");
	struct mime_part *p = arena_zalloc(d->a, sizeof(*p));
	unsigned int kind;
	p->parent = parent;
	p->depth = depth;
	if (!mime_deser_uint(d, MIME_PART_MESSAGE, &kind) ||
	    !mime_deser_uint(d, 0xff, &p->flags) ||
	    !mime_deser_varint(d, &p->header_start) ||
	    !mime_deser_varint(d, &p->header_end) ||
	    !mime_deser_varint(d, &p->body_end) ||
	    !mime_deser_varint(d, &p->body_lines) ||
	    !mime_deser_uint(d, mime_deser_max_count(d), &p->child_count) ||
	    !mime_deser_string(d, &p->type) || !mime_deser_string(d, &p->subtype) ||
	    !mime_deser_string(d, &p->content_id) || !mime_deser_string(d, &p->description) ||
	    !mime_deser_string(d, &p->encoding) || !mime_deser_string(d, &p->md5) ||
	    !mime_deser_string(d, &p->disposition) || !mime_deser_string(d, &p->location) ||
	    !mime_deser_params(d, &p->params, &p->param_count) ||
	    !mime_deser_params(d, &p->disp_params, &p->disp_param_count) ||
	    !mime_deser_uint(d, mime_deser_max_count(d), &p->language_count))
		return false;
	p->kind = (enum mime_part_kind)kind;
	/* the parser's invariant: these tokens are lower-case */
	if (p->type != NULL) {
		mime_ascii_lower((char *)p->type);
		mime_ascii_lower((char *)p->subtype);
	}
	if (p->encoding != NULL)
		mime_ascii_lower((char *)p->encoding);
	if (p->disposition != NULL)
		mime_ascii_lower((char *)p->disposition);
	p->body_start = p->header_end;
	if (p->language_count > 0)
		p->languages = arena_zalloc(d->a, sizeof(*p->languages) * p->language_count);
	for (unsigned int i = 0; i < p->language_count; i++) {
		if (!mime_deser_string(d, &p->languages[i]))
			return false;
		if (p->languages[i] == NULL)
			return mime_deser_fail(d, "missing language");
	}
	if (!mime_deser_check_part(d, p))
		return false;
	struct mime_part **tail = &p->children;
	for (unsigned int i = 0; i < p->child_count; i++) {
		if (!mime_deser_part(d, p, depth + 1, tail))
			return false;
		tail = &(*tail)->next;
	}
	*part_r = p;
	return true;
}

struct mime_part *mime_tree_deserialize(struct arena *a, const unsigned char *data,
					size_t len, const char **error_r)
{
	struct mime_deser d = { .a = a, .p = data, .end = data + len };
	if (len < 4 || memcmp(data, MIME_TREE_MAGIC, 3) != 0 ||
	    data[3] != MIME_TREE_VERSION) {
		*error_r = "not a serialised MIME tree";
		return NULL;
	}
	d.p += 4;
	struct mime_part *root;
	if (!mime_deser_part(&d, NULL, 0, &root)) {
		*error_r = d.error;
		return NULL;
	}
	if (d.p != d.end) {
		*error_r = "trailing data";
		return NULL;
	}
	return root;
}
