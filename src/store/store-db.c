/* The per-user SQLite database: pragmas, schema migrations, the prepared
 * statement cache and transactions. */

#include "store/store-private.h"
#include "store/store-fts.h"
#include "store/store-sync.h"
#include "store/store-view.h"

#include "lib/arena.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <string.h>

_Static_assert(STORE_FLAG_SEEN == 1 && STORE_FLAG_DELETED == 8,
	       "the counter triggers below hard-code these bits");

/* Version 1. The counters in mailboxes and account are kept exact by the
 * triggers, whatever statement adds or removes a message, so STATUS and
 * QUOTA read one row. */
static const char store_schema_v1[] =
	"CREATE TABLE account ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" last_uidvalidity INTEGER NOT NULL,"
	" messages INTEGER NOT NULL DEFAULT 0,"
	" bytes INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE mailboxes ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" name TEXT NOT NULL UNIQUE,"
	" objectid TEXT NOT NULL UNIQUE,"
	" uidvalidity INTEGER NOT NULL,"
	" uidnext INTEGER NOT NULL DEFAULT 1,"
	" highestmodseq INTEGER NOT NULL DEFAULT 1,"
	" recent_uid INTEGER NOT NULL DEFAULT 1,"
	" expunge_floor INTEGER NOT NULL DEFAULT 0,"
	" special_use INTEGER NOT NULL DEFAULT 0,"
	" noselect INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL,"
	" generation INTEGER NOT NULL DEFAULT 0,"
	" messages INTEGER NOT NULL DEFAULT 0,"
	" unseen INTEGER NOT NULL DEFAULT 0,"
	" deleted INTEGER NOT NULL DEFAULT 0,"
	" bytes INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE subscriptions (name TEXT PRIMARY KEY) WITHOUT ROWID;"
	"CREATE TABLE mailbox_keywords ("
	" mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,"
	" keyword TEXT NOT NULL COLLATE NOCASE,"
	" PRIMARY KEY (mailbox_id, keyword)) WITHOUT ROWID;"
	"CREATE TABLE emails ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" hash TEXT NOT NULL UNIQUE,"
	" size INTEGER NOT NULL,"
	" objectid TEXT NOT NULL UNIQUE,"
	" envelope TEXT, bodystructure TEXT, body TEXT,"
	" sent_date INTEGER,"
	" hdr_from TEXT, hdr_to TEXT, hdr_cc TEXT, subject TEXT,"
	" message_id TEXT, in_reply_to TEXT, refs TEXT);"
	"CREATE VIRTUAL TABLE email_text USING fts5(headers, body,"
	" tokenize = 'trigram');"
	"CREATE TABLE messages ("
	" mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),"
	" uid INTEGER NOT NULL,"
	" email_id INTEGER NOT NULL REFERENCES emails(id),"
	" flags INTEGER NOT NULL,"
	" keywords TEXT NOT NULL DEFAULT '',"
	" modseq INTEGER NOT NULL,"
	" internal_date INTEGER NOT NULL,"
	" tz_offset INTEGER NOT NULL,"
	" save_date INTEGER NOT NULL,"
	" size INTEGER NOT NULL,"
	" PRIMARY KEY (mailbox_id, uid)) WITHOUT ROWID;"
	"CREATE INDEX messages_email ON messages(email_id);"
	"CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);"
	"CREATE TABLE expunged ("
	" mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,"
	" uid INTEGER NOT NULL,"
	" modseq INTEGER NOT NULL,"
	" PRIMARY KEY (mailbox_id, uid)) WITHOUT ROWID;"
	"CREATE INDEX expunged_modseq ON expunged(mailbox_id, modseq);"
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
	"CREATE TRIGGER emails_ad AFTER DELETE ON emails BEGIN"
	" DELETE FROM email_text WHERE rowid = OLD.id;"
	" END;";

/* Version 2. QUOTA (RFC 9208): the user's limits live beside the usage
 * counters they are checked against (NULL: no limit; STORAGE in KiB, the
 * protocol's unit). The import ledger remembers what petrel import stored,
 * keyed by target mailbox, source content hash and occurrence, so that an
 * interrupted import can be run again without duplicating messages; its
 * rows are written in the same transaction as the messages. */
