"""A track's standings from what the ledger recorded: the preliminary composite (SCORING.md
§5: 0.6 quality, 0.1 efficiency, 0.3 expert, weights from the rules) and the final ranking.

The arithmetic is the scoring package's (scoring/ranking.py); this module only gathers the
recorded facts it needs (an ``EntryRow`` per reviewed entry): its score as it stands (a
re-score supersedes, a correction overrides the item it names), the expert sheets of the round
that counts, the on-site scores. It decides nothing; publications and awards record what it
computed, and the domain checks what it can (gates, counts, finalists).

The facts are gathered two ways and ranked by the one ``ranked``: from the read models
(:func:`preliminary`, one query per track: the leaderboard, a team's results, the organiser's
standings and the export read it) and from the aggregates (:func:`recorded`: what a decision
records, a publication's standings or the finalists, since nothing decides by reading a
projection). tests/domain/test_judging_read_models.py checks that the two agree.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import Application

from domain.judging import Judging
from domain.review import Review
from domain.submissions import Submission, score_view
from scoring.ranking import (
    Entry,
    FinalEntry,
    aggregate_expert,
    awards_for,
    final_dimension_score,
    final_rank,
    rank,
    sheet_score,
)
from scoring.rules import Rules
from services.judging_read_models import EntryRow, ReadModels, read_models
from services.standings_memo import StandingsMemo, as_line, positions


@dataclass(frozen=True)
class Standing:
    """One team's line of a track's preliminary standings."""

    team_id: UUID
    submission_id: UUID
    pseudonym: str
    rank: int | None  # None: left out for a gate failure
    composite: float | None
    quality: float
    efficiency: float
    expert: float | None
    gates_passed: bool
    corrected: tuple[str, ...]  # the items an upheld appeal corrected

    def record(self) -> dict[str, Any]:
        """What a publication records (ids and figures; names are shown, never recorded)."""
        return {
            "team_id": self.team_id,
            "submission_id": self.submission_id,
            "rank": self.rank,
            "composite": self.composite,
            "quality": self.quality,
            "efficiency": self.efficiency,
            "expert": self.expert,
            "gates_passed": self.gates_passed,
        }


def figures(
    entry: EntryRow, rules: Rules, scored: dict[tuple, float] | None = None
) -> dict[str, Any]:
    """The entry's four items as they stand now. ``scored``: sheet scores already computed
    in this ranking, by the sheet's grades (many sheets grade alike)."""
    expert = (
        aggregate_expert([_sheet_score(s, rules, scored) for s in entry.sheets], rules.review)
        if entry.complete
        else None
    )
    items: dict[str, Any] = {
        "quality": float(entry.quality),  # type: ignore[arg-type]  # a review is of a score
        "efficiency": float(entry.efficiency or 0.0),
        "expert": expert,
        "gates": bool(entry.gates_passed),
    }
    items.update(entry.corrections)
    return items


def _sheet_score(sheet: dict[str, int], rules: Rules, scored: dict[tuple, float] | None) -> float:
    if scored is None:
        return sheet_score(sheet, rules.expert_rubric)
    key = tuple(sheet.items())
    found = scored.get(key)
    if found is None:
        found = scored[key] = sheet_score(sheet, rules.expert_rubric)
    return found


def ranked(entries: list[EntryRow], rules: Rules) -> list[Standing]:
    """Every reviewed entry of the track, ranked when its review is complete and its gates
    passed; the others follow, unranked."""
    lines: dict[str, tuple[EntryRow, dict[str, Any]]] = {}
    candidates, scored = [], {}
    for entry in entries:
        items = figures(entry, rules, scored)
        team = str(entry.team_id)
        lines[team] = (entry, items)
        if items["expert"] is not None:
            candidates.append(
                Entry(
                    team=team,
                    quality=items["quality"],
                    efficiency=items["efficiency"],
                    expert=items["expert"],
                    gates_passed=items["gates"],
                    submitted_at=entry.submitted_at,
                )
            )
    placed = {r.team: r for r in rank(candidates, rules)[0]}
    standings = []
    for team, (entry, items) in lines.items():
        found = placed.get(team)
        standings.append(
            Standing(
                team_id=entry.team_id,
                submission_id=entry.submission_id,
                pseudonym=entry.pseudonym,
                rank=found.rank if found else None,
                composite=found.preliminary_score if found else None,
                quality=items["quality"],
                efficiency=items["efficiency"],
                expert=items["expert"],
                gates_passed=items["gates"],
                corrected=tuple(sorted(entry.corrections)),
            )
        )
    return sorted(standings, key=lambda s: (s.rank is None, s.rank or 0, s.pseudonym))


