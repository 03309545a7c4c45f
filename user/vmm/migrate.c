// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The migration itself, as a VMM sees it: spawn rdmigd, say "migrate",
 * follow events, pause on "switchover-ready", hand over the device state,
 * and either stop (source, completed), resume here (source, failed) or
 * resume there (destination, completed).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rdmig/librdmig.h>

#include "migrate.h"
#include "verify.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23	/* Linux 5.14 */
#endif

#define GREETING_MS	15000
#define KILL_GRACE_MS	15000
#define REAP_MS		10000

static volatile sig_atomic_t cancel_signal;

static void on_usr1(int sig)
{
	(void)sig;
	cancel_signal = 1;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void fail(struct run *r, const char *fmt, const char *arg)
{
	if (!r->reason[0])
		snprintf(r->reason, sizeof(r->reason), fmt, arg);
	r->done = true;
}

/* ---- starting the VM ------------------------------------------------------ */

static int boot_vm(struct run *r)
{
	struct vmm_opts *o = r->o;
	struct wl_state *wl = &r->vm->wl;
	uint64_t t0 = now_ns();
	unsigned int i;
	int ret;

	memset(wl, 0, sizeof(*wl));
	wl->kind = o->workload;
	wl->seed = o->seed;
	wl->rate = o->rate;
	wl->touch_pages = o->touch_bytes ? o->touch_bytes / VMM_PAGE_SIZE
					 : r->vm->ram.pages;
	wl->nr_regions = r->vm->ram.nr;
	for (i = 0; i < wl->nr_regions; i++)
		wl->region_bytes[i] = r->vm->ram.r[i].length;
	wl->nr_vcpus = o->vcpus;
	wl_init(wl);
	/* Write faults without touching the data: fast, and the pages read 0. */
	if (o->prefault)
		for (i = 0; i < r->vm->ram.nr; i++)
			if (madvise(r->vm->ram.r[i].mem, r->vm->ram.r[i].length,
				    MADV_POPULATE_WRITE))
				memset(r->vm->ram.r[i].mem, 0, r->vm->ram.r[i].length);
	report_vm(r);
	ret = vm_start(r->vm, true);
	if (ret < 0) {
		fprintf(stderr, "rdmig-vmm: cannot start vCPUs: %s\n", strerror(-ret));
		return ret;
	}
	if (!vm_wait_warm(r->vm, 600000)) {
		fprintf(stderr, "rdmig-vmm: vCPUs did not write their initial content\n");
		return -ETIMEDOUT;
	}
	say(r, "%s on %" PRIu64 " MiB in %u region(s), %u vCPU(s); initial content written in %" PRIu64 " ms",
	    wl_kind_name(wl->kind), r->vm->ram.pages * VMM_PAGE_SIZE >> 20,
	    r->vm->ram.nr, wl->nr_vcpus, (now_ns() - t0) / 1000000);
	report_set_u64(r, "boot_ms", (now_ns() - t0) / 1000000);
	return 0;
}

/* What the module says about each region: what a VMM can see for free. */
static void report_regions(struct run *r)
{
	json_object *a = json_object_new_array();
	unsigned int i;

	for (i = 0; i < r->vm->ram.nr; i++) {
		struct rdmig_region_info info;
		json_object *j = json_object_new_object();

		if (rdmig_region_info(r->vm->ram.r[i].fd, &info) == 0) {
			json_object_object_add(j, "id", json_object_new_uint64(info.region_id));
			json_object_object_add(j, "present_pages", json_object_new_uint64(info.present_pages));
			json_object_object_add(j, "written_pages", json_object_new_uint64(info.written_pages));
			json_object_object_add(j, "dirty_pages", json_object_new_uint64(info.dirty_pages));
			json_object_object_add(j, "pinned_pages", json_object_new_uint64(info.pinned_pages));
		}
		json_object_array_add(a, j);
	}
	json_object_object_add(r->report, "region_info", a);
}

int run_standalone(struct run *r)
{
	uint64_t w0;
	bool ok;

	if (boot_vm(r))
		return 1;
	vm_pause(r->vm);
	w0 = vm_writes(r->vm);
	vm_resume(r->vm);
	sleep_ms(r->o->run_ms);
	vm_pause(r->vm);
	ok = check_advanced(r, w0);
	ok &= check_workload(r, "after_run");
	ok &= write_hashes(r);
	report_regions(r);
	report_set_str(r, "result", ok ? "ran" : "corrupt");
	return ok ? 0 : 1;
}

/* ---- the agent and its control channel --------------------------------------- */

static int start_agent(struct run *r)
{
	int tfds[VMM_MAX_REGIONS];
	char err[256];
	unsigned int i;
	int ret;

	ret = ram_transfer_fds(&r->vm->ram, tfds);
	if (ret < 0) {
		fprintf(stderr, "rdmig-vmm: no transfer view: %s\n", strerror(-ret));
		return ret;
	}
	ret = agent_spawn(&r->o->agent, tfds, r->vm->ram.nr, &r->agent);
	/* rdmigd has its copies now; ours would only keep pages pinnable. */
	for (i = 0; i < r->vm->ram.nr; i++)
		close(tfds[i]);
	if (ret < 0) {
		fprintf(stderr, "rdmig-vmm: cannot start %s: %s\n", r->o->agent.path,
			strerror(-ret));
		return ret;
	}
	if (r->o->agent_pidfile) {
		FILE *f = fopen(r->o->agent_pidfile, "w");

		if (f) {
			fprintf(f, "%d\n", (int)r->agent.pid);
			fclose(f);
		}
	}
	say(r, "started %s (pid %d)", r->o->agent.path, (int)r->agent.pid);

	/* librdmig's QMP client: greeting and qmp_capabilities. */
	ret = agent_open(&r->agent, GREETING_MS, err, sizeof(err));
	if (ret) {
		fail(r, "rdmigd control channel: %s", err);
		return ret;
	}
	r->greeted = true;
	return 0;
}

static void stop_agent(struct run *r)
{
	int st = 0;

	if (r->agent.pid <= 0)
		return;
	if (agent_reap(&r->agent, REAP_MS, &st) == 0) {
		if (WIFEXITED(st))
			report_set_u64(r, "agent_exit", WEXITSTATUS(st));
		else
			report_set_u64(r, "agent_exit", 128 + WTERMSIG(st));
	}
	agent_close(&r->agent);
	if (r->agent.state >= 0)
		close(r->agent.state);
	r->agent.state = -1;
}

/* migrate-set-parameters, in QEMU's names where QEMU has the parameter. */
static json_object *migrate_params(const struct vmm_opts *o)
{
	json_object *a = json_object_new_object();

	if (o->downtime_ms >= 0)
		json_object_object_add(a, "downtime-limit", json_object_new_int64(o->downtime_ms));
	if (o->max_iterations >= 0)
		json_object_object_add(a, "max-iterations", json_object_new_int64(o->max_iterations));
	if (o->agent.chunk_size)
		json_object_object_add(a, "chunk-size", json_object_new_uint64(o->agent.chunk_size));
	if (o->agent.pin_budget)
		json_object_object_add(a, "pin-budget", json_object_new_uint64(o->agent.pin_budget));
	if (o->agent.pin_all)
		json_object_object_add(a, "pin-all", json_object_new_boolean(true));
	if (o->max_bandwidth_mbps >= 0)	/* bytes per second, as QEMU */
		json_object_object_add(a, "max-bandwidth",
				       json_object_new_int64(o->max_bandwidth_mbps * 125000));
	if (o->on_max_iterations)
		json_object_object_add(a, "on-max-iterations", json_object_new_string(o->on_max_iterations));
	if (o->pause_timeout_ms >= 0)
		json_object_object_add(a, "pause-timeout", json_object_new_int64(o->pause_timeout_ms));
	return a;
}

static uint64_t jget_u64(json_object *o, const char *k)
{
	json_object *j;

	return json_object_object_get_ex(o, k, &j) ? json_object_get_uint64(j) : 0;
}

static void show_progress(struct run *r, json_object *d)
{
	json_object *j;
	bool hint = json_object_object_get_ex(d, "throttle_hint", &j) &&
		    json_object_get_boolean(j);
	uint64_t now, sent, recent = 0;	/* Mb/s = bits per microsecond */

	r->progress_events++;
	if (hint && r->o->throttle && r->o->role == ROLE_SOURCE) {
		unsigned int pct = vm_throttle_up(r->vm);

		if (pct > r->max_throttle)
			r->max_throttle = pct;
	}
	/*
	 * The agent's bandwidth is per finished round; what the link
	 * carried since the last event is shown too, so the long first
	 * round does not read as 0 Mb/s.
	 */
	now = now_ns();
	sent = jget_u64(d, "sent_bytes");
	if (r->prog_ns && now > r->prog_ns && sent >= r->prog_sent)
		recent = (sent - r->prog_sent) * 8 / ((now - r->prog_ns) / 1000 + 1);
	r->prog_ns = now;
	r->prog_sent = sent;
	say(r, "iteration %" PRIu64 ": %.1f MiB left (%" PRIu64 " pages), dirty %" PRIu64
	    " pages/s, round %" PRIu64 " Mb/s, now %" PRIu64 " Mb/s, sent %.1f MiB%s",
	    jget_u64(d, "iteration"), jget_u64(d, "bytes_remaining") / 1048576.0,
	    jget_u64(d, "pages_remaining"), jget_u64(d, "dirty_rate_pps"),
	    jget_u64(d, "bandwidth_mbps"), recent, sent / 1048576.0,
	    hint ? (r->o->throttle ? ", throttling vCPUs" : ", throttle hint ignored") : "");
}

/* Source, on "switchover-ready": the VM stops here until it runs there. */
static void switchover(struct run *r)
{
	size_t len, off = 0;
	uint64_t t0 = now_ns();
	json_object *args;
	char *s;
	int id;

	vm_pause(r->vm);
	r->paused = true;
	r->t_pause = now_ns();
	s = wl_encode(&r->vm->wl);
	if (!s) {
		fail(r, "%s", "cannot encode device state");
		return;
	}
	len = strlen(s);
	/* Non-blocking: a stuck reader must not hang a paused VM forever. */
	fcntl(r->agent.state, F_SETFL, O_NONBLOCK);
	while (off < len) {
		ssize_t w = write(r->agent.state, s + off, len - off);

		if (w < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = r->agent.state, .events = POLLOUT };

			if (now_ns() - t0 > 5000000000ULL ||
			    (poll(&p, 1, 100) < 0 && errno != EINTR))
				break;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	free(s);
	close(r->agent.state);
	r->agent.state = -1;
	if (off < len) {
		fail(r, "%s", "cannot write the device state to rdmigd");
		return;
	}
	report_set_u64(r, "device_state_bytes", len);
	/* QEMU's pause-before-switchover step: the VM is stopped, go on. */
	args = json_object_new_object();
	json_object_object_add(args, "state", json_object_new_string("pre-switchover"));
	/* rdmig's extension; same host, same clock: the downtime starts at our pause. */
	json_object_object_add(args, "paused_at_us", json_object_new_uint64(r->t_pause / 1000));
	id = agent_send(&r->agent, "migrate-continue", args);
	if (id < 0)
		fail(r, "cannot send \"migrate-continue\": %s", strerror(-id));
	report_set_u64(r, "pause_ms", (now_ns() - t0) / 1000000);
	say(r, "vCPUs paused, %zu bytes of device state handed over", len);
}

static void handle(struct run *r, json_object *msg)
{
	json_object *ev, *d = NULL, *e, *id;
	const char *st;

	if (r->events) {
		fprintf(r->events, "%s\n", json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN));
		fflush(r->events);
	}
	if (json_object_object_get_ex(msg, "error", &e)) {
		json_object *desc;
		bool mig = json_object_object_get_ex(msg, "id", &id) &&
			   json_object_get_int(id) == r->migrate_id;

		/* An error to "migrate" or "migrate-continue" ends the migration. */
		if (json_object_object_get_ex(e, "desc", &desc))
			say(r, "rdmigd: error: %s", json_object_get_string(desc));
		if (mig || r->paused)
			fail(r, "%s", json_object_object_get_ex(e, "desc", &desc) ?
			     json_object_get_string(desc) : "rdmigd refused");
		return;
	}
	if (!json_object_object_get_ex(msg, "event", &ev))
		return;
	json_object_object_get_ex(msg, "data", &d);
	st = rdmig_ctl_migration_status(msg);
	if (!strcmp(json_object_get_string(ev), "RDMIG_PROGRESS") && d) {
		show_progress(r, d);
	} else if (!st) {
		return;
	} else if (!strcmp(st, "pre-switchover")) {
		if (r->o->role != ROLE_SOURCE || r->paused || r->pause_due) {
			/* nothing */
		} else if (r->o->pause_delay_ms == 0) {
			switchover(r);
		} else {
			/* A slow (or, with -1, a stuck) VMM: the VM runs on meanwhile. */
			r->pause_due = true;
			r->pause_at = r->o->pause_delay_ms < 0 ? UINT64_MAX :
				      now_ns() + (uint64_t)r->o->pause_delay_ms * 1000000ULL;
			say(r, "pre-switchover: pausing %s", r->o->pause_delay_ms < 0 ?
			    "never (--pause-delay-ms -1)" : "after --pause-delay-ms");
		}
	} else if (!strcmp(st, "completed")) {
		json_object *ts, *sec, *usec, *stats;

		r->completed = true;
		r->done = true;
		r->t_end = r->t_seen = now_ns();
		/*
		 * The VM runs on the destination from the moment the agent
		 * says so (the event's timestamp, CLOCK_REALTIME of this
		 * host), not from when we got round to reading it: the
		 * downtime ends there. How late we read it is t_seen.
		 */
		if (json_object_object_get_ex(msg, "timestamp", &ts) &&
		    json_object_object_get_ex(ts, "seconds", &sec) &&
		    json_object_object_get_ex(ts, "microseconds", &usec)) {
			struct timespec rt;
			uint64_t ev_ns = (uint64_t)json_object_get_int64(sec) * 1000000000ULL +
					 (uint64_t)json_object_get_int64(usec) * 1000ULL, now_rt;

			clock_gettime(CLOCK_REALTIME, &rt);
			now_rt = (uint64_t)rt.tv_sec * 1000000000ULL + (uint64_t)rt.tv_nsec;
			if (ev_ns <= now_rt && now_rt - ev_ns < r->t_seen - r->t_pause)
				r->t_end = r->t_seen - (now_rt - ev_ns);
		}
		/* The agent's own figures, as before under their rdmig names. */
		if (d && json_object_object_get_ex(d, "rdmig", &stats)) {
			json_object_object_foreach(stats, k, v)
				if (strcmp(k, "role"))
					json_object_object_add(r->report, k, json_object_get(v));
		}
	} else if (!strcmp(st, "failed") || !strcmp(st, "cancelled")) {
		json_object *why;

		fail(r, "%s", d && json_object_object_get_ex(d, "error-desc", &why) ?
		     json_object_get_string(why) : "rdmigd reported a failure");
	}
}

/*
 * Follows the control channel until a terminal event. The destination
 * also drains the device-state pipe meanwhile, so rdmigd never blocks on
 * writing it.
 */
static void event_loop(struct run *r)
{
	uint64_t deadline = now_ns() + (uint64_t)r->o->timeout_ms * 1000000ULL;
	uint64_t cancel_at = r->o->cancel_after_ms >= 0 ?
		r->t_migrate + (uint64_t)r->o->cancel_after_ms * 1000000ULL : 0;
	uint64_t kill_at = 0;
	bool dest = r->o->role == ROLE_DESTINATION;

	while (!r->done || (dest && r->completed && !r->state_eof)) {
		struct pollfd p[2] = {
			{ .fd = r->agent.ctl, .events = POLLIN },
			{ .fd = dest && !r->state_eof ? r->agent.state : -1, .events = POLLIN },
		};
		json_object *msg;
		int ret;

		if ((cancel_signal || (cancel_at && now_ns() >= cancel_at) ||
		     now_ns() >= deadline) && !r->cancel_sent && !r->done) {
			if (now_ns() >= deadline)
				snprintf(r->reason, sizeof(r->reason),
					 "timed out after %lld ms", (long long)r->o->timeout_ms);
			say(r, "cancelling the migration");
			r->cancel_sent = true;
			agent_send(&r->agent, "migrate_cancel", NULL);
			kill_at = now_ns() + KILL_GRACE_MS * 1000000ULL;
		}
		if (kill_at && now_ns() >= kill_at) {
			fail(r, "%s", "rdmigd did not stop after cancel; killed it");
			kill(r->agent.pid, SIGKILL);
			break;
		}
		if (dest && r->completed && now_ns() >= deadline) {
			fail(r, "%s", "device state never ended");
			r->completed = false;
			break;
		}
		if (r->pause_due && !r->paused && !r->done && now_ns() >= r->pause_at)
			switchover(r);
		if (poll(p, 2, r->pause_due && !r->paused && r->pause_at - now_ns() < 100000000ULL ?
			    (int)((r->pause_at - now_ns()) / 1000000) : 100) < 0 && errno != EINTR)
			break;
		if (p[1].revents) {
			if (r->state_len == r->state_cap) {
				size_t cap = r->state_cap ? 2 * r->state_cap : 4096;
				char *n = cap <= (2U << 20) ? realloc(r->state, cap) : NULL;

				if (!n) {
					fail(r, "%s", "device state too large");
					break;
				}
				r->state = n;
				r->state_cap = cap;
			}
			ssize_t n = read(r->agent.state, r->state + r->state_len,
					 r->state_cap - r->state_len);
			if (n > 0)
				r->state_len += (size_t)n;
			else if (n == 0 || errno != EINTR)
				r->state_eof = true;
		}
		while ((ret = agent_recv(&r->agent, &msg)) > 0) {
			handle(r, msg);
			json_object_put(msg);
		}
		if (ret < 0) {
			if (!r->completed)
				fail(r, "rdmigd closed the control channel (%s)",
				     ret == -EPIPE ? "exited" : strerror(-ret));
			if (!dest || r->state_eof || !r->completed)
				break;
			/* Completed and closed: only the state pipe is left. */
			r->done = true;
		}
	}
	if (cancel_signal || (cancel_at && r->cancel_sent))
		report_set_bool(r, "cancelled", true);
}

/* ---- source ---------------------------------------------------------------- */

static bool wait_file(const char *path, int64_t ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000ULL;

	while (access(path, R_OK)) {
		if (now_ns() >= end)
			return false;
		sleep_ms(50);
	}
	return true;
}

static void take_peer_verdict(struct run *r)
{
	json_object *peer, *v;

	if (!wait_file(r->o->peer_report, 120000)) {
		say(r, "no destination report in %s", r->o->peer_report);
		report_set_bool(r, "verified", false);
		return;
	}
	peer = json_object_from_file(r->o->peer_report);
	if (!peer || !json_object_object_get_ex(peer, "verified", &v)) {
		report_set_bool(r, "verified", false);
	} else {
		report_set_bool(r, "verified", json_object_get_boolean(v));
		if (json_object_object_get_ex(peer, "abtest", &v))
			json_object_object_add(r->report, "abtest", json_object_get(v));
		if (json_object_object_get_ex(peer, "workload_advanced", &v))
			json_object_object_add(r->report, "destination_advanced",
					       json_object_get(v));
	}
	json_object_put(peer);
}

/* One attempt: an agent, the parameters, "migrate", its events. */
static void migrate_once(struct run *r)
{
	char err[256];

	if (start_agent(r))
		return;
	r->t_migrate = now_ns();
	if (rdmig_ctl_execute(r->agent.qmp, "migrate-set-parameters", migrate_params(r->o),
			      NULL, err, sizeof(err), GREETING_MS))
		r->migrate_id = -EINVAL;
	else
		r->migrate_id = agent_send(&r->agent, "migrate", NULL);
	if (r->migrate_id == -EINVAL)
		fail(r, "rdmigd refused the parameters: %s", err);
	else if (r->migrate_id < 0)
		fail(r, "cannot send \"migrate\": %s", strerror(-r->migrate_id));
	else
		event_loop(r);
}

static int source_completed(struct run *r)
{
	json_object *v;
	bool ok;

	/*
	 * The VM now lives on the destination: ours stays paused.
	 * Its memory is what it was at the pause, so it can be
	 * hashed now, outside the downtime.
	 */
	report_set_str(r, "result", "completed");
	report_set_u64(r, "vmm_total_ms", (r->t_end - r->t_migrate) / 1000000);
	report_set_u64(r, "vmm_downtime_ms", (r->t_end - r->t_pause + 500000) / 1000000);
	report_set_u64(r, "vmm_completed_seen_ms", (r->t_seen - r->t_pause) / 1000000);
	stop_agent(r);
	ok = write_hashes(r);
	if (r->o->peer_report)
		take_peer_verdict(r);
	if (json_object_object_get_ex(r->report, "verified", &v) &&
	    !json_object_get_boolean(v))
		ok = false;
	if (r->events)
		fclose(r->events);
	return ok ? 0 : 1;
}

/* Failed or cancelled: the VM goes on here as if nothing happened. */
static bool source_failed(struct run *r)
{
	uint64_t w0;
	bool ok;

	report_set_str(r, "result", r->cancel_sent ? "cancelled" : "failed");
	report_set_str(r, "reason", r->reason[0] ? r->reason : "unknown");
	say(r, "migration %s: %s; the VM keeps running here",
	    r->cancel_sent ? "cancelled" : "failed", r->reason);
	if (r->paused)
		vm_resume(r->vm);
	stop_agent(r);
	/* The agent is gone (reaped): nothing turns tracking on meanwhile. */
	if (ram_tracking_off(&r->vm->ram) < 0)
		say(r, "%s", "cannot turn dirty tracking off");
	vm_pause(r->vm);
	w0 = vm_writes(r->vm);
	vm_resume(r->vm);
	sleep_ms(r->o->after_ms);
	vm_pause(r->vm);
	ok = check_advanced(r, w0);
	ok &= check_workload(r, "after_failure");
	ok &= check_pins_released(r);
	ok &= check_tracking_off(r);
	return ok;
}

/*
 * --retry-connect: the same VM, with whatever the failed attempt left in
 * its regions, migrates again, with the agent's and the migration's
 * defaults (the first attempt's test settings -- a pause that never
 * comes, a bandwidth cap, a stall point, a short inactivity limit --
 * would only make it fail).
 */
static void prepare_retry(struct run *r)
{
	struct vmm_opts *o = r->o;
	unsigned int i, n = 0;

	report_set_str(r, "first_result", r->cancel_sent ? "cancelled" : "failed");
	report_set_str(r, "first_reason", r->reason[0] ? r->reason : "unknown");
	json_object_object_del(r->report, "reason");
	for (i = 0; i < o->agent.nr_extra; i++)
		if (strncmp(o->agent.extra[i], "--debug-stall", 13) &&
		    strncmp(o->agent.extra[i], "--timeout-ms", 12))
			o->agent.extra[n++] = o->agent.extra[i];
	o->agent.nr_extra = n;
	o->agent.addr = o->retry_connect;
	o->downtime_ms = o->max_iterations = o->max_bandwidth_mbps = -1;
	o->on_max_iterations = NULL;
	o->pause_delay_ms = 0;
	o->cancel_after_ms = -1;
	r->done = r->completed = r->cancel_sent = r->paused = r->greeted = false;
	r->pause_due = false;
	r->reason[0] = '\0';
	r->migrate_id = 0;
	r->prog_ns = r->prog_sent = 0;
	r->agent.pid = -1;
	r->agent.ctl = r->agent.state = -1;
	r->agent.qmp = NULL;
	say(r, "retrying: migrating the same VM to %s", o->retry_connect);
	vm_resume(r->vm);
}

int run_source(struct run *r)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	bool ok;

	sigaction(SIGUSR1, &sa, NULL);
	if (boot_vm(r))
		return 1;
	sleep_ms(r->o->migrate_after_ms);
	if (r->o->events)
		r->events = fopen(r->o->events, "a");

	migrate_once(r);
	report_set_u64(r, "progress_events", r->progress_events);
	report_set_u64(r, "max_throttle_pct", r->max_throttle);
	if (r->completed)
		return source_completed(r);
	ok = source_failed(r);
	if (ok && r->o->retry_connect) {
		prepare_retry(r);
		migrate_once(r);
		if (r->completed)
			return source_completed(r);
		ok = source_failed(r);
	}
	if (r->events)
		fclose(r->events);
	return ok ? 3 : 1;
}

