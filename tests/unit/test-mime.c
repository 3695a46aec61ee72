#include "test-common.h"

#include "lib/arena.h"
#include "lib/buf.h"
#include "mime/mime.h"
#include "mime/mime-digest.h"
#include "mime/mime-imapstr.h"
#include "mime/mime-syntax.h"

#include <dirent.h>
#include <stdint.h>
#include <unistd.h>

/* The corpus is tests/corpus. Tried in order: $PETREL_CORPUS_DIR; the path
 * of this source file as compiled (relative to the build directory, where
 * meson runs tests); the source tree above a build directory that sits at
 * the top of it (<src>/<build>/tests/unit/test-mime). */
static bool corpus_dir_usable(const char *dir)
{
	DIR *d = opendir(dir);
	if (d != NULL)
		closedir(d);
	return d != NULL;
}

static const char *corpus_dir(void)
{
	static char dir[4096];
	const char *env = getenv("PETREL_CORPUS_DIR");
	if (env != NULL)
		return env;
	if (dir[0] != '\0')
		return dir;
	snprintf(dir, sizeof(dir), "%s", __FILE__);
	char *slash = strrchr(dir, '/');
	if (slash != NULL)
		*slash = '\0';
	else
		strcpy(dir, ".");
	strncat(dir, "/../corpus", sizeof(dir) - strlen(dir) - 1);
	if (corpus_dir_usable(dir))
		return dir;
	char exe[3000];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *exe_slash = strrchr(exe, '/');
		if (exe_slash != NULL)
			*exe_slash = '\0';
		snprintf(dir, sizeof(dir), "%s/../../../tests/corpus", exe);
	}
	return dir;
}

/* Loads a corpus file into b; the test fails loudly when it is missing. */
static bool corpus_load(const char *name, struct buf *b)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", corpus_dir(), name);
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "  cannot open %s\n", path);
		test_checks_failed++;
		return false;
	}
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(b, chunk, n);
	fclose(f);
	return true;
}

/* The store normalises line endings to CRLF; most tests parse that form. */
static void to_crlf(struct buf *out, const struct buf *in)
{
	for (size_t i = 0; i < in->len; i++) {
		if (in->data[i] == '\n' && (i == 0 || in->data[i - 1] != '\r'))
			buf_append_char(out, '\r');
		buf_append_char(out, (char)in->data[i]);
	}
}

struct fixture {
	struct arena *a;
	struct buf msg;
	struct mime_part *root;
	struct buf out;
};

static bool fixture_open(struct fixture *fx, const char *name, bool crlf)
{
	struct buf raw = BUF_INIT;
	memset(fx, 0, sizeof(*fx));
	fx->a = arena_new(0);
	if (!corpus_load(name, &raw)) {
		buf_free(&raw);
		return false;
	}
	if (crlf)
		to_crlf(&fx->msg, &raw);
	else
		buf_append(&fx->msg, raw.data, raw.len);
	buf_free(&raw);
	fx->root = mime_parse(fx->a, fx->msg.data, fx->msg.len, NULL);
	return true;
}

static void fixture_close(struct fixture *fx)
{
	buf_free(&fx->msg);
	buf_free(&fx->out);
	arena_destroy(&fx->a);
}

static const char *fixture_envelope(struct fixture *fx)
{
	buf_reset(&fx->out);
	mime_envelope_write(&fx->out, fx->msg.data, fx->msg.len, fx->root);
	return buf_cstr(&fx->out);
}

static const char *fixture_bodystructure(struct fixture *fx, bool extended)
{
	buf_reset(&fx->out);
	mime_bodystructure_write(&fx->out, fx->msg.data, fx->msg.len, fx->root, extended);
	return buf_cstr(&fx->out);
}

static void check_envelope(const char *name, const char *expected)
{
	struct fixture fx;
	if (!fixture_open(&fx, name, false))
		return;
	TEST_CHECK_STR(fixture_envelope(&fx), expected);
	fixture_close(&fx);
}

static void check_bodystructure(const char *name, const char *expected)
{
	struct fixture fx;
	if (!fixture_open(&fx, name, false))
		return;
	TEST_CHECK_STR(fixture_bodystructure(&fx, true), expected);
	fixture_close(&fx);
}

/* ---- ENVELOPE ---------------------------------------------------------- */

static void test_envelope_simple_message(void)
{
	check_envelope("01-plain-ascii.eml",
		"(\"Mon, 23 Nov 2026 09:12:40 +0000\" \"Lunch on Thursday?\" "
		"((\"Alice Example\" NIL \"alice\" \"example.org\")) "
		"((\"Alice Example\" NIL \"alice\" \"example.org\")) "
		"((\"Alice Example\" NIL \"alice\" \"example.org\")) "
		"((\"Bob\" NIL \"bob\" \"example.net\")) NIL NIL NIL "
		"\"<20261123091240.GA1234@example.org>\")");
}

static void test_envelope_multiple_recipients_and_in_reply_to(void)
{
	check_envelope("05-gmail-alternative.eml",
		"(\"Sat, 21 Nov 2026 10:22:31 -0800\" \"Re: weekend hike\" "
		"((\"Dana Lee\" NIL \"dana.lee\" \"gmail.example\")) "
		"((\"Dana Lee\" NIL \"dana.lee\" \"gmail.example\")) "
		"((\"Dana Lee\" NIL \"dana.lee\" \"gmail.example\")) "
		"((\"Kim Park\" NIL \"kim\" \"example.com\")(\"Jo (work)\" NIL \"jo\" \"work.example\")) "
		"NIL NIL \"<CAB9c1aQe@mail.gmail.example>\" "
		"\"<CAF7x+qH2mZp=Q0kN5tYvP3wL9bE@mail.gmail.example>\")");
}

static void test_envelope_groups_routes_comments(void)
{
	check_envelope("28-groups-and-odd-addresses.eml",
		"(\"Sat, 21 Nov 2026 12:00:00 +0000\" \"Addresses\" "
		"((\"Doe, John\" NIL \"john.doe\" \"example.com\")) "
		"((\"Jane Secretary\" NIL \"secretary\" \"example.com\")) "
		"((NIL NIL \"Team\" NIL)(NIL NIL \"alice\" \"example.com\")"
		"(\"Bob B.\" NIL \"bob\" \"example.com\")(NIL NIL NIL NIL)"
		"(NIL NIL \"carol\" \"example.com\")) "
		"((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
		"((NIL \"@relay1.example,@relay2.example\" \"route\" \"example.net\")"
		"(NIL NIL \"quoted \\\"local\\\"\" \"example.org\")"
		"(NIL NIL \"nodomain\" \"MISSING_DOMAIN\")) "
		"((\"John Q. Public\" NIL \"jqp\" \"example.com\")) "
		"\"<prev@example.com>\" \"<addr@example.com>\")");
}

static void test_envelope_keeps_encoded_words_raw(void)
{
	check_envelope("12-rfc2047-headers.eml",
		"(\"Thu, 19 Nov 2026 10:00:00 +0100\" "
		"\"=?ISO-8859-1?Q?Gr=FC=DFe?= aus =?UTF-8?Q?M=C3=BCnchen?= =?UTF-8?B?IOKCrCAxMDA=?=\" "
		"((\"=?ISO-8859-1?Q?J=F6rg_M=FCller?=\" NIL \"joerg\" \"example.de\")) "
		"((\"=?ISO-8859-1?Q?J=F6rg_M=FCller?=\" NIL \"joerg\" \"example.de\")) "
		"((\"=?ISO-8859-1?Q?J=F6rg_M=FCller?=\" NIL \"joerg\" \"example.de\")) "
		"((\"=?utf-8?B?5bGx55Sw5aSq6YOO?=\" NIL \"yamada\" \"example.jp\")) "
		"NIL NIL NIL \"<rfc2047@example.de>\")");
}

static void test_envelope_8bit_values_become_literals(void)
{
	check_envelope("13-8bit-headers.eml",
		"(\"Thu, 19 Nov 2026 10:00:00 +0900\" {26}\r\nM\xc3\xbcnchen raw 8-bit subject "
		"(({6}\r\n\xe5\xb1\xb1\xe7\x94\xb0 NIL \"yamada\" \"example.jp\")) "
		"(({6}\r\n\xe5\xb1\xb1\xe7\x94\xb0 NIL \"yamada\" \"example.jp\")) "
		"(({6}\r\n\xe5\xb1\xb1\xe7\x94\xb0 NIL \"yamada\" \"example.jp\")) "
		"((\"Hans\" NIL \"hans\" \"example.de\")) NIL NIL NIL \"<raw8bit@example.jp>\")");
}

