/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rdmigd: the migration agent. Two threads: the main thread serves the
 * QMP control channel (channel.c) and, on the source, reads the device
 * state; the engine thread runs the migration (source.c or dest.c).
 * Everything they share is in struct agent under @lock, except the
 * atomic flags.
 */
#ifndef RDMIGD_H
#define RDMIGD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "auth.h"
#include "../lib/util.h"

#define RDMIGD_VERSION	"0.1.0"
#define MAX_REGIONS	64
#define MAX_STATE_BYTES	(256u << 20)
#define MAX_ALLOW	32

struct mig_params {
	uint64_t downtime_ms;
	uint64_t max_iterations;
	uint64_t chunk_size;
	uint64_t pin_budget;
	bool pin_all;
	uint64_t max_bandwidth_mbps;
	bool fail_on_max;
	uint64_t pause_timeout_ms;	/* switchover-ready to paused + state end, 0 = none */
};

#define DEFAULT_PAUSE_TIMEOUT_MS	30000
/*
 * The pin budget of each side unless --pin-budget says otherwise (and
 * never less than one chunk): a fixed size, not a fraction of the guest,
 * so a 64 GiB guest pins no more than a 1 GiB one. 256 MiB holds the
 * source's registration window (LOOKAHEAD 1 MiB chunks) twice over, so
 * a first pass streams without waiting for unregistrations; its cost is
 * one more register round trip (and pin) per chunk a later round needs
 * again after the LRU evicted it, i.e. only for guests whose dirty set
 * per round is spread over more than 256 MiB. --pin-budget 0 = none.
 */
#define DEFAULT_PIN_BUDGET	(256ull << 20)

/* The budget a side uses when none was given: at least one chunk. */
static inline uint64_t default_pin_budget(uint64_t chunk_size)
{
	return chunk_size > DEFAULT_PIN_BUDGET ? chunk_size : DEFAULT_PIN_BUDGET;
}

enum mig_status {
	ST_SETUP, ST_ACTIVE, ST_SWITCHOVER /* QMP "pre-switchover" */,
	ST_DEVICE /* paused: last round and device state */, ST_COMPLETED,
	ST_FAILED, ST_CANCELLED,
};

/*
 * Where the source's time goes ("phases_ms", Documentation/control.md):
 * each phase sums the wall time of the calls it names between the start of
 * the first round and the moment the engine saw the VMM pause; before is
 * PH_SETUP, after is PH_SWITCHOVER, and what no phase names is "other".
 */
enum mig_phase {
	PH_SETUP, PH_CLASSIFY, PH_REGISTER, PH_REQUEST, PH_RKEY_WAIT, PH_POST, PH_CQ_WAIT,
	PH_INFLIGHT_WAIT, PH_SYNC, PH_SWITCHOVER, PH_OTHER, PH_N
};

/* One round of the source ("rounds"): at most MIG_ROUNDS_MAX kept. */
#define MIG_ROUNDS_MAX	256
struct mig_round {
	uint64_t t_ms;		/* since the migration's start, at the round's end */
	uint64_t sent_bytes;	/* written in the round */
	uint64_t dirty_bytes;	/* found dirty by the get-and-clear after it */
	uint64_t remaining_bytes;	/* still to send after it */
};

struct mig_stats {
	uint64_t total_ms, downtime_ms, setup_ms;
	/* source: phases in us (valid once @phases_done); rounds */
	uint64_t phase_us[PH_N];
	bool phases_done;
	uint32_t nrounds;
	struct mig_round rounds[MIG_ROUNDS_MAX];
	/* destination: pinning (summed over pin workers) and answering, in us */
	uint64_t pin_us, answer_us;
	uint64_t release_us;	/* destination: unpinning all at REGISTER_FINISHED */
	/* setup_ms in phases (Documentation/control.md) */
	uint64_t connect_ms, ram_blocks_ms, tracking_on_ms, first_registration_ms;
	uint64_t last_round_pages;	/* pages written after the pause */
	uint64_t switchover_rounds;	/* rounds between switchover-ready and paused */
	uint64_t iterations;
	uint64_t ram_bytes;
	uint64_t sent_bytes;
	uint64_t pages_sent;
	uint64_t zero_pages_skipped;
	uint64_t compressed_pages;
	uint64_t registrations;
	uint64_t registration_wait_us;
	/* source: its chunks registered by its worker, and the time it took */
	uint64_t registered_ahead, register_ahead_us;
	/* destination: REGISTER_REQUESTs received, REGISTER_RESULTs sent */
	uint64_t register_requests, register_results;
	/* source: RDMA WRITEs, and the ibv_post_send calls that posted them */
	uint64_t writes, write_posts;
	uint64_t inflight_waits;	/* WRITEs that waited for --max-inflight */
	uint64_t credit_wait_us;	/* messages that waited for the peer's credits */
	uint64_t qps;		/* RC QPs of the migration, as granted (--qps) */
	uint64_t unregistrations;
	uint64_t throughput_mbps;
	uint64_t peak_pinned_bytes;
	uint64_t remote_peak_pinned_bytes;
	uint64_t state_bytes;
	/* live figures for progress/query */
	uint64_t pages_remaining;
	uint64_t dirty_rate_pps;
	uint64_t bandwidth_mbps;
	uint64_t total_pages;
};

