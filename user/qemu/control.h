/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rdmig-qemu's control socket, QMP as rdmigd's channel (control.md): the
 * greeting, capabilities negotiation, one command per line, replies and
 * events, on rdmigd's own codec (user/rdmigd/qmp.c), so the framing is
 * written once. Kept apart from qemu.h: rdmigd's headers have their own
 * struct agent.
 */
#ifndef RDMIG_QEMU_CONTROL_H
#define RDMIG_QEMU_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

/* A negotiated command: @args may be NULL, @id is echoed by qc_reply(). */
typedef void (*qc_cmd_fn)(void *ctx, const char *cmd, json_object *args,
			   json_object *id);

struct qc_chan {
	int fd;			/* -1: no client */
	bool negotiated;
	void *rd;		/* rdmigd's struct qmp_reader */
	qc_cmd_fn fn;
	void *ctx;
};

/* Unix socket at @path (replacing a stale one); the fd or -errno. */
int qc_listen(const char *path);
/* Takes a connected client over and greets it as @package; 0 or -errno. */
int qc_chan_open(struct qc_chan *c, int fd, const char *package, qc_cmd_fn fn,
		  void *ctx);
/* Reads what is there; commands go to fn. 0, or -1 once the peer closed. */
int qc_chan_read(struct qc_chan *c);
void qc_chan_close(struct qc_chan *c);
/* {"return":RET,"id":ID} (RET consumed, NULL = {}). */
void qc_reply(struct qc_chan *c, json_object *id, json_object *ret);
void qc_error(struct qc_chan *c, json_object *id, const char *cls, const char *desc);
/* {"event":NAME,"data":DATA,"timestamp":...} (DATA consumed). */
void qc_event(struct qc_chan *c, const char *name, json_object *data);
/* Every member of @args named in @known; 0 or -1 with QMP's text in @err. */
int qc_check_args(json_object *args, const char *const *known, char *err, size_t len);

#endif
