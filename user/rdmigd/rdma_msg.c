// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control channel over SEND/RECV, with credits instead of one READY
 * per message, and the RDMA WRITE path.
 *
 * Credits: each side posts CONN_RECV_DEPTH receives and tells the peer in
 * the private data. Every SEND uses one credit. A received message is
 * copied out and its buffer reposted at once, so a side never holds the
 * peer's credits while it is itself blocked sending; reposted buffers are
 * announced back with READY {credits} once a quarter of the depth is
 * pending. The last credit is kept for READY and ERROR, which cannot then
 * deadlock: a side with at most one credit left implies the peer holds at
 * least depth-1 returns and will announce them.
 *
 * Send queue: WRs carry a sequence number; one signaled WR completing
 * retires every WR before it (RC completes in order), so WRITEs are
 * signaled once per CONN_WRITE_BATCH.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "conn.h"
#include "log.h"

#define KIND_RECV	1ull
#define KIND_SEND	2ull
#define KIND_WRITE	3ull
#define WRID(kind, idx, seq) ((kind) << 56 | (uint64_t)(idx) << 40 | (seq))
#define WRID_KIND(w)	((w) >> 56)
#define WRID_IDX(w)	((uint32_t)(((w) >> 40) & 0xffff))
#define WRID_SEQ(w)	((w) & ((1ull << 40) - 1))
#define RXQ_MAX_BYTES	(256ull << 20)

static uint8_t *rbuf_at(struct conn *c, uint32_t i)
{
	return c->rbuf + (size_t)i * WIRE_MAX_MSG;
}

static uint8_t *sbuf_at(struct conn *c, uint32_t i)
{
	return c->sbuf + (size_t)i * WIRE_MAX_MSG;
}

int conn_setup_buffers(struct conn *c)
{
	uint32_t i;

	c->rbuf = calloc(CONN_RECV_DEPTH, WIRE_MAX_MSG);
	c->sbuf = calloc(CONN_SEND_BUFS, WIRE_MAX_MSG);
	if (!c->rbuf || !c->sbuf)
		return conn_fail(c, "out of memory for message buffers");
	c->rmr = ibv_reg_mr(c->pd, c->rbuf, (size_t)CONN_RECV_DEPTH * WIRE_MAX_MSG,
			    IBV_ACCESS_LOCAL_WRITE);
	c->smr = ibv_reg_mr(c->pd, c->sbuf, (size_t)CONN_SEND_BUFS * WIRE_MAX_MSG,
			    IBV_ACCESS_LOCAL_WRITE);
	if (!c->rmr || !c->smr)
		return conn_fail(c, "ibv_reg_mr of message buffers: %s",
				 strerror(errno));
	for (i = 0; i < CONN_SEND_BUFS; i++)
		c->sfree[i] = i;
	c->nsfree = CONN_SEND_BUFS;
	return 0;
}

static int post_recv(struct conn *c, uint32_t i)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)rbuf_at(c, i),
		.length = WIRE_MAX_MSG,
		.lkey = c->rmr->lkey,
	};
	struct ibv_recv_wr wr = {
		.wr_id = WRID(KIND_RECV, i, 0), .sg_list = &sge, .num_sge = 1,
	}, *bad;

	if (ibv_post_recv(c->id->qp, &wr, &bad))
		return conn_fail(c, "ibv_post_recv: %s", strerror(errno));
	return 0;
}

int conn_post_initial_recvs(struct conn *c)
{
	uint32_t i;

	for (i = 0; i < CONN_RECV_DEPTH; i++)
		if (post_recv(c, i))
			return -1;
	return 0;
}

static uint32_t sq_room(const struct conn *c)
{
	return CONN_SQ_DEPTH - (uint32_t)(c->posted - c->done);
}

