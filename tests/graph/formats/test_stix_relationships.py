"""The STIX relationship rule shared by the reader and the exporter."""

from __future__ import annotations

import pytest

from actorgraph.graph.formats.stix_relationships import graph_relationship


@pytest.mark.parametrize(
    ("rel", "src", "dst", "expected"),
    [
        ("uses", "ThreatActor", "Malware", ("USES", False)),
        ("hosts", "Infrastructure", "Indicator", ("HOSTED_ON", True)),
        ("attributed-to", "Campaign", "ThreatActor", ("ATTRIBUTED_TO", False)),
        ("attributed-to", "ThreatActor", "ThreatActor", ("RELATED_TO", False)),
        ("located-at", "ThreatActor", "Country", ("ORIGINATES_FROM", False)),
        ("targets", "ThreatActor", "Malware", ("RELATED_TO", False)),
        ("indicates", "Infrastructure", "Campaign", ("RELATED_TO", False)),
        ("originates-from", "ThreatActor", "Sector", None),
        ("no-such-verb", "Malware", "Tool", ("RELATED_TO", False)),
    ],
)
def test_stix_relationships_map_to_graph_types(rel, src, dst, expected) -> None:
    assert graph_relationship(rel, src, dst) == expected
