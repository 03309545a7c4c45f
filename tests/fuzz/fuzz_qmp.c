// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness: the QMP control channel's pure parts
 * (user/rdmigd/qmp.c) as channel.c drives them. The input is the byte
 * stream a VMM sends, fed to the line reader in pieces whose sizes come
 * from its first byte (so a command split anywhere, or glued to the
 * next, is covered), once or (bit 6) twenty times over; every line the reader hands out is parsed as a
 * command, its arguments checked and applied as migrate-set-parameters
 * would, and the reply built and serialized. Checked beyond the
 * sanitizers: a line never holds a newline and is never over
 * QMP_LINE_MAX, an over-long line is never handed out, every error has a
 * description, and applied parameters are always valid ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../user/rdmigd/qmp.h"
#include "../../user/rdmigd/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz_qmp: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

static void serialize(json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

	CHECK(s && !strchr(s, '\n'));
	json_object_put(o);
}

static void on_line(void *ctx, const char *line, size_t len, bool overlong)
{
	static const char *const known[] = { "uri", "resume", "paused_at_us", NULL };
	struct mig_params p = {
		.downtime_ms = 300, .max_iterations = 30, .chunk_size = 1 << 20,
		.pause_timeout_ms = 30000,
	};
	struct qmp_request req;
	const char *secret;
	char err[256];
	int rc;

	(*(unsigned long *)ctx)++;
	if (overlong) {
		CHECK(!line && !len);
		serialize(qmp_error(NULL, "GenericError",
				    "JSON parse error, line longer than 65536 bytes"));
		return;
	}
	CHECK(line && len <= QMP_LINE_MAX && line[len] == '\0');
	CHECK(!memchr(line, '\n', len));
	err[0] = '\0';
	rc = qmp_parse_request(line, len, &req, err, sizeof(err));
	if (rc < 0) {
		CHECK(err[0]);
		serialize(qmp_error(req.id, "GenericError", err));
		qmp_request_free(&req);
		return;
	}
	if (rc == 0) {
		CHECK(!req.root);
		qmp_request_free(&req);
		return;
	}
	CHECK(req.execute && json_object_is_type(req.root, json_type_object));
	CHECK(!req.arguments || json_object_is_type(req.arguments, json_type_object));
	if (qmp_check_args(req.arguments, known, err, sizeof(err)))
		CHECK(err[0]);
	if (qmp_set_parameters(req.arguments, &p, &secret, err, sizeof(err))) {
		CHECK(err[0]);
		serialize(qmp_error(req.id, "GenericError", err));
	} else {
		CHECK(wire_chunk_size_valid(p.chunk_size));
		CHECK(!p.pin_budget || p.pin_budget >= p.chunk_size);
		CHECK(p.downtime_ms >= 1 && p.max_iterations >= 1);
		CHECK(!secret || (strlen(secret) >= 1 && strlen(secret) <= 1024));
		serialize(qmp_return(req.id, qmp_query_parameters(&p, secret != NULL)));
		serialize(qmp_event(req.execute, NULL));
	}
	qmp_request_free(&req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qmp_reader r;
	unsigned long lines = 0;
	size_t off, step, n;
	char *buf;
	int rep;

	if (!size || qmp_reader_init(&r))
		return 0;
	/* A private copy: the reader must not read past what it was given. */
	buf = malloc(size);
	if (!buf) {
		qmp_reader_free(&r);
		return 0;
	}
	memcpy(buf, data, size);
	/* Bit 6: the stream 20 times over, so that small inputs reach the line limit. */
	for (rep = (data[0] & 0x40) ? 20 : 1; rep; rep--) {
		/*
		 * Small pieces of the repeated stream too: the reader follows
		 * a line as it grows, so a long line in many pieces costs its
		 * length, not its length squared (test_qmp's
		 * test_long_line_pieces).
		 */
		step = data[0] & 0x3f ? data[0] & 0x3f : size;
		for (off = 1; off < size; off += n) {
			n = size - off < step ? size - off : step;
			qmp_reader_feed(&r, buf + off, n, on_line, &lines);
			/*
			 * Bit 7: each piece one byte shorter than the last,
			 * down to 1, then again from the start.
			 */
			if (data[0] & 0x80)
				step = step > 1 ? step - 1 : (data[0] & 0x3f ? data[0] & 0x3f : 1);
		}
	}
	free(buf);
	qmp_reader_free(&r);
	return 0;
}
