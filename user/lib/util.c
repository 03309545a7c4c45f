// SPDX-License-Identifier: GPL-2.0-or-later
/* The one monotonic clock and the one number parser of every rdmig program. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "util.h"

uint64_t rdmig_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t rdmig_now_us(void)
{
	return rdmig_now_ns() / 1000;
}

int rdmig_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	/* strtoull accepts a sign and leading blanks: refuse both. */
	if (!s || !*s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}