def preliminary(app: Application, contest_id: UUID, track: int, rules: Rules) -> list[Standing]:
    """The track's standings from the read models (caught up first): what the leaderboard, a
    team's results, the organiser's standings and the export show."""
    return [_standing(line) for line in ranked_lines(read_models(app), contest_id, track, rules)]


_STANDING_FIELDS = tuple(Standing.__dataclass_fields__)


def _standing(line: dict[str, Any]) -> Standing:
    """A memo line as a Standing (ids and the corrected items back to their types)."""
    facts = {name: line[name] for name in _STANDING_FIELDS}
    facts["team_id"], facts["submission_id"] = UUID(facts["team_id"]), UUID(facts["submission_id"])
    facts["corrected"] = tuple(facts["corrected"])
    return Standing(**facts)


def ranked_lines(reads: ReadModels, contest_id: UUID, track: int, rules: Rules) -> list[dict]:
    """Each ranked line (plain: ids as text) with its entry's submission time and team name,
    from the memo while neither read model nor the rules moved since it was computed
    (services/standings_memo.py). ``reads``: caught up."""
    key = (rules.sha256, *positions((reads.listings, reads.judging)))
    return _memo(reads.app).lines(
        contest_id, track, key, lambda: _ranked_afresh(reads, contest_id, track, rules)
    )


def _ranked_afresh(reads: ReadModels, contest_id: UUID, track: int, rules: Rules) -> list[dict]:
    entries = reads.entries(contest_id, track)
    facts = {e.submission_id: (e.submitted_at, e.team_name) for e in entries}
    return [as_line(line, *facts[line.submission_id]) for line in ranked(entries, rules)]


def memo_differences(reads: ReadModels, rules_of: Callable[[UUID], Rules]) -> list[str]:
    """Each kept ranking that a read would use now (its key is the current one) but whose
    lines are not what the read models rank afresh: someone edited the memo. A ranking kept
    under an older key is never shown again, so it is left alone. ``reads``: caught up."""
    current = positions((reads.listings, reads.judging))
    found = []
    for contest_id, track, key, lines in _memo(reads.app).rows():
        rules = rules_of(contest_id)
        if key != (rules.sha256, *current):
            continue
        afresh = json.loads(json.dumps(_ranked_afresh(reads, contest_id, track, rules)))
        if afresh != lines:
            found.append(
                f"standings memo: contest {contest_id} track {track}: the kept ranking is not "
                "what the read models rank"
            )
    return found


def _memo(app: Application) -> StandingsMemo:
    with _OPENING:
        found = _MEMOS.get(app)
        if found is None:
            found = _MEMOS[app] = StandingsMemo(app.factory.datastore.engine)  # type: ignore[attr-defined]
    return found


_OPENING = threading.Lock()


_MEMOS: weakref.WeakKeyDictionary[Application, StandingsMemo] = weakref.WeakKeyDictionary()


def recorded(judging: Judging, contest_id: UUID, track: int, rules: Rules) -> list[Standing]:
    """The same standings from the aggregates themselves: what a decision records (a
    publication, the finalists), since nothing decides by reading a projection."""
    return ranked(recorded_entries(judging, contest_id, track), rules)


def recorded_entries(judging: Judging, contest_id: UUID, track: int) -> list[EntryRow]:
    """The facts of :class:`EntryRow`, gathered from each Review and Submission aggregate."""
    return [
        entry_row(review, judging.submission(review.submission_id))
        for review in judging.reviews(contest_id, track)
    ]


