/* Sync-behind (store.h, "Durability off the event loop"; store-sync.c):
 * commits are numbered into per-thread tickets, a request completes once
 * the WAL is synced, change notifications wait for durability, and an
 * expunge unlinks blobs only after its commit is durable. A test gate
 * (PETREL_TEST_SYNC_GATE) holds the sync threads so that what waits for
 * durability can be watched. */

#include "test-common.h"
#include "test-store-common.h"

#include "lib/arena.h"
#include "store/store.h"
/* White-box: the handle's own pragma. */
#include "store/store-private.h"

#include <dirent.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char gate_path[300];

static void gate_close(void)
{
	FILE *f = fopen(gate_path, "w");
	if (f == NULL) {
		perror("gate");
		exit(1);
	}
	fclose(f);
}

static void gate_open(void)
{
	unlink(gate_path);
}

static void pause_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static uint64_t inbox_id(struct store_user *u)
{
	struct store_mailbox_status st;
	if (store_mailbox_status(u, "INBOX", &st, NULL) != STORE_OK)
		return 0;
	return st.id;
}

/* Appends a one-line message; returns its UID (0 on failure). */
static uint32_t append_text(struct store_user *u, const char *text)
{
	struct store_blob_writer *w;
	struct store_blob *blob = NULL;
	TEST_CHECK_INT(store_blob_writer_begin(test_dir, 0, &w, NULL), STORE_OK);
	TEST_CHECK_INT(store_blob_writer_write(w, text, strlen(text), NULL), STORE_OK);
	TEST_CHECK_INT(store_blob_writer_finish(&w, &blob, NULL), STORE_OK);
	struct store_append msg = { .blob = blob, .internal_date = 1700000000 };
	uint32_t uid = 0;
	TEST_CHECK_INT(store_msg_append(u, inbox_id(u), &msg, 1, NULL, &uid, NULL), STORE_OK);
	store_blob_free(&blob);
	return uid;
}

