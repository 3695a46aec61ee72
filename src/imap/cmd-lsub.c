#include "imap/imap-commands.h"
#include "imap/imap-list-match.h"
#include "imap/imap-list-shared.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "net/conn.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

struct lsub_entry {
	const char *name;
	bool noselect;
};

struct lsub_ctx {
	struct lsub_entry *entries; /* sorted by name, no duplicates */
	size_t count;
	size_t next;
};

static int lsub_str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int lsub_entry_cmp(const void *a, const void *b)
{
	const struct lsub_entry *x = a, *y = b;
	int r = strcmp(x->name, y->name);
	/* Among equal names the selectable one sorts first and is kept. */
	return r != 0 ? r : (int)x->noselect - (int)y->noselect;
}

static bool lsub_is_subscribed(const char **subs, size_t count, const char *name)
{
	return bsearch(&name, subs, count, sizeof(*subs), lsub_str_cmp) != NULL;
}

static int lsub_info_cmp(const void *key, const void *elem)
{
	const struct store_mailbox_info *info = elem;
	return strcmp(key, info->name);
}

/* A subscribed name is flagged \Noselect when it cannot be selected now:
 * it does not exist, or exists only as a hierarchy level. */
static bool lsub_is_selectable(const struct store_mailbox_info *boxes,
			       size_t count, const char *name)
{
	const struct store_mailbox_info *info =
		bsearch(name, boxes, count, sizeof(*boxes), lsub_info_cmp);
	return info != NULL && !info->noselect;
}

static int lsub_info_sort_cmp(const void *a, const void *b)
{
	const struct store_mailbox_info *x = a, *y = b;
	return strcmp(x->name, y->name);
}

/* Subscribed shared mailboxes are selectable when the session can see
 * them (imap-list-shared.h): they join the own ones, sorted by name. */
static enum store_error lsub_add_shared(struct imap_cmd *cmd, const char *pattern,
					struct store_mailbox_info **boxes, size_t *count,
					const char **error_r)
{
	struct imap_shared_box *shared;
	size_t shared_count;
	enum store_error err = imap_list_shared(cmd, &pattern, 1, &shared, &shared_count, error_r);
	if (err != STORE_OK || shared_count == 0)
		return err;
	struct store_mailbox_info *all =
		arena_alloc(cmd->arena, (*count + shared_count) * sizeof(*all));
	memcpy(all, *boxes, *count * sizeof(*all));
	for (size_t i = 0; i < shared_count; i++)
		all[*count + i] = shared[i].info;
	*count += shared_count;
	qsort(all, *count, sizeof(*all), lsub_info_sort_cmp);
	*boxes = all;
	return STORE_OK;
}

struct lsub_source {
	const char *pattern;
	const char **subs;
	size_t sub_count;
	const struct store_mailbox_info *boxes;
	size_t box_count;
};

/* RFC 3501 6.3.9: "foo/bar" subscribed and "foo" not: a pattern that
 * matches "foo" but not "foo/bar" (such as "%") returns "foo" flagged
 * \Noselect. */
static size_t lsub_add_ancestors(struct arena *a, const struct lsub_source *src,
				 const char *name, struct lsub_entry *out)
{
	size_t n = 0;
	char *prefix = arena_strdup(a, name);
	for (char *p = strrchr(prefix, IMAP_MAILBOX_SEP); p != NULL;
	     p = strrchr(prefix, IMAP_MAILBOX_SEP)) {
		*p = '\0';
		if (imap_list_match(src->pattern, prefix, IMAP_MAILBOX_SEP) &&
		    !lsub_is_subscribed(src->subs, src->sub_count, prefix)) {
			out[n].name = arena_strdup(a, prefix);
			out[n++].noselect = true;
		}
	}
	return n;
}

static void lsub_collect(struct arena *a, const struct lsub_source *src,
			 struct lsub_ctx *ctx)
{
	size_t cap = 0;
	for (size_t i = 0; i < src->sub_count; i++) {
		cap++;
		for (const char *p = src->subs[i]; *p != '\0'; p++)
			cap += *p == IMAP_MAILBOX_SEP;
	}
	struct lsub_entry *out = arena_alloc(a, (cap + 1) * sizeof(*out));
	size_t n = 0;
	for (size_t i = 0; i < src->sub_count; i++) {
		const char *name = src->subs[i];
		if (imap_list_match(src->pattern, name, IMAP_MAILBOX_SEP)) {
			out[n].name = name;
			out[n++].noselect = !lsub_is_selectable(src->boxes,
							       src->box_count, name);
		} else {
			n += lsub_add_ancestors(a, src, name, &out[n]);
		}
	}
	qsort(out, n, sizeof(*out), lsub_entry_cmp);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		if (kept == 0 || strcmp(out[kept - 1].name, out[i].name) != 0)
			out[kept++] = out[i];
	ctx->entries = out;
	ctx->count = kept;
}

