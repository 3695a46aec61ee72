/* store_view_load (store-view.c): the view read in one statement, and the
 * per-thread cache brought up to date from HIGHESTMODSEQ, must always equal
 * what a plain read of the rows gives, whatever happened in between. */

#include "test-common.h"
#include "test-store-common.h"

#include "lib/arena.h"
#include "store/store.h"
/* White-box: big mailboxes are made with SQL (append_many). */
#include "store/store-private.h"

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

/* Above the size from which views are cached. */
#define BIG 5000

/* The id of an existing mailbox (a check fails when it is missing). */
static uint64_t existing_mailbox(struct store_user *u, const char *name)
{
	uint64_t id = mailbox_id(u, name);
	TEST_CHECK(id != 0);
	return id;
}

/* Appends one message through the store, then count - 1 copies of its row
 * with the following UIDs straight in SQL: thousands of real APPENDs would
 * spend minutes linking and syncing the same blob. */
static void append_many(struct store_user *u, uint64_t mbox, size_t count, uint32_t flags)
{
	static const char text[] = "Subject: x\r\n\r\nbody\r\n";
	static const char sql_copies[] =
		"WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?3)"
		" INSERT INTO messages (mailbox_id, uid, email_id, flags, keywords, modseq,"
		" internal_date, tz_offset, save_date, size)"
		" SELECT mailbox_id, uid + i, email_id, flags, keywords, modseq, internal_date,"
		" tz_offset, save_date, size FROM messages, k WHERE mailbox_id = ?1 AND uid = ?2";
	static const char sql_uidnext[] =
		"UPDATE mailboxes SET uidnext = uidnext + ?2 WHERE id = ?1";
	struct store_blob_writer *w;
	struct store_blob *blob = NULL;
	TEST_CHECK_INT(store_blob_writer_begin(test_dir, 0, &w, NULL), STORE_OK);
	TEST_CHECK_INT(store_blob_writer_write(w, text, strlen(text), NULL), STORE_OK);
	TEST_CHECK_INT(store_blob_writer_finish(&w, &blob, NULL), STORE_OK);
	struct store_append msg = { .blob = blob, .flags = flags, .internal_date = 1700000000 };
	uint32_t uid = 0;
	TEST_CHECK_INT(store_msg_append(u, mbox, &msg, 1, NULL, &uid, NULL), STORE_OK);
	store_blob_free(&blob);
	if (count < 2)
		return;
	const char *sqls[] = { sql_copies, sql_uidnext };
	for (size_t n = 0; n < 2; n++) {
		sqlite3_stmt *st;
		TEST_CHECK_INT(sqlite3_prepare_v2(u->db, sqls[n], -1, &st, NULL), SQLITE_OK);
		sqlite3_bind_int64(st, 1, (sqlite3_int64)mbox);
		sqlite3_bind_int64(st, 2, n == 0 ? uid : (sqlite3_int64)count - 1);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)count - 1);
		TEST_CHECK_INT(sqlite3_step(st), SQLITE_DONE);
		sqlite3_finalize(st);
	}
}

static void set_flags(struct store_user *u, uint64_t mbox, uint32_t first, uint32_t last,
		      enum store_flag_op op, uint32_t flags)
{
	struct arena *a = arena_new(0);
	struct store_uid_range range = { first, last };
	struct store_flag_change change = { .op = op, .flags = flags };
	struct store_flags_result res;
	TEST_CHECK_INT(store_msg_set_flags(u, mbox, &range, 1, &change, a, &res, NULL), STORE_OK);
	arena_destroy(&a);
}

static size_t expunge(struct store_user *u, uint64_t mbox, uint32_t first, uint32_t last)
{
	set_flags(u, mbox, first, last, STORE_FLAGS_ADD, STORE_FLAG_DELETED);
	struct arena *a = arena_new(0);
	struct store_uid_range range = { first, last };
	uint32_t *uids;
	size_t count = 0;
	TEST_CHECK_INT(store_msg_expunge(u, mbox, &range, 1, a, &uids, &count, NULL), STORE_OK);
	arena_destroy(&a);
	return count;
}

/* The view equals the rows read row by row, and the counters. */
static void check_view(struct store_user *u, uint64_t mbox)
{
	struct store_view view;
	TEST_CHECK_INT(store_view_load(u, mbox, &view, NULL), STORE_OK);
	struct store_mailbox_status status;
	TEST_CHECK_INT(store_mailbox_status_by_id(u, mbox, &status, NULL), STORE_OK);
	struct arena *a = arena_new(0);
	struct store_msg_row *rows;
	size_t count = 0;
	TEST_CHECK_INT(store_mailbox_rows(u, mbox, a, &rows, &count, NULL), STORE_OK);
	TEST_CHECK_INT(view.count, count);
	TEST_CHECK_INT(view.count, status.messages);
	TEST_CHECK_INT(view.highestmodseq, status.highestmodseq);
	TEST_CHECK_INT(view.uidnext, status.uidnext);
	size_t bad = 0;
	for (size_t i = 0; i < count && i < view.count; i++)
		if (view.uids[i] != rows[i].uid || view.flags[i] != rows[i].flags ||
		    view.modseqs[i] != rows[i].modseq)
			bad++;
	TEST_CHECK_INT(bad, 0);
	arena_destroy(&a);
	store_view_free(&view);
}

