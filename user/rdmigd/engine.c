// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The migration's lifecycle, apart from the channel that reports it
 * (channel.c) and the engines themselves (source.c, dest.c): the engine
 * thread's start and join, the statuses in QEMU's MigrationStatus order
 * and their MIGRATION events, QEMU's MigrationInfo with rdmig's
 * statistics, and the report of the end, exactly once.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "log.h"
#include "rdmigd.h"

static pthread_t engine;
static bool engine_started;

/* Serializes status events with the terminal one (see sync_status()). */
static pthread_mutex_t status_lock = PTHREAD_MUTEX_INITIALIZER;
static int last_status = -1;	/* last MIGRATION status sent, -1 = none */
static uint64_t t_begin;	/* migrate (source) or start (destination) */

/* QEMU's MigrationStatus names. */
const char *status_name(enum mig_status s)
{
	static const char *const n[] = {
		[ST_SETUP] = "setup", [ST_ACTIVE] = "active",
		[ST_SWITCHOVER] = "pre-switchover", [ST_DEVICE] = "device",
		[ST_COMPLETED] = "completed", [ST_FAILED] = "failed",
		[ST_CANCELLED] = "cancelled",
	};

	return n[s];
}

#define ADD_U64(o, k, v) json_object_object_add(o, k, json_object_new_int64((int64_t)(v)))

/*
 * "phases_ms" and "rounds" of a finished source migration. Each phase is
 * rounded down to ms and "other" is the rest of total_ms, so the parts
 * sum to total_ms exactly.
 */
static void add_phases(json_object *o, const struct mig_stats *s)
{
	static const char *const names[PH_N] = {
		[PH_SETUP] = "setup", [PH_CLASSIFY] = "classify",
		[PH_REGISTER] = "register", [PH_REQUEST] = "request",
		[PH_RKEY_WAIT] = "rkey_wait",
		[PH_POST] = "post", [PH_CQ_WAIT] = "cq_wait",
		[PH_INFLIGHT_WAIT] = "inflight_wait", [PH_SYNC] = "sync",
		[PH_SWITCHOVER] = "switchover", [PH_OTHER] = "other",
	};
	json_object *ph = json_object_new_object(), *rounds = json_object_new_array();
	uint64_t sum = 0, ms;
	uint32_t i;

	for (i = 0; i < PH_N; i++) {
		if (i == PH_OTHER)
			continue;
		ms = s->phase_us[i] / 1000;
		/* Never more than the whole: a clock step cannot make it so. */
		if (sum + ms > s->total_ms)
			ms = s->total_ms - sum;
		sum += ms;
		ADD_U64(ph, names[i], ms);
	}
	ADD_U64(ph, names[PH_OTHER], s->total_ms - sum);
	json_object_object_add(o, "phases_ms", ph);
	for (i = 0; i < s->nrounds; i++) {
		json_object *r = json_object_new_object();

		ADD_U64(r, "t_ms", s->rounds[i].t_ms);
		ADD_U64(r, "sent_bytes", s->rounds[i].sent_bytes);
		ADD_U64(r, "dirty_bytes", s->rounds[i].dirty_bytes);
		ADD_U64(r, "remaining_bytes", s->rounds[i].remaining_bytes);
		json_object_array_add(rounds, r);
	}
	json_object_object_add(o, "rounds", rounds);
}

