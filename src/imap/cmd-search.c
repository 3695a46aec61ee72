#include "imap/imap-capability.h"
#include "imap/imap-commands.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "imap/imap-search.h"
#include "imap/imap-selected.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/log.h"
#include "net/conn.h"

#include <inttypes.h>

#define SEARCH_RET_MIN (1u << 0)
#define SEARCH_RET_MAX (1u << 1)
#define SEARCH_RET_ALL (1u << 2)
#define SEARCH_RET_COUNT (1u << 3)
#define SEARCH_RET_SAVE (1u << 4)

/* search-return-opts = SP "RETURN" SP "(" [search-return-opt
 *                      *(SP search-return-opt)] ")"
 * search-return-opt  = "MIN" / "MAX" / "ALL" / "COUNT" / "SAVE"
 * (RFC 4731 §3.1, RFC 5182 §2; "()" means ALL). Any other option is BAD
 * (RFC 9051 §6.4.4). */
static bool search_parse_return(const struct imap_arg *list_arg, unsigned *opts_r)
{
	static const struct {
		const char *name;
		unsigned bit;
	} opts[] = {
		{ "MIN", SEARCH_RET_MIN }, { "MAX", SEARCH_RET_MAX }, { "ALL", SEARCH_RET_ALL },
		{ "COUNT", SEARCH_RET_COUNT }, { "SAVE", SEARCH_RET_SAVE },
	};
	const struct imap_arg *list;
	size_t count;
	if (!imap_arg_get_list(list_arg, &list, &count))
		return false;
	*opts_r = 0;
	for (size_t i = 0; i < count; i++) {
		size_t k = 0;
		while (k < sizeof(opts) / sizeof(*opts) && !imap_arg_atom_equals(&list[i], opts[k].name))
			k++;
		if (k == sizeof(opts) / sizeof(*opts))
			return false;
		*opts_r |= opts[k].bit;
	}
	if (*opts_r == 0)
		*opts_r = SEARCH_RET_ALL;
	return true;
}

static uint32_t search_number(const struct imap_cmd *cmd, uint32_t idx)
{
	return cmd->uid ? cmd->session->selected->uids[idx] : idx + 1;
}

/* RFC 7162 §3.1.5: with a MODSEQ key, the highest MODSEQ among the
 * messages found (0: none found, nothing to add). */
static uint64_t search_highest_modseq(const struct imap_cmd *cmd,
				      const struct imap_search_program *prog,
				      const uint32_t *matches, size_t count)
{
	uint64_t max = 0;
	for (size_t i = 0; prog->has_modseq && i < count; i++)
		if (cmd->session->selected->modseqs[matches[i]] > max)
			max = cmd->session->selected->modseqs[matches[i]];
	return max;
}

/* mailbox-data =/ "SEARCH" *(SP nz-number)   (RFC 3501 §7.2.5)
 * mailbox-data =/ "SEARCH" [1*(SP nz-number) SP search-sort-mod-seq]
 * search-sort-mod-seq = "(" "MODSEQ" SP mod-sequence-value ")"  (RFC 7162) */
static void search_send_rev1(struct imap_cmd *cmd, const uint32_t *matches, size_t count,
			     uint64_t modseq)
{
	struct buf out = BUF_INIT;
	buf_append_str(&out, "* SEARCH");
	for (size_t i = 0; i < count; i++)
		buf_printf(&out, " %" PRIu32, search_number(cmd, matches[i]));
	if (modseq > 0)
		buf_printf(&out, " (MODSEQ %" PRIu64 ")", modseq);
	buf_append_str(&out, "\r\n");
	imap_send_raw(cmd->session, out.data, out.len);
	buf_free(&out);
}

/* esearch-response = "ESEARCH" [search-correlator] [SP "UID"]
 *                    *(SP search-return-data)     (RFC 4731 §3.1)
 * search-correlator = SP "(" "TAG" SP tag-string ")" */
static void search_send_esearch(struct imap_cmd *cmd, unsigned opts, const uint32_t *matches,
				size_t count, uint64_t modseq)
{
	struct buf out = BUF_INIT;
	/* Tags never hold '"' or '\', so quoting is plain. */
	buf_printf(&out, "* ESEARCH (TAG \"%s\")%s", cmd->tag, cmd->uid ? " UID" : "");
	if ((opts & SEARCH_RET_MIN) && count > 0)
		buf_printf(&out, " MIN %" PRIu32, search_number(cmd, matches[0]));
	if ((opts & SEARCH_RET_MAX) && count > 0)
		buf_printf(&out, " MAX %" PRIu32, search_number(cmd, matches[count - 1]));
	if (opts & SEARCH_RET_COUNT)
		buf_printf(&out, " COUNT %zu", count);
	if ((opts & SEARCH_RET_ALL) && count > 0) {
		struct imap_seqset set = IMAP_SEQSET_INIT;
		for (size_t i = 0; i < count; i++)
			imap_seqset_add(&set, search_number(cmd, matches[i]));
		buf_append_str(&out, " ALL ");
		imap_seqset_format(&set, &out);
		imap_seqset_free(&set);
	}
	/* RFC 7162 §3.1.10 */
	if (modseq > 0)
		buf_printf(&out, " MODSEQ %" PRIu64, modseq);
	buf_append_str(&out, "\r\n");
	imap_send_raw(cmd->session, out.data, out.len);
	buf_free(&out);
}

