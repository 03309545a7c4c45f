/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _RDMIG_H
#define _RDMIG_H

#include <uapi/linux/rdmig.h>

#define RDMIG_MODULE_VERSION "0.1.0"

int rdmig_chardev_init(void);
void rdmig_chardev_exit(void);

int rdmig_netlink_init(void);
void rdmig_netlink_exit(void);

#endif /* _RDMIG_H */
