"""Data folders shipped inside installed packages, found without importing the package.

The MISP data packages (``pymispwarninglists``, ``pymispgalaxies``) import jsonschema when
imported, which costs a second; only their files are needed, so their location is looked up.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["package_data"]


def package_data(package: str, *parts: str) -> Path | None:
    """The path ``parts`` inside the installed ``package`` (not imported), or None when the
    package is not installed.

    Args:
        package: the import name, such as ``pymispgalaxies``.
        *parts: the path inside the package folder, such as ``"data", "misp-galaxy"``.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)), *parts)
