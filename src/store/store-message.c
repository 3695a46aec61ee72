/* Messages: APPEND, STORE, COPY, MOVE and EXPUNGE (reading them is
 * store-message-read.c). */

#include "store/store-private.h"
#include "store/store-explog.h"
#include "store/store-fts.h"

#include "lib/arena.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* One message row as the multi-message operations need it. */
struct store_row {
	uint32_t uid;
	uint32_t flags;
	const char *keywords;
	uint64_t modseq;
	int64_t email_id;
	int64_t internal_date;
	int tz_offset;
	int64_t save_date;
	uint64_t size;
};

/* ---- Keywords ---- */

/* RFC 9051 §9: flag-keyword = atom; the store refuses anything that could
 * not be sent back as one (atom-specials, non-ASCII, a leading '\'). */
static bool store_keyword_valid(const char *kw)
{
	if (*kw == '\0')
		return false;
	for (const unsigned char *p = (const unsigned char *)kw; *p != '\0'; p++) {
		if (*p <= 0x20 || *p >= 0x7f || strchr("(){%*\"\\]", *p) != NULL)
			return false;
	}
	return true;
}

static enum store_error store_keywords_check(const char *const *keywords,
					     size_t count, const char **error_r)
{
	for (size_t i = 0; i < count; i++) {
		if (!store_keyword_valid(keywords[i]))
			return store_fail(STORE_ERR_INVALID, error_r,
					  "Invalid keyword");
	}
	return STORE_OK;
}

void store_keywords_split(struct arena *a, const char *s,
			  const char ***keywords_r, size_t *count_r)
{
	size_t count = 0;
	if (s == NULL)
		s = "";
	for (const char *p = s; *p != '\0'; p++) {
		if (*p != ' ' && (p == s || p[-1] == ' '))
			count++;
	}
	const char **list = arena_alloc(a, (count + 1) * sizeof(*list));
	size_t i = 0;
	const char *p = s;
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		const char *end = strchr(p, ' ');
		size_t len = end == NULL ? strlen(p) : (size_t)(end - p);
		list[i++] = arena_strndup(a, p, len);
		p += len;
	}
	*keywords_r = list;
	*count_r = count;
}

static bool store_keyword_in(const char *kw, const char *const *list,
			     size_t count)
{
	/* Keywords match case-insensitively, as flags do in IMAP. */
	for (size_t i = 0; i < count; i++) {
		if (strcasecmp(kw, list[i]) == 0)
			return true;
	}
	return false;
}

/* Joins keywords (dropping case-insensitive duplicates) into a string from
 * a. */
static const char *store_keywords_join(struct arena *a,
				       const char *const *list, size_t count)
{
	size_t total = 1;
	for (size_t i = 0; i < count; i++)
		total += strlen(list[i]) + 1;
	char *out = arena_alloc(a, total);
	size_t len = 0;
	for (size_t i = 0; i < count; i++) {
		if (store_keyword_in(list[i], list, i))
			continue;
		if (len > 0)
			out[len++] = ' ';
		size_t n = strlen(list[i]);
		memcpy(out + len, list[i], n);
		len += n;
	}
	out[len] = '\0';
	return out;
}

static bool store_keyword_sets_equal(const char *const *x, size_t x_count,
				     const char *const *y, size_t y_count)
{
	for (size_t i = 0; i < x_count; i++) {
		if (!store_keyword_in(x[i], y, y_count))
			return false;
	}
	for (size_t i = 0; i < y_count; i++) {
		if (!store_keyword_in(y[i], x, x_count))
			return false;
	}
	return true;
}

/* The keyword string after applying change to current. */
static const char *store_keywords_apply(struct arena *a, const char *current,
					const struct store_flag_change *change)
{
	const char **have;
	size_t have_count;
	store_keywords_split(a, current, &have, &have_count);
	size_t max = have_count + change->keyword_count;
	const char **out = arena_alloc(a, (max + 1) * sizeof(*out));
	size_t n = 0;
	switch (change->op) {
	case STORE_FLAGS_REPLACE:
		for (size_t i = 0; i < change->keyword_count; i++)
			out[n++] = change->keywords[i];
		break;
	case STORE_FLAGS_ADD:
		for (size_t i = 0; i < have_count; i++)
			out[n++] = have[i];
		for (size_t i = 0; i < change->keyword_count; i++) {
			if (!store_keyword_in(change->keywords[i], have, have_count))
				out[n++] = change->keywords[i];
		}
		break;
	case STORE_FLAGS_REMOVE:
		for (size_t i = 0; i < have_count; i++) {
			if (!store_keyword_in(have[i], change->keywords,
					      change->keyword_count))
				out[n++] = have[i];
		}
		break;
	}
	return store_keywords_join(a, out, n);
}

