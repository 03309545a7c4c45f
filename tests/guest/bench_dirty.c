// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty-tracking benchmark (numbers printed, not asserted):
 *   bench_dirty clear MIB DIRTY ROUNDS
 *       time of one get-and-clear over a MIB MiB region with DIRTY dirty
 *       pages (scattered, one per 64-page word when possible), median of
 *       ROUNDS; also the time with the dirty pages in one dense run
 *   bench_dirty write MIB PASSES
 *       page-touching write throughput with tracking on (re-armed before
 *       every pass) and off
 */
#include <sys/mman.h>
#include <time.h>

#include "region_util.h"

#define PG 4096UL

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int region(uint64_t npages, uint32_t flags, char **map)
{
	int dev = open("/dev/rdmig", O_RDWR | O_CLOEXEC);
	int fd = ru_create(dev, npages * PG, flags, "bench", NULL);

	close(dev);
	if (fd < 0) {
		perror("create");
		exit(2);
	}
	*map = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
		    fd, 0);
	if (*map == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return fd;
}

static double clear_once(int fd, char *p, uint64_t npages, uint64_t *pages,
			 uint64_t ndirty, uint64_t *bm)
{
	uint64_t i, n = 0;
	double t;

	for (i = 0; i < ndirty; i++)
		p[pages[i] * PG] ^= 1;
	t = now();
	if (ru_get_dirty(fd, 0, npages, RDMIG_DIRTY_F_CLEAR, bm, &n) ||
	    n != ndirty) {
		fprintf(stderr, "get_dirty: n=%lu want %lu\n",
			(unsigned long)n, (unsigned long)ndirty);
		exit(2);
	}
	return now() - t;
}

static int bench_clear(uint64_t mib, uint64_t ndirty, int rounds)
{
	uint64_t npages = mib * 256, *bm, *pages, i, stride;
	double *ts, *td;
	char *p;
	int fd = region(npages, RDMIG_REGION_F_TRACK, &p), r;

	bm = calloc((npages + 63) / 64, 8);
	pages = calloc(ndirty, 8);
	ts = calloc(rounds, sizeof(*ts));
	td = calloc(rounds, sizeof(*td));
	stride = npages / ndirty;
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < ndirty; i++)
			pages[i] = i * stride;
		ts[r] = clear_once(fd, p, npages, pages, ndirty, bm);
		for (i = 0; i < ndirty; i++)
			pages[i] = i;
		td[r] = clear_once(fd, p, npages, pages, ndirty, bm);
	}
	qsort(ts, rounds, sizeof(*ts), cmp);
	qsort(td, rounds, sizeof(*td), cmp);
	printf("clear region_mib=%lu dirty=%lu scattered_us=%.1f dense_us=%.1f\n",
	       (unsigned long)mib, (unsigned long)ndirty, ts[rounds / 2] * 1e6,
	       td[rounds / 2] * 1e6);
	munmap(p, npages * PG);
	close(fd);
	return 0;
}

static double write_pass(char *p, uint64_t npages)
{
	uint64_t i;
	double t = now();

	for (i = 0; i < npages; i++)
		((volatile uint64_t *)(p + i * PG))[0]++;
	return now() - t;
}

static int bench_write(uint64_t mib, int passes)
{
	uint64_t npages = mib * 256, *bm = calloc((npages + 63) / 64, 8);
	double on = 0, off = 0;
	char *p;
	int fd = region(npages, 0, &p), i;

	write_pass(p, npages);	/* allocate every page first */
	for (i = 0; i < passes; i++)
		off += write_pass(p, npages);
	ru_tracking(fd, 1);
	for (i = 0; i < passes; i++) {
		ru_get_dirty(fd, 0, npages, RDMIG_DIRTY_F_CLEAR, bm, NULL);
		on += write_pass(p, npages);
	}
	printf("write region_mib=%lu untracked_mpages_s=%.3f tracked_mpages_s=%.3f ratio_on_off=%.3f\n",
	       (unsigned long)mib, passes * npages / off / 1e6,
	       passes * npages / on / 1e6, off / on);
	munmap(p, npages * PG);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "clear"))
		return bench_clear(strtoull(argv[2], NULL, 0),
				   strtoull(argv[3], NULL, 0), atoi(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "write"))
		return bench_write(strtoull(argv[2], NULL, 0), atoi(argv[3]));
	fprintf(stderr, "usage: %s clear MIB DIRTY ROUNDS | write MIB PASSES\n",
		argv[0]);
	return 2;
}
