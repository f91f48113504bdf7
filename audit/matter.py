"""What a matter is, and what an arbitrator replays and an auditor reads of it: a matter is a
set of aggregates, an appeal's (``appeal_matter``) or a team's (``team_matter``); ``timeline``
lists their events in ledger order,
each with its position, time, actor, meaning, leaf hash, the status of its ledger signature
and, for a decision, of its maker's personal signature, checked offline against the keys the
ledger recorded for that person (as ``signatures verify`` does).

Only the matter's own rows are read (by aggregate id, through the unique index), and the keys
of the people who signed them: a timeline costs the same in a ledger of a thousand events as in
one of a million.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from audit.signatures import KeyBook, SignedEvent, check_event, decoded_state
from domain.appeals import Appeal
from domain.errors import SignatureInvalid
from domain.judging import Judging
from domain.signatures import FIELD
from domain.teams import Team
from ledger.ledger import Ledger
from ledger.rows import Entry
from services.errors import ServiceRefused
from services.read_models import listings

# Where an event names who acted, when it carries no personal signature.
_ACTOR_FIELDS = ("by", "expert", "arbitrator", "submitted_by")
_KEY_FIELD = "personal_public_key"


def appeal_matter(app: Judging, found: Appeal) -> list[UUID]:
    """What an appeal stands on: the appealed submission, the appeal, the contest's results,
    the entry's review and the team's other appeals in the same track."""
    review = app.review_of(found.contest_id, found.track, found.team_id)
    matter = [found.submission_id, found.id, app.results(found.contest_id).id]
    matter += [review.id] if review is not None else []
    same = (found.team_id, found.track)
    matter += [a.id for a in app.appeals(found.contest_id)
               if (a.team_id, a.track) == same and a.id != found.id]  # fmt: skip
    return matter


def team_matter(app: Judging, team: Team) -> list[UUID]:
    """A team's own aggregates: the team, its submissions, its reviews and its appeals (what
    ``audit timeline --team`` reads and a team's audit bundle holds)."""
    submissions = [found.id for found in listings(app).submissions(team_id=team.id)]
    reviews = [r.id for r in app.reviews(team.contest_id) if r.team_id == team.id]
    appeals = [a.id for a in app.appeals(team.contest_id) if a.team_id == team.id]
    return [team.id, *submissions, *reviews, *appeals]


def timeline(
    ledger: Ledger,
    aggregates: Iterable[UUID],
    *,
    shown: Callable[[str], str] = str,
) -> list[dict[str, Any]]:
    """One line per event of the ``aggregates`` (ids), oldest first. ``shown`` turns an
    account id into what the reader may see of it (itself, or a pseudonym)."""
    entries = ledger.entries_of(list(aggregates))
    states = [_decoded(entry) for entry in entries]
    book = _key_book(ledger, states)
    keys = ledger.verifier_keys()
    lines = []
    for entry, state in zip(entries, states, strict=True):
        personal, meaning, actor = _personal(entry, state, book)
        lines.append(
            {
                "position": entry.position,
                "at": _time(state),
                "event": entry.topic.rsplit(":", 1)[-1],
                "aggregate": str(entry.originator_id),
                "version": entry.originator_version,
                "actor": shown(actor) if actor else None,
                "meaning": meaning,
                "leaf_hash": entry.leaf_hash.hex(),
                "ledger_signature": "valid"
                if entry.derived_leaf() == entry.leaf_hash and entry.signed_by(keys)
                else "INVALID",
                "personal_signature": personal,
            }
        )
    return lines


def _decoded(entry: Entry) -> dict[str, Any]:
    try:
        return decoded_state(entry.state)
    except (ValueError, TypeError, KeyError):
        return {FIELD: "undecodable"}


def _key_book(ledger: Ledger, states: list[dict[str, Any]]) -> KeyBook:
    """The personal keys of everyone who signed one of these events, by the position from
    which each was in force."""
    signers = set()
    for state in states:
        record = state.get(FIELD)
        if isinstance(record, dict) and isinstance(record.get("manifest"), dict):
            try:
                signers.add(UUID(str(record["manifest"].get("signer"))))
            except ValueError:
                continue
    book = KeyBook()
    for entry in ledger.entries_of(sorted(signers)):
        key = _decoded(entry).get(_KEY_FIELD)
        if isinstance(key, str):
            book.enrol(entry.originator_id, entry.position, key)
    return book


def _personal(
    entry: Entry, state: dict[str, Any], book: KeyBook
) -> tuple[str, str | None, str | None]:
    """(status, meaning, actor) of the event's personal signature; an event that carries none
    names its actor from its own fields."""
    if FIELD not in state:
        actor = next((state[f] for f in _ACTOR_FIELDS if state.get(f) is not None), None)
        return "none (not a personal decision)", None, None if actor is None else str(actor)
    event = SignedEvent(
        entry.position, entry.topic, entry.originator_id, entry.originator_version, state
    )
    try:
        manifest = check_event(event, book)
    except SignatureInvalid as error:
        return f"INVALID: {error.message('en')}", None, None
    return "valid", manifest.meaning, manifest.signer


def _time(state: dict[str, Any]) -> str | None:
    """The contest's time of the event (its ``at``, on the one clock), else when it was
    recorded."""
    for field in ("at", "timestamp"):
        stamp = state.get(field)
        if isinstance(stamp, datetime):
            return stamp.isoformat()
    return None


def position_as_of(as_of: str, lines: list[dict[str, Any]]) -> int:
    """The last position at or before ``as_of``: a position as given, or the last event of
    the matter (``lines``, its timeline) at or before the time (ISO, with its zone)."""
    if as_of.strip().isdigit():
        return int(as_of)
    try:
        moment = datetime.fromisoformat(as_of.strip())
    except ValueError:
        raise ServiceRefused(f"as of {as_of!r}: neither a position nor an ISO time") from None
    if moment.tzinfo is None:
        raise ServiceRefused(f"as of {as_of!r}: the time needs a zone, e.g. +08:00")
    before = [
        line["position"]
        for line in lines
        if line["at"] and datetime.fromisoformat(line["at"]) <= moment
    ]
    return max(before, default=-1)


def as_of(app: Judging, ledger: Ledger, ids: list[UUID], limit: int) -> dict[UUID, Any]:
    """Each aggregate of ``ids`` that existed at position ``limit``, as it was then (the
    library replays it to its last version at or before that position)."""
    last: dict[UUID, int] = {}
    for entry in ledger.entries_of(ids):
        if entry.position <= limit:
            last[entry.originator_id] = entry.originator_version
    return {ident: app.repository.get(ident, version=v) for ident, v in last.items()}


def public_state(aggregate: Any) -> dict[str, Any]:
    """An aggregate's state as ``audit state`` prints it: its kind and its public fields."""
    state = vars(aggregate)
    fields = {k: v for k, v in state.items() if not k.startswith("_") and k != "pending_events"}
    return {"kind": type(aggregate).__name__, **fields}
