#include "imap/imap-fetch.h"
#include "imap/imap-parser.h"
#include "lib/arena.h"
#include "lib/buf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Most items a single FETCH may ask for (a list longer than this is surely
 * not a real client's). */
#define IMAP_FETCH_MAX_ITEMS 256
#define IMAP_FETCH_MAX_FIELDS 256
#define IMAP_FETCH_MAX_PATH 64

static bool fetch_prefix(const char **p, const char *word)
{
	size_t n = strlen(word);
	if (strncasecmp(*p, word, n) != 0)
		return false;
	*p += n;
	return true;
}

static struct imap_fetch_item *fetch_add(struct imap_fetch_request *req,
					 enum imap_fetch_kind kind)
{
	struct imap_fetch_item *it = &req->items[req->count++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	return it;
}

/* header-list = "(" header-fld-name *(SP header-fld-name) ")"
 * header-fld-name = astring  (atoms here: the parser kept the section's
 * text verbatim inside the BODY[...] atom) */
static bool fetch_parse_header_list(struct arena *a, const char **p, struct mime_section *sec,
				    struct buf *name)
{
	if (**p != ' ')
		return false;
	(*p)++;
	if (**p != '(')
		return false;
	(*p)++;
	const char **fields = arena_alloc(a, IMAP_FETCH_MAX_FIELDS * sizeof(*fields));
	unsigned n = 0;
	buf_append_str(name, " (");
	while (**p != ')') {
		if (n > 0) {
			if (**p != ' ')
				return false;
			(*p)++;
			buf_append_char(name, ' ');
		}
		const char *start = *p;
		bool quoted = **p == '"';
		if (quoted) {
			start = ++(*p);
			while (**p != '\0' && **p != '"' && **p != '\\')
				(*p)++;
			if (**p != '"')
				return false;
		} else {
			/* ftext: printable except SP and ":" (RFC 5322 §3.6.8) */
			while (**p > ' ' && **p < 0x7f && **p != ')' && **p != ':')
				(*p)++;
		}
		size_t len = (size_t)(*p - start);
		if (quoted)
			(*p)++;
		if (len == 0 || n >= IMAP_FETCH_MAX_FIELDS)
			return false;
		fields[n++] = arena_strndup(a, start, len);
		buf_append(name, start, len);
	}
	(*p)++;
	buf_append_char(name, ')');
	if (n == 0)
		return false;
	sec->fields = fields;
	sec->field_count = n;
	return true;
}

/* section-spec = section-msgtext / (section-part ["." section-text])
 * section-part = nz-number *("." nz-number)
 * section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
 * section-text = section-msgtext / "MIME" */
static bool fetch_parse_section(struct arena *a, const char **p, struct mime_section *sec,
				bool binary, struct buf *name)
{
	unsigned *path = arena_alloc(a, IMAP_FETCH_MAX_PATH * sizeof(*path));
	unsigned n = 0;
	memset(sec, 0, sizeof(*sec));
	while (isdigit((unsigned char)**p)) {
		if (**p == '0' || n >= IMAP_FETCH_MAX_PATH)
			return false;
		unsigned long v = 0;
		while (isdigit((unsigned char)**p)) {
			v = v * 10 + (unsigned long)(**p - '0');
			if (v > 1000000)
				return false;
			(*p)++;
		}
		path[n++] = (unsigned)v;
		buf_printf(name, "%s%lu", n > 1 ? "." : "", v);
		if (**p != '.')
			break;
		if (!isdigit((unsigned char)(*p)[1])) {
			(*p)++;
			buf_append_char(name, '.');
			break;
		}
		(*p)++;
	}
	sec->path = path;
	sec->path_len = n;
	bool after_dot = n > 0 && name->data[name->len - 1] == '.';
	if (**p == ']')
		return !after_dot;
	/* A part number runs into a section-text only through a ".", and
	 * BINARY takes part numbers only (RFC 3516 section-binary). */
	if ((n > 0 && !after_dot) || binary)
		return false;
	if (fetch_prefix(p, "HEADER.FIELDS.NOT")) {
		sec->text = MIME_SECTION_HEADER_FIELDS_NOT;
		buf_append_str(name, "HEADER.FIELDS.NOT");
		return fetch_parse_header_list(a, p, sec, name);
	}
	if (fetch_prefix(p, "HEADER.FIELDS")) {
		sec->text = MIME_SECTION_HEADER_FIELDS;
		buf_append_str(name, "HEADER.FIELDS");
		return fetch_parse_header_list(a, p, sec, name);
	}
	if (fetch_prefix(p, "HEADER")) {
		sec->text = MIME_SECTION_HEADER;
		buf_append_str(name, "HEADER");
		return true;
	}
	if (fetch_prefix(p, "TEXT")) {
		sec->text = MIME_SECTION_TEXT;
		buf_append_str(name, "TEXT");
		return true;
	}
	if (n > 0 && fetch_prefix(p, "MIME")) {
		sec->text = MIME_SECTION_MIME;
		buf_append_str(name, "MIME");
		return true;
	}
	return false;
}

/* partial = "<" number64 "." nz-number64 ">" */
static bool fetch_parse_partial(const char **p, struct imap_fetch_item *it)
{
	if (**p != '<')
		return true;
	char *end;
	(*p)++;
	if (!isdigit((unsigned char)**p))
		return false;
	it->partial_origin = strtoull(*p, &end, 10);
	if (*end != '.' || !isdigit((unsigned char)end[1]))
		return false;
	*p = end + 1;
	it->partial_count = strtoull(*p, &end, 10);
	if (*end != '>' || it->partial_count == 0)
		return false;
	*p = end + 1;
	it->partial = true;
	return true;
}

/* "BODY" section ["<" ...] / "BODY.PEEK" ... / "BINARY" ... / "BINARY.SIZE" */
static bool fetch_parse_section_item(struct arena *a, const char *p,
				     struct imap_fetch_request *req, const char **error_r)
{
	enum imap_fetch_kind kind;
	bool peek = false;
	const char *prefix;
	if (fetch_prefix(&p, "BODY.PEEK[")) {
		kind = IMAP_FETCH_SECTION, peek = true, prefix = "BODY[";
	} else if (fetch_prefix(&p, "BODY[")) {
		kind = IMAP_FETCH_SECTION, prefix = "BODY[";
	} else if (fetch_prefix(&p, "BINARY.PEEK[")) {
		kind = IMAP_FETCH_BINARY, peek = true, prefix = "BINARY[";
	} else if (fetch_prefix(&p, "BINARY.SIZE[")) {
		kind = IMAP_FETCH_BINARY_SIZE, peek = true, prefix = "BINARY.SIZE[";
	} else if (fetch_prefix(&p, "BINARY[")) {
		kind = IMAP_FETCH_BINARY, prefix = "BINARY[";
	} else {
		*error_r = "Unknown FETCH attribute";
		return false;
	}
	struct imap_fetch_item *it = fetch_add(req, kind);
	struct buf name = BUF_INIT;
	buf_append_str(&name, prefix);
	bool ok = fetch_parse_section(a, &p, &it->section, kind != IMAP_FETCH_SECTION, &name) &&
		  *p++ == ']';
	buf_append_char(&name, ']');
	if (ok && kind != IMAP_FETCH_BINARY_SIZE)
		ok = fetch_parse_partial(&p, it);
	if (!ok || *p != '\0') {
		buf_free(&name);
		*error_r = "Invalid FETCH section";
		return false;
	}
	it->peek = peek;
	it->response_name = arena_strndup(a, name.data, name.len);
	buf_free(&name);
	req->needs_body = true;
	if (!peek)
		req->sets_seen = true;
	return true;
}

/* RFC822 forms are old names of BODY sections (RFC 3501 §6.4.5). */
static bool fetch_parse_rfc822(const char *att, struct imap_fetch_request *req)
{
	struct imap_fetch_item *it;
	if (strcasecmp(att, "RFC822.SIZE") == 0) {
		fetch_add(req, IMAP_FETCH_RFC822_SIZE);
		return true;
	}
	if (strcasecmp(att, "RFC822") == 0) {
		it = fetch_add(req, IMAP_FETCH_SECTION);
		it->response_name = "RFC822";
		req->sets_seen = true;
	} else if (strcasecmp(att, "RFC822.HEADER") == 0) {
		it = fetch_add(req, IMAP_FETCH_SECTION);
		it->response_name = "RFC822.HEADER";
		it->section.text = MIME_SECTION_HEADER;
		it->peek = true;
	} else if (strcasecmp(att, "RFC822.TEXT") == 0) {
		it = fetch_add(req, IMAP_FETCH_SECTION);
		it->response_name = "RFC822.TEXT";
		it->section.text = MIME_SECTION_TEXT;
		req->sets_seen = true;
	} else {
		return false;
	}
	req->needs_body = true;
	return true;
}

static const struct {
	const char *name;
	enum imap_fetch_kind kind;
	bool meta;
} fetch_simple[] = {
	{ "UID", IMAP_FETCH_UID, false },
	{ "FLAGS", IMAP_FETCH_FLAGS, false },
	{ "INTERNALDATE", IMAP_FETCH_INTERNALDATE, false },
	{ "ENVELOPE", IMAP_FETCH_ENVELOPE, true },
	{ "BODY", IMAP_FETCH_BODY, true },
	{ "BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE, true },
	{ "MODSEQ", IMAP_FETCH_MODSEQ, false },
};

/* fetch-att (RFC 9051 §9) */
static bool fetch_parse_att(struct arena *a, const char *att, struct imap_fetch_request *req,
			    const char **error_r)
{
	if (req->count + 2 > IMAP_FETCH_MAX_ITEMS) {
		*error_r = "Too many FETCH attributes";
		return false;
	}
	for (size_t i = 0; i < sizeof(fetch_simple) / sizeof(*fetch_simple); i++) {
		if (strcasecmp(att, fetch_simple[i].name) == 0) {
			fetch_add(req, fetch_simple[i].kind);
			req->needs_meta |= fetch_simple[i].meta;
			return true;
		}
	}
	if (fetch_parse_rfc822(att, req))
		return true;
	return fetch_parse_section_item(a, att, req, error_r);
}

/* "ALL" / "FULL" / "FAST" (RFC 9051 §6.4.5 macros) */
static bool fetch_parse_macro(struct arena *a, const char *att, struct imap_fetch_request *req,
			      const char **error_r)
{
	static const char *const fast[] = { "FLAGS", "INTERNALDATE", "RFC822.SIZE" };
	bool all = strcasecmp(att, "ALL") == 0, full = strcasecmp(att, "FULL") == 0;
	if (!all && !full && strcasecmp(att, "FAST") != 0)
		return false;
	for (size_t i = 0; i < 3; i++)
		fetch_parse_att(a, fast[i], req, error_r);
	if (all || full)
		fetch_parse_att(a, "ENVELOPE", req, error_r);
	if (full)
		fetch_parse_att(a, "BODY", req, error_r);
	return true;
}

/* fetch-modifiers = SP "(" fetch-modifier *(SP fetch-modifier) ")"
 * fetch-modifier = "CHANGEDSINCE" SP mod-sequence-value / "VANISHED" */
static bool fetch_parse_modifiers(const struct imap_arg *mods, bool uid,
				  struct imap_fetch_request *req, const char **error_r)
{
	const struct imap_arg *list;
	size_t count;
	*error_r = "Invalid FETCH modifier";
	if (!imap_arg_get_list(mods, &list, &count) || count == 0)
		return false;
	for (size_t i = 0; i < count; i++) {
		if (imap_arg_atom_equals(&list[i], "CHANGEDSINCE") && i + 1 < count &&
		    !req->has_changedsince) {
			if (!imap_arg_get_number64(&list[++i], &req->changedsince) ||
			    req->changedsince == 0)
				return false;
			req->has_changedsince = true;
		} else if (imap_arg_atom_equals(&list[i], "VANISHED") && uid && !req->vanished) {
			req->vanished = true;
		} else {
			return false;
		}
	}
	/* RFC 7162 §3.2.6: VANISHED needs CHANGEDSINCE. */
	return !req->vanished || req->has_changedsince;
}

bool imap_fetch_parse(struct arena *a, const struct imap_arg *atts,
		      const struct imap_arg *modifiers, bool uid,
		      struct imap_fetch_request *req_r, const char **error_r)
{
	memset(req_r, 0, sizeof(*req_r));
	req_r->items = arena_alloc(a, IMAP_FETCH_MAX_ITEMS * sizeof(*req_r->items));
	*error_r = "Invalid FETCH attributes";
	const struct imap_arg *list;
	size_t count;
	const char *att;
	if (imap_arg_get_list(atts, &list, &count)) {
		if (count == 0)
			return false;
		for (size_t i = 0; i < count; i++) {
			if (list[i].type != IMAP_ARG_ATOM || !imap_arg_get_atom(&list[i], &att) ||
			    !fetch_parse_att(a, att, req_r, error_r))
				return false;
		}
	} else if (atts->type == IMAP_ARG_ATOM && imap_arg_get_atom(atts, &att)) {
		if (!fetch_parse_macro(a, att, req_r, error_r) &&
		    !fetch_parse_att(a, att, req_r, error_r))
			return false;
	} else {
		return false;
	}
	if (modifiers != NULL && !fetch_parse_modifiers(modifiers, uid, req_r, error_r))
		return false;
	/* UID FETCH answers always carry the UID (RFC 9051 §6.4.9); CHANGEDSINCE
	 * implies MODSEQ (RFC 7162 §3.1.4.1). Added once, first. */
	bool has_uid = false, has_modseq = false;
	for (size_t i = 0; i < req_r->count; i++) {
		has_uid |= req_r->items[i].kind == IMAP_FETCH_UID;
		has_modseq |= req_r->items[i].kind == IMAP_FETCH_MODSEQ;
	}
	if (req_r->has_changedsince && !has_modseq)
		fetch_add(req_r, IMAP_FETCH_MODSEQ);
	if (uid && !has_uid) {
		memmove(&req_r->items[1], &req_r->items[0], req_r->count * sizeof(*req_r->items));
		req_r->count++;
		memset(&req_r->items[0], 0, sizeof(req_r->items[0]));
		req_r->items[0].kind = IMAP_FETCH_UID;
	}
	return true;
}
