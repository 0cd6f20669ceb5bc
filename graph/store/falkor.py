"""The embedded default store: FalkorDB through the ``falkordb`` client on a unix socket."""

from __future__ import annotations

import contextlib
import functools
import re
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import redis

from actorgraph.graph import arrival
from actorgraph.graph.errors import (
    QueryError,
    QueryTimeout,
    ReadOnlyViolation,
    StoreError,
    StoreUnavailable,
    StoreUnresponsive,
    ValidationError,
)
from actorgraph.graph.lexer import (
    opening_withs,
    returned_order,
    split_literals,
    strip_literals,
    unterminated,
)
from actorgraph.graph.schema import falkordb_statements
from actorgraph.graph.store import GraphStore, Row, embedded
from actorgraph.graph.store.embedded import ClientTimeouts

if TYPE_CHECKING:
    import falkordb


class FalkorStore(GraphStore):
    """A FalkorDB graph. Thread-safe: the client keeps a connection pool.

    Every wait on the server is bounded (``ClientTimeouts``): a reply that does not come in
    time raises ``StoreUnresponsive`` instead of blocking the caller forever.
    """

    backend = "falkordb"

    def __init__(
        self,
        socket_path: Path,
        *,
        graph: str = "actorgraph",
        home: Path | None = None,
        owns_server: bool = False,
        timeouts: ClientTimeouts | None = None,
    ) -> None:
        self.socket_path = Path(socket_path)
        self.graph_name = graph
        self.home = home
        self.timeouts = timeouts or ClientTimeouts()
        self._owns_server = owns_server
        # One client (connection pool) per reply timeout: queries, GRAPH.BULK commands, and
        # ad hoc queries whose engine timeout is longer than the default reply timeout.
        self._clients: dict[float, falkordb.FalkorDB] = {}
        self._clients_lock = threading.Lock()
        try:
            self._db = self._client(self.timeouts.reply_s)
            self._graph = self._db.select_graph(graph)
        except redis.TimeoutError as exc:
            raise self._unresponsive(self.timeouts.reply_s, "the client's handshake") from exc
        except Exception as exc:
            raise StoreUnavailable(f"cannot reach FalkorDB at {self.socket_path}: {exc}") from exc
        self._closed = False
        self._engine_threads: int | None = None

    @classmethod
    def embedded(
        cls, home: Path, *, graph: str = "actorgraph", timeouts: ClientTimeouts | None = None
    ) -> FalkorStore:
        """Attach to the server of ``home``, starting one (stopped again on close) if none runs."""
        socket_path, started = embedded.start(Path(home), auto=True)
        return cls(
            socket_path, graph=graph, home=Path(home), owns_server=started, timeouts=timeouts
        )

    def with_graph(self, graph: str) -> FalkorStore:
        """Another graph on the same server (tests use one graph per test)."""
        return FalkorStore(self.socket_path, graph=graph, timeouts=self.timeouts)

    def _client(self, reply_s: float) -> falkordb.FalkorDB:
        """The client whose connections wait at most ``reply_s`` for a reply (made once).

        Making one asks the server about itself, so it may raise ``redis.TimeoutError`` too.
        """
        import falkordb

        with self._clients_lock:
            client = self._clients.get(reply_s)
            if client is None:
                client = falkordb.FalkorDB(
                    unix_socket_path=str(self.socket_path),
                    socket_timeout=reply_s,
                    socket_connect_timeout=self.timeouts.connect_s,
                    retry=embedded.no_retries(),
                )
                self._clients[reply_s] = client
            return client

    def _unresponsive(self, waited_s: float, what: str) -> StoreUnresponsive:
        log = f"; its log: {self.home / 'falkordb.log'}" if self.home is not None else ""
        return StoreUnresponsive(
            f"FalkorDB at {self.socket_path} sent no reply to {what} within {waited_s:g} s: the "
            "server is stuck or badly overloaded. It is left running (its data is intact); "
            f"try again, or restart it with `actorgraph store stop`{log}",
            waited_s,
        )

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
        asked = cypher
        if max_rows is not None:
            # Wrapped in a LIMIT, not sliced here: FalkorDB sends the whole result at once, so
            # only the engine can stop at the cap (see with_row_cap).
            cypher, params = with_row_cap(cypher, params, max_rows)
        # Writes queue on the server's write lock (see embedded.write_lock for the engine race
        # it avoids); reads run in parallel.
        with contextlib.nullcontext() if read_only else embedded.write_lock(self.socket_path):
            if not read_only:  # stamped in the order writes are applied (graph/arrival.py)
                params = arrival.resolve(params)
            try:
                result = self._run(cypher, params, read_only, timeout_ms)
            except StoreUnresponsive:
                raise  # the server runs but does not answer: a restart would not replace it
            except QueryError as exc:
                # Reading a graph nobody has written to yet is an empty result, not an error.
                if read_only and "empty key" in str(exc):
                    return []
                # The row cap's `RETURN *` is named when the query itself does not end in one.
                capped = max_rows is not None and not isinstance(exc, QueryTimeout)
                if capped and "RETURN *" in str(exc):
                    raise ValidationError(
                        "the query must end with RETURN to be capped to a number of rows"
                    ) from exc
                raise
            except StoreUnavailable as exc:
                if self.home is None:
                    raise
                # The embedded server died (OOM kill, crash): start it again from its log once
                # and retry. Every write actorgraph sends is an idempotent MERGE, so a retry is
                # safe. A timed read (research Cypher, the API's reads) that was running when it
                # died may be what killed it (a value outgrowing memory within one record): it
                # is not sent again, or it would kill the new server too.
                self._restart()
                if read_only and timeout_ms and _died_while_running(exc):
                    raise QueryError(
                        "the graph store stopped while this query ran (it may have run the "
                        "server out of memory); the store was restarted and the query was not "
                        "sent again",
                        cypher,
                    ) from exc
                result = self._run(cypher, params, read_only, timeout_ms)
        header = [h[1] if isinstance(h, (list, tuple)) else h for h in (result.header or [])]
        header = [h.decode() if isinstance(h, bytes) else str(h) for h in header]
        rows = [
            {name: _plain(value) for name, value in zip(header, row, strict=True)}
            for row in (result.result_set or [])
        ]
        if max_rows is None or len(header) < 2:
            return rows
        # The cap's `RETURN *` gave the columns in name order: back in the query's own.
        order = returned_order(asked, header)
        return rows if order == header else [{k: row[k] for k in order} for row in rows]

    def _run(
        self, cypher: str, params: dict[str, Any] | None, read_only: bool, timeout_ms: int | None
    ) -> Any:
        reply_s = self.timeouts.for_query(timeout_ms)
        try:
            graph = self._graph
            if reply_s != self.timeouts.reply_s:
                graph = self._client(reply_s).select_graph(self.graph_name)
            if read_only:
                return graph.ro_query(cypher, params, timeout=timeout_ms)
            return graph.query(cypher, params, timeout=timeout_ms)
        except redis.TimeoutError as exc:
            raise self._unresponsive(reply_s, "a query") from exc
        except Exception as exc:
            raise _translate(exc, cypher) from exc

    def _restart(self) -> None:
        assert self.home is not None
        socket_path, _ = embedded.start(self.home, auto=True)
        self._close_clients()
        self.socket_path = socket_path
        self._db = self._client(self.timeouts.reply_s)
        self._graph = self._db.select_graph(self.graph_name)

    def _close_clients(self) -> None:
        with self._clients_lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            with contextlib.suppress(redis.RedisError, OSError):  # already gone: nothing to do
                client.connection.close()

    # -- the ad hoc budget ------------------------------------------------------------------
    @property
    def adhoc_slots(self) -> int:
        """Half the engine's threads (``GRAPH.CONFIG GET THREAD_COUNT``), at least one."""
        if self._engine_threads is None:
            try:
                _, threads = self.execute_command("GRAPH.CONFIG", "GET", "THREAD_COUNT")
                self._engine_threads = int(threads)
            except (StoreError, ValueError, TypeError):
                return 1  # not known now: the narrowest budget, asked again next time
        return embedded.adhoc_slots(self._engine_threads)

    def adhoc_slot(self, wait_s: float) -> contextlib.AbstractContextManager[None]:
        """One of the server's ad hoc slots, shared by every process using it."""
        return embedded.adhoc_slot(self.socket_path, self.adhoc_slots, wait_s)

    def execute_command(self, *args: Any) -> Any:
        """A raw server command (schema DDL such as GRAPH.CONSTRAINT). Not for user input.

        A ``GRAPH.BULK`` command waits for its reply up to ``timeouts.bulk_s``, others up to
        ``timeouts.reply_s``.
        """
        if args[:1] == ("GRAPH.BULK",):
            return self._bulk(*args)
        reply_s = self.timeouts.reply_s
        try:
            return self._client(reply_s).connection.execute_command(*args)
        except redis.TimeoutError as exc:
            raise self._unresponsive(reply_s, f"{args[0]}") from exc
        except Exception as exc:
            raise _translate(exc, " ".join(map(str, args))) from exc

    def _bulk(self, *args: Any) -> Any:
        """One ``GRAPH.BULK`` command, during which no automatic AOF rewrite may start.

        A 1M-indicator bulk load sets off 7 to 9 automatic rewrites in its 30 s of commands,
        each a fork of the server after FalkorDB's own fork preparation (up to 2 s at 1M,
        "Fork preparation time" in its log). The one load that hung (every server thread idle,
        its command never answered) stopped right after such a rewrite; the cause is not
        known, so the fork is kept apart from the module's command. Rewrites still run between
        commands, so the log stays compact.
        """
        try:
            client = self._client(self.timeouts.bulk_s).connection
            client.config_set(_AOF_REWRITE, 0)
            try:
                return client.execute_command(*args)
            finally:
                # Best effort, and not another long wait on a server that stopped answering:
                # one that does not take it back still compacts its log when it stops.
                with contextlib.suppress(redis.RedisError, OSError):
                    control = self._client(self.timeouts.ping_s).connection
                    control.config_set(_AOF_REWRITE, embedded.AOF_REWRITE_PERCENTAGE)
        except redis.TimeoutError as exc:
            raise self._unresponsive(self.timeouts.bulk_s, "GRAPH.BULK") from exc
        except Exception as exc:
            raise _translate(exc, "GRAPH.BULK") from exc

    # -- lifecycle -------------------------------------------------------------------------
    def ensure_schema(self) -> None:
        for statement in falkordb_statements(self.graph_name):
            try:
                if statement[0] == "cypher":
                    self.query(statement[1])
                else:
                    self.execute_command(*statement[1])
            except QueryError as exc:
                # DDL is not idempotent on FalkorDB: "already indexed" / "already exists" is fine.
                if "already" not in str(exc).lower():
                    raise

    def health(self) -> dict[str, Any]:
        t0 = time.perf_counter()
        try:
            self._client(self.timeouts.ping_s).connection.ping()
        except redis.TimeoutError as exc:
            raise self._unresponsive(self.timeouts.ping_s, "PING") from exc
        except Exception as exc:
            raise StoreUnavailable(
                f"FalkorDB at {self.socket_path} does not answer: {exc}"
            ) from exc
        latency_ms = (time.perf_counter() - t0) * 1000
        # Read-only: a health check must not queue behind a long ingest on the write lock.
        nodes = sum(r["c"] for r in self.query("MATCH (n) RETURN count(n) AS c", read_only=True))
        rels = sum(
            r["c"] for r in self.query("MATCH ()-[r]->() RETURN count(r) AS c", read_only=True)
        )
        return {
            "backend": self.backend,
            "graph": self.graph_name,
            "socket": str(self.socket_path),
            "reachable": True,
            "ping_ms": round(latency_ms, 3),
            "nodes": nodes,
            "relationships": rels,
        }

    def clear(self) -> None:
        try:
            self._graph.delete()
        except Exception as exc:
            if "empty key" not in str(exc).lower() and "invalid graph" not in str(exc).lower():
                raise _translate(exc, "GRAPH.DELETE") from exc
        self._graph = self._db.select_graph(self.graph_name)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._close_clients()
        if self.home is not None:
            embedded.release(self.home)


