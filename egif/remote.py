"""Pull a published registry (see :mod:`egif.publish`) into a local one.

A pull fetches the index, then only the objects the local registry lacks,
checks every byte against its SHA-256 *before* touching the local registry,
and applies the whole update in one transaction.  Anything that goes wrong
(an HTTP error, a dropped or slow connection, a file that does not hash to
its name, a version whose digest differs from the publisher's) raises before
the transaction commits, so the local registry is exactly as it was.

Nothing a pull stores or compiles comes from anywhere but the bytes it
downloaded and verified: paths in the index are names inside a version (see
:func:`egif.limits.member_path_problem`), each version is stored with
``Registry.add(files=...)`` from those bytes alone, so an xs:include that
names an absolute path, a URL or a place above the version is refused, and
every xs:import must be bound by the index.  JSON nesting, object sizes and
import chains are bounded (:mod:`egif.limits`).

The ETag / Last-Modified of the last successful pull are kept in the
registry's config (key ``remote:<url>``), so pulling an unchanged registry
costs one conditional request answered by ``304 Not Modified``.

Pulled versions keep their publisher's status; the publisher's audit events
for them are appended to the local log with ``data.origin`` naming where
they came from.  A local version whose content differs from the publisher's
(typically a local draft under the same number) is never overwritten: it is
kept and reported, and published versions that import it are skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

import requests

from egif import __version__, eventlog
from egif.errors import EgifError, InputError, NotFound, PermissionDenied, TamperedError, UnsafeInputError
from egif.limits import (
    MAX_HISTORY_BYTES,
    MAX_IMPORT_DEPTH,
    MAX_INDEX_BYTES,
    MAX_KEY_ROTATIONS,
    MAX_LOG_SEGMENT_BYTES,
    MAX_OBJECT_BYTES,
    MAX_PULL_TOTAL_BYTES,
    MAX_TRUST_FILE_BYTES,
    check_member_paths,
    loads_json,
    member_path_problem,
)
from egif.model import SchemaRef, Status, check_name, parse_version
from egif.publish import (
    INDEX_FORMAT,
    INDEX_NAME,
    LOG_FORMAT,
    LOG_SEGMENT_EVENTS,
    object_path,
    snapshot_path,
    write_atomic,
)
from egif.registry import Registry, now
from egif.resolve import DIRECTIVE_TAGS, iter_directives
from egif.signing import PublicKey
from egif.trust import (
    KEY_LIST_NAMESPACE,
    REMOTE_PREFIX,
    KeyList,
    TrustError,
    check_index_signatures,
    check_key_list,
    key_list_path,
    parse_key_list,
    parse_signatures,
    signatures_path,
    signed_sources,
    valid_signers,
)
from egif.userdirs import user_cache_dir
from egif.verify import publication_problems, replay
from egif.xmlsafe import parse_schema_bytes, read_file

USER_AGENT = f"egif/{__version__} (registry pull)"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CONFIG_PREFIX = REMOTE_PREFIX


class RemoteError(EgifError):
    """A published registry that could not be fetched or does not make sense."""


@dataclass(frozen=True)
class PullLimits:
    """Bounds on what one pull may cost."""

    timeout: float = 30.0  # seconds, for connecting and for each read
    # seconds for one file from request to last byte (None: 20 times *timeout*): a publisher
    # sending a byte now and then, each within the read timeout, is given up on
    deadline: float | None = None
    retries: int = 2  # extra attempts after a transient failure
    backoff: float = 0.2  # seconds before the first retry, doubled each time
    max_index_bytes: int = MAX_INDEX_BYTES
    max_file_bytes: int = MAX_OBJECT_BYTES
    max_total_bytes: int = MAX_PULL_TOTAL_BYTES
    max_history_bytes: int = MAX_HISTORY_BYTES
    workers: int = 8


@dataclass
class PullResult:
    url: str
    index_sha256: str
    unchanged: bool
    signed: bool | None = None  # None: nothing new was checked (unchanged)
    notes: list[str] = field(default_factory=list)  # what was trusted and why, said plainly
    added: list[str] = field(default_factory=list)
    status_changed: list[tuple[str, str, str]] = field(default_factory=list)
    kept_local: list[tuple[str, str]] = field(default_factory=list)
    already_present: int = 0
    events_copied: int = 0
    requests: int = 0
    fetched_files: int = 0
    fetched_bytes: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # index, fetch, apply

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url, "index_sha256": self.index_sha256, "unchanged": self.unchanged,
            "signed": self.signed, "notes": self.notes,
            "added": self.added,
            "status_changed": [{"version": r, "from": a, "to": b} for r, a, b in self.status_changed],
            "kept_local": [{"version": r, "reason": why} for r, why in self.kept_local],
            "already_present": self.already_present, "events_copied": self.events_copied,
            "requests": self.requests, "fetched_files": self.fetched_files,
            "fetched_bytes": self.fetched_bytes,
            "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
        }


class _Missing(RemoteError):
    """A file the publication does not have (HTTP 404/410, or absent from a local mirror)."""


def normalise_url(url: str) -> str:
    """The base URL of a published tree (ending in ``/``): an http(s) URL, a ``file://`` URL
    or a local directory (which becomes the ``file://`` URL of its absolute path)."""
    text = url.strip()
    if "://" not in text and text:
        folder = Path(text).expanduser()
        if not folder.is_dir():
            raise InputError(f"{_clip(url)} is neither an http(s) or file:// URL nor a local directory")
        text = folder.resolve().as_uri()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise InputError(f"{_clip(url)} is not a usable URL ({exc})") from None
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
            raise InputError(f"{_clip(url)} is not a file:// URL of a local directory")
        path = parts.path[: -len(INDEX_NAME)] if parts.path.endswith("/" + INDEX_NAME) else parts.path
        folder = Path(url2pathname(path))
        if not folder.is_dir():
            raise InputError(f"{_clip(url)}: no such directory")
        text = folder.resolve().as_uri()
    elif parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"{_clip(url)} is not an http(s) URL, a file:// URL or a local directory "
                         "of a published registry")
    if text.endswith("/" + INDEX_NAME):
        text = text[: -len(INDEX_NAME)]
    if not text.endswith("/"):
        text += "/"
    return text


