"""What one running app holds: settings, the store, keys, limits, metrics and the model."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from api.keys import KeyStore
from api.metrics import Metrics
from api.ratelimit import RateLimiter
from graph.errors import ActorgraphError
from graph.store import GraphStore

log = logging.getLogger("actorgraph.api")


class ModelHolder:
    """Loads the attribution model once; retries later when there is none yet.

    A server started before the first ``actorgraph train`` picks the model up without a
    restart: while none is loaded, a request retries the load at most every ``retry_s``.

    Args:
        loader: returns a loaded ``Attributor``; raises when there is none.
        retry_s: the least time between two load attempts.
    """

    def __init__(self, loader: Callable[[], Any] | None, retry_s: float = 30.0) -> None:
        self._loader = loader
        self._retry_s = retry_s
        self._model: Any = None
        self._last_try = -float("inf")
        self._lock = threading.Lock()
        self.reason = "no attribution model is loaded"

    def load(self) -> Any:
        """Try to load now (at start-up); returns the model or None."""
        with self._lock:
            return self._load_locked()

    def _load_locked(self) -> Any:
        self._last_try = time.monotonic()
        if self._loader is None:
            self.reason = "the server was started without an attribution model"
            return None
        try:
            self._model = self._loader()
        except ImportError as exc:
            self.reason = f"the attribution engine is not available: {exc}"
        except ActorgraphError as exc:
            self.reason = f"no attribution model: {exc}"
        except Exception as exc:  # a corrupt artefact must not stop the server
            log.exception("loading the attribution model failed")
            self.reason = f"the attribution model could not be loaded: {type(exc).__name__}: {exc}"
        return self._model

    def get(self) -> Any:
        """The loaded model, or None (``reason`` says why)."""
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None and time.monotonic() - self._last_try >= self._retry_s:
                self._load_locked()
        return self._model

    @property
    def loaded(self) -> bool:
        """True when a model is loaded."""
        return self._model is not None


@dataclass
class AppState:
    """Everything the routes reach through ``api.deps``."""

    settings: Any
    store: GraphStore
    keys: KeyStore
    limiter: RateLimiter
    metrics: Metrics
    model: ModelHolder
    owns_store: bool = False
