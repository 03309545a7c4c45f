// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Encoding and validation of the rdmig wire protocol. A peer is never
 * trusted: every length, count and index is checked here or in
 * wire_check_*() before anything is read from or written to memory.
 */
#include <stdio.h>
#include <string.h>

#include "wire.h"

void wire_put32(void *p, uint32_t v)
{
	uint8_t *b = p;

	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
}

void wire_put64(void *p, uint64_t v)
{
	wire_put32(p, v >> 32);
	wire_put32((uint8_t *)p + 4, (uint32_t)v);
}

uint32_t wire_get32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

uint64_t wire_get64(const void *p)
{
	return (uint64_t)wire_get32(p) << 32 |
	       wire_get32((const uint8_t *)p + 4);
}

int wire_chunk_size_valid(uint64_t cs)
{
	return cs >= WIRE_PAGE_SIZE && cs <= (1ull << 30) && !(cs & (cs - 1));
}

void wire_pd_encode(void *buf, const struct wire_pd *pd)
{
	uint8_t *b = buf;

	wire_put32(b, pd->version);
	wire_put32(b + 4, pd->caps);
	wire_put32(b + 8, pd->chunk_size);
	wire_put32(b + 12, pd->credits);
	wire_put64(b + 16, pd->pin_budget);
}

int wire_pd_decode(const void *buf, size_t len, struct wire_pd *pd,
		   const char **why)
{
	const uint8_t *b = buf;

	memset(pd, 0, sizeof(*pd));
	/* The version comes first so that any peer learns why it was refused. */
	if (!buf || len < 4) {
		*why = "private data missing or shorter than 4 bytes";
		return WIRE_REJ_MALFORMED;
	}
	pd->version = wire_get32(b);
	if (pd->version != WIRE_VERSION) {
		*why = "unsupported protocol version";
		return WIRE_REJ_VERSION;
	}
	if (len < WIRE_PD_LEN) {
		*why = "private data shorter than 24 bytes";
		return WIRE_REJ_MALFORMED;
	}
	pd->caps = wire_get32(b + 4);
	pd->chunk_size = wire_get32(b + 8);
	pd->credits = wire_get32(b + 12);
	pd->pin_budget = wire_get64(b + 16);
	if (!wire_chunk_size_valid(pd->chunk_size)) {
		*why = "chunk size is not a power of two in 4 KiB..1 GiB";
		return WIRE_REJ_CHUNK_SIZE;
	}
	if (pd->credits < 2 || pd->credits > 4096) {
		*why = "receive credits outside 2..4096";
		return WIRE_REJ_MALFORMED;
	}
	/*
	 * Unknown capabilities stay: a destination grants only what it
	 * knows (the intersection), and a source must see them to refuse.
	 */
	return 0;
}

void wire_join_encode(void *buf, const struct wire_join *j)
{
	uint8_t *b = buf;

	wire_put32(b, WIRE_VERSION);
	wire_put32(b + 4, WIRE_CAP_JOIN);
	wire_put32(b + 8, j->index);
	wire_put32(b + 12, j->n);
	memcpy(b + 16, j->token, WIRE_MAC_LEN);
}

int wire_join_decode(const void *buf, size_t len, struct wire_join *j,
		     const char **why)
{
	const uint8_t *b = buf;

	memset(j, 0, sizeof(*j));
	if (!buf || len < 8 || wire_get32(b) != WIRE_VERSION ||
	    wire_get32(b + 4) != WIRE_CAP_JOIN)
		return -1;
	if (len < WIRE_JOIN_LEN) {
		*why = "JOIN record shorter than 48 bytes";
		return 1;
	}
	j->index = wire_get32(b + 8);
	j->n = wire_get32(b + 12);
	memcpy(j->token, b + 16, WIRE_MAC_LEN);
	if (j->n < 2 || j->n > WIRE_QPS_MAX) {
		*why = "JOIN names a QP count outside 2..8";
		return 1;
	}
	if (j->index < 1 || j->index >= j->n) {
		*why = "JOIN names a QP index outside 1..n-1";
		return 1;
	}
	return 0;
}