static const char store_schema_v2[] =
	"ALTER TABLE account ADD COLUMN quota_storage_kib INTEGER;"
	"ALTER TABLE account ADD COLUMN quota_messages INTEGER;"
	"CREATE TABLE import_ledger ("
	" key TEXT PRIMARY KEY,"
	" mailbox_id INTEGER NOT NULL,"
	" uid INTEGER NOT NULL,"
	" imported_at INTEGER NOT NULL) WITHOUT ROWID;";

/* Version 3. Each mailbox counts the bytes of its \Deleted messages
 * (STATUS DELETED-STORAGE, RFC 9208 4.1.4), kept exact by the counter
 * triggers, which are replaced for that. */
static const char store_schema_v3[] =
	"ALTER TABLE mailboxes ADD COLUMN deleted_bytes INTEGER NOT NULL DEFAULT 0;"
	"UPDATE mailboxes SET deleted_bytes = (SELECT COALESCE(SUM(size), 0)"
	" FROM messages WHERE mailbox_id = mailboxes.id AND (flags & 8) != 0);"
	"DROP TRIGGER messages_ai;"
	"DROP TRIGGER messages_ad;"
	"DROP TRIGGER messages_au;"
	"CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN"
	" UPDATE mailboxes SET messages = messages + 1, bytes = bytes + NEW.size,"
	"  unseen = unseen + ((NEW.flags & 1) = 0),"
	"  deleted = deleted + ((NEW.flags & 8) != 0),"
	"  deleted_bytes = deleted_bytes + ((NEW.flags & 8) != 0) * NEW.size"
	"  WHERE id = NEW.mailbox_id;"
	" UPDATE account SET messages = messages + 1, bytes = bytes + NEW.size;"
	" END;"
	"CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN"
	" UPDATE mailboxes SET messages = messages - 1, bytes = bytes - OLD.size,"
	"  unseen = unseen - ((OLD.flags & 1) = 0),"
	"  deleted = deleted - ((OLD.flags & 8) != 0),"
	"  deleted_bytes = deleted_bytes - ((OLD.flags & 8) != 0) * OLD.size"
	"  WHERE id = OLD.mailbox_id;"
	" UPDATE account SET messages = messages - 1, bytes = bytes - OLD.size;"
	" END;"
	"CREATE TRIGGER messages_au AFTER UPDATE OF flags ON messages BEGIN"
	" UPDATE mailboxes SET"
	"  unseen = unseen + ((NEW.flags & 1) = 0) - ((OLD.flags & 1) = 0),"
	"  deleted = deleted + ((NEW.flags & 8) != 0) - ((OLD.flags & 8) != 0),"
	"  deleted_bytes = deleted_bytes + ((NEW.flags & 8) != 0) * NEW.size"
	"   - ((OLD.flags & 8) != 0) * OLD.size"
	"  WHERE id = NEW.mailbox_id;"
	" END;";

/* Version 4. Sharing (RFC 4314): each mailbox's ACL entries; \Seen kept
 * per reader in mailboxes read by someone other than the store's owner
 * (keyed by message first, so that an expunge finds its rows through the
 * key); the Date: header's zone beside its instant (SEARCH SENT* compares
 * dates in the sender's zone); a Message-ID index (news articles are stored
 * once, however many groups they were posted to); and the news feed's
 * high-water mark per newsgroup (public store only). */
static const char store_schema_v4[] =
	"CREATE TABLE acl ("
	" mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,"
	" identifier TEXT NOT NULL,"
	" rights INTEGER NOT NULL,"
	" PRIMARY KEY (mailbox_id, identifier)) WITHOUT ROWID;"
	"CREATE TABLE user_seen ("
	" mailbox_id INTEGER NOT NULL,"
	" uid INTEGER NOT NULL,"
	" user TEXT NOT NULL,"
	" PRIMARY KEY (mailbox_id, uid, user)) WITHOUT ROWID;"
	"CREATE INDEX user_seen_user ON user_seen(mailbox_id, user, uid);"
	"CREATE TRIGGER messages_ad_seen AFTER DELETE ON messages BEGIN"
	" DELETE FROM user_seen WHERE mailbox_id = OLD.mailbox_id AND uid = OLD.uid;"
	" END;"
	"CREATE TRIGGER mailboxes_ad_seen AFTER DELETE ON mailboxes BEGIN"
	" DELETE FROM user_seen WHERE mailbox_id = OLD.id;"
	" END;"
	"ALTER TABLE emails ADD COLUMN sent_tz INTEGER;"
	"CREATE INDEX emails_message_id ON emails(message_id);"
	"CREATE TABLE news_marks ("
	" newsgroup TEXT PRIMARY KEY,"
	" high INTEGER NOT NULL) WITHOUT ROWID;";

