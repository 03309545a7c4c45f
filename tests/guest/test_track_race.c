// SPDX-License-Identifier: GPL-2.0
/*
 * The tracking-on race, made deterministic (tests/guest/16-track-race.sh):
 *   test_track_race NPAGES ROUNDS
 *
 * Every page is written first, so its PTE is writable when tracking is
 * turned on. A writer thread then stores increasing sequence numbers
 * into the pages, round robin, without pause, while the main thread
 * turns tracking on. The suite sets the module's test hook rearm_delay_us,
 * so that each re-arm step (the whole-region write-protect, each span's
 * clear and write-protect) waits that long with the writer running: the
 * writer's stores, and its write faults, land inside the call. The writer
 * counts the stores that completed while the call was in progress; the
 * test requires some (the window was really hit).
 *
 * Then, as an agent does, the main thread copies every page into a
 * shadow (iteration 0), runs ROUNDS get-and-clears copying what each
 * reports, stops the writer, and does a last get-and-clear and copy. The
 * shadow must equal the region: a write that landed during tracking-on
 * (or during a get-and-clear) and was neither before a copy nor reported
 * afterwards shows up as a page whose shadow is older. Exit 0 on
 * success, 1 on a lost write (pages listed), 2 on setup errors.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "region_util.h"

#define PG 4096UL

static volatile uint64_t *mem;
static uint64_t npages;
static atomic_bool stop, in_call;
static atomic_ulong stores_in_call, stores;

static void *writer(void *arg)
{
	uint64_t seq = 1, i = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		mem[i * PG / 8] = seq++;
		if (atomic_load(&in_call))
			atomic_fetch_add(&stores_in_call, 1);
		atomic_fetch_add(&stores, 1);
		i = (i + 1) % npages;
	}
	return NULL;
}

static void copy_reported(const uint64_t *bm, uint64_t *shadow)
{
	uint64_t i;

	for (i = 0; i < npages; i++)
		if (bm[i / 64] >> (i % 64) & 1)
			shadow[i] = mem[i * PG / 8];
}

static int sync_once(int fd, uint64_t *bm, uint64_t *shadow)
{
	if (ru_get_dirty(fd, 0, npages, RDMIG_DIRTY_F_CLEAR, bm, NULL)) {
		perror("get-and-clear");
		return -1;
	}
	copy_reported(bm, shadow);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t *shadow, *bm, i, lost = 0;
	int dev, fd, rounds, r;
	pthread_t th;
	char *p;

	if (argc != 3) {
		fprintf(stderr, "usage: %s NPAGES ROUNDS\n", argv[0]);
		return 2;
	}
	npages = strtoull(argv[1], NULL, 0);
	rounds = atoi(argv[2]);
	if (!npages || rounds < 0) {
		fprintf(stderr, "NPAGES must be > 0 and ROUNDS >= 0\n");
		return 2;
	}
	dev = open("/dev/rdmig", O_RDWR | O_CLOEXEC);
	fd = ru_create(dev, npages * PG, 0, "track-race", NULL);
	if (fd < 0) {
		perror("create region");
		return 2;
	}
	p = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	mem = (volatile uint64_t *)p;
	shadow = calloc(npages, sizeof(*shadow));
	bm = calloc((npages + 63) / 64, 8);
	if (!shadow || !bm)
		return 2;
	for (i = 0; i < npages; i++)	/* present, writable PTEs */
		mem[i * PG / 8] = 0;

	if (pthread_create(&th, NULL, writer, NULL))
		return 2;
	while (atomic_load(&stores) < npages)	/* running, all pages hit */
		sched_yield();
	atomic_store(&in_call, true);
	if (ru_tracking(fd, 1)) {
		perror("tracking on");
		return 2;
	}
	atomic_store(&in_call, false);
	/* Iteration 0: everything, read after tracking-on returned. */
	for (i = 0; i < npages; i++)
		shadow[i] = mem[i * PG / 8];
	for (r = 0; r < rounds; r++)
		if (sync_once(fd, bm, shadow))
			return 2;
	atomic_store(&stop, true);
	pthread_join(th, NULL);
	if (sync_once(fd, bm, shadow))
		return 2;

	for (i = 0; i < npages; i++)
		if (shadow[i] != mem[i * PG / 8]) {
			if (lost++ < 10)
				printf("lost write: page %lu shadow %lu memory %lu\n",
				       (unsigned long)i,
				       (unsigned long)shadow[i],
				       (unsigned long)mem[i * PG / 8]);
		}
	printf("pages=%lu rounds=%d stores=%lu stores_during_tracking_on=%lu lost_pages=%lu\n",
	       (unsigned long)npages, rounds, atomic_load(&stores),
	       atomic_load(&stores_in_call), (unsigned long)lost);
	if (!atomic_load(&stores_in_call)) {
		printf("no store landed while tracking was being turned on: the window was not exercised\n");
		return 1;
	}
	return lost ? 1 : 0;
}
