#include "test-common.h"

#include "lib/config.h"

#include <stdint.h>
#include <unistd.h>

/* Writes text to a fresh temporary file; returns its path (static). */
static const char *write_config(const char *text)
{
	static char path[64];
	const char *dir = getenv("TMPDIR");
	snprintf(path, sizeof(path), "%s/petrel-cfg-XXXXXX", dir != NULL ? dir : "/tmp");
	int fd = mkstemp(path);
	TEST_CHECK(fd >= 0);
	size_t len = strlen(text);
	TEST_CHECK(write(fd, text, len) == (ssize_t)len);
	close(fd);
	return path;
}

/* Loads text over the defaults; returns the result and the error (or
 * NULL) in *error_r, which the caller frees. */
static bool load_text(struct petrel_config *cfg, const char *text, char **error_r)
{
	const char *path = write_config(text);
	config_init_defaults(cfg);
	*error_r = NULL;
	bool ok = config_load(cfg, path, error_r);
	unlink(path);
	return ok;
}

/* Checks that text fails with an error ending in ":LINE: " + suffix. */
static void check_error(const char *text, int line, const char *suffix)
{
	struct petrel_config cfg;
	char *error;
	bool ok = load_text(&cfg, text, &error);
	TEST_CHECK(!ok);
	if (ok || error == NULL) {
		fprintf(stderr, "  (config unexpectedly accepted: %s)\n", text);
		config_free(&cfg);
		return;
	}
	char expected[512];
	snprintf(expected, sizeof(expected), ":%d: %s", line, suffix);
	const char *colon = strstr(error, "petrel-cfg-");
	colon = colon != NULL ? strchr(colon, ':') : NULL;
	TEST_CHECK_STR(colon, expected);
	TEST_CHECK(strncmp(error, "/", 1) == 0);
	free(error);
	config_free(&cfg);
}

static void test_config_defaults(void)
{
	struct petrel_config cfg;
	config_init_defaults(&cfg);
	TEST_CHECK(cfg.path == NULL);
	TEST_CHECK_STR(cfg.data_dir, "./var");
	TEST_CHECK_INT(cfg.workers, 0);
	TEST_CHECK_INT(cfg.log_level, LOG_INFO);
	TEST_CHECK(cfg.run_user == NULL);
	TEST_CHECK_INT(cfg.max_connections, 100000);
	TEST_CHECK_INT(cfg.max_connections_per_address, 500);
	TEST_CHECK_INT(cfg.max_connections_per_user_address, 50);
	TEST_CHECK_INT(cfg.imap_listen.count, 1);
	TEST_CHECK_STR(cfg.imap_listen.items[0], "127.0.0.1:1143");
	TEST_CHECK_INT(cfg.imaps_listen.count, 1);
	TEST_CHECK_STR(cfg.imaps_listen.items[0], "127.0.0.1:1993");
	TEST_CHECK_INT(cfg.lmtp_listen.count, 1);
	TEST_CHECK_STR(cfg.lmtp_listen.items[0], "127.0.0.1:1024");
	TEST_CHECK(cfg.tls_cert == NULL && cfg.tls_key == NULL);
	TEST_CHECK(!cfg.allow_plaintext);
	TEST_CHECK_INT(cfg.fail_delay_ms, 2000);
	TEST_CHECK_INT(cfg.max_failures_per_address, 20);
	TEST_CHECK_INT(cfg.max_failures_per_user, 10);
	TEST_CHECK_INT(cfg.failure_window_s, 300);
	TEST_CHECK_INT(cfg.password_hash_ops, 2);
	TEST_CHECK_INT(cfg.password_hash_memory, 64 << 20);
	TEST_CHECK_INT(cfg.line_length, 65536);
	TEST_CHECK_INT(cfg.literal_size_preauth, 8192);
	TEST_CHECK_INT(cfg.append_size, 64 << 20);
	TEST_CHECK_INT(cfg.nesting_depth, 100);
	TEST_CHECK_INT(cfg.arguments, 1000);
	TEST_CHECK_INT(cfg.mailbox_name_length, 1024);
	TEST_CHECK_INT(cfg.mailbox_depth, 32);
	TEST_CHECK_INT(cfg.search_size, 65536);
	TEST_CHECK_INT(cfg.keywords, 1000);
	TEST_CHECK_INT(cfg.keyword_length, 256);
	TEST_CHECK_INT(cfg.timeout_preauth, 60);
	TEST_CHECK_INT(cfg.timeout_authenticated, 1800);
	TEST_CHECK_INT(cfg.idle_keepalive, 120);
	TEST_CHECK_STR(cfg.ctl_socket, "./var/petrel.sock");
	config_free(&cfg);
	TEST_CHECK(cfg.data_dir == NULL && cfg.imap_listen.items == NULL);
}