static void test_envelope_unfolds_and_missing_fields_are_nil(void)
{
	check_envelope("29-folded-long-headers.eml",
		"(\"Sat, 21 Nov 2026 12:00:00 +0000\" "
		"\"This subject is folded   across several lines\twith tabs and spaces\" "
		"((\"Folding Tester\" NIL \"fold\" \"example.com\")) "
		"((\"Folding Tester\" NIL \"fold\" \"example.com\")) "
		"((\"Folding Tester\" NIL \"fold\" \"example.com\")) "
		"((NIL NIL \"a\" \"example.com\")(NIL NIL \"b\" \"example.com\")"
		"(NIL NIL \"c\" \"example.com\")) NIL NIL NIL \"<folded@example.com>\")");
	check_envelope("24-no-headers.eml", "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
	check_envelope("27-empty-file.eml", "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
}

static void test_envelope_present_but_empty_subject_is_empty_string(void)
{
	static const char msg[] = "Subject:\r\nFrom: a@b.c\r\nSender:\r\nTo:\r\n\r\nx";
	struct arena *a = arena_new(0);
	struct buf out = BUF_INIT;
	struct mime_part *root = mime_parse(a, (const unsigned char *)msg, sizeof(msg) - 1, NULL);
	mime_envelope_write(&out, (const unsigned char *)msg, sizeof(msg) - 1, root);
	/* RFC 9051 7.5.2: empty Subject is "", empty To is NIL, empty Sender
	 * defaults to From */
	TEST_CHECK_STR(buf_cstr(&out),
		"(NIL \"\" ((NIL NIL \"a\" \"b.c\")) ((NIL NIL \"a\" \"b.c\")) "
		"((NIL NIL \"a\" \"b.c\")) NIL NIL NIL NIL NIL)");
	buf_free(&out);
	arena_destroy(&a);
}

/* ---- BODYSTRUCTURE ----------------------------------------------------- */

static void test_bodystructure_defaults_without_content_type(void)
{
	check_bodystructure("02-no-content-type.eml",
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 111 2 NIL NIL NIL NIL)");
	check_bodystructure("27-empty-file.eml",
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0 NIL NIL NIL NIL)");
}

static void test_bodystructure_outlook_related(void)
{
	check_bodystructure("03-outlook-related.eml",
		"(((\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"QUOTED-PRINTABLE\" 107 6 NIL NIL NIL NIL)"
		"(\"TEXT\" \"HTML\" (\"charset\" \"us-ascii\") NIL NIL \"QUOTED-PRINTABLE\" 300 5 NIL NIL NIL NIL)"
		" \"ALTERNATIVE\" (\"boundary\" \"_000_DB9PR01MB7353A1B2_\") NIL NIL NIL)"
		"(\"IMAGE\" \"PNG\" (\"name\" \"image001.png\") \"<image001.png@01DB39A1.5C2E3F40>\" "
		"\"image001.png\" \"BASE64\" 98 NIL (\"INLINE\" (\"filename\" \"image001.png\" \"size\" \"68\" "
		"\"creation-date\" \"Wed, 18 Nov 2026 14:03:21 GMT\" \"modification-date\" "
		"\"Wed, 18 Nov 2026 14:03:21 GMT\")) NIL NIL)"
		" \"RELATED\" (\"boundary\" \"_004_DB9PR01MB7353A1B2_\" \"type\" \"multipart/alternative\") "
		"NIL \"en-GB\" NIL)");
}

static void test_body_has_no_extension_data(void)
{
	struct fixture fx;
	if (!fixture_open(&fx, "03-outlook-related.eml", false))
		return;
	TEST_CHECK_STR(fixture_bodystructure(&fx, false),
		"(((\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"QUOTED-PRINTABLE\" 107 6)"
		"(\"TEXT\" \"HTML\" (\"charset\" \"us-ascii\") NIL NIL \"QUOTED-PRINTABLE\" 300 5)"
		" \"ALTERNATIVE\")"
		"(\"IMAGE\" \"PNG\" (\"name\" \"image001.png\") \"<image001.png@01DB39A1.5C2E3F40>\" "
		"\"image001.png\" \"BASE64\" 98) \"RELATED\")");
	fixture_close(&fx);
}

static void test_bodystructure_digest_defaults_to_rfc822(void)
{
	check_bodystructure("07-digest.eml",
		"((\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL \"linux-users Digest, Vol 42, Issue 7\" "
		"\"7BIT\" 97 4 NIL NIL NIL NIL)"
		"((\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 174 (\"Sun, 22 Nov 2026 20:10:00 +0000\" "
		"\"kernel 6.x on old laptops\" ((\"Ann\" NIL \"ann\" \"example.com\")) "
		"((\"Ann\" NIL \"ann\" \"example.com\")) ((\"Ann\" NIL \"ann\" \"example.com\")) "
		"NIL NIL NIL NIL \"<ann-1@example.com>\") (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") "
		"NIL NIL \"7BIT\" 40 1 NIL NIL NIL NIL) 6 NIL NIL NIL NIL)"
		"(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 197 (\"Sun, 22 Nov 2026 21:02:13 +0000\" "
		"\"Re: kernel 6.x on old laptops\" ((\"Raj\" NIL \"raj\" \"example.in\")) "
		"((\"Raj\" NIL \"raj\" \"example.in\")) ((\"Raj\" NIL \"raj\" \"example.in\")) "
		"NIL NIL NIL \"<ann-1@example.com>\" \"<raj-1@example.in>\") (\"TEXT\" \"PLAIN\" "
		"(\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 28 1 NIL NIL NIL NIL) 7 NIL NIL NIL NIL) "
		"\"DIGEST\" (\"boundary\" \"===============6677889900==\") NIL NIL NIL)"
		"(\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 73 2 NIL (\"INLINE\" NIL) NIL NIL)"
		" \"MIXED\" (\"boundary\" \"===============1122334455==\") NIL NIL NIL)");
}

static void test_bodystructure_forward_nested_twice(void)
{
	check_bodystructure("11-forward-nested-twice.eml",
		"((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 28 1 NIL NIL NIL NIL)"
		"(\"MESSAGE\" \"RFC822\" NIL NIL \"forwarded message\" \"7BIT\" 508 "
		"(\"Wed, 18 Nov 2026 17:00:00 +0000\" \"Fwd: contract draft\" "
		"((\"Bob\" NIL \"bob\" \"example.net\")) ((\"Bob\" NIL \"bob\" \"example.net\")) "
		"((\"Bob\" NIL \"bob\" \"example.net\")) ((\"Carol\" NIL \"carol\" \"example.com\")) "
		"NIL NIL NIL \"<fwd1@example.net>\") "
		"((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 12 1 NIL NIL NIL NIL)"
		"(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 185 (\"Tue, 17 Nov 2026 09:00:00 +0000\" "
		"\"contract draft\" ((\"Alice\" NIL \"alice\" \"example.org\")) "
		"((\"Alice\" NIL \"alice\" \"example.org\")) ((\"Alice\" NIL \"alice\" \"example.org\")) "
		"((\"Bob\" NIL \"bob\" \"example.net\")) NIL NIL NIL \"<orig@example.org>\") "
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 33 1 NIL NIL NIL NIL) 7 "
		"NIL NIL NIL NIL) \"MIXED\" (\"boundary\" \"middle\") NIL NIL NIL) 25 NIL NIL NIL NIL)"
		" \"MIXED\" (\"boundary\" \"outer\") NIL NIL NIL)");
}

static void test_bodystructure_rfc2231_language_location_md5(void)
{
	check_bodystructure("15-rfc2231-filename.eml",
		"((\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 17 1 NIL NIL NIL NIL)"
		"(\"APPLICATION\" \"OCTET-STREAM\" (\"name\" \"very-long-report-name-for-the-fourth-quarter.txt\") "
		"NIL NIL \"BASE64\" 9 NIL (\"ATTACHMENT\" (\"filename*\" "
		"\"UTF-8''%E2%82%AC%20report%20%C3%A9t%C3%A9.txt\")) NIL NIL)"
		"(\"TEXT\" \"PLAIN\" (\"charset*\" \"iso-8859-1'fr'latin1-text\" \"title*\" "
		"\"us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A\") NIL NIL \"7BIT\" 3 0 "
		"\"Q2hlY2sgSW50ZWdyaXR5IQ==\" (\"ATTACHMENT\" (\"filename\" \"plain.txt\" \"filename*\" "
		"\"utf-8''pl%C3%A4in.txt\")) (\"fr\" \"en-GB\") \"http://example.com/files/plain.txt\")"
		" \"MIXED\" (\"boundary\" \"b2231\") NIL NIL NIL)");
}

