"""Activity values the graph does not hold but MISP's warninglists do are named in the result:
in ``AttributionResult.flagged``, the API's answer and ``actorgraph attribute``'s output."""

from __future__ import annotations

from actorgraph.commands.attribute import format_result
from actorgraph.gnn.activity import activity_from_simple
from actorgraph.graph.attribution import AttributionResult
from actorgraph.graph.tlp import TLP
from tests.gnn.test_enrichment_attribution import _attributor

DNS = "List of known IPv4 public DNS resolvers"


def test_google_dns_in_new_activity_is_named_with_its_list(store) -> None:
    attributor = _attributor(store, enrich=False)
    activity = activity_from_simple({"indicators": ["8.8.8.8", "new-c2.example", "100.64.9.10"]})
    result = attributor.attribute(activity, max_tlp=TLP.RED, top_k=2)
    flagged = {f.value: f.warninglists for f in result.flagged}
    assert DNS in flagged["ipv4:8.8.8.8"]
    assert "domain:new-c2.example" not in flagged  # on no list
    assert "ipv4:100.64.9.10" not in flagged  # in the graph: its node carries the flag
    out = result.to_dict()
    assert {"value": "ipv4:8.8.8.8", "warninglists": list(flagged["ipv4:8.8.8.8"])} in out[
        "flagged"
    ]
    assert AttributionResult.from_dict(out) == result
    assert f"ipv4:8.8.8.8: {DNS}" in format_result(result)
