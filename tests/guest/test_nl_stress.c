// SPDX-License-Identifier: GPL-2.0
/*
 * No lost write with the netlink get-and-clear. Writer threads keep
 * storing increasing sequence numbers into random pages of the guest view;
 * the collector copies, after every get-and-clear, exactly the pages it
 * reported into a shadow. When the writers stop, one last get-and-clear
 * and copy must leave the shadow equal to memory: a write that was not
 * reported would leave a stale page behind. Run for a small region (one
 * message per bitmap) and a large one (the dump path).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <rdmig/librdmig.h>

#define PAGE 4096UL
#define NWRITERS 2

struct ctx {
	struct rdmig_region r;
	uint64_t pages;
	volatile int stop;
	uint64_t seq[NWRITERS];
};

struct writer {
	struct ctx *c;
	int idx;
};

static void *writer(void *arg)
{
	struct writer *w = arg;
	struct ctx *c = w->c;
	uint64_t seq = 0, x = 88172645463325252ULL + (uint64_t)w->idx;

	while (!c->stop) {
		uint64_t page, off;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		page = x % c->pages;
		off = (x >> 40) % (PAGE / 8);
		((volatile uint64_t *)((char *)c->r.mem + page * PAGE))[off] =
			++seq * NWRITERS + (uint64_t)w->idx;
	}
	c->seq[w->idx] = seq;
	return NULL;
}

static uint64_t collect(struct ctx *c, struct rdmig_nl *nl, char *shadow,
			uint64_t *bm)
{
	int64_t n = rdmig_nl_dirty_get(nl, c->r.id, 0, c->pages, true, bm);

	assert_true(n >= 0);
	for (uint64_t w = 0; w < (c->pages + 63) / 64; w++) {
		uint64_t bits = bm[w];

		while (bits) {
			uint64_t p = w * 64 + (uint64_t)__builtin_ctzll(bits);

			memcpy(shadow + p * PAGE, (char *)c->r.mem + p * PAGE, PAGE);
			bits &= bits - 1;
		}
	}
	return (uint64_t)n;
}

static void run(uint64_t pages, int seconds)
{
	struct writer w[NWRITERS];
	pthread_t th[NWRITERS];
	struct rdmig_nl *nl;
	struct ctx c = { .pages = pages };
	uint64_t *bm, rounds = 0, reported = 0, stale = 0;
	char *shadow;
	time_t end;
	int devfd;

	devfd = rdmig_dev_open();
	assert_true(devfd >= 0);
	assert_int_equal(rdmig_nl_open(&nl), 0);
	assert_int_equal(rdmig_region_create(devfd, "stress", pages * PAGE,
					     RDMIG_REGION_F_TRACK, true, &c.r), 0);
	shadow = calloc(pages, PAGE);
	bm = calloc((pages + 63) / 64, 8);
	assert_non_null(shadow);
	assert_non_null(bm);

	for (int i = 0; i < NWRITERS; i++) {
		w[i] = (struct writer){ .c = &c, .idx = i };
		assert_int_equal(pthread_create(&th[i], NULL, writer, &w[i]), 0);
	}
	end = time(NULL) + seconds;
	while (time(NULL) < end) {
		reported += collect(&c, nl, shadow, bm);
		rounds++;
	}
	c.stop = 1;
	for (int i = 0; i < NWRITERS; i++)
		pthread_join(th[i], NULL);
	reported += collect(&c, nl, shadow, bm);

	for (uint64_t p = 0; p < pages; p++)
		if (memcmp(shadow + p * PAGE, (char *)c.r.mem + p * PAGE, PAGE))
			stale++;
	print_message("# %lu pages: %lu rounds, %lu pages reported, %lu+%lu writes, %lu stale\n",
		      (unsigned long)pages, (unsigned long)rounds,
		      (unsigned long)reported, (unsigned long)c.seq[0],
		      (unsigned long)c.seq[1], (unsigned long)stale);
	assert_true(rounds > 1 && reported > 0);
	assert_true(c.seq[0] > 0 && c.seq[1] > 0);
	assert_true(stale == 0);

	rdmig_region_close(&c.r);
	free(shadow);
	free(bm);
	rdmig_nl_close(nl);
	close(devfd);
}

static void test_no_lost_write_single_message(void **state)
{
	(void)state;
	run(2048, 4);
}

static void test_no_lost_write_dump(void **state)
{
	(void)state;
	run(40000, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_lost_write_single_message),
		cmocka_unit_test(test_no_lost_write_dump),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
