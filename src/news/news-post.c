/* Posting an article upstream for an IMAP APPEND into a news folder. */

#include "news/news.h"

#include "lib/buf.h"
#include "lib/config.h"
#include "lib/xalloc.h"
#include "news/news-nntp.h"
#include "news/news-wildmat.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* The header block is looked at up to this many bytes; a field past it
 * counts as missing (and is then added: harmless for Newsgroups, and a
 * second Message-ID is what the server will refuse, with its reason). */
#define NEWS_POST_HEADER_SCAN (256 * 1024)

static __thread char news_post_error[1024];

static const char *news_post_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *news_post_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(news_post_error, sizeof(news_post_error), fmt, ap);
	va_end(ap);
	return news_post_error;
}

/* The message: an fd read with pread, or a buffer. */
struct news_post_source {
	int fd;
	const unsigned char *data;
	uint64_t size;
	uint64_t offset;
	const char *prefix;   /* added header lines, sent first */
	size_t prefix_len, prefix_sent;
};

static long news_post_read(void *ctx, void *buf, size_t size)
{
	struct news_post_source *src = ctx;
	if (src->prefix_sent < src->prefix_len) {
		size_t n = src->prefix_len - src->prefix_sent;
		n = n < size ? n : size;
		memcpy(buf, src->prefix + src->prefix_sent, n);
		src->prefix_sent += n;
		return (long)n;
	}
	uint64_t left = src->size - src->offset;
	size_t n = left < size ? (size_t)left : size;
	if (n == 0)
		return 0;
	if (src->fd < 0) {
		memcpy(buf, src->data + src->offset, n);
	} else {
		ssize_t got;
		do {
			got = pread(src->fd, buf, n, (off_t)src->offset);
		} while (got < 0 && errno == EINTR);
		if (got <= 0) {
			if (got == 0)
				errno = EIO; /* the file is shorter than size */
			return -1;
		}
		n = (size_t)got;
	}
	src->offset += n;
	return (long)n;
}

/* The first NEWS_POST_HEADER_SCAN bytes of the message (or fewer). */
static bool news_post_head(const struct news_post_source *src, struct buf *head)
{
	size_t want = src->size < NEWS_POST_HEADER_SCAN ? (size_t)src->size : NEWS_POST_HEADER_SCAN;
	if (src->fd < 0) {
		buf_append(head, src->data, want);
		return true;
	}
	buf_reserve(head, want);
	ssize_t got;
	do {
		got = pread(src->fd, head->data, want, 0);
	} while (got < 0 && errno == EINTR);
	if (got < 0)
		return false;
	head->len = (size_t)got;
	head->data[head->len] = '\0';
	return true;
}

/* Does the header block in head (up to its first empty line) have a field
 * called name? Continuation lines (starting with a blank) are not fields. */
static bool news_header_has(const struct buf *head, const char *name)
{
	size_t name_len = strlen(name);
	const char *p = (const char *)head->data, *end = p + head->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (len == 0 || (len == 1 && p[0] == '\r'))
			return false; /* end of the header */
		if (len > name_len && p[name_len] == ':' && strncasecmp(p, name, name_len) == 0)
			return true;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return false;
}

/* A Message-ID of our own (RFC 5536 §3.1.3): random, with this host's
 * name on the right. */
static void news_msgid_make(struct buf *out)
{
	unsigned char rnd[12] = { 0 };
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
		memcpy(rnd, &t, sizeof(t));
	}
	char host[256] = "";
	if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "petrel.invalid");
	for (char *c = host; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '.'))
			*c = '-';
	buf_append_str(out, "Message-ID: <petrel.");
	for (size_t i = 0; i < sizeof(rnd); i++)
		buf_printf(out, "%02x", rnd[i]);
	buf_printf(out, "@%s>\r\n", host);
}

static const struct config_news_server *news_post_server(const struct petrel_config *cfg,
							  const char *newsgroup)
{
	for (size_t i = 0; i < cfg->news_server_count; i++) {
		const struct config_news_server *s = &cfg->news_servers[i];
		if (s->post && news_wildmat_match(s->groups, newsgroup))
			return s;
	}
	return NULL;
}

enum news_post_result news_post(const struct petrel_config *cfg, const char *newsgroup, int fd,
				const void *data, uint64_t size, char **added_headers_r,
				const char **error_r)
{
	*added_headers_r = NULL;
	const struct config_news_server *srv = news_post_server(cfg, newsgroup);
	if (srv == NULL) {
		*error_r = news_post_fail("No news server takes posts for %s", newsgroup);
		return NEWS_POST_REFUSED;
	}
	struct news_post_source src = { .fd = fd, .data = data, .size = size };
	struct buf head = BUF_INIT, added = BUF_INIT;
	if (!news_post_head(&src, &head)) {
		*error_r = news_post_fail("Reading the article: %s", strerror(errno));
		buf_free(&head);
		return NEWS_POST_FAILED;
	}
	if (!news_header_has(&head, "Newsgroups"))
		buf_printf(&added, "Newsgroups: %s\r\n", newsgroup);
	if (!news_header_has(&head, "Message-ID"))
		news_msgid_make(&added);
	buf_free(&head);
	src.prefix = (const char *)added.data;
	src.prefix_len = added.len;

	struct news_conn *conn;
	const char *error;
	enum news_post_result result = NEWS_POST_FAILED;
	if (news_conn_open(srv, cfg->news_timeout, NULL, &conn, &error)) {
		int r = news_conn_post(conn, news_post_read, &src, &error);
		result = r > 0 ? NEWS_POST_OK : r == 0 ? NEWS_POST_REFUSED : NEWS_POST_FAILED;
		news_conn_close(&conn);
	}
	if (result != NEWS_POST_OK) {
		*error_r = news_post_fail("%s: %s", srv->name, error);
		buf_free(&added);
		return result;
	}
	if (added.len > 0)
		*added_headers_r = xstrdup((const char *)added.data);
	buf_free(&added);
	return NEWS_POST_OK;
}
