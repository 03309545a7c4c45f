/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The rdmig wire protocol, version 3: connection private data and control
 * messages. Everything here is pure (no I/O) so that hostile input can be
 * tested on the host. Documentation/protocol.md describes every byte.
 */
#ifndef RDMIGD_WIRE_H
#define RDMIGD_WIRE_H

#include <stddef.h>
#include <stdint.h>

/*
 * 2: REGISTER_FINISHED carries a nonce the acknowledgement must echo
 * (the completion is bound to the source's final round); entries'
 * reserved fields are checked.
 * 3: a REGISTER_RESULT answers the next entries of the oldest request, in
 * order, so a request may be answered in several parts (the destination
 * answers chunks as its pin workers finish them); a version 2 source
 * would refuse a partial answer. Other versions are refused (reason 1).
 */
#define WIRE_VERSION		3
#define WIRE_PAGE_SIZE		4096u

/* Capability flags (private data word 1); the connection uses the AND. */
#define WIRE_CAP_PIN_ALL	(1u << 0)	/* destination pins blocks up front */
#define WIRE_CAP_ZERO_RANGE	(1u << 1)	/* COMPRESS carries zero ranges */
#define WIRE_CAP_AUTH		(1u << 2)	/* challenge-response (protocol.md) */
#define WIRE_CAP_QPS		(1u << 3)	/* QPS_REQ/RES, data QPs join (protocol.md) */
#define WIRE_CAP_FENCE		(1u << 4)	/* BARRIER on one QP too (protocol.md) */
#define WIRE_CAPS_KNOWN		(WIRE_CAP_PIN_ALL | WIRE_CAP_ZERO_RANGE | \
				 WIRE_CAP_AUTH | WIRE_CAP_QPS | WIRE_CAP_FENCE)
/*
 * The caps word of a JOIN record (a data QP's connect request), never
 * offered with the others: a destination that does not know it reads
 * the record's index as a chunk size and refuses it (reason 2), and one
 * that knows it never takes a JOIN for a migration's first QP.
 */
#define WIRE_CAP_JOIN		(1u << 31)

/* Connection private data, request and accept alike: 24 bytes. */
#define WIRE_PD_LEN		24
struct wire_pd {
	uint32_t version;
	uint32_t caps;
	uint32_t chunk_size;	/* bytes, power of two, 4 KiB .. 1 GiB */
	uint32_t credits;	/* receive buffers posted for the peer */
	uint64_t pin_budget;	/* bytes this side may pin, 0 = unlimited */
};
/*
 * With WIRE_CAP_AUTH the request carries the source's 32-byte nonce after
 * the 24 bytes, and the accept the destination's nonce and its 32-byte
 * proof (HMAC-SHA256): 56 and 88 bytes.
 */
#define WIRE_NONCE_LEN		32
#define WIRE_MAC_LEN		32
#define WIRE_PD_AUTH_REQ_LEN	(WIRE_PD_LEN + WIRE_NONCE_LEN)
#define WIRE_PD_AUTH_ACC_LEN	(WIRE_PD_LEN + WIRE_NONCE_LEN + WIRE_MAC_LEN)

/*
 * JOIN record, the private data of data QP @index of @n (protocol.md,
 * "Several QPs"): be32 version, be32 caps = WIRE_CAP_JOIN, be32 index,
 * be32 n, token[32] = HMAC-SHA256(join_key, "rdmig-join-v1" || be32
 * index || be32 n): 48 bytes, within RDMA_PS_TCP's 56.
 */
#define WIRE_QPS_MAX		8
#define WIRE_JOIN_KEY_LEN	32
#define WIRE_JOIN_LEN		(16 + WIRE_MAC_LEN)
struct wire_join {
	uint32_t index, n;
	uint8_t token[WIRE_MAC_LEN];
};
void wire_join_encode(void *buf, const struct wire_join *j);
/*
 * -1 if @buf is not a JOIN record (its version and caps words say so);
 * 0 for a well-formed one; 1 with @why for a malformed one (too short,
 * n outside 2..WIRE_QPS_MAX, index outside 1..n-1).
 */
int wire_join_decode(const void *buf, size_t len, struct wire_join *j,
		     const char **why);

