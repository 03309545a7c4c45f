// SPDX-License-Identifier: GPL-2.0
/*
 * A dump of several hundred regions while another thread creates and
 * destroys regions: each dump is either consistent (every stable region
 * exactly once, ids increasing, fields intact) or flagged interrupted
 * (-EINTR from NLM_F_DUMP_INTR); never garbage.
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
#include <unistd.h>
#include <cmocka.h>

#include <rdmig/librdmig.h>

#define NSTABLE 400
#define PAGE 4096UL

static int devfd;
static struct rdmig_region stable[NSTABLE];
static volatile int stop;

static void *churn(void *arg)
{
	unsigned long n = 0;

	(void)arg;
	while (!stop) {
		struct rdmig_region r;

		if (rdmig_region_create(devfd, "churn", PAGE, 0, false, &r))
			abort();
		rdmig_region_close(&r);
		n++;
	}
	return (void *)n;
}

struct check {
	uint32_t last;
	int stable_seen;
	int bad;
};

static int check_one(const struct rdmig_nl_region *r, void *arg)
{
	struct check *c = arg;
	char want[32];

	if (r->id <= c->last)
		c->bad++;
	c->last = r->id;
	for (int i = 0; i < NSTABLE; i++) {
		if (stable[i].id != r->id)
			continue;
		snprintf(want, sizeof(want), "stable-%d", i);
		if (strcmp(r->name, want) || r->length != (uint64_t)(i % 7 + 1) * PAGE)
			c->bad++;
		c->stable_seen++;
		return 0;
	}
	if (strcmp(r->name, "churn") || r->length != PAGE)
		c->bad++;
	return 0;
}

static void test_dump_under_churn(void **state)
{
	int ok = 0, intr = 0;
	struct rdmig_nl *nl;
	pthread_t th;
	void *churned;

	(void)state;
	devfd = rdmig_dev_open();
	assert_true(devfd >= 0);
	assert_int_equal(rdmig_nl_open(&nl), 0);
	for (int i = 0; i < NSTABLE; i++) {
		char name[32];

		snprintf(name, sizeof(name), "stable-%d", i);
		assert_int_equal(rdmig_region_create(devfd, name,
						     (uint64_t)(i % 7 + 1) * PAGE,
						     0, false, &stable[i]), 0);
	}
	assert_int_equal(pthread_create(&th, NULL, churn, NULL), 0);
	for (int round = 0; round < 40; round++) {
		struct check c = { 0 };
		int err = rdmig_nl_region_dump(nl, check_one, &c);

		if (err == -EINTR) {
			intr++;
			continue;
		}
		assert_int_equal(err, 0);
		assert_int_equal(c.bad, 0);
		assert_int_equal(c.stable_seen, NSTABLE);
		ok++;
	}
	stop = 1;
	pthread_join(th, &churned);
	print_message("# %d consistent, %d interrupted dumps, %lu regions churned\n",
		      ok, intr, (unsigned long)churned);
	assert_true((unsigned long)churned > 0);
	/* A quiet list dumps consistently. */
	{
		struct check c = { 0 };

		assert_int_equal(rdmig_nl_region_dump(nl, check_one, &c), 0);
		assert_int_equal(c.stable_seen, NSTABLE);
		assert_int_equal(c.bad, 0);
	}
	for (int i = 0; i < NSTABLE; i++)
		rdmig_region_close(&stable[i]);
	rdmig_nl_close(nl);
	close(devfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump_under_churn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
