"""Run mypy or lint-imports on actorgraph as it is installed, naming the source files.

The package maps top-level folders onto subpackages (setuptools package-dir: graph/ installs as
actorgraph.graph, and so on). The editable install serves that mapping through an import hook,
which neither mypy (it reads the file system, never import hooks) nor import-linter (grimp walks
the top package's folder) can follow. So this script stages a plain copy of the package, laid
out as a wheel would install it, under build/lint/, runs the tool there and rewrites the paths
in its output back to the source folders (actorgraph/graph/store/base.py -> graph/store/base.py).

Usage:
    python tools/lint_tree.py mypy [MYPY ARGS...]
    python tools/lint_tree.py imports [LINT-IMPORTS ARGS...]
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
STAGE = ROOT / "build" / "lint"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")


def package_dirs(pyproject: Path = PYPROJECT) -> dict[str, str]:
    """Read the package -> source folder mapping the wheel is built from.

    Args:
        pyproject: the project file holding [tool.setuptools.package-dir].

    Returns:
        Folder per package name, parents before children
        (e.g. {"actorgraph": "actorgraph", "actorgraph.graph": "graph"}).
    """
    with pyproject.open("rb") as f:
        mapping = tomllib.load(f)["tool"]["setuptools"]["package-dir"]
    return dict(sorted(mapping.items(), key=lambda item: item[0].count(".")))


def stage(root: Path = ROOT, dest: Path = STAGE) -> dict[str, str]:
    """Copy the package into dest laid out as installed, keeping the tools' caches there.

    File times are kept, so mypy's and grimp's caches stay valid between runs.

    Args:
        root: the repository root.
        dest: the staging folder; its package tree is replaced on every call.

    Returns:
        The source folder for each staged folder, relative paths with a trailing slash
        (e.g. {"actorgraph/graph/": "graph/"}), longest first.
    """
    mapping = package_dirs(root / "pyproject.toml")
    top = {name.split(".")[0] for name in mapping}
    for name in top:
        shutil.rmtree(dest / name, ignore_errors=True)
    renames: dict[str, str] = {}
    for name, folder in mapping.items():
        staged = name.replace(".", "/")
        # A child package copies over the (absent) folder of the same name in its parent.
        shutil.copytree(root / folder, dest / staged, ignore=IGNORED, dirs_exist_ok=True)
        if staged != folder:
            renames[staged + "/"] = folder + "/"
    return dict(sorted(renames.items(), key=lambda item: -len(item[0])))


def unstage_paths(text: str, renames: dict[str, str], dest: Path = STAGE) -> str:
    """Rewrite staged file paths in a tool's output to the source paths.

    Args:
        text: the tool's output.
        renames: staged folder -> source folder, as returned by stage().
        dest: the staging folder (absolute paths under it are made relative too).

    Returns:
        The output with every staged path replaced by the file it was copied from.
    """
    text = text.replace(str(dest) + os.sep, "")
    if not renames:
        return text
    pattern = re.compile(r"(?<![\w./])(" + "|".join(map(re.escape, renames)) + ")")
    return pattern.sub(lambda m: renames[m.group(1)], text)


def run(tool: str, args: list[str]) -> int:
    """Stage the package, run the tool in the staging folder and print its mapped output.

    Args:
        tool: "mypy" or "imports" (lint-imports).
        args: extra arguments passed on to the tool.

    Returns:
        The tool's exit status.
    """
    renames = stage()
    bindir = Path(sys.executable).parent
    if tool == "mypy":
        cmd = [sys.executable, "-m", "mypy", "--config-file", str(PYPROJECT), *args]
    elif tool == "imports":
        cmd = [str(bindir / "lint-imports"), "--no-logo", str(PYPROJECT), *args]
    else:
        raise SystemExit(f"unknown tool {tool!r} (expected 'mypy' or 'imports')")
    # The staged copy must win over the editable install's import hook.
    env = {**os.environ, "PYTHONPATH": str(STAGE)}
    proc = subprocess.run(cmd, cwd=STAGE, env=env, capture_output=True, text=True, check=False)
    sys.stdout.write(unstage_paths(proc.stdout, renames))
    sys.stderr.write(unstage_paths(proc.stderr, renames))
    return proc.returncode


def main(argv: list[str]) -> int:
    """Command-line entry point: `lint_tree.py mypy|imports [ARGS...]`."""
    if not argv:
        raise SystemExit(__doc__)
    return run(argv[0], argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
