#include "auth/throttle.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#define THROTTLE_NONE UINT32_MAX
/* Longest address or user name hashed; the rest is ignored (any longer
 * name is invalid anyway, and this bounds the hashing cost). */
#define THROTTLE_KEY_MAX 512

struct throttle_entry {
	uint64_t key;
	uint64_t window_start_ms;
	unsigned failures;
	uint32_t hash_next;     /* chain in a bucket, or the free list */
	uint32_t lru_prev;      /* least recently updated first */
	uint32_t lru_next;
};

struct throttle {
	pthread_mutex_t lock;
	struct throttle_settings set;
	unsigned char hash_key[crypto_shorthash_KEYBYTES];

	struct throttle_entry *entries;
	size_t max_entries;
	size_t count;
	uint32_t free_head;
	uint32_t *buckets;
	size_t bucket_mask;
	uint32_t lru_head, lru_tail;
};

struct throttle *throttle_new(const struct throttle_settings *set)
{
	if (sodium_init() < 0)
		xalloc_die();
	struct throttle *t = xcalloc(1, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->set = *set;
	if (t->set.now_ms == NULL)
		t->set.now_ms = time_mono_ms;
	t->max_entries = set->max_entries != 0 ? set->max_entries :
		THROTTLE_DEFAULT_MAX_ENTRIES;
	if (t->max_entries >= THROTTLE_NONE)
		t->max_entries = THROTTLE_NONE - 1;
	/* Keyed hashing: a client cannot choose names that collide. */
	crypto_shorthash_keygen(t->hash_key);

	t->entries = xcalloc(t->max_entries, sizeof(*t->entries));
	for (size_t i = 0; i < t->max_entries; i++)
		t->entries[i].hash_next = i + 1 < t->max_entries ? (uint32_t)(i + 1) : THROTTLE_NONE;
	t->free_head = 0;
	size_t nbuckets = 1;
	while (nbuckets < t->max_entries)
		nbuckets <<= 1;
	t->buckets = xmalloc(nbuckets * sizeof(*t->buckets));
	for (size_t i = 0; i < nbuckets; i++)
		t->buckets[i] = THROTTLE_NONE;
	t->bucket_mask = nbuckets - 1;
	t->lru_head = t->lru_tail = THROTTLE_NONE;
	return t;
}

void throttle_destroy(struct throttle **tp)
{
	struct throttle *t = *tp;
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->entries);
	free(t->buckets);
	free(t);
	*tp = NULL;
}

static uint64_t throttle_hash(const struct throttle *t, char kind, const void *data, size_t len)
{
	unsigned char msg[1 + THROTTLE_KEY_MAX];
	unsigned char out[crypto_shorthash_BYTES];
	if (len > THROTTLE_KEY_MAX)
		len = THROTTLE_KEY_MAX;
	msg[0] = (unsigned char)kind;
	memcpy(msg + 1, data, len);
	crypto_shorthash(out, msg, len + 1, t->hash_key);
	uint64_t h;
	memcpy(&h, out, sizeof(h));
	return h;
}

static uint64_t throttle_address_key(const struct throttle *t, const char *address)
{
	unsigned char addr[16];
	if (inet_pton(AF_INET, address, addr) == 1)
		return throttle_hash(t, 'a', addr, 4);
	if (inet_pton(AF_INET6, address, addr) == 1) {
		static const unsigned char v4mapped[12] =
			{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(addr, v4mapped, sizeof(v4mapped)) == 0)
			return throttle_hash(t, 'a', addr + 12, 4);
		/* One /64 is one customer's network. */
		return throttle_hash(t, '6', addr, 8);
	}
	return throttle_hash(t, 's', address, strlen(address));
}

static uint64_t throttle_user_key(const struct throttle *t, const char *user)
{
	return throttle_hash(t, 'u', user, strlen(user));
}

static void throttle_lru_unlink(struct throttle *t, uint32_t i)
{
	struct throttle_entry *e = &t->entries[i];
	if (e->lru_prev != THROTTLE_NONE)
		t->entries[e->lru_prev].lru_next = e->lru_next;
	else
		t->lru_head = e->lru_next;
	if (e->lru_next != THROTTLE_NONE)
		t->entries[e->lru_next].lru_prev = e->lru_prev;
	else
		t->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = THROTTLE_NONE;
}

static void throttle_lru_append(struct throttle *t, uint32_t i)
{
	struct throttle_entry *e = &t->entries[i];
	e->lru_prev = t->lru_tail;
	e->lru_next = THROTTLE_NONE;
	if (t->lru_tail != THROTTLE_NONE)
		t->entries[t->lru_tail].lru_next = i;
	else
		t->lru_head = i;
	t->lru_tail = i;
}

