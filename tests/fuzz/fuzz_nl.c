// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness: librdmig's netlink reply parsers (user/lib/nl.c,
 * events.c, pieces.c), fed through libnl's own receive path. A libnl
 * socket that is never connected gets a send that only notes the
 * request's sequence number and a receive that returns the input's
 * datagrams (nl_cb_overwrite_send/recv); librdmig_nl_wrap() and
 * librdmig_nl_events_wrap() put librdmig's handles on it. The input is
 * a sequence of calls:
 *
 *   byte  call (VERSION_GET, REGION_GET, REGION_GET dump, REGION_SET,
 *         DIRTY_GET with its page count, as a bitmap or, with bit 6 of
 *         the byte, as the sparse words reply, ZERO_SCAN, STATS_GET, an
 *         event)
 *   then the datagrams its reply reads: be16 length (0 = the input ends
 *   the reply), a flag byte (bit 0: give each message the sequence
 *   number libnl expects), the bytes.
 *
 * Checked beyond the sanitizers (the bitmap is exactly as large as the
 * range asked for, so any overrun is caught): a dirty count never
 * exceeds the pages asked for and no bit beyond them is set; a words
 * reply accepted has increasing in-range indexes, no zero word, a count
 * equal to its bits and a next page inside the range; strings come back
 * terminated.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include <rdmig/librdmig.h>

#include "../../user/lib/nl-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz_nl: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

#define FAMILY	0x1f	/* the genl family id the replies are for */

static struct {
	const uint8_t *p;
	size_t n;
	uint32_t seq;		/* of the last request sent */
	unsigned int reads;
} in;

static int fake_send(struct nl_sock *sk, struct nl_msg *msg)
{
	(void)sk;
	in.seq = nlmsg_hdr(msg)->nlmsg_seq;
	return (int)nlmsg_hdr(msg)->nlmsg_len;
}

static int fake_recv(struct nl_sock *sk, struct sockaddr_nl *nla, unsigned char **buf,
		     struct ucred **creds)
{
	size_t len, off;
	uint8_t flags;

	(void)sk;
	if (creds)
		*creds = NULL;
	/* A reply never ends by itself: bound the reads of one call. */
	if (in.n < 3 || ++in.reads > 64)
		return -NLE_AGAIN;
	len = (size_t)in.p[0] << 8 | in.p[1];
	flags = in.p[2];
	in.p += 3;
	in.n -= 3;
	if (len > in.n)
		len = in.n;
	if (!len)
		return -NLE_AGAIN;
	*buf = malloc(len);
	if (!*buf)
		return -NLE_NOMEM;
	memcpy(*buf, in.p, len);
	in.p += len;
	in.n -= len;
	if (flags & 1) {
		/* The sequence number libnl checks, in every message. */
		for (off = 0; off + sizeof(struct nlmsghdr) <= len;) {
			struct nlmsghdr h;

			memcpy(&h, *buf + off, sizeof(h));
			h.nlmsg_seq = in.seq;
			memcpy(*buf + off, &h, sizeof(h));
			if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len - off)
				break;
			off += NLMSG_ALIGN(h.nlmsg_len);
		}
	}
	memset(nla, 0, sizeof(*nla));
	nla->nl_family = AF_NETLINK;
	return (int)len;
}

static struct nl_sock *fake_sock(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cb *cb;

	if (!sk)
		return NULL;
	cb = nl_socket_get_cb(sk);
	nl_cb_overwrite_send(cb, fake_send);
	nl_cb_overwrite_recv(cb, fake_recv);
	nl_cb_put(cb);
	return sk;
}

static int dump_cb(const struct rdmig_nl_region *r, void *arg)
{
	CHECK(memchr(r->name, '\0', sizeof(r->name)));
	return ++*(int *)arg > 100 ? -E2BIG : 0;
}

static uint8_t next(void)
{
	uint8_t v = 0;

	if (in.n) {
		v = in.p[0];
		in.p++;
		in.n--;
	}
	return v;
}

