// SPDX-License-Identifier: GPL-2.0
/*
 * Writers that do not store through the guest view's page tables
 * (tests/guest/12-writers.sh): process_vm_writev and O_DIRECT reads, which
 * write through get_user_pages, racing a collector that loops
 * get-and-clear; a writer held in the middle of a copy (userfaultfd) while
 * a get-and-clear and a zero scan run; RDMIG_MARK_DIRTY; the agent's own
 * MRs through the transfer view; netlink DIRTY_GET whose reply cannot be
 * queued.
 *
 * usage: test_writers pvm-race SECONDS
 *        test_writers odirect-race BLOCKDEV SECONDS
 *        test_writers pvm-stall
 *        test_writers zero-cpu SECONDS
 *        test_writers mark-dirty
 *        test_writers transfer-mr
 *        test_writers nl-enobufs
 *
 * The races check what tests/guest/test_region_stress.c checks: every
 * page a get-and-clear reports is copied into a shadow, and after the
 * writers are done and one last get-and-clear, the shadow must equal the
 * region byte for byte. A write the dirty log missed leaves it behind.
 */
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#include <infiniband/verbs.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <rdmig/librdmig.h>

#include "region_util.h"

#define PG 4096UL

static int dev = -1;

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void fail(const char *fmt, unsigned long a, unsigned long b)
{
	fprintf(stderr, "FAIL: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The pagemap entry of @page (RDMIG_PM_*), read through @fd. */
static uint64_t pm(int fd, uint64_t page)
{
	uint64_t e = ru_pm(fd, page);

	if (e == ~0ULL)
		die("pagemap read");
	return e;
}

struct region {
	int fd;
	uint64_t npages;
	char *mem;
	char *shadow;
	uint64_t *bitmap;
};

static void region_new(struct region *r, uint64_t npages)
{
	r->npages = npages;
	r->fd = ru_create(dev, npages * PG, RDMIG_REGION_F_TRACK, "writers",
			  NULL);
	if (r->fd < 0)
		die("RDMIG_CREATE_REGION");
	r->mem = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
		      r->fd, 0);
	r->shadow = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	r->bitmap = calloc((npages + 63) / 64, 8);
	if (r->mem == MAP_FAILED || r->shadow == MAP_FAILED || !r->bitmap)
		die("region memory");
}

/* One get-and-clear; every reported page is copied into the shadow. */
static uint64_t collect(struct region *r)
{
	uint64_t n, i, copied = 0;

	if (ru_get_dirty(r->fd, 0, r->npages, RDMIG_DIRTY_F_CLEAR, r->bitmap,
			 &n))
		die("RDMIG_GET_DIRTY");
	for (i = 0; i < r->npages; i++) {
		if (!(r->bitmap[i / 64] & (1ULL << (i % 64))))
			continue;
		memcpy(r->shadow + i * PG, r->mem + i * PG, PG);
		copied++;
	}
	if (copied != n)
		fail("out_dirty %lu but %lu bits set", n, copied);
	return n;
}

static int shadow_check(struct region *r, const char *what)
{
	uint64_t p, bad = 0;

	for (p = 0; p < r->npages; p++)
		if (memcmp(r->shadow + p * PG, r->mem + p * PG, PG) &&
		    bad++ < 10)
			fprintf(stderr, "page %lu: shadow differs (lost %s write)\n",
				(unsigned long)p, what);
	return bad ? 1 : 0;
}

static void fill(char *p, uint64_t v)
{
	uint64_t i;

	for (i = 0; i < PG / 8; i++)
		((uint64_t *)p)[i] = v + i;
}

/* ---- process_vm_writev racing get-and-clear ------------------------------ */

#define PVM_RUN 32

/* In a child: write runs of pages of the parent's region, new values each. */
static void pvm_writer(pid_t target, char *remote, uint64_t npages,
		       double secs)
{
	static char buf[PVM_RUN * PG];
	uint64_t seed = 0x2545f4914f6cdd1dULL, seq = 1, writes = 0, i;
	double t0 = now();

	while (now() - t0 < secs) {
		uint64_t p = xorshift(&seed) % npages;
		uint64_t n = 1 + xorshift(&seed) % PVM_RUN;
		struct iovec l, rv;

		if (p + n > npages)
			n = npages - p;
		for (i = 0; i < n; i++)
			fill(buf + i * PG, (seq++) << 20);
		l.iov_base = buf;
		l.iov_len = n * PG;
		rv.iov_base = remote + p * PG;
		rv.iov_len = n * PG;
		if (process_vm_writev(target, &l, 1, &rv, 1, 0) != (ssize_t)(n * PG))
			die("process_vm_writev");
		writes += n;
	}
	printf("writer: %lu page writes\n", (unsigned long)writes);
	fflush(stdout);
	_exit(0);
}

static int pvm_race(double secs)
{
	struct region r;
	uint64_t rounds = 0, reported = 0;
	int status;
	pid_t pid;

	region_new(&r, 512);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid)
		pvm_writer(getppid(), r.mem, r.npages, secs);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		reported += collect(&r);
		rounds++;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail("writer failed (status %lu)%lu", status, 0);
	reported += collect(&r);
	printf("pvm-race: rounds %lu reported %lu\n", (unsigned long)rounds,
	       (unsigned long)reported);
	return shadow_check(&r, "process_vm_writev");
}

