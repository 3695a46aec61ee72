/* BODY[section] (RFC 9051 6.4.5): numeric part paths and the HEADER,
 * HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT and MIME specifiers. */

#include "mime/mime-private.h"
#include "lib/buf.h"

/* Selects part number num at the level of base: the num-th child of a
 * multipart, or base itself as part 1 when base is a message (or embedded
 * message) that is not multipart ("Every message has at least one part
 * number"). */
static const struct mime_part *mime_section_select(const struct mime_part *base,
						   unsigned int num)
{
	if (base->kind == MIME_PART_MULTIPART) {
		const struct mime_part *c = base->children;
		for (unsigned int i = 1; c != NULL && i < num; i++)
			c = c->next;
		return num >= 1 ? c : NULL;
	}
	return num == 1 ? base : NULL;
}

static const struct mime_part *mime_section_resolve(const struct mime_part *root,
						    const unsigned int *path,
						    unsigned int path_len)
{
	const struct mime_part *cur = NULL;
	for (unsigned int i = 0; i < path_len; i++) {
		const struct mime_part *base;
		if (i == 0)
			base = root;
		else if (cur->kind == MIME_PART_MESSAGE && cur->children != NULL)
			base = cur->children; /* parts of the encapsulated message */
		else if (cur->kind == MIME_PART_MULTIPART)
			base = cur;
		else
			return NULL;
		cur = mime_section_select(base, path[i]);
		if (cur == NULL)
			return NULL;
	}
	return cur;
}

static bool mime_section_field_listed(const struct mime_header_field *f,
				      const struct mime_section *sec)
{
	for (unsigned int i = 0; i < sec->field_count; i++) {
		/* ASCII-range case-insensitive, otherwise exact */
		if (mime_header_name_is(f, sec->fields[i]))
			return true;
	}
	return false;
}

static bool mime_section_needs_blank_line(const struct mime_part *msg_part)
{
	/* 6.4.5: "the blank line is included in all header fetches, except
	 * in the case of a message that has no body and no blank line" */
	return (msg_part->flags & MIME_PART_FLAG_NO_BLANK_LINE) == 0 ||
	       msg_part->body_end > msg_part->body_start;
}

static void mime_section_filter(const unsigned char *msg, const struct mime_part *msg_part,
				const struct mime_section *sec, struct buf *out)
{
	bool want_listed = sec->text == MIME_SECTION_HEADER_FIELDS;
	size_t pos = (size_t)msg_part->header_start;
	struct mime_header_field f;
	while (mime_header_next_field(msg, (size_t)msg_part->header_end, &pos, &f)) {
		if (mime_section_field_listed(&f, sec) == want_listed)
			buf_append(out, msg + f.start, f.end - f.start);
	}
	if (mime_section_needs_blank_line(msg_part))
		buf_append(out, "\r\n", 2);
}

static bool mime_section_part_valid(const struct mime_part *p, size_t msg_len)
{
	return p->header_start <= p->header_end && p->header_end <= p->body_start &&
	       p->body_start <= p->body_end && p->body_end <= msg_len;
}

static bool mime_section_set_range(struct mime_section_data *data, uint64_t start,
				   uint64_t end)
{
	data->start = start;
	data->end = end;
	return true;
}

bool mime_section_fetch(const struct mime_part *root, const unsigned char *msg,
			size_t msg_len, const struct mime_section *sec,
			struct buf *filtered_out, struct mime_section_data *data_r)
{
	data_r->part = root;
	data_r->start = data_r->end = 0;
	data_r->filtered = false;
	if (!mime_section_part_valid(root, msg_len))
		return false;
	if (sec->path_len == 0 && sec->text == MIME_SECTION_ALL)
		return mime_section_set_range(data_r, 0, msg_len);
	if (sec->path_len == 0 && sec->text == MIME_SECTION_MIME)
		return false; /* "MUST be prefixed by one or more numeric part specifiers" */

	const struct mime_part *part = root;
	if (sec->path_len > 0) {
		part = mime_section_resolve(root, sec->path, sec->path_len);
		if (part == NULL || !mime_section_part_valid(part, msg_len))
			return false;
	}
	data_r->part = part;
	if (sec->text == MIME_SECTION_ALL)
		return mime_section_set_range(data_r, part->body_start, part->body_end);
	if (sec->text == MIME_SECTION_MIME)
		return mime_section_set_range(data_r, part->header_start, part->header_end);

	/* HEADER, HEADER.FIELDS[.NOT], TEXT: of the message itself or of the
	 * message encapsulated in a MESSAGE/RFC822 part. */
	const struct mime_part *msg_part = part;
	if (sec->path_len > 0) {
		if (part->kind != MIME_PART_MESSAGE || part->children == NULL)
			return false;
		msg_part = part->children;
		if (!mime_section_part_valid(msg_part, msg_len))
			return false;
	}
	switch (sec->text) {
	case MIME_SECTION_TEXT:
		return mime_section_set_range(data_r, msg_part->body_start, msg_part->body_end);
	case MIME_SECTION_HEADER:
		if (mime_section_needs_blank_line(msg_part) &&
		    (msg_part->flags & MIME_PART_FLAG_NO_BLANK_LINE) != 0) {
			/* the header had no blank line before its body:
			 * supply the delimiting blank line */
			buf_append(filtered_out, msg + msg_part->header_start,
				   (size_t)(msg_part->header_end - msg_part->header_start));
			buf_append(filtered_out, "\r\n", 2);
			data_r->filtered = true;
			return true;
		}
		return mime_section_set_range(data_r, msg_part->header_start, msg_part->header_end);
	case MIME_SECTION_HEADER_FIELDS:
	case MIME_SECTION_HEADER_FIELDS_NOT:
		mime_section_filter(msg, msg_part, sec, filtered_out);
		data_r->filtered = true;
		return true;
	default:
		return false;
	}
}