static void test_config_load_every_key(void)
{
	struct petrel_config cfg;
	char *error;
	bool ok = load_text(&cfg,
		"; a comment\n"
		"# another comment\n"
		"data_dir = /srv/petrel\n"
		"\n"
		"[server]\n"
		"workers = 4\n"
		"log_level = debug\n"
		"user = petrel\n"
		"max_connections = 2000\n"
		"max_connections_per_address = 30   ; inline comment\n"
		"max_connections_per_user_address = 12\n"
		"[imap]\n"
		"listen = 0.0.0.0:143\n"
		"[imaps]\n"
		"listen = [::]:993\n"
		"[lmtp]\n"
		"listen = /run/petrel/lmtp.sock\n"
		"[tls]\n"
		"cert = /etc/petrel/cert.pem\n"
		"key = /etc/petrel/key.pem\n"
		"[auth]\n"
		"allow_plaintext = yes\n"
		"fail_delay_ms = 1s\n"
		"max_failures_per_address = 5\n"
		"max_failures_per_user = 3\n"
		"failure_window = 10m\n"
		"password_hash_ops = 1\n"
		"password_hash_memory = 8K\n"
		"[limits]\n"
		"line_length = 8K\n"
		"literal_size_preauth = 1k\n"
		"append_size = 2G\n"
		"nesting_depth = 10\n"
		"arguments = 100\n"
		"mailbox_name_length = 200\n"
		"mailbox_depth = 8\n"
		"search_size = 1M\n"
		"keywords = 0\n"
		"keyword_length = 64\n"
		"[timeouts]\n"
		"preauth = 30s\n"
		"authenticated = 1h\n"
		"idle_keepalive = 2m\n"
		"[ctl]\n"
		"socket = /run/petrel/ctl.sock\n", &error);
	TEST_CHECK(ok);
	if (!ok) {
		fprintf(stderr, "  error: %s\n", error);
		free(error);
		config_free(&cfg);
		return;
	}
	TEST_CHECK(cfg.path != NULL);
	TEST_CHECK_STR(cfg.data_dir, "/srv/petrel");
	TEST_CHECK_INT(cfg.workers, 4);
	TEST_CHECK_INT(cfg.log_level, LOG_DEBUG);
	TEST_CHECK_STR(cfg.run_user, "petrel");
	TEST_CHECK_INT(cfg.max_connections, 2000);
	TEST_CHECK_INT(cfg.max_connections_per_address, 30);
	TEST_CHECK_INT(cfg.max_connections_per_user_address, 12);
	TEST_CHECK_INT(cfg.imap_listen.count, 1);
	TEST_CHECK_STR(cfg.imap_listen.items[0], "0.0.0.0:143");
	TEST_CHECK_STR(cfg.imaps_listen.items[0], "[::]:993");
	TEST_CHECK_STR(cfg.lmtp_listen.items[0], "/run/petrel/lmtp.sock");
	TEST_CHECK_STR(cfg.tls_cert, "/etc/petrel/cert.pem");
	TEST_CHECK_STR(cfg.tls_key, "/etc/petrel/key.pem");
	TEST_CHECK(cfg.allow_plaintext);
	TEST_CHECK_INT(cfg.fail_delay_ms, 1000);
	TEST_CHECK_INT(cfg.max_failures_per_address, 5);
	TEST_CHECK_INT(cfg.max_failures_per_user, 3);
	TEST_CHECK_INT(cfg.failure_window_s, 600);
	TEST_CHECK_INT(cfg.password_hash_ops, 1);
	TEST_CHECK_INT(cfg.password_hash_memory, 8192);
	TEST_CHECK_INT(cfg.line_length, 8192);
	TEST_CHECK_INT(cfg.literal_size_preauth, 1024);
	TEST_CHECK(cfg.append_size == 2ULL << 30);
	TEST_CHECK_INT(cfg.nesting_depth, 10);
	TEST_CHECK_INT(cfg.arguments, 100);
	TEST_CHECK_INT(cfg.mailbox_name_length, 200);
	TEST_CHECK_INT(cfg.mailbox_depth, 8);
	TEST_CHECK_INT(cfg.search_size, 1 << 20);
	TEST_CHECK_INT(cfg.keywords, 0);
	TEST_CHECK_INT(cfg.keyword_length, 64);
	TEST_CHECK_INT(cfg.timeout_preauth, 30);
	TEST_CHECK_INT(cfg.timeout_authenticated, 3600);
	TEST_CHECK_INT(cfg.idle_keepalive, 120);
	TEST_CHECK_STR(cfg.ctl_socket, "/run/petrel/ctl.sock");
	config_free(&cfg);
}

