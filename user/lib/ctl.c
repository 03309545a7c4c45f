// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The client side of rdmigd's control channel, which speaks QMP
 * (Documentation/control.md): the greeting and capability negotiation,
 * commands with ids, and the messages (events, replies) in the order they
 * arrive. One line per message; json-c does the JSON.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>
#include <rdmig/librdmig.h>

#include "util.h"

#define CTL_LINE_MAX	(1u << 20)	/* a reply or event, one line */

struct rdmig_ctl {
	int fd;
	int next_id;
	char *buf;
	size_t len, cap;
	json_object **q;	/* messages set aside by rdmig_ctl_execute() */
	size_t qn, qcap;
	json_object *greeting;
};

/* One complete buffered line as a JSON object: 1, 0 (none yet), -EBADMSG. */
static int take_line(struct rdmig_ctl *c, json_object **msg)
{
	char *nl = memchr(c->buf, '\n', c->len);
	size_t n;

	if (!nl)
		return 0;
	*nl = '\0';
	n = (size_t)(nl - c->buf) + 1;
	*msg = json_tokener_parse(c->buf);
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
	if (!*msg || !json_object_is_type(*msg, json_type_object)) {
		json_object_put(*msg);
		*msg = NULL;
		return -EBADMSG;
	}
	return 1;
}

/* Reads what is there; 1 read something, 0 nothing (EAGAIN), -errno, -EPIPE at EOF. */
static int fill(struct rdmig_ctl *c)
{
	ssize_t r;

	if (c->len == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 65536;
		char *p;

		if (cap > CTL_LINE_MAX)
			return -EMSGSIZE;
		p = realloc(c->buf, cap);
		if (!p)
			return -ENOMEM;
		c->buf = p;
		c->cap = cap;
	}
	r = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
	/* An agent that exits with our last command unread resets the socket. */
	if (r == 0 || (r < 0 && errno == ECONNRESET))
		return -EPIPE;
	if (r < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -errno;
	c->len += (size_t)r;
	return 1;
}

/* The next message off the wire (not the set-aside queue). */
static int wire_recv(struct rdmig_ctl *c, json_object **msg, int timeout_ms)
{
	uint64_t end = rdmig_now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000ull;
	int ret;

	*msg = NULL;
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int64_t left;

		ret = take_line(c, msg);
		if (ret)
			return ret;
		ret = fill(c);
		if (ret < 0)
			return ret;
		if (ret > 0)
			continue;
		left = timeout_ms < 0 ? -1 : (int64_t)(end - rdmig_now_ns()) / 1000000;
		if (timeout_ms >= 0 && (int64_t)(end - rdmig_now_ns()) <= 0)
			return 0;
		if (poll(&p, 1, left < 0 ? -1 : (int)(left > 0 ? left : 1)) < 0 && errno != EINTR)
			return -errno;
	}
}

int rdmig_ctl_recv(struct rdmig_ctl *c, struct json_object **msg, int timeout_ms)
{
	if (c->qn) {
		*msg = c->q[0];
		memmove(c->q, c->q + 1, (c->qn - 1) * sizeof(*c->q));
		c->qn--;
		return 1;
	}
	return wire_recv(c, msg, timeout_ms);
}

int rdmig_ctl_send(struct rdmig_ctl *c, const char *cmd, struct json_object *args)
{
	json_object *o = json_object_new_object();
	const char *s;
	size_t len, off = 0;
	int id = c->next_id++;

	json_object_object_add(o, "execute", json_object_new_string(cmd));
	if (args)
		json_object_object_add(o, "arguments", args);
	json_object_object_add(o, "id", json_object_new_int(id));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	len = strlen(s);
	while (off <= len) {
		/* The line and its newline, in as many writes as it takes. */
		const char *p = off < len ? s + off : "\n";
		size_t n = off < len ? len - off : 1;
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			id = -errno;
			break;
		}
		off += (size_t)w;
	}
	json_object_put(o);
	return id;
}

static int set_aside(struct rdmig_ctl *c, json_object *m)
{
	if (c->qn == c->qcap) {
		size_t cap = c->qcap ? c->qcap * 2 : 16;
		json_object **q = realloc(c->q, cap * sizeof(*q));

		if (!q)
			return -ENOMEM;
		c->q = q;
		c->qcap = cap;
	}
	c->q[c->qn++] = m;
	return 0;
}

static bool is_reply_to(json_object *m, int id)
{
	json_object *x;

	return json_object_object_get_ex(m, "id", &x) &&
	       json_object_is_type(x, json_type_int) && json_object_get_int(x) == id &&
	       (json_object_object_get_ex(m, "return", NULL) ||
		json_object_object_get_ex(m, "error", NULL));
}