/* Takes the next WR sequence number, noting the WRITE bytes posted so far. */
static uint64_t next_seq(struct conn *c)
{
	uint64_t seq = ++c->posted;

	c->wbytes_at[seq % CONN_SQ_DEPTH] = c->wbytes;
	return seq;
}

static uint64_t inflight_bytes(const struct conn *c)
{
	return c->wbytes - c->wbytes_at[c->done % CONN_SQ_DEPTH];
}

/* Posts a chain of WRs (@n of them, linked), one doorbell. */
static int post_chain(struct conn *c, struct ibv_send_wr *wr, uint32_t n)
{
	struct ibv_send_wr *bad, *w;
	uint64_t sig = 0, t0;
	int rc;

	for (w = wr; w; w = w->next)
		if (w->send_flags & IBV_SEND_SIGNALED)
			sig = WRID_SEQ(w->wr_id);
	/* A signaled WR with none outstanding starts the completion clock. */
	if (sig && c->done >= c->posted_signaled)
		c->last_done_us = conn_now_us();
	/*
	 * Timed for every WR, a message's too: soft-RoCE sends what the
	 * QP has queued inside this call, so posting a REGISTER_REQUEST
	 * behind WRITEs can take the WRITEs' packets' time (post, not the
	 * caller's phase).
	 */
	t0 = conn_now_us();
	rc = ibv_post_send(c->id->qp, wr, &bad);
	c->post_us += conn_now_us() - t0;
	if (rc)
		return conn_fail(c, "ibv_post_send of %u WRs: %s", n, strerror(rc));
	if (sig)
		c->posted_signaled = sig;
	return 0;
}

/* Posts the queued WRITEs, if any. 0, or -1 (failed). */
static int post_write_list(struct conn *c)
{
	uint32_t n = c->wl_n, i;

	if (!n || c->failed)
		return c->failed ? -1 : 0;
	for (i = 0; i + 1 < n; i++)
		c->wl_wr[i].next = &c->wl_wr[i + 1];
	c->wl_wr[n - 1].next = NULL;
	c->wl_n = 0;
	c->write_posts++;
	return post_chain(c, c->wl_wr, n);
}

static int post_send_wr(struct conn *c, struct ibv_send_wr *wr)
{
	/* What was queued before goes first: the QP's order is the wire's. */
	if (post_write_list(c))
		return -1;
	wr->next = NULL;
	return post_chain(c, wr, 1);
}

/* Posts a SEND from a free buffer; the caller checked credits/buffers. */
static int send_now(struct conn *c, uint32_t type, uint32_t repeat,
		    const void *data, uint32_t len)
{
	uint32_t bi = c->sfree[--c->nsfree];
	uint8_t *b = sbuf_at(c, bi);
	uint64_t seq = next_seq(c);
	struct ibv_sge sge = {
		.addr = (uintptr_t)b, .length = WIRE_HDR_LEN + len,
		.lkey = c->smr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = WRID(KIND_SEND, bi, seq), .sg_list = &sge,
		.num_sge = 1, .opcode = IBV_WR_SEND,
		.send_flags = IBV_SEND_SIGNALED,
	};

	wire_hdr_encode(b, type, repeat, len);
	if (len)
		memcpy(b + WIRE_HDR_LEN, data, len);
	c->credits--;
	c->msgs_sent++;
	log_dbg("send %s repeat %u len %u (credits left %u)",
		wire_type_name(type), repeat, len, c->credits);
	if (post_send_wr(c, &wr)) {
		c->nsfree++;
		return -1;
	}
	c->last_signaled = seq;
	c->last_tx_us = conn_now_us();
	return 0;
}

/*
 * Returns credits once a quarter of the depth is pending, or as a
 * keepalive (possibly with 0 credits) after a quarter of the inactivity
 * limit without sending anything.
 */
