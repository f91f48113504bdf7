"""An expert's anonymised review, shared by the console (cli/judging.py) and the browser
(web/expert.py): the tasks as an expert sees them, the sanitised report, the rubric and the
signed grades.

An expert learns an entry by its pseudonym only: its aggregate metrics, the sanitised copy of
its report, never a name, member, organisation or id of the team, nor its code
(tests/cli/test_anonymity.py and tests/web/test_expert.py search every answer).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from domain.accounts import Actor
from domain.judging_read_models import ReviewListing
from domain.signatures import Signer
from domain.submissions import score_view
from scoring.rules import ExpertRubric
from services.judging_steps import JudgingDesk


def task_view(jd: JudgingDesk, review: ReviewListing, acting: Actor) -> dict[str, Any]:
    """Everything an expert learns of one entry of theirs."""
    submission = jd.judging.submission(review.submission_id)
    mine = review.sheets.get(str(acting.account_id))
    return {
        "pseudonym": review.pseudonym,
        "track": review.track,
        "round": review.round,
        "metrics": score_view(submission.score),
        "scored": mine is not None,
        "grades": mine,
    }


def sanitised_report(jd: JudgingDesk, acting: Actor, contest_id: UUID, pseudonym: str) -> bytes:
    """The sanitised copy of the report of one of the expert's entries (the read is in the
    access log); anyone else's is refused as not assigned."""
    review = jd.judging.task(contest_id, pseudonym, acting)
    assert review.report is not None and review.report_clean  # assigned only when clean
    data = jd.desk.blobs.get(review.report["sanitised_sha256"])
    jd.desk.record_access(acting, "read.sanitised_report", pseudonym, "ok")
    return data


def rubric(jd: JudgingDesk, contest_id: UUID) -> ExpertRubric:
    """The rubric of the published rules in force: dimensions and the described grades."""
    return jd.rules(contest_id)[0].expert_rubric


def score(
    jd: JudgingDesk,
    acting: Actor,
    contest_id: UUID,
    pseudonym: str,
    grades: Mapping[str, int],
    signer: Signer,
) -> None:
    """The expert's sheet for one entry on the published rubric (signed ``scored``)."""
    chosen = rubric(jd, contest_id)
    jd.judging.score_review(
        contest_id,
        pseudonym,
        grades=grades,
        dimensions=chosen.dimensions,
        levels=sorted(chosen.grades),
        actor=acting,
        now=jd.desk.now,
        signer=signer,
    )