/* Version 5. Full-text indexing off the APPEND path (store-fts.c): the
 * decoded text of a message waits in email_text_pending until the
 * background indexer moves it into email_text. The expunge log is
 * compacted (store-explog.c): each entry gets the time of its expunge (the
 * entries already logged count from the migration), and each mailbox
 * counts its entries. */
static const char store_schema_v5[] =
	"CREATE TABLE email_text_pending ("
	" email_id INTEGER PRIMARY KEY,"
	" headers TEXT, body TEXT);"
	"CREATE TRIGGER emails_ad_pending AFTER DELETE ON emails BEGIN"
	" DELETE FROM email_text_pending WHERE email_id = OLD.id;"
	" END;"
	"ALTER TABLE expunged ADD COLUMN expunged_at INTEGER NOT NULL DEFAULT 0;"
	"UPDATE expunged SET expunged_at = CAST(strftime('%s', 'now') AS INTEGER);"
	"ALTER TABLE mailboxes ADD COLUMN expunge_log_rows INTEGER NOT NULL DEFAULT 0;"
	"UPDATE mailboxes SET expunge_log_rows ="
	" (SELECT count(*) FROM expunged WHERE mailbox_id = mailboxes.id);";

/* Version 6. The full-text index records in which column a trigram
 * occurs but not where (detail=column): its postings shrink about five
 * times and indexing is a third faster. A substring is then looked up as
 * the AND of its trigrams (store_msg_search_text), a superset that SEARCH
 * confirms against the text as it always has. The texts indexed so far
 * wait again in email_text_pending, and the background indexer indexes
 * them anew (searches scan them meanwhile, with the same answers).
 * Removing a text from the index costs as much as adding it (FTS5 reads
 * it again to find its postings), so an emails row deleted (an EXPUNGE's
 * last copy) only notes its id in email_text_dead and the background
 * indexer removes the text later; until then it matches no message, since
 * ids are never reused (AUTOINCREMENT). */
static const char store_schema_v6[] =
	"INSERT INTO email_text_pending (email_id, headers, body)"
	" SELECT rowid, headers, body FROM email_text;"
	"DROP TABLE email_text;"
	"CREATE VIRTUAL TABLE email_text USING fts5(headers, body,"
	" tokenize = 'trigram', detail = column);"
	"CREATE TABLE email_text_dead (email_id INTEGER PRIMARY KEY);"
	"DROP TRIGGER emails_ad;"
	"CREATE TRIGGER emails_ad AFTER DELETE ON emails BEGIN"
	" INSERT OR IGNORE INTO email_text_dead (email_id) VALUES (OLD.id);"
	" END;";

/* Version 7. The full-text index moves to a database file of its own
 * (fts.db, store-fts.c): the indexer's long write transactions no longer
 * hold the lock every delivery and flag change of the user waits for, and
 * its pages no longer go through mail.db's WAL and its syncs. The queues
 * stay here, in the transactions that fill them. The old index goes;
 * store_fts_ensure finds fts.db missing and queues every message's text
 * for the indexer, which derives them from the body files (searches scan
 * meanwhile, with the same answers). */
static const char store_schema_v7[] =
	"DROP TABLE email_text;"
	"DELETE FROM email_text_dead;";

/* store_migrations[v] takes a database from user_version v to v + 1. A
 * release that changes the schema appends one entry; entries are never
 * edited once shipped. */
/* Version 8. Each message's header (up to MIME_DIGEST_HEADER_MAX, with
 * the blank line that ends it) has a row of its own, written with the
 * emails row: FETCH of header fields, a mail client's commonest request,
 * then reads no body file. Messages stored before have none and are read
 * from their files as before. */
