"""Personal signing keys sealed under a password (services/personal_keys.py).

Every argon2id call costs tens of milliseconds at the production parameters, which the tests
use unchanged, so one key pair is made per module and the property tests take few examples.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from services import personal_keys as pk
from services.personal_keys import PersonalKeyError, SealedSigningKey, WrongPassword

PASSWORD = "correct horse 电池 staple"
FEW = settings(max_examples=20, deadline=None)


@pytest.fixture(scope="module")
def pair() -> tuple[bytes, SealedSigningKey]:
    return pk.new_signing_key(PASSWORD)


@pytest.fixture(scope="module")
def other_pair() -> tuple[bytes, SealedSigningKey]:
    return pk.new_signing_key(PASSWORD)


def document(sealed: SealedSigningKey) -> dict:
    return json.loads(sealed.to_bytes())


def encoded(fields: dict) -> bytes:
    return json.dumps(fields).encode()


def flipped(data: bytes, index: int = 0) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


# --- signing and verifying -------------------------------------------------------------------


def test_a_signature_verifies_with_the_public_key_alone(pair):
    public_key, sealed = pair
    signature = pk.sign(sealed, PASSWORD, b"ruling: appeal 7 upheld")
    assert len(public_key) == 32 and sealed.public_key == public_key
    assert pk.verify(public_key, signature, b"ruling: appeal 7 upheld")
    # The plain Ed25519 of any other tool agrees: nothing of ours is needed to check it.
    Ed25519PublicKey.from_public_bytes(public_key).verify(signature, b"ruling: appeal 7 upheld")


def test_a_signature_fails_for_another_payload_or_another_key(pair, other_pair):
    public_key, sealed = pair
    signature = pk.sign(sealed, PASSWORD, b"score 87")
    assert not pk.verify(public_key, signature, b"score 88")
    assert not pk.verify(other_pair[0], signature, b"score 87")
    assert not pk.verify(public_key, flipped(signature, 10), b"score 87")
    assert not pk.verify(public_key, signature[:-1], b"score 87")


def test_two_people_get_two_key_pairs(pair, other_pair):
    assert pair[0] != other_pair[0]
    assert pair[1].salt != other_pair[1].salt and pair[1].nonce != other_pair[1].nonce


@FEW
@given(payload=st.binary(min_size=1, max_size=512), where=st.integers(min_value=0))
def test_any_payload_verifies_and_any_one_byte_change_does_not(pair, payload, where):
    public_key, sealed = pair
    signature = pk.sign(sealed, PASSWORD, payload)
    assert pk.verify(public_key, signature, payload)
    assert not pk.verify(public_key, signature, flipped(payload, where % len(payload)))


def test_a_wrong_password_is_refused_without_echoing_it(pair):
    with pytest.raises(WrongPassword) as refused:
        pk.sign(pair[1], "correct horse 电池 stapler", b"x")
    assert "stapler" not in str(refused.value) and "password" in str(refused.value)
    assert isinstance(refused.value, PersonalKeyError)


# --- a password change -----------------------------------------------------------------------


def test_reseal_keeps_the_key_pair_and_retires_the_old_password(pair):
    public_key, sealed = pair
    before = pk.sign(sealed, PASSWORD, b"approved")
    resealed = pk.reseal(sealed, PASSWORD, "new 密码 2025")
    assert resealed.public_key == public_key
    assert resealed.salt != sealed.salt and resealed.nonce != sealed.nonce
    assert resealed.ciphertext != sealed.ciphertext
    assert pk.verify(public_key, before, b"approved")
    after = pk.sign(resealed, "new 密码 2025", b"approved")
    assert pk.verify(public_key, after, b"approved")
    with pytest.raises(WrongPassword):
        pk.sign(resealed, PASSWORD, b"approved")


def test_reseal_refuses_a_wrong_old_password(pair):
    with pytest.raises(WrongPassword):
        pk.reseal(pair[1], "guess", "new")


# --- tampering with the stored record ---------------------------------------------------------


@pytest.mark.parametrize("field", ["ciphertext", "nonce", "salt", "public_key"])
def test_a_record_altered_in_storage_does_not_open(pair, field):
    sealed = pair[1]
    altered = dataclasses.replace(sealed, **{field: flipped(getattr(sealed, field), 5)})
    stored = SealedSigningKey.from_bytes(altered.to_bytes())
    with pytest.raises(PersonalKeyError):
        pk.sign(stored, PASSWORD, b"x")


def test_a_sealed_key_moved_under_another_public_key_does_not_open(pair, other_pair):
    swapped = dataclasses.replace(pair[1], public_key=other_pair[0])
    with pytest.raises(PersonalKeyError):
        pk.sign(swapped, PASSWORD, b"x")


def test_raised_costs_in_storage_do_not_open(pair):
    with pytest.raises(PersonalKeyError):
        pk.sign(dataclasses.replace(pair[1], time_cost=pk.TIME_COST + 1), PASSWORD, b"x")


# --- reading the record back ------------------------------------------------------------------


def test_a_record_reads_back_equal_and_at_least_at_the_owasp_minimum(pair):
    sealed = pair[1]
    assert SealedSigningKey.from_bytes(sealed.to_bytes()) == sealed
    assert sealed.time_cost >= 2 and sealed.memory_cost >= 19 * 1024 and sealed.parallelism >= 1
    assert document(sealed)["version"] == pk.VERSION


@pytest.mark.parametrize(
    "data", [b"", b"\xff\xfe", b"not json", b"{", b"[]", b"null", b'"text"', b"1"]
)
def test_garbage_is_refused(data):
    with pytest.raises(PersonalKeyError, match="sealed signing key"):
        SealedSigningKey.from_bytes(data)


def test_a_truncated_record_is_refused(pair):
    data = pair[1].to_bytes()
    for end in (1, len(data) // 2, len(data) - 1):
        with pytest.raises(PersonalKeyError, match="JSON"):
            SealedSigningKey.from_bytes(data[:end])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("version", 2),
        ("version", "1"),
        ("time_cost", "2"),
        ("time_cost", True),
        ("time_cost", 2.0),
        ("time_cost", 1),
        ("time_cost", 10**6),
        ("memory_cost", 19 * 1024 - 1),
        ("memory_cost", 64 * 1024 * 1024),
        ("parallelism", 0),
        ("parallelism", None),
        ("salt", 5),
        ("salt", "!!not base64!!"),
        ("salt", "AAAA"),
        ("nonce", "AAAAAAAAAAAA"),
        ("public_key", ["AA=="]),
        ("public_key", "QUFB"),
        ("ciphertext", "QUFB"),
        ("ciphertext", "盐盐盐盐"),
    ],
)
def test_a_field_of_the_wrong_type_or_size_is_refused_by_name(pair, field, value):
    fields = document(pair[1]) | {field: value}
    with pytest.raises(PersonalKeyError, match=field):
        SealedSigningKey.from_bytes(encoded(fields))


@pytest.mark.parametrize("field", ["version", "salt", "nonce", "ciphertext", "memory_cost"])
def test_a_missing_field_is_named(pair, field):
    fields = document(pair[1])
    del fields[field]
    with pytest.raises(PersonalKeyError, match=f"missing {field}"):
        SealedSigningKey.from_bytes(encoded(fields))


def test_an_unknown_field_is_named(pair):
    fields = document(pair[1]) | {"algorithm": "none"}
    with pytest.raises(PersonalKeyError, match="unknown algorithm"):
        SealedSigningKey.from_bytes(encoded(fields))


def test_a_field_given_twice_is_refused(pair):
    data = pair[1].to_bytes()
    doubled = data[:-1] + b',"salt":"' + b"A" * 24 + b'"}'
    with pytest.raises(PersonalKeyError, match="twice"):
        SealedSigningKey.from_bytes(doubled)


# --- public keys ------------------------------------------------------------------------------


def test_the_key_id_is_a_stable_prefix_of_the_sha256(pair, other_pair):
    public_key = pair[0]
    assert pk.key_id(public_key) == hashlib.sha256(public_key).hexdigest()[:16]
    assert pk.key_id(public_key) != pk.key_id(other_pair[0])


@pytest.mark.parametrize("public_key", [b"", b"\x00" * 31, b"\x00" * 33, "a" * 32])
def test_a_malformed_public_key_is_refused(public_key):
    with pytest.raises(PersonalKeyError, match="32 raw bytes"):
        pk.key_id(public_key)
    with pytest.raises(PersonalKeyError, match="32 raw bytes"):
        pk.verify(public_key, b"\x00" * 64, b"x")
