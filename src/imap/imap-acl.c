#include "imap/imap-acl.h"

#include "imap/imap-access.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-parser.h"
#include "imap/imap-session.h"
#include "lib/buf.h"
#include "mime/mime-imapstr.h"

#include <string.h>

bool imap_acl_read_identifier(struct imap_cmd *cmd, const struct imap_arg *arg,
			      const char **identifier_r)
{
	const char *data;
	size_t len;
	if (!imap_arg_get_astring(arg, &data, &len)) {
		imap_cmd_bad(cmd, NULL, "Identifier must be an atom or a string");
		return false;
	}
	bool ok = len > 0 && !(len == 1 && data[0] == '-');
	for (size_t i = 0; ok && i < len; i++)
		ok = (unsigned char)data[i] >= 0x20 && data[i] != 0x7f;
	if (!ok) {
		imap_cmd_bad(cmd, NULL, "Invalid identifier");
		return false;
	}
	*identifier_r = data;
	return true;
}

bool imap_acl_access(struct imap_cmd *cmd, const char *full, unsigned need,
		     struct imap_mailbox *mb_r)
{
	if (!imap_mailbox_access(cmd, full, need, mb_r))
		return false;
	if (mb_r->ref.ns != IMAP_NS_PERSONAL)
		return true;
	struct store_identity who;
	unsigned rights;
	const char *error;
	imap_session_identity(cmd->session, &who);
	enum store_error err = store_acl_rights(mb_r->store, mb_r->ref.name, &who, &rights, &error);
	if (err != STORE_OK) {
		imap_mailbox_answer_store_error(cmd, err, error);
		return false;
	}
	return true;
}

bool imap_acl_names_owner(const struct imap_mailbox *mb, const char *identifier)
{
	return mb->ref.ns != IMAP_NS_PUBLIC && strcmp(identifier, mb->ref.owner) == 0;
}

void imap_acl_response_start(struct imap_cmd *cmd, struct buf *out, const char *type,
			     const struct imap_mailbox *mb)
{
	buf_append_str(out, type);
	buf_append_char(out, ' ');
	imap_mailbox_name_append(out, mb->full, imap_mailbox_utf8(cmd->session));
}

void imap_acl_append_rights(struct buf *out, const char *letters)
{
	if (letters[0] == '\0')
		buf_append_str(out, "\"\"");
	else
		buf_append_str(out, letters);
}
