"""SSH signatures: egif and OpenSSH's own ssh-keygen agree both ways (issue 15).

Keys are generated in each test with the real ssh-keygen; the agent tests run
a real ssh-agent on a private socket.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from egif import InputError
from egif.signing import (
    AgentSigner,
    KeyFileSigner,
    PublicKey,
    SignatureError,
    parse_signature,
    sign,
    signer_for,
    verify,
)

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="OpenSSH ssh-keygen is not installed")
NS = "egif-test"


def keygen(folder: Path, name: str, passphrase: str = "") -> Path:
    path = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", f"{name}@test", "-f", str(path)],
                   check=True, capture_output=True)
    return path


def test_sign_here_verify_with_ssh_keygen(tmp_path: Path) -> None:
    key = keygen(tmp_path, "alice")
    signer = KeyFileSigner(key)
    message = b"approve BS7666@2.1 digest 0123"
    armored = sign(signer, message, NS)
    (tmp_path / "msg.sig").write_text(armored)
    (tmp_path / "allowed").write_text(f"alice {PublicKey.read(str(key) + '.pub').openssh()}\n")
    ok = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(tmp_path / "allowed"), "-I", "alice", "-n", NS,
                         "-s", str(tmp_path / "msg.sig")], input=message, capture_output=True, check=False)
    assert ok.returncode == 0, ok.stderr
    tampered = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(tmp_path / "allowed"), "-I", "alice",
                               "-n", NS, "-s", str(tmp_path / "msg.sig")], input=message + b"!",
                              capture_output=True, check=False)
    assert tampered.returncode != 0


def test_sign_with_ssh_keygen_verify_here(tmp_path: Path) -> None:
    key = keygen(tmp_path, "bob")
    message = tmp_path / "event.json"
    message.write_bytes(b'{"kind":"ratify"}')
    subprocess.run(["ssh-keygen", "-Y", "sign", "-f", str(key), "-n", NS, str(message)], check=True,
                   capture_output=True)
    armored = (tmp_path / "event.json.sig").read_text()
    public = PublicKey.read(str(key) + ".pub")
    assert verify(armored, message.read_bytes(), NS, [public]) == public
    assert parse_signature(armored).key.fingerprint == public.fingerprint
    fingerprint = subprocess.run(["ssh-keygen", "-l", "-f", str(key) + ".pub"], check=True, capture_output=True,
                                 text=True).stdout.split()[1]
    assert public.fingerprint == fingerprint


def test_every_kind_of_tampering_is_refused(tmp_path: Path) -> None:
    alice, mallory = KeyFileSigner(keygen(tmp_path, "alice")), KeyFileSigner(keygen(tmp_path, "mallory"))
    message = b"ratify X@1.1"
    armored = sign(alice, message, NS)
    with pytest.raises(SignatureError, match="does not match"):
        verify(armored, b"ratify X@1.2", NS, [alice.public_key])
    with pytest.raises(SignatureError, match="not 'other'"):
        verify(armored, message, "other", [alice.public_key])
    with pytest.raises(SignatureError, match="unknown key"):
        verify(sign(mallory, message, NS), message, NS, [alice.public_key])
    # a signature blob moved onto another key's envelope
    forged = parse_signature(armored)
    assert forged.key == alice.public_key
    lines = armored.strip().splitlines()
    body = "".join(lines[1:-1])
    broken = "\n".join([lines[0], body[:40] + ("A" if body[40] != "A" else "B") + body[41:], lines[-1]])
    with pytest.raises(SignatureError):
        verify(broken, message, NS, [alice.public_key, mallory.public_key])
    with pytest.raises(SignatureError, match="not an SSH signature"):
        verify("hello", message, NS, [alice.public_key])


def test_passphrase_protected_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = keygen(tmp_path, "carol", passphrase="correct horse")
    with pytest.raises(InputError, match="EGIF_SIGNING_PASSPHRASE"):
        KeyFileSigner(key)
    monkeypatch.setenv("EGIF_SIGNING_PASSPHRASE", "correct horse")
    signer = signer_for(str(key))
    assert verify(sign(signer, b"x", NS), b"x", NS, [PublicKey.read(str(key) + ".pub")])


def test_other_key_types_are_refused_clearly(tmp_path: Path) -> None:
    rsa = tmp_path / "rsa"
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(rsa)], check=True,
                   capture_output=True)
    with pytest.raises(InputError, match="ssh-ed25519"):
        PublicKey.read(str(rsa) + ".pub")
    with pytest.raises(InputError, match="not an ed25519 key"):
        KeyFileSigner(rsa)


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[str]:
    if shutil.which("ssh-agent") is None or shutil.which("ssh-add") is None:
        pytest.skip("OpenSSH ssh-agent is not installed")
    sock = str(tmp_path / "agent.sock")
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", sock], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if os.path.exists(sock):
                break
            subprocess.run(["sleep", "0.05"], check=True)
        yield sock
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_sign_through_ssh_agent(tmp_path: Path, agent: str, monkeypatch: pytest.MonkeyPatch) -> None:
    key = keygen(tmp_path, "dave")
    monkeypatch.setenv("SSH_AUTH_SOCK", agent)
    public = PublicKey.read(str(key) + ".pub")
    with pytest.raises(InputError, match="does not hold the key"):
        AgentSigner(public)
    subprocess.run(["ssh-add", str(key)], check=True, capture_output=True, env={**os.environ, "SSH_AUTH_SOCK": agent})
    # naming the .pub file means: let the agent sign
    signer = signer_for(str(key) + ".pub")
    assert isinstance(signer, AgentSigner)
    armored = sign(signer, b"withdraw X@1.0", NS)
    assert verify(armored, b"withdraw X@1.0", NS, [public]) == public
    (tmp_path / "m.sig").write_text(armored)
    (tmp_path / "allowed").write_text(f"dave {public.openssh()}\n")
    ok = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(tmp_path / "allowed"), "-I", "dave", "-n", NS,
                         "-s", str(tmp_path / "m.sig")], input=b"withdraw X@1.0", capture_output=True, check=False)
    assert ok.returncode == 0, ok.stderr


def test_no_key_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EGIF_SIGNING_KEY", raising=False)
    with pytest.raises(InputError, match="EGIF_SIGNING_KEY"):
        signer_for(None)
