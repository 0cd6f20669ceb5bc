"""Package data found without importing the package."""

from __future__ import annotations

from pathlib import Path

from actorgraph.graph.package_data import package_data
from tests.helpers.cli import run_python

FIND_GALAXY = """
import sys
from actorgraph.graph.package_data import package_data
path = package_data("pymispgalaxies", "data", "misp-galaxy", "clusters", "threat-actor.json")
print(path)
print("pymispgalaxies" in sys.modules)
"""


def test_a_data_file_of_an_installed_package_is_found_without_importing_it():
    out = run_python("-c", FIND_GALAXY, check=True).stdout.split("\n")
    assert Path(out[0]).is_file() and out[0].endswith("threat-actor.json")
    assert out[1] == "False"


def test_a_package_that_is_not_installed_has_no_data():
    assert package_data("actorgraph_no_such_package", "data") is None
