// SPDX-License-Identifier: GPL-2.0
/*
 * Get-and-clear of a 1 GiB region with 1 % of its pages dirty: the ioctl
 * path against the netlink path (a dump of bitmap pieces), same pages,
 * same run. Prints the times and their ratio; then the sparse netlink
 * reply (RDMIG_DIRTY_F_WORDS) on the same pages. With "scale": 1000
 * scattered dirty pages in 256 MiB, 4 GiB and 64 GiB regions, bitmap
 * netlink against words netlink, and the 64 GiB / 256 MiB ratios.
 * Exits non-zero only if a path fails or two disagree on the count.
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

static struct rdmig_dirty_word words[RDMIG_NL_DIRTY_WORDS_MAX];

/* The whole range through the sparse reply, following next-page. */
static int64_t nl_words(struct rdmig_nl *nl, uint32_t id, uint64_t npages)
{
	uint64_t pos = 0, next;
	int64_t total = 0, got;
	uint32_t nw;

	while (pos < npages) {
		got = rdmig_nl_dirty_get_words(nl, id, pos, npages - pos, true,
					       words, RDMIG_NL_DIRTY_WORDS_MAX,
					       &nw, &next);
		if (got < 0)
			return got;
		total += got;
		pos = next;
	}
	return total;
}

static void dirty64(struct rdmig_region *r, uint64_t npages, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((volatile char *)r->mem)[(npages / n) * i * PAGE]++;
}

/* 1000 scattered pages in regions of growing size, both netlink paths. */
static int scale(struct rdmig_nl *nl, int devfd)
{
	static const uint64_t mib[] = { 256, 4096, 65536 };
	double tb[3], tw[3];

	for (int k = 0; k < 3; k++) {
		uint64_t npages = mib[k] * 256;
		uint64_t *bm = malloc(npages / 8);
		struct rdmig_region r;
		double t0;
		int64_t a = 0, b = 0;

		tb[k] = tw[k] = 1e9;
		if (!bm || rdmig_region_create(devfd, "bench", npages * PAGE,
					       RDMIG_REGION_F_TRACK, true, &r)) {
			fprintf(stderr, "bench_nl_dirty: %lu MiB region failed\n",
				(unsigned long)mib[k]);
			return 1;
		}
		for (int i = 0; i < REPS; i++) {
			dirty64(&r, npages, 1000);
			t0 = now();
			a = rdmig_nl_dirty_get(nl, r.id, 0, npages, true, bm);
			t0 = now() - t0;
			tb[k] = t0 < tb[k] ? t0 : tb[k];
			dirty64(&r, npages, 1000);
			t0 = now();
			b = nl_words(nl, r.id, npages);
			t0 = now() - t0;
			tw[k] = t0 < tw[k] ? t0 : tw[k];
			if (a != 1000 || b != 1000) {
				fprintf(stderr, "bench_nl_dirty: bitmap %" PRId64 " words %" PRId64 " want 1000 (%s)\n",
					a, b, rdmig_nl_errmsg(nl));
				return 1;
			}
		}
		printf("nl_scale region_mib=%lu dirty=1000 bitmap_ms=%.3f words_ms=%.3f\n",
		       (unsigned long)mib[k], tb[k] * 1e3, tw[k] * 1e3);
		rdmig_region_close(&r);
		free(bm);
	}
	printf("nl_scale ratio_64g_256m bitmap=%.2f words=%.2f\n",
	       tb[2] / tb[0], tw[2] / tw[0]);
	return 0;
}

int main(int argc, char **argv)
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
	if (argc == 2 && !strcmp(argv[1], "scale"))
		return scale(nl, devfd);
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
	{
		double t_w = 1e9;
		int64_t c;

		for (i = 0; i < REPS; i++) {
			dirty(&r, pages, n);
			t0 = now();
			c = nl_words(nl, r.id, PAGES);
			t0 = now() - t0;
			if (t0 < t_w)
				t_w = t0;
			if (c != got) {
				fprintf(stderr, "bench_nl_dirty: words %" PRId64 " vs %" PRId64 " (%s)\n",
					c, got, rdmig_nl_errmsg(nl));
				return 1;
			}
		}
		printf("get-and-clear 1 GiB, %" PRId64 " dirty pages (1%%): netlink words %.3f ms, words/bitmap netlink %.2f\n",
		       got, t_w * 1e3, t_w / t_nl);
	}
	rdmig_region_close(&r);
	rdmig_nl_close(nl);
	close(devfd);
	return 0;
}
