/* Mailboxes: hierarchy, status, subscriptions, \Recent, the session view
 * and CONDSTORE/QRESYNC change queries. */

#include "store/store-private.h"
#include "store/store-explog.h"
#include "store/store-view.h"

#include "lib/arena.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define STORE_MAILBOX_COLUMNS \
	"id, objectid, uidvalidity, uidnext, highestmodseq, messages, unseen," \
	" deleted, bytes, special_use, noselect, generation, recent_uid," \
	" expunge_floor, deleted_bytes FROM mailboxes"

static void store_mailbox_row_read(sqlite3_stmt *st,
				   struct store_mailbox_row *row)
{
	memset(row, 0, sizeof(*row));
	row->id = (uint64_t)sqlite3_column_int64(st, 0);
	const unsigned char *objectid = sqlite3_column_text(st, 1);
	snprintf(row->objectid, sizeof(row->objectid), "%s",
		 objectid != NULL ? (const char *)objectid : "");
	row->uidvalidity = (uint32_t)sqlite3_column_int64(st, 2);
	row->uidnext = (uint32_t)sqlite3_column_int64(st, 3);
	row->highestmodseq = (uint64_t)sqlite3_column_int64(st, 4);
	row->messages = (uint32_t)sqlite3_column_int64(st, 5);
	row->unseen = (uint32_t)sqlite3_column_int64(st, 6);
	row->deleted = (uint32_t)sqlite3_column_int64(st, 7);
	row->bytes = (uint64_t)sqlite3_column_int64(st, 8);
	row->special_use = (unsigned)sqlite3_column_int(st, 9);
	row->noselect = sqlite3_column_int(st, 10) != 0;
	row->generation = (uint64_t)sqlite3_column_int64(st, 11);
	row->recent_uid = (uint32_t)sqlite3_column_int64(st, 12);
	row->expunge_floor = (uint64_t)sqlite3_column_int64(st, 13);
	row->deleted_bytes = (uint64_t)sqlite3_column_int64(st, 14);
}

static int store_mailbox_row_step(struct store_user *u, sqlite3_stmt *st,
				  struct store_mailbox_row *row_r,
				  enum store_error *err_r, const char **error_r)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		store_mailbox_row_read(st, row_r);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	*err_r = store_db_fail(u, rc, "read mailbox", error_r);
	return -1;
}

int store_mailbox_row_by_id(struct store_user *u, uint64_t id,
			    struct store_mailbox_row *row_r,
			    enum store_error *err_r, const char **error_r)
{
	static const char sql[] = "SELECT " STORE_MAILBOX_COLUMNS " WHERE id = ?";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL) {
		*err_r = STORE_ERR_INTERNAL;
		return -1;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	return store_mailbox_row_step(u, st, row_r, err_r, error_r);
}

int store_mailbox_row_by_name(struct store_user *u, const char *name,
			      struct store_mailbox_row *row_r,
			      enum store_error *err_r, const char **error_r)
{
	static const char sql[] = "SELECT " STORE_MAILBOX_COLUMNS " WHERE name = ?";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL) {
		*err_r = STORE_ERR_INTERNAL;
		return -1;
	}
	store_db_bind_text(st, 1, name);
	return store_mailbox_row_step(u, st, row_r, err_r, error_r);
}

/* Loads the row or fails with NONEXISTENT. */
static enum store_error store_mailbox_need_id(struct store_user *u, uint64_t id,
					      struct store_mailbox_row *row_r,
					      const char **error_r)
{
	enum store_error err = STORE_OK;
	int ret = store_mailbox_row_by_id(u, id, row_r, &err, error_r);
	if (ret == 0)
		return store_fail(STORE_ERR_NONEXISTENT, error_r,
				  "Mailbox does not exist");
	return ret < 0 ? err : STORE_OK;
}

static enum store_error store_mailbox_need_name(struct store_user *u,
						const char *name,
						struct store_mailbox_row *row_r,
						const char **error_r)
{
	enum store_error err = STORE_OK;
	int ret = store_mailbox_row_by_name(u, name, row_r, &err, error_r);
	if (ret == 0)
		return store_fail(STORE_ERR_NONEXISTENT, error_r,
				  "Mailbox does not exist");
	return ret < 0 ? err : STORE_OK;
}

enum store_error store_mailbox_next_modseq(struct store_user *u,
					   uint64_t mailbox_id,
					   uint64_t *modseq_r,
					   const char **error_r)
{
	static const char bump[] =
		"UPDATE mailboxes SET highestmodseq = highestmodseq + ?2 WHERE id = ?1";
	static const char read[] = "SELECT highestmodseq FROM mailboxes WHERE id = ?1";
	int64_t value = 0;
	enum store_error err = STORE_OK;
	int ret = store_db_update_read(u, bump, read, (int64_t)mailbox_id, 1, &value, &err,
				       error_r);
	if (ret == 0)
		return store_fail(STORE_ERR_NONEXISTENT, error_r,
				  "Mailbox does not exist");
	if (ret < 0)
		return err;
	*modseq_r = (uint64_t)value;
	return STORE_OK;
}