MAX_REDIRECTS = 10  # within one origin


def _origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{port}"


def _pieces(resp: requests.Response) -> Iterator[bytes]:
    """The body of a streamed response, decoded, a piece at a time as it arrives: urllib3's
    ``read1`` returns what one read brings (``iter_content`` waits for a whole chunk, so a
    body trickling in would never come back to the caller to be timed)."""
    read1 = getattr(resp.raw, "read1", None)
    if read1 is None:  # an older urllib3
        yield from resp.iter_content(65536)
        return
    from urllib3 import exceptions as u3

    try:
        while True:
            piece = read1(65536, decode_content=True)
            if not piece:
                return
            yield piece
    # the errors requests' own iter_content turns these into, which the caller tells apart
    except u3.ReadTimeoutError as exc:
        raise requests.ConnectionError(exc) from None
    except u3.ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from None
    except u3.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from None
    except u3.SSLError as exc:
        raise requests.exceptions.SSLError(exc) from None


class _Fetcher:
    """GETs with timeouts, bounded retries and size limits; one session per thread."""

    def __init__(self, limits: PullLimits, base: str = "") -> None:
        self.limits = limits
        # a local mirror: the directory every file must resolve into
        self.root = Path(url2pathname(urlsplit(base).path)).resolve() if base.startswith("file:") else None
        self.requests = 0
        self.bytes = 0
        self._sessions: list[requests.Session] = []
        import threading

        self._local = threading.local()
        self._lock = threading.Lock()

    def session(self) -> requests.Session:
        s: requests.Session | None = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            s.headers["User-Agent"] = USER_AGENT
            s.trust_env = False  # no proxies or netrc picked up from the environment
            self._local.session = s
            with self._lock:
                self._sessions.append(s)
        return s

    def close(self) -> None:
        for s in self._sessions:
            s.close()

    def get(self, url: str, *, limit: int, headers: Mapping[str, str] | None = None,
            what: str) -> tuple[int, bytes, Mapping[str, str]]:
        """``(status, body, headers)``; 304 comes back with an empty body."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._get_once(url, limit=limit, headers=headers, what=what)
            except _Transient as exc:
                if attempt > self.limits.retries:
                    tries = f"{attempt} attempt{'s' if attempt != 1 else ''}"
                    raise RemoteError(f"{what}: {exc.reason} (gave up after {tries})", file=url) from None
                time.sleep(self.limits.backoff * (2 ** (attempt - 1)))

    def _get_once(self, url: str, *, limit: int, headers: Mapping[str, str] | None,
                  what: str) -> tuple[int, bytes, Mapping[str, str]]:
        with self._lock:
            self.requests += 1
        if url.startswith("file:"):
            return 200, self._count(self._read_local(url, limit=limit, what=what), url), {}
        try:
            resp = self._get_following(url, headers)
        except requests.Timeout:
            raise _Transient(f"no answer within {self.limits.timeout:g} s") from None
        except requests.ConnectionError as exc:
            raise _Transient(_connection_problem(exc)) from None
        except requests.RequestException as exc:
            raise RemoteError(f"{what}: request failed ({_short(exc)})", file=url) from None
        with resp:
            if resp.status_code == 304:
                return 304, b"", resp.headers
            if resp.status_code in RETRY_STATUSES:
                raise _Transient(f"HTTP {resp.status_code} {resp.reason}")
            if resp.status_code in (404, 410):
                raise _Missing(f"{what}: HTTP {resp.status_code} {resp.reason}", file=url)
            if resp.status_code != 200:
                raise RemoteError(f"{what}: HTTP {resp.status_code} {resp.reason}", file=url)
            declared = resp.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise RemoteError(f"{what}: {declared} bytes is over the limit of {limit} bytes",
                                  file=url)
            chunks: list[bytes] = []
            size = 0
            deadline = self.limits.deadline if self.limits.deadline is not None else 20 * self.limits.timeout
            started = time.monotonic()
            try:
                for chunk in _pieces(resp):
                    size += len(chunk)
                    if size > limit:
                        raise RemoteError(f"{what}: more than the limit of {limit} bytes", file=url)
                    chunks.append(chunk)
                    if time.monotonic() - started > deadline:
                        raise RemoteError(f"{what}: too slow: {size} bytes in more than {deadline:g} s, the "
                                          "limit for one file (each read came within the timeout)", file=url)
            except requests.Timeout:
                raise _Transient(f"stalled: no data within {self.limits.timeout:g} s") from None
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                if "timed out" in str(exc):
                    raise _Transient(f"stalled: no data within {self.limits.timeout:g} s") from None
                if "IncompleteRead" in str(exc):
                    raise _Transient(f"truncated: the connection closed after {size} of "
                                     f"{declared} bytes") from None
                raise _Transient(f"connection dropped mid-transfer ({_short(exc)})") from None
            body = b"".join(chunks)
            if declared is not None and declared.isdigit() and int(declared) != len(body):
                raise _Transient(f"truncated: got {len(body)} of {declared} bytes")
            return resp.status_code, self._count(body, url), resp.headers

    def _get_following(self, url: str, headers: Mapping[str, str] | None) -> requests.Response:
        """GET *url*, following redirects only within its own origin (scheme, host and port):
        a publisher must not aim a consumer's requests at other hosts, its internal network
        included."""
        origin = _origin(url)
        for _ in range(MAX_REDIRECTS + 1):
            resp = self.session().get(url, headers=dict(headers or {}), stream=True,
                                      timeout=(self.limits.timeout, self.limits.timeout), allow_redirects=False)
            if not resp.is_redirect:
                return resp
            target = urljoin(url, resp.headers.get("Location", ""))
            resp.close()
            if _origin(target) != origin:
                raise RemoteError(f"redirected to {target}, another origin than {origin}: not followed", file=url)
            url = target
        raise RemoteError(f"more than {MAX_REDIRECTS} redirects", file=url)

    def _count(self, body: bytes, url: str) -> bytes:
        with self._lock:
            self.bytes += len(body)
            if self.bytes > self.limits.max_total_bytes:
                raise RemoteError(f"the pull exceeds the limit of {self.limits.max_total_bytes} "
                                  "bytes in total", file=url)
        return body

    def _read_local(self, url: str, *, limit: int, what: str) -> bytes:
        """A file of a local mirror: the same limits as over HTTP, and never a file outside the
        mirror's directory (a symbolic link pointing out of it is refused)."""
        if self.root is None:  # pragma: no cover - pull() sets the root of a file:// base
            raise RemoteError(f"{what}: a file:// URL outside the mirror", file=url)
        path = Path(url2pathname(urlsplit(url).path))
        try:
            real = path.resolve(strict=True)
        except FileNotFoundError:
            raise _Missing(f"{what}: no such file in the mirror", file=url) from None
        except (OSError, RuntimeError) as exc:
            raise RemoteError(f"{what}: unreadable ({exc})", file=url) from None
        if not real.is_relative_to(self.root):
            raise RemoteError(f"{what}: refused, it leads outside the mirror directory", file=url)
        size = real.stat().st_size if real.is_file() else 0
        if size > limit:  # worded as over HTTP
            raise RemoteError(f"{what}: {size} bytes is over the limit of {limit} bytes", file=url)
        try:
            data = read_file(real, str(path), limit=limit, what=what)
        except InputError as exc:
            raise RemoteError(f"{what}: {exc.message}", file=url) from None
        return data


