"""The audit log: an append-only record of who did what, when, from where, with what result.

It is a SQLite file in the data directory (``<home>/audit.sqlite``) in WAL mode with
``synchronous=FULL``: the API's workers, ``actorgraph`` commands and the key store write from
several processes at once, SQLite serialises those appends and makes each one durable at commit,
and a reader never sees half a record (an append-only JSON-lines file would need its own locking
for that). Triggers refuse every ``UPDATE`` and ``DELETE``, so the file only grows.

An action that changes the graph is logged in two records with one event id: an ``intent``
before the change and an ``outcome`` after it. The graph change itself is one atomic unit whose
records carry the same id, so a process that dies between the two leaves an intent without an
outcome, and :meth:`AuditLog.reconcile` settles it from the graph: applied if the graph holds the
event's id, not applied otherwise. An action with nothing to reconcile is one ``done`` record.

Every event is marked with the TLP level of what it reveals (``tlp_level`` on its first record),
and :meth:`AuditLog.events` returns only the events at or below the reader's clearance: a key
learns nothing from the log that it could not read in the graph (docs/SECURITY.md). An outcome
is read only beside its intent, whose marking covers it.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterable
from contextlib import closing, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, get_args

from actorgraph.graph.tlp import TLP

__all__ = ["ACTIONS", "UNMARKED", "AuditAction", "AuditLog", "audit_path", "now_stamp"]

AuditAction = Literal[
    "decision", "cluster.name", "cluster.merge", "key.create", "key.revoke", "ingest", "train"
]
ACTIONS: tuple[str, ...] = get_args(AuditAction)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event TEXT NOT NULL,
    phase TEXT NOT NULL CHECK (phase IN ('intent', 'outcome', 'done')),
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    origin TEXT,
    result TEXT NOT NULL,
    detail TEXT,
    tlp_level INTEGER
);
CREATE INDEX IF NOT EXISTS records_event ON records (event);
CREATE TRIGGER IF NOT EXISTS records_no_update BEFORE UPDATE ON records
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS records_no_delete BEFORE DELETE ON records
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

_INSERT = (
    "INSERT INTO records (event, phase, at, who, action, target, origin, result, detail, "
    "tlp_level) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

# What an event reveals when its writer did not say, and what a record written before events
# were marked (no ``tlp_level``) reveals: unknown, so it reads as red, visible only to red.
UNMARKED = TLP.RED

# One row per event visible at the clearance: its first record with the outcome record, if any,
# beside it.
_EVENTS = """
SELECT e.seq, e.event, e.at, e.who, e.action, e.target, e.origin, e.detail,
       COALESCE(o.result, e.result) AS result, o.at AS finished, o.detail AS outcome,
       COALESCE(e.tlp_level, :unmarked) AS tlp_level
FROM records e LEFT JOIN records o ON o.event = e.event AND o.phase = 'outcome'
WHERE e.phase IN ('intent', 'done') AND (:action IS NULL OR e.action = :action)
  AND COALESCE(e.tlp_level, :unmarked) <= :max_tlp
ORDER BY e.seq DESC
LIMIT :limit
"""

_PENDING = """
SELECT e.event, e.at, e.who, e.action, e.target, e.origin FROM records e
WHERE e.phase = 'intent' AND e.action = ? AND e.at <= ?
  AND NOT EXISTS (SELECT 1 FROM records o WHERE o.event = e.event AND o.phase = 'outcome')
