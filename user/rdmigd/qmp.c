// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The pure parts of the QMP control channel: line splitting, command
 * parsing, reply/event/greeting objects, migration parameters. The
 * messages follow QEMU's (qapi/qmp-dispatch.c, qobject/json-parser.c)
 * so that a QMP client sees what it would see from QEMU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "qmp.h"
#include "wire.h"

int qmp_reader_init(struct qmp_reader *r)
{
	memset(r, 0, sizeof(*r));
	r->buf = malloc(QMP_LINE_MAX + 1);
	r->tok = json_tokener_new();
	if (!r->buf || !r->tok) {
		qmp_reader_free(r);
		return -1;
	}
	return 0;
}

void qmp_reader_free(struct qmp_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	if (r->tok)
		json_tokener_free(r->tok);
	r->tok = NULL;
}

static bool blank(const char *s, size_t n);

/* A new line starts: nothing of it seen yet. */
static void reader_restart(struct qmp_reader *r)
{
	r->len = 0;
	r->obj = QMP_OBJ_LEAD;
	json_tokener_reset(r->tok);
}

/*
 * Follows the buffered rest of a line as it grows, so that "is it exactly
 * one complete JSON object and then only blanks" costs each byte once:
 * the tokener gets only the bytes new since the last call (json-c parses
 * incrementally) instead of the whole buffer again, which made a long
 * line sent in many small pieces quadratic. A line that cannot become
 * such an object any more (first non-blank not '{', a NUL, a parse error,
 * something after the object) stays QMP_OBJ_NO until its newline.
 */
static void reader_scan(struct qmp_reader *r, const char *p, size_t n)
{
	json_object *o;
	size_t end;

	if (r->obj == QMP_OBJ_NO || !n)
		return;
	if (memchr(p, '\0', n)) {
		r->obj = QMP_OBJ_NO;
		return;
	}
	if (r->obj == QMP_OBJ_LEAD) {
		while (n && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++, n--;
		if (!n)
			return;
		if (*p != '{') {
			r->obj = QMP_OBJ_NO;
			return;
		}
		r->obj = QMP_OBJ_PARSING;
	}
	if (r->obj == QMP_OBJ_DONE) {
		if (!blank(p, n))
			r->obj = QMP_OBJ_NO;
		return;
	}
	o = json_tokener_parse_ex(r->tok, p, (int)n);
	if (o) {
		end = json_tokener_get_parse_end(r->tok);
		json_object_put(o);
		r->obj = blank(p + end, n - end) ? QMP_OBJ_DONE : QMP_OBJ_NO;
	} else if (json_tokener_get_error(r->tok) != json_tokener_continue) {
		r->obj = QMP_OBJ_NO;
	}
}

void qmp_reader_feed(struct qmp_reader *r, const char *data, size_t n,
		     qmp_line_fn fn, void *ctx)
{
	while (n) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) : n;

		if (r->discarding) {
			/* The rest of an over-long line: dropped, never parsed. */
			if (nl)
				r->discarding = false;
		} else if (r->len + take > QMP_LINE_MAX) {
			reader_restart(r);
			r->discarding = !nl;
			fn(ctx, NULL, 0, true);
		} else {
			memcpy(r->buf + r->len, data, take);
			r->len += take;
			if (nl) {
				r->buf[r->len] = '\0';
				fn(ctx, r->buf, r->len, false);
				reader_restart(r);
			} else {
				reader_scan(r, data, take);
			}
		}
		if (!nl)
			break;
		n -= take + 1;
		data = nl + 1;
	}
	/*
	 * QMP clients (QEMU's python library, qmp-shell) send a command
	 * without a newline and wait for the reply: what is buffered without
	 * its newline runs when it is exactly one complete JSON object with
	 * nothing but blanks after it. Anything else (a partial object, or a
	 * second object already behind it on the line) waits for the newline
	 * and is then judged as a whole line.
	 */
	if (!r->discarding && r->len && r->obj == QMP_OBJ_DONE) {
		r->buf[r->len] = '\0';
		fn(ctx, r->buf, r->len, false);
		reader_restart(r);
	}
}

