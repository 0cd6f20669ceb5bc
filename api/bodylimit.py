"""Refuse request bodies over a size limit with 413, before the application reads them.

A declared ``Content-Length`` over the limit is refused at once without reading a byte. A
chunked body is counted as it arrives and refused as soon as it passes the limit. Either way
the route never runs, so nothing of an oversized bundle is parsed or written.
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from actorgraph.api.problems import problem_response


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


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
