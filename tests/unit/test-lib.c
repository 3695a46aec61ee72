#include "test-common.h"

#include "lib/arena.h"
#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/log.h"

static void test_arena_alloc_is_aligned_and_distinct(void)
{
	struct arena *a = arena_new(64);
	char *p = arena_alloc(a, 3);
	char *q = arena_alloc(a, 5);
	TEST_CHECK(p != q);
	TEST_CHECK(((size_t)q % sizeof(void *)) == 0);
	memset(p, 'x', 3);
	memset(q, 'y', 5);
	TEST_CHECK(p[2] == 'x');
	void *big = arena_alloc(a, 10000);
	memset(big, 0, 10000);
	TEST_CHECK(arena_used(a) >= 10000);
	arena_reset(a);
	TEST_CHECK_INT(arena_used(a), 0);
	TEST_CHECK_STR(arena_printf(a, "%d-%s", 42, "x"), "42-x");
	arena_destroy(&a);
	TEST_CHECK(a == NULL);
}

static void test_buf_append_and_consume(void)
{
	struct buf b = BUF_INIT;
	TEST_CHECK_STR(buf_cstr(&b), "");
	buf_append_str(&b, "hello ");
	buf_printf(&b, "%s %d", "world", 7);
	TEST_CHECK_STR(buf_cstr(&b), "hello world 7");
	buf_consume(&b, 6);
	TEST_CHECK_STR(buf_cstr(&b), "world 7");
	buf_consume(&b, 100);
	TEST_CHECK_INT(b.len, 0);
	buf_free(&b);
}

static void test_base64_roundtrip_and_strictness(void)
{
	struct buf b = BUF_INIT;
	base64_encode(&b, "\0user\0pass", 10);
	TEST_CHECK_STR(buf_cstr(&b), "AHVzZXIAcGFzcw==");
	struct buf d = BUF_INIT;
	TEST_CHECK(base64_decode(&d, b.data, b.len));
	TEST_CHECK_MEM(d.data, d.len, "\0user\0pass", 10);
	buf_reset(&d);
	TEST_CHECK(!base64_decode(&d, "abc", 3));
	TEST_CHECK(!base64_decode(&d, "ab=c", 4));
	TEST_CHECK(!base64_decode(&d, "a*bc", 4));
	TEST_CHECK(base64_decode(&d, "", 0));
	buf_free(&b);
	buf_free(&d);
}

static void test_log_value_quotes_unsafe_input(void)
{
	struct arena *a = arena_new(0);
	TEST_CHECK_STR(log_str(a, "demo"), "demo");
	TEST_CHECK_STR(log_str(a, "a b"), "\"a b\"");
	TEST_CHECK_STR(log_str(a, "x\r\ny=1"), "\"x\\x0d\\x0ay=1\"");
	TEST_CHECK_STR(log_str(a, ""), "\"\"");
	arena_destroy(&a);
}

/* buf_printf formats into the room there is and grows when that is too
 * small; buf_append_uint writes every digit. */
static void test_buf_printf_grows_and_numbers(void)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s", "");
	TEST_CHECK_INT(b.len, 0);
	TEST_CHECK_STR(buf_cstr(&b), "");
	char big[300];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_printf(&b, "<%s>", big);
	TEST_CHECK_INT(b.len, sizeof(big) + 1);
	TEST_CHECK(b.data[0] == '<' && b.data[b.len - 1] == '>' && b.data[b.len] == '\0');
	buf_reset(&b);
	buf_append_uint(&b, 0);
	buf_append_char(&b, ' ');
	buf_append_uint(&b, 4294967295u);
	buf_append_char(&b, ' ');
	buf_append_uint(&b, UINT64_MAX);
	TEST_CHECK_STR(buf_cstr(&b), "0 4294967295 18446744073709551615");
	buf_free(&b);
}

/* arena_grow keeps the elements and doubles the room only when full. */
static void test_arena_grow_keeps_elements(void)
{
	struct arena *a = arena_new(0);
	size_t cap = 2;
	int *v = arena_alloc(a, cap * sizeof(*v));
	for (int i = 0; i < 100; i++) {
		int *before = v;
		size_t full = cap;
		v = arena_grow(a, v, (size_t)i, &cap, sizeof(*v));
		TEST_CHECK((size_t)i < cap);
		TEST_CHECK((v != before) == ((size_t)i == full));
		TEST_CHECK_INT(cap, (size_t)i == full ? 2 * full : full);
		v[i] = i * 7;
	}
	for (int i = 0; i < 100; i++)
		TEST_CHECK_INT(v[i], i * 7);
	TEST_CHECK_INT(cap, 128);
	arena_destroy(&a);
}

int main(void)
{
	test_run("arena_alloc_is_aligned_and_distinct", test_arena_alloc_is_aligned_and_distinct);
	test_run("buf_append_and_consume", test_buf_append_and_consume);
	test_run("buf_printf_grows_and_numbers", test_buf_printf_grows_and_numbers);
	test_run("arena_grow_keeps_elements", test_arena_grow_keeps_elements);
	test_run("base64_roundtrip_and_strictness", test_base64_roundtrip_and_strictness);
	test_run("log_value_quotes_unsafe_input", test_log_value_quotes_unsafe_input);
	return test_finish();
}
