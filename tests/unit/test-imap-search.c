#include "test-common.h"

#include "imap/imap-parser.h"
#include "imap/imap-search.h"
#include "lib/arena.h"
#include "lib/buf.h"

#include <stdint.h>

/* Tokenizes "t SEARCH <program>" with generous parser limits, parses the
 * arguments as a search program and returns the result; *tree_r gets the
 * canonical form on success (from a). */
static enum imap_search_parse_result parse_with(const char *program,
						const struct imap_search_limits *limits,
						struct arena *a, const char **tree_r,
						const char **error_r)
{
	struct imap_parser_limits pl;
	imap_parser_limits_default(&pl);
	pl.line_length = 4 * 1024 * 1024;
	pl.arguments = 1000000;
	struct imap_parser *p = imap_parser_new(&pl);
	struct buf line = BUF_INIT;
	buf_printf(&line, "t SEARCH %s\r\n", program);
	size_t consumed;
	enum imap_parse_result r = imap_parser_feed(p, line.data, line.len, &consumed);
	TEST_CHECK_INT(r, IMAP_PARSE_COMMAND);
	enum imap_search_parse_result res = IMAP_SEARCH_PARSE_BAD;
	*tree_r = NULL;
	*error_r = "tokenizer";
	if (r == IMAP_PARSE_COMMAND) {
		const struct imap_command *c = imap_parser_get_command(p);
		struct imap_search_program prog;
		res = imap_search_parse(a, c->args, c->args_count, limits, &prog, error_r);
		if (res == IMAP_SEARCH_PARSE_OK) {
			struct buf out = BUF_INIT;
			imap_search_program_format(&prog, &out);
			*tree_r = arena_strdup(a, buf_cstr(&out));
			buf_free(&out);
		}
		imap_search_program_free(&prog);
	}
	buf_free(&line);
	imap_parser_destroy(&p);
	return res;
}

static void check_tree(const char *program, const char *expected)
{
	struct arena *a = arena_new(0);
	struct imap_search_limits limits;
	imap_search_limits_default(&limits);
	const char *tree, *error;
	TEST_CHECK_INT(parse_with(program, &limits, a, &tree, &error), IMAP_SEARCH_PARSE_OK);
	if (tree != NULL)
		TEST_CHECK_STR(tree, expected);
	else
		fprintf(stderr, "  %s: %s\n", program, error);
	arena_destroy(&a);
}

static void check_bad(const char *program, const char *error_part)
{
	struct arena *a = arena_new(0);
	struct imap_search_limits limits;
	imap_search_limits_default(&limits);
	const char *tree, *error;
	TEST_CHECK_INT(parse_with(program, &limits, a, &tree, &error), IMAP_SEARCH_PARSE_BAD);
	if (error_part != NULL && (error == NULL || strstr(error, error_part) == NULL)) {
		fprintf(stderr, "  FAIL %s: error \"%s\", expected \"%s\"\n", program,
			error ? error : "(null)", error_part);
		test_checks_failed++;
	}
	arena_destroy(&a);
}

static void test_every_flag_key_parses(void)
{
	check_tree("ALL", "(ALL)");
	check_tree("answered", "(FLAG 2)");
	check_tree("DELETED DRAFT FLAGGED SEEN",
		   "(AND (FLAG 8) (FLAG 16) (FLAG 4) (FLAG 1))");
	check_tree("UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN",
		   "(AND (UNFLAG 2) (UNFLAG 8) (UNFLAG 16) (UNFLAG 4) (UNFLAG 1))");
	check_tree("RECENT", "(RECENT)");
	check_tree("NEW", "(AND (RECENT) (UNFLAG 1))");
	check_tree("OLD", "(NOT (RECENT))");
	check_tree("KEYWORD $Work UNKEYWORD Junk", "(AND (KEYWORD \"$Work\") (UNKEYWORD \"Junk\"))");
}

