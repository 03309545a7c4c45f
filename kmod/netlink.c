// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "rdmig": the agent's and operator's channel.
 * Documentation/netlink/specs/rdmig.yaml describes it.
 *
 * Every operation is the region core's (region.h); this file only parses,
 * checks authority and formats. Authority:
 *  - seeing a region (REGION_GET, STATS_GET, the region dump) needs the
 *    caller to own it, the request to come on the socket bound to it, or
 *    CAP_NET_ADMIN;
 *  - DIRTY_GET (with or without CLEAR), ZERO_SCAN and REGION_SET need the
 *    bound socket or CAP_NET_ADMIN. A plain DIRTY_GET is included because
 *    the bitmap discloses the guest's write pattern, and a zero scan
 *    without RECLAIM still write-protects pages and changes their ZERO
 *    bits; the owner has the region fd and its ioctls for both.
 * "The bound socket" is the struct sock RDMIG_BIND_NETLINK was given (by
 * fd), compared with NETLINK_CB(skb).sk, the socket a request was sent
 * on (netlink_unicast_kernel() sets it), never a port id: ports are
 * reused, the socket the region holds a reference on is not.
 *
 * Events go to the init network namespace only, and joining their group
 * needs CAP_NET_ADMIN there (GENL_MCAST_CAP_NET_ADMIN): region names,
 * sizes and dirty counts are for the host's operators.
 *
 * The family runs with parallel_ops: a get-and-clear of a large region
 * must not hold genl_mutex, which every other generic netlink family
 * needs. The region core does its own locking.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/math.h>
#include <linux/module.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "rdmig.h"
#include "region.h"

#define RDMIG_PAGES_PER_WORD	64

static struct genl_family rdmig_genl_family;

enum rdmig_nl_mcgrp {
	RDMIG_NL_MCGRP_EVENTS,
};

/* ---- authority ------------------------------------------------------- */

/* @skb is the request: NETLINK_CB(skb).sk is the socket it came on. */
static bool rdmig_nl_may_change(struct rdmig_region *r, struct sk_buff *skb)
{
	return rdmig_region_bound_to(r, NETLINK_CB(skb).sk) ||
	       netlink_capable(skb, CAP_NET_ADMIN);
}

static bool rdmig_nl_may_see(struct rdmig_region *r, struct sk_buff *skb)
{
	return rdmig_region_owned_by_current(r) ||
	       rdmig_nl_may_change(r, skb);
}

/*
 * Looks up RDMIG_A_REGION_ID of a request; the reference is the caller's.
 * Rejections carry an extack message.
 */
static struct rdmig_region *rdmig_nl_region_lookup(struct nlattr **attrs,
						   struct netlink_ext_ack *extack)
{
	struct rdmig_region *r;

	if (NL_REQ_ATTR_CHECK(extack, NULL, attrs, RDMIG_A_REGION_ID)) {
		NL_SET_ERR_MSG(extack, "region id is required");
		return ERR_PTR(-EINVAL);
	}
	r = rdmig_region_get_by_id(nla_get_u32(attrs[RDMIG_A_REGION_ID]));
	if (!r) {
		NL_SET_ERR_MSG_ATTR(extack, attrs[RDMIG_A_REGION_ID],
				    "no region with this id");
		return ERR_PTR(-ENOENT);
	}
	return r;
}

static struct rdmig_region *rdmig_nl_get_visible(struct sk_buff *skb,
						 struct genl_info *info)
{
	struct rdmig_region *r;

	r = rdmig_nl_region_lookup(info->attrs, info->extack);
	if (IS_ERR(r))
		return r;
	if (!rdmig_nl_may_see(r, skb)) {
		rdmig_region_put(r);
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[RDMIG_A_REGION_ID],
				    "region belongs to another process; needs CAP_NET_ADMIN or a bound port");
		return ERR_PTR(-EPERM);
	}
	return r;
}

static struct rdmig_region *rdmig_nl_get_changeable(struct sk_buff *skb,
						    struct nlattr **attrs,
						    struct netlink_ext_ack *extack)
{
	struct rdmig_region *r;

	r = rdmig_nl_region_lookup(attrs, extack);
	if (IS_ERR(r))
		return r;
	if (!rdmig_nl_may_change(r, skb)) {
		rdmig_region_put(r);
		NL_SET_ERR_MSG_ATTR(extack, attrs[RDMIG_A_REGION_ID],
				    "netlink port not bound to this region (RDMIG_BIND_NETLINK) and no CAP_NET_ADMIN");
		return ERR_PTR(-EPERM);
	}
	return r;
}

/* ---- message building ------------------------------------------------ */

