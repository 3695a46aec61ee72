#include "imap/imap-capability.h"
#include "imap/imap-access.h"
#include "imap/imap-commands.h"
#include "imap/imap-list-match.h"
#include "imap/imap-list-shared.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "imap/imap-status.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "net/conn.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

/* Selection options (RFC 5258 3.1, RFC 6154 2). */
#define LIST_SELECT_SUBSCRIBED     (1u << 0)
#define LIST_SELECT_REMOTE         (1u << 1)
#define LIST_SELECT_RECURSIVEMATCH (1u << 2)
#define LIST_SELECT_SPECIAL_USE    (1u << 3)

/* Return options (RFC 5258 3.2, RFC 6154 2, RFC 5819 2). */
#define LIST_RETURN_SUBSCRIBED  (1u << 0)
#define LIST_RETURN_CHILDREN    (1u << 1)
#define LIST_RETURN_SPECIAL_USE (1u << 2)
#define LIST_RETURN_STATUS      (1u << 3)

struct list_request {
	bool extended;          /* RFC 9051 6.3.9: any of the three forms */
	bool delimiter_only;    /* basic LIST with an empty mailbox name */
	unsigned select;
	unsigned ret;
	struct imap_status_items status_items;
	const char **patterns;  /* canonical patterns (reference + pattern) */
	size_t pattern_count;
};

/* A name that may be listed: an existing mailbox, a subscription, or an
 * ancestor of a subscription. */
struct list_entry {
	const char *name;
	const struct store_mailbox_info *info; /* NULL: does not exist */
	bool subscribed;
	bool selected;   /* meets the selection criteria */
	bool matched;    /* matches a canonical pattern */
	bool childinfo;  /* RFC 5258 3.5: a selected descendant that does
			  * not match (only with RECURSIVEMATCH) */
	bool shared;     /* another user's or a public mailbox, or a node */
	unsigned rights; /* the session's rights on a shared one */
};

struct list_ctx {
	struct list_request req;
	struct list_entry *entries; /* the ones to send, sorted by name */
	size_t count;
	size_t next;
};

struct list_option {
	const char *name;
	unsigned bit;
};

static const struct list_option list_select_options[] = {
	{ "SUBSCRIBED", LIST_SELECT_SUBSCRIBED },
	{ "REMOTE", LIST_SELECT_REMOTE },
	{ "RECURSIVEMATCH", LIST_SELECT_RECURSIVEMATCH },
	{ "SPECIAL-USE", LIST_SELECT_SPECIAL_USE },
	{ NULL, 0 },
};

static const struct list_option list_return_options[] = {
	{ "SUBSCRIBED", LIST_RETURN_SUBSCRIBED },
	{ "CHILDREN", LIST_RETURN_CHILDREN },
	{ "SPECIAL-USE", LIST_RETURN_SPECIAL_USE },
	{ "STATUS", LIST_RETURN_STATUS },
	{ NULL, 0 },
};

static unsigned list_option_lookup(const struct list_option *options,
				   const struct imap_arg *arg)
{
	for (size_t i = 0; options[i].name != NULL; i++)
		if (imap_arg_atom_equals(arg, options[i].name))
			return options[i].bit;
	return 0;
}

/* list-select-opts = "(" [(*(list-select-opt SP) list-select-base-opt
 *                    *(SP list-select-opt)) / (list-select-independent-opt
 *                    *(SP list-select-independent-opt))] ")"
 * (RFC 5258 6; SPECIAL-USE is independent, RFC 6154 6). RECURSIVEMATCH
 * without SUBSCRIBED is BAD (RFC 5258 3.1). */
static bool list_parse_select(const struct imap_arg *arg, unsigned *select_r,
			      const char **error_r)
{
	const struct imap_arg *list;
	size_t count;
	if (!imap_arg_get_list(arg, &list, &count))
		return false;
	for (size_t i = 0; i < count; i++) {
		unsigned bit = list_option_lookup(list_select_options, &list[i]);
		if (bit == 0) {
			*error_r = "Unknown LIST selection option";
			return false;
		}
		*select_r |= bit;
	}
	if ((*select_r & LIST_SELECT_RECURSIVEMATCH) != 0 &&
	    (*select_r & LIST_SELECT_SUBSCRIBED) == 0) {
		*error_r = "RECURSIVEMATCH needs another selection option";
		return false;
	}
	return true;
}

