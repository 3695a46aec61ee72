/* QUOTA (RFC 9208): the user's limits, checked against the exact usage
 * counters in the account row; and the import ledger of petrel import. */

#include "store/store-private.h"

#include <time.h>

/* The account row: usage and limits (NULL limits: none). */
static enum store_error store_quota_read(struct store_user *u,
					 struct store_quota *quota_r,
					 const char **error_r)
{
	static const char sql[] =
		"SELECT bytes, messages, quota_storage_kib, quota_messages"
		" FROM account WHERE id = 1";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return store_db_fail(u, rc, "read quota", error_r);
	}
	*quota_r = (struct store_quota){
		.storage_bytes = (uint64_t)sqlite3_column_int64(st, 0),
		.messages = (uint64_t)sqlite3_column_int64(st, 1),
		.has_storage_limit = sqlite3_column_type(st, 2) != SQLITE_NULL,
		.storage_limit_kib = (uint64_t)sqlite3_column_int64(st, 2),
		.has_message_limit = sqlite3_column_type(st, 3) != SQLITE_NULL,
		.message_limit = (uint64_t)sqlite3_column_int64(st, 3),
	};
	sqlite3_reset(st);
	return STORE_OK;
}

/* The rule of store_quota_check: only a resource that grows can go over
 * its limit, so MOVE, EXPUNGE and flag changes always work, and a user
 * over a limit that was lowered can still clean up. */
static enum store_error store_quota_judge(const struct store_quota *q,
					  uint64_t add_bytes,
					  uint64_t add_messages,
					  const char **error_r)
{
	if (add_bytes > 0 && q->has_storage_limit &&
	    (q->storage_bytes + add_bytes < q->storage_bytes ||
	     q->storage_bytes + add_bytes > q->storage_limit_kib * 1024))
		return store_fail(STORE_ERR_OVERQUOTA, error_r,
				  "Quota exceeded (storage limit %llu KiB)",
				  (unsigned long long)q->storage_limit_kib);
	if (add_messages > 0 && q->has_message_limit &&
	    (q->messages + add_messages < q->messages ||
	     q->messages + add_messages > q->message_limit))
		return store_fail(STORE_ERR_OVERQUOTA, error_r,
				  "Quota exceeded (message limit %llu)",
				  (unsigned long long)q->message_limit);
	return STORE_OK;
}

enum store_error store_quota_need_room(struct store_user *u, uint64_t add_bytes,
				       uint64_t add_messages, const char **error_r)
{
	if (add_bytes == 0 && add_messages == 0)
		return STORE_OK;
	struct store_quota q;
	enum store_error err = store_quota_read(u, &q, error_r);
	if (err != STORE_OK)
		return err;
	return store_quota_judge(&q, add_bytes, add_messages, error_r);
}

enum store_error store_quota_get(struct store_user *u,
				 struct store_quota *quota_r,
				 const char **error_r)
{
	enum store_error err = store_db_begin_read(u, error_r);
	if (err != STORE_OK)
		return err;
	err = store_quota_read(u, quota_r, error_r);
	if (err != STORE_OK)
		return store_db_rollback(u, err);
	return store_db_commit(u, error_r);
}

enum store_error store_quota_set(struct store_user *u,
				 const struct store_quota *limits,
				 const char **error_r)
{
	static const char sql[] =
		"UPDATE account SET quota_storage_kib = ?, quota_messages = ?"
		" WHERE id = 1";
	if (limits->has_storage_limit &&
	    limits->storage_limit_kib > (uint64_t)STORE_QUOTA_STORAGE_KIB_MAX)
		return store_fail(STORE_ERR_INVALID, error_r,
				  "Storage limit too large");
	if (limits->has_message_limit && limits->message_limit > (uint64_t)INT64_MAX)
		return store_fail(STORE_ERR_INVALID, error_r,
				  "Message limit too large");
	enum store_error err = store_db_begin_write(u, error_r);
	if (err != STORE_OK)
		return err;
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return store_db_rollback(u, STORE_ERR_INTERNAL);
	if (limits->has_storage_limit)
		sqlite3_bind_int64(st, 1, (sqlite3_int64)limits->storage_limit_kib);
	else
		sqlite3_bind_null(st, 1);
	if (limits->has_message_limit)
		sqlite3_bind_int64(st, 2, (sqlite3_int64)limits->message_limit);
	else
		sqlite3_bind_null(st, 2);
	err = store_db_step_done(u, st, "set quota", error_r);
	if (err != STORE_OK)
		return store_db_rollback(u, err);
	return store_db_commit(u, error_r);
}

enum store_error store_quota_check(struct store_user *u, uint64_t extra_bytes,
				   uint64_t extra_messages, const char **error_r)
{
	struct store_quota q;
	enum store_error err = store_quota_get(u, &q, error_r);
	if (err != STORE_OK)
		return err;
	return store_quota_judge(&q, extra_bytes, extra_messages, error_r);
}

/* ---- Import ledger ---- */

enum store_error store_import_known(struct store_user *u, const char *key,
				   bool *known_r, const char **error_r)
{
	static const char sql[] = "SELECT 1 FROM import_ledger WHERE key = ?";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	store_db_bind_text(st, 1, key);
	int64_t one;
	enum store_error err = STORE_OK;
	int ret = store_db_int(u, st, &one, &err, error_r);
	if (ret < 0)
		return err;
	*known_r = ret == 1;
	return STORE_OK;
}

enum store_error store_import_record(struct store_user *u, const char *key,
				     uint64_t mailbox_id, uint32_t uid,
				     const char **error_r)
{
	/* OR IGNORE: two imports of the same source running at once both
	 * store the message; the ledger keeps the first. */
	static const char sql[] =
		"INSERT OR IGNORE INTO import_ledger (key, mailbox_id, uid,"
		" imported_at) VALUES (?, ?, ?, ?)";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	store_db_bind_text(st, 1, key);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)mailbox_id);
	sqlite3_bind_int64(st, 3, uid);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
	return store_db_step_done(u, st, "record import", error_r);
}
