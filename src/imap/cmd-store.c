#include "imap/imap-access.h"
#include "imap/imap-capability.h"
#include "imap/imap-commands.h"
#include "imap/imap-flags.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "imap/imap-selected.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "net/conn.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

/* STORE and UID STORE (RFC 9051 §6.4.6), with the UNCHANGEDSINCE modifier
 * of CONDSTORE (RFC 7162 §3.1.3). The store applies the change in one
 * transaction; the FETCH responses are then written in steps, so that
 * "STORE 1:* +FLAGS \Seen" on a large mailbox never queues all of its
 * output at once (DESIGN §3). */

struct store_cmd_request {
	const char *set_text;
	struct store_flag_change change;
	struct imap_flag_list flags;
	bool silent;
};

struct store_cmd_ctx {
	struct store_flags_result res;
	bool silent;
	bool has_unchangedsince;
	bool missing;   /* messages of a sequence set expunged by another
			 * session (RFC 2180 §4.2) */
	size_t next;    /* next index in res.msgs to report */
	size_t next_failed; /* cursor in res.failed (store_cmd_failed) */
};

static bool store_cmd_condstore(const struct imap_session *s)
{
	return (s->enabled & (IMAP_ENABLED_CONDSTORE | IMAP_ENABLED_QRESYNC)) != 0;
}

/* store-modifiers = SP "(" store-modifier *(SP store-modifier) ")"
 *                                                     (RFC 4466 §2.5)
 * store-modifier  =/ "UNCHANGEDSINCE" SP mod-sequence-valzer
 *                    ;; Only a single "UNCHANGEDSINCE" may be specified
 * mod-sequence-valzer = "0" / mod-sequence-value      (RFC 7162 §7) */
static bool store_cmd_read_modifiers(const struct imap_arg *arg, struct store_flag_change *change,
				     const char **error_r)
{
	const struct imap_arg *list;
	size_t count;
	if (!imap_arg_get_list(arg, &list, &count) || count == 0) {
		*error_r = "Empty STORE modifier list";
		return false;
	}
	for (size_t i = 0; i < count; i += 2) {
		if (!imap_arg_atom_equals(&list[i], "UNCHANGEDSINCE")) {
			*error_r = "Unknown STORE modifier";
			return false;
		}
		if (change->has_unchangedsince) {
			*error_r = "UNCHANGEDSINCE given twice";
			return false;
		}
		if (i + 1 >= count || !imap_arg_get_number64(&list[i + 1], &change->unchangedsince)) {
			*error_r = "UNCHANGEDSINCE needs a mod-sequence";
			return false;
		}
		change->has_unchangedsince = true;
	}
	return true;
}

/* (["+" / "-"] "FLAGS" [".SILENT"])                    (RFC 9051 §9) */
static bool store_cmd_read_att(const struct imap_arg *arg, struct store_cmd_request *req)
{
	const char *att;
	if (!imap_arg_get_atom(arg, &att))
		return false;
	req->change.op = STORE_FLAGS_REPLACE;
	if (att[0] == '+' || att[0] == '-') {
		req->change.op = att[0] == '+' ? STORE_FLAGS_ADD : STORE_FLAGS_REMOVE;
		att++;
	}
	if (strncasecmp(att, "FLAGS", 5) != 0)
		return false;
	att += 5;
	req->silent = strcasecmp(att, ".SILENT") == 0;
	return req->silent || att[0] == '\0';
}

/* True when some argument is a keyword that is well-formed but longer than
 * the configured keyword_length: an implementation limit (NO [LIMIT],
 * RFC 5530), not a syntax error. */
static bool store_cmd_keyword_too_long(const struct imap_cmd *cmd, const struct imap_arg *args,
				       size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const char *atom;
		if (args[i].type == IMAP_ARG_ATOM && imap_arg_get_atom(&args[i], &atom) &&
		    atom[0] != '\\' && imap_keyword_valid(atom, SIZE_MAX) &&
		    strlen(atom) > cmd->session->cfg->keyword_length)
			return true;
	}
	return false;
}

