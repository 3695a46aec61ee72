/* DATA (RFC 2033 §4.2): the message is dot-unstuffed and streamed into one
 * blob as it arrives (never held whole in memory), then appended to each
 * recipient's mailbox in turn; each recipient's reply goes out only after
 * its append has committed durably. In petrel serve the appends commit
 * without waiting for the disk (store.h, "Durability off the event loop"):
 * the replies wait, all together and in RCPT order, until the sync threads
 * say every append is durable, and the session reads no further input
 * meanwhile. */

#include "ctl/ctl-stats.h"
#include "lmtp/lmtp-deliver.h"
#include "lmtp/lmtp-private.h"
#include "lmtp/lmtp-trace.h"

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "net/conn.h"
#include "net/server.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <time.h>

bool lmtp_data_begin(struct lmtp_session *s)
{
	struct buf trace = BUF_INIT;
	struct lmtp_trace t = {
		.return_path = s->sender, .helo = s->helo, .remote = conn_remote_ip(s->conn),
		.host = lmtp_trace_hostname(), .id = conn_id(s->conn), .time = time(NULL),
	};
	lmtp_trace_format(&t, &trace);
	const char *error;
	uint64_t max = s->cfg->append_size;
	enum store_error err = lmtp_message_begin(s->cfg->data_dir, max != 0 ? max + trace.len : 0,
						  trace.data, trace.len, &s->writer, &error);
	buf_free(&trace);
	if (err != STORE_OK) {
		log_event(LOG_ERROR, conn_id(s->conn), "lmtp_data_failed", "error=%s",
			  log_str(s->txn_arena, error));
		lmtp_reply(s, "451 4.3.0 Cannot store the message now, try again later");
		return false;
	}
	s->data_error = STORE_OK;
	s->data_out = xmalloc(LMTP_DATA_CHUNK + 1);
	lmtp_dot_init(&s->dot);
	s->state = LMTP_STATE_DATA;
	return true;
}

void lmtp_data_abort(struct lmtp_session *s)
{
	store_blob_writer_abort(&s->writer);
	free(s->data_out);
	s->data_out = NULL;
	s->state = LMTP_STATE_COMMAND;
}

/* The reply for a recipient the message could not be stored for. */
static void lmtp_data_reply_error(struct lmtp_session *s, const char *address,
				  enum store_error err)
{
	switch (err) {
	case STORE_ERR_TOOBIG:
		lmtp_reply(s, "552 5.3.4 <%s> Message size exceeds fixed limit of %llu bytes",
			   address, (unsigned long long)s->cfg->append_size);
		break;
	case STORE_ERR_OVERQUOTA:
		lmtp_reply_overquota(s, address);
		break;
	case STORE_ERR_INUSE:
		lmtp_reply(s, "451 4.2.0 <%s> Mailbox busy, try again later", address);
		break;
	default:
		lmtp_reply(s, "451 4.3.0 <%s> Temporary failure, try again later", address);
		break;
	}
}

/* Appends the message for one recipient; the reply comes later. */
static void lmtp_data_deliver_one(struct lmtp_session *s, const struct lmtp_rcpt *r,
				  const struct lmtp_message *msg, struct lmtp_outcome *out)
{
	const char *error = NULL;
	struct store_user *u;
	enum store_error err = lmtp_worker_store(r->user, &u, &error);
	if (err == STORE_OK)
		err = lmtp_deliver_store(u, r->detail, true, msg, &out->mailbox, &out->uid, &error);
	out->err = err;
	if (err != STORE_OK)
		log_event(LOG_ERROR, conn_id(s->conn), "lmtp_store_failed",
			  "user=%s error=%s reason=%s", log_str(s->txn_arena, r->user),
			  store_error_name(err), log_str(s->txn_arena, error ? error : ""));
}

/* One reply per accepted recipient, in RCPT order (RFC 2033 §4.2). durable
 * false: the appends are in the store but a sync failed, so none is
 * acknowledged (the MTA tries again later; a duplicate beats a loss). */
static void lmtp_data_reply_all(struct lmtp_session *s, bool durable)
{
	for (size_t i = 0; i < s->rcpt_count; i++) {
		const struct lmtp_rcpt *r = &s->rcpts[i];
		const struct lmtp_outcome *out = &s->outcomes[i];
		if (out->err != STORE_OK) {
			lmtp_data_reply_error(s, r->address, out->err);
		} else if (!durable) {
			log_event(LOG_ERROR, conn_id(s->conn), "lmtp_not_durable", "user=%s uid=%u",
				  log_str(s->txn_arena, r->user), out->uid);
			lmtp_data_reply_error(s, r->address, STORE_ERR_INTERNAL);
		} else {
			log_event(LOG_INFO, conn_id(s->conn), "delivered",
				  "user=%s mailbox=%s uid=%u size=%llu",
				  log_str(s->txn_arena, r->user), log_str(s->txn_arena, out->mailbox),
				  out->uid, (unsigned long long)s->message_size);
			ctl_stats_delivery();
			lmtp_reply(s, "250 2.0.0 <%s> Saved as UID %u in %s", r->address, out->uid,
				   out->mailbox);
		}
	}
	s->transactions++;
	s->outcomes = NULL;
	lmtp_session_reset(s);
	if (s->shutdown_requested)
		lmtp_session_goodbye(s, "4.3.2", "Service shutting down");
}

