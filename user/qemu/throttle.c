// SPDX-License-Identifier: GPL-2.0
/*
 * Throttling QEMU's vCPU threads with cgroup v2 CPU limits: the layout, the
 * schedule and what is required are in throttle.h.
 */
#include "throttle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/util.h"

/* More than any QEMU machine takes; keeps the names and loops bounded. */
#define THROTTLE_MAX_VCPUS	16384
/* The kernel's bounds for a CFS bandwidth period. */
#define THROTTLE_MAX_PERIOD_US	1000000

struct throttle {
	pid_t pid;
	unsigned int n;		/* distinct vCPU threads, one cgroup each */
	unsigned int leaves;	/* vcpuK cgroups created so far */
	pid_t *tids;
	char *base;		/* filesystem paths */
	char *orig;		/* QEMU's cgroup before us */
	char *dom;		/* BASE/rdmig-throttle.PID */
	char *vcpus;		/* where the vcpuK cgroups are */
	char *home;		/* where the vCPU threads go back to */
	bool in_place;		/* QEMU stays in BASE (see layout()) */
	bool dom_made;
	bool added_cpu;		/* we added +cpu to BASE/cgroup.subtree_control */
	unsigned int pct;
};

unsigned int throttle_next_pct(unsigned int pct, bool hint)
{
	if (pct > THROTTLE_MAX_PCT)
		pct = THROTTLE_MAX_PCT;
	if (!hint)
		return pct;
	if (!pct)
		return THROTTLE_INITIAL_PCT;
	pct += THROTTLE_INCREMENT_PCT;
	return pct > THROTTLE_MAX_PCT ? THROTTLE_MAX_PCT : pct;
}

int throttle_format_max(char *buf, size_t len, unsigned int pct, unsigned int period_us)
{
	uint64_t quota;
	int w;

	if (pct > THROTTLE_MAX_PCT || period_us < THROTTLE_MIN_QUOTA_US ||
	    period_us > THROTTLE_MAX_PERIOD_US)
		return -EINVAL;
	if (!pct) {
		w = snprintf(buf, len, "max %u", period_us);
	} else {
		/* Runs (100 - pct) % of each period, as QEMU's throttle lets it. */
		quota = (uint64_t)period_us * (100 - pct) / 100;
		if (quota < THROTTLE_MIN_QUOTA_US)
			quota = THROTTLE_MIN_QUOTA_US;
		w = snprintf(buf, len, "%" PRIu64 " %u", quota, period_us);
	}
	if (w < 0)
		return -EINVAL;
	if ((size_t)w >= len)
		return -ENOSPC;
	return w;
}

/* What to do about a permission error, appended to its message. */
static const char *perm_hint(int e)
{
	if (e == EACCES || e == EPERM)
		return " (run as root, or give a --cgroup base delegated to this user: "
		       "Documentation/qemu-throttle.md)";
	return "";
}

static char *path_join(const char *a, const char *b)
{
	char *p;

	if (asprintf(&p, "%s/%s", a, b) < 0)
		return NULL;
	return p;
}

/* Writes @s to cgroup file @dir/@name in one write(): 0 or -errno. */
static int cg_write(const char *dir, const char *name, const char *s)
{
	char path[4096];
	size_t len = strlen(s);
	ssize_t w;
	int fd, e;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	w = write(fd, s, len);
	e = errno;
	close(fd);
	if (w < 0)
		return -e;
	return (size_t)w == len ? 0 : -EIO;
}

/* Reads file @path (NUL-terminated, truncated to @len - 1): length or -errno. */
static ssize_t read_text(const char *path, char *buf, size_t len)
{
	ssize_t r, off = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((size_t)off < len - 1) {
		r = read(fd, buf + off, len - 1 - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			close(fd);
			return r;
		}
		if (!r)
			break;
		off += r;
	}
	close(fd);
	buf[off] = '\0';
	return off;
}

static ssize_t cg_read(const char *dir, const char *name, char *buf, size_t len)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	return read_text(path, buf, len);
}

