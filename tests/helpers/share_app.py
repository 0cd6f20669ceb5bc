"""The API app with the share routers (export, briefings, TAXII), for the share tests' real server.

``api.main.create_app`` builds the app; until it includes these routers itself, this factory adds
them (and leaves them alone once it does). Run: ``uvicorn share_app:app --factory --app-dir tests``.
"""

from __future__ import annotations

from fastapi import FastAPI

from actorgraph.settings import Settings
from actorgraph.api.main import create_app
from actorgraph.api.routes import briefings, export, taxii


def with_share_routes(application: FastAPI) -> FastAPI:
    """Include the share routers unless the app already has their paths."""
    paths = {getattr(r, "path", None) for r in application.routes}
    for module in (export, briefings, taxii):
        if not any(r.path in paths for r in module.router.routes):
            application.include_router(module.router)
    return application


def app() -> FastAPI:
    """The app with settings from the environment, without an attribution model."""
    return with_share_routes(create_app(Settings(), load_model=False))
