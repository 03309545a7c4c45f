// SPDX-License-Identifier: GPL-2.0
/*
 * The wire protocol's decoder against hostile input: every malformed
 * message must be refused with a reason, never read or written out of
 * bounds (this runs under ASan/UBSan).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../user/rdmigd/wire.h"

/* Undefined behaviour fails the test instead of only being printed. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

static uint8_t *msg(uint32_t type, uint32_t repeat, uint32_t len)
{
	uint8_t *b = calloc(1, WIRE_HDR_LEN + len + 1);

	wire_hdr_encode(b, type, repeat, len);
	return b;
}

/* Checks exactly @n bytes in a heap buffer of exactly @n (ASan catches over-reads). */
static int check(const uint8_t *b, size_t n, struct wire_hdr *h, const char **why)
{
	uint8_t *copy = malloc(n ? n : 1);
	int rc;

	memcpy(copy, b, n);
	rc = wire_msg_check(copy, n, h, why);
	free(copy);
	return rc;
}

static void test_valid_messages(void **st)
{
	struct wire_hdr h;
	const char *why;
	uint8_t *b;

	(void)st;
	b = msg(WIRE_REG_REQ, 3, 3 * WIRE_CHUNK_LEN);
	assert_int_equal(check(b, WIRE_HDR_LEN + 24, &h, &why), 0);
	assert_int_equal(h.type, WIRE_REG_REQ);
	assert_int_equal(h.repeat, 3);
	free(b);
	b = msg(WIRE_READY, 1, 4);
	assert_int_equal(check(b, WIRE_HDR_LEN + 4, &h, &why), 0);
	free(b);
	b = msg(WIRE_QEMU_FILE, 1, 777);
	assert_int_equal(check(b, WIRE_HDR_LEN + 777, &h, &why), 0);
	free(b);
	b = msg(WIRE_REG_RES, WIRE_MAX_REPEAT, WIRE_MAX_DATA);
	assert_int_equal(check(b, WIRE_MAX_MSG, &h, &why), 0);
	free(b);
}

static void test_length_mismatch(void **st)
{
	struct wire_hdr h;
	const char *why = NULL;
	uint8_t *b = msg(WIRE_REG_REQ, 1, 8);

	(void)st;
	/* header says 8, 9 arrived */
	assert_int_equal(check(b, WIRE_HDR_LEN + 9, &h, &why), -1);
	assert_non_null(strstr(why, "length"));
	/* header says 8, 7 arrived */
	assert_int_equal(check(b, WIRE_HDR_LEN + 7, &h, &why), -1);
	free(b);
	/* header length huge (would overflow an addition) */
	b = msg(WIRE_QEMU_FILE, 1, 10);
	wire_put32(b, 0xffffffff);
	assert_int_equal(check(b, WIRE_HDR_LEN + 10, &h, &why), -1);
	free(b);
	/* length consistent with arrival but not with repeat */
	b = msg(WIRE_REG_REQ, 2, 8);
	assert_int_equal(check(b, WIRE_HDR_LEN + 8, &h, &why), -1);
	assert_non_null(strstr(why, "repeat"));
	free(b);
}

static void test_truncated(void **st)
{
	struct wire_hdr h;
	const char *why;
	uint8_t b[WIRE_HDR_LEN] = { 0 };
	size_t n;

	(void)st;
	for (n = 0; n < WIRE_HDR_LEN; n++)
		assert_int_equal(check(b, n, &h, &why), -1);
}

static void test_unknown_types(void **st)
{
	struct wire_hdr h;
	const char *why;
	uint32_t t;

	(void)st;
	for (t = 0; t < 40; t++) {
		uint8_t *b = msg(t, 1, 4);
		int rc = check(b, WIRE_HDR_LEN + 4, &h, &why);

		if (t == 0 || t == WIRE_UNUSED || t > WIRE_TYPE_MAX)
			assert_int_equal(rc, -1);
		free(b);
	}
	{
		uint8_t *b = msg(0xffffffff, 1, 0);

		assert_int_equal(check(b, WIRE_HDR_LEN, &h, &why), -1);
		assert_non_null(strstr(why, "type"));
		free(b);
	}
}

