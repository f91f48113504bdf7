"""Contest time: every rule compares aware datetimes; the contest's own zone is Asia/Shanghai.

The domain never asks the system clock: commands receive ``now`` from the caller (the CLI's
clock, a test, a replay), so that history can be re-decided at any moment.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def require_aware(moment: datetime, field: str) -> datetime:
    """Refuses a naive time: a deadline compared across zones must know its offset."""
    from domain.errors import TimeNotAware

    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TimeNotAware(field=field)
    return moment


def shanghai_text(moment: datetime) -> str:
    """How a time is shown to people: contest time, to the second."""
    return moment.astimezone(SHANGHAI).isoformat(sep=" ", timespec="seconds")
