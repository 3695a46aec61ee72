#include "test-common.h"
#include "test-store-common.h"

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/filebytes.h"
#include "lib/xalloc.h"
#include "store/store.h"
/* White-box checks (blob tmp paths, the schema version) need the store's
 * private view. */
#include "store/store-private.h"
#include "mime/mime-digest.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct store_blob *blob_make(const char *text)
{
	struct store_blob_writer *w;
	struct store_blob *blob = NULL;
	TEST_CHECK_INT(store_blob_writer_begin(test_dir, 0, &w, NULL), STORE_OK);
	TEST_CHECK_INT(store_blob_writer_write(w, text, strlen(text), NULL), STORE_OK);
	TEST_CHECK_INT(store_blob_writer_finish(&w, &blob, NULL), STORE_OK);
	return blob;
}

static struct store_mailbox_status mailbox_status(struct store_user *u,
						  const char *name)
{
	struct store_mailbox_status status;
	memset(&status, 0, sizeof(status));
	TEST_CHECK_INT(store_mailbox_status(u, name, &status, NULL), STORE_OK);
	return status;
}

/* Appends text with flags and returns its UID (0 on failure). */
static uint32_t append_text(struct store_user *u, uint64_t mbox, const char *text,
			    uint32_t flags)
{
	struct store_blob *blob = blob_make(text);
	struct store_append msg = {
		.blob = blob, .flags = flags, .internal_date = 1700000000,
		.tz_offset_min = 60,
	};
	uint32_t uid = 0;
	enum store_error err = store_msg_append(u, mbox, &msg, 1, NULL, &uid, NULL);
	TEST_CHECK_INT(err, STORE_OK);
	store_blob_free(&blob);
	return err == STORE_OK ? uid : 0;
}

static bool file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static char *read_fd(int fd, size_t *len_r)
{
	static char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	*len_r = n < 0 ? 0 : (size_t)n;
	buf[*len_r] = '\0';
	return buf;
}

/* Files under dir, and under its subdirectories down to depth more. */
static int files_under(const char *dir_path, int depth)
{
	DIR *dir = opendir(dir_path);
	int count = 0;
	struct dirent *d;
	while (dir != NULL && (d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir_path, d->d_name);
		struct stat st;
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			count += depth > 0 ? files_under(path, depth - 1) : 0;
		else
			count++;
	}
	if (dir != NULL)
		closedir(dir);
	return count;
}

/* Files in tmp/ (new ones are one level down). */
static int tmp_file_count(void)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/tmp", test_dir);
	return files_under(path, 1);
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char digest[32];
	unsigned int digest_len = 0;
	EVP_Digest(data, len, digest, &digest_len, EVP_sha256(), NULL);
	store_hex(digest, 32, out);
}

static const struct store_uid_range all_uids = { 1, UINT32_MAX };

/* ---- Names and errors ---- */

static void test_mailbox_names_are_validated(void)
{
	const char *error = NULL;
	TEST_CHECK(store_mailbox_name_valid("INBOX", NULL));
	TEST_CHECK(store_mailbox_name_valid("a/b/c", NULL));
	TEST_CHECK(store_mailbox_name_valid("Entw\xc3\xbcrfe", NULL));
	TEST_CHECK(store_mailbox_name_valid(".hidden/x..y", NULL));
	TEST_CHECK(!store_mailbox_name_valid("", &error));
	TEST_CHECK(error != NULL);
	TEST_CHECK(!store_mailbox_name_valid("/a", NULL));
	TEST_CHECK(!store_mailbox_name_valid("a/", NULL));
	TEST_CHECK(!store_mailbox_name_valid("a//b", NULL));
	TEST_CHECK(!store_mailbox_name_valid(".", NULL));
	TEST_CHECK(!store_mailbox_name_valid("a/../b", NULL));
	TEST_CHECK(!store_mailbox_name_valid("a/.", NULL));
	TEST_CHECK(!store_mailbox_name_valid("a\tb", NULL));
	TEST_CHECK(!store_mailbox_name_valid("a\x7f", NULL));
	TEST_CHECK(!store_mailbox_name_valid("bad\xc3", NULL));
	TEST_CHECK(!store_mailbox_name_valid("over\xc0\xaflong", NULL));
	TEST_CHECK(!store_mailbox_name_valid("c1\xc2\x85", NULL));
	TEST_CHECK(store_user_name_valid("alice@example.org", NULL));
	TEST_CHECK(!store_user_name_valid("", NULL));
	TEST_CHECK(!store_user_name_valid("..", NULL));
	TEST_CHECK(!store_user_name_valid("a/b", NULL));
	TEST_CHECK(!store_user_name_valid("a\nb", NULL));
}

static void test_error_and_special_use_names(void)
{
	TEST_CHECK_STR(store_error_name(STORE_OK), "OK");
	TEST_CHECK_STR(store_error_name(STORE_ERR_NONEXISTENT), "NONEXISTENT");
	TEST_CHECK_STR(store_error_name(STORE_ERR_HASCHILDREN), "HASCHILDREN");
	TEST_CHECK_STR(store_error_name((enum store_error)999), "INTERNAL");
	TEST_CHECK_STR(store_special_use_name(STORE_SPECIAL_SENT), "\\Sent");
	TEST_CHECK(store_special_use_name(STORE_SPECIAL_SENT | STORE_SPECIAL_JUNK) == NULL);
	unsigned bit = 0;
	TEST_CHECK(store_special_use_parse("\\trash", &bit));
	TEST_CHECK_INT(bit, STORE_SPECIAL_TRASH);
	TEST_CHECK(!store_special_use_parse("\\Important", &bit));
}

/* ---- Users ---- */

static void test_user_open_creates_layout_and_defaults(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("alice");
	char path[512];
	snprintf(path, sizeof(path), "%s/mail.db", store_user_dir(u));
	TEST_CHECK(file_exists(path));
	snprintf(path, sizeof(path), "%s/blobs", store_user_dir(u));
	TEST_CHECK(file_exists(path));
	snprintf(path, sizeof(path), "%s/tmp", test_dir);
	TEST_CHECK(file_exists(path));
	/* users/<two hex digits>/alice */
	const char *rel = store_user_dir(u) + strlen(test_dir);
	TEST_CHECK(strncmp(rel, "/users/", 7) == 0 && rel[9] == '/' &&
		   strcmp(rel + 10, "alice") == 0);
	TEST_CHECK_STR(store_user_name(u), "alice");

	struct arena *a = arena_new(0);
	struct store_mailbox_info *list;
	size_t count;
	TEST_CHECK_INT(store_mailbox_list(u, a, &list, &count, NULL), STORE_OK);
	TEST_CHECK_INT(count, 6);
	static const char *const names[] = {
		"Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash" };
	static const unsigned uses[] = {
		STORE_SPECIAL_ARCHIVE, STORE_SPECIAL_DRAFTS, 0,
		STORE_SPECIAL_JUNK, STORE_SPECIAL_SENT, STORE_SPECIAL_TRASH };
	for (size_t i = 0; i < count && i < 6; i++) {
		TEST_CHECK_STR(list[i].name, names[i]);
		TEST_CHECK_INT(list[i].special_use, uses[i]);
		TEST_CHECK(list[i].subscribed);
		TEST_CHECK(!list[i].noselect);
		TEST_CHECK(!list[i].has_children);
		TEST_CHECK(list[i].objectid[0] == 'M' && strlen(list[i].objectid) == 25);
	}
	store_user_close(&u);
	TEST_CHECK(u == NULL);
	store_user_close(&u);

	/* Re-opening finds the store and creates nothing twice. */
	u = user_open("alice");
	TEST_CHECK_INT(store_mailbox_list(u, a, &list, &count, NULL), STORE_OK);
	TEST_CHECK_INT(count, 6);

	sqlite3 *db;
	snprintf(path, sizeof(path), "%s/mail.db", store_user_dir(u));
	TEST_CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	TEST_CHECK_INT(sqlite3_step(st), SQLITE_ROW);
	TEST_CHECK_INT(sqlite3_column_int(st, 0), 8);
	sqlite3_finalize(st);
	sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
	TEST_CHECK_INT(sqlite3_step(st), SQLITE_ROW);
	TEST_CHECK_STR((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);

	struct store_user *bad = NULL;
	const char *error = NULL;
	TEST_CHECK_INT(store_user_open(test_dir, "../x", &bad, &error),
		       STORE_ERR_INVALID);
	TEST_CHECK(bad == NULL && error != NULL);
	/* A data_dir that is a regular file cannot hold a store. */
	snprintf(path, sizeof(path), "%s/not-a-dir", test_dir);
	fclose(fopen(path, "w"));
	error = NULL;
	TEST_CHECK_INT(store_user_open(path, "carol", &bad, &error),
		       STORE_ERR_INTERNAL);
	TEST_CHECK(bad == NULL && error != NULL);
	arena_destroy(&a);
	store_user_close(&u);
	test_dir_remove();
}

static void test_user_delete_removes_store(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("bob");
	append_text(u, mailbox_id(u, "INBOX"), "Subject: x\r\n\r\nhi\r\n", 0);
	char dir[512];
	snprintf(dir, sizeof(dir), "%s", store_user_dir(u));
	store_user_close(&u);
	TEST_CHECK_INT(store_user_delete(test_dir, "bob", NULL), STORE_OK);
	TEST_CHECK(!file_exists(dir));
	TEST_CHECK_INT(store_user_delete(test_dir, "bob", NULL), STORE_ERR_NONEXISTENT);
	TEST_CHECK_INT(store_user_delete(test_dir, "a/b", NULL), STORE_ERR_INVALID);
	test_dir_remove();
}

static void test_cache_reuses_and_evicts_handles(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_cache *cache = store_cache_new(test_dir, 2);
	struct store_user *a1, *a2, *b, *c;
	TEST_CHECK_INT(store_cache_get(cache, "a", &a1, NULL), STORE_OK);
	TEST_CHECK_INT(store_cache_get(cache, "a", &a2, NULL), STORE_OK);
	TEST_CHECK(a1 == a2);
	TEST_CHECK_INT(store_cache_get(cache, "b", &b, NULL), STORE_OK);
	TEST_CHECK_STR(store_user_name(b), "b");
	/* "a" was used before "b"... touch a, so b is least recent. */
	TEST_CHECK_INT(store_cache_get(cache, "a", &a2, NULL), STORE_OK);
	TEST_CHECK_INT(store_cache_get(cache, "c", &c, NULL), STORE_OK);
	TEST_CHECK_STR(store_user_name(c), "c");
	TEST_CHECK_INT(store_cache_get(cache, "a", &a2, NULL), STORE_OK);
	TEST_CHECK(a1 == a2);
	TEST_CHECK_INT(store_cache_get(cache, "bad/name", &b, NULL), STORE_ERR_INVALID);
	store_cache_destroy(&cache);
	TEST_CHECK(cache == NULL);
	test_dir_remove();
}

/* ---- Blobs ---- */

static void test_blob_writer_normalises_crlf_at_every_split(void)
{
	static const char raw[] = "a\rb\nc\r\nd\r\r\n\n\re\r";
	static const char want[] = "a\r\nb\r\nc\r\nd\r\n\r\n\r\n\r\ne\r\n";
	char want_hash[65];
	sha256_hex(want, strlen(want), want_hash);
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	size_t raw_len = strlen(raw);
	for (size_t split = 0; split <= raw_len; split++) {
		struct store_blob_writer *w;
		struct store_blob *blob;
		TEST_CHECK_INT(store_blob_writer_begin(test_dir, 0, &w, NULL), STORE_OK);
		TEST_CHECK_INT(store_blob_writer_write(w, raw, split, NULL), STORE_OK);
		TEST_CHECK_INT(store_blob_writer_write(w, raw + split, raw_len - split,
						       NULL), STORE_OK);
		TEST_CHECK_INT(store_blob_writer_finish(&w, &blob, NULL), STORE_OK);
		TEST_CHECK(w == NULL);
		TEST_CHECK_INT(store_blob_size(blob), strlen(want));
		TEST_CHECK_STR(store_blob_hash(blob), want_hash);
		int fd = open(blob->tmp_path, O_RDONLY);
		size_t len;
		char *got = read_fd(fd, &len);
		close(fd);
		TEST_CHECK_MEM(got, len, want, strlen(want));
		store_blob_free(&blob);
		TEST_CHECK(blob == NULL);
	}
	/* One byte at a time. */
	struct store_blob_writer *w;
	struct store_blob *blob;
	TEST_CHECK_INT(store_blob_writer_begin(test_dir, 0, &w, NULL), STORE_OK);
	for (size_t i = 0; i < raw_len; i++)
		TEST_CHECK_INT(store_blob_writer_write(w, raw + i, 1, NULL), STORE_OK);
	TEST_CHECK_INT(store_blob_writer_finish(&w, &blob, NULL), STORE_OK);
	TEST_CHECK_STR(store_blob_hash(blob), want_hash);
	char *tmp_path = xstrdup(blob->tmp_path);
	store_blob_free(&blob);
	TEST_CHECK(!file_exists(tmp_path));
	free(tmp_path);
	test_dir_remove();
}

/* The writer's rule, a byte at a time: CRLF, bare CR and bare LF each
 * become CRLF. */
static size_t normalise_reference(const unsigned char *in, size_t len, unsigned char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\r') {
			out[o++] = '\r';
			out[o++] = '\n';
			if (i + 1 < len && in[i + 1] == '\n')
				i++;
		} else if (in[i] == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
		} else {
			out[o++] = in[i];
		}
	}
	return o;
}

