#include "test-common.h"

#include "imap/imap-list-match.h"

#define M(pattern, name) TEST_CHECK(imap_list_match(pattern, name, '/'))
#define N(pattern, name) TEST_CHECK(!imap_list_match(pattern, name, '/'))

static void test_literal_pattern_matches_only_itself(void)
{
	M("Sent", "Sent");
	N("Sent", "sent");
	N("Sent", "Sent/2024");
	N("Sent", "Sen");
	N("Sen", "Sent");
	M("", "");
	N("", "a");
}

static void test_star_matches_across_levels(void)
{
	M("*", "a");
	M("*", "a/b/c");
	M("*", "");
	M("a/*", "a/b");
	M("a/*", "a/b/c");
	M("a/*", "a/");
	N("a/*", "a");
	N("a/*", "ab/c");
	M("*/c", "a/b/c");
	M("a*c", "abc");
	M("a*c", "a/b/c");
	N("a*c", "a/b/cd");
}

static void test_percent_stays_within_one_level(void)
{
	M("%", "a");
	M("%", "");
	N("%", "a/b");
	M("a/%", "a/b");
	N("a/%", "a/b/c");
	M("%/%", "a/b");
	N("%/%", "a");
	M("a%c", "abc");
	N("a%c", "a/c");
	M("%/b", "a/b");
}

/* Leftmost choices are not enough: "%" must be able to start after a
 * later delimiter (backtracking cases, computed without backtracking). */
static void test_wildcards_choose_any_split(void)
{
	M("*/%x", "a/b/x");
	N("*/%x", "a/b/x/y");
	M("*b*b", "abab");
	M("%a%a%", "banana");
	N("%a%a%a%a", "banana");
	M("*2", "foo2");
	M("*2", "baz2/bar22");
	N("*2", "foo2/bar1");
	M("%2", "foo2");
	N("%2", "baz2/bar2");
}

static void test_runs_of_wildcards_collapse(void)
{
	M("**", "a/b");
	M("%%", "ab");
	N("%%", "a/b");
	M("%*", "a/b");
	M("*%", "a/b");
	M("a%%*%b", "a/x/b");
	N("a%%%%b", "a/b");
}

static void test_inbox_is_case_insensitive(void)
{
	M("inbox", "INBOX");
	M("Inbox", "INBOX");
	M("INBOX", "INBOX");
	M("inbox/%", "INBOX/Sub");
	M("in*", "INBOX");
	M("iNbOx/*", "INBOX/a/b");
	/* Only INBOX's own five characters. */
	N("inbox/sub", "INBOX/Sub");
	N("inboxes", "INBOXES");
	N("inbox", "Inbox2");
	N("sent", "Sent");
}

static void test_utf8_names_match_by_character(void)
{
	M("%", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	M("\xe6\x97\xa5*", "\xe6\x97\xa5\xe6\x9c\xac/x");
	N("\xe6\x97\xa5%", "\xe6\x97\xa5\xe6\x9c\xac/x");
	M("*\xe8\xaa\x9e", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
}

static void test_long_names_and_patterns(void)
{
	char name[2001], pattern[4001];
	for (size_t i = 0; i < 2000; i++)
		name[i] = (i % 2) ? '/' : 'a';
	name[2000] = '\0';
	M("*", name);
	N("%", name);
	/* Many wildcards against a long name: work stays bounded. */
	for (size_t i = 0; i < 4000; i++)
		pattern[i] = (i % 2) ? '*' : 'a';
	pattern[4000] = '\0';
	N(pattern, name);
	for (size_t i = 0; i < 4000; i++)
		pattern[i] = '*';
	M(pattern, name);
}

static void test_any_of_several_patterns(void)
{
	const char *patterns[] = { "INBOX", "Drafts", "Sent/%" };
	TEST_CHECK(imap_list_match_any(patterns, 3, "INBOX", '/'));
	TEST_CHECK(imap_list_match_any(patterns, 3, "Sent/March", '/'));
	TEST_CHECK(!imap_list_match_any(patterns, 3, "Sent", '/'));
	TEST_CHECK(!imap_list_match_any(patterns, 0, "INBOX", '/'));
}

static void test_other_delimiters(void)
{
	TEST_CHECK(imap_list_match("a.%", "a.b", '.'));
	TEST_CHECK(!imap_list_match("a.%", "a.b.c", '.'));
	TEST_CHECK(imap_list_match("a.%", "a.b/c", '.'));
}

int main(void)
{
	test_run("literal_pattern_matches_only_itself", test_literal_pattern_matches_only_itself);
	test_run("star_matches_across_levels", test_star_matches_across_levels);
	test_run("percent_stays_within_one_level", test_percent_stays_within_one_level);
	test_run("wildcards_choose_any_split", test_wildcards_choose_any_split);
	test_run("runs_of_wildcards_collapse", test_runs_of_wildcards_collapse);
	test_run("inbox_is_case_insensitive", test_inbox_is_case_insensitive);
	test_run("utf8_names_match_by_character", test_utf8_names_match_by_character);
	test_run("long_names_and_patterns", test_long_names_and_patterns);
	test_run("any_of_several_patterns", test_any_of_several_patterns);
	test_run("other_delimiters", test_other_delimiters);
	return test_finish();
}