static size_t rdmig_nl_region_size(void)
{
	return nla_total_size(sizeof(u32)) +		/* REGION_ID */
	       nla_total_size(RDMIG_NAME_LEN) +		/* REGION_NAME */
	       nla_total_size_64bit(sizeof(u64)) +	/* REGION_LENGTH */
	       nla_total_size(sizeof(u32)) +		/* REGION_OWNER_PID */
	       nla_total_size(sizeof(u8)) +		/* REGION_TRACKING */
	       nla_total_size_64bit(sizeof(u64)) +	/* REGION_WATERMARK */
	       nla_total_size(sizeof(u32)) +		/* REGION_BOUND_PORTID */
	       4 * nla_total_size_64bit(sizeof(u64));	/* *_PAGES */
}

static int rdmig_nl_put_region(struct sk_buff *msg,
			       const struct rdmig_region_snapshot *s)
{
	if (nla_put_u32(msg, RDMIG_A_REGION_ID, s->id) ||
	    nla_put_string(msg, RDMIG_A_REGION_NAME, s->name) ||
	    nla_put_u64_64bit(msg, RDMIG_A_REGION_LENGTH, s->length,
			      RDMIG_A_PAD) ||
	    nla_put_u32(msg, RDMIG_A_REGION_OWNER_PID, s->owner_vnr) ||
	    nla_put_u8(msg, RDMIG_A_REGION_TRACKING, s->tracking) ||
	    nla_put_u64_64bit(msg, RDMIG_A_REGION_WATERMARK, s->watermark,
			      RDMIG_A_PAD) ||
	    nla_put_u32(msg, RDMIG_A_REGION_BOUND_PORTID,
			s->bound ? s->bound_portid : 0) ||
	    nla_put_u64_64bit(msg, RDMIG_A_PRESENT_PAGES, s->present_pages,
			      RDMIG_A_PAD) ||
	    nla_put_u64_64bit(msg, RDMIG_A_WRITTEN_PAGES, s->written_pages,
			      RDMIG_A_PAD) ||
	    nla_put_u64_64bit(msg, RDMIG_A_DIRTY_PAGES, s->dirty_pages,
			      RDMIG_A_PAD) ||
	    nla_put_u64_64bit(msg, RDMIG_A_PINNED_PAGES, s->pinned_pages,
			      RDMIG_A_PAD))
		return -EMSGSIZE;
	return 0;
}

/* ---- VERSION_GET ----------------------------------------------------- */

static int rdmig_nl_version_get(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(nla_total_size(sizeof(u32)) +
			  nla_total_size(sizeof(RDMIG_MODULE_VERSION)),
			  GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &rdmig_genl_family, 0,
				RDMIG_CMD_VERSION_GET);
	if (!hdr)
		goto err_free;
	if (nla_put_u32(msg, RDMIG_A_API_VERSION, RDMIG_API_VERSION) ||
	    nla_put_string(msg, RDMIG_A_MODULE_VERSION, RDMIG_MODULE_VERSION))
		goto err_free;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/* ---- REGION_GET ------------------------------------------------------ */

/*
 * REGION_GET and STATS_GET answer the same way: snapshot a region the
 * caller may see, then put it with @put into a reply of @size bytes.
 */
static int rdmig_nl_reply_snapshot(struct sk_buff *skb, struct genl_info *info,
				   u8 cmd, size_t size,
				   int (*put)(struct sk_buff *msg,
					      const struct rdmig_region_snapshot *s))
{
	struct rdmig_region_snapshot s;
	struct rdmig_region *r;
	struct sk_buff *msg;
	void *hdr;
	int err;

	r = rdmig_nl_get_visible(skb, info);
	if (IS_ERR(r))
		return PTR_ERR(r);
	rdmig_region_snapshot(r, &s);
	rdmig_region_put(r);

	msg = genlmsg_new(size, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &rdmig_genl_family, 0, cmd);
	err = -EMSGSIZE;
	if (!hdr)
		goto err_free;
	err = put(msg, &s);
	if (err)
		goto err_free;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return err;
}

static int rdmig_nl_region_get_doit(struct sk_buff *skb,
				    struct genl_info *info)
{
	return rdmig_nl_reply_snapshot(skb, info, RDMIG_CMD_REGION_GET,
				       rdmig_nl_region_size(),
				       rdmig_nl_put_region);
}

struct rdmig_nl_region_dump_ctx {
	u32 next_id;
	bool done;
};

static int rdmig_nl_region_get_dumpit(struct sk_buff *skb,
				      struct netlink_callback *cb)
{
	struct rdmig_nl_region_dump_ctx *ctx = (void *)cb->ctx;
	u32 portid = NETLINK_CB(cb->skb).portid;
	struct rdmig_region_snapshot s;
	struct rdmig_region *r;
	unsigned int gen;
	void *hdr;
	int err;

	BUILD_BUG_ON(sizeof(*ctx) > sizeof(cb->ctx));

	/*
	 * The generation is shifted and tagged so that it is never 0: a zero
	 * cb->prev_seq means "no previous part" to nl_dump_check_consistent.
	 */
	gen = rdmig_regions_generation();
	cb->seq = (gen << 1) | 1;

	while (!ctx->done) {
		r = rdmig_region_next(&ctx->next_id);
		if (!r) {
			ctx->done = true;
			break;
		}
		if (!rdmig_nl_may_see(r, cb->skb)) {
			rdmig_region_put(r);
			goto next;
		}
		rdmig_region_snapshot(r, &s);
		rdmig_region_put(r);

		hdr = genlmsg_put(skb, portid, cb->nlh->nlmsg_seq,
				  &rdmig_genl_family, NLM_F_MULTI,
				  RDMIG_CMD_REGION_GET);
		if (!hdr)
			break;
		genl_dump_check_consistent(cb, hdr);
		err = rdmig_nl_put_region(skb, &s);
		if (err) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
next:
		if (ctx->next_id == U32_MAX)
			ctx->done = true;
		else
			ctx->next_id++;
	}
	/* An empty part that is not the last means one region cannot fit. */
	if (!ctx->done && !skb->len)
		return -EMSGSIZE;
	return skb->len;
}

/* ---- REGION_SET ------------------------------------------------------ */

static int rdmig_nl_region_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	struct rdmig_region *r;
	u32 flags = 0, tracking = 0;
	u64 watermark = 0;
	int err;

	if (attrs[RDMIG_A_REGION_TRACKING]) {
		flags |= RDMIG_SET_TRACKING;
		tracking = nla_get_u8(attrs[RDMIG_A_REGION_TRACKING]);
	}
	if (attrs[RDMIG_A_REGION_WATERMARK]) {
		flags |= RDMIG_SET_WATERMARK;
		watermark = nla_get_u64(attrs[RDMIG_A_REGION_WATERMARK]);
	}
	r = rdmig_nl_get_changeable(skb, attrs, info->extack);
	if (IS_ERR(r))
		return PTR_ERR(r);
	if (!flags) {
		rdmig_region_put(r);
		NL_SET_ERR_MSG(info->extack,
			       "nothing to set: give tracking and/or watermark");
		return -EINVAL;
	}
	err = rdmig_region_set(r, flags, tracking, watermark);
	rdmig_region_put(r);
	if (err)
		NL_SET_ERR_MSG(info->extack, "region core refused the setting");
	return err;
}

