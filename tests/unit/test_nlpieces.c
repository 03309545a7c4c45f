// SPDX-License-Identifier: GPL-2.0
/*
 * Assembly of dirty bitmaps from DIRTY_GET pieces: with CLEAR the kernel
 * has forgotten the pages, so every piece that does not fit the request
 * exactly must be refused, and every piece that does must land in place.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <netlink/errno.h>

#include <linux/rdmig.h>

#include "../../user/lib/nl-internal.h"

static void test_pieces_in_order_fill_the_bitmap(void **state)
{
	uint64_t bitmap[4] = { 0 }, a[2] = { 0x5, 1ULL << 63 }, b[2] = { 0, 0xf0 };
	struct rdmig_dirty_pieces p;

	(void)state;
	rdmig_dirty_pieces_init(&p, 128, 256, bitmap);
	assert_int_equal(rdmig_dirty_pieces_add(&p, 128, 128, 3, a, sizeof(a)), 0);
	assert_int_equal(rdmig_dirty_pieces_complete(&p), -EPROTO);
	assert_int_equal(rdmig_dirty_pieces_add(&p, 256, 128, 4, b, sizeof(b)), 0);
	assert_int_equal(rdmig_dirty_pieces_complete(&p), 0);
	assert_int_equal(p.ndirty, 7);
	assert_true(bitmap[0] == 0x5 && bitmap[1] == 1ULL << 63);
	assert_true(bitmap[2] == 0 && bitmap[3] == 0xf0);
}

static void test_gap_overlap_and_overrun_are_refused(void **state)
{
	uint64_t bitmap[2] = { 0 }, w[2] = { 0, 0 };
	struct rdmig_dirty_pieces p;

	(void)state;
	rdmig_dirty_pieces_init(&p, 0, 128, bitmap);
	/* A gap: the piece does not start where the last one ended. */
	assert_int_equal(rdmig_dirty_pieces_add(&p, 64, 64, 0, w, 8), -EPROTO);
	assert_int_equal(rdmig_dirty_pieces_add(&p, 0, 64, 0, w, 8), 0);
	/* An overlap with what arrived. */
	assert_int_equal(rdmig_dirty_pieces_add(&p, 0, 64, 0, w, 8), -EPROTO);
	/* Past the end of the request. */
	assert_int_equal(rdmig_dirty_pieces_add(&p, 64, 128, 0, w, 16), -EPROTO);
	/* Empty. */
	assert_int_equal(rdmig_dirty_pieces_add(&p, 64, 0, 0, w, 0), -EPROTO);
	assert_int_equal(rdmig_dirty_pieces_add(&p, 64, 64, 0, w, 8), 0);
	assert_int_equal(rdmig_dirty_pieces_complete(&p), 0);
}

static void test_length_and_count_must_match(void **state)
{
	uint64_t bitmap[2] = { 0 }, w[2] = { 0xff, 0 };
	struct rdmig_dirty_pieces p;

	(void)state;
	rdmig_dirty_pieces_init(&p, 0, 100, bitmap);
	/* 100 pages take 2 words, not 1 or 3. */
	assert_int_equal(rdmig_dirty_pieces_add(&p, 0, 100, 8, w, 8), -EPROTO);
	assert_int_equal(rdmig_dirty_pieces_add(&p, 0, 100, 8, w, 24), -EPROTO);
	/* The count says 7 but 8 bits are set. */
	assert_int_equal(rdmig_dirty_pieces_add(&p, 0, 100, 7, w, 16), -EPROTO);
	assert_int_equal(rdmig_dirty_pieces_add(&p, 0, 100, 8, w, 16), 0);
	assert_int_equal(p.ndirty, 8);
}

static void test_bits_past_a_short_tail_do_not_count(void **state)
{
	uint64_t bitmap[1] = { 0 }, w[1] = { ~0ULL };
	struct rdmig_dirty_pieces p;

	(void)state;
	/* 10 pages: bits 10..63 of the only word are not pages. */
	rdmig_dirty_pieces_init(&p, 0, 10, bitmap);
	assert_int_equal(rdmig_dirty_pieces_add(&p, 0, 10, 64, w, 8), -EPROTO);
	rdmig_dirty_pieces_init(&p, 0, 10, bitmap);
	assert_int_equal(rdmig_dirty_pieces_add(&p, 0, 10, 10, w, 8), 0);
	assert_true(bitmap[0] == 0x3ff);
}

static void test_piece_must_start_on_a_word(void **state)
{
	uint64_t bitmap[2] = { 0 }, w[1] = { 0 };
	struct rdmig_dirty_pieces p;

	(void)state;
	rdmig_dirty_pieces_init(&p, 0, 128, bitmap);
	p.next = 32;	/* as if a piece of 32 pages had come first */
	assert_int_equal(rdmig_dirty_pieces_add(&p, 32, 64, 0, w, 8), -EPROTO);
}

