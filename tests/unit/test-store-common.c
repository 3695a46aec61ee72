#include "test-store-common.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

char test_dir[256];

void test_dir_make(const char *template)
{
	snprintf(test_dir, sizeof(test_dir), "%s", template);
	if (mkdtemp(test_dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
}

static int test_dir_remove_entry(const char *path, const struct stat *st, int type,
				 struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

void test_dir_remove(void)
{
	nftw(test_dir, test_dir_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

struct store_user *user_open(const char *name)
{
	struct store_user *u = NULL;
	const char *error = NULL;
	if (store_user_open(test_dir, name, &u, &error) != STORE_OK) {
		fprintf(stderr, "store_user_open: %s\n", error);
		exit(1);
	}
	return u;
}

uint64_t mailbox_id(struct store_user *u, const char *name)
{
	struct store_mailbox_status status;
	if (store_mailbox_status(u, name, &status, NULL) != STORE_OK)
		return 0;
	return status.id;
}
