"""Neo4j 5 through the official ``neo4j`` driver (never py2neo, which is end-of-life).

The same Cypher as the embedded store (the portable subset of docs/falkordb-cypher.md), run the
way the driver manual asks:

- writes in transaction functions (``execute_write``), which the driver retries on transient
  errors (a deadlock, a leader switch), so every write actorgraph sends is idempotent;
- reads in READ access mode (``execute_read``), so that Neo4j itself refuses a write on a
  read-only path (``Neo.ClientError.Statement.AccessMode``), behind the query guard;
- time limits as the transaction timeout of the unit of work (``@unit_of_work(timeout=...)``),
  which the server enforces and reports as ``TransactionTimedOutClientConfiguration``;
- the schema from ``cypher/schema.cypher``, applied and then checked: every constraint and index
  it names must exist and be online after ``ensure_schema``.

Values come back as ``FalkorStore`` returns them: nodes and relationships as dicts, temporal
values as ISO strings, and floats to FalkorDB's 15 significant digits, so that the same query
gives the same answer on both backends.

Per-backend paths kept on purpose, each tested on both engines:

- ``write_atomic`` (one ingest bundle, all or nothing) runs its statements in one transaction
  instead of chaining them into one query (see there);
- ``clear`` deletes with ``CALL { ... } IN TRANSACTIONS`` (one transaction per 10,000 nodes, so
  a large graph needs no huge transaction; FalkorDB deletes the whole graph key instead), which
  must run in an auto-commit transaction.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import time
from collections.abc import Iterator, Sequence
from typing import Any

from actorgraph.graph import arrival
from actorgraph.graph.errors import (
    QueryError,
    QueryTimeout,
    ReadOnlyViolation,
    StoreError,
    StoreUnavailable,
)
from actorgraph.graph.schema import neo4j_statements
from actorgraph.graph.store.base import GraphStore, Row

CLEAR = "MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
SHOW_CONSTRAINTS = "SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties"
SHOW_INDEXES = "SHOW INDEXES YIELD name, type, state, labelsOrTypes, properties"
COMPONENTS = "CALL dbms.components() YIELD name, versions, edition"
# How long ensure_schema waits for new indexes to come online (populating on a large graph).
INDEX_WAIT_S = 300
_DDL_NAME = re.compile(r"^CREATE\s+(CONSTRAINT|INDEX)\s+(\w+)\s+IF NOT EXISTS", re.IGNORECASE)
_TIMEOUT_CODES = ("TransactionTimedOut", "TransactionTimedOutClientConfiguration")
_READ_ONLY_CODES = ("Statement.AccessMode", "ForbiddenOnReadOnlyDatabase")


class Neo4jStore(GraphStore):
    """A Neo4j 5 database over Bolt. Thread-safe: the driver keeps a connection pool."""

    backend = "neo4j"

    def __init__(self, uri: str, *, user: str, password: str, database: str = "neo4j") -> None:
        """Connect and check that the server answers.

        Raises:
            StoreUnavailable: the server is down, unreachable, or refuses the credentials; the
                message names the URI.
        """
        import neo4j

        self._neo4j = neo4j
        self.uri = uri
        self.database = database
        try:
            # Notifications off: the server would attach planner hints to every result.
            self._driver = neo4j.GraphDatabase.driver(
                uri, auth=(user, password), notifications_min_severity="OFF"
            )
            self._driver.verify_connectivity()
        except neo4j.exceptions.AuthError as exc:
            raise StoreUnavailable(
                f"Neo4j at {uri} refused the credentials of user {user!r}: {exc.message}"
            ) from exc
        except (neo4j.exceptions.DriverError, neo4j.exceptions.Neo4jError, ValueError) as exc:
            raise StoreUnavailable(f"cannot reach Neo4j at {uri}: {_text(exc)}") from exc

    # -- queries ---------------------------------------------------------------------------
    def query(
        self,
        cypher: str,
        params: dict[str, Any] | None = None,
        *,
        read_only: bool = False,
        timeout_ms: int | None = None,
        max_rows: int | None = None,
    ) -> list[Row]:
        self._check_query(cypher, params, read_only=read_only)
        timeout_s = timeout_ms / 1000 if timeout_ms else None

        def run(tx: Any) -> list[Row]:
            # A write is stamped when its transaction runs (graph/arrival.py).
            result = tx.run(cypher, params if read_only else arrival.resolve(params))
            # Plain data out of the transaction function: it may run more than once.
            rows = [
                {k: _plain(v) for k, v in record.items()}
                for record in itertools.islice(result, max_rows)
            ]
            # The row cap without rewriting the query (a wrapping CALL {} would make Neo4j
            # refuse unnamed columns such as `RETURN a.name`): the server produces records only
            # as the driver pulls them, and consume() discards the rest, so it stops here.
            result.consume()
            return rows

        work = self._neo4j.unit_of_work(timeout=timeout_s)(run)  # the server's timeout
        # A pull asks for no more records than the cap, so the server does not run ahead of it.
        options: dict[str, Any] = {} if max_rows is None else {"fetch_size": max(1, max_rows)}
        once = read_only and timeout_s
        if once:
            # A timed read (research Cypher, the API's reads) runs once, in READ access mode:
            # the driver's retries would run a read that ran out of the server's memory pool
            # again and again for 30 s, far past its time limit.
            options["default_access_mode"] = self._neo4j.READ_ACCESS
        with (
            self._translated(cypher),
            self._driver.session(database=self.database, **options) as session,
        ):
            if once:
                with session.begin_transaction(timeout=timeout_s) as tx:
                    return run(tx)  # left without commit: rolled back, as a read may be
            if read_only:
                return session.execute_read(work)
            return session.execute_write(work)

    def write_atomic(self, statements: Sequence[tuple[str, Sequence[Row]]], **params: Any) -> int:
        """Run the statements in one transaction function: all or nothing, retried as a whole.

        Not the default chained query: Neo4j plans every new query text, and a chain of a few
        dozen ``CALL {}`` subqueries is a new text for each shape of input that takes seconds to
        plan. Separate statements are a handful of texts, planned once and then cached.

        Returns:
            The number of statements sent (one transaction).
        """
        if not statements:
            return 0
        for cypher, rows in statements:
            self._check_query(cypher, {**params, "rows": rows}, read_only=False)

        def work(tx: Any) -> None:
            stamped = arrival.resolve(params) or {}  # one unit, one arrival time
            for cypher, rows in statements:
                tx.run(cypher, {**stamped, "rows": list(rows)}).consume()

        with (
            self._translated(statements[0][0]),
            self._driver.session(database=self.database) as session,
        ):
            session.execute_write(work)
        return len(statements)

    def _autocommit(self, cypher: str, params: dict[str, Any] | None = None) -> list[Row]:
        """Run a statement in an auto-commit transaction (DDL, ``IN TRANSACTIONS``); not retried."""
        self._check_query(cypher, params, read_only=False)
        with (
            self._translated(cypher),
            self._driver.session(database=self.database) as session,
        ):
            result = session.run(cypher, params)
            return [{k: _plain(v) for k, v in record.items()} for record in result]

    @contextlib.contextmanager
    def _translated(self, cypher: str) -> Iterator[None]:
        """Driver and server errors -> the project's errors, the URI named."""
        errors = self._neo4j.exceptions
        try:
            yield
        except (errors.ServiceUnavailable, errors.SessionExpired) as exc:
            raise StoreUnavailable(f"Neo4j at {self.uri} is unavailable: {_text(exc)}") from exc
        except errors.AuthError as exc:
            raise StoreUnavailable(f"Neo4j at {self.uri} refused the credentials") from exc
        except errors.Neo4jError as exc:
            raise _query_error(exc, cypher) from exc
        except errors.DriverError as exc:
            raise StoreError(f"Neo4j driver error ({self.uri}): {_text(exc)}") from exc

    # -- schema ----------------------------------------------------------------------------
    def ensure_schema(self) -> None:
        """Apply ``cypher/schema.cypher`` (idempotent) and check that all of it is in place.

        Raises:
            StoreError: a constraint or index the file names is missing afterwards, or an index
                did not come online (the message names them).
        """
        statements = neo4j_statements()
        for statement in statements:
            self._autocommit(statement)
        self._autocommit("CALL db.awaitIndexes($seconds)", {"seconds": INDEX_WAIT_S})
        have = self.schema_objects()
        missing = [
            name
            for kind, name in schema_names(statements)
            if name not in have["constraints" if kind == "CONSTRAINT" else "indexes"]
        ]
        offline = sorted(n for n, state in have["indexes"].items() if state != "ONLINE")
        if missing or offline:
            raise StoreError(
                f"Neo4j schema at {self.uri} is incomplete: missing {missing or 'nothing'}, "
                f"not online {offline or 'none'}"
            )

    def schema_objects(self) -> dict[str, dict[str, str]]:
        """Constraints (name -> type) and indexes (name -> state) of the database."""
        constraints = self.query(SHOW_CONSTRAINTS, read_only=True)
        indexes = self.query(SHOW_INDEXES, read_only=True)
        return {
            "constraints": {r["name"]: r["type"] for r in constraints},
            "indexes": {r["name"]: r["state"] for r in indexes},
        }

    # -- lifecycle -------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        t0 = time.perf_counter()
        components = self.query(COMPONENTS, read_only=True)
        ping_ms = (time.perf_counter() - t0) * 1000
        nodes = self.query("MATCH (n) RETURN count(n) AS c", read_only=True)[0]["c"]
        rels = self.query("MATCH ()-[r]->() RETURN count(r) AS c", read_only=True)[0]["c"]
        kernel = next((c for c in components if c["name"] == "Neo4j Kernel"), None)
        return {
            "backend": self.backend,
            "uri": self.uri,
            "database": self.database,
            "version": kernel["versions"][0] if kernel else None,
            "edition": kernel["edition"] if kernel else None,
            "reachable": True,
            "ping_ms": round(ping_ms, 3),
            "nodes": nodes,
            "relationships": rels,
        }

    def clear(self) -> None:
        """Delete every node and relationship (the schema stays)."""
        self._autocommit(CLEAR)

    def close(self) -> None:
        try:
            self._driver.close()
        except Exception as exc:  # pragma: no cover
            raise StoreError(f"closing the Neo4j driver failed: {exc}") from exc


