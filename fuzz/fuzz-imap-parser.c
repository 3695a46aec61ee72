/* libFuzzer target for the IMAP command tokenizer.
 *
 * The same input is parsed three ways: whole, split in two at a position
 * taken from the input, and one byte at a time. The transcripts of events
 * (commands with their argument trees, continuations, errors, raw lines,
 * fatal) must be identical: the parser is byte-split invariant. Small
 * limits make the limit paths reachable; a literal callback picks memory,
 * file or rejection from the literal's properties only. */

#include "imap/imap-parser.h"
#include "lib/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_ctx {
	FILE *files[8];
	unsigned nfiles;
};

static enum imap_literal_dest
fuzz_literal_cb(void *context, const struct imap_literal_request *req,
		struct imap_literal_answer *answer_r)
{
	struct fuzz_ctx *ctx = context;
	if (req->size % 7 == 3) {
		answer_r->code = "TOOBIG";
		answer_r->message = "rejected by the fuzzer";
		return IMAP_LITERAL_REJECT;
	}
	if (req->size % 5 == 2 && ctx->nfiles < 8) {
		FILE *f = tmpfile();
		if (f == NULL)
			abort();
		ctx->files[ctx->nfiles++] = f;
		answer_r->fd = fileno(f);
		return IMAP_LITERAL_FILE;
	}
	return IMAP_LITERAL_MEMORY;
}

static void describe_args(struct buf *out, const struct imap_arg *args,
			  size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const struct imap_arg *a = &args[i];
		const char *s;
		size_t len;
		uint32_t n32;
		uint64_t n64;
		const struct imap_arg *list;
		size_t list_count;
		int fd;

		/* exercise every typed reader */
		buf_printf(out, " %s%d%d%d%d%d%d%d%d%d%d%d",
			   imap_arg_type_name(a->type),
			   imap_arg_get_atom(a, &s),
			   imap_arg_get_string(a, &s, &len),
			   imap_arg_get_astring(a, &s, &len),
			   imap_arg_get_nstring(a, &s, &len),
			   imap_arg_get_list_mailbox(a, &s, &len),
			   imap_arg_get_list(a, &list, &list_count),
			   imap_arg_get_literal(a, &s, &len),
			   imap_arg_get_literal_file(a, &fd, &n64),
			   imap_arg_get_number(a, &n32),
			   imap_arg_get_number64(a, &n64),
			   imap_arg_get_nz_number(a, &n32));
		switch (a->type) {
		case IMAP_ARG_ATOM:
		case IMAP_ARG_NIL:
		case IMAP_ARG_STRING:
		case IMAP_ARG_LITERAL:
			if (a->data[a->len] != '\0')
				abort();
			buf_printf(out, "%s%s[%zu]", a->literal8 ? "~" : "",
				   a->nonsync ? "+" : "", a->len);
			buf_append(out, a->data, a->len);
			break;
		case IMAP_ARG_LITERAL_FILE: {
			char tmp[512];
			ssize_t n = pread(a->fd, tmp, sizeof(tmp), 0);
			buf_printf(out, "F[%llu]", (unsigned long long)a->size);
			if (n > 0)
				buf_append(out, tmp, (size_t)n);
			break;
		}
		case IMAP_ARG_LIST:
			buf_append_char(out, '(');
			describe_args(out, a->list, a->list_count);
			buf_append_char(out, ')');
			break;
		}
	}
}

/* Parses input fed in the given pieces (a list of cut positions) and
 * returns the transcript. After a command named IDLE or AUTHENTICATE the
 * next line is read in raw-line mode. */
