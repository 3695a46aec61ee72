#include "test-common.h"

#include "imap/imap-mutf7.h"
#include "lib/buf.h"

/* Decodes mutf7 and expects utf8, then encodes utf8 and expects mutf7. */
static void check_pair(const char *mutf7, const char *utf8)
{
	struct buf b = BUF_INIT;
	const char *error = NULL;
	TEST_CHECK(imap_mutf7_to_utf8(mutf7, strlen(mutf7), &b, &error));
	TEST_CHECK_STR(buf_cstr(&b), utf8);
	buf_reset(&b);
	TEST_CHECK(imap_utf8_to_mutf7(utf8, strlen(utf8), &b, &error));
	TEST_CHECK_STR(buf_cstr(&b), mutf7);
	TEST_CHECK(imap_mutf7_is_valid(mutf7, strlen(mutf7)));
	buf_free(&b);
}

static void check_decode_fails(const char *mutf7, size_t len,
			       const char *expected_error)
{
	struct buf b = BUF_INIT;
	const char *error = NULL;
	TEST_CHECK(!imap_mutf7_to_utf8(mutf7, len, &b, &error));
	TEST_CHECK_STR(error, expected_error);
	TEST_CHECK(!imap_mutf7_is_valid(mutf7, len));
	buf_free(&b);
}

static void check_encode_fails(const char *utf8, size_t len,
			       const char *expected_error)
{
	struct buf b = BUF_INIT;
	const char *error = NULL;
	TEST_CHECK(!imap_utf8_to_mutf7(utf8, len, &b, &error));
	TEST_CHECK_STR(error, expected_error);
	buf_free(&b);
}

static void test_mutf7_ascii_passes_through(void)
{
	check_pair("", "");
	check_pair("INBOX", "INBOX");
	check_pair("Sent Items/2024", "Sent Items/2024");
	check_pair("~!@#$%^*()_+{}|:\"<>?`-=[]\\;',./", "~!@#$%^*()_+{}|:\"<>?`-=[]\\;',./");
}

static void test_mutf7_ampersand(void)
{
	check_pair("&-", "&");
	check_pair("Tom &- Jerry", "Tom & Jerry");
	check_pair("&-&-", "&&");
	check_pair("a&-&AOk-", "a&\xc3\xa9");
}

