// SPDX-License-Identifier: GPL-2.0
/*
 * The module's own costs for `make bench` (bench/guest.sh, scenario e);
 * figures printed as one line each, never asserted:
 *   modcost clear MIB DIRTY ROUNDS WRITER
 *       one get-and-clear (ioctl) of DIRTY scattered dirty pages in a
 *       tracked MIB MiB region, median of ROUNDS. Only the dirtied pages
 *       are ever touched, so a 64 GiB region stays sparse. WRITER 1: a
 *       second thread of this process writes its own buffer on another
 *       CPU all the while (a VMM's vCPU thread: re-arming a page then
 *       costs a TLB shootdown IPI to that CPU).
 *   modcost track MIB WRITER
 *       time to turn tracking on for a MIB MiB region whose pages are all
 *       present (written once), WRITER as above.
 * bench_dirty (tests/guest) measures the rest: write throughput with
 * tracking on and off.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>

#include "../tests/guest/region_util.h"

#define PG 4096UL

static atomic_int stop_writer;

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

static void on_cpu(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	/* One CPU only (a 1-CPU guest): both threads share it, still valid. */
	sched_setaffinity(0, sizeof(s), &s);
}

static void *writer(void *arg)
{
	volatile char *buf = arg;
	unsigned long i = 0;

	on_cpu(1);
	while (!atomic_load_explicit(&stop_writer, memory_order_relaxed))
		buf[(i++ % 1024) * PG]++;
	return NULL;
}

static int start_writer(pthread_t *t)
{
	char *buf = malloc(1024 * PG);

	if (!buf || pthread_create(t, NULL, writer, buf)) {
		fprintf(stderr, "modcost: cannot start the writer thread\n");
		exit(2);
	}
	return 0;
}

static void stop(pthread_t t)
{
	atomic_store(&stop_writer, 1);
	pthread_join(t, NULL);
}

static int region(uint64_t npages, uint32_t flags, char **map)
{
	int dev = open("/dev/rdmig", O_RDWR | O_CLOEXEC), fd;

	if (dev < 0) {
		perror("modcost: /dev/rdmig");
		exit(2);
	}
	fd = ru_create(dev, npages * PG, flags, "modcost", NULL);
	close(dev);
	if (fd < 0) {
		perror("modcost: create region");
		exit(2);
	}
	*map = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*map == MAP_FAILED) {
		perror("modcost: mmap");
		exit(2);
	}
	return fd;
}

static int bench_clear(uint64_t mib, uint64_t ndirty, int rounds, int wr)
{
	uint64_t npages = mib * 256, i, n, stride;
	uint64_t *bm = calloc((npages + 63) / 64, 8);
	double *ts = calloc(rounds, sizeof(*ts)), t;
	pthread_t th;
	char *p;
	int fd = region(npages, RDMIG_REGION_F_TRACK, &p), r;

	if (!bm || !ts || !ndirty || ndirty > npages || rounds < 1) {
		fprintf(stderr, "modcost: bad arguments\n");
		return 2;
	}
	stride = npages / ndirty;
	on_cpu(0);
	if (wr)
		start_writer(&th);
	for (r = 0; r < rounds + 1; r++) {
		for (i = 0; i < ndirty; i++)
			p[i * stride * PG] ^= 1;
		n = 0;
		t = now();
		if (ru_get_dirty(fd, 0, npages, RDMIG_DIRTY_F_CLEAR, bm, &n) ||
		    n != ndirty) {
			fprintf(stderr, "modcost: get_dirty: %s, n=%llu want %llu\n",
				strerror(errno), (unsigned long long)n,
				(unsigned long long)ndirty);
			return 2;
		}
		/* Round 0 also faults the pages in: not counted. */
		if (r)
			ts[r - 1] = now() - t;
	}
	if (wr)
		stop(th);
	qsort(ts, rounds, sizeof(*ts), cmp);
	printf("clear region_mib=%llu dirty=%llu writer=%d us=%.1f us_per_page=%.3f\n",
	       (unsigned long long)mib, (unsigned long long)ndirty, wr,
	       ts[rounds / 2] * 1e6, ts[rounds / 2] * 1e6 / ndirty);
	return 0;
}

static int bench_track(uint64_t mib, int wr)
{
	uint64_t npages = mib * 256, i;
	pthread_t th;
	char *p;
	int fd = region(npages, 0, &p);
	double t;

	for (i = 0; i < npages; i++)
		p[i * PG] = 1;
	on_cpu(0);
	if (wr)
		start_writer(&th);
	t = now();
	if (ru_tracking(fd, 1)) {
		perror("modcost: tracking on");
		return 2;
	}
	t = now() - t;
	if (wr)
		stop(th);
	printf("track region_mib=%llu writer=%d ms=%.1f\n",
	       (unsigned long long)mib, wr, t * 1e3);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "clear"))
		return bench_clear(strtoull(argv[2], NULL, 0), strtoull(argv[3], NULL, 0),
				   atoi(argv[4]), atoi(argv[5]));
	if (argc == 4 && !strcmp(argv[1], "track"))
		return bench_track(strtoull(argv[2], NULL, 0), atoi(argv[3]));
	fprintf(stderr, "usage: %s clear MIB DIRTY ROUNDS WRITER | track MIB WRITER\n",
		argv[0]);
	return 2;
}
