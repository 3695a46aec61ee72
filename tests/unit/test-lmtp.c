/* LMTP pieces without sockets: the DATA decoder at every split point, the
 * MAIL/RCPT argument parser, +detail and the trace fields. */

#include "test-common.h"

#include "lib/arena.h"
#include "lib/buf.h"
#include "lmtp/lmtp-address.h"
#include "lmtp/lmtp-dot.h"
#include "lmtp/lmtp-trace.h"

#include <stdlib.h>
#include <string.h>

/* Decodes input fed in pieces of at most step bytes (0: split once at
 * split). Returns the output and *rest_r the bytes after the terminator. */
static void dot_run(const char *in, size_t split, size_t step, struct buf *out, bool *end_r,
		    size_t *rest_r)
{
	struct lmtp_dot d;
	lmtp_dot_init(&d);
	size_t len = strlen(in), pos = 0;
	unsigned char tmp[256];
	*end_r = false;
	while (pos < len && !*end_r) {
		size_t n = step != 0 ? step : (pos < split ? split - pos : len - pos);
		if (n > len - pos)
			n = len - pos;
		size_t out_len, consumed;
		*end_r = lmtp_dot_decode(&d, (const unsigned char *)in + pos, n, tmp, &out_len,
					 &consumed);
		buf_append(out, tmp, out_len);
		pos += consumed;
	}
	*rest_r = len - pos;
}

static void dot_check(const char *in, const char *expected, bool end, size_t rest)
{
	size_t len = strlen(in);
	for (size_t step = 0; step <= 3; step++) {
		for (size_t split = 0; split <= (step == 0 ? len : 0); split++) {
			struct buf out = BUF_INIT;
			bool got_end;
			size_t got_rest;
			dot_run(in, split, step, &out, &got_end, &got_rest);
			TEST_CHECK_MEM(out.len ? (const char *)out.data : "", out.len, expected,
				       strlen(expected));
			TEST_CHECK_INT(got_end, end);
			TEST_CHECK_INT(got_rest, rest);
			buf_free(&out);
		}
	}
}

static void test_dot_terminator_and_unstuffing(void)
{
	dot_check(".\r\n", "", true, 0);
	dot_check("a\r\n.\r\nQUIT\r\n", "a\r\n", true, 6);
	dot_check("..\r\n.x\r\n...\r\n.\r\n", ".\r\nx\r\n..\r\n", true, 0);
	dot_check("a.\r\nb\r\n.\r\n", "a.\r\nb\r\n", true, 0);
}

static void test_dot_only_crlf_ends_data(void)
{
	dot_check("a\n.\nb\r\n.\r\n", "a\n.\nb\r\n", true, 0);
	dot_check("a\r\n.\rb\r\n.\r\n", "a\r\n\rb\r\n", true, 0);
	dot_check("a\r\n.\r\r\n.\r\n", "a\r\n\r\r\n", true, 0);
	dot_check("a\r\n.", "a\r\n", false, 0);
	dot_check("a\r\r\n.\r\n", "a\r\r\n", true, 0);
}

static void addr_check(const char *args, const char *prefix, bool allow_null,
		       enum lmtp_address_result expected, const char *address,
		       const char *local, const char *domain, size_t params)
{
	struct arena *a = arena_new(0);
	struct lmtp_address_args out;
	enum lmtp_address_result r = lmtp_address_parse(a, args, prefix, allow_null, &out);
	TEST_CHECK_INT(r, expected);
	if (r == LMTP_ADDRESS_OK) {
		TEST_CHECK_STR(out.path.address, address);
		TEST_CHECK_STR(out.path.local, local);
		if (domain == NULL)
			TEST_CHECK(out.path.domain == NULL);
		else
			TEST_CHECK_STR(out.path.domain, domain);
		TEST_CHECK_INT(out.param_count, params);
	}
	arena_destroy(&a);
}

