// SPDX-License-Identifier: GPL-2.0
/*
 * The two views of a region: the guest view (the region fd, whose shared
 * mappings report the first write after each re-arm through page_mkwrite)
 * and the transfer view (same pages, no write notification, for RDMA
 * registration). Both take the region ioctls and the pagemap pread().
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/nsproxy.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <net/net_namespace.h>

#include "rdmig.h"
#include "region_priv.h"

/* ---- mappings ------------------------------------------------------------ */

static vm_fault_t rdmig_fault(struct vm_fault *vmf)
{
	struct rdmig_region *r = rdmig_region_of(file_inode(vmf->vma->vm_file));
	struct folio *folio;

	if (vmf->pgoff >= r->npages)
		return VM_FAULT_SIGBUS;
	folio = rdmig_region_get_folio(r, vmf->pgoff);
	if (IS_ERR(folio))
		return vmf_error(PTR_ERR(folio));
	if (folio_test_hwpoison(folio)) {
		folio_unlock(folio);
		folio_put(folio);
		return VM_FAULT_HWPOISON;
	}
	vmf->page = folio_file_page(folio, vmf->pgoff);
	return VM_FAULT_LOCKED;
}

/*
 * As fb_defio: set the bits with the folio locked and return it locked;
 * the fault path makes the PTE writable before unlocking it.
 */
static vm_fault_t rdmig_page_mkwrite(struct vm_fault *vmf)
{
	struct inode *inode = file_inode(vmf->vma->vm_file);
	struct folio *folio = page_folio(vmf->page);

	folio_lock(folio);
	if (folio->mapping != inode->i_mapping) {
		/* Given back by a zero scan meanwhile: fault it in again. */
		folio_unlock(folio);
		return VM_FAULT_NOPAGE;
	}
	rdmig_region_write_fault(rdmig_region_of(inode), folio->index);
	return VM_FAULT_LOCKED;
}

static const struct vm_operations_struct rdmig_guest_vm_ops = {
	.fault = rdmig_fault,
	.page_mkwrite = rdmig_page_mkwrite,
};

static const struct vm_operations_struct rdmig_transfer_vm_ops = {
	.fault = rdmig_fault,
};

static int rdmig_mmap(struct file *file, struct vm_area_struct *vma,
		      const struct vm_operations_struct *ops)
{
	struct rdmig_region *r = rdmig_region_of(file_inode(file));

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_pgoff >= r->npages ||
	    vma_pages(vma) > r->npages - vma->vm_pgoff)
		return -EINVAL;
	/* mremap() may not grow a mapping past what was checked here. */
	vma->vm_flags |= VM_DONTEXPAND;
	vma->vm_ops = ops;
	return 0;
}

static int rdmig_guest_mmap(struct file *file, struct vm_area_struct *vma)
{
	return rdmig_mmap(file, vma, &rdmig_guest_vm_ops);
}

static int rdmig_transfer_mmap(struct file *file, struct vm_area_struct *vma)
{
	return rdmig_mmap(file, vma, &rdmig_transfer_vm_ops);
}

/* ---- pagemap pread() ----------------------------------------------------- */

#define RDMIG_PM_CHUNK	512

static ssize_t rdmig_pagemap_read(struct file *file, char __user *buf,
				  size_t count, loff_t *ppos)
{
	struct rdmig_region *r = rdmig_region_of(file_inode(file));
	u64 first, n, i, done = 0;
	u64 *ents;

	if (*ppos < 0 || *ppos % 8 || count % 8)
		return -EINVAL;
	first = *ppos / 8;
	if (first >= r->npages || !count)
		return 0;
	n = min_t(u64, count / 8, r->npages - first);
	ents = kmalloc_array(RDMIG_PM_CHUNK, sizeof(*ents), GFP_KERNEL);
	if (!ents)
		return -ENOMEM;
	while (done < n) {
		u64 k = min_t(u64, n - done, RDMIG_PM_CHUNK);

		for (i = 0; i < k; i++)
			ents[i] = rdmig_region_pagemap_entry(r, first + done + i);
		if (copy_to_user(buf + done * 8, ents, k * 8)) {
			if (!done) {
				kfree(ents);
				return -EFAULT;
			}
			break;
		}
		done += k;
		if (fatal_signal_pending(current))
			break;
		cond_resched();
	}
	kfree(ents);
	*ppos += done * 8;
	return done * 8;
}

/* ---- ioctls ---------------------------------------------------------------- */

static struct rdmig_region *rdmig_ucmd_region(struct rdmig_ucmd *ucmd)
{
	return rdmig_region_of(file_inode(ucmd->file));
}

