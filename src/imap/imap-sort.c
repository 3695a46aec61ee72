#include "imap/imap-sort.h"
#include "imap/imap-base-subject.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "imap/imap-search.h"
#include "imap/imap-selected.h"
#include "imap/imap-session.h"
#include "lib/arena.h"
#include "lib/config.h"

#include <ctype.h>
#include <string.h>

static char *sort_upper(char *s)
{
	for (char *p = s; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	return s;
}

static const char *sort_trim(struct arena *a, const char *start, const char *end)
{
	while (start < end && (*start == ' ' || *start == '\t'))
		start++;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end - start >= 2 && *start == '"' && end[-1] == '"') {
		start++;
		end--;
	}
	char *out = arena_alloc(a, (size_t)(end - start) + 1);
	size_t o = 0;
	for (const char *p = start; p < end; p++) {
		if (*p == '\\' && p + 1 < end)
			p++;
		out[o++] = *p;
	}
	out[o] = '\0';
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
	*mailbox_r = *display_r = "";
	if (header == NULL)
		return;
	const char *start, *end;
	sort_first_token(header, &start, &end);
	const char *lt = memchr(start, '<', (size_t)(end - start));
	const char *spec_start = start, *spec_end = end, *display = NULL;
	if (lt != NULL) {
		const char *gt = memchr(lt, '>', (size_t)(end - lt));
		spec_start = lt + 1;
		spec_end = gt != NULL ? gt : end;
		display = sort_trim(a, start, lt);
	} else {
		/* addr-spec with an optional comment: drop the comment. */
		const char *paren = memchr(start, '(', (size_t)(end - start));
		if (paren != NULL)
			spec_end = paren;
	}
	const char *spec = sort_trim(a, spec_start, spec_end);
	const char *at = strrchr(spec, '@');
	const char *local = at != NULL ? arena_strndup(a, spec, (size_t)(at - spec)) : spec;
	*mailbox_r = sort_upper(arena_strdup(a, sort_trim(a, local, local + strlen(local))));
	*display_r = sort_upper(arena_strdup(a, display != NULL && *display != '\0' ? display
										    : spec));
}

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

static enum store_error sort_load_one(struct imap_cmd *cmd, struct store_user *u, uint32_t idx,
				      struct imap_sort_msg *m, const char **error_r)
{
	const struct imap_selected *sel = cmd->session->selected;
	struct store_msg msg;
	enum store_error err = store_msg_get(u, sel->mailbox_id, sel->uids[idx], STORE_MSG_WANT_META,
					     cmd->arena, &msg, error_r);
	if (err != STORE_OK)
		return err;
	const char *unused;
	m->idx = idx;
	m->uid = msg.uid;
	m->arrival = msg.internal_date;
	m->date = msg.meta.has_sent_date ? msg.meta.sent_date : msg.internal_date;
	m->size = msg.size;
	imap_sort_first_address(cmd->arena, msg.meta.from, &m->from, &m->displayfrom);
	imap_sort_first_address(cmd->arena, msg.meta.to, &m->to, &m->displayto);
	imap_sort_first_address(cmd->arena, msg.meta.cc, &m->cc, &unused);
	m->subject = imap_base_subject(cmd->arena, msg.meta.subject, &m->is_reply);
	m->message_id = msg.meta.message_id;
	m->in_reply_to = msg.meta.in_reply_to;
	m->references = msg.meta.references;
	return STORE_OK;
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
		      struct imap_sort_msg **msgs_r, size_t *count_r)
{
	struct imap_session *s = cmd->session;
	struct imap_selected *sel = s->selected;
	const char *error;
	if (count < 2) {
		imap_cmd_bad(cmd, NULL, "%s expects a charset and search criteria", cmd->name);
		return false;
	}
	struct imap_search_limits limits;
	imap_search_limits_default(&limits);
	limits.max_bytes = s->cfg->search_size;
	struct imap_search_program prog;
	size_t nargs;
	const struct imap_arg *all = sort_search_args(cmd, args, count, &nargs);
	enum imap_search_parse_result pr =
		imap_search_parse(cmd->arena, all, nargs, &limits, &prog, &error);
	bool ok = false;
	uint32_t *matches = NULL;
	size_t n = 0;
	if (pr == IMAP_SEARCH_PARSE_BADCHARSET) {
		imap_cmd_no(cmd, "BADCHARSET (UTF-8 US-ASCII)", "%s", error);
	} else if (pr == IMAP_SEARCH_PARSE_BAD || !imap_search_bind(&prog, sel, &error)) {
		imap_cmd_bad(cmd, NULL, "%s", error);
	} else {
		struct imap_search_stats stats;
		struct store_user *u = imap_session_store(s, &error);
		enum store_error err = u == NULL ? STORE_ERR_INTERNAL
					 : imap_search_run(&prog, u, sel, imap_search_index_enabled(),
							   cmd->arena, &matches, &n, &stats, &error);
		struct imap_sort_msg *msgs = arena_zalloc(cmd->arena, (n ? n : 1) * sizeof(*msgs));
		for (size_t i = 0; err == STORE_OK && i < n; i++)
			err = sort_load_one(cmd, u, matches[i], &msgs[i], &error);
		if (err != STORE_OK) {
			imap_mailbox_answer_store_error(cmd, err, error);
		} else {
			*msgs_r = msgs;
			*count_r = n;
			ok = true;
		}
	}
	imap_search_program_free(&prog);
	return ok;
}
