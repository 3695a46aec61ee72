#include "imap/imap-msgid.h"
#include "lib/arena.h"

#include <string.h>

/* msg-id = "<" id-left "@" id-right ">", with quoting tolerated. */
size_t imap_thread_parse_ids(struct arena *a, const char *value, const char ***ids_r)
{
	size_t cap = 8, n = 0;
	const char **ids = arena_alloc(a, cap * sizeof(*ids));
	const char *p = value != NULL ? value : "";
	while ((p = strchr(p, '<')) != NULL) {
		const char *end = strchr(p + 1, '>');
		if (end == NULL)
			break;
		char *id = arena_alloc(a, (size_t)(end - p) + 1);
		size_t o = 0;
		for (const char *q = p + 1; q < end; q++) {
			if (*q == '"' || *q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
				continue;
			if (*q == '\\' && q + 1 < end)
				q++;
			id[o++] = *q;
		}
		id[o] = '\0';
		p = end + 1;
		if (o == 0 || strchr(id, '@') == NULL || strchr(id, '<') != NULL)
			continue;
		ids = arena_grow(a, ids, n, &cap, sizeof(*ids));
		ids[n++] = id;
	}
	*ids_r = ids;
	return n;
}
