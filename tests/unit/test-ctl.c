/* Unit tests for the pure pieces of src/ctl: histogram percentiles, CIDR
 * matching, the control protocol's encoding, and the trace writer's
 * framing and masking (fed byte by byte as well as whole). */

#include "test-common.h"
#include "lib/cidr.h"
#include "ctl/ctl-proto.h"
#include "ctl/ctl-stats.h"
#include "ctl/ctl-trace.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

static void test_hist_empty_is_zero(void)
{
	struct ctl_hist h = { 0 };
	TEST_CHECK_INT(ctl_hist_percentile(&h, 500), 0);
	TEST_CHECK_INT(ctl_hist_percentile(&h, 990), 0);
}

static void test_hist_percentiles_are_bucket_upper_bounds(void)
{
	struct ctl_hist h = { 0 };
	/* 90 fast (30us), 9 medium (1500us), 1 slow (70ms). */
	for (int i = 0; i < 90; i++)
		ctl_hist_add(&h, 30);
	for (int i = 0; i < 9; i++)
		ctl_hist_add(&h, 1500);
	ctl_hist_add(&h, 70000);
	TEST_CHECK_INT(h.count, 100);
	TEST_CHECK_INT(h.max_us, 70000);
	TEST_CHECK_INT(ctl_hist_percentile(&h, 500), 50);
	TEST_CHECK_INT(ctl_hist_percentile(&h, 900), 50);     /* rank 90 */
	TEST_CHECK_INT(ctl_hist_percentile(&h, 910), 2000);   /* rank 91 */
	TEST_CHECK_INT(ctl_hist_percentile(&h, 990), 2000);   /* rank 99 */
	/* The top rank is capped by the largest value seen. */
	TEST_CHECK_INT(ctl_hist_percentile(&h, 1000), 70000);
}

static void test_hist_bucket_edges_are_inclusive(void)
{
	struct ctl_hist h = { 0 };
	ctl_hist_add(&h, 100);
	TEST_CHECK_INT(h.buckets[1], 1);
	ctl_hist_add(&h, 101);
	TEST_CHECK_INT(h.buckets[2], 1);
	ctl_hist_add(&h, 0);
	TEST_CHECK_INT(h.buckets[0], 1);
	ctl_hist_add(&h, UINT64_MAX);
	TEST_CHECK_INT(h.buckets[CTL_HIST_BUCKETS - 1], 1);
}

static void test_hist_single_sample_and_merge(void)
{
	struct ctl_hist a = { 0 }, b = { 0 };
	ctl_hist_add(&a, 3000);
	/* One sample: every percentile is that sample, capped by max. */
	TEST_CHECK_INT(ctl_hist_percentile(&a, 500), 3000);
	TEST_CHECK_INT(ctl_hist_percentile(&a, 10), 3000);
	for (int i = 0; i < 3; i++)
		ctl_hist_add(&b, 10);
	ctl_hist_merge(&a, &b);
	TEST_CHECK_INT(a.count, 4);
	TEST_CHECK_INT(a.max_us, 3000);
	TEST_CHECK_INT(ctl_hist_percentile(&a, 500), 50);    /* rank 2 */
	TEST_CHECK_INT(ctl_hist_percentile(&a, 750), 50);    /* rank 3 */
	TEST_CHECK_INT(ctl_hist_percentile(&a, 760), 3000);  /* rank 4 */
}

static void test_stats_names_are_bounded(void)
{
	char name[32];
	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "CMD%d", i);
		ctl_stats_command(name, 10, 'N', name);
	}
	ctl_stats_delivery();
	ctl_stats_login(false);
	struct ctl_stats_data *d = ctl_stats_snapshot();
	TEST_CHECK_INT(d->command_count, CTL_STATS_COMMANDS_MAX);
	TEST_CHECK_INT(d->client_count, CTL_STATS_CLIENTS_MAX);
	TEST_CHECK_STR(d->commands[CTL_STATS_COMMANDS_MAX - 1].name, CTL_STATS_OTHER);
	uint64_t total = 0, no = 0;
	for (size_t i = 0; i < d->command_count; i++) {
		total += d->commands[i].latency.count;
		no += d->commands[i].no;
	}
	TEST_CHECK_INT(total, 500);
	TEST_CHECK_INT(no, 500);
	TEST_CHECK_INT(d->deliveries, 1);
	TEST_CHECK_INT(d->logins_failed, 1);
	free(d);
}

