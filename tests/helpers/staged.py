"""A staged copy of the package, for tests that check what a subprocess actually imports."""

from __future__ import annotations

import tomllib
from pathlib import Path

from tests.helpers.paths import ROOT

__all__ = ["staged_package"]


def staged_package(where: Path, version: str) -> Path:
    """The package laid out as installed (pyproject's ``package-dir``) under ``where``.

    Its files are links into the repository, except ``actorgraph/__init__.py``, which says
    ``__version__ = version``: a child that reports ``version`` imported the staged copy.

    Returns:
        ``where``, the folder to put on ``PYTHONPATH``.
    """
    dirs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    package = where / "actorgraph"
    package.mkdir(parents=True)
    for name, folder in dirs["package-dir"].items():
        if name != "actorgraph":
            (package / name.removeprefix("actorgraph.")).symlink_to(ROOT / folder)
    for entry in (ROOT / dirs["package-dir"]["actorgraph"]).iterdir():
        if entry.name not in ("__init__.py", "__pycache__"):
            (package / entry.name).symlink_to(entry)
    init = (ROOT / "actorgraph" / "__init__.py").read_text()
    (package / "__init__.py").write_text(f"{init}\n__version__ = {version!r}\n")
    return where