class _Transient(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _connection_problem(exc: BaseException) -> str:
    text = str(exc)
    for needle, meaning in (("Connection refused", "connection refused"),
                            ("Name or service not known", "host not found"),
                            ("nodename nor servname", "host not found"),
                            ("Temporary failure in name resolution", "host not found"),
                            ("RemoteDisconnected", "connection closed without a response"),
                            ("Connection reset", "connection reset"),
                            ("CERTIFICATE_VERIFY_FAILED", "TLS certificate not trusted")):
        if needle in text:
            return meaning
    return f"connection failed ({_short(exc)})"


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) < 160 else text[:157] + "..."


# -- the index -----------------------------------------------------------------
def parse_index(body: bytes, url: str) -> dict[str, Any]:
    """Decode an index and check its shape, so later steps can trust field types.

    Every path in it names a file inside its version (see
    :func:`egif.limits.member_path_problem`), never a place on the local disk.
    """
    try:
        index = loads_json(body, label=url, what="the index")
    except UnsafeInputError as exc:
        raise RemoteError(exc.message, file=url) from None
    except ValueError as exc:
        raise RemoteError(f"the index is not JSON ({exc})", file=url) from None
    if not isinstance(index, dict) or index.get("format") != INDEX_FORMAT:
        got = index.get("format") if isinstance(index, dict) else type(index).__name__
        raise RemoteError(f"not an egif registry index (format {_clip(got)}, expected {INDEX_FORMAT!r})",
                          file=url)
    standards = index.get("standards")
    if not isinstance(standards, list):
        raise RemoteError("the index has no list of standards", file=url)
    seen: set[str] = set()
    try:
        for std in standards:
            name = check_name(_need(std, "name", str))
            hist = _need(std, "history", dict)
            _digest(hist.get("digest"))
            for v in _need(std, "versions", list):
                _check_version(v, name, seen)
        _check_log_entry(index.get("log"))
        keys = index.get("publisher_keys")
        if keys is not None:
            version = _need(keys, "version", int)
            if isinstance(version, bool) or not 1 <= version <= 2**31:
                raise ValueError("publisher_keys: the key list version is not a positive number")
            _digest(keys.get("digest"))
    except (ValueError, TypeError, KeyError) as exc:
        raise RemoteError(f"malformed index: {_message(exc)}", file=url) from None
    return index


def _check_log_entry(log: Any) -> None:
    if log is None:
        return
    if not isinstance(log, dict) or log.get("format") != LOG_FORMAT:
        raise ValueError(f"log: not an {LOG_FORMAT!r} entry")
    count = _need(log, "events", int)
    _digest(log.get("head"))
    total = 0
    for seg in _need(log, "segments", list):
        _digest(seg.get("digest") if isinstance(seg, dict) else None)
        n = _need(seg, "events", int)
        if not 1 <= n <= LOG_SEGMENT_EVENTS:
            raise ValueError(f"log: a segment of {_clip(n)} events (1 to {LOG_SEGMENT_EVENTS})")
        total += n
    if total != count:
        raise ValueError(f"log: its segments hold {total} events, not the {_clip(count)} it says")


