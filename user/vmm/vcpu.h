/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vCPU threads: run, pause for switchover, resume, throttle. */
#ifndef RDMIG_VMM_VCPU_H
#define RDMIG_VMM_VCPU_H

#include "vmm.h"
#include "../lib/util.h"

struct vm {
	struct vmm_ram ram;
	struct wl_state wl;	/* vcpu[] is each thread's own while it runs */

	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool pause_req, quit;
	unsigned int parked, warm, started;
	bool fill;		/* write the initial pattern on start */
	atomic_uint throttle_pct;
	pthread_t thread[VMM_MAX_VCPUS];
};

int vm_start(struct vm *vm, bool fill);
/* Stops every vCPU between two pages and waits until all have. */
void vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);
void vm_stop(struct vm *vm);
/* Waits until every vCPU wrote its initial content; false on timeout. */
bool vm_wait_warm(struct vm *vm, int timeout_ms);
/* Auto-converge: take a bigger share of each vCPU's time; returns it. */
unsigned int vm_throttle_up(struct vm *vm);
/* Total pages written by all vCPUs (consistent only while paused). */
uint64_t vm_writes(const struct vm *vm);
/* The monotonic clock in ns (librdmig's, user/lib/util.c). */
static inline uint64_t now_ns(void)
{
	return rdmig_now_ns();
}

#endif
