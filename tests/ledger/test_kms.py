"""The master key and wrapped data keys (ledger/kms.py, ledger/vault.py): the file's mode, the
round trip, keys from before wrapping, tampering, tombstones and the identity secrets."""

from __future__ import annotations

import hashlib
import json
import secrets
import stat
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.blobs import BlobStore
from ledger.kms import MAGIC, KeyWrapError, LocalMasterKey
from ledger.vault import LEGACY_SECRET, Vault, VaultError

NUMBER = "id_card:450103199901010011"


def test_the_master_key_is_a_0600_file_made_on_first_use(tmp_path):
    master = LocalMasterKey(tmp_path / "keys" / "master.key")
    assert not master.path.exists()
    key = secrets.token_bytes(32)
    wrapped = master.wrap(key, context=b"subject:1")
    assert stat.S_IMODE(master.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(master.path.parent.stat().st_mode) == 0o700
    assert len(master.path.read_bytes()) == 32
    assert wrapped.startswith(MAGIC) and key not in wrapped
    assert master.unwrap(wrapped, context=b"subject:1") == key
    assert master.wrap(key, context=b"subject:1") != wrapped  # a fresh nonce each time
    with pytest.raises(KeyWrapError, match="does not unwrap"):
        master.unwrap(wrapped, context=b"subject:2")
    another = LocalMasterKey(tmp_path / "other.key")
    another.wrap(b"x")  # makes another master key
    with pytest.raises(KeyWrapError, match="another master key"):
        another.unwrap(wrapped, context=b"subject:1")
    with pytest.raises(KeyWrapError, match="not a wrapped key"):
        master.unwrap(wrapped[:20], context=b"subject:1")


def test_a_master_key_open_to_others_or_missing_is_refused(tmp_path):
    master = LocalMasterKey(tmp_path / "master.key")
    wrapped = master.wrap(b"k" * 32)
    master.path.chmod(0o644)
    with pytest.raises(KeyWrapError, match=r"open to others \(mode 0644\)"):
        master.unwrap(wrapped)
    master.path.unlink()
    with pytest.raises(KeyWrapError, match="there is no master key"):
        master.unwrap(wrapped)


def test_the_vault_stores_data_keys_wrapped_and_opens_them(tmp_path):
    vault, blobs = Vault(tmp_path / "keys"), BlobStore(tmp_path / "blobs")
    team = uuid4()
    vault.create_key(team)
    key_file = tmp_path / "keys" / "subjects" / f"{team}.key"
    assert key_file.read_bytes().startswith(MAGIC) and len(key_file.read_bytes()) > 32
    assert stat.S_IMODE((tmp_path / "keys" / "master.key").stat().st_mode) == 0o600
    digest = vault.seal_to(blobs, team, b"record")
    assert Vault(tmp_path / "keys").open_from(blobs, team, digest) == b"record"
    # Without the master key the key file opens nothing.
    (tmp_path / "keys" / "master.key").rename(tmp_path / "elsewhere.key")
    with pytest.raises(VaultError, match=f"key file {team}.key cannot be used: there is no"):
        vault.open_from(blobs, team, digest)


def test_a_key_file_from_before_wrapping_is_still_read(tmp_path):
    team, key = uuid4(), AESGCM.generate_key(bit_length=256)
    (tmp_path / "keys" / "subjects").mkdir(parents=True)
    (tmp_path / "keys" / "subjects" / f"{team}.key").write_bytes(key)
    nonce = b"\x00" * 12
    sealed = nonce + AESGCM(key).encrypt(nonce, b"old record", team.bytes)
    assert Vault(tmp_path / "keys").open(team, sealed) == b"old record"


def test_a_tampered_or_moved_key_file_is_a_clear_error(tmp_path):
    vault = Vault(tmp_path / "keys")
    team, other = uuid4(), uuid4()
    vault.create_key(team)
    vault.create_key(other)
    sealed = vault.seal(team, b"record")
    key_file = tmp_path / "keys" / "subjects" / f"{team}.key"
    original = key_file.read_bytes()
    flipped = bytearray(original)
    flipped[len(MAGIC) + 14] ^= 0x80
    key_file.write_bytes(bytes(flipped))
    with pytest.raises(VaultError, match="cannot be used: it does not unwrap under the master"):
        vault.open(team, sealed)
    key_file.write_bytes((tmp_path / "keys" / "subjects" / f"{other}.key").read_bytes())
    with pytest.raises(VaultError, match="moved from another subject's file"):
        vault.open(team, sealed)
    key_file.write_bytes(original[:30])
    with pytest.raises(VaultError, match="not a wrapped key"):
        vault.open(team, sealed)
    key_file.write_bytes(b"short")
    with pytest.raises(VaultError, match="malformed"):
        vault.open(team, sealed)
    key_file.write_bytes(original)
    assert vault.open(team, sealed) == b"record"


def test_shredding_leaves_a_tombstone_and_is_idempotent(tmp_path):
    vault, blobs = Vault(tmp_path / "keys"), BlobStore(tmp_path / "blobs")
    team = uuid4()
    vault.create_key(team)
    digest = vault.seal_to(blobs, team, b"record")
    key_file = tmp_path / "keys" / "subjects" / f"{team}.key"
    backup = key_file.read_bytes()
    assert vault.key_sha256(team) == hashlib.sha256(backup).hexdigest()
    assert vault.shred_key(team) == hashlib.sha256(backup).hexdigest()
    assert not key_file.exists() and vault.is_shredded(team) and blobs.exists(digest)
    tomb = key_file.with_name(key_file.name + ".shredded")
    assert json.loads(tomb.read_text()) == {"sha256": hashlib.sha256(backup).hexdigest()}
    with pytest.raises(VaultError, match=f"the data key of {team} was shredded"):
        vault.open_from(blobs, team, digest)
    with pytest.raises(VaultError, match="never made again"):
        vault.create_key(team)
    key_file.write_bytes(backup)  # a restored backup: still shredded, and destroyed again
    with pytest.raises(VaultError, match="was shredded"):
        vault.open_from(blobs, team, digest)
    assert vault.shred_key(team) == hashlib.sha256(backup).hexdigest()
    assert not key_file.exists()
    assert Vault(tmp_path / "keys").shred_key(uuid4()) is None  # no key, nothing to name


def test_identity_secrets_are_per_contest_and_apart_from_logins(tmp_path):
    vault = Vault(tmp_path / "keys")
    first, second = uuid4(), uuid4()
    login = vault.keyed_hash("organiser")
    hashed = vault.identity_hash(first, NUMBER)
    assert hashed == Vault(tmp_path / "keys").identity_hash(first, NUMBER)
    assert hashed != vault.identity_hash(second, NUMBER)
    assert hashed != hashlib.sha256(NUMBER.encode()).hexdigest() and hashed != login
    secret = tmp_path / "keys" / "identity" / f"{first}.key"
    assert secret.read_bytes().startswith(MAGIC)  # wrapped, like the data keys
    made = hashlib.sha256(secret.read_bytes()).hexdigest()
    assert vault.identity_secret_sha256(first) == made
    assert vault.shred_identity_secret(first) == made
    assert not secret.exists() and vault.identity_secret_shredded(first)
    with pytest.raises(VaultError, match=f"identity secret of contest {first} was shredded"):
        vault.identity_hash(first, NUMBER)
    assert vault.keyed_hash("organiser") == login  # sign-in is untouched
    assert vault.identity_hash(second, NUMBER)  # another contest's secret is untouched
    assert vault.shred_identity_secret(first) == made  # again: the same answer


def test_an_instance_with_one_shared_secret_refuses_to_shred_it(tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir(mode=0o700)
    (keys / LEGACY_SECRET).write_bytes(secrets.token_bytes(32))
    vault, contest = Vault(keys), uuid4()
    # Logins and identities keep hashing as they did before the split.
    assert vault.keyed_hash(NUMBER) == vault.identity_hash(contest, NUMBER)
    with pytest.raises(VaultError, match="one secret"):
        vault.shred_identity_secret(contest)
    assert (keys / LEGACY_SECRET).exists() and not vault.identity_secret_shredded(contest)
