// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty-tracking benchmark (numbers printed, not asserted):
 *   bench_dirty clear MIB DIRTY ROUNDS
 *       time of one get-and-clear over a MIB MiB region with DIRTY dirty
 *       pages (scattered, one per 64-page word when possible), median of
 *       ROUNDS; also the time with the dirty pages in one dense run
 *       Then a "clear_words" line: the same through the sparse result
 *       (RDMIG_GET_DIRTY_WORDS), whose cost follows the dirty pages.
 *       A region over 256 MiB also gets first256m_us: the same number of
 *       pages placed as in a 256 MiB region's scattered case (its
 *       first 256 MiB), which separates region size from spread.
 *   bench_dirty clear MIB DIRTY ROUNDS writer
 *       the same with a writer thread of the same process running on
 *       another CPU (it stores into memory of its own, outside the
 *       region), so that every TLB flush of a re-arm has to interrupt it,
 *       as a running vCPU thread of a VMM; the lines say writer=1
 *   bench_dirty track MIB
 *       time to turn tracking on for a MIB MiB region whose every page is
 *       present and writable, with a writer thread storing into the
 *       region's pages on another CPU meanwhile
 *   bench_dirty write MIB PASSES
 *       page-touching write throughput with tracking on (re-armed before
 *       every pass) and off; then the minor faults the tracked passes
 *       took per page and per pass (1.0 is one write fault per page after
 *       each re-arm) and what each cost beyond an untracked store
 *   bench_dirty floor MIB DIRTY ROUNDS [writer]
 *       the machine's floor for re-arming: in a MAP_SHARED memfd mapping
 *       of MIB MiB, DIRTY dense pages are stored to, then made read-only
 *       and writable again with two mprotect() calls over their one
 *       range (median of ROUNDS), with and without the writer thread.
 *       No module code is involved: the TLB shootdown of the read-only
 *       step is the part of a re-arm's cost that nothing can avoid, so
 *       the writer/no-writer ratio of this line bounds the module's.
 *   bench_dirty tview MIB
 *       the agent's first pass: read one word of every page of a MIB MiB
 *       region (every page present) through a fresh mapping of the
 *       transfer view, twice with the module's fault-around off and
 *       twice on, alternating: faults taken (getrusage), and time
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/resource.h>
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

/* The writer thread: another CPU of the same mm, storing without pause. */
static atomic_bool wstop;
static volatile char *wmem;
static uint64_t wpages;

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *writer(void *arg)
{
	uint64_t i = 0;

	(void)arg;
	pin_cpu(1);
	while (!atomic_load_explicit(&wstop, memory_order_relaxed)) {
		wmem[(i % wpages) * PG]++;
		i++;
	}
	return NULL;
}