/* ---- O_DIRECT reads racing get-and-clear --------------------------------- */

#define DIO_RUN 16

struct dio_arg {
	struct region *r;
	int bfd;
	double secs;
	uint64_t writes;
};

/*
 * Each round writes new data to the block device (from a private buffer)
 * and reads it back with O_DIRECT straight into guest-view pages: the read
 * pins them with get_user_pages and the device writes them.
 */
static void *dio_writer(void *arg)
{
	struct dio_arg *a = arg;
	uint64_t seed = 0x9e3779b97f4a7c15ULL, seq = 1, i;
	double t0 = now();
	char *buf;

	if (posix_memalign((void **)&buf, PG, DIO_RUN * PG))
		die("posix_memalign");
	while (now() - t0 < a->secs) {
		uint64_t p = xorshift(&seed) % a->r->npages;
		uint64_t n = 1 + xorshift(&seed) % DIO_RUN;

		if (p + n > a->r->npages)
			n = a->r->npages - p;
		for (i = 0; i < n; i++)
			fill(buf + i * PG, (seq++) << 20 | 1);
		if (pwrite(a->bfd, buf, n * PG, 0) != (ssize_t)(n * PG))
			die("pwrite O_DIRECT");
		if (pread(a->bfd, a->r->mem + p * PG, n * PG, 0) !=
		    (ssize_t)(n * PG))
			die("pread O_DIRECT");
		a->writes += n;
	}
	free(buf);
	return NULL;
}

static int odirect_race(const char *bdev, double secs)
{
	struct dio_arg a = { .secs = secs };
	uint64_t rounds = 0, reported = 0;
	struct region r;
	pthread_t th;
	atomic_bool done = false;

	region_new(&r, 512);
	a.r = &r;
	a.bfd = open(bdev, O_RDWR | O_DIRECT);
	if (a.bfd < 0)
		die(bdev);
	if (pthread_create(&th, NULL, dio_writer, &a))
		die("pthread_create");
	while (!atomic_load(&done)) {
		reported += collect(&r);
		rounds++;
		if (pthread_tryjoin_np(th, NULL) == 0)
			atomic_store(&done, true);
	}
	reported += collect(&r);
	printf("odirect-race: page writes %lu rounds %lu reported %lu\n",
	       (unsigned long)a.writes, (unsigned long)rounds,
	       (unsigned long)reported);
	close(a.bfd);
	return shadow_check(&r, "O_DIRECT");
}

/* ---- a writer held in the middle of a copy --------------------------------- */

/*
 * The child writes two pages of the parent's region with one
 * process_vm_writev whose source pages are missing in a userfaultfd
 * range: the kernel pins both target pages, then stops at each source
 * page until the child's handler thread fills it, and only unpins (and
 * reports) at the end. The parent acts at each stop, told through pipes.
 */
