#include "imap/imap-access.h"

#include "imap/imap-mailbox-name.h"
#include "imap/imap-selected.h"
#include "imap/imap-session.h"
#include "lib/arena.h"
#include "lib/config.h"

#include <string.h>

void imap_session_identity(const struct imap_session *s, struct store_identity *who_r)
{
	who_r->user = s->user;
	who_r->groups = (const char *const *)s->groups;
	who_r->group_count = s->group_count;
}

static const char imap_access_nonexistent[] = "Mailbox does not exist";

void imap_mailbox_answer_noperm(struct imap_cmd *cmd, unsigned need, unsigned rights)
{
	unsigned missing = need & ~rights;
	char letters[12];
	store_rights_format(missing & -missing, letters);
	imap_cmd_no(cmd, "NOPERM", "Permission denied: the \"%s\" right is needed", letters);
}

/* The rights on a mailbox of a store that is not the session's own. 0,
 * with *exists_r false, when it does not exist (or its owner does not). */
static unsigned imap_access_shared_rights(struct imap_cmd *cmd, struct imap_mailbox *mb,
					  const char *name, bool *exists_r, bool *internal_r)
{
	struct imap_session *s = cmd->session;
	const char *error;
	*internal_r = false;
	*exists_r = false;
	if (mb->ref.ns == IMAP_NS_OTHER_USERS &&
	    !store_user_exists(s->cfg->data_dir, mb->ref.owner))
		return 0;
	mb->store = imap_session_store_of(s, mb->ref.owner, &error);
	if (mb->store == NULL) {
		*internal_r = true;
		return 0;
	}
	struct store_identity who;
	imap_session_identity(s, &who);
	unsigned rights = 0;
	enum store_error err = store_acl_rights(mb->store, name, &who, &rights, &error);
	if (err != STORE_OK && err != STORE_ERR_NONEXISTENT && err != STORE_ERR_INVALID) {
		*internal_r = true;
		imap_mailbox_answer_store_error(cmd, err, error);
	}
	*exists_r = err == STORE_OK;
	return err == STORE_OK ? rights : 0;
}

bool imap_mailbox_access(struct imap_cmd *cmd, const char *full, unsigned need,
			 struct imap_mailbox *mb_r)
{
	struct imap_session *s = cmd->session;
	memset(mb_r, 0, sizeof(*mb_r));
	mb_r->full = full;
	imap_namespace_split(full, s->user, cmd->arena, &mb_r->ref);
	if (mb_r->ref.name == NULL) {
		imap_cmd_no(cmd, "CANNOT", "%s is a namespace, not a mailbox", full);
		return false;
	}
	if (mb_r->ref.ns == IMAP_NS_PERSONAL) {
		const char *error;
		mb_r->store = imap_session_store_of(s, s->user, &error);
		if (mb_r->store == NULL) {
			imap_cmd_no(cmd, "UNAVAILABLE", "Mail store unavailable");
			return false;
		}
		mb_r->rights = STORE_RIGHTS_ALL;
		return true;
	}
	bool internal, exists;
	mb_r->rights = imap_access_shared_rights(cmd, mb_r, mb_r->ref.name, &exists, &internal);
	if (internal) {
		if (!cmd->done)
			imap_cmd_no(cmd, "UNAVAILABLE", "Mail store unavailable");
		return false;
	}
	if ((mb_r->rights & IMAP_RIGHTS_VISIBLE) == 0) {
		imap_cmd_no(cmd, "NONEXISTENT", imap_access_nonexistent);
		return false;
	}
	if ((mb_r->rights & need) != need) {
		imap_mailbox_answer_noperm(cmd, need, mb_r->rights);
		return false;
	}
	return true;
}

bool imap_mailbox_read_access(struct imap_cmd *cmd, const struct imap_arg *arg, unsigned need,
			      struct imap_mailbox *mb_r)
{
	const char *full;
	return imap_mailbox_name_read(cmd, arg, IMAP_MAILBOX_NAME_EXISTING, &full) &&
	       imap_mailbox_access(cmd, full, need, mb_r);
}

bool imap_mailbox_create_access(struct imap_cmd *cmd, const char *full,
				struct imap_mailbox *mb_r)
{
	struct imap_session *s = cmd->session;
	const char *error;
	memset(mb_r, 0, sizeof(*mb_r));
	mb_r->full = full;
	imap_namespace_split(full, s->user, cmd->arena, &mb_r->ref);
	if (mb_r->ref.name == NULL) {
		imap_cmd_no(cmd, "CANNOT", "%s is a namespace, not a mailbox", full);
		return false;
	}
	if (mb_r->ref.ns == IMAP_NS_PERSONAL) {
		if (imap_namespace_reserved(full)) {
			imap_cmd_no(cmd, "CANNOT", "%s is reserved for a namespace", full);
			return false;
		}
		mb_r->store = imap_session_store_of(s, s->user, &error);
		if (mb_r->store == NULL) {
			imap_cmd_no(cmd, "UNAVAILABLE", "Mail store unavailable");
			return false;
		}
		mb_r->rights = STORE_RIGHTS_ALL;
		return true;
	}
	/* Walk up to the nearest superior that exists and is visible; the
	 * answer is NOPERM whether or not the others exist, so CREATE
	 * reveals nothing about invisible names. */
	char *parent = mb_r->ref.name != NULL ? arena_strdup(cmd->arena, mb_r->ref.name) : NULL;
	char *sep;
	while (parent != NULL && (sep = strrchr(parent, IMAP_MAILBOX_SEP)) != NULL) {
		*sep = '\0';
		bool internal, exists;
		unsigned rights = imap_access_shared_rights(cmd, mb_r, parent, &exists, &internal);
		if (internal) {
			if (!cmd->done)
				imap_cmd_no(cmd, "UNAVAILABLE", "Mail store unavailable");
			return false;
		}
		if (!exists)
			continue;
		if ((rights & STORE_RIGHT_CREATE) == 0)
			break;
		mb_r->rights = rights;
		return true;
	}
	imap_cmd_no(cmd, "NOPERM", "Permission denied: the \"k\" right on the parent is needed");
	return false;
}

struct store_user *imap_selected_store(struct imap_session *s, const char **error_r)
{
	struct imap_selected *sel = s->selected;
	struct store_user *u = imap_session_store_of(s, sel->owner, error_r);
	if (u == NULL || !sel->shared)
		return u;
	/* RFC 4314 §5.1.1 lets a server keep the rights read at SELECT; ours
	 * follow SETACL from the next command, as LIST and SELECT do. */
	struct store_identity who;
	unsigned rights;
	const char *error;
	imap_session_identity(s, &who);
	if (store_acl_rights(u, sel->name, &who, &rights, &error) == STORE_OK)
		sel->rights = rights;
	else
		sel->rights = 0; /* deleted meanwhile: nothing may change */
	return u;
}
