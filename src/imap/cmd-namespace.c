#include "imap/imap-commands.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-namespace.h"

/* namespace = "NAMESPACE"   (RFC 2342 5)
 * namespace-response = "NAMESPACE" SP namespace SP namespace SP namespace
 * Personal (prefix ""), other users ("Other Users/", then the owner's name)
 * and public folders ("Public Folders/"), all with "/" as the delimiter
 * (imap-namespace.h). The prefixes are plain ASCII, the same in modified
 * UTF-7 and UTF-8. */
enum imap_cmd_result cmd_namespace(struct imap_cmd *cmd)
{
	if (cmd->arg_count != 0) {
		imap_cmd_bad(cmd, NULL, "NAMESPACE takes no arguments");
		return IMAP_CMD_DONE;
	}
	imap_send_untagged(cmd->session,
			   "NAMESPACE ((\"\" \"%c\")) ((\"%s%c\" \"%c\")) ((\"%s%c\" \"%c\"))",
			   IMAP_MAILBOX_SEP, IMAP_NS_OTHER_USERS_ROOT, IMAP_MAILBOX_SEP,
			   IMAP_MAILBOX_SEP, IMAP_NS_PUBLIC_ROOT, IMAP_MAILBOX_SEP,
			   IMAP_MAILBOX_SEP);
	imap_cmd_ok(cmd, NULL, "NAMESPACE completed");
	return IMAP_CMD_DONE;
}
