#include "imap/imap-blob-queue.h"

#include "lib/arena.h"
#include "lib/config.h"
#include "lib/workqueue.h"
#include "lib/xalloc.h"
#include "net/conn.h"
#include "net/server.h"
#include "store/store-ingest.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Threads that wait for the disk: more than the cores, so that the
 * fsyncs of several appends are in flight together and the file system
 * can commit them in one journal transaction. */
#define IMAP_BLOB_THREADS 8

static struct workqueue *imap_blob_queue;

struct imap_blob_input {
	const unsigned char *data;
	size_t len;
	unsigned char *copy;       /* heap, or NULL */
	void *map;                 /* taken over from the command, or NULL */
};

struct imap_blob_job {
	struct imap_cmd *cmd;      /* NULL once the session has gone */
	/* Set with cmd = NULL, read by the pool thread: a job whose session
	 * has gone is freed there, never posted to a worker that may be
	 * gone too (shutdown aborts every session before a worker ends). */
	atomic_bool abandoned;
	struct worker *worker;
	imap_blob_done_fn *done;
	void *ctx;
	char *data_dir;
	char *owner;               /* whose blobs/ the bodies go to */
	char *blobs_dir;
	uint64_t max_size;
	size_t count;
	struct imap_blob_input *inputs;
	struct imap_blob_part *parts;
	struct arena *arena;       /* the parts' metadata */
	/* Filled on the pool thread. */
	enum store_error err;
	char *error;
};

void imap_blob_queue_init(void)
{
	imap_blob_queue = workqueue_new(IMAP_BLOB_THREADS, "petrel-blob");
}

void imap_blob_queue_deinit(void)
{
	workqueue_destroy(&imap_blob_queue);
}

struct imap_blob_job *imap_blob_job_new(struct imap_cmd *cmd, size_t count,
					const struct store_user *owner)
{
	const struct petrel_config *cfg = cmd->session->cfg;
	struct imap_blob_job *job = xcalloc(1, sizeof(*job));
	job->cmd = cmd;
	job->worker = conn_worker(cmd->session->conn);
	job->data_dir = xstrdup(cfg->data_dir);
	job->owner = xstrdup(store_user_name(owner));
	job->blobs_dir = xstrdup(store_user_blobs_dir(owner));
	job->max_size = cfg->append_size;
	job->count = count;
	job->inputs = xcalloc(count ? count : 1, sizeof(*job->inputs));
	job->parts = xcalloc(count ? count : 1, sizeof(*job->parts));
	job->arena = arena_new(0);
	return job;
}

void imap_blob_job_set(struct imap_blob_job *job, size_t i, const unsigned char *data,
		       size_t len, void *map)
{
	struct imap_blob_input *in = &job->inputs[i];
	in->len = len;
	if (map != NULL) {
		in->map = map;
		in->data = map;
		return;
	}
	in->copy = xmalloc(len ? len : 1);
	memcpy(in->copy, data, len);
	in->data = in->copy;
}

/* On a pool thread, for a job whose session went before the bodies were
 * stored: the bodies it linked into blobs/ are released (the check that no
 * message uses one, and a concurrent append of the same body, are
 * store_blobs_release's business), instead of waiting for the start-up
 * sweep of orphans. */
static void imap_blob_job_release_abandoned(struct imap_blob_job *job)
{
	const char **hashes = xcalloc(job->count ? job->count : 1, sizeof(*hashes));
	size_t n = 0;
	for (size_t i = 0; i < job->count; i++)
		if (job->parts[i].blob != NULL)
			hashes[n++] = store_blob_hash(job->parts[i].blob);
	struct store_user *u = NULL;
	const char *error;
	if (n > 0 && store_user_open(job->data_dir, job->owner, &u, &error) == STORE_OK) {
		store_blobs_release(u, hashes, n);
		store_user_close(&u);
	}
	free(hashes);
}

static void imap_blob_job_free(struct imap_blob_job *job)
{
	if (atomic_load(&job->abandoned))
		imap_blob_job_release_abandoned(job);
	for (size_t i = 0; i < job->count; i++) {
		store_blob_free(&job->parts[i].blob);
		free(job->inputs[i].copy);
		if (job->inputs[i].map != NULL)
			munmap(job->inputs[i].map, job->inputs[i].len);
	}
	free(job->inputs);
	free(job->parts);
	arena_destroy(&job->arena);
	free(job->data_dir);
	free(job->owner);
	free(job->blobs_dir);
	free(job->error);
	free(job);
}

static void imap_blob_job_free_run(void *arg)
{
	imap_blob_job_free(arg);
}

/* One body: written, synced, parsed and linked into blobs/. */
static enum store_error imap_blob_write(struct imap_blob_job *job, size_t i,
					const char **error_r)
{
	const struct imap_blob_input *in = &job->inputs[i];
	struct imap_blob_part *part = &job->parts[i];
	struct store_blob_writer *w;
	enum store_error err = store_blob_writer_begin(job->data_dir, job->max_size, &w, error_r);
	if (err != STORE_OK)
		return err;
	err = store_blob_writer_write(w, in->data, in->len, error_r);
	if (err != STORE_OK) {
		store_blob_writer_abort(&w);
		return err;
	}
	err = store_blob_writer_finish(&w, &part->blob, error_r);
	if (err == STORE_OK)
		err = store_ingest_meta(part->blob, job->arena, &part->meta, error_r);
	if (err == STORE_OK)
		err = store_blob_prelink(job->blobs_dir, part->blob, error_r);
	return err;
}

/* Back on the command's worker. */
static void imap_blob_job_returned(void *arg)
{
	struct imap_blob_job *job = arg;
	struct imap_cmd *cmd = job->cmd;
	if (cmd != NULL) {
		struct imap_session *s = cmd->session;
		cmd->on_abort = NULL;
		job->done(cmd, job->parts, job->count, job->err, job->error, job->ctx);
		imap_session_cmd_finished(s);
	}
	/* Not here: removing the scratch files can wait for the disk (a
	 * body already stored is a copy whose blocks go, and a file system
	 * mounted with discard frees them synchronously). */
	workqueue_submit(imap_blob_queue, imap_blob_job_free_run, job);
}

/* On a pool thread. */
static void imap_blob_job_run(void *arg)
{
	struct imap_blob_job *job = arg;
	const char *error = NULL;
	for (size_t i = 0; i < job->count && job->err == STORE_OK; i++)
		job->err = imap_blob_write(job, i, &error);
	if (job->err != STORE_OK)
		job->error = xstrdup(error != NULL ? error : "Cannot store the message");
	if (atomic_load(&job->abandoned))
		imap_blob_job_free(job);
	else
		worker_post(job->worker, imap_blob_job_returned, job);
}

/* The session goes while the bodies are written: they are finished, and
 * those linked into blobs/ released (imap_blob_job_release_abandoned). */
static void imap_blob_job_abort(struct imap_cmd *cmd)
{
	struct imap_blob_job *job = cmd->ctx;
	job->cmd = NULL;
	atomic_store(&job->abandoned, true);
}

enum imap_cmd_result imap_blob_job_submit(struct imap_blob_job *job, imap_blob_done_fn *done,
					  void *ctx)
{
	job->done = done;
	job->ctx = ctx;
	job->cmd->ctx = job;
	job->cmd->on_abort = imap_blob_job_abort;
	workqueue_submit(imap_blob_queue, imap_blob_job_run, job);
	return IMAP_CMD_WAIT;
}
