/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rdmig-qemu: runs an unmodified QEMU on rdmig regions and live-migrates
 * it, RAM through rdmigd, device state through QEMU's own TCP stream
 * (Documentation/qemu.md).
 */
#ifndef RDMIG_QEMU_H
#define RDMIG_QEMU_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>
#include <rdmig/librdmig.h>

#include "args.h"
#include "../common/agent.h"
#include "../lib/util.h"

#define QEMU_QMP_MS	30000	/* QEMU's monitor up after exec */
#define QMP_CMD_MS	15000	/* one QMP command */

struct opts {
	const char *cmd;		/* run | incoming | migrate */
	const char *control;		/* --qmp-socket: our control socket */
	const char *listen;		/* incoming: rdmigd --listen */
	const char *device;		/* QEMU's device stream ADDR:PORT */
	const char *to;			/* migrate: rdmigd --connect */
	const char *bind;		/* migrate: rdmigd --bind */
	const char *report;		/* write the JSON report here too */
	const char *dest_report;	/* migrate: the destination's report */
	const char *pause_at_resume;	/* incoming: sh -c CMD before cont */
	const char *secret_file;
	const char *qps;		/* rdmigd --qps, as given (checked 1..8) */
	const char *name;
	const char *pidfile;		/* QEMU's pid */
	const char *agent_pidfile;	/* rdmigd's pid */
	const char *cgroup;		/* the throttle's base cgroup, or NULL */
	uint64_t chunk_size, pin_budget;
	bool pin_all, verbose, quiet;
	int64_t timeout_ms;		/* incoming: the whole wait */
	int64_t deadline_ms;		/* migrate: the whole migration */
	json_object *params;		/* migrate: rdmigd migrate-set-parameters */
	char *const *qemu_argv;
	int qemu_argc;
	struct agent_cfg agent;
};

int parse_opts(int argc, char **argv, struct opts *o);

/* The guest: its regions, its QEMU process and monitor. */
struct vm {
	const struct opts *o;
	struct qargs qa;
	struct rdmig_region r[QARGS_MAX_BACKENDS];
	unsigned int nr;
	pid_t qemu_pid;
	int qemu_status;		/* once reaped */
	bool qemu_gone;
	char dir[64];			/* private directory: QEMU's monitor */
	struct rdmig_ctl *qmp;		/* QEMU's QMP */
};

/* vm.c */
int vm_boot(struct vm *vm, const struct opts *o, bool incoming, char *err, size_t len);
void vm_destroy(struct vm *vm);
/* Reaps QEMU if it exited: true if it is gone (vm->qemu_gone). */
bool vm_reap(struct vm *vm);
/* A QMP command to QEMU, waiting for its reply; 0 or -errno with @err. */
int vm_qmp(struct vm *vm, const char *cmd, json_object *args, json_object **ret,
	   char *err, size_t len);
/* query-status "status" into @buf ("running", "paused", ...); 0 or -errno. */
int vm_status(struct vm *vm, char *buf, size_t len);
/* The vCPU thread ids (query-cpus-fast); returns the count or -errno. */
int vm_vcpu_tids(struct vm *vm, pid_t *tids, unsigned int max);
/* QMP event timestamp in microseconds of the wall clock, 0 if none. */
uint64_t qmp_event_us(json_object *msg);
uint64_t wall_us(void);
int transfer_fds(const struct vm *vm, int *fds);
/* migrate-set-capabilities: x-ignore-shared, events (+ pause-before-switchover). */
json_object *qemu_caps(bool pause);

/* source.c and dest.c */
int cmd_run(const struct opts *o);
int cmd_incoming(const struct opts *o);
/* The run loop both share: the guest runs, the control socket serves. */
int serve(struct vm *vm, const struct opts *o);
/* client.c */
int cmd_migrate(const struct opts *o);

/* SIGINT/SIGTERM seen (main.c installs the handlers). */
extern volatile sig_atomic_t stop_signal;
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t jget_i64(json_object *o, const char *k);
const char *jget_str(json_object *o, const char *k);
void print_report(json_object *rep, const char *file);

#endif
