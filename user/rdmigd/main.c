// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rdmigd: command line. The VMM starts one agent per side and hands it
 * inherited fds; the agent never forks away and exits when the migration
 * ends (0 on success). See Documentation/control.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "conn.h"
#include "log.h"
#include "pinpool.h"
#include "rdmigd.h"
#include "wire.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: rdmigd --listen ADDR:PORT  [options]   (destination)\n"
"       rdmigd --connect ADDR:PORT [--bind ADDR] [options]   (source)\n"
"\n"
"  --region FD            transfer-view fd of a region (repeatable; order = block index)\n"
"  --control FD           inherited connected unix stream socket for the JSON channel\n"
"  --control-path PATH    unix socket path to listen on for one control client\n"
"  --state-fd FD          device state: read to EOF (source) / written (destination)\n"
"  --chunk-size BYTES     registration chunk, power of two (default 1048576)\n"
"  --pin-budget BYTES     pinned-bytes limit of this side, 0 = none (default\n"
"                         256 MiB, or one chunk if that is larger)\n"
"  --pin-all              register all memory up front (default: dynamic)\n"
"  --wr-list N            source: chain up to N RDMA WRITEs into one ibv_post_send\n"
"                         (1..64, default 16); 1 = one post per WRITE\n"
"  --max-inflight BYTES   source: RDMA WRITE bytes in flight at most, so messages\n"
"                         do not queue behind them (default 16 MiB, at least\n"
"                         4 MiB); 0 = no limit\n"
"  --qps N                RC QPs per migration, 1..8 (default 1): with 2 or more,\n"
"                         QP 0 carries the messages and the others the RDMA\n"
"                         WRITEs; the source asks, the destination grants at most N\n"
"  --pin-threads N        destination: pin requested chunks on N worker threads and\n"
"                         answer each as it is pinned (default 2, at most 16);\n"
"                         0 = pin in the dispatch loop, one answer per request\n"
"  --timeout-ms MS        abort when the connected peer is silent or work requests\n"
"                         do not complete for MS ms, 0 = never (default 30000)\n"
"  --pause-timeout-ms MS  source: fail (and let the VM run on) when the VMM has not\n"
"                         paused and ended the device state MS ms after\n"
"                         switchover-ready, 0 = wait forever (default 30000)\n"
"  --zero-scan            source: find written pages that hold only zeroes before\n"
"                         the first round (module zero scan) and skip them\n"
"  --secret-file PATH     per-migration secret (a file readable by its owner only);\n"
"                         both sides authenticate each other with it\n"
"  --require-auth         destination: refuse every source until a secret is set\n"
"                         (by --secret-file or the control channel)\n"
"  --allow ADDR[/PREFIX]  destination: accept sources from these addresses only\n"
"                         (repeatable)\n"
"  --debug-stall POINT:MS for tests: hold MS ms at POINT (connect, setup,\n"
"                         iteration0, iteration3, device on the source;\n"
"                         completion on the destination) so a fault can be\n"
"                         injected there; off by default\n"
"  -v, --verbose          debug messages on stderr\n"
"  --help, --version\n");
}

static int parse_fd(const char *opt, const char *s, int *fd)
{
	uint64_t v;

	if (rdmig_parse_u64(s, &v) || v > 65535) {
		fprintf(stderr, "rdmigd: %s: '%s' is not a file descriptor\n", opt, s);
		return -1;
	}
	if (fcntl((int)v, F_GETFD) < 0) {
		fprintf(stderr, "rdmigd: %s %s: %s\n", opt, s, strerror(errno));
		return -1;
	}
	*fd = (int)v;
	return 0;
}

/* Splits "host:port" or "[v6]:port" in place. */
static int split_addr(char *s, const char **host, const char **port)
{
	char *c = strrchr(s, ':');

	if (!c || c == s || !c[1])
		return -1;
	*c = '\0';
	*port = c + 1;
	if (s[0] == '[' && c[-1] == ']') {
		c[-1] = '\0';
		s++;
	}
	*host = s;
	return 0;
}

