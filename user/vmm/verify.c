// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Verification: per-region hashes of guest memory and the abtest check.
 *
 * The hash covers content, not allocation: a page that is absent on one
 * side and allocated but zero on the other (the destination registers
 * whole chunks) is the same memory. So every non-zero page is fed as
 * (page number, 4 KiB) and zero pages are left out; equal hashes mean
 * byte-for-byte equal regions. Absent pages are found with the pagemap
 * and never touched, so a 4 GiB region with 64 MiB written costs 64 MiB.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>
#include <linux/rdmig.h>

#include "verify.h"

#define PM_BATCH 4096

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;
	size_t i;

	for (i = 0; i < VMM_PAGE_SIZE / 8; i++)
		if (w[i])
			return false;
	return true;
}

int verify_hash_region(const struct vmm_ram *ram, unsigned int i,
		       struct region_hash *h)
{
	const struct vmm_region *r = &ram->r[i];
	uint64_t npages = r->length / VMM_PAGE_SIZE, p, k, *pm;
	XXH3_state_t *st;
	XXH128_hash_t d;
	int ret = 0;

	memset(h, 0, sizeof(*h));
	pm = malloc(PM_BATCH * sizeof(*pm));
	st = XXH3_createState();
	if (!pm || !st) {
		ret = -ENOMEM;
		goto out;
	}
	XXH3_128bits_reset(st);
	for (p = 0; p < npages; p += PM_BATCH) {
		uint64_t n = npages - p < PM_BATCH ? npages - p : PM_BATCH;

		ret = ram_pagemap(ram, r->first_page + p, n, pm);
		if (ret < 0)
			goto out;
		for (k = 0; k < n; k++) {
			const uint8_t *page = r->mem + (p + k) * VMM_PAGE_SIZE;
			uint64_t idx = p + k;
			uint8_t le[8];
			int b;

			if (!(pm[k] & RDMIG_PM_PRESENT))
				continue;
			h->present++;
			if (page_is_zero(page))
				continue;
			for (b = 0; b < 8; b++)
				le[b] = idx >> (8 * b);
			XXH3_128bits_update(st, le, sizeof(le));
			XXH3_128bits_update(st, page, VMM_PAGE_SIZE);
			h->nonzero++;
		}
	}
	d = XXH3_128bits_digest(st);
	h->hi = d.high64;
	h->lo = d.low64;
	h->length = r->length;
out:
	XXH3_freeState(st);
	free(pm);
	return ret;
}

int verify_write(const struct vmm_ram *ram, const char *path,
		 uint64_t *ms_out)
{
	uint64_t t0 = now_ns();
	unsigned int i;
	char tmp[4096];
	FILE *f;
	int ret = 0;

	/* Written whole and renamed, so a reader never sees half a file. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	for (i = 0; i < ram->nr; i++) {
		struct region_hash h;

		ret = verify_hash_region(ram, i, &h);
		if (ret < 0)
			break;
		fprintf(f, "region %u bytes %" PRIu64 " nonzero_pages %" PRIu64
			" xxh3_128 %016" PRIx64 "%016" PRIx64 "\n",
			i, h.length, h.nonzero, h.hi, h.lo);
	}
	if (fclose(f) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	if (ms_out)
		*ms_out = (now_ns() - t0) / 1000000;
	return ret;
}

int verify_compare(const char *a, const char *b, char *why, size_t len)
{
	FILE *fa = fopen(a, "r"), *fb = fopen(b, "r");
	char la[256], lb[256];
	int line = 0, ret = 0;

	if (!fa || !fb) {
		snprintf(why, len, "cannot open %s", !fa ? a : b);
		ret = -ENOENT;
		goto out;
	}
	for (;;) {
		char *ra = fgets(la, sizeof(la), fa), *rb = fgets(lb, sizeof(lb), fb);

		line++;
		if (!ra && !rb)
			break;
		if (!ra || !rb || strcmp(la, lb)) {
			snprintf(why, len, "hash line %d differs: %s vs %s", line,
				 ra ? strtok(la, "\n") : "(none)",
				 rb ? strtok(lb, "\n") : "(none)");
			ret = 1;
			break;
		}
	}
out:
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return ret;
}

int verify_abtest(const struct vm *vm, bool exact, struct abtest_result *res,
		  char *why, size_t len)
{
	const struct wl_state *wl = &vm->wl;
	uint64_t *pm = NULL, maxn = 0, p;
	uint8_t *first = NULL;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < wl->nr_vcpus; i++)
		if (wl->vcpu[i].end - wl->vcpu[i].start > maxn)
			maxn = wl->vcpu[i].end - wl->vcpu[i].start;
	first = malloc(maxn ? maxn : 1);
	pm = malloc((maxn ? maxn : 1) * sizeof(*pm));
	if (!first || !pm) {
		ret = -ENOMEM;
		goto out;
	}
	memset(res, 0, sizeof(*res));
	for (i = 0; i < wl->nr_vcpus; i++) {
		const struct wl_vcpu *v = &wl->vcpu[i];
		uint64_t n = v->end - v->start;
		struct abtest_result r;
		bool ok;

		ret = ram_pagemap(&vm->ram, v->start, n, pm);
		if (ret < 0)
			goto out;
		/* An absent page holds zero; reading it would allocate it. */
		for (p = 0; p < n; p++)
			first[p] = (pm[p] & RDMIG_PM_PRESENT) ?
				   *ram_page(&vm->ram, v->start + p) : 0;
		ok = exact ? abtest_exact(first, n, v->pos - v->start,
					  v->passes, &r)
			   : abtest_scan(first, n, &r);
		res->pages += r.pages;
		res->edges += r.edges;
		if (!ok) {
			if (!res->bad)
				snprintf(why, len,
					 "vcpu %u: %" PRIu64 " bad pages, first at guest page %"
					 PRIu64 " (byte %u, position %" PRIu64
					 ", passes %" PRIu64 ")",
					 i, r.bad, v->start + r.first_bad,
					 first[r.first_bad < n ? r.first_bad : 0],
					 v->pos, v->passes);
			res->bad += r.bad;
		}
	}
	ret = res->bad ? 1 : 0;
out:
	free(first);
	free(pm);
	return ret;
}
