"""Serving with several worker processes: the model is loaded once, by the parent, before it
forks the workers.

A million-indicator model is gigabytes of arrays, indexes and Python objects and takes minutes
to build. uvicorn's own supervisor starts each worker as a fresh interpreter, so every worker
loaded and held a copy of its own (benchmarks/RESULTS.md, issue 17). gunicorn's master loads
the app before it forks (``preload_app``): here that is the model alone, so the workers start
at once and share its pages copy-on-write, and a worker that dies is replaced by a fork that
is ready as soon as it exists. Each worker still runs uvicorn's event loop
(``uvicorn_worker.UvicornWorker``, the worker class uvicorn's maintainers publish for gunicorn)
and builds the app itself on its first event (:class:`PerWorkerApp`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from gunicorn.app.base import BaseApplication

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class PerWorkerApp:
    """An ASGI app that builds the real one on its first call (the lifespan start-up), in the
    worker that receives it: the store connection, metrics file, key store and thread pools
    belong to one worker and must not be made in the master and copied by ``fork``.

    Args:
        build: makes the app (``api.main.create_app``); called once per worker.
    """

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._app: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            self._app = self._build()
        await self._app(scope, receive, send)


class Server(BaseApplication):
    """gunicorn with uvicorn workers, configured in code (gunicorn's "custom application").

    Args:
        app: the ASGI app every worker serves (the master's copy is forked into each).
        host, port: where to listen.
        workers: how many worker processes.
        timeout_s: a worker silent for longer is killed and replaced by the master.
        log_level: gunicorn's error log level; no access log.
    """

    def __init__(
        self, app: Any, *, host: str, port: int, workers: int, timeout_s: int, log_level: str
    ) -> None:
        self._app = app
        self._options = {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": workers,
            "worker_class": "uvicorn_worker.UvicornWorker",
            "preload_app": True,
            "timeout": timeout_s,
            "graceful_timeout": 10,
            "keepalive": 5,  # uvicorn's own default; gunicorn's is 2 s
            "loglevel": log_level,
            "accesslog": None,
            # Its runtime control socket is one fixed path per user ($HOME/.gunicorn): two
            # servers would fight over it, and nothing here uses it.
            "control_socket_disable": True,
        }
        super().__init__()

    def load_config(self) -> None:
        for name, value in self._options.items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        return self._app
