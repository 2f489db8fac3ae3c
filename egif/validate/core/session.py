"""Validating many documents against a registry, choosing each one's version.

A :class:`Session` reads each document's root, chooses the version to check
it against (see :mod:`egif.validate.core.detect`) and keeps one compiled
validator per version.  The version is ``schema`` when it names one; the
newest version of a standard (in ``status``, if given) when it names only
the standard; else the one the document declares or conforms to.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Generator, Iterable
from typing import Any

from egif.model import Finding, SchemaRef, SchemaVersion, Severity, Status
from egif.registry import Registry
from egif.validate.core.ahead import Ahead, RootKey, S, key_of
from egif.validate.core.detect import RootInfo, candidates, detect, root_info
from egif.validate.core.result import DocumentResult
from egif.validate.core.sources import Input, Source, label_of, open_input, sniff_root
from egif.validate.core.validator import Validator, job_count, parse_small
from egif.validate.stream.progress import Progress, reading
from egif.xmlsafe import make_parser


class Session:
    """Validate documents against a registry, choosing each document's version.

    A session chooses the version for each kind of root (its name and ``version``
    attribute) once, and keeps each version's compiled validator: make a new session
    to see versions registered or changed since."""

    def __init__(self, registry: Registry, *, schema: str | None = None, status: str | None = None,
                 allow_withdrawn: bool = False, rules: bool = True, today: _dt.date | None = None,
                 jobs: int | None = None, max_errors: int | None = None,
                 progress: Callable[[Progress], None] | None = None, piece_bytes: int | None = None) -> None:
        """*schema* is ``NAME@VERSION`` or ``NAME``; the other options are passed to every
        :class:`Validator` (see :meth:`Validator.for_version`)."""
        self.registry = registry
        self.schema = SchemaRef.parse(schema) if schema else None
        self.status = Status.parse(status) if status else None
        self.allow_withdrawn = allow_withdrawn
        self.rules = rules
        self.options: dict[str, Any] = {"today": today, "jobs": jobs, "max_errors": max_errors,
                                        "progress": progress, "piece_bytes": piece_bytes}
        self._validators: dict[str, Validator] = {}
        self._routes: dict[RootKey, Validator] = {}  # roots whose version is settled by the root alone
        self._registered: dict[RootKey, list[str]] = {}
        self._chosen: dict[RootKey, tuple[list[SchemaVersion], bool]] = {}
        self._parser = make_parser(remove_blank_text=True)
        if self.schema is not None and self.schema.version is not None:
            self.validator(registry.get(self.schema))  # fail early on a bad --schema

    def validator(self, version: SchemaVersion, **overrides: Any) -> Validator:
        """The (cached) validator of *version*, with the session's options and *overrides*."""
        key = f"{version.name}@{version.version}:{sorted(overrides.items())}"
        if key not in self._validators:
            self._validators[key] = Validator.for_version(
                self.registry, version.ref, rules=self.rules, allow_withdrawn=self.allow_withdrawn,
                **{**self.options, **overrides})
        return self._validators[key]

    def choose(self, info: RootInfo, name: str) -> tuple[list[SchemaVersion], bool]:
        """The versions to try for a document, most preferred first, and whether the caller
        named the version (then exactly one).  Asked once per kind of root in a session."""
        key = key_of(info)
        chosen = self._chosen.get(key)
        if chosen is None:
            chosen = self._chosen[key] = self._choose(info, name)
        return list(chosen[0]), chosen[1]

    def _choose(self, info: RootInfo, name: str) -> tuple[list[SchemaVersion], bool]:
        if self.schema is not None and self.schema.version is not None:
            return [self.registry.get(self.schema)], True
        if self.schema is not None or self.status is not None:
            standard = self.schema.name if self.schema else detect(self.registry, info, file=name)[0].name
            statuses = [self.status] if self.status else None
            return [self.registry.newest(standard, statuses=statuses)], True
        return detect(self.registry, info, file=name), False

    def check(self, source: Source, *, label: str | None = None,
              on_finding: Callable[[Finding], None] | None = None) -> DocumentResult:
        """Choose the version of one document and validate it against that version.

        When several versions share the document's namespace and its root names none of
        them, the document is checked against each in order of preference until one
        fits; an ``info`` finding (rule ``version:detected``) says which were
        considered when the most preferred one did not fit.  *on_finding* hears each
        finding as soon as it is certain: at once when the version is settled, at the
        end when it is being detected by conformance."""
        name = label or label_of(source)
        with self._open(source, name) as doc:
            parsed = parse_small(doc, self._parser)
            info = root_info(parsed if parsed is not None else sniff_root(doc))
            versions, named = self.choose(info, name)
            settled = named or len(versions) == 1
            preferred = self.validator(versions[0])
            first = preferred.result_of(doc, info, on_finding if settled else None, parsed)
            result = first
            if not settled and not first.valid:
                result = self._conforming(doc, info, versions, first)
            if settled:
                self._routes.setdefault(key_of(info), preferred)
            notes = self._version_notes(info, versions[0], name)
            result.findings.extend(notes)
            if on_finding is not None:
                for f in notes if settled else result.findings:
                    on_finding(f)
            return result

    def ahead(self, sources: Iterable[S]) -> Generator[tuple[S, DocumentResult | None], None, None]:
        """Each source in order, with its result when a worker process checked it ahead,
        or None: :meth:`check` it.  Small documents named by path are checked
        ahead on every core (the session's *jobs*) once a first document of their kind has
        been checked; the results are those :meth:`check` gives (see
        :mod:`egif.validate.core.ahead`).  Close the iterator to stop the workers."""
        runner = Ahead(job_count(self.options.get("jobs")), self._routes)
        for source, done in runner.run(sources):
            if done is None:
                yield source, None
                continue
            validator, info, result = done
            assert validator.version is not None
            result.findings.extend(self._version_notes(info, validator.version, label_of(source)))
            yield source, result

    def _conforming(self, doc: Input, info: RootInfo, versions: list[SchemaVersion],
                    first: DocumentResult) -> DocumentResult:
        if any(f.rule == "xml:syntax" for f in first.findings):
            return first  # broken whatever the version
        considered = ", ".join(f"{v.name}@{v.version}" for v in versions)
        preferred = versions[0]
        names = "the root names no version" if info.version is None else "the root names no registered version"
        for v in versions[1:]:
            if self.validator(v, max_errors=1).result_of(doc, info).valid:
                result = self.validator(v).result_of(doc, info)
                result.findings.append(Finding(
                    f"{names}; the document conforms to {v.name}@{v.version} "
                    f"({v.status.value}), not to {preferred.name}@{preferred.version}, so it was checked "
                    f"against {v.name}@{v.version} (considered: {considered})", "version:detected",
                    Severity.INFO, file=doc.label))
                return result
        first.findings.append(Finding(
            f"{names} and the document conforms to none of the versions considered "
            f"({considered}); reported against {preferred.name}@{preferred.version}", "version:detected",
            Severity.INFO, file=doc.label))
        return first

    def _version_notes(self, info: RootInfo, chosen: SchemaVersion, name: str) -> list[Finding]:
        if info.version is None:
            return []
        key = key_of(info)
        if key not in self._registered:
            self._registered[key] = [v.version for v in candidates(self.registry, info)]
        registered = self._registered[key]
        if not registered or info.version in registered:
            return []
        return [Finding(f"the root says version {info.version!r}, which is not a registered version of "
                        f"{chosen.name} (registered: {', '.join(registered)}); it was checked against "
                        f"{chosen.name}@{chosen.version}", "version:unregistered", Severity.WARNING,
                        file=name, line=info.line)]

    def matrix(self, source: Source, *, label: str | None = None) -> tuple[str, dict[str, bool]]:
        """Which registered versions of the document's standard it satisfies."""
        name = label or label_of(source)
        with self._open(source, name) as doc:
            info = root_info(sniff_root(doc))
            standard = self.choose(info, name)[0][0].name
            verdicts: dict[str, bool] = {}
            for v in sorted(self.registry.list(name=standard), key=lambda x: x.version_key):
                if v.status in (Status.WITHDRAWN, Status.REJECTED) and not self.allow_withdrawn:
                    continue
                verdicts[f"{v.name}@{v.version}"] = self.validator(v, max_errors=1).result_of(doc, info).valid
            return standard, verdicts

    def _open(self, source: Source, name: str) -> Input:
        return open_input(source, name, progress=reading(self.options.get("progress")))
