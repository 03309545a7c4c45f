/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One RC connection: librdmacm setup (cm.c) and the control channel with
 * credits plus RDMA WRITE batching (rdma_msg.c).
 */
#ifndef RDMIGD_CONN_H
#define RDMIGD_CONN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include "auth.h"
#include "wire.h"
#include "../lib/util.h"

#define CONN_RECV_DEPTH		32	/* receive buffers, = credits granted */
#define CONN_SEND_BUFS		16
#define CONN_SQ_DEPTH		512
#define CONN_WRITE_BATCH	32	/* one signaled WRITE per this many */
#define CONN_WR_LIST_MAX	64	/* WRITEs chained into one ibv_post_send */
#define CONN_WR_LIST_DEFAULT	16
/*
 * WRITE bytes in flight on the source's QP, at most (--max-inflight). The
 * QP is in order, so a keepalive or any other message waits behind every
 * WRITE posted before it, and the peer sees nothing of a WRITE: 512
 * queued 1 MiB WRITEs at this machine's 5 MB/s took longer than the
 * peer's 30 s inactivity limit (make bench's pin-all failures). 16 MiB
 * drains in about 3 s here and is thousands of bandwidth-delay products
 * of a real RDMA link, so it costs no throughput there.
 */
#define CONN_MAX_INFLIGHT_DEFAULT	(16ULL << 20)
#define CONN_MAX_INFLIGHT_MIN		(4ULL << 20)
#define CONN_MAX_PENDING	4	/* connect requests held while authenticating */

struct conn;
/*
 * Called for each valid received message other than READY (and ERROR,
 * which fails the connection). Returns 0, or -1 after conn_fail().
 */
typedef int (*conn_msg_fn)(struct conn *c, const struct wire_hdr *h,
			   const uint8_t *data, void *arg);

/* A received message, copied out so its receive buffer can be reposted. */
struct conn_msg {
	struct conn_msg *next;
	uint32_t len;
	uint8_t data[];
};

/* A connect request not yet answered (its event already acknowledged). */
struct conn_request {
	struct rdma_cm_id *id;
	uint8_t pd[WIRE_PD_AUTH_REQ_LEN];	/* zero-padded */
	uint32_t pd_len;
	uint32_t qpn;				/* the source's QP */
};

struct conn;
/*
 * Destination: the secret to use for the next connect request (copied
 * under the agent's lock). Returns true if one is set; *required says
 * whether a source without authentication must be refused anyway.
 */
typedef bool (*conn_key_fn)(struct conn *c, struct auth_secret *k,
			    bool *required);

struct conn {
	struct rdma_event_channel *ec;
	struct rdma_cm_id *listen_id;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_comp_channel *cc;
	struct ibv_cq *cq;
	bool qp_created;
	bool connected;

	uint8_t *rbuf;
	struct ibv_mr *rmr;
	uint8_t *sbuf;
	struct ibv_mr *smr;
	uint32_t sfree[CONN_SEND_BUFS];
	uint32_t nsfree;

	/* Credits: how many messages the peer can still take from us. */
	uint32_t credits;
	uint32_t peer_credits_max;
	uint32_t to_return;	/* buffers reposted, not yet announced */
	struct conn_msg *rxq_head, *rxq_tail;
	uint64_t rxq_bytes;
	int depth;		/* nesting of conn_progress() */

	/* Send queue accounting (sequence numbers of posted WRs). */
	uint64_t posted;
	uint64_t done;
	uint64_t last_signaled;
	uint64_t posted_signaled;	/* last signaled WR handed to the NIC */
	uint32_t unsignaled_writes;
	/*
	 * WR list: WRITEs queued by conn_write() and posted as one chain
	 * (one ibv_post_send, one doorbell) when @wr_list are queued, or
	 * before anything else is posted or waited for, so they keep their
	 * place in the QP's order. @wr_list <= 1 posts each WRITE at once.
	 */
	uint32_t wr_list;
	uint32_t wl_n;
	struct ibv_send_wr wl_wr[CONN_WR_LIST_MAX];
	struct ibv_sge wl_sge[CONN_WR_LIST_MAX];
	uint64_t writes, write_posts;	/* WRITEs, and ibv_post_send calls for them */
	/*
	 * In-flight WRITE bytes (CONN_MAX_INFLIGHT_DEFAULT): @wbytes counts
	 * every WRITE byte posted, @wbytes_at[seq % CONN_SQ_DEPTH] its value
	 * when WR seq was posted, so posted less completed is
	 * @wbytes - @wbytes_at[done % CONN_SQ_DEPTH]. 0 = no limit.
	 */
	uint64_t max_inflight;
	uint64_t wbytes, wbytes_sig;
	uint64_t wbytes_at[CONN_SQ_DEPTH];
	uint64_t inflight_waits;	/* WRITEs that waited for the limit */
	/*
	 * conn_write()'s time (us), for the source's phases_ms: waiting for
	 * the in-flight limit, waiting for SQ room (conn_send()'s wait for a
	 * send buffer too), and in ibv_post_send(); conn_send()'s wait for
	 * the peer's credits.
	 */
	uint64_t inflight_wait_us, sq_wait_us, post_us, credit_wait_us;

