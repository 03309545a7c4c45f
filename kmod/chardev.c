// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/rdmig: the VMM's entry point.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "rdmig.h"
#include "region_priv.h"

static long rdmig_get_version(void __user *uarg)
{
	struct rdmig_version v = {};
	u32 usize;
	int err;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < sizeof(v))
		return -EINVAL;
	err = copy_struct_from_user(&v, sizeof(v), uarg, usize);
	if (err)
		return err;
	v.size = sizeof(v);
	v.api_version = RDMIG_API_VERSION;
	strscpy(v.module_version, RDMIG_MODULE_VERSION, sizeof(v.module_version));
	if (copy_to_user(uarg, &v, sizeof(v)))
		return -EFAULT;
	return 0;
}

static long rdmig_create_region(void __user *uarg)
{
	struct rdmig_create_region req;
	struct rdmig_region *r;
	struct file *file;
	u32 usize;
	int err, fd;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < sizeof(req))
		return -EINVAL;
	err = copy_struct_from_user(&req, sizeof(req), uarg, usize);
	if (err)
		return err;
	if (req.out_region_id || req.out_fd)
		return -EINVAL;	/* out fields double as reserved on input */

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	err = rdmig_region_create(&req, &file);
	if (err) {
		put_unused_fd(fd);
		return err;
	}
	r = rdmig_region_of(file_inode(file));
	req.size = sizeof(req);
	req.out_region_id = r->id;
	req.out_fd = fd;
	if (copy_to_user(uarg, &req, sizeof(req))) {
		put_unused_fd(fd);
		fput(file);
		return -EFAULT;
	}
	fd_install(fd, file);
	rdmig_region_announce(r);
	return fd;
}

static long rdmig_dev_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case RDMIG_GET_VERSION:
		return rdmig_get_version(uarg);
	case RDMIG_CREATE_REGION:
		return rdmig_create_region(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations rdmig_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = rdmig_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice rdmig_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = RDMIG_DEVICE_NAME,
	.fops = &rdmig_dev_fops,
	.mode = 0660,
};

int rdmig_chardev_init(void)
{
	return misc_register(&rdmig_miscdev);
}

void rdmig_chardev_exit(void)
{
	misc_deregister(&rdmig_miscdev);
}
