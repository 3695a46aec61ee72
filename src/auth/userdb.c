#include "auth/userdb.h"
#include "auth/auth-utf8.h"
#include "lib/buf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct userdb {
	sqlite3 *sql;
	unsigned long long hash_ops;
	size_t hash_memory;
	char error[512];
};

static const char userdb_schema_sql[] =
	"CREATE TABLE users (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  name TEXT NOT NULL UNIQUE,\n"
	"  password_hash TEXT NOT NULL,\n"
	"  created INTEGER NOT NULL,\n"
	"  changed INTEGER NOT NULL\n"
	");\n"
	/* Names are case-sensitive, but no two may differ only in case. */
	"CREATE UNIQUE INDEX users_name_nocase ON users(name COLLATE NOCASE);\n"
	"INSERT INTO schema_version(component, version) VALUES ('users', 1);\n";

static enum userdb_result userdb_fail(struct userdb *db, enum userdb_result r,
				      const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum userdb_result userdb_fail(struct userdb *db, enum userdb_result r,
				      const char **error_r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(db->error, sizeof(db->error), fmt, ap);
	va_end(ap);
	*error_r = db->error;
	return r;
}

static enum userdb_result userdb_sql_fail(struct userdb *db, int rc, const char *what,
					  const char **error_r)
{
	int primary = rc & 0xff;
	return userdb_fail(db, primary == SQLITE_BUSY || primary == SQLITE_LOCKED ?
			   USERDB_BUSY : USERDB_ERROR, error_r, "%s: %s", what,
			   sqlite3_errmsg(db->sql));
}

/* RFC 3629 code points that would make a name unreadable or spoofable:
 * controls (C0, DEL, C1), Unicode white space, and invisible format
 * characters. */
static bool userdb_name_char_bad(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0xa0))
		return true;
	switch (cp) {
	case ' ':
	case 0x1680: case 0x180e:
	case 0x2028: case 0x2029: case 0x202f: case 0x205f: case 0x2060:
	case 0x3000: case 0xfeff:
		return true;
	default:
		return cp >= 0x2000 && cp <= 0x200f;
	}
}

bool userdb_name_valid(const char *name, const char **reason_r)
{
	size_t len = strlen(name);
	if (len == 0) {
		*reason_r = "user name is empty";
		return false;
	}
	if (len > USERDB_NAME_MAX) {
		*reason_r = "user name is longer than 64 bytes";
		return false;
	}
	/* '-', '$' and '#' begin ACL identifiers that are not users (negative
	 * rights, groups, the public folders' store: RFC 4314, docs/sharing.md). */
	if (name[0] == '.' || name[0] == '-' || name[0] == '$' || name[0] == '#') {
		*reason_r = "user name must not start with '.', '-', '$' or '#'";
		return false;
	}
	if (strcasecmp(name, "anyone") == 0) {
		*reason_r = "user name 'anyone' is reserved (RFC 4314)";
		return false;
	}
	const unsigned char *p = (const unsigned char *)name;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = auth_utf8_decode(p + i, len - i, &cp);
		if (n == 0) {
			*reason_r = "user name is not valid UTF-8";
			return false;
		}
		if (cp == '/') {
			*reason_r = "user name must not contain '/'";
			return false;
		}
		if (userdb_name_char_bad(cp)) {
			*reason_r = "user name must not contain white space or control characters";
			return false;
		}
		i += n;
	}
	return true;
}

bool userdb_password_valid(const char *password, const char **reason_r)
{
	size_t len = strlen(password);
	if (len == 0) {
		*reason_r = "password is empty";
		return false;
	}
	if (len > USERDB_PASSWORD_MAX) {
		*reason_r = "password is longer than 1024 bytes";
		return false;
	}
	return true;
}

/* mkdir -p with mode 0700 for the components it creates. */
static bool userdb_mkdirs(const char *dir, char **error_r)
{
	struct buf path = BUF_INIT;
	buf_append_str(&path, dir);
	char *p = (char *)path.data;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			struct buf b = BUF_INIT;
			buf_printf(&b, "cannot create %s: %s", p, strerror(errno));
			*error_r = xstrdup(buf_cstr(&b));
			buf_free(&b);
			buf_free(&path);
			return false;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	buf_free(&path);
	return true;
}

static bool userdb_exec(struct userdb *db, const char *sql, const char **error_r)
{
	int rc = sqlite3_exec(db->sql, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		userdb_sql_fail(db, rc, sql, error_r);
		return false;
	}
	return true;
}

