/* data_dir/shared.db: what is shared across users' stores. Groups (their
 * members), and the sharing index: which owners' ACLs name an identifier,
 * so that LIST opens only the stores that may show something to a user
 * instead of every store on the server. Calls come from any thread; each
 * takes a connection from a small pool and gives it back, since every
 * LOGIN reads the user's groups and opening the database each time cost
 * more than the rest of a short session's login (the last connection's
 * close removes SQLite's -wal and -shm files, the next open creates them
 * again). */

#include "store/store-private.h"

#include "lib/arena.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define STORE_SHARE_BUSY_TIMEOUT_MS 10000
/* Idle connections kept: about one per thread that reads at once. */
#define STORE_SHARE_POOL 8

static struct {
	pthread_mutex_t lock;
	struct {
		char *data_dir;
		sqlite3 *db;
	} idle[STORE_SHARE_POOL];
	size_t count;
} store_share_pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

static const char store_share_schema[] =
	"PRAGMA journal_mode = WAL;"
	"PRAGMA synchronous = FULL;"
	"CREATE TABLE IF NOT EXISTS shares ("
	" identifier TEXT NOT NULL,"
	" owner TEXT NOT NULL,"
	" PRIMARY KEY (identifier, owner)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS group_members ("
	" name TEXT NOT NULL,"
	" member TEXT NOT NULL,"
	" PRIMARY KEY (name, member)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS group_members_member ON group_members(member, name);";

static enum store_error store_share_fail(sqlite3 *db, const char *what, const char **error_r)
{
	int rc = db != NULL ? sqlite3_errcode(db) : SQLITE_CANTOPEN;
	log_event(LOG_ERROR, NULL, "store_share_failed", "what=%s error=\"%s\"", what,
		  db != NULL ? sqlite3_errmsg(db) : "open");
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return store_fail(STORE_ERR_INUSE, error_r, "Sharing database busy");
	return store_fail(STORE_ERR_INTERNAL, error_r, "Internal error in the sharing database");
}

/* An idle connection to data_dir's shared.db from the pool, or NULL. */
static sqlite3 *store_share_take(const char *data_dir)
{
	sqlite3 *db = NULL;
	pthread_mutex_lock(&store_share_pool.lock);
	for (size_t i = 0; db == NULL && i < store_share_pool.count; i++) {
		if (strcmp(store_share_pool.idle[i].data_dir, data_dir) != 0)
			continue;
		db = store_share_pool.idle[i].db;
		free(store_share_pool.idle[i].data_dir);
		store_share_pool.idle[i] = store_share_pool.idle[--store_share_pool.count];
	}
	pthread_mutex_unlock(&store_share_pool.lock);
	return db;
}

/* Back to the pool when it has room, else closed. */
static void store_share_give(const char *data_dir, sqlite3 *db)
{
	pthread_mutex_lock(&store_share_pool.lock);
	if (store_share_pool.count < STORE_SHARE_POOL) {
		store_share_pool.idle[store_share_pool.count].data_dir = xstrdup(data_dir);
		store_share_pool.idle[store_share_pool.count++].db = db;
		db = NULL;
	}
	pthread_mutex_unlock(&store_share_pool.lock);
	sqlite3_close(db);
}

static enum store_error store_share_open(const char *data_dir, sqlite3 **db_r,
					 const char **error_r)
{
	*db_r = store_share_take(data_dir);
	if (*db_r != NULL)
		return STORE_OK;
	size_t len = strlen(data_dir) + sizeof("/shared.db");
	char *path = xmalloc(len);
	snprintf(path, len, "%s/shared.db", data_dir);
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	free(path);
	enum store_error err = STORE_OK;
	if (rc == SQLITE_OK)
		sqlite3_busy_timeout(db, STORE_SHARE_BUSY_TIMEOUT_MS);
	if (rc != SQLITE_OK || sqlite3_exec(db, store_share_schema, NULL, NULL, NULL) != SQLITE_OK)
		err = store_share_fail(db, "open shared.db", error_r);
	if (err != STORE_OK) {
		sqlite3_close(db);
		return err;
	}
	*db_r = db;
	return STORE_OK;
}

/* Runs one statement with up to two text parameters; *changes_r (may be
 * NULL) gets the number of rows changed. */
static enum store_error store_share_exec(const char *data_dir, const char *sql, const char *p1,
					 const char *p2, int *changes_r, const char **error_r)
{
	sqlite3 *db;
	enum store_error err = store_share_open(data_dir, &db, error_r);
	if (err != STORE_OK)
		return err;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		err = store_share_fail(db, sql, error_r);
	} else {
		store_db_bind_text(st, 1, p1);
		if (sqlite3_bind_parameter_count(st) > 1)
			store_db_bind_text(st, 2, p2);
		if (sqlite3_step(st) != SQLITE_DONE)
			err = store_share_fail(db, sql, error_r);
		else if (changes_r != NULL)
			*changes_r = sqlite3_changes(db);
	}
	sqlite3_finalize(st);
	store_share_give(data_dir, db);
	return err;
}

