#include "lib/config.h"
#include "lib/buf.h"
#include "lib/config-client.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Built-in defaults. docs/configuration.md explains each choice. */
#define CONFIG_DEFAULT_DATA_DIR "./var"
#define CONFIG_DEFAULT_IMAP_LISTEN "127.0.0.1:1143"
#define CONFIG_DEFAULT_IMAPS_LISTEN "127.0.0.1:1993"
#define CONFIG_DEFAULT_LMTP_LISTEN "127.0.0.1:1024"
#define CONFIG_CTL_SOCKET_NAME "petrel.sock"
/* sizeof(((struct sockaddr_un *)0)->sun_path) - 1 on Linux. */
#define CONFIG_UNIX_PATH_MAX 107

enum config_type {
	CONFIG_TYPE_PATH,       /* char *, non-empty */
	CONFIG_TYPE_STRING,     /* char *, non-empty */
	CONFIG_TYPE_UINT,       /* unsigned, plain number */
	CONFIG_TYPE_SIZE,       /* size_t, number with K/M/G suffix */
	CONFIG_TYPE_SIZE64,     /* uint64_t, number with K/M/G suffix */
	CONFIG_TYPE_DURATION,   /* unsigned seconds, suffix s/m/h/d */
	CONFIG_TYPE_MSEC,       /* unsigned milliseconds, suffix ms/s */
	CONFIG_TYPE_BOOL,
	CONFIG_TYPE_LOG_LEVEL,
	CONFIG_TYPE_LISTEN,     /* struct config_list, host:port */
	CONFIG_TYPE_LISTEN_UNIX, /* struct config_list, host:port or /path */
	CONFIG_TYPE_UNIX_PATH,  /* char *, absolute or relative socket path */
	CONFIG_TYPE_FAILURE,    /* bool, temporary (true) / permanent (false) */
	CONFIG_TYPE_ACL,        /* char *, config_acl_parse syntax (may be empty) */
	CONFIG_TYPE_NEWS_ROOT,  /* char *, a mailbox name below "Public Folders/" */
};

struct config_key {
	const char *section;
	const char *name;
	enum config_type type;
	size_t offset;
	uint64_t min, max;      /* numeric types only */
};

