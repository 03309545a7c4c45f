/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The region core: one implementation of every region operation, called
 * by both the ioctl path (chardev.c, region_fops.c) and netlink.c.
 */
#ifndef _RDMIG_REGION_H
#define _RDMIG_REGION_H

#include <linux/types.h>
#include <linux/kref.h>

#include <uapi/linux/rdmig.h>

struct net;
struct sock;
struct rdmig_region;

/* Lookup by id; takes a reference. NULL if no such region. */
struct rdmig_region *rdmig_region_get_by_id(u32 id);
void rdmig_region_put(struct rdmig_region *r);

/*
 * Walk for netlink dumps: the region with the smallest id >= *id, with a
 * reference held, and *id set to its id; NULL when none is left.
 * rdmig_regions_generation() changes whenever a region is created or
 * destroyed, for NLM_F_DUMP_INTR.
 */
struct rdmig_region *rdmig_region_next(u32 *id);
unsigned int rdmig_regions_generation(void);

struct rdmig_region_snapshot {
	u32 id;
	char name[RDMIG_NAME_LEN];
	u64 length;
	pid_t owner_vnr;		/* in the caller's pid namespace; 0 if
					 * not visible there or exited
					 */
	bool tracking;
	bool bound;
	u32 bound_portid;
	u64 watermark;
	u64 present_pages;
	u64 written_pages;
	u64 dirty_pages;
	u64 pinned_pages;
	u64 zero_pages;
	u64 write_faults;
	u64 rearms;
	u64 rearm_ns;
	u64 dirty_gets;
	u64 zero_reclaimed;
};

/*
 * Everything at once, for REGION_GET, STATS_GET and REGION_INFO. It walks
 * the present pages to count pinned ones: not for hot paths.
 */
void rdmig_region_snapshot(struct rdmig_region *r,
			   struct rdmig_region_snapshot *s);
/* Cheap reads of single fields, for events and range checks. */
u32 rdmig_region_id(const struct rdmig_region *r);
/* Copies the name, NUL-terminated, into @buf of RDMIG_NAME_LEN bytes. */
void rdmig_region_name(const struct rdmig_region *r, char *buf);
u64 rdmig_region_length(const struct rdmig_region *r);
u64 rdmig_region_watermark(const struct rdmig_region *r);
/* Task that created the region, for permission checks (no ref taken). */
bool rdmig_region_owned_by_current(struct rdmig_region *r);

/* As struct rdmig_region_set; returns 0 or -errno. */
int rdmig_region_set(struct rdmig_region *r, u32 flags, u32 tracking,
		     u64 watermark);
/*
 * As RDMIG_GET_DIRTY, into a kernel buffer of DIV_ROUND_UP(npages, 64)
 * words. Checks the range (-EINVAL); *ndirty gets the number of bits set.
 */
int rdmig_region_get_dirty(struct rdmig_region *r, u64 first, u64 npages,
			   u32 flags, u64 *bitmap, u64 *ndirty);
/*
 * The same with the result as a list of its non-zero words, for callers
 * whose cost must follow the dirty pages rather than the range. @index is
 * in 64-page words from @first. At most @cap (> 0) words are returned in
 * *nwords; if more were dirty, the call stops at a word boundary and *next
 * is where to go on (first + npages when the range is done). struct
 * rdmig_dirty_word is the uapi's.
 */
int rdmig_region_get_dirty_words(struct rdmig_region *r, u64 first,
				 u64 npages, u32 flags,
				 struct rdmig_dirty_word *words,
				 unsigned int cap, unsigned int *nwords,
				 u64 *next, u64 *ndirty);
/*
 * Marks the pages of @words (relative to @first) DIRTY again, after a
 * get-and-clear whose result could not be delivered. Over-reporting is
 * safe; losing a report is not.
 */
void rdmig_region_redirty(struct rdmig_region *r, u64 first,
			  const struct rdmig_dirty_word *words,
			  unsigned int nwords);
/*
 * The same for a bitmap of DIV_ROUND_UP(npages, 64) words from @first, as
 * netlink puts it in a message that then could not be queued.
 */
void rdmig_region_redirty_bitmap(struct rdmig_region *r, u64 first,
				 u64 npages, const u64 *bitmap);
int rdmig_region_zero_scan(struct rdmig_region *r, u64 first, u64 npages,
			   u32 flags, u64 *zero, u64 *reclaimed);
/*
 * As RDMIG_MARK_WRITTEN: present pages of the range become WRITTEN and lose
 * scanned-zero; *marked gets how many present pages the range held.
 */
int rdmig_region_mark_written(struct rdmig_region *r, u64 first, u64 npages,
			      u32 flags, u64 *marked);
/*
 * As RDMIG_MARK_DIRTY: present pages of the range become DIRTY and WRITTEN
 * and lose scanned-zero, for writes nothing saw (DMA through long-term
 * pins); *marked gets how many present pages the range held.
 */
int rdmig_region_mark_dirty(struct rdmig_region *r, u64 first, u64 npages,
			    u32 flags, u64 *marked);

/*
 * Netlink authority (RDMIG_BIND_NETLINK), see netlink.c: whether @sk, the
 * socket a request was sent on, is the one bound to the region; and, from
 * NETLINK_URELEASE, unbinding every region from the released socket of
 * @portid in @net.
 */
bool rdmig_region_bound_to(struct rdmig_region *r, const struct sock *sk);
void rdmig_regions_unbind_released(struct net *net, u32 portid);

/*
 * Provided by netlink.c: multicast events on the "events" group. Called
 * in process context with no region lock held (they may sleep); the
 * watermark event may be called from page_mkwrite (mmap_lock held).
 */
void rdmig_nl_notify_region_new(struct rdmig_region *r);
void rdmig_nl_notify_region_del(struct rdmig_region *r);
void rdmig_nl_notify_watermark(struct rdmig_region *r, u64 dirty_pages);

#endif /* _RDMIG_REGION_H */
