/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Chunk bookkeeping, pure and host-testable:
 *  - chunk numbering across blocks (a global index per chunk);
 *  - the review's per-chunk state machine for the destination's
 *    registrations as the source sees them:
 *        UNSENT --REG_REQ--> NO_RKEY --REG_RES--> RKEY --UNREG--> SENT_UNPINNED
 *    (SENT_UNPINNED --REG_REQ--> NO_RKEY again when a later round needs it);
 *  - an LRU of pinned chunks under a byte budget (one per side).
 */
#ifndef RDMIGD_CHUNKS_H
#define RDMIGD_CHUNKS_H

#include <stdbool.h>
#include <stdint.h>

#define CHUNK_NIL UINT32_MAX

struct chunk_layout {
	uint32_t nblocks;
	uint64_t chunk_size;
	uint64_t *lengths;	/* per block, bytes */
	uint32_t *first;	/* per block, global index of its chunk 0 */
	uint32_t total;		/* chunks in all blocks */
};

/* Returns 0 or -EINVAL/-ENOMEM/-EOVERFLOW. Copies @lengths. */
int chunk_layout_init(struct chunk_layout *l, uint32_t nblocks,
		      const uint64_t *lengths, uint64_t chunk_size);
void chunk_layout_free(struct chunk_layout *l);
uint32_t chunk_gidx(const struct chunk_layout *l, uint32_t block,
		    uint32_t chunk);
/* Block of a global index (binary search); sets *chunk. */
uint32_t chunk_block_of(const struct chunk_layout *l, uint32_t g,
			uint32_t *chunk);
/* Byte offset in its block and length of a chunk (the last may be short). */
uint64_t chunk_offset(const struct chunk_layout *l, uint32_t g);
uint64_t chunk_bytes(const struct chunk_layout *l, uint32_t g);

/* LRU of pinned chunks with a budget in bytes (0 = unlimited). */
struct chunk_lru {
	uint32_t n;
	uint32_t head, tail;	/* head = least recently used */
	uint32_t *prev, *next;
	uint64_t *bytes;	/* 0 when not in the list */
	uint64_t pinned;
	uint64_t budget;
	uint64_t peak;
};

int chunk_lru_init(struct chunk_lru *l, uint32_t n, uint64_t budget);
void chunk_lru_free(struct chunk_lru *l);
bool chunk_lru_has(const struct chunk_lru *l, uint32_t i);
/* Adds @i as most recently used; it must not be in the list. */
void chunk_lru_add(struct chunk_lru *l, uint32_t i, uint64_t bytes);
void chunk_lru_touch(struct chunk_lru *l, uint32_t i);
void chunk_lru_del(struct chunk_lru *l, uint32_t i);
/* Whether @bytes more fit in the budget. */
bool chunk_lru_fits(const struct chunk_lru *l, uint64_t bytes);
/*
 * The least recently used chunk for which @busy returns false, or
 * CHUNK_NIL. @busy may be NULL.
 */
uint32_t chunk_lru_victim(const struct chunk_lru *l,
			  bool (*busy)(uint32_t i, void *arg), void *arg);

enum chunk_state {
	CHUNK_UNSENT = 0,	/* unpinned, not sent */
	CHUNK_NO_RKEY,		/* registration requested, no rkey yet */
	CHUNK_RKEY,		/* pinned, rkey known: writable */
	CHUNK_SENT_UNPINNED,	/* written, then unregistered */
};

struct chunk_map {
	uint32_t n;
	uint8_t *state;
	uint8_t *written;	/* written at least once while pinned */
	uint32_t *rkey;
	uint64_t *addr;
};

int chunk_map_init(struct chunk_map *m, uint32_t n);
void chunk_map_free(struct chunk_map *m);
/* Transitions; each returns -1 (and changes nothing) when not allowed. */
int chunk_request(struct chunk_map *m, uint32_t i);
int chunk_result(struct chunk_map *m, uint32_t i, uint32_t rkey,
		 uint64_t addr);
int chunk_mark_written(struct chunk_map *m, uint32_t i);
int chunk_unpin(struct chunk_map *m, uint32_t i);
const char *chunk_state_name(enum chunk_state s);

#endif