size_t wire_rej_encode(void *buf, size_t cap, const struct wire_rej *r,
		       const char *text)
{
	uint8_t *b = buf;
	size_t n = text ? strlen(text) : 0;

	if (cap < WIRE_REJ_LEN)
		return 0;
	wire_put32(b, WIRE_REJ_MAGIC);
	wire_put32(b + 4, r->version);
	wire_put32(b + 8, r->reason);
	wire_put32(b + 12, r->detail);
	if (n > cap - WIRE_REJ_LEN)
		n = cap - WIRE_REJ_LEN;
	/* memcpy() from NULL is undefined even for 0 bytes (no text: busy). */
	if (n)
		memcpy(b + WIRE_REJ_LEN, text, n);
	return WIRE_REJ_LEN + n;
}

int wire_rej_decode(const void *buf, size_t len, struct wire_rej *r,
		    char *text, size_t textcap)
{
	const uint8_t *b = buf;
	size_t i, n = 0;

	if (textcap)
		text[0] = '\0';
	if (!buf || len < WIRE_REJ_LEN || wire_get32(b) != WIRE_REJ_MAGIC)
		return -1;
	r->magic = WIRE_REJ_MAGIC;
	r->version = wire_get32(b + 4);
	r->reason = wire_get32(b + 8);
	r->detail = wire_get32(b + 12);
	/* Only printable ASCII: the text ends up in logs and JSON. */
	for (i = WIRE_REJ_LEN; i < len && n + 1 < textcap; i++) {
		if (!b[i])
			break;
		text[n++] = (b[i] >= 0x20 && b[i] < 0x7f) ? b[i] : '?';
	}
	if (textcap)
		text[n] = '\0';
	return 0;
}

const char *wire_rej_reason_str(uint32_t reason)
{
	switch (reason) {
	case WIRE_REJ_VERSION: return "protocol version mismatch";
	case WIRE_REJ_CHUNK_SIZE: return "chunk size mismatch";
	case WIRE_REJ_BUSY: return "destination busy";
	case WIRE_REJ_MALFORMED: return "malformed connection request";
	case WIRE_REJ_RESOURCES: return "destination out of resources";
	case WIRE_REJ_AUTH: return "authentication required";
	case WIRE_REJ_NOT_ALLOWED: return "source address not allowed";
	case WIRE_REJ_JOIN: return "data QP join refused";
	}
	return "unknown reason";
}

static const char *const type_names[WIRE_TYPE_MAX + 1] = {
	[WIRE_UNUSED] = "UNUSED",
	[WIRE_ERROR] = "ERROR",
	[WIRE_READY] = "READY",
	[WIRE_QEMU_FILE] = "QEMU_FILE",
	[WIRE_RAM_BLOCKS_REQ] = "RAM_BLOCKS_REQUEST",
	[WIRE_RAM_BLOCKS_RES] = "RAM_BLOCKS_RESULT",
	[WIRE_COMPRESS] = "COMPRESS",
	[WIRE_REG_REQ] = "REGISTER_REQUEST",
	[WIRE_REG_RES] = "REGISTER_RESULT",
	[WIRE_REG_FINISHED] = "REGISTER_FINISHED",
	[WIRE_UNREG_REQ] = "UNREGISTER_REQUEST",
	[WIRE_UNREG_FINISHED] = "UNREGISTER_FINISHED",
	[WIRE_AUTH] = "AUTH",
	[WIRE_QPS_REQ] = "QPS_REQUEST",
	[WIRE_QPS_RES] = "QPS_RESULT",
	[WIRE_BARRIER] = "BARRIER",
	[WIRE_BARRIER_RES] = "BARRIER_RESULT",
};

const char *wire_type_name(uint32_t type)
{
	if (type >= 1 && type <= WIRE_TYPE_MAX)
		return type_names[type];
	return "INVALID";
}

size_t wire_hdr_encode(void *buf, uint32_t type, uint32_t repeat,
		       uint32_t length)
{
	uint8_t *b = buf;

	wire_put32(b, length);
	wire_put32(b + 4, type);
	wire_put32(b + 8, repeat);
	wire_put32(b + 12, 0);
	return WIRE_HDR_LEN;
}

/*
 * Offset of the be32 reserved word in an entry of an array type, or -1:
 * a non-zero reserved word is refused, so it can be given a meaning in a
 * later version without old receivers silently misreading it.
 */
static int entry_rsvd(uint32_t type)
{
	switch (type) {
	case WIRE_RAM_BLOCKS_REQ: return 12;
	case WIRE_RAM_BLOCKS_RES: return 12;
	case WIRE_COMPRESS: return 4;
	case WIRE_REG_RES: return 12;
	}
	return -1;
}

