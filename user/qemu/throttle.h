/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Throttling an unmodified QEMU's vCPU threads from outside, with cgroup v2
 * CPU limits (Documentation/qemu-throttle.md has the long form).
 *
 * Why: with x-ignore-shared, QEMU's auto-converge never sees the dirty rate
 * of the RAM rdmig moves, so it never throttles. rdmigd says when the guest
 * dirties memory faster than it can be sent (throttle_hint in
 * RDMIG_PROGRESS); rdmig-qemu acts on it here instead of QEMU.
 *
 * Schedule: QEMU's own auto-converge defaults. The first hint sets 20 %,
 * every further hint adds 10 %, up to 99 %; a round without a hint keeps the
 * current percentage (QEMU never lowers the throttle during a migration:
 * easing off lets the dirty rate climb back and the rounds oscillate). The
 * limit goes away only with throttle_free(), at the end of the migration,
 * successful or not. A vCPU throttled to P % may run (100 - P) % of one CPU,
 * as with QEMU's cpu-throttle-percentage.
 *
 * Layout (cgroup v2 threaded mode; the same shape libvirt gives a QEMU with
 * <cputune><vcpu_quota>). BASE is rdmig-qemu's own cgroup, or --cgroup BASE.
 * When BASE has no processes of its own (the root cgroup, or a delegated
 * subtree kept empty, as systemd and libvirt arrange it), QEMU gets a domain:
 *
 *   BASE/
 *     rdmig-throttle.PID/        domain -> "domain threaded": QEMU's process,
 *                                with every thread that is not a vCPU (main
 *                                loop, I/O threads, migration thread,
 *                                workers, and threads QEMU creates later):
 *                                no limit
 *       vcpus/                   threaded, cpu.weight 100 x n, no limit
 *         vcpu0/ ... vcpuN-1/    threaded, one vCPU thread each,
 *                                cpu.max = "QUOTA 100000", QUOTA =
 *                                100000 x (100 - P) / 100 (at least 1000)
 *
 * When BASE holds processes (rdmig-qemu itself, with QEMU as its child),
 * a domain below it would be invalid (the kernel's no-internal-process
 * rule: a non-root cgroup with processes and cpu enabled for its children
 * is a thread root), so BASE itself becomes "domain threaded" while the
 * throttle lasts, QEMU's process stays in it (QEMU must then be in BASE
 * itself), and BASE/rdmig-throttle.PID is the threaded vcpus/ above:
 *
 *   BASE/                        "domain threaded": rdmig-qemu, QEMU and
 *                                QEMU's other threads, no limit
 *     rdmig-throttle.PID/        threaded, cpu.weight 100 x n
 *       vcpu0/ ... vcpuN-1/      as above
 *
 * One cgroup per vCPU, not one for all: a shared quota of n x (100 - P) %
 * would let one vCPU that dirties memory use the share of idle ones and not
 * slow down at all. vcpus/ weighs as n threads, as the vCPUs did before they
 * were moved, so the vCPUs do not lose CPU to QEMU's other threads when the
 * host is busy and the throttle is at 0.
 *
 * Requirements and errors (throttle_new() fails with the reason in @err,
 * and leaves nothing changed):
 * - cgroup v2 mounted (cgroup2 in /proc/self/mountinfo), with the cpu
 *   controller on it (not bound to cgroup v1, not cgroup_disable=cpu);
 * - the cpu controller available in BASE (in BASE/cgroup.controllers, that
 *   is in its parent's cgroup.subtree_control); throttle_new() adds +cpu to
 *   BASE/cgroup.subtree_control if it is not there yet, and takes it off
 *   again on free if it added it;
 * - QEMU's cgroup is BASE or below it, and is a plain domain (not already
 *   a threaded subtree someone else manages, as libvirt does: set the
 *   limits in its vcpuN cgroups instead);
 * - permission: root, or a delegated BASE: write access to its cgroup.procs,
 *   cgroup.threads and cgroup.subtree_control and the right to create
 *   directories in it (systemd: Delegate=yes on the unit, or
 *   `systemd-run --user -p Delegate=yes`; by hand: chown those files and
 *   the directory to the user). A permission error names the file and says
 *   this.
 * - @vcpu_tids must all be threads of @pid (QMP query-cpus-fast
 *   "thread-id"); a tid given twice (single-threaded TCG) is one thread.
 *
 * QEMU exiting while throttled: its threads leave the cgroups by exiting
 * (even before it is reaped; a zombie given to throttle_new() is refused), throttle_on_hint() then returns -ESRCH, and
 * throttle_free() removes the empty cgroups as usual. Processes QEMU forked
 * meanwhile (helpers) are in its domain too and go back with it.
 * If rdmig-qemu itself is killed while throttling, QEMU stays limited in
 * BASE/rdmig-throttle.PID; a later throttle_new() for the same QEMU says so
 * (Documentation/qemu-throttle.md has the two commands that release it).
 *
 * Not thread-safe: one caller per struct throttle.
 */
#ifndef RDMIG_QEMU_THROTTLE_H
#define RDMIG_QEMU_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* QEMU's auto-converge defaults (cpu-throttle-initial/increment, max-cpu-throttle). */
#define THROTTLE_INITIAL_PCT	20
#define THROTTLE_INCREMENT_PCT	10
#define THROTTLE_MAX_PCT	99
/* The CFS bandwidth period (us): 1 % of it is the kernel's minimum quota. */
#define THROTTLE_PERIOD_US	100000
#define THROTTLE_MIN_QUOTA_US	1000

struct throttle;

/*
 * Puts the @n vCPU threads @vcpu_tids of QEMU process @pid under a CPU limit
 * it can change; NULL with a reason in @err when cgroup v2 or its cpu
 * controller is not available or not delegated to us. The cgroups go under
 * the cgroup the caller runs in.
 */
struct throttle *throttle_new(pid_t pid, const pid_t *vcpu_tids, unsigned int n,
			      char *err, size_t errlen);
/*
 * The same under @base (rdmig-qemu --cgroup): a directory in the cgroup2
 * filesystem (/sys/fs/cgroup/...) or a cgroup path as /proc/PID/cgroup
 * shows it (/machine.slice/...); NULL @base is throttle_new().
 */
struct throttle *throttle_new_in(const char *base, pid_t pid, const pid_t *vcpu_tids,
				 unsigned int n, char *err, size_t errlen);
/*
 * One throttle hint (true) or a round without one (false): follows the
 * schedule above and returns the new percentage, or -errno (-ESRCH: QEMU
 * has exited; the percentage is then unchanged).
 */
int throttle_on_hint(struct throttle *t, bool hint);
unsigned int throttle_pct(const struct throttle *t);
/* Removes the limit, moves the threads back where they were, removes the cgroups. */
void throttle_free(struct throttle *t);

/* Pure parts, for unit tests. */
/* The percentage after one round at @pct with or without a hint. */
unsigned int throttle_next_pct(unsigned int pct, bool hint);
/*
 * cpu.max for a vCPU throttled to @pct % with period @period_us ("max P" at
 * 0): the length written (without the NUL), or -EINVAL (@pct > 99, @period_us
 * below the minimum quota or too large for the kernel, 1 s) or -ENOSPC.
 */
int throttle_format_max(char *buf, size_t len, unsigned int pct, unsigned int period_us);

#endif
