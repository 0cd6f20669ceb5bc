"""A decompression bomb is refused with bounded memory (issue 18, finding 12).

A 1 MB ``.json.gz`` drove ``actorgraph ingest`` to 3.2 GB: ``load_json`` decompressed the
whole file into memory before anything looked at its size. It now decompresses in chunks and
stops at a documented limit, naming the file and the limit.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from actorgraph.graph.errors import IngestError
from actorgraph.graph.formats.stix_validate import MAX_INPUT_BYTES, load_json
from tests.helpers.cli import run_python

BOMB_BYTES = 200 * 1024 * 1024  # 200 MB of zeros: about 200 KB gzipped


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "bundle.json.gz"
    zeros = bytes(1024 * 1024)
    with gzip.open(path, "wb") as fh:
        for _ in range(BOMB_BYTES // len(zeros)):
            fh.write(zeros)
    assert path.stat().st_size < 1024 * 1024
    return path


# Runs load_json in a fresh interpreter and reports how far its peak RSS grew during the call:
# the test process's own peak is long past and would hide the growth.
_CHILD = """
import json, resource, sys
from actorgraph.graph.errors import IngestError
from actorgraph.graph.formats.stix_validate import load_json
kwargs = json.loads(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    load_json(sys.argv[1], **kwargs)
    error = None
except IngestError as exc:
    error = str(exc)
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"grown_mb": grown / 1024, "error": error}))
"""


def _load_in_child(path: Path, **kwargs: int) -> dict:
    out = run_python("-c", _CHILD, str(path), json.dumps(kwargs), check=True, timeout=300)
    return json.loads(out.stdout)


def test_a_bomb_is_refused_with_bounded_memory(bomb: Path) -> None:
    limit = 8 * 1024 * 1024
    result = _load_in_child(bomb, max_bytes=limit)
    print(
        f"bomb of {BOMB_BYTES:,} bytes, limit {limit:,}: peak RSS grew {result['grown_mb']:.1f} MB"
    )
    assert result["error"] is not None
    assert str(bomb) in result["error"] and f"{limit:,} bytes" in result["error"]
    assert result["grown_mb"] < 64


def test_the_default_limit_refuses_the_bomb(bomb: Path) -> None:
    assert BOMB_BYTES > MAX_INPUT_BYTES
    result = _load_in_child(bomb)
    print(f"default limit {MAX_INPUT_BYTES:,}: peak RSS grew {result['grown_mb']:.1f} MB")
    assert result["error"] is not None and f"{MAX_INPUT_BYTES:,} bytes" in result["error"]
    assert result["grown_mb"] < MAX_INPUT_BYTES / 1024 / 1024 + 96


def test_plain_json_over_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"type": "bundle", "pad": "x" * 4096}))
    with pytest.raises(IngestError, match=r"over the limit of 1,024 bytes") as info:
        load_json(path, max_bytes=1024)
    assert info.value.source == str(path)


def test_inputs_within_the_limit_load(tmp_path: Path) -> None:
    data = {"type": "bundle", "objects": [{"n": i} for i in range(1000)]}
    text = json.dumps(data).encode()
    plain, packed = tmp_path / "b.json", tmp_path / "b.json.gz"
    plain.write_bytes(text)
    packed.write_bytes(gzip.compress(text))
    assert load_json(plain, max_bytes=len(text)) == data
    assert load_json(packed, max_bytes=len(text)) == data
    with pytest.raises(IngestError, match="over the limit"):
        load_json(packed, max_bytes=len(text) - 1)


def test_a_concatenated_gzip_is_read_whole(tmp_path: Path) -> None:
    """gzip allows several members in one file; the streaming reader reads them all."""
    path = tmp_path / "two.json.gz"
    path.write_bytes(gzip.compress(b'{"type": ') + gzip.compress(b'"bundle"}'))
    assert load_json(path) == {"type": "bundle"}
