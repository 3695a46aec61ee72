/* Header field iteration and structured MIME field parsing: Content-Type and
 * Content-Disposition parameters with RFC 2231 continuations and charsets. */

#include "mime/mime-private.h"
#include "lib/arena.h"
#include "lib/buf.h"

#include <stdlib.h>
#include <string.h>

bool mime_ascii_ieq_n(const void *a, size_t a_len, const char *b)
{
	const unsigned char *p = a;
	size_t b_len = strlen(b);
	if (a_len != b_len)
		return false;
	for (size_t i = 0; i < a_len; i++) {
		unsigned char x = p[i], y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

bool mime_ascii_ieq(const char *a, const char *b)
{
	return mime_ascii_ieq_n(a, strlen(a), b);
}

char *mime_ascii_lower(char *s)
{
	for (char *p = s; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	return s;
}

static bool mime_is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* ftext = %d33-57 / %d59-126 (RFC 5322 3.6.8). 8-bit bytes are accepted
 * too, so that a field name damaged by a bad gateway does not end the
 * header early. */
static bool mime_is_ftext(unsigned char c)
{
	return c >= 33 && c != 127 && c != ':';
}

enum mime_line_kind mime_header_line_kind(const unsigned char *msg, size_t pos,
					  size_t end)
{
	if (pos >= end)
		return MIME_LINE_END;
	if (msg[pos] == '\n' || (msg[pos] == '\r' && (pos + 1 == end || msg[pos + 1] == '\n')))
		return MIME_LINE_BLANK;
	if (mime_is_wsp(msg[pos]))
		return MIME_LINE_CONTINUATION;
	size_t i = pos;
	while (i < end && mime_is_ftext(msg[i]))
		i++;
	if (i == pos)
		return MIME_LINE_OTHER;
	/* obs-optional: WSP allowed between the name and the colon */
	while (i < end && mime_is_wsp(msg[i]))
		i++;
	return i < end && msg[i] == ':' ? MIME_LINE_FIELD : MIME_LINE_OTHER;
}

size_t mime_line_end(const unsigned char *msg, size_t pos, size_t end)
{
	const unsigned char *lf = memchr(msg + pos, '\n', end - pos);
	return lf == NULL ? end : (size_t)(lf - msg) + 1;
}

bool mime_header_next_field(const unsigned char *msg, size_t end, size_t *pos,
			    struct mime_header_field *f)
{
	size_t p = *pos;
	enum mime_line_kind kind = mime_header_line_kind(msg, p, end);
	if (kind != MIME_LINE_FIELD && kind != MIME_LINE_CONTINUATION)
		return false;
	memset(f, 0, sizeof(*f));
	f->start = p;
	size_t value_start = p;
	if (kind == MIME_LINE_FIELD) {
		size_t i = p;
		while (mime_is_ftext(msg[i]))
			i++;
		f->name = msg + p;
		f->name_len = i - p;
		while (msg[i] != ':')
			i++;
		value_start = i + 1;
	}
	/* The orphan continuation line at the very top of a header becomes a
	 * field without a name, so that it stays part of the header. */
	size_t line_end = mime_line_end(msg, p, end);
	while (mime_header_line_kind(msg, line_end, end) == MIME_LINE_CONTINUATION)
		line_end = mime_line_end(msg, line_end, end);
	size_t value_end = line_end;
	if (value_end > value_start && msg[value_end - 1] == '\n')
		value_end--;
	if (value_end > value_start && msg[value_end - 1] == '\r')
		value_end--;
	f->value = msg + value_start;
	f->value_len = value_end - value_start;
	f->end = line_end;
	*pos = line_end;
	return true;
}

bool mime_header_name_is(const struct mime_header_field *f, const char *name)
{
	return f->name_len > 0 && mime_ascii_ieq_n(f->name, f->name_len, name);
}

char *mime_header_unfold(struct arena *a, const unsigned char *value, size_t len)
{
	char *s = arena_alloc(a, len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (value[i] != '\r' && value[i] != '\n')
			s[n++] = (char)value[i];
	}
	size_t start = 0;
	while (start < n && mime_is_wsp((unsigned char)s[start]))
		start++;
	while (n > start && mime_is_wsp((unsigned char)s[n - 1]))
		n--;
	memmove(s, s + start, n - start);
	s[n - start] = '\0';
	return s;
}

const char *mime_skip_cfws(const char *p)
{
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			return p;
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
	}
}

/* token := 1*<any (US-ASCII) CHAR except SPACE, CTLs, or tspecials>
 * (RFC 2045 5.1). 8-bit bytes are accepted as token characters: real mail
 * carries them and rejecting them would lose the value. */
static bool mime_is_token_char(unsigned char c)
{
	if (c <= 0x20 || c == 0x7f)
		return false;
	return strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

static const char *mime_read_token(struct arena *a, const char *p, char **token_r)
{
	const char *start = p;
	while (mime_is_token_char((unsigned char)*p))
		p++;
	*token_r = p == start ? NULL : arena_strndup(a, start, (size_t)(p - start));
	return p;
}

/* quoted-string (RFC 5322 3.2.4), p at the opening quote; a missing closing
 * quote ends the string at the end of the value. */
static const char *mime_read_quoted(struct arena *a, const char *p, char **value_r)
{
	struct buf b = BUF_INIT;
	p++;
	while (*p != '\0' && *p != '"') {
		if (*p == '\\' && p[1] != '\0')
			p++;
		buf_append_char(&b, *p);
		p++;
	}
	if (*p == '"')
		p++;
	*value_r = arena_strndup(a, b.data == NULL ? "" : (const char *)b.data, b.len);
	buf_free(&b);
	return p;
}

/* An unquoted value that is not a valid token (spaces, tspecials): taken up
 * to the next ';', trailing whitespace dropped. */
static const char *mime_read_loose_value(struct arena *a, const char *p, char **value_r)
{
	const char *start = p;
	while (*p != '\0' && *p != ';')
		p++;
	const char *e = p;
	while (e > start && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*value_r = arena_strndup(a, start, (size_t)(e - start));
	return p;
}

struct mime_raw_param {
	char *base;		/* name without the RFC 2231 suffixes */
	int section;		/* -1 when not a continuation */
	bool extended;		/* name ended in '*' */
	char *value;
	bool used;
};

/* Splits "name*3*" into base "name", section 3, extended. */
static void mime_split_param_name(struct mime_raw_param *rp)
{
	char *name = rp->base;
	size_t len = strlen(name);
	rp->section = -1;
	rp->extended = false;
	if (len > 1 && name[len - 1] == '*') {
		rp->extended = true;
		name[--len] = '\0';
	}
	char *star = strrchr(name, '*');
	if (star != NULL && star != name && star[1] != '\0' &&
	    strspn(star + 1, "0123456789") == strlen(star + 1) && strlen(star + 1) <= 4) {
		rp->section = atoi(star + 1);
		*star = '\0';
	}
}

static const char *mime_parse_one_param(struct arena *a, const char *p,
					struct mime_raw_param *rp, bool *ok_r)
{
	char *name;
	*ok_r = false;
	p = mime_read_token(a, p, &name);
	p = mime_skip_cfws(p);
	if (name == NULL || *p != '=') {
		while (*p != '\0' && *p != ';')
			p++;
		return p;
	}
	p = mime_skip_cfws(p + 1);
	char *value;
	if (*p == '"') {
		p = mime_read_quoted(a, p, &value);
	} else {
		const char *q = mime_read_token(a, p, &value);
		const char *after = mime_skip_cfws(q);
		if (value == NULL || (*after != ';' && *after != '\0'))
			q = mime_read_loose_value(a, p, &value);
		p = q;
	}
	rp->base = name;
	rp->value = value;
	mime_split_param_name(rp);
	*ok_r = true;
	return p;
}

static int mime_hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* extended-initial-value := [charset] "'" [language] "'" extended-other-values
 * (RFC 2231 7); returns the UTF-8 form of the value. */
static const char *mime_decode_extended_value(struct arena *a, const char *raw)
{
	const char *q1 = strchr(raw, '\'');
	const char *q2 = q1 == NULL ? NULL : strchr(q1 + 1, '\'');
	const char *text = raw;
	char *charset = NULL;
	if (q2 != NULL) {
		charset = arena_strndup(a, raw, (size_t)(q1 - raw));
		text = q2 + 1;
	}
	struct buf bytes = BUF_INIT, utf8 = BUF_INIT;
	for (const char *p = text; *p != '\0'; p++) {
		int h, l;
		if (*p == '%' && (h = mime_hex_value((unsigned char)p[1])) >= 0 &&
		    (l = mime_hex_value((unsigned char)p[2])) >= 0) {
			buf_append_char(&bytes, (char)(h << 4 | l));
			p += 2;
		} else {
			buf_append_char(&bytes, *p);
		}
	}
	const char *result;
	if (charset != NULL && *charset != '\0' &&
	    mime_charset_to_utf8(&utf8, charset, bytes.data, bytes.len))
		result = arena_strndup(a, buf_cstr(&utf8), utf8.len);
	else
		result = arena_strndup(a, buf_cstr(&bytes), bytes.len);
	buf_free(&bytes);
	buf_free(&utf8);
	return result;
}

/* attribute-char (RFC 2231 7): token chars except "*", "'", "%". */
static void mime_percent_encode(struct buf *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (mime_is_token_char(*p) && *p < 0x80 && *p != '*' && *p != '\'' && *p != '%')
			buf_append_char(out, (char)*p);
		else
			buf_printf(out, "%%%02X", *p);
	}
}

static const char *mime_decode_plain_value(struct arena *a, const char *raw)
{
	if (strstr(raw, "=?") == NULL)
		return raw;
	/* Not allowed by RFC 2047 5, but widely sent for filenames. */
	struct buf b = BUF_INIT;
	mime_header_decode_utf8(&b, (const unsigned char *)raw, strlen(raw));
	const char *s = arena_strndup(a, buf_cstr(&b), b.len);
	buf_free(&b);
	return s;
}

/* Joins name*0, name*1, ... (RFC 2231 3) starting at section 0 and stopping
 * at the first missing section; the first occurrence of a section wins. */
static void mime_join_continuations(struct arena *a, struct mime_raw_param *raw,
				    unsigned int count, unsigned int first,
				    struct mime_param *out)
{
	bool any_extended = false;
	int max_section = -1;
	for (unsigned int i = first; i < count; i++) {
		if (raw[i].section >= 0 && mime_ascii_ieq(raw[i].base, raw[first].base)) {
			any_extended |= raw[i].extended;
			if (raw[i].section > max_section)
				max_section = raw[i].section;
		}
	}
	struct buf joined = BUF_INIT;
	for (int s = 0; s <= max_section; s++) {
		struct mime_raw_param *seg = NULL;
		for (unsigned int i = first; i < count; i++) {
			if (raw[i].section == s && mime_ascii_ieq(raw[i].base, raw[first].base)) {
				if (seg == NULL)
					seg = &raw[i];
				raw[i].used = true;
			}
		}
		if (seg == NULL)
			break;
		if (!any_extended || seg->extended) {
			buf_append_str(&joined, seg->value);
		} else {
			if (s == 0)
				buf_append_str(&joined, "''");
			mime_percent_encode(&joined, seg->value);
		}
	}
	for (unsigned int i = first; i < count; i++) {
		if (raw[i].section >= 0 && mime_ascii_ieq(raw[i].base, raw[first].base))
			raw[i].used = true;
	}
	out->name = raw[first].base;
	out->extended = any_extended;
	out->raw_value = arena_strndup(a, buf_cstr(&joined), joined.len);
	out->value = any_extended ? mime_decode_extended_value(a, out->raw_value) :
		     mime_decode_plain_value(a, out->raw_value);
	buf_free(&joined);
}

static void mime_params_assemble(struct arena *a, struct mime_raw_param *raw,
				 unsigned int count, struct mime_param **params_r,
				 unsigned int *count_r)
{
	struct mime_param *params = arena_zalloc(a, sizeof(*params) * (count ? count : 1));
	unsigned int n = 0;
	for (unsigned int i = 0; i < count; i++) {
		if (raw[i].used)
			continue;
		if (raw[i].section >= 0) {
			mime_join_continuations(a, raw, count, i, &params[n++]);
			continue;
		}
		/* A repeated name (same extended-ness): the first one wins. */
		for (unsigned int j = i; j < count; j++) {
			if (raw[j].section < 0 && raw[j].extended == raw[i].extended &&
			    mime_ascii_ieq(raw[j].base, raw[i].base))
				raw[j].used = true;
		}
		struct mime_param *p = &params[n++];
		p->name = raw[i].base;
		p->raw_value = raw[i].value;
		p->extended = raw[i].extended;
		p->value = raw[i].extended ? mime_decode_extended_value(a, raw[i].value) :
			   mime_decode_plain_value(a, raw[i].value);
	}
	*params_r = n == 0 ? NULL : params;
	*count_r = n;
}

/* Parameters beyond this many in one field are ignored. */
#define MIME_MAX_PARAMS 64

static void mime_parse_params(struct arena *a, const char *p,
			      struct mime_param **params_r, unsigned int *count_r)
{
	struct mime_raw_param raw[MIME_MAX_PARAMS];
	unsigned int count = 0;
	while (*p != '\0' && count < MIME_MAX_PARAMS) {
		p = mime_skip_cfws(p);
		if (*p == ';') {
			p = mime_skip_cfws(p + 1);
			continue;
		}
		if (*p == '\0')
			break;
		bool ok;
		memset(&raw[count], 0, sizeof(raw[count]));
		const char *next = mime_parse_one_param(a, p, &raw[count], &ok);
		if (ok)
			count++;
		if (next == p)
			next++; /* a stray tspecial: skip it */
		/* junk after a value (text after a quoted value): up to ';' */
		p = next + strcspn(next, ";");
	}
	mime_params_assemble(a, raw, count, params_r, count_r);
}

bool mime_header_parse_content_type(struct arena *a, const char *value,
				    const char **type_r, const char **subtype_r,
				    struct mime_param **params_r,
				    unsigned int *count_r)
{
	char *type, *subtype = NULL;
	const char *p = mime_skip_cfws(value);
	p = mime_read_token(a, p, &type);
	p = mime_skip_cfws(p);
	bool ok = type != NULL && *p == '/';
	if (ok) {
		p = mime_skip_cfws(p + 1);
		p = mime_read_token(a, p, &subtype);
		ok = subtype != NULL;
	}
	while (*p != '\0' && *p != ';')
		p++;
	mime_parse_params(a, p, params_r, count_r);
	*type_r = ok ? mime_ascii_lower(type) : NULL;
	*subtype_r = ok ? mime_ascii_lower(subtype) : NULL;
	return ok;
}

bool mime_header_parse_disposition(struct arena *a, const char *value,
				   const char **type_r,
				   struct mime_param **params_r,
				   unsigned int *count_r)
{
	char *type;
	const char *p = mime_read_token(a, mime_skip_cfws(value), &type);
	while (*p != '\0' && *p != ';')
		p++;
	mime_parse_params(a, p, params_r, count_r);
	*type_r = type == NULL ? NULL : mime_ascii_lower(type);
	return type != NULL;
}

const char *mime_header_parse_token(struct arena *a, const char *value)
{
	char *token;
	mime_read_token(a, mime_skip_cfws(value), &token);
	return token == NULL ? NULL : mime_ascii_lower(token);
}

void mime_header_parse_languages(struct arena *a, const char *value,
				 const char ***langs_r, unsigned int *count_r)
{
	unsigned int max = 1;
	for (const char *p = value; *p != '\0'; p++)
		max += *p == ',';
	const char **langs = arena_alloc(a, sizeof(*langs) * max);
	unsigned int n = 0;
	const char *p = value;
	while (*p != '\0' && n < max) {
		p = mime_skip_cfws(p);
		char *tag;
		p = mime_read_token(a, p, &tag);
		if (tag != NULL)
			langs[n++] = tag;
		p = mime_skip_cfws(p);
		while (*p != '\0' && *p != ',')
			p++;
		if (*p == ',')
			p++;
	}
	*langs_r = n == 0 ? NULL : langs;
	*count_r = n;
}
