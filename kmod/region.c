// SPDX-License-Identifier: GPL-2.0
/*
 * The region core: creation, lookup, per-page state and every operation
 * the ioctl and netlink paths share. Documentation/regions.md has the
 * model and the argument for why no write is lost.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/ktime.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/pagevec.h>
#include <linux/pid.h>
#include <linux/rmap.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/xarray.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "region_priv.h"

/*
 * Re-arming write-protects dirty pages so that their next write faults.
 * Dirty pages no further apart than rearm_span pages are re-armed as one
 * span (a dense run of any length, up to RDMIG_REARM_RUN_MAX folios):
 * their folios locked, their bits cleared, then one
 * wp_shared_mapping_range() over the span, so one TLB flush (one IPI per
 * CPU running the VMM) instead of one per page. 0 selects the old path,
 * one folio_mkclean() per page, kept to measure against
 * (scripts/bench-dirty.sh).
 */
unsigned int rdmig_rearm_span = 512;
module_param_named(rearm_span, rdmig_rearm_span, uint, 0644);
MODULE_PARM_DESC(rearm_span,
		 "dirty pages this close are write-protected with one flush (0 = folio_mkclean per page)");

/*
 * 1: a span of several folios is write-protected by whichever way has
 * cost less lately in this region: one wp_shared_mapping_range() (one
 * flush, but a page-table walk over the span's whole width), averaged per
 * page of width, or one folio_mkclean() per folio (a flush each, an IPI
 * each when another CPU runs the VMM's threads; no walk of the gaps),
 * averaged per folio. 0: always the range.
 */
static bool rdmig_rearm_adapt = true;
module_param_named(rearm_adapt, rdmig_rearm_adapt, bool, 0644);
MODULE_PARM_DESC(rearm_adapt,
		 "write-protect a span by range or per folio, whichever measured cheaper (0 = always by range)");

/*
 * 1: get-and-clear walks the summary (one bit per 64-page word), so its
 * cost follows the dirty words; 0: the old path, every word of the range.
 */
static bool rdmig_dirty_summary = true;
module_param_named(dirty_summary, rdmig_dirty_summary, bool, 0644);
MODULE_PARM_DESC(dirty_summary,
		 "walk only words the summary marks dirty (0 = every word)");

/*
 * 1: tracking-on clears the DIRTY bitmap a word at a time and
 * write-protects the whole region with one wp_shared_mapping_range(), one
 * flush, with no folio locked (rdmig_track_on); 0: the old path, the
 * present folios locked span by span (or one folio_mkclean() each when
 * rearm_span is 0), kept to measure against.
 */
static bool rdmig_track_wp_all = true;
module_param_named(track_wp_all, rdmig_track_wp_all, bool, 0644);
MODULE_PARM_DESC(track_wp_all,
		 "tracking on: one write-protect of the region, no folio locks (0 = span by span)");

/*
 * Test hook (tests/guest/16-track-race.sh): microseconds to wait between
 * clearing a batch's DIRTY bits and write-protecting it, and after the
 * whole-region write-protect of tracking-on, which widens the windows in
 * which a write racing a re-arm would be lost if the order or the
 * locking were wrong. 0 in production.
 */
static unsigned int rdmig_rearm_delay_us;
module_param_named(rearm_delay_us, rdmig_rearm_delay_us, uint, 0644);
MODULE_PARM_DESC(rearm_delay_us,
		 "test hook: delay between clearing and write-protecting (us)");

/*
 * Debug counter, read by tests/guest/16-dirty-words.sh and bench_dirty:
 * TLB flushes the module's write-protects issued, one for each
 * wp_shared_mapping_range() that changed a PTE (one per mapping it
 * changed, a region mapped once here) and one for each PTE a
 * folio_mkclean() cleaned.
 */
static atomic_long_t rdmig_tlb_flushes = ATOMIC_LONG_INIT(0);

static int rdmig_tlb_flushes_get(char *buf, const struct kernel_param *kp)
{
	return scnprintf(buf, PAGE_SIZE, "%ld\n",
			 atomic_long_read(&rdmig_tlb_flushes));
}

static const struct kernel_param_ops rdmig_tlb_flushes_ops = {
	.get = rdmig_tlb_flushes_get,
};
module_param_cb(tlb_flushes, &rdmig_tlb_flushes_ops, NULL, 0444);
MODULE_PARM_DESC(tlb_flushes,
		 "debug: TLB flushes issued by write-protecting region pages");

static void rdmig_wp_range(struct rdmig_region *r, pgoff_t first, pgoff_t n)
{
	if (wp_shared_mapping_range(r->inode->i_mapping, first, n))
		atomic_long_inc(&rdmig_tlb_flushes);
}

static void rdmig_mkclean(struct folio *folio)
{
	int cleaned = folio_mkclean(folio);

	if (cleaned)
		atomic_long_add(cleaned, &rdmig_tlb_flushes);
}

static DEFINE_XARRAY_ALLOC1(rdmig_regions);
static atomic_t rdmig_generation = ATOMIC_INIT(0);

unsigned int rdmig_regions_generation(void)
{
	return atomic_read(&rdmig_generation);
}

/*
 * Region pages are unevictable, as if mlock()ed, so an unprivileged
 * creator pays for the whole length up front in its user's locked_vm,
 * the budget RLIMIT_MEMLOCK bounds for io_uring's and perf's pinned
 * buffers too: pages are faulted later by anyone (a destination agent
 * pins them all), so nothing smaller can be enforced. Per user rather
 * than per mm, since a region outlives its creator's process when its fd
 * is passed on. -ENOMEM as mlock() when the limit would be exceeded.
 */
static int rdmig_region_account_locked(struct rdmig_region *r)
{
	unsigned long limit, cur, new;
	struct user_struct *user;

	if (capable(CAP_IPC_LOCK))
		return 0;
	limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	user = get_current_user();
	cur = atomic_long_read(&user->locked_vm);
	do {
		new = cur + r->npages;
		if (new > limit || new < cur) {
			free_uid(user);
			return -ENOMEM;
		}
	} while (!atomic_long_try_cmpxchg(&user->locked_vm, &cur, new));
	r->locked_user = user;
	r->locked_pages = r->npages;
	return 0;
}

static void rdmig_region_free(struct rdmig_region *r)
{
	unsigned int i;

	for (i = 0; i < RDMIG_TX_SLOTS; i++)
		put_pid(r->tx[i].pid);
	if (r->bound_sk)
		sock_put(r->bound_sk);
	if (r->locked_user) {
		atomic_long_sub(r->locked_pages, &r->locked_user->locked_vm);
		free_uid(r->locked_user);
	}
	mem_cgroup_put(r->memcg);
	put_pid(r->owner);
	kvfree(r->dirty);
	bitmap_free(r->dsum);
	kvfree(r->written);
	kvfree(r->zeroed);
	kvfree(r->run);
	kfree(r);
}

