#ifndef PETREL_CONFIG_H
#define PETREL_CONFIG_H

/* Petrel's configuration: built-in defaults (the embedded setup: data in
 * ./var, loopback ports, self-signed TLS), optionally overridden by an INI
 * file. Every key is documented in docs/configuration.md. The struct is
 * filled once at start-up and read-only afterwards (shared by all threads).
 *
 * INI layout (keys before any section are top-level):
 *   data_dir = PATH
 *   [server]  workers, log_level, user, max_connections,
 *             max_connections_per_address, max_connections_per_user_address
 *   [imap]    listen (repeatable; "host:port", "[v6]:port"; empty disables)
 *   [imaps]   listen (repeatable)
 *   [lmtp]    listen (repeatable; host:port or an absolute unix socket path)
 *   [tls]     cert, key
 *   [auth]    allow_plaintext, fail_delay_ms, max_failures_per_address,
 *             max_failures_per_user, failure_window, password_hash_ops,
 *             password_hash_memory
 *   [limits]  line_length, literal_size_preauth, append_size, nesting_depth,
 *             arguments, mailbox_name_length, mailbox_depth, search_size,
 *             keywords, keyword_length
 *   [timeouts] preauth, authenticated, idle_keepalive   (seconds, or 30s/5m/1h)
 *   [ctl]     socket
 *   [quota]   lmtp_overquota (temporary | permanent)
 *   [trace]   dir, max_age, literal_bytes
 *   [log]     slow_command_ms
 */

#include "lib/log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config_list {
	char **items;
	size_t count;
};

struct petrel_config {
	char *path;             /* file read, or NULL for built-in defaults */
	char *data_dir;         /* default "./var" */

	/* [server] */
	unsigned workers;        /* 0 = one per core */
	enum log_level log_level;
	char *run_user;          /* NULL: do not change user when root */
	unsigned max_connections;                  /* whole server */
	unsigned max_connections_per_address;      /* before and after login */
	unsigned max_connections_per_user_address; /* logged-in sessions */

	struct config_list imap_listen;   /* default 127.0.0.1:1143 */
	struct config_list imaps_listen;  /* default 127.0.0.1:1993 */
	struct config_list lmtp_listen;   /* default 127.0.0.1:1024 */

	/* [tls] NULL: self-signed pair made under data_dir/tls on first start */
	char *tls_cert;
	char *tls_key;

	/* [auth] */
	bool allow_plaintext;            /* LOGIN/PLAIN on plain non-loopback */
	unsigned fail_delay_ms;          /* delay before a failed-login answer */
	unsigned max_failures_per_address; /* within failure_window_s */
	unsigned max_failures_per_user;
	unsigned failure_window_s;
	/* Argon2id cost of newly stored password hashes (existing hashes keep
	 * the cost they were made with). Defaults: libsodium's INTERACTIVE
	 * limits (2 passes, 64 MiB). */
	unsigned password_hash_ops;
	size_t password_hash_memory;

	/* [limits] */
	size_t line_length;              /* one command line without literals */
	size_t literal_size_preauth;     /* any literal before login */
	uint64_t append_size;            /* APPENDLIMIT */
	unsigned nesting_depth;          /* parenthesised lists */
	unsigned arguments;              /* arguments in one command */
	unsigned mailbox_name_length;    /* bytes of UTF-8 */
	unsigned mailbox_depth;          /* hierarchy levels */
	size_t search_size;              /* bytes of a SEARCH program */
	unsigned keywords;               /* per mailbox */
	unsigned keyword_length;

	/* [timeouts], seconds */
	unsigned timeout_preauth;
	unsigned timeout_authenticated;  /* >= 30 minutes per RFC 9051 */
	unsigned idle_keepalive;

	/* [ctl] */
	char *ctl_socket;                /* default data_dir/petrel.sock */

	/* [quota] */
	/* A delivery (LMTP, petrel deliver) refused for quota: true gives a
	 * temporary failure (LMTP 452 4.2.2, exit 75) so the MTA retries,
	 * false a permanent one (552 5.2.2, exit 73). Default true. */
	bool quota_overquota_tempfail;

	/* [trace] protocol traces (docs/protocol-log.md) */
	char *trace_dir;                 /* NULL: data_dir/trace */
	unsigned trace_max_age;          /* seconds; older trace files are removed */
	size_t trace_literal_bytes;      /* literal bytes kept when a rule does not say */

	/* [log] */
	unsigned slow_command_ms;        /* log commands slower than this; 0 = off */
};

/* Fills cfg with the built-in defaults. */
void config_init_defaults(struct petrel_config *cfg);
/* Reads path over the defaults already in cfg. On failure returns false and
 * sets *error_r to a message naming the file, line and key (heap string the
 * caller frees), "FILE:LINE: [section] key: reason"; cfg may then hold some
 * of the file's values and should only be freed. */
bool config_load(struct petrel_config *cfg, const char *path, char **error_r);
/* Frees what the config owns and zeroes it. */
void config_free(struct petrel_config *cfg);

/* Splits one listen item (as validated by config_load) into host and port:
 * "127.0.0.1:143" -> "127.0.0.1", 143; "[::1]:143" -> "::1", 143 (brackets
 * removed); "*:143" -> "*" (the caller binds every address). An absolute
 * path (only accepted for [lmtp]) gives *port_r = 0 and the path as host.
 * host_r is a heap string the caller frees. Returns false on a malformed
 * item. Thread-safe (no shared state). */
bool config_listen_split(const char *item, char **host_r, unsigned *port_r);

#endif