/* store = "STORE" SP sequence-set [store-modifiers] SP store-att-flags
 * store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP
 *                   (flag-list / (flag *(SP flag)))   (RFC 9051 §9,
 *                                                      RFC 4466 §2.5)
 * Returns -1 for BAD (message in *error_r), 0 for NO [LIMIT] (keyword too
 * long) and 1 when req is filled. */
static int store_cmd_parse(struct imap_cmd *cmd, struct store_cmd_request *req,
			   const char **error_r)
{
	const struct imap_arg *args = cmd->args;
	size_t count = cmd->arg_count, i = 1;
	memset(req, 0, sizeof(*req));
	*error_r = "STORE expects a sequence set, FLAGS and flags";
	if (count < 3 || !imap_arg_get_atom(&args[0], &req->set_text))
		return -1;
	if (args[1].type == IMAP_ARG_LIST) {
		/* UNCHANGEDSINCE, the only modifier, is CONDSTORE's. */
		if (imap_cap_hidden(cmd->session, IMAP_CAP(CONDSTORE))) {
			*error_r = "Unknown STORE modifier";
			return -1;
		}
		if (!store_cmd_read_modifiers(&args[1], &req->change, error_r))
			return -1;
		i = 2;
	}
	if (i + 1 >= count || !store_cmd_read_att(&args[i], req)) {
		*error_r = "STORE expects [+|-]FLAGS[.SILENT] and flags";
		return -1;
	}
	const struct imap_arg *flag_args = &args[i + 1];
	size_t flag_count = count - i - 1;
	if (flag_args[0].type == IMAP_ARG_LIST) {
		if (flag_count != 1) {
			*error_r = "Nothing may follow the flag list";
			return -1;
		}
		flag_count = flag_args[0].list_count;
		flag_args = flag_args[0].list;
	}
	if (!imap_flags_read(cmd, flag_args, flag_count, &req->flags, error_r))
		return store_cmd_keyword_too_long(cmd, flag_args, flag_count) ? 0 : -1;
	req->change.flags = req->flags.flags;
	req->change.keywords = req->flags.keywords;
	req->change.keyword_count = req->flags.keyword_count;
	return 1;
}

/* [limits] keywords: how many distinct keywords a mailbox may hold. Only
 * keywords new to the mailbox count, so one that exists can always be set
 * again. Answers NO [LIMIT] and returns false when the change would go
 * beyond. */
static bool store_cmd_check_keyword_limit(struct imap_cmd *cmd, struct store_user *u,
					  const struct store_cmd_request *req)
{
	struct imap_session *s = cmd->session;
	if (req->change.op == STORE_FLAGS_REMOVE || req->flags.keyword_count == 0)
		return true;
	const char **have, *error;
	size_t have_count, added = 0;
	enum store_error err = store_mailbox_keywords(u, s->selected->mailbox_id, cmd->arena,
						      &have, &have_count, &error);
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return false;
	}
	for (size_t i = 0; i < req->flags.keyword_count; i++) {
		size_t k = 0;
		while (k < have_count && strcasecmp(have[k], req->flags.keywords[i]) != 0)
			k++;
		if (k == have_count)
			added++;
	}
	if (added == 0 || have_count + added <= s->cfg->keywords)
		return true;
	imap_cmd_no(cmd, "LIMIT", "A mailbox may hold at most %u keywords", s->cfg->keywords);
	return false;
}

/* RFC 7162 §3.1: a STORE with UNCHANGEDSINCE is a CONDSTORE enabling
 * command; the first one with a mailbox selected returns HIGHESTMODSEQ. */
static void store_cmd_enable_condstore(struct imap_session *s)
{
	if (s->enabled & IMAP_ENABLED_CONDSTORE)
		return;
	s->enabled |= IMAP_ENABLED_CONDSTORE;
	imap_send_untagged(s, "OK [HIGHESTMODSEQ %llu] Highest",
			   (unsigned long long)s->selected->highestmodseq);
}

/* Whether uid failed the UNCHANGEDSINCE test. Both lists are ascending, so
 * callers walking the messages in order keep *cursor between calls. */
static bool store_cmd_failed(const struct store_flags_result *res, uint32_t uid, size_t *cursor)
{
	while (*cursor < res->failed_count && res->failed[*cursor] < uid)
		(*cursor)++;
	return *cursor < res->failed_count && res->failed[*cursor] == uid;
}

