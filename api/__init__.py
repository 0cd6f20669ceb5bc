"""The HTTP edge of actorgraph: a FastAPI app over the graph store and the attribution model.

``api.create_app`` is imported lazily so that ``actorgraph keys`` (which uses ``api.keys``)
does not pay for FastAPI.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from actorgraph.api.main import create_app

        return create_app
    raise AttributeError(f"module 'api' has no attribute {name!r}")
