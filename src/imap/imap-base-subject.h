#ifndef PETREL_IMAP_BASE_SUBJECT_H
#define PETREL_IMAP_BASE_SUBJECT_H

/* The "base subject" of RFC 5256 §2.1, used by SORT (SUBJECT) and THREAD. */

#include <stdbool.h>

struct arena;

/* subject is the decoded (RFC 2047 → UTF-8) Subject, or NULL. Returns the
 * base subject in upper case (i;ascii-casemap: only ASCII letters fold),
 * from a; *is_reply_r (may be NULL) tells whether extraction removed a
 * subj-refwd, a "(fwd)" trailer or a "[fwd: ...]" wrapper (RFC 5256 §3,
 * REFERENCES). */
const char *imap_base_subject(struct arena *a, const char *subject, bool *is_reply_r);

#endif