/* The system flags the client expects after its change, computed from what
 * this session last reported: with .SILENT the client derives the new flags
 * itself (RFC 9051 §6.4.6), which is right only if nobody else changed the
 * message meanwhile. */
static uint32_t store_cmd_expected(const struct imap_selected *sel, uint32_t uid,
				   const struct store_flag_change *change)
{
	uint32_t seq = imap_selected_seq(sel, uid);
	uint32_t known = seq != 0 ? sel->flags[seq - 1] : 0;
	switch (change->op) {
	case STORE_FLAGS_REPLACE:
		return change->flags;
	case STORE_FLAGS_ADD:
		return known | change->flags;
	case STORE_FLAGS_REMOVE:
		return known & ~change->flags;
	}
	return known;
}

/* Records in the view what the client is told (or knows) about each
 * message, so that the sync before the tagged answer does not report our
 * own change again. A silent change that does not match what the client
 * expects is left for the sync, which reports the full flags: another
 * session's change must not be hidden (RFC 9051 §6.4.6 note). */
static void store_cmd_note(struct imap_session *s, const struct store_cmd_ctx *ctx,
			   const struct store_flag_change *change)
{
	struct imap_selected *sel = s->selected;
	size_t cursor = 0;
	for (size_t i = 0; i < ctx->res.count; i++) {
		const struct store_msg_flags *m = &ctx->res.msgs[i];
		bool failed = store_cmd_failed(&ctx->res, m->uid, &cursor);
		/* Reported with FLAGS: non-silent, or an UNCHANGEDSINCE
		 * failure (RFC 7162 §3.1.3, Example 10). */
		bool told = !ctx->silent || failed;
		if (told || (m->changed && store_cmd_expected(sel, m->uid, change) == m->flags))
			imap_selected_note_flags(sel, m->uid, m->flags, m->modseq);
	}
}

/* One untagged FETCH for m: FLAGS unless only the new MODSEQ is due, UID
 * for UID STORE (RFC 9051 §6.4.9) and QRESYNC sessions (RFC 7162 §3.2.4),
 * MODSEQ for CONDSTORE-aware sessions (RFC 7162 §3.1). */
static void store_cmd_send_fetch(struct imap_cmd *cmd, const struct store_msg_flags *m,
				 bool with_flags, struct buf *line)
{
	struct imap_session *s = cmd->session;
	const struct imap_selected *sel = s->selected;
	const char *sep = "";
	buf_reset(line);
	buf_printf(line, "%u FETCH (", imap_selected_seq(sel, m->uid));
	if (cmd->uid || (s->enabled & IMAP_ENABLED_QRESYNC)) {
		buf_printf(line, "UID %u", m->uid);
		sep = " ";
	}
	if (with_flags) {
		buf_printf(line, "%sFLAGS ", sep);
		imap_flags_append(line, m->flags, (const char *const *)m->keywords,
				  m->keyword_count, imap_selected_is_recent(sel, m->uid));
		sep = " ";
	}
	if (store_cmd_condstore(s))
		buf_printf(line, "%sMODSEQ (%llu)", sep, (unsigned long long)m->modseq);
	buf_append_char(line, ')');
	imap_send_untagged(s, "%s", buf_cstr(line));
}

/* Writes the tagged answer (RFC 2180 §4.2, RFC 7162 §3.1.3). */
static void store_cmd_finish(struct imap_cmd *cmd, const struct store_cmd_ctx *ctx)
{
	const struct imap_selected *sel = cmd->session->selected;
	const char *done = cmd->uid ? "UID STORE completed" : "STORE completed";
	if (ctx->res.failed_count > 0) {
		struct imap_seqset failed = IMAP_SEQSET_INIT;
		for (size_t i = 0; i < ctx->res.failed_count; i++) {
			uint32_t uid = ctx->res.failed[i];
			imap_seqset_add(&failed, cmd->uid ? uid : imap_selected_seq(sel, uid));
		}
		struct buf code = BUF_INIT;
		buf_append_str(&code, "MODIFIED ");
		imap_seqset_format(&failed, &code);
		if (ctx->missing && !ctx->silent)
			imap_cmd_no(cmd, buf_cstr(&code), "Some of the messages no longer exist");
		else
			imap_cmd_ok(cmd, buf_cstr(&code), "Conditional STORE failed");
		buf_free(&code);
		imap_seqset_free(&failed);
	} else if (ctx->missing && !ctx->silent) {
		/* RFC 2180 §4.2.2/4.2.3: the others are stored and reported. */
		imap_cmd_no(cmd, "EXPUNGEISSUED", "Some of the messages no longer exist");
	} else if (ctx->missing) {
		imap_cmd_ok(cmd, "EXPUNGEISSUED", "%s", done); /* RFC 2180 §4.2.1 */
	} else {
		imap_cmd_ok(cmd, NULL, "%s", done);
	}
}

