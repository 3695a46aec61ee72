/* Full-text indexing off the write path (store.h, "background full-text
 * indexing").
 *
 * FTS5 with the trigram tokenizer spends about 0.2 µs per byte of text on
 * an INSERT (a 2 MB text: ~0.4 s). The index therefore lives in a database
 * file of its own beside mail.db (fts.db, schema version 7), written only
 * by the indexer: its long transactions hold no lock a delivery or a flag
 * change waits for, and its pages never pass through mail.db's WAL, whose
 * syncs every acknowledged command waits for.
 *
 * The queues stay in mail.db, filled in the transactions that create and
 * delete emails rows: email_text_pending holds the ids whose text is to be
 * indexed (APPEND and LMTP note only the id; the indexer derives the text
 * from the body file again, store_ingest_text; rows of schema 5, of the
 * migration to 6 and of petrel's command-line tools carry a copy, which is
 * used as it is), email_text_dead the ids whose text is to leave the index
 * (emails_ad). The indexer works in batches: it reads a batch of ids from
 * both queues, applies them to fts.db in one transaction, which is synced
 * (synchronous=FULL), and only then deletes them from the queues. A crash
 * in between applies the batch again: every text is deleted from the index
 * before it is inserted, so that is harmless.
 *
 * Searching stays exact meanwhile: store_msg_search_text adds every
 * message whose text waits to the candidates it returns, and its callers
 * confirm candidates by scanning the text, which store_fts_text reads
 * from the index or from where it waits. Readers look at the queue in
 * mail.db before the index: a text that no longer waits was in the index
 * before they looked.
 *
 * The queue of users holds user names (each at most once) with the time
 * they are due; it is bounded by the number of users with waiting texts. A
 * user with many waiting texts is indexed a batch at a time and queued
 * again behind the others. */

#include "store/store-fts.h"
#include "store/store-ingest.h"
#include "store/store-sync.h"

#include "lib/arena.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* Texts indexed for one user before the others get their turn, and the
 * most one index transaction applies. */
#define STORE_FTS_BATCH 16
/* Handles the indexer keeps open (its own store_cache). */
#define STORE_FTS_HANDLES 8
/* A user who keeps receiving mail is indexed at the latest this long
 * after the first unindexed delivery (store_fts_job_put). */
#define STORE_FTS_MAX_WAIT_MS (60u * 1000)
/* The indexer's nice value: on a busy machine, sessions get the CPU
 * first (the index only makes searches faster; they are exact without). */
#define STORE_FTS_NICE 10

struct store_fts_job {
	char *user;
	uint64_t first_ms; /* time_mono_ms() when queued */
	uint64_t due_ms;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool running;     /* the thread exists; texts are put aside */
	bool stopping;
	bool cond_ready;  /* cond initialised (by start) */
	char *data_dir;
	unsigned delay_ms;
	struct store_fts_job *jobs;
	size_t count, cap;
} store_fts = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

/* Set by store_fts_add when it puts a text aside and by
 * store_fts_note_dropped, consumed after COMMIT; how many, for indexing
 * without the indexer thread. */
static __thread bool store_fts_put_aside;
static __thread unsigned store_fts_put_aside_count;

/* Read only by threads the indexer outlives (started before them,
 * stopped after them), so no lock is needed. */
static bool store_fts_deferred(void)
{
	return store_fts.running;
}

/* ---- The index's database ---- */

static const char store_fts_schema[] =
	"PRAGMA journal_mode = WAL;"
	"PRAGMA synchronous = FULL;"
	"CREATE VIRTUAL TABLE IF NOT EXISTS email_text USING fts5(headers, body,"
	" tokenize = 'trigram', detail = column);";

static char *store_fts_path(const struct store_user *u)
{
	size_t len = strlen(u->dir) + sizeof("/fts.db");
	char *path = xmalloc(len);
	snprintf(path, len, "%s/fts.db", u->dir);
	return path;
}

static void store_fts_handle_free(struct store_user *f)
{
	store_db_close(f);
	free(f->name);
	free(f);
}

/* The wrapper makes indexing cheaper, not different: without it (said
 * once in the log), the index is written by FTS5's tokenizer alone. */
static void store_fts_wrap_tokenizer(sqlite3 *db)
{
	static atomic_bool said;
	if (!store_fts_tokenizer_install(db) && !atomic_exchange(&said, true))
		log_event(LOG_WARN, NULL, "fts_tokenizer_unwrapped",
			  "reason=\"FTS5 did not take the trigram wrapper\"");
}

