"""One-time codes (services/totp.py), checked against the RFC 6238 test vectors at fixed times."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services import totp

# RFC 6238 appendix B: the SHA-1 seed, and its 8-digit codes cut to the last 6 digits.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode("ascii")
RFC_VECTORS = [
    (59, "287082"),
    (1111111109, "081804"),
    (1111111111, "050471"),
    (1234567890, "005924"),
    (2000000000, "279037"),
]
NOW, NOW_CODE = 1111111111, "050471"
NOW_STEP = NOW // 30


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def refusal(code: str, seconds: int = NOW, last_step: int | None = None) -> str:
    with pytest.raises(totp.TotpRefused) as refused:
        totp.check_code(RFC_SECRET, code, at=at(seconds), last_step=last_step)
    assert code.strip() == "" or code.strip() not in str(refused.value)
    return refused.value.reason


@pytest.mark.parametrize(("seconds", "code"), RFC_VECTORS)
def test_the_rfc_code_is_accepted_and_names_its_step(seconds, code):
    assert totp.check_code(RFC_SECRET, code, at=at(seconds), last_step=None) == seconds // 30


def test_the_same_instant_in_another_zone_is_the_same_step():
    beijing = at(NOW).astimezone(timezone(timedelta(hours=8)))
    assert totp.check_code(RFC_SECRET, NOW_CODE, at=beijing, last_step=None) == NOW_STEP


def test_a_naive_time_is_a_programming_error_not_a_refusal():
    with pytest.raises(ValueError, match="aware") as raised:
        totp.check_code(RFC_SECRET, NOW_CODE, at=datetime(2005, 3, 18), last_step=None)
    assert not isinstance(raised.value, totp.TotpRefused)


def test_a_code_is_accepted_one_step_either_side_and_returns_its_own_step():
    assert totp.check_code(RFC_SECRET, NOW_CODE, at=at(NOW + 30), last_step=None) == NOW_STEP
    assert totp.check_code(RFC_SECRET, NOW_CODE, at=at(NOW - 30), last_step=None) == NOW_STEP


@pytest.mark.parametrize("offset", [-60, 60, 3600])
def test_a_code_two_steps_away_is_wrong(offset):
    assert refusal(NOW_CODE, NOW + offset) == totp.WRONG


def test_a_code_of_another_secret_is_wrong():
    other = totp.new_secret()
    assert refusal(pyotp.TOTP(other).generate_otp(NOW_STEP)) == totp.WRONG


def test_a_used_code_is_refused_and_the_next_one_is_not():
    step = totp.check_code(RFC_SECRET, NOW_CODE, at=at(NOW), last_step=None)
    assert refusal(NOW_CODE, NOW, last_step=step) == totp.REUSED
    # Half a minute later the old code is still within drift, but used.
    assert refusal(NOW_CODE, NOW + 30, last_step=step) == totp.REUSED
    # And a code older than the last one accepted is refused too.
    assert refusal(NOW_CODE, NOW + 30, last_step=step + 1) == totp.REUSED
    next_code = pyotp.TOTP(RFC_SECRET).generate_otp(step + 1)
    assert totp.check_code(RFC_SECRET, next_code, at=at(NOW + 30), last_step=step) == step + 1


@pytest.mark.parametrize(
    "code",
    ["12345", "1234567", "١٢٣٤٥٦", "０５０４７１", "05047a", "050471\n1", "", "   ", "05-04-71"],
)
def test_a_malformed_code_is_refused_before_any_comparison(code):
    assert refusal(code) == totp.MALFORMED


@pytest.mark.parametrize("typed", ["050 471", "05 04 71", " 050471 ", "050471\n"])
def test_spaces_as_apps_show_them_are_removed(typed):
    assert totp.check_code(RFC_SECRET, typed, at=at(NOW), last_step=None) == NOW_STEP


@given(st.integers(min_value=0, max_value=4_000_000_000))
def test_any_time_accepts_its_own_code_and_refuses_it_once_used(seconds):
    code = pyotp.TOTP(RFC_SECRET).at(seconds)
    step = totp.check_code(RFC_SECRET, code, at=at(seconds), last_step=None)
    assert step == seconds // 30
    assert refusal(code, seconds, last_step=step) == totp.REUSED


def test_a_new_secret_is_fresh_base32_of_160_bits():
    first, second = totp.new_secret(), totp.new_secret()
    assert first != second
    assert len(base64.b32decode(first)) == 20


def test_the_uri_names_issuer_label_and_secret():
    secret = totp.new_secret()
    uri = totp.enrolment_uri(secret, account_label="张伟 arbiter@example.org")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert unquote(parts.path) == "/huiyan:张伟 arbiter@example.org"
    query = parse_qs(parts.query)
    assert query["secret"] == [secret]
    assert query["issuer"] == ["huiyan"]
    other = totp.enrolment_uri(secret, account_label="a", issuer="huiyan-test")
    assert parse_qs(urlsplit(other).query)["issuer"] == ["huiyan-test"]


def test_the_terminal_qr_is_a_square_of_blocks_that_depends_on_the_uri():
    first = totp.terminal_qr(totp.enrolment_uri(totp.new_secret(), account_label="a"))
    second = totp.terminal_qr(totp.enrolment_uri(totp.new_secret(), account_label="a"))
    assert first != second
    lines = first.splitlines()
    assert len(lines) > 10
    assert len({len(line) for line in lines}) == 1
    assert set(first) <= set("█▀▄ \n")
    assert "\x1b" not in first