static void test_cidr_ipv4(void)
{
	struct cidr c;
	TEST_CHECK(cidr_parse("192.0.2.0/24", &c));
	TEST_CHECK(cidr_match(&c, "192.0.2.0"));
	TEST_CHECK(cidr_match(&c, "192.0.2.255"));
	TEST_CHECK(!cidr_match(&c, "192.0.3.1"));
	TEST_CHECK(!cidr_match(&c, "::1"));
	TEST_CHECK(!cidr_match(&c, "not an address"));
	/* IPv4-mapped IPv6 matches an IPv4 range. */
	TEST_CHECK(cidr_match(&c, "::ffff:192.0.2.7"));
	/* Host bits are ignored; a bare address is a /32. */
	TEST_CHECK(cidr_parse("10.1.2.3/8", &c));
	TEST_CHECK(cidr_match(&c, "10.200.0.1"));
	TEST_CHECK(cidr_parse("127.0.0.1", &c));
	TEST_CHECK_INT(c.prefix, 32);
	TEST_CHECK(cidr_match(&c, "127.0.0.1"));
	TEST_CHECK(!cidr_match(&c, "127.0.0.2"));
	/* Odd prefixes cut inside a byte. */
	TEST_CHECK(cidr_parse("172.16.0.0/12", &c));
	TEST_CHECK(cidr_match(&c, "172.31.255.255"));
	TEST_CHECK(!cidr_match(&c, "172.32.0.0"));
	TEST_CHECK(cidr_parse("0.0.0.0/0", &c));
	TEST_CHECK(cidr_match(&c, "203.0.113.9"));
}

static void test_cidr_ipv6(void)
{
	struct cidr c;
	TEST_CHECK(cidr_parse("2001:db8::/32", &c));
	TEST_CHECK(cidr_match(&c, "2001:db8:1::5"));
	TEST_CHECK(!cidr_match(&c, "2001:db9::1"));
	TEST_CHECK(!cidr_match(&c, "192.0.2.1"));
	TEST_CHECK(cidr_parse("::1", &c));
	TEST_CHECK_INT(c.prefix, 128);
	TEST_CHECK(cidr_match(&c, "::1"));
	TEST_CHECK(cidr_parse("fe80::/10", &c));
	TEST_CHECK(cidr_match(&c, "febf::1"));
	TEST_CHECK(!cidr_match(&c, "fec0::1"));
}

static void test_cidr_rejects_malformed(void)
{
	struct cidr c;
	TEST_CHECK(!cidr_parse("", &c));
	TEST_CHECK(!cidr_parse("/24", &c));
	TEST_CHECK(!cidr_parse("192.0.2.0/33", &c));
	TEST_CHECK(!cidr_parse("192.0.2.0/", &c));
	TEST_CHECK(!cidr_parse("192.0.2.0/2x", &c));
	TEST_CHECK(!cidr_parse("2001:db8::/129", &c));
	TEST_CHECK(!cidr_parse("example.com", &c));
	TEST_CHECK(!cidr_parse("192.0.2.0/-1", &c));
}

static void test_proto_roundtrip(void)
{
	struct buf b = BUF_INIT;
	buf_append_str(&b, "KICK");
	ctl_proto_field(&b, "user", "al ice=%\n");
	ctl_proto_field(&b, "reason", "");
	TEST_CHECK_STR(buf_cstr(&b), "KICK user=al%20ice%3D%25%0A reason=");
	struct ctl_request req;
	const char *error;
	TEST_CHECK(ctl_proto_parse(buf_cstr(&b), true, &req, &error));
	TEST_CHECK_STR(req.verb, "KICK");
	TEST_CHECK_STR(ctl_request_get(&req, "user"), "al ice=%\n");
	TEST_CHECK_STR(ctl_request_get(&req, "reason"), "");
	TEST_CHECK(ctl_request_get(&req, "session") == NULL);
	ctl_request_free(&req);
	buf_free(&b);
	TEST_CHECK(!ctl_proto_parse("KICK user", true, &req, &error));
	TEST_CHECK(!ctl_proto_parse("KICK user=%4", true, &req, &error));
	TEST_CHECK(!ctl_proto_parse("KICK user=%00", true, &req, &error));
	TEST_CHECK(!ctl_proto_parse("KICK =x", true, &req, &error));
	TEST_CHECK(!ctl_proto_parse("", true, &req, &error));
}

/* --- Trace writer ------------------------------------------------------------ */

