/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The three ways rdmig-vmm runs, and the report they fill. */
#ifndef RDMIG_VMM_MIGRATE_H
#define RDMIG_VMM_MIGRATE_H

#include <stdio.h>

#include <json-c/json.h>

#include "../common/agent.h"
#include "options.h"
#include "vcpu.h"

struct run {
	struct vmm_opts *o;
	struct vm *vm;
	json_object *report;	/* the JSON report, filled as we go */
	struct agent agent;
	FILE *events;
	int migrate_id;
	bool done, completed, cancel_sent, paused, greeted;
	char reason[512];
	json_object *stats;	/* "completed" data, owned by report */
	uint64_t t_migrate, t_pause, t_end, t_seen;
	uint64_t pause_at;		/* source: pause then (--pause-delay-ms) */
	bool pause_due;			/* switchover-ready came, pause pending */
	unsigned int progress_events, max_throttle;
	uint64_t prog_ns, prog_sent;	/* last progress: when, sent_bytes */
	/* destination: device state as it arrives */
	char *state;
	size_t state_len, state_cap;
	bool state_eof;
};

int run_standalone(struct run *r);
int run_source(struct run *r);
int run_destination(struct run *r);

/* report.c */
void report_set_u64(struct run *r, const char *k, uint64_t v);
void report_set_str(struct run *r, const char *k, const char *v);
void report_set_bool(struct run *r, const char *k, bool v);
void report_vm(struct run *r);
void report_finish(struct run *r);
void say(struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* checks.c: checks on a paused VM, recorded in the report; true = pass */
bool check_workload(struct run *r, const char *when);
bool check_pins_released(struct run *r);
bool check_tracking_off(struct run *r);
bool check_advanced(struct run *r, uint64_t writes_before);
bool write_hashes(struct run *r);

#endif
