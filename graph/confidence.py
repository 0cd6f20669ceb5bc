"""Confidence on the STIX 0-100 scale, and how it reads on the Admiralty and ICD 203 scales.

An analyst's confidence is stored as the STIX 2.1 ``confidence`` integer (0-100). Analysts
trained on other scales read it through the normative mappings of the STIX 2.1 specification,
Appendix A "Confidence Scales" (STIX Version 2.1, OASIS Standard, 10 June 2021):

Admiralty Credibility (A.4; the NATO/Admiralty information-credibility grades of FM 2-22.3):

=================================  ==========
Admiralty credibility              STIX range
=================================  ==========
5 - Improbable                     0-19
4 - Doubtful                       20-39
3 - Possibly True                  40-59
2 - Probably True                  60-79
1 - Confirmed by other sources     80-100
6 - Truth cannot be judged         (no value)
=================================  ==========

DNI scale (A.5; the estimative language of ODNI Intelligence Community Directive 203,
"Analytic Standards", 2015):

=========================================  ==========
ICD 203 estimative term                    STIX range
=========================================  ==========
Almost No Chance / Remote                  0-9
Very Unlikely / Highly Improbable          10-19
Unlikely / Improbable                      20-39
Roughly Even Chance / Roughly Even Odds    40-59
Likely / Probable                          60-79
Very Likely / Highly Probable              80-89
Almost Certain / Nearly Certain            90-100
=========================================  ==========
"""

from __future__ import annotations

from typing import Any

from actorgraph.graph.errors import ValidationError

__all__ = ["ADMIRALTY", "ICD203", "check_confidence", "describe"]

# (lowest STIX value of the band, the band's name), highest band first.
ADMIRALTY: tuple[tuple[int, str], ...] = (
    (80, "1 - Confirmed by other sources"),
    (60, "2 - Probably True"),
    (40, "3 - Possibly True"),
    (20, "4 - Doubtful"),
    (0, "5 - Improbable"),
)
ADMIRALTY_UNJUDGED = "6 - Truth cannot be judged"

ICD203: tuple[tuple[int, str], ...] = (
    (90, "Almost Certain / Nearly Certain"),
    (80, "Very Likely / Highly Probable"),
    (60, "Likely / Probable"),
    (40, "Roughly Even Chance / Roughly Even Odds"),
    (20, "Unlikely / Improbable"),
    (10, "Very Unlikely / Highly Improbable"),
    (0, "Almost No Chance / Remote"),
)


def check_confidence(value: object) -> int | None:
    """A STIX confidence (an int 0-100) or None for "not stated".

    Raises:
        ValidationError: not an integer from 0 to 100.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ValidationError(f"confidence (got {value!r}) must be an integer from 0 to 100")
    return value


def _band(value: int, scale: tuple[tuple[int, str], ...]) -> str:
    return next(name for low, name in scale if value >= low)


def describe(value: int | None) -> dict[str, Any]:
    """The confidence on all three scales: ``{"stix", "admiralty", "icd203"}``.

    A missing confidence reads as Admiralty 6 (truth cannot be judged) and has no ICD 203 term.
    """
    value = check_confidence(value)
    if value is None:
        return {"stix": None, "admiralty": ADMIRALTY_UNJUDGED, "icd203": None}
    return {"stix": value, "admiralty": _band(value, ADMIRALTY), "icd203": _band(value, ICD203)}
