#include "imap/imap-capability.h"
#include "imap/imap-commands.h"
#include "imap/imap-fetch.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "imap/imap-qresync.h"
#include "imap/imap-selected.h"
#include "lib/arena.h"
#include "lib/filebytes.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "net/conn.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

/* Literals up to this size are copied into the response; larger ones are
 * queued by reference to the mapped message file, so that FETCH of big
 * bodies costs no copy and no heap. */
#define FETCH_COPY_MAX (16 * 1024)

/* A message file's bytes (read or mapped) for one FETCH response,
 * released when the last queued reference to them has been written. */
struct fetch_map {
	struct file_bytes bytes;
	unsigned refs;
};

struct fetch_ctx {
	struct imap_fetch_request req;
	uint32_t *uids;
	size_t count, next;
	struct imap_seqset seen_set;  /* \Seen set by this FETCH: add FLAGS */
	struct arena *scratch;        /* per message */
	/* Without structures or bodies, every message's row is read in one
	 * query up front (FETCH 1:* (FLAGS) over a big mailbox). */
	const struct store_msg_row *rows;
	size_t row_count;
	/* A few neighbouring messages: their rows in one query, read in the
	 * first turn's snapshot and used in that turn only. */
	bool batch_wanted;
	struct store_msg *batch;
	size_t batch_count;
	struct buf line;              /* the answer line, reused per message */
	bool missing;                 /* some messages were expunged */
	bool wants_flags;             /* FLAGS is among the items */
	bool wants_header;            /* the message's own header section */
	bool failed;                  /* the tagged answer has been sent */
};

struct fetch_msg {
	struct imap_cmd *cmd;
	struct fetch_ctx *ctx;
	uint32_t seq;
	struct store_msg msg;
	struct fetch_map *map;
	bool map_partial;           /* map holds the header, not the whole file */
	bool map_is_header;         /* map is the stored header, exactly */
	struct mime_part *root;
	struct mime_part *top;      /* the root's header only (fetch_top) */
	struct buf *line;           /* the fetch_ctx's, reset per message */
};

static void fetch_map_release(const void *data, size_t len, void *arg)
{
	struct fetch_map *m = arg;
	(void)data;
	(void)len;
	if (--m->refs > 0)
		return;
	file_bytes_release(&m->bytes);
	free(m);
}

/* How much of a message is read first when only its header is wanted;
 * the read grows by this factor until the header's end is in it. */
#define FETCH_HEAD_FIRST (8 * 1024)
#define FETCH_HEAD_GROWTH 8

/* True when the header of the message in bytes ends inside it: the blank
 * line that ends it (messages are stored with CRLF) is there. */
static bool fetch_head_complete(const struct file_bytes *bytes)
{
	const unsigned char *p = bytes->data;
	size_t len = bytes->len;
	if (len >= 2 && p[0] == '\r' && p[1] == '\n')
		return true; /* no header at all */
	return memmem(p, len, "\r\n\r\n", 4) != NULL;
}

/* Reads the message's body file: whole, or when head_only just a prefix
 * that holds its header (header fetches are the commonest FETCH of a mail
 * client, and most of a message is its body). */
static bool fetch_map_load(struct fetch_msg *fm, struct store_user *u, bool head_only)
{
	int fd = -1;
	uint64_t size = fm->msg.size;
	const char *error;
	/* A row read for this message names its body; one from the bulk
	 * rows (fetch_get_msg) does not, and the body is looked up. */
	bool by_hash = fm->msg.hash[0] != '\0';
	if (!by_hash && store_msg_open_blob(u, fm->cmd->session->selected->mailbox_id,
					    fm->msg.uid, &fd, &size, &error) != STORE_OK)
		return false;
	struct fetch_map *m = xcalloc(1, sizeof(*m));
	m->refs = 1;
	uint64_t want = head_only ? FETCH_HEAD_FIRST : size;
	bool ok;
	for (;;) {
		if (want > size)
			want = size;
		int load_errno;
		ok = by_hash ? store_blob_load(u, fm->msg.hash, size, want, &m->bytes, &error) ==
				       STORE_OK
			     : file_bytes_load(fd, want, &m->bytes, &load_errno);
		if (!ok || want == size || fetch_head_complete(&m->bytes))
			break;
		file_bytes_release(&m->bytes);
		want *= FETCH_HEAD_GROWTH;
	}
	if (fd >= 0)
		close(fd);
	if (!ok) {
		free(m);
		return false;
	}
	fm->map = m;
	fm->map_partial = want < size;
	return true;
}