struct agent {
	bool source;
	const char *addr, *port, *bind;
	int region_fds[MAX_REGIONS];
	uint32_t nregions;
	int state_fd;
	struct mig_params defaults;
	uint32_t timeout_ms;	/* peer inactivity limit, 0 = none */
	bool zero_scan;		/* source: zero scan before iteration 0 */
	uint32_t pin_threads;	/* destination: pin workers, 0 = none (pinpool.h) */
	uint32_t wr_list;	/* source: WRITEs per ibv_post_send (conn.h) */
	uint64_t max_inflight;	/* source: WRITE bytes in flight, 0 = no limit */
	uint32_t qps;		/* --qps: source asks, destination grants at most */

	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* under lock */
	struct mig_params params;
	enum mig_status status;
	struct mig_stats stats;
	uint64_t completed_rt_us;	/* CLOCK_REALTIME of the hand-over, 0 = unknown */
	bool started;
	bool reported;		/* "completed" or "failed" was sent */
	bool engine_done;
	int exit_code;
	char fail_reason[512];
	/* source device state, read by the main thread after switchover-ready */
	uint8_t *state_buf;
	size_t state_len, state_cap;
	bool state_eof;
	bool state_reading;
	char state_err[128];

	/* Peer authentication (auth_conn.c); the secret is under lock. */
	struct auth_secret secret;
	bool auth_required;	/* destination: refuse sources until a secret is set */
	struct auth_allow allow[MAX_ALLOW];	/* destination: source allow-list */
	uint32_t nallow;

	atomic_bool cancel;
	atomic_bool paused;
	uint64_t paused_us;	/* when the VMM paused (under lock), see cmd_paused */
	uint64_t switchover_us;	/* when switchover-ready was emitted */
	int engine_wake_fd;	/* eventfd: wakes the engine's wait at once */
	int wake_fd[2];		/* engine -> main thread: something changed */
};

/* channel.c: the VMM's QMP control channel */
void ctl_event(struct agent *a, const char *name, json_object *data);
/* The same, @coalesce as progress events, dated @rt_us (CLOCK_REALTIME, 0 = now). */
void ctl_event_at(struct agent *a, const char *name, json_object *data,
		  bool coalesce, uint64_t rt_us);
/* Source progress: RDMIG_PROGRESS (and MIGRATION_PASS on a new pass). */
void ctl_progress(struct agent *a, uint64_t pass, json_object *data);
/* MIGRATION events for a->status changes not yet announced. */
void ctl_wake(struct agent *a);
int ctl_run(struct agent *a, int ctl_fd, const char *ctl_path);

/* engine.c: the migration's lifecycle */
/* MIGRATION events for a->status changes not yet announced. */
void ctl_sync_status(struct agent *a);
const char *status_name(enum mig_status s);
json_object *stats_json(const struct mig_stats *s, bool source);
/* QEMU's MigrationInfo, rdmig's statistics in "rdmig"; under a->lock. */
json_object *engine_mig_info(struct agent *a);
/* Starts the clock of total-time (destination: at start). */
void engine_begin(struct agent *a);
/* Source, on migrate: starts source_main; 0 or the pthread error (reported). */
int engine_start_source(struct agent *a);
/* Waits for the engine thread, if one was started. */
void engine_join(void);

/* source.c / dest.c: the engine thread bodies */
void *source_main(void *arg);
void *dest_main(void *arg);
/* Destination: starts dest_main at once (it waits for the source). */
void engine_start_dest(struct agent *a);
/* Common end of an engine: records status, emits the event, wakes main. */
void engine_report(struct agent *a, bool ok, const char *reason);
void engine_finish(struct agent *a, bool ok, const char *reason);

/* The one monotonic clock (user/lib/util.c), in microseconds. */
static inline uint64_t now_us(void)
{
	return rdmig_now_us();
}
/*
 * Test fault points (engine.c; --debug-stall POINT:MS). parse: 0 or -1
 * with @err. engine_stall: holds at @point if it is the one asked for,
 * keeping @c alive; 0, or -1 if the connection failed meanwhile.
 */
struct conn;
int engine_debug_stall_parse(const char *arg, bool source, char *err, size_t len);
int engine_stall(struct agent *a, struct conn *c, const char *point);
int engine_stall_round(struct agent *a, struct conn *c, uint32_t iteration);
/* A fault point that is not a hold (dataqp1): true if it was asked for. */
bool engine_fault(const char *point);
/* Ends the engine's current wait (the VMM paused, the state ended). */
void engine_wake(struct agent *a);

/*
 * auth_conn.c: gives the agent the per-migration secret (used by
 * --secret-file and by the control channel). The source uses the secret
 * it has when the migration starts, the destination the one it has when
 * a source connects. Returns 0 or -1 with @err.
 */
int agent_set_secret(struct agent *a, const void *buf, size_t len, char *err,
		     size_t errlen);

#endif