/* Starts the writer over @pages pages at @mem (its own memory if NULL). */
static pthread_t start_writer(char *mem, uint64_t pages)
{
	pthread_t th;

	if (!mem) {
		mem = mmap(NULL, 64 * PG, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		pages = 64;
	}
	wmem = mem;
	wpages = pages;
	atomic_store(&wstop, false);
	pin_cpu(0);
	if (pthread_create(&th, NULL, writer, NULL)) {
		perror("pthread_create");
		exit(2);
	}
	usleep(20000);
	return th;
}

static void stop_writer(pthread_t th)
{
	atomic_store(&wstop, true);
	pthread_join(th, NULL);
}

static struct rdmig_dirty_word *words;
static int use_words;

/* Get-and-clear through the sparse result, all words of the range. */
static int get_words(int fd, uint64_t npages, uint64_t *n)
{
	struct rdmig_dirty_words d = { .size = sizeof(d),
				       .flags = RDMIG_DIRTY_F_CLEAR,
				       .words = (uintptr_t)words,
				       .max_words = 4096 };
	uint64_t pos = 0;

	*n = 0;
	while (pos < npages) {
		d.first_page = pos;
		d.npages = npages - pos;
		if (ioctl(fd, RDMIG_GET_DIRTY_WORDS, &d))
			return -1;
		*n += d.out_dirty;
		pos = d.out_next_page;
	}
	return 0;
}

static double clear_once(int fd, char *p, uint64_t npages, uint64_t *pages,
			 uint64_t ndirty, uint64_t *bm)
{
	uint64_t i, n = 0;
	double t;
	int err;

	for (i = 0; i < ndirty; i++)
		p[pages[i] * PG] ^= 1;
	t = now();
	if (use_words)
		err = get_words(fd, npages, &n);
	else
		err = ru_get_dirty(fd, 0, npages, RDMIG_DIRTY_F_CLEAR, bm, &n);
	if (err || n != ndirty) {
		fprintf(stderr, "get_dirty: n=%lu want %lu\n",
			(unsigned long)n, (unsigned long)ndirty);
		exit(2);
	}
	return now() - t;
}

static int bench_clear(uint64_t mib, uint64_t ndirty, int rounds, int wr)
{
	uint64_t npages = mib * 256, *bm, *pages, i, stride;
	double *ts, *td, *tl;
	pthread_t th;
	char *p;
	int fd = region(npages, RDMIG_REGION_F_TRACK, &p), r;

	bm = calloc((npages + 63) / 64, 8);
	pages = calloc(ndirty, 8);
	ts = calloc(rounds, sizeof(*ts));
	td = calloc(rounds, sizeof(*td));
	tl = calloc(rounds, sizeof(*tl));
	words = calloc(4096, sizeof(*words));
	stride = npages / ndirty;
	if (wr)
		th = start_writer(NULL, 0);
	for (use_words = 0; use_words < 2; use_words++) {
		for (r = 0; r < rounds; r++) {
			for (i = 0; i < ndirty; i++)
				pages[i] = i * stride;
			ts[r] = clear_once(fd, p, npages, pages, ndirty, bm);
			for (i = 0; i < ndirty; i++)
				pages[i] = i;
			td[r] = clear_once(fd, p, npages, pages, ndirty, bm);
			/*
			 * In a region larger than 256 MiB, also the very
			 * pages a 256 MiB region's scattered case dirties:
			 * against that case it separates what the region's
			 * size costs from what the dirty pages' spread costs
			 * (a page-table page, summary and bitmap lines of
			 * their own for every page far from the others).
			 */
			if (mib > 256) {
				for (i = 0; i < ndirty; i++)
					pages[i] = i * (256 * 256 / ndirty);
				tl[r] = clear_once(fd, p, npages, pages, ndirty, bm);
			}
		}
		qsort(ts, rounds, sizeof(*ts), cmp);
		qsort(td, rounds, sizeof(*td), cmp);
		qsort(tl, rounds, sizeof(*tl), cmp);
		printf("%s region_mib=%lu dirty=%lu%s scattered_us=%.1f dense_us=%.1f scattered_us_per_page=%.2f dense_us_per_page=%.2f",
		       use_words ? "clear_words" : "clear", (unsigned long)mib,
		       (unsigned long)ndirty, wr ? " writer=1" : "",
		       ts[rounds / 2] * 1e6, td[rounds / 2] * 1e6,
		       ts[rounds / 2] * 1e6 / ndirty,
		       td[rounds / 2] * 1e6 / ndirty);
		if (mib > 256)
			printf(" first256m_us=%.1f", tl[rounds / 2] * 1e6);
		printf("\n");
	}
	if (wr)
		stop_writer(th);
	free(words);
	free(tl);
	munmap(p, npages * PG);
	close(fd);
	return 0;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
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
	double on = 0, off = 0, faults;
	char *p;
	int fd = region(npages, 0, &p), i;
	long f0, nf = 0;

	write_pass(p, npages);	/* allocate every page first */
	for (i = 0; i < passes; i++)
		off += write_pass(p, npages);
	ru_tracking(fd, 1);
	for (i = 0; i < passes; i++) {
		ru_get_dirty(fd, 0, npages, RDMIG_DIRTY_F_CLEAR, bm, NULL);
		f0 = minflt();
		on += write_pass(p, npages);
		nf += minflt() - f0;
	}
	faults = nf > 0 ? nf : 1;
	printf("write region_mib=%lu untracked_mpages_s=%.3f tracked_mpages_s=%.3f ratio_on_off=%.3f faults_per_page_pass=%.3f us_per_fault=%.2f\n",
	       (unsigned long)mib, passes * npages / off / 1e6,
	       passes * npages / on / 1e6, off / on,
	       (double)nf / passes / npages, (on - off) / faults * 1e6);
	munmap(p, npages * PG);
	close(fd);
	return 0;
}

static int bench_track(uint64_t mib)
{
	uint64_t npages = mib * 256, i;
	pthread_t th;
	double t;
	char *p;
	int fd = region(npages, 0, &p);

	for (i = 0; i < npages; i++)	/* present, writable PTEs */
		p[i * PG] = 1;
	th = start_writer(p, npages);
	t = now();
	if (ru_tracking(fd, 1)) {
		perror("tracking on");
		exit(2);
	}
	t = now() - t;
	stop_writer(th);
	printf("track region_mib=%lu writer=1 track_on_ms=%.1f\n",
	       (unsigned long)mib, t * 1e3);
	munmap(p, npages * PG);
	close(fd);
	return 0;
}

static int bench_floor(uint64_t mib, uint64_t ndirty, int rounds, int wr)
{
	uint64_t npages = mib * 256, i;
	size_t len = npages * PG, dlen = ndirty * PG;
	pthread_t th = { 0 };
	double *ts, t;
	char *p;
	int fd, r;

	fd = memfd_create("bench_floor", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, len)) {
		perror("memfd");
		return 2;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ts = calloc(rounds, sizeof(*ts));
	if (p == MAP_FAILED || !ts) {
		perror("mmap");
		return 2;
	}
	if (wr)
		th = start_writer(NULL, 0);
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < ndirty; i++)	/* writable, dirty PTEs */
			p[i * PG] ^= 1;
		t = now();
		if (mprotect(p, dlen, PROT_READ) ||
		    mprotect(p, dlen, PROT_READ | PROT_WRITE)) {
			perror("mprotect");
			return 2;
		}
		ts[r] = now() - t;
	}
	if (wr)
		stop_writer(th);
	qsort(ts, rounds, sizeof(*ts), cmp);
	printf("floor mib=%lu dirty=%lu writer=%d mprotect_us_per_page=%.2f\n",
	       (unsigned long)mib, (unsigned long)ndirty, wr,
	       ts[rounds / 2] * 1e6 / ndirty);
	free(ts);
	munmap(p, len);
	close(fd);
	return 0;
}