/* Mostly clean lines with a stray CR or LF now and then, written in
 * chunks of random sizes: the same bytes as the reference. */
static void test_blob_writer_matches_the_rule_on_random_text(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	uint64_t r = 88172645463325252ull;
	unsigned char in[6000], want[12000];
	for (int round = 0; round < 200; round++) {
		size_t len = 0;
		while (len < sizeof(in) - 4) {
			r ^= r << 13, r ^= r >> 7, r ^= r << 17;
			unsigned pick = (unsigned)(r % 100);
			unsigned char c = (unsigned char)('a' + pick % 26);
			if (pick < 3)
				c = '\r';
			else if (pick < 6)
				c = '\n';
			else if (pick < 12)
				c = ' ';
			in[len++] = c;
			if (pick >= 94) {
				in[len++] = '\r';
				in[len++] = '\n';
			}
		}
		size_t want_len = normalise_reference(in, len, want);
		struct store_blob_writer *w;
		struct store_blob *blob;
		TEST_CHECK_INT(store_blob_writer_begin(test_dir, 0, &w, NULL), STORE_OK);
		for (size_t done = 0; done < len;) {
			r ^= r << 13, r ^= r >> 7, r ^= r << 17;
			size_t n = 1 + (size_t)(r % 700);
			if (n > len - done)
				n = len - done;
			TEST_CHECK_INT(store_blob_writer_write(w, in + done, n, NULL), STORE_OK);
			done += n;
		}
		TEST_CHECK_INT(store_blob_writer_finish(&w, &blob, NULL), STORE_OK);
		char want_hash[65];
		sha256_hex(want, want_len, want_hash);
		TEST_CHECK_INT(store_blob_size(blob), want_len);
		TEST_CHECK_STR(store_blob_hash(blob), want_hash);
		store_blob_free(&blob);
	}
	test_dir_remove();
}

static void test_blob_writer_limits_and_abort(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_blob_writer *w;
	struct store_blob *blob = NULL;
	const char *error = NULL;
	TEST_CHECK_INT(store_blob_writer_begin(test_dir, 5, &w, NULL), STORE_OK);
	TEST_CHECK_INT(store_blob_writer_write(w, "abcd", 4, NULL), STORE_OK);
	/* "\n" becomes two bytes: 6 > 5. */
	TEST_CHECK_INT(store_blob_writer_write(w, "\n", 1, &error), STORE_ERR_TOOBIG);
	TEST_CHECK(error != NULL);
	TEST_CHECK_INT(store_blob_writer_write(w, "x", 1, NULL), STORE_ERR_INTERNAL);
	TEST_CHECK_INT(store_blob_writer_finish(&w, &blob, NULL), STORE_ERR_INTERNAL);
	TEST_CHECK(w == NULL && blob == NULL);

	TEST_CHECK_INT(tmp_file_count(), 0);
	TEST_CHECK_INT(store_blob_writer_begin(test_dir, 0, &w, NULL), STORE_OK);
	TEST_CHECK_INT(store_blob_writer_write(w, "abc", 3, NULL), STORE_OK);
	TEST_CHECK_INT(tmp_file_count(), 1);
	store_blob_writer_abort(&w);
	TEST_CHECK(w == NULL);
	TEST_CHECK_INT(tmp_file_count(), 0);
	store_blob_writer_abort(&w);

	/* Successive files go to different subdirectories of tmp/, which
	 * are made again when removed. */
	struct store_blob *first = blob_make("one\r\n"), *second = blob_make("two\r\n");
	char first_dir[512], second_dir[512];
	snprintf(first_dir, sizeof(first_dir), "%s", first->tmp_path);
	snprintf(second_dir, sizeof(second_dir), "%s", second->tmp_path);
	*strrchr(first_dir, '/') = '\0';
	*strrchr(second_dir, '/') = '\0';
	TEST_CHECK(strcmp(first_dir, second_dir) != 0);
	TEST_CHECK(strncmp(first_dir, test_dir, strlen(test_dir)) == 0 &&
		   strncmp(first_dir + strlen(test_dir), "/tmp/", 5) == 0);
	store_blob_free(&first);
	store_blob_free(&second);
	TEST_CHECK_INT(tmp_file_count(), 0);
	TEST_CHECK_INT(rmdir(first_dir), 0);
	for (int i = 0; i < STORE_TMP_SPREAD; i++) {
		struct store_blob *again = blob_make("again\r\n");
		TEST_CHECK(again != NULL);
		store_blob_free(&again);
	}
	TEST_CHECK(file_exists(first_dir));

	/* tmp/ cannot be made below a regular file. */
	char not_dir[512];
	snprintf(not_dir, sizeof(not_dir), "%s/plain-file", test_dir);
	fclose(fopen(not_dir, "w"));
	TEST_CHECK_INT(store_blob_writer_begin(not_dir, 0, &w, &error),
		       STORE_ERR_INTERNAL);
	TEST_CHECK(w == NULL);
	test_dir_remove();
}

static void test_blob_import_normalises_file(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	char path[512];
	snprintf(path, sizeof(path), "%s/import.eml", test_dir);
	FILE *f = fopen(path, "w");
	fputs("From: a\nSubject: b\n\nbody\n", f);
	fclose(f);
	struct store_blob *blob = NULL;
	TEST_CHECK_INT(store_blob_import(test_dir, path, 0, &blob, NULL), STORE_OK);
	TEST_CHECK_INT(store_blob_size(blob), 29);
	store_blob_free(&blob);
	TEST_CHECK_INT(store_blob_import(test_dir, path, 10, &blob, NULL),
		       STORE_ERR_TOOBIG);
	snprintf(path, sizeof(path), "%s/missing.eml", test_dir);
	TEST_CHECK_INT(store_blob_import(test_dir, path, 0, &blob, NULL),
		       STORE_ERR_NONEXISTENT);
	test_dir_remove();
}

/* ---- Append and read ---- */

static void test_append_stores_message_and_metadata(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("alice");
	uint64_t inbox = mailbox_id(u, "inbox");
	TEST_CHECK(inbox != 0);
	struct store_mailbox_status before = mailbox_status(u, "INBOX");
	const char *text = "Subject: hello\nFrom: x@y\n\nline\n";
	struct store_blob *blob = blob_make(text);
	static const char *const kws[] = { "$Forwarded", "work", "WORK" };
	struct store_msg_meta meta = {
		.envelope = "(NIL \"hello\")", .bodystructure = "(\"TEXT\")",
		.body = "(\"TEXT\" \"PLAIN\")", .has_sent_date = true,
		.sent_date = 1699999999, .from = "x@y", .subject = "hello",
		.message_id = "<1@y>", .header_text = "Subject: hello",
		.body_text = "line",
	};
	struct store_append msg = {
		.blob = blob, .flags = STORE_FLAG_FLAGGED | 0x100,
		.keywords = kws, .keyword_count = 3,
		.internal_date = 1700000000, .tz_offset_min = -300, .meta = &meta,
	};
	uint32_t uid = 0, uidvalidity = 0;
	TEST_CHECK_INT(store_msg_append(u, inbox, &msg, 1, &uidvalidity, &uid, NULL),
		       STORE_OK);
	TEST_CHECK_INT(uid, 1);
	TEST_CHECK_INT(uidvalidity, before.uidvalidity);
	uint64_t size = store_blob_size(blob);
	TEST_CHECK_INT(size, strlen(text) + 4);

	struct arena *a = arena_new(0);
	struct store_msg m;
	TEST_CHECK_INT(store_msg_get(u, inbox, uid, STORE_MSG_WANT_META |
				     STORE_MSG_WANT_TEXT, a, &m, NULL), STORE_OK);
	TEST_CHECK_INT(m.flags, STORE_FLAG_FLAGGED);
	TEST_CHECK_INT(m.keyword_count, 2);
	TEST_CHECK_STR(m.keywords[0], "$Forwarded");
	TEST_CHECK_STR(m.keywords[1], "work");
	TEST_CHECK_INT(m.size, size);
	TEST_CHECK_INT(m.internal_date, 1700000000);
	TEST_CHECK_INT(m.tz_offset_min, -300);
	TEST_CHECK(m.save_date >= 1700000000);
	TEST_CHECK(m.modseq > before.highestmodseq);
	TEST_CHECK_STR(m.hash, store_blob_hash(blob));
	TEST_CHECK(m.emailid[0] == 'E' && strlen(m.emailid) == 25);
	TEST_CHECK_STR(m.meta.envelope, "(NIL \"hello\")");
	TEST_CHECK_STR(m.meta.bodystructure, "(\"TEXT\")");
	TEST_CHECK_STR(m.meta.body, "(\"TEXT\" \"PLAIN\")");
	TEST_CHECK(m.meta.has_sent_date && m.meta.sent_date == 1699999999);
	TEST_CHECK_STR(m.meta.subject, "hello");
	TEST_CHECK_STR(m.meta.message_id, "<1@y>");
	TEST_CHECK(m.meta.to == NULL);
	TEST_CHECK_STR(m.meta.body_text, "line");
	TEST_CHECK_INT(store_msg_get(u, inbox, uid, 0, a, &m, NULL), STORE_OK);
	TEST_CHECK(m.meta.envelope == NULL);
	TEST_CHECK_INT(store_msg_get(u, inbox, 99, 0, a, &m, NULL),
		       STORE_ERR_NONEXISTENT);

	int fd = -1;
	uint64_t blob_size = 0;
	TEST_CHECK_INT(store_msg_open_blob(u, inbox, uid, &fd, &blob_size, NULL),
		       STORE_OK);
	size_t len;
	char *body = read_fd(fd, &len);
	close(fd);
	TEST_CHECK_INT(blob_size, size);
	TEST_CHECK_MEM(body, len, "Subject: hello\r\nFrom: x@y\r\n\r\nline\r\n", size);
	TEST_CHECK_INT(store_msg_open_blob(u, inbox, 42, &fd, NULL, NULL),
		       STORE_ERR_NONEXISTENT);

	struct store_mailbox_status after = mailbox_status(u, "INBOX");
	TEST_CHECK_INT(after.messages, before.messages + 1);
	TEST_CHECK_INT(after.unseen, 1);
	TEST_CHECK_INT(after.recent, 1);
	TEST_CHECK_INT(after.size, size);
	TEST_CHECK_INT(after.uidnext, 2);
	uint64_t bytes, messages;
	TEST_CHECK_INT(store_user_usage(u, &bytes, &messages, NULL), STORE_OK);
	TEST_CHECK_INT(bytes, size);
	TEST_CHECK_INT(messages, 1);

	const char **kwlist;
	size_t kwcount;
	TEST_CHECK_INT(store_mailbox_keywords(u, inbox, a, &kwlist, &kwcount, NULL),
		       STORE_OK);
	TEST_CHECK_INT(kwcount, 2);
	TEST_CHECK_INT(store_mailbox_keywords(u, 9999, a, &kwlist, &kwcount, NULL),
		       STORE_ERR_NONEXISTENT);

	/* Error paths. */
	static const char *const bad_kw[] = { "bad kw" };
	msg.keywords = bad_kw;
	msg.keyword_count = 1;
	TEST_CHECK_INT(store_msg_append(u, inbox, &msg, 1, NULL, &uid, NULL),
		       STORE_ERR_INVALID);
	msg.keyword_count = 0;
	TEST_CHECK_INT(store_msg_append(u, 9999, &msg, 1, NULL, &uid, NULL),
		       STORE_ERR_NONEXISTENT);
	TEST_CHECK_INT(store_msg_append(u, inbox, &msg, 0, NULL, &uid, NULL),
		       STORE_ERR_INVALID);
	TEST_CHECK_INT(store_msg_append_by_name(u, "Sent", &msg, &uidvalidity, &uid,
						NULL), STORE_OK);
	TEST_CHECK_INT(uid, 1);
	TEST_CHECK_INT(uidvalidity, mailbox_status(u, "Sent").uidvalidity);
	TEST_CHECK_INT(store_msg_append_by_name(u, "Nope", &msg, NULL, NULL, NULL),
		       STORE_ERR_NONEXISTENT);
	store_blob_free(&blob);
	arena_destroy(&a);
	store_user_close(&u);
	test_dir_remove();
}