	struct wire_pd local, peer;
	uint32_t caps;		/* intersection */

	conn_msg_fn on_msg;
	void *arg;
	atomic_bool *cancel;
	/*
	 * Inactivity limit once connected: no message from the peer, or no
	 * completion of a signaled WR, for this long fails the connection.
	 * Each side sends a keepalive (READY) after a quarter of it without
	 * sending anything, so a live but idle peer is never mistaken.
	 */
	uint32_t timeout_ms;
	uint64_t last_rx_us, last_tx_us, last_done_us;
	bool failed;
	bool peer_error;	/* the peer sent ERROR or went away */
	uint32_t peer_error_code;	/* the code of the peer's ERROR, 0 = none */
	bool peer_gone;		/* CM said disconnected; drain before failing */
	char err[512];
	uint64_t msgs_sent, msgs_recv, ready_sent;
	uint32_t refused;	/* connect requests refused while listening */

	/*
	 * Wakes a wait in conn_progress() at once (an eventfd the engine's
	 * owner writes, e.g. when the VMM says it paused); -1 = none.
	 */
	int wake_fd;
	/*
	 * A long step the engine cannot interleave with polling (turning
	 * tracking on, a zero scan, a batch of registrations, writing the
	 * device state) runs between conn_busy_begin() and conn_busy_end():
	 * meanwhile a keepalive thread owns the connection (nothing else
	 * touches it), polls completions, queues what arrives, returns
	 * credits, sends keepalives and checks the peer's silence.
	 * @busy_tick, if set, is called from that thread about once a
	 * second (e.g. to emit a progress event).
	 */
	pthread_t busy_thread;
	bool busy;
	atomic_bool busy_stop;
	int busy_fd;		/* eventfd that ends the keepalive thread's wait */
	void (*busy_tick)(void *arg);
	void *busy_arg;

	/* Authentication (auth.h, auth_conn.c; protocol.md "Authentication"). */
	bool auth;			/* WIRE_CAP_AUTH negotiated */
	bool authed;			/* the peer proved it holds the secret */
	struct auth_secret key;		/* this connection's copy */
	struct auth_transcript at;	/* what both sides sign */
	uint8_t peer_mac[AUTH_MAC_LEN];	/* source: the destination's proof */
	uint64_t accepted_us;		/* destination: when the candidate was accepted */
	/* destination only; kept across conn_drop_peer() */
	conn_key_fn get_key;
	const struct auth_allow *allow;
	uint32_t nallow;
	bool keep_listening;		/* the current candidate may be dropped */
	bool defer_requests;		/* hold connect requests (candidate not trusted) */
	struct conn_request pending[CONN_MAX_PENDING];
	uint32_t npending;
	char who[64];			/* the connected peer's address */

	/*
	 * Several QPs (protocol.md, "Several QPs"): a data QP carries only
	 * RDMA WRITEs. It posts no receive and sends no message, so no
	 * keepalive either: its silence check watches completions only.
	 * It shares the first QP's protection domain (@shared_pd, so every
	 * MR's keys are valid on it) and, on the destination, its event
	 * channel (@shared_ec: the listener's, where the join arrived).
	 */
	bool data_only;
	/*
	 * Source with several QPs: the migration's other QPs (QP 0 and the
	 * data QPs). A wait on this one also ends at their completions and
	 * CM events, and takes them (one poll() over every channel): what
	 * a wait is for may come on any QP (a data QP's last completion
	 * while QP 0 waits for a message, a REGISTER_RESULT while a data
	 * QP waits for room), and a wait on one channel slept through the
	 * others until its timeout. Not while @busy (the keepalive thread
	 * owns only this connection).
	 */
	struct conn *group[WIRE_QPS_MAX];
	uint32_t ngroup;
	struct ibv_pd *shared_pd;	/* not this connection's to free */
	bool shared_ec;			/* not this connection's to destroy */
	uint8_t join_pd[WIRE_JOIN_LEN];	/* source: the JOIN record it sends */
	/*
	 * Destination: called by the event loop, the event already
	 * acknowledged, for a CONNECT_REQUEST while connected (with its
	 * first @pd_len <= WIRE_JOIN_LEN bytes of private data) and for
	 * every event of an id that is not this connection's (@pd_len 0);
	 * returns true if it took it (a request it did not take is turned
	 * away busy, as before).
	 */
	bool (*on_cm)(struct conn *c, enum rdma_cm_event_type t, const char *name,
		      struct rdma_cm_id *id, const uint8_t *pd, uint32_t pd_len);
};

