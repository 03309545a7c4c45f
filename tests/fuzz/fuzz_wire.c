// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness: the wire decoder (user/rdmigd/wire.c). One input is
 * a byte string given to every decoder rdmigd runs on what a peer sends:
 * a control message (wire_msg_check, then the entry decoders of its type
 * and the layout checks, as dest.c and source.c use them), connection
 * private data (wire_pd_decode) and reject private data (wire_rej_decode,
 * wire_rej_encode as cm.c and rdma_msg.c call it). Besides the sanitizers,
 * what the protocol promises is asserted: a message that passes the
 * check has exactly the size its header and type say, a decoded entry
 * re-encodes to the same bytes, and whatever the layout checks accept
 * lies inside the RAM blocks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../user/rdmigd/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz_wire: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

/* A layout derived from the message's own bytes (1..4 blocks). */
static void layout_from(const uint8_t *d, size_t n, struct wire_layout *l,
			uint64_t *lens)
{
	uint32_t i;

	l->nblocks = n ? 1 + d[0] % 4 : 1;
	l->chunk_size = 4096ull << (n > 1 ? d[1] % 9 : 0);
	for (i = 0; i < l->nblocks; i++)
		lens[i] = WIRE_PAGE_SIZE * (1 + (n > 2 + i ? d[2 + i] : 7) * 37ull);
	l->lengths = lens;
}

static void entries(const struct wire_hdr *h, const uint8_t *m)
{
	uint8_t re[WIRE_REG_RES_LEN];
	uint64_t lens[4];
	struct wire_layout l;
	const char *why;
	uint32_t i;

	layout_from(m + WIRE_HDR_LEN, h->length, &l, lens);
	for (i = 0; i < h->repeat; i++) {
		const uint8_t *d = m + WIRE_HDR_LEN;

		switch (h->type) {
		case WIRE_RAM_BLOCKS_REQ: {
			struct wire_block_req e;

			wire_get_block_req(d, i, &e);
			wire_put_block_req(re, 0, &e);
			CHECK(!memcmp(re, d + (size_t)i * WIRE_BLOCK_REQ_LEN, 12));
			break;
		}
		case WIRE_RAM_BLOCKS_RES: {
			struct wire_block_res e;

			wire_get_block_res(d, i, &e);
			wire_put_block_res(re, 0, &e);
			CHECK(!memcmp(re, d + (size_t)i * WIRE_BLOCK_RES_LEN, 12));
			break;
		}
		case WIRE_COMPRESS: {
			struct wire_range e;

			wire_get_range(d, i, &e);
			if (!wire_check_range(&l, &e, &why)) {
				CHECK(e.block < l.nblocks && e.length);
				CHECK(!(e.offset % WIRE_PAGE_SIZE) && !(e.length % WIRE_PAGE_SIZE));
				CHECK(e.offset + e.length <= l.lengths[e.block]);
				CHECK(e.offset + e.length > e.offset);
			} else {
				CHECK(why && *why);
			}
			break;
		}
		case WIRE_REG_REQ:
		case WIRE_UNREG_REQ:
		case WIRE_UNREG_FINISHED: {
			struct wire_chunk e;

			wire_get_chunk(d, i, &e);
			wire_put_chunk(re, 0, &e);
			CHECK(!memcmp(re, d + (size_t)i * WIRE_CHUNK_LEN, WIRE_CHUNK_LEN));
			if (!wire_check_chunk(&l, &e, &why)) {
				CHECK(e.block < l.nblocks);
				CHECK((uint64_t)e.chunk * l.chunk_size < l.lengths[e.block]);
			}
			break;
		}
		case WIRE_REG_RES: {
			struct wire_reg_res e;
			struct wire_chunk c;

			wire_get_reg_res(d, i, &e);
			c.block = e.block;
			c.chunk = e.chunk;
			if (!wire_check_chunk(&l, &c, &why))
				CHECK(wire_nchunks(&l, c.block) > c.chunk);
			break;
		}
		case WIRE_REG_FINISHED: {
			struct wire_finished f;

			wire_get_finished(d, &f);
			wire_put_finished(re, &f);
			CHECK(!memcmp(re, d, WIRE_FINISHED_LEN));
			break;
		}
		}
	}
}