/* The whole message file, read once per message and response. */
static bool fetch_map_open(struct fetch_msg *fm, struct store_user *u)
{
	if (fm->map != NULL && !fm->map_partial)
		return true;
	if (fm->map != NULL) {
		/* A header read first: its parse stays valid (the same bytes at
		 * the same offsets) but points into the prefix. */
		fetch_map_release(NULL, 0, fm->map);
		fm->map = NULL;
		fm->map_is_header = false;
		fm->top = NULL;
	}
	return fetch_map_load(fm, u, false);
}

/* At least the message's header, for fetch_top: the copy kept with the
 * message's row when there is one, else read from the body file. */
static bool fetch_map_open_head(struct fetch_msg *fm, struct store_user *u)
{
	if (fm->map != NULL)
		return true;
	const struct store_msg_meta *meta = &fm->msg.meta;
	if (meta->header == NULL || meta->header_len > fm->msg.size)
		return fetch_map_load(fm, u, true);
	struct fetch_map *m = xcalloc(1, sizeof(*m));
	m->refs = 1;
	m->bytes.data = xmalloc(meta->header_len);
	memcpy(m->bytes.data, meta->header, meta->header_len);
	m->bytes.len = meta->header_len;
	m->bytes.heap = true;
	fm->map = m;
	fm->map_partial = meta->header_len < fm->msg.size;
	fm->map_is_header = true;
	return true;
}

static struct mime_part *fetch_tree(struct fetch_msg *fm)
{
	if (fm->root == NULL)
		fm->root = mime_parse(fm->ctx->scratch, fm->map->bytes.data, fm->map->bytes.len, NULL);
	return fm->root;
}

/* For the message's own HEADER, HEADER.FIELDS and TEXT, which need only
 * where its header ends: the root parsed without descending into its
 * parts, or not parsed at all when the bytes are the stored header, whose
 * end is known (header fetches are the commonest FETCH of a mail client). */
static struct mime_part *fetch_top(struct fetch_msg *fm)
{
	static const struct mime_limits top_only = { .max_depth = 0, .max_parts = 1,
						     .no_line_counts = true };
	if (fm->root != NULL)
		return fm->root;
	if (fm->top == NULL && fm->map_is_header)
		fm->top = mime_header_root(fm->ctx->scratch, fm->map->bytes.len);
	else if (fm->top == NULL)
		fm->top = mime_parse(fm->ctx->scratch, fm->map->bytes.data, fm->map->bytes.len,
				     &top_only);
	return fm->top;
}

/* Writes what is assembled so far, then data as a literal body: copied
 * when small, else by reference to the mapped file. */
static void fetch_emit_literal(struct fetch_msg *fm, const unsigned char *data, size_t len,
			       bool literal8, bool from_map)
{
	struct imap_session *s = fm->cmd->session;
	buf_append_str(fm->line, literal8 ? "~{" : "{");
	buf_append_uint(fm->line, len);
	buf_append_str(fm->line, "}\r\n");
	if (!literal8 && memchr(data, '\0', len) != NULL) {
		/* A stored message with NUL (delivered over LMTP, say): a
		 * literal cannot carry it (RFC 9051 §4.3.1), so each NUL goes
		 * out as 0x80, keeping sizes and offsets. BINARY sends it as
		 * it is, in a literal8. */
		size_t at = fm->line->len;
		buf_append(fm->line, data, len);
		for (size_t i = at; i < fm->line->len; i++)
			if (fm->line->data[i] == '\0')
				fm->line->data[i] = 0x80;
		return;
	}
	if (len <= FETCH_COPY_MAX || !from_map) {
		buf_append(fm->line, data, len);
		return;
	}
	imap_send_raw(s, fm->line->data, fm->line->len);
	buf_reset(fm->line);
	fm->map->refs++;
	conn_write_reference(s->conn, data, len, fetch_map_release, fm->map);
}