def schema_names(statements: list[str]) -> list[tuple[str, str]]:
    """``(CONSTRAINT|INDEX, name)`` of every named DDL statement of ``schema.cypher``."""
    out = []
    for statement in statements:
        if match := _DDL_NAME.match(statement):
            out.append((match.group(1).upper(), match.group(2)))
    return out


def _query_error(exc: Any, cypher: str) -> QueryError:
    """The project's error for a server-side failure, by Neo4j status code."""
    code = exc.code or ""
    message = _one_line(exc.message or str(exc))
    if any(code.endswith(c) for c in _TIMEOUT_CODES):
        return QueryTimeout(f"query timed out: {message}", cypher)
    if any(code.endswith(c) for c in _READ_ONLY_CODES):
        return ReadOnlyViolation(f"write refused on a read-only path: {message}", cypher)
    if code.endswith("MemoryPoolOutOfMemoryError"):
        return QueryError(
            f"query failed: Neo4j ran out of transaction memory ({message}); give the server "
            "a larger heap (NEO4J_JAVA_OPTS=-Xmx4g make neo4j-up), or hold less in one query "
            "(smaller write batches, less collected at once)",
            cypher,
        )
    if code.endswith("ConstraintValidationFailed"):
        return QueryError(f"query failed: unique constraint violated: {message}", cypher)
    return QueryError(f"query failed: {message}", cypher)