struct stall {
	int uffd;
	char *src;
	int tell, wait;		/* pipes to and from the parent */
};

static void *stall_handler(void *arg)
{
	struct stall *s = arg;
	static char page[PG] __attribute__((aligned(4096)));
	struct uffd_msg msg;
	int k;
	char c;

	for (k = 0; k < 2; k++) {
		struct uffdio_copy cp;
		struct pollfd p = { .fd = s->uffd, .events = POLLIN };

		if (poll(&p, 1, 10000) != 1 ||
		    read(s->uffd, &msg, sizeof(msg)) != sizeof(msg) ||
		    msg.event != UFFD_EVENT_PAGEFAULT)
			die("userfaultfd event");
		c = '0' + k;
		if (write(s->tell, &c, 1) != 1 || read(s->wait, &c, 1) != 1)
			die("stall pipe");
		memset(page, 0x99, PG);
		cp.dst = msg.arg.pagefault.address & ~(PG - 1);
		cp.src = (uintptr_t)page;
		cp.len = PG;
		cp.mode = 0;
		cp.copy = 0;
		if (ioctl(s->uffd, UFFDIO_COPY, &cp))
			die("UFFDIO_COPY");
	}
	return NULL;
}

static void stall_child(pid_t target, char *remote, int tell, int wait)
{
	struct uffdio_register reg;
	struct uffdio_api api = { .api = UFFD_API };
	struct stall s = { .tell = tell, .wait = wait };
	struct iovec l, rv;
	pthread_t th;

	s.uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (s.uffd < 0 || ioctl(s.uffd, UFFDIO_API, &api))
		die("userfaultfd");
	s.src = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s.src == MAP_FAILED)
		die("mmap");
	reg.range.start = (uintptr_t)s.src;
	reg.range.len = 2 * PG;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(s.uffd, UFFDIO_REGISTER, &reg))
		die("UFFDIO_REGISTER");
	if (pthread_create(&th, NULL, stall_handler, &s))
		die("pthread_create");
	l.iov_base = s.src;
	l.iov_len = 2 * PG;
	rv.iov_base = remote;
	rv.iov_len = 2 * PG;
	if (process_vm_writev(target, &l, 1, &rv, 1, 0) != 2 * PG)
		die("process_vm_writev");
	pthread_join(th, NULL);
	_exit(0);
}

static bool all_99(const char *p)
{
	uint64_t i;

	for (i = 0; i < PG; i++)
		if ((unsigned char)p[i] != 0x99)
			return false;
	return true;
}