/* Size of one entry of an array type, 0 for the others. */
static uint32_t entry_len(uint32_t type)
{
	switch (type) {
	case WIRE_RAM_BLOCKS_REQ: return WIRE_BLOCK_REQ_LEN;
	case WIRE_RAM_BLOCKS_RES: return WIRE_BLOCK_RES_LEN;
	case WIRE_COMPRESS: return WIRE_RANGE_LEN;
	case WIRE_REG_REQ:
	case WIRE_UNREG_REQ:
	case WIRE_UNREG_FINISHED: return WIRE_CHUNK_LEN;
	case WIRE_REG_RES: return WIRE_REG_RES_LEN;
	}
	return 0;
}

int wire_msg_check(const void *buf, size_t len, struct wire_hdr *h,
		   const char **why)
{
	const uint8_t *b = buf;
	uint32_t el;

	if (len < WIRE_HDR_LEN) {
		*why = "message shorter than its 16-byte header";
		return -1;
	}
	if (len > WIRE_MAX_MSG) {
		*why = "message longer than the largest allowed";
		return -1;
	}
	h->length = wire_get32(b);
	h->type = wire_get32(b + 4);
	h->repeat = wire_get32(b + 8);
	h->reserved = wire_get32(b + 12);
	if ((size_t)h->length != len - WIRE_HDR_LEN) {
		*why = "header length does not match the bytes received";
		return -1;
	}
	if (h->type <= WIRE_UNUSED || h->type > WIRE_TYPE_MAX) {
		*why = "unknown message type";
		return -1;
	}
	if (h->repeat == 0 || h->repeat > WIRE_MAX_REPEAT) {
		*why = "repeat outside 1..4096";
		return -1;
	}
	if (h->reserved) {
		*why = "reserved header field is not zero";
		return -1;
	}
	el = entry_len(h->type);
	if (el) {
		/* repeat <= 4096 and el <= 24: the product cannot overflow. */
		int ro = entry_rsvd(h->type);
		uint32_t i;

		if (h->length != h->repeat * el) {
			*why = "data length does not match repeat";
			return -1;
		}
		for (i = 0; ro >= 0 && i < h->repeat; i++)
			if (wire_get32(b + WIRE_HDR_LEN + (size_t)i * el + ro)) {
				*why = "reserved field of an entry is not zero";
				return -1;
			}
		return 0;
	}
	if (h->repeat != 1) {
		*why = "repeat must be 1 for this message type";
		return -1;
	}
	switch (h->type) {
	case WIRE_ERROR:
		if (h->length < WIRE_ERROR_MIN ||
		    h->length > WIRE_ERROR_MIN + WIRE_ERROR_TEXT_MAX) {
			*why = "bad ERROR length";
			return -1;
		}
		break;
	case WIRE_READY:
		if (h->length != WIRE_READY_LEN) {
			*why = "bad READY length";
			return -1;
		}
		break;
	case WIRE_AUTH:
		if (h->length != WIRE_AUTH_LEN) {
			*why = "bad AUTH length";
			return -1;
		}
		break;
	case WIRE_QPS_REQ:
		if (h->length != WIRE_QPS_REQ_LEN) {
			*why = "bad QPS_REQUEST length";
			return -1;
		}
		break;
	case WIRE_QPS_RES:
		if (h->length != WIRE_QPS_RES_LEN) {
			*why = "bad QPS_RESULT length";
			return -1;
		}
		break;
	case WIRE_BARRIER:
	case WIRE_BARRIER_RES:
		if (h->length != WIRE_BARRIER_LEN) {
			*why = "bad BARRIER length";
			return -1;
		}
		break;
	case WIRE_REG_FINISHED:
		if (h->length != WIRE_FINISHED_LEN) {
			*why = "bad REGISTER_FINISHED length";
			return -1;
		}
		break;
	case WIRE_QEMU_FILE:
		if (h->length == 0) {
			*why = "empty QEMU_FILE message";
			return -1;
		}
		break;
	}
	return 0;
}

#define D(data, i, sz) ((uint8_t *)(data) + (size_t)(i) * (sz))
#define CD(data, i, sz) ((const uint8_t *)(data) + (size_t)(i) * (sz))

void wire_put_block_req(void *data, uint32_t i, const struct wire_block_req *e)
{
	uint8_t *p = D(data, i, WIRE_BLOCK_REQ_LEN);

	wire_put64(p, e->length);
	wire_put32(p + 8, e->flags);
	wire_put32(p + 12, 0);
}