static uint32_t store_flags_apply(uint32_t current,
				  const struct store_flag_change *change)
{
	uint32_t flags = change->flags & STORE_FLAGS_ALL;
	switch (change->op) {
	case STORE_FLAGS_REPLACE:
		return flags;
	case STORE_FLAGS_ADD:
		return current | flags;
	case STORE_FLAGS_REMOVE:
		return current & ~flags;
	}
	return current;
}

/* ---- UID ranges and row selection ---- */

static int store_range_cmp(const void *x, const void *y)
{
	const struct store_uid_range *a = x, *b = y;
	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return 0;
}

/* Sorted, merged copy of ranges (from a). */
static struct store_uid_range *store_ranges_merge(struct arena *a,
						  const struct store_uid_range *ranges,
						  size_t count, size_t *count_r)
{
	struct store_uid_range *sorted =
		arena_alloc(a, (count + 1) * sizeof(*sorted));
	size_t n = 0;
	for (size_t i = 0; i < count; i++) {
		if (ranges[i].first <= ranges[i].last)
			sorted[n++] = ranges[i];
	}
	qsort(sorted, n, sizeof(*sorted), store_range_cmp);
	size_t out = 0;
	for (size_t i = 0; i < n; i++) {
		if (out > 0 && (uint64_t)sorted[i].first <=
		    (uint64_t)sorted[out - 1].last + 1) {
			if (sorted[i].last > sorted[out - 1].last)
				sorted[out - 1].last = sorted[i].last;
		} else {
			sorted[out++] = sorted[i];
		}
	}
	*count_r = out;
	return sorted;
}

struct store_rows {
	struct store_row *rows;
	size_t count, cap;
};

static void store_rows_push(struct arena *a, struct store_rows *rows,
			    const struct store_row *row)
{
	if (rows->count == rows->cap) {
		size_t cap = rows->cap == 0 ? 64 : rows->cap * 2;
		struct store_row *bigger = arena_alloc(a, cap * sizeof(*bigger));
		if (rows->count > 0)
			memcpy(bigger, rows->rows, rows->count * sizeof(*bigger));
		rows->rows = bigger;
		rows->cap = cap;
	}
	rows->rows[rows->count++] = *row;
}

/* Rows of the mailbox within ranges (NULL: all), ascending by UID; with
 * only_deleted, just those with \Deleted. */
static enum store_error store_rows_select(struct store_user *u,
					  uint64_t mailbox_id,
					  const struct store_uid_range *ranges,
					  size_t range_count, bool only_deleted,
					  struct arena *a, struct store_rows *rows_r,
					  const char **error_r)
{
	static const char sql[] =
		"SELECT uid, flags, keywords, modseq, email_id, internal_date,"
		" tz_offset, save_date, size FROM messages"
		" WHERE mailbox_id = ?1 AND uid BETWEEN ?2 AND ?3"
		" AND (?4 = 0 OR (flags & 8) != 0) ORDER BY uid";
	static const struct store_uid_range all = { 1, UINT32_MAX };
	size_t merged_count = 1;
	const struct store_uid_range *merged = &all;
	if (ranges != NULL)
		merged = store_ranges_merge(a, ranges, range_count, &merged_count);
	memset(rows_r, 0, sizeof(*rows_r));
	for (size_t i = 0; i < merged_count; i++) {
		sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
		if (st == NULL)
			return STORE_ERR_INTERNAL;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
		sqlite3_bind_int64(st, 2, merged[i].first);
		sqlite3_bind_int64(st, 3, merged[i].last);
		sqlite3_bind_int(st, 4, only_deleted ? 1 : 0);
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct store_row row = {
				.uid = (uint32_t)sqlite3_column_int64(st, 0),
				.flags = (uint32_t)sqlite3_column_int(st, 1),
				.keywords = store_db_column_str(a, st, 2),
				.modseq = (uint64_t)sqlite3_column_int64(st, 3),
				.email_id = sqlite3_column_int64(st, 4),
				.internal_date = sqlite3_column_int64(st, 5),
				.tz_offset = sqlite3_column_int(st, 6),
				.save_date = sqlite3_column_int64(st, 7),
				.size = (uint64_t)sqlite3_column_int64(st, 8),
			};
			store_rows_push(a, rows_r, &row);
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return store_db_fail(u, rc, "select messages", error_r);
	}
	return STORE_OK;
}

enum store_error store_msg_all_uids(struct store_user *u, uint64_t mailbox_id,
				    struct arena *a, uint32_t **uids_r,
				    size_t *count_r, const char **error_r)
{
	struct store_rows rows;
	enum store_error err = store_rows_select(u, mailbox_id, NULL, 0, false, a,
						 &rows, error_r);
	if (err != STORE_OK)
		return err;
	uint32_t *uids = arena_alloc(a, (rows.count + 1) * sizeof(*uids));
	for (size_t i = 0; i < rows.count; i++)
		uids[i] = rows.rows[i].uid;
	*uids_r = uids;
	*count_r = rows.count;
	return STORE_OK;
}