#define CONFIG_KEY(sec, key, type, field, min, max) \
	{ sec, key, CONFIG_TYPE_##type, offsetof(struct petrel_config, field), min, max }

#define KIB (1024ULL)
#define MIB (1024ULL * 1024)
#define GIB (1024ULL * 1024 * 1024)

static const struct config_key config_keys[] = {
	CONFIG_KEY("", "data_dir", PATH, data_dir, 0, 0),

	CONFIG_KEY("server", "workers", UINT, workers, 0, 1024),
	CONFIG_KEY("server", "log_level", LOG_LEVEL, log_level, 0, 0),
	CONFIG_KEY("server", "user", STRING, run_user, 0, 0),
	CONFIG_KEY("server", "max_connections", UINT, max_connections, 1, 10000000),
	CONFIG_KEY("server", "max_connections_per_address", UINT,
		   max_connections_per_address, 1, 10000000),
	CONFIG_KEY("server", "max_connections_per_user_address", UINT,
		   max_connections_per_user_address, 1, 10000000),

	CONFIG_KEY("imap", "listen", LISTEN, imap_listen, 0, 0),
	CONFIG_KEY("imaps", "listen", LISTEN, imaps_listen, 0, 0),
	CONFIG_KEY("lmtp", "listen", LISTEN_UNIX, lmtp_listen, 0, 0),

	CONFIG_KEY("tls", "cert", PATH, tls_cert, 0, 0),
	CONFIG_KEY("tls", "key", PATH, tls_key, 0, 0),

	CONFIG_KEY("auth", "allow_plaintext", BOOL, allow_plaintext, 0, 0),
	CONFIG_KEY("auth", "fail_delay_ms", MSEC, fail_delay_ms, 0, 60000),
	CONFIG_KEY("auth", "max_failures_per_address", UINT,
		   max_failures_per_address, 1, 1000000),
	CONFIG_KEY("auth", "max_failures_per_user", UINT,
		   max_failures_per_user, 1, 1000000),
	CONFIG_KEY("auth", "failure_window", DURATION, failure_window_s, 1, 7 * 86400),
	CONFIG_KEY("auth", "password_hash_ops", UINT, password_hash_ops, 1, 64),
	CONFIG_KEY("auth", "password_hash_memory", SIZE, password_hash_memory,
		   8 * KIB, 4 * GIB),

	CONFIG_KEY("limits", "line_length", SIZE, line_length, 256, 64 * MIB),
	CONFIG_KEY("limits", "literal_size_preauth", SIZE, literal_size_preauth,
		   256, 64 * MIB),
	CONFIG_KEY("limits", "append_size", SIZE64, append_size, 1 * KIB,
		   1024 * GIB),
	CONFIG_KEY("limits", "nesting_depth", UINT, nesting_depth, 1, 10000),
	CONFIG_KEY("limits", "arguments", UINT, arguments, 16, 1000000),
	CONFIG_KEY("limits", "mailbox_name_length", UINT, mailbox_name_length,
		   16, 65536),
	CONFIG_KEY("limits", "mailbox_depth", UINT, mailbox_depth, 1, 1000),
	CONFIG_KEY("limits", "search_size", SIZE, search_size, 256, 64 * MIB),
	CONFIG_KEY("limits", "keywords", UINT, keywords, 0, 100000),
	CONFIG_KEY("limits", "keyword_length", UINT, keyword_length, 1, 4096),

	CONFIG_KEY("timeouts", "preauth", DURATION, timeout_preauth, 1, 86400),
	CONFIG_KEY("timeouts", "authenticated", DURATION, timeout_authenticated,
		   1, 7 * 86400),
	CONFIG_KEY("timeouts", "idle_keepalive", DURATION, idle_keepalive, 1, 86400),

	CONFIG_KEY("ctl", "socket", UNIX_PATH, ctl_socket, 0, 0),

	CONFIG_KEY("quota", "lmtp_overquota", FAILURE, quota_overquota_tempfail, 0, 0),

	CONFIG_KEY("trace", "dir", PATH, trace_dir, 0, 0),
	CONFIG_KEY("trace", "max_age", DURATION, trace_max_age, 60, 3650 * 86400),
	CONFIG_KEY("trace", "literal_bytes", SIZE, trace_literal_bytes, 0, 1 * GIB),

	CONFIG_KEY("log", "slow_command_ms", MSEC, slow_command_ms, 0, 3600 * 1000),

	CONFIG_KEY("store", "expunge_log_max_age", DURATION, store_expunge_log_max_age, 0,
		   100 * 365 * 86400U),
	CONFIG_KEY("store", "expunge_log_max_entries", UINT, store_expunge_log_max_entries, 0,
		   100000000),
	CONFIG_KEY("store", "fts_index_delay", MSEC, store_fts_index_delay_ms, 0, 86400 * 1000),

	CONFIG_KEY("public", "default_acl", ACL, public_default_acl, 0, 0),

	CONFIG_KEY("news", "root", NEWS_ROOT, news_root, 0, 0),
	CONFIG_KEY("news", "pull_interval", DURATION, news_pull_interval, 0, 7 * 86400),
	CONFIG_KEY("news", "expire", DURATION, news_expire, 0, 100 * 365 * 86400U),
	CONFIG_KEY("news", "timeout", DURATION, news_timeout, 1, 3600),
	CONFIG_KEY("news", "article_size", SIZE64, news_article_size, 1 * KIB, 1024 * GIB),
};

/* [news-server NAME] sections: one per upstream server, so their keys are
 * not in config_keys (which has one field per key). */
#define CONFIG_NEWS_SERVER_SECTION "news-server "
/* The IMAP namespace of public folders; [news] root must lie below it. */
#define CONFIG_PUBLIC_PREFIX "Public Folders/"

/* State of one config_load(). */
struct config_parser {
	struct petrel_config *cfg;
	const char *path;
	FILE *fp;
	char *line;
	size_t line_cap;
	int lineno;
	/* The first error found by the reader or the handler. */
	char *error;
	int error_line;
	char reason[256];
	/* Lists whose first occurrence in this file has been seen. */
	const struct config_list *listed[8];
	size_t listed_count;
};

static void config_list_clear(struct config_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

static void config_list_add(struct config_list *list, const char *item)
{
	list->items = xrealloc(list->items, (list->count + 1) * sizeof(*list->items));
	list->items[list->count++] = xstrdup(item);
}

static char *config_path_join(const char *dir, const char *name)
{
	size_t len = strlen(dir);
	struct buf b = BUF_INIT;
	buf_append_str(&b, dir);
	if (len == 0 || dir[len - 1] != '/')
		buf_append_char(&b, '/');
	buf_append_str(&b, name);
	char *s = xstrdup(buf_cstr(&b));
	buf_free(&b);
	return s;
}

void config_init_defaults(struct petrel_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->data_dir = xstrdup(CONFIG_DEFAULT_DATA_DIR);

	cfg->workers = 0;
	cfg->log_level = LOG_INFO;
	cfg->run_user = NULL;
	cfg->max_connections = 100000;
	cfg->max_connections_per_address = 500;
	cfg->max_connections_per_user_address = 50;

	config_list_add(&cfg->imap_listen, CONFIG_DEFAULT_IMAP_LISTEN);
	config_list_add(&cfg->imaps_listen, CONFIG_DEFAULT_IMAPS_LISTEN);
	config_list_add(&cfg->lmtp_listen, CONFIG_DEFAULT_LMTP_LISTEN);

	cfg->allow_plaintext = false;
	cfg->fail_delay_ms = 2000;
	cfg->max_failures_per_address = 20;
	cfg->max_failures_per_user = 10;
	cfg->failure_window_s = 300;
	/* crypto_pwhash_OPSLIMIT_INTERACTIVE / MEMLIMIT_INTERACTIVE; lib/
	 * does not link libsodium, src/auth checks they match. */
	cfg->password_hash_ops = 2;
	cfg->password_hash_memory = 64 * MIB;

	cfg->line_length = 64 * KIB;
	cfg->literal_size_preauth = 8 * KIB;
	cfg->append_size = 64 * MIB;
	cfg->nesting_depth = 100;
	cfg->arguments = 1000;
	cfg->mailbox_name_length = 1024;
	cfg->mailbox_depth = 32;
	cfg->search_size = 64 * KIB;
	cfg->keywords = 1000;
	cfg->keyword_length = 256;

	cfg->timeout_preauth = 60;
	cfg->timeout_authenticated = 1800;
	cfg->idle_keepalive = 120;

	cfg->ctl_socket = config_path_join(cfg->data_dir, CONFIG_CTL_SOCKET_NAME);

	cfg->quota_overquota_tempfail = true;

	cfg->trace_dir = NULL;
	cfg->trace_max_age = 7 * 86400;
	cfg->trace_literal_bytes = 4 * KIB;
	cfg->slow_command_ms = 1000;

	/* Same values as the store's STORE_EXPUNGE_LOG_*_DEFAULT. */
	cfg->store_expunge_log_max_age = 90 * 86400;
	cfg->store_expunge_log_max_entries = 50000;
	cfg->store_fts_index_delay_ms = 1000;

	cfg->public_default_acl = xstrdup("anyone=lrs");
	cfg->news_root = xstrdup("Public Folders/News");
	cfg->news_pull_interval = 15 * 60;
	cfg->news_expire = 0;
	cfg->news_timeout = 60;
	cfg->news_article_size = 16 * MIB;
}

static void config_news_servers_free(struct petrel_config *cfg)
{
	for (size_t i = 0; i < cfg->news_server_count; i++) {
		struct config_news_server *s = &cfg->news_servers[i];
		free(s->name);
		free(s->host);
		free(s->ca_file);
		free(s->user);
		free(s->password);
		free(s->groups);
	}
	free(cfg->news_servers);
	cfg->news_servers = NULL;
	cfg->news_server_count = 0;
}

void config_free(struct petrel_config *cfg)
{
	free(cfg->path);
	free(cfg->data_dir);
	free(cfg->run_user);
	config_list_clear(&cfg->imap_listen);
	config_list_clear(&cfg->imaps_listen);
	config_list_clear(&cfg->lmtp_listen);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->ctl_socket);
	free(cfg->trace_dir);
	free(cfg->public_default_acl);
	free(cfg->news_root);
	config_news_servers_free(cfg);
	config_client_rules_free(&cfg->hide_capabilities);
	config_client_rules_free(&cfg->workarounds);
	memset(cfg, 0, sizeof(*cfg));
}

/* Parses a decimal number followed by an optional unit from units (each
 * unit: a suffix and its multiplier; "" is the bare number's unit). */
struct config_unit {
	const char *suffix;
	uint64_t mult;
};

static bool config_parse_number(const char *value, const struct config_unit *units,
				uint64_t *result_r)
{
	const char *p = value;
	uint64_t n = 0;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (n > (UINT64_MAX - d) / 10)
			return false;
		n = n * 10 + d;
	}
	for (; units->suffix != NULL; units++) {
		if (strcasecmp(p, units->suffix) == 0) {
			if (units->mult != 0 && n > UINT64_MAX / units->mult)
				return false;
			*result_r = n * units->mult;
			return true;
		}
	}
	return false;
}

