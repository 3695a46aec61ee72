#include "lib/filebytes.h"

#include "lib/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static bool file_bytes_read(int fd, unsigned char *dst, size_t len, int *errno_r)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, dst + done, len - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*errno_r = n < 0 ? errno : EIO;
			return false;
		}
		done += (size_t)n;
	}
	return true;
}

bool file_bytes_load(int fd, size_t len, struct file_bytes *out, int *errno_r)
{
	*out = (struct file_bytes){ .data = (unsigned char *)"", .len = len };
	if (len == 0)
		return true;
	if (len <= FILE_BYTES_READ_MAX) {
		out->data = xmalloc(len);
		out->heap = true;
		if (!file_bytes_read(fd, out->data, len, errno_r)) {
			file_bytes_release(out);
			return false;
		}
		return true;
	}
	void *map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		*errno_r = errno;
		*out = (struct file_bytes){ 0 };
		return false;
	}
	out->data = map;
	return true;
}

void file_bytes_release(struct file_bytes *fb)
{
	if (fb->heap)
		free(fb->data);
	else if (fb->len > 0 && fb->data != NULL)
		munmap(fb->data, fb->len);
	*fb = (struct file_bytes){ 0 };
}
