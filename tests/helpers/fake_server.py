"""A stand-in for redis-server that misbehaves on purpose: the embedded store's start-up check
and client timeouts are tested against a real process on a real unix socket.

``start_with(tmp_path, mode)`` writes an executable that ``embedded.start`` can launch in place
of redis-server (``tests/graph/store/test_unresponsive.py`` swaps it in). It takes the same
arguments, listens on ``--unixsocket`` and, by ``mode``:

- ``silent``: accepts connections and reads what they send, and never replies;
- ``loading``: replies ``-LOADING`` (redis' answer while it reads its data) for
  ``LOADING_S`` seconds, then ``+PONG`` to every command but ``HELLO``;
- ``engine-silent``: replies ``+PONG`` at once to every command but ``HELLO``, and nothing to
  a ``GRAPH.*`` command (the server answers, its graph engine does not).
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from pathlib import Path

from tests.helpers.paths import ROOT

LOADING_S = 2.0


def executable(folder: Path, mode: str) -> Path:
    """An executable file in ``folder`` that runs this stand-in in ``mode``."""
    path = folder / f"fake-redis-server-{mode}"
    path.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from tests.helpers.fake_server import main\n"
        f"main({mode!r}, sys.argv[1:])\n"
    )
    path.chmod(0o700)
    return path


def main(mode: str, args: list[str]) -> None:
    """Serve ``--unixsocket`` in ``mode`` until killed."""
    path = args[args.index("--unixsocket") + 1]
    started = time.monotonic()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=_serve, args=(conn, mode, started), daemon=True).start()


def _serve(conn: socket.socket, mode: str, started: float) -> None:
    with conn:
        while data := conn.recv(65536):
            if mode == "silent" or (mode == "engine-silent" and b"GRAPH." in data.upper()):
                continue
            # One reply per command: a client may send several at once (its handshake).
            commands = data.count(b"\r\n*") + data.startswith(b"*")
            if mode == "loading" and time.monotonic() - started < LOADING_S:
                conn.sendall(b"-LOADING Redis is loading the dataset in memory\r\n" * commands)
            elif b"HELLO" in data.upper():  # no RESP3 here: the client falls back to RESP2
                conn.sendall(b"-ERR unknown command 'HELLO'\r\n")
            else:
                conn.sendall(b"+PONG\r\n" * commands)
