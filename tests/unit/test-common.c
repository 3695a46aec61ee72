#include "test-common.h"

int test_checks_failed;
const char *test_current;
static int tests_passed, tests_failed;

void test_run(const char *name, void (*fn)(void))
{
	int before = test_checks_failed;
	test_current = name;
	fn();
	if (test_checks_failed == before) {
		tests_passed++;
		printf("ok   %s\n", name);
	} else {
		tests_failed++;
		printf("FAIL %s\n", name);
	}
	fflush(stdout);
}

int test_finish(void)
{
	printf("%d passed, %d failed\n", tests_passed, tests_failed);
	return tests_failed == 0 ? 0 : 1;
}
