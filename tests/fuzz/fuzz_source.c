// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness: the source engine (user/rdmigd/source.c, run whole
 * through source_main()) against a destination played by the input, over
 * the fake transport (fake.h). The input starts with a 12-byte setup
 * (regions, chunk size, parameters, the capabilities and pin budget the
 * destination grants, credits, device state size), then one byte per
 * page (written or not, zero or data), then records, one per poll:
 *
 *   op & 7 == 0   nothing arrives this poll
 *   op & 7 == 1   a raw message: be16 length, then that many bytes
 *   op & 7 == 2   an honest destination's answer to the oldest request
 *                 still unanswered (RAM blocks, register, unregister,
 *                 the final acknowledgement); with op & 8 one byte of it
 *                 is flipped
 *   op & 7 == 3   READY returning every credit owed
 *   op & 7 == 4   the guest writes a page (be16 page, byte value)
 *   op & 7 == 5   the VMM pauses and ends the device state
 *   op & 7 == 6   every pending answer at once
 *   op == 0xff    the VMM cancels
 *
 * and the destination disconnects when the input ends. The honest
 * destination keeps its own memory: RDMA WRITEs land there, zero ranges
 * clear it. Checked beyond the sanitizers: the source's requests stay in
 * the layout and (with honest answers) in the destination's pin budget;
 * it never writes through an rkey it unregistered or never had; every
 * local MR covers what a WRITE reads and outlives it; tracking is off
 * and every pin released at the end; and when every answer was honest
 * and the source says "completed", the destination's memory and device
 * state are the source's, byte for byte. A "completed" without an
 * acknowledgement that came after the source's last REGISTER_FINISHED
 * (issue 14: an early ACK, now refused by the nonce) is a finding too.
 */
#include <string.h>

#include <linux/rdmig.h>

#include "fake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_CHUNKS	(FAKE_MAX_REGIONS * 16)
#define MAX_PENDING	64
#define RKEY_CHUNK	0x80000u	/* + global chunk */
#define RKEY_BLOCK	0x70000u	/* + block (pin-all) */

struct pending {
	size_t len;
	uint8_t *m;	/* the answer, header included */
};

static struct {
	struct fuzz_in in;
	struct agent *a;
	uint32_t nb;
	uint64_t pages[FAKE_MAX_REGIONS];
	uint8_t *dmem[FAKE_MAX_REGIONS];	/* the destination's memory */
	uint64_t chunk;
	uint32_t total;
	uint8_t caps;		/* what the destination grants */
	uint64_t budget;	/* the destination's */
	uint32_t credits;
	bool reg[MAX_CHUNKS];
	uint64_t pinned;
	struct pending q[MAX_PENDING];
	uint32_t qh, qn;
	uint8_t *state;		/* device state received */
	size_t state_len;
	bool tainted;		/* a raw or altered message was delivered */
	bool last_sent, ack_after_last, blocks_sent;
	bool paused_set;
} t;

static bool trace;

static uint32_t nchunks(uint32_t b)
{
	return (uint32_t)((t.pages[b] * WIRE_PAGE_SIZE + t.chunk - 1) / t.chunk);
}

static uint32_t gidx(uint32_t b, uint32_t c)
{
	uint32_t i, g = c;

	for (i = 0; i < b; i++)
		g += nchunks(i);
	return g;
}

static uint64_t chunk_len(uint32_t b, uint32_t c)
{
	uint64_t off = (uint64_t)c * t.chunk, len = t.pages[b] * WIRE_PAGE_SIZE - off;

	return len < t.chunk ? len : t.chunk;
}

static void pause_vmm(struct agent *a)
{
	pthread_mutex_lock(&a->lock);
	a->state_eof = true;
	a->paused_us = now_us();
	pthread_mutex_unlock(&a->lock);
	atomic_store(&a->paused, true);
	t.paused_set = true;
}

static void on_wake(struct agent *a)
{
	/* The VMM pauses as soon as it hears switchover-ready. */
	if (a->status == ST_SWITCHOVER && !t.paused_set)
		pause_vmm(a);
}

/* What the fake destination may grant (hdr[6]); 0x80 makes it lie. */
#define GRANTABLE (WIRE_CAP_PIN_ALL | WIRE_CAP_ZERO_RANGE | WIRE_CAP_AUTH | WIRE_CAP_FENCE)