/* ---- DIRTY_GET ------------------------------------------------------- */

/*
 * One piece of a dirty bitmap: both the count and the bitmap are reserved
 * before the core clears anything, so every page it clears is reported in
 * this message; nothing can fail between the clear and the send.
 */
static size_t rdmig_nl_dirty_overhead(void)
{
	return nla_total_size(sizeof(u32)) +		/* REGION_ID */
	       3 * nla_total_size_64bit(sizeof(u64)) +	/* FIRST, N, DIRTY */
	       nla_total_size_64bit(0);			/* BITMAP header */
}

static int rdmig_nl_put_dirty(struct sk_buff *msg, struct rdmig_region *r,
			      u32 id, u64 first, u64 npages, u32 flags,
			      u64 **bitmapp, struct netlink_ext_ack *extack)
{
	size_t words = DIV_ROUND_UP_ULL(npages, RDMIG_PAGES_PER_WORD);
	struct nlattr *count, *bitmap;
	u64 ndirty = 0;
	int err;

	if (nla_put_u32(msg, RDMIG_A_REGION_ID, id) ||
	    nla_put_u64_64bit(msg, RDMIG_A_FIRST_PAGE, first, RDMIG_A_PAD) ||
	    nla_put_u64_64bit(msg, RDMIG_A_NPAGES, npages, RDMIG_A_PAD))
		return -EMSGSIZE;
	count = nla_reserve_64bit(msg, RDMIG_A_DIRTY_PAGES, sizeof(u64),
				  RDMIG_A_PAD);
	if (!count)
		return -EMSGSIZE;
	bitmap = nla_reserve_64bit(msg, RDMIG_A_BITMAP, words * sizeof(u64),
				   RDMIG_A_PAD);
	if (!bitmap)
		return -EMSGSIZE;
	memset(nla_data(bitmap), 0, words * sizeof(u64));

	err = rdmig_region_get_dirty(r, first, npages, flags,
				     nla_data(bitmap), &ndirty);
	if (err) {
		if (err == -EINVAL)
			NL_SET_ERR_MSG(extack,
				       "bad page range (first must be a multiple of 64, npages too unless the range ends the region, within the region) or CLEAR with tracking off");
		return err;
	}
	memcpy(nla_data(count), &ndirty, sizeof(ndirty));
	if (bitmapp)
		*bitmapp = nla_data(bitmap);
	return 0;
}

static int rdmig_nl_dirty_attrs(struct nlattr **attrs,
				struct netlink_ext_ack *extack)
{
	if (NL_REQ_ATTR_CHECK(extack, NULL, attrs, RDMIG_A_FIRST_PAGE)) {
		NL_SET_ERR_MSG(extack, "first page is required");
		return -EINVAL;
	}
	if (NL_REQ_ATTR_CHECK(extack, NULL, attrs, RDMIG_A_NPAGES)) {
		NL_SET_ERR_MSG(extack, "number of pages is required");
		return -EINVAL;
	}
	return 0;
}

