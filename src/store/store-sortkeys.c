/* Sort and thread keys of many messages in one statement (SORT, THREAD,
 * SEARCH SENT*), instead of one store_msg_get per message: a scan of the
 * mailbox's UID range that reads only the columns the caller compares. */

#include "store/store-private.h"

#include <string.h>

/* Every statement returns the same twelve columns, NULL where it does not
 * read one, so that one reader serves them all. The emails row is joined
 * only when a key lives there. */
enum sortkeys_col {
	SORTKEYS_UID, SORTKEYS_INTERNAL_DATE, SORTKEYS_SIZE, SORTKEYS_SENT_DATE,
	SORTKEYS_SENT_TZ, SORTKEYS_FROM, SORTKEYS_TO, SORTKEYS_CC, SORTKEYS_SUBJECT,
	SORTKEYS_MESSAGE_ID, SORTKEYS_IN_REPLY_TO, SORTKEYS_REFERENCES,
};

#define SORTKEYS_RANGE " WHERE m.mailbox_id = ?1 AND m.uid BETWEEN ?2 AND ?3 ORDER BY m.uid"
#define SORTKEYS_JOIN " FROM messages m JOIN emails e ON e.id = m.email_id" SORTKEYS_RANGE

static const char sortkeys_sql_rows[] =
	"SELECT m.uid, m.internal_date, m.size, NULL, NULL, NULL, NULL, NULL, NULL,"
	" NULL, NULL, NULL FROM messages m" SORTKEYS_RANGE;
static const char sortkeys_sql_dates[] =
	"SELECT m.uid, m.internal_date, m.size, e.sent_date, e.sent_tz, NULL, NULL, NULL,"
	" NULL, NULL, NULL, NULL" SORTKEYS_JOIN;
static const char sortkeys_sql_headers[] =
	"SELECT m.uid, m.internal_date, m.size, e.sent_date, e.sent_tz, e.hdr_from, e.hdr_to,"
	" e.hdr_cc, e.subject, NULL, NULL, NULL" SORTKEYS_JOIN;
static const char sortkeys_sql_thread[] =
	"SELECT m.uid, m.internal_date, m.size, e.sent_date, e.sent_tz, NULL, NULL, NULL,"
	" e.subject, e.message_id, e.in_reply_to, e.refs" SORTKEYS_JOIN;
static const char sortkeys_sql_all[] =
	"SELECT m.uid, m.internal_date, m.size, e.sent_date, e.sent_tz, e.hdr_from, e.hdr_to,"
	" e.hdr_cc, e.subject, e.message_id, e.in_reply_to, e.refs" SORTKEYS_JOIN;

/* The narrowest statement that has every key in want. */
static const char *sortkeys_sql(unsigned want)
{
	const unsigned addresses = STORE_SORTKEY_FROM | STORE_SORTKEY_TO | STORE_SORTKEY_CC;
	if ((want & STORE_SORTKEY_THREAD) != 0)
		return (want & addresses) != 0 ? sortkeys_sql_all : sortkeys_sql_thread;
	if ((want & (addresses | STORE_SORTKEY_SUBJECT)) != 0)
		return sortkeys_sql_headers;
	if ((want & STORE_SORTKEY_SENT_DATE) != 0)
		return sortkeys_sql_dates;
	return sortkeys_sql_rows;
}

static const char *sortkeys_str(struct arena *a, sqlite3_stmt *st, enum sortkeys_col col,
				unsigned want, unsigned bit)
{
	return (want & bit) != 0 ? store_db_column_str(a, st, col) : NULL;
}

/* Copies the wanted columns of the current row into k. */
static void sortkeys_read_row(sqlite3_stmt *st, unsigned want, struct arena *a,
			      struct store_sortkeys *k)
{
	k->uid = (uint32_t)sqlite3_column_int64(st, SORTKEYS_UID);
	if ((want & STORE_SORTKEY_ARRIVAL) != 0)
		k->internal_date = sqlite3_column_int64(st, SORTKEYS_INTERNAL_DATE);
	if ((want & STORE_SORTKEY_SIZE) != 0)
		k->size = (uint64_t)sqlite3_column_int64(st, SORTKEYS_SIZE);
	if ((want & STORE_SORTKEY_SENT_DATE) != 0 &&
	    sqlite3_column_type(st, SORTKEYS_SENT_DATE) != SQLITE_NULL) {
		k->has_sent_date = true;
		k->sent_date = sqlite3_column_int64(st, SORTKEYS_SENT_DATE);
		k->has_sent_tz = sqlite3_column_type(st, SORTKEYS_SENT_TZ) != SQLITE_NULL;
		k->sent_tz_min = sqlite3_column_int(st, SORTKEYS_SENT_TZ);
	}
	k->from = sortkeys_str(a, st, SORTKEYS_FROM, want, STORE_SORTKEY_FROM);
	k->to = sortkeys_str(a, st, SORTKEYS_TO, want, STORE_SORTKEY_TO);
	k->cc = sortkeys_str(a, st, SORTKEYS_CC, want, STORE_SORTKEY_CC);
	k->subject = sortkeys_str(a, st, SORTKEYS_SUBJECT, want, STORE_SORTKEY_SUBJECT);
	k->message_id = sortkeys_str(a, st, SORTKEYS_MESSAGE_ID, want, STORE_SORTKEY_THREAD);
	k->in_reply_to = sortkeys_str(a, st, SORTKEYS_IN_REPLY_TO, want, STORE_SORTKEY_THREAD);
	k->references = sortkeys_str(a, st, SORTKEYS_REFERENCES, want, STORE_SORTKEY_THREAD);
}

enum store_error store_msg_sortkeys(struct store_user *u, uint64_t mailbox_id,
				    const uint32_t *uids, size_t count, unsigned want,
				    struct arena *a, struct store_sortkeys *keys_r,
				    const char **error_r)
{
	memset(keys_r, 0, count * sizeof(*keys_r));
	if (count == 0)
		return STORE_OK;
	sqlite3_stmt *st = store_db_stmt(u, sortkeys_sql(want), error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	sqlite3_bind_int64(st, 2, uids[0]);
	sqlite3_bind_int64(st, 3, uids[count - 1]);
	/* Both sides ascend by UID: a merge. Rows of UIDs the caller did not
	 * ask for are stepped over without reading their columns. */
	size_t i = 0;
	int rc = SQLITE_DONE;
	while (i < count && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t uid = (uint32_t)sqlite3_column_int64(st, SORTKEYS_UID);
		while (i < count && uids[i] < uid)
			i++; /* gone: stays zeroed */
		if (i < count && uids[i] == uid)
			sortkeys_read_row(st, want, a, &keys_r[i++]);
	}
	if (i == count)
		rc = SQLITE_DONE;
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(u, rc, "read sort keys", error_r);
	return STORE_OK;
}
