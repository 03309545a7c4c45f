/* SPDX-License-Identifier: GPL-2.0 */
/* rdmigctl: argument helpers (pure; tests/unit/test_rdmigctl_args.c). */
#ifndef RDMIGCTL_ARGS_H
#define RDMIGCTL_ARGS_H

#include <stdbool.h>
#include <stdint.h>

/* iproute2-style abbreviation: @arg is a non-empty prefix of @word. */
bool matches(const char *arg, const char *word);
/* Decimal (or 0x hex) without sign or trailing junk; 0 or -EINVAL/-ERANGE. */
#include "../lib/util.h"

/* Numbers: rdmig_parse_u64() (user/lib/util.h); -EINVAL or -ERANGE. */
int parse_u32(const char *s, uint32_t *out);
/* "on"/"off" (also 1/0, yes/no); 0 or -EINVAL. */
int parse_on_off(const char *s, bool *out);

#endif /* RDMIGCTL_ARGS_H */
