#ifndef PETREL_TEST_STORE_COMMON_H
#define PETREL_TEST_STORE_COMMON_H

/* Scaffolding shared by the store's unit tests: a scratch data directory,
 * removed at the end, and stores opened in it. */

#include "store/store.h"

#include <stdint.h>

/* The scratch data directory (test_dir_make). */
extern char test_dir[256];

/* Makes test_dir from template, a mkdtemp(3) pattern; exits on failure. */
void test_dir_make(const char *template);
/* Removes test_dir and everything below it. */
void test_dir_remove(void);
/* Opens (creating) the store of user name in test_dir; exits on failure. */
struct store_user *user_open(const char *name);
/* The id of mailbox name of u, 0 when it does not exist. */
uint64_t mailbox_id(struct store_user *u, const char *name);

#endif
