// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The abtest consistency checks. The workload increments the first byte of
 * every page in order, forever; memory copied at any instant therefore
 * shows one run of "value v + 1" followed by one run of "value v". A lost
 * or stale page breaks that shape, which is what makes abtest a good
 * migration check.
 */
#include <string.h>

#include "vmm.h"

static void note_bad(struct abtest_result *r, uint64_t i)
{
	if (!r->bad)
		r->first_bad = i;
	r->bad++;
}

bool abtest_scan(const uint8_t *first, uint64_t n, struct abtest_result *r)
{
	uint8_t last;
	uint64_t i;

	memset(r, 0, sizeof(*r));
	r->pages = n;
	if (!n)
		return true;
	last = first[0];
	for (i = 1; i < n; i++) {
		uint8_t b = first[i];

		if (b == last)
			continue;
		/*
		 * The loop stopped after page i - 1 and before page i: page
		 * i is one behind. Only one such place may exist; after it,
		 * compare with the new value so a single edge is not counted
		 * again on every following page.
		 */
		if ((uint8_t)(b + 1) == last && !r->edges) {
			r->edges++;
			r->edge_at = i;
		} else {
			note_bad(r, i);
		}
		last = b;
	}
	return r->bad == 0;
}

bool abtest_exact(const uint8_t *first, uint64_t n, uint64_t pos,
		  uint64_t passes, struct abtest_result *r)
{
	uint8_t ahead = (uint8_t)(passes + 1), behind = (uint8_t)passes;
	uint64_t i;

	abtest_scan(first, n, r);
	r->bad = 0;
	r->first_bad = 0;
	if (pos > n) {
		note_bad(r, n);
		return false;
	}
	for (i = 0; i < n; i++) {
		if (first[i] != (i < pos ? ahead : behind))
			note_bad(r, i);
	}
	return r->bad == 0;
}
