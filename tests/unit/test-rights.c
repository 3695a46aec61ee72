/* ACL rights strings (RFC 4314): store_rights_format, store_rights_parse,
 * the SETACL mod-rights of store_rights_apply (§3.1) with the obsolete
 * virtual rights "c" and "d" (§2.1.1), and store_rights_format_virtual for
 * ACL and MYRIGHTS responses. */

#include "test-common.h"

#include "store/store.h"

#define L STORE_RIGHT_LOOKUP
#define R STORE_RIGHT_READ
#define S STORE_RIGHT_SEEN
#define W STORE_RIGHT_WRITE
#define I STORE_RIGHT_INSERT
#define P STORE_RIGHT_POST
#define K STORE_RIGHT_CREATE
#define X STORE_RIGHT_DELETE_MB
#define T STORE_RIGHT_DELETED
#define E STORE_RIGHT_EXPUNGE
#define A STORE_RIGHT_ADMIN

/* Formats with a buffer full of junk, so that a missing terminator or a
 * stale byte shows. */
static const char *format(unsigned rights)
{
	static char buf[12];
	memset(buf, 'Z', sizeof(buf));
	return store_rights_format(rights, buf);
}

static const char *format_virtual(unsigned rights)
{
	static char buf[14];
	memset(buf, 'Z', sizeof(buf));
	return store_rights_format_virtual(rights, buf);
}

/* store_rights_apply's result, or ~0u when it refuses (bad letter in *bad_r). */
static unsigned apply(const char *mod, unsigned current, char *bad_r)
{
	unsigned rights = 0x5a5a;
	char bad = '?';
	bool ok = store_rights_apply(mod, current, &rights, &bad);
	if (bad_r != NULL)
		*bad_r = bad;
	return ok ? rights : ~0u;
}

static void test_bits_follow_the_letter_order(void)
{
	const unsigned bits[] = { L, R, S, W, I, P, K, X, T, E, A };
	TEST_CHECK_INT(sizeof(bits) / sizeof(bits[0]), strlen(STORE_RIGHTS_CHARS));
	TEST_CHECK_STR(STORE_RIGHTS_CHARS, "lrswipkxtea");
	unsigned all = 0;
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		char letter[2] = { STORE_RIGHTS_CHARS[i], '\0' };
		TEST_CHECK_STR(format(bits[i]), letter);
		TEST_CHECK((all & bits[i]) == 0);
		all |= bits[i];
	}
	TEST_CHECK_INT(all, STORE_RIGHTS_ALL);
}

static void test_format_lists_letters_in_fixed_order(void)
{
	TEST_CHECK_STR(format(0), "");
	TEST_CHECK_STR(format(STORE_RIGHTS_ALL), "lrswipkxtea");
	TEST_CHECK_STR(format(A | L | R), "lra");
	TEST_CHECK_STR(format(E | T | K), "kte");
	TEST_CHECK_STR(format(S | I | R | W), "rswi");
	char buf[12];
	TEST_CHECK(store_rights_format(L, buf) == buf);
}

static void test_format_virtual_adds_c_and_d(void)
{
	/* RFC 4314 2.1.1: "c" when a member of create (k) is present, "d"
	 * when a member of delete (e, t) is. */
	TEST_CHECK_STR(format_virtual(0), "");
	TEST_CHECK_STR(format_virtual(L | R | S), "lrs");
	TEST_CHECK_STR(format_virtual(K), "kc");
	TEST_CHECK_STR(format_virtual(T), "td");
	TEST_CHECK_STR(format_virtual(E), "ed");
	TEST_CHECK_STR(format_virtual(X), "x");
	TEST_CHECK_STR(format_virtual(L | R | S | W | I | K | T | E), "lrswiktecd");
	TEST_CHECK_STR(format_virtual(STORE_RIGHTS_ALL), "lrswipkxteacd");
	char buf[14];
	TEST_CHECK(store_rights_format_virtual(K, buf) == buf);
}

static void test_parse_round_trips_every_set(void)
{
	/* All 2048 sets: format then parse gives the same bits back. */
	for (unsigned rights = 0; rights <= STORE_RIGHTS_ALL; rights++) {
		unsigned back = ~0u;
		char bad = '?';
		TEST_CHECK(store_rights_parse(format(rights), &back, &bad));
		TEST_CHECK_INT(back, rights);
	}
}

static void test_parse_accepts_any_order_and_repeats(void)
{
	unsigned rights = 0;
	TEST_CHECK(store_rights_parse("sril", &rights, NULL));
	TEST_CHECK_INT(rights, L | R | S | I);
	TEST_CHECK(store_rights_parse("llll", &rights, NULL));
	TEST_CHECK_INT(rights, L);
	TEST_CHECK(store_rights_parse("", &rights, NULL));
	TEST_CHECK_INT(rights, 0);
}

