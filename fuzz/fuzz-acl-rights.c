/* SETACL's client bytes: mod-rights (RFC 4314 §3.1) through
 * store_rights_apply and store_rights_parse. Checks what must always hold:
 * accepted rights stay within the standard set, and formatting gives
 * letters that parse back to the same set. */

#include "store/store.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > 256)
		return 0;
	/* First two bytes: the current rights; the rest: the mod string. */
	unsigned current = ((unsigned)data[0] << 8 | data[1]) & STORE_RIGHTS_ALL;
	char *mod = malloc(size - 1);
	memcpy(mod, data + 2, size - 2);
	mod[size - 2] = '\0';
	unsigned rights;
	char bad = 0;
	if (store_rights_apply(mod, current, &rights, &bad)) {
		if ((rights & ~STORE_RIGHTS_ALL) != 0)
			abort();
		char letters[12], virtual[14];
		unsigned back;
		store_rights_format(rights, letters);
		if (!store_rights_parse(letters, &back, NULL) || back != rights)
			abort();
		/* The virtual "d" stands for e and t when either is there
		 * (§2.1.1), so reading it back may add the other one. */
		store_rights_format_virtual(rights, virtual);
		const unsigned d = STORE_RIGHT_EXPUNGE | STORE_RIGHT_DELETED;
		if (!store_rights_apply(virtual, 0, &back, NULL) || (back & rights) != rights ||
		    (back & ~rights & ~d) != 0)
			abort();
	}
	unsigned parsed;
	(void)store_rights_parse(mod, &parsed, &bad);
	free(mod);
	return 0;
}