/* list-return-opts = "RETURN" SP "(" [return-option *(SP return-option)] ")"
 * return-option = "SUBSCRIBED" / "CHILDREN" / "SPECIAL-USE" / status-option
 * status-option = "STATUS" SP "(" status-att *(SP status-att) ")"
 * (RFC 5258 6, RFC 6154 6, RFC 5819 4) */
static bool list_parse_return(const struct imap_arg *keyword,
			      const struct imap_arg *arg,
			      struct list_request *req, const char **error_r)
{
	const struct imap_arg *list;
	size_t count;
	if (!imap_arg_atom_equals(keyword, "RETURN") ||
	    !imap_arg_get_list(arg, &list, &count)) {
		*error_r = "Expected RETURN and a list of return options";
		return false;
	}
	for (size_t i = 0; i < count; i++) {
		unsigned bit = list_option_lookup(list_return_options, &list[i]);
		if (bit == 0) {
			*error_r = "Unknown LIST return option";
			return false;
		}
		if (bit == LIST_RETURN_STATUS) {
			if (i + 1 == count) {
				*error_r = "STATUS needs a list of items";
				return false;
			}
			if (!imap_status_items_parse(&list[++i], &req->status_items,
						     error_r))
				return false;
		}
		req->ret |= bit;
	}
	return true;
}

/* Adds reference + pattern as a canonical pattern (RFC 9051 6.3.9: without
 * break-out characters the reference is prefixed as it is). A pattern
 * that is not valid modified UTF-7 is ignored (RFC 9051 6.3.9: a pattern
 * the server does not accept gives no responses). */
static void list_add_pattern(struct imap_cmd *cmd, struct list_request *req,
			     const char *reference, const char *data,
			     size_t len)
{
	const char *pattern;
	/* RFC 9051 6.3.9: in the extended syntax empty patterns are
	 * ignored. */
	if (len == 0 || reference == NULL ||
	    !imap_mailbox_pattern_decode(data, len, imap_mailbox_utf8(cmd->session),
					 cmd->arena, &pattern))
		return;
	req->patterns[req->pattern_count++] =
		arena_printf(cmd->arena, "%s%s", reference, pattern);
}

/* mbox-or-pat = list-mailbox / patterns
 * patterns    = "(" list-mailbox *(SP list-mailbox) ")"   (RFC 5258 6) */
static bool list_parse_patterns(struct imap_cmd *cmd, struct list_request *req,
				const char *reference, const struct imap_arg *arg,
				const char **error_r)
{
	const struct imap_arg *list;
	size_t count;
	if (imap_arg_get_list(arg, &list, &count)) {
		req->extended = true;
		if (count == 0) {
			*error_r = "The list of patterns is empty";
			return false;
		}
	} else {
		list = arg;
		count = 1;
	}
	req->patterns = arena_alloc(cmd->arena, count * sizeof(*req->patterns));
	for (size_t i = 0; i < count; i++) {
		const char *data;
		size_t len;
		if (!imap_arg_get_list_mailbox(&list[i], &data, &len)) {
			*error_r = "A LIST pattern must be an atom or a string";
			return false;
		}
		if (!req->extended && len == 0) {
			req->delimiter_only = true;
			return true;
		}
		list_add_pattern(cmd, req, reference, data, len);
	}
	return true;
}

/* list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat
 *        [SP list-return-opts]      (RFC 5258 6) */
static bool list_parse(struct imap_cmd *cmd, struct list_request *req,
		       const char **error_r)
{
	const struct imap_arg *args = cmd->args;
	size_t count = cmd->arg_count;
	*error_r = "LIST needs a reference and a mailbox pattern";
	if (count > 0 && args[0].type == IMAP_ARG_LIST) {
		req->extended = true;
		if (!list_parse_select(&args[0], &req->select, error_r))
			return false;
		args++;
		count--;
	}
	if (count != 2 && count != 4)
		return false;
	if (count == 4) {
		req->extended = true;
		if (!list_parse_return(&args[2], &args[3], req, error_r) ||
		    !imap_capability_status_items_offered(cmd->session, &req->status_items,
							  error_r))
			return false;
	}
	const char *ref_data, *reference = NULL;
	size_t ref_len;
	if (!imap_arg_get_astring(&args[0], &ref_data, &ref_len)) {
		*error_r = "The LIST reference must be an atom or a string";
		return false;
	}
	/* An undecodable reference leaves reference NULL: nothing matches. */
	(void)imap_mailbox_pattern_decode(ref_data, ref_len,
					  imap_mailbox_utf8(cmd->session),
					  cmd->arena, &reference);
	if (req->select & LIST_SELECT_SUBSCRIBED)
		req->ret |= LIST_RETURN_SUBSCRIBED;
	if (req->select & LIST_SELECT_SPECIAL_USE)
		req->ret |= LIST_RETURN_SPECIAL_USE;
	return list_parse_patterns(cmd, req, reference, &args[1], error_r);
}