/* Reject private data: 16 bytes, then up to 64 bytes of text. */
#define WIRE_REJ_LEN		16
enum wire_rej_reason {
	WIRE_REJ_VERSION = 1,	/* detail: the rejecting side's version */
	WIRE_REJ_CHUNK_SIZE = 2,/* detail: the rejecting side's chunk size */
	WIRE_REJ_BUSY = 3,	/* a migration is already connected */
	WIRE_REJ_MALFORMED = 4,	/* private data too short or reserved bits */
	WIRE_REJ_RESOURCES = 5,	/* could not set up the QP */
	WIRE_REJ_AUTH = 6,	/* authentication required, not offered */
	WIRE_REJ_NOT_ALLOWED = 7,/* source address not on the allow-list */
	WIRE_REJ_JOIN = 8,	/* a data QP's JOIN refused (text: why) */
};
#define WIRE_REJ_MAGIC		0x72646d67u	/* "rdmg" */
struct wire_rej {
	uint32_t magic;
	uint32_t version;
	uint32_t reason;
	uint32_t detail;
};

/* Control message header: 16 bytes big-endian, then `length` bytes. */
#define WIRE_HDR_LEN		16
#define WIRE_MAX_REPEAT		4096u
enum wire_type {
	WIRE_UNUSED = 1,
	WIRE_ERROR = 2,
	WIRE_READY = 3,
	WIRE_QEMU_FILE = 4,
	WIRE_RAM_BLOCKS_REQ = 5,
	WIRE_RAM_BLOCKS_RES = 6,
	WIRE_COMPRESS = 7,
	WIRE_REG_REQ = 8,
	WIRE_REG_RES = 9,
	WIRE_REG_FINISHED = 10,
	WIRE_UNREG_REQ = 11,
	WIRE_UNREG_FINISHED = 12,
	WIRE_AUTH = 13,
	/* Only with WIRE_CAP_QPS negotiated (protocol.md, "Several QPs"). */
	WIRE_QPS_REQ = 14,
	WIRE_QPS_RES = 15,
	WIRE_BARRIER = 16,
	WIRE_BARRIER_RES = 17,
};
#define WIRE_TYPE_MAX		17

struct wire_hdr {
	uint32_t length;
	uint32_t type;
	uint32_t repeat;
	uint32_t reserved;
};

/* Entry sizes of the array messages. */
#define WIRE_BLOCK_REQ_LEN	16	/* be64 length, be32 flags, be32 rsvd */
#define WIRE_BLOCK_RES_LEN	16	/* be64 addr, be32 rkey, be32 rsvd */
#define WIRE_RANGE_LEN		24	/* be32 block, be32 rsvd, be64 off, be64 len */
#define WIRE_CHUNK_LEN		8	/* be32 block, be32 chunk */
#define WIRE_REG_RES_LEN	24	/* block, chunk, rkey, rsvd, be64 addr */
#define WIRE_FINISHED_LEN	24	/* be32 iteration, be32 flags, be64 state,
					   be64 nonce */
#define WIRE_READY_LEN		4	/* be32 credits returned */
#define WIRE_ERROR_MIN		4	/* be32 code, then text */
#define WIRE_ERROR_TEXT_MAX	1024
#define WIRE_AUTH_LEN		WIRE_MAC_LEN	/* the source's proof */
#define WIRE_QPS_REQ_LEN	4	/* be32 QPs asked, 2..WIRE_QPS_MAX */
#define WIRE_QPS_RES_LEN	(4 + WIRE_JOIN_KEY_LEN)	/* be32 granted, key */
#define WIRE_BARRIER_LEN	8	/* be64 token, echoed by BARRIER_RES */

/* Largest data portion: a full REG_RES (also the QEMU File payload cap). */
#define WIRE_MAX_DATA		(WIRE_MAX_REPEAT * WIRE_REG_RES_LEN)
#define WIRE_MAX_MSG		(WIRE_HDR_LEN + WIRE_MAX_DATA)

/* REG_FINISHED flags */
#define WIRE_FIN_LAST		(1u << 0)	/* source: last round done */
#define WIRE_FIN_ACK		(1u << 1)	/* destination: all in place */

