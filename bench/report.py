#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench's report step (bench/run.sh): reads the guest's records
(records.jsonl, one JSON object per case) and writes, in OUTDIR,
latest.json (one record per system x scenario, with gbps and
cpu_s_per_gib computed here), latest.md (the table and the targets),
total.dat and timeline-*.dat for bench/plot.gp; prints the table and the
targets (met / not met with the measured ratio, the module's old path
beside its new one) and each case's wall time on stdout. With README, the
README's section between <!-- bench:begin --> and <!-- bench:end --> is
rewritten with the date, command, tables, targets and plots.
    report.py RAWDIR OUTDIR "COMMAND" DATE [WALL [README]]"""
import glob
import json
import os
import re
import sys

raw, outdir, command, date = sys.argv[1:5]
wall = sys.argv[5] if len(sys.argv) > 5 else None
readme = sys.argv[6] if len(sys.argv) > 6 else None
recs = []
with open(os.path.join(raw, 'records.jsonl')) as f:
    for line in f:
        line = line.strip()
        if line:
            recs.append(json.loads(line))

GIB = 1 << 30
for r in recs:
    if r.get('result') == 'completed' and r.get('total_ms') and r.get('sent_bytes') is not None:
        r['gbps'] = round(r['sent_bytes'] * 8 / r['total_ms'] / 1e6, 4)
        data_ms = max(r['total_ms'] - (r.get('setup_ms') or 0), 1)
        r['data_gbps'] = round(r['sent_bytes'] * 8 / data_ms / 1e6, 4)
    if r.get('ram_bytes') and r.get('system_cpu_s') is not None and r.get('result') == 'completed':
        gib = r['ram_bytes'] / GIB
        r['cpu_s_per_gib'] = round(r['system_cpu_s'] / gib, 3)
        procs = r.get('procs') or {}
        r['procs_cpu_s_per_gib'] = {k: round(v / gib, 3) for k, v in sorted(procs.items())}
        r['procs_cpu_s_per_gib_total'] = round(sum(procs.values()) / gib, 3)
    r.setdefault('total_ms', None)
    r.setdefault('downtime_ms', None)
    r.setdefault('gbps', None)
    r.setdefault('cpu_s_per_gib', None)


def get(system, scenario):
    for r in recs:
        if r['system'] == system and r['scenario'] == scenario:
            return r
    return None


def ok(r):
    return r is not None and r.get('result') == 'completed'


def fmt(v, nd=0):
    if v is None:
        return '-'
    if isinstance(v, float) or nd:
        return f'{v:.{nd}f}'
    return str(v)


rows = []
head = ['system', 'scenario', 'result', 'total ms', 'downtime ms', 'iter',
        'sent MiB', 'Gb/s', 'CPU s/GiB guest', 'CPU s/GiB procs', 'note']
for r in recs:
    if r['system'] in ('ib_write_bw', 'module'):
        continue
    note = ''
    if r.get('result') != 'completed':
        note = re.sub(r'\s+', ' ', r.get('reason', ''))
        if 'Bus error' in note:  # the shell's report of the QEMU command line
            note = 'QEMU died of SIGBUS on its /dev/shm RAM file (tmpfs full?) ' + \
                re.sub(r'.*> "\$QEMU_RUN/\$name.log" 2>&1 ?', '', note)
    elif r.get('verified') is False:
        note = 'NOT VERIFIED'
    if r.get('pin_budget_bytes'):
        note += (' ' if note else '') + f"budget {r['pin_budget_bytes'] >> 20} MiB"
        if r.get('dst_peak_pinned_bytes') is not None:
            note += f", dst peak pinned {r['dst_peak_pinned_bytes'] >> 20} MiB"
            if r['dst_peak_pinned_bytes'] > r['pin_budget_bytes']:
                note += ' (OVER the budget)'
    if r.get('rdmigd_options'):
        note += (' ' if note else '') + 'rdmigd ' + r['rdmigd_options']
    rows.append([r['system'], r['scenario'], r.get('result', '?'), fmt(r['total_ms']),
                 fmt(r['downtime_ms']), fmt(r.get('iterations')),
                 fmt(r['sent_bytes'] / 1048576, 1) if r.get('sent_bytes') is not None else '-',
                 fmt(r['gbps'], 3) if r['gbps'] is not None else '-',
                 fmt(r['cpu_s_per_gib'], 2) if r['cpu_s_per_gib'] is not None else '-',
                 fmt(r.get('procs_cpu_s_per_gib_total'), 2) if r.get('procs_cpu_s_per_gib_total') is not None else '-',
                 note[:110]])

link = [[r['scenario'], r.get('result'), fmt(r.get('gbps'), 3) if r.get('gbps') is not None else r.get('reason', '')]
        for r in recs if r['system'] == 'ib_write_bw']


def mget(scen, path, key):
    for r in recs:
        if r['system'] == 'module' and r['scenario'] == scen and r.get('path', 'new') == path \
                and r.get('result') == 'completed':
            return r.get(key)
    return None


def mline(scen, path):
    for r in recs:
        if r['system'] == 'module' and r['scenario'] == scen and r.get('path', 'new') == path:
            if r.get('result') != 'completed':
                return 'FAILED: ' + r.get('reason', '')
            return msummary(r)
    return '-'


def msummary(r):
    """One readable cell: the figures a target reads, from the record's
    KIND.key fields (bench/guest.sh mod_case); the raw line otherwise."""
    def g(k):
        return r.get(k)
    parts = []
    for kind, name in (('clear', 'bitmap'), ('clear_words', 'words')):
        sc, de = g(kind + '.scattered_us_per_page'), g(kind + '.dense_us_per_page')
        if sc is not None and de is not None:
            parts.append(f'{name}: scattered {sc} / dense {de} us/page')
    if g('write.ratio_on_off') is not None:
        parts.append(f"tracked/untracked write rate {g('write.ratio_on_off')} "
                     f"({g('write.tracked_mpages_s')} / {g('write.untracked_mpages_s')} Mpages/s)")
    if g('track.track_on_ms') is not None:
        parts.append(f"tracking on {g('track.region_mib')} MiB: {g('track.track_on_ms')} ms")
    return '; '.join(parts) if parts else r.get('line', '').rstrip(';')


mscens = []
for r in recs:
    if r['system'] == 'module' and r['scenario'] not in mscens:
        mscens.append(r['scenario'])
mod = [[c, mline(c, 'new'), mline(c, 'old')] for c in mscens]

# ---- targets (issues 12 and 13): ratios in this run, never assertions
targets = []


def ratio_of(num, den):
    return None if num is None or den is None or den == 0 else num / den


def target(name, num, den, limit, cmp='<=', why='', old=None):
    """old: (num, den) of the module's old path, printed beside."""
    o = ratio_of(*old) if old else None
    ostr = f'{o:.2f}' if o is not None else '-'
    ratio = ratio_of(num, den)
    if ratio is None:
        targets.append((name, 'not measured', '-', ostr, why or 'a case it needs failed or is missing'))
        return
    met = ratio <= limit if cmp == '<=' else (ratio >= limit if cmp == '>=' else ratio < limit)
    targets.append((name, 'met' if met else 'not met', f'{ratio:.2f} ({cmp} {limit})', ostr, why))


