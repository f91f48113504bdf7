"""What a team sees of its own contest, on one page [七(一), Q&A 6]: the tracks it entered, the
submissions it has left per track today and in total, its submissions newest first with their
score or the reason they failed, and where it stands on the leaderboard once that is published.

:func:`team_overview` is a pure read model: the team, its contest, its quotas and the
:meth:`Submissions.team_view` of each submission go in, with the time; a dict of
language-neutral facts comes out (``huiyan team status --json`` prints it as it is).
:func:`render_text` writes those facts in the team's locked language, every word from
:mod:`domain.messages`. What a team may read of a run (never test data; a model's log only for
a run on a public debug set while the debug phase is open) is decided by ``team_view`` alone;
this module only picks from what it returns.

The leaderboard is not published yet (the next issue): ``standings`` is the place its rank and
combined score per track come in; without it the overview says plainly that there is none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.accounts import Actor
from domain.contest import Contest
from domain.messages import MESSAGES
from domain.quota import SubmissionQuota, contest_day
from domain.submissions import Submissions
from domain.teams import Team
from domain.time import require_aware, shanghai_text

DEFAULT_LANGUAGE = "zh"  # a team that has not chosen yet reads the contest's own language
LOG_LINES = 20  # of a debug-set run's log, the last lines shown


@dataclass(frozen=True)
class Standing:
    """A team's place in one track's published leaderboard (filled by the leaderboard)."""

    rank: int
    combined_score: float


def team_overview(
    *,
    team: Team,
    contest: Contest,
    quotas: Mapping[int, SubmissionQuota],
    views: Sequence[dict[str, Any]],
    now: datetime,
    standings: Mapping[int, Standing] | None = None,
) -> dict[str, Any]:
    """The facts for one team at ``now``. ``views`` are the team views of its submissions in
    ledger order; ``quotas`` its quota per entered track (a track not in it has none used)."""
    day = contest_day(require_aware(now, "now"))
    allowed, calendar = contest.quota, contest.calendar
    tracks = []
    for track, group in sorted(team.tracks.items()):
        quota = quotas.get(track)
        used_today = quota.used(day) if quota else 0
        used_total = quota.used() if quota else 0
        left_total = max(0, allowed.total - used_total)
        standing = (standings or {}).get(track)
        tracks.append(
            {
                "track": track,
                "group": group,
                "per_day": allowed.per_day,
                "total": allowed.total,
                "used_today": used_today,
                "used_total": used_total,
                "left_today": min(max(0, allowed.per_day - used_today), left_total),
                "left_total": left_total,
                "rank": standing.rank if standing else None,
                "combined_score": standing.combined_score if standing else None,
            }
        )
    # Ledger order reversed: newest first even when two share a second.
    ordered = sorted(reversed(views), key=lambda view: view["submitted_at"], reverse=True)
    return {
        "team_id": team.id,
        "team_name": team.name,
        "language": team.language or DEFAULT_LANGUAGE,
        "at": now,
        "contest_day": day,
        "submission_window": {
            "start": calendar.preliminary_start,
            "end": calendar.preliminary_end,
            "open": calendar.preliminary_start <= now < calendar.preliminary_end,
        },
        "tracks": tracks,
        "leaderboard": {"published": standings is not None},
        "submissions": [_submission(view) for view in ordered],
    }


def read_team_overview(
    app: Submissions,
    team_id: UUID,
    *,
    actor: Actor,
    now: datetime,
    read_log: Callable[[str], bytes | None] = lambda digest: None,
    submission_ids: Iterable[UUID] | None = None,
) -> dict[str, Any]:
    """The overview from the ledger's reads. ``read_log`` fetches a log by its SHA-256 (the
    caller's blob store); it is asked only while the debug phase is open, for failed runs,
    and ``team_view`` still decides whether the team may read it. ``submission_ids``: the
    team's submissions, oldest first, as a listing has them (each is still loaded from the
    ledger by id); without it, the log is scanned for them."""
    actor.require_reader_of(team_id, "a team's status")
    team = app.team(team_id)
    contest = app.contest(team.contest_id)
    phase = app.debug_phase(contest.id)
    views = []
    if submission_ids is None:
        submission_ids = [found.id for found in app.submissions(team_id=team_id)]
    for ident in submission_ids:
        found = app.submission(ident)
        if found.team_id != team_id:
            continue
        log = None
        if phase.is_open and found.failure and found.failure.get("log_sha256"):
            log = _tail(read_log(found.failure["log_sha256"]), phase.log_cap)
        views.append(app.team_view(found.id, log=log))
    quotas = {track: app.quota(contest.id, team_id, track) for track in team.tracks}
    return team_overview(team=team, contest=contest, quotas=quotas, views=views, now=now)


def _tail(log: bytes | None, cap: int) -> bytes | None:
    """The end of a log within the phase's byte cap: the last lines are what explain a crash.
    A cut log loses its first (partial) line."""
    if log is None or len(log) <= cap:
        return log
    tail = log[-cap:]
    return tail[tail.find(b"\n") + 1 :] if b"\n" in tail else tail


def _submission(view: dict[str, Any]) -> dict[str, Any]:
    score, failure = view["score"], view["failure"]
    return {
        "id": view["id"],
        "track": view["track"],
        "status": view["status"],
        "submitted_at": view["submitted_at"],
        "score": None
        if score is None
        else {
            "metric": (score.get("primary") or {}).get("name"),
            "value": (score.get("primary") or {}).get("value"),
            "gates_passed": score["gates_passed"],
        },
        "failure": None
        if failure is None
        else {
            "stage": failure["stage"],
            "reason": failure["reason"],
            "exit_code": failure["exit_code"],
            "detail": failure["detail"],
            "refunded": failure["refunded"],
            "problems": failure["problems"],
            # Present only when team_view shows the log (a debug-set run, the phase open).
            "log_tail": _last_lines(view.get("log")),
        },
    }


def _last_lines(log: dict[str, Any] | None) -> list[str] | None:
    if not log or not log.get("text"):
        return None
    return log["text"].splitlines()[-LOG_LINES:]


# --- text ------------------------------------------------------------------------------------


def render_text(overview: dict[str, Any], contest: Contest) -> str:
    """The overview in the team's language; the contest gives the tracks' and groups' names."""
    language = overview["language"]

    def say(key: str, **facts: Any) -> str:
        return MESSAGES[f"overview.{key}"][language].format(**facts)

    window = overview["submission_window"]
    lines = [
        say("title", team=overview["team_name"], at=shanghai_text(overview["at"])),
        say("contest_day", day=overview["contest_day"]),
        say(
            "window_open" if window["open"] else "window_closed",
            start=shanghai_text(window["start"]),
            end=shanghai_text(window["end"]),
        ),
        "",
        say("tracks"),
    ]
    groups = {group["id"]: group["name"] for group in contest.groups}
    for entry in overview["tracks"]:
        names = contest.track(entry["track"])["name"]
        group = groups.get(entry["group"], {}).get(language, entry["group"])
        lines.append(
            "- "
            + say(
                "track",
                track=entry["track"],
                track_name=names.get(language, entry["track"]),
                group=group,
            )
        )
        lines.append("  " + say("quota", **entry))
        if entry["rank"] is not None:
            lines.append("  " + say("standing", rank=entry["rank"], score=entry["combined_score"]))
    lines += ["", say("leaderboard")]
    if not overview["leaderboard"]["published"]:
        lines.append(say("leaderboard_not_published"))
    lines += ["", say("submissions")]
    if not overview["submissions"]:
        lines.append(say("no_submissions"))
    for entry in overview["submissions"]:
        lines += _submission_lines(entry, say)
    return "\n".join(lines)


