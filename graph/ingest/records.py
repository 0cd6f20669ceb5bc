"""The record format of ``GRAPH.BULK``, FalkorDB's bulk-insert command.

The format is the one ``falkordb-bulk-loader`` sends (``falkordb_bulk_loader.entity_file``): a
token is a header (label or type, then the property names) followed by records, one per node or
relationship, each its property values in the header's order, typed. A relationship's record
starts with the numbers of its two ends (nodes are numbered in the order they are sent).

Records are packed here from Python values, never from CSV text: the loader's CSV route would
read every value back from text (a string ``"42"`` in a list becomes the number 42, surrounding
spaces are cut, an empty string becomes no property). ``unpack`` reads a record back, for the
rare element that several inputs state and that must be merged after it was packed.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import Any

from actorgraph.graph.errors import ValidationError

# Value types (falkordb_bulk_loader.entity_file.Type).
_NULL, _BOOL, _DOUBLE, _STRING, _LONG, _ARRAY = 0, 1, 2, 3, 4, 5
# The most bytes of records one GRAPH.BULK command carries (the loader's default is 64 MB).
MAX_COMMAND_BYTES = 32 * 1024 * 1024

_BYTE = struct.Struct("=B")
_BOOL_V = struct.Struct("=B?")
_LONG_V = struct.Struct("=Bq")
_DOUBLE_V = struct.Struct("=Bd")
_COUNT = struct.Struct("=I")
_ENDS = struct.Struct("=QQ")
_NULL_B = _BYTE.pack(_NULL)
_STRING_B = _BYTE.pack(_STRING)
_END = b"\0"  # a string value ends with a zero byte

Token = tuple[bytes, int]  # header + records, and how many records


def pack(props: dict[str, Any], keys: tuple[str, ...]) -> bytes:
    """One record: the values of ``keys`` in ``props``, in that order."""
    out: list[bytes] = []
    add = out.append
    for key in keys:  # strings and lists of strings (most values) without a call per value
        value = props[key]
        kind = type(value)
        if kind is str:
            add(_STRING_B)
            add(value.encode())
            add(_END)
        elif kind is list:
            add(_LONG_V.pack(_ARRAY, len(value)))
            for item in value:
                if type(item) is str:
                    add(_STRING_B)
                    add(item.encode())
                    add(_END)
                else:
                    add(_value(item))
        else:
            add(_value(value))
    return b"".join(out)


def pack_ends(src: int, dst: int) -> bytes:
    """The start of a relationship's record: the numbers of its two ends."""
    return _ENDS.pack(src, dst)


def unpack(keys: tuple[str, ...], record: bytes) -> dict[str, Any]:
    """The properties a record made by ``pack`` holds (a list comes back as a list)."""
    out: dict[str, Any] = {}
    pos = 0
    for key in keys:
        out[key], pos = _read(record, pos)
    return out


def header(name: str, keys: tuple[str, ...]) -> bytes:
    """A token's header: the label or type, then the property names."""
    return _cstr(name) + _COUNT.pack(len(keys)) + b"".join(_cstr(k) for k in keys)


def tokens(head: bytes, records: Iterable[bytes]) -> Iterator[Token]:
    """Header + records, cut so that no token passes half a command."""
    part: list[bytes] = []
    size = len(head)
    for record in records:
        if part and size + len(record) > MAX_COMMAND_BYTES // 2:
            yield head + b"".join(part), len(part)
            part, size = [], len(head)
        part.append(record)
        size += len(record)
    if part:
        yield head + b"".join(part), len(part)


def commands(
    nodes: Iterable[Token], edges: Iterable[Token]
) -> Iterator[tuple[list[Token], list[Token]]]:
    """Tokens gathered into commands of at most ``MAX_COMMAND_BYTES``: every node before any
    relationship (a relationship names nodes already sent). Lazy: a command's records are
    packed only when it is due."""
    for stream, is_node in ((nodes, True), (edges, False)):
        batch: list[Token] = []
        size = 0
        for token in stream:
            if batch and size + len(token[0]) > MAX_COMMAND_BYTES:
                yield (batch, []) if is_node else ([], batch)
                batch, size = [], 0
            batch.append(token)
            size += len(token[0])
        if batch:
            yield (batch, []) if is_node else ([], batch)


def _value(value: Any) -> bytes:
    packer = _PACKERS.get(type(value))
    if packer is not None:
        return packer(value)
    # subclasses (an IntEnum, a str subclass): the first base type that matches
    for kind in (bool, int, float, str, list, tuple):
        if isinstance(value, kind):
            return _PACKERS[kind](value)
    raise ValidationError(f"a graph property cannot hold {type(value).__name__} ({value!r})")


def _array(value: list[Any] | tuple[Any, ...]) -> bytes:
    return _LONG_V.pack(_ARRAY, len(value)) + b"".join([_value(v) for v in value])


# By exact type, one dictionary look-up per value (bool before int is then no concern).
_PACKERS: dict[type, Any] = {
    str: lambda v: _STRING_B + v.encode() + _END,
    type(None): lambda v: _NULL_B,
    bool: lambda v: _BOOL_V.pack(_BOOL, v),
    int: lambda v: _LONG_V.pack(_LONG, v),
    float: lambda v: _DOUBLE_V.pack(_DOUBLE, v),
    list: _array,
    tuple: _array,
}


def _read(record: bytes, pos: int) -> tuple[Any, int]:
    kind = record[pos]
    pos += 1
    if kind == _STRING:
        end = record.index(b"\0", pos)
        return record[pos:end].decode(), end + 1
    if kind == _NULL:
        return None, pos
    if kind == _BOOL:
        return record[pos] != 0, pos + 1
    if kind == _LONG:
        return struct.unpack_from("=q", record, pos)[0], pos + 8
    if kind == _DOUBLE:
        return struct.unpack_from("=d", record, pos)[0], pos + 8
    if kind == _ARRAY:
        (n,) = struct.unpack_from("=q", record, pos)
        pos += 8
        items = []
        for _ in range(n):
            item, pos = _read(record, pos)
            items.append(item)
        return items, pos
    raise ValueError(f"not a GRAPH.BULK value type: {kind}")


def _cstr(text: str) -> bytes:
    return text.encode() + b"\0"
