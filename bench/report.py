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
            if r.get('result') == 'unsupported':
                return 'unsupported: ' + r.get('reason', '')
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
    if g('floor.mprotect_us_per_page') is not None:
        parts.append(f"mprotect() floor {g('floor.mprotect_us_per_page')} us/page "
                     f"({g('floor.dirty')} pages of {g('floor.mib')} MiB, writer={g('floor.writer')})")
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


def target(name, num, den, limit, cmp='<=', why='', old=None, limit_of=None):
    """old: (num, den) of the module's old path, printed beside.
    limit_of: a function of the verdict ('met', 'not met', 'not measured')
    giving the "limit (measured)" cell: what bounds the figure."""
    o = ratio_of(*old) if old else None
    ostr = f'{o:.2f}' if o is not None else '-'
    ratio = ratio_of(num, den)
    if ratio is None:
        verdict, rstr = 'not measured', '-'
        why = why or 'a case it needs failed or is missing'
    else:
        met = ratio <= limit if cmp == '<=' else (ratio >= limit if cmp == '>=' else ratio < limit)
        verdict, rstr = ('met' if met else 'not met'), f'{ratio:.2f} ({cmp} {limit})'
    lim = (limit_of(verdict) if limit_of else None) or '-'
    targets.append((name, verdict, rstr, ostr, lim, why))


# ---- where rdmig's time goes: the phases_ms of rdmigd's report (source,
# and the destination's pin/answer), every field optional: an rdmigd
# without them gives "-" (the contract: Documentation/bench.md).
SRC_PHASES = ['setup', 'classify', 'register', 'request', 'rkey_wait', 'post', 'cq_wait', 'inflight_wait',
              'sync', 'switchover', 'other']
DST_PHASES = ['pin', 'answer', 'release']


def phases(r):
    p = r.get('phases_ms') if r else None
    return p if isinstance(p, dict) else {}


def largest_phase(r):
    """'cq_wait 61 % of 13.2 s': the record's largest source phase and its
    share of total_ms, or None when the record has no phases."""
    p = {k: v for k, v in phases(r).items() if isinstance(v, (int, float))}
    tot = r.get('total_ms') if r else None
    if not p or not tot:
        return None
    k = max(p, key=lambda x: p[x])
    return f'{k} {100 * p[k] / tot:.0f} % of {tot / 1000:.1f} s'


def phase_limit(sys_, scen):
    """limit_of for an rdmig target: the largest phase when not met."""
    def f(verdict):
        if verdict != 'not met':
            return None
        return largest_phase(get(sys_, scen)) or 'no phases_ms in rdmigd\'s report'
    return f


# ---- where the guest's CPU goes (bench/guest.sh cpu_end): CPUs busy over
# the case, the busy ticks' split, the busiest tasks and soft-RoCE's
# counters. Under TCG the link is the CPU: a case that moves its bytes
# slower than ib_write_bw shows here what else ran.
RXE_RETRY = ('duplicate_request', 'out_of_seq_request', 'rcvd_seq_err', 'completer_retry_err',
             'retry_exceeded_err', 'send_rnr_err', 'rcvd_rnr_err')


def cpus_busy(r):
    c, w = (r or {}).get('system_cpu_s'), (r or {}).get('wall_ms')
    return c / (w / 1000) if isinstance(c, (int, float)) and w else None


def rxe_retries(r):
    x = (r or {}).get('rxe')
    return sum(int(x.get(k, 0)) for k in RXE_RETRY) if isinstance(x, dict) else None


def cpu_cell(r):
    """'1.71 CPUs busy, irq 38 % system 40 % user 22 %, rxe retries 0', or None."""
    parts = []
    b = cpus_busy(r)
    if b is not None:
        parts.append(f'{b:.2f} CPUs busy')
    ts = (r or {}).get('ticks_share')
    if isinstance(ts, dict) and all(isinstance(ts.get(k), (int, float)) for k in ('irq', 'system', 'user')):
        parts.append(f"irq {100 * ts['irq']:.0f} % system {100 * ts['system']:.0f} % user {100 * ts['user']:.0f} %")
    n = rxe_retries(r)
    if n is not None:
        parts.append(f'rxe retries {n}')
    return ', '.join(parts) or None