static void run(const uint8_t *data, size_t size, const size_t *cuts,
		size_t ncuts, struct buf *out)
{
	struct imap_parser_limits limits;
	struct fuzz_ctx ctx = { .nfiles = 0 };
	struct buf pending = BUF_INIT;
	imap_parser_limits_default(&limits);
	limits.line_length = 512;
	limits.literal_size = 300;
	limits.nonsync_literal_size = 200;
	limits.discard_size = 1000;
	limits.nesting_depth = 20;
	limits.arguments = 100;
	limits.tag_length = 16;

	struct imap_parser *p = imap_parser_new(&limits);
	imap_parser_set_literal_callback(p, fuzz_literal_cb, &ctx);
	bool line_mode = false, alive = true;
	size_t pos = 0;
	for (size_t c = 0; c <= ncuts && alive; c++) {
		size_t end = c < ncuts ? cuts[c] : size;
		if (end < pos)
			end = pos;
		buf_append(&pending, data + pos, end - pos);
		pos = end;
		for (;;) {
			size_t consumed = 0, line_len = 0;
			const char *line = NULL;
			enum imap_parse_result r;
			if (line_mode)
				r = imap_parser_read_line(p, pending.data,
					pending.len, &consumed, &line, &line_len);
			else
				r = imap_parser_feed(p, pending.data,
						     pending.len, &consumed);
			if (consumed > pending.len)
				abort();
			if (r == IMAP_PARSE_NEED_MORE && consumed != pending.len)
				abort();
			buf_consume(&pending, consumed);
			if (r == IMAP_PARSE_NEED_MORE)
				break;
			if (r == IMAP_PARSE_COMMAND) {
				const struct imap_command *cmd =
					imap_parser_get_command(p);
				if (cmd == NULL)
					abort();
				buf_printf(out, "C %s %s %d", cmd->tag,
					   cmd->name, cmd->uid);
				describe_args(out, cmd->args, cmd->args_count);
				buf_append_char(out, '\n');
				line_mode = strcmp(cmd->name, "IDLE") == 0 ||
					strcmp(cmd->name, "AUTHENTICATE") == 0;
			} else if (r == IMAP_PARSE_LINE) {
				buf_printf(out, "L %zu ", line_len);
				buf_append(out, line, line_len);
				buf_append_char(out, '\n');
				line_mode = false;
			} else if (r == IMAP_PARSE_CONTINUE) {
				buf_append_str(out, "+\n");
			} else {
				struct imap_parser_error err;
				imap_parser_get_error(p, &err);
				if (err.message == NULL ||
				    strpbrk(err.message, "\r\n") != NULL)
					abort();
				buf_printf(out, "%s %s %s %s\n",
					   r == IMAP_PARSE_ERROR ? "E" : "F",
					   err.tag ? err.tag : "-",
					   err.code ? err.code : "-",
					   err.message);
				line_mode = false;
				if (r == IMAP_PARSE_FATAL) {
					alive = false;
					break;
				}
			}
		}
	}
	buf_printf(out, "idle=%d\n", alive && imap_parser_is_idle(p));
	imap_parser_destroy(&p);
	buf_free(&pending);
	for (unsigned i = 0; i < ctx.nfiles; i++)
		fclose(ctx.files[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf whole = BUF_INIT, split = BUF_INIT, bytes = BUF_INIT;

	run(data, size, NULL, 0, &whole);

	size_t cut = 0;
	if (size >= 2)
		cut = ((size_t)data[0] << 8 | data[size - 1]) % (size + 1);
	run(data, size, &cut, 1, &split);

	if (size <= 4096) {
		size_t *cuts = malloc((size ? size : 1) * sizeof(*cuts));
		if (cuts == NULL)
			abort();
		for (size_t i = 0; i < size; i++)
			cuts[i] = i + 1;
		run(data, size, cuts, size, &bytes);
		free(cuts);
		if (bytes.len != whole.len ||
		    memcmp(bytes.data, whole.data, whole.len) != 0) {
			fprintf(stderr, "byte-by-byte differs:\n%s\n---\n%s\n",
				buf_cstr(&whole), buf_cstr(&bytes));
			abort();
		}
	}
	if (split.len != whole.len ||
	    memcmp(split.data, whole.data, whole.len) != 0) {
		fprintf(stderr, "split at %zu differs:\n%s\n---\n%s\n", cut,
			buf_cstr(&whole), buf_cstr(&split));
		abort();
	}
	buf_free(&whole);
	buf_free(&split);
	buf_free(&bytes);
	return 0;
}
