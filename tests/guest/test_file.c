// SPDX-License-Identifier: GPL-2.0
/*
 * The region fd as a file, as a VMM uses one: reopening it through
 * /proc/<pid>/fd/<n> (QEMU's memory-backend-file,mem-path=/proc/self/fd/N,
 * share=on), a size that never changes (ftruncate, truncate, O_TRUNC),
 * and hole punching (QEMU's discard for balloon and virtio-mem), pinned
 * pages kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <infiniband/verbs.h>

#include "region_util.h"

#define PG		4096UL
#define NPAGES		64UL

static int dev = -1;

static int open_dev(void **state)
{
	(void)state;
	dev = open("/dev/rdmig", O_RDWR | O_CLOEXEC);
	return dev < 0 ? -1 : 0;
}

static int close_dev(void **state)
{
	(void)state;
	close(dev);
	return 0;
}

static int new_region(uint32_t flags, uint32_t *id)
{
	int fd = ru_create(dev, NPAGES * PG, flags, "file", id);

	assert_true(fd >= 0);
	return fd;
}

static char *map(int fd, int prot)
{
	char *p = mmap(NULL, NPAGES * PG, prot, MAP_SHARED, fd, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

static int reopen(pid_t pid, int fd, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	errno = 0;
	return open(path, flags | O_CLOEXEC);
}

static long modrefs(void)
{
	FILE *f = fopen("/sys/module/rdmig/refcnt", "r");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

static int punch(int fd, uint64_t first, uint64_t n)
{
	errno = 0;
	return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			 (off_t)(first * PG), (off_t)(n * PG));
}

/* ---- item 9: reopening ------------------------------------------------- */

/*
 * What QEMU does with mem-path=/proc/self/fd/N: open it O_RDWR, map it
 * shared, write guest RAM through that mapping.
 */
