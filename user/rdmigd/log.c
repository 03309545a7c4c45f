// SPDX-License-Identifier: GPL-2.0-or-later
/* Diagnostics on stderr, one line each, prefixed with the agent's role. */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

int log_verbose;
const char *log_role = "agent";

static void vlog(const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	/* One fprintf per line so that the two threads never interleave. */
	fprintf(stderr, "rdmigd[%s]: %s\n", log_role, line);
}

void log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void log_dbg(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}