/* Reads the schema version of the users table: 0 when there is none yet. */
static int userdb_read_version(struct userdb *db, int *version_r)
{
	sqlite3_stmt *st;
	*version_r = 0;
	int rc = sqlite3_prepare_v2(db->sql, "SELECT version FROM schema_version "
				    "WHERE component = 'users'", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*version_r = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static bool userdb_setup(struct userdb *db, const char **error_r)
{
	sqlite3_busy_timeout(db->sql, USERDB_BUSY_TIMEOUT_MS);
	if (!userdb_exec(db, "PRAGMA journal_mode=WAL", error_r))
		return false;
	/* Fast path, a read only: the schema is there (every open after the
	 * first; servers open a handle per login on a pool thread). */
	int version;
	if (userdb_read_version(db, &version) == SQLITE_OK &&
	    version == USERDB_SCHEMA_VERSION)
		return true;

	if (!userdb_exec(db, "BEGIN IMMEDIATE", error_r))
		return false;
	int rc;
	if (!userdb_exec(db, "CREATE TABLE IF NOT EXISTS schema_version ("
			 "component TEXT PRIMARY KEY, version INTEGER NOT NULL)", error_r))
		goto rollback;
	if ((rc = userdb_read_version(db, &version)) != SQLITE_OK) {
		userdb_sql_fail(db, rc, "reading schema version", error_r);
		goto rollback;
	}
	if (version == 0) {
		if (!userdb_exec(db, userdb_schema_sql, error_r))
			goto rollback;
	} else if (version > USERDB_SCHEMA_VERSION) {
		userdb_fail(db, USERDB_ERROR, error_r,
			    "user database schema version %d is newer than this petrel (%d)",
			    version, USERDB_SCHEMA_VERSION);
		goto rollback;
	}
	return userdb_exec(db, "COMMIT", error_r);
rollback:
	sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
	return false;
}

bool userdb_open(const char *data_dir, const struct userdb_settings *set,
		 struct userdb **db_r, char **error_r, bool *busy_r)
{
	if (busy_r != NULL)
		*busy_r = false;
	if (sodium_init() < 0) {
		*error_r = xstrdup("libsodium initialisation failed");
		return false;
	}
	if (!userdb_mkdirs(data_dir, error_r))
		return false;

	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/%s", data_dir, USERDB_FILE_NAME);
	/* Create the file ourselves so that it (and SQLite's -wal and -shm
	 * files, which copy its mode) is private: it holds password hashes. */
	int fd = open(buf_cstr(&path), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		struct buf b = BUF_INIT;
		buf_printf(&b, "cannot open %s: %s", buf_cstr(&path), strerror(errno));
		*error_r = xstrdup(buf_cstr(&b));
		buf_free(&b);
		buf_free(&path);
		return false;
	}
	close(fd);

	struct userdb *db = xcalloc(1, sizeof(*db));
	db->hash_ops = set != NULL && set->hash_ops != 0 ? set->hash_ops :
		crypto_pwhash_OPSLIMIT_INTERACTIVE;
	db->hash_memory = set != NULL && set->hash_memory != 0 ? set->hash_memory :
		crypto_pwhash_MEMLIMIT_INTERACTIVE;
	if (db->hash_ops < crypto_pwhash_OPSLIMIT_MIN)
		db->hash_ops = crypto_pwhash_OPSLIMIT_MIN;
	if (db->hash_memory < crypto_pwhash_MEMLIMIT_MIN)
		db->hash_memory = crypto_pwhash_MEMLIMIT_MIN;

	const char *err = NULL;
	int rc = sqlite3_open_v2(buf_cstr(&path), &db->sql,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		struct buf b = BUF_INIT;
		buf_printf(&b, "cannot open %s: %s", buf_cstr(&path),
			   db->sql != NULL ? sqlite3_errmsg(db->sql) : sqlite3_errstr(rc));
		*error_r = xstrdup(buf_cstr(&b));
		buf_free(&b);
		buf_free(&path);
		userdb_close(&db);
		return false;
	}
	if (!userdb_setup(db, &err)) {
		struct buf b = BUF_INIT;
		buf_printf(&b, "%s: %s", buf_cstr(&path), err);
		*error_r = xstrdup(buf_cstr(&b));
		if (busy_r != NULL)
			*busy_r = (sqlite3_errcode(db->sql) & 0xff) == SQLITE_BUSY;
		buf_free(&b);
		buf_free(&path);
		userdb_close(&db);
		return false;
	}
	buf_free(&path);
	*db_r = db;
	return true;
}

void userdb_close(struct userdb **dbp)
{
	struct userdb *db = *dbp;
	if (db == NULL)
		return;
	sqlite3_close(db->sql);
	sodium_memzero(db, sizeof(*db));
	free(db);
	*dbp = NULL;
}

static enum userdb_result userdb_hash(struct userdb *db, const char *password,
				      char out[crypto_pwhash_STRBYTES],
				      const char **error_r)
{
	if (crypto_pwhash_str_alg(out, password, strlen(password), db->hash_ops,
				  db->hash_memory, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return userdb_fail(db, USERDB_ERROR, error_r,
				   "password hashing failed (out of memory?)");
	return USERDB_OK;
}

static enum userdb_result userdb_check_input(struct userdb *db, const char *name,
					     const char *password, const char **error_r)
{
	const char *reason;
	if (!userdb_name_valid(name, &reason) ||
	    (password != NULL && !userdb_password_valid(password, &reason)))
		return userdb_fail(db, USERDB_INVALID, error_r, "%s", reason);
	return USERDB_OK;
}

/* Runs a one-statement write: ?1 is name, ?2 hash (when not NULL), ?3 the
 * current time (when used); *changes_r is the number of rows changed. */
static enum userdb_result userdb_write(struct userdb *db, const char *sql,
				       const char *what, const char *name,
				       const char *hash, int *changes_r,
				       const char **error_r)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return userdb_sql_fail(db, rc, what, error_r);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (hash != NULL)
		sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	int now_index = sqlite3_bind_parameter_index(st, "?3");
	if (now_index > 0)
		sqlite3_bind_int64(st, now_index, (sqlite3_int64)time(NULL));
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (rc & 0xff) == SQLITE_CONSTRAINT ? USERDB_EXISTS :
			userdb_sql_fail(db, rc, what, error_r);
	*changes_r = sqlite3_changes(db->sql);
	return USERDB_OK;
}

/* Looks up name with the given comparison; copies the stored name. */
static enum userdb_result userdb_find(struct userdb *db, const char *sql, const char *name,
				      char *found, size_t found_size, const char **error_r)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return userdb_sql_fail(db, rc, "looking up user", error_r);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	enum userdb_result r;
	if (rc == SQLITE_ROW) {
		if (found != NULL) {
			const unsigned char *v = sqlite3_column_text(st, 0);
			snprintf(found, found_size, "%s", v != NULL ? (const char *)v : "");
		}
		r = USERDB_OK;
	} else if (rc == SQLITE_DONE) {
		r = userdb_fail(db, USERDB_NOT_FOUND, error_r, "no such user: %s", name);
	} else {
		r = userdb_sql_fail(db, rc, "looking up user", error_r);
	}
	sqlite3_finalize(st);
	return r;
}

enum userdb_result userdb_add(struct userdb *db, const char *name,
			      const char *password, const char **error_r)
{
	enum userdb_result r = userdb_check_input(db, name, password, error_r);
	if (r != USERDB_OK)
		return r;
	char hash[crypto_pwhash_STRBYTES];
	if ((r = userdb_hash(db, password, hash, error_r)) != USERDB_OK)
		return r;
	int changes;
	r = userdb_write(db, "INSERT INTO users(name, password_hash, created, changed) "
			 "VALUES (?1, ?2, ?3, ?3)", "adding user", name, hash, &changes,
			 error_r);
	if (r != USERDB_EXISTS)
		return r;
	char other[USERDB_NAME_MAX * 2];
	if (userdb_find(db, "SELECT name FROM users WHERE name = ?1 COLLATE NOCASE",
			name, other, sizeof(other), error_r) == USERDB_OK &&
	    strcmp(other, name) != 0)
		return userdb_fail(db, USERDB_EXISTS, error_r,
				   "user %s already exists with different letter case", other);
	return userdb_fail(db, USERDB_EXISTS, error_r, "user %s already exists", name);
}

enum userdb_result userdb_set_password(struct userdb *db, const char *name,
				       const char *password, const char **error_r)
{
	enum userdb_result r = userdb_check_input(db, name, password, error_r);
	if (r != USERDB_OK)
		return r;
	if ((r = userdb_exists(db, name, error_r)) != USERDB_OK)
		return r;
	char hash[crypto_pwhash_STRBYTES];
	if ((r = userdb_hash(db, password, hash, error_r)) != USERDB_OK)
		return r;
	int changes;
	r = userdb_write(db, "UPDATE users SET password_hash = ?2, changed = ?3 "
			 "WHERE name = ?1", "changing password", name, hash, &changes,
			 error_r);
	if (r == USERDB_OK && changes == 0)
		return userdb_fail(db, USERDB_NOT_FOUND, error_r, "no such user: %s", name);
	return r;
}

enum userdb_result userdb_delete(struct userdb *db, const char *name,
				 const char **error_r)
{
	int changes;
	enum userdb_result r = userdb_write(db, "DELETE FROM users WHERE name = ?1",
					    "deleting user", name, NULL, &changes, error_r);
	if (r == USERDB_OK && changes == 0)
		return userdb_fail(db, USERDB_NOT_FOUND, error_r, "no such user: %s", name);
	return r;
}

enum userdb_result userdb_exists(struct userdb *db, const char *name,
				 const char **error_r)
{
	return userdb_find(db, "SELECT name FROM users WHERE name = ?1", name, NULL, 0,
			   error_r);
}

enum userdb_result userdb_list(struct userdb *db, char ***names_r, size_t *count_r,
			       const char **error_r)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db->sql, "SELECT name FROM users ORDER BY name",
				    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return userdb_sql_fail(db, rc, "listing users", error_r);
	char **names = NULL;
	size_t count = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *v = sqlite3_column_text(st, 0);
		names = xrealloc(names, (count + 1) * sizeof(*names));
		names[count++] = xstrdup(v != NULL ? (const char *)v : "");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		userdb_list_free(names, count);
		return userdb_sql_fail(db, rc, "listing users", error_r);
	}
	*names_r = names;
	*count_r = count;
	return USERDB_OK;
}

