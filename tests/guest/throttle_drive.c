// SPDX-License-Identifier: GPL-2.0
/*
 * Drives user/qemu/throttle.c for tests/guest/62-qemu-throttle.sh.
 *
 *   throttle_drive [--cgroup BASE] rates [HINTS]
 *       a child process with two busy "vCPU" threads and one busy "I/O"
 *       thread (its main thread sleeps, as QEMU's main loop mostly does):
 *       their CPU rates unthrottled, after HINTS hints (default 8: 90 %)
 *       and after throttle_free; the cgroup layout while throttled and
 *       nothing left after.
 *   throttle_drive [--cgroup BASE] pid PID TID... [HINTS=N]
 *       the same for threads TID of an existing process (a real QEMU's
 *       vCPU threads), without the I/O thread check.
 *   throttle_drive [--cgroup BASE] exit
 *       the child killed while throttled, before and after it is reaped.
 *   throttle_drive [--cgroup BASE] bad
 *       input throttle_new() must refuse, with its message.
 *   throttle_drive [--cgroup BASE] refused WORD
 *       throttle_new() on a child must fail with WORD in its message
 *       (permissions, missing controller).
 *
 * CPU rates are CPU seconds per wall second of one thread, compared as
 * ratios within one run with generous margins (TCG, a loaded host), never
 * against absolute times: the "vCPU" threads against the "I/O" thread in
 * the same window, a real QEMU's vCPU thread against its own unthrottled
 * rate. Prints "ok:"/"FAILED:" per check; exit 0 when
 * all held.
 */
#include "../../user/qemu/throttle.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NVCPU	2
#define WINDOW_MS 1200

static int failures;
static const char *base;