/* Applies <origin.count> (RFC 9051 §6.4.5: a partial past the end is the
 * empty string). */
static void fetch_apply_partial(const struct imap_fetch_item *it, uint64_t *start, uint64_t *end,
				struct buf *name)
{
	if (!it->partial)
		return;
	uint64_t len = *end - *start;
	uint64_t origin = it->partial_origin > len ? len : it->partial_origin;
	uint64_t count = it->partial_count > len - origin ? len - origin : it->partial_count;
	*start += origin;
	*end = *start + count;
	buf_printf(name, "<%llu>", (unsigned long long)it->partial_origin);
}

/* HEADER, HEADER.FIELDS and HEADER.FIELDS.NOT of the message itself. */
static bool fetch_section_is_top_header(const struct imap_fetch_item *it)
{
	return it->section.path_len == 0 && (it->section.text == MIME_SECTION_HEADER ||
					     it->section.text == MIME_SECTION_HEADER_FIELDS ||
					     it->section.text == MIME_SECTION_HEADER_FIELDS_NOT);
}

static bool fetch_section(struct fetch_msg *fm, struct store_user *u,
			  const struct imap_fetch_item *it)
{
	if (!(fetch_section_is_top_header(it) ? fetch_map_open_head(fm, u) : fetch_map_open(fm, u)))
		return false;
	struct buf filtered = BUF_INIT, name = BUF_INIT;
	struct mime_section_data data;
	buf_append_str(&name, it->response_name);
	const unsigned char *base = fm->map->bytes.data;
	bool from_map = true;
	bool whole = it->section.path_len == 0 && it->section.text == MIME_SECTION_ALL;
	bool found = true;
	if (whole) {
		data.start = 0;
		data.end = fm->map->bytes.len;
		data.filtered = false;
	} else {
		struct mime_part *root = it->section.path_len == 0 ? fetch_top(fm) : fetch_tree(fm);
		found = mime_section_fetch(root, base, fm->map->bytes.len, &it->section, &filtered,
					   &data);
	}
	if (found && data.filtered) {
		base = filtered.data ? filtered.data : (const unsigned char *)"";
		data.start = 0;
		data.end = filtered.len;
		from_map = false;
	}
	if (!found) {
		data.start = data.end = 0;
	}
	fetch_apply_partial(it, &data.start, &data.end, &name);
	buf_append(fm->line, name.data, name.len);
	buf_append_char(fm->line, ' ');
	if (!found)
		buf_append_str(fm->line, "\"\"");
	else
		fetch_emit_literal(fm, base + data.start, data.end - data.start, false, from_map);
	buf_free(&filtered);
	buf_free(&name);
	return true;
}

/* BINARY[section] and BINARY.SIZE[section] (RFC 3516): the part's content
 * with its transfer encoding removed. */
