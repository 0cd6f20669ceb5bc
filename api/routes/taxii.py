"""A read-only TAXII 2.1 server, so OpenCTI, MISP and other platforms can pull actorgraph as a feed.

Discovery at ``/taxii2/``, one API root (``/taxii2/api/``), one collection per TLP level. The
collection of a level holds everything marked at or below it (the ``TLP:AMBER`` collection also
carries green and clear objects), so a consumer pulls the one collection that matches its
clearance. A key sees and reads only the collections at or below its own clearance; any role
may read. Authentication: ``Authorization: Bearer <key>``, or HTTP Basic with the key as the
password (what most TAXII clients offer).

Objects come from ``graph.reports.export`` (the whole graph within the level) and are cached for
``CACHE_SECONDS``. TAXII's ``date_added`` is when the object's current version arrived in the
store: the ``added`` stamp the writers put on every node and relationship (graph/arrival.py),
the same at every export, so a client polling with ``added_after`` fetches an object again only
when a new version of it is written; each query of a write is stamped when the store applies it,
so a poll between two queries of one write misses nothing of the rest. Objects with no stamp
behind them: a source identity and a marking definition take that of the first object that refers
to them (``created_by_ref``, ``object_marking_refs``), an observable that of the newest object
that refers to it. Left open: two writers that apply queries in the same millisecond, and on
Neo4j concurrent transactions, may commit in another order than their stamps. Pagination:
``limit`` plus an opaque ``next`` token; ``added_after`` and
``match[id|type|spec_version|version]`` filter.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from actorgraph.api.deps import StateDep, StoreDep
from actorgraph.api.keys import ApiKey
from actorgraph.api.problems import Problem
from actorgraph.graph.formats.provenance import iso
from actorgraph.graph.reports.export import dated_export
from actorgraph.graph.store import GraphStore
from actorgraph.graph.tlp import TLP

router = APIRouter(prefix="/taxii2", tags=["taxii"])

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
API_ROOT = "api"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
CACHE_SECONDS = 60.0
_NS = uuid.UUID("2f0f6d7e-7a53-5d1c-9a8e-3b1f4c2d6e70")
# Collection id -> (level, TLP 2.0 name); the ids are stable uuid5s of the names.
COLLECTIONS: dict[str, tuple[TLP, str]] = {
    str(uuid.uuid5(_NS, f"tlp:{level.label}")): (level, level.label) for level in TLP
}
_EPOCH = "1970-01-01T00:00:00.000Z"

_bearer = HTTPBearer(auto_error=False)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="actorgraph", Basic realm="actorgraph"'}


class TaxiiResponse(Response):
    media_type = TAXII_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def taxii_key(
    request: Request,
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiKey:
    """The caller's API key, from a Bearer token or from HTTP Basic (the key as password).

    Raises:
        Problem: 401 without a valid key, 429 over the rate limit, 406 when the client does not
            accept the TAXII 2.1 media type.
    """
    accept = request.headers.get("accept", "*/*")
    if not any(
        part in accept
        for part in ("application/taxii+json", "*/*", "application/*", "application/json")
    ):
        raise Problem(
            406,
            f"this TAXII server answers {TAXII_MEDIA_TYPE}; Accept was {accept!r}",
            slug="not-acceptable",
        )
    token = None
    if credentials is not None and credentials.scheme.lower() == "bearer":
        token = credentials.credentials
    else:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            token = decoded.partition(":")[2] or None
    if not token:
        raise Problem(
            401,
            "an API key is required (Bearer, or Basic with the key as password)",
            slug="unauthenticated",
            headers=_CHALLENGE,
        )
    key = state.keys.authenticate(token)
    if key is None:
        raise Problem(
            401,
            "the API key is not valid (unknown or revoked)",
            slug="unauthenticated",
            headers=_CHALLENGE,
        )
    wait = state.limiter.acquire(key.id)
    if wait > 0:
        raise Problem(
            429,
            f"rate limit exceeded for key {key.id}",
            slug="rate-limited",
            headers={"Retry-After": str(max(1, round(wait)))},
        )
    return key


TaxiiKey = Annotated[ApiKey, Depends(taxii_key)]
ApiRoot = Annotated[str, Path(max_length=64)]
CollectionId = Annotated[str, Path(max_length=64)]


def _collection_info(collection_id: str) -> dict[str, Any]:
    _, name = COLLECTIONS[collection_id]
    return {
        "id": collection_id,
        "title": f"actorgraph TLP:{name.upper()}",
        "description": (
            "Threat actors, campaigns, malware, techniques and indicators"
            f" marked up to TLP:{name.upper()}."
        ),
        "alias": f"tlp-{name.replace('+', '-')}",
        "can_read": True,
        "can_write": False,
        "media_types": [STIX_MEDIA_TYPE],
    }


def _visible(collection_id: str, key: ApiKey) -> int:
    """The level of a collection the key may read; 404 otherwise (hidden, not forbidden)."""
    entry = COLLECTIONS.get(collection_id)
    if entry is None or entry[0] > key.tlp_level:
        raise Problem(404, f"no collection {collection_id!r}", slug="not-found")
    return entry[0]


def _root(api_root: str) -> None:
    if api_root != API_ROOT:
        raise Problem(404, f"no API root {api_root!r}", slug="not-found")


@router.get("/", response_class=TaxiiResponse)
def discovery(request: Request, key: TaxiiKey) -> TaxiiResponse:
    """TAXII 2.1 server discovery.

    The API root is a relative URL (TAXII 2.1 allows them): an absolute one would be built from
    the Host header the caller sent, which is the caller's to choose. Only the server's own
    configuration (uvicorn's ``root_path``, behind a proxy) prefixes it.
    """
    base = str(request.scope.get("root_path") or "").rstrip("/")
    return TaxiiResponse(
        {
            "title": "actorgraph TAXII 2.1",
            "description": (
                "Threat-actor knowledge of actorgraph as STIX 2.1, one collection per TLP level."
            ),
            "default": f"{base}/taxii2/{API_ROOT}/",
            "api_roots": [f"{base}/taxii2/{API_ROOT}/"],
        }
    )


@router.get("/{api_root}/", response_class=TaxiiResponse)
def api_root(api_root: ApiRoot, key: TaxiiKey, state: StateDep) -> TaxiiResponse:
    """The API root's information."""
    _root(api_root)
    return TaxiiResponse(
        {
            "title": "actorgraph",
            "description": "Read-only feed of the actorgraph knowledge graph.",
            "versions": [TAXII_MEDIA_TYPE],
            "max_content_length": int(state.settings.api_max_body_bytes),
        }
    )


@router.get("/{api_root}/collections/", response_class=TaxiiResponse)
def collections(api_root: ApiRoot, key: TaxiiKey) -> TaxiiResponse:
    """The collections this key may read: those at or below its clearance."""
    _root(api_root)
    infos = [
        _collection_info(cid) for cid, (level, _) in COLLECTIONS.items() if level <= key.tlp_level
    ]
    return TaxiiResponse({"collections": infos})


@router.get("/{api_root}/collections/{collection_id}/", response_class=TaxiiResponse)
def collection(
    api_root: ApiRoot,
    collection_id: CollectionId,
    key: TaxiiKey,
) -> TaxiiResponse:
    """One collection's information."""
    _root(api_root)
    _visible(collection_id, key)
    return TaxiiResponse(_collection_info(collection_id))


# ------------------------------------------------------------------------------ objects
_cache: dict[tuple[int, int], tuple[float, list[tuple[str, dict[str, Any]]]]] = {}
_cache_lock = threading.Lock()


def collection_objects(store: GraphStore, level: int) -> list[tuple[str, dict[str, Any]]]:
    """``(date_added, object)`` pairs of a level's collection, oldest first (cached briefly)."""
    key = (id(store), level)
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if hit and now - hit[0] < CACHE_SECONDS:
            return hit[1]
    bundle, stamped = dated_export(store, max_tlp=level)
    objects = bundle["objects"]
    added = _date_added(objects, stamped)
    pairs = sorted(((added[o["id"]], o) for o in objects), key=lambda p: (p[0], p[1]["id"]))
    with _cache_lock:
        _cache[key] = (now, pairs)
    return pairs


def clear_cache() -> None:
    """Forget cached collections (tests; after an ingest when freshness matters)."""
    with _cache_lock:
        _cache.clear()


def _date_added(objects: list[dict[str, Any]], stamped: dict[str, str]) -> dict[str, str]:
    """Object id -> its ``date_added``: its stamp (in STIX's form, as ``added_after`` is
    compared with it), else its own time, else that of the newest object referring to it."""
    added = {
        o["id"]: iso(stamped.get(o["id"]) or o.get("modified") or o.get("created")) or ""
        for o in objects
    }
    # Observables have no timestamps: they arrive with the newest object that refers to them.
    for obj in objects:
        mine = added[obj["id"]]
        refs = [obj.get("source_ref"), obj.get("target_ref"), *(obj.get("object_refs") or [])]
        for ref in refs:
            if ref in added and ref not in stamped and not _has_own_time(ref) and mine > added[ref]:
                added[ref] = mine
    # A source's identity (created_by_ref) and a marking definition (object_marking_refs) have
    # no arrival of their own, and their fixed times are older than any poll. Each arrives with
    # the first object that refers to it, so a client gets it with that object, not never.
    first: dict[str, str] = {}
    for obj in objects:
        mine = added[obj["id"]]
        marks = obj.get("object_marking_refs")
        for ref in [obj.get("created_by_ref"), *(marks if isinstance(marks, list) else [])]:
            if not isinstance(ref, str) or ref not in added or ref in stamped or not mine:
                continue
            if ref not in first or mine < first[ref]:
                first[ref] = mine
    added.update(first)
    return {k: v or _EPOCH for k, v in added.items()}


def _has_own_time(stix_id: str) -> bool:
    """True for STIX types that carry their own created/modified (SDOs, SROs, markings)."""
    return stix_id.partition("--")[0] not in (
        "ipv4-addr",
        "ipv6-addr",
        "domain-name",
        "url",
        "email-addr",
        "file",
        "x509-certificate",
        "autonomous-system",
    )


def _encode_next(date_added: str, object_id: str) -> str:
    return base64.urlsafe_b64encode(f"{date_added}|{object_id}".encode()).decode().rstrip("=")


def _decode_next(token: str) -> tuple[str, str]:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        date_added, _, object_id = text.partition("|")
        if not object_id:
            raise ValueError(token)
        return date_added, object_id
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise Problem(400, f"invalid next token {token[:80]!r}", slug="bad-request") from exc


def _filtered(
    pairs: list[tuple[str, dict[str, Any]]],
    *,
    added_after: str | None,
    ids: list[str],
    types: list[str],
    spec_versions: list[str],
    versions: list[str],
) -> list[tuple[str, dict[str, Any]]]:
    after = _timestamp(added_after, "added_after") if added_after else None
    wanted = {
        _timestamp(v, "match[version]") for v in versions if v not in ("last", "first", "all")
    }
    out = []
    for added, obj in pairs:
        if after and added <= after:
            continue
        if ids and obj["id"] not in ids:
            continue
        if types and obj["type"] not in types:
            continue
        if spec_versions and obj.get("spec_version", "2.1") not in spec_versions:
            continue
        if (
            versions
            and len(wanted) == len(versions)
            and obj.get("modified")
            and iso(obj["modified"]) not in wanted
        ):
            continue
        out.append((added, obj))
    return out


def _timestamp(value: str, name: str) -> str:
    """A TAXII timestamp parameter in the canonical form, or 400."""
    try:
        parsed = iso(value)
    except (ValueError, OverflowError, OSError) as exc:
        raise Problem(400, f"{name} {value[:60]!r} is not a timestamp", slug="bad-request") from exc
    if parsed is None:
        raise Problem(400, f"{name} is empty", slug="bad-request")
    return parsed


def _split(values: list[str] | None) -> list[str]:
    return [v for item in values or [] for v in item.split(",") if v]


def _page(
    pairs: list[tuple[str, dict[str, Any]]], limit: int | None, next_token: str | None
) -> tuple[list[tuple[str, dict[str, Any]]], bool, str | None]:
    if next_token:
        cursor = _decode_next(next_token)
        pairs = [p for p in pairs if (p[0], p[1]["id"]) > cursor]
    size = min(limit or DEFAULT_LIMIT, MAX_LIMIT)
    page, more = pairs[:size], len(pairs) > size
    token = _encode_next(page[-1][0], page[-1][1]["id"]) if more and page else None
    return page, more, token


def _headers(page: list[tuple[str, dict[str, Any]]]) -> dict[str, str]:
    if not page:
        return {}
    return {"X-TAXII-Date-Added-First": page[0][0], "X-TAXII-Date-Added-Last": page[-1][0]}


AddedAfter = Annotated[str | None, Query(max_length=40)]
PageLimit = Annotated[int | None, Query(ge=1, le=100_000)]
NextPage = Annotated[str | None, Query(max_length=400)]
MatchId = Annotated[list[str] | None, Query(alias="match[id]")]
MatchType = Annotated[list[str] | None, Query(alias="match[type]")]
MatchSpec = Annotated[list[str] | None, Query(alias="match[spec_version]")]
MatchVersion = Annotated[list[str] | None, Query(alias="match[version]")]


@router.get("/{api_root}/collections/{collection_id}/objects/", response_class=TaxiiResponse)
def get_objects(
    api_root: ApiRoot,
    collection_id: CollectionId,
    key: TaxiiKey,
    store: StoreDep,
    added_after: AddedAfter = None,
    limit: PageLimit = None,
    next: NextPage = None,
    match_id: MatchId = None,
    match_type: MatchType = None,
    match_spec_version: MatchSpec = None,
    match_version: MatchVersion = None,
) -> TaxiiResponse:
    """An envelope of the collection's objects, oldest ``date_added`` first, paginated."""
    _root(api_root)
    level = _visible(collection_id, key)
    pairs = _filtered(
        collection_objects(store, level),
        added_after=added_after,
        ids=_split(match_id),
        types=_split(match_type),
        spec_versions=_split(match_spec_version),
        versions=_split(match_version),
    )
    page, more, token = _page(pairs, limit, next)
    envelope: dict[str, Any] = {"more": more}
    if token:
        envelope["next"] = token
    if page:
        envelope["objects"] = [obj for _, obj in page]
    return TaxiiResponse(envelope, headers=_headers(page))


@router.get(
    "/{api_root}/collections/{collection_id}/objects/{object_id}/", response_class=TaxiiResponse
)
def get_object(
    api_root: ApiRoot,
    collection_id: CollectionId,
    object_id: Annotated[str, Path(max_length=200)],
    key: TaxiiKey,
    store: StoreDep,
) -> TaxiiResponse:
    """One object of the collection (its single version), as an envelope."""
    _root(api_root)
    level = _visible(collection_id, key)
    page = [p for p in collection_objects(store, level) if p[1]["id"] == object_id]
    if not page:
        raise Problem(
            404, f"no object {object_id!r} in collection {collection_id!r}", slug="not-found"
        )
    return TaxiiResponse({"more": False, "objects": [page[0][1]]}, headers=_headers(page))


@router.get(
    "/{api_root}/collections/{collection_id}/objects/{object_id}/versions/",
    response_class=TaxiiResponse,
)
def get_versions(
    api_root: ApiRoot,
    collection_id: CollectionId,
    object_id: Annotated[str, Path(max_length=200)],
    key: TaxiiKey,
    store: StoreDep,
) -> TaxiiResponse:
    """The versions of one object: actorgraph keeps the newest only, so one."""
    _root(api_root)
    level = _visible(collection_id, key)
    page = [p for p in collection_objects(store, level) if p[1]["id"] == object_id]
    if not page:
        raise Problem(
            404, f"no object {object_id!r} in collection {collection_id!r}", slug="not-found"
        )
    added, obj = page[0]
    version = iso(obj.get("modified") or obj.get("created")) or added
    return TaxiiResponse({"more": False, "versions": [version]}, headers=_headers(page))


@router.get("/{api_root}/collections/{collection_id}/manifest/", response_class=TaxiiResponse)
def get_manifest(
    api_root: ApiRoot,
    collection_id: CollectionId,
    key: TaxiiKey,
    store: StoreDep,
    added_after: AddedAfter = None,
    limit: PageLimit = None,
    next: NextPage = None,
    match_id: MatchId = None,
    match_type: MatchType = None,
) -> TaxiiResponse:
    """The manifest: id, date_added, version and media type of each object."""
    _root(api_root)
    level = _visible(collection_id, key)
    pairs = _filtered(
        collection_objects(store, level),
        added_after=added_after,
        ids=_split(match_id),
        types=_split(match_type),
        spec_versions=[],
        versions=[],
    )
    page, more, token = _page(pairs, limit, next)
    body: dict[str, Any] = {"more": more}
    if token:
        body["next"] = token
    if page:
        body["objects"] = [
            {
                "id": o["id"],
                "date_added": added,
                "version": iso(o.get("modified") or o.get("created")) or added,
                "media_type": STIX_MEDIA_TYPE,
            }
            for added, o in page
        ]
    return TaxiiResponse(body, headers=_headers(page))
