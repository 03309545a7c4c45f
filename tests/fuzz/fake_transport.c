// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The fake transport of the engine harnesses (see fake.h). It keeps the
 * rules dest.c and source.c rely on from cm.c and rdma_msg.c: a received
 * message is validated with wire_msg_check() exactly as handle_recv()
 * does (malformed: the connection fails; ERROR: the peer aborted; READY:
 * credits, refused when more than could be owed), other messages are
 * queued and handed to the engine's on_msg() only at nesting depth 0
 * (never from inside a conn_send() that waits for a credit), a failure
 * is sticky, and a peer that is gone fails the next progress once
 * nothing is left to dispatch. A send needs two credits (one for READY
 * and ERROR), so a peer that returns none stalls the engine until it
 * disconnects. Work requests complete at the next poll.
 *
 * What the engines must never do is checked here and aborts (a finding):
 * send a malformed message, register memory outside a region, post an
 * RDMA WRITE reading outside the MR its lkey names, deregister an MR a
 * WRITE still reads, read a pagemap or dirty range outside its region,
 * mark pages written outside it, or end with any MR still registered.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include <linux/rdmig.h>
#include <rdmig/librdmig.h>

#include "fake.h"
#include "../../user/rdmigd/log.h"
#include "../../user/rdmigd/region.h"

/* ---- input ------------------------------------------------------------ */

uint8_t in_u8(struct fuzz_in *in)
{
	uint8_t v = 0;

	in_take(in, &v, 1);
	return v;
}