def _submission_lines(entry: dict[str, Any], say: Callable[..., str]) -> list[str]:
    lines = [
        "- "
        + say(
            "submission",
            at=shanghai_text(entry["submitted_at"]),
            track=entry["track"],
            submission=entry["id"],
            status=say(f"status.{entry['status']}"),
        )
    ]
    score, failure = entry["score"], entry["failure"]
    if score is not None:
        value = "–" if score["value"] is None else f"{score['value']:.4f}"
        lines.append("  " + say("score", metric=score["metric"], value=value))
        if not score["gates_passed"]:
            lines.append("  " + say("gates_failed"))
    if failure is not None:
        lines.append("  " + say("failure", reason=say(f"reason.{failure['reason']}")))
        if failure["exit_code"] is not None:
            lines.append("  " + say("exit_code", code=failure["exit_code"]))
        if failure["detail"]:
            lines.append("  " + say("detail", detail=failure["detail"]))
        if failure["problems"]:
            counted = ", ".join(f"{p['field']} ×{p['count']}" for p in failure["problems"])
            lines.append("  " + say("problems", problems=counted))
        if failure["refunded"]:
            lines.append("  " + say("refunded"))
        if failure["log_tail"]:
            lines.append("  " + say("log_tail", lines=len(failure["log_tail"])))
            lines += ["    " + line for line in failure["log_tail"]]
        else:
            lines.append("  " + say("log_hidden"))
    return lines
