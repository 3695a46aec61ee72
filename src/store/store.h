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
 * commits) -- except in sync-behind mode (petrel serve, see "Durability off
 * the event loop" at the end), where the caller waits for durability before it
 * acknowledges. A crash leaves at worst an unreferenced blob, which
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

/* Process-wide set-up of the storage engine, before any store or user
 * database is opened (main calls it first). */
void store_process_init(void);

/* Opens (creating on first access) the store of user under data_dir. A new
 * store gets INBOX plus Drafts, Sent, Trash, Junk and Archive with their
 * SPECIAL-USE attributes, all subscribed. Opening an existing store is cheap:
 * open the database, check PRAGMA user_version, migrate if older. Errors:
 * INVALID (bad user name), INTERNAL. *user_r is set only on STORE_OK. */
enum store_error store_user_open(const char *data_dir, const char *user,
				 struct store_user **user_r,
				 const char **error_r);
/* True when user's store has been created (by a login, a delivery or an
 * administrator): lets callers look at other users' stores without
 * creating one for a name that is not a user. */
bool store_user_exists(const char *data_dir, const char *user);
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

/* Links a finished blob into blobs_dir (store_user_blobs_dir of the user
 * it is for) and makes the entry durable, on any thread and without the
 * user's write lock, so that the append that follows finds it in place
 * and does not wait for the disk while it holds the lock. The blob stays
 * unreferenced until that append commits: an EXPUNGE meanwhile may
 * release the file (the append then links it again), a crash leaves it
 * to the orphan sweep. */
enum store_error store_blob_prelink(const char *blobs_dir, struct store_blob *blob,
				    const char **error_r);
/* The user's blobs/ directory, for store_blob_prelink (owned by u). */
const char *store_user_blobs_dir(const struct store_user *u);
/* After COMMIT, or after an append whose bodies store_blob_prelink linked
 * failed: removes blobs whose hash no email row references. They are
 * renamed into tmp/ under the write lock, so no APPEND can be linking the
 * same hash meanwhile, and unlinked after it (freeing blocks can be slow).
 * Failures are logged, not returned: a left-over file is an orphan the
 * next sweep (or tmp clean) removes. */
void store_blobs_release(struct store_user *u, const char *const *hashes,
			 size_t count);

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
	int sent_tz_min;           /* its zone, minutes east of UTC */
	const char *from;          /* sort/search keys, as the caller wants */
	const char *to;
	const char *cc;
	const char *subject;       /* base subject (RFC 5256) or raw */
	const char *message_id;
	const char *in_reply_to;
	const char *references;
	const char *header_text;   /* decoded headers for full-text search */
	const char *body_text;     /* decoded text parts for full-text search */
	/* The message's header as stored, with the blank line ending it
	 * (mime_digest's header): kept in its own row so that FETCH of
	 * header fields needs no body file. NULL when not kept. */
	const unsigned char *header;
	size_t header_len;
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
	/* News feed: the newsgroup's high-water mark moves to news_number
	 * in the same transaction as the article (NULL: not recorded). */
	const char *news_group;
	uint64_t news_number;
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

/* What store_msg_append_info reports besides the UIDs. */
struct store_append_info {
	uint32_t uidvalidity;
	uint64_t modseq;                  /* the new messages' MODSEQ */
	/* With claim_recent: the UIDs [recent_first, recent_end) taken as
	 * \Recent (store_mailbox_claim_recent) in the same transaction. */
	uint32_t recent_first, recent_end;
};

/* store_msg_append, reporting the MODSEQ too and, with claim_recent,
 * claiming \Recent for the messages nobody took yet, new ones included:
 * for a session appending to the mailbox it has selected, which is the
 * first told of them. */
enum store_error store_msg_append_info(struct store_user *u, uint64_t mailbox_id,
				       const struct store_append *msgs, size_t count,
				       bool claim_recent, struct store_append_info *info_r,
				       uint32_t *uids_r, const char **error_r);

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
#define STORE_MSG_WANT_HEADER (1u << 2) /* meta.header, when kept */

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

/* store_msg_get of every message with a UID in [uid_first, uid_last], in
 * UID order, in one query (STORE_MSG_WANT_TEXT is not supported): for a
 * FETCH of a few neighbouring messages. *msgs_r and the strings come from
 * a; UIDs without a message are left out. */
enum store_error store_msg_get_range(struct store_user *u, uint64_t mailbox_id,
				     uint32_t uid_first, uint32_t uid_last, unsigned want,
				     struct arena *a, struct store_msg **msgs_r,
				     size_t *count_r, const char **error_r);

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

/* Opens the body with hash (store_msg's hash) read-only, as
 * store_msg_open_blob does, without looking the message up again.
 * size_r may be NULL (no fstat). */
enum store_error store_blob_open(struct store_user *u, const char *hash, int *fd_r,
				 uint64_t *size_r, const char **error_r);
/* The first want bytes of the body with hash, whose size is size (the
 * message's RFC822.SIZE), read (or mapped when large, lib/filebytes) into
 * *out for file_bytes_release. The calling thread keeps the last few
 * bodies it read open, so reading the same one again costs no open. */
struct file_bytes;
enum store_error store_blob_load(struct store_user *u, const char *hash, uint64_t size,
				 uint64_t want, struct file_bytes *out, const char **error_r);
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
	/* ACL (RFC 4314 §4): system flags and keywords the caller may not
	 * change stay as they are, whatever op says. */
	uint32_t keep_flags;           /* STORE_FLAG_* */
	bool keep_keywords;
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

/* Flags a copy must not carry (RFC 4314 §4: the copier lacks the right
 * to set them in dst). NULL: copy everything. */
struct store_copy_mask {
	uint32_t drop_flags;   /* STORE_FLAG_* */
	bool drop_keywords;
};

/* COPY: new rows in dst pointing at the same blobs, same flags and keywords,
 * new UIDs, one new MODSEQ in dst. An empty set copies nothing and succeeds.
 * Arrays from a. Errors: NONEXISTENT (either mailbox), CANNOT (dst
 * \Noselect), LIMIT, OVERQUOTA (the copies would exceed a quota limit;
 * nothing is copied). */
enum store_error store_msg_copy(struct store_user *u, uint64_t src_mailbox_id,
				const struct store_uid_range *ranges,
				size_t range_count, uint64_t dst_mailbox_id,
				const struct store_copy_mask *mask,
				struct arena *a, struct store_uid_map *map_r,
				const char **error_r);

/* MOVE: COPY plus expunge of the source messages in one transaction; the
 * expunges are logged for VANISHED. map_r->src_uids are the UIDs expunged
 * from src. Moving into the same mailbox is CANNOT. Within one user a
 * move changes no usage, so it is never refused for quota. */
enum store_error store_msg_move(struct store_user *u, uint64_t src_mailbox_id,
				const struct store_uid_range *ranges,
				size_t range_count, uint64_t dst_mailbox_id,
				const struct store_copy_mask *mask,
				struct arena *a, struct store_uid_map *map_r,
				const char **error_r);

/* COPY or MOVE from src's mailbox to dst's, two different stores (a user's
 * own and another user's or the public one). Bodies are hard-linked, not
 * copied; flags (src's viewer's \Seen included), keywords, dates and
 * metadata go with them, minus what mask drops. The copies are added in
 * one transaction (all or nothing); a move then expunges the originals in
 * a second one (logged for VANISHED), so a crash in between leaves both,
 * never neither. At most STORE_ACROSS_MAX messages at once (LIMIT).
 * Errors as store_msg_copy. */
#define STORE_ACROSS_MAX 10000u
enum store_error store_msg_copy_across(struct store_user *src, uint64_t src_id,
				       const struct store_uid_range *ranges, size_t range_count,
				       struct store_user *dst, uint64_t dst_id, bool move,
				       const struct store_copy_mask *mask, struct arena *a,
				       struct store_uid_map *map_r, const char **error_r);

/* EXPUNGE / UID EXPUNGE (RFC 4315 2.1): removes messages with \Deleted,
 * all of them when ranges is NULL, else only those in the ranges. The
 * expunged UIDs (ascending, from a) are logged with one new MODSEQ. */
enum store_error store_msg_expunge(struct store_user *u, uint64_t mailbox_id,
				   const struct store_uid_range *ranges,
				   size_t range_count, struct arena *a,
				   uint32_t **uids_r, size_t *count_r,
				   const char **error_r);
/* The same, with the MODSEQ the expunge took (0 when nothing was
 * expunged) in *modseq_r. */
enum store_error store_msg_expunge_modseq(struct store_user *u, uint64_t mailbox_id,
					  const struct store_uid_range *ranges,
					  size_t range_count, struct arena *a,
					  uint32_t **uids_r, size_t *count_r,
					  uint64_t *modseq_r, const char **error_r);

enum store_text_field {
	STORE_TEXT_HEADERS, /* header_text */
	STORE_TEXT_BODY,    /* body_text */
	STORE_TEXT_ANY,     /* either (SEARCH TEXT) */
};

/* Full-text search through the FTS5 trigram index: UIDs (ascending, from
 * a) of the mailbox's messages whose field contains needle as a
 * case-insensitive substring. Answers only what the index can: needle must
 * be at least 3 characters (INVALID otherwise; the caller scans with
 * STORE_MSG_WANT_TEXT instead). The answer is a superset: the index knows
 * which trigrams a text holds but not where, so a text holding every
 * trigram of needle apart matches too, and messages whose text is not
 * indexed yet (store_fts_indexer_start) are always in it; a caller must
 * confirm each UID by scanning its text. */
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
	/* Only when vanished_incomplete: every UID of the mailbox, ascending,
	 * read in the same snapshot, so that a UID known to the caller and
	 * not in it is certainly gone. */
	uint32_t *present;
	size_t present_count;
};