static void test_repeat_limits(void **st)
{
	struct wire_hdr h;
	const char *why;
	uint8_t *b;

	(void)st;
	b = msg(WIRE_REG_REQ, 4097, 4097 * 8);
	assert_int_equal(check(b, WIRE_HDR_LEN + 4097 * 8, &h, &why), -1);
	free(b);
	b = msg(WIRE_REG_REQ, 0, 0);
	assert_int_equal(check(b, WIRE_HDR_LEN, &h, &why), -1);
	free(b);
	b = msg(WIRE_REG_REQ, 4096, 4096 * 8);
	assert_int_equal(check(b, WIRE_HDR_LEN + 4096 * 8, &h, &why), 0);
	free(b);
	/* non-array types take repeat 1 only */
	b = msg(WIRE_READY, 2, 4);
	assert_int_equal(check(b, WIRE_HDR_LEN + 4, &h, &why), -1);
	free(b);
	/* repeat * entry overflowing 32 bits must not wrap into a match */
	b = msg(WIRE_REG_RES, 1, 8);
	wire_put32(b + 8, 0x0aaaaaab);
	assert_int_equal(check(b, WIRE_HDR_LEN + 8, &h, &why), -1);
	free(b);
}

static void test_fixed_lengths_and_reserved(void **st)
{
	struct wire_hdr h;
	const char *why;
	uint8_t *b;

	(void)st;
	b = msg(WIRE_READY, 1, 5);
	assert_int_equal(check(b, WIRE_HDR_LEN + 5, &h, &why), -1);
	free(b);
	b = msg(WIRE_REG_FINISHED, 1, 8);
	assert_int_equal(check(b, WIRE_HDR_LEN + 8, &h, &why), -1);
	free(b);
	b = msg(WIRE_ERROR, 1, 2);
	assert_int_equal(check(b, WIRE_HDR_LEN + 2, &h, &why), -1);
	free(b);
	b = msg(WIRE_ERROR, 1, 4 + 2000);
	assert_int_equal(check(b, WIRE_HDR_LEN + 2004, &h, &why), -1);
	free(b);
	b = msg(WIRE_QEMU_FILE, 1, 0);
	assert_int_equal(check(b, WIRE_HDR_LEN, &h, &why), -1);
	free(b);
	b = msg(WIRE_READY, 1, 4);
	wire_put32(b + 12, 1);
	assert_int_equal(check(b, WIRE_HDR_LEN + 4, &h, &why), -1);
	assert_non_null(strstr(why, "reserved"));
	free(b);
	b = msg(WIRE_QEMU_FILE, 1, WIRE_MAX_DATA + 1);
	assert_int_equal(check(b, WIRE_MAX_MSG + 1, &h, &why), -1);
	free(b);
}

/* AUTH (13): exactly 32 bytes, repeat 1. */
static void test_auth_message(void **st)
{
	struct wire_hdr h;
	const char *why;
	uint8_t *b;

	(void)st;
	assert_string_equal(wire_type_name(WIRE_AUTH), "AUTH");
	b = msg(WIRE_AUTH, 1, WIRE_AUTH_LEN);
	assert_int_equal(check(b, WIRE_HDR_LEN + WIRE_AUTH_LEN, &h, &why), 0);
	assert_int_equal(h.type, WIRE_AUTH);
	free(b);
	b = msg(WIRE_AUTH, 1, WIRE_AUTH_LEN - 1);
	assert_int_equal(check(b, WIRE_HDR_LEN + WIRE_AUTH_LEN - 1, &h, &why), -1);
	assert_non_null(strstr(why, "AUTH"));
	free(b);
	b = msg(WIRE_AUTH, 1, WIRE_AUTH_LEN + 1);
	assert_int_equal(check(b, WIRE_HDR_LEN + WIRE_AUTH_LEN + 1, &h, &why), -1);
	free(b);
	b = msg(WIRE_AUTH, 2, 2 * WIRE_AUTH_LEN);
	assert_int_equal(check(b, WIRE_HDR_LEN + 2 * WIRE_AUTH_LEN, &h, &why), -1);
	free(b);
	b = msg(WIRE_TYPE_MAX + 1, 1, WIRE_AUTH_LEN);
	assert_int_equal(check(b, WIRE_HDR_LEN + WIRE_AUTH_LEN, &h, &why), -1);
	free(b);
	/* the capability survives decoding, the reject reasons have names */
	assert_true(WIRE_CAPS_KNOWN & WIRE_CAP_AUTH);
	assert_non_null(strstr(wire_rej_reason_str(WIRE_REJ_AUTH), "authentication"));
	assert_non_null(strstr(wire_rej_reason_str(WIRE_REJ_NOT_ALLOWED), "allowed"));
}

