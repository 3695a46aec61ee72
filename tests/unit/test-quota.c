/* Store-level QUOTA (RFC 9208) and import ledger: limits, the rule that
 * only growth can go over a limit, enforcement inside APPEND/COPY/MOVE
 * transactions, store_quota_check for deliveries, and the v1 -> v2 schema
 * migration. */

#include "test-common.h"
#include "test-store-common.h"

#include "lib/arena.h"
#include "store/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t mailbox_messages(struct store_user *u, const char *name)
{
	struct store_mailbox_status status;
	if (store_mailbox_status(u, name, &status, NULL) != STORE_OK)
		return UINT32_MAX;
	return status.messages;
}

/* Appends count messages of size bytes each in one transaction. */
static enum store_error append_n(struct store_user *u, const char *mailbox, size_t count,
				 size_t size, const char *const *keys)
{
	struct store_append apps[8];
	struct store_blob *blobs[8];
	uint32_t uids[8];
	char text[4096];
	static unsigned serial;
	for (size_t i = 0; i < count; i++) {
		int n = snprintf(text, sizeof(text), "Subject: %u\r\n\r\n", serial++);
		memset(text + n, 'x', size - (size_t)n);
		struct store_blob_writer *w;
		TEST_CHECK_INT(store_blob_writer_begin(test_dir, 0, &w, NULL), STORE_OK);
		TEST_CHECK_INT(store_blob_writer_write(w, text, size, NULL), STORE_OK);
		TEST_CHECK_INT(store_blob_writer_finish(&w, &blobs[i], NULL), STORE_OK);
		apps[i] = (struct store_append){ .blob = blobs[i], .internal_date = 1,
						 .import_key = keys != NULL ? keys[i] : NULL };
	}
	const char *error;
	enum store_error err = store_msg_append(u, mailbox_id(u, mailbox), apps, count, NULL,
						uids, &error);
	for (size_t i = 0; i < count; i++)
		store_blob_free(&blobs[i]);
	return err;
}

static struct store_quota quota_get(struct store_user *u)
{
	struct store_quota q;
	TEST_CHECK_INT(store_quota_get(u, &q, NULL), STORE_OK);
	return q;
}

static void limits_set(struct store_user *u, bool has_kib, uint64_t kib, bool has_msgs,
		       uint64_t msgs)
{
	struct store_quota q = { .has_storage_limit = has_kib, .storage_limit_kib = kib,
				 .has_message_limit = has_msgs, .message_limit = msgs };
	TEST_CHECK_INT(store_quota_set(u, &q, NULL), STORE_OK);
}

static void test_new_store_has_no_limits(void)
{
	struct store_user *u = user_open("fresh");
	struct store_quota q = quota_get(u);
	TEST_CHECK(!q.has_storage_limit && !q.has_message_limit);
	TEST_CHECK_INT(q.storage_bytes, 0);
	TEST_CHECK_INT(q.messages, 0);
	TEST_CHECK_INT(store_quota_check(u, UINT64_MAX / 2, 1000000, NULL), STORE_OK);
	store_user_close(&u);
}

static void test_limits_are_set_and_replaced(void)
{
	struct store_user *u = user_open("limits");
	limits_set(u, true, 10, true, 5);
	struct store_quota q = quota_get(u);
	TEST_CHECK(q.has_storage_limit && q.storage_limit_kib == 10);
	TEST_CHECK(q.has_message_limit && q.message_limit == 5);
	limits_set(u, false, 0, true, 7);
	q = quota_get(u);
	TEST_CHECK(!q.has_storage_limit && q.has_message_limit && q.message_limit == 7);
	struct store_quota too_big = { .has_storage_limit = true,
				       .storage_limit_kib = (uint64_t)STORE_QUOTA_STORAGE_KIB_MAX + 1 };
	TEST_CHECK_INT(store_quota_set(u, &too_big, NULL), STORE_ERR_INVALID);
	too_big = (struct store_quota){ .has_message_limit = true, .message_limit = UINT64_MAX };
	TEST_CHECK_INT(store_quota_set(u, &too_big, NULL), STORE_ERR_INVALID);
	q = quota_get(u);
	TEST_CHECK(q.message_limit == 7);
	/* Another handle sees the limits. */
	struct store_user *v = user_open("limits");
	q = quota_get(v);
	TEST_CHECK(q.has_message_limit && q.message_limit == 7);
	store_user_close(&v);
	store_user_close(&u);
}

