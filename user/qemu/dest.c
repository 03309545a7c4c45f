// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The destination (rdmig-qemu incoming): regions for the guest's memory
 * backends, QEMU paused with -incoming defer on them, its device stream
 * by migrate-incoming tcp:, RAM by rdmigd --listen into the regions.
 * When both are complete -- rdmigd's MIGRATION completed (RAM in place,
 * every registration released) and QEMU's MIGRATION completed (device
 * state loaded) -- the optional --pause-at-resume check, then `cont`.
 * Any failure kills this QEMU (the source's guest runs on) and exits 1.
 * After the resume the guest is held as by `run`, and may migrate on.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qemu.h"

struct incoming {
	struct vm vm;
	struct agent a;
	const struct opts *o;
	bool ram_done, dev_done, agent_done;
	uint64_t t0_us, state_bytes;
	uint64_t complete_wall_us;	/* both streams in */
	uint64_t check_ms;		/* --pause-at-resume took */
	json_object *rdmig, *qemu;
	char reason[640];
};

static void in_fail(struct incoming *in, const char *fmt, const char *arg)
{
	if (!in->reason[0])
		snprintf(in->reason, sizeof(in->reason), fmt, arg);
}

static void agent_msg(struct incoming *in, json_object *msg)
{
	json_object *data = NULL, *e;
	const char *st;

	rdmig_ctl_event(msg, &data);
	st = rdmig_ctl_migration_status(msg);
	if (!st)
		return;
	if (in->o->verbose)
		say("rdmigd: %s", st);
	if (!strcmp(st, "completed")) {
		in->ram_done = true;
		in->agent_done = true;
		if (json_object_object_get_ex(data, "rdmig", &e))
			in->rdmig = json_object_get(e);
		say("RAM is in place (rdmigd completed)");
	} else if (!strcmp(st, "failed") || !strcmp(st, "cancelled")) {
		in->agent_done = true;
		in_fail(in, "rdmigd: %s", *jget_str(data, "error-desc") ?
			jget_str(data, "error-desc") : st);
	}
}

static void qemu_msg(struct incoming *in, json_object *msg)
{
	const char *st = rdmig_ctl_migration_status(msg);
	char err[256];

	if (!st)
		return;
	if (in->o->verbose)
		say("QEMU incoming: %s", st);
	if (!strcmp(st, "completed")) {
		in->dev_done = true;
		vm_qmp(&in->vm, "query-migrate", NULL, &in->qemu, err, sizeof(err));
		say("device state is in (QEMU completed)");
	} else if (!strcmp(st, "failed") || !strcmp(st, "cancelled")) {
		in_fail(in, "QEMU's incoming device stream %s", st);
	}
}

/* sh -c CMD with the guest's RAM named in the environment. */
static int run_hook(struct incoming *in)
{
	char ram[QARGS_MAX_BACKENDS * 64] = "", pid[16];
	unsigned int i;
	pid_t c;
	int st;

	for (i = 0; i < in->vm.nr; i++) {
		size_t l = strlen(ram);

		snprintf(ram + l, sizeof(ram) - l, "%s/proc/%d/fd/%d:%llu", i ? " " : "",
			 (int)in->vm.qemu_pid, in->vm.r[i].fd,
			 (unsigned long long)in->vm.r[i].length);
	}
	snprintf(pid, sizeof(pid), "%d", (int)in->vm.qemu_pid);
	c = fork();
	if (c < 0)
		return -1;
	if (c == 0) {
		setenv("RDMIG_QEMU_PID", pid, 1);
		setenv("RDMIG_QEMU_RAM", ram, 1);
		dup2(2, 1);	/* our stdout is the report's */
		execl("/bin/sh", "sh", "-c", in->o->pause_at_resume, (char *)NULL);
		_exit(127);
	}
	if (waitpid(c, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static json_object *report(struct incoming *in, const char *result)
{
	json_object *rep = json_object_new_object(), *sizes = json_object_new_array();
	uint64_t ramb = 0;
	unsigned int i;

	json_object_object_add(rep, "result", json_object_new_string(result));
	if (in->reason[0])
		json_object_object_add(rep, "reason", json_object_new_string(in->reason));
	json_object_object_add(rep, "role", json_object_new_string("destination"));
	for (i = 0; i < in->vm.nr; i++) {
		ramb += in->vm.r[i].length;
		json_object_array_add(sizes, json_object_new_uint64(in->vm.r[i].length));
	}
	json_object_object_add(rep, "ram_bytes", json_object_new_uint64(ramb));
	json_object_object_add(rep, "regions", sizes);
	json_object_object_add(rep, "waited_ms",
			       json_object_new_uint64((rdmig_now_us() - in->t0_us) / 1000));
	json_object_object_add(rep, "state_bytes", json_object_new_uint64(in->state_bytes));
	if (in->complete_wall_us)
		json_object_object_add(rep, "complete_wall_us",
				       json_object_new_uint64(in->complete_wall_us));
	if (in->o->pause_at_resume)
		json_object_object_add(rep, "check_ms", json_object_new_uint64(in->check_ms));
	if (in->rdmig)
		json_object_object_add(rep, "rdmig", json_object_get(in->rdmig));
	if (in->qemu)
		json_object_object_add(rep, "qemu", json_object_get(in->qemu));
	return rep;
}

static void stop_agent(struct agent *a, int timeout_ms)
{
	agent_close(a);		/* closing the channel cancels an unfinished one */
	if (a->state >= 0)
		close(a->state);
	a->state = -1;
	if (a->pid > 0)
		agent_reap(a, timeout_ms, NULL);
}

static int start_agent(struct incoming *in, char *err, size_t len)
{
	struct agent_cfg cfg = in->o->agent;
	int tfds[QARGS_MAX_BACKENDS], ret;
	unsigned int i;

	cfg.source = false;
	cfg.addr = in->o->listen;
	ret = transfer_fds(&in->vm, tfds);
	if (ret) {
		snprintf(err, len, "no transfer view of the regions: %s", strerror(-ret));
		return ret;
	}
	ret = agent_spawn(&cfg, tfds, in->vm.nr, &in->a);
	for (i = 0; i < in->vm.nr; i++)
		close(tfds[i]);
	if (ret) {
		snprintf(err, len, "cannot start %s: %s", cfg.path, strerror(-ret));
		return ret;
	}
	if (in->o->agent_pidfile) {
		FILE *f = fopen(in->o->agent_pidfile, "w");

		if (f) {
			fprintf(f, "%d\n", (int)in->a.pid);
			fclose(f);
		}
	}
	fcntl(in->a.state, F_SETFL, O_NONBLOCK);
	return agent_open(&in->a, 15000, err, len);
}

static void wait_both(struct incoming *in)
{
	json_object *msg;
	int r;

	while (!in->reason[0] && !(in->ram_done && in->dev_done)) {
		struct pollfd p[3];
		int n = 0;

		if (in->vm.qmp)
			p[n++] = (struct pollfd){ .fd = rdmig_ctl_fd(in->vm.qmp), .events = POLLIN };
		if (in->a.qmp)
			p[n++] = (struct pollfd){ .fd = rdmig_ctl_fd(in->a.qmp), .events = POLLIN };
		if (in->a.state >= 0)
			p[n++] = (struct pollfd){ .fd = in->a.state, .events = POLLIN };
		poll(p, (nfds_t)n, 100);
		if (stop_signal) {
			char s[64];

			snprintf(s, sizeof(s), "%d", (int)stop_signal);
			in_fail(in, "cancelled: rdmig-qemu got signal %s", s);
			break;
		}
		if (in->a.state >= 0) {
			char buf[4096];
			/* Non-blocking (start_agent): the pipe may have nothing yet. */
			ssize_t k = read(in->a.state, buf, sizeof(buf));

			/* rdmigd's device state: QEMU's goes over TCP, this one is empty. */
			if (k > 0)
				in->state_bytes += (uint64_t)k;
			else if (k == 0 || (errno != EAGAIN && errno != EINTR)) {
				close(in->a.state);
				in->a.state = -1;
			}
		}
		while (in->vm.qmp && (r = rdmig_ctl_recv(in->vm.qmp, &msg, 0)) != 0) {
			if (r < 0) {
				rdmig_ctl_close(in->vm.qmp);
				in->vm.qmp = NULL;
				break;
			}
			qemu_msg(in, msg);
			json_object_put(msg);
		}
		while (in->a.qmp && (r = rdmig_ctl_recv(in->a.qmp, &msg, 0)) != 0) {
			if (r < 0) {
				agent_close(&in->a);
				if (!in->agent_done)
					in_fail(in, "%s", "rdmigd exited before the RAM was complete");
				break;
			}
			agent_msg(in, msg);
			json_object_put(msg);
		}
		if (vm_reap(&in->vm))
			in_fail(in, "%s", "QEMU exited during the incoming migration (see its messages above)");
		if (in->o->timeout_ms &&
		    rdmig_now_us() - in->t0_us > (uint64_t)in->o->timeout_ms * 1000) {
			char s[32];

			snprintf(s, sizeof(s), "%lld", (long long)in->o->timeout_ms);
			in_fail(in, "no completed migration within %s ms (--timeout-ms)", s);
		}
	}
}

/* `cont`, and the RESUME event's time: the guest runs from then on. */
static uint64_t resume(struct incoming *in, char *err, size_t len)
{
	uint64_t end = rdmig_now_us() + 5000000, ts = 0;
	json_object *msg;

	if (vm_qmp(&in->vm, "cont", NULL, NULL, err, len))
		return 0;
	while (!ts && rdmig_now_us() < end) {
		int r = rdmig_ctl_recv(in->vm.qmp, &msg, 100);
		const char *ev;

		if (r < 0)
			break;
		if (r == 0)
			continue;
		ev = rdmig_ctl_event(msg, NULL);
		if (ev && !strcmp(ev, "RESUME"))
			ts = qmp_event_us(msg);
		json_object_put(msg);
	}
	if (!ts)
		ts = wall_us();	/* cont returned: it runs */
	return ts;
}

int cmd_incoming(const struct opts *o)
{
	struct incoming in = { .o = o };
	json_object *rep, *a;
	char err[512], uri[160];
	uint64_t resumed;
	int ret, hook = -1;

	in.a.pid = -1;
	in.a.ctl = -1;
	in.a.state = -1;
	in.t0_us = rdmig_now_us();
	if (vm_boot(&in.vm, o, true, err, sizeof(err))) {
		in_fail(&in, "%s", err);
		goto fail;
	}
	if (vm_qmp(&in.vm, "migrate-set-capabilities", qemu_caps(false), NULL, err, sizeof(err))) {
		in_fail(&in, "QEMU: %s", err);
		goto fail;
	}
	a = json_object_new_object();
	snprintf(uri, sizeof(uri), "tcp:%s", o->device);
	json_object_object_add(a, "uri", json_object_new_string(uri));
	if (vm_qmp(&in.vm, "migrate-incoming", a, NULL, err, sizeof(err))) {
		in_fail(&in, "QEMU: %s", err);
		goto fail;
	}
	if (start_agent(&in, err, sizeof(err))) {
		in_fail(&in, "rdmigd: %s", err);
		goto fail;
	}
	say("QEMU (pid %d) waits for its device state on %s, rdmigd (pid %d) for the RAM on %s",
	    (int)in.vm.qemu_pid, o->device, (int)in.a.pid, o->listen);
	wait_both(&in);
	if (in.reason[0])
		goto fail;
	in.complete_wall_us = wall_us();
	if (o->pause_at_resume) {
		uint64_t t = rdmig_now_us();

		hook = run_hook(&in);
		in.check_ms = (rdmig_now_us() - t) / 1000;
		if (hook) {
			snprintf(err, sizeof(err), "%d", hook);
			in_fail(&in, "the --pause-at-resume check failed (exit %s): the guest is not resumed", err);
			goto fail;
		}
	}
	resumed = resume(&in, err, sizeof(err));
	if (!resumed) {
		in_fail(&in, "cont: %s", err);
		goto fail;
	}
	rep = report(&in, "completed");
	json_object_object_add(rep, "resume_wall_us", json_object_new_uint64(resumed));
	if (hook >= 0)
		json_object_object_add(rep, "verified", json_object_new_boolean(true));
	say("the guest runs here (QEMU pid %d)", (int)in.vm.qemu_pid);
	print_report(rep, o->report);
	json_object_put(rep);
	/* rdmigd marks the received pages WRITTEN beside the running guest. */
	stop_agent(&in.a, 120000);
	json_object_put(in.rdmig);
	json_object_put(in.qemu);
	ret = serve(&in.vm, o);
	vm_destroy(&in.vm);
	return ret;
fail:
	rep = report(&in, "failed");
	/* This QEMU goes; the source's guest, which never stopped for good, runs on. */
	vm_destroy(&in.vm);
	stop_agent(&in.a, 10000);
	if (hook > 0)
		json_object_object_add(rep, "verified", json_object_new_boolean(false));
	say("incoming migration failed: %s", in.reason);
	print_report(rep, o->report);
	json_object_put(rep);
	json_object_put(in.rdmig);
	json_object_put(in.qemu);
	return 1;
}
