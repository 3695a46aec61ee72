#ifndef PETREL_STORE_H
#define PETREL_STORE_H

/* The mail store: the only door into storage (DESIGN §4). Command handlers
 * call these functions; nothing above this layer touches SQLite or files, and
 * nothing here writes protocol bytes.
 *
 * Layout under data_dir:
 *   tmp/                           blobs being written (same file system as
 *                                  users/, so link(2) can publish them) and
 *                                  expunged blobs about to be unlinked
 *   users/<h>/<user>/mail.db       one SQLite database per user (WAL)
 *   users/<h>/<user>/blobs/<xx>/<sha256-hex>
 *                                  one file per distinct message body; <h> is
 *                                  the first two hex digits of SHA-256(user),
 *                                  <xx> the first two hex digits of the blob's
 *                                  own hash (256 shards per user)
 *
 * A message body is stored exactly as received with line endings normalised
 * to CRLF, so RFC822.SIZE is the file size and BODY[] is the file.
 *
 * Durability: a blob is fsync'd in tmp/, hard-linked into blobs/ and the
 * directory fsync'd inside the write transaction that references it, before
 * COMMIT. Databases run WAL with synchronous=FULL, so a function that returns
 * STORE_OK has a commit that survives power loss (WAL+NORMAL may lose the last
 * commits). A crash leaves at worst an unreferenced blob, which
 * store_sweep_orphans() removes.
 *
 * Threads: a struct store_user belongs to one thread at a time; open one
 * handle per thread (or use a per-thread struct store_cache). Several handles
 * on the same user, in threads or processes, see each other's committed
 * changes; writers serialise with BEGIN IMMEDIATE and a busy timeout.
 *
 * Errors: functions return enum store_error. On failure *error_r (when
 * error_r is not NULL) points to a human-readable message in a thread-local
 * buffer, valid until the next store call in the same thread. STORE_ERR_INTERNAL
 * details (SQLite and errno text) are logged with lib/log.h; the message says
 * only that an internal error happened.
 *
 * Memory: results that hold strings or arrays take a struct arena *a and are
 * allocated from it (they live until the arena is reset) unless stated
 * otherwise. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

enum store_error {
	STORE_OK = 0,
	STORE_ERR_NONEXISTENT,   /* mailbox (or user store) does not exist */
	STORE_ERR_ALREADYEXISTS, /* CREATE/RENAME target exists */
	STORE_ERR_HASCHILDREN,   /* RFC 5530: delete of a \Noselect with children */
	STORE_ERR_NOPERM,        /* not allowed (e.g. file permissions) */
	STORE_ERR_OVERQUOTA,     /* a QUOTA limit (RFC 9208) would be exceeded */
	STORE_ERR_TOOBIG,        /* message larger than the writer's limit */
	STORE_ERR_CANNOT,        /* operation can never succeed (DELETE INBOX,
				  * RENAME into own child, SELECT \Noselect) */
	STORE_ERR_INUSE,         /* database busy beyond the busy timeout */
	STORE_ERR_LIMIT,         /* a store limit was reached (UIDs exhausted) */
	STORE_ERR_INVALID,       /* bad name, keyword or argument */
	STORE_ERR_INTERNAL,      /* I/O or database failure; logged */
};

/* "OK", "NONEXISTENT", "ALREADYEXISTS", ...: stable names for logs and
 * response-code mapping. Never NULL. */
const char *store_error_name(enum store_error err);

/* ---- System flags ------------------------------------------------------ */

/* \Recent is not a stored flag: see store_mailbox_claim_recent(). */
#define STORE_FLAG_SEEN     (1u << 0)
#define STORE_FLAG_ANSWERED (1u << 1)
#define STORE_FLAG_FLAGGED  (1u << 2)
#define STORE_FLAG_DELETED  (1u << 3)
#define STORE_FLAG_DRAFT    (1u << 4)
#define STORE_FLAGS_ALL     0x1fu

/* ---- SPECIAL-USE (RFC 6154) --------------------------------------------- */

