/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * rdmig: guest-memory regions with dirty, zero and pin tracking, for live
 * migration of virtual machines over RDMA.
 *
 * This is the one header shared by rdmig.ko and every userspace program.
 * Documentation/regions.md explains the model; the rules kept here are
 * those of the kernel's modern uapis (iommufd):
 *  - ioctl numbers carry no size (_IO(RDMIG_IOC_MAGIC, nr)): the command is
 *    the number alone, so a struct that grows keeps its ioctl;
 *  - every ioctl argument starts with __u32 size, the caller's sizeof: the
 *    kernel accepts any size >= the first version of the struct (-EINVAL
 *    below it), reads a shorter one as if the missing tail were zero and
 *    requires bytes it does not know to be zero (-E2BIG otherwise), as
 *    copy_struct_from_user() does; it writes back at most size bytes and
 *    leaves size as it was;
 *  - unknown flags and non-zero reserved fields are -EINVAL;
 *  - unknown ioctls are -ENOTTY;
 *  - region ids are __u32 everywhere (ioctls, netlink, librdmig);
 *  - pointers travel as __u64, lifetimes are tied to file descriptors.
 */
#ifndef _UAPI_LINUX_RDMIG_H
#define _UAPI_LINUX_RDMIG_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define RDMIG_API_VERSION	2

#define RDMIG_DEVICE_NAME	"rdmig"		/* /dev/rdmig */
#define RDMIG_NAME_LEN		32		/* region name, NUL included */

/*
 * Largest region, in bytes. Per-page state is three bits (DIRTY, WRITTEN,
 * scanned-zero) in kvmalloc'ed bitmaps charged to the creator's memory
 * cgroup, so 1 TiB costs 96 MiB of bookkeeping; the module refuses more.
 */
#define RDMIG_REGION_MAX_BYTES	(1ULL << 40)

/*
 * ioctl type. 0xB6 (API version 1) belongs to the FPGA DFL driver
 * (linux/fpga-dfl.h) in Documentation/userspace-api/ioctl/ioctl-number.rst;
 * 0xBD is listed by nobody there, in 6.1 or later (0xB7 nsfs and
 * remoteproc, 0xB8 mshv and Marvell DPI, 0xBA liveupdate are the
 * neighbours in use).
 */
#define RDMIG_IOC_MAGIC		0xBD

/*
 * Command numbers (_IOC_NR): 0x00-0x0f on /dev/rdmig, 0x10-0x3f on region
 * and transfer fds. Never reused, never renumbered.
 */
enum rdmig_ioctl_nr {
	RDMIG_IOC_GET_VERSION		= 0x00,
	RDMIG_IOC_CREATE_REGION		= 0x01,
	RDMIG_IOC_REGION_INFO		= 0x10,
	RDMIG_IOC_REGION_SET		= 0x11,
	RDMIG_IOC_GET_DIRTY		= 0x12,
	RDMIG_IOC_ZERO_SCAN		= 0x13,
	RDMIG_IOC_TRANSFER_FD		= 0x14,
	RDMIG_IOC_BIND_NETLINK		= 0x15,
	RDMIG_IOC_MARK_WRITTEN		= 0x16,
	RDMIG_IOC_MARK_DIRTY		= 0x17,
	RDMIG_IOC_PAGEMAP		= 0x18,
	RDMIG_IOC_GET_DIRTY_WORDS	= 0x19,
};

/* ---- ioctls on /dev/rdmig -------------------------------------------- */

/**
 * struct rdmig_version - RDMIG_GET_VERSION
 * @size: sizeof(struct rdmig_version)
 * @api_version: out, RDMIG_API_VERSION of the running module
 * @module_version: out, NUL-terminated module version string
 */
struct rdmig_version {
	__u32 size;
	__u32 api_version;
	char module_version[32];
};

/* Region starts with dirty tracking enabled (as RDMIG_REGION_SET would). */
#define RDMIG_REGION_F_TRACK	(1U << 0)
#define RDMIG_REGION_F_ALL	(RDMIG_REGION_F_TRACK)

