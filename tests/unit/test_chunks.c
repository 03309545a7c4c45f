// SPDX-License-Identifier: GPL-2.0
/* Chunk numbering, the registration state machine and the pin LRU. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../user/rdmigd/chunks.h"

static void test_layout(void **st)
{
	uint64_t lens[3] = { 3 << 20, 4096, (2 << 20) + 8192 };
	struct chunk_layout l;
	uint32_t c;

	(void)st;
	assert_int_equal(chunk_layout_init(&l, 3, lens, 1 << 20), 0);
	assert_int_equal(l.total, 3 + 1 + 3);
	assert_int_equal(chunk_gidx(&l, 2, 1), 5);
	assert_int_equal(chunk_block_of(&l, 3, &c), 1);
	assert_int_equal(c, 0);
	assert_int_equal(chunk_block_of(&l, 6, &c), 2);
	assert_int_equal(c, 2);
	assert_int_equal(chunk_bytes(&l, 6), 8192);
	assert_int_equal(chunk_bytes(&l, 3), 4096);
	assert_int_equal(chunk_offset(&l, 5), 1 << 20);
	chunk_layout_free(&l);
	assert_int_equal(chunk_layout_init(&l, 1, lens, 3 << 20), -22);
	lens[0] = 0;
	assert_int_equal(chunk_layout_init(&l, 1, lens, 1 << 20), -22);
}

static void test_state_machine(void **st)
{
	struct chunk_map m;

	(void)st;
	assert_int_equal(chunk_map_init(&m, 4), 0);
	/* results only for what was requested */
	assert_int_equal(chunk_result(&m, 0, 1, 2), -1);
	assert_int_equal(chunk_request(&m, 0), 0);
	assert_int_equal(m.state[0], CHUNK_NO_RKEY);
	assert_int_equal(chunk_request(&m, 0), -1);	/* twice */
	assert_int_equal(chunk_mark_written(&m, 0), -1);	/* no rkey yet */
	assert_int_equal(chunk_result(&m, 0, 77, 0x1000), 0);
	assert_int_equal(chunk_result(&m, 0, 78, 0x1000), -1);	/* duplicate */
	assert_int_equal(m.rkey[0], 77);
	assert_int_equal(chunk_mark_written(&m, 0), 0);
	assert_int_equal(chunk_unpin(&m, 0), 0);
	assert_int_equal(m.state[0], CHUNK_SENT_UNPINNED);
	assert_int_equal(chunk_unpin(&m, 0), -1);
	/* a later round needs it again */
	assert_int_equal(chunk_request(&m, 0), 0);
	/* unpinned without a write: back to unsent */
	assert_int_equal(chunk_request(&m, 1), 0);
	assert_int_equal(chunk_result(&m, 1, 5, 6), 0);
	assert_int_equal(chunk_unpin(&m, 1), 0);
	assert_int_equal(m.state[1], CHUNK_UNSENT);
	/* out of range */
	assert_int_equal(chunk_request(&m, 4), -1);
	assert_int_equal(chunk_result(&m, 99, 1, 1), -1);
	assert_string_equal(chunk_state_name(CHUNK_RKEY), "pinned-rkey");
	chunk_map_free(&m);
}

static bool odd_busy(uint32_t i, void *arg)
{
	(void)arg;
	return i & 1;
}

static void test_lru_budget(void **st)
{
	struct chunk_lru l;

	(void)st;
	assert_int_equal(chunk_lru_init(&l, 8, 3000), 0);
	assert_true(chunk_lru_fits(&l, 3000));
	assert_false(chunk_lru_fits(&l, 3001));
	chunk_lru_add(&l, 0, 1000);
	chunk_lru_add(&l, 1, 1000);
	chunk_lru_add(&l, 2, 1000);
	assert_int_equal(l.pinned, 3000);
	assert_false(chunk_lru_fits(&l, 1));
	assert_int_equal(chunk_lru_victim(&l, NULL, NULL), 0);
	chunk_lru_touch(&l, 0);			/* 0 becomes most recent */
	assert_int_equal(chunk_lru_victim(&l, NULL, NULL), 1);
	assert_int_equal(chunk_lru_victim(&l, odd_busy, NULL), 2);
	chunk_lru_del(&l, 1);
	assert_int_equal(l.pinned, 2000);
	assert_true(chunk_lru_fits(&l, 1000));
	chunk_lru_add(&l, 2, 1000);		/* already in: ignored */
	assert_int_equal(l.pinned, 2000);
	chunk_lru_del(&l, 2);
	chunk_lru_del(&l, 0);
	assert_int_equal(l.pinned, 0);
	assert_int_equal(chunk_lru_victim(&l, NULL, NULL), CHUNK_NIL);
	assert_int_equal(l.peak, 3000);
	chunk_lru_del(&l, 7);			/* not in: no-op */
	chunk_lru_add(&l, 8, 1);		/* out of range: ignored */
	assert_int_equal(l.pinned, 0);
	chunk_lru_free(&l);
	/* budget 0 is unlimited */
	assert_int_equal(chunk_lru_init(&l, 2, 0), 0);
	assert_true(chunk_lru_fits(&l, UINT64_MAX));
	chunk_lru_free(&l);
}

static void test_lru_order_long(void **st)
{
	struct chunk_lru l;
	uint32_t i;

	(void)st;
	assert_int_equal(chunk_lru_init(&l, 100, 0), 0);
	for (i = 0; i < 100; i++)
		chunk_lru_add(&l, i, 1);
	for (i = 0; i < 100; i += 2)
		chunk_lru_touch(&l, i);
	/* odd ones first in order, then even */
	for (i = 0; i < 100; i++) {
		uint32_t v = chunk_lru_victim(&l, NULL, NULL);

		assert_int_equal(v, i < 50 ? 2 * i + 1 : 2 * (i - 50));
		chunk_lru_del(&l, v);
	}
	chunk_lru_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_state_machine),
		cmocka_unit_test(test_lru_budget),
		cmocka_unit_test(test_lru_order_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
