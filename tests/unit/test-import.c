/* The format details of petrel import/export (src/cli/mailfmt.c): Maildir
 * file names and flags, Maildir++ folder names, mbox From_ lines, escapes
 * and status headers. */

#include "test-common.h"

#include "cli/mailfmt.h"
#include "lib/buf.h"
#include "store/store.h"

#include <time.h>

static struct mailfmt_maildir_flags parse(const char *name, bool *has_info)
{
	struct mailfmt_maildir_flags f;
	*has_info = mailfmt_maildir_info_parse(name, &f);
	return f;
}

static void test_maildir_info_flags(void)
{
	bool info;
	struct mailfmt_maildir_flags f = parse("1700000000.M1P2.host,S=20,W=21:2,DFPRST", &info);
	TEST_CHECK(info);
	TEST_CHECK_INT(f.flags, STORE_FLAG_DRAFT | STORE_FLAG_FLAGGED | STORE_FLAG_ANSWERED |
				STORE_FLAG_SEEN | STORE_FLAG_DELETED);
	TEST_CHECK(f.forwarded);
	TEST_CHECK_INT(f.letters, 0);
	f = parse("cur/1.M1.host:2,Sac", &info);
	TEST_CHECK(info);
	TEST_CHECK_INT(f.flags, STORE_FLAG_SEEN);
	TEST_CHECK(!f.forwarded);
	TEST_CHECK_INT(f.letters, (1u << 0) | (1u << 2));
	f = parse("1.M1.host:2,", &info);
	TEST_CHECK(info);
	TEST_CHECK_INT(f.flags, 0);
	/* Any order, unknown letters ignored, "z" is the last keyword. */
	f = parse("x:2,TSXz", &info);
	TEST_CHECK_INT(f.flags, STORE_FLAG_SEEN | STORE_FLAG_DELETED);
	TEST_CHECK_INT(f.letters, 1u << 25);
}

static void test_maildir_without_info(void)
{
	bool info;
	struct mailfmt_maildir_flags f = parse("new/1700000000.M1P2.host,S=20", &info);
	TEST_CHECK(!info);
	TEST_CHECK_INT(f.flags, 0);
	/* Experimental info "1," and a colon in the directory part. */
	f = parse("1.M1.host:1,S", &info);
	TEST_CHECK(!info);
	TEST_CHECK_INT(f.flags, 0);
	f = parse("/a:2,S/1.host", &info);
	TEST_CHECK(!info);
	TEST_CHECK_INT(mailfmt_maildir_base_len("1.host,S=3:2,S"), 10);
	TEST_CHECK_INT(mailfmt_maildir_base_len("1.host"), 6);
}

static void test_maildir_info_format_round_trip(void)
{
	struct mailfmt_maildir_flags f = {
		.flags = STORE_FLAGS_ALL, .forwarded = true, .letters = (1u << 1) | (1u << 25) };
	struct buf out = BUF_INIT;
	mailfmt_maildir_info_format(&f, &out);
	TEST_CHECK_STR(buf_cstr(&out), ":2,DFPRSTbz");
	bool info;
	struct mailfmt_maildir_flags back = parse(buf_cstr(&out), &info);
	TEST_CHECK(info && back.flags == f.flags && back.forwarded && back.letters == f.letters);
	buf_reset(&out);
	f = (struct mailfmt_maildir_flags){ 0 };
	mailfmt_maildir_info_format(&f, &out);
	TEST_CHECK_STR(buf_cstr(&out), ":2,");
	buf_free(&out);
}

static const char *folder_decode(const char *dir)
{
	static struct buf out;
	buf_reset(&out);
	return mailfmt_maildir_folder_decode(dir, &out) ? buf_cstr(&out) : NULL;
}

static const char *folder_encode(const char *name)
{
	static struct buf out;
	buf_reset(&out);
	return mailfmt_maildir_folder_encode(name, &out) ? buf_cstr(&out) : NULL;
}