/**
 * struct rdmig_create_region - RDMIG_CREATE_REGION
 * @size: sizeof(struct rdmig_create_region)
 * @flags: RDMIG_REGION_F_*
 * @length: bytes; a non-zero multiple of the page size, at most
 *          RDMIG_REGION_MAX_BYTES
 * @name: NUL-terminated name for operators (may be empty)
 * @out_region_id: out, module-wide id, also used on netlink
 * @out_fd: out, the region fd (O_CLOEXEC); the ioctl also returns it
 *
 * The region fd is the guest view: mmap(MAP_SHARED) it to get guest RAM.
 * Pages are allocated on first touch and charged to the creator's memory
 * cgroup, whoever touches them; a page never touched reads as zero and
 * costs nothing. Without CAP_IPC_LOCK the whole length counts against the
 * creator's RLIMIT_MEMLOCK (per user, as io_uring does) until the region
 * is freed: ENOMEM if it does not fit.
 *
 * As a file (Documentation/regions.md, "The region file"): open() of
 * /proc/<pid>/fd/<n> of a region fd gives a new guest-view file of the
 * same region with the access mode asked for (the inode is 0600, owned
 * by the creator); reopening a transfer fd is -ENXIO. read() returns
 * guest memory; write() is -EINVAL. The size is fixed: ftruncate() and
 * truncate() are -EINVAL. fallocate(FALLOC_FL_PUNCH_HOLE |
 * FALLOC_FL_KEEP_SIZE) of a page-aligned range gives its pages back
 * (absent and known zero again); pages pinned for DMA are kept and the
 * call then fails with -EBUSY. Other fallocate modes are -EOPNOTSUPP.
 * The ioctls that change state need a writable fd (-EBADF otherwise).
 */
struct rdmig_create_region {
	__u32 size;
	__u32 flags;
	__u64 length;
	char name[RDMIG_NAME_LEN];
	__u32 out_region_id;
	__s32 out_fd;
};

/* ---- ioctls on a region fd (guest view) or a transfer fd -------------- */

/**
 * struct rdmig_region_info - RDMIG_REGION_INFO
 * @size: sizeof(struct rdmig_region_info)
 * @flags: out, RDMIG_INFO_F_*
 * @region_id: out
 * @reserved: out, zero
 * @length: out, bytes
 * @present_pages: out, pages allocated
 * @written_pages: out, pages with RDMIG_PM_WRITTEN
 * @dirty_pages: out, pages with RDMIG_PM_DIRTY
 * @pinned_pages: out, pages with RDMIG_PM_PINNED (folio_maybe_dma_pinned)
 * @dirty_watermark: out, see struct rdmig_region_set
 * @name: out
 */
struct rdmig_region_info {
	__u32 size;
	__u32 flags;
	__u32 region_id;
	__u32 reserved;
	__u64 length;
	__u64 present_pages;
	__u64 written_pages;
	__u64 dirty_pages;
	__u64 pinned_pages;
	__u64 dirty_watermark;
	char name[RDMIG_NAME_LEN];
};

#define RDMIG_INFO_F_TRACKING	(1U << 0)	/* dirty tracking is on */
#define RDMIG_INFO_F_BOUND	(1U << 1)	/* a netlink port is bound */

/* Which fields of struct rdmig_region_set to apply. */
#define RDMIG_SET_TRACKING	(1U << 0)
#define RDMIG_SET_WATERMARK	(1U << 1)
#define RDMIG_SET_ALL		(RDMIG_SET_TRACKING | RDMIG_SET_WATERMARK)

/**
 * struct rdmig_region_set - RDMIG_REGION_SET
 * @size: sizeof(struct rdmig_region_set)
 * @flags: RDMIG_SET_*, which of the fields below to apply
 * @tracking: 1 = on, 0 = off. Turning tracking on clears every DIRTY bit
 *            and write-protects every present page, so from then on DIRTY
 *            means "written since tracking started or since the page's
 *            last get-and-clear". Turning it off leaves the bits as they are.
 * @reserved: must be zero
 * @dirty_watermark: when the number of dirty pages rises to this value a
 *            netlink event is sent (once, until a get-and-clear brings the
 *            count below it again); 0 disables the event
 */
struct rdmig_region_set {
	__u32 size;
	__u32 flags;
	__u32 tracking;
	__u32 reserved;
	__u64 dirty_watermark;
};

/* Clear (and write-protect) every page reported dirty, in the same call. */
#define RDMIG_DIRTY_F_CLEAR	(1U << 0)
#define RDMIG_DIRTY_F_ALL	(RDMIG_DIRTY_F_CLEAR)

