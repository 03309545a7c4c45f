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

/* ---- ioctl dispatch, shared with the region fds --------------------------- */

/*
 * As iommufd: unknown numbers, including those of API version 1 (which
 * encoded the struct size), are -ENOTTY; a size below the struct's first
 * version is -EINVAL; copy_struct_from_user() zero-extends a shorter
 * struct and refuses a longer one whose unknown tail is not zero (-E2BIG).
 */
long rdmig_ioctl_dispatch(const struct rdmig_ioctl_op *ops, unsigned int nops,
			  struct file *file, unsigned int cmd,
			  unsigned long arg, void *buf)
{
	struct rdmig_ucmd ucmd = {
		.file = file,
		.ubuf = (void __user *)arg,
		.cmd = buf,
	};
	const struct rdmig_ioctl_op *op = NULL;
	unsigned int i;
	int err;

	/* A handful of entries: a linear search is as fast as an index. */
	for (i = 0; i < nops && !op; i++)
		if (ops[i].ioctl_num == cmd)
			op = &ops[i];
	if (!op)
		return -ENOTTY;
	if (get_user(ucmd.user_size, (u32 __user *)ucmd.ubuf))
		return -EFAULT;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;
	err = copy_struct_from_user(buf, op->size, ucmd.ubuf, ucmd.user_size);
	if (err)
		return err;
	return op->execute(&ucmd);
}

/* Writes back what the caller has room for; size stays as it gave it. */
int rdmig_ucmd_respond(struct rdmig_ucmd *ucmd, size_t len)
{
	if (copy_to_user(ucmd->ubuf, ucmd->cmd,
			 min_t(size_t, ucmd->user_size, len)))
		return -EFAULT;
	return 0;
}

/* ---- /dev/rdmig ----------------------------------------------------------- */

static long rdmig_get_version(struct rdmig_ucmd *ucmd)
{
	struct rdmig_version *v = ucmd->cmd;

	v->api_version = RDMIG_API_VERSION;
	strscpy(v->module_version, RDMIG_MODULE_VERSION,
		sizeof(v->module_version));
	return rdmig_ucmd_respond(ucmd, sizeof(*v));
}

static long rdmig_create_region(struct rdmig_ucmd *ucmd)
{
	struct rdmig_create_region *req = ucmd->cmd;
	struct rdmig_region *r;
	struct file *file;
	int err, fd;

	if (req->out_region_id || req->out_fd)
		return -EINVAL;	/* out fields double as reserved on input */

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	err = rdmig_region_create(req, &file);
	if (err) {
		put_unused_fd(fd);
		return err;
	}
	r = rdmig_region_of(file_inode(file));
	req->out_region_id = r->id;
	req->out_fd = fd;
	err = rdmig_ucmd_respond(ucmd, sizeof(*req));
	if (err) {
		put_unused_fd(fd);
		fput(file);
		return err;
	}
	fd_install(fd, file);
	rdmig_region_announce(r);
	return fd;
}

union rdmig_dev_ucmd_buffer {
	struct rdmig_version version;
	struct rdmig_create_region create;
};

#define RDMIG_DEV_OP(_ioctl, _fn, _struct, _last)			\
	RDMIG_IOCTL_OP(union rdmig_dev_ucmd_buffer, _ioctl, _fn, _struct, _last)

static const struct rdmig_ioctl_op rdmig_dev_ioctl_ops[] = {
	RDMIG_DEV_OP(RDMIG_GET_VERSION, rdmig_get_version,
		     struct rdmig_version, module_version),
	RDMIG_DEV_OP(RDMIG_CREATE_REGION, rdmig_create_region,
		     struct rdmig_create_region, out_fd),
};

static long rdmig_dev_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	union rdmig_dev_ucmd_buffer buf;

	return rdmig_ioctl_dispatch(rdmig_dev_ioctl_ops,
				    ARRAY_SIZE(rdmig_dev_ioctl_ops), file, cmd,
				    arg, &buf);
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
