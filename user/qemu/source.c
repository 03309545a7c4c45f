// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The guest running, and migrating it (rdmig-qemu run). The order of a
 * migration (Documentation/qemu.md):
 *   rdmigd pre-copy (module dirty tracking)            phase RAM
 *   rdmigd MIGRATION pre-switchover ->
 *     QEMU migrate-set-capabilities x-ignore-shared, pause-before-switchover
 *     QEMU migrate tcp:DEVICE (small non-shared RAM)   phase DEVICE
 *   QEMU MIGRATION pre-switchover (vCPUs stopped) ->
 *     empty device state to rdmigd, rdmigd migrate-continue: last round
 *                                                      phase FINAL
 *   rdmigd MIGRATION completed -> QEMU migrate-continue phase QEMU_FINAL
 *   QEMU MIGRATION completed: the destination has everything, resumes.
 * Any failure on the way: rdmigd cancelled (it releases every pin and
 * exits), QEMU's migration cancelled, the guest continued if paused.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qemu.h"
#include "control.h"
#if __has_include("throttle.h")
#include "throttle.h"
#define HAVE_THROTTLE 1
#else
#define HAVE_THROTTLE 0
#endif

#define MAX_VCPUS 64

enum phase { P_IDLE, P_RAM, P_DEVICE, P_FINAL, P_QEMU_FINAL };

static const char *const phase_name[] = {
	"idle", "ram", "device", "final", "qemu-final",
};

struct mig {
	enum phase phase;
	struct agent a;
	bool agent_done;		/* rdmigd sent its final MIGRATION */
	bool agent_continued, agent_completed, qemu_paused, qemu_continued;
	char to[128], device[128];
	uint64_t t0_us, ready_us;	/* monotonic: migrate, rdmigd pre-switchover */
	uint64_t stop_wall_us, stop_mono_us, qemu_done_us;
	int64_t deadline_ms;
	json_object *rdmig;		/* rdmigd's final MigrationInfo */
	unsigned int progress, throttle_max;
	char throttle_err[512];		/* why there is no throttle */
#if HAVE_THROTTLE
	struct throttle *thr;
#endif
};

struct server {
	struct vm *vm;
	const struct opts *o;
	int lfd;			/* control socket, listening */
	struct qc_chan ch;		/* its client */
	struct mig m;
	bool quit;			/* leave the loop */
	int exit_code;
};

/* ---- the control channel ---------------------------------------------------- */

static void client_event(struct server *s, const char *name, json_object *data)
{
	qc_event(&s->ch, name, data);
}

/* ---- failure and its clean-up ----------------------------------------------- */

static void release_throttle(struct mig *m)
{
#if HAVE_THROTTLE
	if (m->thr) {
		if (throttle_pct(m->thr) > m->throttle_max)
			m->throttle_max = throttle_pct(m->thr);
		throttle_free(m->thr);	/* the vCPUs run at full speed again */
		m->thr = NULL;
	}
#else
	(void)m;
#endif
}

static void stop_agent(struct mig *m, int timeout_ms)
{
	if (m->a.pid <= 0 && !m->a.qmp)
		return;
	agent_close(&m->a);	/* a closed channel cancels the migration */
	if (m->a.state >= 0)
		close(m->a.state);
	m->a.state = -1;
	if (m->a.pid > 0)
		agent_reap(&m->a, timeout_ms, NULL);
}

/* Waits until QEMU's migration left its running states; true if it did. */
static bool qemu_migration_settled(struct vm *vm, int timeout_ms)
{
	uint64_t end = rdmig_now_us() + (uint64_t)timeout_ms * 1000;
	char err[256];

	while (rdmig_now_us() < end) {
		json_object *r = NULL;
		const char *st;

		if (vm_qmp(vm, "query-migrate", NULL, &r, err, sizeof(err)))
			return false;
		st = jget_str(r, "status");
		if (strcmp(st, "setup") && strcmp(st, "active") &&
		    strcmp(st, "pre-switchover") && strcmp(st, "device") &&
		    strcmp(st, "cancelling")) {
			json_object_put(r);
			return true;
		}
		json_object_put(r);
		usleep(20000);
	}
	return false;
}