static void test_config_listen_repeats_replace_then_append(void)
{
	struct petrel_config cfg;
	char *error;
	TEST_CHECK(load_text(&cfg,
		"[imap]\n"
		"listen = 127.0.0.1:143\n"
		"listen = [::1]:143\n"
		"[imaps]\n"
		"listen =\n"
		"[lmtp]\n"
		"listen =\n"
		"listen = 10.0.0.1:24\n", &error));
	TEST_CHECK(error == NULL);
	TEST_CHECK_INT(cfg.imap_listen.count, 2);
	TEST_CHECK_STR(cfg.imap_listen.items[0], "127.0.0.1:143");
	TEST_CHECK_STR(cfg.imap_listen.items[1], "[::1]:143");
	/* An empty value disables the list. */
	TEST_CHECK_INT(cfg.imaps_listen.count, 0);
	TEST_CHECK_INT(cfg.lmtp_listen.count, 1);
	TEST_CHECK_STR(cfg.lmtp_listen.items[0], "10.0.0.1:24");
	config_free(&cfg);

	/* A second file replaces the list again at its first listen. */
	config_init_defaults(&cfg);
	const char *p1 = write_config("[imap]\nlisten = 1.2.3.4:143\nlisten = 1.2.3.5:143\n");
	char first[64];
	snprintf(first, sizeof(first), "%s", p1);
	TEST_CHECK(config_load(&cfg, first, &error));
	const char *p2 = write_config("[imap]\nlisten = 5.6.7.8:143\n");
	TEST_CHECK(config_load(&cfg, p2, &error));
	TEST_CHECK_INT(cfg.imap_listen.count, 1);
	TEST_CHECK_STR(cfg.imap_listen.items[0], "5.6.7.8:143");
	TEST_CHECK_STR(cfg.path, p2);
	unlink(first);
	unlink(p2);
	config_free(&cfg);
}

static void test_config_indented_keys_and_name_colon_value(void)
{
	struct petrel_config cfg;
	char *error;
	TEST_CHECK(load_text(&cfg,
		"[server]\n"
		"    workers = 3\n"
		"\tlog_level: warn\n"
		"  [auth]\n"
		"  allow_plaintext = off\n", &error));
	TEST_CHECK_INT(cfg.workers, 3);
	TEST_CHECK_INT(cfg.log_level, LOG_WARN);
	TEST_CHECK(!cfg.allow_plaintext);
	config_free(&cfg);
}