/* Waits for the reply to @id; other messages are set aside, in order. */
static int wait_reply(struct rdmig_ctl *c, int id, const char *cmd, struct json_object **ret,
		      char *err, size_t errlen, int timeout_ms)
{
	uint64_t end = rdmig_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	json_object *m, *e, *x;
	int r;

	for (;;) {
		int64_t left = (int64_t)(end - rdmig_now_ns()) / 1000000;

		r = wire_recv(c, &m, timeout_ms < 0 ? -1 : left > 0 ? (int)left : 0);
		if (r == 0) {
			rdmig_seterr(err, errlen, "no reply to %s within %d ms", cmd, timeout_ms);
			return -ETIMEDOUT;
		}
		if (r < 0) {
			rdmig_seterr(err, errlen, "%s: %s", cmd, r == -EPIPE ? "the agent closed the channel" :
			       strerror(-r));
			return r;
		}
		if (!is_reply_to(m, id)) {
			r = set_aside(c, m);
			if (r) {
				json_object_put(m);
				rdmig_seterr(err, errlen, "%s: %s", cmd, strerror(-r));
				return r;
			}
			continue;
		}
		if (json_object_object_get_ex(m, "error", &e)) {
			json_object *cls = NULL, *desc = NULL;

			json_object_object_get_ex(e, "class", &cls);
			json_object_object_get_ex(e, "desc", &desc);
			rdmig_seterr(err, errlen, "%s: %s: %s", cmd, cls ? json_object_get_string(cls) : "?",
			       desc ? json_object_get_string(desc) : "?");
			json_object_put(m);
			return -EREMOTEIO;
		}
		json_object_object_get_ex(m, "return", &x);
		if (ret)
			*ret = json_object_get(x);
		json_object_put(m);
		return 0;
	}
}

int rdmig_ctl_execute(struct rdmig_ctl *c, const char *cmd, struct json_object *args,
		      struct json_object **ret, char *err, size_t errlen, int timeout_ms)
{
	int id;

	if (ret)
		*ret = NULL;
	id = rdmig_ctl_send(c, cmd, args);
	if (id < 0) {
		rdmig_seterr(err, errlen, "cannot send %s: %s", cmd, strerror(-id));
		return id;
	}
	return wait_reply(c, id, cmd, ret, err, errlen, timeout_ms);
}

int rdmig_ctl_open(int fd, int timeout_ms, struct rdmig_ctl **out, char *err, size_t errlen)
{
	struct rdmig_ctl *c = calloc(1, sizeof(*c));
	json_object *m = NULL, *q, *caps;
	int r;

	*out = NULL;
	if (!c) {
		close(fd);
		rdmig_seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->fd = fd;
	c->next_id = 1;
	r = wire_recv(c, &m, timeout_ms);
	if (r <= 0) {
		rdmig_seterr(err, errlen, "no QMP greeting from the agent (%s)", r == 0 ? "timeout" :
		       r == -EPIPE ? "it closed the channel" : strerror(-r));
		rdmig_ctl_close(c);
		return r ? r : -ETIMEDOUT;
	}
	if (!json_object_object_get_ex(m, "QMP", &q) ||
	    !json_object_object_get_ex(q, "capabilities", &caps) ||
	    !json_object_is_type(caps, json_type_array)) {
		rdmig_seterr(err, errlen, "not a QMP greeting: %s", json_object_to_json_string(m));
		json_object_put(m);
		rdmig_ctl_close(c);
		return -EPROTO;
	}
	c->greeting = m;
	/* No capability is asked for: the channel is plain QMP. */
	r = rdmig_ctl_execute(c, "qmp_capabilities", NULL, NULL, err, errlen, timeout_ms);
	if (r) {
		rdmig_ctl_close(c);
		return r;
	}
	*out = c;
	return 0;
}

int rdmig_ctl_connect(const char *path, int timeout_ms, struct rdmig_ctl **out,
		      char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, e;

	*out = NULL;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		rdmig_seterr(err, errlen, "control path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		e = errno;
		if (fd >= 0)
			close(fd);
		rdmig_seterr(err, errlen, "cannot connect to %s: %s", path, strerror(e));
		return -e;
	}
	return rdmig_ctl_open(fd, timeout_ms, out, err, errlen);
}

void rdmig_ctl_close(struct rdmig_ctl *c)
{
	size_t i;

	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	for (i = 0; i < c->qn; i++)
		json_object_put(c->q[i]);
	free(c->q);
	free(c->buf);
	json_object_put(c->greeting);
	free(c);
}

int rdmig_ctl_fd(const struct rdmig_ctl *c)
{
	return c->fd;
}

bool rdmig_ctl_pending(const struct rdmig_ctl *c)
{
	return c->qn || memchr(c->buf, '\n', c->len);
}

struct json_object *rdmig_ctl_greeting(const struct rdmig_ctl *c)
{
	return c->greeting;
}

const char *rdmig_ctl_event(struct json_object *msg, struct json_object **data)
{
	json_object *e;

	if (data) {
		*data = NULL;
		json_object_object_get_ex(msg, "data", data);
	}
	if (!json_object_object_get_ex(msg, "event", &e) || !json_object_is_type(e, json_type_string))
		return NULL;
	return json_object_get_string(e);
}

const char *rdmig_ctl_migration_status(struct json_object *msg)
{
	json_object *d, *s;
	const char *e = rdmig_ctl_event(msg, &d);

	if (!e || strcmp(e, "MIGRATION") || !d || !json_object_object_get_ex(d, "status", &s))
		return NULL;
	return json_object_get_string(s);
}