static json_object *base_report(struct server *s, const char *result, const char *reason)
{
	json_object *rep = json_object_new_object(), *sizes = json_object_new_array();
	uint64_t ram = 0;
	unsigned int i;

	json_object_object_add(rep, "result", json_object_new_string(result));
	if (reason)
		json_object_object_add(rep, "reason", json_object_new_string(reason));
	json_object_object_add(rep, "role", json_object_new_string("source"));
	for (i = 0; i < s->vm->nr; i++) {
		ram += s->vm->r[i].length;
		json_object_array_add(sizes, json_object_new_uint64(s->vm->r[i].length));
	}
	json_object_object_add(rep, "ram_bytes", json_object_new_uint64(ram));
	json_object_object_add(rep, "regions", sizes);
	if (s->m.t0_us)
		json_object_object_add(rep, "total_ms",
				       json_object_new_uint64((rdmig_now_us() - s->m.t0_us) / 1000));
	json_object_object_add(rep, "throttle_max_pct", json_object_new_uint64(s->m.throttle_max));
	json_object_object_add(rep, "throttle",
			       json_object_new_string(!HAVE_THROTTLE ? "not built" :
						      s->m.throttle_err[0] ? s->m.throttle_err : "cgroup"));
	if (s->m.stop_wall_us)
		json_object_object_add(rep, "stop_wall_us", json_object_new_uint64(s->m.stop_wall_us));
	return rep;
}

/*
 * Every failure ends here: rdmigd cancelled (its exit releases every pin
 * on both sides), QEMU's migration cancelled, the guest running again.
 */
static void mig_fail(struct server *s, const char *reason)
{
	struct mig *m = &s->m;
	struct vm *vm = s->vm;
	char st[64] = "", err[256];
	json_object *rep;
	/*
	 * Cancelled only by this side (migrate_cancel, quit, the client's
	 * close, a signal): rdmigd's own reasons say "cancelled" when its
	 * peer aborted (a destination that failed), which is a failure here.
	 */
	bool cancelled = stop_signal ||
			 (strncmp(reason, "rdmigd: ", 8) && strstr(reason, "cancel"));

	if (m->phase == P_IDLE)
		return;
	say("migration failed: %s", reason);
	stop_agent(m, 10000);
	release_throttle(m);
	/*
	 * rdmigd turns tracking off when it ends cleanly; after a SIGKILL it
	 * stays on and every guest write would fault: off, from the guest view.
	 */
	for (unsigned int i = 0; i < vm->nr; i++)
		rdmig_region_set_tracking(vm->r[i].fd, false);
	if (!vm_reap(vm) && vm->qmp) {
		if (m->phase >= P_DEVICE) {
			vm_qmp(vm, "migrate_cancel", NULL, NULL, err, sizeof(err));
			qemu_migration_settled(vm, 10000);
		}
		if (vm_status(vm, st, sizeof(st)) == 0 && strcmp(st, "running")) {
			if (vm_qmp(vm, "cont", NULL, NULL, err, sizeof(err)))
				say("cont: %s", err);
			vm_status(vm, st, sizeof(st));
		}
	}
	rep = base_report(s, cancelled ? "cancelled" : "failed", reason);
	json_object_object_add(rep, "guest_status",
			       json_object_new_string(vm_reap(vm) ? "gone" : st));
	if (m->rdmig)
		json_object_object_add(rep, "rdmig", json_object_get(m->rdmig));
	json_object_put(m->rdmig);
	m->rdmig = NULL;
	client_event(s, "RDMIG_QEMU_DONE", json_object_get(rep));
	print_report(rep, s->o->report);
	json_object_put(rep);
	say("the guest stays here (%s)", vm_reap(vm) ? "QEMU is gone" : st);
	memset(m, 0, sizeof(*m));
	m->a.pid = -1;
	m->a.ctl = -1;
	m->a.state = -1;
}

/* ---- the migration ---------------------------------------------------------- */

