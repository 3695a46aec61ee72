#include "imap/imap-commands.h"
#include "imap/imap-mailbox-name.h"

/* namespace = "NAMESPACE"   (RFC 2342 5)
 * namespace-response = "NAMESPACE" SP namespace SP namespace SP namespace
 * One personal namespace with an empty prefix and "/" as the delimiter; no
 * other users' or shared namespaces yet. */
enum imap_cmd_result cmd_namespace(struct imap_cmd *cmd)
{
	if (cmd->arg_count != 0) {
		imap_cmd_bad(cmd, NULL, "NAMESPACE takes no arguments");
		return IMAP_CMD_DONE;
	}
	imap_send_untagged(cmd->session, "NAMESPACE ((\"\" \"%c\")) NIL NIL",
			   IMAP_MAILBOX_SEP);
	imap_cmd_ok(cmd, NULL, "NAMESPACE completed");
	return IMAP_CMD_DONE;
}
