#ifndef PETREL_CONNLIMIT_H
#define PETREL_CONNLIMIT_H

/* Process-wide counters of open connections by key (a remote address, or
 * "user\naddress" for logged-in sessions), shared by all workers. */

#include <stdbool.h>

/* Counts one more for key unless that would exceed max (0 = no limit).
 * Returns false when the limit is reached (nothing is counted then). */
bool connlimit_acquire(const char *key, unsigned max);
void connlimit_release(const char *key);
unsigned connlimit_count(const char *key);

#endif
