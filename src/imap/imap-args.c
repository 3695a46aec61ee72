/* Typed readers of parsed command arguments (imap-parser.h), named after
 * the ABNF rules they check. */

#include "imap/imap-chars.h"
#include "imap/imap-parser.h"

#include <strings.h>

bool imap_arg_get_atom(const struct imap_arg *arg, const char **str_r)
{
	if (arg == NULL ||
	    (arg->type != IMAP_ARG_ATOM && arg->type != IMAP_ARG_NIL))
		return false;
	*str_r = arg->data;
	return true;
}

bool imap_arg_atom_equals(const struct imap_arg *arg, const char *str)
{
	const char *atom;
	return imap_arg_get_atom(arg, &atom) && strcasecmp(atom, str) == 0;
}

/* string = quoted / literal */
bool imap_arg_get_string(const struct imap_arg *arg, const char **data_r,
			 size_t *len_r)
{
	if (arg == NULL)
		return false;
	if (arg->type != IMAP_ARG_STRING &&
	    (arg->type != IMAP_ARG_LITERAL || arg->literal8))
		return false;
	*data_r = arg->data;
	*len_r = arg->len;
	return true;
}

static bool atom_all(const struct imap_arg *arg, bool (*ok)(unsigned char))
{
	if (arg->len == 0)
		return false;
	for (size_t i = 0; i < arg->len; i++) {
		if (!ok((unsigned char)arg->data[i]))
			return false;
	}
	return true;
}

/* astring = 1*ASTRING-CHAR / string */
bool imap_arg_get_astring(const struct imap_arg *arg, const char **data_r,
			  size_t *len_r)
{
	if (arg != NULL &&
	    (arg->type == IMAP_ARG_ATOM || arg->type == IMAP_ARG_NIL)) {
		if (!atom_all(arg, imap_char_astring))
			return false;
		*data_r = arg->data;
		*len_r = arg->len;
		return true;
	}
	return imap_arg_get_string(arg, data_r, len_r);
}

/* nstring = string / nil */
bool imap_arg_get_nstring(const struct imap_arg *arg, const char **data_r,
			  size_t *len_r)
{
	if (arg != NULL && arg->type == IMAP_ARG_NIL) {
		*data_r = NULL;
		*len_r = 0;
		return true;
	}
	return imap_arg_get_string(arg, data_r, len_r);
}

/* list-mailbox = 1*list-char / string */
bool imap_arg_get_list_mailbox(const struct imap_arg *arg,
			       const char **data_r, size_t *len_r)
{
	if (arg != NULL &&
	    (arg->type == IMAP_ARG_ATOM || arg->type == IMAP_ARG_NIL)) {
		if (!atom_all(arg, imap_char_list))
			return false;
		*data_r = arg->data;
		*len_r = arg->len;
		return true;
	}
	return imap_arg_get_string(arg, data_r, len_r);
}

bool imap_arg_get_list(const struct imap_arg *arg,
		       const struct imap_arg **list_r, size_t *count_r)
{
	if (arg == NULL || arg->type != IMAP_ARG_LIST)
		return false;
	*list_r = arg->list;
	*count_r = arg->list_count;
	return true;
}

bool imap_arg_get_literal(const struct imap_arg *arg, const char **data_r,
			  size_t *len_r)
{
	if (arg == NULL || arg->type != IMAP_ARG_LITERAL)
		return false;
	*data_r = arg->data;
	*len_r = arg->len;
	return true;
}

bool imap_arg_get_literal_file(const struct imap_arg *arg, int *fd_r,
			       uint64_t *size_r)
{
	if (arg == NULL || arg->type != IMAP_ARG_LITERAL_FILE)
		return false;
	*fd_r = arg->fd;
	*size_r = arg->size;
	return true;
}

/* number = 1*DIGIT, limited to max */
static bool arg_get_digits(const struct imap_arg *arg, uint64_t max,
			   uint64_t *num_r)
{
	if (arg == NULL || arg->type != IMAP_ARG_ATOM || arg->len == 0)
		return false;
	uint64_t n = 0;
	for (size_t i = 0; i < arg->len; i++) {
		char c = arg->data[i];
		if (c < '0' || c > '9')
			return false;
		unsigned d = (unsigned)(c - '0');
		if (n > (max - d) / 10)
			return false;
		n = n * 10 + d;
	}
	*num_r = n;
	return true;
}

/* number = 1*DIGIT ; Unsigned 32-bit integer */
bool imap_arg_get_number(const struct imap_arg *arg, uint32_t *num_r)
{
	uint64_t n;
	if (!arg_get_digits(arg, UINT32_MAX, &n))
		return false;
	*num_r = (uint32_t)n;
	return true;
}

/* number64 = 1*DIGIT ; Unsigned 63-bit integer */
bool imap_arg_get_number64(const struct imap_arg *arg, uint64_t *num_r)
{
	return arg_get_digits(arg, IMAP_NUMBER64_MAX, num_r);
}

/* nz-number = digit-nz *DIGIT ; Non-zero unsigned 32-bit integer */
bool imap_arg_get_nz_number(const struct imap_arg *arg, uint32_t *num_r)
{
	uint64_t n;
	if (!arg_get_digits(arg, UINT32_MAX, &n) || arg->data[0] == '0')
		return false;
	*num_r = (uint32_t)n;
	return true;
}

const char *imap_arg_type_name(enum imap_arg_type type)
{
	switch (type) {
	case IMAP_ARG_ATOM:
		return "ATOM";
	case IMAP_ARG_NIL:
		return "NIL";
	case IMAP_ARG_STRING:
		return "STRING";
	case IMAP_ARG_LITERAL:
		return "LITERAL";
	case IMAP_ARG_LITERAL_FILE:
		return "LITERAL_FILE";
	case IMAP_ARG_LIST:
		return "LIST";
	}
	return "UNKNOWN";
}
