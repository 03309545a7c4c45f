// SPDX-License-Identifier: GPL-2.0-or-later
/* rdmig-qemu: command line and the pieces every subcommand uses. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qemu.h"
#include "../lib/util.h"

volatile sig_atomic_t stop_signal;

static const char usage[] =
"usage: rdmig-qemu run --qmp-socket PATH [options] -- QEMU-ARGS...\n"
"       rdmig-qemu incoming --listen ADDR:PORT --device ADDR:PORT [options] -- QEMU-ARGS...\n"
"       rdmig-qemu migrate SOCKET --to ADDR:PORT --device ADDR:PORT [options]\n"
"\n"
"Runs an unmodified QEMU with its guest RAM in rdmig regions (each memory\n"
"backend becomes memory-backend-file,mem-path=/proc/self/fd/N,share=on) and\n"
"live-migrates it: RAM by rdmigd over RDMA, device state by QEMU over TCP\n"
"(x-ignore-shared). Documentation/qemu.md, rdmig-qemu(1).\n"
"\n"
"run and incoming:\n"
"  --qmp-socket PATH      rdmig-qemu's control socket (QMP); `migrate` connects to it\n"
"  --name NAME            region names NAME:BACKEND-ID (default qemu)\n"
"  --pidfile FILE         write QEMU's pid to FILE\n"
"  --rdmigd PATH          the agent (default: rdmigd next to this program, or ../sbin)\n"
"  --agent-pidfile FILE   write rdmigd's pid to FILE\n"
"  --chunk-size BYTES     rdmigd --chunk-size (equal on both sides)\n"
"  --pin-budget BYTES     rdmigd --pin-budget\n"
"  --qps N                rdmigd --qps: RC QPs, 1..8 (the source asks, the\n"
"                         destination grants at most its own; default 1)\n"
"  --secret-file PATH     rdmigd --secret-file (the per-migration secret, mode 0600)\n"
"  --report FILE          also write the JSON report to FILE\n"
"  --cgroup BASE          the vCPU throttle's cgroups go under BASE (default: our\n"
"                         own cgroup; Documentation/qemu-throttle.md)\n"
"  -v, --verbose          QEMU's command line, rdmigd -v\n"
"incoming:\n"
"  --listen ADDR:PORT     rdmigd --listen (RDMA, RAM)\n"
"  --device ADDR:PORT     QEMU's migrate-incoming tcp:ADDR:PORT (device state)\n"
"  --timeout-ms MS        give up if the migration has not completed (default 600000)\n"
"  --pause-at-resume CMD  run `sh -c CMD` when both streams are in, before `cont`;\n"
"                         RDMIG_QEMU_PID, RDMIG_QEMU_RAM (\"/proc/PID/fd/N:SIZE ...\")\n"
"                         in its environment; non-zero fails the migration\n"
"migrate (the operator's client of a `run`):\n"
"  --to ADDR:PORT         the destination's rdmigd --listen\n"
"  --device ADDR:PORT     the destination's --device\n"
"  --bind ADDR            rdmigd --bind (source address, selects the RDMA device)\n"
"  --downtime-limit MS, --max-bandwidth BYTES/S, --max-iterations N,\n"
"  --on-max-iterations switchover|fail, --pause-timeout MS, --pin-all,\n"
"  --chunk-size BYTES, --pin-budget BYTES\n"
"                         rdmigd's migration parameters (control.md)\n"
"  --deadline-ms MS       fail the migration if it has not completed by then\n"
"  --dest-report FILE     the destination's --report: downtime as the guest saw it\n"
"  --report FILE          also write the JSON report to FILE\n"
"  -q, --quiet            no progress lines\n";

void say(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "rdmig-qemu: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int64_t jget_i64(json_object *o, const char *k)
{
	json_object *j;

	return o && json_object_object_get_ex(o, k, &j) ? json_object_get_int64(j) : 0;
}

const char *jget_str(json_object *o, const char *k)
{
	json_object *j;

	return o && json_object_object_get_ex(o, k, &j) && json_object_get_string(j) ?
		json_object_get_string(j) : "";
}

void print_report(json_object *rep, const char *file)
{
	const char *s = json_object_to_json_string_ext(rep, JSON_C_TO_STRING_PLAIN);

	if (file) {
		char tmp[4096];
		FILE *f;

		/* Renamed into place: a reader polling for it never reads half. */
		snprintf(tmp, sizeof(tmp), "%s.tmp", file);
		f = fopen(tmp, "w");
		if (f) {
			fprintf(f, "%s\n", s);
			if (fclose(f) == 0)
				rename(tmp, file);
		}
	}
	printf("%s\n", s);
	fflush(stdout);
}

