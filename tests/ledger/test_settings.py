"""The one settings object: defaults, and a bad value stops with the variable's name."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.cosignature import COSIGNATURE_ALGORITHM
from ledger.keys import ED25519_ALGORITHM, SigningKey
from ledger.settings import Settings, SettingsError


def test_defaults_are_a_laptop_instance_under_the_working_folder():
    settings = Settings.from_env({})
    assert settings.home == Path("instance").absolute()
    assert settings.database_url == f"sqlite:///{settings.home / 'huiyan.sqlite3'}"
    assert settings.redis_url is None and settings.clock is None
    assert settings.sandbox == "process" and settings.gpu is None


def test_a_fixed_clock_for_rehearsals():
    settings = Settings.from_env({"HUIYAN_CLOCK": "2026-06-25T23:59:59+08:00"})
    assert settings.clock == datetime.fromisoformat("2026-06-25T23:59:59+08:00")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"HUIYAN_ENV": "production", "HUIYAN_CLOCK": "2026-06-25T10:00:00+08:00"},
            "HUIYAN_CLOCK is refused when HUIYAN_ENV=production",
        ),
        ({"HUIYAN_CLOCK": "2026-06-25 10:00"}, "HUIYAN_CLOCK must carry a UTC offset"),
        ({"HUIYAN_CLOCK": "yesterday"}, "HUIYAN_CLOCK must be an ISO 8601 time"),
        ({"HUIYAN_DATABASE_URL": "mysql://u:secret@h/db"}, "HUIYAN_DATABASE_URL must start with"),
        ({"HUIYAN_ENV": "staging"}, "HUIYAN_ENV must be development, test or production"),
        ({"HUIYAN_SANDBOX": "chroot"}, "HUIYAN_SANDBOX must be process or docker"),
        ({"HUIYAN_RUN_WALL_SECONDS": "-5"}, "HUIYAN_RUN_WALL_SECONDS must be positive"),
        ({"HUIYAN_RUN_MEMORY_GB": "lots"}, "HUIYAN_RUN_MEMORY_GB must be a number"),
        ({"HUIYAN_METRICS_TOKEN": "secret"}, "HUIYAN_METRICS_TOKEN must be at least 32"),
        ({"HUIYAN_METRICS_TOKEN": "secret " * 8}, "HUIYAN_METRICS_TOKEN must be at least 32"),
        ({"PROMETHEUS_MULTIPROC_DIR": "/nonexistent"}, "PROMETHEUS_MULTIPROC_DIR must be an"),
    ],
)
def test_a_bad_setting_is_refused_by_name(environ, message):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(environ)
    assert str(refused.value).startswith(message)
    assert "secret" not in str(refused.value)  # a password in a URL is never echoed


def vkey(name: str, algorithm: bytes = COSIGNATURE_ALGORITHM) -> str:
    return SigningKey(name, Ed25519PrivateKey.generate(), algorithm).verifier.encode()


def test_witnesses_are_urls_with_their_cosigner_keys():
    one, two = vkey("witness.test/w1"), vkey("witness.test/w2")
    environ = {"HUIYAN_WITNESSES": f"https://w1.example/ {one},\nhttp://127.0.0.1:8080 {two}\n"}
    witnesses = Settings.from_env(environ).witnesses
    assert [(w.url, w.key.encode()) for w in witnesses] == [
        ("https://w1.example", one),
        ("http://127.0.0.1:8080", two),
    ]
    assert Settings.from_env({}).witnesses == ()


def test_settings_with_witnesses_are_a_cache_key_as_without():
    """Workers cache what they open per Settings (workers/jobs.py desk): with witnesses named,
    every dispatcher and worker once died at start with "unhashable type" (found by the compose
    stack, tests/deploy/test_compose_stack.py)."""
    one = vkey("witness.test/w1")
    environ = {"HUIYAN_WITNESSES": f"https://w1.example {one}"}
    first, again = Settings.from_env(environ), Settings.from_env(environ)
    assert first == again and hash(first) == hash(again)
    assert len({first, again, Settings.from_env({})}) == 2
    other = Settings.from_env({"HUIYAN_WITNESSES": f"https://w1.example {vkey('witness.test/w1')}"})
    assert other != first  # another key of the same name is another witness


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("w1.example {w}", "a witness URL must start with http:// or https://"),
        ("https://w1.example not-a-key", "witness https://w1.example: not a verifier key line"),
        ("https://w1.example {log}", "is not an Ed25519 key of signature type 0x04"),
        ("https://a.example {w}, https://b.example {w}", "a witness key is listed twice"),
    ],
)
def test_a_bad_witness_setting_is_refused_by_name(value, message):
    keys = {"w": vkey("witness.test/w"), "log": vkey("log", ED25519_ALGORITHM)}
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"HUIYAN_WITNESSES": value.format(**keys)})
    assert str(refused.value).startswith("HUIYAN_WITNESSES: ")
    assert message in str(refused.value)


def test_the_metrics_token_may_come_from_a_file_as_containers_give_secrets(tmp_path):
    token = "f" * 64
    (tmp_path / "token").write_text(token + "\n")
    from_file = Settings.from_env({"HUIYAN_METRICS_TOKEN_FILE": str(tmp_path / "token")})
    assert from_file.metrics_token == token
    with pytest.raises(SettingsError, match="not both"):
        Settings.from_env({"HUIYAN_METRICS_TOKEN": token,
                           "HUIYAN_METRICS_TOKEN_FILE": str(tmp_path / "token")})  # fmt: skip
    with pytest.raises(SettingsError, match="HUIYAN_METRICS_TOKEN_FILE cannot be read"):
        Settings.from_env({"HUIYAN_METRICS_TOKEN_FILE": str(tmp_path / "missing")})
    (tmp_path / "short").write_text("guessable")
    with pytest.raises(SettingsError, match="at least 32"):
        Settings.from_env({"HUIYAN_METRICS_TOKEN_FILE": str(tmp_path / "short")})