/* Sends the FETCH responses, pausing when the output is full. */
static enum imap_cmd_result store_cmd_continue(struct imap_cmd *cmd)
{
	struct store_cmd_ctx *ctx = cmd->ctx;
	bool condstore = store_cmd_condstore(cmd->session);
	struct buf line = BUF_INIT;
	while (ctx->next < ctx->res.count) {
		if (conn_output_full(cmd->session->conn)) {
			buf_free(&line);
			return IMAP_CMD_MORE;
		}
		const struct store_msg_flags *m = &ctx->res.msgs[ctx->next++];
		bool failed = store_cmd_failed(&ctx->res, m->uid, &ctx->next_failed);
		if (!ctx->silent || failed)
			store_cmd_send_fetch(cmd, m, true, &line);
		else if (condstore && (m->changed || ctx->has_unchangedsince))
			/* RFC 7162 §3.1.3 and Example 14: even with .SILENT
			 * the client learns the new MODSEQ. */
			store_cmd_send_fetch(cmd, m, false, &line);
	}
	buf_free(&line);
	store_cmd_finish(cmd, ctx);
	return IMAP_CMD_DONE;
}

/* RFC 4314 §4: flags the session has no right to change are left alone;
 * the command fails (NO [NOPERM]) only when nothing it names may change. */
static bool store_cmd_limit_to_rights(struct imap_cmd *cmd, struct store_cmd_request *req)
{
	const char *ignored;
	(void)imap_selected_store(cmd->session, &ignored); /* rights as of now */
	unsigned rights = cmd->session->selected->rights;
	uint32_t permitted = imap_flags_permitted(rights);
	bool keywords_ok = (rights & STORE_RIGHT_WRITE) != 0;
	bool named = req->change.flags != 0 || req->change.keyword_count > 0 ||
		     req->change.op == STORE_FLAGS_REPLACE;
	bool any = (req->change.flags & permitted) != 0 ||
		   (req->change.keyword_count > 0 && keywords_ok) ||
		   (req->change.op == STORE_FLAGS_REPLACE && (permitted != 0 || keywords_ok));
	if (named && !any) {
		uint32_t flags = req->change.flags;
		unsigned need = (flags & STORE_FLAG_SEEN) ? STORE_RIGHT_SEEN :
			(flags & STORE_FLAG_DELETED) ? STORE_RIGHT_DELETED : STORE_RIGHT_WRITE;
		imap_mailbox_answer_noperm(cmd, need, rights);
		return false;
	}
	req->change.keep_flags = STORE_FLAGS_ALL & ~permitted;
	req->change.keep_keywords = !keywords_ok;
	return true;
}

/* Whether the view holds everything this STORE changed, so that only a
 * change by someone else would need a read: no keyword (a new one is
 * announced by the read), and every changed message's flags noted. u is
 * the session's own store (NULL for another's, whose \Seen may be the
 * reader's own: those always read), seq_before its commit number before
 * the change. */
static bool store_cmd_view_current(struct imap_session *s, struct store_user *u,
				   const struct store_cmd_ctx *ctx,
				   const struct store_flag_change *change, uint64_t seq_before)
{
	struct imap_selected *sel = s->selected;
	if (u == NULL || change->keyword_count > 0)
		return false;
	for (size_t i = 0; i < ctx->res.count; i++) {
		const struct store_msg_flags *m = &ctx->res.msgs[i];
		if (!m->changed)
			continue;
		uint32_t seq = imap_selected_seq(sel, m->uid);
		if (seq == 0 || sel->flags[seq - 1] != m->flags || sel->modseqs[seq - 1] != m->modseq)
			return false;
	}
	return imap_selected_own_commit(sel, u, seq_before, ctx->res.highestmodseq);
}

