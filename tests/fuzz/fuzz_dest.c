// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness: the destination engine (user/rdmigd/dest.c, run
 * whole through dest_main()) against a source played by the input, over
 * the fake transport (fake.h). The input starts with a 12-byte setup
 * (regions, chunk size, pin budget, the source's capabilities, secret,
 * credits, which pages are present), then a sequence of records, one
 * per poll of the connection:
 *
 *   op & 7 == 0   nothing arrives this poll
 *   op & 7 == 1   a raw message: be16 length, then that many bytes
 *   op & 7 == 2..5 a message generated from the layout (type byte, then
 *                 its fields: RAM blocks, register/unregister requests,
 *                 zero ranges, device state, REGISTER_FINISHED, AUTH,
 *                 ERROR, READY); with op & 8 one byte of it is flipped
 *   op & 7 == 6   READY returning every credit owed
 *   op == 0xff    the VMM cancels
 *
 * and the source disconnects when the input ends. Checked beyond the
 * sanitizers: every rkey the destination hands out covers exactly the
 * chunk (or block) asked for and only region memory; no rkey before the
 * source authenticated; every pin released before the acknowledgement
 * and at the end; every message it sends well-formed (fake_transport.c).
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <linux/rdmig.h>

#include "fake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct {
	struct fuzz_in in;
	struct agent *a;
	uint32_t nb;
	uint64_t pages[FAKE_MAX_REGIONS];
	uint64_t chunk;
	uint32_t total;		/* chunks in all blocks */
	uint8_t caps;
	uint32_t credits;
	bool second;		/* a second candidate may connect */
	int connects;
	uint64_t state_bytes;	/* device state generated so far */
	bool last_sent;		/* a LAST was delivered */
	bool acked;
} t;

static uint32_t nchunks(uint32_t b)
{
	return (uint32_t)((t.pages[b] * WIRE_PAGE_SIZE + t.chunk - 1) / t.chunk);
}

static void chunk_of(uint32_t g, uint32_t *b, uint32_t *c)
{
	for (*b = 0; *b + 1 < t.nb && g >= nchunks(*b); (*b)++)
		g -= nchunks(*b);
	*c = g;
}

static int peer_connect(struct conn *c, uint8_t pd[WIRE_PD_LEN])
{
	struct wire_pd p = {
		.version = WIRE_VERSION, .caps = t.caps,
		.chunk_size = (uint32_t)t.chunk, .credits = t.credits,
	};

	(void)c;
	if (t.connects && (!t.second || !t.in.n || t.connects > 1))
		return -1;
	if (t.connects)
		p.caps = in_u8(&t.in) & 15;
	t.connects++;
	wire_pd_encode(pd, &p);
	return 0;
}

