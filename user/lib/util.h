/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small helpers every rdmig program shares (linked from librdmig.a):
 * internal, not part of the documented API in <rdmig/librdmig.h>.
 */
#ifndef RDMIG_UTIL_H
#define RDMIG_UTIL_H
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds / microseconds. */
uint64_t rdmig_now_ns(void);
uint64_t rdmig_now_us(void);

/*
 * A whole decimal (or 0x hex) unsigned 64-bit number: no sign, no junk,
 * no overflow. Returns 0, or -1 with *v untouched.
 */
int rdmig_parse_u64(const char *s, uint64_t *v);

#endif
