"""A realistic, SYNTHETIC demo world: real ATT&CK actors, generated indicators and infrastructure.

``generate_world(seed=7, scale="small").write(out_dir)`` writes STIX 2.1 bundles of labelled
campaigns (for training), held-out unlabelled clusters (for the demo and evaluation), their
labels and a ``world.json`` manifest. See :mod:`actorgraph.world.generate`.
"""

from actorgraph.world.generate import World, generate_world, held_back_activities
from actorgraph.world.plan import SCALES, resolve_scale

__all__ = ["SCALES", "World", "generate_world", "held_back_activities", "resolve_scale"]
