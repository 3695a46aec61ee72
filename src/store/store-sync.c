/* Sync-behind: durable commits without waiting for the disk in the thread
 * that commits (store.h, "Durability off the event loop").
 *
 * Why this is sound. In WAL mode with synchronous=NORMAL, SQLite's COMMIT
 * appends the transaction's frames to the -wal file and returns without
 * fsync; checkpoints still sync the WAL before copying it into the database
 * and sync the database before the WAL is reused or deleted. So once a
 * COMMIT has returned, an fdatasync of the -wal file makes that commit
 * durable; if the file has meanwhile been reset or deleted, a checkpoint
 * that synced the database has already made it durable. One fdatasync
 * covers every commit made before it started, by any handle or thread:
 * that is the group commit.
 *
 * The pieces:
 *  - one struct store_sync_db per database file in the process (a registry
 *    keyed by path), shared by every handle on it: its commit sequence
 *    number ("committed", bumped by the WAL hook after each COMMIT, on the
 *    committing thread), how far it is known durable, and the waiters;
 *  - a per-thread ticket: the highest sequence number per database that
 *    this thread committed and nobody has taken yet (store_sync_take);
 *  - a job per database on the sync threads, queued when someone waits and
 *    the database has no job yet; it loops (fdatasync, wake the waiters it
 *    covered) until no waiter is left, so commits arriving during one
 *    fdatasync are grouped into the next;
 *  - checkpoints: the WAL hook replaces SQLite's automatic checkpoint (which
 *    would fsync twice in the committing thread) and asks the job to run a
 *    PASSIVE checkpoint on the sync thread's own connection instead;
 *  - change notifications are handed to the hook only once the change is
 *    durable (see store_sync_publish_after);
 *  - the blobs of emails rows a commit deleted are released by the job
 *    once that commit is durable (store_sync_release_after): an unlink
 *    must not reach the disk before the commit does.
 *
 * A failed fdatasync is sticky for that database: after EIO the kernel may
 * have dropped the dirty pages and a later fdatasync would report success
 * for data that is gone, so every later wait on it fails too (until the
 * process restarts and SQLite recovers from what is on disk). */

#include "store/store-private.h"
#include "store/store-sync.h"

#include "lib/log.h"
#include "lib/workqueue.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* WAL size (in pages) above which the sync thread checkpoints: SQLite's own
 * default for its automatic checkpoint. */
#define STORE_SYNC_CHECKPOINT_FRAMES 1000
#define STORE_SYNC_BUSY_TIMEOUT_MS 10000
/* Databases one ticket remembers. A thread that acknowledges takes its
 * ticket after every step, which touches one database or a few; a thread
 * that never takes it (a background indexer) must not pin every database
 * it ever wrote, so past this the oldest mark is dropped: nobody waits on
 * it. */
#define STORE_SYNC_TICKET_MAX 64

struct store_sync_waiter {
	struct store_sync_waiter *next;
	uint64_t seq;
	store_sync_done_t *done;   /* called on a sync thread, lock not held */
	void *context;
};

struct store_sync_db {
	struct store_sync_db *next;        /* registry */
	char *path;                        /* mail.db */
	char *user;                        /* the store's owner, for notifications */
	unsigned refs;                     /* handles, ticket marks, a scheduled job */
	/* Sequence number of the last COMMIT: written under the lock, read
	 * without it by store_user_commit_seq (after every command). */
	_Atomic uint64_t committed;
	uint64_t durable;                  /* every commit up to this one is durable */
	bool scheduled;                    /* a job is queued or running */
	bool checkpoint_wanted;
	bool failed;                       /* an fdatasync failed: sticky */
	atomic_uint writers_waiting;       /* in BEGIN IMMEDIATE (store_sync_writer_waits) */
	struct store_sync_waiter *waiters; /* any order */
	/* Touched only by the database's job (one at a time): */
	dev_t wal_dev;                     /* the -wal file whose directory */
	ino_t wal_ino;                     /* entry is known durable */
	struct store_user *pool_user;      /* the sync threads' own connection */
};