enum store_error store_mailbox_reserve_uids(struct store_user *u,
					    uint64_t mailbox_id, uint32_t count,
					    uint32_t *first_uid_r,
					    const char **error_r)
{
	static const char sql[] =
		"UPDATE mailboxes SET uidnext = uidnext + ?2 WHERE id = ?1";
	struct store_mailbox_row row;
	enum store_error err = store_mailbox_need_id(u, mailbox_id, &row, error_r);
	if (err != STORE_OK)
		return err;
	/* RFC 9051 2.3.1.1: UIDs are 32-bit and never reused; when they run
	 * out the mailbox needs a new UIDVALIDITY (re-create it). */
	if ((uint64_t)row.uidnext + count > UINT32_MAX)
		return store_fail(STORE_ERR_LIMIT, error_r,
				  "Mailbox has run out of UIDs");
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	sqlite3_bind_int64(st, 2, count);
	err = store_db_step_done(u, st, "reserve uids", error_r);
	if (err == STORE_OK)
		*first_uid_r = row.uidnext;
	return err;
}

static enum store_error store_next_uidvalidity(struct store_user *u,
					       uint32_t *uidvalidity_r,
					       const char **error_r)
{
	/* Never below the last value handed out, and following the clock
	 * so a store deleted and re-created later also gets fresh values. */
	static const char sql[] =
		"UPDATE account SET last_uidvalidity ="
		" max(last_uidvalidity + 1, ?) WHERE id = 1"
		" RETURNING last_uidvalidity";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	int64_t value = 0;
	enum store_error err = STORE_OK;
	int ret = store_db_int(u, st, &value, &err, error_r);
	if (ret < 0)
		return err;
	if (ret == 0 || value <= 0 || value > (int64_t)UINT32_MAX)
		return store_fail(STORE_ERR_LIMIT, error_r,
				  "No UIDVALIDITY values left");
	*uidvalidity_r = (uint32_t)value;
	return STORE_OK;
}

enum store_error store_mailbox_insert(struct store_user *u, const char *name,
				      unsigned special_use, uint64_t *id_r,
				      const char **error_r)
{
	static const char sql[] =
		"INSERT INTO mailboxes (name, objectid, uidvalidity, special_use,"
		" created_at) VALUES (?, ?, ?, ?, ?)";
	uint32_t uidvalidity = 0;
	enum store_error err = store_next_uidvalidity(u, &uidvalidity, error_r);
	if (err != STORE_OK)
		return err;
	char objectid[STORE_OBJECTID_SIZE];
	store_objectid_new('M', objectid);
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	store_db_bind_text(st, 1, name);
	store_db_bind_text(st, 2, objectid);
	sqlite3_bind_int64(st, 3, uidvalidity);
	sqlite3_bind_int(st, 4, (int)special_use);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	err = store_db_step_done(u, st, "insert mailbox", error_r);
	if (err == STORE_OK && id_r != NULL)
		*id_r = (uint64_t)sqlite3_last_insert_rowid(u->db);
	return err;
}

enum store_error store_mailbox_create_parents(struct store_user *u,
					      const char *name,
					      const char **error_r)
{
	char *prefix = xstrdup(name);
	enum store_error err = STORE_OK;
	for (char *p = strchr(prefix, STORE_HIERARCHY_SEP);
	     p != NULL && err == STORE_OK; p = strchr(p + 1, STORE_HIERARCHY_SEP)) {
		struct store_mailbox_row row;
		*p = '\0';
		int ret = store_mailbox_row_by_name(u, prefix, &row, &err, error_r);
		if (ret == 0)
			err = store_mailbox_insert(u, prefix, 0, NULL, error_r);
		*p = STORE_HIERARCHY_SEP;
	}
	free(prefix);
	return err;
}

/* -1 error, 0 no children, 1 has children. */
static int store_mailbox_has_children(struct store_user *u, const char *name,
				      enum store_error *err_r,
				      const char **error_r)
{
	/* Children of "a" sort between "a/" and "a0" ('0' follows '/'). */
	static const char sql[] =
		"SELECT 1 FROM mailboxes WHERE name > ?1 || '/'"
		" AND name < ?1 || '0' LIMIT 1";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL) {
		*err_r = STORE_ERR_INTERNAL;
		return -1;
	}
	store_db_bind_text(st, 1, name);
	int64_t one;
	return store_db_int(u, st, &one, err_r, error_r);
}

enum store_error store_mailbox_add_keywords(struct store_user *u,
					    uint64_t mailbox_id,
					    const char *keywords,
					    const char **error_r)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO mailbox_keywords (mailbox_id, keyword)"
		" VALUES (?, ?)";
	const char *p = keywords;
	enum store_error err = STORE_OK;
	while (*p != '\0' && err == STORE_OK) {
		const char *end = strchr(p, ' ');
		size_t len = end == NULL ? strlen(p) : (size_t)(end - p);
		sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
		if (st == NULL)
			return STORE_ERR_INTERNAL;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
		sqlite3_bind_text(st, 2, p, (int)len, SQLITE_STATIC);
		err = store_db_step_done(u, st, "add keyword", error_r);
		p += len;
		while (*p == ' ')
			p++;
	}
	return err;
}

/* ---- Listing ---- */

enum store_error store_mailbox_list(struct store_user *u, struct arena *a,
				    struct store_mailbox_info **list_r,
				    size_t *count_r, const char **error_r)
{
	static const char sql[] =
		"SELECT m.id, m.name, m.objectid, m.special_use, m.noselect,"
		" EXISTS (SELECT 1 FROM mailboxes c WHERE c.name > m.name || '/'"
		"  AND c.name < m.name || '0'),"
		" EXISTS (SELECT 1 FROM subscriptions s WHERE s.name = m.name)"
		" FROM mailboxes m ORDER BY m.name";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	size_t count = 0, cap = 16;
	struct store_mailbox_info *list = arena_alloc(a, cap * sizeof(*list));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		list = arena_grow(a, list, count, &cap, sizeof(*list));
		struct store_mailbox_info *info = &list[count++];
		memset(info, 0, sizeof(*info));
		info->id = (uint64_t)sqlite3_column_int64(st, 0);
		info->name = store_db_column_str(a, st, 1);
		snprintf(info->objectid, sizeof(info->objectid), "%s",
			 (const char *)sqlite3_column_text(st, 2));
		info->special_use = (unsigned)sqlite3_column_int(st, 3);
		info->noselect = sqlite3_column_int(st, 4) != 0;
		info->has_children = sqlite3_column_int(st, 5) != 0;
		info->subscribed = sqlite3_column_int(st, 6) != 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(u, rc, "list mailboxes", error_r);
	*list_r = list;
	*count_r = count;
	return STORE_OK;
}

