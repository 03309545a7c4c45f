// SPDX-License-Identifier: GPL-2.0-or-later
/* Checks on a paused VM; each records its outcome in the report. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rdmig.h>

#include "migrate.h"
#include "verify.h"

/* Idle and random VMs start with the pattern; idle ones must keep it. */
static bool check_pattern(struct run *r, char *why, size_t len)
{
	const struct wl_state *wl = &r->vm->wl;
	uint64_t g, *pm;
	bool ok = true;

	pm = calloc(1, sizeof(*pm));
	if (!pm)
		return false;
	for (g = 0; g < wl->touch_pages && ok; g++) {
		const uint64_t *p;
		unsigned int w;

		if (ram_pagemap(&r->vm->ram, g, 1, pm) < 0 ||
		    !(*pm & RDMIG_PM_PRESENT)) {
			snprintf(why, len, "guest page %" PRIu64 " is absent", g);
			ok = false;
			break;
		}
		p = (const uint64_t *)ram_page(&r->vm->ram, g);
		for (w = 0; w < VMM_PAGE_SIZE / 8; w++) {
			if (p[w] != wl_pattern(wl->seed, g, w)) {
				snprintf(why, len, "guest page %" PRIu64 " word %u differs", g, w);
				ok = false;
				break;
			}
		}
	}
	free(pm);
	return ok;
}

bool check_workload(struct run *r, const char *when)
{
	char why[512] = "", key[64];
	struct abtest_result res;
	bool ok = true;
	int ret;

	snprintf(key, sizeof(key), "check_%s", when);
	if (r->vm->wl.kind == WL_ABTEST) {
		ret = verify_abtest(r->vm, true, &res, why, sizeof(why));
		ok = ret == 0;
		if (ret < 0)
			snprintf(why, sizeof(why), "cannot read memory: %s", strerror(-ret));
		report_set_str(r, "abtest", ok ? "ok" : "corrupt");
	} else if (r->vm->wl.kind == WL_IDLE) {
		ok = check_pattern(r, why, sizeof(why));
	}
	if (ok) {
		report_set_str(r, key, "ok");
	} else {
		report_set_str(r, key, why);
		say(r, "CHECK FAILED (%s): %s", when, why);
	}
	return ok;
}

bool check_pins_released(struct run *r)
{
	int64_t pinned = ram_pinned_pages(&r->vm->ram);

	report_set_u64(r, "pinned_pages_after", pinned < 0 ? 0 : (uint64_t)pinned);
	if (pinned != 0)
		say(r, "CHECK FAILED: %lld pages still pinned", (long long)pinned);
	return pinned == 0;
}

/*
 * After a failed migration no region may be left tracking: the report's
 * tracking_after_failure is what the regions say (REGION_INFO), read
 * after rdmig-vmm turned tracking off itself.
 */
bool check_tracking_off(struct run *r)
{
	int n = ram_tracked_regions(&r->vm->ram);

	report_set_bool(r, "tracking_after_failure", n != 0);
	if (n != 0)
		say(r, "CHECK FAILED: %d region(s) still tracking dirty pages", n);
	return n == 0;
}

bool check_advanced(struct run *r, uint64_t writes_before)
{
	uint64_t now = vm_writes(r->vm);
	bool ok = r->vm->wl.kind == WL_IDLE || now > writes_before;

	report_set_u64(r, "workload_writes", now - writes_before);
	report_set_bool(r, "workload_advanced", ok);
	if (!ok)
		say(r, "CHECK FAILED: the workload did not advance");
	return ok;
}

bool write_hashes(struct run *r)
{
	uint64_t ms = 0;
	int ret;

	if (!r->o->hashes)
		return true;
	ret = verify_write(&r->vm->ram, r->o->hashes, &ms);
	report_set_u64(r, "hash_ms", ms);
	if (ret < 0)
		say(r, "cannot write hashes to %s: %s", r->o->hashes, strerror(-ret));
	else
		say(r, "memory hashes in %s (%llu ms)", r->o->hashes,
		    (unsigned long long)ms);
	return ret == 0;
}