void userdb_list_free(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
}

/* Hash of a random password at the configured cost, shared by the whole
 * process, so that an unknown name costs the same Argon2id work as a known
 * one. Made once per cost (normally once per process). */
static pthread_mutex_t userdb_dummy_lock = PTHREAD_MUTEX_INITIALIZER;
static char userdb_dummy_hash[crypto_pwhash_STRBYTES];
static unsigned long long userdb_dummy_ops;
static size_t userdb_dummy_memory;

_Static_assert(USERDB_HASH_SIZE == crypto_pwhash_STRBYTES, "hash buffer size");

enum userdb_result userdb_prepare_verify(struct userdb *db, char hash_r[USERDB_HASH_SIZE],
					 const char **error_r)
{
	enum userdb_result r = USERDB_OK;
	pthread_mutex_lock(&userdb_dummy_lock);
	if (userdb_dummy_ops != db->hash_ops || userdb_dummy_memory != db->hash_memory) {
		char random[32], text[sizeof(random) * 2 + 1];
		randombytes_buf(random, sizeof(random));
		sodium_bin2hex(text, sizeof(text), (unsigned char *)random, sizeof(random));
		r = userdb_hash(db, text, userdb_dummy_hash, error_r);
		if (r == USERDB_OK) {
			userdb_dummy_ops = db->hash_ops;
			userdb_dummy_memory = db->hash_memory;
		}
	}
	if (r == USERDB_OK && hash_r != NULL)
		memcpy(hash_r, userdb_dummy_hash, crypto_pwhash_STRBYTES);
	pthread_mutex_unlock(&userdb_dummy_lock);
	return r;
}