static const char store_schema_v8[] =
	"CREATE TABLE email_headers ("
	" email_id INTEGER PRIMARY KEY,"
	" header BLOB NOT NULL);"
	"CREATE TRIGGER emails_ad_header AFTER DELETE ON emails BEGIN"
	" DELETE FROM email_headers WHERE email_id = OLD.id;"
	" END;";

static const char *const store_migrations[] = {
	store_schema_v1,
	store_schema_v2,
	store_schema_v3,
	store_schema_v4,
	store_schema_v5,
	store_schema_v6,
	store_schema_v7,
	store_schema_v8,
};
#define STORE_SCHEMA_VERSION \
	((int)(sizeof(store_migrations) / sizeof(store_migrations[0])))

enum store_error store_db_exec(struct store_user *u, const char *sql,
			       const char **error_r)
{
	int rc = sqlite3_exec(u->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return store_db_fail(u, rc, sql, error_r);
	return STORE_OK;
}

static int store_db_user_version(struct store_user *u, int *version_r)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(u->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*version_r = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static enum store_error store_db_migrate(struct store_user *u,
					 const char **error_r)
{
	int version;
	int rc = store_db_user_version(u, &version);
	if (rc != SQLITE_OK)
		return store_db_fail(u, rc, "read user_version", error_r);
	if (version == STORE_SCHEMA_VERSION)
		return STORE_OK;
	if (version > STORE_SCHEMA_VERSION) {
		return store_fail(STORE_ERR_INTERNAL, error_r,
				  "Mail store schema %d is newer than this "
				  "program (%d)", version, STORE_SCHEMA_VERSION);
	}
	enum store_error err = store_db_begin_write(u, error_r);
	if (err != STORE_OK)
		return err;
	/* Another process may have migrated while we waited for the lock. */
	rc = store_db_user_version(u, &version);
	if (rc != SQLITE_OK)
		return store_db_rollback(u, store_db_fail(u, rc, "read user_version",
							  error_r));
	for (; version < STORE_SCHEMA_VERSION; version++) {
		err = store_db_exec(u, store_migrations[version], error_r);
		if (err != STORE_OK)
			return store_db_rollback(u, err);
	}
	char sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
	err = store_db_exec(u, sql, error_r);
	if (err != STORE_OK)
		return store_db_rollback(u, err);
	return store_db_commit(u, error_r);
}

enum store_error store_db_open(struct store_user *u, const char *path,
			       const char **error_r)
{
	/* NOMUTEX: a handle is used by one thread at a time (store.h). */
	int rc = sqlite3_open_v2(path, &u->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				 SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return store_db_fail(u, rc, "open database", error_r);
	sqlite3_busy_timeout(u->db, STORE_DB_BUSY_TIMEOUT_MS);
	store_view_register(u->db);
	/* WAL: readers never block the writer. synchronous=FULL: in WAL mode
	 * NORMAL does not sync the WAL at each COMMIT, so an acknowledged
	 * APPEND could vanish on power loss; FULL syncs it every commit. In
	 * sync-behind mode (petrel serve) the handle commits with NORMAL and
	 * the sync threads make commits durable before anyone acknowledges
	 * them (store-sync.c): the fsync leaves the event loop. */
	enum store_error err = store_db_exec(u,
		"PRAGMA journal_mode = WAL;"
		"PRAGMA synchronous = FULL;"
		"PRAGMA foreign_keys = ON;", error_r);
	if (err == STORE_OK && store_sync_behind_active())
		err = store_sync_attach(u, path, error_r);
	if (err != STORE_OK)
		return err;
	return store_db_migrate(u, error_r);
}

void store_process_init(void)
{
	/* SQLite's allocation statistics take a global mutex on every
	 * allocation and free; nothing here reads them. Only possible before
	 * SQLite initialises (SQLITE_MISUSE after: then it just stays on). */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

void store_db_close(struct store_user *u)
{
	for (size_t i = 0; i < u->stmt_count; i++)
		sqlite3_finalize(u->stmts[i].stmt);
	free(u->stmts);
	free(u->stmt_out);
	u->stmts = NULL;
	u->stmt_out = NULL;
	u->stmt_count = u->stmt_cap = u->stmt_out_count = 0;
	memset(u->stmt_hint, 0, sizeof(u->stmt_hint));
	if (u->db != NULL) {
		store_sync_detach(u);
		sqlite3_close(u->db);
	}
	u->db = NULL;
}

static size_t store_db_stmt_slot(const char *sql)
{
	return ((uintptr_t)sql >> 3) % STORE_STMT_HINTS;
}

/* The cached statement for sql (compared by address: every caller passes
 * a static string), or NULL. */
static struct store_stmt_entry *store_db_stmt_find(struct store_user *u, const char *sql)
{
	size_t slot = store_db_stmt_slot(sql);
	size_t hint = u->stmt_hint[slot];
	if (hint != 0 && u->stmts[hint - 1].sql == sql)
		return &u->stmts[hint - 1];
	for (size_t i = 0; i < u->stmt_count; i++) {
		if (u->stmts[i].sql == sql) {
			if (i < UINT16_MAX)
				u->stmt_hint[slot] = (uint16_t)(i + 1);
			return &u->stmts[i];
		}
	}
	return NULL;
}

static struct store_stmt_entry *store_db_stmt_add(struct store_user *u, const char *sql,
						  sqlite3_stmt *st)
{
	if (u->stmt_count == u->stmt_cap) {
		u->stmt_cap = u->stmt_cap == 0 ? 32 : u->stmt_cap * 2;
		u->stmts = xrealloc(u->stmts, u->stmt_cap * sizeof(*u->stmts));
		u->stmt_out = xrealloc(u->stmt_out, u->stmt_cap * sizeof(*u->stmt_out));
	}
	struct store_stmt_entry *e = &u->stmts[u->stmt_count++];
	e->sql = sql;
	e->stmt = st;
	e->handed_out = false;
	return e;
}

sqlite3_stmt *store_db_stmt(struct store_user *u, const char *sql,
			    const char **error_r)
{
	struct store_stmt_entry *e = store_db_stmt_find(u, sql);
	if (e != NULL) {
		sqlite3_reset(e->stmt);
		sqlite3_clear_bindings(e->stmt);
	} else {
		sqlite3_stmt *st;
		int rc = sqlite3_prepare_v3(u->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
					    &st, NULL);
		if (rc != SQLITE_OK) {
			store_db_fail(u, rc, "prepare", error_r);
			return NULL;
		}
		e = store_db_stmt_add(u, sql, st);
	}
	if (!e->handed_out) {
		e->handed_out = true;
		u->stmt_out[u->stmt_out_count++] = (size_t)(e - u->stmts);
	}
	return e->stmt;
}

static void store_db_reset_all(struct store_user *u)
{
	/* A statement left mid-step would pin an old read snapshot and hide
	 * other handles' commits from this one. Only the statements handed
	 * out since the last call can be mid-step. */
	for (size_t i = 0; i < u->stmt_out_count; i++) {
		struct store_stmt_entry *e = &u->stmts[u->stmt_out[i]];
		e->handed_out = false;
		if (sqlite3_stmt_busy(e->stmt))
			sqlite3_reset(e->stmt);
	}
	u->stmt_out_count = 0;
}

/* BEGIN, COMMIT and ROLLBACK run from the handle's prepared statements:
 * parsing them for every transaction (sqlite3_exec) cost more than the
 * statements of a short one. */
static const char store_sql_begin[] = "BEGIN";
static const char store_sql_begin_immediate[] = "BEGIN IMMEDIATE";
static const char store_sql_commit[] = "COMMIT";
static const char store_sql_rollback[] = "ROLLBACK";

static int store_db_run(struct store_user *u, const char *sql)
{
	const char *error;
	sqlite3_stmt *st = store_db_stmt(u, sql, &error);
	if (st == NULL)
		return SQLITE_ERROR;
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static enum store_error store_db_begin(struct store_user *u, const char *sql,
				       const char **error_r)
{
	int rc = store_db_run(u, sql);
	if (rc != SQLITE_OK)
		return store_db_fail(u, rc, sql, error_r);
	return STORE_OK;
}

enum store_error store_db_begin_write(struct store_user *u,
				      const char **error_r)
{
	store_change_discard(u);
	store_sync_writer_waits(u, true);
	enum store_error err = store_db_begin(u, store_sql_begin_immediate, error_r);
	store_sync_writer_waits(u, false);
	return err;
}

enum store_error store_db_begin_read(struct store_user *u,
				     const char **error_r)
{
	if (u->snapshot)
		return STORE_OK;
	return store_db_begin(u, store_sql_begin, error_r);
}

void store_user_snapshot_begin(struct store_user *u)
{
	const char *error;
	if (u->snapshot || !sqlite3_get_autocommit(u->db))
		return;
	u->snapshot = store_db_begin(u, store_sql_begin, &error) == STORE_OK;
}

void store_user_snapshot_end(struct store_user *u)
{
	if (!u->snapshot)
		return;
	u->snapshot = false;
	store_db_reset_all(u);
	(void)store_db_run(u, store_sql_commit);
}

enum store_error store_db_commit(struct store_user *u, const char **error_r)
{
	/* The end of a read transaction that joined a snapshot. */
	if (u->snapshot)
		return STORE_OK;
	store_db_reset_all(u);
	store_sync_commit_begin();
	int rc = store_db_run(u, store_sql_commit);
	if (rc != SQLITE_OK) {
		enum store_error err = store_db_fail(u, rc, "commit", error_r);
		return store_db_rollback(u, err);
	}
	/* Publishes the changes, now or once durable. */
	enum store_error err = store_sync_commit_end(u, error_r);
	store_fts_after_commit(u);
	return err;
}

enum store_error store_db_rollback(struct store_user *u, enum store_error err)
{
	u->snapshot = false;
	store_db_reset_all(u);
	if (!sqlite3_get_autocommit(u->db))
		(void)store_db_run(u, store_sql_rollback);
	store_change_discard(u);
	store_fts_after_rollback();
	return err;
}

enum store_error store_db_step_done(struct store_user *u, sqlite3_stmt *st,
				    const char *what, const char **error_r)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_db_fail(u, rc, what, error_r);
	return STORE_OK;
}

void store_db_bind_text(sqlite3_stmt *st, int col, const char *text)
{
	if (text == NULL)
		sqlite3_bind_null(st, col);
	else
		sqlite3_bind_text(st, col, text, -1, SQLITE_STATIC);
}

const char *store_db_column_str(struct arena *a, sqlite3_stmt *st, int col)
{
	const unsigned char *text = sqlite3_column_text(st, col);
	if (text == NULL)
		return NULL;
	return arena_strndup(a, text, (size_t)sqlite3_column_bytes(st, col));
}

/* Runs a statement returning one integer; 1 row, 0 none, -1 error. */
int store_db_int(struct store_user *u, sqlite3_stmt *st, int64_t *value_r,
			enum store_error *err_r, const char **error_r)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*value_r = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	*err_r = store_db_fail(u, rc, "query", error_r);
	return -1;
}

int store_db_update_read(struct store_user *u, const char *update_sql, const char *read_sql,
			 int64_t id, int64_t amount, int64_t *value_r, enum store_error *err_r,
			 const char **error_r)
{
	sqlite3_stmt *st = store_db_stmt(u, update_sql, error_r);
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, amount);
		*err_r = store_db_step_done(u, st, "update", error_r);
		if (*err_r != STORE_OK)
			return -1;
		st = store_db_stmt(u, read_sql, error_r);
	}
	if (st == NULL) {
		*err_r = STORE_ERR_INTERNAL;
		return -1;
	}
	sqlite3_bind_int64(st, 1, id);
	return store_db_int(u, st, value_r, err_r, error_r);
}

enum store_error store_db_uids(struct store_user *u, sqlite3_stmt *st, size_t expected,
			       struct arena *a, const char *what, uint32_t **uids_r,
			       size_t *count_r, const char **error_r)
{
	size_t cap = expected > 0 ? expected : 16, n = 0;
	uint32_t *uids = arena_alloc(a, cap * sizeof(*uids));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uids = arena_grow(a, uids, n, &cap, sizeof(*uids));
		uids[n++] = (uint32_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_fail(u, rc, what, error_r);
	*uids_r = uids;
	*count_r = n;
	return STORE_OK;
}