static void test_config_ctl_socket_follows_data_dir(void)
{
	struct petrel_config cfg;
	char *error;
	TEST_CHECK(load_text(&cfg, "data_dir = /var/lib/petrel/\n", &error));
	TEST_CHECK_STR(cfg.ctl_socket, "/var/lib/petrel/petrel.sock");
	config_free(&cfg);
	TEST_CHECK(load_text(&cfg, "[ctl]\nsocket = /run/p.sock\n", &error));
	TEST_CHECK_STR(cfg.ctl_socket, "/run/p.sock");
	TEST_CHECK_STR(cfg.data_dir, "./var");
	config_free(&cfg);
}

static void test_config_unknown_section_and_key(void)
{
	check_error("[server]\nworkers = 2\nbogus = 1\n", 3, "[server] bogus: unknown key");
	check_error("\n[nosuch]\nworkers = 2\n", 3, "[nosuch] workers: unknown section");
	check_error("datadir = /x\n", 1, "datadir: unknown key");
	/* Keys belong to their own section only. */
	check_error("[imap]\nworkers = 2\n", 2, "[imap] workers: unknown key");
	check_error("[server]\ndata_dir = /x\n", 2, "[server] data_dir: unknown key");
}

static void test_config_bad_values(void)
{
	check_error("[server]\nworkers = many\n", 2,
		    "[server] workers: expected a non-negative integer, got 'many'");
	check_error("[server]\nworkers = -1\n", 2,
		    "[server] workers: expected a non-negative integer, got '-1'");
	check_error("[server]\nworkers = 5000\n", 2,
		    "[server] workers: value 5000 out of range 0-1024");
	check_error("[server]\nmax_connections = 0\n", 2,
		    "[server] max_connections: value 0 out of range 1-10000000");
	check_error("[server]\nlog_level = loud\n", 2,
		    "[server] log_level: expected debug, info, warn or error, got 'loud'");
	check_error("[auth]\nallow_plaintext = maybe\n", 2,
		    "[auth] allow_plaintext: expected yes/no, true/false, on/off or 1/0, got 'maybe'");
	check_error("[limits]\nappend_size = 10T\n", 2,
		    "[limits] append_size: expected a size (number with optional K, M or G), got '10T'");
	check_error("[limits]\nappend_size = 99999999999999999999\n", 2,
		    "[limits] append_size: expected a size (number with optional K, M or G), got '99999999999999999999'");
	check_error("[limits]\nappend_size = 17179869184G\n", 2,
		    "[limits] append_size: expected a size (number with optional K, M or G), got '17179869184G'");
	check_error("[limits]\nline_length = 1 K\n", 2,
		    "[limits] line_length: expected a size (number with optional K, M or G), got '1 K'");
	check_error("[timeouts]\npreauth = 5x\n", 2,
		    "[timeouts] preauth: expected a duration (number with optional s, m, h or d), got '5x'");
	check_error("[timeouts]\npreauth = 0\n", 2,
		    "[timeouts] preauth: value 0 out of range 1-86400");
	check_error("[auth]\nfail_delay_ms = 2h\n", 2,
		    "[auth] fail_delay_ms: expected milliseconds (number with optional ms or s), got '2h'");
	check_error("[tls]\ncert =\n", 2, "[tls] cert: empty value");
	check_error("data_dir =\n", 1, "data_dir: empty value");
}

