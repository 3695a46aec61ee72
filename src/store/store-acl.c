/* Access control lists (RFC 4314): each mailbox's entries in the owner's
 * database, and the evaluation of a user's rights. The rights letters are
 * in store-rights.c; the sharing index that lets LIST find other users'
 * shared mailboxes is in store-share.c. */

#include "store/store-private.h"

#include "lib/arena.h"
#include "lib/xalloc.h"

#include <string.h>

/* ---- Stored entries ---- */

/* The selectable-or-not mailbox row by name, inside a transaction. */
static enum store_error store_acl_mailbox(struct store_user *u, const char *mailbox,
					  uint64_t *id_r, const char **error_r)
{
	char *norm = store_name_normalize(mailbox, error_r);
	if (norm == NULL)
		return STORE_ERR_NONEXISTENT;
	struct store_mailbox_row row;
	enum store_error err = STORE_OK;
	int ret = store_mailbox_row_by_name(u, norm, &row, &err, error_r);
	free(norm);
	if (ret < 0)
		return err;
	/* A \Noselect placeholder has no ACL of its own (RFC 4314 §4:
	 * DELETE removes it) and is not shared. */
	if (ret == 0 || row.noselect)
		return store_fail(STORE_ERR_NONEXISTENT, error_r, "Mailbox does not exist");
	*id_r = row.id;
	return STORE_OK;
}

static enum store_error store_acl_read(struct store_user *u, uint64_t mailbox_id,
				       struct arena *a, struct store_acl_entry **entries_r,
				       size_t *count_r, const char **error_r)
{
	static const char sql[] =
		"SELECT identifier, rights FROM acl WHERE mailbox_id = ?1 ORDER BY identifier";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	size_t cap = 8, n = 0;
	struct store_acl_entry *list = arena_alloc(a, cap * sizeof(*list));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		list = arena_grow(a, list, n, &cap, sizeof(*list));
		list[n].identifier = store_db_column_str(a, st, 0);
		list[n].rights = (unsigned)sqlite3_column_int(st, 1) & STORE_RIGHTS_ALL;
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(u, rc, "read acl", error_r);
	*entries_r = list;
	*count_r = n;
	return STORE_OK;
}

enum store_error store_acl_get(struct store_user *u, const char *mailbox, struct arena *a,
			       struct store_acl_entry **entries_r, size_t *count_r,
			       const char **error_r)
{
	uint64_t id;
	enum store_error err = store_db_begin_read(u, error_r);
	if (err == STORE_OK)
		err = store_acl_mailbox(u, mailbox, &id, error_r);
	if (err == STORE_OK)
		err = store_acl_read(u, id, a, entries_r, count_r, error_r);
	if (err != STORE_OK)
		return store_db_rollback(u, err);
	return store_db_commit(u, error_r);
}

/* True when any mailbox of the store still names identifier. */
static int store_acl_identifier_used(struct store_user *u, const char *identifier,
				     enum store_error *err_r, const char **error_r)
{
	static const char sql[] = "SELECT 1 FROM acl WHERE identifier = ?1 LIMIT 1";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL) {
		*err_r = STORE_ERR_INTERNAL;
		return -1;
	}
	store_db_bind_text(st, 1, identifier);
	int64_t one;
	return store_db_int(u, st, &one, err_r, error_r);
}

static enum store_error store_acl_write(struct store_user *u, const char *mailbox,
					const char *identifier, unsigned rights,
					bool *still_used_r, const char **error_r)
{
	static const char sql_set[] =
		"INSERT OR REPLACE INTO acl (mailbox_id, identifier, rights) VALUES (?1, ?2, ?3)";
	static const char sql_delete[] =
		"DELETE FROM acl WHERE mailbox_id = ?1 AND identifier = ?2";
	uint64_t id;
	enum store_error err = store_db_begin_write(u, error_r);
	if (err == STORE_OK)
		err = store_acl_mailbox(u, mailbox, &id, error_r);
	sqlite3_stmt *st = NULL;
	if (err == STORE_OK) {
		st = store_db_stmt(u, rights != 0 ? sql_set : sql_delete, error_r);
		if (st == NULL)
			err = STORE_ERR_INTERNAL;
	}
	if (err == STORE_OK) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
		store_db_bind_text(st, 2, identifier);
		if (rights != 0)
			sqlite3_bind_int(st, 3, (int)rights);
		err = store_db_step_done(u, st, "write acl", error_r);
	}
	int used = err == STORE_OK ? store_acl_identifier_used(u, identifier, &err, error_r) : 0;
	if (err != STORE_OK)
		return store_db_rollback(u, err);
	*still_used_r = used == 1;
	/* Sessions re-read rights at their next command; a mailbox change
	 * wakes the ones that list or idle. */
	store_change_note(u, 0, STORE_CHANGE_MAILBOXES);
	return store_db_commit(u, error_r);
}

static bool store_acl_identifier_valid(const char *identifier, const char **error_r)
{
	const char *name = identifier[0] == '-' ? identifier + 1 : identifier;
	if (name[0] == '\0' || name[0] == '-' || strlen(identifier) > 255) {
		store_fail(STORE_ERR_INVALID, error_r, "Invalid identifier");
		return false;
	}
	for (const unsigned char *p = (const unsigned char *)identifier; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			store_fail(STORE_ERR_INVALID, error_r, "Invalid identifier");
			return false;
		}
	}
	return true;
}

