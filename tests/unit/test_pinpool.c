// SPDX-License-Identifier: GPL-2.0
/*
 * The destination's pin workers (user/rdmigd/pinpool.c) over a stand-in
 * ibv_reg_mr(): every job comes back exactly once with its own result, a
 * failure keeps its errno, the queue refuses more jobs than it was sized
 * for, and cancel drops queued jobs while the running ones finish.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../user/rdmigd/pinpool.h"

#define NJOBS	64
#define FAIL_G	13	/* this chunk's registration fails with EFAULT */

static uint8_t mem[NJOBS];
static struct ibv_mr mrs[NJOBS];
static useconds_t reg_delay_us;

/* The verbs call the workers make: an MR per chunk, after a delay. */
struct ibv_mr *(ibv_reg_mr)(struct ibv_pd *pd, void *addr, size_t length, int access)
{
	size_t g = (size_t)((uint8_t *)addr - mem);

	(void)pd;
	(void)access;
	if (reg_delay_us)
		usleep(reg_delay_us);
	if (g == FAIL_G || length != 1) {
		errno = EFAULT;
		return NULL;
	}
	mrs[g].addr = addr;
	mrs[g].rkey = 0x100 + (uint32_t)g;
	return &mrs[g];
}

/* verbs.h turns ibv_reg_mr() into this when the access flags are not constant. */
struct ibv_mr *ibv_reg_mr_iova2(struct ibv_pd *pd, void *addr, size_t length,
				uint64_t iova, unsigned int access)
{
	(void)iova;
	return (ibv_reg_mr)(pd, addr, length, (int)access);
}

static void submit(struct pin_pool *p, uint32_t g, int want)
{
	struct pin_req r = { .g = g, .addr = mem + g, .len = 1 };

	assert_int_equal(pin_pool_submit(p, &r), want);
}

/* Harvests until @n results came back (or 10 s passed). */
static uint32_t collect(struct pin_pool *p, struct pin_done *out, uint32_t n)
{
	uint32_t got = 0, i;

	for (i = 0; got < n && i < 10000; i++) {
		got += pin_pool_harvest(p, out + got, n - got);
		if (got < n)
			usleep(1000);
	}
	return got;
}

static void test_every_job_once(void **st)
{
	struct pin_done out[NJOBS + 1];
	uint8_t seen[NJOBS] = { 0 };
	struct pin_pool p;
	uint32_t i;

	(void)st;
	reg_delay_us = 200;
	assert_int_equal(pin_pool_init(&p, 3, NJOBS), 0);
	for (i = 0; i < NJOBS; i++)
		submit(&p, i, 0);
	/* Sized for NJOBS: one more is the caller's bug, refused. */
	submit(&p, 0, -ENOSPC);
	assert_int_equal(collect(&p, out, NJOBS), NJOBS);
	assert_int_equal(pin_pool_harvest(&p, out, 1), 0);
	assert_int_equal(pin_pool_outstanding(&p), 0);
	for (i = 0; i < NJOBS; i++) {
		uint32_t g = out[i].g;

		assert_true(g < NJOBS);
		assert_int_equal(seen[g], 0);
		seen[g] = 1;
		if (g == FAIL_G) {
			assert_null(out[i].mr);
			assert_int_equal(out[i].err, EFAULT);
		} else {
			assert_ptr_equal(out[i].mr, &mrs[g]);
			assert_int_equal(out[i].mr->rkey, 0x100 + g);
			assert_int_equal(out[i].err, 0);
		}
	}
	/* Harvested slots are free again. */
	submit(&p, 5, 0);
	assert_int_equal(collect(&p, out, 1), 1);
	assert_int_equal(out[0].g, 5);
	pin_pool_destroy(&p);
}

static void test_cancel(void **st)
{
	struct pin_done out[NJOBS];
	uint32_t dropped[NJOBS], nd, got, i;
	struct pin_pool p;

	(void)st;
	reg_delay_us = 20000;	/* the queue stays full while we cancel */
	assert_int_equal(pin_pool_init(&p, 1, NJOBS), 0);
	for (i = 0; i < 8; i++)
		submit(&p, i, 0);
	usleep(5000);
	nd = pin_pool_cancel(&p, dropped, NJOBS);
	/* At most one job was running (one worker); it finished, not dropped. */
	got = pin_pool_harvest(&p, out, NJOBS);
	assert_int_equal(nd + got, 8);
	assert_true(nd >= 6);
	assert_int_equal(pin_pool_outstanding(&p), 0);
	for (i = 0; i < nd; i++)
		assert_true(dropped[i] >= got && dropped[i] < 8);
	pin_pool_destroy(&p);
}

static void test_bad_init(void **st)
{
	struct pin_pool p;

	(void)st;
	assert_int_equal(pin_pool_init(&p, 0, 4), -EINVAL);
	assert_int_equal(pin_pool_init(&p, PIN_THREADS_MAX + 1, 4), -EINVAL);
	assert_int_equal(pin_pool_init(&p, 1, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_job_once),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_bad_init),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
