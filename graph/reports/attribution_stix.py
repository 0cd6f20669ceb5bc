"""Share out: an attribution result as STIX 2.1, for OpenCTI, MISP and partners.

The activity becomes a ``campaign``, each stated candidate an ``attributed-to`` relationship
marked as a model's hypothesis (``x_actorgraph_hypothesis: true``, which the STIX reader turns
back into ``PREDICTED_ACTOR``, never into an attribution fact), the evidence a ``note``.

Every object is TLP-marked, since a consumer reads an unmarked one as TLP:CLEAR: what the bundle
derives from the result (the campaign it makes, the hypotheses, the evidence note) carries the
requester's clearance, because the attribution was computed from everything the requester may
see. So do the candidate actors copied from the graph: the requester saw each, so its own marking
there is no stricter. What the bundle copies from the activity keeps its own TLP marking when that
is stricter, and is never marked below the requester's clearance.
"""

from __future__ import annotations

from typing import Any

from actorgraph.graph.attribution import AttributionResult, Candidate, Evidence
from actorgraph.graph.errors import ValidationError
from actorgraph.graph.formats import stix_out as so
from actorgraph.graph.formats.provenance import TLP_MARKING_IDS
from actorgraph.graph.reports.export import assemble_bundle
from actorgraph.graph.tlp import TLP

__all__ = ["attribution_to_stix"]

# STIX types an attributed-to relationship may point at.
_ACTOR_TYPES = ("intrusion-set--", "threat-actor--")


def attribution_to_stix(
    result: AttributionResult,
    activity_bundle: dict[str, Any] | None = None,
    *,
    max_tlp: TLP | int = TLP.RED,
    top_k: int = 3,
    now: str | None = None,
) -> dict[str, Any]:
    """An attribution result as a STIX 2.1 bundle.

    The activity becomes a ``campaign`` (the bundle's own campaign when it has one), each of the
    ``top_k`` candidates an ``attributed-to`` relationship whose ``confidence`` is the calibrated
    probability in percent, with the model version and rank as ``x_actorgraph_*`` properties and
    ``x_actorgraph_hypothesis: true`` (a model's hypothesis, not an analyst's finding). The
    evidence becomes a ``note`` on the campaign and the relationships, which OpenCTI and MISP show.

    Args:
        result: one result (``AttributionResult.from_dict`` reads the JSON of
            ``actorgraph attribute --json`` or of ``POST /v1/attributions``).
        activity_bundle: the STIX bundle that was attributed; its objects are included.
        max_tlp: the requester's clearance (0 clear .. 4 red): every object is marked at least
            this (see the module docstring). Red by default, the safe marking when the
            clearance the result was computed at is not known (``actorgraph export
            --attribution`` reads a file of results).
        top_k: how many candidates to state (those with a score of 0 are left out).
        now: the timestamp of the new objects; default: now.

    Returns:
        The bundle as a dict.

    Raises:
        ValidationError: a stated candidate's ``actor_id`` is not an intrusion set or actor, or
            ``max_tlp`` is not a TLP level.
    """
    level = TLP.parse(max_tlp)
    now = now or so.now_stix()
    version = result.model.version or "unknown"
    objects: dict[str, dict[str, Any]] = {}
    activity = [
        o for o in (activity_bundle or {}).get("objects") or [] if isinstance(o, dict) and "id" in o
    ]
    for obj in activity:
        objects[obj["id"]] = obj
    campaign = next((o for o in activity if o.get("type") == "campaign"), None)
    key = (result.input or "") + "|" + "|".join(sorted(objects))
    if campaign is None:
        campaign = {
            "type": "campaign",
            "spec_version": "2.1",
            "id": so.det_id("campaign", f"activity|{key}"),
            "created": now,
            "modified": now,
            "name": f"Activity {result.input or 'under attribution'}",
            "description": "Unattributed activity submitted to actorgraph for attribution.",
        }
        objects[campaign["id"]] = campaign
    rel_ids: list[str] = []
    for cand in sorted(result.candidates, key=lambda c: c.rank)[:top_k]:
        if not cand.actor_id.startswith(_ACTOR_TYPES):
            raise ValidationError(f"candidate without an intrusion-set actor_id: {cand!r}")
        if cand.score <= 0:
            continue
        if cand.actor_id not in objects:
            objects[cand.actor_id] = _candidate_actor(cand, now)
        rel = _hypothesis(cand, campaign["id"], version, now)
        objects[rel["id"]] = rel
        rel_ids.append(rel["id"])
    note = _evidence_note(result, campaign["id"], rel_ids, version, now)
    objects[note["id"]] = note
    return assemble_bundle((_marked(o, level) for o in objects.values()), now)


