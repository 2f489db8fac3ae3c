"""The audit log as a hash chain: the one way an event gets into a registry.

Every event is written by :func:`append`, under the registry's write lock.
It reads the event before it, and records the SHA-256 of that event's sealed
form as its own ``prev``, so that changing, removing or reordering any event
breaks the link of the one after it.  A governance event (an approval, an
objection, a ratification, a configuration change...) is signed with the
acting maintainer's SSH key (:mod:`egif.signing`); once a registry has
maintainer keys, such an event is refused unless the acting maintainer signs
it with one of their registered keys.

The canonical form of an event is compact JSON with sorted keys and ASCII
escapes (so the same event always gives the same bytes)::

    {"actor":...,"at":...,"data":{...},"format":"egif-event/1","kind":...,
     "name":...,"prev":"<64 hex>","version":...}

The signature (SSHSIG, namespace ``egif-event``) covers the canonical form;
the event's hash, which the next event records as ``prev``, covers the
canonical form and the signature (``sha256(canonical + "\\n" + signature)``),
so that stripping a signature also breaks the chain.  The first event of a
registry links to :data:`GENESIS`.

Events written before the chain existed (format 1 registries) have no
``prev``.  They are accepted only as a prefix: each is hashed as if it had
been linked to the one before it, and the first chained event links to the
last of them, which fixes the whole prefix from then on.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from egif.errors import InputError, PermissionDenied
from egif.signing import PublicKey, SignatureError, Signer, sign, verify

if TYPE_CHECKING:
    from egif.store.base import Store

EVENT_FORMAT = "egif-event/1"
EVENT_NAMESPACE = "egif-event"
GENESIS = "0" * 64
# decisions only maintainers may take: each is signed once maintainers have keys
MAINTAINER_KINDS = ("approve", "object", "close-window", "ratify", "reject", "deprecate", "withdraw", "config")
# ... and resolving an objection, when a maintainer does it
GOVERNANCE_KINDS = (*MAINTAINER_KINDS, "resolve-objection")
KEY_MAINTAINERS = "maintainers"
KEY_MAINTAINER_KEYS = "maintainer_keys"


def normalise(data: Mapping[str, Any]) -> dict[str, Any]:
    """*data* as it reads back from the store (JSON round trip: tuples become lists...)."""
    out: dict[str, Any] = json.loads(json.dumps(dict(data), sort_keys=True))
    return out


def canonical(event: Mapping[str, Any], prev: str) -> bytes:
    """The bytes a signature covers: the event's fields and its link, as compact sorted JSON."""
    body = {"format": EVENT_FORMAT, "kind": event["kind"], "name": event["name"],
            "version": event["version"], "actor": event["actor"], "at": event["at"],
            "data": event["data"], "prev": prev}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def seal(event: Mapping[str, Any], prev: str) -> str:
    """The event's hash, which the next event records: its canonical form and its signature."""
    signature = event.get("signature")
    data = canonical(event, prev)
    if signature:
        data += b"\n" + str(signature).encode("utf-8", "surrogateescape")
    return hashlib.sha256(data).hexdigest()


# the head each store's log had after the last append, and in which write transaction (while that
# transaction lasts nobody else can append: the next append need not read the last event back)
_HEADS: weakref.WeakKeyDictionary[Any, tuple[int, str]] = weakref.WeakKeyDictionary()


def head(store: Store) -> str:
    """The hash the next event links to (call inside the write transaction)."""
    known = _HEADS.get(store)
    if known is not None and known[0] == store.transaction_serial:
        return known[1]
    last = store.last_event()
    if last is None:
        return GENESIS
    if last["prev"] is not None:
        return seal(last, last["prev"])
    running = GENESIS  # the log ends in unlinked events: hash the prefix as if it were linked
    for event in store.iter_events():
        running = seal(event, event["prev"] if event["prev"] is not None else running)
    return running


# -- who must sign -------------------------------------------------------------------
def keys_from_config(value: Any) -> dict[str, list[PublicKey]]:
    """``{maintainer: [key, ...]}`` from the ``maintainer_keys`` setting (OpenSSH lines)."""
    out: dict[str, list[PublicKey]] = {}
    if not isinstance(value, dict):
        return out
    for who, lines in value.items():
        if isinstance(lines, list):
            out[str(who)] = [PublicKey.parse(str(line)) for line in lines]
    return out