static void test_string_keys_are_folded(void)
{
	check_tree("FROM Alice", "(FROM \"alice\")");
	check_tree("TO \"Bob X\" CC {3+}\r\nABC", "(AND (TO \"bob x\") (CC \"abc\"))");
	check_tree("BCC x SUBJECT \"\" BODY y TEXT z",
		   "(AND (BCC \"x\") (SUBJECT \"\") (BODY \"y\") (TEXT \"z\"))");
	check_tree("HEADER Message-ID \"<A@B>\"", "(HEADER \"Message-ID\" \"<a@b>\")");
	/* Latin-1, Latin Extended-A, Greek, Cyrillic capitals. */
	check_tree("CHARSET UTF-8 SUBJECT \"\xc3\x89T\xc3\x89 \xc5\x81\xc3\x93" "D\xc5\xb9\"",
		   "(SUBJECT \"\xc3\xa9t\xc3\xa9 \xc5\x82\xc3\xb3" "d\xc5\xba\")");
	check_tree("BODY \"\xce\x9a\xce\x91\xce\x9b\xce\x97\xce\x9c\xce\x95\xce\xa1\xce\x91\"",
		   "(BODY \"\xce\xba\xce\xb1\xce\xbb\xce\xb7\xce\xbc\xce\xb5\xcf\x81\xce\xb1\")");
	check_tree("BODY \"\xd0\x9e\xd0\xa2\xd0\x9f\xd0\xa3\xd0\xa1\xd0\x9a \xd0\x81\"",
		   "(BODY \"\xd0\xbe\xd1\x82\xd0\xbf\xd1\x83\xd1\x81\xd0\xba \xd1\x91\")");
	/* Not folded: sharp s and dotted capital I (the length would change),
	 * the multiplication sign; final sigma folds to sigma. */
	check_tree("BODY \"\xc3\x9f\xcf\x82\xc4\xb0\xc3\x97\"",
		   "(BODY \"\xc3\x9f\xcf\x83\xc4\xb0\xc3\x97\")");
}

static void test_other_charsets_are_converted(void)
{
	check_tree("CHARSET ISO-8859-1 BODY \"caf\xe9\"", "(BODY \"caf\xc3\xa9\")");
	check_tree("charset \"us-ascii\" BODY x", "(BODY \"x\")");
	check_tree("CHARSET KOI8-R TEXT \"\xf0\xf2\xe9\xf7\xe5\xf4\"",
		   "(TEXT \"\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\")");
	struct arena *a = arena_new(0);
	struct imap_search_limits limits;
	imap_search_limits_default(&limits);
	const char *tree, *error;
	TEST_CHECK_INT(parse_with("CHARSET X-NO-SUCH BODY x", &limits, a, &tree, &error),
		       IMAP_SEARCH_PARSE_BADCHARSET);
	TEST_CHECK_INT(parse_with("CHARSET UTF-8//TRANSLIT BODY x", &limits, a, &tree, &error),
		       IMAP_SEARCH_PARSE_BADCHARSET);
	arena_destroy(&a);
	check_bad("CHARSET", "Charset");
	check_bad("CHARSET UTF-8", "Search key expected");
}

static void test_invalid_utf8_is_refused(void)
{
	check_bad("BODY \"\xc3\"", "UTF-8");
	check_bad("BODY \"\xc0\xaf\"", "UTF-8");          /* overlong */
	check_bad("BODY \"\xed\xa0\x80\"", "UTF-8");      /* surrogate */
	check_bad("BODY \"\xf4\x90\x80\x80\"", "UTF-8");  /* > U+10FFFF */
	check_bad("BODY ~{2+}\r\nxy", "string expected"); /* literal8 is no astring */
	check_bad("CHARSET UTF-16BE BODY {2+}\r\n\xd8\x00", "not valid UTF-16BE");
}