#define STORE_SPECIAL_ALL     (1u << 0)
#define STORE_SPECIAL_ARCHIVE (1u << 1)
#define STORE_SPECIAL_DRAFTS  (1u << 2)
#define STORE_SPECIAL_FLAGGED (1u << 3)
#define STORE_SPECIAL_JUNK    (1u << 4)
#define STORE_SPECIAL_SENT    (1u << 5)
#define STORE_SPECIAL_TRASH   (1u << 6)
#define STORE_SPECIAL_MASK    0x7fu

/* "\\Drafts" etc. for exactly one bit; NULL for anything else. */
const char *store_special_use_name(unsigned bit);
/* Parses "\\Drafts" (case-insensitive) into its bit. */
bool store_special_use_parse(const char *s, unsigned *bit_r);

/* ---- Names ------------------------------------------------------------- */

#define STORE_HIERARCHY_SEP '/'
/* OBJECTID (RFC 8474): 1 letter + 24 hex digits + NUL. */
#define STORE_OBJECTID_SIZE 26
#define STORE_HASH_HEX_SIZE 65 /* 64 hex digits + NUL */

/* Checks a UTF-8 mailbox name: not empty, no NUL or control characters
 * (< 0x20, 0x7f), no leading or trailing '/', no empty component, no "." or
 * ".." component, valid UTF-8. Length and depth limits are the caller's. */
bool store_mailbox_name_valid(const char *name, const char **error_r);

/* Checks a user name usable as a directory: 1..255 bytes, no '/', no control
 * characters, not "." or "..". */
bool store_user_name_valid(const char *user, const char **error_r);

/* ---- Users ------------------------------------------------------------- */

struct store_user;

/* Opens (creating on first access) the store of user under data_dir. A new
 * store gets INBOX plus Drafts, Sent, Trash, Junk and Archive with their
 * SPECIAL-USE attributes, all subscribed. Opening an existing store is cheap:
 * open the database, check PRAGMA user_version, migrate if older. Errors:
 * INVALID (bad user name), INTERNAL. *user_r is set only on STORE_OK. */
enum store_error store_user_open(const char *data_dir, const char *user,
				 struct store_user **user_r,
				 const char **error_r);
/* Closes the handle and sets *u to NULL. NULL-safe. */
void store_user_close(struct store_user **u);
/* The user name / directory the handle was opened for (owned by u). */
const char *store_user_name(const struct store_user *u);
const char *store_user_dir(const struct store_user *u);

/* Removes the user's whole store (database and blobs) from disk. Handles
 * still open elsewhere keep working on unlinked files until closed; the
 * caller (petrel user del) stops sessions first. NONEXISTENT if there is no
 * store. */
enum store_error store_user_delete(const char *data_dir, const char *user,
				   const char **error_r);

/* Exact totals over all mailboxes, maintained by every APPEND/COPY/MOVE/
 * EXPUNGE/DELETE (for QUOTA, RFC 9208 STORAGE and MESSAGE resources). */
enum store_error store_user_usage(struct store_user *u, uint64_t *bytes_r,
				  uint64_t *messages_r, const char **error_r);

/* ---- Quota (RFC 9208) --------------------------------------------------- */

/* One quota root per user (the protocol's root ""), over all of the user's
 * mailboxes. Usage is what store_user_usage counts: STORAGE is the sum of
 * RFC822.SIZE of every message in every mailbox (a message copied to two
 * mailboxes counts twice, although its blob is stored once; \Deleted
 * messages count until they are expunged), MESSAGE the number of messages.
 * Limits are set by the administrator only (petrel user quota). */
struct store_quota {
	uint64_t storage_bytes;     /* usage in bytes (RFC: KiB, rounded up) */
	uint64_t messages;
	bool has_storage_limit;
	uint64_t storage_limit_kib; /* STORAGE limit in units of 1024 octets */
	bool has_message_limit;
	uint64_t message_limit;
};

/* The largest STORAGE limit accepted (its byte count fits in int64). */
#define STORE_QUOTA_STORAGE_KIB_MAX (INT64_MAX / 1024)

