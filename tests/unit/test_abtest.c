// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmig-vmm's checks must catch what a broken migration does to memory:
 * a stale page, a lost page, a page from another pass. And the workload
 * position that travels as device state must survive the trip exactly,
 * while a state that would make a vCPU write outside its RAM is refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../user/vmm/vmm.h"

#define N 1000

/* Memory as plain pages, for the workload's page callback. */
struct mem {
	uint8_t *base;
};

static uint8_t *page_of(void *ctx, uint64_t g)
{
	return ((struct mem *)ctx)->base + g * VMM_PAGE_SIZE;
}

static void firsts(const struct mem *m, uint64_t start, uint64_t n, uint8_t *out)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		out[i] = m->base[(start + i) * VMM_PAGE_SIZE];
}

static void setup_abtest(struct wl_state *st, struct mem *m, unsigned int vcpus,
			 uint64_t pages)
{
	memset(st, 0, sizeof(*st));
	st->kind = WL_ABTEST;
	st->seed = 7;
	st->touch_pages = pages;
	st->nr_regions = 1;
	st->region_bytes[0] = pages * VMM_PAGE_SIZE;
	st->nr_vcpus = vcpus;
	wl_init(st);
	m->base = calloc(pages, VMM_PAGE_SIZE);
	assert_non_null(m->base);
}

static void test_scan_accepts_one_edge(void **s)
{
	uint8_t b[N];
	struct abtest_result r;

	(void)s;
	memset(b, 5, N);
	assert_true(abtest_scan(b, N, &r));
	assert_int_equal(r.edges, 0);
	memset(b, 6, 300);
	assert_true(abtest_scan(b, N, &r));
	assert_int_equal(r.edges, 1);
	assert_int_equal(r.edge_at, 300);
	/* Wrap-around: 0 after 255 is one step of +1 too. */
	memset(b, 0, 10);
	memset(b + 10, 255, N - 10);
	assert_true(abtest_scan(b, N, &r));
}

static void test_scan_detects_corruption(void **s)
{
	uint8_t b[N];
	struct abtest_result r;

	(void)s;
	/* A stale page in the middle of the "behind" run. */
	memset(b, 6, 300);
	memset(b + 300, 5, N - 300);
	b[700] = 4;
	assert_false(abtest_scan(b, N, &r));
	assert_int_equal(r.first_bad, 700);
	/* Two edges: the loop cannot be in two places. */
	memset(b, 7, 100);
	memset(b + 100, 6, 200);
	memset(b + 300, 5, N - 300);
	assert_false(abtest_scan(b, N, &r));
	/* A page ahead of the loop (written twice, or from the future). */
	memset(b, 5, N);
	b[500] = 6;
	assert_false(abtest_scan(b, N, &r));
	/* A jump of two. */
	memset(b, 5, N);
	memset(b, 7, 10);
	assert_false(abtest_scan(b, N, &r));
	/* A zeroed page (lost in transfer). */
	memset(b, 9, N);
	b[999] = 0;
	assert_false(abtest_scan(b, N, &r));
}

static void test_exact_needs_the_position(void **s)
{
	uint8_t b[N];
	struct abtest_result r;

	(void)s;
	memset(b, 3, 400);
	memset(b + 400, 2, N - 400);
	assert_true(abtest_exact(b, N, 400, 2, &r));
	/* Shape is fine for QEMU's check, but not where the vCPU says. */
	assert_false(abtest_exact(b, N, 401, 2, &r));
	assert_false(abtest_exact(b, N, 400, 3, &r));
	assert_false(abtest_exact(b, N, N + 1, 2, &r));
}