/*
 * DIRTY_GET with RDMIG_DIRTY_F_WORDS: the sparse reply, the non-zero
 * words of a range of any size, at most RDMIG_NL_DIRTY_WORDS_MAX of them,
 * and RDMIG_A_NEXT_PAGE where to go on. As for the bitmap, the message
 * has room for the largest answer before anything is cleared, and what
 * cannot be queued is set dirty again.
 */
static int rdmig_nl_dirty_words_doit(struct genl_info *info,
				     struct rdmig_region *r, u64 first,
				     u64 npages, u32 flags)
{
	size_t len = RDMIG_NL_DIRTY_WORDS_MAX * sizeof(struct rdmig_dirty_word);
	struct rdmig_dirty_word *words;
	struct sk_buff *msg;
	unsigned int n = 0;
	u64 next, ndirty;
	void *hdr;
	int err;

	words = kvmalloc(len, GFP_KERNEL);
	if (!words)
		return -ENOMEM;
	err = -ENOMEM;
	msg = genlmsg_new(rdmig_nl_dirty_overhead() + len +
			  nla_total_size_64bit(sizeof(u64)), GFP_KERNEL);
	if (!msg)
		goto out;
	err = -EMSGSIZE;
	hdr = genlmsg_put_reply(msg, info, &rdmig_genl_family, 0,
				RDMIG_CMD_DIRTY_GET);
	if (!hdr)
		goto err_free;
	err = rdmig_region_get_dirty_words(r, first, npages, flags, words,
					   RDMIG_NL_DIRTY_WORDS_MAX, &n,
					   &next, &ndirty);
	if (err) {
		NL_SET_ERR_MSG(info->extack,
			       "bad page range (first must be a multiple of 64, npages too unless the range ends the region, within the region) or CLEAR with tracking off");
		goto err_free;
	}
	/* The room was allocated above: these cannot fail. */
	if (nla_put_u32(msg, RDMIG_A_REGION_ID, rdmig_region_id(r)) ||
	    nla_put_u64_64bit(msg, RDMIG_A_FIRST_PAGE, first, RDMIG_A_PAD) ||
	    nla_put_u64_64bit(msg, RDMIG_A_NPAGES, npages, RDMIG_A_PAD) ||
	    nla_put_u64_64bit(msg, RDMIG_A_DIRTY_PAGES, ndirty, RDMIG_A_PAD) ||
	    nla_put_u64_64bit(msg, RDMIG_A_NEXT_PAGE, next, RDMIG_A_PAD) ||
	    nla_put_64bit(msg, RDMIG_A_DIRTY_WORDS, n * sizeof(*words), words,
			  RDMIG_A_PAD)) {
		err = -EMSGSIZE;
		goto undo;
	}
	genlmsg_end(msg, hdr);
	err = genlmsg_reply(msg, info);
	msg = NULL;		/* consumed, queued or not */
	if (!err)
		goto out;
undo:
	if (flags & RDMIG_DIRTY_F_CLEAR)
		rdmig_region_redirty(r, first, words, n);
err_free:
	nlmsg_free(msg);
out:
	kvfree(words);
	return err;
}

