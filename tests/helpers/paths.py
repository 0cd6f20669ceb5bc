"""Where things are, for every test: the repository root and the shared fixtures folder."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
NOTEBOOKS = ROOT / "notebooks"
APT28_BUNDLE = FIXTURES / "stix" / "apt28_campaign.json"
