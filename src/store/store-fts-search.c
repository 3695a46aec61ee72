/* SEARCH of text through the full-text index (store-fts.c): the trigram
 * query for a needle, and the candidates it gives in a mailbox. */

#include "store/store-private.h"
#include "store/store-fts.h"

#include "lib/arena.h"
#include "lib/buf.h"

#include <string.h>

static size_t store_utf8_chars(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p & 0xc0) != 0x80)
			n++;
	}
	return n;
}

/* Trigrams of a long needle looked up; any subset of them gives a
 * superset of the messages, which SEARCH confirms. */
#define STORE_FTS_MAX_TRIGRAMS 32

/* Byte offsets of needle's characters (UTF-8 lead bytes), count in
 * *count_r; the needle is valid UTF-8 (checked by the caller). */
static size_t *store_utf8_offsets(struct arena *a, const char *needle, size_t *count_r)
{
	size_t len = strlen(needle), n = 0;
	size_t *at = arena_alloc(a, (len + 1) * sizeof(*at));
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)needle[i] & 0xc0) != 0x80)
			at[n++] = i;
	at[n] = len;
	*count_r = n;
	return at;
}

/* An FTS5 query for the messages whose field holds needle (three
 * characters or more): the index keeps no positions (schema version 6),
 * so it asks for every trigram of the needle, up to
 * STORE_FTS_MAX_TRIGRAMS spread over it, each one quoted. */
static const char *store_fts_query(struct arena *a, enum store_text_field field,
				   const char *needle)
{
	size_t chars;
	const size_t *at = store_utf8_offsets(a, needle, &chars);
	size_t trigrams = chars - 2;
	size_t take = trigrams < STORE_FTS_MAX_TRIGRAMS ? trigrams : STORE_FTS_MAX_TRIGRAMS;
	struct buf q = BUF_INIT;
	buf_append_str(&q, field == STORE_TEXT_HEADERS ? "headers : ("
			   : field == STORE_TEXT_BODY  ? "body : ("
						       : "(");
	for (size_t k = 0; k < take; k++) {
		size_t t = take > 1 ? k * (trigrams - 1) / (take - 1) : 0;
		buf_append_str(&q, k > 0 ? " AND \"" : "\"");
		for (size_t i = at[t]; i < at[t + 3]; i++) {
			if (needle[i] == '"')
				buf_append_char(&q, '"');
			buf_append_char(&q, needle[i]);
		}
		buf_append_char(&q, '"');
	}
	buf_append_char(&q, ')');
	const char *query = arena_strdup(a, buf_cstr(&q));
	buf_free(&q);
	return query;
}

/* The email ids of the index's texts matching query, ascending. */
static enum store_error store_fts_matches(struct store_user *u, const char *query,
					  struct arena *a, int64_t **ids_r, size_t *count_r,
					  const char **error_r)
{
	static const char sql[] =
		"SELECT rowid FROM email_text WHERE email_text MATCH ? ORDER BY rowid";
	struct store_user *f = store_fts_db(u, error_r);
	if (f == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_stmt *st = store_db_stmt(f, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	store_db_bind_text(st, 1, query);
	size_t cap = 64, n = 0;
	int64_t *ids = arena_alloc(a, cap * sizeof(*ids));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ids = arena_grow(a, ids, n, &cap, sizeof(*ids));
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(f, rc, "full-text search", error_r);
	*ids_r = ids;
	*count_r = n;
	return STORE_OK;
}

static bool store_ids_contain(const int64_t *ids, size_t count, int64_t id)
{
	size_t lo = 0, hi = count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ids[mid] == id)
			return true;
		if (ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

enum store_error store_msg_search_text(struct store_user *u,
				       uint64_t mailbox_id,
				       enum store_text_field field,
				       const char *needle, struct arena *a,
				       uint32_t **uids_r, size_t *count_r,
				       const char **error_r)
{
	/* The mailbox's messages, and which of them have a text waiting for
	 * the indexer (store-fts.c): those are candidates whatever the
	 * needle. Read before the index: a text not waiting here was in the
	 * index before this read. */
	static const char sql[] =
		"SELECT uid, email_id, email_id IN (SELECT email_id FROM email_text_pending)"
		" FROM messages WHERE mailbox_id = ? ORDER BY uid";
	/* The trigram index cannot answer substrings of fewer than three
	 * characters; the caller scans instead. */
	if (store_utf8_chars(needle) < 3)
		return store_fail(STORE_ERR_INVALID, error_r,
				  "Search string too short for the index");
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	size_t cap = 64, n = 0;
	struct { uint32_t uid; bool waiting; int64_t email_id; } *rows =
		arena_alloc(a, cap * sizeof(*rows));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rows = arena_grow(a, rows, n, &cap, sizeof(*rows));
		rows[n].uid = (uint32_t)sqlite3_column_int64(st, 0);
		rows[n].email_id = sqlite3_column_int64(st, 1);
		rows[n].waiting = sqlite3_column_int(st, 2) != 0;
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(u, rc, "full-text search", error_r);
	int64_t *ids = NULL;
	size_t id_count = 0;
	enum store_error err = store_fts_matches(u, store_fts_query(a, field, needle), a, &ids,
						 &id_count, error_r);
	if (err != STORE_OK)
		return err;
	uint32_t *uids = arena_alloc(a, (n > 0 ? n : 1) * sizeof(*uids));
	size_t found = 0;
	for (size_t i = 0; i < n; i++)
		if (rows[i].waiting || store_ids_contain(ids, id_count, rows[i].email_id))
			uids[found++] = rows[i].uid;
	*uids_r = uids;
	*count_r = found;
	return STORE_OK;
}
