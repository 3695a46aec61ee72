#ifndef PETREL_NEWS_H
#define PETREL_NEWS_H

/* The news feed (docs/news.md): newsgroups of upstream NNTP servers kept
 * as public folders. [news] root "Public Folders/News" is the public
 * store's "News", and comp.lang.c is the folder "News/comp/lang/c" there
 * (the client sees "Public Folders/News/comp/lang/c"). Articles are
 * stored as received, so Newsgroups, Message-ID and References stay and
 * THREAD=REFERENCES threads them; an article cross-posted to several
 * groups is stored once and copied (same blob) into each folder.
 *
 * Threads: every function here blocks (network, disk) and must not run on
 * an IMAP worker's event loop thread unless that thread may block (the
 * worker thread pool may). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct petrel_config;
struct news_cancel;

/* ---- Folders ---- */

/* Is mailbox, a name in the public store ("News/comp/lang/c", without
 * the "Public Folders/" prefix), the folder of a newsgroup that a
 * configured [news-server] carries? Then true, with *group_r (may be NULL)
 * the newsgroup, "comp.lang.c" (heap; the caller frees). Only the name is
 * looked at: whether the folder exists is the caller's to know. */
bool news_folder_group(const struct petrel_config *cfg, const char *mailbox, char **group_r);

/* ---- Posting ---- */

enum news_post_result {
	NEWS_POST_OK,       /* the server accepted it (240) */
	NEWS_POST_REFUSED,  /* the server, or Petrel, said no: a permanent answer */
	NEWS_POST_FAILED,   /* no answer (connection, TLS, timeout): try later */
};

/* Posts an article (RFC 3977 §6.3) to the first [news-server] that
 * carries newsgroup and allows posting (post = yes), for an IMAP APPEND
 * into a news folder by a user with the 'p' right. The message is the
 * bytes [0, size) of fd (read with pread; the offset is not used), or,
 * when fd is -1, size bytes at data. Line endings may be CRLF or LF;
 * dot-stuffing is done here.
 *
 * An article needs Newsgroups and Message-ID header fields: when the
 * message has no Newsgroups field, "Newsgroups: <newsgroup>" is put in
 * front of it, and when it has no Message-ID, one is made. Those added
 * lines (CRLF-terminated) are returned in *added_headers_r (heap, caller
 * frees; NULL when nothing was added): on NEWS_POST_OK the caller stores
 * added headers + message, so that the stored copy carries the Message-ID
 * the server knows and the next pull recognises it instead of storing it
 * twice.
 *
 * On REFUSED or FAILED, *error_r is the reason, for the user: the
 * server's own answer when it refused ("441 ..."). It points to a
 * thread-local buffer valid until the next news_* call in this thread.
 * Blocks up to [news] timeout per network wait. */
enum news_post_result news_post(const struct petrel_config *cfg, const char *newsgroup, int fd,
				const void *data, uint64_t size, char **added_headers_r,
				const char **error_r);

/* ---- Pulling ---- */

enum news_article_outcome {
	NEWS_ARTICLE_STORED,     /* downloaded and stored */
	NEWS_ARTICLE_COPIED,     /* a cross-post already stored elsewhere: copied */
	NEWS_ARTICLE_DUPLICATE,  /* already in this folder (same Message-ID) */
	NEWS_ARTICLE_TOO_OLD,    /* older than [news] expire: not stored */
	NEWS_ARTICLE_GONE,       /* the server no longer has it */
	NEWS_ARTICLE_TOO_BIG,    /* larger than [news] article_size */
};

/* What a pull tells as it goes; every member may be NULL. Strings are
 * valid during the call only. */
struct news_pull_events {
	/* A server's groups are about to be pulled. */
	void (*server)(void *ctx, const char *server, size_t group_count);
	/* A group has articles first..last to look at (none when first > last). */
	void (*group)(void *ctx, const char *group, uint64_t first, uint64_t last);
	void (*article)(void *ctx, const char *group, uint64_t number, const char *message_id,
			enum news_article_outcome outcome);
	void (*expired)(void *ctx, const char *group, size_t count);
	/* Something failed; the pull goes on with the next group or server. */
	void (*error)(void *ctx, const char *server, const char *group, const char *error);
	void *ctx;
};

struct news_pull_stats {
	unsigned servers, groups;
	uint64_t stored, copied, skipped, expired;
	unsigned errors;
};

/* One pass: for each [news-server], every group its groups wildmat
 * selects (LIST ACTIVE) gets its folder (created with [public]
 * default_acl when new), and the articles above the group's high-water
 * mark are stored (GROUP, OVER or XOVER, ARTICLE); then articles older
 * than [news] expire are expunged from every news folder. A group is
 * pulled from the first server that carries it. The mark moves after each
 * article, and an article whose Message-ID is already in the folder is
 * never stored again, so a pass killed at any point and run again loses
 * and duplicates nothing.
 *
 * One pass runs at a time per data directory (a lock file); false with
 * *error_r "another pull is running" (busy_r true) when one is, or when
 * the public store cannot be opened. Failures of a server or group are
 * reported through events->error, counted in stats_r->errors, and the
 * pass goes on. cancel (may be NULL) stops it between two articles, or at
 * once inside a network wait. *error_r: thread-local, as for news_post. */
bool news_pull(const struct petrel_config *cfg, const struct news_pull_events *events,
	       struct news_cancel *cancel, struct news_pull_stats *stats_r, bool *busy_r,
	       const char **error_r);

/* ---- The daemon's periodic pull ---- */

/* Starts a background thread (not an IMAP worker) that runs news_pull
 * every [news] pull_interval, the first time right away, logging what it
 * does. Does nothing when no [news-server] is configured or the interval
 * is 0. cfg must outlive news_daemon_stop. */
void news_daemon_start(const struct petrel_config *cfg);
/* Stops the thread (interrupting a pull in progress at its next network
 * wait or article) and waits for it. Safe to call when not started, and
 * more than once. */
void news_daemon_stop(void);

#endif