static bool rdmig_ucmd_guest(struct rdmig_ucmd *ucmd)
{
	return ucmd->file->f_op == &rdmig_guest_fops;
}

static long rdmig_ioc_info(struct rdmig_ucmd *ucmd)
{
	struct rdmig_region_info *info = ucmd->cmd;
	struct rdmig_region_snapshot s;

	rdmig_region_snapshot(rdmig_ucmd_region(ucmd), &s);
	info->flags = (s.tracking ? RDMIG_INFO_F_TRACKING : 0) |
		      (s.bound ? RDMIG_INFO_F_BOUND : 0);
	info->region_id = s.id;
	info->reserved = 0;
	info->length = s.length;
	info->present_pages = s.present_pages;
	info->written_pages = s.written_pages;
	info->dirty_pages = s.dirty_pages;
	info->pinned_pages = s.pinned_pages;
	info->dirty_watermark = s.watermark;
	memcpy(info->name, s.name, sizeof(info->name));
	return rdmig_ucmd_respond(ucmd, sizeof(*info));
}

static long rdmig_ioc_set(struct rdmig_ucmd *ucmd)
{
	struct rdmig_region_set *set = ucmd->cmd;

	if (set->reserved)
		return -EINVAL;
	return rdmig_region_set(rdmig_ucmd_region(ucmd), set->flags,
				set->tracking, set->dirty_watermark);
}

/* Words of a get-and-clear result held at first; doubled as needed. */
#define RDMIG_DIRTY_WORDS_INIT	256

/*
 * Only the words with a dirty page are collected and copied out, so apart
 * from zeroing the caller's bitmap (which the uapi requires in full) the
 * cost follows the dirty pages, not the size of the range.
 */
static long rdmig_ioc_get_dirty(struct rdmig_ucmd *ucmd)
{
	struct rdmig_region *r = rdmig_ucmd_region(ucmd);
	struct rdmig_dirty_bitmap *req = ucmd->cmd;
	struct rdmig_dirty_word *words, *more;
	unsigned int cap = RDMIG_DIRTY_WORDS_INIT, n = 0, got, i;
	u64 __user *ubitmap;
	u64 pos, end, next, nd, ndirty = 0;
	int err;

	if (req->flags & ~RDMIG_DIRTY_F_ALL)
		return -EINVAL;
	/* Checked again by the core; here to size the buffer safely. */
	if (!req->npages || req->first_page >= r->npages ||
	    req->npages > r->npages - req->first_page)
		return -EINVAL;
	ubitmap = u64_to_user_ptr(req->bitmap);
	/*
	 * Zeroes every word and faults before clearing anything, so a bad
	 * pointer loses no bits.
	 */
	if (clear_user(ubitmap, DIV_ROUND_UP(req->npages, 64) * sizeof(u64)))
		return -EFAULT;
	words = kvmalloc_array(cap, sizeof(*words), GFP_KERNEL);
	if (!words)
		return -ENOMEM;

	pos = req->first_page;
	end = req->first_page + req->npages;
	for (;;) {
		err = rdmig_region_get_dirty_words(r, pos, end - pos,
						   req->flags, words + n,
						   cap - n, &got, &next, &nd);
		if (err)
			goto undo;
		for (i = n; i < n + got; i++)
			words[i].index += (pos - req->first_page) / 64;
		n += got;
		ndirty += nd;
		if (next == end)
			break;
		more = kvrealloc(words, cap * sizeof(*words),
				 2 * cap * sizeof(*words), GFP_KERNEL);
		if (!more) {
			err = -ENOMEM;
			goto undo;
		}
		words = more;
		cap *= 2;
		pos = next;
	}

	for (i = 0; i < n; i++)
		if (put_user(words[i].bits, ubitmap + words[i].index)) {
			err = -EFAULT;
			goto undo;
		}
	req->out_dirty = ndirty;
	err = rdmig_ucmd_respond(ucmd, sizeof(*req));
	if (!err)
		goto out;

undo:
	/*
	 * The buffer went away under us, tracking was turned off between two
	 * batches, or no memory: report the pages cleared so far again next
	 * time rather than lose them. Over-reporting is safe.
	 */
	if (req->flags & RDMIG_DIRTY_F_CLEAR)
		rdmig_region_redirty(r, req->first_page, words, n);
out:
	kvfree(words);
	return err;
}

