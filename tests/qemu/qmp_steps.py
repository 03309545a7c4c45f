#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Runs QMP steps against QEMU: a plain QMP client (a UNIX socket, one JSON
object a line; nothing but the standard library's socket and json, no
asyncio: importing QEMU's own qemu.qmp and asyncio took 8-16 s under
nested TCG, this starts in well under a second).

    qmp_steps.py [--timeout S] SOCKET STEP...
        one connection for all the steps, then exit.
    qmp_steps.py --serve FIFO
        a server for tests/qemu/qemu-lib.sh: starting python3 takes a
        second or more under nested TCG, so one process serves the whole
        suite. Each request written to FIFO is
        "SOCKET\\nRESULT-FILE\\nSTEP\\n...\\n\\n"; the output goes to
        RESULT-FILE, then RESULT-FILE.rc gets the exit code. A connection
        stays open per SOCKET (reopened when QEMU went away) and its events
        are kept, so an event a step waits for is seen even when it came
        before that step (QEMU queues them on the socket until they are read).
        The step "@drop" closes SOCKET's connection (it never opens one:
        a QEMU that is gone costs nothing).

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
                                  them; print the final query-migrate (for
                                  completed: once QEMU filled in total-time,
                                  which 7.2 does just after it reports
                                  completed); a status
                                  of failed or cancelled that was not asked for
                                  fails the step at once
    @status STATUS [timeout=S]    poll query-status until "status" is STATUS
    @sleep S                      wait S seconds (events keep being collected)