static void maybe_send_ready(struct conn *c)
{
	uint8_t d[WIRE_READY_LEN];
	bool keepalive = !c->data_only && c->connected && c->timeout_ms &&
		conn_now_us() - c->last_tx_us >= (uint64_t)c->timeout_ms * 250;

	if (c->failed || c->data_only ||
	    (!keepalive && c->to_return < CONN_RECV_DEPTH / 4) ||
	    c->credits < 1 || !c->nsfree || sq_room(c) < 2)
		return;
	wire_put32(d, c->to_return);
	if (send_now(c, WIRE_READY, 1, d, sizeof(d)) == 0) {
		c->to_return = 0;
		c->ready_sent++;
	}
}

static int handle_recv(struct conn *c, uint32_t idx, uint32_t len)
{
	const uint8_t *b = rbuf_at(c, idx);
	struct wire_hdr h;
	struct conn_msg *m;
	const char *why;

	c->msgs_recv++;
	c->last_rx_us = conn_now_us();
	if (wire_msg_check(b, len, &h, &why))
		return conn_fail(c, "malformed message from peer (%u bytes, type %u): %s",
				 len, len >= 8 ? wire_get32(b + 4) : 0, why);
	log_dbg("recv %s repeat %u len %u", wire_type_name(h.type), h.repeat,
		h.length);
	if (h.type == WIRE_ERROR) {
		char text[WIRE_ERROR_TEXT_MAX + 1];
		uint32_t n = h.length - WIRE_ERROR_MIN, i;

		for (i = 0; i < n; i++) {
			uint8_t ch = b[WIRE_HDR_LEN + WIRE_ERROR_MIN + i];

			text[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
		}
		text[n] = '\0';
		c->peer_error = true;
		c->peer_error_code = wire_get32(b + WIRE_HDR_LEN);
		return conn_fail(c, "peer aborted (error %u): %s",
				 wire_get32(b + WIRE_HDR_LEN), text);
	}
	/*
	 * The peer may use no more credits than this side announced: it had
	 * at most CONN_RECV_DEPTH - to_return (it may not yet know of the
	 * last READY, never of one not sent), and keeps the last for READY
	 * and ERROR. A receive buffer is reposted at once, so a flood would
	 * otherwise simply be served.
	 */
	if (c->to_return + (h.type == WIRE_READY ? 1 : 2) > CONN_RECV_DEPTH)
		return conn_fail(c, "peer sent %s without a credit for it (%u of %u receive credits used): it floods the control channel",
				 wire_type_name(h.type), c->to_return + 1, CONN_RECV_DEPTH);
	if (h.type == WIRE_READY) {
		uint32_t n = wire_get32(b + WIRE_HDR_LEN);

		/* 0 is a keepalive. */
		if (n > c->peer_credits_max - c->credits)
			return conn_fail(c, "peer returned %u credits, more than it could owe",
					 n);
		c->credits += n;
	} else {
		if (c->rxq_bytes + len > RXQ_MAX_BYTES)
			return conn_fail(c, "peer floods the control channel");
		m = malloc(sizeof(*m) + len);
		if (!m)
			return conn_fail(c, "out of memory for a received message");
		m->next = NULL;
		m->len = len;
		memcpy(m->data, b, len);
		if (c->rxq_tail)
			c->rxq_tail->next = m;
		else
			c->rxq_head = m;
		c->rxq_tail = m;
		c->rxq_bytes += len;
	}
	if (post_recv(c, idx))
		return -1;
	c->to_return++;
	return 0;
}

static int poll_cq(struct conn *c)
{
	struct ibv_wc wc[32];
	int n, i, got = 0;

	while ((n = ibv_poll_cq(c->cq, 32, wc)) > 0) {
		got += n;
		for (i = 0; i < n; i++) {
			uint64_t k = WRID_KIND(wc[i].wr_id);

			if (wc[i].status != IBV_WC_SUCCESS) {
				if (k == KIND_SEND)
					c->sfree[c->nsfree++] = WRID_IDX(wc[i].wr_id);
				/*
				 * A receive that fails on its own (not flushed
				 * after another error) means the peer's SEND did
				 * not fit a receive buffer: say so.
				 */
				if (!c->failed && k == KIND_RECV &&
				    wc[i].status != IBV_WC_WR_FLUSH_ERR)
					conn_fail(c, "receive failed: %s: the peer sent a message longer than the largest allowed (%u bytes)",
						  ibv_wc_status_str(wc[i].status), (unsigned int)WIRE_MAX_MSG);
				else if (!c->failed)
					conn_fail(c, "%s failed: %s",
						  k == KIND_RECV ? "receive" :
						  k == KIND_SEND ? "send" : "RDMA write",
						  ibv_wc_status_str(wc[i].status));
				c->peer_error = true;
				continue;
			}
			if (k == KIND_RECV) {
				if (!c->failed)
					handle_recv(c, WRID_IDX(wc[i].wr_id), wc[i].byte_len);
				continue;
			}
			if (k == KIND_SEND)
				c->sfree[c->nsfree++] = WRID_IDX(wc[i].wr_id);
			if (WRID_SEQ(wc[i].wr_id) > c->done) {
				c->done = WRID_SEQ(wc[i].wr_id);
				c->last_done_us = conn_now_us();
			}
		}
	}
	if (n < 0)
		return conn_fail(c, "ibv_poll_cq failed");
	return got;
}

static void check_cm(struct conn *c)
{
	struct rdma_cm_event *ev;

	while (rdma_get_cm_event(c->ec, &ev) == 0) {
		enum rdma_cm_event_type t = ev->event;
		bool ours = ev->id == c->id || ev->id == c->listen_id;

		if (t == RDMA_CM_EVENT_CONNECT_REQUEST && c->defer_requests &&
		    c->npending < CONN_MAX_PENDING) {
			/*
			 * The connected source has not proved itself yet: if it
			 * fails, this one is served next (a racing impostor
			 * must not make the real source be turned away).
			 */
			conn_save_request(&c->pending[c->npending++], ev);
			rdma_ack_cm_event(ev);
			log_info("holding a connect request until the connected source authenticates");
			continue;
		}
		/*
		 * A data QP's join, or an event of one: dest.c decides, on a
		 * copy (the event is acknowledged first, so that the hook may
		 * destroy the id). What it does not take is as before.
		 */
		if ((t == RDMA_CM_EVENT_CONNECT_REQUEST || !ours) && c->on_cm) {
			uint8_t pd[WIRE_JOIN_LEN];
			uint32_t n = ev->param.conn.private_data_len;
			struct rdma_cm_id *id = ev->id;

			if (t != RDMA_CM_EVENT_CONNECT_REQUEST || !ev->param.conn.private_data)
				n = 0;
			if (n > sizeof(pd))
				n = sizeof(pd);
			if (n)
				memcpy(pd, ev->param.conn.private_data, n);
			rdma_ack_cm_event(ev);
			if (c->on_cm(c, t, rdma_event_str(t), id, pd, n) ||
			    t != RDMA_CM_EVENT_CONNECT_REQUEST)
				continue;
			conn_reject_id(id, WIRE_REJ_BUSY, NULL);
			c->refused++;
			continue;
		}
		if (t == RDMA_CM_EVENT_CONNECT_REQUEST) {
			/* One migration per agent: a second source is turned away. */
			uint8_t buf[WIRE_REJ_LEN];
			struct wire_rej r = { .version = WIRE_VERSION,
					      .reason = WIRE_REJ_BUSY };

			struct rdma_cm_id *id = ev->id;

			wire_rej_encode(buf, sizeof(buf), &r, NULL);
			rdma_reject(id, buf, sizeof(buf));
			rdma_ack_cm_event(ev);
			/* The refused request's id is ours to destroy. */
			rdma_destroy_id(id);
			c->refused++;
			continue;
		}
		rdma_ack_cm_event(ev);
		if (!ours)	/* a held or refused request's id */
			continue;
		if (t == RDMA_CM_EVENT_DEVICE_REMOVAL) {
			/*
			 * Not the peer: this side's own RDMA device is going
			 * away (its removal waits until every user let go of
			 * it), and nothing more arrives on it. Say so.
			 */
			c->connected = false;
			conn_fail(c, "the RDMA device %s was removed (rdma_cm DEVICE_REMOVAL)",
				  c->id && c->id->verbs ? ibv_get_device_name(c->id->verbs->device) :
				  "in use");
			continue;
		}
		/*
		 * The peer's last messages (an ERROR, the final ACK) may still
		 * sit in the CQ: conn_progress() fails only once they are read.
		 */
		if (t == RDMA_CM_EVENT_DISCONNECTED ||
		    t == RDMA_CM_EVENT_TIMEWAIT_EXIT) {
			c->peer_gone = true;
			c->connected = false;
		}
	}
}

void conn_poll_cm(struct conn *c)
{
	if (c->ec)
		check_cm(c);
}

static void drain_cc(struct ibv_comp_channel *cc)
{
	struct ibv_cq *cq;
	void *ctx;

	while (ibv_get_cq_event(cc, &cq, &ctx) == 0)
		ibv_ack_cq_events(cq, 1);
}

/* @c's group (conn.h) as a wait on @c sees it: none while busy. */
static uint32_t group_n(const struct conn *c)
{
	return c->busy ? 0 : c->ngroup;
}

/*
 * Waits up to @timeout_ms for a completion or a CM event, on @c or on a
 * QP of its group (whose completions it then takes).
 */
static int wait_event(struct conn *c, int timeout_ms)
{
	struct pollfd p[4 + 2 * WIRE_QPS_MAX] = {
		{ .fd = c->cc->fd, .events = POLLIN },
		{ .fd = c->ec->fd, .events = POLLIN },
		{ .fd = c->wake_fd, .events = POLLIN },
		{ .fd = c->busy ? c->busy_fd : -1, .events = POLLIN },
	};
	uint32_t ng = group_n(c), n = 4, g;
	uint64_t v;
	int rc, i;

	if (ibv_req_notify_cq(c->cq, 0))
		return conn_fail(c, "ibv_req_notify_cq failed");
	rc = poll_cq(c);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	/* Armed, then polled: a completion after the poll raises an event. */
	for (g = 0; g < ng; g++) {
		struct conn *o = c->group[g];

		if (!o->cq || o->busy)
			continue;
		if (ibv_req_notify_cq(o->cq, 0))
			return conn_fail(o, "ibv_req_notify_cq failed");
		if (poll_cq(o) != 0)
			return 0;	/* o's failure is its own: its owner looks */
	}
	for (g = 0; g < ng; g++) {
		struct conn *o = c->group[g];

		p[n++] = (struct pollfd){
			.fd = o->cq && !o->busy ? o->cc->fd : -1, .events = POLLIN,
		};
		/* A data QP's DISCONNECTED (the destination's share one channel). */
		p[n++] = (struct pollfd){
			.fd = o->ec && o->ec != c->ec ? o->ec->fd : -1, .events = POLLIN,
		};
	}
	rc = poll(p, n, timeout_ms);
	if (rc < 0 && errno != EINTR)
		return conn_fail(c, "poll: %s", strerror(errno));
	if (p[0].revents & POLLIN)
		drain_cc(c->cc);
	if (p[1].revents & POLLIN)
		check_cm(c);
	/* Wake-ups only end the wait; the caller looks at what changed. */
	for (i = 2; i < 4; i++)
		if (p[i].revents & POLLIN && read(p[i].fd, &v, sizeof(v)) < 0)
			log_dbg("wake fd: %s", strerror(errno));
	for (g = 0; g < ng; g++) {
		struct conn *o = c->group[g];

		if (o->busy)
			continue;
		if (p[4 + 2 * g].revents & POLLIN)
			drain_cc(o->cc);
		if (p[5 + 2 * g].revents & POLLIN)
			check_cm(o);
		if (o->cq)
			poll_cq(o);
	}
	return 0;
}

/* Fails a connection whose peer or NIC has gone quiet for too long. */
static int check_silence(struct conn *c)
{
	uint64_t now = conn_now_us(), lim = (uint64_t)c->timeout_ms * 1000;

	if (!c->connected || !c->timeout_ms || c->failed)
		return 0;
	/* A data QP's peer never sends on it: only completions count. */
	if (!c->data_only && now - c->last_rx_us > lim)
		return conn_fail(c, "the peer sent nothing for %u ms (timeout): it is stuck or gone",
				 c->timeout_ms);
	if (c->done < c->last_signaled && now - c->last_done_us > lim)
		return conn_fail(c, "no work completion for %u ms (timeout): %llu of %llu work requests outstanding",
				 c->timeout_ms, (unsigned long long)(c->posted - c->done),
				 (unsigned long long)c->posted);
	return 0;
}

static int progress(struct conn *c, int timeout_ms)
{
	int rc;

	if (c->cancel && atomic_load(c->cancel))
		return conn_fail(c, "migration cancelled");
	/* Nothing waits while WRITEs sit queued in the WR list. */
	if (post_write_list(c))
		return -1;
	rc = poll_cq(c);
	if (rc < 0)
		return -1;
	if (rc == 0 && timeout_ms > 0 && !c->rxq_head && wait_event(c, timeout_ms))
		return -1;
	if (!c->failed)
		poll_cq(c);
	check_silence(c);
	maybe_send_ready(c);
	return c->failed ? -1 : 0;
}

int conn_progress(struct conn *c, int timeout_ms)
{
	bool dispatched = false;

	if (c->failed)
		return -1;
	if (progress(c, timeout_ms))
		return -1;
	if (c->peer_gone && !c->failed)
		poll_cq(c);	/* drain what arrived before the disconnect */
	while (c->depth == 0 && c->rxq_head && !c->failed) {
		struct conn_msg *m = c->rxq_head;
		struct wire_hdr h;
		const char *why;
		int rc;

		c->rxq_head = m->next;
		if (!c->rxq_head)
			c->rxq_tail = NULL;
		c->rxq_bytes -= m->len;
		wire_msg_check(m->data, m->len, &h, &why);
		c->depth++;
		rc = c->on_msg(c, &h, m->data + WIRE_HDR_LEN, c->arg);
		c->depth--;
		free(m);
		if (rc)
			return conn_fail(c, "handling %s failed", wire_type_name(h.type));
		dispatched = true;
	}
	if (c->peer_gone && !c->failed && !dispatched && !c->rxq_head && c->depth == 0) {
		c->peer_error = true;
		return conn_fail(c, "peer disconnected");
	}
	return c->failed ? -1 : 0;
}

int conn_send(struct conn *c, uint32_t type, uint32_t repeat,
	      const void *data, uint32_t len)
{
	uint32_t need = (type == WIRE_READY || type == WIRE_ERROR) ? 1 : 2;

	if (len > WIRE_MAX_DATA)
		return conn_fail(c, "internal: message of %u bytes too large", len);
	c->depth++;
	while (!c->failed && (c->credits < need || !c->nsfree || sq_room(c) < 2)) {
		/*
		 * Two different waits: for the peer to repost receives (a
		 * credit), and for this side's earlier SENDs to complete (a
		 * buffer, SQ room), which on the in-order QP means for every
		 * WRITE posted before them: the link's time, not messaging's.
		 */
		uint64_t *waited = c->credits < need ? &c->credit_wait_us : &c->sq_wait_us;
		uint64_t t0 = conn_now_us();

		if (c->peer_gone) {
			c->peer_error = true;
			conn_fail(c, "peer disconnected");
			break;
		}
		progress(c, 100);
		*waited += conn_now_us() - t0;
	}
	c->depth--;
	if (c->failed)
		return -1;
	return send_now(c, type, repeat, data, len);
}

void conn_send_error(struct conn *c, uint32_t code, const char *text)
{
	uint8_t d[WIRE_ERROR_MIN + WIRE_ERROR_TEXT_MAX];
	size_t n = strlen(text);
	bool was_failed = c->failed;

	if (!c->connected || c->peer_error || !c->id || !c->qp_created ||
	    c->credits < 1 || !c->nsfree || sq_room(c) < 1)
		return;
	if (n > WIRE_ERROR_TEXT_MAX)
		n = WIRE_ERROR_TEXT_MAX;
	wire_put32(d, code);
	memcpy(d + WIRE_ERROR_MIN, text, n);
	c->failed = false;	/* send_now only refuses on post failure */
	if (send_now(c, WIRE_ERROR, 1, d, (uint32_t)(WIRE_ERROR_MIN + n)) == 0) {
		/* Give the ERROR a moment to leave before the QP is destroyed. */
		uint64_t seq = c->posted;
		int i;

		for (i = 0; i < 20 && c->done < seq && !c->peer_error; i++) {
			poll_cq(c);
			if (c->done < seq) {
				struct pollfd p = { .fd = c->cc->fd, .events = POLLIN };

				ibv_req_notify_cq(c->cq, 0);
				poll(&p, 1, 50);
			}
		}
	}
	c->failed = was_failed || c->failed;
}

uint64_t conn_write(struct conn *c, void *laddr, uint32_t len, uint32_t lkey,
		    uint64_t raddr, uint32_t rkey)
{
	struct ibv_send_wr *wr;
	struct ibv_sge *sge;
	uint64_t seq, lim = c->max_inflight, t0, *waited = NULL;

	/*
	 * Completions come only for signaled WRs, and one is signaled
	 * whenever lim / 4 bytes went unsignaled (below), so the wait for
	 * the limit ends: lim >= 2 * len leaves room for that tail.
	 */
	if (lim && lim < 2ULL * len)
		lim = 2ULL * len;
	c->depth++;
	if (lim && !c->failed && inflight_bytes(c) + len > lim) {
		c->inflight_waits++;
		waited = &c->inflight_wait_us;
	}
	if (!waited && !c->failed && sq_room(c) < 2)
		waited = &c->sq_wait_us;
	if (waited) {
		t0 = conn_now_us();
		while (!c->failed && (sq_room(c) < 2 ||
				      (lim && inflight_bytes(c) + len > lim))) {
			/*
			 * As in conn_wait_seq(): a peer that disconnected
			 * completes nothing more, and check_silence() no longer
			 * runs once the connection is down.
			 */
			if (c->peer_gone && poll_cq(c) == 0) {
				c->peer_error = true;
				conn_fail(c, "peer disconnected");
				break;
			}
			progress(c, 100);
		}
		*waited += conn_now_us() - t0;
	}
	c->depth--;
	if (c->failed)
		return 0;
	c->wbytes += len;
	seq = next_seq(c);
	wr = &c->wl_wr[c->wl_n];
	sge = &c->wl_sge[c->wl_n];
	*sge = (struct ibv_sge){ .addr = (uintptr_t)laddr, .length = len, .lkey = lkey };
	*wr = (struct ibv_send_wr){
		.wr_id = WRID(KIND_WRITE, 0, seq), .sg_list = sge, .num_sge = 1,
		.opcode = IBV_WR_RDMA_WRITE,
		.wr.rdma = { .remote_addr = raddr, .rkey = rkey },
	};
	/* Unsignaled WRs hold SQ slots until a later signaled one completes. */
	if (++c->unsignaled_writes >= CONN_WRITE_BATCH ||
	    seq - c->last_signaled >= CONN_SQ_DEPTH / 2 ||
	    (lim && c->wbytes - c->wbytes_sig >= lim / 4)) {
		wr->send_flags = IBV_SEND_SIGNALED;
		c->wbytes_sig = c->wbytes;
		c->unsignaled_writes = 0;
		c->last_signaled = seq;
	}
	c->wl_n++;
	c->writes++;
	if (c->wl_n >= c->wr_list || c->wl_n >= CONN_WR_LIST_MAX)
		if (post_write_list(c))
			return 0;
	return seq;
}

/* The keepalive thread of conn_busy_begin(): see conn.h. */
static void *busy_main(void *arg)
{
	struct conn *c = arg;
	uint64_t tick = conn_now_us();

	while (!atomic_load(&c->busy_stop) && !c->failed) {
		if (c->cancel && atomic_load(c->cancel)) {
			conn_fail(c, "migration cancelled");
			break;
		}
		/* Messages are queued, not handled: the engine does that after. */
		if (wait_event(c, 250) || poll_cq(c) < 0)
			break;
		check_silence(c);
		maybe_send_ready(c);
		if (c->busy_tick && conn_now_us() - tick >= 1000000) {
			tick = conn_now_us();
			c->busy_tick(c->busy_arg);
		}
	}
	return NULL;
}

void conn_busy_begin(struct conn *c)
{
	if (c->busy || !c->connected || c->failed || !c->cq)
		return;
	/* The keepalive thread must not find WRITEs queued, never posted. */
	if (post_write_list(c))
		return;
	if (c->busy_fd < 0) {
		c->busy_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (c->busy_fd < 0) {
			log_err("eventfd: %s; no keepalives during a long step", strerror(errno));
			return;
		}
	}
	atomic_store(&c->busy_stop, false);
	c->busy = true;
	if (pthread_create(&c->busy_thread, NULL, busy_main, c)) {
		log_err("cannot start the keepalive thread; no keepalives during a long step");
		c->busy = false;
	}
}

void conn_busy_end(struct conn *c)
{
	uint64_t one = 1;

	if (!c->busy)
		return;
	atomic_store(&c->busy_stop, true);
	if (write(c->busy_fd, &one, sizeof(one)) < 0)
		log_dbg("busy fd: %s", strerror(errno));
	pthread_join(c->busy_thread, NULL);
	c->busy = false;
}

int conn_signal_all(struct conn *c)
{
	/*
	 * A zero-length RDMA WRITE completes in order after every WR before
	 * it without touching remote memory (no rkey is checked for length
	 * 0) or using a credit.
	 */
	struct ibv_send_wr wr = {
		.opcode = IBV_WR_RDMA_WRITE, .num_sge = 0,
		.send_flags = IBV_SEND_SIGNALED,
	};
	uint64_t s;

	if (c->posted <= c->last_signaled)
		return c->failed ? -1 : 0;
	c->depth++;
	while (!c->failed && sq_room(c) < 2)
		progress(c, 100);
	c->depth--;
	if (c->failed)
		return -1;
	s = next_seq(c);
	wr.wr_id = WRID(KIND_WRITE, 0, s);
	c->unsignaled_writes = 0;
	if (post_send_wr(c, &wr))
		return -1;
	c->last_signaled = s;
	return 0;
}

int conn_wait_seq(struct conn *c, uint64_t seq)
{
	if (seq > c->last_signaled && conn_signal_all(c))
		return -1;
	c->depth++;
	while (!c->failed && c->done < seq) {
		if (c->peer_gone && poll_cq(c) == 0 && c->done < seq) {
			c->peer_error = true;
			conn_fail(c, "peer disconnected");
			break;
		}
		progress(c, 100);
	}
	c->depth--;
	return c->failed ? -1 : 0;
}

int conn_flush(struct conn *c)
{
	return conn_wait_seq(c, c->posted);
}
