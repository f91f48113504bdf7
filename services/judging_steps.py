"""The judging steps that do file and blob work around the judging desk, shared by the
commands (cli/judging.py, appeals_cli.py, final_cli.py) and the demo (demo/judging.py):
preparing a track's review, publishing standings, carrying out a re-score, naming finalists,
giving awards and writing their certificates. Each takes the acting person (and their signer
where the step is a decision), exactly as the command would.

What the commands only show (the standings, a review's progress, an expert's tasks, the
appeals) is read from the read models (services/judging_read_models.py, caught up first); what a
decision records (a publication's standings, the finalists) is gathered from the aggregates.
"""

from __future__ import annotations

import functools
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from audit.certificates import Certificate, ledger_evidence, render_certificate
from audit.rescore import RescoreFailed, rescore
from domain.accounts import Actor, Role
from domain.contest import Contest
from domain.errors import FinalNotAdvanced, PseudonymTaken
from domain.judging import Judging
from domain.judging_read_models import AppealListing, ReviewListing
from domain.review import Review
from domain.signatures import Signer
from domain.teams import Team
from ledger.application import open_application
from ledger.blobs import BlobStore
from ledger.ledger import Ledger
from scoring.efficiency import efficiency_score
from scoring.rules import Rules, parse_rules
from scoring.version import scorer_version
from services import standings as standings_of
from services.desk import Desk
from services.errors import ServiceRefused
from services.judging_read_models import ReadModels, read_models
from services.report_sanitiser import Needle, sanitise_report

PSEUDONYM_DRAWS = 8


@dataclass
class JudgingDesk:
    """The registration desk (accounts, teams) and the judging desk on one ledger."""

    desk: Desk
    judging: Judging
    # The ledger's reading side (entries, proofs, checkpoints), when the face keeps one open
    # (the web application, per process); else opened on first use.
    opened_ledger: Ledger | None = None

    @classmethod
    def open(cls) -> JudgingDesk:
        desk = Desk.open()
        return cls(desk, open_application(Judging, desk.settings))

    def rules(self, contest_id: UUID, version: int | None = None) -> tuple[Rules, int]:
        """The published rules document in force (or the named version), parsed."""
        book = self.judging.rules(contest_id)
        if version is None:
            chosen = book.in_force()
        else:
            found = [v for v in book.versions if v["version"] == version]
            if not found:
                raise ServiceRefused(f"no published rules version {version}")
            chosen = found[0]
        return published_rules(self.desk.blobs, chosen["blob"]), chosen["version"]

    def rules_document(self, contest_id: UUID, version: int) -> tuple[bytes, str]:
        """A published rules version's bytes and SHA-256."""
        found = [v for v in self.judging.rules(contest_id).versions if v["version"] == version]
        if not found:
            raise ServiceRefused(f"no published rules version {version}")
        return self.desk.blobs.get(found[0]["blob"]), found[0]["sha256"]

    def standings(self, contest_id: UUID, track: int) -> list[standings_of.Standing]:
        """The track's standings as they stand, from the read models: what the commands show."""
        return standings_of.preliminary(self.judging, contest_id, track, self.rules(contest_id)[0])

    def recorded_standings(self, contest_id: UUID, track: int) -> list[standings_of.Standing]:
        """The same standings from the aggregates: what a decision records."""
        return standings_of.recorded(self.judging, contest_id, track, self.rules(contest_id)[0])

    def reads(self) -> ReadModels:
        """The read models, caught up to the ledger's head."""
        return read_models(self.judging)

    def team_names(self, contest_id: UUID) -> dict[UUID, str]:
        return self.reads().team_names(contest_id)

    def leaderboard(self, contest_id: UUID, track: int) -> dict[str, Any]:
        rules = self.rules(contest_id)[0]
        return standings_of.leaderboard(self.judging, contest_id, track, rules)

    def team_results(self, contest_id: UUID, track: int, team_id: UUID) -> dict[str, Any]:
        rules = self.rules(contest_id)[0]
        return standings_of.team_results(self.judging, contest_id, track, team_id, rules)

    def needles(self, team: Team, acting: Actor) -> list[Needle]:
        """What must never reach an expert: the team's name and id, its members' names and
        organisations (unsealed for the check; the read is in the access log)."""
        desk = self.desk
        needles = [Needle("team name", team.name), Needle("team id", str(team.id))]
        for member in team.members:
            record = json.loads(desk.vault.open_from(desk.blobs, team.id, member["record"]))
            needles.append(Needle("member name", str(record.get("name", ""))))
            needles.append(Needle("organisation", member["organisation"]))
        desk.record_access(acting, "read.team_members", team.id, "ok")
        return needles

    @functools.cached_property
    def ledger(self) -> Ledger:
        return self.opened_ledger or Ledger.from_settings(self.desk.settings)


# --- the anonymised review --------------------------------------------------------------------