static void test_parse_refuses_other_letters(void)
{
	unsigned rights;
	char bad = '?';
	/* Only the standard letters: virtual rights, signs, upper case,
	 * digits (site-defined rights we do not have) are refused. */
	TEST_CHECK(!store_rights_parse("lrc", &rights, &bad));
	TEST_CHECK_INT(bad, 'c');
	TEST_CHECK(!store_rights_parse("d", &rights, &bad));
	TEST_CHECK_INT(bad, 'd');
	TEST_CHECK(!store_rights_parse("+lr", &rights, &bad));
	TEST_CHECK_INT(bad, '+');
	TEST_CHECK(!store_rights_parse("lR", &rights, &bad));
	TEST_CHECK_INT(bad, 'R');
	TEST_CHECK(!store_rights_parse("l0", &rights, &bad));
	TEST_CHECK_INT(bad, '0');
	TEST_CHECK(!store_rights_parse("l r", &rights, &bad));
	TEST_CHECK_INT(bad, ' ');
	TEST_CHECK(!store_rights_parse("q", &rights, NULL));
}

static void test_apply_replaces_without_sign(void)
{
	TEST_CHECK_INT(apply("lrs", STORE_RIGHTS_ALL, NULL), L | R | S);
	TEST_CHECK_INT(apply("lrs", 0, NULL), L | R | S);
	TEST_CHECK_INT(apply("", L | R | S, NULL), 0);
	TEST_CHECK_INT(apply("a", L, NULL), A);
}

static void test_apply_adds_with_plus(void)
{
	TEST_CHECK_INT(apply("+w", L | R, NULL), L | R | W);
	TEST_CHECK_INT(apply("+lr", L | R, NULL), L | R);
	TEST_CHECK_INT(apply("+", L | R, NULL), L | R);
	TEST_CHECK_INT(apply("+lrswipkxtea", 0, NULL), STORE_RIGHTS_ALL);
}

static void test_apply_removes_with_minus(void)
{
	TEST_CHECK_INT(apply("-w", L | R | W, NULL), L | R);
	TEST_CHECK_INT(apply("-w", L | R, NULL), L | R);
	TEST_CHECK_INT(apply("-", L | R, NULL), L | R);
	TEST_CHECK_INT(apply("-lrswipkxtea", STORE_RIGHTS_ALL, NULL), 0);
}

static void test_apply_expands_virtual_rights(void)
{
	/* RFC 4314 2.1.1: c is k here (create = k), d is e and t. */
	TEST_CHECK_INT(apply("c", 0, NULL), K);
	TEST_CHECK_INT(apply("d", 0, NULL), E | T);
	TEST_CHECK_INT(apply("lrswida", 0, NULL), L | R | S | W | I | E | T | A);
	TEST_CHECK_INT(apply("-d", L | E | T | X, NULL), L | X);
	TEST_CHECK_INT(apply("-c", K | X, NULL), X);
	/* §3.1's example: Chris lrswi, "+cda" gives lrswi plus k, e, t, a. */
	TEST_CHECK_INT(apply("+cda", L | R | S | W | I, NULL), L | R | S | W | I | K | E | T | A);
	/* "d" together with a member is no different from "d" alone. */
	TEST_CHECK_INT(apply("det", 0, NULL), E | T);
}

static void test_apply_refuses_unknown_rights(void)
{
	char bad;
	/* §3.1: an unrecognised right is BAD, never silently ignored; upper
	 * case is not allowed (§2). */
	TEST_CHECK_INT(apply("lrQswicda", L, &bad), ~0u);
	TEST_CHECK_INT(bad, 'Q');
	TEST_CHECK_INT(apply("lrqswicda", L, &bad), ~0u);
	TEST_CHECK_INT(bad, 'q');
	TEST_CHECK_INT(apply("+L", L, &bad), ~0u);
	TEST_CHECK_INT(bad, 'L');
	TEST_CHECK_INT(apply("-1", L, &bad), ~0u);
	TEST_CHECK_INT(bad, '1');
	/* Only the first character is a sign. */
	TEST_CHECK_INT(apply("+-l", L, &bad), ~0u);
	TEST_CHECK_INT(bad, '-');
	TEST_CHECK_INT(apply("l+r", 0, &bad), ~0u);
	TEST_CHECK_INT(bad, '+');
	/* bad_r may be NULL. */
	unsigned rights;
	TEST_CHECK(!store_rights_apply("Z", 0, &rights, NULL));
}

int main(void)
{
	test_run("bits_follow_the_letter_order", test_bits_follow_the_letter_order);
	test_run("format_lists_letters_in_fixed_order", test_format_lists_letters_in_fixed_order);
	test_run("format_virtual_adds_c_and_d", test_format_virtual_adds_c_and_d);
	test_run("parse_round_trips_every_set", test_parse_round_trips_every_set);
	test_run("parse_accepts_any_order_and_repeats", test_parse_accepts_any_order_and_repeats);
	test_run("parse_refuses_other_letters", test_parse_refuses_other_letters);
	test_run("apply_replaces_without_sign", test_apply_replaces_without_sign);
	test_run("apply_adds_with_plus", test_apply_adds_with_plus);
	test_run("apply_removes_with_minus", test_apply_removes_with_minus);
	test_run("apply_expands_virtual_rights", test_apply_expands_virtual_rights);
	test_run("apply_refuses_unknown_rights", test_apply_refuses_unknown_rights);
	return test_finish();
}
