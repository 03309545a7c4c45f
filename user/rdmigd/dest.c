// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The destination engine: accept one source, answer the RAM blocks
 * exchange, register chunks on request (under the pin budget, on the pin
 * workers of pinpool.h, answering each request in parts), apply zero
 * ranges, collect the device state, and on the source's last
 * REGISTER_FINISHED release every registration, hand the state to the
 * VMM and acknowledge. Every index the source sends is checked against
 * the regions before it is used.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <linux/rdmig.h>
#include <rdmig/librdmig.h>

#include "chunks.h"
#include "conn.h"
#include "log.h"
#include "pinpool.h"
#include "rdmigd.h"
#include "region.h"

struct dst {
	struct agent *a;
	struct conn c;
	/*
	 * Several QPs (protocol.md, "Several QPs"): @nqp granted; the data
	 * QPs dq[1..nqp-1] join while @joining (until @join_deadline_us),
	 * each index once, with a token under @join_key. Nothing is posted
	 * on them here: they only let the source WRITE.
	 */
	uint32_t nqp;
	struct conn dq[WIRE_QPS_MAX];
	uint8_t join_key[WIRE_JOIN_KEY_LEN];
	bool qps_asked, joining, qps_closing;
	uint32_t established;
	uint64_t join_deadline_us;
	struct region r[MAX_REGIONS];
	uint32_t nb;
	struct chunk_layout L;
	struct wire_layout wl;
	struct ibv_mr **mr;		/* per global chunk (dynamic) */
	struct ibv_mr *bmr[MAX_REGIONS];	/* per block (pin-all) */
	uint8_t *touched;		/* per global chunk: ever registered */
	struct chunk_lru lru;
	/*
	 * Registration on pin workers (pinpool.h, --pin-threads > 0): the
	 * REGISTER_REQUESTs not fully answered, oldest first; per chunk,
	 * whether a worker holds it and how many unanswered entries name it.
	 */
	struct pin_pool pool;
	bool use_pool;
	struct pend_req *pend_head, *pend_tail;
	uint8_t *pinning;
	uint32_t *awaiting;
	struct pin_done *harv;
	bool blocks_done;
	bool state_started;		/* device state has begun: RAM is done */
	bool finished;
	bool trusted;			/* the connected source may be served */
	uint32_t err_code;
	uint8_t *state;
	size_t state_len, state_cap;
	uint64_t t0;
	uint64_t *pm;			/* pagemap entries of one chunk */
	uint8_t out[WIRE_MAX_DATA];
};

/* A REGISTER_REQUEST whose entries are answered in order, maybe in parts. */
struct pend_req {
	struct pend_req *next;
	uint32_t n, answered;
	struct wire_chunk e[];
};

