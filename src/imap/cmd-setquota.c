#include "imap/imap-commands.h"
#include "imap/imap-parser.h"

#include <stdint.h>

/* setquota = "SETQUOTA" SP quota-root-name SP setquota-list   (RFC 9208 7)
 * setquota-list = "(" [setquota-resource *(SP setquota-resource)] ")"
 * setquota-resource = resource-name SP resource-limit
 * resource-name = atom;  resource-limit = number64
 * Only administrators set limits, with petrel user quota; QUOTASET is not
 * advertised (RFC 9208 4.1.3), and a well-formed SETQUOTA gets NO [NOPERM]
 * (RFC 5530 3). */
enum imap_cmd_result cmd_setquota(struct imap_cmd *cmd)
{
	const char *root, *name;
	size_t len, count;
	const struct imap_arg *list;
	uint64_t limit;
	if (cmd->arg_count != 2 || !imap_arg_get_astring(&cmd->args[0], &root, &len) ||
	    !imap_arg_get_list(&cmd->args[1], &list, &count) || count % 2 != 0) {
		imap_cmd_bad(cmd, NULL, "SETQUOTA expects a quota root and a list of limits");
		return IMAP_CMD_DONE;
	}
	for (size_t i = 0; i < count; i += 2) {
		if (!imap_arg_get_atom(&list[i], &name) ||
		    !imap_arg_get_number64(&list[i + 1], &limit)) {
			imap_cmd_bad(cmd, NULL, "SETQUOTA expects resource names and limits");
			return IMAP_CMD_DONE;
		}
	}
	imap_cmd_no(cmd, "NOPERM", "Quota limits are set by the administrator");
	return IMAP_CMD_DONE;
}
