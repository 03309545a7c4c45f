// SPDX-License-Identifier: GPL-2.0
/*
 * The two views of a region: the guest view (the region fd, whose shared
 * mappings report the first write after each re-arm through page_mkwrite)
 * and the transfer view (same pages, whose writes mark nothing, for RDMA
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

#ifdef RDMIG_TRANSFER_MKWRITE
/*
 * Before 6.2, ib_umem_get() pins every MR with FOLL_WRITE, read-only ones
 * too, so registering through the transfer view write-faults, and the
 * fault ends in set_page_dirty(). This tells the region that the call is
 * the transfer view's, not a guest write. From 6.2 a read-only MR does not
 * write-fault, and from 6.5 a long-term write pin of a mapping with write
 * notification is refused, so there the transfer view has none (kmod/Kbuild
 * defines RDMIG_TRANSFER_MKWRITE for the older kernels).
 */
static vm_fault_t rdmig_transfer_page_mkwrite(struct vm_fault *vmf)
{
	struct inode *inode = file_inode(vmf->vma->vm_file);
	struct folio *folio = page_folio(vmf->page);

	folio_lock(folio);
	if (folio->mapping != inode->i_mapping) {
		folio_unlock(folio);
		return VM_FAULT_NOPAGE;
	}
	rdmig_region_transfer_write_fault(rdmig_region_of(inode), folio->index);
	return VM_FAULT_LOCKED;
}
#endif

static const struct vm_operations_struct rdmig_guest_vm_ops = {
	.fault = rdmig_fault,
	.page_mkwrite = rdmig_page_mkwrite,
};

static const struct vm_operations_struct rdmig_transfer_vm_ops = {
	.fault = rdmig_fault,
#ifdef RDMIG_TRANSFER_MKWRITE
	.page_mkwrite = rdmig_transfer_page_mkwrite,
#endif
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

/* Copy in an extensible struct whose first member is __u32 size. */
static int rdmig_copy_in(void *dst, size_t ksize, void __user *uarg)
{
	u32 usize;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < ksize)
		return -EINVAL;
	return copy_struct_from_user(dst, ksize, uarg, usize);
}