/* Called from ->evict_inode: the last file, mapping and lookup are gone. */
void rdmig_region_evict(struct rdmig_region *r)
{
	/* No folio is left, so no dirty_folio can queue it again. */
	cancel_work_sync(&r->wm_work);
	if (r->id) {
		xa_erase(&rdmig_regions, r->id);
		atomic_inc(&rdmig_generation);
		if (test_bit(RDMIG_R_ANNOUNCED, &r->flags))
			rdmig_nl_notify_region_del(r);
	}
	rdmig_region_free(r);
}

static void rdmig_wm_work(struct work_struct *work)
{
	struct rdmig_region *r = container_of(work, struct rdmig_region,
					      wm_work);

	rdmig_nl_notify_watermark(r, atomic64_read(&r->ndirty));
}

static unsigned long *rdmig_bitmap_alloc(pgoff_t npages)
{
	return kvcalloc(BITS_TO_LONGS(npages), sizeof(unsigned long),
			GFP_KERNEL_ACCOUNT);
}

int rdmig_region_create(const struct rdmig_create_region *req,
			struct file **filep)
{
	struct rdmig_region *r;
	struct inode *inode;
	struct file *file;
	u32 id;
	int err;

	if (req->flags & ~RDMIG_REGION_F_ALL)
		return -EINVAL;
	if (!req->length || !PAGE_ALIGNED(req->length) ||
	    req->length > RDMIG_REGION_MAX_BYTES)
		return -EINVAL;
	if (!memchr(req->name, '\0', sizeof(req->name)))
		return -EINVAL;

	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return -ENOMEM;
	r->length = req->length;
	r->npages = req->length >> PAGE_SHIFT;
	strscpy(r->name, req->name, sizeof(r->name));
	r->owner = get_pid(task_tgid(current));
	r->tracking = req->flags & RDMIG_REGION_F_TRACK;
	mutex_init(&r->lock);
	spin_lock_init(&r->bind_lock);
	spin_lock_init(&r->tx_lock);
	INIT_WORK(&r->wm_work, rdmig_wm_work);
	err = rdmig_region_account_locked(r);
	if (err) {
		rdmig_region_free(r);
		return err;
	}
	/* Every page is charged here, whoever faults it (get_folio). */
	r->memcg = get_mem_cgroup_from_mm(current->mm);
	r->dirty = rdmig_bitmap_alloc(r->npages);
	r->written = rdmig_bitmap_alloc(r->npages);
	r->zeroed = rdmig_bitmap_alloc(r->npages);
	r->dsum = rdmig_bitmap_alloc(DIV_ROUND_UP(r->npages, 64));
	r->run = kvmalloc_array(RDMIG_REARM_RUN_MAX, sizeof(*r->run),
				GFP_KERNEL_ACCOUNT);
	if (!r->dirty || !r->written || !r->zeroed || !r->dsum || !r->run) {
		rdmig_region_free(r);
		return -ENOMEM;
	}

	inode = rdmig_fs_alloc_inode();
	if (IS_ERR(inode)) {
		rdmig_region_free(r);
		return PTR_ERR(inode);
	}
	inode->i_size = r->length;
	inode->i_private = r;
	r->inode = inode;

	/* From here on, the last iput() frees the region (->evict_inode). */
	file = rdmig_fs_file(inode, "[rdmig]", &rdmig_guest_fops);
	if (IS_ERR(file))
		return PTR_ERR(file);

	err = xa_alloc(&rdmig_regions, &id, r, xa_limit_32b, GFP_KERNEL);
	if (err) {
		fput(file);
		return err == -EBUSY ? -ENOSPC : err;
	}
	r->id = id;
	atomic_inc(&rdmig_generation);
	*filep = file;
	return 0;
}

/* After the fd is installed: tell listeners. */
void rdmig_region_announce(struct rdmig_region *r)
{
	set_bit(RDMIG_R_ANNOUNCED, &r->flags);
	rdmig_nl_notify_region_new(r);
}

struct rdmig_region *rdmig_region_get_by_id(u32 id)
{
	struct rdmig_region *r;

	xa_lock(&rdmig_regions);
	r = xa_load(&rdmig_regions, id);
	if (r && !rdmig_fs_igrab(r->inode))
		r = NULL;
	xa_unlock(&rdmig_regions);
	return r;
}

struct rdmig_region *rdmig_region_next(u32 *id)
{
	unsigned long idx = *id;
	struct rdmig_region *r;

	xa_lock(&rdmig_regions);
	xa_for_each_start(&rdmig_regions, idx, r, idx) {
		if (rdmig_fs_igrab(r->inode)) {
			xa_unlock(&rdmig_regions);
			*id = idx;
			return r;
		}
	}
	xa_unlock(&rdmig_regions);
	return NULL;
}

void rdmig_region_put(struct rdmig_region *r)
{
	rdmig_fs_iput(r->inode);
}

bool rdmig_region_owned_by_current(struct rdmig_region *r)
{
	return r->owner == task_tgid(current);
}

/* ---- faults ------------------------------------------------------------ */

/*
 * The folio at @index, locked, with a reference; allocated zeroed if
 * absent. A fault passes its @vma and @addr so that the page is placed by
 * that mapping's NUMA policy (mbind() on the guest view: QEMU's
 * host-nodes), falling back to the task's. The page is charged to the
 * creator's memory cgroup, not the faulting task's: filemap_add_folio()
 * charges the active memcg when it has no mm (mem_cgroup_charge(folio,
 * NULL, gfp)), so a destination agent pinning every page through the
 * transfer view does not take the guest into its own cgroup.
 */
struct folio *rdmig_region_get_folio(struct rdmig_region *r, pgoff_t index,
				     struct vm_area_struct *vma,
				     unsigned long addr)
{
	struct address_space *mapping = r->inode->i_mapping;
	gfp_t gfp = mapping_gfp_mask(mapping);
	struct mem_cgroup *old;
	struct folio *folio;
	int err;

	for (;;) {
		folio = __filemap_get_folio(mapping, index, FGP_LOCK, 0);
		if (folio)
			return folio;
		if (vma)
			folio = vma_alloc_folio(gfp | __GFP_ZERO, 0, vma, addr,
						false);
		else
			folio = filemap_alloc_folio(gfp | __GFP_ZERO, 0);
		if (!folio)
			return ERR_PTR(-ENOMEM);
		__folio_mark_uptodate(folio);
		old = set_active_memcg(r->memcg);
		err = filemap_add_folio(mapping, folio, index, gfp);
		set_active_memcg(old);
		if (!err)
			return folio;	/* locked by filemap_add_folio() */
		folio_put(folio);
		if (err != -EEXIST)
			return ERR_PTR(err);
	}
}

/*
 * After setting @index's DIRTY bit with a value-returning (fully ordered)
 * atomic: its word's summary bit. A get-and-clear clears a summary bit
 * before it reads the word, so either it sees this page's bit or the
 * summary bit set here stays for the next one.
 */
void rdmig_region_mark_summary(struct rdmig_region *r, pgoff_t index)
{
	if (!test_bit(index / 64, r->dsum))
		set_bit(index / 64, r->dsum);
}

