"""The judging desk: the second half of the contest (docs/judging.md) on the one ledger.

Anonymised review, the publication of results, appeals with their arbitration, the final
round and its awards. Like the other desks it checks who acts, hands the aggregates the time
and the facts, and saves what they decide in one transaction; every judging act carries the
acting person's signature (``_signed``). Arithmetic (aggregating grades, the composite, the
rankings) is the scoring package's: callers compute standings from the recorded scores and
hand them in, and the rules the domain can check (gates, counts, finalists) are checked here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.accounts import Actor, Role
from domain.appeals import Appeal, AppealStatus, eligible_arbitrators
from domain.desk import ContestDesk
from domain.errors import (
    AppealExists,
    AppealNotFound,
    AppealNothingScored,
    ConcurrentChange,
    ExpertNotEnrolled,
    PseudonymTaken,
    ReviewConflict,
    ReviewNotAssigned,
    ReviewNotFound,
    ReviewReportNotHeld,
    ReviewsIncomplete,
    RoundNotOver,
    SubmissionNotFound,
)
from domain.experts import Agreement, Expert, conflict
from domain.final_round import FinalRound
from domain.results import Results
from domain.review import Candidate, PseudonymClaim, Review, assign_experts, draw_order
from domain.signatures import Signer
from domain.submissions import Status as SubmissionStatus
from domain.submissions import Submission
from domain.teams import Team


class Judging(ContestDesk):
    # --- reading -----------------------------------------------------------------------------

    def submission(self, submission_id: UUID) -> Submission:
        return self._get(Submission, submission_id, SubmissionNotFound(submission=submission_id))

    def review(self, review_id: UUID) -> Review:
        return self._get(Review, review_id, ReviewNotFound(review=review_id))

    def review_of(self, contest_id: UUID, track: int, team_id: UUID) -> Review | None:
        try:
            return self.review(Review.create_id(contest_id, track, team_id))
        except ReviewNotFound:
            return None

    def review_by_pseudonym(self, contest_id: UUID, pseudonym: str) -> Review:
        try:
            claim = self.repository.get(PseudonymClaim.create_id(contest_id, pseudonym))
        except AggregateNotFoundError:
            raise ReviewNotFound(review=pseudonym) from None
        return self.review(claim.review_id)

    def reviews(self, contest_id: UUID, track: int | None = None) -> list[Review]:
        found = (self.review(ident) for ident in self._created(Review.Opened))
        return [r for r in found if r.contest_id == contest_id and track in (None, r.track)]

    def results(self, contest_id: UUID) -> Results:
        return self._get_or_open(Results, contest_id)

    def final_round(self, contest_id: UUID, track: int) -> FinalRound:
        try:
            return self.repository.get(FinalRound.create_id(contest_id, track))
        except AggregateNotFoundError:
            return FinalRound(contest_id=contest_id, track=track)

    def appeal(self, appeal_id: UUID) -> Appeal:
        return self._get(Appeal, appeal_id, AppealNotFound(appeal=appeal_id))

    def appeals(self, contest_id: UUID) -> list[Appeal]:
        found = (self.appeal(ident) for ident in self._created(Appeal.Filed))
        return [a for a in found if a.contest_id == contest_id]

    def panel(self, contest_id: UUID, role: Role) -> list[Expert]:
        """The enrolled experts (or arbitrators) of the contest, in enrolment order."""
        found = (self._get(Expert, i, ExpertNotEnrolled()) for i in self._created(Expert.Enrolled))
        return [
            e
            for e in found
            if e.contest_id == contest_id and self.account(e.account_id).role is role
        ]

    def agreement_sha256(self, contest_id: UUID) -> str | None:
        return self._get_or_open(Agreement, contest_id).current_sha256

    def entries(self, contest_id: UUID, track: int) -> list[Submission]:
        """Each approved, qualified team's entry in the track: its latest submission that was
        scored and passed both gates (the latest, not the best: a team stands by its last
        word)."""
        latest: dict[UUID, Submission] = {}
        for ident in self._created(Submission.Submitted):
            found = self.submission(ident)
            if found.contest_id != contest_id or found.track != track:
                continue
            if found.status is not SubmissionStatus.SCORED or not found.score["gates_passed"]:
                continue
            held = latest.get(found.team_id)
            if held is None or found.submitted_at > held.submitted_at:
                latest[found.team_id] = found
        return [s for s in latest.values() if self._qualified(self.team(s.team_id))]

    @staticmethod
    def _qualified(team: Team) -> bool:
        return team.status.value == "approved" and not team.disqualified

    # --- anonymised review -------------------------------------------------------------------

    def open_review(
        self,
        submission_id: UUID,
        *,
        pseudonym: str,
        actor: Actor,
        now: datetime,
    ) -> UUID:
        """The organiser admits a team's entry to review under a freshly drawn pseudonym
        (the caller draws it at random and draws again on :class:`PseudonymTaken`)."""
        actor.require(Role.ORGANISER, action="open the expert review")
        submission = self.submission(submission_id)
        contest = self.contest(submission.contest_id)
        if now < contest.calendar.preliminary_end:
            raise RoundNotOver(ends=contest.calendar.preliminary_end)
        review = Review.open(
            contest_id=submission.contest_id,
            track=submission.track,
            team_id=submission.team_id,
            submission_id=submission.id,
            pseudonym=pseudonym,
            by=actor.account_id,
            now=now,
        )
        claim = PseudonymClaim(
            contest_id=submission.contest_id, pseudonym=pseudonym, review_id=review.id
        )
        try:
            self.save(review, claim)
        except IntegrityError:
            raise PseudonymTaken(pseudonym=pseudonym) from None
        return review.id

    def check_report(
        self,
        review_id: UUID,
        *,
        source_sha256: str,
        sanitised_sha256: str | None,
        hit_kinds: list[str],
        actor: Actor,
        now: datetime,
    ) -> None:
        actor.require(Role.ORGANISER, action="check the technical reports")
        review = self.review(review_id)
        if source_sha256 != self.submission(review.submission_id).report_sha256:
            raise ConcurrentChange()  # the team replaced the report meanwhile: check again
        review.check_report(
            source_sha256=source_sha256,
            sanitised_sha256=sanitised_sha256,
            hit_kinds=hit_kinds,
            now=now,
        )
        self._save(review)

    def replace_report(
        self, submission_id: UUID, *, report_sha256: str, actor: Actor, now: datetime
    ) -> None:
        """The team's leader sends a clean report after the check held the first one."""
        submission = self.submission(submission_id)
        actor.require_leader_of(submission.team_id, action="replace the technical report")
        review = self.review_of(submission.contest_id, submission.track, submission.team_id)
        if review is None or not review.report_held or review.submission_id != submission.id:
            raise ReviewReportNotHeld(track=submission.track)
        submission.replace_report(report_sha256, now=now)
        self._save(submission)

    def assign_reviews(
        self,
        contest_id: UUID,
        track: int,
        *,
        k: int,
        one_per_team: bool,
        actor: Actor,
        now: datetime,
    ) -> dict[str, list[UUID] | str]:
        """Gives each entry of the track whose report is clean and whose current round has
        no experts yet its k experts; answers, per pseudonym, the experts or why none."""
        actor.require(Role.ORGANISER, action="assign the expert review")
        experts = self.panel(contest_id, Role.EXPERT)
        agreement = self.agreement_sha256(contest_id)
        reviews = self.reviews(contest_id)
        loads = {e.account_id: 0 for e in experts}
        for review in reviews:
            for expert in review.current["experts"]:
                if expert in loads:
                    loads[expert] += 1
        outcome: dict[str, list[UUID] | str] = {}
        pending = [
            r for r in reviews if r.track == track and not r.current["experts"] and r.report_clean
        ]
        conflicted = {
            r.id: {
                e.account_id
                for e in experts
                if conflict(e, self.team(r.team_id), agreement_sha256=agreement) is not None
            }
            for r in pending
        }
        # The most constrained entry first (fewest experts free of conflicts and earlier
        # rounds): a greedy pass in that order spreads the work evenly where a plain order
        # leaves the constrained entry only the busiest experts.
        pending.sort(
            key=lambda r: (len(experts) - len(conflicted[r.id] | r.reviewers), r.pseudonym)
        )
        for review in pending:
            barred = set(review.reviewers) | conflicted[review.id]
            if one_per_team:
                barred |= {e for r in reviews if r.team_id == review.team_id for e in r.reviewers}
            candidates = [Candidate(e.account_id, loads[e.account_id]) for e in experts]
            chosen = assign_experts(review.id, candidates, k=k, barred=barred)
            if len(chosen) < k:
                outcome[review.pseudonym] = (
                    f"only {len(chosen)} of the {k} experts needed are free of conflicts and "
                    "earlier rounds; enrol more experts"
                )
                continue
            review.assign(chosen, now=now)
            self._save(review)
            for expert in chosen:
                loads[expert] += 1
            outcome[review.pseudonym] = chosen
        return outcome

    def tasks(self, contest_id: UUID, actor: Actor) -> list[Review]:
        """The entries an expert was given in the round that counts."""
        actor.require(Role.EXPERT, action="see the review tasks")
        return [r for r in self.reviews(contest_id) if actor.account_id in r.current["experts"]]

    def task(self, contest_id: UUID, pseudonym: str, actor: Actor) -> Review:
        """One of the expert's entries; anyone else's is refused as not assigned."""
        actor.require(Role.EXPERT, action="read a review task")
        review = self.review_by_pseudonym(contest_id, pseudonym)
        if actor.account_id not in review.current["experts"]:
            raise ReviewNotAssigned(pseudonym=pseudonym)
        return review

    def score_review(
        self,
        contest_id: UUID,
        pseudonym: str,
        *,
        grades: Mapping[str, int],
        dimensions: Sequence[str],
        levels: Sequence[int],
        actor: Actor,
        now: datetime,
        signer: Signer | None = None,
    ) -> None:
        """An expert's sheet (signed ``scored``); a conflict declared since the assignment
        bars it."""
        review = self.task(contest_id, pseudonym, actor)
        expert = self._get(Expert, Expert.create_id(actor.account_id), ExpertNotEnrolled())
        reason = conflict(
            expert, self.team(review.team_id), agreement_sha256=self.agreement_sha256(contest_id)
        )
        if reason is not None:
            raise ReviewConflict(pseudonym=pseudonym, reason=reason)

        def score(target: Review, signature: dict[str, Any] | None) -> None:
            target.score(
                expert=actor.account_id, grades=grades, dimensions=dimensions, levels=levels,
                now=now, personal_signature=signature,
            )  # fmt: skip

        self._signed(review, score, meaning="scored", actor=actor, signer=signer, now=now)
        self._save(review)

    # --- results -----------------------------------------------------------------------------

    def publish_results(
        self,
        contest_id: UUID,
        track: int,
        *,
        mode: str,
        freeze_at: datetime,
        standings: list[dict[str, Any]],
        rules_version: int,
        actor: Actor,
        now: datetime,
        signer: Signer | None = None,
    ) -> int:
        """Signed ``published``; every review of the track must be complete."""
        actor.require(Role.ORGANISER, action="publish the results")
        pending = [r for r in self.reviews(contest_id, track) if not r.complete]
        if pending:
            raise ReviewsIncomplete(track=track, count=len(pending))
        results = self.results(contest_id)

        def publish(target: Results, signature: dict[str, Any] | None) -> None:
            target.publish(
                track=track, mode=mode, freeze_at=freeze_at, standings=standings,
                rules_version=rules_version, by=actor.account_id, now=now,
                personal_signature=signature,
            )  # fmt: skip

        self._signed(results, publish, meaning="published", actor=actor, signer=signer, now=now)
        self._save(results)
        return results.publications[-1]["number"]

    # --- appeals -----------------------------------------------------------------------------

    def file_appeal(
        self,
        team_id: UUID,
        track: int,
        *,
        item: str,
        reasons_sha256: str,
        evidence: list[str],
        items: Sequence[str],
        window_days: int,
        one_per_item: bool,
        arbitrators: int,
        actor: Actor,
        now: datetime,
        signer: Signer | None = None,
    ) -> UUID:
        """The leader appeals (signed ``appealed``); arbitrators are drawn in the same
        transaction, or the appeal waits and says why."""
        actor.require_leader_of(team_id, action="appeal")
        team = self.team(team_id)
        closes = self.results(team.contest_id).appeal_window_closes(track, window_days)
        review = self.review_of(team.contest_id, track, team_id)
        if review is None:
            raise AppealNothingScored(track=track)
        number = 1
        while self._exists(Appeal.create_id(team_id, track, item, number)):
            if one_per_item:
                raise AppealExists(track=track, item=item)
            number += 1
        decided: list[Appeal] = []

        def file(target: _NewAggregate, signature: dict[str, Any] | None) -> None:
            target.made.append(
                Appeal.file(
                    contest_id=team.contest_id, team_id=team_id, track=track,
                    submission_id=review.submission_id, item=item, number=number,
                    reasons_sha256=reasons_sha256, evidence=evidence, items=items,
                    closes=closes, by=actor.account_id, now=now, personal_signature=signature,
                )
            )  # fmt: skip

        self._signed(_NewAggregate(decided), file, meaning="appealed", actor=actor,
                     signer=signer, now=now)  # fmt: skip
        appeal = decided[-1]
        self._draw(appeal, arbitrators, now)
        try:
            self.save(appeal)
        except IntegrityError:
            raise AppealExists(track=track, item=item) from None
        return appeal.id

    def draw_again(self, appeal_id: UUID, *, arbitrators: int, actor: Actor, now: datetime) -> None:
        """The organiser asks for the draw again (after enrolling arbitrators)."""
        actor.require(Role.ORGANISER, action="draw arbitrators")
        appeal = self.appeal(appeal_id)
        self._draw(appeal, arbitrators, now)
        self._save(appeal)

    def _draw(self, appeal: Appeal, count: int, now: datetime) -> None:
        panel = self.panel(appeal.contest_id, Role.ARBITRATOR)
        team = self.team(appeal.team_id)
        agreement = self.agreement_sha256(appeal.contest_id)
        eligible, reason = eligible_arbitrators(
            [p.account_id for p in panel],
            conflicts={p.account_id: conflict(p, team, agreement_sha256=agreement) for p in panel},
            reviewers=self.scorers_of(appeal.contest_id, appeal.track, appeal.team_id),
            earlier=self.earlier_arbitrators(appeal),
        )
        if len(eligible) < count:
            appeal.wait(
                reason or f"only {len(eligible)} of the {count} arbitrators needed are eligible",
                now=now,
            )
            return
        appeal.draw(draw_order(appeal.id, eligible)[:count], now=now)

    def scorers_of(self, contest_id: UUID, track: int, team_id: UUID) -> set[UUID]:
        """Who reviewed or scored the team's entry in the track: every round's experts and
        the final round's scorers."""
        review = self.review_of(contest_id, track, team_id)
        scorers = set(review.reviewers) if review is not None else set()
        final = self.final_round(contest_id, track)
        return scorers | {s["expert"] for s in final.sheets.values() if s["team_id"] == team_id}

    def earlier_arbitrators(self, appeal: Appeal) -> set[UUID]:
        """Arbitrators of the same matter (the team's entry in the track) in other appeals."""
        return {
            person
            for other in self.appeals(appeal.contest_id)
            if other.id != appeal.id
            and (other.team_id, other.track) == (appeal.team_id, appeal.track)
            for person in other.arbitrators
        }

    def rule(
        self,
        appeal_id: UUID,
        *,
        outcome: str,
        remedy: dict[str, Any] | None,
        reasons_sha256: str,
        remedies: Sequence[str],
        actor: Actor,
        now: datetime,
        signer: Signer | None = None,
    ) -> None:
        """A drawn arbitrator rules (signed ``ruled``). A correction is appended at once; a
        re-review opens a new round; a re-score is carried out by :meth:`record_rescore`."""
        actor.require(Role.ARBITRATOR, action="rule on an appeal")
        appeal = self.appeal(appeal_id)

        def rule(target: Appeal, signature: dict[str, Any] | None) -> None:
            target.rule(
                arbitrator=actor.account_id, outcome=outcome, remedy=remedy,
                reasons_sha256=reasons_sha256, remedies=remedies, now=now,
                personal_signature=signature,
            )  # fmt: skip

        self._signed(appeal, rule, meaning="ruled", actor=actor, signer=signer, now=now)
        changed: list[Any] = [appeal]
        ordered = appeal.ruling["remedy"] if appeal.ruling else None
        if ordered is not None and ordered["kind"] == "correct":
            submission = self.submission(appeal.submission_id)
            submission.correct_score(
                appeal_id=appeal.id, item=appeal.item, value=ordered["value"],
                reasons_sha256=reasons_sha256, now=now,
            )  # fmt: skip
            appeal.record_remedy("correct", detail={"submission": submission.id}, now=now)
            changed.append(submission)
        elif ordered is not None and ordered["kind"] == "rereview":
            review = self.review_of(appeal.contest_id, appeal.track, appeal.team_id)
            assert review is not None  # an appeal is filed against a reviewed entry
            review.reopen(appeal_id=appeal.id, now=now)
            appeal.record_remedy("rereview", detail={"round": review.current["number"]}, now=now)
            changed.append(review)
        self._save(*changed)

    def record_rescore(self, appeal_id: UUID, *, actor: Actor, now: datetime, **score: Any) -> None:
        """The re-score an upheld appeal ordered, as the scorer computed it (the organiser
        runs it): it supersedes the submission's score."""
        actor.require(Role.ORGANISER, action="carry out a re-score")
        appeal = self.appeal(appeal_id)
        submission = self.submission(appeal.submission_id)
        appeal.record_remedy("rescore", detail={"rules_version": score["rules_version"]}, now=now)
        submission.supersede_score(appeal_id=appeal.id, now=now, **score)
        self._save(appeal, submission)

    def pending_rescore(self, appeal_id: UUID) -> int | None:
        """The rules version a ruled re-score names, while it is due."""
        appeal = self.appeal(appeal_id)
        remedy = appeal.ruling["remedy"] if appeal.ruling else None
        if appeal.status is AppealStatus.UPHELD and remedy and remedy["kind"] == "rescore":
            return int(remedy["rules_version"])
        return None

    # --- the final round ---------------------------------------------------------------------

    def advance(
        self,
        contest_id: UUID,
        track: int,
        *,
        finalists: list[dict[str, Any]],
        limit: int,
        actor: Actor,
        now: datetime,
        signer: Signer | None = None,
    ) -> None:
        actor.require(Role.ORGANISER, action="name the finalists")
        final = self.final_round(contest_id, track)
        gates = {
            f["team_id"]: bool(self.submission(f["submission_id"]).score["gates_passed"])
            for f in finalists
        }

        def advance(target: FinalRound, signature: dict[str, Any] | None) -> None:
            target.advance(
                finalists, limit=limit, gates_passed=gates, by=actor.account_id, now=now,
                personal_signature=signature,
            )  # fmt: skip

        self._signed(final, advance, meaning="published", actor=actor, signer=signer, now=now)
        self._save(final)

    def score_final(
        self,
        contest_id: UUID,
        track: int,
        team_id: UUID,
        *,
        dimensions: Mapping[str, float],
        names: Sequence[str],
        scale_max: float,
        actor: Actor,
        now: datetime,
        signer: Signer | None = None,
    ) -> None:
        """An on-site expert's score of a finalist (signed ``scored``); identity is visible
        here, a conflict of interest still bars."""
        actor.require(Role.EXPERT, action="score the final round")
        expert = self._get(Expert, Expert.create_id(actor.account_id), ExpertNotEnrolled())
        reason = conflict(
            expert, self.team(team_id), agreement_sha256=self.agreement_sha256(contest_id)
        )
        if reason is not None:
            raise ReviewConflict(pseudonym=str(team_id), reason=reason)
        final = self.final_round(contest_id, track)

        def score(target: FinalRound, signature: dict[str, Any] | None) -> None:
            target.score(
                team_id=team_id, expert=actor.account_id, dimensions=dimensions, names=names,
                scale_max=scale_max, now=now, personal_signature=signature,
            )  # fmt: skip

        self._signed(final, score, meaning="scored", actor=actor, signer=signer, now=now)
        self._save(final)

    def award(
        self,
        contest_id: UUID,
        track: int,
        *,
        awards: list[dict[str, Any]],
        actor: Actor,
        now: datetime,
        signer: Signer | None = None,
    ) -> None:
        actor.require(Role.ORGANISER, action="give the awards")
        final = self.final_round(contest_id, track)

        def award(target: FinalRound, signature: dict[str, Any] | None) -> None:
            target.award(awards, by=actor.account_id, now=now, personal_signature=signature)

        self._signed(final, award, meaning="awarded", actor=actor, signer=signer, now=now)
        self._save(final)


class _NewAggregate:
    """Lets ``_signed`` play a decision that creates its aggregate: the trial copy is a
    copy of the list the new aggregate is put in."""

    def __init__(self, made: list[Appeal]) -> None:
        self.made = made

    @property
    def pending_events(self) -> list[Any]:
        return self.made[-1].pending_events
