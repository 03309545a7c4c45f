/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * librdmig: the C API of rdmig for VMMs and agents.
 *
 * Two halves:
 *  - regions, over ioctls on /dev/rdmig and region fds (what a VMM needs to
 *    create its guest RAM and hand a transfer view to rdmigd);
 *  - the generic netlink family "rdmig", over libnl-genl-3 (what rdmigd and
 *    rdmigctl use for everything but the memory mapping itself).
 *
 * Every function that can fail returns 0 (or a count) on success and a
 * negative errno on failure; none prints. The netlink half keeps the
 * kernel's extack message of the last failure: rdmig_nl_errmsg().
 */
#ifndef LIBRDMIG_H
#define LIBRDMIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/rdmig.h>

/* The version of the librdmig a program runs with, e.g. "0.1.0". */
const char *rdmig_version_string(void);

/* ---- regions (ioctl) ---------------------------------------------------- */

/* Opens /dev/rdmig (O_RDWR | O_CLOEXEC); returns the fd or -errno. */
int rdmig_dev_open(void);
int rdmig_dev_version(int devfd, struct rdmig_version *v);

/* A region as a VMM holds it: its fd (guest view), id, size and mapping. */
struct rdmig_region {
	int fd;
	uint32_t id;
	uint64_t length;
	void *mem;		/* MAP_SHARED mapping of fd, or NULL */
};

/*
 * Creates a region of @length bytes named @name with RDMIG_REGION_F_*
 * @flags, and maps it read-write unless @map is false.
 */
int rdmig_region_create(int devfd, const char *name, uint64_t length,
			uint32_t flags, bool map, struct rdmig_region *r);
/* Unmaps and closes; the kernel frees the region when nothing uses it. */
void rdmig_region_close(struct rdmig_region *r);

/* Returns a transfer-view fd (O_CLOEXEC) for @region_fd, or -errno. */
int rdmig_transfer_fd(int region_fd);
/*
 * Transfer-view fds for the @n regions of @region_fds into @fds, in the
 * same order (what a VMM hands its agent). Returns 0, or -errno with no
 * fd left open.
 */
int rdmig_transfer_fds(const int *region_fds, unsigned int n, int *fds);
int rdmig_region_info(int fd, struct rdmig_region_info *info);
int rdmig_region_set_tracking(int fd, bool on);
int rdmig_region_set_watermark(int fd, uint64_t pages);
/*
 * Dirty bitmap of [first, first + npages), see struct rdmig_dirty_bitmap;
 * @bitmap holds DIV_ROUND_UP(npages, 64) words. Returns pages set, or -errno.
 */
int64_t rdmig_dirty_get(int fd, uint64_t first, uint64_t npages, bool clear,
			uint64_t *bitmap);
/*
 * The sparse result (RDMIG_GET_DIRTY_WORDS): the non-zero words of
 * [first, first + npages) into @words (room for @max_words), *nwords of
 * them, each with its word index from @first; *next is where to go on
 * (first + npages when the range is done). The cost follows the dirty
 * pages, not the range. Returns pages set, or -errno.
 */
int64_t rdmig_dirty_get_words(int fd, uint64_t first, uint64_t npages,
			      bool clear, struct rdmig_dirty_word *words,
			      uint32_t max_words, uint32_t *nwords,
			      uint64_t *next);
int rdmig_zero_scan(int fd, uint64_t first, uint64_t npages, bool reclaim,
		    uint64_t *zero, uint64_t *reclaimed);
/*
 * Marks the present pages of [first, first + npages) WRITTEN (and no longer
 * scanned-zero), for data that arrived through the transfer view, e.g. by
 * RDMA WRITE on a migration destination; absent pages stay known zero.
 * Works on a region fd or a transfer fd.
 */
int rdmig_mark_written(int fd, uint64_t first, uint64_t npages);
/*
 * Declares the present pages of [first, first + npages) DIRTY (and WRITTEN,
 * no longer scanned-zero), for writes the module cannot see: device DMA
 * through long-term pins (VFIO). Call it once the writes completed; the
 * next get-and-clear reports the pages. Region fd only.
 */
int rdmig_mark_dirty(int region_fd, uint64_t first, uint64_t npages);
/*
 * The pagemap entries (RDMIG_PM_*) of pages [first, first + n) into
 * @entries, all of them or none (RDMIG_PAGEMAP); the range must lie within
 * the region. Returns 0 or -errno. The one pagemap reader: read() of a
 * region fd returns guest memory.
 */