/*
 * A page now holds data the guest put there: WRITTEN, no longer
 * scanned-zero, DIRTY. The bit operations are value-returning atomics,
 * fully ordered, so the data written before this call is visible to
 * whoever sees the bit. Returns the new dirty count when this call made
 * the region reach its watermark (the caller sends the event), else 0.
 */
static u64 rdmig_page_written(struct rdmig_region *r, pgoff_t index)
{
	u64 wm, n;

	/*
	 * WRITTEN and scanned-zero are tested before they are changed: the
	 * fault's own set_page_dirty() comes right after page_mkwrite set
	 * them, so a locked operation there would only bounce the word
	 * between CPUs. DIRTY is always set with a fully ordered atomic:
	 * rdmig_track_on() relies on the one made after the PTE is writable.
	 */
	if (!test_bit(index, r->written) &&
	    !test_and_set_bit(index, r->written))
		atomic64_inc(&r->nwritten);
	if (test_bit(index, r->zeroed) && test_and_clear_bit(index, r->zeroed))
		atomic64_dec(&r->nzeroed);
	if (test_and_set_bit(index, r->dirty))
		return 0;
	rdmig_region_mark_summary(r, index);
	n = atomic64_inc_return(&r->ndirty);
	wm = READ_ONCE(r->watermark);
	if (wm && n >= wm && !test_and_set_bit(RDMIG_R_WM_FIRED, &r->flags))
		return n;
	return 0;
}

/*
 * page_mkwrite, folio locked: the PTE becomes writable only after the
 * caller unlocks, so a re-arm that takes the folio lock either sees this
 * bit or write-protects the page after the write was allowed.
 */
void rdmig_region_write_fault(struct rdmig_region *r, pgoff_t index)
{
	u64 n;

	atomic64_inc(&r->write_faults);
	n = rdmig_page_written(r, index);
	if (n)
		rdmig_nl_notify_watermark(r, n);
}

static unsigned long rdmig_current_faults(void)
{
	return current->min_flt + current->maj_flt;
}

/*
 * page_mkwrite of the transfer view, folio locked. The fault goes on to
 * call set_page_dirty() on this folio (fault_dirty_shared_page()) before
 * it unlocks it; that call is the transfer view's and must mark nothing.
 * Remember which task's which fault it is: mm_account_fault() bumps the
 * task's fault count only when the fault returns, so the mark matches
 * that one call and goes stale on its own if the fault ends otherwise
 * (finish_fault() finding the PTE changed). A slot taken by another fault
 * meanwhile only makes this one's call count as a write: over-reporting,
 * never a lost write.
 */
void rdmig_region_transfer_write_fault(struct rdmig_region *r, pgoff_t index)
{
	struct rdmig_tx_mark *m = &r->tx[index % RDMIG_TX_SLOTS];
	struct pid *pid = get_pid(task_pid(current)), *old;
	unsigned long flags;

	spin_lock_irqsave(&r->tx_lock, flags);
	old = m->pid;
	m->pid = pid;
	m->index = index;
	m->nfaults = rdmig_current_faults();
	spin_unlock_irqrestore(&r->tx_lock, flags);
	put_pid(old);
}

/* Whether this set_page_dirty() is the tail of a transfer-view fault. */
static bool rdmig_tx_consume(struct rdmig_region *r, pgoff_t index)
{
	struct rdmig_tx_mark *m = &r->tx[index % RDMIG_TX_SLOTS];
	struct pid *pid = NULL;
	unsigned long flags;

	if (!in_task())
		return false;
	/*
	 * Only this task's own transfer-view fault puts its pid in the slot,
	 * so when it is not there now, it cannot be there for this call:
	 * every guest-view write fault ends here, and takes no region-wide
	 * lock for it.
	 */
	if (READ_ONCE(m->pid) != task_pid(current))
		return false;
	spin_lock_irqsave(&r->tx_lock, flags);
	if (m->pid && m->index == index && m->pid == task_pid(current) &&
	    m->nfaults == rdmig_current_faults()) {
		pid = m->pid;
		m->pid = NULL;
	}
	spin_unlock_irqrestore(&r->tx_lock, flags);
	put_pid(pid);
	return !!pid;
}

/*
 * ->dirty_folio. Writers that went through get_user_pages (process_vm_writev,
 * O_DIRECT reads, ptrace, vhost-vdpa, VFIO) wrote through a kernel mapping
 * that no write-protect can stop, and report with set_page_dirty_lock() or
 * unpin_user_pages_dirty_lock() when they release the page, the folio
 * locked and the write complete. Marking the page DIRTY here, under the
 * folio lock a re-arm also takes, keeps the invariant: either the re-arm
 * comes first and this bit is reported by the next get-and-clear, or this
 * comes first and the re-arm reports it, the data already in memory.
 *
 * Other callers, and why they may be counted or not:
 *  - the write fault's own call (fault_dirty_shared_page) through the
 *    guest view: page_mkwrite has just set the same bits, harmless;
 *    through the transfer view: matched to its page_mkwrite and ignored;
 *  - PTE-dirty calls (zap_pte_range, try_to_unmap/migrate, GUP's
 *    FOLL_TOUCH), under the page table lock: for a guest-view PTE the bit
 *    is set already (a guest PTE is writable only after page_mkwrite set
 *    DIRTY, and every clear write-protects first); for a transfer-view PTE
 *    it over-reports, which is safe; our own unmap_mapping_pages() of pages
 *    it just cleared is ignored.
 * This may run in atomic context (under a page table lock): bit operations
 * only, the watermark event goes to a work item.
 *
 * PG_dirty is left alone (never set: nothing writes a region back), so
 * unpin_user_pages_dirty_lock() and bio_check_pages_dirty(), which skip a
 * folio that is already PG_dirty, always come here.
 */
void rdmig_region_dirty_folio(struct rdmig_region *r, struct folio *folio)
{
	pgoff_t index = folio->index, end = index + folio_nr_pages(folio);

	if (index >= r->npages || rdmig_tx_consume(r, index))
		return;
	if (READ_ONCE(r->unmapper) == current && index >= r->unmap_first &&
	    index < r->unmap_end)
		return;
	for (; index < end && index < r->npages; index++)
		if (rdmig_page_written(r, index))
			schedule_work(&r->wm_work);
}

u64 rdmig_region_pagemap_entry(struct rdmig_region *r, pgoff_t index)
{
	struct address_space *mapping = r->inode->i_mapping;
	struct folio *folio;
	u64 e = 0;

	folio = filemap_get_folio(mapping, index);
	if (folio) {
		e |= RDMIG_PM_PRESENT;
		if (folio_maybe_dma_pinned(folio))
			e |= RDMIG_PM_PINNED;
		folio_put(folio);
	}
	if (test_bit(index, r->dirty))
		e |= RDMIG_PM_DIRTY;
	if (test_bit(index, r->written))
		e |= RDMIG_PM_WRITTEN;
	if (!test_bit(index, r->written) || test_bit(index, r->zeroed))
		e |= RDMIG_PM_ZERO;
	return e;
}

