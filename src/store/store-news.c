/* The news feed's part of the store: high-water marks per newsgroup,
 * finding an article by Message-ID (single-instance cross-posts), and
 * expiry. */

#include "store/store-private.h"

#include "lib/arena.h"

#include <string.h>

enum store_error store_news_mark_get(struct store_user *u, const char *newsgroup,
				     uint64_t *high_r, const char **error_r)
{
	static const char sql[] = "SELECT high FROM news_marks WHERE newsgroup = ?";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	store_db_bind_text(st, 1, newsgroup);
	int64_t high = 0;
	enum store_error err = STORE_OK;
	if (store_db_int(u, st, &high, &err, error_r) < 0)
		return err;
	*high_r = high > 0 ? (uint64_t)high : 0;
	return STORE_OK;
}

enum store_error store_news_mark_set(struct store_user *u, const char *newsgroup,
				     uint64_t high, const char **error_r)
{
	static const char sql[] =
		"INSERT INTO news_marks (newsgroup, high) VALUES (?1, ?2)"
		" ON CONFLICT (newsgroup) DO UPDATE SET high = ?2";
	if (high > (uint64_t)INT64_MAX)
		return store_fail(STORE_ERR_INVALID, error_r, "Article number out of range");
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	store_db_bind_text(st, 1, newsgroup);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)high);
	/* One statement: SQLite commits it on its own (autocommit), or it
	 * joins the caller's transaction (store_append.news_group). */
	return store_db_step_done(u, st, "set news mark", error_r);
}

enum store_error store_news_find(struct store_user *u, const char *message_id, struct arena *a,
				 struct store_news_hit **hits_r, size_t *count_r,
				 const char **error_r)
{
	static const char sql[] =
		"SELECT m.mailbox_id, m.uid FROM emails e JOIN messages m ON m.email_id = e.id"
		" WHERE e.message_id = ? ORDER BY m.mailbox_id, m.uid";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	store_db_bind_text(st, 1, message_id);
	size_t count = 0, cap = 4;
	struct store_news_hit *hits = arena_alloc(a, cap * sizeof(*hits));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		hits = arena_grow(a, hits, count, &cap, sizeof(*hits));
		hits[count].mailbox_id = (uint64_t)sqlite3_column_int64(st, 0);
		hits[count].uid = (uint32_t)sqlite3_column_int64(st, 1);
		count++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(u, rc, "find message-id", error_r);
	*hits_r = hits;
	*count_r = count;
	return STORE_OK;
}

/* UIDs of the mailbox's messages that arrived (INTERNALDATE) before
 * `before`, ascending, from a. */
static enum store_error store_news_old_uids(struct store_user *u, uint64_t mailbox_id,
					    int64_t before, struct arena *a, uint32_t **uids_r,
					    size_t *count_r, const char **error_r)
{
	static const char sql[] =
		"SELECT uid FROM messages WHERE mailbox_id = ? AND internal_date < ?"
		" ORDER BY uid";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	sqlite3_bind_int64(st, 2, before);
	return store_db_uids(u, st, 0, a, "select expired articles", uids_r, count_r, error_r);
}

static enum store_error store_news_expire_locked(struct store_user *u, uint64_t mailbox_id,
						 int64_t before, struct arena *a,
						 uint32_t **uids_r, size_t *count_r,
						 const char ***hashes_r, size_t *hash_count_r,
						 const char **error_r)
{
	struct store_mailbox_row row;
	enum store_error err = STORE_OK;
	int found = store_mailbox_row_by_id(u, mailbox_id, &row, &err, error_r);
	if (found < 0)
		return err;
	if (found == 0)
		return store_fail(STORE_ERR_NONEXISTENT, error_r, "Mailbox does not exist");
	if (row.noselect)
		return store_fail(STORE_ERR_CANNOT, error_r, "Mailbox is not selectable");
	err = store_news_old_uids(u, mailbox_id, before, a, uids_r, count_r, error_r);
	if (err != STORE_OK || *count_r == 0)
		return err;
	uint64_t modseq;
	err = store_mailbox_next_modseq(u, mailbox_id, &modseq, error_r);
	/* Logged (log = true) so that QRESYNC clients learn of it through
	 * VANISHED, as after an EXPUNGE (RFC 7162 §3.2.5.1). */
	if (err == STORE_OK)
		err = store_msg_delete_rows(u, mailbox_id, *uids_r, *count_r, modseq, true, a,
					    hashes_r, hash_count_r, error_r);
	store_change_note(u, mailbox_id, STORE_CHANGE_EXPUNGE);
	return err;
}

enum store_error store_news_expire(struct store_user *u, uint64_t mailbox_id, int64_t before,
				   struct arena *a, uint32_t **uids_r, size_t *count_r,
				   const char **error_r)
{
	const char **hashes = NULL;
	size_t hash_count = 0;
	*uids_r = NULL;
	*count_r = 0;
	enum store_error err = store_db_begin_write(u, error_r);
	if (err == STORE_OK)
		err = store_news_expire_locked(u, mailbox_id, before, a, uids_r, count_r, &hashes,
					       &hash_count, error_r);
	if (err != STORE_OK) {
		*uids_r = NULL;
		*count_r = 0;
		return store_db_rollback(u, err);
	}
	err = store_db_commit(u, error_r);
	if (err == STORE_OK)
		store_blobs_release(u, hashes, hash_count);
	return err;
}
