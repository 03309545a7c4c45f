// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * librdmig, netlink half: requests to the generic netlink family "rdmig"
 * over libnl-genl-3. One socket carries one request at a time and waits
 * for its end (ACK, NLMSG_ERROR or NLMSG_DONE), so replies never pile up
 * in the socket; the kernel relies on that for DIRTY_GET with CLEAR.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include <rdmig/librdmig.h>

#include "nl-internal.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct rdmig_nl {
	struct nl_sock *sk;
	int family;
	char errmsg[256];
};

/* What the kernel sends back, checked before any field is read. */
static struct nla_policy reply_policy[RDMIG_A_MAX + 1] = {
	[RDMIG_A_API_VERSION]		= { .type = NLA_U32 },
	[RDMIG_A_MODULE_VERSION]	= { .type = NLA_STRING },
	[RDMIG_A_REGION_ID]		= { .type = NLA_U32 },
	[RDMIG_A_REGION_NAME]		= { .type = NLA_STRING,
					    .maxlen = RDMIG_NAME_LEN },
	[RDMIG_A_REGION_LENGTH]		= { .type = NLA_U64 },
	[RDMIG_A_REGION_OWNER_PID]	= { .type = NLA_U32 },
	[RDMIG_A_REGION_TRACKING]	= { .type = NLA_U8 },
	[RDMIG_A_REGION_WATERMARK]	= { .type = NLA_U64 },
	[RDMIG_A_REGION_BOUND_PORTID]	= { .type = NLA_U32 },
	[RDMIG_A_PRESENT_PAGES]		= { .type = NLA_U64 },
	[RDMIG_A_WRITTEN_PAGES]		= { .type = NLA_U64 },
	[RDMIG_A_DIRTY_PAGES]		= { .type = NLA_U64 },
	[RDMIG_A_PINNED_PAGES]		= { .type = NLA_U64 },
	[RDMIG_A_FIRST_PAGE]		= { .type = NLA_U64 },
	[RDMIG_A_NPAGES]		= { .type = NLA_U64 },
	[RDMIG_A_FLAGS]			= { .type = NLA_U32 },
	[RDMIG_A_BITMAP]		= { .type = NLA_UNSPEC },
	[RDMIG_A_ZERO_PAGES]		= { .type = NLA_U64 },
	[RDMIG_A_RECLAIMED_PAGES]	= { .type = NLA_U64 },
	[RDMIG_A_STATS]			= { .type = NLA_NESTED },
	[RDMIG_A_DIRTY_WORDS]		= { .type = NLA_UNSPEC },
	[RDMIG_A_NEXT_PAGE]		= { .type = NLA_U64 },
};

static struct nla_policy stats_policy[RDMIG_STATS_A_MAX + 1] = {
	[RDMIG_STATS_A_PRESENT_PAGES]	= { .type = NLA_U64 },
	[RDMIG_STATS_A_WRITTEN_PAGES]	= { .type = NLA_U64 },
	[RDMIG_STATS_A_DIRTY_PAGES]	= { .type = NLA_U64 },
	[RDMIG_STATS_A_PINNED_PAGES]	= { .type = NLA_U64 },
	[RDMIG_STATS_A_ZERO_PAGES]	= { .type = NLA_U64 },
	[RDMIG_STATS_A_WRITE_FAULTS]	= { .type = NLA_U64 },
	[RDMIG_STATS_A_REARMS]		= { .type = NLA_U64 },
	[RDMIG_STATS_A_REARM_NS]	= { .type = NLA_U64 },
	[RDMIG_STATS_A_DIRTY_GETS]	= { .type = NLA_U64 },
	[RDMIG_STATS_A_ZERO_RECLAIMED]	= { .type = NLA_U64 },
};

static struct nla_policy extack_policy[NLMSGERR_ATTR_MAX + 1] = {
	[NLMSGERR_ATTR_MSG]		= { .type = NLA_STRING },
	[NLMSGERR_ATTR_OFFS]		= { .type = NLA_U32 },
	[NLMSGERR_ATTR_MISS_TYPE]	= { .type = NLA_U32 },
	[NLMSGERR_ATTR_MISS_NEST]	= { .type = NLA_U32 },
};

int rdmig_nl_sock_setup(struct nl_sock *sk)
{
	int one = 1, fd = nl_socket_get_fd(sk);

	if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one)))
		return -errno;
	return 0;
}