/* ---- info -------------------------------------------------------------- */

static u64 rdmig_region_count_pinned(struct rdmig_region *r)
{
	struct address_space *mapping = r->inode->i_mapping;
	struct folio_batch fbatch;
	pgoff_t index = 0;
	unsigned int i;
	u64 pinned = 0;

	folio_batch_init(&fbatch);
	while (filemap_get_folios(mapping, &index, r->npages - 1, &fbatch)) {
		for (i = 0; i < folio_batch_count(&fbatch); i++)
			if (folio_maybe_dma_pinned(fbatch.folios[i]))
				pinned += folio_nr_pages(fbatch.folios[i]);
		folio_batch_release(&fbatch);
		cond_resched();
	}
	return pinned;
}

void rdmig_region_snapshot(struct rdmig_region *r,
			   struct rdmig_region_snapshot *s)
{
	u64 written = atomic64_read(&r->nwritten);

	memset(s, 0, sizeof(*s));
	s->id = r->id;
	strscpy(s->name, r->name, sizeof(s->name));
	s->length = r->length;
	/*
	 * The number of a creator that exited may already belong to another
	 * process: only a live thread group is named, through its own struct
	 * pid, never by looking the number up again.
	 */
	s->owner_vnr = pid_has_task(r->owner, PIDTYPE_TGID) ?
		       pid_vnr(r->owner) : 0;
	s->tracking = READ_ONCE(r->tracking);
	spin_lock(&r->bind_lock);
	s->bound = r->bound_sk;
	s->bound_portid = r->bound_portid;
	spin_unlock(&r->bind_lock);
	s->watermark = READ_ONCE(r->watermark);
	s->present_pages = READ_ONCE(r->inode->i_mapping->nrpages);
	s->written_pages = written;
	s->dirty_pages = atomic64_read(&r->ndirty);
	s->pinned_pages = rdmig_region_count_pinned(r);
	s->zero_pages = r->npages - written + atomic64_read(&r->nzeroed);
	s->write_faults = atomic64_read(&r->write_faults);
	s->rearms = atomic64_read(&r->rearms);
	s->rearm_ns = atomic64_read(&r->rearm_ns);
	s->dirty_gets = atomic64_read(&r->dirty_gets);
	s->zero_reclaimed = atomic64_read(&r->zero_reclaimed);
}

/* id, name and length are fixed at creation: no lock needed to read them. */
u32 rdmig_region_id(const struct rdmig_region *r)
{
	return r->id;
}

void rdmig_region_name(const struct rdmig_region *r, char *buf)
{
	strscpy(buf, r->name, RDMIG_NAME_LEN);
}

u64 rdmig_region_length(const struct rdmig_region *r)
{
	return r->length;
}

u64 rdmig_region_watermark(const struct rdmig_region *r)
{
	return READ_ONCE(r->watermark);
}

/* ---- re-arming ----------------------------------------------------------- */

/*
 * Where reported pages go: a bitmap of the whole range (netlink, whose
 * message holds it anyway), or a list of the non-zero words only (the
 * ioctl path, so that its cost follows the dirty pages, not the range).
 */
struct rdmig_dirty_sink {
	u64 first;
	u64 *bitmap;
	struct rdmig_dirty_word *words;
	unsigned int cap;
	unsigned int n;
};

static void rdmig_sink_put(struct rdmig_dirty_sink *s, u64 page)
{
	u64 w = (page - s->first) / 64, bit = 1ULL << ((page - s->first) % 64);

	if (s->bitmap) {
		s->bitmap[w] |= bit;
		return;
	}
	if (!s->n || s->words[s->n - 1].index != w) {
		s->words[s->n].index = w;
		s->words[s->n].bits = 0;
		s->n++;
	}
	s->words[s->n - 1].bits |= bit;
}

/* Whether pages of @page's word can still be reported. */
static bool rdmig_sink_room(const struct rdmig_dirty_sink *s, u64 page)
{
	return s->bitmap || s->n < s->cap ||
	       s->words[s->n - 1].index == (page - s->first) / 64;
}

/* Clear @index's DIRTY bit and write-protect it; true if it was dirty. */
static bool rdmig_rearm_one(struct rdmig_region *r, pgoff_t index)
{
	struct folio *folio;
	bool was;

	folio = filemap_lock_folio(r->inode->i_mapping, index);
	was = test_and_clear_bit(index, r->dirty);
	if (folio) {
		if (was) {
			/*
			 * Set directly by some (KVM's kvm_set_page_dirty), it
			 * would make unpin_user_pages_dirty_lock() skip us.
			 */
			folio_clear_dirty(folio);
			rdmig_mkclean(folio);
		}
		folio_unlock(folio);
		folio_put(folio);
	}
	return was;
}

/*
 * unmap_mapping_pages() under r->lock, telling dirty_folio that the
 * set_page_dirty() calls it makes for the dirty PTEs it zaps are ours:
 * they are writes already reported (or being given back), not new ones.
 */
static void rdmig_unmap_pages(struct rdmig_region *r, pgoff_t first,
			      pgoff_t n)
{
	r->unmap_first = first;
	r->unmap_end = first + n;
	WRITE_ONCE(r->unmapper, current);
	unmap_mapping_pages(r->inode->i_mapping, first, n, false);
	WRITE_ONCE(r->unmapper, NULL);
}

/*
 * Batched re-arming, under r->lock. The folios of a span are locked one
 * by one in index order and their DIRTY bits cleared (rdmig_batch_add);
 * then one wp_shared_mapping_range() write-protects every PTE of the
 * span in every mapping of the region with one TLB flush per mapping,
 * and only then are the folios unlocked (rdmig_batch_flush).
 *
 * Why no write is lost: a write fault sets DIRTY in page_mkwrite with
 * the folio locked, and the fault makes the PTE writable before it
 * unlocks the folio. With the folio locked here, such a fault either
 * finished before the lock was taken (its bit is seen and cleared here,
 * its writable PTE is write-protected by the flush below) or waits for
 * the unlock, after the write-protect, and sets the bit again. A store
 * through a PTE still writable between the clear and the flush completes
 * before the get-and-clear returns, so it is in the data read afterwards.
 * Pages of the span that are not locked (clean ones in the gaps) lose
 * nothing either: their bits are not cleared, and a write-protect only
 * makes their next store fault.
 *
 * Locking: folio locks are taken in ascending index order and nobody
 * holds one folio lock while waiting for another of the same region
 * (faults lock one folio; fault-around only trylocks); folio lock ->
 * i_mmap_rwsem -> page table lock is the order folio_mkclean() uses too.
 */
static void rdmig_rearm_delay(void)
{
	unsigned int delay = READ_ONCE(rdmig_rearm_delay_us);

	if (delay)
		usleep_range(delay, delay + 1);
}

/*
 * Moving averages of rearm_adapt, in ns scaled by RDMIG_COST_SCALE (a
 * range's cost per page of width is well under a ns natively):
 * new = old + (sample - old) / 8.
 */