static enum imap_cmd_result lsub_continue(struct imap_cmd *cmd)
{
	struct lsub_ctx *ctx = cmd->ctx;
	struct imap_session *s = cmd->session;
	while (ctx->next < ctx->count) {
		if (conn_output_full(s->conn))
			return IMAP_CMD_MORE;
		const struct lsub_entry *e = &ctx->entries[ctx->next++];
		struct buf line = BUF_INIT;
		buf_printf(&line, "* LSUB (%s) \"%c\" ",
			   e->noselect ? "\\Noselect" : "", IMAP_MAILBOX_SEP);
		imap_mailbox_name_append(&line, e->name, imap_mailbox_utf8(s));
		buf_append_str(&line, "\r\n");
		imap_send_raw(s, line.data, line.len);
		buf_free(&line);
	}
	imap_cmd_ok(cmd, NULL, "LSUB completed");
	return IMAP_CMD_DONE;
}

/* Reads the reference and the pattern into one canonical UTF-8 pattern
 * (as LIST does); *pattern_r is NULL when either is not valid modified
 * UTF-7, which matches nothing. */
static bool lsub_parse(struct imap_cmd *cmd, const char **pattern_r,
		       bool *empty_r)
{
	const char *ref, *pat, *ref_utf8, *pat_utf8;
	size_t ref_len, pat_len;
	if (cmd->arg_count != 2 ||
	    !imap_arg_get_astring(&cmd->args[0], &ref, &ref_len) ||
	    !imap_arg_get_list_mailbox(&cmd->args[1], &pat, &pat_len))
		return false;
	bool utf8 = imap_mailbox_utf8(cmd->session);
	*empty_r = pat_len == 0;
	*pattern_r = NULL;
	if (imap_mailbox_pattern_decode(ref, ref_len, utf8, cmd->arena, &ref_utf8) &&
	    imap_mailbox_pattern_decode(pat, pat_len, utf8, cmd->arena, &pat_utf8))
		*pattern_r = arena_printf(cmd->arena, "%s%s", ref_utf8, pat_utf8);
	return true;
}

/* lsub = "LSUB" SP mailbox SP list-mailbox   (RFC 3501 9)
 * RFC 3501 6.3.9: the subscribed names that match, including names that no
 * longer exist (flagged \Noselect here, as they cannot be selected). */
enum imap_cmd_result cmd_lsub(struct imap_cmd *cmd)
{
	struct lsub_source src = { 0 };
	bool empty;
	const char *error = NULL;
	if (!lsub_parse(cmd, &src.pattern, &empty)) {
		imap_cmd_bad(cmd, NULL, "LSUB needs a reference and a mailbox pattern");
		return IMAP_CMD_DONE;
	}
	if (empty) {
		/* As for LIST: the hierarchy delimiter. */
		imap_send_untagged(cmd->session, "LSUB (\\Noselect) \"%c\" \"\"",
				   IMAP_MAILBOX_SEP);
		imap_cmd_ok(cmd, NULL, "LSUB completed");
		return IMAP_CMD_DONE;
	}
	struct store_user *u = imap_session_store(cmd->session, &error);
	if (u == NULL) {
		imap_mailbox_answer_store_error(cmd, STORE_ERR_INTERNAL, error);
		return IMAP_CMD_DONE;
	}
	struct store_mailbox_info *boxes = NULL;
	enum store_error err = store_subscription_list(u, cmd->arena, &src.subs,
						       &src.sub_count, &error);
	if (err == STORE_OK)
		err = store_mailbox_list(u, cmd->arena, &boxes, &src.box_count, &error);
	if (err == STORE_OK && src.pattern != NULL &&
	    imap_list_shared_wanted(&src.pattern, 1))
		err = lsub_add_shared(cmd, src.pattern, &boxes, &src.box_count, &error);
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return IMAP_CMD_DONE;
	}
	src.boxes = boxes;
	struct lsub_ctx *ctx = arena_zalloc(cmd->arena, sizeof(*ctx));
	if (src.pattern != NULL)
		lsub_collect(cmd->arena, &src, ctx);
	cmd->ctx = ctx;
	cmd->resume = lsub_continue;
	return lsub_continue(cmd);
}