static int peer_connect(struct conn *c, uint8_t pd[WIRE_PD_LEN])
{
	struct wire_pd p = {
		.version = WIRE_VERSION,
		.caps = (t.caps & 0x80) ? t.caps & GRANTABLE : t.caps & c->local.caps & GRANTABLE,
		.chunk_size = (uint32_t)t.chunk, .credits = t.credits,
		.pin_budget = t.budget,
	};

	wire_pd_encode(pd, &p);
	return 0;
}

static void answer(const uint8_t *m, size_t len)
{
	struct pending *p;

	FAKE_CHECK(t.qn < MAX_PENDING, "more than %d requests unanswered", MAX_PENDING);
	p = &t.q[(t.qh + t.qn++) % MAX_PENDING];
	p->m = malloc(len);
	FAKE_CHECK(p->m, "out of memory");
	memcpy(p->m, m, len);
	p->len = len;
}

static void peer_sent(struct conn *c, const struct wire_hdr *h, const uint8_t *d)
{
	static uint8_t out[WIRE_MAX_MSG];
	uint8_t *od = out + WIRE_HDR_LEN;
	const char *why;
	uint32_t i;

	if (trace) {
		fprintf(stderr, "fuzz_source: source sent %s x%u:", wire_type_name(h->type), h->repeat);
		for (i = 0; i < h->repeat && (h->type == WIRE_REG_REQ || h->type == WIRE_UNREG_REQ); i++)
			fprintf(stderr, " %u/%u", wire_get32(d + 8 * i), wire_get32(d + 8 * i + 4));
		fputc('\n', stderr);
	}
	switch (h->type) {
	case WIRE_AUTH:
		FAKE_CHECK(c->key.set && c->msgs_sent == 1, "AUTH not first, or without a secret");
		break;
	case WIRE_RAM_BLOCKS_REQ:
		FAKE_CHECK(h->repeat == t.nb && !t.blocks_sent, "RAM blocks request of %u", h->repeat);
		t.blocks_sent = true;
		for (i = 0; i < t.nb; i++) {
			struct wire_block_req e;
			struct wire_block_res r = { .addr = (uintptr_t)t.dmem[i] };

			wire_get_block_req(d, i, &e);
			FAKE_CHECK(e.length == t.pages[i] * WIRE_PAGE_SIZE && !e.flags,
				   "block %u announced as %llu bytes", i,
				   (unsigned long long)e.length);
			if (c->caps & WIRE_CAP_PIN_ALL)
				r.rkey = RKEY_BLOCK + i;
			wire_put_block_res(od, i, &r);
		}
		wire_hdr_encode(out, WIRE_RAM_BLOCKS_RES, t.nb, t.nb * WIRE_BLOCK_RES_LEN);
		answer(out, WIRE_HDR_LEN + t.nb * WIRE_BLOCK_RES_LEN);
		break;
	case WIRE_REG_REQ:
		FAKE_CHECK(!(c->caps & WIRE_CAP_PIN_ALL), "register request under pin-all");
		for (i = 0; i < h->repeat; i++) {
			struct wire_chunk e;
			struct wire_reg_res r;
			uint32_t g;

			wire_get_chunk(d, i, &e);
			FAKE_CHECK(e.block < t.nb && e.chunk < nchunks(e.block),
				   "register request for %u/%u", e.block, e.chunk);
			g = gidx(e.block, e.chunk);
			if (!t.reg[g]) {
				t.reg[g] = true;
				t.pinned += chunk_len(e.block, e.chunk);
				FAKE_CHECK(t.tainted || !t.budget || t.pinned <= t.budget,
					   "the source made the destination pin %llu bytes, over its budget %llu",
					   (unsigned long long)t.pinned, (unsigned long long)t.budget);
			}
			r.block = e.block;
			r.chunk = e.chunk;
			r.rkey = RKEY_CHUNK + g;
			r.addr = (uintptr_t)(t.dmem[e.block] + (uint64_t)e.chunk * t.chunk);
			wire_put_reg_res(od, i, &r);
		}
		wire_hdr_encode(out, WIRE_REG_RES, h->repeat, h->repeat * WIRE_REG_RES_LEN);
		answer(out, WIRE_HDR_LEN + h->repeat * WIRE_REG_RES_LEN);
		break;
	case WIRE_UNREG_REQ:
		for (i = 0; i < h->repeat; i++) {
			struct wire_chunk e;
			uint32_t g;

			wire_get_chunk(d, i, &e);
			FAKE_CHECK(e.block < t.nb && e.chunk < nchunks(e.block),
				   "unregister request for %u/%u", e.block, e.chunk);
			g = gidx(e.block, e.chunk);
			FAKE_CHECK(t.tainted || t.reg[g], "unregister of %u/%u, not registered",
				   e.block, e.chunk);
			if (t.reg[g])
				t.pinned -= chunk_len(e.block, e.chunk);
			t.reg[g] = false;
		}
		wire_hdr_encode(out, WIRE_UNREG_FINISHED, h->repeat, h->length);
		memcpy(od, d, h->length);
		answer(out, WIRE_HDR_LEN + h->length);
		break;
	case WIRE_COMPRESS:
		FAKE_CHECK(c->caps & WIRE_CAP_ZERO_RANGE, "zero range not negotiated");
		for (i = 0; i < h->repeat; i++) {
			struct wire_range e;
			struct wire_layout l = { .nblocks = t.nb, .chunk_size = t.chunk };
			uint64_t lens[FAKE_MAX_REGIONS];
			uint32_t b;

			for (b = 0; b < t.nb; b++)
				lens[b] = t.pages[b] * WIRE_PAGE_SIZE;
			l.lengths = lens;
			wire_get_range(d, i, &e);
			FAKE_CHECK(!wire_check_range(&l, &e, &why), "zero range: %s", why);
			memset(t.dmem[e.block] + e.offset, 0, e.length);
		}
		break;
	case WIRE_BARRIER:
		/* Everything before it is handled: answer at once, in order. */
		FAKE_CHECK(c->caps & WIRE_CAP_FENCE, "BARRIER on one QP without FENCE");
		wire_hdr_encode(out, WIRE_BARRIER_RES, 1, WIRE_BARRIER_LEN);
		memcpy(od, d, WIRE_BARRIER_LEN);
		answer(out, WIRE_HDR_LEN + WIRE_BARRIER_LEN);
		break;
	case WIRE_QEMU_FILE: {
		uint8_t *p = realloc(t.state, t.state_len + h->length);

		FAKE_CHECK(p, "out of memory");
		FAKE_CHECK(t.paused_set, "device state before the VMM paused");
		memcpy(p + t.state_len, d, h->length);
		t.state = p;
		t.state_len += h->length;
		break;
	}
	case WIRE_REG_FINISHED: {
		struct wire_finished f;

		wire_get_finished(d, &f);
		FAKE_CHECK(f.flags == WIRE_FIN_LAST && !t.last_sent, "REGISTER_FINISHED 0x%x", f.flags);
		FAKE_CHECK(f.state_bytes == t.state_len, "announced %llu bytes of state, sent %zu",
			   (unsigned long long)f.state_bytes, t.state_len);
		t.last_sent = true;
		f.flags = WIRE_FIN_ACK;
		wire_hdr_encode(out, WIRE_REG_FINISHED, 1, WIRE_FINISHED_LEN);
		wire_put_finished(od, &f);
		answer(out, WIRE_HDR_LEN + WIRE_FINISHED_LEN);
		break;
	}
	case WIRE_ERROR:
		FAKE_CHECK(wire_get32(d) >= WIRE_E_PROTO && wire_get32(d) <= WIRE_E_AUTH,
			   "ERROR code %u", wire_get32(d));
		break;
	default:
		FAKE_CHECK(0, "the source sent %s", wire_type_name(h->type));
	}
}