#define RDMIG_COST_SCALE	256

static void rdmig_ewma(u64 *avg, u64 ns, u64 units)
{
	u64 sample = ns * RDMIG_COST_SCALE / units ?: 1;

	*avg = *avg ? *avg - *avg / 8 + sample / 8 : sample;
}

/*
 * Whether a span of @n (> 1) locked folios over @width pages is
 * write-protected per folio: when that has cost less lately, n times a
 * folio's average against width times a range's per page. Each average
 * is per unit, so spans of any density and width inform the same choice;
 * each includes the IPIs its flushes cost when another CPU runs the
 * VMM's threads, which is what the choice mostly turns on and what the
 * module cannot see (mm_cpumask() also holds CPUs that only lazily keep
 * the mm, which a flush skips).
 */
static bool rdmig_span_per_folio(struct rdmig_region *r, unsigned int n,
				 u64 width)
{
	return r->cost_pte && r->cost_folio &&
	       r->cost_folio * n < r->cost_pte * width;
}

/* Write-protect run[from, to) one folio at a time; timed for the average. */
static void rdmig_wp_folios(struct rdmig_region *r, unsigned int from,
			    unsigned int to)
{
	u64 t0 = ktime_get_ns();
	unsigned int i;

	for (i = from; i < to; i++)
		rdmig_mkclean(r->run[i]);
	rdmig_ewma(&r->cost_folio, ktime_get_ns() - t0, to - from);
}

/* Write-protect run[from, to) with one range over their span; timed. */
static void rdmig_wp_span(struct rdmig_region *r, unsigned int from,
			  unsigned int to)
{
	pgoff_t first = r->run[from]->index;
	u64 width = r->run[to - 1]->index - first + 1, t0 = ktime_get_ns();

	rdmig_wp_range(r, first, width);
	rdmig_ewma(&r->cost_pte, ktime_get_ns() - t0, width);
}

/*
 * Every RDMIG_ADAPT_PROBE-th span of several folios (and the first, while
 * an average is unknown) is a probe, so that both averages follow the
 * current conditions (a writer thread that started or stopped): its first
 * RDMIG_ADAPT_PROBE_FOLIOS folios at most, half of it at most, take the
 * other way. Only a few folios, so that a probe per folio with a writer
 * running costs a few IPIs, not one per dirty page.
 */
#define RDMIG_ADAPT_PROBE		64
#define RDMIG_ADAPT_PROBE_FOLIOS	8

static void rdmig_batch_flush(struct rdmig_region *r)
{
	unsigned int i, k = 0, n = r->run_n;
	u64 width = r->run_last - r->run_first + 1;
	bool per_folio;

	if (!n)
		return;
	rdmig_rearm_delay();
	/*
	 * A span of one page (scattered dirty pages) costs one flush either
	 * way; folio_mkclean() finds its PTEs by rmap, without the page
	 * table walk and notifier round of a range. Nothing is chosen, so
	 * it is not timed either: in a guest whose clocksource is the HPET
	 * each clock read traps to the hypervisor, and the two reads cost
	 * more than the page's re-arm (12 % of a 64 GiB scattered
	 * get-and-clear under TCG, all in read_hpet). The averages come
	 * from spans of several folios.
	 */
	if (n == 1) {
		rdmig_mkclean(r->run[0]);
		goto unlock;
	}
	if (!READ_ONCE(rdmig_rearm_adapt)) {
		rdmig_wp_range(r, r->run_first, width);
		goto unlock;
	}
	per_folio = rdmig_span_per_folio(r, n, width);
	if (!r->cost_pte || !r->cost_folio ||
	    ++r->adapt_spans % RDMIG_ADAPT_PROBE == 0)
		k = min_t(unsigned int, n / 2, RDMIG_ADAPT_PROBE_FOLIOS);
	if (per_folio) {
		if (k)
			rdmig_wp_span(r, 0, k);
		rdmig_wp_folios(r, k, n);
	} else {
		if (k)
			rdmig_wp_folios(r, 0, k);
		rdmig_wp_span(r, k, n);
	}
unlock:
	for (i = 0; i < r->run_n; i++) {
		folio_unlock(r->run[i]);
		folio_put(r->run[i]);
	}
	r->run_n = 0;
}

/*
 * Lock @index's folio into the batch and clear its DIRTY bit; @all takes
 * it even when it was clean (tracking on write-protects every page).
 * Returns whether the bit was set.
 */
static bool rdmig_batch_add(struct rdmig_region *r, pgoff_t index, bool all)
{
	struct folio *folio;
	bool was;

	if (r->run_n && (r->run_n == RDMIG_REARM_RUN_MAX ||
			 index - r->run_last > READ_ONCE(rdmig_rearm_span)))
		rdmig_batch_flush(r);
	folio = filemap_lock_folio(r->inode->i_mapping, index);
	was = test_and_clear_bit(index, r->dirty);
	if (folio && !was && !all) {
		folio_unlock(folio);
		folio_put(folio);
		return false;
	}
	if (!folio)		/* absent (punched): nothing is mapped */
		return was;
	folio_clear_dirty(folio);	/* see rdmig_rearm_one() */
	if (!r->run_n)
		r->run_first = index;
	r->run_last = index;
	r->run[r->run_n++] = folio;
	return was;
}

/* Clear @index's DIRTY bit and write-protect it, by the path selected. */
static bool rdmig_rearm(struct rdmig_region *r, pgoff_t index)
{
	if (!READ_ONCE(rdmig_rearm_span))
		return rdmig_rearm_one(r, index);
	return rdmig_batch_add(r, index, false);
}

/*
 * Clear every DIRTY bit of a present page and write-protect every present
 * page, with a writer possibly running. First the whole region is
 * write-protected at once (one flush): that is only an optimisation, so
 * that the spans below, which are what the argument above rests on, find
 * almost no writable PTE left and flush nothing. Absent pages keep their
 * bits (a punched page is dirty until reported).
 */
static void rdmig_rearm_all(struct rdmig_region *r)
{
	struct address_space *mapping = r->inode->i_mapping;
	bool batched = READ_ONCE(rdmig_rearm_span);
	struct folio_batch fbatch;
	pgoff_t index = 0;
	unsigned int i;
	u64 cleared = 0;

	if (batched) {
		rdmig_wp_range(r, 0, r->npages);
		rdmig_rearm_delay();
	}
	folio_batch_init(&fbatch);
	while (filemap_get_folios(mapping, &index, r->npages - 1, &fbatch)) {
		for (i = 0; i < folio_batch_count(&fbatch); i++) {
			struct folio *folio = fbatch.folios[i];

			if (batched) {
				cleared += rdmig_batch_add(r, folio->index,
							   true);
				continue;
			}
			folio_lock(folio);
			if (folio->mapping == mapping) {
				if (test_and_clear_bit(folio->index, r->dirty))
					cleared++;
				folio_clear_dirty(folio);
				rdmig_mkclean(folio);
			}
			folio_unlock(folio);
		}
		folio_batch_release(&fbatch);
		/* Sleeping with folios of the batch locked is allowed. */
		cond_resched();
	}
	rdmig_batch_flush(r);
	atomic64_sub(cleared, &r->ndirty);
	clear_bit(RDMIG_R_WM_FIRED, &r->flags);
}

