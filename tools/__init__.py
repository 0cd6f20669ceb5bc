"""Developer tools run by `make` (not installed with the package)."""