static bool fetch_binary(struct fetch_msg *fm, struct store_user *u,
			 const struct imap_fetch_item *it)
{
	if (!fetch_map_open(fm, u))
		return false;
	struct mime_section_data data;
	struct buf decoded = BUF_INIT, name = BUF_INIT;
	const unsigned char *base = fm->map->bytes.data;
	uint64_t start = 0, end = fm->map->bytes.len;
	bool from_map = true;
	if (it->section.path_len > 0) {
		if (!mime_section_fetch(fetch_tree(fm), base, fm->map->bytes.len, &it->section, NULL,
					&data)) {
			start = end = 0;
		} else if (data.part->kind == MIME_PART_LEAF) {
			enum mime_decode_result r = mime_part_decode(data.part, base, fm->map->bytes.len,
								     &decoded);
			if (r != MIME_DECODE_OK) {
				buf_free(&decoded);
				fm->ctx->failed = true;
				imap_cmd_no(fm->cmd, "UNKNOWN-CTE", "Cannot decode the %s",
					    r == MIME_DECODE_UNKNOWN_CTE ? "transfer encoding"
									 : "part's content");
				return false;
			}
			base = decoded.data ? decoded.data : (const unsigned char *)"";
			start = 0;
			end = decoded.len;
			from_map = false;
		} else {
			start = data.start;
			end = data.end;
		}
	}
	buf_append_str(&name, it->response_name);
	if (it->kind == IMAP_FETCH_BINARY_SIZE) {
		buf_printf(fm->line, "%s %llu", name.data, (unsigned long long)(end - start));
	} else {
		fetch_apply_partial(it, &start, &end, &name);
		buf_printf(fm->line, "%s ", name.data);
		bool nul = memchr(base + start, '\0', end - start) != NULL;
		fetch_emit_literal(fm, base + start, end - start, nul, from_map);
	}
	buf_free(&decoded);
	buf_free(&name);
	return true;
}

static void fetch_internaldate(struct buf *out, int64_t t, int tz_min)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t local = (time_t)(t + (int64_t)tz_min * 60);
	struct tm tm;
	gmtime_r(&local, &tm);
	int z = tz_min < 0 ? -tz_min : tz_min;
	buf_printf(out, "INTERNALDATE \"%02d-%s-%04d %02d:%02d:%02d %c%02d%02d\"", tm.tm_mday,
		   months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
		   tz_min < 0 ? '-' : '+', z / 60, z % 60);
}

/* ENVELOPE, BODY and BODYSTRUCTURE come from what was computed at
 * delivery; a message stored without it is parsed now. */
static bool fetch_structure(struct fetch_msg *fm, struct store_user *u,
			    enum imap_fetch_kind kind)
{
	const char *cached = kind == IMAP_FETCH_ENVELOPE ? fm->msg.meta.envelope
			     : kind == IMAP_FETCH_BODY   ? fm->msg.meta.body
							 : fm->msg.meta.bodystructure;
	buf_append_str(fm->line, kind == IMAP_FETCH_ENVELOPE ? "ENVELOPE "
				  : kind == IMAP_FETCH_BODY   ? "BODY "
							      : "BODYSTRUCTURE ");
	if (cached != NULL) {
		buf_append_str(fm->line, cached);
		return true;
	}
	if (!fetch_map_open(fm, u))
		return false;
	if (kind == IMAP_FETCH_ENVELOPE)
		mime_envelope_write(fm->line, fm->map->bytes.data, fm->map->bytes.len, fetch_tree(fm));
	else
		mime_bodystructure_write(fm->line, fm->map->bytes.data, fm->map->bytes.len, fetch_tree(fm),
					 kind == IMAP_FETCH_BODYSTRUCTURE);
	return true;
}

static bool fetch_item(struct fetch_msg *fm, struct store_user *u,
		       const struct imap_fetch_item *it)
{
	struct imap_selected *sel = fm->cmd->session->selected;
	const struct store_msg *m = &fm->msg;
	switch (it->kind) {
	case IMAP_FETCH_UID:
		buf_append_str(fm->line, "UID ");
		buf_append_uint(fm->line, m->uid);
		return true;
	case IMAP_FETCH_FLAGS:
		buf_append_str(fm->line, "FLAGS ");
		imap_flags_append(fm->line, m->flags, (const char *const *)m->keywords,
				  m->keyword_count, imap_selected_is_recent(sel, m->uid));
		return true;
	case IMAP_FETCH_INTERNALDATE:
		fetch_internaldate(fm->line, m->internal_date, m->tz_offset_min);
		return true;
	case IMAP_FETCH_RFC822_SIZE:
		buf_append_str(fm->line, "RFC822.SIZE ");
		buf_append_uint(fm->line, m->size);
		return true;
	case IMAP_FETCH_MODSEQ:
		buf_append_str(fm->line, "MODSEQ (");
		buf_append_uint(fm->line, m->modseq);
		buf_append_char(fm->line, ')');
		return true;
	case IMAP_FETCH_ENVELOPE:
	case IMAP_FETCH_BODY:
	case IMAP_FETCH_BODYSTRUCTURE:
		return fetch_structure(fm, u, it->kind);
	case IMAP_FETCH_SECTION:
		return fetch_section(fm, u, it);
	case IMAP_FETCH_BINARY:
	case IMAP_FETCH_BINARY_SIZE:
		return fetch_binary(fm, u, it);
	}
	return false;
}