static void test_maildir_folder_names(void)
{
	TEST_CHECK_STR(folder_decode(".Sub"), "Sub");
	TEST_CHECK_STR(folder_decode(".Sub.Folder"), "Sub/Folder");
	TEST_CHECK_STR(folder_decode(".Caf&AOk-.&ZeVnLIqe-"),
		       "Caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	TEST_CHECK_STR(folder_decode(".a&-b"), "a&b");
	TEST_CHECK_STR(folder_decode(".dots&AC4-in&AC4-name"), "dots.in.name");
	TEST_CHECK_STR(folder_decode(".end&AC4-"), "end.");
	TEST_CHECK_STR(folder_decode(".INBOX.x"), "INBOX/x");
	TEST_CHECK(folder_decode("Sub") == NULL);          /* not a folder */
	TEST_CHECK(folder_decode(".") == NULL);
	TEST_CHECK(folder_decode(".a..b") == NULL);        /* empty level */
	TEST_CHECK(folder_decode(".a.") == NULL);
	TEST_CHECK(folder_decode(".Caf&AOk") == NULL);     /* unterminated */
	TEST_CHECK(folder_decode(".&AGE-") == NULL);       /* encoded 'a' */
	TEST_CHECK(folder_decode(".a&AC8-b") == NULL);     /* encoded '/' */
	TEST_CHECK(folder_decode(".caf\xc3\xa9") == NULL); /* raw 8-bit */

	TEST_CHECK_STR(folder_encode("Sub/Folder"), ".Sub.Folder");
	TEST_CHECK_STR(folder_encode("Caf\xc3\xa9"), ".Caf&AOk-");
	TEST_CHECK_STR(folder_encode("dots.in.name"), ".dots&AC4-in&AC4-name");
	TEST_CHECK_STR(folder_encode("Sub/x.y"), ".Sub.x&AC4-y");
	TEST_CHECK_STR(folder_encode("a&b"), ".a&-b");
	TEST_CHECK(folder_encode("bad\xff") == NULL);
	static const char *const names[] = { "A", "A/B/C", "x.y/z.", ".lead", "Caf\xc3\xa9/&",
					     "\xe2\x98\x83.\xe2\x98\x83" };
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		char *enc = strdup(folder_encode(names[i]));
		TEST_CHECK_STR(folder_decode(enc), names[i]);
		free(enc);
	}
}

static void test_dovecot_keywords_lines(void)
{
	int index;
	const char *name;
	TEST_CHECK(mailfmt_dovecot_keywords_line("0 $Forwarded", &index, &name));
	TEST_CHECK_INT(index, 0);
	TEST_CHECK_STR(name, "$Forwarded");
	TEST_CHECK(mailfmt_dovecot_keywords_line("25 Work", &index, &name));
	TEST_CHECK_INT(index, 25);
	TEST_CHECK(!mailfmt_dovecot_keywords_line("26 Over", &index, &name));
	TEST_CHECK(!mailfmt_dovecot_keywords_line("x Work", &index, &name));
	TEST_CHECK(!mailfmt_dovecot_keywords_line("1", &index, &name));
	TEST_CHECK(!mailfmt_dovecot_keywords_line("1 ", &index, &name));
	TEST_CHECK(!mailfmt_dovecot_keywords_line("", &index, &name));
	TEST_CHECK(!mailfmt_dovecot_keywords_line("999999999999 x", &index, &name));
}

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = mi, .tm_sec = s };
	return (int64_t)timegm(&tm);
}

static bool from_date(const char *line, int64_t *t)
{
	return mailfmt_mbox_from_date(line, strlen(line), t);
}

static void test_mbox_from_lines(void)
{
	int64_t t = 0;
	TEST_CHECK(from_date("From MAILER-DAEMON Wed Nov 25 19:24:41 2026", &t));
	TEST_CHECK_INT(t, utc(2026, 11, 25, 19, 24, 41));
	TEST_CHECK(from_date("From user@example.com Sat Jan  3 01:05:34 1996", &t));
	TEST_CHECK_INT(t, utc(1996, 1, 3, 1, 5, 34));
	/* Without seconds; zone after the year or after the time. */
	TEST_CHECK(from_date("From a@b Thu Jan  7 08:09 2021", &t));
	TEST_CHECK_INT(t, utc(2021, 1, 7, 8, 9, 0));
	TEST_CHECK(from_date("From a@b Thu Jan  7 08:09:10 2021 +0100", &t));
	TEST_CHECK_INT(t, utc(2021, 1, 7, 7, 9, 10));
	TEST_CHECK(from_date("From a@b Thu Jan  7 08:09:10 -0230 2021", &t));
	TEST_CHECK_INT(t, utc(2021, 1, 7, 10, 39, 10));
	/* No sender, a sender with spaces, odd spacing, case. */
	TEST_CHECK(from_date("From  Mon Feb 29 00:00:00 2016", &t));
	TEST_CHECK_INT(t, utc(2016, 2, 29, 0, 0, 0));
	TEST_CHECK(from_date("From \"John Doe\"@x.org  mon feb  1 10:00:00 2016", &t));
	TEST_CHECK_INT(t, utc(2016, 2, 1, 10, 0, 0));
	/* Senders that look like days are skipped when no date follows. */
	TEST_CHECK(from_date("From Sun Sun Mar  6 06:06:06 2016", &t));
	TEST_CHECK_INT(t, utc(2016, 3, 6, 6, 6, 6));
	/* Not dates. */
	TEST_CHECK(!from_date("From a@b", &t));
	TEST_CHECK(!from_date("From a@b Wed Nov 25 25:00:00 2026", &t));
	TEST_CHECK(!from_date("From a@b Wed Nov 32 10:00:00 2026", &t));
	TEST_CHECK(!from_date("From a@b Wed Foo 25 10:00:00 2026", &t));
	TEST_CHECK(!from_date("From a@b Wed Nov 25 10:00:00", &t));
	TEST_CHECK(!from_date("From: a@b Wed Nov 25 10:00:00 2026", &t));
	TEST_CHECK(!from_date(">From a@b Wed Nov 25 10:00:00 2026", &t));
}