static bool blank(const char *s, size_t n)
{
	for (; n; s++, n--)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return false;
	return true;
}

int qmp_parse_request(const char *line, size_t len, struct qmp_request *req,
		      char *err, size_t errlen)
{
	enum json_tokener_error jerr;
	struct json_tokener *tok;
	json_object *x;
	size_t end;

	memset(req, 0, sizeof(*req));
	if (blank(line, len))
		return 0;
	if (memchr(line, '\0', len)) {
		snprintf(err, errlen, "JSON parse error, invalid character (NUL)");
		return -1;
	}
	tok = json_tokener_new();
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* The terminating NUL is passed too, so a bare number ends there. */
	req->root = json_tokener_parse_ex(tok, line, (int)len + 1);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!req->root && jerr == json_tokener_success)
		jerr = json_tokener_error_parse_null;	/* a literal null */
	if (jerr != json_tokener_success) {
		json_object_put(req->root);
		req->root = NULL;
		snprintf(err, errlen, "JSON parse error, %s", json_tokener_error_desc(jerr));
		return -1;
	}
	if (!json_object_is_type(req->root, json_type_object)) {
		snprintf(err, errlen, "QMP input must be a JSON object");
		return -1;
	}
	json_object_object_get_ex(req->root, "id", &req->id);
	/* One object per line: a second one, or anything else, is an error. */
	if (end < len && !blank(line + end, len - end)) {
		snprintf(err, errlen, "JSON parse error, trailing characters after the object at offset %zu",
			 end);
		return -1;
	}
	json_object_object_foreach(req->root, key, val) {
		(void)val;
		if (strcmp(key, "execute") && strcmp(key, "arguments") && strcmp(key, "id")) {
			snprintf(err, errlen, "QMP input member '%s' is unexpected", key);
			return -1;
		}
	}
	if (!json_object_object_get_ex(req->root, "execute", &x)) {
		snprintf(err, errlen, "QMP input lacks member 'execute'");
		return -1;
	}
	if (!json_object_is_type(x, json_type_string)) {
		snprintf(err, errlen, "QMP input member 'execute' must be a string");
		return -1;
	}
	req->execute = json_object_get_string(x);
	if (json_object_object_get_ex(req->root, "arguments", &req->arguments) &&
	    !json_object_is_type(req->arguments, json_type_object)) {
		snprintf(err, errlen, "QMP input member 'arguments' must be an object");
		return -1;
	}
	return 1;
}

void qmp_request_free(struct qmp_request *req)
{
	json_object_put(req->root);
	memset(req, 0, sizeof(*req));
}

json_object *qmp_return(json_object *id, json_object *ret)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "return", ret ? ret : json_object_new_object());
	if (id)
		json_object_object_add(o, "id", json_object_get(id));
	return o;
}

json_object *qmp_error(json_object *id, const char *cls, const char *desc)
{
	json_object *o = json_object_new_object(), *e = json_object_new_object();

	json_object_object_add(e, "class", json_object_new_string(cls));
	json_object_object_add(e, "desc", json_object_new_string(desc));
	json_object_object_add(o, "error", e);
	if (id)
		json_object_object_add(o, "id", json_object_get(id));
	return o;
}

json_object *qmp_event(const char *name, json_object *data)
{
	return qmp_event_at(name, data, 0);
}

