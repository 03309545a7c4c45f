# SPDX-License-Identifier: GPL-2.0
"""bench/report.py on fabricated records (python3 -m unittest
bench.test_report, or python3 -m unittest discover -s bench): the phases
table, the targets' "limit (measured)" column, rdmig's timeline from its
"rounds", the words-path get-and-clear target and the mprotect floor;
every field of the rdmigd contract optional ("-")."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
MIB = 1 << 20


def rdmig(system, scen, total, **kw):
    r = {'system': system, 'scenario': scen, 'result': 'completed', 'verified': True,
         'ram_bytes': 256 * MIB, 'total_ms': total, 'sent_bytes': 256 * MIB, 'setup_ms': 100,
         'case_s': 30, 'downtime_limit_ms': 300}
    r.update(kw)
    return r


def module(scen, path, **kw):
    r = {'system': 'module', 'scenario': scen, 'path': path, 'result': 'completed', 'case_s': 2}
    r.update(kw)
    return r


PH_A = {'setup': 0, 'classify': 500, 'register': 300, 'request': 0, 'rkey_wait': 200, 'post': 1000, 'cq_wait': 8052,
        'inflight_wait': 0, 'sync': 400, 'switchover': 700, 'other': 48}
ROUNDS_D = [{'t_ms': 1000, 'sent_bytes': 128 * MIB, 'dirty_bytes': 4 * MIB, 'remaining_bytes': 4 * MIB},
            {'t_ms': 1500, 'sent_bytes': 4 * MIB, 'dirty_bytes': MIB, 'remaining_bytes': MIB},
            {'t_ms': 1700, 'sent_bytes': MIB, 'dirty_bytes': 0, 'remaining_bytes': 0}]


def base_records(floor=True):
    recs = [
        {'system': 'ib_write_bw', 'scenario': 'link-1024k-1qp', 'result': 'completed', 'gbps': 0.4, 'case_s': 5,
         'wall_ms': 4000, 'system_cpu_s': 4.4, 'ticks_share': {'user': 0.1, 'system': 0.3, 'irq': 0.6},
         'rxe': {'sent_pkts': 65536}, 'top_tasks_s': {'ib_write_bw': 1.5}},
        # (a): 13.2 s, slower than pin-all: not met, cq_wait the largest phase.
        rdmig('rdmig', 'a', 13200, phases_ms=PH_A, dst_phases_ms={'pin': 900, 'answer': 120},
              wall_ms=14000, system_cpu_s=25.2, ticks_share={'user': 0.2, 'system': 0.5, 'irq': 0.3},
              rxe={'sent_pkts': 300000, 'duplicate_request': 7, 'completer_retry_err': 5, 'softnet_dropped': 2},
              top_tasks_s={'rdmigd': 5.0, 'kworker/uN:N-rxe_wq': 3.5, 'qemu-system-xN_N': 1.0}),
        rdmig('rdmig-pinall', 'a', 10000),  # an old rdmigd: no phases at all
        rdmig('rdmig', 'd', 1700, ram_bytes=128 * MIB, downtime_ms=200, rounds=ROUNDS_D),
        module('clear-256m', 'new', **{'clear.scattered_us': 8000, 'clear.dense_us': 2000,
                                       'clear_words.scattered_us': 6000, 'clear_words.scattered_us_per_page': 6.0}),
        module('clear-65536m', 'new', **{'clear.scattered_us': 12000, 'clear.dense_us': 4000,
                                         'clear_words.scattered_us': 6600, 'clear_words.scattered_us_per_page': 6.6}),
        module('clear-256m-w', 'new', **{'clear.scattered_us': 10000, 'clear.dense_us': 5000}),
    ]
    if floor:
        recs += [module('floor-256m', 'new', **{'floor.mib': 256, 'floor.dirty': 1000, 'floor.writer': 0,
                                                'floor.mprotect_us_per_page': 1.5}),
                 module('floor-256m-w', 'new', **{'floor.mib': 256, 'floor.dirty': 1000, 'floor.writer': 1,
                                                  'floor.mprotect_us_per_page': 3.3})]
    else:
        recs += [{'system': 'module', 'scenario': s, 'path': 'new', 'result': 'unsupported',
                  'reason': 'bench_dirty has no floor command', 'case_s': 0}
                 for s in ('floor-256m', 'floor-256m-w')]
    return recs


def run_report(recs, files=None):
    d = tempfile.mkdtemp(prefix='rdmig-test-report.')
    for name, content in (files or {}).items():
        with open(os.path.join(d, name), 'w') as f:
            f.write(content)
    with open(os.path.join(d, 'records.jsonl'), 'w') as f:
        for r in recs:
            f.write(json.dumps(r) + '\n')
    p = subprocess.run([sys.executable, os.path.join(HERE, 'report.py'), d, d, 'make bench', 'DATE', '1 min 0 s'],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f'report.py exited {p.returncode}: {p.stderr}')
    with open(os.path.join(d, 'latest.json')) as f:
        js = json.load(f)
    with open(os.path.join(d, 'latest.md')) as f:
        mdtext = f.read()
    return d, p.stdout, js, mdtext


def target(js, prefix):
    m = [t for t in js['targets'] if t['target'].startswith(prefix)]
    assert len(m) == 1, f'{len(m)} targets start with {prefix!r}'
    return m[0]


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d, cls.out, cls.js, cls.md = run_report(base_records())

    def phase_row(self, system, scen):
        for line in self.md.splitlines():
            if line.startswith(f'| {system} | {scen} | ') and '%' in line or \
                    line.startswith(f'| {system} | {scen} | ') and line.count(' - ') >= 11:
                return [c.strip() for c in line.strip('|').split('|')]
        self.fail(f'no phases row for {system} {scen}:\n{self.md}')

    def test_phases_table(self):
        self.assertIn("Where rdmig's time goes", self.md)
        row = self.phase_row('rdmig', 'a')
        self.assertEqual(row[2], '13200')
        self.assertEqual(row[3 + 6], '8052 (61%)')  # cq_wait
        self.assertEqual(row[-3:], ['900', '120', '-'])  # dst pin, answer, release (absent)

    def test_phases_absent_prints_dash(self):
        row = self.phase_row('rdmig-pinall', 'a')
        self.assertEqual(row[3:], ['-'] * 14)

    def test_limit_column_largest_phase(self):
        t = target(self.js, 'rdmig dynamic total <= 1.0 x rdmig pin-all, (a)')
        self.assertEqual(t['verdict'], 'not met')
        self.assertEqual(t['limit'], 'cq_wait 61 % of 13.2 s')
        self.assertIn('limit (measured)', self.md)

    def test_rate_limit_shows_the_guests_cpu(self):
        t = target(self.js, 'rdmig dynamic data rate >= 0.95 x ib_write_bw')
        self.assertEqual(t['verdict'], 'not met')  # 256 MiB in 13.1 s against 0.4 Gb/s
        self.assertEqual(t['limit'], 'cq_wait 61 % of 13.2 s; rdmig: 1.80 CPUs busy, irq 30 % system 50 % '
                                     'user 20 %, rxe retries 12; ib_write_bw: 1.10 CPUs busy, irq 60 % '
                                     'system 30 % user 10 %, rxe retries 0')

    def test_qemu_rdma_target_shows_the_link_floor(self):
        recs = base_records() + [dict(rdmig('qemu-rdma', 'a', 5000, setup_ms=100))]
        _, _, js, _ = run_report(recs)
        t = target(js, 'rdmig dynamic total <= 0.5 x QEMU RDMA dynamic, (a)')
        self.assertEqual(t['verdict'], 'not met')  # 13200 / 5000
        # 256 MiB in 4.9 s: 0.438 Gb/s against the link's 0.4
        self.assertTrue(t['limit'].startswith('QEMU RDMA moves 1.10 x ib_write_bw 1 MiB 1 QP (0.438 / 0.4 Gb/s): '
                                              'half its time needs 2.19 x the link; cq_wait 61 %'), t['limit'])

    def test_cpu_table(self):
        self.assertIn("### Where the guest's CPU goes", self.md)
        rows = [line for line in self.md.splitlines() if line.startswith('| rdmig | a | 14.0 |')]
        self.assertEqual(len(rows), 1, self.md)
        self.assertEqual([c.strip() for c in rows[0].strip('|').split('|')][3:],
                         ['1.80', '20', '50', '30', '300000', '12', '2',
                          'rdmigd 5.0, kworker/uN:N-rxe_wq 3.5, qemu-system-xN_N 1.0'])
        # a record without the split (an old bench) has no row
        self.assertFalse([line for line in self.md.splitlines() if line.startswith('| rdmig-pinall | a | ')
                          and 'CPUs' in line])

    def test_downtime_limit_splits_rdmigd_from_qemu(self):
        recs = [r for r in base_records() if not (r['system'] == 'rdmig' and r['scenario'] == 'd')]
        recs.append(rdmig('rdmig', 'd', 1357, downtime_ms=527, rdmig_downtime_ms=244, source_downtime_ms=421,
                          dst_phases_ms={'pin': 348, 'answer': 11, 'release': 60}))
        _, _, js, _ = run_report(recs)
        t = target(js, 'rdmig dynamic downtime on (d)')
        self.assertEqual(t['verdict'], 'not met')
        self.assertEqual(t['limit'], 'rdmigd 244 ms (pause to its ack; destination unpinning 60 ms), '
                                     'QEMU device state 177 ms, completed to resume 106 ms')

    def test_module_profile_section(self):
        prof = ('## bench_dirty clear 256 1000 60 (new path): samples under rdmig_get_dirty, by symbol\n'
                '# Samples: 900  of event \'cpu-clock\'\n'
                + ''.join(f'    {20 - i}.00%  [k] sym{i}\n' for i in range(12)) +
                '## bench_dirty clear 65536 1000 60 (new path): samples under rdmig_get_dirty, by symbol\n'
                '# Samples: 1500  of event \'cpu-clock\'\n'
                '    40.00%  [k] xas_load\n')
        _, _, _, mdtext = run_report(base_records(), {'profile-module.txt': prof})
        sec = mdtext.split('### Profile: get-and-clear, 256 MiB against 64 GiB', 1)[1]
        self.assertIn('bench_dirty clear 256 1000 60', sec)
        self.assertIn('# Samples: 900', sec)
        self.assertIn('sym9\n', sec)
        self.assertNotIn('sym10', sec)  # ten symbols a size
        self.assertIn('# Samples: 1500', sec)
        self.assertIn('40.00%  [k] xas_load', sec)
        self.assertNotIn('### Profile: get-and-clear', self.md)  # none without the file

    def test_limit_column_met_is_dash(self):
        t = target(self.js, 'rdmig dynamic downtime on (d)')
        self.assertEqual(t['verdict'], 'met')
        self.assertEqual(t['limit'], '-')

    def test_clear_target_on_words_path(self):
        t = target(self.js, 'get-and-clear 1000 scattered pages: 64 GiB')
        self.assertIn('words path', t['target'])
        self.assertEqual(t['ratio'], '1.10 (<= 1.2)')  # 6600 / 6000; the bitmap's is 1.50
        self.assertEqual(t['verdict'], 'met')
        info = target(self.js, '(info) get-and-clear 1000 scattered pages: 64 GiB')
        self.assertEqual(info['ratio'], '1.50 (<= 1.2)')

    def test_clear_target_splits_size_from_spread(self):
        recs = [r for r in base_records() if r.get('scenario') != 'clear-65536m']
        recs.append(module('clear-65536m', 'new', **{'clear_words.scattered_us': 11100,
                                                     'clear_words.scattered_us_per_page': 11.1,
                                                     'clear_words.first256m_us': 6300}))
        _, _, js, _ = run_report(recs)
        t = target(js, 'get-and-clear 1000 scattered pages: 64 GiB')
        self.assertEqual(t['verdict'], 'not met')  # 11100 / 6000
        self.assertIn('in the 64 GiB region 6300 us: size 1.05, spread 1.76', t['limit'])

    def test_writer_target_shows_floor(self):
        t = target(self.js, 'get-and-clear per page, 1000 dense pages, writer')
        self.assertEqual(t['verdict'], 'not met')  # 5000 / 2000
        self.assertEqual(t['limit'], 'mprotect floor 2.20 (3.3 / 1.5 us/page)')

    def test_floor_unsupported(self):
        _, _, js, _ = run_report(base_records(floor=False))
        t = target(js, 'get-and-clear per page, 1000 dense pages, writer')
        self.assertEqual(t['limit'], 'floor: unsupported by this bench_dirty')

    def test_timeline_from_rounds(self):
        with open(os.path.join(self.d, 'timeline-rdmig.dat')) as f:
            pts = [tuple(float(x) for x in line.split()) for line in f]
        # the start (sent + left of round 1), then one point a round; the
        # rate: dirty bytes over the round's length (4 MiB in 1 s, 1 MiB in 0.5 s)
        self.assertEqual(pts, [(0.0, 132.0, 0.0), (1.0, 4.0, 4.0), (1.5, 1.0, 2.0), (1.7, 0.0, 0.0)])

    def test_table_printed_once(self):
        self.assertEqual(self.out.count('targets (issues 12, 13)'), 1)


if __name__ == '__main__':
    unittest.main()
