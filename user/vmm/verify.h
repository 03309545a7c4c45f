/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef RDMIG_VMM_VERIFY_H
#define RDMIG_VMM_VERIFY_H

#include "vcpu.h"

struct region_hash {
	uint64_t length, present, nonzero;
	uint64_t hi, lo;	/* XXH3_128 */
};

int verify_hash_region(const struct vmm_ram *ram, unsigned int i,
		       struct region_hash *h);
/* Writes one line per region to @path; *ms_out = time it took. */
int verify_write(const struct vmm_ram *ram, const char *path, uint64_t *ms_out);
/* 0 when both files hold the same hashes, 1 when not, -errno. */
int verify_compare(const char *a, const char *b, char *why, size_t len);
/*
 * The abtest check over every vCPU slice, on a paused VM: the QEMU shape,
 * or with @exact the shape the vCPU positions demand. 0 = consistent,
 * 1 = not (reason in @why), -errno.
 */
int verify_abtest(const struct vm *vm, bool exact, struct abtest_result *res,
		  char *why, size_t len);

#endif