static unsigned fetch_store_want(const struct fetch_ctx *ctx)
{
	return (ctx->req.needs_meta ? STORE_MSG_WANT_META : 0) |
	       (ctx->wants_header ? STORE_MSG_WANT_HEADER : 0);
}

static const struct store_msg *fetch_batch_find(const struct fetch_ctx *ctx, uint32_t uid)
{
	size_t lo = 0, hi = ctx->batch_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ctx->batch[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ctx->batch_count && ctx->batch[lo].uid == uid ? &ctx->batch[lo] : NULL;
}

/* The message's row, from the bulk rows, the batch or one lookup. */
static enum store_error fetch_get_msg(struct imap_cmd *cmd, struct fetch_ctx *ctx,
				      struct store_user *u, uint32_t uid, struct store_msg *msg,
				      const char **error_r)
{
	if (ctx->batch != NULL) {
		const struct store_msg *m = fetch_batch_find(ctx, uid);
		if (m == NULL)
			return STORE_ERR_NONEXISTENT;
		*msg = *m;
		return STORE_OK;
	}
	if (ctx->rows == NULL)
		return store_msg_get(u, cmd->session->selected->mailbox_id, uid,
				     fetch_store_want(ctx), ctx->scratch, msg, error_r);
	const struct store_msg_row *r = store_msg_row_find(ctx->rows, ctx->row_count, uid);
	if (r == NULL)
		return STORE_ERR_NONEXISTENT;
	memset(msg, 0, sizeof(*msg));
	msg->uid = r->uid;
	msg->flags = r->flags;
	msg->keywords = r->keywords;
	msg->keyword_count = r->keyword_count;
	msg->modseq = r->modseq;
	msg->size = r->size;
	msg->internal_date = r->internal_date;
	msg->tz_offset_min = r->tz_offset_min;
	return STORE_OK;
}

/* Answers one message. Returns false when the command has been failed. */
static bool fetch_message(struct imap_cmd *cmd, struct fetch_ctx *ctx, struct store_user *u,
			  uint32_t uid)
{
	struct imap_session *s = cmd->session;
	struct fetch_msg fm = { .cmd = cmd, .ctx = ctx, .line = &ctx->line };
	const char *error;
	arena_reset(ctx->scratch);
	buf_reset(fm.line);
	enum store_error err = fetch_get_msg(cmd, ctx, u, uid, &fm.msg, &error);
	if (err == STORE_ERR_NONEXISTENT) {
		ctx->missing = true; /* expunged meanwhile (RFC 2180 §4.1.2) */
		return true;
	}
	if (err != STORE_OK) {
		ctx->failed = true;
		imap_mailbox_answer_store_error(cmd, err, error);
		return false;
	}
	if (ctx->req.has_changedsince && fm.msg.modseq <= ctx->req.changedsince)
		return true;
	fm.seq = imap_selected_seq(s->selected, uid);
	imap_selected_note_flags(s->selected, uid, fm.msg.flags, fm.msg.modseq);
	/* Without printf: FETCH 1:* writes this for every message. */
	buf_append_str(fm.line, "* ");
	buf_append_uint(fm.line, fm.seq);
	buf_append_str(fm.line, " FETCH (");
	bool ok = true;
	for (size_t i = 0; ok && i < ctx->req.count; i++) {
		if (i > 0)
			buf_append_char(fm.line, ' ');
		ok = fetch_item(&fm, u, &ctx->req.items[i]);
	}
	/* RFC 9051 §6.4.5: a \Seen set by this FETCH is reported with it. */
	if (ok && imap_seqset_contains(&ctx->seen_set, uid) && !ctx->wants_flags) {
		struct imap_fetch_item flags = { .kind = IMAP_FETCH_FLAGS };
		buf_append_char(fm.line, ' ');
		fetch_item(&fm, u, &flags);
	}
	if (ok) {
		buf_append_str(fm.line, ")\r\n");
		imap_send_raw(s, fm.line->data, fm.line->len);
	} else if (!ctx->failed) {
		/* The body file could not be read: an internal error. */
		ctx->failed = true;
		log_event(LOG_ERROR, conn_id(s->conn), "fetch_failed", "uid=%u", uid);
		imap_cmd_no(cmd, "SERVERBUG", "Cannot read message %u", uid);
	}
	if (fm.map != NULL)
		fetch_map_release(NULL, 0, fm.map);
	return ok;
}

static void fetch_cleanup(struct imap_cmd *cmd)
{
	struct fetch_ctx *ctx = cmd->ctx;
	imap_seqset_free(&ctx->seen_set);
	arena_destroy(&ctx->scratch);
	buf_free(&ctx->line);
}

/* FETCH of up to this many messages whose UIDs lie this close together
 * reads their rows in one query (fetch_load_batch). */
#define FETCH_BATCH_MAX 32
#define FETCH_BATCH_SPAN 64

static bool fetch_batch_fits(const struct fetch_ctx *ctx)
{
	return ctx->count >= 2 && ctx->count <= FETCH_BATCH_MAX &&
	       ctx->uids[ctx->count - 1] - ctx->uids[0] < FETCH_BATCH_SPAN;
}

static bool fetch_load_batch(struct imap_cmd *cmd, struct fetch_ctx *ctx, struct store_user *u)
{
	const char *error;
	ctx->batch_wanted = false;
	enum store_error err = store_msg_get_range(
		u, cmd->session->selected->mailbox_id, ctx->uids[0], ctx->uids[ctx->count - 1],
		fetch_store_want(ctx), cmd->arena, &ctx->batch, &ctx->batch_count, &error);
	if (err != STORE_OK) {
		ctx->failed = true;
		imap_mailbox_answer_store_error(cmd, err, error);
		return false;
	}
	/* Not NULL when empty: every UID is then missing. */
	if (ctx->batch == NULL)
		ctx->batch = arena_alloc(cmd->arena, sizeof(*ctx->batch));
	return true;
}

static enum imap_cmd_result fetch_continue(struct imap_cmd *cmd)
{
	struct fetch_ctx *ctx = cmd->ctx;
	const char *error;
	struct store_user *u = imap_selected_store(cmd->session, &error);
	if (u == NULL) {
		fetch_cleanup(cmd);
		imap_cmd_no(cmd, "UNAVAILABLE", "Mail store unavailable");
		return IMAP_CMD_DONE;
	}
	/* One read transaction for the rows of this turn, not one per
	 * message; none is held while the client drains the output. */
	store_user_snapshot_begin(u);
	if (ctx->batch_wanted && !fetch_load_batch(cmd, ctx, u)) {
		store_user_snapshot_end(u);
		fetch_cleanup(cmd);
		return IMAP_CMD_DONE;
	}
	while (ctx->next < ctx->count) {
		if (conn_output_full(cmd->session->conn)) {
			store_user_snapshot_end(u);
			/* Read in this turn's snapshot: later turns read anew. */
			ctx->batch = NULL;
			ctx->batch_count = 0;
			return IMAP_CMD_MORE;
		}
		if (!fetch_message(cmd, ctx, u, ctx->uids[ctx->next++])) {
			store_user_snapshot_end(u);
			fetch_cleanup(cmd);
			return IMAP_CMD_DONE;
		}
	}
	store_user_snapshot_end(u);
	fetch_cleanup(cmd);
	if (ctx->missing)
		imap_cmd_no(cmd, "EXPUNGEISSUED", "Some messages were expunged meanwhile");
	else
		imap_cmd_ok(cmd, NULL, "%sFETCH completed", cmd->uid ? "UID " : "");
	return IMAP_CMD_DONE;
}

/* From this many messages on, one query for all rows beats one lookup
 * each. */
#define FETCH_BULK_MIN 32

static bool fetch_load_rows(struct imap_cmd *cmd, struct fetch_ctx *ctx)
{
	const char *error;
	struct store_user *u = imap_selected_store(cmd->session, &error);
	struct store_msg_row *rows;
	enum store_error err = u == NULL ? STORE_ERR_INTERNAL
				 : store_mailbox_rows(u, cmd->session->selected->mailbox_id,
						      cmd->arena, &rows, &ctx->row_count, &error);
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return false;
	}
	ctx->rows = rows;
	return true;
}

