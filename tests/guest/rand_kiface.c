// SPDX-License-Identifier: GPL-2.0
/*
 * rand_kiface: a seeded random sequence tester for rdmig.ko's kernel
 * interfaces (tests/guest/15-random.sh, Documentation/testing.md).
 *
 *   rand_kiface --seed S [--duration SEC] [--procs P] [--threads T]
 *   rand_kiface --seed S --ops N        one process, one thread, exactly
 *                                       N operations: reproduces a seed
 *   rand_kiface --owner-reuse           region-owner-pid of a region whose
 *                                       creator exited, its pid reused: 0
 *   rand_kiface --probe-locked BYTES    as nobody, with RLIMIT_MEMLOCK =
 *                                       BYTES: a region of BYTES must fit
 *                                       (the user's locked_vm is back to
 *                                       0) and one page more must not
 *
 * Worker processes (the second one unprivileged: uid nobody, no
 * capabilities, its own RLIMIT_MEMLOCK), each with several threads, issue
 * a random mix of every ioctl of /dev/rdmig and of the region fds (valid,
 * boundary and garbage arguments: bad and read-only pointers, short and
 * long structs, huge sizes, unaligned offsets, wrong, closed and O_PATH
 * fds, other processes' region ids), generic netlink commands built with
 * libnl-genl (well-formed, malformed, unknown, foreign ids), mmap, munmap,
 * mremap, mprotect and madvise of both views, stores and loads through the
 * mappings, /proc/self/mem and process_vm_{read,write}v, read/pread/readv
 * beyond EOF, write, ftruncate, truncate, fallocate in every mode, reopen
 * through /proc/self/fd, fchmod, dup, close, sendfile, RDMA memory
 * registration on rxe0 (pins), and forks that use and drop inherited fds
 * and mappings in random order. Each result is checked against the class
 * the documentation gives (success or a specific errno); an unexpected
 * result, a signal where data is promised, or a broken invariant at the
 * end (pagemap against counters, WRITTEN implies PRESENT, no pin left) is
 * printed with the seed, the process, the thread and the operation number,
 * and makes the exit status 1. The per-operation outcomes are summed
 * over all processes and printed as a table.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netinet/in.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <infiniband/verbs.h>

#include <linux/rdmig.h>

#define PG		4096UL
#define MAXPAGES	256
#define NFS		12	/* fd slots per process */
#define NMS		10	/* mapping slots per process */
#define NMR		6	/* RDMA MR slots per process */
#define NKIDS		16	/* forked children not yet reaped */
#define NIDS		64	/* region ids shared between processes */
#define NERR		128	/* errno slots; larger ones count in the last */
#define MAXPROCS	4
#define MAXTHREADS	8
#define DEADFD		900	/* fds DEADFD..DEADFD+9 are closed, never reused */
#define NOBODY		65534
#define NOBODY_MEMLOCK	(512UL << 20)

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

typedef unsigned __int128 mask_t;
#define A(e)	((mask_t)1 << (e))
#define OK	A(0)

#define OPS(X) \
	X(dev_version, 3) X(dev_create, 6) X(dev_badioctl, 1) \
	X(info, 4) X(set, 3) X(get_dirty, 5) X(get_dirty_words, 4) \
	X(zero_scan, 3) \
	X(transfer_fd, 2) X(bind, 2) X(mark_written, 2) X(mark_dirty, 2) \
	X(pagemap, 3) X(reg_badioctl, 1) X(wrong_fd, 1) \
	X(mmap, 6) X(munmap, 3) X(mremap, 2) X(mprotect, 2) X(access, 10) \
	X(madvise, 3) X(procmem, 2) X(read, 3) X(write, 1) X(lseek, 1) \
	X(truncate, 1) X(fallocate, 3) X(reopen, 3) X(fchmod, 1) \
	X(close, 4) X(dup, 1) X(fork, 2) X(sendfile, 1) \
	X(nl_version, 1) X(nl_region_get, 2) X(nl_region_dump, 1) \
	X(nl_region_set, 2) X(nl_dirty_get, 2) X(nl_dirty_dump, 1) \
	X(nl_zero_scan, 2) X(nl_stats, 1) X(nl_unknown, 1) \
	X(nl_malformed, 2) X(nl_mcast, 1) X(reg_mr, 2) X(dereg_mr, 2) \
	X(mlock, 1) X(child, 0) X(invariant, 0)

#define X_ENUM(n, w) OP_##n,
enum { OPS(X_ENUM) NOPS };
#define X_NAME(n, w) #n,
static const char *const op_names[] = { OPS(X_NAME) };
#define X_WEIGHT(n, w) w,
static const unsigned int op_weights[] = { OPS(X_WEIGHT) };

enum { K_FREE, K_GUEST, K_TRANSFER, K_RO, K_RW, K_WO, K_PATH };
static const char *const kind_names[] = {
	"free", "guest", "transfer", "reopen-ro", "reopen-rw", "reopen-wo",
	"opath",
};

struct fslot {
	pthread_rwlock_t lk;
	int fd;
	int kind;
	uint32_t id;
	uint64_t npages;
};

struct mslot {
	pthread_rwlock_t lk;
	char *addr;
	size_t len;
	uint64_t pgoff;
	int prot;
	int kind;		/* K_GUEST (any guest-view file) or K_TRANSFER */
	bool fwrite;		/* the file was writable */
	bool locked;		/* some of it may be mlock()ed */
	uint32_t id;
	uint64_t npages;
};

struct mrslot {
	pthread_mutex_t lk;
	struct ibv_mr *mr;
};

/* Shared by every process (MAP_SHARED anonymous, inherited by forks). */
struct shared {
	uint64_t counts[NOPS][NERR];
	uint64_t unexpected;
	uint64_t ops;
	uint64_t ns[NOPS];
	uint32_t ids[NIDS];
	/* regions (by id) that anything may have written through a transfer view */
	uint8_t txw[1 << 13];
	pthread_barrier_t bar;
};

struct proc {
	int idx;
	bool priv;
	int dev;
	int pipefd[2];
	int udp;
	int nlroute;
	int nl_unbound;
	int devnull;
	struct fslot fs[NFS];
	struct mslot ms[NMS];
	struct mrslot mr[NMR];
	struct ibv_context *ibctx;
	struct ibv_pd *pd;
	int mr_live;		/* MRs registered or being registered */
	int pvm_live;		/* process_vm_*v calls (they pin) under way */
	bool chmod_used;
	pthread_mutex_t kids_lk;
	pid_t kids[NKIDS];
};

struct thr {
	struct proc *p;
	int tid;
	uint64_t rng;
	uint64_t opno;
	int op;
	char desc[320];
	struct nl_sock *nl;
	int family;
	char *edge;		/* a read-write page followed by PROT_NONE */
	char *ro;		/* a page this thread makes read-only */
	char *buf;		/* MAXPAGES + 1 pages of scratch */
	sigjmp_buf *probe;
	bool child;
	int child_bad;
	/* the DIRTY_GET words request in flight, its reply checked */
	struct {
		bool on;
		int replies;
		uint64_t first, npages;
	} nlw;
};

static struct shared *sh;
static uint64_t g_seed;
static bool g_single;
static int g_nprocs = 3, g_nthreads = 3;
static uint64_t g_ops;
static double g_deadline;
static __thread struct thr *cur;

/* ---- small helpers ---------------------------------------------------- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd(struct thr *t, uint64_t n)
{
	return n ? splitmix(&t->rng) % n : 0;
}

static bool coin(struct thr *t, unsigned int pct)
{
	return rnd(t, 100) < pct;
}

/* Async-signal-safe enough for a forked child of a threaded process. */
static void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 1)
		n = sizeof(line) - 1;
	if (write(2, line, n) < 0)
		_exit(98);
}

#define D(t, ...) snprintf((t)->desc, sizeof((t)->desc), __VA_ARGS__)

static void where(struct thr *t, char *out, size_t len)
{
	snprintf(out, len, "seed %" PRIu64 " proc %d thread %d%s op #%" PRIu64,
		 g_seed, t->p->idx, t->tid, t->child ? " (child)" : "",
		 t->opno);
}

static void mask_str(mask_t m, char *out, size_t len)
{
	size_t o = 0;
	int e;

	out[0] = 0;
	for (e = 0; e < NERR && o < len - 16; e++)
		if (m & A(e))
			o += snprintf(out + o, len - o, "%s%s", o ? "," : "",
				      e ? strerrorname_np(e) : "ok");
}

static void unexpected(struct thr *t, const char *fmt, ...)
{
	char w[128], msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	where(t, w, sizeof(w));
	say("UNEXPECTED %s: %s: %s [%s]\n", op_names[t->op], msg, t->desc, w);
	__atomic_fetch_add(&sh->unexpected, 1, __ATOMIC_RELAXED);
	if (t->child)
		t->child_bad = 1;
}

/*
 * Records and checks one result: @ret < 0 means failure with @err. The
 * allowed outcomes are @m (bit 0 success, bit e errno e).
 */
static bool expect(struct thr *t, long ret, int err, mask_t m)
{
	int slot = ret >= 0 ? 0 : (err > 0 && err < NERR ? err : NERR - 1);
	char want[256];

	__atomic_fetch_add(&sh->counts[t->op][slot], 1, __ATOMIC_RELAXED);
	if (ret >= 0 ? (m & OK) : (m & A(slot)))
		return true;
	mask_str(m, want, sizeof(want));
	unexpected(t, "got %s, allowed %s",
		   ret >= 0 ? "ok" : strerrorname_np(err), want);
	return false;
}

#define SYS(t, call, m)	({ long _r = (long)(call); int _e = errno;	\
			   expect((t), _r, _e, (m)); errno = _e; _r; })

static void sig_handler(int sig, siginfo_t *si, void *uc)
{
	struct thr *t = cur;
	char w[128];

	(void)uc;
	if (t && t->probe)
		siglongjmp(*t->probe, sig);
	if (t) {
		where(t, w, sizeof(w));
		say("UNEXPECTED signal %d (%s) at %p in %s: %s [%s]\n", sig,
		    sig == SIGBUS ? "SIGBUS" : "SIGSEGV", si->si_addr,
		    op_names[t->op], t->desc, w);
	} else {
		say("UNEXPECTED signal %d at %p\n", sig, si->si_addr);
	}
	_exit(99);
}

/* ---- slots -------------------------------------------------------------- */

/* A random fd slot in use, read-locked; NULL if the pick was busy or free. */
static struct fslot *fs_get(struct thr *t)
{
	struct fslot *s = &t->p->fs[rnd(t, NFS)];

	if (pthread_rwlock_tryrdlock(&s->lk))
		return NULL;
	if (s->fd < 0) {
		pthread_rwlock_unlock(&s->lk);
		return NULL;
	}
	return s;
}

static void fs_put(struct fslot *s)
{
	pthread_rwlock_unlock(&s->lk);
}

/* Puts a new fd in a free slot, or closes it if the table is full. */
static void fs_add(struct thr *t, int fd, int kind, uint32_t id, uint64_t np)
{
	unsigned int i, start = rnd(t, NFS);

	for (i = 0; i < NFS; i++) {
		struct fslot *s = &t->p->fs[(start + i) % NFS];

		if (pthread_rwlock_trywrlock(&s->lk))
			continue;
		if (s->fd < 0) {
			s->fd = fd;
			s->kind = kind;
			s->id = id;
			s->npages = np;
			pthread_rwlock_unlock(&s->lk);
			return;
		}
		pthread_rwlock_unlock(&s->lk);
	}
	close(fd);
}

/*
 * A write through the transfer view marks nothing, so a page found zero
 * and then written that way keeps ZERO: the ZERO-means-zero check at the
 * end leaves such regions out. Called before the write.
 */
static void tx_write(int kind, uint32_t id)
{
	if (kind == K_TRANSFER)
		__atomic_fetch_or(&sh->txw[(id >> 3) & (sizeof(sh->txw) - 1)],
				  1 << (id & 7), __ATOMIC_RELAXED);
}

static bool tx_written(uint32_t id)
{
	return __atomic_load_n(&sh->txw[(id >> 3) & (sizeof(sh->txw) - 1)],
			       __ATOMIC_RELAXED) & (1 << (id & 7));
}

static struct mslot *ms_get(struct thr *t, bool excl)
{
	struct mslot *m = &t->p->ms[rnd(t, NMS)];

	if (excl ? pthread_rwlock_trywrlock(&m->lk) :
		   pthread_rwlock_tryrdlock(&m->lk))
		return NULL;
	if (!m->addr) {
		pthread_rwlock_unlock(&m->lk);
		return NULL;
	}
	return m;
}

static void ms_put(struct mslot *m)
{
	pthread_rwlock_unlock(&m->lk);
}

/* Pinned pages make a punch keep them and fail with EBUSY. */
static mask_t pins_possible(struct proc *p)
{
	return __atomic_load_n(&p->mr_live, __ATOMIC_RELAXED) ||
	       __atomic_load_n(&p->pvm_live, __ATOMIC_RELAXED) ? A(EBUSY) : 0;
}

static bool fs_writable(int kind)
{
	return kind == K_GUEST || kind == K_TRANSFER || kind == K_RW ||
	       kind == K_WO;
}

static bool fs_readable(int kind)
{
	return kind != K_WO && kind != K_PATH;
}

static bool fs_guestish(int kind)
{
	return kind == K_GUEST || kind == K_RO || kind == K_RW || kind == K_WO;
}

/* ---- arguments ------------------------------------------------------------ */

static void *bad_ptr(struct thr *t)
{
	static char *const bad[] = {
		NULL, (char *)1, (char *)0xffff888000000000ULL,
		(char *)-4096L, (char *)0x7ffffffff000ULL,
	};

	if (coin(t, 30))
		return t->edge + PG;	/* the PROT_NONE page */
	return bad[rnd(t, sizeof(bad) / sizeof(bad[0]))];
}

enum { AM_VALID, AM_SHORT, AM_LONG0, AM_LONGX, AM_BAD, AM_EDGE, AM_RO };

/*
 * Lays the struct @s (@sz bytes, starting with __u32 size) out as an
 * ioctl argument in one of the modes above and returns the pointer to
 * pass. *early gets the outcome the dispatcher decides before the command
 * runs (0 if none); *respond_fails is set when the command's write-back
 * must fail (read-only argument).
 */
static void *ioc_arg(struct thr *t, void *s, size_t sz, size_t min,
		     mask_t *early, bool *ro_arg)
{
	int mode = coin(t, 75) ? AM_VALID : (int)rnd(t, 7);
	uint32_t *size = s;
	char *p;

	*early = 0;
	*ro_arg = false;
	switch (mode) {
	case AM_SHORT:
		*size = rnd(t, min);
		*early = A(EINVAL);
		memcpy(t->buf, s, sz);
		return t->buf;
	case AM_LONG0:
	case AM_LONGX:
		*size = sz + 8 + rnd(t, 64);
		memset(t->buf, 0, *size);
		memcpy(t->buf, s, sz);
		if (mode == AM_LONGX) {
			t->buf[sz + rnd(t, *size - sz)] = 1 + rnd(t, 255);
			*early = A(E2BIG);
		}
		return t->buf;
	case AM_BAD:
		*early = A(EFAULT);
		return bad_ptr(t);
	case AM_EDGE:
		/* size readable, the rest in the PROT_NONE page */
		p = t->edge + PG - 4;
		*size = sz;
		memcpy(p, s, 4);
		*early = A(EFAULT);
		return p;
	case AM_RO:
		mprotect(t->ro, PG, PROT_READ | PROT_WRITE);
		*size = sz;
		memcpy(t->ro, s, sz);
		mprotect(t->ro, PG, PROT_READ);
		*ro_arg = true;
		return t->ro;
	default:
		*size = sz;
		return s;
	}
}

