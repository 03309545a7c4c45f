/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rdmig-qemu's rewriting of a QEMU command line (pure: no region, no
 * process; tests/unit/test_qemu_args.c). Every memory backend becomes a
 * memory-backend-file over an inherited region fd, shared, so that with
 * x-ignore-shared QEMU leaves its RAM to rdmig (Documentation/qemu.md).
 */
#ifndef RDMIG_QEMU_ARGS_H
#define RDMIG_QEMU_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QARGS_MAX_BACKENDS 16
#define QARGS_ID_MAX 64
/* The backend rdmig-qemu adds for `-m` when nothing else holds the RAM. */
#define QARGS_MAIN_ID "rdmig-ram0"

struct qbackend {
	char id[QARGS_ID_MAX];
	uint64_t size;		/* bytes, a multiple of 4096 */
	int argi;		/* argv index of the -object value; -1: created */
	char *props;		/* the other properties, kept as given ("" if none) */
};

struct qargs {
	int argc;
	char **argv;		/* borrowed: argv[0] is the QEMU binary */
	unsigned int n;
	struct qbackend b[QARGS_MAX_BACKENDS];
	uint64_t ram_size;	/* -m, bytes (QEMU's default 128 MiB if absent) */
	bool has_m;
	bool add_machine;	/* -machine memory-backend=QARGS_MAIN_ID needed */
};

/*
 * Parses @argv (QEMU's binary and arguments). Refuses, with the reason in
 * @err, what rdmig cannot carry (Documentation/qemu.md, "What rdmig-qemu
 * refuses"). Returns 0 or -1; qargs_free() in both cases.
 */
int qargs_parse(int argc, char **argv, struct qargs *q, char *err, size_t errlen);
void qargs_free(struct qargs *q);

/*
 * The rewritten command line: each backend i a memory-backend-file on
 * /proc/self/fd/@fds[i], share=on, then @extra (NULL-terminated) appended.
 * Returns a NULL-terminated malloc'd vector (qargs_argv_free()) or NULL.
 */
char **qargs_build(const struct qargs *q, const int *fds, const char *const *extra);
void qargs_argv_free(char **v);

/*
 * QEMU's sizes: digits with an optional suffix K, M, G, T (powers of 1024,
 * either case, optional trailing B). @dflt_shift applies to a bare number
 * (20 for -m, whose bare numbers are MiB; 0 for size=). 0 or -1.
 */
int qargs_parse_size(const char *s, unsigned int dflt_shift, uint64_t *out);

#endif