static const struct config_unit config_units_plain[] = {
	{ "", 1 }, { NULL, 0 }
};
static const struct config_unit config_units_size[] = {
	{ "", 1 }, { "K", KIB }, { "M", MIB }, { "G", GIB }, { NULL, 0 }
};
static const struct config_unit config_units_duration[] = {
	{ "", 1 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 }, { NULL, 0 }
};
static const struct config_unit config_units_msec[] = {
	{ "", 1 }, { "ms", 1 }, { "s", 1000 }, { NULL, 0 }
};

static bool config_parse_bool(const char *value, bool *result_r)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*result_r = true;
			return true;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*result_r = false;
			return true;
		}
	}
	return false;
}

static bool config_port_parse(const char *s, unsigned *port_r)
{
	uint64_t port;
	if (!config_parse_number(s, config_units_plain, &port) ||
	    port == 0 || port > 65535)
		return false;
	*port_r = (unsigned)port;
	return true;
}

bool config_listen_split(const char *item, char **host_r, unsigned *port_r)
{
	if (item[0] == '/') {
		if (strlen(item) > CONFIG_UNIX_PATH_MAX)
			return false;
		*host_r = xstrdup(item);
		*port_r = 0;
		return true;
	}
	const char *host, *host_end, *port;
	if (item[0] == '[') {
		host = item + 1;
		host_end = strchr(host, ']');
		if (host_end == NULL || host_end == host || host_end[1] != ':')
			return false;
		port = host_end + 2;
	} else {
		host = item;
		host_end = strrchr(item, ':');
		if (host_end == NULL || host_end == host)
			return false;
		/* An IPv6 address must be bracketed so the port is unambiguous. */
		if (memchr(host, ':', (size_t)(host_end - host)) != NULL)
			return false;
		port = host_end + 1;
	}
	for (const char *p = host; p < host_end; p++)
		if ((unsigned char)*p <= ' ' || *p == '[' || *p == ']' || *p == '/')
			return false;
	unsigned n;
	if (!config_port_parse(port, &n))
		return false;
	*host_r = xstrndup(host, (size_t)(host_end - host));
	*port_r = n;
	return true;
}