/* Messages changed and UIDs expunged after since_modseq. Arrays from a.
 * Errors: NONEXISTENT. */
enum store_error store_mailbox_changes(struct store_user *u,
				       uint64_t mailbox_id,
				       uint64_t since_modseq, struct arena *a,
				       struct store_changes *changes_r,
				       const char **error_r);

/* Forgets expunge-log entries with MODSEQ <= up_to_modseq; later callers
 * asking about a modseq below that get vanished_incomplete. Every expunge
 * also trims the log by itself (store_set_expunge_log_limits). */
enum store_error store_mailbox_compact_expunges(struct store_user *u,
						uint64_t mailbox_id,
						uint64_t up_to_modseq,
						const char **error_r);

/* ---- Access control (RFC 4314) ------------------------------------------ */

/* The public folders live in a store of their own under data_dir/public/
 * (same format as a user's store, made without default mailboxes). Open it
 * with store_user_open(data_dir, STORE_PUBLIC_OWNER, ...) or through a
 * store_cache. The name cannot be a user name: user names never start
 * with '#'. */
#define STORE_PUBLIC_OWNER "#public"
bool store_user_is_public(const struct store_user *u);

/* The standard rights, one bit each, in the order of STORE_RIGHTS_CHARS. */
#define STORE_RIGHT_LOOKUP    (1u << 0)  /* l */
#define STORE_RIGHT_READ      (1u << 1)  /* r */
#define STORE_RIGHT_SEEN      (1u << 2)  /* s */
#define STORE_RIGHT_WRITE     (1u << 3)  /* w */
#define STORE_RIGHT_INSERT    (1u << 4)  /* i */
#define STORE_RIGHT_POST      (1u << 5)  /* p */
#define STORE_RIGHT_CREATE    (1u << 6)  /* k */
#define STORE_RIGHT_DELETE_MB (1u << 7)  /* x */
#define STORE_RIGHT_DELETED   (1u << 8)  /* t */
#define STORE_RIGHT_EXPUNGE   (1u << 9)  /* e */
#define STORE_RIGHT_ADMIN     (1u << 10) /* a */
#define STORE_RIGHTS_ALL      0x7ffu
#define STORE_RIGHTS_CHARS    "lrswipkxtea"

