// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Connection setup and teardown with librdmacm (RC, RDMA_PS_TCP), in the
 * manner of rdma-core's rping: resolve, create PD/CQ/QP, post receives,
 * connect/accept with the version/capability private data. Both sides
 * check the peer's private data and refuse with a clear error.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "conn.h"
#include "log.h"

void conn_established(struct conn *c)
{
	c->connected = true;
	c->last_rx_us = c->last_tx_us = c->last_done_us = conn_now_us();
}

void conn_init(struct conn *c, atomic_bool *cancel, uint32_t timeout_ms,
	       conn_msg_fn fn, void *arg)
{
	memset(c, 0, sizeof(*c));
	c->cancel = cancel;
	c->timeout_ms = timeout_ms;
	c->on_msg = fn;
	c->arg = arg;
}

int conn_fail(struct conn *c, const char *fmt, ...)
{
	char buf[sizeof(c->err)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!c->failed) {
		c->failed = true;
		memcpy(c->err, buf, sizeof(buf));
		log_err("%s", buf);
	} else {
		log_dbg("after failure: %s", buf);
	}
	return -1;
}

static int resolve(const char *host, const char *port, struct sockaddr_storage *ss,
		   char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC }, *res;
	int rc = getaddrinfo(host, port, &hints, &res);

	if (rc) {
		snprintf(err, errlen, "cannot resolve %s: %s", host,
			 gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

/*
 * Waits for the next CM event, checking for cancellation every 100 ms.
 * @timeout_ms < 0: forever.
 */
static int next_event(struct conn *c, struct rdma_cm_event **ev, int timeout_ms)
{
	int waited = 0;

	for (;;) {
		struct pollfd p = { .fd = c->ec->fd, .events = POLLIN };
		int rc;

		if (c->cancel && atomic_load(c->cancel))
			return conn_fail(c, "migration cancelled");
		rc = poll(&p, 1, 100);
		if (rc < 0 && errno != EINTR)
			return conn_fail(c, "poll: %s", strerror(errno));
		if (rc > 0) {
			if (rdma_get_cm_event(c->ec, ev) == 0)
				return 0;
			if (errno != EAGAIN)
				return conn_fail(c, "rdma_get_cm_event: %s",
						 strerror(errno));
		}
		waited += 100;
		if (timeout_ms >= 0 && waited >= timeout_ms)
			return conn_fail(c, "timed out waiting for the peer");
	}
}

static int make_channel(struct conn *c)
{
	c->ec = rdma_create_event_channel();
	if (!c->ec)
		return conn_fail(c, "rdma_create_event_channel: %s (is an RDMA device configured?)",
				 strerror(errno));
	fcntl(c->ec->fd, F_SETFL, fcntl(c->ec->fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

static int create_qp(struct conn *c, struct rdma_cm_id *id)
{
	struct ibv_qp_init_attr qa = { 0 };

	c->pd = ibv_alloc_pd(id->verbs);
	if (!c->pd)
		return conn_fail(c, "ibv_alloc_pd: %s", strerror(errno));
	c->cc = ibv_create_comp_channel(id->verbs);
	if (!c->cc)
		return conn_fail(c, "ibv_create_comp_channel: %s", strerror(errno));
	fcntl(c->cc->fd, F_SETFL, fcntl(c->cc->fd, F_GETFL) | O_NONBLOCK);
	c->cq = ibv_create_cq(id->verbs, CONN_RECV_DEPTH + CONN_SQ_DEPTH + 16,
			      c, c->cc, 0);
	if (!c->cq)
		return conn_fail(c, "ibv_create_cq: %s", strerror(errno));
	qa.send_cq = c->cq;
	qa.recv_cq = c->cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = CONN_SQ_DEPTH;
	qa.cap.max_recv_wr = CONN_RECV_DEPTH;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	if (rdma_create_qp(id, c->pd, &qa))
		return conn_fail(c, "rdma_create_qp: %s", strerror(errno));
	c->qp_created = true;
	c->id = id;
	if (conn_setup_buffers(c) || conn_post_initial_recvs(c))
		return -1;
	return 0;
}

int conn_listen(struct conn *c, const char *addr, const char *port)
{
	struct sockaddr_storage ss;
	char err[256];

	if (make_channel(c))
		return -1;
	if (rdma_create_id(c->ec, &c->listen_id, c, RDMA_PS_TCP))
		return conn_fail(c, "rdma_create_id: %s", strerror(errno));
	if (resolve(addr, port, &ss, err, sizeof(err)))
		return conn_fail(c, "%s", err);
	if (rdma_bind_addr(c->listen_id, (struct sockaddr *)&ss))
		return conn_fail(c, "cannot listen on %s:%s: %s", addr, port,
				 strerror(errno));
	if (rdma_listen(c->listen_id, 4))
		return conn_fail(c, "rdma_listen: %s", strerror(errno));
	log_dbg("listening on %s:%s", addr, port);
	return 0;
}

static void reject(struct rdma_cm_id *id, uint32_t reason, uint32_t detail,
		   const char *text)
{
	uint8_t buf[WIRE_REJ_LEN + 64];
	struct wire_rej r = {
		.version = WIRE_VERSION, .reason = reason, .detail = detail,
	};
	size_t n = wire_rej_encode(buf, sizeof(buf), &r, text);

	if (rdma_reject(id, buf, (uint8_t)n))
		log_err("rdma_reject: %s", strerror(errno));
}

static const char *peer_name(struct rdma_cm_id *id, char *buf, size_t len)
{
	struct sockaddr *sa = rdma_get_peer_addr(id);

	buf[0] = '\0';
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, buf,
			  (socklen_t)len);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr,
			  buf, (socklen_t)len);
	return buf[0] ? buf : "?";
}

int conn_accept(struct conn *c, const struct wire_pd *local,
		uint32_t accept_caps)
{
	struct rdma_cm_event *ev;
	struct rdma_conn_param cp = { 0 };
	uint8_t pd[WIRE_PD_LEN];
	struct wire_pd peer;
	const char *why;
	char who[64];
	int rc;

	for (;;) {
		if (next_event(c, &ev, -1))
			return -1;
		if (ev->event == RDMA_CM_EVENT_CONNECT_REQUEST)
			break;
		log_dbg("ignoring CM event %s while listening",
			rdma_event_str(ev->event));
		rdma_ack_cm_event(ev);
	}
	peer_name(ev->id, who, sizeof(who));
	rc = wire_pd_decode(ev->param.conn.private_data,
			    ev->param.conn.private_data_len, &peer, &why);
	if (rc == WIRE_REJ_VERSION) {
		reject(ev->id, rc, WIRE_VERSION, "protocol version mismatch");
		rdma_ack_cm_event(ev);
		return conn_fail(c, "refused %s: it speaks protocol version %u, this agent speaks %u",
				 who, peer.version, WIRE_VERSION);
	}
	if (rc) {
		reject(ev->id, rc, rc == WIRE_REJ_CHUNK_SIZE ? local->chunk_size : 0, why);
		rdma_ack_cm_event(ev);
		return conn_fail(c, "refused %s: %s", who, why);
	}
	if (peer.chunk_size != local->chunk_size) {
		reject(ev->id, WIRE_REJ_CHUNK_SIZE, local->chunk_size,
		       "chunk size mismatch");
		rdma_ack_cm_event(ev);
		return conn_fail(c, "refused %s: chunk size %u differs from this side's %u",
				 who, peer.chunk_size, local->chunk_size);
	}
	c->peer = peer;
	c->local = *local;
	c->caps = peer.caps & accept_caps;
	c->local.caps = c->caps;
	c->credits = peer.credits;
	c->peer_credits_max = peer.credits;
	if (create_qp(c, ev->id)) {
		reject(ev->id, WIRE_REJ_RESOURCES, 0, "cannot create the QP");
		rdma_ack_cm_event(ev);
		c->id = NULL;	/* the CM owns an id it delivered and we refused */
		return -1;
	}
	wire_pd_encode(pd, &c->local);
	cp.private_data = pd;
	cp.private_data_len = sizeof(pd);
	cp.responder_resources = 1;
	cp.initiator_depth = 1;
	cp.rnr_retry_count = 7;
	if (rdma_accept(ev->id, &cp)) {
		rdma_ack_cm_event(ev);
		return conn_fail(c, "rdma_accept: %s", strerror(errno));
	}
	rdma_ack_cm_event(ev);
	if (next_event(c, &ev, 10000))
		return -1;
	if (ev->event != RDMA_CM_EVENT_ESTABLISHED) {
		rc = ev->event;
		rdma_ack_cm_event(ev);
		return conn_fail(c, "connection from %s not established: %s",
				 who, rdma_event_str(rc));
	}
	rdma_ack_cm_event(ev);
	conn_established(c);
	log_info("connected from %s (caps 0x%x, chunk %u, peer credits %u)",
		 who, c->caps, c->local.chunk_size, c->credits);
	return 0;
}

static int expect(struct conn *c, enum rdma_cm_event_type want, const char *what)
{
	struct rdma_cm_event *ev;
	int got, status;

	if (next_event(c, &ev, 10000))
		return -1;
	got = ev->event;
	status = ev->status;
	rdma_ack_cm_event(ev);
	if (got != (int)want)
		return conn_fail(c, "%s failed: %s (status %d)", what,
				 rdma_event_str(got), status);
	return 0;
}

static int check_accept(struct conn *c, const struct rdma_cm_event *ev)
{
	const void *p = ev->param.conn.private_data;
	size_t len = ev->param.conn.private_data_len;
	struct wire_pd peer;
	const char *why;
	int rc;

	rc = wire_pd_decode(p, len, &peer, &why);
	if (rc == WIRE_REJ_VERSION)
		return conn_fail(c, "destination speaks protocol version %u, this agent speaks %u: refusing",
				 peer.version, WIRE_VERSION);
	if (rc)
		return conn_fail(c, "destination's accept is malformed: %s", why);
	if (peer.chunk_size != c->local.chunk_size)
		return conn_fail(c, "destination chunk size %u differs from ours %u: refusing",
				 peer.chunk_size, c->local.chunk_size);
	if (peer.caps & ~c->local.caps)
		return conn_fail(c, "destination granted capabilities 0x%x we did not offer",
				 peer.caps & ~c->local.caps);
	c->peer = peer;
	c->caps = peer.caps;
	c->credits = peer.credits;
	c->peer_credits_max = peer.credits;
	return 0;
}

int conn_connect(struct conn *c, const char *addr, const char *port,
		 const char *bind, const struct wire_pd *local)
{
	struct sockaddr_storage dst, src;
	struct rdma_conn_param cp = { 0 };
	struct rdma_cm_event *ev;
	uint8_t pd[WIRE_PD_LEN];
	char err[256];
	int rc;

	c->local = *local;
	if (make_channel(c))
		return -1;
	if (resolve(addr, port, &dst, err, sizeof(err)) ||
	    (bind && resolve(bind, NULL, &src, err, sizeof(err))))
		return conn_fail(c, "%s", err);
	if (rdma_create_id(c->ec, &c->id, c, RDMA_PS_TCP))
		return conn_fail(c, "rdma_create_id: %s", strerror(errno));
	if (rdma_resolve_addr(c->id, bind ? (struct sockaddr *)&src : NULL,
			      (struct sockaddr *)&dst, 5000))
		return conn_fail(c, "rdma_resolve_addr %s: %s", addr,
				 strerror(errno));
	if (expect(c, RDMA_CM_EVENT_ADDR_RESOLVED, "address resolution"))
		return -1;
	if (rdma_resolve_route(c->id, 5000))
		return conn_fail(c, "rdma_resolve_route: %s", strerror(errno));
	if (expect(c, RDMA_CM_EVENT_ROUTE_RESOLVED, "route resolution"))
		return -1;
	{
		struct rdma_cm_id *id = c->id;

		c->id = NULL;
		if (create_qp(c, id)) {
			c->id = id;
			return -1;
		}
	}
	wire_pd_encode(pd, local);
	cp.private_data = pd;
	cp.private_data_len = sizeof(pd);
	cp.responder_resources = 1;
	cp.initiator_depth = 1;
	cp.retry_count = 7;
	cp.rnr_retry_count = 7;
	if (rdma_connect(c->id, &cp))
		return conn_fail(c, "rdma_connect: %s", strerror(errno));
	if (next_event(c, &ev, 10000))
		return -1;
	switch (ev->event) {
	case RDMA_CM_EVENT_ESTABLISHED:
		rc = check_accept(c, ev);
		rdma_ack_cm_event(ev);
		if (rc) {
			rdma_disconnect(c->id);
			return -1;
		}
		break;
	case RDMA_CM_EVENT_REJECTED: {
		struct wire_rej r;
		char text[80];

		rc = wire_rej_decode(ev->param.conn.private_data,
				     ev->param.conn.private_data_len, &r,
				     text, sizeof(text));
		rdma_ack_cm_event(ev);
		if (rc)
			return conn_fail(c, "destination %s:%s rejected the connection (no rdmigd listening there?)",
					 addr, port);
		if (r.reason == WIRE_REJ_VERSION)
			return conn_fail(c, "destination refused: protocol version mismatch (it speaks %u, we speak %u)",
					 r.detail, WIRE_VERSION);
		if (r.reason == WIRE_REJ_CHUNK_SIZE)
			return conn_fail(c, "destination refused: chunk size mismatch (it uses %u, we use %u)",
					 r.detail, local->chunk_size);
		return conn_fail(c, "destination refused: %s%s%s",
				 wire_rej_reason_str(r.reason),
				 text[0] ? ": " : "", text);
	}
	default:
		rc = ev->event;
		rdma_ack_cm_event(ev);
		return conn_fail(c, "connecting to %s:%s failed: %s", addr, port,
				 rdma_event_str(rc));
	}
	conn_established(c);
	log_info("connected to %s:%s (caps 0x%x, chunk %u, peer credits %u)",
		 addr, port, c->caps, local->chunk_size, c->credits);
	return 0;
}

void conn_stop(struct conn *c)
{
	if (c->id && c->connected)
		rdma_disconnect(c->id);
	c->connected = false;
	if (c->id && c->qp_created)
		rdma_destroy_qp(c->id);
	c->qp_created = false;
}

void conn_destroy(struct conn *c)
{
	conn_stop(c);
	if (c->rmr)
		ibv_dereg_mr(c->rmr);
	if (c->smr)
		ibv_dereg_mr(c->smr);
	c->rmr = c->smr = NULL;
	free(c->rbuf);
	free(c->sbuf);
	c->rbuf = c->sbuf = NULL;
	while (c->rxq_head) {
		struct conn_msg *m = c->rxq_head;

		c->rxq_head = m->next;
		free(m);
	}
	c->rxq_tail = NULL;
	if (c->cq)
		ibv_destroy_cq(c->cq);
	if (c->cc)
		ibv_destroy_comp_channel(c->cc);
	if (c->pd)
		ibv_dealloc_pd(c->pd);
	c->cq = NULL;
	c->cc = NULL;
	c->pd = NULL;
	if (c->id)
		rdma_destroy_id(c->id);
	if (c->listen_id)
		rdma_destroy_id(c->listen_id);
	c->id = c->listen_id = NULL;
	if (c->ec)
		rdma_destroy_event_channel(c->ec);
	c->ec = NULL;
}