/* ---- ACL lists ([public] default_acl) ---- */

#define CONFIG_RIGHTS_LETTERS "lrswipkxtea"

static bool config_acl_fail(char **error_r, const char *fmt, const char *what, size_t len)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, fmt, (int)len, what);
	*error_r = xstrdup(buf_cstr(&b));
	buf_free(&b);
	return false;
}

static bool config_acl_identifier_valid(const char *id, size_t len)
{
	if (len == 0 || (len == 1 && (id[0] == '-' || id[0] == '$')))
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)id[i] <= ' ' || id[i] == 0x7f)
			return false;
	return true;
}

static bool config_acl_rights_valid(const char *rights, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (strchr(CONFIG_RIGHTS_LETTERS, rights[i]) == NULL || rights[i] == '\0' ||
		    memchr(rights, rights[i], i) != NULL)
			return false;
	}
	return true;
}

bool config_acl_parse(const char *value, struct config_acl_entry **entries_r,
		      size_t *count_r, char **error_r)
{
	struct config_acl_entry *entries = NULL;
	size_t count = 0;
	const char *p = value;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		size_t len = strcspn(p, " \t");
		const char *eq = memchr(p, '=', len);
		bool ok;
		if (eq == NULL)
			ok = config_acl_fail(error_r, "expected identifier=rights, got '%.*s'", p, len);
		else if (!config_acl_identifier_valid(p, (size_t)(eq - p)))
			ok = config_acl_fail(error_r, "invalid identifier in '%.*s'", p, len);
		else if (!config_acl_rights_valid(eq + 1, len - (size_t)(eq - p) - 1))
			ok = config_acl_fail(error_r,
					     "rights must be letters from \"" CONFIG_RIGHTS_LETTERS
					     "\", each once, in '%.*s'", p, len);
		else
			ok = true;
		if (!ok) {
			config_acl_free(entries, count);
			return false;
		}
		entries = xrealloc(entries, (count + 1) * sizeof(*entries));
		entries[count].identifier = xstrndup(p, (size_t)(eq - p));
		entries[count].rights = xstrndup(eq + 1, len - (size_t)(eq - p) - 1);
		count++;
		p += len;
	}
	*entries_r = entries;
	*count_r = count;
	return true;
}