int main(int argc, char **argv)
{
	enum { O_LISTEN = 256, O_CONNECT, O_BIND, O_REGION, O_CONTROL, O_CPATH,
	       O_STATE, O_CHUNK, O_BUDGET, O_PINALL, O_TIMEOUT, O_PTIMEOUT, O_ZSCAN, O_SECRET, O_SECRET_CLI, O_REQAUTH,
	       O_ALLOW, O_STALL, O_PTHREADS, O_WRLIST, O_INFLIGHT, O_QPS, O_HELP, O_VERSION };
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "connect", required_argument, NULL, O_CONNECT },
		{ "bind", required_argument, NULL, O_BIND },
		{ "region", required_argument, NULL, O_REGION },
		{ "control", required_argument, NULL, O_CONTROL },
		{ "control-path", required_argument, NULL, O_CPATH },
		{ "state-fd", required_argument, NULL, O_STATE },
		{ "chunk-size", required_argument, NULL, O_CHUNK },
		{ "pin-budget", required_argument, NULL, O_BUDGET },
		{ "pin-all", no_argument, NULL, O_PINALL },
		{ "pin-threads", required_argument, NULL, O_PTHREADS },
		{ "wr-list", required_argument, NULL, O_WRLIST },
		{ "max-inflight", required_argument, NULL, O_INFLIGHT },
		{ "qps", required_argument, NULL, O_QPS },
		{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
		{ "zero-scan", no_argument, NULL, O_ZSCAN },
		{ "pause-timeout-ms", required_argument, NULL, O_PTIMEOUT },
		{ "secret-file", required_argument, NULL, O_SECRET },
		/* Refused: argv is visible to every user (ps, /proc). */
		{ "secret", required_argument, NULL, O_SECRET_CLI },
		{ "require-auth", no_argument, NULL, O_REQAUTH },
		{ "allow", required_argument, NULL, O_ALLOW },
		{ "debug-stall", required_argument, NULL, O_STALL },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, O_VERSION },
		{ 0 },
	};
	static struct agent a;
	char *listen_s = NULL, *connect_s = NULL;
	const char *cpath = NULL, *stall = NULL;
	int ctl_fd = -1, o, fd;
	bool budget_set = false;

	a.state_fd = -1;
	a.timeout_ms = CONN_DEFAULT_TIMEOUT_MS;
	a.pin_threads = PIN_THREADS_DEFAULT;
	a.wr_list = CONN_WR_LIST_DEFAULT;
	a.max_inflight = CONN_MAX_INFLIGHT_DEFAULT;
	a.qps = 1;
	a.defaults = (struct mig_params){
		.downtime_ms = 300, .max_iterations = 30, .chunk_size = 1 << 20,
		.pause_timeout_ms = DEFAULT_PAUSE_TIMEOUT_MS,
	};
	while ((o = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (o) {
		case O_LISTEN: listen_s = optarg; break;
		case O_CONNECT: connect_s = optarg; break;
		case O_BIND: a.bind = optarg; break;
		case O_REGION:
			if (parse_fd("--region", optarg, &fd))
				return 2;
			if (a.nregions == MAX_REGIONS) {
				fprintf(stderr, "rdmigd: at most %d regions\n", MAX_REGIONS);
				return 2;
			}
			a.region_fds[a.nregions++] = fd;
			break;
		case O_CONTROL:
			if (parse_fd("--control", optarg, &ctl_fd))
				return 2;
			break;
		case O_CPATH: cpath = optarg; break;
		case O_STATE:
			if (parse_fd("--state-fd", optarg, &a.state_fd))
				return 2;
			break;
		case O_CHUNK:
			if (rdmig_parse_u64(optarg, &a.defaults.chunk_size) ||
			    !wire_chunk_size_valid(a.defaults.chunk_size)) {
				fprintf(stderr, "rdmigd: --chunk-size must be a power of two from 4096 to 1073741824\n");
				return 2;
			}
			break;
		case O_BUDGET:
			if (rdmig_parse_u64(optarg, &a.defaults.pin_budget)) {
				fprintf(stderr, "rdmigd: --pin-budget: '%s' is not a byte count\n", optarg);
				return 2;
			}
			budget_set = true;
			break;
		case O_PINALL: a.defaults.pin_all = true; break;
		case O_PTHREADS: {
			uint64_t v;

			if (rdmig_parse_u64(optarg, &v) || v > PIN_THREADS_MAX) {
				fprintf(stderr, "rdmigd: --pin-threads: '%s' is not a number from 0 to %d\n",
					optarg, PIN_THREADS_MAX);
				return 2;
			}
			a.pin_threads = (uint32_t)v;
			break;
		}
		case O_WRLIST: {
			uint64_t v;

			if (rdmig_parse_u64(optarg, &v) || !v || v > CONN_WR_LIST_MAX) {
				fprintf(stderr, "rdmigd: --wr-list: '%s' is not a number from 1 to %d\n",
					optarg, CONN_WR_LIST_MAX);
				return 2;
			}
			a.wr_list = (uint32_t)v;
			break;
		}
		case O_INFLIGHT: {
			uint64_t v;

			if (rdmig_parse_u64(optarg, &v) || (v && v < CONN_MAX_INFLIGHT_MIN)) {
				fprintf(stderr, "rdmigd: --max-inflight: '%s' is not 0 or a byte count of at least %llu\n",
					optarg, (unsigned long long)CONN_MAX_INFLIGHT_MIN);
				return 2;
			}
			a.max_inflight = v;
			break;
		}
		case O_QPS: {
			uint64_t v;

			if (rdmig_parse_u64(optarg, &v) || !v || v > WIRE_QPS_MAX) {
				fprintf(stderr, "rdmigd: --qps: '%s' is not a number from 1 to %d\n",
					optarg, WIRE_QPS_MAX);
				return 2;
			}
			a.qps = (uint32_t)v;
			break;
		}
		case O_ZSCAN: a.zero_scan = true; break;
		case O_TIMEOUT: {
			uint64_t v;

			if (rdmig_parse_u64(optarg, &v) || v > 3600000) {
				fprintf(stderr, "rdmigd: --timeout-ms: '%s' is not a number of milliseconds up to 3600000\n",
					optarg);
				return 2;
			}
			a.timeout_ms = (uint32_t)v;
			break;
		}
		case O_PTIMEOUT:
			if (rdmig_parse_u64(optarg, &a.defaults.pause_timeout_ms) ||
			    a.defaults.pause_timeout_ms > 3600000) {
				fprintf(stderr, "rdmigd: --pause-timeout-ms: '%s' is not a number of milliseconds up to 3600000\n",
					optarg);
				return 2;
			}
			break;
		case O_SECRET: {
			char err[512];

			if (auth_secret_load(&a.secret, optarg, err, sizeof(err))) {
				fprintf(stderr, "rdmigd: --secret-file: %s\n", err);
				return 2;
			}
			break;
		}
		case O_SECRET_CLI:
			fprintf(stderr, "rdmigd: a secret is never given on the command line (any user can read it there): use --secret-file PATH or the control channel\n");
			return 2;
		case O_REQAUTH: a.auth_required = true; break;
		case O_ALLOW: {
			char err[256];

			if (a.nallow == MAX_ALLOW) {
				fprintf(stderr, "rdmigd: at most %d --allow entries\n", MAX_ALLOW);
				return 2;
			}
			if (auth_allow_parse(optarg, &a.allow[a.nallow], err, sizeof(err))) {
				fprintf(stderr, "rdmigd: %s\n", err);
				return 2;
			}
			a.nallow++;
			break;
		}
		case O_STALL: stall = optarg; break;
		case 'v': log_verbose = 1; break;
		case O_HELP: usage(stdout); return 0;
		case O_VERSION: printf("rdmigd %s (protocol %u)\n", RDMIGD_VERSION, WIRE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rdmigd: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!!listen_s == !!connect_s) {
		fprintf(stderr, "rdmigd: give exactly one of --listen and --connect\n");
		return 2;
	}
	if (connect_s && (a.nallow || a.auth_required)) {
		fprintf(stderr, "rdmigd: --allow and --require-auth are for the destination (--listen)\n");
		return 2;
	}
	if (listen_s && a.bind) {
		fprintf(stderr, "rdmigd: --bind is for the source (--connect)\n");
		return 2;
	}
	if (split_addr(listen_s ? listen_s : connect_s, &a.addr, &a.port)) {
		fprintf(stderr, "rdmigd: expected ADDR:PORT, got '%s'\n", listen_s ? listen_s : connect_s);
		return 2;
	}
	if (!a.nregions) {
		fprintf(stderr, "rdmigd: no --region given\n");
		return 2;
	}
	if ((ctl_fd >= 0) == !!cpath) {
		fprintf(stderr, "rdmigd: give exactly one of --control and --control-path\n");
		return 2;
	}
	if (!budget_set)
		a.defaults.pin_budget = default_pin_budget(a.defaults.chunk_size);
	if (a.defaults.pin_budget && a.defaults.pin_budget < a.defaults.chunk_size) {
		fprintf(stderr, "rdmigd: --pin-budget must be 0 or at least one chunk\n");
		return 2;
	}
	a.source = connect_s != NULL;
	if (stall) {
		char err[256];

		if (engine_debug_stall_parse(stall, a.source, err, sizeof(err))) {
			fprintf(stderr, "rdmigd: %s\n", err);
			return 2;
		}
	}
	a.params = a.defaults;
	log_role = a.source ? "source" : "destination";
	pthread_mutex_init(&a.lock, NULL);
	pthread_cond_init(&a.cond, NULL);
	if (pipe2(a.wake_fd, O_CLOEXEC | O_NONBLOCK)) {
		fprintf(stderr, "rdmigd: pipe: %s\n", strerror(errno));
		return 1;
	}
	a.engine_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a.engine_wake_fd < 0) {
		fprintf(stderr, "rdmigd: eventfd: %s\n", strerror(errno));
		return 1;
	}
	if (!a.source) {
		a.started = true;
		engine_start_dest(&a);
	}
	return ctl_run(&a, ctl_fd, cpath);
}