static int mig_start(struct server *s, json_object *args, char *err, size_t len)
{
	struct mig *m = &s->m;
	struct vm *vm = s->vm;
	struct agent_cfg cfg = s->o->agent;
	int tfds[QARGS_MAX_BACKENDS], ret;
	json_object *params = NULL, *j, *qp;
	const char *secret;
	unsigned int i;

	if (m->phase != P_IDLE) {
		snprintf(err, len, "a migration is already running");
		return -1;
	}
	memset(m, 0, sizeof(*m));
	m->a.pid = -1;
	m->a.ctl = -1;
	m->a.state = -1;
	snprintf(m->to, sizeof(m->to), "%s", jget_str(args, "to"));
	snprintf(m->device, sizeof(m->device), "%s", jget_str(args, "device"));
	if (!m->to[0] || !m->device[0]) {
		snprintf(err, len, "migrate needs 'to' (rdmigd ADDR:PORT) and 'device' (QEMU's ADDR:PORT)");
		return -1;
	}
	m->deadline_ms = jget_i64(args, "deadline-ms");
	cfg.source = true;
	cfg.addr = m->to;
	cfg.bind = *jget_str(args, "bind") ? jget_str(args, "bind") : NULL;
	secret = jget_str(args, "secret-file");
	if (*secret && cfg.nr_extra + 2 <= AGENT_MAX_ARGS) {
		cfg.extra[cfg.nr_extra++] = "--secret-file";
		cfg.extra[cfg.nr_extra++] = secret;
	}
	ret = transfer_fds(vm, tfds);
	if (ret) {
		snprintf(err, len, "no transfer view of the regions: %s", strerror(-ret));
		return -1;
	}
	ret = agent_spawn(&cfg, tfds, vm->nr, &m->a);
	for (i = 0; i < vm->nr; i++)
		close(tfds[i]);
	if (ret) {
		snprintf(err, len, "cannot start %s: %s", cfg.path, strerror(-ret));
		return -1;
	}
	if (s->o->agent_pidfile) {
		FILE *f = fopen(s->o->agent_pidfile, "w");

		if (f) {
			fprintf(f, "%d\n", (int)m->a.pid);
			fclose(f);
		}
	}
	m->phase = P_RAM;	/* from here on, failures go through mig_fail() */
	m->t0_us = rdmig_now_us();
	if (agent_open(&m->a, 15000, err, len))
		return -2;
	if (json_object_object_get_ex(args, "parameters", &j) &&
	    json_object_object_length(j))
		params = json_object_get(j);
	if (params && rdmig_ctl_execute(m->a.qmp, "migrate-set-parameters", params, NULL,
					err, len, QMP_CMD_MS))
		return -2;
	/* QEMU: its own stream carries device state and non-shared RAM only. */
	if (vm_qmp(vm, "migrate-set-capabilities", qemu_caps(true), NULL, err, len))
		return -2;
	qp = json_object_new_object();
	/* QEMU 7.2 defaults to 32 MiB/s for its stream: the device stream is the downtime. */
	json_object_object_add(qp, "max-bandwidth", json_object_new_int64(1LL << 34));
	if (vm_qmp(vm, "migrate-set-parameters", qp, NULL, err, len))
		return -2;
#if HAVE_THROTTLE
	{
		pid_t tids[MAX_VCPUS];
		int n = vm_vcpu_tids(vm, tids, MAX_VCPUS);

		if (n < 0) {
			snprintf(err, len, "query-cpus-fast: %s", strerror(-n));
			return -2;
		}
		m->thr = throttle_new_in(s->o->cgroup, vm->qemu_pid, tids,
					 (unsigned int)n, err, len);
		/* Without it, a guest that does not converge fails by policy. */
		if (!m->thr) {
			say("no vCPU throttling: %s", err);
			snprintf(m->throttle_err, sizeof(m->throttle_err), "%s", err);
		}
	}
#endif
	if (agent_send(&m->a, "migrate", NULL) < 0) {
		snprintf(err, len, "rdmigd: cannot send migrate");
		return -2;
	}
	say("migrating to %s (RAM, rdmigd) and %s (device state, QEMU)", m->to, m->device);
	return 0;
}