static int peer_write(struct conn *c, const uint8_t *src, uint32_t len, uint64_t raddr,
		      uint32_t rkey)
{
	uint32_t b, ch = 0;
	uint64_t lo, hi;

	if (trace)
		fprintf(stderr, "fuzz_source: WRITE %u bytes rkey 0x%x\n", len, rkey);

	if (rkey >= RKEY_BLOCK && rkey < RKEY_BLOCK + t.nb && (c->caps & WIRE_CAP_PIN_ALL)) {
		b = rkey - RKEY_BLOCK;
		lo = (uintptr_t)t.dmem[b];
		hi = lo + t.pages[b] * WIRE_PAGE_SIZE;
	} else {
		uint32_t g = rkey - RKEY_CHUNK;

		for (b = 0; b < t.nb && rkey >= RKEY_CHUNK && g < t.total; b++) {
			if (g < gidx(b, 0) + nchunks(b)) {
				ch = g - gidx(b, 0);
				break;
			}
		}
		if (b == t.nb || rkey < RKEY_CHUNK || g >= t.total || !t.reg[g]) {
			FAKE_CHECK(t.tainted, "RDMA WRITE with rkey 0x%x, never given or unregistered",
				   rkey);
			return -1;
		}
		lo = (uintptr_t)t.dmem[b] + (uint64_t)ch * t.chunk;
		hi = lo + chunk_len(b, ch);
	}
	if (raddr < lo || raddr > hi || len > hi - raddr) {
		FAKE_CHECK(t.tainted, "RDMA WRITE of %u bytes at 0x%llx outside its rkey's range",
			   len, (unsigned long long)raddr);
		return -1;
	}
	memcpy((uint8_t *)(uintptr_t)raddr, src, len);
	return 0;
}

