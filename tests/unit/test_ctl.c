// SPDX-License-Identifier: GPL-2.0
/*
 * librdmig's QMP client (user/lib/ctl.c) against a scripted agent on a
 * socketpair: greeting and negotiation, execute with events set aside in
 * order, error replies, a greeting that is not QMP, an agent that hangs
 * up, and what the client writes on the wire.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <rdmig/librdmig.h>

#define GREETING "{\"QMP\":{\"version\":{\"qemu\":{\"major\":0,\"minor\":1,\"micro\":0},\"package\":\"rdmigd 0.1.0\"},\"capabilities\":[]}}\n"

static void put(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* The next line the client wrote, parsed. */
static json_object *sent(int fd)
{
	static char buf[4096];
	size_t n = 0;

	while (n < sizeof(buf) - 1) {
		assert_int_equal(read(fd, buf + n, 1), 1);
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return json_tokener_parse(buf);
}

static const char *str(json_object *o, const char *k)
{
	json_object *x;

	return json_object_object_get_ex(o, k, &x) ? json_object_get_string(x) : "";
}

static struct rdmig_ctl *open_ok(int sv[2])
{
	struct rdmig_ctl *c;
	char err[256];
	json_object *m;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	put(sv[1], GREETING);
	put(sv[1], "{\"return\":{},\"id\":1}\n");
	assert_int_equal(rdmig_ctl_open(sv[0], 1000, &c, err, sizeof(err)), 0);
	m = sent(sv[1]);
	assert_string_equal(str(m, "execute"), "qmp_capabilities");
	assert_string_equal(str(m, "id"), "1");
	json_object_put(m);
	return c;
}

static void test_open_execute(void **state)
{
	struct rdmig_ctl *c;
	json_object *ret = NULL, *m, *args, *x;
	char err[256];
	int sv[2];

	(void)state;
	c = open_ok(sv);
	assert_true(json_object_object_get_ex(rdmig_ctl_greeting(c), "QMP", NULL));
	/* An event before the reply is kept for rdmig_ctl_recv(). */
	put(sv[1], "{\"event\":\"MIGRATION\",\"data\":{\"status\":\"setup\"},\"timestamp\":{\"seconds\":1,\"microseconds\":2}}\n");
	put(sv[1], "{\"return\":{\"status\":\"setup\"},\"id\":2}\n");
	args = json_object_new_object();
	json_object_object_add(args, "x", json_object_new_int(1));
	assert_int_equal(rdmig_ctl_execute(c, "query-migrate", args, &ret, err, sizeof(err), 1000), 0);
	assert_string_equal(str(ret, "status"), "setup");
	json_object_put(ret);
	m = sent(sv[1]);
	assert_string_equal(str(m, "execute"), "query-migrate");
	assert_true(json_object_object_get_ex(m, "arguments", &x));
	json_object_put(m);
	assert_true(rdmig_ctl_pending(c));
	assert_int_equal(rdmig_ctl_recv(c, &m, 0), 1);
	assert_string_equal(rdmig_ctl_event(m, NULL), "MIGRATION");
	assert_string_equal(rdmig_ctl_migration_status(m), "setup");
	json_object_put(m);
	assert_false(rdmig_ctl_pending(c));
	assert_int_equal(rdmig_ctl_recv(c, &m, 0), 0);

	/* An error reply. */
	put(sv[1], "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"The command nope has not been found\"},\"id\":3}\n");
	assert_int_equal(rdmig_ctl_execute(c, "nope", NULL, NULL, err, sizeof(err), 1000), -EREMOTEIO);
	assert_string_equal(err, "nope: CommandNotFound: The command nope has not been found");
	json_object_put(sent(sv[1]));

	/* Nothing comes: a timeout. */
	assert_int_equal(rdmig_ctl_execute(c, "query-migrate", NULL, NULL, err, sizeof(err), 50), -ETIMEDOUT);
	json_object_put(sent(sv[1]));

	/* Async send; the reply comes through recv, split over two writes. */
	assert_int_equal(rdmig_ctl_send(c, "migrate", NULL), 5);
	put(sv[1], "{\"return\":{},");
	assert_int_equal(rdmig_ctl_recv(c, &m, 0), 0);
	put(sv[1], "\"id\":5}\n");
	assert_int_equal(rdmig_ctl_recv(c, &m, 1000), 1);
	assert_null(rdmig_ctl_event(m, NULL));
	assert_null(rdmig_ctl_migration_status(m));
	json_object_put(m);

	/* A line that is not JSON, then the agent hangs up. */
	put(sv[1], "garbage\n");
	assert_int_equal(rdmig_ctl_recv(c, &m, 1000), -EBADMSG);
	close(sv[1]);
	assert_int_equal(rdmig_ctl_recv(c, &m, 1000), -EPIPE);
	rdmig_ctl_close(c);
}

static void test_not_qmp(void **state)
{
	struct rdmig_ctl *c = (void *)1;
	char err[256];
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	put(sv[1], "{\"greeting\":{\"version\":\"0.1.0\"}}\n");
	assert_int_equal(rdmig_ctl_open(sv[0], 1000, &c, err, sizeof(err)), -EPROTO);
	assert_null(c);
	assert_non_null(strstr(err, "not a QMP greeting"));
	close(sv[1]);

	/* Negotiation refused. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	put(sv[1], GREETING);
	put(sv[1], "{\"error\":{\"class\":\"GenericError\",\"desc\":\"no\"},\"id\":1}\n");
	assert_int_equal(rdmig_ctl_open(sv[0], 1000, &c, err, sizeof(err)), -EREMOTEIO);
	close(sv[1]);

	/* The agent exits before greeting. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	assert_int_equal(rdmig_ctl_open(sv[0], 1000, &c, err, sizeof(err)), -EPIPE);
	assert_non_null(strstr(err, "no QMP greeting"));

	/* No greeting in time. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(rdmig_ctl_open(sv[0], 50, &c, err, sizeof(err)), -ETIMEDOUT);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_execute),
		cmocka_unit_test(test_not_qmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