def rate_limit(sys_, scen):
    """limit_of for the data-rate targets: the largest phase, then what the
    guest's CPUs did in this case, in ib_write_bw's and in QEMU RDMA's."""
    def f(verdict):
        if verdict != 'not met':
            return None
        out = phase_limit(sys_, scen)(verdict)
        for who, r in ((sys_, get(sys_, scen)), ('ib_write_bw', get('ib_write_bw', 'link-1024k-1qp')),
                       ('qemu-rdma', get('qemu-rdma', scen))):
            c = cpu_cell(r) if ok(r) else None
            if c:
                out += f'; {who}: {c}'
        return out
    return f


def qemu_rdma_limit(scen):
    """limit_of for "<= 0.5 x QEMU RDMA": QEMU RDMA's own data rate against
    the link's; at or above 0.5 of it, half QEMU's time needs more than the
    link carries, so the ratio has that floor whatever rdmig does."""
    def f(verdict):
        if verdict != 'not met':
            return None
        q = val('qemu-rdma', scen, 'data_gbps')
        ib_ = get('ib_write_bw', 'link-1024k-1qp')
        link = ib_.get('gbps') if ok(ib_) else None
        out = rate_limit('rdmig', scen)(verdict)
        if q is None or not link:
            return out
        return (f'QEMU RDMA moves {q / link:.2f} x ib_write_bw 1 MiB 1 QP ({q:.3f} / {link} Gb/s): '
                f'half its time needs {2 * q / link:.2f} x the link; ' + out)
    return f


def downtime_limit(sys_, scen):
    """limit_of for the downtime target: the downtime split into rdmigd's
    part (pause to its acknowledgement, the destination's unpinning in it)
    and QEMU's (its device state, then the destination's resume)."""
    def f(verdict):
        if verdict != 'not met':
            return None
        r = get(sys_, scen) or {}
        rd, src, tot = r.get('rdmig_downtime_ms'), r.get('source_downtime_ms'), r.get('downtime_ms')
        rel = (r.get('dst_phases_ms') or {}).get('release')
        if not all(isinstance(x, (int, float)) for x in (rd, src, tot)):
            sw = phases(r).get('switchover')
            return f'switchover {sw} ms' if sw is not None else largest_phase(r)
        return (f'rdmigd {rd} ms (pause to its ack' +
                (f'; destination unpinning {rel} ms' if rel is not None else '') +
                f'), QEMU device state {src - rd} ms, completed to resume {tot - src} ms')
    return f


def val(sys_, scen, key):
    r = get(sys_, scen)
    return r.get(key) if ok(r) else None


ib = get('ib_write_bw', 'link-1024k-1qp')
ibg = ib.get('gbps') if ok(ib) else None
target('rdmig dynamic data rate >= 0.95 x ib_write_bw 1 MiB 1 QP, (a)',
       val('rdmig', 'a', 'data_gbps'), ibg, 0.95, '>=',
       'data phase (total less setup); overall: %s Gb/s' % fmt(val('rdmig', 'a', 'gbps'), 3),
       limit_of=rate_limit('rdmig', 'a'))
target('rdmig dynamic total <= 1.0 x rdmig pin-all, (a)',
       val('rdmig', 'a', 'total_ms'), val('rdmig-pinall', 'a', 'total_ms'), 1.0,
       limit_of=phase_limit('rdmig', 'a'))
target('rdmig dynamic total < rdmig pin-all, (b)',
       val('rdmig', 'b', 'total_ms'), val('rdmig-pinall', 'b', 'total_ms'), 1.0, '<',
       limit_of=phase_limit('rdmig', 'b'))
target('rdmig dynamic total <= 0.5 x QEMU RDMA dynamic, (a)',
       val('rdmig', 'a', 'total_ms'), val('qemu-rdma', 'a', 'total_ms'), 0.5,
       limit_of=qemu_rdma_limit('a'))