struct store_user *store_fts_db(struct store_user *u, const char **error_r)
{
	if (u->fts != NULL)
		return u->fts;
	struct store_user *f = xcalloc(1, sizeof(*f));
	f->name = xstrdup(u->name);
	f->blobs_fd = -1;
	char *path = store_fts_path(u);
	/* NOMUTEX: used by the thread that uses u (store.h). */
	int rc = sqlite3_open_v2(path, &f->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				 SQLITE_OPEN_NOMUTEX, NULL);
	free(path);
	enum store_error err = rc == SQLITE_OK ? STORE_OK :
		store_db_fail(f, rc, "open index database", error_r);
	if (err == STORE_OK) {
		sqlite3_busy_timeout(f->db, STORE_DB_BUSY_TIMEOUT_MS);
		store_fts_wrap_tokenizer(f->db);
		err = store_db_exec(f, store_fts_schema, error_r);
	}
	if (err != STORE_OK) {
		store_fts_handle_free(f);
		return NULL;
	}
	u->fts = f;
	return f;
}

void store_fts_close(struct store_user *u)
{
	if (u->fts != NULL)
		store_fts_handle_free(u->fts);
	u->fts = NULL;
}

enum store_error store_fts_ensure(struct store_user *u, const char **error_r)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO email_text_pending (email_id) SELECT id FROM emails";
	char *path = store_fts_path(u);
	int found = access(path, F_OK) == 0 ? 1 : errno == ENOENT ? 0 : -1;
	enum store_error err = found >= 0 ? STORE_OK :
		store_sys_fail("look for the index", path, errno, error_r);
	free(path);
	if (found != 0)
		return err;
	/* A new store, one of schema 6 or older, or an index removed by
	 * hand: every text waits for the indexer, queued before the empty
	 * index exists so that no reader takes an empty index for a full
	 * one. Other handles doing the same meanwhile change nothing. */
	err = store_db_begin_write(u, error_r);
	if (err != STORE_OK)
		return err;
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	err = st == NULL ? STORE_ERR_INTERNAL : store_db_step_done(u, st, "queue texts", error_r);
	/* Without the indexer thread (a command-line tool opening the store
	 * after an upgrade), they wait for the daemon: indexing them all now
	 * would hold up that command for minutes on a big store. */
	if (err == STORE_OK && sqlite3_changes(u->db) > 0 && store_fts_deferred())
		store_fts_put_aside = true;
	err = err == STORE_OK ? store_db_commit(u, error_r) : store_db_rollback(u, err);
	if (err == STORE_OK && store_fts_db(u, error_r) == NULL)
		err = STORE_ERR_INTERNAL;
	return err;
}

/* ---- Adding text ---- */

bool store_fts_keeps_copies(void)
{
	return !store_fts_deferred();
}

enum store_error store_fts_add(struct store_user *u, int64_t email_id, const char *headers,
			       const char *body, const char **error_r)
{
	static const char sql[] =
		"INSERT INTO email_text_pending (email_id, headers, body) VALUES (?, ?, ?)";
	if (headers == NULL && body == NULL)
		return STORE_OK;
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, email_id);
	/* The daemon puts the id aside without a copy: the indexer derives
	 * the text from the body file again (store_ingest_text), so the
	 * delivery does not write it a second time, into the WAL, before it
	 * is acknowledged. Without the indexer the text is indexed right
	 * after the commit, from the copy. */
	bool copy = store_fts_keeps_copies();
	store_db_bind_text(st, 2, copy ? headers : NULL);
	store_db_bind_text(st, 3, copy ? body : NULL);
	enum store_error err = store_db_step_done(u, st, "put text aside", error_r);
	if (err == STORE_OK)
		store_fts_note_dropped();
	return err;
}

void store_fts_note_dropped(void)
{
	store_fts_put_aside = true;
	store_fts_put_aside_count++;
}

