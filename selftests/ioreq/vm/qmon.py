#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""qmon.py [--map SYSTEM.MAP] SOCKET CMD...: send each CMD to a QEMU human
monitor on a unix SOCKET and print what it answers; with --map, follow
each "RIP=" with the kernel symbol it falls in (the guest boots with
nokaslr).  vmtest.sh dumps a guest that is about to time out with it
("info registers -a"), so that a silent hang still says where each vcpu
was."""
import bisect
import re
import socket
import sys
import time

ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def read_until_prompt(s, limit):
    buf = b""
    end = time.monotonic() + limit
    while not buf.endswith(b"(qemu) ") and time.monotonic() < end:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            break
        buf += chunk
    return ESCAPES.sub("", buf.decode(errors="replace").replace("\r", ""))


def load_map(path):
    addrs, names = [], []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[1] in "tTwW":
                addrs.append(int(parts[0], 16))
                names.append(parts[2])
    order = sorted(range(len(addrs)), key=addrs.__getitem__)
    return [addrs[i] for i in order], [names[i] for i in order]


def symbolize(text, smap):
    addrs, names = smap

    def one(m):
        rip = int(m.group(1), 16)
        i = bisect.bisect_right(addrs, rip) - 1
        if i < 0 or rip - addrs[i] > 0x100000:
            return m.group(0)
        return "%s (%s+0x%x)" % (m.group(0), names[i], rip - addrs[i])
    return re.sub(r"RIP=([0-9a-f]{16})", one, text)


def main():
    args = sys.argv[1:]
    smap = None
    if len(args) >= 2 and args[0] == "--map":
        try:
            smap = load_map(args[1])
        except OSError:
            smap = None
        args = args[2:]
    if len(args) < 2:
        sys.stderr.write("usage: qmon.py [--map SYSTEM.MAP] SOCKET CMD...\n")
        return 2
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1)
    s.connect(args[0])
    read_until_prompt(s, 10)
    for cmd in args[1:]:
        s.sendall(cmd.encode() + b"\n")
        # The echo of the command comes first, the prompt last.
        out = "\n".join(read_until_prompt(s, 30).split("\n")[1:-1])
        print("## " + cmd)
        print(symbolize(out, smap) if smap else out)
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