struct feed {
	char dir;                /* 'C' client, 'L' line, 'X' secret line, 'S' server */
	const char *data;
};

/* Runs a conversation through a trace, whole or byte by byte, and returns
 * the file without timestamps (heap string). */
static char *trace_run(const struct feed *feeds, size_t n, bool bytewise, size_t literal_bytes)
{
	int fd = memfd_create("trace", 0);
	struct ctl_trace *t = ctl_trace_new_fd(dup(fd), literal_bytes);
	for (size_t i = 0; i < n; i++) {
		const char *p = feeds[i].data;
		size_t len = strlen(p);
		size_t step = bytewise ? 1 : len;
		for (size_t off = 0; off < len; off += step) {
			size_t k = len - off < step ? len - off : step;
			if (feeds[i].dir == 'S')
				ctl_trace_server(t, p + off, k);
			else
				ctl_trace_client(t, p + off, k,
						 feeds[i].dir == 'L' ? CTL_TRACE_INPUT_LINE
						 : feeds[i].dir == 'X' ? CTL_TRACE_INPUT_SECRET_LINE
						 : CTL_TRACE_INPUT_COMMAND);
		}
	}
	ctl_trace_close(&t);
	off_t size = lseek(fd, 0, SEEK_END);
	char *raw = malloc((size_t)size + 1);
	pread(fd, raw, (size_t)size, 0);
	raw[size] = '\0';
	close(fd);
	/* Drop "2026-11-25T19:01:02.345Z " (25 bytes) from every line. */
	char *out = malloc((size_t)size + 1);
	size_t o = 0;
	for (char *line = raw; *line != '\0';) {
		char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) + 1 : strlen(line);
		if (len > 25 && line[4] == '-' && line[23] == 'Z') {
			memcpy(out + o, line + 25, len - 25);
			o += len - 25;
		}
		line += len;
	}
	out[o] = '\0';
	free(raw);
	return out;
}

static void trace_check(const struct feed *feeds, size_t n, size_t literal_bytes,
			const char *expected)
{
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		char *got = trace_run(feeds, n, bytewise, literal_bytes);
		TEST_CHECK_STR(got, expected);
		free(got);
	}
}

#define FEEDS(...) ((const struct feed[]){ __VA_ARGS__ }), \
	sizeof((const struct feed[]){ __VA_ARGS__ }) / sizeof(struct feed)

static void test_trace_plain_conversation(void)
{
	trace_check(FEEDS({ 'S', "* OK ready\r\n" }, { 'C', "a1 NOOP\r\n" },
			  { 'S', "a1 OK NOOP completed\r\n" }, { 'C', "a2 CAPA\tX\x01\n" }),
		    100,
		    "S: * OK ready\n"
		    "C: a1 NOOP\n"
		    "S: a1 OK NOOP completed\n"
		    "C: a2 CAPA\tX\\x01[LF only]\n");
}

static void test_trace_login_atom_and_quoted_masked(void)
{
	trace_check(FEEDS({ 'C', "a1 LOGIN alice s3cret\r\n" },
			  { 'C', "a2 login \"alice\" \"pa ss\\\"word\"\r\n" },
			  { 'C', "a3 LOGIN \"unterminated s3cret\r\n" },
			  { 'C', "a4 LOGIN alice s3cret extra\r\n" }),
		    100,
		    "C: a1 LOGIN alice ***\n"
		    "C: a2 login \"alice\" ***\n"
		    "C: a3 LOGIN ***\n"
		    "C: a4 LOGIN alice ***\n");
}

static void test_trace_login_literals_masked(void)
{
	/* Synchronising literals for both arguments. */
	trace_check(FEEDS({ 'C', "a1 LOGIN {5}\r\n" }, { 'S', "+ Ready\r\n" },
			  { 'C', "alice {6}\r\n" }, { 'S', "+ Ready\r\n" },
			  { 'C', "s3cret\r\n" }, { 'S', "a1 OK done\r\n" }),
		    100,
		    "C: a1 LOGIN {5}\n"
		    "S: + Ready\n"
		    "C: alice {6}\n"
		    "S: + Ready\n"
		    "C: ***\n"
		    "S: a1 OK done\n");
	/* Non-synchronising literal password, user as atom. */
	trace_check(FEEDS({ 'C', "a1 LOGIN alice {6+}\r\ns3cret\r\n" },
			  { 'S', "a1 OK done\r\n" }),
		    100,
		    "C: a1 LOGIN alice {6+}\n"
		    "C: ***\n"
		    "S: a1 OK done\n");
	/* User as a literal, password as an atom after it. */
	trace_check(FEEDS({ 'C', "a1 LOGIN {5+}\r\nalice s3cret\r\n" }),
		    100,
		    "C: a1 LOGIN {5+}\n"
		    "C: alice ***\n");
}