void config_acl_free(struct config_acl_entry *entries, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(entries[i].identifier);
		free(entries[i].rights);
	}
	free(entries);
}

/* ---- News ---- */

const char *config_news_public_root(const struct petrel_config *cfg)
{
	size_t len = strlen(CONFIG_PUBLIC_PREFIX);
	if (cfg->news_root == NULL || strncmp(cfg->news_root, CONFIG_PUBLIC_PREFIX, len) != 0)
		return NULL;
	return cfg->news_root + len;
}

/* The root's part below "Public Folders/" becomes a mailbox name in the
 * public store: non-empty, no empty, "." or ".." component, no control
 * character (the store checks the rest when it creates the folders). */
static bool config_news_root_valid(const char *value)
{
	size_t len = strlen(CONFIG_PUBLIC_PREFIX);
	if (strncmp(value, CONFIG_PUBLIC_PREFIX, len) != 0)
		return false;
	const char *name = value + len;
	if (*name == '\0' || *name == '/' || name[strlen(name) - 1] == '/' ||
	    strstr(name, "//") != NULL)
		return false;
	for (const char *c = name; *c != '\0'; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
		bool starts = c == name || c[-1] == '/';
		if (starts && c[0] == '.' && (c[1] == '/' || c[1] == '\0' ||
					      (c[1] == '.' && (c[2] == '/' || c[2] == '\0'))))
			return false;
	}
	return true;
}

/* Checks an ACL or news root value; the reason goes to reason. */
static bool config_check_special(enum config_type type, const char *value, char *reason,
				 size_t reason_size)
{
	if (type == CONFIG_TYPE_NEWS_ROOT) {
		if (config_news_root_valid(value))
			return true;
		snprintf(reason, reason_size,
			 "expected a folder name below \"" CONFIG_PUBLIC_PREFIX "\", got '%s'", value);
		return false;
	}
	struct config_acl_entry *entries;
	size_t count;
	char *error = NULL;
	if (!config_acl_parse(value, &entries, &count, &error)) {
		snprintf(reason, reason_size, "%s", error);
		free(error);
		return false;
	}
	config_acl_free(entries, count);
	return true;
}

static struct config_news_server *config_news_server_get(struct petrel_config *cfg,
							 const char *name, int line)
{
	for (size_t i = 0; i < cfg->news_server_count; i++)
		if (strcmp(cfg->news_servers[i].name, name) == 0)
			return &cfg->news_servers[i];
	cfg->news_servers = xrealloc(cfg->news_servers,
				     (cfg->news_server_count + 1) * sizeof(*cfg->news_servers));
	struct config_news_server *s = &cfg->news_servers[cfg->news_server_count++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	s->tls_verify = true;
	s->post = true;
	s->line = line;
	return s;
}

static bool config_news_tls_parse(const char *value, enum config_news_tls *tls_r)
{
	static const char *const names[] = { "none", "starttls", "implicit" };
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		if (strcmp(value, names[i]) == 0) {
			*tls_r = (enum config_news_tls)i;
			return true;
		}
	}
	return false;
}

/* The wildmat syntax of RFC 3977 §4.1, without its UTF-8 check: patterns
 * separated by ',' (each optionally '!'-prefixed), none empty, no '\\',
 * '[' or ']'. The news layer matches them (news/news-wildmat.h). */
static bool config_wildmat_valid(const char *value)
{
	bool pattern_empty = true;
	for (const char *c = value;; c++) {
		if (*c == ',' || *c == '\0') {
			if (pattern_empty)
				return false;
			if (*c == '\0')
				return true;
			pattern_empty = true;
			if (c[1] == '!')
				c++;
			continue;
		}
		if (c == value && *c == '!')
			continue;
		if ((unsigned char)*c <= ' ' || *c == 0x7f || strchr("\\[]!", *c) != NULL)
			return false;
		pattern_empty = false;
	}
}

