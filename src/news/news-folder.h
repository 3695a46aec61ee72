#ifndef PETREL_NEWS_FOLDER_H
#define PETREL_NEWS_FOLDER_H

/* Newsgroup names and the public-store folders that hold them: "comp.lang.c"
 * under root "News" is "News/comp/lang/c". Pure functions; thread-safe. */

#include <stdbool.h>
#include <stddef.h>

struct arena;

/* A newsgroup name Petrel can keep as a folder: components separated by
 * '.', none empty; printable characters of RFC 3977's wildmat-exact (no
 * blank, control, '*', '?', ',', '!', '[', '\\', ']') and no '/', the
 * folder hierarchy's separator. UTF-8 bytes are allowed. */
bool news_group_name_valid(const char *group, size_t len);

/* "root/comp/lang/c" for "comp.lang.c", from a; NULL for a name
 * news_group_name_valid refuses. */
const char *news_group_folder(struct arena *a, const char *root, const char *group);

/* The newsgroup of folder "root/comp/lang/c" ("comp.lang.c"), from a;
 * NULL when folder is not below root or maps to no valid name (a
 * component holding '.'). */
const char *news_folder_to_group(struct arena *a, const char *root, const char *folder);

#endif
