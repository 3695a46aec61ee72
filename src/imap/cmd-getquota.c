#include "imap/imap-access.h"
#include "imap/imap-commands.h"
#include "imap/imap-namespace.h"
#include "imap/imap-parser.h"
#include "lib/buf.h"
#include "mime/mime-imapstr.h"
#include "store/store.h"

#include <inttypes.h>
#include <string.h>

/* QUOTA (RFC 9208). Each user has one quota root, named "", over all of
 * the user's mailboxes, and the public folders share one, named "Public
 * Folders", with the resources STORAGE (KiB) and MESSAGE. Limits are set
 * by the administrator (petrel user quota, petrel public quota); SETQUOTA
 * is refused (cmd-setquota.c). */

/* quota-response = "QUOTA" SP quota-root-name SP quota-list
 * quota-list     = "(" quota-resource *(SP quota-resource) ")"
 * quota-resource = resource-name SP resource-usage SP resource-limit
 * Only limited resources are listed (RFC 9208 4.2.1: an empty list means
 * no limits). STORAGE usage is rounded up to whole KiB, so it exceeds the
 * limit exactly when the bytes exceed limit * 1024. */
void cmd_quota_send(struct imap_cmd *cmd, const char *root, const struct store_quota *q)
{
	struct buf line = BUF_INIT;
	buf_append_str(&line, "* QUOTA ");
	mime_imapstr_append_astring(&line, root, strlen(root));
	buf_append_str(&line, " (");
	if (q->has_storage_limit)
		buf_printf(&line, "STORAGE %" PRIu64 " %" PRIu64,
			   q->storage_bytes / 1024 + (q->storage_bytes % 1024 != 0),
			   q->storage_limit_kib);
	if (q->has_message_limit)
		buf_printf(&line, "%sMESSAGE %" PRIu64 " %" PRIu64,
			   q->has_storage_limit ? " " : "", q->messages, q->message_limit);
	buf_append_str(&line, ")\r\n");
	imap_send_raw(cmd->session, line.data, line.len);
	buf_free(&line);
}

/* Reads the usage and limits of owner's store (the session user's or
 * STORE_PUBLIC_OWNER); answers the command and returns false when the
 * store fails. */
bool cmd_quota_get(struct imap_cmd *cmd, const char *owner, struct store_quota *quota_r)
{
	const char *error;
	struct store_user *u = imap_session_store_of(cmd->session, owner, &error);
	if (u == NULL) {
		imap_cmd_no(cmd, "UNAVAILABLE", "Mail store unavailable");
		return false;
	}
	enum store_error err = store_quota_get(u, quota_r, &error);
	if (err != STORE_OK) {
		imap_cmd_no(cmd, err == STORE_ERR_INUSE ? "INUSE" : "SERVERBUG",
			    "Cannot read the quota");
		return false;
	}
	return true;
}

/* getquota = "GETQUOTA" SP quota-root-name     (RFC 9208 7)
 * quota-root-name = astring */
enum imap_cmd_result cmd_getquota(struct imap_cmd *cmd)
{
	const char *root;
	size_t len;
	if (cmd->arg_count != 1 || !imap_arg_get_astring(&cmd->args[0], &root, &len)) {
		imap_cmd_bad(cmd, NULL, "GETQUOTA expects a quota root name");
		return IMAP_CMD_DONE;
	}
	const char *owner = len == 0 ? cmd->session->user :
		strcmp(root, IMAP_NS_PUBLIC_ROOT) == 0 ? STORE_PUBLIC_OWNER : NULL;
	if (owner == NULL) {
		/* RFC 9208 4.1.1: NO for a quota root that does not exist. */
		imap_cmd_no(cmd, "NONEXISTENT", "No such quota root");
		return IMAP_CMD_DONE;
	}
	struct store_quota q;
	if (!cmd_quota_get(cmd, owner, &q))
		return IMAP_CMD_DONE;
	cmd_quota_send(cmd, root, &q);
	imap_cmd_ok(cmd, NULL, "GETQUOTA completed");
	return IMAP_CMD_DONE;
}