/*
 * The outcome of a command whose own checks give @m, with an argument
 * laid out by ioc_arg(): early failures replace it; a read-only argument
 * turns success into EFAULT for commands that write back (@responds).
 */
static mask_t ioc_mask(mask_t m, mask_t early, bool ro_arg, bool responds)
{
	if (early)
		return early;
	if (ro_arg && responds && (m & OK))
		m = (m & ~OK) | A(EFAULT);
	return m;
}

/* A page range for region of @n pages: mostly valid, else broken. */
static bool gen_range(struct thr *t, uint64_t n, bool align,
		      uint64_t *first, uint64_t *np)
{
	uint64_t f;

	switch (rnd(t, 12)) {
	case 0:
		*first = rnd(t, n);
		*np = 0;
		return false;
	case 1:
		*first = n + rnd(t, 70);
		*np = 1 + rnd(t, 64);
		return false;
	case 2:
		*first = align ? 0 : rnd(t, n);
		*np = n - *first + 1 + rnd(t, 64);
		return false;
	case 3:
		*first = ~0ULL - rnd(t, 64);
		*np = 1 + rnd(t, 128);
		return false;
	case 4:
		*first = rnd(t, n);
		*np = ~0ULL - rnd(t, 3);
		return false;
	case 5:
		if (align) {	/* unaligned first page */
			*first = 1 + rnd(t, 63);
			*np = 64;
			return false;
		}
		/* fallthrough */
	default:
		if (align) {
			f = 64 * rnd(t, (n + 63) / 64);
			*first = f;
			if (coin(t, 50) || n - f < 64)
				*np = n - f;
			else
				*np = 64 * (1 + rnd(t, (n - f) / 64));
			return true;
		}
		*first = rnd(t, n);
		*np = 1 + rnd(t, n - *first);
		return true;
	}
}

/* ---- /dev/rdmig ------------------------------------------------------------- */

static const uint64_t sizes[] = { 1, 2, 3, 63, 64, 65, 127, 128, 200, 256 };

static void op_dev_version(struct thr *t)
{
	struct rdmig_version v = { 0 };
	bool ro;
	mask_t early;
	void *arg = ioc_arg(t, &v, sizeof(v), sizeof(v), &early, &ro);
	long r;

	D(t, "GET_VERSION arg %p", arg);
	r = SYS(t, ioctl(t->p->dev, RDMIG_GET_VERSION, arg),
		ioc_mask(OK, early, ro, true));
	if (!r && arg == &v && v.api_version != RDMIG_API_VERSION)
		unexpected(t, "api_version %u", v.api_version);
}

static void region_share_id(struct thr *t, uint32_t id)
{
	__atomic_store_n(&sh->ids[rnd(t, NIDS)], id, __ATOMIC_RELAXED);
}

static void op_dev_create(struct thr *t)
{
	struct rdmig_create_region c = { 0 };
	mask_t m = 0, early;
	bool ro, valid = true, huge = false;
	void *arg;
	int fd;

	switch (rnd(t, 16)) {
	case 0:
		c.length = 0;
		valid = false;
		break;
	case 1:
		c.length = PG * sizes[rnd(t, 10)] + 1 + rnd(t, PG - 1);
		valid = false;
		break;
	case 2:
		c.length = RDMIG_REGION_MAX_BYTES + PG * (1 + rnd(t, 4));
		valid = false;
		break;
	case 3:
		c.length = ~0ULL - rnd(t, 2) * PG;
		valid = false;
		break;
	case 4:
		/* valid, but large: bookkeeping of 64 GiB or 1 TiB */
		c.length = coin(t, 97) ? 1ULL << 36 : RDMIG_REGION_MAX_BYTES;
		huge = true;
		break;
	default:
		c.length = PG * sizes[rnd(t, 10)];
		break;
	}
	c.flags = coin(t, 50) ? RDMIG_REGION_F_TRACK : 0;
	if (coin(t, 8)) {
		c.flags |= 1U << (1 + rnd(t, 31));
		valid = false;
	}
	snprintf(c.name, sizeof(c.name), "r%d.%d.%" PRIu64, t->p->idx, t->tid,
		 t->opno);
	if (coin(t, 5)) {
		memset(c.name, 'x', sizeof(c.name));	/* no NUL */
		valid = false;
	}
	if (coin(t, 5)) {
		c.out_fd = 1 + rnd(t, 100);
		valid = false;
	}
	if (coin(t, 3)) {
		c.out_region_id = 7;
		valid = false;
	}
	if (!valid)
		m = A(EINVAL);
	else if (huge)
		m = t->p->priv ? (OK | A(ENOMEM)) : A(ENOMEM);
	else
		m = OK;
	arg = ioc_arg(t, &c, sizeof(c), sizeof(c), &early, &ro);
	D(t, "CREATE_REGION len %#llx flags %#x arg %p", c.length, c.flags,
	  arg);
	fd = SYS(t, ioctl(t->p->dev, RDMIG_CREATE_REGION, arg),
		 ioc_mask(m, early, ro, true));
	if (fd < 0)
		return;
	if (arg == &c && c.out_fd != fd)
		unexpected(t, "out_fd %d but returned %d", c.out_fd, fd);
	if (huge) {
		close(fd);
		return;
	}
	if (arg != &c)
		c.out_region_id = ((struct rdmig_create_region *)arg)->out_region_id;
	region_share_id(t, c.out_region_id);
	fs_add(t, fd, K_GUEST, c.out_region_id, c.length / PG);
}

/* Numbers this module must not know: version 1's, random, neighbours. */
static unsigned long bad_cmd(struct thr *t, bool dev)
{
	switch (rnd(t, 6)) {
	case 0:
		return _IOWR(0xB6, rnd(t, 0x20), struct rdmig_create_region);
	case 1:
		return _IOWR(RDMIG_IOC_MAGIC, rnd(t, 0x20),
			     struct rdmig_region_info);
	case 2:
		return _IO(RDMIG_IOC_MAGIC, 0x1a + rnd(t, 0xe5));
	case 3:
		return dev ? _IO(RDMIG_IOC_MAGIC, 0x10 + rnd(t, 9)) :
			     _IO(RDMIG_IOC_MAGIC, rnd(t, 2));
	case 4:
		return TCGETS;
	default:
		return (unsigned long)splitmix(&t->rng) & 0xffffffff;
	}
}

/* Numbers the VFS answers itself for any file (do_vfs_ioctl()). */
static bool vfs_cmd(unsigned long cmd)
{
	unsigned int type = _IOC_TYPE(cmd);

	return cmd == FIOCLEX || cmd == FIONCLEX || cmd == FIONBIO ||
	       cmd == FIOASYNC || cmd == FIOQSIZE || cmd == FIONREAD ||
	       type == 0 || type == 'X' || type == 'f' || type == 0x94;
}

static void op_dev_badioctl(struct thr *t)
{
	unsigned long cmd = bad_cmd(t, true);

	if (cmd == RDMIG_GET_VERSION || cmd == RDMIG_CREATE_REGION ||
	    vfs_cmd(cmd))
		return;
	D(t, "ioctl(/dev/rdmig, %#lx)", cmd);
	SYS(t, ioctl(t->p->dev, cmd, t->buf), A(ENOTTY));
}

/* ---- region ioctls ---------------------------------------------------------- */

/*
 * An fd for a region ioctl: usually a slot's (read-locked in *sp), at
 * times a wrong one, with the outcome the wrong fd forces in *force.
 */
static int region_fd(struct thr *t, struct fslot **sp, mask_t *force)
{
	struct proc *p = t->p;

	*sp = NULL;
	*force = 0;
	if (coin(t, 92)) {
		*sp = fs_get(t);
		if (!*sp)
			return -2;
		if ((*sp)->kind == K_PATH)
			*force = A(EBADF);
		return (*sp)->fd;
	}
	switch (rnd(t, 7)) {
	case 0:
		*force = A(ENOTTY);
		return p->dev;
	case 1:
		*force = A(ENOTTY);
		return p->pipefd[0];
	case 2:
		*force = A(ENOTTY);
		return p->udp;
	case 3:
		*force = A(ENOTTY);
		return p->nlroute;
	case 4:
		*force = A(ENOTTY);
		return p->devnull;
	case 5:
		*force = A(EBADF);
		return DEADFD + rnd(t, 10);
	default:
		*force = A(EBADF);
		return -1 - rnd(t, 3);
	}
}

#define REGION_OP_BEGIN(t, s, fd, force)				\
	struct fslot *s;						\
	mask_t force;							\
	int fd = region_fd(t, &s, &force);				\
	uint64_t N = s ? s->npages : 64;				\
	int kind = s ? s->kind : K_FREE;				\
	if (fd == -2)							\
		return;							\
	(void)N;							\
	(void)kind

#define REGION_OP_END(s) do { if (s) fs_put(s); } while (0)

static void op_info(struct thr *t)
{
	REGION_OP_BEGIN(t, s, fd, force);
	struct rdmig_region_info in = { 0 };
	mask_t early;
	bool ro;
	void *arg = ioc_arg(t, &in, sizeof(in), sizeof(in), &early, &ro);
	long r;

	D(t, "REGION_INFO fd %d (%s) arg %p", fd, kind_names[kind], arg);
	r = SYS(t, ioctl(fd, RDMIG_REGION_INFO, arg),
		force ?: ioc_mask(OK, early, ro, true));
	if (!r && s && arg == &in) {
		if (in.region_id != s->id || in.length != N * PG)
			unexpected(t, "info id %u length %llu, slot id %u pages %llu",
				   in.region_id, in.length, s->id,
				   (unsigned long long)N);
		if (in.present_pages > N || in.written_pages > N ||
		    in.dirty_pages > N || in.pinned_pages > in.present_pages ||
		    in.reserved || in.dirty_watermark > N ||
		    (in.flags & ~(RDMIG_INFO_F_TRACKING | RDMIG_INFO_F_BOUND)))
			unexpected(t, "info out of range: present %llu written %llu dirty %llu pinned %llu wm %llu flags %#x of %llu pages",
				   in.present_pages, in.written_pages,
				   in.dirty_pages, in.pinned_pages,
				   in.dirty_watermark, in.flags,
				   (unsigned long long)N);
	}
	REGION_OP_END(s);
}

static void op_set(struct thr *t)
{
	REGION_OP_BEGIN(t, s, fd, force);
	struct rdmig_region_set set = { 0 };
	mask_t m = 0, early;
	bool ro, valid = true;
	void *arg;

	set.flags = rnd(t, 4);
	if (coin(t, 5)) {
		set.flags |= 1U << (2 + rnd(t, 30));
		valid = false;
	}
	set.tracking = coin(t, 90) ? rnd(t, 2) : 2 + rnd(t, 1000);
	if ((set.flags & RDMIG_SET_TRACKING) && set.tracking > 1)
		valid = false;
	set.dirty_watermark = coin(t, 85) ? rnd(t, N + 1) :
					    N + 1 + rnd(t, 1000);
	if ((set.flags & RDMIG_SET_WATERMARK) && set.dirty_watermark > N)
		valid = false;
	if (coin(t, 4)) {
		set.reserved = 1;
		valid = false;
	}
	m = valid ? OK : A(EINVAL);
	if (!fs_writable(kind))
		m = A(EBADF);
	arg = ioc_arg(t, &set, sizeof(set), sizeof(set), &early, &ro);
	D(t, "REGION_SET fd %d (%s) flags %#x tracking %u wm %llu",
	  fd, kind_names[kind], set.flags, set.tracking, set.dirty_watermark);
	SYS(t, ioctl(fd, RDMIG_REGION_SET, arg),
	    force ?: ioc_mask(m, early, ro, false));
	REGION_OP_END(s);
}

/* A user buffer of @len bytes: mostly good, sometimes bad or a mapping. */
static void *user_buf(struct thr *t, size_t len, mask_t *m, bool *partial,
		      struct mslot **msp, bool kernel_writes)
{
	struct mslot *ms;

	*msp = NULL;
	*partial = false;
	if (len <= (MAXPAGES + 1) * PG && coin(t, 80))
		return t->buf;
	if (coin(t, 40)) {
		*m = A(EFAULT);
		return bad_ptr(t);
	}
	if (coin(t, 30) && len > 8) {
		/* starts readable, runs into the PROT_NONE page */
		*partial = true;
		*m = OK | A(EFAULT);
		return t->edge + PG - 8;
	}
	ms = ms_get(t, false);
	if (!ms || ms->len < len) {
		if (ms)
			ms_put(ms);
		return t->buf;
	}
	*msp = ms;
	if (kernel_writes)
		tx_write(ms->kind, ms->id);
	/* Into a region's own mapping: fine if the mapping allows it. */
	if (!(ms->prot & (kernel_writes ? PROT_WRITE : PROT_READ)))
		*m = A(EFAULT);
	return ms->addr;
}

static void op_get_dirty(struct thr *t)
{
	REGION_OP_BEGIN(t, s, fd, force);
	struct rdmig_dirty_bitmap d = { 0 };
	uint64_t first, np;
	mask_t m = 0, early, bm = 0;
	bool ro, valid, partial;
	struct mslot *ms = NULL;
	void *arg;

	valid = gen_range(t, N, true, &first, &np);
	d.first_page = first;
	d.npages = np;
	d.flags = coin(t, 60) ? RDMIG_DIRTY_F_CLEAR : 0;
	if (coin(t, 5)) {
		d.flags |= 2U << rnd(t, 31);
		valid = false;
	}
	if (np && np < (1ULL << 32))
		d.bitmap = (uintptr_t)user_buf(t, (np + 63) / 64 * 8, &bm,
					       &partial, &ms, true);
	else
		d.bitmap = (uintptr_t)t->buf;
	m = valid ? OK : A(EINVAL);
	if (bm)		/* the bitmap is probed before the alignment check */
		m = (m & ~OK) | bm;
	if (d.flags & RDMIG_DIRTY_F_CLEAR)
		m |= A(EINVAL);		/* tracking may be off */
	if ((d.flags & RDMIG_DIRTY_F_CLEAR) && !fs_writable(kind))
		m = A(EBADF) | (d.flags & ~RDMIG_DIRTY_F_ALL ? A(EINVAL) : 0);
	arg = ioc_arg(t, &d, sizeof(d), sizeof(d), &early, &ro);
	D(t, "GET_DIRTY fd %d (%s) first %llu npages %llu flags %#x bitmap %#llx of %llu pages",
	  fd, kind_names[kind], d.first_page, d.npages, d.flags, d.bitmap,
	  (unsigned long long)N);
	SYS(t, ioctl(fd, RDMIG_GET_DIRTY, arg),
	    force ?: ioc_mask(m, early, ro, true));
	if (ms)
		ms_put(ms);
	REGION_OP_END(s);
}

/*
 * What a successful RDMIG_GET_DIRTY_WORDS must have answered: at most
 * @max words, each non-zero, in increasing order, inside the range, their
 * bits adding up to out_dirty; out_next_page the range's end, or (the room
 * was full) a word boundary inside it.
 */
