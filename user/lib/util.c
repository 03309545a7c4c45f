// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What every rdmig program needs once: the monotonic clock, the number
 * parser, the error-text setter and where its rdmigd is.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

void rdmig_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *rdmig_default_agent(void)
{
	static char path[4096], sbin[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 16);
	char *slash;

	if (n <= 0)
		return "rdmigd";
	path[n] = '\0';
	slash = strrchr(path, '/');
	if (!slash)
		return "rdmigd";
	strcpy(slash + 1, "rdmigd");
	if (access(path, X_OK) == 0)
		return path;
	memcpy(sbin, path, (size_t)(slash - path));
	sbin[slash - path] = '\0';
	slash = strrchr(sbin, '/');
	if (slash) {
		strcpy(slash, "/sbin/rdmigd");
		if (access(sbin, X_OK) == 0)
			return sbin;
	}
	return path;
}
