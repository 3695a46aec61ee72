#ifndef PETREL_CTL_TRACE_H
#define PETREL_CTL_TRACE_H

/* Protocol tracing (DESIGN.md §7, docs/protocol-log.md): which sessions are
 * traced (rules set at run time by `petrel ctl trace`), and the writer of
 * one session's trace file.
 *
 * Rules are process-wide and thread-safe. Every change bumps a generation
 * number; a session compares it with the one it last saw at each command
 * boundary, so tracing that is off costs one atomic load per command.
 *
 * A struct ctl_trace belongs to one session and is used on that session's
 * thread only. It knows enough of IMAP's framing to cut the byte streams
 * into lines, follow literals ({n}, {n+}, ~{n}; a synchronising literal only
 * once the server has sent its "+" continuation), shorten literals to the
 * configured size, and mask secrets whatever their form: every argument of
 * LOGIN after the user name, an AUTHENTICATE initial response, and every
 * line sent while AUTHENTICATE runs. Masking is decided here from the bytes
 * themselves, not by command handlers, so that no handler can forget it. */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/cidr.h"

/* --- Settings (set once at start-up, before any session) ----------------- */

/* dir: where traces go (data_dir/trace by default); literal_bytes: literal
 * bytes kept when a rule does not say; max_age_s: traces older than this
 * are removed by ctl_trace_cleanup(). Copies dir. */
void ctl_trace_configure(const char *dir, size_t literal_bytes, unsigned max_age_s);
void ctl_trace_deconfigure(void);
const char *ctl_trace_dir(void);
size_t ctl_trace_default_literal_bytes(void);

/* Removes trace files last written more than max_age_s before now, and
 * the day and user directories left empty. Returns the files removed. */
unsigned ctl_trace_cleanup(uint64_t now_ms);

/* The directory holding traces of sessions that have not logged in (a name
 * no user can have: user names cannot start with '.'). */
#define CTL_TRACE_PREAUTH_DIR ".preauth"

/* --- Rules --------------------------------------------------------------- */

enum ctl_trace_match {
	CTL_TRACE_MATCH_USER,
	CTL_TRACE_MATCH_ADDRESS,
	CTL_TRACE_MATCH_ALL,
};

#define CTL_TRACE_RULES_MAX 64
#define CTL_TRACE_VALUE_MAX 128

struct ctl_trace_rule {
	enum ctl_trace_match match;
	char value[CTL_TRACE_VALUE_MAX];  /* user name or CIDR text; "" for ALL */
	struct cidr cidr;                 /* ADDRESS */
	uint64_t expires_ms;              /* wall clock; 0 = until switched off */
	size_t literal_bytes;
};

/* Adds rule, or replaces the rule with the same match and value. */
bool ctl_trace_rule_set(const struct ctl_trace_rule *rule, const char **error_r);
/* Removes the rule with this match and value; false when there is none. */
bool ctl_trace_rule_clear(enum ctl_trace_match match, const char *value);
/* Copies up to max rules into out; returns how many there are. */
size_t ctl_trace_rules_copy(struct ctl_trace_rule *out, size_t max);
/* Drops rules whose time is up (called about once a second). */
void ctl_trace_rules_expire(uint64_t now_ms);
/* True when a rule covers a session of user (NULL before login) from ip;
 * *literal_bytes_r is the largest literal size of the covering rules. */
bool ctl_trace_rules_match(const char *user, const char *ip, size_t *literal_bytes_r);

extern _Atomic unsigned ctl_trace_rules_generation;
extern _Atomic unsigned ctl_trace_rules_count;

static inline unsigned ctl_trace_generation(void)
{
	return atomic_load_explicit(&ctl_trace_rules_generation, memory_order_acquire);
}

/* --- One session's trace --------------------------------------------------- */

struct ctl_trace;

/* How the session read client bytes: as (part of) a command, or as a raw
 * line while a command waits for one (IDLE's DONE; SECRET for AUTHENTICATE
 * responses, which are always masked). */
enum ctl_trace_input {
	CTL_TRACE_INPUT_COMMAND,
	CTL_TRACE_INPUT_LINE,
	CTL_TRACE_INPUT_SECRET_LINE,
};

/* Creates (or appends to) dir/USER/YYYY-MM-DD/SESSION.trace, USER being
 * CTL_TRACE_PREAUTH_DIR when user is NULL. NULL with *error_r (static
 * text) when the file cannot be opened; errno tells why. */
struct ctl_trace *ctl_trace_open(const char *session_id, const char *user,
				 size_t literal_bytes, const char **error_r);
/* A trace writing to fd (taken over, closed by ctl_trace_close): for tests. */
struct ctl_trace *ctl_trace_new_fd(int fd, size_t literal_bytes);
/* Writes out any incomplete line, closes the file, sets *t to NULL. */
void ctl_trace_close(struct ctl_trace **t);

/* The file's current path (NULL for ctl_trace_new_fd). */
const char *ctl_trace_path(const struct ctl_trace *t);
/* Moves the file under the user's directory after login. */
bool ctl_trace_move_to_user(struct ctl_trace *t, const char *user);
void ctl_trace_set_literal_bytes(struct ctl_trace *t, size_t literal_bytes);

/* Bytes the client sent, in order, as the session consumed them. */
void ctl_trace_client(struct ctl_trace *t, const void *data, size_t len,
		      enum ctl_trace_input kind);
/* Forgets a partial client command (STARTTLS throws buffered input away). */
void ctl_trace_client_reset(struct ctl_trace *t);
/* Bytes the server queued, in order. */
void ctl_trace_server(struct ctl_trace *t, const void *data, size_t len);
/* len bytes queued without passing through ctl_trace_server (a message
 * body sent straight from its file): noted, not shown. */
void ctl_trace_server_unseen(struct ctl_trace *t, uint64_t len);
/* A "--" event line: connect, login, durations, TLS... */
void ctl_trace_event(struct ctl_trace *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