int rdmig_nl_open(struct rdmig_nl **out)
{
	struct rdmig_nl *nl;
	int err;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		free(nl);
		return -ENOMEM;
	}
	err = genl_connect(nl->sk);
	if (err < 0) {
		err = rdmig_nl_err_to_errno(err);
		goto err_free;
	}
	err = rdmig_nl_sock_setup(nl->sk);
	if (err)
		goto err_free;
	/*
	 * Let the kernel build dump parts up to 32 KiB (it sizes them from
	 * the largest read it has seen), so a 1 GiB bitmap takes few parts.
	 */
	err = nl_socket_set_msg_buf_size(nl->sk, 64 * 1024);
	if (err < 0) {
		err = rdmig_nl_err_to_errno(err);
		goto err_free;
	}
	nl->family = genl_ctrl_resolve(nl->sk, RDMIG_GENL_NAME);
	if (nl->family < 0) {
		/* The module is not loaded. */
		err = nl->family == -NLE_OBJ_NOTFOUND ? -ENOENT :
		      rdmig_nl_err_to_errno(nl->family);
		goto err_free;
	}
	*out = nl;
	return 0;

err_free:
	nl_socket_free(nl->sk);
	free(nl);
	return err;
}

struct rdmig_nl *librdmig_nl_wrap(struct nl_sock *sk, int family)
{
	struct rdmig_nl *nl = calloc(1, sizeof(*nl));

	if (nl) {
		nl->sk = sk;
		nl->family = family;
	}
	return nl;
}

void rdmig_nl_close(struct rdmig_nl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sk);
	free(nl);
}

uint32_t rdmig_nl_portid(const struct rdmig_nl *nl)
{
	return nl_socket_get_local_port(nl->sk);
}

int rdmig_nl_fd(const struct rdmig_nl *nl)
{
	return nl_socket_get_fd(nl->sk);
}

const char *rdmig_nl_errmsg(const struct rdmig_nl *nl)
{
	return nl->errmsg;
}

/* ---- one request ------------------------------------------------------- */

struct request {
	struct rdmig_nl *nl;
	/* Called for each reply message with its parsed attributes. */
	int (*parse)(struct nlattr **tb, void *arg);
	void *arg;
	int err;		/* kernel's errno, or a parse error */
	bool done;
	bool intr;		/* NLM_F_DUMP_INTR seen */
};

/*
 * The extended ACK attributes after @off bytes of payload of @hdr: the
 * kernel's message, or the number of a missing attribute.
 */
static void read_extack(struct rdmig_nl *nl, struct nlmsghdr *hdr, int off)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	int len;

	/* @off may come from the reply itself: nothing outside it is read. */
	if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS) || off < 0 || off > nlmsg_datalen(hdr))
		return;
	len = nlmsg_datalen(hdr) - NLMSG_ALIGN(off);
	if (len <= 0)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)nlmsg_data(hdr) + NLMSG_ALIGN(off)),
		      len, extack_policy) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(nl->errmsg, sizeof(nl->errmsg), "%s",
			 nla_get_string(tb[NLMSGERR_ATTR_MSG]));
	else if (tb[NLMSGERR_ATTR_MISS_TYPE])
		snprintf(nl->errmsg, sizeof(nl->errmsg),
			 "missing attribute %u",
			 nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]));
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct request *req = arg;
	struct nlmsghdr *hdr = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	int off = sizeof(*e);

	(void)nla;
	/* The request echoed back: its length is the reply's word, so bounded. */
	if (!(hdr->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < NLMSG_HDRLEN ||
		    e->msg.nlmsg_len > (uint32_t)nlmsg_datalen(hdr))
			off = -1;
		else
			off += (int)e->msg.nlmsg_len - NLMSG_HDRLEN;
	}
	/*
	 * The kernel sends -errno (0 is an ACK and does not come here):
	 * anything else would pass for a count (rdmig_nl_dirty_get()) or
	 * overflow a caller's -err.
	 */
	req->err = e->error < 0 && e->error > -4096 ? e->error : -EPROTO;
	read_extack(req->nl, hdr, off);
	req->done = true;
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct request *req = arg;

	(void)msg;
	req->done = true;
	return NL_STOP;
}

