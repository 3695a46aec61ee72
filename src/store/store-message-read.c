/* Reading messages: a message's row and metadata for FETCH and SEARCH
 * (store_msg_get, and store_msg_get_range for a few neighbours at once)
 * and its body file (store_msg_open_blob, store_blob_open). */

#include "store/store-private.h"
#include "store/store-fts.h"

#include "lib/arena.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void store_msg_read_meta(sqlite3_stmt *st, struct arena *a,
				struct store_msg_meta *meta)
{
	meta->envelope = store_db_column_str(a, st, 10);
	meta->bodystructure = store_db_column_str(a, st, 11);
	meta->body = store_db_column_str(a, st, 12);
	meta->has_sent_date = sqlite3_column_type(st, 13) != SQLITE_NULL;
	meta->sent_date = sqlite3_column_int64(st, 13);
	meta->from = store_db_column_str(a, st, 14);
	meta->to = store_db_column_str(a, st, 15);
	meta->cc = store_db_column_str(a, st, 16);
	meta->subject = store_db_column_str(a, st, 17);
	meta->message_id = store_db_column_str(a, st, 18);
	meta->in_reply_to = store_db_column_str(a, st, 19);
	meta->references = store_db_column_str(a, st, 20);
	/* NULL for messages stored before schema version 4: 0 then (SEARCH
	 * reads the zone through store_msg_sortkeys, which tells them apart). */
	meta->sent_tz_min = sqlite3_column_int(st, 21);
}

/* A header column (email_headers.header) into meta, when it holds one. */
static void store_msg_read_header_column(sqlite3_stmt *st, int col, struct arena *a,
					 struct store_msg_meta *meta)
{
	size_t len = (size_t)sqlite3_column_bytes(st, col);
	const void *data = sqlite3_column_blob(st, col);
	if (data == NULL || len == 0)
		return;
	unsigned char *copy = arena_alloc(a, len);
	memcpy(copy, data, len);
	meta->header = copy;
	meta->header_len = len;
}

/* The email's kept header into meta (left NULL when none was kept). */
static enum store_error store_msg_read_header(struct store_user *u, int64_t email_id,
					      struct arena *a, struct store_msg_meta *meta,
					      const char **error_r)
{
	static const char sql[] = "SELECT header FROM email_headers WHERE email_id = ?";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, email_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		store_msg_read_header_column(st, 0, a, meta);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_fail(u, rc, "read email header", error_r);
	return STORE_OK;
}

/* The columns store_msg_get and store_msg_get_range read, in this order:
 * without META the envelope and bodystructure columns are left out, since
 * SQLite copies every result column at each step and they are most of the
 * row. The meta columns follow the others in store_msg_read_meta's order. */
#define STORE_MSG_COLUMNS                                                      \
	"SELECT m.flags, m.keywords, m.modseq, m.size, m.internal_date,"       \
	" m.tz_offset, m.save_date, e.hash, e.objectid, e.id"
#define STORE_MSG_META_COLUMNS                                                 \
	", e.envelope, e.bodystructure, e.body, e.sent_date, e.hdr_from,"      \
	" e.hdr_to, e.hdr_cc, e.subject, e.message_id, e.in_reply_to, e.refs," \
	" e.sent_tz"
#define STORE_MSG_FROM " FROM messages m JOIN emails e ON e.id = m.email_id"

/* The row st stands on into msg_r (uid aside); returns the email's id. */
static int64_t store_msg_read_row(sqlite3_stmt *st, bool meta, struct arena *a,
				  struct store_msg *msg_r)
{
	memset(msg_r, 0, sizeof(*msg_r));
	msg_r->flags = (uint32_t)sqlite3_column_int(st, 0);
	store_keywords_split(a, (const char *)sqlite3_column_text(st, 1),
			     &msg_r->keywords, &msg_r->keyword_count);
	msg_r->modseq = (uint64_t)sqlite3_column_int64(st, 2);
	msg_r->size = (uint64_t)sqlite3_column_int64(st, 3);
	msg_r->internal_date = sqlite3_column_int64(st, 4);
	msg_r->tz_offset_min = sqlite3_column_int(st, 5);
	msg_r->save_date = sqlite3_column_int64(st, 6);
	snprintf(msg_r->hash, sizeof(msg_r->hash), "%s",
		 (const char *)sqlite3_column_text(st, 7));
	snprintf(msg_r->emailid, sizeof(msg_r->emailid), "%s",
		 (const char *)sqlite3_column_text(st, 8));
	if (meta)
		store_msg_read_meta(st, a, &msg_r->meta);
	return sqlite3_column_int64(st, 9);
}

