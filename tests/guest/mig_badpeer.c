// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A peer that speaks the wrong protocol: connects to a listening rdmigd
 * with private data of another version or chunk size and expects to be
 * rejected with a reason.
 *
 *   mig_badpeer DST_ADDR PORT SRC_ADDR VERSION CHUNK_SIZE
 * VERSION is a number or "current" (this tree's WIRE_VERSION).
 * Exit 0 when rejected (the reject text is printed), 1 when accepted,
 * 2 on any other failure.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rdma/rdma_cma.h>

#include "../../user/rdmigd/wire.h"

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
}

static int expect(struct rdma_event_channel *ch, enum rdma_cm_event_type want,
		  struct rdma_cm_event **out)
{
	struct rdma_cm_event *ev;

	if (rdma_get_cm_event(ch, &ev))
		return -1;
	if (ev->event != want) {
		*out = ev;
		return 1;
	}
	rdma_ack_cm_event(ev);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET }, src = { .sin_family = AF_INET };
	struct rdma_conn_param cp = { .responder_resources = 1, .initiator_depth = 1,
				      .retry_count = 3, .rnr_retry_count = 3 };
	struct ibv_qp_init_attr qa = { .cap = { .max_send_wr = 4, .max_recv_wr = 4,
						.max_send_sge = 1, .max_recv_sge = 1 },
				       .qp_type = IBV_QPT_RC };
	struct rdma_event_channel *ch;
	struct rdma_cm_event *ev = NULL;
	struct rdma_cm_id *id;
	uint8_t pd[24] = { 0 };
	int r;

	if (argc != 6) {
		fprintf(stderr, "usage: %s DST PORT SRC VERSION CHUNK\n", argv[0]);
		return 2;
	}
	inet_pton(AF_INET, argv[1], &dst.sin_addr);
	dst.sin_port = htons(atoi(argv[2]));
	inet_pton(AF_INET, argv[3], &src.sin_addr);
	/* "current": this tree's version, so a test of another field does
	 * not start failing on its version at the next protocol bump. */
	put32(pd, strcmp(argv[4], "current") ? strtoul(argv[4], NULL, 0) : WIRE_VERSION);
	put32(pd + 8, strtoul(argv[5], NULL, 0));
	put32(pd + 12, 16);
	cp.private_data = pd;
	cp.private_data_len = sizeof(pd);

	ch = rdma_create_event_channel();
	if (!ch || rdma_create_id(ch, &id, NULL, RDMA_PS_TCP))
		return 2;
	if (rdma_resolve_addr(id, (struct sockaddr *)&src, (struct sockaddr *)&dst, 2000) ||
	    expect(ch, RDMA_CM_EVENT_ADDR_RESOLVED, &ev) ||
	    rdma_resolve_route(id, 2000) ||
	    expect(ch, RDMA_CM_EVENT_ROUTE_RESOLVED, &ev)) {
		fprintf(stderr, "cannot resolve %s from %s\n", argv[1], argv[3]);
		return 2;
	}
	if (rdma_create_qp(id, NULL, &qa) || rdma_connect(id, &cp)) {
		perror("connect");
		return 2;
	}
	r = expect(ch, RDMA_CM_EVENT_ESTABLISHED, &ev);
	if (r == 0) {
		printf("accepted\n");
		return 1;
	}
	if (r < 0 || ev->event != RDMA_CM_EVENT_REJECTED) {
		fprintf(stderr, "unexpected event %s\n", ev ? rdma_event_str(ev->event) : "none");
		return 2;
	}
	printf("rejected, status %d", ev->status);
	if (ev->param.conn.private_data_len > 16) {
		const char *t = (const char *)ev->param.conn.private_data + 16;
		int n = ev->param.conn.private_data_len - 16;

		printf(": %.*s", n, t);
	}
	printf("\n");
	rdma_ack_cm_event(ev);
	rdma_destroy_qp(id);
	rdma_destroy_id(id);
	rdma_destroy_event_channel(ch);
	return 0;
}