static void test_multiappend_is_all_or_nothing(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("alice");
	uint64_t inbox = mailbox_id(u, "INBOX");
	struct store_mailbox_status before = mailbox_status(u, "INBOX");
	struct store_blob *good = blob_make("Subject: one\r\n\r\n1\r\n");
	struct store_blob *broken = blob_make("Subject: two\r\n\r\n2\r\n");
	/* The second body's tmp file disappears: linking it fails after the
	 * first message was already inserted in the transaction. */
	unlink(broken->tmp_path);
	struct store_append msgs[2] = {
		{ .blob = good, .internal_date = 1 },
		{ .blob = broken, .internal_date = 2 },
	};
	uint32_t uids[2] = { 0, 0 };
	TEST_CHECK(store_msg_append(u, inbox, msgs, 2, NULL, uids, NULL) != STORE_OK);
	struct store_mailbox_status after = mailbox_status(u, "INBOX");
	TEST_CHECK_INT(after.messages, before.messages);
	TEST_CHECK_INT(after.uidnext, before.uidnext);
	TEST_CHECK_INT(after.highestmodseq, before.highestmodseq);
	char *path = store_blob_path(u, store_blob_hash(good));
	TEST_CHECK(!file_exists(path));

	/* Both succeed together. */
	store_blob_free(&broken);
	broken = blob_make("Subject: two\r\n\r\n2\r\n");
	msgs[1].blob = broken;
	uint32_t uidvalidity = 0;
	TEST_CHECK_INT(store_msg_append(u, inbox, msgs, 2, &uidvalidity, uids, NULL),
		       STORE_OK);
	TEST_CHECK_INT(uids[0], 1);
	TEST_CHECK_INT(uids[1], 2);
	TEST_CHECK_INT(uidvalidity, before.uidvalidity);
	TEST_CHECK(file_exists(path));
	struct arena *a = arena_new(0);
	struct store_msg m1, m2;
	store_msg_get(u, inbox, 1, 0, a, &m1, NULL);
	store_msg_get(u, inbox, 2, 0, a, &m2, NULL);
	TEST_CHECK_INT(m1.modseq, m2.modseq);
	free(path);
	arena_destroy(&a);
	store_blob_free(&good);
	store_blob_free(&broken);
	store_user_close(&u);
	test_dir_remove();
}

/* ---- Mailboxes ---- */

static void test_create_makes_parents_and_rejects_duplicates(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("alice");
	uint64_t id = 0;
	const char *error = NULL;
	TEST_CHECK_INT(store_mailbox_create(u, "a/b/c", STORE_SPECIAL_FLAGGED, &id,
					    NULL), STORE_OK);
	TEST_CHECK(id != 0);
	TEST_CHECK(mailbox_id(u, "a") != 0);
	TEST_CHECK(mailbox_id(u, "a/b") != 0);
	TEST_CHECK_INT(mailbox_id(u, "a/b/c"), id);
	TEST_CHECK_INT(mailbox_status(u, "a/b/c").special_use, STORE_SPECIAL_FLAGGED);
	TEST_CHECK_INT(mailbox_status(u, "a").special_use, 0);
	TEST_CHECK(!mailbox_status(u, "a").noselect);
	TEST_CHECK_INT(store_mailbox_create(u, "a/b", 0, NULL, &error),
		       STORE_ERR_ALREADYEXISTS);
	TEST_CHECK(error != NULL);
	TEST_CHECK_INT(store_mailbox_create(u, "inbox", 0, NULL, NULL),
		       STORE_ERR_ALREADYEXISTS);
	TEST_CHECK_INT(store_mailbox_create(u, "a//x", 0, NULL, NULL),
		       STORE_ERR_INVALID);
	TEST_CHECK_INT(store_mailbox_create(u, "x", 1u << 20, NULL, NULL),
		       STORE_ERR_INVALID);
	/* Names other than INBOX are case-sensitive. */
	TEST_CHECK_INT(store_mailbox_create(u, "A", 0, NULL, NULL), STORE_OK);
	TEST_CHECK_INT(store_mailbox_create(u, "Inbox/Sub", 0, NULL, NULL), STORE_OK);
	TEST_CHECK(mailbox_id(u, "INBOX/Sub") != 0);

	struct arena *a = arena_new(0);
	struct store_mailbox_info *list;
	size_t count;
	TEST_CHECK_INT(store_mailbox_list(u, a, &list, &count, NULL), STORE_OK);
	bool saw_a = false, saw_inbox = false;
	for (size_t i = 0; i < count; i++) {
		if (strcmp(list[i].name, "a") == 0) {
			saw_a = true;
			TEST_CHECK(list[i].has_children);
			TEST_CHECK(!list[i].subscribed);
		}
		if (strcmp(list[i].name, "INBOX") == 0) {
			saw_inbox = true;
			TEST_CHECK(list[i].has_children);
		}
		if (i > 0)
			TEST_CHECK(strcmp(list[i - 1].name, list[i].name) < 0);
	}
	TEST_CHECK(saw_a && saw_inbox);
	struct store_mailbox_status status;
	TEST_CHECK_INT(store_mailbox_status(u, "zzz", &status, NULL),
		       STORE_ERR_NONEXISTENT);
	TEST_CHECK_INT(store_mailbox_status(u, "", &status, NULL), STORE_ERR_INVALID);
	TEST_CHECK_INT(store_mailbox_status_by_id(u, id, &status, NULL), STORE_OK);
	TEST_CHECK_INT(status.id, id);
	TEST_CHECK_INT(store_mailbox_status_by_id(u, 9999, &status, NULL),
		       STORE_ERR_NONEXISTENT);
	arena_destroy(&a);
	store_user_close(&u);
	test_dir_remove();
}

static void test_uidvalidity_never_repeats_after_delete_and_create(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("alice");
	uint32_t seen[20];
	uint64_t last_id = 0;
	for (int i = 0; i < 20; i++) {
		uint64_t id;
		TEST_CHECK_INT(store_mailbox_create(u, "again", 0, &id, NULL), STORE_OK);
		TEST_CHECK(id > last_id);
		last_id = id;
		seen[i] = mailbox_status(u, "again").uidvalidity;
		TEST_CHECK(seen[i] >= (uint32_t)time(NULL) - 5);
		for (int j = 0; j < i; j++)
			TEST_CHECK(seen[j] < seen[i]);
		TEST_CHECK_INT(store_mailbox_delete(u, "again", NULL), STORE_OK);
	}
	store_user_close(&u);
	test_dir_remove();
}

static void test_delete_leaves_noselect_parent_for_children(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("alice");
	uint64_t parent;
	TEST_CHECK_INT(store_mailbox_create(u, "p", 0, &parent, NULL), STORE_OK);
	TEST_CHECK_INT(store_mailbox_create(u, "p/c", 0, NULL, NULL), STORE_OK);
	append_text(u, parent, "Subject: only here\r\n\r\nx\r\n", 0);
	struct arena *a = arena_new(0);
	struct store_msg m;
	TEST_CHECK_INT(store_msg_get(u, parent, 1, 0, a, &m, NULL), STORE_OK);
	char *blob_path = store_blob_path(u, m.hash);
	TEST_CHECK(file_exists(blob_path));

	TEST_CHECK_INT(store_mailbox_delete(u, "p", NULL), STORE_OK);
	struct store_mailbox_status status = mailbox_status(u, "p");
	TEST_CHECK(status.noselect);
	TEST_CHECK_INT(status.messages, 0);
	TEST_CHECK(!file_exists(blob_path));
	uint64_t bytes, messages;
	store_user_usage(u, &bytes, &messages, NULL);
	TEST_CHECK_INT(messages, 0);
	TEST_CHECK_INT(bytes, 0);
	struct store_view view;
	TEST_CHECK_INT(store_view_load(u, parent, &view, NULL), STORE_ERR_CANNOT);
	TEST_CHECK_INT(store_msg_append(u, parent, &(struct store_append){
		.blob = NULL }, 1, NULL, NULL, NULL), STORE_ERR_INVALID);
	TEST_CHECK_INT(store_mailbox_delete(u, "p", NULL), STORE_ERR_HASCHILDREN);
	TEST_CHECK_INT(store_mailbox_set_special_use(u, "p", STORE_SPECIAL_TRASH,
						     NULL), STORE_ERR_CANNOT);

	/* The last child going takes the \Noselect placeholder with it. */
	TEST_CHECK_INT(store_mailbox_delete(u, "p/c", NULL), STORE_OK);
	TEST_CHECK_INT(store_mailbox_status(u, "p", &status, NULL),
		       STORE_ERR_NONEXISTENT);

	/* Re-creating a \Noselect name makes it a new, selectable mailbox. */
	TEST_CHECK_INT(store_mailbox_create(u, "q/r", 0, NULL, NULL), STORE_OK);
	uint32_t old_validity = mailbox_status(u, "q").uidvalidity;
	TEST_CHECK_INT(store_mailbox_delete(u, "q", NULL), STORE_OK);
	TEST_CHECK_INT(store_mailbox_create(u, "q", 0, NULL, NULL), STORE_OK);
	status = mailbox_status(u, "q");
	TEST_CHECK(!status.noselect);
	TEST_CHECK(status.uidvalidity > old_validity);

	TEST_CHECK_INT(store_mailbox_delete(u, "INBOX", NULL), STORE_ERR_CANNOT);
	TEST_CHECK_INT(store_mailbox_delete(u, "inbox", NULL), STORE_ERR_CANNOT);
	TEST_CHECK_INT(store_mailbox_delete(u, "missing", NULL), STORE_ERR_NONEXISTENT);
	TEST_CHECK_INT(store_mailbox_delete(u, "a/", NULL), STORE_ERR_INVALID);
	free(blob_path);
	arena_destroy(&a);
	store_user_close(&u);
	test_dir_remove();
}

