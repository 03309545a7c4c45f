#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Runs QMP steps against QEMU with QEMU's own Python QMP library
(qemu.qmp.QMPClient; scripts/fetch-qemu-qmp.sh puts it in the cache,
PYTHONPATH points there).

    qmp_steps.py [--timeout S] SOCKET STEP...
        one connection for all the steps, then exit.
    qmp_steps.py --serve FIFO
        a server for tests/qemu/qemu-lib.sh: starting python3 and importing
        asyncio and the library takes seconds under nested TCG, so one
        process serves the whole suite. Each request written to FIFO is
        "SOCKET\\nRESULT-FILE\\nSTEP\\n...\\n\\n"; the output goes to
        RESULT-FILE, then RESULT-FILE.rc gets the exit code. A connection
        stays open per SOCKET (reopened when QEMU went away) and its events
        are kept, so an event a step waits for is seen even when it came
        before that step. The step "@drop" closes SOCKET's connection.

A STEP is one of
    COMMAND [JSON-ARGUMENTS]      execute; print {"command":..,"return":..}
    !COMMAND [JSON-ARGUMENTS]     the same, but the command must FAIL
                                  (prints the error class and description)
    @hmp TEXT                     human-monitor-command; print its output
    @wait EVENT [KEY=VALUE...] [timeout=S]
                                  wait for the next event of that name whose
                                  data has those values and print it; it and
                                  the events before it are used up
    @clear                        forget the events received so far
    @migrate-wait STATUS[,STATUS] [timeout=S]
                                  poll query-migrate until its status is one of
                                  them; print the final query-migrate; a status
                                  of failed or cancelled that was not asked for
                                  fails the step at once
    @status STATUS [timeout=S]    poll query-status until "status" is STATUS
    @sleep S                      wait S seconds (events keep being collected)