/* The sparse reply: accepted only when it describes the range asked for. */
static void test_words_reply_is_checked(void **state)
{
	struct rdmig_dirty_word in[3] = { { 0, 0x3 }, { 2, 1ULL << 63 }, { 5, 0x1 } };
	struct rdmig_dirty_word out[4], bad[2];
	uint32_t n = 99;

	(void)state;
	/* 384 pages from 128: words 0..5; 4 bits; done. */
	assert_int_equal(rdmig_dirty_words_parse(128, 384, 128, 384, 4, 512, in,
						 sizeof(in), out, 4, &n), 0);
	assert_int_equal(n, 3);
	assert_true(out[1].index == 2 && out[1].bits == 1ULL << 63);
	/* An empty reply that stops early is fine (the walk was cut). */
	assert_int_equal(rdmig_dirty_words_parse(0, 640, 0, 640, 0, 64, in, 0,
						 out, 4, &n), 0);
	assert_int_equal(n, 0);
	/* Another range, a wrong count, too many words, a torn word. */
	assert_int_equal(rdmig_dirty_words_parse(128, 384, 0, 384, 4, 512, in,
						 sizeof(in), out, 4, &n), -EPROTO);
	assert_int_equal(rdmig_dirty_words_parse(128, 384, 128, 384, 5, 512, in,
						 sizeof(in), out, 4, &n), -EPROTO);
	assert_int_equal(rdmig_dirty_words_parse(128, 384, 128, 384, 4, 512, in,
						 sizeof(in), out, 2, &n), -EPROTO);
	assert_int_equal(rdmig_dirty_words_parse(128, 384, 128, 384, 4, 512, in,
						 sizeof(in) - 8, out, 4, &n), -EPROTO);
	/* next: inside the range, on a word boundary unless it is the end. */
	assert_int_equal(rdmig_dirty_words_parse(128, 384, 128, 384, 4, 128, in,
						 sizeof(in), out, 4, &n), -EPROTO);
	assert_int_equal(rdmig_dirty_words_parse(128, 384, 128, 384, 4, 513, in,
						 sizeof(in), out, 4, &n), -EPROTO);
	assert_int_equal(rdmig_dirty_words_parse(128, 384, 128, 384, 4, 500, in,
						 sizeof(in), out, 4, &n), -EPROTO);
	/* A word at or past next: the walk did not get there. */
	assert_int_equal(rdmig_dirty_words_parse(128, 384, 128, 384, 4, 448, in,
						 sizeof(in), out, 4, &n), -EPROTO);
	/* Zero words, indexes out of order or repeated. */
	bad[0] = (struct rdmig_dirty_word){ 1, 0 };
	assert_int_equal(rdmig_dirty_words_parse(0, 128, 0, 128, 0, 128, bad,
						 16, out, 4, &n), -EPROTO);
	bad[0] = (struct rdmig_dirty_word){ 1, 1 };
	bad[1] = (struct rdmig_dirty_word){ 1, 2 };
	assert_int_equal(rdmig_dirty_words_parse(0, 128, 0, 128, 2, 128, bad,
						 32, out, 4, &n), -EPROTO);
	/* Bits past a short tail: 100 pages, word 1 holds pages 64..99. */
	bad[0] = (struct rdmig_dirty_word){ 1, 1ULL << 36 };
	assert_int_equal(rdmig_dirty_words_parse(0, 100, 0, 100, 1, 100, bad,
						 16, out, 4, &n), -EPROTO);
	bad[0] = (struct rdmig_dirty_word){ 1, 1ULL << 35 };
	assert_int_equal(rdmig_dirty_words_parse(0, 100, 0, 100, 1, 100, bad,
						 16, out, 4, &n), 0);
}

static void test_libnl_errors_map_to_errno(void **state)
{
	(void)state;
	assert_int_equal(rdmig_nl_err_to_errno(0), 0);
	assert_int_equal(rdmig_nl_err_to_errno(-NLE_DUMP_INTR), -EINTR);
	assert_int_equal(rdmig_nl_err_to_errno(-NLE_NOMEM), -ENOMEM);
	assert_int_equal(rdmig_nl_err_to_errno(-NLE_MSG_OVERFLOW), -ENOBUFS);
	assert_int_equal(rdmig_nl_err_to_errno(-NLE_SEQ_MISMATCH), -EPROTO);
	assert_int_equal(rdmig_nl_err_to_errno(-NLE_OBJ_NOTFOUND), -ENOENT);
	assert_int_equal(rdmig_nl_err_to_errno(-NLE_FAILURE), -EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pieces_in_order_fill_the_bitmap),
		cmocka_unit_test(test_gap_overlap_and_overrun_are_refused),
		cmocka_unit_test(test_length_and_count_must_match),
		cmocka_unit_test(test_bits_past_a_short_tail_do_not_count),
		cmocka_unit_test(test_piece_must_start_on_a_word),
		cmocka_unit_test(test_words_reply_is_checked),
		cmocka_unit_test(test_libnl_errors_map_to_errno),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
