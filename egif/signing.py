"""Signatures with the SSH keys maintainers already have.

egif signs with OpenSSH Ed25519 keys, in the SSHSIG format that
``ssh-keygen -Y sign`` writes and git uses for signed commits: a signature
made here verifies with ``ssh-keygen -Y verify`` and the other way round.
The cryptography itself is the ``cryptography`` package's Ed25519; this
module only frames data as the SSHSIG and SSH agent protocols lay it out.

A signature is made with a private key file (OpenSSH format, optionally
passphrase-protected) or by a running ``ssh-agent`` holding the key, so that
the private key never has to be read by egif at all.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from egif.errors import EgifError, InputError

if TYPE_CHECKING:
    import socket

KEY_TYPE = "ssh-ed25519"
SSHSIG_MAGIC = b"SSHSIG"
SSHSIG_VERSION = 1
HASH_ALGORITHM = "sha512"
ARMOR_BEGIN = "-----BEGIN SSH SIGNATURE-----"
ARMOR_END = "-----END SSH SIGNATURE-----"
SIGNING_KEY_ENV = "EGIF_SIGNING_KEY"
PASSPHRASE_ENV = "EGIF_SIGNING_PASSPHRASE"
MAX_KEY_FILE = 64 * 1024

# SSH agent protocol message numbers (draft-miller-ssh-agent)
_AGENT_FAILURE = 5
_AGENTC_REQUEST_IDENTITIES = 11
_AGENT_IDENTITIES_ANSWER = 12
_AGENTC_SIGN_REQUEST = 13
_AGENT_SIGN_RESPONSE = 14


class SignatureError(EgifError):
    """A signature that does not verify, or a key that cannot be used."""

    exit_code = 1


# -- SSH wire encoding ---------------------------------------------------------------
def _string(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


class _Reader:
    def __init__(self, data: bytes, what: str) -> None:
        self.data, self.pos, self.what = data, 0, what

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise SignatureError(f"{self.what} is truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def uint32(self) -> int:
        value: int = struct.unpack(">I", self.take(4))[0]
        return value

    def string(self) -> bytes:
        return self.take(self.uint32())

    def done(self) -> None:
        if self.pos != len(self.data):
            raise SignatureError(f"{self.what} has trailing bytes")


# -- public keys --------------------------------------------------------------------
@dataclass(frozen=True)
class PublicKey:
    """An Ed25519 public key as OpenSSH writes it (``ssh-ed25519 AAAA... comment``)."""

    raw: bytes  # the 32 key bytes
    comment: str = field(default="", compare=False)

    @property
    def blob(self) -> bytes:
        return _string(KEY_TYPE.encode()) + _string(self.raw)

    @property
    def fingerprint(self) -> str:
        """``SHA256:...``, as ``ssh-keygen -l`` prints it."""
        digest = base64.b64encode(hashlib.sha256(self.blob).digest()).decode().rstrip("=")
        return f"SHA256:{digest}"

    def openssh(self) -> str:
        line = f"{KEY_TYPE} {base64.b64encode(self.blob).decode()}"
        return f"{line} {self.comment}" if self.comment else line

    @classmethod
    def from_blob(cls, blob: bytes, comment: str = "") -> PublicKey:
        reader = _Reader(blob, "public key")
        kind = reader.string()
        if kind != KEY_TYPE.encode():
            raise SignatureError(f"unsupported key type {kind.decode(errors='replace')!r}: egif signs with "
                                 f"{KEY_TYPE} keys (ssh-keygen -t ed25519)")
        raw = reader.string()
        reader.done()
        if len(raw) != 32:
            raise SignatureError("an ed25519 public key is 32 bytes")
        return cls(raw, comment)

    @classmethod
    def parse(cls, text: str) -> PublicKey:
        """Read one ``ssh-ed25519 AAAA... [comment]`` line."""
        parts = text.strip().split(None, 2)
        if len(parts) < 2:
            raise InputError("not an OpenSSH public key line (expected 'ssh-ed25519 AAAA... comment')")
        if parts[0] != KEY_TYPE:
            raise InputError(f"unsupported key type {parts[0]!r}: egif signs with {KEY_TYPE} keys "
                             "(ssh-keygen -t ed25519)")
        try:
            blob = base64.b64decode(parts[1], validate=True)
        except (binascii.Error, ValueError):
            raise InputError("the public key's base64 is damaged") from None
        try:
            return cls.from_blob(blob, parts[2] if len(parts) > 2 else "")
        except SignatureError as exc:
            raise InputError(exc.message) from None

    @classmethod
    def read(cls, path: str | Path) -> PublicKey:
        file = Path(path).expanduser()
        try:
            if file.stat().st_size > MAX_KEY_FILE:
                raise InputError("too large for a public key file", file=file)
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError("no such public key file", file=file) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the public key: {exc}", file=file) from None
        try:
            return cls.parse(text)
        except InputError as exc:
            raise InputError(exc.message, file=file) from None

    def verify_raw(self, signature_blob: bytes, data: bytes) -> bool:
        """Check an SSH signature blob (``string "ssh-ed25519" string sig``) over *data*."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        reader = _Reader(signature_blob, "signature")
        if reader.string() != KEY_TYPE.encode():
            return False
        sig = reader.string()
        reader.done()
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(sig, data)
        except (InvalidSignature, ValueError):
            return False
        return True


