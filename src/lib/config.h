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
 *   [store]   expunge_log_max_age, expunge_log_max_entries, fts_index_delay
 *   [capabilities] hide (repeatable: "CAPABILITY ... [for MATCH, ...]")
 *   [workarounds]   one key per workaround name: "MATCH, MATCH ..."
 *   [public]  default_acl
 *   [news]    root, pull_interval, expire, timeout, article_size
 *   [news-server NAME]  host, port, tls, ca_file, tls_verify, user, password,
 *             groups, post   (one section per upstream NNTP server)
 */

#include "lib/cidr.h"
#include "lib/log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config_list {
	char **items;
	size_t count;
};

/* IMAP capabilities an administrator may hide ([capabilities] hide). Only
 * the names are known here; what hiding one switches off is in
 * src/imap/imap-capability.c. Login and the base protocol (IMAP4rev1,
 * STARTTLS, LOGINDISABLED, AUTH=, SASL-IR) can never be hidden. */
enum config_cap {
	CONFIG_CAP_IMAP4REV2,
	CONFIG_CAP_CONDSTORE,
	CONFIG_CAP_ENABLE,
	CONFIG_CAP_ESEARCH,
	CONFIG_CAP_ID,
	CONFIG_CAP_IDLE,
	CONFIG_CAP_MOVE,
	CONFIG_CAP_NAMESPACE,
	CONFIG_CAP_QRESYNC,
	CONFIG_CAP_QUOTA,
	CONFIG_CAP_SEARCHRES,
	CONFIG_CAP_SORT,
	CONFIG_CAP_THREAD_ORDEREDSUBJECT,
	CONFIG_CAP_THREAD_REFERENCES,
	CONFIG_CAP_UNSELECT,
	CONFIG_CAP_WITHIN,
	CONFIG_CAP_COUNT
};

/* Named client workarounds ([workarounds]); the behaviour of each is in
 * src/imap/imap-compat.c and docs/compatibility.md. */
enum config_workaround {
	CONFIG_WORKAROUND_UPDATES_ON_POLL_ONLY,
	CONFIG_WORKAROUND_NO_UPDATES_DURING_FETCH,
	CONFIG_WORKAROUND_COUNT
};

/* The capability's wire name ("THREAD=REFERENCES"), the workaround's
 * configuration key. Static strings. */
const char *config_cap_name(enum config_cap cap);
const char *config_workaround_name(enum config_workaround w);

/* Which clients a rule is for: every condition given must hold. Patterns
 * take '*' for any run of characters and ignore ASCII case. */
struct config_client_match {
	char *user;               /* login name pattern; NULL: any */
	char *id_name;            /* RFC 2971 ID "name" pattern; NULL: any */
	char *id_version;         /* ID "version" pattern; NULL: any */
	bool has_address;
	struct cidr address;      /* the client's address, when has_address */
};

/* One match of a [capabilities] or [workarounds] line. A line with
 * several matches ("a, b") gives one rule per match, so a rule applies
 * when its match does. */
struct config_client_rule {
	uint64_t bits;            /* 1 << enum config_cap / config_workaround */
	struct config_client_match match;
	int line;                 /* where it was written, for logs */
};

struct config_client_rules {
	struct config_client_rule *items;
	size_t count;
};

/* True when m holds for a client: address as conn_remote_ip gives it,
 * user NULL before login, id_name/id_version NULL when the client sent no
 * ID (or when the caller must not look at it). A condition on something
 * unknown (NULL) does not hold. Thread-safe. */
bool config_client_match(const struct config_client_match *m, const char *address,
			 const char *user, const char *id_name, const char *id_version);

/* How Petrel talks to an upstream news server (docs/news.md). */
enum config_news_tls {
	CONFIG_NEWS_TLS_NONE,
	CONFIG_NEWS_TLS_STARTTLS,  /* RFC 4642 */
	CONFIG_NEWS_TLS_IMPLICIT,  /* TLS from the first byte (port 563) */
};

/* One [news-server NAME] section. */
struct config_news_server {
	char *name;
	char *host;
	unsigned port;             /* 0: 119, or 563 with tls = implicit */
	enum config_news_tls tls;
	char *ca_file;             /* NULL: the system's trusted certificates */
	bool tls_verify;           /* check the certificate and host name */
	char *user;                /* AUTHINFO USER/PASS (RFC 4643); NULL: none */
	char *password;
	char *groups;              /* wildmat (RFC 3977 §4) of newsgroups to pull */
	bool post;                 /* articles for its groups are posted to it */
	int line;                  /* line of its first key, for errors */
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

	/* [store] */
	/* The expunge log QRESYNC answers from keeps, per mailbox, no entry
	 * older than this (seconds) and at most this many (0: no limit). */
	unsigned store_expunge_log_max_age;
	unsigned store_expunge_log_max_entries;
	/* Pause in a user's deliveries after which their texts are indexed
	 * (ms, 0: at once; see docs/configuration.md). */
	unsigned store_fts_index_delay_ms;

	/* [capabilities] hide: capabilities switched off per user/address
	 * (never by ID: RFC 2971 §3). [workarounds]: per-client
	 * accommodations. Both empty by default. */
	struct config_client_rules hide_capabilities;
	struct config_client_rules workarounds;

	/* [public] */
	/* ACL given to each public folder Petrel creates (news folders):
	 * "identifier=rights ...", checked by config_acl_parse. */
	char *public_default_acl;        /* default "anyone=lrs" */

	/* [news] a feed of newsgroups into public folders (docs/news.md) */
	char *news_root;                 /* default "Public Folders/News" */
	unsigned news_pull_interval;     /* seconds between the daemon's pulls; 0 = none */
	unsigned news_expire;            /* seconds an article is kept; 0 = forever */
	unsigned news_timeout;           /* seconds to wait for an NNTP server */
	uint64_t news_article_size;      /* largest article stored (bytes) */
	struct config_news_server *news_servers;
	size_t news_server_count;
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

/* One entry of an ACL list such as [public] default_acl. */
struct config_acl_entry {
	char *identifier;  /* "anyone", a user, "$group", optionally '-'-prefixed */
	char *rights;      /* RFC 4314 rights letters from "lrswipkxtea" */
};

/* Parses "identifier=rights identifier=rights ..." (separated by blanks).
 * Identifiers are non-empty and hold no '=', blank or control character;
 * rights are one or more of the standard letters "lrswipkxtea" (RFC 4314
 * §2.1), each at most once. On success *entries_r is a heap array of
 * *count_r entries (free with config_acl_free; an empty value gives none).
 * On failure returns false with *error_r a heap message. Thread-safe. */
bool config_acl_parse(const char *value, struct config_acl_entry **entries_r,
		      size_t *count_r, char **error_r);
void config_acl_free(struct config_acl_entry *entries, size_t count);

/* The [news] root in the public store's own names: "Public Folders/News"
 * -> "News" (NULL when root is not below "Public Folders/"; config_load
 * refuses such a root). Points into cfg->news_root. */
const char *config_news_public_root(const struct petrel_config *cfg);

#endif