json_object *stats_json(const struct mig_stats *s, bool source)
{
	json_object *o = json_object_new_object();

	ADD_U64(o, "total_ms", s->total_ms);
	if (source) {
		ADD_U64(o, "downtime_ms", s->downtime_ms);
		ADD_U64(o, "setup_ms", s->setup_ms);
		ADD_U64(o, "connect_ms", s->connect_ms);
		ADD_U64(o, "ram_blocks_ms", s->ram_blocks_ms);
		ADD_U64(o, "tracking_on_ms", s->tracking_on_ms);
		ADD_U64(o, "first_registration_ms", s->first_registration_ms);
		ADD_U64(o, "iterations", s->iterations);
		ADD_U64(o, "switchover_rounds", s->switchover_rounds);
		ADD_U64(o, "last_round_pages", s->last_round_pages);
	}
	ADD_U64(o, "ram_bytes", s->ram_bytes);
	ADD_U64(o, "sent_bytes", s->sent_bytes);
	if (source) {
		ADD_U64(o, "pages_sent", s->pages_sent);
		ADD_U64(o, "zero_pages_skipped", s->zero_pages_skipped);
		ADD_U64(o, "compressed_pages", s->compressed_pages);
	}
	ADD_U64(o, "registrations", s->registrations);
	if (!source) {
		ADD_U64(o, "register_requests", s->register_requests);
		ADD_U64(o, "register_results", s->register_results);
	}
	if (source) {
		ADD_U64(o, "registration_wait_ms", s->registration_wait_us / 1000);
		ADD_U64(o, "registered_ahead", s->registered_ahead);
		ADD_U64(o, "register_ahead_ms", s->register_ahead_us / 1000);
		ADD_U64(o, "writes", s->writes);
		ADD_U64(o, "write_posts", s->write_posts);
		ADD_U64(o, "inflight_waits", s->inflight_waits);
	}
	ADD_U64(o, "credit_wait_ms", s->credit_wait_us / 1000);
	ADD_U64(o, "qps", s->qps);
	ADD_U64(o, "unregistrations", s->unregistrations);
	if (source)
		ADD_U64(o, "throughput_mbps", s->throughput_mbps);
	ADD_U64(o, "peak_pinned_bytes", s->peak_pinned_bytes);
	if (source)
		ADD_U64(o, "remote_peak_pinned_bytes", s->remote_peak_pinned_bytes);
	ADD_U64(o, "state_bytes", s->state_bytes);
	if (source && s->phases_done)
		add_phases(o, s);
	if (!source && s->total_ms) {
		json_object *ph = json_object_new_object();

		ADD_U64(ph, "pin", s->pin_us / 1000);
		ADD_U64(ph, "answer", s->answer_us / 1000);
		ADD_U64(ph, "release", s->release_us / 1000);
		json_object_object_add(o, "phases_ms", ph);
	}
	return o;
}

#define PAGE_BYTES 4096u

/*
 * QEMU's MigrationInfo (query-migrate, and the final MIGRATION event):
 * status, times, "ram", "error-desc"; what has no QEMU counterpart is in
 * "rdmig" (the statistics of stats_json()). Under a->lock.
 */
json_object *engine_mig_info(struct agent *a)
{
	const struct mig_stats *s = &a->stats;
	json_object *o = json_object_new_object(), *ram, *r;
	bool ended = a->status == ST_COMPLETED || a->status == ST_FAILED ||
		     a->status == ST_CANCELLED;

	if (a->source && !a->started)
		return o;	/* no migration yet: {} as in QEMU */
	json_object_object_add(o, "status", json_object_new_string(status_name(a->status)));
	ADD_U64(o, "total-time", ended ? s->total_ms : (now_us() - t_begin) / 1000);
	if (a->source && a->status != ST_SETUP)
		ADD_U64(o, "setup-time", s->setup_ms);
	if (a->source && a->status == ST_COMPLETED)
		ADD_U64(o, "downtime", s->downtime_ms);
	ram = json_object_new_object();
	ADD_U64(ram, "transferred", s->sent_bytes);
	ADD_U64(ram, "remaining", s->pages_remaining * PAGE_BYTES);
	ADD_U64(ram, "total", s->ram_bytes);
	ADD_U64(ram, "duplicate", s->zero_pages_skipped);
	ADD_U64(ram, "normal", s->pages_sent);
	ADD_U64(ram, "normal-bytes", s->pages_sent * PAGE_BYTES);
	ADD_U64(ram, "dirty-pages-rate", s->dirty_rate_pps);
	json_object_object_add(ram, "mbps", json_object_new_double((double)s->bandwidth_mbps));
	ADD_U64(ram, "dirty-sync-count", s->iterations);
	ADD_U64(ram, "page-size", PAGE_BYTES);
	json_object_object_add(o, "ram", ram);
	if (a->fail_reason[0] && (a->status == ST_FAILED || a->status == ST_CANCELLED))
		json_object_object_add(o, "error-desc", json_object_new_string(a->fail_reason));
	r = stats_json(s, a->source);
	json_object_object_add(r, "role", json_object_new_string(a->source ? "source" : "destination"));
	ADD_U64(r, "pages_remaining", s->pages_remaining);
	ADD_U64(r, "total_pages", s->total_pages);
	ADD_U64(r, "bandwidth_mbps", s->bandwidth_mbps);
	ADD_U64(r, "dirty_rate_pps", s->dirty_rate_pps);
	json_object_object_add(o, "rdmig", r);
	return o;
}

