// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Assembling a dirty bitmap from the pieces of a DIRTY_GET reply. With
 * CLEAR the kernel has already forgotten these pages: a piece that does
 * not fit the request is a protocol error reported as such, never
 * silently dropped or overlapped.
 */
#include <errno.h>
#include <string.h>

#include <netlink/errno.h>

#include <linux/rdmig.h>

#include "nl-internal.h"

void rdmig_dirty_pieces_init(struct rdmig_dirty_pieces *p, uint64_t first,
			     uint64_t npages, uint64_t *bitmap)
{
	p->first = first;
	p->npages = npages;
	p->next = first;
	p->ndirty = 0;
	p->bitmap = bitmap;
}

int rdmig_dirty_pieces_add(struct rdmig_dirty_pieces *p, uint64_t first,
			   uint64_t npages, uint64_t ndirty, const void *words,
			   size_t len)
{
	uint64_t nwords = npages / 64 + (npages % 64 != 0);
	uint64_t end = p->first + p->npages;
	uint64_t bits = 0, off;

	if (first != p->next || npages == 0 || npages > end - first)
		return -EPROTO;
	off = (first - p->first) / 64;
	if ((first - p->first) % 64 || len != nwords * 8)
		return -EPROTO;
	/* Attribute data is only 4-byte aligned: copy before counting. */
	memcpy(p->bitmap + off, words, len);
	if (npages % 64)
		p->bitmap[off + nwords - 1] &= (UINT64_C(1) << (npages % 64)) - 1;
	for (uint64_t i = 0; i < nwords; i++)
		bits += (uint64_t)__builtin_popcountll(p->bitmap[off + i]);
	if (bits != ndirty)
		return -EPROTO;
	p->next = first + npages;
	p->ndirty += ndirty;
	return 0;
}

int rdmig_dirty_pieces_complete(const struct rdmig_dirty_pieces *p)
{
	return p->next == p->first + p->npages ? 0 : -EPROTO;
}

int rdmig_dirty_words_parse(uint64_t first, uint64_t npages,
			    uint64_t rfirst, uint64_t rnpages, uint64_t ndirty,
			    uint64_t next, const void *data, size_t len,
			    struct rdmig_dirty_word *out, uint32_t max,
			    uint32_t *nwords)
{
	uint64_t end = first + npages, bits = 0, n, i;
	const size_t wsz = sizeof(struct rdmig_dirty_word);

	if (rfirst != first || rnpages != npages || len % wsz)
		return -EPROTO;
	n = len / wsz;
	if (n > max || next <= first || next > end ||
	    (next != end && (next - first) % 64))
		return -EPROTO;
	/* Attribute data is only 4-byte aligned: copy before reading. */
	memcpy(out, data, len);
	for (i = 0; i < n; i++) {
		uint64_t page = first + out[i].index * 64;

		if (!out[i].bits || out[i].index > (next - first - 1) / 64 ||
		    (i && out[i].index <= out[i - 1].index))
			return -EPROTO;
		if (end - page < 64 &&
		    out[i].bits >> (end - page) != 0)
			return -EPROTO;
		bits += (uint64_t)__builtin_popcountll(out[i].bits);
	}
	if (bits != ndirty)
		return -EPROTO;
	*nwords = (uint32_t)n;
	return 0;
}

int rdmig_nl_err_to_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case 0:
		return 0;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_INTR:
	case NLE_DUMP_INTR:
		return -EINTR;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_MSGSIZE:
		return -EMSGSIZE;
	case NLE_MSG_OVERFLOW:
		return -ENOBUFS;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_BAD_SOCK:
		return -EBADF;
	case NLE_MSG_TRUNC:
	case NLE_MSG_TOOSHORT:
	case NLE_SEQ_MISMATCH:
	case NLE_PARSE_ERR:
	case NLE_MSGTYPE_NOSUPPORT:
		return -EPROTO;
	default:
		return -EIO;
	}
}
