/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef RDMIG_VMM_OPTIONS_H
#define RDMIG_VMM_OPTIONS_H

#include "../common/agent.h"
#include "vmm.h"

enum vmm_role { ROLE_STANDALONE, ROLE_SOURCE, ROLE_DESTINATION };

struct vmm_opts {
	enum vmm_role role;
	const char *name;
	unsigned int nr_regions;
	uint64_t region_bytes[VMM_MAX_REGIONS];
	uint64_t touch_bytes;		/* 0: all */
	unsigned int vcpus;
	enum wl_kind workload;
	uint64_t rate, seed;

	struct agent_cfg agent;
	const char *agent_pidfile;

	/* migrate arguments; negative / NULL = the agent's default */
	int64_t downtime_ms, max_iterations, max_bandwidth_mbps;
	const char *on_max_iterations;
	bool throttle;
	int64_t migrate_after_ms, cancel_after_ms, timeout_ms;
	int64_t run_ms;			/* standalone/destination: run this long */
	int64_t after_ms;		/* source after a failure: keep running */
	int64_t pause_timeout_ms;	/* migrate argument, -1 = agent default */
	int64_t pause_delay_ms;		/* pause this long after switchover-ready; -1 never */
	bool scribble;
	bool prefault;			/* write zeroes into all RAM at boot */			/* destination: garbage in RAM before listening */

	const char *hashes, *verify_against, *events, *report, *peer_report;
	const char *retry_connect;	/* source: after a failure, migrate again there */
	bool quiet;
};

int opts_parse(int argc, char **argv, struct vmm_opts *o);
int parse_size(const char *s, uint64_t *out);

#endif