ORDER BY e.seq
"""

PENDING = "pending"


def audit_path(home: Path) -> Path:
    """Where the audit log of a data directory lives."""
    return Path(home) / "audit.sqlite"


def _stamp(at: datetime) -> str:
    # Fixed width, so that the text order of two stamps is their time order.
    return at.isoformat(timespec="microseconds").replace("+00:00", "Z")


def now_stamp() -> str:
    """The time now, as audit entries, decisions and provisional actors record it (UTC, fixed
    width: ``2026-01-02T03:04:05.000006Z``)."""
    return _stamp(datetime.now(UTC))


class AuditLog:
    """The append-only audit log file.

    Args:
        path: the SQLite file (:func:`audit_path`); created on first use with mode 0600.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not self.path.exists():
            self.path.touch(mode=0o600)
        with closing(self._connect()) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            _add_marking_column(db)
        for suffix in ("-wal", "-shm"):  # SQLite gives them the database's mode; keep it so
            with suppress(FileNotFoundError, PermissionError):
                Path(f"{self.path}{suffix}").chmod(0o600)

    def _connect(self) -> sqlite3.Connection:
        # One short autocommit connection per call: safe across threads and processes.
        db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        db.execute("PRAGMA synchronous=FULL")
        return db

    def _append(self, rows: Iterable[tuple[Any, ...]]) -> None:
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(_INSERT, list(rows))
            db.execute("COMMIT")

    def record(
        self,
        *,
        who: str,
        action: str,
        target: str | None,
        origin: str,
        result: str,
        detail: dict[str, Any] | None = None,
        tlp: TLP | int | str | None = None,
    ) -> str:
        """Append a one-record event (``done``); returns its event id.

        ``tlp`` is the marking of what the record reveals (the writer's clearance where what it
        touched is not known more precisely); see :func:`_event_level` for when it is None.
        """
        event = f"audit--{uuid.uuid4()}"
        stamp, dumped, level = now_stamp(), _dump(detail), _event_level(tlp)
        self._append([(event, "done", stamp, who, action, target, origin, result, dumped, level)])
        return event

    def intent(
        self,
        *,
        event: str,
        who: str,
        action: str,
        target: str | None,
        origin: str,
        detail: dict[str, Any] | None = None,
        tlp: TLP | int | str | None = None,
    ) -> None:
        """Append the intent of a graph change whose records carry ``event`` as their id;
        ``tlp`` as in :meth:`record`."""
        self.intents(
            [
                {
                    "event": event,
                    "who": who,
                    "action": action,
                    "target": target,
                    "origin": origin,
                    "detail": detail,
                    "tlp": tlp,
                }
            ]
        )

    def intents(self, intents: list[dict[str, Any]]) -> None:
        """Append the intents of graph changes made in one atomic unit, all or none: each
        holds the arguments of :meth:`intent` (``event, who, action, target, origin, detail``,
        and optionally ``tlp``)."""
        at = now_stamp()
        self._append(
            (
                i["event"],
                "intent",
                at,
                i["who"],
                i["action"],
                i.get("target"),
                i["origin"],
                PENDING,
                _dump(i.get("detail")),
                _event_level(i.get("tlp")),
            )
            for i in intents
        )

    def outcome(self, event: str, result: str, detail: dict[str, Any] | None = None) -> None:
        """Append the outcome of an intent (``ok``, or ``error: ...``)."""
        self.outcomes([event], result, detail)

    def outcomes(
        self, events: list[str], result: str, detail: dict[str, Any] | None = None
    ) -> None:
        """Append one outcome for each of several intents (those of one atomic unit)."""
        at = now_stamp()
        self._append(
            (e, "outcome", at, "", "", None, None, result, _dump(detail), None) for e in events
        )

    def events(
        self, *, limit: int = 100, action: str | None = None, max_tlp: TLP | int = TLP.RED
    ) -> list[dict[str, Any]]:
        """The newest events marked at or below ``max_tlp`` first: ``event, at, who, action,
        target, origin, result, finished, detail, outcome, tlp`` (``result`` is ``pending`` for
        an intent without an outcome; ``tlp`` is the event's marking).

        ``max_tlp`` defaults to red, unlike the graph's read functions: the log's operator tool,
        ``actorgraph audit``, has full access and reads all of it; a reader with a clearance,
        such as an API key, must pass it.
        """
        params = {
            "action": action,
            "limit": limit,
            "max_tlp": int(TLP.parse(max_tlp)),
            "unmarked": int(UNMARKED),
        }
        with closing(self._connect()) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute(_EVENTS, params).fetchall()
        return [
            {
                **{k: r[k] for k in ("event", "at", "who", "action", "target", "origin")},
                "result": r["result"],
                "finished": r["finished"],
                "detail": json.loads(r["detail"]) if r["detail"] else None,
                "outcome": json.loads(r["outcome"]) if r["outcome"] else None,
                "tlp": TLP(r["tlp_level"]).label,
            }
            for r in rows
        ]

    def reconcile(
        self,
        action: str,
        applied: Callable[[list[str]], set[str]],
        *,
        older_than_s: float = 300.0,
    ) -> int:
        """Settle intents of ``action`` left without an outcome (a process died in between).

        Args:
            action: the action whose intents to settle (``decision``, ``cluster.name``,
                ``cluster.merge``).
            applied: which of these event ids the graph holds.
            older_than_s: only intents at least this old, so that a change still in flight in
                another process is not settled under it.

        Returns:
            The number of intents settled.
        """
        cutoff = _stamp(datetime.now(UTC) - timedelta(seconds=older_than_s))
        with closing(self._connect()) as db:
            pending = [r[0] for r in db.execute(_PENDING, (action, cutoff))]
        if not pending:
            return 0
        found = applied(pending)
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            rows = []
            for event in pending:
                done = db.execute(
                    "SELECT 1 FROM records WHERE event = ? AND phase = 'outcome'", (event,)
                ).fetchone()
                if done:  # settled by someone else meanwhile
                    continue
                result = "ok (reconciled)" if event in found else "not applied (reconciled)"
                rows.append((event, "outcome", now_stamp(), "", "", None, None, result, None, None))
            db.executemany(_INSERT, rows)
            db.execute("COMMIT")
        return len(rows)


def _event_level(tlp: TLP | int | str | None) -> int | None:
    """The marking an event is stored with: ``tlp`` when the writer states it (a decision's,
    a naming's or a merge's is the decider's clearance, which marks what it writes), otherwise
    none, which reads as ``UNMARKED`` (red) like a record from before events were marked: what
    it reveals is not known.

    Raises:
        ValidationError: ``tlp`` is not a TLP level.
    """
    return int(TLP.parse(tlp)) if tlp is not None else None


def _add_marking_column(db: sqlite3.Connection) -> None:
    """Give a log written before events were marked its ``tlp_level`` column (its old records
    keep none, which reads as ``UNMARKED``). Checked before taking the write lock, so that
    opening an up-to-date log writes nothing; checked again under it, since another process
    may be adding the column at the same time."""
    if _has_marking_column(db):
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        if not _has_marking_column(db):
            db.execute("ALTER TABLE records ADD COLUMN tlp_level INTEGER")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _has_marking_column(db: sqlite3.Connection) -> bool:
    return any(row[1] == "tlp_level" for row in db.execute("PRAGMA table_info(records)"))


def _dump(detail: dict[str, Any] | None) -> str | None:
    return json.dumps(detail, sort_keys=True, default=str) if detail else None