/* "lrs..." for the bits, in STORE_RIGHTS_CHARS order, into buf (room for
 * 12 bytes). Returns buf. */
char *store_rights_format(unsigned rights, char buf[12]);
/* Parses rights letters (standard ones only; no "c"/"d", no sign). False,
 * with *bad_r (may be NULL) the first letter not understood, otherwise. */
bool store_rights_parse(const char *s, unsigned *rights_r, char *bad_r);

/* RFC 4314 §3.1 mod-rights applied to current: "+rights" adds, "-rights"
 * removes, anything else replaces; the obsolete virtual rights "c" (= k)
 * and "d" (= e and t) of §2.1.1 are accepted. False, with *bad_r (may be
 * NULL) the offending character, for any other letter (upper case too). */
bool store_rights_apply(const char *mod, unsigned current, unsigned *rights_r, char *bad_r);
/* Like store_rights_format, with "c" after the letters when k is present
 * and "d" when e or t is (ACL and MYRIGHTS responses, RFC 4314 §2.1.1).
 * buf needs 14 bytes. */
char *store_rights_format_virtual(unsigned rights, char buf[14]);

/* One ACL entry as stored. identifier is a user name, "anyone", a group
 * "$name", or one of those prefixed with '-' for negative rights. */
struct store_acl_entry {
	const char *identifier;
	unsigned rights;
};

