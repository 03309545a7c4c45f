// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Chunk numbering, the registration state machine and the pin LRU. The
 * LRU is an intrusive doubly linked list over arrays indexed by global
 * chunk, so every operation is O(1) and nothing allocates after init.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chunks.h"

int chunk_layout_init(struct chunk_layout *l, uint32_t nblocks,
		      const uint64_t *lengths, uint64_t chunk_size)
{
	uint64_t total = 0;
	uint32_t b;

	memset(l, 0, sizeof(*l));
	if (!nblocks || !chunk_size || (chunk_size & (chunk_size - 1)))
		return -EINVAL;
	l->lengths = calloc(nblocks, sizeof(*l->lengths));
	l->first = calloc(nblocks, sizeof(*l->first));
	if (!l->lengths || !l->first) {
		chunk_layout_free(l);
		return -ENOMEM;
	}
	for (b = 0; b < nblocks; b++) {
		if (!lengths[b]) {
			chunk_layout_free(l);
			return -EINVAL;
		}
		l->lengths[b] = lengths[b];
		l->first[b] = (uint32_t)total;
		total += (lengths[b] + chunk_size - 1) / chunk_size;
		if (total >= CHUNK_NIL) {
			chunk_layout_free(l);
			return -EOVERFLOW;
		}
	}
	l->nblocks = nblocks;
	l->chunk_size = chunk_size;
	l->total = (uint32_t)total;
	return 0;
}

void chunk_layout_free(struct chunk_layout *l)
{
	free(l->lengths);
	free(l->first);
	memset(l, 0, sizeof(*l));
}

uint32_t chunk_gidx(const struct chunk_layout *l, uint32_t block,
		    uint32_t chunk)
{
	return l->first[block] + chunk;
}

uint32_t chunk_block_of(const struct chunk_layout *l, uint32_t g,
			uint32_t *chunk)
{
	uint32_t lo = 0, hi = l->nblocks - 1;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;

		if (l->first[mid] <= g)
			lo = mid;
		else
			hi = mid - 1;
	}
	*chunk = g - l->first[lo];
	return lo;
}

uint64_t chunk_offset(const struct chunk_layout *l, uint32_t g)
{
	uint32_t c;

	chunk_block_of(l, g, &c);
	return (uint64_t)c * l->chunk_size;
}

uint64_t chunk_bytes(const struct chunk_layout *l, uint32_t g)
{
	uint32_t c, b = chunk_block_of(l, g, &c);
	uint64_t off = (uint64_t)c * l->chunk_size;
	uint64_t left = l->lengths[b] - off;

	return left < l->chunk_size ? left : l->chunk_size;
}

int chunk_lru_init(struct chunk_lru *l, uint32_t n, uint64_t budget)
{
	memset(l, 0, sizeof(*l));
	l->prev = malloc(sizeof(*l->prev) * (n ? n : 1));
	l->next = malloc(sizeof(*l->next) * (n ? n : 1));
	l->bytes = calloc(n ? n : 1, sizeof(*l->bytes));
	if (!l->prev || !l->next || !l->bytes) {
		chunk_lru_free(l);
		return -ENOMEM;
	}
	l->n = n;
	l->head = l->tail = CHUNK_NIL;
	l->budget = budget;
	return 0;
}

void chunk_lru_free(struct chunk_lru *l)
{
	free(l->prev);
	free(l->next);
	free(l->bytes);
	memset(l, 0, sizeof(*l));
}

bool chunk_lru_has(const struct chunk_lru *l, uint32_t i)
{
	return i < l->n && l->bytes[i] != 0;
}

static void lru_link_tail(struct chunk_lru *l, uint32_t i)
{
	l->prev[i] = l->tail;
	l->next[i] = CHUNK_NIL;
	if (l->tail != CHUNK_NIL)
		l->next[l->tail] = i;
	else
		l->head = i;
	l->tail = i;
}