/* ---- destination ---------------------------------------------------------------- */

static bool load_state(struct run *r)
{
	struct wl_state st;
	char err[256];
	unsigned int i;
	bool same = true;

	if (wl_decode(r->state ? r->state : "", r->state_len, &st, err, sizeof(err))) {
		fail(r, "bad device state: %s", err);
		return false;
	}
	if (st.nr_regions != r->vm->ram.nr)
		same = false;
	for (i = 0; same && i < st.nr_regions; i++)
		same = st.region_bytes[i] == r->vm->ram.r[i].length;
	if (!same) {
		fail(r, "%s", "device state describes another RAM layout");
		return false;
	}
	r->vm->wl = st;
	report_vm(r);
	return true;
}

int run_destination(struct run *r)
{
	char why[512] = "";
	bool ok = true, verified;
	uint64_t w0, t0;
	int ret;

	report_set_str(r, "result", "failed");
	if (r->o->events)
		r->events = fopen(r->o->events, "a");
	if (r->o->scribble) {
		unsigned int i;

		/* What a VMM may have done before the migration: all of it must go. */
		for (i = 0; i < r->vm->ram.nr; i++)
			memset(r->vm->ram.r[i].mem, 0x5a + i, r->vm->ram.r[i].length);
		say(r, "wrote garbage into all %" PRIu64 " pages of RAM", r->vm->ram.pages);
	}
	if (start_agent(r) == 0) {
		r->t_migrate = now_ns();
		say(r, "waiting for the incoming migration");
		event_loop(r);
	}
	report_set_u64(r, "progress_events", r->progress_events);
	if (!r->completed || !load_state(r)) {
		report_set_str(r, "reason", r->reason[0] ? r->reason : "unknown");
		say(r, "migration failed: %s; nothing to resume", r->reason);
		stop_agent(r);
		check_pins_released(r);
		if (r->events)
			fclose(r->events);
		return 3;
	}

	/*
	 * Everything is here. Hashes and checks happen before the vCPUs
	 * run, so they see exactly what the source had at its pause; this
	 * delays our resume (reported as hash_ms) but is outside the
	 * downtime rdmigd measures.
	 */
	t0 = now_ns();
	ok &= write_hashes(r);
	ok &= check_workload(r, "at_resume");
	w0 = vm_writes(r->vm);
	ret = vm_start(r->vm, false);
	if (ret < 0) {
		fail(r, "cannot start vCPUs: %s", strerror(-ret));
		ok = false;
	} else {
		say(r, "vCPUs resumed from the migrated state (checks took %" PRIu64 " ms)",
		    (now_ns() - t0) / 1000000);
		sleep_ms(r->o->run_ms);
		vm_pause(r->vm);
		ok &= check_advanced(r, w0);
		ok &= check_workload(r, "after_run");
	}
	stop_agent(r);
	ok &= check_pins_released(r);

	verified = ok;
	if (r->o->verify_against && r->o->hashes) {
		if (!wait_file(r->o->verify_against, 120000)) {
			snprintf(why, sizeof(why), "no source hashes in %s", r->o->verify_against);
			ret = 1;
		} else {
			ret = verify_compare(r->o->verify_against, r->o->hashes, why, sizeof(why));
		}
		report_set_str(r, "hashes", ret == 0 ? "equal" : why);
		if (ret)
			say(r, "VERIFY FAILED: %s", why);
		else
			say(r, "memory is byte-for-byte what the source had at its pause");
		verified &= ret == 0;
	}
	report_set_str(r, "result", "completed");
	report_set_bool(r, "verified", verified);
	if (r->events)
		fclose(r->events);
	free(r->state);
	return verified ? 0 : 1;
}