/* A message of the source's, built from the layout; returns its length. */
static size_t generate(struct conn *c, uint8_t *m)
{
	uint8_t *d = m + WIRE_HDR_LEN;
	uint32_t type = in_u8(&t.in) % 11, n = 1, i, b, ch;
	size_t len = 0;

	switch (type) {
	case 0:
		type = WIRE_RAM_BLOCKS_REQ;
		n = t.nb;
		for (i = 0; i < n; i++) {
			struct wire_block_req e = { .length = t.pages[i] * WIRE_PAGE_SIZE };

			wire_put_block_req(d, i, &e);
		}
		len = n * WIRE_BLOCK_REQ_LEN;
		break;
	case 1:
	case 2:
		type = type == 1 ? WIRE_REG_REQ : WIRE_UNREG_REQ;
		n = 1 + in_u8(&t.in) % 8;
		for (i = 0; i < n; i++) {
			struct wire_chunk e;

			chunk_of(in_u8(&t.in) % t.total, &b, &ch);
			e.block = b;
			e.chunk = ch;
			wire_put_chunk(d, i, &e);
		}
		len = n * WIRE_CHUNK_LEN;
		break;
	case 3:
		type = WIRE_COMPRESS;
		n = 1 + in_u8(&t.in) % 4;
		for (i = 0; i < n; i++) {
			struct wire_range e;
			uint64_t p;

			e.block = in_u8(&t.in) % t.nb;
			p = in_u8(&t.in) % t.pages[e.block];
			e.offset = p * WIRE_PAGE_SIZE;
			e.length = (1 + in_u8(&t.in) % (t.pages[e.block] - p)) * WIRE_PAGE_SIZE;
			wire_put_range(d, i, &e);
		}
		len = n * WIRE_RANGE_LEN;
		break;
	case 4:
		type = WIRE_QEMU_FILE;
		len = 1 + in_u16(&t.in) % 4096;
		memset(d, 0x5e, len);
		t.state_bytes += len;
		break;
	case 5: {
		struct wire_finished f = {
			.iteration = in_u8(&t.in), .flags = WIRE_FIN_LAST,
			.state_bytes = t.state_bytes,
		};

		type = WIRE_REG_FINISHED;
		wire_put_finished(d, &f);
		len = WIRE_FINISHED_LEN;
		break;
	}
	case 6:
		type = WIRE_AUTH;
		memset(d, FAKE_MAC_BYTE, WIRE_AUTH_LEN);
		if (in_u8(&t.in) & 1)
			d[0] ^= 1;
		len = WIRE_AUTH_LEN;
		break;
	case 7:
		type = WIRE_ERROR;
		wire_put32(d, in_u8(&t.in));
		len = WIRE_ERROR_MIN + in_take(&t.in, d + WIRE_ERROR_MIN, in_u8(&t.in) % 32);
		break;
	case 8:
		type = WIRE_READY;
		wire_put32(d, in_u8(&t.in) % (c->peer_credits_max + 2));
		len = WIRE_READY_LEN;
		break;
	case 9:
		/* 0..9 QPs asked: 0, 1 and 9 are refused; no join follows here */
		type = WIRE_QPS_REQ;
		wire_put32(d, in_u8(&t.in) % 10);
		len = WIRE_QPS_REQ_LEN;
		break;
	case 10:
		type = WIRE_BARRIER;
		wire_put64(d, in_u8(&t.in));
		len = WIRE_BARRIER_LEN;
		break;
	}
	wire_hdr_encode(m, type, n, (uint32_t)len);
	return WIRE_HDR_LEN + len;
}

static int peer_poll(struct conn *c, uint8_t *buf, size_t *len)
{
	struct wire_hdr h;
	const char *why;
	uint8_t op;

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
		break;
	case 2:
	case 3:
	case 4:
	case 5:
		*len = generate(c, buf);
		if (op & 8)
			buf[in_u16(&t.in) % *len] ^= in_u8(&t.in) | 1;
		break;
	case 6:
		wire_hdr_encode(buf, WIRE_READY, 1, WIRE_READY_LEN);
		wire_put32(buf + WIRE_HDR_LEN, c->peer_credits_max - c->credits);
		*len = WIRE_HDR_LEN + WIRE_READY_LEN;
		break;
	default:
		return 0;
	}
	if (!wire_msg_check(buf, *len, &h, &why) && h.type == WIRE_REG_FINISHED &&
	    (wire_get32(buf + WIRE_HDR_LEN + 4) & WIRE_FIN_LAST))
		t.last_sent = true;
	return 1;
}

/* The MR behind an rkey the destination gave out covers [mem, mem + len). */
static void check_rkey(uint32_t rkey, uint64_t addr, const uint8_t *mem, uint64_t len,
		       const char *what)
{
	const struct ibv_mr *mr = fake_mr_by_rkey(rkey);

	FAKE_CHECK(mr, "%s: rkey 0x%x is not a live registration", what, rkey);
	FAKE_CHECK(mr->addr == mem && mr->length == len && addr == (uintptr_t)mem,
		   "%s: rkey 0x%x covers [%p, +%zu) at address 0x%llx, asked for [%p, +%llu)",
		   what, rkey, mr->addr, mr->length, (unsigned long long)addr, mem,
		   (unsigned long long)len);
}