static void test_rename_moves_children_and_keeps_identity(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("alice");
	uint64_t id, child;
	TEST_CHECK_INT(store_mailbox_create(u, "old", 0, &id, NULL), STORE_OK);
	TEST_CHECK_INT(store_mailbox_create(u, "old/kid", 0, &child, NULL), STORE_OK);
	TEST_CHECK_INT(store_mailbox_create(u, "older", 0, NULL, NULL), STORE_OK);
	append_text(u, id, "Subject: r\r\n\r\nr\r\n", 0);
	struct store_mailbox_status before = mailbox_status(u, "old");

	TEST_CHECK_INT(store_mailbox_rename(u, "old", "new/place", NULL), STORE_OK);
	struct store_mailbox_status after = mailbox_status(u, "new/place");
	TEST_CHECK_INT(after.id, id);
	TEST_CHECK_INT(after.uidvalidity, before.uidvalidity);
	TEST_CHECK_STR(after.objectid, before.objectid);
	TEST_CHECK_INT(after.messages, 1);
	TEST_CHECK(after.generation > before.generation);
	TEST_CHECK_INT(mailbox_id(u, "new/place/kid"), child);
	TEST_CHECK(mailbox_id(u, "new") != 0);
	TEST_CHECK_INT(mailbox_id(u, "old"), 0);
	TEST_CHECK_INT(mailbox_id(u, "old/kid"), 0);
	TEST_CHECK(mailbox_id(u, "older") != 0);

	TEST_CHECK_INT(store_mailbox_rename(u, "new/place", "older", NULL),
		       STORE_ERR_ALREADYEXISTS);
	TEST_CHECK_INT(store_mailbox_rename(u, "new/place", "new/place/kid/x", NULL),
		       STORE_ERR_CANNOT);
	TEST_CHECK_INT(store_mailbox_rename(u, "nothing", "x", NULL),
		       STORE_ERR_NONEXISTENT);
	TEST_CHECK_INT(store_mailbox_rename(u, "older", "bad//name", NULL),
		       STORE_ERR_INVALID);
	TEST_CHECK_INT(store_mailbox_rename(u, "bad//name", "x", NULL),
		       STORE_ERR_INVALID);
	/* Multi-byte names: the suffix after the old name is cut correctly. */
	TEST_CHECK_INT(store_mailbox_create(u, "Entw\xc3\xbcrfe/sp\xc3\xa4t", 0, NULL,
					    NULL), STORE_OK);
	TEST_CHECK_INT(store_mailbox_rename(u, "Entw\xc3\xbcrfe", "\xc3\x84/b", NULL),
		       STORE_OK);
	TEST_CHECK(mailbox_id(u, "\xc3\x84/b/sp\xc3\xa4t") != 0);
	/* A new mailbox under the old name is a new incarnation. */
	TEST_CHECK_INT(store_mailbox_create(u, "old", 0, NULL, NULL), STORE_OK);
	TEST_CHECK(mailbox_status(u, "old").uidvalidity != before.uidvalidity);
	store_user_close(&u);
	test_dir_remove();
}

static void test_rename_inbox_moves_messages_and_leaves_it_empty(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("alice");
	uint64_t inbox = mailbox_id(u, "INBOX");
	TEST_CHECK_INT(store_mailbox_create(u, "INBOX/keep", 0, NULL, NULL), STORE_OK);
	append_text(u, inbox, "Subject: 1\r\n\r\n1\r\n", STORE_FLAG_SEEN);
	append_text(u, inbox, "Subject: 2\r\n\r\n2\r\n", 0);
	struct store_mailbox_status before = mailbox_status(u, "INBOX");

	TEST_CHECK_INT(store_mailbox_rename(u, "inbox", "INBOX/old-mail", NULL),
		       STORE_OK);
	struct store_mailbox_status in = mailbox_status(u, "INBOX");
	struct store_mailbox_status moved = mailbox_status(u, "INBOX/old-mail");
	TEST_CHECK_INT(in.id, inbox);
	TEST_CHECK_INT(in.messages, 0);
	TEST_CHECK_INT(in.uidvalidity, before.uidvalidity);
	TEST_CHECK_INT(in.uidnext, before.uidnext);
	TEST_CHECK(in.highestmodseq > before.highestmodseq);
	TEST_CHECK(moved.id != inbox);
	TEST_CHECK(moved.uidvalidity != before.uidvalidity);
	TEST_CHECK_STR(moved.objectid, moved.objectid);
	TEST_CHECK(strcmp(moved.objectid, in.objectid) != 0);
	TEST_CHECK_INT(moved.messages, 2);
	TEST_CHECK_INT(moved.unseen, 1);
	TEST_CHECK_INT(moved.uidnext, before.uidnext);
	TEST_CHECK(mailbox_id(u, "INBOX/keep") != 0);

	struct arena *a = arena_new(0);
	struct store_msg m;
	TEST_CHECK_INT(store_msg_get(u, moved.id, 2, 0, a, &m, NULL), STORE_OK);
	struct store_changes changes;
	TEST_CHECK_INT(store_mailbox_changes(u, inbox, before.highestmodseq, a,
					     &changes, NULL), STORE_OK);
	TEST_CHECK_INT(changes.vanished_count, 2);
	/* INBOX's UIDs are not reused. */
	TEST_CHECK_INT(append_text(u, inbox, "Subject: 3\r\n\r\n3\r\n", 0), 3);
	arena_destroy(&a);
	store_user_close(&u);
	test_dir_remove();
}

static void test_subscriptions_outlive_mailboxes(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("alice");
	TEST_CHECK_INT(store_mailbox_subscribe(u, "ghost/folder", true, NULL), STORE_OK);
	TEST_CHECK_INT(store_mailbox_subscribe(u, "ghost/folder", true, NULL), STORE_OK);
	TEST_CHECK_INT(store_mailbox_subscribe(u, "Trash", false, NULL), STORE_OK);
	TEST_CHECK_INT(store_mailbox_subscribe(u, "Trash", false, NULL), STORE_OK);
	TEST_CHECK_INT(store_mailbox_subscribe(u, "inbox", true, NULL), STORE_OK);
	TEST_CHECK_INT(store_mailbox_subscribe(u, "a//b", true, NULL), STORE_ERR_INVALID);
	TEST_CHECK_INT(store_mailbox_delete(u, "Sent", NULL), STORE_OK);
	struct arena *a = arena_new(0);
	const char **names;
	size_t count;
	TEST_CHECK_INT(store_subscription_list(u, a, &names, &count, NULL), STORE_OK);
	TEST_CHECK_INT(count, 6);
	static const char *const want[] = {
		"Archive", "Drafts", "INBOX", "Junk", "Sent", "ghost/folder" };
	for (size_t i = 0; i < count && i < 6; i++)
		TEST_CHECK_STR(names[i], want[i]);
	arena_destroy(&a);
	store_user_close(&u);
	test_dir_remove();
}

static void test_special_use_can_be_changed(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("alice");
	TEST_CHECK_INT(store_mailbox_create(u, "All Mail", STORE_SPECIAL_ALL, NULL,
					    NULL), STORE_OK);
	uint64_t gen = mailbox_status(u, "All Mail").generation;
	TEST_CHECK_INT(store_mailbox_set_special_use(u, "All Mail",
		STORE_SPECIAL_ALL | STORE_SPECIAL_ARCHIVE, NULL), STORE_OK);
	struct store_mailbox_status status = mailbox_status(u, "All Mail");
	TEST_CHECK_INT(status.special_use, STORE_SPECIAL_ALL | STORE_SPECIAL_ARCHIVE);
	TEST_CHECK(status.generation > gen);
	TEST_CHECK_INT(store_mailbox_set_special_use(u, "nope", 0, NULL),
		       STORE_ERR_NONEXISTENT);
	TEST_CHECK_INT(store_mailbox_set_special_use(u, "All Mail", 0x800, NULL),
		       STORE_ERR_INVALID);
	TEST_CHECK_INT(store_mailbox_set_special_use(u, "", 0, NULL),
		       STORE_ERR_INVALID);
	store_user_close(&u);
	test_dir_remove();
}

/* ---- Flags ---- */

static void test_store_flags_bumps_modseq_only_on_change(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("alice");
	uint64_t inbox = mailbox_id(u, "INBOX");
	for (int i = 0; i < 3; i++)
		append_text(u, inbox, i == 0 ? "1\r\n" : i == 1 ? "2\r\n" : "3\r\n", 0);
	struct arena *a = arena_new(0);
	struct store_flags_result res;
	static const char *const kw[] = { "Work" };
	struct store_flag_change add = {
		.op = STORE_FLAGS_ADD, .flags = STORE_FLAG_SEEN,
		.keywords = kw, .keyword_count = 1,
	};
	struct store_uid_range first_two = { 1, 2 };
	uint64_t modseq0 = mailbox_status(u, "INBOX").highestmodseq;
	TEST_CHECK_INT(store_msg_set_flags(u, inbox, &first_two, 1, &add, a, &res,
					   NULL), STORE_OK);
	TEST_CHECK_INT(res.count, 2);
	TEST_CHECK_INT(res.failed_count, 0);
	TEST_CHECK(res.msgs[0].changed && res.msgs[1].changed);
	TEST_CHECK_INT(res.msgs[0].flags, STORE_FLAG_SEEN);
	TEST_CHECK_INT(res.msgs[0].keyword_count, 1);
	TEST_CHECK_STR(res.msgs[0].keywords[0], "Work");
	TEST_CHECK_INT(res.msgs[0].modseq, modseq0 + 1);
	TEST_CHECK_INT(res.highestmodseq, modseq0 + 1);
	struct store_mailbox_status status = mailbox_status(u, "INBOX");
	TEST_CHECK_INT(status.unseen, 1);
	TEST_CHECK_INT(status.highestmodseq, modseq0 + 1);

	/* Same change again: nothing changes, MODSEQ stays. */
	static const char *const kw_lower[] = { "work" };
	add.keywords = kw_lower;
	TEST_CHECK_INT(store_msg_set_flags(u, inbox, &first_two, 1, &add, a, &res,
					   NULL), STORE_OK);
	TEST_CHECK(!res.msgs[0].changed && !res.msgs[1].changed);
	TEST_CHECK_INT(mailbox_status(u, "INBOX").highestmodseq, modseq0 + 1);

	/* UNCHANGEDSINCE: message 3 is older than the condition, 1 and 2
	 * changed after it. */
	struct store_flag_change del = {
		.op = STORE_FLAGS_ADD, .flags = STORE_FLAG_DELETED,
		.has_unchangedsince = true, .unchangedsince = modseq0,
	};
	TEST_CHECK_INT(store_msg_set_flags(u, inbox, &all_uids, 1, &del, a, &res,
					   NULL), STORE_OK);
	TEST_CHECK_INT(res.failed_count, 2);
	TEST_CHECK_INT(res.failed[0], 1);
	TEST_CHECK_INT(res.failed[1], 2);
	TEST_CHECK_INT(res.count, 3);
	TEST_CHECK(!res.msgs[0].changed && res.msgs[2].changed);
	TEST_CHECK_INT(res.msgs[2].flags, STORE_FLAG_DELETED);
	TEST_CHECK_INT(res.msgs[2].modseq, modseq0 + 2);
	TEST_CHECK_INT(mailbox_status(u, "INBOX").deleted, 1);
	del.unchangedsince = 0;
	TEST_CHECK_INT(store_msg_set_flags(u, inbox, &all_uids, 1, &del, a, &res,
					   NULL), STORE_OK);
	TEST_CHECK_INT(res.failed_count, 3);

	/* Remove and replace. */
	struct store_flag_change rm = {
		.op = STORE_FLAGS_REMOVE, .flags = STORE_FLAG_SEEN,
		.keywords = kw_lower, .keyword_count = 1,
	};
	struct store_uid_range one = { 1, 1 };
	TEST_CHECK_INT(store_msg_set_flags(u, inbox, &one, 1, &rm, a, &res, NULL),
		       STORE_OK);
	TEST_CHECK_INT(res.msgs[0].flags, 0);
	TEST_CHECK_INT(res.msgs[0].keyword_count, 0);
	static const char *const two_kw[] = { "$Junk", "b" };
	struct store_flag_change set = {
		.op = STORE_FLAGS_REPLACE, .flags = STORE_FLAG_ANSWERED | STORE_FLAG_DRAFT,
		.keywords = two_kw, .keyword_count = 2,
	};
	struct store_uid_range overlapping[2] = { { 3, 3 }, { 1, 3 } };
	TEST_CHECK_INT(store_msg_set_flags(u, inbox, overlapping, 2, &set, a, &res,
					   NULL), STORE_OK);
	TEST_CHECK_INT(res.count, 3);
	for (size_t i = 0; i < res.count; i++) {
		TEST_CHECK_INT(res.msgs[i].uid, i + 1);
		TEST_CHECK_INT(res.msgs[i].flags, STORE_FLAG_ANSWERED | STORE_FLAG_DRAFT);
		TEST_CHECK_INT(res.msgs[i].keyword_count, 2);
	}
	status = mailbox_status(u, "INBOX");
	TEST_CHECK_INT(status.unseen, 3);
	TEST_CHECK_INT(status.deleted, 0);
	const char **kwlist;
	size_t kwcount;
	store_mailbox_keywords(u, inbox, a, &kwlist, &kwcount, NULL);
	TEST_CHECK_INT(kwcount, 3);

	static const char *const bad[] = { "a(b" };
	set.keywords = bad;
	set.keyword_count = 1;
	TEST_CHECK_INT(store_msg_set_flags(u, inbox, &one, 1, &set, a, &res, NULL),
		       STORE_ERR_INVALID);
	set.keyword_count = 0;
	TEST_CHECK_INT(store_msg_set_flags(u, 9999, &one, 1, &set, a, &res, NULL),
		       STORE_ERR_NONEXISTENT);
	struct store_uid_range none = { 50, 60 };
	TEST_CHECK_INT(store_msg_set_flags(u, inbox, &none, 1, &set, a, &res, NULL),
		       STORE_OK);
	TEST_CHECK_INT(res.count, 0);
	arena_destroy(&a);
	store_user_close(&u);
	test_dir_remove();
}

