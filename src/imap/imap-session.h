#ifndef PETREL_IMAP_SESSION_H
#define PETREL_IMAP_SESSION_H

/* One IMAP connection's state, and the API command handlers use to answer.
 * A session lives on one worker thread; nothing here is locked. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

struct arena;
struct conn;
struct imap_arg;
struct imap_parser;
struct imap_cmd;
struct petrel_config;
struct store_user;
struct imap_selected;
struct event;
struct ctl_session;

enum imap_state {
	IMAP_STATE_NOT_AUTH = 1 << 0,
	IMAP_STATE_AUTH = 1 << 1,
	IMAP_STATE_SELECTED = 1 << 2,
	IMAP_STATE_LOGOUT = 1 << 3,
};
#define IMAP_STATES_ANY (IMAP_STATE_NOT_AUTH | IMAP_STATE_AUTH | IMAP_STATE_SELECTED)
#define IMAP_STATES_AUTHED (IMAP_STATE_AUTH | IMAP_STATE_SELECTED)

/* Extensions a client turned on with ENABLE (RFC 5161) or implicitly. */
enum imap_enabled {
	IMAP_ENABLED_CONDSTORE = 1 << 0,
	IMAP_ENABLED_QRESYNC = 1 << 1,
	IMAP_ENABLED_UTF8_ACCEPT = 1 << 2,
	IMAP_ENABLED_IMAP4REV2 = 1 << 3,
};

/* What a handler returns. */
enum imap_cmd_result {
	IMAP_CMD_DONE,     /* the tagged answer has been sent */
	IMAP_CMD_MORE,     /* call cmd->resume when output has drained */
	IMAP_CMD_WAIT,     /* the handler finishes later by itself (a timer,
			    * a client line: see cmd->on_line) */
};

struct imap_cmd {
	struct imap_session *session;
	const char *tag;
	const char *name;            /* upper case, without "UID " */
	bool uid;                    /* UID prefix given */
	const struct imap_arg *args; /* argument list (see imap-parser.h) */
	size_t arg_count;
	struct arena *arena;         /* freed when the command completes */
	uint64_t started_us;
	unsigned flags;              /* IMAP_CMDF_* from the command table */
	bool no_sync;                /* do not sync the mailbox before the
				      * tagged answer (SELECT of another) */
	/* For IMAP_CMD_MORE: called again to produce more output. */
	enum imap_cmd_result (*resume)(struct imap_cmd *cmd);
	/* For IMAP_CMD_WAIT on client input (AUTHENTICATE, IDLE): each line
	 * the client sends (without CRLF). */
	enum imap_cmd_result (*on_line)(struct imap_cmd *cmd, const unsigned char *line,
					size_t len);
	/* Called if the connection ends while the command is in progress. */
	void (*on_abort)(struct imap_cmd *cmd);
	void *ctx;                   /* the handler's own state */
	bool done;
};

#define IMAP_SESSION_MAX_LITERAL_FDS 128

struct imap_session {
	struct conn *conn;
	const struct petrel_config *cfg;
	struct imap_parser *parser;
	enum imap_state state;
	unsigned enabled;            /* enum imap_enabled bits */
	char *user;                  /* after login (heap) */
	char **groups;               /* the user's groups at login (heap) */
	size_t group_count;
	char *user_limit_key;        /* "user\naddress" counted in connlimit */
	char *client_id;             /* "name/version" from ID, for logs */
	char *client_name;           /* ID "name" and "version" (heap, NULL */
	char *client_version;        /* when not sent), for [workarounds] */
	uint64_t caps_hidden;        /* imap-capability.h: IMAP_CAP bits */
	unsigned workarounds;        /* imap-compat.h: 1 << config_workaround */
	struct imap_selected *selected;
	struct imap_cmd *cmd;        /* the command in progress, or NULL */
	struct imap_cmd *idle;       /* the IDLE command while idling */
	struct arena *cmd_arena;
	struct buf out;              /* response being assembled */
	uint64_t commands;
	/* Temporary files holding the current command's large literals;
	 * closed when the command completes. */
	int literal_fds[IMAP_SESSION_MAX_LITERAL_FDS];
	unsigned literal_fd_count;
	struct event *preauth_timer; /* absolute deadline to log in */
	struct ctl_session *ctl;     /* tracing, statistics, ctl sessions */
	bool input_waiting;          /* input held back: command or output */
	bool shutdown_requested;
	/* Durability (store.h, sync-behind): the syncs in flight for commits
	 * of this session, and its tagged answer, held until they are done. */
	struct imap_sync_wait *sync_waits;
	bool sync_failed;
	bool answer_held;
	struct buf held_answer;
};

/* --- Answers ------------------------------------------------------------ */

/* "* " fmt CRLF */
void imap_send_untagged(struct imap_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Raw bytes (a prepared response line or literal data). */
void imap_send_raw(struct imap_session *s, const void *data, size_t len);
/* Writes the tagged completion and marks the command done. code may be NULL
 * (no response code) and is written inside [ ]. */
void imap_cmd_ok(struct imap_cmd *cmd, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void imap_cmd_no(struct imap_cmd *cmd, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void imap_cmd_bad(struct imap_cmd *cmd, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Sends "* BYE text" and closes the connection after flushing. */
void imap_session_bye(struct imap_session *s, const char *text);

/* The CAPABILITY list for the session's current state (no leading '*'). */
void imap_capability_append(struct imap_session *s, struct buf *out);

/* Logs the user in: state AUTH, per-user connection limit, store opened.
 * Returns false (and answers NO with a code) when the login cannot go on. */
bool imap_session_login(struct imap_cmd *cmd, const char *user);

/* The session user's store, from the worker's cache: valid for the current
 * command step only (do not keep it across IMAP_CMD_MORE/WAIT). NULL with
 * *error_r set when it cannot be opened. */
struct store_user *imap_session_store(struct imap_session *s, const char **error_r);

/* Per-worker set-up and tear-down (server hooks). */
struct worker;
void imap_worker_init(struct worker *w);
void imap_worker_deinit(struct worker *w);

/* True when plaintext LOGIN/PLAIN must be refused here (LOGINDISABLED). */
bool imap_session_plaintext_disabled(const struct imap_session *s);

/* Leaves the selected state without expunging (cmd-select.c). */
void imap_session_unselect(struct imap_session *s);

/* Finishes a command that returned IMAP_CMD_WAIT, then continues with
 * pipelined input. */
void imap_session_cmd_finished(struct imap_session *s);

/* The protocol callbacks for net/conn.h. */
extern const struct conn_protocol imap_protocol_plain;
extern const struct conn_protocol imap_protocol_tls;

#endif