def val(sys_, scen, key):
    r = get(sys_, scen)
    return r.get(key) if ok(r) else None


ib = get('ib_write_bw', 'link-1024k-1qp')
ibg = ib.get('gbps') if ok(ib) else None
target('rdmig dynamic data rate >= 0.95 x ib_write_bw 1 MiB 1 QP, (a)',
       val('rdmig', 'a', 'data_gbps'), ibg, 0.95, '>=',
       'data phase (total less setup); overall: %s Gb/s' % fmt(val('rdmig', 'a', 'gbps'), 3))
target('rdmig dynamic total <= 1.0 x rdmig pin-all, (a)',
       val('rdmig', 'a', 'total_ms'), val('rdmig-pinall', 'a', 'total_ms'), 1.0)
target('rdmig dynamic total < rdmig pin-all, (b)',
       val('rdmig', 'b', 'total_ms'), val('rdmig-pinall', 'b', 'total_ms'), 1.0, '<')
target('rdmig dynamic total <= 0.5 x QEMU RDMA dynamic, (a)',
       val('rdmig', 'a', 'total_ms'), val('qemu-rdma', 'a', 'total_ms'), 0.5)
target('rdmig dynamic total <= 0.5 x QEMU RDMA dynamic, (b)',
       val('rdmig', 'b', 'total_ms'), val('qemu-rdma', 'b', 'total_ms'), 0.5)
target('(b) 2 GiB, 128 MiB written <= 1.2 x the 128 MiB guest alone (rdmig)',
       val('rdmig', 'b', 'total_ms'), val('rdmig', 'b128', 'total_ms'), 1.2)
target('get-and-clear 1000 scattered pages: 64 GiB <= 1.2 x 256 MiB region',
       mget('clear-65536m', 'new', 'clear.scattered_us'), mget('clear-256m', 'new', 'clear.scattered_us'), 1.2,
       why='bitmap ioctl; the sparse result (words): %s' % fmt(ratio_of(
           mget('clear-65536m', 'new', 'clear_words.scattered_us'),
           mget('clear-256m', 'new', 'clear_words.scattered_us')), 2),
       old=(mget('clear-65536m', 'old', 'clear.scattered_us'), mget('clear-256m', 'old', 'clear.scattered_us')))
