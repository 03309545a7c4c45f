// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The source engine: live pre-copy over RDMA WRITE.
 *
 * Iteration 0 turns dirty tracking on first and only then looks at the
 * pages (so a write racing with the first pass is reported by the next
 * get-and-clear), and sends every page the module reports WRITTEN and not
 * known ZERO; its first registration requests go out before tracking is
 * turned on (prefetch_requests()), so the destination pins meanwhile.
 * Later rounds send what get-and-clear reports, merged sparsely: what a
 * sync costs here follows the dirty pages, not the region. Each round:
 *  1. classify, one window ahead of the writes (never a whole pass before
 *     the first): per chunk with pages to send, read the pagemap;
 *     known-zero pages, and written pages that hold only zeroes, are
 *     skipped, or sent as zero ranges if they were sent before; a chunk
 *     left with nothing to write is neither registered nor written;
 *  2. pipeline: registration requests for the next chunks go out ahead
 *     of the writes that need them, in a window sized in bytes from the
 *     measured bandwidth x registration latency (request to result,
 *     round trip included), refilled by one chunk per chunk written; a
 *     round's first requests ramp up (1, 2, 4 ... REQ_RAMP_MAX chunks a
 *     message) because a destination may answer a request only once all
 *     its chunks are pinned (--pin-threads 0; with pin workers it answers
 *     in parts), so the first rkey waits for one pin, not for a
 *     window's. Pinned chunks stay registered across
 *     rounds until the budget evicts the least recently used
 *     (UNREGISTER_REQUEST before the next REGISTER). The source's own
 *     MR of a chunk is registered as the chunk enters the window, on a
 *     worker thread (local_ahead()), not on the write path;
 *  3. write: one RDMA WRITE per run of contiguous pages, one signaled
 *     completion per CONN_WRITE_BATCH writes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/rdmig.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <rdmig/librdmig.h>

#include "chunks.h"
#include "conn.h"
#include "log.h"
#include "pinpool.h"
#include "rdmigd.h"
#include "region.h"

/* The registration window, in chunks: at most, and before a measure. */
#define LOOKAHEAD	128u
/* ... and at least (a measure under a light load must not starve it). */
#define WINDOW_MIN	4u
/* Chunks of the largest REGISTER_REQUEST while a window ramps up. */
#define REQ_RAMP_MAX	16u
/*
 * Source MRs are read-only (the NIC only reads them for RDMA WRITE): an MR
 * with write access is unpinned with set_page_dirty() on every page, which
 * rdmig.ko counts as a write by the guest (it tracks writers that went
 * through get_user_pages that way) and which would resend everything.
 */
#define SRC_MR_ACCESS	0
#define PAGE		WIRE_PAGE_SIZE

/*
 * A REGISTER_REQUEST or UNREGISTER_REQUEST sent and not yet answered: the
 * answers come in order and must name the same entries in the same order.
 */
struct sent_req {
	struct sent_req *next;
	uint64_t sent_us;
	uint32_t n;
	uint32_t answered;	/* entries answered so far (REGISTER only) */
	uint8_t e[];		/* n x WIRE_CHUNK_LEN, as sent */
};

struct src {
	struct agent *a;
	struct mig_params p;
	struct conn c;
	/*
	 * Several QPs (protocol.md, "Several QPs"): @nqp granted; with 2 or
	 * more, c is QP 0 (messages only) and dq[1..nqp-1] carry the WRITEs,
	 * chunk g's all on dq[1 + g % (nqp - 1)] (wconn()).
	 */
	uint32_t nqp;
	struct conn dq[WIRE_QPS_MAX];
	uint8_t join_key[WIRE_JOIN_KEY_LEN];
	bool qps_asked, qps_done;
	bool comp_unfenced;	/* a COMPRESS went since the last BARRIER */
	bool fault_done;	/* the dataqp1 fault point has fired */
	uint64_t barrier_sent, barrier_done;	/* tokens */
	struct region r[MAX_REGIONS];
	uint32_t nb;
	struct rdmig_nl *nl;	/* the module's netlink family, bound to r[] */
	bool tracking[MAX_REGIONS];
	struct chunk_layout L;
	struct wire_layout wl;
	/* remote (destination) registrations */
	struct chunk_map rm;
	struct chunk_lru rlru;
	uint64_t raddr[MAX_REGIONS];
	uint32_t rkey[MAX_REGIONS];
	/* local registrations of the transfer view */
	struct ibv_mr **lmr;
	uint64_t *lseq;		/* last WR that reads the chunk, on wconn(s, g) */
	struct chunk_lru llru;
	struct ibv_mr *bmr[MAX_REGIONS];
	uint8_t *inwin;		/* in the pipeline window: not evictable */
	/*
	 * The source's own registrations on a worker (local_ahead()): @lpend
	 * marks a chunk submitted and not yet harvested; it is in @llru (its
	 * bytes count against the budget) with no MR yet.
	 */
	struct pin_pool lpool;
	bool lpool_on;
	uint8_t *lpend;
	uint64_t *todo[MAX_REGIONS];
	uint64_t *sent[MAX_REGIONS];
	uint64_t *pm;
	/*
	 * This round's chunks: work[0..nwork) classified, each with pages to
	 * write; work[scan..nraw) not yet classified (in layout order).
	 */
	uint32_t *work;
	uint32_t nwork, scan, nraw;
	uint64_t ntodo;		/* bits set in todo[], all regions */
	bool pin_all, zero_range;
	bool blocks_sent, blocks_done, got_ack;
	bool sent_last;		/* REGISTER_FINISHED LAST has gone */
	struct wire_finished last;	/* what the ACK must echo */
	struct sent_req *reg_head, *reg_tail;	/* unanswered REGISTER_REQUESTs */
	struct sent_req *unreg_head, *unreg_tail;	/* unanswered UNREGISTER_REQUESTs */
	uint32_t err_code;
	uint64_t last_progress_us;
	uint64_t bw_bps;	/* bytes per second, estimate */
	/*
	 * A round's fixed cost (us, once @fixed_known): its time beyond its
	 * bytes at @bw_bps (flushing the QPs, BARRIER and registration round
	 * trips, the dirty get-and-clear), which the last round in the
	 * downtime pays too however few pages it has (converged()).
	 */
	uint64_t fixed_us;
	bool fixed_known;
	uint64_t rate_t0, rate_b0;
	uint32_t iteration;
	uint64_t t_first_req;	/* first REGISTER_REQUEST sent */
	uint64_t reg_lat_us;	/* REGISTER_REQUEST to its result, moving average */
	uint32_t req_ramp;	/* chunks of the next REGISTER_REQUEST while ramping */
	uint64_t last_tick_us;	/* classify: last poll of the connection */
	const char *phase;	/* what a long step is doing, for progress */
	uint32_t nreq, nunreg, ncomp;
	uint8_t reqbuf[WIRE_MAX_REPEAT * WIRE_CHUNK_LEN];
	uint8_t unregbuf[WIRE_MAX_REPEAT * WIRE_CHUNK_LEN];
	uint8_t compbuf[WIRE_MAX_REPEAT * WIRE_RANGE_LEN];
	struct wire_range pend;	/* zero range being coalesced */
	bool have_pend;
	/*
	 * phases_ms (rdmigd.h): while @ph_on, the time since @ph_t belongs to
	 * @ph_cur, except what conn_write() counted meanwhile (@ph_conn: its
	 * post, in-flight and SQ-room counters when @ph_t was taken).
	 */
	bool ph_on;
	enum mig_phase ph_cur;
	uint64_t ph_t, ph_conn[3];
	uint64_t ph_us[PH_N];
	uint64_t last_fresh;	/* pages the last collect_dirty() found dirty */
	uint64_t t_start;	/* the migration's start (now_us()) */
};

