// SPDX-License-Identifier: GPL-2.0
/* The /dev/rdmig skeleton: version ioctl and the uapi's error rules. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/rdmig.h>

static int devfd = -1;

static int open_dev(void **state)
{
	(void)state;
	devfd = open("/dev/rdmig", O_RDWR | O_CLOEXEC);
	return devfd < 0 ? -1 : 0;
}

static int close_dev(void **state)
{
	(void)state;
	close(devfd);
	return 0;
}

static void test_version(void **state)
{
	struct rdmig_version v = { .size = sizeof(v) };

	(void)state;
	assert_int_equal(ioctl(devfd, RDMIG_GET_VERSION, &v), 0);
	assert_int_equal(v.api_version, RDMIG_API_VERSION);
	assert_true(strlen(v.module_version) > 0);
}

static void test_version_short_size_is_einval(void **state)
{
	struct rdmig_version v = { .size = 4 };

	(void)state;
	assert_int_equal(ioctl(devfd, RDMIG_GET_VERSION, &v), -1);
	assert_int_equal(errno, EINVAL);
}

/* A newer caller's larger struct: accepted when its tail is zero. */
static void test_version_grown_struct(void **state)
{
	struct {
		struct rdmig_version v;
		uint64_t tail[2];
	} big = { .v = { .size = sizeof(big) } };

	(void)state;
	assert_int_equal(ioctl(devfd, RDMIG_GET_VERSION, &big), 0);
	assert_int_equal(big.v.api_version, RDMIG_API_VERSION);
	assert_int_equal(big.v.size, sizeof(big));	/* left as given */
	assert_int_equal(big.tail[0] | big.tail[1], 0);
	big.tail[1] = 1;
	assert_int_equal(ioctl(devfd, RDMIG_GET_VERSION, &big), -1);
	assert_int_equal(errno, E2BIG);
}

/* Numbers that encode a size (API version 1, 0xB6) are unknown now. */
static void test_sized_numbers_are_enotty(void **state)
{
	struct rdmig_version v = { .size = sizeof(v) };

	(void)state;
	assert_int_equal(ioctl(devfd, _IOWR(RDMIG_IOC_MAGIC, 0x00,
					    struct rdmig_version), &v), -1);
	assert_int_equal(errno, ENOTTY);
	assert_int_equal(ioctl(devfd, _IOWR(0xB6, 0x00, struct rdmig_version),
			       &v), -1);
	assert_int_equal(errno, ENOTTY);
}

static void test_version_bad_pointer_is_efault(void **state)
{
	(void)state;
	assert_int_equal(ioctl(devfd, RDMIG_GET_VERSION, (void *)8), -1);
	assert_int_equal(errno, EFAULT);
}

static void test_unknown_ioctl_is_enotty(void **state)
{
	(void)state;
	assert_int_equal(ioctl(devfd, _IO(RDMIG_IOC_MAGIC, 0x7f), 0), -1);
	assert_int_equal(errno, ENOTTY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_version_short_size_is_einval),
		cmocka_unit_test(test_version_grown_struct),
		cmocka_unit_test(test_sized_numbers_are_enotty),
		cmocka_unit_test(test_version_bad_pointer_is_efault),
		cmocka_unit_test(test_unknown_ioctl_is_enotty),
	};

	return cmocka_run_group_tests_name("base", tests, open_dev, close_dev);
}
