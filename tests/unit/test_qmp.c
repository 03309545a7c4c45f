// SPDX-License-Identifier: GPL-2.0
/*
 * rdmigd's QMP channel without RDMA (user/rdmigd/qmp.c): the line splitter
 * drops an over-long line whole (nothing after the limit runs as a
 * command), a line holds exactly one JSON object (a second one or
 * trailing junk is an error), QMP's error texts, the greeting and event
 * shapes, and migrate-set-parameters all-or-nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "../../user/rdmigd/qmp.h"

#define MAXL 16

struct got {
	int n, overlong;
	char *line[MAXL];
};

static void on_line(void *ctx, const char *line, size_t len, bool overlong)
{
	struct got *g = ctx;

	if (overlong) {
		assert_null(line);
		g->overlong++;
		return;
	}
	assert_int_equal(strlen(line), len);	/* NUL-terminated at @len */
	assert_true(g->n < MAXL);
	g->line[g->n++] = strdup(line);
}

static void got_free(struct got *g)
{
	int i;

	for (i = 0; i < g->n; i++)
		free(g->line[i]);
	memset(g, 0, sizeof(*g));
}

static void feed(struct qmp_reader *r, struct got *g, const char *s)
{
	qmp_reader_feed(r, s, strlen(s), on_line, g);
}

static void test_lines(void **state)
{
	struct qmp_reader r;
	struct got g = { 0 };

	(void)state;
	assert_int_equal(qmp_reader_init(&r), 0);
	feed(&r, &g, "{\"a\":1}\n{\"b\"");
	assert_int_equal(g.n, 1);
	assert_string_equal(g.line[0], "{\"a\":1}");
	feed(&r, &g, ":2}\n\n");
	assert_int_equal(g.n, 3);
	assert_string_equal(g.line[1], "{\"b\":2}");
	assert_string_equal(g.line[2], "");
	assert_int_equal(g.overlong, 0);
	got_free(&g);
	qmp_reader_free(&r);
}

/*
 * QEMU's python QMP library sends no newline: a lone complete object runs
 * at once; two on a line (or a partial one) wait for the newline and go
 * as one line, which the parser then refuses whole.
 */
static void test_no_newline(void **state)
{
	struct qmp_reader r;
	struct got g = { 0 };

	(void)state;
	assert_int_equal(qmp_reader_init(&r), 0);
	feed(&r, &g, "{\"execute\": \"qmp_capabilities\", \"arguments\": {}}");
	assert_int_equal(g.n, 1);
	assert_string_equal(g.line[0], "{\"execute\": \"qmp_capabilities\", \"arguments\": {}}");
	feed(&r, &g, "{\"execute\":\"a\"}{\"execute\":\"b\"}");
	assert_int_equal(g.n, 1);
	feed(&r, &g, "{\"execute\":\"c\"");
	assert_int_equal(g.n, 1);
	feed(&r, &g, "\n");
	assert_int_equal(g.n, 2);
	assert_string_equal(g.line[1], "{\"execute\":\"a\"}{\"execute\":\"b\"}{\"execute\":\"c\"");
	feed(&r, &g, "{\"execute\":");
	feed(&r, &g, "\"d\"}  ");
	assert_int_equal(g.n, 3);
	got_free(&g);
	qmp_reader_free(&r);
}

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A command of nearly QMP_LINE_MAX bytes, as a client may send it a few
 * bytes per read and without its newline: it comes out once, whole, when
 * its last byte arrives, and not before. The reader used to parse the
 * whole buffer again after every read, so this cost one parse per byte
 * (about 2 GB of JSON here, many seconds of CPU); each byte is now looked
 * at a bounded number of times and it takes milliseconds. The CPU-time
 * bound is loose enough for any machine load and far below the old cost.
 */
