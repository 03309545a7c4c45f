#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Runs QMP steps against one QEMU with QEMU's own Python QMP library
(qemu.qmp.QMPClient; scripts/fetch-qemu-qmp.sh puts it in the cache,
PYTHONPATH points there). One connection for all the steps, so an event
that a step waits for is seen even when it came before that step.

    qmp_steps.py [--timeout S] SOCKET STEP...

A STEP is one of
    COMMAND [JSON-ARGUMENTS]      execute; print {"command":..,"return":..}
    !COMMAND [JSON-ARGUMENTS]     the same, but the command must FAIL
                                  (prints the error class and description)
    @hmp TEXT                     human-monitor-command; print its output
    @wait EVENT [KEY=VALUE...] [timeout=S]
                                  wait for the event (since the connection
                                  opened) whose data has those values; print it
    @migrate-wait STATUS[,STATUS] [timeout=S]
                                  poll query-migrate until its status is one of
                                  them; print the final query-migrate; a status
                                  of failed or cancelled that was not asked for
                                  fails the step at once
    @status STATUS [timeout=S]    poll query-status until "status" is STATUS
    @sleep S                      wait S seconds (events keep being collected)

Each printed line is one JSON object. Exits 0 when every step held, 1 with
the reason on stderr otherwise, 2 when the socket never answered.
"""
import asyncio
import json
import os
import sys
import time

from qemu.qmp import QMPClient, ExecuteError


def fail(msg, code=1):
    print(f"qmp_steps: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


def out(obj):
    print(json.dumps(obj, sort_keys=True), flush=True)


def kv(words):
    """KEY=VALUE words into (match dict, timeout)."""
    match, timeout = {}, 60.0
    for w in words:
        if '=' not in w:
            fail(f"'{w}': expected KEY=VALUE")
        k, v = w.split('=', 1)
        if k == 'timeout':
            timeout = float(v)
        else:
            match[k] = v
    return match, timeout


async def connect(path, timeout):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        if os.path.exists(path):
            c = QMPClient(os.path.basename(path))
            try:
                await c.connect(path)
                return c
            except Exception as e:  # not listening yet, or busy
                last = e
        await asyncio.sleep(0.1)
    fail(f"{path}: no QMP server answered in {timeout:.0f} s ({last})", 2)


async def run(path, steps, timeout):
    events = []
    c = await connect(path, timeout)

    async def collect():
        async for ev in c.events:
            events.append(ev)

    collector = asyncio.get_running_loop().create_task(collect())
    try:
        for step in steps:
            words = step.split(None, 1)
            head = words[0]
            rest = words[1] if len(words) > 1 else ''
            if head == '@hmp':
                r = await c.execute('human-monitor-command', {'command-line': rest})
                out({'hmp': rest, 'output': r})
            elif head == '@sleep':
                await asyncio.sleep(float(rest))
            elif head == '@wait':
                parts = rest.split()
                if not parts:
                    fail("@wait needs an event name")
                name = parts[0]
                match, tmo = kv(parts[1:])
                end = time.monotonic() + tmo
                seen = 0
                found = None
                while found is None:
                    for ev in events[seen:]:
                        data = ev.get('data', {})
                        if ev['event'] == name and all(str(data.get(k)) == v
                                                       for k, v in match.items()):
                            found = ev
                            break
                    seen = len(events)
                    if found is None:
                        if time.monotonic() > end:
                            got = [(e['event'], e.get('data')) for e in events][-8:]
                            fail(f"no {name} {match} within {tmo:.0f} s (last events: {got})")
                        await asyncio.sleep(0.05)
                out({'event': found['event'], 'data': found.get('data', {}),
                     'timestamp': found.get('timestamp')})
            elif head == '@migrate-wait':
                parts = rest.split()
                want = set(parts[0].split(','))
                _, tmo = kv(parts[1:])
                end = time.monotonic() + tmo
                while True:
                    info = await c.execute('query-migrate')
                    st = info.get('status')
                    if st in want:
                        out({'query-migrate': info})
                        break
                    if st in ('failed', 'cancelled'):
                        out({'query-migrate': info})
                        fail(f"migration {st}: {info.get('error-desc', '')}")
                    if time.monotonic() > end:
                        out({'query-migrate': info})
                        fail(f"migration still '{st}' after {tmo:.0f} s (wanted {sorted(want)})")
                    await asyncio.sleep(0.1)
            elif head == '@status':
                parts = rest.split()
                _, tmo = kv(parts[1:])
                end = time.monotonic() + tmo
                while True:
                    st = await c.execute('query-status')
                    if st.get('status') == parts[0]:
                        out({'query-status': st})
                        break
                    if time.monotonic() > end:
                        fail(f"status '{st.get('status')}' after {tmo:.0f} s, wanted {parts[0]}")
                    await asyncio.sleep(0.1)
            else:
                must_fail = head.startswith('!')
                cmd = head.lstrip('!')
                try:
                    args = json.loads(rest) if rest else None
                except ValueError as e:
                    fail(f"{cmd}: arguments are not JSON ({e}): {rest}")
                try:
                    r = await c.execute(cmd, args)
                except ExecuteError as e:
                    if not must_fail:
                        fail(f"{cmd} failed: {e.error_class}: {e}")
                    out({'command': cmd, 'error': e.error_class, 'desc': str(e)})
                    continue
                if must_fail:
                    fail(f"{cmd} succeeded but should have failed: {json.dumps(r)}")
                out({'command': cmd, 'return': r})
    finally:
        collector.cancel()
        try:
            await c.disconnect()
        except Exception:  # QEMU quit (a "quit" step) or went away
            pass


def main():
    args = sys.argv[1:]
    timeout = 30.0
    if args[:1] == ['--timeout']:
        timeout = float(args[1])
        args = args[2:]
    if len(args) < 1 or args[0] in ('-h', '--help'):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    asyncio.run(run(args[0], args[1:], timeout))


if __name__ == '__main__':
    main()
