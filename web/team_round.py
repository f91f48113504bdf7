"""The team's submissions (``huiyan submit``, ``team status``, ``submission show``): the
quota left per track, the upload of a model and its report with a progress bar, and a status
page per submission that web/static/team.js keeps up to date from a small JSON answer."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any
from uuid import UUID

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from domain.accounts import Role
from domain.messages import MESSAGES
from domain.submissions import FINAL, Submission
from domain.team_overview import read_team_overview
from ledger.blobs import BlobError
from services.errors import ServiceRefused
from services.read_models import listings
from services.refusals import REFUSALS
from services.run_progress import cases_done
from services.submissions import submit_model
from services.uploads import MAX_UPLOAD_BYTES
from web.access import admits
from web.context import round_desk, services
from web.i18n import language
from web.team import blueprint, form_problems, refused
from web.uploads import received

POLL_SECONDS = 3


def said(key: str) -> str:
    """A domain message (domain/messages.py) in the page's language."""
    return MESSAGES[key][language()]


def status_label(status: str) -> str:
    return said(f"overview.status.{status}")


def reason_label(reason: str) -> str:
    key = f"overview.reason.{reason}"
    return said(key) if key in MESSAGES else reason


def overview() -> dict[str, Any]:
    """``huiyan team status``'s facts for the signed-in person's team."""
    rd = round_desk()
    team_id, acting = current_user.team_id, current_user.actor
    rd.desk.require_read(acting, team_id, "read.results", "a team's status")
    rd.desk.record_access(acting, "read.results", team_id, "ok")

    def read_log(digest: str) -> bytes | None:
        try:
            return rd.desk.blobs.get(digest)
        except BlobError:
            return None

    return read_team_overview(
        rd.submissions,
        team_id,
        actor=acting,
        now=rd.desk.now,
        read_log=read_log,
        submission_ids=[s.id for s in listings(rd.submissions).submissions(team_id=team_id)],
    )


class SubmitForm(FlaskForm):
    track = SelectField(_l("Track"), validators=[DataRequired()])
    bundle = FileField(_l("Model bundle: a .tar, .tar.gz or .zip of the bundle folder"))
    image = StringField(
        _l("…or a container image reference (pinned by digest)"),
        validators=[Optional(), Length(max=300)],
    )
    report = FileField(_l("Technical report (PDF)"))


def _submit_form(tracks: list[dict[str, Any]]) -> SubmitForm:
    form = SubmitForm()
    form.track.choices = [(str(entry["track"]), str(entry["track"])) for entry in tracks]
    return form


@blueprint.route("/submissions", methods=["GET", "POST"])
@admits(Role.TEAM_MEMBER)
def submissions() -> Any:
    """The quota left per track (today and in total), the team's submissions newest first, and
    the form that submits a model with its report."""
    if current_user.team_id is None:
        return redirect(url_for("team.index"))
    facts = overview()
    form = _submit_form(facts["tracks"])
    if form.validate_on_submit():
        try:
            submission_id = _submit(form)
        except REFUSALS as error:
            refused(error, _("Submission"))
        else:
            flash(_("Submitted: it waits for its run."), "info")
            return redirect(url_for("team.submission", submission_id=submission_id))
    elif request.method == "POST":
        form_problems(form)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "team/submissions.html",
        facts=facts,
        form=form,
        status_label=status_label,
        reason_label=reason_label,
    ), status


def _submit(form: SubmitForm) -> UUID:
    bundle, image = form.bundle.data, (form.image.data or "").strip()
    has_bundle = bundle is not None and bool(bundle.filename)
    if has_bundle == bool(image):
        raise ServiceRefused(_("give either a bundle archive or an image reference, not both"))
    settings = services().settings
    with ExitStack() as stack:
        report = stack.enter_context(
            received(form.report.data, "pdf", limit=MAX_UPLOAD_BYTES, what=_("Technical report"))
        )
        if has_bundle:
            model = stack.enter_context(
                received(bundle, "archive", limit=settings.upload_bytes, what=_("Model bundle"))
            )
            given, kind = str(model), "bundle"
        else:
            given, kind = image, "image"
        return submit_model(
            round_desk(),
            current_user.team_id,
            int(form.track.data),
            given,
            report,
            current_user.actor,
            kind=kind,
        )


def _own_submission(submission_id: UUID) -> Submission:
    """The submission, for a member of its own team only (403 otherwise, logged)."""
    rd = round_desk()
    found = rd.submissions.submission(submission_id)
    rd.desk.require_read(current_user.actor, found.team_id, "read.results", "a team's results")
    return found


def _view(submission_id: UUID) -> dict[str, Any]:
    """``huiyan submission show``'s view with what the status page adds: the labels in the
    page's language and, while it runs, the cases done."""
    rd = round_desk()
    found = _own_submission(submission_id)
    rd.desk.record_access(current_user.actor, "read.results", submission_id, "ok")
    view = rd.submissions.team_view(submission_id)
    failure, score = view["failure"], view["score"]
    return {
        "id": str(view["id"]),
        "track": view["track"],
        "status": view["status"],
        "label": status_label(view["status"]),
        "final": found.status in FINAL,
        "progress": cases_done(rd.desk.settings, submission_id)
        if view["status"] == "running"
        else None,
        "reason": None if failure is None else reason_label(failure["reason"]),
        "detail": None if failure is None else failure["detail"],
        "refunded": None if failure is None else failure["refunded"],
        "score": None
        if score is None
        else {
            "metric": score["primary"]["name"],
            "value": score["primary"]["value"],
            "gates_passed": score["gates_passed"],
        },
        "submitted_at": view["submitted_at"].isoformat(),
        "model_kind": view["model_kind"],
        "model_ref": view["model_ref"],
        "inference": view["inference"],
    }


@blueprint.route("/submissions/<uuid:submission_id>")
@admits(Role.TEAM_MEMBER)
def submission(submission_id: UUID) -> Any:
    """One submission's status: it updates itself (team.js) until the run is over."""
    return render_template(
        "team/submission.html", view=_view(submission_id), poll_seconds=POLL_SECONDS
    )


@blueprint.route("/submissions/<uuid:submission_id>/status.json")
@admits(Role.TEAM_MEMBER)
def submission_status(submission_id: UUID) -> Any:
    view = _view(submission_id)
    view.pop("inference")
    return jsonify(view)
