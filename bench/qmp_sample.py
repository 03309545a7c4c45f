#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Samples one QEMU's query-migrate every 0.5 s for bench/guest.sh's
timeline (remaining bytes, dirty pages rate), stdlib only: the suites'
QMP helper serves one request at a time, and a long @migrate-wait would
hold the samples back.
    qmp_sample.py SOCKET OUT
Prints "ready" once connected; writes "UNIX-TIME REMAINING DIRTY-RATE" lines
to OUT until the migration completed or failed."""
import json
import socket
import sys
import time

s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile('rw')


def cmd(name):
    f.write(json.dumps({'execute': name}) + '\n')
    f.flush()
    while True:
        m = json.loads(f.readline())
        if 'return' in m or 'error' in m:
            return m.get('return', {})


json.loads(f.readline())  # the greeting
cmd('qmp_capabilities')
print('ready', flush=True)
with open(sys.argv[2], 'w') as out:
    seen = False
    while True:
        r = cmd('query-migrate')
        st = r.get('status')
        if 'ram' in r:
            seen = True
            out.write(f"{time.time():.3f} {r['ram']['remaining']} {r['ram'].get('dirty-pages-rate', 0)}\n")
            out.flush()
        if seen and st in ('completed', 'failed', 'cancelled'):
            break
        time.sleep(0.5)
