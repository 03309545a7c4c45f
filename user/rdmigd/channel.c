// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VMM's QMP control channel (Documentation/control.md). The main
 * thread runs ctl_run(): it accepts the one client (or uses the inherited
 * socket), answers commands, forwards the engine's events through a
 * bounded queue, and on the source reads the device state fd once
 * pre-switchover has been reached (so a VMM writing into a pipe never
 * blocks on a full pipe). The migration's lifecycle (starting the engine
 * thread, statuses, the final report) is engine.c's; the QMP codec is
 * qmp.c's.
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
#include "qmp.h"
#include "wire.h"

/*
 * The output queue. Replies, the greeting and events are queued as whole
 * lines and written by the main thread with non-blocking writes, so no
 * thread ever blocks on a VMM that stops reading: the engine thread only
 * appends under out_lock. Progress events (RDMIG_PROGRESS, MIGRATION_PASS)
 * coalesce once the queue holds OUTQ_SOFT_MAX bytes: the newest replaces
 * the last queued one of the same name. Status events, completion and
 * failure are never dropped. Above OUTQ_READ_MAX queued bytes the agent
 * stops reading commands until the client reads its replies.
 */
#define OUTQ_SOFT_MAX	(64u << 10)
#define OUTQ_READ_MAX	(256u << 10)
#define LINGER_MS	10000	/* flushing the last events at exit */

struct qitem {
	struct qitem *next;
	char *s;
	size_t len, off;
	const char *key;	/* coalescing key (event name), or NULL */
};

struct outq {
	struct qitem *head, *tail;
	size_t bytes;
};

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static struct outq outq;	/* to the client, in order */
static struct outq held;	/* events before qmp_capabilities */
static bool negotiated;
static uint64_t coalesced;	/* progress events replaced in the queue */

static uint64_t last_pass;

static void q_free_item(struct qitem *it)
{
	free(it->s);
	free(it);
}

static void q_clear(struct outq *q)
{
	while (q->head) {
		struct qitem *it = q->head;

		q->head = it->next;
		q_free_item(it);
	}
	q->tail = NULL;
	q->bytes = 0;
}

/* Appends @o as one line; under out_lock. */
static void q_push(struct outq *q, json_object *o, const char *key)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	size_t n = strlen(s);
	struct qitem *it, *last = NULL;
	char *line = malloc(n + 1);

	if (!line) {
		log_err("out of memory queueing a control channel message");
		return;
	}
	memcpy(line, s, n);
	line[n] = '\n';
	if (key && q->bytes >= OUTQ_SOFT_MAX) {
		for (it = q->head; it; it = it->next)
			if (it->key && !strcmp(it->key, key) && !it->off)
				last = it;
		if (last) {
			q->bytes += n + 1 - last->len;
			free(last->s);
			last->s = line;
			last->len = n + 1;
			coalesced++;
			return;
		}
	}
	it = calloc(1, sizeof(*it));
	if (!it) {
		free(line);
		log_err("out of memory queueing a control channel message");
		return;
	}
	it->s = line;
	it->len = n + 1;
	it->key = key;
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->bytes += it->len;
}

/* Replies and the greeting: straight to the client's queue. */
static void send_line(json_object *o)
{
	pthread_mutex_lock(&out_lock);
	q_push(&outq, o, NULL);
	pthread_mutex_unlock(&out_lock);
	json_object_put(o);
}

void ctl_event_at(struct agent *a, const char *name, json_object *data,
		  bool coalesce, uint64_t rt_us)
{
	json_object *o = qmp_event_at(name, data, rt_us);

	pthread_mutex_lock(&out_lock);
	q_push(negotiated ? &outq : &held, o, coalesce ? name : NULL);
	pthread_mutex_unlock(&out_lock);
	json_object_put(o);
	log_dbg("event %s", name);
	ctl_wake(a);
}

static void queue_event(struct agent *a, const char *name, json_object *data, bool coalesce)
{
	ctl_event_at(a, name, data, coalesce, 0);
}