/* What store_msg_get adds to a row: the reader's own \Seen in a shared
 * mailbox. */
static enum store_error store_msg_apply_viewer(struct store_user *u, uint64_t mailbox_id,
					       struct store_msg *msg, const char **error_r)
{
	if (u->viewer == NULL)
		return STORE_OK;
	bool seen;
	enum store_error err = store_seen_get(u, mailbox_id, msg->uid, &seen, error_r);
	if (err == STORE_OK)
		msg->flags = (msg->flags & ~STORE_FLAG_SEEN) | (seen ? STORE_FLAG_SEEN : 0);
	return err;
}

enum store_error store_msg_get(struct store_user *u, uint64_t mailbox_id,
			       uint32_t uid, unsigned want, struct arena *a,
			       struct store_msg *msg_r, const char **error_r)
{
	static const char sql_meta[] = STORE_MSG_COLUMNS STORE_MSG_META_COLUMNS STORE_MSG_FROM
		" WHERE m.mailbox_id = ? AND m.uid = ?";
	static const char sql_lean[] = STORE_MSG_COLUMNS STORE_MSG_FROM
		" WHERE m.mailbox_id = ? AND m.uid = ?";
	bool meta = (want & STORE_MSG_WANT_META) != 0;
	sqlite3_stmt *st = store_db_stmt(u, meta ? sql_meta : sql_lean, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	sqlite3_bind_int64(st, 2, uid);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return store_fail(STORE_ERR_NONEXISTENT, error_r,
					  "No such message");
		return store_db_fail(u, rc, "read message", error_r);
	}
	int64_t email_id = store_msg_read_row(st, meta, a, msg_r);
	msg_r->uid = uid;
	sqlite3_reset(st);
	if ((want & STORE_MSG_WANT_HEADER) != 0) {
		enum store_error err = store_msg_read_header(u, email_id, a, &msg_r->meta, error_r);
		if (err != STORE_OK)
			return err;
	}
	enum store_error err = store_msg_apply_viewer(u, mailbox_id, msg_r, error_r);
	if (err != STORE_OK)
		return err;
	if (meta && (want & STORE_MSG_WANT_TEXT) != 0)
		return store_fts_text(u, email_id, msg_r->hash, a, &msg_r->meta.header_text,
				      &msg_r->meta.body_text, error_r);
	return STORE_OK;
}

