#include "lib/workqueue.h"
#include "lib/xalloc.h"

#include <pthread.h>
#include <stdbool.h>

struct workqueue_job {
	struct workqueue_job *next;
	void (*run)(void *arg);
	void *arg;
};

struct workqueue {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct workqueue_job *head, **tail;
	bool stopping;
	unsigned nthreads;
	pthread_t *threads;
};

static void *workqueue_thread(void *arg)
{
	struct workqueue *q = arg;
	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (q->head == NULL && !q->stopping)
			pthread_cond_wait(&q->cond, &q->lock);
		if (q->head == NULL)
			break;
		struct workqueue_job *job = q->head;
		q->head = job->next;
		if (q->head == NULL)
			q->tail = &q->head;
		pthread_mutex_unlock(&q->lock);
		job->run(job->arg);
		free(job);
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

struct workqueue *workqueue_new(unsigned threads, const char *name)
{
	struct workqueue *q = xcalloc(1, sizeof(*q));
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	q->tail = &q->head;
	q->nthreads = threads ? threads : 1;
	q->threads = xcalloc(q->nthreads, sizeof(*q->threads));
	for (unsigned i = 0; i < q->nthreads; i++) {
		pthread_create(&q->threads[i], NULL, workqueue_thread, q);
		/* Seen in top -H and /proc/PID/task/TID/comm (at most 15 bytes). */
		pthread_setname_np(q->threads[i], name);
	}
	return q;
}

void workqueue_submit(struct workqueue *q, void (*run)(void *arg), void *arg)
{
	struct workqueue_job *job = xmalloc(sizeof(*job));
	job->next = NULL;
	job->run = run;
	job->arg = arg;
	pthread_mutex_lock(&q->lock);
	*q->tail = job;
	q->tail = &job->next;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

void workqueue_destroy(struct workqueue **qp)
{
	struct workqueue *q = *qp;
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->lock);
	q->stopping = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	for (unsigned i = 0; i < q->nthreads; i++)
		pthread_join(q->threads[i], NULL);
	free(q->threads);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	free(q);
	*qp = NULL;
}