/* PRAGMA synchronous of the handle's own connection: 2 FULL, 1 NORMAL. */
static int handle_synchronous(struct store_user *u)
{
	sqlite3_stmt *st;
	int value = -1;
	if (sqlite3_prepare_v2(u->db, "PRAGMA synchronous", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			value = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	return value;
}


/* What the callbacks saw, from the sync threads. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done_calls;
	bool last_durable;
	int hook_calls;
} seen = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false, 0 };

static void on_done(bool durable, void *context)
{
	(void)context;
	pthread_mutex_lock(&seen.lock);
	seen.done_calls++;
	seen.last_durable = durable;
	pthread_cond_broadcast(&seen.cond);
	pthread_mutex_unlock(&seen.lock);
}

static void on_change(const struct store_change *change, void *context)
{
	(void)change;
	(void)context;
	pthread_mutex_lock(&seen.lock);
	seen.hook_calls++;
	pthread_cond_broadcast(&seen.cond);
	pthread_mutex_unlock(&seen.lock);
}

static int done_calls(void)
{
	pthread_mutex_lock(&seen.lock);
	int n = seen.done_calls;
	pthread_mutex_unlock(&seen.lock);
	return n;
}

static int hook_calls(void)
{
	pthread_mutex_lock(&seen.lock);
	int n = seen.hook_calls;
	pthread_mutex_unlock(&seen.lock);
	return n;
}

static void wait_done_calls(int n)
{
	pthread_mutex_lock(&seen.lock);
	while (seen.done_calls < n)
		pthread_cond_wait(&seen.cond, &seen.lock);
	pthread_mutex_unlock(&seen.lock);
}

static void wait_hook_calls(int n)
{
	pthread_mutex_lock(&seen.lock);
	while (seen.hook_calls < n)
		pthread_cond_wait(&seen.cond, &seen.lock);
	pthread_mutex_unlock(&seen.lock);
}

/* Asks for durability of the thread's commits and waits for the answer. */
static bool make_durable(void)
{
	struct store_sync_ticket *t = store_sync_take();
	int before = done_calls();
	if (store_sync_request(&t, on_done, NULL))
		return true;
	wait_done_calls(before + 1);
	pthread_mutex_lock(&seen.lock);
	bool durable = seen.last_durable;
	pthread_mutex_unlock(&seen.lock);
	return durable;
}

/* Before sync-behind starts: FULL, no tickets, notifications at once. */
static void test_default_commits_are_durable_on_return(void)
{
	struct store_user *u = user_open("plain");
	TEST_CHECK_INT(handle_synchronous(u), 2);
	TEST_CHECK(append_text(u, "Subject: a\r\n\r\nbody\r\n") == 1);
	TEST_CHECK(store_sync_take() == NULL);
	TEST_CHECK(!store_sync_behind_active());
	store_user_close(&u);
}

static void test_commits_are_numbered_into_the_thread_ticket(void)
{
	struct store_user *u = user_open("alice");
	struct store_user *again = user_open("alice");
	struct store_sync_ticket *t = store_sync_take();
	store_sync_ticket_free(&t); /* the new store's own commits */
	TEST_CHECK(store_sync_take() == NULL);
	/* Two handles on one database, two commits: one ticket. */
	TEST_CHECK(append_text(u, "Subject: 1\r\n\r\none\r\n") == 1);
	TEST_CHECK(append_text(again, "Subject: 2\r\n\r\ntwo\r\n") == 2);
	t = store_sync_take();
	TEST_CHECK(t != NULL);
	TEST_CHECK(store_sync_take() == NULL);
	int before = done_calls();
	if (!store_sync_request(&t, on_done, NULL)) {
		wait_done_calls(before + 1);
		TEST_CHECK(seen.last_durable);
	}
	TEST_CHECK(t == NULL);
	/* Once durable, nothing is left to wait for. */
	TEST_CHECK(store_sync_take() == NULL);
	store_user_close(&again);
	store_user_close(&u);
}

static void test_request_waits_for_the_sync(void)
{
	struct store_user *u = user_open("bob");
	struct store_user *v = user_open("carol");
	struct store_sync_ticket *t = store_sync_take();
	store_sync_ticket_free(&t);
	gate_close();
	int hooks = hook_calls();
	TEST_CHECK(append_text(u, "Subject: b\r\n\r\nbob\r\n") == 1);
	TEST_CHECK(append_text(v, "Subject: c\r\n\r\ncarol\r\n") == 1);
	/* Committed: another handle reads it at once. */
	struct store_user *reader = user_open("bob");
	struct store_mailbox_status st;
	TEST_CHECK_INT(store_mailbox_status(reader, "INBOX", &st, NULL), STORE_OK);
	TEST_CHECK_INT(st.messages, 1);
	t = store_sync_take();
	int before = done_calls();
	TEST_CHECK(!store_sync_request(&t, on_done, NULL));
	pause_ms(300);
	/* Neither answered nor announced while no sync can finish. */
	TEST_CHECK_INT(done_calls(), before);
	TEST_CHECK_INT(hook_calls(), hooks);
	gate_open();
	wait_done_calls(before + 1);
	TEST_CHECK(seen.last_durable);
	/* One request over two databases: one answer; two notifications. */
	pause_ms(100);
	TEST_CHECK_INT(done_calls(), before + 1);
	wait_hook_calls(hooks + 2);
	store_user_close(&reader);
	store_user_close(&v);
	store_user_close(&u);
}

static size_t blob_files(struct store_user *u)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/blobs", store_user_dir(u));
	size_t n = 0;
	for (int i = 0; i < 256; i++) {
		char shard[600];
		snprintf(shard, sizeof(shard), "%s/%02x", path, i);
		DIR *d = opendir(shard);
		if (d == NULL)
			continue;
		struct dirent *e;
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				n++;
		closedir(d);
	}
	return n;
}

/* A power failure must not bring back a row whose blob is gone: the blob
 * of an expunged message is unlinked only once the expunge is durable, by
 * the sync job; the expunge itself does not wait for the disk. */
static void test_expunge_unlinks_blobs_after_durability(void)
{
	struct store_user *u = user_open("dave");
	TEST_CHECK(append_text(u, "Subject: d\r\n\r\ndoomed\r\n") == 1);
	struct store_uid_range all = { 1, 1 };
	struct store_flag_change del = { .op = STORE_FLAGS_ADD, .flags = STORE_FLAG_DELETED };
	struct arena *a = arena_new(0);
	struct store_flags_result res;
	TEST_CHECK_INT(store_msg_set_flags(u, inbox_id(u), &all, 1, &del, a, &res, NULL),
		       STORE_OK);
	struct store_sync_ticket *t = store_sync_take();
	store_sync_ticket_free(&t);
	TEST_CHECK_INT(blob_files(u), 1);
	gate_close();
	uint32_t *uids;
	size_t count;
	TEST_CHECK_INT(store_msg_expunge(u, inbox_id(u), NULL, 0, a, &uids, &count, NULL),
		       STORE_OK);
	TEST_CHECK_INT(count, 1);
	t = store_sync_take();
	store_sync_ticket_free(&t);
	pause_ms(300);
	TEST_CHECK_INT(blob_files(u), 1);
	gate_open();
	for (int i = 0; i < 500 && blob_files(u) != 0; i++)
		pause_ms(10);
	TEST_CHECK_INT(blob_files(u), 0);
	arena_destroy(&a);
	store_user_close(&u);
}

/* Frames in the WAL of u's database, seen from a connection of its own.
 * Its passive checkpoint copies frames but never starts the WAL over. */
static int wal_frames(struct store_user *u)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/mail.db", store_user_dir(u));
	sqlite3 *db;
	int frames = -1;
	/* A first read makes the connection see WAL mode. */
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	    sqlite3_exec(db, "SELECT count(*) FROM account", NULL, NULL, NULL) == SQLITE_OK)
		(void)sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, NULL);
	sqlite3_close(db);
	return frames;
}