/* Collects column 0 of every row as strings from a. */
static enum store_error store_db_strings(struct store_user *u, sqlite3_stmt *st,
					 struct arena *a, const char ***list_r,
					 size_t *count_r, const char **error_r)
{
	size_t count = 0, cap = 16;
	const char **list = arena_alloc(a, cap * sizeof(*list));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		list = arena_grow(a, list, count, &cap, sizeof(*list));
		list[count++] = store_db_column_str(a, st, 0);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(u, rc, "list strings", error_r);
	*list_r = list;
	*count_r = count;
	return STORE_OK;
}

enum store_error store_subscription_list(struct store_user *u,
					 struct arena *a, const char ***names_r,
					 size_t *count_r, const char **error_r)
{
	static const char sql[] = "SELECT name FROM subscriptions ORDER BY name";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	return store_db_strings(u, st, a, names_r, count_r, error_r);
}

enum store_error store_mailbox_keywords(struct store_user *u,
					uint64_t mailbox_id, struct arena *a,
					const char ***keywords_r,
					size_t *count_r, const char **error_r)
{
	static const char sql[] =
		"SELECT keyword FROM mailbox_keywords WHERE mailbox_id = ?"
		" ORDER BY keyword";
	struct store_mailbox_row row;
	enum store_error err = store_mailbox_need_id(u, mailbox_id, &row, error_r);
	if (err != STORE_OK)
		return err;
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	return store_db_strings(u, st, a, keywords_r, count_r, error_r);
}

/* ---- Status ---- */

static enum store_error store_mailbox_count_recent(struct store_user *u,
						   const struct store_mailbox_row *row,
						   uint32_t *recent_r,
						   const char **error_r)
{
	static const char sql[] =
		"SELECT count(*) FROM messages WHERE mailbox_id = ? AND uid >= ?";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)row->id);
	sqlite3_bind_int64(st, 2, row->recent_uid);
	int64_t value = 0;
	enum store_error err = STORE_OK;
	if (store_db_int(u, st, &value, &err, error_r) < 0)
		return err;
	*recent_r = (uint32_t)value;
	return STORE_OK;
}

static void store_mailbox_status_fill(const struct store_mailbox_row *row,
				      struct store_mailbox_status *status)
{
	memset(status, 0, sizeof(*status));
	status->id = row->id;
	memcpy(status->objectid, row->objectid, sizeof(status->objectid));
	status->uidvalidity = row->uidvalidity;
	status->uidnext = row->uidnext;
	status->highestmodseq = row->highestmodseq;
	status->messages = row->messages;
	status->unseen = row->unseen;
	status->deleted = row->deleted;
	status->size = row->bytes;
	status->deleted_size = row->deleted_bytes;
	status->special_use = row->special_use;
	status->noselect = row->noselect;
	status->generation = row->generation;
}

/* Reads row and recent count in one snapshot. by_name NULL: by id. */
static enum store_error store_mailbox_status_read(struct store_user *u,
						  const char *by_name,
						  uint64_t by_id,
						  struct store_mailbox_status *status_r,
						  const char **error_r)
{
	struct store_mailbox_row row;
	enum store_error err;
	if (u->viewer == NULL) {
		/* The common case (every session syncs at every command):
		 * when no message can be \Recent, the row alone answers, read
		 * by one statement in its own read transaction. */
		err = by_name != NULL ? store_mailbox_need_name(u, by_name, &row, error_r) :
			store_mailbox_need_id(u, by_id, &row, error_r);
		if (err != STORE_OK)
			return err;
		if (row.recent_uid >= row.uidnext) {
			store_mailbox_status_fill(&row, status_r);
			return STORE_OK;
		}
	}
	err = store_db_begin_read(u, error_r);
	if (err != STORE_OK)
		return err;
	err = by_name != NULL ? store_mailbox_need_name(u, by_name, &row, error_r) :
		store_mailbox_need_id(u, by_id, &row, error_r);
	if (err != STORE_OK)
		return store_db_rollback(u, err);
	store_mailbox_status_fill(&row, status_r);
	err = store_mailbox_count_recent(u, &row, &status_r->recent, error_r);
	if (err == STORE_OK && u->viewer != NULL) {
		/* user_seen rows exist only for present messages (trigger). */
		uint32_t seen = 0;
		err = store_seen_count(u, row.id, &seen, error_r);
		status_r->unseen = row.messages - (seen < row.messages ? seen : row.messages);
	}
	if (err != STORE_OK)
		return store_db_rollback(u, err);
	return store_db_commit(u, error_r);
}

enum store_error store_mailbox_status(struct store_user *u, const char *name,
				      struct store_mailbox_status *status_r,
				      const char **error_r)
{
	char *norm = store_name_normalize(name, error_r);
	if (norm == NULL)
		return STORE_ERR_INVALID;
	enum store_error err = store_mailbox_status_read(u, norm, 0, status_r,
							 error_r);
	free(norm);
	return err;
}

