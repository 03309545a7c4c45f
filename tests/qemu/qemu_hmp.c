// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * qemu_hmp SOCKET COMMAND: one HMP command over a QEMU QMP socket, its
 * output on stdout. The --pause-at-resume check (tests/guest/
 * qemu_resume_check.sh) runs it while the destination guest is paused,
 * so its time is in the guest's downtime: python3 alone took seconds to
 * start under nested TCG, this takes milliseconds. Plain socket, one
 * JSON object a line (json-c); greeting and events are skipped.
 * Exit 0 with the output, 1 with a message on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

static FILE *mon;

static void die(const char *why)
{
	fprintf(stderr, "qemu_hmp: %s\n", why);
	exit(1);
}

/* The next reply ("return" or "error"); greeting and events skipped. */
static json_object *reply(void)
{
	static char line[1 << 20];
	json_object *m, *v;

	while (fgets(line, sizeof(line), mon)) {
		m = json_tokener_parse(line);
		if (!m)
			die("QEMU sent a line that is not JSON");
		if (json_object_object_get_ex(m, "return", &v))
			return m;
		if (json_object_object_get_ex(m, "error", &v)) {
			json_object *d;

			if (json_object_object_get_ex(v, "desc", &d))
				die(json_object_get_string(d));
			die("QEMU refused the command");
		}
		json_object_put(m);
	}
	die("QEMU closed the monitor");
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	json_object *cmd, *args, *r, *out;
	struct timeval tv = { .tv_sec = 60 };
	int fd;

	if (argc != 3)
		die("usage: qemu_hmp SOCKET COMMAND");
	if (strlen(argv[1]) >= sizeof(sa.sun_path))
		die("socket path too long");
	strcpy(sa.sun_path, argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "qemu_hmp: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	/* A monitor that already has a client never answers: give up. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	mon = fdopen(fd, "r+");
	if (!mon)
		die("fdopen failed");
	fputs("{\"execute\":\"qmp_capabilities\"}\n", mon);
	fflush(mon);
	json_object_put(reply());

	cmd = json_object_new_object();
	args = json_object_new_object();
	json_object_object_add(args, "command-line", json_object_new_string(argv[2]));
	json_object_object_add(cmd, "execute", json_object_new_string("human-monitor-command"));
	json_object_object_add(cmd, "arguments", args);
	fprintf(mon, "%s\n", json_object_to_json_string_ext(cmd, JSON_C_TO_STRING_PLAIN));
	fflush(mon);
	json_object_put(cmd);
	r = reply();
	json_object_object_get_ex(r, "return", &out);
	fputs(json_object_get_string(out), stdout);
	json_object_put(r);
	fclose(mon);
	return 0;
}