/**
 * struct rdmig_dirty_bitmap - RDMIG_GET_DIRTY
 * @size: sizeof(struct rdmig_dirty_bitmap)
 * @flags: RDMIG_DIRTY_F_*
 * @first_page: first page of the range; a multiple of 64
 * @npages: pages in the range; non-zero and a multiple of 64 unless the
 *          range ends at the region's last page
 * @bitmap: user pointer to DIV_ROUND_UP(npages, 64) __u64 words; bit b of
 *          word w describes page first_page + 64 * w + b
 * @out_dirty: out, number of bits set
 *
 * The invariant (as KVM's dirty log gives it): a write that completes
 * after this call returns for its page is reported by a later call; a
 * write that completed before it is visible to any read made after it.
 * With RDMIG_DIRTY_F_CLEAR, tracking must be on (-EINVAL otherwise).
 */
struct rdmig_dirty_bitmap {
	__u32 size;
	__u32 flags;
	__u64 first_page;
	__u64 npages;
	__u64 bitmap;
	__u64 out_dirty;
};

/*
 * Netlink RDMIG_CMD_DIRTY_GET only: answer with RDMIG_A_DIRTY_WORDS, the
 * non-zero words of the range, instead of RDMIG_A_BITMAP (see below).
 * The ioctls reject it.
 */
#define RDMIG_DIRTY_F_WORDS	(1U << 1)

/**
 * struct rdmig_dirty_word - one non-zero word of a dirty bitmap
 * @index: word index from the range's first page: bit b describes page
 *         first_page + 64 * index + b
 * @bits: the word, never zero
 */
struct rdmig_dirty_word {
	__u64 index;
	__u64 bits;
};

/* Most words RDMIG_GET_DIRTY_WORDS returns in one call. */
#define RDMIG_DIRTY_WORDS_MAX	65536

/**
 * struct rdmig_dirty_words - RDMIG_GET_DIRTY_WORDS, the sparse result
 * @size: sizeof(struct rdmig_dirty_words)
 * @flags: RDMIG_DIRTY_F_CLEAR or 0
 * @first_page: as in struct rdmig_dirty_bitmap, a multiple of 64
 * @npages: as in struct rdmig_dirty_bitmap
 * @words: user pointer to @max_words struct rdmig_dirty_word, filled in
 *         increasing @index order
 * @max_words: room at @words; non-zero. At most RDMIG_DIRTY_WORDS_MAX are
 *         used in one call.
 * @out_nwords: out, words filled in
 * @out_dirty: out, number of bits set in them
 * @out_next_page: out, first_page + npages if the whole range was
 *         looked at; else the first page (a multiple of 64) not looked at,
 *         where the next call goes on. Pages from there are untouched
 *         (still dirty).
 *
 * The same get(-and-clear) as RDMIG_GET_DIRTY with the same invariant, but
 * the cost, in the module and for the caller, follows the dirty pages:
 * the module walks a summary with one bit per 64-page word and returns
 * only the words with a dirty page. A word is never split between calls.
 */
struct rdmig_dirty_words {
	__u32 size;
	__u32 flags;
	__u64 first_page;
	__u64 npages;
	__u64 words;
	__u32 max_words;
	__u32 out_nwords;
	__u64 out_dirty;
	__u64 out_next_page;
};

/* Free WRITTEN pages found all-zero that are neither mapped-pinned nor busy. */
#define RDMIG_ZERO_F_RECLAIM	(1U << 0)
#define RDMIG_ZERO_F_ALL	(RDMIG_ZERO_F_RECLAIM)

/**
 * struct rdmig_zero_scan - RDMIG_ZERO_SCAN
 * @size: sizeof(struct rdmig_zero_scan)
 * @flags: RDMIG_ZERO_F_*
 * @first_page: first page to scan
 * @npages: pages to scan; the range must lie within the region
 * @out_zero_pages: out, WRITTEN pages found to hold only zeroes
 * @out_reclaimed_pages: out, of those, pages given back (absent again)
 *
 * Only WRITTEN pages are read: the others are known zero already. A page
 * found zero gets RDMIG_PM_ZERO until its next write; it is write-protected
 * so that write is seen. A reclaimed page loses WRITTEN as well.
 */
