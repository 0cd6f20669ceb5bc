"""STIX 2.1 object builders for the demo world: deterministic ids, plain dicts, no wall clock.

SDO and relationship ids are UUIDv5 under one namespace, so the same seed gives the same ids;
cyber-observable ids follow the STIX 2.1 rule (UUIDv5 in the SCO namespace over the
ID-contributing properties), so an observable has one id whoever writes it. Builders return
plain dicts (fast to serialise); tests check a sample with the ``stix2`` package.
"""

from __future__ import annotations

import json
import uuid

# Namespace of the world's SDO and relationship ids (fixed: ids must not change between runs).
WORLD_NAMESPACE = uuid.UUID("6b1d3c2e-6f0e-5a7a-9d1e-7c0a0f2b9a11")
# The STIX 2.1 namespace for deterministic cyber-observable ids (spec section 2.9).
SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")

# TLP 2.0 marking definitions (the official ids from the STIX TLP 2.0 extension).
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_IDS = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

# Relationship types between observables and infrastructure. STIX 2.1 has no standard verb for
# registrar, name-server and certificate links; the custom ones are those graph/formats/stix_out.py
# exports for REGISTERED_WITH, USES_NAMESERVER and PRESENTS_CERT, so the two sides agree.
REL_RESOLVES_TO = "resolves-to"  # domain-name -> ipv4-addr
REL_BELONGS_TO = "belongs-to"  # ipv4-addr -> autonomous-system
REL_HOSTED_ON = "hosted-on"  # autonomous-system -> infrastructure (hosting provider)
REL_REGISTERED_WITH = "registered-with"  # domain-name -> infrastructure (registrar)
REL_USES_NAMESERVER = "uses-name-server"  # domain-name -> infrastructure (name server)
REL_PRESENTS_CERT = "presents-certificate"  # domain-name | ipv4-addr -> x509-certificate
REL_CONSISTS_OF = "consists-of"  # infrastructure (C2, sinkhole) -> ipv4-addr | domain-name
REL_COMMUNICATES_WITH = "communicates-with"  # malware -> domain-name | ipv4-addr


def sdo_id(kind: str, key: str) -> str:
    """A deterministic id for an SDO or relationship of type ``kind`` named by ``key``."""
    return f"{kind}--{uuid.uuid5(WORLD_NAMESPACE, key)}"


def sco_id(kind: str, contributing: dict) -> str:
    """The STIX 2.1 deterministic id of an observable from its ID-contributing properties."""
    canon = json.dumps(contributing, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{kind}--{uuid.uuid5(SCO_NAMESPACE, canon)}"


def tlp_marking(level: str) -> dict:
    """The TLP 2.0 marking-definition object for ``level`` (``clear`` ... ``red``)."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_IDS[level],
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{level.upper()}",
        "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}},
    }


def sdo(kind: str, oid: str, created: str, **props) -> dict:
    """A STIX domain object with the common properties first."""
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": oid,
        "created": created,
        "modified": created,
        **props,
    }


def relationship(
    rel_type: str, source: str, target: str, created: str, *, scope: str = "", **props
) -> dict:
    """A relationship; its id depends on ``scope`` (a cluster key) so reports can repeat a link."""
    oid = sdo_id("relationship", f"{scope}|{source}|{rel_type}|{target}")
    obj = sdo(
        "relationship",
        oid,
        created,
        relationship_type=rel_type,
        source_ref=source,
        target_ref=target,
    )
    obj.update(props)
    return obj


def domain_sco(value: str, resolves_to: list[str]) -> dict:
    obj: dict[str, str | list[str]] = {
        "type": "domain-name",
        "spec_version": "2.1",
        "id": sco_id("domain-name", {"value": value}),
        "value": value,
    }
    if resolves_to:
        obj["resolves_to_refs"] = resolves_to
    return obj


def ipv4_sco(value: str) -> dict:
    return {
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": sco_id("ipv4-addr", {"value": value}),
        "value": value,
    }


def asn_sco(number: int, name: str) -> dict:
    return {
        "type": "autonomous-system",
        "spec_version": "2.1",
        "id": sco_id("autonomous-system", {"number": number}),
        "number": number,
        "name": name,
    }


def url_sco(value: str) -> dict:
    return {
        "type": "url",
        "spec_version": "2.1",
        "id": sco_id("url", {"value": value}),
        "value": value,
    }


def email_sco(value: str) -> dict:
    return {
        "type": "email-addr",
        "spec_version": "2.1",
        "id": sco_id("email-addr", {"value": value}),
        "value": value,
    }


def file_sco(hashes: dict[str, str], name: str) -> dict:
    """A file observable. Only the hashes its indicator names: every hash becomes an indicator
    node on ingest, and a hash no pattern mentions would be an unconnected node."""
    # STIX 2.1: a file id hashes one hash (MD5, then SHA-1, SHA-256 preferred) plus the name.
    first = next(k for k in ("MD5", "SHA-1", "SHA-256", "SHA-512") if k in hashes)
    oid = sco_id("file", {"hashes": {first: hashes[first]}, "name": name})
    return {"type": "file", "spec_version": "2.1", "id": oid, "hashes": dict(hashes), "name": name}


def x509_sco(cert) -> dict:
    # Only the SHA-256 fingerprint (the one patterns use): each hash becomes an indicator node.
    oid = sco_id(
        "x509-certificate", {"hashes": {"SHA-256": cert.sha256}, "serial_number": cert.serial}
    )
    return {
        "type": "x509-certificate",
        "spec_version": "2.1",
        "id": oid,
        "is_self_signed": cert.self_signed,
        "hashes": {"SHA-256": cert.sha256},
        "serial_number": cert.serial,
        "subject": cert.subject,
        "issuer": cert.issuer,
        "validity_not_before": cert.not_before,
        "validity_not_after": cert.not_after,
    }


def pattern_literal(value: str) -> str:
    """A STIX pattern string literal (quotes and backslashes escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def stix_time(day: str) -> str:
    """``2021-03-04`` -> ``2021-03-04T00:00:00.000Z``."""
    return f"{day}T00:00:00.000Z"