static void check_dirty_words(struct thr *t, const struct rdmig_dirty_words *d,
			      const struct rdmig_dirty_word *w, uint64_t max)
{
	uint64_t end = d->first_page + d->npages, lim, bits = 0, i;
	uint64_t nw = (d->npages + 63) / 64;

	if (d->out_nwords > max ||
	    d->out_next_page <= d->first_page || d->out_next_page > end ||
	    (d->out_next_page != end &&
	     (d->out_next_page % 64 || d->out_nwords != max))) {
		unexpected(t, "words: %u words (room %llu), next page %llu of [%llu, %llu)",
			   d->out_nwords, (unsigned long long)max,
			   d->out_next_page, d->first_page,
			   (unsigned long long)end);
		return;
	}
	lim = (d->out_next_page - d->first_page + 63) / 64;
	for (i = 0; i < d->out_nwords; i++) {
		/* the last word of a range that ends the region is short */
		uint64_t valid = w[i].index == nw - 1 && d->npages % 64 ?
				 (1ULL << (d->npages % 64)) - 1 : ~0ULL;

		if (!w[i].bits || w[i].index >= lim ||
		    (i && w[i].index <= w[i - 1].index) ||
		    (w[i].bits & ~valid)) {
			unexpected(t, "words: word %llu of %u: index %llu bits %#llx (range %llu words, next page %llu)",
				   (unsigned long long)i, d->out_nwords,
				   w[i].index, w[i].bits,
				   (unsigned long long)nw, d->out_next_page);
			return;
		}
		bits += __builtin_popcountll(w[i].bits);
	}
	if (bits != d->out_dirty)
		unexpected(t, "words: %llu bits set in the words, out_dirty %llu",
			   (unsigned long long)bits, d->out_dirty);
}

/*
 * RDMIG_GET_DIRTY_WORDS: the flags and max_words are checked first
 * (EINVAL; RDMIG_DIRTY_F_WORDS is netlink's and refused here), then
 * CLEAR on a read-only fd (EBADF), then the range (EINVAL, as for
 * GET_DIRTY) and tracking for CLEAR (EINVAL). The words are copied out
 * only if there are any, so a bad buffer may still succeed.
 */
static void op_get_dirty_words(struct thr *t)
{
	REGION_OP_BEGIN(t, s, fd, force);
	struct rdmig_dirty_words d = { 0 };
	uint64_t first, np, max;
	mask_t m, early, bm = 0;
	bool ro, valid, partial = false, flags_ok = true;
	struct mslot *ms = NULL;
	void *arg, *wbuf;
	long r;

	valid = gen_range(t, N, true, &first, &np);
	d.first_page = first;
	d.npages = np;
	d.flags = coin(t, 60) ? RDMIG_DIRTY_F_CLEAR : 0;
	if (coin(t, 6)) {
		d.flags |= 2U << rnd(t, 31);	/* WORDS among them */
		flags_ok = false;
	}
	switch (rnd(t, 8)) {
	case 0:
		d.max_words = 0;
		flags_ok = false;
		break;
	case 1:		/* less room than words: stops at a word boundary */
		d.max_words = 1 + rnd(t, 2);
		break;
	case 2:		/* more than the module uses in one call */
		d.max_words = RDMIG_DIRTY_WORDS_MAX + 1 + rnd(t, 1U << 30);
		break;
	default:
		d.max_words = (N + 63) / 64 + rnd(t, 4);
	}
	max = d.max_words < RDMIG_DIRTY_WORDS_MAX ? d.max_words :
						     RDMIG_DIRTY_WORDS_MAX;
	/* a region has at most MAXPAGES pages: 4 words fit anywhere */
	wbuf = user_buf(t, 8 * sizeof(struct rdmig_dirty_word), &bm, &partial,
			&ms, true);
	d.words = (uintptr_t)wbuf;
	if (!flags_ok)
		m = A(EINVAL);
	else if ((d.flags & RDMIG_DIRTY_F_CLEAR) && !fs_writable(kind))
		m = A(EBADF);
	else if (!valid)
		m = A(EINVAL);
	else
		m = (bm ? bm | OK : OK) |
		    (d.flags & RDMIG_DIRTY_F_CLEAR ? A(EINVAL) : 0);
	arg = ioc_arg(t, &d, sizeof(d), sizeof(d), &early, &ro);
	D(t, "GET_DIRTY_WORDS fd %d (%s) first %llu npages %llu flags %#x words %#llx max %u of %llu pages",
	  fd, kind_names[kind], d.first_page, d.npages, d.flags, d.words,
	  d.max_words, (unsigned long long)N);
	r = SYS(t, ioctl(fd, RDMIG_GET_DIRTY_WORDS, arg),
		force ?: ioc_mask(m, early, ro, true));
	if (!r && !force && arg == &d && wbuf == t->buf)
		check_dirty_words(t, &d, wbuf, max);
	if (ms)
		ms_put(ms);
	REGION_OP_END(s);
}

static void op_zero_scan(struct thr *t)
{
	REGION_OP_BEGIN(t, s, fd, force);
	struct rdmig_zero_scan z = { 0 };
	uint64_t first, np;
	mask_t early;
	bool ro, valid;
	void *arg;
	long r;

	valid = gen_range(t, N, false, &first, &np);
	z.first_page = first;
	z.npages = np;
	z.flags = coin(t, 50) ? RDMIG_ZERO_F_RECLAIM : 0;
	if (coin(t, 5)) {
		z.flags |= 2U << rnd(t, 31);
		valid = false;
	}
	arg = ioc_arg(t, &z, sizeof(z), sizeof(z), &early, &ro);
	D(t, "ZERO_SCAN fd %d (%s) first %llu npages %llu flags %#x",
	  fd, kind_names[kind], z.first_page, z.npages, z.flags);
	r = SYS(t, ioctl(fd, RDMIG_ZERO_SCAN, arg),
		force ?: ioc_mask(fs_writable(kind) ? (valid ? OK : A(EINVAL)) :
				  A(EBADF), early, ro, true));
	if (!r && arg == &z &&
	    (z.out_zero_pages > np || z.out_reclaimed_pages > z.out_zero_pages))
		unexpected(t, "zero %llu reclaimed %llu of %llu",
			   z.out_zero_pages, z.out_reclaimed_pages,
			   (unsigned long long)np);
	REGION_OP_END(s);
}

static void op_transfer_fd(struct thr *t)
{
	REGION_OP_BEGIN(t, s, fd, force);
	struct rdmig_transfer tr = { 0 };
	mask_t m, early;
	bool ro;
	void *arg;
	int nfd;

	if (coin(t, 8))
		tr.flags = 1U << rnd(t, 32);
	/*
	 * The transfer fd is O_RDWR: the guest view must be open for both,
	 * or a write-only holder could read guest memory through it.
	 */
	if (!fs_guestish(kind))
		m = A(ENOTTY);
	else if (!fs_writable(kind) || !fs_readable(kind))
		m = A(EBADF);
	else
		m = tr.flags ? A(EINVAL) : OK;
	arg = ioc_arg(t, &tr, sizeof(tr), sizeof(tr), &early, &ro);
	D(t, "TRANSFER_FD fd %d (%s) flags %#x", fd, kind_names[kind],
	  tr.flags);
	nfd = SYS(t, ioctl(fd, RDMIG_TRANSFER_FD, arg),
		  force ?: ioc_mask(m, early, ro, false));
	if (nfd >= 0 && s)
		fs_add(t, nfd, K_TRANSFER, s->id, N);
	else if (nfd >= 0)
		close(nfd);
	REGION_OP_END(s);
}

static int nl_sock(struct thr *t);

static void op_bind(struct thr *t)
{
	REGION_OP_BEGIN(t, s, fd, force);
	struct rdmig_bind b = { 0 };
	struct proc *p = t->p;
	mask_t m = OK, early;
	bool ro;
	void *arg;

	switch (rnd(t, 9)) {
	case 0:
	case 1:
	case 2:
		b.sock_fd = nl_sock(t);
		if (b.sock_fd < 0) {
			REGION_OP_END(s);
			return;
		}
		break;
	case 3:
		b.sock_fd = -1;
		break;
	case 4:
		b.sock_fd = coin(t, 50) ? DEADFD + (int)rnd(t, 10) : -2;
		m = A(EBADF);
		break;
	case 5:
		b.sock_fd = p->pipefd[1];
		m = A(ENOTSOCK);
		break;
	case 6:
		b.sock_fd = p->udp;
		m = A(EINVAL);
		break;
	case 7:
		b.sock_fd = p->nlroute;
		m = A(EINVAL);
		break;
	default:
		b.sock_fd = p->nl_unbound;
		m = A(EINVAL);
		break;
	}
	if (coin(t, 5)) {
		b.flags = 1;
		m = A(EINVAL);
	}
	if (coin(t, 5)) {
		b.reserved = 1;
		m = A(EINVAL);
	}
	if (kind != K_TRANSFER)
		m = A(ENOTTY);
	arg = ioc_arg(t, &b, sizeof(b), sizeof(b), &early, &ro);
	D(t, "BIND_NETLINK fd %d (%s) sock %d flags %#x", fd,
	  kind_names[kind], b.sock_fd, b.flags);
	SYS(t, ioctl(fd, RDMIG_BIND_NETLINK, arg),
	    force ?: ioc_mask(m, early, ro, false));
	REGION_OP_END(s);
}

static void op_mark(struct thr *t, bool dirty)
{
	REGION_OP_BEGIN(t, s, fd, force);
	struct rdmig_mark_dirty md = { 0 };
	struct rdmig_mark_written mw = { 0 };
	uint64_t first, np;
	mask_t m, early;
	bool ro, valid;
	void *arg;

	valid = gen_range(t, N, false, &first, &np);
	md.first_page = mw.first_page = first;
	md.npages = mw.npages = np;
	if (coin(t, 6)) {
		md.flags = mw.flags = 1U << rnd(t, 32);
		valid = false;
	}
	if (dirty && coin(t, 5)) {
		md.reserved = 1 + rnd(t, 100);
		valid = false;
	}
	m = valid ? OK : A(EINVAL);
	if (!fs_writable(kind))
		m = A(EBADF);
	if (dirty && !fs_guestish(kind))
		m = A(ENOTTY);
	if (dirty)
		arg = ioc_arg(t, &md, sizeof(md), sizeof(md), &early, &ro);
	else
		arg = ioc_arg(t, &mw, sizeof(mw), sizeof(mw), &early, &ro);
	D(t, "MARK_%s fd %d (%s) first %llu npages %llu of %llu",
	  dirty ? "DIRTY" : "WRITTEN", fd, kind_names[kind],
	  (unsigned long long)first, (unsigned long long)np,
	  (unsigned long long)N);
	SYS(t, ioctl(fd, dirty ? RDMIG_MARK_DIRTY : RDMIG_MARK_WRITTEN, arg),
	    force ?: ioc_mask(m, early, ro, false));
	REGION_OP_END(s);
}

static void op_mark_written(struct thr *t)
{
	op_mark(t, false);
}

static void op_mark_dirty(struct thr *t)
{
	op_mark(t, true);
}

static void op_pagemap(struct thr *t)
{
	REGION_OP_BEGIN(t, s, fd, force);
	struct rdmig_pagemap pm = { 0 };
	uint64_t first, np, i, *e;
	mask_t m, early, bm = 0;
	bool ro, valid, partial = false;
	struct mslot *ms = NULL;
	void *arg;
	long r;

	valid = gen_range(t, N, false, &first, &np);
	pm.first_page = first;
	pm.npages = np;
	if (coin(t, 4)) {
		pm.flags = 1;
		valid = false;
	}
	if (coin(t, 4)) {
		pm.reserved = 1;
		valid = false;
	}
	if (np && np <= MAXPAGES + 64)
		pm.entries = (uintptr_t)user_buf(t, np * 8, &bm, &partial, &ms,
						 true);
	else
		pm.entries = (uintptr_t)t->buf;
	m = valid ? (bm ?: OK) : A(EINVAL);
	if (partial)
		m = valid ? A(EFAULT) : A(EINVAL);
	arg = ioc_arg(t, &pm, sizeof(pm), sizeof(pm), &early, &ro);
	D(t, "PAGEMAP fd %d (%s) first %llu npages %llu entries %#llx",
	  fd, kind_names[kind], (unsigned long long)first,
	  (unsigned long long)np, pm.entries);
	r = SYS(t, ioctl(fd, RDMIG_PAGEMAP, arg),
		force ?: ioc_mask(m, early, ro, false));
	if (!r && pm.entries == (uintptr_t)t->buf) {
		e = (uint64_t *)t->buf;
		for (i = 0; i < np; i++)
			if ((e[i] & ~0x1fULL) ||
			    ((e[i] & RDMIG_PM_PINNED) &&
			     !(e[i] & RDMIG_PM_PRESENT)))
				unexpected(t, "page %llu entry %#llx",
					   (unsigned long long)(first + i),
					   (unsigned long long)e[i]);
	}
	if (ms)
		ms_put(ms);
	REGION_OP_END(s);
}

static void op_reg_badioctl(struct thr *t)
{
	struct fslot *s = fs_get(t);
	unsigned long cmd;
	int i;

	if (!s)
		return;
	cmd = bad_cmd(t, false);
	for (i = RDMIG_IOC_REGION_INFO; i <= RDMIG_IOC_GET_DIRTY_WORDS; i++)
		if (cmd == _IO(RDMIG_IOC_MAGIC, i))
			goto out;
	if (vfs_cmd(cmd))
		goto out;
	D(t, "ioctl(region fd %d (%s), %#lx)", s->fd, kind_names[s->kind], cmd);
	SYS(t, ioctl(s->fd, cmd, t->buf),
	    s->kind == K_PATH ? A(EBADF) : A(ENOTTY));
out:
	fs_put(s);
}

/* Every region command on fds that are not region fds. */
static void op_wrong_fd(struct thr *t)
{
	static const unsigned long cmds[] = {
		RDMIG_REGION_INFO, RDMIG_REGION_SET, RDMIG_GET_DIRTY,
		RDMIG_ZERO_SCAN, RDMIG_TRANSFER_FD, RDMIG_BIND_NETLINK,
		RDMIG_MARK_WRITTEN, RDMIG_MARK_DIRTY, RDMIG_PAGEMAP,
		RDMIG_GET_DIRTY_WORDS,
	};
	unsigned long cmd = cmds[rnd(t, 10)];
	struct proc *p = t->p;
	int fds[] = { p->dev, p->pipefd[0], p->udp, p->nlroute, p->devnull,
		      DEADFD + (int)rnd(t, 10), -1 };
	int k = rnd(t, 7);

	memset(t->buf, 0, 64);
	*(uint32_t *)t->buf = 64;
	D(t, "region ioctl %#lx on non-region fd %d", cmd, fds[k]);
	SYS(t, ioctl(fds[k], cmd, t->buf), k >= 5 ? A(EBADF) : A(ENOTTY));
}

/* ---- mappings --------------------------------------------------------------- */

