#include "test-common.h"

#include "imap/imap-mailbox-name.h"
#include "lib/arena.h"

static struct arena *arena;

static enum imap_mailbox_name_result decode(const char *client, bool utf8,
					    unsigned max_length,
					    unsigned max_depth,
					    const char **name_r)
{
	struct imap_mailbox_name_limits limits = { max_length, max_depth };
	const char *error = NULL;
	*name_r = NULL;
	enum imap_mailbox_name_result r = imap_mailbox_name_decode(
		client, strlen(client), utf8,
		max_length == 0 && max_depth == 0 ? NULL : &limits, arena,
		name_r, &error);
	TEST_CHECK(r == IMAP_MAILBOX_NAME_OK ? *name_r != NULL : error != NULL);
	return r;
}

static void check_ok(const char *client, bool utf8, const char *expected)
{
	const char *name;
	TEST_CHECK_INT(decode(client, utf8, 0, 0, &name), IMAP_MAILBOX_NAME_OK);
	TEST_CHECK_STR(name, expected);
}

static void check_fails(const char *client, bool utf8,
			enum imap_mailbox_name_result expected)
{
	const char *name;
	TEST_CHECK_INT(decode(client, utf8, 0, 0, &name), expected);
	TEST_CHECK(name == NULL);
}

static void test_modified_utf7_is_decoded(void)
{
	check_ok("Sent", false, "Sent");
	check_ok("&ZeVnLIqe-", false, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	check_ok("Caf&AOk-/x", false, "Caf\xc3\xa9/x");
	check_ok("A&-B", false, "A&B");
	check_fails("&Jjo", false, IMAP_MAILBOX_NAME_BAD_ENCODING);
	check_fails("a&b", false, IMAP_MAILBOX_NAME_BAD_ENCODING);
	check_fails("&AGE-", false, IMAP_MAILBOX_NAME_BAD_ENCODING);
	check_fails("Gr\xc3\xbc\xc3\x9f" "e", false, IMAP_MAILBOX_NAME_BAD_ENCODING);
}

static void test_utf8_sessions_take_names_as_they_are(void)
{
	check_ok("Caf\xc3\xa9", true, "Caf\xc3\xa9");
	check_ok("A&B", true, "A&B");
	check_fails("Caf\xe9", true, IMAP_MAILBOX_NAME_INVALID);
}

static void test_one_trailing_delimiter_is_dropped(void)
{
	check_ok("foo/", false, "foo");
	check_ok("foo/bar/", false, "foo/bar");
	check_fails("foo//", false, IMAP_MAILBOX_NAME_INVALID);
	check_fails("/", false, IMAP_MAILBOX_NAME_INVALID);
}

static void test_inbox_is_normalised(void)
{
	check_ok("inbox", false, "INBOX");
	check_ok("InBoX/Sub", false, "INBOX/Sub");
	check_ok("inbox/", false, "INBOX");
	check_ok("inboxes", false, "inboxes");
	check_ok("Sub/inbox", false, "Sub/inbox");
}

static void test_invalid_names(void)
{
	check_fails("", false, IMAP_MAILBOX_NAME_INVALID);
	check_fails("a/../b", false, IMAP_MAILBOX_NAME_INVALID);
	check_fails(".", false, IMAP_MAILBOX_NAME_INVALID);
	check_fails("/a", false, IMAP_MAILBOX_NAME_INVALID);
	check_fails("a//b", false, IMAP_MAILBOX_NAME_INVALID);
	check_fails("a\tb", false, IMAP_MAILBOX_NAME_BAD_ENCODING);
	check_fails("a\tb", true, IMAP_MAILBOX_NAME_INVALID);
	check_fails("a\x7f", true, IMAP_MAILBOX_NAME_INVALID);
	const char *name, *error;
	TEST_CHECK_INT(imap_mailbox_name_decode("a\0b", 3, true, NULL, arena,
						&name, &error),
		       IMAP_MAILBOX_NAME_INVALID);
}

static void test_limits(void)
{
	const char *name;
	TEST_CHECK_INT(decode("abcd", false, 4, 0, &name), IMAP_MAILBOX_NAME_OK);
	TEST_CHECK_INT(decode("abcde", false, 4, 0, &name), IMAP_MAILBOX_NAME_TOO_LONG);
	/* Bytes of UTF-8, not of the modified UTF-7 form. */
	TEST_CHECK_INT(decode("&AOkA6QDp-", false, 6, 0, &name), IMAP_MAILBOX_NAME_OK);
	TEST_CHECK_INT(decode("&AOkA6QDp-", false, 5, 0, &name), IMAP_MAILBOX_NAME_TOO_LONG);
	/* The trailing delimiter is not counted. */
	TEST_CHECK_INT(decode("abcd/", false, 4, 0, &name), IMAP_MAILBOX_NAME_OK);
	TEST_CHECK_INT(decode("a/b/c", false, 0, 3, &name), IMAP_MAILBOX_NAME_OK);
	TEST_CHECK_INT(decode("a/b/c/d", false, 0, 3, &name), IMAP_MAILBOX_NAME_TOO_DEEP);
	TEST_CHECK_INT(decode("a/b/c/", false, 0, 3, &name), IMAP_MAILBOX_NAME_OK);
}

int main(void)
{
	arena = arena_new(0);
	test_run("modified_utf7_is_decoded", test_modified_utf7_is_decoded);
	test_run("utf8_sessions_take_names_as_they_are", test_utf8_sessions_take_names_as_they_are);
	test_run("one_trailing_delimiter_is_dropped", test_one_trailing_delimiter_is_dropped);
	test_run("inbox_is_normalised", test_inbox_is_normalised);
	test_run("invalid_names", test_invalid_names);
	test_run("limits", test_limits);
	arena_destroy(&arena);
	return test_finish();
}