static void test_big_view_equals_rows_loaded_or_cached(void)
{
	struct store_user *u = user_open("plain");
	uint64_t mbox = existing_mailbox(u, "INBOX");
	append_many(u, mbox, BIG, 0);
	check_view(u, mbox); /* read whole, cached */
	check_view(u, mbox); /* from the cache */
	store_user_close(&u);
}

static void test_cached_view_follows_flags_expunges_and_appends(void)
{
	struct store_user *u = user_open("follow");
	uint64_t mbox = existing_mailbox(u, "INBOX");
	append_many(u, mbox, BIG, STORE_FLAG_SEEN);
	check_view(u, mbox);
	set_flags(u, mbox, 10, 20, STORE_FLAGS_ADD, STORE_FLAG_FLAGGED);
	check_view(u, mbox);
	TEST_CHECK_INT(expunge(u, mbox, 15, 17), 3);
	check_view(u, mbox);
	append_many(u, mbox, 7, 0);
	set_flags(u, mbox, 1, 1, STORE_FLAGS_REMOVE, STORE_FLAG_SEEN);
	TEST_CHECK_INT(expunge(u, mbox, BIG + 2, BIG + 3), 2);
	check_view(u, mbox);
	/* The last messages gone: the cache must not keep them. */
	TEST_CHECK_INT(expunge(u, mbox, BIG - 5, BIG + 7), 11);
	check_view(u, mbox);
	store_user_close(&u);
}

static void test_many_changes_read_the_view_again(void)
{
	struct store_user *u = user_open("many");
	uint64_t mbox = existing_mailbox(u, "INBOX");
	append_many(u, mbox, BIG, 0);
	check_view(u, mbox);
	set_flags(u, mbox, 1, BIG, STORE_FLAGS_ADD, STORE_FLAG_ANSWERED);
	TEST_CHECK_INT(expunge(u, mbox, 1, BIG / 2), BIG / 2);
	check_view(u, mbox);
	store_user_close(&u);
}

static void test_compacted_log_reads_the_view_again(void)
{
	struct store_user *u = user_open("compacted");
	uint64_t mbox = existing_mailbox(u, "INBOX");
	append_many(u, mbox, BIG, 0);
	check_view(u, mbox);
	/* The expunge log no longer reaches back to the cached state. */
	TEST_CHECK_INT(expunge(u, mbox, 100, 110), 11);
	struct store_mailbox_status status;
	TEST_CHECK_INT(store_mailbox_status_by_id(u, mbox, &status, NULL), STORE_OK);
	TEST_CHECK_INT(store_mailbox_compact_expunges(u, mbox, status.highestmodseq, NULL),
		       STORE_OK);
	check_view(u, mbox);
	store_user_close(&u);
}

static void test_changes_by_another_handle_are_seen(void)
{
	struct store_user *u = user_open("two");
	struct store_user *other = user_open("two");
	uint64_t mbox = existing_mailbox(u, "INBOX");
	append_many(u, mbox, BIG, 0);
	check_view(u, mbox);
	set_flags(other, mbox, 3, 3, STORE_FLAGS_ADD, STORE_FLAG_DRAFT);
	TEST_CHECK_INT(expunge(other, mbox, 4, 4), 1);
	append_many(other, mbox, 1, STORE_FLAG_FLAGGED);
	check_view(u, mbox);
	store_user_close(&other);
	store_user_close(&u);
}

static void test_recreated_mailbox_is_not_confused_with_the_old(void)
{
	struct store_user *u = user_open("again");
	TEST_CHECK_INT(store_mailbox_create(u, "Box", 0, NULL, NULL), STORE_OK);
	uint64_t mbox = existing_mailbox(u, "Box");
	append_many(u, mbox, BIG, STORE_FLAG_SEEN);
	check_view(u, mbox);
	TEST_CHECK_INT(store_mailbox_delete(u, "Box", NULL), STORE_OK);
	TEST_CHECK_INT(store_mailbox_create(u, "Box", 0, NULL, NULL), STORE_OK);
	uint64_t again = existing_mailbox(u, "Box");
	append_many(u, again, BIG, 0);
	check_view(u, again);
	store_user_close(&u);
}

/* Each thread has its own cache: loads in parallel threads are right. */
static void *load_in_thread(void *arg)
{
	struct store_user *u = user_open(arg);
	uint64_t mbox = existing_mailbox(u, "INBOX");
	for (int i = 0; i < 3; i++)
		check_view(u, mbox);
	store_user_close(&u);
	return NULL;
}

static void test_threads_load_with_their_own_caches(void)
{
	struct store_user *u = user_open("threads");
	append_many(u, existing_mailbox(u, "INBOX"), BIG, 0);
	store_user_close(&u);
	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, load_in_thread, "threads");
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
}

int main(void)
{
	test_dir_make("/tmp/petrel-test-view.XXXXXX");
	test_run("big_view_equals_rows_loaded_or_cached",
		 test_big_view_equals_rows_loaded_or_cached);
	test_run("cached_view_follows_flags_expunges_and_appends",
		 test_cached_view_follows_flags_expunges_and_appends);
	test_run("many_changes_read_the_view_again", test_many_changes_read_the_view_again);
	test_run("compacted_log_reads_the_view_again", test_compacted_log_reads_the_view_again);
	test_run("changes_by_another_handle_are_seen", test_changes_by_another_handle_are_seen);
	test_run("recreated_mailbox_is_not_confused_with_the_old",
		 test_recreated_mailbox_is_not_confused_with_the_old);
	test_run("threads_load_with_their_own_caches", test_threads_load_with_their_own_caches);
	test_dir_remove();
	return test_finish();
}
