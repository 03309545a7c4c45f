// SPDX-License-Identifier: GPL-2.0
/*
 * Accounting of region pages to the region's creator
 * (tests/guest/14-account.sh): its memory cgroup is charged whoever
 * faults the pages, its RLIMIT_MEMLOCK bounds what an unprivileged
 * creator may create, and the guest view's NUMA policy places the pages.
 *
 * The memcg test needs cgroup2 at CGROUP_ROOT with the memory controller
 * enabled for children (the suite does that); the NUMA test needs a guest
 * with two nodes (the suite's "# guest: --numa 2").
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <linux/mempolicy.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <rdmig/librdmig.h>

#define PAGE 4096UL
#define MIB (1UL << 20)
#define NOBODY 65534
#define CGROUP_ROOT "/sys/fs/cgroup"

static int devfd = -1;

static int setup(void **state)
{
	(void)state;
	devfd = rdmig_dev_open();
	return devfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	close(devfd);
	return 0;
}

static int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* ---- memory cgroup ---------------------------------------------------------- */

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static long long cg_current(const char *cg)
{
	char path[256], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), CGROUP_ROOT "/%s/memory.current", cg);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return atoll(buf);
}

static int cg_enter(const char *cg)
{
	char path[256], pid[32];

	snprintf(path, sizeof(path), CGROUP_ROOT "/%s/cgroup.procs", cg);
	snprintf(pid, sizeof(pid), "%d", getpid());
	return write_file(path, pid);
}

static void cg_make(const char *cg)
{
	char path[256];

	snprintf(path, sizeof(path), CGROUP_ROOT "/%s", cg);
	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
	assert_true(cg_current(cg) >= 0);
}

/* Agent: in its own cgroup, faults every page through the transfer view. */
static int agent(int tfd, uint64_t len)
{
	volatile char *q;
	uint64_t off;

	if (cg_enter("rdmig-agent"))
		return 10;
	q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, tfd, 0);
	if (q == MAP_FAILED)
		return 11;
	for (off = 0; off < len; off += PAGE)
		q[off] = 1;
	munmap((void *)q, len);
	return 0;
}

/*
 * Creator, in its cgroup: makes a region and lets an agent in another
 * cgroup fault all of it. The creator's cgroup grows by the region, the
 * agent's does not; closing the region gives the charge back.
 */
static int creator(uint64_t len)
{
	long long c0, a0, c1, a1, c2;
	struct rdmig_region_info info = { .size = sizeof(info) };
	struct rdmig_region r;
	pid_t pid;
	int tfd;

	if (cg_enter("rdmig-creator"))
		return 1;
	if (rdmig_region_create(devfd, "acct-memcg", len, 0, false, &r))
		return 2;
	tfd = rdmig_transfer_fd(r.fd);
	if (tfd < 0)
		return 3;
	c0 = cg_current("rdmig-creator");
	a0 = cg_current("rdmig-agent");
	pid = fork();
	if (pid < 0)
		return 4;
	if (pid == 0)
		_exit(agent(tfd, len));
	if (wait_child(pid) != 0)
		return 5;
	c1 = cg_current("rdmig-creator");
	a1 = cg_current("rdmig-agent");
	if (rdmig_region_info(r.fd, &info) || info.present_pages != len / PAGE)
		return 6;
	printf("# creator %lld -> %lld, agent %lld -> %lld (region %llu MiB present)\n",
	       c0, c1, a0, a1, (unsigned long long)(info.present_pages * PAGE / MIB));
	fflush(stdout);
	if (c1 - c0 < (long long)(len - len / 16))
		return 7;
	if (a1 - a0 > (long long)(len / 16))
		return 8;
	close(tfd);
	rdmig_region_close(&r);
	c2 = cg_current("rdmig-creator");
	printf("# creator after close %lld\n", c2);
	fflush(stdout);
	if (c1 - c2 < (long long)(len - len / 16))
		return 9;
	return 0;
}

static void test_memcg_charges_creator(void **state)
{
	pid_t pid;

	(void)state;
	assert_int_equal(write_file(CGROUP_ROOT "/cgroup.subtree_control",
				    "+memory"), 0);
	cg_make("rdmig-creator");
	cg_make("rdmig-agent");
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(creator(64 * MIB));
	assert_int_equal(wait_child(pid), 0);
}