static int on_finish(struct nl_msg *msg, void *arg)
{
	struct request *req = arg;
	struct nlmsghdr *hdr = nlmsg_hdr(msg);
	int err;

	/* NLMSG_DONE carries the dump's final errno and its extack. */
	if (nlmsg_datalen(hdr) >= (int)sizeof(int)) {
		memcpy(&err, nlmsg_data(hdr), sizeof(err));
		if (err < 0 && !req->err) {
			req->err = err > -4096 ? err : -EPROTO;
			read_extack(req->nl, hdr, sizeof(int));
		}
	}
	req->done = true;
	return NL_STOP;
}

static int on_dump_intr(struct nl_msg *msg, void *arg)
{
	struct request *req = arg;

	(void)msg;
	req->intr = true;
	return NL_OK;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct request *req = arg;
	struct nlattr *tb[RDMIG_A_MAX + 1];
	int err;

	/* After a failure, drain the rest of a dump without looking at it. */
	if (req->err)
		return NL_SKIP;
	err = genlmsg_parse(nlmsg_hdr(msg), 0, tb, RDMIG_A_MAX, reply_policy);
	if (err < 0) {
		req->err = -EPROTO;
		snprintf(req->nl->errmsg, sizeof(req->nl->errmsg),
			 "malformed reply from the kernel");
		return NL_SKIP;
	}
	if (req->parse) {
		err = req->parse(tb, req->arg);
		if (err)
			req->err = err;
	}
	return NL_SKIP;
}

/*
 * Sends @msg (consumed) and reads until the request's end. Returns the
 * kernel's errno, a parse callback's non-zero return, or -EINTR when a
 * dump was interrupted by a concurrent change.
 */
static int request(struct rdmig_nl *nl, struct nl_msg *msg,
		   int (*parse)(struct nlattr **tb, void *arg), void *arg)
{
	struct request req = { .nl = nl, .parse = parse, .arg = arg };
	struct nl_cb *cb, *sk_cb;
	int err;

	nl->errmsg[0] = '\0';
	/*
	 * A copy of the socket's own callbacks (NL_CB_DEFAULT unless libnl's
	 * NLCB says otherwise), so that a receive the socket's owner
	 * overrode applies: tests/fuzz feeds replies that way.
	 */
	sk_cb = nl_socket_get_cb(nl->sk);
	cb = sk_cb ? nl_cb_clone(sk_cb) : NULL;
	nl_cb_put(sk_cb);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &req);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, &req);
	nl_cb_set(cb, NL_CB_DUMP_INTR, NL_CB_CUSTOM, on_dump_intr, &req);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &req);

	err = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (err < 0) {
		err = rdmig_nl_err_to_errno(err);
		goto out;
	}
	while (!req.done) {
		err = nl_recvmsgs(nl->sk, cb);
		if (err < 0 && !req.done) {
			err = rdmig_nl_err_to_errno(err);
			goto out;
		}
	}
	err = req.err;
	if (!err && req.intr)
		err = -EINTR;
out:
	nl_cb_put(cb);
	return err;
}

