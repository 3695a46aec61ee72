#ifndef PETREL_XALLOC_H
#define PETREL_XALLOC_H

/* Allocation wrappers that abort on failure: Petrel treats out-of-memory as
 * fatal rather than threading NULL checks through every caller. */

#include <stddef.h>
#include <stdlib.h>

__attribute__((noreturn)) void xalloc_die(void);
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