/* ---- Candidates ---- */

struct list_entries {
	struct list_entry *items;
	size_t count;
	size_t cap;
};

static void list_entries_add(struct arena *a, struct list_entries *e,
			     const char *name,
			     const struct store_mailbox_info *info,
			     bool subscribed)
{
	if (e->count == e->cap) {
		size_t cap = e->cap == 0 ? 64 : e->cap * 2;
		struct list_entry *bigger = arena_alloc(a, cap * sizeof(*bigger));
		if (e->count > 0)
			memcpy(bigger, e->items, e->count * sizeof(*bigger));
		e->items = bigger;
		e->cap = cap;
	}
	struct list_entry *entry = &e->items[e->count++];
	memset(entry, 0, sizeof(*entry));
	entry->name = name;
	entry->info = info;
	entry->subscribed = subscribed;
}

static int list_entry_cmp(const void *a, const void *b)
{
	const struct list_entry *x = a, *y = b;
	return strcmp(x->name, y->name);
}

/* Sorts by name and folds duplicates into one entry. */
static void list_entries_merge(struct list_entries *e)
{
	if (e->count == 0)
		return;
	qsort(e->items, e->count, sizeof(*e->items), list_entry_cmp);
	size_t out = 0;
	for (size_t i = 1; i < e->count; i++) {
		struct list_entry *last = &e->items[out];
		if (strcmp(last->name, e->items[i].name) == 0) {
			if (last->info == NULL) {
				last->info = e->items[i].info;
				last->shared = e->items[i].shared;
				last->rights = e->items[i].rights;
			}
			last->subscribed |= e->items[i].subscribed;
		} else {
			e->items[++out] = e->items[i];
		}
	}
	e->count = out + 1;
}

static struct list_entry *list_entries_find(struct list_entries *e,
					    const char *name)
{
	struct list_entry key = { .name = name };
	return bsearch(&key, e->items, e->count, sizeof(*e->items),
		       list_entry_cmp);
}

/* Subscriptions and every ancestor of each (which may exist nowhere but
 * in a subscribed name: RFC 5258 5, example 9, "qux2"). */
static void list_add_subscriptions(struct arena *a, struct list_entries *e,
				   const char **subs, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		list_entries_add(a, e, subs[i], NULL, true);
		for (const char *p = strchr(subs[i], IMAP_MAILBOX_SEP); p != NULL;
		     p = strchr(p + 1, IMAP_MAILBOX_SEP))
			list_entries_add(a, e, arena_strndup(a, subs[i],
							     (size_t)(p - subs[i])),
					 NULL, false);
	}
}

static bool list_is_selected(const struct list_request *req,
			     const struct list_entry *e)
{
	if ((req->select & LIST_SELECT_SUBSCRIBED) ? !e->subscribed : e->info == NULL)
		return false;
	if ((req->select & LIST_SELECT_SPECIAL_USE) &&
	    (e->info == NULL || e->info->special_use == 0))
		return false;
	return true;
}

/* RFC 5258 3.5: an ancestor of a selected name that the patterns do not
 * match gets CHILDINFO. */
static void list_mark_childinfo(struct arena *a, struct list_entries *e)
{
	for (size_t i = 0; i < e->count; i++) {
		const char *name = e->items[i].name;
		if (!e->items[i].selected || e->items[i].matched)
			continue;
		char *prefix = arena_strdup(a, name);
		for (char *p = strrchr(prefix, IMAP_MAILBOX_SEP); p != NULL;
		     p = strrchr(prefix, IMAP_MAILBOX_SEP)) {
			*p = '\0';
			struct list_entry *parent = list_entries_find(e, prefix);
			if (parent != NULL)
				parent->childinfo = true;
		}
	}
}

static int list_str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Other users' mailboxes and public folders (imap-list-shared.h), marked
 * subscribed from the session's own list. */