/* Whether word @w is in the space-separated list @list. */
static bool has_word(const char *list, const char *w)
{
	size_t n = strlen(w);
	const char *p = list;

	while ((p = strstr(p, w))) {
		if ((p == list || p[-1] == ' ' || p[-1] == '\n') &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
			return true;
		p += n;
	}
	return false;
}

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

/*
 * The cgroup2 mount: its mount point and the hierarchy path it shows (its
 * root, "/" unless a cgroup namespace or a bind mount says otherwise).
 * /sys/fs/cgroup is preferred when there are several.
 */
static int find_cgroup2(char **mnt, char **root)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int ret = -ENOENT;

	*mnt = *root = NULL;
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char *sep = strstr(line, " - "), *fld[5], *save = NULL, *p;
		char fstype[64];
		int i;

		if (!sep || sscanf(sep + 3, "%63s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		*sep = '\0';
		for (i = 0, p = strtok_r(line, " ", &save); p && i < 5;
		     p = strtok_r(NULL, " ", &save))
			fld[i++] = p;
		if (i < 5)
			continue;
		unescape(fld[3]);
		unescape(fld[4]);
		if (*mnt && strcmp(fld[4], "/sys/fs/cgroup"))
			continue;
		free(*mnt);
		free(*root);
		*mnt = strdup(fld[4]);
		*root = strdup(fld[3]);
		if (!*mnt || !*root) {
			ret = -ENOMEM;
			break;
		}
		ret = 0;
	}
	free(line);
	fclose(f);
	if (ret) {
		free(*mnt);
		free(*root);
		*mnt = *root = NULL;
	}
	return ret;
}

/* Filesystem path of cgroup @cg (as /proc/PID/cgroup shows it). */
static char *cg_fspath(const char *mnt, const char *root, const char *cg)
{
	size_t rl = strlen(root);
	char *p;

	if (strcmp(root, "/") && !strncmp(cg, root, rl) && (cg[rl] == '/' || !cg[rl]))
		cg += rl;
	while (*cg == '/')
		cg++;
	if (asprintf(&p, "%s%s%s", mnt, *cg ? "/" : "", cg) < 0)
		return NULL;
	return p;
}

/* The cgroup v2 path of @pid ("self" when 0): malloc'd, or NULL with errno. */
static char *cg_of(pid_t pid)
{
	char path[64], *line = NULL, *ret = NULL;
	size_t cap = 0;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/cgroup");
	f = fopen(path, "re");
	if (!f)
		return NULL;
	errno = 0;
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		ret = strdup(line + 3);
		break;
	}
	free(line);
	fclose(f);
	if (!ret && !errno)
		errno = ENOENT;
	return ret;
}

/* Whether @dir is @anc or below it. */
static bool path_under(const char *dir, const char *anc)
{
	size_t n = strlen(anc);

	return !strncmp(dir, anc, n) && (dir[n] == '/' || !dir[n]);
}

/* Removes directory @path and the (empty) cgroups below it. */
static int rmdir_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int ret = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		char *sub;

		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		sub = path_join(path, e->d_name);
		if (!sub) {
			ret = -ENOMEM;
			continue;
		}
		if (rmdir_tree(sub) && !ret)
			ret = -errno;
		free(sub);
	}
	closedir(d);
	if (rmdir(path) && errno != ENOENT) {
		if (!ret)
			ret = -errno;
		return ret;
	}
	return ret;
}

/* Moves every task listed in @from/@list ("cgroup.threads" or "cgroup.procs") to @to. */
static int move_all(const char *from, const char *list, const char *to)
{
	char buf[65536], *p, *end;
	int ret = 0, r;
	ssize_t len = cg_read(from, list, buf, sizeof(buf));

	if (len < 0)
		return len == -ENOENT ? 0 : (int)len;
	for (p = buf; *p; p = end) {
		long id = strtol(p, &end, 10);
		char num[32];

		if (end == p)
			break;
		/* One id per write: the kernel takes exactly one. */
		snprintf(num, sizeof(num), "%ld", id);
		r = cg_write(to, list, num);
		/* A task that exited meanwhile is not in the way. */
		if (r && r != -ESRCH && !ret)
			ret = r;
		while (*end == '\n')
			end++;
	}
	return ret;
}

