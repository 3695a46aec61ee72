#include "imap/imap-sort.h"
#include "imap/imap-capability.h"
#include "imap/imap-base-subject.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "imap/imap-search.h"
#include "imap/imap-selected.h"
#include "imap/imap-session.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "store/store.h"

#include <string.h>

/* ---- First address of an address header --------------------------------- */

static char sort_ascii_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* [start, end) without surrounding blanks and, when it is one quoted
 * string, without the quotes. */
static void sort_trim(const char **start, const char **end)
{
	while (*start < *end && (**start == ' ' || **start == '\t'))
		(*start)++;
	while (*end > *start && ((*end)[-1] == ' ' || (*end)[-1] == '\t'))
		(*end)--;
	if (*end - *start >= 2 && **start == '"' && (*end)[-1] == '"') {
		(*start)++;
		(*end)--;
	}
}

/* The trimmed text of [start, end) with quoted-pairs resolved, upper-cased
 * (i;ascii-casemap) when upper is set, in one allocation from a. */
static char *sort_key_copy(struct arena *a, const char *start, const char *end, bool upper)
{
	sort_trim(&start, &end);
	char *out = arena_alloc(a, (size_t)(end - start) + 1);
	size_t o = 0;
	for (const char *p = start; p < end; p++) {
		if (*p == '\\' && p + 1 < end)
			p++;
		out[o++] = upper ? sort_ascii_upper(*p) : *p;
	}
	out[o] = '\0';
	return out;
}

static const char *sort_upper_dup(struct arena *a, const char *s)
{
	char *out = arena_strdup(a, s);
	for (char *p = out; *p != '\0'; p++)
		*p = sort_ascii_upper(*p);
	return out;
}

/* The first mailbox of an address list, skipping a group's display name
 * ("Team: a@b, c@d;"): returns [start, end) of its text. */
static void sort_first_token(const char *h, const char **start_r, const char **end_r)
{
	const char *p = h, *start = h;
	int angle = 0, comment = 0;
	bool quoted = false;
	for (; *p != '\0'; p++) {
		if (quoted) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"')
				quoted = false;
		} else if (*p == '"') {
			quoted = true;
		} else if (*p == '(') {
			comment++;
		} else if (*p == ')' && comment > 0) {
			comment--;
		} else if (comment == 0 && *p == '<') {
			angle++;
		} else if (comment == 0 && *p == '>' && angle > 0) {
			angle--;
		} else if (comment == 0 && angle == 0 && *p == ':') {
			start = p + 1; /* a group: its members follow */
		} else if (comment == 0 && angle == 0 && (*p == ',' || *p == ';')) {
			if (p > start)
				break;
			start = p + 1;
		}
	}
	*start_r = start;
	*end_r = p;
}

void imap_sort_first_address(struct arena *a, const char *header, const char **mailbox_r,
			     const char **display_r)
{
	if (mailbox_r != NULL)
		*mailbox_r = "";
	if (display_r != NULL)
		*display_r = "";
	if (header == NULL)
		return;
	const char *start, *end;
	sort_first_token(header, &start, &end);
	const char *lt = memchr(start, '<', (size_t)(end - start));
	const char *spec_start = start, *spec_end = end;
	const char *display = NULL;
	if (lt != NULL) {
		const char *gt = memchr(lt, '>', (size_t)(end - lt));
		spec_start = lt + 1;
		spec_end = gt != NULL ? gt : end;
		if (display_r != NULL)
			display = sort_key_copy(a, start, lt, true);
	} else {
		/* addr-spec with an optional comment: drop the comment. */
		const char *paren = memchr(start, '(', (size_t)(end - start));
		if (paren != NULL)
			spec_end = paren;
	}
	const char *spec = sort_key_copy(a, spec_start, spec_end, false);
	if (mailbox_r != NULL) {
		const char *at = strrchr(spec, '@');
		*mailbox_r = sort_key_copy(a, spec, at != NULL ? at : spec + strlen(spec), true);
	}
	if (display_r != NULL)
		*display_r = display != NULL && *display != '\0' ? display : sort_upper_dup(a, spec);
}

