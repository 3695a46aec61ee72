#include "ctl/ctl-proto.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <string.h>

static bool ctl_proto_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~' || c == ':' || c == '/' ||
	       c == '@' || c == '+' || c == ',';
}

void ctl_proto_encode(struct buf *out, const void *data, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		if (ctl_proto_unreserved(p[i])) {
			buf_append_char(out, (char)p[i]);
		} else {
			char esc[3] = { '%', hex[p[i] >> 4], hex[p[i] & 15] };
			buf_append(out, esc, 3);
		}
	}
}

void ctl_proto_field(struct buf *out, const char *key, const char *value)
{
	buf_printf(out, " %s=", key);
	if (value != NULL)
		ctl_proto_encode(out, value, strlen(value));
}

void ctl_proto_field_u64(struct buf *out, const char *key, unsigned long long value)
{
	buf_printf(out, " %s=%llu", key, value);
}

static int ctl_proto_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool ctl_proto_decode(const char *in, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		if (in[i] != '%') {
			buf_append_char(out, in[i]);
			continue;
		}
		if (i + 2 >= len)
			return false;
		int hi = ctl_proto_hexval(in[i + 1]);
		int lo = ctl_proto_hexval(in[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return false;
		buf_append_char(out, (char)(hi * 16 + lo));
		i += 2;
	}
	buf_cstr(out);
	return true;
}

void ctl_request_free(struct ctl_request *req)
{
	free(req->verb);
	for (size_t i = 0; i < req->param_count; i++) {
		free(req->params[i].key);
		free(req->params[i].value);
	}
	memset(req, 0, sizeof(*req));
}

bool ctl_proto_parse(const char *line, bool with_verb, struct ctl_request *req,
		     const char **error_r)
{
	memset(req, 0, sizeof(*req));
	const char *p = line;
	while (*p == ' ')
		p++;
	if (with_verb) {
		const char *end = strchr(p, ' ');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len == 0) {
			*error_r = "empty request";
			return false;
		}
		req->verb = xstrndup(p, len);
		p += len;
	}
	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return true;
		const char *end = strchr(p, ' ');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		if (eq == NULL || eq == p) {
			*error_r = "expected key=value";
			ctl_request_free(req);
			return false;
		}
		for (const char *k = p; k < eq; k++) {
			if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
			      (*k >= '0' && *k <= '9') || *k == '_')) {
				*error_r = "bad parameter name";
				ctl_request_free(req);
				return false;
			}
		}
		if (req->param_count == CTL_PROTO_PARAMS_MAX) {
			*error_r = "too many parameters";
			ctl_request_free(req);
			return false;
		}
		struct buf value = BUF_INIT;
		if (!ctl_proto_decode(eq + 1, len - (size_t)(eq + 1 - p), &value)) {
			buf_free(&value);
			*error_r = "bad percent-encoding";
			ctl_request_free(req);
			return false;
		}
		struct ctl_param *param = &req->params[req->param_count++];
		param->key = xstrndup(p, (size_t)(eq - p));
		param->value = xstrdup(buf_cstr(&value));
		buf_free(&value);
		p += len;
	}
}

const char *ctl_request_get(const struct ctl_request *req, const char *key)
{
	for (size_t i = 0; i < req->param_count; i++)
		if (strcmp(req->params[i].key, key) == 0)
			return req->params[i].value;
	return NULL;
}
