// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The report: a readable summary on stderr, and as the last line on
 * stdout one JSON object that scripts (make demo, the tests) parse.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "migrate.h"

void say(struct run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->o->quiet)
		return;
	fprintf(stderr, "rdmig-vmm[%s]: ",
		r->o->role == ROLE_SOURCE ? "src" :
		r->o->role == ROLE_DESTINATION ? "dst" : "vm");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void report_set_u64(struct run *r, const char *k, uint64_t v)
{
	json_object_object_add(r->report, k, json_object_new_uint64(v));
}

void report_set_str(struct run *r, const char *k, const char *v)
{
	json_object_object_add(r->report, k, json_object_new_string(v));
}

void report_set_bool(struct run *r, const char *k, bool v)
{
	json_object_object_add(r->report, k, json_object_new_boolean(v));
}

void report_vm(struct run *r)
{
	const struct wl_state *wl = &r->vm->wl;
	json_object *a = json_object_new_array();
	unsigned int i;

	report_set_str(r, "workload", wl_kind_name(wl->kind));
	report_set_u64(r, "vcpus", wl->nr_vcpus);
	report_set_u64(r, "vm_ram_bytes", r->vm->ram.pages * VMM_PAGE_SIZE);
	report_set_u64(r, "touch_bytes", wl->touch_pages * VMM_PAGE_SIZE);
	for (i = 0; i < r->vm->ram.nr; i++)
		json_object_array_add(a, json_object_new_uint64(r->vm->ram.r[i].length));
	json_object_object_add(r->report, "regions", a);
}

static uint64_t get_u64(json_object *o, const char *k)
{
	json_object *j;

	return json_object_object_get_ex(o, k, &j) ? json_object_get_uint64(j) : 0;
}

static const char *get_str(json_object *o, const char *k)
{
	json_object *j;

	return json_object_object_get_ex(o, k, &j) ? json_object_get_string(j) : "";
}

void report_finish(struct run *r)
{
	json_object *rep = r->report, *v;
	const char *s;

	if (!r->o->quiet) {
		fprintf(stderr, "\n==== rdmig-vmm report (%s) ====\n",
			r->o->role == ROLE_SOURCE ? "source" :
			r->o->role == ROLE_DESTINATION ? "destination" : "no migration");
		fprintf(stderr, "  result          %s%s%s\n", get_str(rep, "result"),
			*get_str(rep, "reason") ? ": " : "", get_str(rep, "reason"));
		fprintf(stderr, "  VM              %s, %llu MiB in %zu regions, %llu vCPUs\n",
			get_str(rep, "workload"),
			(unsigned long long)(get_u64(rep, "vm_ram_bytes") >> 20),
			json_object_object_get_ex(rep, "regions", &v) ?
				json_object_array_length(v) : 0,
			(unsigned long long)get_u64(rep, "vcpus"));
		if (r->o->role == ROLE_DESTINATION &&
		    json_object_object_get_ex(rep, "registrations", &v)) {
			/* The timing statistics are the source agent's. */
			fprintf(stderr, "  registrations   %llu, unregistrations %llu, state %llu bytes\n",
				(unsigned long long)get_u64(rep, "registrations"),
				(unsigned long long)get_u64(rep, "unregistrations"),
				(unsigned long long)get_u64(rep, "state_bytes"));
		} else if (json_object_object_get_ex(rep, "total_ms", &v)) {
			fprintf(stderr, "  total time      %llu ms (setup %llu ms)\n",
				(unsigned long long)get_u64(rep, "total_ms"),
				(unsigned long long)get_u64(rep, "setup_ms"));
			fprintf(stderr, "  setup phases    connect %llu ms, RAM blocks %llu ms, tracking on %llu ms, first registration %llu ms\n",
				(unsigned long long)get_u64(rep, "connect_ms"),
				(unsigned long long)get_u64(rep, "ram_blocks_ms"),
				(unsigned long long)get_u64(rep, "tracking_on_ms"),
				(unsigned long long)get_u64(rep, "first_registration_ms"));
			fprintf(stderr, "  downtime        %llu ms (rdmigd: paused to the destination's ack), %llu ms (VMM: pause to completed)\n",
				(unsigned long long)get_u64(rep, "downtime_ms"),
				(unsigned long long)get_u64(rep, "vmm_downtime_ms"));
			fprintf(stderr, "  last round      %llu pages, after %llu rounds between switchover-ready and the pause\n",
				(unsigned long long)get_u64(rep, "last_round_pages"),
				(unsigned long long)get_u64(rep, "switchover_rounds"));
			fprintf(stderr, "  iterations      %llu\n",
				(unsigned long long)get_u64(rep, "iterations"));
			fprintf(stderr, "  RAM / sent      %.1f MiB / %.1f MiB, %llu zero pages skipped\n",
				get_u64(rep, "ram_bytes") / 1048576.0,
				get_u64(rep, "sent_bytes") / 1048576.0,
				(unsigned long long)get_u64(rep, "zero_pages_skipped"));
			fprintf(stderr, "  throughput      %llu Mb/s\n",
				(unsigned long long)get_u64(rep, "throughput_mbps"));
			fprintf(stderr, "  registrations   %llu (waited %llu ms), unregistrations %llu\n",
				(unsigned long long)get_u64(rep, "registrations"),
				(unsigned long long)get_u64(rep, "registration_wait_ms"),
				(unsigned long long)get_u64(rep, "unregistrations"));
		}
		s = json_object_object_get_ex(rep, "verified", &v) ?
			json_object_to_json_string(v) : "not checked";
		fprintf(stderr, "  verified        %s\n", s);
		if (json_object_object_get_ex(rep, "abtest", &v))
			fprintf(stderr, "  abtest          %s\n", json_object_get_string(v));
		fprintf(stderr, "\n");
	}
	s = json_object_to_json_string_ext(rep, JSON_C_TO_STRING_PLAIN);
	if (r->o->report) {
		char tmp[4096];
		FILE *f;

		/* Renamed into place: a peer polling for it never reads half. */
		snprintf(tmp, sizeof(tmp), "%s.tmp", r->o->report);
		f = fopen(tmp, "w");
		if (f) {
			fprintf(f, "%s\n", s);
			if (fclose(f) == 0)
				rename(tmp, r->o->report);
		}
	}
	printf("%s\n", s);
	fflush(stdout);
}
