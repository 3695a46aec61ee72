#ifndef PETREL_NEWS_NNTP_H
#define PETREL_NEWS_NNTP_H

/* A blocking NNTP client (RFC 3977) for one upstream server: connect
 * (plain, STARTTLS per RFC 4642 or implicit TLS), MODE READER when the
 * server asks for it, AUTHINFO USER/PASS (RFC 4643), then GROUP, LIST
 * ACTIVE, OVER (or XOVER on servers without OVER), ARTICLE and POST.
 * Every wait is bounded by the timeout given at connect. A connection
 * belongs to one thread. Errors: false/-1 with *error_r pointing to a
 * message in a thread-local buffer, valid until the next call of this
 * module in the same thread. The process must ignore SIGPIPE (TLS writes
 * go through OpenSSL's socket BIO): petrel serve does, and so does petrel
 * news. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "news/news-proto.h"

struct config_news_server;
struct news_conn;

/* Lets another thread stop a pull at once: news_cancel_request sets the
 * flag and shuts down the socket of the connection registered with it
 * (a blocked read returns at once). Thread-safe. */
struct news_cancel;
struct news_cancel *news_cancel_new(void);
void news_cancel_free(struct news_cancel **cancel);
void news_cancel_request(struct news_cancel *cancel);
bool news_cancel_requested(const struct news_cancel *cancel);

/* Connects to srv and gets it ready for reading (and posting). cancel
 * may be NULL. The connection is the caller's: news_conn_close. */
bool news_conn_open(const struct config_news_server *srv, unsigned timeout_s,
		    struct news_cancel *cancel, struct news_conn **conn_r, const char **error_r);
/* Sends QUIT (without waiting long), closes, frees; *conn = NULL. NULL-safe. */
void news_conn_close(struct news_conn **conn);

/* A line of a multi-line answer, without its line end and with
 * dot-stuffing removed. Returning false stops (the call then fails with
 * the callback's *error_r). */
typedef bool news_line_cb(void *ctx, const char *line, size_t len, const char **error_r);
/* Bytes of an article as they arrive (dot-stuffing removed). */
typedef bool news_data_cb(void *ctx, const void *data, size_t len, const char **error_r);

/* LIST ACTIVE [wildmat] (RFC 3977 §7.6.3): cb gets each line. */
bool news_conn_list_active(struct news_conn *conn, const char *wildmat, news_line_cb *cb,
			   void *ctx, const char **error_r);

/* GROUP (RFC 3977 §6.1.1). 1 selected (*info_r set), 0 no such group
 * (411), -1 error. */
int news_conn_group(struct news_conn *conn, const char *group, struct news_group_info *info_r,
		    const char **error_r);

/* OVER low-high (XOVER where OVER is not advertised; RFC 3977 §8.3) in
 * the selected group: cb gets each overview line. No article in the range
 * (423) is success with no lines. */
bool news_conn_over(struct news_conn *conn, uint64_t low, uint64_t high, news_line_cb *cb,
		    void *ctx, const char **error_r);

/* ARTICLE number (RFC 3977 §6.2.1): cb gets the article's bytes. 1 done,
 * 0 no such article (423/430: cancelled or expired meanwhile), -1 error
 * (the connection is unusable after an error in cb or on the wire). */
int news_conn_article(struct news_conn *conn, uint64_t number, news_data_cb *cb, void *ctx,
		      const char **error_r);

/* POST (RFC 3977 §6.3.1): read gets called for the message's bytes until
 * it returns 0 (-1: a read error; the POST is then abandoned and the
 * connection is unusable). 1 accepted (240), 0 refused by the server
 * (440, 441, 480, 483: *error_r is the server's answer), -1 error. */
typedef long news_read_cb(void *ctx, void *buf, size_t size);
int news_conn_post(struct news_conn *conn, news_read_cb *read, void *ctx, const char **error_r);

#endif
