"""Refuse request bodies before the application reads them: without a key, or too large.

``AuthenticateFirst`` checks the key of every request under ``/v1/`` (every such route needs
one) from its headers, before anything reads the body: FastAPI reads and parses a body before
it resolves the route's dependencies, so without this check an unauthenticated bundle of many
megabytes is parsed in full before its 401 (benchmarks/RESULTS.md has the cost). It answers
with the same 401 as the key dependency (api/deps.py holds the one definition) and closes the
connection instead of reading the body.

``BodySizeLimitMiddleware`` refuses a body over a size limit with 413. A declared
``Content-Length`` over the limit is refused at once without reading a byte. A chunked body is
counted as it arrives and refused as soon as it passes the limit. Either way the route never
runs, so nothing of an oversized bundle is parsed or written.

Order (api/main.py): ``AuthenticateFirst`` wraps ``BodySizeLimitMiddleware``, so an
unauthenticated caller learns nothing, not even the size limit.
"""

from __future__ import annotations

import anyio.to_thread
from fastapi import HTTPException
from fastapi.security.utils import get_authorization_scheme_param
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from actorgraph.api.deps import KEY_SCOPE, authenticate
from actorgraph.api.problems import Problem, problem_response

PROTECTED_PREFIX = "/v1/"


class AuthenticateFirst:
    """Pure ASGI middleware: 401 for a ``/v1/`` request without a live key, body unread."""

    def __init__(self, app: ASGIApp, prefix: str = PROTECTED_PREFIX) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        scheme, token = get_authorization_scheme_param(_header(scope, b"authorization"))
        keys = scope["app"].state.actorgraph.keys
        try:
            if scheme.lower() == "bearer" and token:
                # The key store reads SQLite: off the event loop, as the dependency does.
                key = await anyio.to_thread.run_sync(authenticate, keys, scheme, token)
            else:
                key = authenticate(keys, scheme, token)  # refuses without a lookup
        except Problem as exc:
            headers = dict(exc.headers)
            if _content_length(scope) or _header(scope, b"transfer-encoding"):
                headers["Connection"] = "close"  # the unread body must not read as a request
            response = problem_response(
                exc.status, exc.detail, slug=exc.slug, instance=scope["path"], headers=headers
            )
            await response(scope, receive, send)
            return
        scope[KEY_SCOPE] = key
        await self.app(scope, receive, send)


class _TooLarge(HTTPException):
    # An HTTPException, so FastAPI's body reader re-raises it as is (it turns other
    # errors into 400) and the problem handler answers 413.
    def __init__(self, seen: int, limit: int) -> None:
        super().__init__(
            413,
            f"request body of {seen} bytes or more is over the limit of {limit} bytes",
            headers={"Connection": "close"},
        )
        self.seen = seen


class BodySizeLimitMiddleware:
    """Pure ASGI middleware enforcing ``max_bytes`` on every HTTP request body."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send, declared)
            return

        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge(seen, self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if started:  # cannot happen for our routes (they read the body first); be safe
                raise
            await self._refuse(scope, receive, send, seen)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, size: int) -> None:
        response = problem_response(
            413,
            f"request body of {size} bytes or more is over the limit of {self.max_bytes} bytes",
            slug="body-too-large",
            instance=scope.get("path"),
            limit=self.max_bytes,
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
