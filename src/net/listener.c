#include "net/listener.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define LISTENER_BACKLOG 1024
#define LISTENER_UNIX_MAX 16

static char listener_error[300];

/* Unix sockets bound so far: later opens of the same path duplicate. */
static struct {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;
} listener_unix[LISTENER_UNIX_MAX];
static size_t listener_unix_count;

bool listener_parse_spec(const char *spec, char *host, size_t host_size,
			 char *port, size_t port_size)
{
	const char *colon;
	const char *h = spec;
	size_t hlen;
	if (*spec == '[') {
		const char *end = strchr(spec, ']');
		if (end == NULL || end[1] != ':')
			return false;
		h = spec + 1;
		hlen = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL)
			return false;
		hlen = (size_t)(colon - spec);
	}
	const char *p = colon + 1;
	if (hlen == 0 || hlen >= host_size || *p == '\0' || strlen(p) >= port_size)
		return false;
	for (const char *q = p; *q; q++)
		if (*q < '0' || *q > '9')
			return false;
	if (atoi(p) > 65535)
		return false;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	strcpy(port, p);
	return true;
}

static int listener_bind_one(const struct addrinfo *ai)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			ai->ai_protocol);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTENER_BACKLOG) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Removes a socket file no process accepts on any more (left by a crash),
 * so that bind can create it again. Anything else is left for bind to
 * refuse. */
static void listener_unix_remove_stale(const struct sockaddr_un *sun)
{
	struct stat st;
	if (lstat(sun->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) < 0 && errno == ECONNREFUSED)
		unlink(sun->sun_path);
	close(fd);
}

static int listener_unix_fail(const char *what, const char *path, const char **error_r)
{
	snprintf(listener_error, sizeof(listener_error), "%s %s: %s", what, path, strerror(errno));
	*error_r = listener_error;
	return -1;
}

static int listener_open_unix(const char *path, const char **error_r)
{
	for (size_t i = 0; i < listener_unix_count; i++) {
		if (strcmp(listener_unix[i].path, path) != 0)
			continue;
		int fd = fcntl(listener_unix[i].fd, F_DUPFD_CLOEXEC, 0);
		return fd >= 0 ? fd : listener_unix_fail("dup", path, error_r);
	}
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sun.sun_path) || listener_unix_count == LISTENER_UNIX_MAX) {
		errno = ENAMETOOLONG;
		return listener_unix_fail("listen on", path, error_r);
	}
	strcpy(sun.sun_path, path);
	listener_unix_remove_stale(&sun);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return listener_unix_fail("socket for", path, error_r);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(path, 0666) < 0 || listen(fd, LISTENER_BACKLOG) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return listener_unix_fail("bind", path, error_r);
	}
	strcpy(listener_unix[listener_unix_count].path, path);
	listener_unix[listener_unix_count++].fd = fd;
	return fd;
}

int listener_open(const char *spec, const char **error_r)
{
	if (spec[0] == '/')
		return listener_open_unix(spec, error_r);
	char host[256], port[16];
	if (!listener_parse_spec(spec, host, sizeof(host), port, sizeof(port))) {
		snprintf(listener_error, sizeof(listener_error),
			 "invalid listen address '%s' (expected host:port or [v6]:port)", spec);
		*error_r = listener_error;
		return -1;
	}
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, port, &hints, &res);
	if (rc != 0) {
		snprintf(listener_error, sizeof(listener_error), "%s: %s", spec, gai_strerror(rc));
		*error_r = listener_error;
		return -1;
	}
	int fd = listener_bind_one(res);
	if (fd < 0) {
		snprintf(listener_error, sizeof(listener_error), "bind %s: %s", spec, strerror(errno));
		*error_r = listener_error;
	}
	freeaddrinfo(res);
	return fd;
}

bool listener_check_free(const char *spec, const char **error_r)
{
	char host[256], port[16];
	if (spec[0] == '/' || !listener_parse_spec(spec, host, sizeof(host), port, sizeof(port)) ||
	    strcmp(port, "0") == 0)
		return true; /* listener_open reports bad specs; port 0 is always free */
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	if (getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, port, &hints, &res) != 0)
		return true;
	bool free_port = true;
	int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
	if (fd >= 0) {
		/* SO_REUSEADDR (old TIME_WAIT connections do not count) but not
		 * SO_REUSEPORT: a port another server holds refuses this bind. */
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (res->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 && errno == EADDRINUSE) {
			free_port = false;
			snprintf(listener_error, sizeof(listener_error),
				 "bind %s: address already in use by another process", spec);
			*error_r = listener_error;
		}
		close(fd);
	}
	freeaddrinfo(res);
	return free_port;
}

int listener_bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}
