#ifndef PETREL_ARENA_H
#define PETREL_ARENA_H

/* A region allocator: many allocations, one release. Used for memory whose
 * lifetime is one command, one parse or one connection. Not thread-safe; an
 * arena belongs to one thread at a time. Allocation never fails (out of
 * memory aborts the process, as malloc failure does everywhere in Petrel). */

#include <stdarg.h>
#include <stddef.h>

struct arena;

/* block_size: size of each underlying block; 0 picks a default (8 KiB). */
struct arena *arena_new(size_t block_size);
/* Frees every block and sets *a to NULL. */
void arena_destroy(struct arena **a);
/* Releases all allocations but keeps the first block for reuse. */
void arena_reset(struct arena *a);

/* Returned memory is aligned for any type and lives until reset/destroy. */
void *arena_alloc(struct arena *a, size_t size);
void *arena_zalloc(struct arena *a, size_t size);
/* Copies of data with a terminating NUL (the NUL is not counted in len). */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const void *s, size_t len);
void *arena_memdup(struct arena *a, const void *p, size_t len);
/* For an array of elements of size elem filling up as rows come: when
 * used has reached *cap, a copy with twice the room (the old one stays
 * until reset), *cap updated; else p itself. */
void *arena_grow(struct arena *a, void *p, size_t used, size_t *cap, size_t elem);
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Bytes handed out since the last reset (for limits and statistics). */
size_t arena_used(const struct arena *a);

#endif