static int rdmig_nl_dirty_get_doit(struct sk_buff *skb,
				   struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	u64 first, npages, *bitmap, *copy = NULL;
	struct rdmig_region *r;
	struct sk_buff *msg;
	size_t words;
	u32 flags = 0;
	void *hdr;
	int err;

	err = rdmig_nl_dirty_attrs(attrs, info->extack);
	if (err)
		return err;
	first = nla_get_u64(attrs[RDMIG_A_FIRST_PAGE]);
	npages = nla_get_u64(attrs[RDMIG_A_NPAGES]);
	if (attrs[RDMIG_A_FLAGS])
		flags = nla_get_u32(attrs[RDMIG_A_FLAGS]);
	if (flags & RDMIG_DIRTY_F_WORDS) {
		r = rdmig_nl_get_changeable(skb, attrs, info->extack);
		if (IS_ERR(r))
			return PTR_ERR(r);
		err = rdmig_nl_dirty_words_doit(info, r, first, npages,
						flags & ~RDMIG_DIRTY_F_WORDS);
		rdmig_region_put(r);
		return err;
	}
	if (npages > RDMIG_NL_DIRTY_DOIT_MAX_PAGES) {
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[RDMIG_A_NPAGES],
				    "range too large for one message: ask with NLM_F_DUMP");
		return -EMSGSIZE;
	}

	r = rdmig_nl_get_changeable(skb, attrs, info->extack);
	if (IS_ERR(r))
		return PTR_ERR(r);

	words = DIV_ROUND_UP_ULL(npages, RDMIG_PAGES_PER_WORD);
	err = -ENOMEM;
	/* Allocated before anything is cleared; see below. */
	if (flags & RDMIG_DIRTY_F_CLEAR) {
		copy = kmalloc_array(words, sizeof(u64), GFP_KERNEL);
		if (!copy)
			goto out_put;
	}
	msg = genlmsg_new(rdmig_nl_dirty_overhead() + words * sizeof(u64),
			  GFP_KERNEL);
	if (!msg)
		goto out_put;
	hdr = genlmsg_put_reply(msg, info, &rdmig_genl_family, 0,
				RDMIG_CMD_DIRTY_GET);
	err = -EMSGSIZE;
	if (!hdr)
		goto err_free;
	err = rdmig_nl_put_dirty(msg, r, nla_get_u32(attrs[RDMIG_A_REGION_ID]),
				 first, npages, flags, &bitmap, info->extack);
	if (err)
		goto err_free;
	if (copy)
		memcpy(copy, bitmap, words * sizeof(u64));
	genlmsg_end(msg, hdr);
	/*
	 * The pages were cleared and write-protected before the reply is
	 * queued, as the invariant needs: the reader may look at a page as
	 * soon as the reply is in its socket, and a write after that must
	 * fault and be reported again. So what cannot be queued (the
	 * receiver's buffer is full: -EAGAIN here, ENOBUFS on its next
	 * recv()) was cleared for nothing: set those bits again. The pages
	 * stay write-protected, so a write meanwhile is not lost either; the
	 * next get-and-clear reports both.
	 */
	err = genlmsg_reply(msg, info);
	if (err && copy)
		rdmig_region_redirty_bitmap(r, first, npages, copy);
	kfree(copy);
	rdmig_region_put(r);
	return err;

err_free:
	nlmsg_free(msg);
out_put:
	kfree(copy);
	rdmig_region_put(r);
	return err;
}

struct rdmig_nl_dirty_dump_ctx {
	struct rdmig_region *r;
	u64 next;
	u64 end;
	u32 flags;
	u32 id;
};

static int rdmig_nl_dirty_dump_start(struct sk_buff *skb,
				     struct netlink_callback *cb)
{
	struct rdmig_nl_dirty_dump_ctx *ctx = (void *)cb->ctx;
	struct nlattr **attrs = genl_dumpit_info(cb)->attrs;
	struct netlink_ext_ack *extack = cb->extack;
	struct rdmig_region *r;
	u64 first, npages, last;
	int err;

	err = rdmig_nl_dirty_attrs(attrs, extack);
	if (err)
		return err;
	first = nla_get_u64(attrs[RDMIG_A_FIRST_PAGE]);
	npages = nla_get_u64(attrs[RDMIG_A_NPAGES]);

	r = rdmig_nl_get_changeable(cb->skb, attrs, extack);
	if (IS_ERR(r))
		return PTR_ERR(r);

	/*
	 * Check the whole range before the first piece is cleared, so that a
	 * bad request fails before it changes anything.
	 */
	last = rdmig_region_length(r) >> PAGE_SHIFT;
	if (first % RDMIG_PAGES_PER_WORD || first >= last ||
	    npages > last - first ||
	    (npages % RDMIG_PAGES_PER_WORD && first + npages != last)) {
		rdmig_region_put(r);
		NL_SET_ERR_MSG_ATTR(extack, attrs[RDMIG_A_NPAGES],
				    "bad page range: first must be a multiple of 64 and npages too unless the range ends the region; both within the region");
		return -EINVAL;
	}
	ctx->r = r;
	ctx->id = rdmig_region_id(r);
	ctx->next = first;
	ctx->end = first + npages;
	ctx->flags = attrs[RDMIG_A_FLAGS] ? nla_get_u32(attrs[RDMIG_A_FLAGS]) : 0;
	if (ctx->flags & RDMIG_DIRTY_F_WORDS) {
		ctx->r = NULL;
		rdmig_region_put(r);
		NL_SET_ERR_MSG_ATTR(extack, attrs[RDMIG_A_FLAGS],
				    "the words reply is for plain requests (follow next-page), not dumps");
		return -EINVAL;
	}
	return 0;
}

static int rdmig_nl_dirty_get_dumpit(struct sk_buff *skb,
				     struct netlink_callback *cb)
{
	struct rdmig_nl_dirty_dump_ctx *ctx = (void *)cb->ctx;
	size_t overhead = nlmsg_total_size(genlmsg_msg_size(rdmig_nl_dirty_overhead()));
	u64 pages;
	void *hdr;
	int err;

	BUILD_BUG_ON(sizeof(*ctx) > sizeof(cb->ctx));

	/*
	 * netlink_callback has no private pointer of ours in 6.1 before the
	 * first part (genl's own start hook sees no extack), so the range is
	 * checked on the first call, where an error still reaches the caller
	 * with its message in NLMSG_DONE.
	 */
	if (!ctx->r) {
		err = rdmig_nl_dirty_dump_start(skb, cb);
		if (err)
			return err;
	}

