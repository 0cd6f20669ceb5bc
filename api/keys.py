"""API keys: created once, stored only as hashes in ``<home>/keys.sqlite``, checked per request.

Keys live in SQLite beside the graph, never in it, so no Cypher (ad hoc or from the library)
can read them. A key is ``agk_<id>_<secret>``: ``id`` is public (lists, logs, revocation),
``secret`` is 256 random bits. Only ``sha256(key)`` is stored; a plain hash is enough for a
random secret of that size (a slow KDF protects guessable passwords, which these are not),
and it keeps a check per request in microseconds. Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import threading
from contextlib import suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from actorgraph.graph.errors import NotFound, ValidationError
from actorgraph.graph.tlp import TLP

ROLES: tuple[str, ...] = ("reader", "analyst", "ingest", "admin")
"""Ordered from least to most privileged; each role has every right of the ones before it."""

ROLE_RANK: dict[str, int] = {role: rank for rank, role in enumerate(ROLES)}

KEY_PREFIX = "agk"
_KEY_RE = re.compile(r"^agk_([0-9a-f]{12})_([A-Za-z0-9_-]{20,128})$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    tlp_level INTEGER NOT NULL,
    key_sha256 TEXT NOT NULL,
    created TEXT NOT NULL,
    revoked TEXT
)
"""


@dataclass(frozen=True)
class ApiKey:
    """What the server knows about a key: never the key itself."""

    id: str
    name: str
    role: str
    tlp_level: int
    created: str
    revoked: str | None = None

    @property
    def tlp(self) -> str:
        """The clearance as a TLP 2.0 name."""
        return TLP.parse(self.tlp_level).label

    def has_role(self, role: str) -> bool:
        """True when this key's role is ``role`` or a more privileged one."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]

    def to_dict(self) -> dict[str, Any]:
        """Plain data for `keys list --json` and logs."""
        return {**asdict(self), "tlp": self.tlp}


def check_role(role: str) -> str:
    """Return ``role`` if it is a known role, else raise ``ValidationError``."""
    if role not in ROLE_RANK:
        raise ValidationError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
    return role


class KeyStore:
    """The SQLite file of hashed API keys.

    Args:
        path: the SQLite file, usually ``<home>/keys.sqlite``; created on first use with mode 0600.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not self.path.exists():
            self.path.touch(mode=0o600)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)
        self._make_private()

    def _make_private(self) -> None:
        # Files from before this rule were 0644. SQLite gives its -wal and -shm files the
        # database's mode, so tightening all three keeps them so.
        for path in (self.path, *(Path(f"{self.path}{s}") for s in ("-wal", "-shm"))):
            with suppress(FileNotFoundError, PermissionError):  # another owner: theirs to fix
                path.chmod(0o600)

    def _connect(self) -> sqlite3.Connection:
        # One short connection per change: safe across threads and processes.
        return sqlite3.connect(self.path, timeout=5.0)

    def _reader(self) -> sqlite3.Connection:
        # The per-request check reuses one connection per thread (opening one costs more
        # than the lookup). In autocommit mode each SELECT is its own read transaction, so
        # a revocation by `actorgraph keys revoke` in another process is seen at once.
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(
                self.path, timeout=5.0, isolation_level=None, check_same_thread=False
            )
        return db

    def create(self, role: str, tlp: str = "clear", name: str | None = None) -> tuple[ApiKey, str]:
        """Create a key and return its record and the key text (shown once, never stored).

        Args:
            role: reader, analyst, ingest or admin.
            tlp: clearance (clear, green, amber, amber+strict, red).
            name: a label for people (who or what uses the key).

        Raises:
            ValidationError: unknown role or TLP level.
        """
        check_role(role)
        level = int(TLP.parse(tlp))
        key_id = secrets.token_hex(6)
        token = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        record = ApiKey(
            id=key_id,
            name=name or f"{role}-{key_id}",
            role=role,
            tlp_level=level,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        with self._connect() as db:
            db.execute(
                "INSERT INTO api_keys (id, name, role, tlp_level, key_sha256, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (record.id, record.name, role, level, _digest(token), record.created),
            )
        return record, token

    def list(self) -> list[ApiKey]:
        """Every key, revoked ones included, oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, name, role, tlp_level, created, revoked FROM api_keys "
                "ORDER BY created, id"
            ).fetchall()
        return [ApiKey(*row) for row in rows]

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key by its id; it stops working at the next request.

        Raises:
            NotFound: no key has this id.
        """
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._connect() as db:
            db.execute(
                "UPDATE api_keys SET revoked = coalesce(revoked, ?) WHERE id = ?", (now, key_id)
            )
            row = db.execute(
                "SELECT id, name, role, tlp_level, created, revoked FROM api_keys WHERE id = ?",
                (key_id,),
            ).fetchone()
        if row is None:
            raise NotFound(f"no API key with id {key_id!r}")
        return ApiKey(*row)

    def authenticate(self, token: str) -> ApiKey | None:
        """Return the live key that ``token`` is, or None (unknown, malformed or revoked)."""
        match = _KEY_RE.match(token)
        if match is None:
            return None
        row = (
            self._reader()
            .execute(
                "SELECT id, name, role, tlp_level, created, revoked, key_sha256 "
                "FROM api_keys WHERE id = ?",
                (match.group(1),),
            )
            .fetchone()
        )
        if row is None:
            # Spend the same hashing work as a hit so timing tells nothing about ids.
            hmac.compare_digest(_digest(token), "0" * 64)
            return None
        *fields, stored = row
        if not hmac.compare_digest(_digest(token), stored):
            return None
        key = ApiKey(*fields)
        return None if key.revoked else key


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
