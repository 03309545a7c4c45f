// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * librdmig, region half: thin wrappers over the ioctls of /dev/rdmig and
 * of region and transfer fds. Each fills the struct's size so that an
 * older library keeps working against a newer module.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rdmig/librdmig.h>

static int ioctl_ret(int ret)
{
	return ret < 0 ? -errno : ret;
}

int rdmig_dev_open(void)
{
	return ioctl_ret(open("/dev/" RDMIG_DEVICE_NAME, O_RDWR | O_CLOEXEC));
}

int rdmig_dev_version(int devfd, struct rdmig_version *v)
{
	memset(v, 0, sizeof(*v));
	v->size = sizeof(*v);
	return ioctl_ret(ioctl(devfd, RDMIG_GET_VERSION, v));
}

int rdmig_region_create(int devfd, const char *name, uint64_t length,
			uint32_t flags, bool map, struct rdmig_region *r)
{
	struct rdmig_create_region c = {
		.size = sizeof(c),
		.flags = flags,
		.length = length,
	};
	void *mem = NULL;
	int fd;

	if (name) {
		if (strlen(name) >= sizeof(c.name))
			return -ENAMETOOLONG;
		strcpy(c.name, name);
	}
	fd = ioctl(devfd, RDMIG_CREATE_REGION, &c);
	if (fd < 0)
		return -errno;
	if (map) {
		mem = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED,
			   fd, 0);
		if (mem == MAP_FAILED) {
			int err = -errno;

			close(fd);
			return err;
		}
	}
	r->fd = fd;
	r->id = c.out_region_id;
	r->length = length;
	r->mem = mem;
	return 0;
}

void rdmig_region_close(struct rdmig_region *r)
{
	if (r->mem)
		munmap(r->mem, r->length);
	if (r->fd >= 0)
		close(r->fd);
	r->mem = NULL;
	r->fd = -1;
}

int rdmig_transfer_fd(int region_fd)
{
	struct rdmig_transfer t = { .size = sizeof(t) };

	return ioctl_ret(ioctl(region_fd, RDMIG_TRANSFER_FD, &t));
}

int rdmig_transfer_fds(const int *region_fds, unsigned int n, int *fds)
{
	unsigned int i, j;

	for (i = 0; i < n; i++) {
		fds[i] = rdmig_transfer_fd(region_fds[i]);
		if (fds[i] < 0) {
			int ret = fds[i];

			/* all or nothing: the caller has no fd to close */
			for (j = 0; j < i; j++)
				close(fds[j]);
			return ret;
		}
	}
	return 0;
}

int rdmig_region_info(int fd, struct rdmig_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return ioctl_ret(ioctl(fd, RDMIG_REGION_INFO, info));
}

static int region_set(int fd, uint32_t flags, uint32_t tracking,
		      uint64_t watermark)
{
	struct rdmig_region_set s = {
		.size = sizeof(s),
		.flags = flags,
		.tracking = tracking,
		.dirty_watermark = watermark,
	};

	return ioctl_ret(ioctl(fd, RDMIG_REGION_SET, &s));
}

int rdmig_region_set_tracking(int fd, bool on)
{
	return region_set(fd, RDMIG_SET_TRACKING, on, 0);
}

int rdmig_region_set_watermark(int fd, uint64_t pages)
{
	return region_set(fd, RDMIG_SET_WATERMARK, 0, pages);
}

int64_t rdmig_dirty_get(int fd, uint64_t first, uint64_t npages, bool clear,
			uint64_t *bitmap)
{
	struct rdmig_dirty_bitmap d = {
		.size = sizeof(d),
		.flags = clear ? RDMIG_DIRTY_F_CLEAR : 0,
		.first_page = first,
		.npages = npages,
		.bitmap = (uintptr_t)bitmap,
	};

	if (ioctl(fd, RDMIG_GET_DIRTY, &d) < 0)
		return -errno;
	return (int64_t)d.out_dirty;
}

int64_t rdmig_dirty_get_words(int fd, uint64_t first, uint64_t npages,
			      bool clear, struct rdmig_dirty_word *words,
			      uint32_t max_words, uint32_t *nwords,
			      uint64_t *next)
{
	struct rdmig_dirty_words d = {
		.size = sizeof(d),
		.flags = clear ? RDMIG_DIRTY_F_CLEAR : 0,
		.first_page = first,
		.npages = npages,
		.words = (uintptr_t)words,
		.max_words = max_words,
	};

	if (ioctl(fd, RDMIG_GET_DIRTY_WORDS, &d) < 0)
		return -errno;
	if (nwords)
		*nwords = d.out_nwords;
	if (next)
		*next = d.out_next_page;
	return (int64_t)d.out_dirty;
}

int rdmig_zero_scan(int fd, uint64_t first, uint64_t npages, bool reclaim,
		    uint64_t *zero, uint64_t *reclaimed)
{
	struct rdmig_zero_scan z = {
		.size = sizeof(z),
		.flags = reclaim ? RDMIG_ZERO_F_RECLAIM : 0,
		.first_page = first,
		.npages = npages,
	};

	if (ioctl(fd, RDMIG_ZERO_SCAN, &z) < 0)
		return -errno;
	if (zero)
		*zero = z.out_zero_pages;
	if (reclaimed)
		*reclaimed = z.out_reclaimed_pages;
	return 0;
}

int rdmig_mark_written(int fd, uint64_t first, uint64_t npages)
{
	struct rdmig_mark_written m = {
		.size = sizeof(m),
		.first_page = first,
		.npages = npages,
	};

	return ioctl_ret(ioctl(fd, RDMIG_MARK_WRITTEN, &m));
}

int rdmig_mark_dirty(int region_fd, uint64_t first, uint64_t npages)
{
	struct rdmig_mark_dirty m = {
		.size = sizeof(m),
		.first_page = first,
		.npages = npages,
	};

	return ioctl_ret(ioctl(region_fd, RDMIG_MARK_DIRTY, &m));
}

int rdmig_pagemap(int fd, uint64_t first, uint64_t n, uint64_t *entries)
{
	struct rdmig_pagemap pm = {
		.size = sizeof(pm),
		.first_page = first,
		.npages = n,
		.entries = (uintptr_t)entries,
	};
	int ret;

	do
		ret = ioctl(fd, RDMIG_PAGEMAP, &pm);
	while (ret < 0 && errno == EINTR);
	return ioctl_ret(ret);
}

int rdmig_bind_netlink(int transfer_fd, int sock_fd)
{
	struct rdmig_bind b = { .size = sizeof(b), .sock_fd = sock_fd };

	return ioctl_ret(ioctl(transfer_fd, RDMIG_BIND_NETLINK, &b));
}
