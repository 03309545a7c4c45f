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
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/crypto.h>

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
	c->wake_fd = -1;
	c->busy_fd = -1;
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

	/* Keys of QP 0's MRs are valid only on its own device. */
	if (c->shared_pd && c->shared_pd->context != id->verbs)
		return conn_fail(c, "the data QP resolved to another RDMA device than QP 0");
	c->pd = c->shared_pd ? c->shared_pd : ibv_alloc_pd(id->verbs);
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
	/* A data QP takes no SEND: one receive slot, never posted. */
	qa.cap.max_recv_wr = c->data_only ? 1 : CONN_RECV_DEPTH;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	if (rdma_create_qp(id, c->pd, &qa))
		return conn_fail(c, "rdma_create_qp: %s", strerror(errno));
	c->qp_created = true;
	c->id = id;
	if (c->data_only)
		return 0;
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

void conn_reject_id(struct rdma_cm_id *id, uint32_t reason, const char *text)
{
	reject(id, reason, 0, text ? text : "");
	rdma_destroy_id(id);
}

int conn_join_accept(struct conn *dq, struct rdma_cm_id *id,
		     const struct wire_pd *local)
{
	struct rdma_conn_param cp = { 0 };
	uint8_t pd[WIRE_PD_LEN];

	dq->local = *local;
	if (create_qp(dq, id)) {
		if (dq->qp_created)
			rdma_destroy_qp(id);
		dq->qp_created = false;
		dq->id = NULL;
		conn_reject_id(id, WIRE_REJ_RESOURCES, "cannot create the data QP");
		return -1;
	}
	wire_pd_encode(pd, local);
	cp.private_data = pd;
	cp.private_data_len = WIRE_PD_LEN;
	cp.responder_resources = 1;
	cp.initiator_depth = 1;
	cp.rnr_retry_count = 7;
	if (rdma_accept(id, &cp))
		return conn_fail(dq, "rdma_accept of a data QP: %s", strerror(errno));
	return 0;
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

void conn_save_request(struct conn_request *r, const struct rdma_cm_event *ev)
{
	uint32_t n = ev->param.conn.private_data_len;

	memset(r, 0, sizeof(*r));
	r->id = ev->id;
	if (n > sizeof(r->pd))
		n = sizeof(r->pd);
	if (ev->param.conn.private_data)
		memcpy(r->pd, ev->param.conn.private_data, n);
	r->pd_len = n;
	r->qpn = ev->param.conn.qp_num;
}

/* The next connect request: a held one first, else the next to arrive. */
static int next_request(struct conn *c, struct conn_request *r)
{
	struct rdma_cm_event *ev;

	if (c->npending) {
		*r = c->pending[0];
		c->npending--;
		memmove(c->pending, c->pending + 1, c->npending * sizeof(*r));
		return 0;
	}
	for (;;) {
		if (next_event(c, &ev, -1))
			return -1;
		if (ev->event == RDMA_CM_EVENT_CONNECT_REQUEST)
			break;
		log_dbg("ignoring CM event %s while listening",
			rdma_event_str(ev->event));
		rdma_ack_cm_event(ev);
	}
	conn_save_request(r, ev);
	rdma_ack_cm_event(ev);
	return 0;
}

/*
 * Refuses a connect request. With @keep (the destination authenticates
 * or filters addresses) nobody unauthenticated can end the migration:
 * the refusal is logged and the destination goes on listening (1).
 */
static int refuse(struct conn *c, struct conn_request *r, bool keep,
		  uint32_t reason, uint32_t detail, const char *text,
		  const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static int refuse(struct conn *c, struct conn_request *r, bool keep,
		  uint32_t reason, uint32_t detail, const char *text,
		  const char *fmt, ...)
{
	char buf[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	reject(r->id, reason, detail, text);
	rdma_destroy_id(r->id);
	r->id = NULL;
	c->refused++;
	if (keep) {
		log_err("%s; still listening", buf);
		return 1;
	}
	return conn_fail(c, "%s", buf);
}

void conn_refuse_pending(struct conn *c)
{
	uint32_t i;

	for (i = 0; i < c->npending; i++) {
		reject(c->pending[i].id, WIRE_REJ_BUSY, 0, "destination busy");
		rdma_destroy_id(c->pending[i].id);
	}
	if (c->npending)
		log_info("turned away %u connect request(s) held during authentication",
			 c->npending);
	c->npending = 0;
	c->defer_requests = false;
}

/* Waits for the accepted candidate's ESTABLISHED, holding other requests. */
static int wait_established(struct conn *c, const char *who)
{
	struct rdma_cm_event *ev;
	int rc;

	for (;;) {
		if (next_event(c, &ev, 10000))
			return -1;
		if (ev->event == RDMA_CM_EVENT_CONNECT_REQUEST) {
			if (c->defer_requests && c->npending < CONN_MAX_PENDING) {
				conn_save_request(&c->pending[c->npending++], ev);
				log_info("holding a connect request until the connected source authenticates");
			} else {
				reject(ev->id, WIRE_REJ_BUSY, 0, "destination busy");
				rdma_destroy_id(ev->id);
			}
			rdma_ack_cm_event(ev);
			continue;
		}
		if (ev->id != c->id) {
			rdma_ack_cm_event(ev);
			continue;
		}
		break;
	}
	if (ev->event != RDMA_CM_EVENT_ESTABLISHED) {
		rc = ev->event;
		rdma_ack_cm_event(ev);
		return conn_fail(c, "connection from %s not established: %s",
				 who, rdma_event_str(rc));
	}
	rdma_ack_cm_event(ev);
	return 0;
}

static int accept_one(struct conn *c, const struct wire_pd *local,
		      uint32_t accept_caps)
{
	struct rdma_conn_param cp = { 0 };
	uint8_t pd[WIRE_PD_AUTH_ACC_LEN];
	struct conn_request r;
	struct wire_pd peer;
	bool have_key, required = false, keep;
	const char *why;
	char who[64];
	int rc;

	if (next_request(c, &r))
		return -1;
	peer_name(r.id, who, sizeof(who));
	auth_secret_clear(&c->key);
	have_key = c->get_key && c->get_key(c, &c->key, &required);
	keep = have_key || required || c->nallow;
	if (!auth_allow_match(c->allow, c->nallow, rdma_get_peer_addr(r.id)))
		return refuse(c, &r, true, WIRE_REJ_NOT_ALLOWED, 0,
			      "source address not allowed",
			      "refused %s: its address is not on the --allow list", who);
	{
		struct wire_join j;

		/* A data QP joins a running migration, never starts one. */
		if (wire_join_decode(r.pd, r.pd_len, &j, &why) >= 0)
			return refuse(c, &r, true, WIRE_REJ_JOIN, 0,
				      "no migration is taking data QPs",
				      "refused a data QP join from %s: no migration is taking data QPs",
				      who);
	}
	rc = wire_pd_decode(r.pd, r.pd_len, &peer, &why);
	if (rc == WIRE_REJ_VERSION)
		return refuse(c, &r, keep, rc, WIRE_VERSION, "protocol version mismatch",
			      "refused %s: it speaks protocol version %u, this agent speaks %u",
			      who, peer.version, WIRE_VERSION);
	if (rc)
		return refuse(c, &r, keep, rc,
			      rc == WIRE_REJ_CHUNK_SIZE ? local->chunk_size : 0, why,
			      "refused %s: %s", who, why);
	if (peer.chunk_size != local->chunk_size)
		return refuse(c, &r, keep, WIRE_REJ_CHUNK_SIZE, local->chunk_size,
			      "chunk size mismatch",
			      "refused %s: chunk size %u differs from this side's %u",
			      who, peer.chunk_size, local->chunk_size);
	if (keep && !(peer.caps & WIRE_CAP_AUTH))
		return refuse(c, &r, true, WIRE_REJ_AUTH, 0,
			      "this destination requires a secret",
			      "refused %s: it does not offer authentication, which this destination requires",
			      who);
	if (!have_key && required)
		return refuse(c, &r, true, WIRE_REJ_AUTH, 0, "no secret set here yet",
			      "refused %s: authentication is required but no secret has been set yet",
			      who);
	c->peer = peer;
	c->local = *local;
	c->caps = peer.caps & accept_caps;
	if (!have_key)
		c->caps &= ~WIRE_CAP_AUTH;
	c->auth = c->caps & WIRE_CAP_AUTH;
	c->local.caps = c->caps;
	c->credits = peer.credits;
	c->peer_credits_max = peer.credits;
	if (create_qp(c, r.id)) {
		reject(r.id, WIRE_REJ_RESOURCES, 0, "cannot create the QP");
		if (c->qp_created)
			rdma_destroy_qp(r.id);
		c->qp_created = false;
		c->id = NULL;
		rdma_destroy_id(r.id);
		return -1;
	}
	wire_pd_encode(pd, &c->local);
	cp.private_data_len = WIRE_PD_LEN;
	if (c->auth) {
		if (conn_auth_accept(c, &r, pd)) {
			reject(r.id, WIRE_REJ_RESOURCES, 0, "authentication setup failed");
			return -1;
		}
		cp.private_data_len = WIRE_PD_AUTH_ACC_LEN;
	}
	cp.private_data = pd;
	cp.responder_resources = 1;
	cp.initiator_depth = 1;
	cp.rnr_retry_count = 7;
	snprintf(c->who, sizeof(c->who), "%s", who);
	/* Until the candidate is trusted, others wait instead of being turned away. */
	c->keep_listening = keep;
	c->defer_requests = keep;
	if (rdma_accept(r.id, &cp))
		return conn_fail(c, "rdma_accept: %s", strerror(errno));
	if (wait_established(c, who))
		return -1;
	conn_established(c);
	c->accepted_us = conn_now_us();
	log_info("connected from %s (caps 0x%x, chunk %u, peer credits %u%s)",
		 who, c->caps, c->local.chunk_size, c->credits,
		 c->auth ? ", authenticating" : "");
	return 0;
}

int conn_accept(struct conn *c, const struct wire_pd *local,
		uint32_t accept_caps)
{
	for (;;) {
		int rc = accept_one(c, local, accept_caps);

		if (rc <= 0)
			return rc;
	}
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
	/* Unknown bits included: a source never guesses what they mean. */
	if (peer.caps & ~c->local.caps)
		return conn_fail(c, "destination granted capabilities 0x%x we did not offer%s: refusing",
				 peer.caps & ~c->local.caps,
				 peer.caps & ~WIRE_CAPS_KNOWN ? " (unknown to this agent)" : "");
	c->peer = peer;
	c->caps = peer.caps;
	c->credits = peer.credits;
	c->peer_credits_max = peer.credits;
	c->auth = peer.caps & WIRE_CAP_AUTH;
	if (c->auth) {
		/* Checked once connected (conn_auth_source), so that a
		 * wrong proof can be answered with ERROR. */
		if (len < WIRE_PD_AUTH_ACC_LEN)
			return conn_fail(c, "destination's accept is malformed: %zu bytes, authentication needs %d",
					 len, WIRE_PD_AUTH_ACC_LEN);
		memcpy(c->at.acc_pd, p, WIRE_PD_LEN);
		memcpy(c->at.nd, (const uint8_t *)p + WIRE_PD_LEN, WIRE_NONCE_LEN);
		memcpy(c->peer_mac, (const uint8_t *)p + WIRE_PD_LEN + WIRE_NONCE_LEN,
		       WIRE_MAC_LEN);
		if (auth_endpoint_set(&c->at.src, rdma_get_local_addr(c->id),
				      c->id->qp->qp_num) ||
		    auth_endpoint_set(&c->at.dst, rdma_get_peer_addr(c->id),
				      ev->param.conn.qp_num))
			return conn_fail(c, "authentication: the connection's addresses are neither IPv4 nor IPv6");
	}
	return 0;
}

int conn_connect(struct conn *c, const char *addr, const char *port,
		 const char *bind, const struct wire_pd *local)
{
	struct sockaddr_storage dst, src;
	struct rdma_conn_param cp = { 0 };
	struct rdma_cm_event *ev;
	uint8_t pd[WIRE_PD_AUTH_REQ_LEN > WIRE_JOIN_LEN ? WIRE_PD_AUTH_REQ_LEN : WIRE_JOIN_LEN];
	char err[256];
	uint64_t t0 = conn_now_us();
	int rc, tmo;

	c->local = *local;
	if (make_channel(c))
		return -1;
	if (resolve(addr, port, &dst, err, sizeof(err)) ||
	    (bind && resolve(bind, NULL, &src, err, sizeof(err))))
		return conn_fail(c, "%s", err);
	/*
	 * The kernel retries an address whose neighbour (ARP) is not yet
	 * known only when the resolve timeout expires, even when the
	 * neighbour answers at once: one 5 s timeout made every first
	 * connection take 5 s. Short attempts, each a new id, up to the
	 * same 5 s in all, connect as soon as the neighbour is known.
	 */
	for (tmo = 100;; tmo = tmo < 1600 ? tmo * 2 : tmo) {
		struct rdma_cm_event *aev;
		int got, status;

		if (rdma_create_id(c->ec, &c->id, c, RDMA_PS_TCP))
			return conn_fail(c, "rdma_create_id: %s", strerror(errno));
		if (rdma_resolve_addr(c->id, bind ? (struct sockaddr *)&src : NULL,
				      (struct sockaddr *)&dst, tmo))
			return conn_fail(c, "rdma_resolve_addr %s: %s", addr,
					 strerror(errno));
		if (next_event(c, &aev, 10000))
			return -1;
		got = aev->event;
		status = aev->status;
		rdma_ack_cm_event(aev);
		if (got == RDMA_CM_EVENT_ADDR_RESOLVED)
			break;
		if (got != RDMA_CM_EVENT_ADDR_ERROR || conn_now_us() - t0 > 5000000)
			return conn_fail(c, "address resolution failed: %s (status %d)",
					 rdma_event_str(got), status);
		log_dbg("address resolution: %s (status %d) after a %d ms attempt; again",
			rdma_event_str(got), status, tmo);
		rdma_destroy_id(c->id);
		c->id = NULL;
	}
	log_dbg("address resolved after %llu ms", (unsigned long long)(conn_now_us() - t0) / 1000);
	if (rdma_resolve_route(c->id, 5000))
		return conn_fail(c, "rdma_resolve_route: %s", strerror(errno));
	if (expect(c, RDMA_CM_EVENT_ROUTE_RESOLVED, "route resolution"))
		return -1;
	log_dbg("route resolved after %llu ms", (unsigned long long)(conn_now_us() - t0) / 1000);
	{
		struct rdma_cm_id *id = c->id;

		c->id = NULL;
		if (create_qp(c, id)) {
			c->id = id;
			return -1;
		}
	}
	wire_pd_encode(pd, local);
	cp.private_data_len = WIRE_PD_LEN;
	memcpy(c->at.req_pd, pd, WIRE_PD_LEN);
	if (c->data_only) {
		/* A data QP asks with its JOIN record, nothing else. */
		memcpy(pd, c->join_pd, WIRE_JOIN_LEN);
		cp.private_data_len = WIRE_JOIN_LEN;
	} else if (local->caps & WIRE_CAP_AUTH) {
		/* The source's nonce rides in the connect request. */
		if (auth_nonce(c->at.ns))
			return conn_fail(c, "cannot draw a random nonce (RAND_bytes failed)");
		memcpy(pd + WIRE_PD_LEN, c->at.ns, WIRE_NONCE_LEN);
		cp.private_data_len = WIRE_PD_AUTH_REQ_LEN;
	}
	cp.private_data = pd;
	cp.responder_resources = 1;
	cp.initiator_depth = 1;
	cp.retry_count = 7;
	cp.rnr_retry_count = 7;
	log_dbg("QP created after %llu ms", (unsigned long long)(conn_now_us() - t0) / 1000);
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
	log_dbg("established after %llu ms", (unsigned long long)(conn_now_us() - t0) / 1000);
	log_info("connected to %s:%s (caps 0x%x, chunk %u, peer credits %u)",
		 addr, port, c->caps, local->chunk_size, c->credits);
	return 0;
}

void conn_disconnect(struct conn *c)
{
	if (c->id && c->connected)
		rdma_disconnect(c->id);
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

void conn_drop_peer(struct conn *c)
{
	struct conn keep = *c;

	/* conn_destroy() below must leave the listener and held requests. */
	c->ec = NULL;
	c->listen_id = NULL;
	c->npending = 0;
	conn_destroy(c);
	memset(c, 0, sizeof(*c));
	c->ec = keep.ec;
	c->listen_id = keep.listen_id;
	c->cancel = keep.cancel;
	c->timeout_ms = keep.timeout_ms;
	c->on_msg = keep.on_msg;
	c->arg = keep.arg;
	c->get_key = keep.get_key;
	c->on_cm = keep.on_cm;
	c->allow = keep.allow;
	c->nallow = keep.nallow;
	memcpy(c->pending, keep.pending, sizeof(c->pending));
	c->npending = keep.npending;
	OPENSSL_cleanse(&keep, sizeof(keep));
}

void conn_destroy(struct conn *c)
{
	conn_busy_end(c);
	conn_refuse_pending(c);
	auth_secret_clear(&c->key);
	conn_stop(c);
	if (c->busy_fd >= 0)
		close(c->busy_fd);
	c->busy_fd = -1;
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
	if (c->pd && c->pd != c->shared_pd)
		ibv_dealloc_pd(c->pd);
	c->cq = NULL;
	c->cc = NULL;
	c->pd = NULL;
	if (c->id)
		rdma_destroy_id(c->id);
	if (c->listen_id)
		rdma_destroy_id(c->listen_id);
	c->id = c->listen_id = NULL;
	if (c->ec && !c->shared_ec)
		rdma_destroy_event_channel(c->ec);
	c->ec = NULL;
}
