"""Publisher keys: who may sign a published registry, and how that list changes.

A signed publication (see :mod:`egif.publish`) names a **publisher key list**:
OpenSSH Ed25519 public keys and a threshold, as in TUF's root metadata.  The
list is versioned and each version is a file of its own, ``keys/<N>.json``::

    {"signed": {"format": "egif-publisher-keys/1", "version": N,
                "keys": ["ssh-ed25519 AAAA...", ...], "threshold": T},
     "signatures": ["-----BEGIN SSH SIGNATURE-----...", ...]}

The signatures (SSHSIG, namespace ``egif-publisher-keys``) cover the compact,
sorted JSON of ``signed``.  Version 1 must carry signatures by ``T`` of its
own keys; every later version by ``T`` of its own keys **and** by the
threshold of the version before it, so that only the holders of the old keys
can hand over to new ones (key rotation).

The index is signed by ``T`` keys of the list it names, in
``signatures/<sha256 of index.json>.json``::

    {"format": "egif-index-signatures/1", "index": "<sha256>", "key_list": N,
     "signatures": ["-----BEGIN SSH SIGNATURE-----...", ...]}

each signature (namespace ``egif-index``) over the exact bytes of
``index.json``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from egif.errors import EgifError
from egif.limits import MAX_PUBLISHER_KEYS
from egif.signing import PublicKey, SignatureError, Signer, parse_signature, sign, verify

KEY_LIST_FORMAT = "egif-publisher-keys/1"
SIGNATURES_FORMAT = "egif-index-signatures/1"
KEY_LIST_NAMESPACE = "egif-publisher-keys"
INDEX_NAMESPACE = "egif-index"
MAX_SIGNATURE_CHARS = 4096
REMOTE_PREFIX = "remote:"  # config key of a pulled source's state (see egif.remote)


class TrustError(EgifError):
    """A publication whose keys or signatures do not establish trust: refused."""


def key_list_path(version: int) -> str:
    return f"keys/{version}.json"


def signatures_path(index_sha256: str) -> str:
    return f"signatures/{index_sha256}.json"


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


@dataclass(frozen=True)
class KeyList:
    """One version of the publisher key list."""

    version: int
    keys: tuple[PublicKey, ...]
    threshold: int

    def signed_part(self) -> dict[str, Any]:
        return {"format": KEY_LIST_FORMAT, "version": self.version,
                "keys": [k.openssh() for k in self.keys], "threshold": self.threshold}

    @property
    def message(self) -> bytes:
        return _canonical(self.signed_part())

    def same_keys(self, other: KeyList | None) -> bool:
        return other is not None and set(self.keys) == set(other.keys) and self.threshold == other.threshold

    def describe(self) -> str:
        return (f"key list v{self.version}: {self.threshold} of {len(self.keys)} "
                f"({', '.join(k.fingerprint for k in self.keys)})")

    def check(self) -> None:
        if not 1 <= len(self.keys) <= MAX_PUBLISHER_KEYS:
            raise TrustError(f"a publisher key list holds 1 to {MAX_PUBLISHER_KEYS} keys, not {len(self.keys)}")
        if len(set(self.keys)) != len(self.keys):
            raise TrustError("a publisher key list names a key twice")
        if not 1 <= self.threshold <= len(self.keys):
            raise TrustError(f"threshold {self.threshold} is not between 1 and the {len(self.keys)} keys of the list")


def key_list_document(key_list: KeyList, signatures: Sequence[str]) -> bytes:
    return json.dumps({"signed": key_list.signed_part(), "signatures": list(signatures)},
                      indent=1, sort_keys=True).encode() + b"\n"


def parse_key_list(data: Any, where: str) -> tuple[KeyList, list[str]]:
    """A key-list document decoded from JSON, its shape checked; :class:`TrustError` otherwise."""
    try:
        signed = data["signed"]
        if signed.get("format") != KEY_LIST_FORMAT:
            raise ValueError(f"format {str(signed.get('format'))[:40]!r}, expected {KEY_LIST_FORMAT!r}")
        version, threshold, lines = signed["version"], signed["threshold"], signed["keys"]
        if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= 2**31:
            raise ValueError("its version is not a positive number")
        if not isinstance(threshold, int) or isinstance(threshold, bool):
            raise ValueError("its threshold is not a number")
        if not isinstance(lines, list) or len(lines) > MAX_PUBLISHER_KEYS or not all(isinstance(x, str) for x in lines):
            raise ValueError(f"its keys are not a list of at most {MAX_PUBLISHER_KEYS} key lines")
        keys = tuple(PublicKey.parse(line) for line in lines)
        signatures = _signature_list(data.get("signatures"))
        key_list = KeyList(version, keys, threshold)
        key_list.check()
    except TrustError as exc:
        raise TrustError(f"publisher key list: {exc.message}", file=where) from None
    except (EgifError, ValueError, TypeError, KeyError, AttributeError) as exc:
        text = exc.message if isinstance(exc, EgifError) else str(exc)
        raise TrustError(f"not a usable publisher key list ({text})", file=where) from None
    if key_list.signed_part() != signed:
        raise TrustError("the publisher key list is not in the form egif writes (unknown fields or "
                         "altered key lines)", file=where)
    return key_list, signatures


def _signature_list(value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_PUBLISHER_KEYS * 2 \
            or not all(isinstance(s, str) and len(s) <= MAX_SIGNATURE_CHARS for s in value):
        raise ValueError("its signatures are not a short list of SSH signatures")
    return list(value)


def valid_signers(signatures: Iterable[str], message: bytes, namespace: str,
                  keys: Iterable[PublicKey]) -> tuple[set[PublicKey], list[str]]:
    """The distinct keys among *keys* with a valid signature, and the fingerprints of strangers."""
    allowed = list(keys)
    good: set[PublicKey] = set()
    strangers: list[str] = []
    for armored in signatures:
        try:
            good.add(verify(armored, message, namespace, allowed))
        except SignatureError:
            try:
                key = parse_signature(armored).key
            except SignatureError:
                continue
            if key not in allowed and key.fingerprint not in strangers:
                strangers.append(key.fingerprint)
    return good, strangers


def check_key_list(key_list: KeyList, signatures: Sequence[str], previous: KeyList | None,
                   where: str) -> None:
    """Refuse a key list not signed by its own threshold and (after v1) by the previous list's."""
    own, strangers = valid_signers(signatures, key_list.message, KEY_LIST_NAMESPACE, key_list.keys)
    if len(own) < key_list.threshold:
        raise TrustError(f"publisher key list v{key_list.version} is signed by {len(own)} of its own keys; "
                         f"it needs {key_list.threshold}{_strangers(strangers)}", file=where)
    if previous is None:
        return
    if key_list.version != previous.version + 1:
        raise TrustError(f"publisher key list v{key_list.version} does not follow v{previous.version}", file=where)
    old, _ = valid_signers(signatures, key_list.message, KEY_LIST_NAMESPACE, previous.keys)
    if len(old) < previous.threshold:
        raise TrustError(f"publisher key list v{key_list.version} is signed by {len(old)} keys of v{previous.version}; "
                         f"a rotation needs {previous.threshold} of them", file=where)


