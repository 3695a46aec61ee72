/* Fuzzes what the IMAP layer reads out of parsed commands besides the
 * tokenizer itself: FETCH attribute lists (BODY[...] sections, partials,
 * modifiers), RFC 5256 base subjects, message-id lists and RFC 5322 dates.
 * The input is one command line; its text is also used as a subject, an id
 * list and a date. */

#include "imap/imap-base-subject.h"
#include "imap/imap-fetch.h"
#include "imap/imap-msgid.h"
#include "imap/imap-parser.h"
#include "lib/arena.h"
#include "mime/mime-digest.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fetch(struct arena *a, const uint8_t *data, size_t size)
{
	struct imap_parser *p = imap_parser_new(NULL);
	size_t consumed = 0;
	if (imap_parser_feed(p, data, size, &consumed) == IMAP_PARSE_COMMAND) {
		const struct imap_command *c = imap_parser_get_command(p);
		if (c->args_count >= 2) {
			struct imap_fetch_request req;
			const char *error;
			imap_fetch_parse(a, &c->args[1], c->args_count >= 3 ? &c->args[2] : NULL, c->uid,
					 &req, &error);
		}
	}
	imap_parser_destroy(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	fuzz_fetch(a, data, size);
	char *text = arena_strndup(a, data, size);
	bool reply;
	const char **ids;
	int64_t t;
	int tz;
	imap_base_subject(a, text, &reply);
	imap_thread_parse_ids(a, text, &ids);
	mime_parse_date(text, &t, &tz);
	arena_destroy(&a);
	return 0;
}
