#ifndef PETREL_LMTP_SESSION_H
#define PETREL_LMTP_SESSION_H

/* The LMTP server (RFC 2033): how an MTA hands mail to Petrel. One session
 * per connection on a worker thread; see docs/delivery.md for the
 * commands, replies and limits. */

struct conn_protocol;
struct worker;

/* The protocol callbacks for net/conn.h ([lmtp] listen). */
extern const struct conn_protocol lmtp_protocol;

/* Per-worker set-up and tear-down (server hooks): the worker's store
 * handle cache and user database connection. */
void lmtp_worker_init(struct worker *w);
void lmtp_worker_deinit(struct worker *w);

#endif
