"""``egif registry publish|pull|export-catalog``: share a registry as static files.

The commands are added to the ``registry`` group by :mod:`egif_cli.cmd_registry`.
"""

from __future__ import annotations

from pathlib import Path

import click

from egif.render.registry import CATALOG, PUBLISH, PULL
from egif_cli.common import emit, format_option, state


@click.command("publish")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--no-catalogue", is_flag=True, help="Skip the HTML catalogue (index and files only).")
@click.option("--title", default="egif schema registry", show_default=True,
              help="Title of the HTML catalogue.")
@click.option("--key", "keys", multiple=True, metavar="FILE",
              help="Sign the index with this publisher key (repeatable): an ed25519 private key file, or a "
                   ".pub file whose key ssh-agent holds. A directory published signed is never republished "
                   "unsigned.")
@click.option("--key-list", "key_list", multiple=True, metavar="FILE.pub",
              help="The publisher key list to sign under (repeatable; default: the one already published, "
                   "or the --key keys the first time). A new list is signed by the threshold of the old "
                   "one too (key rotation).")
@click.option("--threshold", type=click.IntRange(min=1), metavar="N",
              help="Signatures the index needs from the key list (default: as published, or 1).")
@format_option(PUBLISH)
@click.pass_context
def publish_cmd(ctx: click.Context, directory: Path, no_catalogue: bool, title: str, keys: tuple[str, ...],
                key_list: tuple[str, ...], threshold: int | None, fmt: str) -> None:
    """Write the registry as static files under DIRECTORY (incremental, atomic).

    DIRECTORY gets index.json (every standard, version, status, namespace and
    digest, and the whole audit log), index.sha256, the schema files, audit
    histories and log segments named by their SHA-256 under objects/, and an
    HTML catalogue under catalogue/. With --key the index is signed
    (signatures/, keys/), so that pulls can check who published it. Serve it
    with any web server; others pull it with `egif registry pull URL`.
    """
    from egif.config import read_public_key
    from egif.publish import publish
    from egif.signing import signer_for

    signers = [signer_for(k) for k in keys]
    listed = [read_public_key(k) for k in key_list] or None
    result = publish(state(ctx).registry(), directory, catalogue=not no_catalogue, base_title=title,
                     signers=signers, key_list=listed, threshold=threshold)
    emit(PUBLISH, fmt, result, directory=directory, catalogue=not no_catalogue)


@click.command("pull")
@click.argument("url")
@click.option("--pin", metavar="SHA256",
              help="Accept only the registry state whose index has this SHA-256 (a digest the publisher has "
                   "no snapshot for: exit 2, \"no published state with that SHA-256\").")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Seconds to wait for a connection or for data.")
@click.option("--retries", type=click.IntRange(min=0, max=10), default=2, show_default=True,
              help="Extra attempts after a transient failure (dropped connection, 5xx, timeout).")
@click.option("--max-file-size", type=click.IntRange(min=1), default=16 * 1024 * 1024,
              show_default=True, help="Largest schema file accepted, in bytes.")
@click.option("--trust", "trust", multiple=True, metavar="KEYFILE|SHA256:FP",
              help="A publisher key to trust (repeatable): its .pub file or fingerprint. It must have signed "
                   "the publisher's key list. Without it, a signed publisher's keys are trusted on first use "
                   "and recorded.")
@format_option(PULL)
@click.pass_context
def pull_cmd(ctx: click.Context, url: str, pin: str | None, timeout: float, retries: int,
             max_file_size: int, trust: tuple[str, ...], fmt: str) -> None:
    """Update the local registry from the registry published at URL.

    URL is an http(s) URL, a file:// URL or a local directory (a mirror on
    disk gets the same checks and limits, and nothing outside it is read).

    Fetches the index, then only the files the local registry lacks; every
    file is checked against its SHA-256 before anything is stored, and the
    update is applied in one transaction: on any error nothing changes
    (exit 2).  Local versions whose content differs are kept and reported.

    A signed publication is checked first: the index signatures against the
    publisher's keys and threshold (a new key list must be signed by the old
    one), and the publisher's audit log: every link, every maintainer
    signature, every ratification's approvals. Any failure refuses the pull.
    A registry that has pulled a signed publication refuses unsigned ones.
    """
    from egif.remote import PullLimits, pull

    limits = PullLimits(timeout=timeout, retries=retries, max_file_bytes=max_file_size)
    result = pull(state(ctx).registry(), url, pin=pin, limits=limits, trust=trust)
    emit(PULL, fmt, result)


@click.command("export-catalog")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@format_option(CATALOG)
@click.pass_context
def export_catalog_cmd(ctx: click.Context, directory: Path, fmt: str) -> None:
    """Write an OASIS XML catalog and every schema under DIRECTORY.

    Point a tool at DIRECTORY/catalog.xml (e.g. XML_CATALOG_FILES for xmllint
    and lxml, the catalog settings of Oxygen or Xerces) and every registered
    namespace and schema location resolves offline.
    """
    from egif.xmlcatalog import export_catalog

    result = export_catalog(state(ctx).registry(), directory)
    emit(CATALOG, fmt, result)