static void test_reopen_rdwr_is_a_guest_view(void **state)
{
	struct rdmig_region_info info;
	uint32_t id;
	int fd = new_region(RDMIG_REGION_F_TRACK, &id), fd2;
	char *p = map(fd, PROT_READ | PROT_WRITE), *q;
	struct stat st;
	uint64_t e;

	(void)state;
	fd2 = reopen(getpid(), fd, O_RDWR);
	assert_true(fd2 >= 0);
	assert_int_equal(fstat(fd2, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, NPAGES * PG);
	assert_int_equal(ru_info(fd2, &info), 0);
	assert_int_equal(info.region_id, id);
	q = map(fd2, PROT_READ | PROT_WRITE);
	strcpy(q + 3 * PG, "through the reopened fd");
	assert_string_equal(p + 3 * PG, "through the reopened fd");
	/* Tracked like any guest-view write. */
	e = ru_pm(fd, 3);
	assert_int_equal(e, RDMIG_PM_PRESENT | RDMIG_PM_DIRTY |
			    RDMIG_PM_WRITTEN);
	/* And it is a guest view: it hands out a transfer view. */
	{
		int tfd = ru_transfer(fd2);

		assert_true(tfd >= 0);
		close(tfd);
	}
	munmap(q, NPAGES * PG);
	munmap(p, NPAGES * PG);
	close(fd2);
	close(fd);
}

/* The reopened fd alone keeps the region, and the module, alive. */
static void test_reopened_fd_keeps_region(void **state)
{
	long refs0 = modrefs();
	uint32_t id;
	int fd = new_region(0, &id), fd2;
	char *p = map(fd, PROT_READ | PROT_WRITE), *q;
	struct rdmig_region_info info;

	(void)state;
	strcpy(p + 7 * PG, "kept");
	fd2 = reopen(getpid(), fd, O_RDWR);
	assert_true(fd2 >= 0);
	munmap(p, NPAGES * PG);
	close(fd);
	assert_true(modrefs() > refs0);
	assert_int_equal(ru_info(fd2, &info), 0);
	assert_int_equal(info.region_id, id);
	assert_int_equal(info.present_pages, 1);
	q = map(fd2, PROT_READ);
	assert_string_equal(q + 7 * PG, "kept");
	munmap(q, NPAGES * PG);
	close(fd2);
	assert_int_equal(modrefs(), refs0);
}

/* O_RDONLY gives a file that may look but not write or change state. */
static void test_reopen_rdonly_cannot_write(void **state)
{
	int fd = new_region(RDMIG_REGION_F_TRACK, NULL), ro;
	char *p = map(fd, PROT_READ | PROT_WRITE), *q;
	struct rdmig_region_set s = { .size = sizeof(s),
				      .flags = RDMIG_SET_TRACKING };
	struct rdmig_region_info info;
	uint64_t bm[1], z, r;

	(void)state;
	p[0] = 'x';
	ro = reopen(getpid(), fd, O_RDONLY);
	assert_true(ro >= 0);
	assert_true(mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) ==
		    MAP_FAILED);
	assert_int_equal(errno, EACCES);
	q = map(ro, PROT_READ);
	assert_int_equal(q[0], 'x');
	assert_int_equal(mprotect(q, PG, PROT_READ | PROT_WRITE), -1);
	assert_int_equal(errno, EACCES);
	/* Looking is fine. */
	assert_int_equal(ru_info(ro, &info), 0);
	assert_true(ru_pm(ro, 0) & RDMIG_PM_DIRTY);
	assert_int_equal(ru_get_dirty(ro, 0, NPAGES, 0, bm, NULL), 0);
	assert_int_equal(bm[0], 1);
	/* Nothing that changes state, and no writable transfer view. */
	errno = 0;
	assert_int_equal(ru_transfer(ro), -1);
	assert_int_equal(errno, EBADF);
	errno = 0;
	assert_int_equal(ru_get_dirty(ro, 0, NPAGES, RDMIG_DIRTY_F_CLEAR, bm,
				      NULL), -1);
	assert_int_equal(errno, EBADF);
	errno = 0;
	assert_int_equal(ioctl(ro, RDMIG_REGION_SET, &s), -1);
	assert_int_equal(errno, EBADF);
	errno = 0;
	assert_int_equal(ru_zero_scan(ro, 0, NPAGES, 0, &z, &r), -1);
	assert_int_equal(errno, EBADF);
	errno = 0;
	assert_int_equal(ru_mark_written(ro, 0, 1, 0), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(punch(ro, 0, 1), -1);
	assert_int_equal(errno, EBADF);
	assert_true(ru_pm(fd, 0) & RDMIG_PM_DIRTY);	/* nothing cleared */
	munmap(q, NPAGES * PG);
	munmap(p, NPAGES * PG);
	close(ro);
	close(fd);
}

/*
 * A transfer fd is only what RDMIG_TRANSFER_FD gives: reopening it is
 * refused, as secretmem refuses any reopen.
 */
static void test_reopen_transfer_is_enxio(void **state)
{
	int fd = new_region(0, NULL), tfd = ru_transfer(fd);

	(void)state;
	assert_true(tfd >= 0);
	assert_int_equal(reopen(getpid(), tfd, O_RDWR), -1);
	assert_int_equal(errno, ENXIO);
	assert_int_equal(reopen(getpid(), tfd, O_RDONLY), -1);
	assert_int_equal(errno, ENXIO);
	close(tfd);
	close(fd);
}

/*
 * As QEMU spawned by a manager that created the region: another process
 * of the same user opens /proc/<manager>/fd/<n>, maps it and writes.
 */
static void test_reopen_from_another_process(void **state)
{
	int fd = new_region(RDMIG_REGION_F_TRACK, NULL), status;
	char *p = map(fd, PROT_READ | PROT_WRITE);
	pid_t parent = getpid(), child;

	(void)state;
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int fd2;
		char *q;

		close(fd);	/* only the manager's table has it now */
		munmap(p, NPAGES * PG);
		fd2 = reopen(parent, fd, O_RDWR);
		if (fd2 < 0)
			_exit(2);
		q = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd2, 0);
		if (q == MAP_FAILED)
			_exit(3);
		strcpy(q + 9 * PG, "from the vmm");
		_exit(0);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_string_equal(p + 9 * PG, "from the vmm");
	assert_int_equal(ru_pm(fd, 9), RDMIG_PM_PRESENT | RDMIG_PM_DIRTY |
					RDMIG_PM_WRITTEN);
	munmap(p, NPAGES * PG);
	close(fd);
}

/* ---- item 3: a size that never changes ----------------------------------- */

static void fill(char *p, uint64_t first, uint64_t n, int c)
{
	memset(p + first * PG, c, n * PG);
}

static int filled(const char *p, uint64_t page, int c)
{
	uint64_t i;

	for (i = 0; i < PG; i++)
		if (p[page * PG + i] != (char)c)
			return 0;
	return 1;
}