static int proto_err(struct dst *d, uint32_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int proto_err(struct dst *d, uint32_t code, const char *fmt, ...)
{
	char buf[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!d->err_code)
		d->err_code = code;
	return conn_fail(&d->c, "%s", buf);
}

/*
 * Takes the workers' results: a pinned chunk becomes registered; a failed
 * pin fails the connection (unless @quiet: at the end, when nobody needs
 * the chunk any more). Returns 0 or -1.
 */
static int harvest(struct dst *d, bool quiet)
{
	uint32_t n, i;
	int rc = 0;

	if (!d->use_pool)
		return 0;
	while ((n = pin_pool_harvest(&d->pool, d->harv, 64))) {
		for (i = 0; i < n; i++) {
			const struct pin_done *o = &d->harv[i];
			uint32_t b, c;

			d->pinning[o->g] = 0;
			d->a->stats.pin_us += o->us;
			if (o->mr) {
				d->mr[o->g] = o->mr;
				d->touched[o->g] = 1;
				d->a->stats.registrations++;
				continue;
			}
			chunk_lru_del(&d->lru, o->g);	/* its reservation */
			b = chunk_block_of(&d->L, o->g, &c);
			if (!quiet && !rc)
				rc = proto_err(d, WIRE_E_RESOURCES,
					       "registering block %u chunk %u: %s",
					       b, c, strerror(o->err));
		}
	}
	return rc;
}

/* Stops the pin workers' queue and forgets the unanswered requests. */
static void pool_stop(struct dst *d)
{
	uint32_t *dropped = d->awaiting, n, i;

	if (!d->use_pool)
		return;
	/* awaiting[] is scratch now: nothing will be answered any more. */
	n = pin_pool_cancel(&d->pool, dropped, d->L.total);
	for (i = 0; i < n; i++) {
		d->pinning[dropped[i]] = 0;
		chunk_lru_del(&d->lru, dropped[i]);
	}
	harvest(d, true);
	memset(d->awaiting, 0, d->L.total * sizeof(*d->awaiting));
	while (d->pend_head) {
		struct pend_req *r = d->pend_head;

		d->pend_head = r->next;
		free(r);
	}
	d->pend_tail = NULL;
}

/*
 * Disconnects and destroys every data QP, before any chunk MR goes: no
 * WRITE can land after. Their DISCONNECTED events are expected now.
 */
static void data_stop(struct dst *d)
{
	uint32_t i;

	d->qps_closing = true;
	d->joining = false;
	for (i = 1; i < WIRE_QPS_MAX; i++)
		conn_stop(&d->dq[i]);
}

static void release_all(struct dst *d)
{
	uint32_t i;

	pool_stop(d);	/* no worker pins anything after this */
	if (d->mr) {
		for (i = 0; i < d->L.total; i++) {
			if (d->mr[i]) {
				ibv_dereg_mr(d->mr[i]);
				d->mr[i] = NULL;
				chunk_lru_del(&d->lru, i);
				d->a->stats.unregistrations++;
			}
		}
	}
	for (i = 0; i < d->nb; i++) {
		if (d->bmr[i])
			ibv_dereg_mr(d->bmr[i]);
		d->bmr[i] = NULL;
	}
}

static int on_blocks(struct dst *d, const struct wire_hdr *h, const uint8_t *data)
{
	uint32_t i, access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE;
	bool pin_all = d->c.caps & WIRE_CAP_PIN_ALL;

	if (d->blocks_done)
		return proto_err(d, WIRE_E_PROTO, "second RAM blocks request");
	if (h->repeat != d->nb)
		return proto_err(d, WIRE_E_BLOCKS, "source has %u RAM blocks, destination %u",
				 h->repeat, d->nb);
	for (i = 0; i < d->nb; i++) {
		struct wire_block_req e;

		wire_get_block_req(data, i, &e);
		if (e.length != d->r[i].length)
			return proto_err(d, WIRE_E_BLOCKS,
					 "RAM block %u is %llu bytes on the source, %llu here",
					 i, (unsigned long long)e.length,
					 (unsigned long long)d->r[i].length);
		if (e.flags)
			return proto_err(d, WIRE_E_PROTO, "RAM block %u has unknown flags 0x%x",
					 i, e.flags);
	}
	for (i = 0; i < d->nb; i++) {
		struct wire_block_res res = { .addr = (uintptr_t)d->r[i].mem };

		if (pin_all) {
			/* Pinning a whole block takes long: keep the source's link alive. */
			conn_busy_begin(&d->c);
			d->bmr[i] = ibv_reg_mr(d->c.pd, d->r[i].mem, d->r[i].length, access);
			conn_busy_end(&d->c);
			if (d->c.failed)
				return -1;
			if (!d->bmr[i])
				return proto_err(d, WIRE_E_RESOURCES,
						 "pin-all registration of block %u failed: %s",
						 i, strerror(errno));
			res.rkey = d->bmr[i]->rkey;
			d->a->stats.registrations++;
			d->lru.pinned += d->r[i].length;
			if (d->lru.pinned > d->lru.peak)
				d->lru.peak = d->lru.pinned;
		}
		wire_put_block_res(d->out, i, &res);
	}
	d->blocks_done = true;
	return conn_send(&d->c, WIRE_RAM_BLOCKS_RES, d->nb, d->out,
			 d->nb * WIRE_BLOCK_RES_LEN);
}

/*
 * Sends what the workers have pinned: for the oldest unanswered requests,
 * in order, the entries whose chunks are registered, as one
 * REGISTER_RESULT per request part (protocol.md: a result answers the
 * oldest request's next entries). The first rkey of a request thus
 * leaves after its own pin, not after the request's last.
 */
static int answer(struct dst *d)
{
	struct pend_req *r;
	uint64_t t0;
	int rc;

	if (harvest(d, false))
		return -1;
	while ((r = d->pend_head)) {
		uint32_t k = r->answered, n = 0;

		for (; k < r->n; k++, n++) {
			uint32_t g = chunk_gidx(&d->L, r->e[k].block, r->e[k].chunk);
			struct wire_reg_res res = {
				.block = r->e[k].block, .chunk = r->e[k].chunk,
			};

			if (!d->mr[g])
				break;
			res.rkey = d->mr[g]->rkey;
			res.addr = (uintptr_t)(d->r[res.block].mem +
					       chunk_offset(&d->L, g));
			wire_put_reg_res(d->out, n, &res);
			d->awaiting[g]--;
		}
		if (!n)
			return 0;
		r->answered = k;
		t0 = now_us();
		rc = conn_send(&d->c, WIRE_REG_RES, n, d->out, n * WIRE_REG_RES_LEN);
		d->a->stats.answer_us += now_us() - t0;
		if (rc)
			return -1;
		d->a->stats.register_results++;
		if (k < r->n)
			return 0;
		d->pend_head = r->next;
		if (!d->pend_head)
			d->pend_tail = NULL;
		free(r);
	}
	return 0;
}

/* A REGISTER_REQUEST handed to the pin workers (--pin-threads > 0). */
static int on_register_async(struct dst *d, const struct wire_hdr *h,
			     const uint8_t *data)
{
	uint32_t i, access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE;
	struct pend_req *r = malloc(sizeof(*r) + h->repeat * sizeof(r->e[0]));
	const char *why;
	int rc;

	if (!r)
		return proto_err(d, WIRE_E_RESOURCES, "out of memory for a register request");
	r->next = NULL;
	r->n = h->repeat;
	r->answered = 0;
	for (i = 0; i < h->repeat; i++) {
		struct wire_chunk *e = &r->e[i];
		uint32_t g;
		uint64_t len;

		wire_get_chunk(data, i, e);
		if (wire_check_chunk(&d->wl, e, &why)) {
			rc = proto_err(d, WIRE_E_RANGE, "register request %u/%u: %s",
				       e->block, e->chunk, why);
			goto fail;
		}
		g = chunk_gidx(&d->L, e->block, e->chunk);
		len = chunk_bytes(&d->L, g);
		if (!d->mr[g] && !d->pinning[g]) {
			struct pin_req pr = {
				.g = g, .pd = d->c.pd, .len = len, .access = (int)access,
				.addr = d->r[e->block].mem + chunk_offset(&d->L, g),
			};

			/* The budget counts a chunk from its submission on. */
			if (!chunk_lru_fits(&d->lru, len)) {
				rc = proto_err(d, WIRE_E_RESOURCES,
					       "register request over the pin budget (%llu of %llu bytes pinned)",
					       (unsigned long long)d->lru.pinned,
					       (unsigned long long)d->lru.budget);
				goto fail;
			}
			if (pin_pool_submit(&d->pool, &pr)) {
				rc = proto_err(d, WIRE_E_INTERNAL, "pin queue full");
				goto fail;
			}
			chunk_lru_add(&d->lru, g, len);
			d->pinning[g] = 1;
		}
		d->awaiting[g]++;
	}
	if (d->pend_tail)
		d->pend_tail->next = r;
	else
		d->pend_head = r;
	d->pend_tail = r;
	return answer(d);	/* chunks registered already go out at once */
fail:
	while (i--)
		d->awaiting[chunk_gidx(&d->L, r->e[i].block, r->e[i].chunk)]--;
	free(r);
	return rc;
}

static int on_register(struct dst *d, const struct wire_hdr *h, const uint8_t *data)
{
	uint32_t i, access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE;
	const char *why;
	uint64_t t0;
	int rc;

	if (!d->blocks_done || (d->c.caps & WIRE_CAP_PIN_ALL))
		return proto_err(d, WIRE_E_PROTO, "register request %s",
				 d->blocks_done ? "under pin-all" : "before RAM blocks");
	d->a->stats.register_requests++;
	if (d->use_pool)
		return on_register_async(d, h, data);
	/* --pin-threads 0 (the old way): a batch pins up to WIRE_MAX_REPEAT chunks: the link stays alive. */
	conn_busy_begin(&d->c);
	for (i = 0; i < h->repeat; i++) {
		struct wire_chunk e;
		struct wire_reg_res res;
		uint32_t g;
		uint64_t off, len;

		wire_get_chunk(data, i, &e);
		if (wire_check_chunk(&d->wl, &e, &why)) {
			conn_busy_end(&d->c);
			return proto_err(d, WIRE_E_RANGE, "register request %u/%u: %s",
					 e.block, e.chunk, why);
		}
		g = chunk_gidx(&d->L, e.block, e.chunk);
		off = (uint64_t)e.chunk * d->L.chunk_size;
		len = chunk_bytes(&d->L, g);
		if (!d->mr[g]) {
			if (!chunk_lru_fits(&d->lru, len)) {
				conn_busy_end(&d->c);
				return proto_err(d, WIRE_E_RESOURCES,
						 "register request over the pin budget (%llu of %llu bytes pinned)",
						 (unsigned long long)d->lru.pinned,
						 (unsigned long long)d->lru.budget);
			}
			t0 = now_us();
			d->mr[g] = ibv_reg_mr(d->c.pd, d->r[e.block].mem + off, len, access);
			d->a->stats.pin_us += now_us() - t0;
			if (!d->mr[g]) {
				int err = errno;

				conn_busy_end(&d->c);
				return proto_err(d, WIRE_E_RESOURCES,
						 "registering block %u chunk %u: %s",
						 e.block, e.chunk, strerror(err));
			}
			chunk_lru_add(&d->lru, g, len);
			d->touched[g] = 1;
			d->a->stats.registrations++;
		}
		res.block = e.block;
		res.chunk = e.chunk;
		res.rkey = d->mr[g]->rkey;
		res.addr = (uintptr_t)(d->r[e.block].mem + off);
		wire_put_reg_res(d->out, i, &res);
	}
	conn_busy_end(&d->c);
	if (d->c.failed)
		return -1;
	d->a->stats.register_results++;
	t0 = now_us();
	rc = conn_send(&d->c, WIRE_REG_RES, h->repeat, d->out,
		       h->repeat * WIRE_REG_RES_LEN);
	d->a->stats.answer_us += now_us() - t0;
	return rc;
}

static int on_unregister(struct dst *d, const struct wire_hdr *h, const uint8_t *data)
{
	const char *why;
	uint32_t i;

	for (i = 0; i < h->repeat; i++) {
		struct wire_chunk e;
		uint32_t g;

		wire_get_chunk(data, i, &e);
		if (wire_check_chunk(&d->wl, &e, &why))
			return proto_err(d, WIRE_E_RANGE, "unregister request %u/%u: %s",
					 e.block, e.chunk, why);
		g = chunk_gidx(&d->L, e.block, e.chunk);
		if (!d->mr || !d->mr[g])
			return proto_err(d, WIRE_E_PROTO,
					 "unregister request for block %u chunk %u, which is not registered",
					 e.block, e.chunk);
		if (d->use_pool && d->awaiting[g])
			return proto_err(d, WIRE_E_PROTO,
					 "unregister request for block %u chunk %u before its register result",
					 e.block, e.chunk);
		ibv_dereg_mr(d->mr[g]);
		d->mr[g] = NULL;
		chunk_lru_del(&d->lru, g);
		d->a->stats.unregistrations++;
	}
	/* The answer echoes the entries: the request's bytes are the reply. */
	return conn_send(&d->c, WIRE_UNREG_FINISHED, h->repeat, data,
			 h->repeat * WIRE_CHUNK_LEN);
}

/*
 * Clears the present pages of a zero range. An absent page already reads
 * as zero, and writing it would allocate it (and make it no longer known
 * zero to a later migration onwards).
 */
static bool page_zero(const uint8_t *pg)
{
	const uint64_t *w = (const uint64_t *)pg;
	size_t i;

	for (i = 0; i < WIRE_PAGE_SIZE / sizeof(*w); i++)
		if (w[i])
			return false;
	return true;
}

static int zero_present(struct dst *d, struct region *r, uint64_t off, uint64_t len)
{
	uint64_t max = d->L.chunk_size / WIRE_PAGE_SIZE;
	uint64_t p = off / WIRE_PAGE_SIZE, end = (off + len) / WIRE_PAGE_SIZE;

	while (p < end) {
		uint64_t n = end - p < max ? end - p : max, i;
		int rc = region_pagemap(r, p, n, d->pm);

		if (rc)
			return proto_err(d, WIRE_E_INTERNAL, "reading the pagemap of region %u: %s",
					 r->id, strerror(-rc));
		for (i = 0; i < n; i++) {
			uint8_t *pg = r->mem + (p + i) * WIRE_PAGE_SIZE;

			/* Most present pages of a fresh VM are zero already. */
			if ((d->pm[i] & RDMIG_PM_PRESENT) && !page_zero(pg))
				memset(pg, 0, WIRE_PAGE_SIZE);
		}
		p += n;
	}
	return 0;
}

static int on_compress(struct dst *d, const struct wire_hdr *h, const uint8_t *data)
{
	const char *why;
	uint32_t i;
	int rc;

	if (!(d->c.caps & WIRE_CAP_ZERO_RANGE) || !d->blocks_done)
		return proto_err(d, WIRE_E_PROTO, "zero range %s",
				 d->blocks_done ? "not negotiated" : "before RAM blocks");
	/*
	 * --debug-stall compress: the zero ranges are applied late, as by a
	 * busy destination, while WRITEs keep landing (protocol.md, "Several
	 * QPs", rule 2).
	 */
	if (engine_stall(d->a, &d->c, "compress"))
		return -1;
	for (i = 0; i < h->repeat; i++) {
		struct wire_range e;

		wire_get_range(data, i, &e);
		if (wire_check_range(&d->wl, &e, &why))
			return proto_err(d, WIRE_E_RANGE, "zero range %u+%llu/%llu: %s",
					 e.block, (unsigned long long)e.offset,
					 (unsigned long long)e.length, why);
		/* A big range reads many pagemap entries: stay alive meanwhile. */
		if (e.length >= 64 * (uint64_t)d->L.chunk_size)
			conn_busy_begin(&d->c);
		rc = zero_present(d, &d->r[e.block], e.offset, e.length);
		conn_busy_end(&d->c);
		if (rc || d->c.failed)
			return -1;
	}
	return 0;
}

static int on_state(struct dst *d, const struct wire_hdr *h, const uint8_t *data)
{
	/* Device state follows the RAM blocks exchange and the rounds. */
	if (!d->blocks_done)
		return proto_err(d, WIRE_E_PROTO, "device state before RAM blocks");
	d->state_started = true;
	if (d->state_len + h->length > MAX_STATE_BYTES)
		return proto_err(d, WIRE_E_RESOURCES, "device state over %u bytes",
				 MAX_STATE_BYTES);
	if (d->state_len + h->length > d->state_cap) {
		size_t cap = d->state_cap ? d->state_cap * 2 : 1u << 20;
		uint8_t *p;

		while (cap < d->state_len + h->length)
			cap *= 2;
		p = realloc(d->state, cap);
		if (!p)
			return proto_err(d, WIRE_E_RESOURCES, "out of memory for device state");
		d->state = p;
		d->state_cap = cap;
	}
	memcpy(d->state + d->state_len, data, h->length);
	d->state_len += h->length;
	return 0;
}

static int write_state(struct dst *d)
{
	int fd = d->a->state_fd;
	size_t off = 0;

	if (fd < 0)
		return 0;
	while (off < d->state_len) {
		ssize_t k = write(fd, d->state + off, d->state_len - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return proto_err(d, WIRE_E_INTERNAL, "writing the device state: %s",
					 strerror(errno));
		off += (size_t)k;
	}
	close(fd);
	d->a->state_fd = -1;
	return 0;
}

/*
 * The data arrived through the transfer view, which sets no WRITTEN bit:
 * mark every range the source could have written (registered chunks, or
 * whole blocks under pin-all), then let a zero scan give back the pages
 * of those that hold only zeroes (the registrations pinned and so
 * allocated them). The region then says exactly what a migration onwards
 * must send. Runs after release_all() (a pinned page is never given back)
 * and after "completed", beside the resumed guest: scanning is outside
 * the downtime, and the module write-protects a page before checking it,
 * so a guest write either comes first (the page is kept) or faults and
 * waits for the scan to let go of the page.
 */
static int mark_range(struct dst *d, uint32_t b, uint64_t off, uint64_t len)
{
	uint64_t first = off / WIRE_PAGE_SIZE, n = len / WIRE_PAGE_SIZE, zero, freed;
	int rc = rdmig_mark_written(d->r[b].fd, first, n);

	if (!rc)
		rc = rdmig_zero_scan(d->r[b].fd, first, n, true, &zero, &freed);
	if (rc)
		log_err("marking pages %llu+%llu of region %u written: %s",
			(unsigned long long)first, (unsigned long long)n,
			d->r[b].id, strerror(-rc));
	return rc;
}

static int mark_received(struct dst *d)
{
	uint32_t b, g;

	if (d->c.caps & WIRE_CAP_PIN_ALL) {
		for (b = 0; b < d->nb; b++)
			if (mark_range(d, b, 0, d->r[b].length))
				return -1;
		return 0;
	}
	for (g = 0; g < d->L.total; g++) {
		uint32_t c;

		if (!d->touched[g])
			continue;
		b = chunk_block_of(&d->L, g, &c);
		if (mark_range(d, b, chunk_offset(&d->L, g), chunk_bytes(&d->L, g)))
			return -1;
	}
	return 0;
}

static int on_finished(struct dst *d, const uint8_t *data)
{
	struct wire_finished f, ack = { 0 };
	uint8_t b[WIRE_FINISHED_LEN];
	uint64_t t0;
	int rc;

	wire_get_finished(data, &f);
	if (f.flags != WIRE_FIN_LAST || !d->blocks_done)
		return proto_err(d, WIRE_E_PROTO, "unexpected REGISTER_FINISHED flags 0x%x",
				 f.flags);
	if (f.state_bytes != d->state_len)
		return proto_err(d, WIRE_E_PROTO,
				 "device state is %llu bytes, source announced %llu",
				 (unsigned long long)d->state_len,
				 (unsigned long long)f.state_bytes);
	/*
	 * RC delivers the WRITEs before this SEND, so all RAM is in place.
	 * Release every pin before the VMM resumes on this memory.
	 */
	pthread_mutex_lock(&d->a->lock);
	d->a->stats.iterations = f.iteration;
	d->a->stats.state_bytes = d->state_len;
	pthread_mutex_unlock(&d->a->lock);
	/* The source flushed them before LAST: nothing more comes on them. */
	t0 = now_us();
	data_stop(d);
	release_all(d);
	pthread_mutex_lock(&d->a->lock);
	d->a->stats.release_us = now_us() - t0;	/* inside the downtime */
	pthread_mutex_unlock(&d->a->lock);
	/* The VMM drains the state as it comes; the source hears from us meanwhile. */
	conn_busy_begin(&d->c);
	rc = write_state(d);
	conn_busy_end(&d->c);
	if (rc || d->c.failed || engine_stall(d->a, &d->c, "completion"))
		return -1;
	ack.iteration = f.iteration;
	ack.flags = WIRE_FIN_ACK;
	ack.state_bytes = d->state_len;
	ack.nonce = f.nonce;	/* binds this ACK to the source's final round */
	wire_put_finished(b, &ack);
	if (conn_send(&d->c, WIRE_REG_FINISHED, 1, b, sizeof(b)) || conn_flush(&d->c))
		return -1;
	d->finished = true;
	return 0;
}

#define JOIN_TIMEOUT_MS	10000

/* QPS_REQUEST: grants min(asked, --qps) and hands out the join key. */
static int on_qps_req(struct dst *d, const uint8_t *data)
{
	uint32_t n = wire_get32(data), max = d->a->qps ? d->a->qps : 1, g;
	uint8_t b[WIRE_QPS_RES_LEN] = { 0 };

	if (!(d->c.caps & WIRE_CAP_QPS) || d->qps_asked || d->blocks_done)
		return proto_err(d, WIRE_E_PROTO, "unexpected QPS_REQUEST");
	if (n < 2 || n > WIRE_QPS_MAX)
		return proto_err(d, WIRE_E_PROTO, "QPS_REQUEST asks for %u QPs, not 2..%d",
				 n, WIRE_QPS_MAX);
	d->qps_asked = true;
	g = n < max ? n : max;
	if (g > 1) {
		if (RAND_bytes(d->join_key, sizeof(d->join_key)) != 1)
			return proto_err(d, WIRE_E_INTERNAL, "cannot draw the join key (RAND_bytes failed)");
		memcpy(b + 4, d->join_key, WIRE_JOIN_KEY_LEN);
		d->joining = true;
		d->join_deadline_us = now_us() + JOIN_TIMEOUT_MS * 1000ull;
	}
	d->nqp = g;
	pthread_mutex_lock(&d->a->lock);
	d->a->stats.qps = g;
	pthread_mutex_unlock(&d->a->lock);
	log_info("source asked for %u QPs, granted %u", n, g);
	wire_put32(b, g);
	return conn_send(&d->c, WIRE_QPS_RES, 1, b, sizeof(b));
}

/*
 * The CM events of the data QPs (conn.h, on_cm). A join is taken only
 * while joining, for an index not joined yet, on QP 0's device, with the
 * right token (compared in constant time); any other is refused on its
 * own and the migration goes on. A data QP that disconnects or fails
 * fails the migration, naming it.
 */
static bool dst_cm(struct conn *c, enum rdma_cm_event_type t, const char *name,
		   struct rdma_cm_id *id, const uint8_t *pd, uint32_t pd_len)
{
	struct dst *d = c->arg;
	uint32_t i;

	if (t == RDMA_CM_EVENT_CONNECT_REQUEST) {
		uint8_t tok[WIRE_MAC_LEN];
		const char *why = NULL;
		struct wire_join j;
		struct wire_pd local;
		struct conn *q;
		int rc = wire_join_decode(pd, pd_len, &j, &why);

		if (rc < 0)
			return false;	/* a second source: busy, as ever */
		if (!rc && !d->joining)
			why = "no data QP join is expected now";
		else if (!rc && j.n != d->nqp)
			why = "the JOIN names another QP count than granted";
		else if (!rc && d->dq[j.index].id)
			why = "that data QP index has already joined";
		else if (!rc && (!d->c.id || id->verbs != d->c.id->verbs))
			why = "the join arrived on another RDMA device than QP 0";
		else if (!rc && (auth_join_token(d->join_key, j.index, j.n, tok) ||
				 CRYPTO_memcmp(tok, j.token, WIRE_MAC_LEN)))
			why = "the JOIN token does not match";
		if (why) {
			log_err("refused a data QP join (index %u of %u): %s; the migration goes on",
				j.index, j.n, why);
			conn_reject_id(id, WIRE_REJ_JOIN, why);
			c->refused++;
			return true;
		}
		q = &d->dq[j.index];
		conn_init(q, &d->a->cancel, 0, NULL, d);
		q->data_only = true;
		q->shared_pd = d->c.pd;
		q->shared_ec = true;
		q->ec = d->c.ec;
		local = d->c.local;
		local.caps = WIRE_CAP_JOIN;
		if (conn_join_accept(q, id, &local))
			proto_err(d, WIRE_E_RESOURCES, "accepting data QP %u of %u: %s",
				  j.index, j.n, q->err);
		else
			log_dbg("data QP %u of %u accepted", j.index, j.n);
		return true;
	}
	for (i = 1; i < WIRE_QPS_MAX; i++)
		if (d->dq[i].id && id == d->dq[i].id)
			break;
	if (i == WIRE_QPS_MAX)
		return false;
	if (t == RDMA_CM_EVENT_ESTABLISHED) {
		conn_established(&d->dq[i]);
		if (++d->established == d->nqp - 1) {
			d->joining = false;
			OPENSSL_cleanse(d->join_key, sizeof(d->join_key));
			log_info("%u data QPs joined", d->established);
		}
		return true;
	}
	if (d->qps_closing)
		return true;
	d->dq[i].connected = false;
	proto_err(d, WIRE_E_RESOURCES, "data QP %u of %u %s", i, d->nqp,
		  t == RDMA_CM_EVENT_DISCONNECTED ? "disconnected" : name);
	return true;
}

static int on_msg(struct conn *c, const struct wire_hdr *h, const uint8_t *data,
		  void *arg)
{
	struct dst *d = arg;

	(void)c;
	if (!d->trusted) {
		/*
		 * Nothing from an unauthenticated source is handled: above
		 * all no RAM blocks or register request, so no rkey leaves
		 * before the source proved it holds the secret.
		 */
		if (d->c.auth) {
			if (h->type != WIRE_AUTH)
				return proto_err(d, WIRE_E_AUTH,
						 "refused %s: it sent %s before authenticating",
						 d->c.who, wire_type_name(h->type));
			if (conn_auth_check(&d->c, data))
				return proto_err(d, WIRE_E_AUTH,
						 "refused %s: authentication failed, its proof does not match this destination's secret (wrong secret, or a proof replayed from another connection)",
						 d->c.who);
			log_info("source %s authenticated", d->c.who);
		}
		d->trusted = true;
		conn_refuse_pending(&d->c);
		pthread_mutex_lock(&d->a->lock);
		d->a->status = ST_ACTIVE;
		pthread_mutex_unlock(&d->a->lock);
		if (d->c.auth)
			return 0;
	}
	if (h->type == WIRE_AUTH)
		return proto_err(d, WIRE_E_PROTO, "unexpected AUTH from the source");
	if (d->finished)
		return proto_err(d, WIRE_E_PROTO, "%s after the end", wire_type_name(h->type));
	/* The source sends the device state after its last round: no RAM after it. */
	if (d->state_started && h->type != WIRE_QEMU_FILE && h->type != WIRE_REG_FINISHED)
		return proto_err(d, WIRE_E_PROTO, "%s after the device state",
				 wire_type_name(h->type));
	switch (h->type) {
	case WIRE_RAM_BLOCKS_REQ:
		return on_blocks(d, h, data);
	case WIRE_REG_REQ:
		return on_register(d, h, data);
	case WIRE_UNREG_REQ:
		return on_unregister(d, h, data);
	case WIRE_COMPRESS:
		return on_compress(d, h, data);
	case WIRE_QEMU_FILE:
		return on_state(d, h, data);
	case WIRE_REG_FINISHED:
		return on_finished(d, data);
	case WIRE_QPS_REQ:
		return on_qps_req(d, data);
	case WIRE_BARRIER:
		/* In order on QP 0: everything before it has been handled. */
		if (!(d->c.caps & WIRE_CAP_FENCE) && !((d->c.caps & WIRE_CAP_QPS) && d->nqp > 1))
			return proto_err(d, WIRE_E_PROTO, "BARRIER without data QPs or WIRE_CAP_FENCE");
		return conn_send(&d->c, WIRE_BARRIER_RES, 1, data, WIRE_BARRIER_LEN);
	}
	return proto_err(d, WIRE_E_PROTO, "unexpected %s from the source",
			 wire_type_name(h->type));
}

static int setup(struct dst *d)
{
	struct agent *a = d->a;
	uint64_t lens[MAX_REGIONS];
	char err[256];
	uint32_t i;

	for (i = 0; i < a->nregions; i++) {
		if (region_open(&d->r[i], a->region_fds[i], err, sizeof(err)))
			return conn_fail(&d->c, "%s", err);
		d->nb++;
		lens[i] = d->r[i].length;
		a->stats.ram_bytes += d->r[i].length;
	}
	if (chunk_layout_init(&d->L, d->nb, lens, a->defaults.chunk_size) ||
	    chunk_lru_init(&d->lru, d->L.total, a->defaults.pin_budget))
		return conn_fail(&d->c, "cannot lay out %u regions in chunks", d->nb);
	d->mr = calloc(d->L.total ? d->L.total : 1, sizeof(*d->mr));
	d->touched = calloc(d->L.total ? d->L.total : 1, 1);
	d->pm = calloc(d->L.chunk_size / WIRE_PAGE_SIZE, 8);
	if (!d->mr || !d->touched || !d->pm)
		return conn_fail(&d->c, "out of memory");
	if (a->pin_threads && d->L.total) {
		int rc;

		d->pinning = calloc(d->L.total, 1);
		d->awaiting = calloc(d->L.total, sizeof(*d->awaiting));
		d->harv = calloc(64, sizeof(*d->harv));
		if (!d->pinning || !d->awaiting || !d->harv)
			return conn_fail(&d->c, "out of memory");
		rc = pin_pool_init(&d->pool, a->pin_threads, d->L.total);
		if (rc)
			return conn_fail(&d->c, "starting %u pin threads: %s",
					 a->pin_threads, strerror(-rc));
		d->use_pool = true;
		/* A finished pin ends the engine's wait for the connection. */
		d->c.wake_fd = d->pool.efd;
	}
	d->wl.nblocks = d->nb;
	d->wl.lengths = d->L.lengths;
	d->wl.chunk_size = d->L.chunk_size;
	return 0;
}

/* The secret and policy for the next connect request (may change meanwhile). */
static bool dst_key(struct conn *c, struct auth_secret *k, bool *required)
{
	struct dst *d = c->arg;

	pthread_mutex_lock(&d->a->lock);
	*k = d->a->secret;
	*required = d->a->auth_required;
	pthread_mutex_unlock(&d->a->lock);
	return k->set;
}

/* Serves the connected source until the end, bounding its authentication. */
static int serve(struct dst *d)
{
	while (!d->finished) {
		if (conn_progress(&d->c, 200))
			return -1;
		if (d->use_pool && !d->finished && answer(d))
			return -1;
		if (d->joining && now_us() > d->join_deadline_us)
			return proto_err(d, WIRE_E_PROTO,
					 "%u of %u data QPs joined within %d ms",
					 d->established, d->nqp - 1, JOIN_TIMEOUT_MS);
		if (!d->trusted && d->c.auth &&
		    conn_now_us() - d->c.accepted_us > AUTH_TIMEOUT_MS * 1000ull)
			return proto_err(d, WIRE_E_AUTH,
					 "refused %s: it did not authenticate within %d ms",
					 d->c.who, AUTH_TIMEOUT_MS);
	}
	return 0;
}

/*
 * A candidate that failed before it was trusted touched nothing: tell it
 * why, forget it and listen on (the next legitimate source is served).
 * That is the rule when this side authenticates or filters addresses;
 * without either, only a source that turned this destination down for
 * not authenticating (ERROR 7) is forgotten, and any other failure ends
 * the migration as before.
 */
static bool drop_candidate(struct dst *d)
{
	if (d->trusted || atomic_load(&d->a->cancel) || !d->c.id || !d->c.listen_id)
		return false;
	if (!d->c.keep_listening && d->c.peer_error_code != WIRE_E_AUTH)
		return false;
	if (!d->c.peer_error)
		conn_send_error(&d->c, d->err_code ? d->err_code : WIRE_E_PROTO, d->c.err);
	log_err("dropped %s before it was trusted; still listening", d->c.who);
	conn_drop_peer(&d->c);
	d->err_code = 0;
	return true;
}

void *dest_main(void *arg)
{
	struct dst *d = calloc(1, sizeof(*d));
	struct agent *a = arg;
	struct wire_pd pd = {
		.version = WIRE_VERSION,
		.caps = WIRE_CAPS_KNOWN,
		.credits = CONN_RECV_DEPTH,
	};
	char reason[600];
	uint32_t i;
	bool ok = false;

	if (!d) {
		engine_finish(a, false, "out of memory");
		return NULL;
	}
	d->a = a;
	d->t0 = now_us();
	conn_init(&d->c, &a->cancel, a->timeout_ms, on_msg, d);
	pd.chunk_size = (uint32_t)a->defaults.chunk_size;
	pd.pin_budget = a->defaults.pin_budget;
	d->c.get_key = dst_key;
	d->c.on_cm = dst_cm;
	d->nqp = 1;
	a->stats.qps = 1;
	d->c.allow = a->allow;
	d->c.nallow = a->nallow;
	if (setup(d) || conn_listen(&d->c, a->addr, a->port))
		goto out;
	for (;;) {
		if (conn_accept(&d->c, &pd, WIRE_CAPS_KNOWN) == 0 && serve(d) == 0)
			break;
		if (!drop_candidate(d))
			goto out;
	}
	ok = true;
out:
	if (!ok && !d->c.peer_error)
		conn_send_error(&d->c, atomic_load(&a->cancel) ? WIRE_E_CANCELLED :
				d->err_code ? d->err_code : WIRE_E_INTERNAL,
				d->c.err);
	data_stop(d);
	if (!ok)
		conn_stop(&d->c);
	release_all(d);
	pthread_mutex_lock(&a->lock);
	a->stats.total_ms = (now_us() - d->t0) / 1000;
	a->stats.peak_pinned_bytes = d->lru.peak;
	a->stats.credit_wait_us = d->c.credit_wait_us;
	pthread_mutex_unlock(&a->lock);
	/*
	 * The VMM may resume now: every pin is gone (release_all()), the
	 * acknowledgement has left, and what remains of the connection
	 * holds only the agent's own buffers. Reporting before tearing it
	 * down keeps the downtime the source measures (until that
	 * acknowledgement) the downtime the VM sees.
	 */
	if (ok)
		engine_report(a, true, NULL);
	snprintf(reason, sizeof(reason), "%s", d->c.err[0] ? d->c.err : "failed");
	/* Before QP 0's: they use its protection domain and event channel. */
	for (i = 1; i < WIRE_QPS_MAX; i++)
		conn_destroy(&d->dq[i]);
	conn_destroy(&d->c);
	if (ok) {
		/* A failure to mark only costs a later migration onwards its
		 * knowledge of zero pages, so it is logged, not fatal, and the
		 * exit status says so. */
		if (mark_received(d)) {
			pthread_mutex_lock(&a->lock);
			a->exit_code = 1;
			pthread_mutex_unlock(&a->lock);
		}
	}
	for (i = 0; i < d->nb; i++)
		region_close(&d->r[i]);
	chunk_layout_free(&d->L);
	chunk_lru_free(&d->lru);
	if (d->use_pool)
		pin_pool_destroy(&d->pool);
	free(d->pinning);
	free(d->awaiting);
	free(d->harv);
	free(d->mr);
	free(d->touched);
	free(d->pm);
	free(d->state);
	free(d);
	engine_finish(a, ok, reason);
	return NULL;
}
