#ifndef PETREL_IMAP_BLOB_QUEUE_H
#define PETREL_IMAP_BLOB_QUEUE_H

/* APPEND's message files written off the event loop. Making a body durable
 * costs two waits for the disk (the file's fsync, then its directory's
 * once linked into blobs/); done in the worker they stop every session of
 * the worker, and they serialise appends that could share the disk's
 * journal commits. A job writes the bodies of one APPEND on a pool thread
 * (CRLF normalisation, SHA-256, fsync), parses their metadata and links
 * them into the user's blobs/ (store_blob_prelink), then hands the command
 * back to its worker, where the transaction finds every file in place. */

#include "imap/imap-session.h"
#include "store/store.h"

#include <stddef.h>

struct arena;
struct petrel_config;

struct imap_blob_part {
	struct store_blob *blob;        /* out: NULL on failure */
	struct store_msg_meta meta;     /* out: from the job's arena */
};

struct imap_blob_job;

/* done runs on the command's worker with the parts filled, or with err
 * set (error: the text for the answer; parts before the failing one are
 * filled and linked); it answers the command, and the job is freed after
 * it returns. When the session has gone meanwhile done is not called, and
 * the bodies the job linked go again (unless a message uses them). */
typedef void imap_blob_done_fn(struct imap_cmd *cmd, const struct imap_blob_part *parts,
			       size_t count, enum store_error err, const char *error,
			       void *ctx);

void imap_blob_queue_init(void);
void imap_blob_queue_deinit(void);

/* A job for count bodies, to be linked into the blobs/ of owner's store
 * (the name and directory are copied from it). */
struct imap_blob_job *imap_blob_job_new(struct imap_cmd *cmd, size_t count,
					const struct store_user *owner);
/* Body i: len bytes, copied (the command's literal may go before the job
 * ends); map, when not NULL, is an mmap of len bytes that the job takes
 * over instead (and unmaps). */
void imap_blob_job_set(struct imap_blob_job *job, size_t i, const unsigned char *data,
		       size_t len, void *map);
/* Starts the job; the command waits (returns IMAP_CMD_WAIT) until done
 * has answered it. */
enum imap_cmd_result imap_blob_job_submit(struct imap_blob_job *job, imap_blob_done_fn *done,
					  void *ctx);

#endif