def entry_row(review: Review, submission: Submission) -> EntryRow:
    """One entry's facts from its aggregates (as they stand, or as they stood at a past
    position: ``huiyan audit leaderboard``)."""
    score = submission.score
    assert score is not None  # a review is opened on a scored entry only
    return EntryRow(
        team_id=review.team_id,
        submission_id=submission.id,
        pseudonym=review.pseudonym,
        submitted_at=submission.submitted_at,
        quality=score["breakdown"]["primary"]["value"],
        efficiency=score["efficiency"],
        gates_passed=bool(score["gates_passed"]),
        sheets=review.sheets,
        complete=review.complete,
        corrections={item: c["value"] for item, c in submission.corrections.items()},
    )


def leaderboard(app: Application, contest_id: UUID, track: int, rules: Rules) -> dict[str, Any]:
    """The track's leaderboard as published (``huiyan results leaderboard``): ranks and names,
    or the full figures; entries submitted after the freeze wait for the next publication."""
    reads = read_models(app)
    published = reads.judging.publication(contest_id, track)
    if published is None or published.mode == "hidden":
        return {"track": track, "mode": "hidden" if published else None, "lines": []}
    lines, freeze = [], published.freeze_at.timestamp()
    for line in ranked_lines(reads, contest_id, track, rules):
        if line["rank"] is None or line["submitted_ts"] > freeze:
            continue
        shown: dict[str, Any] = {"rank": line["rank"], "team": line["team_name"]}
        if published.mode == "full":
            shown |= {k: line[k] for k in ("composite", "quality", "efficiency", "expert")}
        lines.append(shown)
    return {"track": track, "mode": published.mode, "publication": published.number,
            "lines": lines}  # fmt: skip


def team_results(
    judging: Judging, contest_id: UUID, track: int, team_id: UUID, rules: Rules
) -> dict[str, Any]:
    """A team's score in the track, every indicator of it (``huiyan results mine``): its line
    of the standings from the read models; the score's own detail from its one Submission."""
    reads, wanted = read_models(judging), str(team_id)
    found = next(
        (s for s in ranked_lines(reads, contest_id, track, rules) if s["team_id"] == wanted), None
    )
    if found is None:
        return {"track": track, "entry": None}
    line = _standing(found)
    submission = judging.submission(line.submission_id)
    published = reads.judging.publication(contest_id, track)
    return {
        "track": track,
        "submission": line.submission_id,
        "composite": line.composite if published else None,
        "rank": line.rank if published else None,
        "quality": line.quality,
        "efficiency": line.efficiency,
        "expert": line.expert if published else None,
        "gates_passed": line.gates_passed,
        "corrected": list(line.corrected),
        "score": score_view(submission.score),
        "superseded": len(submission.superseded_scores),
    }


def finalists(standings: list[Standing], rules: Rules) -> list[dict[str, Any]]:
    """The top N ranked teams (a gate failure is never ranked, so never advances); a tie at
    the boundary takes every team of that rank in."""
    ranked = [s for s in standings if s.rank is not None and s.gates_passed]
    limit = rules.final.advance_per_track
    chosen = [s for s in ranked if s.rank <= limit]
    return [
        {
            "team_id": s.team_id,
            "submission_id": s.submission_id,
            "rank": s.rank,
            "preliminary_score": s.composite,
        }
        for s in chosen
    ]


def final(judging: Judging, contest_id: UUID, track: int, rules: Rules) -> list[dict[str, Any]]:
    """The final ranking of the track's scored finalists, with the award each one gets."""
    round_ = judging.final_round(contest_id, track)
    entries = []
    for finalist in round_.finalists:
        sheets = round_.sheets_of(finalist["team_id"])
        if not sheets:
            continue
        submission = judging.submission(finalist["submission_id"])
        score = submission.score
        assert score is not None
        entries.append(
            FinalEntry(
                team=str(finalist["team_id"]),
                dimensions=final_dimension_score(sheets, rules.final),
                quality=float(score["breakdown"]["primary"]["value"]),
                efficiency=float(score["efficiency"] or 0.0),
                submitted_at=submission.submitted_at,
            )
        )
    ranked = final_rank(entries, rules)
    awards = {placed.team: award for placed, award in awards_for(ranked, rules.final)}
    return [
        {
            "team_id": UUID(placed.team),
            "rank": placed.rank,
            "final_score": placed.final_score,
            "dimensions": dict(placed.entry.dimensions),
            "award": awards[placed.team].key if placed.team in awards else None,
        }
        for placed in ranked
    ]
