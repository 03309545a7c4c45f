/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small helpers every rdmig program shares (linked from librdmig.a):
 * internal, not part of the documented API in <rdmig/librdmig.h>.
 */
#ifndef RDMIG_UTIL_H
#define RDMIG_UTIL_H
#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds / microseconds. */
uint64_t rdmig_now_ns(void);
uint64_t rdmig_now_us(void);

/*
 * A whole decimal (or 0x hex) unsigned 64-bit number: no sign, no junk,
 * no overflow. Returns 0, or -1 with *v untouched.
 */
int rdmig_parse_u64(const char *s, uint64_t *v);

/* printf into @err, when there is one (@err NULL or @errlen 0: nothing). */
void rdmig_seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * rdmigd next to the running binary (build/rdmig-vmm -> build/rdmigd),
 * or, as installed, in the sbin beside its bin (PREFIX/bin/rdmig-qemu ->
 * PREFIX/sbin/rdmigd). If neither exists, the sibling path, so that the
 * exec error names it. A static buffer: call it from one thread.
 */
const char *rdmig_default_agent(void);

#endif
