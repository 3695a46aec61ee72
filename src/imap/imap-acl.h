#ifndef PETREL_IMAP_ACL_H
#define PETREL_IMAP_ACL_H

/* Pieces shared by the ACL commands (RFC 4314 §3): reading an identifier,
 * telling the owner's identifier apart, writing the responses. */

#include <stdbool.h>

struct buf;
struct imap_arg;
struct imap_cmd;
struct imap_mailbox;

/* identifier = astring. Empty, or with NUL or control characters: BAD
 * (RFC 4314 §3: a failed preparation or an empty string is BAD). */
bool imap_acl_read_identifier(struct imap_cmd *cmd, const struct imap_arg *arg,
			      const char **identifier_r);

/* imap_mailbox_access for the ACL commands, which also need the mailbox
 * to exist in the personal namespace (NO [NONEXISTENT] otherwise). */
bool imap_acl_access(struct imap_cmd *cmd, const char *full, unsigned need,
		     struct imap_mailbox *mb_r);

/* True when identifier names the owner of mb's personal store: the owner
 * always has every right, which cannot be changed. */
bool imap_acl_names_owner(const struct imap_mailbox *mb, const char *identifier);

/* "<TYPE> mailbox" into out: the start of every ACL response. */
void imap_acl_response_start(struct imap_cmd *cmd, struct buf *out, const char *type,
			     const struct imap_mailbox *mb);

/* rights = astring: the letters, or "" when there are none. */
void imap_acl_append_rights(struct buf *out, const char *letters);

#endif
