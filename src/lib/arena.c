#include "lib/arena.h"
#include "lib/xalloc.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ARENA_DEFAULT_BLOCK 8192
#define ARENA_ALIGN alignof(max_align_t)

struct arena_block {
	struct arena_block *next;
	size_t size;
	size_t used;
	alignas(max_align_t) unsigned char data[];
};

struct arena {
	struct arena_block *head; /* current block; older blocks follow */
	size_t block_size;
	size_t total_used;
};

static struct arena_block *arena_block_new(size_t size)
{
	struct arena_block *b = xmalloc(sizeof(*b) + size);
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

struct arena *arena_new(size_t block_size)
{
	struct arena *a = xcalloc(1, sizeof(*a));
	a->block_size = block_size ? block_size : ARENA_DEFAULT_BLOCK;
	a->head = arena_block_new(a->block_size);
	return a;
}

static void arena_free_blocks(struct arena_block *b)
{
	while (b != NULL) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
}

void arena_destroy(struct arena **ap)
{
	struct arena *a = *ap;
	if (a == NULL)
		return;
	arena_free_blocks(a->head);
	free(a);
	*ap = NULL;
}

void arena_reset(struct arena *a)
{
	/* Keep the oldest block (the one of the standard size) for reuse. */
	struct arena_block *b = a->head, *keep = NULL;
	while (b != NULL) {
		struct arena_block *next = b->next;
		if (next == NULL && b->size == a->block_size)
			keep = b;
		else
			free(b);
		b = next;
	}
	if (keep == NULL)
		keep = arena_block_new(a->block_size);
	keep->used = 0;
	keep->next = NULL;
	a->head = keep;
	a->total_used = 0;
}

void *arena_alloc(struct arena *a, size_t size)
{
	size_t need = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (need < size)
		xalloc_die();
	struct arena_block *b = a->head;
	if (b->size - b->used < need) {
		if (need > a->block_size / 4) {
			/* Large allocation: a block of its own behind the head,
			 * so the head's free space is not wasted. */
			struct arena_block *big = arena_block_new(need);
			big->used = need;
			big->next = b->next;
			b->next = big;
			a->total_used += need;
			return big->data;
		}
		b = arena_block_new(a->block_size);
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += need;
	a->total_used += need;
	return p;
}

void *arena_zalloc(struct arena *a, size_t size)
{
	void *p = arena_alloc(a, size);
	memset(p, 0, size);
	return p;
}

void *arena_memdup(struct arena *a, const void *p, size_t len)
{
	void *q = arena_alloc(a, len ? len : 1);
	if (len)
		memcpy(q, p, len);
	return q;
}

void *arena_grow(struct arena *a, void *p, size_t used, size_t *cap, size_t elem)
{
	if (used < *cap)
		return p;
	size_t bigger = *cap > 0 ? 2 * *cap : 16;
	void *q = arena_alloc(a, bigger * elem);
	if (used > 0)
		memcpy(q, p, used * elem);
	*cap = bigger;
	return q;
}

char *arena_strndup(struct arena *a, const void *s, size_t len)
{
	char *q = arena_alloc(a, len + 1);
	if (len)
		memcpy(q, s, len);
	q[len] = '\0';
	return q;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return arena_strdup(a, "");
	char *s = arena_alloc(a, (size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return s;
}

size_t arena_used(const struct arena *a)
{
	return a->total_used;
}