/*
 * Clear every DIRTY bit, returning how many were set. The summary is
 * cleared before the words it covers, as in rdmig_get_dirty(): a bit set
 * after its word was cleared here finds its summary bit clear and sets it
 * again (rdmig_region_mark_summary). Each word is taken with xchg(), a
 * fully ordered read-modify-write, which rdmig_track_on() relies on.
 */
static u64 rdmig_clear_all_dirty(struct rdmig_region *r)
{
	unsigned long nw = BITS_TO_LONGS(r->npages);
	unsigned long ns = BITS_TO_LONGS(DIV_ROUND_UP(r->npages, 64));
	unsigned long s, w, wend;
	u64 cleared = 0;

	for (s = 0; s < ns; s++) {
		xchg(&r->dsum[s], 0);
		wend = min(nw, (s + 1) * BITS_PER_LONG);
		for (w = s * BITS_PER_LONG; w < wend; w++)
			if (READ_ONCE(r->dirty[w]))
				cleared += hweight_long(xchg(&r->dirty[w], 0));
	}
	return cleared;
}

/*
 * PG_dirty, which some set directly (KVM's kvm_set_page_dirty()), makes
 * unpin_user_pages_dirty_lock() skip our dirty_folio: clear it where it
 * is set, as every re-arm does (rdmig_rearm_one). A lockless walk of the
 * page cache: a folio's flags are read without a reference (reading those
 * of a folio freed meanwhile is harmless), and only a folio found dirty
 * is taken, checked to be still ours, and changed.
 */
static void rdmig_clear_pg_dirty(struct rdmig_region *r)
{
	XA_STATE(xas, &r->inode->i_mapping->i_pages, 0);
	struct folio *folio;

	rcu_read_lock();
	xas_for_each(&xas, folio, r->npages - 1) {
		if (xas_retry(&xas, folio) || xa_is_value(folio))
			continue;
		if (folio_test_dirty(folio) && folio_try_get_rcu(folio)) {
			if (folio == xas_reload(&xas))
				folio_clear_dirty(folio);
			folio_put(folio);
		}
		if (need_resched()) {
			xas_pause(&xas);
			cond_resched_rcu();
		}
	}
	rcu_read_unlock();
}

/*
 * Tracking on without any per-page lock or flush: clear every DIRTY bit
 * (present or absent page: a new migration starts from here), then
 * write-protect every PTE of every mapping of the region with one
 * wp_shared_mapping_range(), one TLB flush per mapping.
 *
 * Why no write that completes after this returns is lost, although no
 * folio lock is taken: a store through a PTE still writable before the
 * write-protect completes before we return (the flush waits for it), so
 * it is in the data an agent reads afterwards. A write fault racing with
 * us sets DIRTY twice: in page_mkwrite, before its PTE is writable (that
 * one the clear may undo), and again in set_page_dirty() ->
 * rdmig_region_dirty_folio(), which fault_dirty_shared_page() calls after
 * the PTE was made writable, under the page table lock. If the fault's
 * page table lock section comes after the write-protect's, that second
 * set comes after our clear and stays; if before, the write-protect finds
 * the writable PTE and write-protects it. A fault that installs a PTE
 * where the walk found no page table, without meeting it on a lock: the
 * fault writes the PTE before its fully ordered second set, our clear is
 * a fully ordered xchg before the walk, so either the set comes after the
 * clear or the walk sees the PTE. get_user_pages writers report in
 * dirty_folio after their write: before the clear, the data is there;
 * after it, the bit stays. rdmig_rearm_delay() widens the window between
 * the clear and the write-protect for tests/guest/16-track-race.sh.
 */
static void rdmig_track_on(struct rdmig_region *r)
{
	u64 cleared = rdmig_clear_all_dirty(r);

	atomic64_sub(cleared, &r->ndirty);
	rdmig_rearm_delay();
	rdmig_wp_range(r, 0, r->npages);
	rdmig_clear_pg_dirty(r);
	clear_bit(RDMIG_R_WM_FIRED, &r->flags);
}

int rdmig_region_set(struct rdmig_region *r, u32 flags, u32 tracking,
		     u64 watermark)
{
	if (flags & ~RDMIG_SET_ALL)
		return -EINVAL;
	if ((flags & RDMIG_SET_TRACKING) && tracking > 1)
		return -EINVAL;
	if ((flags & RDMIG_SET_WATERMARK) && watermark > r->npages)
		return -EINVAL;

	mutex_lock(&r->lock);
	if (flags & RDMIG_SET_WATERMARK) {
		WRITE_ONCE(r->watermark, watermark);
		clear_bit(RDMIG_R_WM_FIRED, &r->flags);
	}
	if (flags & RDMIG_SET_TRACKING) {
		if (tracking && READ_ONCE(rdmig_track_wp_all))
			rdmig_track_on(r);
		else if (tracking)
			rdmig_rearm_all(r);
		WRITE_ONCE(r->tracking, tracking);
	}
	mutex_unlock(&r->lock);
	return 0;
}

/* A range for GET_DIRTY: word-aligned, as the uapi header says. */
static int rdmig_check_dirty_range(struct rdmig_region *r, u64 first,
				   u64 npages)
{
	if (!npages || first >= r->npages || npages > r->npages - first)
		return -EINVAL;
	if (first % 64)
		return -EINVAL;
	if (npages % 64 && first + npages != r->npages)
		return -EINVAL;
	return 0;
}

/*
 * The next 64-page word at or after @w (and before @wend) that may hold a
 * dirty page: from the summary, or (dirty_summary=0, the old path) from
 * the bitmap itself, which costs a pass over every word of the range.
 */
static unsigned long rdmig_next_word(struct rdmig_region *r, unsigned long w,
				     unsigned long wend, u64 end)
{
	if (READ_ONCE(rdmig_dirty_summary))
		return find_next_bit(r->dsum, wend, w);
	return find_next_bit(r->dirty, end, w * 64) / 64;
}

/*
 * The walk visits only words whose summary bit is set, so its cost is
 * the summary's words (one per 4096 pages) plus the dirty words. Results
 * never split a 64-page word, so a word sink that is full stops cleanly
 * at a word boundary: *next is where a further call has to go on (first
 * + npages when done).
 *
 * With CLEAR, a word's summary bit is cleared before the word is read
 * (see rdmig_region_mark_summary) and set again after the word is done
 * if any bit is still set in it (set meanwhile, by a write after its
 * page was re-armed).
 */