/* One key of a [news-server NAME] section; the reason goes to p->reason. */
static bool config_news_server_apply(struct config_parser *p, const char *name,
				     const char *key, const char *value)
{
	struct config_news_server *s = config_news_server_get(p->cfg, name, p->lineno);
	char **text = strcmp(key, "host") == 0 ? &s->host
		: strcmp(key, "ca_file") == 0 ? &s->ca_file
		: strcmp(key, "user") == 0 ? &s->user
		: strcmp(key, "password") == 0 ? &s->password
		: strcmp(key, "groups") == 0 ? &s->groups : NULL;
	if (text != NULL) {
		if (*value == '\0') {
			snprintf(p->reason, sizeof(p->reason), "empty value");
			return false;
		}
		if (text == &s->groups && !config_wildmat_valid(value)) {
			snprintf(p->reason, sizeof(p->reason),
				 "expected a wildmat such as comp.*,!comp.lang.*, got '%s'", value);
			return false;
		}
		if ((text == &s->user || text == &s->password) && strpbrk(value, "\r\n") != NULL) {
			snprintf(p->reason, sizeof(p->reason), "line break in value");
			return false;
		}
		free(*text);
		*text = xstrdup(value);
		return true;
	}
	if (strcmp(key, "port") == 0) {
		if (config_port_parse(value, &s->port))
			return true;
		snprintf(p->reason, sizeof(p->reason), "expected a port 1-65535, got '%s'", value);
		return false;
	}
	if (strcmp(key, "tls") == 0) {
		if (config_news_tls_parse(value, &s->tls))
			return true;
		snprintf(p->reason, sizeof(p->reason),
			 "expected none, starttls or implicit, got '%s'", value);
		return false;
	}
	bool *flag = strcmp(key, "tls_verify") == 0 ? &s->tls_verify
		: strcmp(key, "post") == 0 ? &s->post : NULL;
	if (flag == NULL) {
		snprintf(p->reason, sizeof(p->reason), "unknown key");
		return false;
	}
	if (config_parse_bool(value, flag))
		return true;
	snprintf(p->reason, sizeof(p->reason),
		 "expected yes/no, true/false, on/off or 1/0, got '%s'", value);
	return false;
}

static bool config_parser_listed(struct config_parser *p, const struct config_list *list)
{
	for (size_t i = 0; i < p->listed_count; i++)
		if (p->listed[i] == list)
			return true;
	p->listed[p->listed_count++] = list;
	return false;
}