/* Usage and limits, read in one transaction. */
enum store_error store_quota_get(struct store_user *u,
				 struct store_quota *quota_r,
				 const char **error_r);

/* Replaces both limits with those in limits (the usage fields are
 * ignored). Errors: INVALID (storage limit above
 * STORE_QUOTA_STORAGE_KIB_MAX or message limit above INT64_MAX). */
enum store_error store_quota_set(struct store_user *u,
				 const struct store_quota *limits,
				 const char **error_r);

/* Would adding extra_bytes in extra_messages messages put the user over a
 * limit? STORE_OK if not, OVERQUOTA if so (for LMTP and petrel deliver,
 * before they accept a message; the store enforces the same rule again
 * inside every APPEND, COPY and MOVE transaction, so a check that passes
 * here can still fail there when another session fills the quota
 * meanwhile). The rule: an operation that increases a resource fails when
 * the result exceeds its limit; one that does not increase it (a MOVE, an
 * EXPUNGE) never fails for quota, even while the user is over a limit. */
enum store_error store_quota_check(struct store_user *u, uint64_t extra_bytes,
				   uint64_t extra_messages, const char **error_r);

/* ---- Import ledger (petrel import) ------------------------------------- */

/* True in *known_r when a message with this ledger key was stored by an
 * earlier import (see store_append.import_key). */
enum store_error store_import_known(struct store_user *u, const char *key,
				   bool *known_r, const char **error_r);

/* A per-thread bounded LRU cache of open handles (DESIGN §3). The handle
 * returned by store_cache_get is owned by the cache and stays valid until the
 * next store_cache_get on the same cache or store_cache_destroy; callers get
 * it again for each command step rather than keeping it. Not thread-safe:
 * one cache per worker thread. */
struct store_cache;
struct store_cache *store_cache_new(const char *data_dir, unsigned max_handles);
enum store_error store_cache_get(struct store_cache *cache, const char *user,
				 struct store_user **user_r,
				 const char **error_r);
/* Closes every handle and sets *cache to NULL. NULL-safe. */
void store_cache_destroy(struct store_cache **cache);

/* ---- Start-up maintenance ---------------------------------------------- */

/* Removes files in data_dir/tmp/ whose last change is older than min_age_s
 * seconds (0: all; only safe while no writer runs). *removed_r may be NULL. */
enum store_error store_tmp_clean(const char *data_dir, unsigned min_age_s,
				 unsigned *removed_r, const char **error_r);
/* Removes blob files no message references. Runs under the database write
 * lock, so it never races an APPEND linking the same blob; files changed in
 * the last min_age_s seconds are kept anyway. *removed_r may be NULL. */
enum store_error store_sweep_orphans(struct store_user *u, unsigned min_age_s,
				     unsigned *removed_r, const char **error_r);

/* ---- Blobs: streaming message bodies ------------------------------------ */

struct store_blob_writer;
struct store_blob;

/* Starts a body in data_dir/tmp/. max_size limits the normalised size
 * (0: no limit); exceeding it makes _write return TOOBIG. */
enum store_error store_blob_writer_begin(const char *data_dir,
					 uint64_t max_size,
					 struct store_blob_writer **writer_r,
					 const char **error_r);
/* Appends a chunk of the raw message. Bare LF and bare CR become CRLF; a CR
 * at the end of one chunk and LF at the start of the next stay one CRLF.
 * SHA-256 is computed over the normalised bytes. After an error the writer
 * can only be aborted. */
enum store_error store_blob_writer_write(struct store_blob_writer *w,
					 const void *data, size_t len,
					 const char **error_r);
/* Ends the body: fsyncs the tmp file and returns the blob (still in tmp/,
 * ready to be appended to any number of users' mailboxes). *w is freed and
 * set to NULL whatever the result. */
enum store_error store_blob_writer_finish(struct store_blob_writer **w,
					  struct store_blob **blob_r,
					  const char **error_r);
/* Discards a body being written: unlinks the tmp file, frees, *w = NULL.
 * NULL-safe. */
void store_blob_writer_abort(struct store_blob_writer **w);

