#include "test-common.h"

#include "imap/imap-seqset.h"
#include "lib/buf.h"

/* Parses str, resolves it against max (no saved result) and compares the
 * formatted result. */
static void check_resolved(const char *str, uint32_t max, const char *expected)
{
	struct imap_seqset_spec spec;
	struct imap_seqset set = IMAP_SEQSET_INIT;
	struct buf b = BUF_INIT;
	const char *error = NULL;
	bool ok = imap_seqset_parse(str, strlen(str), 0, &spec, &error);
	TEST_CHECK(ok);
	if (!ok) {
		fprintf(stderr, "  parse of \"%s\" failed: %s\n", str, error);
		return;
	}
	imap_seqset_resolve(&spec, max, NULL, &set);
	imap_seqset_format(&set, &b);
	TEST_CHECK_STR(buf_cstr(&b), expected);
	buf_free(&b);
	imap_seqset_free(&set);
	imap_seqset_spec_free(&spec);
}

static void check_parse_fails(const char *str, const char *expected_error)
{
	struct imap_seqset_spec spec;
	const char *error = NULL;
	TEST_CHECK(!imap_seqset_parse(str, strlen(str), 0, &spec, &error));
	TEST_CHECK_STR(error, expected_error);
	TEST_CHECK_INT(spec.set.count, 0);
	TEST_CHECK(spec.set.ranges == NULL);
}

static void test_seqset_parse_and_merge(void)
{
	check_resolved("1", 10, "1");
	check_resolved("1:3", 10, "1:3");
	check_resolved("3:1", 10, "1:3");
	check_resolved("1:3,5", 10, "1:3,5");
	check_resolved("5,1:3", 10, "1:3,5");
	check_resolved("1,2,3,4", 10, "1:4");
	check_resolved("4,3,2,1", 10, "1:4");
	check_resolved("1:5,2:3", 10, "1:5");
	check_resolved("1:3,4:6", 10, "1:6");
	check_resolved("10:20,1:9", 30, "1:20");
	check_resolved("7,7,7", 10, "7");
	check_resolved("1:4294967295", 10, "1:4294967295");
	check_resolved("4294967295", 10, "4294967295");
	check_resolved("4294967295,1", 10, "1,4294967295");
}

static void test_seqset_star(void)
{
	/* RFC 9051 examples */
	check_resolved("2,4:7,9,12:*", 15, "2,4:7,9,12:15");
	check_resolved("*:4,5:7", 10, "4:10");
	check_resolved("*", 10, "10");
	check_resolved("*:*", 10, "10");
	check_resolved("1:*", 10, "1:10");
	/* n:* with n above max includes max and everything up to n */
	check_resolved("3291:*", 3000, "3000:3291");
	check_resolved("20:*,5", 10, "5,10:20");
	check_resolved("*,1", 10, "1,10");
	/* empty mailbox: "*" contributes nothing */
	check_resolved("1:*", 0, "");
	check_resolved("*", 0, "");
}

static void test_seqset_dollar(void)
{
	struct imap_seqset_spec spec;
	struct imap_seqset saved = IMAP_SEQSET_INIT, set = IMAP_SEQSET_INIT;
	struct buf b = BUF_INIT;
	const char *error;

	TEST_CHECK(imap_seqset_parse("$", 1, 0, &spec, &error));
	TEST_CHECK(spec.dollar);
	imap_seqset_add_range(&saved, 3, 5);
	imap_seqset_resolve(&spec, 10, &saved, &set);
	imap_seqset_format(&set, &b);
	TEST_CHECK_STR(buf_cstr(&b), "3:5");
	/* no saved result: empty (RFC 5182 2.1) */
	imap_seqset_resolve(&spec, 10, NULL, &set);
	TEST_CHECK(imap_seqset_is_empty(&set));
	imap_seqset_spec_free(&spec);

	TEST_CHECK(imap_seqset_parse("1,$", 3, 0, &spec, &error));
	imap_seqset_resolve(&spec, 10, &saved, &set);
	buf_reset(&b);
	imap_seqset_format(&set, &b);
	TEST_CHECK_STR(buf_cstr(&b), "1,3:5");
	imap_seqset_spec_free(&spec);
	imap_seqset_free(&saved);
	imap_seqset_free(&set);
	buf_free(&b);
}

