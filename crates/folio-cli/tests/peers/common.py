"""Shared by the peer servers: the `--records N` argument, the dataset, and the listening socket.

Each server builds the same N records: id 1..N (integer primary key), name "record {i}",
score i % 7 (a sort key with many ties) and weight i / 4 (a float), null for every fifth record.
It binds 127.0.0.1 port 0, listens, then prints `listening on http://127.0.0.1:PORT` as its
first line on stdout. On SIGTERM it exits cleanly, removing its temporary directory (SIGKILL,
as the tests send, leaves that to them: they point TMPDIR at a directory of their own).
"""

import argparse
import signal
import socket
import sys


def records_arg() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, required=True)
    return parser.parse_args().records


def rows(n: int) -> list[tuple[int, str, int, float | None]]:
    """(id, name, score, weight) for ids 1..n."""
    return [(i, f"record {i}", i % 7, None if i % 5 == 0 else i / 4) for i in range(1, n + 1)]


def listen() -> socket.socket:
    """A socket bound to a free port of 127.0.0.1, already listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def announce(port: int) -> None:
    print(f"listening on http://127.0.0.1:{port}", flush=True)


def exit_on_sigterm() -> None:
    """SIGTERM raises SystemExit, so that temporary directories are removed (uvicorn restores
    this handler and raises the signal again once it has shut down)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
