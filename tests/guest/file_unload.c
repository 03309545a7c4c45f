// SPDX-License-Identifier: GPL-2.0
/*
 * The two sides of the unload race (tests/guest/13-file.sh):
 *
 *   file_unload hold MIB HOW   creates a region of MIB MiB, writes every
 *                              page, prints "ready", and on a line from
 *                              stdin lets the last reference go: HOW is
 *                              munmap (fd closed first), close (mapping
 *                              gone first) or exit (both, by exiting)
 *   file_unload rmmod SECONDS  calls delete_module("rdmig") as fast as it
 *                              can until it succeeds; fails after SECONDS
 *
 * Dropping the last reference of a large region evicts its inode, which
 * frees every page: the window in which an unload must not free the
 * module's code is as long as that takes.
 */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>

#include "region_util.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int hold(uint64_t len, const char *how)
{
	int dev = open("/dev/rdmig", O_RDWR | O_CLOEXEC), fd;
	char line[8];
	uint64_t off;
	char *p;

	if (dev < 0) {
		perror("file_unload: /dev/rdmig");
		return 2;
	}
	fd = ru_create(dev, len, RDMIG_REGION_F_TRACK, "unload", NULL);
	if (fd < 0) {
		perror("file_unload: create region");
		return 2;
	}
	close(dev);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("file_unload: mmap");
		return 2;
	}
	for (off = 0; off < len; off += 4096)
		p[off] = 1;
	if (!strcmp(how, "munmap"))
		close(fd);
	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 2;
	if (!strcmp(how, "munmap")) {
		munmap(p, len);
	} else if (!strcmp(how, "close")) {
		munmap(p, len);
		close(fd);
	}
	return 0;	/* "exit": the exit drops both */
}

static int unload(double seconds)
{
	double t0 = now();
	unsigned long tries = 0;

	for (;;) {
		tries++;
		if (!syscall(SYS_delete_module, "rdmig", O_NONBLOCK)) {
			printf("unloaded after %lu attempts, %.3f s\n", tries,
			       now() - t0);
			return 0;
		}
		if (errno != EBUSY && errno != EAGAIN && errno != EINTR) {
			perror("file_unload: delete_module");
			return 1;
		}
		if (now() - t0 > seconds) {
			fprintf(stderr, "file_unload: still loaded after %.0f s, %lu attempts: %s\n",
				seconds, tries, strerror(errno));
			return 1;
		}
	}
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "hold"))
		return hold(strtoull(argv[2], NULL, 0) << 20, argv[3]);
	if (argc == 3 && !strcmp(argv[1], "rmmod"))
		return unload(strtod(argv[2], NULL));
	fprintf(stderr, "usage: file_unload hold MIB munmap|close|exit | rmmod SECONDS\n");
	return 2;
}