/* The context of the hooks on one handle's connection. */
struct store_sync_handle {
	struct store_sync_db *db;
	bool dropped_email;                /* the open transaction deleted an emails row */
	uint64_t release_seq;              /* the last COMMIT, if it deleted one */
};

struct store_sync_mark {
	struct store_sync_db *db;
	uint64_t seq;
};

struct store_sync_ticket {
	struct store_sync_mark *marks;     /* one per database */
	size_t count, cap;
};

/* One store_sync_request over several databases. */
struct store_sync_request {
	atomic_uint remaining;
	atomic_bool failed;
	store_sync_done_t *done;
	void *context;
};

static struct {
	pthread_mutex_t lock;              /* everything below and in the dbs */
	pthread_cond_t changed;            /* a job ended or a blocking wait ended */
	struct workqueue *queue;           /* NULL: sync-behind is off */
	struct store_sync_db *dbs;
	unsigned jobs;                     /* scheduled jobs */
	char *gate;                        /* PETREL_TEST_SYNC_GATE (tests only) */
} store_sync = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.changed = PTHREAD_COND_INITIALIZER,
};

static atomic_bool store_sync_active;

/* Each thread's untaken ticket. A key rather than a thread-local pointer so
 * that a thread that never takes its ticket (the news feed's, say) still
 * releases it when it exits. */
static pthread_key_t store_sync_ticket_key;
static pthread_once_t store_sync_key_once = PTHREAD_ONCE_INIT;
/* Set by the WAL hook for the COMMIT the thread is running. */
static _Thread_local struct store_sync_handle *store_sync_last_handle;
static _Thread_local uint64_t store_sync_last_seq;

static void store_sync_run(void *arg);

/* ---- The registry ---- */

static struct store_sync_db *store_sync_db_get_locked(const char *path, const char *user)
{
	for (struct store_sync_db *db = store_sync.dbs; db != NULL; db = db->next) {
		if (strcmp(db->path, path) == 0) {
			db->refs++;
			return db;
		}
	}
	struct store_sync_db *db = xcalloc(1, sizeof(*db));
	db->path = xstrdup(path);
	db->user = xstrdup(user);
	db->refs = 1;
	db->next = store_sync.dbs;
	store_sync.dbs = db;
	return db;
}

/* Drops a reference; returns db when it was the last one (the caller
 * destroys it once the lock is released), else NULL. */
static struct store_sync_db *store_sync_db_unref_locked(struct store_sync_db *db)
{
	if (--db->refs > 0)
		return NULL;
	for (struct store_sync_db **pp = &store_sync.dbs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == db) {
			*pp = db->next;
			break;
		}
	}
	return db;
}

static void store_sync_pool_user_close(struct store_sync_db *db)
{
	struct store_user *pu = db->pool_user;
	if (pu == NULL)
		return;
	store_db_close(pu);
	free(pu->pending);
	free(pu->name);
	free(pu);
	db->pool_user = NULL;
}

/* Outside the lock: the last connection's close may checkpoint. */
static void store_sync_db_destroy(struct store_sync_db *db)
{
	if (db == NULL)
		return;
	store_sync_pool_user_close(db);
	free(db->path);
	free(db->user);
	free(db);
}

static void store_sync_db_unref(struct store_sync_db *db)
{
	pthread_mutex_lock(&store_sync.lock);
	struct store_sync_db *gone = store_sync_db_unref_locked(db);
	pthread_mutex_unlock(&store_sync.lock);
	store_sync_db_destroy(gone);
}

/* Queues the database's job unless it has one. */
static void store_sync_schedule_locked(struct store_sync_db *db)
{
	if (db->scheduled)
		return;
	db->scheduled = true;
	db->refs++;
	store_sync.jobs++;
	workqueue_submit(store_sync.queue, store_sync_run, db);
}

/* ---- Tickets ---- */

static void store_sync_ticket_at_exit(void *ticket)
{
	struct store_sync_ticket *t = ticket;
	store_sync_ticket_free(&t);
}

