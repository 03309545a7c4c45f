// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmig-vmm's command line for the behaviours the live-migration suite
 * (tests/guest/43-live.sh) relies on: a VMM that pauses late or never,
 * the pause bound it hands to rdmigd, prefaulted and scribbled RAM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <getopt.h>

#include "../../user/vmm/options.h"

static int parse(struct vmm_opts *o, const char **args, int n)
{
	char *argv[32];
	int i;

	argv[0] = (char *)"rdmig-vmm";
	for (i = 0; i < n; i++)
		argv[i + 1] = (char *)args[i];
	argv[n + 1] = NULL;
	optind = 0;	/* reset getopt between calls */
	return opts_parse(n + 1, argv, o);
}

static void defaults(void **state)
{
	const char *a[] = { "--source", "--connect", "198.18.0.2:1" };
	struct vmm_opts o;

	(void)state;
	assert_int_equal(parse(&o, a, 3), 0);
	assert_int_equal(o.pause_delay_ms, 0);	/* pause at once */
	assert_int_equal(o.pause_timeout_ms, -1);	/* the agent's default */
	assert_false(o.scribble);
	assert_false(o.prefault);
}

static void pause_options(void **state)
{
	const char *a[] = { "--source", "--connect", "198.18.0.2:1",
			    "--pause-delay-ms", "2000", "--pause-timeout-ms", "3000",
			    "--prefault" };
	const char *never[] = { "--source", "--connect", "198.18.0.2:1",
				"--pause-delay-ms", "-1" };
	struct vmm_opts o;

	(void)state;
	assert_int_equal(parse(&o, a, 8), 0);
	assert_int_equal(o.pause_delay_ms, 2000);
	assert_int_equal(o.pause_timeout_ms, 3000);
	assert_true(o.prefault);
	assert_int_equal(parse(&o, never, 5), 0);
	assert_int_equal(o.pause_delay_ms, -1);
}

static void bad_values(void **state)
{
	const char *neg[] = { "--source", "--connect", "198.18.0.2:1",
			      "--pause-delay-ms", "-2" };
	const char *junk[] = { "--source", "--connect", "198.18.0.2:1",
			       "--pause-timeout-ms", "soon" };
	const char *scr[] = { "--destination", "--listen", "198.18.0.2:1", "--scribble" };
	struct vmm_opts o;

	(void)state;
	assert_int_not_equal(parse(&o, neg, 5), 0);
	assert_int_not_equal(parse(&o, junk, 5), 0);
	assert_int_equal(parse(&o, scr, 4), 0);
	assert_true(o.scribble);
}

/* 46-faults: the same VM migrates again after a failure. */
static void retry_connect(void **state)
{
	const char *a[] = { "--source", "--connect", "198.18.0.2:1",
			    "--retry-connect", "198.18.0.2:2" };
	const char *dst[] = { "--destination", "--listen", "198.18.0.2:1",
			      "--retry-connect", "198.18.0.2:2" };
	struct vmm_opts o;

	(void)state;
	assert_int_equal(parse(&o, a, 3), 0);
	assert_null(o.retry_connect);
	assert_int_equal(parse(&o, a, 5), 0);
	assert_string_equal(o.retry_connect, "198.18.0.2:2");
	assert_int_not_equal(parse(&o, dst, 5), 0);	/* a source option */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(pause_options),
		cmocka_unit_test(bad_values),
		cmocka_unit_test(retry_connect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