/* The WAL file's header: its page size and its checkpoint sequence
 * number, which grows each time the WAL starts over. */
struct wal_header {
	long page_size;
	long restarts;
	long file_size;
};

static long be32(const unsigned char *p)
{
	return (long)p[0] << 24 | (long)p[1] << 16 | (long)p[2] << 8 | (long)p[3];
}

static struct wal_header wal_header(struct store_user *u)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/mail.db-wal", store_user_dir(u));
	struct wal_header h = { 0, -1, 0 };
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return h;
	unsigned char bytes[32];
	if (fread(bytes, 1, sizeof(bytes), f) == sizeof(bytes) && fseek(f, 0, SEEK_END) == 0) {
		h.page_size = be32(bytes + 8);
		h.restarts = be32(bytes + 12);
		h.file_size = ftell(f);
	}
	fclose(f);
	return h;
}

/* Frames the WAL file has room for. A restarted WAL is overwritten from
 * the start, not cut, so this says how far the current WAL has reached
 * only once it is past any earlier one. */
static long wal_file_frames(struct store_user *u)
{
	struct wal_header h = wal_header(u);
	return h.page_size > 0 && h.file_size > 32 ? (h.file_size - 32) / (h.page_size + 24) : 0;
}

/* The first write after a checkpoint that copied every frame starts the
 * WAL over and syncs its new header: the sync thread does that write
 * itself, so that the fdatasync does not fall on a committing (worker)
 * thread. Seen here as a WAL holding one frame again with no further
 * write from the handle. */
static void test_checkpoint_starts_the_wal_over_itself(void)
{
	struct store_user *u = user_open("frank");
	TEST_CHECK(append_text(u, "Subject: f\r\n\r\nfrank\r\n") == 1);
	struct store_uid_range one = { 1, 1 };
	struct arena *a = arena_new(0);
	struct store_flags_result res;
	long restarts = wal_header(u).restarts;
	/* Writes stop with the commit that crosses the mark and asks the sync
	 * job to checkpoint: a write after it would start the WAL over on
	 * this thread (or append after the restart) and prove nothing. */
	for (int i = 0; i < 5000 && wal_file_frames(u) < 1000; i++) {
		struct store_flag_change seen_flag = { .op = i % 2 ? STORE_FLAGS_REMOVE : STORE_FLAGS_ADD,
						       .flags = STORE_FLAG_SEEN };
		TEST_CHECK_INT(store_msg_set_flags(u, inbox_id(u), &one, 1, &seen_flag, a, &res, NULL),
			       STORE_OK);
		arena_reset(a);
	}
	TEST_CHECK(wal_file_frames(u) >= 1000);
	TEST_CHECK(make_durable());
	/* Watched from the file first: a connection of ours, reading, could
	 * make the restart wait for the next writer. The new header is
	 * written just before the restarting write's frame is committed, so
	 * the frame count is then waited for as well. */
	for (int i = 0; i < 500 && (wal_header(u).restarts == restarts || wal_frames(u) != 1); i++)
		pause_ms(10);
	TEST_CHECK(wal_header(u).restarts != restarts);
	TEST_CHECK_INT(wal_frames(u), 1);
	arena_destroy(&a);
	store_user_close(&u);
}

static void test_handles_commit_with_normal_in_sync_behind(void)
{
	struct store_user *u = user_open("erin");
	TEST_CHECK_INT(handle_synchronous(u), 1);
	TEST_CHECK(make_durable()); /* creating the store committed */
	store_user_close(&u);
}

int main(void)
{
	test_dir_make("/tmp/petrel-test-sync.XXXXXX");
	snprintf(gate_path, sizeof(gate_path), "%s/gate", test_dir);
	test_run("default_commits_are_durable_on_return",
		 test_default_commits_are_durable_on_return);
	setenv("PETREL_TEST_SYNC_GATE", gate_path, 1);
	store_set_change_hook(on_change, NULL);
	store_sync_behind_start(2);
	TEST_CHECK(store_sync_behind_active());
	test_run("commits_are_numbered_into_the_thread_ticket",
		 test_commits_are_numbered_into_the_thread_ticket);
	test_run("request_waits_for_the_sync", test_request_waits_for_the_sync);
	test_run("expunge_unlinks_blobs_after_durability",
		 test_expunge_unlinks_blobs_after_durability);
	test_run("handles_commit_with_normal_in_sync_behind",
		 test_handles_commit_with_normal_in_sync_behind);
	test_run("checkpoint_starts_the_wal_over_itself", test_checkpoint_starts_the_wal_over_itself);
	store_sync_behind_stop();
	store_set_change_hook(NULL, NULL);
	test_dir_remove();
	return test_finish();
}