static void test_workload_keeps_the_shape(void **s)
{
	struct wl_state st;
	struct mem m;
	uint8_t b[N];
	struct abtest_result r;
	unsigned int i, k;

	(void)s;
	setup_abtest(&st, &m, 3, N);
	for (k = 0; k < 50; k++) {
		for (i = 0; i < 3; i++) {
			struct wl_vcpu *v = &st.vcpu[i];

			wl_step(&st, v, page_of, &m, 37 + 11 * i);
			firsts(&m, v->start, v->end - v->start, b);
			assert_true(abtest_scan(b, v->end - v->start, &r));
			assert_true(abtest_exact(b, v->end - v->start,
						 v->pos - v->start, v->passes, &r));
		}
	}
	/* Slices cover the pages exactly once. */
	assert_int_equal(st.vcpu[0].start, 0);
	assert_int_equal(st.vcpu[0].end, st.vcpu[1].start);
	assert_int_equal(st.vcpu[1].end, st.vcpu[2].start);
	assert_int_equal(st.vcpu[2].end, N);
	/* A lost write is caught by the exact check. */
	m.base[(st.vcpu[1].start + 1) * VMM_PAGE_SIZE] ^= 1;
	firsts(&m, st.vcpu[1].start, st.vcpu[1].end - st.vcpu[1].start, b);
	assert_false(abtest_exact(b, st.vcpu[1].end - st.vcpu[1].start,
				  st.vcpu[1].pos - st.vcpu[1].start,
				  st.vcpu[1].passes, &r));
	free(m.base);
}

static void test_state_round_trip_resumes_exactly(void **s)
{
	struct wl_state a, b;
	struct mem m, m2;
	char err[256], *enc;
	unsigned int i;

	(void)s;
	setup_abtest(&a, &m, 4, N);
	a.kind = WL_RANDOM;
	a.rate = 12345;
	a.seed = UINT64_MAX - 3;	/* beyond what a double holds */
	for (i = 0; i < 4; i++)
		wl_step(&a, &a.vcpu[i], page_of, &m, 100 + i);
	a.vcpu[2].passes = 77;
	enc = wl_encode(&a);
	assert_non_null(enc);
	assert_int_equal(wl_decode(enc, strlen(enc), &b, err, sizeof(err)), 0);
	assert_int_equal(b.kind, WL_RANDOM);
	assert_true(b.seed == a.seed);
	assert_int_equal(b.rate, 12345);
	assert_int_equal(b.nr_vcpus, 4);
	for (i = 0; i < 4; i++) {
		assert_true(b.vcpu[i].rng == a.vcpu[i].rng);
		assert_int_equal(b.vcpu[i].pos, a.vcpu[i].pos);
		assert_int_equal(b.vcpu[i].passes, a.vcpu[i].passes);
		assert_int_equal(b.vcpu[i].writes, a.vcpu[i].writes);
		assert_int_equal(b.vcpu[i].start, a.vcpu[i].start);
		assert_int_equal(b.vcpu[i].end, a.vcpu[i].end);
	}
	/* Both continue with the very same writes. */
	m2.base = malloc((size_t)N * VMM_PAGE_SIZE);
	assert_non_null(m2.base);
	memcpy(m2.base, m.base, (size_t)N * VMM_PAGE_SIZE);
	for (i = 0; i < 4; i++) {
		wl_step(&a, &a.vcpu[i], page_of, &m, 500);
		wl_step(&b, &b.vcpu[i], page_of, &m2, 500);
	}
	assert_memory_equal(m.base, m2.base, (size_t)N * VMM_PAGE_SIZE);
	free(enc);
	free(m.base);
	free(m2.base);
}

static void expect_refused(const char *json)
{
	struct wl_state st;
	char err[256];

	assert_int_equal(wl_decode(json, strlen(json), &st, err, sizeof(err)), -EINVAL);
	assert_true(err[0] != '\0');
}