static int rdmig_get_dirty(struct rdmig_region *r, u64 first, u64 npages,
			   u32 flags, struct rdmig_dirty_sink *sink,
			   u64 *next, u64 *ndirty)
{
	u64 end = first + npages, stop, count = 0, t0;
	unsigned long w, wend = DIV_ROUND_UP(end, 64), idx, wlim;
	bool clear = flags & RDMIG_DIRTY_F_CLEAR;
	int err;

	if (flags & ~RDMIG_DIRTY_F_ALL)
		return -EINVAL;
	err = rdmig_check_dirty_range(r, first, npages);
	if (err)
		return err;
	sink->first = first;
	sink->n = 0;
	if (sink->bitmap)
		memset(sink->bitmap, 0, DIV_ROUND_UP(npages, 64) * sizeof(u64));
	stop = end;

	if (clear) {
		mutex_lock(&r->lock);
		if (!r->tracking) {
			mutex_unlock(&r->lock);
			return -EINVAL;
		}
	}
	t0 = ktime_get_ns();
	for (w = first / 64; ; w++) {
		w = rdmig_next_word(r, w, wend, end);
		if (w >= wend)
			break;
		if (!rdmig_sink_room(sink, w * 64)) {
			stop = w * 64;
			break;
		}
		wlim = min_t(u64, end, w * 64 + 64);
		if (!clear) {
			idx = w * 64;
			for_each_set_bit_from(idx, r->dirty, wlim) {
				rdmig_sink_put(sink, idx);
				count++;
			}
			continue;
		}
		test_and_clear_bit(w, r->dsum);
		/*
		 * Pairs with the full barrier of test_and_set_bit() of a
		 * DIRTY bit before rdmig_region_mark_summary(): the word is
		 * read after the summary bit is clear, even if it was clear
		 * already (a failed test_and_clear_bit() orders nothing).
		 */
		smp_mb__after_atomic();
		idx = w * 64;
		for_each_set_bit_from(idx, r->dirty, wlim) {
			if (!rdmig_rearm(r, idx))
				continue;
			rdmig_sink_put(sink, idx);
			count++;
		}
		if (find_next_bit(r->dirty, wlim, w * 64) < wlim)
			set_bit(w, r->dsum);
		/* Sleeping with folios of the batch locked is allowed. */
		cond_resched();
	}
	*next = stop;
	*ndirty = count;
	if (!clear)
		return 0;
	rdmig_batch_flush(r);
	atomic64_sub(count, &r->ndirty);
	if (atomic64_read(&r->ndirty) < READ_ONCE(r->watermark))
		clear_bit(RDMIG_R_WM_FIRED, &r->flags);
	atomic64_add(count, &r->rearms);
	atomic64_add(ktime_get_ns() - t0, &r->rearm_ns);
	atomic64_inc(&r->dirty_gets);
	mutex_unlock(&r->lock);
	return 0;
}

int rdmig_region_get_dirty(struct rdmig_region *r, u64 first, u64 npages,
			   u32 flags, u64 *bitmap, u64 *ndirty)
{
	struct rdmig_dirty_sink sink = { .bitmap = bitmap };
	u64 next;

	return rdmig_get_dirty(r, first, npages, flags, &sink, &next, ndirty);
}

int rdmig_region_get_dirty_words(struct rdmig_region *r, u64 first,
				 u64 npages, u32 flags,
				 struct rdmig_dirty_word *words,
				 unsigned int cap, unsigned int *nwords,
				 u64 *next, u64 *ndirty)
{
	struct rdmig_dirty_sink sink = { .words = words, .cap = cap };
	int err;

	if (!cap)
		return -EINVAL;
	err = rdmig_get_dirty(r, first, npages, flags, &sink, next, ndirty);
	*nwords = sink.n;
	return err;
}

static void rdmig_redirty_page(struct rdmig_region *r, pgoff_t index)
{
	if (test_and_set_bit(index, r->dirty))
		return;
	rdmig_region_mark_summary(r, index);
	atomic64_inc(&r->ndirty);
}

/* Set the bits of reported pages again, for a report that was lost. */
void rdmig_region_redirty(struct rdmig_region *r, u64 first,
			  const struct rdmig_dirty_word *words,
			  unsigned int nwords)
{
	unsigned int i, b;

	for (i = 0; i < nwords; i++)
		for (b = 0; b < 64; b++)
			if (words[i].bits & (1ULL << b))
				rdmig_redirty_page(r, first +
						   words[i].index * 64 + b);
}

void rdmig_region_redirty_bitmap(struct rdmig_region *r, u64 first,
				 u64 npages, const u64 *bitmap)
{
	u64 i;

	for (i = 0; i < npages; i++)
		if (bitmap[i / 64] & (1ULL << (i % 64)))
			rdmig_redirty_page(r, first + i);
}

/* ---- zero scan ----------------------------------------------------------- */

static bool rdmig_folio_is_zero(struct folio *folio)
{
	void *kaddr = kmap_local_folio(folio, 0);
	bool zero = !memchr_inv(kaddr, 0, PAGE_SIZE);

	kunmap_local(kaddr);
	return zero;
}

/*
 * Whether someone besides the page cache, the mappings and our lookup
 * holds the folio: a get_user_pages writer (a pin, or a plain reference
 * as O_DIRECT takes in 6.1) writes through a kernel mapping that no
 * write-protect stops, possibly in the middle of a copy. A folio not on
 * the LRU holds one transient reference of its own (the per-CPU LRU batch
 * right after the fault that allocated it, or isolation for migration).
 * Extra references that are not writers only make us keep the page.
 */
static bool rdmig_folio_busy(struct folio *folio)
{
	int expected;

	/* Regions allocate order-0 folios only. */
	if (folio_test_large(folio))
		return true;
	expected = 1 + page_mapcount(&folio->page) + 1;
	if (!folio_test_lru(folio))
		expected++;
	return folio_maybe_dma_pinned(folio) ||
	       folio_ref_count(folio) > expected;
}

/*
 * Give back a locked, zero folio: unmap it from both views, then remove it
 * only if nobody but the page cache and us holds it. With the folio locked
 * and unmapped, no new mapping or pin can appear (faults take the lock).
 */
static bool rdmig_reclaim_folio(struct rdmig_region *r, struct folio *folio)
{
	struct address_space *mapping = r->inode->i_mapping;

	if (folio_maybe_dma_pinned(folio))
		return false;
	rdmig_unmap_pages(r, folio->index, 1);
	if (folio_mapped(folio) || folio_ref_count(folio) != 2 ||
	    !rdmig_folio_is_zero(folio))
		return false;
	return generic_error_remove_page(mapping, &folio->page) == 0;
}

