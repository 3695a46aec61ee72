/* Bulk reads of per-message rows, for SEARCH keys that need the row of
 * every message (dates, sizes, keywords): one query instead of one
 * lookup per message. */

#include "store/store-private.h"
#include "lib/arena.h"

#include <string.h>

static enum store_error store_rows_fill(struct store_user *u, uint64_t mailbox_id,
					struct arena *a, struct store_msg_row **rows_r,
					size_t *count_r, const char **error_r)
{
	static const char count_sql[] = "SELECT messages FROM mailboxes WHERE id = ?1";
	static const char rows_sql[] =
		"SELECT uid, size, internal_date, tz_offset, keywords, flags, modseq FROM messages"
		" WHERE mailbox_id = ?1 ORDER BY uid";
	sqlite3_stmt *st = store_db_stmt(u, count_sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	int64_t expected = 0;
	enum store_error err = STORE_OK;
	int found = store_db_int(u, st, &expected, &err, error_r);
	if (found < 0)
		return err;
	if (found == 0)
		return store_fail(STORE_ERR_NONEXISTENT, error_r, "No such mailbox");
	st = store_db_stmt(u, rows_sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	size_t cap = expected > 0 ? (size_t)expected : 1, n = 0;
	struct store_msg_row *rows = arena_alloc(a, cap * sizeof(*rows));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* The count is read in the same transaction, so this only
		 * guards against a corrupt counter. */
		rows = arena_grow(a, rows, n, &cap, sizeof(*rows));
		struct store_msg_row *r = &rows[n++];
		r->uid = (uint32_t)sqlite3_column_int64(st, 0);
		r->size = (uint64_t)sqlite3_column_int64(st, 1);
		r->internal_date = sqlite3_column_int64(st, 2);
		r->tz_offset_min = sqlite3_column_int(st, 3);
		r->flags = (uint32_t)sqlite3_column_int64(st, 5);
		r->modseq = (uint64_t)sqlite3_column_int64(st, 6);
		const char *kw = (const char *)sqlite3_column_text(st, 4);
		r->keywords = NULL;
		r->keyword_count = 0;
		if (kw != NULL && *kw != '\0')
			store_keywords_split(a, kw, &r->keywords, &r->keyword_count);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(u, rc, "read message rows", error_r);
	if (u->viewer != NULL) {
		uint32_t *seen;
		size_t seen_count;
		err = store_seen_load(u, mailbox_id, a, &seen, &seen_count, error_r);
		if (err != STORE_OK)
			return err;
		for (size_t i = 0; i < n; i++)
			rows[i].flags = store_seen_overlay(seen, seen_count, rows[i].uid,
							   rows[i].flags);
	}
	*rows_r = rows;
	*count_r = n;
	return STORE_OK;
}

enum store_error store_mailbox_rows(struct store_user *u, uint64_t mailbox_id, struct arena *a,
				    struct store_msg_row **rows_r, size_t *count_r,
				    const char **error_r)
{
	enum store_error err = store_db_begin_read(u, error_r);
	if (err != STORE_OK)
		return err;
	err = store_rows_fill(u, mailbox_id, a, rows_r, count_r, error_r);
	if (err == STORE_OK)
		return store_db_commit(u, error_r);
	return store_db_rollback(u, err);
}

const struct store_msg_row *store_msg_row_find(const struct store_msg_row *rows, size_t count,
					       uint32_t uid)
{
	size_t lo = 0, hi = count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rows[mid].uid < uid)
			lo = mid + 1;
		else if (rows[mid].uid > uid)
			hi = mid;
		else
			return &rows[mid];
	}
	return NULL;
}