static int proto_err(struct src *s, uint32_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int proto_err(struct src *s, uint32_t code, const char *fmt, ...)
{
	char buf[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!s->err_code)
		s->err_code = code;
	return conn_fail(&s->c, "%s", buf);
}

/*
 * Ends the current phase's span and starts one of @to; returns the phase
 * it ended, to switch back to. conn_write()'s own counters go to post,
 * inflight_wait and cq_wait (SQ room), whichever phase was current.
 */
static enum mig_phase ph_switch(struct src *s, enum mig_phase to)
{
	static const enum mig_phase conn_ph[3] = { PH_POST, PH_INFLIGHT_WAIT, PH_CQ_WAIT };
	uint64_t t = now_us(), cur[3] = { s->c.post_us, s->c.inflight_wait_us, s->c.sq_wait_us };
	uint64_t dt = t - s->ph_t, inner = 0;
	enum mig_phase prev = s->ph_cur;
	uint32_t q;
	int i;

	/* The data QPs' conn_write() runs on this thread too: its time is ours. */
	for (q = 1; q < s->nqp; q++) {
		cur[0] += s->dq[q].post_us;
		cur[1] += s->dq[q].inflight_wait_us;
		cur[2] += s->dq[q].sq_wait_us;
	}

	for (i = 0; i < 3; i++) {
		uint64_t d = cur[i] - s->ph_conn[i];

		inner += d;
		if (s->ph_on)
			s->ph_us[conn_ph[i]] += d;
		s->ph_conn[i] = cur[i];
	}
	if (s->ph_on)
		s->ph_us[prev] += dt > inner ? dt - inner : 0;
	s->ph_t = t;
	s->ph_cur = to;
	return prev;
}

/* Appends a round to the statistics: the first MIG_ROUNDS_MAX - 1 and the last. */
static void add_round(struct src *s, uint64_t t_start, uint64_t sent, uint64_t remaining)
{
	struct mig_stats *st = &s->a->stats;
	struct mig_round r = {
		.t_ms = (now_us() - t_start) / 1000, .sent_bytes = sent,
		.dirty_bytes = s->last_fresh * PAGE, .remaining_bytes = remaining * PAGE,
	};

	pthread_mutex_lock(&s->a->lock);
	st->rounds[st->nrounds < MIG_ROUNDS_MAX ? st->nrounds++ : MIG_ROUNDS_MAX - 1] = r;
	pthread_mutex_unlock(&s->a->lock);
}

static inline bool bit(const uint64_t *bm, uint64_t i)
{
	return bm[i / 64] >> (i % 64) & 1;
}

static inline void set_bit(uint64_t *bm, uint64_t i)
{
	bm[i / 64] |= 1ull << (i % 64);
}

static inline void clear_bit(uint64_t *bm, uint64_t i)
{
	bm[i / 64] &= ~(1ull << (i % 64));
}

/* ---- messages from the destination ---------------------------------- */

/* Remembers a request as sent, for matching its answer. */
static int remember(struct src *s, struct sent_req **head, struct sent_req **tail,
		    const uint8_t *e, uint32_t n)
{
	struct sent_req *r = malloc(sizeof(*r) + (size_t)n * WIRE_CHUNK_LEN);

	if (!r)
		return proto_err(s, WIRE_E_INTERNAL, "out of memory for a sent request");
	r->next = NULL;
	r->sent_us = now_us();
	r->n = n;
	r->answered = 0;
	memcpy(r->e, e, (size_t)n * WIRE_CHUNK_LEN);
	if (*tail)
		(*tail)->next = r;
	else
		*head = r;
	*tail = r;
	return 0;
}

static struct sent_req *forget_oldest(struct sent_req **head, struct sent_req **tail)
{
	struct sent_req *r = *head;

	*head = r->next;
	if (!*head)
		*tail = NULL;
	return r;
}

static void forget_all(struct sent_req **head, struct sent_req **tail)
{
	while (*head)
		free(forget_oldest(head, tail));
}

static int on_reg_res(struct src *s, const struct wire_hdr *h, const uint8_t *data)
{
	struct sent_req *r = s->reg_head;
	const char *why;
	uint32_t i;

	/*
	 * Each result answers the oldest request's next entries, entry for
	 * entry (protocol 3: a destination pinning on several threads
	 * answers a request in parts, as its chunks are pinned). A result
	 * that is long or out of order would otherwise leave chunks waiting
	 * for an rkey that never comes (a peer sending keepalives meanwhile
	 * is never timed out).
	 */
	if (!r)
		return proto_err(s, WIRE_E_PROTO, "register result (%u chunks) with no register request outstanding",
				 h->repeat);
	if (h->repeat > r->n - r->answered)
		return proto_err(s, WIRE_E_PROTO,
				 "register result has %u entries, the request it answers asked for %u chunks, %u of them unanswered",
				 h->repeat, r->n, r->n - r->answered);
	for (i = 0; i < h->repeat; i++) {
		struct wire_reg_res e;
		struct wire_chunk ch, want;

		wire_get_reg_res(data, i, &e);
		wire_get_chunk(r->e, r->answered + i, &want);
		ch.block = e.block;
		ch.chunk = e.chunk;
		if (wire_check_chunk(&s->wl, &ch, &why))
			return proto_err(s, WIRE_E_RANGE, "register result %u/%u: %s",
					 e.block, e.chunk, why);
		if (ch.block != want.block || ch.chunk != want.chunk)
			return proto_err(s, WIRE_E_PROTO,
					 "register result entry %u names block %u chunk %u, the request asked for block %u chunk %u",
					 r->answered + i, e.block, e.chunk, want.block, want.chunk);
		if (chunk_result(&s->rm, chunk_gidx(&s->L, e.block, e.chunk),
				 e.rkey, e.addr))
			return proto_err(s, WIRE_E_PROTO,
					 "register result for block %u chunk %u, which was not requested",
					 e.block, e.chunk);
	}
	r->answered += h->repeat;
	/*
	 * Latency from request to each result (what the window must cover),
	 * 1/8 moving average.
	 */
	{
		uint64_t lat = now_us() - r->sent_us;

		s->reg_lat_us = s->reg_lat_us ? (s->reg_lat_us * 7 + lat) / 8 : lat;
	}
	if (r->answered == r->n)
		free(forget_oldest(&s->reg_head, &s->reg_tail));
	if (s->t_first_req && !s->a->stats.first_registration_ms) {
		pthread_mutex_lock(&s->a->lock);
		s->a->stats.first_registration_ms =
			(now_us() - s->t_first_req + 999) / 1000;
		pthread_mutex_unlock(&s->a->lock);
	}
	return 0;
}

static int on_ack(struct src *s, const uint8_t *data)
{
	struct wire_finished f;

	wire_get_finished(data, &f);
	/*
	 * Only the answer to this source's final round may complete the
	 * migration: the VMM stops the only running copy of the guest on
	 * "completed". Anything else (early, repeated, or not echoing the
	 * final round's iteration, size and nonce) aborts it.
	 */
	if (!s->sent_last)
		return proto_err(s, WIRE_E_PROTO,
				 "destination acknowledged completion (iteration %u) before the source's final round: refusing to complete",
				 f.iteration);
	if (s->got_ack)
		return proto_err(s, WIRE_E_PROTO, "a second completion acknowledgement");
	if (f.flags != WIRE_FIN_ACK)
		return proto_err(s, WIRE_E_PROTO, "unexpected completion flags 0x%x", f.flags);
	if (f.nonce != s->last.nonce || f.iteration != s->last.iteration ||
	    f.state_bytes != s->last.state_bytes)
		return proto_err(s, WIRE_E_PROTO,
				 "completion acknowledgement does not answer the final round (iteration %u, %llu state bytes, nonce %016llx; expected %u, %llu, %016llx): refusing to complete",
				 f.iteration, (unsigned long long)f.state_bytes,
				 (unsigned long long)f.nonce, s->last.iteration,
				 (unsigned long long)s->last.state_bytes,
				 (unsigned long long)s->last.nonce);
	s->got_ack = true;
	return 0;
}

static int on_msg(struct conn *c, const struct wire_hdr *h, const uint8_t *data,
		  void *arg)
{
	struct src *s = arg;
	const char *why;
	uint32_t i;

	(void)c;
	switch (h->type) {
	case WIRE_RAM_BLOCKS_RES:
		if (!s->blocks_sent || s->blocks_done || h->repeat != s->nb)
			return proto_err(s, WIRE_E_PROTO, "unexpected RAM blocks result (%u blocks)",
					 h->repeat);
		for (i = 0; i < s->nb; i++) {
			struct wire_block_res e;

			wire_get_block_res(data, i, &e);
			if (s->pin_all && !e.rkey)
				return proto_err(s, WIRE_E_PROTO, "pin-all block %u has no rkey", i);
			s->raddr[i] = e.addr;
			s->rkey[i] = e.rkey;
		}
		s->blocks_done = true;
		return 0;
	case WIRE_REG_RES:
		return on_reg_res(s, h, data);
	case WIRE_UNREG_FINISHED: {
		struct sent_req *r = s->unreg_head;

		for (i = 0; i < h->repeat; i++) {
			struct wire_chunk e;

			wire_get_chunk(data, i, &e);
			if (wire_check_chunk(&s->wl, &e, &why))
				return proto_err(s, WIRE_E_RANGE, "unregister result: %s", why);
		}
		/* The answer echoes the oldest request exactly. */
		if (!r)
			return proto_err(s, WIRE_E_PROTO, "unsolicited unregister result");
		if (h->repeat != r->n ||
		    memcmp(data, r->e, (size_t)r->n * WIRE_CHUNK_LEN))
			return proto_err(s, WIRE_E_PROTO,
					 "unregister result (%u entries) does not echo the request it answers (%u entries)",
					 h->repeat, r->n);
		free(forget_oldest(&s->unreg_head, &s->unreg_tail));
		return 0;
	}
	case WIRE_REG_FINISHED:
		return on_ack(s, data);
	case WIRE_QPS_RES:
		i = wire_get32(data);
		if (!s->qps_asked || s->qps_done || i < 1 || i > s->a->qps)
			return proto_err(s, WIRE_E_PROTO, "unexpected QPS_RESULT (%u QPs granted)", i);
		s->nqp = i;
		memcpy(s->join_key, data + 4, WIRE_JOIN_KEY_LEN);
		s->qps_done = true;
		return 0;
	case WIRE_BARRIER_RES:
		/* Several may be out (flush_comp()); QP 0 answers them in order. */
		if (s->barrier_done == s->barrier_sent ||
		    wire_get64(data) != s->barrier_done + 1)
			return proto_err(s, WIRE_E_PROTO, "BARRIER_RESULT answers no BARRIER sent");
		s->barrier_done++;
		return 0;
	}
	return proto_err(s, WIRE_E_PROTO, "unexpected %s from the destination",
			 wire_type_name(h->type));
}

/* ---- batching of control messages ------------------------------------ */

static int flush_unreg(struct src *s)
{
	int rc = 0;

	if (s->nunreg) {
		rc = remember(s, &s->unreg_head, &s->unreg_tail, s->unregbuf, s->nunreg);
		if (!rc)
			rc = conn_send(&s->c, WIRE_UNREG_REQ, s->nunreg, s->unregbuf,
				       s->nunreg * WIRE_CHUNK_LEN);
	}
	s->nunreg = 0;
	return rc;
}

static int flush_req(struct src *s)
{
	int rc;

	/* Unregisters first: the destination then never exceeds its budget. */
	if (flush_unreg(s))
		return -1;
	if (!s->nreq)
		return 0;
	if (!s->t_first_req)
		s->t_first_req = now_us();
	rc = remember(s, &s->reg_head, &s->reg_tail, s->reqbuf, s->nreq);
	if (!rc)
		rc = conn_send(&s->c, WIRE_REG_REQ, s->nreq, s->reqbuf,
			       s->nreq * WIRE_CHUNK_LEN);
	s->nreq = 0;
	return rc;
}

static int flush_comp(struct src *s)
{
	int rc = 0;

	if (s->have_pend) {
		wire_put_range(s->compbuf, s->ncomp++, &s->pend);
		s->have_pend = false;
	}
	if (s->ncomp) {
		rc = conn_send(&s->c, WIRE_COMPRESS, s->ncomp, s->compbuf,
			       s->ncomp * WIRE_RANGE_LEN);
		/*
		 * See fence_compress(): no WRITE before this is applied. The
		 * BARRIER goes at once, so its round trip overlaps the round's
		 * flush and the next round's start (a COMPRESS ends every
		 * round of the first pass): the next WRITE waits only for
		 * what is left of it.
		 */
		if (!rc) {
			uint8_t b[WIRE_BARRIER_LEN];

			wire_put64(b, ++s->barrier_sent);
			rc = conn_send(&s->c, WIRE_BARRIER, 1, b, sizeof(b));
			s->comp_unfenced = true;
		}
	}
	s->ncomp = 0;
	return rc;
}

static int add_zero_page(struct src *s, uint32_t b, uint64_t page)
{
	uint64_t off = page * PAGE;

	if (s->have_pend && s->pend.block == b &&
	    s->pend.offset + s->pend.length == off) {
		s->pend.length += PAGE;
		return 0;
	}
	if (s->have_pend) {
		wire_put_range(s->compbuf, s->ncomp++, &s->pend);
		if (s->ncomp == WIRE_MAX_REPEAT) {
			s->have_pend = false;
			if (flush_comp(s))
				return -1;
		}
	}
	s->pend = (struct wire_range){ .block = b, .offset = off, .length = PAGE };
	s->have_pend = true;
	return 0;
}

/* ---- several QPs (protocol.md, "Several QPs") ------------------------- */

/* The QP that carries chunk @g's WRITEs: always the same one. */
static struct conn *wconn(struct src *s, uint32_t g)
{
	return s->nqp > 1 ? &s->dq[1 + g % (s->nqp - 1)] : &s->c;
}

/*
 * A data QP's failure fails the migration, its text naming the QP: the
 * reason the VMM and the operator see is QP 0's.
 */
static int data_check(struct src *s)
{
	uint32_t i;

	for (i = 1; i < s->nqp; i++)
		if (s->dq[i].failed)
			return conn_fail(&s->c, "data QP %u of %u failed: %s", i, s->nqp,
					 s->dq[i].err);
	return s->c.failed ? -1 : 0;
}

/*
 * Posts what the data QPs hold in their WR lists and takes their
 * completions and CM events (a DISCONNECTED), without waiting.
 */
static int data_poll(struct src *s)
{
	uint32_t i;

	for (i = 1; i < s->nqp; i++) {
		conn_poll_cm(&s->dq[i]);
		conn_progress(&s->dq[i], 0);
	}
	return data_check(s);
}

/* A data QP operation failed: the migration fails with its reason. */
static int data_fail(struct src *s)
{
	data_check(s);
	return -1;
}

/*
 * True if no WRITE is in flight on any QP that carries them; @last is
 * then when the last of them completed.
 */
static bool writes_idle(const struct src *s, uint64_t *last)
{
	uint32_t i = s->nqp > 1 ? 1 : 0;

	*last = 0;
	for (; i < s->nqp; i++) {
		const struct conn *c = i ? &s->dq[i] : &s->c;

		if (c->done < c->posted)
			return false;
		if (c->last_done_us > *last)
			*last = c->last_done_us;
	}
	return true;
}

/* Waits until chunk @g's last WRITE has completed (its QP's lseq). */
static int wait_chunk(struct src *s, uint32_t g)
{
	if (conn_wait_seq(wconn(s, g), s->lseq[g]))
		return data_fail(s);
	return 0;
}

/*
 * Every WRITE posted so far, on every QP, has completed. Each data QP's
 * closing signaled WR goes before the first wait, so the QPs drain
 * together: one round trip, not one per QP after the one before.
 */
static int flush_data(struct src *s)
{
	uint32_t i;

	for (i = 1; i < s->nqp; i++)
		if (conn_signal_all(&s->dq[i]))
			return data_fail(s);
	for (i = 1; i < s->nqp; i++)
		if (conn_flush(&s->dq[i]))
			return data_fail(s);
	return conn_flush(&s->c);
}

/*
 * A zero range is applied when the destination handles the COMPRESS,
 * which may be after a later WRITE of the same page has landed: on a
 * data QP, and on one QP too, as RC orders a WRITE's placement after
 * the SEND's data, not after the destination's CPU handled it. It would
 * zero that newer page (48-qps-order shows both with --debug-stall
 * compress). So after a COMPRESS, no
 * WRITE goes before the destination said it handled everything before
 * a BARRIER (it answers in order), the BARRIER sent right after the
 * COMPRESS (flush_comp()).
 */
static int fence_compress(struct src *s)
{
	if (!s->comp_unfenced)
		return 0;
	while (s->barrier_done != s->barrier_sent)
		if (conn_progress(&s->c, 100))
			return -1;
	s->comp_unfenced = false;
	return 0;
}

/*
 * After authentication: asks for a->qps QPs, and connects the granted
 * data QPs to the same address, port and bind address, each with its
 * JOIN record, sharing QP 0's protection domain (every MR's keys are
 * valid on it).
 */
static int join_qps(struct src *s)
{
	struct agent *a = s->a;
	struct wire_pd pd = s->c.local;
	uint8_t b[WIRE_QPS_REQ_LEN];
	uint32_t i;

	s->nqp = 1;
	if (a->qps < 2 || !(s->c.caps & WIRE_CAP_QPS))
		return 0;
	wire_put32(b, a->qps);
	s->qps_asked = true;
	if (conn_send(&s->c, WIRE_QPS_REQ, 1, b, sizeof(b)))
		return -1;
	while (!s->qps_done)
		if (conn_progress(&s->c, 100))
			return -1;
	log_info("destination granted %u of %u QPs", s->nqp, a->qps);
	pd.caps = WIRE_CAP_JOIN;
	for (i = 1; i < s->nqp; i++) {
		struct conn *d = &s->dq[i];
		struct wire_join j = { .index = i, .n = s->nqp };

		conn_init(d, &a->cancel, a->timeout_ms, NULL, s);
		d->data_only = true;
		d->shared_pd = s->c.pd;
		d->wr_list = a->wr_list;
		d->max_inflight = a->max_inflight;
		if (auth_join_token(s->join_key, i, s->nqp, j.token))
			return conn_fail(&s->c, "JOIN token: HMAC-SHA256 failed");
		wire_join_encode(d->join_pd, &j);
		if (conn_connect(d, a->addr, a->port, a->bind, &pd))
			return conn_fail(&s->c, "connecting data QP %u of %u: %s", i, s->nqp,
					 d->err);
		/* A test's window: a hostile join while the others are due. */
		if (i == 1 && s->nqp > 2 && engine_stall(a, &s->c, "join"))
			return -1;
	}
	OPENSSL_cleanse(s->join_key, sizeof(s->join_key));
	if (s->nqp > 1)
		log_info("%u data QPs joined", s->nqp - 1);
	/* A wait on any QP wakes at the first event on any (conn.h, group). */
	for (i = 0; i < s->nqp; i++) {
		struct conn *c = i ? &s->dq[i] : &s->c;
		uint32_t j;

		c->ngroup = 0;
		for (j = 0; j < s->nqp; j++)
			if (j != i)
				c->group[c->ngroup++] = j ? &s->dq[j] : &s->c;
	}
	return 0;
}

/* Disconnects and destroys every data QP: nothing reads memory after. */
static void data_stop(struct src *s)
{
	uint32_t i;

	s->c.ngroup = 0;
	for (i = 1; i < WIRE_QPS_MAX; i++) {
		s->dq[i].ngroup = 0;
		conn_stop(&s->dq[i]);
	}
}

/* ---- registrations ---------------------------------------------------- */

static bool busy_win(uint32_t i, void *arg)
{
	return ((struct src *)arg)->inwin[i];
}

static int wait_rkey(struct src *s, uint32_t g);

static int unpin_remote(struct src *s, uint32_t g)
{
	struct wire_chunk e;

	/*
	 * A registration still in flight (a round stopped at the pause
	 * left it outside the window) is waited for: unregistered first,
	 * its late result would hand this side an rkey the destination
	 * has already dropped, and chunk_unpin() would refuse the state.
	 */
	if (s->rm.state[g] == CHUNK_NO_RKEY && wait_rkey(s, g))
		return -1;
	/*
	 * On another QP than QP 0 a WRITE to the chunk may still be on the
	 * link when the UNREGISTER_REQUEST arrives: the destination would
	 * deregister under it. On one QP the order does it.
	 */
	if (s->nqp > 1 && s->lseq[g] && wait_chunk(s, g))
		return -1;
	e.block = chunk_block_of(&s->L, g, &e.chunk);
	chunk_unpin(&s->rm, g);
	chunk_lru_del(&s->rlru, g);
	wire_put_chunk(s->unregbuf, s->nunreg++, &e);
	s->a->stats.unregistrations++;
	if (s->nunreg == WIRE_MAX_REPEAT)
		return flush_unreg(s);
	return 0;
}

/*
 * The registration window in chunks: what the link carries while one
 * registration is answered (bandwidth x request-to-result latency), twice
 * over for jitter, within WINDOW_MIN..LOOKAHEAD; LOOKAHEAD until both are
 * measured. The budget bounds it further (request_ahead()).
 */
static uint32_t window_chunks(const struct src *s)
{
	uint64_t bytes, n;

	if (!s->bw_bps || !s->reg_lat_us)
		return LOOKAHEAD;
	bytes = s->bw_bps / 1000 * s->reg_lat_us / 1000 * 2;
	n = (bytes + s->L.chunk_size - 1) / s->L.chunk_size;
	return n < WINDOW_MIN ? WINDOW_MIN : n > LOOKAHEAD ? LOOKAHEAD : (uint32_t)n;
}

/* Queues a registration request for chunk @g; sends when the ramp's batch is full. */
static int request_chunk(struct src *s, uint32_t g)
{
	struct wire_chunk e;

	chunk_request(&s->rm, g);
	chunk_lru_add(&s->rlru, g, chunk_bytes(&s->L, g));
	e.block = chunk_block_of(&s->L, g, &e.chunk);
	wire_put_chunk(s->reqbuf, s->nreq++, &e);
	s->a->stats.registrations++;
	if (s->nreq >= s->req_ramp) {
		if (s->req_ramp < REQ_RAMP_MAX)
			s->req_ramp *= 2;
		return flush_req(s);
	}
	return 0;
}

/* ---- the source's own registrations ------------------------------------ */

/* Takes the worker's finished registrations; @report: a failure fails the migration. */
static int harvest_local(struct src *s, bool report)
{
	struct pin_done d[16];
	uint32_t n, i;
	int rc = 0;

	if (!s->lpool_on)
		return 0;
	while ((n = pin_pool_harvest(&s->lpool, d, 16)) > 0)
		for (i = 0; i < n; i++) {
			uint32_t g = d[i].g;

			s->lpend[g] = 0;
			s->a->stats.register_ahead_us += d[i].us;
			if (d[i].mr) {
				s->lmr[g] = d[i].mr;
				s->a->stats.registered_ahead++;
				continue;
			}
			chunk_lru_del(&s->llru, g);
			if (report && !rc)
				rc = proto_err(s, WIRE_E_RESOURCES, "registering source chunk %u: %s",
					       g, strerror(d[i].err));
		}
	return rc;
}

/* Not evictable now: in the window, registering, or still read by a WRITE. */
static bool local_busy(uint32_t v, void *arg)
{
	struct src *s = arg;

	return s->inwin[v] || s->lpend[v] || s->lseq[v] > wconn(s, v)->done;
}

static void drop_local(struct src *s, uint32_t v)
{
	enum mig_phase prev = ph_switch(s, PH_REGISTER);

	ibv_dereg_mr(s->lmr[v]);
	ph_switch(s, prev);
	s->lmr[v] = NULL;
	chunk_lru_del(&s->llru, v);
}

/*
 * Chunk @g entered the window: its source MR is registered on the worker
 * while the writes before it go out, so ibv_reg_mr() (pinning a chunk's
 * pages: milliseconds) leaves the write path. Only if it fits the source's
 * budget now, evicting only chunks nothing waits for; otherwise local_mr()
 * does it at write time, waiting for a victim, as without the worker.
 */
static int local_ahead(struct src *s, uint32_t g)
{
	uint64_t bytes = chunk_bytes(&s->L, g);
	uint32_t b = chunk_block_of(&s->L, g, &(uint32_t){ 0 });
	struct pin_req r = {
		.g = g, .pd = s->c.pd, .addr = s->r[b].mem + chunk_offset(&s->L, g),
		.len = bytes, .access = SRC_MR_ACCESS,
	};
	int rc;

	if (!s->lpool_on || s->lmr[g] || s->lpend[g])
		return 0;
	while (!chunk_lru_fits(&s->llru, bytes)) {
		uint32_t v = chunk_lru_victim(&s->llru, local_busy, s);

		if (v == CHUNK_NIL)
			return 0;
		drop_local(s, v);
	}
	rc = pin_pool_submit(&s->lpool, &r);
	if (rc)
		return proto_err(s, WIRE_E_INTERNAL, "queueing the registration of source chunk %u: %s",
				 g, strerror(-rc));
	s->lpend[g] = 1;
	chunk_lru_add(&s->llru, g, bytes);
	return 0;
}

/*
 * Waits for the worker's registration of @g; g = CHUNK_NIL: for a while
 * (at most a millisecond) if nothing finished yet, the caller loops.
 */
static int wait_local(struct src *s, uint32_t g)
{
	enum mig_phase prev = ph_switch(s, PH_REGISTER);
	uint32_t before = pin_pool_outstanding(&s->lpool);
	int rc;

	do {
		rc = harvest_local(s, true);
		if (!rc && (g == CHUNK_NIL ? pin_pool_outstanding(&s->lpool) == before
					   : s->lpend[g]))
			rc = conn_progress(&s->c, 1);
	} while (!rc && g != CHUNK_NIL && s->lpend[g]);
	ph_switch(s, prev);
	return rc ? -1 : 0;
}

static int classify_upto(struct src *s, uint32_t want, uint32_t *scan_budget);

/*
 * Makes work[@i] exist if the round has one more chunk to write (its
 * time is classify's): 1 if it does, 0 if not (yet, with @scan_budget),
 * -1 on failure.
 */
static int have_work(struct src *s, uint32_t i, uint32_t *scan_budget)
{
	enum mig_phase prev;
	int rc;

	if (i < s->nwork)
		return 1;
	prev = ph_switch(s, PH_CLASSIFY);
	rc = classify_upto(s, i + 1, scan_budget);
	ph_switch(s, prev);
	return rc ? -1 : i < s->nwork;
}

/*
 * Requests registration of work[*next...] up to the window ahead of @w,
 * evicting least recently used chunks outside the window when the
 * destination's budget is reached. Called once per chunk written, so
 * the window is refilled chunk by chunk. The chunks entering it are
 * classified here (at most a few per call, so the first writes never
 * wait for a window's classification) and their source MRs queued.
 */
static int request_ahead(struct src *s, uint32_t w, uint32_t *next)
{
	uint32_t k, win = window_chunks(s), scan_budget = 8;

	for (k = *next; k < w + win; k++) {
		uint32_t g;
		int rc;
		uint64_t bytes;

		rc = have_work(s, k, &scan_budget);
		if (rc < 0)
			return -1;
		if (!rc)
			break;
		g = s->work[k];
		bytes = chunk_bytes(&s->L, g);
		if (s->rm.state[g] == CHUNK_RKEY || s->rm.state[g] == CHUNK_NO_RKEY) {
			s->inwin[g] = 1;
			chunk_lru_touch(&s->rlru, g);
			if (local_ahead(s, g))
				return -1;
			continue;
		}
		while (!chunk_lru_fits(&s->rlru, bytes)) {
			uint32_t v = chunk_lru_victim(&s->rlru, busy_win, s);

			if (v == CHUNK_NIL)
				break;
			if (unpin_remote(s, v))
				return -1;
		}
		if (!chunk_lru_fits(&s->rlru, bytes))
			break;	/* the window fills the budget: write first */
		s->inwin[g] = 1;
		if (request_chunk(s, g) || local_ahead(s, g))
			return -1;
	}
	if (*next < k)
		*next = k;
	if (*next <= w)
		return proto_err(s, WIRE_E_RESOURCES,
				 "destination pin budget (%llu bytes) cannot hold one chunk",
				 (unsigned long long)s->rlru.budget);
	return flush_req(s);
}

/*
 * Waits for chunk @g's rkey. registration_wait counts only the part of
 * the wait in which the data path had nothing to send: no WRITE in flight
 * (every WR posted is signaled-covered and completed) and this chunk
 * without its rkey. While earlier WRITEs are still on the link, waiting
 * costs nothing (the REGISTER_REQUEST itself may be queued behind them).
 */
static int wait_rkey(struct src *s, uint32_t g)
{
	uint64_t t0, idle_from = 0, t;

	if (s->rm.state[g] == CHUNK_RKEY)
		return 0;
	t0 = now_us();
	if (conn_signal_all(&s->c) || data_poll(s))
		return -1;
	while (s->rm.state[g] != CHUNK_RKEY) {
		if (!idle_from && writes_idle(s, &t))
			idle_from = t > t0 ? t : t0;
		if (conn_progress(&s->c, 100) || (s->nqp > 1 && data_poll(s)))
			return -1;
	}
	t = now_us();
	if (!idle_from && writes_idle(s, &t))
		idle_from = t > t0 ? t : t0;
	if (idle_from && t > idle_from)
		s->a->stats.registration_wait_us += t - idle_from;
	return 0;
}

static bool local_pending(uint32_t v, void *arg)
{
	return ((struct src *)arg)->lpend[v];
}

static int local_mr(struct src *s, uint32_t g, uint32_t b, struct ibv_mr **out)
{
	uint64_t bytes = chunk_bytes(&s->L, g);
	enum mig_phase prev;

	if (s->pin_all) {
		*out = s->bmr[b];
		return 0;
	}
	if (s->lpend[g] && wait_local(s, g))
		return -1;
	if (s->lmr[g]) {
		chunk_lru_touch(&s->llru, g);
		*out = s->lmr[g];
		return 0;
	}
	while (!chunk_lru_fits(&s->llru, bytes)) {
		uint32_t v = chunk_lru_victim(&s->llru, local_pending, s);

		if (v == CHUNK_NIL && s->lpool_on && pin_pool_outstanding(&s->lpool)) {
			/* Only registrations in progress hold the budget. */
			if (wait_local(s, CHUNK_NIL))
				return -1;
			continue;
		}
		if (v == CHUNK_NIL)
			return proto_err(s, WIRE_E_RESOURCES, "source pin budget cannot hold one chunk");
		/* The NIC may still be reading it. */
		prev = ph_switch(s, PH_CQ_WAIT);
		if (wait_chunk(s, v))
			return -1;
		ph_switch(s, PH_REGISTER);
		ibv_dereg_mr(s->lmr[v]);
		ph_switch(s, prev);
		s->lmr[v] = NULL;
		chunk_lru_del(&s->llru, v);
	}
	prev = ph_switch(s, PH_REGISTER);
	s->lmr[g] = ibv_reg_mr(s->c.pd, s->r[b].mem + chunk_offset(&s->L, g), bytes,
			       SRC_MR_ACCESS);
	ph_switch(s, prev);
	if (!s->lmr[g])
		return proto_err(s, WIRE_E_RESOURCES, "registering source block %u: %s",
				 b, strerror(errno));
	chunk_lru_add(&s->llru, g, bytes);
	*out = s->lmr[g];
	return 0;
}

static void release_local(struct src *s)
{
	uint32_t i;

	if (s->lpool_on) {
		/* After it no worker touches memory; what it finished is released below. */
		pin_pool_cancel(&s->lpool, NULL, 0);
		harvest_local(s, false);
		pin_pool_destroy(&s->lpool);
		s->lpool_on = false;
		for (i = 0; i < s->L.total; i++)
			if (s->lpend[i]) {
				s->lpend[i] = 0;
				chunk_lru_del(&s->llru, i);
			}
	}
	if (s->lmr)
		for (i = 0; i < s->L.total; i++) {
			if (s->lmr[i])
				ibv_dereg_mr(s->lmr[i]);
			s->lmr[i] = NULL;
			chunk_lru_del(&s->llru, i);
		}
	for (i = 0; i < s->nb; i++) {
		if (s->bmr[i])
			ibv_dereg_mr(s->bmr[i]);
		s->bmr[i] = NULL;
	}
}

/* ---- one round -------------------------------------------------------- */

static void emit_progress(struct src *s, uint64_t remaining, uint64_t dirty_pps,
			  bool throttle)
{
	struct mig_stats *st = &s->a->stats;
	json_object *d = json_object_new_object();

	pthread_mutex_lock(&s->a->lock);
	st->pages_remaining = remaining;
	st->dirty_rate_pps = dirty_pps;
	st->bandwidth_mbps = s->bw_bps * 8 / 1000000;
	json_object_object_add(d, "iteration", json_object_new_int64(s->iteration));
	json_object_object_add(d, "pages_remaining", json_object_new_int64((int64_t)remaining));
	json_object_object_add(d, "bytes_remaining", json_object_new_int64((int64_t)(remaining * PAGE)));
	json_object_object_add(d, "dirty_rate_pps", json_object_new_int64((int64_t)dirty_pps));
	json_object_object_add(d, "bandwidth_mbps", json_object_new_int64((int64_t)st->bandwidth_mbps));
	json_object_object_add(d, "throttle_hint", json_object_new_boolean(throttle));
	json_object_object_add(d, "sent_bytes", json_object_new_int64((int64_t)st->sent_bytes));
	json_object_object_add(d, "total_pages", json_object_new_int64((int64_t)st->total_pages));
	if (s->phase)
		json_object_object_add(d, "phase", json_object_new_string(s->phase));
	pthread_mutex_unlock(&s->a->lock);
	ctl_progress(s->a, s->iteration, d);
	s->last_progress_us = now_us();
}

/* From the keepalive thread during a long step (conn_busy_begin()). */
static void busy_tick(void *arg)
{
	struct src *s = arg;

	emit_progress(s, s->a->stats.total_pages, 0, false);
}

/* A long step the engine cannot interleave with polling: see conn.h. */
static void busy_begin(struct src *s, const char *phase)
{
	s->phase = phase;
	conn_busy_begin(&s->c);
}

static int busy_end(struct src *s)
{
	conn_busy_end(&s->c);
	s->phase = NULL;
	return s->c.failed ? -1 : 0;
}

/*
 * Chunked work (the classify pass): keeps the connection alive (credits,
 * keepalives, the peer's messages) and reports progress between chunks.
 */
static int tick(struct src *s)
{
	uint64_t t = now_us();

	if (t - s->last_tick_us < 50000)
		return 0;
	s->last_tick_us = t;
	if (conn_progress(&s->c, 0))
		return -1;
	if (t - s->last_progress_us > 1000000) {
		s->phase = "classify";
		emit_progress(s, s->ntodo, s->a->stats.dirty_rate_pps, false);
		s->phase = NULL;
	}
	return 0;
}

/*
 * The module knows the pages it never saw written; a page the guest filled
 * with zeroes since it was sent is only found by looking. The look ends at
 * the first non-zero word, so it costs little unless the page is zero, and
 * then it saves sending the page. A write racing the look dirties the page
 * again, so the next round (or the paused last one) sends it.
 */
static bool page_is_zero(const uint8_t *page)
{
	const volatile uint64_t *w = (const volatile uint64_t *)page;
	size_t i;

	for (i = 0; i < PAGE / sizeof(*w); i++)
		if (w[i])
			return false;
	return true;
}

/* Decides per page of chunk @g what to do; returns pages left to write. */
static int classify(struct src *s, uint32_t g, uint64_t *left)
{
	uint32_t c, b = chunk_block_of(&s->L, g, &c);
	uint64_t p0 = chunk_offset(&s->L, g) / PAGE;
	uint64_t n = chunk_bytes(&s->L, g) / PAGE, i;
	bool read = false;
	int rc;

	*left = 0;
	for (i = 0; i < n; i++) {
		uint64_t pg = p0 + i;

		/* A whole word of nothing to send (most of a sparse round). */
		if (!(pg % 64) && i + 64 <= n && !s->todo[b][pg / 64]) {
			i += 63;
			continue;
		}
		if (!bit(s->todo[b], pg))
			continue;
		if (!read) {
			rc = region_pagemap(&s->r[b], p0, n, s->pm);
			if (rc)
				return proto_err(s, WIRE_E_INTERNAL, "reading the pagemap of region %u: %s",
						 s->r[b].id, strerror(-rc));
			read = true;
		}
		if ((s->pm[i] & RDMIG_PM_ZERO) || !(s->pm[i] & RDMIG_PM_WRITTEN) ||
		    page_is_zero(s->r[b].mem + pg * PAGE)) {
			if (!bit(s->sent[b], pg)) {
				clear_bit(s->todo[b], pg);
				s->ntodo--;
				s->a->stats.zero_pages_skipped++;
				/*
				 * The destination's page may not be zero (its
				 * VMM touched it before the migration): the
				 * first round tells it to clear what it has
				 * there. A zero range costs a few bytes, and
				 * the destination writes only pages it has.
				 */
				if (s->iteration == 0 && s->zero_range &&
				    add_zero_page(s, b, pg))
					return -1;
				continue;
			}
			if (s->zero_range) {
				clear_bit(s->todo[b], pg);
				s->ntodo--;
				clear_bit(s->sent[b], pg);
				s->a->stats.compressed_pages++;
				if (add_zero_page(s, b, pg))
					return -1;
				continue;
			}
			/* Without zero ranges, the (zero) page itself goes. */
		}
		(*left)++;
	}
	return 0;
}

static void rate_limit(struct src *s)
{
	uint64_t bps = s->p.max_bandwidth_mbps * 1000000 / 8, el, due;

	if (!bps)
		return;
	el = now_us() - s->rate_t0;
	due = (s->a->stats.sent_bytes - s->rate_b0) * 1000000 / bps;
	if (due > el + 1000)
		usleep((useconds_t)(due - el));
}

static int write_chunk(struct src *s, uint32_t g)
{
	uint32_t c, b = chunk_block_of(&s->L, g, &c);
	uint64_t off0 = chunk_offset(&s->L, g);
	uint64_t p0 = off0 / PAGE, n = chunk_bytes(&s->L, g) / PAGE, i = 0;
	struct ibv_mr *mr = NULL;
	uint64_t raddr, seq = 0, pages = 0;
	struct conn *wc = wconn(s, g);
	uint32_t rkey;

	if (fence_compress(s))
		return -1;
	if (s->nqp > 1 && s->iteration == 1 && !s->fault_done &&
	    engine_fault("dataqp1")) {
		s->fault_done = true;
		log_info("debug fault: disconnecting data QP 1");
		conn_disconnect(&s->dq[1]);
	}
	if (local_mr(s, g, b, &mr))
		return -1;
	if (s->pin_all) {
		raddr = s->raddr[b] + off0;
		rkey = s->rkey[b];
	} else {
		raddr = s->rm.addr[g];
		rkey = s->rm.rkey[g];
		chunk_mark_written(&s->rm, g);
		chunk_lru_touch(&s->rlru, g);
	}
	while (i < n) {
		uint64_t j;

		if (!((p0 + i) % 64) && i + 64 <= n && !s->todo[b][(p0 + i) / 64]) {
			i += 64;
			continue;
		}
		if (!bit(s->todo[b], p0 + i)) {
			i++;
			continue;
		}
		for (j = i; j < n && bit(s->todo[b], p0 + j); j++) {
			clear_bit(s->todo[b], p0 + j);
			set_bit(s->sent[b], p0 + j);
		}
		s->ntodo -= j - i;
		seq = conn_write(wc, s->r[b].mem + (p0 + i) * PAGE,
				 (uint32_t)((j - i) * PAGE), mr->lkey,
				 raddr + i * PAGE, rkey);
		if (!seq)
			return data_fail(s);
		pages += j - i;
		i = j;
	}
	if (!s->pin_all)
		s->lseq[g] = seq;
	/* A data QP's list goes now, and the others' completions are taken. */
	if (s->nqp > 1 && data_poll(s))
		return -1;
	pthread_mutex_lock(&s->a->lock);
	s->a->stats.pages_sent += pages;
	s->a->stats.sent_bytes += pages * PAGE;
	pthread_mutex_unlock(&s->a->lock);
	return 0;
}

/* Whether chunk @g has a page in todo (a word at a time where it can). */
static bool chunk_has_todo(const struct src *s, uint32_t g)
{
	uint32_t c, b = chunk_block_of(&s->L, g, &c);
	uint64_t p = chunk_offset(&s->L, g) / PAGE;
	uint64_t end = p + chunk_bytes(&s->L, g) / PAGE;

	while (p < end) {
		if (!(p % 64) && p + 64 <= end) {
			if (s->todo[b][p / 64])
				return true;
			p += 64;
			continue;
		}
		if (bit(s->todo[b], p))
			return true;
		p++;
	}
	return false;
}

/*
 * Classifies the round's chunks in order until @want of them have pages
 * to write (work[0..nwork)), or every chunk is classified; @scan_budget,
 * if given, bounds how many it looks at in this call.
 */
static int classify_upto(struct src *s, uint32_t want, uint32_t *scan_budget)
{
	uint64_t left;

	while (s->nwork < want && s->scan < s->nraw) {
		uint32_t g = s->work[s->scan];

		if (scan_budget && !(*scan_budget)--)
			break;
		s->scan++;
		if (classify(s, g, &left) || tick(s))
			return -1;
		if (left)
			s->work[s->nwork++] = g;
	}
	return 0;
}

/*
 * One round. @until_paused: a round between switchover-ready and the
 * pause, which stops as soon as the VMM says it paused (what it did not
 * write stays in todo for the last round). Chunks are classified as the
 * window reaches them (request_ahead(); under pin-all just before their
 * write), so the first WRITE goes out after one chunk's classification.
 */
static int send_round(struct src *s, bool until_paused)
{
	enum mig_phase prev = ph_switch(s, PH_CLASSIFY);
	uint32_t b, w, next = 0;
	int rc;

	s->nwork = 0;
	s->scan = 0;
	s->nraw = 0;
	s->req_ramp = 1;
	for (b = 0; b < s->nb; b++) {
		uint32_t c, nch = wire_nchunks(&s->wl, b);

		for (c = 0; c < nch; c++) {
			uint32_t g = chunk_gidx(&s->L, b, c);

			if (chunk_has_todo(s, g))
				s->work[s->nraw++] = g;
		}
	}
	ph_switch(s, PH_OTHER);
	for (w = 0;; w++) {
		uint32_t g;

		rc = have_work(s, w, NULL);
		if (rc < 0)
			return -1;
		if (!rc)
			break;
		g = s->work[w];
		if (atomic_load(&s->a->cancel))
			return conn_fail(&s->c, "migration cancelled");
		if (until_paused && atomic_load(&s->a->paused)) {
			/* The rest of the window is no longer in use. */
			for (; w < s->nwork; w++)
				s->inwin[s->work[w]] = 0;
			break;
		}
		if (!s->pin_all) {
			ph_switch(s, PH_REQUEST);
			if (request_ahead(s, w, &next))
				return -1;
			ph_switch(s, PH_RKEY_WAIT);
			if (wait_rkey(s, g))
				return -1;
		}
		ph_switch(s, PH_POST);
		if (write_chunk(s, g))
			return -1;
		ph_switch(s, PH_OTHER);
		if (w == 0 && engine_stall_round(s->a, &s->c, s->iteration))
			return -1;
		s->inwin[g] = 0;
		/* Keep the receive side drained and credits flowing. */
		ph_switch(s, PH_CQ_WAIT);
		if (conn_progress(&s->c, 0))
			return -1;
		ph_switch(s, PH_OTHER);
		rate_limit(s);
		if (now_us() - s->last_progress_us > 1000000)
			emit_progress(s, s->ntodo, s->a->stats.dirty_rate_pps, false);
	}
	/* Zero ranges go before the round ends: the next round's WRITEs follow them. */
	ph_switch(s, PH_SYNC);
	if (flush_comp(s))
		return -1;
	ph_switch(s, PH_CQ_WAIT);
	rc = flush_data(s);
	ph_switch(s, prev);
	return rc;
}

/*
 * Get-and-clear of every region, merged into todo: the kernel has forgotten
 * what it reported, so a page still unsent from an earlier collection (the
 * one that found the migration converged, before the pause) must stay in
 * todo. The module's sparse reply is ORed straight into todo, word by
 * dirty word, and ntodo counts what is new: nothing here (or in the
 * round's work list but a word test per chunk) walks the clean part of a
 * region. Returns the number of pages left to send.
 */
static int64_t collect_dirty(struct src *s)
{
	enum mig_phase prev = ph_switch(s, PH_CLASSIFY);
	uint64_t fresh = 0, added;
	int64_t n;
	uint32_t b;

	for (b = 0; b < s->nb; b++) {
		n = region_dirty_merge(&s->r[b], 0, s->r[b].npages, s->todo[b], &added);
		if (n < 0) {
			proto_err(s, WIRE_E_INTERNAL, "dirty get-and-clear of region %u: %s",
				  s->r[b].id, strerror((int)-n));
			return -1;
		}
		fresh += (uint64_t)n;
		s->ntodo += added;
	}
	s->last_fresh = fresh;
	ph_switch(s, prev);
	return (int64_t)s->ntodo;
}

/* ---- setup and the whole migration ----------------------------------- */

static int setup(struct src *s)
{
	struct agent *a = s->a;
	uint64_t lens[MAX_REGIONS];
	char err[256];
	uint32_t b;
	int rc;

	rc = rdmig_nl_open(&s->nl);
	if (rc)
		return conn_fail(&s->c, "cannot open the rdmig netlink family: %s (is rdmig.ko loaded?)",
				 strerror(-rc));
	for (b = 0; b < a->nregions; b++) {
		if (region_open(&s->r[b], a->region_fds[b], err, sizeof(err)))
			return conn_fail(&s->c, "%s", err);
		s->nb++;
		rc = region_bind(&s->r[b], s->nl);
		if (rc)
			return conn_fail(&s->c, "binding netlink port %u to region %u: %s",
					 rdmig_nl_portid(s->nl), s->r[b].id, strerror(-rc));
		lens[b] = s->r[b].length;
		a->stats.ram_bytes += s->r[b].length;
		a->stats.total_pages += s->r[b].npages;
		s->todo[b] = calloc((s->r[b].npages + 63) / 64, 8);
		s->sent[b] = calloc((s->r[b].npages + 63) / 64, 8);
		if (!s->todo[b] || !s->sent[b])
			return conn_fail(&s->c, "out of memory for page bitmaps");
	}
	if (chunk_layout_init(&s->L, s->nb, lens, s->p.chunk_size) ||
	    chunk_map_init(&s->rm, s->L.total) ||
	    chunk_lru_init(&s->rlru, s->L.total, 0) ||
	    chunk_lru_init(&s->llru, s->L.total, s->p.pin_budget))
		return conn_fail(&s->c, "cannot lay out %u regions in chunks", s->nb);
	s->lmr = calloc(s->L.total, sizeof(*s->lmr));
	s->lseq = calloc(s->L.total, sizeof(*s->lseq));
	s->inwin = calloc(s->L.total, 1);
	s->lpend = calloc(s->L.total, 1);
	s->work = calloc(s->L.total, sizeof(*s->work));
	s->pm = calloc(s->p.chunk_size / PAGE, 8);
	if (!s->lmr || !s->lseq || !s->inwin || !s->lpend || !s->work || !s->pm)
		return conn_fail(&s->c, "out of memory");
	s->wl.nblocks = s->nb;
	s->wl.lengths = s->L.lengths;
	s->wl.chunk_size = s->L.chunk_size;
	return 0;
}

static int exchange_blocks(struct src *s)
{
	uint8_t buf[MAX_REGIONS * WIRE_BLOCK_REQ_LEN];
	uint32_t b;

	for (b = 0; b < s->nb; b++) {
		struct wire_block_req e = { .length = s->r[b].length };

		wire_put_block_req(buf, b, &e);
	}
	s->blocks_sent = true;
	if (conn_send(&s->c, WIRE_RAM_BLOCKS_REQ, s->nb, buf, s->nb * WIRE_BLOCK_REQ_LEN))
		return -1;
	while (!s->blocks_done)
		if (conn_progress(&s->c, 100))
			return -1;
	if (s->pin_all) {
		for (b = 0; b < s->nb; b++) {
			busy_begin(s, "pin-all");
			s->bmr[b] = ibv_reg_mr(s->c.pd, s->r[b].mem, s->r[b].length,
					       SRC_MR_ACCESS);
			if (busy_end(s))
				return -1;
			if (!s->bmr[b])
				return proto_err(s, WIRE_E_RESOURCES, "pin-all of source block %u: %s",
						 b, strerror(errno));
			s->a->stats.registrations++;
			s->llru.pinned += s->r[b].length;
			s->llru.peak = s->llru.pinned;
		}
	}
	return 0;
}

/* Chunks requested before tracking is on, at most, and chunks looked at for them. */
#define PREFETCH_MAX	32u
#define PREFETCH_SCAN	(4 * PREFETCH_MAX)

/*
 * Iteration 0's first registration requests go out before dirty tracking
 * is turned on, so the destination pins them (and the worker registers
 * the source's side) while this side write-protects the region: the
 * chunks, in layout order, with a page the module says was written and
 * is not known zero. A request is only a head start: a chunk the first
 * round then finds empty stays registered until the budget evicts it,
 * and a write racing this look is tracking's to catch, as ever.
 */
static int prefetch_requests(struct src *s)
{
	uint32_t b, c, n = 0, looked = 0;

	s->req_ramp = 1;
	for (b = 0; b < s->nb; b++) {
		uint32_t nch = wire_nchunks(&s->wl, b);

		for (c = 0; c < nch && n < PREFETCH_MAX && looked < PREFETCH_SCAN; c++, looked++) {
			uint32_t g = chunk_gidx(&s->L, b, c);
			uint64_t np = chunk_bytes(&s->L, g) / PAGE, i;
			bool want = false;
			int rc;

			if (!chunk_lru_fits(&s->rlru, chunk_bytes(&s->L, g)))
				return flush_req(s);
			rc = region_pagemap(&s->r[b], chunk_offset(&s->L, g) / PAGE, np, s->pm);
			if (rc)
				return proto_err(s, WIRE_E_INTERNAL, "reading the pagemap of region %u: %s",
						 s->r[b].id, strerror(-rc));
			for (i = 0; i < np && !want; i++)
				want = (s->pm[i] & RDMIG_PM_WRITTEN) && !(s->pm[i] & RDMIG_PM_ZERO);
			if (!want)
				continue;
			if (request_chunk(s, g) || local_ahead(s, g))
				return -1;
			n++;
		}
	}
	return flush_req(s);
}

void engine_wake(struct agent *a)
{
	uint64_t one = 1;

	if (a->engine_wake_fd >= 0 && write(a->engine_wake_fd, &one, sizeof(one)) < 0 &&
	    errno != EAGAIN)
		log_dbg("engine wake: %s", strerror(errno));
}

/*
 * From switchover-ready until the VMM has paused and ended the device
 * state: the vCPUs still run, so rounds go on (the last round, in the
 * downtime, then holds only what was written since the last of them).
 * A round stops at the pause. The wait is bounded by pause_timeout_ms:
 * past it the migration fails, the VMM is told, and (had it not paused)
 * the VM never stopped.
 */
static int until_paused(struct src *s)
{
	struct agent *a = s->a;
	uint64_t t0 = now_us(), lim = s->p.pause_timeout_ms * 1000;

	for (;;) {
		bool eof, paused = atomic_load(&a->paused);
		int64_t dirty;

		pthread_mutex_lock(&a->lock);
		eof = a->state_eof;
		pthread_mutex_unlock(&a->lock);
		if (paused && eof)
			break;
		if (lim && now_us() - t0 > lim)
			return proto_err(s, WIRE_E_CANCELLED,
					 paused ? "the VMM paused but did not end the device state within %llu ms of switchover-ready (pause timeout)"
						: "the VMM did not pause within %llu ms of switchover-ready (pause timeout)",
					 (unsigned long long)s->p.pause_timeout_ms);
		if (!paused) {
			uint64_t p0 = a->stats.pages_sent;

			dirty = collect_dirty(s);
			if (dirty < 0)
				return -1;
			if (dirty > 0) {
				if (send_round(s, true))
					return -1;
				add_round(s, s->t_start, (a->stats.pages_sent - p0) * PAGE,
					  s->ntodo);
				s->iteration++;
				pthread_mutex_lock(&a->lock);
				a->stats.iterations = s->iteration;
				a->stats.switchover_rounds++;
				pthread_mutex_unlock(&a->lock);
				if (now_us() - s->last_progress_us > 1000000)
					emit_progress(s, (uint64_t)dirty, a->stats.dirty_rate_pps, false);
				/* A big round: straight on to the next one. */
				if (a->stats.pages_sent - p0 >= 256)
					continue;
			}
		}
		/* A short pause between small rounds; "paused" ends it at once. */
		ph_switch(s, PH_SYNC);
		if (conn_progress(&s->c, 20))
			return -1;
		ph_switch(s, PH_OTHER);
	}
	if (a->state_err[0])
		return proto_err(s, WIRE_E_INTERNAL, "%s", a->state_err);
	return 0;
}

static int send_state_and_finish(struct src *s)
{
	struct agent *a = s->a;
	struct wire_finished f = {
		.iteration = s->iteration, .flags = WIRE_FIN_LAST,
		.state_bytes = a->state_len,
	};
	uint8_t fb[WIRE_FINISHED_LEN];
	size_t off;

	/* Fresh per migration: the ACK must echo it (see on_ack()). */
	if (RAND_bytes((unsigned char *)&f.nonce, sizeof(f.nonce)) != 1)
		return proto_err(s, WIRE_E_INTERNAL, "cannot draw the completion nonce (RAND_bytes failed)");

	for (off = 0; off < a->state_len; off += WIRE_MAX_DATA) {
		size_t n = a->state_len - off;

		if (n > WIRE_MAX_DATA)
			n = WIRE_MAX_DATA;
		if (conn_send(&s->c, WIRE_QEMU_FILE, 1, a->state_buf + off, (uint32_t)n))
			return -1;
	}
	/*
	 * On several QPs the SEND on QP 0 is not ordered after the WRITEs:
	 * all of them complete first (protocol.md, "Several QPs").
	 */
	if (flush_data(s))
		return -1;
	wire_put_finished(fb, &f);
	s->last = f;
	s->sent_last = true;
	if (conn_send(&s->c, WIRE_REG_FINISHED, 1, fb, sizeof(fb)))
		return -1;
	while (!s->got_ack)
		if (conn_progress(&s->c, 100))
			return -1;
	return 0;
}

/*
 * A round of @bytes took @round_us (sent and collected): what it took
 * beyond its bytes at the bandwidth known before it (@bw, B/s; 0 = none
 * yet: the round that measured it has no remainder by construction) is
 * its fixed cost. An EWMA of 1/4: one round slowed by a busy CPU does
 * not decide alone, and the estimate follows a lasting change in a few
 * rounds.
 */
static void add_fixed_cost(struct src *s, uint64_t bw, uint64_t bytes, uint64_t round_us)
{
	uint64_t xfer, f;

	if (!bw)
		return;
	xfer = bytes * 1000000 / bw;
	f = round_us > xfer ? round_us - xfer : 0;
	s->fixed_us = s->fixed_known ? (3 * s->fixed_us + f) / 4 : f;
	s->fixed_known = true;
}

/*
 * Whether the last round fits the downtime asked: its fixed cost plus
 * @dirty pages at the bandwidth. Until a round measured the fixed cost
 * it is not known to fit, unless nothing is dirty (no further round
 * would make the last one cheaper). *@est_us: the estimate.
 */
static bool converged(const struct src *s, uint64_t dirty, uint64_t *est_us)
{
	if (!dirty) {
		*est_us = s->fixed_us;	/* 0 until measured */
		return true;
	}
	if (!s->bw_bps) {
		*est_us = UINT64_MAX;
		return false;
	}
	*est_us = dirty * PAGE * 1000000 / s->bw_bps + s->fixed_us;
	return s->fixed_known && *est_us <= s->p.downtime_ms * 1000;
}

static int migrate(struct src *s, uint64_t t_start)
{
	struct agent *a = s->a;
	struct wire_pd pd = {
		.version = WIRE_VERSION,
		.caps = WIRE_CAP_ZERO_RANGE | WIRE_CAP_FENCE |
			(s->p.pin_all ? WIRE_CAP_PIN_ALL : 0) |
			(s->a->qps > 1 ? WIRE_CAP_QPS : 0),
		.chunk_size = (uint32_t)s->p.chunk_size,
		.credits = CONN_RECV_DEPTH,
		.pin_budget = s->p.pin_budget,
	};
	uint64_t prev_dirty = UINT64_MAX, t_pause, t, t_phase, p0, t_active, t_freeze;
	struct timespec rt;
	int64_t dirty;
	uint32_t b;

	s->t_start = t_start;
	pthread_mutex_lock(&a->lock);
	s->c.key = a->secret;
	pthread_mutex_unlock(&a->lock);
	if (s->c.key.set)
		pd.caps |= WIRE_CAP_AUTH;
	if (setup(s) || engine_stall(a, &s->c, "connect") ||
	    conn_connect(&s->c, a->addr, a->port, a->bind, &pd))
		return -1;
	/* Not a byte of RAM or state before the destination proved itself. */
	if (conn_auth_source(&s->c)) {
		s->err_code = WIRE_E_AUTH;
		return -1;
	}
	if (join_qps(s))
		return -1;
	pthread_mutex_lock(&a->lock);
	a->stats.qps = s->nqp;
	pthread_mutex_unlock(&a->lock);
	pthread_mutex_lock(&a->lock);
	a->stats.connect_ms = (now_us() - t_start) / 1000;
	pthread_mutex_unlock(&a->lock);
	t_phase = now_us();
	s->pin_all = s->c.caps & WIRE_CAP_PIN_ALL;
	if (s->p.pin_all && !s->pin_all)
		return proto_err(s, WIRE_E_PROTO, "destination does not support pin-all");
	/*
	 * A zero range is applied by the destination's CPU, a later WRITE
	 * by its NIC: even on one in-order QP the WRITE may land first, so
	 * zero ranges go only to a destination that answers a BARRIER
	 * (fence_compress()). An older one without WIRE_CAP_FENCE, on one
	 * QP, gets the zero pages written instead.
	 */
	s->zero_range = (s->c.caps & WIRE_CAP_ZERO_RANGE) &&
			((s->c.caps & WIRE_CAP_FENCE) || s->nqp > 1);
	s->rlru.budget = s->c.peer.pin_budget;
	if (s->rlru.budget && s->rlru.budget < s->p.chunk_size)
		return proto_err(s, WIRE_E_RESOURCES, "destination pin budget %llu is smaller than a chunk",
				 (unsigned long long)s->rlru.budget);
	if (exchange_blocks(s))
		return -1;
	if (!s->pin_all) {
		int rc = pin_pool_init(&s->lpool, 1, s->L.total);

		s->lpool_on = !rc;
		if (rc)
			log_info("no registration worker (%s): the source registers its chunks on the write path",
				 strerror(-rc));
		if (prefetch_requests(s))
			return -1;
	}
	/* Tracking first, then look: nothing written meanwhile can be lost. */
	pthread_mutex_lock(&a->lock);
	a->stats.ram_blocks_ms = (now_us() - t_phase) / 1000;
	pthread_mutex_unlock(&a->lock);
	t_phase = now_us();
	for (b = 0; b < s->nb; b++) {
		int rc;

		busy_begin(s, "tracking-on");
		rc = region_set_tracking(&s->r[b], true);
		/*
		 * On before looking at the connection: a failure the keepalive
		 * thread saw meanwhile must still turn it off again.
		 */
		if (!rc)
			s->tracking[b] = true;
		if (busy_end(s))
			return -1;
		if (rc)
			return proto_err(s, WIRE_E_INTERNAL, "turning dirty tracking on for region %u: %s%s%s",
					 s->r[b].id, strerror(-rc),
					 rdmig_nl_errmsg(s->nl)[0] ? ": " : "", rdmig_nl_errmsg(s->nl));
		s->tracking[b] = true;
		if (a->zero_scan) {
			uint64_t zero = 0;

			/* After tracking on: a page written meanwhile is dirty again. */
			busy_begin(s, "zero-scan");
			rc = region_zero_scan(&s->r[b], &zero);
			if (busy_end(s))
				return -1;
			if (rc)
				return proto_err(s, WIRE_E_INTERNAL, "zero scan of region %u: %s",
						 s->r[b].id, strerror(-rc));
			log_info("region %u: zero scan found %llu written pages all zero",
				 s->r[b].id, (unsigned long long)zero);
		}
		memset(s->todo[b], 0xff, (s->r[b].npages + 63) / 64 * 8);
		if (s->r[b].npages % 64)
			s->todo[b][s->r[b].npages / 64] = (1ull << (s->r[b].npages % 64)) - 1;
		s->ntodo += s->r[b].npages;
	}
	if (engine_stall(a, &s->c, "setup"))
		return -1;
	pthread_mutex_lock(&a->lock);
	a->stats.tracking_on_ms = (now_us() - t_phase) / 1000;
	a->stats.setup_ms = (now_us() - t_start) / 1000;
	a->status = ST_ACTIVE;
	pthread_mutex_unlock(&a->lock);
	s->rate_t0 = now_us();
	s->rate_b0 = 0;
	s->ph_cur = PH_OTHER;
	ph_switch(s, PH_OTHER);
	s->ph_on = true;
	t_active = s->ph_t;
	for (;;) {
		uint64_t t0 = now_us(), b0 = a->stats.sent_bytes, dt, bytes, est_us;
		uint64_t dirty_pps, bw0 = s->bw_bps;
		bool conv, throttle;

		if (send_round(s, false))
			return -1;
		s->iteration++;
		a->stats.iterations = s->iteration;
		dt = now_us() - t0;
		bytes = a->stats.sent_bytes - b0;
		if (bytes >= (1u << 20) && dt)
			s->bw_bps = bytes * 1000000 / dt;
		dirty = collect_dirty(s);
		if (dirty < 0)
			return -1;
		/* The last round collects too: its time is part of the fixed cost. */
		add_fixed_cost(s, bw0, bytes, now_us() - t0);
		add_round(s, t_start, bytes, (uint64_t)dirty);
		dirty_pps = dt ? (uint64_t)dirty * 1000000 / dt : 0;
		conv = converged(s, (uint64_t)dirty, &est_us);
		/* Not shrinking, or dirtying faster than half the link. */
		throttle = !conv && ((uint64_t)dirty >= prev_dirty ||
				     dirty_pps * PAGE * 2 >= s->bw_bps);
		prev_dirty = (uint64_t)dirty;
		emit_progress(s, (uint64_t)dirty, dirty_pps, throttle);
		log_dbg("iteration %u: %llu dirty, %llu B/s, fixed %llu us%s, estimate %llu us",
			s->iteration, (unsigned long long)dirty, (unsigned long long)s->bw_bps,
			(unsigned long long)s->fixed_us, s->fixed_known ? "" : " (not yet measured)",
			(unsigned long long)est_us);
		if (conv) {
			log_info("converged after iteration %u: estimate %llu us = fixed %llu us + %lld pages at %llu B/s, limit %llu us",
				 s->iteration, (unsigned long long)est_us,
				 (unsigned long long)s->fixed_us, (long long)dirty,
				 (unsigned long long)s->bw_bps,
				 (unsigned long long)s->p.downtime_ms * 1000);
			break;
		}
		if (s->iteration >= s->p.max_iterations) {
			if (s->p.fail_on_max)
				return proto_err(s, WIRE_E_CANCELLED,
						 "did not converge in %u iterations (%lld pages still dirty)",
						 s->iteration, (long long)dirty);
			log_info("forcing switchover after %u iterations", s->iteration);
			break;
		}
	}
	pthread_mutex_lock(&a->lock);
	a->status = ST_SWITCHOVER;
	a->state_reading = true;
	a->switchover_us = now_us();
	pthread_mutex_unlock(&a->lock);
	ctl_wake(a);
	ctl_sync_status(a);
	if (until_paused(s))
		return -1;
	/* From here on everything is the switchover's (phases_ms). */
	ph_switch(s, PH_OTHER);
	s->ph_on = false;
	t_freeze = s->ph_t;
	/*
	 * Downtime runs from the moment the VMM said it paused (the time
	 * "paused" arrived, taken by the thread that read it; it wakes this
	 * one at once) to the destination's acknowledgement, after which
	 * the destination agent hands the VM over (its "completed") and
	 * this one emits "completed" at once.
	 */
	pthread_mutex_lock(&a->lock);
	t_pause = a->paused_us ? a->paused_us : now_us();
	pthread_mutex_unlock(&a->lock);
	p0 = a->stats.pages_sent;
	/* vCPUs are stopped: what is dirty now is the last of it. */
	if (collect_dirty(s) < 0 || send_round(s, false))
		return -1;
	add_round(s, t_start, (a->stats.pages_sent - p0) * PAGE, s->ntodo);
	s->iteration++;
	a->stats.iterations = s->iteration;
	if (engine_stall(a, &s->c, "device"))
		return -1;
	if (send_state_and_finish(s))
		return -1;
	t = now_us();
	clock_gettime(CLOCK_REALTIME, &rt);
	pthread_mutex_lock(&a->lock);
	a->completed_rt_us = (uint64_t)rt.tv_sec * 1000000 + (uint64_t)rt.tv_nsec / 1000;
	a->stats.downtime_ms = (t - t_pause + 500) / 1000;
	a->stats.last_round_pages = a->stats.pages_sent - p0;
	a->stats.total_ms = (t - t_start) / 1000;
	a->stats.state_bytes = a->state_len;
	a->stats.pages_remaining = 0;
	a->stats.throughput_mbps = t > t_start ? a->stats.sent_bytes * 8 / (t - t_start) : 0;
	a->stats.peak_pinned_bytes = s->llru.peak;
	a->stats.remote_peak_pinned_bytes = s->rlru.peak;
	a->stats.writes = s->c.writes;
	a->stats.write_posts = s->c.write_posts;
	a->stats.inflight_waits = s->c.inflight_waits;
	a->stats.credit_wait_us = s->c.credit_wait_us;
	for (b = 1; b < s->nqp; b++) {
		a->stats.writes += s->dq[b].writes;
		a->stats.write_posts += s->dq[b].write_posts;
		a->stats.inflight_waits += s->dq[b].inflight_waits;
	}
	memcpy(a->stats.phase_us, s->ph_us, sizeof(s->ph_us));
	a->stats.phase_us[PH_SETUP] = t_active - t_start;
	a->stats.phase_us[PH_SWITCHOVER] = t - t_freeze;
	a->stats.phases_done = true;
	pthread_mutex_unlock(&a->lock);
	/* The VM now runs there; releasing here happens after. */
	engine_report(a, true, NULL);
	return 0;
}

void *source_main(void *arg)
{
	struct agent *a = arg;
	struct src *s = calloc(1, sizeof(*s));
	uint64_t t_start = now_us();
	char reason[600];
	bool ok;
	uint32_t b;

	if (!s) {
		engine_finish(a, false, "out of memory");
		return NULL;
	}
	s->a = a;
	s->nqp = 1;
	for (b = 1; b < WIRE_QPS_MAX; b++) {
		conn_init(&s->dq[b], &a->cancel, a->timeout_ms, NULL, s);
		s->dq[b].data_only = true;
	}
	pthread_mutex_lock(&a->lock);
	a->stats.qps = 1;
	s->p = a->params;
	a->status = ST_SETUP;
	pthread_mutex_unlock(&a->lock);
	conn_init(&s->c, &a->cancel, a->timeout_ms, on_msg, s);
	s->c.wake_fd = a->engine_wake_fd;
	s->c.wr_list = a->wr_list;
	s->c.max_inflight = a->max_inflight;
	s->c.busy_tick = busy_tick;
	s->c.busy_arg = s;
	ok = migrate(s, t_start) == 0;
	if (!ok && !s->c.peer_error)
		conn_send_error(&s->c, atomic_load(&a->cancel) ? WIRE_E_CANCELLED :
				s->err_code ? s->err_code : WIRE_E_INTERNAL, s->c.err);
	/*
	 * Every local pin goes before the QP; the destination drops its own
	 * when the connection ends, and the source VM simply keeps running.
	 */
	/* The data QPs go with QP 0 (or before it), before any MR. */
	data_stop(s);
	if (!ok)
		conn_stop(&s->c);
	release_local(s);
	for (b = 0; b < s->nb; b++)
		if (s->tracking[b] && region_set_tracking(&s->r[b], false))
			log_err("turning dirty tracking off for region %u failed", s->r[b].id);
	pthread_mutex_lock(&a->lock);
	a->stats.peak_pinned_bytes = s->llru.peak;
	a->stats.remote_peak_pinned_bytes = s->rlru.peak;
	if (!ok)
		a->stats.total_ms = (now_us() - t_start) / 1000;
	pthread_mutex_unlock(&a->lock);
	snprintf(reason, sizeof(reason), "%s", s->c.err[0] ? s->c.err : "failed");
	/* Before QP 0's: they use its protection domain. */
	for (b = 1; b < WIRE_QPS_MAX; b++)
		conn_destroy(&s->dq[b]);
	conn_destroy(&s->c);
	if (s->nl)
		rdmig_nl_close(s->nl);
	for (b = 0; b < s->nb; b++) {
		region_close(&s->r[b]);
		free(s->todo[b]);
		free(s->sent[b]);
	}
	forget_all(&s->reg_head, &s->reg_tail);
	forget_all(&s->unreg_head, &s->unreg_tail);
	chunk_layout_free(&s->L);
	chunk_map_free(&s->rm);
	chunk_lru_free(&s->rlru);
	chunk_lru_free(&s->llru);
	free(s->lmr);
	free(s->lseq);
	free(s->inwin);
	free(s->lpend);
	free(s->work);
	free(s->pm);
	free(s);
	engine_finish(a, ok, reason);
	return NULL;
}