def prepare_review(jd: JudgingDesk, acting: Actor, contest_id: UUID, track: int) -> list[dict]:
    """Admit the track's entries under pseudonyms, check every report for what would name the
    team, and assign k experts to each clean one; each entry's state, as the organiser sees
    it (with the names a held report still shows)."""
    app, rules = jd.judging, jd.rules(contest_id)[0]
    acting.require(Role.ORGANISER, action="prepare the expert review")
    for entry in app.entries(contest_id, track):
        if app.review_of(contest_id, track, entry.team_id) is None:
            _open_review(app, entry.id, track, acting, jd.desk.now)
    hits: dict[str, list[dict[str, str]]] = {}
    for review in app.reviews(contest_id, track):
        hits[review.pseudonym] = _check_report(jd, review, acting)
    assigned = app.assign_reviews(
        contest_id,
        track,
        k=rules.review.experts_per_submission,
        one_per_team=rules.review.one_expert_per_team,
        actor=acting,
        now=jd.desk.now,
    )
    reads = jd.reads()
    names = reads.team_names(contest_id)
    return [
        progress(line, names[line.team_id], hits.get(line.pseudonym), assigned.get(line.pseudonym))
        for line in reads.judging.reviews(contest_id, track)
    ]


def _open_review(app: Judging, submission_id: UUID, track: int, acting: Actor, now: datetime):
    for _ in range(PSEUDONYM_DRAWS):
        try:
            pseudonym = f"T{track}-{secrets.token_hex(2).upper()}"
            return app.open_review(submission_id, pseudonym=pseudonym, actor=acting, now=now)
        except PseudonymTaken:
            continue
    raise PseudonymTaken(pseudonym=f"T{track}-…")


def _check_report(jd: JudgingDesk, review: Review, acting: Actor) -> list[dict[str, str]]:
    """Sanitises the entry's report when it has not been checked in its present form; the
    hits go to the organiser, only their kinds to the ledger."""
    app, desk = jd.judging, jd.desk
    submission = app.submission(review.submission_id)
    if review.report is not None and review.report["source_sha256"] == submission.report_sha256:
        return []
    team = app.team(review.team_id)
    original = desk.vault.open_from(desk.blobs, team.id, submission.report_sha256)
    desk.record_access(acting, "read.report", submission.id, "ok")
    result = sanitise_report(original, jd.needles(team, acting))
    app.check_report(
        review.id,
        source_sha256=submission.report_sha256,
        sanitised_sha256=desk.blobs.put(result.data) if result.clean else None,
        hit_kinds=[hit.kind for hit in result.hits],
        actor=acting,
        now=desk.now,
    )
    return [{"kind": h.kind, "text": h.text, "where": h.where} for h in result.hits]


def review_progress(jd: JudgingDesk, contest_id: UUID, track: int) -> list[dict[str, Any]]:
    """Where the review of the track stands, entry by entry, from the read models."""
    reads = jd.reads()
    names = reads.team_names(contest_id)
    return [
        progress(line, names[line.team_id], None, None)
        for line in reads.judging.reviews(contest_id, track)
    ]


def progress(
    review: ReviewListing, team: str, hits: list[dict[str, str]] | None, assigned: Any
) -> dict[str, Any]:
    """One entry as the organiser follows it (names included: the organiser knows them)."""
    line: dict[str, Any] = {
        "pseudonym": review.pseudonym,
        "team": team,
        "team_id": review.team_id,
        "submission": review.submission_id,
        "report": review.report,
        "round": review.round,
        "experts": len(review.experts),
        "sheets": len(review.sheets),
        "complete": review.complete,
    }
    if hits:
        line["hits"] = hits
    if isinstance(assigned, str):
        line["unassigned"] = assigned
    return line


def tasks(jd: JudgingDesk, contest_id: UUID, acting: Actor) -> list[ReviewListing]:
    """The entries an expert was given in the round that counts (as ``Judging.tasks``), from
    the read models."""
    acting.require(Role.EXPERT, action="see the review tasks")
    return jd.reads().judging.tasks(acting.account_id, contest_id)


# --- results ----------------------------------------------------------------------------------


def publish_results(
    jd: JudgingDesk,
    acting: Actor,
    contest_id: UUID,
    track: int,
    *,
    mode: str,
    freeze_at: datetime,
    signer: Signer,
) -> int:
    """The standings as they stand now, published (signed); the publication's number."""
    _, version = jd.rules(contest_id)
    return jd.judging.publish_results(
        contest_id,
        track,
        mode=mode,
        freeze_at=freeze_at,
        standings=[line.record() for line in jd.recorded_standings(contest_id, track)],
        rules_version=version,
        actor=acting,
        now=jd.desk.now,
        signer=signer,
    )


# --- appeals ----------------------------------------------------------------------------------


