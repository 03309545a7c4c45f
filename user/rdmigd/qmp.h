/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pure parts of the QMP control channel (Documentation/control.md):
 * splitting the byte stream into lines, parsing one line into a command,
 * building replies and events, and the migration parameters. No RDMA and
 * no sockets here, so tests/unit/test_qmp.c can exercise all of it.
 */
#ifndef RDMIGD_QMP_H
#define RDMIGD_QMP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "rdmigd.h"

#define QMP_LINE_MAX	65536	/* bytes, newline excluded */

/*
 * Line splitter. Bytes go in with qmp_reader_feed(); every complete line
 * comes out through @fn, and so does a buffered rest without its newline
 * that is exactly one complete JSON object (QMP clients send no newline).
 * Each byte is looked at a bounded number of times, however the line is
 * split into pieces. A line longer than QMP_LINE_MAX is reported once
 * (@overlong true, @line NULL) and then discarded up to and including its
 * newline: no part of it is ever parsed.
 */
typedef void (*qmp_line_fn)(void *ctx, const char *line, size_t len, bool overlong);

/* What the buffered rest of a line is so far (qmp.c, reader_scan). */
enum qmp_obj_state {
	QMP_OBJ_LEAD,		/* blanks only */
	QMP_OBJ_PARSING,	/* an object begun, not complete */
	QMP_OBJ_DONE,		/* one complete object, then blanks only */
	QMP_OBJ_NO,		/* can no longer be one object: waits for '\n' */
};

struct qmp_reader {
	char *buf;
	size_t len;
	bool discarding;	/* inside an over-long line */
	enum qmp_obj_state obj;
	struct json_tokener *tok;	/* parses the line as it comes */
};

int qmp_reader_init(struct qmp_reader *r);
void qmp_reader_free(struct qmp_reader *r);
void qmp_reader_feed(struct qmp_reader *r, const char *data, size_t n,
		     qmp_line_fn fn, void *ctx);

/* One parsed command line. */
struct qmp_request {
	json_object *root;	/* owns everything below */
	const char *execute;
	json_object *arguments;	/* NULL if absent */
	json_object *id;	/* NULL if absent; borrowed from root */
};

/*
 * Parses one line. Returns 1 for a command, 0 for a blank line (ignored,
 * as QEMU does), -1 for an error with the QMP description in @err; on an
 * error req->id is still set when the line was an object with an "id",
 * so the error reply can carry it. Exactly one JSON object per line:
 * trailing characters, a second object, or a non-object are errors.
 * req->root must be released with qmp_request_free() in every case.
 */
int qmp_parse_request(const char *line, size_t len, struct qmp_request *req,
		      char *err, size_t errlen);
void qmp_request_free(struct qmp_request *req);

/* {"return":RET,"id":ID}; @ret is consumed (NULL = {}). */
json_object *qmp_return(json_object *id, json_object *ret);
/* {"error":{"class":CLS,"desc":DESC},"id":ID} */
json_object *qmp_error(json_object *id, const char *cls, const char *desc);
/* {"event":NAME,"data":DATA,"timestamp":{...}} (wall clock, as QEMU); consumes @data. */
json_object *qmp_event(const char *name, json_object *data);
/*
 * The same, dated @rt_us (CLOCK_REALTIME, microseconds) instead of now,
 * for an event that reports something which happened before it could be
 * built (0 = now).
 */
json_object *qmp_event_at(const char *name, json_object *data, uint64_t rt_us);
/* {"QMP":{"version":{"qemu":{...},"package":...},"capabilities":[]}} */
json_object *qmp_greeting(const char *version);

/*
 * Arguments of a command: every member of @args must be named in @known
 * (NULL-terminated); @args NULL counts as {}. Returns 0 or -1 with the
 * QMP description ("Parameter 'x' is unexpected") in @err.
 */
int qmp_check_args(json_object *args, const char *const *known, char *err, size_t errlen);

/*
 * migrate-set-parameters: applies @args to @p (all or nothing). The
 * agent-wide parameters that are not migration tunables (auth-secret)
 * are returned through @secret (NULL if absent; borrowed from @args).
 * Returns 0 or -1 with a description in @err.
 */
int qmp_set_parameters(json_object *args, struct mig_params *p, const char **secret,
		       char *err, size_t errlen);
/* query-migrate-parameters: @p in the same names. */
json_object *qmp_query_parameters(const struct mig_params *p, bool secret_set);

#endif
