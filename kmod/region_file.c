// SPDX-License-Identifier: GPL-2.0
/*
 * The two views of a region: the guest view (the region fd, whose shared
 * mappings report the first write after each re-arm through page_mkwrite)
 * and the transfer view (same pages, whose writes mark nothing, for RDMA
 * registration). Both take the region ioctls (the pagemap among them),
 * read() of guest memory and fallocate() hole punching.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/falloc.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/net.h>
#include <linux/netlink.h>
#include <linux/pagemap.h>
#include <linux/pagevec.h>
#include <linux/sched/signal.h>
#include <linux/uio.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <net/sock.h>

#include "rdmig.h"
#include "region_priv.h"

/* ---- mappings ------------------------------------------------------------ */

static vm_fault_t rdmig_fault(struct vm_fault *vmf)
{
	struct rdmig_region *r = rdmig_region_of(file_inode(vmf->vma->vm_file));
	struct folio *folio;

	if (vmf->pgoff >= r->npages)
		return VM_FAULT_SIGBUS;
	folio = rdmig_region_get_folio(r, vmf->pgoff, vmf->vma, vmf->address);
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
static vm_fault_t rdmig_mkwrite(struct vm_fault *vmf,
				void (*mark)(struct rdmig_region *r, pgoff_t index))
{
	struct inode *inode = file_inode(vmf->vma->vm_file);
	struct folio *folio = page_folio(vmf->page);

	folio_lock(folio);
	if (folio->mapping != inode->i_mapping) {
		/* Given back by a zero scan meanwhile: fault it in again. */
		folio_unlock(folio);
		return VM_FAULT_NOPAGE;
	}
	mark(rdmig_region_of(inode), folio->index);
	return VM_FAULT_LOCKED;
}

static vm_fault_t rdmig_page_mkwrite(struct vm_fault *vmf)
{
	return rdmig_mkwrite(vmf, rdmig_region_write_fault);
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
	return rdmig_mkwrite(vmf, rdmig_region_transfer_write_fault);
}
#endif

static const struct vm_operations_struct rdmig_guest_vm_ops = {
	.fault = rdmig_fault,
	.page_mkwrite = rdmig_page_mkwrite,
};

/*
 * Fault-around for the transfer view: a read fault also maps the present
 * pages around it (fault_around_bytes, 64 KiB by default), so the agent's
 * first pass over guest memory takes one fault per 16 pages, not per page.
 * filemap_map_pages() is safe here: it is called for read faults only
 * (do_read_fault()), maps read-only PTEs of pages already in the page
 * cache and uptodate, and only trylocks them; it allocates nothing, so an
 * absent page stays absent and known zero. A write through such a PTE
 * faults as any other. 0 selects the old one fault per page, to measure
 * against (bench_dirty tview).
 */
static bool rdmig_transfer_fault_around = true;
module_param_named(transfer_fault_around, rdmig_transfer_fault_around, bool,
		   0644);
MODULE_PARM_DESC(transfer_fault_around,
		 "transfer view maps the present pages around a read fault (0 = one page per fault)");

static const struct vm_operations_struct rdmig_transfer_vm_ops = {
	.fault = rdmig_fault,
	.map_pages = filemap_map_pages,
#ifdef RDMIG_TRANSFER_MKWRITE
	.page_mkwrite = rdmig_transfer_page_mkwrite,
#endif
};

static const struct vm_operations_struct rdmig_transfer_vm_ops_nofa = {
	.fault = rdmig_fault,
#ifdef RDMIG_TRANSFER_MKWRITE
	.page_mkwrite = rdmig_transfer_page_mkwrite,
#endif
};

static int rdmig_mmap(struct file *file, struct vm_area_struct *vma,
		      const struct vm_operations_struct *ops)
{
	struct rdmig_region *r = rdmig_region_of(file_inode(file));

	/*
	 * MAP_SHARED only. VM_MAYSHARE, not VM_SHARED: a shared mapping of a
	 * read-only fd (a reopen with O_RDONLY) has VM_SHARED and VM_MAYWRITE
	 * cleared by mmap() and can never become writable.
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
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
	return rdmig_mmap(file, vma, READ_ONCE(rdmig_transfer_fault_around) ?
				     &rdmig_transfer_vm_ops :
				     &rdmig_transfer_vm_ops_nofa);
}

/* ---- read(): guest memory ------------------------------------------------ */

/*
 * As reading a memfd, but without ever allocating: a present page is
 * copied from the page cache (with a reference held, so a zero scan cannot
 * give it back meanwhile), an absent one reads as zeroes and stays absent.
 * Nothing is marked: reads are not writes.
 */
static ssize_t rdmig_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct rdmig_region *r = rdmig_region_of(file_inode(iocb->ki_filp));
	struct address_space *mapping = r->inode->i_mapping;
	loff_t pos = iocb->ki_pos;
	ssize_t done = 0, err = 0;

	if (pos < 0)
		return -EINVAL;
	while (iov_iter_count(to) && pos < r->length) {
		size_t off = offset_in_page(pos), want, got;
		struct folio *folio;

		want = min_t(u64, PAGE_SIZE - off, r->length - pos);
		want = min(want, iov_iter_count(to));
		folio = filemap_get_folio(mapping, pos >> PAGE_SHIFT);
		if (folio) {
			if (folio_test_hwpoison(folio)) {
				folio_put(folio);
				err = -EIO;
				break;
			}
			got = copy_folio_to_iter(folio, off, want, to);
			folio_put(folio);
		} else {
			got = iov_iter_zero(want, to);
		}
		done += got;
		pos += got;
		if (got < want) {
			err = -EFAULT;
			break;
		}
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		cond_resched();
	}
	iocb->ki_pos = pos;
	return done ? done : err;
}

/* ---- fallocate(): hole punching --------------------------------------------- */

/*
 * The page at @idx is going away, folio locked: it is absent and known
 * zero from now on. If it may have held data, its content changes to
 * zeroes, which is a write as far as a migration under way is concerned:
 * DIRTY is set so the agent sends it again (as a zero page).
 */
static void rdmig_punch_state(struct rdmig_region *r, pgoff_t idx)
{
	bool data = test_bit(idx, r->written) && !test_bit(idx, r->zeroed);
	u64 n, wm;

	if (test_and_clear_bit(idx, r->written))
		atomic64_dec(&r->nwritten);
	if (test_and_clear_bit(idx, r->zeroed))
		atomic64_dec(&r->nzeroed);
	if (!data || test_and_set_bit(idx, r->dirty))
		return;
	rdmig_region_mark_summary(r, idx);
	n = atomic64_inc_return(&r->ndirty);
	wm = READ_ONCE(r->watermark);
	if (wm && n >= wm && !test_and_set_bit(RDMIG_R_WM_FIRED, &r->flags))
		rdmig_nl_notify_watermark(r, n);
}

/*
 * As shmem's punch hole: unmap the range, then drop its pages from the
 * page cache. r->lock keeps get-and-clear and zero scans out; each folio
 * is locked, so faults (which take the lock) wait, and once it is
 * unmapped with the lock held no new mapping or pin can appear. A folio
 * pinned for DMA is kept with its data and state: a device may still
 * write to it, and dropping it would turn those writes into lost ones.
 * Returns how many pages were kept.
 */
static u64 rdmig_region_punch(struct rdmig_region *r, pgoff_t first,
			      pgoff_t n)
{
	struct address_space *mapping = r->inode->i_mapping;
	pgoff_t index = first, end = first + n;
	struct folio_batch fbatch;
	unsigned int i;
	u64 kept = 0;

	mutex_lock(&r->lock);
	unmap_mapping_pages(mapping, first, n, false);
	folio_batch_init(&fbatch);
	while (filemap_get_folios(mapping, &index, end - 1, &fbatch)) {
		for (i = 0; i < folio_batch_count(&fbatch); i++) {
			struct folio *folio = fbatch.folios[i];

			folio_lock(folio);
			if (folio->mapping != mapping)
				goto next;
			if (folio_mapped(folio))	/* faulted in again */
				unmap_mapping_pages(mapping, folio->index, 1,
						    false);
			if (folio_maybe_dma_pinned(folio)) {
				kept += folio_nr_pages(folio);
				goto next;
			}
			rdmig_punch_state(r, folio->index);
			generic_error_remove_page(mapping, &folio->page);
next:
			folio_unlock(folio);
		}
		folio_batch_release(&fbatch);
		cond_resched();
	}
	mutex_unlock(&r->lock);
	return kept;
}

/*
 * QEMU's discard (balloon, virtio-mem) on a file backend: only punching
 * page-aligned ranges of the region; its size never changes.
 */
static long rdmig_fallocate(struct file *file, int mode, loff_t offset,
			    loff_t len)
{
	struct rdmig_region *r = rdmig_region_of(file_inode(file));

	if (mode != (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE))
		return -EOPNOTSUPP;
	/* vfs_fallocate() made sure offset >= 0 and len > 0. */
	if (!PAGE_ALIGNED(offset) || !PAGE_ALIGNED(len) ||
	    offset >= r->length || len > r->length - offset)
		return -EINVAL;
	if (rdmig_region_punch(r, offset >> PAGE_SHIFT, len >> PAGE_SHIFT))
		return -EBUSY;
	return 0;
}

/* ---- open() of /proc/<pid>/fd/<n> ------------------------------------------ */

/*
 * Only through a magic link can a path reach a region's dentry (the mount
 * is internal). A guest-view dentry reopens as a new guest-view file of
 * the same region, with the access mode asked for: the VFS has checked
 * the inode's 0600 and its owner, and the file holds the inode, so the
 * region lives as long as it does. A transfer-view dentry does not
 * reopen: a transfer fd is what RDMIG_TRANSFER_FD on a writable guest
 * view gives, and nothing else.
 */
static int rdmig_guest_open(struct inode *inode, struct file *file)
{
	if (file->f_path.dentry->d_fsdata != &rdmig_guest_fops)
		return -ENXIO;
	return 0;
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

/*
 * A reopened O_RDONLY file may look, not change state: no re-arming, no
 * zero scan, no marking, and above all no transfer fd (which is O_RDWR).
 */
static bool rdmig_ucmd_writable(struct rdmig_ucmd *ucmd)
{
	return ucmd->file->f_mode & FMODE_WRITE;
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

	if (!rdmig_ucmd_writable(ucmd))
		return -EBADF;
	if (set->reserved)
		return -EINVAL;
	return rdmig_region_set(rdmig_ucmd_region(ucmd), set->flags,
				set->tracking, set->dirty_watermark);
}

/*
 * Words of a get-and-clear result held at first: as many as there are
 * dirty pages now (a dirty word holds one at least), no more than the
 * range has words, at least this many; doubled as needed. Each growth
 * ends one walk and starts another, which ends a span of re-armed pages
 * and its flush early.
 */
#define RDMIG_DIRTY_WORDS_INIT	256

/*
 * Collects the non-zero words of [first, first + npages) into a kernel
 * buffer (*wordsp, kvfree()d by the caller, also on error), at most @max
 * of them: *next is where the walk stopped (first + npages when done).
 * Indexes are relative to @first. On error nothing is left cleared.
 */
static int rdmig_collect_words(struct rdmig_region *r, u64 first, u64 npages,
			       u32 flags, u64 max,
			       struct rdmig_dirty_word **wordsp,
			       unsigned int *nwords, u64 *next, u64 *ndirty)
{
	u64 want = max_t(u64, min_t(u64, atomic64_read(&r->ndirty),
				    DIV_ROUND_UP(npages, 64)),
			 RDMIG_DIRTY_WORDS_INIT);
	unsigned int cap = min_t(u64, max, want), n = 0;
	struct rdmig_dirty_word *words, *more;
	unsigned int got, i;
	u64 pos = first, end = first + npages, nd;
	int err;

	*ndirty = 0;
	words = kvmalloc_array(cap, sizeof(*words), GFP_KERNEL);
	*wordsp = words;
	if (!words)
		return -ENOMEM;
	for (;;) {
		err = rdmig_region_get_dirty_words(r, pos, end - pos, flags,
						   words + n, cap - n, &got,
						   next, &nd);
		if (err)
			break;
		for (i = n; i < n + got; i++)
			words[i].index += (pos - first) / 64;
		n += got;
		*ndirty += nd;
		if (*next == end || cap == max)
			break;
		more = kvrealloc(words, cap * sizeof(*words),
				 min_t(u64, 2 * cap, max) * sizeof(*words),
				 GFP_KERNEL);
		if (!more) {
			err = -ENOMEM;
			break;
		}
		*wordsp = words = more;
		cap = min_t(u64, 2 * cap, max);
		pos = *next;
	}
	*nwords = n;
	/*
	 * Tracking was turned off between two batches, or no memory: report
	 * the pages cleared so far again next time rather than lose them.
	 */
	if (err && (flags & RDMIG_DIRTY_F_CLEAR))
		rdmig_region_redirty(r, first, words, n);
	return err;
}

/*
 * Only the words with a dirty page are collected and copied out, so apart
 * from zeroing the caller's bitmap (which the uapi requires in full) the
 * cost follows the dirty pages, not the size of the range.
 */
static long rdmig_ioc_get_dirty(struct rdmig_ucmd *ucmd)
{
	struct rdmig_region *r = rdmig_ucmd_region(ucmd);
	struct rdmig_dirty_bitmap *req = ucmd->cmd;
	struct rdmig_dirty_word *words;
	unsigned int n, i;
	u64 __user *ubitmap;
	u64 next;
	int err;

	if (req->flags & ~RDMIG_DIRTY_F_ALL)
		return -EINVAL;
	if ((req->flags & RDMIG_DIRTY_F_CLEAR) && !rdmig_ucmd_writable(ucmd))
		return -EBADF;
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
	err = rdmig_collect_words(r, req->first_page, req->npages, req->flags,
				  U64_MAX, &words, &n, &next, &req->out_dirty);
	if (err)
		goto out;
	for (i = 0; i < n; i++)
		if (put_user(words[i].bits, ubitmap + words[i].index)) {
			err = -EFAULT;
			goto undo;
		}
	err = rdmig_ucmd_respond(ucmd, sizeof(*req));
	if (!err)
		goto out;
undo:
	/*
	 * The buffer went away under us: report the pages cleared again next
	 * time rather than lose them. Over-reporting is safe.
	 */
	if (req->flags & RDMIG_DIRTY_F_CLEAR)
		rdmig_region_redirty(r, req->first_page, words, n);
out:
	kvfree(words);
	return err;
}

/*
 * The sparse result: the non-zero words as they are, at most max_words,
 * so neither the module nor the caller looks at an empty word.
 */
static long rdmig_ioc_get_dirty_words(struct rdmig_ucmd *ucmd)
{
	struct rdmig_region *r = rdmig_ucmd_region(ucmd);
	struct rdmig_dirty_words *req = ucmd->cmd;
	struct rdmig_dirty_word *words;
	unsigned int n;
	int err;

	if (req->flags & ~RDMIG_DIRTY_F_ALL || !req->max_words)
		return -EINVAL;
	if ((req->flags & RDMIG_DIRTY_F_CLEAR) && !rdmig_ucmd_writable(ucmd))
		return -EBADF;
	err = rdmig_collect_words(r, req->first_page, req->npages, req->flags,
				  min_t(u32, req->max_words,
					RDMIG_DIRTY_WORDS_MAX),
				  &words, &n, &req->out_next_page,
				  &req->out_dirty);
	if (err)
		goto out;
	req->out_nwords = n;
	if (copy_to_user(u64_to_user_ptr(req->words), words,
			 n * sizeof(*words)))
		err = -EFAULT;
	else
		err = rdmig_ucmd_respond(ucmd, sizeof(*req));
	/* Not delivered: report the pages again next time (see above). */
	if (err && (req->flags & RDMIG_DIRTY_F_CLEAR))
		rdmig_region_redirty(r, req->first_page, words, n);
out:
	kvfree(words);
	return err;
}

static long rdmig_ioc_zero_scan(struct rdmig_ucmd *ucmd)
{
	struct rdmig_zero_scan *zs = ucmd->cmd;
	int err;

	if (!rdmig_ucmd_writable(ucmd))
		return -EBADF;
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

	if (!rdmig_ucmd_writable(ucmd))
		return -EBADF;
	return rdmig_region_mark_written(rdmig_ucmd_region(ucmd),
					 mw->first_page, mw->npages,
					 mw->flags, &marked);
}

static long rdmig_ioc_mark_dirty(struct rdmig_ucmd *ucmd)
{
	struct rdmig_mark_dirty *md = ucmd->cmd;
	u64 marked;

	if (!rdmig_ucmd_guest(ucmd))
		return -ENOTTY;
	if (!rdmig_ucmd_writable(ucmd))
		return -EBADF;
	if (md->reserved)
		return -EINVAL;
	return rdmig_region_mark_dirty(rdmig_ucmd_region(ucmd),
				       md->first_page, md->npages,
				       md->flags, &marked);
}

static long rdmig_ioc_transfer_fd(struct rdmig_ucmd *ucmd)
{
	struct inode *inode = file_inode(ucmd->file);
	struct rdmig_transfer *req = ucmd->cmd;
	struct file *tfile;
	int fd;

	if (!rdmig_ucmd_guest(ucmd))
		return -ENOTTY;
	/*
	 * The transfer fd is O_RDWR and can be read and mapped: a guest view
	 * opened O_WRONLY (a reopen), which may neither read() nor mmap(),
	 * must not get one, or it could read guest memory through it.
	 */
	if (!rdmig_ucmd_writable(ucmd) || !(ucmd->file->f_mode & FMODE_READ))
		return -EBADF;
	if (req->flags)
		return -EINVAL;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	rdmig_fs_ihold(inode);
	tfile = rdmig_fs_file(inode, "[rdmig-transfer]", &rdmig_transfer_fops);
	if (IS_ERR(tfile)) {
		put_unused_fd(fd);
		return PTR_ERR(tfile);
	}
	fd_install(fd, tfile);
	return fd;
}

/*
 * Authority goes to the socket the caller holds, never to a port number:
 * a port nobody holds cannot be bound, and the socket is kept (with a
 * reference) for comparison with the sender of each request.
 */
static long rdmig_ioc_bind(struct rdmig_ucmd *ucmd)
{
	struct sockaddr_nl addr = {};
	struct rdmig_bind *req = ucmd->cmd;
	struct rdmig_region *r = rdmig_ucmd_region(ucmd);
	struct socket *sock;
	int err;

	if (rdmig_ucmd_guest(ucmd))
		return -ENOTTY;
	if (!rdmig_ucmd_writable(ucmd))
		return -EBADF;
	if (req->flags || req->reserved)
		return -EINVAL;
	if (req->sock_fd == -1)
		return rdmig_region_bind(r, NULL, 0);
	if (req->sock_fd < 0)
		return -EBADF;
	sock = sockfd_lookup(req->sock_fd, &err);
	if (!sock)
		return err;
	err = -EINVAL;
	if (!sock->sk || sock->sk->sk_family != AF_NETLINK ||
	    sock->sk->sk_protocol != NETLINK_GENERIC)
		goto out;
	/* netlink_getname() reports the port; 0 until bound or autobound. */
	err = kernel_getsockname(sock, (struct sockaddr *)&addr);
	if (err < 0)
		goto out;
	err = -EINVAL;
	if (!addr.nl_pid)
		goto out;
	err = rdmig_region_bind(r, sock->sk, addr.nl_pid);
out:
	sockfd_put(sock);
	return err;
}

#define RDMIG_PM_CHUNK	512

static long rdmig_ioc_pagemap(struct rdmig_ucmd *ucmd)
{
	struct rdmig_region *r = rdmig_ucmd_region(ucmd);
	struct rdmig_pagemap *pm = ucmd->cmd;
	u64 __user *uents = u64_to_user_ptr(pm->entries);
	u64 done = 0, i, k;
	long err = 0;
	u64 *ents;

	if (pm->flags || pm->reserved)
		return -EINVAL;
	if (!pm->npages || pm->first_page >= r->npages ||
	    pm->npages > r->npages - pm->first_page)
		return -EINVAL;
	ents = kmalloc_array(RDMIG_PM_CHUNK, sizeof(*ents), GFP_KERNEL);
	if (!ents)
		return -ENOMEM;
	while (done < pm->npages) {
		k = min_t(u64, pm->npages - done, RDMIG_PM_CHUNK);
		for (i = 0; i < k; i++)
			ents[i] = rdmig_region_pagemap_entry(r, pm->first_page +
							     done + i);
		if (copy_to_user(uents + done, ents, k * sizeof(*ents))) {
			err = -EFAULT;
			break;
		}
		done += k;
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			break;
		}
		cond_resched();
	}
	kfree(ents);
	return err;
}

union rdmig_region_ucmd_buffer {
	struct rdmig_pagemap pagemap;
	struct rdmig_region_info info;
	struct rdmig_region_set set;
	struct rdmig_dirty_bitmap dirty;
	struct rdmig_dirty_words dwords;
	struct rdmig_zero_scan zero;
	struct rdmig_transfer transfer;
	struct rdmig_bind bind;
	struct rdmig_mark_written written;
	struct rdmig_mark_dirty marked;
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
	RDMIG_REGION_OP(RDMIG_MARK_DIRTY, rdmig_ioc_mark_dirty,
			struct rdmig_mark_dirty, npages),
	RDMIG_REGION_OP(RDMIG_PAGEMAP, rdmig_ioc_pagemap,
			struct rdmig_pagemap, entries),
	RDMIG_REGION_OP(RDMIG_GET_DIRTY_WORDS, rdmig_ioc_get_dirty_words,
			struct rdmig_dirty_words, out_next_page),
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
	.open = rdmig_guest_open,
	.mmap = rdmig_guest_mmap,
	.read_iter = rdmig_read_iter,
	.fallocate = rdmig_fallocate,
	.unlocked_ioctl = rdmig_region_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = default_llseek,
};

const struct file_operations rdmig_transfer_fops = {
	.owner = THIS_MODULE,
	.mmap = rdmig_transfer_mmap,
	.read_iter = rdmig_read_iter,
	.fallocate = rdmig_fallocate,
	.unlocked_ioctl = rdmig_region_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = default_llseek,
};