def appeals_for(jd: JudgingDesk, contest_id: UUID, acting: Actor) -> list[AppealListing]:
    """The contest's appeals the acting person may see, from the read models: all (the
    organiser), the team's (its members) or those they were drawn for (an arbitrator)."""
    rows = jd.reads().judging
    if acting.role is Role.ORGANISER:
        return rows.appeals(contest_id)
    if acting.role is Role.ARBITRATOR:
        return rows.appeals(contest_id, arbitrator=acting.account_id)
    if acting.role is Role.TEAM_MEMBER and acting.team_id is not None:
        return rows.appeals(contest_id, team_id=acting.team_id)
    return []


def carry_out_rescore(jd: JudgingDesk, acting: Actor, appeal_id: UUID) -> dict[str, Any]:
    """Re-scores the entry under the rules version the ruling named, from the recorded
    inputs, and records the result: it supersedes the old score. The new breakdown."""
    version = jd.judging.pending_rescore(appeal_id)
    if version is None:
        raise ServiceRefused("this appeal has no re-score due")
    found = jd.judging.appeal(appeal_id)
    submission = jd.judging.submission(found.submission_id)
    document, rules_sha256 = jd.rules_document(found.contest_id, version)
    try:
        outcome = rescore(jd.desk.settings, submission, document)
    except RescoreFailed as error:
        raise ServiceRefused(str(error)) from None
    breakdown = outcome.breakdown
    assert submission.inference is not None  # a scored submission was inferred
    jd.judging.record_rescore(
        appeal_id,
        actor=acting,
        now=jd.desk.now,
        job_id=f"appeal-{appeal_id}",
        breakdown=breakdown,
        breakdown_sha256=jd.desk.blobs.put(outcome.breakdown_json),
        rules_version=version,
        rules_sha256=rules_sha256,
        predictions_sha256=breakdown["predictions"]["sha256"],
        truth_sha256=breakdown["truth"]["sha256"],
        scoring_version=scorer_version(breakdown),
        gates_passed=breakdown["gates"]["passed"],
        efficiency=efficiency_score(
            list(submission.inference["case_seconds"].values()),
            parse_rules(document).track(submission.track).t_ref_seconds,
        ),
    )
    return breakdown


# --- the final round --------------------------------------------------------------------------


def advance(
    jd: JudgingDesk, acting: Actor, contest_id: UUID, track: int, signer: Signer
) -> list[dict[str, Any]]:
    """Names the top N of the standings as finalists (signed); the finalists."""
    rules = jd.rules(contest_id)[0]
    chosen = standings_of.finalists(jd.recorded_standings(contest_id, track), rules)
    jd.judging.advance(
        contest_id,
        track,
        finalists=chosen,
        limit=rules.final.advance_per_track,
        actor=acting,
        now=jd.desk.now,
        signer=signer,
    )
    return chosen


def final_standings(jd: JudgingDesk, contest_id: UUID, track: int) -> list[dict[str, Any]]:
    return standings_of.final(jd.judging, contest_id, track, jd.rules(contest_id)[0])


def award(
    jd: JudgingDesk, acting: Actor, contest_id: UUID, track: int, signer: Signer
) -> list[dict[str, Any]]:
    """Gives the track's awards down the final ranking (signed); the awards."""
    awards = [
        {k: line[k] for k in ("team_id", "award", "rank", "final_score")}
        for line in final_standings(jd, contest_id, track)
        if line["award"] is not None
    ]
    jd.judging.award(contest_id, track, awards=awards, actor=acting, now=jd.desk.now, signer=signer)
    return awards


def certificate(
    jd: JudgingDesk, contest: Contest, track: int, team_id: UUID
) -> tuple[bytes, int, str]:
    """The team's award certificate: the PDF, the ledger position and leaf hash of the awards'
    event it points to (with a checkpoint that includes it)."""
    found = jd.judging.final_round(contest.id, track)
    given = next((a for a in found.awards if a["team_id"] == team_id), None)
    if given is None or found.awarded_at is None:
        raise FinalNotAdvanced(team=team_id, track=track)
    rules = jd.rules(contest.id)[0]
    prize = next(a for a in rules.final.awards if a.key == given["award"])
    entry = next(e for e in jd.ledger.entries_of([found.id]) if e.topic.endswith(".Awarded"))
    made = Certificate(
        contest=contest.name,
        track=track,
        track_name=rules.track(track).name,
        team_name=jd.judging.team(team_id).name,
        team_id=str(team_id),
        award=dict(prize.name),
        rank=given["rank"],
        final_score=given["final_score"],
        awarded_at=found.awarded_at,
        evidence=ledger_evidence(jd.ledger, entry.position, now=jd.desk.now),
    )
    return render_certificate(made), entry.position, entry.leaf_hash.hex()


def published_rules(blobs: BlobStore, digest: str) -> Rules:
    """A published rules document, parsed. A document is its hash, so each one is parsed once
    per process: a page that ranks a track does not pay for the YAML every time."""
    return _parsed_rules(blobs.root, digest)


@functools.lru_cache(maxsize=64)
def _parsed_rules(root: Path, digest: str) -> Rules:
    return parse_rules(BlobStore(root).get(digest))