int rdmig_region_zero_scan(struct rdmig_region *r, u64 first, u64 npages,
			   u32 flags, u64 *zero, u64 *reclaimed)
{
	struct address_space *mapping = r->inode->i_mapping;
	u64 end = first + npages, nzero = 0, nrecl = 0;
	unsigned long idx;
	bool was_dirty;

	if (flags & ~RDMIG_ZERO_F_ALL)
		return -EINVAL;
	if (!npages || first >= r->npages || npages > r->npages - first)
		return -EINVAL;

	mutex_lock(&r->lock);
	idx = first;
	for_each_set_bit_from(idx, r->written, end) {
		struct folio *folio = filemap_lock_folio(mapping, idx);

		if (!folio)
			continue;
		if (folio_test_hwpoison(folio))
			goto next;
		/*
		 * A page is marked zero only if nothing can write it until
		 * the mark is set. Write-protect first: with the folio
		 * locked, a CPU store or a get_user_pages(FOLL_WRITE) after
		 * this faults and waits in page_mkwrite, and clears the mark.
		 * What the write-protect cannot stop is a writer that already
		 * holds the page (a pin or a reference taken before it,
		 * possibly mid-copy): such a page is skipped. folio_mkclean()
		 * flushes the TLBs, which also waits out a GUP-fast that saw
		 * the old PTE; its reference is visible afterwards.
		 */
		was_dirty = test_bit(idx, r->dirty);
		rdmig_mkclean(folio);
		if (rdmig_folio_busy(folio) || !rdmig_folio_is_zero(folio))
			goto next;
		/*
		 * A report (dirty_folio) that came in while we read the page
		 * means it was written meanwhile by a path we did not stop.
		 */
		if (!was_dirty && test_bit(idx, r->dirty))
			goto next;
		nzero++;
		/*
		 * A dirty zero page is kept while tracking is on: the agent
		 * must still learn that it changed (to zero) since last sync.
		 */
		if ((flags & RDMIG_ZERO_F_RECLAIM) &&
		    !(r->tracking && test_bit(idx, r->dirty)) &&
		    rdmig_reclaim_folio(r, folio)) {
			nrecl++;
			if (test_and_clear_bit(idx, r->dirty))
				atomic64_dec(&r->ndirty);
			if (test_and_clear_bit(idx, r->zeroed))
				atomic64_dec(&r->nzeroed);
			clear_bit(idx, r->written);
			atomic64_dec(&r->nwritten);
		} else if (!test_and_set_bit(idx, r->zeroed)) {
			atomic64_inc(&r->nzeroed);
		}
next:
		folio_unlock(folio);
		folio_put(folio);
		cond_resched();
	}
	atomic64_add(nrecl, &r->zero_reclaimed);
	mutex_unlock(&r->lock);
	*zero = nzero;
	*reclaimed = nrecl;
	return 0;
}

/* ---- marking written ------------------------------------------------------ */

/*
 * Pages filled behind the guest view's back (RDMA WRITE through the
 * transfer view) are data, not known zero. Only present pages are marked:
 * an absent page was never stored to and reads as zero. r->lock keeps a
 * zero scan from giving back a folio between the lookup and the marking,
 * and from setting scanned-zero on a page this call has just cleared.
 */
static int rdmig_mark_present(struct rdmig_region *r, u64 first, u64 npages,
			      u32 flags, bool dirty, u64 *marked)
{
	struct address_space *mapping = r->inode->i_mapping;
	struct folio_batch fbatch;
	pgoff_t index = first;
	unsigned int i;
	u64 n = 0, wm = 0;

	if (flags)
		return -EINVAL;
	if (!npages || first >= r->npages || npages > r->npages - first)
		return -EINVAL;

	folio_batch_init(&fbatch);
	mutex_lock(&r->lock);
	while (filemap_get_folios(mapping, &index, first + npages - 1,
				  &fbatch)) {
		for (i = 0; i < folio_batch_count(&fbatch); i++) {
			struct folio *folio = fbatch.folios[i];
			pgoff_t idx = folio->index;
			pgoff_t end = idx + folio_nr_pages(folio);

			idx = max_t(pgoff_t, idx, first);
			end = min_t(pgoff_t, end, first + npages);
			for (; idx < end; idx++, n++) {
				if (dirty) {
					wm = rdmig_page_written(r, idx) ?: wm;
					continue;
				}
				if (!test_and_set_bit(idx, r->written))
					atomic64_inc(&r->nwritten);
				if (test_and_clear_bit(idx, r->zeroed))
					atomic64_dec(&r->nzeroed);
			}
		}
		folio_batch_release(&fbatch);
		cond_resched();
	}
	mutex_unlock(&r->lock);
	if (wm)
		rdmig_nl_notify_watermark(r, wm);
	*marked = n;
	return 0;
}

int rdmig_region_mark_written(struct rdmig_region *r, u64 first, u64 npages,
			      u32 flags, u64 *marked)
{
	return rdmig_mark_present(r, first, npages, flags, false, marked);
}

/*
 * For writes nothing could see (device DMA through a long-term pin), the
 * VMM declares the pages dirty once they are written. Setting the bits
 * after the write completed is all the invariant needs: a get-and-clear
 * that clears them afterwards reports them. Absent pages are skipped as
 * in rdmig_region_mark_written(): a DMA target is pinned, so present.
 */
int rdmig_region_mark_dirty(struct rdmig_region *r, u64 first, u64 npages,
			    u32 flags, u64 *marked)
{
	return rdmig_mark_present(r, first, npages, flags, true, marked);
}

/* ---- netlink authority --------------------------------------------------- */

/* @sk (NULL unbinds) gets a reference of the region's own. */
int rdmig_region_bind(struct rdmig_region *r, struct sock *sk, u32 portid)
{
	struct sock *old;

	if (sk)
		sock_hold(sk);
	else
		portid = 0;
	spin_lock(&r->bind_lock);
	old = r->bound_sk;
	r->bound_sk = sk;
	r->bound_portid = portid;
	spin_unlock(&r->bind_lock);
	if (old)
		sock_put(old);
	return 0;
}

/*
 * The held reference keeps the bound socket's memory, so no other socket
 * can have its address while it is bound: comparing pointers compares
 * sockets, whatever port ids come and go.
 */
bool rdmig_region_bound_to(struct rdmig_region *r, const struct sock *sk)
{
	bool ret;

	spin_lock(&r->bind_lock);
	ret = sk && r->bound_sk == sk;
	spin_unlock(&r->bind_lock);
	return ret;
}

/*
 * NETLINK_URELEASE comes after netlink_release() has unhashed and
 * orphaned the socket, so a new socket may already hold the same port:
 * only a bound socket that is dead (SOCK_DEAD) is the one released.
 */
void rdmig_regions_unbind_released(struct net *net, u32 portid)
{
	struct rdmig_region *r;
	unsigned long idx;

	/* Regions are freed only after xa_erase(), so xa_lock keeps them. */
	xa_lock(&rdmig_regions);
	xa_for_each(&rdmig_regions, idx, r) {
		struct sock *old = NULL;

		spin_lock(&r->bind_lock);
		if (r->bound_sk && r->bound_portid == portid &&
		    net_eq(sock_net(r->bound_sk), net) &&
		    sock_flag(r->bound_sk, SOCK_DEAD)) {
			old = r->bound_sk;
			r->bound_sk = NULL;
			r->bound_portid = 0;
		}
		spin_unlock(&r->bind_lock);
		/* Not the last reference: netlink_release() still has one. */
		if (old)
			sock_put(old);
	}
	xa_unlock(&rdmig_regions);
}