/* A decimal count > 0 and <= @max, or 0 when @s is not one. */
static uint64_t count_arg(const char *s, uint64_t max)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > max)
		return 0;
	return v;
}

static int floor_cmd(int argc, char **argv)
{
	uint64_t mib, dirty, rounds;

	if (argc != 5 && !(argc == 6 && !strcmp(argv[5], "writer")))
		return -1;
	mib = count_arg(argv[2], 1 << 20);
	dirty = count_arg(argv[3], mib * 256);
	rounds = count_arg(argv[4], 1000000);
	if (!mib || !dirty || !rounds)
		return -1;
	return bench_floor(mib, dirty, rounds, argc == 6);
}

/* One read of every page through a new transfer-view mapping. */
static int tview_pass(int tfd, uint64_t npages, long *faults, double *t)
{
	volatile uint64_t *q;
	uint64_t i, sum = 0;
	long f0;

	q = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE, MAP_SHARED, tfd,
		 0);
	if (q == MAP_FAILED) {
		perror("mmap transfer view");
		return -1;
	}
	f0 = minflt();
	*t = now();
	for (i = 0; i < npages; i++)
		sum += q[i * PG / 8];
	*t = now() - *t;
	*faults = minflt() - f0;
	munmap((void *)q, npages * PG);
	return sum == npages ? 0 : -1;
}

static int bench_tview(uint64_t mib)
{
	static const char param[] =
		"/sys/module/rdmig/parameters/transfer_fault_around";
	uint64_t npages = mib * 256, i;
	int fd, tfd, round, fa;
	long faults;
	double t;
	char *p;
	FILE *f;

	fd = region(npages, 0, &p);
	for (i = 0; i < npages; i++)	/* every page present, holding 1 */
		((uint64_t *)(p + i * PG))[0] = 1;
	tfd = ru_transfer(fd);
	if (tfd < 0) {
		perror("transfer fd");
		return 2;
	}
	for (round = 0; round < 4; round++) {
		fa = round % 2;
		f = fopen(param, "w");
		if (!f || fprintf(f, "%d\n", fa) < 0 || fclose(f)) {
			perror(param);
			return 2;
		}
		if (tview_pass(tfd, npages, &faults, &t)) {
			fprintf(stderr, "tview: read back wrong data\n");
			return 2;
		}
		printf("tview region_mib=%lu fault_around=%d faults=%ld faults_per_page=%.4f ms=%.1f us_per_page=%.3f\n",
		       (unsigned long)mib, fa, faults,
		       (double)faults / npages, t * 1e3, t * 1e6 / npages);
	}
	close(tfd);
	munmap(p, npages * PG);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if ((argc == 5 || (argc == 6 && !strcmp(argv[5], "writer"))) &&
	    !strcmp(argv[1], "clear"))
		return bench_clear(strtoull(argv[2], NULL, 0),
				   strtoull(argv[3], NULL, 0), atoi(argv[4]),
				   argc == 6);
	if (argc == 3 && !strcmp(argv[1], "track"))
		return bench_track(strtoull(argv[2], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "write"))
		return bench_write(strtoull(argv[2], NULL, 0), atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "tview"))
		return bench_tview(strtoull(argv[2], NULL, 0));
	if (argc >= 2 && !strcmp(argv[1], "floor")) {
		int rc = floor_cmd(argc, argv);

		if (rc >= 0)
			return rc;
	}
	fprintf(stderr, "usage: %s clear MIB DIRTY ROUNDS [writer] | track MIB | write MIB PASSES | tview MIB | floor MIB DIRTY ROUNDS [writer]\n",
		argv[0]);
	return 2;
}
