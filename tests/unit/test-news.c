/* The news layer's pure parts: wildmats (RFC 3977 §4), NNTP answers and
 * overview lines (§3.2, §6.1.1, §7.6.3, §8.3), dot-stuffing both ways
 * (§3.1.1), newsgroup <-> folder names, and the [news] configuration. */

#include "test-common.h"

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "news/news-folder.h"
#include "news/news-proto.h"
#include "news/news-wildmat.h"

#include <unistd.h>

/* ---- Wildmats ---- */

static void test_wildmat_rfc3977_examples(void)
{
	/* RFC 3977 §4.2 and §4.4 (with "£" for their "$@"). */
	TEST_CHECK(news_wildmat_match("a*,!*b,*c*", "aaa"));
	TEST_CHECK(!news_wildmat_match("a*,!*b,*c*", "abb"));
	TEST_CHECK(news_wildmat_match("a*,!*b,*c*", "ccb"));
	TEST_CHECK(!news_wildmat_match("a*,!*b,*c*", "xxx"));
	TEST_CHECK(news_wildmat_match("abc", "abc"));
	TEST_CHECK(!news_wildmat_match("abc", "abcd"));
	TEST_CHECK(news_wildmat_match("abc,def", "def"));
	TEST_CHECK(news_wildmat_match("\xc2\xa3", "\xc2\xa3"));
	TEST_CHECK(news_wildmat_match("a*b", "ab"));
	TEST_CHECK(news_wildmat_match("a*b", "axxb"));
	TEST_CHECK(!news_wildmat_match("a*b", "axxbc"));
	TEST_CHECK(news_wildmat_match("a*,*b", "xb"));
	TEST_CHECK(!news_wildmat_match("a*,!*b", "ab"));
	TEST_CHECK(news_wildmat_match("a*,!*b,c*", "cb"));
	TEST_CHECK(!news_wildmat_match("a*,!*b,c*", "ab"));
}

static void test_wildmat_newsgroups(void)
{
	const char *w = "comp.*,!comp.lang.java.*,alt.test";
	TEST_CHECK(news_wildmat_match(w, "comp.lang.c"));
	TEST_CHECK(!news_wildmat_match(w, "comp.lang.java.help"));
	TEST_CHECK(news_wildmat_match(w, "alt.test"));
	TEST_CHECK(!news_wildmat_match(w, "alt.test.x"));
	TEST_CHECK(!news_wildmat_match(w, "comp"));
	TEST_CHECK(news_wildmat_match("*", ""));
	TEST_CHECK(news_wildmat_match("**", "x"));
	TEST_CHECK(!news_wildmat_match("?", ""));
	TEST_CHECK(news_wildmat_match("!x,*", "x")); /* the rightmost match wins */
	TEST_CHECK(!news_wildmat_match("*,!x", "x"));
}

static void test_wildmat_question_mark_is_one_character(void)
{
	/* "?" is a UTF-8 character, not an octet (RFC 3977 §4.2). */
	TEST_CHECK(news_wildmat_match("a?c", "a\xc3\xa9" "c"));
	TEST_CHECK(!news_wildmat_match("a??c", "a\xc3\xa9" "c"));
	TEST_CHECK(news_wildmat_match("*\xc3\xa9", "caf\xc3\xa9"));
	TEST_CHECK(!news_wildmat_match("*\xa9", "caf\xc3\xa9"));
}

static void test_wildmat_syntax(void)
{
	const char *error = NULL;
	TEST_CHECK(news_wildmat_valid("comp.*,!comp.lang.*", NULL));
	TEST_CHECK(news_wildmat_valid("!a", NULL));
	TEST_CHECK(!news_wildmat_valid("", &error));
	TEST_CHECK_STR(error, "empty pattern");
	TEST_CHECK(!news_wildmat_valid("a,,b", NULL));
	TEST_CHECK(!news_wildmat_valid("a,!", NULL));
	TEST_CHECK(!news_wildmat_valid("a,", NULL));
	TEST_CHECK(!news_wildmat_valid("a!b", NULL));
	TEST_CHECK(!news_wildmat_valid("a[bc]", NULL));
	TEST_CHECK(!news_wildmat_valid("a\\*", NULL));
	TEST_CHECK(!news_wildmat_valid("a b", NULL));
	TEST_CHECK(!news_wildmat_valid("a\xc3", &error));
	TEST_CHECK_STR(error, "not UTF-8");
	TEST_CHECK(!news_wildmat_valid("\xc0\xaf", NULL)); /* overlong */
	/* A wildmat that is not valid matches nothing. */
	TEST_CHECK(!news_wildmat_match("a,,*", "a"));
}

