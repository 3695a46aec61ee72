/* The SEARCH program's parse step (imap_search_parse): arguments to a tree,
 * with the charset conversion, case folding, date and limit checks it
 * needs, and the tree's text form. Nothing here reads the store or the
 * session, so the fuzz target fuzz/fuzz-imap-search.c links this file
 * alone. Binding and evaluation are in imap-search.c. */

#include "imap/imap-search.h"

#include "imap/imap-parser.h"
#include "lib/arena.h"
#include "lib/buf.h"

#include <errno.h>
#include <iconv.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void imap_search_limits_default(struct imap_search_limits *limits_r)
{
	limits_r->max_depth = IMAP_SEARCH_DEFAULT_MAX_DEPTH;
	limits_r->max_nodes = IMAP_SEARCH_DEFAULT_MAX_NODES;
	limits_r->max_bytes = IMAP_SEARCH_DEFAULT_MAX_BYTES;
	limits_r->hidden_keys = 0;
}

/* ---- Case folding ------------------------------------------------------ */

/* Lower case of a two-byte code point (U+0080..U+07FF) in the ranges
 * imap_search_fold documents; cp itself otherwise. */
static uint32_t search_fold_cp(uint32_t cp)
{
	if ((cp >= 0xc0 && cp <= 0xde && cp != 0xd7) || (cp >= 0x391 && cp <= 0x3ab && cp != 0x3a2) ||
	    (cp >= 0x410 && cp <= 0x42f))
		return cp + 0x20;
	if (cp >= 0x400 && cp <= 0x40f)
		return cp + 0x50;
	if (cp == 0x178)
		return 0xff;
	if ((cp >= 0x100 && cp <= 0x12f) || (cp >= 0x132 && cp <= 0x137) ||
	    (cp >= 0x14a && cp <= 0x177))
		return (cp & 1) == 0 ? cp + 1 : cp;
	if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17e))
		return (cp & 1) == 1 ? cp + 1 : cp;
	switch (cp) {
	case 0x3c2: return 0x3c3; /* final sigma, as simple case folding does */
	case 0x386: return 0x3ac;
	case 0x388: case 0x389: case 0x38a: return cp + 0x25;
	case 0x38c: return 0x3cc;
	case 0x38e: case 0x38f: return cp + 0x3f;
	default: return cp;
	}
}

void imap_search_fold(char *s, size_t len)
{
	unsigned char *p = (unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		unsigned char c = p[i];
		if (c < 0xc0) {
			if (c >= 'A' && c <= 'Z')
				p[i] = (unsigned char)(c + 32);
			i++;
			continue;
		}
		/* A lead byte and every continuation byte after it are one
		 * character, as SQLite's UTF-8 reader takes them. */
		size_t n = 1;
		while (i + n < len && (p[i + n] & 0xc0) == 0x80)
			n++;
		if (n == 2 && c >= 0xc2 && c <= 0xdf) {
			uint32_t cp = search_fold_cp(((uint32_t)(c & 0x1f) << 6) | (p[i + 1] & 0x3f));
			p[i] = (unsigned char)(0xc0 | (cp >> 6));
			p[i + 1] = (unsigned char)(0x80 | (cp & 0x3f));
		}
		i += n;
	}
}


/* Strict UTF-8 (RFC 3629): no overlong forms, surrogates or code points
 * above U+10FFFF. */