static enum store_error list_add_shared(struct imap_cmd *cmd, const struct list_request *req,
					struct list_entries *e, const char **error_r)
{
	struct imap_shared_box *boxes;
	size_t count, sub_count = 0;
	const char **subs = NULL;
	enum store_error err = imap_list_shared(cmd, req->patterns, req->pattern_count, &boxes,
					       &count, error_r);
	struct store_user *own = err == STORE_OK ? imap_session_store(cmd->session, error_r) : NULL;
	if (err == STORE_OK && own == NULL)
		err = STORE_ERR_INTERNAL;
	if (err == STORE_OK)
		err = store_subscription_list(own, cmd->arena, &subs, &sub_count, error_r);
	if (err != STORE_OK)
		return err;
	for (size_t i = 0; i < count; i++) {
		/* store_subscription_list answers sorted. */
		const char *name = boxes[i].info.name;
		bool subscribed = bsearch(&name, subs, sub_count, sizeof(*subs), list_str_cmp) != NULL;
		list_entries_add(cmd->arena, e, boxes[i].info.name, &boxes[i].info, subscribed);
		e->items[e->count - 1].shared = true;
		e->items[e->count - 1].rights = boxes[i].rights;
	}
	return STORE_OK;
}

static enum store_error list_collect(struct imap_cmd *cmd, struct store_user *u,
				     struct list_ctx *ctx, const char **error_r)
{
	const struct list_request *req = &ctx->req;
	struct store_mailbox_info *boxes;
	size_t box_count, sub_count = 0;
	const char **subs = NULL;
	enum store_error err = store_mailbox_list(u, cmd->arena, &boxes, &box_count,
						  error_r);
	if (err == STORE_OK && (req->select & LIST_SELECT_SUBSCRIBED))
		err = store_subscription_list(u, cmd->arena, &subs, &sub_count,
					      error_r);
	if (err != STORE_OK)
		return err;
	struct list_entries e = { NULL, 0, 0 };
	for (size_t i = 0; i < box_count; i++)
		list_entries_add(cmd->arena, &e, boxes[i].name, &boxes[i],
				 boxes[i].subscribed);
	if (imap_list_shared_wanted(req->patterns, req->pattern_count)) {
		err = list_add_shared(cmd, req, &e, error_r);
		if (err != STORE_OK)
			return err;
	}
	list_add_subscriptions(cmd->arena, &e, subs, sub_count);
	list_entries_merge(&e);
	for (size_t i = 0; i < e.count; i++) {
		e.items[i].selected = list_is_selected(req, &e.items[i]);
		e.items[i].matched = imap_list_match_any(req->patterns,
							 req->pattern_count,
							 e.items[i].name,
							 IMAP_MAILBOX_SEP);
	}
	if (req->select & LIST_SELECT_RECURSIVEMATCH)
		list_mark_childinfo(cmd->arena, &e);
	size_t out = 0;
	for (size_t i = 0; i < e.count; i++)
		if (e.items[i].matched && (e.items[i].selected || e.items[i].childinfo))
			e.items[out++] = e.items[i];
	ctx->entries = e.items;
	ctx->count = out;
	return STORE_OK;
}

/* ---- Output ---- */

static void list_append_attr(struct buf *line, bool *first, const char *attr)
{
	if (!*first)
		buf_append_char(line, ' ');
	*first = false;
	buf_append_str(line, attr);
}

/* mbx-list-flags (RFC 9051 9, RFC 5258 6, RFC 6154 6) */
static void list_append_attrs(struct buf *line, const struct list_request *req,
			      const struct list_entry *e, bool noselect)
{
	const struct store_mailbox_info *info = e->info;
	bool first = true;
	buf_append_char(line, '(');
	if (info == NULL)
		list_append_attr(line, &first, "\\NonExistent");
	else if (noselect)
		list_append_attr(line, &first, "\\Noselect");
	if (info != NULL || (req->ret & LIST_RETURN_CHILDREN))
		list_append_attr(line, &first, info != NULL && info->has_children ?
				 "\\HasChildren" : "\\HasNoChildren");
	if ((req->ret & LIST_RETURN_SUBSCRIBED) && e->subscribed)
		list_append_attr(line, &first, "\\Subscribed");
	/* RFC 6154 2: always in the basic LIST, and allowed in the extended
	 * one without the return option. */
	for (unsigned bit = 1; info != NULL && bit <= STORE_SPECIAL_MASK; bit <<= 1)
		if (info->special_use & bit)
			list_append_attr(line, &first, store_special_use_name(bit));
	buf_append_char(line, ')');
}

/* RFC 5819 2: the STATUS is looked up before the LIST response, so that a
 * mailbox that turned out to be unselectable is listed as \Noselect. A
 * shared mailbox gets one only with the "r" right (RFC 4314 §4). */
