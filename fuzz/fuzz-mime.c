/* Parses arbitrary bytes as a message, builds ENVELOPE and BODYSTRUCTURE,
 * resolves sections, decodes every part, and round-trips the tree through
 * mime_tree_serialize / mime_tree_deserialize; also feeds the raw input to
 * the deserialiser. Nothing may crash, and the round trip must be exact. */

#include "lib/arena.h"
#include "lib/buf.h"
#include "mime/mime.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_decode_parts(const struct mime_part *part, const uint8_t *msg, size_t len,
			      struct buf *scratch)
{
	buf_reset(scratch);
	(void)mime_part_decode(part, msg, len, scratch);
	buf_reset(scratch);
	(void)mime_part_text_utf8(part, msg, len, scratch);
	for (const struct mime_part *c = part->children; c != NULL; c = c->next)
		fuzz_decode_parts(c, msg, len, scratch);
}

static void fuzz_section(const struct mime_part *root, const uint8_t *msg, size_t len,
			 const unsigned int *path, unsigned int path_len,
			 enum mime_section_text text, struct buf *filtered)
{
	const char *fields[] = { "subject", "content-type" };
	struct mime_section sec = { .path = path, .path_len = path_len, .text = text,
				    .fields = fields, .field_count = 2 };
	struct mime_section_data d;
	buf_reset(filtered);
	if (mime_section_fetch(root, msg, len, &sec, filtered, &d) && !d.filtered &&
	    (d.start > d.end || d.end > len))
		abort();
}

static void fuzz_sections(const struct mime_part *root, const uint8_t *msg, size_t len)
{
	static const unsigned int paths[][3] = {
		{ 1, 0, 0 }, { 2, 0, 0 }, { 1, 1, 0 }, { 1, 2, 0 }, { 2, 1, 1 }, { 3, 1, 2 },
	};
	static const unsigned int path_lens[] = { 1, 1, 2, 2, 3, 3 };
	struct buf filtered = BUF_INIT;
	for (int text = MIME_SECTION_ALL; text <= MIME_SECTION_MIME; text++) {
		fuzz_section(root, msg, len, paths[0], 0, (enum mime_section_text)text, &filtered);
		for (size_t i = 0; i < sizeof(path_lens) / sizeof(path_lens[0]); i++)
			fuzz_section(root, msg, len, paths[i], path_lens[i],
				     (enum mime_section_text)text, &filtered);
	}
	buf_free(&filtered);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	struct mime_limits lim = { .max_depth = 12, .max_parts = 300 };
	struct mime_part *root = mime_parse(a, data, size, &lim);
	struct buf out = BUF_INIT, ser = BUF_INIT, ser2 = BUF_INIT, scratch = BUF_INIT;

	mime_envelope_write(&out, data, size, root);
	mime_bodystructure_write(&out, data, size, root, true);
	mime_bodystructure_write(&out, data, size, root, false);
	fuzz_sections(root, data, size);
	fuzz_decode_parts(root, data, size, &scratch);
	buf_reset(&scratch);
	mime_header_decode_utf8(&scratch, data, size < 4096 ? size : 4096);

	mime_tree_serialize(&ser, root);
	const char *error;
	struct mime_part *copy = mime_tree_deserialize(a, ser.data, ser.len, &error);
	if (copy == NULL)
		abort();
	mime_tree_serialize(&ser2, copy);
	if (ser.len != ser2.len || memcmp(ser.data, ser2.data, ser.len) != 0)
		abort();

	/* the input itself as a stored tree: must fail cleanly or be usable */
	struct mime_part *raw_tree = mime_tree_deserialize(a, data, size, &error);
	if (raw_tree != NULL) {
		buf_reset(&out);
		mime_bodystructure_write(&out, data, size, raw_tree, true);
		fuzz_sections(raw_tree, data, size);
	}

	buf_free(&out);
	buf_free(&ser);
	buf_free(&ser2);
	buf_free(&scratch);
	arena_destroy(&a);
	return 0;
}