static int peer_poll(struct conn *c, uint8_t *buf, size_t *len)
{
	struct wire_hdr h;
	const char *why;
	uint8_t op, v;
	uint64_t p;
	uint32_t b;

	if (!t.in.n)
		return -1;
	op = in_u8(&t.in);
	if (op == 0xff) {
		atomic_store(&t.a->cancel, true);
		return 0;
	}
	switch (op & 7) {
	case 1:
		*len = in_take(&t.in, buf, in_u16(&t.in) % (WIRE_MAX_MSG + 1));
		t.tainted = true;
		break;
	case 2:
	case 6:
		if (!t.qn)
			return 0;
		*len = t.q[t.qh].len;
		memcpy(buf, t.q[t.qh].m, *len);
		free(t.q[t.qh].m);
		t.qh = (t.qh + 1) % MAX_PENDING;
		t.qn--;
		if (trace)
			fprintf(stderr, "fuzz_source: destination answers %s\n",
				wire_type_name(wire_get32(buf + 4)));
		if ((op & 7) == 2 && (op & 8)) {
			buf[in_u16(&t.in) % *len] ^= in_u8(&t.in) | 1;
			t.tainted = true;
		}
		/* The rest follows at the next polls ("every answer at once"). */
		if ((op & 7) == 6 && t.qn)
			t.in.p--, t.in.n++;
		break;
	case 3:
		wire_hdr_encode(buf, WIRE_READY, 1, WIRE_READY_LEN);
		wire_put32(buf + WIRE_HDR_LEN, c->peer_credits_max - c->credits);
		*len = WIRE_HDR_LEN + WIRE_READY_LEN;
		break;
	case 4:
		p = in_u16(&t.in);
		v = in_u8(&t.in);
		if (atomic_load(&t.a->paused))
			return 0;	/* the vCPUs are stopped */
		for (b = 0; b + 1 < t.nb && p >= t.pages[b]; b++)
			p -= t.pages[b];
		p %= t.pages[b];
		memset(fake_regions[b].mem + p * WIRE_PAGE_SIZE, v, WIRE_PAGE_SIZE);
		fake_regions[b].pm[p] |= RDMIG_PM_PRESENT | RDMIG_PM_WRITTEN;
		fake_regions[b].pm[p] &= ~RDMIG_PM_ZERO;
		if (fake_regions[b].tracking) {
			fake_regions[b].pm[p] |= RDMIG_PM_DIRTY;
			fake_regions[b].dirty[p / 64] |= 1ull << (p % 64);
		}
		return 0;
	case 5:
		if (!t.paused_set)
			pause_vmm(t.a);
		return 0;
	default:
		return 0;
	}
	if (!wire_msg_check(buf, *len, &h, &why) && h.type == WIRE_REG_FINISHED &&
	    (wire_get32(buf + WIRE_HDR_LEN + 4) & WIRE_FIN_ACK) && t.last_sent)
		t.ack_after_last = true;
	return 1;
}

static const struct fake_peer peer = {
	.connect = peer_connect,
	.poll = peer_poll,
	.sent = peer_sent,
	.write = peer_write,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fake_init();
	trace = getenv("FUZZ_LOG") != NULL;
	return 0;
}

