/* Per-reader \Seen (store.h, store_user_set_viewer): in a store read by
 * someone other than its owner, \Seen lives in user_seen, one row per
 * (message, reader), while messages.flags keeps the owner's own \Seen and
 * the shared flags. Rows go away with their message (schema trigger). */

#include "store/store-private.h"

#include "lib/arena.h"
#include "lib/xalloc.h"

#include <string.h>

void store_user_set_viewer(struct store_user *u, const char *viewer)
{
	free(u->viewer);
	u->viewer = NULL;
	/* The owner of a personal store reads the shared flag; the public
	 * store has no owner, so everyone is a viewer there. */
	if (viewer != NULL && (store_user_is_public(u) || strcmp(viewer, u->name) != 0))
		u->viewer = xstrdup(viewer);
}

enum store_error store_seen_load(struct store_user *u, uint64_t mailbox_id, struct arena *a,
				 uint32_t **uids_r, size_t *count_r, const char **error_r)
{
	static const char sql[] =
		"SELECT uid FROM user_seen WHERE mailbox_id = ?1 AND user = ?2 ORDER BY uid";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	store_db_bind_text(st, 2, u->viewer);
	return store_db_uids(u, st, 0, a, "read seen", uids_r, count_r, error_r);
}

uint32_t store_seen_overlay(const uint32_t *seen, size_t count, uint32_t uid, uint32_t flags)
{
	size_t lo = 0, hi = count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (seen[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	bool is_seen = lo < count && seen[lo] == uid;
	return (flags & ~STORE_FLAG_SEEN) | (is_seen ? STORE_FLAG_SEEN : 0);
}

enum store_error store_seen_get(struct store_user *u, uint64_t mailbox_id, uint32_t uid,
				bool *seen_r, const char **error_r)
{
	static const char sql[] =
		"SELECT 1 FROM user_seen WHERE mailbox_id = ?1 AND uid = ?2 AND user = ?3";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	sqlite3_bind_int64(st, 2, uid);
	store_db_bind_text(st, 3, u->viewer);
	int64_t one;
	enum store_error err = STORE_OK;
	int ret = store_db_int(u, st, &one, &err, error_r);
	if (ret < 0)
		return err;
	*seen_r = ret == 1;
	return STORE_OK;
}

enum store_error store_seen_put(struct store_user *u, uint64_t mailbox_id, uint32_t uid,
				bool seen, const char **error_r)
{
	static const char sql_add[] =
		"INSERT OR IGNORE INTO user_seen (mailbox_id, uid, user) VALUES (?1, ?2, ?3)";
	static const char sql_remove[] =
		"DELETE FROM user_seen WHERE mailbox_id = ?1 AND uid = ?2 AND user = ?3";
	sqlite3_stmt *st = store_db_stmt(u, seen ? sql_add : sql_remove, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	sqlite3_bind_int64(st, 2, uid);
	store_db_bind_text(st, 3, u->viewer);
	return store_db_step_done(u, st, "write seen", error_r);
}

enum store_error store_seen_count(struct store_user *u, uint64_t mailbox_id, uint32_t *count_r,
				  const char **error_r)
{
	static const char sql[] =
		"SELECT count(*) FROM user_seen WHERE mailbox_id = ?1 AND user = ?2";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	store_db_bind_text(st, 2, u->viewer);
	int64_t n = 0;
	enum store_error err = STORE_OK;
	if (store_db_int(u, st, &n, &err, error_r) < 0)
		return err;
	*count_r = (uint32_t)n;
	return STORE_OK;
}

enum store_error store_seen_first_unseen(struct store_user *u, uint64_t mailbox_id,
					 int64_t *uid_r, const char **error_r)
{
	static const char sql[] =
		"SELECT m.uid FROM messages m WHERE m.mailbox_id = ?1 AND NOT EXISTS"
		" (SELECT 1 FROM user_seen s WHERE s.mailbox_id = m.mailbox_id"
		"  AND s.uid = m.uid AND s.user = ?2) ORDER BY m.uid LIMIT 1";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	store_db_bind_text(st, 2, u->viewer);
	enum store_error err = STORE_OK;
	int ret = store_db_int(u, st, uid_r, &err, error_r);
	if (ret < 0)
		return err;
	if (ret == 0)
		*uid_r = 0;
	return STORE_OK;
}

enum store_error store_seen_copy(struct store_user *u, uint64_t src_id, uint32_t src_uid,
				 uint64_t dst_id, uint32_t dst_uid, const char **error_r)
{
	bool seen;
	enum store_error err = store_seen_get(u, src_id, src_uid, &seen, error_r);
	if (err == STORE_OK && seen)
		err = store_seen_put(u, dst_id, dst_uid, true, error_r);
	return err;
}