def _marked(obj: dict[str, Any], level: TLP) -> dict[str, Any]:
    """A copy of ``obj`` whose one TLP marking is ``level``, or its own TLP marking when that
    is stricter; its other marking refs stay. A marking definition is left as it is."""
    if obj.get("type") == "marking-definition":
        return obj
    listed = obj.get("object_marking_refs")
    refs = [ref for ref in listed if isinstance(ref, str)] if isinstance(listed, list) else []
    own = TLP.strictest(TLP_MARKING_IDS.get(ref) for ref in refs)
    mark = max(level, own) if own is not None else level
    others = [ref for ref in refs if ref not in TLP_MARKING_IDS]
    return {**obj, "object_marking_refs": [so.TLP2_IDS[mark.label], *others]}


def _hypothesis(cand: Candidate, campaign_id: str, version: str, now: str) -> dict[str, Any]:
    """The ``attributed-to`` relationship stating one candidate, marked as a hypothesis."""
    return {
        "type": "relationship",
        "spec_version": "2.1",
        "id": so.det_id("relationship", f"{campaign_id}|attributed-to|{cand.actor_id}|{version}"),
        "created": now,
        "modified": now,
        "relationship_type": "attributed-to",
        "source_ref": campaign_id,
        "target_ref": cand.actor_id,
        "confidence": max(0, min(100, round(cand.score * 100))),
        "description": (
            f"Hypothesis of actorgraph model {version}: rank {cand.rank}, "
            f"calibrated probability {cand.score:.3f}."
        ),
        "x_actorgraph_hypothesis": True,
        "x_actorgraph_model_version": version,
        "x_actorgraph_rank": cand.rank,
        "x_actorgraph_score": round(cand.score, 6),
    }


def _candidate_actor(cand: Candidate, now: str) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "intrusion-set",
        "spec_version": "2.1",
        "id": cand.actor_id,
        "created": now,
        "modified": now,
        "name": cand.name or cand.actor_id,
    }
    if cand.aliases:
        obj["aliases"] = list(cand.aliases)
    if cand.country:
        obj["x_actorgraph_country"] = cand.country
    return obj


def _evidence_note(
    result: AttributionResult, campaign_id: str, rel_ids: list[str], version: str, now: str
) -> dict[str, Any]:
    names = {c.actor_id: c.name for c in result.candidates}
    lines = [f"actorgraph attribution (model {version})", "", "Candidates:"]
    for cand in result.candidates:
        lines.append(f"- #{cand.rank} {cand.name} ({cand.country or '?'}): p={cand.score:.3f}")
    lines.append(f"- unknown actor: p={result.unknown:.3f}")
    for country in result.countries:
        lines.append(f"- country {country.country}: p={country.score:.3f}")
    lines += ["", "Evidence (strongest first per candidate):"]
    for item in result.evidence:
        lines.append("- " + _evidence_line(item, names))
    return {
        "type": "note",
        "spec_version": "2.1",
        "id": so.det_id("note", f"{campaign_id}|{version}|evidence"),
        "created": now,
        "modified": now,
        "abstract": f"Attribution evidence (actorgraph model {version})",
        "content": "\n".join(lines),
        "object_refs": [campaign_id, *rel_ids],
    }


def _evidence_line(item: Evidence, names: dict[str, str | None]) -> str:
    """One evidence item as text: who, what, how telling, and the path."""
    who = names.get(item.actor_id) or item.actor_id or "?"
    what = item.entity.name or item.entity.id or item.input or ""
    text = " ".join(item.path)
    facts = [
        f"weight {item.weight}",
        f"shared by {item.actors_sharing} actors" if item.actors_sharing else None,
        "known hub" if item.hub else None,
    ]
    extra = ", ".join(f for f in facts if f)
    head = f"{who}: {item.kind or 'evidence'} {what}".rstrip()
    return head + (f" ({extra})" if extra else "") + (f": {text}" if text else "")