static void test_check_rule_only_growth_fails(void)
{
	struct store_user *u = user_open("rule");
	TEST_CHECK_INT(append_n(u, "INBOX", 2, 1000, NULL), STORE_OK);
	limits_set(u, true, 2, true, 3); /* 2048 bytes, 3 messages */
	const char *error = NULL;
	TEST_CHECK_INT(store_quota_check(u, 48, 1, NULL), STORE_OK);   /* 2048: at the limit */
	TEST_CHECK_INT(store_quota_check(u, 49, 1, &error), STORE_ERR_OVERQUOTA);
	TEST_CHECK(error != NULL && strstr(error, "storage") != NULL);
	TEST_CHECK_INT(store_quota_check(u, 1, 2, &error), STORE_ERR_OVERQUOTA);
	TEST_CHECK(error != NULL && strstr(error, "message") != NULL);
	TEST_CHECK_INT(store_quota_check(u, 0, 0, NULL), STORE_OK);
	/* Over a lowered limit: only growth is refused. */
	limits_set(u, true, 1, true, 1);
	TEST_CHECK_INT(store_quota_check(u, 0, 0, NULL), STORE_OK);
	TEST_CHECK_INT(store_quota_check(u, 0, 1, NULL), STORE_ERR_OVERQUOTA);
	TEST_CHECK_INT(store_quota_check(u, 1, 0, NULL), STORE_ERR_OVERQUOTA);
	/* No overflow near the top of the range. */
	limits_set(u, true, (uint64_t)STORE_QUOTA_STORAGE_KIB_MAX, false, 0);
	TEST_CHECK_INT(store_quota_check(u, UINT64_MAX - 10, 1, NULL), STORE_ERR_OVERQUOTA);
	store_user_close(&u);
}

static void test_append_is_refused_whole_and_changes_nothing(void)
{
	struct store_user *u = user_open("append");
	limits_set(u, true, 3, false, 0);
	TEST_CHECK_INT(append_n(u, "INBOX", 2, 1024, NULL), STORE_OK);
	struct store_mailbox_status before;
	TEST_CHECK_INT(store_mailbox_status(u, "INBOX", &before, NULL), STORE_OK);
	/* MULTIAPPEND of two where only one would fit: neither. */
	TEST_CHECK_INT(append_n(u, "INBOX", 2, 1024, NULL), STORE_ERR_OVERQUOTA);
	struct store_mailbox_status after;
	TEST_CHECK_INT(store_mailbox_status(u, "INBOX", &after, NULL), STORE_OK);
	TEST_CHECK_INT(after.messages, before.messages);
	TEST_CHECK_INT(after.uidnext, before.uidnext);
	TEST_CHECK_INT(after.highestmodseq, before.highestmodseq);
	TEST_CHECK_INT(quota_get(u).storage_bytes, 2048);
	TEST_CHECK_INT(append_n(u, "INBOX", 1, 1024, NULL), STORE_OK);
	TEST_CHECK_INT(append_n(u, "Sent", 1, 100, NULL), STORE_ERR_OVERQUOTA);
	TEST_CHECK_INT(mailbox_messages(u, "Sent"), 0);
	store_user_close(&u);
}

static void test_copy_counts_and_move_does_not(void)
{
	struct store_user *u = user_open("copy");
	TEST_CHECK_INT(append_n(u, "INBOX", 3, 500, NULL), STORE_OK);
	limits_set(u, false, 0, true, 4);
	struct arena *a = arena_new(0);
	struct store_uid_range all = { 1, UINT32_MAX };
	struct store_uid_map map;
	uint64_t inbox = mailbox_id(u, "INBOX"), trash = mailbox_id(u, "Trash");
	TEST_CHECK_INT(store_msg_copy(u, inbox, &all, 1, trash, NULL, a, &map, NULL),
		       STORE_ERR_OVERQUOTA);
	TEST_CHECK_INT(map.count, 0);
	TEST_CHECK_INT(mailbox_messages(u, "Trash"), 0);
	struct store_uid_range one = { 1, 1 };
	TEST_CHECK_INT(store_msg_copy(u, inbox, &one, 1, trash, NULL, a, &map, NULL), STORE_OK);
	TEST_CHECK_INT(quota_get(u).messages, 4);
	TEST_CHECK_INT(quota_get(u).storage_bytes, 2000);
	/* At (and then over) the limit, MOVE still works and changes no usage. */
	TEST_CHECK_INT(store_msg_move(u, inbox, &all, 1, trash, NULL, a, &map, NULL), STORE_OK);
	TEST_CHECK_INT(map.count, 3);
	limits_set(u, true, 0, true, 0);
	TEST_CHECK_INT(store_msg_move(u, trash, &all, 1, inbox, NULL, a, &map, NULL), STORE_OK);
	TEST_CHECK_INT(mailbox_messages(u, "INBOX"), 4);
	struct store_quota q = quota_get(u);
	TEST_CHECK_INT(q.messages, 4);
	TEST_CHECK_INT(q.storage_bytes, 2000);
	/* An empty COPY succeeds even with no room. */
	struct store_uid_range none = { 1000, 2000 };
	TEST_CHECK_INT(store_msg_copy(u, inbox, &none, 1, trash, NULL, a, &map, NULL), STORE_OK);
	/* EXPUNGE frees. */
	struct store_flag_change del = { .op = STORE_FLAGS_ADD, .flags = STORE_FLAG_DELETED };
	struct store_flags_result fr;
	TEST_CHECK_INT(store_msg_set_flags(u, inbox, &all, 1, &del, a, &fr, NULL), STORE_OK);
	uint32_t *uids;
	size_t count;
	TEST_CHECK_INT(store_msg_expunge(u, inbox, NULL, 0, a, &uids, &count, NULL), STORE_OK);
	TEST_CHECK_INT(count, 4);
	q = quota_get(u);
	TEST_CHECK_INT(q.messages, 0);
	TEST_CHECK_INT(q.storage_bytes, 0);
	arena_destroy(&a);
	store_user_close(&u);
}