static void op_mmap(struct thr *t)
{
	static const int prots[] = {
		PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE, PROT_READ,
		PROT_NONE, PROT_WRITE, PROT_READ | PROT_EXEC,
	};
	struct fslot *s = fs_get(t);
	uint64_t pgoff, np;
	int prot, flags, kind;
	mask_t m = 0;
	bool valid = true;
	size_t len;
	char *a;
	unsigned int i;

	if (!s)
		return;
	kind = s->kind;
	prot = prots[rnd(t, 6)];
	switch (rnd(t, 10)) {
	case 0:
		flags = MAP_PRIVATE;
		m |= A(EINVAL);
		break;
	case 1:
		flags = MAP_SHARED_VALIDATE | MAP_SYNC;
		m |= A(EOPNOTSUPP);
		break;
	case 2:
		flags = MAP_SHARED_VALIDATE;
		break;
	default:
		flags = MAP_SHARED;
		break;
	}
	switch (rnd(t, 10)) {
	case 0:
		pgoff = s->npages + rnd(t, 4);
		np = 1;
		valid = false;
		break;
	case 1:
		pgoff = rnd(t, s->npages);
		np = s->npages - pgoff + 1 + rnd(t, 4);
		valid = false;
		break;
	case 2:
		pgoff = 0;
		np = 0;
		m |= A(EINVAL);
		break;
	default:
		pgoff = rnd(t, s->npages);
		np = 1 + rnd(t, s->npages - pgoff);
		break;
	}
	len = np * PG;
	/* Any of the reasons that apply; success only if none does. */
	if (!valid)
		m |= A(EINVAL);
	if (kind == K_WO || ((prot & PROT_WRITE) && !fs_writable(kind) &&
			     flags != MAP_PRIVATE))
		m |= A(EACCES);
	if (prot & PROT_EXEC)
		m |= A(EPERM);
	if (!m)
		m = OK;
	if (kind == K_PATH)
		m = A(EBADF);
	if (coin(t, 3)) {
		D(t, "mmap unaligned offset fd %d", s->fd);
		SYS(t, mmap(NULL, PG, PROT_READ, MAP_SHARED, s->fd, 1 + rnd(t, PG - 1)),
		    A(EINVAL));
		fs_put(s);
		return;
	}
	D(t, "mmap fd %d (%s) pgoff %llu pages %llu prot %#x flags %#x of %llu",
	  s->fd, kind_names[kind], (unsigned long long)pgoff,
	  (unsigned long long)np, prot, flags, (unsigned long long)s->npages);
	a = mmap(NULL, len, prot, flags, s->fd, pgoff * PG);
	if (!expect(t, a == MAP_FAILED ? -1 : 0, errno, m) || a == MAP_FAILED) {
		if (a != MAP_FAILED)
			munmap(a, len);
		fs_put(s);
		return;
	}
	for (i = 0; i < NMS; i++) {
		struct mslot *ms = &t->p->ms[(rnd(t, NMS) + i) % NMS];

		if (pthread_rwlock_trywrlock(&ms->lk))
			continue;
		if (!ms->addr) {
			ms->addr = a;
			ms->len = len;
			ms->pgoff = pgoff;
			ms->prot = prot;
			ms->kind = kind == K_TRANSFER ? K_TRANSFER : K_GUEST;
			ms->fwrite = fs_writable(kind);
			ms->id = s->id;
			ms->npages = s->npages;
			ms->locked = false;
			pthread_rwlock_unlock(&ms->lk);
			a = NULL;
			break;
		}
		pthread_rwlock_unlock(&ms->lk);
	}
	if (a)
		munmap(a, len);
	fs_put(s);
}

static void op_munmap(struct thr *t)
{
	struct mslot *m = ms_get(t, true);
	size_t np, k;

	if (!m)
		return;
	np = m->len / PG;
	k = rnd(t, np);
	if (coin(t, 5)) {
		D(t, "munmap unaligned %p", m->addr + 1);
		SYS(t, munmap(m->addr + 1, PG), A(EINVAL));
	} else if (k && coin(t, 40)) {
		D(t, "munmap tail of %p: keep %zu of %zu pages", m->addr, k, np);
		SYS(t, munmap(m->addr + k * PG, (np - k) * PG), OK);
		m->len = k * PG;
	} else if (k && coin(t, 40)) {
		D(t, "munmap head of %p: drop %zu of %zu pages", m->addr, k, np);
		SYS(t, munmap(m->addr, k * PG), OK);
		m->addr += k * PG;
		m->pgoff += k;
		m->len -= k * PG;
	} else {
		D(t, "munmap %p %zu pages", m->addr, np);
		SYS(t, munmap(m->addr, m->len), OK);
		m->addr = NULL;
	}
	ms_put(m);
}

