#ifndef PETREL_LMTP_PRIVATE_H
#define PETREL_LMTP_PRIVATE_H

/* Shared by the files of src/lmtp/; nothing outside includes this. */

#include "lmtp/lmtp-dot.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct conn;
struct evbuffer;
struct petrel_config;
struct userdb;

/* RFC 5321 §4.5.3.1.6: a line is at most 1000 octets with its CRLF. */
#define LMTP_LINE_MAX 1000
/* RFC 5321 §4.5.3.1.8 asks for at least 100; more get 452 4.5.3. */
#define LMTP_MAX_RECIPIENTS 1000
/* RFC 5321 §4.5.3.2.7: the server waits at least 5 minutes for a command. */
#define LMTP_TIMEOUT_S 300
/* DATA input is decoded in pieces of at most this many bytes. */
#define LMTP_DATA_CHUNK 65536

enum lmtp_state {
	LMTP_STATE_COMMAND,
	LMTP_STATE_DATA,     /* between 354 and the final dot */
};

struct lmtp_rcpt {
	const char *address;   /* as in RCPT TO, for replies */
	const char *user;
	const char *detail;    /* NULL: INBOX */
};

/* What storing the message did for one recipient, kept until the replies
 * can go out (lmtp-data.c). */
struct lmtp_outcome {
	enum store_error err;
	uint32_t uid;
	const char *mailbox;   /* where it went (static or txn_arena) */
};

struct lmtp_sync_wait;

struct lmtp_session {
	struct conn *conn;
	const struct petrel_config *cfg;
	enum lmtp_state state;
	char *helo;                  /* LHLO argument (heap); NULL before */

	/* The mail transaction, from MAIL to the end of DATA or RSET. Its
	 * strings live in txn_arena. */
	struct arena *txn_arena;
	const char *sender;          /* NULL before MAIL; "" for <> */
	uint64_t declared_size;      /* MAIL ... SIZE=n, 0 when not given */
	struct lmtp_rcpt *rcpts;     /* heap array */
	size_t rcpt_count, rcpt_cap;

	/* DATA */
	struct lmtp_dot dot;
	struct store_blob_writer *writer; /* NULL after a failure */
	enum store_error data_error;      /* first failure while writing */
	unsigned char *data_out;          /* LMTP_DATA_CHUNK + 1 bytes */
	/* After the final dot: one outcome per recipient (txn_arena), replied
	 * once the deliveries are durable; sync_wait is the wait in flight. */
	struct lmtp_outcome *outcomes;
	uint64_t message_size;
	struct lmtp_sync_wait *sync_wait;

	uint64_t transactions;
	bool skipping_line;          /* inside a line longer than the limit */
	bool input_waiting;
	bool shutdown_requested;
};

/* Queues one reply line; CRLF is added. */
void lmtp_reply(struct lmtp_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The reply for a recipient refused for quota: 452 4.2.2 (the MTA retries)
 * or, with [quota] lmtp_overquota = permanent, 552 5.2.2 (it bounces). */
void lmtp_reply_overquota(struct lmtp_session *s, const char *address);
/* Ends the mail transaction (RSET, LHLO, after DATA). */
void lmtp_session_reset(struct lmtp_session *s);
/* Says "421 status host text" and closes: server shutdown or timeout. */
void lmtp_session_goodbye(struct lmtp_session *s, const char *status, const char *text);

/* lmtp-commands.c: runs one command line (without CRLF, NUL-terminated). */
void lmtp_command_run(struct lmtp_session *s, const char *line);

/* lmtp-data.c: after MAIL and RCPTs, DATA starts the message; false (and
 * an error reply) when it cannot. */
bool lmtp_data_begin(struct lmtp_session *s);
/* Consumes DATA input; at the final dot delivers and replies once per
 * recipient. Returns false when there was nothing to consume. */
bool lmtp_data_feed(struct lmtp_session *s, struct evbuffer *in);
/* Drops a message being received (connection gone). */
void lmtp_data_abort(struct lmtp_session *s);
/* The connection is going: a durability wait in flight answers no one. */
void lmtp_data_orphan(struct lmtp_session *s);

/* lmtp-session.c: goes on with buffered input (after the replies of a
 * message that waited for durability). */
void lmtp_session_continue(struct lmtp_session *s);

/* lmtp-worker.c: the worker thread's user database connection (NULL, with
 * the reason logged, when it cannot be opened) and store handle (valid
 * until the next call on this thread). */
struct userdb *lmtp_worker_userdb(void);
enum store_error lmtp_worker_store(const char *user, struct store_user **u_r,
				   const char **error_r);

#endif
