// SPDX-License-Identifier: GPL-2.0
/*
 * Get-and-clear of a 1 GiB region with 1 % of its pages dirty: the ioctl
 * path against the netlink path (a dump of bitmap pieces), same pages,
 * same run. Prints the times and their ratio; exits non-zero only if a
 * path fails or the two disagree on the count.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rdmig/librdmig.h>

#define PAGE 4096UL
#define PAGES (1UL << 18)	/* 1 GiB */
#define REPS 5

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void dirty(struct rdmig_region *r, const uint32_t *pages, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((volatile char *)r->mem)[(uint64_t)pages[i] * PAGE]++;
}

int main(void)
{
	size_t n = PAGES / 100;
	uint32_t *pages = malloc(n * sizeof(*pages));
	uint64_t *bm = malloc(PAGES / 8);
	double t_ioctl = 1e9, t_nl = 1e9, t0;
	struct rdmig_region r;
	struct rdmig_nl *nl;
	int devfd, i;
	int64_t got;

	devfd = rdmig_dev_open();
	if (devfd < 0 || !pages || !bm || rdmig_nl_open(&nl) ||
	    rdmig_region_create(devfd, "bench", PAGES * PAGE,
				RDMIG_REGION_F_TRACK, true, &r)) {
		fprintf(stderr, "bench_nl_dirty: setup failed\n");
		return 1;
	}
	srand(1);
	for (size_t k = 0; k < n; k++)
		pages[k] = (uint32_t)((uint64_t)rand() % PAGES);
	dirty(&r, pages, n);
	if (rdmig_dirty_get(r.fd, 0, PAGES, true, bm) < 0)
		return 1;

	/* Best of REPS for each, alternating, on the same dirty pages. */
	for (i = 0; i < REPS; i++) {
		int64_t a, b;

		dirty(&r, pages, n);
		t0 = now();
		a = rdmig_dirty_get(r.fd, 0, PAGES, true, bm);
		t0 = now() - t0;
		if (t0 < t_ioctl)
			t_ioctl = t0;
		dirty(&r, pages, n);
		t0 = now();
		b = rdmig_nl_dirty_get(nl, r.id, 0, PAGES, true, bm);
		t0 = now() - t0;
		if (t0 < t_nl)
			t_nl = t0;
		if (a <= 0 || a != b) {
			fprintf(stderr, "bench_nl_dirty: ioctl %" PRId64 " vs netlink %" PRId64 " (%s)\n",
				a, b, rdmig_nl_errmsg(nl));
			return 1;
		}
		got = a;
	}
	printf("get-and-clear 1 GiB, %" PRId64 " dirty pages (1%%): ioctl %.3f ms, netlink %.3f ms, netlink/ioctl %.2f\n",
	       got, t_ioctl * 1e3, t_nl * 1e3, t_nl / t_ioctl);
	rdmig_region_close(&r);
	rdmig_nl_close(nl);
	close(devfd);
	return 0;
}
