/* The daemon's periodic pull: one thread of its own, never an IMAP
 * worker, stopped through a condition variable and a news_cancel. */

#include "news/news.h"

#include "lib/arena.h"
#include "lib/config.h"
#include "lib/log.h"
#include "news/news-nntp.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t news_daemon_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t news_daemon_cond;
static pthread_t news_daemon_thread;
static bool news_daemon_running;
static bool news_daemon_stopping;
static struct news_cancel *news_daemon_cancel;
static const struct petrel_config *news_daemon_cfg;

static const char *news_outcome_name(enum news_article_outcome outcome)
{
	switch (outcome) {
	case NEWS_ARTICLE_STORED: return "stored";
	case NEWS_ARTICLE_COPIED: return "copied";
	case NEWS_ARTICLE_DUPLICATE: return "duplicate";
	case NEWS_ARTICLE_TOO_OLD: return "too_old";
	case NEWS_ARTICLE_GONE: return "gone";
	case NEWS_ARTICLE_TOO_BIG: return "too_big";
	}
	return "unknown";
}

static void news_log_article(void *ctx, const char *group, uint64_t number,
			     const char *message_id, enum news_article_outcome outcome)
{
	struct arena *a = arena_new(0);
	log_event(LOG_DEBUG, NULL, "news_article", "group=%s number=%llu message_id=%s outcome=%s",
		  log_str(a, group), (unsigned long long)number, log_str(a, message_id),
		  news_outcome_name(outcome));
	arena_destroy(&a);
}

static void news_log_expired(void *ctx, const char *group, size_t count)
{
	struct arena *a = arena_new(0);
	log_event(LOG_INFO, NULL, "news_expired", "group=%s count=%zu", log_str(a, group), count);
	arena_destroy(&a);
}

static void news_log_error(void *ctx, const char *server, const char *group, const char *error)
{
	struct arena *a = arena_new(0);
	log_event(LOG_WARN, NULL, "news_pull_error", "server=%s group=%s error=%s",
		  log_str(a, server), log_str(a, group), log_str(a, error));
	arena_destroy(&a);
}

static void news_daemon_pass(void)
{
	static const struct news_pull_events events = {
		.article = news_log_article,
		.expired = news_log_expired,
		.error = news_log_error,
	};
	struct news_pull_stats stats;
	bool busy;
	const char *error;
	if (!news_pull(news_daemon_cfg, &events, news_daemon_cancel, &stats, &busy, &error)) {
		struct arena *a = arena_new(0);
		log_event(busy ? LOG_INFO : LOG_ERROR, NULL, "news_pull_skipped", "error=%s",
			  log_str(a, error));
		arena_destroy(&a);
		return;
	}
	log_event(LOG_INFO, NULL, "news_pull",
		  "servers=%u groups=%u stored=%llu copied=%llu skipped=%llu expired=%llu errors=%u",
		  stats.servers, stats.groups, (unsigned long long)stats.stored,
		  (unsigned long long)stats.copied, (unsigned long long)stats.skipped,
		  (unsigned long long)stats.expired, stats.errors);
}

static void *news_daemon_main(void *arg)
{
	pthread_mutex_lock(&news_daemon_lock);
	while (!news_daemon_stopping) {
		pthread_mutex_unlock(&news_daemon_lock);
		news_daemon_pass();
		pthread_mutex_lock(&news_daemon_lock);
		/* The condition variable runs on CLOCK_MONOTONIC: a change of
		 * the wall clock does not bunch or delay pulls. */
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += (time_t)news_daemon_cfg->news_pull_interval;
		while (!news_daemon_stopping &&
		       pthread_cond_timedwait(&news_daemon_cond, &news_daemon_lock, &until) == 0)
			;
	}
	pthread_mutex_unlock(&news_daemon_lock);
	return NULL;
}

void news_daemon_start(const struct petrel_config *cfg)
{
	if (cfg->news_server_count == 0 || cfg->news_pull_interval == 0)
		return;
	pthread_mutex_lock(&news_daemon_lock);
	if (news_daemon_running) {
		pthread_mutex_unlock(&news_daemon_lock);
		return;
	}
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&news_daemon_cond, &attr);
	pthread_condattr_destroy(&attr);
	news_daemon_cfg = cfg;
	news_daemon_stopping = false;
	news_daemon_cancel = news_cancel_new();
	if (pthread_create(&news_daemon_thread, NULL, news_daemon_main, NULL) != 0) {
		log_event(LOG_ERROR, NULL, "news_daemon_failed", "error=\"cannot start thread\"");
		news_cancel_free(&news_daemon_cancel);
		pthread_cond_destroy(&news_daemon_cond);
	} else {
		news_daemon_running = true;
		log_event(LOG_INFO, NULL, "news_daemon_started", "interval=%u",
			  cfg->news_pull_interval);
	}
	pthread_mutex_unlock(&news_daemon_lock);
}

void news_daemon_stop(void)
{
	pthread_mutex_lock(&news_daemon_lock);
	if (!news_daemon_running) {
		pthread_mutex_unlock(&news_daemon_lock);
		return;
	}
	news_daemon_running = false;
	news_daemon_stopping = true;
	pthread_cond_signal(&news_daemon_cond);
	pthread_mutex_unlock(&news_daemon_lock);
	news_cancel_request(news_daemon_cancel);
	pthread_join(news_daemon_thread, NULL);
	news_cancel_free(&news_daemon_cancel);
	pthread_cond_destroy(&news_daemon_cond);
}
