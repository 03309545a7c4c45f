// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The workloads a vCPU runs, and their state as device state.
 *
 *  idle:   the used pages get a fixed pattern once, then nothing changes;
 *  abtest: QEMU's migration test: increment the first byte of every page
 *          of the vCPU's slice in order, forever;
 *  random: the pattern, then 8-byte writes into random pages of the slice.
 *  zerotoggle: the pattern, then whole pages of the slice in order, pass
 *          after pass: even passes write zeroes, odd ones a non-zero
 *          page. A page the source sent is then all zero in one round
 *          (a zero range) and written again in a later one, the case
 *          of protocol.md's BARRIER rule ("Several QPs", rule 2); and
 *          the pages of the pass in progress and those of the one before
 *          it differ, so part of the slice is non-zero at a pause.
 *
 * Everything a vCPU needs to continue lives in struct wl_vcpu, so a
 * destination resumes the exact sequence the source would have run.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "vmm.h"

#define WL_FORMAT	"rdmig-vmm-state"
#define WL_VERSION	1

static const char *const kind_names[] = {
	[WL_IDLE] = "idle",
	[WL_ABTEST] = "abtest",
	[WL_RANDOM] = "random",
	[WL_ZEROTOGGLE] = "zerotoggle",
};

#define WL_KINDS	(sizeof(kind_names) / sizeof(kind_names[0]))

const char *wl_kind_name(enum wl_kind k)
{
	return (unsigned int)k < WL_KINDS ? kind_names[k] : "?";
}

int wl_kind_parse(const char *s, enum wl_kind *k)
{
	unsigned int i;

	for (i = 0; i < WL_KINDS; i++) {
		if (!strcmp(s, kind_names[i])) {
			*k = i;
			return 0;
		}
	}
	return -EINVAL;
}

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

uint64_t wl_pattern(uint64_t seed, uint64_t g, unsigned int w)
{
	return splitmix64(seed ^ (g * (VMM_PAGE_SIZE / 8) + w));
}

void wl_init(struct wl_state *st)
{
	unsigned int i, n = st->nr_vcpus;

	for (i = 0; i < n; i++) {
		struct wl_vcpu *v = &st->vcpu[i];

		memset(v, 0, sizeof(*v));
		v->start = st->touch_pages * i / n;
		v->end = st->touch_pages * (i + 1) / n;
		v->pos = v->start;
		v->rng = splitmix64(st->seed + i) | 1;
	}
}

void wl_fill(uint8_t *(*page)(void *ctx, uint64_t g), void *ctx,
	     uint64_t seed, uint64_t start, uint64_t end)
{
	uint64_t g;
	unsigned int w;

	for (g = start; g < end; g++) {
		uint64_t *p = (uint64_t *)page(ctx, g);

		for (w = 0; w < VMM_PAGE_SIZE / 8; w++)
			p[w] = wl_pattern(seed, g, w);
	}
}

uint64_t wl_step(const struct wl_state *st, struct wl_vcpu *v,
		 uint8_t *(*page)(void *ctx, uint64_t g), void *ctx,
		 uint64_t n)
{
	uint64_t i, span = v->end - v->start;

	if (!span || st->kind == WL_IDLE)
		return 0;
	for (i = 0; i < n; i++) {
		if (st->kind == WL_ABTEST) {
			/*
			 * Volatile: the store must reach memory page by page,
			 * in order, or the check cannot hold.
			 */
			volatile uint8_t *b = page(ctx, v->pos);

			*b = *b + 1;
			if (++v->pos == v->end) {
				v->pos = v->start;
				v->passes++;
			}
		} else if (st->kind == WL_ZEROTOGGLE) {
			volatile uint64_t *p = (uint64_t *)page(ctx, v->pos);
			unsigned int w;

			/*
			 * Every word: the source looks at the whole page to
			 * find it zero, and one stale word would keep it from
			 * being a zero range. The non-zero content differs
			 * per pass (word 0 never 0), so a write of pass p+2
			 * lost on the way shows in the hashes too.
			 */
			for (w = 0; w < VMM_PAGE_SIZE / 8; w++)
				p[w] = v->passes % 2 ? wl_pattern(st->seed ^ v->passes, v->pos, w) | !w : 0;
			if (++v->pos == v->end) {
				v->pos = v->start;
				v->passes++;
			}
		} else {
			uint64_t r = xorshift64(&v->rng);
			uint64_t g = v->start + r % span;
			unsigned int w = (r >> 40) % (VMM_PAGE_SIZE / 8);
			volatile uint64_t *p = (uint64_t *)page(ctx, g);

			p[w] = r;
		}
		v->writes++;
	}
	return n;
}

