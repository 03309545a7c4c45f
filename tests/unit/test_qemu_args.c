// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmig-qemu's rewriting of a QEMU command line (user/qemu/args.c): each
 * memory backend onto a region fd, a backend created for -m alone, and
 * the refusals (Documentation/qemu.md, "What rdmig-qemu refuses").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../user/qemu/args.h"

static char err[512];

static int parse(struct qargs *q, const char **a, int n)
{
	err[0] = '\0';
	return qargs_parse(n, (char **)a, q, err, sizeof(err));
}

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* The rewritten command line as one string, arguments joined by '|'. */
static char *joined(const struct qargs *q, const int *fds, const char *const *extra)
{
	char **v = qargs_build(q, fds, extra);
	static char buf[4096];
	size_t i;

	assert_non_null(v);
	buf[0] = '\0';
	for (i = 0; v[i]; i++) {
		if (i)
			strcat(buf, "|");
		strcat(buf, v[i]);
	}
	qargs_argv_free(v);
	return buf;
}

static void sizes(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(qargs_parse_size("128", 20, &v), 0);
	assert_int_equal(v, 128ULL << 20);	/* -m: bare numbers are MiB */
	assert_int_equal(qargs_parse_size("4096", 0, &v), 0);
	assert_int_equal(v, 4096);		/* size=: bytes */
	assert_int_equal(qargs_parse_size("1G", 0, &v), 0);
	assert_int_equal(v, 1ULL << 30);
	assert_int_equal(qargs_parse_size("64m", 0, &v), 0);
	assert_int_equal(v, 64ULL << 20);
	assert_int_equal(qargs_parse_size("2GB", 0, &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(qargs_parse_size("512k", 0, &v), 0);
	assert_int_equal(v, 512ULL << 10);
	assert_int_equal(qargs_parse_size("8B", 20, &v), 0);
	assert_int_equal(v, 8);
	assert_int_equal(qargs_parse_size("", 0, &v), -1);
	assert_int_equal(qargs_parse_size("-1", 0, &v), -1);
	assert_int_equal(qargs_parse_size("1.5G", 0, &v), -1);
	assert_int_equal(qargs_parse_size("1X", 0, &v), -1);
	assert_int_equal(qargs_parse_size("1GG", 0, &v), -1);
	assert_int_equal(qargs_parse_size("99999999999T", 0, &v), -1);
}

static void m_alone(void **state)
{
	const char *a[] = { "qemu-system-x86_64", "-m", "64M", "-display", "none" };
	const char *extra[] = { "-S", NULL };
	struct qargs q;
	int fds[] = { 7 };

	(void)state;
	assert_int_equal(parse(&q, a, N(a)), 0);
	assert_int_equal(q.n, 1);
	assert_string_equal(q.b[0].id, QARGS_MAIN_ID);
	assert_int_equal(q.b[0].size, 64ULL << 20);
	assert_int_equal(q.b[0].argi, -1);
	assert_true(q.add_machine);
	assert_string_equal(joined(&q, fds, extra),
		"qemu-system-x86_64|-m|64M|-display|none"
		"|-object|memory-backend-file,id=rdmig-ram0,size=67108864,mem-path=/proc/self/fd/7,share=on"
		"|-machine|memory-backend=rdmig-ram0|-S");
	qargs_free(&q);
}

static void default_ram(void **state)
{
	const char *a[] = { "qemu-system-x86_64", "-nodefaults" };
	struct qargs q;

	(void)state;
	assert_int_equal(parse(&q, a, N(a)), 0);
	assert_int_equal(q.n, 1);
	assert_int_equal(q.b[0].size, 128ULL << 20);	/* QEMU's default */
	assert_false(q.has_m);
	qargs_free(&q);
}

static void m_forms(void **state)
{
	const char *a[] = { "qemu", "-m", "size=1G,slots=2,maxmem=4G" };
	const char *b[] = { "qemu", "--m", "256" };
	struct qargs q;

	(void)state;
	assert_int_equal(parse(&q, a, N(a)), 0);
	assert_int_equal(q.b[0].size, 1ULL << 30);
	qargs_free(&q);
	assert_int_equal(parse(&q, b, N(b)), 0);
	assert_int_equal(q.b[0].size, 256ULL << 20);
	qargs_free(&q);
}

static void two_backends(void **state)
{
	const char *a[] = {
		"qemu", "-m", "96M",
		"-object", "memory-backend-ram,id=m0,size=48M",
		"-object", "memory-backend-file,id=m1,size=48M,share=on,host-nodes=0,policy=bind",
		"-numa", "node,memdev=m0", "-numa", "node,memdev=m1",
	};
	struct qargs q;
	int fds[] = { 5, 9 };

	(void)state;
	assert_int_equal(parse(&q, a, N(a)), 0);
	assert_int_equal(q.n, 2);
	assert_false(q.add_machine);	/* -numa memdev= holds the RAM */
	assert_string_equal(q.b[0].id, "m0");
	assert_string_equal(q.b[1].id, "m1");
	assert_string_equal(joined(&q, fds, NULL),
		"qemu|-m|96M"
		"|-object|memory-backend-file,id=m0,size=50331648,mem-path=/proc/self/fd/5,share=on"
		"|-object|memory-backend-file,id=m1,size=50331648,mem-path=/proc/self/fd/9,share=on,host-nodes=0,policy=bind"
		"|-numa|node,memdev=m0|-numa|node,memdev=m1");
	qargs_free(&q);
}

static void machine_backend(void **state)
{
	const char *a[] = {
		"qemu", "-M", "pc,memory-backend=ram,accel=tcg",
		"--object", "qom-type=memory-backend-memfd,id=ram,size=64M,seal=on",
		"-object", "iothread,id=io0", "disk.img",
	};
	struct qargs q;
	int fds[] = { 3 };

	(void)state;
	assert_int_equal(parse(&q, a, N(a)), 0);
	assert_int_equal(q.n, 1);
	assert_false(q.add_machine);
	/* memfd becomes a file backend; its seal= is meaningless on a region. */
	assert_string_equal(joined(&q, fds, NULL),
		"qemu|-M|pc,memory-backend=ram,accel=tcg"
		"|--object|memory-backend-file,id=ram,size=67108864,mem-path=/proc/self/fd/3,share=on"
		"|-object|iothread,id=io0|disk.img");
	qargs_free(&q);
}

static void commas(void **state)
{
	const char *a[] = { "qemu", "-object", "memory-backend-ram,id=m0,size=4M,x-use-canonical-path-for-ramblock-id=off",
			    "-append", "-m 5", "-machine", "memory-backend=m0" };
	struct qargs q;
	int fds[] = { 4 };

	(void)state;
	/* -append's value is not an option, even when it starts with '-'. */
	assert_int_equal(parse(&q, a, N(a)), 0);
	assert_int_equal(q.n, 1);
	assert_false(q.has_m);
	assert_non_null(strstr(joined(&q, fds, NULL), "|-append|-m 5|"));
	qargs_free(&q);
}

static void refuse(const char **a, int n, const char *why)
{
	struct qargs q;

	assert_int_equal(parse(&q, a, n), -1);
	if (!strstr(err, why))
		fail_msg("error '%s' does not say '%s'", err, why);
	qargs_free(&q);
}

static void refusals(void **state)
{
	const char *prealloc[] = { "qemu", "-object", "memory-backend-ram,id=m,size=4M,prealloc=on",
				   "-machine", "memory-backend=m" };
	const char *hugetlb[] = { "qemu", "-object", "memory-backend-memfd,id=m,size=4M,hugetlb=on" };
	const char *mempath[] = { "qemu", "-object", "memory-backend-file,id=m,size=4M,mem-path=/dev/hugepages" };
	const char *noshare[] = { "qemu", "-object", "memory-backend-ram,id=m,size=4M,share=off" };
	const char *epc[] = { "qemu", "-object", "memory-backend-epc,id=m,size=4M" };
	const char *json[] = { "qemu", "-object", "{\"qom-type\":\"memory-backend-ram\",\"id\":\"m\"}" };
	const char *legacy[] = { "qemu", "-m", "64M", "-mem-path", "/dev/hugepages" };
	const char *memprealloc[] = { "qemu", "-mem-prealloc" };
	const char *incoming[] = { "qemu", "-incoming", "defer" };
	const char *numamem[] = { "qemu", "-numa", "node,mem=64M" };
	const char *noid[] = { "qemu", "-object", "memory-backend-ram,size=4M" };
	const char *nosize[] = { "qemu", "-object", "memory-backend-ram,id=m" };
	const char *unaligned[] = { "qemu", "-object", "memory-backend-ram,id=m,size=5000" };
	const char *dup[] = { "qemu", "-object", "memory-backend-ram,id=m,size=4M",
			      "-object", "memory-backend-ram,id=m,size=4M" };
	const char *ours[] = { "qemu", "-object", "memory-backend-ram,id=rdmig-ram0,size=4M" };
	const char *badm[] = { "qemu", "-m", "lots" };
	const char *nobin[] = { "-m", "64M" };
	const char *novalue[] = { "qemu", "-object" };
	const char *pmem[] = { "qemu", "-object", "memory-backend-file,id=m,size=4M,pmem=on" };

	(void)state;
	refuse(prealloc, N(prealloc), "prealloc=on writes every page");
	refuse(hugetlb, N(hugetlb), "hugetlb=on");
	refuse(mempath, N(mempath), "mem-path names the backend's own file");
	refuse(noshare, N(noshare), "must be shared");
	refuse(epc, N(epc), "memory-backend-epc");
	refuse(json, N(json), "JSON form");
	refuse(legacy, N(legacy), "-mem-path");
	refuse(memprealloc, N(memprealloc), "-mem-prealloc");
	refuse(incoming, N(incoming), "-incoming");
	refuse(numamem, N(numamem), "mem= allocates RAM outside any backend");
	refuse(noid, N(noid), "needs id= and size=");
	refuse(nosize, N(nosize), "needs id= and size=");
	refuse(unaligned, N(unaligned), "multiple of 4096");
	refuse(dup, N(dup), "duplicate id");
	refuse(ours, N(ours), "rdmig-qemu's own");
	refuse(badm, N(badm), "not a size");
	refuse(nobin, N(nobin), "no QEMU binary");
	refuse(novalue, N(novalue), "needs a value");
	refuse(pmem, N(pmem), "pmem=on");
}

static void too_many(void **state)
{
	const char *a[2 + 2 * (QARGS_MAX_BACKENDS + 1)];
	char vals[QARGS_MAX_BACKENDS + 1][64];
	int i, n = 0;

	(void)state;
	a[n++] = "qemu";
	for (i = 0; i <= QARGS_MAX_BACKENDS; i++) {
		snprintf(vals[i], sizeof(vals[i]), "memory-backend-ram,id=m%d,size=4M", i);
		a[n++] = "-object";
		a[n++] = vals[i];
	}
	refuse(a, n, "more than 16 memory backends");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes),
		cmocka_unit_test(m_alone),
		cmocka_unit_test(default_ram),
		cmocka_unit_test(m_forms),
		cmocka_unit_test(two_backends),
		cmocka_unit_test(machine_backend),
		cmocka_unit_test(commas),
		cmocka_unit_test(refusals),
		cmocka_unit_test(too_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
