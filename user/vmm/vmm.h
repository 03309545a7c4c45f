/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rdmig-vmm: the reference VMM. Guest RAM is a set of rdmig regions, vCPU
 * threads run a workload on it, and rdmigd moves it to another host.
 *
 * This header is split by what needs the kernel: workload.c and abtest.c
 * only see plain memory (and are unit-tested on the host), ram.c, verify.c,
 * agent.c and main.c talk to rdmig.ko and rdmigd.
 */
#ifndef RDMIG_VMM_H
#define RDMIG_VMM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/types.h>

#define VMM_PAGE_SIZE	4096UL
#define VMM_MAX_REGIONS	16
#define VMM_MAX_VCPUS	64

/* ---- guest RAM ---------------------------------------------------------- */

struct vmm_region {
	int fd;			/* guest view, owned */
	uint32_t id;
	uint64_t length;
	uint64_t first_page;	/* guest page number of this region's page 0 */
	uint8_t *mem;
};

struct vmm_ram {
	unsigned int nr;
	struct vmm_region r[VMM_MAX_REGIONS];
	uint64_t pages;		/* total */
};

/* Maps guest page @g to its address; g < ram->pages. */
static inline uint8_t *ram_page(const struct vmm_ram *ram, uint64_t g)
{
	unsigned int i = ram->nr - 1;

	while (i > 0 && g < ram->r[i].first_page)
		i--;
	return ram->r[i].mem + (g - ram->r[i].first_page) * VMM_PAGE_SIZE;
}

int ram_create(struct vmm_ram *ram, const uint64_t *sizes, unsigned int nr,
	       const char *prefix);
void ram_destroy(struct vmm_ram *ram);
/* Transfer-view fds for rdmigd, in region order; caller closes them. */
int ram_transfer_fds(const struct vmm_ram *ram, int *fds);
/* Sum of pinned pages over all regions, or -errno. */
int64_t ram_pinned_pages(const struct vmm_ram *ram);
/* Dirty tracking off on every region (after a failed migration): 0 or -errno. */
int ram_tracking_off(const struct vmm_ram *ram);
/* How many regions have dirty tracking on, or -errno. */
int ram_tracked_regions(const struct vmm_ram *ram);
/* Is guest page @g allocated? Unallocated pages read as zero. */
int ram_pagemap(const struct vmm_ram *ram, uint64_t g, uint64_t n,
		uint64_t *entries);

/* ---- workloads (workload.c) -------------------------------------------- */

enum wl_kind { WL_IDLE, WL_ABTEST, WL_RANDOM, WL_ZEROTOGGLE };

/*
 * What a vCPU is doing, and all of what moves with the VM as device state:
 * the destination resumes each vCPU exactly here.
 */
struct wl_vcpu {
	uint64_t start, end;	/* guest pages [start, end) of its slice */
	uint64_t pos;		/* abtest, zerotoggle: next page to write */
	uint64_t passes;	/* abtest, zerotoggle: completed passes over the slice */
	uint64_t rng;		/* random: xorshift64 state, never 0 */
	uint64_t writes;	/* pages written since boot */
};

struct wl_state {
	enum wl_kind kind;
	uint64_t seed;
	uint64_t rate;		/* pages/s for the whole VM; 0 = unlimited */
	uint64_t touch_pages;	/* pages the workload uses, from page 0 */
	unsigned int nr_regions;
	uint64_t region_bytes[VMM_MAX_REGIONS];
	unsigned int nr_vcpus;
	struct wl_vcpu vcpu[VMM_MAX_VCPUS];
};

const char *wl_kind_name(enum wl_kind k);
int wl_kind_parse(const char *s, enum wl_kind *k);
/* Splits [0, touch_pages) into nr_vcpus slices and seeds the state. */
void wl_init(struct wl_state *st);
/* Fills [start, end) with the fixed pattern of (seed, page). */
void wl_fill(uint8_t *(*page)(void *ctx, uint64_t g), void *ctx,
	     uint64_t seed, uint64_t start, uint64_t end);
/* Pattern word @w of guest page @g: what idle/random content starts as. */
uint64_t wl_pattern(uint64_t seed, uint64_t g, unsigned int w);
/* Runs up to @n steps of vCPU @v's workload; returns pages written. */
uint64_t wl_step(const struct wl_state *st, struct wl_vcpu *v,
		 uint8_t *(*page)(void *ctx, uint64_t g), void *ctx,
		 uint64_t n);

/*
 * Device state: a JSON document (text, so an operator can read it).
 * wl_encode returns a malloc'ed NUL-terminated string or NULL (ENOMEM);
 * wl_decode checks every field and range and returns 0 or -EINVAL, with
 * a reason in @err.
 */
char *wl_encode(const struct wl_state *st);
int wl_decode(const char *buf, size_t len, struct wl_state *st,
	      char *err, size_t errlen);

/* ---- abtest consistency (abtest.c) ------------------------------------ */

struct abtest_result {
	uint64_t pages;
	uint64_t edges;		/* places where the byte drops by one */
	uint64_t edge_at;	/* first page after the (first) edge */
	uint64_t bad;		/* pages breaking the rule */
	uint64_t first_bad;	/* index of the first bad page */
};

/*
 * QEMU's migration-test check over the first bytes of a slice's pages, in
 * page order: every byte equals its predecessor except at most one place
 * where it is one less (mod 256), the point the incrementing loop reached.
 * Returns true when consistent.
 */
bool abtest_scan(const uint8_t *first, uint64_t n, struct abtest_result *r);
/*
 * The stronger check a migrated VM allows, since its device state says
 * where the loop was: pages before @pos hold passes + 1, pages from @pos
 * on hold passes (mod 256). Returns true when memory matches.
 */
bool abtest_exact(const uint8_t *first, uint64_t n, uint64_t pos,
		  uint64_t passes, struct abtest_result *r);

#endif /* RDMIG_VMM_H */
