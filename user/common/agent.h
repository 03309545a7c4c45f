/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Starting rdmigd and talking to it over its control channel: one
 * implementation for both VMMs that link it, rdmig-vmm and rdmig-qemu.
 */
#ifndef RDMIG_COMMON_AGENT_H
#define RDMIG_COMMON_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>
#include <rdmig/librdmig.h>

#define AGENT_MAX_ARGS 32

struct agent_cfg {
	const char *path;		/* rdmigd binary */
	bool source;
	const char *addr;		/* ADDR:PORT to connect to / listen on */
	const char *bind;		/* source address, or NULL */
	uint64_t chunk_size;		/* 0: the agent's default */
	uint64_t pin_budget;
	bool pin_all;
	bool verbose;
	unsigned int nr_extra;
	const char *extra[AGENT_MAX_ARGS];	/* passed through as they are */
};

struct agent {
	pid_t pid;
	int ctl;		/* our end of the control socketpair */
	int state;		/* source: write end; destination: read end */
	struct rdmig_ctl *qmp;	/* librdmig's QMP client, after agent_open() */
};

/*
 * Spawns rdmigd with the region transfer fds, the other end of a control
 * socketpair and of a device-state pipe. The child dies with us
 * (PR_SET_PDEATHSIG): the agent belongs to this VM, it is never a daemon.
 */
int agent_spawn(const struct agent_cfg *cfg, const int *tfds, unsigned int nr,
		struct agent *a);
/* Waits up to @timeout_ms for the agent to exit, then SIGKILLs it. */
int agent_reap(struct agent *a, int timeout_ms, int *status);

/*
 * The control channel is librdmig's QMP client (rdmig_ctl_*, see
 * Documentation/librdmig.md). agent_open() takes a->ctl over: greeting
 * and qmp_capabilities within @timeout_ms; 0 or -errno with @err.
 */
int agent_open(struct agent *a, int timeout_ms, char *err, size_t errlen);
/* Closes the channel (a->ctl included). */
void agent_close(struct agent *a);
/* Sends {"execute":cmd,"arguments":args,"id":N}; takes @args; returns N. */
int agent_send(struct agent *a, const char *cmd, json_object *args);
/*
 * Returns one message without blocking: 1 and *msg set, 0 when none is
 * there yet, -EPIPE at end of stream, -errno.
 */
int agent_recv(struct agent *a, json_object **msg);

#endif
