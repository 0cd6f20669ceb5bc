"""Build the FastAPI app: state, middleware, problem handlers, routers. Nothing else.

``create_app(settings)`` is the one way in (tests, ``actorgraph serve``); ``app_from_env`` builds
it in a worker of ``actorgraph serve --workers N`` (or ``uvicorn api.main:app_from_env
--factory``), and ``preload_models`` loads the model before those workers fork.
"""

from __future__ import annotations

import gc
import logging
import stat
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from actorgraph import __version__
from actorgraph.api import problems
from actorgraph.api.bodylimit import AuthenticateFirst, BodySizeLimitMiddleware
from actorgraph.api.keys import KeyStore
from actorgraph.api.metrics import InstrumentedStore, Metrics, MetricsMiddleware
from actorgraph.api.ratelimit import SharedRateLimiter
from actorgraph.api.routes import (
    actors,
    attributions,
    audit,
    briefings,
    bundles,
    campaigns,
    clusters,
    confidence,
    cypher,
    decisions,
    export,
    health,
    indicators,
    queries,
    taxii,
    ui,
)
from actorgraph.api.state import AppState, ModelHolder, with_store
from actorgraph.graph.enrich.warninglists import use_cache_dir
from actorgraph.graph.errors import ValidationError
from actorgraph.graph.store import GraphStore, open_store
from actorgraph.settings import Settings

log = logging.getLogger("actorgraph.api")

DESCRIPTION = """
Threat-actor attribution over a Cypher property graph.

**Authentication**: `Authorization: Bearer <key>` with a key from `actorgraph keys create`.
Roles, each with the rights of the ones before it: `reader` (actors, campaigns, indicators,
research queries), `analyst` (+ attributions, ad hoc Cypher), `ingest` (+ bundles), `admin`.

**TLP**: every key has a clearance (clear, green, amber, amber+strict, red). Objects and
relationships marked above it are invisible on every read path: searches, profiles, pivots,
research queries and attribution, whose scores come from a model trained only on what the key
may see (one model per clearance). **Ad hoc Cypher (`POST /v1/cypher`) cannot be
filtered reliably, so it is allowed only to analyst keys cleared for `red`.** It is read-only
(a keyword scan, then the engine's read-only path), with a timeout and a row cap.

Errors are RFC 9457 problem details (`application/problem+json`).
"""


def model_loader(settings: Settings, store: GraphStore | None) -> Callable[[], Any]:
    """The default way to load the attribution models: the latest version under
    ``<home>/models``, one model per TLP clearance."""

    def load() -> Any:
        import torch

        from actorgraph.gnn.attribute import Attributors

        # Requests run in parallel threads and each forward pass is tiny: one intra-op thread
        # per inference avoids OpenMP spin contention.
        torch.set_num_threads(1)

        return load_newest_loadable(settings.models_dir, store, Attributors.load)

    return load


def preload_models(settings: Settings) -> Any:
    """The latest model version that loads, loaded without a store by the process that then
    forks the workers (``api.server``), its objects moved out of the cyclic collector's reach
    so that no collection writes to the pages the workers share. None when no version loads:
    each worker then tries for itself and reports why."""
    try:
        models = model_loader(settings, None)()
    except Exception as exc:  # the workers report it; a server without a model still serves
        log.warning("no attribution model loaded before the workers start: %s", exc)
        return None
    gc.collect()
    gc.freeze()
    return models


def load_newest_loadable(models_dir: Any, store: Any, load: Callable[..., Any]) -> Any:
    """The newest model version that loads, newest first: a version that fails (a corrupt or
    incompatible artefact) is logged and skipped, so one bad version does not leave the server
    without a model while an older one works.

    Raises:
        ModelError: no version exists, or none loads (the newest one's error).
    """
    from actorgraph.gnn.artefacts import list_versions

    versions = [m["version"] for m in reversed(list_versions(models_dir))]
    if not versions:
        return load(models_dir, store)  # raises the "run actorgraph train" error
    first: Exception | None = None
    for version in versions:
        try:
            return load(models_dir, store, version)
        except Exception as exc:  # any artefact error: try the previous version
            log.exception("model version %s could not be loaded", version)
            first = first or exc
    assert first is not None
    raise first