static void test_config_bad_listen(void)
{
	static const char *const bad[] = {
		"127.0.0.1", "127.0.0.1:", ":143", "127.0.0.1:0", "127.0.0.1:65536",
		"::1:143", "[::1]143", "[::1]", "[]:143", "host:14x", "/run/imap.sock",
		"a b:143",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char text[128], expected[256];
		snprintf(text, sizeof(text), "[imap]\nlisten = %s\n", bad[i]);
		snprintf(expected, sizeof(expected),
			 "[imap] listen: expected host:port or [ipv6]:port with port 1-65535, got '%s'",
			 bad[i]);
		check_error(text, 2, expected);
	}
	check_error("[lmtp]\nlisten = run/lmtp.sock\n", 2,
		    "[lmtp] listen: expected host:port, [ipv6]:port or an absolute socket path, got 'run/lmtp.sock'");
}

static void test_config_syntax_errors_and_first_error_wins(void)
{
	check_error("[server]\nworkers 4\n", 2,
		    "syntax error: expected 'key = value' or '[section]'");
	check_error("[server\nworkers = 4\n", 1,
		    "syntax error: expected 'key = value' or '[section]'");
	/* The first error is reported, whichever kind it is. */
	check_error("[server]\nbogus = 1\nworkers 4\n", 2, "[server] bogus: unknown key");
	check_error("[server]\nworkers 4\nbogus = 1\n", 2,
		    "syntax error: expected 'key = value' or '[section]'");
	char line[400];
	memset(line, 'x', sizeof(line));
	snprintf(line, sizeof(line), "[server]\nworkers = 1\nuser = %0300d\n", 7);
	check_error(line, 3, "line longer than 198 bytes");
}

static void test_config_missing_file(void)
{
	struct petrel_config cfg;
	config_init_defaults(&cfg);
	char *error = NULL;
	TEST_CHECK(!config_load(&cfg, "/nonexistent/petrel.ini", &error));
	TEST_CHECK_STR(error, "/nonexistent/petrel.ini: cannot open: No such file or directory");
	free(error);
	TEST_CHECK_STR(cfg.data_dir, "./var");
	config_free(&cfg);
}

static void test_config_listen_split(void)
{
	char *host;
	unsigned port;
	TEST_CHECK(config_listen_split("127.0.0.1:143", &host, &port));
	TEST_CHECK_STR(host, "127.0.0.1");
	TEST_CHECK_INT(port, 143);
	free(host);
	TEST_CHECK(config_listen_split("[2001:db8::1]:993", &host, &port));
	TEST_CHECK_STR(host, "2001:db8::1");
	TEST_CHECK_INT(port, 993);
	free(host);
	TEST_CHECK(config_listen_split("*:24", &host, &port));
	TEST_CHECK_STR(host, "*");
	free(host);
	TEST_CHECK(config_listen_split("mail.example.org:65535", &host, &port));
	TEST_CHECK_STR(host, "mail.example.org");
	TEST_CHECK_INT(port, 65535);
	free(host);
	TEST_CHECK(config_listen_split("/run/lmtp", &host, &port));
	TEST_CHECK_STR(host, "/run/lmtp");
	TEST_CHECK_INT(port, 0);
	free(host);
	TEST_CHECK(!config_listen_split("localhost:+1", &host, &port));
	TEST_CHECK(!config_listen_split("", &host, &port));
}

