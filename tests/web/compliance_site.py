"""Helpers of the compliance and public pages' tests: the ledger as SQL sees it, a
verification run followed to its end, and the receipt an event's page shows."""

from __future__ import annotations

import json
import re
import time
from html import unescape
from typing import Any

import sqlalchemy as sa

from ledger.keys import VerifierKey, read_verifier_keys
from tests.flows import REGISTRATION_TIME, Huiyan
from tests.web.site import Visitor

_RECEIPT = re.compile(r"<pre class=\"mono\" data-receipt>(.*?)</pre>", re.S)


def ledger_rows(huiyan: Huiyan, statement: str = "SELECT count(*) FROM ledger_events") -> Any:
    engine = sa.create_engine(huiyan.env["HUIYAN_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(statement)).all()
    finally:
        engine.dispose()


def ledger_size(huiyan: Huiyan) -> int:
    return ledger_rows(huiyan)[0][0]


def position_of(huiyan: Huiyan, topic_end: str) -> int:
    rows = ledger_rows(huiyan, "SELECT position, topic FROM ledger_events ORDER BY position")
    return next(position for position, topic in rows if topic.endswith(topic_end))


def ledger_keys(huiyan: Huiyan) -> dict[str, VerifierKey]:
    return read_verifier_keys(huiyan.ok("ledger", "keys").splitlines())


def verified(visitor: Visitor, stream: str = "contest", limit: float = 120.0) -> dict[str, Any]:
    """Starts a verification from the page's form and follows its progress to the end."""
    started = visitor.submit("/compliance/", {"stream": stream}, action="/compliance/verify")
    assert started.status_code == 302, started.get_data(as_text=True)
    page = started.headers["Location"]
    assert visitor.get(page).status_code == 200
    deadline = time.monotonic() + limit
    seen = []
    while time.monotonic() < deadline:
        answer = visitor.get(page + "/progress")
        assert answer.status_code == 200
        run = answer.get_json()
        seen.append(run["percent"])
        if run["finished"]:
            run["page"] = visitor.text(page)
            run["seen"] = seen
            return run
        time.sleep(0.1)
    raise AssertionError(f"the verification did not end within {limit} s")


def receipt_on(page: str) -> dict[str, Any]:
    found = _RECEIPT.search(page)
    assert found, "the event's page shows no receipt"
    return json.loads(unescape(found.group(1)))


def flipped(text: str, index: int) -> str:
    """``text`` (hex) with one bit of the byte at ``index`` changed."""
    data = bytearray(bytes.fromhex(text))
    data[index] ^= 0x01
    return data.hex()


def account_id(app: Any, login: str) -> str:
    found = app.extensions["huiyan"]
    return str(found.registration.account_by_login(found.vault.keyed_hash(login)).id)


def visitor_as(site: Any, login: str, clock: str = REGISTRATION_TIME) -> Visitor:
    """A browser signed in as ``login`` that reads the site in English."""
    visitor = Visitor(site.app)
    visitor.sign_in(site.huiyan.people[login], clock)
    visitor.submit("/", {"language": "en", "next": "/"}, action="/language")
    return visitor
