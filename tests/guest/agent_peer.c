// SPDX-License-Identifier: GPL-2.0
/*
 * agent_peer: a misbehaving rdmig peer, for testing that rdmigd refuses
 * and aborts cleanly.
 *
 *   agent_peer connect ADDR:PORT BIND [--version N] [--chunk N] [--send MODE]
 *       connects to a destination rdmigd; with a bad version/chunk it
 *       expects a rejection; with --send it sends a hostile message right
 *       after RAM blocks and expects an ERROR back (or a disconnect).
 *   agent_peer listen ADDR:PORT [--version N] [--chunk N] [--send silent]
 *       a fake destination that accepts with the given private data; with
 *       --send silent it accepts properly, then never answers the RAM
 *       blocks request and expects the source to give up with an ERROR.
 *
 * MODE: badlen, unknown, unused, repeat, block, chunk, range, truncated,
 *       reserved, credits, unreg, dupblocks; silent: connect and send
 *       nothing (the destination must time out and send an ERROR).
 * Exit 0 when the agent behaved as expected.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include "../../user/rdmigd/wire.h"

#define BUF 131072

static struct rdma_event_channel *ec;
static struct ibv_pd *pd;
static struct ibv_cq *cq;
static struct ibv_mr *mr;
static uint8_t *rbuf, *sbuf;

static struct rdma_cm_event *get_ev(void)
{
	struct rdma_cm_event *ev;

	if (rdma_get_cm_event(ec, &ev)) {
		perror("rdma_get_cm_event");
		exit(2);
	}
	return ev;
}

static void sa(const char *host, const char *port, struct sockaddr_storage *ss)
{
	struct addrinfo *ai;

	if (getaddrinfo(host, port, NULL, &ai)) {
		fprintf(stderr, "cannot resolve %s\n", host);
		exit(2);
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
}

static void setup_qp(struct rdma_cm_id *id)
{
	struct ibv_qp_init_attr qa = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 16, .max_recv_wr = 16, .max_send_sge = 1, .max_recv_sge = 1 },
	};
	int i;

	pd = ibv_alloc_pd(id->verbs);
	cq = ibv_create_cq(id->verbs, 64, NULL, NULL, 0);
	qa.send_cq = qa.recv_cq = cq;
	if (!pd || !cq || rdma_create_qp(id, pd, &qa)) {
		perror("qp");
		exit(2);
	}
	rbuf = calloc(17, BUF);
	sbuf = rbuf + 16 * BUF;
	mr = ibv_reg_mr(pd, rbuf, 17 * BUF, IBV_ACCESS_LOCAL_WRITE);
	for (i = 0; i < 16; i++) {
		struct ibv_sge s = { (uintptr_t)(rbuf + i * BUF), BUF, mr->lkey };
		struct ibv_recv_wr wr = { .wr_id = i, .sg_list = &s, .num_sge = 1 }, *bad;

		ibv_post_recv(id->qp, &wr, &bad);
	}
}

static void send_raw(struct rdma_cm_id *id, uint32_t len)
{
	struct ibv_sge s = { (uintptr_t)sbuf, len, mr->lkey };
	struct ibv_send_wr wr = { .wr_id = 100, .sg_list = &s, .num_sge = 1,
				  .opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED }, *bad;

	ibv_post_send(id->qp, &wr, &bad);
}

/* Waits for a message of @type; returns its data length, -1 on error/timeout. */
static int wait_msg(uint32_t want, int secs, uint8_t **data)
{
	int i;

	for (i = 0; i < secs * 100; i++) {
		struct ibv_wc wc;

		while (ibv_poll_cq(cq, 1, &wc) == 1) {
			struct wire_hdr h;
			const char *why;
			uint8_t *b;

			if (wc.status != IBV_WC_SUCCESS) {
				printf("completion error: %s\n", ibv_wc_status_str(wc.status));
				return -1;
			}
			if (wc.opcode != IBV_WC_RECV)
				continue;
			b = rbuf + wc.wr_id * BUF;
			if (wire_msg_check(b, wc.byte_len, &h, &why)) {
				printf("agent sent a malformed message: %s\n", why);
				return -1;
			}
			if (h.type == WIRE_ERROR) {
				printf("got ERROR %u: %.*s\n", wire_get32(b + 16), (int)h.length - 4, b + 20);
				if (want == WIRE_ERROR)
					return (int)h.length;
				return -1;
			}
			if (h.type == want) {
				*data = b + 16;
				return (int)h.length;
			}
		}
		usleep(10000);
	}
	printf("timeout waiting for %s\n", wire_type_name(want));
	return -1;
}

