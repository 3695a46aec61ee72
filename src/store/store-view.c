/* Loading a session's view of a mailbox (store_view_load) fast.
 *
 * SELECT of 100,000 messages spent nearly all its time stepping 100,000
 * result rows through sqlite3_step and sqlite3_column_*. Here the rows go
 * into the view's arrays from inside the statement: an aggregate SQL
 * function receives each row's UID, flags and MODSEQ and appends them to
 * arrays sized from the mailbox's message count, so no row is returned to
 * C at all (about a third less time per row).
 *
 * Each thread also keeps the last few large views it loaded (at most
 * STORE_VIEW_CACHE_SLOTS, STORE_VIEW_CACHE_MESSAGES messages in all, so
 * at most 32 MB per thread), keyed by MAILBOXID, which is random and never
 * reused. A SELECT of a cached mailbox copies the arrays when nothing
 * changed, or first brings the copy up to date with the messages whose
 * MODSEQ is newer and the expunges logged since (both read through
 * indexes), when the expunge log still reaches back that far and the
 * changes are few. Sessions still get their own arrays (they change them
 * as they tell the client about changes); the cache costs one extra copy
 * per cached mailbox and thread, not one per session. Views with per-user
 * \Seen (store_user_set_viewer) are not cached. */

#include "store/store-view.h"

#include "lib/xalloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Views smaller than this load in a few milliseconds: not worth a copy.
 * (Overridable for measuring the uncached path.) */
#ifndef STORE_VIEW_CACHE_MIN
#define STORE_VIEW_CACHE_MIN 4096
#endif
#define STORE_VIEW_CACHE_SLOTS 4
/* Messages in all of a thread's cached views (16 bytes each). */
#define STORE_VIEW_CACHE_MESSAGES (2u * 1000 * 1000)
/* A cached view is refreshed when the changes number at most its size
 * divided by this (plus a little); more, and it is read again whole. */
#define STORE_VIEW_REFRESH_DIVISOR 8
#define STORE_VIEW_REFRESH_SLACK 64

#define STORE_VIEW_POINTER_TYPE "petrel_view_rows"

/* ---- Collecting rows ---- */

struct store_view_rows {
	uint32_t *uids;
	uint32_t *flags;
	uint64_t *modseqs;
	uint32_t count, cap;
	bool unsorted;
};

static void store_view_rows_init(struct store_view_rows *rows, uint32_t expected)
{
	memset(rows, 0, sizeof(*rows));
	rows->cap = expected > 0 ? expected : 1;
	rows->uids = xmalloc((size_t)rows->cap * sizeof(*rows->uids));
	rows->flags = xmalloc((size_t)rows->cap * sizeof(*rows->flags));
	rows->modseqs = xmalloc((size_t)rows->cap * sizeof(*rows->modseqs));
}

static void store_view_rows_free(struct store_view_rows *rows)
{
	free(rows->uids);
	free(rows->flags);
	free(rows->modseqs);
	memset(rows, 0, sizeof(*rows));
}

static void store_view_rows_push(struct store_view_rows *rows, uint32_t uid, uint32_t flags,
				 uint64_t modseq)
{
	if (rows->count == rows->cap) {
		/* Only when the counter read with the row was wrong. */
		rows->cap *= 2;
		rows->uids = xrealloc(rows->uids, (size_t)rows->cap * sizeof(*rows->uids));
		rows->flags = xrealloc(rows->flags, (size_t)rows->cap * sizeof(*rows->flags));
		rows->modseqs = xrealloc(rows->modseqs, (size_t)rows->cap * sizeof(*rows->modseqs));
	}
	if (rows->count > 0 && uid <= rows->uids[rows->count - 1])
		rows->unsorted = true;
	rows->uids[rows->count] = uid;
	rows->flags[rows->count] = flags;
	rows->modseqs[rows->count] = modseq;
	rows->count++;
}

/* petrel_view_add(rows, uid, flags, modseq): appends one row to the
 * collector bound as a pointer; the aggregate's value is the count. */