static char *leaf_path(const struct throttle *t, unsigned int k)
{
	char *p;

	if (asprintf(&p, "%s/vcpu%u", t->vcpus, k) < 0)
		return NULL;
	return p;
}

static int cg_populated(const char *dir)
{
	char buf[256], *p;
	ssize_t r = cg_read(dir, "cgroup.events", buf, sizeof(buf));

	if (r < 0)
		return (int)r;
	p = strstr(buf, "populated ");
	return p ? p[10] == '1' : -EIO;
}

/*
 * Puts everything back as it was, from whatever state throttle_new()
 * reached: the limits off first (so a thread that cannot be moved at
 * least runs free), vCPU threads back into the domain, the leaves gone,
 * QEMU's processes back into its cgroup, the domain gone.
 */
static void restore(struct throttle *t, bool quiet)
{
	char max[32];
	unsigned int k;
	int r;

	if (!t->dom_made)
		goto base;
	throttle_format_max(max, sizeof(max), 0, THROTTLE_PERIOD_US);
	for (k = 0; k < t->leaves; k++) {
		char *leaf = leaf_path(t, k);

		if (!leaf)
			continue;
		cg_write(leaf, "cpu.max", max);
		r = move_all(leaf, "cgroup.threads", t->home);
		if (r && !quiet)
			fprintf(stderr, "throttle: cannot move the threads of %s back to %s: %s\n",
				leaf, t->home, strerror(-r));
		free(leaf);
	}
	if (!t->in_place) {
		r = move_all(t->dom, "cgroup.procs", t->orig);
		if (r == -ENOENT || r == -ENODEV) /* QEMU's cgroup went away: the next best */
			r = move_all(t->dom, "cgroup.procs", t->base);
		if (r && !quiet)
			fprintf(stderr, "throttle: cannot move process %d back to %s: %s\n",
				(int)t->pid, t->orig, strerror(-r));
	}
	r = rmdir_tree(t->dom);
	if (r && !quiet)
		fprintf(stderr, "throttle: cannot remove %s: %s\n", t->dom, strerror(-r));
	t->dom_made = false;
	t->leaves = 0;
base:
	/*
	 * Only if we enabled it: another user of the controller below BASE
	 * (another rdmig-qemu) has it in its own subtree_control, so the
	 * kernel refuses with EBUSY and it stays.
	 */
	if (t->added_cpu) {
		r = cg_write(t->base, "cgroup.subtree_control", "-cpu");
		if (r && r != -EBUSY && !quiet)
			fprintf(stderr, "throttle: cannot disable the cpu controller in %s: %s\n",
				t->base, strerror(-r));
		t->added_cpu = false;
	}
}

static void destroy(struct throttle *t)
{
	free(t->tids);
	free(t->base);
	free(t->orig);
	free(t->dom);
	free(t->vcpus);
	free(t->home);
	free(t);
}

/* The thread group id of @pid, or -errno. */
static int tgid_of(pid_t pid)
{
	char path[64], buf[4096], *p;
	ssize_t r;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	r = read_text(path, buf, sizeof(buf));
	if (r < 0)
		return (int)r;
	p = strstr(buf, "\nTgid:");
	return p ? atoi(p + 6) : -EIO;
}

static bool is_thread_of(pid_t pid, pid_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)pid, (int)tid);
	return access(path, F_OK) == 0;
}

