#ifndef PETREL_CTL_SESSION_H
#define PETREL_CTL_SESSION_H

/* What the control socket knows of each protocol session: a small record
 * the protocol layer (src/imap) creates per connection and feeds through
 * the hooks below. It drives protocol tracing, the counters of ctl-stats.h,
 * the slow-command log, `petrel ctl sessions` and `petrel ctl kick`.
 *
 * Layering: imap calls ctl, never the other way round. The two things ctl
 * needs from a session it cannot see (its state and mailbox, and how to end
 * it) come through struct ctl_session_ops, which the protocol supplies.
 *
 * Threads: a record lives on its connection's worker thread and every
 * function here must be called there. Each worker keeps the list of its own
 * records; ctl_session_foreach() walks the calling worker's list (the ctl
 * server runs it on each worker through worker_post).
 *
 * Cost when tracing is off: ctl_session_output() is an inline NULL check;
 * ctl_session_input() reads the clock and, at a command boundary, one
 * atomic generation number. */

#include "ctl/ctl-trace.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;

/* What the protocol tells about a session, filled on its thread. Strings
 * are borrowed for the duration of the call. */
struct ctl_session_facts {
	const char *state;       /* "not_authenticated", "authenticated", "selected", "logout" */
	const char *mailbox;     /* selected mailbox or NULL */
	const char *client_id;   /* "name/version" from ID or NULL */
	const char *workarounds; /* "name,name" of those applied, or NULL */
	uint64_t commands;       /* commands run */
};

struct ctl_session_ops {
	void (*describe)(void *ctx, struct ctl_session_facts *facts_r);
	/* Ends the session, telling the client reason (e.g. "* BYE reason"). */
	void (*kick)(void *ctx, const char *reason);
};

/* Fields are owned by src/ctl; the protocol layer only tests `trace`. */
struct ctl_session {
	struct ctl_trace *trace;      /* non-NULL while the session is traced */
	struct conn *conn;
	const struct ctl_session_ops *ops;
	void *ctx;
	char *user;                   /* after login */
	uint64_t last_input_ms;       /* wall clock */
	uint64_t out_seen;            /* conn_bytes_out() the trace has accounted for */
	unsigned trace_generation;    /* rules generation last applied */
	char answer;                  /* 'O', 'N', 'B' of the current command */
	bool logged_in_by_command;    /* the current command logged in */
	bool read_lines;              /* the current command read client lines */
	struct ctl_session *prev, *next;
};

/* A new connection: counts it and starts its trace when an address rule
 * covers it. ops and ctx must outlive the record. */
struct ctl_session *ctl_session_new(struct conn *c, const struct ctl_session_ops *ops,
				    void *ctx);
/* The connection ends: counts its bytes, closes its trace. */
void ctl_session_free(struct ctl_session **cs);

enum ctl_session_input {
	CTL_SESSION_INPUT_COMMAND_START,  /* first bytes of a new command */
	CTL_SESSION_INPUT_COMMAND,        /* more of the command being read */
	CTL_SESSION_INPUT_LINE,           /* a raw line a command waits for */
	CTL_SESSION_INPUT_SECRET_LINE,    /* such a line carrying a secret (SASL) */
};

/* Bytes the protocol consumed from the client, in order, before it acts on
 * them. At a command start, tracing is switched on or off when the rules
 * have changed since the session last looked. */
void ctl_session_input(struct ctl_session *cs, const void *data, size_t len,
		       enum ctl_session_input kind);

void ctl_session_trace_output(struct ctl_session *cs, const void *data, size_t len);
/* Bytes queued to the client (before they are queued). */
static inline void ctl_session_output(struct ctl_session *cs, const void *data, size_t len)
{
	if (cs->trace != NULL)
		ctl_session_trace_output(cs, data, len);
}

/* The tagged answer of the current command: "OK", "NO" or "BAD". */
void ctl_session_answer(struct ctl_session *cs, const char *status);
/* A syntax error answered without a command (BAD or BYE). */
void ctl_session_syntax_error(struct ctl_session *cs, const char *client_id);
/* The session logged in as user with method ("LOGIN", "AUTHENTICATE"). */
void ctl_session_login(struct ctl_session *cs, const char *user, const char *method);
/* The current command completed after us microseconds. stats_name is the
 * name counted in the statistics (a bounded set: the command table's names
 * and "UNKNOWN"); client_id as in the facts. Logs it as slow when over the
 * configured threshold. A STARTTLS that succeeded is noted in the trace. */
void ctl_session_command_done(struct ctl_session *cs, const char *tag, const char *name,
			      const char *stats_name, uint64_t us, const char *client_id);
/* Process-wide settings, before the workers start. slow_ms 0: no slow log. */
void ctl_session_configure(unsigned slow_command_ms);

/* Calls fn for each session record of the calling worker. fn may kick. */
void ctl_session_foreach(void (*fn)(struct ctl_session *cs, void *arg), void *arg);

/* The client's name from "name/version" into out (at most size-1 bytes). */
void ctl_session_client_name(const char *client_id, char *out, size_t size);

#endif