target('rdmig dynamic total <= 0.5 x QEMU RDMA dynamic, (b)',
       val('rdmig', 'b', 'total_ms'), val('qemu-rdma', 'b', 'total_ms'), 0.5,
       limit_of=phase_limit('rdmig', 'b'))
target('(b) 2 GiB, 128 MiB written <= 1.2 x the 128 MiB guest alone (rdmig)',
       val('rdmig', 'b', 'total_ms'), val('rdmig', 'b128', 'total_ms'), 1.2,
       limit_of=phase_limit('rdmig', 'b'))


def per_page(scen, kind):
    v = mget(scen, 'new', kind + '.scattered_us_per_page')
    return f'{v} us/page' if v is not None else '-'


def spread_cell():
    """What limits the 64 GiB / 256 MiB ratio: the same 1000 pages placed
    as in the 256 MiB case, in the 64 GiB region (first256m_us), against
    the 256 MiB region (size alone) and against the 64 GiB scattered case
    (the pages' spread alone)."""
    big = mget('clear-65536m', 'new', 'clear_words.scattered_us')
    small = mget('clear-256m', 'new', 'clear_words.scattered_us')
    near = mget('clear-65536m', 'new', 'clear_words.first256m_us')
    cell = (f"words: 64 GiB {per_page('clear-65536m', 'clear_words')}, "
            f"256 MiB {per_page('clear-256m', 'clear_words')}")
    if near is None or big is None or small is None:
        return cell
    return (cell + f"; the 256 MiB case's pages in the 64 GiB region {near} us: "
            f"size {fmt(ratio_of(near, small), 2)}, spread {fmt(ratio_of(big, near), 2)}")


# Judged on the words path (RDMIG_GET_DIRTY_WORDS, what rdmigd uses); the
# bitmap ioctl's ratio is an (info) row below.
target('get-and-clear 1000 scattered pages: 64 GiB <= 1.2 x 256 MiB region (words path)',
       mget('clear-65536m', 'new', 'clear_words.scattered_us'), mget('clear-256m', 'new', 'clear_words.scattered_us'),
       1.2, why='RDMIG_GET_DIRTY_WORDS, the path rdmigd takes',
       old=(mget('clear-65536m', 'old', 'clear_words.scattered_us'),
            mget('clear-256m', 'old', 'clear_words.scattered_us')),
       limit_of=lambda v: None if v == 'met' else spread_cell())


def floor_cell(_verdict):
    """The machine's floor for the writer ratio: the same page protection
    by plain mprotect() in userspace (bench_dirty floor), with a writer
    against without; 'unsupported' when that bench_dirty lacks it."""
    fw, f0 = get('module', 'floor-256m-w'), get('module', 'floor-256m')
    if fw is None and f0 is None:
        return 'floor not measured'
    if any(r is not None and r.get('result') == 'unsupported' for r in (fw, f0)):
        return 'floor: unsupported by this bench_dirty'
    w = fw.get('floor.mprotect_us_per_page') if ok(fw) else None
    n = f0.get('floor.mprotect_us_per_page') if ok(f0) else None
    if w is None or n is None:
        return 'floor: a floor case failed'
    fr = ratio_of(w, n)
    return (f'mprotect floor {fr:.2f} ({w} / {n} us/page)' if fr is not None
            else f'mprotect floor: {w} / {n} us/page')


target('get-and-clear per page, 1000 dense pages, writer thread <= 2 x without (256 MiB)',
       mget('clear-256m-w', 'new', 'clear.dense_us'), mget('clear-256m', 'new', 'clear.dense_us'), 2.0,
       why='scattered (one page a span, no batching): %s' % fmt(ratio_of(
           mget('clear-256m-w', 'new', 'clear.scattered_us'), mget('clear-256m', 'new', 'clear.scattered_us')), 2),
       old=(mget('clear-256m-w', 'old', 'clear.dense_us'), mget('clear-256m', 'old', 'clear.dense_us')),
       limit_of=floor_cell)