def keys_in_force(maintainers: Iterable[str], keys: Mapping[str, list[PublicKey]]) -> dict[str, list[PublicKey]]:
    """The keys that count: those of people who are maintainers."""
    return {m: list(keys[m]) for m in maintainers if keys.get(m)}


def is_governance(kind: str, actor: str, maintainers: Iterable[str]) -> bool:
    return kind in MAINTAINER_KINDS or (kind == "resolve-objection" and actor in set(maintainers))


@dataclass(frozen=True)
class SigningRule:
    """What the registry asks of one event: whether it must be signed, and by which keys."""

    governance: bool
    required: bool
    allowed: tuple[PublicKey, ...]


def signing_rule(store: Store, *, kind: str, actor: str, data: Mapping[str, Any]) -> SigningRule:
    if kind not in GOVERNANCE_KINDS or "origin" in data:
        return SigningRule(False, False, ())
    maintainers = [str(m) for m in (store.get_config(KEY_MAINTAINERS) or [])]
    governance = is_governance(kind, actor, maintainers) and "origin" not in data
    if not governance:
        return SigningRule(False, False, ())
    try:
        in_force = keys_in_force(maintainers, keys_from_config(store.get_config(KEY_MAINTAINER_KEYS)))
    except InputError as exc:
        raise InputError(f"the registry's maintainer keys are unreadable ({exc.message})") from None
    return SigningRule(True, bool(in_force), tuple(in_force.get(actor, ())))


def check_signer(store: Store, *, kind: str, actor: str, data: Mapping[str, Any],
                 signer: Signer | None, action: str) -> SigningRule:
    """Refuse, in one line, an event the registry needs signed when *signer* cannot sign it.

    Callers check early (before the slow guards of a ratification); :func:`append`
    checks again under the write lock.
    """
    rule = signing_rule(store, kind=kind, actor=actor, data=data)
    if not rule.required:
        return rule
    if not rule.allowed:
        raise PermissionDenied(
            f"{actor!r} may not {action}: this registry's maintainers sign their decisions and "
            f"{actor!r} has no registered key (a maintainer adds one with `egif registry config "
            f"--add-key {actor} FILE.pub`)")
    prints = ", ".join(k.fingerprint for k in rule.allowed)
    if signer is None:
        raise PermissionDenied(
            f"{action} must be signed: this registry's maintainers sign their decisions; give --key FILE "
            f"or set EGIF_SIGNING_KEY (keys of {actor}: {prints})")
    try:
        key = signer.public_key
    except SignatureError as exc:
        raise InputError(exc.message) from None
    if key not in rule.allowed:
        raise PermissionDenied(
            f"{action}: the signing key {key.fingerprint} is not a registered key of {actor!r} "
            f"(registered: {prints})")
    return rule


def append(store: Store, *, name: str | None, version: str | None, kind: str, actor: str, at: str,
           data: Mapping[str, Any], signer: Signer | None = None, action: str | None = None) -> int:
    """Append one event, linked to the one before it and signed where it has to be; its id.

    A governance event is signed when *signer* is given, and must be when the
    registry's maintainers have keys (see :func:`check_signer`).  Other events
    are never signed.
    """
    with store.transaction():
        event = prepare(store, name=name, version=version, kind=kind, actor=actor, at=at, data=data,
                        signer=signer, action=action)
        _HEADS.pop(store, None)
        event_id = store.append_event(**event)
        appended(store, event)
        return event_id