/* Who is asking: a user and the groups ("$name" identifiers, without the
 * '$' here) the administrator put them in. */
struct store_identity {
	const char *user;
	const char *const *groups;
	size_t group_count;
};

/* The stored entries of mailbox's ACL, sorted by identifier (the owner's
 * implicit full rights are not an entry: see store_acl_rights). Errors:
 * NONEXISTENT. */
enum store_error store_acl_get(struct store_user *u, const char *mailbox, struct arena *a,
			       struct store_acl_entry **entries_r, size_t *count_r,
			       const char **error_r);
/* Sets identifier's rights (replacing them; 0 removes the entry), and
 * records the identifier in the sharing index (store_share_owners).
 * Errors: NONEXISTENT, INVALID (empty identifier or unknown bits). */
enum store_error store_acl_set(struct store_user *u, const char *mailbox,
			       const char *identifier, unsigned rights, const char **error_r);
/* Removes identifier's entry (no error when there is none). */
enum store_error store_acl_delete(struct store_user *u, const char *mailbox,
				  const char *identifier, const char **error_r);

/* The rights who has on mailbox. The owner of a personal store has every
 * right on every mailbox of it, always. Everyone else (and everyone in the
 * public store) gets the union of the entries for their user name,
 * "anyone" and their groups, minus the union of the matching negative
 * entries. Errors: NONEXISTENT. */
enum store_error store_acl_rights(struct store_user *u, const char *mailbox,
				  const struct store_identity *who, unsigned *rights_r,
				  const char **error_r);
/* The same evaluation for every mailbox of the store at once (LIST):
 * rights_r[i] for list[i] of store_mailbox_list's answer. */
enum store_error store_acl_rights_list(struct store_user *u, const struct store_identity *who,
				       const struct store_mailbox_info *list, size_t count,
				       struct arena *a, unsigned **rights_r,
				       const char **error_r);

/* The sharing index (data_dir/shared.db): the owners (user names, or
 * STORE_PUBLIC_OWNER) whose ACLs name who's user, "anyone" or one of who's
 * groups, sorted. A superset: an owner may have revoked since. */
enum store_error store_share_owners(const char *data_dir, const struct store_identity *who,
				    struct arena *a, const char ***owners_r, size_t *count_r,
				    const char **error_r);

/* Groups (RFC 4314 leaves group identifiers to the implementation; ACLs
 * name them "$group"). Kept in data_dir/shared.db. Group names follow
 * store_user_name_valid. */
enum store_error store_group_add(const char *data_dir, const char *group, const char *user,
				 const char **error_r);
/* Removes user from group, or the whole group when user is NULL.
 * NONEXISTENT when there was nothing to remove. */
enum store_error store_group_remove(const char *data_dir, const char *group, const char *user,
				    const char **error_r);
