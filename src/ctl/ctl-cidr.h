#ifndef PETREL_CTL_CIDR_H
#define PETREL_CTL_CIDR_H

/* Address ranges for `petrel ctl trace on --address`: "192.0.2.0/24",
 * "2001:db8::/32", or a single address ("192.0.2.7" is /32, "::1" /128).
 * Bits beyond the prefix are ignored ("192.0.2.7/24" is 192.0.2.0/24). An
 * IPv4 range also matches the IPv4-mapped IPv6 form (::ffff:192.0.2.7).
 * Pure functions, thread-safe. */

#include <stdbool.h>

struct ctl_cidr {
	int family;              /* AF_INET or AF_INET6 */
	unsigned char addr[16];  /* network byte order, 4 bytes used for IPv4 */
	unsigned prefix;         /* 0-32 or 0-128 */
};

/* False when text is not an address with an optional /prefix in range. */
bool ctl_cidr_parse(const char *text, struct ctl_cidr *cidr_r);
/* True when ip (textual, as conn_remote_ip gives it) is inside cidr. */
bool ctl_cidr_match(const struct ctl_cidr *cidr, const char *ip);

#endif