enum store_error store_acl_set(struct store_user *u, const char *mailbox,
			       const char *identifier, unsigned rights, const char **error_r)
{
	if (!store_acl_identifier_valid(identifier, error_r))
		return STORE_ERR_INVALID;
	if ((rights & ~STORE_RIGHTS_ALL) != 0)
		return store_fail(STORE_ERR_INVALID, error_r, "Unknown rights");
	bool used;
	enum store_error err = store_acl_write(u, mailbox, identifier, rights, &used, error_r);
	if (err != STORE_OK)
		return err;
	/* The index is a hint kept after the commit: a crash between the two
	 * leaves at worst an entry too many, which costs a lookup. A negative
	 * entry grants nothing, so it is never indexed. */
	if (identifier[0] == '-')
		return STORE_OK;
	return used ? store_share_note(u->data_dir, identifier, u->name, error_r) :
		store_share_forget(u->data_dir, identifier, u->name, error_r);
}

enum store_error store_acl_delete(struct store_user *u, const char *mailbox,
				  const char *identifier, const char **error_r)
{
	if (!store_acl_identifier_valid(identifier, error_r))
		return STORE_ERR_INVALID;
	bool used;
	enum store_error err = store_acl_write(u, mailbox, identifier, 0, &used, error_r);
	if (err != STORE_OK || used || identifier[0] == '-')
		return err;
	return store_share_forget(u->data_dir, identifier, u->name, error_r);
}

enum store_error store_acl_inherit(struct store_user *u, uint64_t parent_id, uint64_t child_id,
				   const char **error_r)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO acl (mailbox_id, identifier, rights)"
		" SELECT ?2, identifier, rights FROM acl WHERE mailbox_id = ?1";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)parent_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)child_id);
	return store_db_step_done(u, st, "inherit acl", error_r);
}

enum store_error store_acl_forget(struct store_user *u, uint64_t mailbox_id, const char **error_r)
{
	static const char sql[] = "DELETE FROM acl WHERE mailbox_id = ?1";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	return store_db_step_done(u, st, "forget acl", error_r);
}

/* ---- Evaluation ---- */

/* Does identifier (without a '-') name who? */
static bool store_acl_names(const char *identifier, const struct store_identity *who)
{
	if (strcmp(identifier, "anyone") == 0 || strcmp(identifier, who->user) == 0)
		return true;
	if (identifier[0] != '$')
		return false;
	for (size_t i = 0; i < who->group_count; i++) {
		if (strcmp(identifier + 1, who->groups[i]) == 0)
			return true;
	}
	return false;
}

static unsigned store_acl_evaluate(const struct store_acl_entry *entries, size_t count,
				   const struct store_identity *who)
{
	unsigned granted = 0, denied = 0;
	for (size_t i = 0; i < count; i++) {
		const char *id = entries[i].identifier;
		if (id[0] == '-' && store_acl_names(id + 1, who))
			denied |= entries[i].rights;
		else if (id[0] != '-' && store_acl_names(id, who))
			granted |= entries[i].rights;
	}
	return granted & ~denied;
}

static bool store_acl_is_owner(const struct store_user *u, const struct store_identity *who)
{
	return !store_user_is_public(u) && strcmp(u->name, who->user) == 0;
}

enum store_error store_acl_rights(struct store_user *u, const char *mailbox,
				  const struct store_identity *who, unsigned *rights_r,
				  const char **error_r)
{
	struct arena *a = arena_new(0);
	uint64_t id;
	struct store_acl_entry *entries = NULL;
	size_t count = 0;
	enum store_error err = store_db_begin_read(u, error_r);
	if (err == STORE_OK)
		err = store_acl_mailbox(u, mailbox, &id, error_r);
	if (err == STORE_OK && !store_acl_is_owner(u, who))
		err = store_acl_read(u, id, a, &entries, &count, error_r);
	if (err == STORE_OK)
		err = store_db_commit(u, error_r);
	else
		store_db_rollback(u, err);
	if (err == STORE_OK)
		*rights_r = store_acl_is_owner(u, who) ? STORE_RIGHTS_ALL :
			store_acl_evaluate(entries, count, who);
	arena_destroy(&a);
	return err;
}

enum store_error store_acl_rights_list(struct store_user *u, const struct store_identity *who,
				       const struct store_mailbox_info *list, size_t count,
				       struct arena *a, unsigned **rights_r,
				       const char **error_r)
{
	static const char sql[] =
		"SELECT mailbox_id, identifier, rights FROM acl ORDER BY mailbox_id";
	unsigned *rights = arena_zalloc(a, (count + 1) * sizeof(*rights));
	*rights_r = rights;
	if (store_acl_is_owner(u, who)) {
		for (size_t i = 0; i < count; i++)
			rights[i] = list[i].noselect ? 0 : STORE_RIGHTS_ALL;
		return STORE_OK;
	}
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t id = (uint64_t)sqlite3_column_int64(st, 0);
		struct store_acl_entry entry = {
			.identifier = (const char *)sqlite3_column_text(st, 1),
			.rights = (unsigned)sqlite3_column_int(st, 2) & STORE_RIGHTS_ALL,
		};
		for (size_t i = 0; i < count; i++) {
			if (list[i].id != id || list[i].noselect)
				continue;
			/* Negative entries are folded in below; collect both. */
			const char *name = entry.identifier[0] == '-' ? entry.identifier + 1 :
				entry.identifier;
			if (!store_acl_names(name, who))
				continue;
			if (entry.identifier[0] == '-')
				rights[i] |= entry.rights << 16;
			else
				rights[i] |= entry.rights;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(u, rc, "read acls", error_r);
	for (size_t i = 0; i < count; i++)
		rights[i] = (rights[i] & STORE_RIGHTS_ALL) & ~(rights[i] >> 16);
	return STORE_OK;
}
