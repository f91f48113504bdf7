"""Open any eventsourcing Application on the ledger, by configuration alone.

Domain applications subclass ``eventsourcing.application.Application`` and import nothing of
ours (ARCHITECTURE.md rule 1); the ledger is chosen here, through the library's environment:
``PERSISTENCE_MODULE=ledger.persistence``, the library's own ``SQLALCHEMY_URL``, the ledger's key
settings and a transcoder that knows a few value types beyond the library's defaults.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Transcoding

from ledger.settings import Settings

A = TypeVar("A", bound=Application)


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class BytesAsHex(Transcoding):
    type = bytes
    name = "bytes_hex"

    def encode(self, obj: bytes) -> str:
        return obj.hex()

    def decode(self, data: str) -> bytes:
        return bytes.fromhex(data)


class LedgerTranscoder(JSONTranscoder):
    """JSON that also carries dates and bytes; the application adds UUID, datetime, Decimal."""

    def __init__(self) -> None:
        super().__init__()
        self.register(DateAsISO())
        self.register(BytesAsHex())


def ledger_environment(settings: Settings) -> dict[str, str]:
    env = {
        "PERSISTENCE_MODULE": "ledger.persistence",
        "SQLALCHEMY_URL": settings.database_url,
        "TRANSCODER_TOPIC": "ledger.application:LedgerTranscoder",
        "LEDGER_KEYS_DIR": str(settings.keys_dir),
        "LEDGER_KEY_NAME": settings.origin,
        "LEDGER_EVENTS_TABLE": settings.events_table,
    }
    if settings.key_path is not None:
        env["LEDGER_KEY_FILE"] = str(settings.key_path)
    return env


def open_application(app_class: type[A], settings: Settings, **env: Any) -> A:
    """An instance of ``app_class`` that writes to the ledger named by ``settings``, once the
    database's schema is this release's (``SchemaNotReady`` otherwise: docs/migrations.md)."""
    from ledger.migrations.run import require_current  # Alembic only where a ledger opens

    settings.home.mkdir(parents=True, exist_ok=True)
    require_current(settings)
    return app_class(env={**ledger_environment(settings), **env})