static long rdmig_ioc_info(struct rdmig_region *r, void __user *uarg)
{
	struct rdmig_region_snapshot s;
	struct rdmig_region_info info;
	int err;

	err = rdmig_copy_in(&info, sizeof(info), uarg);
	if (err)
		return err;
	rdmig_region_snapshot(r, &s);
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.flags = (s.tracking ? RDMIG_INFO_F_TRACKING : 0) |
		     (s.bound ? RDMIG_INFO_F_BOUND : 0);
	info.region_id = s.id;
	info.length = s.length;
	info.present_pages = s.present_pages;
	info.written_pages = s.written_pages;
	info.dirty_pages = s.dirty_pages;
	info.pinned_pages = s.pinned_pages;
	info.dirty_watermark = s.watermark;
	memcpy(info.name, s.name, sizeof(info.name));
	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long rdmig_ioc_set(struct rdmig_region *r, void __user *uarg)
{
	struct rdmig_region_set set;
	int err;

	err = rdmig_copy_in(&set, sizeof(set), uarg);
	if (err)
		return err;
	if (set.reserved)
		return -EINVAL;
	return rdmig_region_set(r, set.flags, set.tracking, set.dirty_watermark);
}

/* Words of a get-and-clear result held at first; doubled as needed. */
#define RDMIG_DIRTY_WORDS_INIT	256

/*
 * Only the words with a dirty page are collected and copied out, so apart
 * from zeroing the caller's bitmap (which the uapi requires in full) the
 * cost follows the dirty pages, not the size of the range.
 */
static long rdmig_ioc_get_dirty(struct rdmig_region *r, void __user *uarg)
{
	struct rdmig_dirty_word *words, *more;
	unsigned int cap = RDMIG_DIRTY_WORDS_INIT, n = 0, got, i;
	struct rdmig_dirty_bitmap req;
	u64 __user *ubitmap;
	u64 pos, end, next, nd, ndirty = 0;
	int err;

	err = rdmig_copy_in(&req, sizeof(req), uarg);
	if (err)
		return err;
	if (req.flags & ~RDMIG_DIRTY_F_ALL)
		return -EINVAL;
	/* Checked again by the core; here to size the buffer safely. */
	if (!req.npages || req.first_page >= r->npages ||
	    req.npages > r->npages - req.first_page)
		return -EINVAL;
	ubitmap = u64_to_user_ptr(req.bitmap);
	/*
	 * Zeroes every word and faults before clearing anything, so a bad
	 * pointer loses no bits.
	 */
	if (clear_user(ubitmap, DIV_ROUND_UP(req.npages, 64) * sizeof(u64)))
		return -EFAULT;
	words = kvmalloc_array(cap, sizeof(*words), GFP_KERNEL);
	if (!words)
		return -ENOMEM;

	pos = req.first_page;
	end = req.first_page + req.npages;
	for (;;) {
		err = rdmig_region_get_dirty_words(r, pos, end - pos, req.flags,
						   words + n, cap - n, &got,
						   &next, &nd);
		if (err)
			goto undo;
		for (i = n; i < n + got; i++)
			words[i].index += (pos - req.first_page) / 64;
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
	req.out_dirty = ndirty;
	if (put_user(req.out_dirty,
		     (u64 __user *)(uarg + offsetof(struct rdmig_dirty_bitmap,
						    out_dirty))))
		err = -EFAULT;
	goto out;

undo:
	/*
	 * The buffer went away under us, tracking was turned off between two
	 * batches, or no memory: report the pages cleared so far again next
	 * time rather than lose them. Over-reporting is safe.
	 */
	if (req.flags & RDMIG_DIRTY_F_CLEAR)
		rdmig_region_redirty(r, req.first_page, words, n);
out:
	kvfree(words);
	return err;
}

static long rdmig_ioc_zero_scan(struct rdmig_region *r, void __user *uarg)
{
	struct rdmig_zero_scan zs;
	int err;

	err = rdmig_copy_in(&zs, sizeof(zs), uarg);
	if (err)
		return err;
	err = rdmig_region_zero_scan(r, zs.first_page, zs.npages, zs.flags,
				     &zs.out_zero_pages,
				     &zs.out_reclaimed_pages);
	if (err)
		return err;
	zs.size = sizeof(zs);
	return copy_to_user(uarg, &zs, sizeof(zs)) ? -EFAULT : 0;
}

static long rdmig_ioc_mark_written(struct rdmig_region *r, void __user *uarg)
{
	struct rdmig_mark_written mw;
	u64 marked;
	int err;

	err = rdmig_copy_in(&mw, sizeof(mw), uarg);
	if (err)
		return err;
	return rdmig_region_mark_written(r, mw.first_page, mw.npages, mw.flags,
					 &marked);
}

static long rdmig_ioc_mark_dirty(struct rdmig_region *r, void __user *uarg)
{
	struct rdmig_mark_dirty md;
	u64 marked;
	int err;

	err = rdmig_copy_in(&md, sizeof(md), uarg);
	if (err)
		return err;
	if (md.reserved)
		return -EINVAL;
	return rdmig_region_mark_dirty(r, md.first_page, md.npages, md.flags,
				       &marked);
}

static long rdmig_ioc_transfer_fd(struct file *file, void __user *uarg)
{
	struct inode *inode = file_inode(file);
	struct rdmig_transfer req;
	struct file *tfile;
	int err, fd;

	err = rdmig_copy_in(&req, sizeof(req), uarg);
	if (err)
		return err;
	if (req.flags)
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

static long rdmig_ioc_bind(struct rdmig_region *r, void __user *uarg)
{
	struct rdmig_bind req;
	int err;

	err = rdmig_copy_in(&req, sizeof(req), uarg);
	if (err)
		return err;
	if (req.flags || req.reserved)
		return -EINVAL;
	return rdmig_region_bind(r, current->nsproxy->net_ns, req.nl_portid);
}

static long rdmig_region_ioctl(struct file *file, unsigned int cmd,
			       unsigned long arg)
{
	struct rdmig_region *r = rdmig_region_of(file_inode(file));
	bool guest = file->f_op == &rdmig_guest_fops;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case RDMIG_REGION_INFO:
		return rdmig_ioc_info(r, uarg);
	case RDMIG_REGION_SET:
		return rdmig_ioc_set(r, uarg);
	case RDMIG_GET_DIRTY:
		return rdmig_ioc_get_dirty(r, uarg);
	case RDMIG_ZERO_SCAN:
		return rdmig_ioc_zero_scan(r, uarg);
	case RDMIG_MARK_WRITTEN:
		return rdmig_ioc_mark_written(r, uarg);
	case RDMIG_MARK_DIRTY:
		return guest ? rdmig_ioc_mark_dirty(r, uarg) : -ENOTTY;
	case RDMIG_TRANSFER_FD:
		return guest ? rdmig_ioc_transfer_fd(file, uarg) : -ENOTTY;
	case RDMIG_BIND_NETLINK:
		return guest ? -ENOTTY : rdmig_ioc_bind(r, uarg);
	default:
		return -ENOTTY;
	}
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
