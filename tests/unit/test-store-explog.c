/* The expunge log's compaction (store-explog.c): kept within its limits
 * after every expunge, and never a wrong answer from
 * store_mailbox_changes: exact above the floor, flagged incomplete with
 * the exact list of existing UIDs below it. */

#include "test-common.h"
#include "test-store-common.h"

#include "lib/arena.h"
#include "store/store.h"
/* White-box: the log's rows, its counter and their timestamps. */
#include "store/store-private.h"

#include <sys/stat.h>
#include <unistd.h>

static struct store_mailbox_status status_of(struct store_user *u, const char *name)
{
	struct store_mailbox_status status;
	memset(&status, 0, sizeof(status));
	TEST_CHECK_INT(store_mailbox_status(u, name, &status, NULL), STORE_OK);
	return status;
}

static void append_many(struct store_user *u, uint64_t mbox, size_t count)
{
	static const char text[] = "Subject: x\r\n\r\nbody\r\n";
	struct store_blob_writer *w;
	struct store_blob *blob = NULL;
	TEST_CHECK_INT(store_blob_writer_begin(test_dir, 0, &w, NULL), STORE_OK);
	TEST_CHECK_INT(store_blob_writer_write(w, text, strlen(text), NULL), STORE_OK);
	TEST_CHECK_INT(store_blob_writer_finish(&w, &blob, NULL), STORE_OK);
	struct store_append msgs[64];
	uint32_t uids[64];
	for (size_t i = 0; i < count; i++)
		msgs[i] = (struct store_append){ .blob = blob, .flags = STORE_FLAG_DELETED,
						 .internal_date = 1700000000 };
	TEST_CHECK_INT(store_msg_append(u, mbox, msgs, count, NULL, uids, NULL), STORE_OK);
	store_blob_free(&blob);
}

/* Expunges [first, last] (every message is \Deleted); returns the new
 * HIGHESTMODSEQ. */
static uint64_t expunge(struct store_user *u, uint64_t mbox, uint32_t first, uint32_t last)
{
	struct arena *a = arena_new(0);
	struct store_uid_range range = { first, last };
	uint32_t *uids;
	size_t count = 0;
	TEST_CHECK_INT(store_msg_expunge(u, mbox, &range, 1, a, &uids, &count, NULL), STORE_OK);
	arena_destroy(&a);
	struct store_mailbox_status st;
	TEST_CHECK_INT(store_mailbox_status_by_id(u, mbox, &st, NULL), STORE_OK);
	return st.highestmodseq;
}