t64 = mget('track-64m', 'old', 'track.track_on_ms')
target('tracking on for 1 GiB with a writer thread < 1 s (ratio: seconds)',
       mget('track-1g', 'new', 'track.track_on_ms'), 1000.0, 1.0, '<',
       why='old path timed on 64 MiB, x16 beside',
       old=(t64 * 16 if t64 is not None else None, 1000.0))
target('rdmig dynamic downtime on (d) <= the limit asked',
       val('rdmig', 'd', 'downtime_ms'), val('rdmig', 'd', 'downtime_limit_ms'), 1.0,
       limit_of=downtime_limit('rdmig', 'd'))
target('(info) get-and-clear 1000 scattered pages: 64 GiB <= 1.2 x 256 MiB region (bitmap ioctl)',
       mget('clear-65536m', 'new', 'clear.scattered_us'), mget('clear-256m', 'new', 'clear.scattered_us'), 1.2,
       why='RDMIG_GET_DIRTY bitmap: walks the whole range',
       old=(mget('clear-65536m', 'old', 'clear.scattered_us'), mget('clear-256m', 'old', 'clear.scattered_us')))
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


# "Where rdmig's time goes": one row per rdmig record (source phases,
# then the destination's), ms and share of total_ms.
ph_head = ['system', 'scenario', 'total ms'] + SRC_PHASES + ['dst ' + k for k in DST_PHASES]


def phase_cell(v, tot):
    if not isinstance(v, (int, float)):
        return '-'
    return f'{v} ({100 * v / tot:.0f}%)' if tot else str(v)


ph_rows = []
for r in recs:
    if not r['system'].startswith('rdmig') or r.get('result') != 'completed':
        continue
    p, dp, tot = phases(r), r.get('dst_phases_ms') or {}, r.get('total_ms')
    ph_rows.append([r['system'], r['scenario'], fmt(tot)] + [phase_cell(p.get(k), tot) for k in SRC_PHASES] +
                   [phase_cell(dp.get(k) if isinstance(dp, dict) else None, None) for k in DST_PHASES])


# "Where the guest's CPU goes": every case with the split (bench/guest.sh).
cpu_head = ['system', 'scenario', 'wall s', 'CPUs busy', 'user %', 'system %', 'irq %',
            'rxe pkts', 'rxe retries', 'softnet drops', 'busiest tasks (s of ticks)']
cpu_rows = []
for r in recs:
    ts = r.get('ticks_share')
    if not isinstance(ts, dict) or r.get('result') != 'completed':
        continue
    x = r.get('rxe') if isinstance(r.get('rxe'), dict) else {}
    top = r.get('top_tasks_s') if isinstance(r.get('top_tasks_s'), dict) else {}
    b = cpus_busy(r)
    cpu_rows.append([r['system'], r['scenario'], fmt(r['wall_ms'] / 1000 if r.get('wall_ms') else None, 1),
                     fmt(b, 2)] + [fmt(100 * ts[k] if isinstance(ts.get(k), (int, float)) else None)
                                   for k in ('user', 'system', 'irq')] +
                    [fmt(x.get('sent_pkts')), fmt(rxe_retries(r)), fmt(x.get('softnet_dropped', 0)),
                     ', '.join(f'{k} {v}' for k, v in list(top.items())[:4]) or '-'])


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


th = ['target', 'verdict', 'ratio', 'module old path', 'limit (measured)', 'note']
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
        "\n\nwhere rdmig's time goes (ms, share of total; rdmigd's phases_ms)\n" + table(ph_head, ph_rows) +
        "\n\nwhere the guest's CPU goes\n" + table(cpu_head, cpu_rows) +
        '\n\ntargets (issues 12, 13)\n' + table(th, targets) +
        '\n\nwall time per case (s)' + walls + '\n' + table(['system', 'scenario', 'result', 's'], times) + '\n')