static struct nl_msg *new_msg(struct rdmig_nl *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, flags,
			 cmd, RDMIG_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* ---- commands ----------------------------------------------------------- */

struct version_arg {
	uint32_t api;
	char *mod;
	size_t len;
	bool seen;
};

static int parse_version(struct nlattr **tb, void *arg)
{
	struct version_arg *v = arg;

	if (!tb[RDMIG_A_API_VERSION] || !tb[RDMIG_A_MODULE_VERSION])
		return -EPROTO;
	v->api = nla_get_u32(tb[RDMIG_A_API_VERSION]);
	if (v->mod && v->len)
		snprintf(v->mod, v->len, "%s",
			 nla_get_string(tb[RDMIG_A_MODULE_VERSION]));
	v->seen = true;
	return 0;
}

int rdmig_nl_version(struct rdmig_nl *nl, uint32_t *api_version,
		     char *module_version, size_t len)
{
	struct version_arg v = { .mod = module_version, .len = len };
	struct nl_msg *msg = new_msg(nl, RDMIG_CMD_VERSION_GET, 0);
	int err;

	if (!msg)
		return -ENOMEM;
	err = request(nl, msg, parse_version, &v);
	if (!err && !v.seen)
		err = -EPROTO;
	if (!err && api_version)
		*api_version = v.api;
	return err;
}

static uint64_t get_u64(struct nlattr **tb, int type)
{
	return tb[type] ? nla_get_u64(tb[type]) : 0;
}

static int fill_region(struct nlattr **tb, struct rdmig_nl_region *r)
{
	if (!tb[RDMIG_A_REGION_ID] || !tb[RDMIG_A_REGION_LENGTH])
		return -EPROTO;
	memset(r, 0, sizeof(*r));
	r->id = nla_get_u32(tb[RDMIG_A_REGION_ID]);
	if (tb[RDMIG_A_REGION_NAME])
		snprintf(r->name, sizeof(r->name), "%s",
			 nla_get_string(tb[RDMIG_A_REGION_NAME]));
	r->length = nla_get_u64(tb[RDMIG_A_REGION_LENGTH]);
	if (tb[RDMIG_A_REGION_OWNER_PID])
		r->owner_pid = nla_get_u32(tb[RDMIG_A_REGION_OWNER_PID]);
	if (tb[RDMIG_A_REGION_TRACKING])
		r->tracking = nla_get_u8(tb[RDMIG_A_REGION_TRACKING]);
	r->watermark = get_u64(tb, RDMIG_A_REGION_WATERMARK);
	if (tb[RDMIG_A_REGION_BOUND_PORTID])
		r->bound_portid = nla_get_u32(tb[RDMIG_A_REGION_BOUND_PORTID]);
	r->present_pages = get_u64(tb, RDMIG_A_PRESENT_PAGES);
	r->written_pages = get_u64(tb, RDMIG_A_WRITTEN_PAGES);
	r->dirty_pages = get_u64(tb, RDMIG_A_DIRTY_PAGES);
	r->pinned_pages = get_u64(tb, RDMIG_A_PINNED_PAGES);
	return 0;
}

struct region_arg {
	struct rdmig_nl_region *r;
	bool seen;
};

static int parse_region(struct nlattr **tb, void *arg)
{
	struct region_arg *a = arg;
	int err = fill_region(tb, a->r);

	a->seen = !err;
	return err;
}

int rdmig_nl_region_get(struct rdmig_nl *nl, uint32_t id,
			struct rdmig_nl_region *r)
{
	struct region_arg a = { .r = r };
	struct nl_msg *msg = new_msg(nl, RDMIG_CMD_REGION_GET, 0);
	int err;

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, RDMIG_A_REGION_ID, id) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	err = request(nl, msg, parse_region, &a);
	if (!err && !a.seen)
		err = -EPROTO;
	return err;
}

struct dump_arg {
	int (*cb)(const struct rdmig_nl_region *r, void *arg);
	void *arg;
};

static int parse_dump(struct nlattr **tb, void *arg)
{
	struct dump_arg *d = arg;
	struct rdmig_nl_region r;
	int err = fill_region(tb, &r);

	return err ? err : d->cb(&r, d->arg);
}

int rdmig_nl_region_dump(struct rdmig_nl *nl,
			 int (*cb)(const struct rdmig_nl_region *r, void *arg),
			 void *arg)
{
	struct dump_arg d = { .cb = cb, .arg = arg };
	struct nl_msg *msg = new_msg(nl, RDMIG_CMD_REGION_GET, NLM_F_DUMP);

	if (!msg)
		return -ENOMEM;
	return request(nl, msg, parse_dump, &d);
}

int rdmig_nl_region_set(struct rdmig_nl *nl, uint32_t id, int tracking,
			int64_t watermark)
{
	struct nl_msg *msg;

	if (tracking < -1 || tracking > 1 || watermark < -1)
		return -EINVAL;
	msg = new_msg(nl, RDMIG_CMD_REGION_SET, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, RDMIG_A_REGION_ID, id) < 0 ||
	    (tracking >= 0 &&
	     nla_put_u8(msg, RDMIG_A_REGION_TRACKING, (uint8_t)tracking) < 0) ||
	    (watermark >= 0 &&
	     nla_put_u64(msg, RDMIG_A_REGION_WATERMARK, (uint64_t)watermark) < 0)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return request(nl, msg, NULL, NULL);
}

