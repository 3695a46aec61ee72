/* libFuzzer target for the SEARCH program parser (imap_search_parse in
 * src/imap/imap-search-parse.c), which SEARCH, SORT and THREAD share.
 *
 * The input is one command line, e.g. "a SEARCH CHARSET UTF-8 OR FROM x
 * (SENTON 1-Jan-2024 NOT 1:*)". The real tokenizer turns it into an
 * argument tree and every argument after the command name becomes the
 * search program, parsed twice: with small limits, so that the depth,
 * key-count and string-size refusals are reachable (and with the keys a
 * session may hide hidden), and with the server's defaults. Checked each time: a refused program carries a message, an
 * accepted one stays within its limits and has a text form. The text of
 * the input also goes through the date-text reader and the case folding,
 * which must keep the length and be idempotent. No store, no session. */

#include "imap/imap-parser.h"
#include "imap/imap-search.h"
#include "lib/arena.h"
#include "lib/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check(bool ok)
{
	if (!ok)
		abort();
}

static void fuzz_program(struct arena *a, const struct imap_arg *args, size_t count,
			 const struct imap_search_limits *limits)
{
	struct imap_search_program prog;
	const char *error = NULL;
	enum imap_search_parse_result r = imap_search_parse(a, args, count, limits, &prog, &error);
	if (r == IMAP_SEARCH_PARSE_OK) {
		fuzz_check(prog.root != NULL);
		fuzz_check(prog.node_count <= limits->max_nodes);
		fuzz_check(prog.string_bytes <= limits->max_bytes);
		struct buf text = BUF_INIT;
		imap_search_program_format(&prog, &text);
		fuzz_check(text.len > 0);
		buf_free(&text);
	} else {
		fuzz_check(error != NULL && *error != '\0');
		fuzz_check(strchr(error, '\r') == NULL && strchr(error, '\n') == NULL);
	}
	imap_search_program_free(&prog);
}

static void fuzz_command(struct arena *a, const uint8_t *data, size_t size)
{
	struct imap_parser *p = imap_parser_new(NULL);
	size_t consumed = 0;
	if (imap_parser_feed(p, data, size, &consumed) == IMAP_PARSE_COMMAND) {
		const struct imap_command *c = imap_parser_get_command(p);
		/* Small limits, and the keys of hideable extensions hidden. */
		const struct imap_search_limits small = {
			.max_depth = 8, .max_nodes = 64, .max_bytes = 256,
			.hidden_keys = IMAP_SEARCH_KEYS_CONDSTORE | IMAP_SEARCH_KEYS_WITHIN,
		};
		struct imap_search_limits defaults;
		imap_search_limits_default(&defaults);
		fuzz_program(a, c->args, c->args_count, &small);
		fuzz_program(a, c->args, c->args_count, &defaults);
	}
	imap_parser_destroy(&p);
}

static void fuzz_text(struct arena *a, const uint8_t *data, size_t size)
{
	int64_t day;
	if (imap_search_parse_date((const char *)data, size, &day))
		fuzz_check(day == imap_search_day(day * 86400, 0));
	char *once = arena_memdup(a, data, size);
	imap_search_fold(once, size);
	char *twice = arena_memdup(a, once, size);
	imap_search_fold(twice, size);
	fuzz_check(memcmp(once, twice, size) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	fuzz_command(a, data, size);
	fuzz_text(a, data, size);
	arena_destroy(&a);
	return 0;
}