/* Opens an anonymous scratch file in data_dir/tmp (O_TMPFILE: it vanishes
 * when closed, even after a crash), for protocol layers that must park a
 * large upload on disk before it becomes a message (IMAP literals). The
 * descriptor is the caller's to close. */
enum store_error store_tmp_file_open(const char *data_dir, int *fd_r, const char **error_r);

/* Reads an existing file through a writer (normalising line endings), for
 * petrel import/deliver. */
enum store_error store_blob_import(const char *data_dir, const char *path,
				   uint64_t max_size, struct store_blob **blob_r,
				   const char **error_r);

/* Hex SHA-256 of the normalised body (owned by b). */
const char *store_blob_hash(const struct store_blob *b);
/* Size in bytes of the normalised body (= RFC822.SIZE). */
uint64_t store_blob_size(const struct store_blob *b);
/* Unlinks the tmp file and frees; *b = NULL. Call after the appends that use
 * the blob have returned (they have linked it into place). NULL-safe. */
void store_blob_free(struct store_blob **b);

/* ---- Mailboxes ---------------------------------------------------------- */

/* Mailbox names: UTF-8, '/' delimiter. "INBOX" is case-insensitive as a whole
 * name and as the first component ("inbox/x" is "INBOX/x"); every other name
 * is case-sensitive. Names passed in are normalised that way. */

struct store_mailbox_info {
	uint64_t id;          /* stable across RENAME, never reused */
	const char *name;
	char objectid[STORE_OBJECTID_SIZE]; /* MAILBOXID (RFC 8474) */
	unsigned special_use; /* STORE_SPECIAL_* bits */
	bool noselect;        /* exists only as a parent (RFC 9051 6.3.4) */
	bool has_children;
	bool subscribed;
};

/* Every mailbox, sorted by name (byte order, so parents precede children),
 * INBOX included. Allocated from a. */
enum store_error store_mailbox_list(struct store_user *u, struct arena *a,
				    struct store_mailbox_info **list_r,
				    size_t *count_r, const char **error_r);

/* Every subscribed name, sorted, including names that no longer exist
 * (RFC 9051 6.3.7). Allocated from a. */
enum store_error store_subscription_list(struct store_user *u,
					 struct arena *a, const char ***names_r,
					 size_t *count_r, const char **error_r);

struct store_mailbox_status {
	uint64_t id;
	char objectid[STORE_OBJECTID_SIZE];
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	uint32_t messages;
	uint32_t recent;      /* messages not yet claimed by any session */
	uint32_t unseen;      /* messages without \Seen */
	uint32_t deleted;     /* messages with \Deleted */
	uint64_t size;        /* sum of RFC822.SIZE (STATUS SIZE, RFC 8438) */
	uint64_t deleted_size; /* the same over messages with \Deleted
				* (STATUS DELETED-STORAGE, RFC 9208 4.1.4) */
	unsigned special_use;
	bool noselect;
	/* Bumped by every change to the mailbox row that is not a message
	 * change (rename, special-use). Together with highestmodseq and
	 * uidnext it tells a session cheaply whether anything changed. */
	uint64_t generation;
};

/* Status by name or by id. NONEXISTENT if there is no such mailbox.
 * A \Noselect mailbox is returned with noselect set (callers refuse SELECT
 * and STATUS on it). One row read plus a range count for recent: O(1) in
 * the number of messages otherwise. */
enum store_error store_mailbox_status(struct store_user *u, const char *name,
				      struct store_mailbox_status *status_r,
				      const char **error_r);
enum store_error store_mailbox_status_by_id(struct store_user *u,
					    uint64_t mailbox_id,
					    struct store_mailbox_status *status_r,
					    const char **error_r);

/* The sequence number and UID of the first message without \Seen (both 0
 * when every message is seen), for the rev1 SELECT "UNSEEN" code. */
enum store_error store_mailbox_first_unseen(struct store_user *u,
					    uint64_t mailbox_id,
					    uint32_t *seq_r, uint32_t *uid_r,
					    const char **error_r);

