// SPDX-License-Identifier: GPL-2.0
/*
 * The uapi is an ABI: these layouts are what binaries built today will
 * pass to every future module. A change here must be a new struct version
 * (larger size), never a moved field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/rdmig.h>

#define ASSERT_FIELD(type, field, off) \
	assert_int_equal(offsetof(struct type, field), (off))

static void test_sizes_have_no_hidden_padding(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct rdmig_version), 40);
	assert_int_equal(sizeof(struct rdmig_create_region), 56);
	assert_int_equal(sizeof(struct rdmig_region_info), 96);
	assert_int_equal(sizeof(struct rdmig_region_set), 24);
	assert_int_equal(sizeof(struct rdmig_dirty_bitmap), 40);
	assert_int_equal(sizeof(struct rdmig_zero_scan), 40);
	assert_int_equal(sizeof(struct rdmig_transfer), 8);
	assert_int_equal(sizeof(struct rdmig_bind), 16);
	assert_int_equal(sizeof(struct rdmig_mark_written), 24);
	assert_int_equal(sizeof(struct rdmig_pagemap), 40);
	assert_int_equal(sizeof(struct rdmig_mark_dirty), 32);
	assert_int_equal(sizeof(struct rdmig_dirty_words), 56);
	assert_int_equal(sizeof(struct rdmig_dirty_word), 16);
}

static void test_every_struct_starts_with_size(void **state)
{
	(void)state;
	ASSERT_FIELD(rdmig_version, size, 0);
	ASSERT_FIELD(rdmig_create_region, size, 0);
	ASSERT_FIELD(rdmig_region_info, size, 0);
	ASSERT_FIELD(rdmig_region_set, size, 0);
	ASSERT_FIELD(rdmig_dirty_bitmap, size, 0);
	ASSERT_FIELD(rdmig_zero_scan, size, 0);
	ASSERT_FIELD(rdmig_transfer, size, 0);
	ASSERT_FIELD(rdmig_bind, size, 0);
	ASSERT_FIELD(rdmig_mark_written, size, 0);
	ASSERT_FIELD(rdmig_pagemap, size, 0);
	ASSERT_FIELD(rdmig_mark_dirty, size, 0);
}

static void test_u64_fields_are_naturally_aligned(void **state)
{
	(void)state;
	ASSERT_FIELD(rdmig_create_region, length, 8);
	ASSERT_FIELD(rdmig_create_region, out_region_id, 48);
	ASSERT_FIELD(rdmig_dirty_bitmap, first_page, 8);
	ASSERT_FIELD(rdmig_dirty_bitmap, bitmap, 24);
	ASSERT_FIELD(rdmig_region_set, dirty_watermark, 16);
	ASSERT_FIELD(rdmig_zero_scan, out_reclaimed_pages, 32);
	ASSERT_FIELD(rdmig_mark_written, first_page, 8);
	ASSERT_FIELD(rdmig_mark_written, npages, 16);
	ASSERT_FIELD(rdmig_pagemap, first_page, 16);
	ASSERT_FIELD(rdmig_pagemap, npages, 24);
	ASSERT_FIELD(rdmig_pagemap, entries, 32);
	ASSERT_FIELD(rdmig_mark_dirty, flags, 4);
	ASSERT_FIELD(rdmig_mark_dirty, reserved, 8);
	ASSERT_FIELD(rdmig_mark_dirty, first_page, 16);
	ASSERT_FIELD(rdmig_mark_dirty, npages, 24);
	ASSERT_FIELD(rdmig_dirty_words, size, 0);
	ASSERT_FIELD(rdmig_dirty_words, words, 24);
	ASSERT_FIELD(rdmig_dirty_words, max_words, 32);
	ASSERT_FIELD(rdmig_dirty_words, out_nwords, 36);
	ASSERT_FIELD(rdmig_dirty_words, out_dirty, 40);
	ASSERT_FIELD(rdmig_dirty_words, out_next_page, 48);
}

/*
 * Numbers carry no size, so a struct that grows keeps its ioctl (API
 * version 1 encoded the size and a grown struct got ENOTTY).
 */
static void test_ioctl_numbers_are_size_independent(void **state)
{
	const unsigned int all[] = {
		RDMIG_GET_VERSION, RDMIG_CREATE_REGION, RDMIG_REGION_INFO,
		RDMIG_REGION_SET, RDMIG_GET_DIRTY, RDMIG_ZERO_SCAN,
		RDMIG_TRANSFER_FD, RDMIG_BIND_NETLINK, RDMIG_MARK_WRITTEN,
		RDMIG_MARK_DIRTY, RDMIG_PAGEMAP, RDMIG_GET_DIRTY_WORDS,
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		assert_int_equal(_IOC_SIZE(all[i]), 0);
		assert_int_equal(_IOC_DIR(all[i]), _IOC_NONE);
		assert_int_equal(_IOC_TYPE(all[i]), RDMIG_IOC_MAGIC);
		for (j = 0; j < i; j++)
			assert_int_not_equal(_IOC_NR(all[i]), _IOC_NR(all[j]));
	}
	assert_int_equal(RDMIG_IOC_MAGIC, 0xBD);	/* 0xB6 is FPGA DFL's */
	assert_int_equal(_IOC_NR(RDMIG_GET_VERSION), 0x00);
	assert_int_equal(_IOC_NR(RDMIG_CREATE_REGION), 0x01);
	assert_int_equal(_IOC_NR(RDMIG_REGION_INFO), 0x10);
	assert_int_equal(_IOC_NR(RDMIG_MARK_WRITTEN), 0x16);
	assert_int_equal(_IOC_NR(RDMIG_MARK_DIRTY), 0x17);
	assert_int_equal(_IOC_NR(RDMIG_PAGEMAP), 0x18);
	assert_int_equal(_IOC_NR(RDMIG_GET_DIRTY_WORDS), 0x19);
}

static void test_region_ids_are_u32(void **state)
{
	struct rdmig_create_region c;
	struct rdmig_region_info info;

	(void)state;
	assert_int_equal(sizeof(c.out_region_id), 4);
	assert_int_equal(sizeof(info.region_id), 4);
	ASSERT_FIELD(rdmig_region_info, region_id, 8);
	ASSERT_FIELD(rdmig_region_info, reserved, 12);
	ASSERT_FIELD(rdmig_region_info, length, 16);
	assert_int_equal(RDMIG_API_VERSION, 2);
}

static void test_pagemap_bits_are_distinct(void **state)
{
	uint64_t all = RDMIG_PM_PRESENT | RDMIG_PM_DIRTY | RDMIG_PM_WRITTEN |
		       RDMIG_PM_ZERO | RDMIG_PM_PINNED;

	(void)state;
	assert_int_equal(__builtin_popcountll(all), 5);
}

static void test_netlink_numbering_starts_at_one(void **state)
{
	(void)state;
	assert_int_equal(RDMIG_CMD_VERSION_GET, 1);
	assert_int_equal(RDMIG_A_API_VERSION, 1);
	assert_int_equal(RDMIG_STATS_A_PRESENT_PAGES, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_have_no_hidden_padding),
		cmocka_unit_test(test_every_struct_starts_with_size),
		cmocka_unit_test(test_u64_fields_are_naturally_aligned),
		cmocka_unit_test(test_ioctl_numbers_are_size_independent),
		cmocka_unit_test(test_region_ids_are_u32),
		cmocka_unit_test(test_pagemap_bits_are_distinct),
		cmocka_unit_test(test_netlink_numbering_starts_at_one),
	};

	return cmocka_run_group_tests_name("uapi", tests, NULL, NULL);
}
