#ifndef PETREL_WORKQUEUE_H
#define PETREL_WORKQUEUE_H

/* A small pool of threads for blocking or CPU-heavy jobs (password hashing)
 * that must not stall an event loop. Jobs run in FIFO order on any pool
 * thread; run(arg) does the work there, and the caller's run() is expected
 * to hand the result back to its own thread (e.g. with worker_post). */

#include <stddef.h>

struct workqueue;

/* name: the threads' name (at most 15 bytes), for top -H. */
struct workqueue *workqueue_new(unsigned threads, const char *name);
/* Queues run(arg). Safe from any thread. */
void workqueue_submit(struct workqueue *q, void (*run)(void *arg), void *arg);
/* Waits for queued jobs to finish, stops the threads, frees, *q = NULL. */
void workqueue_destroy(struct workqueue **q);

#endif
