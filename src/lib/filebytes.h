#ifndef PETREL_FILEBYTES_H
#define PETREL_FILEBYTES_H

/* A whole file's bytes in memory for reading: read into the heap when the
 * file is small, mapped otherwise. For small files read() is cheaper than
 * mmap and munmap, and munmap in a process with many threads interrupts
 * every core it runs on (TLB shootdown). */

#include <stdbool.h>
#include <stddef.h>

/* Files up to this size are read; larger ones are mapped. */
#define FILE_BYTES_READ_MAX (256 * 1024)

struct file_bytes {
	unsigned char *data;   /* "" for an empty file */
	size_t len;
	bool heap;
};

/* Loads len bytes of fd from offset 0. False with *errno_r on failure (EIO
 * for a file shorter than len). fd may be closed afterwards. */
bool file_bytes_load(int fd, size_t len, struct file_bytes *out, int *errno_r);
/* Frees or unmaps; NULL-safe on a zeroed struct. */
void file_bytes_release(struct file_bytes *fb);

#endif
