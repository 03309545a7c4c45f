/* SPDX-License-Identifier: GPL-2.0 */
/* Small wrappers over the region uapi shared by the in-guest programs. */
#ifndef RDMIG_TESTS_REGION_UTIL_H
#define RDMIG_TESTS_REGION_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/rdmig.h>
#include <rdmig/librdmig.h>

static inline int ru_create(int dev, uint64_t length, uint32_t flags,
			    const char *name, uint32_t *id)
{
	struct rdmig_create_region c = { .size = sizeof(c), .flags = flags,
					 .length = length };
	int fd;

	if (name)
		snprintf(c.name, sizeof(c.name), "%s", name);
	fd = ioctl(dev, RDMIG_CREATE_REGION, &c);
	if (fd >= 0 && id)
		*id = c.out_region_id;
	return fd;
}

static inline int ru_info(int fd, struct rdmig_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return ioctl(fd, RDMIG_REGION_INFO, info);
}

static inline int ru_tracking(int fd, int on)
{
	struct rdmig_region_set s = { .size = sizeof(s),
				      .flags = RDMIG_SET_TRACKING,
				      .tracking = on };

	return ioctl(fd, RDMIG_REGION_SET, &s);
}

static inline int ru_get_dirty(int fd, uint64_t first, uint64_t npages,
			       uint32_t flags, uint64_t *bitmap,
			       uint64_t *ndirty)
{
	struct rdmig_dirty_bitmap d = { .size = sizeof(d), .flags = flags,
					.first_page = first, .npages = npages,
					.bitmap = (uintptr_t)bitmap };
	int ret = ioctl(fd, RDMIG_GET_DIRTY, &d);

	if (!ret && ndirty)
		*ndirty = d.out_dirty;
	return ret;
}

/* One page's pagemap entry (librdmig's reader), ~0 on error. */
static inline uint64_t ru_pm(int fd, uint64_t page)
{
	uint64_t e = 0;

	if (rdmig_pagemap(fd, page, 1, &e))
		return ~0ULL;
	return e;
}

static inline int ru_zero_scan(int fd, uint64_t first, uint64_t npages,
			       uint32_t flags, uint64_t *zero,
			       uint64_t *reclaimed)
{
	struct rdmig_zero_scan z = { .size = sizeof(z), .flags = flags,
				     .first_page = first, .npages = npages };
	int ret = ioctl(fd, RDMIG_ZERO_SCAN, &z);

	if (!ret) {
		if (zero)
			*zero = z.out_zero_pages;
		if (reclaimed)
			*reclaimed = z.out_reclaimed_pages;
	}
	return ret;
}

static inline int ru_mark_written(int fd, uint64_t first, uint64_t npages,
				  uint32_t flags)
{
	struct rdmig_mark_written m = { .size = sizeof(m), .flags = flags,
					.first_page = first, .npages = npages };

	return ioctl(fd, RDMIG_MARK_WRITTEN, &m);
}

static inline int ru_transfer(int fd)
{
	struct rdmig_transfer t = { .size = sizeof(t) };

	return ioctl(fd, RDMIG_TRANSFER_FD, &t);
}

#endif