/* ---- Deleting rows ---- */

static enum store_error store_msg_delete_one(struct store_user *u,
					     uint64_t mailbox_id, uint32_t uid,
					     uint64_t modseq, bool log,
					     int64_t *email_id_r,
					     const char **error_r)
{
	/* A SELECT and a DELETE by key, not DELETE ... RETURNING, which SQLite
	 * runs through a temporary table (see store_db_update_read). */
	static const char sql_email[] =
		"SELECT email_id FROM messages WHERE mailbox_id = ? AND uid = ?";
	static const char sql_delete[] =
		"DELETE FROM messages WHERE mailbox_id = ? AND uid = ?";
	static const char sql_log[] =
		"INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq)"
		" VALUES (?, ?, ?)";
	sqlite3_stmt *st = store_db_stmt(u, sql_email, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	sqlite3_bind_int64(st, 2, uid);
	enum store_error err = STORE_OK;
	*email_id_r = 0;
	int found = store_db_int(u, st, email_id_r, &err, error_r);
	if (found < 0)
		return err;
	if (found > 0) {
		st = store_db_stmt(u, sql_delete, error_r);
		if (st == NULL)
			return STORE_ERR_INTERNAL;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
		sqlite3_bind_int64(st, 2, uid);
		err = store_db_step_done(u, st, "expunge", error_r);
		if (err != STORE_OK)
			return err;
	}
	if (!log)
		return STORE_OK;
	/* RFC 7162 3.2.5.1: remembered so QRESYNC can answer VANISHED. */
	st = store_db_stmt(u, sql_log, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)modseq);
	return store_db_step_done(u, st, "log expunge", error_r);
}

/* Drops the email row if no message uses it; its hash goes to *hash_r
 * (NULL if still used). */
static enum store_error store_email_drop_unused(struct store_user *u,
					       int64_t email_id, struct arena *a,
					       const char **hash_r,
					       const char **error_r)
{
	/* A SELECT and a DELETE by key, not DELETE ... RETURNING (see
	 * store_msg_delete_one). */
	static const char sql_unused[] =
		"SELECT hash FROM emails WHERE id = ?1 AND NOT EXISTS"
		" (SELECT 1 FROM messages WHERE email_id = ?1)";
	static const char sql_delete[] = "DELETE FROM emails WHERE id = ?";
	sqlite3_stmt *st = store_db_stmt(u, sql_unused, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, email_id);
	int rc = sqlite3_step(st);
	*hash_r = rc == SQLITE_ROW ? store_db_column_str(a, st, 0) : NULL;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_fail(u, rc, "drop email", error_r);
	if (rc == SQLITE_DONE)
		return STORE_OK;
	st = store_db_stmt(u, sql_delete, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, email_id);
	enum store_error err = store_db_step_done(u, st, "drop email", error_r);
	if (err == STORE_OK)
		store_fts_note_dropped();
	return err;
}

enum store_error store_msg_delete_rows(struct store_user *u,
				       uint64_t mailbox_id,
				       const uint32_t *uids, size_t count,
				       uint64_t modseq, bool log,
				       struct arena *a, const char ***hashes_r,
				       size_t *hash_count_r,
				       const char **error_r)
{
	int64_t *email_ids = arena_alloc(a, (count + 1) * sizeof(*email_ids));
	const char **hashes = arena_alloc(a, (count + 1) * sizeof(*hashes));
	size_t hash_count = 0;
	enum store_error err = STORE_OK;
	for (size_t i = 0; i < count && err == STORE_OK; i++)
		err = store_msg_delete_one(u, mailbox_id, uids[i], modseq, log,
					   &email_ids[i], error_r);
	/* Keeps the expunge log within its limits (store-explog.c). */
	if (err == STORE_OK && log && count > 0)
		err = store_explog_note(u, mailbox_id, modseq, count, error_r);
	for (size_t i = 0; i < count && err == STORE_OK; i++) {
		const char *hash;
		if (email_ids[i] == 0)
			continue;
		err = store_email_drop_unused(u, email_ids[i], a, &hash, error_r);
		if (err == STORE_OK && hash != NULL)
			hashes[hash_count++] = hash;
	}
	*hashes_r = hashes;
	*hash_count_r = hash_count;
	return err;
}

/* ---- APPEND ---- */

/* The email row for blob (existing or new); the first delivery's metadata
 * is kept. */
