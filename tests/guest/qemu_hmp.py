#!/usr/bin/env python3
# One HMP command over a QEMU QMP socket, its output on stdout: the
# --pause-at-resume check of 61-qemu.sh runs it while the guest is paused,
# where QEMU's own Python library (qmp_steps.py) takes too long to import
# under nested TCG. Plain sockets and json: a QMP client this small needs
# nothing else.  usage: qemu_hmp.py SOCKET COMMAND
import json
import socket
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: qemu_hmp.py SOCKET COMMAND")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(sys.argv[1])
    f = s.makefile("rw")

    def reply():
        while True:
            line = f.readline()
            if not line:
                sys.exit("qemu_hmp: QEMU closed the monitor")
            msg = json.loads(line)
            if "return" in msg:
                return msg["return"]
            if "error" in msg:
                sys.exit("qemu_hmp: " + msg["error"]["desc"])
            # greeting and events: skip

    json.loads(f.readline())  # the greeting
    for cmd in ({"execute": "qmp_capabilities"},
                {"execute": "human-monitor-command",
                 "arguments": {"command-line": sys.argv[2]}}):
        f.write(json.dumps(cmd) + "\n")
        f.flush()
        ret = reply()
    sys.stdout.write(ret)


main()
