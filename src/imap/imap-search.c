/* The SEARCH program's bind and run steps: sequence sets resolved against
 * the session's view, then every message tested against the tree, reading
 * from the store only what the keys need. Parsing is in
 * imap-search-parse.c. */

#include "imap/imap-search.h"

#include "imap/imap-selected.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "mime/mime-digest.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- Matching ------------------------------------------------------------ */

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

/* Characters (not bytes) of a valid UTF-8 string: the index needs three. */
static size_t search_utf8_chars(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

/* ---- Binding ---------------------------------------------------------------- */

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
	/* The sent date and zone of every message of the view (sent[i] for
	 * view index i; uid 0 when gone), read in one query when the program
	 * has SENT* keys; NULL otherwise. */
	const struct store_sortkeys *sent;
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

/* The zone of a message stored before the store kept it (schema version
 * 4): recovered from the envelope, which keeps the Date: header verbatim
 * (env-date = nstring). Treating such a message as +0000 would move the
 * day of every message sent near midnight in another zone, which the
 * RFC's "disregarding time and timezone" does not allow. */
static bool search_sent_day_from_envelope(struct search_eval *ev, int64_t *day_r)
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
	*day_r = imap_search_day(ev->msg.meta.sent_date, zone);
	return true;
}

/* RFC 9051 §6.4.4: SENTBEFORE/SENTON/SENTSINCE compare the Date: header's
 * day "disregarding time and timezone", i.e. the day as the sender wrote
 * it: the stored instant shifted by the stored zone. A message without a
 * (parsable) Date: header matches none of them. */
static bool search_sent_day(struct search_eval *ev, int64_t *day_r)
{
	const struct store_sortkeys *k = &ev->sent[ev->idx];
	if (k->uid == 0) {
		ev->gone = true;
		return false;
	}
	if (!k->has_sent_date)
		return false;
	if (!k->has_sent_tz)
		return search_sent_day_from_envelope(ev, day_r);
	*day_r = imap_search_day(k->sent_date, k->sent_tz_min);
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
	return imap_search_day(m->internal_date, m->tz_offset_min);
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

/* True when a key of the tree is SENTBEFORE, SENTON or SENTSINCE. */
static bool search_needs_sent(const struct imap_search_node *n)
{
	for (; n != NULL; n = n->next) {
		if (n->key == IMAP_SEARCH_SENTBEFORE || n->key == IMAP_SEARCH_SENTON ||
		    n->key == IMAP_SEARCH_SENTSINCE || search_needs_sent(n->children))
			return true;
	}
	return false;
}

/* The bulk reads the program's keys need, into ev. */
static enum store_error search_load_bulk(const struct imap_search_program *prog,
					 struct search_eval *ev, struct arena *a,
					 const char **error_r)
{
	enum store_error err = STORE_OK;
	if (search_needs_rows(prog->root)) {
		struct store_msg_row *rows;
		err = store_mailbox_rows(ev->u, ev->sel->mailbox_id, a, &rows, &ev->row_count,
					 error_r);
		ev->rows = rows;
	}
	if (err == STORE_OK && search_needs_sent(prog->root)) {
		struct store_sortkeys *sent =
			arena_alloc(a, (ev->sel->count ? ev->sel->count : 1) * sizeof(*sent));
		err = store_msg_sortkeys(ev->u, ev->sel->mailbox_id, ev->sel->uids, ev->sel->count,
					 STORE_SORTKEY_SENT_DATE, a, sent, error_r);
		ev->sent = sent;
	}
	return err;
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
	err = search_load_bulk(prog, &ev, a, error_r);
	if (err != STORE_OK) {
		arena_destroy(&ev.scratch);
		return err;
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