int rdmig_pagemap(int fd, uint64_t first, uint64_t n, uint64_t *entries);
/*
 * Gives the generic netlink socket @sock_fd (rdmig_nl_fd()) authority over
 * the region of @transfer_fd; -1 unbinds. The kernel keeps the socket, not
 * its port: closing it unbinds.
 */
int rdmig_bind_netlink(int transfer_fd, int sock_fd);

/* ---- generic netlink (libnl-genl-3) ------------------------------------- */

struct rdmig_nl;

/* Opens a generic netlink socket and resolves the "rdmig" family. */
int rdmig_nl_open(struct rdmig_nl **out);
void rdmig_nl_close(struct rdmig_nl *nl);
/* The socket's port id, as region-bound-portid shows it. */
uint32_t rdmig_nl_portid(const struct rdmig_nl *nl);
/* The socket's fd, for rdmig_bind_netlink(). */
int rdmig_nl_fd(const struct rdmig_nl *nl);
/* Extack message of the last failed request, or "" if none. */
const char *rdmig_nl_errmsg(const struct rdmig_nl *nl);

/*
 * For tests and tools that build their own requests with libnl: the
 * family's id, and a request that sends @msg (consumed; it needs only the
 * genl header and attributes) and waits for its ACK or error, keeping the
 * extack message like every other call. Returns 0 or the kernel's -errno.
 */
struct nl_msg;
int rdmig_nl_family_id(const struct rdmig_nl *nl);
int rdmig_nl_request_raw(struct rdmig_nl *nl, struct nl_msg *msg);

int rdmig_nl_version(struct rdmig_nl *nl, uint32_t *api_version,
		     char *module_version, size_t len);

struct rdmig_nl_region {
	uint32_t id;
	char name[RDMIG_NAME_LEN];
	uint64_t length;
	uint32_t owner_pid;
	bool tracking;
	uint64_t watermark;
	uint32_t bound_portid;
	uint64_t present_pages;
	uint64_t written_pages;
	uint64_t dirty_pages;
	uint64_t pinned_pages;
};

int rdmig_nl_region_get(struct rdmig_nl *nl, uint32_t id,
			struct rdmig_nl_region *r);
/*
 * Calls @cb for every region visible to the caller. A non-zero return from
 * @cb stops the walk and is returned. -EINTR: the list changed during the
 * dump (NLM_F_DUMP_INTR); the caller may retry.
 */
int rdmig_nl_region_dump(struct rdmig_nl *nl,
			 int (*cb)(const struct rdmig_nl_region *r, void *arg),
			 void *arg);
/* @tracking: 0, 1, or -1 to leave; @watermark: pages, or -1 to leave. */
int rdmig_nl_region_set(struct rdmig_nl *nl, uint32_t id, int tracking,
			int64_t watermark);
/* As rdmig_dirty_get(), over netlink (a dump for large ranges). */
int64_t rdmig_nl_dirty_get(struct rdmig_nl *nl, uint32_t id, uint64_t first,
			   uint64_t npages, bool clear, uint64_t *bitmap);
/*
 * As rdmig_dirty_get_words(), over netlink (RDMIG_DIRTY_F_WORDS): one
 * request, at most RDMIG_NL_DIRTY_WORDS_MAX words back, so @max_words must
 * be at least that (-EINVAL otherwise). -EPROTO if the reply is malformed.
 */
int64_t rdmig_nl_dirty_get_words(struct rdmig_nl *nl, uint32_t id,
				 uint64_t first, uint64_t npages, bool clear,
				 struct rdmig_dirty_word *words,
				 uint32_t max_words, uint32_t *nwords,
				 uint64_t *next);
int rdmig_nl_zero_scan(struct rdmig_nl *nl, uint32_t id, uint64_t first,
		       uint64_t npages, bool reclaim, uint64_t *zero,
		       uint64_t *reclaimed);

struct rdmig_nl_stats {
	uint64_t present_pages;
	uint64_t written_pages;
	uint64_t dirty_pages;
	uint64_t pinned_pages;
	uint64_t zero_pages;
	uint64_t write_faults;
	uint64_t rearms;
	uint64_t rearm_ns;
	uint64_t dirty_gets;
	uint64_t zero_reclaimed;
};

int rdmig_nl_stats_get(struct rdmig_nl *nl, uint32_t id,
		       struct rdmig_nl_stats *s);

/* ---- events (multicast group "events") ------------------------------------ */

