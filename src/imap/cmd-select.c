#include "imap/imap-access.h"
#include "imap/imap-capability.h"
#include "imap/imap-commands.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "imap/imap-qresync.h"
#include "imap/imap-selected.h"
#include "lib/log.h"
#include "net/conn.h"

#include <string.h>

/* Closes the current mailbox without expunging (SELECT of another mailbox,
 * UNSELECT). */
void imap_session_unselect(struct imap_session *s)
{
	imap_selected_free(&s->selected);
	s->state = IMAP_STATE_AUTH;
}

struct select_params {
	bool condstore;
	bool qresync;
	uint32_t uidvalidity;
	uint64_t modseq;
	struct imap_seqset_spec known;    /* known-uids, when given */
	bool has_known;
	struct imap_qresync_match match;  /* seq-match-data, when given */
	bool has_match;
};

static void select_params_free(struct select_params *p)
{
	if (p->has_known)
		imap_seqset_spec_free(&p->known);
	imap_seqset_free(&p->match.seqs);
	imap_seqset_free(&p->match.uids);
}

static bool select_parse_set(const struct imap_arg *arg, struct imap_seqset *set_r)
{
	const char *text, *error;
	struct imap_seqset_spec spec;
	if (!imap_arg_get_atom(arg, &text) || !imap_seqset_parse(text, strlen(text), 0, &spec, &error))
		return false;
	bool ok = !spec.has_star && !spec.dollar;
	if (ok)
		imap_seqset_copy(set_r, &spec.set);
	imap_seqset_spec_free(&spec);
	return ok;
}

/* "QRESYNC" SP "(" uidvalidity SP mod-sequence-value [SP known-uids]
 *     [SP seq-match-data] ")"
 * seq-match-data = "(" known-sequence-set SP known-uid-set ")"
 * (RFC 7162 §7) */
static bool select_parse_qresync(const struct imap_arg *arg, struct select_params *p)
{
	const struct imap_arg *list, *match;
	size_t count, mcount;
	const char *error;
	if (!imap_arg_get_list(arg, &list, &count) || count < 2 || count > 4 ||
	    !imap_arg_get_nz_number(&list[0], &p->uidvalidity) ||
	    !imap_arg_get_number64(&list[1], &p->modseq) || p->modseq == 0)
		return false;
	size_t i = 2;
	const char *text;
	if (i < count && imap_arg_get_atom(&list[i], &text)) {
		if (!imap_seqset_parse(text, strlen(text), 0, &p->known, &error) || p->known.dollar)
			return false;
		p->has_known = true;
		i++;
	}
	if (i < count) {
		if (!imap_arg_get_list(&list[i], &match, &mcount) || mcount != 2 ||
		    !select_parse_set(&match[0], &p->match.seqs) ||
		    !select_parse_set(&match[1], &p->match.uids) ||
		    imap_seqset_count(&p->match.seqs) != imap_seqset_count(&p->match.uids))
			return false;
		p->has_match = true;
		i++;
	}
	return i == count;
}

/* select-params = SP "(" select-param *(SP select-param) ")"
 * select-param = "CONDSTORE" / "QRESYNC" SP "(" ... ")" */
static bool select_parse_params(struct imap_cmd *cmd, struct select_params *p,
				const char **error_r)
{
	const struct imap_arg *list;
	size_t count;
	*error_r = "Invalid SELECT parameters";
	if (cmd->arg_count == 1)
		return true;
	if (cmd->arg_count != 2 || !imap_arg_get_list(&cmd->args[1], &list, &count) || count == 0)
		return false;
	for (size_t i = 0; i < count; i++) {
		if (imap_arg_atom_equals(&list[i], "CONDSTORE") && !p->condstore &&
		    !imap_cap_hidden(cmd->session, IMAP_CAP(CONDSTORE))) {
			p->condstore = true;
		} else if (imap_arg_atom_equals(&list[i], "QRESYNC") && !p->qresync && i + 1 < count) {
			if (!(cmd->session->enabled & IMAP_ENABLED_QRESYNC)) {
				*error_r = "QRESYNC must be enabled first (RFC 7162 §3.2.5)";
				return false;
			}
			if (!select_parse_qresync(&list[++i], p))
				return false;
			p->qresync = true;
		} else {
			return false;
		}
	}
	return true;
}