	/*
	 * With CLEAR, each part clears what it carries. That is safe because
	 * netlink_dump() calls us only when the receiver has room and then
	 * queues the part without a limit (__netlink_sendskb()): a part that
	 * was built is delivered. (A socket filter the receiver attached
	 * could still drop it; that is the receiver's choice.)
	 */
	while (ctx->next < ctx->end) {
		size_t room = skb_tailroom(skb);
		u64 words;

		if (room < overhead + sizeof(u64))
			break;
		words = (room - overhead) / sizeof(u64);
		pages = min_t(u64, ctx->end - ctx->next,
			      words * RDMIG_PAGES_PER_WORD);

		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &rdmig_genl_family,
				  NLM_F_MULTI, RDMIG_CMD_DIRTY_GET);
		if (!hdr)
			break;
		err = rdmig_nl_put_dirty(skb, ctx->r, ctx->id, ctx->next,
					 pages, ctx->flags, NULL, cb->extack);
		if (err) {
			genlmsg_cancel(skb, hdr);
			/* Sized from the tailroom: running out is a bug. */
			WARN_ON_ONCE(err == -EMSGSIZE);
			return err;
		}
		genlmsg_end(skb, hdr);
		ctx->next += pages;
	}
	if (ctx->next < ctx->end && !skb->len)
		return -EMSGSIZE;
	return skb->len;
}

static int rdmig_nl_dirty_get_done(struct netlink_callback *cb)
{
	struct rdmig_nl_dirty_dump_ctx *ctx = (void *)cb->ctx;

	if (ctx->r)
		rdmig_region_put(ctx->r);
	return 0;
}

/* ---- ZERO_SCAN ------------------------------------------------------- */

static int rdmig_nl_zero_scan(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	u64 zero = 0, reclaimed = 0;
	struct rdmig_region *r;
	struct sk_buff *msg;
	u32 flags = 0;
	void *hdr;
	int err;

	err = rdmig_nl_dirty_attrs(attrs, info->extack);
	if (err)
		return err;
	if (attrs[RDMIG_A_FLAGS])
		flags = nla_get_u32(attrs[RDMIG_A_FLAGS]);
	r = rdmig_nl_get_changeable(skb, attrs, info->extack);
	if (IS_ERR(r))
		return PTR_ERR(r);

	msg = genlmsg_new(nla_total_size(sizeof(u32)) +
			  2 * nla_total_size_64bit(sizeof(u64)), GFP_KERNEL);
	if (!msg) {
		rdmig_region_put(r);
		return -ENOMEM;
	}
	err = rdmig_region_zero_scan(r, nla_get_u64(attrs[RDMIG_A_FIRST_PAGE]),
				     nla_get_u64(attrs[RDMIG_A_NPAGES]), flags,
				     &zero, &reclaimed);
	rdmig_region_put(r);
	if (err) {
		if (err == -EINVAL)
			NL_SET_ERR_MSG(info->extack,
				       "page range empty or outside the region");
		goto err_free;
	}
	hdr = genlmsg_put_reply(msg, info, &rdmig_genl_family, 0,
				RDMIG_CMD_ZERO_SCAN);
	err = -EMSGSIZE;
	if (!hdr)
		goto err_free;
	if (nla_put_u32(msg, RDMIG_A_REGION_ID,
			nla_get_u32(attrs[RDMIG_A_REGION_ID])) ||
	    nla_put_u64_64bit(msg, RDMIG_A_ZERO_PAGES, zero, RDMIG_A_PAD) ||
	    nla_put_u64_64bit(msg, RDMIG_A_RECLAIMED_PAGES, reclaimed,
			      RDMIG_A_PAD))
		goto err_free;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return err;
}

/* ---- STATS_GET ------------------------------------------------------- */

