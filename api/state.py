"""What one running app holds: settings, the store, keys, limits, metrics and the model."""

from __future__ import annotations

import copy
import gc
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from actorgraph.api.keys import KeyStore
from actorgraph.api.metrics import Metrics
from actorgraph.api.ratelimit import RateLimiter, SharedRateLimiter
from actorgraph.graph.errors import ActorgraphError
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP

log = logging.getLogger("actorgraph.api")


class ModelHolder:
    """Holds the attribution models: loads them once, and swaps in newer versions as they appear.

    A version holds one model per TLP clearance (``gnn.attribute.Attributors``); a key is
    served the model of the highest level at or below its clearance (:meth:`for_clearance`),
    so its answer depends only on data it may see. A version is loaded and swapped whole.

    A server started before the first ``actorgraph train`` picks the model up without a
    restart: while none is loaded, a request retries the load at most every ``retry_s``. Once
    one is loaded, a request checks at most every ``check_s`` whether ``latest`` names another
    version; if so, that version loads in a background thread while requests keep using the
    current one, and replaces it when complete (TensorFlow Serving polls its model directory
    the same way). A version that fails to load is logged, left aside and not tried again; the
    current model keeps serving.

    Args:
        loader: returns the loaded models of the latest version (an ``Attributors``: its
            ``version`` and ``for_clearance(level)``); raises when there is none.
        retry_s: the least time between two load attempts while no model is loaded.
        latest: returns the name of the newest complete version, or None; without it, the
            first loaded model serves until restart.
        check_s: the least time between two ``latest`` checks.
        preloaded: models loaded by the parent process before it forked the workers
            (``api.server``), already bound to this worker's store (:func:`with_store`): served
            first, without calling ``loader``; newer versions load as usual.
    """

    def __init__(
        self,
        loader: Callable[[], Any] | None,
        retry_s: float = 30.0,
        *,
        latest: Callable[[], str | None] | None = None,
        check_s: float = 10.0,
        preloaded: Any = None,
    ) -> None:
        self._loader = loader
        self._retry_s = retry_s
        self._latest = latest
        self._check_s = check_s
        self._model: Any = None
        self._last_try = -float("inf")
        self._last_check = -float("inf")
        self._loading: str | None = None  # the version a background load is reading
        self._failed: set[str] = set()
        self._lock = threading.Lock()
        self.reason = "no attribution model is loaded"
        self.reload_error: str | None = None
        self._preloaded = preloaded

    def load(self) -> Any:
        """Try to load now (at start-up); returns the model or None."""
        with self._lock:
            if self._preloaded is not None:
                self._model, self._preloaded = self._preloaded, None
                self._last_try = time.monotonic()
                # Only freeze: collecting would write to every object the parent loaded, and so
                # copy into this worker each page it shares with the others.
                gc.freeze()
                return self._model
            return self._load_locked()

    def _load_locked(self) -> Any:
        self._last_try = time.monotonic()
        if self._loader is None:
            self.reason = "the server was started without an attribution model"
            return None
        try:
            self._model = self._loader()
            freeze_heap()
        except ImportError as exc:
            self.reason = f"the attribution engine is not available: {exc}"
        except ActorgraphError as exc:
            self.reason = f"no attribution model: {exc}"
        except Exception as exc:  # a corrupt artefact must not stop the server
            log.exception("loading the attribution model failed")
            self.reason = f"the attribution model could not be loaded: {type(exc).__name__}: {exc}"
        return self._model

    def get(self) -> Any:
        """The loaded models (one version), or None (``reason`` says why)."""
        model = self._model
        if model is not None:
            if self._latest is not None and time.monotonic() - self._last_check >= self._check_s:
                self._maybe_reload(model)
            return model
        with self._lock:
            if self._model is None and time.monotonic() - self._last_try >= self._retry_s:
                self._load_locked()
        return self._model

    def _maybe_reload(self, current: Any) -> None:
        with self._lock:
            if time.monotonic() - self._last_check < self._check_s or self._loading:
                return
            self._last_check = time.monotonic()
        assert self._latest is not None
        try:
            newest = self._latest()
        except OSError as exc:  # an unreadable models directory must not fail a request
            log.warning("checking for a newer attribution model failed: %s", exc)
            return
        if not newest or newest == getattr(current, "version", None) or newest in self._failed:
            return
        with self._lock:
            if self._loading:
                return
            self._loading = newest
        threading.Thread(
            target=self._reload, args=(newest,), name="model-reload", daemon=True
        ).start()

    def _reload(self, newest: str) -> None:
        try:
            assert self._loader is not None
            model = self._loader()
        except Exception as exc:  # a corrupt artefact must not stop the server
            log.exception(
                "attribution model %s could not be loaded, keeping the current one", newest
            )
            self._failed.add(newest)
            self.reload_error = f"{newest}: {type(exc).__name__}: {exc}"
        else:
            got = getattr(model, "version", newest)
            if got != newest:  # the loader skipped the newest version: it does not load
                self._failed.add(newest)
                self.reload_error = f"{newest}: could not be loaded; serving {got}"
                if got == getattr(self._model, "version", None):
                    return
            else:
                self.reload_error = None
            self._model = model  # one reference swap: requests in flight keep the old model
            freeze_heap()
            log.info("attribution model %s loaded", got)
        finally:
            self._loading = None

    def for_clearance(self, max_tlp: int) -> Any:
        """The attributor that serves a key of this clearance, or None (``reason_for`` says
        why)."""
        models = self.get()
        return None if models is None else models.for_clearance(max_tlp)

    def reason_for(self, max_tlp: int) -> str:
        """Why :meth:`for_clearance` gave None for this clearance."""
        if self._model is None:
            return self.reason
        # Says nothing about the levels above the key's: whether they hold data is not its
        # business.
        return (
            f"no attribution model serves clearance {TLP.parse(max_tlp).label}: the loaded "
            "version was trained for other clearances only, or found nothing at or below it to "
            "learn from (`actorgraph train` trains a model per clearance)"
        )

    @property
    def loaded(self) -> bool:
        """True when a model is loaded."""
        return self._model is not None


def freeze_heap() -> None:
    """Put every object alive now (a loaded model is hundreds of thousands) out of the cyclic
    collector's reach, so that a full collection, during which every request of the worker
    waits, does not walk them (benchmarks/RESULTS.md has the timings).
    Objects of an earlier model are unfrozen first, so that a swap does not keep them: those
    still in use by a request in flight are frozen again and released at the next swap.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def with_store(models: Any, store: GraphStore) -> Any:
    """Models loaded without a store (``gnn.attribute.Attributors``), bound to ``store``: each
    attributor is copied shallowly (its arrays, indexes and snapshot stay shared) with the store
    set, so a worker forked from the process that loaded them queries through its own
    connection. Levels that share a model still share one copy."""
    bound: dict[int, Any] = {}
    by_level = {}
    for level, attributor in models.by_level.items():
        if id(attributor) not in bound:
            own = copy.copy(attributor)
            own.store = store
            bound[id(attributor)] = own
        by_level[level] = bound[id(attributor)]
    return type(models)(by_level, models.version)


@dataclass
class AppState:
    """Everything the routes reach through ``api.deps``."""

    settings: Any
    store: GraphStore
    keys: KeyStore
    limiter: RateLimiter | SharedRateLimiter
    metrics: Metrics
    model: ModelHolder
    owns_store: bool = False