/* Sets \Seen on the messages a non-PEEK body fetch reads, in one store
 * call up front (RFC 9051 §6.4.5). */
static bool fetch_set_seen(struct imap_cmd *cmd, struct fetch_ctx *ctx,
			   const struct imap_seqset *uids)
{
	struct imap_session *s = cmd->session;
	const char *error;
	struct store_user *u = imap_selected_store(s, &error);
	size_t nranges;
	struct store_uid_range *ranges = imap_selected_ranges(cmd, uids, &nranges);
	struct store_flag_change change = { .op = STORE_FLAGS_ADD, .flags = STORE_FLAG_SEEN };
	struct store_flags_result res;
	enum store_error err = u == NULL ? STORE_ERR_INTERNAL
				 : store_msg_set_flags(u, s->selected->mailbox_id, ranges, nranges,
						       &change, cmd->arena, &res, &error);
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return false;
	}
	for (size_t i = 0; i < res.count; i++)
		if (res.msgs[i].changed)
			imap_seqset_add(&ctx->seen_set, res.msgs[i].uid);
	return true;
}

/* UID FETCH set ... (CHANGEDSINCE n VANISHED): the UIDs of the set as the
 * client wrote it (not only those still present) that were expunged after
 * n go out first as VANISHED (EARLIER) (RFC 7162 §3.2.6). */