static void test_wildmat_many_stars_stay_linear(void)
{
	/* The classic exponential case for naive backtracking. */
	char pattern[80], text[200];
	memset(pattern, 0, sizeof(pattern));
	for (size_t i = 0; i < 30; i++)
		strcat(pattern, "a*");
	strcat(pattern, "b");
	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	TEST_CHECK(!news_wildmat_match(pattern, text));
	text[sizeof(text) - 2] = 'b';
	TEST_CHECK(news_wildmat_match(pattern, text));
}

/* ---- Status lines and answers ---- */

static void test_status_line(void)
{
	unsigned code;
	const char *text;
	size_t len;
	TEST_CHECK(news_status_parse("211 3 1 3 comp.lang.c", 21, &code, &text, &len));
	TEST_CHECK_INT(code, 211);
	TEST_CHECK_MEM(text, len, "3 1 3 comp.lang.c", 17);
	TEST_CHECK(news_status_parse("205", 3, &code, &text, &len));
	TEST_CHECK_INT(code, 205);
	TEST_CHECK_INT(len, 0);
	TEST_CHECK(!news_status_parse("20", 2, &code, &text, &len));
	TEST_CHECK(!news_status_parse("2000 x", 6, &code, &text, &len));
	TEST_CHECK(!news_status_parse("600 x", 5, &code, &text, &len));
	TEST_CHECK(!news_status_parse("a00 x", 5, &code, &text, &len));
	/* The length is the limit: no reading past it. */
	TEST_CHECK(!news_status_parse("211 ok", 2, &code, &text, &len));
}

static void test_group_answer(void)
{
	struct news_group_info g;
	const char *t = "1234 3000234 3002322 misc.test";
	TEST_CHECK(news_group_parse(t, strlen(t), &g));
	TEST_CHECK_INT(g.count, 1234);
	TEST_CHECK_INT(g.low, 3000234);
	TEST_CHECK_INT(g.high, 3002322);
	TEST_CHECK(news_group_parse("0 1 0", 5, &g)); /* empty group, name omitted */
	TEST_CHECK_INT(g.high, 0);
	TEST_CHECK(!news_group_parse("1 2", 3, &g));
	TEST_CHECK(!news_group_parse("x 1 2 g", 7, &g));
	TEST_CHECK(!news_group_parse("1 2 3x g", 8, &g));
	t = "1 1 99999999999999999999 g"; /* beyond 2^63 */
	TEST_CHECK(!news_group_parse(t, strlen(t), &g));
}

static void test_active_line(void)
{
	struct news_active_entry e;
	const char *t = "comp.lang.c 0000001234 0000000001 y";
	TEST_CHECK(news_active_parse(t, strlen(t), &e));
	TEST_CHECK_MEM(e.name, e.name_len, "comp.lang.c", 11);
	TEST_CHECK_INT(e.high, 1234);
	TEST_CHECK_INT(e.low, 1);
	TEST_CHECK_INT(e.status, 'y');
	TEST_CHECK(!news_active_parse("comp.lang.c 12 1", 16, &e));
	TEST_CHECK(!news_active_parse(" 12 1 y", 7, &e));
	TEST_CHECK(!news_active_parse("nospace", 7, &e));
}

static void test_overview_line(void)
{
	/* RFC 3977 §8.3.3's example. */
	const char *line = "3000234\tI am just a test article\t\"Demo User\" <nobody@example.com>\t"
		"6 Oct 1998 04:38:40 -0500\t<45223423@example.com>\t<45454@example.net>\t"
		"1234\t17\tXref: news.example.com misc.test:3000363";
	struct news_overview ov;
	TEST_CHECK(news_overview_parse(line, strlen(line), &ov));
	TEST_CHECK_INT(ov.number, 3000234);
	TEST_CHECK_MEM(ov.subject, ov.subject_len, "I am just a test article", 24);
	TEST_CHECK_MEM(ov.date, ov.date_len, "6 Oct 1998 04:38:40 -0500", 25);
	TEST_CHECK_MEM(ov.message_id, ov.message_id_len, "<45223423@example.com>", 22);
	TEST_CHECK_MEM(ov.references, ov.references_len, "<45454@example.net>", 19);
	TEST_CHECK_INT(ov.bytes, 1234);
	TEST_CHECK(news_msgid_valid(ov.message_id, ov.message_id_len));

	/* Empty fields are fields; :bytes may be empty. */
	line = "7\t\t\t\t<a@b>\t\t\t";
	TEST_CHECK(news_overview_parse(line, strlen(line), &ov));
	TEST_CHECK_INT(ov.number, 7);
	TEST_CHECK_INT(ov.subject_len, 0);
	TEST_CHECK_INT(ov.bytes, 0);
	/* Too few fields, bad or zero numbers. */
	line = "7\ts\tf\td\t<a@b>\tr\t12";
	TEST_CHECK(!news_overview_parse(line, strlen(line), &ov));
	line = "0\ts\tf\td\t<a@b>\tr\t12\t1";
	TEST_CHECK(!news_overview_parse(line, strlen(line), &ov));
	line = "7x\ts\tf\td\t<a@b>\tr\t12\t1";
	TEST_CHECK(!news_overview_parse(line, strlen(line), &ov));
	TEST_CHECK(!news_overview_parse("", 0, &ov));
}