static void check(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s", cond ? "ok: " : "FAILED: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		failures++;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time of thread @tid of @pid in seconds; < 0 when it is gone. */
static double cpu_s(pid_t pid, pid_t tid)
{
	char path[96], buf[1024], *p;
	unsigned long long ns, ut, st;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", pid, tid);
	f = fopen(path, "re");
	if (f) {
		i = fscanf(f, "%llu", &ns);
		fclose(f);
		if (i == 1)
			return ns / 1e9;
	}
	/* Without CONFIG_SCHED_INFO: utime + stime, in clock ticks. */
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p || !(p = strrchr(buf, ')')))
		return -1;
	for (i = 0; i < 11 && p; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

/* The CPU rate of each of @n threads over one window. */
static void rates(pid_t pid, const pid_t *tids, unsigned int n, double *out)
{
	double c0[16], t0, t1;
	unsigned int i;

	for (i = 0; i < n; i++)
		c0[i] = cpu_s(pid, tids[i]);
	t0 = now_s();
	usleep(WINDOW_MS * 1000);
	t1 = now_s();
	for (i = 0; i < n; i++)
		out[i] = (cpu_s(pid, tids[i]) - c0[i]) / (t1 - t0);
}

static void *spin(void *arg)
{
	int fd = *(int *)arg;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	volatile unsigned long x = 0;

	if (write(fd, &tid, sizeof(tid)) != sizeof(tid))
		_exit(1);
	for (;;)
		x++;
	return NULL;
}

/* A process with NVCPU busy "vCPU" threads then one busy "I/O" thread: their tids in @tids. */
static pid_t workload(pid_t *tids)
{
	int p[2], i;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		pthread_t th;

		close(p[0]);
		for (i = 0; i < NVCPU + 1; i++)
			if (pthread_create(&th, NULL, spin, &p[1]))
				_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	for (i = 0; i < NVCPU + 1; i++)
		if (read(p[0], &tids[i], sizeof(tids[i])) != sizeof(tids[i])) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			close(p[0]);
			return -1;
		}
	close(p[0]);
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static bool exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

/* The cgroup v2 path of thread @tid of @pid, "" when unknown. */
static void cg_of(pid_t pid, pid_t tid, char *buf, size_t len)
{
	char path[96];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/cgroup", pid, tid);
	buf[0] = '\0';
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(buf, len, f))
		if (!strncmp(buf, "0::", 3))
			break;
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

static struct throttle *mk(pid_t pid, const pid_t *tids, unsigned int n, char *err, size_t len)
{
	return throttle_new_in(base, pid, tids, n, err, len);
}

/* Where the domain for @pid is: the directory the drive runs in, or BASE. */
static void dom_path(pid_t pid, char *buf, size_t len)
{
	char cg[256];

	if (base && !strncmp(base, "/sys/fs/cgroup", 14))
		snprintf(buf, len, "%s/rdmig-throttle.%d", base, pid);
	else if (base)
		snprintf(buf, len, "/sys/fs/cgroup%s/rdmig-throttle.%d", base, pid);
	else {
		cg_of(getpid(), getpid(), cg, sizeof(cg));
		snprintf(buf, len, "/sys/fs/cgroup%s%srdmig-throttle.%d", cg + 3,
			 strcmp(cg + 3, "/") ? "/" : "", pid);
	}
}

static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (f) {
		if (!fgets(buf, len, f))
			buf[0] = '\0';
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
}

/* The vCPU threads' mean rate over the I/O thread's (rate[nv]). */
static double vs_io(const double *rate, unsigned int nv)
{
	double sum = 0;
	unsigned int i;

	for (i = 0; i < nv; i++)
		sum += rate[i];
	return rate[nv] > 0 ? sum / nv / rate[nv] : 0;
}

/*
 * Throttles threads @tids[0..nv) of @pid with @hints hints; @io (or -1) is
 * a busy thread that must not be throttled.
 */
static int run_rates(pid_t pid, const pid_t *tids, unsigned int nv, pid_t io, int hints)
{
	pid_t all[16];
	unsigned int n = nv + (io > 0), i;
	double before[16], during[16], after[16];
	char err[512], dom[512], path[600], buf[512], orig[512], want[64];
	struct throttle *t;
	int pct = 0, expect = 0, k;

	memcpy(all, tids, nv * sizeof(*tids));
	if (io > 0)
		all[nv] = io;
	cg_of(pid, tids[0], orig, sizeof(orig));
	rates(pid, all, n, before);
	t = mk(pid, tids, nv, err, sizeof(err));
	check(t != NULL, "throttle_new: %s", t ? "done" : err);
	if (!t)
		return 1;
	dom_path(pid, dom, sizeof(dom));
	check(exists(dom), "%s exists", dom);
	/* A domain of QEMU's own, or (BASE with processes) BASE itself. */
	snprintf(path, sizeof(path), "%s/cgroup.type", dom);
	read_line(path, buf, sizeof(buf));
	if (!strcmp(buf, "threaded")) {
		snprintf(path, sizeof(path), "%s/../cgroup.type", dom);
		read_line(path, buf, sizeof(buf));
	}
	check(!strcmp(buf, "domain threaded"), "%s is \"%s\" (domain threaded)", path, buf);
	for (i = 0; i < nv; i++) {
		cg_of(pid, tids[i], buf, sizeof(buf));
		snprintf(want, sizeof(want), "/vcpu%u", i);
		check(strstr(buf, want) && strstr(buf, "/rdmig-throttle."), "vCPU thread %d is in %s",
		      tids[i], buf);
	}
	/* QEMU's main thread (the process's first) is not limited either. */
	cg_of(pid, pid, buf, sizeof(buf));
	check(!strstr(buf, "/vcpu"), "main thread %d is not in a vCPU cgroup: %s", pid, buf);
	if (io > 0) {
		cg_of(pid, io, buf, sizeof(buf));
		check(!strstr(buf, "/vcpu"), "I/O thread %d is not in a vCPU cgroup: %s", io, buf);
	}
	k = throttle_on_hint(t, false);
	check(k == 0, "a round without a hint leaves the throttle off: %d", k);
	for (k = 0; k < hints; k++) {
		expect = expect ? expect + 10 : 20;
		if (expect > 99)
			expect = 99;
		pct = throttle_on_hint(t, true);
		if (pct != expect)
			break;
	}
	check(pct == expect && (int)throttle_pct(t) == pct, "%d hints: %d %% (expected %d)",
	      hints, pct, expect);
	k = throttle_on_hint(t, false);
	check(k == pct, "a round without a hint keeps %d %%: %d", pct, k);
	cg_of(pid, tids[0], buf, sizeof(buf));
	snprintf(path, sizeof(path), "/sys/fs/cgroup%s/cpu.max", buf + 3);
	read_line(path, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%d 100000", 100000 * (100 - pct) / 100);
	check(!strcmp(buf, want), "%s: \"%s\" (expected \"%s\")", path, buf, want);
	rates(pid, all, n, during);
	for (i = 0; i < nv; i++)
		printf("# vCPU thread %d: %.3f CPU/s unthrottled, %.3f at %d %%\n", tids[i],
		       before[i], during[i], pct);
	if (io > 0) {
		/*
		 * Against the I/O thread in the same window: a loaded host (or
		 * a TCG guest's stolen time) changes every thread's rate alike,
		 * and one thread may be starved in one window.
		 */
		check(during[nv] > 0.8 * before[nv],
		      "I/O thread %d not throttled: %.3f CPU/s, before %.3f (must be > 0.8 x)",
		      io, during[nv], before[nv]);
		check(vs_io(during, nv) < 0.5 * vs_io(before, nv),
		      "vCPU threads throttled at %d %%: %.3f of the I/O thread's rate, unthrottled "
		      "%.3f (must be < half)", pct, vs_io(during, nv), vs_io(before, nv));
	} else {
		for (i = 0; i < nv; i++)
			check(during[i] < 0.5 * before[i],
			      "vCPU thread %d throttled at %d %%: %.3f CPU/s, unthrottled %.3f "
			      "(must be < half)", tids[i], pct, during[i], before[i]);
	}
	throttle_free(t);
	check(!exists(dom), "after throttle_free %s is gone", dom);
	for (i = 0; i < n; i++) {
		cg_of(pid, all[i], buf, sizeof(buf));
		check(!strcmp(buf, orig), "thread %d back in %s: %s", all[i], orig, buf);
	}
	rates(pid, all, n, after);
	if (io > 0) {
		check(vs_io(after, nv) > 2 * vs_io(during, nv),
		      "vCPU threads free again: %.3f of the I/O thread's rate (throttled %.3f, "
		      "before %.3f; must be > 2 x throttled)", vs_io(after, nv), vs_io(during, nv),
		      vs_io(before, nv));
	} else {
		for (i = 0; i < nv; i++)
			check(after[i] > 2 * during[i],
			      "vCPU thread %d free again: %.3f CPU/s (throttled %.3f, before %.3f; "
			      "must be > 2 x throttled)", tids[i], after[i], during[i], before[i]);
	}
	return failures ? 1 : 0;
}

static int cmd_rates(int hints)
{
	pid_t tids[NVCPU + 1], pid = workload(tids);
	int ret;

	if (pid < 0) {
		perror("workload");
		return 1;
	}
	ret = run_rates(pid, tids, NVCPU, tids[NVCPU], hints);
	reap(pid);
	return ret;
}

static int cmd_exit(void)
{
	pid_t tids[NVCPU + 1], pid = workload(tids);
	char err[512], dom[512];
	struct throttle *t;
	int k;

	if (pid < 0) {
		perror("workload");
		return 1;
	}
	t = mk(pid, tids, NVCPU, err, sizeof(err));
	check(t != NULL, "throttle_new: %s", t ? "done" : err);
	if (!t) {
		reap(pid);
		return 1;
	}
	dom_path(pid, dom, sizeof(dom));
	throttle_on_hint(t, true);
	k = throttle_on_hint(t, true);
	check(k == 30, "throttled at %d %%", k);
	/* Killed, not reaped yet: a zombie holds no cgroup. */
	kill(pid, SIGKILL);
	for (k = 0; k < 100 && throttle_on_hint(t, false) != -ESRCH; k++)
		usleep(20000);
	k = throttle_on_hint(t, true);
	check(k == -ESRCH, "throttle_on_hint after QEMU died: %d (%s)", k,
	      k < 0 ? strerror(-k) : "no error");
	check(throttle_pct(t) == 30, "the percentage stays %u", throttle_pct(t));
	throttle_free(t);
	check(!exists(dom), "killed, unreaped: after throttle_free %s is gone", dom);
	waitpid(pid, NULL, 0);

	/* And reaped before the free. */
	pid = workload(tids);
	if (pid < 0) {
		perror("workload");
		return 1;
	}
	t = mk(pid, tids, NVCPU, err, sizeof(err));
	check(t != NULL, "throttle_new: %s", t ? "done" : err);
	if (!t) {
		reap(pid);
		return 1;
	}
	dom_path(pid, dom, sizeof(dom));
	throttle_on_hint(t, true);
	reap(pid);
	throttle_free(t);
	check(!exists(dom), "killed and reaped: after throttle_free %s is gone", dom);
	return failures ? 1 : 0;
}

static void expect_refusal(const char *what, pid_t pid, const pid_t *tids, unsigned int n,
			   const char *word)
{
	char err[512] = "", dom[512];
	struct throttle *t = mk(pid, tids, n, err, sizeof(err));

	check(!t && strstr(err, word), "%s: refused with \"%s\"", what, err);
	if (t)
		throttle_free(t);
	if (pid > 0) {
		dom_path(pid, dom, sizeof(dom));
		check(!exists(dom), "%s: %s not left behind", what, dom);
	}
}

static int cmd_bad(void)
{
	pid_t tids[NVCPU + 1], pid = workload(tids), other[2], dead;
	char buf[512], orig[512];
	int i;

	if (pid < 0) {
		perror("workload");
		return 1;
	}
	cg_of(pid, pid, orig, sizeof(orig));
	/* A pid that does not exist: one that just exited. */
	dead = fork();
	if (!dead)
		_exit(0);
	waitpid(dead, NULL, 0);
	expect_refusal("a pid that does not exist", dead, tids, 1, "no process");
	other[0] = tids[0];
	other[1] = getpid();
	expect_refusal("a tid of another process", pid, other, 2, "is not a thread of process");
	expect_refusal("a thread given as the process", tids[0], tids, 1, "not a process");
	expect_refusal("no vCPU threads", pid, tids, 0, "invalid vCPU thread count");
	expect_refusal("pid 0", 0, tids, 1, "invalid QEMU pid");
	/*
	 * A zombie passes the checks on /proc and is refused only once it is
	 * in the domain, which then goes away again: the unwinding path.
	 */
	dead = fork();
	if (!dead)
		_exit(0);
	for (i = 0; i < 200; i++) {
		char path[64], st[256];

		snprintf(path, sizeof(path), "/proc/%d/stat", dead);
		read_line(path, st, sizeof(st));
		if (strstr(st, ") Z "))
			break;
		usleep(10000);
	}
	expect_refusal("an exited, unreaped process", dead, &dead, 1, "has exited");
	waitpid(dead, NULL, 0);
	cg_of(pid, tids[0], buf, sizeof(buf));
	check(!strcmp(buf, orig), "the process stays in %s: %s", orig, buf);
	reap(pid);
	return failures ? 1 : 0;
}

static int cmd_refused(const char *word)
{
	pid_t tids[NVCPU + 1], pid = workload(tids);

	if (pid < 0) {
		perror("workload");
		return 1;
	}
	expect_refusal("refused", pid, tids, NVCPU, word);
	reap(pid);
	return failures ? 1 : 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: throttle_drive [--cgroup BASE] rates [HINTS] | pid PID TID... "
		"[HINTS=N] | exit | bad | refused WORD\n");
	return 2;
}

int main(int argc, char **argv)
{
	int i = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2 && !strcmp(argv[1], "--cgroup")) {
		base = argv[2];
		i = 3;
	}
	if (i >= argc)
		return usage();
	if (!strcmp(argv[i], "rates"))
		return cmd_rates(i + 1 < argc ? atoi(argv[i + 1]) : 8);
	if (!strcmp(argv[i], "exit"))
		return cmd_exit();
	if (!strcmp(argv[i], "bad"))
		return cmd_bad();
	if (!strcmp(argv[i], "refused") && i + 1 < argc)
		return cmd_refused(argv[i + 1]);
	if (!strcmp(argv[i], "pid") && i + 2 < argc) {
		pid_t pid = atoi(argv[i + 1]), tids[16];
		unsigned int n = 0;
		int hints = 8, j;

		for (j = i + 2; j < argc && n < 16; j++) {
			if (!strncmp(argv[j], "HINTS=", 6))
				hints = atoi(argv[j] + 6);
			else
				tids[n++] = atoi(argv[j]);
		}
		if (!n)
			return usage();
		return run_rates(pid, tids, n, -1, hints);
	}
	return usage();
}