void store_fts_after_commit(struct store_user *u)
{
	if (!store_fts_put_aside)
		return;
	unsigned count = store_fts_put_aside_count;
	store_fts_put_aside = false;
	store_fts_put_aside_count = 0;
	if (store_fts_deferred()) {
		store_fts_indexer_enqueue(u->name);
		return;
	}
	/* petrel's command-line tools: no indexer thread, so as many texts
	 * as the transaction queued are indexed now (the oldest first: work
	 * in proportion to the command's). Should that fail, they stay aside
	 * (searches scan them) for the daemon's next start. Not under sync-behind (the daemon, and
	 * tests of it without the indexer): its commits here would take over
	 * the one just made, whose blobs the caller releases once it is
	 * durable (store_sync_release_after). */
	if (store_sync_behind_active())
		return;
	const char *error;
	bool more;
	if (store_fts_index_step(u, count, NULL, &more, &error) != STORE_OK)
		log_event(LOG_ERROR, NULL, "fts_index_failed", "user=%s error=\"%s\"", u->name,
			  error);
}

void store_fts_after_rollback(void)
{
	store_fts_put_aside = false;
	store_fts_put_aside_count = 0;
}

/* ---- Reading ---- */

enum store_error store_fts_text(struct store_user *u, int64_t email_id, const char *hash,
				struct arena *a, const char **headers_r, const char **body_r,
				const char **error_r)
{
	static const char sql_waiting[] =
		"SELECT headers, body, headers IS NULL AND body IS NULL"
		" FROM email_text_pending WHERE email_id = ?";
	static const char sql_indexed[] = "SELECT headers, body FROM email_text WHERE rowid = ?";
	*headers_r = *body_r = NULL;
	/* The queue first: a text that does not wait there was indexed
	 * before this read (the indexer drops it from the queue only after
	 * the index commits). */
	sqlite3_stmt *st = store_db_stmt(u, sql_waiting, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, email_id);
	int rc = sqlite3_step(st);
	bool derive = false;
	if (rc == SQLITE_ROW) {
		*headers_r = store_db_column_str(a, st, 0);
		*body_r = store_db_column_str(a, st, 1);
		derive = sqlite3_column_int(st, 2) != 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_fail(u, rc, "read waiting text", error_r);
	if (derive)
		return store_ingest_text(u, hash, a, headers_r, body_r, error_r);
	if (rc == SQLITE_ROW)
		return STORE_OK;
	struct store_user *f = store_fts_db(u, error_r);
	if (f == NULL)
		return STORE_ERR_INTERNAL;
	st = store_db_stmt(f, sql_indexed, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, email_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*headers_r = store_db_column_str(a, st, 0);
		*body_r = store_db_column_str(a, st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_fail(f, rc, "read email text", error_r);
	return STORE_OK;
}

/* ---- Indexing a batch ---- */

/* A text waiting in email_text_pending. */
struct store_fts_waiting {
	int64_t email_id;
	bool has_copy;
	const char *hash; /* NULL: its message went meanwhile */
};

/* The ids one batch takes from the two queues. */
struct store_fts_batch {
	int64_t dead[STORE_FTS_BATCH];
	size_t dead_count;
	struct store_fts_waiting waiting[STORE_FTS_BATCH];
	size_t waiting_count;
};

/* Reads up to max ids: removals first, then the oldest waiting texts. */
static enum store_error store_fts_batch_read(struct store_user *u, struct arena *a, size_t max,
					     struct store_fts_batch *b, const char **error_r)
{
	static const char sql_dead[] =
		"SELECT email_id FROM email_text_dead ORDER BY email_id LIMIT ?";
	static const char sql_waiting[] =
		"SELECT p.email_id, p.headers IS NOT NULL OR p.body IS NOT NULL, e.hash"
		" FROM email_text_pending p LEFT JOIN emails e ON e.id = p.email_id"
		" ORDER BY p.email_id LIMIT ?";
	memset(b, 0, sizeof(*b));
	sqlite3_stmt *st = store_db_stmt(u, sql_dead, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		b->dead[b->dead_count++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(u, rc, "find dropped texts", error_r);
	if (b->dead_count == max)
		return STORE_OK;
	st = store_db_stmt(u, sql_waiting, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)(max - b->dead_count));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_fts_waiting *w = &b->waiting[b->waiting_count++];
		w->email_id = sqlite3_column_int64(st, 0);
		w->has_copy = sqlite3_column_int(st, 1) != 0;
		w->hash = store_db_column_str(a, st, 2);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(u, rc, "find waiting texts", error_r);
	return STORE_OK;
}

/* The text of w: its copy, or derived from its body file. A body that
 * cannot be read (a store damaged by hand) counts as no text rather than
 * being tried forever. */
static enum store_error store_fts_waiting_text(struct store_user *u,
					       const struct store_fts_waiting *w, struct arena *a,
					       const char **headers_r, const char **body_r,
					       const char **error_r)
{
	*headers_r = *body_r = NULL;
	if (w->hash == NULL)
		return STORE_OK;
	if (w->has_copy)
		return store_fts_text(u, w->email_id, w->hash, a, headers_r, body_r, error_r);
	const char *error = NULL;
	if (store_ingest_text(u, w->hash, a, headers_r, body_r, &error) != STORE_OK) {
		log_event(LOG_WARN, NULL, "fts_text_unreadable", "user=%s hash=%s error=\"%s\"",
			  u->name, w->hash, error != NULL ? error : "-");
		*headers_r = *body_r = NULL;
	}
	return STORE_OK;
}

/* In f's write transaction: the text of email_id leaves the index, and
 * (headers or body not NULL) enters it anew. */
static enum store_error store_fts_put(struct store_user *f, int64_t email_id,
				      const char *headers, const char *body, const char **error_r)
{
	static const char sql_delete[] = "DELETE FROM email_text WHERE rowid = ?";
	static const char sql_insert[] =
		"INSERT INTO email_text (rowid, headers, body) VALUES (?, ?, ?)";
	sqlite3_stmt *st = store_db_stmt(f, sql_delete, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, email_id);
	enum store_error err = store_db_step_done(f, st, "remove email text", error_r);
	if (err != STORE_OK || (headers == NULL && body == NULL))
		return err;
	st = store_db_stmt(f, sql_insert, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, email_id);
	store_db_bind_text(st, 2, headers);
	store_db_bind_text(st, 3, body);
	return store_db_step_done(f, st, "index email text", error_r);
}

/* Applies the batch to the index in one transaction, synced on COMMIT. */
static enum store_error store_fts_batch_apply(struct store_user *u, struct store_user *f,
					      const struct store_fts_batch *b,
					      const char **error_r)
{
	enum store_error err = store_db_exec(f, "BEGIN IMMEDIATE", error_r);
	for (size_t i = 0; err == STORE_OK && i < b->dead_count; i++)
		err = store_fts_put(f, b->dead[i], NULL, NULL, error_r);
	for (size_t i = 0; err == STORE_OK && i < b->waiting_count; i++) {
		/* One text in memory at a time. */
		struct arena *a = arena_new(0);
		const char *headers, *body;
		err = store_fts_waiting_text(u, &b->waiting[i], a, &headers, &body, error_r);
		if (err == STORE_OK)
			err = store_fts_put(f, b->waiting[i].email_id, headers, body, error_r);
		arena_destroy(&a);
	}
	if (err == STORE_OK)
		err = store_db_exec(f, "COMMIT", error_r);
	if (err != STORE_OK && !sqlite3_get_autocommit(f->db))
		(void)sqlite3_exec(f->db, "ROLLBACK", NULL, NULL, NULL);
	return err;
}

/* Once the index holds the batch: its ids leave the queues, in a short
 * write transaction on mail.db that goes after any waiting delivery. */
static enum store_error store_fts_batch_forget(struct store_user *u,
					       const struct store_fts_batch *b,
					       const char **error_r)
{
	static const char sql_dead[] = "DELETE FROM email_text_dead WHERE email_id = ?";
	static const char sql_waiting[] = "DELETE FROM email_text_pending WHERE email_id = ?";
	store_sync_yield_to_writers(u);
	enum store_error err = store_db_begin_write(u, error_r);
	size_t total = b->dead_count + b->waiting_count;
	for (size_t i = 0; err == STORE_OK && i < total; i++) {
		bool dead = i < b->dead_count;
		sqlite3_stmt *st = store_db_stmt(u, dead ? sql_dead : sql_waiting, error_r);
		if (st == NULL)
			return store_db_rollback(u, STORE_ERR_INTERNAL);
		sqlite3_bind_int64(st, 1, dead ? b->dead[i]
					       : b->waiting[i - b->dead_count].email_id);
		err = store_db_step_done(u, st, "forget queued text", error_r);
	}
	return err == STORE_OK ? store_db_commit(u, error_r) : store_db_rollback(u, err);
}

enum store_error store_fts_pending_count(struct store_user *u, uint64_t *count_r,
					 const char **error_r)
{
	static const char sql[] = "SELECT (SELECT count(*) FROM email_text_pending)"
				  " + (SELECT count(*) FROM email_text_dead)";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	int64_t count = 0;
	enum store_error err = STORE_OK;
	if (store_db_int(u, st, &count, &err, error_r) < 0)
		return err;
	*count_r = (uint64_t)count;
	return STORE_OK;
}

enum store_error store_fts_index_step(struct store_user *u, unsigned max_messages,
				      unsigned *indexed_r, bool *more_r, const char **error_r)
{
	unsigned indexed = 0;
	bool found = true;
	enum store_error err = STORE_OK;
	struct store_user *f = store_fts_db(u, error_r);
	if (f == NULL)
		err = STORE_ERR_INTERNAL;
	while (found && indexed < max_messages && err == STORE_OK) {
		unsigned left = max_messages - indexed;
		struct arena *a = arena_new(0);
		struct store_fts_batch b;
		err = store_fts_batch_read(u, a, left < STORE_FTS_BATCH ? left : STORE_FTS_BATCH, &b,
					   error_r);
		size_t count = b.dead_count + b.waiting_count;
		found = err == STORE_OK && count > 0;
		if (found)
			err = store_fts_batch_apply(u, f, &b, error_r);
		if (found && err == STORE_OK)
			err = store_fts_batch_forget(u, &b, error_r);
		if (found && err == STORE_OK)
			indexed += (unsigned)count;
		arena_destroy(&a);
	}
	if (indexed_r != NULL)
		*indexed_r = indexed;
	uint64_t left = 0;
	if (err == STORE_OK && found)
		err = store_fts_pending_count(u, &left, error_r);
	*more_r = left > 0;
	return err;
}

/* ---- The queue ---- */

/* Under the lock. */
static struct store_fts_job *store_fts_job_find(const char *user)
{
	for (size_t i = 0; i < store_fts.count; i++)
		if (strcmp(store_fts.jobs[i].user, user) == 0)
			return &store_fts.jobs[i];
	return NULL;
}

/* Under the lock: queues user, due delay_ms from now. A user already
 * queued is postponed with each delivery, so that a burst of deliveries
 * is indexed in full batches once it pauses for delay_ms, but never
 * beyond delay_ms, or STORE_FTS_MAX_WAIT_MS if longer, after the first
 * one. */
static void store_fts_job_put(const char *user, uint64_t delay_ms)
{
	uint64_t now = time_mono_ms();
	uint64_t max_wait = delay_ms > STORE_FTS_MAX_WAIT_MS ? delay_ms : STORE_FTS_MAX_WAIT_MS;
	struct store_fts_job *job = store_fts_job_find(user);
	if (job != NULL) {
		uint64_t due = now + delay_ms, latest = job->first_ms + max_wait;
		job->due_ms = due < latest ? due : latest;
		return;
	}
	if (store_fts.count == store_fts.cap) {
		store_fts.cap = store_fts.cap ? 2 * store_fts.cap : 16;
		store_fts.jobs = xrealloc(store_fts.jobs, store_fts.cap * sizeof(*store_fts.jobs));
	}
	store_fts.jobs[store_fts.count++] =
		(struct store_fts_job){ xstrdup(user), now, now + delay_ms };
	if (store_fts.cond_ready)
		pthread_cond_signal(&store_fts.cond);
}

void store_fts_indexer_enqueue(const char *user)
{
	pthread_mutex_lock(&store_fts.lock);
	/* Before the thread starts (start-up sweep), entries wait for it. */
	store_fts_job_put(user, store_fts.delay_ms);
	pthread_mutex_unlock(&store_fts.lock);
}

/* Under the lock: the index of the job due first, or -1 if none. */
static ssize_t store_fts_job_next(void)
{
	ssize_t best = -1;
	for (size_t i = 0; i < store_fts.count; i++)
		if (best < 0 || store_fts.jobs[i].due_ms < store_fts.jobs[best].due_ms)
			best = (ssize_t)i;
	return best;
}

/* Under the lock: waits until a job is due (returned, removed from the
 * queue, the caller frees it) or the indexer stops (NULL). */
static char *store_fts_job_wait(void)
{
	while (!store_fts.stopping) {
		ssize_t i = store_fts_job_next();
		uint64_t now = time_mono_ms();
		if (i >= 0 && store_fts.jobs[i].due_ms <= now) {
			char *user = store_fts.jobs[i].user;
			store_fts.jobs[i] = store_fts.jobs[--store_fts.count];
			return user;
		}
		if (i < 0) {
			pthread_cond_wait(&store_fts.cond, &store_fts.lock);
			continue;
		}
		/* The condition variable runs on CLOCK_MONOTONIC (see start). */
		uint64_t wait_ms = store_fts.jobs[i].due_ms - now;
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)(wait_ms / 1000);
		until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&store_fts.cond, &store_fts.lock, &until);
	}
	return NULL;
}

/* ---- The indexer thread ---- */

/* Indexes a batch of user's texts; true when more wait. */
static bool store_fts_index_user(struct store_cache *cache, const char *user)
{
	struct store_user *u;
	const char *error;
	unsigned indexed = 0;
	bool more = false;
	/* Opening would create the store of a user deleted meanwhile. */
	if (strcmp(user, STORE_PUBLIC_OWNER) != 0 && !store_user_exists(store_fts.data_dir, user))
		return false;
	enum store_error err = store_cache_get(cache, user, &u, &error);
	if (err == STORE_OK)
		err = store_fts_index_step(u, STORE_FTS_BATCH, &indexed, &more, &error);
	/* Nobody acknowledges these commits (sync-behind): they become
	 * durable with the next sync of the database. */
	struct store_sync_ticket *ticket = store_sync_take();
	store_sync_ticket_free(&ticket);
	if (err == STORE_ERR_INUSE)
		return true; /* a long writer: try again later */
	if (err != STORE_OK) {
		/* The texts stay aside: searches keep scanning them, and the
		 * next delivery or restart queues the user again. */
		log_event(LOG_ERROR, NULL, "fts_index_failed", "user=%s error=\"%s\"", user, error);
		return false;
	}
	if (indexed > 0)
		log_event(LOG_DEBUG, NULL, "fts_indexed", "user=%s count=%u more=%d", user, indexed,
			  more ? 1 : 0);
	return more;
}

static void *store_fts_main(void *arg)
{
	(void)arg;
	/* Linux keeps a nice value per thread: this one's alone. */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), STORE_FTS_NICE) < 0)
		log_event(LOG_WARN, NULL, "fts_nice_failed", "error=\"%s\"", strerror(errno));
	struct store_cache *cache = store_cache_new(store_fts.data_dir, STORE_FTS_HANDLES);
	pthread_mutex_lock(&store_fts.lock);
	char *user;
	while ((user = store_fts_job_wait()) != NULL) {
		pthread_mutex_unlock(&store_fts.lock);
		bool more = store_fts_index_user(cache, user);
		pthread_mutex_lock(&store_fts.lock);
		/* Behind the others: their texts are due as well. */
		if (more)
			store_fts_job_put(user, 0);
		free(user);
	}
	pthread_mutex_unlock(&store_fts.lock);
	store_cache_destroy(&cache);
	store_sync_thread_end();
	return NULL;
}