static void test_message_id_syntax(void)
{
	TEST_CHECK(news_msgid_valid("<a@b>", 5));
	TEST_CHECK(news_msgid_valid("<x>", 3));
	TEST_CHECK(!news_msgid_valid("<>", 2));
	TEST_CHECK(!news_msgid_valid("a@b", 3));
	TEST_CHECK(!news_msgid_valid("<a b>", 5));
	TEST_CHECK(!news_msgid_valid("<a>b>", 5));
	char long_id[260];
	memset(long_id, 'x', sizeof(long_id));
	long_id[0] = '<';
	long_id[250] = '>';
	TEST_CHECK(news_msgid_valid(long_id, 251) == false); /* 251 octets */
	long_id[249] = '>';
	TEST_CHECK(news_msgid_valid(long_id, 250));
}

/* ---- Dot-stuffing ---- */

/* Decodes block fed in pieces of size step; checks the data and how much
 * input was used. */
static void check_decode(const char *block, size_t step, const char *expected, size_t used)
{
	struct news_dot_decoder dec = NEWS_DOT_DECODER_INIT;
	struct buf out = BUF_INIT;
	size_t len = strlen(block), pos = 0;
	while (pos < len && !dec.done) {
		size_t n = len - pos < step ? len - pos : step;
		pos += news_dot_decode(&dec, block + pos, n, &out);
	}
	TEST_CHECK(dec.done);
	TEST_CHECK_INT(pos, used);
	TEST_CHECK_MEM(out.data, out.len, expected, strlen(expected));
	buf_free(&out);
}

static void test_dot_decoding_every_split(void)
{
	const char *block = "Subject: x\r\n\r\n..leading dot\r\n.\r\n";
	const char *data = "Subject: x\r\n\r\n.leading dot\r\n";
	size_t len = strlen(block);
	for (size_t step = 1; step <= len; step++)
		check_decode(block, step, data, len);
	/* What follows the terminator is left alone. */
	check_decode("a\r\n.\r\n211 next", 1, "a\r\n", 6);
	/* An empty block, LF-only lines, a ".\r" that is data. */
	check_decode(".\r\n", 1, "", 3);
	check_decode("a\n..b\n.\n", 2, "a\n.b\n", 8);
	check_decode(".\rx\r\n.\r\n", 1, "\rx\r\n", 8);
	check_decode("..\r\n.\r\n", 3, ".\r\n", 7);
}

static void test_dot_encoding(void)
{
	struct news_dot_encoder enc = NEWS_DOT_ENCODER_INIT;
	struct buf out = BUF_INIT;
	const char *msg = "Subject: x\n\n.dot\r\n..two\rlast";
	/* One byte at a time: CR LF split across calls stays one line end. */
	for (size_t i = 0; i < strlen(msg); i++)
		news_dot_encode(&enc, msg + i, 1, &out);
	news_dot_encode_finish(&enc, &out);
	const char *expected = "Subject: x\r\n\r\n..dot\r\n...two\r\nlast\r\n.\r\n";
	TEST_CHECK_MEM(out.data, out.len, expected, strlen(expected));

	/* Decoding what was encoded gives the CRLF form back. */
	struct news_dot_decoder dec = NEWS_DOT_DECODER_INIT;
	struct buf back = BUF_INIT;
	size_t used = news_dot_decode(&dec, out.data, out.len, &back);
	TEST_CHECK(dec.done);
	TEST_CHECK_INT(used, out.len);
	const char *crlf = "Subject: x\r\n\r\n.dot\r\n..two\r\nlast\r\n";
	TEST_CHECK_MEM(back.data, back.len, crlf, strlen(crlf));
	buf_free(&out);
	buf_free(&back);

	/* A message that ends with its line end gets no extra one. */
	struct news_dot_encoder enc2 = NEWS_DOT_ENCODER_INIT;
	struct buf out2 = BUF_INIT;
	news_dot_encode(&enc2, "x\r\n", 3, &out2);
	news_dot_encode_finish(&enc2, &out2);
	TEST_CHECK_MEM(out2.data, out2.len, "x\r\n.\r\n", 6);
	buf_free(&out2);
}

