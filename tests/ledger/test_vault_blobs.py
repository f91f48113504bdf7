"""The blob store and the vault: content addressing, sealing, crypto-shredding, keyed hashes."""

from __future__ import annotations

import stat
from uuid import uuid4

import pytest

from ledger.blobs import BlobError, BlobStore
from ledger.vault import Vault, VaultError


def test_blobs_are_named_by_their_hash_and_checked_on_read(tmp_path):
    blobs = BlobStore(tmp_path)
    digest = blobs.put(b"report")
    assert blobs.put(b"report") == digest and blobs.get(digest) == b"report"
    path = tmp_path / digest[:2] / digest[2:]
    path.chmod(0o644)
    path.write_bytes(b"tampered")
    with pytest.raises(BlobError, match="corrupt"):
        blobs.get(digest)
    with pytest.raises(BlobError, match="not a SHA-256"):
        blobs.get("../../etc/passwd")
    assert not list(tmp_path.rglob(".incoming-*"))


def test_sealed_data_opens_only_for_its_subject_and_not_after_shredding(tmp_path):
    vault, blobs = Vault(tmp_path / "keys"), BlobStore(tmp_path / "blobs")
    team, other = uuid4(), uuid4()
    vault.create_key(team)
    vault.create_key(other)
    key_file = tmp_path / "keys" / "subjects" / f"{team}.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    digest = vault.seal_to(blobs, team, "韦明远 450103199901010011".encode())
    assert "韦明远".encode() not in blobs.get(digest)
    assert vault.open_from(blobs, team, digest).decode().startswith("韦明远")
    with pytest.raises(VaultError):
        vault.open(other, blobs.get(digest))  # wrong key, and the subject is bound as AAD
    with pytest.raises(FileExistsError):
        vault.create_key(team)  # a key is never overwritten
    vault.destroy_key(team)
    assert blobs.exists(digest)  # the ciphertext (and its hash in the ledger) stays
    with pytest.raises(VaultError, match="shredded"):
        vault.open_from(blobs, team, digest)


def test_keyed_hash_is_stable_per_server_and_differs_between_servers(tmp_path):
    one, two = Vault(tmp_path / "one"), Vault(tmp_path / "two")
    number = "id_card:450103199901010011"
    assert one.keyed_hash(number) == Vault(tmp_path / "one").keyed_hash(number)
    assert one.keyed_hash(number) != two.keyed_hash(number)
    import hashlib

    assert one.keyed_hash(number) != hashlib.sha256(number.encode()).hexdigest()