static void op_mremap(struct thr *t)
{
	struct mslot *m = ms_get(t, true);
	size_t np, k;
	char *a, *dst;

	if (!m)
		return;
	np = m->len / PG;
	switch (rnd(t, 5)) {
	case 0:
		k = 1 + rnd(t, np);
		D(t, "mremap shrink %p %zu -> %zu pages", m->addr, np, k);
		a = mremap(m->addr, m->len, k * PG, 0);
		if (expect(t, a == MAP_FAILED ? -1 : 0, errno, OK) &&
		    a != MAP_FAILED)
			m->len = k * PG;
		break;
	case 1:
		D(t, "mremap grow %p %zu pages (+%d)", m->addr, np, 1);
		a = mremap(m->addr, m->len, m->len + PG,
			   coin(t, 50) ? MREMAP_MAYMOVE : 0);
		expect(t, a == MAP_FAILED ? -1 : 0, errno, A(EFAULT) | A(ENOMEM));
		if (a != MAP_FAILED)
			unexpected(t, "grew a VM_DONTEXPAND mapping");
		break;
	case 2:
		dst = mmap(NULL, m->len, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (dst == MAP_FAILED)
			break;
		D(t, "mremap move %p -> %p %zu pages", m->addr, dst, np);
		a = mremap(m->addr, m->len, m->len,
			   MREMAP_MAYMOVE | MREMAP_FIXED, dst);
		if (expect(t, a == MAP_FAILED ? -1 : 0, errno, OK) &&
		    a != MAP_FAILED)
			m->addr = a;
		else
			munmap(dst, m->len);
		break;
	case 3:
		D(t, "mremap dontunmap %p", m->addr);
		a = mremap(m->addr, m->len, m->len,
			   MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
		expect(t, a == MAP_FAILED ? -1 : 0, errno, A(EINVAL));
		if (a != MAP_FAILED)
			munmap(a, m->len);
		break;
	default:
		D(t, "mremap duplicate %p (old_len 0)", m->addr);
		a = mremap(m->addr, 0, PG, MREMAP_MAYMOVE);
		expect(t, a == MAP_FAILED ? -1 : 0, errno,
		       A(EFAULT) | A(EINVAL) | OK);
		if (a != MAP_FAILED)
			munmap(a, PG);
		break;
	}
	ms_put(m);
}

static void op_mprotect(struct thr *t)
{
	static const int prots[] = {
		PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE,
		PROT_READ | PROT_EXEC, PROT_WRITE,
	};
	struct mslot *m = ms_get(t, true);
	int prot;
	mask_t mk;

	if (!m)
		return;
	prot = prots[rnd(t, 5)];
	if (prot & PROT_EXEC)
		mk = A(EACCES);
	else if ((prot & PROT_WRITE) && !m->fwrite)
		mk = A(EACCES);
	else
		mk = OK;
	D(t, "mprotect %p %zu pages %#x -> %#x", m->addr, m->len / PG,
	  m->prot, prot);
	if (!SYS(t, mprotect(m->addr, m->len, prot), mk))
		m->prot = prot;
	ms_put(m);
}

/* A load or store that must fault (SIGSEGV) or must not. */
static void probe(struct thr *t, volatile char *a, bool store, bool allowed)
{
	sigjmp_buf env;
	int sig;

	t->probe = &env;
	sig = sigsetjmp(env, 1);
	if (!sig) {
		if (store)
			*a = (char)(t->opno | 1);
		else
			(void)*a;
	}
	t->probe = NULL;
	expect(t, sig ? -1 : 0, sig == SIGSEGV ? EFAULT : EIO,
	       allowed ? OK : A(EFAULT));
}

static void op_access(struct thr *t)
{
	struct mslot *m = ms_get(t, false);
	size_t np, pg, n, i;
	bool store;

	if (!m)
		return;
	np = m->len / PG;
	pg = rnd(t, np);
	store = coin(t, 60);
	/* x86 has no write-only pages: PROT_WRITE alone reads too */
	if (!(m->prot & (store ? PROT_WRITE : PROT_READ | PROT_WRITE))) {
		D(t, "%s %p page %zu prot %#x (must fault)",
		  store ? "store" : "load", m->addr, pg, m->prot);
		probe(t, m->addr + pg * PG + rnd(t, PG), store, false);
		ms_put(m);
		return;
	}
	n = 1 + rnd(t, np - pg < 8 ? np - pg : 8);
	if (store)
		tx_write(m->kind, m->id);
	D(t, "%s %p (%s id %u pgoff %llu) pages %zu..%zu", store ? "store" : "load",
	  m->addr, kind_names[m->kind], m->id, (unsigned long long)m->pgoff,
	  pg, pg + n - 1);
	for (i = 0; i < n; i++) {
		volatile char *a = m->addr + (pg + i) * PG;

		if (store) {
			if (coin(t, 30))
				memset((char *)a, coin(t, 30) ? 0 : (int)i + 1,
				       PG);
			else
				a[rnd(t, PG)] = coin(t, 20) ? 0 : 0x5a;
		} else {
			(void)a[rnd(t, PG)];
		}
	}
	expect(t, 0, 0, OK);
	ms_put(m);
}

static void op_madvise(struct thr *t)
{
	struct mslot *m = ms_get(t, false);
	size_t np, pg, n;
	int adv;
	mask_t mk = OK;
	bool w, r;

	if (!m)
		return;
	np = m->len / PG;
	pg = rnd(t, np);
	n = 1 + rnd(t, np - pg);
	w = m->prot & PROT_WRITE;
	r = m->prot & PROT_READ;
	switch (rnd(t, 9)) {
	case 0:
		adv = MADV_DONTNEED;
		if (m->locked)
			mk |= A(EINVAL);
		break;
	case 1:
	case 2:
		adv = MADV_REMOVE;
		/* 6.1 stable: shared and VM_MAYWRITE is enough */
		mk = w ? (OK | pins_possible(t->p)) :
		     m->fwrite ? (OK | A(EACCES) | pins_possible(t->p)) :
		     A(EACCES);
		if (m->locked)
			mk |= A(EINVAL);
		break;
	case 3:
		adv = MADV_WILLNEED;
		break;
	case 4:
		adv = MADV_COLD;
		if (m->locked)
			mk |= A(EINVAL);
		break;
	case 5:
		adv = MADV_PAGEOUT;
		if (m->locked)
			mk |= A(EINVAL);
		break;
	case 6:
		adv = MADV_POPULATE_WRITE;
		mk = w ? OK : A(EINVAL);
		break;
	case 7:
		adv = MADV_POPULATE_READ;
		mk = r ? OK : w ? (OK | A(EINVAL)) : A(EINVAL);
		break;
	default:
		adv = MADV_WIPEONFORK;
		mk = A(EINVAL);
		break;
	}
	D(t, "madvise %p pages %zu..%zu advice %d prot %#x (%s)", m->addr, pg,
	  pg + n - 1, adv, m->prot, kind_names[m->kind]);
	SYS(t, madvise(m->addr + pg * PG, n * PG, adv), mk);
	ms_put(m);
}

/* mlock()ed region pages: populated, VM_LOCKED (no DONTNEED, no REMOVE). */
static void op_mlock(struct thr *t)
{
	struct mslot *m = ms_get(t, true);
	size_t np, pg, n;
	bool lock = coin(t, 60);

	if (!m)
		return;
	np = m->len / PG;
	pg = rnd(t, np);
	n = 1 + rnd(t, np - pg);
	D(t, "%s %p pages %zu..%zu prot %#x (%s)", lock ? "mlock" : "munlock",
	  m->addr, pg, pg + n - 1, m->prot, kind_names[m->kind]);
	/* PROT_NONE cannot be populated: ENOMEM, the range stays locked */
	if (lock) {
		m->locked = true;
		SYS(t, mlock(m->addr + pg * PG, n * PG),
		    m->prot ? OK : (OK | A(ENOMEM)));
	} else {
		SYS(t, munlock(m->addr + pg * PG, n * PG), OK);
	}
	ms_put(m);
}

/* get_user_pages writers and readers: /proc/self/mem, process_vm_*v. */
static void op_procmem(struct thr *t)
{
	struct mslot *m = ms_get(t, false);
	struct iovec local, remote;
	size_t pg, len;
	bool store = coin(t, 60);
	int fd;

	if (!m)
		return;
	pg = rnd(t, m->len / PG);
	len = 1 + rnd(t, PG);
	memset(t->buf, 0x33, len);
	if (store)
		tx_write(m->kind, m->id);
	if (coin(t, 50)) {
		fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			D(t, "/proc/self/mem %s %p+%zu len %zu prot %#x",
			  store ? "pwrite" : "pread", m->addr, pg * PG, len,
			  m->prot);
			if (store)
				SYS(t, pwrite(fd, t->buf, len,
					      (uintptr_t)m->addr + pg * PG),
				    (m->prot & PROT_WRITE) ? OK : A(EIO));
			else
				SYS(t, pread(fd, t->buf, len,
					     (uintptr_t)m->addr + pg * PG),
				    OK);
			close(fd);
		}
	} else {
		local.iov_base = t->buf;
		local.iov_len = len;
		remote.iov_base = m->addr + pg * PG;
		remote.iov_len = len;
		D(t, "process_vm_%sv %p+%zu len %zu prot %#x",
		  store ? "write" : "read", m->addr, pg * PG, len, m->prot);
		__atomic_fetch_add(&t->p->pvm_live, 1, __ATOMIC_RELAXED);
		if (store)
			SYS(t, process_vm_writev(getpid(), &local, 1, &remote, 1,
						 0),
			    (m->prot & PROT_WRITE) ? OK : A(EFAULT));
		else
			SYS(t, process_vm_readv(getpid(), &local, 1, &remote, 1,
						0),
			    (m->prot & PROT_READ) ? OK : A(EFAULT));
		__atomic_fetch_sub(&t->p->pvm_live, 1, __ATOMIC_RELAXED);
	}
	ms_put(m);
}

/* ---- file operations ----------------------------------------------------- */

static void op_read(struct thr *t)
{
	struct fslot *s = fs_get(t);
	struct mslot *ms = NULL;
	uint64_t L;
	int64_t off;
	size_t len;
	mask_t m = OK, bm = 0;
	bool partial = false, exact;
	struct iovec iov[2];
	long r;
	char *buf;

	if (!s)
		return;
	L = s->npages * PG;
	switch (rnd(t, 8)) {
	case 0:
		off = L;
		break;
	case 1:
		off = L + rnd(t, 1 << 20);
		break;
	case 2:
		off = -1 - (int64_t)rnd(t, 100);
		m = A(EINVAL);
		break;
	case 3:
		off = INT64_MAX - rnd(t, 10);	/* pos + len wraps: EINVAL */
		m = OK | A(EINVAL);
		break;
	default:
		off = rnd(t, L);
		break;
	}
	len = coin(t, 70) ? 1 + rnd(t, 3 * PG) : 1 + rnd(t, L);
	if (len > (MAXPAGES + 1) * PG)
		len = (MAXPAGES + 1) * PG;
	buf = user_buf(t, len, &bm, &partial, &ms, true);
	if (bm && m == OK && off < (int64_t)L)
		m = bm;
	else if (bm && m != A(EINVAL))
		m |= bm;
	if (!fs_readable(s->kind) && off >= 0)
		m = A(EBADF);
	exact = m == OK && !ms && buf == t->buf;
	if (coin(t, 15)) {
		iov[0].iov_base = buf;
		iov[0].iov_len = len / 2;
		iov[1].iov_base = buf + len / 2;
		iov[1].iov_len = len - len / 2;
		D(t, "preadv fd %d (%s) off %lld len %zu buf %p of %llu", s->fd,
		  kind_names[s->kind], (long long)off, len, buf,
		  (unsigned long long)L);
		/* the iovecs are checked before the file's mode */
		r = SYS(t, preadv(s->fd, iov, 2, off),
			m == A(EBADF) ? m | (bm & A(EFAULT)) : m);
	} else if (coin(t, 15) && m != A(EINVAL)) {
		D(t, "read fd %d (%s) len %zu buf %p", s->fd,
		  kind_names[s->kind], len, buf);
		/* at the file position, maybe at EOF: nothing copied */
		r = SYS(t, read(s->fd, buf, len),
			!fs_readable(s->kind) ? A(EBADF) : (m | OK) & ~A(EINVAL));
		exact = false;
	} else {
		D(t, "pread fd %d (%s) off %lld len %zu buf %p of %llu", s->fd,
		  kind_names[s->kind], (long long)off, len, buf,
		  (unsigned long long)L);
		r = SYS(t, pread(s->fd, buf, len, off), m);
	}
	if (exact && r >= 0) {
		uint64_t want = off >= (int64_t)L ? 0 :
				(L - off < len ? L - off : len);

		if ((uint64_t)r != want)
			unexpected(t, "read %ld bytes, expected %llu", r,
				   (unsigned long long)want);
	}
	if (ms)
		ms_put(ms);
	fs_put(s);
}

static void op_write(struct thr *t)
{
	struct fslot *s = fs_get(t);
	mask_t m;

	if (!s)
		return;
	m = s->kind == K_PATH || s->kind == K_RO ? A(EBADF) : A(EINVAL);
	if (coin(t, 50)) {
		D(t, "write fd %d (%s)", s->fd, kind_names[s->kind]);
		SYS(t, write(s->fd, t->buf, 1 + rnd(t, PG)), m);
	} else {
		int64_t off = coin(t, 80) ? (int64_t)rnd(t, s->npages * PG) :
					    -1;

		D(t, "pwrite fd %d (%s) off %lld", s->fd, kind_names[s->kind],
		  (long long)off);
		SYS(t, pwrite(s->fd, coin(t, 20) ? bad_ptr(t) : t->buf,
			      1 + rnd(t, PG), off),
		    off < 0 ? A(EINVAL) : m);
	}
	fs_put(s);
}

static void op_lseek(struct thr *t)
{
	struct fslot *s = fs_get(t);
	static const int wh[] = { SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA,
				  SEEK_HOLE };
	int w = wh[rnd(t, 5)];
	int64_t off = rnd(t, s ? s->npages * PG + PG : 1), L;
	long r;

	if (!s)
		return;
	L = s->npages * PG;
	D(t, "lseek fd %d (%s) %lld whence %d", s->fd, kind_names[s->kind],
	  (long long)off, w);
	r = SYS(t, lseek(s->fd, off, w),
		s->kind == K_PATH ? A(EBADF) :
		(w == SEEK_DATA || w == SEEK_HOLE) && off >= L ? A(ENXIO) :
		(w == SEEK_SET || w == SEEK_END || w == SEEK_DATA ||
		 w == SEEK_HOLE) ? OK : (OK | A(EINVAL)));
	if (r >= 0 && w == SEEK_END && r != L + off)
		unexpected(t, "SEEK_END gave %ld", r);
	fs_put(s);
}

static void op_truncate(struct thr *t)
{
	struct fslot *s = fs_get(t);
	char path[64];
	off_t len;

	if (!s)
		return;
	len = coin(t, 20) ? -1 : (off_t)(rnd(t, 3) * s->npages * PG);
	if (coin(t, 60)) {
		D(t, "ftruncate fd %d (%s) %lld", s->fd, kind_names[s->kind],
		  (long long)len);
		SYS(t, ftruncate(s->fd, len),
		    s->kind == K_PATH && len >= 0 ? A(EBADF) : A(EINVAL));
	} else {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", s->fd);
		D(t, "truncate %s (%s) %lld", path, kind_names[s->kind],
		  (long long)len);
		SYS(t, truncate(path, len),
		    A(EINVAL) | (t->p->chmod_used ? A(EACCES) : 0));
	}
	fs_put(s);
}

static void op_fallocate(struct thr *t)
{
	static const int modes[] = {
		FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE,
		FALLOC_FL_ZERO_RANGE, FALLOC_FL_COLLAPSE_RANGE,
		FALLOC_FL_INSERT_RANGE, FALLOC_FL_UNSHARE_RANGE, 0x80,
	};
	struct fslot *s = fs_get(t);
	int mode;
	uint64_t N;
	int64_t off, len;
	mask_t m = 0;
	bool punch;

	if (!s)
		return;
	N = s->npages;
	mode = modes[rnd(t, 11)];
	punch = mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
	switch (rnd(t, 8)) {
	case 0:
		off = rnd(t, N * PG);
		len = 1 + rnd(t, N * PG);	/* unaligned */
		if (punch && (off % PG || len % PG || off + len > (int64_t)(N * PG)))
			m = A(EINVAL);
		break;
	case 1:
		off = rnd(t, N) * PG;
		len = 0;
		m = A(EINVAL);
		break;
	case 2:
		off = -(int64_t)PG;
		len = PG;
		m = A(EINVAL);
		break;
	case 3:
		off = (N + rnd(t, 4)) * PG;
		len = PG;
		if (punch)
			m = A(EINVAL);
		break;
	case 4:
		off = INT64_MAX - PG + 1;
		len = INT64_MAX - PG + 1;
		m = A(EFBIG);
		break;
	default:
		off = rnd(t, N) * PG;
		len = (1 + rnd(t, N - off / PG)) * PG;
		break;
	}
	/* Any of the reasons that apply; a punch if none does. */
	if (!punch)
		m |= A(EOPNOTSUPP);
	if (!fs_writable(s->kind))
		m |= A(EBADF);
	if (!m)
		m = punch ? (OK | pins_possible(t->p)) : A(EOPNOTSUPP);
	if (s->kind == K_PATH)
		m = A(EBADF);
	D(t, "fallocate fd %d (%s) mode %#x off %lld len %lld of %llu pages",
	  s->fd, kind_names[s->kind], mode, (long long)off, (long long)len,
	  (unsigned long long)N);
	SYS(t, fallocate(s->fd, mode, off, len), m);
	fs_put(s);
}

static void op_reopen(struct thr *t)
{
	static const int flags[] = {
		O_RDWR, O_RDWR, O_RDONLY, O_RDONLY, O_WRONLY, O_PATH,
		O_RDWR | O_TRUNC, O_RDONLY | O_DIRECT, O_RDONLY | O_DIRECTORY,
	};
	static const int kinds[] = {
		K_RW, K_RW, K_RO, K_RO, K_WO, K_PATH, K_RW, K_RO, K_RO,
	};
	struct fslot *s = fs_get(t);
	char path[64];
	int k = rnd(t, 9), fd;
	mask_t m;

	if (!s)
		return;
	if (k == 5)
		m = OK;
	else if (k == 8)
		m = A(ENOTDIR);
	else if (s->kind == K_TRANSFER)
		m = A(ENXIO);
	else if (s->kind == K_PATH)	/* of a guest or a transfer view */
		m = A(ENXIO) | ((k == 6 || k == 7) ? A(EINVAL) : OK);
	else if (k == 6 || k == 7)
		m = A(EINVAL);
	else
		m = OK;
	/* transfer views: ENXIO even with these, but the VFS may go first */
	if (s->kind == K_TRANSFER && (k == 6 || k == 7))
		m |= A(EINVAL);
	if (t->p->chmod_used && k != 5)
		m |= A(EACCES);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", s->fd);
	D(t, "open %s (%s) flags %#x", path, kind_names[s->kind], flags[k]);
	fd = SYS(t, open(path, flags[k] | O_CLOEXEC), m);
	if (fd >= 0)
		fs_add(t, fd, kinds[k], s->id, s->npages);
	fs_put(s);
}

static void op_fchmod(struct thr *t)
{
	struct fslot *s = fs_get(t);

	if (!s)
		return;
	if (!t->p->priv)
		t->p->chmod_used = true;
	D(t, "fchmod fd %d (%s)", s->fd, kind_names[s->kind]);
	SYS(t, fchmod(s->fd, coin(t, 50) ? 0600 : 0400),
	    s->kind == K_PATH ? A(EBADF) : OK);
	fs_put(s);
}

static void op_close(struct thr *t)
{
	struct fslot *s = &t->p->fs[rnd(t, NFS)];

	if (coin(t, 5)) {
		D(t, "close dead fd");
		SYS(t, close(DEADFD + rnd(t, 10)), A(EBADF));
		return;
	}
	if (pthread_rwlock_trywrlock(&s->lk))
		return;
	if (s->fd >= 0) {
		D(t, "close fd %d (%s)", s->fd, kind_names[s->kind]);
		SYS(t, close(s->fd), OK);
		s->fd = -1;
	}
	pthread_rwlock_unlock(&s->lk);
}

static void op_dup(struct thr *t)
{
	struct fslot *s = fs_get(t);
	int fd;

	if (!s)
		return;
	D(t, "dup fd %d (%s)", s->fd, kind_names[s->kind]);
	fd = SYS(t, fcntl(s->fd, F_DUPFD_CLOEXEC, 3), OK);
	if (fd >= 0)
		fs_add(t, fd, s->kind, s->id, s->npages);
	fs_put(s);
}

static void op_sendfile(struct thr *t)
{
	struct fslot *s = fs_get(t);
	off_t off = 0;

	if (!s)
		return;
	D(t, "sendfile from fd %d (%s)", s->fd, kind_names[s->kind]);
	/* no splice_read: the region fds are read with read() */
	SYS(t, sendfile(t->p->devnull, s->fd, &off, PG),
	    fs_readable(s->kind) ? A(EINVAL) : A(EBADF));
	fs_put(s);
}

/* ---- fork ---------------------------------------------------------------- */

static void child_run(struct thr *t, struct fslot **fss, int nf,
		      struct mslot **mss, int nm)
{
	int i, k, n = 4 + rnd(t, 12);

	t->child = true;
	t->op = OP_child;
	for (i = 0; i < n; i++) {
		t->opno++;
		switch (rnd(t, 8)) {
		case 0:
		case 1:
			if (!nm)
				break;
			k = rnd(t, nm);
			if (!mss[k])
				break;
			if (mss[k]->prot & PROT_WRITE) {
				D(t, "child store %p", mss[k]->addr);
				tx_write(mss[k]->kind, mss[k]->id);
				probe(t, mss[k]->addr + rnd(t, mss[k]->len),
				      true, true);
			} else if (mss[k]->prot & PROT_READ) {
				D(t, "child load %p", mss[k]->addr);
				probe(t, mss[k]->addr + rnd(t, mss[k]->len),
				      false, true);
			}
			break;
		case 2:
			if (!nm)
				break;
			k = rnd(t, nm);
			if (!mss[k])
				break;
			D(t, "child munmap %p", mss[k]->addr);
			SYS(t, munmap(mss[k]->addr, mss[k]->len), OK);
			mss[k] = NULL;
			break;
		case 3:
			if (!nf)
				break;
			k = rnd(t, nf);
			if (!fss[k])
				break;
			D(t, "child close fd %d", fss[k]->fd);
			SYS(t, close(fss[k]->fd), OK);
			fss[k] = NULL;
			break;
		case 4: {
			struct rdmig_region_info in = { .size = sizeof(in) };

			if (!nf)
				break;
			k = rnd(t, nf);
			if (!fss[k])
				break;
			D(t, "child REGION_INFO fd %d (%s)", fss[k]->fd,
			  kind_names[fss[k]->kind]);
			if (!SYS(t, ioctl(fss[k]->fd, RDMIG_REGION_INFO, &in),
				 fss[k]->kind == K_PATH ? A(EBADF) : OK) &&
			    in.region_id != fss[k]->id)
				unexpected(t, "child: region id %u, slot %u",
					   in.region_id, fss[k]->id);
			break;
		}
		case 5:
			if (!nf)
				break;
			k = rnd(t, nf);
			if (!fss[k])
				break;
			D(t, "child pread fd %d (%s)", fss[k]->fd,
			  kind_names[fss[k]->kind]);
			SYS(t, pread(fss[k]->fd, t->buf, PG,
				     rnd(t, fss[k]->npages) * PG),
			    fs_readable(fss[k]->kind) ? OK : A(EBADF));
			break;
		case 6: {
			uint64_t bm[4];
			struct rdmig_dirty_bitmap d = {
				.size = sizeof(d), .npages = 0,
				.bitmap = (uintptr_t)bm,
			};

			if (!nf)
				break;
			k = rnd(t, nf);
			if (!fss[k])
				break;
			d.npages = fss[k]->npages < 256 ? fss[k]->npages : 256;
			d.flags = coin(t, 50) ? RDMIG_DIRTY_F_CLEAR : 0;
			D(t, "child GET_DIRTY fd %d (%s) flags %#x", fss[k]->fd,
			  kind_names[fss[k]->kind], d.flags);
			SYS(t, ioctl(fss[k]->fd, RDMIG_GET_DIRTY, &d),
			    fss[k]->kind == K_PATH ? A(EBADF) :
			    !(d.flags) ? OK :
			    fs_writable(fss[k]->kind) ? (OK | A(EINVAL)) :
			    A(EBADF));
			break;
		}
		default: {
			/* a region of its own, left mapped at exit */
			struct rdmig_create_region c = {
				.size = sizeof(c), .length = 4 * PG,
				.flags = RDMIG_REGION_F_TRACK,
			};
			int fd;
			char *a;

			D(t, "child CREATE_REGION");
			fd = SYS(t, ioctl(t->p->dev, RDMIG_CREATE_REGION, &c),
				 OK);
			if (fd < 0)
				break;
			a = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
				 MAP_SHARED, fd, 0);
			expect(t, a == MAP_FAILED ? -1 : 0, errno, OK);
			if (a != MAP_FAILED)
				a[rnd(t, 4 * PG)] = 1;
			if (coin(t, 50))
				close(fd);
			break;
		}
		}
	}
	if (coin(t, 20))
		usleep(rnd(t, 20000));
	_exit(t->child_bad ? 1 : 0);
}

static void reap(struct thr *t, bool all)
{
	struct proc *p = t->p;
	int i, st;
	pid_t r;

	pthread_mutex_lock(&p->kids_lk);
	for (i = 0; i < NKIDS; i++) {
		if (!p->kids[i])
			continue;
		r = waitpid(p->kids[i], &st, all ? 0 : WNOHANG);
		if (r == 0)
			continue;
		if (r == p->kids[i] && (!WIFEXITED(st) || WEXITSTATUS(st))) {
			D(t, "child %d", p->kids[i]);
			t->op = OP_child;
			unexpected(t, "child exited with status %#x (see its UNEXPECTED line)",
				   st);
		}
		p->kids[i] = 0;
	}
	pthread_mutex_unlock(&p->kids_lk);
}

