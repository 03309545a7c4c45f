/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fake transport the engine harnesses (fuzz_dest.c, fuzz_source.c)
 * link dest.c and source.c against: fake_transport.c implements what
 * cm.c, rdma_msg.c and auth_conn.c give the engines (struct conn's
 * functions, with the same credit, nesting and failure rules), the verbs
 * MR calls, rdmigd's region.c (regions backed by heap memory), the
 * librdmig calls and the control channel's event functions. The peer on
 * the other side of the connection is the harness (struct fake_peer).
 */
#ifndef RDMIG_FUZZ_FAKE_H
#define RDMIG_FUZZ_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../user/rdmigd/conn.h"
#include "../../user/rdmigd/rdmigd.h"
#include "../../user/rdmigd/wire.h"

/* An invariant of the engine broken: a finding, reported as a crash. */
#define FAKE_CHECK(cond, ...) do { if (!(cond)) { \
	fprintf(stderr, "fuzz: %s:%d: invariant \"%s\" broken: ", __FILE__, __LINE__, #cond); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } } while (0)

/* The fuzz input, read front to back; past its end everything reads 0. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};
uint8_t in_u8(struct fuzz_in *in);
uint16_t in_u16(struct fuzz_in *in);
uint32_t in_u32(struct fuzz_in *in);
/* Copies up to @n bytes; returns how many there were. */
size_t in_take(struct fuzz_in *in, void *out, size_t n);

/* Regions: fds FAKE_FD_BASE + i, memory from aligned_alloc (ASan sees overruns). */
#define FAKE_FD_BASE		1000
#define FAKE_MAX_REGIONS	4
struct fake_region {
	bool used, open;
	uint64_t length, npages;
	uint8_t *mem;
	uint64_t *pm;		/* RDMIG_PM_* per page */
	uint64_t *dirty;	/* get-and-clear bitmap */
	bool tracking;
};
extern struct fake_region fake_regions[FAKE_MAX_REGIONS];
void fake_region_add(uint32_t i, uint64_t pages);
/* Fails the next pagemap / dirty / tracking call with -EIO when set. */
extern bool fake_fail_pagemap, fake_fail_dirty, fake_fail_tracking;

/* MRs the engine registered (ibv_reg_mr), looked up by key. */
const struct ibv_mr *fake_mr_by_lkey(uint32_t lkey);
const struct ibv_mr *fake_mr_by_rkey(uint32_t rkey);
unsigned int fake_mr_live(void);

/* The peer: the harness. */
struct fake_peer {
	/*
	 * Connection setup: fills the peer's private data (connect request
	 * for the destination, accept for the source). Returns 0, or -1
	 * when no (further) peer comes.
	 */
	int (*connect)(struct conn *c, uint8_t pd[WIRE_PD_LEN]);
	/*
	 * One poll: the next thing the peer does. Returns 1 with a message
	 * of *len bytes in @buf (WIRE_MAX_MSG), 0 for nothing this time,
	 * -1 when the peer is gone (the input ended).
	 */
	int (*poll)(struct conn *c, uint8_t *buf, size_t *len);
	/* A message the engine sent (already checked to be well-formed). */
	void (*sent)(struct conn *c, const struct wire_hdr *h, const uint8_t *data);
	/* An RDMA WRITE of @len bytes read from @src; -1 = remote access error. */
	int (*write)(struct conn *c, const uint8_t *src, uint32_t len, uint64_t raddr,
		     uint32_t rkey);
};
extern const struct fake_peer *fake_peer;

/* Called from ctl_wake() (the source's switchover-ready, the end). */
extern void (*fake_on_wake)(struct agent *a);

/* The proof conn_auth_check() accepts (the fake does no HMAC). */
#define FAKE_MAC_BYTE	0xa5

/* Log lines go nowhere unless FUZZ_LOG is set in the environment. */
void fake_init(void);
/* Frees the regions and checks that no MR is left (pins released). */
void fake_reset(void);

#endif
