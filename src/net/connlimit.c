#include "net/connlimit.h"
#include "lib/xalloc.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

/* A small chained hash table; entries are removed when their count drops to
 * zero, so its size follows the number of distinct open keys. */
#define CONNLIMIT_BUCKETS 4096

struct connlimit_entry {
	struct connlimit_entry *next;
	unsigned count;
	char key[];
};

static pthread_mutex_t connlimit_lock = PTHREAD_MUTEX_INITIALIZER;
static struct connlimit_entry *connlimit_table[CONNLIMIT_BUCKETS];

static unsigned connlimit_hash(const char *key)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % CONNLIMIT_BUCKETS;
}

static struct connlimit_entry **connlimit_find(const char *key)
{
	struct connlimit_entry **pp = &connlimit_table[connlimit_hash(key)];
	while (*pp != NULL && strcmp((*pp)->key, key) != 0)
		pp = &(*pp)->next;
	return pp;
}

bool connlimit_acquire(const char *key, unsigned max)
{
	pthread_mutex_lock(&connlimit_lock);
	struct connlimit_entry **pp = connlimit_find(key);
	bool ok = true;
	if (*pp == NULL) {
		size_t len = strlen(key);
		struct connlimit_entry *e = xmalloc(sizeof(*e) + len + 1);
		memcpy(e->key, key, len + 1);
		e->count = 0;
		e->next = NULL;
		*pp = e;
	}
	if (max != 0 && (*pp)->count >= max)
		ok = false;
	else
		(*pp)->count++;
	if ((*pp)->count == 0) {
		struct connlimit_entry *e = *pp;
		*pp = e->next;
		free(e);
	}
	pthread_mutex_unlock(&connlimit_lock);
	return ok;
}

void connlimit_release(const char *key)
{
	pthread_mutex_lock(&connlimit_lock);
	struct connlimit_entry **pp = connlimit_find(key);
	if (*pp != NULL && --(*pp)->count == 0) {
		struct connlimit_entry *e = *pp;
		*pp = e->next;
		free(e);
	}
	pthread_mutex_unlock(&connlimit_lock);
}

unsigned connlimit_count(const char *key)
{
	pthread_mutex_lock(&connlimit_lock);
	struct connlimit_entry **pp = connlimit_find(key);
	unsigned n = *pp ? (*pp)->count : 0;
	pthread_mutex_unlock(&connlimit_lock);
	return n;
}