static void op_fork(struct thr *t)
{
	struct fslot *fss[4] = { 0 };
	struct mslot *mss[4] = { 0 };
	int nf = rnd(t, 5), nm = rnd(t, 5), i, st;
	struct proc *p = t->p;
	bool wait_now = g_single || coin(t, 50);
	uint64_t child_rng = splitmix(&t->rng);
	pid_t pid;

	for (i = 0; i < nf; i++)
		fss[i] = fs_get(t);
	for (i = 0; i < nm; i++)
		mss[i] = ms_get(t, false);
	/* duplicates of one slot would be closed twice in the child */
	for (i = 1; i < nf; i++)
		for (st = 0; st < i; st++)
			if (fss[i] && fss[i] == fss[st]) {
				fs_put(fss[i]);
				fss[i] = NULL;
			}
	for (i = 1; i < nm; i++)
		for (st = 0; st < i; st++)
			if (mss[i] && mss[i] == mss[st]) {
				ms_put(mss[i]);
				mss[i] = NULL;
			}
	D(t, "fork with %d fds and %d mappings", nf, nm);
	pid = fork();
	if (pid == 0) {
		t->rng = child_rng;
		child_run(t, fss, nf, mss, nm);
	}
	expect(t, pid < 0 ? -1 : 0, errno, OK | A(EAGAIN));
	for (i = 0; i < nf; i++)
		if (fss[i])
			fs_put(fss[i]);
	for (i = 0; i < nm; i++)
		if (mss[i])
			ms_put(mss[i]);
	if (pid < 0)
		return;
	if (!wait_now) {
		pthread_mutex_lock(&p->kids_lk);
		for (i = 0; i < NKIDS; i++)
			if (!p->kids[i]) {
				p->kids[i] = pid;
				pid = 0;
				break;
			}
		pthread_mutex_unlock(&p->kids_lk);
		if (!pid) {
			if (coin(t, 30))
				reap(t, false);
			return;
		}
	}
	if (waitpid(pid, &st, 0) == pid && (!WIFEXITED(st) || WEXITSTATUS(st)))
		unexpected(t, "child exited with status %#x", st);
}

/* ---- netlink ------------------------------------------------------------- */

struct nlres {
	uint32_t seq;
	int err;
	bool done;
	int msgs;
};

static int nl_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlres *r = arg;

	(void)nla;
	if (e->msg.nlmsg_seq != r->seq)
		return NL_SKIP;
	r->err = e->error;
	r->done = true;
	return NL_STOP;
}

static int nl_ack_cb(struct nl_msg *msg, void *arg)
{
	struct nlres *r = arg;

	if (nlmsg_hdr(msg)->nlmsg_seq != r->seq)
		return NL_SKIP;
	r->err = 0;
	r->done = true;
	return NL_STOP;
}

static int nl_fin_cb(struct nl_msg *msg, void *arg)
{
	struct nlres *r = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);

	if (h->nlmsg_seq != r->seq)
		return NL_SKIP;
	/* a dump's error comes in NLMSG_DONE's payload */
	r->err = h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) ?
		 *(int *)nlmsg_data(h) : 0;
	r->done = true;
	return NL_STOP;
}

/*
 * A DIRTY_GET reply with RDMIG_DIRTY_F_WORDS for [first, first + npages)
 * of a region of at most MAXPAGES pages: at most RDMIG_NL_DIRTY_WORDS_MAX
 * words, so the whole range in one reply (next page its end), each word
 * non-zero, inside the range, in increasing order, their bits adding up
 * to the dirty pages.
 */
static void nl_check_words(struct thr *t, struct nl_msg *msg)
{
	struct nlattr *a[RDMIG_A_MAX + 1];
	const struct rdmig_dirty_word *w;
	uint64_t end = t->nlw.first + t->nlw.npages, nw, bits = 0, valid;
	uint64_t ndirty, next, prev = 0;
	size_t len, i;

	nw = (t->nlw.npages + 63) / 64;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, a, RDMIG_A_MAX, NULL) ||
	    !a[RDMIG_A_DIRTY_WORDS] || !a[RDMIG_A_DIRTY_PAGES] ||
	    !a[RDMIG_A_NEXT_PAGE] || a[RDMIG_A_BITMAP]) {
		unexpected(t, "words reply: attributes missing or a bitmap");
		return;
	}
	len = nla_len(a[RDMIG_A_DIRTY_WORDS]);
	w = nla_data(a[RDMIG_A_DIRTY_WORDS]);
	ndirty = nla_get_u64(a[RDMIG_A_DIRTY_PAGES]);
	next = nla_get_u64(a[RDMIG_A_NEXT_PAGE]);
	if (len % sizeof(*w) || len / sizeof(*w) > nw || next != end) {
		unexpected(t, "words reply: %zu bytes of words for %llu words, next page %llu of [%llu, %llu)",
			   len, (unsigned long long)nw,
			   (unsigned long long)next,
			   (unsigned long long)t->nlw.first,
			   (unsigned long long)end);
		return;
	}
	for (i = 0; i < len / sizeof(*w); i++) {
		struct rdmig_dirty_word x;

		memcpy(&x, w + i, sizeof(x));	/* attributes are 4-aligned */
		valid = x.index == nw - 1 && t->nlw.npages % 64 ?
			(1ULL << (t->nlw.npages % 64)) - 1 : ~0ULL;
		if (!x.bits || x.index >= nw || (x.bits & ~valid) ||
		    (i && x.index <= prev)) {
			unexpected(t, "words reply: word %zu index %llu bits %#llx of %llu words",
				   i, x.index, x.bits, (unsigned long long)nw);
			return;
		}
		bits += __builtin_popcountll(x.bits);
		prev = x.index;
	}
	if (bits != ndirty)
		unexpected(t, "words reply: %llu bits set, dirty pages %llu",
			   (unsigned long long)bits,
			   (unsigned long long)ndirty);
}

static int nl_valid_cb(struct nl_msg *msg, void *arg)
{
	struct nlres *r = arg;

	if (nlmsg_hdr(msg)->nlmsg_seq != r->seq)
		return NL_OK;
	r->msgs++;
	if (cur && cur->nlw.on) {
		cur->nlw.replies++;
		nl_check_words(cur, msg);
	}
	return NL_OK;
}

static int nl_noseq_cb(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

static int nl_sock(struct thr *t)
{
	struct timeval tv = { .tv_sec = 10 };
	int one = 1;

	if (t->nl)
		return nl_socket_get_fd(t->nl);
	t->nl = nl_socket_alloc();
	if (!t->nl || genl_connect(t->nl)) {
		say("rand_kiface: cannot connect a generic netlink socket\n");
		exit(2);
	}
	t->family = genl_ctrl_resolve(t->nl, RDMIG_GENL_NAME);
	if (t->family < 0) {
		say("rand_kiface: family %s not found\n", RDMIG_GENL_NAME);
		exit(2);
	}
	nl_socket_disable_seq_check(t->nl);
	/* dump parts are larger than a page */
	nl_socket_enable_msg_peek(t->nl);
	nl_socket_set_buffer_size(t->nl, 1 << 20, 1 << 20);
	setsockopt(nl_socket_get_fd(t->nl), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(t->nl), SOL_SOCKET, SO_RCVTIMEO, &tv,
		   sizeof(tv));
	return nl_socket_get_fd(t->nl);
}

/* Waits for the end of request @seq; returns the kernel's -errno or 0. */
static int nl_wait(struct thr *t, uint32_t seq, int *msgs)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	struct nlres r = { .seq = seq };
	int rc = 0;

	/* requests are matched by their own sequence numbers */
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, nl_noseq_cb, NULL);
	nl_cb_err(cb, NL_CB_CUSTOM, nl_err_cb, &r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, nl_ack_cb, &r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, nl_fin_cb, &r);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, nl_valid_cb, &r);
	while (!r.done) {
		rc = nl_recvmsgs(t->nl, cb);
		if (rc < 0 && rc != -NLE_DUMP_INTR)
			break;
	}
	nl_cb_put(cb);
	if (msgs)
		*msgs = r.msgs;
	if (!r.done) {
		size_t o = strlen(t->desc);

		snprintf(t->desc + o, sizeof(t->desc) - o, " (libnl: %s)",
			 nl_geterror(rc));
		return rc == -NLE_NOMEM ? -ENOBUFS : -ETIMEDOUT;
	}
	return r.err;
}

static int nl_do(struct thr *t, struct nl_msg *msg, int *msgs)
{
	uint32_t seq;
	int rc;

	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	seq = nl_socket_use_seq(t->nl);
	nlmsg_hdr(msg)->nlmsg_seq = seq;
	nlmsg_hdr(msg)->nlmsg_pid = 0;
	rc = nl_send(t->nl, msg);
	nlmsg_free(msg);
	if (rc < 0)
		return -EIO;
	return nl_wait(t, seq, msgs);
}

static struct nl_msg *nl_req(struct thr *t, int cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	nl_sock(t);
	genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, t->family, 0, flags, cmd,
		    RDMIG_GENL_VERSION);
	return msg;
}

/* A region id: own (a slot's), another process's, or none at all. */
static uint32_t nl_pick_id(struct thr *t, uint64_t *np, int *whose)
{
	struct fslot *s;
	uint32_t id;

	*np = 64;
	switch (rnd(t, 6)) {
	case 0:
	case 1:
	case 2:
		s = fs_get(t);
		if (s) {
			id = s->id;
			*np = s->npages;
			fs_put(s);
			/* closed meanwhile by another thread: maybe gone */
			*whose = 0;
			return id;
		}
		/* fallthrough */
	case 3:
		id = __atomic_load_n(&sh->ids[rnd(t, NIDS)], __ATOMIC_RELAXED);
		*whose = id ? 1 : 2;
		*np = 1 + rnd(t, MAXPAGES);
		return id;
	case 4:
		*whose = 2;
		return 0xfffffff0 + rnd(t, 16);
	default:
		*whose = 2;
		return 0;
	}
}

/*
 * What a command on @whose (0 own, 1 someone's, 2 nobody's) allows besides
 * its own result @m: ids may be gone (ENOENT), and an unprivileged
 * process may see only its own regions and change none without a bound
 * socket (EPERM).
 */
static mask_t nl_auth(struct thr *t, int whose, mask_t m, bool change)
{
	if (whose == 2)
		return A(ENOENT);
	m |= A(ENOENT);
	/* another's id may be one of ours too */
	if (!t->p->priv && (whose == 1 || change))
		m |= A(EPERM);
	return m;
}

static void nl_check(struct thr *t, int rc, mask_t m)
{
	expect(t, rc < 0 ? -1 : 0, -rc, m);
}

static void op_nl_version(struct thr *t)
{
	struct nl_msg *msg = nl_req(t, RDMIG_CMD_VERSION_GET, 0);
	bool attr = coin(t, 20);

	if (attr)
		nla_put_u32(msg, RDMIG_A_REGION_ID, 1);
	D(t, "nl VERSION_GET%s", attr ? " with an attribute" : "");
	nl_check(t, nl_do(t, msg, NULL), attr ? (OK | A(EINVAL)) : OK);
}

/* Garbage attributes a strict policy must refuse (EINVAL or ERANGE). */
static bool nl_garbage(struct thr *t, struct nl_msg *msg)
{
	uint16_t v16 = 1;

	switch (rnd(t, 24)) {
	case 0:
		nla_put(msg, RDMIG_A_REGION_ID, 2, &v16);	/* bad length */
		return true;
	case 1:
		nla_put_u32(msg, RDMIG_A_MAX + 1 + rnd(t, 100), 1);
		return true;
	case 2:
		nla_put_u32(msg, RDMIG_A_UNSPEC, 1);
		return true;
	case 3:
		nla_put_u32(msg, RDMIG_A_API_VERSION, 2);	/* not taken */
		return true;
	case 4:
		nla_put_u32(msg, RDMIG_A_FIRST_PAGE | NLA_F_NESTED, 0);
		return true;
	default:
		return false;
	}
}

static void op_nl_region_get(struct thr *t)
{
	struct nl_msg *msg = nl_req(t, RDMIG_CMD_REGION_GET, 0);
	uint64_t np;
	int whose;
	uint32_t id = nl_pick_id(t, &np, &whose);
	bool garbage, noid = coin(t, 5);
	mask_t m;

	if (!noid)
		nla_put_u32(msg, RDMIG_A_REGION_ID, id);
	garbage = nl_garbage(t, msg);
	m = noid ? A(EINVAL) : nl_auth(t, whose, OK, false);
	if (garbage)
		m = A(EINVAL) | A(ERANGE);
	D(t, "nl REGION_GET id %u (%s)%s%s", id,
	  whose == 0 ? "own" : whose == 1 ? "another's" : "none",
	  noid ? " without id" : "", garbage ? " with garbage" : "");
	nl_check(t, nl_do(t, msg, NULL), m);
}

static void op_nl_region_dump(struct thr *t)
{
	struct nl_msg *msg = nl_req(t, RDMIG_CMD_REGION_GET, NLM_F_DUMP);
	int msgs = 0;

	D(t, "nl REGION_GET dump");
	nl_check(t, nl_do(t, msg, &msgs), OK);
}

static void op_nl_region_set(struct thr *t)
{
	struct nl_msg *msg = nl_req(t, RDMIG_CMD_REGION_SET, 0);
	uint64_t np, wm = 0;
	int whose, tr = -1;
	uint32_t id = nl_pick_id(t, &np, &whose);
	bool garbage, valid = true, range = false;
	mask_t m;

	nla_put_u32(msg, RDMIG_A_REGION_ID, id);
	if (coin(t, 60)) {
		tr = coin(t, 90) ? (int)rnd(t, 2) : 2 + (int)rnd(t, 250);
		nla_put_u8(msg, RDMIG_A_REGION_TRACKING, tr);
		range = tr > 1;
	}
	if (coin(t, 50)) {
		wm = coin(t, 90) ? rnd(t, np + 1) : np + 1 + rnd(t, 100);
		nla_put_u64(msg, RDMIG_A_REGION_WATERMARK, wm);
		if (wm > np)
			valid = false;	/* for foreign ids np is a guess */
	} else if (tr < 0) {
		valid = false;		/* nothing to set */
	}
	garbage = nl_garbage(t, msg);
	m = nl_auth(t, whose, valid ? OK : A(EINVAL), true);
	if (whose == 1)
		m |= OK | A(EINVAL);
	if (range)
		m = A(ERANGE) | A(EINVAL);
	if (garbage)
		m = A(EINVAL) | A(ERANGE);
	D(t, "nl REGION_SET id %u (%s) tracking %d wm %llu%s", id,
	  whose == 0 ? "own" : whose == 1 ? "another's" : "none", tr,
	  (unsigned long long)wm, garbage ? " with garbage" : "");
	nl_check(t, nl_do(t, msg, NULL), m);
}

