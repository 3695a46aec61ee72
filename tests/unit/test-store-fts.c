/* Full-text indexing off the APPEND path (store-fts.c): while the indexer
 * runs, a new message's text waits aside, searches count the message as a
 * candidate and reading its text still works; the indexer (a step, or its
 * thread) moves the text into the index, a database of its own (fts.db).
 * Without the indexer, text is indexed right after APPEND commits. */

#include "test-common.h"
#include "test-store-common.h"

#include "lib/arena.h"
#include "store/store-fts.h"
#include "store/store-ingest.h"
#include "store/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Long enough that the thread never indexes on its own in a test. */
#define NEVER_MS (3600u * 1000)

static uint64_t inbox(struct store_user *u)
{
	struct store_mailbox_status status;
	TEST_CHECK_INT(store_mailbox_status(u, "INBOX", &status, NULL), STORE_OK);
	return status.id;
}

/* Appends a message whose decoded body text is body; returns its UID. */
static uint32_t append_text(struct store_user *u, uint64_t mbox, const char *body)
{
	char raw[512];
	snprintf(raw, sizeof(raw), "Subject: t\r\n\r\n%s\r\n", body);
	struct store_blob_writer *w;
	struct store_blob *blob = NULL;
	TEST_CHECK_INT(store_blob_writer_begin(test_dir, 0, &w, NULL), STORE_OK);
	TEST_CHECK_INT(store_blob_writer_write(w, raw, strlen(raw), NULL), STORE_OK);
	TEST_CHECK_INT(store_blob_writer_finish(&w, &blob, NULL), STORE_OK);
	/* The metadata as every delivery derives it (the indexer derives the
	 * text again from the file). */
	struct arena *a = arena_new(0);
	struct store_msg_meta meta;
	TEST_CHECK_INT(store_ingest_meta(blob, a, &meta, NULL), STORE_OK);
	struct store_append msg = { .blob = blob, .internal_date = 1700000000, .meta = &meta };
	uint32_t uid = 0;
	TEST_CHECK_INT(store_msg_append(u, mbox, &msg, 1, NULL, &uid, NULL), STORE_OK);
	store_blob_free(&blob);
	arena_destroy(&a);
	return uid;
}

/* Rows of the full-text index (fts.db, read beside the store's own
 * handle). */
static int text_rows(struct store_user *u)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/fts.db", store_user_dir(u));
	sqlite3 *db;
	int n = -1;
	if (sqlite3_open(path, &db) == SQLITE_OK) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, "SELECT count(*) FROM email_text", -1, &st, NULL) ==
		    SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				n = sqlite3_column_int(st, 0);
			sqlite3_finalize(st);
		}
	}
	sqlite3_close(db);
	return n;
}

static uint64_t waiting(struct store_user *u)
{
	uint64_t count = 0;
	TEST_CHECK_INT(store_fts_pending_count(u, &count, NULL), STORE_OK);
	return count;
}

/* The UIDs the index gives for needle in the body, as "1,2". */
static const char *search(struct store_user *u, uint64_t mbox, const char *needle,
			  struct arena *a)
{
	uint32_t *uids;
	size_t count = 0;
	TEST_CHECK_INT(store_msg_search_text(u, mbox, STORE_TEXT_BODY, needle, a, &uids, &count,
					     NULL),
		       STORE_OK);
	char *out = arena_alloc(a, count * 11 + 1);
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < count; i++)
		n += (size_t)sprintf(out + n, "%s%u", i ? "," : "", uids[i]);
	return out;
}

/* Flags uid \\Deleted and expunges the mailbox; how many went. */
static size_t expunge_one(struct store_user *u, uint64_t mbox, uint32_t uid)
{
	struct arena *a = arena_new(0);
	struct store_uid_range range = { uid, uid };
	struct store_flag_change del = { .op = STORE_FLAGS_ADD, .flags = STORE_FLAG_DELETED };
	struct store_flags_result res;
	TEST_CHECK_INT(store_msg_set_flags(u, mbox, &range, 1, &del, a, &res, NULL), STORE_OK);
	uint32_t *uids;
	size_t count = 0;
	TEST_CHECK_INT(store_msg_expunge(u, mbox, NULL, 0, a, &uids, &count, NULL), STORE_OK);
	arena_destroy(&a);
	return count;
}