/* ---- RLIMIT_MEMLOCK ------------------------------------------------------------ */

static int create(uint64_t len, struct rdmig_region *r)
{
	return rdmig_region_create(devfd, "acct-memlock", len, 0, false, r);
}

static int set_memlock(rlim_t soft, rlim_t hard)
{
	struct rlimit rl = { .rlim_cur = soft, .rlim_max = hard };

	return setrlimit(RLIMIT_MEMLOCK, &rl);
}

/* Unprivileged, with /dev/rdmig opened while it was still root. */
static int nobody_memlock(void)
{
	struct rdmig_region a, b, c;
	int err;

	if (set_memlock(1 * MIB, 128 * MIB))
		return 1;
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return 2;
	err = create(64 * MIB, &a);
	if (err != -ENOMEM) {
		fprintf(stderr, "64 MiB under a 1 MiB limit: %s\n",
			err ? strerror(-err) : "created");
		return 3;
	}
	if (create(512 * 1024, &a))	/* within the limit */
		return 4;
	rdmig_region_close(&a);
	if (set_memlock(128 * MIB, 128 * MIB))
		return 5;
	if (create(64 * MIB, &a) || create(64 * MIB, &b))
		return 6;
	/* 128 MiB are taken: not one more page. */
	if (create(PAGE, &c) != -ENOMEM)
		return 7;
	/* Closing gives the locked pages back. */
	rdmig_region_close(&a);
	if (create(64 * MIB, &c))
		return 8;
	rdmig_region_close(&b);
	rdmig_region_close(&c);
	return 0;
}

static void test_memlock_limits_unprivileged(void **state)
{
	struct rdmig_region r;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(nobody_memlock());
	assert_int_equal(wait_child(pid), 0);
	/* CAP_IPC_LOCK is not limited: root's soft limit is lowered here. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(set_memlock(0, 0) || create(64 * MIB, &r) ? 1 : 0);
	assert_int_equal(wait_child(pid), 0);
}

/* ---- NUMA policy --------------------------------------------------------------- */

static int page_node(void *p)
{
	void *pages[1] = { p };
	int status = -1;

	if (syscall(SYS_move_pages, 0, 1UL, pages, NULL, &status, 0))
		return -1;
	return status;
}

/*
 * Runs on CPU 0 (node 0), so a page placed by the task's default policy
 * lands on node 0: a page on node 1 is the mbind() policy's doing.
 */
static void test_mbind_places_pages(void **state)
{
	const unsigned long npages = 32;
	unsigned long mask;
	struct rdmig_region r;
	cpu_set_t cpus;
	char *p;
	unsigned long i;

	(void)state;
	assert_int_equal(access("/sys/devices/system/node/node1", F_OK), 0);
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	assert_int_equal(sched_setaffinity(0, sizeof(cpus), &cpus), 0);
	assert_int_equal(rdmig_region_create(devfd, "acct-numa", npages * PAGE,
					     0, true, &r), 0);
	p = r.mem;
	mask = 1UL << 1;
	assert_int_equal(syscall(SYS_mbind, p, npages / 2 * PAGE, MPOL_BIND,
				 &mask, 8 * sizeof(mask), 0), 0);
	mask = 1UL << 0;
	assert_int_equal(syscall(SYS_mbind, p + npages / 2 * PAGE,
				 npages / 2 * PAGE, MPOL_BIND, &mask,
				 8 * sizeof(mask), 0), 0);
	for (i = 0; i < npages; i++)
		p[i * PAGE] = 1;
	for (i = 0; i < npages; i++) {
		int want = i < npages / 2 ? 1 : 0;
		int got = page_node(p + i * PAGE);

		if (got != want)
			print_error("page %lu on node %d, want %d\n", i, got,
				    want);
		assert_int_equal(got, want);
	}
	rdmig_region_close(&r);
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	CPU_SET(1, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memcg_charges_creator),
		cmocka_unit_test(test_memlock_limits_unprivileged),
		cmocka_unit_test(test_mbind_places_pages),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
