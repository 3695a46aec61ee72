#ifndef PETREL_IMAP_MSGID_H
#define PETREL_IMAP_MSGID_H

#include <stddef.h>

struct arena;

/* The message ids of a Message-ID, References or In-Reply-To value,
 * normalised (quotes, escapes and folding white space in the id removed,
 * RFC 5256 §3), in order; text between ids is skipped. Returns how many;
 * *ids_r from a. */
size_t imap_thread_parse_ids(struct arena *a, const char *value, const char ***ids_r);

#endif
