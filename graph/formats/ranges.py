"""Address ranges in indicators (``198.51.100.0/24``): network infrastructure, not indicators.

A feed names a range where it means every address in it (``ipv4-addr:value ISSUBSET
'198.51.100.0/24'``, an ``ip-dst`` attribute of ``203.0.113.0/24``). No single address is the
indicator, so a range is stored as ``Infrastructure {kind: "network"}`` under the id the
offline enrichment gives an address's network (``network:<cidr>``, graph/enrich/facts.py): a
range from a feed and the /24 an address is enriched with are one node.
"""

from __future__ import annotations

import ipaddress
from typing import Any


def network_range(value: Any) -> tuple[str, dict[str, Any]] | None:
    """The Infrastructure node id and properties of a CIDR range; None when not a range.

    Args:
        value: an indicator value as a feed sent it.

    Returns:
        ``("network:198.51.100.0/24", {"kind": "network", "name": ..., "value": ...,
        "prefix_len": 24})``, the range normalised to its network address.
    """
    if not isinstance(value, str) or "/" not in value:
        return None
    try:
        net = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None
    cidr = str(net)
    props = {"kind": "network", "name": cidr, "value": cidr, "prefix_len": net.prefixlen}
    return f"network:{cidr}", props
