#include "imap/imap-auth.h"
#include "auth/throttle.h"
#include "auth/userdb.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/workqueue.h"
#include "lib/xalloc.h"
#include "net/conn.h"
#include "net/server.h"

#include <event2/event.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>

/* Hashing threads: enough to keep both cores busy under a login storm
 * without starving the event loops entirely. */
#define IMAP_AUTH_THREADS 2

static struct workqueue *imap_auth_queue;
static struct throttle *imap_auth_throttle;
static const struct petrel_config *imap_auth_cfg;

/* Open handles on the user database, one per hashing thread at most,
 * kept between logins: opening it for each login cost more than the
 * cheapest hash (the last connection's close removes SQLite's -wal and
 * -shm files, and the next open creates them again). */
static struct {
	pthread_mutex_t lock;
	struct userdb *free[IMAP_AUTH_THREADS];
	size_t count;
} imap_auth_dbs = { .lock = PTHREAD_MUTEX_INITIALIZER };

struct imap_auth_request {
	struct imap_cmd *cmd;      /* NULL once the session has gone */
	struct worker *worker;
	char *user;
	char *password;
	size_t password_len;
	char address[64];
	enum userdb_result result;
	struct event *delay;
};

void imap_auth_init(const struct petrel_config *cfg)
{
	imap_auth_cfg = cfg;
	struct throttle_settings set = {
		.max_failures_per_address = cfg->max_failures_per_address,
		.max_failures_per_user = cfg->max_failures_per_user,
		.window_s = cfg->failure_window_s,
		.fail_delay_ms = cfg->fail_delay_ms,
	};
	imap_auth_throttle = throttle_new(&set);
	imap_auth_queue = workqueue_new(IMAP_AUTH_THREADS, "petrel-hash");
}

void imap_auth_deinit(void)
{
	workqueue_destroy(&imap_auth_queue);
	for (size_t i = 0; i < imap_auth_dbs.count; i++)
		userdb_close(&imap_auth_dbs.free[i]);
	imap_auth_dbs.count = 0;
	throttle_destroy(&imap_auth_throttle);
}

static void imap_auth_request_free(struct imap_auth_request *req)
{
	if (req->delay != NULL)
		event_free(req->delay);
	sodium_memzero(req->password, req->password_len);
	free(req->password);
	free(req->user);
	free(req);
}

static void imap_auth_abort(struct imap_cmd *cmd)
{
	struct imap_auth_request *req = cmd->ctx;
	req->cmd = NULL;
	/* Waiting on the delay timer: nothing else refers to req. */
	if (req->delay != NULL)
		imap_auth_request_free(req);
	/* Else the hashing job still runs; its completion frees req. */
}

static void imap_auth_send_failure(evutil_socket_t fd, short what, void *arg)
{
	struct imap_auth_request *req = arg;
	(void)fd;
	(void)what;
	struct imap_cmd *cmd = req->cmd;
	struct imap_session *s = cmd->session;
	cmd->on_abort = NULL;
	if (req->result == USERDB_BUSY || req->result == USERDB_ERROR)
		imap_cmd_no(cmd, "UNAVAILABLE", "Authentication service unavailable, try again");
	else
		imap_cmd_no(cmd, "AUTHENTICATIONFAILED", "Authentication failed");
	imap_auth_request_free(req);
	imap_session_cmd_finished(s);
}

static void imap_auth_fail_later(struct imap_auth_request *req, unsigned delay_ms)
{
	struct imap_session *s = req->cmd->session;
	log_event(LOG_INFO, conn_id(s->conn), "login_failed", "remote=%s user=%s client=%s",
		  conn_remote_ip(s->conn), log_str(s->cmd_arena, req->user),
		  s->client_id ? log_str(s->cmd_arena, s->client_id) : "-");
	struct timeval tv = { .tv_sec = delay_ms / 1000, .tv_usec = (delay_ms % 1000) * 1000 };
	req->delay = evtimer_new(conn_event_base(s->conn), imap_auth_send_failure, req);
	evtimer_add(req->delay, &tv);
}

static void imap_auth_succeed(struct imap_auth_request *req)
{
	struct imap_cmd *cmd = req->cmd;
	struct imap_session *s = cmd->session;
	cmd->on_abort = NULL;
	throttle_record_success(imap_auth_throttle, req->address, req->user);
	if (imap_session_login(cmd, req->user)) {
		struct buf caps = BUF_INIT;
		imap_capability_append(s, &caps);
		imap_cmd_ok(cmd, NULL, "[CAPABILITY %s] Logged in", buf_cstr(&caps));
		buf_free(&caps);
	}
	imap_auth_request_free(req);
	imap_session_cmd_finished(s);
}

