// SPDX-License-Identifier: GPL-2.0-or-later
/* rdmig-qemu's control socket on rdmigd's QMP codec (control.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "qmp.h"

int qc_listen(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) || listen(fd, 4)) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

static void send_obj(struct qc_chan *c, json_object *o)
{
	const char *txt;
	size_t len, off = 0;

	if (c->fd < 0) {
		json_object_put(o);
		return;
	}
	txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	len = strlen(txt);
	/* Small and rare (replies, a progress line a second): blocking is fine. */
	while (off < len) {
		ssize_t k = send(c->fd, txt + off, len - off, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	send(c->fd, "\n", 1, MSG_NOSIGNAL);
	json_object_put(o);
}

void qc_reply(struct qc_chan *c, json_object *id, json_object *ret)
{
	send_obj(c, qmp_return(id, ret));
}

void qc_error(struct qc_chan *c, json_object *id, const char *cls, const char *desc)
{
	send_obj(c, qmp_error(id, cls, desc));
}

void qc_event(struct qc_chan *c, const char *name, json_object *data)
{
	send_obj(c, qmp_event(name, data));
}

int qc_check_args(json_object *args, const char *const *known, char *err, size_t len)
{
	return qmp_check_args(args, known, err, len);
}

int qc_chan_open(struct qc_chan *c, int fd, const char *package, qc_cmd_fn fn,
		  void *ctx)
{
	struct qmp_reader *rd = calloc(1, sizeof(*rd));
	json_object *g, *q, *v;

	if (!rd || qmp_reader_init(rd)) {
		free(rd);
		close(fd);
		return -ENOMEM;
	}
	c->fd = fd;
	c->negotiated = false;
	c->rd = rd;
	c->fn = fn;
	c->ctx = ctx;
	g = qmp_greeting("0.1.0");
	/* qmp_greeting() names rdmigd as the package: this channel is ours. */
	if (json_object_object_get_ex(g, "QMP", &q) &&
	    json_object_object_get_ex(q, "version", &v))
		json_object_object_add(v, "package", json_object_new_string(package));
	send_obj(c, g);
	return 0;
}

static void on_line(void *ctx, const char *line, size_t len, bool overlong)
{
	struct qc_chan *c = ctx;
	struct qmp_request req;
	char err[512];
	int r;

	if (overlong) {
		qc_error(c, NULL, "GenericError", "JSON parse error, line longer than 65536 bytes");
		return;
	}
	r = qmp_parse_request(line, len, &req, err, sizeof(err));
	if (r < 0)
		qc_error(c, req.id, "GenericError", err);
	else if (r > 0 && !c->negotiated) {
		if (strcmp(req.execute, "qmp_capabilities")) {
			qc_error(c, req.id, "CommandNotFound",
				  "Expecting capabilities negotiation with 'qmp_capabilities'");
		} else {
			c->negotiated = true;
			qc_reply(c, req.id, NULL);
		}
	} else if (r > 0) {
		c->fn(c->ctx, req.execute, req.arguments, req.id);
	}
	qmp_request_free(&req);
}

int qc_chan_read(struct qc_chan *c)
{
	char buf[4096];
	ssize_t k;

	if (c->fd < 0)
		return -1;
	k = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (k > 0) {
		qmp_reader_feed(c->rd, buf, (size_t)k, on_line, c);
		return 0;
	}
	if (k < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return -1;
}

void qc_chan_close(struct qc_chan *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->rd) {
		qmp_reader_free(c->rd);
		free(c->rd);
	}
	c->rd = NULL;
}
