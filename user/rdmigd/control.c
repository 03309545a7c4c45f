// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The JSON control channel (Documentation/control.md): one object per
 * line, QMP-like. The main thread runs ctl_run(): it accepts the one
 * client (or uses the inherited socket), answers commands, forwards the
 * engine's events, and on the source reads the device state fd once
 * switchover-ready has been emitted (so a VMM writing into a pipe never
 * blocks on a full pipe).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "rdmigd.h"
#include "wire.h"

#define LINE_MAX_BYTES	65536

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static int out_fd = -1;
static char *pending;		/* events before a client connected */
static size_t pending_len;

uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

const char *status_name(enum mig_status s)
{
	static const char *const n[] = {
		"setup", "active", "switchover", "completed", "failed",
		"cancelled",
	};

	return n[s];
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			log_dbg("control client write failed: %s", strerror(errno));
			return;
		}
		p += k;
		n -= (size_t)k;
	}
}

static void send_line(json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	size_t n = strlen(s);

	pthread_mutex_lock(&out_lock);
	if (out_fd >= 0) {
		write_all(out_fd, s, n);
		write_all(out_fd, "\n", 1);
	} else {
		char *p = realloc(pending, pending_len + n + 1);

		if (p) {
			pending = p;
			memcpy(pending + pending_len, s, n);
			pending[pending_len + n] = '\n';
			pending_len += n + 1;
		}
	}
	pthread_mutex_unlock(&out_lock);
}

void ctl_event(struct agent *a, const char *name, json_object *data)
{
	json_object *o = json_object_new_object(), *ts = json_object_new_object();
	struct timeval tv;

	(void)a;
	gettimeofday(&tv, NULL);
	json_object_object_add(ts, "seconds", json_object_new_int64(tv.tv_sec));
	json_object_object_add(ts, "microseconds", json_object_new_int64(tv.tv_usec));
	json_object_object_add(o, "event", json_object_new_string(name));
	json_object_object_add(o, "timestamp", ts);
	json_object_object_add(o, "data", data ? data : json_object_new_object());
	send_line(o);
	json_object_put(o);
	log_dbg("event %s", name);
}

void ctl_wake(struct agent *a)
{
	char b = 1;

	if (write(a->wake_fd[1], &b, 1) < 0 && errno != EAGAIN)
		log_dbg("wake: %s", strerror(errno));
}

#define ADD_U64(o, k, v) json_object_object_add(o, k, json_object_new_int64((int64_t)(v)))

json_object *stats_json(const struct mig_stats *s, bool source)
{
	json_object *o = json_object_new_object();

	ADD_U64(o, "total_ms", s->total_ms);
	if (source) {
		ADD_U64(o, "downtime_ms", s->downtime_ms);
		ADD_U64(o, "setup_ms", s->setup_ms);
		ADD_U64(o, "connect_ms", s->connect_ms);
		ADD_U64(o, "ram_blocks_ms", s->ram_blocks_ms);
		ADD_U64(o, "tracking_on_ms", s->tracking_on_ms);
		ADD_U64(o, "first_registration_ms", s->first_registration_ms);
		ADD_U64(o, "iterations", s->iterations);
		ADD_U64(o, "switchover_rounds", s->switchover_rounds);
		ADD_U64(o, "last_round_pages", s->last_round_pages);
	}
	ADD_U64(o, "ram_bytes", s->ram_bytes);
	ADD_U64(o, "sent_bytes", s->sent_bytes);
	if (source) {
		ADD_U64(o, "pages_sent", s->pages_sent);
		ADD_U64(o, "zero_pages_skipped", s->zero_pages_skipped);
		ADD_U64(o, "compressed_pages", s->compressed_pages);
	}
	ADD_U64(o, "registrations", s->registrations);
	if (source)
		ADD_U64(o, "registration_wait_ms", s->registration_wait_us / 1000);
	ADD_U64(o, "unregistrations", s->unregistrations);
	if (source)
		ADD_U64(o, "throughput_mbps", s->throughput_mbps);
	ADD_U64(o, "peak_pinned_bytes", s->peak_pinned_bytes);
	if (source)
		ADD_U64(o, "remote_peak_pinned_bytes", s->remote_peak_pinned_bytes);
	ADD_U64(o, "state_bytes", s->state_bytes);
	return o;
}

