#ifndef PETREL_CTL_STATS_H
#define PETREL_CTL_STATS_H

/* Counters since the daemon started, for `petrel ctl stats` (DESIGN.md §7).
 *
 * Each thread that records something gets its own block of counters (one
 * per worker in practice), guarded by a mutex nobody else takes except a
 * reader merging all blocks, so recording never contends across workers.
 * All functions are thread-safe.
 *
 * Latency is kept per command name in a fixed-bucket histogram: the
 * percentiles it gives are the upper edge of the bucket holding that rank
 * (at most 2.5 times the true value, never below it), capped by the largest
 * duration seen. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_HIST_BUCKETS 24
/* Upper bounds in microseconds, inclusive; the last is UINT64_MAX. */
extern const uint64_t ctl_hist_bounds_us[CTL_HIST_BUCKETS];

struct ctl_hist {
	uint64_t count;
	uint64_t max_us;
	uint64_t buckets[CTL_HIST_BUCKETS];
};

void ctl_hist_add(struct ctl_hist *h, uint64_t us);
void ctl_hist_merge(struct ctl_hist *into, const struct ctl_hist *from);
/* The duration below or at which per_mille/1000 of the samples lie
 * (nearest rank), as described above; 0 for an empty histogram. */
uint64_t ctl_hist_percentile(const struct ctl_hist *h, unsigned per_mille);

/* Distinct names kept; further names are counted under CTL_STATS_OTHER.
 * Command names come from the command table plus "UNKNOWN"; client names
 * come from clients' ID and so are capped harder. */
#define CTL_STATS_COMMANDS_MAX 96
#define CTL_STATS_CLIENTS_MAX 64
#define CTL_STATS_NAME_MAX 48
#define CTL_STATS_OTHER "(other)"

struct ctl_stats_command {
	char name[CTL_STATS_NAME_MAX];
	struct ctl_hist latency;
	uint64_t no, bad;
};

struct ctl_stats_client {
	char name[CTL_STATS_NAME_MAX];
	uint64_t no, bad;
};

struct ctl_stats_data {
	uint64_t connections;
	uint64_t logins_ok, logins_failed;
	uint64_t bytes_in, bytes_out;      /* of connections that have ended */
	uint64_t deliveries;
	size_t command_count;
	struct ctl_stats_command commands[CTL_STATS_COMMANDS_MAX];
	size_t client_count;
	struct ctl_stats_client clients[CTL_STATS_CLIENTS_MAX];
};

void ctl_stats_connection(void);
void ctl_stats_login(bool ok);
/* A completed command: status 'O' (OK), 'N' (NO), 'B' (BAD); client is the
 * client's name from ID or NULL. */
void ctl_stats_command(const char *name, uint64_t us, char status, const char *client);
/* A BAD for input that never became a command (a syntax error). */
void ctl_stats_syntax_error(const char *client);
void ctl_stats_bytes(uint64_t in, uint64_t out);
/* One message delivered to one mailbox (for LMTP and petrel deliver). */
void ctl_stats_delivery(void);

/* Merges every thread's counters into a heap copy the caller frees. */
struct ctl_stats_data *ctl_stats_snapshot(void);

#endif