/* RFC 7162 §3.2.5.1: with a matching UIDVALIDITY, what changed since the
 * client's MODSEQ, as if it had sent UID FETCH known (FLAGS) (CHANGEDSINCE
 * modseq VANISHED). */
static bool select_qresync(struct imap_cmd *cmd, struct select_params *p)
{
	struct imap_selected *sel = cmd->session->selected;
	if (p->uidvalidity != sel->uidvalidity)
		return true;
	struct imap_seqset known = IMAP_SEQSET_INIT;
	uint32_t maxuid = sel->uidnext > 1 ? sel->uidnext - 1 : 0;
	if (p->has_known)
		imap_seqset_resolve(&p->known, maxuid, NULL, &known);
	else if (maxuid > 0)
		imap_seqset_add_range(&known, 1, maxuid);
	struct store_changes ch;
	bool ok = imap_qresync_changes(cmd, p->modseq, &ch);
	if (ok) {
		imap_qresync_send_vanished(cmd, &ch, &known, p->has_match ? &p->match : NULL);
		imap_qresync_send_changes(cmd, &ch, &known);
	}
	imap_seqset_free(&known);
	return ok;
}

#define SELECT_WRITE_RIGHTS                                                  \
	(STORE_RIGHT_INSERT | STORE_RIGHT_EXPUNGE | STORE_RIGHT_SEEN | STORE_RIGHT_WRITE | \
	 STORE_RIGHT_DELETED)

/* select = "SELECT" SP mailbox [select-params]
 * examine = "EXAMINE" SP mailbox [select-params]   (RFC 9051 §6.3.2-3) */
static enum imap_cmd_result select_or_examine(struct imap_cmd *cmd, bool readonly)
{
	struct imap_session *s = cmd->session;
	const char *name, *params_error = NULL;
	struct select_params params = { .match = { IMAP_SEQSET_INIT, IMAP_SEQSET_INIT } };
	if (cmd->arg_count < 1 || !select_parse_params(cmd, &params, &params_error)) {
		select_params_free(&params);
		imap_cmd_bad(cmd, NULL, "%s", cmd->arg_count < 1 ? "Mailbox name expected" : params_error);
		return IMAP_CMD_DONE;
	}
	if (!imap_mailbox_name_read(cmd, &cmd->args[0], IMAP_MAILBOX_NAME_EXISTING, &name)) {
		select_params_free(&params);
		return IMAP_CMD_DONE;
	}
	if (params.condstore)
		s->enabled |= IMAP_ENABLED_CONDSTORE; /* RFC 7162 §3.1.8 */
	/* RFC 9051 §6.3.2: selecting closes the current mailbox first, even
	 * when the new SELECT fails; [CLOSED] marks where the old mailbox's
	 * responses end. */
	cmd->no_sync = true;
	if (s->selected != NULL) {
		imap_session_unselect(s);
		imap_send_untagged(s, "OK [CLOSED] Previous mailbox closed");
	}
	const char *error;
	struct imap_mailbox mb;
	if (!imap_mailbox_access(cmd, name, STORE_RIGHT_READ, &mb)) {
		select_params_free(&params);
		return IMAP_CMD_DONE;
	}
	/* RFC 4314 §5.2: read-only unless some change is allowed. */
	if ((mb.rights & SELECT_WRITE_RIGHTS) == 0)
		readonly = true;
	struct imap_selected *sel;
	enum store_error err = imap_selected_open(s, mb.store, mb.ref.name, readonly, &sel, &error);
	if (err != STORE_OK) {
		select_params_free(&params);
		imap_mailbox_answer_store_error(cmd, err, error);
		return IMAP_CMD_DONE;
	}
	sel->rights = mb.rights;
	s->selected = sel;
	s->state = IMAP_STATE_SELECTED;
	imap_selected_send_state(cmd, mb.store);
	bool ok = !params.qresync || select_qresync(cmd, &params);
	select_params_free(&params);
	if (ok)
		imap_cmd_ok(cmd, readonly ? "READ-ONLY" : "READ-WRITE", "%s completed", cmd->name);
	return IMAP_CMD_DONE;
}

enum imap_cmd_result cmd_select(struct imap_cmd *cmd)
{
	return select_or_examine(cmd, false);
}

enum imap_cmd_result cmd_examine(struct imap_cmd *cmd)
{
	return select_or_examine(cmd, true);
}
