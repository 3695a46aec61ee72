/* A per-thread LRU cache of open user handles (DESIGN §3): opening SQLite
 * and preparing statements once per user per worker, not per command. */

#include "store/store-private.h"

#include "lib/xalloc.h"

#include <string.h>

struct store_cache_entry {
	struct store_user *user;
	uint64_t last_used;
};

struct store_cache {
	char *data_dir;
	unsigned max_handles;
	uint64_t tick;
	struct store_cache_entry *entries;
	unsigned count;
};

struct store_cache *store_cache_new(const char *data_dir, unsigned max_handles)
{
	struct store_cache *cache = xcalloc(1, sizeof(*cache));
	cache->data_dir = xstrdup(data_dir);
	cache->max_handles = max_handles > 0 ? max_handles : 1;
	cache->entries = xcalloc(cache->max_handles, sizeof(*cache->entries));
	return cache;
}

static unsigned store_cache_least_recent(const struct store_cache *cache)
{
	unsigned oldest = 0;
	for (unsigned i = 1; i < cache->count; i++) {
		if (cache->entries[i].last_used < cache->entries[oldest].last_used)
			oldest = i;
	}
	return oldest;
}

enum store_error store_cache_get(struct store_cache *cache, const char *user,
				 struct store_user **user_r,
				 const char **error_r)
{
	for (unsigned i = 0; i < cache->count; i++) {
		if (strcmp(cache->entries[i].user->name, user) == 0) {
			cache->entries[i].last_used = ++cache->tick;
			store_user_set_viewer(cache->entries[i].user, NULL);
			*user_r = cache->entries[i].user;
			return STORE_OK;
		}
	}
	struct store_user *u;
	enum store_error err = store_user_open(cache->data_dir, user, &u, error_r);
	if (err != STORE_OK)
		return err;
	unsigned slot = cache->count;
	if (cache->count == cache->max_handles) {
		slot = store_cache_least_recent(cache);
		store_user_close(&cache->entries[slot].user);
	} else {
		cache->count++;
	}
	cache->entries[slot].user = u;
	cache->entries[slot].last_used = ++cache->tick;
	*user_r = u;
	return STORE_OK;
}

void store_cache_destroy(struct store_cache **cache)
{
	if (*cache == NULL)
		return;
	for (unsigned i = 0; i < (*cache)->count; i++)
		store_user_close(&(*cache)->entries[i].user);
	free((*cache)->entries);
	free((*cache)->data_dir);
	free(*cache);
	*cache = NULL;
}