def _check_version(v: Any, std_name: str, seen: set[str]) -> None:
    name = check_name(_need(v, "name", str))
    version = _need(v, "version", str)
    parse_version(version)
    ref = f"{name}@{version}"
    if name != std_name:
        raise ValueError(f"{ref} is listed under the standard {std_name!r}")
    if ref in seen:
        raise ValueError(f"{ref} is listed twice")
    seen.add(ref)
    Status.parse(_need(v, "status", str))
    _digest(v.get("digest"))
    for key in ("title", "successor", "namespace"):
        if v.get(key) is not None and not isinstance(v[key], str):
            raise ValueError(f"{ref}: field {key!r} is not a string")
    if v.get("successor") is not None and "@" not in v["successor"]:
        parse_version(v["successor"])
    elif v.get("successor") is not None:
        SchemaRef.parse(v["successor"])
    files = _need(v, "files", list)
    paths = []
    for f in files:
        paths.append(_safe_path(_need(f, "path", str)))
        _digest(f.get("digest"))
    try:
        check_member_paths(paths)
    except UnsafeInputError as exc:
        raise ValueError(f"{ref}: {exc.message}") from None
    main = _safe_path(_need(v, "main", str))
    if main not in paths:
        raise ValueError(f"{ref}: its main file {main!r} is not among its files")
    for b in _need(v, "imports", list):
        _need(b, "namespace", str)
        if b.get("target") is not None:
            if not isinstance(b["target"], str) or SchemaRef.parse(b["target"]).version is None:
                raise ValueError(f"{ref}: import target {b['target']!r} is not NAME@VERSION")
        elif b.get("bundled_path") is not None:
            bundled = _safe_path(b["bundled_path"])
            if bundled not in paths:
                raise ValueError(f"{ref}: bundled import {bundled!r} is not among its files")
    attachments = v.get("attachments", [])
    if not isinstance(attachments, list):
        raise ValueError(f"{ref}: field 'attachments' is not a list")
    for a in attachments:
        kind = _need(a, "kind", str)
        if not _KIND_RE.fullmatch(kind):
            raise ValueError(f"{ref}: attachment kind {_clip(kind)} is not a plain word")
        _safe_path(_need(a, "name", str))
        _digest(a.get("digest"))


_KIND_RE = re.compile(r"[a-z][a-z0-9-]{0,39}")


def _need(obj: Any, key: str, kind: type) -> Any:
    if not isinstance(obj, dict) or not isinstance(obj.get(key), kind):
        raise ValueError(f"field {key!r} missing or not a {kind.__name__}")
    return obj[key]


def _digest(value: Any) -> str:
    if not isinstance(value, str) or len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ValueError(f"{_clip(value)} is not a SHA-256 digest")
    return value


def _safe_path(path: str) -> str:
    """A file name inside a version, as published; refused unless plainly relative."""
    problem = member_path_problem(path)
    if problem is not None:
        raise ValueError(f"unsafe file path: {problem}")
    return path