Each printed line is one JSON object. Exit code 0 when every step held, 1
with the reason (a "qmp_steps: ..." line) otherwise, 2 when the socket
never answered.
"""

import json
import os
import socket
import sys
import time


class StepFailed(Exception):
    def __init__(self, msg, code=1):
        super().__init__(msg)
        self.code = code


class ExecuteError(Exception):
    def __init__(self, error_class, desc):
        super().__init__(desc)
        self.error_class = error_class


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
        self.sock = None
        self.buf = b''
        self.events = []

    def alive(self):
        return self.sock is not None

    def open(self, timeout):
        self.close()
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end:
            if os.path.exists(self.path):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    s.connect(self.path)
                    self.sock, self.buf, self.events = s, b'', []
                    # A monitor that already has a client never greets.
                    greet = self.read(time.monotonic() + min(5.0, timeout))
                    if greet is None or 'QMP' not in greet:
                        raise OSError(f"no greeting ({greet})")
                    self.execute('qmp_capabilities', None, 10.0)
                    return
                except (OSError, ExecuteError, ValueError) as e:
                    last = e
                    self.close()
            time.sleep(0.1)
        raise StepFailed(f"{self.path}: no QMP server answered in {timeout:.0f} s ({last})", 2)

    def read(self, deadline):
        """The next message, or None at deadline; OSError when QEMU went away."""
        while b'\n' not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not data:
                raise OSError("QEMU closed the monitor")
            self.buf += data
        line, self.buf = self.buf.split(b'\n', 1)
        return json.loads(line) if line.strip() else self.read(deadline)

    def pump(self, secs):
        """Collects the events that arrive within secs."""
        end = time.monotonic() + secs
        while True:
            msg = self.read(end)
            if msg is None:
                return
            if 'event' in msg:
                self.events.append(msg)

    def execute(self, cmd, args=None, timeout=120.0):
        req = {'execute': cmd}
        if args is not None:
            req['arguments'] = args
        self.sock.sendall(json.dumps(req).encode() + b'\n')
        end = time.monotonic() + timeout
        while True:
            msg = self.read(end)
            if msg is None:
                raise StepFailed(f"{cmd}: no reply in {timeout:.0f} s")
            if 'event' in msg:
                self.events.append(msg)
            elif 'return' in msg:
                return msg['return']
            elif 'error' in msg:
                raise ExecuteError(msg['error'].get('class'), msg['error'].get('desc'))

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None


def run_steps(conn, steps, out, timeout):
    if steps[:1] == ['@drop']:
        conn.close()
        return
    if not conn.alive():
        conn.open(timeout)
    c = conn
    for step in steps:
        words = step.split(None, 1)
        head = words[0]
        rest = words[1] if len(words) > 1 else ''
        if head == '@drop':
            conn.close()
            return
        if head == '@clear':
            c.pump(0)
            conn.events.clear()
        elif head == '@hmp':
            r = c.execute('human-monitor-command', {'command-line': rest})
            out({'hmp': rest, 'output': r})
        elif head == '@sleep':
            c.pump(float(rest))
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
                    c.pump(0.05)
            out({'event': found['event'], 'data': found.get('data', {}),
                 'timestamp': found.get('timestamp')})
        elif head == '@migrate-wait':
            parts = rest.split()
            want = set(parts[0].split(','))
            _, tmo = kv(parts[1:])
            end = time.monotonic() + tmo
            while True:
                info = c.execute('query-migrate')
                st = info.get('status')
                # QEMU 7.2 sets "completed" before it computes total-time
                # and downtime (migration_calculate_complete): until then
                # both read 0. The final reply is the one with them.
                early = st == 'completed' and not info.get('total-time') and \
                    time.monotonic() < end
                if st in want and not early:
                    out({'query-migrate': info})
                    break
                if st in ('failed', 'cancelled') and st not in want:
                    out({'query-migrate': info})
                    raise StepFailed(f"migration {st}: {info.get('error-desc', '')}")
                if time.monotonic() > end:
                    out({'query-migrate': info})
                    raise StepFailed(f"migration still '{st}' after {tmo:.0f} s "
                                     f"(wanted {sorted(want)})")
                c.pump(0.02 if early else 0.1)
        elif head == '@status':
            parts = rest.split()
            _, tmo = kv(parts[1:])
            end = time.monotonic() + tmo
            while True:
                st = c.execute('query-status')
                if st.get('status') == parts[0]:
                    out({'query-status': st})
                    break
                if time.monotonic() > end:
                    raise StepFailed(f"status '{st.get('status')}' after {tmo:.0f} s, "
                                     f"wanted {parts[0]}")
                c.pump(0.1)
        else:
            must_fail = head.startswith('!')
            cmd = head.lstrip('!')
            try:
                args = json.loads(rest) if rest else None
            except ValueError as e:
                raise StepFailed(f"{cmd}: arguments are not JSON ({e}): {rest}")
            try:
                r = c.execute(cmd, args)
            except ExecuteError as e:
                if not must_fail:
                    raise StepFailed(f"{cmd} failed: {e.error_class}: {e}")
                out({'command': cmd, 'error': e.error_class, 'desc': str(e)})
                continue
            if must_fail:
                raise StepFailed(f"{cmd} succeeded but should have failed: {json.dumps(r)}")
            out({'command': cmd, 'return': r})


def guarded(conn, steps, out, err, timeout):
    """Runs the steps; returns the exit code, the reason written to err."""
    try:
        run_steps(conn, steps, out, timeout)
        return 0
    except StepFailed as e:
        err(f"qmp_steps: {e}")
        return e.code
    except Exception as e:  # the connection broke (QEMU died), a bug
        err(f"qmp_steps: {conn.path}: {type(e).__name__}: {e}")
        conn.close()
        return 1


def printer(f):
    def out(obj):
        print(json.dumps(obj, sort_keys=True), file=f, flush=True)
    return out


def serve(fifo):
    conns = {}
    # O_RDWR: the FIFO never reads end-of-file between writers.
    f = os.fdopen(os.open(fifo, os.O_RDWR), 'r')
    while True:
        lines = []
        while True:
            line = f.readline().rstrip('\n')
            if not line:
                break
            lines.append(line)
        if len(lines) < 2:
            continue
        path, result, steps = lines[0], lines[1], lines[2:]
        if steps == ['@exit']:
            for c in conns.values():
                c.close()
            return
        conn = conns.setdefault(path, Conn(path))
        with open(result, 'w') as rf:
            rc = guarded(conn, steps, printer(rf),
                         lambda m: print(m, file=rf, flush=True), 30.0)
        with open(result + '.rc.tmp', 'w') as rcf:
            rcf.write(f"{rc}\n")
        os.rename(result + '.rc.tmp', result + '.rc')


def main():
    args = sys.argv[1:]
    if args[:1] == ['--serve'] and len(args) == 2:
        serve(args[1])
        return
    timeout = 30.0
    if args[:1] == ['--timeout']:
        timeout = float(args[1])
        args = args[2:]
    if len(args) < 1 or args[0] in ('-h', '--help'):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    conn = Conn(args[0])
    rc = guarded(conn, args[1:], printer(sys.stdout),
                 lambda m: print(m, file=sys.stderr, flush=True), timeout)
    conn.close()
    sys.exit(rc)


if __name__ == '__main__':
    main()