static void test_import_ledger_commits_with_the_messages(void)
{
	struct store_user *u = user_open("ledger");
	const char *keys[] = { "INBOX\nabc\n1", "INBOX\nabc\n2" };
	bool known = true;
	TEST_CHECK_INT(store_import_known(u, keys[0], &known, NULL), STORE_OK);
	TEST_CHECK(!known);
	/* A refused append records nothing. */
	limits_set(u, false, 0, true, 1);
	TEST_CHECK_INT(append_n(u, "INBOX", 2, 100, keys), STORE_ERR_OVERQUOTA);
	TEST_CHECK_INT(store_import_known(u, keys[0], &known, NULL), STORE_OK);
	TEST_CHECK(!known);
	limits_set(u, false, 0, false, 0);
	TEST_CHECK_INT(append_n(u, "INBOX", 2, 100, keys), STORE_OK);
	TEST_CHECK_INT(store_import_known(u, keys[0], &known, NULL), STORE_OK);
	TEST_CHECK(known);
	TEST_CHECK_INT(store_import_known(u, keys[1], &known, NULL), STORE_OK);
	TEST_CHECK(known);
	TEST_CHECK_INT(store_import_known(u, "INBOX\nabc\n3", &known, NULL), STORE_OK);
	TEST_CHECK(!known);
	store_user_close(&u);
}

/* A store made by the first schema (version 1) gains the quota columns and
 * the ledger (version 2) and the \Deleted byte counters (version 3), and
 * keeps its messages and usage. */
