#include "lmtp/lmtp-dot.h"

void lmtp_dot_init(struct lmtp_dot *d)
{
	d->state = LMTP_DOT_BOL;
}

/* One input byte; writes what it stands for at *o. */
static void lmtp_dot_step(struct lmtp_dot *d, unsigned char ch, unsigned char *out, size_t *o)
{
	switch (d->state) {
	case LMTP_DOT_BOL:
		if (ch == '.') {
			/* RFC 5321 §4.5.2: the first dot of a line is removed. */
			d->state = LMTP_DOT_DOT;
			return;
		}
		break;
	case LMTP_DOT_DOT:
		if (ch == '\r') {
			d->state = LMTP_DOT_DOT_CR;
			return;
		}
		break;
	case LMTP_DOT_DOT_CR:
		if (ch == '\n') {
			d->state = LMTP_DOT_END;
			return;
		}
		/* "." CR and something else: a line holding a bare CR. */
		out[(*o)++] = '\r';
		break;
	case LMTP_DOT_LINE:
	case LMTP_DOT_CR:
	case LMTP_DOT_END:
		break;
	}
	out[(*o)++] = ch;
	if (ch == '\r')
		d->state = LMTP_DOT_CR;
	else if (ch == '\n' && d->state == LMTP_DOT_CR)
		d->state = LMTP_DOT_BOL;
	else
		d->state = LMTP_DOT_LINE;
}

bool lmtp_dot_decode(struct lmtp_dot *d, const unsigned char *in, size_t len,
		     unsigned char *out, size_t *out_len_r, size_t *consumed_r)
{
	size_t i = 0, o = 0;
	while (i < len && d->state != LMTP_DOT_END)
		lmtp_dot_step(d, in[i++], out, &o);
	*out_len_r = o;
	*consumed_r = i;
	return d->state == LMTP_DOT_END;
}
