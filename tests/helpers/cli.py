"""Run the real ``actorgraph`` command line, or Python code that imports the package, in a
subprocess.

Every child runs in an empty working directory, :data:`WORKDIR`: ``python -m`` and ``python -c``
put the working directory first on ``sys.path``, where the repository root's own folders would
shadow the installed package (or a staged copy of it on ``PYTHONPATH``), and the CLI reads a
``.env`` from there. So a test passes only what the package itself provides, and every path it
gives a child must be absolute.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

__all__ = ["CLI", "WORKDIR", "ag", "ag_background", "cli_env", "run_python", "start_python"]

# Made once per test process, removed when it exits; nothing should ever be written there.
_WORKDIR = tempfile.TemporaryDirectory(prefix="actorgraph-cwd-")
WORKDIR = Path(_WORKDIR.name)

CLI = ("-m", "actorgraph.cli")


def cli_env(home: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment for a CLI child on the embedded store of ``home``.

    ``NEO4J_*`` and ``ACTORGRAPH_NEO4J_*`` variables are removed (the test says which store the
    child uses, not the shell it runs in), then ``env`` is added, e.g. ``neo4j_env(config)``.
    """
    child = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("NEO4J_", "ACTORGRAPH_NEO4J_"))
    }
    child["ACTORGRAPH_HOME"] = str(Path(home).resolve())
    child.update(env or {})
    return child


def run_python(
    *args: str,
    env: Mapping[str, str] | None = None,
    check: bool = False,
    timeout: float = 120,
    preexec_fn: Callable[[], object] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` (``-c CODE ...`` or ``-m MODULE ...``) in :data:`WORKDIR`, run to its end.

    Args:
        *args: the interpreter's arguments.
        env: the child's whole environment; ``None``: this process's.
        check: a non-zero exit fails the test, quoting the child's stderr.
        timeout: seconds before the child is killed and ``TimeoutExpired`` raised.
        preexec_fn: run in the child before the interpreter starts (e.g. ``setrlimit``).

    Returns:
        The finished process, its stdout and stderr captured as text.
    """
    proc = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=WORKDIR,
        timeout=timeout,
        preexec_fn=preexec_fn,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}: {proc.stderr}")
    return proc


def start_python(*args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """``python ARGS`` started in :data:`WORKDIR` in the background, stdout and stderr piped.

    ``PYTHONUNBUFFERED`` is set: a test that reads the child's output as it runs sees each line
    when it is written.
    """
    return subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"},
        cwd=WORKDIR,
    )


def ag(
    home: Path,
    *args: str,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``actorgraph ARGS`` on the store :func:`cli_env` gives it, run to its end.

    With ``check``, a non-zero exit fails the test, quoting the CLI's stderr.
    """
    return run_python(*CLI, *args, env=cli_env(home, env), check=check, timeout=timeout)


def ag_background(
    home: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.Popen[str]:
    """``actorgraph ARGS`` started in the background (see :func:`start_python`)."""
    return start_python(*CLI, *args, env=cli_env(home, env))
