/* What we write must parse back: BODY, BODYSTRUCTURE and ENVELOPE built from
 * arbitrary input are checked against the RFC 9051 ABNF ("body",
 * "envelope") by mime_syntax_check_*; any mismatch aborts with the output
 * and the reason on stderr. */

#include "lib/arena.h"
#include "lib/buf.h"
#include "mime/mime.h"
#include "mime/mime-syntax.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_require(bool ok, const char *what, const char *error, const struct buf *out)
{
	if (ok)
		return;
	fprintf(stderr, "%s does not parse back: %s\n%.*s\n", what, error, (int)out->len,
		(const char *)out->data);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	struct mime_limits lim = { .max_depth = 12, .max_parts = 300 };
	struct mime_part *root = mime_parse(a, data, size, &lim);
	struct buf out = BUF_INIT;
	const char *error = NULL;

	mime_bodystructure_write(&out, data, size, root, true);
	fuzz_require(mime_syntax_check_body(out.data, out.len, true, &error), "BODYSTRUCTURE",
		     error, &out);
	buf_reset(&out);
	mime_bodystructure_write(&out, data, size, root, false);
	fuzz_require(mime_syntax_check_body(out.data, out.len, false, &error), "BODY", error, &out);
	buf_reset(&out);
	mime_envelope_write(&out, data, size, root);
	fuzz_require(mime_syntax_check_envelope(out.data, out.len, &error), "ENVELOPE", error, &out);

	buf_free(&out);
	arena_destroy(&a);
	return 0;
}