/* Creates name and any missing superior names (RFC 9051 6.3.4), with the
 * given SPECIAL-USE bits (CREATE ... USE, RFC 6154 §3) on the last level.
 * Re-creating a name that exists only as \Noselect makes it selectable with
 * a fresh UIDVALIDITY. Errors: INVALID, ALREADYEXISTS. *mailbox_id_r may be
 * NULL. Every new mailbox gets a UIDVALIDITY no mailbox of this user ever
 * had (a per-user counter that never goes backwards, seeded from time). */
enum store_error store_mailbox_create(struct store_user *u, const char *name,
				      unsigned special_use,
				      uint64_t *mailbox_id_r,
				      const char **error_r);

/* Deletes name and expunges its messages. With children it stays as
 * \Noselect; without children it is removed, and so are \Noselect
 * ancestors left without children. Subscriptions are not touched
 * (RFC 9051 6.3.7). Errors: NONEXISTENT, CANNOT (INBOX), HASCHILDREN
 * (already \Noselect with children). */
enum store_error store_mailbox_delete(struct store_user *u, const char *name,
				      const char **error_r);

/* Renames old_name and its children (RFC 9051 6.3.6); creates missing
 * superior names of new_name. Mailbox ids, UIDVALIDITY and MAILBOXID move
 * with the mailbox. Renaming INBOX moves its messages to a new mailbox
 * (new id, new UIDVALIDITY, same UIDs) and leaves INBOX empty with its
 * children in place. Subscriptions are not touched. Errors: INVALID,
 * NONEXISTENT, ALREADYEXISTS, CANNOT (into itself or its own child). */
enum store_error store_mailbox_rename(struct store_user *u,
				      const char *old_name,
				      const char *new_name,
				      const char **error_r);

/* Adds or removes name in the subscription list; name need not exist.
 * Idempotent. Errors: INVALID. */
enum store_error store_mailbox_subscribe(struct store_user *u,
					 const char *name, bool subscribe,
					 const char **error_r);

/* Replaces the mailbox's SPECIAL-USE bits (SETMETADATA /private/specialuse,
 * RFC 6154 §3). Errors: NONEXISTENT, INVALID (unknown bits or bad name),
 * CANNOT (\Noselect). */
enum store_error store_mailbox_set_special_use(struct store_user *u,
					       const char *name,
					       unsigned special_use,
					       const char **error_r);

/* Every keyword ever set on a message of the mailbox, for FLAGS and
 * PERMANENTFLAGS. Allocated from a. */
enum store_error store_mailbox_keywords(struct store_user *u,
					uint64_t mailbox_id, struct arena *a,
					const char ***keywords_r,
					size_t *count_r, const char **error_r);

/* \Recent (RFC 3501 2.3.2): moves the mailbox's recent watermark to UIDNEXT
 * atomically and returns the UIDs claimed by this session:
 * [*first_uid_r, *end_uid_r). Each UID is claimed by exactly one caller. A
 * read-write SELECT calls it once, and again when the session learns of new
 * messages; EXAMINE never does. */
enum store_error store_mailbox_claim_recent(struct store_user *u,
					    uint64_t mailbox_id,
					    uint32_t *first_uid_r,
					    uint32_t *end_uid_r,
					    const char **error_r);

/* ---- A session's view of a mailbox -------------------------------------- */

/* The compact snapshot a selected session keeps: UIDs ascending with their
 * system flags and MODSEQ, read in one transaction together with the
 * mailbox's counters. 100,000 messages take 1.6 MB. Heap-allocated; free
 * with store_view_free. */
struct store_view {
	uint64_t mailbox_id;
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	uint64_t generation;
	uint32_t count;
	uint32_t *uids;
	uint32_t *flags;    /* STORE_FLAG_* */
	uint64_t *modseqs;
};

/* Errors: NONEXISTENT, CANNOT (\Noselect). */
enum store_error store_view_load(struct store_user *u, uint64_t mailbox_id,
				 struct store_view *view_r,
				 const char **error_r);
/* Frees the arrays and zeroes the struct. */
void store_view_free(struct store_view *view);

/* ---- Messages ----------------------------------------------------------- */