static void store_sync_key_make(void)
{
	if (pthread_key_create(&store_sync_ticket_key, store_sync_ticket_at_exit) != 0)
		abort();
}

/* Notes commit seq of db in the thread's ticket. Returns a database whose
 * mark was dropped to make room (unref it once the lock is released). */
static struct store_sync_db *store_sync_ticket_note_locked(struct store_sync_db *db,
							  uint64_t seq)
{
	struct store_sync_ticket *t = pthread_getspecific(store_sync_ticket_key);
	if (t == NULL) {
		t = xcalloc(1, sizeof(*t));
		pthread_setspecific(store_sync_ticket_key, t);
	}
	for (size_t i = 0; i < t->count; i++) {
		if (t->marks[i].db == db) {
			if (seq > t->marks[i].seq)
				t->marks[i].seq = seq;
			return NULL;
		}
	}
	struct store_sync_db *dropped = NULL;
	if (t->count == STORE_SYNC_TICKET_MAX) {
		dropped = t->marks[0].db;
		memmove(t->marks, t->marks + 1, (t->count - 1) * sizeof(*t->marks));
		t->count--;
	}
	if (t->count == t->cap) {
		t->cap = t->cap == 0 ? 4 : t->cap * 2;
		t->marks = xrealloc(t->marks, t->cap * sizeof(*t->marks));
	}
	db->refs++;
	t->marks[t->count++] = (struct store_sync_mark){ .db = db, .seq = seq };
	return dropped;
}

struct store_sync_ticket *store_sync_take(void)
{
	pthread_once(&store_sync_key_once, store_sync_key_make);
	struct store_sync_ticket *t = pthread_getspecific(store_sync_ticket_key);
	if (t != NULL)
		pthread_setspecific(store_sync_ticket_key, NULL);
	return t;
}

void store_sync_ticket_free(struct store_sync_ticket **ticket)
{
	struct store_sync_ticket *t = *ticket;
	if (t == NULL)
		return;
	*ticket = NULL;
	for (size_t i = 0; i < t->count; i++)
		store_sync_db_unref(t->marks[i].db);
	free(t->marks);
	free(t);
}

/* ---- Waiting ---- */

/* Adds a waiter for seq unless it is durable already (then false, and done
 * is not called). */
static bool store_sync_wait_locked(struct store_sync_db *db, uint64_t seq,
				   store_sync_done_t *done, void *context)
{
	if (seq <= db->durable)
		return false;
	struct store_sync_waiter *w = xmalloc(sizeof(*w));
	*w = (struct store_sync_waiter){ .next = db->waiters, .seq = seq, .done = done,
					 .context = context };
	db->waiters = w;
	store_sync_schedule_locked(db);
	return true;
}

static void store_sync_request_part_done(bool durable, void *context)
{
	struct store_sync_request *req = context;
	if (!durable)
		atomic_store(&req->failed, true);
	if (atomic_fetch_sub(&req->remaining, 1) == 1) {
		req->done(!atomic_load(&req->failed), req->context);
		free(req);
	}
}

bool store_sync_request(struct store_sync_ticket **ticket, store_sync_done_t *done,
			void *context)
{
	struct store_sync_ticket *t = *ticket;
	*ticket = NULL;
	if (t == NULL)
		return true;
	struct store_sync_request *req = xcalloc(1, sizeof(*req));
	req->done = done;
	req->context = context;
	unsigned parts = 0;
	pthread_mutex_lock(&store_sync.lock);
	/* No part can finish before the lock is released: a job needs it to
	 * hand its waiters over. */
	for (size_t i = 0; i < t->count; i++) {
		if (store_sync_wait_locked(t->marks[i].db, t->marks[i].seq,
					   store_sync_request_part_done, req))
			parts++;
	}
	atomic_store(&req->remaining, parts);
	pthread_mutex_unlock(&store_sync.lock);
	store_sync_ticket_free(&t);
	if (parts > 0)
		return false;
	free(req);
	return true;
}

/* ---- The sync threads ---- */