static enum store_error store_email_ensure(struct store_user *u,
					  const struct store_blob *blob,
					  const struct store_msg_meta *meta,
					  int64_t *email_id_r,
					  const char **error_r)
{
	static const char sql_find[] = "SELECT id FROM emails WHERE hash = ?";
	static const char sql_insert[] =
		"INSERT INTO emails (hash, size, objectid, envelope, bodystructure,"
		" body, sent_date, hdr_from, hdr_to, hdr_cc, subject, message_id,"
		" in_reply_to, refs, sent_tz) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
	static const char sql_insert_header[] =
		"INSERT INTO email_headers (email_id, header) VALUES (?, ?)";
	static const struct store_msg_meta no_meta;
	sqlite3_stmt *st = store_db_stmt(u, sql_find, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	store_db_bind_text(st, 1, blob->hash);
	enum store_error err = STORE_OK;
	int ret = store_db_int(u, st, email_id_r, &err, error_r);
	if (ret != 0)
		return ret < 0 ? err : STORE_OK;
	if (meta == NULL)
		meta = &no_meta;
	char objectid[STORE_OBJECTID_SIZE];
	store_objectid_new('E', objectid);
	st = store_db_stmt(u, sql_insert, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	store_db_bind_text(st, 1, blob->hash);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)blob->size);
	store_db_bind_text(st, 3, objectid);
	store_db_bind_text(st, 4, meta->envelope);
	store_db_bind_text(st, 5, meta->bodystructure);
	store_db_bind_text(st, 6, meta->body);
	if (meta->has_sent_date)
		sqlite3_bind_int64(st, 7, meta->sent_date);
	store_db_bind_text(st, 8, meta->from);
	store_db_bind_text(st, 9, meta->to);
	store_db_bind_text(st, 10, meta->cc);
	store_db_bind_text(st, 11, meta->subject);
	store_db_bind_text(st, 12, meta->message_id);
	store_db_bind_text(st, 13, meta->in_reply_to);
	store_db_bind_text(st, 14, meta->references);
	if (meta->has_sent_date)
		sqlite3_bind_int(st, 15, meta->sent_tz_min);
	err = store_db_step_done(u, st, "insert email", error_r);
	if (err != STORE_OK)
		return err;
	*email_id_r = sqlite3_last_insert_rowid(u->db);
	if (meta->header != NULL) {
		st = store_db_stmt(u, sql_insert_header, error_r);
		if (st == NULL)
			return STORE_ERR_INTERNAL;
		sqlite3_bind_int64(st, 1, *email_id_r);
		sqlite3_bind_blob(st, 2, meta->header, (int)meta->header_len, SQLITE_STATIC);
		err = store_db_step_done(u, st, "insert email header", error_r);
		if (err != STORE_OK)
			return err;
	}
	/* Indexed now, or put aside for the background indexer. */
	return store_fts_add(u, *email_id_r, meta->header_text, meta->body_text, error_r);
}

static enum store_error store_msg_insert(struct store_user *u,
					 uint64_t mailbox_id,
					 const struct store_row *row,
					 const char **error_r)
{
	static const char sql[] =
		"INSERT INTO messages (mailbox_id, uid, email_id, flags, keywords,"
		" modseq, internal_date, tz_offset, save_date, size)"
		" VALUES (?,?,?,?,?,?,?,?,?,?)";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	sqlite3_bind_int64(st, 2, row->uid);
	sqlite3_bind_int64(st, 3, row->email_id);
	sqlite3_bind_int(st, 4, (int)(row->flags & STORE_FLAGS_ALL));
	store_db_bind_text(st, 5, row->keywords);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)row->modseq);
	sqlite3_bind_int64(st, 7, row->internal_date);
	sqlite3_bind_int(st, 8, row->tz_offset);
	sqlite3_bind_int64(st, 9, row->save_date);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)row->size);
	enum store_error err = store_db_step_done(u, st, "insert message", error_r);
	if (err == STORE_OK && row->keywords[0] != '\0')
		err = store_mailbox_add_keywords(u, mailbox_id, row->keywords,
						 error_r);
	return err;
}

/* Reads a selectable mailbox inside a transaction. */
static enum store_error store_mailbox_need_selectable(struct store_user *u,
						      uint64_t mailbox_id,
						      struct store_mailbox_row *row_r,
						      const char **error_r)
{
	enum store_error err = STORE_OK;
	int ret = store_mailbox_row_by_id(u, mailbox_id, row_r, &err, error_r);
	if (ret == 0)
		return store_fail(STORE_ERR_NONEXISTENT, error_r,
				  "Mailbox does not exist");
	if (ret < 0)
		return err;
	if (row_r->noselect)
		return store_fail(STORE_ERR_CANNOT, error_r,
				  "Mailbox is not selectable");
	return STORE_OK;
}