static void forward_progress(struct server *s, json_object *data)
{
	struct mig *m = &s->m;
	json_object *d = json_object_get(data);
	bool hint = false;
	json_object *j;

	if (json_object_object_get_ex(data, "throttle_hint", &j))
		hint = json_object_get_boolean(j);
#if HAVE_THROTTLE
	if (m->thr) {
		int pct = throttle_on_hint(m->thr, hint);

		if (pct < 0)
			say("throttle: %s", strerror(-pct));
		else if ((unsigned int)pct > m->throttle_max)
			m->throttle_max = (unsigned int)pct;
		json_object_object_add(d, "throttle_pct",
				       json_object_new_int(pct < 0 ? 0 : pct));
	}
#else
	(void)hint;
#endif
	m->progress++;
	client_event(s, "RDMIG_PROGRESS", d);
}

/* QEMU's vCPUs are stopped: rdmigd's last round (no device state of its own). */
static void agent_continue(struct server *s)
{
	struct mig *m = &s->m;
	json_object *a = json_object_new_object();
	uint64_t paused = m->stop_mono_us, now = rdmig_now_us();

	close(m->a.state);	/* the empty device state */
	m->a.state = -1;
	json_object_object_add(a, "state", json_object_new_string("pre-switchover"));
	if (m->qemu_paused) {
		/* The downtime starts at QEMU's STOP, as the guest saw it. */
		if (paused < m->ready_us || paused > now)
			paused = paused < m->ready_us ? m->ready_us : now;
		json_object_object_add(a, "paused_at_us", json_object_new_uint64(paused));
	}
	m->agent_continued = true;
	if (agent_send(&m->a, "migrate-continue", a) < 0) {
		mig_fail(s, "rdmigd: cannot send migrate-continue");
		return;
	}
	say("guest paused: rdmigd's last round");
	m->phase = P_FINAL;
}

/* RAM is complete at the destination: QEMU sends the rest of the device state. */
static void qemu_continue(struct server *s)
{
	struct mig *m = &s->m;
	json_object *a = json_object_new_object();
	char err[512], why[640];

	say("RAM is at the destination: QEMU completes the device state");
	json_object_object_add(a, "state", json_object_new_string("pre-switchover"));
	m->qemu_continued = true;
	if (vm_qmp(s->vm, "migrate-continue", a, NULL, err, sizeof(err))) {
		snprintf(why, sizeof(why), "QEMU: %s", err);
		mig_fail(s, why);
		return;
	}
	m->phase = P_QEMU_FINAL;
}

/*
 * RDMIG_QEMU_TEST_FAULT=continue-early (tests only: 61-qemu.sh proves
 * that its check catches it): rdmigd's last round starts without waiting
 * for QEMU to stop the vCPUs, so the guest's later writes are lost.
 */
static bool fault(const char *name)
{
	const char *f = getenv("RDMIG_QEMU_TEST_FAULT");

	return f && !strcmp(f, name);
}

/* rdmigd's RAM converged: QEMU's own stream, device state and small blocks. */
static void qemu_migrate(struct server *s)
{
	struct mig *m = &s->m;
	json_object *a = json_object_new_object();
	char uri[160], err[512], why[640];

	say("RAM converged: QEMU migrates its device state to %s", m->device);
	snprintf(uri, sizeof(uri), "tcp:%s", m->device);
	json_object_object_add(a, "uri", json_object_new_string(uri));
	if (vm_qmp(s->vm, "migrate", a, NULL, err, sizeof(err))) {
		snprintf(why, sizeof(why), "QEMU: %s", err);
		mig_fail(s, why);
		return;
	}
	if (m->phase < P_DEVICE)
		m->phase = P_DEVICE;
}