static bool list_lookup_status(struct imap_cmd *cmd, struct store_user *u,
			       const struct list_entry *e, struct store_mailbox_status *status_r,
			       bool *noselect_r)
{
	const char *error, *name = e->name;
	if (e->shared) {
		struct imap_mailbox_ref ref;
		imap_namespace_split(e->name, cmd->session->user, cmd->arena, &ref);
		if (!(e->rights & STORE_RIGHT_READ) || ref.name == NULL ||
		    (u = imap_session_store_of(cmd->session, ref.owner, &error)) == NULL)
			return false;
		name = ref.name;
	} else if ((u = imap_session_store(cmd->session, &error)) == NULL) {
		/* Fetched per entry: handles of other stores opened since
		 * may have pushed the first one out of the worker's cache. */
		return false;
	}
	enum store_error err = store_mailbox_status(u, name, status_r, &error);
	if (err == STORE_OK && !status_r->noselect)
		return true;
	/* On an internal error the STATUS reply is dropped (RFC 5819 2). */
	if (err == STORE_OK || err == STORE_ERR_NONEXISTENT)
		*noselect_r = true;
	return false;
}

/* mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE /
 *                nil) SP mailbox [SP mbox-list-extended]   (RFC 5258 6) */
static void list_send_entry(struct imap_cmd *cmd, struct list_ctx *ctx,
			    struct store_user *u, const struct list_entry *e)
{
	struct imap_session *s = cmd->session;
	const struct list_request *req = &ctx->req;
	struct store_mailbox_status status;
	bool noselect = e->info != NULL && e->info->noselect;
	bool have_status = (req->ret & LIST_RETURN_STATUS) && u != NULL &&
		e->selected && e->info != NULL && !noselect &&
		list_lookup_status(cmd, u, e, &status, &noselect);
	struct buf line = BUF_INIT;
	buf_append_str(&line, "* LIST ");
	list_append_attrs(&line, req, e, noselect);
	buf_printf(&line, " \"%c\" ", IMAP_MAILBOX_SEP);
	imap_mailbox_name_append(&line, e->name, imap_mailbox_utf8(s));
	if (e->childinfo)
		buf_append_str(&line, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
	buf_append_str(&line, "\r\n");
	imap_send_raw(s, line.data, line.len);
	buf_free(&line);
	if (have_status)
		imap_status_send(s, e->name, &status, &req->status_items);
}

/* Sends entries until the output is full; resumed when it drains. */
static enum imap_cmd_result list_continue(struct imap_cmd *cmd)
{
	struct list_ctx *ctx = cmd->ctx;
	struct store_user *u = NULL;
	const char *error = NULL;
	if (ctx->req.ret & LIST_RETURN_STATUS) {
		/* The handle is valid for this step only. */
		u = imap_session_store(cmd->session, &error);
		if (u == NULL) {
			imap_mailbox_answer_store_error(cmd, STORE_ERR_INTERNAL, error);
			return IMAP_CMD_DONE;
		}
	}
	while (ctx->next < ctx->count) {
		if (conn_output_full(cmd->session->conn))
			return IMAP_CMD_MORE;
		list_send_entry(cmd, ctx, u, &ctx->entries[ctx->next++]);
	}
	imap_cmd_ok(cmd, NULL, "LIST completed");
	return IMAP_CMD_DONE;
}

/* RFC 9051 6.3.9: an empty mailbox name in the basic syntax asks for the
 * hierarchy delimiter and the root of the reference; our names are not
 * rooted, so the root is always "". */
static void list_send_delimiter(struct imap_cmd *cmd)
{
	imap_send_untagged(cmd->session, "LIST (\\Noselect) \"%c\" \"\"",
			   IMAP_MAILBOX_SEP);
	imap_cmd_ok(cmd, NULL, "LIST completed");
}

enum imap_cmd_result cmd_list(struct imap_cmd *cmd)
{
	struct list_ctx *ctx = arena_zalloc(cmd->arena, sizeof(*ctx));
	const char *error = NULL;
	if (!list_parse(cmd, &ctx->req, &error)) {
		imap_cmd_bad(cmd, NULL, "%s", error);
		return IMAP_CMD_DONE;
	}
	if (ctx->req.delimiter_only) {
		list_send_delimiter(cmd);
		return IMAP_CMD_DONE;
	}
	struct store_user *u = imap_session_store(cmd->session, &error);
	if (u == NULL) {
		imap_mailbox_answer_store_error(cmd, STORE_ERR_INTERNAL, error);
		return IMAP_CMD_DONE;
	}
	enum store_error err = list_collect(cmd, u, ctx, &error);
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return IMAP_CMD_DONE;
	}
	cmd->ctx = ctx;
	cmd->resume = list_continue;
	return list_continue(cmd);
}
