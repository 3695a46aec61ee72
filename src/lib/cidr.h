#ifndef PETREL_LIB_CIDR_H
#define PETREL_LIB_CIDR_H

/* Address ranges ("CIDR blocks"), used by `petrel ctl trace on --address`
 * and by the client matches of the configuration: "192.0.2.0/24",
 * "2001:db8::/32", or a single address ("192.0.2.7" is /32, "::1" /128).
 * Bits beyond the prefix are ignored ("192.0.2.7/24" is 192.0.2.0/24). An
 * IPv4 range also matches the IPv4-mapped IPv6 form (::ffff:192.0.2.7).
 * Pure functions, thread-safe. */

#include <stdbool.h>

struct cidr {
	int family;              /* AF_INET or AF_INET6 */
	unsigned char addr[16];  /* network byte order, 4 bytes used for IPv4 */
	unsigned prefix;         /* 0-32 or 0-128 */
};

/* False when text is not an address with an optional /prefix in range. */
bool cidr_parse(const char *text, struct cidr *cidr_r);
/* True when ip (textual, as conn_remote_ip gives it) is inside cidr. */
bool cidr_match(const struct cidr *cidr, const char *ip);

#endif
