#!/usr/bin/env python3
"""Opens COUNT MLLP connections to HOST:PORT, sends one message on each (MSH-10 made unique)
and reads its ACK, then keeps them all open and silent until SIGTERM or SIGINT.

    idle_connections.py HOST PORT COUNT MESSAGE_FILE

Prints "idle_connections: COUNT connections open, each acknowledged" once every ACK has come
(the benchmark driver then measures the server), or exits 1 if a connection or an ACK fails.
It needs COUNT + a few file descriptors (the driver raises RLIMIT_NOFILE). Standard library only.
"""
import signal
import socket
import sys
import time


def with_control_id(message: bytes, control_id: bytes) -> bytes:
    """The message with MSH-10 replaced (MSH-1, the field separator, is byte 3)."""
    end = message.find(b"\r")
    msh, rest = (message, b"") if end < 0 else (message[:end], message[end:])
    separator = msh[3:4]
    fields = msh.split(separator)  # fields[0] "MSH", fields[1] MSH-2, ..., fields[9] MSH-10
    fields[9] = control_id
    return separator.join(fields) + rest


def main() -> int:
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    host, port, count, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    with open(path, "rb") as f:
        message = f.read().replace(b"\r\n", b"\r").replace(b"\n", b"\r").rstrip(b"\r") + b"\r"
    run = str(int(time.time())).encode()
    connections = []
    # Connect and send on every connection first, then read every ACK: the messages arrive
    # together, as from many senders at once.
    for i in range(count):
        s = socket.create_connection((host, port), timeout=60)
        s.sendall(b"\x0b" + with_control_id(message, b"IDLE" + run + b"-" + str(i).encode()) + b"\x1c\r")
        connections.append(s)
    for i, s in enumerate(connections):
        ack = b""
        while not ack.endswith(b"\x1c\r"):
            chunk = s.recv(65536)
            if not chunk:
                print(f"idle_connections: connection {i} closed before its ACK", file=sys.stderr)
                return 1
            ack += chunk
        if b"\rMSA|AA|" not in ack and b"\rMSA|CA|" not in ack:
            print(f"idle_connections: connection {i}: not accepted: {ack[:200]!r}", file=sys.stderr)
            return 1
    print(f"idle_connections: {count} connections open, each acknowledged", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    for s in connections:
        s.close()
    return 0


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    sys.exit(main())