static enum store_error store_msg_append_locked(struct store_user *u,
						uint64_t mailbox_id,
						const struct store_append *msgs,
						size_t count, bool claim_recent,
						struct arena *a,
						struct store_append_info *info_r,
						uint32_t *uids_r,
						const char **error_r)
{
	struct store_mailbox_row row;
	uint32_t first_uid;
	uint64_t modseq;
	uint64_t add_bytes = 0;
	for (size_t i = 0; i < count; i++)
		add_bytes += msgs[i].blob->size;
	enum store_error err = store_mailbox_need_selectable(u, mailbox_id, &row,
							     error_r);
	/* RFC 9208 4.3.1: checked under the write lock, so two sessions
	 * cannot both take the last room. */
	if (err == STORE_OK)
		err = store_quota_need_room(u, add_bytes, count, error_r);
	if (err == STORE_OK)
		err = store_mailbox_reserve_uids(u, mailbox_id, (uint32_t)count,
						 &first_uid, error_r);
	if (err == STORE_OK)
		err = store_mailbox_next_modseq(u, mailbox_id, &modseq, error_r);
	int64_t now = (int64_t)time(NULL);
	for (size_t i = 0; i < count && err == STORE_OK; i++) {
		/* A reader's \Seen on a message they add to another's store is
		 * their own. */
		uint32_t shared = u->viewer == NULL ? msgs[i].flags :
			msgs[i].flags & ~STORE_FLAG_SEEN;
		struct store_row msg = {
			.uid = first_uid + (uint32_t)i,
			.flags = shared,
			.keywords = store_keywords_join(a, msgs[i].keywords,
							msgs[i].keyword_count),
			.modseq = modseq,
			.internal_date = msgs[i].internal_date,
			.tz_offset = msgs[i].tz_offset_min,
			.save_date = now,
			.size = msgs[i].blob->size,
		};
		/* DESIGN §4: the blob is durable before the COMMIT that
		 * references it. */
		err = store_blob_publish(u, msgs[i].blob, error_r);
		if (err == STORE_OK)
			err = store_email_ensure(u, msgs[i].blob, msgs[i].meta,
						 &msg.email_id, error_r);
		if (err == STORE_OK)
			err = store_msg_insert(u, mailbox_id, &msg, error_r);
		if (err == STORE_OK && shared != msgs[i].flags)
			err = store_seen_put(u, mailbox_id, msg.uid, true, error_r);
		if (err == STORE_OK && msgs[i].import_key != NULL)
			err = store_import_record(u, msgs[i].import_key, mailbox_id,
						  msg.uid, error_r);
		if (err == STORE_OK && msgs[i].news_group != NULL)
			err = store_news_mark_set(u, msgs[i].news_group, msgs[i].news_number,
						  error_r);
		if (err == STORE_OK)
			uids_r[i] = msg.uid;
	}
	if (err == STORE_OK && claim_recent)
		err = store_mailbox_claim_recent_locked(u, mailbox_id, row.recent_uid,
							first_uid + (uint32_t)count,
							&info_r->recent_first, &info_r->recent_end,
							error_r);
	if (err == STORE_OK) {
		info_r->uidvalidity = row.uidvalidity;
		info_r->modseq = modseq;
	}
	return err;
}

enum store_error store_msg_append(struct store_user *u, uint64_t mailbox_id,
				  const struct store_append *msgs, size_t count,
				  uint32_t *uidvalidity_r, uint32_t *uids_r,
				  const char **error_r)
{
	struct store_append_info info;
	enum store_error err = store_msg_append_info(u, mailbox_id, msgs, count, false, &info,
						     uids_r, error_r);
	if (err == STORE_OK && uidvalidity_r != NULL)
		*uidvalidity_r = info.uidvalidity;
	return err;
}

enum store_error store_msg_append_info(struct store_user *u, uint64_t mailbox_id,
				       const struct store_append *msgs, size_t count,
				       bool claim_recent, struct store_append_info *info_r,
				       uint32_t *uids_r, const char **error_r)
{
	memset(info_r, 0, sizeof(*info_r));
	if (count == 0 || count > UINT32_MAX)
		return store_fail(STORE_ERR_INVALID, error_r, "No messages to append");
	for (size_t i = 0; i < count; i++) {
		enum store_error err = store_keywords_check(msgs[i].keywords,
							    msgs[i].keyword_count,
							    error_r);
		if (err != STORE_OK)
			return err;
		if (msgs[i].blob == NULL)
			return store_fail(STORE_ERR_INVALID, error_r,
					  "Message has no body");
	}
	struct arena *a = arena_new(0);
	enum store_error err = store_db_begin_write(u, error_r);
	if (err == STORE_OK)
		err = store_msg_append_locked(u, mailbox_id, msgs, count, claim_recent, a, info_r,
					      uids_r, error_r);
	if (err == STORE_OK) {
		store_change_note(u, mailbox_id, STORE_CHANGE_APPEND);
		err = store_db_commit(u, error_r);
	} else {
		store_db_rollback(u, err);
	}
	if (err != STORE_OK) {
		/* RFC 3502: nothing of a failed MULTIAPPEND stays; blobs
		 * already linked and not used by others go again. */
		const char **hashes = arena_alloc(a, count * sizeof(*hashes));
		for (size_t i = 0; i < count; i++)
			hashes[i] = msgs[i].blob->hash;
		store_blobs_release(u, hashes, count);
	}
	arena_destroy(&a);
	return err;
}