/* ---- device state -------------------------------------------------------- */

static void add_u64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

char *wl_encode(const struct wl_state *st)
{
	json_object *o = json_object_new_object(), *a, *vs;
	unsigned int i;
	char *s = NULL;

	if (!o)
		return NULL;
	json_object_object_add(o, "format", json_object_new_string(WL_FORMAT));
	add_u64(o, "version", WL_VERSION);
	json_object_object_add(o, "workload",
			       json_object_new_string(wl_kind_name(st->kind)));
	/* As strings: JSON numbers above 2^53 do not survive every parser. */
	{
		char seed[24];

		snprintf(seed, sizeof(seed), "%" PRIu64, st->seed);
		json_object_object_add(o, "seed", json_object_new_string(seed));
	}
	add_u64(o, "rate", st->rate);
	add_u64(o, "touch_pages", st->touch_pages);
	a = json_object_new_array();
	for (i = 0; i < st->nr_regions; i++)
		json_object_array_add(a, json_object_new_uint64(st->region_bytes[i]));
	json_object_object_add(o, "regions", a);
	vs = json_object_new_array();
	for (i = 0; i < st->nr_vcpus; i++) {
		const struct wl_vcpu *v = &st->vcpu[i];
		json_object *j = json_object_new_object();
		char rng[24];

		add_u64(j, "start", v->start);
		add_u64(j, "end", v->end);
		add_u64(j, "pos", v->pos);
		add_u64(j, "passes", v->passes);
		snprintf(rng, sizeof(rng), "%" PRIu64, v->rng);
		json_object_object_add(j, "rng", json_object_new_string(rng));
		add_u64(j, "writes", v->writes);
		json_object_array_add(vs, j);
	}
	json_object_object_add(o, "vcpus", vs);
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

static int get_u64(json_object *o, const char *k, uint64_t *v, char *err,
		   size_t errlen)
{
	json_object *j;

	if (!json_object_object_get_ex(o, k, &j) ||
	    !json_object_is_type(j, json_type_int) ||
	    json_object_get_int64(j) < 0) {
		snprintf(err, errlen, "field \"%s\" missing or not a number", k);
		return -EINVAL;
	}
	*v = json_object_get_uint64(j);
	return 0;
}

static int get_u64_str(json_object *o, const char *k, uint64_t *v, char *err,
		       size_t errlen)
{
	json_object *j;
	const char *s;
	char *end;

	if (!json_object_object_get_ex(o, k, &j) ||
	    !json_object_is_type(j, json_type_string)) {
		snprintf(err, errlen, "field \"%s\" missing or not a string", k);
		return -EINVAL;
	}
	s = json_object_get_string(j);
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-') {
		snprintf(err, errlen, "field \"%s\" is not a number", k);
		return -EINVAL;
	}
	return 0;
}