enum rdmig_nl_event_type {
	RDMIG_EV_REGION_NEW = RDMIG_CMD_REGION_NEW_NTF,
	RDMIG_EV_REGION_DEL = RDMIG_CMD_REGION_DEL_NTF,
	RDMIG_EV_DIRTY_WATERMARK = RDMIG_CMD_DIRTY_WATERMARK_NTF,
};

struct rdmig_nl_event {
	enum rdmig_nl_event_type type;
	uint32_t region_id;
	char name[RDMIG_NAME_LEN];	/* REGION_NEW/DEL */
	uint64_t length;		/* REGION_NEW */
	uint64_t dirty_pages;		/* DIRTY_WATERMARK */
};

/*
 * A separate socket joined to the events group, so that replies to
 * requests and events never interleave.
 */
struct rdmig_nl_events;

int rdmig_nl_events_open(struct rdmig_nl_events **out);
void rdmig_nl_events_close(struct rdmig_nl_events *ev);
/* For poll(): readable when an event may be waiting. */
int rdmig_nl_events_fd(const struct rdmig_nl_events *ev);
/*
 * Receives one event, waiting at most @timeout_ms (-1: forever).
 * Returns 1 with *e filled, 0 on timeout, or -errno.
 */
int rdmig_nl_events_recv(struct rdmig_nl_events *ev, struct rdmig_nl_event *e,
			 int timeout_ms);

/* ---- rdmigd's control channel (QMP; Documentation/librdmig.md) --------- */

/*
 * The client side of an rdmigd control channel: a unix stream socket
 * (inherited --control FD, or --control-path) speaking QMP. Messages are
 * json-c objects (<json-c/json.h>); a returned message belongs to the
 * caller (json_object_put()).
 */
struct rdmig_ctl;
struct json_object;

/*
 * Takes over @fd (closed by rdmig_ctl_close(), or here on failure), reads
 * the QMP greeting and negotiates capabilities (qmp_capabilities), each
 * within @timeout_ms. Returns 0 with *out set, or -errno with a message
 * in @err (-EPROTO: not a QMP greeting; -EREMOTEIO: negotiation refused).
 */
int rdmig_ctl_open(int fd, int timeout_ms, struct rdmig_ctl **out, char *err, size_t errlen);
/* The same over a unix socket path (rdmigd --control-path PATH). */
int rdmig_ctl_connect(const char *path, int timeout_ms, struct rdmig_ctl **out,
		      char *err, size_t errlen);
void rdmig_ctl_close(struct rdmig_ctl *c);
/* For poll(): readable when a message may be waiting. */
int rdmig_ctl_fd(const struct rdmig_ctl *c);
/* True when rdmig_ctl_recv(c, .., 0) has a message without reading. */
bool rdmig_ctl_pending(const struct rdmig_ctl *c);
/* The greeting, {"QMP":{"version":...,"capabilities":[]}}; owned by @c. */
struct json_object *rdmig_ctl_greeting(const struct rdmig_ctl *c);

/*
 * Sends {"execute":@cmd,"arguments":@args,"id":N} and returns N (> 0), or
 * -errno. Takes @args (may be NULL). The reply comes through
 * rdmig_ctl_recv() like any message.
 */
int rdmig_ctl_send(struct rdmig_ctl *c, const char *cmd, struct json_object *args);
/*
 * Sends a command and waits up to @timeout_ms (-1: forever) for its reply.
 * Returns 0 with *ret the "return" value (caller puts it; @ret may be
 * NULL), -EREMOTEIO with "cmd: Class: desc" in @err for an error reply,
 * -ETIMEDOUT, -EPIPE (agent gone) or -errno. Events and other replies
 * that arrive meanwhile are kept, in order, for rdmig_ctl_recv().
 */
int rdmig_ctl_execute(struct rdmig_ctl *c, const char *cmd, struct json_object *args,
		      struct json_object **ret, char *err, size_t errlen, int timeout_ms);
/*
 * The next message (event or reply), waiting up to @timeout_ms (0: only
 * what can be read without blocking; -1: forever). Returns 1 with *msg
 * set, 0 on timeout, -EPIPE when the agent closed the channel, -EBADMSG
 * for a line that is not a JSON object, -errno.
 */
int rdmig_ctl_recv(struct rdmig_ctl *c, struct json_object **msg, int timeout_ms);
/* The event name of @msg (NULL if it is not an event); *data its "data". */
const char *rdmig_ctl_event(struct json_object *msg, struct json_object **data);
/* For a MIGRATION event, its data.status ("active", "completed", ...); else NULL. */
const char *rdmig_ctl_migration_status(struct json_object *msg);

#endif /* LIBRDMIG_H */
