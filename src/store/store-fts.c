/* Full-text indexing off the write path (store.h, "background full-text
 * indexing").
 *
 * FTS5 with the trigram tokenizer spends about 0.2 µs per byte of text on
 * an INSERT (a 2 MB text: ~0.4 s), all of it under the user's write lock.
 * Inside APPEND that is the answer's latency, and inside a worker it stops
 * every session of the worker. So while the indexer runs, APPEND only notes
 * the message's id in email_text_pending, and the indexer thread, with
 * handles of its own, derives the text from the body file again
 * (store_ingest_text) and adds it to email_text, one message per short
 * write transaction. (Rows of schema 5, and those the migration to 6 put
 * back, carry their text and are moved as they are.) Removing an expunged
 * message's text costs as much, so that waits in email_text_dead for the
 * same thread.
 *
 * Searching stays exact meanwhile: store_msg_search_text adds every
 * message whose text waits to the candidates it returns, and its callers
 * confirm candidates by scanning the text, which store_msg_get reads from
 * the index or derives from the body.
 *
 * The queue holds user names (each at most once) with the time they are
 * due; it is bounded by the number of users with waiting texts. A user
 * with many waiting texts is indexed a few at a time and queued again
 * behind the others. */

#include "store/store-fts.h"
#include "store/store-ingest.h"
#include "store/store-sync.h"

#include "lib/arena.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

/* Texts indexed for one user before the others get their turn. */
#define STORE_FTS_BATCH 16
/* Handles the indexer keeps open (its own store_cache). */
#define STORE_FTS_HANDLES 8
/* A user who keeps receiving mail is indexed at the latest this long
 * after the first unindexed delivery (store_fts_job_put). */
#define STORE_FTS_MAX_WAIT_MS (60u * 1000)

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
 * store_fts_note_dropped, consumed after COMMIT. */
static __thread bool store_fts_put_aside;

/* ---- Adding text ---- */

/* Read only by threads the indexer outlives (started before them,
 * stopped after them), so no lock is needed. */
static bool store_fts_deferred(void)
{
	return store_fts.running;
}

enum store_error store_fts_add(struct store_user *u, int64_t email_id, const char *headers,
			       const char *body, const char **error_r)
{
	static const char sql_index[] =
		"INSERT INTO email_text (rowid, headers, body) VALUES (?, ?, ?)";
	static const char sql_aside[] =
		"INSERT INTO email_text_pending (email_id, headers, body) VALUES (?, ?, ?)";
	if (headers == NULL && body == NULL)
		return STORE_OK;
	bool defer = store_fts_deferred();
	sqlite3_stmt *st = store_db_stmt(u, defer ? sql_aside : sql_index, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, email_id);
	/* Put aside without a copy: the indexer derives the text from the
	 * body file again (store_ingest_text), so the delivery does not
	 * write it a second time, into the WAL, before it is acknowledged. */
	store_db_bind_text(st, 2, defer ? NULL : headers);
	store_db_bind_text(st, 3, defer ? NULL : body);
	enum store_error err = store_db_step_done(u, st, defer ? "put text aside" :
						  "index email text", error_r);
	if (err == STORE_OK && defer)
		store_fts_put_aside = true;
	return err;
}

void store_fts_note_dropped(void)
{
	if (store_fts_deferred())
		store_fts_put_aside = true;
}

void store_fts_after_commit(struct store_user *u)
{
	if (!store_fts_put_aside)
		return;
	store_fts_put_aside = false;
	store_fts_indexer_enqueue(u->name);
}

void store_fts_after_rollback(void)
{
	store_fts_put_aside = false;
}

/* ---- Indexing waiting texts ---- */

/* The statements that finish one unit of the indexer's work on an id, in
 * a write transaction. */
struct store_fts_steps {
	const char *sql[2];
	const char *what;
};

/* The text of a deleted emails row leaves the index. */
static const struct store_fts_steps store_fts_remove = {
	.sql = { "DELETE FROM email_text WHERE rowid = ?",
		 "DELETE FROM email_text_dead WHERE email_id = ?" },
	.what = "remove email text",
};

/* A waiting text that keeps its copy (put aside by a store of schema 5,
 * or by the migration to 6) enters the index as it is. */
static const struct store_fts_steps store_fts_move = {
	.sql = { "INSERT INTO email_text (rowid, headers, body)"
		 " SELECT email_id, headers, body FROM email_text_pending WHERE email_id = ?",
		 "DELETE FROM email_text_pending WHERE email_id = ?" },
	.what = "index waiting text",
};

static enum store_error store_fts_run_steps(struct store_user *u,
					    const struct store_fts_steps *steps,
					    int64_t email_id, const char **error_r)
{
	enum store_error err = STORE_OK;
	for (size_t i = 0; i < 2 && err == STORE_OK; i++) {
		sqlite3_stmt *st = store_db_stmt(u, steps->sql[i], error_r);
		if (st == NULL)
			return STORE_ERR_INTERNAL;
		sqlite3_bind_int64(st, 1, email_id);
		err = store_db_step_done(u, st, steps->what, error_r);
	}
	return err;
}

/* In a write transaction: removes one expunged text from the index.
 * *found_r false when none waits. */