static void agent_msg(struct server *s, json_object *msg)
{
	struct mig *m = &s->m;
	json_object *data = NULL, *e;
	const char *ev = rdmig_ctl_event(msg, &data), *st;
	char why[640];

	if (!ev) {
		if (json_object_object_get_ex(msg, "error", &e)) {
			snprintf(why, sizeof(why), "rdmigd refused a command: %s",
				 jget_str(e, "desc"));
			mig_fail(s, why);
		}
		return;
	}
	if (!strcmp(ev, "RDMIG_PROGRESS")) {
		forward_progress(s, data);
		return;
	}
	st = rdmig_ctl_migration_status(msg);
	if (!st)
		return;
	client_event(s, "RDMIG_QEMU_STATUS", json_object_new_string(st));
	if (!strcmp(st, "pre-switchover") && m->phase == P_RAM) {
		m->ready_us = rdmig_now_us();
		if (fault("continue-early")) {
			say("test fault continue-early: rdmigd's last round while the guest runs");
			agent_continue(s);
			return;
		}
		qemu_migrate(s);
	} else if (!strcmp(st, "completed")) {
		m->agent_done = true;
		m->agent_completed = true;
		if (json_object_object_get_ex(data, "rdmig", &e))
			m->rdmig = json_object_get(e);
		if (!m->agent_continued) {
			mig_fail(s, "rdmigd completed before QEMU paused (internal error)");
			return;
		}
		if (m->qemu_paused && !m->qemu_continued) {
			qemu_continue(s);
		} else if (fault("continue-early") && !m->qemu_paused) {
			/* The guest goes on writing for a second: lost writes for sure. */
			sleep(1);
			qemu_migrate(s);
		}
	} else if (!strcmp(st, "failed") || !strcmp(st, "cancelled")) {
		m->agent_done = true;
		if (json_object_object_get_ex(data, "rdmig", &e))
			m->rdmig = json_object_get(e);
		snprintf(why, sizeof(why), "rdmigd: %s",
			 *jget_str(data, "error-desc") ? jget_str(data, "error-desc") : st);
		mig_fail(s, why);
	}
}

static void mig_done(struct server *s)
{
	struct mig *m = &s->m;
	json_object *rep, *q = NULL, *j;
	char err[256];
	static const char *const copy[] = {
		"iterations", "sent_bytes", "zero_pages_skipped", "throughput_mbps",
		"pages_sent", "registrations", "registration_wait_ms", "setup_ms",
		"last_round_pages", "switchover_rounds", NULL,
	};
	unsigned int i;

	m->qemu_done_us = rdmig_now_us();
	release_throttle(m);
	rep = base_report(s, "completed", NULL);
	/*
	 * QEMU 7.2 says "completed" (the event and query-migrate's status) a
	 * moment before it fills in total-time and downtime
	 * (migration_calculate_complete): until then both read 0. Wait for
	 * the final reply, at most a second.
	 */
	for (i = 0; i < 50; i++) {
		if (vm_qmp(s->vm, "query-migrate", NULL, &q, err, sizeof(err)) || !q ||
		    jget_i64(q, "total-time") > 0)
			break;
		json_object_put(q);
		q = NULL;
		usleep(20000);
	}
	if (q) {
		json_object_object_add(rep, "qemu", q);
		if (json_object_object_get_ex(q, "ram", &j))
			json_object_object_add(rep, "device_stream_bytes",
					       json_object_new_int64(jget_i64(j, "transferred")));
	}
	if (m->stop_mono_us)
		json_object_object_add(rep, "source_downtime_ms",
				       json_object_new_uint64((m->qemu_done_us - m->stop_mono_us) / 1000));
	if (m->rdmig) {
		for (i = 0; copy[i]; i++)
			if (json_object_object_get_ex(m->rdmig, copy[i], &j))
				json_object_object_add(rep, copy[i], json_object_get(j));
		json_object_object_add(rep, "rdmig_downtime_ms",
				       json_object_new_int64(jget_i64(m->rdmig, "downtime_ms")));
		json_object_object_add(rep, "rdmig", json_object_get(m->rdmig));
	}
	say("migration completed: the guest runs at the destination");
	client_event(s, "RDMIG_QEMU_DONE", json_object_get(rep));
	print_report(rep, s->o->report);
	json_object_put(rep);
	stop_agent(m, 30000);
	json_object_put(m->rdmig);
	m->rdmig = NULL;
	m->phase = P_IDLE;
	/* The source's part is over: QEMU is in postmigrate, quit it. */
	vm_qmp(s->vm, "quit", NULL, NULL, err, sizeof(err));
	s->quit = true;
	s->exit_code = 0;
}