static void test_long_line_pieces(void **state)
{
	static const char head[] = "{\"execute\":\"x\",\"arguments\":{\"s\":\"";
	static const char tail[] = "\"}}";
	size_t n = QMP_LINE_MAX - 8, i, k;
	static char cmd[QMP_LINE_MAX];
	struct qmp_reader r;
	struct got g = { 0 };
	double t0;

	(void)state;
	memcpy(cmd, head, sizeof(head) - 1);
	memset(cmd + sizeof(head) - 1, 'a', n - (sizeof(head) - 1) - (sizeof(tail) - 1));
	memcpy(cmd + n - (sizeof(tail) - 1), tail, sizeof(tail));
	assert_int_equal(strlen(cmd), n);
	assert_int_equal(qmp_reader_init(&r), 0);

	/* One byte a read, no newline. */
	t0 = cpu_seconds();
	for (i = 0; i + 1 < n; i++)
		qmp_reader_feed(&r, cmd + i, 1, on_line, &g);
	assert_int_equal(g.n, 0);	/* one byte short: not yet */
	qmp_reader_feed(&r, cmd + n - 1, 1, on_line, &g);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.line[0], cmd);
	got_free(&g);

	/*
	 * In pieces of 7, and a second object in the same read as the last
	 * byte: that line waits for its newline (and is then an error).
	 */
	for (i = 0; i + 1 < n; i += k) {
		k = n - 1 - i < 7 ? n - 1 - i : 7;
		qmp_reader_feed(&r, cmd + i, k, on_line, &g);
	}
	assert_int_equal(g.n, 0);
	feed(&r, &g, "} {}");
	assert_int_equal(g.n, 0);
	feed(&r, &g, "\n");
	assert_int_equal(g.n, 1);
	assert_int_equal(strlen(g.line[0]), n + 3);
	got_free(&g);
	t0 = cpu_seconds() - t0;
	print_message("2 x %zu bytes in pieces of 1 and 7: %.3f s of CPU\n", n, t0);
	assert_true(t0 < 2.0);

	/* After that the reader is as new: an object alone comes out. */
	feed(&r, &g, "{\"execute\":\"query-migrate\"}");
	assert_int_equal(g.n, 1);
	got_free(&g);
	qmp_reader_free(&r);
}

/* A line of exactly QMP_LINE_MAX bytes is a line; one more byte is not. */
static void test_limit(void **state)
{
	struct qmp_reader r;
	struct got g = { 0 };
	char *big = malloc(QMP_LINE_MAX + 2);

	(void)state;
	assert_int_equal(qmp_reader_init(&r), 0);
	memset(big, ' ', QMP_LINE_MAX);
	big[QMP_LINE_MAX] = '\n';
	qmp_reader_feed(&r, big, QMP_LINE_MAX + 1, on_line, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.overlong, 0);
	memset(big, ' ', QMP_LINE_MAX + 1);
	big[QMP_LINE_MAX + 1] = '\n';
	qmp_reader_feed(&r, big, QMP_LINE_MAX + 2, on_line, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.overlong, 1);
	got_free(&g);
	free(big);
	qmp_reader_free(&r);
}

/*
 * The smuggled command: after QMP_LINE_MAX bytes of padding, the rest of
 * the same line must not come out as a line, whether it arrives in the
 * same read or later ones; the next line is served normally.
 */
static void test_smuggled(void **state)
{
	static const char smuggle[] = "{\"execute\":\"migrate_cancel\"}";
	size_t pad = QMP_LINE_MAX + 10, n = pad + sizeof(smuggle) - 1;
	char *buf = malloc(n + 64);
	struct qmp_reader r;
	struct got g = { 0 };
	size_t off;

	(void)state;
	memset(buf, ' ', pad);
	memcpy(buf + pad, smuggle, sizeof(smuggle) - 1);
	strcpy(buf + n, "\n{\"execute\":\"query-migrate\"}\n");

	/* All in one read. */
	assert_int_equal(qmp_reader_init(&r), 0);
	qmp_reader_feed(&r, buf, strlen(buf), on_line, &g);
	assert_int_equal(g.overlong, 1);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.line[0], "{\"execute\":\"query-migrate\"}");
	got_free(&g);
	qmp_reader_free(&r);

	/* In reads of 4096 bytes, as a socket delivers it. */
	assert_int_equal(qmp_reader_init(&r), 0);
	for (off = 0; off < strlen(buf); off += 4096) {
		size_t k = strlen(buf) - off < 4096 ? strlen(buf) - off : 4096;

		qmp_reader_feed(&r, buf + off, k, on_line, &g);
	}
	assert_int_equal(g.overlong, 1);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.line[0], "{\"execute\":\"query-migrate\"}");
	got_free(&g);

	/* The smuggled part alone in its own read after the padding. */
	qmp_reader_feed(&r, buf, pad, on_line, &g);
	assert_int_equal(g.overlong, 1);
	feed(&r, &g, smuggle);
	feed(&r, &g, "\n");
	assert_int_equal(g.n, 0);
	feed(&r, &g, "{\"execute\":\"query-migrate\"}\n");
	assert_int_equal(g.n, 1);
	assert_int_equal(g.overlong, 1);
	got_free(&g);
	qmp_reader_free(&r);
	free(buf);
}

