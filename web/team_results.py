"""The team's results and appeals (``huiyan results mine``, ``ledger proof``, ``appeal file|
list|show``): every indicator of its score, the gates, the figures its recorded score allows,
the ledger position of every recorded score the result stands on with a receipt and inclusion
proof to take away, and its appeals, filed under the leader's signature."""

from __future__ import annotations

import json
from contextlib import ExitStack
from typing import Any
from uuid import UUID

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import MultipleFileField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from domain.accounts import Role
from ledger.rows import Entry
from scoring.plots import render
from services.appeal_filing import file_appeal
from services.arbitration import REASONS_LIMIT, appeal_view, reasons, require_readable
from services.judging_steps import JudgingDesk, appeals_for
from services.refusals import REFUSALS
from services.result_evidence import receipt, recorded_figures, score_entries
from web.access import admits
from web.context import judging_desk, kept_pages, ledger_head
from web.signing import SignForm, signer
from web.team import blueprint, form_problems, received_pdfs, refused


def _team_tracks() -> list[int]:
    team_id = current_user.team_id
    if team_id is None:
        return []
    return sorted(judging_desk().judging.team(team_id).tracks)


def _result(track: int) -> tuple[dict[str, Any], list[Entry]]:
    """``huiyan results mine`` for the track, and the recorded scores it stands on."""
    jd = judging_desk()
    team_id, acting = current_user.team_id, current_user.actor
    jd.desk.require_read(acting, team_id, "read.results", "a team's results")
    # Kept per ledger head: nothing in it changes until an event is appended.
    kept, key = kept_pages("results", 512), (ledger_head(), team_id, track)
    found = kept.get(key)
    if found is None:
        found = _result_afresh(jd, team_id, track)
        kept.put(key, found)
    return found


def _result_afresh(
    jd: JudgingDesk, team_id: UUID, track: int
) -> tuple[dict[str, Any], list[Entry]]:
    contest_id = jd.judging.team(team_id).contest_id
    result = jd.team_results(contest_id, track, team_id)
    if result.get("submission") is None:
        return result, []
    review = jd.reads().judging.review_of_submission(result["submission"])
    return result, score_entries(jd, result["submission"], review)


def indicators(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every number, flag and text of a score's mapping, by its dotted name (lists, such as a
    confusion matrix, are drawn instead)."""
    rows: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            rows += indicators(item, f"{prefix}.{key}" if prefix else str(key))
    elif not isinstance(value, list):
        rows.append((prefix, value))
    return rows


@blueprint.route("/results")
@admits(Role.TEAM_MEMBER)
def results() -> Any:
    """The team's score in each of its tracks, with its evidence."""
    shown = []
    for track in _team_tracks():
        result, entries = _result(track)
        score = result.get("score")
        shown.append(
            {
                "track": track,
                "result": result,
                "metrics": indicators((score or {}).get("metrics")),
                "gates": indicators((score or {}).get("gates")),
                "figures": [figure.name for figure in recorded_figures(score)],
                "entries": entries,
            }
        )
    jd = judging_desk()
    jd.desk.record_access(current_user.actor, "read.results", current_user.team_id, "ok")
    return render_template("team/results.html", shown=shown)


@blueprint.route("/results/<int:track>/figures/<int:number>.png")
@admits(Role.TEAM_MEMBER)
def figure(track: int, number: int) -> Any:
    """One figure of the track's recorded score, drawn by scoring/plots.py."""
    if track not in _team_tracks():
        abort(404)
    figures = recorded_figures(_result(track)[0].get("score"))
    if not 0 <= number < len(figures):
        abort(404)
    return Response(
        render(figures[number]),
        mimetype="image/png",
        headers={"Cache-Control": "private, max-age=300"},
    )


@blueprint.route("/results/<int:track>/receipts/<int:position>.json")
@admits(Role.TEAM_MEMBER)
def receipt_download(track: int, position: int) -> Any:
    """The receipt and inclusion proof of one recorded score of the team's own result; any
    other position of the ledger is not this page's to give (404)."""
    if track not in _team_tracks():
        abort(404)
    entries = {entry.position: entry for entry in _result(track)[1]}
    if position not in entries:
        abort(404)
    body = json.dumps(receipt(judging_desk().ledger, entries[position]), indent=2)
    return Response(
        body + "\n",
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="receipt-{position}.json"'},
    )


# --- appeals -----------------------------------------------------------------------------------


class AppealForm(SignForm):
    track = SelectField(_l("Track"), validators=[DataRequired()])
    item = SelectField(_l("Score item"), validators=[DataRequired()])
    reasons = TextAreaField(
        _l("Your reasons"), validators=[DataRequired(), Length(max=REASONS_LIMIT)]
    )
    evidence = MultipleFileField(_l("Evidence (PDF, optional)"))


ITEMS = {
    "quality": _l("Quality (the automated score)"),
    "efficiency": _l("Efficiency"),
    "expert": _l("Expert review"),
    "gates": _l("Gates (authenticity and conformity)"),
}


def _appeals() -> list[dict[str, Any]]:
    jd = judging_desk()
    acting = current_user.actor
    if current_user.team_id is None:
        return []
    contest_id = jd.judging.team(current_user.team_id).contest_id
    return [
        appeal_view(found)
        for found in appeals_for(jd, contest_id, acting)
        if found.team_id == current_user.team_id
    ]


@blueprint.route("/appeals")
@admits(Role.TEAM_MEMBER)
def appeals() -> Any:
    return render_template("team/appeals.html", appeals=_appeals(), items=ITEMS)


@blueprint.route("/appeals/new", methods=["GET", "POST"])
@admits(Role.TEAM_MEMBER)
def appeal_new() -> Any:
    """The leader appeals against a score item, signing with their password (and code)."""
    form = AppealForm()
    tracks = _team_tracks()
    form.track.choices = [(str(track), str(track)) for track in tracks]
    form.item.choices = [(key, str(label)) for key, label in ITEMS.items()]
    if form.validate_on_submit():
        try:
            found = _file(form)
        except REFUSALS as error:
            refused(error, _("Appeal"))
        else:
            flash(_("Your appeal is filed and signed."), "info")
            return redirect(url_for("team.appeal", appeal_id=found.id))
    elif request.method == "POST":
        form_problems(form)
    status = 400 if request.method == "POST" else 200
    return render_template("team/appeal_new.html", form=form, tracks=tracks), status


def _file(form: AppealForm) -> Any:
    jd = judging_desk()
    files = [upload for upload in form.evidence.data or [] if upload and upload.filename]
    with ExitStack() as stack:
        paths = stack.enter_context(received_pdfs(files, _("Evidence"))).paths if files else []
        return file_appeal(
            jd,
            current_user.actor,
            int(form.track.data),
            item=form.item.data,
            reasons=form.reasons.data.encode("utf-8"),
            evidence=paths,
            signer=signer(form),
        )


@blueprint.route("/appeals/<uuid:appeal_id>")
@admits(Role.TEAM_MEMBER)
def appeal(appeal_id: UUID) -> Any:
    """One appeal: its status, the arbitrators' ruling when there is one, and the reasons."""
    jd = judging_desk()
    found = jd.judging.appeal(appeal_id)
    try:
        require_readable(current_user.actor, found)
    except REFUSALS:
        jd.desk.record_access(current_user.actor, "read.appeal", appeal_id, "refused")
        raise
    filed, ruled = reasons(jd, current_user.actor, found)
    return render_template(
        "team/appeal.html",
        view=appeal_view(found),
        items=ITEMS,
        reasons={"reasons": filed, "ruling_reasons": ruled},
    )