/* Back on the session's worker thread. */
static void imap_auth_done(void *arg)
{
	struct imap_auth_request *req = arg;
	if (req->cmd == NULL) {
		imap_auth_request_free(req);
		return;
	}
	if (req->result == USERDB_OK) {
		imap_auth_succeed(req);
		return;
	}
	unsigned delay = req->result == USERDB_MISMATCH
				 ? throttle_record_failure(imap_auth_throttle, req->address, req->user)
				 : 0;
	imap_auth_fail_later(req, delay);
}

/* A handle from the pool, or a new one (NULL and *result_r on failure). */
static struct userdb *imap_auth_db_take(enum userdb_result *result_r)
{
	struct userdb *db = NULL;
	pthread_mutex_lock(&imap_auth_dbs.lock);
	if (imap_auth_dbs.count > 0)
		db = imap_auth_dbs.free[--imap_auth_dbs.count];
	pthread_mutex_unlock(&imap_auth_dbs.lock);
	if (db != NULL)
		return db;
	char *error = NULL;
	bool busy = false;
	/* The configured cost, so that the dummy hash for unknown users
	 * costs what a real one does. */
	struct userdb_settings set = { .hash_ops = imap_auth_cfg->password_hash_ops,
				       .hash_memory = imap_auth_cfg->password_hash_memory };
	if (!userdb_open(imap_auth_cfg->data_dir, &set, &db, &error, &busy)) {
		log_event(LOG_ERROR, NULL, "userdb_open_failed", "error=\"%s\"", error);
		free(error);
		*result_r = busy ? USERDB_BUSY : USERDB_ERROR;
		return NULL;
	}
	return db;
}

/* Back to the pool; a handle that just failed is closed instead. */
static void imap_auth_db_give(struct userdb *db, bool failed)
{
	pthread_mutex_lock(&imap_auth_dbs.lock);
	if (!failed && imap_auth_dbs.count < IMAP_AUTH_THREADS) {
		imap_auth_dbs.free[imap_auth_dbs.count++] = db;
		db = NULL;
	}
	pthread_mutex_unlock(&imap_auth_dbs.lock);
	userdb_close(&db);
}

/* On a hashing thread. */
static void imap_auth_run(void *arg)
{
	struct imap_auth_request *req = arg;
	struct userdb *db = imap_auth_db_take(&req->result);
	if (db != NULL) {
		const char *verror;
		req->result = userdb_verify(db, req->user, req->password, req->password_len, &verror);
		bool failed = req->result == USERDB_BUSY || req->result == USERDB_ERROR;
		if (failed)
			log_event(LOG_ERROR, NULL, "userdb_verify_failed", "error=\"%s\"", verror);
		imap_auth_db_give(db, failed);
	}
	worker_post(req->worker, imap_auth_done, req);
}

enum imap_cmd_result imap_auth_verify(struct imap_cmd *cmd, const char *user,
				      const void *password, size_t password_len)
{
	struct imap_session *s = cmd->session;
	struct imap_auth_request *req = xcalloc(1, sizeof(*req));
	req->cmd = cmd;
	req->worker = conn_worker(s->conn);
	req->user = xstrdup(user);
	req->password = xmalloc(password_len + 1);
	memcpy(req->password, password, password_len);
	req->password[password_len] = '\0';
	req->password_len = password_len;
	snprintf(req->address, sizeof(req->address), "%s", conn_remote_ip(s->conn));
	cmd->ctx = req;
	cmd->on_abort = imap_auth_abort;

	unsigned retry_s = 0;
	if (!throttle_check(imap_auth_throttle, req->address, req->user, &retry_s)) {
		/* Refused without looking at the password: the same answer as a
		 * wrong password, after the longest delay. */
		log_event(LOG_WARN, conn_id(s->conn), "login_throttled", "remote=%s retry_s=%u",
			  req->address, retry_s);
		req->result = USERDB_MISMATCH;
		imap_auth_fail_later(req, imap_auth_cfg->fail_delay_ms * THROTTLE_DELAY_FACTOR_MAX);
		return IMAP_CMD_WAIT;
	}
	workqueue_submit(imap_auth_queue, imap_auth_run, req);
	return IMAP_CMD_WAIT;
}