enum store_error store_msg_append_by_name(struct store_user *u,
					  const char *mailbox,
					  const struct store_append *msg,
					  uint32_t *uidvalidity_r,
					  uint32_t *uid_r,
					  const char **error_r)
{
	struct store_mailbox_status status;
	enum store_error err = store_mailbox_status(u, mailbox, &status, error_r);
	if (err != STORE_OK)
		return err;
	uint32_t uid;
	err = store_msg_append(u, status.id, msg, 1, uidvalidity_r, &uid, error_r);
	if (err == STORE_OK && uid_r != NULL)
		*uid_r = uid;
	return err;
}

/* ---- STORE ---- */

static enum store_error store_msg_update_flags(struct store_user *u,
					       uint64_t mailbox_id,
					       uint32_t uid, uint32_t flags,
					       const char *keywords,
					       uint64_t modseq,
					       const char **error_r)
{
	static const char sql[] =
		"UPDATE messages SET flags = ?, keywords = ?, modseq = ?"
		" WHERE mailbox_id = ? AND uid = ?";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int(st, 1, (int)flags);
	store_db_bind_text(st, 2, keywords);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)modseq);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)mailbox_id);
	sqlite3_bind_int64(st, 5, uid);
	enum store_error err = store_db_step_done(u, st, "update flags", error_r);
	if (err == STORE_OK && keywords[0] != '\0')
		err = store_mailbox_add_keywords(u, mailbox_id, keywords, error_r);
	return err;
}

static enum store_error store_msg_set_flags_locked(struct store_user *u,
						   uint64_t mailbox_id,
						   const struct store_uid_range *ranges,
						   size_t range_count,
						   const struct store_flag_change *change,
						   struct arena *a,
						   struct store_flags_result *result,
						   const char **error_r)
{
	struct store_mailbox_row row;
	struct store_rows rows;
	enum store_error err = store_mailbox_need_selectable(u, mailbox_id, &row,
							     error_r);
	if (err == STORE_OK)
		err = store_rows_select(u, mailbox_id, ranges, range_count, false,
					a, &rows, error_r);
	if (err != STORE_OK)
		return err;
	uint32_t *seen = NULL;
	size_t seen_count = 0;
	if (u->viewer != NULL) {
		err = store_seen_load(u, mailbox_id, a, &seen, &seen_count, error_r);
		if (err != STORE_OK)
			return err;
	}
	result->msgs = arena_zalloc(a, (rows.count + 1) * sizeof(*result->msgs));
	result->failed = arena_alloc(a, (rows.count + 1) * sizeof(*result->failed));
	result->highestmodseq = row.highestmodseq;
	uint64_t modseq = 0;
	for (size_t i = 0; i < rows.count && err == STORE_OK; i++) {
		const struct store_row *r = &rows.rows[i];
		/* What the reader sees: their own \Seen in another's store. */
		uint32_t visible = u->viewer == NULL ? r->flags :
			store_seen_overlay(seen, seen_count, r->uid, r->flags);
		struct store_msg_flags *out = &result->msgs[result->count++];
		out->uid = r->uid;
		out->flags = visible;
		out->modseq = r->modseq;
		const char *keywords = r->keywords;
		/* RFC 7162 3.1.3: a message changed since UNCHANGEDSINCE is
		 * left alone and reported as MODIFIED. */
		if (change->has_unchangedsince && r->modseq > change->unchangedsince) {
			result->failed[result->failed_count++] = r->uid;
		} else {
			uint32_t flags = store_flags_apply(visible, change);
			flags = (flags & ~change->keep_flags) | (visible & change->keep_flags);
			const char *new_kw = change->keep_keywords ? r->keywords :
				store_keywords_apply(a, r->keywords, change);
			const char **old_list, **new_list;
			size_t old_count, new_count;
			store_keywords_split(a, r->keywords, &old_list, &old_count);
			store_keywords_split(a, new_kw, &new_list, &new_count);
			if (flags != visible ||
			    !store_keyword_sets_equal(old_list, old_count,
						      new_list, new_count)) {
				uint32_t shared = flags;
				if (u->viewer != NULL)
					shared = (flags & ~STORE_FLAG_SEEN) |
						 (r->flags & STORE_FLAG_SEEN);
				if (modseq == 0)
					err = store_mailbox_next_modseq(u, mailbox_id,
									&modseq, error_r);
				if (err == STORE_OK)
					err = store_msg_update_flags(u, mailbox_id,
								     r->uid, shared,
								     new_kw, modseq,
								     error_r);
				if (err == STORE_OK && u->viewer != NULL &&
				    ((flags ^ visible) & STORE_FLAG_SEEN) != 0)
					err = store_seen_put(u, mailbox_id, r->uid,
							     (flags & STORE_FLAG_SEEN) != 0,
							     error_r);
				out->flags = flags;
				out->modseq = modseq;
				out->changed = true;
				keywords = new_kw;
			}
		}
		store_keywords_split(a, keywords, &out->keywords, &out->keyword_count);
	}
	if (modseq != 0) {
		result->highestmodseq = modseq;
		store_change_note(u, mailbox_id, STORE_CHANGE_FLAGS);
	}
	return err;
}

