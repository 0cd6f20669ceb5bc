"""Run the real `actorgraph` command line in a subprocess, on the embedded store under ``home``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.paths import ROOT


def ag(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``actorgraph ARGS`` with ``ACTORGRAPH_HOME=home``; with ``check``, a non-zero exit fails."""
    env = {**os.environ, "ACTORGRAPH_HOME": str(home)}
    env.pop("NEO4J_URI", None)
    proc = subprocess.run(
        [sys.executable, "-m", "actorgraph.cli", *args],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}: {proc.stderr}")
    return proc