Each printed line is one JSON object. Exit code 0 when every step held, 1
with the reason (a "qmp_steps: ..." line) otherwise, 2 when the socket
never answered.
"""
import asyncio
import json
import os
import sys
import time

from qemu.qmp import QMPClient, ExecuteError, Runstate


class StepFailed(Exception):
    def __init__(self, msg, code=1):
        super().__init__(msg)
        self.code = code


def kv(words):
    """KEY=VALUE words into (match dict, timeout)."""
    match, timeout = {}, 60.0
    for w in words:
        if '=' not in w:
            raise StepFailed(f"'{w}': expected KEY=VALUE")
        k, v = w.split('=', 1)
        if k == 'timeout':
            timeout = float(v)
        else:
            match[k] = v
    return match, timeout


class Conn:
    """One QMP connection and the events it received."""

    def __init__(self, path):
        self.path = path
        self.client = None
        self.events = []
        self.task = None

    def alive(self):
        return self.client is not None and self.client.runstate == Runstate.RUNNING

    async def open(self, timeout):
        await self.close()
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end:
            if os.path.exists(self.path):
                c = QMPClient(os.path.basename(self.path))
                try:
                    await c.connect(self.path)
                    self.client = c
                    self.events = []
                    self.task = asyncio.get_running_loop().create_task(self.collect())
                    return
                except Exception as e:  # not listening yet, or busy
                    last = e
            await asyncio.sleep(0.1)
        raise StepFailed(f"{self.path}: no QMP server answered in {timeout:.0f} s ({last})", 2)

    async def collect(self):
        async for ev in self.client.events:
            self.events.append(ev)

    async def close(self):
        if self.task:
            self.task.cancel()
            self.task = None
        if self.client:
            try:
                await self.client.disconnect()
            except Exception:  # QEMU quit or was killed
                pass
            self.client = None


async def run_steps(conn, steps, out, timeout):
    if not conn.alive():
        await conn.open(timeout)
    c = conn.client
    for step in steps:
        words = step.split(None, 1)
        head = words[0]
        rest = words[1] if len(words) > 1 else ''
        if head == '@drop':
            await conn.close()
            return
        if head == '@clear':
            conn.events.clear()
        elif head == '@hmp':
            r = await c.execute('human-monitor-command', {'command-line': rest})
            out({'hmp': rest, 'output': r})
        elif head == '@sleep':
            await asyncio.sleep(float(rest))
        elif head == '@wait':
            parts = rest.split()
            if not parts:
                raise StepFailed("@wait needs an event name")
            name = parts[0]
            match, tmo = kv(parts[1:])
            end = time.monotonic() + tmo
            found = None
            while found is None:
                for i, ev in enumerate(conn.events):
                    data = ev.get('data', {})
                    if ev['event'] == name and all(str(data.get(k)) == v
                                                   for k, v in match.items()):
                        found = ev
                        del conn.events[:i + 1]
                        break
                if found is None:
                    if time.monotonic() > end:
                        got = [(e['event'], e.get('data')) for e in conn.events][-8:]
                        raise StepFailed(f"no {name} {match} within {tmo:.0f} s "
                                         f"(events not used yet: {got})")
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
                    raise StepFailed(f"migration {st}: {info.get('error-desc', '')}")
                if time.monotonic() > end:
                    out({'query-migrate': info})
                    raise StepFailed(f"migration still '{st}' after {tmo:.0f} s "
                                     f"(wanted {sorted(want)})")
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
                    raise StepFailed(f"status '{st.get('status')}' after {tmo:.0f} s, "
                                     f"wanted {parts[0]}")
                await asyncio.sleep(0.1)
        else:
            must_fail = head.startswith('!')
            cmd = head.lstrip('!')
            try:
                args = json.loads(rest) if rest else None
            except ValueError as e:
                raise StepFailed(f"{cmd}: arguments are not JSON ({e}): {rest}")
            try:
                r = await c.execute(cmd, args)
            except ExecuteError as e:
                if not must_fail:
                    raise StepFailed(f"{cmd} failed: {e.error_class}: {e}")
                out({'command': cmd, 'error': e.error_class, 'desc': str(e)})
                continue
            if must_fail:
                raise StepFailed(f"{cmd} succeeded but should have failed: {json.dumps(r)}")
            out({'command': cmd, 'return': r})


async def guarded(conn, steps, out, err, timeout):
    """Runs the steps; returns the exit code, the reason written to err."""
    try:
        await run_steps(conn, steps, out, timeout)
        return 0
    except StepFailed as e:
        err(f"qmp_steps: {e}")
        return e.code
    except Exception as e:  # the connection broke (QEMU died), a bug
        err(f"qmp_steps: {conn.path}: {type(e).__name__}: {e}")
        await conn.close()
        return 1


def printer(f):
    def out(obj):
        print(json.dumps(obj, sort_keys=True), file=f, flush=True)
    return out


async def one_shot(path, steps, timeout):
    conn = Conn(path)
    rc = await guarded(conn, steps, printer(sys.stdout),
                       lambda m: print(m, file=sys.stderr, flush=True), timeout)
    await conn.close()
    return rc


async def serve(fifo):
    conns = {}
    # O_RDWR: the FIFO never reads end-of-file between writers.
    f = os.fdopen(os.open(fifo, os.O_RDWR), 'r')
    loop = asyncio.get_running_loop()
    while True:
        lines = []
        while True:
            line = await loop.run_in_executor(None, f.readline)
            line = line.rstrip('\n')
            if not line:
                break
            lines.append(line)
        if len(lines) < 2:
            continue
        path, result, steps = lines[0], lines[1], lines[2:]
        if steps == ['@exit']:
            for c in conns.values():
                await c.close()
            return
        conn = conns.setdefault(path, Conn(path))
        with open(result, 'w') as rf:
            rc = await guarded(conn, steps, printer(rf),
                               lambda m: print(m, file=rf, flush=True), 30.0)
        with open(result + '.rc.tmp', 'w') as rcf:
            rcf.write(f"{rc}\n")
        os.rename(result + '.rc.tmp', result + '.rc')


def main():
    args = sys.argv[1:]
    if args[:1] == ['--serve'] and len(args) == 2:
        asyncio.run(serve(args[1]))
        return
    timeout = 30.0
    if args[:1] == ['--timeout']:
        timeout = float(args[1])
        args = args[2:]
    if len(args) < 1 or args[0] in ('-h', '--help'):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(one_shot(args[0], args[1:], timeout)))


if __name__ == '__main__':
    main()