# The caret under the column a syntax error points at; the line before it quotes the query.
_CARET = re.compile(r"^\s*\^\s*$")


def _one_line(message: str) -> str:
    """A server message on one line, as FalkorDB's are (the CLI prints one line per error).

    Neo4j's syntax errors end with the line of the query they are about, quoted, and a caret
    under the column on a line of its own: both are left out (the first line names the line,
    column and offset), and the other lines are joined.
    """
    lines = message.splitlines()
    kept = [
        line.strip()
        for i, line in enumerate(lines)
        if not _CARET.match(line) and not (i + 1 < len(lines) and _CARET.match(lines[i + 1]))
    ]
    return " ".join(line for line in kept if line)


def _text(exc: BaseException) -> str:
    """One line out of a driver error (some carry the whole connection history)."""
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())


def _plain(value: Any) -> Any:
    """Driver values -> plain Python, as FalkorStore returns them (floats included: see
    ``_as_falkordb_float``)."""
    from neo4j.graph import Node, Path, Relationship

    if isinstance(value, float):
        return _as_falkordb_float(value)
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, Node):
        return {"_labels": sorted(value.labels), **{k: _plain(v) for k, v in value.items()}}
    if isinstance(value, Relationship):
        return {"_type": value.type, **{k: _plain(v) for k, v in value.items()}}
    if isinstance(value, Path):
        return {
            "nodes": [_plain(n) for n in value.nodes],
            "relationships": [_plain(r) for r in value.relationships],
        }
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "iso_format"):  # neo4j temporal types -> ISO strings, as on FalkorDB
        return value.iso_format()
    return value


def _as_falkordb_float(value: float) -> float:
    """A double as FalkorDB returns it: printed with 15 significant digits (``%.15g``) and read
    back, where Neo4j sends all 17. Without this a ratio a query computes, or a stored model
    score, differs between the backends in its last digits (0.229946524064171 on FalkorDB,
    0.22994652406417113 on Neo4j); with it, every float is the same on both.
    """
    return float(f"{value:.15g}")