/* Members of group (sorted), or every group name when group is NULL. */
enum store_error store_group_list(const char *data_dir, const char *group, struct arena *a,
				  const char ***names_r, size_t *count_r, const char **error_r);
/* The groups user belongs to, sorted. */
enum store_error store_user_groups(const char *data_dir, const char *user, struct arena *a,
				   const char ***groups_r, size_t *count_r, const char **error_r);

/* Per-user \Seen (as Exchange, Cyrus and Dovecot keep it): in mailboxes
 * of a store that is not the reader's own (another user's, or the public
 * store), \Seen is kept for each reader apart, while the other flags are
 * shared. Before working on such a store for a reader, set the reader
 * with store_user_set_viewer (NULL: the owner, who uses the shared flag);
 * from then on every function that reads or changes flags (views, rows,
 * messages, STORE, COPY source, STATUS unseen, changes since a MODSEQ,
 * SEARCH) uses the viewer's own \Seen. store_cache_get resets it to
 * NULL. A \Seen change gives the message a new MODSEQ for everyone. */
void store_user_set_viewer(struct store_user *u, const char *viewer);

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
};

typedef void store_change_hook_t(const struct store_change *change,
				 void *context);

/* Installs the process-wide hook called after every committed change, in
 * the thread that made it (the notification hub publishes from there).
 * change->user is valid during the call only. The hook should only hand the
 * event on (it runs inside the store call that made the change). Set it
 * before worker threads start; NULL removes it. */
void store_set_change_hook(store_change_hook_t *hook, void *context);

/* ---- Sort and thread keys in bulk (SORT, THREAD, SEARCH SENT*) ----------- */

/* What store_msg_sortkeys reads; a caller asks only for what it compares,
 * and the statement it runs reads only those columns. */
#define STORE_SORTKEY_ARRIVAL   (1u << 0) /* internal_date */
#define STORE_SORTKEY_SIZE      (1u << 1) /* size */
#define STORE_SORTKEY_SENT_DATE (1u << 2) /* has_sent_date, sent_date, sent_tz */
#define STORE_SORTKEY_FROM      (1u << 3)
#define STORE_SORTKEY_TO        (1u << 4)
#define STORE_SORTKEY_CC        (1u << 5)
#define STORE_SORTKEY_SUBJECT   (1u << 6)
#define STORE_SORTKEY_THREAD    (1u << 7) /* message_id, in_reply_to, references */

/* One message's keys. Fields outside the caller's want are zero/NULL;
 * strings are as store_msg_meta has them (decoded headers, raw ids), NULL
 * when the header is absent. */
struct store_sortkeys {
	uint32_t uid;              /* 0: the message is gone (expunged) */
	int64_t internal_date;
	uint64_t size;
	bool has_sent_date;
	int64_t sent_date;         /* Date: header, Unix seconds */
	/* The Date: header's zone (minutes east of UTC). Unknown for messages
	 * stored before schema version 4, which did not keep it. */
	bool has_sent_tz;
	int sent_tz_min;
	const char *from, *to, *cc, *subject;
	const char *message_id, *in_reply_to, *references;
};

/* The keys in want (STORE_SORTKEY_*) of the messages uids[0..count) of the
 * mailbox, which must be ascending: keys_r[i] (room for count) is for
 * uids[i]. One statement reads them all (one scan of the mailbox's UID
 * range, not a lookup per message). A UID with no message (expunged since
 * the caller's view was taken) gets uid 0. Strings from a. */
enum store_error store_msg_sortkeys(struct store_user *u, uint64_t mailbox_id,
				    const uint32_t *uids, size_t count, unsigned want,
				    struct arena *a, struct store_sortkeys *keys_r,
				    const char **error_r);

/* ---- News feed (src/news/, docs/news.md) -------------------------------- */

/* The feed keeps, in the public store, each newsgroup's high-water mark:
 * the highest article number of the upstream server already handled
 * (stored, copied from a cross-post, or skipped), 0 when none. */
enum store_error store_news_mark_get(struct store_user *u, const char *newsgroup,
				     uint64_t *high_r, const char **error_r);
