/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * librdmig internals shared by nl.c and events.c, and the pure helpers
 * the host unit tests exercise (tests/unit/test_nlpieces.c).
 */
#ifndef RDMIG_NL_INTERNAL_H
#define RDMIG_NL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

struct nl_msg;
struct nl_sock;

/*
 * Where the next piece of a dirty bitmap must start, and what arrived:
 * pieces of a DIRTY_GET reply come in order, contiguous, inside the range
 * asked for, each with DIV_ROUND_UP(npages, 64) words and a count that
 * matches its bits.
 */
struct rdmig_dirty_pieces {
	uint64_t first;		/* range asked for */
	uint64_t npages;
	uint64_t next;		/* first page of the next piece */
	uint64_t ndirty;	/* sum of the pieces' counts */
	uint64_t *bitmap;	/* DIV_ROUND_UP(npages, 64) words */
};

void rdmig_dirty_pieces_init(struct rdmig_dirty_pieces *p, uint64_t first,
			     uint64_t npages, uint64_t *bitmap);
/* Places one piece; -EPROTO if it breaks any of the rules above. */
int rdmig_dirty_pieces_add(struct rdmig_dirty_pieces *p, uint64_t first,
			   uint64_t npages, uint64_t ndirty, const void *words,
			   size_t len);
/* 0 when every page of the range arrived, -EPROTO otherwise. */
int rdmig_dirty_pieces_complete(const struct rdmig_dirty_pieces *p);

/*
 * Checks and copies the words reply of a DIRTY_GET with RDMIG_DIRTY_F_WORDS
 * for the range [first, first + npages) asked for: the reply's own range
 * must be that one, @len a whole number of words and at most @max, indexes
 * strictly increasing and inside [first, next), no zero word, the bits
 * past the range's end clear, @ndirty their count, @next a word boundary
 * in (first, first + npages] or the end. 0 with *nwords set, or -EPROTO.
 */
struct rdmig_dirty_word;
int rdmig_dirty_words_parse(uint64_t first, uint64_t npages,
			    uint64_t rfirst, uint64_t rnpages, uint64_t ndirty,
			    uint64_t next, const void *data, size_t len,
			    struct rdmig_dirty_word *out, uint32_t max,
			    uint32_t *nwords);

/* A negative libnl error (-NLE_*) as a negative errno. */
int rdmig_nl_err_to_errno(int nlerr);

/* NETLINK_EXT_ACK and NETLINK_CAP_ACK on a libnl socket. */
int rdmig_nl_sock_setup(struct nl_sock *sk);

/*
 * Handles on a socket the caller set up and owns the family id of: the
 * replies and events then arrive through whatever receive the socket's
 * callbacks name (tests/fuzz overrides it with nl_cb_overwrite_recv()).
 * Closed with rdmig_nl_close() / rdmig_nl_events_close(), which free the
 * socket. Not exported (librdmig.map exports rdmig_* only).
 */
struct rdmig_nl;
struct rdmig_nl_events;
struct rdmig_nl_event;
struct rdmig_nl *librdmig_nl_wrap(struct nl_sock *sk, int family);
struct rdmig_nl_events *librdmig_nl_events_wrap(struct nl_sock *sk, int family);
/*
 * One read of an events socket: 1 with @e filled, 0 when what arrived
 * held no event (or nothing was there), or a negative errno.
 */
int librdmig_nl_events_read(struct rdmig_nl_events *ev, struct rdmig_nl_event *e);

#endif /* RDMIG_NL_INTERNAL_H */