/* Tests only: while the file named by PETREL_TEST_SYNC_GATE exists, no
 * commit becomes durable, so that a test can watch what waits for it. */
static void store_sync_test_gate(void)
{
	if (store_sync.gate == NULL)
		return;
	struct timespec pause = { .tv_nsec = 10 * 1000 * 1000 };
	while (access(store_sync.gate, F_OK) == 0)
		nanosleep(&pause, NULL);
}

static bool store_sync_dir_of(const char *path, const char **error_r)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash != NULL)
		*slash = '\0';
	bool ok = store_fsync_dir(slash != NULL ? dir : ".", error_r);
	free(dir);
	return ok;
}

/* fdatasync of the database's -wal file; when the file is one we have not
 * synced before, its directory too: NORMAL does not sync a new WAL's
 * directory entry before the commits we acknowledge. */
static bool store_sync_wal(struct store_sync_db *db)
{
	const char *error;
	size_t len = strlen(db->path) + 5;
	char *wal = xmalloc(len);
	snprintf(wal, len, "%s-wal", db->path);
	store_sync_test_gate();
	bool ok = true;
	int fd = open(wal, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		/* Gone: the last connection to close checkpointed every frame
		 * (syncing the database) and deleted it. */
		if (errno != ENOENT) {
			store_sys_fail("open WAL for sync", wal, errno, &error);
			ok = false;
		}
		free(wal);
		return ok;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || fdatasync(fd) < 0) {
		store_sys_fail("sync WAL", wal, errno, &error);
		ok = false;
	} else if (st.st_ino != db->wal_ino || st.st_dev != db->wal_dev) {
		ok = store_sync_dir_of(db->path, &error);
		if (ok) {
			db->wal_ino = st.st_ino;
			db->wal_dev = st.st_dev;
		}
	}
	close(fd);
	free(wal);
	return ok;
}

/* The sync threads' own connection to the database (checkpoints, reading
 * the rows a notification carries), opened on first use. */
static struct store_user *store_sync_pool_user(struct store_sync_db *db)
{
	if (db->pool_user != NULL)
		return db->pool_user;
	struct store_user *pu = xcalloc(1, sizeof(*pu));
	pu->name = xstrdup(db->user);
	int rc = sqlite3_open_v2(db->path, &pu->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		const char *error;
		store_db_fail(pu, rc, "open database for the sync thread", &error);
		store_db_close(pu);
		free(pu->name);
		free(pu);
		return NULL;
	}
	sqlite3_busy_timeout(pu->db, STORE_SYNC_BUSY_TIMEOUT_MS);
	/* Its only write (store_sync_restart_wal) changes nothing and needs no
	 * sync of its own; checkpoints still sync (WAL mode, NORMAL). */
	(void)sqlite3_exec(pu->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	db->pool_user = pu;
	return pu;
}

/* After a checkpoint that copied every frame: starts the WAL over here,
 * with a write that changes nothing. The first write after such a
 * checkpoint writes a new WAL header and syncs it (SQLite does, so that a
 * restarted WAL stays sound across a power loss); left to the next writer,
 * that fdatasync would stall a worker thread and every session on it. If
 * a reader still uses the old frames, SQLite appends instead and the next
 * writer starts the WAL over, as without this. */
static void store_sync_restart_wal(struct store_user *pu)
{
	int rc = sqlite3_exec(pu->db, "UPDATE account SET id = id WHERE id = 1", NULL, NULL, NULL);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
		const char *error;
		store_db_fail(pu, rc, "start the WAL over", &error);
	}
}

/* PASSIVE: copies what it can without waiting for readers or blocking the
 * writer. */
static void store_sync_checkpoint(struct store_sync_db *db)
{
	struct store_user *pu = store_sync_pool_user(db);
	if (pu == NULL)
		return;
	int frames = 0, copied = 0;
	int rc = sqlite3_wal_checkpoint_v2(pu->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames,
					   &copied);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
		const char *error;
		store_db_fail(pu, rc, "checkpoint", &error);
	} else if (rc == SQLITE_OK && frames > 0 && copied == frames) {
		store_sync_restart_wal(pu);
	}
}