/* ERROR codes */
enum wire_err {
	WIRE_E_PROTO = 1,	/* malformed or unexpected message */
	WIRE_E_RANGE = 2,	/* block/chunk/offset outside the regions */
	WIRE_E_BLOCKS = 3,	/* RAM blocks differ between the sides */
	WIRE_E_RESOURCES = 4,	/* registration or memory failed */
	WIRE_E_CANCELLED = 5,	/* operator cancelled */
	WIRE_E_INTERNAL = 6,
	WIRE_E_AUTH = 7,	/* authentication failed */
};

struct wire_block_req { uint64_t length; uint32_t flags; };
struct wire_block_res { uint64_t addr; uint32_t rkey; };
struct wire_range { uint32_t block; uint64_t offset, length; };
struct wire_chunk { uint32_t block, chunk; };
struct wire_reg_res { uint32_t block, chunk, rkey; uint64_t addr; };
/*
 * @nonce: drawn by the source for its LAST message; the destination's ACK
 * echoes it (with iteration and state_bytes), so no acknowledgement but
 * the answer to the final round can complete a migration.
 */
struct wire_finished { uint32_t iteration, flags; uint64_t state_bytes, nonce; };

/* Big-endian loads and stores on unaligned buffers. */
void wire_put32(void *p, uint32_t v);
void wire_put64(void *p, uint64_t v);
uint32_t wire_get32(const void *p);
uint64_t wire_get64(const void *p);

void wire_pd_encode(void *buf, const struct wire_pd *pd);
/*
 * Decodes @len bytes of private data (transports may pad it with zeroes).
 * Returns 0, or a WIRE_REJ_* reason with @detail set, and @why a message.
 * @pd->caps is as received, unknown bits included: a destination keeps
 * the intersection, a source refuses an accept with bits it did not offer.
 */
int wire_pd_decode(const void *buf, size_t len, struct wire_pd *pd,
		   const char **why);
int wire_chunk_size_valid(uint64_t chunk_size);

size_t wire_rej_encode(void *buf, size_t cap, const struct wire_rej *r,
		       const char *text);
int wire_rej_decode(const void *buf, size_t len, struct wire_rej *r,
		    char *text, size_t textcap);
const char *wire_rej_reason_str(uint32_t reason);

const char *wire_type_name(uint32_t type);

/* Writes a header; returns WIRE_HDR_LEN. */
size_t wire_hdr_encode(void *buf, uint32_t type, uint32_t repeat,
		       uint32_t length);
/*
 * Validates a received message of exactly @len bytes: header length
 * matches what arrived, known type (2..13), repeat in 1..4096, reserved
 * zero (the header's and every entry's), data length consistent with the
 * type and repeat. Returns 0 with @h filled, or -1 with @why pointing at a
 * static explanation.
 */
int wire_msg_check(const void *buf, size_t len, struct wire_hdr *h,
		   const char **why);

/* Entry codecs: @i indexes the data portion's array. */
void wire_put_block_req(void *data, uint32_t i, const struct wire_block_req *e);
void wire_get_block_req(const void *data, uint32_t i, struct wire_block_req *e);
void wire_put_block_res(void *data, uint32_t i, const struct wire_block_res *e);
void wire_get_block_res(const void *data, uint32_t i, struct wire_block_res *e);
void wire_put_range(void *data, uint32_t i, const struct wire_range *e);
void wire_get_range(const void *data, uint32_t i, struct wire_range *e);
void wire_put_chunk(void *data, uint32_t i, const struct wire_chunk *e);
void wire_get_chunk(const void *data, uint32_t i, struct wire_chunk *e);
void wire_put_reg_res(void *data, uint32_t i, const struct wire_reg_res *e);
void wire_get_reg_res(const void *data, uint32_t i, struct wire_reg_res *e);
void wire_put_finished(void *data, const struct wire_finished *e);
void wire_get_finished(const void *data, struct wire_finished *e);

/*
 * The RAM blocks both sides agreed on, for validating what the peer names.
 * Returns 0 if the entry is inside, -1 (with @why) if not.
 */
struct wire_layout {
	uint32_t nblocks;
	const uint64_t *lengths;	/* bytes, page multiples */
	uint64_t chunk_size;
};
uint32_t wire_nchunks(const struct wire_layout *l, uint32_t block);
int wire_check_chunk(const struct wire_layout *l, const struct wire_chunk *c,
		     const char **why);
int wire_check_range(const struct wire_layout *l, const struct wire_range *r,
		     const char **why);

#endif