static void test_config_client_rules(void)
{
	struct petrel_config cfg;
	char *error;
	bool ok = load_text(&cfg,
			    "[capabilities]\n"
			    "hide = IDLE condstore for user=ali* address=192.0.2.0/24, address=::1\n"
			    "hide = THREAD=REFERENCES   ; every client\n"
			    "[workarounds]\n"
			    "updates_on_poll_only = id.name=\"Old Mail\" id.version=1.*\n"
			    "updates_on_poll_only = user=bob\n",
			    &error);
	TEST_CHECK(ok);
	if (!ok) {
		fprintf(stderr, "  %s\n", error);
		free(error);
		config_free(&cfg);
		return;
	}
	const struct config_client_rules *h = &cfg.hide_capabilities;
	TEST_CHECK(h->count == 3);
	uint64_t idle_condstore = ((uint64_t)1 << CONFIG_CAP_IDLE) | ((uint64_t)1 << CONFIG_CAP_CONDSTORE);
	TEST_CHECK(h->items[0].bits == idle_condstore && h->items[0].line == 2);
	TEST_CHECK_STR(h->items[0].match.user, "ali*");
	TEST_CHECK(h->items[0].match.has_address && h->items[0].match.id_name == NULL);
	TEST_CHECK(h->items[1].bits == idle_condstore && h->items[1].match.user == NULL);
	TEST_CHECK(h->items[1].match.has_address && h->items[1].match.address.prefix == 128);
	TEST_CHECK(h->items[2].bits == (uint64_t)1 << CONFIG_CAP_THREAD_REFERENCES);
	TEST_CHECK(h->items[2].line == 3 && !h->items[2].match.has_address &&
		   h->items[2].match.user == NULL);
	const struct config_client_rules *w = &cfg.workarounds;
	TEST_CHECK(w->count == 2);
	TEST_CHECK(w->items[0].bits == 1u << CONFIG_WORKAROUND_UPDATES_ON_POLL_ONLY);
	TEST_CHECK_STR(w->items[0].match.id_name, "Old Mail");
	TEST_CHECK_STR(w->items[0].match.id_version, "1.*");
	TEST_CHECK_STR(w->items[1].match.user, "bob");
	TEST_CHECK(w->items[1].line == 6);
	TEST_CHECK_STR(config_cap_name(CONFIG_CAP_THREAD_REFERENCES), "THREAD=REFERENCES");
	TEST_CHECK_STR(config_workaround_name(CONFIG_WORKAROUND_NO_UPDATES_DURING_FETCH),
		       "no_updates_during_fetch");
	config_free(&cfg);
	TEST_CHECK(cfg.hide_capabilities.count == 0 && cfg.workarounds.items == NULL);
}

static void test_config_client_match(void)
{
	struct config_client_match m = { 0 };
	/* No condition: every client, known or not. */
	TEST_CHECK(config_client_match(&m, NULL, NULL, NULL, NULL));
	m.user = "ali*";
	TEST_CHECK(config_client_match(&m, "192.0.2.1", "alice", NULL, NULL));
	TEST_CHECK(config_client_match(&m, "192.0.2.1", "ALI", NULL, NULL));
	TEST_CHECK(!config_client_match(&m, "192.0.2.1", "bob", NULL, NULL));
	/* Before login the user is unknown: a user condition does not hold. */
	TEST_CHECK(!config_client_match(&m, "192.0.2.1", NULL, NULL, NULL));
	m.user = "*@example.org";
	TEST_CHECK(config_client_match(&m, NULL, "a.b@Example.ORG", NULL, NULL));
	TEST_CHECK(!config_client_match(&m, NULL, "a@example.org.evil", NULL, NULL));
	m.user = "a*b*c";
	TEST_CHECK(config_client_match(&m, NULL, "axxbyyc", NULL, NULL));
	TEST_CHECK(config_client_match(&m, NULL, "abbc", NULL, NULL));
	TEST_CHECK(!config_client_match(&m, NULL, "axxbyy", NULL, NULL));
	m.user = "**";
	TEST_CHECK(config_client_match(&m, NULL, "", NULL, NULL));
	m.user = NULL;
	/* Every condition must hold. */
	TEST_CHECK(cidr_parse("192.0.2.0/24", &m.address));
	m.has_address = true;
	m.id_name = "Old*";
	TEST_CHECK(config_client_match(&m, "192.0.2.200", NULL, "old mail", NULL));
	TEST_CHECK(!config_client_match(&m, "198.51.100.1", NULL, "old mail", NULL));
	TEST_CHECK(!config_client_match(&m, "192.0.2.200", NULL, NULL, NULL));
	TEST_CHECK(!config_client_match(&m, NULL, NULL, "old mail", NULL));
	m.id_version = "1.?";
	/* Only '*' is special. */
	TEST_CHECK(!config_client_match(&m, "192.0.2.200", NULL, "Old", "1.2"));
	TEST_CHECK(config_client_match(&m, "192.0.2.200", NULL, "Old", "1.?"));
}

