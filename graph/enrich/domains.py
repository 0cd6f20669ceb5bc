"""Domain names -> registrable domain and public suffix, from the Public Suffix List that the
``publicsuffixlist`` package ships (its version carries the list's date: ``1.1.2.20261023``).

The list's private section counts (``duckdns.org``, ``blogspot.com``): each customer name under a
dynamic-DNS or hosting suffix is its own registrable domain, as it has its own owner.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from importlib.metadata import version
from typing import Any

_LOCK = threading.Lock()
_PSL: Any = None


@lru_cache(maxsize=1)
def package_version() -> str:
    """``publicsuffixlist@<version>``: the provenance tag of domain facts."""
    return f"publicsuffixlist@{version('publicsuffixlist')}"


@lru_cache(maxsize=200_000)
def registrable_domain(domain: str) -> tuple[str, str] | None:
    """``(registrable domain, public suffix)`` of a normalised domain name, or None when the
    name is itself a public suffix (``co.uk``)."""
    psl = _list()
    registrable = psl.privatesuffix(domain)
    if not registrable:
        return None
    return registrable, psl.publicsuffix(domain)


def _list() -> Any:
    global _PSL
    if _PSL is not None:
        return _PSL
    with _LOCK:
        if _PSL is None:
            from publicsuffixlist import PublicSuffixList

            _PSL = PublicSuffixList()
    return _PSL
