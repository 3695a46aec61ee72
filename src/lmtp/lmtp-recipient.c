#include "lmtp/lmtp-recipient.h"

#include "lib/arena.h"
#include "lmtp/lmtp-address.h"

#include <string.h>

/* Looks name up as given, then lower-cased. */
static enum userdb_result lmtp_recipient_try(struct userdb *db, struct arena *a, const char *name,
					     const char **user_r, const char **error_r)
{
	if (!userdb_name_valid(name, error_r))
		return USERDB_NOT_FOUND;
	enum userdb_result r = userdb_exists(db, name, error_r);
	if (r == USERDB_OK)
		*user_r = name;
	if (r != USERDB_NOT_FOUND)
		return r;
	char *lower = arena_strdup(a, name);
	bool changed = false;
	for (char *p = lower; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z') {
			*p = (char)(*p - 'A' + 'a');
			changed = true;
		}
	}
	if (!changed)
		return USERDB_NOT_FOUND;
	r = userdb_exists(db, lower, error_r);
	if (r == USERDB_OK)
		*user_r = lower;
	return r;
}

/* local@domain, then local. */
static enum userdb_result lmtp_recipient_try_local(struct userdb *db, struct arena *a,
						   const char *local, const char *domain,
						   const char **user_r, const char **error_r)
{
	enum userdb_result r = USERDB_NOT_FOUND;
	if (domain != NULL)
		r = lmtp_recipient_try(db, a, arena_printf(a, "%s@%s", local, domain), user_r,
				       error_r);
	if (r == USERDB_NOT_FOUND)
		r = lmtp_recipient_try(db, a, local, user_r, error_r);
	return r;
}

enum userdb_result lmtp_recipient_resolve(struct userdb *db, struct arena *a,
					  const struct lmtp_path *path,
					  struct lmtp_recipient *rcpt_r, const char **error_r)
{
	rcpt_r->detail = NULL;
	enum userdb_result r = lmtp_recipient_try_local(db, a, path->local, path->domain,
							&rcpt_r->user, error_r);
	if (r != USERDB_NOT_FOUND)
		return r;
	const char *base, *detail;
	lmtp_address_split_detail(a, path->local, &base, &detail);
	if (base == path->local)
		return USERDB_NOT_FOUND;
	r = lmtp_recipient_try_local(db, a, base, path->domain, &rcpt_r->user, error_r);
	if (r == USERDB_OK)
		rcpt_r->detail = detail;
	return r;
}
