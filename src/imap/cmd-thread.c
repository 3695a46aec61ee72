#include "imap/imap-commands.h"
#include "imap/imap-parser.h"
#include "imap/imap-sort.h"
#include "imap/imap-thread.h"

/* thread = ["UID" SP] "THREAD" SP thread-alg SP search-criteria
 * thread-alg = "ORDEREDSUBJECT" / "REFERENCES"     (RFC 5256 §5) */
enum imap_cmd_result cmd_thread(struct imap_cmd *cmd)
{
	bool references;
	if (cmd->arg_count >= 1 && imap_arg_atom_equals(&cmd->args[0], "REFERENCES")) {
		references = true;
	} else if (cmd->arg_count >= 1 && imap_arg_atom_equals(&cmd->args[0], "ORDEREDSUBJECT")) {
		references = false;
	} else {
		imap_cmd_bad(cmd, NULL, "THREAD expects ORDEREDSUBJECT or REFERENCES");
		return IMAP_CMD_DONE;
	}
	struct imap_sort_msg *msgs;
	size_t count;
	if (!imap_sort_search(cmd, cmd->args + 1, cmd->arg_count - 1, &msgs, &count))
		return IMAP_CMD_DONE;
	struct buf line = BUF_INIT;
	buf_append_str(&line, "THREAD");
	if (count > 0)
		buf_append_char(&line, ' ');
	if (references)
		imap_thread_references(cmd, msgs, count, &line);
	else
		imap_thread_orderedsubject(cmd, msgs, count, &line);
	imap_send_untagged(cmd->session, "%s", buf_cstr(&line));
	buf_free(&line);
	imap_cmd_ok(cmd, NULL, "%sTHREAD completed", cmd->uid ? "UID " : "");
	return IMAP_CMD_DONE;
}