static void qemu_msg(struct server *s, json_object *msg)
{
	struct mig *m = &s->m;
	json_object *data = NULL;
	const char *ev = rdmig_ctl_event(msg, &data), *st;
	char why[512];

	if (!ev)
		return;
	if (!strcmp(ev, "STOP") && m->phase >= P_DEVICE) {
		uint64_t ts = qmp_event_us(msg), now = wall_us();

		m->stop_wall_us = ts;
		m->stop_mono_us = rdmig_now_us() - (now > ts ? now - ts : 0);
		return;
	}
	if (!strcmp(ev, "SHUTDOWN")) {
		if (m->phase != P_IDLE)
			mig_fail(s, "the guest shut down during the migration");
		return;
	}
	st = rdmig_ctl_migration_status(msg);
	if (!st || m->phase == P_IDLE)
		return;
	if (!strcmp(st, "pre-switchover") && m->phase >= P_DEVICE && !m->qemu_paused) {
		m->qemu_paused = true;
		if (!m->agent_continued)
			agent_continue(s);
		else if (m->agent_completed && !m->qemu_continued)
			qemu_continue(s);
	} else if (!strcmp(st, "completed") && m->phase == P_QEMU_FINAL) {
		mig_done(s);
	} else if (!strcmp(st, "failed") || !strcmp(st, "cancelled")) {
		json_object *q = NULL;
		char err[256];

		vm_qmp(s->vm, "query-migrate", NULL, &q, err, sizeof(err));
		snprintf(why, sizeof(why), "QEMU's device stream %s: %s", st,
			 *jget_str(q, "error-desc") ? jget_str(q, "error-desc") : "no reason given");
		json_object_put(q);
		mig_fail(s, why);
	}
}

/* ---- commands on the control channel ------------------------------------------ */

static void on_command(void *ctx, const char *cmd, json_object *args, json_object *id)
{
	struct server *s = ctx;
	char err[512];
	int r;

	if (!strcmp(cmd, "migrate")) {
		static const char *const known[] = {
			"to", "device", "bind", "parameters", "secret-file", "deadline-ms", NULL,
		};

		if (qc_check_args(args, known, err, sizeof(err))) {
			qc_error(&s->ch, id, "GenericError", err);
			return;
		}
		r = mig_start(s, args, err, sizeof(err));
		if (r == -1) {
			qc_error(&s->ch, id, "GenericError", err);
			return;
		}
		qc_reply(&s->ch, id, NULL);
		if (r == -2)
			mig_fail(s, err);
	} else if (!strcmp(cmd, "migrate_cancel")) {
		qc_reply(&s->ch, id, NULL);
		mig_fail(s, "migration cancelled");
	} else if (!strcmp(cmd, "query-status")) {
		json_object *o = json_object_new_object();
		char st[64] = "unknown";

		vm_status(s->vm, st, sizeof(st));
		json_object_object_add(o, "status", json_object_new_string(st));
		json_object_object_add(o, "migration",
				       json_object_new_string(phase_name[s->m.phase]));
		json_object_object_add(o, "qemu-pid", json_object_new_int(s->vm->qemu_pid));
		qc_reply(&s->ch, id, o);
	} else if (!strcmp(cmd, "quit")) {
		qc_reply(&s->ch, id, NULL);
		mig_fail(s, "cancelled: rdmig-qemu quits");
		vm_qmp(s->vm, "quit", NULL, NULL, err, sizeof(err));
		s->quit = true;
	} else {
		snprintf(err, sizeof(err), "The command %s has not been found", cmd);
		qc_error(&s->ch, id, "CommandNotFound", err);
	}
}

static void client_close(struct server *s)
{
	qc_chan_close(&s->ch);
	/* As with rdmigd: the channel's close cancels what it started. */
	if (s->m.phase != P_IDLE)
		mig_fail(s, "the control channel closed: migration cancelled");
}

static void drain(struct server *s)
{
	json_object *msg;
	int r;

	while (s->vm->qmp && (r = rdmig_ctl_recv(s->vm->qmp, &msg, 0)) != 0) {
		if (r < 0) {
			rdmig_ctl_close(s->vm->qmp);
			s->vm->qmp = NULL;
			break;
		}
		qemu_msg(s, msg);
		json_object_put(msg);
	}
	while (s->m.a.qmp && (r = rdmig_ctl_recv(s->m.a.qmp, &msg, 0)) != 0) {
		if (r < 0) {
			agent_close(&s->m.a);
			if (!s->m.agent_done)
				mig_fail(s, "rdmigd closed its control channel (it exited)");
			break;
		}
		agent_msg(s, msg);
		json_object_put(msg);
	}
}

