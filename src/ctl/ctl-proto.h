#ifndef PETREL_CTL_PROTO_H
#define PETREL_CTL_PROTO_H

/* The wire protocol of the admin control socket (DESIGN.md §7), shared by
 * the daemon (ctl-server.c) and `petrel ctl` (src/cli/cmd-ctl.c).
 *
 * Transport: a unix stream socket, mode 0600. The daemon checks the peer's
 * uid with SO_PEERCRED and only serves root and its own uid; anyone else
 * gets "ERR permission denied" and the connection is closed. A connection
 * carries any number of requests, one after the other.
 *
 * Grammar (LF ends every line; a CR before it is ignored):
 *   request    = verb *(SP param) LF          ; at most CTL_PROTO_LINE_MAX bytes
 *   param      = key "=" pct-value
 *   key        = 1*(ALPHA / DIGIT / "_")
 *   pct-value  = *(unreserved / "%" 2HEXDIG)  ; unreserved: A-Z a-z 0-9 - . _ ~ : / @ + ,
 *   response   = *(data-line / warning-line) end-line
 *   data-line  = "D" SP text LF     ; a record (SP-separated key=pct-value
 *                                   ; params, like a request's) or, for
 *                                   ; TRACE-SHOW and TRACE-TAIL, one line
 *                                   ; of trace text as it is in the file
 *   warning-line = "W" SP text LF   ; for the human: printed on stderr
 *   end-line   = "OK" [SP text] LF / "ERR" SP text LF
 *
 * Verbs and their params:
 *   PING                         OK petrel VERSION
 *   SESSIONS                     D per session: id user remote tls client
 *                                state mailbox since_ms idle_ms bytes_in
 *                                bytes_out commands traced
 *   KICK session=ID | user=NAME [reason=TEXT]
 *                                D per session ended: id user; OK N
 *   STATS                        D kind=counter name= value=
 *                                D kind=command name= count= p50_us= p90_us=
 *                                  p99_us= max_us= no= bad=
 *                                D kind=client name= no= bad=
 *   TRACE-ON user=NAME | address=CIDR | all=1 [for=SECONDS] [literal_bytes=N]
 *   TRACE-OFF user=NAME | address=CIDR | all=1
 *   TRACE-LIST                   D kind=rule match= value= expires_ms=
 *                                  literal_bytes=
 *                                D kind=session id= user= path=
 *   TRACE-SHOW session=ID        D per line of that session's trace file
 *   TRACE-TAIL user=NAME         D "[ID] " + each new trace line of NAME's
 *                                sessions, until the client closes the
 *                                connection (or the daemon stops); no
 *                                end-line unless the request is refused.
 * Unknown verbs and bad params get ERR; the connection stays usable. */

#include "lib/buf.h"

#include <stdbool.h>
#include <stddef.h>

#define CTL_PROTO_LINE_MAX 4096
#define CTL_PROTO_PARAMS_MAX 16

struct ctl_param {
	char *key;
	char *value;           /* decoded; may be empty, never NULL */
};

struct ctl_request {
	char *verb;
	struct ctl_param params[CTL_PROTO_PARAMS_MAX];
	size_t param_count;
};

/* Appends data percent-encoded (every byte outside the unreserved set). */
void ctl_proto_encode(struct buf *out, const void *data, size_t len);
/* Appends " key=" and value encoded. */
void ctl_proto_field(struct buf *out, const char *key, const char *value);
void ctl_proto_field_u64(struct buf *out, const char *key, unsigned long long value);
/* Decodes in[0..len) into out (NUL-terminated). False on a malformed
 * escape or a decoded NUL byte. */
bool ctl_proto_decode(const char *in, size_t len, struct buf *out);

/* Parses a request line (without LF) into req; the strings are heap copies
 * freed by ctl_request_free. Also parses the params of a D record when
 * with_verb is false (verb is then NULL). */
bool ctl_proto_parse(const char *line, bool with_verb, struct ctl_request *req,
		     const char **error_r);
void ctl_request_free(struct ctl_request *req);
/* The value of key, or NULL when absent. */
const char *ctl_request_get(const struct ctl_request *req, const char *key);

#endif
