/* The NNTP client: sockets, TLS, commands and their answers. */

#include "news/news-nntp.h"

#include "lib/buf.h"
#include "lib/config.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define NEWS_READ_CHUNK 16384
#define NEWS_PORT_PLAIN 119
#define NEWS_PORT_TLS 563
/* A capability list longer than this is not a real server's. */
#define NEWS_CAPABILITIES_MAX 256

struct news_cancel {
	pthread_mutex_t lock;
	int fd;          /* the registered connection's socket, or -1 */
	bool requested;
};

struct news_conn {
	int fd;
	SSL_CTX *ssl_ctx;
	SSL *ssl;
	struct buf in;      /* received, not yet used */
	struct buf line;    /* the last line read (NUL-terminated) */
	struct news_cancel *cancel;
	const struct config_news_server *srv;
	bool has_over;      /* OVER advertised (else XOVER) */
	bool has_mode_reader;
	bool has_starttls;
	bool has_reader;
	bool broken;        /* out of sync with the server: only close */
};

static __thread char news_error_text[1024];

static bool news_fail(const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool news_fail(const char **error_r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(news_error_text, sizeof(news_error_text), fmt, ap);
	va_end(ap);
	if (error_r != NULL)
		*error_r = news_error_text;
	return false;
}

/* ---- Cancellation ---- */

struct news_cancel *news_cancel_new(void)
{
	struct news_cancel *c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->fd = -1;
	return c;
}

void news_cancel_free(struct news_cancel **cancel)
{
	if (*cancel == NULL)
		return;
	pthread_mutex_destroy(&(*cancel)->lock);
	free(*cancel);
	*cancel = NULL;
}

void news_cancel_request(struct news_cancel *cancel)
{
	pthread_mutex_lock(&cancel->lock);
	cancel->requested = true;
	/* Under the lock: the owner cannot close (and the number be reused)
	 * meanwhile, see news_cancel_register. */
	if (cancel->fd >= 0)
		shutdown(cancel->fd, SHUT_RDWR);
	pthread_mutex_unlock(&cancel->lock);
}

bool news_cancel_requested(const struct news_cancel *cancel)
{
	struct news_cancel *c = (struct news_cancel *)cancel;
	if (c == NULL)
		return false;
	pthread_mutex_lock(&c->lock);
	bool requested = c->requested;
	pthread_mutex_unlock(&c->lock);
	return requested;
}

/* Registers fd (or -1 to unregister); false when cancelled already. */
static bool news_cancel_register(struct news_cancel *cancel, int fd)
{
	if (cancel == NULL)
		return true;
	pthread_mutex_lock(&cancel->lock);
	cancel->fd = cancel->requested ? -1 : fd;
	bool ok = !cancel->requested || fd < 0;
	pthread_mutex_unlock(&cancel->lock);
	return ok;
}

/* ---- Socket and TLS I/O ---- */

static const char *news_openssl_error(void)
{
	static __thread char text[256];
	unsigned long e = ERR_get_error();
	if (e == 0)
		snprintf(text, sizeof(text), "%s", errno != 0 ? strerror(errno) : "connection closed");
	else
		ERR_error_string_n(e, text, sizeof(text));
	ERR_clear_error();
	return text;
}

/* Waits for the non-blocking connect on fd, at most timeout_s. */
static bool news_connect_wait(int fd, unsigned timeout_s, const char **error_r)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int n;
	do {
		n = poll(&pfd, 1, (int)timeout_s * 1000);
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		return news_fail(error_r, "connect timed out");
	int err = 0;
	socklen_t len = sizeof(err);
	if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0)
		return news_fail(error_r, "connect: %s", strerror(err));
	return true;
}