static void throttle_remove(struct throttle *t, uint32_t i)
{
	struct throttle_entry *e = &t->entries[i];
	uint32_t *link = &t->buckets[e->key & t->bucket_mask];
	while (*link != i)
		link = &t->entries[*link].hash_next;
	*link = e->hash_next;
	throttle_lru_unlink(t, i);
	e->hash_next = t->free_head;
	t->free_head = i;
	t->count--;
}

static bool throttle_expired(const struct throttle *t, const struct throttle_entry *e,
			     uint64_t now)
{
	return now - e->window_start_ms >= (uint64_t)t->set.window_s * 1000;
}

/* Returns the live entry for key, removing it first if its window ended. */
static uint32_t throttle_lookup(struct throttle *t, uint64_t key, uint64_t now)
{
	uint32_t i = t->buckets[key & t->bucket_mask];
	while (i != THROTTLE_NONE && t->entries[i].key != key)
		i = t->entries[i].hash_next;
	if (i != THROTTLE_NONE && throttle_expired(t, &t->entries[i], now)) {
		throttle_remove(t, i);
		return THROTTLE_NONE;
	}
	return i;
}

static uint32_t throttle_insert(struct throttle *t, uint64_t key, uint64_t now)
{
	if (t->free_head == THROTTLE_NONE)
		throttle_remove(t, t->lru_head);
	uint32_t i = t->free_head;
	struct throttle_entry *e = &t->entries[i];
	t->free_head = e->hash_next;
	e->key = key;
	e->window_start_ms = now;
	e->failures = 0;
	uint32_t *bucket = &t->buckets[key & t->bucket_mask];
	e->hash_next = *bucket;
	*bucket = i;
	throttle_lru_append(t, i);
	t->count++;
	return i;
}

/* Milliseconds until key's window ends if it is at its limit, else 0. */
static uint64_t throttle_blocked_ms(struct throttle *t, uint64_t key, unsigned limit,
				    uint64_t now)
{
	uint32_t i = throttle_lookup(t, key, now);
	if (i == THROTTLE_NONE || t->entries[i].failures < limit)
		return 0;
	return t->entries[i].window_start_ms + (uint64_t)t->set.window_s * 1000 - now;
}

bool throttle_check(struct throttle *t, const char *address, const char *user,
		    unsigned *retry_after_s_r)
{
	uint64_t addr_key = address != NULL ? throttle_address_key(t, address) : 0;
	uint64_t user_key = user != NULL ? throttle_user_key(t, user) : 0;

	pthread_mutex_lock(&t->lock);
	uint64_t now = t->set.now_ms();
	uint64_t wait = 0, w;
	if (address != NULL)
		wait = throttle_blocked_ms(t, addr_key, t->set.max_failures_per_address, now);
	if (user != NULL &&
	    (w = throttle_blocked_ms(t, user_key, t->set.max_failures_per_user, now)) > wait)
		wait = w;
	pthread_mutex_unlock(&t->lock);

	if (wait == 0)
		return true;
	if (retry_after_s_r != NULL)
		*retry_after_s_r = (unsigned)((wait + 999) / 1000);
	return false;
}

static unsigned throttle_count_failure(struct throttle *t, uint64_t key, uint64_t now)
{
	uint32_t i = throttle_lookup(t, key, now);
	if (i == THROTTLE_NONE)
		i = throttle_insert(t, key, now);
	else {
		throttle_lru_unlink(t, i);
		throttle_lru_append(t, i);
	}
	struct throttle_entry *e = &t->entries[i];
	if (e->failures < UINT32_MAX)
		e->failures++;
	return e->failures;
}

unsigned throttle_record_failure(struct throttle *t, const char *address,
				 const char *user)
{
	uint64_t addr_key = address != NULL ? throttle_address_key(t, address) : 0;
	uint64_t user_key = user != NULL ? throttle_user_key(t, user) : 0;
	unsigned failures = 0, n;

	pthread_mutex_lock(&t->lock);
	uint64_t now = t->set.now_ms();
	if (address != NULL)
		failures = throttle_count_failure(t, addr_key, now);
	if (user != NULL && (n = throttle_count_failure(t, user_key, now)) > failures)
		failures = n;
	pthread_mutex_unlock(&t->lock);

	unsigned factor = 1;
	while (factor < THROTTLE_DELAY_FACTOR_MAX && failures > 1) {
		factor *= 2;
		failures--;
	}
	return t->set.fail_delay_ms * factor;
}

void throttle_record_success(struct throttle *t, const char *address,
			     const char *user)
{
	(void)address;
	if (user == NULL)
		return;
	uint64_t user_key = throttle_user_key(t, user);
	pthread_mutex_lock(&t->lock);
	uint32_t i = throttle_lookup(t, user_key, t->set.now_ms());
	if (i != THROTTLE_NONE)
		throttle_remove(t, i);
	pthread_mutex_unlock(&t->lock);
}

size_t throttle_entry_count(struct throttle *t)
{
	pthread_mutex_lock(&t->lock);
	size_t n = t->count;
	pthread_mutex_unlock(&t->lock);
	return n;
}