body = ('Scenarios and columns: Documentation/bench.md.\n\n### Migrations\n\n' + md(head, rows) +
        '\n\n### Link\n\n' + md(['case', 'result', 'Gb/s'], link) +
        '\n\n### Module (scenario e)\n\n' + md(mh, mod) +
        "\n\n### Where rdmig's time goes (ms, share of total)\n\n"
        "rdmigd's `phases_ms` (source; `dst` columns: the destination's); "
        "`-`: that rdmigd does not report it.\n\n" + md(ph_head, ph_rows) +
        "\n\n### Where the guest's CPU goes\n\n"
        "Each case's CPUs busy (wall x CPUs less idle, over its wall time), its busy ticks' split "
        "(irq: soft-RoCE's softirq work among it), soft-RoCE's packets and retries (both devices) "
        "and the busiest tasks, commands' digits folded (Documentation/bench.md).\n\n" + md(cpu_head, cpu_rows) +
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
# BENCH_PROFILE=1: the get-and-clear's symbols in 256 MiB and 64 GiB, the
# measurement behind the 64 GiB target's verdict.
mprof = os.path.join(raw, 'profile-module.txt')
if os.path.exists(mprof):
    lines = []
    for l in open(mprof):
        l = l.rstrip()
        if l.startswith('## '):
            lines.append(l[3:])
            n = 0
        elif l and (l.startswith('# Samples') or n < 10):
            lines.append(l)
            n += 0 if l.startswith('#') else 1
    body += ('\n### Profile: get-and-clear, 256 MiB against 64 GiB\n\n'
             '`perf record -g -e cpu-clock` of `bench_dirty clear MIB 1000 60`, only the samples '
             'under `rdmig_get_dirty` (bench-results/profile-module.txt).\n\n```\n' + '\n'.join(lines) + '\n```\n')
    text += '\nprofile (get-and-clear)\n' + '\n'.join(lines) + '\n'
print(text)
with open(os.path.join(outdir, 'latest.md'), 'w') as f:
    f.write(f'# make bench, {date}\n\nCommand: `{command}`. ' + body)
with open(os.path.join(outdir, 'latest.json'), 'w') as f:
    json.dump({'date': date, 'command': command, 'wall': wall, 'records': recs,
               'targets': [dict(zip(('target', 'verdict', 'ratio', 'module_old_path', 'limit', 'note'), t))
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
# rdmig: its record's "rounds" (rdmigd's per-round figures: t_ms,
# remaining_bytes, dirty_bytes), the dirty rate being a round's
# dirty_bytes over its length; an rdmigd without them: rdmig-qemu's
# progress lines, time stamped as they came.
def rounds_points(r):
    """[(s, remaining MiB, dirty MiB/s)] from r['rounds'], [] if none."""
    pts, prev = [], 0
    rs = [x for x in (r or {}).get('rounds') or [] if isinstance(x, dict)]
    # The start: what the first round had to send (sent + left after it).
    if rs and all(isinstance(rs[0].get(k), (int, float)) for k in ('sent_bytes', 'remaining_bytes')):
        pts.append((0.0, (rs[0]['sent_bytes'] + rs[0]['remaining_bytes']) / 1048576, 0.0))
    for x in rs:
        if not isinstance(x.get('t_ms'), (int, float)) or not isinstance(x.get('remaining_bytes'), (int, float)):
            continue
        dt = (x['t_ms'] - prev) / 1000
        d = x.get('dirty_bytes')
        rate = d / 1048576 / dt if isinstance(d, (int, float)) and dt > 0 else 0.0
        pts.append((x['t_ms'] / 1000, x['remaining_bytes'] / 1048576, rate))
        prev = x['t_ms']
    return pts


pat = re.compile(r'^(\S+) rdmig-qemu: iteration \d+: ([\d.]+) MiB left, .*dirtied (\d+) pages/s')
with open(os.path.join(outdir, 'timeline-rdmig.dat'), 'w') as out:
    pts = rounds_points(get('rdmig', 'd'))
    p = os.path.join(raw, 'qmig', 'rdmig-d', 'progress.txt')
    if not pts and os.path.exists(p):
        for line in open(p):
            m = pat.match(line)
            if m:
                pts.append((float(m[1]), float(m[2]), int(m[3]) * 4096 / 1048576))
    for t, rem, rate in pts:
        out.write(f'{t - pts[0][0]:.2f} {rem:.2f} {rate:.2f}\n')