static int parse_dirty(struct nlattr **tb, void *arg)
{
	struct rdmig_dirty_pieces *p = arg;

	if (!tb[RDMIG_A_FIRST_PAGE] || !tb[RDMIG_A_NPAGES] ||
	    !tb[RDMIG_A_DIRTY_PAGES] || !tb[RDMIG_A_BITMAP])
		return -EPROTO;
	return rdmig_dirty_pieces_add(p, nla_get_u64(tb[RDMIG_A_FIRST_PAGE]),
				      nla_get_u64(tb[RDMIG_A_NPAGES]),
				      nla_get_u64(tb[RDMIG_A_DIRTY_PAGES]),
				      nla_data(tb[RDMIG_A_BITMAP]),
				      (size_t)nla_len(tb[RDMIG_A_BITMAP]));
}

static int put_range(struct nl_msg *msg, uint32_t id, uint64_t first,
		     uint64_t npages, uint32_t flags)
{
	if (nla_put_u32(msg, RDMIG_A_REGION_ID, id) < 0 ||
	    nla_put_u64(msg, RDMIG_A_FIRST_PAGE, first) < 0 ||
	    nla_put_u64(msg, RDMIG_A_NPAGES, npages) < 0 ||
	    nla_put_u32(msg, RDMIG_A_FLAGS, flags) < 0)
		return -EMSGSIZE;
	return 0;
}

int64_t rdmig_nl_dirty_get(struct rdmig_nl *nl, uint32_t id, uint64_t first,
			   uint64_t npages, bool clear, uint64_t *bitmap)
{
	bool dump = npages > RDMIG_NL_DIRTY_DOIT_MAX_PAGES;
	struct rdmig_dirty_pieces p;
	struct nl_msg *msg;
	int err;

	msg = new_msg(nl, RDMIG_CMD_DIRTY_GET, dump ? NLM_F_DUMP : 0);
	if (!msg)
		return -ENOMEM;
	err = put_range(msg, id, first, npages,
			clear ? RDMIG_DIRTY_F_CLEAR : 0);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	rdmig_dirty_pieces_init(&p, first, npages, bitmap);
	err = request(nl, msg, parse_dirty, &p);
	if (!err)
		err = rdmig_dirty_pieces_complete(&p);
	if (err == -EPROTO && !nl->errmsg[0])
		snprintf(nl->errmsg, sizeof(nl->errmsg),
			 "dirty bitmap pieces do not match the request");
	return err ? err : (int64_t)p.ndirty;
}

struct zero_arg {
	uint64_t zero, reclaimed;
	bool seen;
};

static int parse_zero(struct nlattr **tb, void *arg)
{
	struct zero_arg *z = arg;

	if (!tb[RDMIG_A_ZERO_PAGES] || !tb[RDMIG_A_RECLAIMED_PAGES])
		return -EPROTO;
	z->zero = nla_get_u64(tb[RDMIG_A_ZERO_PAGES]);
	z->reclaimed = nla_get_u64(tb[RDMIG_A_RECLAIMED_PAGES]);
	z->seen = true;
	return 0;
}

struct dirty_words_req {
	uint64_t first, npages, next, ndirty;
	struct rdmig_dirty_word *words;
	uint32_t max, n;
	bool got;
};

static int parse_dirty_words(struct nlattr **tb, void *arg)
{
	struct dirty_words_req *q = arg;
	int err;

	if (q->got || !tb[RDMIG_A_FIRST_PAGE] || !tb[RDMIG_A_NPAGES] ||
	    !tb[RDMIG_A_DIRTY_PAGES] || !tb[RDMIG_A_NEXT_PAGE] ||
	    !tb[RDMIG_A_DIRTY_WORDS])
		return -EPROTO;
	q->ndirty = nla_get_u64(tb[RDMIG_A_DIRTY_PAGES]);
	q->next = nla_get_u64(tb[RDMIG_A_NEXT_PAGE]);
	err = rdmig_dirty_words_parse(q->first, q->npages,
				      nla_get_u64(tb[RDMIG_A_FIRST_PAGE]),
				      nla_get_u64(tb[RDMIG_A_NPAGES]),
				      q->ndirty, q->next,
				      nla_data(tb[RDMIG_A_DIRTY_WORDS]),
				      (size_t)nla_len(tb[RDMIG_A_DIRTY_WORDS]),
				      q->words, q->max, &q->n);
	q->got = !err;
	return err;
}

