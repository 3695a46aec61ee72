#ifndef PETREL_IMAP_THREAD_H
#define PETREL_IMAP_THREAD_H

/* THREAD=ORDEREDSUBJECT and THREAD=REFERENCES (RFC 5256 §3). */

#include <stddef.h>

struct buf;
struct imap_cmd;
struct imap_sort_msg;

/* Append the thread-list response data (without "THREAD") for msgs, which
 * are in sequence order. Memory from the command arena. */
void imap_thread_orderedsubject(struct imap_cmd *cmd, struct imap_sort_msg *msgs, size_t count,
				struct buf *out);
void imap_thread_references(struct imap_cmd *cmd, struct imap_sort_msg *msgs, size_t count,
			    struct buf *out);

#endif
