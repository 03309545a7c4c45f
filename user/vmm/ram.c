// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Guest RAM as rdmig regions. A real VMM has several RAM blocks (below
 * and above the PCI hole, hotplugged DIMMs); each is one region here, and
 * the guest's page numbers run through them in order.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rdmig/librdmig.h>

#include "vmm.h"

int ram_create(struct vmm_ram *ram, const uint64_t *sizes, unsigned int nr,
	       const char *prefix)
{
	uint64_t first = 0;
	unsigned int i;
	int devfd, ret = 0;

	memset(ram, 0, sizeof(*ram));
	if (!nr || nr > VMM_MAX_REGIONS)
		return -EINVAL;
	devfd = rdmig_dev_open();
	if (devfd < 0)
		return devfd;
	for (i = 0; i < nr; i++) {
		struct rdmig_region r;
		char name[RDMIG_NAME_LEN];

		snprintf(name, sizeof(name), "%s-ram%u", prefix, i);
		/*
		 * Tracking is left to rdmigd, which turns it on when the
		 * migration starts: a VM that never migrates pays nothing.
		 */
		ret = rdmig_region_create(devfd, name, sizes[i], 0, true, &r);
		if (ret < 0)
			break;
		ram->r[i].fd = r.fd;
		ram->r[i].id = r.id;
		ram->r[i].length = r.length;
		ram->r[i].mem = r.mem;
		ram->r[i].first_page = first;
		first += r.length / VMM_PAGE_SIZE;
		ram->nr = i + 1;
	}
	close(devfd);
	ram->pages = first;
	if (ret < 0)
		ram_destroy(ram);
	return ret;
}

void ram_destroy(struct vmm_ram *ram)
{
	unsigned int i;

	for (i = 0; i < ram->nr; i++) {
		struct rdmig_region r = {
			.fd = ram->r[i].fd,
			.id = ram->r[i].id,
			.length = ram->r[i].length,
			.mem = ram->r[i].mem,
		};

		rdmig_region_close(&r);
	}
	ram->nr = 0;
}

int ram_transfer_fds(const struct vmm_ram *ram, int *fds)
{
	int rfds[VMM_MAX_REGIONS];
	unsigned int i;

	for (i = 0; i < ram->nr; i++)
		rfds[i] = ram->r[i].fd;
	return rdmig_transfer_fds(rfds, ram->nr, fds);
}

int64_t ram_pinned_pages(const struct vmm_ram *ram)
{
	struct rdmig_region_info info;
	int64_t sum = 0;
	unsigned int i;
	int ret;

	for (i = 0; i < ram->nr; i++) {
		ret = rdmig_region_info(ram->r[i].fd, &info);
		if (ret < 0)
			return ret;
		sum += info.pinned_pages;
	}
	return sum;
}

/*
 * rdmigd turns tracking off when it ends cleanly; an agent that was
 * SIGKILLed leaves it on, and then every guest write faults and the
 * module keeps a dirty bitmap nobody reads. The VMM holds the guest
 * view, so it can turn it off itself. Returns the first error, having
 * tried every region.
 */
int ram_tracking_off(const struct vmm_ram *ram)
{
	unsigned int i;
	int ret = 0, err;

	for (i = 0; i < ram->nr; i++) {
		err = rdmig_region_set_tracking(ram->r[i].fd, false);
		if (err < 0 && !ret)
			ret = err;
	}
	return ret;
}

int ram_tracked_regions(const struct vmm_ram *ram)
{
	struct rdmig_region_info info;
	unsigned int i;
	int n = 0, ret;

	for (i = 0; i < ram->nr; i++) {
		ret = rdmig_region_info(ram->r[i].fd, &info);
		if (ret < 0)
			return ret;
		n += !!(info.flags & RDMIG_INFO_F_TRACKING);
	}
	return n;
}

int ram_pagemap(const struct vmm_ram *ram, uint64_t g, uint64_t n,
		uint64_t *entries)
{
	while (n) {
		unsigned int i = ram->nr - 1;
		uint64_t off, cnt;
		int ret;

		while (i > 0 && g < ram->r[i].first_page)
			i--;
		off = g - ram->r[i].first_page;
		cnt = ram->r[i].length / VMM_PAGE_SIZE - off;
		if (cnt > n)
			cnt = n;
		ret = rdmig_pagemap(ram->r[i].fd, off, cnt, entries);
		if (ret < 0)
			return ret;
		g += cnt;
		n -= cnt;
		entries += cnt;
	}
	return 0;
}