static void test_mbox_separators_and_escapes(void)
{
	TEST_CHECK(mailfmt_mbox_is_from_line("From a", 6));
	TEST_CHECK(mailfmt_mbox_is_from_line("From ", 5));
	TEST_CHECK(!mailfmt_mbox_is_from_line("From", 4));
	TEST_CHECK(!mailfmt_mbox_is_from_line("From:", 5));
	TEST_CHECK(!mailfmt_mbox_is_from_line("from a", 6));
	TEST_CHECK(!mailfmt_mbox_is_from_line(" From a", 7));
	TEST_CHECK(mailfmt_mbox_is_escaped_from(">From x", 7));
	TEST_CHECK(mailfmt_mbox_is_escaped_from(">>>From x", 9));
	TEST_CHECK(!mailfmt_mbox_is_escaped_from("From x", 6));
	TEST_CHECK(!mailfmt_mbox_is_escaped_from(">From", 5));
	TEST_CHECK(!mailfmt_mbox_is_escaped_from("> From x", 8));
	TEST_CHECK(!mailfmt_mbox_is_escaped_from(">", 1));
	/* Length is honoured (no terminating NUL needed). */
	TEST_CHECK(!mailfmt_mbox_is_escaped_from(">From x", 5));
}

static void test_mbox_status_headers(void)
{
	TEST_CHECK_INT(mailfmt_mbox_status_flags(" RO", 3), STORE_FLAG_SEEN);
	TEST_CHECK_INT(mailfmt_mbox_status_flags(" O", 2), 0);
	TEST_CHECK_INT(mailfmt_mbox_status_flags("", 0), 0);
	TEST_CHECK_INT(mailfmt_mbox_xstatus_flags(" AFDT", 5),
		       STORE_FLAG_ANSWERED | STORE_FLAG_FLAGGED | STORE_FLAG_DELETED |
		       STORE_FLAG_DRAFT);
	TEST_CHECK_INT(mailfmt_mbox_xstatus_flags(" R", 2), 0);
	TEST_CHECK(mailfmt_mbox_is_state_header("Status", 6));
	TEST_CHECK(mailfmt_mbox_is_state_header("x-status", 8));
	TEST_CHECK(mailfmt_mbox_is_state_header("X-Keywords", 10));
	TEST_CHECK(mailfmt_mbox_is_state_header("X-UID", 5));
	TEST_CHECK(mailfmt_mbox_is_state_header("X-IMAPbase", 10));
	TEST_CHECK(!mailfmt_mbox_is_state_header("Subject", 7));
	TEST_CHECK(!mailfmt_mbox_is_state_header("Statu", 5));
	TEST_CHECK(!mailfmt_mbox_is_state_header("X-Status-Extra", 14));
}

static void test_keyword_validity(void)
{
	TEST_CHECK(mailfmt_keyword_valid("$Forwarded", 10));
	TEST_CHECK(mailfmt_keyword_valid("NonJunk", 7));
	TEST_CHECK(!mailfmt_keyword_valid("", 0));
	TEST_CHECK(!mailfmt_keyword_valid("\\Seen", 5));
	TEST_CHECK(!mailfmt_keyword_valid("a b", 3));
	TEST_CHECK(!mailfmt_keyword_valid("a(b", 3));
	TEST_CHECK(!mailfmt_keyword_valid("caf\xc3\xa9", 5));
	TEST_CHECK(!mailfmt_keyword_valid("x]", 2));
}

int main(void)
{
	test_run("maildir_info_flags", test_maildir_info_flags);
	test_run("maildir_without_info", test_maildir_without_info);
	test_run("maildir_info_format_round_trip", test_maildir_info_format_round_trip);
	test_run("maildir_folder_names", test_maildir_folder_names);
	test_run("dovecot_keywords_lines", test_dovecot_keywords_lines);
	test_run("mbox_from_lines", test_mbox_from_lines);
	test_run("mbox_separators_and_escapes", test_mbox_separators_and_escapes);
	test_run("mbox_status_headers", test_mbox_status_headers);
	test_run("keyword_validity", test_keyword_validity);
	return test_finish();
}
