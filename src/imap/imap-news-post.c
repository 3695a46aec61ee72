#include "imap/imap-news-post.h"

#include "imap/imap-access.h"
#include "imap/imap-flags.h"
#include "imap/imap-mailbox-name.h"
#include "imap/imap-seqset.h"
#include "lib/arena.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/workqueue.h"
#include "lib/xalloc.h"
#include "net/conn.h"
#include "net/server.h"
#include "news/news.h"
#include "store/store-ingest.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Posting threads: a post waits on the network, rarely long; two keep one
 * slow server from holding up every other post. */
#define IMAP_NEWS_POST_THREADS 2

static struct workqueue *imap_news_post_queue;
static const struct petrel_config *imap_news_post_cfg;

struct news_post_job {
	struct imap_cmd *cmd;      /* NULL once the session has gone */
	struct worker *worker;
	char *group;
	char *mailbox;             /* the folder's name in the public store */
	unsigned char *data;
	size_t len;
	struct imap_flag_list flags;
	int64_t date;
	int tz_offset_min;
	/* Filled on the pool thread. */
	enum news_post_result result;
	char *added_headers;
	char *error;
};

void imap_news_post_init(const struct petrel_config *cfg)
{
	imap_news_post_cfg = cfg;
	imap_news_post_queue = workqueue_new(IMAP_NEWS_POST_THREADS, "petrel-post");
}

void imap_news_post_deinit(void)
{
	workqueue_destroy(&imap_news_post_queue);
}

const char *imap_news_post_group(struct imap_cmd *cmd, const struct imap_mailbox *mb)
{
	char *group = NULL;
	if (mb->ref.ns != IMAP_NS_PUBLIC ||
	    !news_folder_group(cmd->session->cfg, mb->ref.name, &group))
		return NULL;
	const char *copy = arena_strdup(cmd->arena, group);
	free(group);
	return copy;
}

static void news_post_job_free(struct news_post_job *job)
{
	free(job->group);
	free(job->mailbox);
	free(job->data);
	free(job->added_headers);
	free(job->error);
	free(job);
}

static void news_post_abort(struct imap_cmd *cmd)
{
	struct news_post_job *job = cmd->ctx;
	/* The post goes on; if the server takes it, the next pull stores
	 * it. */
	job->cmd = NULL;
}

/* The accepted article, as posted (added lines first), into the folder. */
static enum store_error news_post_store(struct imap_cmd *cmd, struct news_post_job *job,
					uint32_t *uidvalidity_r, uint32_t *uid_r,
					const char **error_r)
{
	struct imap_session *s = cmd->session;
	struct store_user *u = imap_session_store_of(s, STORE_PUBLIC_OWNER, error_r);
	if (u == NULL)
		return STORE_ERR_INTERNAL;
	struct store_mailbox_status st;
	enum store_error err = store_mailbox_status(u, job->mailbox, &st, error_r);
	struct store_blob_writer *w = NULL;
	struct store_blob *blob = NULL;
	if (err == STORE_OK)
		err = store_blob_writer_begin(s->cfg->data_dir, 0, &w, error_r);
	if (err == STORE_OK && job->added_headers != NULL)
		err = store_blob_writer_write(w, job->added_headers, strlen(job->added_headers),
					      error_r);
	if (err == STORE_OK)
		err = store_blob_writer_write(w, job->data, job->len, error_r);
	if (err == STORE_OK)
		err = store_blob_writer_finish(&w, &blob, error_r);
	store_blob_writer_abort(&w);
	struct store_msg_meta meta;
	if (err == STORE_OK)
		err = store_ingest_meta(blob, cmd->arena, &meta, error_r);
	if (err == STORE_OK) {
		struct store_append app = {
			.blob = blob, .flags = job->flags.flags, .keywords = job->flags.keywords,
			.keyword_count = job->flags.keyword_count, .internal_date = job->date,
			.tz_offset_min = job->tz_offset_min, .meta = &meta,
		};
		err = store_msg_append(u, st.id, &app, 1, uidvalidity_r, uid_r, error_r);
	}
	store_blob_free(&blob);
	return err;
}

static void news_post_answer(struct imap_cmd *cmd, struct news_post_job *job)
{
	if (job->result == NEWS_POST_REFUSED) {
		imap_cmd_no(cmd, "CANNOT", "The news server refused the article: %s", job->error);
		return;
	}
	if (job->result == NEWS_POST_FAILED) {
		imap_cmd_no(cmd, "UNAVAILABLE", "The news server cannot be reached: %s",
			    job->error);
		return;
	}
	uint32_t uidvalidity, uid;
	const char *error;
	enum store_error err = news_post_store(cmd, job, &uidvalidity, &uid, &error);
	if (err != STORE_OK) {
		/* Posted but not kept here: the next pull brings it. */
		log_event(LOG_WARN, conn_id(cmd->session->conn), "news_post_not_stored",
			  "group=%s error=%s", job->group, log_str(cmd->arena, error));
		imap_mailbox_answer_store_error(cmd, err, error);
		return;
	}
	imap_cmd_ok(cmd, arena_printf(cmd->arena, "APPENDUID %u %u", uidvalidity, uid),
		    "APPEND completed, article posted to %s", job->group);
}

/* Back on the session's worker thread. */
static void news_post_done(void *arg)
{
	struct news_post_job *job = arg;
	struct imap_cmd *cmd = job->cmd;
	if (cmd != NULL) {
		struct imap_session *s = cmd->session;
		cmd->on_abort = NULL;
		news_post_answer(cmd, job);
		imap_session_cmd_finished(s);
	}
	news_post_job_free(job);
}

/* On a posting thread. */
static void news_post_run(void *arg)
{
	struct news_post_job *job = arg;
	const char *error = NULL;
	job->result = news_post(imap_news_post_cfg, job->group, -1, job->data, job->len,
				&job->added_headers, &error);
	if (job->result != NEWS_POST_OK)
		job->error = xstrdup(error != NULL ? error : "unknown error");
	worker_post(job->worker, news_post_done, job);
}

enum imap_cmd_result imap_news_post(struct imap_cmd *cmd, const struct imap_mailbox *mb,
				    const char *group, const void *data, size_t len,
				    const struct imap_flag_list *flags, bool has_date,
				    int64_t date, int tz_offset_min)
{
	struct news_post_job *job = xcalloc(1, sizeof(*job));
	job->cmd = cmd;
	job->worker = conn_worker(cmd->session->conn);
	job->group = xstrdup(group);
	job->mailbox = xstrdup(mb->ref.name);
	job->data = xmalloc(len > 0 ? len : 1);
	memcpy(job->data, data, len);
	job->len = len;
	/* The keywords stay in the command arena, which lives until the
	 * command finishes. */
	job->flags = *flags;
	job->date = has_date ? date : (int64_t)time(NULL);
	job->tz_offset_min = has_date ? tz_offset_min : 0;
	cmd->ctx = job;
	cmd->on_abort = news_post_abort;
	workqueue_submit(imap_news_post_queue, news_post_run, job);
	return IMAP_CMD_WAIT;
}
