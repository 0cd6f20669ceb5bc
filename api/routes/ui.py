"""The analyst console: static pages under ``/ui`` that call the ``/v1`` API from the browser.

The pages hold no data and need no key to load; every read goes through the API with the key
the analyst enters (kept in ``sessionStorage``, sent as ``Authorization: Bearer``), so roles and
TLP apply exactly as they do for any other client.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

UI_DIR = Path(__file__).resolve().parent.parent / "ui"

# Scripts only from the console itself (no inline script, no CDN); Cytoscape sets inline styles
# on its canvas; no framing (clickjacking); the key never leaves in a Referer.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class ConsoleFiles(StaticFiles):
    """The console's files, with the security headers on every answer."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


def mount(app: FastAPI) -> None:
    """Serve the console at ``/ui/`` (``index.html`` for the folder)."""
    app.mount("/ui", ConsoleFiles(directory=UI_DIR, html=True), name="ui")
