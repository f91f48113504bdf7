"""The one settings object: defaults, and a bad value stops with the variable's name."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

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
    ],
)
def test_a_bad_setting_is_refused_by_name(environ, message):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(environ)
    assert str(refused.value).startswith(message)
    assert "secret" not in str(refused.value)  # a password in a URL is never echoed