/* Runs a query of one text column with up to two text parameters,
 * collecting the values (from a). */
static enum store_error store_share_strings(const char *data_dir, const char *sql,
					    const char *p1, const char *p2, struct arena *a,
					    const char ***values_r, size_t *count_r,
					    const char **error_r)
{
	sqlite3 *db;
	enum store_error err = store_share_open(data_dir, &db, error_r);
	if (err != STORE_OK)
		return err;
	sqlite3_stmt *st = NULL;
	size_t cap = 8, n = 0;
	const char **values = arena_alloc(a, cap * sizeof(*values));
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		err = store_share_fail(db, sql, error_r);
	} else {
		int params = sqlite3_bind_parameter_count(st);
		if (params >= 1)
			store_db_bind_text(st, 1, p1);
		if (params >= 2)
			store_db_bind_text(st, 2, p2);
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			values = arena_grow(a, values, n, &cap, sizeof(*values));
			values[n++] = store_db_column_str(a, st, 0);
		}
		if (rc != SQLITE_DONE)
			err = store_share_fail(db, sql, error_r);
	}
	sqlite3_finalize(st);
	store_share_give(data_dir, db);
	*values_r = values;
	*count_r = err == STORE_OK ? n : 0;
	return err;
}

enum store_error store_share_note(const char *data_dir, const char *identifier,
				  const char *owner, const char **error_r)
{
	return store_share_exec(data_dir,
				"INSERT OR IGNORE INTO shares (identifier, owner) VALUES (?1, ?2)",
				identifier, owner, NULL, error_r);
}

enum store_error store_share_forget(const char *data_dir, const char *identifier,
				    const char *owner, const char **error_r)
{
	return store_share_exec(data_dir,
				"DELETE FROM shares WHERE identifier = ?1 AND owner = ?2",
				identifier, owner, NULL, error_r);
}

enum store_error store_share_owners(const char *data_dir, const struct store_identity *who,
				    struct arena *a, const char ***owners_r, size_t *count_r,
				    const char **error_r)
{
	/* The user's own name, "anyone", and "$group" for each group: the
	 * groups are joined in SQL from the membership table, so the caller's
	 * list and the table agree as of now. */
	static const char sql[] =
		"SELECT DISTINCT owner FROM shares WHERE identifier = ?1"
		" OR identifier = 'anyone'"
		" OR identifier IN (SELECT '$' || name FROM group_members WHERE member = ?1)"
		" ORDER BY owner";
	return store_share_strings(data_dir, sql, who->user, NULL, a, owners_r, count_r,
				   error_r);
}

enum store_error store_group_add(const char *data_dir, const char *group, const char *user,
				 const char **error_r)
{
	if (!store_user_name_valid(group, error_r) || !store_user_name_valid(user, error_r))
		return STORE_ERR_INVALID;
	return store_share_exec(data_dir,
				"INSERT OR IGNORE INTO group_members (name, member) VALUES (?1, ?2)",
				group, user, NULL, error_r);
}

enum store_error store_group_remove(const char *data_dir, const char *group, const char *user,
				    const char **error_r)
{
	int changes = 0;
	enum store_error err = user != NULL ?
		store_share_exec(data_dir,
				 "DELETE FROM group_members WHERE name = ?1 AND member = ?2",
				 group, user, &changes, error_r) :
		store_share_exec(data_dir, "DELETE FROM group_members WHERE name = ?1",
				 group, NULL, &changes, error_r);
	if (err == STORE_OK && changes == 0)
		return store_fail(STORE_ERR_NONEXISTENT, error_r,
				  user != NULL ? "User is not in the group" : "No such group");
	return err;
}

enum store_error store_group_list(const char *data_dir, const char *group, struct arena *a,
				  const char ***names_r, size_t *count_r, const char **error_r)
{
	if (group == NULL)
		return store_share_strings(data_dir,
					   "SELECT DISTINCT name FROM group_members ORDER BY name",
					   NULL, NULL, a, names_r, count_r, error_r);
	return store_share_strings(data_dir,
				   "SELECT member FROM group_members WHERE name = ?1 ORDER BY member",
				   group, NULL, a, names_r, count_r, error_r);
}

enum store_error store_user_groups(const char *data_dir, const char *user, struct arena *a,
				   const char ***groups_r, size_t *count_r, const char **error_r)
{
	return store_share_strings(data_dir,
				   "SELECT name FROM group_members WHERE member = ?1 ORDER BY name",
				   user, NULL, a, groups_r, count_r, error_r);
}