struct rdmig_zero_scan {
	__u32 size;
	__u32 flags;
	__u64 first_page;
	__u64 npages;
	__u64 out_zero_pages;
	__u64 out_reclaimed_pages;
};

/**
 * struct rdmig_mark_written - RDMIG_MARK_WRITTEN
 * @size: sizeof(struct rdmig_mark_written)
 * @flags: must be zero
 * @first_page: first page of the range
 * @npages: pages in the range; non-zero, within the region
 *
 * Declares that the present pages of the range hold data, for pages filled
 * without the guest view (an RDMA WRITE into the transfer view on a
 * migration destination): each becomes RDMIG_PM_WRITTEN and loses
 * RDMIG_PM_ZERO from an earlier zero scan, so a later migration onwards
 * sends it. DIRTY is unchanged. Absent pages stay absent and known zero:
 * nothing was ever stored in them. Accepted on a region fd and a transfer
 * fd alike.
 */
struct rdmig_mark_written {
	__u32 size;
	__u32 flags;
	__u64 first_page;
	__u64 npages;
};

/**
 * struct rdmig_mark_dirty - RDMIG_MARK_DIRTY, on a region fd only
 * @size: sizeof(struct rdmig_mark_dirty)
 * @flags: must be zero
 * @reserved: must be zero
 * @first_page: first page of the range
 * @npages: pages in the range; non-zero, within the region
 *
 * Declares that the present pages of the range were written by a writer
 * the module cannot see (device DMA through a long-term pin, VFIO): each
 * becomes RDMIG_PM_DIRTY and RDMIG_PM_WRITTEN and loses RDMIG_PM_ZERO, as
 * a guest write would make it. Call it after the writes completed (or,
 * for a device that may write at any time, before every get-and-clear);
 * a get-and-clear after it returns reports the pages. Absent pages stay
 * absent and known zero. -ENOTTY on a transfer fd.
 */
struct rdmig_mark_dirty {
	__u32 size;
	__u32 flags;
	__u64 reserved;
	__u64 first_page;
	__u64 npages;
};

/**
 * struct rdmig_transfer - RDMIG_TRANSFER_FD, on a region fd only
 * @size: sizeof(struct rdmig_transfer)
 * @flags: must be zero
 *
 * Returns a new fd (O_CLOEXEC) for the transfer view of the same pages:
 * mmap(MAP_SHARED) of it sees and may write the same memory, but its
 * mappings have no write notification, so ibv_reg_mr() on them (which
 * pins with FOLL_WRITE | FOLL_LONGTERM) marks nothing dirty or written.
 * A page faulted in only through the transfer view stays known zero
 * until RDMIG_MARK_WRITTEN declares it written.
 */
struct rdmig_transfer {
	__u32 size;
	__u32 flags;
};

/**
 * struct rdmig_bind - RDMIG_BIND_NETLINK, on a transfer fd only
 * @size: sizeof(struct rdmig_bind)
 * @flags: must be zero
 * @sock_fd: fd of a bound AF_NETLINK NETLINK_GENERIC socket (any netns);
 *           -1 unbinds
 * @reserved: must be zero
 *
 * Gives that socket authority over the region: RDMIG_CMD_REGION_SET,
 * RDMIG_CMD_DIRTY_GET and RDMIG_CMD_ZERO_SCAN on this region are accepted
 * from requests sent on that very socket, or from a caller with
 * CAP_NET_ADMIN. The module keeps the socket itself, not its port id: a
 * later socket that gets the same port id has no authority. One socket
 * per region; binding again replaces it. Closing the socket unbinds.
 * Errors: EBADF (not an open fd), ENOTSOCK, EINVAL (not a bound generic
 * netlink socket).
 */
struct rdmig_bind {
	__u32 size;
	__u32 flags;
	__s32 sock_fd;
	__u32 reserved;
};

/**
 * struct rdmig_pagemap - RDMIG_PAGEMAP, on a region fd or a transfer fd
 * @size: sizeof(struct rdmig_pagemap)
 * @flags: must be zero
 * @reserved: must be zero
 * @first_page: first page of the range
 * @npages: pages in the range; non-zero, within the region
 * @entries: user pointer to @npages __u64, one RDMIG_PM_* word per page
 *
 * The per-page state, in the spirit of /proc/pid/pagemap and PAGEMAP_SCAN.
 * Bits not defined below read as zero. Nothing is changed, nothing is
 * faulted in. read() and pread() of either fd return guest memory, as on
 * a memfd (absent pages read as zeroes and stay absent).
 */