def prepare(store: Store, *, name: str | None, version: str | None, kind: str, actor: str, at: str,
            data: Mapping[str, Any], signer: Signer | None = None, action: str | None = None) -> dict[str, Any]:
    """The next event as :meth:`Store.append_event` takes it: linked to the head of the log and
    signed where it has to be.  Call inside the write transaction that stores it, then
    :func:`appended` once it is stored (:func:`append` does all three)."""
    body = normalise(data)
    rule = check_signer(store, kind=kind, actor=actor, data=body, signer=signer,
                        action=action or _action(kind, name, version))
    prev = head(store)
    event = {"name": name, "version": version, "kind": kind, "actor": actor, "at": at, "data": body}
    signature = None
    if rule.governance and signer is not None:
        try:
            signature = sign(signer, canonical(event, prev), EVENT_NAMESPACE)
        except SignatureError as exc:
            raise InputError(f"cannot sign {_action(kind, name, version)}: {exc.message}") from None
    return {**event, "prev": prev, "signature": signature}


def appended(store: Store, event: Mapping[str, Any]) -> None:
    """Note that the :func:`prepare`-d *event* is stored: it is the head the next one links to."""
    _HEADS[store] = (store.transaction_serial, seal(event, event["prev"]))


def _action(kind: str, name: str | None, version: str | None) -> str:
    if kind == "config":
        return "change the registry configuration"
    return f"{kind} {name}@{version}" if name else kind


# -- reading the chain back ----------------------------------------------------------
@dataclass
class Link:
    """One event as read back, with the hash the chain gives it."""

    event: dict[str, Any]
    position: int  # 0 for the first event
    hash: str
    linked: bool  # False for an event from before the chain
    prev: str  # what it was hashed (and signed) with: its own link, or the running hash for a legacy event


@dataclass
class Chain:
    """The result of walking a log: every event with its hash, and what is wrong with the links."""

    links: list[Link] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    legacy: int = 0  # events before the chain began

    @property
    def head(self) -> str:
        return self.links[-1].hash if self.links else GENESIS

    def __len__(self) -> int:
        return len(self.links)


def walk(events: Iterable[Mapping[str, Any]]) -> Chain:
    """Check every link of *events* (oldest first); one problem per broken place, not a cascade."""
    chain = Chain()
    running = GENESIS
    chained_from: Any = None
    previous: Mapping[str, Any] | None = None
    for position, raw in enumerate(events):
        event = dict(raw)
        prev = event.get("prev")
        label = _label(event)
        if prev is None:
            if chained_from is not None:
                chain.problems.append(f"{label} has no link to the event before it, but the log is "
                                      f"chained from event #{chained_from} on: an event was inserted")
            else:
                chain.legacy += 1
            link_to = running
        else:
            if chained_from is None:
                chained_from = event.get("id")
            if prev != running:
                before = f"#{previous.get('id')}" if previous is not None else "the start of the log"
                chain.problems.append(
                    f"{label} does not link to the event before it ({before}): that event was changed, "
                    "or events were removed, inserted or reordered there")
            link_to = str(prev)
        running = seal(event, link_to)
        chain.links.append(Link(event, position, running, prev is not None, link_to))
        previous = event
    return chain


def _label(event: Mapping[str, Any]) -> str:
    subject = f" {event.get('name')}@{event.get('version')}" if event.get("name") else ""
    return f"event #{event.get('id')} ({event.get('kind')}{subject} by {event.get('actor')})"


def verify_event_signature(event: Mapping[str, Any], prev: str, allowed: Iterable[PublicKey]) -> PublicKey:
    """The key among *allowed* that signed *event*; :class:`SignatureError` otherwise."""
    signature = event.get("signature")
    if not signature:
        raise SignatureError("not signed")
    return verify(str(signature), canonical(event, prev), EVENT_NAMESPACE, allowed)


def iter_published(events: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """Events as a published log carries them (see :mod:`egif.publish`)."""
    for e in events:
        yield {"id": e.get("id"), "name": e.get("name"), "version": e.get("version"), "kind": e.get("kind"),
               "actor": e.get("actor"), "at": e.get("at"), "data": e.get("data"), "prev": e.get("prev"),
               "signature": e.get("signature")}


__all__ = [
    "EVENT_FORMAT",
    "EVENT_NAMESPACE",
    "GENESIS",
    "GOVERNANCE_KINDS",
    "MAINTAINER_KINDS",
    "Chain",
    "Link",
    "SigningRule",
    "append",
    "canonical",
    "check_signer",
    "head",
    "keys_from_config",
    "seal",
    "walk",
]
