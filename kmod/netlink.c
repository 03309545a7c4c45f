// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "rdmig": the agent's and operator's channel.
 */
#include <linux/module.h>
#include <net/genetlink.h>

#include "rdmig.h"
#include "region.h"

static struct genl_family rdmig_genl_family;

static int rdmig_nl_version_get(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
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

static const struct nla_policy rdmig_nl_policy[RDMIG_A_MAX + 1] = {
};

static const struct genl_small_ops rdmig_nl_ops[] = {
	{
		.cmd = RDMIG_CMD_VERSION_GET,
		.validate = GENL_DONT_VALIDATE_DUMP,
		.doit = rdmig_nl_version_get,
	},
};

static const struct genl_multicast_group rdmig_nl_mcgrps[] = {
	{ .name = RDMIG_GENL_MCGRP_EVENTS, },
};

static struct genl_family rdmig_genl_family __ro_after_init = {
	.name = RDMIG_GENL_NAME,
	.version = RDMIG_GENL_VERSION,
	.maxattr = RDMIG_A_MAX,
	.policy = rdmig_nl_policy,
	.netnsok = true,
	.module = THIS_MODULE,
	.small_ops = rdmig_nl_ops,
	.n_small_ops = ARRAY_SIZE(rdmig_nl_ops),
	.resv_start_op = RDMIG_CMD_MAX + 1,
	.mcgrps = rdmig_nl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(rdmig_nl_mcgrps),
};

enum { RDMIG_NL_MCGRP_EVENTS };

/* A minimal event: the region's id and, for a watermark, its dirty count. */
static void rdmig_nl_notify(struct rdmig_region *r, u8 cmd, u64 dirty,
			    gfp_t gfp)
{
	struct rdmig_region_snapshot s;
	struct sk_buff *msg;
	void *hdr;

	if (!genl_has_listeners(&rdmig_genl_family, &init_net,
				RDMIG_NL_MCGRP_EVENTS))
		return;
	rdmig_region_snapshot(r, &s);
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, gfp);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &rdmig_genl_family, 0, cmd);
	if (!hdr)
		goto err_free;
	if (nla_put_u32(msg, RDMIG_A_REGION_ID, s.id) ||
	    nla_put_string(msg, RDMIG_A_REGION_NAME, s.name) ||
	    nla_put_u64_64bit(msg, RDMIG_A_REGION_LENGTH, s.length,
			      RDMIG_A_PAD) ||
	    (cmd == RDMIG_CMD_DIRTY_WATERMARK_NTF &&
	     nla_put_u64_64bit(msg, RDMIG_A_DIRTY_PAGES, dirty, RDMIG_A_PAD)))
		goto err_free;
	genlmsg_end(msg, hdr);
	genlmsg_multicast(&rdmig_genl_family, msg, 0, RDMIG_NL_MCGRP_EVENTS,
			  gfp);
	return;

err_free:
	nlmsg_free(msg);
}

void rdmig_nl_notify_region_new(struct rdmig_region *r)
{
	rdmig_nl_notify(r, RDMIG_CMD_REGION_NEW_NTF, 0, GFP_KERNEL);
}

void rdmig_nl_notify_region_del(struct rdmig_region *r)
{
	rdmig_nl_notify(r, RDMIG_CMD_REGION_DEL_NTF, 0, GFP_KERNEL);
}

void rdmig_nl_notify_watermark(struct rdmig_region *r, u64 dirty_pages)
{
	/* From page_mkwrite with the folio locked: do not enter reclaim. */
	rdmig_nl_notify(r, RDMIG_CMD_DIRTY_WATERMARK_NTF, dirty_pages,
			GFP_NOWAIT);
}

int __init rdmig_netlink_init(void)
{
	return genl_register_family(&rdmig_genl_family);
}

void rdmig_netlink_exit(void)
{
	genl_unregister_family(&rdmig_genl_family);
}