static void store_view_add_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	/* The collector is looked up once per statement, not per row. */
	struct store_view_rows **cached = sqlite3_aggregate_context(ctx, sizeof(*cached));
	if (cached == NULL) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	if (*cached == NULL)
		*cached = sqlite3_value_pointer(argv[0], STORE_VIEW_POINTER_TYPE);
	struct store_view_rows *rows = *cached;
	if (rows == NULL) {
		sqlite3_result_error(ctx, "petrel_view_add without its collector", -1);
		return;
	}
	store_view_rows_push(rows, (uint32_t)sqlite3_value_int64(argv[1]),
			     (uint32_t)sqlite3_value_int(argv[2]),
			     (uint64_t)sqlite3_value_int64(argv[3]));
}

static void store_view_add_final(sqlite3_context *ctx)
{
	sqlite3_result_null(ctx);
}

void store_view_register(sqlite3 *db)
{
	sqlite3_create_function(db, "petrel_view_add", 4, SQLITE_UTF8 | SQLITE_DIRECTONLY, NULL,
				NULL, store_view_add_step, store_view_add_final);
}

static int store_view_uid_cmp(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? -1 : a > b;
}

static int store_view_key_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/* Puts rows in UID order (SQLite reads them in the index's order, by UID
 * for a full scan but by MODSEQ for changes). */
static void store_view_rows_sort(struct store_view_rows *rows)
{
	if (!rows->unsorted)
		return;
	/* Sort (uid, index) pairs, then permute the three arrays. */
	uint64_t *keys = xmalloc((size_t)rows->count * sizeof(*keys));
	for (uint32_t i = 0; i < rows->count; i++)
		keys[i] = (uint64_t)rows->uids[i] << 32 | i;
	qsort(keys, rows->count, sizeof(*keys), store_view_key_cmp);
	struct store_view_rows sorted;
	store_view_rows_init(&sorted, rows->count);
	for (uint32_t i = 0; i < rows->count; i++) {
		uint32_t from = (uint32_t)keys[i];
		store_view_rows_push(&sorted, rows->uids[from], rows->flags[from],
				     rows->modseqs[from]);
	}
	free(keys);
	store_view_rows_free(rows);
	*rows = sorted;
}

/* Runs sql (?1 mailbox id, ?2 the collector, ?3 since when given) into
 * rows, sorted by UID. */
static enum store_error store_view_collect(struct store_user *u, const char *sql,
					   uint64_t mailbox_id, uint64_t since,
					   struct store_view_rows *rows, const char **error_r)
{
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	sqlite3_bind_pointer(st, 2, rows, STORE_VIEW_POINTER_TYPE, NULL);
	if (sqlite3_bind_parameter_count(st) >= 3)
		sqlite3_bind_int64(st, 3, (sqlite3_int64)since);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	/* The collector must not be reachable once this returns. */
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_fail(u, rc, "load view", error_r);
	store_view_rows_sort(rows);
	return STORE_OK;
}

static enum store_error store_view_read_all(struct store_user *u,
					   const struct store_mailbox_row *row,
					   struct store_view_rows *rows, const char **error_r)
{
	static const char sql[] =
		"SELECT petrel_view_add(?2, uid, flags, modseq) FROM messages WHERE mailbox_id = ?1";
	store_view_rows_init(rows, row->messages);
	enum store_error err = store_view_collect(u, sql, row->id, 0, rows, error_r);
	if (err != STORE_OK)
		store_view_rows_free(rows);
	return err;
}

/* ---- The per-thread cache ---- */

struct store_view_slot {
	char objectid[STORE_OBJECTID_SIZE]; /* "" when free */
	uint64_t highestmodseq;
	uint32_t uidnext;
	struct store_view_rows rows;
	uint64_t used;                     /* LRU tick */
};

struct store_view_cache {
	struct store_view_slot slots[STORE_VIEW_CACHE_SLOTS];
	uint64_t tick;
};

static pthread_key_t store_view_cache_key;
static pthread_once_t store_view_cache_once = PTHREAD_ONCE_INIT;

static void store_view_cache_free(void *arg)
{
	struct store_view_cache *cache = arg;
	for (size_t i = 0; i < STORE_VIEW_CACHE_SLOTS; i++)
		store_view_rows_free(&cache->slots[i].rows);
	free(cache);
}

static void store_view_cache_key_make(void)
{
	(void)pthread_key_create(&store_view_cache_key, store_view_cache_free);
}

static struct store_view_cache *store_view_cache_get(void)
{
	pthread_once(&store_view_cache_once, store_view_cache_key_make);
	struct store_view_cache *cache = pthread_getspecific(store_view_cache_key);
	if (cache == NULL) {
		cache = xcalloc(1, sizeof(*cache));
		(void)pthread_setspecific(store_view_cache_key, cache);
	}
	return cache;
}

