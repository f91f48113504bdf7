"""The registration demo played on the real ledger, shared by the replay, race and golden tests."""

from __future__ import annotations

from pathlib import Path

from domain.registration import Registration
from ledger.application import open_application
from ledger.settings import Settings


class Recording(Registration):
    """Keeps the live aggregates as the commands left them, to compare with replays."""

    name = "Registration"

    def save(self, *objs, **kwargs):
        recordings = super().save(*objs, **kwargs)
        self.live = getattr(self, "live", {})
        for obj in objs:
            if obj is not None and hasattr(obj, "id"):
                self.live[obj.id] = obj
        return recordings


def settings_for(home: Path, database_url: str) -> Settings:
    return Settings(home=home, database_url=database_url, environment="test")


def open_registration(home: Path, database_url: str, cls=Registration):
    return open_application(cls, settings_for(home, database_url))
