// SPDX-License-Identifier: GPL-2.0
/*
 * RDMA registration of the transfer view (ibv_reg_mr on soft-RoCE rxe0)
 * pins pages without touching DIRTY or WRITTEN, shows PINNED until
 * ibv_dereg_mr, and keeps never-written pages known zero. The guest view
 * stays tracked meanwhile.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/mman.h>
#include <cmocka.h>
#include <infiniband/verbs.h>

#include "region_util.h"

#define PG	4096UL
#define NPAGES	128UL

static struct ibv_context *ctx;
static struct ibv_pd *pd;
static int dev = -1;

static int setup(void **state)
{
	struct ibv_device **list;
	int i, n;

	(void)state;
	dev = open("/dev/rdmig", O_RDWR | O_CLOEXEC);
	list = ibv_get_device_list(&n);
	for (i = 0; list && i < n; i++)
		if (!strcmp(ibv_get_device_name(list[i]), "rxe0"))
			ctx = ibv_open_device(list[i]);
	if (list)
		ibv_free_device_list(list);
	if (!ctx || dev < 0)
		return -1;
	pd = ibv_alloc_pd(ctx);
	return pd ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	close(dev);
	return 0;
}

static void count_bits(int fd, uint64_t *dirty, uint64_t *written,
		       uint64_t *pinned, uint64_t *zero)
{
	uint64_t e[NPAGES], i;

	*dirty = *written = *pinned = *zero = 0;
	assert_int_equal(rdmig_pagemap(fd, 0, NPAGES, e), 0);
	for (i = 0; i < NPAGES; i++) {
		*dirty += !!(e[i] & RDMIG_PM_DIRTY);
		*written += !!(e[i] & RDMIG_PM_WRITTEN);
		*pinned += !!(e[i] & RDMIG_PM_PINNED);
		*zero += !!(e[i] & RDMIG_PM_ZERO);
	}
}

static void test_reg_mr_transfer_view(void **state)
{
	int fd = ru_create(dev, NPAGES * PG, RDMIG_REGION_F_TRACK, "pin", NULL);
	int tfd = ru_transfer(fd);
	uint64_t d, w, p, z;
	struct rdmig_region_info info;
	struct ibv_mr *mr;
	char *g, *t;

	(void)state;
	assert_true(fd >= 0 && tfd >= 0);
	g = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	t = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, tfd, 0);
	assert_true(g != MAP_FAILED && t != MAP_FAILED);
	g[0] = 1;	/* one page written by the guest */
	count_bits(fd, &d, &w, &p, &z);
	assert_int_equal(d, 1);
	assert_int_equal(w, 1);
	assert_int_equal(p, 0);

	/*
	 * Read-only, as rdmigd registers a source: a writable MR is unpinned
	 * with set_page_dirty(), which marks its pages written (12-writers).
	 */
	mr = ibv_reg_mr(pd, t, NPAGES * PG, IBV_ACCESS_REMOTE_READ);
	assert_non_null(mr);
	count_bits(fd, &d, &w, &p, &z);
	assert_int_equal(d, 1);
	assert_int_equal(w, 1);
	assert_int_equal(p, NPAGES);
	assert_int_equal(z, NPAGES - 1);
	assert_int_equal(ru_info(fd, &info), 0);
	assert_int_equal(info.pinned_pages, NPAGES);
	assert_int_equal(info.present_pages, NPAGES);
	assert_int_equal(info.dirty_pages, 1);

	/* The guest view is still tracked while the pages are pinned. */
	assert_int_equal(ru_get_dirty(fd, 0, NPAGES, RDMIG_DIRTY_F_CLEAR,
				      (uint64_t[2]){ 0 }, &d), 0);
	assert_int_equal(d, 1);
	g[5 * PG] = 2;
	count_bits(fd, &d, &w, &p, &z);
	assert_int_equal(d, 1);
	assert_int_equal(w, 2);
	/*
	 * Pinned zero pages are never given back, nor even marked zero: a
	 * pin may write through its kernel mapping at any time.
	 */
	g[5 * PG] = 0;
	assert_int_equal(ru_get_dirty(fd, 0, NPAGES, RDMIG_DIRTY_F_CLEAR,
				      (uint64_t[2]){ 0 }, NULL), 0);
	assert_int_equal(ru_zero_scan(fd, 0, NPAGES, RDMIG_ZERO_F_RECLAIM, &z, &p), 0);
	assert_int_equal(z, 0);
	assert_int_equal(p, 0);

	assert_int_equal(ibv_dereg_mr(mr), 0);
	count_bits(fd, &d, &w, &p, &z);
	assert_int_equal(p, 0);
	assert_int_equal(w, 2);
	assert_int_equal(ru_zero_scan(fd, 0, NPAGES, RDMIG_ZERO_F_RECLAIM, &z, &p), 0);
	assert_int_equal(p, 1);
	munmap(t, NPAGES * PG);
	munmap(g, NPAGES * PG);
	close(tfd);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reg_mr_transfer_view),
	};

	return cmocka_run_group_tests_name("region-pin", tests, setup, teardown);
}