/* ---- Comparing and writing ------------------------------------------------ */

int imap_sort_by_date(const struct imap_sort_msg *x, const struct imap_sort_msg *y)
{
	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

uint32_t imap_sort_number(const struct imap_cmd *cmd, const struct imap_sort_msg *m)
{
	return cmd->uid ? m->uid : m->idx + 1;
}



/* ---- Loading the keys ------------------------------------------------------ */

/* The store columns behind the keys a command compares. */
static unsigned sort_store_want(unsigned need)
{
	unsigned want = 0;
	if (need & IMAP_SORT_NEED_ARRIVAL)
		want |= STORE_SORTKEY_ARRIVAL;
	if (need & IMAP_SORT_NEED_SIZE)
		want |= STORE_SORTKEY_SIZE;
	/* §2.2: without a usable Date: header the internal date stands in. */
	if (need & (IMAP_SORT_NEED_DATE | IMAP_SORT_NEED_THREAD))
		want |= STORE_SORTKEY_SENT_DATE | STORE_SORTKEY_ARRIVAL;
	if (need & (IMAP_SORT_NEED_FROM | IMAP_SORT_NEED_DISPLAYFROM))
		want |= STORE_SORTKEY_FROM;
	if (need & (IMAP_SORT_NEED_TO | IMAP_SORT_NEED_DISPLAYTO))
		want |= STORE_SORTKEY_TO;
	if (need & IMAP_SORT_NEED_CC)
		want |= STORE_SORTKEY_CC;
	if (need & (IMAP_SORT_NEED_SUBJECT | IMAP_SORT_NEED_THREAD))
		want |= STORE_SORTKEY_SUBJECT;
	if (need & IMAP_SORT_NEED_THREAD)
		want |= STORE_SORTKEY_THREAD;
	return want;
}

/* Derives the compared keys of one message from its store keys; only the
 * string keys in need cost an allocation. */
static void sort_derive(struct arena *a, unsigned need, const struct store_sortkeys *k,
			uint32_t idx, struct imap_sort_msg *m)
{
	m->idx = idx;
	m->uid = k->uid;
	m->arrival = k->internal_date;
	m->date = k->has_sent_date ? k->sent_date : k->internal_date;
	m->size = k->size;
	m->from = m->to = m->cc = m->displayfrom = m->displayto = m->subject = "";
	m->is_reply = false;
	if (need & (IMAP_SORT_NEED_FROM | IMAP_SORT_NEED_DISPLAYFROM))
		imap_sort_first_address(a, k->from, need & IMAP_SORT_NEED_FROM ? &m->from : NULL,
					need & IMAP_SORT_NEED_DISPLAYFROM ? &m->displayfrom : NULL);
	if (need & (IMAP_SORT_NEED_TO | IMAP_SORT_NEED_DISPLAYTO))
		imap_sort_first_address(a, k->to, need & IMAP_SORT_NEED_TO ? &m->to : NULL,
					need & IMAP_SORT_NEED_DISPLAYTO ? &m->displayto : NULL);
	if (need & IMAP_SORT_NEED_CC)
		imap_sort_first_address(a, k->cc, &m->cc, NULL);
	if (need & (IMAP_SORT_NEED_SUBJECT | IMAP_SORT_NEED_THREAD))
		m->subject = imap_base_subject(a, k->subject, &m->is_reply);
	m->message_id = k->message_id;
	m->in_reply_to = k->in_reply_to;
	m->references = k->references;
}

/* The keys of the matching messages (view indexes, ascending), read in one
 * store query; messages gone from the store are dropped. */
static enum store_error sort_load(struct imap_cmd *cmd, struct store_user *u, unsigned need,
				  const uint32_t *matches, size_t n, struct imap_sort_set *set,
				  const char **error_r)
{
	const struct imap_selected *sel = cmd->session->selected;
	set->msgs = arena_alloc(cmd->arena, (n ? n : 1) * sizeof(*set->msgs));
	set->count = 0;
	if (need == 0) {
		/* Nothing to compare (ESORT's COUNT alone): no store query, and
		 * the matches count as SEARCH counts them. */
		for (size_t i = 0; i < n; i++)
			set->msgs[set->count++] = (struct imap_sort_msg){
				.idx = matches[i], .uid = sel->uids[matches[i]] };
		return STORE_OK;
	}
	/* Scratch for the raw keys; the derived ones live in the command
	 * arena. */
	struct arena *scratch = arena_new(0);
	uint32_t *uids = arena_alloc(scratch, (n ? n : 1) * sizeof(*uids));
	for (size_t i = 0; i < n; i++)
		uids[i] = sel->uids[matches[i]];
	struct store_sortkeys *keys = arena_alloc(scratch, (n ? n : 1) * sizeof(*keys));
	unsigned want = sort_store_want(need);
	/* THREAD keeps the id headers by pointer, so for it the store's
	 * strings go to the command arena; the other raw headers only feed
	 * derived keys and die with the scratch arena. */
	struct arena *strings = (need & IMAP_SORT_NEED_THREAD) ? cmd->arena : scratch;
	enum store_error err = store_msg_sortkeys(u, sel->mailbox_id, uids, n, want, strings,
						  keys, error_r);
	for (size_t i = 0; err == STORE_OK && i < n; i++)
		if (keys[i].uid != 0)
			sort_derive(cmd->arena, need, &keys[i], matches[i], &set->msgs[set->count++]);
	arena_destroy(&scratch);
	return err;
}

/* The charset is mandatory here: it becomes SEARCH's "CHARSET x" so that
 * both commands take the same charsets. */
static const struct imap_arg *sort_search_args(struct imap_cmd *cmd, const struct imap_arg *args,
					       size_t count, size_t *count_r)
{
	struct imap_arg *all = arena_zalloc(cmd->arena, (count + 1) * sizeof(*all));
	all[0].type = IMAP_ARG_ATOM;
	all[0].data = "CHARSET";
	all[0].len = 7;
	all[0].fd = -1;
	memcpy(all + 1, args, count * sizeof(*args));
	*count_r = count + 1;
	return all;
}

bool imap_sort_search(struct imap_cmd *cmd, const struct imap_arg *args, size_t count,
		      unsigned need, struct imap_sort_set *set_r)
{
	struct imap_session *s = cmd->session;
	struct imap_selected *sel = s->selected;
	const char *error;
	memset(set_r, 0, sizeof(*set_r));
	if (count < 2) {
		imap_cmd_bad(cmd, NULL, "%s expects a charset and search criteria", cmd->name);
		return false;
	}
	struct imap_search_limits limits;
	imap_search_limits_default(&limits);
	limits.max_bytes = s->cfg->search_size;
	limits.hidden_keys = imap_capability_search_keys_hidden(s);
	struct imap_search_program prog;
	size_t nargs;
	const struct imap_arg *all = sort_search_args(cmd, args, count, &nargs);
	enum imap_search_parse_result pr =
		imap_search_parse(cmd->arena, all, nargs, &limits, &prog, &error);
	bool ok = false;
	if (pr == IMAP_SEARCH_PARSE_BADCHARSET) {
		imap_cmd_no(cmd, "BADCHARSET (UTF-8 US-ASCII)", "%s", error);
	} else if (pr == IMAP_SEARCH_PARSE_BAD || !imap_search_bind(&prog, sel, &error)) {
		imap_cmd_bad(cmd, NULL, "%s", error);
	} else {
		uint32_t *matches = NULL;
		size_t n = 0;
		struct imap_search_stats stats;
		struct store_user *u = imap_selected_store(s, &error);
		enum store_error err = u == NULL ? STORE_ERR_INTERNAL
					 : imap_search_run(&prog, u, sel, imap_search_index_enabled(),
							   cmd->arena, &matches, &n, &stats, &error);
		if (err == STORE_OK)
			err = sort_load(cmd, u, need, matches, n, set_r, &error);
		if (err != STORE_OK)
			imap_mailbox_answer_store_error(cmd, err, error);
		set_r->has_modseq = prog.has_modseq;
		ok = err == STORE_OK;
	}
	imap_search_program_free(&prog);
	return ok;
}