static void test_dates_numbers_and_sets(void)
{
	check_tree("BEFORE 1-Jan-1970 ON \"2-Jan-1970\" SINCE 31-Dec-1969",
		   "(AND (BEFORE 0) (ON 1) (SINCE -1))");
	check_tree("SENTBEFORE 29-Feb-2024 SENTON 01-mar-2024 SENTSINCE 1-Jan-2000",
		   "(AND (SENTBEFORE 19782) (SENTON 19783) (SENTSINCE 10957))");
	check_tree("LARGER 0 SMALLER 9223372036854775807",
		   "(AND (LARGER 0) (SMALLER 9223372036854775807))");
	check_tree("OLDER 1 YOUNGER 4294967295", "(AND (OLDER 1) (YOUNGER 4294967295))");
	check_tree("1:3,5 UID 7:* $ UID $,9", "(AND (SEQ 1:3,5) (UID 7:*) (SEQ $) (UID 9,$))");
	check_bad("BEFORE 29-Feb-2023", "date");
	check_bad("ON 1-Foo-2020", "date");
	check_bad("SINCE 1-Jan-20", "date");
	check_bad("SINCE 100-Jan-2020", "date");
	check_bad("SINCE (1-Jan-2020)", "date");
	check_bad("LARGER -1", "Number");
	check_bad("LARGER 99999999999999999999", "Number");
	check_bad("OLDER 0", "Non-zero");
	check_tree("MODSEQ 0", "(MODSEQ 0)");
	check_tree("MODSEQ \"/flags/\\\\draft\" all 620162338", "(MODSEQ 620162338)");
	check_tree("MODSEQ \"/flags/$Work\" priv 5 SEEN", "(AND (MODSEQ 5) (FLAG 1))");
	check_bad("MODSEQ", "MODSEQ value");
	check_bad("MODSEQ x", "MODSEQ value");
	check_bad("MODSEQ \"/foo/x\" all 1", "MODSEQ entry");
	check_bad("MODSEQ \"/flags/\\\\seen\" any 1", "MODSEQ entry");
	check_bad("MODSEQ \"/flags/x\" all", "MODSEQ value");
	check_bad("1:x", NULL);
	check_bad("UID", "Sequence set");
	check_bad("UID abc", NULL);
}

static void test_groups_not_and_or_nest(void)
{
	check_tree("OR SEEN (FROM a TO b)", "(OR (FLAG 1) (AND (FROM \"a\") (TO \"b\")))");
	check_tree("NOT (SEEN)", "(NOT (FLAG 1))");
	check_tree("OR OR SEEN DELETED NOT NOT DRAFT",
		   "(OR (OR (FLAG 1) (FLAG 8)) (NOT (NOT (FLAG 16))))");
	check_tree("((((ALL))))", "(ALL)");
}

static void test_bad_programs(void)
{
	check_bad("", "Search key expected");
	check_bad("()", "Empty");
	check_bad("FOO", "Unknown search key FOO");
	check_bad("FROM", "Missing search string");
	check_bad("FROM (a)", "string expected");
	check_bad("HEADER Subject", "Missing search string");
	check_bad("OR SEEN", "Missing search key");
	check_bad("NOT", "Missing search key");
	check_bad("KEYWORD \\Seen", "keyword");
	check_bad("KEYWORD", "Keyword expected");
	check_bad("SEEN NIL", "Unknown");
	check_bad("\"SEEN\"", "Unknown");
}

static void test_deep_nesting_is_refused_quickly(void)
{
	struct buf prog = BUF_INIT;
	for (int i = 0; i < 10000; i++)
		buf_append_str(&prog, "NOT ");
	buf_append_str(&prog, "ALL");
	check_bad(buf_cstr(&prog), "nested too deeply");
	buf_reset(&prog);
	for (int i = 0; i < 10000; i++)
		buf_append_str(&prog, "OR ALL ");
	buf_append_str(&prog, "ALL");
	check_bad(buf_cstr(&prog), "nested too deeply");
	buf_reset(&prog);
	/* 100 levels are fine. */
	for (int i = 0; i < 100; i++)
		buf_append_str(&prog, "NOT ");
	buf_append_str(&prog, "ALL");
	struct buf expected = BUF_INIT;
	for (int i = 0; i < 100; i++)
		buf_append_str(&expected, "(NOT ");
	buf_append_str(&expected, "(ALL)");
	for (int i = 0; i < 100; i++)
		buf_append_char(&expected, ')');
	check_tree(buf_cstr(&prog), buf_cstr(&expected));
	buf_free(&expected);
	buf_free(&prog);
}

