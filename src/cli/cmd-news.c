/* petrel news pull: one pass of the news feed by hand (docs/news.md),
 * with a line of progress per server and group (and per article with
 * --verbose). The daemon runs the same pass every [news] pull_interval.
 * petrel news post: an article from standard input, through news_post,
 * the function an IMAP APPEND into a news folder uses. */

#include "cli/cli.h"

#include "lib/config.h"
#include "news/news.h"

#include "lib/buf.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

static const char news_usage[] =
	"Usage: petrel [-c FILE] news pull [-v]\n"
	"       petrel [-c FILE] news post NEWSGROUP < ARTICLE\n"
	"\n"
	"pull: fetches new articles from every [news-server] into the public\n"
	"folders below [news] root, then removes articles older than [news]\n"
	"expire. Prints a line per server and group as it goes.\n"
	"post: posts the article on standard input to the server that carries\n"
	"NEWSGROUP (adding Newsgroups and Message-ID fields when missing); the\n"
	"next pull brings it into the folder.\n"
	"\n"
	"Options:\n"
	"  -v, --verbose   pull: also a line per article\n"
	"  -h, --help      show this help\n"
	"\n"
	"Exit status: 0 done; 64 bad usage; 65 the server refused the article;\n"
	"75 a server or group failed, or another pull is running (the rest was\n"
	"done); 78 no [news-server] configured.\n";

static const char *news_outcome_text(enum news_article_outcome outcome)
{
	switch (outcome) {
	case NEWS_ARTICLE_STORED: return "stored";
	case NEWS_ARTICLE_COPIED: return "copied (cross-post)";
	case NEWS_ARTICLE_DUPLICATE: return "already stored";
	case NEWS_ARTICLE_TOO_OLD: return "older than [news] expire, skipped";
	case NEWS_ARTICLE_GONE: return "no longer on the server";
	case NEWS_ARTICLE_TOO_BIG: return "larger than [news] article_size, skipped";
	}
	return "?";
}

static void news_print_server(void *ctx, const char *server, size_t group_count)
{
	printf("server %s: %zu group%s\n", server, group_count, group_count == 1 ? "" : "s");
	fflush(stdout);
}

static void news_print_group(void *ctx, const char *group, uint64_t first, uint64_t last)
{
	if (first > last)
		printf("%s: nothing new\n", group);
	else
		printf("%s: articles %llu-%llu\n", group, (unsigned long long)first,
		       (unsigned long long)last);
	fflush(stdout);
}

static void news_print_article(void *ctx, const char *group, uint64_t number,
			       const char *message_id, enum news_article_outcome outcome)
{
	const bool *verbose = ctx;
	if (!*verbose)
		return;
	printf("  %s %llu %s %s\n", group, (unsigned long long)number,
	       message_id[0] != '\0' ? message_id : "-", news_outcome_text(outcome));
	fflush(stdout);
}

static void news_print_expired(void *ctx, const char *group, size_t count)
{
	printf("%s: %zu expired article%s removed\n", group, count, count == 1 ? "" : "s");
	fflush(stdout);
}

static void news_print_error(void *ctx, const char *server, const char *group,
			     const char *error)
{
	if (group[0] != '\0')
		cli_error("news: %s: %s: %s", server, group, error);
	else
		cli_error("news: %s: %s", server[0] != '\0' ? server : "pull", error);
}

static int news_pull_command(struct petrel_config *cfg, bool verbose)
{
	if (cfg->news_server_count == 0) {
		cli_error("news: no [news-server] section in the configuration");
		return EX_CONFIG;
	}
	struct news_pull_events events = {
		.server = news_print_server,
		.group = news_print_group,
		.article = news_print_article,
		.expired = news_print_expired,
		.error = news_print_error,
		.ctx = &verbose,
	};
	struct news_pull_stats stats;
	bool busy;
	const char *error;
	if (!news_pull(cfg, &events, NULL, &stats, &busy, &error)) {
		cli_error("news: %s", error);
		return busy ? EX_TEMPFAIL : EX_SOFTWARE;
	}
	printf("done: %llu stored, %llu copied, %llu skipped, %llu expired, %u error%s\n",
	       (unsigned long long)stats.stored, (unsigned long long)stats.copied,
	       (unsigned long long)stats.skipped, (unsigned long long)stats.expired,
	       stats.errors, stats.errors == 1 ? "" : "s");
	return stats.errors == 0 ? EX_OK : EX_TEMPFAIL;
}

/* Reads standard input whole, up to max bytes. */
static bool news_read_stdin(uint64_t max, struct buf *out)
{
	char chunk[65536];
	for (;;) {
		ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cli_error("news: reading standard input: %s", strerror(errno));
			return false;
		}
		if (n == 0)
			return true;
		if (out->len + (size_t)n > max) {
			cli_error("news: the article is larger than [news] article_size");
			return false;
		}
		buf_append(out, chunk, (size_t)n);
	}
}

static int news_post_command(struct petrel_config *cfg, int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-') {
		fputs(news_usage, stderr);
		return EX_USAGE;
	}
	if (cfg->news_server_count == 0) {
		cli_error("news: no [news-server] section in the configuration");
		return EX_CONFIG;
	}
	struct buf article = BUF_INIT;
	if (!news_read_stdin(cfg->news_article_size, &article)) {
		buf_free(&article);
		return EX_DATAERR;
	}
	if (article.len == 0) {
		cli_error("news: empty article");
		return EX_DATAERR;
	}
	char *added = NULL;
	const char *error = NULL;
	enum news_post_result r = news_post(cfg, argv[1], -1, article.data, article.len, &added,
					    &error);
	buf_free(&article);
	if (r != NEWS_POST_OK) {
		cli_error("news: %s", error);
		return r == NEWS_POST_REFUSED ? EX_DATAERR : EX_TEMPFAIL;
	}
	printf("posted to %s\n", argv[1]);
	if (added != NULL)
		fputs(added, stdout);
	free(added);
	return EX_OK;
}

int cli_news(struct petrel_config *cfg, int argc, char **argv)
{
	/* A TLS write to a server that has closed must fail, not kill us
	 * (OpenSSL writes to the socket without MSG_NOSIGNAL). */
	signal(SIGPIPE, SIG_IGN);
	static const struct option options[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(news_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EX_USAGE : EX_OK;
	}
	if (strcmp(argv[1], "post") == 0)
		return news_post_command(cfg, argc - 1, argv + 1);
	if (strcmp(argv[1], "pull") != 0) {
		cli_error("news: unknown subcommand '%s'", argv[1]);
		fputs(news_usage, stderr);
		return EX_USAGE;
	}
	bool verbose = false;
	optind = 1;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc - 1, argv + 1, "+vh", options, NULL)) != -1) {
		switch (opt) {
		case 'v': verbose = true; break;
		case 'h': fputs(news_usage, stdout); return EX_OK;
		default:
			/* (argv + 1)[optind - 1], the option just refused */
			cli_error("news: bad option '%s'", argv[optind]);
			fputs(news_usage, stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc - 1) {
		cli_error("news: unexpected argument '%s'", argv[optind + 1]);
		return EX_USAGE;
	}
	return news_pull_command(cfg, verbose);
}
