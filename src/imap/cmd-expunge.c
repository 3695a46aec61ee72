#include "imap/imap-access.h"
#include "imap/imap-commands.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "imap/imap-selected.h"

#include <stdio.h>

/* expunge = "EXPUNGE"                       (RFC 9051 §6.4.3)
 * uid-expunge = "UID" SP "EXPUNGE" SP sequence-set   (RFC 4315 §2.1) */
enum imap_cmd_result cmd_expunge(struct imap_cmd *cmd)
{
	struct imap_session *s = cmd->session;
	struct imap_selected *sel = s->selected;
	const char *atom, *error;
	struct imap_seqset uids = IMAP_SEQSET_INIT;
	if (cmd->arg_count != (cmd->uid ? 1u : 0u) ||
	    (cmd->uid && (!imap_arg_get_atom(&cmd->args[0], &atom) ||
			  !imap_selected_parse_set(sel, atom, true, &uids, &error)))) {
		imap_seqset_free(&uids);
		imap_cmd_bad(cmd, NULL, cmd->uid ? "UID EXPUNGE expects a UID set"
						 : "EXPUNGE takes no arguments");
		return IMAP_CMD_DONE;
	}
	if (sel->readonly) {
		imap_seqset_free(&uids);
		imap_cmd_no(cmd, NULL, "Mailbox is read-only");
		return IMAP_CMD_DONE;
	}
	struct store_user *u = imap_selected_store(s, &error);
	if (u != NULL && !(sel->rights & STORE_RIGHT_EXPUNGE)) {
		imap_seqset_free(&uids);
		imap_mailbox_answer_noperm(cmd, STORE_RIGHT_EXPUNGE, sel->rights);
		return IMAP_CMD_DONE;
	}
	size_t range_count = 0;
	const struct store_uid_range *ranges = NULL;
	if (cmd->uid) {
		ranges = imap_selected_ranges(cmd, &uids, &range_count);
		if (range_count == 0) {
			imap_seqset_free(&uids);
			imap_cmd_ok(cmd, NULL, "UID EXPUNGE completed");
			return IMAP_CMD_DONE;
		}
	}
	uint32_t *expunged;
	size_t count;
	uint64_t modseq;
	/* For another's store (\Seen may be the reader's own) it always reads. */
	uint64_t seq_before = u == NULL || sel->shared ? 0 : store_user_commit_seq(u);
	enum store_error err = u == NULL ? STORE_ERR_INTERNAL
				 : store_msg_expunge_modseq(u, sel->mailbox_id, ranges, range_count,
							    cmd->arena, &expunged, &count, &modseq,
							    &error);
	imap_seqset_free(&uids);
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return IMAP_CMD_DONE;
	}
	imap_selected_remove_expunged(s, expunged, count, true);
	if (count > 0)
		(void)imap_selected_own_commit(sel, u, seq_before, modseq);
	if (count > 0 && (s->enabled & IMAP_ENABLED_QRESYNC)) {
		/* RFC 7162 §3.2.7: the new HIGHESTMODSEQ in the tagged OK, once
		 * the client has been told everything up to it. */
		imap_selected_sync(s, true);
		char code[48];
		snprintf(code, sizeof(code), "HIGHESTMODSEQ %llu",
			 (unsigned long long)sel->highestmodseq);
		imap_cmd_ok(cmd, code, "%sEXPUNGE completed", cmd->uid ? "UID " : "");
		return IMAP_CMD_DONE;
	}
	imap_cmd_ok(cmd, NULL, "%sEXPUNGE completed", cmd->uid ? "UID " : "");
	return IMAP_CMD_DONE;
}
