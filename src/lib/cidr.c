#include "lib/cidr.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static bool cidr_parse_address(const char *text, int *family_r, unsigned char *addr_r)
{
	memset(addr_r, 0, 16);
	if (inet_pton(AF_INET, text, addr_r) == 1) {
		*family_r = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, text, addr_r) == 1) {
		*family_r = AF_INET6;
		return true;
	}
	return false;
}

bool cidr_parse(const char *text, struct cidr *cidr_r)
{
	char host[64];
	const char *slash = strchr(text, '/');
	size_t host_len = slash != NULL ? (size_t)(slash - text) : strlen(text);
	if (host_len == 0 || host_len >= sizeof(host))
		return false;
	memcpy(host, text, host_len);
	host[host_len] = '\0';
	struct cidr c;
	if (!cidr_parse_address(host, &c.family, c.addr))
		return false;
	unsigned max = c.family == AF_INET ? 32 : 128;
	c.prefix = max;
	if (slash != NULL) {
		const char *p = slash + 1;
		if (*p == '\0' || strlen(p) > 3)
			return false;
		unsigned n = 0;
		for (; *p != '\0'; p++) {
			if (*p < '0' || *p > '9')
				return false;
			n = n * 10 + (unsigned)(*p - '0');
		}
		if (n > max)
			return false;
		c.prefix = n;
	}
	/* Clear the host bits so that equal ranges compare equal. */
	for (unsigned bit = c.prefix; bit < max; bit++)
		c.addr[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
	*cidr_r = c;
	return true;
}

bool cidr_match(const struct cidr *cidr, const char *ip)
{
	int family;
	unsigned char addr[16];
	if (!cidr_parse_address(ip, &family, addr))
		return false;
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (family == AF_INET6 && cidr->family == AF_INET && memcmp(addr, mapped, 12) == 0) {
		memmove(addr, addr + 12, 4);
		family = AF_INET;
	}
	if (family != cidr->family)
		return false;
	unsigned full = cidr->prefix / 8, rest = cidr->prefix % 8;
	if (memcmp(addr, cidr->addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (addr[full] & mask) == (cidr->addr[full] & mask);
}