enum {
	O_CONTROL = 256, O_NAME, O_PIDFILE, O_RDMIGD, O_AGENT_PIDFILE, O_CHUNK,
	O_BUDGET, O_SECRET, O_REPORT, O_LISTEN, O_DEVICE, O_TIMEOUT, O_PAUSE_AT,
	O_TO, O_BIND, O_DOWNTIME, O_MAXBW, O_MAXITER, O_ONMAX, O_PAUSE_TIMEOUT,
	O_PIN_ALL, O_DEADLINE, O_DEST_REPORT, O_CGROUP, O_QPS,
};

static int num(const char *opt, const char *s, uint64_t *v)
{
	if (rdmig_parse_u64(s, v)) {
		fprintf(stderr, "rdmig-qemu: %s: not a number: %s\n", opt, s);
		return -1;
	}
	return 0;
}

static void param_int(struct opts *o, const char *k, uint64_t v)
{
	json_object_object_add(o->params, k, json_object_new_uint64(v));
}

int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "qmp-socket", required_argument, NULL, O_CONTROL },
		{ "name", required_argument, NULL, O_NAME },
		{ "pidfile", required_argument, NULL, O_PIDFILE },
		{ "rdmigd", required_argument, NULL, O_RDMIGD },
		{ "agent-pidfile", required_argument, NULL, O_AGENT_PIDFILE },
		{ "chunk-size", required_argument, NULL, O_CHUNK },
		{ "pin-budget", required_argument, NULL, O_BUDGET },
		{ "qps", required_argument, NULL, O_QPS },
		{ "secret-file", required_argument, NULL, O_SECRET },
		{ "report", required_argument, NULL, O_REPORT },
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "device", required_argument, NULL, O_DEVICE },
		{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
		{ "pause-at-resume", required_argument, NULL, O_PAUSE_AT },
		{ "to", required_argument, NULL, O_TO },
		{ "bind", required_argument, NULL, O_BIND },
		{ "downtime-limit", required_argument, NULL, O_DOWNTIME },
		{ "max-bandwidth", required_argument, NULL, O_MAXBW },
		{ "max-iterations", required_argument, NULL, O_MAXITER },
		{ "on-max-iterations", required_argument, NULL, O_ONMAX },
		{ "pause-timeout", required_argument, NULL, O_PAUSE_TIMEOUT },
		{ "pin-all", no_argument, NULL, O_PIN_ALL },
		{ "deadline-ms", required_argument, NULL, O_DEADLINE },
		{ "dest-report", required_argument, NULL, O_DEST_REPORT },
		{ "cgroup", required_argument, NULL, O_CGROUP },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *socket_arg = NULL;
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->timeout_ms = 600000;
	o->params = json_object_new_object();
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? -1 : 1;
	}
	o->cmd = argv[1];
	if (strcmp(o->cmd, "run") && strcmp(o->cmd, "incoming") && strcmp(o->cmd, "migrate")) {
		fprintf(stderr, "rdmig-qemu: unknown command '%s' (run, incoming, migrate)\n", o->cmd);
		return -1;
	}
	argc--;
	argv++;
	if (!strcmp(o->cmd, "migrate") && argc > 1 && argv[1][0] != '-') {
		socket_arg = argv[1];
		argc--;
		argv++;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "+vqh", lo, NULL)) != -1) {
		switch (c) {
		case O_CONTROL: o->control = optarg; break;
		case O_NAME: o->name = optarg; break;
		case O_PIDFILE: o->pidfile = optarg; break;
		case O_RDMIGD: o->agent.path = optarg; break;
		case O_AGENT_PIDFILE: o->agent_pidfile = optarg; break;
		case O_CHUNK:
			if (num("--chunk-size", optarg, &o->chunk_size))
				return -1;
			param_int(o, "chunk-size", o->chunk_size);
			break;
		case O_BUDGET:
			if (num("--pin-budget", optarg, &o->pin_budget))
				return -1;
			param_int(o, "pin-budget", o->pin_budget);
			break;
		case O_SECRET: o->secret_file = optarg; break;
		case O_QPS:
			if (num("--qps", optarg, &v))
				return -1;
			if (v < 1 || v > 8) {
				fprintf(stderr, "rdmig-qemu: --qps: 1..8, not %s\n", optarg);
				return -1;
			}
			o->qps = optarg;
			break;
		case O_REPORT: o->report = optarg; break;
		case O_LISTEN: o->listen = optarg; break;
		case O_DEVICE: o->device = optarg; break;
		case O_TIMEOUT:
			if (num("--timeout-ms", optarg, &v))
				return -1;
			o->timeout_ms = (int64_t)v;
			break;
		case O_PAUSE_AT: o->pause_at_resume = optarg; break;
		case O_TO: o->to = optarg; break;
		case O_BIND: o->bind = optarg; break;
		case O_DOWNTIME:
			if (num("--downtime-limit", optarg, &v))
				return -1;
			param_int(o, "downtime-limit", v);
			break;
		case O_MAXBW:
			if (num("--max-bandwidth", optarg, &v))
				return -1;
			param_int(o, "max-bandwidth", v);
			break;
		case O_MAXITER:
			if (num("--max-iterations", optarg, &v))
				return -1;
			param_int(o, "max-iterations", v);
			break;
		case O_PAUSE_TIMEOUT:
			if (num("--pause-timeout", optarg, &v))
				return -1;
			param_int(o, "pause-timeout", v);
			break;
		case O_ONMAX:
			if (strcmp(optarg, "fail") && strcmp(optarg, "switchover")) {
				fprintf(stderr, "rdmig-qemu: --on-max-iterations: fail or switchover\n");
				return -1;
			}
			json_object_object_add(o->params, "on-max-iterations",
					       json_object_new_string(optarg));
			break;
		case O_PIN_ALL:
			o->pin_all = true;
			json_object_object_add(o->params, "pin-all", json_object_new_boolean(true));
			break;
		case O_DEADLINE:
			if (num("--deadline-ms", optarg, &v))
				return -1;
			o->deadline_ms = (int64_t)v;
			break;
		case O_DEST_REPORT: o->dest_report = optarg; break;
		case O_CGROUP: o->cgroup = optarg; break;
		case 'v': o->verbose = true; break;
		case 'q': o->quiet = true; break;
		case 'h': fputs(usage, stdout); return 1;
		default: return -1;
		}
	}
	o->qemu_argv = argv + optind;
	o->qemu_argc = argc - optind;
	if (!o->agent.path)
		o->agent.path = rdmig_default_agent();
	o->agent.chunk_size = o->chunk_size;
	o->agent.pin_budget = o->pin_budget;
	o->agent.verbose = o->verbose;
	if (o->secret_file) {
		o->agent.extra[o->agent.nr_extra++] = "--secret-file";
		o->agent.extra[o->agent.nr_extra++] = o->secret_file;
	}
	if (o->qps) {
		o->agent.extra[o->agent.nr_extra++] = "--qps";
		o->agent.extra[o->agent.nr_extra++] = o->qps;
	}
	if (!strcmp(o->cmd, "migrate")) {
		o->control = socket_arg;
		if (!o->control || !o->to || !o->device) {
			fprintf(stderr, "rdmig-qemu migrate: SOCKET, --to and --device are required\n");
			return -1;
		}
		if (o->qemu_argc) {
			fprintf(stderr, "rdmig-qemu migrate: unexpected argument '%s'\n", o->qemu_argv[0]);
			return -1;
		}
		return 0;
	}
	if (!o->qemu_argc) {
		fprintf(stderr, "rdmig-qemu %s: no QEMU command line (after --)\n", o->cmd);
		return -1;
	}
	if (!strcmp(o->cmd, "run") && !o->control) {
		fprintf(stderr, "rdmig-qemu run: --qmp-socket PATH is required (migrate connects to it)\n");
		return -1;
	}
	if (!strcmp(o->cmd, "incoming") && (!o->listen || !o->device)) {
		fprintf(stderr, "rdmig-qemu incoming: --listen and --device are required\n");
		return -1;
	}
	return 0;
}

static void on_signal(int sig)
{
	stop_signal = sig;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct opts o;
	int ret = parse_opts(argc, argv, &o);

	if (ret)
		return ret > 0 ? 0 : 2;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(o.cmd, "run"))
		ret = cmd_run(&o);
	else if (!strcmp(o.cmd, "incoming"))
		ret = cmd_incoming(&o);
	else
		ret = cmd_migrate(&o);
	json_object_put(o.params);
	return ret;
}
