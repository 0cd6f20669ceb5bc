"""Indicator values: refang, normalise, validate.

Every indicator that reaches the graph goes through :func:`normalize_indicator`, so one
observable has one node whatever spelling a report used (``hxxp://Evil[.]Example.``,
``http://evil.example``). Values that are not valid indicators raise ``InvalidIndicator``;
the readers list them in the ingest report instead of storing them.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit, urlunsplit

import idna

from actorgraph.graph.errors import InvalidIndicator

KINDS = ("ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256", "sha512", "x509", "asn")

HASH_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}
_HASH_BY_LENGTH = {n: k for k, n in HASH_LENGTHS.items()}

_HEX = re.compile(r"^[0-9a-f]+$")
_DOTTED_NUMBERS = re.compile(r"^\d+(\.\d+){3}$")
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
_ASN = re.compile(r"^(?:as)?\s*(\d{1,10})$", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_URL_SCHEMES = {"http", "https", "ftp", "ftps", "sftp", "ws", "wss", "smb", "file", "tcp", "udp"}
# The request-line limit of common web servers (Apache's LimitRequestLine, nginx's 8k header
# buffer): a longer "URL" could not be fetched from them, and one value must not bloat a node id.
MAX_URL_CHARS = 8_192

# Defanging conventions seen in reports, most specific first. Case-insensitive.
_REFANG_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bhxxp(s?)", re.IGNORECASE), r"http\1"),
    (re.compile(r"\bh\[tt\]p(s?)", re.IGNORECASE), r"http\1"),
    (re.compile(r"\bfxp(s?)\b", re.IGNORECASE), r"ftp\1"),
    (re.compile(r"\[:\]//|\[://\]|\(://\)"), "://"),
    (re.compile(r"\[:\]|\(:\)"), ":"),
    (re.compile(r"\[/\]"), "/"),
    (
        re.compile(
            r"\[\.\]|\(\.\)|\{\.\}|\[\s*dot\s*\]|\(\s*dot\s*\)|\{\s*dot\s*\}", re.IGNORECASE
        ),
        ".",
    ),
    (re.compile(r"\\\."), "."),
    (re.compile(r"\[@\]|\(@\)|\{@\}|\[\s*at\s*\]|\(\s*at\s*\)|\{\s*at\s*\}", re.IGNORECASE), "@"),
]

# Every rule above needs one of these: a bracket, a backslash, or the "xp" of hxxp/fxp.
_MAYBE_DEFANGED = re.compile(r"[\[({\\]|xp", re.IGNORECASE)


def refang(text: str) -> str:
    """Undo common defanging (``hxxp``, ``[.]``, ``(.)``, ``{.}``, ``[:]``, ``[at]`` ...).

    Args:
        text: a possibly defanged indicator or free text.

    Returns:
        The text with every defanging convention replaced by the character it hides.
    """
    if not _MAYBE_DEFANGED.search(text):  # most values: one scan instead of nine substitutions
        return text
    for pattern, replacement in _REFANG_RULES:
        text = pattern.sub(replacement, text)
    return text


def is_url(text: str) -> bool:
    """Whether ``text``, refanged, begins with a URL scheme (``hxxp://``, ``http[:]//``...)."""
    return _SCHEME.match(refang(text)) is not None


def defang(value: str) -> str:
    """Defang a URL, domain, IP or e-mail for display (``http`` -> ``hxxp``, ``.`` -> ``[.]``)."""
    out = re.sub(r"^http", "hxxp", value, flags=re.IGNORECASE)
    out = out.replace("://", "[://]").replace(".", "[.]")
    return out.replace("@", "[at]")


def indicator_id(kind: str, value: str) -> str:
    """The graph id of an indicator node: ``"<kind>:<normalised value>"``."""
    return f"{kind}:{value}"


def normalize_indicator(value: str, kind: str | None = None) -> tuple[str, str]:
    """Refang, validate and normalise one indicator value.

    Args:
        value: the raw value (may be defanged, padded, upper-case).
        kind: the expected kind (one of ``KINDS``); ``None`` detects it from the value.

    Returns:
        ``(kind, normalised value)``.

    Raises:
        InvalidIndicator: the value is not a valid indicator (of ``kind`` when given).
    """
    if isinstance(value, int) and not isinstance(value, bool) and kind in (None, "asn"):
        return "asn", _asn(str(value), str(value))
    if not isinstance(value, str):
        raise InvalidIndicator(str(value), f"expected a string, got {type(value).__name__}")
    raw = value
    text = refang(value.strip())
    if not text:
        raise InvalidIndicator(raw, "empty value")
    if kind is None:
        kind = _detect(text, raw)
    if kind not in _NORMALISERS:
        raise InvalidIndicator(raw, f"unknown indicator kind {kind!r} (known: {', '.join(KINDS)})")
    return kind, _NORMALISERS[kind](text, raw)


def _detect(text: str, raw: str) -> str:
    lowered = text.lower()
    if _SCHEME.match(text):
        return "url"
    if "@" in text:
        return "email"
    if _DOTTED_NUMBERS.match(text.split("/", 1)[0]):
        return "ipv4"
    if ":" in text and re.fullmatch(r"\[?[0-9a-fA-F:.]+\]?(/\d+)?", text):
        return "ipv6"
    if _HEX.match(lowered):
        if len(lowered) in _HASH_BY_LENGTH:
            return _HASH_BY_LENGTH[len(lowered)]
        if len(lowered) > 16:
            raise InvalidIndicator(
                raw, f"{len(lowered)} hex characters is no known hash length (32, 40, 64, 128)"
            )
    if _ASN.match(text) and lowered.startswith("as"):
        return "asn"
    if "/" in text and "." in text.split("/", 1)[0]:
        return "url"
    if "." in text:
        return "domain"
    raise InvalidIndicator(raw, "not a recognised indicator (ip, domain, url, email, hash, asn)")


# An address already in the form ``ipaddress`` writes (ASCII digits, no leading zeros).
_CANONICAL_IPV4 = re.compile(
    r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
    r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
)


def _brief(exc: Exception, limit: int = 120) -> str:
    """``ipaddress``'s reason, which quotes the bad part of the value, cut to ``limit``."""
    text = str(exc)
    return text if len(text) <= limit else f"{text[:limit]}..."


def _ipv4(text: str, raw: str) -> str:
    text = text.removesuffix("/32")  # a one-address network is the address
    if _CANONICAL_IPV4.fullmatch(text):  # most values: no address object to build
        return text
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError as exc:
        if "/" in text:
            raise InvalidIndicator(raw, "a network range, not a single IPv4 address") from exc
        raise InvalidIndicator(raw, f"not a valid IPv4 address ({_brief(exc)})") from exc


def _ipv6(text: str, raw: str) -> str:
    text = text.strip("[]").removesuffix("/128")
    try:
        addr = ipaddress.IPv6Address(text)
    except ValueError as exc:
        if "/" in text:
            raise InvalidIndicator(raw, "a network range, not a single IPv6 address") from exc
        raise InvalidIndicator(raw, f"not a valid IPv6 address ({_brief(exc)})") from exc
    if addr.scope_id:
        raise InvalidIndicator(raw, "a link-local address with a zone id is not an indicator")
    return addr.compressed


def _domain(text: str, raw: str) -> str:
    name = text.strip().rstrip(".").lower()
    if not name:
        raise InvalidIndicator(raw, "empty domain name")
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise InvalidIndicator(
                raw, f"not a valid internationalised domain name ({exc})"
            ) from exc
    if len(name) > 253:
        raise InvalidIndicator(raw, f"domain name longer than 253 characters ({len(name)})")
    labels = name.split(".")
    if len(labels) < 2:
        raise InvalidIndicator(raw, "domain name without a top-level domain")
    for label in labels:
        if not _LABEL.match(label):
            raise InvalidIndicator(raw, f"invalid domain label {label!r}")
    if not _TLD.match(labels[-1]):
        raise InvalidIndicator(raw, f"invalid top-level domain {labels[-1]!r}")
    return name


def _host(host: str, raw: str) -> str:
    if host.startswith("["):
        return f"[{_ipv6(host, raw)}]"
    if _DOTTED_NUMBERS.match(host):
        return _ipv4(host, raw)
    return _domain(host, raw)


def _url(text: str, raw: str) -> str:
    if len(text) > MAX_URL_CHARS:
        raise InvalidIndicator(raw, f"URL longer than {MAX_URL_CHARS:,} characters ({len(text):,})")
    if not _SCHEME.match(text):
        text = "http://" + text
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # "Invalid IPv6 URL", a bracketed IPv4 address
        raise InvalidIndicator(raw, f"malformed URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in _URL_SCHEMES:
        raise InvalidIndicator(raw, f"unsupported URL scheme {scheme!r}")
    if any(c.isspace() for c in text):
        raise InvalidIndicator(raw, "URL contains whitespace")
    netloc = parts.netloc
    if not netloc:
        raise InvalidIndicator(raw, "URL without a host")
    userinfo, _, hostport = netloc.rpartition("@")
    if hostport.startswith("["):
        host, _, rest = hostport.partition("]")
        host += "]"
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = hostport.partition(":")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise InvalidIndicator(raw, f"invalid port {port!r}")
    host = _host(host, raw)
    netloc = (userinfo + "@" if userinfo else "") + host + (":" + port if port else "")
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, parts.query, parts.fragment))