static int64_t sql_int(struct store_user *u, const char *sql)
{
	sqlite3_stmt *st;
	int64_t value = -1;
	if (sqlite3_prepare_v2(u->db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		value = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return value;
}

static void sql_exec(struct store_user *u, const char *sql)
{
	TEST_CHECK_INT(sqlite3_exec(u->db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static int64_t log_entries(struct store_user *u)
{
	return sql_int(u, "SELECT count(*) FROM expunged");
}

static int64_t log_counter(struct store_user *u)
{
	return sql_int(u, "SELECT expunge_log_rows FROM mailboxes WHERE name = 'INBOX'");
}

/* "1,2,3" of a UID list, for comparisons. */
static const char *uid_list(struct arena *a, const uint32_t *uids, size_t count)
{
	char *out = arena_alloc(a, count * 11 + 1);
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < count; i++)
		n += (size_t)sprintf(out + n, "%s%u", i ? "," : "", uids[i]);
	return out;
}

static void test_count_limit_keeps_exact_answers_above_the_floor(void)
{
	store_set_expunge_log_limits(0, 3);
	struct store_user *u = user_open("count");
	uint64_t mbox = status_of(u, "INBOX").id;
	append_many(u, mbox, 10);
	uint64_t m[6];
	m[0] = status_of(u, "INBOX").highestmodseq;
	for (uint32_t uid = 1; uid <= 5; uid++)
		m[uid] = expunge(u, mbox, uid, uid);
	TEST_CHECK_INT(log_entries(u), 3);
	TEST_CHECK_INT(log_counter(u), 3);
	struct arena *a = arena_new(0);
	struct store_changes ch;
	/* At the floor: exact. */
	TEST_CHECK_INT(store_mailbox_changes(u, mbox, m[2], a, &ch, NULL), STORE_OK);
	TEST_CHECK(!ch.vanished_incomplete);
	TEST_CHECK_STR(uid_list(a, ch.vanished, ch.vanished_count), "3,4,5");
	/* Below it: incomplete, with every UID that exists. */
	TEST_CHECK_INT(store_mailbox_changes(u, mbox, m[1], a, &ch, NULL), STORE_OK);
	TEST_CHECK(ch.vanished_incomplete);
	TEST_CHECK_STR(uid_list(a, ch.present, ch.present_count), "6,7,8,9,10");
	TEST_CHECK_INT(store_mailbox_changes(u, mbox, m[0], a, &ch, NULL), STORE_OK);
	TEST_CHECK(ch.vanished_incomplete);
	TEST_CHECK_STR(uid_list(a, ch.present, ch.present_count), "6,7,8,9,10");
	arena_destroy(&a);
	store_user_close(&u);
}

static void test_one_big_expunge_over_the_limit_goes_whole(void)
{
	store_set_expunge_log_limits(0, 3);
	struct store_user *u = user_open("batch");
	uint64_t mbox = status_of(u, "INBOX").id;
	append_many(u, mbox, 8);
	uint64_t before = status_of(u, "INBOX").highestmodseq;
	uint64_t after = expunge(u, mbox, 2, 6);
	/* Five entries with one MODSEQ: all or none can go. */
	TEST_CHECK_INT(log_entries(u), 0);
	TEST_CHECK_INT(log_counter(u), 0);
	struct arena *a = arena_new(0);
	struct store_changes ch;
	TEST_CHECK_INT(store_mailbox_changes(u, mbox, before, a, &ch, NULL), STORE_OK);
	TEST_CHECK(ch.vanished_incomplete);
	TEST_CHECK_STR(uid_list(a, ch.present, ch.present_count), "1,7,8");
	TEST_CHECK_INT(store_mailbox_changes(u, mbox, after, a, &ch, NULL), STORE_OK);
	TEST_CHECK(!ch.vanished_incomplete);
	TEST_CHECK_INT(ch.vanished_count, 0);
	arena_destroy(&a);
	store_user_close(&u);
}

static void test_entries_older_than_max_age_go(void)
{
	store_set_expunge_log_limits(3600, 0);
	struct store_user *u = user_open("age");
	uint64_t mbox = status_of(u, "INBOX").id;
	append_many(u, mbox, 6);
	uint64_t first = expunge(u, mbox, 1, 1);
	uint64_t second = expunge(u, mbox, 2, 2);
	TEST_CHECK_INT(log_entries(u), 2);
	sql_exec(u, "UPDATE expunged SET expunged_at = expunged_at - 7200 WHERE uid = 1");
	expunge(u, mbox, 3, 3);
	TEST_CHECK_INT(log_entries(u), 2);
	TEST_CHECK_INT(sql_int(u, "SELECT expunge_floor FROM mailboxes WHERE name = 'INBOX'"),
		       (int64_t)first);
	struct arena *a = arena_new(0);
	struct store_changes ch;
	TEST_CHECK_INT(store_mailbox_changes(u, mbox, first, a, &ch, NULL), STORE_OK);
	TEST_CHECK(!ch.vanished_incomplete);
	TEST_CHECK_STR(uid_list(a, ch.vanished, ch.vanished_count), "2,3");
	TEST_CHECK_INT(store_mailbox_changes(u, mbox, second - 2, a, &ch, NULL), STORE_OK);
	TEST_CHECK(ch.vanished_incomplete);
	arena_destroy(&a);
	store_user_close(&u);
}

static void test_no_limits_keep_everything(void)
{
	store_set_expunge_log_limits(0, 0);
	struct store_user *u = user_open("nolimit");
	uint64_t mbox = status_of(u, "INBOX").id;
	append_many(u, mbox, 20);
	for (uint32_t uid = 1; uid <= 20; uid++)
		expunge(u, mbox, uid, uid);
	TEST_CHECK_INT(log_entries(u), 20);
	TEST_CHECK_INT(log_counter(u), 20);
	TEST_CHECK_INT(sql_int(u, "SELECT expunge_floor FROM mailboxes WHERE name = 'INBOX'"), 0);
	store_user_close(&u);
}

static void test_drifted_counter_is_repaired(void)
{
	store_set_expunge_log_limits(0, 5);
	struct store_user *u = user_open("drift");
	uint64_t mbox = status_of(u, "INBOX").id;
	append_many(u, mbox, 6);
	expunge(u, mbox, 1, 1);
	sql_exec(u, "UPDATE mailboxes SET expunge_log_rows = 1000 WHERE name = 'INBOX'");
	expunge(u, mbox, 2, 2);
	TEST_CHECK_INT(log_entries(u), 2);
	TEST_CHECK_INT(log_counter(u), 2);
	store_user_close(&u);
}

static void test_manual_compaction_keeps_the_counter(void)
{
	store_set_expunge_log_limits(0, 0);
	struct store_user *u = user_open("manual");
	uint64_t mbox = status_of(u, "INBOX").id;
	append_many(u, mbox, 6);
	expunge(u, mbox, 1, 1);
	uint64_t second = expunge(u, mbox, 2, 3);
	expunge(u, mbox, 4, 4);
	TEST_CHECK_INT(store_mailbox_compact_expunges(u, mbox, second, NULL), STORE_OK);
	TEST_CHECK_INT(log_entries(u), 1);
	TEST_CHECK_INT(log_counter(u), 1);
	store_user_close(&u);
}

static void test_move_source_log_is_trimmed(void)
{
	store_set_expunge_log_limits(0, 2);
	struct store_user *u = user_open("move");
	uint64_t src = status_of(u, "INBOX").id, dst = status_of(u, "Archive").id;
	append_many(u, src, 4);
	struct arena *a = arena_new(0);
	for (uint32_t uid = 1; uid <= 4; uid++) {
		struct store_uid_range range = { uid, uid };
		struct store_uid_map map;
		TEST_CHECK_INT(store_msg_move(u, src, &range, 1, dst, NULL, a, &map, NULL), STORE_OK);
	}
	TEST_CHECK_INT(log_entries(u), 2);
	arena_destroy(&a);
	store_user_close(&u);
}

int main(void)
{
	test_dir_make("/tmp/petrel-test-explog.XXXXXX");
	test_run("count_limit_keeps_exact_answers_above_the_floor",
		 test_count_limit_keeps_exact_answers_above_the_floor);
	test_run("one_big_expunge_over_the_limit_goes_whole",
		 test_one_big_expunge_over_the_limit_goes_whole);
	test_run("entries_older_than_max_age_go", test_entries_older_than_max_age_go);
	test_run("no_limits_keep_everything", test_no_limits_keep_everything);
	test_run("drifted_counter_is_repaired", test_drifted_counter_is_repaired);
	test_run("manual_compaction_keeps_the_counter", test_manual_compaction_keeps_the_counter);
	test_run("move_source_log_is_trimmed", test_move_source_log_is_trimmed);
	test_dir_remove();
	return test_finish();
}
