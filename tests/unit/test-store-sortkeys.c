/* store_msg_sortkeys: the keys of many messages in one statement, matched
 * to the caller's UID list, and the Date: zone kept at ingestion. */

#include "test-common.h"
#include "test-store-common.h"

#include "lib/arena.h"
#include "store/store.h"
#include "store/store-ingest.h"

#include <sys/stat.h>
#include <unistd.h>

static struct store_user *user;
static uint64_t inbox;

/* Stores text in INBOX with the metadata every way in computes
 * (store_ingest_meta); returns its UID. */
static uint32_t deliver(const char *text)
{
	struct store_blob_writer *w;
	struct store_blob *blob = NULL;
	TEST_CHECK_INT(store_blob_writer_begin(test_dir, 0, &w, NULL), STORE_OK);
	TEST_CHECK_INT(store_blob_writer_write(w, text, strlen(text), NULL), STORE_OK);
	TEST_CHECK_INT(store_blob_writer_finish(&w, &blob, NULL), STORE_OK);
	struct arena *a = arena_new(0);
	struct store_msg_meta meta;
	TEST_CHECK_INT(store_ingest_meta(blob, a, &meta, NULL), STORE_OK);
	struct store_append app = { .blob = blob, .internal_date = 1700000000 + (int64_t)strlen(text),
				    .meta = &meta };
	uint32_t uid = 0;
	TEST_CHECK_INT(store_msg_append(user, inbox, &app, 1, NULL, &uid, NULL), STORE_OK);
	store_blob_free(&blob);
	arena_destroy(&a);
	return uid;
}

static const char msg_ny[] =
	"From: Zed <zed@example.org>\r\nTo: amy@example.org\r\nCc: bob@example.org\r\n"
	"Subject: Re: hello\r\nDate: Sun, 31 Dec 2023 23:30:00 -0500\r\n"
	"Message-ID: <1@x>\r\nIn-Reply-To: <0@x>\r\nReferences: <0@x>\r\n\r\nbody\r\n";
static const char msg_kolkata[] =
	"From: a@example.org\r\nSubject: second\r\nDate: Mon, 1 Jan 2024 00:15 +0530\r\n\r\nb\r\n";
static const char msg_undated[] = "From: c@example.org\r\nSubject: third\r\n\r\nno date\r\n";
static const char msg_named_zone[] =
	"Subject: fourth\r\nDate: Mon, 1 Jan 2024 10:00:00 PDT\r\n\r\nd\r\n";

static void test_keys_follow_the_uid_list(void)
{
	uint32_t u1 = deliver(msg_ny), u2 = deliver(msg_kolkata), u3 = deliver(msg_undated);
	uint32_t u4 = deliver(msg_named_zone);
	struct arena *a = arena_new(0);
	/* The last UID has no message. */
	uint32_t ask[] = { u1, u2, u3, u4, u4 + 7 };
	struct store_sortkeys keys[5];
	TEST_CHECK_INT(store_msg_sortkeys(user, inbox, ask, 5,
					  STORE_SORTKEY_SENT_DATE | STORE_SORTKEY_FROM |
						  STORE_SORTKEY_SUBJECT | STORE_SORTKEY_THREAD,
					  a, keys, NULL),
		       STORE_OK);
	TEST_CHECK_INT(keys[0].uid, u1);
	TEST_CHECK(keys[0].has_sent_date && keys[0].has_sent_tz);
	TEST_CHECK_INT(keys[0].sent_date, 1704083400); /* 2024-01-01 04:30 UTC */
	TEST_CHECK_INT(keys[0].sent_tz_min, -300);
	TEST_CHECK_STR(keys[0].from, " Zed <zed@example.org>"); /* as decoded */
	TEST_CHECK_STR(keys[0].subject, " Re: hello");
	TEST_CHECK_STR(keys[0].message_id, "<1@x>");
	TEST_CHECK_STR(keys[0].in_reply_to, "<0@x>");
	TEST_CHECK_STR(keys[0].references, "<0@x>");
	/* Not asked for: left empty. */
	TEST_CHECK(keys[0].to == NULL && keys[0].cc == NULL && keys[0].size == 0);
	TEST_CHECK_INT(keys[1].uid, u2);
	TEST_CHECK_INT(keys[1].sent_tz_min, 330);
	TEST_CHECK_INT(keys[1].sent_date, 1704048300); /* 2023-12-31 18:45 UTC */
	TEST_CHECK_STR(keys[1].subject, " second");
	TEST_CHECK_INT(keys[2].uid, u3);
	TEST_CHECK(!keys[2].has_sent_date && !keys[2].has_sent_tz);
	TEST_CHECK(keys[2].message_id == NULL);
	TEST_CHECK_INT(keys[3].uid, u4);
	TEST_CHECK(keys[3].has_sent_tz);
	TEST_CHECK_INT(keys[3].sent_tz_min, -7 * 60); /* RFC 5322 §4.3: PDT */
	TEST_CHECK_INT(keys[4].uid, 0);
	arena_destroy(&a);
}