/* ---- Copy, move, expunge ---- */

static void test_copy_shares_the_blob(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("alice");
	uint64_t inbox = mailbox_id(u, "INBOX");
	uint64_t archive = mailbox_id(u, "Archive");
	append_text(u, inbox, "Subject: a\r\n\r\na\r\n", STORE_FLAG_SEEN);
	append_text(u, inbox, "Subject: b\r\n\r\nb\r\n", STORE_FLAG_FLAGGED);
	append_text(u, archive, "Subject: z\r\n\r\nz\r\n", 0);
	struct arena *a = arena_new(0);
	struct store_uid_map map;
	TEST_CHECK_INT(store_msg_copy(u, inbox, &all_uids, 1, archive, NULL, a, &map, NULL),
		       STORE_OK);
	TEST_CHECK_INT(map.count, 2);
	TEST_CHECK_INT(map.dst_uidvalidity, mailbox_status(u, "Archive").uidvalidity);
	TEST_CHECK_INT(map.src_uids[0], 1);
	TEST_CHECK_INT(map.dst_uids[0], 2);
	TEST_CHECK_INT(map.src_uids[1], 2);
	TEST_CHECK_INT(map.dst_uids[1], 3);
	struct store_msg src, dst;
	store_msg_get(u, inbox, 1, 0, a, &src, NULL);
	store_msg_get(u, archive, 2, 0, a, &dst, NULL);
	TEST_CHECK_STR(dst.hash, src.hash);
	TEST_CHECK_STR(dst.emailid, src.emailid);
	TEST_CHECK_INT(dst.flags, STORE_FLAG_SEEN);
	int fd1, fd2;
	struct stat st1, st2;
	TEST_CHECK_INT(store_msg_open_blob(u, inbox, 1, &fd1, NULL, NULL), STORE_OK);
	TEST_CHECK_INT(store_msg_open_blob(u, archive, 2, &fd2, NULL, NULL), STORE_OK);
	fstat(fd1, &st1);
	fstat(fd2, &st2);
	TEST_CHECK(st1.st_ino == st2.st_ino && st1.st_dev == st2.st_dev);
	close(fd1);
	close(fd2);
	struct store_mailbox_status status = mailbox_status(u, "Archive");
	TEST_CHECK_INT(status.messages, 3);
	TEST_CHECK_INT(status.unseen, 2);
	uint64_t bytes, messages;
	store_user_usage(u, &bytes, &messages, NULL);
	TEST_CHECK_INT(messages, 5);

	/* Expunging one copy keeps the blob; expunging the last removes it. */
	char *path = store_blob_path(u, src.hash);
	struct store_flag_change del = { .op = STORE_FLAGS_ADD,
					 .flags = STORE_FLAG_DELETED };
	struct store_flags_result res;
	struct store_uid_range one = { 1, 1 };
	store_msg_set_flags(u, inbox, &one, 1, &del, a, &res, NULL);
	uint32_t *uids;
	size_t count;
	TEST_CHECK_INT(store_msg_expunge(u, inbox, NULL, 0, a, &uids, &count, NULL),
		       STORE_OK);
	TEST_CHECK_INT(count, 1);
	TEST_CHECK(file_exists(path));
	struct store_uid_range two = { 2, 2 };
	store_msg_set_flags(u, archive, &two, 1, &del, a, &res, NULL);
	TEST_CHECK_INT(store_msg_expunge(u, archive, NULL, 0, a, &uids, &count, NULL),
		       STORE_OK);
	TEST_CHECK_INT(count, 1);
	TEST_CHECK(!file_exists(path));

	struct store_uid_range none = { 100, 200 };
	TEST_CHECK_INT(store_msg_copy(u, inbox, &none, 1, archive, NULL, a, &map, NULL),
		       STORE_OK);
	TEST_CHECK_INT(map.count, 0);
	TEST_CHECK_INT(store_msg_copy(u, inbox, &all_uids, 1, 9999, NULL, a, &map, NULL),
		       STORE_ERR_NONEXISTENT);
	TEST_CHECK_INT(store_msg_copy(u, 9999, &all_uids, 1, inbox, NULL, a, &map, NULL),
		       STORE_ERR_NONEXISTENT);
	free(path);
	arena_destroy(&a);
	store_user_close(&u);
	test_dir_remove();
}

/* Reads inside a snapshot see one state of the database, including the
 * store's own read transactions, which join it; after its end, a commit
 * made meanwhile by another handle shows. */
static void test_snapshot_reads_one_state(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("snap");
	struct store_user *other = user_open("snap");
	uint64_t inbox = mailbox_id(u, "INBOX");
	TEST_CHECK(append_text(u, inbox, "Subject: one\r\n\r\n1\r\n", 0) == 1);
	struct arena *a = arena_new(0);
	store_user_snapshot_begin(u);
	TEST_CHECK_INT(mailbox_status(u, "INBOX").messages, 1);
	TEST_CHECK(append_text(other, inbox, "Subject: two\r\n\r\n2\r\n", 0) == 2);
	struct store_changes ch;
	TEST_CHECK_INT(store_mailbox_changes(u, inbox, 0, a, &ch, NULL), STORE_OK);
	TEST_CHECK_INT(ch.changed_count, 1);
	TEST_CHECK_INT(mailbox_status(u, "INBOX").messages, 1);
	store_user_snapshot_end(u);
	TEST_CHECK_INT(mailbox_status(u, "INBOX").messages, 2);
	/* Ended twice, or without a beginning: nothing happens. */
	store_user_snapshot_end(u);
	TEST_CHECK(append_text(u, inbox, "Subject: three\r\n\r\n3\r\n", 0) == 3);
	arena_destroy(&a);
	store_user_close(&other);
	store_user_close(&u);
	test_dir_remove();
}