def _clip(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(exc: BaseException) -> str:
    return exc.message if isinstance(exc, EgifError) else str(exc)


# -- the pull ------------------------------------------------------------------
def pull(registry: Registry, url: str, *, pin: str | None = None, limits: PullLimits | None = None,
         progress: Callable[[str], None] | None = None, trust: Sequence[str | PublicKey] = ()) -> PullResult:
    """Bring *registry* up to date with the registry published at *url*.

    A pull stores the publisher's statuses and copies its audit events, so it
    is an administrative path: on a PostgreSQL registry only the owner role
    may pull.

    A signed publication (see :mod:`egif.trust`) is checked before anything
    is stored: its publisher keys (trusted on first use and recorded, or
    named by *trust*: public key files, key lines or ``SHA256:`` fingerprints),
    the index signatures against their threshold, and the publisher's whole
    audit log (chain, maintainer signatures, every ratification).  Once a
    registry has pulled a signed publication it refuses unsigned ones.
    """
    if not registry.store.is_admin:
        raise PermissionDenied(
            f"pulling into {registry.location} stores the publisher's statuses and events: connect "
            "as the role that owns the registry (the one that ran `egif registry init`)")
    limits = limits or PullLimits()
    base = normalise_url(url)
    if pin is not None:
        pin = pin.strip().lower()
        try:
            _digest(pin)
        except ValueError:
            raise InputError(f"--pin {pin!r} is not a SHA-256 digest (64 hex digits)") from None
    trusted = [_trusted_entry(t) for t in trust]
    key = CONFIG_PREFIX + base
    state: dict[str, Any] = registry.store.get_config(key) or {}
    fetcher = _Fetcher(limits, base)
    try:
        return _pull(registry, base, pin, state, key, fetcher, limits, progress or (lambda _m: None), trusted)
    finally:
        fetcher.close()


def _trusted_entry(item: str | PublicKey) -> PublicKey | str:
    """A ``--trust`` value: a key (file or line), or a ``SHA256:`` fingerprint kept as text."""
    if isinstance(item, PublicKey):
        return item
    text = item.strip()
    if text.startswith("SHA256:"):
        if not re.fullmatch(r"SHA256:[A-Za-z0-9+/]{43}", text):
            raise InputError(f"--trust {_clip(text)} is not a key fingerprint (SHA256: and 43 base64 characters)")
        return text
    return PublicKey.parse(text) if text.startswith("ssh-") else PublicKey.read(text)


def _pull(registry: Registry, base: str, pin: str | None, state: dict[str, Any], key: str,
          fetcher: _Fetcher, limits: PullLimits,
          progress: Callable[[str], None], trusted: list[PublicKey | str]) -> PullResult:
    t_start = time.perf_counter()
    index_url = urljoin(base, snapshot_path(pin) if pin else INDEX_NAME)
    headers: dict[str, str] = {}
    if not pin and state.get("index_sha256"):
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("last_modified"):
            headers["If-Modified-Since"] = state["last_modified"]
    try:
        status, body, resp_headers = fetcher.get(index_url, limit=limits.max_index_bytes, headers=headers,
                                                 what="registry index")
    except _Missing:
        if not pin:
            raise
        raise NotFound(f"no published state with that SHA-256: {pin}", file=base) from None
    if status == 304:
        return PullResult(base, state["index_sha256"], unchanged=True, requests=fetcher.requests)
    index_sha = hashlib.sha256(body).hexdigest()
    if pin and index_sha != pin:
        raise TamperedError(f"the index has SHA-256 {index_sha[:16]}..., not the pinned "
                            f"{pin[:16]}...: refusing it", file=index_url)
    if index_sha == state.get("index_sha256"):
        _save_validators(registry, key, state, resp_headers, index_sha)
        return PullResult(base, index_sha, unchanged=True, requests=fetcher.requests)
    index = parse_index(body, index_url)
    progress(f"index {index_sha[:16]}: {sum(len(s['versions']) for s in index['standards'])} versions")
    checked = _check_publication(registry, base, index, body, index_sha, state, fetcher, limits, trusted)
    t_index = time.perf_counter()

    plan = _plan(registry, index, base, state)
    result = PullResult(base, index_sha, unchanged=False, signed=checked.signed, notes=checked.notes)
    result.kept_local = plan.kept_local
    result.already_present = plan.present

    # fetch everything missing, checking each object against its name
    wanted: dict[str, int] = {}
    for v in plan.add:
        for f in v["files"]:
            if not registry.store.has_blob(f["digest"]):
                wanted[f["digest"]] = limits.max_file_bytes
        for a in v.get("attachments", []):
            if not registry.store.has_blob(a["digest"]):
                wanted[a["digest"]] = limits.max_file_bytes
    hist_needed = {std["name"]: std["history"] for std in index["standards"]
                   if std["name"] in plan.names_touched
                   and state.get("history", {}).get(std["name"]) != std["history"]["digest"]}
    for hist in hist_needed.values():
        wanted[hist["digest"]] = max(wanted.get(hist["digest"], 0), limits.max_history_bytes)
    progress(f"fetching {len(wanted)} objects")
    fetched = _fetch_objects(fetcher, base, wanted, limits)
    t_fetch = time.perf_counter()
    result.fetched_files = len(fetched)
    result.fetched_bytes = sum(len(b) for b in fetched.values())
    histories: dict[str, list[dict[str, Any]]] = {}
    for name, hist in hist_needed.items():
        where = urljoin(base, object_path(hist["digest"]))
        try:
            events = loads_json(fetched[hist["digest"]], label=where, what=f"the history of {name}")
            if not isinstance(events, list):
                raise ValueError("not a list")
        except UnsafeInputError as exc:
            raise RemoteError(exc.message, file=where) from None
        except ValueError as exc:
            raise RemoteError(f"history of {name} is not a JSON list of events ({exc})",
                              file=where) from None
        histories[name] = [e for e in events if isinstance(e, dict)]

    def blob(digest: str) -> bytes:
        return fetched[digest] if digest in fetched else registry.store.get_blob(digest)

    # apply, all or nothing
    origin_note: dict[str, Any] = {"url": base, "index_sha256": index_sha}
    last_seen: dict[str, int] = dict(state.get("last_event_id", {}))
    pulled: set[str] = set(state.get("versions", []))
    store = registry.store
    try:
        with store.transaction():
            for v in plan.add:
                ref = f"{v['name']}@{v['version']}"
                contents = {f["path"]: blob(f["digest"]) for f in v["files"]}
                confine(ref, v, contents, base)
                imports: dict[str, str | Path] = {}
                for b in v["imports"]:
                    if b.get("target"):
                        imports[b["namespace"]] = b["target"]
                    elif b.get("bundled_path"):
                        imports[b["namespace"]] = Path(b["bundled_path"])  # a file of the set
                try:
                    # from the downloaded bytes alone: no schemaLocation can reach the disk
                    added = registry._add(v["main"], files=contents, name=v["name"], version=v["version"],
                                          imports=imports, status=v["status"], title=v.get("title"),
                                          successor=v.get("successor"), via="pull")
                except EgifError as exc:
                    raise RemoteError(f"{ref} from the publisher cannot be stored: {exc}",
                                      file=base) from None
                if added.version.digest != v["digest"]:
                    raise TamperedError(
                        f"{ref}: its files give digest {added.version.digest[:16]}..., but the index "
                        f"says {v['digest'][:16]}...: refusing the pull", file=base)
                for a in v.get("attachments", []):
                    registry.attach(ref, a["kind"], a["name"], blob(a["digest"]))
                pulled.add(ref)
                result.added.append(ref)
            for ref, old, new, successor in plan.status:
                row = store.find_version(*ref.split("@"))
                assert row is not None
                store.set_status(row["id"], new, successor)
                eventlog.append(store, name=row["name"], version=row["version"], kind="pulled-status",
                                actor=registry.actor, at=now(),
                                data={"from": old, "to": new, "origin": origin_note})
                pulled.add(ref)
                result.status_changed.append((ref, old, new))
            new_refs = set(result.added)
            for name, events in histories.items():
                since = int(last_seen.get(name, 0))
                for e in events:
                    ref = f"{e.get('name')}@{e.get('version')}"
                    raw_id = e.get("id")
                    eid = raw_id if isinstance(raw_id, int) else 0
                    if ref not in pulled or (ref not in new_refs and eid <= since):
                        continue
                    data = dict(e.get("data") or {}) if isinstance(e.get("data"), dict) else {}
                    data["origin"] = {**origin_note, "event_id": eid}
                    eventlog.append(store, name=str(e["name"]), version=str(e["version"]),
                                    kind=str(e.get("kind", "event")),
                                    actor=str(e.get("actor", "unknown")), at=str(e.get("at", "")),
                                    data=data)
                    result.events_copied += 1
                last_seen[name] = max([since] + [int(e["id"]) for e in events
                                                 if isinstance(e.get("id"), int)])
            eventlog.append(store, name=None, version=None, kind="pull", actor=registry.actor, at=now(),
                            data={**origin_note, "added": result.added,
                                  "status_changed": [list(x) for x in result.status_changed],
                                  "kept_local": [list(x) for x in result.kept_local],
                                  "signed": checked.signed, **checked.record()})
            history_state = dict(state.get("history", {}))
            history_state.update({n: h["digest"] for n, h in hist_needed.items()})
            new_state = {**state, "history": history_state, "last_event_id": last_seen,
                         "versions": sorted(pulled), **checked.state()}
            _save_validators(registry, key, new_state, resp_headers, index_sha)
    except BaseException:
        registry._resolved.clear()  # compiled closures of rolled-back rows must not linger
        raise
    result.requests = fetcher.requests
    result.seconds = {"index": t_index - t_start, "fetch": t_fetch - t_index,
                      "apply": time.perf_counter() - t_fetch}
    return result


# -- trust: publisher keys, index signatures, the publisher's log ------------------------------
@dataclass
class _Checked:
    """What checking a publication established, to record with the pull."""

    signed: bool
    notes: list[str] = field(default_factory=list)
    key_list: KeyList | None = None
    key_list_digest: str | None = None
    how: str | None = None  # "first use", "--trust", "recorded"
    log: dict[str, Any] | None = None

    def record(self) -> dict[str, Any]:
        if self.key_list is None:
            return {}
        return {"publisher_keys": {"version": self.key_list.version, "threshold": self.key_list.threshold,
                                   "keys": [k.fingerprint for k in self.key_list.keys], "trusted": self.how},
                "log": self.log}

    def state(self) -> dict[str, Any]:
        if self.key_list is None:
            return {}
        return {"trust": {"version": self.key_list.version, "digest": self.key_list_digest,
                          "keys": [k.openssh() for k in self.key_list.keys],
                          "threshold": self.key_list.threshold, "how": self.how},
                "log": self.log}


def _check_publication(registry: Registry, base: str, index: dict[str, Any], body: bytes, index_sha: str,
                       state: dict[str, Any], fetcher: _Fetcher, limits: PullLimits,
                       trusted: list[PublicKey | str]) -> _Checked:
    """Establish trust in a publication, or refuse it (raising) before anything is stored."""
    named = index.get("publisher_keys")
    if named is None:
        if trusted:
            raise TrustError("the index is not signed, but --trust names the publisher's keys: refused",
                             file=urljoin(base, INDEX_NAME))
        signed_before = signed_sources(registry.store.all_config())
        if signed_before:
            raise TrustError(f"the index is not signed, and this registry has pulled signed publications "
                             f"(from {signed_before[0]}): it accepts no unsigned one", file=urljoin(base, INDEX_NAME))
        return _Checked(False, ["the source is unsigned: nothing vouches for what it says is ratified "
                                "(its index and files are only checked against each other)"])
    key_list, key_digest, how, notes = _trusted_keys(base, named, state, fetcher, trusted)
    where = urljoin(base, signatures_path(index_sha))
    doc = _fetch_json(fetcher, where, "the index signatures")
    version, sigs = parse_signatures(doc, index_sha, where)
    if version != key_list.version:
        raise TrustError(f"the signatures are made under key list v{version}, but the index names "
                         f"v{key_list.version}", file=where)
    signers = check_index_signatures(body, sigs, key_list, where)
    notes.append(f"index signed by {len(signers)} of the publisher's {len(key_list.keys)} keys "
                 f"({key_list.threshold} needed): {', '.join(sorted(k.fingerprint for k in signers))}")
    log, more = _check_log(base, index, state, fetcher, limits)
    notes.extend(more)
    return _Checked(True, notes, key_list, key_digest, how, log)


def _fetch_json(fetcher: _Fetcher, url: str, what: str, limit: int = MAX_TRUST_FILE_BYTES) -> Any:
    try:
        _status, data, _h = fetcher.get(url, limit=limit, what=what)
    except RemoteError as exc:
        raise TrustError(f"{what} cannot be fetched ({exc.message}): refused", file=url) from None
    try:
        return loads_json(data, label=url, what=what)
    except UnsafeInputError as exc:
        raise TrustError(exc.message, file=url) from None
    except ValueError as exc:
        raise TrustError(f"{what}: not JSON ({exc})", file=url) from None


def _fetch_key_list(fetcher: _Fetcher, base: str, version: int) -> tuple[KeyList, list[str], bytes, str]:
    where = urljoin(base, key_list_path(version))
    try:
        _status, data, _h = fetcher.get(where, limit=MAX_TRUST_FILE_BYTES, what=f"publisher key list v{version}")
    except RemoteError as exc:
        raise TrustError(f"publisher key list v{version} cannot be fetched ({exc.message}): refused",
                         file=where) from None
    try:
        doc = loads_json(data, label=where, what="the publisher key list")
    except (UnsafeInputError, ValueError) as exc:
        raise TrustError(f"the publisher key list is not usable JSON ({_message(exc)})", file=where) from None
    key_list, sigs = parse_key_list(doc, where)
    if key_list.version != version:
        raise TrustError(f"keys/{version}.json holds key list v{key_list.version}", file=where)
    return key_list, sigs, data, where


def _trusted_keys(base: str, named: Mapping[str, Any], state: Mapping[str, Any], fetcher: _Fetcher,
                  trusted: list[PublicKey | str]) -> tuple[KeyList, str, str, list[str]]:
    """The key list the index names, trusted: recorded (and rotated), from --trust, or on first use."""
    version, digest = int(named["version"]), str(named["digest"])
    current, sigs, data, where = _fetch_key_list(fetcher, base, version)
    if hashlib.sha256(data).hexdigest() != digest:
        raise TrustError("the publisher key list does not match the digest the index names", file=where)
    notes: list[str] = []
    prior = state.get("trust")
    if isinstance(prior, dict):
        held = KeyList(int(prior["version"]), tuple(PublicKey.parse(k) for k in prior["keys"]),
                       int(prior["threshold"]))
        if version < held.version:
            raise TrustError(f"the index is signed under publisher key list v{version}, older than the v{held.version} "
                             "this registry trusts (a rollback): refused", file=where)
        if version == held.version:
            if digest != prior.get("digest"):
                raise TrustError(f"publisher key list v{version} differs from the one this registry trusts: refused",
                                 file=where)
        else:
            if version - held.version > MAX_KEY_ROTATIONS:
                raise TrustError(f"the publisher key list moved from v{held.version} to v{version}: more than "
                                 f"{MAX_KEY_ROTATIONS} rotations at once (the limit)", file=where)
            step = held
            for v in range(held.version + 1, version + 1):
                kl, kl_sigs, _data, kl_where = (current, sigs, data, where) if v == version \
                    else _fetch_key_list(fetcher, base, v)
                check_key_list(kl, kl_sigs, step, kl_where)
                step = kl
            notes.append(f"followed a publisher key rotation, signed by the keys it replaces: v{held.version} -> "
                         f"v{version} ({current.describe()})")
        _require_trusted(current, sigs, trusted, where)
        return current, digest, str(prior.get("how") or "recorded"), notes
    check_key_list(current, sigs, None, where)
    if trusted:
        _require_trusted(current, sigs, trusted, where)
        notes.append(f"publisher keys trusted as named by --trust: {current.describe()}")
        return current, digest, "--trust", notes
    notes.append(f"trusting the publisher's keys on first use (recorded; later pulls need them): "
                 f"{current.describe()}")
    return current, digest, "first use", notes


def _require_trusted(key_list: KeyList, sigs: Sequence[str], trusted: list[PublicKey | str], where: str) -> None:
    """Every key named by --trust must be in the list and have signed it (it cannot be borrowed)."""
    if not trusted:
        return
    signers, _ = valid_signers(sigs, key_list.message, KEY_LIST_NAMESPACE, key_list.keys)
    prints = {k.fingerprint for k in signers}
    for item in trusted:
        fingerprint = item.fingerprint if isinstance(item, PublicKey) else item
        if fingerprint not in prints:
            raise TrustError(f"the trusted key {fingerprint} has not signed the publisher's key list "
                             f"v{key_list.version} ({', '.join(k.fingerprint for k in key_list.keys)}): refused",
                             file=where)


def _check_log(base: str, index: Mapping[str, Any], state: Mapping[str, Any], fetcher: _Fetcher,
               limits: PullLimits) -> tuple[dict[str, Any], list[str]]:
    """Fetch and replay the publisher's log; refuse what does not verify, or does not extend the last pull's."""
    log = index.get("log")
    where = urljoin(base, INDEX_NAME)
    if not isinstance(log, dict):
        raise TrustError("the index is signed but carries no audit log: its ratifications cannot be checked",
                         file=where)
    events: list[dict[str, Any]] = []
    for seg in log["segments"]:
        events.extend(_log_segment(fetcher, base, seg, limits))
    audit = replay(events)
    if audit.problems:
        more = f" (and {len(audit.problems) - 1} more)" if len(audit.problems) > 1 else ""
        raise TrustError(f"the publisher's audit log does not verify: {audit.problems[0]}{more}", file=where)
    if audit.chain.head != log["head"]:
        raise TrustError("the publisher's audit log does not end where the index says it does", file=where)
    before = state.get("log")
    if isinstance(before, dict) and isinstance(before.get("events"), int) and before["events"] > 0:
        count = int(before["events"])
        if len(audit.chain) < count:
            raise TrustError(f"the publisher's log has {len(audit.chain)} events, fewer than the {count} pulled "
                             "before: an older or truncated publication (rollback) refused", file=where)
        if audit.chain.links[count - 1].hash != before.get("head"):
            raise TrustError(f"the publisher's log no longer contains the {count} events pulled before: its "
                             "history was rewritten; refused", file=where)
    from egif.shipped import shipped_digests

    entries = [v for std in index["standards"] for v in std["versions"]]
    needs_shipped = any(t.ratification is not None and t.ratification.how == "shipped"
                        for t in audit.versions.values())
    problems = publication_problems(audit, entries, shipped_digests() if needs_shipped else {})
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise TrustError(problems[0] + more, file=where)
    notes = [f"the publisher's audit log verifies: {len(audit.chain)} events, {audit.signed} maintainer "
             "signatures, every ratification with its approvals"]
    if not audit.signed_registry:
        notes.append("the publisher's approvals are unsigned (its maintainers have no keys): they are names "
                     "its registry recorded, vouched for only by the index signatures")
    return {"events": len(audit.chain), "head": audit.chain.head}, notes


def _log_segment(fetcher: _Fetcher, base: str, seg: Mapping[str, Any], limits: PullLimits) -> list[dict[str, Any]]:
    digest = str(seg["digest"])
    cache = user_cache_dir() / "log-segments" / digest
    data: bytes | None = None
    try:
        if cache.is_file() and cache.stat().st_size <= MAX_LOG_SEGMENT_BYTES:
            data = cache.read_bytes()
            if hashlib.sha256(data).hexdigest() != digest:
                data = None
    except OSError:
        data = None
    if data is None:
        data = _fetch_objects(fetcher, base, {digest: MAX_LOG_SEGMENT_BYTES}, limits)[digest]
        with contextlib.suppress(OSError):  # a cache that cannot be written only costs a download
            write_atomic(cache, data)
    where = urljoin(base, object_path(digest))
    try:
        events = loads_json(data, label=where, what="a segment of the publisher's log")
    except (UnsafeInputError, ValueError) as exc:
        raise TrustError(f"a segment of the publisher's log is not usable JSON ({_message(exc)})", file=where) from None
    if not isinstance(events, list) or len(events) != seg["events"]:
        raise TrustError(f"a segment of the publisher's log does not hold the {seg['events']} events the index "
                         "says", file=where)
    for e in events:
        problem = _event_shape(e)
        if problem:
            raise TrustError(f"a segment of the publisher's log holds a malformed event: {problem}", file=where)
    return events


def _event_shape(e: Any) -> str | None:
    if not isinstance(e, dict):
        return "not an object"
    for key, kinds in (("id", (int,)), ("kind", (str,)), ("actor", (str,)), ("at", (str,)), ("data", (dict,)),
                       ("name", (str, type(None))), ("version", (str, type(None))),
                       ("prev", (str, type(None))), ("signature", (str, type(None)))):
        if not isinstance(e.get(key), kinds) or isinstance(e.get(key), bool):
            return f"field {key!r} missing or of the wrong type"
    if e["prev"] is not None and not re.fullmatch(r"[0-9a-f]{64}", e["prev"]):
        return "its link is not a SHA-256 digest"
    if e["signature"] is not None and len(e["signature"]) > 8192:
        return "its signature is oversized"
    return None


def confine(ref: str, v: Mapping[str, Any], contents: Mapping[str, bytes], base: str) -> None:
    """Refuse a downloaded version whose imports the index does not bind.

    Storing reads only the downloaded *contents* (``Registry.add`` with
    ``files=``), where an include that names anything outside them is refused;
    an import the index leaves unbound would instead be bound here, by this
    registry's own defaults, to something the publisher never said.
    """
    bound = {b["namespace"] for b in v["imports"] if b.get("target") or b.get("bundled_path")}
    for path, data in contents.items():
        try:
            root = parse_schema_bytes(data, path).getroot()
        except EgifError as exc:
            raise RemoteError(f"{ref} from the publisher cannot be stored: {exc}", file=base) from None
        for elem in iter_directives(root):
            if DIRECTIVE_TAGS[str(elem.tag)] != "import":
                continue
            ns = elem.get("namespace") or ""
            if ns not in bound:
                raise RemoteError(
                    f"{ref}: {path} imports {_clip(ns)} (schemaLocation {_clip(elem.get('schemaLocation'))}), "
                    "which the index binds neither to a version nor to one of its files: refused, "
                    "a pull stores only what the publisher bound", file=base)


def _save_validators(registry: Registry, key: str, state: dict[str, Any],
                     headers: Mapping[str, str], index_sha: str) -> None:
    new_state = {**state, "index_sha256": index_sha, "etag": headers.get("ETag"),
                 "last_modified": headers.get("Last-Modified"), "pulled_at": now()}
    with registry.store.transaction():
        registry.store.set_config(key, new_state)


@dataclass
class _Plan:
    add: list[dict[str, Any]] = field(default_factory=list)
    status: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    kept_local: list[tuple[str, str]] = field(default_factory=list)
    present: int = 0
    names_touched: set[str] = field(default_factory=set)


def _plan(registry: Registry, index: dict[str, Any], base: str, state: dict[str, Any]) -> _Plan:
    plan = _Plan()
    published: dict[str, dict[str, Any]] = {}
    for std in index["standards"]:
        for v in std["versions"]:
            published[f"{v['name']}@{v['version']}"] = v
    from_here = set(state.get("versions", []))
    blocked: set[str] = set()
    for ref in _dependency_order(published, base):
        v = published[ref]
        deps = [b["target"] for b in v["imports"] if b.get("target")]
        local = registry.store.find_version(v["name"], v["version"])
        if local is not None and local["digest"] != v["digest"]:
            blocked.add(ref)
            why = (f"local {local['status']} version differs from the publisher's "
                   f"(local {local['digest'][:12]}, published {v['digest'][:12]})")
            plan.kept_local.append((ref, why))
            continue
        stuck = [d for d in deps if d in blocked]
        if stuck:
            blocked.add(ref)
            plan.kept_local.append((ref, f"not pulled: it imports {stuck[0]}, kept local"))
            continue
        if local is None:
            plan.add.append(v)
            plan.names_touched.add(v["name"])
            continue
        plan.present += 1
        local_draft = local["status"] == Status.DRAFT.value and ref not in from_here
        if ref in from_here:
            plan.names_touched.add(v["name"])  # its history may have grown upstream
        if local["status"] != v["status"] and not local_draft:
            plan.names_touched.add(v["name"])
            plan.status.append((ref, local["status"], v["status"], v.get("successor")))
    return plan


def _dependency_order(published: Mapping[str, dict[str, Any]], base: str) -> list[str]:
    """Every published version after the versions it imports (an iterative walk: the chains
    come from the publisher, and the depth of Python's call stack is not a limit to lend them)."""
    order: list[str] = []
    mark: dict[str, int] = {}  # 1: on the current path, 2: done
    depth: dict[str, int] = {}  # versions in the longest import chain from here

    def targets(ref: str) -> list[str]:
        return [t for b in published[ref]["imports"] if (t := b.get("target")) and t in published]

    for root in sorted(published):
        if mark.get(root):
            continue
        mark[root] = 1
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(targets(root)))]
        while stack:
            ref, pending = stack[-1]
            nxt = next(pending, None)
            if nxt is None:
                stack.pop()
                mark[ref] = 2
                depth[ref] = 1 + max((depth[t] for t in targets(ref)), default=0)
                if depth[ref] > MAX_IMPORT_DEPTH:
                    raise RemoteError(f"{ref} imports through a chain of more than {MAX_IMPORT_DEPTH} "
                                      "versions (the limit)", file=base)
                order.append(ref)
            elif mark.get(nxt) == 1:
                trail = [r for r, _ in stack]
                trail = [*trail[trail.index(nxt):], nxt]
                shown = " -> ".join(trail if len(trail) <= 8 else [*trail[:4], "...", *trail[-3:]])
                raise RemoteError(f"the index has an import cycle: {shown}", file=base)
            elif mark.get(nxt) is None:
                mark[nxt] = 1
                stack.append((nxt, iter(targets(nxt))))
    return order


def _fetch_objects(fetcher: _Fetcher, base: str, wanted: Mapping[str, int],
                   limits: PullLimits) -> dict[str, bytes]:
    def one(item: tuple[str, int]) -> tuple[str, bytes]:
        digest, limit = item
        url = urljoin(base, object_path(digest))
        _status, body, _h = fetcher.get(url, limit=limit, what=f"object {digest[:16]}")
        got = hashlib.sha256(body).hexdigest()
        if got != digest:
            raise TamperedError(f"content does not match its digest (got {got[:16]}..., expected "
                                f"{digest[:16]}...): tampered or corrupted in transit; nothing "
                                "was changed", file=url)
        return digest, body

    items: Iterable[tuple[str, int]] = sorted(wanted.items())
    if len(wanted) <= 1 or limits.workers <= 1:
        return dict(one(i) for i in items)
    with ThreadPoolExecutor(max_workers=limits.workers) as pool:
        return dict(pool.map(one, items))


__all__ = ["PullLimits", "PullResult", "RemoteError", "TrustError", "normalise_url", "parse_index", "pull",
           "signed_sources"]