struct rdmig_pagemap {
	__u32 size;
	__u32 flags;
	__u64 reserved;
	__u64 first_page;
	__u64 npages;
	__u64 entries;
};

#define RDMIG_GET_VERSION	_IO(RDMIG_IOC_MAGIC, RDMIG_IOC_GET_VERSION)
#define RDMIG_CREATE_REGION	_IO(RDMIG_IOC_MAGIC, RDMIG_IOC_CREATE_REGION)
#define RDMIG_REGION_INFO	_IO(RDMIG_IOC_MAGIC, RDMIG_IOC_REGION_INFO)
#define RDMIG_REGION_SET	_IO(RDMIG_IOC_MAGIC, RDMIG_IOC_REGION_SET)
#define RDMIG_GET_DIRTY		_IO(RDMIG_IOC_MAGIC, RDMIG_IOC_GET_DIRTY)
#define RDMIG_ZERO_SCAN		_IO(RDMIG_IOC_MAGIC, RDMIG_IOC_ZERO_SCAN)
#define RDMIG_TRANSFER_FD	_IO(RDMIG_IOC_MAGIC, RDMIG_IOC_TRANSFER_FD)
#define RDMIG_BIND_NETLINK	_IO(RDMIG_IOC_MAGIC, RDMIG_IOC_BIND_NETLINK)
#define RDMIG_MARK_WRITTEN	_IO(RDMIG_IOC_MAGIC, RDMIG_IOC_MARK_WRITTEN)
#define RDMIG_MARK_DIRTY	_IO(RDMIG_IOC_MAGIC, RDMIG_IOC_MARK_DIRTY)
#define RDMIG_PAGEMAP		_IO(RDMIG_IOC_MAGIC, RDMIG_IOC_PAGEMAP)
#define RDMIG_GET_DIRTY_WORDS	_IO(RDMIG_IOC_MAGIC, RDMIG_IOC_GET_DIRTY_WORDS)

/* Pagemap entry bits (struct rdmig_pagemap). */
#define RDMIG_PM_PRESENT	(1ULL << 0)	/* a page is allocated */
#define RDMIG_PM_DIRTY		(1ULL << 1)	/* written since last clear */
#define RDMIG_PM_WRITTEN	(1ULL << 2)	/* written via guest view, or marked */
#define RDMIG_PM_ZERO		(1ULL << 3)	/* known to hold only zeroes */
#define RDMIG_PM_PINNED		(1ULL << 4)	/* folio_maybe_dma_pinned() */

/*
 * ---- generic netlink family "rdmig" --------------------------------------
 *
 * Documentation/netlink/specs/rdmig.yaml describes it in the kernel's
 * netlink spec format. Attribute and command numbers start at 1; every
 * command has a strict policy and rejections carry an extack message.
 */
#define RDMIG_GENL_NAME		"rdmig"
#define RDMIG_GENL_VERSION	1
#define RDMIG_GENL_MCGRP_EVENTS	"events"

/*
 * RDMIG_CMD_DIRTY_GET as a plain request answers with one message, for
 * ranges of at most this many pages (a 4 KiB bitmap); larger ranges are
 * asked for with NLM_F_DUMP and come back in several pieces, each with its
 * own RDMIG_A_FIRST_PAGE, RDMIG_A_NPAGES, RDMIG_A_BITMAP, RDMIG_A_DIRTY_PAGES.
 */
#define RDMIG_NL_DIRTY_DOIT_MAX_PAGES	32768

/*
 * RDMIG_CMD_DIRTY_GET with RDMIG_DIRTY_F_WORDS in RDMIG_A_FLAGS, a plain
 * request for a range of any size: the reply carries RDMIG_A_DIRTY_WORDS
 * (struct rdmig_dirty_word, at most this many), RDMIG_A_DIRTY_PAGES and
 * RDMIG_A_NEXT_PAGE, as out_next_page of RDMIG_GET_DIRTY_WORDS: where to
 * ask again when it is not the end of the range.
 */
#define RDMIG_NL_DIRTY_WORDS_MAX	2048

