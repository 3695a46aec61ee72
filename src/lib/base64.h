#ifndef PETREL_BASE64_H
#define PETREL_BASE64_H

/* RFC 4648 base64 (standard alphabet, with padding). */

#include <stdbool.h>
#include <stddef.h>

struct buf;

/* The 6-bit value of a base64 alphabet character, or -1. */
int base64_char_value(unsigned char c);

void base64_encode(struct buf *out, const void *data, size_t len);
/* Strict decode: only alphabet characters and correct padding; returns
 * false on anything else (SASL requires rejecting malformed input). */
bool base64_decode(struct buf *out, const void *data, size_t len);

#endif
