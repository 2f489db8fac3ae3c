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
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from egif.errors import InputError, PermissionDenied

if TYPE_CHECKING:
    from egif.registry import Registry

Clock = Callable[[], datetime]

KEY_MAINTAINERS = "maintainers"
KEY_APPROVALS = "approvals_needed"
KEY_WINDOW = "window_days"
KEY_LINT = "lint.rules"

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
    lint_rules: Mapping[str, str] = field(default_factory=dict)

    def is_maintainer(self, actor: str) -> bool:
        return actor in self.maintainers

    def to_dict(self) -> dict[str, Any]:
        return {
            "maintainers": list(self.maintainers),
            "approvals_needed": self.approvals_needed,
            "window_days": self.window_days,
            "lint_rules": dict(sorted(self.lint_rules.items())),
        }


def load_config(registry: Registry) -> RegistryConfig:
    """Read the settings, falling back to the defaults for anything unset."""
    store = registry.store
    maintainers = store.get_config(KEY_MAINTAINERS) or []
    approvals = store.get_config(KEY_APPROVALS)
    window = store.get_config(KEY_WINDOW)
    lint = store.get_config(KEY_LINT) or {}
    return RegistryConfig(
        maintainers=tuple(str(m) for m in maintainers),
        approvals_needed=int(approvals) if approvals is not None else DEFAULT_APPROVALS,
        window_days=int(window) if window is not None else DEFAULT_WINDOW_DAYS,
        lint_rules={str(k): str(v) for k, v in dict(lint).items()},
    )


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


def _lint_rule_ids() -> frozenset[str] | None:
    """The linter's rule ids, or None while egif has no linter."""
    try:
        lint = importlib.import_module("egif.lint")
    except ModuleNotFoundError as exc:
        if exc.name != "egif.lint":
            raise
        return None
    rules = getattr(lint, "RULES", None)
    return frozenset(rules) if rules is not None else None


def _check_actor_name(value: str) -> str:
    name = value.strip()
    if not name or len(name) > 200 or any(ord(c) < 32 for c in name):
        raise InputError(f"invalid maintainer name {value!r}: give a non-empty identity on one line")
    return name


class ConfigEditor:
    """Changes the settings, one audited event per change."""

    def __init__(self, registry: Registry, *, actor: str | None = None,
                 clock: Clock | None = None) -> None:
        self.registry = registry
        self.actor = registry.acting_as(actor)  # PostgreSQL: the connected role, nobody else
        self.clock = clock or utc_now

    def _record(self, key: str, old: Any, new: Any, **extra: Any) -> None:
        self.registry.store.append_event(
            name=None, version=None, kind="config", actor=self.actor, at=stamp(self.clock()),
            data={"key": key, "old": old, "new": new, **extra})

    def add_maintainer(self, who: str) -> RegistryConfig:
        who = _check_actor_name(who)
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
            new = [*config.maintainers, who]
            extra = {"bootstrap": True} if bootstrap else {}
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
            new = [m for m in config.maintainers if m != who]
            self._record(KEY_MAINTAINERS, list(config.maintainers), new)
            store.set_config(KEY_MAINTAINERS, new)
        return load_config(self.registry)

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
        """Switch a lint rule off, fix its severity, or (``None``) restore its default."""
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
        known = _lint_rule_ids()
        if known is not None and rule not in known:
            raise InputError(f"unknown lint rule {rule!r} (see `egif lint --rules`)")
        store = self.registry.store
        with store.transaction():
            config = load_config(self.registry)
            require_maintainer(config, self.actor, "change lint settings")
            old = dict(config.lint_rules)
            new = dict(old)
            if setting is None:
                new.pop(rule, None)
            else:
                new[rule] = setting
            if new != old:
                self._record(KEY_LINT, old, new, rule=rule)
                store.set_config(KEY_LINT, new or None)
        return load_config(self.registry)


__all__ = [
    "DEFAULT_APPROVALS",
    "DEFAULT_WINDOW_DAYS",
    "LINT_SETTINGS",
    "Clock",
    "ConfigEditor",
    "RegistryConfig",
    "load_config",
    "require_maintainer",
    "stamp",
    "utc_now",
]