static int hostile(struct rdma_cm_id *id, const char *mode)
{
	uint8_t *d = sbuf + WIRE_HDR_LEN, *res;
	struct wire_chunk c = { 0, 0 };
	struct wire_range r = { 0, 0, 4096 };
	uint32_t len = 0, type = 0, repeat = 1;
	struct wire_block_req br = { 0 };
	uint64_t blen;

	if (!strcmp(mode, "silent"))
		return wait_msg(WIRE_ERROR, 60, &res) >= 0 ? 0 : 1;
	/* A well-formed start: learn the destination's block size from RAM blocks. */
	br.length = 4096;
	wire_put_block_req(d, 0, &br);
	if (!strcmp(mode, "dupblocks") || !strcmp(mode, "blocksize")) {
		br.length = strcmp(mode, "blocksize") ? 4096 : 12345 * 4096ull;
	}
	(void)blen;
	if (!strcmp(mode, "blocksize")) {
		wire_put_block_req(d, 0, &br);
		wire_hdr_encode(sbuf, WIRE_RAM_BLOCKS_REQ, 1, WIRE_BLOCK_REQ_LEN);
		send_raw(id, WIRE_HDR_LEN + WIRE_BLOCK_REQ_LEN);
		return wait_msg(WIRE_ERROR, 10, &res) >= 0 ? 0 : 1;
	}
	/* Everything else is sent without a RAM blocks exchange first. */
	if (!strcmp(mode, "badlen")) {
		wire_hdr_encode(sbuf, WIRE_REG_REQ, 1, 100);
		len = WIRE_HDR_LEN + 8;
		goto raw;
	} else if (!strcmp(mode, "truncated")) {
		len = 8;
		wire_put32(sbuf, 0);
		wire_put32(sbuf + 4, WIRE_REG_REQ);
		goto raw;
	} else if (!strcmp(mode, "unknown")) {
		type = 99;
	} else if (!strcmp(mode, "unused")) {
		type = WIRE_UNUSED;
	} else if (!strcmp(mode, "repeat")) {
		type = WIRE_REG_REQ;
		repeat = 5000;
		len = 5000 * WIRE_CHUNK_LEN;
	} else if (!strcmp(mode, "block")) {
		type = WIRE_REG_REQ;
		c.block = 7;
		wire_put_chunk(d, 0, &c);
		len = WIRE_CHUNK_LEN;
	} else if (!strcmp(mode, "chunk")) {
		type = WIRE_REG_REQ;
		c.chunk = 1u << 30;
		wire_put_chunk(d, 0, &c);
		len = WIRE_CHUNK_LEN;
	} else if (!strcmp(mode, "range")) {
		type = WIRE_COMPRESS;
		r.offset = 1ull << 40;
		wire_put_range(d, 0, &r);
		len = WIRE_RANGE_LEN;
	} else if (!strcmp(mode, "reserved")) {
		wire_hdr_encode(sbuf, WIRE_READY, 1, 4);
		wire_put32(sbuf + 12, 1);
		wire_put32(d, 1);
		len = WIRE_HDR_LEN + 4;
		goto raw;
	} else if (!strcmp(mode, "credits")) {
		type = WIRE_READY;
		wire_put32(d, 1000000);
		len = 4;
	} else if (!strcmp(mode, "unreg")) {
		type = WIRE_UNREG_REQ;
		wire_put_chunk(d, 0, &c);
		len = WIRE_CHUNK_LEN;
	} else if (!strcmp(mode, "dupblocks")) {
		type = WIRE_REG_RES;	/* a source never sends a result */
		len = WIRE_REG_RES_LEN;
		memset(d, 0, len);
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}
	wire_hdr_encode(sbuf, type, repeat, len);
	len += WIRE_HDR_LEN;
raw:
	send_raw(id, len);
	return wait_msg(WIRE_ERROR, 10, &res) >= 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	uint32_t version = WIRE_VERSION, chunk = 1 << 20;
	const char *mode = NULL;
	struct sockaddr_storage dst, src;
	struct rdma_conn_param cp = { .responder_resources = 1, .initiator_depth = 1,
				      .retry_count = 7, .rnr_retry_count = 7 };
	struct rdma_cm_event *ev;
	struct rdma_cm_id *id;
	uint8_t pdb[WIRE_PD_LEN];
	struct wire_pd p;
	char *host, *port;
	int i, listen_mode, attempts = 0;

	if (argc < 3)
		return 2;
	listen_mode = !strcmp(argv[1], "listen");
	host = strdup(argv[2]);
	port = strrchr(host, ':');
	*port++ = 0;
	for (i = listen_mode ? 3 : 4; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--version"))
			version = (uint32_t)strtoul(argv[i + 1], 0, 0);
		else if (!strcmp(argv[i], "--chunk"))
			chunk = (uint32_t)strtoul(argv[i + 1], 0, 0);
		else if (!strcmp(argv[i], "--send"))
			mode = argv[i + 1];
	}
	p = (struct wire_pd){ .version = version, .caps = WIRE_CAPS_KNOWN,
			      .chunk_size = chunk, .credits = 16 };
	if (listen_mode)	/* a destination grants only what a dynamic source offers */
		p.caps = WIRE_CAP_ZERO_RANGE;
	wire_pd_encode(pdb, &p);
	cp.private_data = pdb;
	cp.private_data_len = sizeof(pdb);
	ec = rdma_create_event_channel();
	sa(host, port, &dst);
	if (listen_mode) {
		struct rdma_cm_id *lid;

		rdma_create_id(ec, &lid, NULL, RDMA_PS_TCP);
		if (rdma_bind_addr(lid, (struct sockaddr *)&dst) || rdma_listen(lid, 1)) {
			perror("listen");
			return 2;
		}
		ev = get_ev();
		if (ev->event != RDMA_CM_EVENT_CONNECT_REQUEST)
			return 2;
		id = ev->id;
		rdma_ack_cm_event(ev);
		setup_qp(id);
		if (rdma_accept(id, &cp)) {
			perror("accept");
			return 2;
		}
		if (mode && !strcmp(mode, "silent")) {
			uint8_t *res;

			ev = get_ev();
			rdma_ack_cm_event(ev);
			if (wait_msg(WIRE_RAM_BLOCKS_REQ, 20, &res) < 0)
				return 1;
			printf("got RAM blocks request, staying silent\n");
			return wait_msg(WIRE_ERROR, 60, &res) >= 0 ? 0 : 1;
		}
		/* The source must refuse: it disconnects and never sends RAM blocks. */
		for (i = 0; i < 100; i++) {
			struct ibv_wc wc;

			ev = NULL;
			if (ibv_poll_cq(cq, 1, &wc) == 1 && wc.status == IBV_WC_SUCCESS &&
			    wc.opcode == IBV_WC_RECV &&
			    wire_get32(rbuf + wc.wr_id * BUF + 4) == WIRE_RAM_BLOCKS_REQ) {
				printf("source went on despite the bad accept\n");
				return 1;
			}
			usleep(50000);
		}
		printf("source did not proceed\n");
		return 0;
	}
	sa(argv[3], NULL, &src);
retry:
	rdma_create_id(ec, &id, NULL, RDMA_PS_TCP);
	if (rdma_resolve_addr(id, (struct sockaddr *)&src, (struct sockaddr *)&dst, 5000))
		return 2;
	ev = get_ev();
	rdma_ack_cm_event(ev);
	rdma_resolve_route(id, 5000);
	ev = get_ev();
	rdma_ack_cm_event(ev);
	setup_qp(id);
	if (rdma_connect(id, &cp)) {
		perror("connect");
		return 2;
	}
	ev = get_ev();
	if (ev->event == RDMA_CM_EVENT_REJECTED) {
		struct wire_rej r;
		char text[80];

		if (wire_rej_decode(ev->param.conn.private_data, ev->param.conn.private_data_len,
				    &r, text, sizeof(text)) == 0)
			printf("rejected: reason %u (%s), detail %u: %s\n", r.reason,
			       wire_rej_reason_str(r.reason), r.detail, text);
		else if (++attempts < 60) {
			/* Nobody listening yet: the agent is still starting. */
			rdma_ack_cm_event(ev);
			rdma_destroy_qp(id);
			rdma_destroy_id(id);
			usleep(500000);
			goto retry;
		} else
			printf("rejected without rdmig reason\n");
		return mode ? 1 : 0;
	}
	if (ev->event != RDMA_CM_EVENT_ESTABLISHED) {
		printf("connect: %s\n", rdma_event_str(ev->event));
		return 1;
	}
	rdma_ack_cm_event(ev);
	if (!mode) {
		printf("connection was accepted\n");
		return 1;
	}
	i = hostile(id, mode);
	rdma_disconnect(id);
	return i;
}
