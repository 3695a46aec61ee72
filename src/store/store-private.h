#ifndef PETREL_STORE_PRIVATE_H
#define PETREL_STORE_PRIVATE_H

/* Shared between the store's own files; nothing outside src/store/ includes
 * this. */

#include "store/store.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <sys/types.h>

struct store_blob {
	char *tmp_path;                  /* heap; unlinked by store_blob_free */
	char hash[STORE_HASH_HEX_SIZE];
	uint64_t size;
	/* store_blob_prelink linked this file into blobs/ and synced the
	 * entry, or found the same body there and synced its entry: the file
	 * there with this device and inode needs no sync. */
	bool prelinked;
	dev_t dev;
	ino_t ino;
	/* The file found there, kept open so that its inode number cannot
	 * be reused by another file meanwhile; -1 if none. */
	int held_fd;
};

struct store_pending_change {
	uint64_t mailbox_id;
	enum store_change_kind kind;
};

struct store_stmt_entry {
	const char *sql;
	sqlite3_stmt *stmt;
	bool handed_out; /* listed in store_user.stmt_out */
};

/* Slots of store_user.stmt_hint: where store_db_stmt last found a
 * statement, by its SQL text's address. */
#define STORE_STMT_HINTS 256

struct store_user {
	sqlite3 *db;
	struct store_stmt_entry *stmts;
	size_t stmt_count, stmt_cap;
	/* Statements handed out since the last transaction ended: the only
	 * ones that can still be mid-step (store_db_reset_all). */
	size_t *stmt_out;
	size_t stmt_out_count;
	uint16_t stmt_hint[STORE_STMT_HINTS]; /* index + 1, 0 for none */
	char *name;
	char *dir;                 /* users/<h>/<user> */
	char *blobs_dir;           /* users/<h>/<user>/blobs */
	/* blobs_dir opened (O_PATH) by store_blob_open to open bodies
	 * relative to it, or -1. */
	int blobs_fd;
	char *tmp_dir;             /* data_dir/tmp */
	char *data_dir;
	/* The reader whose \Seen is kept apart (store_user_set_viewer), or
	 * NULL for the owner's own view. */
	char *viewer;
	/* Changes made in the current write transaction, announced through
	 * the change hook after COMMIT. */
	struct store_pending_change *pending;
	size_t pending_count, pending_cap;
	/* Sync-behind's hooks on this connection (store-sync.c), or NULL. */
	struct store_sync_handle *sync;
	/* The full-text index's database (fts.db beside mail.db), opened on
	 * first use by store_fts_db: a handle of its own whose db, stmts and
	 * name alone are set. NULL until then, and in that handle itself. */
	struct store_user *fts;
	/* In a read transaction of store_user_snapshot_begin: the store's
	 * own read transactions join it (store_db_begin_read, _commit). */
	bool snapshot;
};

/* ---- Errors (store-error.c) ---- */