/* Takes the waiters whose commits are covered by a sync up to target. */
static struct store_sync_waiter *store_sync_detach_locked(struct store_sync_db *db,
							  uint64_t target)
{
	struct store_sync_waiter *ready = NULL, **pp = &db->waiters;
	while (*pp != NULL) {
		struct store_sync_waiter *w = *pp;
		if (w->seq <= target) {
			*pp = w->next;
			w->next = ready;
			ready = w;
		} else {
			pp = &w->next;
		}
	}
	return ready;
}

static bool store_sync_needed_locked(const struct store_sync_db *db)
{
	for (const struct store_sync_waiter *w = db->waiters; w != NULL; w = w->next)
		if (w->seq > db->durable)
			return true;
	return false;
}

/* One round: sync if a waiter needs it, wake the waiters covered, run a
 * checkpoint if one was asked for. Called and returns with the lock held. */
static void store_sync_round_locked(struct store_sync_db *db)
{
	uint64_t target = atomic_load(&db->committed);
	bool sync = store_sync_needed_locked(db);
	bool checkpoint = db->checkpoint_wanted;
	bool failed = db->failed;
	db->checkpoint_wanted = false;
	pthread_mutex_unlock(&store_sync.lock);

	bool durable = !failed && (!sync || store_sync_wal(db));

	pthread_mutex_lock(&store_sync.lock);
	if (!durable && !db->failed) {
		db->failed = true;
		log_event(LOG_ERROR, NULL, "store_sync_failed",
			  "path=%s hint=\"commits may be lost on power failure; restart\"", db->path);
	}
	if (sync && durable && target > db->durable)
		db->durable = target;
	/* Without a sync only a failure has anything to report. */
	struct store_sync_waiter *ready =
		store_sync_detach_locked(db, sync || !durable ? target : db->durable);
	pthread_mutex_unlock(&store_sync.lock);

	while (ready != NULL) {
		struct store_sync_waiter *next = ready->next;
		ready->done(durable, ready->context);
		free(ready);
		ready = next;
	}
	if (checkpoint && durable)
		store_sync_checkpoint(db);
	pthread_mutex_lock(&store_sync.lock);
}

static void store_sync_run(void *arg)
{
	struct store_sync_db *db = arg;
	pthread_mutex_lock(&store_sync.lock);
	do {
		store_sync_round_locked(db);
	} while (db->waiters != NULL || db->checkpoint_wanted);
	db->scheduled = false;
	store_sync.jobs--;
	pthread_cond_broadcast(&store_sync.changed);
	struct store_sync_db *gone = store_sync_db_unref_locked(db);
	pthread_mutex_unlock(&store_sync.lock);
	store_sync_db_destroy(gone);
}

/* ---- Change notifications after durability ---- */

struct store_sync_publish {
	struct store_sync_db *db;
	size_t count;
	struct store_pending_change changes[];
};

/* On the database's job, after the sync: the pool's connection reads the
 * rows the notification carries, as the committing handle would have. */
static void store_sync_publish_run(bool durable, void *context)
{
	struct store_sync_publish *p = context;
	(void)durable; /* committed and visible either way */
	struct store_user *pu = store_sync_pool_user(p->db);
	if (pu != NULL) {
		for (size_t i = 0; i < p->count; i++)
			store_change_note(pu, p->changes[i].mailbox_id, p->changes[i].kind);
		store_change_publish(pu);
	}
	free(p);
}

/* Hands u's pending changes to the job of its database, to be published
 * once commit seq is durable. False (nothing taken) when it already is. */
