/* RFC 4314 rights letters: parsing, SETACL's mod-rights and formatting.
 * Pure functions on client bytes, kept apart from the database code so
 * that a fuzz target can take them alone. */

#include "store/store.h"

#include <string.h>

static const char store_rights_chars[] = STORE_RIGHTS_CHARS;

char *store_rights_format(unsigned rights, char buf[12])
{
	size_t n = 0;
	for (size_t i = 0; store_rights_chars[i] != '\0'; i++) {
		if ((rights & (1u << i)) != 0)
			buf[n++] = store_rights_chars[i];
	}
	buf[n] = '\0';
	return buf;
}

char *store_rights_format_virtual(unsigned rights, char buf[14])
{
	store_rights_format(rights, buf);
	size_t n = strlen(buf);
	if ((rights & STORE_RIGHT_CREATE) != 0)
		buf[n++] = 'c';
	if ((rights & (STORE_RIGHT_EXPUNGE | STORE_RIGHT_DELETED)) != 0)
		buf[n++] = 'd';
	buf[n] = '\0';
	return buf;
}

/* One letter: a standard right, or the virtual c and d (§2.1.1: "c" is k,
 * "d" is e and t, as in the RFC's examples). 0 if unknown. */
static unsigned store_right_bits(char c, bool allow_virtual)
{
	const char *p = c != '\0' ? strchr(store_rights_chars, c) : NULL;
	if (p != NULL)
		return 1u << (p - store_rights_chars);
	if (allow_virtual && c == 'c')
		return STORE_RIGHT_CREATE;
	if (allow_virtual && c == 'd')
		return STORE_RIGHT_EXPUNGE | STORE_RIGHT_DELETED;
	return 0;
}

static bool store_rights_letters(const char *s, bool allow_virtual, unsigned *rights_r,
				 char *bad_r)
{
	unsigned rights = 0;
	for (; *s != '\0'; s++) {
		unsigned bits = store_right_bits(*s, allow_virtual);
		if (bits == 0) {
			if (bad_r != NULL)
				*bad_r = *s;
			return false;
		}
		rights |= bits;
	}
	*rights_r = rights;
	return true;
}

bool store_rights_parse(const char *s, unsigned *rights_r, char *bad_r)
{
	return store_rights_letters(s, false, rights_r, bad_r);
}

bool store_rights_apply(const char *mod, unsigned current, unsigned *rights_r, char *bad_r)
{
	char sign = mod[0] == '+' || mod[0] == '-' ? mod[0] : '\0';
	unsigned rights;
	if (!store_rights_letters(mod + (sign != '\0'), true, &rights, bad_r))
		return false;
	if (sign == '+')
		rights = current | rights;
	else if (sign == '-')
		rights = current & ~rights;
	*rights_r = rights;
	return true;
}