static int parse(const char *s, struct qmp_request *q, char *err)
{
	return qmp_parse_request(s, strlen(s), q, err, 256);
}

static void test_parse_ok(void **state)
{
	struct qmp_request q;
	char err[256];

	(void)state;
	assert_int_equal(parse("{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"x\"},\"id\":7}", &q, err), 1);
	assert_string_equal(q.execute, "migrate");
	assert_non_null(q.arguments);
	assert_int_equal(json_object_get_int(q.id), 7);
	qmp_request_free(&q);
	assert_int_equal(parse("  {\"execute\":\"query-migrate\"}  \r", &q, err), 1);
	assert_null(q.arguments);
	assert_null(q.id);
	qmp_request_free(&q);
	assert_int_equal(parse("   ", &q, err), 0);
	qmp_request_free(&q);
}

static void expect_err(const char *line, const char *want, int id)
{
	struct qmp_request q;
	char err[256] = "";

	assert_int_equal(parse(line, &q, err), -1);
	if (!strstr(err, want))
		fail_msg("'%s': got '%s', want '%s'", line, err, want);
	if (id >= 0) {
		assert_non_null(q.id);
		assert_int_equal(json_object_get_int(q.id), id);
	}
	qmp_request_free(&q);
}

static void test_parse_errors(void **state)
{
	(void)state;
	/* Two objects on a line: neither runs. */
	expect_err("{\"execute\":\"query-migrate\",\"id\":1}{\"execute\":\"migrate_cancel\"}",
		   "JSON parse error, trailing characters", 1);
	expect_err("{\"execute\":\"query-migrate\",\"id\":2} junk", "trailing characters", 2);
	expect_err("{\"execute\":\"query-migrate\",\"id\":3}}", "trailing characters", 3);
	expect_err("{\"execute\":\"query-migrate\"", "JSON parse error", -1);
	expect_err("{\"execute\":", "JSON parse error", -1);
	expect_err("nonsense", "JSON parse error", -1);
	expect_err("null", "JSON parse error", -1);
	expect_err("[1,2]", "QMP input must be a JSON object", -1);
	expect_err("42", "QMP input must be a JSON object", -1);
	expect_err("{\"id\":4}", "QMP input lacks member 'execute'", 4);
	expect_err("{\"execute\":1,\"id\":5}", "QMP input member 'execute' must be a string", 5);
	expect_err("{\"execute\":\"migrate\",\"arguments\":[],\"id\":6}",
		   "QMP input member 'arguments' must be an object", 6);
	expect_err("{\"execute\":\"migrate\",\"bogus\":1,\"id\":8}",
		   "QMP input member 'bogus' is unexpected", 8);
	{
		static const char nul[] = "{\"execute\":\"a\"}\0{\"execute\":\"b\"}";
		struct qmp_request q;
		char err[256];

		assert_int_equal(qmp_parse_request(nul, sizeof(nul) - 1, &q, err, sizeof(err)), -1);
		qmp_request_free(&q);
	}
}

static void test_shapes(void **state)
{
	json_object *g = qmp_greeting("1.2.3"), *x, *v, *q;
	const char *s;

	(void)state;
	assert_true(json_object_object_get_ex(g, "QMP", &q));
	assert_true(json_object_object_get_ex(q, "capabilities", &x));
	assert_int_equal(json_object_array_length(x), 0);
	assert_true(json_object_object_get_ex(q, "version", &v));
	assert_true(json_object_object_get_ex(v, "qemu", &x));
	assert_true(json_object_object_get_ex(x, "minor", &x));
	assert_int_equal(json_object_get_int(x), 2);
	assert_true(json_object_object_get_ex(v, "package", &x));
	assert_string_equal(json_object_get_string(x), "rdmigd 1.2.3");
	json_object_put(g);

	g = qmp_event("MIGRATION", NULL);
	assert_true(json_object_object_get_ex(g, "timestamp", &x));
	assert_true(json_object_object_get_ex(x, "microseconds", NULL));
	assert_true(json_object_object_get_ex(g, "data", &x));
	json_object_put(g);

	v = json_object_new_int(3);
	g = qmp_error(v, "CommandNotFound", "The command x has not been found");
	json_object_put(v);
	s = json_object_to_json_string_ext(g, JSON_C_TO_STRING_PLAIN);
	assert_string_equal(s, "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"The command x has not been found\"},\"id\":3}");
	json_object_put(g);
}