/*
 * QPS_REQUEST (14) 4 bytes, QPS_RESULT (15) 36, BARRIER (16) and
 * BARRIER_RESULT (17) 8, each repeat 1; 18 is unknown.
 */
static void test_qps_messages(void **st)
{
	static const struct { uint32_t type, len; const char *name; } t[] = {
		{ WIRE_QPS_REQ, WIRE_QPS_REQ_LEN, "QPS_REQUEST" },
		{ WIRE_QPS_RES, WIRE_QPS_RES_LEN, "QPS_RESULT" },
		{ WIRE_BARRIER, WIRE_BARRIER_LEN, "BARRIER" },
		{ WIRE_BARRIER_RES, WIRE_BARRIER_LEN, "BARRIER_RESULT" },
	};
	struct wire_hdr h;
	const char *why;
	uint8_t *b;
	size_t i;

	(void)st;
	assert_int_equal(WIRE_TYPE_MAX, 17);
	assert_int_equal(WIRE_QPS_REQ_LEN, 4);
	assert_int_equal(WIRE_QPS_RES_LEN, 36);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_string_equal(wire_type_name(t[i].type), t[i].name);
		b = msg(t[i].type, 1, t[i].len);
		assert_int_equal(check(b, WIRE_HDR_LEN + t[i].len, &h, &why), 0);
		assert_int_equal(h.type, t[i].type);
		free(b);
		b = msg(t[i].type, 1, t[i].len - 1);
		assert_int_equal(check(b, WIRE_HDR_LEN + t[i].len - 1, &h, &why), -1);
		free(b);
		b = msg(t[i].type, 1, t[i].len + 1);
		assert_int_equal(check(b, WIRE_HDR_LEN + t[i].len + 1, &h, &why), -1);
		free(b);
		b = msg(t[i].type, 2, 2 * t[i].len);
		assert_int_equal(check(b, WIRE_HDR_LEN + 2 * t[i].len, &h, &why), -1);
		free(b);
	}
	b = msg(18, 1, 8);
	assert_int_equal(check(b, WIRE_HDR_LEN + 8, &h, &why), -1);
	free(b);
	assert_true(WIRE_CAPS_KNOWN & WIRE_CAP_QPS);
	assert_true(WIRE_CAPS_KNOWN & WIRE_CAP_FENCE);
	/* never offered or granted on a first QP */
	assert_false(WIRE_CAPS_KNOWN & WIRE_CAP_JOIN);
	assert_string_equal(wire_rej_reason_str(WIRE_REJ_JOIN), "data QP join refused");
}

/*
 * JOIN records: round trip; not a JOIN (another version or caps word,
 * a normal request); malformed ones (short, n, index); an old
 * destination's decoder refuses one (its index read as a chunk size).
 */