/* ---- Newsgroups and folders ---- */

static void test_group_folder_mapping(void)
{
	struct arena *a = arena_new(0);
	TEST_CHECK_STR(news_group_folder(a, "News", "comp.lang.c"), "News/comp/lang/c");
	TEST_CHECK_STR(news_group_folder(a, "News", "misc"), "News/misc");
	TEST_CHECK_STR(news_group_folder(a, "Usenet/Feed", "de.test"), "Usenet/Feed/de/test");
	TEST_CHECK(news_group_folder(a, "News", "a..b") == NULL);
	TEST_CHECK(news_group_folder(a, "News", ".a") == NULL);
	TEST_CHECK(news_group_folder(a, "News", "a.") == NULL);
	TEST_CHECK(news_group_folder(a, "News", "a/b") == NULL);
	TEST_CHECK(news_group_folder(a, "News", "a b") == NULL);
	TEST_CHECK(news_group_folder(a, "News", "a*") == NULL);
	TEST_CHECK(news_group_folder(a, "News", "") == NULL);

	TEST_CHECK_STR(news_folder_to_group(a, "News", "News/comp/lang/c"), "comp.lang.c");
	TEST_CHECK_STR(news_folder_to_group(a, "Usenet/Feed", "Usenet/Feed/de/test"), "de.test");
	TEST_CHECK(news_folder_to_group(a, "News", "News") == NULL);
	TEST_CHECK(news_folder_to_group(a, "News", "Newsletters/x") == NULL);
	TEST_CHECK(news_folder_to_group(a, "News", "Other/comp") == NULL);
	TEST_CHECK(news_folder_to_group(a, "News", "News/comp.lang") == NULL);
	TEST_CHECK(news_folder_to_group(a, "News", "News//x") == NULL);
	arena_destroy(&a);
}

/* ---- Configuration ---- */

static bool load_config(const char *text, struct petrel_config *cfg, char **error_r)
{
	char path[] = "/tmp/petrel-news-cfg-XXXXXX";
	int fd = mkstemp(path);
	TEST_CHECK(fd >= 0);
	TEST_CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	config_init_defaults(cfg);
	*error_r = NULL;
	bool ok = config_load(cfg, path, error_r);
	unlink(path);
	return ok;
}

static void test_config_news_defaults_and_servers(void)
{
	struct petrel_config cfg;
	char *error;
	config_init_defaults(&cfg);
	TEST_CHECK_STR(cfg.news_root, "Public Folders/News");
	TEST_CHECK_STR(config_news_public_root(&cfg), "News");
	TEST_CHECK_STR(cfg.public_default_acl, "anyone=lrs");
	TEST_CHECK_INT(cfg.news_server_count, 0);
	config_free(&cfg);

	TEST_CHECK(load_config("[news]\nroot = Public Folders/Usenet/Feed\nexpire = 30d\n"
			       "pull_interval = 5m\n"
			       "[news-server a]\nhost = news.example.org\ngroups = comp.*\n"
			       "[news-server b]\nhost = nntp.example.net\nport = 563\n"
			       "tls = implicit\nuser = u\npassword = p w\n"
			       "groups = de.*,!de.alt.*\npost = no\n", &cfg, &error));
	TEST_CHECK(error == NULL);
	TEST_CHECK_STR(config_news_public_root(&cfg), "Usenet/Feed");
	TEST_CHECK_INT(cfg.news_expire, 30 * 86400);
	TEST_CHECK_INT(cfg.news_pull_interval, 300);
	TEST_CHECK_INT(cfg.news_server_count, 2);
	TEST_CHECK_STR(cfg.news_servers[0].name, "a");
	TEST_CHECK_INT(cfg.news_servers[0].port, 0);
	TEST_CHECK(cfg.news_servers[0].tls == CONFIG_NEWS_TLS_NONE);
	TEST_CHECK(cfg.news_servers[0].post);
	TEST_CHECK(cfg.news_servers[0].tls_verify);
	TEST_CHECK_STR(cfg.news_servers[1].password, "p w");
	TEST_CHECK(cfg.news_servers[1].tls == CONFIG_NEWS_TLS_IMPLICIT);
	TEST_CHECK_INT(cfg.news_servers[1].port, 563);
	TEST_CHECK(!cfg.news_servers[1].post);
	config_free(&cfg);
}

