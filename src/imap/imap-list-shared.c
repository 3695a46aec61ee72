#include "imap/imap-list-shared.h"

#include "imap/imap-access.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-namespace.h"
#include "imap/imap-session.h"
#include "lib/arena.h"
#include "lib/config.h"

#include <stdlib.h>
#include <string.h>

struct shared_list {
	struct imap_shared_box *items;
	size_t count, cap;
};

static struct imap_shared_box *shared_list_add(struct arena *a, struct shared_list *l,
					       const char *name)
{
	if (l->count == l->cap) {
		size_t cap = l->cap == 0 ? 32 : l->cap * 2;
		struct imap_shared_box *bigger = arena_alloc(a, cap * sizeof(*bigger));
		if (l->count > 0)
			memcpy(bigger, l->items, l->count * sizeof(*bigger));
		l->items = bigger;
		l->cap = cap;
	}
	struct imap_shared_box *box = &l->items[l->count++];
	memset(box, 0, sizeof(*box));
	box->info.name = name;
	return box;
}

static void shared_list_add_node(struct arena *a, struct shared_list *l, const char *name)
{
	struct imap_shared_box *node = shared_list_add(a, l, name);
	node->info.noselect = true;
}

/* The mailboxes of owner's store the session may list, under prefix.
 * *added_r tells whether there was any. */
static enum store_error shared_add_store(struct imap_cmd *cmd, struct shared_list *l,
					 const char *owner, const char *prefix, bool *added_r,
					 const char **error_r)
{
	struct imap_session *s = cmd->session;
	struct store_user *u = imap_session_store_of(s, owner, error_r);
	if (u == NULL)
		return STORE_ERR_INTERNAL;
	struct store_mailbox_info *boxes;
	size_t count;
	unsigned *rights;
	struct store_identity who;
	imap_session_identity(s, &who);
	enum store_error err = store_mailbox_list(u, cmd->arena, &boxes, &count, error_r);
	if (err == STORE_OK)
		err = store_acl_rights_list(u, &who, boxes, count, cmd->arena, &rights, error_r);
	if (err != STORE_OK)
		return err;
	*added_r = false;
	for (size_t i = 0; i < count; i++) {
		if (!(rights[i] & STORE_RIGHT_LOOKUP))
			continue;
		struct imap_shared_box *box = shared_list_add(
			cmd->arena, l, arena_printf(cmd->arena, "%s%s", prefix, boxes[i].name));
		box->info.id = boxes[i].id;
		memcpy(box->info.objectid, boxes[i].objectid, sizeof(box->info.objectid));
		box->rights = rights[i];
		*added_r = true;
	}
	return STORE_OK;
}

static int shared_box_cmp(const void *a, const void *b)
{
	const struct imap_shared_box *x = a, *y = b;
	return strcmp(x->info.name, y->info.name);
}

/* \HasChildren among what is listed only: invisible children of a
 * visible mailbox are not revealed. */
static void shared_mark_children(struct shared_list *l)
{
	for (size_t i = 0; i < l->count; i++) {
		const char *name = l->items[i].info.name;
		size_t len = strlen(name);
		for (size_t j = i + 1; j < l->count; j++) {
			const char *other = l->items[j].info.name;
			if (strncmp(other, name, len) != 0)
				break;
			if (other[len] == IMAP_MAILBOX_SEP) {
				l->items[i].info.has_children = true;
				break;
			}
		}
	}
}

/* The pattern's literal start, up to its first wildcard. */
static size_t shared_literal_prefix(const char *pattern)
{
	return strcspn(pattern, "*%");
}

/* Does a pattern name root itself, or something below it, before its
 * first wildcard? */
static bool shared_root_named(const char *const *patterns, size_t count, const char *root)
{
	size_t len = strlen(root);
	for (size_t i = 0; i < count; i++) {
		if (shared_literal_prefix(patterns[i]) >= len &&
		    strncmp(patterns[i], root, len) == 0 &&
		    (patterns[i][len] == '\0' || patterns[i][len] == IMAP_MAILBOX_SEP))
			return true;
	}
	return false;
}

/* Drops the empty namespace roots no pattern names. */
static void shared_drop_empty_roots(struct shared_list *l, const char *const *patterns,
				    size_t count)
{
	size_t out = 0;
	for (size_t i = 0; i < l->count; i++) {
		const struct imap_shared_box *box = &l->items[i];
		bool root = strcmp(box->info.name, IMAP_NS_PUBLIC_ROOT) == 0 ||
			    strcmp(box->info.name, IMAP_NS_OTHER_USERS_ROOT) == 0;
		if (root && !box->info.has_children &&
		    !shared_root_named(patterns, count, box->info.name))
			continue;
		l->items[out++] = *box;
	}
	l->count = out;
}

enum store_error imap_list_shared(struct imap_cmd *cmd, const char *const *patterns,
				  size_t pattern_count, struct imap_shared_box **boxes_r,
				  size_t *count_r, const char **error_r)
{
	struct imap_session *s = cmd->session;
	struct shared_list l = { NULL, 0, 0 };
	bool added;
	enum store_error err;
	shared_list_add_node(cmd->arena, &l, IMAP_NS_PUBLIC_ROOT);
	err = shared_add_store(cmd, &l, STORE_PUBLIC_OWNER,
			       arena_printf(cmd->arena, "%s%c", IMAP_NS_PUBLIC_ROOT,
					    IMAP_MAILBOX_SEP),
			       &added, error_r);
	if (err != STORE_OK)
		return err;
	shared_list_add_node(cmd->arena, &l, IMAP_NS_OTHER_USERS_ROOT);
	struct store_identity who;
	const char **owners;
	size_t owner_count;
	imap_session_identity(s, &who);
	err = store_share_owners(s->cfg->data_dir, &who, cmd->arena, &owners, &owner_count,
				 error_r);
	for (size_t i = 0; err == STORE_OK && i < owner_count; i++) {
		if (strcmp(owners[i], s->user) == 0 || strcmp(owners[i], STORE_PUBLIC_OWNER) == 0 ||
		    !store_user_exists(s->cfg->data_dir, owners[i]))
			continue;
		const char *node = arena_printf(cmd->arena, "%s%c%s", IMAP_NS_OTHER_USERS_ROOT,
						IMAP_MAILBOX_SEP, owners[i]);
		err = shared_add_store(cmd, &l, owners[i],
				       arena_printf(cmd->arena, "%s%c", node, IMAP_MAILBOX_SEP),
				       &added, error_r);
		if (err == STORE_OK && added)
			shared_list_add_node(cmd->arena, &l, node);
	}
	if (err != STORE_OK)
		return err;
	qsort(l.items, l.count, sizeof(*l.items), shared_box_cmp);
	shared_mark_children(&l);
	shared_drop_empty_roots(&l, patterns, pattern_count);
	*boxes_r = l.items;
	*count_r = l.count;
	return STORE_OK;
}

static bool shared_prefix_compatible(const char *pattern, const char *root)
{
	size_t plen = shared_literal_prefix(pattern), rlen = strlen(root);
	size_t n = plen < rlen ? plen : rlen;
	return strncmp(pattern, root, n) == 0;
}

bool imap_list_shared_wanted(const char *const *patterns, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (shared_prefix_compatible(patterns[i], IMAP_NS_OTHER_USERS_ROOT) ||
		    shared_prefix_compatible(patterns[i], IMAP_NS_PUBLIC_ROOT))
			return true;
	}
	return false;
}
