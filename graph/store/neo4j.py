"""Neo4j 5 through the official ``neo4j`` driver (never py2neo, which is end-of-life).

Deliberately thin: the same Cypher as the embedded store, transaction functions (retried by the
driver, so every write actorgraph sends is idempotent), reads in READ access mode so Neo4j itself
refuses writes on read-only paths. No Neo4j server runs on the project's CI machines; this path is
exercised by running the same Cypher on the embedded engine (see the README).
"""

from __future__ import annotations

import time
from typing import Any

from actorgraph.graph.errors import (
    QueryError,
    QueryTimeout,
    ReadOnlyViolation,
    StoreError,
    StoreUnavailable,
)
from actorgraph.graph.schema import neo4j_statements
from actorgraph.graph.store import GraphStore, Row


class Neo4jStore(GraphStore):
    backend = "neo4j"

    def __init__(self, uri: str, *, user: str, password: str, database: str = "neo4j") -> None:
        import neo4j

        self._neo4j = neo4j
        self.database = database
        try:
            self._driver = neo4j.GraphDatabase.driver(uri, auth=(user, password))
            self._driver.verify_connectivity()
        except Exception as exc:
            raise StoreUnavailable(f"cannot reach Neo4j at {uri}: {exc}") from exc

    def query(
        self,
        cypher: str,
        params: dict[str, Any] | None = None,
        *,
        read_only: bool = False,
        timeout_ms: int | None = None,
    ) -> list[Row]:
        self._check_query(cypher, params, read_only=read_only)
        neo4j = self._neo4j
        q = neo4j.Query(cypher, timeout=(timeout_ms / 1000) if timeout_ms else None)

        def work(tx: Any) -> list[Row]:
            result = tx.run(q, params or {})
            return [{k: _plain(v) for k, v in record.items()} for record in result]

        try:
            with self._driver.session(database=self.database) as session:
                if read_only:
                    return session.execute_read(work)
                return session.execute_write(work)
        except neo4j.exceptions.ServiceUnavailable as exc:
            raise StoreUnavailable(f"Neo4j unavailable: {exc}") from exc
        except neo4j.exceptions.Neo4jError as exc:
            code = exc.code or ""
            if "TransactionTimedOut" in code or "Timeout" in code:
                raise QueryTimeout(f"query timed out: {exc.message}", cypher) from exc
            if (
                "ForbiddenOnReadOnlyDatabase" in code
                or "AccessMode" in code
                or "WriteOnReadOnly" in code
            ):
                raise ReadOnlyViolation(
                    f"write refused on a read-only path: {exc.message}", cypher
                ) from exc
            raise QueryError(f"query failed: {exc.message}", cypher) from exc

    def ensure_schema(self) -> None:
        for stmt in neo4j_statements():
            self.query(stmt)

    def health(self) -> dict[str, Any]:
        t0 = time.perf_counter()
        nodes = self.query("MATCH (n) RETURN count(n) AS c")[0]["c"]
        rels = self.query("MATCH ()-[r]->() RETURN count(r) AS c")[0]["c"]
        return {
            "backend": self.backend,
            "database": self.database,
            "reachable": True,
            "ping_ms": round((time.perf_counter() - t0) * 1000, 3),
            "nodes": nodes,
            "relationships": rels,
        }

    def clear(self) -> None:
        self.query("MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS")

    def close(self) -> None:
        try:
            self._driver.close()
        except Exception as exc:  # pragma: no cover
            raise StoreError(f"closing the Neo4j driver failed: {exc}") from exc


def _plain(value: Any) -> Any:
    from neo4j.graph import Node, Path, Relationship

    if isinstance(value, Node):
        return {"_labels": sorted(value.labels), **dict(value)}
    if isinstance(value, Relationship):
        return {"_type": value.type, **dict(value)}
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