enum store_error store_mailbox_status_by_id(struct store_user *u,
					    uint64_t mailbox_id,
					    struct store_mailbox_status *status_r,
					    const char **error_r)
{
	return store_mailbox_status_read(u, NULL, mailbox_id, status_r, error_r);
}

enum store_error store_mailbox_first_unseen(struct store_user *u,
					    uint64_t mailbox_id,
					    uint32_t *seq_r, uint32_t *uid_r,
					    const char **error_r)
{
	static const char sql_uid[] =
		"SELECT uid FROM messages WHERE mailbox_id = ? AND (flags & 1) = 0"
		" ORDER BY uid LIMIT 1";
	static const char sql_seq[] =
		"SELECT count(*) FROM messages WHERE mailbox_id = ? AND uid <= ?";
	struct store_mailbox_row row;
	int64_t uid = 0, seq = 0;
	enum store_error err = store_db_begin_read(u, error_r);
	if (err == STORE_OK)
		err = store_mailbox_need_id(u, mailbox_id, &row, error_r);
	bool found = false;
	if (err == STORE_OK && u->viewer != NULL) {
		err = store_seen_first_unseen(u, mailbox_id, &uid, error_r);
		found = uid != 0;
	} else if (err == STORE_OK) {
		sqlite3_stmt *st = store_db_stmt(u, sql_uid, error_r);
		if (st == NULL)
			err = STORE_ERR_INTERNAL;
		else
			sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
		found = st != NULL && store_db_int(u, st, &uid, &err, error_r) == 1;
	}
	if (err == STORE_OK && found) {
		sqlite3_stmt *st = store_db_stmt(u, sql_seq, error_r);
		if (st == NULL) {
			err = STORE_ERR_INTERNAL;
		} else {
			sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
			sqlite3_bind_int64(st, 2, uid);
			store_db_int(u, st, &seq, &err, error_r);
		}
	}
	if (err != STORE_OK)
		return store_db_rollback(u, err);
	*seq_r = (uint32_t)seq;
	*uid_r = (uint32_t)uid;
	return store_db_commit(u, error_r);
}

/* ---- Create, delete, rename ---- */

/* The id of the longest existing proper prefix of name, 0 if none. */
static enum store_error store_mailbox_nearest_ancestor(struct store_user *u, const char *name,
						       uint64_t *id_r, const char **error_r)
{
	char *parent = xstrdup(name);
	enum store_error err = STORE_OK;
	size_t len;
	*id_r = 0;
	while ((len = store_name_parent_len(parent)) > 0) {
		parent[len] = '\0';
		struct store_mailbox_row row;
		int ret = store_mailbox_row_by_name(u, parent, &row, &err, error_r);
		if (ret != 0) {
			if (ret == 1)
				*id_r = row.id;
			break;
		}
	}
	free(parent);
	return err;
}

/* RFC 4314 §4: a new mailbox (and each superior made for it) inherits the
 * ACL of its nearest existing ancestor. */
static enum store_error store_mailbox_inherit_acl(struct store_user *u, const char *name,
						  uint64_t ancestor_id, const char **error_r)
{
	char *level = xstrdup(name);
	enum store_error err = STORE_OK;
	for (;;) {
		struct store_mailbox_row row;
		int ret = store_mailbox_row_by_name(u, level, &row, &err, error_r);
		if (ret != 1 || row.id == ancestor_id)
			break;
		err = store_acl_inherit(u, ancestor_id, row.id, error_r);
		size_t len = store_name_parent_len(level);
		if (err != STORE_OK || len == 0)
			break;
		level[len] = '\0';
	}
	free(level);
	return err;
}

static enum store_error store_mailbox_create_locked(struct store_user *u,
						    const char *name,
						    unsigned special_use,
						    uint64_t *id_r,
						    const char **error_r)
{
	static const char sql_drop[] = "DELETE FROM mailboxes WHERE id = ?";
	struct store_mailbox_row row;
	enum store_error err = STORE_OK;
	int ret = store_mailbox_row_by_name(u, name, &row, &err, error_r);
	if (ret < 0)
		return err;
	if (ret == 1 && !row.noselect)
		return store_fail(STORE_ERR_ALREADYEXISTS, error_r,
				  "Mailbox already exists");
	if (ret == 1) {
		/* A \Noselect placeholder becomes a real mailbox; it is a new
		 * incarnation, so it gets a new row and UIDVALIDITY. */
		sqlite3_stmt *st = store_db_stmt(u, sql_drop, error_r);
		if (st == NULL)
			return STORE_ERR_INTERNAL;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)row.id);
		err = store_db_step_done(u, st, "drop noselect", error_r);
		if (err != STORE_OK)
			return err;
	}
	uint64_t ancestor_id = 0;
	err = store_mailbox_nearest_ancestor(u, name, &ancestor_id, error_r);
	if (err == STORE_OK)
		err = store_mailbox_create_parents(u, name, error_r);
	uint64_t id = 0;
	if (err == STORE_OK)
		err = store_mailbox_insert(u, name, special_use, &id, error_r);
	if (err == STORE_OK && ancestor_id != 0)
		err = store_mailbox_inherit_acl(u, name, ancestor_id, error_r);
	if (err == STORE_OK && id_r != NULL)
		*id_r = id;
	return err;
}

