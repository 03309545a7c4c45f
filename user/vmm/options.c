// SPDX-License-Identifier: GPL-2.0-or-later
/* rdmig-vmm's command line. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "../lib/util.h"

static const char usage_text[] =
"Usage: rdmig-vmm [OPTIONS]\n"
"The reference VMM of rdmig: guest RAM in rdmig regions, vCPU threads\n"
"running a workload, live migration by a spawned rdmigd.\n"
"\n"
"Role (default: run without migrating for --run-ms):\n"
"  --source --connect ADDR:PORT [--bind ADDR]   migrate this VM away\n"
"  --destination --listen ADDR:PORT             receive a VM and resume it\n"
"VM:\n"
"  --ram SIZE[,SIZE...]   regions (RAM blocks), e.g. 48M,16M (default 64M)\n"
"  --vcpus N              vCPU threads (default 2)\n"
"  --workload KIND        abtest | random | idle | zerotoggle (default abtest;\n"
"                         zerotoggle: whole pages, zero and non-zero by turns)\n"
"  --rate PAGES           page writes per second for the VM (0 = unlimited)\n"
"  --touch SIZE           the workload uses only the first SIZE bytes\n"
"  --seed N               pattern and random seed (default 1)\n"
"  --name NAME            region name prefix (default vm)\n"
"Migration (source):\n"
"  --downtime-ms N  --max-iterations N  --max-bandwidth-mbps N\n"
"  --on-max-iterations switchover|fail\n"
"  --chunk-size BYTES  --pin-budget BYTES  --pin-all   (also for the destination)\n"
"  --no-throttle          ignore the agent's throttle hints (no auto-converge)\n"
"  --migrate-after MS     run this long after the first full pass (default 0)\n"
"  --cancel-after MS      cancel the migration MS after starting it\n"
"  --after-ms MS          after a failure, keep running MS and check (default 1000)\n"
"  --timeout MS           give up on the migration after MS (default 120000)\n"
"  --pause-timeout-ms MS  the agent fails the migration if we have not paused\n"
"                         MS after switchover-ready (default: the agent's, 30000)\n"
"  --pause-delay-ms MS    test: pause MS after switchover-ready, -1 = never\n"
"                         (default 0: at once)\n"
"  --retry-connect ADDR:PORT  test: after a failed migration and its checks,\n"
"                         migrate the same VM again to ADDR:PORT (agent and\n"
"                         migration defaults: the options above and any\n"
"                         --agent-arg --debug-stall or --timeout-ms apply to the\n"
"                         first attempt only)\n"
"  --prefault             test: write zeroes into every page at boot (all RAM\n"
"                         present and written, so tracking it costs its size)\n"
"Destination:\n"
"  --scribble             test: write garbage into every page of RAM before\n"
"                         listening (migration must overwrite or clear it)\n"
"  SIGUSR1                cancels a running migration\n"
"Agent:\n"
"  --agent PATH           rdmigd (default: rdmigd next to this program, or in\n"
"                         ../sbin as installed; the last line of --help says which)\n"
"  --agent-arg ARG        pass ARG to rdmigd (repeatable)\n"
"  --secret-file PATH     rdmigd --secret-file: the per-migration secret (mode 0600)\n"
"  --agent-verbose        rdmigd -v\n"
"  --agent-pidfile FILE   write rdmigd's pid to FILE\n"
"Checks and output:\n"
"  --run-ms MS            standalone/destination: run MS, then check (default 1000)\n"
"  --hashes FILE          per-region hashes at pause (source) / before resume\n"
"  --verify-against FILE  destination: compare with the source's hashes\n"
"  --peer-report FILE     source: wait for the destination's report, take its verdict\n"
"  --events FILE          append every control message from rdmigd\n"
"  --report FILE          also write the final JSON report to FILE\n"
"  -q, --quiet            no progress lines\n"
"The last line on stdout is the JSON report. Exit: 0 success, 1 error or\n"
"failed check, 3 migration failed or cancelled and the VM kept running.\n";

enum {
	O_SOURCE = 256, O_DEST, O_CONNECT, O_BIND, O_LISTEN, O_RAM, O_VCPUS,
	O_WORKLOAD, O_RATE, O_TOUCH, O_SEED, O_NAME, O_DOWNTIME, O_MAXITER,
	O_MAXBW, O_ONMAX, O_CHUNK, O_BUDGET, O_PINALL, O_NOTHROTTLE,
	O_MIGAFTER, O_CANCELAFTER, O_AFTER, O_TIMEOUT, O_AGENT, O_AGENTARG,
	O_AGENTV, O_AGENTPID, O_RUNMS, O_HASHES, O_VERIFY, O_PEER, O_EVENTS,
	O_REPORT, O_PTIMEOUT, O_PDELAY, O_SCRIBBLE, O_PREFAULT, O_SECRET,
	O_RETRY,
};

static const struct option longopts[] = {
	{ "source", no_argument, NULL, O_SOURCE },
	{ "destination", no_argument, NULL, O_DEST },
	{ "connect", required_argument, NULL, O_CONNECT },
	{ "bind", required_argument, NULL, O_BIND },
	{ "listen", required_argument, NULL, O_LISTEN },
	{ "ram", required_argument, NULL, O_RAM },
	{ "vcpus", required_argument, NULL, O_VCPUS },
	{ "workload", required_argument, NULL, O_WORKLOAD },
	{ "rate", required_argument, NULL, O_RATE },
	{ "touch", required_argument, NULL, O_TOUCH },
	{ "seed", required_argument, NULL, O_SEED },
	{ "name", required_argument, NULL, O_NAME },
	{ "downtime-ms", required_argument, NULL, O_DOWNTIME },
	{ "max-iterations", required_argument, NULL, O_MAXITER },
	{ "max-bandwidth-mbps", required_argument, NULL, O_MAXBW },
	{ "on-max-iterations", required_argument, NULL, O_ONMAX },
	{ "chunk-size", required_argument, NULL, O_CHUNK },
	{ "pin-budget", required_argument, NULL, O_BUDGET },
	{ "pin-all", no_argument, NULL, O_PINALL },
	{ "no-throttle", no_argument, NULL, O_NOTHROTTLE },
	{ "migrate-after", required_argument, NULL, O_MIGAFTER },
	{ "cancel-after", required_argument, NULL, O_CANCELAFTER },
	{ "after-ms", required_argument, NULL, O_AFTER },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "agent", required_argument, NULL, O_AGENT },
	{ "agent-arg", required_argument, NULL, O_AGENTARG },
	{ "secret-file", required_argument, NULL, O_SECRET },
	{ "agent-verbose", no_argument, NULL, O_AGENTV },
	{ "agent-pidfile", required_argument, NULL, O_AGENTPID },
	{ "run-ms", required_argument, NULL, O_RUNMS },
	{ "hashes", required_argument, NULL, O_HASHES },
	{ "verify-against", required_argument, NULL, O_VERIFY },
	{ "peer-report", required_argument, NULL, O_PEER },
	{ "events", required_argument, NULL, O_EVENTS },
	{ "report", required_argument, NULL, O_REPORT },
	{ "pause-timeout-ms", required_argument, NULL, O_PTIMEOUT },
	{ "pause-delay-ms", required_argument, NULL, O_PDELAY },
	{ "scribble", no_argument, NULL, O_SCRIBBLE },
	{ "prefault", no_argument, NULL, O_PREFAULT },
	{ "retry-connect", required_argument, NULL, O_RETRY },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	if (*s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (*end == 'i' && shift)
		end++;
	if ((*end == 'B' || *end == 'b') && shift)
		end++;
	if (*end || (shift && v > (ULLONG_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_num(const char *opt, const char *s, int64_t *out)
{
	uint64_t v;

	if (parse_size(s, &v) || v > INT64_MAX) {
		fprintf(stderr, "rdmig-vmm: --%s: not a number: %s\n", opt, s);
		return -EINVAL;
	}
	*out = (int64_t)v;
	return 0;
}

static int parse_ram(const char *s, struct vmm_opts *o)
{
	char *dup = strdup(s), *tok, *save = NULL;
	int ret = 0;

	if (!dup)
		return -ENOMEM;
	o->nr_regions = 0;
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (o->nr_regions == VMM_MAX_REGIONS || parse_size(tok, &v) ||
		    !v || v % VMM_PAGE_SIZE) {
			fprintf(stderr, "rdmig-vmm: --ram: bad size %s (page multiples, at most %d regions)\n",
				tok, VMM_MAX_REGIONS);
			ret = -EINVAL;
			break;
		}
		o->region_bytes[o->nr_regions++] = v;
	}
	if (!ret && !o->nr_regions) {
		fprintf(stderr, "rdmig-vmm: --ram: no size given\n");
		ret = -EINVAL;
	}
	free(dup);
	return ret;
}

int opts_parse(int argc, char **argv, struct vmm_opts *o)
{
	const char *connect = NULL, *listen = NULL;
	int64_t n;
	int c;

	memset(o, 0, sizeof(*o));
	o->name = "vm";
	o->nr_regions = 1;
	o->region_bytes[0] = 64ULL << 20;
	o->vcpus = 2;
	o->workload = WL_ABTEST;
	o->seed = 1;
	o->downtime_ms = o->max_iterations = o->max_bandwidth_mbps = -1;
	o->throttle = true;
	o->cancel_after_ms = -1;
	o->timeout_ms = 120000;
	o->run_ms = 1000;
	o->after_ms = 1000;
	o->pause_timeout_ms = -1;

	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case O_SOURCE: o->role = ROLE_SOURCE; break;
		case O_DEST: o->role = ROLE_DESTINATION; break;
		case O_CONNECT: connect = optarg; break;
		case O_BIND: o->agent.bind = optarg; break;
		case O_LISTEN: listen = optarg; break;
		case O_RAM:
			if (parse_ram(optarg, o))
				return -EINVAL;
			break;
		case O_VCPUS:
			if (parse_num("vcpus", optarg, &n))
				return -EINVAL;
			if (n < 1 || n > VMM_MAX_VCPUS) {
				fprintf(stderr, "rdmig-vmm: --vcpus: 1 to %d\n", VMM_MAX_VCPUS);
				return -EINVAL;
			}
			o->vcpus = (unsigned int)n;
			break;
		case O_WORKLOAD:
			if (wl_kind_parse(optarg, &o->workload)) {
				fprintf(stderr, "rdmig-vmm: --workload: abtest, random, idle or zerotoggle\n");
				return -EINVAL;
			}
			break;
		case O_RATE:
			if (parse_num("rate", optarg, &n))
				return -EINVAL;
			o->rate = (uint64_t)n;
			break;
		case O_TOUCH:
			if (parse_size(optarg, &o->touch_bytes) || !o->touch_bytes ||
			    o->touch_bytes % VMM_PAGE_SIZE) {
				fprintf(stderr, "rdmig-vmm: --touch: a non-zero page multiple\n");
				return -EINVAL;
			}
			break;
		case O_SEED:
			if (parse_num("seed", optarg, &n))
				return -EINVAL;
			o->seed = (uint64_t)n;
			break;
		case O_NAME: o->name = optarg; break;
		case O_DOWNTIME:
			if (parse_num("downtime-ms", optarg, &o->downtime_ms))
				return -EINVAL;
			break;
		case O_MAXITER:
			if (parse_num("max-iterations", optarg, &o->max_iterations))
				return -EINVAL;
			break;
		case O_MAXBW:
			if (parse_num("max-bandwidth-mbps", optarg, &o->max_bandwidth_mbps))
				return -EINVAL;
			break;
		case O_ONMAX:
			if (strcmp(optarg, "switchover") && strcmp(optarg, "fail")) {
				fprintf(stderr, "rdmig-vmm: --on-max-iterations: switchover or fail\n");
				return -EINVAL;
			}
			o->on_max_iterations = optarg;
			break;
		case O_CHUNK:
			if (parse_size(optarg, &o->agent.chunk_size) || !o->agent.chunk_size) {
				fprintf(stderr, "rdmig-vmm: --chunk-size: bad size\n");
				return -EINVAL;
			}
			break;
		case O_BUDGET:
			if (parse_size(optarg, &o->agent.pin_budget)) {
				fprintf(stderr, "rdmig-vmm: --pin-budget: bad size\n");
				return -EINVAL;
			}
			break;
		case O_PINALL: o->agent.pin_all = true; break;
		case O_NOTHROTTLE: o->throttle = false; break;
		case O_MIGAFTER:
			if (parse_num("migrate-after", optarg, &o->migrate_after_ms))
				return -EINVAL;
			break;
		case O_CANCELAFTER:
			if (parse_num("cancel-after", optarg, &o->cancel_after_ms))
				return -EINVAL;
			break;
		case O_AFTER:
			if (parse_num("after-ms", optarg, &o->after_ms))
				return -EINVAL;
			break;
		case O_TIMEOUT:
			if (parse_num("timeout", optarg, &o->timeout_ms))
				return -EINVAL;
			break;
		case O_AGENT: o->agent.path = optarg; break;
		case O_AGENTARG:
			if (o->agent.nr_extra == AGENT_MAX_ARGS) {
				fprintf(stderr, "rdmig-vmm: too many --agent-arg\n");
				return -EINVAL;
			}
			o->agent.extra[o->agent.nr_extra++] = optarg;
			break;
		case O_SECRET:
			/* Only the path is passed on: the agent reads and checks it. */
			if (o->agent.nr_extra + 2 > AGENT_MAX_ARGS) {
				fprintf(stderr, "rdmig-vmm: too many agent arguments\n");
				return -EINVAL;
			}
			o->agent.extra[o->agent.nr_extra++] = "--secret-file";
			o->agent.extra[o->agent.nr_extra++] = optarg;
			break;
		case O_AGENTV: o->agent.verbose = true; break;
		case O_AGENTPID: o->agent_pidfile = optarg; break;
		case O_RUNMS:
			if (parse_num("run-ms", optarg, &o->run_ms))
				return -EINVAL;
			break;
		case O_HASHES: o->hashes = optarg; break;
		case O_VERIFY: o->verify_against = optarg; break;
		case O_PEER: o->peer_report = optarg; break;
		case O_EVENTS: o->events = optarg; break;
		case O_REPORT: o->report = optarg; break;
		case O_PTIMEOUT:
			if (parse_num("pause-timeout-ms", optarg, &o->pause_timeout_ms))
				return -EINVAL;
			break;
		case O_PDELAY:
			if (!strcmp(optarg, "-1"))
				o->pause_delay_ms = -1;
			else if (parse_num("pause-delay-ms", optarg, &o->pause_delay_ms))
				return -EINVAL;
			break;
		case O_SCRIBBLE: o->scribble = true; break;
		case O_PREFAULT: o->prefault = true; break;
		case O_RETRY: o->retry_connect = optarg; break;
		case 'q': o->quiet = true; break;
		case 'h':
			fputs(usage_text, stdout);
			printf("Default agent: %s\n", rdmig_default_agent());
			exit(0);
		default:
			fputs(usage_text, stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rdmig-vmm: unexpected argument %s\n", argv[optind]);
		return -EINVAL;
	}
	if (o->role == ROLE_SOURCE && !connect) {
		fprintf(stderr, "rdmig-vmm: --source needs --connect ADDR:PORT\n");
		return -EINVAL;
	}
	if (o->role == ROLE_DESTINATION && !listen) {
		fprintf(stderr, "rdmig-vmm: --destination needs --listen ADDR:PORT\n");
		return -EINVAL;
	}
	if ((connect && o->role != ROLE_SOURCE) || (listen && o->role != ROLE_DESTINATION)) {
		fprintf(stderr, "rdmig-vmm: --connect goes with --source, --listen with --destination\n");
		return -EINVAL;
	}
	if (o->retry_connect && o->role != ROLE_SOURCE) {
		fprintf(stderr, "rdmig-vmm: --retry-connect goes with --source\n");
		return -EINVAL;
	}
	o->agent.source = o->role == ROLE_SOURCE;
	o->agent.addr = connect ? connect : listen;
	if (!o->agent.path)
		o->agent.path = rdmig_default_agent();
	return 0;
}