#define CONN_DEFAULT_TIMEOUT_MS	30000

void conn_init(struct conn *c, atomic_bool *cancel, uint32_t timeout_ms,
	       conn_msg_fn fn, void *arg);
/* The one monotonic clock (user/lib/util.c). */
static inline uint64_t conn_now_us(void)
{
	return rdmig_now_us();
}
/* Connection established: the inactivity clocks start now. */
void conn_established(struct conn *c);
/* Records the first failure; later ones are only logged. Returns -1. */
int conn_fail(struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* cm.c */
int conn_listen(struct conn *c, const char *addr, const char *port);
int conn_accept(struct conn *c, const struct wire_pd *local,
		uint32_t accept_caps);
int conn_connect(struct conn *c, const char *addr, const char *port,
		 const char *bind, const struct wire_pd *local);
/*
 * Destination: forgets the connected candidate (QP, buffers, its id) but
 * keeps listening; the next conn_accept() serves held requests first.
 */
void conn_drop_peer(struct conn *c);
/* Copies a CONNECT_REQUEST event's id and private data (before the ack). */
void conn_save_request(struct conn_request *r, const struct rdma_cm_event *ev);
/* Destination: turns away every held connect request (busy). */
void conn_refuse_pending(struct conn *c);
/*
 * Destination: accepts a data QP's join on @id (its CONNECT_REQUEST
 * already acknowledged) into @dq, set up by the caller with data_only,
 * shared_pd and the first QP's event channel (shared_ec); @local's caps
 * are WIRE_CAP_JOIN. ESTABLISHED arrives later, through on_cm.
 */
int conn_join_accept(struct conn *dq, struct rdma_cm_id *id,
		     const struct wire_pd *local);
/* Turns a connect request away with @reason and @text; destroys @id. */
void conn_reject_id(struct rdma_cm_id *id, uint32_t reason, const char *text);
/* Source: disconnects (a test fault point's loss of one data QP). */
void conn_disconnect(struct conn *c);
/* Handles the CM events already queued (a data QP's DISCONNECTED). */
void conn_poll_cm(struct conn *c);
/* Disconnects and destroys the QP: no WR can touch memory afterwards. */
void conn_stop(struct conn *c);
void conn_destroy(struct conn *c);

/* rdma_msg.c */
int conn_setup_buffers(struct conn *c);
int conn_post_initial_recvs(struct conn *c);
/* Sends one control message (waits for a credit and a buffer). */
int conn_send(struct conn *c, uint32_t type, uint32_t repeat,
	      const void *data, uint32_t len);
/* Sends ERROR with @code and text, best effort (no waiting). */
void conn_send_error(struct conn *c, uint32_t code, const char *text);
/*
 * Polls completions and dispatches received messages, waiting at most
 * @timeout_ms for something to happen. Returns 0 or -1 (failed).
 */
int conn_progress(struct conn *c, int timeout_ms);
/*
 * Queues an RDMA WRITE (posted with the WR list, see wr_list above);
 * returns its sequence number or 0 on failure.
 */
uint64_t conn_write(struct conn *c, void *laddr, uint32_t len, uint32_t lkey,
		    uint64_t raddr, uint32_t rkey);
/*
 * Makes every WR posted so far covered by a signaled one (a zero-length
 * WRITE if needed), so c->done reaching c->posted means nothing is in
 * flight. Returns 0 or -1.
 */
int conn_signal_all(struct conn *c);
/* See busy_thread above. A failure meanwhile shows as c->failed after. */
void conn_busy_begin(struct conn *c);
void conn_busy_end(struct conn *c);
/* Waits until every WR posted so far has completed. */
int conn_flush(struct conn *c);
/* Waits until WR @seq has completed. */
int conn_wait_seq(struct conn *c, uint64_t seq);

/* auth_conn.c: the challenge-response over this connection */
/* Source: checks the destination's proof from the accept, sends its own. */
int conn_auth_source(struct conn *c);
/* Destination: fills the transcript and its proof for the accept. */
int conn_auth_accept(struct conn *c, const struct conn_request *r,
		     uint8_t *acc_pd /* WIRE_PD_AUTH_ACC_LEN */);
/* Destination: checks the source's AUTH message (32 bytes). 0 = good. */
int conn_auth_check(struct conn *c, const uint8_t *mac);

#endif
