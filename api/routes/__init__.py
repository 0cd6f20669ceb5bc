"""One module per resource; each defines ``router``."""

from __future__ import annotations

from typing import Any

from actorgraph.api.models import Problem

PROBLEM: dict[str, Any] = {"model": Problem, "content": {"application/problem+json": {}}}

AUTH_ERRORS: dict[int | str, dict[str, Any]] = {401: PROBLEM, 403: PROBLEM, 429: PROBLEM}
"""The responses every authenticated route can give, for the OpenAPI document."""