static void test_trace_refused_literal_is_not_data(void)
{
	/* The server answers instead of "+": what follows is a new command,
	 * traced as such. */
	trace_check(FEEDS({ 'C', "a1 APPEND INBOX {99999}\r\n" },
			  { 'S', "a1 NO [TOOBIG] too big\r\n" }, { 'C', "a2 NOOP\r\n" }),
		    100,
		    "C: a1 APPEND INBOX {99999}\n"
		    "S: a1 NO [TOOBIG] too big\n"
		    "C: a2 NOOP\n");
}

static void test_trace_authenticate_masked(void)
{
	trace_check(FEEDS({ 'C', "a1 AUTHENTICATE PLAIN AGFsaWNlAHMzY3JldA==\r\n" },
			  { 'C', "a2 AUTHENTICATE PLAIN\r\n" }, { 'S', "+ \r\n" },
			  { 'X', "AGFsaWNlAHMzY3JldA==\r\n" },
			  { 'C', "a3 AUTHENTICATE LOGIN\r\n" }, { 'S', "+ VXNlcm5hbWU6\r\n" },
			  { 'X', "YWxpY2U=\r\n" }, { 'S', "+ UGFzc3dvcmQ6\r\n" },
			  { 'X', "czNjcmV0\r\n" }, { 'X', "*\r\n" }),
		    100,
		    "C: a1 AUTHENTICATE PLAIN ***\n"
		    "C: a2 AUTHENTICATE PLAIN\n"
		    "S: + \n"
		    "C: ***\n"
		    "C: a3 AUTHENTICATE LOGIN\n"
		    "S: + VXNlcm5hbWU6\n"
		    "C: ***\n"
		    "S: + UGFzc3dvcmQ6\n"
		    "C: ***\n"
		    "C: *\n");
}

static void test_trace_masks_out_of_turn_secrets(void)
{
	/* A TAB instead of SP, and a SASL response sent after the server
	 * refused AUTHENTICATE (so read as a command): still masked. */
	trace_check(FEEDS({ 'C', "a1\tLOGIN\talice\ts3cret\r\n" },
			  { 'C', "a2 AUTHENTICATE PLAIN\r\n" },
			  { 'S', "a2 NO [PRIVACYREQUIRED] Use TLS\r\n" },
			  { 'C', "AGFsaWNlAHMzY3JldA==\r\n" },
			  { 'S', "* BAD Invalid tag\r\n" },
			  { 'C', "NOOP\r\n" }),
		    100,
		    "C: a1\tLOGIN\talice***\n"
		    "C: a2 AUTHENTICATE PLAIN\n"
		    "S: a2 NO [PRIVACYREQUIRED] Use TLS\n"
		    "C: ***\n"
		    "S: * BAD Invalid tag\n"
		    "C: NOOP\n");
}

static void test_trace_literals_cut_to_limit(void)
{
	trace_check(FEEDS({ 'C', "a1 APPEND INBOX {20}\r\n" }, { 'S', "+ go\r\n" },
			  { 'C', "Subject: x\r\n\r\nbody\r\n\r\n" }, { 'S', "a1 OK\r\n" },
			  { 'S', "* 1 FETCH (BODY[] {12}\r\nab\r\ncdefghij)\r\n" }),
		    8,
		    "C: a1 APPEND INBOX {20}\n"
		    "S: + go\n"
		    "C: Subject:[... 12 more bytes]\n"
		    "S: a1 OK\n"
		    "S: * 1 FETCH (BODY[] {12}\n"
		    "S: ab\n"
		    "S: cdef[... 4 more bytes])\n");
}

static void test_trace_secret_never_leaks_when_cut(void)
{
	/* A connection that drops inside a LOGIN literal. */
	trace_check(FEEDS({ 'C', "a1 LOGIN alice {10+}\r\ns3cr" }), 100,
		    "C: a1 LOGIN alice {10+}\n"
		    "C: ***[... 6 more bytes]\n");
	trace_check(FEEDS({ 'C', "a1 LOGIN alice s3cr" }), 100,
		    "C: a1 LOGIN alice ***[incomplete line]\n");
}

