"""One module per resource; each defines ``router``."""

from __future__ import annotations

from actorgraph.api.models import Problem

PROBLEM = {"model": Problem, "content": {"application/problem+json": {}}}

AUTH_ERRORS = {401: PROBLEM, 403: PROBLEM, 429: PROBLEM}
"""The responses every authenticated route can give, for the OpenAPI document."""