static const char *body_of(struct store_user *u, uint64_t mbox, uint32_t uid, struct arena *a)
{
	struct store_msg msg;
	TEST_CHECK_INT(store_msg_get(u, mbox, uid, STORE_MSG_WANT_META | STORE_MSG_WANT_TEXT, a,
				     &msg, NULL),
		       STORE_OK);
	return msg.meta.body_text;
}

/* Polls until u has no waiting text (the indexer thread at work). */
static bool wait_until_indexed(struct store_user *u)
{
	for (int i = 0; i < 1000; i++) {
		if (waiting(u) == 0)
			return true;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return false;
}

static void test_without_indexer_append_indexes(void)
{
	struct store_user *u = user_open("inline");
	uint64_t mbox = inbox(u);
	struct arena *a = arena_new(0);
	uint32_t uid = append_text(u, mbox, "the quick brown fox");
	TEST_CHECK_INT(waiting(u), 0);
	char expected[16];
	snprintf(expected, sizeof(expected), "%u", uid);
	TEST_CHECK_STR(search(u, mbox, "brown", a), expected);
	TEST_CHECK_STR(search(u, mbox, "purple", a), "");
	arena_destroy(&a);
	store_user_close(&u);
}

static void test_waiting_text_is_a_candidate_and_readable(void)
{
	const char *error;
	TEST_CHECK(store_fts_indexer_start(test_dir, NEVER_MS, &error));
	struct store_user *u = user_open("aside");
	uint64_t mbox = inbox(u);
	struct arena *a = arena_new(0);
	uint32_t first = append_text(u, mbox, "indexed lemon tart");
	unsigned indexed = 0;
	bool more = true;
	TEST_CHECK_INT(store_fts_index_step(u, 10, &indexed, &more, NULL), STORE_OK);
	TEST_CHECK_INT(indexed, 1);
	TEST_CHECK(!more);
	uint32_t second = append_text(u, mbox, "waiting cherry pie");
	TEST_CHECK_INT(waiting(u), 1);
	char both[32], only_second[16], only_first[16];
	snprintf(both, sizeof(both), "%u,%u", first, second);
	snprintf(only_first, sizeof(only_first), "%u", first);
	snprintf(only_second, sizeof(only_second), "%u", second);
	/* The waiting message is a candidate of every search. */
	TEST_CHECK_STR(search(u, mbox, "lemon", a), both);
	TEST_CHECK_STR(search(u, mbox, "nothing like it", a), only_second);
	/* Read while it waits: derived from the file, as it will be indexed. */
	const char *waiting_body = body_of(u, mbox, second, a);
	TEST_CHECK(strstr(waiting_body, "waiting cherry pie") != NULL);
	TEST_CHECK_INT(store_fts_index_step(u, 10, &indexed, &more, NULL), STORE_OK);
	TEST_CHECK_INT(indexed, 1);
	TEST_CHECK(!more);
	TEST_CHECK_INT(waiting(u), 0);
	TEST_CHECK_STR(search(u, mbox, "lemon", a), only_first);
	TEST_CHECK_STR(search(u, mbox, "cherry", a), only_second);
	TEST_CHECK_STR(search(u, mbox, "nothing like it", a), "");
	TEST_CHECK_STR(body_of(u, mbox, second, a), waiting_body);
	arena_destroy(&a);
	store_user_close(&u);
	store_fts_indexer_stop();
}

static void test_step_stops_at_its_bound(void)
{
	const char *error;
	TEST_CHECK(store_fts_indexer_start(test_dir, NEVER_MS, &error));
	struct store_user *u = user_open("bound");
	uint64_t mbox = inbox(u);
	/* Three different bodies: the same one would be stored once. */
	append_text(u, mbox, "some words one");
	append_text(u, mbox, "some words two");
	append_text(u, mbox, "some words three");
	unsigned indexed = 0;
	bool more = false;
	TEST_CHECK_INT(store_fts_index_step(u, 2, &indexed, &more, NULL), STORE_OK);
	TEST_CHECK_INT(indexed, 2);
	TEST_CHECK(more);
	TEST_CHECK_INT(store_fts_index_step(u, 2, &indexed, &more, NULL), STORE_OK);
	TEST_CHECK_INT(indexed, 1);
	TEST_CHECK(!more);
	store_user_close(&u);
	store_fts_indexer_stop();
}

/* An expunged message's text leaves the index through the indexer: the
 * EXPUNGE only notes it (schema version 6). */
static void test_expunged_message_text_leaves_the_index(void)
{
	const char *error;
	TEST_CHECK(store_fts_indexer_start(test_dir, NEVER_MS, &error));
	struct store_user *u = user_open("gone");
	uint64_t mbox = inbox(u);
	uint32_t uid = append_text(u, mbox, "short lived");
	TEST_CHECK_INT(waiting(u), 1);
	unsigned done;
	bool more;
	TEST_CHECK_INT(store_fts_index_step(u, 8, &done, &more, NULL), STORE_OK);
	TEST_CHECK_INT(done, 1);
	TEST_CHECK_INT(text_rows(u), 1);
	TEST_CHECK_INT(expunge_one(u, mbox, uid), 1);
	TEST_CHECK_INT(waiting(u), 1);
	TEST_CHECK_INT(text_rows(u), 1);
	TEST_CHECK_INT(store_fts_index_step(u, 8, &done, &more, NULL), STORE_OK);
	TEST_CHECK_INT(done, 1);
	TEST_CHECK(!more);
	TEST_CHECK_INT(waiting(u), 0);
	TEST_CHECK_INT(text_rows(u), 0);
	store_user_close(&u);
	store_fts_indexer_stop();
}

static void test_thread_indexes_after_append(void)
{
	const char *error;
	TEST_CHECK(store_fts_indexer_start(test_dir, 0, &error));
	struct store_user *u = user_open("thread");
	uint64_t mbox = inbox(u);
	for (int i = 0; i < 20; i++) {
		char body[64];
		snprintf(body, sizeof(body), "background work %d", i);
		append_text(u, mbox, body);
	}
	TEST_CHECK(wait_until_indexed(u));
	struct arena *a = arena_new(0);
	TEST_CHECK_STR(search(u, mbox, "nothing like it", a), "");
	arena_destroy(&a);
	store_user_close(&u);
	store_fts_indexer_stop();
}

static void test_texts_left_at_stop_are_indexed_after_the_next_start(void)
{
	const char *error;
	TEST_CHECK(store_fts_indexer_start(test_dir, NEVER_MS, &error));
	struct store_user *u = user_open("restart");
	uint64_t mbox = inbox(u);
	append_text(u, mbox, "left over one");
	append_text(u, mbox, "left over two");
	store_fts_indexer_stop();
	TEST_CHECK_INT(waiting(u), 2);
	/* What petrel serve does at start-up for users with waiting texts. */
	store_fts_indexer_enqueue("restart");
	TEST_CHECK(store_fts_indexer_start(test_dir, 0, &error));
	TEST_CHECK(wait_until_indexed(u));
	store_user_close(&u);
	store_fts_indexer_stop();
}

/* Runs sql on u's database file (mail.db, fts.db) beside the store's own
 * handle. */
static void file_exec(struct store_user *u, const char *file, const char *sql)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", store_user_dir(u), file);
	sqlite3 *db;
	TEST_CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	TEST_CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void db_exec(struct store_user *u, const char *sql)
{
	file_exec(u, "mail.db", sql);
}

/* A text waiting with its copy, as schema 5 kept it and as the migration
 * to schema 6 puts the indexed ones back, is indexed as it is, even
 * behind texts that keep none. */
static void test_waiting_copies_are_indexed_as_they_are(void)
{
	const char *error;
	TEST_CHECK(store_fts_indexer_start(test_dir, NEVER_MS, &error));
	struct store_user *u = user_open("copies");
	uint64_t mbox = inbox(u);
	struct arena *a = arena_new(0);
	uint32_t first = append_text(u, mbox, "derived apricot");
	uint32_t second = append_text(u, mbox, "kept plum");
	/* The second waits with a copy whose words are not in its file:
	 * only the copy can make it match "damson". */
	db_exec(u, "UPDATE email_text_pending SET headers = 'Subject: t', body = 'kept damson'"
		   " WHERE email_id = (SELECT max(email_id) FROM email_text_pending)");
	unsigned done;
	bool more;
	TEST_CHECK_INT(store_fts_index_step(u, 8, &done, &more, NULL), STORE_OK);
	TEST_CHECK_INT(done, 2);
	TEST_CHECK(!more);
	TEST_CHECK_INT(text_rows(u), 2);
	char one[16], two[16];
	snprintf(one, sizeof(one), "%u", first);
	snprintf(two, sizeof(two), "%u", second);
	TEST_CHECK_STR(search(u, mbox, "apricot", a), one);
	TEST_CHECK_STR(search(u, mbox, "damson", a), two);
	arena_destroy(&a);
	store_user_close(&u);
	store_fts_indexer_stop();
}

/* The index is a database of its own: a transaction holding its write
 * lock, as the indexer's do while they index, does not hold up a
 * delivery, a flag change or an expunge. */
static void test_index_transaction_holds_up_no_delivery(void)
{
	const char *error;
	TEST_CHECK(store_fts_indexer_start(test_dir, NEVER_MS, &error));
	struct store_user *u = user_open("apart");
	uint64_t mbox = inbox(u);
	uint32_t first = append_text(u, mbox, "first of two");
	char path[512];
	snprintf(path, sizeof(path), "%s/fts.db", store_user_dir(u));
	sqlite3 *index;
	TEST_CHECK_INT(sqlite3_open(path, &index), SQLITE_OK);
	TEST_CHECK_INT(sqlite3_exec(index, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	uint32_t second = append_text(u, mbox, "second of two");
	TEST_CHECK(second > first);
	struct arena *a = arena_new(0);
	TEST_CHECK_INT(expunge_one(u, mbox, first), 1);
	TEST_CHECK_INT(sqlite3_exec(index, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(index);
	unsigned done;
	bool more;
	TEST_CHECK_INT(store_fts_index_step(u, 8, &done, &more, NULL), STORE_OK);
	TEST_CHECK_INT(text_rows(u), 1);
	char expected[16];
	snprintf(expected, sizeof(expected), "%u", second);
	TEST_CHECK_STR(search(u, mbox, "of two", a), expected);
	arena_destroy(&a);
	store_user_close(&u);
	store_fts_indexer_stop();
}

/* A batch applied to the index whose ids did not leave the queue (a crash
 * between the two commits) is applied again without doubling a text. */
static void test_batch_applied_twice_changes_nothing(void)
{
	struct store_user *u = user_open("twice");
	uint64_t mbox = inbox(u);
	uint32_t uid = append_text(u, mbox, "only once please");
	TEST_CHECK_INT(text_rows(u), 1);
	db_exec(u, "INSERT INTO email_text_pending (email_id) SELECT id FROM emails");
	TEST_CHECK_INT(waiting(u), 1);
	unsigned done;
	bool more;
	TEST_CHECK_INT(store_fts_index_step(u, 8, &done, &more, NULL), STORE_OK);
	TEST_CHECK_INT(done, 1);
	TEST_CHECK_INT(waiting(u), 0);
	TEST_CHECK_INT(text_rows(u), 1);
	struct arena *a = arena_new(0);
	char expected[16];
	snprintf(expected, sizeof(expected), "%u", uid);
	TEST_CHECK_STR(search(u, mbox, "once please", a), expected);
	arena_destroy(&a);
	store_user_close(&u);
}

/* A store of user with two indexed texts whose fts.db is then removed
 * (closed first); the first message's UID. */
static uint32_t two_texts_without_index(const char *user, const char *text1, const char *text2)
{
	struct store_user *u = user_open(user);
	uint64_t mbox = inbox(u);
	uint32_t first = append_text(u, mbox, text1);
	append_text(u, mbox, text2);
	TEST_CHECK_INT(text_rows(u), 2);
	char path[512];
	snprintf(path, sizeof(path), "%s/fts.db", store_user_dir(u));
	store_user_close(&u);
	TEST_CHECK_INT(unlink(path), 0);
	return first;
}

/* fts.db removed (or a store of schema 6 or older, which had none): the
 * next opening queues every text, searches stay exact meanwhile, and the
 * indexer builds the index anew. */
static void test_missing_index_is_rebuilt(void)
{
	uint32_t first = two_texts_without_index("rebuilt", "rebuilt quince", "rebuilt medlar");
	const char *error;
	TEST_CHECK(store_fts_indexer_start(test_dir, NEVER_MS, &error));
	struct store_user *u = user_open("rebuilt");
	uint64_t mbox = inbox(u);
	TEST_CHECK_INT(waiting(u), 2);
	TEST_CHECK_INT(text_rows(u), 0);
	struct arena *a = arena_new(0);
	char both[32], one[16];
	snprintf(both, sizeof(both), "%u,%u", first, first + 1);
	snprintf(one, sizeof(one), "%u", first);
	TEST_CHECK_STR(search(u, mbox, "quince", a), both);
	unsigned done;
	bool more;
	TEST_CHECK_INT(store_fts_index_step(u, 8, &done, &more, NULL), STORE_OK);
	TEST_CHECK_INT(done, 2);
	TEST_CHECK_INT(text_rows(u), 2);
	TEST_CHECK_STR(search(u, mbox, "quince", a), one);
	arena_destroy(&a);
	store_user_close(&u);
	store_fts_indexer_stop();
}

/* Without the indexer thread (a command-line tool), a store opened with
 * its index missing only queues the texts, for the daemon: a command does
 * not index a whole store. A later append indexes as many texts as it
 * queued. */
static void test_tool_leaves_a_rebuild_to_the_daemon(void)
{
	two_texts_without_index("tool", "tool loquat", "tool sloe");
	struct store_user *u = user_open("tool");
	uint64_t mbox = inbox(u);
	TEST_CHECK_INT(waiting(u), 2);
	TEST_CHECK_INT(text_rows(u), 0);
	/* The oldest waiting text (loquat) is the one indexed; those still
	 * waiting are candidates of every search. */
	append_text(u, mbox, "tool rowan");
	TEST_CHECK_INT(waiting(u), 2);
	TEST_CHECK_INT(text_rows(u), 1);
	struct arena *a = arena_new(0);
	TEST_CHECK_STR(search(u, mbox, "sloe", a), "2,3");
	TEST_CHECK_STR(search(u, mbox, "loquat", a), "1,2,3");
	arena_destroy(&a);
	store_user_close(&u);
}

/* ---- The trigram wrapper (store-fts-tokenizer.c) ---- */

static sqlite3 *index_db(const char *path, bool wrapped)
{
	sqlite3 *db;
	TEST_CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	if (wrapped)
		TEST_CHECK(store_fts_tokenizer_install(db));
	TEST_CHECK_INT(sqlite3_exec(db,
		"CREATE VIRTUAL TABLE IF NOT EXISTS email_text USING fts5(headers, body,"
		" tokenize = 'trigram', detail = column);"
		"CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING fts5vocab(main, email_text, 'col');",
		NULL, NULL, NULL), SQLITE_OK);
	return db;
}

static void index_put(sqlite3 *db, int rowid, const char *headers, const char *body)
{
	sqlite3_stmt *st;
	TEST_CHECK_INT(sqlite3_prepare_v2(db, "INSERT INTO email_text (rowid, headers, body)"
					  " VALUES (?, ?, ?)", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int(st, 1, rowid);
	sqlite3_bind_text(st, 2, headers, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, body, -1, SQLITE_STATIC);
	TEST_CHECK_INT(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* Every (trigram, column, number of texts) of the index, as one string. */
static char *index_vocabulary(sqlite3 *db)
{
	sqlite3_stmt *st;
	TEST_CHECK_INT(sqlite3_prepare_v2(db, "SELECT group_concat(term || '/' || col || '/' || doc,"
					  " ' ') FROM (SELECT * FROM vocab ORDER BY term, col)",
					  -1, &st, NULL), SQLITE_OK);
	TEST_CHECK_INT(sqlite3_step(st), SQLITE_ROW);
	const char *v = (const char *)sqlite3_column_text(st, 0);
	char *copy = strdup(v != NULL ? v : "");
	sqlite3_finalize(st);
	return copy;
}

/* FTS5's count of the tokens it was given for text rowid's body. */
static int index_body_tokens(sqlite3 *db, int rowid)
{
	sqlite3_stmt *st;
	TEST_CHECK_INT(sqlite3_prepare_v2(db, "SELECT sz FROM email_text_docsize WHERE id = ?",
					  -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int(st, 1, rowid);
	TEST_CHECK_INT(sqlite3_step(st), SQLITE_ROW);
	const unsigned char *sz = sqlite3_column_blob(st, 0);
	int n = sqlite3_column_bytes(st, 0);
	/* Two varints, headers then body. */
	int i = 0;
	while (i < n && (sz[i] & 0x80))
		i++;
	int tokens = 0;
	for (i++; i < n; i++) {
		tokens = (tokens << 7) | (sz[i] & 0x7f);
		if (!(sz[i] & 0x80))
			break;
	}
	sqlite3_finalize(st);
	return tokens;
}

/* Random text of chars characters: the first `alphabet` of a table of
 * one- to four-byte characters in both cases, and past the table CJK
 * ideographs (three bytes each), so that the longest text has more
 * distinct trigrams than the wrapper records. */
static char *random_text(uint64_t *rng, size_t chars, unsigned alphabet)
{
	static const char *const letters[] = {
		"a", "B", "c", "D", "e", "F", " ", "\r\n", "ä", "Ä", "ß", "é", "É", "ø", "日", "本",
		"語", "😀", "😺", "ğ", "Ğ", "x", "Y", "z", "0", "1", "2", "-", ".", "ı", "İ", "ſ",
	};
	const unsigned table = sizeof(letters) / sizeof(*letters);
	char *text = malloc(chars * 4 + 1);
	size_t len = 0;
	for (size_t i = 0; i < chars; i++) {
		*rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
		unsigned pick = (unsigned)(*rng >> 33) % alphabet;
		if (pick < table) {
			size_t ll = strlen(letters[pick]);
			memcpy(text + len, letters[pick], ll);
			len += ll;
		} else {
			unsigned cp = 0x4e00 + pick;
			text[len++] = (char)(0xe0 | (cp >> 12));
			text[len++] = (char)(0x80 | ((cp >> 6) & 0x3f));
			text[len++] = (char)(0x80 | (cp & 0x3f));
		}
	}
	text[len] = '\0';
	return text;
}

static void test_wrapped_tokenizer_writes_the_same_index(void)
{
	char plain_path[512], wrapped_path[512];
	snprintf(plain_path, sizeof(plain_path), "%s/plain.db", test_dir);
	snprintf(wrapped_path, sizeof(wrapped_path), "%s/wrapped.db", test_dir);
	sqlite3 *plain = index_db(plain_path, false);
	/* Half the wrapped index is written before the wrapper exists, as
	 * an fts.db of an earlier version was. */
	sqlite3 *wrapped = index_db(wrapped_path, false);
	uint64_t rng = 7;
	const struct { size_t chars; unsigned alphabet; } texts[] = {
		{ 0, 8 }, { 2, 8 }, { 40, 8 }, { 5000, 20 }, { 20000, 32 }, { 200000, 100 },
		{ 3000, 6 }, { 100, 32 },
	};
	size_t n = sizeof(texts) / sizeof(*texts);
	for (size_t i = 0; i < n; i++) {
		if (i == n / 2) {
			sqlite3_close(wrapped);
			wrapped = index_db(wrapped_path, true);
		}
		char *headers = random_text(&rng, 60, 32);
		char *body = random_text(&rng, texts[i].chars, texts[i].alphabet);
		index_put(plain, (int)i + 1, headers, body);
		index_put(wrapped, (int)i + 1, headers, body);
		free(headers);
		free(body);
	}
	char *a = index_vocabulary(plain), *b = index_vocabulary(wrapped);
	TEST_CHECK(strlen(a) > 2000000);
	TEST_CHECK(strcmp(a, b) == 0);
	free(a);
	free(b);
	/* The wrapper was in use: FTS5 was given each trigram of the 3,000
	 * character text over six letters once, not 2,998 times (6^3 = 216). */
	TEST_CHECK_INT(index_body_tokens(plain, 7), 2998);
	TEST_CHECK(index_body_tokens(wrapped, 7) <= 216);

	/* Texts indexed with and without it leave the index alike. */
	const char *drop = "DELETE FROM email_text WHERE rowid IN (2, 3, 5, 6, 8)";
	TEST_CHECK_INT(sqlite3_exec(plain, drop, NULL, NULL, NULL), SQLITE_OK);
	TEST_CHECK_INT(sqlite3_exec(wrapped, drop, NULL, NULL, NULL), SQLITE_OK);
	a = index_vocabulary(plain);
	b = index_vocabulary(wrapped);
	TEST_CHECK(strcmp(a, b) == 0);
	free(a);
	free(b);
	/* And searches find the same texts. */
	const char *queries[] = { "\"äÄß\"", "\"日本\" AND \"😀\"", "\"Bce\"", "\"zzz\"" };
	for (size_t i = 0; i < sizeof(queries) / sizeof(*queries); i++) {
		char sql[200];
		snprintf(sql, sizeof(sql), "SELECT group_concat(rowid) FROM email_text"
			 " WHERE email_text MATCH '%s'", queries[i]);
		sqlite3_stmt *sp, *sw;
		TEST_CHECK_INT(sqlite3_prepare_v2(plain, sql, -1, &sp, NULL), SQLITE_OK);
		TEST_CHECK_INT(sqlite3_prepare_v2(wrapped, sql, -1, &sw, NULL), SQLITE_OK);
		TEST_CHECK_INT(sqlite3_step(sp), SQLITE_ROW);
		TEST_CHECK_INT(sqlite3_step(sw), SQLITE_ROW);
		const char *rp = (const char *)sqlite3_column_text(sp, 0);
		const char *rw = (const char *)sqlite3_column_text(sw, 0);
		TEST_CHECK_STR(rw != NULL ? rw : "", rp != NULL ? rp : "");
		sqlite3_finalize(sp);
		sqlite3_finalize(sw);
	}
	sqlite3_close(plain);
	sqlite3_close(wrapped);
}

int main(void)
{
	test_dir_make("/tmp/petrel-test-fts.XXXXXX");
	test_run("without_indexer_append_indexes", test_without_indexer_append_indexes);
	test_run("waiting_text_is_a_candidate_and_readable",
		 test_waiting_text_is_a_candidate_and_readable);
	test_run("step_stops_at_its_bound", test_step_stops_at_its_bound);
	test_run("waiting_copies_are_indexed_as_they_are",
		 test_waiting_copies_are_indexed_as_they_are);
	test_run("expunged_message_text_leaves_the_index",
		 test_expunged_message_text_leaves_the_index);
	test_run("thread_indexes_after_append", test_thread_indexes_after_append);
	test_run("texts_left_at_stop_are_indexed_after_the_next_start",
		 test_texts_left_at_stop_are_indexed_after_the_next_start);
	test_run("index_transaction_holds_up_no_delivery",
		 test_index_transaction_holds_up_no_delivery);
	test_run("batch_applied_twice_changes_nothing", test_batch_applied_twice_changes_nothing);
	test_run("missing_index_is_rebuilt", test_missing_index_is_rebuilt);
	test_run("tool_leaves_a_rebuild_to_the_daemon", test_tool_leaves_a_rebuild_to_the_daemon);
	test_run("wrapped_tokenizer_writes_the_same_index",
		 test_wrapped_tokenizer_writes_the_same_index);
	test_dir_remove();
	return test_finish();
}
