"""``actorgraph serve`` in its own process, for tests that speak HTTP to the real server.

Use :func:`serve` as a context manager (or inside a fixture)::

    with serve(home, "--no-model", env={"ACTORGRAPH_GRAPH": graph}) as server:
        httpx.get(f"{server.base}/healthz")

It starts the CLI on a free localhost port, waits for an answer from ``/healthz`` within a
deadline, and stops the process on the way out: SIGTERM first (the server shuts down cleanly and
closes the store it opened), SIGKILL if it does not exit in time. The server's output goes to a
temporary file rather than a pipe (a pipe nobody reads fills up and blocks the server); it is
quoted when the server fails to start, and attached to any error raised inside the ``with``.

Like every child a test starts, the server runs in :data:`tests.helpers.cli.WORKDIR`, an empty
working directory, so the installed or staged package is what serves, and its environment comes
from :func:`tests.helpers.cli.cli_env`.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.helpers.cli import CLI, WORKDIR, cli_env

__all__ = ["ServeProcess", "serve"]

# How much of the server's output an error quotes.
OUTPUT_TAIL = 4000


def _free_port() -> int:
    """A TCP port free on localhost right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServeProcess:
    """A running ``actorgraph serve``: its base URL, its process, its output so far."""

    def __init__(self, proc: subprocess.Popen[bytes], base: str, log: IO[bytes]) -> None:
        self.proc = proc
        self.base = base
        self._log = log

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.proc.pid

    def output(self) -> str:
        """What the server has written to stdout and stderr so far (the last few KB)."""
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-OUTPUT_TAIL:]

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then SIGKILL if the server has not exited within ``timeout`` seconds.

        Returns:
            The exit status (0 after a clean shutdown; negative for a signal).
        """
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@contextmanager
def serve(
    home: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    ready_within: float = 60,
) -> Iterator[ServeProcess]:
    """Run ``actorgraph serve --port <free port> *args`` on the data directory ``home``.

    Args:
        home: the server's ``ACTORGRAPH_HOME`` (its embedded store, keys and models).
        *args: further ``serve`` arguments, e.g. ``"--no-model"``, ``"--workers", "2"``.
        env: extra environment variables (``ACTORGRAPH_*`` settings). ``NEO4J_*`` and
            ``ACTORGRAPH_NEO4J_*`` are removed from the inherited environment (see
            :func:`~tests.helpers.cli.cli_env`): the server serves the embedded store of ``home``.
        ready_within: seconds to wait for ``/healthz`` to answer 200.

    Yields:
        The running server; it is stopped (SIGTERM, then SIGKILL) when the block ends.

    Raises:
        pytest.fail.Exception: the server exited or did not answer in time (with its output).
    """
    port = _free_port()
    command = [sys.executable, *CLI, "serve", "--port", str(port), *args]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            command, cwd=WORKDIR, env=cli_env(home, env), stdout=log, stderr=subprocess.STDOUT
        )
        server = ServeProcess(proc, f"http://127.0.0.1:{port}", log)
        try:
            _wait_until_healthy(server, ready_within)
            yield server
        except Exception as exc:
            exc.add_note(f"actorgraph serve output (pid {server.pid}):\n{server.output()}")
            raise
        finally:
            server.stop()


def _wait_until_healthy(server: ServeProcess, within: float) -> None:
    """Poll ``/healthz`` until it answers 200; fail with the output if the server dies or stalls."""
    deadline = time.monotonic() + within
    while True:
        if server.proc.poll() is not None:
            pytest.fail(
                f"actorgraph serve exited with {server.proc.returncode}:\n{server.output()}",
                pytrace=False,
            )
        try:
            if httpx.get(f"{server.base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            server.proc.kill()
            server.proc.wait()
            pytest.fail(
                f"actorgraph serve did not answer within {within:.0f} s:\n{server.output()}",
                pytrace=False,
            )
        time.sleep(0.1)
