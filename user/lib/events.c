// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * librdmig, events: a socket of its own joined to the "events" multicast
 * group, so that events and replies to requests never interleave.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include <rdmig/librdmig.h>

#include "nl-internal.h"

#include "util.h"

struct rdmig_nl_events {
	struct nl_sock *sk;
	struct nl_cb *cb;
	int family;
	/* Filled by the callback while one datagram is processed. */
	struct rdmig_nl_event *out;
	bool got;
};

static struct nla_policy event_policy[RDMIG_A_MAX + 1] = {
	[RDMIG_A_REGION_ID]		= { .type = NLA_U32 },
	[RDMIG_A_REGION_NAME]		= { .type = NLA_STRING,
					    .maxlen = RDMIG_NAME_LEN },
	[RDMIG_A_REGION_LENGTH]		= { .type = NLA_U64 },
	[RDMIG_A_REGION_WATERMARK]	= { .type = NLA_U64 },
	[RDMIG_A_DIRTY_PAGES]		= { .type = NLA_U64 },
};

/* Events are unsolicited: no sequence number to match. */
static int any_seq(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

static int on_event(struct nl_msg *msg, void *arg)
{
	struct rdmig_nl_events *ev = arg;
	struct nlmsghdr *hdr = nlmsg_hdr(msg);
	struct genlmsghdr *gh = nlmsg_data(hdr);
	struct nlattr *tb[RDMIG_A_MAX + 1];
	struct rdmig_nl_event *e = ev->out;

	/* One event per call; a second one in the datagram waits. */
	if (ev->got || hdr->nlmsg_type != ev->family)
		return NL_SKIP;
	if (genlmsg_parse(hdr, 0, tb, RDMIG_A_MAX, event_policy) < 0 ||
	    !tb[RDMIG_A_REGION_ID])
		return NL_SKIP;
	switch (gh->cmd) {
	case RDMIG_CMD_REGION_NEW_NTF:
	case RDMIG_CMD_REGION_DEL_NTF:
	case RDMIG_CMD_DIRTY_WATERMARK_NTF:
		break;
	default:
		return NL_SKIP;	/* a newer module's event */
	}
	memset(e, 0, sizeof(*e));
	e->type = (enum rdmig_nl_event_type)gh->cmd;
	e->region_id = nla_get_u32(tb[RDMIG_A_REGION_ID]);
	if (tb[RDMIG_A_REGION_NAME])
		snprintf(e->name, sizeof(e->name), "%s",
			 nla_get_string(tb[RDMIG_A_REGION_NAME]));
	if (tb[RDMIG_A_REGION_LENGTH])
		e->length = nla_get_u64(tb[RDMIG_A_REGION_LENGTH]);
	if (tb[RDMIG_A_DIRTY_PAGES])
		e->dirty_pages = nla_get_u64(tb[RDMIG_A_DIRTY_PAGES]);
	ev->got = true;
	return NL_OK;
}

static void set_callbacks(struct rdmig_nl_events *ev)
{
	nl_cb_set(ev->cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, any_seq, NULL);
	nl_cb_set(ev->cb, NL_CB_VALID, NL_CB_CUSTOM, on_event, ev);
}

struct rdmig_nl_events *librdmig_nl_events_wrap(struct nl_sock *sk, int family)
{
	struct rdmig_nl_events *ev = calloc(1, sizeof(*ev));
	struct nl_cb *sk_cb = nl_socket_get_cb(sk);

	/* The socket's callbacks, with a receive its owner may have overridden. */
	if (ev && sk_cb)
		ev->cb = nl_cb_clone(sk_cb);
	nl_cb_put(sk_cb);
	if (!ev || !ev->cb) {
		free(ev);
		return NULL;
	}
	ev->sk = sk;
	ev->family = family;
	set_callbacks(ev);
	return ev;
}

int rdmig_nl_events_open(struct rdmig_nl_events **out)
{
	struct rdmig_nl_events *ev;
	int err, grp;

	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	ev->sk = nl_socket_alloc();
	ev->cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!ev->sk || !ev->cb) {
		err = -ENOMEM;
		goto err_free;
	}
	err = genl_connect(ev->sk);
	if (err < 0)
		goto err_nl;
	ev->family = genl_ctrl_resolve(ev->sk, RDMIG_GENL_NAME);
	if (ev->family < 0) {
		err = ev->family;
		goto err_nl;
	}
	grp = genl_ctrl_resolve_grp(ev->sk, RDMIG_GENL_NAME,
				    RDMIG_GENL_MCGRP_EVENTS);
	if (grp < 0) {
		err = grp;
		goto err_nl;
	}
	err = nl_socket_add_membership(ev->sk, grp);
	if (err < 0)
		goto err_nl;
	err = nl_socket_set_nonblocking(ev->sk);
	if (err < 0)
		goto err_nl;
	set_callbacks(ev);
	*out = ev;
	return 0;

err_nl:
	err = err == -NLE_OBJ_NOTFOUND ? -ENOENT : rdmig_nl_err_to_errno(err);
err_free:
	nl_cb_put(ev->cb);
	nl_socket_free(ev->sk);
	free(ev);
	return err;
}

void rdmig_nl_events_close(struct rdmig_nl_events *ev)
{
	if (!ev)
		return;
	nl_cb_put(ev->cb);
	nl_socket_free(ev->sk);
	free(ev);
}

int rdmig_nl_events_fd(const struct rdmig_nl_events *ev)
{
	return nl_socket_get_fd(ev->sk);
}

static int64_t now_ms(void)
{
	return (int64_t)(rdmig_now_ns() / 1000000);
}

int rdmig_nl_events_recv(struct rdmig_nl_events *ev, struct rdmig_nl_event *e,
			 int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = nl_socket_get_fd(ev->sk), .events = POLLIN };

	for (;;) {
		int wait = -1, n, err;

		if (deadline >= 0) {
			int64_t left = deadline - now_ms();

			wait = left > 0 ? (int)left : 0;
		}
		n = poll(&pfd, 1, wait);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return 0;
		err = librdmig_nl_events_read(ev, e);
		if (err)
			return err;
	}
}

int librdmig_nl_events_read(struct rdmig_nl_events *ev, struct rdmig_nl_event *e)
{
	int err;

	ev->out = e;
	ev->got = false;
	err = nl_recvmsgs(ev->sk, ev->cb);
	if (ev->got)
		return 1;
	/* Lost events (-ENOBUFS) are the caller's cue to resync. */
	if (err < 0 && err != -NLE_AGAIN)
		return rdmig_nl_err_to_errno(err);
	return 0;
}