static void nl_range_req(struct thr *t, int cmd, bool dump)
{
	struct nl_msg *msg = nl_req(t, cmd, dump ? NLM_F_DUMP : 0);
	uint64_t np, first, n;
	int whose;
	uint32_t id = nl_pick_id(t, &np, &whose), flags = 0;
	bool garbage, valid, noattr = coin(t, 5), badflags = false;
	int omit = noattr ? 1 + (int)rnd(t, 2) : 0;
	bool dirty = cmd == RDMIG_CMD_DIRTY_GET, zero_n, words;
	mask_t m;
	int rc;

	valid = gen_range(t, np, dirty, &first, &n);
	zero_n = n == 0;
	nla_put_u32(msg, RDMIG_A_REGION_ID, id);
	if (omit != 1)
		nla_put_u64(msg, RDMIG_A_FIRST_PAGE, first);
	if (omit != 2)
		nla_put_u64(msg, RDMIG_A_NPAGES, n);
	if (coin(t, 70)) {
		flags = coin(t, 60) ? 1 : 0;
		/* the sparse reply, often enough to matter */
		if (dirty && coin(t, 40))
			flags |= RDMIG_DIRTY_F_WORDS;
		if (coin(t, 8))
			flags |= 2U << rnd(t, 31);
		/* DIRTY_GET knows CLEAR and WORDS (the sparse reply) */
		badflags = flags & ~(dirty ? RDMIG_DIRTY_F_CLEAR |
				     RDMIG_DIRTY_F_WORDS : 1U);
		nla_put_u32(msg, RDMIG_A_FLAGS, flags);
	}
	words = dirty && !badflags && (flags & RDMIG_DIRTY_F_WORDS);
	garbage = nl_garbage(t, msg);
	m = valid ? OK : A(EINVAL);
	if (dirty && (flags & 1))
		m |= A(EINVAL);		/* tracking may be off */
	m = nl_auth(t, whose, m, true);
	if (whose == 1)
		m |= OK | A(EINVAL);
	/* checked before the region is looked up */
	if (dirty && !dump && !words && n > RDMIG_NL_DIRTY_DOIT_MAX_PAGES)
		m = A(EMSGSIZE);
	/*
	 * A words reply has no size limit as a plain request; a dump of one
	 * is refused once the region and the range have been checked.
	 */
	if (words && dump)
		m = (m & ~OK) | A(EINVAL);
	if (noattr)
		m = A(EINVAL);
	D(t, "nl %s%s id %u (%s) first %llu npages %llu flags %#x%s%s",
	  dirty ? "DIRTY_GET" : "ZERO_SCAN", dump ? " dump" : "", id,
	  whose == 0 ? "own" : whose == 1 ? "another's" : "none",
	  (unsigned long long)first, (unsigned long long)n, flags,
	  noattr ? " missing attrs" : "", garbage ? " with garbage" : "");
	/* policy checks come first; a missing attribute next */
	if ((zero_n && omit != 2) || badflags || garbage)
		m = A(EINVAL) | A(ERANGE);
	/* ... but a dump of a command without one before anything */
	if (dump && !dirty)
		m = A(EOPNOTSUPP);
	/* the reply's words are checked as they come (nl_valid_cb) */
	if (words && !dump && !noattr) {
		t->nlw.on = true;
		t->nlw.first = first;
		t->nlw.npages = n;
		t->nlw.replies = 0;
	}
	rc = nl_do(t, msg, NULL);
	nl_check(t, rc, m);
	if (t->nlw.on && !rc && t->nlw.replies != 1)
		unexpected(t, "words: %d replies to one request", t->nlw.replies);
	t->nlw.on = false;
}

static void op_nl_dirty_get(struct thr *t)
{
	nl_range_req(t, RDMIG_CMD_DIRTY_GET, false);
}

static void op_nl_dirty_dump(struct thr *t)
{
	nl_range_req(t, RDMIG_CMD_DIRTY_GET, true);
}

static void op_nl_zero_scan(struct thr *t)
{
	nl_range_req(t, RDMIG_CMD_ZERO_SCAN, coin(t, 10));
}

static void op_nl_stats(struct thr *t)
{
	struct nl_msg *msg = nl_req(t, RDMIG_CMD_STATS_GET, 0);
	uint64_t np;
	int whose;
	uint32_t id = nl_pick_id(t, &np, &whose);
	bool garbage;

	nla_put_u32(msg, RDMIG_A_REGION_ID, id);
	garbage = nl_garbage(t, msg);
	D(t, "nl STATS_GET id %u (%s)%s", id,
	  whose == 0 ? "own" : whose == 1 ? "another's" : "none",
	  garbage ? " with garbage" : "");
	nl_check(t, nl_do(t, msg, NULL),
		 garbage ? A(EINVAL) | A(ERANGE) : nl_auth(t, whose, OK, false));
}

static void op_nl_unknown(struct thr *t)
{
	static const int cmds[] = { 0, RDMIG_CMD_REGION_NEW_NTF,
		RDMIG_CMD_REGION_DEL_NTF, RDMIG_CMD_DIRTY_WATERMARK_NTF,
		RDMIG_CMD_MAX + 1, 200, 255 };
	bool dump = coin(t, 30);
	int cmd = coin(t, 20) ? (coin(t, 50) ? RDMIG_CMD_REGION_SET :
					       RDMIG_CMD_STATS_GET) :
				cmds[rnd(t, 7)];
	struct nl_msg *msg = nl_req(t, cmd, dump ? NLM_F_DUMP : 0);

	if (cmd == RDMIG_CMD_REGION_SET || cmd == RDMIG_CMD_STATS_GET)
		dump = true;
	if (dump)
		nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_DUMP;
	D(t, "nl unknown command %d%s", cmd, dump ? " dump" : "");
	nl_check(t, nl_do(t, msg, NULL), A(EOPNOTSUPP));
}

/*
 * Raw malformed messages: broken genetlink headers, attributes longer
 * than the message, reserved header bits. Those the kernel drops without
 * an answer are followed by a version request, whose answer ends the wait.
 */
static void op_nl_malformed(struct thr *t)
{
	struct {
		struct nlmsghdr n;
		struct genlmsghdr g;
		char attrs[64];
	} req;
	struct nlattr *a = (struct nlattr *)req.attrs;
	int fd = nl_sock(t), kind = rnd(t, 7), rc;
	uint32_t seq = nl_socket_use_seq(t->nl);
	size_t len;
	mask_t m;

	memset(&req, 0, sizeof(req));
	req.n.nlmsg_type = t->family;
	req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.n.nlmsg_seq = seq;
	req.g.cmd = 1 + rnd(t, RDMIG_CMD_STATS_GET);
	req.g.version = RDMIG_GENL_VERSION;
	a->nla_type = RDMIG_A_REGION_ID;
	a->nla_len = NLA_HDRLEN + 4;
	len = NLMSG_LENGTH(GENL_HDRLEN) + NLA_ALIGN(a->nla_len);
	switch (kind) {
	case 0:		/* genetlink header cut short */
		len = NLMSG_LENGTH(1 + rnd(t, GENL_HDRLEN - 1));
		m = A(EINVAL);
		break;
	case 1:		/* attribute longer than the message */
		a->nla_len = 200;
		m = A(EINVAL) | A(ERANGE);
		break;
	case 2:		/* attribute shorter than its header */
		a->nla_len = 2;
		m = A(EINVAL) | A(ERANGE);
		break;
	case 3:		/* trailing bytes after the attributes */
		len += 2;
		m = A(EINVAL) | A(ERANGE);
		break;
	case 4:		/* reserved header field */
		req.g.reserved = 1 + rnd(t, 0xfffe);
		req.g.cmd = RDMIG_CMD_VERSION_GET;
		len = NLMSG_LENGTH(GENL_HDRLEN);
		m = A(EINVAL) | OK;
		break;
	case 5:		/* random bytes for attributes */
		for (rc = 0; rc < 64; rc++)
			req.attrs[rc] = rnd(t, 256);
		len = NLMSG_LENGTH(GENL_HDRLEN) + 4 * (1 + rnd(t, 16));
		m = A(EINVAL) | A(ERANGE) | A(ENOENT) | A(EPERM) | OK |
		    A(EMSGSIZE) | A(EOPNOTSUPP);
		break;
	default:	/* nlmsg_len beyond the datagram: dropped silently */
		req.n.nlmsg_len = len + 64;
		m = OK;
		break;
	}
	if (kind != 6)
		req.n.nlmsg_len = len;
	/* VERSION_GET has no policy: its attributes are not parsed */
	if (req.g.cmd == RDMIG_CMD_VERSION_GET && kind >= 1 && kind <= 3)
		m |= OK;
	D(t, "nl malformed kind %d cmd %d len %zu", kind, req.g.cmd, len);
	rc = send(fd, &req, len, 0);
	if (rc < 0) {
		expect(t, -1, errno, A(EINVAL));
		return;
	}
	if (kind == 6) {
		struct nl_msg *msg = nl_req(t, RDMIG_CMD_VERSION_GET, 0);

		nl_check(t, nl_do(t, msg, NULL), m);
		return;
	}
	nl_check(t, nl_wait(t, seq, NULL), m);
}

static void op_nl_mcast(struct thr *t)
{
	struct nl_sock *s = nl_socket_alloc();
	int grp, rc;

	if (!s || genl_connect(s)) {
		if (s)
			nl_socket_free(s);
		return;
	}
	grp = genl_ctrl_resolve_grp(s, RDMIG_GENL_NAME, RDMIG_GENL_MCGRP_EVENTS);
	D(t, "nl join events group %d", grp);
	rc = nl_socket_add_membership(s, grp);
	expect(t, rc < 0 ? -1 : 0, rc == -NLE_PERM ? EPERM : EIO,
	       t->p->priv ? OK : A(EPERM));
	/* leave the listener unread for a while: the kernel must cope */
	if (coin(t, 50))
		usleep(rnd(t, 3000));
	nl_socket_free(s);
}

/* ---- RDMA pins --------------------------------------------------------- */

static void op_reg_mr(struct thr *t)
{
	struct proc *p = t->p;
	struct mrslot *r = &p->mr[rnd(t, NMR)];
	struct mslot *m;
	struct ibv_mr *mr;
	size_t pg, n;
	int access;

	if (!p->pd || pthread_mutex_trylock(&r->lk))
		return;
	if (r->mr) {
		pthread_mutex_unlock(&r->lk);
		return;
	}
	m = ms_get(t, false);
	if (!m) {
		pthread_mutex_unlock(&r->lk);
		return;
	}
	pg = rnd(t, m->len / PG);
	n = 1 + rnd(t, m->len / PG - pg);
	access = coin(t, 60) ? 0 : IBV_ACCESS_LOCAL_WRITE;
	__atomic_fetch_add(&p->mr_live, 1, __ATOMIC_RELAXED);
	D(t, "ibv_reg_mr %p pages %zu..%zu (%s prot %#x) access %#x", m->addr,
	  pg, pg + n - 1, kind_names[m->kind], m->prot, access);
	mr = ibv_reg_mr(p->pd, m->addr + pg * PG, n * PG, access);
	expect(t, mr ? 0 : -1, errno,
	       (m->prot & (PROT_READ | PROT_WRITE)) == (PROT_READ | PROT_WRITE) ?
	       OK : (OK | A(EFAULT)));
	if (mr)
		r->mr = mr;
	else
		__atomic_fetch_sub(&p->mr_live, 1, __ATOMIC_RELAXED);
	ms_put(m);
	pthread_mutex_unlock(&r->lk);
}

static void op_dereg_mr(struct thr *t)
{
	struct proc *p = t->p;
	struct mrslot *r = &p->mr[rnd(t, NMR)];

	if (!p->pd || pthread_mutex_trylock(&r->lk))
		return;
	if (r->mr) {
		D(t, "ibv_dereg_mr %p", r->mr->addr);
		errno = 0;
		expect(t, ibv_dereg_mr(r->mr) ? -1 : 0, errno ?: EIO, OK);
		r->mr = NULL;
		__atomic_fetch_sub(&p->mr_live, 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&r->lk);
}

/* ---- driver ----------------------------------------------------------------- */

typedef void (*op_fn)(struct thr *t);
static void op_child(struct thr *t)
{
	(void)t;
}

static void op_invariant(struct thr *t)
{
	(void)t;
}

#define X_FN(n, w) op_##n,
static const op_fn op_fns[] = { OPS(X_FN) };

static unsigned int weight_total;

static int pick_op(struct thr *t)
{
	unsigned int r = rnd(t, weight_total), i;

	for (i = 0; i < NOPS; i++) {
		if (r < op_weights[i])
			return i;
		r -= op_weights[i];
	}
	return 0;
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;

	cur = t;
	for (;;) {
		if (g_single ? t->opno >= g_ops : now() > g_deadline)
			break;
		double t1 = now();
		int op = pick_op(t);

		t->op = op;
		t->desc[0] = 0;
		op_fns[op](t);
		__atomic_fetch_add(&sh->ns[op], (uint64_t)((now() - t1) * 1e9),
				   __ATOMIC_RELAXED);
		t->opno++;
		__atomic_fetch_add(&sh->ops, 1, __ATOMIC_RELAXED);
		if (!g_single && !(t->opno % 64))
			reap(t, false);
	}
	return NULL;
}

static void thr_init(struct thr *t, struct proc *p, int tid)
{
	memset(t, 0, sizeof(*t));
	t->p = p;
	t->tid = tid;
	t->rng = g_seed ^ ((uint64_t)(p->idx + 1) << 40) ^
		 ((uint64_t)(tid + 1) << 52);
	splitmix(&t->rng);
	t->edge = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	t->ro = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	t->buf = mmap(NULL, (MAXPAGES + 2) * PG, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->edge == MAP_FAILED || t->ro == MAP_FAILED ||
	    t->buf == MAP_FAILED) {
		perror("rand_kiface: mmap");
		exit(2);
	}
	mprotect(t->edge + PG, PG, PROT_NONE);
}

static void ib_open(struct proc *p)
{
	struct ibv_device **list;
	int i, n;

	list = ibv_get_device_list(&n);
	for (i = 0; list && i < n; i++)
		if (!strcmp(ibv_get_device_name(list[i]), "rxe0"))
			p->ibctx = ibv_open_device(list[i]);
	if (list)
		ibv_free_device_list(list);
	if (p->ibctx)
		p->pd = ibv_alloc_pd(p->ibctx);
}

static void proc_init(struct proc *p, int idx, bool priv)
{
	struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
	int i;

	memset(p, 0, sizeof(*p));
	p->idx = idx;
	p->priv = priv;
	p->dev = open("/dev/rdmig", O_RDWR | O_CLOEXEC);
	if (p->dev < 0) {
		perror("rand_kiface: /dev/rdmig");
		exit(2);
	}
	if (pipe2(p->pipefd, O_CLOEXEC)) {
		perror("rand_kiface: pipe");
		exit(2);
	}
	p->udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	p->nlroute = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	bind(p->nlroute, (struct sockaddr *)&snl, sizeof(snl));
	p->nl_unbound = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
			       NETLINK_GENERIC);
	p->devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	for (i = 0; i < 10; i++)
		close(DEADFD + i);
	for (i = 0; i < NFS; i++) {
		pthread_rwlock_init(&p->fs[i].lk, NULL);
		p->fs[i].fd = -1;
	}
	for (i = 0; i < NMS; i++)
		pthread_rwlock_init(&p->ms[i].lk, NULL);
	for (i = 0; i < NMR; i++)
		pthread_mutex_init(&p->mr[i].lk, NULL);
	pthread_mutex_init(&p->kids_lk, NULL);
}

/*
 * At rest (every thread of every process stopped, children reaped, MRs
 * deregistered): each region's pagemap must agree with its counters,
 * WRITTEN pages must be present, nothing may be pinned.
 */