static void one_call(struct rdmig_nl *nl, struct rdmig_nl_events *ev)
{
	uint8_t op = next();
	int rc;

	in.reads = 0;
	switch (op % 8) {
	case 0: {
		uint32_t api;
		char mod[16];

		rc = rdmig_nl_version(nl, &api, mod, sizeof(mod));
		if (!rc)
			CHECK(memchr(mod, '\0', sizeof(mod)));
		break;
	}
	case 1: {
		struct rdmig_nl_region r;

		if (!rdmig_nl_region_get(nl, op, &r))
			CHECK(memchr(r.name, '\0', sizeof(r.name)));
		break;
	}
	case 2: {
		int n = 0;

		rdmig_nl_region_dump(nl, dump_cb, &n);
		break;
	}
	case 3:
		rdmig_nl_region_set(nl, 1, op & 8 ? 1 : -1, op & 16 ? 4096 : -1);
		break;
	case 4: {
		/* Small and dump-sized ranges, the bitmap exactly that large. */
		uint64_t npages = 1 + ((uint64_t)next() << 8 | next()) * ((op & 8) ? 97 : 1);
		uint64_t first = (op & 16) ? 64 * next() : 0, words = (npages + 63) / 64, i;
		uint64_t *bm = calloc(words, 8);
		int64_t n;

		if (!bm)
			return;
		if (op & 64) {
			static struct rdmig_dirty_word w[RDMIG_NL_DIRTY_WORDS_MAX];
			uint64_t nextp = 0, bits = 0;
			uint32_t nw = 0;

			free(bm);
			n = rdmig_nl_dirty_get_words(nl, 1, first, npages, op & 32,
						     w, RDMIG_NL_DIRTY_WORDS_MAX,
						     &nw, &nextp);
			if (n < 0)
				break;
			CHECK((uint64_t)n <= npages && nw <= RDMIG_NL_DIRTY_WORDS_MAX);
			CHECK(nextp > first && nextp <= first + npages);
			for (i = 0; i < nw; i++) {
				CHECK(w[i].bits && w[i].index < words);
				CHECK(!i || w[i].index > w[i - 1].index);
				CHECK(first + 64 * w[i].index < nextp);
				bits += (uint64_t)__builtin_popcountll(w[i].bits);
			}
			if (nw && npages % 64 && w[nw - 1].index == words - 1)
				CHECK(!(w[nw - 1].bits >> (npages % 64)));
			CHECK(bits == (uint64_t)n);
			break;
		}
		n = rdmig_nl_dirty_get(nl, 1, first, npages, op & 32, bm);
		if (n >= 0) {
			uint64_t bits = 0;

			if ((uint64_t)n > npages)
				fprintf(stderr, "fuzz_nl: dirty_get returned %lld for %llu pages\n", (long long)n, (unsigned long long)npages);
			CHECK((uint64_t)n <= npages);
			for (i = 0; i < words; i++)
				bits += (uint64_t)__builtin_popcountll(bm[i]);
			CHECK(bits == (uint64_t)n);
			if (npages % 64)
				CHECK(!(bm[words - 1] >> (npages % 64)));
		}
		free(bm);
		break;
	}
	case 5: {
		uint64_t zero, reclaimed;

		rdmig_nl_zero_scan(nl, 1, 0, 1 + next(), op & 8, &zero, &reclaimed);
		break;
	}
	case 6: {
		struct rdmig_nl_stats s;

		rdmig_nl_stats_get(nl, 1, &s);
		break;
	}
	case 7: {
		struct rdmig_nl_event e;

		rc = librdmig_nl_events_read(ev, &e);
		if (rc == 1) {
			CHECK(memchr(e.name, '\0', sizeof(e.name)));
			CHECK(e.type == RDMIG_EV_REGION_NEW || e.type == RDMIG_EV_REGION_DEL ||
			      e.type == RDMIG_EV_DIRTY_WATERMARK);
		}
		break;
	}
	}
	/* The extended ACK's text, if any, is a terminated string. */
	CHECK(strlen(rdmig_nl_errmsg(nl)) < 256);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nl_sock *sk = fake_sock(), *esk = fake_sock();
	struct rdmig_nl_events *ev = NULL;
	struct rdmig_nl *nl = NULL;
	int calls = 0;

	if (sk)
		nl = librdmig_nl_wrap(sk, FAMILY);
	if (esk)
		ev = librdmig_nl_events_wrap(esk, FAMILY);
	if (!nl || !ev) {
		if (nl)
			rdmig_nl_close(nl);
		else
			nl_socket_free(sk);
		if (ev)
			rdmig_nl_events_close(ev);
		else
			nl_socket_free(esk);
		return 0;
	}
	in.p = data;
	in.n = size;
	while (in.n && calls++ < 16)
		one_call(nl, ev);
	rdmig_nl_close(nl);
	rdmig_nl_events_close(ev);
	return 0;
}