static void reply_ok(json_object *id, json_object *ret)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "return", ret ? ret : json_object_new_object());
	if (id)
		json_object_object_add(o, "id", json_object_get(id));
	send_line(o);
	json_object_put(o);
}

static void reply_err(json_object *id, const char *cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reply_err(json_object *id, const char *cls, const char *fmt, ...)
{
	json_object *o = json_object_new_object(), *e = json_object_new_object();
	char desc[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	json_object_object_add(e, "class", json_object_new_string(cls));
	json_object_object_add(e, "desc", json_object_new_string(desc));
	json_object_object_add(o, "error", e);
	if (id)
		json_object_object_add(o, "id", json_object_get(id));
	send_line(o);
	json_object_put(o);
}

/* Reads a non-negative integer argument; returns 0, or -1 if malformed. */
static int arg_u64(json_object *args, const char *key, uint64_t *v, bool *seen)
{
	json_object *x;
	int64_t n;

	*seen = false;
	if (!json_object_object_get_ex(args, key, &x))
		return 0;
	if (!json_object_is_type(x, json_type_int))
		return -1;
	n = json_object_get_int64(x);
	if (n < 0)
		return -1;
	*v = (uint64_t)n;
	*seen = true;
	return 0;
}

static int parse_migrate(json_object *args, struct mig_params *p, char *err,
			 size_t errlen)
{
	static const char *const known[] = {
		"downtime_ms", "max_iterations", "chunk_size", "pin_budget",
		"pin_all", "max_bandwidth_mbps", "on_max_iterations",
		"pause_timeout_ms", NULL,
	};
	json_object *x;
	bool seen;
	int i;

	if (!args)
		return 0;
	if (!json_object_is_type(args, json_type_object)) {
		snprintf(err, errlen, "arguments must be an object");
		return -1;
	}
	json_object_object_foreach(args, key, val) {
		(void)val;
		for (i = 0; known[i] && strcmp(known[i], key); i++)
			;
		if (!known[i]) {
			snprintf(err, errlen, "unknown argument '%s'", key);
			return -1;
		}
	}
	if (arg_u64(args, "downtime_ms", &p->downtime_ms, &seen) ||
	    (seen && !p->downtime_ms)) {
		snprintf(err, errlen, "downtime_ms must be a positive integer");
		return -1;
	}
	if (arg_u64(args, "max_iterations", &p->max_iterations, &seen) ||
	    (seen && !p->max_iterations)) {
		snprintf(err, errlen, "max_iterations must be a positive integer");
		return -1;
	}
	if (arg_u64(args, "chunk_size", &p->chunk_size, &seen) ||
	    !wire_chunk_size_valid(p->chunk_size)) {
		snprintf(err, errlen, "chunk_size must be a power of two from 4096 to 1073741824");
		return -1;
	}
	if (arg_u64(args, "pin_budget", &p->pin_budget, &seen)) {
		snprintf(err, errlen, "pin_budget must be a non-negative integer (bytes)");
		return -1;
	}
	if (arg_u64(args, "max_bandwidth_mbps", &p->max_bandwidth_mbps, &seen)) {
		snprintf(err, errlen, "max_bandwidth_mbps must be a non-negative integer");
		return -1;
	}
	if (arg_u64(args, "pause_timeout_ms", &p->pause_timeout_ms, &seen) ||
	    p->pause_timeout_ms > 3600000) {
		snprintf(err, errlen, "pause_timeout_ms must be an integer from 0 (none) to 3600000");
		return -1;
	}
	if (json_object_object_get_ex(args, "pin_all", &x)) {
		if (!json_object_is_type(x, json_type_boolean)) {
			snprintf(err, errlen, "pin_all must be a boolean");
			return -1;
		}
		p->pin_all = json_object_get_boolean(x);
	}
	if (json_object_object_get_ex(args, "on_max_iterations", &x)) {
		const char *s = json_object_is_type(x, json_type_string) ?
				json_object_get_string(x) : "";

		if (!strcmp(s, "switchover")) {
			p->fail_on_max = false;
		} else if (!strcmp(s, "fail")) {
			p->fail_on_max = true;
		} else {
			snprintf(err, errlen, "on_max_iterations must be \"switchover\" or \"fail\"");
			return -1;
		}
	}
	if (p->pin_budget && p->pin_budget < p->chunk_size) {
		snprintf(err, errlen, "pin_budget must be 0 or at least one chunk (%llu bytes)",
			 (unsigned long long)p->chunk_size);
		return -1;
	}
	return 0;
}

static pthread_t engine;
static bool engine_started;

static void cmd_migrate(struct agent *a, json_object *id, json_object *args)
{
	struct mig_params p;
	char err[256];
	int rc;

	if (!a->source) {
		reply_err(id, "GenericError", "migrate is a source command; this agent is the destination");
		return;
	}
	pthread_mutex_lock(&a->lock);
	if (a->started) {
		pthread_mutex_unlock(&a->lock);
		reply_err(id, "GenericError", "a migration was already started");
		return;
	}
	p = a->defaults;
	if (parse_migrate(args, &p, err, sizeof(err))) {
		pthread_mutex_unlock(&a->lock);
		reply_err(id, "InvalidParameter", "%s", err);
		return;
	}
	a->params = p;
	a->started = true;
	pthread_mutex_unlock(&a->lock);
	rc = pthread_create(&engine, NULL, source_main, a);
	if (rc) {
		reply_err(id, "GenericError", "cannot start the engine: %s", strerror(rc));
		engine_finish(a, false, "cannot start the migration thread");
		return;
	}
	engine_started = true;
	reply_ok(id, NULL);
}

static void cmd_query(struct agent *a, json_object *id)
{
	json_object *r;

	pthread_mutex_lock(&a->lock);
	r = stats_json(&a->stats, a->source);
	json_object_object_add(r, "status", json_object_new_string(status_name(a->status)));
	json_object_object_add(r, "role", json_object_new_string(a->source ? "source" : "destination"));
	ADD_U64(r, "pages_remaining", a->stats.pages_remaining);
	ADD_U64(r, "total_pages", a->stats.total_pages);
	ADD_U64(r, "bandwidth_mbps", a->stats.bandwidth_mbps);
	ADD_U64(r, "dirty_rate_pps", a->stats.dirty_rate_pps);
	if (a->fail_reason[0])
		json_object_object_add(r, "reason", json_object_new_string(a->fail_reason));
	pthread_mutex_unlock(&a->lock);
	reply_ok(id, r);
}

static void cmd_cancel(struct agent *a, json_object *id)
{
	bool idle;

	atomic_store(&a->cancel, true);
	pthread_mutex_lock(&a->lock);
	idle = a->source && !a->started && !a->engine_done;
	if (idle)
		a->started = true;	/* no migration may start any more */
	pthread_mutex_unlock(&a->lock);
	reply_ok(id, NULL);
	if (idle)
		engine_finish(a, false, "cancelled");
}

static void cmd_paused(struct agent *a, json_object *id, json_object *args)
{
	enum mig_status st;
	uint64_t at = 0, t = now_us();
	bool seen = false;

	if (!a->source) {
		reply_err(id, "GenericError", "paused is a source command");
		return;
	}
	/*
	 * Optional "paused_at_us": the VMM's CLOCK_MONOTONIC time (same host)
	 * when its vCPUs stopped, so the downtime starts at the pause itself,
	 * not when this command was read.
	 */
	if (args && (!json_object_is_type(args, json_type_object) ||
		     arg_u64(args, "paused_at_us", &at, &seen) ||
		     (seen && (at > t || at < a->switchover_us)))) {
		reply_err(id, "InvalidParameter",
			  "paused_at_us must be the CLOCK_MONOTONIC time of the pause in microseconds, after switchover-ready and not in the future");
		return;
	}
	pthread_mutex_lock(&a->lock);
	st = a->status;
	if (st == ST_SWITCHOVER && !atomic_load(&a->paused)) {
		a->paused_us = seen ? at : t;	/* downtime starts here */
		atomic_store(&a->paused, true);
		pthread_cond_broadcast(&a->cond);
		engine_wake(a);
	}
	pthread_mutex_unlock(&a->lock);
	if (st != ST_SWITCHOVER) {
		reply_err(id, "GenericError", "paused is only valid after switchover-ready (status is %s)",
			  status_name(st));
		return;
	}
	reply_ok(id, NULL);
}

static void handle_line(struct agent *a, const char *line)
{
	enum json_tokener_error jerr;
	json_object *o = json_tokener_parse_verbose(line, &jerr), *id = NULL, *x,
		    *args = NULL;
	const char *cmd;

	if (!o || !json_object_is_type(o, json_type_object)) {
		reply_err(NULL, "GenericError", "expected a JSON object: %s",
			  o ? "not an object" : json_tokener_error_desc(jerr));
		json_object_put(o);
		return;
	}
	json_object_object_get_ex(o, "id", &id);
	if (!json_object_object_get_ex(o, "execute", &x) ||
	    !json_object_is_type(x, json_type_string)) {
		reply_err(id, "GenericError", "missing \"execute\"");
		json_object_put(o);
		return;
	}
	cmd = json_object_get_string(x);
	json_object_object_get_ex(o, "arguments", &args);
	log_dbg("command %s", cmd);
	if (!strcmp(cmd, "migrate"))
		cmd_migrate(a, id, args);
	else if (!strcmp(cmd, "query"))
		cmd_query(a, id);
	else if (!strcmp(cmd, "cancel"))
		cmd_cancel(a, id);
	else if (!strcmp(cmd, "paused"))
		cmd_paused(a, id, args);
	else
		reply_err(id, "CommandNotFound", "unknown command '%s'", cmd);
	json_object_put(o);
}

static void greet(struct agent *a, int fd)
{
	json_object *o = json_object_new_object(), *g = json_object_new_object();

	json_object_object_add(g, "version", json_object_new_string(RDMIGD_VERSION));
	json_object_object_add(g, "role", json_object_new_string(a->source ? "source" : "destination"));
	json_object_object_add(o, "greeting", g);
	pthread_mutex_lock(&out_lock);
	out_fd = fd;
	pthread_mutex_unlock(&out_lock);
	send_line(o);
	json_object_put(o);
	pthread_mutex_lock(&out_lock);
	if (pending_len)
		write_all(fd, pending, pending_len);
	free(pending);
	pending = NULL;
	pending_len = 0;
	pthread_mutex_unlock(&out_lock);
}

static int listen_path(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_err("control path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    listen(fd, 1)) {
		log_err("cannot listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Source: collect the device state the VMM writes after switchover-ready. */
static void read_state(struct agent *a, int *state_fd)
{
	uint8_t buf[65536];
	ssize_t k = read(*state_fd, buf, sizeof(buf));

	if (k < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	pthread_mutex_lock(&a->lock);
	if (k < 0) {
		snprintf(a->state_err, sizeof(a->state_err), "reading device state: %s",
			 strerror(errno));
	} else if (k > 0 && a->state_len + (size_t)k > MAX_STATE_BYTES) {
		snprintf(a->state_err, sizeof(a->state_err),
			 "device state larger than %u bytes", MAX_STATE_BYTES);
		k = -1;
	} else if (k > 0) {
		if (a->state_len + (size_t)k > a->state_cap) {
			size_t cap = a->state_cap ? a->state_cap * 2 : 65536;
			uint8_t *p;

			while (cap < a->state_len + (size_t)k)
				cap *= 2;
			p = realloc(a->state_buf, cap);
			if (!p) {
				snprintf(a->state_err, sizeof(a->state_err),
					 "out of memory for the device state");
				k = -1;
			} else {
				a->state_buf = p;
				a->state_cap = cap;
			}
		}
		if (k > 0) {
			memcpy(a->state_buf + a->state_len, buf, (size_t)k);
			a->state_len += (size_t)k;
		}
	}
	if (k <= 0) {
		a->state_eof = true;
		close(*state_fd);
		*state_fd = -1;
		pthread_cond_broadcast(&a->cond);
		engine_wake(a);
	}
	pthread_mutex_unlock(&a->lock);
}

int ctl_run(struct agent *a, int ctl_fd, const char *ctl_path)
{
	char *line = malloc(LINE_MAX_BYTES);
	size_t len = 0;
	int lfd = -1, cfd = -1, sfd = -1, rc;
	bool done = false;

	signal(SIGPIPE, SIG_IGN);
	if (!line)
		return 1;
	if (ctl_path) {
		lfd = listen_path(ctl_path);
		if (lfd < 0) {
			free(line);
			return 1;
		}
	} else if (ctl_fd >= 0) {
		cfd = ctl_fd;
		greet(a, cfd);
	}
	while (!done) {
		struct pollfd p[4];
		int n = 0, ip = -1, ic = -1, is = -1, iw;

		pthread_mutex_lock(&a->lock);
		if (a->source && a->state_reading && sfd < 0 && !a->state_eof) {
			if (a->state_fd >= 0) {
				sfd = a->state_fd;
				a->state_fd = -1;
				fcntl(sfd, F_SETFL, fcntl(sfd, F_GETFL) | O_NONBLOCK);
			} else {
				a->state_eof = true;
				pthread_cond_broadcast(&a->cond);
			}
		}
		done = a->engine_done;
		pthread_mutex_unlock(&a->lock);
		if (done)
			break;
		if (lfd >= 0 && cfd < 0) {
			ip = n;
			p[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		}
		if (cfd >= 0) {
			ic = n;
			p[n++] = (struct pollfd){ .fd = cfd, .events = POLLIN };
		}
		if (sfd >= 0) {
			is = n;
			p[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		}
		iw = n;
		p[n++] = (struct pollfd){ .fd = a->wake_fd[0], .events = POLLIN };
		rc = poll(p, (nfds_t)n, 1000);
		if (rc < 0 && errno != EINTR) {
			log_err("poll: %s", strerror(errno));
			break;
		}
		if (rc <= 0)
			continue;
		if (p[iw].revents & POLLIN) {
			char b[64];

			while (read(a->wake_fd[0], b, sizeof(b)) > 0)
				;
		}
		if (is >= 0 && p[is].revents)
			read_state(a, &sfd);
		if (ip >= 0 && (p[ip].revents & POLLIN)) {
			cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (cfd >= 0)
				greet(a, cfd);
		}
		if (ic >= 0 && p[ic].revents) {
			ssize_t k = read(cfd, line + len, LINE_MAX_BYTES - len);
			char *nl;

			if (k <= 0) {
				if (k < 0 && errno == EINTR)
					continue;
				log_info("control channel closed: cancelling");
				pthread_mutex_lock(&out_lock);
				out_fd = -1;
				pthread_mutex_unlock(&out_lock);
				close(cfd);
				cfd = -1;
				cmd_cancel(a, NULL);
				continue;
			}
			len += (size_t)k;
			while ((nl = memchr(line, '\n', len))) {
				*nl = '\0';
				if (nl != line)
					handle_line(a, line);
				len -= (size_t)(nl + 1 - line);
				memmove(line, nl + 1, len);
			}
			if (len == LINE_MAX_BYTES) {
				reply_err(NULL, "GenericError", "line longer than %d bytes", LINE_MAX_BYTES);
				len = 0;
			}
		}
	}
	if (engine_started)
		pthread_join(engine, NULL);
	pthread_mutex_lock(&out_lock);
	out_fd = -1;
	pthread_mutex_unlock(&out_lock);
	if (cfd >= 0)
		close(cfd);
	if (sfd >= 0)
		close(sfd);
	if (lfd >= 0) {
		close(lfd);
		unlink(ctl_path);
	}
	free(line);
	free(pending);
	pending = NULL;
	return a->exit_code;
}

void engine_start_dest(struct agent *a)
{
	int rc = pthread_create(&engine, NULL, dest_main, a);

	if (rc) {
		engine_finish(a, false, "cannot start the migration thread");
		return;
	}
	engine_started = true;
}

/* Tell the VMM how the migration ended, once. */
void engine_report(struct agent *a, bool ok, const char *reason)
{
	json_object *d;

	pthread_mutex_lock(&a->lock);
	if (a->reported) {
		pthread_mutex_unlock(&a->lock);
		return;
	}
	a->reported = true;
	if (ok) {
		a->status = ST_COMPLETED;
		d = stats_json(&a->stats, a->source);
	} else {
		a->status = atomic_load(&a->cancel) ? ST_CANCELLED : ST_FAILED;
		snprintf(a->fail_reason, sizeof(a->fail_reason), "%s", reason);
		d = json_object_new_object();
		json_object_object_add(d, "reason", json_object_new_string(reason));
	}
	a->exit_code = ok ? 0 : 1;
	pthread_mutex_unlock(&a->lock);
	ctl_event(a, ok ? "completed" : "failed", d);
	if (ok)
		log_info("migration completed");
	else
		log_err("migration failed: %s", reason);
}

/* The migration thread is done: report (unless it did) and let main exit. */
void engine_finish(struct agent *a, bool ok, const char *reason)
{
	engine_report(a, ok, reason);
	pthread_mutex_lock(&a->lock);
	a->engine_done = true;
	pthread_mutex_unlock(&a->lock);
	ctl_wake(a);
}