static void test_address_paths(void)
{
	addr_check("FROM:<a@example.org>", "FROM:", true, LMTP_ADDRESS_OK, "a@example.org", "a",
		   "example.org", 0);
	addr_check("from: <>", "FROM:", true, LMTP_ADDRESS_OK, "", "", NULL, 0);
	addr_check("TO:<>", "TO:", false, LMTP_ADDRESS_BAD_PATH, NULL, NULL, NULL, 0);
	addr_check("TO:<demo>", "TO:", false, LMTP_ADDRESS_OK, "demo", "demo", NULL, 0);
	addr_check("TO:<@a.example,@b.example:x@c.example>", "TO:", false, LMTP_ADDRESS_OK,
		   "x@c.example", "x", "c.example", 0);
	addr_check("TO:<\"a \\\" b\"@[192.0.2.1]>", "TO:", false, LMTP_ADDRESS_OK,
		   "\"a \\\" b\"@[192.0.2.1]", "a \" b", "[192.0.2.1]", 0);
	addr_check("TO:<a@b..c>", "TO:", false, LMTP_ADDRESS_BAD_PATH, NULL, NULL, NULL, 0);
	addr_check("TO:<a@-b>", "TO:", false, LMTP_ADDRESS_BAD_PATH, NULL, NULL, NULL, 0);
	addr_check("TO:<a@b", "TO:", false, LMTP_ADDRESS_BAD_PATH, NULL, NULL, NULL, 0);
	addr_check("TO:<a\x01@b>", "TO:", false, LMTP_ADDRESS_BAD_PATH, NULL, NULL, NULL, 0);
	addr_check("TO:a@b", "TO:", false, LMTP_ADDRESS_BAD_COMMAND, NULL, NULL, NULL, 0);
	addr_check("FROM:<a@b>", "TO:", false, LMTP_ADDRESS_BAD_COMMAND, NULL, NULL, NULL, 0);
}

static void test_address_params(void)
{
	struct arena *a = arena_new(0);
	struct lmtp_address_args out;
	TEST_CHECK_INT(lmtp_address_parse(a, "FROM:<a@b> SIZE=10  BODY=8BITMIME X-Y", "FROM:", true,
					  &out), LMTP_ADDRESS_OK);
	TEST_CHECK_INT(out.param_count, 3);
	TEST_CHECK_STR(out.params[0].keyword, "SIZE");
	TEST_CHECK_STR(out.params[0].value, "10");
	TEST_CHECK_STR(out.params[1].value, "8BITMIME");
	TEST_CHECK_STR(out.params[2].keyword, "X-Y");
	TEST_CHECK(out.params[2].value == NULL);
	TEST_CHECK_INT(lmtp_address_parse(a, "FROM:<a@b> SIZE=", "FROM:", true, &out),
		       LMTP_ADDRESS_BAD_PARAMS);
	TEST_CHECK_INT(lmtp_address_parse(a, "FROM:<a@b> -X", "FROM:", true, &out),
		       LMTP_ADDRESS_BAD_PARAMS);
	TEST_CHECK_INT(lmtp_address_parse(a, "FROM:<a@b>junk", "FROM:", true, &out),
		       LMTP_ADDRESS_BAD_PARAMS);
	TEST_CHECK_INT(lmtp_address_parse(a, "FROM:<a@b> A=1=2", "FROM:", true, &out),
		       LMTP_ADDRESS_BAD_PARAMS);
	arena_destroy(&a);
}

static void test_address_detail(void)
{
	struct arena *a = arena_new(0);
	const char *base, *detail;
	lmtp_address_split_detail(a, "alice+lists", &base, &detail);
	TEST_CHECK_STR(base, "alice");
	TEST_CHECK_STR(detail, "lists");
	lmtp_address_split_detail(a, "alice+a+b", &base, &detail);
	TEST_CHECK_STR(detail, "a+b");
	lmtp_address_split_detail(a, "alice+", &base, &detail);
	TEST_CHECK_STR(base, "alice");
	TEST_CHECK(detail == NULL);
	lmtp_address_split_detail(a, "+x", &base, &detail);
	TEST_CHECK_STR(base, "+x");
	TEST_CHECK(detail == NULL);
	arena_destroy(&a);
}

static void test_trace_fields(void)
{
	struct buf out = BUF_INIT;
	struct lmtp_trace t = { .return_path = "a@b", .helo = "mx\x01(x)", .remote = "127.0.0.1",
				.host = "h", .id = "42", .time = 0 };
	setenv("TZ", "UTC", 1);
	lmtp_trace_format(&t, &out);
	TEST_CHECK_STR((const char *)out.data,
		       "Return-Path: <a@b>\r\n"
		       "Received: from mx??x? (127.0.0.1)\r\n"
		       "\tby h (Petrel) with LMTP id 42;\r\n"
		       "\tThu, 1 Jan 1970 00:00:00 +0000\r\n");
	buf_reset(&out);
	struct lmtp_trace only = { .return_path = "" };
	lmtp_trace_format(&only, &out);
	TEST_CHECK_STR((const char *)out.data, "Return-Path: <>\r\n");
	buf_free(&out);
}

int main(void)
{
	test_run("dot_terminator_and_unstuffing", test_dot_terminator_and_unstuffing);
	test_run("dot_only_crlf_ends_data", test_dot_only_crlf_ends_data);
	test_run("address_paths", test_address_paths);
	test_run("address_params", test_address_params);
	test_run("address_detail", test_address_detail);
	test_run("trace_fields", test_trace_fields);
	return test_finish();
}
