#include "test-common.h"

#include "auth/auth-utf8.h"
#include "auth/sasl.h"
#include "auth/throttle.h"
#include "auth/userdb.h"
#include "lib/timeutil.h"

#include <ftw.h>
#include <sqlite3.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

/* Cheapest Argon2id cost, so the tests run fast; the cost is a setting. */
static const struct userdb_settings cheap = { .hash_ops = 1, .hash_memory = 8192 };

static char test_dir[128];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static void make_test_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(test_dir, sizeof(test_dir), "%s/petrel-auth-XXXXXX", tmp != NULL ? tmp : "/tmp");
	TEST_CHECK(mkdtemp(test_dir) != NULL);
}

static void remove_test_dir(void)
{
	nftw(test_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static struct userdb *open_db(const struct userdb_settings *set)
{
	struct userdb *db = NULL;
	char *error = NULL;
	bool busy = true;
	bool ok = userdb_open(test_dir, set, &db, &error, &busy);
	TEST_CHECK(ok);
	TEST_CHECK(!busy);
	if (!ok) {
		fprintf(stderr, "  userdb_open: %s\n", error);
		free(error);
	}
	return db;
}

/* ---- userdb ------------------------------------------------------------ */

static void test_userdb_name_rules(void)
{
	static const char *const good[] = {
		"alice", "a", "Alice.Smith", "alice@example.org", "j\xc3\xb6rg",
		"user+tag", "x_y-z", "0123456789012345678901234567890123456789012345678901234567890123",
	};
	static const char *const bad[] = {
		"", "a/b", "/", ".hidden", "..", "-neg", "with space", "tab\there",
		"nl\n", "cr\r", "del\x7f", "c1\xc2\x85", "nbsp\xc2\xa0x", "zwsp\xe2\x80\x8bx",
		"ideo\xe3\x80\x80x", "bad\xff", "overlong\xc0\xaf", "surrogate\xed\xa0\x80",
		"trunc\xe2\x82", "anyone", "ANYONE",
		"01234567890123456789012345678901234567890123456789012345678901234",
	};
	const char *reason;
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		bool ok = userdb_name_valid(good[i], &reason);
		TEST_CHECK(ok);
		if (!ok)
			fprintf(stderr, "  rejected '%s': %s\n", good[i], reason);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		reason = NULL;
		bool ok = userdb_name_valid(bad[i], &reason);
		TEST_CHECK(!ok && reason != NULL);
		if (ok)
			fprintf(stderr, "  accepted bad name #%zu\n", i);
	}
	TEST_CHECK(!userdb_name_valid("a/b", &reason));
	TEST_CHECK_STR(reason, "user name must not contain '/'");
	TEST_CHECK(!userdb_password_valid("", &reason));
	TEST_CHECK_STR(reason, "password is empty");
	char longpw[USERDB_PASSWORD_MAX + 2];
	memset(longpw, 'p', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	TEST_CHECK(!userdb_password_valid(longpw, &reason));
	longpw[USERDB_PASSWORD_MAX] = '\0';
	TEST_CHECK(userdb_password_valid(longpw, &reason));
}

static void test_userdb_add_verify_passwd_delete(void)
{
	make_test_dir();
	struct userdb *db = open_db(&cheap);
	if (db == NULL)
		return;
	const char *error = NULL;
	TEST_CHECK_INT(userdb_add(db, "alice", "secret one", &error), USERDB_OK);
	TEST_CHECK_INT(userdb_add(db, "bob@example.org", "b0b", &error), USERDB_OK);

	TEST_CHECK_INT(userdb_verify(db, "alice", "secret one", 10, &error), USERDB_OK);
	TEST_CHECK_INT(userdb_verify(db, "alice", "secret on", 9, &error), USERDB_MISMATCH);
	TEST_CHECK_STR(error, "authentication failed");
	TEST_CHECK_INT(userdb_verify(db, "alice", "secret one\0", 11, &error), USERDB_MISMATCH);
	TEST_CHECK_INT(userdb_verify(db, "alice", "", 0, &error), USERDB_MISMATCH);
	/* Case-sensitive at login. */
	TEST_CHECK_INT(userdb_verify(db, "Alice", "secret one", 10, &error), USERDB_MISMATCH);
	/* Unknown and invalid names give the same answer as a wrong password. */
	TEST_CHECK_INT(userdb_verify(db, "carol", "secret one", 10, &error), USERDB_MISMATCH);
	TEST_CHECK_STR(error, "authentication failed");
	TEST_CHECK_INT(userdb_verify(db, "../etc", "x", 1, &error), USERDB_MISMATCH);

	TEST_CHECK_INT(userdb_exists(db, "alice", &error), USERDB_OK);
	TEST_CHECK_INT(userdb_exists(db, "carol", &error), USERDB_NOT_FOUND);

	TEST_CHECK_INT(userdb_set_password(db, "alice", "second", &error), USERDB_OK);
	TEST_CHECK_INT(userdb_verify(db, "alice", "secret one", 10, &error), USERDB_MISMATCH);
	TEST_CHECK_INT(userdb_verify(db, "alice", "second", 6, &error), USERDB_OK);
	TEST_CHECK_INT(userdb_set_password(db, "carol", "x", &error), USERDB_NOT_FOUND);
	TEST_CHECK_STR(error, "no such user: carol");
	TEST_CHECK_INT(userdb_set_password(db, "alice", "", &error), USERDB_INVALID);
	TEST_CHECK_INT(userdb_verify(db, "alice", "second", 6, &error), USERDB_OK);

	TEST_CHECK_INT(userdb_delete(db, "alice", &error), USERDB_OK);
	TEST_CHECK_INT(userdb_delete(db, "alice", &error), USERDB_NOT_FOUND);
	TEST_CHECK_INT(userdb_verify(db, "alice", "second", 6, &error), USERDB_MISMATCH);
	TEST_CHECK_INT(userdb_verify(db, "bob@example.org", "b0b", 3, &error), USERDB_OK);
	userdb_close(&db);
	TEST_CHECK(db == NULL);

	/* Data persists and the file is private. */
	db = open_db(&cheap);
	TEST_CHECK_INT(userdb_verify(db, "bob@example.org", "b0b", 3, &error), USERDB_OK);
	userdb_close(&db);
	char path[256];
	struct stat st;
	snprintf(path, sizeof(path), "%s/petrel.db", test_dir);
	TEST_CHECK(stat(path, &st) == 0 && (st.st_mode & 077) == 0);
	remove_test_dir();
}

static void test_userdb_add_rejects_duplicates_and_invalid(void)
{
	make_test_dir();
	struct userdb *db = open_db(&cheap);
	if (db == NULL)
		return;
	const char *error = NULL;
	TEST_CHECK_INT(userdb_add(db, "alice", "pw", &error), USERDB_OK);
	TEST_CHECK_INT(userdb_add(db, "alice", "pw2", &error), USERDB_EXISTS);
	TEST_CHECK_STR(error, "user alice already exists");
	TEST_CHECK_INT(userdb_add(db, "ALICE", "pw2", &error), USERDB_EXISTS);
	TEST_CHECK_STR(error, "user alice already exists with different letter case");
	TEST_CHECK_INT(userdb_add(db, "a/b", "pw", &error), USERDB_INVALID);
	TEST_CHECK_STR(error, "user name must not contain '/'");
	TEST_CHECK_INT(userdb_add(db, "", "pw", &error), USERDB_INVALID);
	TEST_CHECK_INT(userdb_add(db, "bob", "", &error), USERDB_INVALID);
	TEST_CHECK_STR(error, "password is empty");
	/* The failed duplicate did not change the first password. */
	TEST_CHECK_INT(userdb_verify(db, "alice", "pw", 2, &error), USERDB_OK);
	userdb_close(&db);
	remove_test_dir();
}

static void test_userdb_list_sorted(void)
{
	make_test_dir();
	struct userdb *db = open_db(&cheap);
	if (db == NULL)
		return;
	const char *error;
	char **names;
	size_t count = 99;
	TEST_CHECK_INT(userdb_list(db, &names, &count, &error), USERDB_OK);
	TEST_CHECK_INT(count, 0);
	userdb_list_free(names, count);
	TEST_CHECK_INT(userdb_add(db, "zed", "1", &error), USERDB_OK);
	TEST_CHECK_INT(userdb_add(db, "Bob", "1", &error), USERDB_OK);
	TEST_CHECK_INT(userdb_add(db, "amy", "1", &error), USERDB_OK);
	TEST_CHECK_INT(userdb_list(db, &names, &count, &error), USERDB_OK);
	TEST_CHECK_INT(count, 3);
	if (count == 3) {
		TEST_CHECK_STR(names[0], "Bob");
		TEST_CHECK_STR(names[1], "amy");
		TEST_CHECK_STR(names[2], "zed");
	}
	userdb_list_free(names, count);
	userdb_close(&db);
	remove_test_dir();
}

static void test_userdb_open_creates_data_dir_and_fails_cleanly(void)
{
	make_test_dir();
	char nested[256];
	snprintf(nested, sizeof(nested), "%s/a/b", test_dir);
	struct userdb *db = NULL;
	char *error = NULL;
	TEST_CHECK(userdb_open(nested, &cheap, &db, &error, NULL));
	userdb_close(&db);
	struct stat st;
	TEST_CHECK(stat(nested, &st) == 0 && (st.st_mode & 0777) == 0700);

	char blocked[256];
	snprintf(blocked, sizeof(blocked), "%s/file", test_dir);
	FILE *f = fopen(blocked, "w");
	TEST_CHECK(f != NULL);
	if (f != NULL)
		fclose(f);
	snprintf(nested, sizeof(nested), "%s/file/sub", test_dir);
	TEST_CHECK(!userdb_open(nested, &cheap, &db, &error, NULL));
	TEST_CHECK(error != NULL && strstr(error, "cannot create") != NULL);
	free(error);
	TEST_CHECK(db == NULL);
	remove_test_dir();
}

static void test_userdb_refuses_newer_schema(void)
{
	make_test_dir();
	struct userdb *db = open_db(&cheap);
	if (db == NULL)
		return;
	userdb_close(&db);
	char path[256];
	snprintf(path, sizeof(path), "%s/petrel.db", test_dir);
	sqlite3 *sql;
	TEST_CHECK(sqlite3_open(path, &sql) == SQLITE_OK);
	TEST_CHECK(sqlite3_exec(sql, "UPDATE schema_version SET version = 2 "
				"WHERE component = 'users'", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(sql);
	char *error = NULL;
	TEST_CHECK(!userdb_open(test_dir, &cheap, &db, &error, NULL));
	TEST_CHECK(error != NULL &&
		   strstr(error, "schema version 2 is newer than this petrel (1)") != NULL);
	free(error);
	TEST_CHECK(db == NULL);
	remove_test_dir();
}

static double verify_seconds(struct userdb *db, const char *name)
{
	const char *error;
	uint64_t start = time_mono_us();
	userdb_verify(db, name, "wrong password", 14, &error);
	return (double)(time_mono_us() - start) / 1e6;
}

static void test_userdb_unknown_user_costs_a_hash(void)
{
	make_test_dir();
	/* A cost high enough to dominate the SQLite lookup. */
	struct userdb_settings set = { .hash_ops = 2, .hash_memory = 8u << 20 };
	struct userdb *db = open_db(&set);
	if (db == NULL)
		return;
	const char *error;
	TEST_CHECK_INT(userdb_add(db, "alice", "pw", &error), USERDB_OK);
	char dummy[USERDB_HASH_SIZE];
	TEST_CHECK_INT(userdb_prepare_verify(db, dummy, &error), USERDB_OK);
	TEST_CHECK(strncmp(dummy, "$argon2id$v=19$m=8192,t=2,p=1$", 30) == 0);
	double known = 1e9, unknown = 1e9;
	for (int i = 0; i < 5; i++) {
		double k = verify_seconds(db, "alice"), u = verify_seconds(db, "nobody");
		if (k < known)
			known = k;
		if (u < unknown)
			unknown = u;
	}
	TEST_CHECK(known > 0.001);
	TEST_CHECK(unknown > known * 0.5);
	TEST_CHECK(unknown < known * 2.0);
	userdb_close(&db);
	remove_test_dir();
}

static void test_userdb_default_cost_is_argon2id_interactive(void)
{
	make_test_dir();
	struct userdb *db = open_db(NULL);
	if (db == NULL)
		return;
	const char *error;
	TEST_CHECK_INT(userdb_add(db, "alice", "pw", &error), USERDB_OK);
	TEST_CHECK_INT(userdb_verify(db, "alice", "pw", 2, &error), USERDB_OK);
	userdb_close(&db);
	/* The stored hash names the algorithm and the cost. */
	char path[256], line[256] = "";
	snprintf(path, sizeof(path), "%s/petrel.db", test_dir);
	sqlite3 *sql;
	sqlite3_stmt *st;
	TEST_CHECK(sqlite3_open(path, &sql) == SQLITE_OK);
	TEST_CHECK(sqlite3_prepare_v2(sql, "SELECT password_hash FROM users WHERE name='alice'",
				      -1, &st, NULL) == SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(line, sizeof(line), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(sql);
	TEST_CHECK(strncmp(line, "$argon2id$v=19$m=65536,t=2,p=1$", 31) == 0);
	remove_test_dir();
}

/* ---- throttle ---------------------------------------------------------- */

static uint64_t fake_now;

static uint64_t fake_clock(void)
{
	return fake_now;
}

static struct throttle *new_throttle(size_t max_entries)
{
	struct throttle_settings set = {
		.max_failures_per_address = 5,
		.max_failures_per_user = 3,
		.window_s = 60,
		.fail_delay_ms = 100,
		.max_entries = max_entries,
		.now_ms = fake_clock,
	};
	fake_now = 1000000;
	return throttle_new(&set);
}

static void test_throttle_user_limit_and_expiry(void)
{
	struct throttle *t = new_throttle(0);
	unsigned retry = 0;
	TEST_CHECK(throttle_check(t, "192.0.2.1", "alice", &retry));
	TEST_CHECK_INT(throttle_record_failure(t, "192.0.2.1", "alice"), 100);
	TEST_CHECK_INT(throttle_record_failure(t, "192.0.2.2", "alice"), 200);
	TEST_CHECK(throttle_check(t, "192.0.2.3", "alice", &retry));
	TEST_CHECK_INT(throttle_record_failure(t, "192.0.2.3", "alice"), 400);
	/* Third failure for alice: blocked from every address... */
	fake_now += 10000;
	TEST_CHECK(!throttle_check(t, "198.51.100.7", "alice", &retry));
	TEST_CHECK_INT(retry, 50);
	TEST_CHECK(!throttle_check(t, NULL, "alice", &retry));
	/* ...but other users are not. */
	TEST_CHECK(throttle_check(t, "192.0.2.1", "bob", &retry));
	/* The window started at the first failure. */
	fake_now += 49999;
	TEST_CHECK(!throttle_check(t, "192.0.2.1", "alice", &retry));
	TEST_CHECK_INT(retry, 1);
	fake_now += 1;
	TEST_CHECK(throttle_check(t, "192.0.2.1", "alice", &retry));
	TEST_CHECK_INT(throttle_record_failure(t, NULL, "alice"), 100);
	throttle_destroy(&t);
	TEST_CHECK(t == NULL);
}

static void test_throttle_address_limit_and_delay_cap(void)
{
	struct throttle *t = new_throttle(0);
	static const unsigned expected[] = { 100, 200, 400, 800, 800 };
	char user[16];
	for (int i = 0; i < 5; i++) {
		snprintf(user, sizeof(user), "guess%d", i);
		TEST_CHECK(throttle_check(t, "203.0.113.9", user, NULL));
		TEST_CHECK_INT(throttle_record_failure(t, "203.0.113.9", user), expected[i]);
	}
	unsigned retry = 0;
	TEST_CHECK(!throttle_check(t, "203.0.113.9", "fresh", &retry));
	TEST_CHECK_INT(retry, 60);
	TEST_CHECK(!throttle_check(t, "203.0.113.9", NULL, &retry));
	TEST_CHECK(throttle_check(t, "203.0.113.10", "fresh", &retry));
	/* IPv4-mapped IPv6 is the same host. */
	TEST_CHECK(!throttle_check(t, "::ffff:203.0.113.9", "fresh", &retry));
	/* A success does not reset the address. */
	throttle_record_success(t, "203.0.113.9", "guess1");
	TEST_CHECK(!throttle_check(t, "203.0.113.9", "fresh", &retry));
	throttle_destroy(&t);
}

static void test_throttle_ipv6_counts_per_64(void)
{
	struct throttle *t = new_throttle(0);
	char addr[64], user[16];
	for (int i = 0; i < 5; i++) {
		snprintf(addr, sizeof(addr), "2001:db8:1:2::%x", i + 1);
		snprintf(user, sizeof(user), "u%d", i);
		throttle_record_failure(t, addr, user);
	}
	TEST_CHECK(!throttle_check(t, "2001:db8:1:2:ffff::1", "other", NULL));
	TEST_CHECK(throttle_check(t, "2001:db8:1:3::1", "other", NULL));
	throttle_destroy(&t);
}

static void test_throttle_success_clears_user(void)
{
	struct throttle *t = new_throttle(0);
	throttle_record_failure(t, "192.0.2.1", "alice");
	throttle_record_failure(t, "192.0.2.1", "alice");
	throttle_record_success(t, "192.0.2.1", "alice");
	/* Counting restarts: the next failure has the base delay. */
	TEST_CHECK_INT(throttle_record_failure(t, "192.0.2.5", "alice"), 100);
	TEST_CHECK_INT(throttle_record_failure(t, "192.0.2.5", "alice"), 200);
	TEST_CHECK(throttle_check(t, "192.0.2.5", "alice", NULL));
	throttle_destroy(&t);
}

static void test_throttle_table_is_bounded(void)
{
	struct throttle *t = new_throttle(64);
	/* The victim's user entry is made first and so evicted first. */
	throttle_record_failure(t, NULL, "victim");
	throttle_record_failure(t, NULL, "victim");
	throttle_record_failure(t, NULL, "victim");
	TEST_CHECK(!throttle_check(t, NULL, "victim", NULL));
	char addr[32], user[32];
	for (int i = 0; i < 10000; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		snprintf(user, sizeof(user), "flood%d", i);
		throttle_record_failure(t, addr, user);
		fake_now++;
		TEST_CHECK(throttle_entry_count(t) <= 64);
	}
	TEST_CHECK_INT(throttle_entry_count(t), 64);
	TEST_CHECK(throttle_check(t, NULL, "victim", NULL));
	/* The newest entries are still counted. */
	throttle_record_failure(t, NULL, "flood9999");
	throttle_record_failure(t, NULL, "flood9999");
	TEST_CHECK(!throttle_check(t, NULL, "flood9999", NULL));
	/* Everything expires. */
	fake_now += 61000;
	TEST_CHECK(throttle_check(t, NULL, "flood9999", NULL));
	throttle_destroy(&t);
}

static void test_throttle_zero_delay(void)
{
	struct throttle_settings set = {
		.max_failures_per_address = 2, .max_failures_per_user = 2,
		.window_s = 1, .fail_delay_ms = 0,
	};
	struct throttle *t = throttle_new(&set);
	TEST_CHECK_INT(throttle_record_failure(t, "127.0.0.1", "x"), 0);
	TEST_CHECK_INT(throttle_record_failure(t, "127.0.0.1", "x"), 0);
	TEST_CHECK(!throttle_check(t, "127.0.0.1", "y", NULL));
	TEST_CHECK_INT(throttle_entry_count(t), 2);
	throttle_destroy(&t);
}

static struct throttle *shared_throttle;

static void *failure_thread(void *arg)
{
	char addr[32];
	snprintf(addr, sizeof(addr), "192.0.2.%d", (int)(size_t)arg);
	for (int i = 0; i < 1000; i++)
		throttle_record_failure(shared_throttle, addr, "target");
	return NULL;
}

static void test_throttle_threads_lose_no_failures(void)
{
	struct throttle_settings set = {
		.max_failures_per_address = 100000, .max_failures_per_user = 4000,
		.window_s = 3600, .fail_delay_ms = 1,
	};
	shared_throttle = throttle_new(&set);
	pthread_t threads[4];
	for (size_t i = 0; i < 4; i++)
		TEST_CHECK(pthread_create(&threads[i], NULL, failure_thread, (void *)(i + 1)) == 0);
	for (size_t i = 0; i < 4; i++)
		pthread_join(threads[i], NULL);
	TEST_CHECK_INT(throttle_entry_count(shared_throttle), 5);
	TEST_CHECK(!throttle_check(shared_throttle, NULL, "target", NULL));
	throttle_destroy(&shared_throttle);

	set.max_failures_per_user = 4001;
	shared_throttle = throttle_new(&set);
	for (size_t i = 0; i < 4; i++)
		TEST_CHECK(pthread_create(&threads[i], NULL, failure_thread, (void *)(i + 1)) == 0);
	for (size_t i = 0; i < 4; i++)
		pthread_join(threads[i], NULL);
	TEST_CHECK(throttle_check(shared_throttle, NULL, "target", NULL));
	throttle_destroy(&shared_throttle);
}

/* ---- SASL -------------------------------------------------------------- */

/* Runs one step and returns its result; out/error are stored globally. */
static const void *sasl_out;
static size_t sasl_out_len;
static const char *sasl_error;

static enum sasl_step step(struct sasl_server *s, const void *in, size_t len)
{
	sasl_out = NULL;
	sasl_error = NULL;
	return sasl_server_step(s, in, len, &sasl_out, &sasl_out_len, &sasl_error);
}

static void plain_expect_fail(const void *msg, size_t len, const char *error)
{
	struct sasl_server *s = sasl_server_new(SASL_MECH_PLAIN);
	TEST_CHECK_INT(step(s, msg, len), SASL_STEP_FAIL);
	TEST_CHECK_STR(sasl_error, error);
	TEST_CHECK(sasl_server_username(s) == NULL);
	TEST_CHECK(sasl_server_password(s) == NULL);
	sasl_server_destroy(&s);
}

static void test_sasl_mech_names(void)
{
	enum sasl_mech m;
	TEST_CHECK(sasl_mech_parse("plain", &m) && m == SASL_MECH_PLAIN);
	TEST_CHECK(sasl_mech_parse("LOGIN", &m) && m == SASL_MECH_LOGIN);
	TEST_CHECK(!sasl_mech_parse("CRAM-MD5", &m));
	TEST_CHECK(!sasl_mech_parse("PLAINX", &m));
	TEST_CHECK_STR(sasl_mech_name(SASL_MECH_PLAIN), "PLAIN");
	TEST_CHECK_STR(sasl_mech_name(SASL_MECH_LOGIN), "LOGIN");
}

static void test_sasl_plain_initial_response(void)
{
	struct sasl_server *s = sasl_server_new(SASL_MECH_PLAIN);
	TEST_CHECK_INT(step(s, "\0alice\0pw d", 11), SASL_STEP_DONE);
	TEST_CHECK_STR(sasl_server_username(s), "alice");
	TEST_CHECK_STR(sasl_server_password(s), "pw d");
	/* Nothing more is accepted after DONE. */
	TEST_CHECK_INT(step(s, "x", 1), SASL_STEP_FAIL);
	TEST_CHECK_STR(sasl_error, "authentication exchange already finished");
	TEST_CHECK(sasl_server_username(s) == NULL);
	sasl_server_destroy(&s);
	TEST_CHECK(s == NULL);

	/* authzid equal to authcid is allowed. */
	s = sasl_server_new(SASL_MECH_PLAIN);
	TEST_CHECK_INT(step(s, "bob\0bob\0s3cr\xc3\xa9t", 15), SASL_STEP_DONE);
	TEST_CHECK_STR(sasl_server_username(s), "bob");
	TEST_CHECK_STR(sasl_server_password(s), "s3cr\xc3\xa9t");
	sasl_server_destroy(&s);
}

static void test_sasl_plain_after_empty_challenge(void)
{
	struct sasl_server *s = sasl_server_new(SASL_MECH_PLAIN);
	TEST_CHECK_INT(step(s, NULL, 0), SASL_STEP_CONTINUE);
	TEST_CHECK(sasl_out != NULL);
	TEST_CHECK_INT(sasl_out_len, 0);
	TEST_CHECK(sasl_server_username(s) == NULL);
	TEST_CHECK_INT(step(s, "\0carol\0pw", 9), SASL_STEP_DONE);
	TEST_CHECK_STR(sasl_server_username(s), "carol");
	TEST_CHECK_STR(sasl_server_password(s), "pw");
	sasl_server_destroy(&s);

	s = sasl_server_new(SASL_MECH_PLAIN);
	TEST_CHECK_INT(step(s, NULL, 0), SASL_STEP_CONTINUE);
	TEST_CHECK_INT(step(s, NULL, 0), SASL_STEP_FAIL);
	TEST_CHECK_STR(sasl_error, "missing client response");
	sasl_server_destroy(&s);
}

static void test_sasl_plain_errors(void)
{
	plain_expect_fail("", 0, "malformed PLAIN message: missing NUL separators");
	plain_expect_fail("alicepw", 7, "malformed PLAIN message: missing NUL separators");
	plain_expect_fail("\0alicepw", 8, "malformed PLAIN message: missing second NUL");
	plain_expect_fail("\0alice\0pw\0", 10, "malformed PLAIN message: too many fields");
	plain_expect_fail("\0alice\0pw\0x", 11, "malformed PLAIN message: too many fields");
	plain_expect_fail("\0alice\0", 7, "empty password");
	plain_expect_fail("\0\0pw", 4, "empty user name");
	plain_expect_fail("\0\0", 2, "empty user name");
	plain_expect_fail("admin\0alice\0pw", 14, "authorization identity differs from user name");
	plain_expect_fail("alic\0alice\0pw", 13, "authorization identity differs from user name");
	plain_expect_fail("\0al\xffice\0pw", 10, "invalid UTF-8");
	plain_expect_fail("\0alice\0p\xc0\x80w", 11, "invalid UTF-8");
	plain_expect_fail("\xed\xa0\x80\0alice\0pw", 12, "invalid UTF-8");

	/* 255 octets per field must work (RFC 4616 section 2); more than
	 * SASL_FIELD_MAX is refused. */
	char msg[2 * SASL_FIELD_MAX + 8];
	size_t n = 0;
	msg[n++] = '\0';
	memset(msg + n, 'u', 255);
	n += 255;
	msg[n++] = '\0';
	memset(msg + n, 'p', 255);
	n += 255;
	struct sasl_server *s = sasl_server_new(SASL_MECH_PLAIN);
	TEST_CHECK_INT(step(s, msg, n), SASL_STEP_DONE);
	TEST_CHECK_INT(strlen(sasl_server_username(s)), 255);
	TEST_CHECK_INT(strlen(sasl_server_password(s)), 255);
	sasl_server_destroy(&s);
	n = 0;
	msg[n++] = '\0';
	msg[n++] = 'u';
	msg[n++] = '\0';
	memset(msg + n, 'p', SASL_FIELD_MAX + 1);
	n += SASL_FIELD_MAX + 1;
	plain_expect_fail(msg, n, "field too long");
}

static void test_sasl_login_exchange(void)
{
	struct sasl_server *s = sasl_server_new(SASL_MECH_LOGIN);
	TEST_CHECK_INT(step(s, NULL, 0), SASL_STEP_CONTINUE);
	TEST_CHECK_MEM(sasl_out, sasl_out_len, "Username:", 9);
	TEST_CHECK_INT(step(s, "dave", 4), SASL_STEP_CONTINUE);
	TEST_CHECK_MEM(sasl_out, sasl_out_len, "Password:", 9);
	TEST_CHECK(sasl_server_username(s) == NULL);
	TEST_CHECK_INT(step(s, "hunter 2", 8), SASL_STEP_DONE);
	TEST_CHECK_STR(sasl_server_username(s), "dave");
	TEST_CHECK_STR(sasl_server_password(s), "hunter 2");
	TEST_CHECK_INT(step(s, "more", 4), SASL_STEP_FAIL);
	sasl_server_destroy(&s);

	/* An initial response is the user name; an empty one is none. */
	s = sasl_server_new(SASL_MECH_LOGIN);
	TEST_CHECK_INT(step(s, "erin", 4), SASL_STEP_CONTINUE);
	TEST_CHECK_MEM(sasl_out, sasl_out_len, "Password:", 9);
	TEST_CHECK_INT(step(s, "pw", 2), SASL_STEP_DONE);
	TEST_CHECK_STR(sasl_server_username(s), "erin");
	sasl_server_destroy(&s);
	s = sasl_server_new(SASL_MECH_LOGIN);
	TEST_CHECK_INT(step(s, "", 0), SASL_STEP_CONTINUE);
	TEST_CHECK_MEM(sasl_out, sasl_out_len, "Username:", 9);
	sasl_server_destroy(&s);
}

static void login_expect_fail(const void *user, size_t user_len, const void *pass,
			      size_t pass_len, const char *error)
{
	struct sasl_server *s = sasl_server_new(SASL_MECH_LOGIN);
	TEST_CHECK_INT(step(s, NULL, 0), SASL_STEP_CONTINUE);
	enum sasl_step r = step(s, user, user_len);
	if (pass != NULL) {
		TEST_CHECK_INT(r, SASL_STEP_CONTINUE);
		r = step(s, pass, pass_len);
	}
	TEST_CHECK_INT(r, SASL_STEP_FAIL);
	TEST_CHECK_STR(sasl_error, error);
	TEST_CHECK(sasl_server_username(s) == NULL);
	TEST_CHECK(sasl_server_password(s) == NULL);
	sasl_server_destroy(&s);
}

static void test_sasl_login_errors(void)
{
	login_expect_fail("", 0, NULL, 0, "empty user name");
	login_expect_fail("a\0b", 3, NULL, 0, "NUL in field");
	login_expect_fail("\xff", 1, NULL, 0, "invalid UTF-8");
	login_expect_fail("frank", 5, "", 0, "empty password");
	login_expect_fail("frank", 5, "p\0w", 3, "NUL in field");
	login_expect_fail("frank", 5, "\xe2\x82", 2, "invalid UTF-8");

	struct sasl_server *s = sasl_server_new(SASL_MECH_LOGIN);
	TEST_CHECK_INT(step(s, NULL, 0), SASL_STEP_CONTINUE);
	TEST_CHECK_INT(step(s, NULL, 0), SASL_STEP_FAIL);
	TEST_CHECK_STR(sasl_error, "missing client response");
	sasl_server_destroy(&s);
	s = sasl_server_new(SASL_MECH_LOGIN);
	TEST_CHECK_INT(step(s, "u", 1), SASL_STEP_CONTINUE);
	TEST_CHECK_INT(step(s, NULL, 0), SASL_STEP_FAIL);
	sasl_server_destroy(&s);
	/* Destroying mid-exchange and destroying NULL are fine. */
	s = sasl_server_new(SASL_MECH_LOGIN);
	TEST_CHECK_INT(step(s, "u", 1), SASL_STEP_CONTINUE);
	sasl_server_destroy(&s);
	sasl_server_destroy(&s);
}

static void test_utf8_validation(void)
{
	TEST_CHECK(auth_utf8_valid("", 0));
	TEST_CHECK(auth_utf8_valid("plain", 5));
	TEST_CHECK(auth_utf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x90\xa6", 9));
	TEST_CHECK(auth_utf8_valid("\xf4\x8f\xbf\xbf", 4));
	TEST_CHECK(!auth_utf8_valid("\xf4\x90\x80\x80", 4));
	TEST_CHECK(!auth_utf8_valid("\xe0\x80\xaf", 3));
	TEST_CHECK(!auth_utf8_valid("\xed\xbf\xbf", 3));
	TEST_CHECK(!auth_utf8_valid("\x80", 1));
	TEST_CHECK(!auth_utf8_valid("\xc3", 1));
	TEST_CHECK(!auth_utf8_valid("\xc3\x28", 2));
}

int main(void)
{
	test_run("userdb_name_rules", test_userdb_name_rules);
	test_run("userdb_add_verify_passwd_delete", test_userdb_add_verify_passwd_delete);
	test_run("userdb_add_rejects_duplicates_and_invalid",
		 test_userdb_add_rejects_duplicates_and_invalid);
	test_run("userdb_list_sorted", test_userdb_list_sorted);
	test_run("userdb_open_creates_data_dir_and_fails_cleanly",
		 test_userdb_open_creates_data_dir_and_fails_cleanly);
	test_run("userdb_refuses_newer_schema", test_userdb_refuses_newer_schema);
	test_run("userdb_unknown_user_costs_a_hash", test_userdb_unknown_user_costs_a_hash);
	test_run("userdb_default_cost_is_argon2id_interactive",
		 test_userdb_default_cost_is_argon2id_interactive);
	test_run("throttle_user_limit_and_expiry", test_throttle_user_limit_and_expiry);
	test_run("throttle_address_limit_and_delay_cap", test_throttle_address_limit_and_delay_cap);
	test_run("throttle_ipv6_counts_per_64", test_throttle_ipv6_counts_per_64);
	test_run("throttle_success_clears_user", test_throttle_success_clears_user);
	test_run("throttle_table_is_bounded", test_throttle_table_is_bounded);
	test_run("throttle_zero_delay", test_throttle_zero_delay);
	test_run("throttle_threads_lose_no_failures", test_throttle_threads_lose_no_failures);
	test_run("sasl_mech_names", test_sasl_mech_names);
	test_run("sasl_plain_initial_response", test_sasl_plain_initial_response);
	test_run("sasl_plain_after_empty_challenge", test_sasl_plain_after_empty_challenge);
	test_run("sasl_plain_errors", test_sasl_plain_errors);
	test_run("sasl_login_exchange", test_sasl_login_exchange);
	test_run("sasl_login_errors", test_sasl_login_errors);
	test_run("utf8_validation", test_utf8_validation);
	return test_finish();
}
