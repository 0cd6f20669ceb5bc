"""RFC 9457 problem details for every error the API returns.

Routes raise the project's own errors (graph/errors.py) or ``Problem``; the handlers here turn
them into ``application/problem+json`` with ``type``, ``title``, ``status``, ``detail`` and,
where the error carries them, structured members (``object_id``, ``value``, ``reason``,
``errors``). Nothing else reaches the client: an unexpected exception is logged and answered
with a bare 500 that reveals no internals.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from actorgraph.graph import errors

log = logging.getLogger("actorgraph.api")

PROBLEM_JSON = "application/problem+json"

# Most specific class first: the first isinstance() match wins.
_STATUS: list[tuple[type[errors.ActorgraphError], int, str]] = [
    (errors.NotFound, 404, "not-found"),
    (errors.StixIngestError, 422, "invalid-object"),
    (errors.IngestError, 422, "invalid-input"),
    (errors.InvalidIndicator, 422, "invalid-indicator"),
    (errors.ValidationError, 422, "invalid-parameters"),
    (errors.ReadOnlyViolation, 403, "write-refused"),
    (errors.QueryTimeout, 504, "query-timeout"),
    (errors.QueryError, 400, "query-rejected"),
    (errors.StoreUnavailable, 503, "store-unavailable"),
    (errors.StoreError, 503, "store-error"),
    (errors.ModelError, 503, "no-model"),
    (errors.ActorgraphError, 400, "bad-request"),
]


class Problem(Exception):
    """An HTTP error with problem details, raised by routes and dependencies.

    Args:
        status: the HTTP status code.
        detail: what went wrong, for a person.
        slug: the last part of the ``type`` URI (``urn:actorgraph:problem:<slug>``).
        headers: extra response headers (``WWW-Authenticate``, ``Retry-After``).
        extra: extension members added to the body.
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug or HTTPStatus(status).phrase.lower().replace(" ", "-")
        self.headers = headers or {}
        self.extra = extra


def problem_response(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """Build an ``application/problem+json`` response."""
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": f"urn:actorgraph:problem:{slug or phrase.lower().replace(' ', '-')}",
        "title": phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(
        jsonable_encoder(body), status_code=status, headers=headers, media_type=PROBLEM_JSON
    )


def status_for(exc: errors.ActorgraphError) -> tuple[int, str]:
    """The HTTP status and problem slug for one of the project's errors."""
    for cls, status, slug in _STATUS:
        if isinstance(exc, cls):
            return status, slug
    return 400, "bad-request"


def install(app: FastAPI) -> None:
    """Register the problem-details handlers on ``app``."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.detail,
            slug=exc.slug,
            instance=request.url.path,
            headers=exc.headers,
            **exc.extra,
        )

    @app.exception_handler(errors.ActorgraphError)
    async def _actorgraph(request: Request, exc: errors.ActorgraphError) -> JSONResponse:
        status, slug = status_for(exc)
        if status >= 500:
            log.warning("%s on %s: %s", type(exc).__name__, request.url.path, exc)
        return problem_response(
            status,
            str(exc),
            slug=slug,
            instance=request.url.path,
            object_id=getattr(exc, "object_id", None),
            value=getattr(exc, "value", None),
            reason=getattr(exc, "reason", None),
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        first = errs[0] if errs else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"])
        return problem_response(
            422,
            f"{where}: {first['msg']}" if where else str(first["msg"]),
            slug="invalid-request",
            instance=request.url.path,
            errors=errs,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = str(exc.detail)
        # FastAPI answers any body it cannot read with one generic 400; JSON nested past
        # Python's recursion limit (a list 20,000 deep is 40 kB) is named as what it is.
        if isinstance(exc.__cause__, RecursionError):
            detail = "the JSON body nests lists or objects too deep to read"
        return problem_response(
            exc.status_code,
            detail,
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "internal error", instance=request.url.path)
