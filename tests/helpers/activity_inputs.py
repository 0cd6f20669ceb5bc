"""One activity in the forms attribution reads: a MISP event and the same indicators in the
simple form (shared by the parser tests and the API's)."""

from __future__ import annotations

EVENT = {
    "uuid": "5e1c1d6a-1b2c-4d5e-9f00-0a0b0c0d0eaa",
    "info": "Phishing wave using evil.example",
    "date": "2024-03-01",
    "Attribute": [
        {"type": "domain", "category": "Network activity", "value": "evil.example"},
        {"type": "ip-dst", "category": "Network activity", "value": "203.0.113.7"},
    ],
}
SIMPLE = {"indicators": ["evil[.]example", "203.0.113.7"]}