enum store_error store_msg_set_flags(struct store_user *u, uint64_t mailbox_id,
				     const struct store_uid_range *ranges,
				     size_t range_count,
				     const struct store_flag_change *change,
				     struct arena *a,
				     struct store_flags_result *result_r,
				     const char **error_r)
{
	memset(result_r, 0, sizeof(*result_r));
	enum store_error err = store_keywords_check(change->keywords,
						    change->keyword_count, error_r);
	if (err != STORE_OK)
		return err;
	err = store_db_begin_write(u, error_r);
	if (err == STORE_OK)
		err = store_msg_set_flags_locked(u, mailbox_id, ranges, range_count,
						 change, a, result_r, error_r);
	if (err != STORE_OK) {
		memset(result_r, 0, sizeof(*result_r));
		return store_db_rollback(u, err);
	}
	return store_db_commit(u, error_r);
}

/* ---- COPY, MOVE, EXPUNGE ---- */

/* check_quota false for a move: the copies replace the originals, so the
 * user's usage does not change. */
static enum store_error store_msg_copy_locked(struct store_user *u,
					      uint64_t src_id,
					      const struct store_uid_range *ranges,
					      size_t range_count, uint64_t dst_id,
					      bool check_quota,
					      const struct store_copy_mask *mask,
					      struct arena *a,
					      struct store_uid_map *map,
					      const char **error_r)
{
	struct store_mailbox_row src_row, dst_row;
	struct store_rows rows;
	enum store_error err = store_mailbox_need_selectable(u, src_id, &src_row,
							     error_r);
	if (err == STORE_OK)
		err = store_mailbox_need_selectable(u, dst_id, &dst_row, error_r);
	if (err == STORE_OK)
		err = store_rows_select(u, src_id, ranges, range_count, false, a,
					&rows, error_r);
	if (err != STORE_OK)
		return err;
	map->dst_uidvalidity = dst_row.uidvalidity;
	map->src_uids = arena_alloc(a, (rows.count + 1) * sizeof(uint32_t));
	map->dst_uids = arena_alloc(a, (rows.count + 1) * sizeof(uint32_t));
	if (rows.count == 0)
		return STORE_OK;
	if (check_quota) {
		uint64_t add_bytes = 0;
		for (size_t i = 0; i < rows.count; i++)
			add_bytes += rows.rows[i].size;
		err = store_quota_need_room(u, add_bytes, rows.count, error_r);
		if (err != STORE_OK)
			return err;
	}
	uint32_t first_uid;
	uint64_t modseq;
	err = store_mailbox_reserve_uids(u, dst_id, (uint32_t)rows.count,
					 &first_uid, error_r);
	if (err == STORE_OK)
		err = store_mailbox_next_modseq(u, dst_id, &modseq, error_r);
	int64_t now = (int64_t)time(NULL);
	for (size_t i = 0; i < rows.count && err == STORE_OK; i++) {
		/* Same email row, so the same blob file: COPY writes no body. */
		struct store_row copy = rows.rows[i];
		copy.uid = first_uid + (uint32_t)i;
		copy.modseq = modseq;
		copy.save_date = now;
		if (mask != NULL) {
			copy.flags &= ~mask->drop_flags;
			if (mask->drop_keywords)
				copy.keywords = "";
		}
		err = store_msg_insert(u, dst_id, &copy, error_r);
		if (err == STORE_OK && u->viewer != NULL &&
		    (mask == NULL || !(mask->drop_flags & STORE_FLAG_SEEN)))
			err = store_seen_copy(u, src_id, rows.rows[i].uid, dst_id, copy.uid,
					      error_r);
		map->src_uids[i] = rows.rows[i].uid;
		map->dst_uids[i] = copy.uid;
	}
	map->count = rows.count;
	store_change_note(u, dst_id, STORE_CHANGE_APPEND);
	return err;
}

enum store_error store_msg_copy(struct store_user *u, uint64_t src_mailbox_id,
				const struct store_uid_range *ranges,
				size_t range_count, uint64_t dst_mailbox_id,
				const struct store_copy_mask *mask,
				struct arena *a, struct store_uid_map *map_r,
				const char **error_r)
{
	memset(map_r, 0, sizeof(*map_r));
	enum store_error err = store_db_begin_write(u, error_r);
	if (err == STORE_OK)
		err = store_msg_copy_locked(u, src_mailbox_id, ranges, range_count,
					    dst_mailbox_id, true, mask, a, map_r, error_r);
	if (err != STORE_OK) {
		memset(map_r, 0, sizeof(*map_r));
		return store_db_rollback(u, err);
	}
	return store_db_commit(u, error_r);
}