static void test_narrow_statements_leave_other_keys_empty(void)
{
	struct arena *a = arena_new(0);
	uint32_t all[64];
	struct store_view view;
	TEST_CHECK_INT(store_view_load(user, inbox, &view, NULL), STORE_OK);
	TEST_CHECK(view.count >= 4 && view.count <= 64);
	memcpy(all, view.uids, view.count * sizeof(*all));
	size_t n = view.count;
	store_view_free(&view);
	struct store_sortkeys keys[64];
	TEST_CHECK_INT(store_msg_sortkeys(user, inbox, all, n, STORE_SORTKEY_SIZE |
					  STORE_SORTKEY_ARRIVAL, a, keys, NULL), STORE_OK);
	for (size_t i = 0; i < n; i++) {
		TEST_CHECK_INT(keys[i].uid, all[i]);
		TEST_CHECK(keys[i].size > 0 && keys[i].internal_date > 1700000000);
		TEST_CHECK(!keys[i].has_sent_date && keys[i].subject == NULL);
	}
	TEST_CHECK_INT(store_msg_sortkeys(user, inbox, all, n, STORE_SORTKEY_CC, a, keys, NULL),
		       STORE_OK);
	TEST_CHECK_STR(keys[0].cc, " bob@example.org");
	TEST_CHECK(keys[0].from == NULL && keys[0].size == 0 && !keys[0].has_sent_date);
	TEST_CHECK(keys[1].cc == NULL);
	/* An empty list reads nothing. */
	TEST_CHECK_INT(store_msg_sortkeys(user, inbox, all, 0, STORE_SORTKEY_CC, a, keys, NULL),
		       STORE_OK);
	arena_destroy(&a);
}

static void test_expunged_messages_come_back_as_gone(void)
{
	struct arena *a = arena_new(0);
	uint32_t uid = deliver(msg_kolkata);
	uint32_t next = deliver(msg_undated);
	struct store_flag_change del = { .op = STORE_FLAGS_ADD, .flags = STORE_FLAG_DELETED };
	struct store_uid_range range = { uid, uid };
	struct store_flags_result fr;
	TEST_CHECK_INT(store_msg_set_flags(user, inbox, &range, 1, &del, a, &fr, NULL), STORE_OK);
	uint32_t *gone;
	size_t gone_count;
	TEST_CHECK_INT(store_msg_expunge(user, inbox, &range, 1, a, &gone, &gone_count, NULL),
		       STORE_OK);
	TEST_CHECK_INT(gone_count, 1);
	uint32_t ask[] = { uid, next };
	struct store_sortkeys keys[2];
	TEST_CHECK_INT(store_msg_sortkeys(user, inbox, ask, 2, STORE_SORTKEY_SENT_DATE, a, keys,
					  NULL), STORE_OK);
	TEST_CHECK_INT(keys[0].uid, 0);
	TEST_CHECK_INT(keys[1].uid, next);
	arena_destroy(&a);
}

int main(void)
{
	test_dir_make("/tmp/petrel-test-sortkeys.XXXXXX");
	const char *error = NULL;
	if (store_user_open(test_dir, "demo", &user, &error) != STORE_OK) {
		fprintf(stderr, "store_user_open: %s\n", error);
		return 1;
	}
	struct store_mailbox_status status;
	TEST_CHECK_INT(store_mailbox_status(user, "INBOX", &status, NULL), STORE_OK);
	inbox = status.id;
	test_run("keys_follow_the_uid_list", test_keys_follow_the_uid_list);
	test_run("narrow_statements_leave_other_keys_empty",
		 test_narrow_statements_leave_other_keys_empty);
	test_run("expunged_messages_come_back_as_gone", test_expunged_messages_come_back_as_gone);
	store_user_close(&user);
	test_dir_remove();
	return test_finish();
}
