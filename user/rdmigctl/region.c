// SPDX-License-Identifier: GPL-2.0
/* rdmigctl region show | set | stats */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "rdmigctl.h"

static struct json_object *region_json(const struct rdmig_nl_region *r)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(r->id));
	json_object_object_add(o, "name", json_object_new_string(r->name));
	json_object_object_add(o, "length", json_object_new_uint64(r->length));
	json_object_object_add(o, "owner_pid",
			       json_object_new_int64(r->owner_pid));
	json_object_object_add(o, "tracking",
			       json_object_new_boolean(r->tracking));
	json_object_object_add(o, "watermark",
			       json_object_new_uint64(r->watermark));
	json_object_object_add(o, "bound_portid",
			       json_object_new_int64(r->bound_portid));
	json_object_object_add(o, "present_pages",
			       json_object_new_uint64(r->present_pages));
	json_object_object_add(o, "written_pages",
			       json_object_new_uint64(r->written_pages));
	json_object_object_add(o, "dirty_pages",
			       json_object_new_uint64(r->dirty_pages));
	json_object_object_add(o, "pinned_pages",
			       json_object_new_uint64(r->pinned_pages));
	return o;
}

static void region_text(const struct rdmig_nl_region *r)
{
	printf("region %u name \"%s\" length %" PRIu64 " owner_pid %u tracking %s watermark %" PRIu64 " bound_portid %u\n"
	       "    present %" PRIu64 " written %" PRIu64 " dirty %" PRIu64 " pinned %" PRIu64 "\n",
	       r->id, r->name, r->length, r->owner_pid,
	       r->tracking ? "on" : "off", r->watermark, r->bound_portid,
	       r->present_pages, r->written_pages, r->dirty_pages,
	       r->pinned_pages);
}

/* A dump's regions, kept until it is known not to have been interrupted. */
struct show {
	struct rdmig_nl_region *v;
	size_t n, cap;
};

static int show_one(const struct rdmig_nl_region *r, void *arg)
{
	struct show *s = arg;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct rdmig_nl_region *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = *r;
	return 0;
}

static void show_print(struct ctl *c, const struct rdmig_nl_region *v,
		       size_t n)
{
	struct json_object *arr;

	if (!c->json) {
		for (size_t i = 0; i < n; i++)
			region_text(&v[i]);
		return;
	}
	arr = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, region_json(&v[i]));
	json_print(c, arr);
}

static int region_show(struct ctl *c, int argc, char **argv)
{
	struct show s = { 0 };
	struct rdmig_nl_region r;
	uint32_t id = 0;
	int err, tries;

	if (argc > 1)
		return usage_error("region show takes at most one ID");
	if (argc == 1 && parse_u32(argv[0], &id))
		return usage_error("bad region ID \"%s\"", argv[0]);
	if (ctl_open_nl(c))
		return 1;
	if (argc == 1) {
		err = rdmig_nl_region_get(c->nl, id, &r);
		if (err)
			return nl_error(c, "region show", err);
		show_print(c, &r, 1);
		return 0;
	}
	/* A dump interrupted by regions coming or going is taken again. */
	for (tries = 0; tries < 5; tries++) {
		s.n = 0;
		err = rdmig_nl_region_dump(c->nl, show_one, &s);
		if (err != -EINTR)
			break;
	}
	if (!err)
		show_print(c, s.v, s.n);
	free(s.v);
	return err ? nl_error(c, "region show", err) : 0;
}

static int region_set(struct ctl *c, int argc, char **argv)
{
	int tracking = -1;
	int64_t watermark = -1;
	uint32_t id;
	int i, err;

	if (argc < 1)
		return usage_error("region set needs an ID");
	if (parse_u32(argv[0], &id))
		return usage_error("bad region ID \"%s\"", argv[0]);
	if (argc < 3)
		return usage_error("region set ID needs tracking or watermark");
	for (i = 1; i < argc; i += 2) {
		if (i + 1 >= argc)
			return usage_error("\"%s\" needs a value", argv[i]);
		if (matches(argv[i], "tracking")) {
			bool on;

			if (parse_on_off(argv[i + 1], &on))
				return usage_error("tracking is on or off, not \"%s\"",
						   argv[i + 1]);
			tracking = on;
		} else if (matches(argv[i], "watermark")) {
			uint64_t pages;

			if (rdmig_parse_u64(argv[i + 1], &pages) || pages > INT64_MAX)
				return usage_error("bad watermark \"%s\"",
						   argv[i + 1]);
			watermark = (int64_t)pages;
		} else {
			return usage_error("unknown region attribute \"%s\"",
					   argv[i]);
		}
	}
	if (ctl_open_nl(c))
		return 1;
	err = rdmig_nl_region_set(c->nl, id, tracking, watermark);
	if (err)
		return nl_error(c, "region set", err);
	return 0;
}

static int region_stats(struct ctl *c, int argc, char **argv)
{
	struct rdmig_nl_stats s;
	uint32_t id;
	int err;

	if (argc != 1)
		return usage_error("region stats needs exactly one ID");
	if (parse_u32(argv[0], &id))
		return usage_error("bad region ID \"%s\"", argv[0]);
	if (ctl_open_nl(c))
		return 1;
	err = rdmig_nl_stats_get(c->nl, id, &s);
	if (err)
		return nl_error(c, "region stats", err);
	if (c->json) {
		struct json_object *o = json_object_new_object();

#define ADD(f) json_object_object_add(o, #f, json_object_new_uint64(s.f))
		json_object_object_add(o, "id", json_object_new_int64(id));
		ADD(present_pages);
		ADD(written_pages);
		ADD(dirty_pages);
		ADD(pinned_pages);
		ADD(zero_pages);
		ADD(write_faults);
		ADD(rearms);
		ADD(rearm_ns);
		ADD(dirty_gets);
		ADD(zero_reclaimed);
#undef ADD
		json_print(c, o);
		return 0;
	}
	printf("region %u\n"
	       "    present %" PRIu64 " written %" PRIu64 " dirty %" PRIu64
	       " pinned %" PRIu64 " zero %" PRIu64 "\n"
	       "    write_faults %" PRIu64 " rearms %" PRIu64 " rearm_ns %" PRIu64
	       " dirty_gets %" PRIu64 " zero_reclaimed %" PRIu64 "\n",
	       id, s.present_pages, s.written_pages, s.dirty_pages,
	       s.pinned_pages, s.zero_pages, s.write_faults, s.rearms,
	       s.rearm_ns, s.dirty_gets, s.zero_reclaimed);
	return 0;
}

int do_region(struct ctl *c, int argc, char **argv)
{
	if (argc < 1 || matches(argv[0], "show") || matches(argv[0], "list"))
		return region_show(c, argc ? argc - 1 : 0, argv + 1);
	if (matches(argv[0], "set"))
		return region_set(c, argc - 1, argv + 1);
	if (matches(argv[0], "stats"))
		return region_stats(c, argc - 1, argv + 1);
	if (matches(argv[0], "help")) {
		usage_error("region commands: show, set, stats");
		return 0;
	}
	return usage_error("unknown region command \"%s\"", argv[0]);
}