static void test_join_record(void **st)
{
	uint8_t buf[WIRE_JOIN_LEN + 8];
	struct wire_join j = { .index = 3, .n = 4 }, o;
	struct wire_pd pd = { .version = WIRE_VERSION, .caps = WIRE_CAP_QPS,
			      .chunk_size = 1 << 20, .credits = 32 };
	const char *why = NULL;
	uint32_t i;

	(void)st;
	assert_true(WIRE_JOIN_LEN <= 56);
	for (i = 0; i < WIRE_MAC_LEN; i++)
		j.token[i] = (uint8_t)(i * 7 + 1);
	wire_join_encode(buf, &j);
	assert_int_equal(wire_join_decode(buf, WIRE_JOIN_LEN, &o, &why), 0);
	assert_int_equal(o.index, 3);
	assert_int_equal(o.n, 4);
	assert_memory_equal(o.token, j.token, WIRE_MAC_LEN);
	/* padded by the transport */
	memset(buf + WIRE_JOIN_LEN, 0, 8);
	assert_int_equal(wire_join_decode(buf, sizeof(buf), &o, &why), 0);
	assert_int_equal(wire_join_decode(buf, WIRE_JOIN_LEN - 1, &o, &why), 1);
	assert_non_null(strstr(why, "shorter"));
	assert_int_equal(wire_join_decode(NULL, 0, &o, &why), -1);
	assert_int_equal(wire_join_decode(buf, 4, &o, &why), -1);
	/* an old destination's decoder refuses it: chunk size 3 */
	assert_int_equal(wire_pd_decode(buf, WIRE_JOIN_LEN, &pd, &why), WIRE_REJ_CHUNK_SIZE);
	/* a first QP's request is not a JOIN */
	pd = (struct wire_pd){ .version = WIRE_VERSION, .caps = WIRE_CAP_QPS,
			       .chunk_size = 1 << 20, .credits = 32 };
	wire_pd_encode(buf, &pd);
	assert_int_equal(wire_join_decode(buf, WIRE_PD_LEN, &o, &why), -1);
	/* another version */
	wire_join_encode(buf, &j);
	wire_put32(buf, WIRE_VERSION + 1);
	assert_int_equal(wire_join_decode(buf, WIRE_JOIN_LEN, &o, &why), -1);
	/* the caps word must be JOIN alone */
	wire_join_encode(buf, &j);
	wire_put32(buf + 4, WIRE_CAP_JOIN | WIRE_CAP_AUTH);
	assert_int_equal(wire_join_decode(buf, WIRE_JOIN_LEN, &o, &why), -1);
	/* n and index */
	j.n = 1;
	j.index = 0;
	wire_join_encode(buf, &j);
	assert_int_equal(wire_join_decode(buf, WIRE_JOIN_LEN, &o, &why), 1);
	j.n = WIRE_QPS_MAX + 1;
	j.index = 1;
	wire_join_encode(buf, &j);
	assert_int_equal(wire_join_decode(buf, WIRE_JOIN_LEN, &o, &why), 1);
	j.n = 4;
	j.index = 0;	/* QP 0 never joins */
	wire_join_encode(buf, &j);
	assert_int_equal(wire_join_decode(buf, WIRE_JOIN_LEN, &o, &why), 1);
	assert_non_null(strstr(why, "index"));
	j.index = 4;
	wire_join_encode(buf, &j);
	assert_int_equal(wire_join_decode(buf, WIRE_JOIN_LEN, &o, &why), 1);
	j.index = 3;
	j.n = WIRE_QPS_MAX;
	wire_join_encode(buf, &j);
	assert_int_equal(wire_join_decode(buf, WIRE_JOIN_LEN, &o, &why), 0);
}

static void test_private_data(void **st)
{
	struct wire_pd in = { .version = WIRE_VERSION, .caps = WIRE_CAPS_KNOWN | 0x80,
			      .chunk_size = 1 << 20, .credits = 32,
			      .pin_budget = 0x123456789aull }, out;
	uint8_t b[56] = { 0 };
	const char *why;

	(void)st;
	wire_pd_encode(b, &in);
	assert_int_equal(b[3], WIRE_VERSION);	/* big-endian version */
	assert_int_equal(wire_pd_decode(b, sizeof(b), &out, &why), 0);
	/* unknown bits kept: the source must see them to refuse the accept */
	assert_int_equal(out.caps, WIRE_CAPS_KNOWN | 0x80);
	assert_int_equal(out.chunk_size, 1 << 20);
	assert_true(out.pin_budget == 0x123456789aull);
	in.version = 1;	/* version 1 had no completion binding */
	wire_pd_encode(b, &in);
	assert_int_equal(wire_pd_decode(b, sizeof(b), &out, &why), WIRE_REJ_VERSION);
	assert_int_equal(out.version, 1);
	/* version 2 sources refuse a register request answered in parts */
	in.version = 2;
	wire_pd_encode(b, &in);
	assert_int_equal(wire_pd_decode(b, sizeof(b), &out, &why), WIRE_REJ_VERSION);
	in.version = 4;
	wire_pd_encode(b, &in);
	assert_int_equal(wire_pd_decode(b, sizeof(b), &out, &why), WIRE_REJ_VERSION);
	in.version = WIRE_VERSION;
	in.chunk_size = 3 << 20;
	wire_pd_encode(b, &in);
	assert_int_equal(wire_pd_decode(b, sizeof(b), &out, &why), WIRE_REJ_CHUNK_SIZE);
	in.chunk_size = 1 << 20;
	in.credits = 0;
	wire_pd_encode(b, &in);
	assert_int_equal(wire_pd_decode(b, sizeof(b), &out, &why), WIRE_REJ_MALFORMED);
	assert_int_equal(wire_pd_decode(b, 3, &out, &why), WIRE_REJ_MALFORMED);
	assert_int_equal(wire_pd_decode(NULL, 0, &out, &why), WIRE_REJ_MALFORMED);
	in.credits = 32;
	wire_pd_encode(b, &in);
	assert_int_equal(wire_pd_decode(b, 20, &out, &why), WIRE_REJ_MALFORMED);
}