static void test_state_refuses_bad_input(void **s)
{
	(void)s;
	expect_refused("");
	expect_refused("{}");
	expect_refused("not json");
	expect_refused("[1,2]");
	/* Position beyond the slice: would write outside guest RAM. */
	expect_refused("{\"format\":\"rdmig-vmm-state\",\"version\":1,\"workload\":\"abtest\","
		       "\"seed\":\"1\",\"rate\":0,\"touch_pages\":16,\"regions\":[65536],"
		       "\"vcpus\":[{\"start\":0,\"end\":16,\"pos\":16,\"passes\":0,\"rng\":\"1\",\"writes\":0}]}");
	/* Slice beyond the used pages. */
	expect_refused("{\"format\":\"rdmig-vmm-state\",\"version\":1,\"workload\":\"abtest\","
		       "\"seed\":\"1\",\"rate\":0,\"touch_pages\":16,\"regions\":[65536],"
		       "\"vcpus\":[{\"start\":0,\"end\":17,\"pos\":0,\"passes\":0,\"rng\":\"1\",\"writes\":0}]}");
	/* Used pages beyond the RAM. */
	expect_refused("{\"format\":\"rdmig-vmm-state\",\"version\":1,\"workload\":\"abtest\","
		       "\"seed\":\"1\",\"rate\":0,\"touch_pages\":17,\"regions\":[65536],"
		       "\"vcpus\":[{\"start\":0,\"end\":16,\"pos\":0,\"passes\":0,\"rng\":\"1\",\"writes\":0}]}");
	/* Unknown version, workload, negative numbers, trailing garbage. */
	expect_refused("{\"format\":\"rdmig-vmm-state\",\"version\":2,\"workload\":\"abtest\","
		       "\"seed\":\"1\",\"rate\":0,\"touch_pages\":16,\"regions\":[65536],"
		       "\"vcpus\":[{\"start\":0,\"end\":16,\"pos\":0,\"passes\":0,\"rng\":\"1\",\"writes\":0}]}");
	expect_refused("{\"format\":\"rdmig-vmm-state\",\"version\":1,\"workload\":\"spin\","
		       "\"seed\":\"1\",\"rate\":0,\"touch_pages\":16,\"regions\":[65536],"
		       "\"vcpus\":[{\"start\":0,\"end\":16,\"pos\":0,\"passes\":0,\"rng\":\"1\",\"writes\":0}]}");
	expect_refused("{\"format\":\"rdmig-vmm-state\",\"version\":1,\"workload\":\"abtest\","
		       "\"seed\":\"1\",\"rate\":-5,\"touch_pages\":16,\"regions\":[65536],"
		       "\"vcpus\":[{\"start\":0,\"end\":16,\"pos\":0,\"passes\":0,\"rng\":\"1\",\"writes\":0}]}");
	expect_refused("{\"format\":\"rdmig-vmm-state\",\"version\":1,\"workload\":\"abtest\","
		       "\"seed\":\"1\",\"rate\":0,\"touch_pages\":16,\"regions\":[65536],"
		       "\"vcpus\":[{\"start\":0,\"end\":16,\"pos\":0,\"passes\":0,\"rng\":\"1\",\"writes\":0}]}xyz");
	/* A region size that is not whole pages. */
	expect_refused("{\"format\":\"rdmig-vmm-state\",\"version\":1,\"workload\":\"abtest\","
		       "\"seed\":\"1\",\"rate\":0,\"touch_pages\":16,\"regions\":[65537],"
		       "\"vcpus\":[{\"start\":0,\"end\":16,\"pos\":0,\"passes\":0,\"rng\":\"1\",\"writes\":0}]}");
}

static void test_state_accepts_valid(void **s)
{
	const char *ok = "{\"format\":\"rdmig-vmm-state\",\"version\":1,\"workload\":\"abtest\","
		"\"seed\":\"1\",\"rate\":0,\"touch_pages\":16,\"regions\":[65536],"
		"\"vcpus\":[{\"start\":0,\"end\":16,\"pos\":15,\"passes\":3,\"rng\":\"1\",\"writes\":51}]}\n";
	struct wl_state st;
	char err[256];

	(void)s;
	assert_int_equal(wl_decode(ok, strlen(ok), &st, err, sizeof(err)), 0);
	assert_int_equal(st.vcpu[0].pos, 15);
	assert_int_equal(st.vcpu[0].passes, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_accepts_one_edge),
		cmocka_unit_test(test_scan_detects_corruption),
		cmocka_unit_test(test_exact_needs_the_position),
		cmocka_unit_test(test_workload_keeps_the_shape),
		cmocka_unit_test(test_state_round_trip_resumes_exactly),
		cmocka_unit_test(test_state_refuses_bad_input),
		cmocka_unit_test(test_state_accepts_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