/* Checks the input and collects the distinct vCPU threads. */
static int check_input(struct throttle *t, pid_t pid, const pid_t *tids, unsigned int n,
		       char *err, size_t errlen)
{
	unsigned int i, j;
	int g;

	if (pid <= 0) {
		rdmig_seterr(err, errlen, "invalid QEMU pid %d", (int)pid);
		return -EINVAL;
	}
	if (!tids || !n || n > THROTTLE_MAX_VCPUS) {
		rdmig_seterr(err, errlen, "invalid vCPU thread count %u (1 to %u)", n, THROTTLE_MAX_VCPUS);
		return -EINVAL;
	}
	g = tgid_of(pid);
	if (g < 0) {
		if (g == -ENOENT || g == -ESRCH)
			rdmig_seterr(err, errlen, "no process %d", (int)pid);
		else
			rdmig_seterr(err, errlen, "cannot read /proc/%d/status: %s", (int)pid, strerror(-g));
		return g == -ENOENT ? -ESRCH : g;
	}
	if (g != pid) {
		rdmig_seterr(err, errlen, "%d is a thread of process %d, not a process", (int)pid, g);
		return -EINVAL;
	}
	t->tids = calloc(n, sizeof(*t->tids));
	if (!t->tids) {
		rdmig_seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (tids[i] <= 0 || !is_thread_of(pid, tids[i])) {
			rdmig_seterr(err, errlen, "%d is not a thread of process %d", (int)tids[i], (int)pid);
			return -EINVAL;
		}
		for (j = 0; j < t->n && t->tids[j] != tids[i]; j++)
			;
		if (j == t->n)
			t->tids[t->n++] = tids[i];
	}
	t->pid = pid;
	return 0;
}

/* Finds BASE and QEMU's cgroup and checks that the layout can go there. */
static int find_cgroups(struct throttle *t, const char *base, char *err, size_t errlen)
{
	char *mnt = NULL, *root = NULL, *cg = NULL, buf[512], *p;
	ssize_t r;
	int ret;

	ret = find_cgroup2(&mnt, &root);
	if (ret) {
		rdmig_seterr(err, errlen, ret == -ENOENT ?
		     "cgroup v2 is not mounted (no cgroup2 in /proc/self/mountinfo: a cgroup v1 "
		     "system? boot with systemd.unified_cgroup_hierarchy=1, or mount -t cgroup2 "
		     "none /sys/fs/cgroup)" : "cannot read /proc/self/mountinfo: %s",
		     strerror(-ret));
		goto out;
	}
	r = cg_read(mnt, "cgroup.controllers", buf, sizeof(buf));
	if (r < 0 || !has_word(buf, "cpu")) {
		rdmig_seterr(err, errlen, "the cpu controller is not available on cgroup v2 (%s/cgroup."
		     "controllers: %s): bound to a cgroup v1 hierarchy, or disabled at boot "
		     "(cgroup_disable=cpu)", mnt, r < 0 ? strerror((int)-r) : buf);
		ret = -EOPNOTSUPP;
		goto out;
	}

	/* BASE: the caller's own cgroup, or what it was given. */
	if (!base) {
		cg = cg_of(0);
		if (!cg) {
			ret = -errno;
			rdmig_seterr(err, errlen, "cannot find our own cgroup v2 in /proc/self/cgroup: %s",
			     strerror(errno));
			goto out;
		}
		t->base = cg_fspath(mnt, root, cg);
		free(cg);
		cg = NULL;
	} else if (path_under(base, mnt)) {
		t->base = strdup(base);
	} else {
		t->base = cg_fspath(mnt, root, base);
	}
	if (!t->base) {
		ret = -ENOMEM;
		rdmig_seterr(err, errlen, "out of memory");
		goto out;
	}
	/* Normalize: trailing slashes would defeat the "QEMU is below BASE" test. */
	for (p = t->base + strlen(t->base); p > t->base + 1 && p[-1] == '/'; p--)
		p[-1] = '\0';
	r = cg_read(t->base, "cgroup.controllers", buf, sizeof(buf));
	if (r < 0) {
		ret = (int)r;
		rdmig_seterr(err, errlen, "%s is not a cgroup v2 directory: %s", t->base, strerror((int)-r));
		goto out;
	}
	if (!has_word(buf, "cpu")) {
		rdmig_seterr(err, errlen, "the cpu controller is not delegated to %s (its cgroup.controllers: "
		     "\"%.*s\"): enable it in the parent's cgroup.subtree_control (echo +cpu >%s/.."
		     "/cgroup.subtree_control, or systemd Delegate=cpu)", t->base,
		     (int)strcspn(buf, "\n"), buf, t->base);
		ret = -EOPNOTSUPP;
		goto out;
	}

	/* QEMU's cgroup. */
	cg = cg_of(t->pid);
	if (!cg) {
		ret = errno == ENOENT ? -ESRCH : -errno;
		rdmig_seterr(err, errlen, "cannot read the cgroup of process %d: %s", (int)t->pid,
		     strerror(errno));
		goto out;
	}
	t->orig = cg_fspath(mnt, root, cg);
	if (!t->orig) {
		ret = -ENOMEM;
		rdmig_seterr(err, errlen, "out of memory");
		goto out;
	}
	if (!path_under(t->orig, t->base)) {
		rdmig_seterr(err, errlen, "process %d is in cgroup %s, not in %s or below it: moving it "
		     "would take it out of its own cgroup's limits; give the cgroup it is in "
		     "(--cgroup %s)", (int)t->pid, t->orig, t->base, cg);
		ret = -EXDEV;
		goto out;
	}
	if (asprintf(&t->dom, "%s/rdmig-throttle.%d", t->base, (int)t->pid) < 0) {
		t->dom = NULL;
		ret = -ENOMEM;
		rdmig_seterr(err, errlen, "out of memory");
		goto out;
	}
	ret = 0;
out:
	free(cg);
	free(mnt);
	free(root);
	return ret;
}