int64_t rdmig_nl_dirty_get_words(struct rdmig_nl *nl, uint32_t id,
				 uint64_t first, uint64_t npages, bool clear,
				 struct rdmig_dirty_word *words,
				 uint32_t max_words, uint32_t *nwords,
				 uint64_t *next)
{
	struct dirty_words_req q = {
		.first = first, .npages = npages, .words = words,
		.max = max_words,
	};
	struct nl_msg *msg;
	int err;

	if (max_words < RDMIG_NL_DIRTY_WORDS_MAX || !npages ||
	    npages > UINT64_MAX - first)
		return -EINVAL;
	msg = new_msg(nl, RDMIG_CMD_DIRTY_GET, 0);
	if (!msg)
		return -ENOMEM;
	err = put_range(msg, id, first, npages, RDMIG_DIRTY_F_WORDS |
			(clear ? RDMIG_DIRTY_F_CLEAR : 0));
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	err = request(nl, msg, parse_dirty_words, &q);
	if (!err && !q.got)
		err = -EPROTO;
	if (err == -EPROTO && !nl->errmsg[0])
		snprintf(nl->errmsg, sizeof(nl->errmsg),
			 "dirty words reply does not match the request");
	if (err)
		return err;
	if (nwords)
		*nwords = q.n;
	if (next)
		*next = q.next;
	return (int64_t)q.ndirty;
}

int rdmig_nl_zero_scan(struct rdmig_nl *nl, uint32_t id, uint64_t first,
		       uint64_t npages, bool reclaim, uint64_t *zero,
		       uint64_t *reclaimed)
{
	struct zero_arg z = { 0 };
	struct nl_msg *msg = new_msg(nl, RDMIG_CMD_ZERO_SCAN, 0);
	int err;

	if (!msg)
		return -ENOMEM;
	err = put_range(msg, id, first, npages,
			reclaim ? RDMIG_ZERO_F_RECLAIM : 0);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	err = request(nl, msg, parse_zero, &z);
	if (!err && !z.seen)
		err = -EPROTO;
	if (err)
		return err;
	if (zero)
		*zero = z.zero;
	if (reclaimed)
		*reclaimed = z.reclaimed;
	return 0;
}

struct stats_arg {
	struct rdmig_nl_stats *s;
	bool seen;
};

static int parse_stats(struct nlattr **tb, void *arg)
{
	struct stats_arg *a = arg;
	struct nlattr *st[RDMIG_STATS_A_MAX + 1];
	struct rdmig_nl_stats *s = a->s;

	if (!tb[RDMIG_A_STATS] ||
	    nla_parse_nested(st, RDMIG_STATS_A_MAX, tb[RDMIG_A_STATS],
			     stats_policy) < 0)
		return -EPROTO;
	s->present_pages = get_u64(st, RDMIG_STATS_A_PRESENT_PAGES);
	s->written_pages = get_u64(st, RDMIG_STATS_A_WRITTEN_PAGES);
	s->dirty_pages = get_u64(st, RDMIG_STATS_A_DIRTY_PAGES);
	s->pinned_pages = get_u64(st, RDMIG_STATS_A_PINNED_PAGES);
	s->zero_pages = get_u64(st, RDMIG_STATS_A_ZERO_PAGES);
	s->write_faults = get_u64(st, RDMIG_STATS_A_WRITE_FAULTS);
	s->rearms = get_u64(st, RDMIG_STATS_A_REARMS);
	s->rearm_ns = get_u64(st, RDMIG_STATS_A_REARM_NS);
	s->dirty_gets = get_u64(st, RDMIG_STATS_A_DIRTY_GETS);
	s->zero_reclaimed = get_u64(st, RDMIG_STATS_A_ZERO_RECLAIMED);
	a->seen = true;
	return 0;
}

int rdmig_nl_stats_get(struct rdmig_nl *nl, uint32_t id,
		       struct rdmig_nl_stats *s)
{
	struct stats_arg a = { .s = s };
	struct nl_msg *msg = new_msg(nl, RDMIG_CMD_STATS_GET, 0);
	int err;

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, RDMIG_A_REGION_ID, id) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	memset(s, 0, sizeof(*s));
	err = request(nl, msg, parse_stats, &a);
	if (!err && !a.seen)
		err = -EPROTO;
	return err;
}

int rdmig_nl_family_id(const struct rdmig_nl *nl)
{
	return nl->family;
}

int rdmig_nl_request_raw(struct rdmig_nl *nl, struct nl_msg *msg)
{
	return request(nl, msg, NULL, NULL);
}
