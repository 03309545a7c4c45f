// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * librdmig's own version, so that a program can tell which librdmig it
 * runs with (the shared object may be newer than its headers).
 */
#include <rdmig/librdmig.h>

#ifndef LIBRDMIG_VERSION
#error "LIBRDMIG_VERSION is set by user/lib/lib.mk"
#endif

const char *rdmig_version_string(void)
{
	return LIBRDMIG_VERSION;
}
