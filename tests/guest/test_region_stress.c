// SPDX-License-Identifier: GPL-2.0
/*
 * The no-lost-write test, in the manner of KVM's dirty_log_test: writer
 * threads store sequence numbers into random pages of a tracked region
 * while a reader loops get-and-clear and copies every reported page into a
 * shadow. After the writers stop and one final get-and-clear, the shadow
 * must equal the region byte for byte: any write the dirty log missed
 * leaves the shadow behind.
 *
 * usage: test_region_stress PAGES THREADS SECONDS
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <time.h>

#include "region_util.h"

#define PG 4096UL

static uint64_t npages;
static volatile uint64_t *region;
static atomic_bool stop;
static atomic_ulong total_writes;

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *writer(void *arg)
{
	uint64_t tid = (uintptr_t)arg, seed = 0x9e3779b97f4a7c15ULL * (tid + 1);
	uint64_t seq = 0, slot = tid % (PG / 8);

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		unsigned int i;

		for (i = 0; i < 256; i++) {
			uint64_t page = xorshift(&seed) % npages;

			region[page * (PG / 8) + slot] = (tid << 48) | ++seq;
		}
	}
	atomic_fetch_add(&total_writes, seq);
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t sync_once(int fd, uint64_t *bitmap, char *shadow)
{
	uint64_t n, i, copied = 0;

	if (ru_get_dirty(fd, 0, npages, RDMIG_DIRTY_F_CLEAR, bitmap, &n)) {
		perror("RDMIG_GET_DIRTY");
		exit(2);
	}
	for (i = 0; i < npages; i++) {
		if (!(bitmap[i / 64] & (1ULL << (i % 64))))
			continue;
		memcpy(shadow + i * PG, (const char *)region + i * PG, PG);
		copied++;
	}
	if (copied != n) {
		fprintf(stderr, "out_dirty %lu but %lu bits set\n",
			(unsigned long)n, (unsigned long)copied);
		exit(2);
	}
	return n;
}

int main(int argc, char **argv)
{
	unsigned int nthreads, i;
	uint64_t *bitmap, rounds = 0, reported = 0, bad = 0, p;
	double secs, t0;
	pthread_t th[64];
	char *shadow;
	int dev, fd;

	if (argc != 4) {
		fprintf(stderr, "usage: %s PAGES THREADS SECONDS\n", argv[0]);
		return 2;
	}
	npages = strtoull(argv[1], NULL, 0);
	nthreads = strtoul(argv[2], NULL, 0);
	secs = strtod(argv[3], NULL);
	if (!npages || !nthreads || nthreads > 64)
		return 2;
	dev = open("/dev/rdmig", O_RDWR | O_CLOEXEC);
	fd = ru_create(dev, npages * PG, RDMIG_REGION_F_TRACK, "stress", NULL);
	if (dev < 0 || fd < 0) {
		perror("create");
		return 2;
	}
	region = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
		      fd, 0);
	shadow = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	bitmap = calloc((npages + 63) / 64, 8);
	if (region == MAP_FAILED || shadow == MAP_FAILED || !bitmap)
		return 2;

	for (i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, writer, (void *)(uintptr_t)i);
	t0 = now();
	while (now() - t0 < secs) {
		reported += sync_once(fd, bitmap, shadow);
		rounds++;
	}
	atomic_store(&stop, true);
	for (i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	reported += sync_once(fd, bitmap, shadow);

	for (p = 0; p < npages; p++) {
		if (memcmp(shadow + p * PG, (const char *)region + p * PG, PG)) {
			if (bad++ < 10)
				fprintf(stderr, "page %lu: shadow differs (lost write)\n",
					(unsigned long)p);
		}
	}
	printf("pages %lu threads %u writes %lu rounds %lu reported %lu lost-pages %lu\n",
	       (unsigned long)npages, nthreads,
	       (unsigned long)atomic_load(&total_writes), (unsigned long)rounds,
	       (unsigned long)reported, (unsigned long)bad);
	return bad ? 1 : 0;
}