static int decode(json_object *o, struct wl_state *st, char *err, size_t errlen)
{
	json_object *j, *a;
	uint64_t u, total = 0;
	size_t i, n;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "format", &j) ||
	    !json_object_is_type(j, json_type_string) ||
	    strcmp(json_object_get_string(j), WL_FORMAT)) {
		snprintf(err, errlen, "not %s", WL_FORMAT);
		return -EINVAL;
	}
	if (get_u64(o, "version", &u, err, errlen))
		return -EINVAL;
	if (u != WL_VERSION) {
		snprintf(err, errlen, "unsupported version %" PRIu64, u);
		return -EINVAL;
	}
	if (!json_object_object_get_ex(o, "workload", &j) ||
	    !json_object_is_type(j, json_type_string) ||
	    wl_kind_parse(json_object_get_string(j), &st->kind)) {
		snprintf(err, errlen, "unknown workload");
		return -EINVAL;
	}
	if (get_u64_str(o, "seed", &st->seed, err, errlen) ||
	    get_u64(o, "rate", &st->rate, err, errlen) ||
	    get_u64(o, "touch_pages", &st->touch_pages, err, errlen))
		return -EINVAL;

	if (!json_object_object_get_ex(o, "regions", &a) ||
	    !json_object_is_type(a, json_type_array) ||
	    (n = json_object_array_length(a)) == 0 || n > VMM_MAX_REGIONS) {
		snprintf(err, errlen, "bad region list");
		return -EINVAL;
	}
	st->nr_regions = n;
	for (i = 0; i < n; i++) {
		j = json_object_array_get_idx(a, i);
		if (!json_object_is_type(j, json_type_int) ||
		    json_object_get_int64(j) <= 0 ||
		    json_object_get_uint64(j) % VMM_PAGE_SIZE) {
			snprintf(err, errlen, "bad size of region %zu", i);
			return -EINVAL;
		}
		st->region_bytes[i] = json_object_get_uint64(j);
		total += st->region_bytes[i] / VMM_PAGE_SIZE;
	}
	if (st->touch_pages > total) {
		snprintf(err, errlen, "touch_pages beyond RAM");
		return -EINVAL;
	}

	if (!json_object_object_get_ex(o, "vcpus", &a) ||
	    !json_object_is_type(a, json_type_array) ||
	    (n = json_object_array_length(a)) == 0 || n > VMM_MAX_VCPUS) {
		snprintf(err, errlen, "bad vcpu list");
		return -EINVAL;
	}
	st->nr_vcpus = n;
	for (i = 0; i < n; i++) {
		struct wl_vcpu *v = &st->vcpu[i];

		j = json_object_array_get_idx(a, i);
		if (!json_object_is_type(j, json_type_object) ||
		    get_u64(j, "start", &v->start, err, errlen) ||
		    get_u64(j, "end", &v->end, err, errlen) ||
		    get_u64(j, "pos", &v->pos, err, errlen) ||
		    get_u64(j, "passes", &v->passes, err, errlen) ||
		    get_u64_str(j, "rng", &v->rng, err, errlen) ||
		    get_u64(j, "writes", &v->writes, err, errlen)) {
			if (!err[0])
				snprintf(err, errlen, "vcpu %zu is not an object", i);
			return -EINVAL;
		}
		/*
		 * A state that would make a vCPU write outside guest RAM is
		 * refused here, not trusted later.
		 */
		if (v->start > v->end || v->end > st->touch_pages ||
		    (v->start < v->end && (v->pos < v->start || v->pos >= v->end)) ||
		    (v->start == v->end && v->pos != v->start) || !v->rng) {
			snprintf(err, errlen, "vcpu %zu: position out of range", i);
			return -EINVAL;
		}
	}
	return 0;
}

int wl_decode(const char *buf, size_t len, struct wl_state *st, char *err,
	      size_t errlen)
{
	struct json_tokener *tok;
	json_object *o;
	int ret;

	err[0] = '\0';
	memset(st, 0, sizeof(*st));
	if (len > (1U << 20)) {
		snprintf(err, errlen, "device state larger than 1 MiB");
		return -EINVAL;
	}
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		/* Trailing whitespace is fine, anything else is not. */
		size_t end = json_tokener_get_parse_end(tok);

		while (o && end < len && (buf[end] == '\n' || buf[end] == ' '))
			end++;
		if (!o || end != len) {
			snprintf(err, errlen, "device state is not one JSON object");
			json_object_put(o);
			json_tokener_free(tok);
			return -EINVAL;
		}
	}
	json_tokener_free(tok);
	ret = decode(o, st, err, errlen);
	json_object_put(o);
	return ret;
}
