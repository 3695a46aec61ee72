#ifndef PETREL_USERDB_H
#define PETREL_USERDB_H

/* The user database: data_dir/petrel.db (SQLite, WAL). Holds user names
 * and Argon2id password hashes (libsodium crypto_pwhash_str_alg,
 * ALG_ARGON2ID13). The file may be shared with other global tables; this
 * module owns the "users" table and the row component='users' of the
 * "schema_version" table.
 *
 * Threads: a struct userdb is a connection; use it from one thread at a
 * time. Each worker thread opens its own. Every call is one short
 * transaction; concurrent writers wait up to USERDB_BUSY_TIMEOUT_MS.
 *
 * User names (userdb_name_valid): 1 to USERDB_NAME_MAX bytes of UTF-8, no
 * control characters, no whitespace, no '/', not starting with '.' or '-'
 * ('-' marks negative rights in RFC 4314 ACLs), and not "anyone" (the RFC
 * 4314 identifier for everybody). '@' is allowed, so mail addresses can be
 * user names. Names are case-sensitive at login, but a name that differs
 * from an existing one only in ASCII case cannot be added: two accounts
 * "alice" and "Alice" would be confusing and ambiguous for delivery.
 *
 * Passwords: 1 to USERDB_PASSWORD_MAX bytes, any bytes except NUL. */

#include <stdbool.h>
#include <stddef.h>

#define USERDB_NAME_MAX 64
#define USERDB_PASSWORD_MAX 1024
#define USERDB_FILE_NAME "petrel.db"
#define USERDB_SCHEMA_VERSION 1
#define USERDB_BUSY_TIMEOUT_MS 5000
/* Bytes of an encoded hash buffer (crypto_pwhash_STRBYTES). */
#define USERDB_HASH_SIZE 128

enum userdb_result {
	USERDB_OK = 0,
	USERDB_NOT_FOUND,   /* no such user (never returned by userdb_verify) */
	USERDB_EXISTS,      /* name taken, also in another letter case */
	USERDB_INVALID,     /* invalid name or password */
	USERDB_MISMATCH,    /* userdb_verify: unknown user or wrong password */
	USERDB_BUSY,        /* database locked longer than the busy timeout */
	USERDB_ERROR,       /* internal error (I/O, corrupt database, ...) */
};

struct userdb_settings {
	/* Argon2id cost for new hashes; 0 picks libsodium's INTERACTIVE
	 * limits (2 passes over 64 MiB, about 0.1 s on one core). Verifying
	 * uses the cost recorded in each hash. */
	unsigned long long hash_ops;
	size_t hash_memory;
};

struct userdb;

/* Opens (creating when missing: data_dir with mode 0700, the database, its
 * tables) data_dir/petrel.db. On failure returns false with *error_r a heap
 * string the caller frees, and *busy_r (if not NULL) true when the failure
 * was a lock held too long. set may be NULL for the defaults. */
bool userdb_open(const char *data_dir, const struct userdb_settings *set,
		 struct userdb **db_r, char **error_r, bool *busy_r);
/* Closes db and sets *db to NULL. */
void userdb_close(struct userdb **db);

/* Checks a user name; on false *reason_r is a static message. Thread-safe. */
bool userdb_name_valid(const char *name, const char **reason_r);
/* Checks a new password (length, no NUL); same conventions. */
bool userdb_password_valid(const char *password, const char **reason_r);

/* For all functions below, *error_r is set on every result but USERDB_OK
 * to a message owned by db, valid until the next call on db. */

/* Adds a user. USERDB_INVALID, USERDB_EXISTS, USERDB_BUSY, USERDB_ERROR. */
enum userdb_result userdb_add(struct userdb *db, const char *name,
			      const char *password, const char **error_r);
/* Replaces a password. USERDB_NOT_FOUND, USERDB_INVALID, ... */
enum userdb_result userdb_set_password(struct userdb *db, const char *name,
				       const char *password, const char **error_r);
/* Deletes the user's row (not its mail: see store/). USERDB_NOT_FOUND, ... */
enum userdb_result userdb_delete(struct userdb *db, const char *name,
				 const char **error_r);
/* USERDB_OK when the user exists, USERDB_NOT_FOUND when not (for delivery
 * and administration, never for answering a login). */
enum userdb_result userdb_exists(struct userdb *db, const char *name,
				 const char **error_r);
/* All user names in byte order. *names_r is a heap array of count heap
 * strings; free with userdb_list_free. */
enum userdb_result userdb_list(struct userdb *db, char ***names_r, size_t *count_r,
			       const char **error_r);
void userdb_list_free(char **names, size_t count);

/* Makes the process-wide dummy hash that userdb_verify checks unknown
 * names against (one Argon2id hash at db's cost, ~0.1 s). userdb_verify
 * makes it on first need, which makes that one call slower; a server calls
 * this at start-up so that not even the first answer differs. hash_r may
 * be NULL. Thread-safe. */
enum userdb_result userdb_prepare_verify(struct userdb *db, char hash_r[USERDB_HASH_SIZE],
					 const char **error_r);

/* Checks a password. USERDB_OK on a match; USERDB_MISMATCH when the user
 * is unknown or the password wrong: both cases do the same Argon2id work
 * (an unknown name is checked against a dummy hash) so that neither the
 * answer nor its timing reveals whether the user exists. Also
 * USERDB_BUSY/USERDB_ERROR. Blocks for the hashing time (~0.1 s). */
enum userdb_result userdb_verify(struct userdb *db, const char *name,
				 const void *password, size_t password_len,
				 const char **error_r);

#endif