/* Applies one value; on failure writes the reason to p->reason. */
static bool config_apply(struct config_parser *p, const struct config_key *k,
			 const char *value)
{
	void *field = (char *)p->cfg + k->offset;
	const struct config_unit *units = NULL;
	uint64_t n = 0;

	switch (k->type) {
	case CONFIG_TYPE_PATH:
	case CONFIG_TYPE_STRING:
	case CONFIG_TYPE_UNIX_PATH:
		if (*value == '\0') {
			snprintf(p->reason, sizeof(p->reason), "empty value");
			return false;
		}
		if (k->type == CONFIG_TYPE_UNIX_PATH && strlen(value) > CONFIG_UNIX_PATH_MAX) {
			snprintf(p->reason, sizeof(p->reason),
				 "socket path longer than %d bytes", CONFIG_UNIX_PATH_MAX);
			return false;
		}
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return true;
	case CONFIG_TYPE_ACL:
	case CONFIG_TYPE_NEWS_ROOT:
		if (!config_check_special(k->type, value, p->reason, sizeof(p->reason)))
			return false;
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return true;
	case CONFIG_TYPE_BOOL:
		if (!config_parse_bool(value, (bool *)field)) {
			snprintf(p->reason, sizeof(p->reason),
				 "expected yes/no, true/false, on/off or 1/0, got '%s'", value);
			return false;
		}
		return true;
	case CONFIG_TYPE_FAILURE:
		if (strcmp(value, "temporary") != 0 && strcmp(value, "permanent") != 0) {
			snprintf(p->reason, sizeof(p->reason),
				 "expected temporary or permanent, got '%s'", value);
			return false;
		}
		*(bool *)field = strcmp(value, "temporary") == 0;
		return true;
	case CONFIG_TYPE_LOG_LEVEL:
		if (!log_level_parse(value, (enum log_level *)field)) {
			snprintf(p->reason, sizeof(p->reason),
				 "expected debug, info, warn or error, got '%s'", value);
			return false;
		}
		return true;
	case CONFIG_TYPE_LISTEN:
	case CONFIG_TYPE_LISTEN_UNIX: {
		struct config_list *list = field;
		if (!config_parser_listed(p, list))
			config_list_clear(list);
		if (*value == '\0') {
			/* An empty value disables the listener list. */
			config_list_clear(list);
			return true;
		}
		char *host = NULL;
		unsigned port = 0;
		bool ok = config_listen_split(value, &host, &port);
		free(host);
		if (!ok || (port == 0 && k->type != CONFIG_TYPE_LISTEN_UNIX)) {
			snprintf(p->reason, sizeof(p->reason),
				 k->type == CONFIG_TYPE_LISTEN_UNIX ?
				 "expected host:port, [ipv6]:port or an absolute socket path, got '%s'" :
				 "expected host:port or [ipv6]:port with port 1-65535, got '%s'",
				 value);
			return false;
		}
		config_list_add(list, value);
		return true;
	}
	case CONFIG_TYPE_UINT:
		units = config_units_plain;
		break;
	case CONFIG_TYPE_SIZE:
	case CONFIG_TYPE_SIZE64:
		units = config_units_size;
		break;
	case CONFIG_TYPE_DURATION:
		units = config_units_duration;
		break;
	case CONFIG_TYPE_MSEC:
		units = config_units_msec;
		break;
	}

	if (!config_parse_number(value, units, &n)) {
		const char *what =
			units == config_units_size ? "a size (number with optional K, M or G)" :
			units == config_units_duration ? "a duration (number with optional s, m, h or d)" :
			units == config_units_msec ? "milliseconds (number with optional ms or s)" :
			"a non-negative integer";
		snprintf(p->reason, sizeof(p->reason), "expected %s, got '%s'", what, value);
		return false;
	}
	if (n < k->min || n > k->max) {
		snprintf(p->reason, sizeof(p->reason),
			 "value %llu out of range %llu-%llu", (unsigned long long)n,
			 (unsigned long long)k->min, (unsigned long long)k->max);
		return false;
	}
	switch (k->type) {
	case CONFIG_TYPE_SIZE:
		*(size_t *)field = (size_t)n;
		break;
	case CONFIG_TYPE_SIZE64:
		*(uint64_t *)field = n;
		break;
	default:
		*(unsigned *)field = (unsigned)n;
		break;
	}
	return true;
}

static void config_parser_fail(struct config_parser *p, const char *section,
			       const char *name, const char *reason)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s:%d: ", p->path, p->lineno);
	if (section != NULL && *section != '\0')
		buf_printf(&b, "[%s] ", section);
	if (name != NULL)
		buf_printf(&b, "%s: ", name);
	buf_append_str(&b, reason);
	p->error = xstrdup(buf_cstr(&b));
	p->error_line = p->lineno;
	buf_free(&b);
}

/* After the whole file: every server names a host and its groups. */
static bool config_news_servers_check(struct config_parser *p)
{
	for (size_t i = 0; i < p->cfg->news_server_count; i++) {
		const struct config_news_server *s = &p->cfg->news_servers[i];
		const char *missing = s->host == NULL ? "host" : s->groups == NULL ? "groups"
			: s->user != NULL && s->password == NULL ? "password"
			: s->password != NULL && s->user == NULL ? "user" : NULL;
		if (missing == NULL)
			continue;
		struct buf section = BUF_INIT;
		buf_printf(&section, CONFIG_NEWS_SERVER_SECTION "%s", s->name);
		p->lineno = s->line;
		config_parser_fail(p, buf_cstr(&section), missing, "missing");
		buf_free(&section);
		return false;
	}
	return true;
}