static struct store_view_slot *store_view_slot_find(struct store_view_cache *cache,
						    const char *objectid)
{
	for (size_t i = 0; i < STORE_VIEW_CACHE_SLOTS; i++)
		if (strcmp(cache->slots[i].objectid, objectid) == 0)
			return &cache->slots[i];
	return NULL;
}

static void store_view_slot_clear(struct store_view_slot *slot)
{
	store_view_rows_free(&slot->rows);
	memset(slot, 0, sizeof(*slot));
}

/* A free slot for count messages, emptying the least recently used ones
 * until the thread's total fits; NULL if count alone is too many. */
static struct store_view_slot *store_view_slot_make_room(struct store_view_cache *cache,
							 uint32_t count)
{
	if (count > STORE_VIEW_CACHE_MESSAGES)
		return NULL;
	for (;;) {
		uint64_t total = count;
		struct store_view_slot *free_slot = NULL, *oldest = NULL;
		for (size_t i = 0; i < STORE_VIEW_CACHE_SLOTS; i++) {
			struct store_view_slot *slot = &cache->slots[i];
			if (slot->objectid[0] == '\0') {
				free_slot = slot;
				continue;
			}
			total += slot->rows.count;
			if (oldest == NULL || slot->used < oldest->used)
				oldest = slot;
		}
		if (free_slot != NULL && total <= STORE_VIEW_CACHE_MESSAGES)
			return free_slot;
		store_view_slot_clear(oldest);
	}
}

static void store_view_rows_copy(struct store_view_rows *dst, const struct store_view_rows *src)
{
	store_view_rows_init(dst, src->count);
	memcpy(dst->uids, src->uids, (size_t)src->count * sizeof(*src->uids));
	memcpy(dst->flags, src->flags, (size_t)src->count * sizeof(*src->flags));
	memcpy(dst->modseqs, src->modseqs, (size_t)src->count * sizeof(*src->modseqs));
	dst->count = src->count;
}

static void store_view_slot_fill(struct store_view_cache *cache, struct store_view_slot *slot,
				 const struct store_mailbox_row *row,
				 const struct store_view_rows *rows)
{
	store_view_rows_free(&slot->rows);
	memcpy(slot->objectid, row->objectid, sizeof(slot->objectid));
	slot->highestmodseq = row->highestmodseq;
	slot->uidnext = row->uidnext;
	store_view_rows_copy(&slot->rows, rows);
	slot->used = ++cache->tick;
}

/* ---- Refreshing a cached view ---- */

/* UIDs of the mailbox expunged after since, ascending (heap). */
static enum store_error store_view_expunged_since(struct store_user *u, uint64_t mailbox_id,
						  uint64_t since, uint32_t **uids_r,
						  uint32_t *count_r, const char **error_r)
{
	static const char sql[] =
		"SELECT uid FROM expunged WHERE mailbox_id = ?1 AND modseq > ?2 ORDER BY uid";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)mailbox_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)since);
	uint32_t count = 0, cap = 16;
	uint32_t *uids = xmalloc(cap * sizeof(*uids));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			cap *= 2;
			uids = xrealloc(uids, cap * sizeof(*uids));
		}
		uids[count++] = (uint32_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(uids);
		return store_db_fail(u, rc, "read expunge log", error_r);
	}
	*uids_r = uids;
	*count_r = count;
	return STORE_OK;
}

static bool store_view_uid_in(const uint32_t *uids, uint32_t count, uint32_t uid)
{
	return bsearch(&uid, uids, count, sizeof(*uids), store_view_uid_cmp) != NULL;
}

/* Merges old (the cached view), changed (messages with a newer MODSEQ)
 * and gone (expunged since) into out. False when they do not fit together
 * (then the caller reads the view whole). */