/* RFC 5182 §2.1 / RFC 9051 §6.4.4.1: "$" holds what MIN/MAX returned when
 * they are the only other options, else every match. Kept as UIDs. */
static void search_save(struct imap_selected *sel, unsigned opts, const uint32_t *matches,
			size_t count)
{
	imap_seqset_clear(&sel->saved);
	bool only_min_max = (opts & (SEARCH_RET_ALL | SEARCH_RET_COUNT)) == 0 &&
			    (opts & (SEARCH_RET_MIN | SEARCH_RET_MAX)) != 0;
	if (count == 0)
		return;
	if (!only_min_max) {
		for (size_t i = 0; i < count; i++)
			imap_seqset_add(&sel->saved, sel->uids[matches[i]]);
		return;
	}
	if (opts & SEARCH_RET_MIN)
		imap_seqset_add(&sel->saved, sel->uids[matches[0]]);
	if (opts & SEARCH_RET_MAX)
		imap_seqset_add(&sel->saved, sel->uids[matches[count - 1]]);
}

/* Runs a parsed program and answers. */
static void search_execute(struct imap_cmd *cmd, struct imap_search_program *prog, unsigned opts,
			   bool esearch)
{
	struct imap_session *s = cmd->session;
	struct imap_selected *sel = s->selected;
	const char *error;
	if (!imap_search_bind(prog, sel, &error)) {
		imap_cmd_bad(cmd, NULL, "%s", error);
		return;
	}
	struct store_user *u = imap_selected_store(s, &error);
	uint32_t *matches = NULL;
	size_t count = 0;
	struct imap_search_stats stats = { 0 };
	enum store_error err = u == NULL ? STORE_ERR_INTERNAL
					 : imap_search_run(prog, u, sel, imap_search_index_enabled(),
							   cmd->arena, &matches, &count, &stats,
							   &error);
	if (err != STORE_OK) {
		if (opts & SEARCH_RET_SAVE)
			imap_seqset_clear(&sel->saved);
		imap_mailbox_answer_store_error(cmd, err, error);
		return;
	}
	log_event(LOG_DEBUG, conn_id(s->conn), "search",
		  " indexed=%u scanned=%u read=%" PRIu32 " matches=%zu", stats.indexed_keys,
		  stats.scanned_keys, stats.messages_read, count);
	if (prog->has_modseq && !(s->enabled & IMAP_ENABLED_CONDSTORE)) {
		/* RFC 7162 §3.1: a CONDSTORE enabling command. */
		s->enabled |= IMAP_ENABLED_CONDSTORE;
		imap_send_untagged(s, "OK [HIGHESTMODSEQ %" PRIu64 "] Highest", sel->highestmodseq);
	}
	uint64_t modseq = search_highest_modseq(cmd, prog, matches, count);
	if (opts & SEARCH_RET_SAVE)
		search_save(sel, opts, matches, count);
	if (!esearch)
		search_send_rev1(cmd, matches, count, modseq);
	else if (opts != SEARCH_RET_SAVE)
		search_send_esearch(cmd, opts, matches, count, modseq);
	imap_cmd_ok(cmd, NULL, "%sSEARCH completed%s", cmd->uid ? "UID " : "",
		    (opts & SEARCH_RET_SAVE) ? ", result saved" : "");
}

/* search = "SEARCH" [search-return-opts] SP search-program
 * uid    = "UID" SP ... search                     (RFC 9051 §9) */
enum imap_cmd_result cmd_search(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	const struct imap_arg *args = cmd->args;
	size_t count = cmd->arg_count;
	unsigned opts = 0;
	bool esearch = (s->enabled & IMAP_ENABLED_IMAP4REV2) != 0;
	/* Without ESEARCH, RETURN is no keyword (an unknown search key); SAVE
	 * is SEARCHRES's (imap-capability.h). */
	if (count > 0 && !imap_cap_hidden(s, IMAP_CAP(ESEARCH)) &&
	    imap_arg_atom_equals(&args[0], "RETURN")) {
		if (count < 2 || !search_parse_return(&args[1], &opts) ||
		    ((opts & SEARCH_RET_SAVE) && imap_cap_hidden(s, IMAP_CAP(SEARCHRES)))) {
			imap_cmd_bad(cmd, NULL, "Invalid RETURN options");
			return IMAP_CMD_DONE;
		}
		esearch = true;
		args += 2;
		count -= 2;
	} else if (esearch) {
		opts = SEARCH_RET_ALL;
	}
	struct imap_search_limits limits;
	imap_search_limits_default(&limits);
	limits.max_bytes = s->cfg->search_size;
	limits.hidden_keys = imap_capability_search_keys_hidden(s);
	struct imap_search_program prog;
	const char *error;
	switch (imap_search_parse(cmd->arena, args, count, &limits, &prog, &error)) {
	case IMAP_SEARCH_PARSE_OK:
		search_execute(cmd, &prog, opts, esearch);
		break;
	case IMAP_SEARCH_PARSE_BADCHARSET:
		/* RFC 9051 §6.4.4: NO, with the charsets we take. */
		if (opts & SEARCH_RET_SAVE)
			imap_seqset_clear(&s->selected->saved);
		imap_cmd_no(cmd, "BADCHARSET (UTF-8 US-ASCII)", "%s", error);
		break;
	case IMAP_SEARCH_PARSE_BAD:
		imap_cmd_bad(cmd, NULL, "%s", error);
		break;
	}
	imap_search_program_free(&prog);
	return IMAP_CMD_DONE;
}
