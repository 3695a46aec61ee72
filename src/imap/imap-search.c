#include "imap/imap-search.h"

#include "imap/imap-parser.h"
#include "imap/imap-selected.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "mime/mime-digest.h"

#include <errno.h>
#include <iconv.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void imap_search_limits_default(struct imap_search_limits *limits_r)
{
	limits_r->max_depth = IMAP_SEARCH_DEFAULT_MAX_DEPTH;
	limits_r->max_nodes = IMAP_SEARCH_DEFAULT_MAX_NODES;
	limits_r->max_bytes = IMAP_SEARCH_DEFAULT_MAX_BYTES;
}

/* ---- Case folding and matching ----------------------------------------- */

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

bool imap_search_match(struct buf *scratch, const char *hay, size_t hay_len,
		       const char *needle, size_t needle_len)
{
	if (needle_len == 0)
		return true;
	if (hay_len < needle_len)
		return false;
	buf_reset(scratch);
	buf_append(scratch, hay, hay_len);
	char *h = (char *)scratch->data;
	imap_search_fold(h, hay_len);
	/* A needle ending in a multi-byte character must not match a prefix
	 * of a longer (malformed) sequence in the text. */
	bool check_end = (unsigned char)needle[needle_len - 1] >= 0x80;
	size_t from = 0;
	while (from + needle_len <= hay_len) {
		const char *hit = memmem(h + from, hay_len - from, needle, needle_len);
		if (hit == NULL)
			return false;
		size_t end = (size_t)(hit - h) + needle_len;
		if (!check_end || end == hay_len || ((unsigned char)h[end] & 0xc0) != 0x80)
			return true;
		from = (size_t)(hit - h) + 1;
	}
	return false;
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

static size_t search_utf8_chars(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

/* ---- Dates --------------------------------------------------------------- */

static int64_t search_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
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
	*day_r = search_floor_div((int64_t)timegm(&tm), 86400);
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

static const struct search_key_def *search_find_key(const struct imap_arg *arg)
{
	if (arg->type != IMAP_ARG_ATOM)
		return NULL;
	for (size_t i = 0; i < sizeof(search_keys) / sizeof(*search_keys); i++)
		if (imap_arg_atom_equals(arg, search_keys[i].name))
			return &search_keys[i];
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
	const struct search_key_def *def = search_find_key(arg);
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

bool imap_search_bind(struct imap_search_program *prog, const struct imap_selected *sel,
		      const char **error_r)
{
	for (struct imap_search_node *n = prog->sets; n != NULL; n = n->next_set)
		if (!imap_selected_resolve(sel, &n->spec, n->key == IMAP_SEARCH_UIDSET, &n->uids,
					   error_r))
			return false;
	return true;
}

/* ---- Evaluation ------------------------------------------------------------ */

static pthread_once_t search_env_once = PTHREAD_ONCE_INIT;
static bool search_index_on = true;

static void search_read_env(void)
{
	const char *v = getenv("PETREL_SEARCH_NO_INDEX");
	search_index_on = v == NULL || *v == '\0' || strcmp(v, "0") == 0;
}

bool imap_search_index_enabled(void)
{
	pthread_once(&search_env_once, search_read_env);
	return search_index_on;
}

/* What a key needs from the store row. */
#define SEARCH_LOAD_ROW 0u
#define SEARCH_LOAD_META STORE_MSG_WANT_META
#define SEARCH_LOAD_TEXT (STORE_MSG_WANT_META | STORE_MSG_WANT_TEXT)

struct search_eval {
	struct store_user *u;
	const struct imap_selected *sel;
	struct arena *scratch;     /* one message's row; reset per message */
	struct buf fold;           /* folded text being matched */
	int64_t now;
	uint32_t idx, uid;
	int loaded;                /* -1: nothing, else SEARCH_LOAD_* */
	bool gone;                 /* expunged from the store meanwhile */
	enum store_error err;
	const char *error;
	struct store_msg msg;
	struct imap_search_stats *stats;
	/* Every message's row, read in one query when the program has row
	 * keys (dates, sizes, keywords); NULL otherwise. */
	const struct store_msg_row *rows;
	size_t row_count;
};

/* Serves a row-only load from the bulk rows: a UID missing there was
 * expunged before the search began. */
static bool search_load_row_bulk(struct search_eval *ev)
{
	const struct store_msg_row *r = store_msg_row_find(ev->rows, ev->row_count, ev->uid);
	if (r == NULL) {
		ev->gone = true;
		return false;
	}
	memset(&ev->msg, 0, sizeof(ev->msg));
	ev->msg.uid = r->uid;
	ev->msg.size = r->size;
	ev->msg.internal_date = r->internal_date;
	ev->msg.tz_offset_min = r->tz_offset_min;
	ev->msg.keywords = r->keywords;
	ev->msg.keyword_count = r->keyword_count;
	ev->loaded = SEARCH_LOAD_ROW;
	return true;
}

static bool search_load(struct search_eval *ev, unsigned want)
{
	if (ev->gone || ev->err != STORE_OK)
		return false;
	if (ev->loaded >= 0 && ((unsigned)ev->loaded & want) == want)
		return true;
	if (want == SEARCH_LOAD_ROW && ev->rows != NULL)
		return search_load_row_bulk(ev);
	enum store_error err = store_msg_get(ev->u, ev->sel->mailbox_id, ev->uid, want,
					     ev->scratch, &ev->msg, &ev->error);
	if (err == STORE_ERR_NONEXISTENT) {
		ev->gone = true;
		return false;
	}
	if (err != STORE_OK) {
		ev->err = err;
		return false;
	}
	if (ev->loaded < 0)
		ev->stats->messages_read++;
	ev->loaded = (int)want;
	return true;
}

/* The calendar day of the Date: header in its own zone: the envelope keeps
 * the header verbatim (env-date = nstring), the store the UTC instant. */
static bool search_sent_day(struct search_eval *ev, int64_t *day_r)
{
	if (!search_load(ev, SEARCH_LOAD_META) || !ev->msg.meta.has_sent_date)
		return false;
	int zone = 0;
	const char *env = ev->msg.meta.envelope;
	if (env != NULL && env[0] == '(' && env[1] == '"') {
		struct buf date = BUF_INIT;
		for (const char *q = env + 2; *q != '\0' && *q != '"'; q++) {
			if (*q == '\\' && q[1] != '\0')
				q++;
			buf_append_char(&date, *q);
		}
		int64_t t;
		if (!mime_parse_date(buf_cstr(&date), &t, &zone) || t != ev->msg.meta.sent_date)
			zone = 0;
		buf_free(&date);
	}
	*day_r = search_floor_div(ev->msg.meta.sent_date + (int64_t)zone * 60, 86400);
	return true;
}

static bool search_has_keyword(const struct store_msg *m, const char *kw)
{
	for (size_t i = 0; i < m->keyword_count; i++)
		if (strcasecmp(m->keywords[i], kw) == 0)
			return true;
	return false;
}

static bool search_text(struct search_eval *ev, const char *hay, const struct imap_search_node *n)
{
	return hay != NULL && imap_search_match(&ev->fold, hay, strlen(hay), n->str, n->len);
}

/* Any "Name: value" line of the decoded header whose name is field and
 * whose value holds the needle. */
static bool search_header_field(struct search_eval *ev, const char *field,
				const struct imap_search_node *n)
{
	const char *p = ev->msg.meta.header_text;
	size_t flen = strlen(field);
	while (p != NULL && *p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
		if (len > flen && p[flen] == ':' && strncasecmp(p, field, flen) == 0) {
			size_t skip = flen + 1 + (len > flen + 1 && p[flen + 1] == ' ');
			if (imap_search_match(&ev->fold, p + skip, len - skip, n->str, n->len))
				return true;
		}
		p = eol != NULL ? eol + 1 : NULL;
	}
	return false;
}

static bool search_candidate(const struct imap_search_node *n, uint32_t uid)
{
	size_t lo = 0, hi = n->candidate_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (n->candidates[mid] < uid)
			lo = mid + 1;
		else if (n->candidates[mid] > uid)
			hi = mid;
		else
			return true;
	}
	return false;
}

static bool search_eval_string(struct search_eval *ev, const struct imap_search_node *n)
{
	if (n->indexed && !search_candidate(n, ev->uid))
		return false;
	const struct store_msg_meta *m = &ev->msg.meta;
	switch (n->key) {
	case IMAP_SEARCH_FROM:
		return search_load(ev, SEARCH_LOAD_META) && search_text(ev, m->from, n);
	case IMAP_SEARCH_TO:
		return search_load(ev, SEARCH_LOAD_META) && search_text(ev, m->to, n);
	case IMAP_SEARCH_CC:
		return search_load(ev, SEARCH_LOAD_META) && search_text(ev, m->cc, n);
	case IMAP_SEARCH_SUBJECT:
		return search_load(ev, SEARCH_LOAD_META) && search_text(ev, m->subject, n);
	case IMAP_SEARCH_BCC:
		return search_load(ev, SEARCH_LOAD_TEXT) && search_header_field(ev, "Bcc", n);
	case IMAP_SEARCH_HEADER:
		return search_load(ev, SEARCH_LOAD_TEXT) && search_header_field(ev, n->field, n);
	case IMAP_SEARCH_BODY:
		return search_load(ev, SEARCH_LOAD_TEXT) && search_text(ev, m->body_text, n);
	case IMAP_SEARCH_TEXT:
		return search_load(ev, SEARCH_LOAD_TEXT) &&
		       (search_text(ev, m->header_text, n) || search_text(ev, m->body_text, n));
	default:
		return false;
	}
}

static int64_t search_internal_day(const struct store_msg *m)
{
	return search_floor_div(m->internal_date + (int64_t)m->tz_offset_min * 60, 86400);
}

static bool search_eval_node(struct search_eval *ev, const struct imap_search_node *n);

static bool search_eval_row(struct search_eval *ev, const struct imap_search_node *n)
{
	if (!search_load(ev, SEARCH_LOAD_ROW))
		return false;
	const struct store_msg *m = &ev->msg;
	switch (n->key) {
	case IMAP_SEARCH_KEYWORD: return search_has_keyword(m, n->str);
	case IMAP_SEARCH_UNKEYWORD: return !search_has_keyword(m, n->str);
	case IMAP_SEARCH_BEFORE: return search_internal_day(m) < n->day;
	case IMAP_SEARCH_ON: return search_internal_day(m) == n->day;
	case IMAP_SEARCH_SINCE: return search_internal_day(m) >= n->day;
	case IMAP_SEARCH_LARGER: return m->size > n->number;
	case IMAP_SEARCH_SMALLER: return m->size < n->number;
	/* RFC 5032 §2: OLDER matches at or before now - n, YOUNGER at or
	 * after it. */
	case IMAP_SEARCH_OLDER: return m->internal_date <= ev->now - (int64_t)n->number;
	case IMAP_SEARCH_YOUNGER: return m->internal_date >= ev->now - (int64_t)n->number;
	default: return false;
	}
}

static bool search_eval_sent(struct search_eval *ev, const struct imap_search_node *n)
{
	int64_t day;
	if (!search_sent_day(ev, &day))
		return false;
	switch (n->key) {
	case IMAP_SEARCH_SENTBEFORE: return day < n->day;
	case IMAP_SEARCH_SENTON: return day == n->day;
	default: return day >= n->day;
	}
}

static bool search_eval_node(struct search_eval *ev, const struct imap_search_node *n)
{
	uint32_t flags = ev->sel->flags[ev->idx];
	switch (n->key) {
	case IMAP_SEARCH_ALL:
		return true;
	case IMAP_SEARCH_AND:
		for (const struct imap_search_node *c = n->children; c != NULL; c = c->next)
			if (!search_eval_node(ev, c))
				return false;
		return true;
	case IMAP_SEARCH_OR:
		return search_eval_node(ev, n->children) || search_eval_node(ev, n->children->next);
	case IMAP_SEARCH_NOT:
		return !search_eval_node(ev, n->children);
	case IMAP_SEARCH_FLAG:
		return (flags & n->flag) == n->flag;
	case IMAP_SEARCH_UNFLAG:
		return (flags & n->flag) == 0;
	case IMAP_SEARCH_RECENT:
		return imap_selected_is_recent(ev->sel, ev->uid);
	case IMAP_SEARCH_MODSEQ:
		return ev->sel->modseqs[ev->idx] >= n->number;
	case IMAP_SEARCH_SEQSET:
	case IMAP_SEARCH_UIDSET:
		return imap_seqset_contains(&n->uids, ev->uid);
	case IMAP_SEARCH_SENTBEFORE:
	case IMAP_SEARCH_SENTON:
	case IMAP_SEARCH_SENTSINCE:
		return search_eval_sent(ev, n);
	case IMAP_SEARCH_FROM:
	case IMAP_SEARCH_TO:
	case IMAP_SEARCH_CC:
	case IMAP_SEARCH_BCC:
	case IMAP_SEARCH_SUBJECT:
	case IMAP_SEARCH_HEADER:
	case IMAP_SEARCH_BODY:
	case IMAP_SEARCH_TEXT:
		return search_eval_string(ev, n);
	default:
		return search_eval_row(ev, n);
	}
}

static bool search_is_string_key(enum imap_search_key key)
{
	return key >= IMAP_SEARCH_FROM && key <= IMAP_SEARCH_TEXT;
}

/* Asks the index for the candidates of every string key it can answer. */
static enum store_error search_use_index(struct imap_search_node *n, struct store_user *u,
					 uint64_t mailbox_id, bool use_index, struct arena *a,
					 struct imap_search_stats *stats, const char **error_r)
{
	for (; n != NULL; n = n->next) {
		enum store_error err = search_use_index(n->children, u, mailbox_id, use_index, a,
							stats, error_r);
		if (err != STORE_OK)
			return err;
		if (!search_is_string_key(n->key))
			continue;
		n->indexed = false;
		if (!use_index || search_utf8_chars(n->str, n->len) < 3) {
			stats->scanned_keys++;
			continue;
		}
		enum store_text_field field = n->key == IMAP_SEARCH_BODY   ? STORE_TEXT_BODY
					      : n->key == IMAP_SEARCH_TEXT ? STORE_TEXT_ANY
									   : STORE_TEXT_HEADERS;
		uint32_t *uids;
		size_t count;
		err = store_msg_search_text(u, mailbox_id, field, n->str, a, &uids, &count, error_r);
		if (err == STORE_ERR_INVALID) {
			stats->scanned_keys++;
			continue;
		}
		if (err != STORE_OK)
			return err;
		n->indexed = true;
		n->candidates = uids;
		n->candidate_count = count;
		stats->indexed_keys++;
	}
	return STORE_OK;
}

/* True when a key of the tree reads the message row (not only the view). */
static bool search_needs_rows(const struct imap_search_node *n)
{
	for (; n != NULL; n = n->next) {
		switch (n->key) {
		case IMAP_SEARCH_KEYWORD: case IMAP_SEARCH_UNKEYWORD:
		case IMAP_SEARCH_BEFORE: case IMAP_SEARCH_ON: case IMAP_SEARCH_SINCE:
		case IMAP_SEARCH_LARGER: case IMAP_SEARCH_SMALLER:
		case IMAP_SEARCH_OLDER: case IMAP_SEARCH_YOUNGER:
			return true;
		default:
			if (search_needs_rows(n->children))
				return true;
		}
	}
	return false;
}

enum store_error imap_search_run(struct imap_search_program *prog, struct store_user *u,
				 const struct imap_selected *sel, bool use_index,
				 struct arena *a, uint32_t **matches_r, size_t *count_r,
				 struct imap_search_stats *stats_r, const char **error_r)
{
	memset(stats_r, 0, sizeof(*stats_r));
	*count_r = 0;
	*matches_r = arena_alloc(a, (sel->count ? sel->count : 1) * sizeof(**matches_r));
	enum store_error err = search_use_index(prog->root, u, sel->mailbox_id, use_index, a,
						stats_r, error_r);
	if (err != STORE_OK)
		return err;
	struct search_eval ev = { .u = u, .sel = sel, .scratch = arena_new(0),
				  .now = (int64_t)time(NULL), .stats = stats_r };
	buf_init(&ev.fold);
	if (search_needs_rows(prog->root)) {
		struct store_msg_row *rows;
		err = store_mailbox_rows(u, sel->mailbox_id, a, &rows, &ev.row_count, error_r);
		if (err != STORE_OK) {
			arena_destroy(&ev.scratch);
			return err;
		}
		ev.rows = rows;
	}
	for (uint32_t i = 0; i < sel->count && ev.err == STORE_OK; i++) {
		arena_reset(ev.scratch);
		ev.idx = i;
		ev.uid = sel->uids[i];
		ev.loaded = -1;
		ev.gone = false;
		if (search_eval_node(&ev, prog->root) && !ev.gone && ev.err == STORE_OK)
			(*matches_r)[(*count_r)++] = i;
	}
	buf_free(&ev.fold);
	arena_destroy(&ev.scratch);
	if (ev.err != STORE_OK) {
		*error_r = ev.error;
		*count_r = 0;
	}
	return ev.err;
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
