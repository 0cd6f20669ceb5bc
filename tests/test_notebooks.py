"""The notebooks: committed without outputs, and they run end to end on the demo.

The slow test builds a demo home once (``actorgraph demo``: ATT&CK + the seed-7 small world + a
trained model, about 20 s), keeps its embedded server running so the kernels attach to it quickly,
and executes each notebook with nbclient in a ``python3`` kernel started in ``notebooks/``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from tests.helpers.cli import ag, cli_env
from tests.helpers.paths import NOTEBOOKS

# notebook -> fewest image outputs it must produce (one per plot the issue asks for)
MIN_IMAGES = {
    "01_explore_the_graph.ipynb": 3,  # schema bars, overlap heat map, indicator subgraph
    "02_attribute_new_activity.ipynb": 4,  # candidate bars, evidence graph, signals, baselines
    "03_model_evaluation.ipynb": 5,  # confusion, reliability, top-k, unknown, embedding map
}
CELL_TIMEOUT_S = 300
CLI_TIMEOUT_S = 600


def test_every_notebook_is_listed() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(MIN_IMAGES)


@pytest.mark.parametrize("name", sorted(MIN_IMAGES))
def test_committed_notebooks_have_no_outputs(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert cell.outputs == [], f"{name} cell {i} has outputs: strip them before committing"
        assert cell.execution_count is None, f"{name} cell {i} has an execution count"
        assert "execution" not in cell.metadata, f"{name} cell {i} has execution timing metadata"


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("notebooks-home")
    # Started explicitly, the server outlives `demo`, so each kernel attaches to it in milliseconds.
    ag(home, "store", "start", timeout=CLI_TIMEOUT_S)
    try:
        ag(home, "demo", "--show", "1", timeout=CLI_TIMEOUT_S)
        yield home
    finally:
        ag(home, "store", "stop", timeout=CLI_TIMEOUT_S)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MIN_IMAGES))
def test_notebook_runs(name: str, demo_home: Path) -> None:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    # The kernel reads the demo home's embedded store, whatever Neo4j the shell names.
    env = cli_env(demo_home, {"MPLBACKEND": "Agg"})
    try:
        client.execute(env=env)
    except CellExecutionError as exc:  # the message holds the failing cell and its traceback
        pytest.fail(f"{name} failed:\n{exc}")
    images = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", (
                f"{name}: {out.get('ename')}: {out.get('evalue')}"
            )
            png = out.get("data", {}).get("image/png")
            if png:
                images.append(base64.b64decode(png))
    assert len(images) >= MIN_IMAGES[name], f"{name} produced {len(images)} images"
    for png in images:
        assert png.startswith(b"\x89PNG") and len(png) > 5_000, "an empty or broken plot"
