"""Every test here that takes ``store`` runs on both backends (tests/helpers/backends.py)."""

from tests.helpers.backends import store_on_each_backend  # noqa: F401  (the ``store`` fixture)