enum rdmig_cmd {
	RDMIG_CMD_UNSPEC,
	RDMIG_CMD_VERSION_GET,		/* -> API_VERSION, MODULE_VERSION */
	RDMIG_CMD_REGION_GET,		/* doit by REGION_ID, or dump */
	RDMIG_CMD_REGION_SET,		/* REGION_ID, TRACKING?, WATERMARK? */
	RDMIG_CMD_DIRTY_GET,		/* REGION_ID, FIRST_PAGE, NPAGES, FLAGS */
	RDMIG_CMD_ZERO_SCAN,		/* REGION_ID, FIRST_PAGE, NPAGES, FLAGS */
	RDMIG_CMD_STATS_GET,		/* REGION_ID -> STATS */
	RDMIG_CMD_REGION_NEW_NTF,	/* events: region created */
	RDMIG_CMD_REGION_DEL_NTF,	/* events: region destroyed */
	RDMIG_CMD_DIRTY_WATERMARK_NTF,	/* events: dirty count reached mark */

	__RDMIG_CMD_MAX,
	RDMIG_CMD_MAX = __RDMIG_CMD_MAX - 1
};

enum rdmig_attr {
	RDMIG_A_UNSPEC,
	RDMIG_A_API_VERSION,		/* u32 */
	RDMIG_A_MODULE_VERSION,		/* string */
	RDMIG_A_REGION_ID,		/* u32 */
	RDMIG_A_REGION_NAME,		/* string */
	RDMIG_A_REGION_LENGTH,		/* u64, bytes */
	RDMIG_A_REGION_OWNER_PID,	/* u32, creator's tgid in caller's pidns */
	RDMIG_A_REGION_TRACKING,	/* u8, 0 or 1 */
	RDMIG_A_REGION_WATERMARK,	/* u64, pages; 0 = no event */
	RDMIG_A_REGION_BOUND_PORTID,	/* u32, 0 = none */
	RDMIG_A_PRESENT_PAGES,		/* u64 */
	RDMIG_A_WRITTEN_PAGES,		/* u64 */
	RDMIG_A_DIRTY_PAGES,		/* u64 */
	RDMIG_A_PINNED_PAGES,		/* u64 */
	RDMIG_A_FIRST_PAGE,		/* u64 */
	RDMIG_A_NPAGES,			/* u64 */
	RDMIG_A_FLAGS,			/* u32, RDMIG_DIRTY_F_* / RDMIG_ZERO_F_* */
	RDMIG_A_BITMAP,			/* binary, __u64 words as in the ioctl */
	RDMIG_A_ZERO_PAGES,		/* u64 */
	RDMIG_A_RECLAIMED_PAGES,	/* u64 */
	RDMIG_A_STATS,			/* nest, RDMIG_STATS_A_* */
	RDMIG_A_PAD,
	RDMIG_A_DIRTY_WORDS,		/* binary, struct rdmig_dirty_word[] */
	RDMIG_A_NEXT_PAGE,		/* u64 */

	__RDMIG_A_MAX,
	RDMIG_A_MAX = __RDMIG_A_MAX - 1
};

enum rdmig_stats_attr {
	RDMIG_STATS_A_UNSPEC,
	RDMIG_STATS_A_PRESENT_PAGES,	/* u64 */
	RDMIG_STATS_A_WRITTEN_PAGES,	/* u64 */
	RDMIG_STATS_A_DIRTY_PAGES,	/* u64 */
	RDMIG_STATS_A_PINNED_PAGES,	/* u64 */
	RDMIG_STATS_A_ZERO_PAGES,	/* u64, known zero (never written or scanned) */
	RDMIG_STATS_A_WRITE_FAULTS,	/* u64, page_mkwrite calls */
	RDMIG_STATS_A_REARMS,		/* u64, pages cleared and write-protected */
	RDMIG_STATS_A_REARM_NS,		/* u64, time spent re-arming */
	RDMIG_STATS_A_DIRTY_GETS,	/* u64, get-and-clear calls */
	RDMIG_STATS_A_ZERO_RECLAIMED,	/* u64, pages given back by scans */
	RDMIG_STATS_A_PAD,

	__RDMIG_STATS_A_MAX,
	RDMIG_STATS_A_MAX = __RDMIG_STATS_A_MAX - 1
};

#endif /* _UAPI_LINUX_RDMIG_H */
