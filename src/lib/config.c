#include "lib/config.h"
#include "lib/buf.h"
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
};

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

static int config_handler(void *user, const char *section, const char *name,
			  const char *value)
{
	struct config_parser *p = user;
	/* Report only the first error, and stop changing cfg after it. */
	if (p->error != NULL)
		return 1;

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