static void test_size_changes_refused(void **state)
{
	int fd = new_region(0, NULL), tfd = ru_transfer(fd), fd2;
	char *p = map(fd, PROT_READ | PROT_WRITE), path[64];
	struct rdmig_region_info info;
	struct stat st;
	uint64_t i;

	(void)state;
	fill(p, 0, 8, 0x77);
	errno = 0;
	assert_int_equal(ftruncate(fd, 0), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(ftruncate(fd, 2 * NPAGES * PG), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(ftruncate(fd, NPAGES * PG), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(ftruncate(tfd, 0), -1);
	assert_int_equal(errno, EINVAL);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	errno = 0;
	assert_int_equal(truncate(path, 4 * PG), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(open(path, O_RDWR | O_TRUNC), -1);
	assert_int_equal(errno, EINVAL);
	fd2 = reopen(getpid(), fd, O_RDWR);
	assert_true(fd2 >= 0);
	errno = 0;
	assert_int_equal(ftruncate(fd2, 0), -1);
	assert_int_equal(errno, EINVAL);
	close(fd2);

	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, NPAGES * PG);
	assert_int_equal(ru_info(fd, &info), 0);
	assert_int_equal(info.present_pages, 8);
	for (i = 0; i < 8; i++)
		assert_true(filled(p, i, 0x77));
	/* Mode changes are ordinary metadata. */
	assert_int_equal(fchmod(fd, 0400), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0400);
	munmap(p, NPAGES * PG);
	close(tfd);
	close(fd);
}

/* ---- item 3: hole punching ----------------------------------------------- */

static void test_punch_hole(void **state)
{
	int fd = new_region(RDMIG_REGION_F_TRACK, NULL), tfd = ru_transfer(fd);
	char *p = map(fd, PROT_READ | PROT_WRITE), buf[PG];
	struct rdmig_region_info info;
	uint64_t bm[1], nd, i, z, r;

	(void)state;
	fill(p, 0, 16, 0x42);
	assert_int_equal(ru_get_dirty(fd, 0, NPAGES, RDMIG_DIRTY_F_CLEAR, bm,
				      &nd), 0);
	assert_int_equal(nd, 16);
	/* Page 12 holds zeroes, found by a scan: not data any more. */
	memset(p + 12 * PG, 0, PG);
	assert_int_equal(ru_get_dirty(fd, 0, NPAGES, RDMIG_DIRTY_F_CLEAR, bm,
				      &nd), 0);
	assert_int_equal(ru_zero_scan(fd, 0, NPAGES, 0, &z, &r), 0);
	assert_int_equal(z, 1);

	assert_int_equal(punch(fd, 4, 4), 0);
	assert_int_equal(punch(tfd, 12, 2), 0);		/* either view */
	assert_int_equal(punch(fd, 30, 10), 0);		/* never written */
	assert_int_equal(ru_info(fd, &info), 0);
	assert_int_equal(info.present_pages, 16 - 6);
	assert_int_equal(info.written_pages, 16 - 6);
	for (i = 4; i < 8; i++)	/* data gone to zero: a write for migration */
		assert_int_equal(ru_pm(fd, i), RDMIG_PM_ZERO | RDMIG_PM_DIRTY);
	assert_int_equal(ru_pm(fd, 12), RDMIG_PM_ZERO);	/* was zero already */
	assert_int_equal(ru_pm(fd, 13), RDMIG_PM_ZERO | RDMIG_PM_DIRTY);
	assert_int_equal(ru_pm(fd, 30), RDMIG_PM_ZERO);
	assert_int_equal(ru_pm(fd, 3), RDMIG_PM_PRESENT | RDMIG_PM_WRITTEN);
	assert_int_equal(ru_pm(fd, 8), RDMIG_PM_PRESENT | RDMIG_PM_WRITTEN);
	/* read() gives zeroes and leaves the page absent. */
	assert_int_equal(pread(fd, buf, PG, 5 * PG), PG);
	for (i = 0; i < PG; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(ru_pm(fd, 5) & RDMIG_PM_PRESENT, 0);
	/* The old mapping now reads zeroes, the neighbours are intact. */
	assert_true(filled(p, 5, 0));
	assert_true(filled(p, 3, 0x42));
	assert_true(filled(p, 8, 0x42));
	assert_true(filled(p, 14, 0x42));
	/* A read fault brought page 5 back as a known zero page. */
	assert_int_equal(ru_pm(fd, 5), RDMIG_PM_PRESENT | RDMIG_PM_ZERO |
					RDMIG_PM_DIRTY);
	/* A write after the punch is an ordinary tracked write. */
	p[6 * PG] = 9;
	assert_int_equal(ru_pm(fd, 6), RDMIG_PM_PRESENT | RDMIG_PM_DIRTY |
					RDMIG_PM_WRITTEN);

	/* Bad ranges and modes. */
	errno = 0;
	assert_int_equal(fallocate(fd, FALLOC_FL_PUNCH_HOLE |
				   FALLOC_FL_KEEP_SIZE, 100, PG), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(fallocate(fd, FALLOC_FL_PUNCH_HOLE |
				   FALLOC_FL_KEEP_SIZE, 0, 100), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(punch(fd, NPAGES - 1, 2), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(punch(fd, NPAGES, 1), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(fallocate(fd, 0, 0, PG), -1);
	assert_int_equal(errno, EOPNOTSUPP);
	errno = 0;
	assert_int_equal(fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, PG), -1);
	assert_int_equal(errno, EOPNOTSUPP);
	errno = 0;
	assert_int_equal(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, PG), -1);
	assert_int_equal(errno, EOPNOTSUPP);
	assert_true(filled(p, 0, 0x42));
	munmap(p, NPAGES * PG);
	close(tfd);
	close(fd);
}

/* Without tracking, a never-written or zero page changes nothing either. */
static void test_punch_hole_all(void **state)
{
	int fd = new_region(0, NULL);
	char *p = map(fd, PROT_READ | PROT_WRITE);
	struct rdmig_region_info info;
	uint64_t e[NPAGES], i;

	(void)state;
	fill(p, 0, NPAGES, 0x13);
	assert_int_equal(punch(fd, 0, NPAGES), 0);
	assert_int_equal(ru_info(fd, &info), 0);
	assert_int_equal(info.present_pages, 0);
	assert_int_equal(info.written_pages, 0);
	assert_int_equal(rdmig_pagemap(fd, 0, NPAGES, e), 0);
	for (i = 0; i < NPAGES; i++)
		assert_int_equal(e[i] & ~RDMIG_PM_DIRTY, RDMIG_PM_ZERO);
	munmap(p, NPAGES * PG);
	close(fd);
}

/*
 * Pages pinned for DMA (an RDMA MR on the transfer view) are kept with
 * their data: a device may still write to them. The rest of the range
 * goes, and the call says EBUSY.
 */
static void test_punch_keeps_pinned_pages(void **state)
{
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	struct ibv_pd *pd;
	struct ibv_mr *mr;
	int fd = new_region(0, NULL), tfd = ru_transfer(fd), i, n;
	char *p = map(fd, PROT_READ | PROT_WRITE), *t = map(tfd, PROT_READ |
							    PROT_WRITE);

	(void)state;
	list = ibv_get_device_list(&n);
	for (i = 0; list && i < n; i++)
		if (!strcmp(ibv_get_device_name(list[i]), "rxe0"))
			ctx = ibv_open_device(list[i]);
	if (list)
		ibv_free_device_list(list);
	assert_non_null(ctx);
	pd = ibv_alloc_pd(ctx);
	assert_non_null(pd);
	fill(p, 0, 8, 0x61);
	mr = ibv_reg_mr(pd, t, 4 * PG, IBV_ACCESS_LOCAL_WRITE |
			IBV_ACCESS_REMOTE_WRITE);
	assert_non_null(mr);
	assert_int_equal(punch(fd, 0, 8), -1);
	assert_int_equal(errno, EBUSY);
	for (i = 0; i < 4; i++) {
		assert_int_equal(ru_pm(fd, i), RDMIG_PM_PRESENT |
				 RDMIG_PM_WRITTEN | RDMIG_PM_DIRTY |
				 RDMIG_PM_PINNED);
		assert_true(filled(p, i, 0x61));
	}
	for (i = 4; i < 8; i++)
		assert_int_equal(ru_pm(fd, i) & RDMIG_PM_PRESENT, 0);
	assert_int_equal(ibv_dereg_mr(mr), 0);
	assert_int_equal(punch(fd, 0, 8), 0);
	assert_int_equal(ru_pm(fd, 0) & RDMIG_PM_PRESENT, 0);
	assert_true(filled(p, 0, 0));
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	munmap(t, NPAGES * PG);
	munmap(p, NPAGES * PG);
	close(tfd);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reopen_rdwr_is_a_guest_view),
		cmocka_unit_test(test_reopened_fd_keeps_region),
		cmocka_unit_test(test_reopen_rdonly_cannot_write),
		cmocka_unit_test(test_reopen_transfer_is_enxio),
		cmocka_unit_test(test_reopen_from_another_process),
		cmocka_unit_test(test_size_changes_refused),
		cmocka_unit_test(test_punch_hole),
		cmocka_unit_test(test_punch_hole_all),
		cmocka_unit_test(test_punch_keeps_pinned_pages),
	};

	return cmocka_run_group_tests_name("file", tests, open_dev, close_dev);
}
