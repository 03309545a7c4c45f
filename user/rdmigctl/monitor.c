// SPDX-License-Identifier: GPL-2.0
/* rdmigctl monitor: prints events from the "events" group as they come. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "rdmigctl.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const char *event_name(enum rdmig_nl_event_type t)
{
	switch (t) {
	case RDMIG_EV_REGION_NEW:
		return "region_new";
	case RDMIG_EV_REGION_DEL:
		return "region_del";
	case RDMIG_EV_DIRTY_WATERMARK:
		return "dirty_watermark";
	}
	return "unknown";
}

static void print_event(struct ctl *c, const struct rdmig_nl_event *e)
{
	if (c->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "event",
				       json_object_new_string(event_name(e->type)));
		json_object_object_add(o, "region_id",
				       json_object_new_int64(e->region_id));
		json_object_object_add(o, "name",
				       json_object_new_string(e->name));
		if (e->type == RDMIG_EV_REGION_NEW)
			json_object_object_add(o, "length",
					       json_object_new_uint64(e->length));
		if (e->type == RDMIG_EV_DIRTY_WATERMARK)
			json_object_object_add(o, "dirty_pages",
					       json_object_new_uint64(e->dirty_pages));
		/* One event per line even with -p: a stream, not a document. */
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		switch (e->type) {
		case RDMIG_EV_REGION_NEW:
			printf("[region new] region %u name \"%s\" length %" PRIu64 "\n",
			       e->region_id, e->name, e->length);
			break;
		case RDMIG_EV_REGION_DEL:
			printf("[region del] region %u name \"%s\"\n",
			       e->region_id, e->name);
			break;
		case RDMIG_EV_DIRTY_WATERMARK:
			printf("[dirty watermark] region %u name \"%s\" dirty_pages %" PRIu64 "\n",
			       e->region_id, e->name, e->dirty_pages);
			break;
		}
	}
	fflush(stdout);
}

int do_monitor(struct ctl *c, int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct rdmig_nl_events *ev;
	uint64_t count = 0, seen = 0;
	int err;

	if (argc == 2 && matches(argv[0], "count")) {
		if (rdmig_parse_u64(argv[1], &count) || !count)
			return usage_error("bad count \"%s\"", argv[1]);
	} else if (argc) {
		return usage_error("monitor takes only \"count N\"");
	}
	err = rdmig_nl_events_open(&ev);
	if (err)
		return nl_error(c, "monitor", err);
	/* Without SA_RESTART, poll() returns at once on ^C. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!stop && (!count || seen < count)) {
		struct rdmig_nl_event e;

		err = rdmig_nl_events_recv(ev, &e, 1000);
		if (err == 1) {
			print_event(c, &e);
			seen++;
		} else if (err == -ENOBUFS) {
			fprintf(stderr, "Warning: events were lost (receive buffer overrun)\n");
		} else if (err < 0 && err != -EINTR) {
			rdmig_nl_events_close(ev);
			return nl_error(c, "monitor", err);
		}
	}
	rdmig_nl_events_close(ev);
	return 0;
}