static void test_bodystructure_broken_mime(void)
{
	/* no closing boundary: both parts are still found */
	check_bodystructure("16-missing-closing-boundary.eml",
		"((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 10 0 NIL NIL NIL NIL)"
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 31 1 NIL NIL NIL NIL)"
		" \"MIXED\" (\"boundary\" \"zzz\") NIL NIL NIL)");
	/* a multipart without delimiter lines is an opaque text leaf */
	check_bodystructure("17-boundary-never-appears.eml",
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\" \"boundary\" \"declared-but-absent\") "
		"NIL NIL \"7BIT\" 73 3 NIL NIL NIL NIL)");
	check_bodystructure("18-multipart-no-boundary-param.eml",
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 58 5 NIL NIL NIL NIL)");
	/* part headers running straight into the boundary or the body */
	check_bodystructure("20-part-missing-blank-line.eml",
		"((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 0 0 NIL NIL NIL NIL)"
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 37 0 NIL NIL NIL NIL)"
		" \"MIXED\" (\"boundary\" \"pp\") NIL NIL NIL)");
	/* the first valid Content-Type and Content-Transfer-Encoding win */
	check_bodystructure("23-duplicate-content-type.eml",
		"(\"TEXT\" \"HTML\" (\"charset\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 31 1 NIL NIL NIL NIL)");
	check_bodystructure("26-nul-bytes.eml",
		"(\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"BINARY\" 18 NIL NIL NIL NIL)");
	/* an inner boundary that extends the outer one, and a reused one */
	check_bodystructure("34-boundary-prefix-nesting.eml",
		"(((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 5 0 NIL NIL NIL NIL)"
		"(\"TEXT\" \"HTML\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 11 0 NIL NIL NIL NIL)"
		" \"ALTERNATIVE\" (\"boundary\" \"abcdef\") NIL NIL NIL)"
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 17 0 NIL NIL NIL NIL)"
		" \"MIXED\" (\"boundary\" \"abc\") NIL NIL NIL)");
	check_bodystructure("31-junk-preamble-epilogue.eml",
		"((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 9 0 NIL NIL NIL NIL)"
		" \"MIXED\" (\"boundary\" \"jj\") NIL NIL NIL)");
}

static void test_bodystructure_message_parts(void)
{
	check_bodystructure("32-top-level-rfc822.eml",
		"(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 83 (NIL \"the inner message\" "
		"((NIL NIL \"inner\" \"example.com\")) ((NIL NIL \"inner\" \"example.com\")) "
		"((NIL NIL \"inner\" \"example.com\")) ((NIL NIL \"you\" \"example.com\")) NIL NIL NIL NIL) "
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 11 1 NIL NIL NIL NIL) 5 "
		"NIL NIL NIL NIL)");
	/* RFC 2046 5.2.1 forbids base64 for message/rfc822: opaque */
	check_bodystructure("33-rfc822-base64-opaque.eml",
		"((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"BASE64\" 57 1 NIL NIL NIL NIL)"
		" \"MIXED\" (\"boundary\" \"b64msg\") NIL NIL NIL)");
	check_bodystructure("36-delivery-status.eml",
		"((\"TEXT\" \"PLAIN\" (\"charset\" \"us-ascii\") NIL \"Notification\" \"7BIT\" 100 2 NIL NIL NIL NIL)"
		"(\"MESSAGE\" \"DELIVERY-STATUS\" NIL NIL \"Delivery report\" \"7BIT\" 108 NIL NIL NIL NIL)"
		"(\"TEXT\" \"RFC822-HEADERS\" (\"CHARSET\" \"US-ASCII\") NIL \"Undelivered Message Headers\" "
		"\"7BIT\" 63 3 NIL NIL NIL NIL) \"REPORT\" (\"report-type\" \"delivery-status\" \"boundary\" "
		"\"ABC123.1700000000/mx.example.net\") NIL NIL NIL)");
}

static void test_bodystructure_quotes_and_multipart_extensions(void)
{
	check_bodystructure("41-disposition-variants.eml",
		"((\"TEXT\" \"PLAIN\" (\"charset\" \"utf-8\") \"<part1@example.com>\" \"the \\\"main\\\" text\" "
		"\"7BIT\" 4 0 NIL (\"INLINE\" NIL) NIL NIL)(\"IMAGE\" \"JPEG\" NIL NIL NIL \"BASE64\" 20 NIL "
		"(\"ATTACHMENT\" (\"filename\" \"photo.jpg\" \"size\" \"12345\")) NIL NIL) \"MIXED\" "
		"(\"boundary\" \"dd\" \"charset\" \"us-ascii\") (\"INLINE\" NIL) \"en\" \"https://example.com/whole\")");
	check_bodystructure("42-param-oddities.eml",
		"(\"TEXT\" \"PLAIN\" (\"charset\" \"utf-8\" \"format\" \"flowed\" \"delsp\" \"yes\" \"name\" "
		"\"unquoted file name.txt\") NIL NIL \"7BIT\" 5 1 NIL NIL NIL NIL)");
}

/* Every corpus file, LF and CRLF, yields BODY, BODYSTRUCTURE and ENVELOPE
 * that parse back with the ABNF checker. */
static void check_output_syntax(const char *name, const struct buf *msg)
{
	struct arena *a = arena_new(0);
	struct buf out = BUF_INIT;
	struct mime_part *root = mime_parse(a, msg->data, msg->len, NULL);
	const char *error = NULL;
	for (int ext = 0; ext <= 1; ext++) {
		buf_reset(&out);
		mime_bodystructure_write(&out, msg->data, msg->len, root, ext != 0);
		bool ok = mime_syntax_check_body(out.data, out.len, ext != 0, &error);
		if (!ok)
			fprintf(stderr, "  %s: %s\n", name, error);
		TEST_CHECK(ok);
	}
	buf_reset(&out);
	mime_envelope_write(&out, msg->data, msg->len, root);
	TEST_CHECK(mime_syntax_check_envelope(out.data, out.len, &error));
	buf_free(&out);
	arena_destroy(&a);
}

/* Calls fn with each .eml file of the corpus, as stored; returns how many
 * there were. */
static unsigned int corpus_each(void (*fn)(const char *name, const struct buf *raw, void *arg),
				void *arg)
{
	DIR *d = opendir(corpus_dir());
	TEST_CHECK(d != NULL);
	if (d == NULL)
		return 0;
	unsigned int files = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".eml") != 0)
			continue;
		struct buf raw = BUF_INIT;
		if (corpus_load(e->d_name, &raw)) {
			fn(e->d_name, &raw, arg);
			files++;
		}
		buf_free(&raw);
	}
	closedir(d);
	return files;
}

/* As stored and with CRLF line ends. */
static void check_output_syntax_both(const char *name, const struct buf *raw, void *arg)
{
	(void)arg;
	struct buf crlf = BUF_INIT;
	check_output_syntax(name, raw);
	to_crlf(&crlf, raw);
	check_output_syntax(name, &crlf);
	buf_free(&crlf);
}

static void test_corpus_output_is_valid_imap_syntax(void)
{
	TEST_CHECK(corpus_each(check_output_syntax_both, NULL) >= 40);
}