enum store_error store_mailbox_create(struct store_user *u, const char *name,
				      unsigned special_use,
				      uint64_t *mailbox_id_r,
				      const char **error_r)
{
	if ((special_use & ~STORE_SPECIAL_MASK) != 0)
		return store_fail(STORE_ERR_INVALID, error_r,
				  "Unknown special-use attribute");
	char *norm = store_name_normalize(name, error_r);
	if (norm == NULL)
		return STORE_ERR_INVALID;
	enum store_error err = store_db_begin_write(u, error_r);
	if (err == STORE_OK)
		err = store_mailbox_create_locked(u, norm, special_use,
						  mailbox_id_r, error_r);
	free(norm);
	if (err != STORE_OK)
		return store_db_rollback(u, err);
	store_change_note(u, 0, STORE_CHANGE_MAILBOXES);
	return store_db_commit(u, error_r);
}

/* After name went away: removes \Noselect ancestors that now have no
 * children (they existed only to hold it). */
static enum store_error store_mailbox_prune_ancestors(struct store_user *u,
						      const char *name,
						      const char **error_r)
{
	static const char sql[] = "DELETE FROM mailboxes WHERE id = ?";
	char *parent = xstrdup(name);
	enum store_error err = STORE_OK;
	size_t len;
	while (err == STORE_OK && (len = store_name_parent_len(parent)) > 0) {
		parent[len] = '\0';
		struct store_mailbox_row row;
		int ret = store_mailbox_row_by_name(u, parent, &row, &err, error_r);
		if (ret != 1 || !row.noselect)
			break;
		ret = store_mailbox_has_children(u, parent, &err, error_r);
		if (ret != 0)
			break;
		sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
		if (st == NULL) {
			err = STORE_ERR_INTERNAL;
			break;
		}
		sqlite3_bind_int64(st, 1, (sqlite3_int64)row.id);
		err = store_db_step_done(u, st, "prune noselect", error_r);
	}
	free(parent);
	return err;
}

/* Removes every message of the mailbox without logging (the mailbox goes
 * away or becomes \Noselect, so no session can ask for VANISHED). */
static enum store_error store_mailbox_empty(struct store_user *u,
					    uint64_t mailbox_id, struct arena *a,
					    const char ***hashes_r,
					    size_t *hash_count_r,
					    const char **error_r)
{
	uint32_t *uids;
	size_t count;
	enum store_error err = store_msg_all_uids(u, mailbox_id, a, &uids, &count,
						  error_r);
	if (err != STORE_OK)
		return err;
	return store_msg_delete_rows(u, mailbox_id, uids, count, 0, false, a,
				     hashes_r, hash_count_r, error_r);
}

static enum store_error store_mailbox_delete_locked(struct store_user *u,
						    const char *name,
						    struct arena *a,
						    const char ***hashes_r,
						    size_t *hash_count_r,
						    const char **error_r)
{
	static const char sql_noselect[] =
		"UPDATE mailboxes SET noselect = 1, special_use = 0,"
		" generation = generation + 1 WHERE id = ?";
	static const char sql_forget[] = "DELETE FROM expunged WHERE mailbox_id = ?";
	static const char sql_delete[] = "DELETE FROM mailboxes WHERE id = ?";
	struct store_mailbox_row row;
	enum store_error err = store_mailbox_need_name(u, name, &row, error_r);
	if (err != STORE_OK)
		return err;
	int children = store_mailbox_has_children(u, name, &err, error_r);
	if (children < 0)
		return err;
	/* RFC 9051 6.3.4: deleting a \Noselect name with inferiors fails. */
	if (children == 1 && row.noselect)
		return store_fail(STORE_ERR_HASCHILDREN, error_r,
				  "Mailbox has inferior hierarchical names");
	err = store_mailbox_empty(u, row.id, a, hashes_r, hash_count_r, error_r);
	if (err != STORE_OK)
		return err;
	sqlite3_stmt *st;
	if (children == 1) {
		/* RFC 9051 6.3.4: it stays as \Noselect for its inferiors. */
		st = store_db_stmt(u, sql_forget, error_r);
		if (st == NULL)
			return STORE_ERR_INTERNAL;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)row.id);
		err = store_db_step_done(u, st, "forget expunges", error_r);
		if (err == STORE_OK)
			err = store_acl_forget(u, row.id, error_r); /* RFC 4314 §4 */
		if (err != STORE_OK)
			return err;
		st = store_db_stmt(u, sql_noselect, error_r);
	} else {
		st = store_db_stmt(u, sql_delete, error_r);
	}
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)row.id);
	err = store_db_step_done(u, st, "delete mailbox", error_r);
	if (err == STORE_OK && children == 0)
		err = store_mailbox_prune_ancestors(u, name, error_r);
	store_change_note(u, row.id, STORE_CHANGE_EXPUNGE);
	store_change_note(u, 0, STORE_CHANGE_MAILBOXES);
	return err;
}

enum store_error store_mailbox_delete(struct store_user *u, const char *name,
				      const char **error_r)
{
	char *norm = store_name_normalize(name, error_r);
	if (norm == NULL)
		return STORE_ERR_INVALID;
	if (store_name_is_inbox(norm)) {
		free(norm);
		/* RFC 9051 6.3.4: it is an error to delete INBOX. */
		return store_fail(STORE_ERR_CANNOT, error_r, "INBOX cannot be deleted");
	}
	struct arena *a = arena_new(0);
	const char **hashes = NULL;
	size_t hash_count = 0;
	enum store_error err = store_db_begin_write(u, error_r);
	if (err == STORE_OK)
		err = store_mailbox_delete_locked(u, norm, a, &hashes, &hash_count,
						  error_r);
	free(norm);
	if (err != STORE_OK)
		err = store_db_rollback(u, err);
	else
		err = store_db_commit(u, error_r);
	if (err == STORE_OK)
		store_blobs_release(u, hashes, hash_count);
	arena_destroy(&a);
	return err;
}