static bool store_view_merge(const struct store_view_slot *slot,
			     const struct store_view_rows *changed, const uint32_t *gone,
			     uint32_t gone_count, uint32_t expected, struct store_view_rows *out)
{
	const struct store_view_rows *old = &slot->rows;
	store_view_rows_init(out, expected);
	uint32_t j = 0;
	for (uint32_t i = 0; i < old->count; i++) {
		uint32_t uid = old->uids[i];
		if (j < changed->count && changed->uids[j] < uid)
			return false; /* a changed message the cache never had */
		if (j < changed->count && changed->uids[j] == uid) {
			store_view_rows_push(out, uid, changed->flags[j], changed->modseqs[j]);
			j++;
		} else if (!store_view_uid_in(gone, gone_count, uid)) {
			store_view_rows_push(out, uid, old->flags[i], old->modseqs[i]);
		}
	}
	/* The rest are new: UIDs are handed out upwards. */
	for (; j < changed->count; j++) {
		if (changed->uids[j] < slot->uidnext)
			return false;
		store_view_rows_push(out, changed->uids[j], changed->flags[j], changed->modseqs[j]);
	}
	return out->count == expected;
}

/* Brings slot up to row's state. *done_r false (and STORE_OK) when that
 * is not worth it or not possible: the caller reads the view whole. */
static enum store_error store_view_refresh(struct store_user *u,
					   const struct store_mailbox_row *row,
					   struct store_view_slot *slot, bool *done_r,
					   const char **error_r)
{
	static const char sql[] =
		"SELECT petrel_view_add(?2, uid, flags, modseq) FROM messages"
		" WHERE mailbox_id = ?1 AND modseq > ?3";
	*done_r = false;
	/* Expunges since the cached state must all still be in the log. */
	if (slot->highestmodseq > row->highestmodseq || slot->highestmodseq < row->expunge_floor)
		return STORE_OK;
	uint32_t *gone = NULL;
	uint32_t gone_count = 0;
	enum store_error err = store_view_expunged_since(u, row->id, slot->highestmodseq, &gone,
							 &gone_count, error_r);
	if (err != STORE_OK)
		return err;
	uint32_t most = slot->rows.count / STORE_VIEW_REFRESH_DIVISOR + STORE_VIEW_REFRESH_SLACK;
	struct store_view_rows changed, merged;
	store_view_rows_init(&changed, 16);
	if (gone_count <= most)
		err = store_view_collect(u, sql, row->id, slot->highestmodseq, &changed, error_r);
	if (err == STORE_OK && gone_count <= most && changed.count <= most &&
	    store_view_merge(slot, &changed, gone, gone_count, row->messages, &merged)) {
		store_view_rows_free(&slot->rows);
		slot->rows = merged;
		slot->highestmodseq = row->highestmodseq;
		slot->uidnext = row->uidnext;
		*done_r = true;
	} else if (err == STORE_OK && gone_count <= most && changed.count <= most) {
		store_view_rows_free(&merged);
	}
	store_view_rows_free(&changed);
	free(gone);
	return err;
}

/* ---- Filling a view ---- */

static void store_view_take(struct store_view *view, struct store_view_rows *rows)
{
	view->count = rows->count;
	view->uids = rows->uids;
	view->flags = rows->flags;
	view->modseqs = rows->modseqs;
	memset(rows, 0, sizeof(*rows));
}

enum store_error store_view_fill_cached(struct store_user *u, const struct store_mailbox_row *row,
					struct store_view *view, const char **error_r)
{
	struct store_view_rows rows;
	if (u->viewer != NULL || row->messages < STORE_VIEW_CACHE_MIN) {
		enum store_error err = store_view_read_all(u, row, &rows, error_r);
		if (err == STORE_OK)
			store_view_take(view, &rows);
		return err;
	}
	struct store_view_cache *cache = store_view_cache_get();
	struct store_view_slot *slot = store_view_slot_find(cache, row->objectid);
	bool fresh = false;
	enum store_error err = STORE_OK;
	if (slot != NULL && slot->highestmodseq == row->highestmodseq &&
	    slot->uidnext == row->uidnext && slot->rows.count == row->messages)
		fresh = true;
	else if (slot != NULL)
		err = store_view_refresh(u, row, slot, &fresh, error_r);
	if (err != STORE_OK)
		return err;
	if (fresh) {
		slot->used = ++cache->tick;
		store_view_rows_copy(&rows, &slot->rows);
		store_view_take(view, &rows);
		return STORE_OK;
	}
	if (slot != NULL)
		store_view_slot_clear(slot);
	err = store_view_read_all(u, row, &rows, error_r);
	if (err != STORE_OK)
		return err;
	slot = store_view_slot_make_room(cache, rows.count);
	if (slot != NULL)
		store_view_slot_fill(cache, slot, row, &rows);
	store_view_take(view, &rows);
	return STORE_OK;
}
