/* Newsgroup name <-> public folder name. */

#include "news/news-folder.h"

#include "lib/arena.h"

#include <string.h>

bool news_group_name_valid(const char *group, size_t len)
{
	if (len == 0 || group[0] == '.' || group[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)group[i];
		if (c <= ' ' || c == 0x7f || strchr("*?,![\\]/", c) != NULL)
			return false;
		if (c == '.' && group[i + 1] == '.')
			return false;
	}
	return true;
}

const char *news_group_folder(struct arena *a, const char *root, const char *group)
{
	size_t len = strlen(group);
	if (!news_group_name_valid(group, len))
		return NULL;
	char *folder = arena_printf(a, "%s/%s", root, group);
	for (char *c = folder + strlen(root) + 1; *c != '\0'; c++)
		if (*c == '.')
			*c = '/';
	return folder;
}

const char *news_folder_to_group(struct arena *a, const char *root, const char *folder)
{
	size_t root_len = strlen(root);
	if (strncmp(folder, root, root_len) != 0 || folder[root_len] != '/')
		return NULL;
	const char *rest = folder + root_len + 1;
	/* A '.' inside a component would make two folders one group. */
	if (strchr(rest, '.') != NULL)
		return NULL;
	char *group = arena_strdup(a, rest);
	for (char *c = group; *c != '\0'; c++)
		if (*c == '/')
			*c = '.';
	return news_group_name_valid(group, strlen(group)) ? group : NULL;
}