static int rdmig_nl_put_stats(struct sk_buff *msg,
			      const struct rdmig_region_snapshot *s)
{
	struct nlattr *nest;

	if (nla_put_u32(msg, RDMIG_A_REGION_ID, s->id))
		return -EMSGSIZE;
	nest = nla_nest_start(msg, RDMIG_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(msg, RDMIG_STATS_A_PRESENT_PAGES,
			      s->present_pages, RDMIG_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, RDMIG_STATS_A_WRITTEN_PAGES,
			      s->written_pages, RDMIG_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, RDMIG_STATS_A_DIRTY_PAGES,
			      s->dirty_pages, RDMIG_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, RDMIG_STATS_A_PINNED_PAGES,
			      s->pinned_pages, RDMIG_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, RDMIG_STATS_A_ZERO_PAGES,
			      s->zero_pages, RDMIG_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, RDMIG_STATS_A_WRITE_FAULTS,
			      s->write_faults, RDMIG_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, RDMIG_STATS_A_REARMS,
			      s->rearms, RDMIG_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, RDMIG_STATS_A_REARM_NS,
			      s->rearm_ns, RDMIG_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, RDMIG_STATS_A_DIRTY_GETS,
			      s->dirty_gets, RDMIG_STATS_A_PAD) ||
	    nla_put_u64_64bit(msg, RDMIG_STATS_A_ZERO_RECLAIMED,
			      s->zero_reclaimed, RDMIG_STATS_A_PAD)) {
		nla_nest_cancel(msg, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, nest);
	return 0;
}

static int rdmig_nl_stats_get(struct sk_buff *skb, struct genl_info *info)
{
	return rdmig_nl_reply_snapshot(skb, info, RDMIG_CMD_STATS_GET,
				       nla_total_size(sizeof(u32)) +
				       nla_total_size(0) +
				       10 * nla_total_size_64bit(sizeof(u64)),
				       rdmig_nl_put_stats);
}

/* ---- events ---------------------------------------------------------- */

/*
 * Regions are not per network namespace, and what events tell (names,
 * sizes, dirty counts: the guest's activity) is for the host's operators:
 * they go to the init namespace only. Joining is refused there without
 * CAP_NET_ADMIN (GENL_MCAST_CAP_NET_ADMIN on the group); a listener in
 * any other namespace, where an unprivileged user may hold CAP_NET_ADMIN
 * of its own user namespace and so may join, receives nothing.
 */
static void rdmig_nl_notify(u8 cmd, struct rdmig_region *r, u64 dirty_pages)
{
	char name[RDMIG_NAME_LEN];
	struct sk_buff *msg;
	void *hdr;

	if (!genl_has_listeners(&rdmig_genl_family, &init_net,
				RDMIG_NL_MCGRP_EVENTS))
		return;
	msg = genlmsg_new(nla_total_size(sizeof(u32)) +
			  nla_total_size(RDMIG_NAME_LEN) +
			  3 * nla_total_size_64bit(sizeof(u64)), GFP_KERNEL);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &rdmig_genl_family, 0, cmd);
	if (!hdr)
		goto err_free;
	rdmig_region_name(r, name);
	if (nla_put_u32(msg, RDMIG_A_REGION_ID, rdmig_region_id(r)) ||
	    nla_put_string(msg, RDMIG_A_REGION_NAME, name))
		goto err_free;
	switch (cmd) {
	case RDMIG_CMD_REGION_NEW_NTF:
		if (nla_put_u64_64bit(msg, RDMIG_A_REGION_LENGTH,
				      rdmig_region_length(r), RDMIG_A_PAD))
			goto err_free;
		break;
	case RDMIG_CMD_DIRTY_WATERMARK_NTF:
		if (nla_put_u64_64bit(msg, RDMIG_A_DIRTY_PAGES, dirty_pages,
				      RDMIG_A_PAD) ||
		    nla_put_u64_64bit(msg, RDMIG_A_REGION_WATERMARK,
				      rdmig_region_watermark(r), RDMIG_A_PAD))
			goto err_free;
		break;
	}
	genlmsg_end(msg, hdr);
	/* No listener (-ESRCH) or a full listener is not the region's fault. */
	genlmsg_multicast(&rdmig_genl_family, msg, 0, RDMIG_NL_MCGRP_EVENTS,
			  GFP_ATOMIC);
	return;

err_free:
	nlmsg_free(msg);
}

void rdmig_nl_notify_region_new(struct rdmig_region *r)
{
	rdmig_nl_notify(RDMIG_CMD_REGION_NEW_NTF, r, 0);
}

/* From ->evict_inode: only fixed fields are read, no page is walked. */
void rdmig_nl_notify_region_del(struct rdmig_region *r)
{
	rdmig_nl_notify(RDMIG_CMD_REGION_DEL_NTF, r, 0);
}

/*
 * Called from page_mkwrite with mmap_lock held: GFP_KERNEL allocation is
 * allowed there (faults allocate pages the same way), the multicast itself
 * never sleeps, and nothing here walks the region's pages.
 */
void rdmig_nl_notify_watermark(struct rdmig_region *r, u64 dirty_pages)
{
	rdmig_nl_notify(RDMIG_CMD_DIRTY_WATERMARK_NTF, r, dirty_pages);
}

/* ---- family ---------------------------------------------------------- */

static const struct nla_policy rdmig_nl_region_get_policy[RDMIG_A_MAX + 1] = {
	[RDMIG_A_REGION_ID]		= { .type = NLA_U32 },
};

static const struct nla_policy rdmig_nl_region_set_policy[RDMIG_A_MAX + 1] = {
	[RDMIG_A_REGION_ID]		= { .type = NLA_U32 },
	[RDMIG_A_REGION_TRACKING]	= NLA_POLICY_MAX(NLA_U8, 1),
	[RDMIG_A_REGION_WATERMARK]	= { .type = NLA_U64 },
};