static bool search_utf8_valid(const unsigned char *p, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = p[i];
		size_t n;
		uint32_t cp, min;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1, cp = c & 0x1f, min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2, cp = c & 0x0f, min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (len - i - 1 < n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/* ---- Dates --------------------------------------------------------------- */

int64_t imap_search_day(int64_t t, int zone_min)
{
	int64_t local = t + (int64_t)zone_min * 60;
	int64_t q = local / 86400;
	return local % 86400 < 0 ? q - 1 : q;
}

/* date-text  = date-day "-" date-month "-" date-year
 * date-day   = 1*2DIGIT
 * date-month = "Jan" / "Feb" / ... / "Dec"
 * date-year  = 4DIGIT */
bool imap_search_parse_date(const char *s, size_t len, int64_t *day_r)
{
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	size_t i = 0;
	int day = 0, year = 0, month = -1;
	while (i < len && i < 2 && s[i] >= '0' && s[i] <= '9')
		day = day * 10 + (s[i++] - '0');
	if (i == 0 || len - i != 9 || s[i] != '-' || s[i + 4] != '-')
		return false;
	for (int m = 0; m < 12; m++)
		if (strncasecmp(s + i + 1, months[m], 3) == 0)
			month = m;
	for (size_t k = i + 5; k < len; k++) {
		if (s[k] < '0' || s[k] > '9')
			return false;
		year = year * 10 + (s[k] - '0');
	}
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (month < 0 || day < 1 || day > mdays[month] || (month == 1 && day == 29 && !leap))
		return false;
	struct tm tm = { .tm_year = year - 1900, .tm_mon = month, .tm_mday = day };
	*day_r = imap_search_day((int64_t)timegm(&tm), 0);
	return true;
}

/* ---- Parsing --------------------------------------------------------------- */

enum search_arg {
	SEARCH_ARG_NONE,
	SEARCH_ARG_STRING,   /* astring, converted and folded */
	SEARCH_ARG_HEADER,   /* header-fld-name SP astring */
	SEARCH_ARG_DATE,
	SEARCH_ARG_NUMBER64,
	SEARCH_ARG_NZ_NUMBER,
	SEARCH_ARG_KEYWORD,
	SEARCH_ARG_SEQSET,
	SEARCH_ARG_KEY,      /* NOT */
	SEARCH_ARG_KEY2,     /* OR */
	SEARCH_ARG_MODSEQ,
	SEARCH_ARG_NEW,      /* RFC 3501: RECENT UNSEEN */
	SEARCH_ARG_OLD,      /* RFC 3501: NOT RECENT */
};

struct search_key_def {
	const char *name;
	enum imap_search_key key;
	enum search_arg arg;
	uint32_t flag;
};

static const struct search_key_def search_keys[] = {
	{ "ALL", IMAP_SEARCH_ALL, SEARCH_ARG_NONE, 0 },
	{ "ANSWERED", IMAP_SEARCH_FLAG, SEARCH_ARG_NONE, STORE_FLAG_ANSWERED },
	{ "BCC", IMAP_SEARCH_BCC, SEARCH_ARG_STRING, 0 },
	{ "BEFORE", IMAP_SEARCH_BEFORE, SEARCH_ARG_DATE, 0 },
	{ "BODY", IMAP_SEARCH_BODY, SEARCH_ARG_STRING, 0 },
	{ "CC", IMAP_SEARCH_CC, SEARCH_ARG_STRING, 0 },
	{ "DELETED", IMAP_SEARCH_FLAG, SEARCH_ARG_NONE, STORE_FLAG_DELETED },
	{ "DRAFT", IMAP_SEARCH_FLAG, SEARCH_ARG_NONE, STORE_FLAG_DRAFT },
	{ "FLAGGED", IMAP_SEARCH_FLAG, SEARCH_ARG_NONE, STORE_FLAG_FLAGGED },
	{ "FROM", IMAP_SEARCH_FROM, SEARCH_ARG_STRING, 0 },
	{ "HEADER", IMAP_SEARCH_HEADER, SEARCH_ARG_HEADER, 0 },
	{ "KEYWORD", IMAP_SEARCH_KEYWORD, SEARCH_ARG_KEYWORD, 0 },
	{ "LARGER", IMAP_SEARCH_LARGER, SEARCH_ARG_NUMBER64, 0 },
	{ "MODSEQ", IMAP_SEARCH_MODSEQ, SEARCH_ARG_MODSEQ, 0 },
	{ "NEW", IMAP_SEARCH_AND, SEARCH_ARG_NEW, 0 },
	{ "NOT", IMAP_SEARCH_NOT, SEARCH_ARG_KEY, 0 },
	{ "OLD", IMAP_SEARCH_NOT, SEARCH_ARG_OLD, 0 },
	{ "OLDER", IMAP_SEARCH_OLDER, SEARCH_ARG_NZ_NUMBER, 0 },
	{ "ON", IMAP_SEARCH_ON, SEARCH_ARG_DATE, 0 },
	{ "OR", IMAP_SEARCH_OR, SEARCH_ARG_KEY2, 0 },
	{ "RECENT", IMAP_SEARCH_RECENT, SEARCH_ARG_NONE, 0 },
	{ "SEEN", IMAP_SEARCH_FLAG, SEARCH_ARG_NONE, STORE_FLAG_SEEN },
	{ "SENTBEFORE", IMAP_SEARCH_SENTBEFORE, SEARCH_ARG_DATE, 0 },
	{ "SENTON", IMAP_SEARCH_SENTON, SEARCH_ARG_DATE, 0 },
	{ "SENTSINCE", IMAP_SEARCH_SENTSINCE, SEARCH_ARG_DATE, 0 },
	{ "SINCE", IMAP_SEARCH_SINCE, SEARCH_ARG_DATE, 0 },
	{ "SMALLER", IMAP_SEARCH_SMALLER, SEARCH_ARG_NUMBER64, 0 },
	{ "SUBJECT", IMAP_SEARCH_SUBJECT, SEARCH_ARG_STRING, 0 },
	{ "TEXT", IMAP_SEARCH_TEXT, SEARCH_ARG_STRING, 0 },
	{ "TO", IMAP_SEARCH_TO, SEARCH_ARG_STRING, 0 },
	{ "UID", IMAP_SEARCH_UIDSET, SEARCH_ARG_SEQSET, 0 },
	{ "UNANSWERED", IMAP_SEARCH_UNFLAG, SEARCH_ARG_NONE, STORE_FLAG_ANSWERED },
	{ "UNDELETED", IMAP_SEARCH_UNFLAG, SEARCH_ARG_NONE, STORE_FLAG_DELETED },
	{ "UNDRAFT", IMAP_SEARCH_UNFLAG, SEARCH_ARG_NONE, STORE_FLAG_DRAFT },
	{ "UNFLAGGED", IMAP_SEARCH_UNFLAG, SEARCH_ARG_NONE, STORE_FLAG_FLAGGED },
	{ "UNKEYWORD", IMAP_SEARCH_UNKEYWORD, SEARCH_ARG_KEYWORD, 0 },
	{ "UNSEEN", IMAP_SEARCH_UNFLAG, SEARCH_ARG_NONE, STORE_FLAG_SEEN },
	{ "YOUNGER", IMAP_SEARCH_YOUNGER, SEARCH_ARG_NZ_NUMBER, 0 },
};

struct search_parser {
	struct arena *a;
	const struct imap_search_limits *limits;
	struct imap_search_program *prog;
	iconv_t cd;              /* (iconv_t)-1 for UTF-8 / US-ASCII */
	const char *charset;
	const char *error;
};

/* A reader over one argument list (the command's, or a group's). */
struct search_args {
	const struct imap_arg *args;
	size_t count;
	size_t pos;
};

static const struct imap_arg *search_next_arg(struct search_args *r)
{
	return r->pos < r->count ? &r->args[r->pos++] : NULL;
}

static struct imap_search_node *search_node_new(struct search_parser *p, enum imap_search_key key)
{
	if (p->prog->node_count >= p->limits->max_nodes) {
		p->error = "Search program has too many keys";
		return NULL;
	}
	p->prog->node_count++;
	struct imap_search_node *n = arena_zalloc(p->a, sizeof(*n));
	n->key = key;
	return n;
}

/* Converts a string from the CHARSET to UTF-8 into out; false when the
 * bytes are not valid in that charset. */
static bool search_convert(iconv_t cd, const char *in, size_t len, struct buf *out)
{
	char *src = (char *)(uintptr_t)in;
	size_t left = len;
	bool flushing = false;
	iconv(cd, NULL, NULL, NULL, NULL);
	for (;;) {
		char chunk[1024], *dst = chunk;
		size_t room = sizeof(chunk);
		size_t r = flushing ? iconv(cd, NULL, NULL, &dst, &room)
				    : iconv(cd, &src, &left, &dst, &room);
		buf_append(out, chunk, sizeof(chunk) - room);
		if (r == (size_t)-1) {
			if (errno != E2BIG)
				return false;
		} else if (flushing) {
			return true;
		} else {
			flushing = true;
		}
	}
}

/* The bytes of a search string as UTF-8: converted from the CHARSET,
 * validated, bounded by limits.max_bytes over the whole program. */
static bool search_read_string(struct search_parser *p, const struct imap_arg *arg,
			       const char **str_r, size_t *len_r)
{
	const char *data;
	size_t len;
	if (arg != NULL && arg->type == IMAP_ARG_LITERAL_FILE) {
		p->error = "Search string too long";
		return false;
	}
	if (!imap_arg_get_astring(arg, &data, &len)) {
		p->error = arg == NULL ? "Missing search string" : "Search string expected";
		return false;
	}
	if (len > p->limits->max_bytes - p->prog->string_bytes) {
		p->error = "Search strings too long";
		return false;
	}
	struct buf conv = BUF_INIT;
	if (p->cd != (iconv_t)-1) {
		if (!search_convert(p->cd, data, len, &conv)) {
			buf_free(&conv);
			p->error = arena_printf(p->a, "Search string is not valid %s", p->charset);
			return false;
		}
		data = conv.data != NULL ? (const char *)conv.data : "";
		len = conv.len;
	}
	bool ok = false;
	if (len > p->limits->max_bytes - p->prog->string_bytes)
		p->error = "Search strings too long";
	else if (memchr(data, '\0', len) != NULL || !search_utf8_valid((const unsigned char *)data, len))
		p->error = "Search string is not valid UTF-8";
	else
		ok = true;
	if (ok) {
		p->prog->string_bytes += len;
		*str_r = arena_strndup(p->a, data, len);
		*len_r = len;
	}
	buf_free(&conv);
	return ok;
}

static bool search_is_atom_char(unsigned char c)
{
	/* ATOM-CHAR = <any CHAR except atom-specials> */
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\]", c) == NULL;
}

/* flag-keyword = "$MDNSent" / "$Forwarded" / "$Junk" / "$NotJunk" /
 *                "$Phishing" / atom */
static bool search_read_keyword(struct search_parser *p, const struct imap_arg *arg,
				struct imap_search_node *n)
{
	const char *atom;
	if (!imap_arg_get_atom(arg, &atom) || arg->len == 0) {
		p->error = "Keyword expected";
		return false;
	}
	for (size_t i = 0; i < arg->len; i++) {
		if (!search_is_atom_char((unsigned char)atom[i])) {
			p->error = "Invalid keyword";
			return false;
		}
	}
	n->str = atom;
	n->len = arg->len;
	return true;
}

/* date = date-text / DQUOTE date-text DQUOTE */
static bool search_read_date(struct search_parser *p, const struct imap_arg *arg,
			     struct imap_search_node *n)
{
	const char *data;
	size_t len;
	if ((arg == NULL || (arg->type != IMAP_ARG_ATOM && arg->type != IMAP_ARG_STRING)) ||
	    !imap_arg_get_astring(arg, &data, &len) || !imap_search_parse_date(data, len, &n->day)) {
		p->error = "Invalid date (d-Mon-yyyy expected)";
		return false;
	}
	return true;
}

/* sequence-set as a search key or after UID; "$" included (RFC 5182). */
static bool search_read_seqset(struct search_parser *p, const struct imap_arg *arg,
			       struct imap_search_node *n)
{
	const char *atom, *error;
	if (!imap_arg_get_atom(arg, &atom)) {
		p->error = "Sequence set expected";
		return false;
	}
	if (!imap_seqset_parse(atom, arg->len, 0, &n->spec, &error)) {
		p->error = error;
		return false;
	}
	n->next_set = p->prog->sets;
	p->prog->sets = n;
	return true;
}

/* search-modsequence  = "MODSEQ" [search-modseq-ext] SP mod-sequence-valzer
 * search-modseq-ext   = SP entry-name SP entry-type-req
 * entry-name          = entry-flag-name
 * entry-flag-name     = DQUOTE "/flags/" attr-flag DQUOTE
 * entry-type-req      = "priv" / "shared" / "all"
 * mod-sequence-valzer = "0" / mod-sequence-value        (RFC 7162 §7)
 * The store keeps one MODSEQ per message, so the entry is checked and
 * then ignored, as RFC 7162 §3.1.5 requires. */
static bool search_read_modseq(struct search_parser *p, struct search_args *r,
			       struct imap_search_node *n)
{
	const struct imap_arg *arg = search_next_arg(r);
	if (arg != NULL && arg->type == IMAP_ARG_STRING) {
		const struct imap_arg *type = search_next_arg(r);
		if (arg->len <= 7 || strncasecmp(arg->data, "/flags/", 7) != 0 ||
		    !(imap_arg_atom_equals(type, "priv") || imap_arg_atom_equals(type, "shared") ||
		      imap_arg_atom_equals(type, "all"))) {
			p->error = "Invalid MODSEQ entry";
			return false;
		}
		arg = search_next_arg(r);
	}
	if (!imap_arg_get_number64(arg, &n->number)) {
		p->error = "MODSEQ value expected";
		return false;
	}
	p->prog->has_modseq = true;
	return true;
}

static struct imap_search_node *search_parse_key(struct search_parser *p, struct search_args *r,
						 unsigned depth);

/* "(" search-key *(SP search-key) ")" and the top-level key list: an AND
 * of one or more keys (the single key itself when there is one). */
static struct imap_search_node *search_parse_list(struct search_parser *p, struct search_args *r,
						  unsigned depth)
{
	if (r->pos >= r->count) {
		p->error = "Search key expected";
		return NULL;
	}
	struct imap_search_node *first = NULL, **tail = &first;
	unsigned n = 0;
	while (r->pos < r->count) {
		struct imap_search_node *k = search_parse_key(p, r, depth);
		if (k == NULL)
			return NULL;
		*tail = k;
		tail = &k->next;
		n++;
	}
	if (n == 1)
		return first;
	struct imap_search_node *and = search_node_new(p, IMAP_SEARCH_AND);
	if (and != NULL)
		and->children = first;
	return and;
}

/* NOT, OR, NEW and OLD: nodes with child keys. */
static bool search_parse_children(struct search_parser *p, struct search_args *r,
				  const struct search_key_def *def, struct imap_search_node *n,
				  unsigned depth)
{
	if (def->arg == SEARCH_ARG_NEW || def->arg == SEARCH_ARG_OLD) {
		struct imap_search_node *recent = search_node_new(p, IMAP_SEARCH_RECENT);
		if (recent == NULL)
			return false;
		n->children = recent;
		if (def->arg == SEARCH_ARG_OLD)
			return true;
		recent->next = search_node_new(p, IMAP_SEARCH_UNFLAG);
		if (recent->next == NULL)
			return false;
		recent->next->flag = STORE_FLAG_SEEN;
		return true;
	}
	n->children = search_parse_key(p, r, depth + 1);
	if (n->children == NULL)
		return false;
	if (def->arg == SEARCH_ARG_KEY2) {
		n->children->next = search_parse_key(p, r, depth + 1);
		return n->children->next != NULL;
	}
	return true;
}

/* The argument of a key, per its definition. */
static bool search_parse_arg(struct search_parser *p, struct search_args *r,
			     const struct search_key_def *def, struct imap_search_node *n)
{
	const struct imap_arg *arg;
	switch (def->arg) {
	case SEARCH_ARG_STRING:
		if (!search_read_string(p, search_next_arg(r), &n->str, &n->len))
			return false;
		imap_search_fold((char *)(uintptr_t)n->str, n->len);
		return true;
	case SEARCH_ARG_HEADER: {
		/* header-fld-name = astring */
		const char *name;
		size_t len;
		if (!search_read_string(p, search_next_arg(r), &name, &len))
			return false;
		n->field = name;
		return search_parse_arg(p, r, &(struct search_key_def){ .arg = SEARCH_ARG_STRING }, n);
	}
	case SEARCH_ARG_DATE:
		return search_read_date(p, search_next_arg(r), n);
	case SEARCH_ARG_NUMBER64:
		if (!imap_arg_get_number64(search_next_arg(r), &n->number)) {
			p->error = "Number expected";
			return false;
		}
		return true;
	case SEARCH_ARG_NZ_NUMBER: {
		uint32_t num;
		if (!imap_arg_get_nz_number(search_next_arg(r), &num)) {
			p->error = "Non-zero number expected";
			return false;
		}
		n->number = num;
		return true;
	}
	case SEARCH_ARG_KEYWORD:
		return search_read_keyword(p, search_next_arg(r), n);
	case SEARCH_ARG_SEQSET:
		arg = search_next_arg(r);
		return search_read_seqset(p, arg, n);
	case SEARCH_ARG_MODSEQ:
		return search_read_modseq(p, r, n);
	case SEARCH_ARG_NONE:
	case SEARCH_ARG_KEY:
	case SEARCH_ARG_KEY2:
	case SEARCH_ARG_NEW:
	case SEARCH_ARG_OLD:
		break;
	}
	return true;
}

/* The IMAP_SEARCH_KEYS_* group of the keys of a hideable extension. */
static unsigned search_key_group(enum imap_search_key key)
{
	switch (key) {
	case IMAP_SEARCH_MODSEQ:
		return IMAP_SEARCH_KEYS_CONDSTORE;
	case IMAP_SEARCH_OLDER:
	case IMAP_SEARCH_YOUNGER:
		return IMAP_SEARCH_KEYS_WITHIN;
	default:
		return 0;
	}
}

/* The key named by arg, NULL when there is none or its extension is
 * hidden from the session. */
static const struct search_key_def *search_find_key(const struct search_parser *p,
						    const struct imap_arg *arg)
{
	if (arg->type != IMAP_ARG_ATOM)
		return NULL;
	for (size_t i = 0; i < sizeof(search_keys) / sizeof(*search_keys); i++)
		if (imap_arg_atom_equals(arg, search_keys[i].name))
			return (search_key_group(search_keys[i].key) & p->limits->hidden_keys) != 0
				       ? NULL : &search_keys[i];
	return NULL;
}

/* search-key (RFC 9051 §9, RFC 3501 §9 NEW/OLD/RECENT, RFC 5032):
 *   "ALL" / "ANSWERED" / "BCC" SP astring / "BEFORE" SP date /
 *   "BODY" SP astring / "CC" SP astring / "DELETED" / "FLAGGED" /
 *   "FROM" SP astring / "KEYWORD" SP flag-keyword / "ON" SP date /
 *   "SEEN" / "SINCE" SP date / "SUBJECT" SP astring / "TEXT" SP astring /
 *   "TO" SP astring / "UNANSWERED" / "UNDELETED" / "UNFLAGGED" /
 *   "UNKEYWORD" SP flag-keyword / "UNSEEN" / "DRAFT" /
 *   "HEADER" SP header-fld-name SP astring / "LARGER" SP number64 /
 *   "NOT" SP search-key / "OR" SP search-key SP search-key /
 *   "SENTBEFORE" SP date / "SENTON" SP date / "SENTSINCE" SP date /
 *   "SMALLER" SP number64 / "UID" SP sequence-set / "UNDRAFT" /
 *   sequence-set / "(" search-key *(SP search-key) ")" /
 *   "NEW" / "OLD" / "RECENT" / ("OLDER" / "YOUNGER") SP nz-number /
 *   search-modsequence
 * depth counts the NOT/OR/groups around the key; it is checked before
 * going deeper, so recursion stays within limits.max_depth. */
static struct imap_search_node *search_parse_key(struct search_parser *p, struct search_args *r,
						 unsigned depth)
{
	if (depth > p->limits->max_depth) {
		p->error = "Search program nested too deeply";
		return NULL;
	}
	const struct imap_arg *arg = search_next_arg(r);
	if (arg == NULL) {
		p->error = "Missing search key";
		return NULL;
	}
	if (arg->type == IMAP_ARG_LIST) {
		struct search_args sub = { arg->list, arg->list_count, 0 };
		if (arg->list_count == 0) {
			p->error = "Empty search key list";
			return NULL;
		}
		return search_parse_list(p, &sub, depth + 1);
	}
	const struct search_key_def *def = search_find_key(p, arg);
	if (def == NULL) {
		const char *atom;
		if (imap_arg_get_atom(arg, &atom) && strchr("0123456789*$", atom[0]) != NULL) {
			struct imap_search_node *n = search_node_new(p, IMAP_SEARCH_SEQSET);
			return n != NULL && search_read_seqset(p, arg, n) ? n : NULL;
		}
		bool printable = arg->type == IMAP_ARG_ATOM && arg->len <= 40;
		for (size_t i = 0; printable && i < arg->len; i++)
			printable = arg->data[i] > 0x20 && arg->data[i] < 0x7f;
		p->error = arena_printf(p->a, "Unknown search key%s%s", printable ? " " : "",
					printable ? arg->data : "");
		return NULL;
	}
	struct imap_search_node *n = search_node_new(p, def->key);
	if (n == NULL)
		return NULL;
	n->flag = def->flag;
	bool ok = def->arg == SEARCH_ARG_KEY || def->arg == SEARCH_ARG_KEY2 ||
				  def->arg == SEARCH_ARG_NEW || def->arg == SEARCH_ARG_OLD
			  ? search_parse_children(p, r, def, n, depth)
			  : search_parse_arg(p, r, def, n);
	return ok ? n : NULL;
}

/* charset = atom / quoted. UTF-8 and US-ASCII are read as UTF-8; others go
 * through iconv. */
static enum imap_search_parse_result search_open_charset(struct search_parser *p,
							 const struct imap_arg *arg)
{
	const char *name;
	size_t len;
	if (arg == NULL || (arg->type != IMAP_ARG_ATOM && arg->type != IMAP_ARG_STRING) ||
	    !imap_arg_get_astring(arg, &name, &len) || len == 0 || len > 64 ||
	    memchr(name, '\0', len) != NULL) {
		p->error = "Charset name expected";
		return IMAP_SEARCH_PARSE_BAD;
	}
	p->charset = name;
	if (strcasecmp(name, "UTF-8") == 0 || strcasecmp(name, "US-ASCII") == 0 ||
	    strcasecmp(name, "UTF8") == 0)
		return IMAP_SEARCH_PARSE_OK;
	/* Refuse names iconv would read as options ("//TRANSLIT"). */
	if (strchr(name, '/') == NULL)
		p->cd = iconv_open("UTF-8", name);
	if (p->cd == (iconv_t)-1) {
		p->error = "Unsupported charset";
		return IMAP_SEARCH_PARSE_BADCHARSET;
	}
	return IMAP_SEARCH_PARSE_OK;
}

/* search-program = ["CHARSET" SP charset SP] search-key *(SP search-key) */
enum imap_search_parse_result
imap_search_parse(struct arena *a, const struct imap_arg *args, size_t count,
		  const struct imap_search_limits *limits,
		  struct imap_search_program *prog_r, const char **error_r)
{
	memset(prog_r, 0, sizeof(*prog_r));
	struct search_parser p = { .a = a, .limits = limits, .prog = prog_r, .cd = (iconv_t)-1 };
	struct search_args r = { args, count, 0 };
	enum imap_search_parse_result res = IMAP_SEARCH_PARSE_OK;
	if (count > 0 && imap_arg_atom_equals(&args[0], "CHARSET")) {
		r.pos = 2;
		res = search_open_charset(&p, count > 1 ? &args[1] : NULL);
	}
	if (res == IMAP_SEARCH_PARSE_OK) {
		prog_r->root = search_parse_list(&p, &r, 0);
		if (prog_r->root == NULL)
			res = IMAP_SEARCH_PARSE_BAD;
	}
	if (p.cd != (iconv_t)-1)
		iconv_close(p.cd);
	*error_r = p.error;
	return res;
}

void imap_search_program_free(struct imap_search_program *prog)
{
	for (struct imap_search_node *n = prog->sets; n != NULL; n = n->next_set) {
		imap_seqset_spec_free(&n->spec);
		imap_seqset_free(&n->uids);
	}
	prog->sets = NULL;
}

/* ---- Text form --------------------------------------------------------------- */

static const char *search_key_name(const struct imap_search_node *n)
{
	static const char *const names[] = {
		[IMAP_SEARCH_ALL] = "ALL", [IMAP_SEARCH_AND] = "AND", [IMAP_SEARCH_OR] = "OR",
		[IMAP_SEARCH_NOT] = "NOT", [IMAP_SEARCH_FLAG] = "FLAG",
		[IMAP_SEARCH_UNFLAG] = "UNFLAG", [IMAP_SEARCH_RECENT] = "RECENT",
		[IMAP_SEARCH_KEYWORD] = "KEYWORD", [IMAP_SEARCH_UNKEYWORD] = "UNKEYWORD",
		[IMAP_SEARCH_SEQSET] = "SEQ", [IMAP_SEARCH_UIDSET] = "UID",
		[IMAP_SEARCH_BEFORE] = "BEFORE", [IMAP_SEARCH_ON] = "ON",
		[IMAP_SEARCH_SINCE] = "SINCE", [IMAP_SEARCH_SENTBEFORE] = "SENTBEFORE",
		[IMAP_SEARCH_SENTON] = "SENTON", [IMAP_SEARCH_SENTSINCE] = "SENTSINCE",
		[IMAP_SEARCH_LARGER] = "LARGER", [IMAP_SEARCH_SMALLER] = "SMALLER",
		[IMAP_SEARCH_OLDER] = "OLDER", [IMAP_SEARCH_YOUNGER] = "YOUNGER",
		[IMAP_SEARCH_MODSEQ] = "MODSEQ",
		[IMAP_SEARCH_FROM] = "FROM", [IMAP_SEARCH_TO] = "TO", [IMAP_SEARCH_CC] = "CC",
		[IMAP_SEARCH_BCC] = "BCC", [IMAP_SEARCH_SUBJECT] = "SUBJECT",
		[IMAP_SEARCH_HEADER] = "HEADER", [IMAP_SEARCH_BODY] = "BODY",
		[IMAP_SEARCH_TEXT] = "TEXT",
	};
	return names[n->key];
}

static void search_format_node(const struct imap_search_node *n, struct buf *out)
{
	buf_printf(out, "(%s", search_key_name(n));
	switch (n->key) {
	case IMAP_SEARCH_FLAG:
	case IMAP_SEARCH_UNFLAG:
		buf_printf(out, " %" PRIu32, n->flag);
		break;
	case IMAP_SEARCH_SEQSET:
	case IMAP_SEARCH_UIDSET:
		buf_append_char(out, ' ');
		imap_seqset_format(&n->spec.set, out);
		if (n->spec.has_star && n->spec.star_lo != UINT32_MAX)
			buf_printf(out, "%s%" PRIu32 ":*", n->spec.set.count ? "," : "",
				   n->spec.star_lo);
		else if (n->spec.has_star)
			buf_printf(out, "%s*", n->spec.set.count ? "," : "");
		if (n->spec.dollar)
			buf_append_str(out, n->spec.set.count || n->spec.has_star ? ",$" : "$");
		break;
	case IMAP_SEARCH_BEFORE: case IMAP_SEARCH_ON: case IMAP_SEARCH_SINCE:
	case IMAP_SEARCH_SENTBEFORE: case IMAP_SEARCH_SENTON: case IMAP_SEARCH_SENTSINCE:
		buf_printf(out, " %" PRId64, n->day);
		break;
	case IMAP_SEARCH_LARGER: case IMAP_SEARCH_SMALLER:
	case IMAP_SEARCH_OLDER: case IMAP_SEARCH_YOUNGER: case IMAP_SEARCH_MODSEQ:
		buf_printf(out, " %" PRIu64, n->number);
		break;
	case IMAP_SEARCH_HEADER:
		buf_printf(out, " \"%s\"", n->field);
		/* fall through */
	case IMAP_SEARCH_KEYWORD: case IMAP_SEARCH_UNKEYWORD:
	case IMAP_SEARCH_FROM: case IMAP_SEARCH_TO: case IMAP_SEARCH_CC:
	case IMAP_SEARCH_BCC: case IMAP_SEARCH_SUBJECT:
	case IMAP_SEARCH_BODY: case IMAP_SEARCH_TEXT:
		buf_printf(out, " \"%s\"", n->str);
		break;
	default:
		break;
	}
	for (const struct imap_search_node *c = n->children; c != NULL; c = c->next) {
		buf_append_char(out, ' ');
		search_format_node(c, out);
	}
	buf_append_char(out, ')');
}

void imap_search_program_format(const struct imap_search_program *prog, struct buf *out)
{
	if (prog->root != NULL)
		search_format_node(prog->root, out);
}