static int news_connect_one(const struct addrinfo *ai, unsigned timeout_s, const char **error_r)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0) {
		news_fail(error_r, "socket: %s", strerror(errno));
		return -1;
	}
	int flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 &&
	    (errno != EINPROGRESS || !news_connect_wait(fd, timeout_s, error_r))) {
		if (errno != EINPROGRESS)
			news_fail(error_r, "connect: %s", strerror(errno));
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, flags);
	/* Blocking from here on, each wait bounded by the timeout. */
	struct timeval tv = { .tv_sec = (time_t)timeout_s };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static int news_connect(const char *host, unsigned port, unsigned timeout_s,
			const char **error_r)
{
	char service[16];
	snprintf(service, sizeof(service), "%u", port);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *list;
	int rc = getaddrinfo(host, service, &hints, &list);
	if (rc != 0) {
		news_fail(error_r, "%s: %s", host, gai_strerror(rc));
		return -1;
	}
	int fd = -1;
	for (const struct addrinfo *ai = list; ai != NULL && fd < 0; ai = ai->ai_next)
		fd = news_connect_one(ai, timeout_s, error_r);
	freeaddrinfo(list);
	return fd;
}

static bool news_tls_start(struct news_conn *conn, const char **error_r)
{
	const struct config_news_server *srv = conn->srv;
	conn->ssl_ctx = SSL_CTX_new(TLS_client_method());
	if (conn->ssl_ctx == NULL)
		return news_fail(error_r, "TLS: %s", news_openssl_error());
	SSL_CTX_set_min_proto_version(conn->ssl_ctx, TLS1_2_VERSION);
	if (srv->tls_verify) {
		int ok = srv->ca_file != NULL ?
			SSL_CTX_load_verify_locations(conn->ssl_ctx, srv->ca_file, NULL) :
			SSL_CTX_set_default_verify_paths(conn->ssl_ctx);
		if (ok != 1)
			return news_fail(error_r, "TLS: %s: %s",
					 srv->ca_file != NULL ? srv->ca_file : "default CA paths",
					 news_openssl_error());
		SSL_CTX_set_verify(conn->ssl_ctx, SSL_VERIFY_PEER, NULL);
	}
	conn->ssl = SSL_new(conn->ssl_ctx);
	if (conn->ssl == NULL || SSL_set_fd(conn->ssl, conn->fd) != 1)
		return news_fail(error_r, "TLS: %s", news_openssl_error());
	SSL_set_tlsext_host_name(conn->ssl, srv->host);
	if (srv->tls_verify && SSL_set1_host(conn->ssl, srv->host) != 1)
		return news_fail(error_r, "TLS: %s", news_openssl_error());
	errno = 0;
	if (SSL_connect(conn->ssl) != 1) {
		long verify = SSL_get_verify_result(conn->ssl);
		if (verify != X509_V_OK)
			return news_fail(error_r, "TLS: certificate of %s: %s", srv->host,
					 X509_verify_cert_error_string(verify));
		return news_fail(error_r, "TLS handshake with %s: %s", srv->host,
				 news_openssl_error());
	}
	return true;
}

