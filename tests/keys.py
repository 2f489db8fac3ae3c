"""Real SSH keys made in the tests: by the ``cryptography`` library (fast) or by ssh-keygen."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from egif.signing import KeyFileSigner, PublicKey


def make_key(folder: Path, name: str) -> Path:
    """A new ed25519 key pair in OpenSSH format: ``folder/name`` and ``folder/name.pub``."""
    folder.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    path = folder / name
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                       serialization.NoEncryption()))
    path.chmod(0o600)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    (folder / f"{name}.pub").write_bytes(public + f" {name}@test\n".encode())
    return path


def ssh_keygen(folder: Path, name: str) -> Path:
    """A new ed25519 key pair made by OpenSSH's own ssh-keygen."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@test", "-f", str(path)],
                   check=True, capture_output=True)
    return path


class Keys:
    """Named key pairs made on demand in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._signers: dict[str, KeyFileSigner] = {}

    def path(self, name: str) -> Path:
        if not (self.folder / name).exists():
            make_key(self.folder, name)
        return self.folder / name

    def pub(self, name: str) -> Path:
        return Path(f"{self.path(name)}.pub")

    def public(self, name: str) -> PublicKey:
        return PublicKey.read(self.pub(name))

    def signer(self, name: str) -> KeyFileSigner:
        if name not in self._signers:
            self._signers[name] = KeyFileSigner(self.path(name))
        return self._signers[name]
