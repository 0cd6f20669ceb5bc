"""tools/lint_tree.py: the installed layout staged for mypy and import-linter, paths mapped back."""

from __future__ import annotations

from pathlib import Path

from tools.lint_tree import package_dirs, stage, unstage_paths

PYPROJECT = """
[tool.setuptools.package-dir]
"pkg.sub" = "sub"
"pkg" = "pkg"
"""


def _project(root: Path) -> None:
    (root / "pyproject.toml").write_text(PYPROJECT)
    for folder, name in (("pkg", "__init__.py"), ("sub", "__init__.py"), ("sub", "mod.py")):
        (root / folder).mkdir(exist_ok=True)
        (root / folder / name).write_text(f"# {folder}/{name}\n")
    (root / "sub" / "__pycache__").mkdir()
    (root / "sub" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"")


def test_package_dirs_lists_parents_first(tmp_path: Path) -> None:
    _project(tmp_path)
    assert list(package_dirs(tmp_path / "pyproject.toml")) == ["pkg", "pkg.sub"]


def test_stage_lays_out_the_package_as_installed(tmp_path: Path) -> None:
    _project(tmp_path)
    dest = tmp_path / "build" / "lint"
    (dest / "pkg").mkdir(parents=True)
    (dest / "pkg" / "deleted.py").write_text("")
    renames = stage(root=tmp_path, dest=dest)
    assert renames == {"pkg/sub/": "sub/"}
    assert (dest / "pkg" / "sub" / "mod.py").read_text() == "# sub/mod.py\n"
    assert not (dest / "pkg" / "deleted.py").exists()
    assert not (dest / "pkg" / "sub" / "__pycache__").exists()


def test_unstage_paths_names_the_source_files(tmp_path: Path) -> None:
    dest = tmp_path / "build" / "lint"
    out = (
        "pkg/sub/mod.py:3: error: bad\n"
        f"{dest}/pkg/sub/mod.py:4: note: here\n"
        "pkg/cli.py:1: error: fine as it is\n"
        "other/pkg/sub/x.py stays\n"
    )
    assert unstage_paths(out, {"pkg/sub/": "sub/"}, dest=dest) == (
        "sub/mod.py:3: error: bad\n"
        "sub/mod.py:4: note: here\n"
        "pkg/cli.py:1: error: fine as it is\n"
        "other/pkg/sub/x.py stays\n"
    )