static bool store_sync_publish_after(struct store_user *u, struct store_sync_db *db,
				     uint64_t seq)
{
	size_t count = u->pending_count;
	struct store_sync_publish *p = xmalloc(sizeof(*p) + count * sizeof(p->changes[0]));
	p->db = db;
	p->count = count;
	memcpy(p->changes, u->pending, count * sizeof(p->changes[0]));
	pthread_mutex_lock(&store_sync.lock);
	bool queued = store_sync_wait_locked(db, seq, store_sync_publish_run, p);
	pthread_mutex_unlock(&store_sync.lock);
	if (!queued) {
		free(p);
		return false;
	}
	u->pending_count = 0;
	return true;
}

/* ---- Blobs released after durability ---- */

struct store_sync_release {
	struct store_sync_db *db;
	char *blobs_dir;
	char *tmp_dir;
	size_t count;
	char *hashes[];
};

static void store_sync_release_free(struct store_sync_release *r)
{
	for (size_t i = 0; i < r->count; i++)
		free(r->hashes[i]);
	free(r->blobs_dir);
	free(r->tmp_dir);
	free(r);
}

/* On the database's job, after the sync. */
static void store_sync_release_run(bool durable, void *context)
{
	struct store_sync_release *r = context;
	struct store_user *pu = durable ? store_sync_pool_user(r->db) : NULL;
	if (pu != NULL)
		store_blobs_release_in(pu, r->blobs_dir, r->tmp_dir,
				       (const char *const *)r->hashes, r->count);
	store_sync_release_free(r);
}

bool store_sync_release_after(struct store_user *u, const char *const *hashes, size_t count)
{
	struct store_sync_handle *h = u->sync;
	if (h == NULL || h->release_seq == 0)
		return false;
	uint64_t seq = h->release_seq;
	h->release_seq = 0;
	struct store_sync_release *r = xmalloc(sizeof(*r) + count * sizeof(r->hashes[0]));
	r->db = h->db;
	r->blobs_dir = xstrdup(u->blobs_dir);
	r->tmp_dir = xstrdup(u->tmp_dir);
	r->count = count;
	for (size_t i = 0; i < count; i++)
		r->hashes[i] = xstrdup(hashes[i]);
	pthread_mutex_lock(&store_sync.lock);
	bool queued = store_sync_wait_locked(h->db, seq, store_sync_release_run, r);
	pthread_mutex_unlock(&store_sync.lock);
	if (!queued)
		store_sync_release_free(r);
	return queued;
}

/* ---- Hooks on each handle's connection ---- */

/* After every COMMIT, on the committing thread, write lock released. */
static int store_sync_wal_hook(void *context, sqlite3 *sql, const char *name, int frames)
{
	struct store_sync_handle *h = context;
	(void)sql;
	(void)name;
	pthread_mutex_lock(&store_sync.lock);
	uint64_t seq = atomic_fetch_add(&h->db->committed, 1) + 1;
	struct store_sync_db *dropped = store_sync_ticket_note_locked(h->db, seq);
	if (frames >= STORE_SYNC_CHECKPOINT_FRAMES && !h->db->checkpoint_wanted) {
		h->db->checkpoint_wanted = true;
		store_sync_schedule_locked(h->db);
	}
	pthread_mutex_unlock(&store_sync.lock);
	if (dropped != NULL)
		store_sync_db_unref(dropped);
	store_sync_last_handle = h;
	store_sync_last_seq = seq;
	return SQLITE_OK;
}

/* A deleted emails row means a blob is about to be unlinked
 * (store_blobs_release after COMMIT). */
static void store_sync_update_hook(void *context, int op, const char *dbname,
				   const char *table, sqlite3_int64 rowid)
{
	struct store_sync_handle *h = context;
	(void)dbname;
	(void)rowid;
	if (op == SQLITE_DELETE && strcmp(table, "emails") == 0)
		h->dropped_email = true;
}

static void store_sync_rollback_hook(void *context)
{
	struct store_sync_handle *h = context;
	h->dropped_email = false;
}

void store_sync_writer_waits(struct store_user *u, bool waiting)
{
	if (u->sync == NULL)
		return;
	if (waiting)
		atomic_fetch_add(&u->sync->db->writers_waiting, 1);
	else
		atomic_fetch_sub(&u->sync->db->writers_waiting, 1);
}