static void test_node_and_byte_limits(void)
{
	struct arena *a = arena_new(0);
	struct imap_search_limits limits;
	imap_search_limits_default(&limits);
	limits.max_nodes = 3;
	const char *tree, *error;
	TEST_CHECK_INT(parse_with("SEEN SEEN", &limits, a, &tree, &error), IMAP_SEARCH_PARSE_OK);
	TEST_CHECK_INT(parse_with("SEEN SEEN SEEN", &limits, a, &tree, &error),
		       IMAP_SEARCH_PARSE_BAD);
	TEST_CHECK(error != NULL && strstr(error, "too many") != NULL);
	imap_search_limits_default(&limits);
	limits.max_bytes = 5;
	TEST_CHECK_INT(parse_with("BODY abc TEXT de", &limits, a, &tree, &error),
		       IMAP_SEARCH_PARSE_OK);
	TEST_CHECK_INT(parse_with("BODY abc TEXT def", &limits, a, &tree, &error),
		       IMAP_SEARCH_PARSE_BAD);
	TEST_CHECK(error != NULL && strstr(error, "too long") != NULL);
	arena_destroy(&a);
}

static bool match(const char *hay, const char *needle_raw)
{
	struct buf scratch = BUF_INIT;
	char needle[256];
	size_t n = strlen(needle_raw);
	memcpy(needle, needle_raw, n + 1);
	imap_search_fold(needle, n);
	bool r = imap_search_match(&scratch, hay, strlen(hay), needle, n);
	buf_free(&scratch);
	return r;
}

static void test_match_folds_case(void)
{
	TEST_CHECK(match("Hello World", "WORLD"));
	TEST_CHECK(match("Hello World", ""));
	TEST_CHECK(!match("Hello", "hellos"));
	TEST_CHECK(match("\xc3\x89T\xc3\x89", "\xc3\xa9t\xc3\xa9"));         /* ÉTÉ / été */
	TEST_CHECK(match("\xc5\xb8", "\xc3\xbf"));                           /* Ÿ / ÿ */
	TEST_CHECK(match("\xce\x86\xce\xa3", "\xce\xac\xcf\x83"));           /* ΆΣ / άσ */
	TEST_CHECK(match("\xd0\x81\xd0\x96", "\xd1\x91\xd0\xb6"));           /* ЁЖ / ёж */
	TEST_CHECK(!match("\xc3\x9f", "ss"));
	TEST_CHECK(match("\xcf\x82", "\xcf\x83"));                           /* ς is σ */
	TEST_CHECK(!match("\xc3\x97", "\xc3\xb7"));                          /* × is not ÷ */
	/* A multi-byte character followed by stray continuation bytes is one
	 * (malformed) character, so it is not matched. */
	TEST_CHECK(!match("x\xc3\x89\x80y", "\xc3\xa9"));
	TEST_CHECK(match("x\xc3\x89\x80y\xc3\x89", "\xc3\xa9"));
	TEST_CHECK(match("a\x80" "bc", "a"));
}

static void test_dates(void)
{
	int64_t d;
	TEST_CHECK(imap_search_parse_date("1-Jan-1970", 10, &d));
	TEST_CHECK_INT(d, 0);
	TEST_CHECK(imap_search_parse_date("31-Dec-1969", 11, &d));
	TEST_CHECK_INT(d, -1);
	TEST_CHECK(imap_search_parse_date("29-Feb-2000", 11, &d));
	TEST_CHECK(!imap_search_parse_date("29-Feb-1900", 11, &d));
	TEST_CHECK(!imap_search_parse_date("31-Apr-2020", 11, &d));
	TEST_CHECK(!imap_search_parse_date("0-Apr-2020", 10, &d));
	TEST_CHECK(!imap_search_parse_date("1-Apr-20200", 11, &d));
	TEST_CHECK(!imap_search_parse_date("1 Apr 2020", 10, &d));
}

int main(void)
{
	test_run("every_flag_key_parses", test_every_flag_key_parses);
	test_run("string_keys_are_folded", test_string_keys_are_folded);
	test_run("other_charsets_are_converted", test_other_charsets_are_converted);
	test_run("invalid_utf8_is_refused", test_invalid_utf8_is_refused);
	test_run("dates_numbers_and_sets", test_dates_numbers_and_sets);
	test_run("groups_not_and_or_nest", test_groups_not_and_or_nest);
	test_run("bad_programs", test_bad_programs);
	test_run("deep_nesting_is_refused_quickly", test_deep_nesting_is_refused_quickly);
	test_run("node_and_byte_limits", test_node_and_byte_limits);
	test_run("match_folds_case", test_match_folds_case);
	test_run("dates", test_dates);
	return test_finish();
}
