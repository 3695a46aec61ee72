/* Mailbox and user name rules. */

#include "store/store-private.h"

#include "lib/xalloc.h"

#include <string.h>
#include <strings.h>

/* Length of the UTF-8 sequence at s (1..4), or 0 if it is not well formed
 * (overlong forms, surrogates and code points above U+10FFFF included) or
 * encodes a C1 control character. */
static size_t utf8_char_len(const unsigned char *s)
{
	unsigned cp;
	size_t len;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		cp = s[0] & 0x1f;
		len = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		cp = s[0] & 0x0f;
		len = 3;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		cp = s[0] & 0x07;
		len = 4;
	} else {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
	    (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return len;
}

static bool name_component_valid(const char *start, size_t len,
				 const char **error_r)
{
	if (len == 0) {
		store_fail(STORE_ERR_INVALID, error_r,
			   "Mailbox name has an empty hierarchy level");
		return false;
	}
	if ((len == 1 && start[0] == '.') ||
	    (len == 2 && start[0] == '.' && start[1] == '.')) {
		store_fail(STORE_ERR_INVALID, error_r,
			   "Mailbox name level may not be \".\" or \"..\"");
		return false;
	}
	return true;
}

bool store_mailbox_name_valid(const char *name, const char **error_r)
{
	const unsigned char *p = (const unsigned char *)name;
	const char *component = name;
	if (*name == '\0') {
		store_fail(STORE_ERR_INVALID, error_r, "Empty mailbox name");
		return false;
	}
	while (*p != '\0') {
		if (*p < 0x20 || *p == 0x7f) {
			store_fail(STORE_ERR_INVALID, error_r,
				   "Mailbox name contains a control character");
			return false;
		}
		if (*p == STORE_HIERARCHY_SEP) {
			if (!name_component_valid(component,
						  (const char *)p - component,
						  error_r))
				return false;
			component = (const char *)p + 1;
			p++;
			continue;
		}
		size_t len = utf8_char_len(p);
		if (len == 0) {
			store_fail(STORE_ERR_INVALID, error_r,
				   "Mailbox name is not valid UTF-8");
			return false;
		}
		p += len;
	}
	return name_component_valid(component, (const char *)p - component,
				    error_r);
}

bool store_user_name_valid(const char *user, const char **error_r)
{
	size_t len = strlen(user);
	if (len == 0 || len > 255) {
		store_fail(STORE_ERR_INVALID, error_r,
			   "User name must be 1 to 255 bytes");
		return false;
	}
	if (strcmp(user, ".") == 0 || strcmp(user, "..") == 0) {
		store_fail(STORE_ERR_INVALID, error_r, "Invalid user name");
		return false;
	}
	/* ACL identifiers (RFC 4314) share the user namespace: "anyone",
	 * "$group" and "-identifier" (negative rights) must not name a user,
	 * and STORE_PUBLIC_OWNER starts with '#'. */
	if (strcmp(user, "anyone") == 0 || user[0] == '$' || user[0] == '-' || user[0] == '#') {
		store_fail(STORE_ERR_INVALID, error_r,
			   "User name must not be \"anyone\" or start with '$', '-' or '#'");
		return false;
	}
	for (const unsigned char *p = (const unsigned char *)user; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '/') {
			store_fail(STORE_ERR_INVALID, error_r,
				   "User name contains '/' or a control character");
			return false;
		}
	}
	return true;
}

/* RFC 9051 §5.1: INBOX is case-insensitive. Its inferiors are addressed as
 * "INBOX/x" whatever case the client used for the first level, as clients
 * expect one INBOX hierarchy. */
char *store_name_normalize(const char *name, const char **error_r)
{
	if (!store_mailbox_name_valid(name, error_r))
		return NULL;
	char *copy = xstrdup(name);
	if (strncasecmp(copy, "INBOX", 5) == 0 &&
	    (copy[5] == '\0' || copy[5] == STORE_HIERARCHY_SEP))
		memcpy(copy, "INBOX", 5);
	return copy;
}

bool store_name_is_inbox(const char *normalized)
{
	return strcmp(normalized, "INBOX") == 0;
}

size_t store_name_parent_len(const char *name)
{
	const char *sep = strrchr(name, STORE_HIERARCHY_SEP);
	return sep == NULL ? 0 : (size_t)(sep - name);
}