json_object *qmp_event_at(const char *name, json_object *data, uint64_t rt_us)
{
	json_object *o = json_object_new_object(), *ts = json_object_new_object();
	struct timeval tv;

	gettimeofday(&tv, NULL);
	if (rt_us) {
		tv.tv_sec = (time_t)(rt_us / 1000000);
		tv.tv_usec = (suseconds_t)(rt_us % 1000000);
	}
	json_object_object_add(ts, "seconds", json_object_new_int64(tv.tv_sec));
	json_object_object_add(ts, "microseconds", json_object_new_int64(tv.tv_usec));
	json_object_object_add(o, "event", json_object_new_string(name));
	json_object_object_add(o, "data", data ? data : json_object_new_object());
	json_object_object_add(o, "timestamp", ts);
	return o;
}

json_object *qmp_greeting(const char *version)
{
	json_object *o = json_object_new_object(), *q = json_object_new_object(),
		    *v = json_object_new_object(), *n = json_object_new_object();
	unsigned int maj = 0, min = 0, mic = 0;
	char pkg[64];

	sscanf(version, "%u.%u.%u", &maj, &min, &mic);
	json_object_object_add(n, "major", json_object_new_int((int)maj));
	json_object_object_add(n, "minor", json_object_new_int((int)min));
	json_object_object_add(n, "micro", json_object_new_int((int)mic));
	json_object_object_add(v, "qemu", n);
	snprintf(pkg, sizeof(pkg), "rdmigd %s", version);
	json_object_object_add(v, "package", json_object_new_string(pkg));
	json_object_object_add(q, "version", v);
	json_object_object_add(q, "capabilities", json_object_new_array());
	json_object_object_add(o, "QMP", q);
	return o;
}

int qmp_check_args(json_object *args, const char *const *known, char *err, size_t errlen)
{
	int i;

	if (!args)
		return 0;
	json_object_object_foreach(args, key, val) {
		(void)val;
		for (i = 0; known[i] && strcmp(known[i], key); i++)
			;
		if (!known[i]) {
			snprintf(err, errlen, "Parameter '%s' is unexpected", key);
			return -1;
		}
	}
	return 0;
}

