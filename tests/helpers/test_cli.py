"""The subprocess helpers run the package found on the child's ``sys.path``, not the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from actorgraph import __version__
from tests.helpers.cli import ag, run_python
from tests.helpers.staged import staged_package


def test_a_staged_package_on_pythonpath_is_what_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staged = f"{__version__}+staged"
    monkeypatch.setenv("PYTHONPATH", str(staged_package(tmp_path / "stage", staged)))
    assert ag(tmp_path / "home", "--version").stdout.strip() == f"actorgraph {staged}"
    code = "import actorgraph; print(actorgraph.__version__)"
    assert run_python("-c", code, check=True).stdout.strip() == staged
