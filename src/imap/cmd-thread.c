#include "imap/imap-capability.h"
#include "imap/imap-commands.h"
#include "imap/imap-parser.h"
#include "imap/imap-sort.h"
#include "imap/imap-thread.h"

/* thread = ["UID" SP] "THREAD" SP thread-alg SP search-criteria
 * thread-alg = "ORDEREDSUBJECT" / "REFERENCES"     (RFC 5256 §5) */
enum imap_cmd_result cmd_thread(struct imap_cmd *cmd)
{
	bool references;
	/* An algorithm hidden from the session is unknown to it. */
	const struct imap_session *s = cmd->session;
	if (cmd->arg_count >= 1 && imap_arg_atom_equals(&cmd->args[0], "REFERENCES") &&
	    !imap_cap_hidden(s, IMAP_CAP(THREAD_REFERENCES))) {
		references = true;
	} else if (cmd->arg_count >= 1 && imap_arg_atom_equals(&cmd->args[0], "ORDEREDSUBJECT") &&
		   !imap_cap_hidden(s, IMAP_CAP(THREAD_ORDEREDSUBJECT))) {
		references = false;
	} else {
		imap_cmd_bad(cmd, NULL, "THREAD expects ORDEREDSUBJECT or REFERENCES");
		return IMAP_CMD_DONE;
	}
	/* Both algorithms compare base subjects and sent dates; REFERENCES
	 * also reads the id headers. RFC 7162 §3.1.9: a MODSEQ key leaves
	 * THREAD's answer unchanged. */
	unsigned need = IMAP_SORT_NEED_DATE | IMAP_SORT_NEED_SUBJECT |
			(references ? IMAP_SORT_NEED_THREAD : 0);
	struct imap_sort_set set;
	if (!imap_sort_search(cmd, cmd->args + 1, cmd->arg_count - 1, need, &set))
		return IMAP_CMD_DONE;
	struct buf line = BUF_INIT;
	buf_append_str(&line, "THREAD");
	if (set.count > 0)
		buf_append_char(&line, ' ');
	if (references)
		imap_thread_references(cmd, set.msgs, set.count, &line);
	else
		imap_thread_orderedsubject(cmd, set.msgs, set.count, &line);
	imap_send_untagged(cmd->session, "%s", buf_cstr(&line));
	buf_free(&line);
	imap_cmd_ok(cmd, NULL, "%sTHREAD completed", cmd->uid ? "UID " : "");
	return IMAP_CMD_DONE;
}