/* A non-negative integer parameter; returns 1 if present, 0 if not, -1 if bad. */
static int param_u64(json_object *args, const char *key, uint64_t min, uint64_t max,
		     uint64_t *v, char *err, size_t errlen)
{
	json_object *x;
	int64_t n;

	if (!json_object_object_get_ex(args, key, &x))
		return 0;
	if (!json_object_is_type(x, json_type_int)) {
		snprintf(err, errlen, "Invalid parameter type for '%s', expected: integer", key);
		return -1;
	}
	n = json_object_get_int64(x);
	if (n < 0 || (uint64_t)n < min || (uint64_t)n > max) {
		snprintf(err, errlen, "Parameter '%s' expects an integer in the range of %llu to %llu",
			 key, (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*v = (uint64_t)n;
	return 1;
}

#define BYTES_PER_MBIT	125000ull

int qmp_set_parameters(json_object *args, struct mig_params *p, const char **secret,
		       char *err, size_t errlen)
{
	static const char *const known[] = {
		"downtime-limit", "max-bandwidth", "max-iterations", "chunk-size",
		"pin-budget", "pin-all", "on-max-iterations", "auth-secret",
		"pause-timeout", NULL,
	};
	struct mig_params q = *p;
	json_object *x;
	uint64_t v;
	int r;

	*secret = NULL;
	if (qmp_check_args(args, known, err, errlen))
		return -1;
	if (!args)
		return 0;
	if (param_u64(args, "downtime-limit", 1, 2000000, &q.downtime_ms, err, errlen) < 0 ||
	    param_u64(args, "max-iterations", 1, 1000000, &q.max_iterations, err, errlen) < 0 ||
	    param_u64(args, "pin-budget", 0, INT64_MAX, &q.pin_budget, err, errlen) < 0 ||
	    param_u64(args, "pause-timeout", 0, 3600000, &q.pause_timeout_ms, err, errlen) < 0)
		return -1;
	r = param_u64(args, "max-bandwidth", 0, INT64_MAX, &v, err, errlen);
	if (r < 0)
		return -1;
	if (r) {
		/* The engine paces in whole Mbit/s. */
		if (v && v < BYTES_PER_MBIT) {
			snprintf(err, errlen, "Parameter 'max-bandwidth' must be 0 (no limit) or at least %llu bytes/s (1 Mbit/s)",
				 BYTES_PER_MBIT);
			return -1;
		}
		q.max_bandwidth_mbps = v / BYTES_PER_MBIT;
	}
	r = param_u64(args, "chunk-size", 0, INT64_MAX, &q.chunk_size, err, errlen);
	if (r < 0)
		return -1;
	if (r && !wire_chunk_size_valid(q.chunk_size)) {
		snprintf(err, errlen, "Parameter 'chunk-size' must be a power of two from 4096 to 1073741824");
		return -1;
	}
	if (json_object_object_get_ex(args, "pin-all", &x)) {
		if (!json_object_is_type(x, json_type_boolean)) {
			snprintf(err, errlen, "Invalid parameter type for 'pin-all', expected: boolean");
			return -1;
		}
		q.pin_all = json_object_get_boolean(x);
	}
	if (json_object_object_get_ex(args, "on-max-iterations", &x)) {
		const char *s = json_object_is_type(x, json_type_string) ?
				json_object_get_string(x) : "";

		if (!strcmp(s, "switchover")) {
			q.fail_on_max = false;
		} else if (!strcmp(s, "fail")) {
			q.fail_on_max = true;
		} else {
			snprintf(err, errlen, "Parameter 'on-max-iterations' does not accept value '%s' (expected 'switchover' or 'fail')",
				 json_object_get_string(x));
			return -1;
		}
	}
	if (json_object_object_get_ex(args, "auth-secret", &x)) {
		if (!json_object_is_type(x, json_type_string)) {
			snprintf(err, errlen, "Invalid parameter type for 'auth-secret', expected: string");
			return -1;
		}
		if (!json_object_get_string_len(x) || json_object_get_string_len(x) > 1024) {
			snprintf(err, errlen, "Parameter 'auth-secret' must be 1 to 1024 bytes");
			return -1;
		}
		*secret = json_object_get_string(x);
	}
	/*
	 * A larger chunk alone raises a budget that was not given here to
	 * one chunk (the default is at least one chunk, see rdmigd.h).
	 */
	if (!json_object_object_get_ex(args, "pin-budget", NULL) &&
	    q.pin_budget && q.pin_budget < q.chunk_size)
		q.pin_budget = q.chunk_size;
	if (q.pin_budget && q.pin_budget < q.chunk_size) {
		snprintf(err, errlen, "Parameter 'pin-budget' must be 0 or at least one chunk (%llu bytes)",
			 (unsigned long long)q.chunk_size);
		*secret = NULL;
		return -1;
	}
	*p = q;
	return 0;
}

#define ADD_I64(o, k, v) json_object_object_add(o, k, json_object_new_int64((int64_t)(v)))

json_object *qmp_query_parameters(const struct mig_params *p, bool secret_set)
{
	json_object *o = json_object_new_object();

	ADD_I64(o, "downtime-limit", p->downtime_ms);
	ADD_I64(o, "max-bandwidth", p->max_bandwidth_mbps * BYTES_PER_MBIT);
	ADD_I64(o, "max-iterations", p->max_iterations);
	ADD_I64(o, "chunk-size", p->chunk_size);
	ADD_I64(o, "pin-budget", p->pin_budget);
	ADD_I64(o, "pause-timeout", p->pause_timeout_ms);
	json_object_object_add(o, "pin-all", json_object_new_boolean(p->pin_all));
	json_object_object_add(o, "on-max-iterations",
			       json_object_new_string(p->fail_on_max ? "fail" : "switchover"));
	/* The secret itself is never given back. */
	json_object_object_add(o, "auth-secret-set", json_object_new_boolean(secret_set));
	return o;
}