struct lmtp_sync_wait {
	struct lmtp_session *session;   /* NULL once the connection is gone */
	struct worker *worker;
	bool durable;
};

/* Back on the session's worker. */
static void lmtp_data_sync_returned(void *arg)
{
	struct lmtp_sync_wait *w = arg;
	struct lmtp_session *s = w->session;
	bool durable = w->durable;
	free(w);
	if (s == NULL)
		return;
	s->sync_wait = NULL;
	lmtp_data_reply_all(s, durable);
	lmtp_session_continue(s);
}

/* On a sync thread. */
static void lmtp_data_sync_done(bool durable, void *context)
{
	struct lmtp_sync_wait *w = context;
	w->durable = durable;
	worker_post(w->worker, lmtp_data_sync_returned, w);
}

void lmtp_data_orphan(struct lmtp_session *s)
{
	if (s->sync_wait != NULL)
		s->sync_wait->session = NULL;
	s->sync_wait = NULL;
}

/* Asks for the appends just made to be durable. False when they already
 * are (reply now); true when the replies wait for lmtp_data_sync_done. */
static bool lmtp_data_wait_durable(struct lmtp_session *s)
{
	struct store_sync_ticket *ticket = store_sync_take();
	if (ticket == NULL)
		return false;
	struct lmtp_sync_wait *w = xcalloc(1, sizeof(*w));
	w->session = s;
	w->worker = conn_worker(s->conn);
	s->sync_wait = w;
	if (store_sync_request(&ticket, lmtp_data_sync_done, w)) {
		s->sync_wait = NULL;
		free(w);
		return false;
	}
	return true;
}

/* After the final dot: store for every recipient, then reply once the
 * appends are durable. */
static void lmtp_data_finish(struct lmtp_session *s)
{
	struct lmtp_message msg = { 0 };
	enum store_error err = s->data_error;
	const char *error = NULL;
	if (err == STORE_OK && s->writer == NULL)
		err = STORE_ERR_INTERNAL;
	if (err == STORE_OK)
		err = lmtp_message_finish(&s->writer, s->txn_arena, &msg, &error);
	lmtp_data_abort(s);
	if (err != STORE_OK && err != STORE_ERR_TOOBIG)
		log_event(LOG_ERROR, conn_id(s->conn), "lmtp_data_failed", "error=%s",
			  log_str(s->txn_arena, error ? error : store_error_name(err)));
	msg.received = time(NULL);
	s->message_size = msg.blob != NULL ? store_blob_size(msg.blob) : 0;
	s->outcomes = arena_zalloc(s->txn_arena, (s->rcpt_count + 1) * sizeof(*s->outcomes));
	for (size_t i = 0; i < s->rcpt_count; i++) {
		if (err == STORE_OK)
			lmtp_data_deliver_one(s, &s->rcpts[i], &msg, &s->outcomes[i]);
		else
			s->outcomes[i].err = err;
	}
	lmtp_message_free(&msg);
	if (!lmtp_data_wait_durable(s))
		lmtp_data_reply_all(s, true);
}

/* Writes decoded bytes; after the first failure the rest of the message
 * is read and dropped so the stream stays in sync. */
static void lmtp_data_write(struct lmtp_session *s, size_t len)
{
	if (len == 0 || s->writer == NULL)
		return;
	const char *error;
	enum store_error err = store_blob_writer_write(s->writer, s->data_out, len, &error);
	if (err == STORE_OK)
		return;
	if (err != STORE_ERR_TOOBIG)
		log_event(LOG_ERROR, conn_id(s->conn), "lmtp_data_failed", "error=%s",
			  log_str(s->txn_arena, error));
	s->data_error = err;
	store_blob_writer_abort(&s->writer);
}

bool lmtp_data_feed(struct lmtp_session *s, struct evbuffer *in)
{
	struct evbuffer_iovec v;
	if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
		return false;
	size_t len = v.iov_len < LMTP_DATA_CHUNK ? v.iov_len : LMTP_DATA_CHUNK;
	size_t out_len, consumed;
	bool end = lmtp_dot_decode(&s->dot, v.iov_base, len, s->data_out, &out_len, &consumed);
	lmtp_data_write(s, out_len);
	evbuffer_drain(in, consumed);
	if (end)
		lmtp_data_finish(s);
	return true;
}