static void check_arrived(void)
{
	uint32_t b;
	uint64_t p;

	for (b = 0; b < t.nb; b++)
		for (p = 0; p < t.pages[b]; p++)
			FAKE_CHECK(!memcmp(fake_regions[b].mem + p * WIRE_PAGE_SIZE,
					   t.dmem[b] + p * WIRE_PAGE_SIZE, WIRE_PAGE_SIZE),
				   "completed, but page %llu of block %u differs on the destination",
				   (unsigned long long)p, b);
	FAKE_CHECK(t.state_len == t.a->state_len &&
		   (!t.state_len || !memcmp(t.state, t.a->state_buf, t.state_len)),
		   "completed, but the device state differs (%zu bytes arrived of %zu)",
		   t.state_len, t.a->state_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct agent a;
	uint8_t hdr[12] = { 0 };
	uint32_t i;
	uint64_t p;

	memset(&t, 0, sizeof(t));
	t.in.p = data;
	t.in.n = size;
	in_take(&t.in, hdr, sizeof(hdr));
	memset(&a, 0, sizeof(a));
	pthread_mutex_init(&a.lock, NULL);
	pthread_cond_init(&a.cond, NULL);
	t.a = &a;
	a.source = true;
	a.started = true;
	t.nb = 1 + hdr[0] % 3;
	t.chunk = 4096ull << (hdr[4] % 3);
	t.caps = hdr[6];
	t.budget = (hdr[7] % 8) * t.chunk;
	t.credits = 2 + hdr[9] % 31;
	for (i = 0; i < t.nb; i++) {
		struct fake_region *r;

		t.pages[i] = 1 + hdr[1 + i] % 16;
		fake_region_add(i, t.pages[i]);
		r = &fake_regions[i];
		t.total += nchunks(i);
		/* The guest's memory: a never-written page reads zero. */
		for (p = 0; p < t.pages[i]; p++) {
			uint8_t v = in_u8(&t.in);

			if (!(v & 1))
				continue;
			r->pm[p] = RDMIG_PM_PRESENT | RDMIG_PM_WRITTEN;
			memset(r->mem + p * WIRE_PAGE_SIZE, (v & 2) ? 0 : v, WIRE_PAGE_SIZE);
			if (v & 4)
				r->mem[p * WIRE_PAGE_SIZE + v % WIRE_PAGE_SIZE] = 1;
		}
		t.dmem[i] = calloc(1, t.pages[i] * WIRE_PAGE_SIZE);
		FAKE_CHECK(t.dmem[i], "out of memory");
		/*
		 * With zero ranges (the source uses them only with FENCE on
		 * one QP) the destination's VMM may have left data there.
		 */
		if ((hdr[6] & WIRE_CAP_ZERO_RANGE) && (hdr[6] & WIRE_CAP_FENCE))
			memset(t.dmem[i], 0xee, t.pages[i] * WIRE_PAGE_SIZE);
		a.region_fds[i] = FAKE_FD_BASE + (int)i;
	}
	a.nregions = t.nb;
	a.addr = "198.51.100.2";
	a.port = "4000";
	a.bind = "198.51.100.1";
	a.params.chunk_size = t.chunk;
	a.params.pin_all = hdr[5] & 1;
	a.params.pin_budget = (hdr[8] % 8) * t.chunk;
	a.params.max_iterations = 1 + (hdr[5] >> 5 & 3);
	a.params.downtime_ms = (hdr[5] & 0x80) ? 300000 : 0;
	a.params.fail_on_max = hdr[5] & 4;
	a.zero_scan = hdr[5] & 2;
	a.timeout_ms = 30000;
	a.engine_wake_fd = -1;
	a.wake_fd[0] = a.wake_fd[1] = -1;
	a.state_fd = -1;
	if (hdr[5] & 8) {
		a.secret.set = true;
		a.secret.len = 16;
		memset(a.secret.key, 0x11, 16);
	}
	a.state_len = (size_t)hdr[10] * 997;
	if (a.state_len) {
		a.state_buf = malloc(a.state_len);
		FAKE_CHECK(a.state_buf, "out of memory");
		for (p = 0; p < a.state_len; p++)
			a.state_buf[p] = (uint8_t)(p * 7 + hdr[11]);
		a.state_cap = a.state_len;
	}
	fake_peer = &peer;
	fake_on_wake = (hdr[5] & 0x10) ? on_wake : NULL;

	source_main(&a);

	FAKE_CHECK(a.reported && a.engine_done, "the engine ended without reporting");
	if (a.status == ST_COMPLETED) {
		FAKE_CHECK(t.last_sent, "completed without sending its last REGISTER_FINISHED");
		FAKE_CHECK(t.ack_after_last, "completed on an acknowledgement sent before its last REGISTER_FINISHED");
		if (!t.tainted) {
			check_arrived();
		}
	}
	fake_reset();
	for (i = 0; i < t.nb; i++)
		free(t.dmem[i]);
	while (t.qn) {
		free(t.q[t.qh].m);
		t.qh = (t.qh + 1) % MAX_PENDING;
		t.qn--;
	}
	free(t.state);
	free(a.state_buf);
	pthread_mutex_destroy(&a.lock);
	pthread_cond_destroy(&a.cond);
	return 0;
}
