"""What a request works with: the applications opened once per process, and a desk per
request that carries the time and where the request came from.

Opening an eventsourcing application builds its engine and mappers, which is too slow to do on
every request; a gunicorn worker opens them once and serves every request with them. Nothing is
cached in them between requests but the database's own state, so a decision made by the CLI or
a worker is seen by the next request.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, request

from audit.access_log import AccessLog
from domain.judging import Judging
from domain.registration import Registration
from domain.submissions import Submissions
from domain.time import SHANGHAI
from ledger.application import open_application
from ledger.blobs import BlobStore
from ledger.files import write_atomically
from ledger.ledger import Ledger
from ledger.settings import Settings
from ledger.vault import Vault
from services.desk import Desk
from services.judging_steps import JudgingDesk
from services.submissions import RoundDesk


@dataclass
class Services:
    settings: Settings
    registration: Registration
    submissions: Submissions
    judging: Judging
    access: AccessLog
    vault: Vault
    blobs: BlobStore
    ledger: Ledger

    @classmethod
    def open(cls, settings: Settings) -> Services:
        return cls(
            settings=settings,
            registration=open_application(Registration, settings),
            submissions=open_application(Submissions, settings),
            judging=open_application(Judging, settings),
            access=AccessLog.open(settings),
            vault=Vault(settings.keys_dir),
            blobs=BlobStore(settings.blobs_dir),
            ledger=Ledger.from_settings(settings),
        )


def services() -> Services:
    return current_app.extensions["huiyan"]


def origin() -> str:
    """Where a web action comes from, for the access log: the client's address as the server
    saw it (behind a proxy, the deployment sets ProxyFix so that this is the client's)."""
    return f"web:{request.remote_addr or '?'}"


def desk() -> Desk:
    """This request's desk: the time is read once, so a request sees one instant."""
    if "desk" not in g:
        found = services()
        g.desk = Desk(
            settings=found.settings,
            app=found.registration,
            vault=found.vault,
            blobs=found.blobs,
            now=found.settings.now().astimezone(SHANGHAI),
            origin=origin(),
            access=found.access,
        )
    return g.desk


def round_desk() -> RoundDesk:
    return RoundDesk(desk(), services().submissions)


def judging_desk() -> JudgingDesk:
    found = services()
    return JudgingDesk(desk(), found.judging, found.ledger)


def web_secret(settings: Settings) -> str:
    """The key that signs session cookies and CSRF tokens: made once, 0600 beside the other
    keys, and the same for every worker process of this deployment."""
    path = settings.keys_dir / "web-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(FileExistsError):  # another worker made it first: theirs
            write_atomically(path, secrets.token_hex(32).encode(), exclusive=True)
    return path.read_text().strip()


class Kept:
    """The last few rendered pages (or their parts) of one application, shared by a worker's
    threads. A key holds the ledger's head, so nothing kept outlives the events it shows."""

    def __init__(self, size: int) -> None:
        self.size, self.lock = size, threading.Lock()
        self.items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> Any | None:
        with self.lock:
            found = self.items.get(key)
            if found is not None:
                self.items.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)


def kept_pages(name: str, size: int = 256) -> Kept:
    """This application's store of kept pages called ``name``."""
    return current_app.extensions.setdefault(f"huiyan_kept_{name}", Kept(size))


def ledger_head() -> int:
    """The position of the ledger's last event: what every kept page's key holds."""
    return services().registration.recorder.max_notification_id() or 0
