/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent's view of one rdmig region: its transfer fd, mapped. Every
 * access to guest memory goes through this mapping (the transfer view,
 * which has no write notification, so pinning it marks nothing dirty).
 */
#ifndef RDMIGD_REGION_H
#define RDMIGD_REGION_H

#include <stdbool.h>
#include <stdint.h>

struct rdmig_nl;
struct rdmig_dirty_word;

struct region {
	int fd;
	struct rdmig_nl *nl;	/* bound by region_bind(), not owned */
	uint32_t id;
	uint64_t length;
	uint64_t npages;
	uint8_t *mem;
	struct rdmig_dirty_word *words;	/* sparse replies, allocated once */
};

/* Checks @fd is an rdmig transfer or region fd and maps it. */
int region_open(struct region *r, int fd, char *err, size_t errlen);
void region_close(struct region *r);
/* Binds @nl's port to the region: the netlink calls below need it. */
int region_bind(struct region *r, struct rdmig_nl *nl);
/* These return 0 (or a count) or -errno. */
int region_set_tracking(struct region *r, bool on);
/*
 * Dirty get-and-clear of [first, first + n) through the sparse reply: the
 * dirty words are ORed into @bitmap (word 0 is page @first), nothing else
 * of it is touched; returns the pages reported or -errno, and in *@added
 * (if not NULL) how many of their bits were not already set. The cost
 * follows the dirty pages, not n.
 */
int64_t region_dirty_merge(struct region *r, uint64_t first, uint64_t n,
			   uint64_t *bitmap, uint64_t *added);
/* Marks the region's all-zero WRITTEN pages ZERO (nothing given back). */
int region_zero_scan(struct region *r, uint64_t *zero);
/* @n pagemap entries from page @first; returns 0 or -errno. */
int region_pagemap(struct region *r, uint64_t first, uint64_t n,
		   uint64_t *entries);
int region_pinned_pages(struct region *r, uint64_t *pinned);

#endif
