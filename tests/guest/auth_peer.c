// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * An impostor source for tests/guest/44-auth.sh: connects to a listening
 * rdmigd destination and tries to obtain an rkey (the right to RDMA
 * WRITE into the destination's guest RAM) without the secret.
 *
 *   auth_peer DST PORT SRC MODE [SECRET_FILE] [--blocks LEN[,LEN..]]
 *             [--hold-ms MS]
 * MODE:
 *   plain    offers no authentication (what any source did before)
 *   wrong    authenticates with SECRET_FILE (not the destination's)
 *   replay   with the right SECRET_FILE: computes the proof of a first
 *            connection without sending it, then replays the same request
 *            and that proof in a second connection (a recorded exchange)
 *   reflect  answers the destination's own proof back to it
 *   hold     offers authentication, then says nothing for --hold-ms (or
 *            until SIGUSR1: the test saw what it waited for meanwhile)
 * After its AUTH (if any) it asks for the RAM blocks and a registration,
 * as a source does, and watches for an rkey.
 * Exit 0: refused (the reason is printed); 1: it got an rkey or was
 * served; 2: the test itself failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <rdma/rdma_cma.h>

#include "../../user/rdmigd/auth.h"
#include "../../user/rdmigd/wire.h"

#define NRECV	8
#define BUFSZ	WIRE_MAX_MSG

struct peer {
	struct rdma_event_channel *ch;
	struct rdma_cm_id *id;
	struct ibv_mr *rmr, *smr;
	uint8_t *rbuf, *sbuf;
	struct auth_transcript at;
	uint8_t dmac[AUTH_MAC_LEN];
	bool auth;
};

static const char *dst_s, *port_s, *src_s;
static uint64_t blocks[16] = { 16u << 20 };
static uint32_t nblocks = 1;

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static int get_event(struct rdma_event_channel *ch, struct rdma_cm_event **ev, int ms)
{
	struct pollfd p = { .fd = ch->fd, .events = POLLIN };

	if (poll(&p, 1, ms) <= 0)
		return -1;
	return rdma_get_cm_event(ch, ev);
}

static int expect(struct rdma_event_channel *ch, enum rdma_cm_event_type want)
{
	struct rdma_cm_event *ev;
	int got;

	if (get_event(ch, &ev, 5000))
		return -1;
	got = ev->event;
	rdma_ack_cm_event(ev);
	return got == (int)want ? 0 : -1;
}

static int post_recv(struct peer *p, uint32_t i)
{
	struct ibv_sge sge = { (uintptr_t)(p->rbuf + (size_t)i * BUFSZ), BUFSZ, p->rmr->lkey };
	struct ibv_recv_wr wr = { .wr_id = i, .sg_list = &sge, .num_sge = 1 }, *bad;

	return ibv_post_recv(p->id->qp, &wr, &bad);
}

static int send_msg(struct peer *p, uint32_t type, uint32_t repeat, const void *d, uint32_t len)
{
	struct ibv_sge sge = { (uintptr_t)p->sbuf, WIRE_HDR_LEN + len, p->smr->lkey };
	struct ibv_send_wr wr = { .sg_list = &sge, .num_sge = 1, .opcode = IBV_WR_SEND,
				  .send_flags = IBV_SEND_SIGNALED }, *bad;
	struct ibv_wc wc;
	uint64_t t0 = now_ms();
	int n;

	wire_hdr_encode(p->sbuf, type, repeat, len);
	memcpy(p->sbuf + WIRE_HDR_LEN, d, len);
	if (ibv_post_send(p->id->qp, &wr, &bad))
		return -1;
	while ((n = ibv_poll_cq(p->id->send_cq, 1, &wc)) == 0 && now_ms() - t0 < 5000)
		usleep(1000);
	return n == 1 && wc.status == IBV_WC_SUCCESS ? 0 : -1;
}

/* Connects offering authentication if @ns is given. 0 accepted, 1 rejected. */
static int connect_peer(struct peer *p, const uint8_t *ns, bool auth)
{
	struct sockaddr_in dst = { .sin_family = AF_INET }, src = { .sin_family = AF_INET };
	struct rdma_conn_param cp = { .responder_resources = 1, .initiator_depth = 1,
				      .retry_count = 7, .rnr_retry_count = 7 };
	struct ibv_qp_init_attr qa = { .cap = { .max_send_wr = 8, .max_recv_wr = NRECV,
						.max_send_sge = 1, .max_recv_sge = 1 },
				       .qp_type = IBV_QPT_RC };
	struct wire_pd pd = { .version = WIRE_VERSION, .caps = WIRE_CAP_ZERO_RANGE,
			      .chunk_size = 1u << 20, .credits = NRECV };
	uint8_t buf[WIRE_PD_AUTH_REQ_LEN] = { 0 };
	struct rdma_cm_event *ev;
	uint32_t i;

	memset(p, 0, sizeof(*p));
	inet_pton(AF_INET, dst_s, &dst.sin_addr);
	dst.sin_port = htons((uint16_t)atoi(port_s));
	inet_pton(AF_INET, src_s, &src.sin_addr);
	if (auth)
		pd.caps |= WIRE_CAP_AUTH;
	wire_pd_encode(buf, &pd);
	memcpy(p->at.req_pd, buf, WIRE_PD_LEN);
	cp.private_data = buf;
	cp.private_data_len = WIRE_PD_LEN;
	if (auth) {
		memcpy(buf + WIRE_PD_LEN, ns, WIRE_NONCE_LEN);
		memcpy(p->at.ns, ns, WIRE_NONCE_LEN);
		cp.private_data_len = WIRE_PD_AUTH_REQ_LEN;
	}
	p->ch = rdma_create_event_channel();
	if (!p->ch || rdma_create_id(p->ch, &p->id, NULL, RDMA_PS_TCP))
		return -1;
	if (rdma_resolve_addr(p->id, (struct sockaddr *)&src, (struct sockaddr *)&dst, 2000) ||
	    expect(p->ch, RDMA_CM_EVENT_ADDR_RESOLVED) ||
	    rdma_resolve_route(p->id, 2000) || expect(p->ch, RDMA_CM_EVENT_ROUTE_RESOLVED)) {
		fprintf(stderr, "auth_peer: cannot resolve %s from %s\n", dst_s, src_s);
		return -1;
	}
	if (rdma_create_qp(p->id, NULL, &qa))
		return -1;
	p->rbuf = calloc(NRECV, BUFSZ);
	p->sbuf = calloc(1, BUFSZ);
	p->rmr = ibv_reg_mr(p->id->pd, p->rbuf, (size_t)NRECV * BUFSZ, IBV_ACCESS_LOCAL_WRITE);
	p->smr = ibv_reg_mr(p->id->pd, p->sbuf, BUFSZ, IBV_ACCESS_LOCAL_WRITE);
	if (!p->rmr || !p->smr)
		return -1;
	for (i = 0; i < NRECV; i++)
		if (post_recv(p, i))
			return -1;
	if (rdma_connect(p->id, &cp))
		return -1;
	if (get_event(p->ch, &ev, 15000)) {
		fprintf(stderr, "auth_peer: no answer to the connect request\n");
		return -1;
	}
	if (ev->event == RDMA_CM_EVENT_REJECTED) {
		struct wire_rej r;
		char text[80];

		if (wire_rej_decode(ev->param.conn.private_data,
				    ev->param.conn.private_data_len, &r, text, sizeof(text)))
			printf("rejected (no rdmig reject data)\n");
		else
			printf("rejected: reason %u (%s): %s\n", r.reason,
			       wire_rej_reason_str(r.reason), text);
		rdma_ack_cm_event(ev);
		return 1;
	}
	if (ev->event != RDMA_CM_EVENT_ESTABLISHED) {
		fprintf(stderr, "auth_peer: unexpected %s\n", rdma_event_str(ev->event));
		rdma_ack_cm_event(ev);
		return -1;
	}
	{
		const uint8_t *a = ev->param.conn.private_data;
		struct wire_pd acc;
		const char *why;

		if (wire_pd_decode(a, ev->param.conn.private_data_len, &acc, &why)) {
			fprintf(stderr, "auth_peer: bad accept: %s\n", why);
			rdma_ack_cm_event(ev);
			return -1;
		}
		p->auth = acc.caps & WIRE_CAP_AUTH;
		if (p->auth) {
			memcpy(p->at.acc_pd, a, WIRE_PD_LEN);
			memcpy(p->at.nd, a + WIRE_PD_LEN, WIRE_NONCE_LEN);
			memcpy(p->dmac, a + WIRE_PD_LEN + WIRE_NONCE_LEN, AUTH_MAC_LEN);
		}
		auth_endpoint_set(&p->at.src, rdma_get_local_addr(p->id), p->id->qp->qp_num);
		auth_endpoint_set(&p->at.dst, rdma_get_peer_addr(p->id), ev->param.conn.qp_num);
	}
	rdma_ack_cm_event(ev);
	printf("accepted%s\n", p->auth ? " (authentication granted)" : " (no authentication)");
	return 0;
}

static void close_peer(struct peer *p)
{
	rdma_disconnect(p->id);
	usleep(200000);
	rdma_destroy_qp(p->id);
	ibv_dereg_mr(p->rmr);
	ibv_dereg_mr(p->smr);
	rdma_destroy_id(p->id);
	rdma_destroy_event_channel(p->ch);
	free(p->rbuf);
	free(p->sbuf);
}

/*
 * Handles what the destination sends for up to @ms: 0 refused (ERROR or
 * disconnect), 1 an rkey arrived, 2 nothing decisive.
 */
static int watch(struct peer *p, int ms, bool *asked)
{
	uint64_t t0 = now_ms();

	fcntl(p->ch->fd, F_SETFL, O_NONBLOCK);
	while (now_ms() - t0 < (uint64_t)ms) {
		struct ibv_wc wc;
		struct rdma_cm_event *ev;
		int n = ibv_poll_cq(p->id->recv_cq, 1, &wc);

		if (n == 0) {
			if (rdma_get_cm_event(p->ch, &ev) == 0) {
				int t = ev->event;

				rdma_ack_cm_event(ev);
				if (t == RDMA_CM_EVENT_DISCONNECTED) {
					/* an ERROR may still sit in the CQ */
					usleep(50000);
					if (ibv_poll_cq(p->id->recv_cq, 1, &wc) != 1) {
						printf("refused: disconnected by the destination\n");
						return 0;
					}
					n = 1;
				}
			}
			if (n == 0) {
				usleep(2000);
				continue;
			}
		}
		if (n < 0 || wc.status != IBV_WC_SUCCESS) {
			printf("refused: receive failed (%s)\n",
			       n < 0 ? "poll" : ibv_wc_status_str(wc.status));
			return 0;
		}
		{
			const uint8_t *b = p->rbuf + (size_t)wc.wr_id * BUFSZ;
			struct wire_hdr h;
			const char *why;

			if (wire_msg_check(b, wc.byte_len, &h, &why)) {
				printf("malformed message: %s\n", why);
				return 0;
			}
			if (h.type == WIRE_ERROR) {
				printf("refused: ERROR %u: %.*s\n", wire_get32(b + WIRE_HDR_LEN),
				       (int)(h.length - 4), (const char *)b + WIRE_HDR_LEN + 4);
				return 0;
			}
			if (h.type == WIRE_RAM_BLOCKS_RES) {
				struct wire_block_res r;

				wire_get_block_res(b + WIRE_HDR_LEN, 0, &r);
				if (r.rkey) {
					printf("GOT RKEY 0x%x for block 0 (pin-all)\n", r.rkey);
					return 1;
				}
				if (!*asked) {
					struct wire_chunk c = { 0, 0 };
					uint8_t cd[WIRE_CHUNK_LEN];

					wire_put_chunk(cd, 0, &c);
					send_msg(p, WIRE_REG_REQ, 1, cd, sizeof(cd));
					*asked = true;
				}
			}
			if (h.type == WIRE_REG_RES) {
				struct wire_reg_res r;

				wire_get_reg_res(b + WIRE_HDR_LEN, 0, &r);
				printf("GOT RKEY 0x%x for block 0 chunk 0 at 0x%llx\n", r.rkey,
				       (unsigned long long)r.addr);
				return 1;
			}
			post_recv(p, (uint32_t)wc.wr_id);
		}
	}
	return 2;
}

/*
 * Acts as a source after its AUTH: RAM blocks, then a register request.
 * 0: refused (ERROR or disconnect), 1: got an rkey.
 */
static volatile sig_atomic_t released;

static void on_usr1(int sig)
{
	(void)sig;
	released = 1;
}

/* Says nothing for @ms, or until SIGUSR1. */
static void hold(int ms)
{
	struct timespec step = { .tv_nsec = 20 * 1000000L };
	int i;

	for (i = 0; i < ms / 20 && !released; i++)
		nanosleep(&step, NULL);
}

static int try_for_rkey(struct peer *p)
{
	uint8_t d[16 * WIRE_BLOCK_REQ_LEN];
	bool asked = false;
	uint32_t i;
	int rc;

	/* A refusal of the AUTH comes at once: read it before going on. */
	rc = watch(p, 300, &asked);
	if (rc != 2)
		return rc;
	for (i = 0; i < nblocks; i++) {
		struct wire_block_req e = { .length = blocks[i] };

		wire_put_block_req(d, i, &e);
	}
	if (send_msg(p, WIRE_RAM_BLOCKS_REQ, nblocks, d, nblocks * WIRE_BLOCK_REQ_LEN)) {
		rc = watch(p, 300, &asked);
		if (rc != 2)
			return rc;
		printf("refused: the destination closed the connection\n");
		return 0;
	}
	rc = watch(p, 10000, &asked);
	if (rc == 2)
		printf("neither refused nor served within 10 s\n");
	return rc == 2 ? 1 : rc;
}

int main(int argc, char **argv)
{
	struct auth_secret k = { 0 };
	uint8_t ns[AUTH_NONCE_LEN], mac[AUTH_MAC_LEN], saved[AUTH_MAC_LEN];
	uint8_t nd1[AUTH_NONCE_LEN];
	const char *mode, *secret = NULL;
	struct peer p;
	char err[512];
	int i, rc, hold_ms = 8000;

	signal(SIGUSR1, on_usr1);

	if (argc < 5) {
		fprintf(stderr, "usage: %s DST PORT SRC MODE [SECRET_FILE] [--blocks L,..] [--hold-ms MS]\n",
			argv[0]);
		return 2;
	}
	dst_s = argv[1];
	port_s = argv[2];
	src_s = argv[3];
	mode = argv[4];
	for (i = 5; i < argc; i++) {
		if (!strcmp(argv[i], "--blocks") && i + 1 < argc) {
			char *s = argv[++i], *tok;

			nblocks = 0;
			for (tok = strtok(s, ","); tok && nblocks < 16; tok = strtok(NULL, ","))
				blocks[nblocks++] = strtoull(tok, NULL, 0);
		} else if (!strcmp(argv[i], "--hold-ms") && i + 1 < argc) {
			hold_ms = atoi(argv[++i]);
		} else {
			secret = argv[i];
		}
	}
	if (secret && auth_secret_load(&k, secret, err, sizeof(err))) {
		fprintf(stderr, "auth_peer: %s\n", err);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	auth_nonce(ns);

	if (!strcmp(mode, "plain")) {
		rc = connect_peer(&p, NULL, false);
		if (rc)
			return rc < 0 ? 2 : 0;
		rc = try_for_rkey(&p);
		close_peer(&p);
		return rc;
	}
	if (!strcmp(mode, "hold")) {
		rc = connect_peer(&p, ns, true);
		if (rc)
			return rc < 0 ? 2 : 0;
		hold(hold_ms);
		if (k.set && p.auth) {
			auth_mac(&k, AUTH_ROLE_SRC, &p.at, mac);
			send_msg(&p, WIRE_AUTH, 1, mac, sizeof(mac));
		}
		rc = try_for_rkey(&p);
		close_peer(&p);
		return rc;
	}
	if (!strcmp(mode, "wrong") || !strcmp(mode, "reflect")) {
		if (!k.set && !strcmp(mode, "wrong")) {
			fprintf(stderr, "auth_peer: wrong needs a secret file\n");
			return 2;
		}
		rc = connect_peer(&p, ns, true);
		if (rc)
			return rc < 0 ? 2 : 0;
		if (!p.auth) {
			printf("the destination does not authenticate\n");
		} else if (!strcmp(mode, "wrong")) {
			printf("destination's proof %s with our secret\n",
			       auth_verify(&k, AUTH_ROLE_DST, &p.at, p.dmac) ? "does not verify" : "verifies");
			auth_mac(&k, AUTH_ROLE_SRC, &p.at, mac);
			send_msg(&p, WIRE_AUTH, 1, mac, sizeof(mac));
		} else {
			send_msg(&p, WIRE_AUTH, 1, p.dmac, sizeof(p.dmac));
		}
		rc = try_for_rkey(&p);
		close_peer(&p);
		return rc;
	}
	if (!strcmp(mode, "replay")) {
		if (!k.set) {
			fprintf(stderr, "auth_peer: replay needs the secret file\n");
			return 2;
		}
		/* 1: a legitimate exchange, recorded; its proof is never sent. */
		rc = connect_peer(&p, ns, true);
		if (rc)
			return rc < 0 ? 2 : 0;
		if (!p.auth || auth_verify(&k, AUTH_ROLE_DST, &p.at, p.dmac)) {
			fprintf(stderr, "auth_peer: the first exchange is not legitimate\n");
			return 2;
		}
		auth_mac(&k, AUTH_ROLE_SRC, &p.at, saved);
		memcpy(nd1, p.at.nd, sizeof(nd1));
		printf("recorded a valid source proof for the first connection\n");
		close_peer(&p);
		usleep(500000);
		/* 2: the same request (same Ns) and the recorded proof. */
		rc = connect_peer(&p, ns, true);
		if (rc)
			return rc < 0 ? 2 : 0;
		printf("second connection: destination nonce %s\n",
		       memcmp(p.at.nd, nd1, sizeof(nd1)) ? "fresh" : "REPEATED");
		send_msg(&p, WIRE_AUTH, 1, saved, sizeof(saved));
		rc = try_for_rkey(&p);
		close_peer(&p);
		return rc;
	}
	fprintf(stderr, "auth_peer: unknown mode %s\n", mode);
	return 2;
}