static enum userdb_result userdb_dummy_verify(struct userdb *db, const void *password,
					      size_t password_len, const char **error_r)
{
	char hash[crypto_pwhash_STRBYTES];
	enum userdb_result r = userdb_prepare_verify(db, hash, error_r);
	if (r != USERDB_OK)
		return r;
	/* The result is meaningless; only the work counts. */
	volatile int ignored = crypto_pwhash_str_verify(hash, password, password_len);
	(void)ignored;
	return userdb_fail(db, USERDB_MISMATCH, error_r, "authentication failed");
}

enum userdb_result userdb_verify(struct userdb *db, const char *name,
				 const void *password, size_t password_len,
				 const char **error_r)
{
	if (password_len > USERDB_PASSWORD_MAX)
		password_len = USERDB_PASSWORD_MAX + 1;
	const char *reason;
	if (!userdb_name_valid(name, &reason))
		return userdb_dummy_verify(db, password, password_len, error_r);

	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db->sql, "SELECT password_hash FROM users WHERE name = ?1",
				    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return userdb_sql_fail(db, rc, "looking up user", error_r);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(st);
		return userdb_dummy_verify(db, password, password_len, error_r);
	}
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return userdb_sql_fail(db, rc, "looking up user", error_r);
	}
	char hash[crypto_pwhash_STRBYTES];
	const unsigned char *v = sqlite3_column_text(st, 0);
	snprintf(hash, sizeof(hash), "%s", v != NULL ? (const char *)v : "");
	sqlite3_finalize(st);
	/* A password longer than any we store cannot match, but still costs
	 * the same work. */
	bool ok = crypto_pwhash_str_verify(hash, password, password_len) == 0 &&
		password_len <= USERDB_PASSWORD_MAX;
	if (!ok)
		return userdb_fail(db, USERDB_MISMATCH, error_r, "authentication failed");
	return USERDB_OK;
}