static int pvm_stall(void)
{
	int to_parent[2], to_child[2], status, bad = 0;
	uint64_t e, z, recl, k = 4;
	struct region r;
	char c;
	pid_t pid;

	region_new(&r, 64);
	/* Pages k and k + 1 were written once, with zeroes, and reported. */
	memset(r.mem + k * PG, 0, 2 * PG);
	collect(&r);
	if (pipe(to_parent) || pipe(to_child))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid)
		stall_child(getppid(), r.mem + k * PG, to_parent[1],
			    to_child[0]);

	/* Stop 1: both pages pinned for writing, nothing written yet. */
	if (read(to_parent[0], &c, 1) != 1 || c != '0')
		die("stop 1");
	collect(&r);
	if (ru_zero_scan(r.fd, 0, r.npages, 0, &z, &recl))
		die("RDMIG_ZERO_SCAN");
	printf("stop 1: zero scan found %lu zero pages (pages %lu, %lu held)\n",
	       (unsigned long)z, (unsigned long)k, (unsigned long)k + 1);
	c = 'g';
	if (write(to_child[1], &c, 1) != 1)
		die("go 1");

	/* Stop 2: page k holds 0x99, still pinned; k + 1 not written. */
	if (read(to_parent[0], &c, 1) != 1 || c != '1')
		die("stop 2");
	e = pm(r.fd, k);
	printf("stop 2: page %lu holds %s, pagemap %#lx\n", (unsigned long)k,
	       all_99(r.mem + k * PG) ? "0x99" : "?", (unsigned long)e);
	if (all_99(r.mem + k * PG) && (e & RDMIG_PM_ZERO) &&
	    !(e & RDMIG_PM_DIRTY)) {
		fprintf(stderr, "FAIL: page %lu holds 0x99 but is ZERO and not DIRTY (zero scan marked a page being written)\n",
			(unsigned long)k);
		bad = 1;
	}
	c = 'g';
	if (write(to_child[1], &c, 1) != 1)
		die("go 2");
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		fail("writer failed (status %lu)%lu", status, 0);

	/* The writes completed: the next get-and-clear reports both pages. */
	collect(&r);
	if (!(r.bitmap[0] & (1ULL << k)) || !(r.bitmap[0] & (1ULL << (k + 1)))) {
		fprintf(stderr, "FAIL: get-and-clear after the write returned %#lx, not pages %lu and %lu (lost write)\n",
			(unsigned long)r.bitmap[0], (unsigned long)k,
			(unsigned long)k + 1);
		bad = 1;
	}
	e = pm(r.fd, k);
	if (e & RDMIG_PM_ZERO) {
		fprintf(stderr, "FAIL: page %lu holds 0x99 but pagemap %#lx says ZERO\n",
			(unsigned long)k, (unsigned long)e);
		bad = 1;
	}
	return bad | shadow_check(&r, "process_vm_writev");
}

/* ---- zero scans racing a CPU writer -------------------------------------- */

struct zc_arg {
	struct region *r;
	double secs;
	atomic_bool stop;
};

static void *zc_writer(void *arg)
{
	struct zc_arg *a = arg;
	uint64_t seed = 88172645463325252ULL;

	while (!atomic_load(&a->stop)) {
		uint64_t p = xorshift(&seed) % a->r->npages;

		memset(a->r->mem + p * PG, xorshift(&seed) & 1 ? 0x99 : 0, PG);
	}
	return NULL;
}

/*
 * A CPU writer stores 0x99 or zeroes into whole pages while zero scans and
 * get-and-clears run. At any time, a page that holds data must not read
 * ZERO unless DIRTY says it changed since (checked once the writer is
 * stopped, for every page).
 */
static int zero_cpu(double secs)
{
	struct zc_arg a = { .secs = secs };
	uint64_t p, z, recl, scans = 0, bad = 0;
	struct region r;
	pthread_t th;
	double t0;

	region_new(&r, 256);
	memset(r.mem, 0, r.npages * PG);
	a.r = &r;
	if (pthread_create(&th, NULL, zc_writer, &a))
		die("pthread_create");
	t0 = now();
	while (now() - t0 < secs) {
		collect(&r);
		if (ru_zero_scan(r.fd, 0, r.npages, 0, &z, &recl))
			die("RDMIG_ZERO_SCAN");
		scans++;
	}
	atomic_store(&a.stop, true);
	pthread_join(th, NULL);
	for (p = 0; p < r.npages; p++) {
		uint64_t e = pm(r.fd, p);
		bool data = r.mem[p * PG] != 0;

		if (data && (e & RDMIG_PM_ZERO) && !(e & RDMIG_PM_DIRTY) &&
		    bad++ < 10)
			fprintf(stderr, "page %lu holds data, pagemap %#lx: ZERO and not DIRTY\n",
				(unsigned long)p, (unsigned long)e);
	}
	printf("zero-cpu: %lu scans, %lu bad pages\n", (unsigned long)scans,
	       (unsigned long)bad);
	return bad ? 1 : 0;
}

/* ---- RDMIG_MARK_DIRTY ---------------------------------------------------- */

static int md_ioctl(int fd, uint32_t size, uint32_t flags, uint64_t reserved,
		    uint64_t first, uint64_t n)
{
	struct {
		struct rdmig_mark_dirty m;
		uint64_t extra;
	} a = { .m = { .size = size, .flags = flags, .reserved = reserved,
		       .first_page = first, .npages = n } };

	return ioctl(fd, RDMIG_MARK_DIRTY, &a) ? -errno : 0;
}

