#ifndef PETREL_IMAP_CHARS_H
#define PETREL_IMAP_CHARS_H

/* The character classes of RFC 9051's ABNF that the command tokenizer
 * (imap-parser.c) and the typed argument readers (imap-args.c) share.
 * Private to the lexical layer. */

#include <stdbool.h>
#include <string.h>

/* Largest value of number64 (RFC 9051: "number64 = 1*DIGIT ; Unsigned
 * 63-bit integer"). */
#define IMAP_NUMBER64_MAX 0x7fffffffffffffffULL

/* CTL = %x00-1F / %x7F */
static inline bool imap_char_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* ATOM-CHAR = <any CHAR except atom-specials>
 * atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards /
 *                 quoted-specials / resp-specials */
static inline bool imap_char_atom(unsigned char c)
{
	if (c >= 0x80 || imap_char_ctl(c))
		return false;
	return strchr("(){ %*\"\\]", c) == NULL;
}

/* ASTRING-CHAR = ATOM-CHAR / resp-specials */
static inline bool imap_char_astring(unsigned char c)
{
	return imap_char_atom(c) || c == ']';
}

/* list-char = ATOM-CHAR / list-wildcards / resp-specials */
static inline bool imap_char_list(unsigned char c)
{
	return imap_char_atom(c) || c == '%' || c == '*' || c == ']';
}

#endif
