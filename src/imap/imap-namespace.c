#include "imap/imap-namespace.h"

#include "imap/imap-mailbox-name.h"
#include "lib/arena.h"
#include "store/store.h"

#include <string.h>

/* If name is prefix or starts with prefix + '/', the rest (""
 * when equal), else NULL. */
static const char *imap_namespace_below(const char *name, const char *prefix)
{
	size_t len = strlen(prefix);
	if (strncmp(name, prefix, len) != 0)
		return NULL;
	if (name[len] == '\0')
		return name + len;
	return name[len] == IMAP_MAILBOX_SEP ? name + len + 1 : NULL;
}

bool imap_namespace_reserved(const char *name)
{
	return imap_namespace_below(name, IMAP_NS_OTHER_USERS_ROOT) != NULL ||
	       imap_namespace_below(name, IMAP_NS_PUBLIC_ROOT) != NULL;
}

void imap_namespace_split(const char *full, const char *user, struct arena *a,
			  struct imap_mailbox_ref *ref_r)
{
	const char *rest;
	memset(ref_r, 0, sizeof(*ref_r));
	if ((rest = imap_namespace_below(full, IMAP_NS_PUBLIC_ROOT)) != NULL) {
		ref_r->ns = IMAP_NS_PUBLIC;
		ref_r->owner = STORE_PUBLIC_OWNER;
		ref_r->name = rest[0] != '\0' ? rest : NULL;
		return;
	}
	if ((rest = imap_namespace_below(full, IMAP_NS_OTHER_USERS_ROOT)) != NULL) {
		ref_r->ns = IMAP_NS_OTHER_USERS;
		if (rest[0] == '\0')
			return;
		const char *sep = strchr(rest, IMAP_MAILBOX_SEP);
		if (sep == NULL) {
			ref_r->owner = rest;
			return;
		}
		ref_r->owner = arena_strndup(a, rest, (size_t)(sep - rest));
		ref_r->name = sep + 1;
		return;
	}
	ref_r->ns = IMAP_NS_PERSONAL;
	ref_r->owner = user;
	ref_r->name = full;
}

const char *imap_namespace_join(struct arena *a, const char *user, const char *owner,
				const char *name)
{
	if (strcmp(owner, STORE_PUBLIC_OWNER) == 0)
		return arena_printf(a, "%s%c%s", IMAP_NS_PUBLIC_ROOT, IMAP_MAILBOX_SEP, name);
	if (strcmp(owner, user) == 0)
		return name;
	return arena_printf(a, "%s%c%s%c%s", IMAP_NS_OTHER_USERS_ROOT, IMAP_MAILBOX_SEP, owner,
			    IMAP_MAILBOX_SEP, name);
}