#define EXPECT(cond) do { if (!(cond)) { \
	fprintf(stderr, "FAIL: %s:%d: %s (errno %d)\n", __FILE__, __LINE__, \
		#cond, errno); return 1; } } while (0)

static int mark_dirty(void)
{
	const uint32_t sz = sizeof(struct rdmig_mark_dirty);
	struct rdmig_region_info info;
	struct region r;
	uint64_t n, e;
	int tfd;

	region_new(&r, 100);
	memset(r.mem + 3 * PG, 1, 3 * PG);	/* pages 3, 4, 5 present */
	(void)*(volatile char *)(r.mem + 50 * PG); /* present, not written */
	collect(&r);
	EXPECT(ru_zero_scan(r.fd, 0, r.npages, 0, &n, NULL) == 0);

	/* Bad input changes nothing. */
	EXPECT(md_ioctl(r.fd, sz, 1, 0, 0, 1) == -EINVAL);
	EXPECT(md_ioctl(r.fd, sz, 1U << 31, 0, 0, 1) == -EINVAL);
	EXPECT(md_ioctl(r.fd, sz, 0, 1, 0, 1) == -EINVAL);
	EXPECT(md_ioctl(r.fd, sz, 0, 0, 0, 0) == -EINVAL);
	EXPECT(md_ioctl(r.fd, sz, 0, 0, 100, 1) == -EINVAL);
	EXPECT(md_ioctl(r.fd, sz, 0, 0, 99, 2) == -EINVAL);
	EXPECT(md_ioctl(r.fd, sz, 0, 0, 1, UINT64_MAX) == -EINVAL);
	EXPECT(md_ioctl(r.fd, sz, 0, 0, UINT64_MAX, 2) == -EINVAL);
	EXPECT(md_ioctl(r.fd, sz - 1, 0, 0, 0, 1) == -EINVAL);
	EXPECT(md_ioctl(r.fd, sz + 8, 0, 0, 0, 1) == 0);
	EXPECT(ioctl(r.fd, RDMIG_MARK_DIRTY, (void *)8) == -1 && errno == EFAULT);
	EXPECT(ioctl(r.fd, RDMIG_MARK_DIRTY, NULL) == -1 && errno == EFAULT);
	tfd = ru_transfer(r.fd);
	EXPECT(tfd >= 0);
	EXPECT(md_ioctl(tfd, sz, 0, 0, 0, 1) == -ENOTTY);
	/* Page 0 is absent: the accepted call above marked nothing. */
	EXPECT(ru_get_dirty(r.fd, 0, r.npages, 0, r.bitmap, &n) == 0 && n == 0);

	/* Present pages become DIRTY and WRITTEN and lose ZERO. */
	EXPECT(rdmig_mark_dirty(r.fd, 0, r.npages) == 0);
	EXPECT(ru_get_dirty(r.fd, 0, r.npages, RDMIG_DIRTY_F_CLEAR, r.bitmap,
			    &n) == 0);
	EXPECT(n == 4);
	EXPECT(r.bitmap[0] == ((7ULL << 3) | (1ULL << 50)) && r.bitmap[1] == 0);
	EXPECT(pm(r.fd, 50) & RDMIG_PM_WRITTEN);
	e = pm(r.fd, 50);
	EXPECT(!(e & RDMIG_PM_ZERO));
	EXPECT(pm(r.fd, 0) == RDMIG_PM_ZERO);	/* absent stays known zero */
	EXPECT(ru_info(r.fd, &info) == 0 && info.written_pages == 4 &&
	       info.dirty_pages == 0);
	/* Also with tracking off, and idempotent. */
	EXPECT(ru_tracking(r.fd, 0) == 0);
	EXPECT(rdmig_mark_dirty(r.fd, 4, 1) == 0);
	EXPECT(rdmig_mark_dirty(r.fd, 4, 1) == 0);
	EXPECT(ru_info(r.fd, &info) == 0 && info.dirty_pages == 1);
	EXPECT(rdmig_mark_dirty(tfd, 4, 1) == -ENOTTY);
	close(tfd);
	printf("mark-dirty: ok\n");
	return 0;
}

/* ---- the agent's MRs through the transfer view ------------------------------ */

static int transfer_mr(void)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	struct ibv_context *ctx;
	struct rdmig_region_info info;
	struct ibv_mr *mr;
	struct ibv_pd *pd;
	struct region r;
	uint64_t n;
	char *t;
	int tfd;

	if (!list || !list[0])
		die("no RDMA device");
	ctx = ibv_open_device(list[0]);
	pd = ctx ? ibv_alloc_pd(ctx) : NULL;
	if (!pd)
		die("ibv_alloc_pd");
	region_new(&r, 64);
	tfd = ru_transfer(r.fd);
	t = mmap(NULL, r.npages * PG, PROT_READ | PROT_WRITE, MAP_SHARED, tfd, 0);
	EXPECT(tfd >= 0 && t != MAP_FAILED);
	memset(r.mem, 7, 16 * PG);	/* pages 0-15 written by the guest */
	(void)t[0];
	collect(&r);	/* reported and re-armed: write-protected everywhere */

	/* A read-only MR (a source chunk) write-faults on 6.1: not a write. */
	mr = ibv_reg_mr(pd, t, r.npages * PG, 0);
	EXPECT(mr);
	EXPECT(ru_get_dirty(r.fd, 0, r.npages, 0, r.bitmap, &n) == 0 && n == 0);
	EXPECT(ibv_dereg_mr(mr) == 0);
	EXPECT(ru_get_dirty(r.fd, 0, r.npages, 0, r.bitmap, &n) == 0 && n == 0);
	EXPECT(ru_info(r.fd, &info) == 0 && info.written_pages == 16);

	/*
	 * Nor is a CPU write through the transfer view after a re-arm
	 * (which write-protected the page in the transfer view too).
	 */
	r.mem[3 * PG] = 2;
	EXPECT(ru_get_dirty(r.fd, 0, r.npages, RDMIG_DIRTY_F_CLEAR, r.bitmap,
			    &n) == 0 && n == 1);
	t[3 * PG] = 1;
	t[40 * PG] = 1;
	EXPECT(ru_get_dirty(r.fd, 0, r.npages, 0, r.bitmap, &n) == 0 && n == 0);

	/*
	 * A writable MR (a destination chunk) may have been written by RDMA:
	 * its unpin reports every page DIRTY and WRITTEN.
	 */
	mr = ibv_reg_mr(pd, t + 32 * PG, 8 * PG,
			IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	EXPECT(mr);
	EXPECT(ru_get_dirty(r.fd, 0, r.npages, 0, r.bitmap, &n) == 0 && n == 0);
	EXPECT(ibv_dereg_mr(mr) == 0);
	EXPECT(ru_get_dirty(r.fd, 0, r.npages, RDMIG_DIRTY_F_CLEAR, r.bitmap,
			    &n) == 0);
	EXPECT(n == 8 && r.bitmap[0] == 0xffULL << 32);
	EXPECT(ru_info(r.fd, &info) == 0 && info.written_pages == 24);
	printf("transfer-mr: ok\n");
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	ibv_free_device_list(list);
	return 0;
}

/* ---- netlink DIRTY_GET whose reply cannot be queued ------------------------ */

static int nl_enobufs(void)
{
	struct rdmig_nl *nl;
	struct nl_sock *sk;
	struct nl_msg *msg;
	struct region r;
	uint32_t id;
	uint64_t n, i;
	int rcvbuf = 1, tfd, fam, err, k, lost = 0;
	int64_t got;

	r.npages = 4096;
	r.fd = ru_create(dev, r.npages * PG, RDMIG_REGION_F_TRACK, "enobufs",
			 &id);
	EXPECT(r.fd >= 0);
	r.mem = mmap(NULL, r.npages * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
		     r.fd, 0);
	r.bitmap = calloc(r.npages / 64, 8);
	EXPECT(r.mem != MAP_FAILED && r.bitmap);
	EXPECT(rdmig_nl_open(&nl) == 0);
	fam = rdmig_nl_family_id(nl);

	/* A second socket, bound to the region, that never reads. */
	sk = nl_socket_alloc();
	EXPECT(sk && genl_connect(sk) == 0);
	tfd = ru_transfer(r.fd);
	EXPECT(rdmig_bind_netlink(tfd, nl_socket_get_fd(sk)) == 0);
	EXPECT(setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVBUF,
			  &rcvbuf, sizeof(rcvbuf)) == 0);

	for (k = 0; k < 20; k++) {
		for (i = 0; i < r.npages; i += 97)
			r.mem[i * PG] = (char)k;
		msg = nlmsg_alloc();
		EXPECT(msg);
		genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, fam, 0, 0,
			    RDMIG_CMD_DIRTY_GET, RDMIG_GENL_VERSION);
		nla_put_u32(msg, RDMIG_A_REGION_ID, id);
		nla_put_u64(msg, RDMIG_A_FIRST_PAGE, 0);
		nla_put_u64(msg, RDMIG_A_NPAGES, r.npages);
		nla_put_u32(msg, RDMIG_A_FLAGS, RDMIG_DIRTY_F_CLEAR);
		err = nl_send_auto(sk, msg);
		nlmsg_free(msg);
		EXPECT(err >= 0);
	}
	/* None of the replies was read; whatever was not queued is dirty. */
	got = 0;
	{
		struct pollfd p = { .fd = nl_socket_get_fd(sk), .events = POLLIN };
		char buf[65536];
		ssize_t len;
		int replies = 0, enobufs = 0;

		/* Count what was queued: those replies were delivered. */
		while (poll(&p, 1, 0) == 1) {
			len = recv(p.fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (len < 0 && errno == ENOBUFS) {
				enobufs++;
				continue;
			}
			if (len <= 0)
				break;
			replies++;
		}
		printf("nl-enobufs: %d replies queued, %d ENOBUFS\n", replies,
		       enobufs);
		EXPECT(enobufs > 0);
		EXPECT(replies < 20);
	}
	/* The pages written last must still be reported. */
	got = rdmig_dirty_get(r.fd, 0, r.npages, false, r.bitmap);
	EXPECT(got >= 0);
	for (i = 0; i < r.npages; i += 97)
		if (!(r.bitmap[i / 64] & (1ULL << (i % 64))))
			lost++;
	n = (uint64_t)got;
	printf("nl-enobufs: %lu pages still dirty, %d of the written pages lost\n",
	       (unsigned long)n, lost);
	if (lost) {
		fprintf(stderr, "FAIL: %d written pages were cleared by a DIRTY_GET whose reply was dropped\n",
			lost);
		return 1;
	}
	nl_socket_free(sk);
	rdmig_nl_close(nl);
	close(tfd);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	dev = open("/dev/rdmig", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		die("/dev/rdmig");
	if (argc == 3 && !strcmp(argv[1], "pvm-race"))
		return pvm_race(strtod(argv[2], NULL));
	if (argc == 4 && !strcmp(argv[1], "odirect-race"))
		return odirect_race(argv[2], strtod(argv[3], NULL));
	if (argc == 2 && !strcmp(argv[1], "pvm-stall"))
		return pvm_stall();
	if (argc == 3 && !strcmp(argv[1], "zero-cpu"))
		return zero_cpu(strtod(argv[2], NULL));
	if (argc == 2 && !strcmp(argv[1], "mark-dirty"))
		return mark_dirty();
	if (argc == 2 && !strcmp(argv[1], "transfer-mr"))
		return transfer_mr();
	if (argc == 2 && !strcmp(argv[1], "nl-enobufs"))
		return nl_enobufs();
	fprintf(stderr, "usage: %s pvm-race SECS | odirect-race DEV SECS | pvm-stall | zero-cpu SECS | mark-dirty | transfer-mr | nl-enobufs\n",
		argv[0]);
	return 2;
}