/* Sets the mark (at most INT64_MAX; INVALID otherwise). */
enum store_error store_news_mark_set(struct store_user *u, const char *newsgroup,
				     uint64_t high, const char **error_r);

/* A message found by its Message-ID. */
struct store_news_hit {
	uint64_t mailbox_id;
	uint32_t uid;
};
/* Every message whose Message-ID header is exactly message_id (as the
 * MIME digest keeps it: unfolded, trimmed), in any mailbox, ascending by
 * mailbox and UID (array from a). Uses the emails.message_id index. */
enum store_error store_news_find(struct store_user *u, const char *message_id, struct arena *a,
				 struct store_news_hit **hits_r, size_t *count_r,
				 const char **error_r);

/* Expiry: expunges the mailbox's messages whose INTERNALDATE is before
 * `before` (Unix seconds), whatever their flags, in one transaction with
 * one new MODSEQ; the UIDs (ascending, from a) are logged for VANISHED
 * like store_msg_expunge's, and blobs nothing uses any more are removed.
 * Errors: NONEXISTENT, CANNOT (\Noselect). */
enum store_error store_news_expire(struct store_user *u, uint64_t mailbox_id, int64_t before,
				   struct arena *a, uint32_t **uids_r, size_t *count_r,
				   const char **error_r);


/* ---- Durability off the event loop ("sync-behind") ---------------------- */

/* By default a function that commits returns once the commit is durable:
 * SQLite fsyncs the WAL inside COMMIT (synchronous=FULL). An event-loop
 * server would then stall every session of a worker for each fsync. So
 * petrel serve switches the process to sync-behind (store-sync.c explains
 * why it is sound):
 *  - handles opened from then on commit with synchronous=NORMAL: COMMIT
 *    appends to the WAL and returns; the change is visible to every handle
 *    at once, but not yet durable;
 *  - every commit is noted in a per-thread ticket. Whoever acknowledges a
 *    write (an IMAP tagged OK, an LMTP 250) takes the ticket right after the
 *    store calls that made it, asks for durability, and answers only when
 *    told the commits are durable;
 *  - a pool of sync threads fdatasyncs each database's WAL; one fdatasync
 *    covers every commit made before it started, from any session of the
 *    user (group commit). The sync threads also run the checkpoints;
 *  - the change hook (store_set_change_hook) is called on a sync thread once
 *    the change is durable, not in the committing thread, so that an IDLE
 *    client is not told about a message that a power failure could take back;
 *  - blobs are still made durable before the commit that references them,
 *    and blobs of expunged messages are unlinked only after the expunge is
 *    durable (that one commit waits in the committing thread).
 * Tickets, not handles, carry this: a handle is shared by the sessions of
 * a worker, a ticket belongs to whatever ran on the thread since it was last
 * taken. A thread must therefore take its ticket before it goes back to its
 * event loop (commits nobody takes become durable with the next sync of
 * that database or a checkpoint, unacknowledged). */

/* Starts threads sync threads and switches the process to sync-behind.
 * Call before the threads that use the store start, after any handle used
 * for start-up work is closed. */
void store_sync_behind_start(unsigned threads);
/* Waits for the syncs in progress and stops the threads (handles are closed
 * by then). No-op when not started. */
void store_sync_behind_stop(void);
bool store_sync_behind_active(void);
/* A number that changes whenever a transaction commits on u's database in
 * this process (any handle, any thread), or 0 when there is none to give
 * (sync-behind off). A session that read its mailbox when the number was
 * the same has seen every change since, except changes made by other
 * processes (petrel deliver, petrel import). */
uint64_t store_user_commit_seq(const struct store_user *u);
/* Reads on u from _begin to _end see one snapshot of its database and
 * share one read transaction, which is cheaper than one per statement
 * (each takes and releases a read lock on the WAL): for a command that
 * reads many rows, such as FETCH. Nothing may write on u in between. A
 * failed _begin (logged) leaves the reads to their own transactions;
 * _end is then a no-op, and also when u was in a transaction already. */
