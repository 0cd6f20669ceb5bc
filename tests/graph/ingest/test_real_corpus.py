"""Real public inputs (tests/fixtures/real/, origins in SOURCES.md) land, and nothing vanishes.

Each folder of the corpus is ingested as one unit, the way ``actorgraph ingest FOLDER`` does.
Two rules over every file: nothing the OASIS STIX validator accepts is refused, and each input's
report accounts for every object (``in = landed + merged + pending + rejected``, each object not
landed named with its reason).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actorgraph.graph.errors import IngestError
from actorgraph.graph.formats.stix_validate import iter_inputs
from actorgraph.graph.ingest import ingest_paths
from actorgraph.graph.tlp import TLP
from tests.helpers.paths import FIXTURES

# Near 20 s on a loaded 2-core machine, most of it pymisp's first load.
pytestmark = pytest.mark.slow

REAL = FIXTURES / "real"
UNITS = sorted(p for p in REAL.iterdir() if p.is_dir())
OUTCOMES = ("landed", "merged", "pending", "rejected")


def stix_valid(path: Path) -> bool | None:
    """The OASIS validator's verdict on a STIX file (None: not STIX)."""
    from stix2validator import ValidationOptions, validate_file

    data = json.loads(path.read_text())
    if not isinstance(data, dict) or data.get("type") != "bundle":
        return None
    spec = data.get("spec_version") or next(
        (o.get("spec_version") for o in data.get("objects", []) if o.get("spec_version")), "2.0"
    )
    options = ValidationOptions(version="2.1" if spec == "2.1" else "2.0", silent=True)
    return bool(validate_file(str(path), options).is_valid)


def test_the_corpus_is_there() -> None:
    assert len(UNITS) >= 4
    assert (REAL / "SOURCES.md").is_file()


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_every_real_input_lands_and_adds_up(store, unit: Path) -> None:
    files = list(iter_inputs([unit]))
    try:
        reports = ingest_paths(store, [unit], max_tlp=TLP.RED)
        refused: dict[str, IngestError] = {}
    except IngestError as exc:
        reports = exc.reports  # type: ignore[attr-defined]
        refused = {str(e.source): e for e in exc.errors}  # type: ignore[attr-defined]
    for path in files:
        if str(path) in refused:
            assert stix_valid(path) is not True, f"{path.name} refused: {refused[str(path)]}"
    assert len(reports) + len(refused) == len(files)
    for report in reports:
        o = report.objects
        assert o["in"] == sum(o[k] for k in OUTCOMES), (report.source, o)
        assert len(report.objects_rejected) == o["rejected"]
        assert all(e["reason"] and e["object_id"] for e in report.objects_rejected)
        assert o["pending"] <= len(report.pending)
