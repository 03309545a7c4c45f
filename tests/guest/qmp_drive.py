#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Drives a migration between two rdmigd agents with QEMU's own Python QMP
library (qemu.qmp.QMPClient, from Debian's qemu source package; see
scripts/fetch-qemu-qmp.sh), not with any client of this project.

    qmp_drive.py migrate SRC_SOCK DST_SOCK URI RAM_BYTES
        the whole migration: qmp_capabilities (done by QMPClient),
        query-commands, migrate-set-parameters / query-migrate-parameters,
        migrate, the MIGRATION events, query-migrate while it runs, the
        pause step (migrate-continue), completed on both sides and the
        final figures.
    qmp_drive.py stall SRC_SOCK DST_SOCK URI SECONDS
        a client that floods commands and then stops reading for SECONDS
        while the migration runs: the agent must reach pre-switchover in
        that time (the event's timestamp says when), and the client gets
        every queued message, the final MIGRATION completed included, once
        it reads again.
Prints what it checks; exits 0 when every check held.
"""
import asyncio
import json
import os
import socket
import sys
import time

from qemu.qmp import QMPClient, ExecuteError

failures = 0


def check(cond, what):
    global failures
    print(("ok: " if cond else "FAILED: ") + what, flush=True)
    if not cond:
        failures += 1


async def wait_socket(path, timeout=30.0):
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > end:
            raise TimeoutError(f"{path} never appeared")
        await asyncio.sleep(0.05)


async def next_migration(listener, timeout):
    """The next MIGRATION event (others are collected in passes)."""
    while True:
        ev = await asyncio.wait_for(listener.get(), timeout)
        if ev['event'] == 'MIGRATION':
            return ev
        if ev['event'] == 'MIGRATION_PASS':
            next_migration.passes.append(ev['data']['pass'])
        elif ev['event'] == 'RDMIG_PROGRESS':
            next_migration.progress += 1


next_migration.passes = []
next_migration.progress = 0


async def drive_migrate(src_path, dst_path, uri, ram):
    await wait_socket(dst_path)
    await wait_socket(src_path)
    src, dst = QMPClient('source'), QMPClient('destination')
    # Listeners before connecting: the destination's events held during
    # negotiation come right after it.
    sl_cm, dl_cm = src.listener(), dst.listener()
    sl, dl = sl_cm.__enter__(), dl_cm.__enter__()
    await dst.connect(dst_path)
    await src.connect(src_path)
    g = src.greeting
    check(g is not None and g.QMP.capabilities == [] and
          str(g.QMP.version['package']).startswith('rdmigd'),
          f"QMP greeting understood: version {g.QMP.version['qemu']}, "
          f"package {g.QMP.version['package']!r}")

    names = {c['name'] for c in await src.execute('query-commands')}
    check({'qmp_capabilities', 'query-commands', 'migrate', 'migrate_cancel', 'migrate-continue',
           'query-migrate', 'migrate-set-parameters', 'query-migrate-parameters'} <= names,
          f"query-commands lists the migration commands: {sorted(names)}")
    check(await src.execute('query-migrate') == {}, "query-migrate before migrate is {} (as QEMU)")
    try:
        await src.execute('no-such-command')
        check(False, "an unknown command is refused")
    except ExecuteError as e:
        check(e.error_class == 'CommandNotFound', f"an unknown command: {e.error_class}: {e}")
    try:
        await src.execute('migrate-set-parameters', {'downtime-limit': 'soon'})
        check(False, "a badly typed parameter is refused")
    except ExecuteError as e:
        check(e.error_class == 'GenericError', f"a badly typed parameter: {e.error_class}: {e}")

    await src.execute('migrate-set-parameters', {'downtime-limit': 500, 'max-iterations': 10})
    p = await src.execute('query-migrate-parameters')
    check(p['downtime-limit'] == 500 and p['max-iterations'] == 10,
          f"query-migrate-parameters gives back what was set: {p}")

    if True:
        t0 = time.monotonic()
        check(await src.execute('migrate', {'uri': uri}) == {}, f"migrate {uri} accepted")
        seen = []
        info_active = None
        while True:
            ev = await next_migration(sl, 120)
            st = ev['data']['status']
            seen.append(st)
            if st == 'active' and info_active is None:
                info_active = await src.execute('query-migrate')
            if st == 'pre-switchover':
                # The VM "pauses" at once: its state is already in the pipe.
                check(await src.execute('migrate-continue', {'state': 'pre-switchover'}) == {},
                      "migrate-continue pre-switchover accepted")
            if st in ('completed', 'failed', 'cancelled'):
                final = ev['data']
                break
        elapsed = time.monotonic() - t0
        check(seen == ['setup', 'active', 'pre-switchover', 'device', 'completed'],
              f"source MIGRATION statuses in order: {seen}")
        check(len(next_migration.passes) >= 1 and next_migration.passes == sorted(next_migration.passes),
              f"MIGRATION_PASS events: {next_migration.passes}")
        if info_active is not None:
            check(info_active.get('status') in ('active', 'pre-switchover', 'device') and
                  info_active['ram']['total'] == ram,
                  f"query-migrate while running: status {info_active.get('status')}, "
                  f"ram total {info_active['ram']['total']}")
        ram_f = final.get('ram', {})
        check(final.get('status') == 'completed', f"final status {final.get('status')} "
              f"{final.get('error-desc', '')}")
        check(ram_f.get('total') == ram and ram_f.get('transferred', 0) > 0 and
              ram_f.get('normal', 0) > 0 and ram_f.get('duplicate', 0) > 0,
              f"final ram figures: {json.dumps(ram_f)}")
        check('downtime' in final and 'setup-time' in final and
              0 < final.get('total-time', 0) <= elapsed * 1000 + 1000,
              f"final times: total-time {final.get('total-time')} ms, setup-time "
              f"{final.get('setup-time')} ms, downtime {final.get('downtime')} ms "
              f"(client saw {elapsed * 1000:.0f} ms)")

        dseen = []
        while True:
            ev = await next_migration(dl, 60)
            dseen.append(ev['data']['status'])
            if dseen[-1] in ('completed', 'failed', 'cancelled'):
                break
        check(dseen == ['setup', 'active', 'completed'], f"destination MIGRATION statuses: {dseen}")
    sl_cm.__exit__(None, None, None)
    dl_cm.__exit__(None, None, None)
    for c in (src, dst):
        try:
            await c.disconnect()
        except Exception:  # the agent may have exited first
            pass


def raw_connect(path, timeout=30.0):
    end = time.monotonic() + timeout
    while True:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.monotonic() > end:
                raise
            time.sleep(0.05)


def drive_stall(src_path, dst_path, uri, seconds):
    """Raw socket on purpose: QMPClient always reads; this client stops."""
    s = raw_connect(src_path)
    f = s.makefile('rb')
    greeting = json.loads(f.readline())
    check('QMP' in greeting, "greeting")
    s.sendall(b'{"execute":"qmp_capabilities"}\n')
    check('return' in json.loads(f.readline()), "qmp_capabilities")
    t_migrate = time.time()
    s.sendall(b'{"execute":"migrate","arguments":{"uri":"%s"},"id":"m"}\n' % uri.encode())
    # Flood, then stop reading: the agent's replies fill the socket.
    s.setblocking(False)
    sent = 0
    cmd = b'{"execute":"query-migrate"}\n'
    t_flood = time.monotonic() + 2
    while time.monotonic() < t_flood:
        try:
            sent += s.send(cmd)
        except BlockingIOError:
            time.sleep(0.01)
    print(f"sent {sent // len(cmd)} query-migrate, not reading for {seconds} s", flush=True)
    time.sleep(seconds)
    resumed = time.time()
    s.setblocking(True)
    s.settimeout(120)
    pre = None
    final = None
    replies = 0
    while final is None:
        line = f.readline()
        if not line:
            break
        m = json.loads(line)
        if 'return' in m or 'error' in m:
            replies += 1
            continue
        if m.get('event') != 'MIGRATION':
            continue
        st = m['data']['status']
        ts = m['timestamp']['seconds'] + m['timestamp']['microseconds'] / 1e6
        if st == 'pre-switchover':
            pre = ts
            s.sendall(b'{"execute":"migrate-continue","arguments":{"state":"pre-switchover"}}\n')
        if st in ('completed', 'failed', 'cancelled'):
            final = m
    print(f"read {replies} replies after resuming", flush=True)
    # Replies to the flood were not read before `resumed`: an agent that
    # blocked on them could not have converged before then.
    check(pre is not None and t_migrate < pre < resumed,
          f"pre-switchover reached while the client was not reading "
          f"({(pre or 0) - t_migrate:.2f} s after migrate; the client read again at "
          f"{resumed - t_migrate:.2f} s)")
    check(final is not None and final['data']['status'] == 'completed',
          f"the final MIGRATION event arrived: {final['data']['status'] if final else None}")
    s.close()


def main():
    if len(sys.argv) != 6 or sys.argv[1] not in ('migrate', 'stall'):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    mode, src, dst, uri, n = sys.argv[1:]
    if mode == 'migrate':
        asyncio.run(drive_migrate(src, dst, uri, int(n)))
    else:
        drive_stall(src, dst, uri, float(n))
    print(f"{failures} check(s) failed", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