static bool fetch_send_vanished(struct imap_cmd *cmd, const char *set_text, uint64_t since)
{
	struct imap_selected *sel = cmd->session->selected;
	struct imap_seqset_spec spec;
	struct imap_seqset known = IMAP_SEQSET_INIT;
	const char *error;
	if (!imap_seqset_parse(set_text, strlen(set_text), 0, &spec, &error)) {
		imap_cmd_bad(cmd, NULL, "%s", error);
		return false;
	}
	imap_seqset_resolve(&spec, sel->uidnext > 1 ? sel->uidnext - 1 : 0, &sel->saved, &known);
	imap_seqset_spec_free(&spec);
	struct store_changes ch;
	bool ok = imap_qresync_changes(cmd, since, &ch);
	if (ok)
		imap_qresync_send_vanished(cmd, &ch, &known, NULL);
	imap_seqset_free(&known);
	return ok;
}

/* CONDSTORE's MODSEQ item and CHANGEDSINCE modifier, when the session
 * hides CONDSTORE: refused as if unknown (imap-capability.h). */
static const char *fetch_hidden_condstore(const struct imap_session *s,
					  const struct imap_fetch_request *req)
{
	if (!imap_cap_hidden(s, IMAP_CAP(CONDSTORE)))
		return NULL;
	if (req->has_changedsince)
		return "Invalid FETCH modifier";
	for (size_t i = 0; i < req->count; i++)
		if (req->items[i].kind == IMAP_FETCH_MODSEQ)
			return "Invalid FETCH attributes";
	return NULL;
}

/* fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att /
 *         "(" fetch-att *(SP fetch-att) ")") [fetch-modifiers] */