/* A UID range, first <= last; arrays of ranges need not be sorted and may
 * overlap. Use last = UINT32_MAX for "*". */
struct store_uid_range {
	uint32_t first;
	uint32_t last;
};

/* What the caller parsed at delivery (the MIME layer's output). Every field
 * is optional: NULL / has_sent_date false means unknown. The store keeps
 * these once per distinct body, so COPY and duplicate deliveries share them;
 * the first delivery's values win. */
struct store_msg_meta {
	const char *envelope;      /* ENVELOPE text as sent to clients */
	const char *bodystructure; /* BODYSTRUCTURE (extensible) text */
	const char *body;          /* BODY (non-extensible) text */
	bool has_sent_date;
	int64_t sent_date;         /* Date: header, Unix seconds (SORT DATE) */
	const char *from;          /* sort/search keys, as the caller wants */
	const char *to;
	const char *cc;
	const char *subject;       /* base subject (RFC 5256) or raw */
	const char *message_id;
	const char *in_reply_to;
	const char *references;
	const char *header_text;   /* decoded headers for full-text search */
	const char *body_text;     /* decoded text parts for full-text search */
};

struct store_append {
	struct store_blob *blob;   /* from store_blob_writer_finish; not freed */
	uint32_t flags;            /* STORE_FLAG_* */
	const char *const *keywords;
	size_t keyword_count;
	int64_t internal_date;     /* Unix seconds */
	int tz_offset_min;         /* offset given with it, minutes east */
	const struct store_msg_meta *meta; /* may be NULL */
	/* petrel import: recorded in the import ledger in the same
	 * transaction as the message (NULL: not recorded). */
	const char *import_key;
};

/* Appends count messages to the mailbox in one transaction (MULTIAPPEND,
 * RFC 3502: all or nothing). OVERQUOTA when the messages together would
 * exceed a quota limit (store_quota_check's rule); then nothing is added. uids_r (room for count) receives the UIDs
 * assigned in order; *uidvalidity_r (may be NULL) the mailbox's UIDVALIDITY
 * for APPENDUID (RFC 4315). The new messages share one new MODSEQ.
 * On failure nothing is added and blobs linked for it are released again.
 * Errors: NONEXISTENT, CANNOT (\Noselect), INVALID (bad keyword, no blob,
 * count 0), LIMIT (UIDs exhausted), INTERNAL. */
enum store_error store_msg_append(struct store_user *u, uint64_t mailbox_id,
				  const struct store_append *msgs, size_t count,
				  uint32_t *uidvalidity_r, uint32_t *uids_r,
				  const char **error_r);

/* Convenience for the usual case: append to a mailbox by name (INBOX for
 * LMTP). *uid_r and *uidvalidity_r may be NULL. */
enum store_error store_msg_append_by_name(struct store_user *u,
					  const char *mailbox,
					  const struct store_append *msg,
					  uint32_t *uidvalidity_r,
					  uint32_t *uid_r,
					  const char **error_r);

#define STORE_MSG_WANT_META (1u << 0) /* envelope, bodystructure, keys */
#define STORE_MSG_WANT_TEXT (1u << 1) /* header_text, body_text (large) */

struct store_msg {
	uint32_t uid;
	uint32_t flags;
	const char **keywords;
	size_t keyword_count;
	uint64_t modseq;
	uint64_t size;
	int64_t internal_date;
	int tz_offset_min;
	int64_t save_date;         /* SAVEDATE (RFC 8514) */
	char hash[STORE_HASH_HEX_SIZE];
	char emailid[STORE_OBJECTID_SIZE]; /* EMAILID (RFC 8474) */
	/* Only with STORE_MSG_WANT_META (header_text and body_text only with
	 * STORE_MSG_WANT_TEXT); fields are NULL when unknown. */
	struct store_msg_meta meta;
};

/* One message's metadata. Strings come from a. Errors: NONEXISTENT (no
 * such mailbox or UID). */
enum store_error store_msg_get(struct store_user *u, uint64_t mailbox_id,
			       uint32_t uid, unsigned want, struct arena *a,
			       struct store_msg *msg_r, const char **error_r);

