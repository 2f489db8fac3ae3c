"""Per-registry settings that govern the lifecycle.

The settings live in the store's ``config`` table (one JSON value per key) and
every change is appended to the audit log as a ``config`` event naming who made
it and the old and new values.

Who may change them:

* While the registry has no maintainers at all, the only change accepted is
  adding a maintainer, and anyone may make it: that is how a new registry gets
  its first maintainer (the event is marked ``bootstrap``).  In a PostgreSQL
  registry only the role that owns it may; there maintainers are database
  roles, and the database itself refuses changes by anyone else.
* From then on only a maintainer may change any setting, and the last
  maintainer cannot be removed (the list would become empty and anyone could
  bootstrap the registry again).

Each change is recorded before it is made, so that the event is written while
its author still holds the rights it used (a maintainer removing themselves).

Maintainer keys (``maintainer_keys``: ``{name: [OpenSSH ed25519 public key
line, ...]}``) turn a registry into one whose decisions are signed: from the
first key on, every governance event (approvals, objections, transitions,
configuration changes) must be signed by a registered key of the acting
maintainer (see :mod:`egif.eventlog`).  A maintainer may hold several keys
(rotation: add the new one, then revoke the old); one key belongs to one
maintainer; once any key is registered, a new maintainer comes with a key,
and the last key cannot be revoked, so a signed registry never falls back
to unsigned approvals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from egif import eventlog
from egif.errors import InputError, PermissionDenied
from egif.signing import PublicKey, Signer
from egif.trust import signed_sources

if TYPE_CHECKING:
    from egif.registry import Registry
    from egif.store.base import Store

Clock = Callable[[], datetime]

KEY_MAINTAINERS = "maintainers"
KEY_MAINTAINER_KEYS = eventlog.KEY_MAINTAINER_KEYS
MAX_KEYS_PER_MAINTAINER = 16
KEY_APPROVALS = "approvals_needed"
KEY_WINDOW = "window_days"
KEY_LINT = "lint"  # the lint settings: the one key, in the form of egif.lint.LintSettings.to_config
LEGACY_KEY_LINT = "lint.rules"  # egif before 0.x kept per-rule settings here: read, then moved, once

DEFAULT_APPROVALS = 2
DEFAULT_WINDOW_DAYS = 28
MAX_WINDOW_DAYS = 3650
MAX_APPROVALS = 100

# What a registry may do with a lint rule: switch it off or fix its severity.
LINT_SETTINGS = ("off", "error", "warning", "info")


def utc_now() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    """The audit log's timestamp form: ISO 8601 in UTC, to the second."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class RegistryConfig:
    """A snapshot of the lifecycle settings of one registry."""

    maintainers: tuple[str, ...] = ()
    approvals_needed: int = DEFAULT_APPROVALS
    window_days: int = DEFAULT_WINDOW_DAYS
    lint: Mapping[str, Any] = field(default_factory=dict)
    maintainer_keys: Mapping[str, tuple[PublicKey, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def is_maintainer(self, actor: str) -> bool:
        return actor in self.maintainers

    @property
    def signed(self) -> bool:
        """True once any maintainer has a key: decisions must then be signed."""
        return any(self.maintainer_keys.get(m) for m in self.maintainers)

    def keys_of(self, who: str) -> tuple[PublicKey, ...]:
        return tuple(self.maintainer_keys.get(who, ())) if who in self.maintainers else ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "maintainers": list(self.maintainers),
            "approvals_needed": self.approvals_needed,
            "window_days": self.window_days,
            "lint": dict(self.lint),
            "maintainer_keys": {who: [{"fingerprint": k.fingerprint, "key": k.openssh()} for k in keys]
                                for who, keys in sorted(self.maintainer_keys.items())},
        }


def load_config(registry: Registry) -> RegistryConfig:
    """Read the settings, falling back to the defaults for anything unset."""
    store = registry.store
    maintainers = store.get_config(KEY_MAINTAINERS) or []
    approvals = store.get_config(KEY_APPROVALS)
    window = store.get_config(KEY_WINDOW)
    lint, notes = read_lint_config(store)
    try:
        keys = eventlog.keys_from_config(store.get_config(KEY_MAINTAINER_KEYS))
    except InputError as exc:
        raise InputError(f"the registry's maintainer keys are unreadable ({exc.message})") from None
    return RegistryConfig(
        maintainers=tuple(str(m) for m in maintainers),
        approvals_needed=int(approvals) if approvals is not None else DEFAULT_APPROVALS,
        window_days=int(window) if window is not None else DEFAULT_WINDOW_DAYS,
        lint=lint,
        maintainer_keys={who: tuple(k) for who, k in keys.items()},
        notes=tuple(notes),
    )


def read_lint_config(store: Store) -> tuple[dict[str, Any], list[str]]:
    """The registry's lint settings as stored under :data:`KEY_LINT`, and notes about them.

    This is the one place that reads them.  Settings an older egif wrote per rule
    under :data:`LEGACY_KEY_LINT` (``{rule: "off" | "error" | "warning" | "info"}``)
    are folded in here, over the others, with a note; the next change of a lint
    setting (``egif registry config --lint-rule``) moves them under :data:`KEY_LINT`
    for good.  The value is checked by :meth:`egif.lint.LintSettings.from_config`.
    """
    value = store.get_config(KEY_LINT)
    settings: dict[str, Any] = dict(value) if isinstance(value, dict) else ({} if value is None else value)
    legacy = store.get_config(LEGACY_KEY_LINT)
    if not legacy:
        return settings, []
    if not isinstance(settings, dict) or not isinstance(legacy, dict):
        raise InputError(f"registry config {LEGACY_KEY_LINT!r}: expected a JSON object of rule id -> setting")
    settings = _fold_legacy(settings, legacy)
    return settings, [f"lint settings read from the old config key {LEGACY_KEY_LINT!r}; the next "
                      f"`egif registry config --lint-rule` moves them under {KEY_LINT!r}"]


def _fold_legacy(settings: dict[str, Any], legacy: Mapping[str, Any]) -> dict[str, Any]:
    disabled = [str(d) for d in settings.get("disabled", [])] if isinstance(settings.get("disabled"), list) else []
    severity = dict(settings.get("severity", {})) if isinstance(settings.get("severity"), dict) else {}
    for rule, setting in legacy.items():
        rule = str(rule)
        if setting == "off":
            if rule not in disabled:
                disabled.append(rule)
            severity.pop(rule, None)
        else:
            severity[rule] = setting
            if rule in disabled:
                disabled.remove(rule)
    return _lint_value({**settings, "disabled": disabled, "severity": severity})


def _lint_value(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The stored form: keys with default (empty) values left out, lists and objects sorted."""
    out = {k: v for k, v in settings.items() if k not in ("disabled", "severity")}
    if settings.get("disabled"):
        out["disabled"] = sorted(settings["disabled"])
    if settings.get("severity"):
        out["severity"] = dict(sorted(settings["severity"].items()))
    return out


def registry_info(registry: Registry) -> dict[str, Any]:
    """Where the registry is, what it holds, and how identity and approvals are established."""
    versions = registry.list()
    enforced = registry.identity_enforced
    if enforced:
        role = "owner (administrator)" if registry.store.is_admin else "role"
        note = (f"enforced by the database: you act as the database role {registry.actor!r} ({role}); "
                "--as cannot name anyone else, and the database refuses maintainer actions by "
                "non-maintainers whatever client is used")
    else:
        note = ("self-asserted: the name recorded is --as, else $EGIF_USER, else the git user; anyone "
                "who can write this file can record any name and edit the file directly")
    config = load_config(registry)
    if config.signed:
        keyed = [m for m in config.maintainers if config.keys_of(m)]
        approvals = (f"signed: every approval, objection, transition and setting change is signed by a key "
                     f"of the maintainer making it ({len(keyed)} of {len(config.maintainers)} maintainers have "
                     "keys); `egif registry verify` checks them")
    else:
        approvals = ("unsigned: the maintainers have no keys, so an approval is a name the writer recorded "
                     "(add keys with `egif registry config --add-key NAME FILE.pub`)")
    return {
        "location": registry.location,
        "store": registry.store.kind,
        "format": registry.store.format_version(),
        "access": "read-only" if registry.read_only else "read-write",
        "identity": {"enforced": enforced, "actor": registry.actor, "note": note},
        "approvals": {"signed": config.signed, "note": approvals},
        "signed_sources": signed_sources(registry.store.all_config()),
        "schemas": len({v.name for v in versions}),
        "versions": len(versions),
        "by_status": {s: sum(1 for v in versions if v.status.value == s)
                      for s in sorted({v.status.value for v in versions})},
    }


def read_public_key(key: str | PublicKey) -> PublicKey:
    """A key given as a public key file, an OpenSSH line, or a key already read."""
    if isinstance(key, PublicKey):
        return key
    text = str(key).strip()
    if text.startswith("ssh-"):
        return PublicKey.parse(text)
    return PublicKey.read(text)


def require_maintainer(config: RegistryConfig, actor: str, action: str) -> None:
    """Raise :class:`PermissionDenied` unless *actor* is a maintainer."""
    if config.is_maintainer(actor):
        return
    if not config.maintainers:
        raise PermissionDenied(
            f"{actor!r} may not {action}: this registry has no maintainers yet "
            "(add the first with `egif registry config --add-maintainer NAME`)")
    raise PermissionDenied(
        f"{actor!r} may not {action}: only maintainers may "
        f"(maintainers: {', '.join(config.maintainers)})")


def _lint_rule_ids() -> frozenset[str]:
    """The linter's rule ids (the linter is imported on use: it is big)."""
    from egif.lint import RULES

    return frozenset(RULES)


def _lines(config: RegistryConfig) -> dict[str, list[str]]:
    """The ``maintainer_keys`` setting as stored: OpenSSH lines per maintainer."""
    return {who: [k.openssh() for k in keys] for who, keys in sorted(config.maintainer_keys.items()) if keys}


def _check_actor_name(value: str) -> str:
    name = value.strip()
    if not name or len(name) > 200 or any(ord(c) < 32 for c in name):
        raise InputError(f"invalid maintainer name {value!r}: give a non-empty identity on one line")
    return name


class ConfigEditor:
    """Changes the settings, one audited event per change."""

    def __init__(self, registry: Registry, *, actor: str | None = None,
                 clock: Clock | None = None, signer: Signer | None = None) -> None:
        self.registry = registry
        self.actor = registry.acting_as(actor)  # PostgreSQL: the connected role, nobody else
        self.clock = clock or utc_now
        self.signer = signer

    def _record(self, key: str, old: Any, new: Any, **extra: Any) -> None:
        eventlog.append(
            self.registry.store, name=None, version=None, kind="config", actor=self.actor,
            at=stamp(self.clock()), data={"key": key, "old": old, "new": new, **extra}, signer=self.signer)

    def add_maintainer(self, who: str, key: str | PublicKey | None = None) -> RegistryConfig:
        """Add a maintainer, with their public key (required once the registry's maintainers sign)."""
        who = _check_actor_name(who)
        public = read_public_key(key) if key is not None else None
        store = self.registry.store
        with store.transaction():
            config = load_config(self.registry)
            bootstrap = not config.maintainers
            if not bootstrap:
                require_maintainer(config, self.actor, "add maintainers")
            elif store.identity() is not None and not store.is_admin:
                raise PermissionDenied(
                    f"{self.actor!r} may not add the first maintainer of {self.registry.location}: "
                    "only the role that owns the registry may (the one that ran `egif registry init`)")
            if who in config.maintainers:
                raise InputError(f"{who!r} is already a maintainer")
            if public is None and config.signed:
                raise InputError(f"{who!r} needs a public key (--key FILE.pub): this registry's maintainers "
                                 "sign their decisions")
            extra = {"bootstrap": True} if bootstrap else {}
            if public is not None:  # the key first: it is in force the moment they are a maintainer
                self._check_key_free(config, who, public)
                self._set_keys(config, {**_lines(config), who: [public.openssh()]}, who=who, **extra)
            new = [*config.maintainers, who]
            self._record(KEY_MAINTAINERS, list(config.maintainers), new, **extra)
            store.set_config(KEY_MAINTAINERS, new)
        return load_config(self.registry)

    def remove_maintainer(self, who: str) -> RegistryConfig:
        who = _check_actor_name(who)
        store = self.registry.store
        with store.transaction():
            config = load_config(self.registry)
            require_maintainer(config, self.actor, "remove maintainers")
            if who not in config.maintainers:
                raise InputError(f"{who!r} is not a maintainer "
                                 f"(maintainers: {', '.join(config.maintainers)})")
            if len(config.maintainers) == 1:
                raise PermissionDenied(
                    f"{who!r} is the last maintainer and cannot be removed: add another first")
            if config.signed and not any(config.keys_of(m) for m in config.maintainers if m != who):
                raise PermissionDenied(f"{who!r} holds the registry's last maintainer keys and cannot be "
                                       "removed: a signed registry never goes back to unsigned approvals")
            new = [m for m in config.maintainers if m != who]
            self._record(KEY_MAINTAINERS, list(config.maintainers), new)
            store.set_config(KEY_MAINTAINERS, new)
            if who in config.maintainer_keys:  # their keys go with them, in the log too
                lines = _lines(config)
                del lines[who]
                self._set_keys(load_config(self.registry), lines, who=who)
        return load_config(self.registry)

    # -- maintainer keys -------------------------------------------------------
    def add_key(self, who: str, key: str | PublicKey) -> RegistryConfig:
        """Register another public key for maintainer *who* (the first step of a rotation)."""
        who = _check_actor_name(who)
        public = read_public_key(key)
        store = self.registry.store
        with store.transaction():
            config = load_config(self.registry)
            require_maintainer(config, self.actor, "change maintainer keys")
            if who not in config.maintainers:
                raise InputError(f"{who!r} is not a maintainer (maintainers: {', '.join(config.maintainers)})")
            if public in config.keys_of(who):
                raise InputError(f"{public.fingerprint} is already a key of {who!r}")
            self._check_key_free(config, who, public)
            if len(config.keys_of(who)) >= MAX_KEYS_PER_MAINTAINER:
                raise InputError(f"{who!r} already has {MAX_KEYS_PER_MAINTAINER} keys: revoke one first")
            lines = _lines(config)
            lines[who] = [*lines.get(who, []), public.openssh()]
            self._set_keys(config, lines, who=who)
        return load_config(self.registry)

    def revoke_key(self, who: str, key: str | PublicKey) -> RegistryConfig:
        """Withdraw a key of *who*: by fingerprint (``SHA256:...``), public key file or key line."""
        who = _check_actor_name(who)
        store = self.registry.store
        with store.transaction():
            config = load_config(self.registry)
            require_maintainer(config, self.actor, "change maintainer keys")
            held = list(config.maintainer_keys.get(who, ()))
            text = key if isinstance(key, str) else ""
            target = next((k for k in held if k.fingerprint == text.strip()), None) \
                if text.strip().startswith("SHA256:") else read_public_key(key)
            if target is None or target not in held:
                shown = ", ".join(k.fingerprint for k in held) or "none"
                raise InputError(f"{who!r} has no key {getattr(target, 'fingerprint', text.strip())} "
                                 f"(keys: {shown})")
            lines = _lines(config)
            lines[who] = [k.openssh() for k in held if k != target]
            if not lines[who]:
                del lines[who]
            if config.signed and not any(lines.get(m) for m in config.maintainers):
                raise PermissionDenied(f"{target.fingerprint} is the registry's last maintainer key and cannot "
                                       "be revoked: add another first (a signed registry never goes back "
                                       "to unsigned approvals)")
            self._set_keys(config, lines, who=who)
        return load_config(self.registry)

    def _set_keys(self, config: RegistryConfig, lines: dict[str, list[str]], *, who: str, **extra: Any) -> None:
        old = _lines(config)
        if lines == old:
            return
        self._record(KEY_MAINTAINER_KEYS, old, lines, maintainer=who, **extra)
        self.registry.store.set_config(KEY_MAINTAINER_KEYS, lines or None)

    @staticmethod
    def _check_key_free(config: RegistryConfig, who: str, public: PublicKey) -> None:
        for other, keys in config.maintainer_keys.items():
            if other != who and public in keys:
                raise InputError(f"{public.fingerprint} is already a key of {other!r}: each maintainer signs "
                                 "with keys of their own (approvals count by distinct keys)")

    def set_approvals_needed(self, count: int) -> RegistryConfig:
        if not 1 <= count <= MAX_APPROVALS:
            raise InputError(f"approvals needed must be between 1 and {MAX_APPROVALS}, not {count}")
        return self._set_number(KEY_APPROVALS, count, "approvals_needed")

    def set_window_days(self, days: int) -> RegistryConfig:
        if not 0 <= days <= MAX_WINDOW_DAYS:
            raise InputError(f"window length must be between 0 and {MAX_WINDOW_DAYS} days, not {days}")
        return self._set_number(KEY_WINDOW, days, "window_days")

    def _set_number(self, key: str, value: int, attr: str) -> RegistryConfig:
        store = self.registry.store
        with store.transaction():
            config = load_config(self.registry)
            require_maintainer(config, self.actor, f"change {attr.replace('_', ' ')}")
            old = getattr(config, attr)
            if old != value:
                self._record(key, old, value)
                store.set_config(key, value)
        return load_config(self.registry)

    def set_lint_rule(self, rule: str, setting: str | None) -> RegistryConfig:
        """Switch a lint rule off, fix its severity, or (``None``, ``"default"``) restore its default.

        The change is made to the one lint key (:data:`KEY_LINT`); settings still
        under the old per-rule key are moved there in the same recorded change.
        """
        rule = rule.strip()
        if not rule or len(rule) > 100 or any(c.isspace() for c in rule):
            raise InputError(f"invalid lint rule id {rule!r}")
        if setting is not None:
            setting = setting.strip().lower()
            if setting == "default":
                setting = None
            elif setting not in LINT_SETTINGS:
                raise InputError(f"lint rule {rule}: setting {setting!r} is not one of "
                                 f"{', '.join((*LINT_SETTINGS, 'default'))}")
        if rule not in _lint_rule_ids():
            raise InputError(f"unknown lint rule {rule!r} (see `egif lint --rules`)")
        store = self.registry.store
        with store.transaction():
            config = load_config(self.registry)
            require_maintainer(config, self.actor, "change lint settings")
            stored = store.get_config(KEY_LINT)
            old = dict(stored) if isinstance(stored, dict) else {}
            current = dict(config.lint)
            disabled = [d for d in current.get("disabled", []) if d != rule]
            severity = {k: v for k, v in current.get("severity", {}).items() if k != rule}
            if setting == "off":
                disabled.append(rule)
            elif setting is not None:
                severity[rule] = setting
            new = _lint_value({**current, "disabled": disabled, "severity": severity})
            legacy = store.get_config(LEGACY_KEY_LINT)
            if new != old or legacy:
                extra: dict[str, Any] = {"rule": rule}
                if legacy:
                    extra["moved_from"] = {"key": LEGACY_KEY_LINT, "value": legacy}
                self._record(KEY_LINT, old, new, **extra)
                store.set_config(KEY_LINT, new or None)
                if legacy:
                    store.set_config(LEGACY_KEY_LINT, None)
        return load_config(self.registry)


__all__ = [
    "DEFAULT_APPROVALS",
    "DEFAULT_WINDOW_DAYS",
    "KEY_LINT",
    "KEY_MAINTAINER_KEYS",
    "LINT_SETTINGS",
    "Clock",
    "ConfigEditor",
    "RegistryConfig",
    "load_config",
    "read_lint_config",
    "registry_info",
    "require_maintainer",
    "stamp",
    "utc_now",
]