static void lru_unlink(struct chunk_lru *l, uint32_t i)
{
	if (l->prev[i] != CHUNK_NIL)
		l->next[l->prev[i]] = l->next[i];
	else
		l->head = l->next[i];
	if (l->next[i] != CHUNK_NIL)
		l->prev[l->next[i]] = l->prev[i];
	else
		l->tail = l->prev[i];
}

void chunk_lru_add(struct chunk_lru *l, uint32_t i, uint64_t bytes)
{
	if (i >= l->n || l->bytes[i] || !bytes)
		return;
	l->bytes[i] = bytes;
	l->pinned += bytes;
	if (l->pinned > l->peak)
		l->peak = l->pinned;
	lru_link_tail(l, i);
}

void chunk_lru_touch(struct chunk_lru *l, uint32_t i)
{
	if (!chunk_lru_has(l, i) || l->tail == i)
		return;
	lru_unlink(l, i);
	lru_link_tail(l, i);
}

void chunk_lru_del(struct chunk_lru *l, uint32_t i)
{
	if (!chunk_lru_has(l, i))
		return;
	lru_unlink(l, i);
	l->pinned -= l->bytes[i];
	l->bytes[i] = 0;
}

bool chunk_lru_fits(const struct chunk_lru *l, uint64_t bytes)
{
	return !l->budget || (l->pinned <= l->budget &&
			      bytes <= l->budget - l->pinned);
}

uint32_t chunk_lru_victim(const struct chunk_lru *l,
			  bool (*busy)(uint32_t i, void *arg), void *arg)
{
	uint32_t i;

	for (i = l->head; i != CHUNK_NIL; i = l->next[i])
		if (!busy || !busy(i, arg))
			return i;
	return CHUNK_NIL;
}

int chunk_map_init(struct chunk_map *m, uint32_t n)
{
	memset(m, 0, sizeof(*m));
	m->state = calloc(n ? n : 1, 1);
	m->written = calloc(n ? n : 1, 1);
	m->rkey = calloc(n ? n : 1, sizeof(*m->rkey));
	m->addr = calloc(n ? n : 1, sizeof(*m->addr));
	if (!m->state || !m->written || !m->rkey || !m->addr) {
		chunk_map_free(m);
		return -ENOMEM;
	}
	m->n = n;
	return 0;
}

void chunk_map_free(struct chunk_map *m)
{
	free(m->state);
	free(m->written);
	free(m->rkey);
	free(m->addr);
	memset(m, 0, sizeof(*m));
}

int chunk_request(struct chunk_map *m, uint32_t i)
{
	if (i >= m->n || (m->state[i] != CHUNK_UNSENT &&
			  m->state[i] != CHUNK_SENT_UNPINNED))
		return -1;
	m->state[i] = CHUNK_NO_RKEY;
	return 0;
}

int chunk_result(struct chunk_map *m, uint32_t i, uint32_t rkey,
		 uint64_t addr)
{
	if (i >= m->n || m->state[i] != CHUNK_NO_RKEY)
		return -1;
	m->state[i] = CHUNK_RKEY;
	m->rkey[i] = rkey;
	m->addr[i] = addr;
	return 0;
}

int chunk_mark_written(struct chunk_map *m, uint32_t i)
{
	if (i >= m->n || m->state[i] != CHUNK_RKEY)
		return -1;
	m->written[i] = 1;
	return 0;
}

int chunk_unpin(struct chunk_map *m, uint32_t i)
{
	if (i >= m->n || m->state[i] != CHUNK_RKEY)
		return -1;
	m->state[i] = m->written[i] ? CHUNK_SENT_UNPINNED : CHUNK_UNSENT;
	m->rkey[i] = 0;
	m->addr[i] = 0;
	return 0;
}

const char *chunk_state_name(enum chunk_state s)
{
	switch (s) {
	case CHUNK_UNSENT: return "unpinned-unsent";
	case CHUNK_NO_RKEY: return "pinned-no-rkey";
	case CHUNK_RKEY: return "pinned-rkey";
	case CHUNK_SENT_UNPINNED: return "sent-unpinned";
	}
	return "?";
}