static const struct nla_policy rdmig_nl_dirty_get_policy[RDMIG_A_MAX + 1] = {
	[RDMIG_A_REGION_ID]		= { .type = NLA_U32 },
	[RDMIG_A_FIRST_PAGE]		= { .type = NLA_U64 },
	[RDMIG_A_NPAGES]		= NLA_POLICY_MIN(NLA_U64, 1),
	[RDMIG_A_FLAGS]			= NLA_POLICY_MASK(NLA_U32,
							  RDMIG_DIRTY_F_ALL |
							  RDMIG_DIRTY_F_WORDS),
};

static const struct nla_policy rdmig_nl_zero_scan_policy[RDMIG_A_MAX + 1] = {
	[RDMIG_A_REGION_ID]		= { .type = NLA_U32 },
	[RDMIG_A_FIRST_PAGE]		= { .type = NLA_U64 },
	[RDMIG_A_NPAGES]		= NLA_POLICY_MIN(NLA_U64, 1),
	[RDMIG_A_FLAGS]			= NLA_POLICY_MASK(NLA_U32,
							  RDMIG_ZERO_F_ALL),
};

static const struct nla_policy rdmig_nl_stats_get_policy[RDMIG_A_MAX + 1] = {
	[RDMIG_A_REGION_ID]		= { .type = NLA_U32 },
};

/*
 * resv_start_op is 0: every command is validated strictly, reserved
 * header bits included, and a command without a policy (VERSION_GET)
 * takes no attributes at all.
 */
static const struct genl_ops rdmig_nl_ops[] = {
	{
		.cmd = RDMIG_CMD_VERSION_GET,
		.doit = rdmig_nl_version_get,
	},
	{
		.cmd = RDMIG_CMD_REGION_GET,
		.doit = rdmig_nl_region_get_doit,
		.dumpit = rdmig_nl_region_get_dumpit,
		.policy = rdmig_nl_region_get_policy,
		.maxattr = RDMIG_A_MAX,
	},
	{
		.cmd = RDMIG_CMD_REGION_SET,
		.doit = rdmig_nl_region_set,
		.policy = rdmig_nl_region_set_policy,
		.maxattr = RDMIG_A_MAX,
	},
	{
		.cmd = RDMIG_CMD_DIRTY_GET,
		.doit = rdmig_nl_dirty_get_doit,
		.dumpit = rdmig_nl_dirty_get_dumpit,
		.done = rdmig_nl_dirty_get_done,
		.policy = rdmig_nl_dirty_get_policy,
		.maxattr = RDMIG_A_MAX,
	},
	{
		.cmd = RDMIG_CMD_ZERO_SCAN,
		.doit = rdmig_nl_zero_scan,
		.policy = rdmig_nl_zero_scan_policy,
		.maxattr = RDMIG_A_MAX,
	},
	{
		.cmd = RDMIG_CMD_STATS_GET,
		.doit = rdmig_nl_stats_get,
		.policy = rdmig_nl_stats_get_policy,
		.maxattr = RDMIG_A_MAX,
	},
};

static const struct genl_multicast_group rdmig_nl_mcgrps[] = {
	[RDMIG_NL_MCGRP_EVENTS] = {
		.name = RDMIG_GENL_MCGRP_EVENTS,
		.flags = GENL_MCAST_CAP_NET_ADMIN,
	},
};

static struct genl_family rdmig_genl_family __ro_after_init = {
	.name = RDMIG_GENL_NAME,
	.version = RDMIG_GENL_VERSION,
	.netnsok = true,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = rdmig_nl_ops,
	.n_ops = ARRAY_SIZE(rdmig_nl_ops),
	.resv_start_op = 0,
	.mcgrps = rdmig_nl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(rdmig_nl_mcgrps),
};

/*
 * A bound socket that closes is unbound at once: it could not act any more
 * (it is dead), but its reference would keep it in memory until the
 * region goes.
 */
static int rdmig_nl_urelease(struct notifier_block *nb, unsigned long event,
			     void *ptr)
{
	struct netlink_notify *n = ptr;

	if (event == NETLINK_URELEASE && n->protocol == NETLINK_GENERIC &&
	    n->portid)
		rdmig_regions_unbind_released(n->net, n->portid);
	return NOTIFY_DONE;
}

static struct notifier_block rdmig_nl_notifier = {
	.notifier_call = rdmig_nl_urelease,
};

int __init rdmig_netlink_init(void)
{
	int err;

	err = netlink_register_notifier(&rdmig_nl_notifier);
	if (err)
		return err;
	err = genl_register_family(&rdmig_genl_family);
	if (err)
		netlink_unregister_notifier(&rdmig_nl_notifier);
	return err;
}

void rdmig_netlink_exit(void)
{
	genl_unregister_family(&rdmig_genl_family);
	netlink_unregister_notifier(&rdmig_nl_notifier);
}