/* Formats the thread-local message, points *error_r at it, returns err. */
enum store_error store_fail(enum store_error err, const char **error_r,
			    const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Logs an SQLite failure on u's database with what and returns INUSE for
 * SQLITE_BUSY/LOCKED, INTERNAL otherwise. */
enum store_error store_db_fail(struct store_user *u, int rc, const char *what,
			       const char **error_r);
/* Logs an errno failure (path, what) and returns INTERNAL (NOPERM for
 * EACCES/EPERM). */
enum store_error store_sys_fail(const char *what, const char *path,
				int errnum, const char **error_r);

/* ---- Change hook (store-error.c) ---- */

void store_change_note(struct store_user *u, uint64_t mailbox_id,
		       enum store_change_kind kind);
/* Calls the hook for each pending change (after COMMIT) and clears them. */
void store_change_publish(struct store_user *u);
void store_change_discard(struct store_user *u);

/* ---- Names (store-name.c) ---- */

/* Heap copy of a valid name with a leading "INBOX" component in upper case;
 * NULL (and *error_r) if name is invalid. */
char *store_name_normalize(const char *name, const char **error_r);
bool store_name_is_inbox(const char *normalized);
/* Length of the parent part ("a/b" of "a/b/c"), 0 for a top-level name. */
size_t store_name_parent_len(const char *name);

/* ---- Per-reader \Seen (store-seen.c); only when u->viewer is set ---- */

/* The viewer's \Seen UIDs in the mailbox, ascending, from a. */
enum store_error store_seen_load(struct store_user *u, uint64_t mailbox_id, struct arena *a,
				 uint32_t **uids_r, size_t *count_r, const char **error_r);
/* flags with \Seen replaced by whether uid is in seen (ascending). */
uint32_t store_seen_overlay(const uint32_t *seen, size_t count, uint32_t uid, uint32_t flags);
enum store_error store_seen_get(struct store_user *u, uint64_t mailbox_id, uint32_t uid,
				bool *seen_r, const char **error_r);
enum store_error store_seen_put(struct store_user *u, uint64_t mailbox_id, uint32_t uid,
				bool seen, const char **error_r);
/* How many messages of the mailbox the viewer has seen. */
enum store_error store_seen_count(struct store_user *u, uint64_t mailbox_id, uint32_t *count_r,
				  const char **error_r);
/* UID of the first message the viewer has not seen, 0 if none. */
enum store_error store_seen_first_unseen(struct store_user *u, uint64_t mailbox_id,
					 int64_t *uid_r, const char **error_r);
/* The viewer's \Seen of one message carried to its copy. */
enum store_error store_seen_copy(struct store_user *u, uint64_t src_id, uint32_t src_uid,
				 uint64_t dst_id, uint32_t dst_uid, const char **error_r);

/* ---- Access control (store-acl.c) ---- */

/* Gives the new mailbox the ACL of its nearest existing ancestor
 * (RFC 4314 §4: CREATE SHOULD inherit). Inside a write transaction. */
enum store_error store_acl_inherit(struct store_user *u, uint64_t parent_id, uint64_t child_id,
				   const char **error_r);
/* The sharing index (store-share.c): owner's ACLs name identifier, or no
 * longer do. */
enum store_error store_share_note(const char *data_dir, const char *identifier,
				  const char *owner, const char **error_r);
enum store_error store_share_forget(const char *data_dir, const char *identifier,
				    const char *owner, const char **error_r);
/* Forgets the mailbox's ACL (DELETE that leaves a \Noselect parent). */
enum store_error store_acl_forget(struct store_user *u, uint64_t mailbox_id, const char **error_r);

/* ---- Database (store-db.c) ---- */
/* Milliseconds a writer waits for another writer (BEGIN IMMEDIATE) before
 * the operation fails with STORE_ERR_INUSE. */
#define STORE_DB_BUSY_TIMEOUT_MS 10000

/* Opens/creates path, sets the pragmas and migrates the schema. */
enum store_error store_db_open(struct store_user *u, const char *path,
			       const char **error_r);
void store_db_close(struct store_user *u);
/* A cached prepared statement for a static SQL string (keyed by the string
 * itself), reset and with bindings cleared. NULL after logging on error. */
sqlite3_stmt *store_db_stmt(struct store_user *u, const char *sql,
			    const char **error_r);
/* BEGIN IMMEDIATE (writes) / BEGIN (consistent reads). */
enum store_error store_db_begin_write(struct store_user *u,
				      const char **error_r);
enum store_error store_db_begin_read(struct store_user *u,
				     const char **error_r);
/* COMMIT, then publish pending changes. On failure rolls back. */
enum store_error store_db_commit(struct store_user *u, const char **error_r);
/* ROLLBACK (ignoring "no transaction"), resets statements, discards
 * pending changes. Returns err unchanged so callers can `return`. */
enum store_error store_db_rollback(struct store_user *u, enum store_error err);
/* Runs sql (no results expected) with no parameters. */
enum store_error store_db_exec(struct store_user *u, const char *sql,
			       const char **error_r);
/* Steps a statement expected to finish (INSERT/UPDATE/DELETE) and resets
 * it. */
enum store_error store_db_step_done(struct store_user *u, sqlite3_stmt *st,
				    const char *what, const char **error_r);
/* Steps a statement returning one integer in column 0 and resets it:
 * 1 row (*value_r set), 0 no row, -1 error (*err_r set). */
int store_db_int(struct store_user *u, sqlite3_stmt *st, int64_t *value_r,
		 enum store_error *err_r, const char **error_r);
/* Takes \Recent for [recent_uid, uidnext) of the mailbox in the write
 * transaction under way: recent_uid as it read it, uidnext the mailbox's
 * UIDNEXT now (past any messages it added). */
enum store_error store_mailbox_claim_recent_locked(struct store_user *u, uint64_t mailbox_id,
						  uint32_t recent_uid, uint32_t uidnext,
						  uint32_t *first_uid_r, uint32_t *end_uid_r,
						  const char **error_r);
/* What UPDATE ... RETURNING does, without the temporary table SQLite runs
 * such a statement through (about three times the work): update, with
 * ?1 = id and ?2 = amount, then read, with ?1 = id, one integer back.
 * As store_db_int: 1 row, 0 none, -1 error (*err_r set). */
int store_db_update_read(struct store_user *u, const char *update_sql, const char *read_sql,
			 int64_t id, int64_t amount, int64_t *value_r, enum store_error *err_r,
			 const char **error_r);
/* Steps a bound statement whose column 0 is a UID and resets it:
 * the UIDs in row order, from a (expected: a size hint, 0 if unknown).
 * what names the query in the log on failure. */
enum store_error store_db_uids(struct store_user *u, sqlite3_stmt *st, size_t expected,
			       struct arena *a, const char *what, uint32_t **uids_r,
			       size_t *count_r, const char **error_r);
/* Binds text that may be NULL (binds SQL NULL then). */
void store_db_bind_text(sqlite3_stmt *st, int col, const char *text);
/* Column text copied into a (NULL for SQL NULL). */
const char *store_db_column_str(struct arena *a, sqlite3_stmt *st, int col);

/* ---- Mailbox rows (store-mailbox.c) ---- */

struct store_mailbox_row {
	uint64_t id;
	char objectid[STORE_OBJECTID_SIZE];
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	uint32_t messages, unseen, deleted;
	uint64_t bytes;
	unsigned special_use;
	bool noselect;
	uint64_t generation;
	uint32_t recent_uid;
	uint64_t expunge_floor;
	uint64_t deleted_bytes;
};

/* 1 found, 0 not found, -1 error (*err_r set). */
int store_mailbox_row_by_id(struct store_user *u, uint64_t id,
			    struct store_mailbox_row *row_r,
			    enum store_error *err_r, const char **error_r);
int store_mailbox_row_by_name(struct store_user *u, const char *name,
			      struct store_mailbox_row *row_r,
			      enum store_error *err_r, const char **error_r);
/* Inside a write transaction: a new MODSEQ for the mailbox. */
enum store_error store_mailbox_next_modseq(struct store_user *u,
					   uint64_t mailbox_id,
					   uint64_t *modseq_r,
					   const char **error_r);
/* Inside a write transaction: reserves count UIDs, returns the first. */
enum store_error store_mailbox_reserve_uids(struct store_user *u,
					    uint64_t mailbox_id, uint32_t count,
					    uint32_t *first_uid_r,
					    const char **error_r);
/* Inside a write transaction: creates a selectable mailbox row named name
 * (already normalised, parents already present). */
enum store_error store_mailbox_insert(struct store_user *u, const char *name,
				      unsigned special_use, uint64_t *id_r,
				      const char **error_r);
/* Inside a write transaction: creates missing superior names of name. */
enum store_error store_mailbox_create_parents(struct store_user *u,
					      const char *name,
					      const char **error_r);
/* Inside a write transaction: records keywords as known in the mailbox. */
enum store_error store_mailbox_add_keywords(struct store_user *u,
					    uint64_t mailbox_id,
					    const char *keywords,
					    const char **error_r);

/* ---- Messages (store-message.c) ---- */

/* Inside a write transaction: deletes the mailbox's messages whose UIDs are
 * listed, logs them as expunged with modseq (log = false for a mailbox that
 * goes away), and drops email rows nothing references any more, adding their
 * hashes to *hashes_r (arena array, *hash_count_r entries) for
 * store_blobs_release() after COMMIT. */
enum store_error store_msg_delete_rows(struct store_user *u,
				       uint64_t mailbox_id,
				       const uint32_t *uids, size_t count,
				       uint64_t modseq, bool log,
				       struct arena *a, const char ***hashes_r,
				       size_t *hash_count_r,
				       const char **error_r);
/* Splits a stored keyword string ("kw1 kw2") into an array from a. */
void store_keywords_split(struct arena *a, const char *s,
			  const char ***keywords_r, size_t *count_r);
/* Every UID of the mailbox (ascending, from a). */
enum store_error store_msg_all_uids(struct store_user *u, uint64_t mailbox_id,
				    struct arena *a, uint32_t **uids_r,
				    size_t *count_r, const char **error_r);

/* ---- Quota and import ledger (store-quota.c) ---- */

/* Inside a write transaction: OVERQUOTA when adding add_bytes in
 * add_messages messages would exceed a limit (store_quota_check's rule). */
enum store_error store_quota_need_room(struct store_user *u, uint64_t add_bytes,
				       uint64_t add_messages, const char **error_r);
/* Inside a write transaction: records key as imported into mailbox_id/uid. */
enum store_error store_import_record(struct store_user *u, const char *key,
				     uint64_t mailbox_id, uint32_t uid,
				     const char **error_r);

/* ---- Blobs (store-blob.c) ---- */

/* New files in tmp/ are spread over this many subdirectories, taken in
 * turn (store-blob.c says why). */
#define STORE_TMP_SPREAD 256

/* users/<h>/<user>/blobs/<xx>/<hash> (heap). */
char *store_blob_path(const struct store_user *u, const char *hash);
/* Inside the write transaction that will reference it: makes the blob
 * present and durable in u's blobs/ (link from tmp, or reuse an existing
 * file with that hash). */
enum store_error store_blob_publish(struct store_user *u,
				    const struct store_blob *blob,
				    const char **error_r);
/* store_blobs_release's work, on u's connection, for a store whose blobs/
 * and tmp/ are given (the sync job's own connection has neither). */
void store_blobs_release_in(struct store_user *u, const char *blobs_dir, const char *tmp_dir,
			    const char *const *hashes, size_t count);
/* -1 error (*err_r set), 0 no email row has hash, 1 one has. */
int store_blob_referenced(struct store_user *u, const char *hash,
			  enum store_error *err_r, const char **error_r);
/* fsync a directory. */
bool store_fsync_dir(const char *path, const char **error_r);
/* mkdir -p for dir (mode 0700); true if it exists afterwards. */
bool store_mkdirs(const char *dir, const char **error_r);

/* Random OBJECTID: prefix letter + 24 hex digits. */
void store_objectid_new(char prefix, char out[STORE_OBJECTID_SIZE]);

/* Lowercase hex of len bytes into out (2*len+1). */
void store_hex(const unsigned char *data, size_t len, char *out);

#endif