bool store_fts_indexer_start(const char *data_dir, unsigned delay_ms, const char **error_r)
{
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_mutex_lock(&store_fts.lock);
	pthread_cond_init(&store_fts.cond, &attr);
	store_fts.cond_ready = true;
	pthread_mutex_unlock(&store_fts.lock);
	pthread_condattr_destroy(&attr);
	store_fts.data_dir = xstrdup(data_dir);
	store_fts.delay_ms = delay_ms;
	store_fts.stopping = false;
	int rc = pthread_create(&store_fts.thread, NULL, store_fts_main, NULL);
	if (rc == 0)
		pthread_setname_np(store_fts.thread, "petrel-fts");
	if (rc != 0) {
		free(store_fts.data_dir);
		store_fts.data_dir = NULL;
		store_fts.cond_ready = false;
		pthread_cond_destroy(&store_fts.cond);
		*error_r = strerror(rc);
		return false;
	}
	store_fts.running = true;
	return true;
}

void store_fts_indexer_stop(void)
{
	if (store_fts.running) {
		pthread_mutex_lock(&store_fts.lock);
		store_fts.stopping = true;
		pthread_cond_signal(&store_fts.cond);
		pthread_mutex_unlock(&store_fts.lock);
		pthread_join(store_fts.thread, NULL);
		store_fts.running = false;
		pthread_cond_destroy(&store_fts.cond);
	}
	/* What is still queued waits in the databases for the next start. */
	for (size_t i = 0; i < store_fts.count; i++)
		free(store_fts.jobs[i].user);
	free(store_fts.jobs);
	store_fts.jobs = NULL;
	store_fts.count = store_fts.cap = 0;
	free(store_fts.data_dir);
	store_fts.data_dir = NULL;
	store_fts.delay_ms = 0;
	store_fts.cond_ready = false;
}
