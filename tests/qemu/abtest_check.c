// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * abtest_check: checks the RAM of the QEMU test guest (tests/qemu/abtest.S)
 * from outside, through the files that hold it: a memory-backend-file's
 * /dev/shm file, an rdmig region reopened through /proc/PID/fd/N, any file
 * whose offset o is guest-physical address base + o. Several files are
 * joined in guest-physical order (one per memory backend, as QEMU lays
 * them out for -numa node,memdev=). The consistency rule is rdmig-vmm's
 * (user/vmm/abtest.c, abtest_scan): one implementation.
 *
 *   abtest_check consistent [--at GPA --value V] FILE...
 *       the abtest rule holds over [skip, top); with --at (the guest's EBX
 *       from "info registers") and --value (its CL), the loop was exactly
 *       there: pages below GPA hold V, pages from GPA on hold V - 1.
 *   abtest_check moving [--ms N] FILE...
 *       two snapshots N ms apart, each consistent, and the guest went on:
 *       some pages changed, each by one, in one run that starts where the
 *       first snapshot's loop was (or every page changed: a whole pass).
 *   abtest_check idle [--ms N] FILE...
 *       two snapshots N ms apart, and no page's first byte changed.
 *   abtest_check equal FILE... -- FILE...
 *       the two sets hold the same bytes over [skip, top), every byte of
 *       every page (a paused source against its destination).
 *
 * Options: --skip BYTES (default 1 MiB: firmware, stack and IDT live there
 * and change), --top BYTES (default: the files' total size), --mmap (map
 * the files read-only and shared instead of pread()), --tries N (a running
 * guest: take a snapshot that breaks the rule again, up to N times in all;
 * default 1 in consistent mode, 3 in moving mode; see snapshot()).
 *
 * Prints one JSON object on stdout; exits 0 when the check held, 1 when it
 * did not (the JSON's "result" and "why" say how), 2 on a usage or I/O
 * error (a message on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../../user/vmm/vmm.h"

#define PG ((uint64_t)4096)
#define MAX_FILES 16

struct ramfile {
	const char *path;
	int fd;
	uint64_t size;
	uint8_t *map;	/* with --mmap */
};

struct ramset {
	unsigned int nr;
	struct ramfile f[MAX_FILES];
	uint64_t total;
};

static bool use_mmap;
static uint64_t skip = 1ULL << 20, top;

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("abtest_check: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void ramset_add(struct ramset *s, const char *path)
{
	struct ramfile *f;
	struct stat st;

	if (s->nr == MAX_FILES)
		die("more than %d files", MAX_FILES);
	f = &s->f[s->nr];
	f->path = path;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		die("open %s: %s", path, strerror(errno));
	if (fstat(f->fd, &st) < 0)
		die("fstat %s: %s", path, strerror(errno));
	if (st.st_size <= 0 || st.st_size % PG)
		die("%s: size %lld is not a positive multiple of 4096 (not a RAM file?)",
		    path, (long long)st.st_size);
	f->size = st.st_size;
	if (use_mmap) {
		f->map = mmap(NULL, f->size, PROT_READ, MAP_SHARED, f->fd, 0);
		if (f->map == MAP_FAILED)
			die("mmap %s: %s", path, strerror(errno));
	}
	s->total += f->size;
	s->nr++;
}

/* The file and offset of guest-physical address @gpa. */
static struct ramfile *locate(struct ramset *s, uint64_t gpa, uint64_t *off)
{
	unsigned int i;

	for (i = 0; i < s->nr; i++) {
		if (gpa < s->f[i].size) {
			*off = gpa;
			return &s->f[i];
		}
		gpa -= s->f[i].size;
	}
	die("address beyond the files (internal error)");
	return NULL;
}

static void read_at(struct ramset *s, uint64_t gpa, void *buf, size_t len)
{
	uint64_t off;
	struct ramfile *f = locate(s, gpa, &off);
	ssize_t n;

	if (f->map) {
		memcpy(buf, f->map + off, len);
		return;
	}
	n = pread(f->fd, buf, len, off);
	if (n < 0)
		die("read %s at %#" PRIx64 ": %s", f->path, off, strerror(errno));
	if ((size_t)n != len)
		die("read %s at %#" PRIx64 ": short read (%zd of %zu)", f->path, off, n, len);
}

/*
 * The first byte of every page in [skip, top). Read from the top down: the
 * guest's loop goes up, so a reader going down crosses it exactly once and
 * sees one edge, the state at the crossing. Read upwards it could cross
 * the loop again whenever the loop's burst of pages after a timer tick
 * outran it, and show pages ahead of the edge already written: a snapshot
 * of a running guest would look broken when the guest is not.
 */
static void snapshot_into(struct ramset *s, uint64_t n, uint8_t *b)
{
	uint64_t i;

	for (i = n; i-- > 0;)
		read_at(s, skip + i * PG, &b[i], 1);
}

static unsigned int tries = 1;

/*
 * A running guest's snapshot that breaks the rule may be one taken while
 * the loop wrapped past the top (the reader saw the new pass at the bottom
 * and the old one at the top): take it again, up to --tries times. Only a
 * race can vanish that way: the guest increments, so a page that went
 * wrong stays wrong in every later snapshot.
 */
static uint8_t *snapshot(struct ramset *s, uint64_t n, struct abtest_result *r,
			 unsigned int *taken)
{
	uint8_t *b = malloc(n ? n : 1);
	unsigned int t;

	if (!b)
		die("out of memory");
	for (t = 1;; t++) {
		snapshot_into(s, n, b);
		if (abtest_scan(b, n, r) || t >= tries)
			break;
	}
	*taken = t;
	return b;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static json_object *scan_json(const struct abtest_result *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "pages", json_object_new_uint64(r->pages));
	json_object_object_add(o, "edges", json_object_new_uint64(r->edges));
	json_object_object_add(o, "edge_at", json_object_new_uint64(r->edge_at));
	json_object_object_add(o, "edge_gpa",
			       json_object_new_uint64(skip + r->edge_at * PG));
	json_object_object_add(o, "bad", json_object_new_uint64(r->bad));
	if (r->bad)
		json_object_object_add(o, "first_bad_gpa",
				       json_object_new_uint64(skip + r->first_bad * PG));
	return o;
}

static int finish(json_object *o, bool ok, const char *why)
{
	json_object_object_add(o, "result", json_object_new_string(ok ? "ok" : "fail"));
	if (!ok)
		json_object_object_add(o, "why", json_object_new_string(why));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return ok ? 0 : 1;
}

/* Where the loop is: the page it writes next (0 when all are equal). */
static uint64_t loop_pos(const struct abtest_result *r)
{
	return r->edges ? r->edge_at : 0;
}

static int do_consistent(struct ramset *s, uint64_t n, int64_t at, int value)
{
	struct abtest_result r;
	unsigned int taken;
	uint8_t *b = snapshot(s, n, &r, &taken);
	json_object *o = json_object_new_object();
	char why[160] = "";
	bool ok = r.bad == 0;

	json_object_object_add(o, "mode", json_object_new_string("consistent"));
	json_object_object_add(o, "snapshots", json_object_new_int(taken));
	json_object_object_add(o, "scan", scan_json(&r));
	json_object_object_add(o, "first_value", json_object_new_int(n ? b[0] : -1));
	if (!ok)
		snprintf(why, sizeof(why), "%" PRIu64 " page(s) break the abtest rule, the first at gpa %#" PRIx64
			 " (value %u)", r.bad, skip + r.first_bad * PG, b[r.first_bad]);
	if (ok && !n) {
		ok = false;
		snprintf(why, sizeof(why), "no page to check in [%#" PRIx64 ", %#" PRIx64 ")", skip, top);
	}
	if (ok && at >= 0) {
		struct abtest_result x;
		uint64_t pos = ((uint64_t)at - skip) / PG;
		uint64_t passes = (uint8_t)(value - 1);

		/* EBX == top: the pass just ended, every page holds V. */
		if ((uint64_t)at == top) {
			pos = n;
		}
		if ((uint64_t)at < skip || (uint64_t)at > top || at % PG) {
			ok = false;
			snprintf(why, sizeof(why), "--at %#" PRIx64 " is not a page in [%#" PRIx64 ", %#" PRIx64 "]",
				 (uint64_t)at, skip, top);
		} else if (!abtest_exact(b, n, pos, passes, &x)) {
			ok = false;
			snprintf(why, sizeof(why), "the loop was at gpa %#" PRIx64 " writing %d but %" PRIu64
				 " page(s) disagree, the first at gpa %#" PRIx64 " (value %u)",
				 (uint64_t)at, value, x.bad, skip + x.first_bad * PG,
				 x.first_bad < n ? b[x.first_bad] : 0);
		}
		json_object_object_add(o, "at", json_object_new_uint64(at));
		json_object_object_add(o, "value", json_object_new_int(value));
	}
	free(b);
	return finish(o, ok, why);
}

static int do_twice(struct ramset *s, uint64_t n, long ms, bool moving)
{
	struct abtest_result ra, rb;
	unsigned int ta, tb;
	uint8_t *a = snapshot(s, n, &ra, &ta), *b;
	json_object *o = json_object_new_object();
	uint64_t i, changed = 0, first_changed = 0, by_one = 0;
	bool oka, okb, ok = true;
	char why[200] = "";

	sleep_ms(ms);
	b = snapshot(s, n, &rb, &tb);
	oka = ra.bad == 0;
	okb = rb.bad == 0;
	for (i = 0; i < n; i++) {
		if (a[i] == b[i])
			continue;
		if (!changed)
			first_changed = i;
		changed++;
		if ((uint8_t)(a[i] + 1) == b[i])
			by_one++;
	}
	json_object_object_add(o, "mode", json_object_new_string(moving ? "moving" : "idle"));
	json_object_object_add(o, "ms", json_object_new_int64(ms));
	json_object_object_add(o, "pages", json_object_new_uint64(n));
	json_object_object_add(o, "changed", json_object_new_uint64(changed));
	json_object_object_add(o, "snapshots", json_object_new_int(ta + tb));
	if (!n) {
		ok = false;
		snprintf(why, sizeof(why), "no page to check in [%#" PRIx64 ", %#" PRIx64 ")", skip, top);
	} else if (!moving) {
		if (changed)
			snprintf(why, sizeof(why), "%" PRIu64 " page(s) changed in %ld ms, the first at gpa %#" PRIx64,
				 changed, ms, skip + first_changed * PG);
		ok = !changed;
	} else {
		uint64_t p0 = loop_pos(&ra), p1 = loop_pos(&rb);

		json_object_object_add(o, "first", scan_json(&ra));
		json_object_object_add(o, "second", scan_json(&rb));
		json_object_object_add(o, "pos_from_gpa", json_object_new_uint64(skip + p0 * PG));
		json_object_object_add(o, "pos_to_gpa", json_object_new_uint64(skip + p1 * PG));
		if (!oka || !okb) {
			ok = false;
			snprintf(why, sizeof(why), "the %s snapshot breaks the abtest rule (%" PRIu64
				 " bad page(s), the first at gpa %#" PRIx64 ")", oka ? "second" : "first",
				 oka ? rb.bad : ra.bad, skip + (oka ? rb.first_bad : ra.first_bad) * PG);
		} else if (!changed) {
			ok = false;
			snprintf(why, sizeof(why), "no page changed in %ld ms: the guest is not running", ms);
		} else if (changed < n) {
			/*
			 * Less than a pass: the pages the loop wrote since, one
			 * run from where it was (wrapping past the top), each
			 * one more than before.
			 */
			for (i = 0; i < changed && ok; i++) {
				uint64_t g = (p0 + i) % n;

				if ((uint8_t)(a[g] + 1) != b[g]) {
					ok = false;
					snprintf(why, sizeof(why), "page at gpa %#" PRIx64 " went from %u to %u: not the "
						 "next of a run of %" PRIu64 " from gpa %#" PRIx64 " (the loop's place)",
						 skip + g * PG, a[g], b[g], changed, skip + p0 * PG);
				}
			}
			if (ok && (p0 + changed) % n != p1) {
				ok = false;
				snprintf(why, sizeof(why), "%" PRIu64 " pages changed from gpa %#" PRIx64
					 " but the loop is now at gpa %#" PRIx64, changed, skip + p0 * PG, skip + p1 * PG);
			}
		}
		json_object_object_add(o, "changed_by_one", json_object_new_uint64(by_one));
	}
	free(a);
	free(b);
	return finish(o, ok, why);
}

static int do_equal(struct ramset *x, struct ramset *y)
{
	static uint8_t ba[1 << 20], bb[1 << 20];
	json_object *o = json_object_new_object();
	uint64_t g, diff = 0, first = 0, pages = 0;
	char why[160] = "";

	for (g = skip; g < top; g += PG) {
		read_at(x, g, ba, PG);
		read_at(y, g, bb, PG);
		pages++;
		if (memcmp(ba, bb, PG)) {
			if (!diff)
				first = g;
			diff++;
		}
	}
	json_object_object_add(o, "mode", json_object_new_string("equal"));
	json_object_object_add(o, "pages", json_object_new_uint64(pages));
	json_object_object_add(o, "differ", json_object_new_uint64(diff));
	if (diff) {
		json_object_object_add(o, "first_differ_gpa", json_object_new_uint64(first));
		snprintf(why, sizeof(why), "%" PRIu64 " of %" PRIu64 " page(s) differ, the first at gpa %#" PRIx64,
			 diff, pages, first);
	} else if (!pages) {
		snprintf(why, sizeof(why), "no page to compare in [%#" PRIx64 ", %#" PRIx64 ")", skip, top);
	}
	return finish(o, pages && !diff, why);
}

static uint64_t parse_u64(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-')
		die("%s: not a number: '%s'", opt, s);
	return v;
}

static void usage(void)
{
	fputs("usage: abtest_check consistent [--at GPA --value V] [OPTS] FILE...\n"
	      "       abtest_check moving|idle [--ms N] [OPTS] FILE...\n"
	      "       abtest_check equal [OPTS] FILE... -- FILE...\n"
	      "OPTS: --skip BYTES (default 1 MiB) --top BYTES (default: total size) --mmap\n"
	      "      --tries N (snapshots of a running guest that break the rule retaken)\n"
	      "exit: 0 the check held, 1 it did not (JSON \"why\"), 2 usage or I/O error\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "skip", required_argument, NULL, 's' },
		{ "top", required_argument, NULL, 't' },
		{ "ms", required_argument, NULL, 'm' },
		{ "at", required_argument, NULL, 'a' },
		{ "value", required_argument, NULL, 'v' },
		{ "mmap", no_argument, NULL, 'M' },
		{ "tries", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct ramset s1, s2;
	const char *mode;
	int64_t at = -1;
	int value = -1, c, i;
	long ms = 500;
	bool top_set = false, tries_set = false;
	uint64_t n;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	/* "+": stop at the first file, so "--" separates the equal mode's sets. */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 's': skip = parse_u64("--skip", optarg); break;
		case 't': top = parse_u64("--top", optarg); top_set = true; break;
		case 'm': ms = (long)parse_u64("--ms", optarg); break;
		case 'a': at = (int64_t)parse_u64("--at", optarg); break;
		case 'v': value = (int)parse_u64("--value", optarg); break;
		case 'M': use_mmap = true; break;
		case 'T':
			n = parse_u64("--tries", optarg);
			if (n < 1 || n > 100)
				die("--tries %s: 1 to 100", optarg);
			tries = (unsigned int)n;
			tries_set = true;
			break;
		default: usage();
		}
	}
	if (strcmp(mode, "consistent") && strcmp(mode, "moving") &&
	    strcmp(mode, "idle") && strcmp(mode, "equal"))
		die("unknown mode '%s' (consistent, moving, idle, equal)", mode);
	if ((at >= 0) != (value >= 0) || (at >= 0 && strcmp(mode, "consistent")))
		die("--at and --value go together, in consistent mode");
	if (value > 255)
		die("--value %d: a byte", value);
	for (i = optind; i < argc && strcmp(argv[i], "--"); i++)
		ramset_add(&s1, argv[i]);
	if (!strcmp(mode, "equal")) {
		if (i == argc)
			die("equal: two sets of files, separated by --");
		for (i++; i < argc; i++)
			ramset_add(&s2, argv[i]);
		if (!s2.nr)
			die("equal: no file after --");
	} else if (i < argc) {
		die("'--' only in equal mode");
	}
	if (!s1.nr)
		die("no RAM file given");
	if (!top_set)
		top = s1.total;
	if (top > s1.total || (s2.nr && top > s2.total))
		die("--top %#" PRIx64 " is beyond the files (%#" PRIx64 " bytes)", top,
		    s2.nr && s2.total < s1.total ? s2.total : s1.total);
	if (skip % PG || top % PG)
		die("--skip and --top must be multiples of 4096");
	if (!strcmp(mode, "equal") && s1.total != s2.total && !top_set)
		die("equal: the sets differ in size (%#" PRIx64 " and %#" PRIx64 " bytes)",
		    s1.total, s2.total);
	if (!tries_set && !strcmp(mode, "moving"))
		tries = 3;
	n = top > skip ? (top - skip) / PG : 0;
	if (!strcmp(mode, "consistent"))
		return do_consistent(&s1, n, at, value);
	if (!strcmp(mode, "equal"))
		return do_equal(&s1, &s2);
	return do_twice(&s1, n, ms, !strcmp(mode, "moving"));
}