def check_index_signatures(index_bytes: bytes, signatures: Sequence[str], key_list: KeyList,
                           where: str) -> set[PublicKey]:
    """The publisher keys that signed *index_bytes*; refused below the threshold."""
    good, strangers = valid_signers(signatures, index_bytes, INDEX_NAMESPACE, key_list.keys)
    if len(good) < key_list.threshold:
        raise TrustError(f"the index is signed by {len(good)} of the publisher's keys ({key_list.threshold} of "
                         f"{len(key_list.keys)} needed, key list v{key_list.version}){_strangers(strangers)}",
                         file=where)
    return good


def _strangers(fingerprints: list[str]) -> str:
    if not fingerprints:
        return ""
    return f"; also signed by unknown key{'s' if len(fingerprints) > 1 else ''} {', '.join(fingerprints[:3])}"


def signatures_document(index_sha256: str, key_list: KeyList, signatures: Sequence[str]) -> bytes:
    return json.dumps({"format": SIGNATURES_FORMAT, "index": index_sha256, "key_list": key_list.version,
                       "signatures": list(signatures)}, indent=1, sort_keys=True).encode() + b"\n"


def parse_signatures(data: Any, index_sha256: str, where: str) -> tuple[int, list[str]]:
    try:
        if data.get("format") != SIGNATURES_FORMAT:
            raise ValueError(f"format {str(data.get('format'))[:40]!r}, expected {SIGNATURES_FORMAT!r}")
        if data.get("index") != index_sha256:
            raise ValueError("it names another index")
        version = data.get("key_list")
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError("its key list version is not a number")
        return version, _signature_list(data.get("signatures"))
    except (ValueError, TypeError, AttributeError) as exc:
        raise TrustError(f"not usable index signatures ({exc})", file=where) from None


def sign_all(signers: Sequence[Signer], message: bytes, namespace: str) -> list[str]:
    return [sign(s, message, namespace) for s in signers]


def signed_sources(config: Mapping[str, Any]) -> list[str]:
    """The URLs a registry (its ``config`` settings) has pulled signed publications from.

    :mod:`egif.remote` keeps each pull's state under ``remote:<url>``, with the
    publisher keys it trusts under ``trust``; a registry with any refuses
    unsigned publications.
    """
    return sorted(k[len(REMOTE_PREFIX):] for k, v in config.items()
                  if k.startswith(REMOTE_PREFIX) and isinstance(v, dict) and v.get("trust"))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


__all__ = [
    "INDEX_NAMESPACE",
    "KEY_LIST_NAMESPACE",
    "KeyList",
    "TrustError",
    "check_index_signatures",
    "check_key_list",
    "key_list_document",
    "key_list_path",
    "parse_key_list",
    "parse_signatures",
    "signatures_document",
    "signatures_path",
    "signed_sources",
]