enum store_error store_msg_move(struct store_user *u, uint64_t src_mailbox_id,
				const struct store_uid_range *ranges,
				size_t range_count, uint64_t dst_mailbox_id,
				const struct store_copy_mask *mask,
				struct arena *a, struct store_uid_map *map_r,
				const char **error_r)
{
	memset(map_r, 0, sizeof(*map_r));
	if (src_mailbox_id == dst_mailbox_id)
		return store_fail(STORE_ERR_CANNOT, error_r,
				  "Cannot move messages into the same mailbox");
	enum store_error err = store_db_begin_write(u, error_r);
	if (err == STORE_OK)
		err = store_msg_copy_locked(u, src_mailbox_id, ranges, range_count,
					    dst_mailbox_id, false, mask, a, map_r, error_r);
	if (err == STORE_OK && map_r->count > 0) {
		/* RFC 6851 §3.3: the source messages are expunged in the same
		 * transaction, so no client ever sees both or neither. */
		uint64_t modseq;
		const char **hashes;
		size_t hash_count;
		err = store_mailbox_next_modseq(u, src_mailbox_id, &modseq, error_r);
		if (err == STORE_OK)
			err = store_msg_delete_rows(u, src_mailbox_id, map_r->src_uids,
						    map_r->count, modseq, true, a,
						    &hashes, &hash_count, error_r);
		store_change_note(u, src_mailbox_id, STORE_CHANGE_EXPUNGE);
	}
	if (err != STORE_OK) {
		memset(map_r, 0, sizeof(*map_r));
		return store_db_rollback(u, err);
	}
	return store_db_commit(u, error_r);
}

static enum store_error store_msg_expunge_locked(struct store_user *u,
						 uint64_t mailbox_id,
						 const struct store_uid_range *ranges,
						 size_t range_count,
						 struct arena *a, uint32_t **uids_r,
						 size_t *count_r, uint64_t *modseq_r,
						 const char ***hashes_r,
						 size_t *hash_count_r,
						 const char **error_r)
{
	struct store_mailbox_row row;
	struct store_rows rows;
	enum store_error err = store_mailbox_need_selectable(u, mailbox_id, &row,
							     error_r);
	if (err == STORE_OK)
		err = store_rows_select(u, mailbox_id, ranges, range_count, true, a,
					&rows, error_r);
	if (err != STORE_OK)
		return err;
	uint32_t *uids = arena_alloc(a, (rows.count + 1) * sizeof(*uids));
	for (size_t i = 0; i < rows.count; i++)
		uids[i] = rows.rows[i].uid;
	*uids_r = uids;
	*count_r = rows.count;
	if (rows.count == 0)
		return STORE_OK;
	uint64_t modseq = 0;
	err = store_mailbox_next_modseq(u, mailbox_id, &modseq, error_r);
	if (err == STORE_OK)
		err = store_msg_delete_rows(u, mailbox_id, uids, rows.count, modseq,
					    true, a, hashes_r, hash_count_r, error_r);
	store_change_note(u, mailbox_id, STORE_CHANGE_EXPUNGE);
	*modseq_r = modseq;
	return err;
}

enum store_error store_msg_expunge(struct store_user *u, uint64_t mailbox_id,
				   const struct store_uid_range *ranges,
				   size_t range_count, struct arena *a,
				   uint32_t **uids_r, size_t *count_r,
				   const char **error_r)
{
	uint64_t modseq;
	return store_msg_expunge_modseq(u, mailbox_id, ranges, range_count, a, uids_r, count_r,
					&modseq, error_r);
}

enum store_error store_msg_expunge_modseq(struct store_user *u, uint64_t mailbox_id,
					  const struct store_uid_range *ranges,
					  size_t range_count, struct arena *a,
					  uint32_t **uids_r, size_t *count_r,
					  uint64_t *modseq_r, const char **error_r)
{
	const char **hashes = NULL;
	size_t hash_count = 0;
	*uids_r = NULL;
	*count_r = 0;
	*modseq_r = 0;
	enum store_error err = store_db_begin_write(u, error_r);
	if (err == STORE_OK)
		err = store_msg_expunge_locked(u, mailbox_id, ranges, range_count, a,
					       uids_r, count_r, modseq_r, &hashes,
					       &hash_count, error_r);
	if (err != STORE_OK) {
		*uids_r = NULL;
		*count_r = 0;
		*modseq_r = 0;
		return store_db_rollback(u, err);
	}
	err = store_db_commit(u, error_r);
	if (err == STORE_OK)
		store_blobs_release(u, hashes, hash_count);
	return err;
}
