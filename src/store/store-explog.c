/* The expunge log and its compaction. Every expunge is logged with its
 * MODSEQ (store_msg_delete_rows) so that QRESYNC can answer VANISHED
 * (RFC 7162 §3.2.5.1). The log would grow forever, so after each expunge
 * the mailbox's log is trimmed to the configured limits. Trimming removes
 * the oldest entries, always every entry up to some MODSEQ, and raises the
 * mailbox's expunge floor to that MODSEQ: a client asking about changes
 * since a MODSEQ below the floor is told the log is incomplete
 * (store_changes.vanished_incomplete) and answered from the list of UIDs
 * that exist, so compaction can cost bandwidth but never a wrong answer. */

#include "store/store-explog.h"

#include <time.h>

static unsigned store_explog_max_age_s = STORE_EXPUNGE_LOG_MAX_AGE_DEFAULT;
static unsigned store_explog_max_entries = STORE_EXPUNGE_LOG_MAX_ENTRIES_DEFAULT;

void store_set_expunge_log_limits(unsigned max_age_s, unsigned max_entries)
{
	store_explog_max_age_s = max_age_s;
	store_explog_max_entries = max_entries;
}

/* The entries of one expunge share its MODSEQ; they get one timestamp, the
 * age the age limit is measured by. */
static enum store_error store_explog_stamp(struct store_user *u, uint64_t mailbox_id,
					   uint64_t modseq, int64_t now, const char **error_r)
{
	static const char sql[] =
		"UPDATE expunged SET expunged_at = ?3 WHERE mailbox_id = ?1 AND modseq = ?2";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)modseq);
	sqlite3_bind_int64(st, 3, now);
	return store_db_step_done(u, st, "stamp expunges", error_r);
}

/* Adds count to the mailbox's entry counter (kept so that the count limit
 * costs no count(*)) and returns the new value. */
static enum store_error store_explog_count_add(struct store_user *u, uint64_t mailbox_id,
					       size_t count, int64_t *rows_r,
					       const char **error_r)
{
	static const char add[] =
		"UPDATE mailboxes SET expunge_log_rows = expunge_log_rows + ?2 WHERE id = ?1";
	static const char read[] = "SELECT expunge_log_rows FROM mailboxes WHERE id = ?1";
	enum store_error err = STORE_OK;
	int ret = store_db_update_read(u, add, read, (int64_t)mailbox_id, (int64_t)count, rows_r,
				       &err, error_r);
	if (ret == 0)
		return store_fail(STORE_ERR_NONEXISTENT, error_r, "Mailbox does not exist");
	return ret < 0 ? err : STORE_OK;
}

/* Sets the counter to the exact number of entries (repairs a counter that
 * drifted, e.g. in a store written before the counter existed). */
static enum store_error store_explog_recount(struct store_user *u, uint64_t mailbox_id,
					     const char **error_r)
{
	static const char sql[] =
		"UPDATE mailboxes SET expunge_log_rows ="
		" (SELECT count(*) FROM expunged WHERE mailbox_id = ?1) WHERE id = ?1";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	return store_db_step_done(u, st, "recount expunges", error_r);
}

/* The MODSEQ up to which entries must go so that at most max remain:
 * that of the (rows - max)-th oldest entry. 0 when nothing must go. The
 * index walk is as long as the number of entries to remove. */
static enum store_error store_explog_cut_by_count(struct store_user *u, uint64_t mailbox_id,
						  int64_t rows, unsigned max, uint64_t *cut_r,
						  const char **error_r)
{
	static const char sql[] =
		"SELECT modseq FROM expunged WHERE mailbox_id = ?1 ORDER BY modseq"
		" LIMIT 1 OFFSET ?2";
	*cut_r = 0;
	if (max == 0 || rows <= (int64_t)max)
		return STORE_OK;
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	sqlite3_bind_int64(st, 2, rows - (int64_t)max - 1);
	int64_t modseq = 0;
	enum store_error err = STORE_OK;
	int ret = store_db_int(u, st, &modseq, &err, error_r);
	if (ret < 0)
		return err;
	if (ret == 0) /* fewer entries than counted */
		return store_explog_recount(u, mailbox_id, error_r);
	*cut_r = (uint64_t)modseq;
	return STORE_OK;
}

/* Raises *cut_r to the MODSEQ of the last entry logged before older_than,
 * walking from the oldest entry above *cut_r and stopping at the first
 * younger one: the walk is as long as the number of entries to remove. */
static enum store_error store_explog_cut_by_age(struct store_user *u, uint64_t mailbox_id,
						int64_t older_than, uint64_t *cut_r,
						const char **error_r)
{
	static const char sql[] =
		"SELECT modseq, expunged_at FROM expunged WHERE mailbox_id = ?1"
		" AND modseq > ?2 ORDER BY modseq";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)*cut_r);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_int64(st, 1) >= older_than)
			break;
		*cut_r = (uint64_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_fail(u, rc, "read expunge log", error_r);
	return STORE_OK;
}

enum store_error store_explog_forget(struct store_user *u, uint64_t mailbox_id, uint64_t up_to,
				     const char **error_r)
{
	static const char sql_delete[] =
		"DELETE FROM expunged WHERE mailbox_id = ?1 AND modseq <= ?2";
	static const char sql_floor[] =
		"UPDATE mailboxes SET expunge_floor = max(expunge_floor, ?2),"
		" expunge_log_rows = max(expunge_log_rows - ?3, 0) WHERE id = ?1";
	sqlite3_stmt *st = store_db_stmt(u, sql_delete, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)up_to);
	enum store_error err = store_db_step_done(u, st, "compact expunges", error_r);
	if (err != STORE_OK)
		return err;
	int removed = sqlite3_changes(u->db);
	st = store_db_stmt(u, sql_floor, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)up_to);
	sqlite3_bind_int64(st, 3, removed);
	return store_db_step_done(u, st, "set expunge floor", error_r);
}

enum store_error store_explog_note(struct store_user *u, uint64_t mailbox_id, uint64_t modseq,
				   size_t count, const char **error_r)
{
	int64_t now = (int64_t)time(NULL);
	int64_t rows = 0;
	uint64_t cut = 0;
	enum store_error err = store_explog_stamp(u, mailbox_id, modseq, now, error_r);
	if (err == STORE_OK)
		err = store_explog_count_add(u, mailbox_id, count, &rows, error_r);
	if (err == STORE_OK)
		err = store_explog_cut_by_count(u, mailbox_id, rows, store_explog_max_entries, &cut,
						error_r);
	if (err == STORE_OK && store_explog_max_age_s > 0)
		err = store_explog_cut_by_age(u, mailbox_id, now - (int64_t)store_explog_max_age_s,
					      &cut, error_r);
	if (err == STORE_OK && cut > 0)
		err = store_explog_forget(u, mailbox_id, cut, error_r);
	return err;
}