/* Applies the change; answers the command and returns false on failure. */
static bool store_cmd_apply(struct imap_cmd *cmd, const struct store_cmd_request *req,
			    const struct imap_seqset *uids, struct store_cmd_ctx *ctx)
{
	struct imap_session *s = cmd->session;
	const char *error;
	struct store_user *u = imap_selected_store(s, &error);
	if (u == NULL) {
		imap_cmd_no(cmd, "UNAVAILABLE", "Mail store unavailable");
		return false;
	}
	if (!store_cmd_check_keyword_limit(cmd, u, req))
		return false;
	size_t range_count;
	struct store_uid_range *ranges = imap_selected_ranges(cmd, uids, &range_count);
	enum store_error err = store_msg_set_flags(u, s->selected->mailbox_id, ranges, range_count,
						   &req->change, cmd->arena, &ctx->res, &error);
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return false;
	}
	ctx->silent = req->silent;
	ctx->has_unchangedsince = req->change.has_unchangedsince;
	/* Only sequence numbers name messages the client believes exist; a
	 * UID set simply matches fewer (RFC 9051 §6.4.9). */
	ctx->missing = !cmd->uid && ctx->res.count < imap_seqset_count(uids);
	return true;
}

enum imap_cmd_result cmd_store(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct store_cmd_request req;
	const char *error;
	int r = store_cmd_parse(cmd, &req, &error);
	if (r <= 0) {
		if (r == 0)
			imap_cmd_no(cmd, "LIMIT", "Keywords may be at most %u bytes long",
				    s->cfg->keyword_length);
		else
			imap_cmd_bad(cmd, NULL, "%s", error);
		return IMAP_CMD_DONE;
	}
	struct imap_seqset uids = IMAP_SEQSET_INIT;
	if (!imap_selected_parse_set(s->selected, req.set_text, cmd->uid, &uids, &error)) {
		imap_seqset_free(&uids);
		imap_cmd_bad(cmd, NULL, "%s", error);
		return IMAP_CMD_DONE;
	}
	if (req.change.has_unchangedsince)
		store_cmd_enable_condstore(s);
	if (s->selected->readonly) {
		imap_seqset_free(&uids);
		imap_cmd_no(cmd, NULL, "Mailbox is read-only");
		return IMAP_CMD_DONE;
	}
	if (!store_cmd_limit_to_rights(cmd, &req)) {
		imap_seqset_free(&uids);
		return IMAP_CMD_DONE;
	}
	if (imap_seqset_is_empty(&uids)) {
		imap_cmd_ok(cmd, NULL, "%sSTORE completed", cmd->uid ? "UID " : "");
		return IMAP_CMD_DONE;
	}
	/* With .SILENT our responses carry no FLAGS: bring the client up to
	 * date first, so that what it derives from its own change is right. */
	if (req.silent)
		imap_selected_sync(s, false);
	struct store_cmd_ctx *ctx = arena_zalloc(cmd->arena, sizeof(*ctx));
	struct store_user *own = s->selected->shared ? NULL : imap_selected_store(s, &error);
	uint64_t seq_before = own != NULL ? store_user_commit_seq(own) : 0;
	bool ok = store_cmd_apply(cmd, &req, &uids, ctx);
	imap_seqset_free(&uids);
	if (!ok)
		return IMAP_CMD_DONE;
	store_cmd_note(s, ctx, &req.change);
	/* Reports new keywords (FLAGS, PERMANENTFLAGS) before the FETCH
	 * responses that use them; never EXPUNGE (RFC 9051 §7.5.1). */
	if (!store_cmd_view_current(s, own, ctx, &req.change, seq_before))
		imap_selected_sync(s, false);
	cmd->ctx = ctx;
	cmd->resume = store_cmd_continue;
	return store_cmd_continue(cmd);
}