static void test_parameters(void **state)
{
	struct mig_params p = {
		.downtime_ms = 300, .max_iterations = 30, .chunk_size = 1 << 20,
	}, before;
	const char *secret;
	char err[256];
	json_object *a, *r, *x;

	(void)state;
	a = json_tokener_parse("{\"downtime-limit\":50,\"max-bandwidth\":125000000,"
			       "\"chunk-size\":262144,\"pin-budget\":1048576,\"pin-all\":true,"
			       "\"on-max-iterations\":\"fail\",\"max-iterations\":4,"
			       "\"auth-secret\":\"s3cret\"}");
	assert_int_equal(qmp_set_parameters(a, &p, &secret, err, sizeof(err)), 0);
	assert_int_equal(p.downtime_ms, 50);
	assert_int_equal(p.max_bandwidth_mbps, 1000);
	assert_int_equal(p.chunk_size, 262144);
	assert_int_equal(p.pin_budget, 1048576);
	assert_true(p.pin_all);
	assert_true(p.fail_on_max);
	assert_int_equal(p.max_iterations, 4);
	assert_string_equal(secret, "s3cret");
	json_object_put(a);

	r = qmp_query_parameters(&p, true);
	assert_true(json_object_object_get_ex(r, "max-bandwidth", &x));
	assert_int_equal(json_object_get_int64(x), 125000000);
	assert_false(json_object_object_get_ex(r, "auth-secret", NULL));
	json_object_put(r);

	/* All or nothing: one bad parameter changes none. */
	before = p;
	a = json_tokener_parse("{\"downtime-limit\":99,\"pin-budget\":4096}");
	assert_int_equal(qmp_set_parameters(a, &p, &secret, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "at least one chunk"));
	assert_memory_equal(&p, &before, sizeof(p));
	json_object_put(a);

	a = json_tokener_parse("{\"downtime_ms\":99}");
	assert_int_equal(qmp_set_parameters(a, &p, &secret, err, sizeof(err)), -1);
	assert_string_equal(err, "Parameter 'downtime_ms' is unexpected");
	json_object_put(a);
	a = json_tokener_parse("{\"downtime-limit\":\"9\"}");
	assert_int_equal(qmp_set_parameters(a, &p, &secret, err, sizeof(err)), -1);
	assert_string_equal(err, "Invalid parameter type for 'downtime-limit', expected: integer");
	json_object_put(a);
	a = json_tokener_parse("{\"downtime-limit\":0}");
	assert_int_equal(qmp_set_parameters(a, &p, &secret, err, sizeof(err)), -1);
	json_object_put(a);
	a = json_tokener_parse("{\"chunk-size\":12345}");
	assert_int_equal(qmp_set_parameters(a, &p, &secret, err, sizeof(err)), -1);
	json_object_put(a);
	a = json_tokener_parse("{\"max-bandwidth\":1000}");
	assert_int_equal(qmp_set_parameters(a, &p, &secret, err, sizeof(err)), -1);
	json_object_put(a);
	a = json_tokener_parse("{\"on-max-iterations\":\"maybe\"}");
	assert_int_equal(qmp_set_parameters(a, &p, &secret, err, sizeof(err)), -1);
	json_object_put(a);
	a = json_tokener_parse("{\"auth-secret\":\"\"}");
	assert_int_equal(qmp_set_parameters(a, &p, &secret, err, sizeof(err)), -1);
	json_object_put(a);
	assert_memory_equal(&p, &before, sizeof(p));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_no_newline),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_smuggled),
		cmocka_unit_test(test_long_line_pieces),
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_parameters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