/* RFC 9051 6.3.6: renaming INBOX moves its messages into a new mailbox
 * (new UIDVALIDITY, so keeping the UIDs is safe) and leaves INBOX empty;
 * INBOX's inferiors stay where they are. */
static enum store_error store_mailbox_rename_inbox(struct store_user *u,
						   const struct store_mailbox_row *inbox,
						   const char *new_name,
						   struct arena *a,
						   const char **error_r)
{
	static const char sql_move[] =
		"INSERT INTO messages (mailbox_id, uid, email_id, flags, keywords,"
		" modseq, internal_date, tz_offset, save_date, size)"
		" SELECT ?1, uid, email_id, flags, keywords, ?2, internal_date,"
		" tz_offset, save_date, size FROM messages WHERE mailbox_id = ?3";
	static const char sql_counters[] =
		"UPDATE mailboxes SET uidnext = ?2, recent_uid = ?3 WHERE id = ?1";
	static const char sql_keywords[] =
		"INSERT OR IGNORE INTO mailbox_keywords (mailbox_id, keyword)"
		" SELECT ?1, keyword FROM mailbox_keywords WHERE mailbox_id = ?2";
	uint64_t new_id, new_modseq, inbox_modseq;
	enum store_error err = store_mailbox_insert(u, new_name, 0, &new_id, error_r);
	if (err == STORE_OK)
		err = store_mailbox_next_modseq(u, new_id, &new_modseq, error_r);
	if (err != STORE_OK)
		return err;
	sqlite3_stmt *st = store_db_stmt(u, sql_move, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)new_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)new_modseq);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)inbox->id);
	err = store_db_step_done(u, st, "move inbox messages", error_r);
	if (err != STORE_OK)
		return err;
	st = store_db_stmt(u, sql_counters, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)new_id);
	sqlite3_bind_int64(st, 2, inbox->uidnext);
	sqlite3_bind_int64(st, 3, inbox->recent_uid);
	err = store_db_step_done(u, st, "set renamed counters", error_r);
	if (err != STORE_OK)
		return err;
	st = store_db_stmt(u, sql_keywords, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)new_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)inbox->id);
	err = store_db_step_done(u, st, "copy keywords", error_r);
	if (err != STORE_OK)
		return err;
	uint32_t *uids;
	size_t count;
	const char **hashes;
	size_t hash_count;
	err = store_msg_all_uids(u, inbox->id, a, &uids, &count, error_r);
	if (err == STORE_OK && count > 0) {
		err = store_mailbox_next_modseq(u, inbox->id, &inbox_modseq, error_r);
		if (err == STORE_OK)
			err = store_msg_delete_rows(u, inbox->id, uids, count,
						    inbox_modseq, true, a, &hashes,
						    &hash_count, error_r);
		store_change_note(u, inbox->id, STORE_CHANGE_EXPUNGE);
	}
	return err;
}

static enum store_error store_mailbox_rename_tree(struct store_user *u,
						  const char *old_name,
						  const char *new_name,
						  const char **error_r)
{
	/* length() and substr() both count characters, so the suffix after
	 * old_name is cut correctly for any UTF-8 name. */
	static const char sql[] =
		"UPDATE mailboxes SET name = ?2 || substr(name, length(?1) + 1),"
		" generation = generation + 1"
		" WHERE name = ?1 OR (name > ?1 || '/' AND name < ?1 || '0')";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	store_db_bind_text(st, 1, old_name);
	store_db_bind_text(st, 2, new_name);
	enum store_error err = store_db_step_done(u, st, "rename", error_r);
	if (err == STORE_OK)
		err = store_mailbox_prune_ancestors(u, old_name, error_r);
	return err;
}

static bool store_name_is_inferior(const char *name, const char *ancestor)
{
	size_t len = strlen(ancestor);
	return strncmp(name, ancestor, len) == 0 &&
		name[len] == STORE_HIERARCHY_SEP;
}

static enum store_error store_mailbox_rename_locked(struct store_user *u,
						    const char *old_name,
						    const char *new_name,
						    struct arena *a,
						    const char **error_r)
{
	struct store_mailbox_row row, existing;
	bool inbox = store_name_is_inbox(old_name);
	enum store_error err = store_mailbox_need_name(u, old_name, &row, error_r);
	if (err != STORE_OK)
		return err;
	int ret = store_mailbox_row_by_name(u, new_name, &existing, &err, error_r);
	if (ret < 0)
		return err;
	if (ret == 1)
		return store_fail(STORE_ERR_ALREADYEXISTS, error_r,
				  "Target mailbox already exists");
	ret = store_mailbox_has_children(u, new_name, &err, error_r);
	if (ret < 0)
		return err;
	if (ret == 1)
		return store_fail(STORE_ERR_ALREADYEXISTS, error_r,
				  "Target mailbox name is in use");
	/* INBOX's inferiors do not move, so INBOX may go below itself. */
	if (!inbox && store_name_is_inferior(new_name, old_name))
		return store_fail(STORE_ERR_CANNOT, error_r,
				  "Cannot rename a mailbox into itself");
	if (inbox && row.noselect)
		return store_fail(STORE_ERR_CANNOT, error_r, "INBOX is not selectable");
	err = store_mailbox_create_parents(u, new_name, error_r);
	if (err != STORE_OK)
		return err;
	err = inbox ? store_mailbox_rename_inbox(u, &row, new_name, a, error_r) :
		store_mailbox_rename_tree(u, old_name, new_name, error_r);
	store_change_note(u, 0, STORE_CHANGE_MAILBOXES);
	return err;
}