target('get-and-clear per page, 1000 dense pages, writer thread <= 2 x without (256 MiB)',
       mget('clear-256m-w', 'new', 'clear.dense_us'), mget('clear-256m', 'new', 'clear.dense_us'), 2.0,
       why='scattered (one page a span, no batching): %s' % fmt(ratio_of(
           mget('clear-256m-w', 'new', 'clear.scattered_us'), mget('clear-256m', 'new', 'clear.scattered_us')), 2),
       old=(mget('clear-256m-w', 'old', 'clear.dense_us'), mget('clear-256m', 'old', 'clear.dense_us')))
t64 = mget('track-64m', 'old', 'track.track_on_ms')
target('tracking on for 1 GiB with a writer thread < 1 s (ratio: seconds)',
       mget('track-1g', 'new', 'track.track_on_ms'), 1000.0, 1.0, '<',
       why='old path timed on 64 MiB, x16 beside',
       old=(t64 * 16 if t64 is not None else None, 1000.0))
target('rdmig dynamic downtime on (d) <= the limit asked',
       val('rdmig', 'd', 'downtime_ms'), val('rdmig', 'd', 'downtime_limit_ms'), 1.0)
variants = sorted({r['system'] for r in recs if r['system'].startswith('rdmig[')})
for v in variants:
    for c in ('a', 'd'):
        if get(v, c):
            target(f'(info) {v} total <= 1.0 x rdmig dynamic, ({c})',
                   val(v, c, 'total_ms'), val('rdmig', c, 'total_ms'), 1.0,
                   why='rdmigd ' + (get(v, c).get('rdmigd_options') or ''))
for s in ('qemu-tcp', 'qemu-multifd', 'qemu-rdma', 'qemu-rdma-pinall', 'rdmig-pinall'):
    target(f'(info) {s} downtime on (d) <= the limit asked',
           val(s, 'd', 'downtime_ms'), val(s, 'd', 'downtime_limit_ms'), 1.0)


def table(h, rs):
    w = [max(len(str(x)) for x in col) for col in zip(h, *rs)] if rs else [len(x) for x in h]
    out = ['  '.join(str(x).ljust(n) for x, n in zip(h, w))]
    out.append('  '.join('-' * n for n in w))
    out += ['  '.join(str(x).ljust(n) for x, n in zip(r, w)) for r in rs]
    return '\n'.join(out)


def md(h, rs):
    out = ['| ' + ' | '.join(h) + ' |', '|' + '---|' * len(h)]
    out += ['| ' + ' | '.join(str(x).replace('|', '/') for x in r) + ' |' for r in rs]
    return '\n'.join(out)


th = ['target', 'verdict', 'ratio', 'module old path', 'note']
mh = ['case', 'new path (rearm_span default, dirty_summary=1)', 'old path (rearm_span=0, dirty_summary=0, track_wp_all=0)']
# Each case's wall time, boots included (case_s): where the run's time goes.
times = [[r['system'], r['scenario'] + (f" ({r['path']})" if r.get('path') else ''),
          r.get('result', '?'), fmt(r.get('case_s'))] for r in recs]
tsum = sum(r.get('case_s') or 0 for r in recs)
times.append(['all cases', '', '', str(tsum)])
walls = f' Whole run (boot, build check, report): {wall}.' if wall else ''
text = (f'make bench, {date} (`{command}`)\n\nmigrations\n' + table(head, rows) +
        '\n\nlink (ib_write_bw rxe0 -> rxe1, ~64 MiB a case)\n' + table(['case', 'result', 'Gb/s'], link) +
        '\n\nmodule (scenario e)\n' + table(mh, mod) +
        '\n\ntargets (issues 12, 13)\n' + table(th, targets) +
        '\n\nwall time per case (s)' + walls + '\n' + table(['system', 'scenario', 'result', 's'], times) + '\n')
print(text)
body = ('Scenarios and columns: Documentation/bench.md.\n\n### Migrations\n\n' + md(head, rows) +
        '\n\n### Link\n\n' + md(['case', 'result', 'Gb/s'], link) +
        '\n\n### Module (scenario e)\n\n' + md(mh, mod) +
        '\n\n### Targets (issues 12, 13)\n\n' + md(th, targets) +
        '\n\n### Wall time per case (s)\n\n' + walls.strip() + ('\n\n' if walls else '') +
        md(['system', 'scenario', 'result', 's'], times) + '\n')