static int config_handler(void *user, const char *section, const char *name,
			  const char *value)
{
	struct config_parser *p = user;
	/* Report only the first error, and stop changing cfg after it. */
	if (p->error != NULL)
		return 1;
	/* [capabilities], [workarounds]: per-client rules (config-client.c). */
	if (config_client_section(section)) {
		if (config_client_apply(p->cfg, section, name, value, p->lineno, p->reason,
					sizeof(p->reason)))
			return 1;
		config_parser_fail(p, section, name, p->reason);
		return 0;
	}
	size_t prefix_len = strlen(CONFIG_NEWS_SERVER_SECTION);
	if (strncmp(section, CONFIG_NEWS_SERVER_SECTION, prefix_len) == 0 &&
	    section[prefix_len] != '\0') {
		if (config_news_server_apply(p, section + prefix_len, name, value))
			return 1;
		config_parser_fail(p, section, name, p->reason);
		return 0;
	}

	bool section_known = false;
	for (size_t i = 0; i < sizeof(config_keys) / sizeof(*config_keys); i++) {
		const struct config_key *k = &config_keys[i];
		if (strcmp(k->section, section) != 0)
			continue;
		section_known = true;
		if (strcmp(k->name, name) != 0)
			continue;
		if (config_apply(p, k, value))
			return 1;
		config_parser_fail(p, section, name, p->reason);
		return 0;
	}
	config_parser_fail(p, section, name,
			   section_known || *section == '\0' ? "unknown key" : "unknown section");
	return 0;
}

/* fgets-style reader for inih that counts lines (so errors carry the right
 * line number whatever the line length) and removes leading blanks: inih
 * would otherwise treat an indented line as a continuation of the previous
 * value. */
static char *config_reader(char *str, int num, void *stream)
{
	struct config_parser *p = stream;
	ssize_t n = getline(&p->line, &p->line_cap, p->fp);
	if (n < 0)
		return NULL;
	p->lineno++;
	const char *s = p->line;
	while (*s == ' ' || *s == '\t')
		s++;
	size_t len = strlen(s);
	if (memchr(s, '\0', (size_t)n - (size_t)(s - p->line)) != NULL) {
		if (p->error == NULL)
			config_parser_fail(p, NULL, NULL, "NUL byte in line");
		return NULL;
	}
	if (len + 1 > (size_t)num) {
		if (p->error == NULL) {
			snprintf(p->reason, sizeof(p->reason),
				 "line longer than %d bytes", num - 2);
			config_parser_fail(p, NULL, NULL, p->reason);
		}
		return NULL;
	}
	memcpy(str, s, len + 1);
	return str;
}

bool config_load(struct petrel_config *cfg, const char *path, char **error_r)
{
	struct config_parser p;
	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	p.path = path;
	p.fp = fopen(path, "r");
	if (p.fp == NULL) {
		struct buf b = BUF_INIT;
		buf_printf(&b, "%s: cannot open: %s", path, strerror(errno));
		*error_r = xstrdup(buf_cstr(&b));
		buf_free(&b);
		return false;
	}

	/* ctl_socket follows data_dir unless it was set explicitly. */
	char *derived = config_path_join(cfg->data_dir, CONFIG_CTL_SOCKET_NAME);
	bool ctl_derived = cfg->ctl_socket == NULL || strcmp(cfg->ctl_socket, derived) == 0;
	free(derived);
	char *old_ctl = cfg->ctl_socket != NULL ? xstrdup(cfg->ctl_socket) : NULL;

	int ret = ini_parse_stream(config_reader, &p, config_handler, &p);
	fclose(p.fp);
	free(p.line);

	if (ret > 0 && (p.error == NULL || ret < p.error_line)) {
		free(p.error);
		p.lineno = ret;
		config_parser_fail(&p, NULL, NULL,
				   "syntax error: expected 'key = value' or '[section]'");
	} else if (ret < 0 && p.error == NULL) {
		p.error = xstrdup("out of memory while parsing");
	} else if (p.error == NULL) {
		config_news_servers_check(&p);
	}
	if (p.error != NULL) {
		free(old_ctl);
		*error_r = p.error;
		return false;
	}

	if (ctl_derived && (old_ctl == NULL || strcmp(old_ctl, cfg->ctl_socket) == 0)) {
		free(cfg->ctl_socket);
		cfg->ctl_socket = config_path_join(cfg->data_dir, CONFIG_CTL_SOCKET_NAME);
	}
	free(old_ctl);
	free(cfg->path);
	cfg->path = xstrdup(path);
	return true;
}
