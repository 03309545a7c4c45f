// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A hostile data QP join (tests/guest/47-qps.sh): connects to a
 * destination rdmigd with a JOIN record (protocol.md, "Several QPs") for
 * data QP INDEX of N with a random token, as a peer without the join key
 * would, and reports the answer:
 *
 *   join_peer ADDR PORT BIND INDEX N
 *
 * Exit 0 if the destination refused it with WIRE_REJ_JOIN (its text on
 * stdout), 1 if it refused for another reason or did not answer, 2 if it
 * accepted the join.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <openssl/rand.h>
#include <rdma/rdma_cma.h>

#include "../../user/rdmigd/wire.h"

static struct rdma_cm_event *wait_ev(struct rdma_event_channel *ec, int ms)
{
	struct pollfd p = { .fd = ec->fd, .events = POLLIN };
	struct rdma_cm_event *ev;

	if (poll(&p, 1, ms) <= 0 || rdma_get_cm_event(ec, &ev))
		return NULL;
	return ev;
}

static int expect(struct rdma_event_channel *ec, enum rdma_cm_event_type t)
{
	struct rdma_cm_event *ev = wait_ev(ec, 5000);
	int got;

	if (!ev) {
		fprintf(stderr, "join_peer: no CM event (waiting for %s)\n", rdma_event_str(t));
		return -1;
	}
	got = ev->event;
	rdma_ack_cm_event(ev);
	if (got != (int)t) {
		fprintf(stderr, "join_peer: %s, expected %s\n",
			rdma_event_str((enum rdma_cm_event_type)got), rdma_event_str(t));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET }, src = { .sin_family = AF_INET };
	struct rdma_conn_param cp = { .responder_resources = 1, .initiator_depth = 1,
				      .retry_count = 7, .rnr_retry_count = 7 };
	struct ibv_qp_init_attr qa = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 4, .max_recv_wr = 4, .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct rdma_event_channel *ec;
	struct rdma_cm_event *ev;
	struct rdma_cm_id *id;
	uint8_t pd[WIRE_JOIN_LEN];
	struct wire_join j;
	struct wire_rej r;
	char text[80];
	struct ibv_pd *ipd;
	struct ibv_cq *cq;
	int e, rc;

	if (argc != 6 || inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[3], &src.sin_addr) != 1) {
		fprintf(stderr, "usage: join_peer ADDR PORT BIND INDEX N\n");
		return 1;
	}
	dst.sin_port = htons((uint16_t)atoi(argv[2]));
	j.index = (uint32_t)atoi(argv[4]);
	j.n = (uint32_t)atoi(argv[5]);
	/* Without the join key: any token is a guess. */
	if (RAND_bytes(j.token, sizeof(j.token)) != 1)
		return 1;
	wire_join_encode(pd, &j);
	ec = rdma_create_event_channel();
	if (!ec || rdma_create_id(ec, &id, NULL, RDMA_PS_TCP) ||
	    rdma_resolve_addr(id, (struct sockaddr *)&src, (struct sockaddr *)&dst, 2000) ||
	    expect(ec, RDMA_CM_EVENT_ADDR_RESOLVED) || rdma_resolve_route(id, 2000) ||
	    expect(ec, RDMA_CM_EVENT_ROUTE_RESOLVED)) {
		fprintf(stderr, "join_peer: resolving %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	ipd = ibv_alloc_pd(id->verbs);
	cq = ibv_create_cq(id->verbs, 8, NULL, NULL, 0);
	qa.send_cq = qa.recv_cq = cq;
	if (!ipd || !cq || rdma_create_qp(id, ipd, &qa)) {
		fprintf(stderr, "join_peer: QP: %s\n", strerror(errno));
		return 1;
	}
	cp.private_data = pd;
	cp.private_data_len = sizeof(pd);
	if (rdma_connect(id, &cp)) {
		fprintf(stderr, "join_peer: rdma_connect: %s\n", strerror(errno));
		return 1;
	}
	ev = wait_ev(ec, 10000);
	if (!ev) {
		printf("no answer to the join\n");
		return 1;
	}
	e = ev->event;
	rc = 1;
	if (e == RDMA_CM_EVENT_ESTABLISHED) {
		printf("join accepted\n");
		rc = 2;
	} else if (e == RDMA_CM_EVENT_REJECTED &&
		   wire_rej_decode(ev->param.conn.private_data, ev->param.conn.private_data_len,
				   &r, text, sizeof(text)) == 0) {
		printf("rejected, reason %u (%s): %s\n", r.reason, wire_rej_reason_str(r.reason), text);
		rc = r.reason == WIRE_REJ_JOIN ? 0 : 1;
	} else {
		printf("answer: %s\n", rdma_event_str((enum rdma_cm_event_type)e));
	}
	rdma_ack_cm_event(ev);
	if (rc == 2)
		rdma_disconnect(id);
	rdma_destroy_qp(id);
	rdma_destroy_id(id);
	ibv_destroy_cq(cq);
	ibv_dealloc_pd(ipd);
	rdma_destroy_event_channel(ec);
	return rc;
}