/*
 * MIGRATION events for the statuses the engine has moved through since
 * the last one sent: the engine only sets a->status, the events follow
 * from here (called before each engine event, on every wake-up of the main
 * thread and before the terminal event), so they are in order and none
 * is skipped on the path setup, active, pre-switchover, device.
 */
static void sync_status_locked(struct agent *a)
{
	enum mig_status st;
	bool live;
	int s;

	pthread_mutex_lock(&a->lock);
	st = a->status;
	live = (!a->source || a->started) && !a->reported;
	pthread_mutex_unlock(&a->lock);
	if (!live || st > ST_DEVICE)
		return;
	for (s = last_status + 1; s <= (int)st; s++) {
		json_object *d = json_object_new_object();

		json_object_object_add(d, "status", json_object_new_string(status_name(s)));
		ctl_event(a, "MIGRATION", d);
		last_status = s;
	}
}

void ctl_sync_status(struct agent *a)
{
	pthread_mutex_lock(&status_lock);
	sync_status_locked(a);
	pthread_mutex_unlock(&status_lock);
}

void engine_begin(struct agent *a)
{
	(void)a;
	t_begin = now_us();
}

int engine_start_source(struct agent *a)
{
	int rc;

	engine_begin(a);
	rc = pthread_create(&engine, NULL, source_main, a);
	if (rc) {
		engine_finish(a, false, "cannot start the migration thread");
		return rc;
	}
	engine_started = true;
	return 0;
}

void engine_start_dest(struct agent *a)
{
	int rc = pthread_create(&engine, NULL, dest_main, a);

	if (rc) {
		engine_finish(a, false, "cannot start the migration thread");
		return;
	}
	engine_started = true;
}

void engine_join(void)
{
	if (engine_started)
		pthread_join(engine, NULL);
	engine_started = false;
}

/*
 * Tell the VMM how the migration ended, once: a MIGRATION event whose
 * data is the final MigrationInfo (what query-migrate would have said;
 * the agent exits right after).
 */
void engine_report(struct agent *a, bool ok, const char *reason)
{
	uint64_t rt;
	json_object *d;

	pthread_mutex_lock(&status_lock);
	sync_status_locked(a);
	pthread_mutex_lock(&a->lock);
	if (a->reported) {
		pthread_mutex_unlock(&a->lock);
		pthread_mutex_unlock(&status_lock);
		return;
	}
	a->reported = true;
	if (ok) {
		a->status = ST_COMPLETED;
	} else {
		a->status = atomic_load(&a->cancel) ? ST_CANCELLED : ST_FAILED;
		snprintf(a->fail_reason, sizeof(a->fail_reason), "%s", reason);
	}
	a->exit_code = ok ? 0 : 1;
	d = engine_mig_info(a);
	/*
	 * "completed" is dated when the VM was handed over (the source: the
	 * destination's acknowledgement), not when this event got built: a
	 * VMM ends its downtime at this timestamp.
	 */
	rt = ok ? a->completed_rt_us : 0;
	pthread_mutex_unlock(&a->lock);
	ctl_event_at(a, "MIGRATION", d, false, rt);
	last_status = (int)(ok ? ST_COMPLETED : ST_FAILED);
	pthread_mutex_unlock(&status_lock);
	if (ok)
		log_info("migration completed");
	else
		log_err("migration failed: %s", reason);
}

/* The migration thread is done: report (unless it did) and let main exit. */
void engine_finish(struct agent *a, bool ok, const char *reason)
{
	engine_report(a, ok, reason);
	pthread_mutex_lock(&a->lock);
	a->engine_done = true;
	pthread_mutex_unlock(&a->lock);
	ctl_wake(a);
}

/*
 * Test fault points (--debug-stall POINT:MS, off by default): the engine
 * holds still at a named point for MS ms, long enough for a test to see
 * that it got there (the log line) and to inject a fault (kill a process,
 * take the link down) at exactly that point of the migration. The hold
 * runs under conn_busy_begin(), so the peer keeps hearing keepalives and
 * what arrives meanwhile (a disconnect, an ERROR) is noticed; it ends
 * early when the connection fails or the migration is cancelled.
 */
