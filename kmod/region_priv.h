/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Region internals shared by region.c (state and operations), region_file.c
 * (the two views: files, mappings, faults, ioctls) and region_fs.c (the
 * pseudo filesystem whose inodes back regions).
 */
#ifndef _RDMIG_REGION_PRIV_H
#define _RDMIG_REGION_PRIV_H

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "region.h"

/*
 * Most folios held locked by one batched re-arm: they are write-protected
 * with one wp_shared_mapping_range(), one TLB flush (region.c). Enough for
 * a get-and-clear of 16 MiB of dense dirty pages to flush once; the array
 * (32 KiB) is allocated with the region.
 */
#define RDMIG_REARM_RUN_MAX	4096

/* Write faults through the transfer view remembered at once (hashed). */
#define RDMIG_TX_SLOTS		16

/*
 * A write fault through the transfer view in progress: page_mkwrite saw
 * it, and the fault's own set_page_dirty() that follows (same task, same
 * fault, folio still locked) must not count as a guest write. @nfaults is
 * the task's fault count then; it changes when that fault ends, so a
 * fault that ends without calling set_page_dirty() leaves nothing behind
 * that could swallow a later, genuine call.
 */
struct rdmig_tx_mark {
	struct pid *pid;
	pgoff_t index;
	unsigned long nfaults;
};

/* r->flags bits */
#define RDMIG_R_ANNOUNCED	0	/* region-new event was sent */
#define RDMIG_R_WM_FIRED	1	/* watermark event sent, not re-armed */

/*
 * One region. Its lifetime is its inode's: every file (guest view, transfer
 * view) holds the inode, every mapping holds a file, and netlink lookups
 * take an inode reference with rdmig_fs_igrab(). The region is freed by
 * ->evict_inode once the last of these is gone; each inode reference comes
 * with a reference to the region's own mount (region_fs.c).
 *
 * Per-page state lives in three bitmaps updated with atomic bit operations.
 * DIRTY is set in page_mkwrite with the folio locked (CPU stores through
 * the guest view), by the address space's dirty_folio (writers that went
 * through get_user_pages report there when they release the page), and by
 * RDMIG_MARK_DIRTY; WRITTEN with it, or by rdmig_region_mark_written() for
 * data that did not come through the guest view. get-and-clear clears
 * DIRTY only with the folio locked and r->lock held, and write-protects the
 * folio before it is unlocked; tracking-on clears every bit, then
 * write-protects the region, relying on the fault's second set in
 * dirty_folio (region.c, rdmig_track_on). That is the whole no-lost-write
 * argument (Documentation/regions.md).
 */
struct rdmig_region {
	u32 id;
	char name[RDMIG_NAME_LEN];
	u64 length;
	pgoff_t npages;
	struct inode *inode;
	struct pid *owner;
	unsigned long flags;

	unsigned long *dirty;
	/*
	 * One bit per 64-page word of @dirty: set after a bit of that word
	 * is set, so a set DIRTY bit always has its summary bit set, or a
	 * get-and-clear is between clearing the summary bit and reading the
	 * word (region.c, rdmig_get_dirty). Stale set bits are harmless.
	 */
	unsigned long *dsum;
	unsigned long *written;
	unsigned long *zeroed;		/* written, then found zero by a scan */

	/* Serialises re-arming (tracking on, get-and-clear) and zero scans. */
	struct mutex lock;
	bool tracking;
	u64 watermark;

	/*
	 * The netlink socket RDMIG_BIND_NETLINK gave authority to, held with
	 * sock_hold() so that its address can never be reused by another
	 * socket while it is compared; bound_portid is only for display.
	 * Guarded by bind_lock, taken from netlink callbacks.
	 */
	spinlock_t bind_lock;
	struct sock *bound_sk;
	u32 bound_portid;

	/*
	 * Accounting to the creator: pages are charged to its memory cgroup
	 * whoever faults them (reference held), and without CAP_IPC_LOCK the
	 * region's length counts in its user's locked_vm (reference held).
	 */
	struct mem_cgroup *memcg;
	struct user_struct *locked_user;
	unsigned long locked_pages;

	atomic64_t ndirty;
	atomic64_t nwritten;
	atomic64_t nzeroed;
	atomic64_t write_faults;
	atomic64_t rearms;
	atomic64_t rearm_ns;
	atomic64_t dirty_gets;
	atomic64_t zero_reclaimed;

	/* Folios of the span being re-armed in one batch, under r->lock. */
	struct folio **run;
	unsigned int run_n;
	pgoff_t run_first;
	pgoff_t run_last;
	/*
	 * rearm_adapt: recent cost of a span by range per page of its width,
	 * and per folio one by one, in ns scaled by RDMIG_COST_SCALE.
	 */
	u64 cost_pte;
	u64 cost_folio;
	unsigned long adapt_spans;

	/*
	 * Our own unmap_mapping_pages() of [unmap_first, unmap_end): the
	 * set_page_dirty() calls it makes for dirty PTEs are not writes.
	 */
	struct task_struct *unmapper;
	pgoff_t unmap_first;
	pgoff_t unmap_end;

	/* Transfer-view write faults in progress; irq-safe, see dirty_folio. */
	spinlock_t tx_lock;
	struct rdmig_tx_mark tx[RDMIG_TX_SLOTS];

	/* The watermark event, sent from process context. */
	struct work_struct wm_work;
};

static inline struct rdmig_region *rdmig_region_of(struct inode *inode)
{
	return inode->i_private;
}

/* region_fs.c */
struct inode *rdmig_fs_alloc_inode(void);
void rdmig_fs_ihold(struct inode *inode);
bool rdmig_fs_igrab(struct inode *inode);
void rdmig_fs_iput(struct inode *inode);
struct file *rdmig_fs_file(struct inode *inode, const char *name,
			   const struct file_operations *fops);

/* region.c */
int rdmig_region_create(const struct rdmig_create_region *req,
			struct file **filep);
void rdmig_region_evict(struct rdmig_region *r);
void rdmig_region_announce(struct rdmig_region *r);
struct folio *rdmig_region_get_folio(struct rdmig_region *r, pgoff_t index,
				     struct vm_area_struct *vma,
				     unsigned long addr);
void rdmig_region_write_fault(struct rdmig_region *r, pgoff_t index);
void rdmig_region_transfer_write_fault(struct rdmig_region *r, pgoff_t index);
void rdmig_region_dirty_folio(struct rdmig_region *r, struct folio *folio);
u64 rdmig_region_pagemap_entry(struct rdmig_region *r, pgoff_t index);
int rdmig_region_bind(struct rdmig_region *r, struct sock *sk, u32 portid);
void rdmig_region_mark_summary(struct rdmig_region *r, pgoff_t index);

/* region_file.c */
extern const struct file_operations rdmig_guest_fops;
extern const struct file_operations rdmig_transfer_fops;

#endif /* _RDMIG_REGION_PRIV_H */