void ctl_event(struct agent *a, const char *name, json_object *data)
{
	queue_event(a, name, data, false);
}

void ctl_wake(struct agent *a)
{
	char b = 1;

	if (write(a->wake_fd[1], &b, 1) < 0 && errno != EAGAIN)
		log_dbg("wake: %s", strerror(errno));
}

#define ADD_U64(o, k, v) json_object_object_add(o, k, json_object_new_int64((int64_t)(v)))

void ctl_progress(struct agent *a, uint64_t pass, json_object *data)
{
	ctl_sync_status(a);
	if (pass != last_pass) {
		json_object *d = json_object_new_object();

		last_pass = pass;
		ADD_U64(d, "pass", pass);
		queue_event(a, "MIGRATION_PASS", d, true);
	}
	queue_event(a, "RDMIG_PROGRESS", data, true);
}

static void reply_ok(json_object *id, json_object *ret)
{
	send_line(qmp_return(id, ret));
}

static void reply_err(json_object *id, const char *cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reply_err(json_object *id, const char *cls, const char *fmt, ...)
{
	char desc[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	send_line(qmp_error(id, cls, desc));
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

static void cmd_migrate(struct agent *a, json_object *id, json_object *args)
{
	static const char *const known[] = { "uri", "detach", "blk", "inc", "resume", NULL };
	char err[256], uri[300];
	json_object *x;
	int rc;

	if (qmp_check_args(args, known, err, sizeof(err))) {
		reply_err(id, "GenericError", "%s", err);
		return;
	}
	if (!a->source) {
		reply_err(id, "GenericError", "migrate is a source command; this agent is the destination");
		return;
	}
	/* The peer is fixed on the command line; a uri must name the same. */
	snprintf(uri, sizeof(uri), "rdma:%s:%s", a->addr, a->port);
	if (args && json_object_object_get_ex(args, "uri", &x) &&
	    (!json_object_is_type(x, json_type_string) ||
	     strcmp(json_object_get_string(x), uri))) {
		reply_err(id, "GenericError", "this agent migrates only to %s (its --connect)", uri);
		return;
	}
	if (args && json_object_object_get_ex(args, "detach", &x) &&
	    !json_object_is_type(x, json_type_boolean)) {
		reply_err(id, "GenericError", "Invalid parameter type for 'detach', expected: boolean");
		return;
	}
	for (rc = 2; known[rc]; rc++)
		if (args && json_object_object_get_ex(args, known[rc], &x) &&
		    (!json_object_is_type(x, json_type_boolean) || json_object_get_boolean(x))) {
			reply_err(id, "GenericError", "'%s' is not supported by rdmigd", known[rc]);
			return;
		}
	pthread_mutex_lock(&a->lock);
	if (a->started) {
		pthread_mutex_unlock(&a->lock);
		reply_err(id, "GenericError", "a migration was already started");
		return;
	}
	a->started = true;
	a->status = ST_SETUP;
	pthread_mutex_unlock(&a->lock);
	rc = engine_start_source(a);
	if (rc) {
		reply_err(id, "GenericError", "cannot start the engine: %s", strerror(rc));
		return;
	}
	reply_ok(id, NULL);
	ctl_sync_status(a);
}

static void cmd_set_parameters(struct agent *a, json_object *id, json_object *args)
{
	struct mig_params q;
	const char *secret;
	char err[256];
	int rc;

	pthread_mutex_lock(&a->lock);
	if (a->source && a->started) {
		pthread_mutex_unlock(&a->lock);
		reply_err(id, "GenericError", "parameters cannot change once the migration started");
		return;
	}
	/* All or nothing: the parameters apply only if the secret does too. */
	q = a->params;
	rc = qmp_set_parameters(args, &q, &secret, err, sizeof(err));
	if (!rc && secret)
		rc = auth_secret_set(&a->secret, secret, strlen(secret), err,
				     sizeof(err));
	if (!rc)
		a->params = q;
	pthread_mutex_unlock(&a->lock);
	if (rc)
		reply_err(id, "GenericError", "%s", err);
	else
		reply_ok(id, NULL);
}

static void cmd_query_parameters(struct agent *a, json_object *id)
{
	json_object *r;

	pthread_mutex_lock(&a->lock);
	r = qmp_query_parameters(&a->params, a->secret.set);
	pthread_mutex_unlock(&a->lock);
	reply_ok(id, r);
}

static void cmd_query_migrate(struct agent *a, json_object *id)
{
	json_object *r;

	pthread_mutex_lock(&a->lock);
	r = engine_mig_info(a);
	pthread_mutex_unlock(&a->lock);
	reply_ok(id, r);
}

/* @reply: a migrate_cancel command (not the channel closing) is answered. */
static void cmd_cancel(struct agent *a, bool reply, json_object *id)
{
	bool idle;

	atomic_store(&a->cancel, true);
	pthread_mutex_lock(&a->lock);
	idle = a->source && !a->started && !a->engine_done;
	if (idle)
		a->started = true;	/* no migration may start any more */
	pthread_mutex_unlock(&a->lock);
	if (reply)
		reply_ok(id, NULL);
	if (idle)
		engine_finish(a, false, "migration cancelled");
}

/*
 * migrate-continue {"state":"pre-switchover"}: the VMM paused the vCPUs.
 * rdmig's extension "paused_at_us" dates the pause (see below).
 */
static void cmd_continue(struct agent *a, json_object *id, json_object *args)
{
	static const char *const known[] = { "state", "paused_at_us", NULL };
	enum mig_status st;
	uint64_t at = 0, t = now_us();
	bool seen = false;
	char err[256];
	json_object *x;

	if (qmp_check_args(args, known, err, sizeof(err))) {
		reply_err(id, "GenericError", "%s", err);
		return;
	}
	if (!args || !json_object_object_get_ex(args, "state", &x)) {
		reply_err(id, "GenericError", "Parameter 'state' is missing");
		return;
	}
	if (!json_object_is_type(x, json_type_string) ||
	    strcmp(json_object_get_string(x), "pre-switchover")) {
		reply_err(id, "GenericError", "Parameter 'state' must be 'pre-switchover'");
		return;
	}
	if (!a->source) {
		reply_err(id, "GenericError", "migrate-continue is a source command");
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
		a->status = ST_DEVICE;
		pthread_cond_broadcast(&a->cond);
		engine_wake(a);
	}
	pthread_mutex_unlock(&a->lock);
	if (st != ST_SWITCHOVER) {
		reply_err(id, "GenericError", "Migration not in expected state: %s",
			  a->source && !a->started ? "none" : status_name(st));
		return;
	}
	reply_ok(id, NULL);
	ctl_sync_status(a);
}

static const char *const commands[] = {
	"qmp_capabilities", "query-commands", "query-version", "migrate",
	"migrate_cancel", "migrate-continue", "query-migrate",
	"migrate-set-parameters", "query-migrate-parameters", NULL,
};

static void cmd_query_commands(json_object *id)
{
	json_object *r = json_object_new_array();
	int i;

	for (i = 0; commands[i]; i++) {
		json_object *c = json_object_new_object();

		json_object_object_add(c, "name", json_object_new_string(commands[i]));
		json_object_array_add(r, c);
	}
	reply_ok(id, r);
}

static void cmd_query_version(json_object *id)
{
	json_object *g = qmp_greeting(RDMIGD_VERSION), *q, *v;

	json_object_object_get_ex(g, "QMP", &q);
	json_object_object_get_ex(q, "version", &v);
	reply_ok(id, json_object_get(v));
	json_object_put(g);
}

static void cmd_capabilities(struct agent *a, json_object *id, json_object *args)
{
	static const char *const known[] = { "enable", NULL };
	json_object *x, *ok;
	char err[256];

	(void)a;
	if (qmp_check_args(args, known, err, sizeof(err))) {
		reply_err(id, "GenericError", "%s", err);
		return;
	}
	if (args && json_object_object_get_ex(args, "enable", &x)) {
		if (!json_object_is_type(x, json_type_array)) {
			reply_err(id, "GenericError", "Invalid parameter type for 'enable', expected: array");
			return;
		}
		if (json_object_array_length(x)) {
			/* No capability (not even oob) is offered in the greeting. */
			reply_err(id, "GenericError", "Capability '%s' not available",
				  json_object_get_string(json_object_array_get_idx(x, 0)));
			return;
		}
	}
	ok = qmp_return(id, NULL);
	pthread_mutex_lock(&out_lock);
	q_push(&outq, ok, NULL);
	json_object_put(ok);
	/* The events held back during negotiation follow the reply. */
	if (held.head) {
		if (outq.tail)
			outq.tail->next = held.head;
		else
			outq.head = held.head;
		outq.tail = held.tail;
		outq.bytes += held.bytes;
		held.head = held.tail = NULL;
		held.bytes = 0;
	}
	negotiated = true;
	pthread_mutex_unlock(&out_lock);
}

static void handle_line(void *ctx, const char *line, size_t len, bool overlong)
{
	struct agent *a = ctx;
	struct qmp_request req;
	char err[256];
	int rc;

	if (overlong) {
		reply_err(NULL, "GenericError", "JSON parse error, line longer than %d bytes (discarded up to its newline)",
			  QMP_LINE_MAX);
		return;
	}
	rc = qmp_parse_request(line, len, &req, err, sizeof(err));
	if (rc < 0)
		reply_err(req.id, "GenericError", "%s", err);
	if (rc <= 0) {
		qmp_request_free(&req);
		return;
	}
	log_dbg("command %s", req.execute);
	if (!negotiated) {
		if (!strcmp(req.execute, "qmp_capabilities"))
			cmd_capabilities(a, req.id, req.arguments);
		else
			reply_err(req.id, "CommandNotFound",
				  "Expecting capabilities negotiation with 'qmp_capabilities'");
	} else if (!strcmp(req.execute, "qmp_capabilities")) {
		reply_err(req.id, "CommandNotFound",
			  "Capabilities negotiation is already complete, command ignored");
	} else if (!strcmp(req.execute, "query-commands")) {
		cmd_query_commands(req.id);
	} else if (!strcmp(req.execute, "query-version")) {
		cmd_query_version(req.id);
	} else if (!strcmp(req.execute, "migrate")) {
		cmd_migrate(a, req.id, req.arguments);
	} else if (!strcmp(req.execute, "migrate_cancel")) {
		if (qmp_check_args(req.arguments, (const char *const[]){ NULL }, err, sizeof(err)))
			reply_err(req.id, "GenericError", "%s", err);
		else
			cmd_cancel(a, true, req.id);
	} else if (!strcmp(req.execute, "migrate-continue")) {
		cmd_continue(a, req.id, req.arguments);
	} else if (!strcmp(req.execute, "query-migrate")) {
		cmd_query_migrate(a, req.id);
	} else if (!strcmp(req.execute, "migrate-set-parameters")) {
		cmd_set_parameters(a, req.id, req.arguments);
	} else if (!strcmp(req.execute, "query-migrate-parameters")) {
		cmd_query_parameters(a, req.id);
	} else {
		reply_err(req.id, "CommandNotFound", "The command %s has not been found", req.execute);
	}
	qmp_request_free(&req);
}

static void greet(void)
{
	pthread_mutex_lock(&out_lock);
	q_clear(&outq);
	negotiated = false;
	pthread_mutex_unlock(&out_lock);
	send_line(qmp_greeting(RDMIGD_VERSION));
}

/*
 * Writes what the queue holds without blocking. Returns 0, or -1 when the
 * client is gone.
 */
static int flush_out(int fd)
{
	int ret = 0;

	pthread_mutex_lock(&out_lock);
	while (outq.head) {
		struct qitem *it = outq.head;
		ssize_t k = send(fd, it->s + it->off, it->len - it->off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (k < 0) {
			log_dbg("control client write failed: %s", strerror(errno));
			ret = -1;
			break;
		}
		it->off += (size_t)k;
		outq.bytes -= (size_t)k;
		if (it->off == it->len) {
			outq.head = it->next;
			if (!outq.head)
				outq.tail = NULL;
			q_free_item(it);
		}
	}
	pthread_mutex_unlock(&out_lock);
	return ret;
}

static size_t out_bytes(void)
{
	size_t n;

	pthread_mutex_lock(&out_lock);
	n = outq.bytes;
	pthread_mutex_unlock(&out_lock);
	return n;
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

/* Engine done: give the client up to LINGER_MS to take the last events. */
static void linger(int cfd)
{
	uint64_t end = now_us() + LINGER_MS * 1000ull;

	while (cfd >= 0 && out_bytes() && now_us() < end) {
		struct pollfd p = { .fd = cfd, .events = POLLOUT };

		if (poll(&p, 1, 100) < 0 && errno != EINTR)
			break;
		if ((p.revents & (POLLERR | POLLHUP)) || flush_out(cfd))
			break;
	}
	if (out_bytes())
		log_dbg("control client did not read the last %zu bytes", out_bytes());
}

int ctl_run(struct agent *a, int ctl_fd, const char *ctl_path)
{
	struct qmp_reader rd;
	char *buf = malloc(65536);
	int lfd = -1, cfd = -1, sfd = -1, rc;
	bool done = false;

	signal(SIGPIPE, SIG_IGN);
	if (!buf || qmp_reader_init(&rd)) {
		log_err("out of memory");
		free(buf);
		return 1;
	}
	if (!a->source)
		engine_begin(a);
	if (ctl_path) {
		lfd = listen_path(ctl_path);
		if (lfd < 0) {
			/* The destination engine may be running already. */
			atomic_store(&a->cancel, true);
			engine_join();
			qmp_reader_free(&rd);
			free(buf);
			return 1;
		}
	} else if (ctl_fd >= 0) {
		cfd = ctl_fd;
		greet();
	}
	while (!done) {
		struct pollfd p[4];
		int n = 0, ip = -1, ic = -1, is = -1, iw;

		ctl_sync_status(a);
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
			size_t q = out_bytes();

			ic = n;
			/* A client that does not read its replies is not read either. */
			p[n++] = (struct pollfd){ .fd = cfd,
				.events = (short)((q < OUTQ_READ_MAX ? POLLIN : 0) |
						  (q ? POLLOUT : 0)) };
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
				greet();
			continue;
		}
		if (ic < 0)
			continue;
		if ((p[ic].revents & POLLOUT) && flush_out(cfd))
			p[ic].revents |= POLLHUP;
		if (p[ic].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t k = read(cfd, buf, 65536);

			if (k < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (k <= 0) {
				log_info("control channel closed: cancelling");
				close(cfd);
				cfd = -1;
				pthread_mutex_lock(&out_lock);
				q_clear(&outq);
				pthread_mutex_unlock(&out_lock);
				cmd_cancel(a, false, NULL);
				continue;
			}
			qmp_reader_feed(&rd, buf, (size_t)k, handle_line, a);
			flush_out(cfd);
		}
	}
	engine_join();
	if (cfd >= 0) {
		flush_out(cfd);
		linger(cfd);
		close(cfd);
	}
	if (sfd >= 0)
		close(sfd);
	if (lfd >= 0) {
		close(lfd);
		unlink(ctl_path);
	}
	pthread_mutex_lock(&out_lock);
	q_clear(&outq);
	q_clear(&held);
	pthread_mutex_unlock(&out_lock);
	qmp_reader_free(&rd);
	free(buf);
	return a->exit_code;
}
