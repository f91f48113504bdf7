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


def register_racer(home: str, url: str, contest_id, people, barrier) -> str:
    """One side of the race: waits for the other process, then registers at the same moment."""
    from uuid import uuid4

    from helpers import EARLY, ORGANISER, roster

    from domain.errors import DomainError

    app = open_registration(Path(home), url)
    barrier.wait()
    try:
        app.register_team(
            contest_id,
            team_id=uuid4(),
            name=f"racer {'-'.join(people)}",
            language="zh",
            members=roster(*people),
            actor=ORGANISER,
            now=EARLY,
        )
    except DomainError as error:
        return error.key
    return "registered"