enum imap_cmd_result cmd_fetch(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	const char *set_text, *error;
	if (cmd->arg_count < 2 || cmd->arg_count > 3 ||
	    !imap_arg_get_atom(&cmd->args[0], &set_text)) {
		imap_cmd_bad(cmd, NULL, "FETCH expects a sequence set and attributes");
		return IMAP_CMD_DONE;
	}
	struct fetch_ctx *ctx = arena_zalloc(cmd->arena, sizeof(*ctx));
	if (!imap_fetch_parse(cmd->arena, &cmd->args[1], cmd->arg_count == 3 ? &cmd->args[2] : NULL,
			      cmd->uid, &ctx->req, &error) ||
	    (error = fetch_hidden_condstore(s, &ctx->req)) != NULL) {
		imap_cmd_bad(cmd, NULL, "%s", error);
		return IMAP_CMD_DONE;
	}
	if (ctx->req.vanished && !(s->enabled & IMAP_ENABLED_QRESYNC)) {
		imap_cmd_bad(cmd, NULL, "VANISHED needs QRESYNC enabled");
		return IMAP_CMD_DONE;
	}
	struct imap_seqset uids = IMAP_SEQSET_INIT;
	if (!imap_selected_parse_set(s->selected, set_text, cmd->uid, &uids, &error)) {
		imap_seqset_free(&uids);
		imap_cmd_bad(cmd, NULL, "%s", error);
		return IMAP_CMD_DONE;
	}
	if (ctx->req.vanished && !fetch_send_vanished(cmd, set_text, ctx->req.changedsince)) {
		imap_seqset_free(&uids);
		return IMAP_CMD_DONE;
	}
	for (size_t i = 0; i < ctx->req.count; i++) {
		if (ctx->req.items[i].kind == IMAP_FETCH_MODSEQ)
			s->enabled |= IMAP_ENABLED_CONDSTORE; /* RFC 7162 §3.1 */
		if (ctx->req.items[i].kind == IMAP_FETCH_FLAGS)
			ctx->wants_flags = true;
		if (ctx->req.items[i].kind == IMAP_FETCH_SECTION &&
		    fetch_section_is_top_header(&ctx->req.items[i]))
			ctx->wants_header = true;
	}
	if (ctx->req.has_changedsince)
		s->enabled |= IMAP_ENABLED_CONDSTORE;
	imap_seqset_init(&ctx->seen_set);
	/* RFC 4314 §4: without "s" a body fetch does not set \Seen. */
	const char *ignored;
	if (ctx->req.sets_seen && s->selected->shared)
		(void)imap_selected_store(s, &ignored); /* rights as of now */
	if (ctx->req.sets_seen && !s->selected->readonly &&
	    (s->selected->rights & STORE_RIGHT_SEEN) && !imap_seqset_is_empty(&uids) &&
	    !fetch_set_seen(cmd, ctx, &uids)) {
		imap_seqset_free(&uids);
		imap_seqset_free(&ctx->seen_set);
		return IMAP_CMD_DONE;
	}
	ctx->count = imap_seqset_count(&uids);
	ctx->uids = arena_alloc(cmd->arena, (ctx->count ? ctx->count : 1) * sizeof(uint32_t));
	struct imap_seqset_iter it;
	uint32_t uid;
	size_t n = 0;
	imap_seqset_iter_init(&it, &uids);
	while (imap_seqset_iter_next(&it, &uid))
		ctx->uids[n++] = uid;
	imap_seqset_free(&uids);
	ctx->scratch = arena_new(0);
	ctx->batch_wanted = fetch_batch_fits(ctx);
	if (!ctx->req.needs_meta && !ctx->req.needs_body && ctx->count > FETCH_BULK_MIN &&
	    !fetch_load_rows(cmd, ctx)) {
		arena_destroy(&ctx->scratch);
		imap_seqset_free(&ctx->seen_set);
		return IMAP_CMD_DONE;
	}
	cmd->ctx = ctx;
	cmd->resume = fetch_continue;
	cmd->on_abort = fetch_cleanup;
	return fetch_continue(cmd);
}