enum store_error store_msg_get_range(struct store_user *u, uint64_t mailbox_id,
				     uint32_t uid_first, uint32_t uid_last, unsigned want,
				     struct arena *a, struct store_msg **msgs_r,
				     size_t *count_r, const char **error_r)
{
	/* The header row joined in (or NULL in its place): the uid and header
	 * columns come right after the others. */
#define STORE_MSG_RANGE(cols, header, join)                                    \
	cols ", m.uid, " header STORE_MSG_FROM join                            \
	" WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid"
#define STORE_MSG_JOIN_HEADER " LEFT JOIN email_headers h ON h.email_id = e.id"
	static const char *const sql[2][2] = {
		{ STORE_MSG_RANGE(STORE_MSG_COLUMNS, "NULL", ""),
		  STORE_MSG_RANGE(STORE_MSG_COLUMNS, "h.header", STORE_MSG_JOIN_HEADER) },
		{ STORE_MSG_RANGE(STORE_MSG_COLUMNS STORE_MSG_META_COLUMNS, "NULL", ""),
		  STORE_MSG_RANGE(STORE_MSG_COLUMNS STORE_MSG_META_COLUMNS, "h.header",
				  STORE_MSG_JOIN_HEADER) },
	};
#undef STORE_MSG_RANGE
#undef STORE_MSG_JOIN_HEADER
	bool meta = (want & STORE_MSG_WANT_META) != 0;
	bool header = (want & STORE_MSG_WANT_HEADER) != 0;
	int uid_col = meta ? 22 : 10;
	*msgs_r = NULL;
	*count_r = 0;
	if (uid_last < uid_first)
		return STORE_OK;
	sqlite3_stmt *st = store_db_stmt(u, sql[meta][header], error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	sqlite3_bind_int64(st, 2, uid_first);
	sqlite3_bind_int64(st, 3, uid_last);
	/* At most one row per UID of the range; grown when the range is wide. */
	size_t cap = (size_t)uid_last - uid_first + 1, n = 0;
	if (cap > 64)
		cap = 64;
	struct store_msg *msgs = arena_alloc(a, cap * sizeof(*msgs));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		msgs = arena_grow(a, msgs, n, &cap, sizeof(*msgs));
		struct store_msg *m = &msgs[n++];
		store_msg_read_row(st, meta, a, m);
		m->uid = (uint32_t)sqlite3_column_int64(st, uid_col);
		if (header)
			store_msg_read_header_column(st, uid_col + 1, a, &m->meta);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(u, rc, "read messages", error_r);
	for (size_t i = 0; i < n; i++) {
		enum store_error err = store_msg_apply_viewer(u, mailbox_id, &msgs[i], error_r);
		if (err != STORE_OK)
			return err;
	}
	*msgs_r = msgs;
	*count_r = n;
	return STORE_OK;
}

#undef STORE_MSG_COLUMNS
#undef STORE_MSG_META_COLUMNS
#undef STORE_MSG_FROM

enum store_error store_msg_open_blob(struct store_user *u,
				     uint64_t mailbox_id, uint32_t uid,
				     int *fd_r, uint64_t *size_r,
				     const char **error_r)
{
	static const char sql[] =
		"SELECT e.hash FROM messages m JOIN emails e ON e.id = m.email_id"
		" WHERE m.mailbox_id = ? AND m.uid = ?";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	sqlite3_bind_int64(st, 2, uid);
	int rc = sqlite3_step(st);
	char hash[STORE_HASH_HEX_SIZE];
	if (rc == SQLITE_ROW)
		snprintf(hash, sizeof(hash), "%s",
			 (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return store_fail(STORE_ERR_NONEXISTENT, error_r, "No such message");
	if (rc != SQLITE_ROW)
		return store_db_fail(u, rc, "find blob", error_r);
	return store_blob_open(u, hash, fd_r, size_r, error_r);
}

enum store_error store_blob_open(struct store_user *u, const char *hash, int *fd_r,
				 uint64_t *size_r, const char **error_r)
{
	/* Relative to the blobs directory: the kernel walks two names
	 * instead of the whole path (FETCH opens a body per message). */
	if (u->blobs_fd < 0)
		u->blobs_fd = open(u->blobs_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	char rel[STORE_HASH_HEX_SIZE + 4];
	snprintf(rel, sizeof(rel), "%.2s/%s", hash, hash);
	int fd = -1;
	if (u->blobs_fd >= 0) {
		fd = openat(u->blobs_fd, rel, O_RDONLY | O_CLOEXEC);
	} else {
		char *path = store_blob_path(u, hash);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		free(path);
	}
	struct stat st_buf;
	const char *what = fd < 0 ? "open blob"
			 : size_r != NULL && fstat(fd, &st_buf) < 0 ? "stat blob" : NULL;
	if (what != NULL) {
		int saved = errno;
		if (fd >= 0)
			close(fd);
		char *path = store_blob_path(u, hash);
		enum store_error err = store_sys_fail(what, path, saved, error_r);
		free(path);
		return err;
	}
	*fd_r = fd;
	if (size_r != NULL)
		*size_r = (uint64_t)st_buf.st_size;
	return STORE_OK;
}