static const struct {
	const char *name;
	bool source;	/* the role that passes this point */
} stall_points[] = {
	{ "connect", true },	/* regions open; before the connect request */
	{ "join", true },	/* --qps 3 or more: data QP 1 joined, before the next joins */
	{ "setup", true },	/* connected, RAM blocks agreed, tracking on; before iteration 0 */
	{ "iteration0", true },	/* iteration 0 under way: its first chunk written */
	{ "iteration3", true },	/* a later round (iteration 3): its first chunk written */
	{ "device", true },	/* VMM paused, last round sent; before the device state */
	{ "completion", false },/* all RAM and state here, pins released; before the ACK */
	/*
	 * Each COMPRESS, before its zero ranges are applied: a slow
	 * destination, so that with several QPs a later WRITE of the same
	 * pages lands on a data QP first unless the source fences (BARRIER).
	 */
	{ "compress", false },
	/*
	 * Not a hold: at iteration 1's first chunk the source disconnects
	 * data QP 1 (--qps 2 or more), the loss of one QP (MS unused).
	 */
	{ "dataqp1", true },
};
static const char *stall_point;
static unsigned int stall_ms;

int engine_debug_stall_parse(const char *arg, bool source, char *err, size_t len)
{
	const char *colon = strchr(arg, ':');
	uint64_t ms;
	size_t i;

	for (i = 0; colon && i < sizeof(stall_points) / sizeof(stall_points[0]); i++) {
		if (strlen(stall_points[i].name) != (size_t)(colon - arg) ||
		    strncmp(arg, stall_points[i].name, (size_t)(colon - arg)))
			continue;
		if (rdmig_parse_u64(colon + 1, &ms) || !ms || ms > 600000) {
			snprintf(err, len, "--debug-stall %s: MS must be 1..600000", arg);
			return -1;
		}
		if (stall_points[i].source != source) {
			snprintf(err, len, "--debug-stall: point '%s' is on the %s", stall_points[i].name,
				 stall_points[i].source ? "source (--connect)" : "destination (--listen)");
			return -1;
		}
		stall_point = stall_points[i].name;
		stall_ms = (unsigned int)ms;
		return 0;
	}
	snprintf(err, len, "--debug-stall: expected POINT:MS with POINT connect, join, setup, iteration0, iteration3, device, dataqp1 (source) or completion, compress (destination), got '%s'",
		 arg);
	return -1;
}

bool engine_fault(const char *point)
{
	return stall_point && !strcmp(stall_point, point);
}

int engine_stall(struct agent *a, struct conn *c, const char *point)
{
	uint64_t end;
	int rc;

	if (!stall_point || strcmp(stall_point, point))
		return 0;
	ctl_sync_status(a);	/* the VMM sees the status this point is in */
	log_info("debug stall: holding at %s for %u ms", point, stall_ms);
	end = now_us() + (uint64_t)stall_ms * 1000;
	conn_busy_begin(c);
	while (now_us() < end && !atomic_load(&a->cancel) &&
	       !__atomic_load_n(&c->failed, __ATOMIC_RELAXED) &&
	       !__atomic_load_n(&c->peer_gone, __ATOMIC_RELAXED)) {
		struct timespec ts = { .tv_nsec = 20 * 1000000L };

		nanosleep(&ts, NULL);
	}
	conn_busy_end(c);
	rc = c->failed ? -1 : 0;
	if (!rc && c->peer_gone) {
		/* Gone meanwhile: the engine must not move on to the next status. */
		if (c->depth == 0) {
			/* Its last messages first (an ERROR names the cause). */
			while (conn_progress(c, 0) == 0)
				;
			rc = -1;
		} else {
			c->peer_error = true;
			rc = conn_fail(c, "peer disconnected");
		}
	}
	if (!rc && atomic_load(&a->cancel))
		rc = conn_fail(c, "migration cancelled");
	log_info("debug stall: %s released%s", point, rc ? " (the connection failed meanwhile)" : "");
	return rc;
}

/* The round points: the source calls this after the first chunk of a round. */
int engine_stall_round(struct agent *a, struct conn *c, uint32_t iteration)
{
	return iteration == 0 ? engine_stall(a, c, "iteration0") :
	       iteration == 3 ? engine_stall(a, c, "iteration3") : 0;
}
