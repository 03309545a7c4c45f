// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmig-qemu migrate SOCKET: the operator's client of a `run`. Sends
 * `migrate` on its control socket (librdmig's QMP client), prints the
 * progress as it comes, and ends with the report: a summary on stderr,
 * the last line of stdout one JSON object. SIGINT/SIGTERM send
 * migrate_cancel: the guest stays where it runs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qemu.h"

static json_object *read_json_file(const char *path, int wait_ms)
{
	uint64_t end = rdmig_now_us() + (uint64_t)wait_ms * 1000;
	json_object *o;

	for (;;) {
		if (access(path, R_OK) == 0) {
			o = json_object_from_file(path);
			if (o)
				return o;
		}
		if (rdmig_now_us() > end)
			return NULL;
		usleep(50000);
	}
}

static void progress(const struct opts *o, json_object *d)
{
	if (o->quiet)
		return;
	if (*jget_str(d, "phase")) {
		say("setup: %s", jget_str(d, "phase"));
		return;
	}
	say("iteration %lld: %.1f MiB left, sent %.1f MiB, %lld Mb/s, dirtied %lld pages/s%s, throttle %lld%%",
	    (long long)jget_i64(d, "iteration"),
	    jget_i64(d, "bytes_remaining") / 1048576.0,
	    jget_i64(d, "sent_bytes") / 1048576.0,
	    (long long)jget_i64(d, "bandwidth_mbps"),
	    (long long)jget_i64(d, "dirty_rate_pps"),
	    json_object_get_boolean(json_object_object_get(d, "throttle_hint")) ?
		" (throttle hint)" : "",
	    (long long)jget_i64(d, "throttle_pct"));
}

static void summary(json_object *rep)
{
	fprintf(stderr, "\n==== rdmig-qemu report ====\n");
	fprintf(stderr, "  result          %s%s%s\n", jget_str(rep, "result"),
		*jget_str(rep, "reason") ? ": " : "", jget_str(rep, "reason"));
	fprintf(stderr, "  guest RAM       %.1f MiB in %zu regions\n",
		jget_i64(rep, "ram_bytes") / 1048576.0,
		json_object_is_type(json_object_object_get(rep, "regions"), json_type_array) ?
			json_object_array_length(json_object_object_get(rep, "regions")) : 0);
	fprintf(stderr, "  total time      %lld ms\n", (long long)jget_i64(rep, "total_ms"));
	if (json_object_object_get(rep, "downtime_ms"))
		fprintf(stderr, "  downtime        %lld ms (guest: source STOP to destination RESUME, less a --pause-at-resume check of %lld ms)\n",
			(long long)jget_i64(rep, "downtime_ms"),
			(long long)jget_i64(json_object_object_get(rep, "destination"), "check_ms"));
	if (json_object_object_get(rep, "source_downtime_ms"))
		fprintf(stderr, "                  %lld ms source STOP to QEMU completed, %lld ms rdmigd's (pause to its ack)\n",
			(long long)jget_i64(rep, "source_downtime_ms"),
			(long long)jget_i64(rep, "rdmig_downtime_ms"));
	if (json_object_object_get(rep, "iterations"))
		fprintf(stderr, "  RAM (rdmigd)    %lld iterations, %.1f MiB sent, %lld zero pages skipped, %lld Mb/s\n",
			(long long)jget_i64(rep, "iterations"),
			jget_i64(rep, "sent_bytes") / 1048576.0,
			(long long)jget_i64(rep, "zero_pages_skipped"),
			(long long)jget_i64(rep, "throughput_mbps"));
	if (json_object_object_get(rep, "device_stream_bytes"))
		fprintf(stderr, "  device (QEMU)   %.1f KiB over TCP\n",
			jget_i64(rep, "device_stream_bytes") / 1024.0);
	fprintf(stderr, "  throttle max    %lld %%\n", (long long)jget_i64(rep, "throttle_max_pct"));
	if (json_object_object_get(rep, "verified"))
		fprintf(stderr, "  verified        %s\n",
			json_object_get_boolean(json_object_object_get(rep, "verified")) ? "yes" : "no");
	fprintf(stderr, "\n");
}

int cmd_migrate(const struct opts *o)
{
	struct rdmig_ctl *c;
	json_object *args, *rep = NULL, *msg, *data, *dst;
	char err[512];
	bool cancel_sent = false, ok;
	int r;

	if (rdmig_ctl_connect(o->control, 10000, &c, err, sizeof(err))) {
		say("%s", err);
		return 1;
	}
	args = json_object_new_object();
	json_object_object_add(args, "to", json_object_new_string(o->to));
	json_object_object_add(args, "device", json_object_new_string(o->device));
	if (o->bind)
		json_object_object_add(args, "bind", json_object_new_string(o->bind));
	if (o->secret_file) {
		char *abs = realpath(o->secret_file, NULL);

		json_object_object_add(args, "secret-file",
				       json_object_new_string(abs ? abs : o->secret_file));
		free(abs);
	}
	if (o->deadline_ms)
		json_object_object_add(args, "deadline-ms", json_object_new_int64(o->deadline_ms));
	json_object_object_add(args, "parameters", json_object_get(o->params));
	if (rdmig_ctl_execute(c, "migrate", args, NULL, err, sizeof(err), 30000)) {
		say("%s", err);
		rdmig_ctl_close(c);
		return 1;
	}
	while (!rep) {
		const char *ev;

		if (stop_signal && !cancel_sent) {
			say("signal %d: cancelling the migration (the guest stays at the source)",
			    (int)stop_signal);
			rdmig_ctl_send(c, "migrate_cancel", NULL);
			cancel_sent = true;
		}
		r = rdmig_ctl_recv(c, &msg, 200);
		if (r < 0) {
			say("the rdmig-qemu run process closed its control socket before the end of the migration");
			rdmig_ctl_close(c);
			return 1;
		}
		if (r == 0)
			continue;
		ev = rdmig_ctl_event(msg, &data);
		if (ev && !strcmp(ev, "RDMIG_PROGRESS"))
			progress(o, data);
		else if (ev && !strcmp(ev, "RDMIG_QEMU_STATUS") && !o->quiet)
			say("rdmigd: %s", json_object_get_string(data));
		else if (ev && !strcmp(ev, "RDMIG_QEMU_DONE"))
			rep = json_object_get(data);
		json_object_put(msg);
	}
	rdmig_ctl_close(c);
	ok = !strcmp(jget_str(rep, "result"), "completed");
	if (o->dest_report) {
		/* The guest's downtime: STOP here to RESUME there (wall clocks). */
		dst = ok ? read_json_file(o->dest_report, 60000) : json_object_from_file(o->dest_report);
		if (dst) {
			uint64_t stop = (uint64_t)jget_i64(rep, "stop_wall_us"),
				 res = (uint64_t)jget_i64(dst, "resume_wall_us");

			uint64_t check = (uint64_t)jget_i64(dst, "check_ms") * 1000;

			/*
			 * The guest was paused from STOP to RESUME; a
			 * --pause-at-resume check there is the test's, not the
			 * migration's: downtime_ms leaves it out, paused_ms not.
			 */
			if (stop && res >= stop) {
				json_object_object_add(rep, "paused_ms",
						       json_object_new_uint64((res - stop) / 1000));
				json_object_object_add(rep, "downtime_ms",
						       json_object_new_uint64((res - stop > check ?
									       res - stop - check : 0) / 1000));
			}
			if (json_object_object_get(dst, "verified"))
				json_object_object_add(rep, "verified",
						       json_object_get(json_object_object_get(dst, "verified")));
			if (strcmp(jget_str(dst, "result"), "completed")) {
				ok = false;
				if (!json_object_object_get(rep, "reason"))
					json_object_object_add(rep, "reason",
						json_object_new_string(jget_str(dst, "reason")));
				json_object_object_add(rep, "result", json_object_new_string("failed"));
			}
			json_object_object_add(rep, "destination", dst);
		} else if (ok) {
			say("no destination report in %s", o->dest_report);
		}
	}
	if (!o->quiet)
		summary(rep);
	if (!ok)
		say("migration %s: %s", jget_str(rep, "result"), jget_str(rep, "reason"));
	print_report(rep, o->report);
	json_object_put(rep);
	return ok ? 0 : 1;
}