def _email(text: str, raw: str) -> str:
    local, sep, domain = text.strip().rpartition("@")
    if not sep or not local or not domain:
        raise InvalidIndicator(raw, "not an e-mail address (local@domain)")
    if len(local) > 64 or any(c.isspace() or c in '<>(),;:"[]' for c in local):
        raise InvalidIndicator(raw, f"invalid e-mail local part {local!r}")
    return f"{local.lower()}@{_domain(domain, raw)}"


def _hash(kind: str):
    expected = HASH_LENGTHS[kind]

    def normalise(text: str, raw: str) -> str:
        value = text.strip().lower()
        if not _HEX.match(value):
            raise InvalidIndicator(raw, f"{kind} must be hexadecimal")
        if len(value) != expected:
            raise InvalidIndicator(raw, f"{kind} needs {expected} hex characters, got {len(value)}")
        return value

    return normalise


def _x509(text: str, raw: str) -> str:
    value = text.strip().lower().replace(":", "").replace(" ", "")
    if not _HEX.match(value) or len(value) not in (40, 64):
        raise InvalidIndicator(
            raw, "certificate fingerprint must be SHA-1 (40) or SHA-256 (64) hex characters"
        )
    return value


def _asn(text: str, raw: str) -> str:
    match = _ASN.match(text.strip())
    if not match:
        raise InvalidIndicator(raw, "not an AS number (AS15169 or 15169)")
    number = int(match.group(1))
    if number > 4_294_967_295:
        raise InvalidIndicator(raw, "AS number above 2^32 - 1")
    return f"AS{number}"


def asn_number(value: str) -> int:
    """The integer of a normalised ``AS15169`` value."""
    return int(value[2:])


_NORMALISERS = {
    "ipv4": _ipv4,
    "ipv6": _ipv6,
    "domain": _domain,
    "url": _url,
    "email": _email,
    "md5": _hash("md5"),
    "sha1": _hash("sha1"),
    "sha256": _hash("sha256"),
    "sha512": _hash("sha512"),
    "x509": _x509,
    "asn": _asn,
}
