// SPDX-License-Identifier: GPL-2.0
/*
 * rdmig-qemu's vCPU throttle (user/qemu/throttle.c): the schedule it
 * follows on rdmigd's throttle hints and the cpu.max it writes for a
 * percentage. The cgroup side runs in tests/guest/62-qemu-throttle.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "../../user/qemu/throttle.h"

/* QEMU's auto-converge: 20 on the first hint, +10 per hint, at most 99. */
static void schedule_steps(void **state)
{
	static const unsigned int want[] = { 20, 30, 40, 50, 60, 70, 80, 90, 99, 99, 99 };
	unsigned int pct = 0, i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		pct = throttle_next_pct(pct, true);
		assert_int_equal(pct, want[i]);
	}
}

/* A round without a hint changes nothing, off or on (QEMU never eases off). */
static void schedule_holds(void **state)
{
	unsigned int p;

	(void)state;
	assert_int_equal(throttle_next_pct(0, false), 0);
	for (p = 1; p <= 99; p++)
		assert_int_equal(throttle_next_pct(p, false), p);
	assert_int_equal(throttle_next_pct(95, true), 99);
	/* Out of range comes back in range. */
	assert_int_equal(throttle_next_pct(150, false), 99);
	assert_int_equal(throttle_next_pct(150, true), 99);
}

static void format_max(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(throttle_format_max(buf, sizeof(buf), 0, 100000), 10);
	assert_string_equal(buf, "max 100000");
	assert_int_equal(throttle_format_max(buf, sizeof(buf), 20, 100000), 12);
	assert_string_equal(buf, "80000 100000");
	assert_int_equal(throttle_format_max(buf, sizeof(buf), 80, 100000), 12);
	assert_string_equal(buf, "20000 100000");
	assert_int_equal(throttle_format_max(buf, sizeof(buf), 99, 100000), 11);
	assert_string_equal(buf, "1000 100000");
	assert_int_equal(throttle_format_max(buf, sizeof(buf), 50, 1000000), 14);
	assert_string_equal(buf, "500000 1000000");
	/* The kernel's minimum quota is 1 ms: a short period cannot go lower. */
	assert_int_equal(throttle_format_max(buf, sizeof(buf), 99, 10000), 10);
	assert_string_equal(buf, "1000 10000");
	/* The default period reaches 99 % exactly at the minimum. */
	assert_int_equal(100000 * (100 - THROTTLE_MAX_PCT) / 100, THROTTLE_MIN_QUOTA_US);
}

static void format_max_bad(void **state)
{
	char buf[64], small[8];

	(void)state;
	assert_int_equal(throttle_format_max(buf, sizeof(buf), 100, 100000), -EINVAL);
	assert_int_equal(throttle_format_max(buf, sizeof(buf), 20, 999), -EINVAL);
	assert_int_equal(throttle_format_max(buf, sizeof(buf), 20, 1000001), -EINVAL);
	assert_int_equal(throttle_format_max(small, sizeof(small), 20, 100000), -ENOSPC);
	assert_int_equal(throttle_format_max(small, sizeof(small), 0, 100000), -ENOSPC);
}

/* Refused before any cgroup is looked at. */
static void bad_arguments(void **state)
{
	pid_t tid = 1;
	char err[256];

	(void)state;
	assert_null(throttle_new(0, &tid, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "invalid QEMU pid 0"));
	assert_null(throttle_new(1, &tid, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "invalid vCPU thread count 0"));
	assert_null(throttle_new(1, NULL, 1, err, sizeof(err)));
	assert_null(throttle_new_in("/sys/fs/cgroup", -5, &tid, 1, NULL, 0));
	assert_int_equal(throttle_on_hint(NULL, true), -EINVAL);
	assert_int_equal(throttle_pct(NULL), 0);
	throttle_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(schedule_steps),
		cmocka_unit_test(schedule_holds),
		cmocka_unit_test(format_max),
		cmocka_unit_test(format_max_bad),
		cmocka_unit_test(bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