static void test_reject_data(void **st)
{
	struct wire_rej r = { .version = 1, .reason = WIRE_REJ_CHUNK_SIZE, .detail = 4096 }, o;
	uint8_t b[WIRE_REJ_LEN + 8];
	char text[6];
	size_t n;

	(void)st;
	n = wire_rej_encode(b, sizeof(b), &r, "chunk\x01 size mismatch");
	assert_int_equal(n, sizeof(b));
	assert_int_equal(wire_rej_decode(b, n, &o, text, sizeof(text)), 0);
	assert_int_equal(o.reason, WIRE_REJ_CHUNK_SIZE);
	assert_int_equal(o.detail, 4096);
	assert_string_equal(text, "chunk");	/* truncated to the buffer */
	b[0] = 0;
	assert_int_equal(wire_rej_decode(b, n, &o, text, sizeof(text)), -1);
	assert_int_equal(wire_rej_decode(b, 4, &o, text, sizeof(text)), -1);
	/* The busy refusal has no text (wire.c used to memcpy from NULL). */
	r.reason = WIRE_REJ_BUSY;
	assert_int_equal(wire_rej_encode(b, sizeof(b), &r, NULL), WIRE_REJ_LEN);
	assert_int_equal(wire_rej_decode(b, WIRE_REJ_LEN, &o, text, sizeof(text)), 0);
	assert_int_equal(o.reason, WIRE_REJ_BUSY);
	assert_string_equal(text, "");
}

/* Every entry's reserved word must be zero, or the message is refused. */
static void test_entry_reserved(void **st)
{
	static const struct { uint32_t type, el, off; } t[] = {
		{ WIRE_RAM_BLOCKS_REQ, WIRE_BLOCK_REQ_LEN, 12 },
		{ WIRE_RAM_BLOCKS_RES, WIRE_BLOCK_RES_LEN, 12 },
		{ WIRE_COMPRESS, WIRE_RANGE_LEN, 4 },
		{ WIRE_REG_RES, WIRE_REG_RES_LEN, 12 },
	};
	struct wire_hdr h;
	const char *why;
	unsigned int i;

	(void)st;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t *b = msg(t[i].type, 3, 3 * t[i].el);
		size_t n = WIRE_HDR_LEN + 3 * t[i].el;

		memset(b + WIRE_HDR_LEN, 0xab, 3 * t[i].el);
		wire_put32(b + WIRE_HDR_LEN + 0 * t[i].el + t[i].off, 0);
		wire_put32(b + WIRE_HDR_LEN + 1 * t[i].el + t[i].off, 0);
		wire_put32(b + WIRE_HDR_LEN + 2 * t[i].el + t[i].off, 0);
		assert_int_equal(check(b, n, &h, &why), 0);
		/* the last entry's reserved word: refused */
		wire_put32(b + WIRE_HDR_LEN + 2 * t[i].el + t[i].off, 1u << 31);
		assert_int_equal(check(b, n, &h, &why), -1);
		assert_non_null(strstr(why, "reserved"));
		free(b);
	}
}