static bool news_write(struct news_conn *conn, const void *data, size_t len,
		       const char **error_r)
{
	const char *p = data;
	while (len > 0) {
		long n;
		errno = 0;
		if (conn->ssl != NULL) {
			int r = SSL_write(conn->ssl, p, len > INT32_MAX ? INT32_MAX : (int)len);
			n = r > 0 ? r : -1;
		} else {
			n = send(conn->fd, p, len, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
		}
		if (n <= 0) {
			conn->broken = true;
			return news_fail(error_r, "write to %s: %s", conn->srv->host,
					 errno == EAGAIN ? "timed out" :
					 conn->ssl != NULL ? news_openssl_error() : strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Reads more bytes into conn->in. */
static bool news_fill(struct news_conn *conn, const char **error_r)
{
	if (news_cancel_requested(conn->cancel)) {
		conn->broken = true;
		return news_fail(error_r, "stopped");
	}
	buf_reserve(&conn->in, NEWS_READ_CHUNK);
	long n;
	for (;;) {
		errno = 0;
		if (conn->ssl != NULL) {
			int r = SSL_read(conn->ssl, conn->in.data + conn->in.len, NEWS_READ_CHUNK);
			n = r > 0 ? r : r == 0 ? 0 : -1;
		} else {
			n = recv(conn->fd, conn->in.data + conn->in.len, NEWS_READ_CHUNK, 0);
			if (n < 0 && errno == EINTR)
				continue;
		}
		break;
	}
	if (n <= 0) {
		conn->broken = true;
		if (news_cancel_requested(conn->cancel))
			return news_fail(error_r, "stopped");
		return news_fail(error_r, "read from %s: %s", conn->srv->host,
				 n == 0 && conn->ssl == NULL ? "connection closed" :
				 errno == EAGAIN ? "timed out" :
				 conn->ssl != NULL ? news_openssl_error() : strerror(errno));
	}
	conn->in.len += (size_t)n;
	conn->in.data[conn->in.len] = '\0';
	return true;
}

/* Reads one line (CRLF or LF removed) into conn->line. */
static bool news_read_line(struct news_conn *conn, const char **error_r)
{
	size_t scanned = 0;
	for (;;) {
		const unsigned char *nl = conn->in.len > scanned ?
			memchr(conn->in.data + scanned, '\n', conn->in.len - scanned) : NULL;
		if (nl != NULL) {
			size_t len = (size_t)(nl - conn->in.data);
			size_t used = len + 1;
			if (len > 0 && conn->in.data[len - 1] == '\r')
				len--;
			buf_reset(&conn->line);
			buf_append(&conn->line, conn->in.data, len);
			buf_consume(&conn->in, used);
			return true;
		}
		scanned = conn->in.len;
		if (conn->in.len > NEWS_LINE_MAX) {
			conn->broken = true;
			return news_fail(error_r, "%s sent a line longer than %u bytes",
					 conn->srv->host, (unsigned)NEWS_LINE_MAX);
		}
		if (!news_fill(conn, error_r))
			return false;
	}
}

/* Reads a status line: its code, and its text in conn->line. */
static bool news_read_status(struct news_conn *conn, unsigned *code_r, const char **text_r,
			     const char **error_r)
{
	if (!news_read_line(conn, error_r))
		return false;
	size_t text_len;
	if (!news_status_parse((const char *)conn->line.data, conn->line.len, code_r, text_r,
			       &text_len)) {
		conn->broken = true;
		return news_fail(error_r, "%s: not an NNTP status line: %.80s", conn->srv->host,
				 (const char *)conn->line.data);
	}
	return true;
}

/* Sends a command line (CRLF added) and reads the status line. */
static bool news_command(struct news_conn *conn, unsigned *code_r, const char **text_r,
			 const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static bool news_command(struct news_conn *conn, unsigned *code_r, const char **text_r,
			 const char **error_r, const char *fmt, ...)
{
	if (conn->broken)
		return news_fail(error_r, "connection to %s lost", conn->srv->host);
	struct buf cmd = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&cmd, fmt, ap);
	va_end(ap);
	buf_append(&cmd, "\r\n", 2);
	bool ok = news_write(conn, cmd.data, cmd.len, error_r);
	buf_free(&cmd);
	return ok && news_read_status(conn, code_r, text_r, error_r);
}

/* The lines of a multi-line block (RFC 3977 §3.1.1), each to cb. */
static bool news_read_block(struct news_conn *conn, news_line_cb *cb, void *ctx,
			    const char **error_r)
{
	for (;;) {
		if (!news_read_line(conn, error_r))
			return false;
		const char *line = (const char *)conn->line.data;
		size_t len = conn->line.len;
		if (len == 1 && line[0] == '.')
			return true;
		if (len > 0 && line[0] == '.') {
			line++;
			len--;
		}
		if (cb != NULL && !cb(ctx, line, len, error_r)) {
			/* Read the rest, so the connection stays usable. */
			const char *ignored;
			if (!news_read_block(conn, NULL, NULL, &ignored))
				conn->broken = true;
			return false;
		}
	}
}

static bool news_unexpected(struct news_conn *conn, const char *command, unsigned code,
			    const char *text, const char **error_r)
{
	return news_fail(error_r, "%s %s: %u %.200s", conn->srv->host, command, code, text);
}

/* ---- Connecting ---- */

struct news_caps_ctx {
	struct news_conn *conn;
	unsigned count;
};

static bool news_caps_line(void *ctx, const char *line, size_t len, const char **error_r)
{
	struct news_caps_ctx *c = ctx;
	if (++c->count > NEWS_CAPABILITIES_MAX)
		return news_fail(error_r, "%s: capability list too long", c->conn->srv->host);
	size_t word = strcspn(line, " ");
	if (word > len)
		word = len;
#define NEWS_CAP(name) (word == sizeof(name) - 1 && strncasecmp(line, name, word) == 0)
	if (NEWS_CAP("OVER"))
		c->conn->has_over = true;
	else if (NEWS_CAP("MODE-READER"))
		c->conn->has_mode_reader = true;
	else if (NEWS_CAP("STARTTLS"))
		c->conn->has_starttls = true;
	else if (NEWS_CAP("READER"))
		c->conn->has_reader = true;
#undef NEWS_CAP
	return true;
}

/* CAPABILITIES (RFC 3977 §5.2). A server too old for it (500) gets
 * MODE READER and XOVER. */
static bool news_capabilities(struct news_conn *conn, const char **error_r)
{
	unsigned code;
	const char *text;
	conn->has_over = conn->has_mode_reader = conn->has_starttls = conn->has_reader = false;
	if (!news_command(conn, &code, &text, error_r, "CAPABILITIES"))
		return false;
	if (code != 101) {
		conn->has_mode_reader = true;
		return true;
	}
	struct news_caps_ctx ctx = { .conn = conn };
	return news_read_block(conn, news_caps_line, &ctx, error_r);
}

static bool news_starttls(struct news_conn *conn, const char **error_r)
{
	unsigned code;
	const char *text;
	if (!news_command(conn, &code, &text, error_r, "STARTTLS"))
		return false;
	if (code != 382)
		return news_unexpected(conn, "STARTTLS", code, text, error_r);
	if (conn->in.len > 0) {
		/* RFC 4642 §2.2.2: nothing may follow 382 in clear text. */
		conn->broken = true;
		return news_fail(error_r, "%s sent data after 382", conn->srv->host);
	}
	return news_tls_start(conn, error_r) && news_capabilities(conn, error_r);
}

static bool news_mode_reader(struct news_conn *conn, const char **error_r)
{
	unsigned code;
	const char *text;
	if (!news_command(conn, &code, &text, error_r, "MODE READER"))
		return false;
	if (code != 200 && code != 201)
		return news_unexpected(conn, "MODE READER", code, text, error_r);
	return news_capabilities(conn, error_r);
}

/* AUTHINFO USER/PASS (RFC 4643 §2.3). */
static bool news_authinfo(struct news_conn *conn, const char **error_r)
{
	const struct config_news_server *srv = conn->srv;
	unsigned code;
	const char *text;
	if (!news_command(conn, &code, &text, error_r, "AUTHINFO USER %s", srv->user))
		return false;
	if (code == 381 && !news_command(conn, &code, &text, error_r, "AUTHINFO PASS %s",
					 srv->password))
		return false;
	if (code != 281)
		return news_fail(error_r, "%s refused AUTHINFO for %s: %u %.200s", srv->host,
				 srv->user, code, text);
	/* RFC 4643 §2.2: the capabilities may differ once authenticated. */
	return news_capabilities(conn, error_r);
}

static bool news_greeting(struct news_conn *conn, const char **error_r)
{
	unsigned code;
	const char *text;
	if (!news_read_status(conn, &code, &text, error_r))
		return false;
	/* RFC 3977 §5.1.1: 200 posting allowed, 201 not; 400 and 502 mean
	 * the service is not available. */
	if (code != 200 && code != 201)
		return news_fail(error_r, "%s is not available: %u %.200s", conn->srv->host, code,
				 text);
	return true;
}

static bool news_conn_setup(struct news_conn *conn, const char **error_r)
{
	const struct config_news_server *srv = conn->srv;
	if (srv->tls == CONFIG_NEWS_TLS_IMPLICIT && !news_tls_start(conn, error_r))
		return false;
	if (!news_greeting(conn, error_r) || !news_capabilities(conn, error_r))
		return false;
	if (srv->tls == CONFIG_NEWS_TLS_STARTTLS) {
		if (!conn->has_starttls && conn->has_mode_reader && !news_mode_reader(conn, error_r))
			return false;
		if (!conn->has_starttls)
			return news_fail(error_r, "%s does not offer STARTTLS", srv->host);
		if (!news_starttls(conn, error_r))
			return false;
	}
	/* RFC 3977 §5.3: a mode-switching server needs MODE READER before
	 * reader commands. */
	if (conn->has_mode_reader && !conn->has_reader && !news_mode_reader(conn, error_r))
		return false;
	return srv->user == NULL || news_authinfo(conn, error_r);
}

bool news_conn_open(const struct config_news_server *srv, unsigned timeout_s,
		    struct news_cancel *cancel, struct news_conn **conn_r, const char **error_r)
{
	unsigned port = srv->port != 0 ? srv->port :
		srv->tls == CONFIG_NEWS_TLS_IMPLICIT ? NEWS_PORT_TLS : NEWS_PORT_PLAIN;
	if (news_cancel_requested(cancel))
		return news_fail(error_r, "stopped");
	int fd = news_connect(srv->host, port, timeout_s, error_r);
	if (fd < 0)
		return false;
	struct news_conn *conn = xcalloc(1, sizeof(*conn));
	conn->fd = fd;
	conn->srv = srv;
	conn->cancel = cancel;
	if (!news_cancel_register(cancel, fd)) {
		news_fail(error_r, "stopped");
		news_conn_close(&conn);
		return false;
	}
	if (!news_conn_setup(conn, error_r)) {
		/* Keep the message: closing may run more of this module. */
		char saved[sizeof(news_error_text)];
		snprintf(saved, sizeof(saved), "%s", news_error_text);
		conn->broken = true;
		news_conn_close(&conn);
		news_fail(error_r, "%s", saved);
		return false;
	}
	*conn_r = conn;
	return true;
}

void news_conn_close(struct news_conn **connp)
{
	struct news_conn *conn = *connp;
	if (conn == NULL)
		return;
	if (!conn->broken) {
		unsigned code;
		const char *text, *error;
		/* RFC 3977 §5.4: the server answers 205 and closes. */
		(void)news_command(conn, &code, &text, &error, "QUIT");
	}
	if (conn->ssl != NULL) {
		if (!conn->broken)
			SSL_shutdown(conn->ssl);
		SSL_free(conn->ssl);
	}
	SSL_CTX_free(conn->ssl_ctx);
	news_cancel_register(conn->cancel, -1);
	close(conn->fd);
	buf_free(&conn->in);
	buf_free(&conn->line);
	free(conn);
	*connp = NULL;
}

/* ---- Reader commands ---- */

bool news_conn_list_active(struct news_conn *conn, const char *wildmat, news_line_cb *cb,
			   void *ctx, const char **error_r)
{
	unsigned code;
	const char *text;
	if (!news_command(conn, &code, &text, error_r, "LIST ACTIVE%s%s",
			  wildmat != NULL ? " " : "", wildmat != NULL ? wildmat : ""))
		return false;
	if (code != 215)
		return news_unexpected(conn, "LIST ACTIVE", code, text, error_r);
	return news_read_block(conn, cb, ctx, error_r);
}

int news_conn_group(struct news_conn *conn, const char *group, struct news_group_info *info_r,
		    const char **error_r)
{
	unsigned code;
	const char *text;
	if (!news_command(conn, &code, &text, error_r, "GROUP %s", group))
		return -1;
	if (code == 411)
		return 0;
	if (code != 211) {
		news_unexpected(conn, "GROUP", code, text, error_r);
		return -1;
	}
	if (!news_group_parse(text, strlen(text), info_r)) {
		news_fail(error_r, "%s: malformed GROUP answer: %.200s", conn->srv->host, text);
		return -1;
	}
	return 1;
}

bool news_conn_over(struct news_conn *conn, uint64_t low, uint64_t high, news_line_cb *cb,
		    void *ctx, const char **error_r)
{
	unsigned code;
	const char *text;
	const char *command = conn->has_over ? "OVER" : "XOVER";
	if (!news_command(conn, &code, &text, error_r, "%s %llu-%llu", command,
			  (unsigned long long)low, (unsigned long long)high))
		return false;
	if (code == 423 || code == 420)
		return true; /* no article in the range */
	if (code != 224)
		return news_unexpected(conn, command, code, text, error_r);
	return news_read_block(conn, cb, ctx, error_r);
}

int news_conn_article(struct news_conn *conn, uint64_t number, news_data_cb *cb, void *ctx,
		      const char **error_r)
{
	unsigned code;
	const char *text;
	if (!news_command(conn, &code, &text, error_r, "ARTICLE %llu",
			  (unsigned long long)number))
		return -1;
	if (code == 423 || code == 430)
		return 0;
	if (code != 220) {
		news_unexpected(conn, "ARTICLE", code, text, error_r);
		return -1;
	}
	struct news_dot_decoder dec = NEWS_DOT_DECODER_INIT;
	struct buf out = BUF_INIT;
	bool ok = true;
	while (ok) {
		size_t used = news_dot_decode(&dec, conn->in.data, conn->in.len, &out);
		buf_consume(&conn->in, used);
		if (out.len > 0 && !cb(ctx, out.data, out.len, error_r)) {
			/* The rest of the article cannot be told from the next
			 * answer without reading it: the connection is lost. */
			conn->broken = true;
			ok = false;
			break;
		}
		buf_reset(&out);
		if (dec.done)
			break;
		ok = news_fill(conn, error_r);
	}
	buf_free(&out);
	return ok ? 1 : -1;
}

int news_conn_post(struct news_conn *conn, news_read_cb *read, void *ctx, const char **error_r)
{
	unsigned code;
	const char *text;
	if (!news_command(conn, &code, &text, error_r, "POST"))
		return -1;
	if (code == 440 || code == 480 || code == 483) {
		/* Posting not permitted (RFC 3977 §6.3.1.2), or not without
		 * authentication or encryption (RFC 4643 §2.2, RFC 4642 §2.2):
		 * the server's own words for the user. */
		news_fail(error_r, "%u %s", code, text);
		return 0;
	}
	if (code != 340) {
		news_unexpected(conn, "POST", code, text, error_r);
		return -1;
	}
	struct news_dot_encoder enc = NEWS_DOT_ENCODER_INIT;
	struct buf out = BUF_INIT;
	char chunk[NEWS_READ_CHUNK];
	bool ok = true;
	for (;;) {
		long n = read(ctx, chunk, sizeof(chunk));
		if (n < 0) {
			/* Half an article must not be posted: drop the link. */
			conn->broken = true;
			ok = news_fail(error_r, "reading the article: %s", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		news_dot_encode(&enc, chunk, (size_t)n, &out);
		if (out.len >= NEWS_READ_CHUNK) {
			ok = news_write(conn, out.data, out.len, error_r);
			buf_reset(&out);
			if (!ok)
				break;
		}
	}
	if (ok) {
		news_dot_encode_finish(&enc, &out);
		ok = news_write(conn, out.data, out.len, error_r) &&
			news_read_status(conn, &code, &text, error_r);
	}
	buf_free(&out);
	if (!ok)
		return -1;
	if (code == 240)
		return 1;
	/* 441: posting failed; the text says why. */
	news_fail(error_r, "%u %s", code, text);
	return 0;
}