void store_user_snapshot_begin(struct store_user *u);
void store_user_snapshot_end(struct store_user *u);
/* Before a thread that used the store in sync-behind mode exits: drops its
 * untaken ticket and waits until no sync is in progress, so that no
 * completion runs after the caller's resources are gone. */
void store_sync_thread_end(void);

/* The commits this thread made since the last take, NULL when none (always
 * NULL outside sync-behind). Owned by the caller: store_sync_request or
 * store_sync_ticket_free. */
struct store_sync_ticket;
struct store_sync_ticket *store_sync_take(void);
void store_sync_ticket_free(struct store_sync_ticket **ticket);

/* durable false: a sync failed (logged); the commits are visible but may be
 * lost on power failure, so they must not be acknowledged as saved. */
typedef void store_sync_done_t(bool durable, void *context);
/* Consumes *ticket (NULL-safe; *ticket = NULL). True when every commit in
 * it is durable already: done is not called. Otherwise done(durable,
 * context) is called exactly once, later, on a sync thread (possibly before
 * this returns): it should only hand the result to its own thread
 * (worker_post). */
bool store_sync_request(struct store_sync_ticket **ticket, store_sync_done_t *done,
			void *context);

/* ---- Expunge log limits, background full-text indexing ----------------- */

/* The expunge log QRESYNC answers VANISHED from (RFC 7162 §3.2.5.1) is
 * trimmed after every expunge: a mailbox keeps at most max_entries entries
 * and none older than max_age_s seconds (0: no such limit). Forgetting
 * raises the mailbox's expunge floor; a client asking about a MODSEQ below
 * it gets store_changes.vanished_incomplete, and the exact list of UIDs
 * that exist instead. Process-wide; set before threads start. */
#define STORE_EXPUNGE_LOG_MAX_AGE_DEFAULT (90u * 86400)
#define STORE_EXPUNGE_LOG_MAX_ENTRIES_DEFAULT 50000u
void store_set_expunge_log_limits(unsigned max_age_s, unsigned max_entries);

/* Full-text indexing off the write path. Indexing a large text in FTS5
 * takes long (a 2 MB text ~0.4 s), so APPEND and LMTP only queue a new
 * message's id (email_text_pending), and the indexer adds its text to the
 * index later. The index is a database of its own beside mail.db
 * (fts.db), written only by the indexer, so its transactions hold up no
 * delivery; it can be rebuilt from the body files (a store opened without
 * it queues every text again). Until a text is indexed,
 * store_msg_search_text counts its message as a candidate of every search
 * (callers confirm candidates by scanning, so answers stay exact) and
 * STORE_MSG_WANT_TEXT derives the text from the body file. Without the
 * indexer thread (petrel deliver, import), as many texts as a transaction
 * queued are indexed right after it commits.
 *
 * store_fts_indexer_start starts the indexer's thread, with its own
 * handles on data_dir and a lower CPU priority than the sessions': after
 * each commit that queued texts, the user is queued, and indexed once
 * their deliveries pause for delay_ms (0: at once), at the latest
 * delay_ms or a minute, whichever is longer, after the first delivery
 * waiting (texts are indexed in batches). Call it before threads that
 * append start, and store_fts_indexer_stop (which waits for the batch
 * being indexed, leaving the rest for next time) after they have stopped.
 * False (*error_r set) if the thread cannot start. */
bool store_fts_indexer_start(const char *data_dir, unsigned delay_ms, const char **error_r);
void store_fts_indexer_stop(void);
/* Queues user's waiting texts (start-up: left by a stop or a crash).
 * No-op without the indexer. */
void store_fts_indexer_enqueue(const char *user);

/* Removes the texts of deleted messages from the index, then indexes
 * waiting texts of u, oldest first: up to max_messages in all, in batches
 * of one index transaction each. *indexed_r (may be NULL) is how many
 * were done, *more_r whether texts still wait. */
enum store_error store_fts_index_step(struct store_user *u, unsigned max_messages,
				      unsigned *indexed_r, bool *more_r, const char **error_r);
/* How many texts of u wait to be indexed or removed from the index. */
enum store_error store_fts_pending_count(struct store_user *u, uint64_t *count_r,
					 const char **error_r);

#endif