void wire_get_block_req(const void *data, uint32_t i, struct wire_block_req *e)
{
	const uint8_t *p = CD(data, i, WIRE_BLOCK_REQ_LEN);

	e->length = wire_get64(p);
	e->flags = wire_get32(p + 8);
}

void wire_put_block_res(void *data, uint32_t i, const struct wire_block_res *e)
{
	uint8_t *p = D(data, i, WIRE_BLOCK_RES_LEN);

	wire_put64(p, e->addr);
	wire_put32(p + 8, e->rkey);
	wire_put32(p + 12, 0);
}

void wire_get_block_res(const void *data, uint32_t i, struct wire_block_res *e)
{
	const uint8_t *p = CD(data, i, WIRE_BLOCK_RES_LEN);

	e->addr = wire_get64(p);
	e->rkey = wire_get32(p + 8);
}

void wire_put_range(void *data, uint32_t i, const struct wire_range *e)
{
	uint8_t *p = D(data, i, WIRE_RANGE_LEN);

	wire_put32(p, e->block);
	wire_put32(p + 4, 0);
	wire_put64(p + 8, e->offset);
	wire_put64(p + 16, e->length);
}

void wire_get_range(const void *data, uint32_t i, struct wire_range *e)
{
	const uint8_t *p = CD(data, i, WIRE_RANGE_LEN);

	e->block = wire_get32(p);
	e->offset = wire_get64(p + 8);
	e->length = wire_get64(p + 16);
}

void wire_put_chunk(void *data, uint32_t i, const struct wire_chunk *e)
{
	uint8_t *p = D(data, i, WIRE_CHUNK_LEN);

	wire_put32(p, e->block);
	wire_put32(p + 4, e->chunk);
}

void wire_get_chunk(const void *data, uint32_t i, struct wire_chunk *e)
{
	const uint8_t *p = CD(data, i, WIRE_CHUNK_LEN);

	e->block = wire_get32(p);
	e->chunk = wire_get32(p + 4);
}

void wire_put_reg_res(void *data, uint32_t i, const struct wire_reg_res *e)
{
	uint8_t *p = D(data, i, WIRE_REG_RES_LEN);

	wire_put32(p, e->block);
	wire_put32(p + 4, e->chunk);
	wire_put32(p + 8, e->rkey);
	wire_put32(p + 12, 0);
	wire_put64(p + 16, e->addr);
}

void wire_get_reg_res(const void *data, uint32_t i, struct wire_reg_res *e)
{
	const uint8_t *p = CD(data, i, WIRE_REG_RES_LEN);

	e->block = wire_get32(p);
	e->chunk = wire_get32(p + 4);
	e->rkey = wire_get32(p + 8);
	e->addr = wire_get64(p + 16);
}

void wire_put_finished(void *data, const struct wire_finished *e)
{
	uint8_t *p = data;

	wire_put32(p, e->iteration);
	wire_put32(p + 4, e->flags);
	wire_put64(p + 8, e->state_bytes);
	wire_put64(p + 16, e->nonce);
}

void wire_get_finished(const void *data, struct wire_finished *e)
{
	const uint8_t *p = data;

	e->iteration = wire_get32(p);
	e->flags = wire_get32(p + 4);
	e->state_bytes = wire_get64(p + 8);
	e->nonce = wire_get64(p + 16);
}

uint32_t wire_nchunks(const struct wire_layout *l, uint32_t block)
{
	return (uint32_t)((l->lengths[block] + l->chunk_size - 1) / l->chunk_size);
}

int wire_check_chunk(const struct wire_layout *l, const struct wire_chunk *c,
		     const char **why)
{
	if (c->block >= l->nblocks) {
		*why = "block index outside the registered regions";
		return -1;
	}
	if (c->chunk >= wire_nchunks(l, c->block)) {
		*why = "chunk index outside its block";
		return -1;
	}
	return 0;
}

int wire_check_range(const struct wire_layout *l, const struct wire_range *r,
		     const char **why)
{
	if (r->block >= l->nblocks) {
		*why = "block index outside the registered regions";
		return -1;
	}
	if ((r->offset | r->length) & (WIRE_PAGE_SIZE - 1) || !r->length) {
		*why = "range not page aligned or empty";
		return -1;
	}
	/* Written so that offset + length cannot wrap. */
	if (r->offset >= l->lengths[r->block] ||
	    r->length > l->lengths[r->block] - r->offset) {
		*why = "range outside its block";
		return -1;
	}
	return 0;
}