def newest_version(settings: Settings) -> Callable[[], str | None]:
    """The name of the newest complete model version under ``<home>/models`` (None if none):
    what the model holder compares with the loaded one to pick up a new ``actorgraph train``."""

    def newest() -> str | None:
        from actorgraph.gnn.artefacts import list_versions

        versions = list_versions(settings.models_dir)
        return versions[-1].get("version") if versions else None

    return newest


def check_safe(settings: Settings, keys_path: Any) -> None:
    """Refuse settings that are unsafe outside development.

    Raises:
        ValidationError: in production, when the key file is readable by other users.
    """
    if settings.env != "production":
        return
    if keys_path.exists() and keys_path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ValidationError(
            f"{keys_path} is readable by other users; run `chmod 600 {keys_path}` "
            "(refused outside development)"
        )


SWITCH_INTERVAL_S = 0.001


def create_app(
    settings: Settings | None = None,
    *,
    store: GraphStore | None = None,
    load_model: Callable[[], Any] | bool | None = True,
    preloaded: Any = None,
) -> FastAPI:
    """Build the API.

    Args:
        settings: the settings; read from the environment when None.
        store: an open store to use (not closed by the app); opened from ``settings`` at
            start-up and closed at shutdown when None.
        load_model: True for the default loader (latest model under ``<home>/models``), a
            callable that returns an ``Attributors`` (one version's models, one per TLP
            clearance), or False/None to serve without a model.
        preloaded: models the process that forked this one loaded without a store (an
            ``Attributors``, ``api.server``): bound to this app's store and served from the
            start, so that the workers share their memory instead of each loading its own;
            ``load_model`` still loads newer versions.

    Raises:
        ValidationError: unsafe settings outside development.
    """
    settings = settings or Settings()
    keys_path = settings.home / "keys.sqlite"
    check_safe(settings, keys_path)
    use_cache_dir(settings.cache_dir())  # the warninglists index, built once per data version
    metrics = Metrics(share_dir=settings.api_metrics_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Requests compute in pool threads while the event loop thread waits for the GIL to
        # read the next body or send a response; Python's default 5 ms switch interval makes
        # it wait that long per hand-off (benchmarks/RESULTS.md has the latencies).
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        owns = store is None
        inner = store if store is not None else open_store(settings.store_config())
        if owns:
            inner.ensure_schema()
        instrumented = InstrumentedStore(inner, metrics)
        latest = None
        loader: Callable[[], Any] | None
        if load_model is True:
            loader = model_loader(settings, instrumented)
            if settings.api_model_check_s > 0:
                latest = newest_version(settings)
        else:
            loader = load_model or None
        state = AppState(
            settings=settings,
            store=instrumented,
            keys=KeyStore(keys_path),
            limiter=SharedRateLimiter(settings.api_rate_limit_per_minute, keys_path),
            metrics=metrics,
            model=ModelHolder(
                loader,
                latest=latest,
                check_s=settings.api_model_check_s,
                preloaded=None if preloaded is None else with_store(preloaded, instrumented),
            ),
            owns_store=owns,
        )
        if state.model.load() is None:
            log.warning("serving without attribution: %s", state.model.reason)
        app.state.actorgraph = state
        try:
            yield
        finally:
            if owns:
                inner.close()

    app = FastAPI(
        title="actorgraph",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    problems.install(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.api_max_body_bytes)
    # Added after, so it runs before: no body is read for a caller without a key.
    app.add_middleware(AuthenticateFirst)
    if settings.api_cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api_cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    app.include_router(health.router)
    for module in (
        attributions,
        bundles,
        actors,
        campaigns,
        indicators,
        queries,
        cypher,
        export,
        briefings,
        taxii,
        decisions,
        confidence,
        clusters,
        audit,
    ):
        app.include_router(module.router)
    ui.mount(app)  # the analyst console at /ui/
    return app


def app_from_env(preloaded: Any = None, *, load_model: bool = True) -> FastAPI:
    """The app with settings from the environment, for a worker of ``actorgraph serve``.

    Args:
        preloaded: the models its parent loaded before forking (:func:`preload_models`).
        load_model: False to serve without a model (``actorgraph serve --no-model``).
    """
    return create_app(Settings(), load_model=load_model, preloaded=preloaded)