static void test_trace_unseen_bytes_count_as_literal(void)
{
	int fd = memfd_create("trace", 0);
	struct ctl_trace *t = ctl_trace_new_fd(dup(fd), 100);
	const char *head = "* 1 FETCH (BODY[] {50000}\r\n";
	ctl_trace_server(t, head, strlen(head));
	ctl_trace_server_unseen(t, 50000);
	ctl_trace_server(t, ")\r\n", 3);
	ctl_trace_close(&t);
	char buf[512] = { 0 };
	pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	TEST_CHECK(strstr(buf, "S: * 1 FETCH (BODY[] {50000}\n") != NULL);
	TEST_CHECK(strstr(buf, "S: [... 50000 more bytes])\n") != NULL);
}

static void test_trace_rules_match(void)
{
	struct ctl_trace_rule r = { .match = CTL_TRACE_MATCH_USER, .literal_bytes = 10 };
	snprintf(r.value, sizeof(r.value), "alice");
	const char *error;
	unsigned gen = ctl_trace_generation();
	TEST_CHECK(ctl_trace_rule_set(&r, &error));
	TEST_CHECK(ctl_trace_generation() != gen);
	struct ctl_trace_rule a = { .match = CTL_TRACE_MATCH_ADDRESS, .literal_bytes = 99 };
	snprintf(a.value, sizeof(a.value), "10.0.0.0/8");
	TEST_CHECK(cidr_parse(a.value, &a.cidr));
	a.expires_ms = 1000;
	TEST_CHECK(ctl_trace_rule_set(&a, &error));
	size_t lit;
	TEST_CHECK(ctl_trace_rules_match("alice", "192.0.2.1", &lit));
	TEST_CHECK_INT(lit, 10);
	TEST_CHECK(ctl_trace_rules_match("alice", "10.1.1.1", &lit));
	TEST_CHECK_INT(lit, 99);
	TEST_CHECK(ctl_trace_rules_match(NULL, "10.1.1.1", &lit));
	TEST_CHECK(!ctl_trace_rules_match("bob", "192.0.2.1", &lit));
	TEST_CHECK(!ctl_trace_rules_match(NULL, "192.0.2.1", &lit));
	ctl_trace_rules_expire(999);
	TEST_CHECK(ctl_trace_rules_match(NULL, "10.1.1.1", &lit));
	ctl_trace_rules_expire(1000);
	TEST_CHECK(!ctl_trace_rules_match(NULL, "10.1.1.1", &lit));
	TEST_CHECK(ctl_trace_rule_clear(CTL_TRACE_MATCH_USER, "alice"));
	TEST_CHECK(!ctl_trace_rule_clear(CTL_TRACE_MATCH_USER, "alice"));
	TEST_CHECK(!ctl_trace_rules_match("alice", "192.0.2.1", &lit));
}

int main(void)
{
	test_run("hist_empty_is_zero", test_hist_empty_is_zero);
	test_run("hist_percentiles_are_bucket_upper_bounds",
		 test_hist_percentiles_are_bucket_upper_bounds);
	test_run("hist_bucket_edges_are_inclusive", test_hist_bucket_edges_are_inclusive);
	test_run("hist_single_sample_and_merge", test_hist_single_sample_and_merge);
	test_run("stats_names_are_bounded", test_stats_names_are_bounded);
	test_run("cidr_ipv4", test_cidr_ipv4);
	test_run("cidr_ipv6", test_cidr_ipv6);
	test_run("cidr_rejects_malformed", test_cidr_rejects_malformed);
	test_run("proto_roundtrip", test_proto_roundtrip);
	test_run("trace_plain_conversation", test_trace_plain_conversation);
	test_run("trace_login_atom_and_quoted_masked", test_trace_login_atom_and_quoted_masked);
	test_run("trace_login_literals_masked", test_trace_login_literals_masked);
	test_run("trace_refused_literal_is_not_data", test_trace_refused_literal_is_not_data);
	test_run("trace_authenticate_masked", test_trace_authenticate_masked);
	test_run("trace_masks_out_of_turn_secrets", test_trace_masks_out_of_turn_secrets);
	test_run("trace_literals_cut_to_limit", test_trace_literals_cut_to_limit);
	test_run("trace_secret_never_leaks_when_cut", test_trace_secret_never_leaks_when_cut);
	test_run("trace_unseen_bytes_count_as_literal", test_trace_unseen_bytes_count_as_literal);
	test_run("trace_rules_match", test_trace_rules_match);
	return test_finish();
}