_AOF_REWRITE = "auto-aof-rewrite-percentage"

ROW_CAP_PARAM = "actorgraph_row_cap"
_CAPPED = "CALL {{\n{query}\n}}\nRETURN * LIMIT ${param}"
# Put before a WITH that opens the query (or a UNION branch) inside the cap's CALL { }: there a
# leading WITH would import variables from outside, and FalkorDB refuses one that projects
# anything else. After one UNWIND of one element it is an ordinary WITH, and the variable goes
# out of scope at it. A leading `WITH *` would keep it, so it is refused (as FalkorDB refuses it
# outside a CALL).
_NOT_AN_IMPORT = "UNWIND [0] AS actorgraph_row_cap_anchor "
_ALL_BEFORE = re.compile(r"WITH\s+(?:DISTINCT\s+)?\*", re.IGNORECASE)


def _died_while_running(exc: StoreUnavailable) -> bool:
    """Whether the server closed the connection of a query it had received (it died during
    that query), rather than refusing a connection (it was gone before)."""
    return "closed by server" in str(exc.__cause__ or exc).lower()


def with_row_cap(
    cypher: str, params: dict[str, Any] | None, max_rows: int
) -> tuple[str, dict[str, Any]]:
    """The query wrapped so that FalkorDB stops after ``max_rows`` rows, and its parameters.

    FalkorDB answers a query with its whole result at once, so slicing afterwards would let one
    query build millions of rows (and gigabytes) first; ``CALL { <query> } RETURN * LIMIT n``
    makes the engine stop early. The columns come back under their own names (``RETURN *``
    orders them by name; ``FalkorStore.query`` puts them back in the query's order,
    ``lexer.returned_order``). A query (or UNION branch) that begins with ``WITH`` gets an
    ``UNWIND`` of one row before it, which changes neither its rows nor its columns.

    Raises:
        ValidationError: the text could close the wrapper early (unbalanced braces, an
            unterminated string, name or comment), uses the cap's parameter name, or begins
            with ``WITH *``.
    """
    if params and ROW_CAP_PARAM in params:
        raise ValidationError(f"parameter name {ROW_CAP_PARAM!r} is reserved")
    if (token := unterminated(cypher)) is not None:
        raise ValidationError(f"unterminated string, name or comment: {token[:40]!r}")
    depth = 0
    for ch in strip_literals(cypher):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            raise ValidationError("unbalanced '}' in the query")
    if depth:
        raise ValidationError("unbalanced '{' in the query")
    return _CAPPED.format(query=_imports_nothing(cypher), param=ROW_CAP_PARAM), {
        **(params or {}),
        ROW_CAP_PARAM: max_rows,
    }


