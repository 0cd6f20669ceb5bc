"""actorgraph: graph-based threat-actor attribution. The CLI edge lives here."""

__version__ = "0.1.0"
__all__ = ["__version__"]