static void test_syntax_checker_rejects_bad_output(void)
{
	const char *error;
	static const char *const bad[] = {
		"(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1)",	/* text without lines */
		"(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1",	/* unbalanced */
		"(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1 NIL)",	/* extension in BODY */
		"( \"MIXED\")",					/* multipart without parts */
		"(\"A\" \"B\" (\"x\") NIL NIL \"7BIT\" 1)",	/* odd parameter list */
		"(\"A\" \"B\" NIL NIL NIL {3}\r\n7BIT 1)",	/* short literal */
		"(\"A\" \"B\" NIL NIL NIL \"7\nBIT\" 1)",	/* LF in quoted */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TEST_CHECK(!mime_syntax_check_body((const unsigned char *)bad[i], strlen(bad[i]),
						   false, &error));
	static const char good[] = "(\"A\" \"B\" NIL NIL NIL {4}\r\n7BIT 1)";
	TEST_CHECK(mime_syntax_check_body((const unsigned char *)good, sizeof(good) - 1, false, &error));
}

/* ---- Sections ------------------------------------------------------------ */

struct section_case {
	const unsigned int path[4];
	unsigned int path_len;
	enum mime_section_text text;
	const char *expected;	/* NULL: the section does not exist */
};

static void check_section(struct fixture *fx, const struct section_case *c)
{
	struct mime_section sec = { .path = c->path, .path_len = c->path_len, .text = c->text };
	struct mime_section_data data;
	struct buf filtered = BUF_INIT;
	bool found = mime_section_fetch(fx->root, fx->msg.data, fx->msg.len, &sec, &filtered, &data);
	TEST_CHECK_INT(found, c->expected != NULL);
	if (found && c->expected != NULL) {
		if (data.filtered)
			TEST_CHECK_MEM(filtered.data, filtered.len, c->expected, strlen(c->expected));
		else
			TEST_CHECK_MEM(fx->msg.data + data.start, (size_t)(data.end - data.start),
				       c->expected, strlen(c->expected));
	}
	buf_free(&filtered);
}

static void test_section_paths_in_nested_messages(void)
{
	struct fixture fx;
	if (!fixture_open(&fx, "11-forward-nested-twice.eml", true))
		return;
	static const char inner_header[] =
		"From: Alice <alice@example.org>\r\nTo: Bob <bob@example.net>\r\n"
		"Subject: contract draft\r\nDate: Tue, 17 Nov 2026 09:00:00 +0000\r\n"
		"Message-ID: <orig@example.org>\r\n\r\n";
	const struct section_case cases[] = {
		{ { 1 }, 1, MIME_SECTION_ALL, "See below, forwarded twice.\r\n" },
		{ { 1 }, 1, MIME_SECTION_MIME, "Content-Type: text/plain\r\n\r\n" },
		{ { 2 }, 1, MIME_SECTION_MIME,
		  "Content-Type: message/rfc822\r\nContent-Description: forwarded message\r\n\r\n" },
		{ { 2, 1 }, 2, MIME_SECTION_ALL, "Carol, FYI.\r\n" },
		{ { 2, 2 }, 2, MIME_SECTION_HEADER, inner_header },
		{ { 2, 2 }, 2, MIME_SECTION_TEXT, "Draft attached in the next mail.\r\n" },
		/* the innermost message is not multipart: its part 1 is its body */
		{ { 2, 2, 1 }, 3, MIME_SECTION_ALL, "Draft attached in the next mail.\r\n" },
		{ { 2, 2, 2 }, 3, MIME_SECTION_ALL, NULL },
		{ { 3 }, 1, MIME_SECTION_ALL, NULL },
		{ { 0 }, 1, MIME_SECTION_ALL, NULL },
		/* HEADER of a part that is not a message does not exist */
		{ { 1 }, 1, MIME_SECTION_HEADER, NULL },
		{ { 2, 1, 1 }, 3, MIME_SECTION_ALL, NULL },
		{ { 0 }, 0, MIME_SECTION_MIME, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_section(&fx, &cases[i]);

	/* BODY[] is the whole message; TEXT is the body after the header */
	struct mime_section all = { .text = MIME_SECTION_ALL };
	struct mime_section_data data;
	TEST_CHECK(mime_section_fetch(fx.root, fx.msg.data, fx.msg.len, &all, NULL, &data));
	TEST_CHECK_INT(data.start, 0);
	TEST_CHECK_INT(data.end, fx.msg.len);
	struct mime_section text = { .text = MIME_SECTION_TEXT };
	TEST_CHECK(mime_section_fetch(fx.root, fx.msg.data, fx.msg.len, &text, NULL, &data));
	TEST_CHECK_INT(data.start, fx.root->body_start);
	TEST_CHECK(memcmp(fx.msg.data + data.start, "--outer\r\n", 9) == 0);
	fixture_close(&fx);
}

static void test_section_part1_of_single_part_message_is_body(void)
{
	struct fixture fx;
	if (!fixture_open(&fx, "25-empty-body.eml", true))
		return;
	const struct section_case cases[] = {
		{ { 1 }, 1, MIME_SECTION_ALL, "" },
		{ { 2 }, 1, MIME_SECTION_ALL, NULL },
		{ { 0 }, 0, MIME_SECTION_TEXT, "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_section(&fx, &cases[i]);
	fixture_close(&fx);

	if (!fixture_open(&fx, "01-plain-ascii.eml", true))
		return;
	struct mime_section sec = { .path = (const unsigned int[]){ 1 }, .path_len = 1 };
	struct mime_section_data data;
	TEST_CHECK(mime_section_fetch(fx.root, fx.msg.data, fx.msg.len, &sec, NULL, &data));
	TEST_CHECK(memcmp(fx.msg.data + data.start, "Hi Bob,\r\n", 9) == 0);
	TEST_CHECK_INT(data.end, fx.msg.len);
	fixture_close(&fx);
}

static void test_section_header_fields_filtering(void)
{
	struct fixture fx;
	if (!fixture_open(&fx, "29-folded-long-headers.eml", true))
		return;
	const char *fields[] = { "subject", "TO", "x-absent" };
	struct mime_section sec = { .text = MIME_SECTION_HEADER_FIELDS, .fields = fields,
				    .field_count = 3 };
	struct mime_section_data data;
	struct buf out = BUF_INIT;
	TEST_CHECK(mime_section_fetch(fx.root, fx.msg.data, fx.msg.len, &sec, &out, &data));
	TEST_CHECK(data.filtered);
	/* header order, folding kept, blank line at the end */
	TEST_CHECK_STR(buf_cstr(&out),
		"To: a@example.com,\r\n b@example.com,\r\n\tc@example.com\r\n"
		"Subject: This subject is folded\r\n   across several lines\r\n"
		"\twith tabs and spaces\r\n\r\n");
	buf_reset(&out);
	const char *not_fields[] = { "X-Very-Long", "content-type", "from", "to", "subject",
				     "date" };
	struct mime_section not_sec = { .text = MIME_SECTION_HEADER_FIELDS_NOT,
					.fields = not_fields, .field_count = 6 };
	TEST_CHECK(mime_section_fetch(fx.root, fx.msg.data, fx.msg.len, &not_sec, &out, &data));
	TEST_CHECK_STR(buf_cstr(&out), "Message-ID:\r\n <folded@example.com>\r\n\r\n");
	buf_reset(&out);
	/* nothing matches: only the blank line */
	const char *none[] = { "x-nothing" };
	struct mime_section none_sec = { .text = MIME_SECTION_HEADER_FIELDS, .fields = none,
					 .field_count = 1 };
	TEST_CHECK(mime_section_fetch(fx.root, fx.msg.data, fx.msg.len, &none_sec, &out, &data));
	TEST_CHECK_STR(buf_cstr(&out), "\r\n");
	buf_free(&out);
	fixture_close(&fx);
}

static void test_section_header_fields_of_embedded_message(void)
{
	struct fixture fx;
	if (!fixture_open(&fx, "07-digest.eml", true))
		return;
	const char *fields[] = { "Subject", "In-Reply-To" };
	const unsigned int path[] = { 2, 2 };
	struct mime_section sec = { .path = path, .path_len = 2,
				    .text = MIME_SECTION_HEADER_FIELDS, .fields = fields,
				    .field_count = 2 };
	struct mime_section_data data;
	struct buf out = BUF_INIT;
	TEST_CHECK(mime_section_fetch(fx.root, fx.msg.data, fx.msg.len, &sec, &out, &data));
	TEST_CHECK_STR(buf_cstr(&out),
		"Subject: Re: kernel 6.x on old laptops\r\nIn-Reply-To: <ann-1@example.com>\r\n\r\n");
	TEST_CHECK(data.part->kind == MIME_PART_MESSAGE);
	buf_free(&out);
	fixture_close(&fx);
}

/* The header sections of a stored header (mime_digest's copy) answered from
 * mime_header_root are those of the header parsed, for every corpus
 * message that has one. */
static bool check_header_root(const char *name, const struct buf *msg)
{
	int failed_before = test_checks_failed;
	static const struct mime_limits top_only = { .max_depth = 0, .max_parts = 1,
						     .no_line_counts = true };
	static const char *fields[] = { "from", "SUBJECT", "content-type", "x-absent" };
	static const enum mime_section_text texts[] = {
		MIME_SECTION_HEADER, MIME_SECTION_HEADER_FIELDS, MIME_SECTION_HEADER_FIELDS_NOT,
		MIME_SECTION_TEXT,
	};
	struct arena *a = arena_new(0);
	struct mime_digest d;
	mime_digest_build(a, msg->data, msg->len, 0, &d);
	if (d.header != NULL) {
		struct mime_part *parsed = mime_parse(a, d.header, d.header_len, &top_only);
		struct mime_part *known = mime_header_root(a, d.header_len);
		for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
			struct mime_section sec = { .text = texts[i], .fields = fields,
						    .field_count = 4 };
			struct mime_section_data pd, kd;
			struct buf pout = BUF_INIT, kout = BUF_INIT;
			bool pf = mime_section_fetch(parsed, d.header, d.header_len, &sec, &pout, &pd);
			bool kf = mime_section_fetch(known, d.header, d.header_len, &sec, &kout, &kd);
			TEST_CHECK_INT(kf, pf);
			TEST_CHECK_INT(kd.filtered, pd.filtered);
			if (pd.filtered)
				TEST_CHECK_MEM(kout.data, kout.len, pout.data, pout.len);
			else
				TEST_CHECK(kd.start == pd.start && kd.end == pd.end);
			buf_free(&pout);
			buf_free(&kout);
		}
	}
	if (test_checks_failed > failed_before)
		fprintf(stderr, "  in %s\n", name);
	arena_destroy(&a);
	return d.header != NULL;
}

static void count_header_root(const char *name, const struct buf *raw, void *arg)
{
	struct buf crlf = BUF_INIT;
	to_crlf(&crlf, raw);
	*(unsigned int *)arg += check_header_root(name, &crlf);
	buf_free(&crlf);
}

static void test_header_root_answers_as_the_parse(void)
{
	unsigned int with_header = 0;
	corpus_each(count_header_root, &with_header);
	TEST_CHECK(with_header >= 30);
}

static void test_section_header_without_blank_line(void)
{
	struct fixture fx;
	if (!fixture_open(&fx, "19-missing-blank-line.eml", true))
		return;
	/* the header had no blank line but the message has a body: the
	 * HEADER answer still ends with the delimiting blank line */
	const struct section_case cases[] = {
		{ { 0 }, 0, MIME_SECTION_HEADER,
		  "From: broken@example.com\r\nTo: you@example.com\r\n"
		  "Subject: no blank line after header\r\n\r\n" },
		{ { 0 }, 0, MIME_SECTION_TEXT,
		  "This line starts the body without a blank line.\r\nSecond body line.\r\n" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_section(&fx, &cases[i]);
	fixture_close(&fx);
	/* no body and no blank line: no blank line added */
	static const char msg[] = "Subject: x\r\nFrom: y@z";
	struct arena *a = arena_new(0);
	struct mime_part *root = mime_parse(a, (const unsigned char *)msg, sizeof(msg) - 1, NULL);
	struct mime_section sec = { .text = MIME_SECTION_HEADER };
	struct mime_section_data data;
	struct buf out = BUF_INIT;
	TEST_CHECK(mime_section_fetch(root, (const unsigned char *)msg, sizeof(msg) - 1, &sec, &out, &data));
	TEST_CHECK(!data.filtered);
	TEST_CHECK_INT(data.end, sizeof(msg) - 1);
	buf_free(&out);
	arena_destroy(&a);
}

static void test_section_thousand_parts(void)
{
	struct fixture fx;
	if (!fixture_open(&fx, "50-thousand-parts.eml", true))
		return;
	TEST_CHECK_INT(mime_part_count(fx.root), 1001);
	const struct section_case cases[] = {
		{ { 1 }, 1, MIME_SECTION_ALL, "part 1" },
		{ { 1000 }, 1, MIME_SECTION_ALL, "part 1000" },
		{ { 1001 }, 1, MIME_SECTION_ALL, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_section(&fx, &cases[i]);
	fixture_close(&fx);
}

/* ---- Limits ---------------------------------------------------------------- */

static void test_limits_depth_makes_opaque_leaf(void)
{
	struct fixture fx;
	if (!fixture_open(&fx, "51-deep-nesting.eml", true))
		return;
	/* 40 levels in the file; default depth 32: parts at depth 0..32 */
	TEST_CHECK_INT(mime_part_count(fx.root), MIME_DEFAULT_MAX_DEPTH + 1);
	const struct mime_part *p = fx.root;
	while (p->children != NULL)
		p = p->children;
	TEST_CHECK_INT(p->depth, MIME_DEFAULT_MAX_DEPTH);
	TEST_CHECK(p->flags & MIME_PART_FLAG_OPAQUE);
	TEST_CHECK_STR(p->subtype, "mixed");
	fixture_close(&fx);

	struct buf raw = BUF_INIT;
	if (!corpus_load("52-deep-rfc822.eml", &raw))
		return;
	struct arena *a = arena_new(0);
	struct mime_limits lim = { .max_depth = 3, .max_parts = 100 };
	struct mime_part *root = mime_parse(a, raw.data, raw.len, &lim);
	TEST_CHECK_INT(mime_part_count(root), 4);
	struct buf out = BUF_INIT;
	mime_bodystructure_write(&out, raw.data, raw.len, root, true);
	const char *error;
	TEST_CHECK(mime_syntax_check_body(out.data, out.len, true, &error));
	buf_free(&out);
	buf_free(&raw);
	arena_destroy(&a);
}

/* A header-only parse (FETCH BODY[HEADER.FIELDS]) skips counting the
 * body's lines and finds the same header and body bounds. */
static void test_no_line_counts_keeps_bounds(void)
{
	static const char msg[] = "Subject: s\r\nFrom: a@b.c\r\n\r\none\r\ntwo\r\nthree\r\n";
	struct arena *a = arena_new(0);
	const unsigned char *m = (const unsigned char *)msg;
	struct mime_limits top = { .max_depth = 0, .max_parts = 1, .no_line_counts = true };
	struct mime_part *full = mime_parse(a, m, sizeof(msg) - 1, NULL);
	struct mime_part *head = mime_parse(a, m, sizeof(msg) - 1, &top);
	TEST_CHECK_INT(full->body_lines, 3);
	TEST_CHECK_INT(head->body_lines, 0);
	TEST_CHECK_INT(head->body_start, full->body_start);
	TEST_CHECK_INT(head->body_end, full->body_end);
	arena_destroy(&a);
}

static void test_limits_part_count(void)
{
	struct buf raw = BUF_INIT;
	if (!corpus_load("50-thousand-parts.eml", &raw))
		return;
	struct arena *a = arena_new(0);
	struct mime_limits lim = { .max_depth = 10, .max_parts = 10 };
	struct mime_part *root = mime_parse(a, raw.data, raw.len, &lim);
	TEST_CHECK_INT(mime_part_count(root), 10);
	TEST_CHECK_INT(root->child_count, 9);
	TEST_CHECK_INT(root->body_end, raw.len);
	struct buf out = BUF_INIT;
	mime_bodystructure_write(&out, raw.data, raw.len, root, true);
	const char *error;
	TEST_CHECK(mime_syntax_check_body(out.data, out.len, true, &error));
	/* with room for the root only, the multipart becomes opaque */
	lim.max_parts = 1;
	root = mime_parse(a, raw.data, raw.len, &lim);
	TEST_CHECK_INT(mime_part_count(root), 1);
	TEST_CHECK(root->flags & MIME_PART_FLAG_OPAQUE);
	buf_free(&out);
	buf_free(&raw);
	arena_destroy(&a);
}

/* ---- Parser details -------------------------------------------------------- */

static void test_parse_offsets_crlf(void)
{
	struct fixture fx;
	if (!fixture_open(&fx, "21-crlf-alternative.eml", false))
		return;
	const struct mime_part *r = fx.root;
	TEST_CHECK_INT(r->kind, MIME_PART_MULTIPART);
	TEST_CHECK_INT(r->child_count, 2);
	const struct mime_part *c1 = r->children;
	TEST_CHECK_MEM(fx.msg.data + c1->header_start, (size_t)(c1->header_end - c1->header_start),
		       "Content-Type: text/plain; charset=us-ascii\r\n\r\n", 46);
	TEST_CHECK_MEM(fx.msg.data + c1->body_start, (size_t)(c1->body_end - c1->body_start),
		       "line one\r\nline two", 18);
	TEST_CHECK_INT(c1->body_lines, 1);
	TEST_CHECK_STR(mime_part_param(c1, "CHARSET")->value, "us-ascii");
	fixture_close(&fx);
}

static void test_parse_bare_lf_equals_crlf_structure(void)
{
	static const char *const names[] = {
		"03-outlook-related.eml", "07-digest.eml", "11-forward-nested-twice.eml",
		"16-missing-closing-boundary.eml", "34-boundary-prefix-nesting.eml",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct fixture lf, crlf;
		if (!fixture_open(&lf, names[i], false))
			continue;
		if (!fixture_open(&crlf, names[i], true)) {
			fixture_close(&lf);
			continue;
		}
		TEST_CHECK_INT(mime_part_count(lf.root), mime_part_count(crlf.root));
		/* line counts do not depend on the line ending */
		TEST_CHECK_INT(lf.root->body_lines, crlf.root->body_lines);
		fixture_close(&lf);
		fixture_close(&crlf);
	}
}

static void test_parse_no_headers_and_nul_bytes(void)
{
	struct fixture fx;
	if (!fixture_open(&fx, "24-no-headers.eml", true))
		return;
	TEST_CHECK_INT(fx.root->header_end, 0);
	TEST_CHECK(fx.root->flags & MIME_PART_FLAG_NO_BLANK_LINE);
	fixture_close(&fx);
	if (!fixture_open(&fx, "26-nul-bytes.eml", true))
		return;
	TEST_CHECK_INT(fx.root->body_end - fx.root->body_start, 19);
	TEST_CHECK_STR(fx.root->encoding, "binary");
	fixture_close(&fx);
}

static void test_parse_8bit_header_flag_and_params(void)
{
	/* an 8-bit byte in a field name does not end the header */
	static const char msg[] = "X-Caf\xe9: 1\r\nSubject: s\r\n\r\nbody";
	struct arena *a = arena_new(0);
	struct mime_part *root = mime_parse(a, (const unsigned char *)msg, sizeof(msg) - 1, NULL);
	TEST_CHECK_INT(root->body_start, sizeof(msg) - 5);
	TEST_CHECK(root->flags & MIME_PART_FLAG_HEADER_8BIT);
	arena_destroy(&a);
	struct fixture fx;
	if (!fixture_open(&fx, "13-8bit-headers.eml", true))
		return;
	TEST_CHECK(fx.root->flags & MIME_PART_FLAG_HEADER_8BIT);
	fixture_close(&fx);
	if (!fixture_open(&fx, "42-param-oddities.eml", true))
		return;
	/* a repeated parameter: the first wins */
	TEST_CHECK_STR(mime_part_param(fx.root, "name")->value, "unquoted file name.txt");
	TEST_CHECK_STR(mime_part_param(fx.root, "charset")->value, "utf-8");
	fixture_close(&fx);
}

/* ---- RFC 2231 / RFC 2047 / charsets ------------------------------------- */

static void test_rfc2231_continuations_and_charsets(void)
{
	struct fixture fx;
	if (!fixture_open(&fx, "15-rfc2231-filename.eml", true))
		return;
	const struct mime_part *p2 = fx.root->children->next;
	TEST_CHECK_STR(mime_part_param(p2, "name")->value,
		       "very-long-report-name-for-the-fourth-quarter.txt");
	TEST_CHECK_INT(p2->disp_param_count, 1);
	TEST_CHECK_STR(p2->disp_params[0].name, "filename");
	TEST_CHECK(p2->disp_params[0].extended);
	TEST_CHECK_STR(p2->disp_params[0].value, "\xe2\x82\xac report \xc3\xa9t\xc3\xa9.txt");
	const struct mime_part *p3 = p2->next;
	TEST_CHECK_STR(mime_part_param(p3, "title")->value, "This is ***fun***");
	TEST_CHECK_STR(p3->disp_params[1].value, "pl\xc3\xa4in.txt");
	TEST_CHECK_STR(p3->disp_params[0].value, "plain.txt");
	TEST_CHECK_INT(p3->language_count, 2);
	TEST_CHECK_STR(p3->md5, "Q2hlY2sgSW50ZWdyaXR5IQ==");
	fixture_close(&fx);
}

static const char *decode_header(struct buf *b, const char *s)
{
	buf_reset(b);
	mime_header_decode_utf8(b, (const unsigned char *)s, strlen(s));
	return buf_cstr(b);
}

static void test_rfc2047_decoding(void)
{
	struct buf b = BUF_INIT;
	TEST_CHECK_STR(decode_header(&b, "=?ISO-8859-1?Q?Gr=FC=DFe?= aus =?UTF-8?Q?M=C3=BCnchen?=\r\n"
					 " =?UTF-8?B?IOKCrCAxMDA=?="),
		       "Gr\xc3\xbc\xc3\x9f" "e aus M\xc3\xbcnchen \xe2\x82\xac 100");
	/* whitespace between adjacent encoded-words is dropped (6.2) */
	TEST_CHECK_STR(decode_header(&b, "=?utf-8?q?a?= =?utf-8?q?b?=  c"), "ab  c");
	TEST_CHECK_STR(decode_header(&b, "=?utf-8?q?a_b?="), "a b");
	TEST_CHECK_STR(decode_header(&b, "=?Shift_JIS?B?jlKTYyCRvphZ?="),
		       "\xe5\xb1\xb1\xe7\x94\xb0 \xe5\xa4\xaa\xe9\x83\x8e");
	TEST_CHECK_STR(decode_header(&b, "=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?="),
		       "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf");
	/* RFC 2231 5 language suffix */
	TEST_CHECK_STR(decode_header(&b, "=?US-ASCII*EN?Q?Keith_Moore?="), "Keith Moore");
	/* unknown charset, bad encoding and malformed words stay raw */
	TEST_CHECK_STR(decode_header(&b, "=?x-unknown-cs?Q?abc?= x"), "=?x-unknown-cs?Q?abc?= x");
	TEST_CHECK_STR(decode_header(&b, "=?utf-8?X?abc?="), "=?utf-8?X?abc?=");
	TEST_CHECK_STR(decode_header(&b, "=?utf-8?B?***?="), "=?utf-8?B?***?=");
	TEST_CHECK_STR(decode_header(&b, "=?utf-8?Q?unterminated"), "=?utf-8?Q?unterminated");
	TEST_CHECK_STR(decode_header(&b, "plain text"), "plain text");
	/* invalid UTF-8 inside a word becomes U+FFFD */
	TEST_CHECK_STR(decode_header(&b, "=?utf-8?Q?a=FFb?="), "a\xef\xbf\xbd" "b");
	buf_free(&b);
}

static void test_charset_conversion(void)
{
	struct buf b = BUF_INIT;
	TEST_CHECK(mime_charset_to_utf8(&b, "iso-8859-1", (const unsigned char *)"caf\xe9", 4));
	TEST_CHECK_STR(buf_cstr(&b), "caf\xc3\xa9");
	buf_reset(&b);
	TEST_CHECK(mime_charset_to_utf8(&b, "windows-1252", (const unsigned char *)"\x80", 1));
	TEST_CHECK_STR(buf_cstr(&b), "\xe2\x82\xac");
	buf_reset(&b);
	TEST_CHECK(!mime_charset_to_utf8(&b, "no-such-charset", (const unsigned char *)"x", 1));
	TEST_CHECK(!mime_charset_to_utf8(&b, "utf-8//TRANSLIT", (const unsigned char *)"x", 1) ||
		   b.len > 0);
	TEST_CHECK(!mime_charset_to_utf8(&b, "latin1//IGNORE", (const unsigned char *)"x", 1));
	TEST_CHECK_INT(b.len, 0);
	/* UTF-8 passes as it is, each byte starting no valid sequence (RFC
	 * 3629: truncated, overlong, surrogate, past U+10FFFF) as U+FFFD */
	static const struct { const char *in, *out; } utf8[] = {
		{ "", "" },
		{ "ab\xc3\xa9" "cd x\xf0\x9f\x98\x80y", "ab\xc3\xa9" "cd x\xf0\x9f\x98\x80y" },
		{ "\xff", "\xef\xbf\xbd" },
		{ "a\xe2\x82", "a\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xc0\xafz", "\xef\xbf\xbd\xef\xbf\xbdz" },
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xf4\x90\x80\x80!", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd!" },
		{ "ok\x80\xc3\xa9\xc3", "ok\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd" },
	};
	for (size_t i = 0; i < sizeof(utf8) / sizeof(*utf8); i++) {
		buf_reset(&b);
		TEST_CHECK(mime_charset_to_utf8(&b, "UTF-8", (const unsigned char *)utf8[i].in,
						strlen(utf8[i].in)));
		TEST_CHECK_STR(buf_cstr(&b), utf8[i].out);
	}
	buf_reset(&b);
	/* an empty part's text may come without a buffer */
	TEST_CHECK(mime_charset_to_utf8(&b, "utf-8", NULL, 0));
	TEST_CHECK_INT(b.len, 0);
	buf_reset(&b);
	/* an invalid Shift_JIS sequence becomes U+FFFD and conversion goes on */
	TEST_CHECK(mime_charset_to_utf8(&b, "Shift_JIS", (const unsigned char *)"a\x81\x20z", 4));
	TEST_CHECK(strstr(buf_cstr(&b), "\xef\xbf\xbd") != NULL);
	TEST_CHECK(b.data[b.len - 1] == 'z');
	buf_free(&b);
}

/* ---- Transfer decoding --------------------------------------------------- */

static void test_base64_decoding(void)
{
	struct buf b = BUF_INIT;
	TEST_CHECK(mime_base64_decode(&b, (const unsigned char *)"aGVs\r\nbG8K\r\n", 12));
	TEST_CHECK_STR(buf_cstr(&b), "hello\n");
	buf_reset(&b);
	TEST_CHECK(mime_base64_decode(&b, (const unsigned char *)"YQ==", 4));
	TEST_CHECK_STR(buf_cstr(&b), "a");
	buf_reset(&b);
	TEST_CHECK(mime_base64_decode(&b, (const unsigned char *)"YWI=\r\n", 6));
	TEST_CHECK_STR(buf_cstr(&b), "ab");
	buf_reset(&b);
	TEST_CHECK(!mime_base64_decode(&b, (const unsigned char *)"aGVs*bG8=", 9));
	buf_reset(&b);
	TEST_CHECK(!mime_base64_decode(&b, (const unsigned char *)"YQ==YQ==", 8));
	buf_reset(&b);
	TEST_CHECK(!mime_base64_decode(&b, (const unsigned char *)"YWJ", 3));
	TEST_CHECK_STR(buf_cstr(&b), "ab");
	buf_reset(&b);
	TEST_CHECK(!mime_base64_decode(&b, (const unsigned char *)"Y===", 4));
	buf_free(&b);
}

static void test_qp_decoding(void)
{
	struct buf b = BUF_INIT;
	static const char qp[] = "caf=C3=A9 =\r\nsoft  \r\nhard=3D\r\nend";
	TEST_CHECK(mime_qp_decode(&b, (const unsigned char *)qp, sizeof(qp) - 1));
	TEST_CHECK_STR(buf_cstr(&b), "caf\xc3\xa9 soft\r\nhard=\r\nend");
	buf_reset(&b);
	TEST_CHECK(!mime_qp_decode(&b, (const unsigned char *)"a=ZZb", 5));
	TEST_CHECK_STR(buf_cstr(&b), "a=ZZb");
	buf_reset(&b);
	TEST_CHECK(!mime_qp_decode(&b, (const unsigned char *)"a=4", 3));
	buf_reset(&b);
	TEST_CHECK(mime_qp_decode(&b, (const unsigned char *)"lower=e9\n", 9));
	TEST_CHECK_STR(buf_cstr(&b), "lower\xe9\r\n");
	buf_free(&b);
}

static void test_part_decode_for_binary(void)
{
	struct fixture fx;
	if (!fixture_open(&fx, "37-invalid-base64-and-qp.eml", true))
		return;
	const struct mime_part *b64 = fx.root->children, *qp = b64->next, *uu = qp->next;
	struct buf out = BUF_INIT;
	TEST_CHECK_INT(mime_part_decode(b64, fx.msg.data, fx.msg.len, &out), MIME_DECODE_INVALID);
	buf_reset(&out);
	TEST_CHECK_INT(mime_part_decode(qp, fx.msg.data, fx.msg.len, &out), MIME_DECODE_INVALID);
	TEST_CHECK_STR(buf_cstr(&out), "bad escape =ZZ here and a softbreak");
	buf_reset(&out);
	TEST_CHECK_INT(mime_part_decode(uu, fx.msg.data, fx.msg.len, &out), MIME_DECODE_UNKNOWN_CTE);
	fixture_close(&fx);

	if (!fixture_open(&fx, "03-outlook-related.eml", true))
		return;
	buf_reset(&out);
	const struct mime_part *png = fx.root->children->next;
	TEST_CHECK_INT(mime_part_decode(png, fx.msg.data, fx.msg.len, &out), MIME_DECODE_OK);
	TEST_CHECK(out.len == 70 && memcmp(out.data, "\x89PNG\r\n\x1a\n", 8) == 0);
	fixture_close(&fx);
	buf_free(&out);
}

static void test_part_text_for_search(void)
{
	struct fixture fx;
	struct buf out = BUF_INIT;
	if (!fixture_open(&fx, "04-apple-alternative-qp.eml", true))
		return;
	TEST_CHECK(mime_part_text_utf8(fx.root->children, fx.msg.data, fx.msg.len, &out));
	TEST_CHECK(strstr(buf_cstr(&out), "caf\xc3\xa9 demain \xc3\xa0 10h") != NULL);
	TEST_CHECK(strstr(buf_cstr(&out), "limite de soixante-seize caract\xc3\xa8res.") != NULL);
	TEST_CHECK(!mime_part_text_utf8(fx.root, fx.msg.data, fx.msg.len, &out));
	fixture_close(&fx);
	buf_reset(&out);
	if (!fixture_open(&fx, "14-shift-jis.eml", true))
		return;
	TEST_CHECK(mime_part_text_utf8(fx.root, fx.msg.data, fx.msg.len, &out));
	TEST_CHECK_STR(buf_cstr(&out), "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf\r\n");
	fixture_close(&fx);
	buf_reset(&out);
	if (!fixture_open(&fx, "12-rfc2047-headers.eml", true))
		return;
	TEST_CHECK(mime_part_text_utf8(fx.root, fx.msg.data, fx.msg.len, &out));
	TEST_CHECK_STR(buf_cstr(&out), "Gr\xc3\xbc\xc3\x9f" "e!\r\n");
	fixture_close(&fx);
	buf_free(&out);
}

/* ---- IMAP strings ------------------------------------------------------------ */

static const char *imapstr(struct buf *b, int kind, const char *s, size_t len)
{
	buf_reset(b);
	if (kind == 0)
		mime_imapstr_append_string(b, s, len);
	else if (kind == 1)
		mime_imapstr_append_nstring(b, s, len);
	else
		mime_imapstr_append_astring(b, s, len);
	return buf_cstr(b);
}

static void test_imapstr_forms(void)
{
	struct buf b = BUF_INIT;
	TEST_CHECK_STR(imapstr(&b, 0, "abc", 3), "\"abc\"");
	TEST_CHECK_STR(imapstr(&b, 0, "", 0), "\"\"");
	TEST_CHECK_STR(imapstr(&b, 0, "a\"b\\c", 5), "\"a\\\"b\\\\c\"");
	TEST_CHECK_STR(imapstr(&b, 0, "a\r\nb", 4), "{4}\r\na\r\nb");
	TEST_CHECK_STR(imapstr(&b, 0, "caf\xc3\xa9", 5), "{5}\r\ncaf\xc3\xa9");
	TEST_CHECK_STR(imapstr(&b, 0, "a\0b", 3), "\"ab\"");
	TEST_CHECK_STR(imapstr(&b, 0, "\xff\0", 2), "{1}\r\n\xff");
	TEST_CHECK_STR(imapstr(&b, 1, NULL, 0), "NIL");
	TEST_CHECK_STR(imapstr(&b, 1, "NIL", 3), "\"NIL\"");
	TEST_CHECK_STR(imapstr(&b, 2, "INBOX", 5), "INBOX");
	TEST_CHECK_STR(imapstr(&b, 2, "a]b", 3), "a]b");
	TEST_CHECK_STR(imapstr(&b, 2, "nil", 3), "\"nil\"");
	TEST_CHECK_STR(imapstr(&b, 2, "two words", 9), "\"two words\"");
	TEST_CHECK_STR(imapstr(&b, 2, "a%", 2), "\"a%\"");
	TEST_CHECK_STR(imapstr(&b, 2, "", 0), "\"\"");
	char big[MIME_IMAPSTR_QUOTED_MAX + 1];
	memset(big, 'x', sizeof(big));
	imapstr(&b, 0, big, sizeof(big));
	TEST_CHECK(b.data[0] == '{');
	imapstr(&b, 0, big, sizeof(big) - 1);
	TEST_CHECK(b.data[0] == '"');
	buf_reset(&b);
	mime_imapstr_append_literal8(&b, "a\0b", 3);
	TEST_CHECK_MEM(b.data, b.len, "~{3}\r\na\0b", 9);
	buf_free(&b);
}

/* ---- Serialisation ---------------------------------------------------------- */

static void check_roundtrip(const char *name)
{
	struct fixture fx;
	if (!fixture_open(&fx, name, true))
		return;
	struct buf ser = BUF_INIT, ser2 = BUF_INIT, bs1 = BUF_INIT, bs2 = BUF_INIT;
	mime_tree_serialize(&ser, fx.root);
	const char *error = NULL;
	struct mime_part *copy = mime_tree_deserialize(fx.a, ser.data, ser.len, &error);
	TEST_CHECK(copy != NULL);
	if (copy != NULL) {
		mime_tree_serialize(&ser2, copy);
		TEST_CHECK_MEM(ser2.data, ser2.len, ser.data, ser.len);
		mime_bodystructure_write(&bs1, fx.msg.data, fx.msg.len, fx.root, true);
		mime_bodystructure_write(&bs2, fx.msg.data, fx.msg.len, copy, true);
		TEST_CHECK_STR(buf_cstr(&bs2), buf_cstr(&bs1));
		TEST_CHECK_INT(mime_part_count(copy), mime_part_count(fx.root));
	}
	buf_free(&ser);
	buf_free(&ser2);
	buf_free(&bs1);
	buf_free(&bs2);
	fixture_close(&fx);
}

static void test_serialize_roundtrip(void)
{
	check_roundtrip("03-outlook-related.eml");
	check_roundtrip("07-digest.eml");
	check_roundtrip("11-forward-nested-twice.eml");
	check_roundtrip("15-rfc2231-filename.eml");
	check_roundtrip("41-disposition-variants.eml");
	check_roundtrip("50-thousand-parts.eml");
	check_roundtrip("51-deep-nesting.eml");
	check_roundtrip("27-empty-file.eml");
}

static void test_serialize_sections_after_reload(void)
{
	struct fixture fx;
	if (!fixture_open(&fx, "11-forward-nested-twice.eml", true))
		return;
	struct buf ser = BUF_INIT;
	mime_tree_serialize(&ser, fx.root);
	const char *error;
	struct mime_part *copy = mime_tree_deserialize(fx.a, ser.data, ser.len, &error);
	TEST_CHECK(copy != NULL);
	if (copy != NULL) {
		fx.root = copy;
		const struct section_case c = { { 2, 2, 1 }, 3, MIME_SECTION_ALL,
						"Draft attached in the next mail.\r\n" };
		check_section(&fx, &c);
	}
	buf_free(&ser);
	fixture_close(&fx);
}

static void test_deserialize_rejects_corrupt_input(void)
{
	struct fixture fx;
	if (!fixture_open(&fx, "15-rfc2231-filename.eml", true))
		return;
	struct buf ser = BUF_INIT;
	mime_tree_serialize(&ser, fx.root);
	const char *error;
	/* every truncation fails cleanly */
	for (size_t len = 0; len < ser.len; len++) {
		error = NULL;
		TEST_CHECK(mime_tree_deserialize(fx.a, ser.data, len, &error) == NULL);
		TEST_CHECK(error != NULL);
	}
	/* single-byte corruption: either rejected or a consistent tree that
	 * the writers and section code handle */
	unsigned int rejected = 0;
	for (size_t i = 0; i < ser.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			ser.data[i] ^= (unsigned char)(1u << bit);
			struct mime_part *t = mime_tree_deserialize(fx.a, ser.data, ser.len, &error);
			if (t == NULL) {
				rejected++;
			} else {
				struct buf out = BUF_INIT;
				mime_bodystructure_write(&out, fx.msg.data, fx.msg.len, t, true);
				bool ok = mime_syntax_check_body(out.data, out.len, true, &error);
				if (!ok)
					fprintf(stderr, "  byte %zu bit %d: %s: %s\n", i, bit, error,
						buf_cstr(&out));
				TEST_CHECK(ok);
				struct mime_section sec = { .path = (const unsigned int[]){ 2 },
							    .path_len = 1 };
				struct mime_section_data data;
				if (mime_section_fetch(t, fx.msg.data, fx.msg.len, &sec, &out, &data) &&
				    !data.filtered)
					TEST_CHECK(data.end <= fx.msg.len);
				buf_free(&out);
			}
			ser.data[i] ^= (unsigned char)(1u << bit);
		}
	}
	TEST_CHECK(rejected > 0);
	TEST_CHECK(mime_tree_deserialize(fx.a, (const unsigned char *)"PMT\x02", 4, &error) == NULL);
	buf_free(&ser);
	fixture_close(&fx);
}

int main(void)
{
	test_run("envelope_simple_message", test_envelope_simple_message);
	test_run("envelope_multiple_recipients_and_in_reply_to",
		 test_envelope_multiple_recipients_and_in_reply_to);
	test_run("envelope_groups_routes_comments", test_envelope_groups_routes_comments);
	test_run("envelope_keeps_encoded_words_raw", test_envelope_keeps_encoded_words_raw);
	test_run("envelope_8bit_values_become_literals", test_envelope_8bit_values_become_literals);
	test_run("envelope_unfolds_and_missing_fields_are_nil",
		 test_envelope_unfolds_and_missing_fields_are_nil);
	test_run("envelope_present_but_empty_subject_is_empty_string",
		 test_envelope_present_but_empty_subject_is_empty_string);
	test_run("bodystructure_defaults_without_content_type",
		 test_bodystructure_defaults_without_content_type);
	test_run("bodystructure_outlook_related", test_bodystructure_outlook_related);
	test_run("body_has_no_extension_data", test_body_has_no_extension_data);
	test_run("bodystructure_digest_defaults_to_rfc822", test_bodystructure_digest_defaults_to_rfc822);
	test_run("bodystructure_forward_nested_twice", test_bodystructure_forward_nested_twice);
	test_run("bodystructure_rfc2231_language_location_md5",
		 test_bodystructure_rfc2231_language_location_md5);
	test_run("bodystructure_broken_mime", test_bodystructure_broken_mime);
	test_run("bodystructure_message_parts", test_bodystructure_message_parts);
	test_run("bodystructure_quotes_and_multipart_extensions",
		 test_bodystructure_quotes_and_multipart_extensions);
	test_run("corpus_output_is_valid_imap_syntax", test_corpus_output_is_valid_imap_syntax);
	test_run("syntax_checker_rejects_bad_output", test_syntax_checker_rejects_bad_output);
	test_run("section_paths_in_nested_messages", test_section_paths_in_nested_messages);
	test_run("section_part1_of_single_part_message_is_body",
		 test_section_part1_of_single_part_message_is_body);
	test_run("section_header_fields_filtering", test_section_header_fields_filtering);
	test_run("header_root_answers_as_the_parse", test_header_root_answers_as_the_parse);
	test_run("section_header_fields_of_embedded_message",
		 test_section_header_fields_of_embedded_message);
	test_run("section_header_without_blank_line", test_section_header_without_blank_line);
	test_run("section_thousand_parts", test_section_thousand_parts);
	test_run("limits_depth_makes_opaque_leaf", test_limits_depth_makes_opaque_leaf);
	test_run("limits_part_count", test_limits_part_count);
	test_run("no_line_counts_keeps_bounds", test_no_line_counts_keeps_bounds);
	test_run("parse_offsets_crlf", test_parse_offsets_crlf);
	test_run("parse_bare_lf_equals_crlf_structure", test_parse_bare_lf_equals_crlf_structure);
	test_run("parse_no_headers_and_nul_bytes", test_parse_no_headers_and_nul_bytes);
	test_run("parse_8bit_header_flag_and_params", test_parse_8bit_header_flag_and_params);
	test_run("rfc2231_continuations_and_charsets", test_rfc2231_continuations_and_charsets);
	test_run("rfc2047_decoding", test_rfc2047_decoding);
	test_run("charset_conversion", test_charset_conversion);
	test_run("base64_decoding", test_base64_decoding);
	test_run("qp_decoding", test_qp_decoding);
	test_run("part_decode_for_binary", test_part_decode_for_binary);
	test_run("part_text_for_search", test_part_text_for_search);
	test_run("imapstr_forms", test_imapstr_forms);
	test_run("serialize_roundtrip", test_serialize_roundtrip);
	test_run("serialize_sections_after_reload", test_serialize_sections_after_reload);
	test_run("deserialize_rejects_corrupt_input", test_deserialize_rejects_corrupt_input);
	return test_finish();
}