int serve(struct vm *vm, const struct opts *o)
{
	struct server s = { .vm = vm, .o = o, .lfd = -1, .ch.fd = -1, .exit_code = 1 };
	char why[256];

	s.m.a.pid = -1;
	s.m.a.ctl = -1;
	s.m.a.state = -1;
	if (o->control) {
		s.lfd = qc_listen(o->control);
		if (s.lfd < 0) {
			say("cannot listen on %s: %s", o->control, strerror(-s.lfd));
			return 1;
		}
		say("control socket %s (rdmig-qemu migrate %s --to ... --device ...)",
		    o->control, o->control);
	}
	while (!s.quit) {
		struct pollfd p[4];
		int n = 0, li = -1;

		if (s.lfd >= 0) {
			li = n;
			p[n++] = (struct pollfd){ .fd = s.lfd, .events = POLLIN };
		}
		if (s.ch.fd >= 0)
			p[n++] = (struct pollfd){ .fd = s.ch.fd, .events = POLLIN };
		if (vm->qmp)
			p[n++] = (struct pollfd){ .fd = rdmig_ctl_fd(vm->qmp), .events = POLLIN };
		if (s.m.a.qmp)
			p[n++] = (struct pollfd){ .fd = rdmig_ctl_fd(s.m.a.qmp), .events = POLLIN };
		poll(p, (nfds_t)n, 100);

		if (stop_signal) {
			/* A migration is cancelled (exit 1); the guest is shut down either way. */
			if (s.m.phase != P_IDLE) {
				snprintf(why, sizeof(why), "cancelled: rdmig-qemu got signal %d",
					 (int)stop_signal);
				mig_fail(&s, why);
				s.exit_code = 1;
			} else {
				s.exit_code = 0;
			}
			say("signal %d: stopping the guest", (int)stop_signal);
			break;
		}
		if (li >= 0 && p[li].revents & POLLIN) {
			int c = accept4(s.lfd, NULL, NULL, SOCK_CLOEXEC);

			if (c >= 0 && s.ch.fd >= 0)
				close(c);	/* one client at a time */
			else if (c >= 0)
				qc_chan_open(&s.ch, c, "rdmig-qemu 0.1.0", on_command, &s);
		}
		if (s.ch.fd >= 0 && qc_chan_read(&s.ch))
			client_close(&s);
		drain(&s);
		if (vm_reap(vm)) {
			if (s.quit)
				break;
			mig_fail(&s, "QEMU exited during the migration");
			say("QEMU exited (status %d)", WIFEXITED(vm->qemu_status) ?
			    WEXITSTATUS(vm->qemu_status) : 128 + WTERMSIG(vm->qemu_status));
			s.exit_code = WIFEXITED(vm->qemu_status) ? WEXITSTATUS(vm->qemu_status) : 1;
			break;
		}
		if (s.m.phase != P_IDLE && s.m.deadline_ms &&
		    rdmig_now_us() - s.m.t0_us > (uint64_t)s.m.deadline_ms * 1000) {
			snprintf(why, sizeof(why), "deadline of %lld ms passed before the migration completed (the guest did not converge)",
				 (long long)s.m.deadline_ms);
			mig_fail(&s, why);
		}
		if (s.m.a.pid > 0 && !s.m.a.qmp && s.m.phase == P_IDLE)
			agent_reap(&s.m.a, 0, NULL);
	}
	qc_chan_close(&s.ch);
	if (s.lfd >= 0) {
		close(s.lfd);
		unlink(o->control);
	}
	return s.exit_code;
}

int cmd_run(const struct opts *o)
{
	struct vm vm;
	char err[512];
	int ret;

	if (vm_boot(&vm, o, false, err, sizeof(err))) {
		say("%s", err);
		vm_destroy(&vm);
		return 1;
	}
	say("QEMU runs (pid %d) on %u region%s", (int)vm.qemu_pid, vm.nr, vm.nr == 1 ? "" : "s");
	ret = serve(&vm, o);
	vm_destroy(&vm);
	return ret;
}
