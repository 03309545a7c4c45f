/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _RDMIG_H
#define _RDMIG_H

#include <uapi/linux/rdmig.h>

#define RDMIG_MODULE_VERSION "0.1.0"

struct file;

/*
 * One ioctl call, as iommufd has it: the number carries no size, the
 * argument starts with the caller's __u32 size, and @cmd holds the
 * kernel's copy of the struct (the caller's bytes, zero-extended).
 */
struct rdmig_ucmd {
	struct file *file;
	void __user *ubuf;
	u32 user_size;
	void *cmd;
};

struct rdmig_ioctl_op {
	unsigned int size;		/* sizeof the kernel's struct */
	unsigned int min_size;		/* its first version's size */
	unsigned int ioctl_num;
	long (*execute)(struct rdmig_ucmd *ucmd);
};

/*
 * A table entry; @last is the last member of the struct's first version.
 * @buf is the union every struct of the table fits in (checked at build
 * time).
 */
#define RDMIG_IOCTL_OP(_buf, _ioctl, _fn, _struct, _last)		\
	{								\
		.size = sizeof(_struct) +				\
			BUILD_BUG_ON_ZERO(sizeof(_struct) > sizeof(_buf)), \
		.min_size = offsetofend(_struct, _last),		\
		.ioctl_num = _ioctl,					\
		.execute = _fn,						\
	}

long rdmig_ioctl_dispatch(const struct rdmig_ioctl_op *ops, unsigned int nops,
			  struct file *file, unsigned int cmd,
			  unsigned long arg, void *buf);
int rdmig_ucmd_respond(struct rdmig_ucmd *ucmd, size_t len);

int rdmig_chardev_init(void);
void rdmig_chardev_exit(void);

int rdmig_netlink_init(void);
void rdmig_netlink_exit(void);

#endif /* _RDMIG_H */