# BENCH_PROFILE=1: the source rdmigd's top symbols and its wait counters,
# the measurement behind the data-rate targets' verdicts.
prof = os.path.join(raw, 'profile.txt')
if os.path.exists(prof):
    top = [l.rstrip() for l in open(prof) if '%' in l and not l.startswith('#')][:12]
    ra = get('rdmig', 'a') or {}
    waits = dict(ra.get('rdmigd_waits') or {})
    if ra.get('registration_wait_ms') is not None:
        waits['registration_wait_ms'] = ra['registration_wait_ms']
    body += ('\n### Profile: the source rdmigd during rdmig on (a)\n\n'
             '`perf record -g -e cpu-clock` (bench-results/profile.txt has the top 40 and call graphs); '
             'its waits off the CPU, from its report: ' +
             (', '.join(f'{k} {v}' for k, v in sorted(waits.items())) or 'none reported') +
             '.\n\n```\n' + '\n'.join(top) + '\n```\n')
    text += '\nprofile (source rdmigd, rdmig a): waits ' + json.dumps(waits) + '\n' + '\n'.join(top) + '\n'
print(text)
with open(os.path.join(outdir, 'latest.md'), 'w') as f:
    f.write(f'# make bench, {date}\n\nCommand: `{command}`. ' + body)
with open(os.path.join(outdir, 'latest.json'), 'w') as f:
    json.dump({'date': date, 'command': command, 'wall': wall, 'records': recs,
               'targets': [dict(zip(('target', 'verdict', 'ratio', 'module_old_path', 'note'), t))
                           for t in targets]},
              f, indent=1)

# ---- the README's section (make bench only: a partial run leaves it)
BEGIN, END = '<!-- bench:begin -->', '<!-- bench:end -->'
if readme:
    txt = open(readme).read()
    if BEGIN not in txt or END not in txt:
        sys.exit(f'report.py: {readme} has no {BEGIN} ... {END} section')
    met = sum(1 for t in targets if t[1] == 'met' and not t[0].startswith('(info)'))
    nmet = sum(1 for t in targets if t[1] != 'met' and not t[0].startswith('(info)'))
    sec = (f'{BEGIN}\n<!-- written by bench/report.py from `make bench`; edit bench/report.py, not this -->\n'
           f'Latest run: {date}, `{command}`.{walls} Targets: {met} met, {nmet} not met or not measured.\n\n'
           '![total time per system and scenario](Documentation/bench-total.png)\n\n'
           '![remaining bytes and dirty rate over one live migration (d)](Documentation/bench-timeline.png)\n\n'
           + body + END)
    head_, rest = txt.split(BEGIN, 1)
    with open(readme, 'w') as f:
        f.write(head_ + sec + rest.split(END, 1)[1])

# ---- plot data
with open(os.path.join(outdir, 'link.dat'), 'w') as f:
    for r in recs:
        if r['system'] == 'ib_write_bw' and ok(r):
            f.write(f"{r['scenario']} {r['gbps']}\n")
scens = ['a', 'b', 'c', 'd']
systems = ['qemu-tcp', 'qemu-multifd', 'qemu-rdma', 'qemu-rdma-pinall', 'rdmig', 'rdmig-pinall']
with open(os.path.join(outdir, 'total.dat'), 'w') as f:
    f.write('system ' + ' '.join(scens) + '\n')
    for s in systems:
        f.write(s + ' ' + ' '.join(fmt(val(s, c, 'total_ms') / 1000, 2) if val(s, c, 'total_ms') else '?'
                                   for c in scens) + '\n')
# One live migration over time (scenario d): rdmig from rdmig-qemu's
# progress lines (time stamped as they came), QEMU TCP from its
# query-migrate every 0.5 s (bench/qmp_sample.py), beside it.
tl = glob.glob(os.path.join(raw, 'qemu-tcp-d', 'timeline.txt'))
with open(os.path.join(outdir, 'timeline-qemu-tcp.dat'), 'w') as out:
    pts = []
    for p in tl:
        for line in open(p):
            t, rem, rate = line.split()
            pts.append((float(t), int(rem) / 1048576, float(rate) * 4096 / 1048576))
    for t, rem, rate in pts:
        out.write(f'{t - pts[0][0]:.2f} {rem:.2f} {rate:.2f}\n')
pat = re.compile(r'^(\S+) rdmig-qemu: iteration \d+: ([\d.]+) MiB left, .*dirtied (\d+) pages/s')
with open(os.path.join(outdir, 'timeline-rdmig.dat'), 'w') as out:
    pts = []
    p = os.path.join(raw, 'qmig', 'rdmig-d', 'progress.txt')
    if os.path.exists(p):
        for line in open(p):
            m = pat.match(line)
            if m:
                pts.append((float(m[1]), float(m[2]), int(m[3]) * 4096 / 1048576))
    for t, rem, rate in pts:
        out.write(f'{t - pts[0][0]:.2f} {rem:.2f} {rate:.2f}\n')