enum store_error store_mailbox_rename(struct store_user *u,
				      const char *old_name,
				      const char *new_name,
				      const char **error_r)
{
	char *old_norm = store_name_normalize(old_name, error_r);
	if (old_norm == NULL)
		return STORE_ERR_INVALID;
	char *new_norm = store_name_normalize(new_name, error_r);
	if (new_norm == NULL) {
		free(old_norm);
		return STORE_ERR_INVALID;
	}
	struct arena *a = arena_new(0);
	enum store_error err = store_db_begin_write(u, error_r);
	if (err == STORE_OK)
		err = store_mailbox_rename_locked(u, old_norm, new_norm, a, error_r);
	free(old_norm);
	free(new_norm);
	arena_destroy(&a);
	if (err != STORE_OK)
		return store_db_rollback(u, err);
	return store_db_commit(u, error_r);
}

enum store_error store_mailbox_subscribe(struct store_user *u,
					 const char *name, bool subscribe,
					 const char **error_r)
{
	static const char sql_add[] =
		"INSERT OR IGNORE INTO subscriptions (name) VALUES (?)";
	static const char sql_remove[] = "DELETE FROM subscriptions WHERE name = ?";
	char *norm = store_name_normalize(name, error_r);
	if (norm == NULL)
		return STORE_ERR_INVALID;
	sqlite3_stmt *st = store_db_stmt(u, subscribe ? sql_add : sql_remove,
					 error_r);
	enum store_error err = STORE_ERR_INTERNAL;
	if (st != NULL) {
		store_db_bind_text(st, 1, norm);
		err = store_db_step_done(u, st, "subscribe", error_r);
	}
	free(norm);
	return err;
}

enum store_error store_mailbox_set_special_use(struct store_user *u,
					       const char *name,
					       unsigned special_use,
					       const char **error_r)
{
	static const char sql[] =
		"UPDATE mailboxes SET special_use = ?, generation = generation + 1"
		" WHERE id = ?";
	if ((special_use & ~STORE_SPECIAL_MASK) != 0)
		return store_fail(STORE_ERR_INVALID, error_r,
				  "Unknown special-use attribute");
	char *norm = store_name_normalize(name, error_r);
	if (norm == NULL)
		return STORE_ERR_INVALID;
	struct store_mailbox_row row;
	enum store_error err = store_db_begin_write(u, error_r);
	if (err == STORE_OK)
		err = store_mailbox_need_name(u, norm, &row, error_r);
	free(norm);
	if (err == STORE_OK && row.noselect)
		err = store_fail(STORE_ERR_CANNOT, error_r,
				 "Mailbox is not selectable");
	sqlite3_stmt *st = err == STORE_OK ? store_db_stmt(u, sql, error_r) : NULL;
	if (err == STORE_OK && st == NULL)
		err = STORE_ERR_INTERNAL;
	if (err == STORE_OK) {
		sqlite3_bind_int(st, 1, (int)special_use);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)row.id);
		err = store_db_step_done(u, st, "set special-use", error_r);
	}
	if (err != STORE_OK)
		return store_db_rollback(u, err);
	store_change_note(u, 0, STORE_CHANGE_MAILBOXES);
	return store_db_commit(u, error_r);
}

enum store_error store_mailbox_claim_recent_locked(struct store_user *u, uint64_t mailbox_id,
						  uint32_t recent_uid, uint32_t uidnext,
						  uint32_t *first_uid_r, uint32_t *end_uid_r,
						  const char **error_r)
{
	static const char sql[] = "UPDATE mailboxes SET recent_uid = ? WHERE id = ?";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, uidnext);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)mailbox_id);
	enum store_error err = store_db_step_done(u, st, "claim recent", error_r);
	if (err == STORE_OK) {
		*first_uid_r = recent_uid;
		*end_uid_r = uidnext;
	}
	return err;
}

enum store_error store_mailbox_claim_recent(struct store_user *u,
					    uint64_t mailbox_id,
					    uint32_t *first_uid_r,
					    uint32_t *end_uid_r,
					    const char **error_r)
{
	struct store_mailbox_row row;
	enum store_error err = store_db_begin_write(u, error_r);
	if (err == STORE_OK)
		err = store_mailbox_need_id(u, mailbox_id, &row, error_r);
	if (err == STORE_OK)
		err = store_mailbox_claim_recent_locked(u, mailbox_id, row.recent_uid, row.uidnext,
							first_uid_r, end_uid_r, error_r);
	if (err != STORE_OK)
		return store_db_rollback(u, err);
	return store_db_commit(u, error_r);
}

/* ---- The session view ---- */

/* Another's store: the reader's own \Seen replaces the shared one. */
static enum store_error store_view_overlay_seen(struct store_user *u, struct store_view *view,
						const char **error_r)
{
	struct arena *a = arena_new(0);
	uint32_t *seen;
	size_t seen_count;
	enum store_error err = store_seen_load(u, view->mailbox_id, a, &seen, &seen_count,
					       error_r);
	for (uint32_t i = 0; err == STORE_OK && i < view->count; i++)
		view->flags[i] = store_seen_overlay(seen, seen_count, view->uids[i],
						    view->flags[i]);
	arena_destroy(&a);
	return err;
}

