#include "ctl/ctl-stats.h"
#include "lib/xalloc.h"

#include <pthread.h>
#include <string.h>

const uint64_t ctl_hist_bounds_us[CTL_HIST_BUCKETS] = {
	50, 100, 200, 500,
	1000, 2000, 5000,
	10000, 20000, 50000,
	100000, 200000, 500000,
	1000000, 2000000, 5000000,
	10000000, 20000000, 50000000,
	100000000, 300000000, 600000000, 1800000000,
	UINT64_MAX,
};

void ctl_hist_add(struct ctl_hist *h, uint64_t us)
{
	size_t i = 0;
	while (us > ctl_hist_bounds_us[i])
		i++;
	h->buckets[i]++;
	h->count++;
	if (us > h->max_us)
		h->max_us = us;
}

void ctl_hist_merge(struct ctl_hist *into, const struct ctl_hist *from)
{
	for (size_t i = 0; i < CTL_HIST_BUCKETS; i++)
		into->buckets[i] += from->buckets[i];
	into->count += from->count;
	if (from->max_us > into->max_us)
		into->max_us = from->max_us;
}

uint64_t ctl_hist_percentile(const struct ctl_hist *h, unsigned per_mille)
{
	if (h->count == 0)
		return 0;
	/* Nearest rank: the smallest sample with at least p of all at or
	 * below it, rank = ceil(count * p / 1000), at least 1. */
	uint64_t rank = (h->count * per_mille + 999) / 1000;
	if (rank == 0)
		rank = 1;
	uint64_t seen = 0;
	for (size_t i = 0; i < CTL_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank)
			return ctl_hist_bounds_us[i] < h->max_us ? ctl_hist_bounds_us[i] : h->max_us;
	}
	return h->max_us;
}

/* --- Per-thread blocks ---------------------------------------------------- */

struct ctl_stats_block {
	pthread_mutex_t lock;
	struct ctl_stats_data data;
	struct ctl_stats_block *next;
};

static pthread_mutex_t ctl_stats_list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ctl_stats_block *ctl_stats_blocks;
static _Thread_local struct ctl_stats_block *ctl_stats_mine;

/* Blocks live as long as the process: a thread that ends leaves its counts. */
static struct ctl_stats_block *ctl_stats_lock_mine(void)
{
	struct ctl_stats_block *b = ctl_stats_mine;
	if (b == NULL) {
		b = xcalloc(1, sizeof(*b));
		pthread_mutex_init(&b->lock, NULL);
		pthread_mutex_lock(&ctl_stats_list_lock);
		b->next = ctl_stats_blocks;
		ctl_stats_blocks = b;
		pthread_mutex_unlock(&ctl_stats_list_lock);
		ctl_stats_mine = b;
	}
	pthread_mutex_lock(&b->lock);
	return b;
}

static void ctl_stats_unlock(struct ctl_stats_block *b)
{
	pthread_mutex_unlock(&b->lock);
}