static void test_seqset_parse_rejections(void)
{
	check_parse_fails("", "Invalid sequence set");
	check_parse_fails("0", "Sequence number 0 is not allowed");
	check_parse_fails("0:5", "Sequence number 0 is not allowed");
	check_parse_fails("5:0", "Sequence number 0 is not allowed");
	check_parse_fails("01", "Invalid sequence number (leading zero)");
	check_parse_fails("4294967296", "Sequence number too large");
	check_parse_fails("99999999999999999999", "Sequence number too large");
	check_parse_fails("1,", "Invalid sequence set");
	check_parse_fails(",1", "Invalid sequence set");
	check_parse_fails("1,,2", "Invalid sequence set");
	check_parse_fails("1:", "Invalid sequence set");
	check_parse_fails(":1", "Invalid sequence set");
	check_parse_fails("1:2:3", "Invalid sequence set");
	check_parse_fails("1 2", "Invalid sequence set");
	check_parse_fails("a", "Invalid sequence set");
	check_parse_fails("-1", "Invalid sequence set");
	check_parse_fails("$$", "Invalid sequence set");
	check_parse_fails("$:3", "Invalid sequence set");
	check_parse_fails("**", "Invalid sequence set");
}

static void test_seqset_range_limit(void)
{
	struct buf in = BUF_INIT;
	struct imap_seqset_spec spec;
	const char *error = NULL;
	for (unsigned i = 0; i < 1000; i++)
		buf_printf(&in, "%s%u", i ? "," : "", i * 2 + 1);
	TEST_CHECK(imap_seqset_parse((const char *)in.data, in.len, 1000,
				     &spec, &error));
	TEST_CHECK_INT(spec.set.count, 1000);
	imap_seqset_spec_free(&spec);
	TEST_CHECK(!imap_seqset_parse((const char *)in.data, in.len, 999,
				      &spec, &error));
	TEST_CHECK_STR(error, "Too many ranges in sequence set");
	buf_free(&in);

	/* a million ranges with the default limit */
	struct buf big = BUF_INIT;
	for (unsigned i = 0; i < 1000000; i++)
		buf_printf(&big, "%s%u", i ? "," : "", i * 2 + 1);
	TEST_CHECK(!imap_seqset_parse((const char *)big.data, big.len, 0,
				      &spec, &error));
	TEST_CHECK_STR(error, "Too many ranges in sequence set");
	buf_free(&big);
}

static void test_seqset_contains_count_iter(void)
{
	struct imap_seqset set = IMAP_SEQSET_INIT;
	imap_seqset_add_range(&set, 10, 12);
	imap_seqset_add(&set, 1);
	imap_seqset_add_range(&set, 5, 3);
	TEST_CHECK_INT(set.count, 3);
	TEST_CHECK(imap_seqset_contains(&set, 1));
	TEST_CHECK(!imap_seqset_contains(&set, 2));
	TEST_CHECK(imap_seqset_contains(&set, 3));
	TEST_CHECK(imap_seqset_contains(&set, 5));
	TEST_CHECK(!imap_seqset_contains(&set, 6));
	TEST_CHECK(imap_seqset_contains(&set, 12));
	TEST_CHECK(!imap_seqset_contains(&set, 13));
	TEST_CHECK(!imap_seqset_contains(&set, 0));
	TEST_CHECK_INT(imap_seqset_count(&set), 7);

	struct imap_seqset_iter it;
	uint32_t n, got[16];
	size_t k = 0;
	imap_seqset_iter_init(&it, &set);
	while (imap_seqset_iter_next(&it, &n) && k < 16)
		got[k++] = n;
	TEST_CHECK_INT(k, 7);
	uint32_t want[] = { 1, 3, 4, 5, 10, 11, 12 };
	TEST_CHECK(k == 7 && memcmp(got, want, sizeof(want)) == 0);

	uint32_t first, last;
	TEST_CHECK(imap_seqset_first(&set, &first) && first == 1);
	TEST_CHECK(imap_seqset_last(&set, &last) && last == 12);

	/* bridging add merges three ranges into one */
	imap_seqset_add_range(&set, 2, 9);
	TEST_CHECK_INT(set.count, 1);
	TEST_CHECK_INT(imap_seqset_count(&set), 12);
	imap_seqset_free(&set);

	TEST_CHECK(!imap_seqset_first(&set, &first));
	imap_seqset_iter_init(&it, &set);
	TEST_CHECK(!imap_seqset_iter_next(&it, &n));
}