def _imports_nothing(cypher: str) -> str:
    """``cypher`` with ``_NOT_AN_IMPORT`` before each WITH that opens it or a UNION branch."""
    parts, last = [], 0
    for offset in opening_withs(cypher):
        if _ALL_BEFORE.match(split_literals(cypher[offset:])[0]):
            raise ValidationError("a query cannot begin with WITH * (nothing is in scope yet)")
        parts += [cypher[last:offset], _NOT_AN_IMPORT]
        last = offset
    return "".join(parts) + cypher[last:]


def _translate(exc: Exception, cypher: str) -> StoreError:
    import redis

    text = str(exc)
    low = text.lower()
    if isinstance(exc, (redis.ConnectionError, ConnectionError, FileNotFoundError)):
        return StoreUnavailable(f"FalkorDB unreachable: {text}")
    if "timed out" in low and "query" in low:
        return QueryTimeout(f"query timed out: {text}", cypher)
    if "mem consumption exceeded" in low:
        return QueryError(
            "query stopped: it needed more memory than the engine allows one query "
            f"(QUERY_MEM_CAPACITY); narrow it down or aggregate earlier ({text})",
            cypher,
        )
    if "read-only" in low or "ro_query" in low:
        return ReadOnlyViolation(f"write refused on a read-only path: {text}", cypher)
    return QueryError(f"query failed: {text}", cypher)


# Values that need no conversion; most cells of a result are these. Checked first because
# _plain runs once per cell and the import and isinstance chain below is slow by comparison.
_SCALARS = frozenset({str, int, float, bool, type(None)})


@functools.cache
def _graph_types() -> tuple[type[Any], type[Any], type[Any]]:
    from falkordb import Edge, Node
    from falkordb import Path as FPath

    return Node, Edge, FPath


def _plain(value: Any) -> Any:
    """FalkorDB values -> plain Python (nodes, edges, paths become dicts)."""
    if type(value) in _SCALARS:
        return value
    Node, Edge, FPath = _graph_types()
    if isinstance(value, Node):
        return {"_labels": list(value.labels or []), **(value.properties or {})}
    if isinstance(value, Edge):
        return {"_type": value.relation, **(value.properties or {})}
    if isinstance(value, FPath):
        return {
            "nodes": [_plain(n) for n in value.nodes()],
            "relationships": [_plain(e) for e in value.edges()],
        }
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