enum store_error store_view_load(struct store_user *u, uint64_t mailbox_id,
				 struct store_view *view_r,
				 const char **error_r)
{
	struct store_mailbox_row row;
	memset(view_r, 0, sizeof(*view_r));
	enum store_error err = store_db_begin_read(u, error_r);
	if (err == STORE_OK)
		err = store_mailbox_need_id(u, mailbox_id, &row, error_r);
	if (err == STORE_OK && row.noselect)
		err = store_fail(STORE_ERR_CANNOT, error_r,
				 "Mailbox is not selectable");
	if (err == STORE_OK) {
		view_r->mailbox_id = mailbox_id;
		view_r->uidvalidity = row.uidvalidity;
		view_r->uidnext = row.uidnext;
		view_r->highestmodseq = row.highestmodseq;
		view_r->generation = row.generation;
		err = store_view_fill_cached(u, &row, view_r, error_r);
	}
	if (err == STORE_OK && u->viewer != NULL)
		err = store_view_overlay_seen(u, view_r, error_r);
	if (err == STORE_OK)
		err = store_db_commit(u, error_r);
	else
		store_db_rollback(u, err);
	if (err != STORE_OK)
		store_view_free(view_r);
	return err;
}

void store_view_free(struct store_view *view)
{
	free(view->uids);
	free(view->flags);
	free(view->modseqs);
	memset(view, 0, sizeof(*view));
}

/* ---- CONDSTORE / QRESYNC ---- */

static enum store_error store_changes_flags(struct store_user *u,
					    uint64_t mailbox_id, uint64_t since,
					    struct arena *a,
					    struct store_changes *changes,
					    const char **error_r)
{
	static const char sql[] =
		"SELECT uid, flags, keywords, modseq FROM messages"
		" WHERE mailbox_id = ? AND modseq > ? ORDER BY uid";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)since);
	size_t cap = 16;
	struct store_msg_flags *list = arena_alloc(a, cap * sizeof(*list));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		list = arena_grow(a, list, changes->changed_count, &cap, sizeof(*list));
		struct store_msg_flags *m = &list[changes->changed_count++];
		m->uid = (uint32_t)sqlite3_column_int64(st, 0);
		m->flags = (uint32_t)sqlite3_column_int(st, 1);
		store_keywords_split(a, (const char *)sqlite3_column_text(st, 2),
				     &m->keywords, &m->keyword_count);
		m->modseq = (uint64_t)sqlite3_column_int64(st, 3);
		m->changed = true;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(u, rc, "read changes", error_r);
	changes->changed = list;
	if (u->viewer != NULL && changes->changed_count > 0) {
		uint32_t *seen;
		size_t seen_count;
		enum store_error err = store_seen_load(u, mailbox_id, a, &seen, &seen_count,
						       error_r);
		if (err != STORE_OK)
			return err;
		for (size_t i = 0; i < changes->changed_count; i++)
			list[i].flags = store_seen_overlay(seen, seen_count, list[i].uid,
							   list[i].flags);
	}
	return STORE_OK;
}

static enum store_error store_changes_vanished(struct store_user *u,
					       uint64_t mailbox_id,
					       uint64_t since, struct arena *a,
					       struct store_changes *changes,
					       const char **error_r)
{
	static const char sql[] =
		"SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ?"
		" ORDER BY uid";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)since);
	return store_db_uids(u, st, 0, a, "read expunge log", &changes->vanished,
			     &changes->vanished_count, error_r);
}

/* With an incomplete expunge log: every UID that exists, in the same
 * snapshot, so that callers can tell exactly which UIDs are gone. */
static enum store_error store_changes_present(struct store_user *u,
					      const struct store_mailbox_row *row,
					      struct arena *a, struct store_changes *changes,
					      const char **error_r)
{
	static const char sql[] = "SELECT uid FROM messages WHERE mailbox_id = ? ORDER BY uid";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)row->id);
	/* The counter is read in the same snapshot; growing only guards
	 * against a corrupt one. */
	return store_db_uids(u, st, row->messages, a, "read uids", &changes->present,
			     &changes->present_count, error_r);
}

enum store_error store_mailbox_changes(struct store_user *u,
				       uint64_t mailbox_id,
				       uint64_t since_modseq, struct arena *a,
				       struct store_changes *changes_r,
				       const char **error_r)
{
	struct store_mailbox_row row;
	memset(changes_r, 0, sizeof(*changes_r));
	enum store_error err = store_db_begin_read(u, error_r);
	if (err == STORE_OK)
		err = store_mailbox_need_id(u, mailbox_id, &row, error_r);
	if (err == STORE_OK)
		err = store_changes_flags(u, mailbox_id, since_modseq, a, changes_r,
					  error_r);
	if (err == STORE_OK)
		err = store_changes_vanished(u, mailbox_id, since_modseq, a,
					     changes_r, error_r);
	changes_r->vanished_incomplete = since_modseq < row.expunge_floor;
	if (err == STORE_OK && changes_r->vanished_incomplete)
		err = store_changes_present(u, &row, a, changes_r, error_r);
	if (err != STORE_OK)
		return store_db_rollback(u, err);
	changes_r->highestmodseq = row.highestmodseq;
	return store_db_commit(u, error_r);
}

enum store_error store_mailbox_compact_expunges(struct store_user *u,
						uint64_t mailbox_id,
						uint64_t up_to_modseq,
						const char **error_r)
{
	struct store_mailbox_row row;
	enum store_error err = store_db_begin_write(u, error_r);
	if (err == STORE_OK)
		err = store_mailbox_need_id(u, mailbox_id, &row, error_r);
	if (err == STORE_OK)
		err = store_explog_forget(u, mailbox_id,
					  up_to_modseq < row.highestmodseq ? up_to_modseq :
					  row.highestmodseq, error_r);
	if (err != STORE_OK)
		return store_db_rollback(u, err);
	return store_db_commit(u, error_r);
}