static void check_config_error(const char *text, const char *expected_end)
{
	struct petrel_config cfg;
	char *error = NULL;
	TEST_CHECK(!load_config(text, &cfg, &error));
	size_t len = error != NULL ? strlen(error) : 0, end_len = strlen(expected_end);
	TEST_CHECK(error != NULL && len >= end_len &&
		   strcmp(error + len - end_len, expected_end) == 0);
	if (error != NULL && (len < end_len || strcmp(error + len - end_len, expected_end) != 0))
		fprintf(stderr, "  got: %s\n", error);
	free(error);
	config_free(&cfg);
}

static void test_config_news_errors(void)
{
	check_config_error("[news]\nroot = News\n",
			   ":2: [news] root: expected a folder name below \"Public Folders/\", "
			   "got 'News'");
	check_config_error("[news]\nroot = Public Folders/\n", "got 'Public Folders/'");
	check_config_error("[news]\nroot = Public Folders/a/../b\n", "got 'Public Folders/a/../b'");
	check_config_error("[news-server x]\nhost = h\n", ":2: [news-server x] groups: missing");
	check_config_error("\n[news-server x]\ngroups = *\n", ":3: [news-server x] host: missing");
	check_config_error("[news-server x]\nhost = h\ngroups = *\nuser = u\n",
			   "[news-server x] password: missing");
	check_config_error("[news-server x]\ngroups = a,,b\n",
			   ":2: [news-server x] groups: expected a wildmat such as "
			   "comp.*,!comp.lang.*, got 'a,,b'");
	check_config_error("[news-server x]\ntls = yes\n",
			   "[news-server x] tls: expected none, starttls or implicit, got 'yes'");
	check_config_error("[news-server x]\nport = 0\n", "expected a port 1-65535, got '0'");
	check_config_error("[news-server x]\ncolour = blue\n", "[news-server x] colour: unknown key");
	check_config_error("[news-server ]\nhost = h\n", "[news-server ] host: unknown section");
}

static void test_config_acl_list(void)
{
	struct config_acl_entry *e;
	size_t count;
	char *error = NULL;
	TEST_CHECK(config_acl_parse("anyone=lrs  $staff=lrswipte\t-bob=r", &e, &count, &error));
	TEST_CHECK_INT(count, 3);
	if (count == 3) {
		TEST_CHECK_STR(e[0].identifier, "anyone");
		TEST_CHECK_STR(e[0].rights, "lrs");
		TEST_CHECK_STR(e[1].identifier, "$staff");
		TEST_CHECK_STR(e[2].identifier, "-bob");
		TEST_CHECK_STR(e[2].rights, "r");
	}
	config_acl_free(e, count);
	TEST_CHECK(config_acl_parse("", &e, &count, &error));
	TEST_CHECK_INT(count, 0);
	config_acl_free(e, count);

	static const char *const bad[] = { "anyone", "anyone=", "=lr", "anyone=lrz",
					   "anyone=ll", "-=r", "anyone=lr,s", "anyone=c" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		error = NULL;
		TEST_CHECK(!config_acl_parse(bad[i], &e, &count, &error));
		TEST_CHECK(error != NULL);
		free(error);
	}
	check_config_error("[public]\ndefault_acl = anyone=lrq\n",
			   ":2: [public] default_acl: rights must be letters from "
			   "\"lrswipkxtea\", each once, in 'anyone=lrq'");
}

int main(void)
{
	test_run("wildmat_rfc3977_examples", test_wildmat_rfc3977_examples);
	test_run("wildmat_newsgroups", test_wildmat_newsgroups);
	test_run("wildmat_question_mark_is_one_character",
		 test_wildmat_question_mark_is_one_character);
	test_run("wildmat_syntax", test_wildmat_syntax);
	test_run("wildmat_many_stars_stay_linear", test_wildmat_many_stars_stay_linear);
	test_run("status_line", test_status_line);
	test_run("group_answer", test_group_answer);
	test_run("active_line", test_active_line);
	test_run("overview_line", test_overview_line);
	test_run("message_id_syntax", test_message_id_syntax);
	test_run("dot_decoding_every_split", test_dot_decoding_every_split);
	test_run("dot_encoding", test_dot_encoding);
	test_run("group_folder_mapping", test_group_folder_mapping);
	test_run("config_news_defaults_and_servers", test_config_news_defaults_and_servers);
	test_run("config_news_errors", test_config_news_errors);
	test_run("config_acl_list", test_config_acl_list);
	return test_finish();
}
