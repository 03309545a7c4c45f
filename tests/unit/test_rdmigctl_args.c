// SPDX-License-Identifier: GPL-2.0
/* rdmigctl's argument parsing: what it takes and what it refuses. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../user/rdmigctl/args.h"

static void test_matches_takes_prefixes_only(void **state)
{
	(void)state;
	assert_true(matches("reg", "region"));
	assert_true(matches("region", "region"));
	assert_false(matches("regions", "region"));
	assert_false(matches("", "region"));
	assert_false(matches("x", "region"));
}

static void test_parse_u64(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(rdmig_parse_u64("0", &v), 0);
	assert_true(v == 0);
	assert_int_equal(rdmig_parse_u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(rdmig_parse_u64("0x10", &v), 0);
	assert_true(v == 16);
	assert_int_equal(rdmig_parse_u64("18446744073709551616", &v), -ERANGE);
	assert_int_equal(rdmig_parse_u64("-1", &v), -EINVAL);
	assert_int_equal(rdmig_parse_u64(" 1", &v), -EINVAL);
	assert_int_equal(rdmig_parse_u64("1x", &v), -EINVAL);
	assert_int_equal(rdmig_parse_u64("", &v), -EINVAL);
}

static void test_parse_u32(void **state)
{
	uint32_t v;

	(void)state;
	assert_int_equal(parse_u32("4294967295", &v), 0);
	assert_true(v == UINT32_MAX);
	assert_int_equal(parse_u32("4294967296", &v), -ERANGE);
}

static void test_parse_on_off(void **state)
{
	bool on = false;

	(void)state;
	assert_int_equal(parse_on_off("on", &on), 0);
	assert_true(on);
	assert_int_equal(parse_on_off("off", &on), 0);
	assert_false(on);
	assert_int_equal(parse_on_off("maybe", &on), -EINVAL);
	assert_int_equal(parse_on_off("", &on), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_takes_prefixes_only),
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_parse_u32),
		cmocka_unit_test(test_parse_on_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