static void message(const uint8_t *data, size_t size)
{
	struct wire_hdr h;
	const char *why = NULL;
	uint8_t hb[WIRE_HDR_LEN];

	if (wire_msg_check(data, size, &h, &why)) {
		CHECK(why && *why);
		return;
	}
	/* What passed is exactly one well-formed message of a known type. */
	CHECK(size == WIRE_HDR_LEN + (size_t)h.length);
	CHECK(h.type > WIRE_UNUSED && h.type <= WIRE_TYPE_MAX);
	CHECK(h.repeat >= 1 && h.repeat <= WIRE_MAX_REPEAT && !h.reserved);
	CHECK(h.length <= WIRE_MAX_DATA);
	CHECK(strcmp(wire_type_name(h.type), "INVALID"));
	wire_hdr_encode(hb, h.type, h.repeat, h.length);
	CHECK(!memcmp(hb, data, WIRE_HDR_LEN));
	switch (h.type) {
	case WIRE_ERROR:
		CHECK(h.length >= WIRE_ERROR_MIN &&
		      h.length <= WIRE_ERROR_MIN + WIRE_ERROR_TEXT_MAX);
		break;
	case WIRE_READY:
		CHECK(h.length == WIRE_READY_LEN);
		break;
	case WIRE_AUTH:
		CHECK(h.length == WIRE_AUTH_LEN);
		break;
	case WIRE_REG_FINISHED:
		CHECK(h.length == WIRE_FINISHED_LEN);
		break;
	case WIRE_QPS_REQ:
		CHECK(h.length == WIRE_QPS_REQ_LEN);
		break;
	case WIRE_QPS_RES:
		CHECK(h.length == WIRE_QPS_RES_LEN);
		break;
	case WIRE_BARRIER:
	case WIRE_BARRIER_RES:
		CHECK(h.length == WIRE_BARRIER_LEN);
		break;
	}
	entries(&h, data);
}

static void private_data(const uint8_t *data, size_t size)
{
	struct wire_pd pd, back;
	const char *why = NULL;
	uint8_t enc[WIRE_PD_LEN];
	int rc = wire_pd_decode(size ? data : NULL, size, &pd, &why);

	if (rc) {
		CHECK(why && *why);
		CHECK(rc >= WIRE_REJ_VERSION && rc <= WIRE_REJ_NOT_ALLOWED);
		CHECK(strcmp(wire_rej_reason_str((uint32_t)rc), "unknown reason"));
		return;
	}
	CHECK(size >= WIRE_PD_LEN && pd.version == WIRE_VERSION);
	CHECK(wire_chunk_size_valid(pd.chunk_size));
	CHECK(pd.credits >= 2 && pd.credits <= 4096);
	/* Unknown capability bits are kept: the source refuses them in an accept. */
	wire_pd_encode(enc, &pd);
	CHECK(!wire_pd_decode(enc, sizeof(enc), &back, &why));
	CHECK(!memcmp(&pd, &back, sizeof(pd)));
}

/* The same bytes as a data QP's JOIN record (dest.c's join check). */
static void join_record(const uint8_t *data, size_t size)
{
	struct wire_join j, back;
	const char *why = NULL;
	uint8_t enc[WIRE_JOIN_LEN];
	int rc = wire_join_decode(size ? data : NULL, size, &j, &why);

	if (rc < 0)
		return;
	if (rc) {
		CHECK(rc == 1 && why && *why);
		return;
	}
	CHECK(size >= WIRE_JOIN_LEN);
	CHECK(j.n >= 2 && j.n <= WIRE_QPS_MAX && j.index >= 1 && j.index < j.n);
	wire_join_encode(enc, &j);
	CHECK(!wire_join_decode(enc, sizeof(enc), &back, &why));
	CHECK(!memcmp(&j, &back, sizeof(j)));
}

static void reject(const uint8_t *data, size_t size)
{
	char text[65], in[80];
	uint8_t enc[WIRE_REJ_LEN + 64];
	struct wire_rej r;
	size_t n, i, cap;

	if (!wire_rej_decode(size ? data : NULL, size, &r, text, sizeof(text))) {
		CHECK(size >= WIRE_REJ_LEN && r.magic == WIRE_REJ_MAGIC);
		CHECK(strlen(text) < sizeof(text));
		for (i = 0; text[i]; i++)
			CHECK(text[i] >= 0x20 && text[i] < 0x7f);
		wire_rej_reason_str(r.reason);
	} else {
		CHECK(!text[0]);
	}
	/* The encoder, as cm.c (a text) and rdma_msg.c (none) call it. */
	r.version = size > 4 ? wire_get32(data) : WIRE_VERSION;
	r.reason = size ? data[0] : WIRE_REJ_BUSY;
	r.detail = 0;
	n = size < sizeof(in) - 1 ? size : sizeof(in) - 1;
	for (i = 0; i < n; i++)
		in[i] = (char)(data[i] ? data[i] : 'x');
	in[n] = '\0';
	cap = size ? data[size - 1] % sizeof(enc) : sizeof(enc);
	n = wire_rej_encode(enc, cap, &r, size & 1 ? NULL : in);
	CHECK(n <= cap);
	if (cap >= WIRE_REJ_LEN) {
		CHECK(n >= WIRE_REJ_LEN);
		CHECK(!wire_rej_decode(enc, n, &r, text, sizeof(text)));
	} else {
		CHECK(!n);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private copy of exactly @size bytes: any over-read is caught. */
	uint8_t *m = malloc(size ? size : 1);

	if (!m)
		return 0;
	memcpy(m, data, size);
	message(m, size);
	private_data(m, size);
	join_record(m, size);
	reject(m, size);
	free(m);
	return 0;
}
