"""How many of ATT&CK's Russian, Chinese, Iranian and North Korean groups carry a country, and how
many of those countries are right: ATT&CK's own text alone (before) and with MISP's threat-actor
galaxy (after, graph/formats/galaxy.py).

Two references, because the first is partly circular:

1. Every galaxy cluster that names the group (by ATT&CK id, else by name or synonym, ambiguous
   matches included), its ``country`` or ``cfr-suspected-state-sponsor``, plus Microsoft's
   weather-family alias (``Forest Blizzard`` = RU). Scoring the galaxy against itself proves
   little: read the "after" numbers as coverage, and precision only for what the galaxy did not
   state.
2. ATT&CK's description, where it states RU, CN, IR or KP (``country_from_description``). It does
   not depend on the galaxy, so the galaxy's own countries are also compared with it (and with
   the weather aliases) where both state one.

    .venv/bin/python benchmarks/country_coverage.py
"""

from __future__ import annotations

import copy

from actorgraph.graph.formats.attack import attack_objects
from actorgraph.graph.formats.countries import country_from_aliases, country_from_description
from actorgraph.graph.formats.galaxy import add_galaxy, read_clusters
from actorgraph.graph.formats.rows import IngestBatch
from actorgraph.graph.formats.stix_reader import read_objects

BIG4 = {"RU", "CN", "IR", "KP"}
ORIGIN = ("ThreatActor", "ORIGINATES_FROM", "Country")


def score(batch: IngestBatch, reference: dict[str, set[str]], label: str) -> None:
    actors = batch.nodes["ThreatActor"]
    got = {a: actors[a].get("country") for a in reference}
    stated = {a: c for a, c in got.items() if c}
    right = sum(1 for a, c in stated.items() if c in reference[a])
    print(
        f"  {label}: coverage {len(stated)}/{len(reference)} = {len(stated) / len(reference):.3f},"
        f" precision {right}/{len(stated)} = {right / max(len(stated), 1):.3f}"
    )
    missing = sorted(actors[a]["name"] for a in reference if not got[a])
    wrong = sorted(actors[a]["name"] for a, c in stated.items() if c not in reference[a])
    print(f"    missing: {missing}\n    wrong: {wrong}")


def main() -> None:
    before = read_objects(attack_objects(), source="mitre-attack", validate=False)
    after = copy.deepcopy(before)
    matches = add_galaxy(after)
    provenance, clusters = read_clusters()
    actors = before.nodes["ThreatActor"]
    groups = {a: p for a, p in actors.items() if str(p.get("external_id", "")).startswith("G")}
    by_id: dict[str, list] = {}
    by_name: dict[str, list] = {}
    for c in clusters:
        for xid in c.attack_ids:
            by_id.setdefault(xid, []).append(c)
        for n in {c.name.lower(), *(s.lower() for s in c.synonyms)}:
            by_name.setdefault(n, []).append(c)

    def galaxy_reference(p: dict) -> set[str]:
        names = {p["name"].lower(), *(a.lower() for a in p.get("aliases") or [])}
        hits = by_id.get(p["external_id"]) or [c for n in names for c in by_name.get(n, [])]
        return {c.country for c in hits if c.country}

    weather = {
        a: w for a, p in groups.items() if (w := country_from_aliases(p.get("aliases") or []))
    }
    ref1 = {}
    for a, p in groups.items():
        r = galaxy_reference(p) | ({weather[a]} if a in weather else set())
        if r & BIG4:
            ref1[a] = r
    ref2 = {
        a: {c}
        for a, p in groups.items()
        if (c := country_from_description(p.get("description"))) in BIG4
    }
    print(
        f"{provenance}: {len(matches.matched)} of {len(groups)} ATT&CK groups matched, "
        f"{len(matches.ambiguous)} ambiguous (not applied)"
    )
    print(f"reference 1 (galaxy + weather alias): {len(ref1)} RU/CN/IR/KP groups")
    score(before, ref1, "before")
    score(after, ref1, "after ")
    print(f"reference 2 (ATT&CK description): {len(ref2)} RU/CN/IR/KP groups")
    score(before, ref2, "before")
    score(after, ref2, "after ")
    galaxy: dict[str, set[str]] = {}
    for (a, country_id), props in after.edges[ORIGIN].items():
        if provenance in (props.get("sources") or []):
            galaxy.setdefault(a, set()).add(country_id.split(":", 1)[1])
    for name, ref in (
        ("description", {a: next(iter(r)) for a, r in ref2.items()}),
        ("weather alias", weather),
    ):
        both = [a for a in ref if a in galaxy]
        agree = sum(1 for a in both if ref[a] in galaxy[a])
        print(f"galaxy country vs {name}, where both state one: {agree}/{len(both)} agree")
    only = sorted(
        (actors[a]["name"], sorted(c)) for a, c in galaxy.items() if not actors[a].get("country")
    )
    print(f"groups whose only country is the galaxy's: {len(only)}: {only}")
    conflicts = sorted(
        actors[a]["name"]
        for a in groups
        if len({d for (s, d) in after.edges[ORIGIN] if s == a}) > 1
    )
    print(f"groups with two ORIGINATES_FROM countries (sources disagree): {conflicts}")


if __name__ == "__main__":
    main()
