"""Rendering what ``egif registry`` reports: info, copy, publish, pull, catalog, verify.

Locations, URLs, notes and problems can quote what publishers and users
supplied: each is escaped where it is placed; the JSON forms keep them exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from egif.render.table import Renderers, json_document, lines, plural
from egif.render.text import escape

if TYPE_CHECKING:
    from egif.publish import PublishResult
    from egif.remote import PullResult
    from egif.store.copy import CopyResult
    from egif.verify import VerifyReport
    from egif.xmlcatalog import CatalogResult


def init_text(location: str, count: int, *, existed: bool) -> str:
    verb = "already a registry" if existed else "created registry"
    return f"{verb}: {escape(location)} ({count} schema versions)\n"


# -- egif registry info --------------------------------------------------------------
def info_text(info: dict[str, Any]) -> str:
    rows = [f"registry: {escape(info['location'])}",
            f"store:    {info['store']}, format {info['format']}, {info['access']}",
            f"identity: {escape(info['identity']['note'])}",
            f"approvals: {escape(info['approvals']['note'])}"]
    if info["signed_sources"]:
        rows.append(f"pulls:    signed publications only (trusted publisher keys recorded for "
                    f"{', '.join(escape(u) for u in info['signed_sources'])})")
    rows.append(f"schemas:  {info['schemas']} ({info['versions']} versions)")
    rows.extend(f"  {status}: {n}" for status, n in info["by_status"].items())
    return lines(rows)


INFO: Renderers = {"text": info_text, "json": json_document}


# -- egif registry copy -----------------------------------------------------------------
def copy_text(result: CopyResult) -> str:
    rows = result.rows
    return (f"copied {escape(result.source)} -> {escape(result.destination)}: {rows['schema_versions']} "
            f"versions, {rows['blobs']} stored files, {rows['attachments']} attachments, {rows['config']} "
            f"settings, {rows['events']} events; {result.verified_versions} version digests verified\n")


def _to_json(result: Any, **_options: Any) -> str:
    return json_document(result.to_dict())


COPY: Renderers = {"text": copy_text, "json": _to_json}


# -- egif registry publish -----------------------------------------------------------------
def publish_text(result: PublishResult, *, directory: Path, catalogue: bool = True) -> str:
    return lines(_publish_rows(result, directory, catalogue))


def _publish_rows(result: PublishResult, directory: Path, catalogue: bool) -> Iterator[str]:
    verb = "published" if result.changed else "unchanged"
    yield f"{verb}: {result.versions} versions of {result.standards} standards in {escape(directory)}"
    if result.key_list is None:
        yield "  unsigned: pulls cannot tell this publication from a copy someone altered (sign with --key)"
    else:
        if result.rotated_from is not None:
            yield (f"  new publisher key list, signed by the keys of v{result.rotated_from}: "
                   f"{escape(result.key_list.describe())}")
        if result.signed_by:
            yield (f"  signed by {len(result.signed_by)} of {len(result.key_list.keys)} publisher keys "
                   f"({result.key_list.threshold} needed): {', '.join(result.signed_by)}")
        else:
            yield f"  signed under {escape(result.key_list.describe())}"
    yield f"  objects: {result.objects_written} written, {result.objects_kept} already there"
    if catalogue:
        yield (f"  catalogue pages: {result.pages_written} written, {result.pages_kept} unchanged "
               f"({escape(directory / 'catalogue' / 'index.html')})")
    for note in result.notes:
        yield f"  note: {escape(note)}"
    yield f"index sha256: {result.index_sha256}"


PUBLISH: Renderers = {"text": publish_text, "json": _to_json}


# -- egif registry pull ---------------------------------------------------------------------
def pull_text(result: PullResult) -> str:
    return lines(_pull_rows(result))


def _pull_rows(result: PullResult) -> Iterator[str]:
    for note in result.notes:
        yield escape(note)
    if result.unchanged:
        yield (f"up to date with {escape(result.url)} (index {result.index_sha256[:16]}, "
               f"{plural(result.requests, 'request')})")
        return
    yield (f"pulled from {escape(result.url)}: {len(result.added)} added, "
           f"{len(result.status_changed)} status changes, {result.already_present} already present")
    for ref in result.added:
        yield f"  added {ref}"
    for ref, old, new in result.status_changed:
        yield f"  status {ref}: {old} -> {new}"
    for ref, why in result.kept_local:
        yield f"  kept local {ref}: {escape(why)}"
    yield (f"  {result.fetched_files} files ({result.fetched_bytes} bytes) in {result.requests} "
           f"requests; {result.events_copied} audit events copied")
    yield f"index sha256: {result.index_sha256}"


PULL: Renderers = {"text": pull_text, "json": _to_json}


# -- egif registry export-catalog ------------------------------------------------------------
def catalog_text(result: CatalogResult) -> str:
    return lines([f"wrote {result.files} schema files and {result.entries} catalog entries",
                  f"catalog: {escape(result.catalog)}",
                  f"use: XML_CATALOG_FILES={escape(result.catalog)} xmllint --nonet --schema NAMESPACE doc.xml"])


CATALOG: Renderers = {"text": catalog_text, "json": _to_json}


# -- egif registry verify ---------------------------------------------------------------------
def verify_text(report: VerifyReport) -> str:
    rows = [f"problem: {escape(problem)}" for problem in report.problems]
    legacy = f", the first {report.legacy_events} from before the chain" if report.legacy_events else ""
    rows.append(f"log: {report.events} events{legacy}; head {report.head}")
    rows.append(f"approvals: {'signed' if report.signed_registry else 'unsigned'}; "
                f"{report.signatures_verified} signatures verified")
    rows.extend(f"note: {escape(note)}" for note in report.notes)
    rows.append(f"{escape(report.location)}: "
                + ("verified" if report.ok else plural(len(report.problems), "problem")))
    return lines(rows)


VERIFY: Renderers = {"text": verify_text, "json": _to_json}


__all__ = ["CATALOG", "COPY", "INFO", "PUBLISH", "PULL", "VERIFY", "init_text"]