static long rdmig_ioc_zero_scan(struct rdmig_ucmd *ucmd)
{
	struct rdmig_zero_scan *zs = ucmd->cmd;
	int err;

	err = rdmig_region_zero_scan(rdmig_ucmd_region(ucmd), zs->first_page,
				     zs->npages, zs->flags,
				     &zs->out_zero_pages,
				     &zs->out_reclaimed_pages);
	if (err)
		return err;
	return rdmig_ucmd_respond(ucmd, sizeof(*zs));
}

static long rdmig_ioc_mark_written(struct rdmig_ucmd *ucmd)
{
	struct rdmig_mark_written *mw = ucmd->cmd;
	u64 marked;

	return rdmig_region_mark_written(rdmig_ucmd_region(ucmd),
					 mw->first_page, mw->npages,
					 mw->flags, &marked);
}

static long rdmig_ioc_transfer_fd(struct rdmig_ucmd *ucmd)
{
	struct inode *inode = file_inode(ucmd->file);
	struct rdmig_transfer *req = ucmd->cmd;
	struct file *tfile;
	int fd;

	if (!rdmig_ucmd_guest(ucmd))
		return -ENOTTY;
	if (req->flags)
		return -EINVAL;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	ihold(inode);
	tfile = rdmig_fs_file(inode, "[rdmig-transfer]", &rdmig_transfer_fops);
	if (IS_ERR(tfile)) {
		put_unused_fd(fd);
		return PTR_ERR(tfile);
	}
	fd_install(fd, tfile);
	return fd;
}

static long rdmig_ioc_bind(struct rdmig_ucmd *ucmd)
{
	struct rdmig_bind *req = ucmd->cmd;

	if (rdmig_ucmd_guest(ucmd))
		return -ENOTTY;
	if (req->flags || req->reserved)
		return -EINVAL;
	return rdmig_region_bind(rdmig_ucmd_region(ucmd),
				 current->nsproxy->net_ns, req->nl_portid);
}

union rdmig_region_ucmd_buffer {
	struct rdmig_region_info info;
	struct rdmig_region_set set;
	struct rdmig_dirty_bitmap dirty;
	struct rdmig_zero_scan zero;
	struct rdmig_transfer transfer;
	struct rdmig_bind bind;
	struct rdmig_mark_written written;
};

#define RDMIG_REGION_OP(_ioctl, _fn, _struct, _last)			\
	RDMIG_IOCTL_OP(union rdmig_region_ucmd_buffer, _ioctl, _fn,	\
		       _struct, _last)

static const struct rdmig_ioctl_op rdmig_region_ioctl_ops[] = {
	RDMIG_REGION_OP(RDMIG_REGION_INFO, rdmig_ioc_info,
			struct rdmig_region_info, name),
	RDMIG_REGION_OP(RDMIG_REGION_SET, rdmig_ioc_set,
			struct rdmig_region_set, dirty_watermark),
	RDMIG_REGION_OP(RDMIG_GET_DIRTY, rdmig_ioc_get_dirty,
			struct rdmig_dirty_bitmap, out_dirty),
	RDMIG_REGION_OP(RDMIG_ZERO_SCAN, rdmig_ioc_zero_scan,
			struct rdmig_zero_scan, out_reclaimed_pages),
	RDMIG_REGION_OP(RDMIG_TRANSFER_FD, rdmig_ioc_transfer_fd,
			struct rdmig_transfer, flags),
	RDMIG_REGION_OP(RDMIG_BIND_NETLINK, rdmig_ioc_bind,
			struct rdmig_bind, reserved),
	RDMIG_REGION_OP(RDMIG_MARK_WRITTEN, rdmig_ioc_mark_written,
			struct rdmig_mark_written, npages),
};

/* Both views; TRANSFER_FD and BIND_NETLINK check which one they got. */
static long rdmig_region_ioctl(struct file *file, unsigned int cmd,
			       unsigned long arg)
{
	union rdmig_region_ucmd_buffer buf;

	return rdmig_ioctl_dispatch(rdmig_region_ioctl_ops,
				    ARRAY_SIZE(rdmig_region_ioctl_ops), file,
				    cmd, arg, &buf);
}

const struct file_operations rdmig_guest_fops = {
	.owner = THIS_MODULE,
	.mmap = rdmig_guest_mmap,
	.read = rdmig_pagemap_read,
	.unlocked_ioctl = rdmig_region_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = default_llseek,
};

const struct file_operations rdmig_transfer_fops = {
	.owner = THIS_MODULE,
	.mmap = rdmig_transfer_mmap,
	.read = rdmig_pagemap_read,
	.unlocked_ioctl = rdmig_region_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = default_llseek,
};