static void ctl_stats_copy_name(char *dst, const char *src)
{
	size_t len = strlen(src);
	if (len >= CTL_STATS_NAME_MAX)
		len = CTL_STATS_NAME_MAX - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static bool ctl_stats_name_eq(const char *stored, const char *name)
{
	/* Names are stored cut to CTL_STATS_NAME_MAX - 1 bytes. */
	size_t len = strnlen(name, CTL_STATS_NAME_MAX - 1);
	return strncmp(stored, name, len) == 0 && stored[len] == '\0';
}

static struct ctl_stats_command *ctl_stats_command_slot(struct ctl_stats_data *d,
							 const char *name)
{
	for (size_t i = 0; i < d->command_count; i++)
		if (ctl_stats_name_eq(d->commands[i].name, name))
			return &d->commands[i];
	/* The last slot is kept for CTL_STATS_OTHER. */
	if (d->command_count + 1 >= CTL_STATS_COMMANDS_MAX && strcmp(name, CTL_STATS_OTHER) != 0)
		return ctl_stats_command_slot(d, CTL_STATS_OTHER);
	struct ctl_stats_command *c = &d->commands[d->command_count++];
	ctl_stats_copy_name(c->name, name);
	return c;
}

static struct ctl_stats_client *ctl_stats_client_slot(struct ctl_stats_data *d, const char *name)
{
	for (size_t i = 0; i < d->client_count; i++)
		if (ctl_stats_name_eq(d->clients[i].name, name))
			return &d->clients[i];
	if (d->client_count + 1 >= CTL_STATS_CLIENTS_MAX && strcmp(name, CTL_STATS_OTHER) != 0)
		return ctl_stats_client_slot(d, CTL_STATS_OTHER);
	struct ctl_stats_client *c = &d->clients[d->client_count++];
	ctl_stats_copy_name(c->name, name);
	return c;
}

void ctl_stats_connection(void)
{
	struct ctl_stats_block *b = ctl_stats_lock_mine();
	b->data.connections++;
	ctl_stats_unlock(b);
}

void ctl_stats_login(bool ok)
{
	struct ctl_stats_block *b = ctl_stats_lock_mine();
	if (ok)
		b->data.logins_ok++;
	else
		b->data.logins_failed++;
	ctl_stats_unlock(b);
}

static void ctl_stats_count_answer(struct ctl_stats_data *d, struct ctl_stats_command *cmd,
				   char status, const char *client)
{
	if (status != 'N' && status != 'B')
		return;
	struct ctl_stats_client *cl = ctl_stats_client_slot(d, client != NULL && *client != '\0'
							     ? client : "(no ID)");
	if (status == 'N') {
		cmd->no++;
		cl->no++;
	} else {
		cmd->bad++;
		cl->bad++;
	}
}

void ctl_stats_command(const char *name, uint64_t us, char status, const char *client)
{
	struct ctl_stats_block *b = ctl_stats_lock_mine();
	struct ctl_stats_command *c = ctl_stats_command_slot(&b->data, name);
	ctl_hist_add(&c->latency, us);
	ctl_stats_count_answer(&b->data, c, status, client);
	ctl_stats_unlock(b);
}

void ctl_stats_syntax_error(const char *client)
{
	struct ctl_stats_block *b = ctl_stats_lock_mine();
	struct ctl_stats_command *c = ctl_stats_command_slot(&b->data, "(syntax error)");
	ctl_stats_count_answer(&b->data, c, 'B', client);
	ctl_stats_unlock(b);
}

void ctl_stats_bytes(uint64_t in, uint64_t out)
{
	struct ctl_stats_block *b = ctl_stats_lock_mine();
	b->data.bytes_in += in;
	b->data.bytes_out += out;
	ctl_stats_unlock(b);
}

void ctl_stats_delivery(void)
{
	struct ctl_stats_block *b = ctl_stats_lock_mine();
	b->data.deliveries++;
	ctl_stats_unlock(b);
}

static void ctl_stats_merge(struct ctl_stats_data *into, const struct ctl_stats_data *from)
{
	into->connections += from->connections;
	into->logins_ok += from->logins_ok;
	into->logins_failed += from->logins_failed;
	into->bytes_in += from->bytes_in;
	into->bytes_out += from->bytes_out;
	into->deliveries += from->deliveries;
	for (size_t i = 0; i < from->command_count; i++) {
		const struct ctl_stats_command *src = &from->commands[i];
		struct ctl_stats_command *dst = ctl_stats_command_slot(into, src->name);
		ctl_hist_merge(&dst->latency, &src->latency);
		dst->no += src->no;
		dst->bad += src->bad;
	}
	for (size_t i = 0; i < from->client_count; i++) {
		const struct ctl_stats_client *src = &from->clients[i];
		struct ctl_stats_client *dst = ctl_stats_client_slot(into, src->name);
		dst->no += src->no;
		dst->bad += src->bad;
	}
}

struct ctl_stats_data *ctl_stats_snapshot(void)
{
	struct ctl_stats_data *d = xcalloc(1, sizeof(*d));
	pthread_mutex_lock(&ctl_stats_list_lock);
	for (struct ctl_stats_block *b = ctl_stats_blocks; b != NULL; b = b->next) {
		pthread_mutex_lock(&b->lock);
		ctl_stats_merge(d, &b->data);
		pthread_mutex_unlock(&b->lock);
	}
	pthread_mutex_unlock(&ctl_stats_list_lock);
	return d;
}
