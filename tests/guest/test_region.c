// SPDX-License-Identifier: GPL-2.0
/*
 * Regions: creation, the two views, dirty/written/zero bits, get-and-clear,
 * zero scan, pagemap, lifetime, and every bad input the uapi documents.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <cmocka.h>

#include "region_util.h"

#define PG		4096UL
#define NPAGES		200UL	/* not a multiple of 64, on purpose */

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

/* An address with nothing mapped, hidden from the compiler's checks. */
static void *bad_ptr(void)
{
	volatile uintptr_t a = 8;

	return (void *)a;
}

static int new_region(uint32_t flags)
{
	int fd = ru_create(dev, NPAGES * PG, flags, "t", NULL);

	assert_true(fd >= 0);
	return fd;
}

static char *map(int fd, size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	assert_true(p != MAP_FAILED);
	return p;
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

static void test_create(void **state)
{
	struct rdmig_create_region c = { .size = sizeof(c),
					 .length = NPAGES * PG };
	struct rdmig_region_info info;
	int fd;

	(void)state;
	strcpy(c.name, "guest-ram");
	fd = ioctl(dev, RDMIG_CREATE_REGION, &c);
	assert_true(fd >= 0);
	assert_int_equal(c.out_fd, fd);
	assert_true(c.out_region_id > 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(ru_info(fd, &info), 0);
	assert_int_equal(info.region_id, c.out_region_id);
	assert_int_equal(info.length, NPAGES * PG);
	assert_string_equal(info.name, "guest-ram");
	assert_int_equal(info.present_pages, 0);
	assert_int_equal(info.written_pages, 0);
	assert_int_equal(info.dirty_pages, 0);
	assert_int_equal(info.flags & RDMIG_INFO_F_TRACKING, 0);
	close(fd);

	fd = new_region(RDMIG_REGION_F_TRACK);
	assert_int_equal(ru_info(fd, &info), 0);
	assert_true(info.flags & RDMIG_INFO_F_TRACKING);
	close(fd);
}

static void expect_create_errno(struct rdmig_create_region *c, int err)
{
	errno = 0;
	assert_int_equal(ioctl(dev, RDMIG_CREATE_REGION, c), -1);
	assert_int_equal(errno, err);
}

static void test_create_bad_input(void **state)
{
	struct {
		struct rdmig_create_region c;
		uint64_t tail;
	} big = { { .size = sizeof(big), .length = PG }, 0 };
	struct rdmig_create_region c;

	(void)state;
#define RESET() (c = (struct rdmig_create_region){ .size = sizeof(c), .length = PG })
	RESET(); c.size = 8; expect_create_errno(&c, EINVAL);
	RESET(); c.length = 0; expect_create_errno(&c, EINVAL);
	RESET(); c.length = PG + 1; expect_create_errno(&c, EINVAL);
	RESET(); c.length = RDMIG_REGION_MAX_BYTES + PG; expect_create_errno(&c, EINVAL);
	RESET(); c.flags = 1U << 31; expect_create_errno(&c, EINVAL);
	RESET(); memset(c.name, 'x', sizeof(c.name)); expect_create_errno(&c, EINVAL);
	RESET(); c.out_fd = 5; expect_create_errno(&c, EINVAL);
	big.tail = 1;
	expect_create_errno(&big.c, E2BIG);
	big.tail = 0;
	{
		int fd = ioctl(dev, RDMIG_CREATE_REGION, &big);

		assert_true(fd >= 0);	/* a larger, zero-tailed struct is fine */
		close(fd);
	}
	errno = 0;
	assert_int_equal(ioctl(dev, RDMIG_CREATE_REGION, (void *)8), -1);
	assert_int_equal(errno, EFAULT);
#undef RESET
}

static void test_mmap_rules(void **state)
{
	int fd = new_region(0);
	void *p;

	(void)state;
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	assert_true(p == MAP_FAILED);
	assert_int_equal(errno, EINVAL);
	p = mmap(NULL, (NPAGES + 1) * PG, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(p == MAP_FAILED);
	assert_int_equal(errno, EINVAL);
	p = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd, (NPAGES - 1) * PG);
	assert_true(p == MAP_FAILED);
	assert_int_equal(errno, EINVAL);
	p = mmap(NULL, PG, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	assert_true(p == MAP_FAILED);
	/* The last page alone is fine; growing it with mremap is not. */
	p = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, (NPAGES - 1) * PG);
	assert_true(p != MAP_FAILED);
	assert_true(mremap(p, PG, 2 * PG, MREMAP_MAYMOVE) == MAP_FAILED);
	munmap(p, PG);
	close(fd);
}

static void test_write_sets_dirty_written(void **state)
{
	int fd = new_region(RDMIG_REGION_F_TRACK);
	char *p = map(fd, NPAGES * PG);
	struct rdmig_region_info info;
	volatile char c;

	(void)state;
	assert_int_equal(ru_pm(fd, 3), RDMIG_PM_ZERO);	/* absent, zero */
	c = p[3 * PG];	/* read: present, still zero, not dirty */
	(void)c;
	assert_int_equal(ru_pm(fd, 3), RDMIG_PM_PRESENT | RDMIG_PM_ZERO);
	p[5 * PG + 7] = 1;
	assert_int_equal(ru_pm(fd, 5), RDMIG_PM_PRESENT | RDMIG_PM_DIRTY |
					RDMIG_PM_WRITTEN);
	p[NPAGES * PG - 1] = 1;
	assert_int_equal(ru_info(fd, &info), 0);
	assert_int_equal(info.present_pages, 3);
	assert_int_equal(info.written_pages, 2);
	assert_int_equal(info.dirty_pages, 2);
	munmap(p, NPAGES * PG);
	close(fd);
}

static void test_get_and_clear(void **state)
{
	int fd = new_region(RDMIG_REGION_F_TRACK);
	char *p = map(fd, NPAGES * PG);
	uint64_t bm[4], n;
	unsigned int i;

	(void)state;
	for (i = 0; i < NPAGES; i += 3)
		p[i * PG] = (char)i;
	/* A dense run too, so both re-arm strategies are used. */
	for (i = 64; i < 128; i++)
		p[i * PG + 1] = 1;
	assert_int_equal(ru_get_dirty(fd, 0, NPAGES, 0, bm, &n), 0);
	for (i = 0; i < NPAGES; i++) {
		int want = i % 3 == 0 || (i >= 64 && i < 128);

		assert_int_equal(!!(bm[i / 64] & (1ULL << (i % 64))), want);
	}
	assert_int_equal(ru_get_dirty(fd, 0, NPAGES, RDMIG_DIRTY_F_CLEAR, bm, &n), 0);
	assert_int_equal(n, 67 + 64 - 21);
	assert_int_equal(ru_get_dirty(fd, 0, NPAGES, 0, bm, &n), 0);
	assert_int_equal(n, 0);
	/* Re-armed: the next write to any of them is reported again. */
	p[66 * PG] = 9;
	p[3 * PG] = 9;
	assert_int_equal(ru_get_dirty(fd, 0, NPAGES, RDMIG_DIRTY_F_CLEAR, bm, &n), 0);
	assert_int_equal(n, 2);
	assert_true(bm[1] & (1ULL << 2));
	assert_true(bm[0] & (1ULL << 3));
	/* Tail range ending at the last page may be a partial word. */
	p[199 * PG] = 1;
	assert_int_equal(ru_get_dirty(fd, 192, 8, RDMIG_DIRTY_F_CLEAR, bm, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(bm[0], 1ULL << 7);
	assert_int_equal(ru_pm(fd, 199) & RDMIG_PM_DIRTY, 0);
	assert_true(ru_pm(fd, 199) & RDMIG_PM_WRITTEN);
	munmap(p, NPAGES * PG);
	close(fd);
}

/*
 * More dirty words than the kernel collects at first (256), scattered one
 * page per word with gaps, into a bitmap full of garbage: every word must
 * come back exactly, set or zero, and the clear must be complete.
 */
static void test_get_and_clear_many_words(void **state)
{
	const uint64_t words = 1000, pages = words * 64 + 17;
	int fd = ru_create(dev, pages * PG, RDMIG_REGION_F_TRACK, "w", NULL);
	uint64_t *bm = malloc((words + 1) * 8), n, w, want;
	char *p;
	int pass;

	(void)state;
	assert_true(fd >= 0);
	assert_non_null(bm);
	p = map(fd, pages * PG);
	for (pass = 0; pass < 2; pass++) {
		uint32_t flags = pass ? RDMIG_DIRTY_F_CLEAR : 0;

		for (w = 0; w < words; w++)
			if (w % 3)
				p[(w * 64 + w % 64) * PG] = 1;
		p[(pages - 1) * PG] = 1;
		memset(bm, 0xa5, (words + 1) * 8);
		assert_int_equal(ru_get_dirty(fd, 0, pages, flags, bm, &n), 0);
		assert_int_equal(n, words - (words + 2) / 3 + 1);
		for (w = 0; w < words; w++) {
			want = w % 3 ? 1ULL << (w % 64) : 0;
			assert_int_equal(bm[w], want);
		}
		assert_int_equal(bm[words], 1ULL << 16);
	}
	assert_int_equal(ru_get_dirty(fd, 0, pages, 0, bm, &n), 0);
	assert_int_equal(n, 0);
	for (w = 0; w <= words; w++)
		assert_int_equal(bm[w], 0);
	/* A sub-range starting mid-region reports relative to its start. */
	p[(128 + 70) * PG] = 2;
	assert_int_equal(ru_get_dirty(fd, 128, 640, RDMIG_DIRTY_F_CLEAR, bm, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(bm[1], 1ULL << 6);
	munmap(p, pages * PG);
	free(bm);
	close(fd);
}

static void expect_dirty_errno(int fd, uint64_t first, uint64_t npages,
			       uint32_t flags, uint64_t *bm, int err)
{
	errno = 0;
	assert_int_equal(ru_get_dirty(fd, first, npages, flags, bm, NULL), -1);
	assert_int_equal(errno, err);
}

static void test_get_dirty_bad_input(void **state)
{
	int fd = new_region(0);
	char *p = map(fd, NPAGES * PG);
	uint64_t bm[4], n;
	struct rdmig_dirty_bitmap d = { .size = 4 };

	(void)state;
	p[0] = 1;
	expect_dirty_errno(fd, 0, NPAGES, RDMIG_DIRTY_F_CLEAR, bm, EINVAL); /* tracking off */
	assert_int_equal(ru_tracking(fd, 1), 0);
	p[0] = 2;
	expect_dirty_errno(fd, 1, 64, 0, bm, EINVAL);		/* unaligned first */
	expect_dirty_errno(fd, 0, 0, 0, bm, EINVAL);		/* empty */
	expect_dirty_errno(fd, 0, 65, 0, bm, EINVAL);		/* partial word */
	expect_dirty_errno(fd, 192, 9, 0, bm, EINVAL);		/* past the end */
	expect_dirty_errno(fd, 256, 64, 0, bm, EINVAL);		/* beyond */
	expect_dirty_errno(fd, 0, ~0ULL, 0, bm, EINVAL);	/* overflow */
	expect_dirty_errno(fd, 0, 64, 1U << 9, bm, EINVAL);	/* flags */
	expect_dirty_errno(fd, 0, 64, RDMIG_DIRTY_F_CLEAR, (uint64_t *)8, EFAULT);
	errno = 0;
	assert_int_equal(ioctl(fd, RDMIG_GET_DIRTY, &d), -1);
	assert_int_equal(errno, EINVAL);
	/* The failed calls lost nothing: page 0 is still reported. */
	assert_int_equal(ru_get_dirty(fd, 0, 64, RDMIG_DIRTY_F_CLEAR, bm, &n), 0);
	assert_int_equal(n, 1);
	munmap(p, NPAGES * PG);
	close(fd);
}

static void test_region_set(void **state)
{
	int fd = new_region(0);
	char *p = map(fd, NPAGES * PG);
	struct rdmig_region_set s = { .size = sizeof(s) };
	struct rdmig_region_info info;

	(void)state;
	p[0] = 1;
	p[PG] = 1;	/* tracking off: still written and dirty */
	assert_int_equal(ru_info(fd, &info), 0);
	assert_int_equal(info.dirty_pages, 2);
	assert_int_equal(ru_tracking(fd, 1), 0);	/* clears and arms */
	assert_int_equal(ru_info(fd, &info), 0);
	assert_int_equal(info.dirty_pages, 0);
	assert_int_equal(info.written_pages, 2);
	assert_true(info.flags & RDMIG_INFO_F_TRACKING);
	p[PG] = 2;
	assert_int_equal(ru_info(fd, &info), 0);
	assert_int_equal(info.dirty_pages, 1);

	s.flags = RDMIG_SET_WATERMARK;
	s.dirty_watermark = 10;
	assert_int_equal(ioctl(fd, RDMIG_REGION_SET, &s), 0);
	assert_int_equal(ru_info(fd, &info), 0);
	assert_int_equal(info.dirty_watermark, 10);

	s.flags = 1U << 7;
	assert_int_equal(ioctl(fd, RDMIG_REGION_SET, &s), -1);
	assert_int_equal(errno, EINVAL);
	s.flags = RDMIG_SET_TRACKING;
	s.tracking = 2;
	assert_int_equal(ioctl(fd, RDMIG_REGION_SET, &s), -1);
	assert_int_equal(errno, EINVAL);
	s.tracking = 1;
	s.reserved = 1;
	assert_int_equal(ioctl(fd, RDMIG_REGION_SET, &s), -1);
	assert_int_equal(errno, EINVAL);
	s.reserved = 0;
	s.flags = RDMIG_SET_WATERMARK;
	s.dirty_watermark = NPAGES + 1;
	assert_int_equal(ioctl(fd, RDMIG_REGION_SET, &s), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ioctl(fd, RDMIG_REGION_SET, (void *)8), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(ru_tracking(fd, 0), 0);
	assert_int_equal(ru_info(fd, &info), 0);
	assert_int_equal(info.flags & RDMIG_INFO_F_TRACKING, 0);
	munmap(p, NPAGES * PG);
	close(fd);
}

static void test_zero_scan(void **state)
{
	int fd = new_region(RDMIG_REGION_F_TRACK);
	char *p = map(fd, NPAGES * PG);
	struct rdmig_region_info info;
	uint64_t zero, recl, bm[4];

	(void)state;
	p[10 * PG] = 1;
	p[10 * PG] = 0;		/* written, but zero again */
	p[11 * PG] = 1;		/* written, not zero */
	p[12 * PG] = 0;		/* written zero */
	assert_int_equal(ru_pm(fd, 10) & RDMIG_PM_ZERO, 0);
	assert_int_equal(ru_zero_scan(fd, 0, NPAGES, 0, &zero, &recl), 0);
	assert_int_equal(zero, 2);
	assert_int_equal(recl, 0);
	assert_true(ru_pm(fd, 10) & RDMIG_PM_ZERO);
	assert_true(ru_pm(fd, 12) & RDMIG_PM_ZERO);
	assert_int_equal(ru_pm(fd, 11) & RDMIG_PM_ZERO, 0);
	/* Found zero, then written: no longer zero (the scan write-protected it). */
	p[12 * PG + 5] = 3;
	assert_int_equal(ru_pm(fd, 12) & RDMIG_PM_ZERO, 0);
	p[12 * PG + 5] = 0;

	/* Dirty zero pages are kept while tracking: the agent must see them. */
	assert_int_equal(ru_zero_scan(fd, 0, NPAGES, RDMIG_ZERO_F_RECLAIM, &zero, &recl), 0);
	assert_int_equal(zero, 2);
	assert_int_equal(recl, 0);
	assert_int_equal(ru_get_dirty(fd, 0, NPAGES, RDMIG_DIRTY_F_CLEAR, bm, NULL), 0);
	assert_int_equal(ru_zero_scan(fd, 0, NPAGES, RDMIG_ZERO_F_RECLAIM, &zero, &recl), 0);
	assert_int_equal(zero, 2);
	assert_int_equal(recl, 2);
	assert_int_equal(ru_pm(fd, 10), RDMIG_PM_ZERO);	/* absent again */
	assert_int_equal(ru_pm(fd, 12), RDMIG_PM_ZERO);
	assert_int_equal(ru_info(fd, &info), 0);
	assert_int_equal(info.present_pages, 1);
	assert_int_equal(info.written_pages, 1);
	/* The mapping still works: reads see zero, writes are tracked. */
	assert_int_equal(p[10 * PG], 0);
	p[10 * PG] = 4;
	assert_int_equal(ru_pm(fd, 10), RDMIG_PM_PRESENT | RDMIG_PM_DIRTY |
					 RDMIG_PM_WRITTEN);
	assert_int_equal(p[11 * PG], 1);

	assert_int_equal(ru_zero_scan(fd, 0, 0, 0, &zero, &recl), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ru_zero_scan(fd, NPAGES, 1, 0, &zero, &recl), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ru_zero_scan(fd, 1, NPAGES, 0, &zero, &recl), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ru_zero_scan(fd, 0, 1, 1U << 5, &zero, &recl), -1);
	assert_int_equal(errno, EINVAL);
	munmap(p, NPAGES * PG);
	close(fd);
}

static int pagemap_ioctl(int fd, struct rdmig_pagemap *pm)
{
	errno = 0;
	return ioctl(fd, RDMIG_PAGEMAP, pm);
}

static void test_pagemap_ioctl(void **state)
{
	int fd = new_region(0), tfd = ru_transfer(fd);
	uint64_t e[NPAGES];
	struct rdmig_pagemap pm = { .size = sizeof(pm), .npages = NPAGES,
				    .entries = (uintptr_t)e };
	char *p = map(fd, NPAGES * PG);

	(void)state;
	p[5 * PG] = 1;
	memset(e, 0xff, sizeof(e));
	assert_int_equal(pagemap_ioctl(fd, &pm), 0);
	assert_int_equal(e[0], RDMIG_PM_ZERO);
	assert_int_equal(e[5], RDMIG_PM_PRESENT | RDMIG_PM_DIRTY |
			       RDMIG_PM_WRITTEN);
	assert_int_equal(e[NPAGES - 1], RDMIG_PM_ZERO);
	/* The transfer view answers the same, and the librdmig reader too. */
	memset(e, 0, sizeof(e));
	assert_int_equal(pagemap_ioctl(tfd, &pm), 0);
	assert_int_equal(e[5], RDMIG_PM_PRESENT | RDMIG_PM_DIRTY |
			       RDMIG_PM_WRITTEN);
	assert_int_equal(rdmig_pagemap(fd, NPAGES - 1, 1, e), 0);
	assert_int_equal(e[0], RDMIG_PM_ZERO);

	pm.npages = NPAGES + 1;
	assert_int_equal(pagemap_ioctl(fd, &pm), -1);
	assert_int_equal(errno, EINVAL);
	pm.npages = 0;
	assert_int_equal(pagemap_ioctl(fd, &pm), -1);
	assert_int_equal(errno, EINVAL);
	pm.npages = 1;
	pm.first_page = NPAGES;
	assert_int_equal(pagemap_ioctl(fd, &pm), -1);
	assert_int_equal(errno, EINVAL);
	pm.first_page = 0;
	pm.flags = 1;
	assert_int_equal(pagemap_ioctl(fd, &pm), -1);
	assert_int_equal(errno, EINVAL);
	pm.flags = 0;
	pm.reserved = 1;
	assert_int_equal(pagemap_ioctl(fd, &pm), -1);
	assert_int_equal(errno, EINVAL);
	pm.reserved = 0;
	pm.entries = (uintptr_t)bad_ptr();
	assert_int_equal(pagemap_ioctl(fd, &pm), -1);
	assert_int_equal(errno, EFAULT);
	pm.size = 8;
	assert_int_equal(pagemap_ioctl(fd, &pm), -1);
	assert_int_equal(errno, EINVAL);
	munmap(p, NPAGES * PG);
	close(tfd);
	close(fd);
}

/*
 * read() gives guest memory, as a memfd does: present pages as they are,
 * absent ones as zeroes without faulting them in, and nothing is marked.
 */
static void test_read_gives_guest_memory(void **state)
{
	int fd = new_region(RDMIG_REGION_F_TRACK);
	char *p = map(fd, NPAGES * PG), *buf = malloc(3 * PG);
	struct rdmig_region_info info;
	uint64_t e;

	(void)state;
	assert_non_null(buf);
	memset(p + 10 * PG, 0x5a, PG);
	p[12 * PG + 7] = 0x33;
	assert_int_equal(ru_get_dirty(fd, 0, NPAGES, RDMIG_DIRTY_F_CLEAR,
				      (uint64_t[4]){ 0 }, NULL), 0);
	memset(buf, 0x11, 3 * PG);
	assert_int_equal(pread(fd, buf, 3 * PG, 10 * PG), 3 * PG);
	assert_int_equal(buf[0], 0x5a);
	assert_int_equal(buf[PG - 1], 0x5a);
	assert_int_equal(buf[PG], 0);		/* page 11: absent */
	assert_int_equal(buf[2 * PG + 7], 0x33);
	assert_int_equal(ru_pm(fd, 11), RDMIG_PM_ZERO);	/* still absent */
	assert_int_equal(ru_info(fd, &info), 0);
	assert_int_equal(info.present_pages, 2);
	assert_int_equal(info.dirty_pages, 0);
	assert_int_equal(info.written_pages, 2);
	/* Unaligned, and short at the end of the region. */
	assert_int_equal(pread(fd, buf, 5, 12 * PG + 5), 5);
	assert_int_equal(buf[2], 0x33);
	assert_int_equal(pread(fd, buf, 2 * PG, (NPAGES - 1) * PG), PG);
	assert_int_equal(pread(fd, buf, 8, NPAGES * PG), 0);
	/* read() follows the file offset. */
	assert_int_equal(lseek(fd, 10 * PG, SEEK_SET), 10 * PG);
	assert_int_equal(read(fd, buf, 16), 16);
	assert_int_equal(buf[15], 0x5a);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 10 * PG + 16);
	assert_int_equal(pread(fd, bad_ptr(), 8, 0), -1);
	assert_int_equal(errno, EFAULT);
	/* write() is not a way in: stores go through the mapping. */
	assert_int_equal(pwrite(fd, buf, 8, 0), -1);
	assert_int_equal(errno, EINVAL);
	e = ru_pm(fd, 0);
	assert_int_equal(e, RDMIG_PM_ZERO);
	free(buf);
	munmap(p, NPAGES * PG);
	close(fd);
}

static void test_transfer_view(void **state)
{
	int fd = new_region(RDMIG_REGION_F_TRACK);
	int tfd = ru_transfer(fd);
	struct rdmig_bind b = { .size = sizeof(b), .sock_fd = -1 };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int nlfd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	int ufd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct rdmig_region_info info;
	struct rdmig_transfer t = { .size = sizeof(t), .flags = 1 };
	char *p, *q;

	(void)state;
	assert_true(tfd >= 0);
	assert_true(fcntl(tfd, F_GETFD) & FD_CLOEXEC);
	p = map(fd, NPAGES * PG);
	q = map(tfd, NPAGES * PG);
	/* Writes through the transfer view mark nothing and stay zero-known. */
	q[7 * PG] = 5;
	assert_int_equal(p[7 * PG], 5);
	assert_int_equal(ru_pm(tfd, 7), RDMIG_PM_PRESENT | RDMIG_PM_ZERO);
	/* Writes through the guest view are seen through both. */
	p[8 * PG] = 6;
	assert_int_equal(q[8 * PG], 6);
	assert_int_equal(ru_pm(tfd, 8), RDMIG_PM_PRESENT | RDMIG_PM_DIRTY |
					 RDMIG_PM_WRITTEN);
	assert_int_equal(ru_info(tfd, &info), 0);
	assert_int_equal(info.written_pages, 1);

	assert_int_equal(ioctl(fd, RDMIG_TRANSFER_FD, &t), -1);
	assert_int_equal(errno, EINVAL);
	t.flags = 0;
	assert_int_equal(ioctl(tfd, RDMIG_TRANSFER_FD, &t), -1);
	assert_int_equal(errno, ENOTTY);
	assert_int_equal(ioctl(fd, RDMIG_BIND_NETLINK, &b), -1);
	assert_int_equal(errno, ENOTTY);
	b.reserved = 1;
	assert_int_equal(ioctl(tfd, RDMIG_BIND_NETLINK, &b), -1);
	assert_int_equal(errno, EINVAL);
	b.reserved = 0;
	/* Bind takes a socket, never a port number. */
	assert_true(nlfd >= 0 && ufd >= 0);
	b.sock_fd = -2;
	assert_int_equal(ioctl(tfd, RDMIG_BIND_NETLINK, &b), -1);
	assert_int_equal(errno, EBADF);
	b.sock_fd = fd;
	assert_int_equal(ioctl(tfd, RDMIG_BIND_NETLINK, &b), -1);
	assert_int_equal(errno, ENOTSOCK);
	b.sock_fd = ufd;
	assert_int_equal(ioctl(tfd, RDMIG_BIND_NETLINK, &b), -1);
	assert_int_equal(errno, EINVAL);
	b.sock_fd = nlfd;	/* not bound to a port yet */
	assert_int_equal(ioctl(tfd, RDMIG_BIND_NETLINK, &b), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(bind(nlfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(ioctl(tfd, RDMIG_BIND_NETLINK, &b), 0);
	assert_int_equal(ru_info(fd, &info), 0);
	assert_true(info.flags & RDMIG_INFO_F_BOUND);
	b.sock_fd = -1;
	assert_int_equal(ioctl(tfd, RDMIG_BIND_NETLINK, &b), 0);
	assert_int_equal(ru_info(fd, &info), 0);
	assert_int_equal(info.flags & RDMIG_INFO_F_BOUND, 0);

	assert_int_equal(ioctl(fd, _IO(RDMIG_IOC_MAGIC, 0x7e), 0), -1);
	assert_int_equal(errno, ENOTTY);
	assert_int_equal(ioctl(fd, RDMIG_CREATE_REGION, 0), -1);
	assert_int_equal(errno, ENOTTY);
	munmap(q, NPAGES * PG);
	munmap(p, NPAGES * PG);
	close(nlfd);
	close(ufd);
	close(tfd);
	close(fd);
}

static void expect_mark_errno(int fd, uint64_t first, uint64_t npages,
			      uint32_t flags, int err)
{
	errno = 0;
	assert_int_equal(ru_mark_written(fd, first, npages, flags), -1);
	assert_int_equal(errno, err);
}

/*
 * A migration destination: pages arrive through the transfer view and
 * must not stay known zero, or a later migration onwards drops them.
 */
static void test_mark_written(void **state)
{
	int fd = new_region(RDMIG_REGION_F_TRACK);
	int tfd = ru_transfer(fd);
	struct rdmig_region_info info;
	struct {
		struct rdmig_mark_written m;
		uint64_t tail;
	} big = { { .size = sizeof(big), .first_page = 0, .npages = 1 }, 1 };
	struct rdmig_mark_written m = { .size = 4, .npages = 1 };
	uint64_t bm[4], zero, n;
	char *p, *q;

	(void)state;
	assert_true(tfd >= 0);
	p = map(fd, NPAGES * PG);
	q = map(tfd, NPAGES * PG);
	q[20 * PG + 3] = 1;	/* received data */
	q[21 * PG] = 0;		/* received, happens to be zero */
	/* 22 never received: absent. 23 written, then found zero by a scan. */
	p[23 * PG] = 0;
	assert_int_equal(ru_get_dirty(fd, 0, NPAGES, RDMIG_DIRTY_F_CLEAR, bm, NULL), 0);
	assert_int_equal(ru_zero_scan(fd, 0, NPAGES, 0, &zero, NULL), 0);
	assert_int_equal(zero, 1);
	q[23 * PG] = 7;		/* overwritten by RDMA: not seen */
	p[24 * PG] = 1;		/* guest write: dirty */
	assert_int_equal(ru_pm(fd, 20), RDMIG_PM_PRESENT | RDMIG_PM_ZERO);
	assert_int_equal(ru_pm(fd, 21), RDMIG_PM_PRESENT | RDMIG_PM_ZERO);
	assert_int_equal(ru_pm(fd, 23), RDMIG_PM_PRESENT | RDMIG_PM_WRITTEN |
					 RDMIG_PM_ZERO);
	assert_int_equal(ru_info(fd, &info), 0);
	assert_int_equal(info.written_pages, 2);

	assert_int_equal(ru_mark_written(tfd, 20, 5, 0), 0);
	assert_int_equal(ru_pm(fd, 20), RDMIG_PM_PRESENT | RDMIG_PM_WRITTEN);
	assert_int_equal(ru_pm(fd, 21), RDMIG_PM_PRESENT | RDMIG_PM_WRITTEN);
	assert_int_equal(ru_pm(fd, 22), RDMIG_PM_ZERO);	/* absent holds zero */
	assert_int_equal(ru_pm(fd, 23), RDMIG_PM_PRESENT | RDMIG_PM_WRITTEN);
	assert_int_equal(ru_pm(fd, 24), RDMIG_PM_PRESENT | RDMIG_PM_WRITTEN |
					 RDMIG_PM_DIRTY);
	assert_int_equal(ru_pm(fd, 19), RDMIG_PM_ZERO);
	assert_int_equal(ru_pm(fd, 25), RDMIG_PM_ZERO);
	assert_int_equal(ru_info(fd, &info), 0);
	assert_int_equal(info.written_pages, 4);
	assert_int_equal(info.present_pages, 4);
	assert_int_equal(info.dirty_pages, 1);
	/* DIRTY untouched: only the guest write is reported. */
	assert_int_equal(ru_get_dirty(fd, 0, NPAGES, RDMIG_DIRTY_F_CLEAR, bm, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(bm[0], 1ULL << 24);
	/* Idempotent, on the region fd too, and over the partial last word. */
	q[NPAGES * PG - 1] = 2;
	assert_int_equal(ru_mark_written(fd, 0, NPAGES, 0), 0);
	assert_int_equal(ru_pm(fd, NPAGES - 1), RDMIG_PM_PRESENT | RDMIG_PM_WRITTEN);
	assert_int_equal(ru_info(fd, &info), 0);
	assert_int_equal(info.written_pages, 5);
	assert_int_equal(info.present_pages, 5);
	/* A zero scan still finds a marked page that holds zeroes. */
	assert_int_equal(ru_zero_scan(fd, 21, 1, 0, &zero, NULL), 0);
	assert_int_equal(zero, 1);
	assert_int_equal(ru_zero_scan(fd, 20, 1, 0, &zero, NULL), 0);
	assert_int_equal(zero, 0);

	expect_mark_errno(tfd, 0, 1, 1, EINVAL);		/* flags */
	expect_mark_errno(tfd, 0, 1, 1U << 31, EINVAL);
	expect_mark_errno(tfd, 0, 0, 0, EINVAL);		/* empty */
	expect_mark_errno(tfd, NPAGES, 1, 0, EINVAL);		/* beyond */
	expect_mark_errno(tfd, 1, NPAGES, 0, EINVAL);		/* past the end */
	expect_mark_errno(tfd, 1, ~0ULL, 0, EINVAL);		/* overflow */
	expect_mark_errno(tfd, ~0ULL, 2, 0, EINVAL);
	errno = 0;
	assert_int_equal(ioctl(tfd, RDMIG_MARK_WRITTEN, &m), -1);	/* size */
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(ioctl(tfd, RDMIG_MARK_WRITTEN, &big), -1);
	assert_int_equal(errno, E2BIG);
	big.tail = 0;
	assert_int_equal(ioctl(tfd, RDMIG_MARK_WRITTEN, &big), 0);
	errno = 0;
	assert_int_equal(ioctl(tfd, RDMIG_MARK_WRITTEN, bad_ptr()), -1);
	assert_int_equal(errno, EFAULT);
	munmap(q, NPAGES * PG);
	munmap(p, NPAGES * PG);
	close(tfd);
	close(fd);
}

static void test_lifetime(void **state)
{
	long base = modrefs();
	int fd = new_region(RDMIG_REGION_F_TRACK);
	int tfd = ru_transfer(fd);
	struct rdmig_region_info info;
	uint32_t id;
	char *p;

	(void)state;
	assert_true(base >= 0);
	assert_true(tfd >= 0);
	assert_int_equal(ru_info(fd, &info), 0);
	id = (uint32_t)info.region_id;
	p = map(fd, NPAGES * PG);
	p[0] = 42;
	close(fd);
	close(tfd);
	/* The mapping keeps the region and the module alive. */
	assert_true(modrefs() > base);
	assert_int_equal(p[0], 42);
	p[PG] = 43;
	assert_int_equal(p[PG], 43);
	munmap(p, NPAGES * PG);
	/* fput is deferred to task work: it has run by the time we return. */
	assert_int_equal(modrefs(), base);
	(void)id;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_create_bad_input),
		cmocka_unit_test(test_mmap_rules),
		cmocka_unit_test(test_write_sets_dirty_written),
		cmocka_unit_test(test_get_and_clear),
		cmocka_unit_test(test_get_and_clear_many_words),
		cmocka_unit_test(test_get_dirty_bad_input),
		cmocka_unit_test(test_region_set),
		cmocka_unit_test(test_zero_scan),
		cmocka_unit_test(test_pagemap_ioctl),
		cmocka_unit_test(test_read_gives_guest_memory),
		cmocka_unit_test(test_transfer_view),
		cmocka_unit_test(test_mark_written),
		cmocka_unit_test(test_lifetime),
	};

	return cmocka_run_group_tests_name("region", tests, open_dev, close_dev);
}
