/* Value parsers shared by the subcommands (quota limits for petrel user
 * quota and petrel public quota). */

#include "cli/cli.h"
#include "store/store.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* SIZE: digits with an optional K, M, G or T suffix (powers of 1024),
 * in KiB, plain bytes rounded up. */
bool cli_parse_storage_kib(const char *s, uint64_t *kib_r)
{
	if (*s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (errno != 0)
		return false;
	if (*end == '\0') {
		/* Plain bytes, rounded up to whole KiB. */
		*kib_r = n / 1024 + (n % 1024 != 0);
		return true;
	}
	static const char units[] = "KMGT";
	const char *unit = strchr(units, toupper((unsigned char)end[0]));
	if (unit == NULL || *unit == '\0' || end[1] != '\0')
		return false;
	unsigned shift = 10 * (unsigned)(unit - units); /* K is one KiB */
	if (n > (UINT64_MAX >> shift))
		return false;
	*kib_r = (uint64_t)n << shift;
	return *kib_r <= (uint64_t)STORE_QUOTA_STORAGE_KIB_MAX;
}

bool cli_parse_count(const char *s, uint64_t *n_r)
{
	if (*s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || n > (unsigned long long)INT64_MAX)
		return false;
	*n_r = n;
	return true;
}