static void test_mutf7_rfc3501_example(void)
{
	/* RFC 3501 5.1.3: "~peter/mail/台北/日本語" */
	check_pair("~peter/mail/&U,BTFw-/&ZeVnLIqe-",
		   "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/"
		   "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
}

static void test_mutf7_various_lengths(void)
{
	/* 1, 2 and 3 UTF-16 units: every padding case (2, 4, 0 bits). */
	check_pair("&AOk-", "\xc3\xa9");                 /* é */
	check_pair("&AOkA6Q-", "\xc3\xa9\xc3\xa9");
	check_pair("&AOkA6QDp-", "\xc3\xa9\xc3\xa9\xc3\xa9");
	check_pair("Entw&APw-rfe", "Entw\xc3\xbc" "rfe");
	check_pair("&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-",
		   "\xd0\x9e\xd1\x82\xd0\xbf\xd1\x80\xd0\xb0\xd0\xb2\xd0\xbb"
		   "\xd0\xb5\xd0\xbd\xd0\xbd\xd1\x8b\xd0\xb5"); /* Отправленные */
	check_pair("&AKA-", "\xc2\xa0");                 /* U+00A0 */
	check_pair("&,,0-", "\xef\xbf\xbd");             /* U+FFFD */
}

static void test_mutf7_surrogate_pairs(void)
{
	/* U+1F600 = D83D DE00 */
	check_pair("&2D3eAA-", "\xf0\x9f\x98\x80");
	check_pair("x&2D3eANg93gE-y", "x\xf0\x9f\x98\x80\xf0\x9f\x98\x81y");
	/* U+10FFFF = DBFF DFFF */
	check_pair("&2,,f,w-", "\xf4\x8f\xbf\xbf");
}

static void test_mutf7_adjacent_sections_accepted(void)
{
	struct buf b = BUF_INIT;
	const char *error;
	TEST_CHECK(imap_mutf7_to_utf8("&AOk-&AOk-", 10, &b, &error));
	TEST_CHECK_STR(buf_cstr(&b), "\xc3\xa9\xc3\xa9");
	buf_free(&b);
}

static void test_mutf7_decode_rejections(void)
{
	check_decode_fails("&AOk", 4, "Unterminated '&' in modified UTF-7");
	check_decode_fails("abc&", 4, "Unterminated '&' in modified UTF-7");
	check_decode_fails("&AO!-", 5, "Invalid character in modified base64");
	check_decode_fails("&AO/-", 5, "Invalid character in modified base64");
	check_decode_fails("&AO=-", 5, "Invalid character in modified base64");
	/* non-zero leftover bits: "AOl" leaves 2 bits = 01 */
	check_decode_fails("&AOl-", 5, "Invalid modified base64 padding");
	/* a whole useless extra character (6+ leftover bits) */
	check_decode_fails("&AOkA-", 6, "Invalid modified base64 padding");
	/* one character alone is 6 bits, less than a UTF-16 unit */
	check_decode_fails("&A-", 3, "Invalid modified base64 padding");
	/* printable ASCII must represent itself: "&AGE-" is "a" */
	check_decode_fails("&AGE-", 5,
			   "Printable US-ASCII encoded in modified base64");
	check_decode_fails("&ACY-", 5,
			   "Printable US-ASCII encoded in modified base64");
	/* NUL and control characters, encoded */
	check_decode_fails("&AAA-", 5, "Control character in mailbox name");
	check_decode_fails("&AAo-", 5, "Control character in mailbox name");
	check_decode_fails("&AH8-", 5, "Control character in mailbox name");
	check_decode_fails("&AIU-", 5, "Control character in mailbox name");
	/* surrogates: lone high, lone low, high followed by non-low */
	check_decode_fails("&2D0-", 5, "Unpaired UTF-16 surrogate");
	check_decode_fails("&3gA-", 5, "Unpaired UTF-16 surrogate");
	check_decode_fails("&2D0AOQ-", 8, "Unpaired UTF-16 surrogate");
	/* raw bytes that are not printable ASCII */
	check_decode_fails("a\x80", 2, "Invalid character in modified UTF-7");
	check_decode_fails("caf\xc3\xa9", 5, "Invalid character in modified UTF-7");
	check_decode_fails("a\tb", 3, "Invalid character in modified UTF-7");
	check_decode_fails("a\0b", 3, "Invalid character in modified UTF-7");
	check_decode_fails("a\x7f", 2, "Invalid character in modified UTF-7");
}

static void test_mutf7_encode_rejections(void)
{
	check_encode_fails("\xc3", 1, "Invalid UTF-8 in mailbox name");
	check_encode_fails("\xc3(", 2, "Invalid UTF-8 in mailbox name");
	check_encode_fails("\xc0\xaf", 2, "Invalid UTF-8 in mailbox name");
	check_encode_fails("\xe0\x80\xaf", 3, "Invalid UTF-8 in mailbox name");
	check_encode_fails("\xed\xa0\x80", 3, "Invalid UTF-8 in mailbox name");
	check_encode_fails("\xed\xbf\xbf", 3, "Invalid UTF-8 in mailbox name");
	check_encode_fails("\xf4\x90\x80\x80", 4, "Invalid UTF-8 in mailbox name");
	check_encode_fails("\xf8\x88\x80\x80\x80", 5, "Invalid UTF-8 in mailbox name");
	check_encode_fails("\xff", 1, "Invalid UTF-8 in mailbox name");
	check_encode_fails("\x80", 1, "Invalid UTF-8 in mailbox name");
	check_encode_fails("a\0b", 3, "Control character in mailbox name");
	check_encode_fails("a\nb", 3, "Control character in mailbox name");
	check_encode_fails("\x7f", 1, "Control character in mailbox name");
	check_encode_fails("\xc2\x85", 2, "Control character in mailbox name");
}

static void test_mutf7_decode_appends(void)
{
	struct buf b = BUF_INIT;
	const char *error;
	buf_append_str(&b, "x/");
	TEST_CHECK(imap_mutf7_to_utf8("&AOk-", 5, &b, &error));
	TEST_CHECK_STR(buf_cstr(&b), "x/\xc3\xa9");
	buf_free(&b);
}

int main(void)
{
	test_run("mutf7_ascii_passes_through", test_mutf7_ascii_passes_through);
	test_run("mutf7_ampersand", test_mutf7_ampersand);
	test_run("mutf7_rfc3501_example", test_mutf7_rfc3501_example);
	test_run("mutf7_various_lengths", test_mutf7_various_lengths);
	test_run("mutf7_surrogate_pairs", test_mutf7_surrogate_pairs);
	test_run("mutf7_adjacent_sections_accepted", test_mutf7_adjacent_sections_accepted);
	test_run("mutf7_decode_rejections", test_mutf7_decode_rejections);
	test_run("mutf7_encode_rejections", test_mutf7_encode_rejections);
	test_run("mutf7_decode_appends", test_mutf7_decode_appends);
	return test_finish();
}