static void test_v1_store_is_migrated(void)
{
	struct store_user *u = user_open("old");
	TEST_CHECK_INT(append_n(u, "INBOX", 3, 700, NULL), STORE_OK);
	struct arena *a = arena_new(0);
	struct store_uid_range two = { 2, 3 };
	struct store_flag_change del = { .op = STORE_FLAGS_ADD, .flags = STORE_FLAG_DELETED };
	struct store_flags_result fr;
	TEST_CHECK_INT(store_msg_set_flags(u, mailbox_id(u, "INBOX"), &two, 1, &del, a, &fr,
					   NULL), STORE_OK);
	arena_destroy(&a);
	char path[512];
	snprintf(path, sizeof(path), "%s/mail.db", store_user_dir(u));
	store_user_close(&u);
	sqlite3 *db;
	TEST_CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	/* Back to the version 1 schema: its tables and its triggers (what
	 * versions 8, 7, 6, 5, 4, 3 and 2 changed goes back, newest first). */
	TEST_CHECK_INT(sqlite3_exec(db,
		"DROP TRIGGER emails_ad_header;"
		"DROP TABLE email_headers;"
		"CREATE VIRTUAL TABLE email_text USING fts5(headers, body,"
		" tokenize = 'trigram');"
		"DROP TRIGGER emails_ad;"
		"DROP TABLE email_text_dead;"
		"CREATE TRIGGER emails_ad AFTER DELETE ON emails BEGIN"
		" DELETE FROM email_text WHERE rowid = OLD.id;"
		" END;"
		"DROP TRIGGER emails_ad_pending;"
		"DROP TABLE email_text_pending;"
		"ALTER TABLE expunged DROP COLUMN expunged_at;"
		"ALTER TABLE mailboxes DROP COLUMN expunge_log_rows;"
		"DROP TRIGGER messages_ad_seen;"
		"DROP TRIGGER mailboxes_ad_seen;"
		"DROP TABLE acl;"
		"DROP TABLE user_seen;"
		"DROP INDEX emails_message_id;"
		"ALTER TABLE emails DROP COLUMN sent_tz;"
		"DROP TABLE news_marks;"
		"DROP TABLE import_ledger;"
		"ALTER TABLE account DROP COLUMN quota_storage_kib;"
		"ALTER TABLE account DROP COLUMN quota_messages;"
		"DROP TRIGGER messages_ai;"
		"DROP TRIGGER messages_ad;"
		"DROP TRIGGER messages_au;"
		"ALTER TABLE mailboxes DROP COLUMN deleted_bytes;"
		"CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN"
		" UPDATE mailboxes SET messages = messages + 1, bytes = bytes + NEW.size,"
		"  unseen = unseen + ((NEW.flags & 1) = 0),"
		"  deleted = deleted + ((NEW.flags & 8) != 0)"
		"  WHERE id = NEW.mailbox_id;"
		" UPDATE account SET messages = messages + 1, bytes = bytes + NEW.size;"
		" END;"
		"CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN"
		" UPDATE mailboxes SET messages = messages - 1, bytes = bytes - OLD.size,"
		"  unseen = unseen - ((OLD.flags & 1) = 0),"
		"  deleted = deleted - ((OLD.flags & 8) != 0)"
		"  WHERE id = OLD.mailbox_id;"
		" UPDATE account SET messages = messages - 1, bytes = bytes - OLD.size;"
		" END;"
		"CREATE TRIGGER messages_au AFTER UPDATE OF flags ON messages BEGIN"
		" UPDATE mailboxes SET"
		"  unseen = unseen + ((NEW.flags & 1) = 0) - ((OLD.flags & 1) = 0),"
		"  deleted = deleted + ((NEW.flags & 8) != 0) - ((OLD.flags & 8) != 0)"
		"  WHERE id = NEW.mailbox_id;"
		" END;"
		"PRAGMA user_version = 1;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	u = user_open("old");
	struct store_quota q = quota_get(u);
	TEST_CHECK_INT(q.messages, 3);
	TEST_CHECK_INT(q.storage_bytes, 2100);
	TEST_CHECK(!q.has_storage_limit && !q.has_message_limit);
	bool known = true;
	TEST_CHECK_INT(store_import_known(u, "x", &known, NULL), STORE_OK);
	TEST_CHECK(!known);
	/* The \Deleted bytes were counted by the migration and are kept by
	 * the new triggers. */
	struct store_mailbox_status st;
	TEST_CHECK_INT(store_mailbox_status(u, "INBOX", &st, NULL), STORE_OK);
	TEST_CHECK_INT(st.deleted, 2);
	TEST_CHECK_INT(st.deleted_size, 1400);
	TEST_CHECK_INT(append_n(u, "INBOX", 1, 100, NULL), STORE_OK);
	a = arena_new(0);
	struct store_uid_range all = { 1, UINT32_MAX };
	TEST_CHECK_INT(store_msg_set_flags(u, st.id, &all, 1, &del, a, &fr, NULL), STORE_OK);
	TEST_CHECK_INT(store_mailbox_status(u, "INBOX", &st, NULL), STORE_OK);
	TEST_CHECK_INT(st.deleted_size, 2200);
	del.op = STORE_FLAGS_REMOVE;
	TEST_CHECK_INT(store_msg_set_flags(u, st.id, &two, 1, &del, a, &fr, NULL), STORE_OK);
	TEST_CHECK_INT(store_mailbox_status(u, "INBOX", &st, NULL), STORE_OK);
	TEST_CHECK_INT(st.deleted_size, 800);
	uint32_t *uids;
	size_t count;
	TEST_CHECK_INT(store_msg_expunge(u, st.id, NULL, 0, a, &uids, &count, NULL), STORE_OK);
	TEST_CHECK_INT(store_mailbox_status(u, "INBOX", &st, NULL), STORE_OK);
	TEST_CHECK_INT(st.deleted_size, 0);
	TEST_CHECK_INT(st.size, 1400);
	arena_destroy(&a);
	limits_set(u, false, 0, true, 2);
	TEST_CHECK_INT(append_n(u, "INBOX", 1, 100, NULL), STORE_ERR_OVERQUOTA);
	store_user_close(&u);
}

int main(void)
{
	test_dir_make("/tmp/petrel-test-quota.XXXXXX");
	test_run("new_store_has_no_limits", test_new_store_has_no_limits);
	test_run("limits_are_set_and_replaced", test_limits_are_set_and_replaced);
	test_run("check_rule_only_growth_fails", test_check_rule_only_growth_fails);
	test_run("append_is_refused_whole_and_changes_nothing",
		 test_append_is_refused_whole_and_changes_nothing);
	test_run("copy_counts_and_move_does_not", test_copy_counts_and_move_does_not);
	test_run("import_ledger_commits_with_the_messages",
		 test_import_ledger_commits_with_the_messages);
	test_run("v1_store_is_migrated", test_v1_store_is_migrated);
	test_dir_remove();
	return test_finish();
}
