"""Credit blacklists (Credit China dishonesty list, government-procurement serious-violation list)
and the screening of team organisations against them [四].

**The list by hash.** A list's file (the CSV bytes) lives in the content-addressed blob store;
``ListImported`` (v2) records its SHA-256, source, date, number and the count of its entries,
never the entries. Screening reads the entries through a :class:`ListReader` that the caller
hands the desk (the domain does no I/O); :func:`clean_entries` normalises what it returns,
here in the domain. Lists of version 1 carried their entries in the event: the upcaster keeps
them as the list's ``embedded`` entries, so a v1 list is screened from the ledger alone.

**Screening that cannot half-happen.** Importing a list records, in one transaction,
``ListImported`` and ``ScreeningStarted`` (the teams of the contest at that moment). Each team
is then screened and saved together with ``TeamScreened`` (its progress mark, with whether it
was disqualified), and ``ScreeningFinished`` closes the screening. A crash between two teams
leaves the screening unfinished with exactly the teams screened so far; resuming screens only
the teams not yet marked, so no team is screened twice. A disqualification carries its
evidence (which list, which file hash, which entry) and can be re-decided from the ledger and
the blob store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.base import ContestAggregate
from domain.errors import (
    BlacklistAlreadyImported,
    BlacklistEmpty,
    BlacklistEntryInvalid,
    BlacklistNotFound,
    ScreeningIncomplete,
    TeamAlreadyScreened,
)
from domain.organisations import name_key, normalise_code
from domain.time import require_aware

BLACKLIST_NAMESPACE = UUID("3e8b1d7c-5a2f-4c69-9b04-8f2a6d4c1e04")

Entries = list[dict[str, str | None]]


class ListReader(Protocol):
    """The entries of the list file stored under ``sha256`` (``name``, ``code`` per line), as
    parsed from its bytes. Raises ``LookupError`` when the file is missing or its bytes no
    longer hash to ``sha256``, ``ValueError`` when they cannot be parsed."""

    def __call__(self, sha256: str) -> Entries: ...


def clean_entries(entries: Entries) -> Entries:
    """The entries as the domain compares them: stripped names, canonical codes; a blank name
    is refused with its CSV line (line 1 is the header)."""
    if not entries:
        raise BlacklistEmpty()
    clean = []
    for line, entry in enumerate(entries, start=2):
        name = (entry.get("name") or "").strip()
        if not name:
            raise BlacklistEntryInvalid(line=line)
        clean.append({"name": name, "code": normalise_code(entry.get("code"))})
    return clean


def match_id(organisation_key: str, entry_key: str) -> str:
    """A stable id for "this organisation matched this listed entity", whatever list it was
    on: a cleared false match stays cleared when the next edition of the list arrives."""
    return hashlib.sha256(f"{organisation_key}\n{entry_key}".encode()).hexdigest()[:16]


def organisation_key(name: str, code: str | None) -> str:
    return f"code:{code}" if code else f"name:{name_key(name)}"


class Blacklist(ContestAggregate):
    """All lists imported for one contest (derived id), and the screening of each."""

    class ListImported(ContestAggregate.Event):
        """v2 names the list by hash and counts its entries; v1 carried the entries. A v1
        event keeps them as ``embedded`` (not a v2 field: a new event never holds them)."""

        class_version = 2
        number: int
        source: str
        sha256: str
        listed_on: str
        count: int
        by: UUID
        at: datetime

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            entries = state.pop("entries")
            state["count"] = len(entries)
            state["embedded"] = entries

    @staticmethod
    def create_id(contest_id: UUID) -> UUID:
        return uuid5(BLACKLIST_NAMESPACE, str(contest_id))

    @event("Opened")
    def __init__(self, contest_id: UUID) -> None:
        self.contest_id = contest_id
        self.lists: list[dict[str, Any]] = []
        self.screenings: list[dict[str, Any]] = []

    # --- facts for callers -------------------------------------------------------------

    def listing(self, number: int) -> dict[str, Any]:
        for record in self.lists:
            if record["number"] == number:
                return record
        raise BlacklistNotFound(list=number)

    def screening(self, number: int) -> dict[str, Any]:
        for record in self.screenings:
            if record["list"] == number:
                return record
        raise BlacklistNotFound(list=number)

    def unfinished(self) -> list[int]:
        """Numbers of the lists whose screening was started and not finished, oldest first."""
        return [record["list"] for record in self.screenings if record["finished_at"] is None]

    def due(self, number: int) -> list[UUID]:
        """The teams of this screening not screened yet, in the order it named them."""
        record = self.screening(number)
        return [team for team in record["teams"] if team not in record["screened"]]

    # --- commands ------------------------------------------------------------------------

    def import_list(
        self,
        *,
        source: str,
        sha256: str,
        listed_on: str,
        entries: Entries,
        by: UUID,
        now: datetime,
    ) -> int:
        """Checks the entries (:func:`clean_entries`) and records the list by hash; returns its
        number. The entries themselves stay in the blob store."""
        require_aware(now, "now")
        if any(record["sha256"] == sha256 for record in self.lists):
            raise BlacklistAlreadyImported(sha256=sha256)
        clean = clean_entries(entries)
        number = len(self.lists) + 1
        self._imported(
            number=number,
            source=source,
            sha256=sha256,
            listed_on=listed_on,
            count=len(clean),
            by=by,
            at=now,
        )
        return number

    @event(ListImported)
    def _imported(
        self,
        number: int,
        source: str,
        sha256: str,
        listed_on: str,
        count: int,
        by: UUID,
        at: datetime,
        embedded: Entries | None = None,
    ) -> None:
        self.lists.append(
            {
                "number": number,
                "source": source,
                "sha256": sha256,
                "listed_on": listed_on,
                "count": count,
                "embedded": embedded,
                "at": at,
            }
        )

    def start_screening(self, number: int, teams: list[UUID], *, by: UUID, now: datetime) -> None:
        """Records that these teams are due to be screened against list ``number``."""
        self.listing(number)
        if any(record["list"] == number for record in self.screenings):
            raise BlacklistAlreadyImported(sha256=self.listing(number)["sha256"])
        self._screening_started(
            number=number, teams=list(teams), by=by, at=require_aware(now, "now")
        )

    @event("ScreeningStarted")
    def _screening_started(self, number: int, teams: list[UUID], by: UUID, at: datetime) -> None:
        self.screenings.append(
            {
                "list": number,
                "teams": teams,
                "screened": [],
                "disqualified": [],
                "started_at": at,
                "finished_at": None,
            }
        )

    def mark_screened(
        self, number: int, team_id: UUID, *, disqualified: bool, by: UUID, now: datetime
    ) -> None:
        """The progress mark, saved in the same transaction as the team's disqualification."""
        if team_id not in self.due(number):
            raise TeamAlreadyScreened(team=team_id, list=number)
        self._team_screened(
            number=number,
            team_id=team_id,
            disqualified=disqualified,
            by=by,
            at=require_aware(now, "now"),
        )

    @event("TeamScreened")
    def _team_screened(
        self, number: int, team_id: UUID, disqualified: bool, by: UUID, at: datetime
    ) -> None:
        record = self.screening(number)
        record["screened"].append(team_id)
        if disqualified:
            record["disqualified"].append(team_id)

    def finish_screening(self, number: int, *, by: UUID, now: datetime) -> None:
        due = self.due(number)
        if due:
            raise ScreeningIncomplete(list=number, due=len(due))
        if self.screening(number)["finished_at"] is None:
            self._screening_finished(number=number, by=by, at=require_aware(now, "now"))

    @event("ScreeningFinished")
    def _screening_finished(self, number: int, by: UUID, at: datetime) -> None:
        self.screening(number)["finished_at"] = at

    def screen(
        self, organisations: list[tuple[str, str | None]], entries: Mapping[int, Entries]
    ) -> list[dict[str, Any]]:
        """Evidence of every (organisation, listed entry) match against the lists given by
        number with their entries: equal codes, or equal names when either side has no
        code."""
        found: dict[str, dict[str, Any]] = {}
        for name, code in organisations:
            own_key = organisation_key(name, code)
            for number, listed in entries.items():
                listing = self.listing(number)
                for entry in listed:
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