static void test_seqset_full_range_is_compact(void)
{
	struct imap_seqset set = IMAP_SEQSET_INIT;
	imap_seqset_add_range(&set, 1, UINT32_MAX);
	TEST_CHECK_INT(set.count, 1);
	TEST_CHECK_INT(imap_seqset_count(&set), 4294967295ULL);
	TEST_CHECK(imap_seqset_contains(&set, UINT32_MAX));
	/* iteration at the top end terminates */
	struct imap_seqset tail = IMAP_SEQSET_INIT;
	imap_seqset_add_range(&tail, UINT32_MAX - 1, UINT32_MAX);
	struct imap_seqset_iter it;
	uint32_t n;
	int k = 0;
	imap_seqset_iter_init(&it, &tail);
	while (imap_seqset_iter_next(&it, &n))
		k++;
	TEST_CHECK_INT(k, 2);
	imap_seqset_add(&set, 0);
	TEST_CHECK_INT(imap_seqset_count(&set), 4294967295ULL);
	imap_seqset_free(&set);
	imap_seqset_free(&tail);
}

static void test_seqset_remove_range(void)
{
	struct imap_seqset set = IMAP_SEQSET_INIT;
	struct buf b = BUF_INIT;
	imap_seqset_add_range(&set, 1, 10);
	imap_seqset_add_range(&set, 20, 30);
	imap_seqset_remove_range(&set, 5, 6);
	imap_seqset_format(&set, &b);
	TEST_CHECK_STR(buf_cstr(&b), "1:4,7:10,20:30");
	imap_seqset_remove_range(&set, 8, 25);
	buf_reset(&b);
	imap_seqset_format(&set, &b);
	TEST_CHECK_STR(buf_cstr(&b), "1:4,7,26:30");
	imap_seqset_remove_range(&set, 1, 100);
	TEST_CHECK(imap_seqset_is_empty(&set));
	imap_seqset_add_range(&set, 1, UINT32_MAX);
	imap_seqset_remove_range(&set, UINT32_MAX, UINT32_MAX);
	imap_seqset_remove_range(&set, 1, 1);
	buf_reset(&b);
	imap_seqset_format(&set, &b);
	TEST_CHECK_STR(buf_cstr(&b), "2:4294967294");
	imap_seqset_free(&set);
	buf_free(&b);
}

static void test_seqset_unordered_adds(void)
{
	struct imap_seqset set = IMAP_SEQSET_INIT, other = IMAP_SEQSET_INIT;
	struct buf b = BUF_INIT;
	imap_seqset_add(&set, 50);
	imap_seqset_add(&set, 10);
	imap_seqset_add(&set, 30);
	imap_seqset_add(&set, 11);
	imap_seqset_add(&set, 49);
	imap_seqset_add(&set, 9);
	imap_seqset_format(&set, &b);
	TEST_CHECK_STR(buf_cstr(&b), "9:11,30,49:50");
	imap_seqset_add_range(&other, 12, 29);
	imap_seqset_merge(&set, &other);
	buf_reset(&b);
	imap_seqset_format(&set, &b);
	TEST_CHECK_STR(buf_cstr(&b), "9:30,49:50");
	imap_seqset_copy(&other, &set);
	TEST_CHECK_INT(other.count, 2);
	imap_seqset_clear(&set);
	TEST_CHECK(imap_seqset_is_empty(&set));
	imap_seqset_free(&set);
	imap_seqset_free(&other);
	buf_free(&b);
}

int main(void)
{
	test_run("seqset_parse_and_merge", test_seqset_parse_and_merge);
	test_run("seqset_star", test_seqset_star);
	test_run("seqset_dollar", test_seqset_dollar);
	test_run("seqset_parse_rejections", test_seqset_parse_rejections);
	test_run("seqset_range_limit", test_seqset_range_limit);
	test_run("seqset_contains_count_iter", test_seqset_contains_count_iter);
	test_run("seqset_full_range_is_compact", test_seqset_full_range_is_compact);
	test_run("seqset_remove_range", test_seqset_remove_range);
	test_run("seqset_unordered_adds", test_seqset_unordered_adds);
	return test_finish();
}