# -- signers ----------------------------------------------------------------------
class Signer(Protocol):
    """Something that signs with one Ed25519 key."""

    @property
    def public_key(self) -> PublicKey: ...

    def sign_raw(self, data: bytes) -> bytes:
        """An SSH signature blob over *data*."""
        ...


class KeyFileSigner:
    """Signs with an OpenSSH private key file (``~/.ssh/id_ed25519``)."""

    def __init__(self, path: str | Path, passphrase: str | None = None) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        file = Path(path).expanduser()
        try:
            if file.stat().st_size > MAX_KEY_FILE:
                raise InputError("too large for a private key file", file=file)
            data = file.read_bytes()
        except FileNotFoundError:
            raise InputError("no such private key file", file=file) from None
        except OSError as exc:
            raise InputError(f"cannot read the private key: {exc.strerror}", file=file) from None
        secret = passphrase if passphrase is not None else os.environ.get(PASSPHRASE_ENV)
        from cryptography.exceptions import UnsupportedAlgorithm

        try:
            key = serialization.load_ssh_private_key(data, secret.encode() if secret else None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            hint = f" (set {PASSPHRASE_ENV}, or let ssh-agent sign)" if "password" in str(exc).lower() else ""
            raise InputError(f"cannot load the private key: {exc}{hint}", file=file) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise InputError(f"not an ed25519 key: egif signs with {KEY_TYPE} keys", file=file)
        self._key = key
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self._public = PublicKey(raw, file.name)

    @property
    def public_key(self) -> PublicKey:
        return self._public

    def sign_raw(self, data: bytes) -> bytes:
        return _string(KEY_TYPE.encode()) + _string(self._key.sign(data))


class AgentSigner:
    """Signs through a running ssh-agent (``$SSH_AUTH_SOCK``): egif never sees the private key."""

    def __init__(self, public_key: PublicKey, socket_path: str | None = None) -> None:
        self._public = public_key
        path = socket_path or os.environ.get("SSH_AUTH_SOCK")
        if not path:
            raise InputError("no ssh-agent: SSH_AUTH_SOCK is not set")
        self._path = path
        if public_key.blob not in {blob for blob, _ in self.identities()}:
            raise InputError(f"ssh-agent does not hold the key {public_key.fingerprint} "
                             "(ssh-add the private key first)")

    @property
    def public_key(self) -> PublicKey:
        return self._public

    def _request(self, message: bytes) -> tuple[int, _Reader]:
        import socket  # only here: importing it costs every command a few milliseconds

        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(30)
                conn.connect(self._path)
                conn.sendall(_string(message))
                head = _recv_exact(conn, 4)
                (length,) = struct.unpack(">I", head)
                if length > 256 * 1024:
                    raise SignatureError("ssh-agent answered with an oversized message")
                body = _recv_exact(conn, length)
        except OSError as exc:
            raise InputError(f"cannot talk to ssh-agent at {self._path}: {exc.strerror or exc}") from None
        if not body:
            raise SignatureError("ssh-agent answered with an empty message")
        return body[0], _Reader(body[1:], "ssh-agent answer")

    def identities(self) -> list[tuple[bytes, str]]:
        kind, reader = self._request(bytes([_AGENTC_REQUEST_IDENTITIES]))
        if kind != _AGENT_IDENTITIES_ANSWER:
            raise SignatureError("ssh-agent refused to list its keys")
        out = []
        for _ in range(min(reader.uint32(), 1024)):
            blob = reader.string()
            out.append((blob, reader.string().decode("utf-8", "replace")))
        return out

    def sign_raw(self, data: bytes) -> bytes:
        kind, reader = self._request(bytes([_AGENTC_SIGN_REQUEST]) + _string(self._public.blob) + _string(data)
                                     + struct.pack(">I", 0))
        if kind == _AGENT_FAILURE:
            raise SignatureError(f"ssh-agent refused to sign with {self._public.fingerprint}")
        if kind != _AGENT_SIGN_RESPONSE:
            raise SignatureError("ssh-agent gave an unexpected answer to a signing request")
        return reader.string()


def _recv_exact(conn: socket.socket, n: int) -> bytes:
    chunks = []
    while n:
        chunk = conn.recv(n)
        if not chunk:
            raise OSError("the connection closed early")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def signer_for(key: str | Path | None = None, *, passphrase: str | None = None) -> Signer:
    """The signer a user names: a private key file, or a public key file whose key ssh-agent holds.

    ``key`` defaults to ``$EGIF_SIGNING_KEY``.  A ``.pub`` file (or any file
    holding an ``ssh-ed25519`` public key line) means "sign with ssh-agent".
    """
    chosen = key if key is not None else os.environ.get(SIGNING_KEY_ENV)
    if not chosen:
        raise InputError(f"no signing key: give --key FILE or set {SIGNING_KEY_ENV}")
    path = Path(chosen).expanduser()
    try:
        head = path.read_bytes()[:64] if path.stat().st_size <= MAX_KEY_FILE else b""
    except OSError:
        head = b""
    if head.startswith(KEY_TYPE.encode()):
        return AgentSigner(PublicKey.read(path))
    return KeyFileSigner(path, passphrase)


class LazySigner:
    """:func:`signer_for`, called on first use: an action that needs no signature never reads the key.

    The key file is loaded (or ssh-agent asked) the first time the public key
    or a signature is wanted; errors then are the same one-line
    :class:`~egif.errors.InputError` ``signer_for`` raises.
    """

    def __init__(self, key: str | Path | None = None, *, passphrase: str | None = None) -> None:
        self._key = key
        self._passphrase = passphrase
        self._signer: Signer | None = None

    def _loaded(self) -> Signer:
        if self._signer is None:
            self._signer = signer_for(self._key, passphrase=self._passphrase)
        return self._signer

    @property
    def public_key(self) -> PublicKey:
        return self._loaded().public_key

    def sign_raw(self, data: bytes) -> bytes:
        return self._loaded().sign_raw(data)


def configured_signer(key: str | Path | None = None) -> Signer | None:
    """A :class:`LazySigner` when a key is named (*key* or ``$EGIF_SIGNING_KEY``), else None."""
    if key is None and not os.environ.get(SIGNING_KEY_ENV, "").strip():
        return None
    return LazySigner(key)


# -- SSHSIG --------------------------------------------------------------------------
def _signed_blob(namespace: str, message: bytes) -> bytes:
    digest = hashlib.sha512(message).digest()
    return (SSHSIG_MAGIC + _string(namespace.encode()) + _string(b"") + _string(HASH_ALGORITHM.encode())
            + _string(digest))


def sign(signer: Signer, message: bytes, namespace: str) -> str:
    """An armored SSHSIG signature of *message* (``ssh-keygen -Y sign -n NAMESPACE`` format)."""
    blob = (SSHSIG_MAGIC + struct.pack(">I", SSHSIG_VERSION) + _string(signer.public_key.blob)
            + _string(namespace.encode()) + _string(b"") + _string(HASH_ALGORITHM.encode())
            + _string(signer.sign_raw(_signed_blob(namespace, message))))
    body = base64.b64encode(blob).decode()
    lines = [body[i:i + 70] for i in range(0, len(body), 70)]
    return "\n".join([ARMOR_BEGIN, *lines, ARMOR_END]) + "\n"


@dataclass(frozen=True)
class Signature:
    """A parsed SSHSIG signature: who signed (the key), in which namespace."""

    key: PublicKey
    namespace: str
    hash_algorithm: str
    signature: bytes


def parse_signature(armored: str) -> Signature:
    text = armored.strip()
    if not (text.startswith(ARMOR_BEGIN) and text.endswith(ARMOR_END)):
        raise SignatureError("not an SSH signature (no BEGIN/END SSH SIGNATURE lines)")
    body = "".join(text[len(ARMOR_BEGIN):-len(ARMOR_END)].split())
    if len(body) > 64 * 1024:
        raise SignatureError("the SSH signature is oversized")
    try:
        blob = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("the SSH signature's base64 is damaged") from None
    reader = _Reader(blob, "SSH signature")
    if reader.take(6) != SSHSIG_MAGIC or reader.uint32() != SSHSIG_VERSION:
        raise SignatureError("not an SSHSIG version 1 signature")
    key = PublicKey.from_blob(reader.string())
    namespace = reader.string().decode("utf-8", "replace")
    reader.string()  # reserved
    algorithm = reader.string().decode("ascii", "replace")
    sig = reader.string()
    reader.done()
    return Signature(key, namespace, algorithm, sig)


def verify(armored: str, message: bytes, namespace: str, allowed: Iterable[PublicKey]) -> PublicKey:
    """The key that made *armored* over *message*, which must be one of *allowed*.

    Raises :class:`SignatureError` naming what is wrong: another namespace,
    a key not allowed, or a signature that does not match the message.
    """
    parsed = parse_signature(armored)
    if parsed.namespace != namespace:
        raise SignatureError(f"signature made for {parsed.namespace!r}, not {namespace!r}")
    keys = {k.blob: k for k in allowed}
    key = keys.get(parsed.key.blob)
    if key is None:
        raise SignatureError(f"signed by an unknown key {parsed.key.fingerprint}")
    if parsed.hash_algorithm not in ("sha512", "sha256"):
        raise SignatureError(f"unsupported hash {parsed.hash_algorithm!r} in the signature")
    hasher = hashlib.sha512 if parsed.hash_algorithm == "sha512" else hashlib.sha256
    signed = (SSHSIG_MAGIC + _string(namespace.encode()) + _string(b"") + _string(parsed.hash_algorithm.encode())
              + _string(hasher(message).digest()))
    if not key.verify_raw(parsed.signature, signed):
        raise SignatureError(f"the signature by {key.fingerprint} does not match the signed data")
    return key


__all__ = [
    "PASSPHRASE_ENV",
    "SIGNING_KEY_ENV",
    "AgentSigner",
    "KeyFileSigner",
    "LazySigner",
    "PublicKey",
    "Signature",
    "SignatureError",
    "Signer",
    "configured_signer",
    "parse_signature",
    "sign",
    "signer_for",
    "verify",
]