/* The body's bytes as stored under hash, or "" when it cannot be read. */
static const char *stored_body(struct store_user *u, const char *hash, char *out, size_t size)
{
	int fd;
	uint64_t len = 0;
	out[0] = '\0';
	if (store_blob_open(u, hash, &fd, &len, NULL) != STORE_OK)
		return out;
	ssize_t n = read(fd, out, size - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	return out;
}

/* Appends blob to the mailbox; its UID. */
static uint32_t append_blob(struct store_user *u, uint64_t mbox, struct store_blob *blob)
{
	struct store_append msg = { .blob = blob, .internal_date = 1700000000 };
	uint32_t uid = 0;
	TEST_CHECK_INT(store_msg_append(u, mbox, &msg, 1, NULL, &uid, NULL), STORE_OK);
	return uid;
}

/* A body linked into blobs/ before its append (store_blob_prelink, as
 * APPEND's blob threads do) is in place before the commit and is the
 * one the append references; a second copy of a body already stored
 * finds it there, and still appends when that file is released before
 * its commit. */
static void test_prelinked_bodies_are_published(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("prelink");
	uint64_t inbox = mailbox_id(u, "INBOX");
	const char *text = "Subject: early\r\n\r\nlinked before the commit\r\n";
	struct store_blob *first = blob_make(text);
	char hash[STORE_HASH_HEX_SIZE], buf[256];
	snprintf(hash, sizeof(hash), "%s", store_blob_hash(first));
	TEST_CHECK_INT(store_blob_prelink(store_user_blobs_dir(u), first, NULL), STORE_OK);
	TEST_CHECK_STR(stored_body(u, hash, buf, sizeof(buf)), text);
	uint32_t uid = append_blob(u, inbox, first);
	TEST_CHECK(uid == 1);
	store_blob_free(&first);
	TEST_CHECK_STR(stored_body(u, hash, buf, sizeof(buf)), text);

	struct store_blob *copy = blob_make(text);
	TEST_CHECK_INT(store_blob_prelink(store_user_blobs_dir(u), copy, NULL), STORE_OK);
	struct store_uid_range one = { uid, uid };
	struct store_flag_change del = { .op = STORE_FLAGS_ADD, .flags = STORE_FLAG_DELETED };
	struct store_flags_result res;
	struct arena *a = arena_new(0);
	TEST_CHECK_INT(store_msg_set_flags(u, inbox, &one, 1, &del, a, &res, NULL), STORE_OK);
	uint32_t *uids;
	size_t count;
	TEST_CHECK_INT(store_msg_expunge(u, inbox, NULL, 0, a, &uids, &count, NULL), STORE_OK);
	TEST_CHECK_INT(count, 1);
	TEST_CHECK_STR(stored_body(u, hash, buf, sizeof(buf)), "");
	TEST_CHECK(append_blob(u, inbox, copy) == 2);
	store_blob_free(&copy);
	TEST_CHECK_STR(stored_body(u, hash, buf, sizeof(buf)), text);
	arena_destroy(&a);
	store_user_close(&u);
	test_dir_remove();
}

/* store_blob_load reads a body, or its first bytes, and reads it again
 * from the file it keeps open; a body file that no longer reads is opened
 * afresh, and one that is gone is an error, not stale bytes. */
static void test_blob_load_reads_and_rereads_bodies(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("load");
	uint64_t inbox = mailbox_id(u, "INBOX");
	const char *text = "Subject: kept\r\n\r\nread twice\r\n";
	size_t len = strlen(text);
	struct store_blob *blob = blob_make(text);
	char hash[STORE_HASH_HEX_SIZE];
	snprintf(hash, sizeof(hash), "%s", store_blob_hash(blob));
	TEST_CHECK(append_blob(u, inbox, blob) == 1);
	store_blob_free(&blob);
	struct file_bytes fb;
	for (int i = 0; i < 2; i++) {
		TEST_CHECK_INT(store_blob_load(u, hash, len, len, &fb, NULL), STORE_OK);
		TEST_CHECK(fb.len == len && memcmp(fb.data, text, len) == 0);
		file_bytes_release(&fb);
	}
	TEST_CHECK_INT(store_blob_load(u, hash, len, 9, &fb, NULL), STORE_OK);
	TEST_CHECK(fb.len == 9 && memcmp(fb.data, "Subject: ", 9) == 0);
	file_bytes_release(&fb);
	/* More than the size asked: the size. */
	TEST_CHECK_INT(store_blob_load(u, hash, len, len * 2, &fb, NULL), STORE_OK);
	TEST_CHECK(fb.len == len);
	file_bytes_release(&fb);

	/* The file truncated behind the kept descriptor (as a damaged disk
	 * might leave it): the short read is retried on a fresh open, then
	 * reported. */
	char file[1024];
	snprintf(file, sizeof(file), "%s/%.2s/%s", store_user_blobs_dir(u), hash, hash);
	TEST_CHECK(truncate(file, 4) == 0);
	const char *error = NULL;
	TEST_CHECK_INT(store_blob_load(u, hash, len, len, &fb, &error), STORE_ERR_INTERNAL);
	TEST_CHECK(error != NULL && strstr(error, "read blob") != NULL);
	TEST_CHECK(unlink(file) == 0);
	TEST_CHECK_INT(store_blob_load(u, hash, len, len, &fb, &error), STORE_ERR_INTERNAL);
	store_user_close(&u);
	test_dir_remove();
}

static int header_rows(struct store_user *u)
{
	sqlite3_stmt *st;
	int n = -1;
	if (sqlite3_prepare_v2(u->db, "SELECT count(*) FROM email_headers", -1, &st, NULL) ==
		    SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* A message's header, up to the blank line that ends it, is kept in its
 * own row when the digest found one (and not when there is no blank line
 * or it is too long); store_msg_get gives it only when asked, and it goes
 * with the message's last copy. */
static void test_headers_are_kept_with_their_emails(void)
{
	struct arena *a = arena_new(0);
	struct mime_digest d;
	const char *text = "Subject: kept\r\nFrom: a@example.org\r\n\r\nbody\r\n";
	mime_digest_build(a, (const unsigned char *)text, strlen(text), 0, &d);
	TEST_CHECK(d.header != NULL && d.header_len == strlen(text) - 6 &&
		   memcmp(d.header, text, d.header_len) == 0);
	struct mime_digest none;
	const char *no_blank = "Subject: no blank line\r\n";
	mime_digest_build(a, (const unsigned char *)no_blank, strlen(no_blank), 0, &none);
	TEST_CHECK(none.header == NULL);
	struct buf big = BUF_INIT;
	for (int i = 0; i < 400; i++)
		buf_printf(&big, "X-Long-%d: %s\r\n", i, "0123456789012345678901234567890123456789");
	buf_append_str(&big, "\r\nbody\r\n");
	mime_digest_build(a, big.data, big.len, 0, &none);
	TEST_CHECK(big.len > MIME_DIGEST_HEADER_MAX && none.header == NULL);
	buf_free(&big);

	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("headers");
	uint64_t inbox = mailbox_id(u, "INBOX");
	struct store_msg_meta meta = { .envelope = d.envelope, .bodystructure = d.bodystructure,
				       .header = d.header, .header_len = d.header_len };
	struct store_blob *blob = blob_make(text);
	struct store_append msg = { .blob = blob, .internal_date = 1700000000, .meta = &meta };
	uint32_t uid = 0;
	TEST_CHECK_INT(store_msg_append(u, inbox, &msg, 1, NULL, &uid, NULL), STORE_OK);
	store_blob_free(&blob);
	TEST_CHECK(append_text(u, inbox, "Subject: without meta\r\n\r\nx\r\n", 0) == uid + 1);
	TEST_CHECK_INT(header_rows(u), 1);
	struct store_msg m;
	TEST_CHECK_INT(store_msg_get(u, inbox, uid, STORE_MSG_WANT_HEADER, a, &m, NULL), STORE_OK);
	TEST_CHECK(m.meta.header_len == d.header_len &&
		   memcmp(m.meta.header, d.header, d.header_len) == 0);
	TEST_CHECK(m.meta.envelope == NULL); /* no META asked */
	TEST_CHECK_INT(store_msg_get(u, inbox, uid, 0, a, &m, NULL), STORE_OK);
	TEST_CHECK(m.meta.header == NULL);
	TEST_CHECK_INT(store_msg_get(u, inbox, uid + 1, STORE_MSG_WANT_HEADER, a, &m, NULL),
		       STORE_OK);
	TEST_CHECK(m.meta.header == NULL);
	/* A copy shares the email (and its header); expunging both drops it. */
	uint64_t drafts = mailbox_id(u, "Drafts");
	struct store_uid_range one = { uid, uid };
	struct store_uid_map map;
	TEST_CHECK_INT(store_msg_copy(u, inbox, &one, 1, drafts, NULL, a, &map, NULL), STORE_OK);
	struct store_flag_change del = { .op = STORE_FLAGS_ADD, .flags = STORE_FLAG_DELETED };
	struct store_uid_range all = { 1, UINT32_MAX };
	struct store_flags_result res;
	uint32_t *uids;
	size_t count;
	TEST_CHECK_INT(store_msg_set_flags(u, inbox, &one, 1, &del, a, &res, NULL), STORE_OK);
	TEST_CHECK_INT(store_msg_expunge(u, inbox, NULL, 0, a, &uids, &count, NULL), STORE_OK);
	TEST_CHECK_INT(header_rows(u), 1);
	TEST_CHECK_INT(store_msg_set_flags(u, drafts, &all, 1, &del, a, &res, NULL), STORE_OK);
	TEST_CHECK_INT(store_msg_expunge(u, drafts, NULL, 0, a, &uids, &count, NULL), STORE_OK);
	TEST_CHECK_INT(header_rows(u), 0);
	arena_destroy(&a);
	store_user_close(&u);
	test_dir_remove();
}

static void test_move_expunges_source_in_one_step(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("alice");
	uint64_t inbox = mailbox_id(u, "INBOX");
	uint64_t junk = mailbox_id(u, "Junk");
	for (int i = 0; i < 4; i++)
		append_text(u, inbox, i % 2 ? "odd\r\n" : "even\r\n", 0);
	uint64_t modseq = mailbox_status(u, "INBOX").highestmodseq;
	struct arena *a = arena_new(0);
	struct store_uid_map map;
	struct store_uid_range ranges[2] = { { 2, 2 }, { 4, 4 } };
	TEST_CHECK_INT(store_msg_move(u, inbox, ranges, 2, junk, NULL, a, &map, NULL),
		       STORE_OK);
	TEST_CHECK_INT(map.count, 2);
	TEST_CHECK_INT(map.src_uids[0], 2);
	TEST_CHECK_INT(map.src_uids[1], 4);
	TEST_CHECK_INT(map.dst_uids[0], 1);
	TEST_CHECK_INT(map.dst_uids[1], 2);
	TEST_CHECK_INT(mailbox_status(u, "INBOX").messages, 2);
	TEST_CHECK_INT(mailbox_status(u, "Junk").messages, 2);
	struct store_changes changes;
	TEST_CHECK_INT(store_mailbox_changes(u, inbox, modseq, a, &changes, NULL),
		       STORE_OK);
	TEST_CHECK_INT(changes.vanished_count, 2);
	TEST_CHECK_INT(changes.vanished[0], 2);
	TEST_CHECK_INT(changes.vanished[1], 4);
	TEST_CHECK_INT(changes.highestmodseq, modseq + 1);
	TEST_CHECK_INT(store_msg_move(u, inbox, &all_uids, 1, inbox, NULL, a, &map, NULL),
		       STORE_ERR_CANNOT);
	uint64_t bytes, messages;
	store_user_usage(u, &bytes, &messages, NULL);
	TEST_CHECK_INT(messages, 4);
	arena_destroy(&a);
	store_user_close(&u);
	test_dir_remove();
}

/* store_msg_get_range gives, in UID order, exactly what store_msg_get gives
 * for each UID of the range that has a message, headers and META included. */
static void check_range_matches_get(struct store_user *u, uint64_t box, uint32_t first,
				    uint32_t last, unsigned want, struct arena *a)
{
	struct store_msg *msgs;
	size_t n;
	TEST_CHECK_INT(store_msg_get_range(u, box, first, last, want, a, &msgs, &n, NULL),
		       STORE_OK);
	size_t i = 0;
	for (uint32_t uid = first; uid <= last && uid != 0; uid++) {
		struct store_msg m;
		if (store_msg_get(u, box, uid, want, a, &m, NULL) != STORE_OK)
			continue;
		TEST_CHECK(i < n);
		if (i >= n)
			return;
		const struct store_msg *r = &msgs[i++];
		TEST_CHECK_INT(r->uid, uid);
		TEST_CHECK(r->flags == m.flags && r->modseq == m.modseq && r->size == m.size &&
			   r->internal_date == m.internal_date && r->save_date == m.save_date &&
			   r->keyword_count == m.keyword_count);
		TEST_CHECK_STR(r->hash, m.hash);
		TEST_CHECK_STR(r->emailid, m.emailid);
		TEST_CHECK((r->meta.envelope == NULL) == (m.meta.envelope == NULL));
		if (m.meta.envelope != NULL)
			TEST_CHECK_STR(r->meta.envelope, m.meta.envelope);
		TEST_CHECK_MEM(r->meta.header ? (const char *)r->meta.header : "", r->meta.header_len,
			       m.meta.header ? (const char *)m.meta.header : "", m.meta.header_len);
	}
	TEST_CHECK_INT(n, i);
}

static void test_range_reads_what_single_reads_do(void)
{
	struct arena *a = arena_new(0);
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("range");
	uint64_t inbox = mailbox_id(u, "INBOX");
	for (int i = 1; i <= 6; i++) {
		char text[128];
		snprintf(text, sizeof(text), "Subject: number %d\r\nFrom: a@example.org\r\n\r\nbody\r\n", i);
		struct mime_digest d;
		mime_digest_build(a, (const unsigned char *)text, strlen(text), 0, &d);
		/* The odd ones keep their header, the even ones do not. */
		struct store_msg_meta meta = { .envelope = d.envelope, .bodystructure = d.bodystructure,
					       .header = i % 2 ? d.header : NULL,
					       .header_len = i % 2 ? d.header_len : 0 };
		struct store_blob *blob = blob_make(text);
		struct store_append msg = { .blob = blob, .internal_date = 1700000000 + i,
					    .meta = &meta };
		uint32_t uid = 0;
		TEST_CHECK_INT(store_msg_append(u, inbox, &msg, 1, NULL, &uid, NULL), STORE_OK);
		TEST_CHECK_INT(uid, i);
		store_blob_free(&blob);
	}
	struct store_uid_range three = { 3, 3 };
	struct store_flag_change del = { .op = STORE_FLAGS_ADD, .flags = STORE_FLAG_DELETED };
	struct store_flags_result res;
	uint32_t *uids;
	size_t count;
	TEST_CHECK_INT(store_msg_set_flags(u, inbox, &three, 1, &del, a, &res, NULL), STORE_OK);
	TEST_CHECK_INT(store_msg_expunge(u, inbox, NULL, 0, a, &uids, &count, NULL), STORE_OK);
	const unsigned wants[] = { 0, STORE_MSG_WANT_META, STORE_MSG_WANT_HEADER,
				   STORE_MSG_WANT_META | STORE_MSG_WANT_HEADER };
	for (size_t w = 0; w < sizeof(wants) / sizeof(wants[0]); w++) {
		check_range_matches_get(u, inbox, 1, 6, wants[w], a);
		check_range_matches_get(u, inbox, 2, 4, wants[w], a);
		check_range_matches_get(u, inbox, 5, 20, wants[w], a);
	}
	struct store_msg *msgs;
	size_t n = 99;
	TEST_CHECK_INT(store_msg_get_range(u, inbox, 3, 3, 0, a, &msgs, &n, NULL), STORE_OK);
	TEST_CHECK_INT(n, 0); /* the expunged one */
	TEST_CHECK_INT(store_msg_get_range(u, inbox, 5, 4, 0, a, &msgs, &n, NULL), STORE_OK);
	TEST_CHECK_INT(n, 0);
	TEST_CHECK_INT(store_msg_get_range(u, inbox, 1, 6, STORE_MSG_WANT_HEADER, a, &msgs, &n,
					   NULL), STORE_OK);
	TEST_CHECK_INT(n, 5);
	TEST_CHECK(n == 5 && msgs[0].meta.header != NULL && msgs[1].meta.header == NULL);
	arena_destroy(&a);
	store_user_close(&u);
	test_dir_remove();
}

static void test_uids_are_never_reused_after_expunge(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("alice");
	uint64_t inbox = mailbox_id(u, "INBOX");
	append_text(u, inbox, "1\r\n", STORE_FLAG_DELETED);
	append_text(u, inbox, "2\r\n", 0);
	append_text(u, inbox, "3\r\n", STORE_FLAG_DELETED);
	struct arena *a = arena_new(0);
	uint32_t *uids;
	size_t count;
	/* UID EXPUNGE 3:* only touches UID 3 (RFC 4315 2.1). */
	struct store_uid_range tail = { 3, UINT32_MAX };
	TEST_CHECK_INT(store_msg_expunge(u, inbox, &tail, 1, a, &uids, &count, NULL),
		       STORE_OK);
	TEST_CHECK_INT(count, 1);
	TEST_CHECK_INT(uids[0], 3);
	TEST_CHECK_INT(append_text(u, inbox, "4\r\n", 0), 4);
	TEST_CHECK_INT(store_msg_expunge(u, inbox, NULL, 0, a, &uids, &count, NULL),
		       STORE_OK);
	TEST_CHECK_INT(count, 1);
	TEST_CHECK_INT(uids[0], 1);
	uint64_t modseq = mailbox_status(u, "INBOX").highestmodseq;
	TEST_CHECK_INT(store_msg_expunge(u, inbox, NULL, 0, a, &uids, &count, NULL),
		       STORE_OK);
	TEST_CHECK_INT(count, 0);
	TEST_CHECK_INT(mailbox_status(u, "INBOX").highestmodseq, modseq);
	TEST_CHECK_INT(store_msg_expunge(u, 9999, NULL, 0, a, &uids, &count, NULL),
		       STORE_ERR_NONEXISTENT);
	struct store_view view;
	TEST_CHECK_INT(store_view_load(u, inbox, &view, NULL), STORE_OK);
	TEST_CHECK_INT(view.count, 2);
	TEST_CHECK_INT(view.uids[0], 2);
	TEST_CHECK_INT(view.uids[1], 4);
	TEST_CHECK_INT(view.uidnext, 5);
	store_view_free(&view);
	TEST_CHECK(view.uids == NULL && view.count == 0);
	TEST_CHECK_INT(store_view_load(u, 9999, &view, NULL), STORE_ERR_NONEXISTENT);
	arena_destroy(&a);
	store_user_close(&u);
	test_dir_remove();
}

/* ---- CONDSTORE / QRESYNC ---- */

static void test_changes_since_and_expunge_log_compaction(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("alice");
	uint64_t inbox = mailbox_id(u, "INBOX");
	uint64_t m0 = mailbox_status(u, "INBOX").highestmodseq;
	append_text(u, inbox, "1\r\n", 0);
	append_text(u, inbox, "2\r\n", STORE_FLAG_DELETED);
	append_text(u, inbox, "3\r\n", 0);
	uint64_t m3 = mailbox_status(u, "INBOX").highestmodseq;
	TEST_CHECK_INT(m3, m0 + 3);
	struct arena *a = arena_new(0);
	struct store_flags_result res;
	struct store_flag_change seen = { .op = STORE_FLAGS_ADD,
					  .flags = STORE_FLAG_SEEN };
	struct store_uid_range one = { 1, 1 };
	store_msg_set_flags(u, inbox, &one, 1, &seen, a, &res, NULL);
	uint32_t *uids;
	size_t count;
	store_msg_expunge(u, inbox, NULL, 0, a, &uids, &count, NULL);
	uint64_t m5 = mailbox_status(u, "INBOX").highestmodseq;
	TEST_CHECK_INT(m5, m0 + 5);

	struct store_changes ch;
	TEST_CHECK_INT(store_mailbox_changes(u, inbox, m3, a, &ch, NULL), STORE_OK);
	TEST_CHECK_INT(ch.highestmodseq, m5);
	TEST_CHECK_INT(ch.changed_count, 1);
	TEST_CHECK_INT(ch.changed[0].uid, 1);
	TEST_CHECK_INT(ch.changed[0].flags, STORE_FLAG_SEEN);
	TEST_CHECK_INT(ch.vanished_count, 1);
	TEST_CHECK_INT(ch.vanished[0], 2);
	TEST_CHECK(!ch.vanished_incomplete);
	TEST_CHECK_INT(store_mailbox_changes(u, inbox, m5, a, &ch, NULL), STORE_OK);
	TEST_CHECK_INT(ch.changed_count, 0);
	TEST_CHECK_INT(ch.vanished_count, 0);
	TEST_CHECK_INT(store_mailbox_changes(u, inbox, 0, a, &ch, NULL), STORE_OK);
	TEST_CHECK_INT(ch.changed_count, 2);

	TEST_CHECK_INT(store_mailbox_compact_expunges(u, inbox, m5, NULL), STORE_OK);
	TEST_CHECK_INT(store_mailbox_changes(u, inbox, m3, a, &ch, NULL), STORE_OK);
	TEST_CHECK_INT(ch.vanished_count, 0);
	TEST_CHECK(ch.vanished_incomplete);
	TEST_CHECK_INT(store_mailbox_changes(u, inbox, m5, a, &ch, NULL), STORE_OK);
	TEST_CHECK(!ch.vanished_incomplete);
	TEST_CHECK_INT(store_mailbox_changes(u, 9999, 0, a, &ch, NULL),
		       STORE_ERR_NONEXISTENT);
	TEST_CHECK_INT(store_mailbox_compact_expunges(u, 9999, 1, NULL),
		       STORE_ERR_NONEXISTENT);
	arena_destroy(&a);
	store_user_close(&u);
	test_dir_remove();
}

static void test_recent_is_claimed_by_one_session(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("alice");
	uint64_t inbox = mailbox_id(u, "INBOX");
	append_text(u, inbox, "1\r\n", 0);
	append_text(u, inbox, "2\r\n", 0);
	TEST_CHECK_INT(mailbox_status(u, "INBOX").recent, 2);
	uint32_t first, end;
	TEST_CHECK_INT(store_mailbox_claim_recent(u, inbox, &first, &end, NULL),
		       STORE_OK);
	TEST_CHECK_INT(first, 1);
	TEST_CHECK_INT(end, 3);
	TEST_CHECK_INT(mailbox_status(u, "INBOX").recent, 0);
	TEST_CHECK_INT(store_mailbox_claim_recent(u, inbox, &first, &end, NULL),
		       STORE_OK);
	TEST_CHECK_INT(first, end);
	append_text(u, inbox, "3\r\n", 0);
	TEST_CHECK_INT(mailbox_status(u, "INBOX").recent, 1);
	TEST_CHECK_INT(store_mailbox_claim_recent(u, inbox, &first, &end, NULL),
		       STORE_OK);
	TEST_CHECK_INT(first, 3);
	TEST_CHECK_INT(end, 4);
	TEST_CHECK_INT(store_mailbox_claim_recent(u, 9999, &first, &end, NULL),
		       STORE_ERR_NONEXISTENT);
	store_user_close(&u);
	test_dir_remove();
}

static void test_first_unseen_gives_sequence_and_uid(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("alice");
	uint64_t inbox = mailbox_id(u, "INBOX");
	uint32_t seq = 9, uid = 9;
	TEST_CHECK_INT(store_mailbox_first_unseen(u, inbox, &seq, &uid, NULL), STORE_OK);
	TEST_CHECK_INT(seq, 0);
	TEST_CHECK_INT(uid, 0);
	append_text(u, inbox, "1\r\n", STORE_FLAG_SEEN | STORE_FLAG_DELETED);
	append_text(u, inbox, "2\r\n", STORE_FLAG_SEEN);
	append_text(u, inbox, "3\r\n", 0);
	append_text(u, inbox, "4\r\n", 0);
	struct arena *a = arena_new(0);
	uint32_t *uids;
	size_t count;
	store_msg_expunge(u, inbox, NULL, 0, a, &uids, &count, NULL);
	TEST_CHECK_INT(store_mailbox_first_unseen(u, inbox, &seq, &uid, NULL), STORE_OK);
	TEST_CHECK_INT(seq, 2);
	TEST_CHECK_INT(uid, 3);
	TEST_CHECK_INT(store_mailbox_first_unseen(u, 9999, &seq, &uid, NULL),
		       STORE_ERR_NONEXISTENT);
	arena_destroy(&a);
	store_user_close(&u);
	test_dir_remove();
}

/* ---- Concurrency, maintenance, search, notification ---- */

static void test_two_handles_see_each_others_changes(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *a_handle = user_open("alice");
	struct store_user *b_handle = user_open("alice");
	uint64_t inbox = mailbox_id(a_handle, "INBOX");
	struct store_view view;
	TEST_CHECK_INT(store_view_load(b_handle, inbox, &view, NULL), STORE_OK);
	TEST_CHECK_INT(view.count, 0);
	uint64_t modseq = view.highestmodseq;
	store_view_free(&view);

	append_text(a_handle, inbox, "from a\r\n", 0);
	TEST_CHECK_INT(mailbox_status(b_handle, "INBOX").messages, 1);
	TEST_CHECK_INT(store_view_load(b_handle, inbox, &view, NULL), STORE_OK);
	TEST_CHECK_INT(view.count, 1);
	TEST_CHECK(view.highestmodseq > modseq);
	store_view_free(&view);

	struct arena *a = arena_new(0);
	struct store_flags_result res;
	struct store_flag_change flag = { .op = STORE_FLAGS_ADD,
					  .flags = STORE_FLAG_FLAGGED };
	TEST_CHECK_INT(store_msg_set_flags(b_handle, inbox, &all_uids, 1, &flag, a,
					   &res, NULL), STORE_OK);
	struct store_changes ch;
	TEST_CHECK_INT(store_mailbox_changes(a_handle, inbox, modseq + 1, a, &ch,
					     NULL), STORE_OK);
	TEST_CHECK_INT(ch.changed_count, 1);
	TEST_CHECK_INT(ch.changed[0].flags, STORE_FLAG_FLAGGED);
	TEST_CHECK_INT(store_mailbox_create(b_handle, "from-b", 0, NULL, NULL),
		       STORE_OK);
	TEST_CHECK(mailbox_id(a_handle, "from-b") != 0);
	TEST_CHECK_INT(store_mailbox_create(a_handle, "from-b", 0, NULL, NULL),
		       STORE_ERR_ALREADYEXISTS);
	arena_destroy(&a);
	store_user_close(&a_handle);
	store_user_close(&b_handle);
	test_dir_remove();
}

#define THREADS 4
#define APPENDS_PER_THREAD 15

static void *append_worker(void *arg)
{
	/* Each thread its own handle, as each worker has (DESIGN §3). */
	struct store_user *u = user_open("alice");
	uint64_t inbox = mailbox_id(u, "INBOX");
	uint32_t *uids = arg;
	for (int i = 0; i < APPENDS_PER_THREAD; i++) {
		char text[64];
		snprintf(text, sizeof(text), "Subject: %p %d\r\n\r\nx\r\n", arg, i);
		uids[i] = append_text(u, inbox, text, 0);
	}
	store_user_close(&u);
	return NULL;
}

static void test_threads_append_concurrently_with_unique_uids(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("alice");
	pthread_t threads[THREADS];
	static uint32_t uids[THREADS][APPENDS_PER_THREAD];
	for (int t = 0; t < THREADS; t++)
		pthread_create(&threads[t], NULL, append_worker, uids[t]);
	for (int t = 0; t < THREADS; t++)
		pthread_join(threads[t], NULL);
	bool seen[THREADS * APPENDS_PER_THREAD + 1] = { false };
	for (int t = 0; t < THREADS; t++) {
		for (int i = 0; i < APPENDS_PER_THREAD; i++) {
			uint32_t uid = uids[t][i];
			TEST_CHECK(uid >= 1 && uid <= THREADS * APPENDS_PER_THREAD);
			if (uid >= 1 && uid <= THREADS * APPENDS_PER_THREAD) {
				TEST_CHECK(!seen[uid]);
				seen[uid] = true;
			}
		}
	}
	struct store_mailbox_status status = mailbox_status(u, "INBOX");
	TEST_CHECK_INT(status.messages, THREADS * APPENDS_PER_THREAD);
	TEST_CHECK_INT(status.uidnext, THREADS * APPENDS_PER_THREAD + 1);
	store_user_close(&u);
	test_dir_remove();
}

static void test_sweep_removes_orphans_and_tmp_files(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("alice");
	uint64_t inbox = mailbox_id(u, "INBOX");
	append_text(u, inbox, "kept\r\n", 0);
	struct arena *a = arena_new(0);
	struct store_msg m;
	store_msg_get(u, inbox, 1, 0, a, &m, NULL);
	char *kept = store_blob_path(u, m.hash);

	/* An orphan as a crash between linking and COMMIT would leave it. */
	struct store_blob *orphan = blob_make("never committed\r\n");
	TEST_CHECK_INT(store_blob_publish(u, orphan, NULL), STORE_OK);
	char *orphan_path = store_blob_path(u, store_blob_hash(orphan));
	TEST_CHECK(file_exists(orphan_path));
	char stray[512];
	snprintf(stray, sizeof(stray), "%s/blobs/README", store_user_dir(u));
	FILE *f = fopen(stray, "w");
	fclose(f);

	unsigned removed = 99;
	TEST_CHECK_INT(store_sweep_orphans(u, 3600, &removed, NULL), STORE_OK);
	TEST_CHECK_INT(removed, 0);
	TEST_CHECK(file_exists(orphan_path));
	TEST_CHECK_INT(store_sweep_orphans(u, 0, &removed, NULL), STORE_OK);
	TEST_CHECK_INT(removed, 1);
	TEST_CHECK(!file_exists(orphan_path));
	TEST_CHECK(file_exists(kept));
	TEST_CHECK(file_exists(stray));

	/* The orphan's tmp file is still there until freed; tmp_clean
	 * removes whatever a crash left in tmp/, in its subdirectories or
	 * (written before they existed) in tmp/ itself. */
	char old_layout[512];
	snprintf(old_layout, sizeof(old_layout), "%s/tmp/blob.Old123", test_dir);
	fclose(fopen(old_layout, "w"));
	TEST_CHECK_INT(store_tmp_clean(test_dir, 3600, &removed, NULL), STORE_OK);
	TEST_CHECK_INT(removed, 0);
	TEST_CHECK_INT(store_tmp_clean(test_dir, 0, &removed, NULL), STORE_OK);
	TEST_CHECK_INT(removed, 2);
	TEST_CHECK(!file_exists(orphan->tmp_path));
	TEST_CHECK(!file_exists(old_layout));
	store_blob_free(&orphan);
	char missing[512];
	snprintf(missing, sizeof(missing), "%s/no-such-data-dir", test_dir);
	TEST_CHECK_INT(store_tmp_clean(missing, 0, NULL, NULL), STORE_OK);

	/* A store whose blobs/ vanished cannot be swept. */
	char blobs[512], moved[512];
	snprintf(blobs, sizeof(blobs), "%s/blobs", store_user_dir(u));
	snprintf(moved, sizeof(moved), "%s/blobs.away", store_user_dir(u));
	TEST_CHECK_INT(rename(blobs, moved), 0);
	const char *error = NULL;
	TEST_CHECK_INT(store_sweep_orphans(u, 0, &removed, &error), STORE_ERR_INTERNAL);
	TEST_CHECK(error != NULL);
	TEST_CHECK_INT(rename(moved, blobs), 0);
	free(kept);
	free(orphan_path);
	arena_destroy(&a);
	store_user_close(&u);
	test_dir_remove();
}

static void test_full_text_search_uses_index(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("alice");
	uint64_t inbox = mailbox_id(u, "INBOX");
	static const char *const texts[][2] = {
		{ "Subject: Quarterly Report", "numbers are UP" },
		{ "Subject: lunch", "the quarterly numbers later" },
		{ "Subject: other", "nothing" },
	};
	for (size_t i = 0; i < 3; i++) {
		char body[64];
		snprintf(body, sizeof(body), "message %zu\r\n", i);
		struct store_blob *blob = blob_make(body);
		struct store_msg_meta meta = { .header_text = texts[i][0],
					       .body_text = texts[i][1] };
		struct store_append msg = { .blob = blob, .meta = &meta };
		uint32_t uid;
		TEST_CHECK_INT(store_msg_append(u, inbox, &msg, 1, NULL, &uid, NULL),
			       STORE_OK);
		store_blob_free(&blob);
	}
	struct arena *a = arena_new(0);
	uint32_t *uids;
	size_t count;
	TEST_CHECK_INT(store_msg_search_text(u, inbox, STORE_TEXT_HEADERS,
					     "QUARTERLY", a, &uids, &count, NULL),
		       STORE_OK);
	TEST_CHECK_INT(count, 1);
	TEST_CHECK_INT(uids[0], 1);
	TEST_CHECK_INT(store_msg_search_text(u, inbox, STORE_TEXT_ANY, "arterl", a,
					     &uids, &count, NULL), STORE_OK);
	TEST_CHECK_INT(count, 2);
	TEST_CHECK_INT(store_msg_search_text(u, inbox, STORE_TEXT_BODY, "numbers", a,
					     &uids, &count, NULL), STORE_OK);
	TEST_CHECK_INT(count, 2);
	TEST_CHECK_INT(store_msg_search_text(u, inbox, STORE_TEXT_BODY, "say \"hi\"",
					     a, &uids, &count, NULL), STORE_OK);
	TEST_CHECK_INT(count, 0);
	TEST_CHECK_INT(store_msg_search_text(u, inbox, STORE_TEXT_ANY, "up", a,
					     &uids, &count, NULL), STORE_ERR_INVALID);
	arena_destroy(&a);
	store_user_close(&u);
	test_dir_remove();
}

struct hook_log {
	unsigned count;
	enum store_change_kind kinds[16];
	uint64_t mailbox_ids[16];
};

static void hook_record(const struct store_change *change, void *context)
{
	struct hook_log *log = context;
	if (log->count < 16) {
		log->kinds[log->count] = change->kind;
		log->mailbox_ids[log->count] = change->mailbox_id;
	}
	log->count++;
}

static void test_change_hook_reports_committed_changes(void)
{
	test_dir_make("/tmp/petrel-test-store.XXXXXX");
	struct store_user *u = user_open("alice");
	uint64_t inbox = mailbox_id(u, "INBOX");
	struct hook_log log = { 0 };
	store_set_change_hook(hook_record, &log);
	append_text(u, inbox, "x\r\n", 0);
	TEST_CHECK_INT(log.count, 1);
	TEST_CHECK_INT(log.kinds[0], STORE_CHANGE_APPEND);
	TEST_CHECK_INT(log.mailbox_ids[0], inbox);
	TEST_CHECK_INT(store_mailbox_create(u, "n", 0, NULL, NULL), STORE_OK);
	TEST_CHECK_INT(log.count, 2);
	TEST_CHECK_INT(log.kinds[1], STORE_CHANGE_MAILBOXES);
	/* A failed operation announces nothing. */
	TEST_CHECK_INT(store_mailbox_create(u, "n", 0, NULL, NULL),
		       STORE_ERR_ALREADYEXISTS);
	TEST_CHECK_INT(log.count, 2);
	store_set_change_hook(NULL, NULL);
	append_text(u, inbox, "y\r\n", 0);
	TEST_CHECK_INT(log.count, 2);
	store_user_close(&u);
	test_dir_remove();
}

int main(void)
{
	test_run("mailbox_names_are_validated", test_mailbox_names_are_validated);
	test_run("error_and_special_use_names", test_error_and_special_use_names);
	test_run("user_open_creates_layout_and_defaults",
		 test_user_open_creates_layout_and_defaults);
	test_run("user_delete_removes_store", test_user_delete_removes_store);
	test_run("cache_reuses_and_evicts_handles", test_cache_reuses_and_evicts_handles);
	test_run("blob_writer_normalises_crlf_at_every_split",
		 test_blob_writer_normalises_crlf_at_every_split);
	test_run("blob_writer_matches_the_rule_on_random_text",
		 test_blob_writer_matches_the_rule_on_random_text);
	test_run("blob_writer_limits_and_abort", test_blob_writer_limits_and_abort);
	test_run("blob_import_normalises_file", test_blob_import_normalises_file);
	test_run("append_stores_message_and_metadata",
		 test_append_stores_message_and_metadata);
	test_run("multiappend_is_all_or_nothing", test_multiappend_is_all_or_nothing);
	test_run("create_makes_parents_and_rejects_duplicates",
		 test_create_makes_parents_and_rejects_duplicates);
	test_run("uidvalidity_never_repeats_after_delete_and_create",
		 test_uidvalidity_never_repeats_after_delete_and_create);
	test_run("delete_leaves_noselect_parent_for_children",
		 test_delete_leaves_noselect_parent_for_children);
	test_run("rename_moves_children_and_keeps_identity",
		 test_rename_moves_children_and_keeps_identity);
	test_run("rename_inbox_moves_messages_and_leaves_it_empty",
		 test_rename_inbox_moves_messages_and_leaves_it_empty);
	test_run("subscriptions_outlive_mailboxes", test_subscriptions_outlive_mailboxes);
	test_run("special_use_can_be_changed", test_special_use_can_be_changed);
	test_run("store_flags_bumps_modseq_only_on_change",
		 test_store_flags_bumps_modseq_only_on_change);
	test_run("copy_shares_the_blob", test_copy_shares_the_blob);
	test_run("move_expunges_source_in_one_step", test_move_expunges_source_in_one_step);
	test_run("snapshot_reads_one_state", test_snapshot_reads_one_state);
	test_run("prelinked_bodies_are_published", test_prelinked_bodies_are_published);
	test_run("blob_load_reads_and_rereads_bodies", test_blob_load_reads_and_rereads_bodies);
	test_run("headers_are_kept_with_their_emails", test_headers_are_kept_with_their_emails);
	test_run("range_reads_what_single_reads_do", test_range_reads_what_single_reads_do);
	test_run("uids_are_never_reused_after_expunge",
		 test_uids_are_never_reused_after_expunge);
	test_run("changes_since_and_expunge_log_compaction",
		 test_changes_since_and_expunge_log_compaction);
	test_run("recent_is_claimed_by_one_session", test_recent_is_claimed_by_one_session);
	test_run("first_unseen_gives_sequence_and_uid",
		 test_first_unseen_gives_sequence_and_uid);
	test_run("two_handles_see_each_others_changes",
		 test_two_handles_see_each_others_changes);
	test_run("threads_append_concurrently_with_unique_uids",
		 test_threads_append_concurrently_with_unique_uids);
	test_run("sweep_removes_orphans_and_tmp_files",
		 test_sweep_removes_orphans_and_tmp_files);
	test_run("full_text_search_uses_index", test_full_text_search_uses_index);
	test_run("change_hook_reports_committed_changes",
		 test_change_hook_reports_committed_changes);
	return test_finish();
}