static void verify(struct thr *t)
{
	struct proc *p = t->p;
	uint64_t *e = (uint64_t *)t->buf, i;
	int k;

	t->op = OP_invariant;
	for (k = 0; k < NFS; k++) {
		struct fslot *s = &p->fs[k];
		struct rdmig_region_info in = { .size = sizeof(in) };
		struct rdmig_pagemap pm = { .size = sizeof(pm) };
		uint64_t pres = 0, wr = 0, dirty = 0, pin = 0;
		bool zcheck = !tx_written(s->id) && fs_readable(s->kind);
		char *data = t->buf + (MAXPAGES / 8 + 1) * PG;

		if (s->fd < 0 || s->kind == K_PATH)
			continue;
		pm.npages = s->npages;
		pm.entries = (uintptr_t)e;
		D(t, "verify region %u (fd %d, %s, %llu pages)", s->id, s->fd,
		  kind_names[s->kind], (unsigned long long)s->npages);
		if (ioctl(s->fd, RDMIG_PAGEMAP, &pm) ||
		    ioctl(s->fd, RDMIG_REGION_INFO, &in)) {
			unexpected(t, "pagemap/info failed: %s",
				   strerrorname_np(errno));
			continue;
		}
		for (i = 0; i < s->npages; i++) {
			pres += !!(e[i] & RDMIG_PM_PRESENT);
			wr += !!(e[i] & RDMIG_PM_WRITTEN);
			dirty += !!(e[i] & RDMIG_PM_DIRTY);
			pin += !!(e[i] & RDMIG_PM_PINNED);
			if ((e[i] & RDMIG_PM_WRITTEN) &&
			    !(e[i] & RDMIG_PM_PRESENT))
				unexpected(t, "page %llu WRITTEN but absent (%#llx)",
					   (unsigned long long)i,
					   (unsigned long long)e[i]);
			/* known zero must be zero (no transfer-view writes) */
			if (zcheck && (e[i] & RDMIG_PM_ZERO) &&
			    pread(s->fd, data, PG, i * PG) == (ssize_t)PG &&
			    (data[0] || memcmp(data, data + 1, PG - 1)))
				unexpected(t, "page %llu is known zero (%#llx) but holds data",
					   (unsigned long long)i,
					   (unsigned long long)e[i]);
		}
		if (pres != in.present_pages || wr != in.written_pages ||
		    dirty != in.dirty_pages || pin || in.pinned_pages)
			unexpected(t, "pagemap present %llu written %llu dirty %llu pinned %llu; info %llu %llu %llu %llu",
				   (unsigned long long)pres,
				   (unsigned long long)wr,
				   (unsigned long long)dirty,
				   (unsigned long long)pin, in.present_pages,
				   in.written_pages, in.dirty_pages,
				   in.pinned_pages);
		__atomic_fetch_add(&sh->counts[OP_invariant][0], 1,
				   __ATOMIC_RELAXED);
	}
}

static void proc_finish(struct thr *t)
{
	struct proc *p = t->p;
	int i;

	reap(t, true);
	for (i = 0; i < NMR; i++)
		if (p->mr[i].mr) {
			ibv_dereg_mr(p->mr[i].mr);
			p->mr[i].mr = NULL;
		}
	p->mr_live = 0;
	if (!g_single)
		pthread_barrier_wait(&sh->bar);
	verify(t);
	if (!g_single)
		pthread_barrier_wait(&sh->bar);
	/* Closes in a random order, mappings and fds interleaved. */
	for (i = 0; i < NFS + NMS; i++) {
		int k = rnd(t, NFS + NMS);

		if (k < NFS && p->fs[k].fd >= 0) {
			close(p->fs[k].fd);
			p->fs[k].fd = -1;
		} else if (k >= NFS && p->ms[k - NFS].addr) {
			munmap(p->ms[k - NFS].addr, p->ms[k - NFS].len);
			p->ms[k - NFS].addr = NULL;
		}
	}
	if (p->pd)
		ibv_dealloc_pd(p->pd);
	if (p->ibctx)
		ibv_close_device(p->ibctx);
	/* the rest goes with exit() */
}

static int worker(int idx, bool priv)
{
	struct thr *ts;
	pthread_t th[MAXTHREADS];
	struct proc *p = calloc(1, sizeof(*p));
	int nt = g_single ? 1 : g_nthreads, i;

	proc_init(p, idx, priv);
	if (priv) {
		ib_open(p);
	} else {
		struct rlimit rl = { NOBODY_MEMLOCK, NOBODY_MEMLOCK };

		if (setrlimit(RLIMIT_MEMLOCK, &rl) || setgroups(0, NULL) ||
		    setgid(NOBODY) || setuid(NOBODY)) {
			perror("rand_kiface: dropping privileges");
			return 2;
		}
		prctl(PR_SET_DUMPABLE, 1);
	}
	ts = calloc(nt, sizeof(*ts));
	for (i = 0; i < nt; i++)
		thr_init(&ts[i], p, i);
	for (i = 1; i < nt; i++)
		pthread_create(&th[i], NULL, thread_main, &ts[i]);
	thread_main(&ts[0]);
	for (i = 1; i < nt; i++)
		pthread_join(th[i], NULL);
	proc_finish(&ts[0]);
	return 0;
}

static void summary(double secs)
{
	uint64_t total = 0, n, ok;
	int op, e;
	char line[1024];
	size_t o;

	printf("%-16s %8s %8s %7s  %s\n", "operation", "total", "ok", "us/op",
	       "errors");
	for (op = 0; op < NOPS; op++) {
		n = 0;
		for (e = 0; e < NERR; e++)
			n += sh->counts[op][e];
		if (!n)
			continue;
		total += n;
		ok = sh->counts[op][0];
		o = 0;
		line[0] = 0;
		for (e = 1; e < NERR; e++)
			if (sh->counts[op][e])
				o += snprintf(line + o, sizeof(line) - o, "%s%s:%" PRIu64,
					      o ? " " : "", strerrorname_np(e),
					      sh->counts[op][e]);
		printf("%-16s %8" PRIu64 " %8" PRIu64 " %7" PRIu64 "  %s\n",
		       op_names[op], n, ok, sh->ns[op] / n / 1000, line);
	}
	printf("rand_kiface: seed %" PRIu64 ": %" PRIu64 " operations (%" PRIu64
	       " results) in %.1f s, %" PRIu64 " unexpected\n", g_seed, sh->ops,
	       total, secs, sh->unexpected);
}

/* As nobody with RLIMIT_MEMLOCK @bytes: nobody's locked_vm must be 0. */
static int probe_locked(uint64_t bytes)
{
	struct rlimit rl = { bytes, bytes };
	struct rdmig_create_region c = { .size = sizeof(c), .length = bytes };
	int dev = open("/dev/rdmig", O_RDWR | O_CLOEXEC), fd;

	if (dev < 0 || setrlimit(RLIMIT_MEMLOCK, &rl) || setgroups(0, NULL) ||
	    setgid(NOBODY) || setuid(NOBODY)) {
		perror("rand_kiface --probe-locked");
		return 2;
	}
	fd = ioctl(dev, RDMIG_CREATE_REGION, &c);
	if (fd < 0) {
		printf("a region of %" PRIu64 " bytes does not fit: nobody's locked_vm is not back to 0 (%s)\n",
		       bytes, strerror(errno));
		return 1;
	}
	close(fd);
	c.length = bytes + PG;
	c.out_fd = 0;
	c.out_region_id = 0;
	fd = ioctl(dev, RDMIG_CREATE_REGION, &c);
	if (fd >= 0 || errno != ENOMEM) {
		printf("a region of %" PRIu64 " bytes over the limit: %s\n",
		       bytes + PG, fd >= 0 ? "created" : strerror(errno));
		return 1;
	}
	printf("nobody's locked_vm is 0: %" PRIu64 " bytes fit, one page more is ENOMEM\n",
	       bytes);
	return 0;
}

struct owner_reply {
	bool got;
	uint32_t pid;
};

static int owner_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[RDMIG_A_MAX + 1];
	struct owner_reply *o = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, RDMIG_A_MAX, NULL) ||
	    !tb[RDMIG_A_REGION_OWNER_PID])
		return NL_SKIP;
	o->pid = nla_get_u32(tb[RDMIG_A_REGION_OWNER_PID]);
	o->got = true;
	return NL_OK;
}

/*
 * A region whose creator exited, held by the creator's child, while a new
 * process has the creator's pid number (ns_last_pid): region-owner-pid
 * must say 0 (not visible), not name the unrelated new process.
 */
static int owner_reuse(void)
{
	struct owner_reply o = { 0 };
	int pfd[2], hold[2], tries, fd, family;
	struct nl_sock *nl;
	struct nl_msg *msg;
	pid_t c, d = -1;
	uint32_t id = 0;
	char buf[32];

	if (pipe(pfd) || pipe(hold))
		return 2;
	c = fork();
	if (c == 0) {
		struct rdmig_create_region cr = { .size = sizeof(cr),
						  .length = 4 * PG };
		int dev = open("/dev/rdmig", O_RDWR);

		fd = ioctl(dev, RDMIG_CREATE_REGION, &cr);
		if (fd < 0)
			_exit(2);
		/* the grandchild keeps the region after its creator exits */
		if (fork() == 0) {
			close(hold[1]);
			if (write(pfd[1], &cr.out_region_id, 4) != 4 ||
			    read(hold[0], buf, 1) < 0)
				_exit(1);
			_exit(0);
		}
		_exit(0);
	}
	if (c < 0 || read(pfd[0], &id, 4) != 4 || waitpid(c, NULL, 0) != c) {
		printf("owner-reuse: set-up failed\n");
		return 2;
	}
	for (tries = 0; tries < 20; tries++) {
		fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);
		snprintf(buf, sizeof(buf), "%d", c - 1);
		if (fd < 0 || write(fd, buf, strlen(buf)) < 0) {
			printf("owner-reuse: ns_last_pid: %s\n", strerror(errno));
			return 2;
		}
		close(fd);
		d = fork();
		if (d == 0) {
			close(hold[1]);
			if (read(hold[0], buf, 1) < 0)
				_exit(1);
			_exit(0);
		}
		if (d == c)
			break;
		kill(d, SIGKILL);
		waitpid(d, NULL, 0);
		d = -1;
	}
	if (d < 0) {
		printf("owner-reuse: could not get pid %d again\n", c);
		return 2;
	}
	nl = nl_socket_alloc();
	if (!nl || genl_connect(nl))
		return 2;
	family = genl_ctrl_resolve(nl, RDMIG_GENL_NAME);
	msg = nlmsg_alloc();
	genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0,
		    RDMIG_CMD_REGION_GET, RDMIG_GENL_VERSION);
	nla_put_u32(msg, RDMIG_A_REGION_ID, id);
	nl_socket_modify_cb(nl, NL_CB_VALID, NL_CB_CUSTOM, owner_cb, &o);
	if (nl_send_auto(nl, msg) < 0 || nl_wait_for_ack(nl) < 0 || !o.got) {
		printf("owner-reuse: REGION_GET %u failed\n", id);
		return 2;
	}
	nlmsg_free(msg);
	nl_socket_free(nl);
	close(hold[1]);		/* the holders exit */
	while (wait(NULL) > 0)
		;
	printf("owner-reuse: region %u created by %d (exited); pid %d is now an unrelated process; region-owner-pid %u\n",
	       id, c, d, o.pid);
	return o.pid == 0 ? 0 : 1;
}

static volatile sig_atomic_t g_alarm;

static void on_alarm(int sig)
{
	(void)sig;
	g_alarm = 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: rand_kiface --seed S [--duration SEC] [--procs P] [--threads T]\n"
		"       rand_kiface --seed S --ops N\n"
		"       rand_kiface --probe-locked BYTES\n"
		"       rand_kiface --owner-reuse\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = sig_handler,
				.sa_flags = SA_SIGINFO | SA_NODEFER };
	pthread_barrierattr_t ba;
	pid_t pids[MAXPROCS];
	double duration = 5, t0;
	int left;
	bool have_seed = false;
	int i, st, rc = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			g_seed = strtoull(argv[++i], NULL, 0);
			have_seed = true;
		} else if (!strcmp(argv[i], "--duration") && i + 1 < argc) {
			duration = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--ops") && i + 1 < argc) {
			g_ops = strtoull(argv[++i], NULL, 0);
			g_single = true;
		} else if (!strcmp(argv[i], "--procs") && i + 1 < argc) {
			g_nprocs = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
			g_nthreads = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--owner-reuse")) {
			return owner_reuse();
		} else if (!strcmp(argv[i], "--probe-locked") && i + 1 < argc) {
			return probe_locked(strtoull(argv[i + 1], NULL, 0));
		} else {
			usage();
		}
	}
	if (!have_seed || g_nprocs < 1 || g_nprocs > MAXPROCS ||
	    g_nthreads < 1 || g_nthreads > MAXTHREADS)
		usage();
	for (i = 0; i < NOPS; i++)
		weight_total += op_weights[i];
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("rand_kiface: mmap");
		return 2;
	}
	if (g_single)
		printf("rand_kiface: seed %" PRIu64 ", %" PRIu64 " operations in one thread\n",
		       g_seed, g_ops);
	else
		printf("rand_kiface: seed %" PRIu64 ", %d processes x %d threads for %.1f s\n",
		       g_seed, g_nprocs, g_nthreads, duration);
	printf("rand_kiface: reproduce with --seed %" PRIu64 " --ops N (one thread)\n",
	       g_seed);
	fflush(stdout);
	t0 = now();
	g_deadline = t0 + duration;
	if (g_single) {
		rc = worker(0, true);
		summary(now() - t0);
		return rc || sh->unexpected ? 1 : 0;
	}

	pthread_barrierattr_init(&ba);
	pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
	pthread_barrier_init(&sh->bar, &ba, g_nprocs);
	for (i = 0; i < g_nprocs; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(worker(i, i != 1));
		if (pids[i] < 0) {
			perror("rand_kiface: fork");
			return 2;
		}
	}
	/*
	 * A worker that dies leaves the others waiting at the barrier, and
	 * one stuck in the kernel never ends: both end the run.
	 */
	sa.sa_handler = on_alarm;
	sa.sa_flags = 0;
	sigaction(SIGALRM, &sa, NULL);
	alarm((unsigned int)duration + 120);
	for (left = g_nprocs; left > 0;) {
		pid_t pid = waitpid(-1, &st, 0);

		if (pid < 0 && errno == EINTR && g_alarm) {
			printf("rand_kiface: workers still running %.0f s after the end: stuck\n",
			       now() - g_deadline);
			for (i = 0; i < g_nprocs; i++)
				if (pids[i])
					kill(pids[i], SIGKILL);
			rc = 1;
			g_alarm = 0;
			continue;
		}
		if (pid < 0)
			break;
		for (i = 0; i < g_nprocs; i++)
			if (pids[i] == pid)
				break;
		if (i == g_nprocs)
			continue;
		pids[i] = 0;
		left--;
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			printf("rand_kiface: worker %d ended with status %#x%s\n",
			       i, st, left ? ": stopping the others" : "");
			rc = 1;
			for (i = 0; i < g_nprocs; i++)
				if (pids[i])
					kill(pids[i], SIGKILL);
		}
	}
	summary(now() - t0);
	return rc || sh->unexpected ? 1 : 0;
}
