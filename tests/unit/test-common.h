#ifndef PETREL_TEST_COMMON_H
#define PETREL_TEST_COMMON_H

/* A tiny test harness. Each test file defines test functions and a main that
 * calls test_run() for each; the process exits non-zero if any check failed
 * and prints "N passed, N failed" for the totals. */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int test_checks_failed;
extern const char *test_current;

#define TEST_CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			test_checks_failed++; \
		} \
	} while (0)

#define TEST_CHECK_STR(actual, expected) \
	do { \
		const char *test_a_ = (actual), *test_e_ = (expected); \
		if (test_a_ == NULL || strcmp(test_a_, test_e_) != 0) { \
			fprintf(stderr, "  FAIL %s:%d: got \"%s\", expected \"%s\"\n", \
				__FILE__, __LINE__, test_a_ ? test_a_ : "(null)", test_e_); \
			test_checks_failed++; \
		} \
	} while (0)

#define TEST_CHECK_INT(actual, expected) \
	do { \
		long long test_a_ = (long long)(actual), test_e_ = (long long)(expected); \
		if (test_a_ != test_e_) { \
			fprintf(stderr, "  FAIL %s:%d: %s = %lld, expected %lld\n", \
				__FILE__, __LINE__, #actual, test_a_, test_e_); \
			test_checks_failed++; \
		} \
	} while (0)

#define TEST_CHECK_MEM(actual, actual_len, expected, expected_len) \
	do { \
		size_t test_al_ = (actual_len), test_el_ = (expected_len); \
		if (test_al_ != test_el_ || memcmp((actual), (expected), test_el_) != 0) { \
			fprintf(stderr, "  FAIL %s:%d: %s: %zu bytes \"%.*s\", expected %zu bytes \"%.*s\"\n", \
				__FILE__, __LINE__, #actual, test_al_, (int)test_al_, \
				(const char *)(actual), test_el_, (int)test_el_, \
				(const char *)(expected)); \
			test_checks_failed++; \
		} \
	} while (0)

void test_run(const char *name, void (*fn)(void));
/* Prints the summary line and returns the process exit code. */
int test_finish(void);

#endif