/*
 * Which of the two layouts BASE allows. A non-root cgroup that has
 * processes of its own and the cpu controller enabled for its children is a
 * thread root (the no-internal-process rule): a domain below it is invalid.
 * So when BASE holds processes (rdmig-qemu's own cgroup: rdmig-qemu itself
 * and QEMU, its child), BASE itself becomes the threaded domain and QEMU
 * stays where it is: BASE/rdmig-throttle.PID is the threaded parent of the
 * vcpuK cgroups. Otherwise (the root, or a delegated BASE without processes
 * of its own, as systemd and libvirt arrange it) QEMU gets a domain of its
 * own, BASE/rdmig-throttle.PID, with vcpus/ below it.
 */
static int layout(struct throttle *t, char *err, size_t errlen)
{
	char buf[64], type[64];
	bool root = cg_read(t->base, "cgroup.type", type, sizeof(type)) == -ENOENT;
	ssize_t r = cg_read(t->base, "cgroup.procs", buf, sizeof(buf));

	if (r < 0) {
		rdmig_seterr(err, errlen, "cannot read %s/cgroup.procs: %s", t->base, strerror((int)-r));
		return (int)r;
	}
	t->in_place = !root && r > 0;
	/* The root cgroup has no cgroup.type: it is a domain. */
	r = cg_read(t->orig, "cgroup.type", type, sizeof(type));
	if (r >= 0 && strcmp(type, "domain\n") &&
	    !(t->in_place && !strcmp(type, "domain threaded\n"))) {
		rdmig_seterr(err, errlen, "process %d is in %s of type \"%.*s\": a threaded subtree someone "
		     "else manages (libvirt?); set cpu.max in its vCPU cgroups there instead",
		     (int)t->pid, t->orig, (int)strcspn(type, "\n"), type);
		return -EBUSY;
	}
	if (t->in_place && strcmp(t->orig, t->base)) {
		rdmig_seterr(err, errlen, "%s has processes of its own, and process %d is below it in %s: "
		     "give its own cgroup (--cgroup %s), or a base without processes",
		     t->base, (int)t->pid, t->orig, t->orig);
		return -EBUSY;
	}
	if (t->in_place) {
		t->vcpus = strdup(t->dom);
		t->home = strdup(t->base);
	} else {
		t->vcpus = path_join(t->dom, "vcpus");
		t->home = strdup(t->dom);
	}
	if (!t->vcpus || !t->home) {
		rdmig_seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* mkdir @path as a cgroup; a leftover of a run that died with no tasks in it is removed first. */
static int make_dom(struct throttle *t, char *err, size_t errlen)
{
	int r;

	if (!mkdir(t->dom, 0755))
		return 0;
	r = -errno;
	if (r == -EEXIST) {
		int pop = cg_populated(t->dom);

		if (pop == 0 && !rmdir_tree(t->dom) && !mkdir(t->dom, 0755))
			return 0;
		rdmig_seterr(err, errlen, "%s already exists%s: another rdmig-qemu throttles process %d, "
		     "or one was killed while it did (to release it: Documentation/"
		     "qemu-throttle.md, \"Left behind\")", t->dom,
		     pop > 0 ? " with processes in it" : "", (int)t->pid);
		return -EEXIST;
	}
	rdmig_seterr(err, errlen, "cannot create cgroup %s: %s%s", t->dom, strerror(-r), perm_hint(-r));
	return r;
}

/* Writes @s to @dir/@name, or says why not. */
static int must_write(const char *dir, const char *name, const char *s, char *err,
		      size_t errlen)
{
	int r = cg_write(dir, name, s);

	if (r)
		rdmig_seterr(err, errlen, "cannot write \"%s\" to %s/%s: %s%s", s, dir, name,
		     strerror(-r), perm_hint(-r));
	return r;
}

struct throttle *throttle_new_in(const char *base, pid_t pid, const pid_t *vcpu_tids,
				 unsigned int n, char *err, size_t errlen)
{
	struct throttle *t = calloc(1, sizeof(*t));
	char buf[512], num[32], *vcpus = NULL, *leaf = NULL;
	unsigned int k;
	ssize_t r;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!t) {
		rdmig_seterr(err, errlen, "out of memory");
		return NULL;
	}
	if (check_input(t, pid, vcpu_tids, n, err, errlen) ||
	    find_cgroups(t, base, err, errlen) || layout(t, err, errlen))
		goto fail;

	/* cpu for BASE's children, unless someone already enabled it. */
	r = cg_read(t->base, "cgroup.subtree_control", buf, sizeof(buf));
	if (r < 0) {
		rdmig_seterr(err, errlen, "cannot read %s/cgroup.subtree_control: %s", t->base,
		     strerror((int)-r));
		goto fail;
	}
	if (!has_word(buf, "cpu")) {
		ret = cg_write(t->base, "cgroup.subtree_control", "+cpu");
		if (ret) {
			rdmig_seterr(err, errlen, "cannot enable the cpu controller in %s/cgroup.subtree_control:"
			     " %s%s", t->base, strerror(-ret), ret == -EBUSY ?
			     " (it has processes and domain children: give a --cgroup base without "
			     "processes of its own)" : perm_hint(-ret));
			goto fail;
		}
		t->added_cpu = true;
	}

	if (make_dom(t, err, errlen))
		goto fail;
	t->dom_made = true;
	vcpus = t->vcpus;
	if (!t->in_place) {
		if (must_write(t->dom, "cgroup.subtree_control", "+cpu", err, errlen))
			goto fail;
		if (mkdir(vcpus, 0755)) {
			ret = errno;
			rdmig_seterr(err, errlen, "cannot create cgroup %s: %s%s", vcpus, strerror(ret),
			     perm_hint(ret));
			goto fail;
		}
	}
	/*
	 * Makes the domain (BASE when in place) "domain threaded"; for a
	 * domain of our own, before any process is in it.
	 */
	if (must_write(vcpus, "cgroup.type", "threaded", err, errlen))
		goto fail;
	snprintf(num, sizeof(num), "%u", t->n * 100 > 10000 ? 10000 : t->n * 100);
	if (must_write(vcpus, "cpu.weight", num, err, errlen) ||
	    must_write(vcpus, "cgroup.subtree_control", "+cpu", err, errlen))
		goto fail;
	for (k = 0; k < t->n; k++) {
		leaf = leaf_path(t, k);
		if (!leaf) {
			rdmig_seterr(err, errlen, "out of memory");
			goto fail;
		}
		if (mkdir(leaf, 0755)) {
			ret = errno;
			rdmig_seterr(err, errlen, "cannot create cgroup %s: %s%s", leaf, strerror(ret),
			     perm_hint(ret));
			goto fail;
		}
		t->leaves++;
		if (must_write(leaf, "cgroup.type", "threaded", err, errlen))
			goto fail;
		free(leaf);
		leaf = NULL;
	}

	/* Now QEMU: the whole process into the domain, then each vCPU thread into its own. */
	snprintf(num, sizeof(num), "%d", (int)t->pid);
	ret = t->in_place ? 0 : cg_write(t->dom, "cgroup.procs", num);
	if (ret) {
		rdmig_seterr(err, errlen, ret == -ESRCH ? "process %d has exited" :
		     "cannot move process %d into %s: %s%s", (int)t->pid, t->dom, strerror(-ret),
		     ret == -EACCES ? " (run as root, or give a --cgroup base delegated to this "
		     "user that holds the process: Documentation/qemu-throttle.md)" :
		     perm_hint(-ret));
		goto fail;
	}
	/* The kernel skips a process that is exiting (a zombie) without an error. */
	if (!t->in_place && cg_populated(t->dom) != 1) {
		rdmig_seterr(err, errlen, "process %d has exited", (int)t->pid);
		goto fail;
	}
	for (k = 0; k < t->n; k++) {
		leaf = leaf_path(t, k);
		if (!leaf) {
			rdmig_seterr(err, errlen, "out of memory");
			goto fail;
		}
		snprintf(num, sizeof(num), "%d", (int)t->tids[k]);
		ret = cg_write(leaf, "cgroup.threads", num);
		/*
		 * A tid that meanwhile became another process's is refused as
		 * foreign; an exiting thread is skipped silently.
		 */
		if (!ret && (!is_thread_of(t->pid, t->tids[k]) || cg_populated(leaf) != 1))
			ret = -ESRCH;
		if (ret) {
			rdmig_seterr(err, errlen, ret == -ESRCH ? "thread %d of process %d has exited" :
			     "cannot move thread %d of process %d into %s: %s%s",
			     (int)t->tids[k], (int)t->pid, leaf, strerror(-ret), perm_hint(-ret));
			goto fail;
		}
		free(leaf);
		leaf = NULL;
	}
	return t;

fail:
	free(leaf);
	restore(t, true);
	destroy(t);
	return NULL;
}

struct throttle *throttle_new(pid_t pid, const pid_t *vcpu_tids, unsigned int n, char *err,
			      size_t errlen)
{
	return throttle_new_in(NULL, pid, vcpu_tids, n, err, errlen);
}

static int set_all(struct throttle *t, unsigned int pct)
{
	char max[32];
	unsigned int k;
	int r = throttle_format_max(max, sizeof(max), pct, THROTTLE_PERIOD_US);

	if (r < 0)
		return r;
	for (k = 0; k < t->leaves; k++) {
		char *leaf = leaf_path(t, k);

		if (!leaf)
			return -ENOMEM;
		r = cg_write(leaf, "cpu.max", max);
		free(leaf);
		if (r)
			return r;
	}
	return 0;
}

int throttle_on_hint(struct throttle *t, bool hint)
{
	unsigned int next;
	int r;

	if (!t)
		return -EINVAL;
	/* QEMU gone (its threads left the domain as they exited). */
	r = cg_populated(t->dom);
	if (r <= 0)
		return r ? r : -ESRCH;
	next = throttle_next_pct(t->pct, hint);
	if (next == t->pct)
		return (int)next;
	r = set_all(t, next);
	if (r) {
		/* All vCPUs at one percentage: those already written go back. */
		set_all(t, t->pct);
		return r;
	}
	t->pct = next;
	return (int)next;
}

unsigned int throttle_pct(const struct throttle *t)
{
	return t ? t->pct : 0;
}

void throttle_free(struct throttle *t)
{
	if (!t)
		return;
	restore(t, false);
	destroy(t);
}
