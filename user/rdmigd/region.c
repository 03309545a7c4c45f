// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Region access. The agent drives the module over its generic netlink
 * family (tracking, dirty get-and-clear, zero scan), with its port bound
 * to each region through the transfer fd it holds (that binding is its
 * authority); the pagemap (librdmig's rdmig_pagemap()) and the region's
 * identity come from the transfer fd itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/rdmig.h>
#include <rdmig/librdmig.h>

#include "region.h"
#include "wire.h"

int region_open(struct region *r, int fd, char *err, size_t errlen)
{
	struct rdmig_region_info info = { .size = sizeof(info) };
	void *p;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if (ioctl(fd, RDMIG_REGION_INFO, &info) < 0) {
		snprintf(err, errlen, "fd %d is not an rdmig region: %s", fd,
			 strerror(errno));
		return -1;
	}
	if (!info.length || info.length % WIRE_PAGE_SIZE) {
		snprintf(err, errlen, "region %llu has a bad length %llu",
			 (unsigned long long)info.region_id,
			 (unsigned long long)info.length);
		return -1;
	}
	p = mmap(NULL, info.length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "mmap of region %llu (fd %d): %s",
			 (unsigned long long)info.region_id, fd,
			 strerror(errno));
		return -1;
	}
	r->fd = fd;
	r->id = (uint32_t)info.region_id;
	r->length = info.length;
	r->npages = info.length / WIRE_PAGE_SIZE;
	r->mem = p;
	return 0;
}

void region_close(struct region *r)
{
	if (r->mem)
		munmap(r->mem, r->length);
	r->mem = NULL;
	free(r->words);
	r->words = NULL;
}

int region_bind(struct region *r, struct rdmig_nl *nl)
{
	int rc = rdmig_bind_netlink(r->fd, rdmig_nl_fd(nl));

	if (rc)
		return rc;
	r->nl = nl;
	return 0;
}

int region_set_tracking(struct region *r, bool on)
{
	return rdmig_nl_region_set(r->nl, r->id, on, -1);
}

/*
 * The sparse reply (RDMIG_DIRTY_F_WORDS): the module walks only the words
 * its summary marks dirty and sends only the non-zero ones, so a sync of
 * a large, mostly clean region costs what its dirty pages cost, on both
 * sides; the reply says where to ask again when it was full.
 */
int64_t region_dirty_merge(struct region *r, uint64_t first, uint64_t n,
			   uint64_t *bitmap, uint64_t *added)
{
	uint64_t pos = first, end = first + n, next, total = 0, new_bits = 0;
	uint32_t nw, i;
	int64_t got;

	if (!r->words) {
		r->words = calloc(RDMIG_NL_DIRTY_WORDS_MAX, sizeof(*r->words));
		if (!r->words)
			return -ENOMEM;
	}
	while (pos < end) {
		got = rdmig_nl_dirty_get_words(r->nl, r->id, pos, end - pos,
					       true, r->words,
					       RDMIG_NL_DIRTY_WORDS_MAX, &nw,
					       &next);
		if (got < 0)
			return got;
		for (i = 0; i < nw; i++) {
			uint64_t *w = &bitmap[(pos - first) / 64 + r->words[i].index];

			new_bits += (uint64_t)__builtin_popcountll(r->words[i].bits & ~*w);
			*w |= r->words[i].bits;
		}
		total += (uint64_t)got;
		pos = next;
	}
	if (added)
		*added = new_bits;
	return (int64_t)total;
}

int region_zero_scan(struct region *r, uint64_t *zero)
{
	uint64_t reclaimed;

	return rdmig_nl_zero_scan(r->nl, r->id, 0, r->npages, false, zero,
				  &reclaimed);
}

int region_pagemap(struct region *r, uint64_t first, uint64_t n,
		   uint64_t *entries)
{
	return rdmig_pagemap(r->fd, first, n, entries);
}

int region_pinned_pages(struct region *r, uint64_t *pinned)
{
	struct rdmig_region_info info = { .size = sizeof(info) };

	if (ioctl(r->fd, RDMIG_REGION_INFO, &info) < 0)
		return -errno;
	*pinned = info.pinned_pages;
	return 0;
}