/* The row of every message of a mailbox, ascending by UID, read in one
 * query (SEARCH on dates, sizes or keywords over a whole mailbox). Arrays
 * and strings from a. Errors: NONEXISTENT. */
struct store_msg_row {
	uint32_t uid;
	uint32_t flags;          /* STORE_FLAG_* */
	uint64_t modseq;
	uint64_t size;
	int64_t internal_date;
	int tz_offset_min;
	const char **keywords;
	size_t keyword_count;
};
enum store_error store_mailbox_rows(struct store_user *u, uint64_t mailbox_id, struct arena *a,
				    struct store_msg_row **rows_r, size_t *count_r,
				    const char **error_r);
/* The row of uid in rows (ascending, as store_mailbox_rows gives them), or
 * NULL. */
const struct store_msg_row *store_msg_row_find(const struct store_msg_row *rows, size_t count,
					       uint32_t uid);

/* Opens the message body read-only; *fd_r is the caller's to close, and
 * *size_r (may be NULL) its size. The file stays readable even if the
 * message is expunged meanwhile. Errors: NONEXISTENT, INTERNAL. */
enum store_error store_msg_open_blob(struct store_user *u,
				     uint64_t mailbox_id, uint32_t uid,
				     int *fd_r, uint64_t *size_r,
				     const char **error_r);

enum store_flag_op {
	STORE_FLAGS_REPLACE, /* FLAGS */
	STORE_FLAGS_ADD,     /* +FLAGS */
	STORE_FLAGS_REMOVE,  /* -FLAGS */
};

struct store_flag_change {
	enum store_flag_op op;
	uint32_t flags;                /* STORE_FLAG_* */
	const char *const *keywords;   /* compared case-insensitively */
	size_t keyword_count;
	/* RFC 7162 3.1.3 UNCHANGEDSINCE (0 is a valid value: every message
	 * fails). A message whose MODSEQ is greater is left alone and reported
	 * in failed. */
	bool has_unchangedsince;
	uint64_t unchangedsince;
};

struct store_msg_flags {
	uint32_t uid;
	uint32_t flags;
	const char **keywords;
	size_t keyword_count;
	uint64_t modseq;
	bool changed;       /* this call changed it (and gave it a new MODSEQ) */
};

struct store_flags_result {
	struct store_msg_flags *msgs; /* every existing UID in the set, with
				       * its state after the call, ascending */
	size_t count;
	uint32_t *failed;   /* UNCHANGEDSINCE failures (MODIFIED), ascending */
	size_t failed_count;
	uint64_t highestmodseq;
};

/* STORE: applies change to the messages in the ranges. UIDs that do not
 * exist are skipped. Messages whose flags actually change share one new
 * MODSEQ; unchanged ones keep theirs. Results from a. Errors: NONEXISTENT,
 * INVALID (keyword). */
enum store_error store_msg_set_flags(struct store_user *u, uint64_t mailbox_id,
				     const struct store_uid_range *ranges,
				     size_t range_count,
				     const struct store_flag_change *change,
				     struct arena *a,
				     struct store_flags_result *result_r,
				     const char **error_r);

/* COPYUID/MOVE result (RFC 4315 / RFC 6851): src_uids[i] became dst_uids[i],
 * src ascending. */
struct store_uid_map {
	uint32_t dst_uidvalidity;
	size_t count;
	uint32_t *src_uids;
	uint32_t *dst_uids;
};

/* COPY: new rows in dst pointing at the same blobs, same flags and keywords,
 * new UIDs, one new MODSEQ in dst. An empty set copies nothing and succeeds.
 * Arrays from a. Errors: NONEXISTENT (either mailbox), CANNOT (dst
 * \Noselect), LIMIT, OVERQUOTA (the copies would exceed a quota limit;
 * nothing is copied). */
enum store_error store_msg_copy(struct store_user *u, uint64_t src_mailbox_id,
				const struct store_uid_range *ranges,
				size_t range_count, uint64_t dst_mailbox_id,
				struct arena *a, struct store_uid_map *map_r,
				const char **error_r);