void store_sync_yield_to_writers(struct store_user *u)
{
	if (u->sync == NULL)
		return;
	struct timespec pause = { .tv_nsec = 500 * 1000 };
	for (int i = 0; i < 400 && atomic_load(&u->sync->db->writers_waiting) > 0; i++)
		nanosleep(&pause, NULL);
}

uint64_t store_user_commit_seq(const struct store_user *u)
{
	const struct store_sync_handle *h = u->sync;
	if (h == NULL)
		return 0;
	return atomic_load(&h->db->committed) + 1;
}

bool store_sync_behind_active(void)
{
	return atomic_load(&store_sync_active);
}

enum store_error store_sync_attach(struct store_user *u, const char *path,
				   const char **error_r)
{
	enum store_error err = store_db_exec(u, "PRAGMA synchronous = NORMAL", error_r);
	if (err != STORE_OK)
		return err;
	struct store_sync_handle *h = xcalloc(1, sizeof(*h));
	pthread_mutex_lock(&store_sync.lock);
	h->db = store_sync_db_get_locked(path, u->name);
	pthread_mutex_unlock(&store_sync.lock);
	/* Replaces SQLite's automatic checkpoint (itself a WAL hook). */
	sqlite3_wal_hook(u->db, store_sync_wal_hook, h);
	sqlite3_update_hook(u->db, store_sync_update_hook, h);
	u->sync = h;
	sqlite3_rollback_hook(u->db, store_sync_rollback_hook, h);
	return STORE_OK;
}

void store_sync_detach(struct store_user *u)
{
	/* The update hook's previous argument is the handle's context. */
	struct store_sync_handle *h = sqlite3_update_hook(u->db, NULL, NULL);
	u->sync = NULL;
	if (h == NULL)
		return;
	sqlite3_wal_hook(u->db, NULL, NULL);
	sqlite3_rollback_hook(u->db, NULL, NULL);
	if (store_sync_last_handle == h)
		store_sync_last_handle = NULL;
	store_sync_db_unref(h->db);
	free(h);
}

void store_sync_commit_begin(void)
{
	store_sync_last_handle = NULL;
}

enum store_error store_sync_commit_end(struct store_user *u, const char **error_r)
{
	(void)error_r;
	struct store_sync_handle *h = store_sync_last_handle;
	store_sync_last_handle = NULL;
	if (h == NULL) {
		/* Nothing written: nothing to wait for. */
		store_change_publish(u);
		return STORE_OK;
	}
	if (u->pending_count == 0 || !store_sync_publish_after(u, h->db, store_sync_last_seq))
		store_change_publish(u);
	/* The caller releases the blobs of the dropped rows next
	 * (store_sync_release_after). */
	h->release_seq = h->dropped_email ? store_sync_last_seq : 0;
	h->dropped_email = false;
	return STORE_OK;
}

/* ---- Start and stop ---- */

void store_sync_behind_start(unsigned threads)
{
	const char *gate = getenv("PETREL_TEST_SYNC_GATE");
	store_sync.gate = gate != NULL && gate[0] != '\0' ? xstrdup(gate) : NULL;
	pthread_once(&store_sync_key_once, store_sync_key_make);
	store_sync.queue = workqueue_new(threads, "petrel-sync");
	atomic_store(&store_sync_active, true);
}

static void store_sync_drain(void)
{
	pthread_mutex_lock(&store_sync.lock);
	while (store_sync.jobs > 0)
		pthread_cond_wait(&store_sync.changed, &store_sync.lock);
	pthread_mutex_unlock(&store_sync.lock);
}

void store_sync_thread_end(void)
{
	struct store_sync_ticket *t = store_sync_take();
	store_sync_ticket_free(&t);
	store_sync_drain();
}

void store_sync_behind_stop(void)
{
	if (store_sync.queue == NULL)
		return;
	store_sync_thread_end();
	atomic_store(&store_sync_active, false);
	workqueue_destroy(&store_sync.queue);
	free(store_sync.gate);
	store_sync.gate = NULL;
}
