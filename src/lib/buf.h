#ifndef PETREL_BUF_H
#define PETREL_BUF_H

/* A growable byte buffer owned by its holder (heap memory, freed with
 * buf_free). data is always NUL-terminated for convenience; len does not
 * count the NUL. Bytes may include NUL. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	unsigned char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
/* Makes room for at least extra more bytes. */
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_append_str(struct buf *b, const char *s);
void buf_append_char(struct buf *b, char c);
/* n in decimal (cheaper than buf_printf in a loop over messages). */
void buf_append_uint(struct buf *b, uint64_t n);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Removes the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);
/* Returns data as a C string (never NULL, even for an empty buffer). */
const char *buf_cstr(struct buf *b);

#endif