static void test_config_client_errors(void)
{
	check_error("[capabilities]\nhide = STARTTLS\n", 2,
		    "[capabilities] hide: STARTTLS cannot be hidden: clients need it to log in "
		    "and to speak IMAP");
	check_error("[capabilities]\nhide = auth=cram-md5\n", 2,
		    "[capabilities] hide: auth=cram-md5 cannot be hidden: clients need it to log in "
		    "and to speak IMAP");
	check_error("[capabilities]\nhide = COMPRESS=DEFLATE\n", 2,
		    "[capabilities] hide: 'COMPRESS=DEFLATE' cannot be hidden; hideable: IMAP4rev2 "
		    "CONDSTORE ENABLE ESEARCH ID IDLE MOVE NAMESPACE QRESYNC QUOTA SEARCHRES SORT "
		    "THREAD=ORDEREDSUBJECT THREAD=REFERENCES UNSELECT WITHIN");
	check_error("[capabilities]\nhide = IDLE for address=10.0.0.0/8 address=::1\n", 2,
		    "[capabilities] hide: address given twice in one match (separate alternatives "
		    "with ',')");
	check_error("[capabilities]\nhide = IDLE for id.version=1\n", 2,
		    "[capabilities] hide: capabilities are never chosen by the client's ID (RFC 2971 "
		    "section 3): match by user or address");
	check_error("[capabilities]\nhide = IDLE for user=a,,user=b\n", 2,
		    "[capabilities] hide: expected a match such as user=alice or "
		    "address=192.0.2.0/24");
	check_error("[capabilities]\nhide = IDLE\nhide = MOVE for nobody\n", 3,
		    "[capabilities] hide: expected user=, address= at 'nobody'");
	check_error("[workarounds]\nupdates_on_poll_only = id.os=Linux\n", 2,
		    "[workarounds] updates_on_poll_only: expected user=, address=, id.name= or "
		    "id.version= at 'id.os=Linux'");
	check_error("[workarounds]\nupdates_on_poll_only = id.name=\"\"\n", 2,
		    "[workarounds] updates_on_poll_only: empty id.name value");
	char line[200];
	snprintf(line, sizeof(line), "[workarounds]\nupdates_on_poll_only = user=%0130d\n", 1);
	check_error(line, 2, "[workarounds] updates_on_poll_only: user value longer than 128 bytes");
	/* A failed line adds nothing; the first error stops the load. */
	check_error("[capabilities]\nhide = IDLE for user=a, address=x\n", 2,
		    "[capabilities] hide: expected an address or CIDR block such as 192.0.2.0/24 or "
		    "2001:db8::/32, got 'x'");
}

int main(void)
{
	test_run("config_defaults", test_config_defaults);
	test_run("config_load_every_key", test_config_load_every_key);
	test_run("config_listen_repeats_replace_then_append",
		 test_config_listen_repeats_replace_then_append);
	test_run("config_indented_keys_and_name_colon_value",
		 test_config_indented_keys_and_name_colon_value);
	test_run("config_ctl_socket_follows_data_dir", test_config_ctl_socket_follows_data_dir);
	test_run("config_unknown_section_and_key", test_config_unknown_section_and_key);
	test_run("config_bad_values", test_config_bad_values);
	test_run("config_bad_listen", test_config_bad_listen);
	test_run("config_syntax_errors_and_first_error_wins",
		 test_config_syntax_errors_and_first_error_wins);
	test_run("config_missing_file", test_config_missing_file);
	test_run("config_listen_split", test_config_listen_split);
	test_run("config_client_rules", test_config_client_rules);
	test_run("config_client_match", test_config_client_match);
	test_run("config_client_errors", test_config_client_errors);
	return test_finish();
}
