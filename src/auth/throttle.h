#ifndef PETREL_THROTTLE_H
#define PETREL_THROTTLE_H

/* Failed-login throttling by client address and by user name.
 *
 * One table is shared by the whole process (every worker thread); all
 * functions lock its mutex, so they may be called from any thread. Memory
 * is bounded: the table holds at most max_entries keys (addresses and user
 * names together, stored as keyed 64-bit hashes); when it is full the entry
 * updated longest ago is evicted, so a flood of distinct addresses or names
 * cannot grow it.
 *
 * Counting: each key counts failures in a fixed window that starts at its
 * first failure and lasts window_s seconds; after that the entry expires and
 * counting starts again. A key that reached its limit is refused until its
 * window ends.
 *
 * Callers (IMAP LOGIN/AUTHENTICATE, any other login):
 *   if (!throttle_check(t, addr, user, &retry_s)) -> refuse without checking
 *       the password, and do NOT record a failure (the window would never end);
 *   verify the password;
 *   on failure: delay = throttle_record_failure(t, addr, user); answer NO
 *       after delay milliseconds;
 *   on success: throttle_record_success(t, addr, user).
 *
 * Names that do not exist are counted exactly like names that do, so the
 * answers reveal nothing about which users exist. IPv6 addresses are counted
 * per /64 (one host usually owns a whole /64). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Delays grow as fail_delay_ms * 2^(failures-1) up to this factor. */
#define THROTTLE_DELAY_FACTOR_MAX 8
#define THROTTLE_DEFAULT_MAX_ENTRIES 65536

struct throttle_settings {
	unsigned max_failures_per_address;
	unsigned max_failures_per_user;
	unsigned window_s;
	unsigned fail_delay_ms;         /* 0: no delay */
	size_t max_entries;             /* 0: THROTTLE_DEFAULT_MAX_ENTRIES */
	/* Monotonic clock in milliseconds; NULL uses time_mono_ms (tests
	 * substitute a fake clock). */
	uint64_t (*now_ms)(void);
};

struct throttle;

struct throttle *throttle_new(const struct throttle_settings *set);
/* Frees t and sets *t to NULL; no other thread may be using it. */
void throttle_destroy(struct throttle **t);

/* Returns true when a login from address for user may be attempted. When
 * it returns false, *retry_after_s_r (if not NULL) is the number of seconds
 * (at least 1) until the blocking window ends. address or user may be NULL
 * (not known yet / not applicable): that key is then not consulted. */
bool throttle_check(struct throttle *t, const char *address, const char *user,
		    unsigned *retry_after_s_r);
/* Counts one failed login for address and for user; returns how many
 * milliseconds the caller should wait before answering. */
unsigned throttle_record_failure(struct throttle *t, const char *address,
				 const char *user);
/* A successful login clears the user's failures. The address keeps its
 * count: otherwise one valid account would let an attacker reset the
 * address limit between guesses at other accounts. */
void throttle_record_success(struct throttle *t, const char *address,
			     const char *user);

/* Number of live entries (statistics and tests). */
size_t throttle_entry_count(struct throttle *t);

#endif