uint16_t in_u16(struct fuzz_in *in)
{
	uint8_t b[2] = { 0 };

	in_take(in, b, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

uint32_t in_u32(struct fuzz_in *in)
{
	uint8_t b[4] = { 0 };

	in_take(in, b, 4);
	return wire_get32(b);
}

size_t in_take(struct fuzz_in *in, void *out, size_t n)
{
	if (n > in->n)
		n = in->n;
	memcpy(out, in->p, n);
	in->p += n;
	in->n -= n;
	return n;
}

/* ---- logging (log.c) --------------------------------------------------- */

int log_verbose;
const char *log_role = "fuzz";
static bool log_on;

static void vlog(const char *fmt, va_list ap)
{
	char line[1024];

	/* Formatted always: a bad format argument is found either way. */
	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_on)
		fprintf(stderr, "rdmigd[%s]: %s\n", log_role, line);
}

void log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void log_dbg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

/* ---- the control channel's event functions (channel.c) ----------------- */

void ctl_event_at(struct agent *a, const char *name, json_object *data,
		  bool coalesce, uint64_t rt_us)
{
	(void)a;
	(void)coalesce;
	(void)rt_us;
	FAKE_CHECK(name && *name, "event without a name");
	/* What the channel would send: it must serialize. */
	FAKE_CHECK(!data || json_object_to_json_string(data), "event %s", name);
	json_object_put(data);
}

void ctl_event(struct agent *a, const char *name, json_object *data)
{
	ctl_event_at(a, name, data, false, 0);
}

void ctl_progress(struct agent *a, uint64_t pass, json_object *data)
{
	(void)pass;
	ctl_event_at(a, "RDMIG_PROGRESS", data, true, 0);
}

/* The harness may act on it (the source's VMM pauses at switchover). */
void (*fake_on_wake)(struct agent *a);

void ctl_wake(struct agent *a)
{
	if (fake_on_wake)
		fake_on_wake(a);
}

/* ---- verbs: memory registration ----------------------------------------- */

#define FAKE_MAX_MRS	4096

struct fake_mr {
	struct ibv_mr mr;
	bool live;
	uint64_t last_seq;	/* last WRITE posted reading it */
};

static struct fake_mr *mrs[FAKE_MAX_MRS];
static unsigned int nmr_live;
static uint32_t next_key = 0x100;
static struct conn *cur_conn;	/* the engine's connection (one at a time) */
/* The destination's pin workers register from their own threads. */
static pthread_mutex_t mr_lock = PTHREAD_MUTEX_INITIALIZER;

static bool in_region(const void *addr, size_t len)
{
	const uint8_t *p = addr;
	uint32_t i;

	for (i = 0; i < FAKE_MAX_REGIONS; i++) {
		struct fake_region *r = &fake_regions[i];

		if (r->used && p >= r->mem && len <= r->length &&
		    (size_t)(p - r->mem) <= r->length - len)
			return true;
	}
	return false;
}

static struct ibv_mr *reg_mr_locked(struct ibv_pd *pd, void *addr, size_t length,
				    int access)
{
	struct fake_mr *m;
	uint32_t i;

	FAKE_CHECK(length && in_region(addr, length),
		   "registration of %zu bytes at %p outside every region", length, addr);
	for (i = 0; i < FAKE_MAX_MRS && mrs[i]; i++)
		;
	FAKE_CHECK(i < FAKE_MAX_MRS, "more than %d MRs", FAKE_MAX_MRS);
	m = calloc(1, sizeof(*m));
	if (!m) {
		errno = ENOMEM;
		return NULL;
	}
	m->mr.pd = pd;
	m->mr.addr = addr;
	m->mr.length = length;
	m->mr.lkey = next_key++;
	m->mr.rkey = (access & IBV_ACCESS_REMOTE_WRITE) ? next_key++ : 0;
	m->mr.handle = i;
	m->live = true;
	mrs[i] = m;
	nmr_live++;
	return &m->mr;
}

struct ibv_mr *(ibv_reg_mr)(struct ibv_pd *pd, void *addr, size_t length, int access)
{
	struct ibv_mr *mr;

	pthread_mutex_lock(&mr_lock);
	mr = reg_mr_locked(pd, addr, length, access);
	pthread_mutex_unlock(&mr_lock);
	return mr;
}

struct ibv_mr *ibv_reg_mr_iova2(struct ibv_pd *pd, void *addr, size_t length,
				uint64_t iova, unsigned int access)
{
	(void)iova;
	return (ibv_reg_mr)(pd, addr, length, (int)access);
}

int ibv_dereg_mr(struct ibv_mr *mr)
{
	struct fake_mr *m = (struct fake_mr *)mr;

	pthread_mutex_lock(&mr_lock);
	FAKE_CHECK(mr && mr->handle < FAKE_MAX_MRS && mrs[mr->handle] == m,
		   "deregistration of an MR that is not registered");
	FAKE_CHECK(!cur_conn || m->last_seq <= cur_conn->done,
		   "MR deregistered while WRITE %llu reading it is outstanding (done %llu)",
		   (unsigned long long)m->last_seq,
		   (unsigned long long)cur_conn->done);
	mrs[mr->handle] = NULL;
	nmr_live--;
	pthread_mutex_unlock(&mr_lock);
	free(m);
	return 0;
}

const struct ibv_mr *fake_mr_by_lkey(uint32_t lkey)
{
	const struct ibv_mr *r = NULL;
	uint32_t i;

	pthread_mutex_lock(&mr_lock);
	for (i = 0; i < FAKE_MAX_MRS; i++)
		if (!r && mrs[i] && mrs[i]->mr.lkey == lkey)
			r = &mrs[i]->mr;
	pthread_mutex_unlock(&mr_lock);
	return r;
}

const struct ibv_mr *fake_mr_by_rkey(uint32_t rkey)
{
	const struct ibv_mr *r = NULL;
	uint32_t i;

	pthread_mutex_lock(&mr_lock);
	for (i = 0; rkey && i < FAKE_MAX_MRS; i++)
		if (!r && mrs[i] && mrs[i]->mr.rkey == rkey)
			r = &mrs[i]->mr;
	pthread_mutex_unlock(&mr_lock);
	return r;
}

unsigned int fake_mr_live(void)
{
	return nmr_live;
}

/* ---- regions (region.c) and the librdmig calls ------------------------- */

struct fake_region fake_regions[FAKE_MAX_REGIONS];
bool fake_fail_pagemap, fake_fail_dirty, fake_fail_tracking;

void fake_region_add(uint32_t i, uint64_t pages)
{
	struct fake_region *r = &fake_regions[i];

	memset(r, 0, sizeof(*r));
	r->used = true;
	r->npages = pages;
	r->length = pages * WIRE_PAGE_SIZE;
	r->mem = aligned_alloc(WIRE_PAGE_SIZE, r->length);
	r->pm = calloc(pages, sizeof(*r->pm));
	r->dirty = calloc((pages + 63) / 64, 8);
	FAKE_CHECK(r->mem && r->pm && r->dirty, "out of memory");
	memset(r->mem, 0, r->length);
}

static struct fake_region *by_fd(int fd)
{
	int i = fd - FAKE_FD_BASE;

	if (i < 0 || i >= FAKE_MAX_REGIONS || !fake_regions[i].used)
		return NULL;
	return &fake_regions[i];
}

int region_open(struct region *r, int fd, char *err, size_t errlen)
{
	struct fake_region *f = by_fd(fd);

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if (!f) {
		snprintf(err, errlen, "fd %d is not an rdmig region", fd);
		return -1;
	}
	FAKE_CHECK(!f->open, "region fd %d opened twice", fd);
	f->open = true;
	r->fd = fd;
	r->id = (uint32_t)(fd - FAKE_FD_BASE + 1);
	r->length = f->length;
	r->npages = f->npages;
	r->mem = f->mem;
	return 0;
}

void region_close(struct region *r)
{
	struct fake_region *f = by_fd(r->fd);

	if (r->mem) {
		FAKE_CHECK(f && f->open && r->mem == f->mem, "closing a region not open");
		f->open = false;
	}
	r->mem = NULL;
}

int region_bind(struct region *r, struct rdmig_nl *nl)
{
	r->nl = nl;
	return 0;
}

int region_set_tracking(struct region *r, bool on)
{
	struct fake_region *f = by_fd(r->fd);

	FAKE_CHECK(f && f->open && r->nl, "tracking on a region not open or not bound");
	if (fake_fail_tracking && on)
		return -EIO;
	f->tracking = on;
	return 0;
}

int64_t region_dirty_merge(struct region *r, uint64_t first, uint64_t n, uint64_t *bitmap,
			   uint64_t *added)
{
	struct fake_region *f = by_fd(r->fd);
	uint64_t i, count = 0, fresh = 0;

	FAKE_CHECK(f && f->open && f->tracking, "dirty get of a region not tracked");
	FAKE_CHECK(first <= f->npages && n <= f->npages - first,
		   "dirty range %llu+%llu outside a region of %llu pages",
		   (unsigned long long)first, (unsigned long long)n,
		   (unsigned long long)f->npages);
	if (fake_fail_dirty)
		return -EIO;
	for (i = 0; i < n; i++) {
		uint64_t p = first + i;

		if (f->dirty[p / 64] >> (p % 64) & 1) {
			if (!(bitmap[i / 64] >> (i % 64) & 1))
				fresh++;
			bitmap[i / 64] |= 1ull << (i % 64);
			f->dirty[p / 64] &= ~(1ull << (p % 64));
			f->pm[p] &= ~RDMIG_PM_DIRTY;
			count++;
		}
	}
	if (added)
		*added = fresh;
	return (int64_t)count;
}

static bool page_zero(const uint8_t *p)
{
	size_t i;

	for (i = 0; i < WIRE_PAGE_SIZE; i++)
		if (p[i])
			return false;
	return true;
}

int region_zero_scan(struct region *r, uint64_t *zero)
{
	struct fake_region *f = by_fd(r->fd);
	uint64_t p;

	FAKE_CHECK(f && f->open, "zero scan of a region not open");
	*zero = 0;
	for (p = 0; p < f->npages; p++)
		if ((f->pm[p] & RDMIG_PM_WRITTEN) && page_zero(f->mem + p * WIRE_PAGE_SIZE)) {
			f->pm[p] |= RDMIG_PM_ZERO;
			(*zero)++;
		}
	return 0;
}

int region_pagemap(struct region *r, uint64_t first, uint64_t n, uint64_t *entries)
{
	struct fake_region *f = by_fd(r->fd);

	FAKE_CHECK(f && f->open, "pagemap of a region not open");
	FAKE_CHECK(first <= f->npages && n <= f->npages - first,
		   "pagemap %llu+%llu outside a region of %llu pages",
		   (unsigned long long)first, (unsigned long long)n,
		   (unsigned long long)f->npages);
	if (fake_fail_pagemap)
		return -EIO;
	memcpy(entries, f->pm + first, n * sizeof(*entries));
	return 0;
}

int region_pinned_pages(struct region *r, uint64_t *pinned)
{
	(void)r;
	*pinned = 0;
	return 0;
}

struct rdmig_nl {
	int unused;
};
static struct rdmig_nl the_nl;

int rdmig_nl_open(struct rdmig_nl **out)
{
	*out = &the_nl;
	return 0;
}

void rdmig_nl_close(struct rdmig_nl *nl)
{
	FAKE_CHECK(nl == &the_nl, "closing an unknown netlink handle");
}

uint32_t rdmig_nl_portid(const struct rdmig_nl *nl)
{
	(void)nl;
	return 4242;
}

const char *rdmig_nl_errmsg(const struct rdmig_nl *nl)
{
	(void)nl;
	return "";
}

static int mark(int fd, uint64_t first, uint64_t n, const char *what)
{
	struct fake_region *f = by_fd(fd);

	FAKE_CHECK(f, "%s on fd %d, not a region", what, fd);
	FAKE_CHECK(n && first <= f->npages && n <= f->npages - first,
		   "%s of %llu+%llu outside a region of %llu pages", what,
		   (unsigned long long)first, (unsigned long long)n,
		   (unsigned long long)f->npages);
	return 0;
}

int rdmig_mark_written(int fd, uint64_t first, uint64_t npages)
{
	return mark(fd, first, npages, "mark written");
}

int rdmig_zero_scan(int fd, uint64_t first, uint64_t npages, bool reclaim,
		    uint64_t *zero, uint64_t *reclaimed)
{
	(void)reclaim;
	*zero = *reclaimed = 0;
	return mark(fd, first, npages, "zero scan");
}

/* ---- the connection (cm.c, auth_conn.c) ---------------------------------- */

static struct rdma_cm_id fake_listen_id, fake_id;

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
	cur_conn = c;
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

int conn_listen(struct conn *c, const char *addr, const char *port)
{
	(void)addr;
	(void)port;
	c->listen_id = &fake_listen_id;
	return 0;
}

void conn_save_request(struct conn_request *r, const struct rdma_cm_event *ev)
{
	(void)ev;
	memset(r, 0, sizeof(*r));
}

void conn_refuse_pending(struct conn *c)
{
	c->npending = 0;
	c->defer_requests = false;
}

/* As cm.c's accept_one(), without the CM: the peer's request decides. */
int conn_accept(struct conn *c, const struct wire_pd *local, uint32_t accept_caps)
{
	for (;;) {
		uint8_t pd[WIRE_PD_LEN];
		struct wire_pd peer;
		bool have_key, required = false, keep;
		const char *why;
		int rc;

		if (c->cancel && atomic_load(c->cancel))
			return conn_fail(c, "migration cancelled");
		if (fake_peer->connect(c, pd))
			return conn_fail(c, "no (further) source connected: the input ended");
		auth_secret_clear(&c->key);
		have_key = c->get_key && c->get_key(c, &c->key, &required);
		keep = have_key || required || c->nallow;
		rc = wire_pd_decode(pd, sizeof(pd), &peer, &why);
		if (!rc && peer.chunk_size != local->chunk_size)
			rc = WIRE_REJ_CHUNK_SIZE;
		if (!rc && keep && !(peer.caps & WIRE_CAP_AUTH))
			rc = WIRE_REJ_AUTH;
		if (!rc && !have_key && required)
			rc = WIRE_REJ_AUTH;
		if (rc) {
			c->refused++;
			if (keep)
				continue;
			return conn_fail(c, "refused the source: reason %d", rc);
		}
		c->peer = peer;
		c->local = *local;
		c->caps = peer.caps & accept_caps;
		if (!have_key)
			c->caps &= ~WIRE_CAP_AUTH;
		c->auth = c->caps & WIRE_CAP_AUTH;
		c->local.caps = c->caps;
		c->credits = peer.credits;
		c->peer_credits_max = peer.credits;
		c->id = &fake_id;
		c->qp_created = true;
		snprintf(c->who, sizeof(c->who), "198.51.100.1");
		c->keep_listening = keep;
		c->defer_requests = keep;
		conn_established(c);
		c->accepted_us = conn_now_us();
		cur_conn = c;
		return 0;
	}
}

/* As cm.c's check_accept(), without the CM. */
int conn_connect(struct conn *c, const char *addr, const char *port,
		 const char *bind, const struct wire_pd *local)
{
	uint8_t pd[WIRE_PD_LEN];
	struct wire_pd peer;
	const char *why;
	int rc;

	(void)addr;
	(void)port;
	(void)bind;
	c->local = *local;
	if (fake_peer->connect(c, pd))
		return conn_fail(c, "destination rejected the connection");
	rc = wire_pd_decode(pd, sizeof(pd), &peer, &why);
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
	c->auth = peer.caps & WIRE_CAP_AUTH;
	c->id = &fake_id;
	c->qp_created = true;
	conn_established(c);
	cur_conn = c;
	return 0;
}

/* No data QP joins in the harness: the engines' QP 0 is all there is. */
int conn_join_accept(struct conn *dq, struct rdma_cm_id *id,
		     const struct wire_pd *local)
{
	(void)id;
	(void)local;
	return conn_fail(dq, "no data QPs in the fuzz harness");
}

void conn_reject_id(struct rdma_cm_id *id, uint32_t reason, const char *text)
{
	(void)id;
	(void)reason;
	(void)text;
}

void conn_poll_cm(struct conn *c)
{
	(void)c;
}

void conn_disconnect(struct conn *c)
{
	c->peer_gone = true;
}

/* Never asked for: the harness's agents have one QP. */
int auth_join_token(const uint8_t key[AUTH_JOIN_KEY_LEN], uint32_t index,
		    uint32_t n, uint8_t out[AUTH_MAC_LEN])
{
	(void)key;
	(void)index;
	(void)n;
	memset(out, 0, AUTH_MAC_LEN);
	return -1;
}

void conn_stop(struct conn *c)
{
	/* The QP is destroyed: no work request touches memory any more. */
	if (c->qp_created)
		c->done = c->posted;
	c->connected = false;
	c->qp_created = false;
}

void conn_destroy(struct conn *c)
{
	auth_secret_clear(&c->key);
	conn_stop(c);
	while (c->rxq_head) {
		struct conn_msg *m = c->rxq_head;

		c->rxq_head = m->next;
		free(m);
	}
	c->rxq_tail = NULL;
	c->id = c->listen_id = NULL;
	c->npending = 0;
}

void conn_drop_peer(struct conn *c)
{
	struct conn keep = *c;

	conn_destroy(c);
	memset(c, 0, sizeof(*c));
	c->listen_id = keep.listen_id;
	c->cancel = keep.cancel;
	c->timeout_ms = keep.timeout_ms;
	c->on_msg = keep.on_msg;
	c->arg = keep.arg;
	c->get_key = keep.get_key;
	c->allow = keep.allow;
	c->nallow = keep.nallow;
	c->wake_fd = -1;
	c->busy_fd = -1;
}

int conn_auth_source(struct conn *c)
{
	uint8_t mac[AUTH_MAC_LEN];

	if (!c->key.set)
		return 0;
	if (!c->auth)
		return conn_fail(c, "authentication failed: the destination does not authenticate");
	memset(mac, FAKE_MAC_BYTE, sizeof(mac));
	if (conn_send(c, WIRE_AUTH, 1, mac, sizeof(mac)))
		return -1;
	c->authed = true;
	return 0;
}

int conn_auth_accept(struct conn *c, const struct conn_request *r, uint8_t *acc_pd)
{
	(void)c;
	(void)r;
	(void)acc_pd;
	return 0;
}

int conn_auth_check(struct conn *c, const uint8_t *mac)
{
	uint32_t i;

	FAKE_CHECK(c->auth, "an AUTH message checked without authentication");
	for (i = 0; i < AUTH_MAC_LEN; i++)
		if (mac[i] != FAKE_MAC_BYTE)
			return -1;
	c->authed = true;
	return 0;
}

int agent_set_secret(struct agent *a, const void *buf, size_t len, char *err,
		     size_t errlen)
{
	(void)a;
	(void)buf;
	(void)len;
	snprintf(err, errlen, "not in the fuzz harness");
	return -1;
}

void auth_secret_clear(struct auth_secret *s)
{
	memset(s, 0, sizeof(*s));
}

/* ---- messages (rdma_msg.c) ---------------------------------------------- */

const struct fake_peer *fake_peer;
static uint8_t rx[WIRE_MAX_MSG];
static bool write_failed;	/* a WRITE hit a bad rkey: fails at the next poll */

int conn_setup_buffers(struct conn *c)
{
	(void)c;
	return 0;
}

int conn_post_initial_recvs(struct conn *c)
{
	(void)c;
	return 0;
}

/* handle_recv(): one message from the peer. */
static int deliver(struct conn *c, const uint8_t *b, size_t len)
{
	struct wire_hdr h;
	struct conn_msg *m;
	const char *why;

	c->msgs_recv++;
	c->last_rx_us = conn_now_us();
	if (wire_msg_check(b, len, &h, &why))
		return conn_fail(c, "malformed message from peer (%zu bytes): %s", len, why);
	if (h.type == WIRE_ERROR) {
		c->peer_error = true;
		c->peer_error_code = wire_get32(b + WIRE_HDR_LEN);
		return conn_fail(c, "peer aborted (error %u)", c->peer_error_code);
	}
	if (h.type == WIRE_READY) {
		uint32_t n = wire_get32(b + WIRE_HDR_LEN);

		if (n > c->peer_credits_max - c->credits)
			return conn_fail(c, "peer returned %u credits, more than it could owe", n);
		c->credits += n;
		return 0;
	}
	m = malloc(sizeof(*m) + len);
	if (!m)
		return conn_fail(c, "out of memory for a received message");
	m->next = NULL;
	m->len = (uint32_t)len;
	memcpy(m->data, b, len);
	if (c->rxq_tail)
		c->rxq_tail->next = m;
	else
		c->rxq_head = m;
	c->rxq_tail = m;
	c->rxq_bytes += len;
	return 0;
}

/* progress(): everything posted completes; the peer acts once. */
static void poll_once(struct conn *c)
{
	size_t len = 0;
	int rc;

	if (c->cancel && atomic_load(c->cancel)) {
		conn_fail(c, "migration cancelled");
		return;
	}
	c->done = c->posted;
	if (write_failed) {
		write_failed = false;
		c->peer_error = true;
		conn_fail(c, "RDMA write failed: remote access error");
		return;
	}
	if (c->failed || c->peer_gone)
		return;
	rc = fake_peer->poll(c, rx, &len);
	if (rc < 0) {
		c->peer_gone = true;
		c->connected = false;
	} else if (rc > 0) {
		deliver(c, rx, len);
	}
}

int conn_progress(struct conn *c, int timeout_ms)
{
	bool dispatched = false;

	(void)timeout_ms;
	if (c->failed)
		return -1;
	poll_once(c);
	if (c->failed)
		return -1;
	while (c->depth == 0 && c->rxq_head && !c->failed) {
		struct conn_msg *m = c->rxq_head;
		struct wire_hdr h;
		const char *why;
		int rc;

		c->rxq_head = m->next;
		if (!c->rxq_head)
			c->rxq_tail = NULL;
		c->rxq_bytes -= m->len;
		FAKE_CHECK(!wire_msg_check(m->data, m->len, &h, &why), "queued message: %s", why);
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

static int send_now(struct conn *c, uint32_t type, uint32_t repeat, const void *data,
		    uint32_t len)
{
	static uint8_t b[WIRE_MAX_MSG];
	struct wire_hdr h;
	const char *why;

	wire_hdr_encode(b, type, repeat, len);
	if (len)
		memcpy(b + WIRE_HDR_LEN, data, len);
	FAKE_CHECK(!wire_msg_check(b, WIRE_HDR_LEN + len, &h, &why),
		   "the engine sent a malformed %s (repeat %u, %u bytes): %s",
		   wire_type_name(type), repeat, len, why);
	c->credits--;
	c->msgs_sent++;
	c->posted++;
	c->last_signaled = c->posted;
	c->last_tx_us = conn_now_us();
	fake_peer->sent(c, &h, b + WIRE_HDR_LEN);
	return 0;
}

int conn_send(struct conn *c, uint32_t type, uint32_t repeat, const void *data,
	      uint32_t len)
{
	uint32_t need = (type == WIRE_READY || type == WIRE_ERROR) ? 1 : 2;

	if (len > WIRE_MAX_DATA)
		return conn_fail(c, "internal: message of %u bytes too large", len);
	c->depth++;
	while (!c->failed && c->credits < need) {
		if (c->peer_gone) {
			c->peer_error = true;
			conn_fail(c, "peer disconnected");
			break;
		}
		poll_once(c);
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

	if (!c->connected || c->peer_error || !c->id || !c->qp_created || c->credits < 1)
		return;
	if (n > WIRE_ERROR_TEXT_MAX)
		n = WIRE_ERROR_TEXT_MAX;
	wire_put32(d, code);
	memcpy(d + WIRE_ERROR_MIN, text, n);
	send_now(c, WIRE_ERROR, 1, d, (uint32_t)(WIRE_ERROR_MIN + n));
}

uint64_t conn_write(struct conn *c, void *laddr, uint32_t len, uint32_t lkey,
		    uint64_t raddr, uint32_t rkey)
{
	const struct ibv_mr *mr = fake_mr_by_lkey(lkey);
	const uint8_t *p = laddr;
	uint64_t seq;

	FAKE_CHECK(mr, "RDMA WRITE with lkey 0x%x, which is not registered", lkey);
	FAKE_CHECK(len && p >= (const uint8_t *)mr->addr && len <= mr->length &&
		   (size_t)(p - (const uint8_t *)mr->addr) <= mr->length - len,
		   "RDMA WRITE of %u bytes at %p outside its MR [%p, +%zu)", len, laddr,
		   mr->addr, mr->length);
	if (c->failed)
		return 0;
	seq = ++c->posted;
	((struct fake_mr *)mr)->last_seq = seq;
	if (++c->unsignaled_writes >= CONN_WRITE_BATCH) {
		c->unsignaled_writes = 0;
		c->last_signaled = seq;
	}
	if (fake_peer->write(c, p, len, raddr, rkey))
		write_failed = true;
	return seq;
}

int conn_signal_all(struct conn *c)
{
	if (c->posted > c->last_signaled) {
		c->posted++;
		c->last_signaled = c->posted;
	}
	return c->failed ? -1 : 0;
}

int conn_wait_seq(struct conn *c, uint64_t seq)
{
	if (c->failed)
		return -1;
	c->depth++;
	while (!c->failed && c->done < seq)
		poll_once(c);
	c->depth--;
	return c->failed ? -1 : 0;
}

int conn_flush(struct conn *c)
{
	return conn_wait_seq(c, c->posted);
}

/* No keepalive thread: the fake never times out. */
void conn_busy_begin(struct conn *c)
{
	if (c->busy || !c->connected || c->failed)
		return;
	c->busy = true;
}

void conn_busy_end(struct conn *c)
{
	c->busy = false;
}

/* ---- per run ------------------------------------------------------------ */

void fake_init(void)
{
	log_on = getenv("FUZZ_LOG") != NULL;
}

void fake_reset(void)
{
	uint32_t i;

	FAKE_CHECK(!nmr_live, "%u MR(s) still registered at the end: pins not released",
		   nmr_live);
	for (i = 0; i < FAKE_MAX_REGIONS; i++) {
		struct fake_region *r = &fake_regions[i];

		if (!r->used)
			continue;
		FAKE_CHECK(!r->open, "region %u still open at the end", i);
		FAKE_CHECK(!r->tracking, "region %u left with dirty tracking on", i);
		free(r->mem);
		free(r->pm);
		free(r->dirty);
		memset(r, 0, sizeof(*r));
	}
	fake_fail_pagemap = fake_fail_dirty = fake_fail_tracking = false;
	write_failed = false;
	cur_conn = NULL;
	fake_on_wake = NULL;
}
