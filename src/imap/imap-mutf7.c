#include "imap/imap-mutf7.h"

#include "lib/buf.h"

#include <stdint.h>

/* RFC 3501 5.1.3: modified BASE64 (RFC 2152 without "="), with "," in
 * place of "/". */
static const char mbase64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int mbase64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

/* Control characters a mailbox name may not hold: C0, DEL and C1. */
static bool is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

static void utf8_put(struct buf *dest, uint32_t cp)
{
	unsigned char out[4];
	size_t n;
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | (cp >> 6));
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | (cp >> 12));
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		out[0] = (unsigned char)(0xf0 | (cp >> 18));
		out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		out[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_append(dest, out, n);
}

/* Strict UTF-8 (RFC 3629 section 4): no overlong forms, no surrogates,
 * nothing above U+10FFFF. Returns the bytes used, 0 if invalid. */
static size_t utf8_get(const unsigned char *s, size_t len, uint32_t *cp_r)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp, min;
	if (c < 0x80) {
		*cp_r = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cp_r = cp;
	return n;
}

/* One "&...-" section: src[0..len) are the characters between "&" and
 * "-" (len > 0). */
static bool mutf7_decode_section(const unsigned char *src, size_t len,
				 struct buf *dest, const char **error_r)
{
	uint32_t bits = 0, high = 0;
	unsigned nbits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = mbase64_value(src[i]);
		if (v < 0) {
			*error_r = "Invalid character in modified base64";
			return false;
		}
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t unit = (bits >> nbits) & 0xffff;
		bits &= (1U << nbits) - 1;
		if (high != 0) {
			if (unit < 0xdc00 || unit > 0xdfff) {
				*error_r = "Unpaired UTF-16 surrogate";
				return false;
			}
			utf8_put(dest, 0x10000 + ((high - 0xd800) << 10) +
				 (unit - 0xdc00));
			high = 0;
		} else if (unit >= 0xd800 && unit <= 0xdbff) {
			high = unit;
		} else if (unit >= 0xdc00 && unit <= 0xdfff) {
			*error_r = "Unpaired UTF-16 surrogate";
			return false;
		} else if (unit >= 0x20 && unit <= 0x7e) {
			/* RFC 3501 5.1.3: "MUST NOT be used to represent any
			 * printing US-ASCII character which can represent
			 * itself." */
			*error_r = "Printable US-ASCII encoded in modified base64";
			return false;
		} else if (is_control(unit)) {
			*error_r = "Control character in mailbox name";
			return false;
		} else {
			utf8_put(dest, unit);
		}
	}
	if (high != 0) {
		*error_r = "Unpaired UTF-16 surrogate";
		return false;
	}
	/* Only the padding of the last 6-bit group may be left over, and it
	 * must be zero. */
	if (nbits >= 6 || bits != 0) {
		*error_r = "Invalid modified base64 padding";
		return false;
	}
	return true;
}

bool imap_mutf7_to_utf8(const char *src_c, size_t len, struct buf *dest,
			const char **error_r)
{
	const unsigned char *src = (const unsigned char *)src_c;
	size_t i = 0;
	while (i < len) {
		unsigned char c = src[i];
		if (c < 0x20 || c > 0x7e) {
			*error_r = "Invalid character in modified UTF-7";
			return false;
		}
		if (c != '&') {
			buf_append_char(dest, (char)c);
			i++;
			continue;
		}
		size_t start = ++i;
		while (i < len && src[i] != '-')
			i++;
		if (i == len) {
			*error_r = "Unterminated '&' in modified UTF-7";
			return false;
		}
		if (i == start) {
			/* "&-" stands for "&" */
			buf_append_char(dest, '&');
		} else if (!mutf7_decode_section(src + start, i - start, dest,
						 error_r)) {
			return false;
		}
		i++;
	}
	return true;
}

static void mbase64_flush(struct buf *dest, uint32_t *bits, unsigned *nbits)
{
	while (*nbits >= 6) {
		*nbits -= 6;
		buf_append_char(dest, mbase64_chars[(*bits >> *nbits) & 0x3f]);
	}
	*bits &= (1U << *nbits) - 1;
}

bool imap_utf8_to_mutf7(const char *src_c, size_t len, struct buf *dest,
			const char **error_r)
{
	const unsigned char *src = (const unsigned char *)src_c;
	bool shifted = false;
	uint32_t bits = 0;
	unsigned nbits = 0;
	size_t i = 0;
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_get(src + i, len - i, &cp);
		if (n == 0) {
			*error_r = "Invalid UTF-8 in mailbox name";
			return false;
		}
		if (is_control(cp)) {
			*error_r = "Control character in mailbox name";
			return false;
		}
		i += n;
		if (cp < 0x80) {
			if (shifted) {
				if (nbits > 0) {
					/* pad with zero bits to 6 */
					bits <<= 6 - nbits;
					nbits = 6;
					mbase64_flush(dest, &bits, &nbits);
				}
				buf_append_char(dest, '-');
				shifted = false;
			}
			if (cp == '&')
				buf_append(dest, "&-", 2);
			else
				buf_append_char(dest, (char)cp);
			continue;
		}
		if (!shifted) {
			buf_append_char(dest, '&');
			shifted = true;
		}
		if (cp >= 0x10000) {
			uint32_t v = cp - 0x10000;
			bits = (bits << 16) | (0xd800 + (v >> 10));
			nbits += 16;
			mbase64_flush(dest, &bits, &nbits);
			bits = (bits << 16) | (0xdc00 + (v & 0x3ff));
		} else {
			bits = (bits << 16) | cp;
		}
		nbits += 16;
		mbase64_flush(dest, &bits, &nbits);
	}
	if (shifted) {
		if (nbits > 0) {
			bits <<= 6 - nbits;
			nbits = 6;
			mbase64_flush(dest, &bits, &nbits);
		}
		buf_append_char(dest, '-');
	}
	return true;
}

bool imap_mutf7_is_valid(const char *src, size_t len)
{
	struct buf scratch = BUF_INIT;
	const char *error;
	bool ok = imap_mutf7_to_utf8(src, len, &scratch, &error);
	buf_free(&scratch);
	return ok;
}
