// SPDX-License-Identifier: GPL-2.0
/*
 * rdmig: guest-memory regions for live migration over RDMA.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/miscdevice.h>
#include <linux/module.h>
#include <net/genetlink.h>

#include "rdmig.h"
#include "region_priv.h"

static int __init rdmig_init(void)
{
	int err;

	err = rdmig_netlink_init();
	if (err)
		return err;
	err = rdmig_chardev_init();
	if (err)
		goto err_netlink;
	pr_info("version %s loaded\n", RDMIG_MODULE_VERSION);
	return 0;

err_netlink:
	rdmig_netlink_exit();
	return err;
}

static void __exit rdmig_exit(void)
{
	rdmig_chardev_exit();
	/*
	 * Nothing of the region filesystem is left: each region's superblock
	 * holds the module (region_fs.c), so exit runs only once the last
	 * region is evicted and its mount gone.
	 */
	rdmig_netlink_exit();
}

module_init(rdmig_init);
module_exit(rdmig_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Guest-memory regions with dirty, zero and pin tracking for RDMA live migration");
MODULE_VERSION(RDMIG_MODULE_VERSION);
MODULE_ALIAS_GENL_FAMILY(RDMIG_GENL_NAME);
