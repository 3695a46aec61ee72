/* Metadata for a finished blob: maps the tmp file and runs the MIME digest
 * over it. */

#include "store/store-ingest.h"
#include "store/store-fts.h"
#include "store/store-private.h"

#include "mime/mime-digest.h"

#include "lib/arena.h"
#include "lib/filebytes.h"

#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <string.h>
#include <unistd.h>

/* The zone of the Date: header the digest took its instant from (SEARCH
 * SENT* compares the day as the sender wrote it). The digest keeps only the
 * instant, so the field is found again in the decoded header text ("Name:
 * value" lines) and parsed by the same function: the first Date: line that
 * parses to the same instant. None does only if decoding changed the
 * field; the zone is then taken as +0000. */
static int store_ingest_sent_zone(struct arena *a, const struct mime_digest *d)
{
	const char *p = d->header_text;
	while (d->has_sent_date && p != NULL && *p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t len = eol != NULL ? (size_t)(eol - p) : strlen(p);
		if (len > 5 && strncasecmp(p, "date:", 5) == 0) {
			int64_t t;
			int zone;
			if (mime_parse_date(arena_strndup(a, p + 5, len - 5), &t, &zone) &&
			    t == d->sent_date)
				return zone;
		}
		p = eol != NULL ? eol + 1 : NULL;
	}
	return 0;
}

static void store_ingest_from_digest(struct arena *a, const struct mime_digest *d,
				     struct store_msg_meta *meta_r)
{
	*meta_r = (struct store_msg_meta){
		.envelope = d->envelope, .bodystructure = d->bodystructure, .body = d->body,
		.has_sent_date = d->has_sent_date, .sent_date = d->sent_date,
		.sent_tz_min = store_ingest_sent_zone(a, d),
		.from = d->from, .to = d->to, .cc = d->cc, .subject = d->subject,
		.message_id = d->message_id, .in_reply_to = d->in_reply_to,
		.references = d->references, .header_text = d->header_text,
		.body_text = d->body_text, .header = d->header, .header_len = d->header_len,
	};
}

enum store_error store_ingest_meta(const struct store_blob *blob, struct arena *a,
				   struct store_msg_meta *meta_r, const char **error_r)
{
	struct mime_digest d;
	int fd = open(blob->tmp_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return store_sys_fail("open blob for digest", blob->tmp_path, errno, error_r);
	struct file_bytes bytes;
	int err;
	bool ok = file_bytes_load(fd, (size_t)blob->size, &bytes, &err);
	close(fd);
	if (!ok)
		return store_sys_fail("read blob for digest", blob->tmp_path, err, error_r);
	/* With the daemon's indexer, the queue keeps no copy of the text
	 * (store_fts_add): it derives it again when it indexes. */
	mime_digest_build(a, bytes.data, bytes.len,
			  store_fts_keeps_copies() ? MIME_DIGEST_BODY_TEXT : 0, &d);
	file_bytes_release(&bytes);
	store_ingest_from_digest(a, &d, meta_r);
	return STORE_OK;
}

enum store_error store_ingest_text(struct store_user *u, const char *hash, struct arena *a,
				   const char **headers_r, const char **body_r,
				   const char **error_r)
{
	int fd;
	uint64_t size;
	enum store_error err = store_blob_open(u, hash, &fd, &size, error_r);
	if (err != STORE_OK)
		return err;
	struct file_bytes bytes;
	int load_errno;
	bool ok = file_bytes_load(fd, (size_t)size, &bytes, &load_errno);
	close(fd);
	if (!ok)
		return store_sys_fail("read blob for its text", hash, load_errno, error_r);
	struct mime_digest d;
	mime_digest_build(a, bytes.data, bytes.len, MIME_DIGEST_BODY_TEXT, &d);
	file_bytes_release(&bytes);
	*headers_r = d.header_text;
	*body_r = d.body_text;
	return STORE_OK;
}