static enum store_error store_fts_remove_one(struct store_user *u, bool *found_r,
					     const char **error_r)
{
	static const char sql[] = "SELECT email_id FROM email_text_dead LIMIT 1";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	int64_t email_id = 0;
	enum store_error err = STORE_OK;
	int ret = store_db_int(u, st, &email_id, &err, error_r);
	*found_r = ret == 1;
	if (ret <= 0)
		return ret < 0 ? err : STORE_OK;
	return store_fts_run_steps(u, &store_fts_remove, email_id, error_r);
}

/* The oldest waiting text: kept as a copy, or derived from its body file
 * outside any transaction (the parse must not hold the user's write
 * lock). */
struct store_fts_waiting {
	int64_t email_id;
	bool has_copy;
	const char *headers, *body;   /* derived; NULL, NULL: no text */
};

/* Finds the oldest waiting text and, without a copy, derives it from the
 * body file (store_ingest_text). A body that cannot be read (a store
 * damaged by hand) counts as no text rather than being tried forever. */
static enum store_error store_fts_next_waiting(struct store_user *u, struct arena *a,
					       struct store_fts_waiting *w, bool *found_r,
					       const char **error_r)
{
	static const char sql[] =
		"SELECT p.email_id, p.headers IS NOT NULL OR p.body IS NOT NULL, e.hash"
		" FROM email_text_pending p LEFT JOIN emails e ON e.id = p.email_id"
		" ORDER BY p.email_id LIMIT 1";
	sqlite3_stmt *st = store_db_stmt(u, sql, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	int rc = sqlite3_step(st);
	*found_r = rc == SQLITE_ROW;
	memset(w, 0, sizeof(*w));
	const char *hash = NULL;
	if (rc == SQLITE_ROW) {
		w->email_id = sqlite3_column_int64(st, 0);
		w->has_copy = sqlite3_column_int(st, 1) != 0;
		hash = store_db_column_str(a, st, 2);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? STORE_OK : store_db_fail(u, rc, "find waiting text",
								     error_r);
	const char *error = NULL;
	if (!w->has_copy && hash != NULL &&
	    store_ingest_text(u, hash, a, &w->headers, &w->body, &error) != STORE_OK) {
		log_event(LOG_WARN, NULL, "fts_text_unreadable", "user=%s hash=%s error=\"%s\"",
			  u->name, hash, error != NULL ? error : "-");
		w->headers = w->body = NULL;
	}
	return STORE_OK;
}

/* In a write transaction: indexes w unless its message went meanwhile
 * (its waiting row went with it). */
static enum store_error store_fts_index_waiting(struct store_user *u,
					       const struct store_fts_waiting *w,
					       const char **error_r)
{
	static const char sql_forget[] = "DELETE FROM email_text_pending WHERE email_id = ?";
	static const char sql_index[] =
		"INSERT INTO email_text (rowid, headers, body) VALUES (?, ?, ?)";
	if (w->has_copy)
		return store_fts_run_steps(u, &store_fts_move, w->email_id, error_r);
	sqlite3_stmt *st = store_db_stmt(u, sql_forget, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, w->email_id);
	enum store_error err = store_db_step_done(u, st, "drop waiting text", error_r);
	if (err != STORE_OK || sqlite3_changes(u->db) == 0 ||
	    (w->headers == NULL && w->body == NULL))
		return err;
	st = store_db_stmt(u, sql_index, error_r);
	if (st == NULL)
		return STORE_ERR_INTERNAL;
	sqlite3_bind_int64(st, 1, w->email_id);
	store_db_bind_text(st, 2, w->headers);
	store_db_bind_text(st, 3, w->body);
	return store_db_step_done(u, st, "index email text", error_r);
}

/* One unit of work: an expunged text removed, else the oldest waiting
 * text indexed. *found_r false when nothing waits. */
static enum store_error store_fts_work_one(struct store_user *u, bool *found_r,
					   const char **error_r)
{
	store_sync_yield_to_writers(u);
	enum store_error err = store_db_begin_write(u, error_r);
	if (err != STORE_OK)
		return err;
	err = store_fts_remove_one(u, found_r, error_r);
	if (err == STORE_OK && *found_r)
		return store_db_commit(u, error_r);
	store_db_rollback(u, err);
	if (err != STORE_OK)
		return err;
	struct arena *a = arena_new(0);
	struct store_fts_waiting w;
	err = store_fts_next_waiting(u, a, &w, found_r, error_r);
	if (err == STORE_OK && *found_r) {
		store_sync_yield_to_writers(u);
		err = store_db_begin_write(u, error_r);
		if (err == STORE_OK)
			err = store_fts_index_waiting(u, &w, error_r);
		err = err == STORE_OK ? store_db_commit(u, error_r) : store_db_rollback(u, err);
	}
	arena_destroy(&a);
	return err;
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
	while (found && indexed < max_messages && err == STORE_OK) {
		err = store_fts_work_one(u, &found, error_r);
		if (err == STORE_OK && found)
			indexed++;
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

/* Under the lock: queues user, due delay_ms from now. While the indexer
 * works on a user it holds the user's write lock, which would make that
 * user's next delivery wait; so a user already queued is postponed with
 * each delivery (indexing starts once deliveries pause for delay_ms), but
 * never beyond delay_ms, or STORE_FTS_MAX_WAIT_MS if longer, after the
 * first one. */
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
