/* Error reporting, small shared helpers and the change hook. */

#include "store/store-private.h"

#include "lib/arena.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* One message per thread, valid until the next store call in the thread. */
static __thread char store_error_buf[512];

static const char *const store_error_names[] = {
	[STORE_OK] = "OK",
	[STORE_ERR_NONEXISTENT] = "NONEXISTENT",
	[STORE_ERR_ALREADYEXISTS] = "ALREADYEXISTS",
	[STORE_ERR_HASCHILDREN] = "HASCHILDREN",
	[STORE_ERR_NOPERM] = "NOPERM",
	[STORE_ERR_OVERQUOTA] = "OVERQUOTA",
	[STORE_ERR_TOOBIG] = "TOOBIG",
	[STORE_ERR_CANNOT] = "CANNOT",
	[STORE_ERR_INUSE] = "INUSE",
	[STORE_ERR_LIMIT] = "LIMIT",
	[STORE_ERR_INVALID] = "INVALID",
	[STORE_ERR_INTERNAL] = "INTERNAL",
};

const char *store_error_name(enum store_error err)
{
	if ((unsigned)err >= sizeof(store_error_names) / sizeof(store_error_names[0]))
		return "INTERNAL";
	return store_error_names[err];
}

enum store_error store_fail(enum store_error err, const char **error_r,
			    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(store_error_buf, sizeof(store_error_buf), fmt, ap);
	va_end(ap);
	if (error_r != NULL)
		*error_r = store_error_buf;
	return err;
}

enum store_error store_db_fail(struct store_user *u, int rc, const char *what,
			       const char **error_r)
{
	int primary = rc & 0xff;
	struct arena *a = arena_new(0);
	const char *user = u != NULL && u->name != NULL ? u->name : "";
	const char *msg = u != NULL && u->db != NULL ? sqlite3_errmsg(u->db) :
		sqlite3_errstr(rc);
	log_event(LOG_ERROR, NULL, "store_db_error", "user=%s op=%s rc=%d msg=%s",
		  log_str(a, user), log_str(a, what), rc, log_str(a, msg));
	arena_destroy(&a);
	if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
		return store_fail(STORE_ERR_INUSE, error_r,
				  "Mailbox store is busy, try again");
	return store_fail(STORE_ERR_INTERNAL, error_r,
			  "Internal error in the mail store (%s)", what);
}

enum store_error store_sys_fail(const char *what, const char *path,
				int errnum, const char **error_r)
{
	struct arena *a = arena_new(0);
	log_event(LOG_ERROR, NULL, "store_io_error", "op=%s path=%s errno=%s",
		  log_str(a, what), log_str(a, path != NULL ? path : ""),
		  log_str(a, strerror(errnum)));
	arena_destroy(&a);
	if (errnum == EACCES || errnum == EPERM)
		return store_fail(STORE_ERR_NOPERM, error_r,
				  "Permission denied in the mail store (%s)", what);
	if (errnum == ENOSPC || errnum == EDQUOT)
		return store_fail(STORE_ERR_INTERNAL, error_r,
				  "Not enough disk space on the server");
	return store_fail(STORE_ERR_INTERNAL, error_r,
			  "Internal error in the mail store (%s)", what);
}

/* ---- SPECIAL-USE names (RFC 6154 §2) ---- */

static const struct {
	unsigned bit;
	const char *name;
} store_special_uses[] = {
	{ STORE_SPECIAL_ALL, "\\All" },
	{ STORE_SPECIAL_ARCHIVE, "\\Archive" },
	{ STORE_SPECIAL_DRAFTS, "\\Drafts" },
	{ STORE_SPECIAL_FLAGGED, "\\Flagged" },
	{ STORE_SPECIAL_JUNK, "\\Junk" },
	{ STORE_SPECIAL_SENT, "\\Sent" },
	{ STORE_SPECIAL_TRASH, "\\Trash" },
};
#define STORE_SPECIAL_USE_COUNT (sizeof(store_special_uses) / sizeof(store_special_uses[0]))

const char *store_special_use_name(unsigned bit)
{
	for (size_t i = 0; i < STORE_SPECIAL_USE_COUNT; i++) {
		if (store_special_uses[i].bit == bit)
			return store_special_uses[i].name;
	}
	return NULL;
}

bool store_special_use_parse(const char *s, unsigned *bit_r)
{
	for (size_t i = 0; i < STORE_SPECIAL_USE_COUNT; i++) {
		if (strcasecmp(store_special_uses[i].name, s) == 0) {
			*bit_r = store_special_uses[i].bit;
			return true;
		}
	}
	return false;
}

/* ---- Identifiers ---- */

void store_hex(const unsigned char *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 0xf];
	}
	out[2 * len] = '\0';
}

void store_objectid_new(char prefix, char out[STORE_OBJECTID_SIZE])
{
	unsigned char raw[12];
	/* RFC 8474 §5.1: ids must not be guessable from each other; random
	 * 96 bits also make collisions negligible without a lookup. */
	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		log_event(LOG_ERROR, NULL, "store_rand_failed", NULL);
		abort();
	}
	out[0] = prefix;
	store_hex(raw, sizeof(raw), out + 1);
}

/* ---- Change hook ---- */

static store_change_hook_t *store_hook;
static void *store_hook_context;

void store_set_change_hook(store_change_hook_t *hook, void *context)
{
	store_hook = hook;
	store_hook_context = context;
}

void store_change_note(struct store_user *u, uint64_t mailbox_id,
		       enum store_change_kind kind)
{
	for (size_t i = 0; i < u->pending_count; i++) {
		if (u->pending[i].mailbox_id == mailbox_id &&
		    u->pending[i].kind == kind)
			return;
	}
	if (u->pending_count == u->pending_cap) {
		u->pending_cap = u->pending_cap == 0 ? 4 : u->pending_cap * 2;
		u->pending = xrealloc(u->pending,
				      u->pending_cap * sizeof(*u->pending));
	}
	u->pending[u->pending_count].mailbox_id = mailbox_id;
	u->pending[u->pending_count].kind = kind;
	u->pending_count++;
}

void store_change_discard(struct store_user *u)
{
	u->pending_count = 0;
}

void store_change_publish(struct store_user *u)
{
	size_t count = u->pending_count;
	u->pending_count = 0;
	if (store_hook == NULL || count == 0)
		return;
	/* A copy, so that a hook using the handle cannot disturb the loop. */
	struct store_pending_change *pending = xmalloc(count * sizeof(*pending));
	memcpy(pending, u->pending, count * sizeof(*pending));
	for (size_t i = 0; i < count; i++) {
		struct store_change change = {
			.user = u->name,
			.mailbox_id = pending[i].mailbox_id,
			.kind = pending[i].kind,
		};
		store_hook(&change, store_hook_context);
	}
	free(pending);
}
