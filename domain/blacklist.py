"""Credit blacklists (Credit China dishonesty list, government-procurement serious-violation list)
and the screening of team organisations against them [四].

Entries are organisation names and codes, public facts, so they live in the event itself; a
disqualification then carries its evidence (which list, which file hash, which entry) and can
be re-decided from the ledger alone.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.base import ContestAggregate
from domain.errors import BlacklistAlreadyImported, BlacklistEmpty, BlacklistEntryInvalid
from domain.organisations import name_key, normalise_code
from domain.time import require_aware

BLACKLIST_NAMESPACE = UUID("3e8b1d7c-5a2f-4c69-9b04-8f2a6d4c1e04")


def match_id(organisation_key: str, entry_key: str) -> str:
    """A stable id for "this organisation matched this listed entity", whatever list it was
    on: a cleared false match stays cleared when the next edition of the list arrives."""
    return hashlib.sha256(f"{organisation_key}\n{entry_key}".encode()).hexdigest()[:16]


def organisation_key(name: str, code: str | None) -> str:
    return f"code:{code}" if code else f"name:{name_key(name)}"


class Blacklist(ContestAggregate):
    """All lists imported for one contest (derived id)."""

    @staticmethod
    def create_id(contest_id: UUID) -> UUID:
        return uuid5(BLACKLIST_NAMESPACE, str(contest_id))

    @event("Opened")
    def __init__(self, contest_id: UUID) -> None:
        self.contest_id = contest_id
        self.lists: list[dict[str, Any]] = []

    def import_list(
        self,
        *,
        source: str,
        sha256: str,
        listed_on: str,
        entries: list[dict[str, str | None]],
        by: UUID,
        now: datetime,
    ) -> int:
        require_aware(now, "now")
        if any(record["sha256"] == sha256 for record in self.lists):
            raise BlacklistAlreadyImported(sha256=sha256)
        if not entries:
            raise BlacklistEmpty()
        clean = []
        for line, entry in enumerate(entries, start=2):  # line 1 is the CSV header
            name = (entry.get("name") or "").strip()
            if not name:
                raise BlacklistEntryInvalid(line=line)
            clean.append({"name": name, "code": normalise_code(entry.get("code"))})
        number = len(self.lists) + 1
        self._imported(
            number=number,
            source=source,
            sha256=sha256,
            listed_on=listed_on,
            entries=clean,
            by=by,
            at=now,
        )
        return number

    @event("ListImported")
    def _imported(
        self,
        number: int,
        source: str,
        sha256: str,
        listed_on: str,
        entries: list[dict[str, str | None]],
        by: UUID,
        at: datetime,
    ) -> None:
        self.lists.append(
            {
                "number": number,
                "source": source,
                "sha256": sha256,
                "listed_on": listed_on,
                "entries": entries,
                "at": at,
            }
        )

    def screen(self, organisations: list[tuple[str, str | None]]) -> list[dict[str, Any]]:
        """Evidence of every (organisation, listed entry) match: equal codes, or equal names
        when either side has no code."""
        found: dict[str, dict[str, Any]] = {}
        for name, code in organisations:
            own_key = organisation_key(name, code)
            for listing in self.lists:
                for entry in listing["entries"]:
                    if code and entry["code"]:
                        matched_on = "code" if code == entry["code"] else None
                    else:
                        matched_on = "name" if name_key(name) == name_key(entry["name"]) else None
                    if matched_on is None:
                        continue
                    ident = match_id(own_key, organisation_key(entry["name"], entry["code"]))
                    found.setdefault(
                        ident,
                        {
                            "match": ident,
                            "organisation": name,
                            "organisation_code": code,
                            "matched_on": matched_on,
                            "list": listing["number"],
                            "source": listing["source"],
                            "sha256": listing["sha256"],
                            "listed_on": listing["listed_on"],
                            "entry_name": entry["name"],
                            "entry_code": entry["code"],
                        },
                    )
        return list(found.values())