static void peer_sent(struct conn *c, const struct wire_hdr *h, const uint8_t *d)
{
	uint32_t i;

	if (c->auth && (h->type == WIRE_RAM_BLOCKS_RES || h->type == WIRE_REG_RES))
		FAKE_CHECK(c->authed, "%s sent before the source authenticated",
			   wire_type_name(h->type));
	switch (h->type) {
	case WIRE_RAM_BLOCKS_RES:
		FAKE_CHECK(h->repeat == t.nb, "RAM blocks result with %u blocks", h->repeat);
		for (i = 0; i < h->repeat; i++) {
			struct wire_block_res e;

			wire_get_block_res(d, i, &e);
			if (c->caps & WIRE_CAP_PIN_ALL)
				check_rkey(e.rkey, e.addr, fake_regions[i].mem,
					   fake_regions[i].length, "pin-all block");
			else
				FAKE_CHECK(!e.rkey, "rkey 0x%x without pin-all", e.rkey);
		}
		break;
	case WIRE_REG_RES:
		for (i = 0; i < h->repeat; i++) {
			struct wire_reg_res e;
			uint64_t off, len;

			wire_get_reg_res(d, i, &e);
			FAKE_CHECK(e.block < t.nb && e.chunk < nchunks(e.block),
				   "register result for %u/%u", e.block, e.chunk);
			off = (uint64_t)e.chunk * t.chunk;
			len = fake_regions[e.block].length - off;
			if (len > t.chunk)
				len = t.chunk;
			check_rkey(e.rkey, e.addr, fake_regions[e.block].mem + off, len,
				   "register result");
		}
		break;
	case WIRE_REG_FINISHED: {
		struct wire_finished f;

		wire_get_finished(d, &f);
		FAKE_CHECK(f.flags == WIRE_FIN_ACK && t.last_sent, "REGISTER_FINISHED 0x%x", f.flags);
		FAKE_CHECK(!fake_mr_live(), "acknowledged with %u MR(s) still registered",
			   fake_mr_live());
		t.acked = true;
		break;
	}
	case WIRE_ERROR:
		FAKE_CHECK(wire_get32(d) >= WIRE_E_PROTO && wire_get32(d) <= WIRE_E_AUTH,
			   "ERROR code %u", wire_get32(d));
		break;
	case WIRE_UNREG_FINISHED:
		break;
	case WIRE_QPS_RES:
		/* The harness's destination has --qps 1: one QP, no join. */
		FAKE_CHECK((c->caps & WIRE_CAP_QPS) && wire_get32(d) == 1,
			   "QPS_RESULT granting %u", wire_get32(d));
		break;
	default:
		/* BARRIER_RESULT included: a BARRIER without data QPs is refused. */
		FAKE_CHECK(0, "the destination sent %s", wire_type_name(h->type));
	}
}

static int peer_write(struct conn *c, const uint8_t *src, uint32_t len, uint64_t raddr,
		      uint32_t rkey)
{
	(void)c;
	(void)src;
	(void)len;
	(void)raddr;
	(void)rkey;
	FAKE_CHECK(0, "the destination posted an RDMA WRITE");
	return -1;
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
	return 0;
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
	t.nb = 1 + hdr[0] % 3;
	t.chunk = 4096ull << (hdr[4] % 3);
	for (i = 0; i < t.nb; i++) {
		t.pages[i] = 1 + hdr[1 + i] % 16;
		fake_region_add(i, t.pages[i]);
		t.total += nchunks(i);
		/* What the destination's VMM left there before the migration. */
		memset(fake_regions[i].mem, hdr[11], fake_regions[i].length);
		for (p = 0; p < t.pages[i]; p++)
			if (hdr[9] >> (p % 8) & 1)
				fake_regions[i].pm[p] = RDMIG_PM_PRESENT | RDMIG_PM_WRITTEN;
		a.region_fds[i] = FAKE_FD_BASE + (int)i;
	}
	a.nregions = t.nb;
	a.addr = "198.51.100.2";
	a.port = "4000";
	a.defaults.chunk_size = t.chunk;
	a.defaults.pin_budget = (hdr[5] % 8) * t.chunk;
	/* Both registration paths: in the dispatch loop, and on a pin worker. */
	a.pin_threads = hdr[10] & 1;
	a.timeout_ms = 30000;
	a.engine_wake_fd = -1;
	a.wake_fd[0] = a.wake_fd[1] = -1;
	a.state_fd = (hdr[7] & 4) ? open("/dev/null", O_WRONLY | O_CLOEXEC) : -1;
	if (hdr[7] & 1) {
		a.secret.set = true;
		a.secret.len = 16;
		memset(a.secret.key, 0x11, 16);
	}
	a.auth_required = hdr[7] & 2;
	t.caps = hdr[6] & 15;
	t.credits = 2 + hdr[8] % 31;
	t.second = hdr[7] & 8;
	fake_peer = &peer;

	dest_main(&a);

	FAKE_CHECK(a.reported && a.engine_done, "the engine ended without reporting");
	if (a.status == ST_COMPLETED)
		FAKE_CHECK(t.acked && a.state_fd < 0, "completed without acknowledging");
	if (a.state_fd >= 0)
		close(a.state_fd);
	fake_reset();
	pthread_mutex_destroy(&a.lock);
	pthread_cond_destroy(&a.cond);
	return 0;
}
