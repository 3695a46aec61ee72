/* Per-worker-thread resources of LMTP sessions (DESIGN.md §3): a bounded
 * cache of open user stores and one user database connection. */

#include "lmtp/lmtp-private.h"
#include "lmtp/lmtp-session.h"

#include "auth/userdb.h"
#include "lib/config.h"
#include "lib/log.h"
#include "net/server.h"

#include <stdlib.h>

#define LMTP_STORE_CACHE_HANDLES 32

static _Thread_local struct store_cache *lmtp_store_cache;
static _Thread_local struct userdb *lmtp_userdb;

void lmtp_worker_init(struct worker *w)
{
	(void)w;
	lmtp_store_cache = store_cache_new(server_config()->data_dir, LMTP_STORE_CACHE_HANDLES);
}

void lmtp_worker_deinit(struct worker *w)
{
	(void)w;
	store_cache_destroy(&lmtp_store_cache);
	if (lmtp_userdb != NULL)
		userdb_close(&lmtp_userdb);
}

struct userdb *lmtp_worker_userdb(void)
{
	if (lmtp_userdb != NULL)
		return lmtp_userdb;
	char *error = NULL;
	if (!userdb_open(server_config()->data_dir, NULL, &lmtp_userdb, &error, NULL)) {
		log_event(LOG_ERROR, NULL, "lmtp_userdb_open_failed", "error=\"%s\"",
			  error != NULL ? error : "");
		free(error);
		lmtp_userdb = NULL;
	}
	return lmtp_userdb;
}

enum store_error lmtp_worker_store(const char *user, struct store_user **u_r,
				   const char **error_r)
{
	return store_cache_get(lmtp_store_cache, user, u_r, error_r);
}