/* MOVE: COPY plus expunge of the source messages in one transaction; the
 * expunges are logged for VANISHED. map_r->src_uids are the UIDs expunged
 * from src. Moving into the same mailbox is CANNOT. Within one user a
 * move changes no usage, so it is never refused for quota. */
enum store_error store_msg_move(struct store_user *u, uint64_t src_mailbox_id,
				const struct store_uid_range *ranges,
				size_t range_count, uint64_t dst_mailbox_id,
				struct arena *a, struct store_uid_map *map_r,
				const char **error_r);

/* EXPUNGE / UID EXPUNGE (RFC 4315 2.1): removes messages with \Deleted,
 * all of them when ranges is NULL, else only those in the ranges. The
 * expunged UIDs (ascending, from a) are logged with one new MODSEQ. */
enum store_error store_msg_expunge(struct store_user *u, uint64_t mailbox_id,
				   const struct store_uid_range *ranges,
				   size_t range_count, struct arena *a,
				   uint32_t **uids_r, size_t *count_r,
				   const char **error_r);

enum store_text_field {
	STORE_TEXT_HEADERS, /* header_text */
	STORE_TEXT_BODY,    /* body_text */
	STORE_TEXT_ANY,     /* either (SEARCH TEXT) */
};

/* Full-text search through the FTS5 trigram index: UIDs (ascending, from
 * a) of the mailbox's messages whose field contains needle as a
 * case-insensitive substring. Answers only what the index can: needle must
 * be at least 3 characters (INVALID otherwise; the caller scans with
 * STORE_MSG_WANT_TEXT instead). */
enum store_error store_msg_search_text(struct store_user *u,
				       uint64_t mailbox_id,
				       enum store_text_field field,
				       const char *needle, struct arena *a,
				       uint32_t **uids_r, size_t *count_r,
				       const char **error_r);

/* ---- CONDSTORE / QRESYNC (RFC 7162) ------------------------------------- */

struct store_changes {
	uint64_t highestmodseq;
	struct store_msg_flags *changed; /* MODSEQ > since, ascending UID */
	size_t changed_count;
	uint32_t *vanished;              /* expunged with MODSEQ > since */
	size_t vanished_count;
	/* The expunge log was compacted past since: vanished may miss UIDs,
	 * so the caller answers conservatively (RFC 7162 3.2.5.1). */
	bool vanished_incomplete;
};

/* Messages changed and UIDs expunged after since_modseq. Arrays from a.
 * Errors: NONEXISTENT. */
enum store_error store_mailbox_changes(struct store_user *u,
				       uint64_t mailbox_id,
				       uint64_t since_modseq, struct arena *a,
				       struct store_changes *changes_r,
				       const char **error_r);

/* Forgets expunge-log entries with MODSEQ <= up_to_modseq; later callers
 * asking about a modseq below that get vanished_incomplete. */
enum store_error store_mailbox_compact_expunges(struct store_user *u,
						uint64_t mailbox_id,
						uint64_t up_to_modseq,
						const char **error_r);

/* ---- Change notification ------------------------------------------------ */

enum store_change_kind {
	STORE_CHANGE_APPEND,    /* new messages (APPEND, COPY, MOVE target) */
	STORE_CHANGE_FLAGS,
	STORE_CHANGE_EXPUNGE,   /* EXPUNGE, MOVE source */
	STORE_CHANGE_MAILBOXES, /* create, delete, rename, special-use */
};

struct store_change {
	const char *user;
	uint64_t mailbox_id;    /* 0 for STORE_CHANGE_MAILBOXES */
	enum store_change_kind kind;
	uint32_t uidnext;
	uint64_t highestmodseq;
};

typedef void store_change_hook_t(const struct store_change *change,
				 void *context);

/* Installs the process-wide hook called after every committed change, in
 * the thread that made it (the notification hub publishes from there).
 * change->user is valid during the call only. The hook should only hand the
 * event on (it runs inside the store call that made the change). Set it
 * before worker threads start; NULL removes it. */
void store_set_change_hook(store_change_hook_t *hook, void *context);

#endif
