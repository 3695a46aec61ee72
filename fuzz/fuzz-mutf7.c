/* libFuzzer target for the modified UTF-7 codec.
 *
 * Direction 1: the input as modified UTF-7. If it decodes, the UTF-8 must
 * encode, and that encoding must decode back to the same UTF-8.
 * Direction 2: the input as UTF-8. If it encodes, the result must be valid
 * modified UTF-7 that decodes back to exactly the input. */

#include "imap/imap-mutf7.h"
#include "lib/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct buf *a, const void *data, size_t len)
{
	return a->len == len && (len == 0 || memcmp(a->data, data, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct buf utf8 = BUF_INIT, mutf7 = BUF_INIT, again = BUF_INIT;
	const char *error = NULL;

	if (imap_mutf7_to_utf8(in, size, &utf8, &error)) {
		if (!imap_mutf7_is_valid(in, size))
			abort();
		if (!imap_utf8_to_mutf7((const char *)utf8.data, utf8.len,
					&mutf7, &error))
			abort();
		if (!imap_mutf7_to_utf8((const char *)mutf7.data, mutf7.len,
					&again, &error))
			abort();
		if (!same(&again, utf8.data, utf8.len))
			abort();
	} else if (error == NULL || imap_mutf7_is_valid(in, size)) {
		abort();
	}

	buf_reset(&mutf7);
	buf_reset(&again);
	error = NULL;
	if (imap_utf8_to_mutf7(in, size, &mutf7, &error)) {
		for (size_t i = 0; i < mutf7.len; i++) {
			if (mutf7.data[i] < 0x20 || mutf7.data[i] > 0x7e)
				abort();
		}
		if (!imap_mutf7_to_utf8((const char *)mutf7.data, mutf7.len,
					&again, &error))
			abort();
		if (!same(&again, data, size))
			abort();
	} else if (error == NULL) {
		abort();
	}
	buf_free(&utf8);
	buf_free(&mutf7);
	buf_free(&again);
	return 0;
}
