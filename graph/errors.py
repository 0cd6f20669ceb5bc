"""The one exception hierarchy of actorgraph.

Every error that crosses a layer boundary is an ``ActorgraphError``. Third-party errors (redis,
neo4j, json, pydantic) are translated where they are caught:
``raise StoreUnavailable(...) from exc``.
The CLI prints ``str(err)`` to stderr and exits non-zero; the API maps classes to problem details.

    ActorgraphError
    ├── StoreError
    │   ├── StoreUnavailable        the server cannot be started or reached
    │   │   └── StoreUnresponsive   it took a request and sent no reply in time
    │   ├── QueryError              the engine rejected a query (syntax, type, constraint)
    │   ├── QueryTimeout            a read ran past its time budget
    │   ├── StoreBusy               every engine slot for this kind of query is taken
    │   └── ReadOnlyViolation       a write was attempted on a read-only path
    ├── IngestError                 a whole input was refused (nothing of it was written)
    │   └── StixIngestError         one STIX/MISP object is invalid (object_id, reason)
    ├── InvalidIndicator            a value is not a valid indicator of any supported kind
    ├── ModelError                  no trained model, corrupt artefact, bad training input
    ├── NotFound                    a named thing (actor, query, model) does not exist
    └── ValidationError             bad arguments from a user (parameters, options)
"""

from __future__ import annotations


class ActorgraphError(Exception):
    """Root of every error actorgraph raises on purpose."""


class StoreError(ActorgraphError):
    """Something went wrong talking to the graph store."""


class StoreUnavailable(StoreError):
    """The store cannot be started or reached."""


class StoreUnresponsive(StoreUnavailable):
    """The server took a request and sent no reply within the client's reply timeout.

    Not retried: the request may still be running, and a server that stopped answering is
    reported, never replaced (a second server on its data would lose writes).
    """

    def __init__(self, message: str, waited_s: float) -> None:
        super().__init__(message)
        self.waited_s = waited_s


class QueryError(StoreError):
    """The engine rejected a query."""

    def __init__(self, message: str, query: str | None = None) -> None:
        super().__init__(message)
        self.query = query


class QueryTimeout(QueryError):
    """A read query ran past its time budget and was cut off."""


class StoreBusy(StoreError):
    """Every engine slot for this kind of query (ad hoc Cypher) is taken; try again later."""


class ReadOnlyViolation(QueryError):
    """A write was attempted through a read-only path."""


class IngestError(ActorgraphError):
    """An input was refused as a whole; nothing of it was written."""

    def __init__(self, message: str, source: str | None = None) -> None:
        super().__init__(f"{source}: {message}" if source else message)
        self.source = source
        self.reason = message


class StixIngestError(IngestError):
    """One object of a bundle is invalid, which refuses the whole bundle."""

    def __init__(self, object_id: str, reason: str, source: str | None = None) -> None:
        super().__init__(f"object {object_id!r}: {reason}", source)
        self.object_id = object_id
        self.reason = reason


class InvalidIndicator(ActorgraphError):
    """A value is not a valid indicator of any supported kind (``value`` whole; the message
    quotes at most ``SHOWN`` characters of it, so that a megabyte of garbage gives a line,
    not a megabyte, in a terminal, a log or an HTTP problem)."""

    SHOWN = 200

    def __init__(self, value: str, reason: str) -> None:
        shown = (
            repr(value)
            if len(value) <= self.SHOWN
            else f"{value[: self.SHOWN]!r}... ({len(value)} characters)"
        )
        super().__init__(f"invalid indicator {shown}: {reason}")
        self.value = value
        self.reason = reason


class ModelError(ActorgraphError):
    """No trained model, a corrupt artefact, or unusable training data."""


class NotFound(ActorgraphError):
    """A named thing (actor, campaign, query, model version) does not exist."""


class ValidationError(ActorgraphError):
    """Bad arguments from a user: parameters, options, request fields."""