/* Version 2: REGISTER_FINISHED is 24 bytes, the last 8 the nonce. */
static void test_finished_nonce(void **st)
{
	struct wire_finished f = { 7, WIRE_FIN_LAST, 99, 0x0123456789abcdefull }, g;
	struct wire_hdr h;
	const char *why;
	uint8_t *b;

	(void)st;
	assert_int_equal(WIRE_VERSION, 3);
	assert_int_equal(WIRE_FINISHED_LEN, 24);
	b = msg(WIRE_REG_FINISHED, 1, 24);
	wire_put_finished(b + WIRE_HDR_LEN, &f);
	assert_int_equal(check(b, WIRE_HDR_LEN + 24, &h, &why), 0);
	assert_int_equal(wire_get32(b + WIRE_HDR_LEN + 16), 0x01234567);
	wire_get_finished(b + WIRE_HDR_LEN, &g);
	assert_true(g.nonce == f.nonce);
	assert_true(g.state_bytes == 99);
	free(b);
	b = msg(WIRE_REG_FINISHED, 1, 16);	/* a version 1 REGISTER_FINISHED */
	assert_int_equal(check(b, WIRE_HDR_LEN + 16, &h, &why), -1);
	assert_non_null(strstr(why, "REGISTER_FINISHED"));
	free(b);
}

static void test_layout_checks(void **st)
{
	uint64_t lens[2] = { 3 << 20, (1 << 20) + 4096 };
	struct wire_layout l = { .nblocks = 2, .lengths = lens, .chunk_size = 1 << 20 };
	struct wire_chunk c;
	struct wire_range r;
	const char *why;

	(void)st;
	assert_int_equal(wire_nchunks(&l, 0), 3);
	assert_int_equal(wire_nchunks(&l, 1), 2);
	c = (struct wire_chunk){ 0, 2 };
	assert_int_equal(wire_check_chunk(&l, &c, &why), 0);
	c = (struct wire_chunk){ 0, 3 };
	assert_int_equal(wire_check_chunk(&l, &c, &why), -1);
	c = (struct wire_chunk){ 2, 0 };
	assert_int_equal(wire_check_chunk(&l, &c, &why), -1);
	c = (struct wire_chunk){ 0xffffffff, 0 };
	assert_int_equal(wire_check_chunk(&l, &c, &why), -1);
	r = (struct wire_range){ 1, 1 << 20, 4096 };
	assert_int_equal(wire_check_range(&l, &r, &why), 0);
	r = (struct wire_range){ 1, 1 << 20, 8192 };
	assert_int_equal(wire_check_range(&l, &r, &why), -1);
	r = (struct wire_range){ 0, 4096, UINT64_MAX - 4095 };	/* wraps */
	assert_int_equal(wire_check_range(&l, &r, &why), -1);
	r = (struct wire_range){ 0, UINT64_MAX - 4095, 8192 };
	assert_int_equal(wire_check_range(&l, &r, &why), -1);
	r = (struct wire_range){ 0, 100, 4096 };	/* unaligned */
	assert_int_equal(wire_check_range(&l, &r, &why), -1);
	r = (struct wire_range){ 0, 0, 0 };
	assert_int_equal(wire_check_range(&l, &r, &why), -1);
	r = (struct wire_range){ 5, 0, 4096 };
	assert_int_equal(wire_check_range(&l, &r, &why), -1);
}

static void test_entry_roundtrip(void **st)
{
	uint8_t d[64];
	struct wire_reg_res a = { 3, 4, 0xdeadbeef, 0x7f0012345000ull }, b;
	struct wire_finished f = { 9, WIRE_FIN_LAST, 1234567, 42 }, g;

	(void)st;
	wire_put_reg_res(d, 1, &a);
	wire_get_reg_res(d, 1, &b);
	assert_int_equal(b.rkey, a.rkey);
	assert_true(b.addr == a.addr);
	assert_int_equal(wire_get32(d + 24 + 8), 0xdeadbeef);
	wire_put_finished(d, &f);
	wire_get_finished(d, &g);
	assert_int_equal(g.iteration, 9);
	assert_true(g.state_bytes == 1234567);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_messages),
		cmocka_unit_test(test_length_mismatch),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_unknown_types),
		cmocka_unit_test(test_repeat_limits),
		cmocka_unit_test(test_fixed_lengths_and_reserved),
		cmocka_unit_test(test_auth_message),
		cmocka_unit_test(test_qps_messages),
		cmocka_unit_test(test_join_record),
		cmocka_unit_test(test_private_data),
		cmocka_unit_test(test_reject_data),
		cmocka_unit_test(test_layout_checks),
		cmocka_unit_test(test_entry_roundtrip),
		cmocka_unit_test(test_entry_reserved),
		cmocka_unit_test(test_finished_nonce),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
