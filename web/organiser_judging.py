"""The organiser's pages of the judging (docs/web/organiser.md): the experts and their
agreement, a track's anonymised review (its assignment, the conflicts that kept an expert off
an entry, the reports held because they name their team), the publication of results, and
the final round (finalists, awards, certificates).

The routes join the organiser's blueprint (web/organiser.py); each action calls the step the
CLI command of the same name calls (services/judging_steps.py, services/organising.py).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from flask import Response, flash, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from domain.accounts import Role
from domain.errors import DomainError
from domain.experts import conflict
from domain.registration import PANEL
from domain.results import MODES
from domain.signatures import Signer
from domain.time import SHANGHAI
from services import organising
from services.errors import ServiceRefused
from services.judging_steps import (
    advance,
    award,
    certificate,
    final_standings,
    prepare_review,
    publish_results,
    review_progress,
)
from web.access import admits
from web.context import desk, judging_desk
from web.organiser import (
    acting,
    back,
    blueprint,
    checked,
    require_contest,
    the_contest,
    upload_action,
)
from web.signing import SignForm, signer

AGREEMENT_LIMIT = organising.AGREEMENT_LIMIT
TRACKS = range(1, 9)


# --- experts ---------------------------------------------------------------------------------


def _lines(text: str | None) -> list[str]:
    """One name a line (or separated by commas), blanks dropped."""
    return [part.strip() for line in (text or "").splitlines() for part in line.split(",")
            if part.strip()]  # fmt: skip


class ExpertForm(FlaskForm):
    login = StringField(_l("Login"), validators=[DataRequired(), Length(max=200)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=[("expert", _l("Expert")),
                                             ("arbitrator", _l("Arbitrator"))])  # fmt: skip
    password = PasswordField(_l("First password (the person changes it)"),
                             validators=[DataRequired(), Length(min=12, max=1000)])  # fmt: skip
    fields = TextAreaField(_l("Fields (one a line)"), validators=[DataRequired()])
    organisations = TextAreaField(_l("Organisations (one a line)"), validators=[DataRequired()])


class AgreementForm(SignForm):
    pass


@blueprint.route("/experts")
@admits(Role.ORGANISER)
def experts() -> Any:
    contest = the_contest()
    panel, agreement = [], None
    if contest is not None:
        jd = judging_desk()
        current = jd.judging.agreement_sha256(contest.id)
        panel = [
            (member.account_id, member.to_record(current))
            for role in PANEL
            for member in jd.judging.panel(contest.id, role)
        ]
        versions = desk().app.agreement(contest.id).versions
        agreement = versions[-1] if versions else None
    return render_template(
        "organiser/experts.html",
        contest=contest,
        panel=panel,
        agreement=agreement,
        form=ExpertForm(),
        agreement_form=AgreementForm(),
    )


@blueprint.route("/experts", methods=["POST"])
@admits(Role.ORGANISER)
def enrol_expert() -> Any:
    """Opens the person's account (as ``account create``) and enrols it (as ``expert
    enrol``); an account that exists already is only enrolled."""
    form = ExpertForm()
    if checked(form):
        the_desk, actor = desk(), current_user.actor
        with acting(_("The expert is enrolled.")):
            contest_id = require_contest().id
            login = form.login.data.strip()
            if not _account_exists(login):
                organising.open_person_account(
                    the_desk, actor, login=login, role=Role(form.role.data),
                    password=form.password.data, printed_name=form.name.data,
                )  # fmt: skip
            organising.enrol_expert(
                the_desk, actor, contest_id, login,
                fields=_lines(form.fields.data), organisations=_lines(form.organisations.data),
            )  # fmt: skip
    return back("organiser.experts")


def _account_exists(login: str) -> bool:
    try:
        desk().app.account(organising.account_id(desk(), login))
    except DomainError:
        return False
    return True


@blueprint.route("/experts/agreement", methods=["POST"])
@admits(Role.ORGANISER)
def publish_agreement() -> Any:
    def publish(path: Path, signs: Signer) -> None:
        version, sha256 = organising.publish_agreement(
            desk(), current_user.actor, require_contest().id, path, signs
        )
        flash(_("Agreement version %(v)s published (%(sha)s).", v=version, sha=sha256), "info")

    form = AgreementForm()
    upload_action(form, "text", AGREEMENT_LIMIT, _("agreement"), lambda p: publish(p, signer(form)))
    return back("organiser.experts")


# --- a track's review ------------------------------------------------------------------------


class PublishForm(SignForm):
    mode = SelectField(_l("Mode"), choices=[(mode, mode) for mode in MODES])
    freeze_at = StringField(_l("Freeze at (ISO time with zone)"),
                            validators=[Optional(), Length(max=40)])  # fmt: skip


class FinalForm(SignForm):
    pass


def _conflicts(contest_id: UUID, track: int) -> dict[str, list[tuple[UUID, str]]]:
    """Per pseudonym, the experts kept off the entry and why (domain.experts.conflict)."""
    app = judging_desk().judging
    experts = app.panel(contest_id, Role.EXPERT)
    agreement = app.agreement_sha256(contest_id)
    found: dict[str, list[tuple[UUID, str]]] = {}
    for review in app.reviews(contest_id, track):
        team = app.team(review.team_id)
        found[review.pseudonym] = [
            (expert.account_id, why)
            for expert in experts
            if (why := conflict(expert, team, agreement_sha256=agreement)) is not None
        ]
    return found


def _held(contest_id: UUID, track: int) -> dict[str, list[str]]:
    """Per pseudonym of a held report, the kinds of what it showed (as recorded)."""
    return {
        review.pseudonym: list(review.report["hit_kinds"])
        for review in judging_desk().judging.reviews(contest_id, track)
        if review.report_held
    }


def _track() -> int:
    track = request.args.get("track", type=int) or 7
    if track not in TRACKS:
        raise ServiceRefused(_("There is no track %(t)s.", t=track))
    return track


@blueprint.route("/judging", methods=["GET", "POST"])
@admits(Role.ORGANISER)
def judging() -> Any:
    """A track's review; POST prepares it (as ``judging prepare``) and shows what the check
    of each report found, names included: the organiser asks the team for a clean one."""
    contest, track = the_contest(), _track()
    lines: list[dict[str, Any]] = []
    if contest is not None:
        jd = judging_desk()
        if request.method == "POST" and checked(FlaskForm()):
            with acting(_("The review is prepared.")):
                lines = prepare_review(jd, current_user.actor, contest.id, track)
        if not lines:
            lines = review_progress(jd, contest.id, track)
    return render_template(
        "organiser/judging.html",
        contest=contest,
        track=track,
        tracks=TRACKS,
        lines=lines,
        experts_of=_experts_of(contest.id, track) if contest else {},
        conflicts=_conflicts(contest.id, track) if contest else {},
        held=_held(contest.id, track) if contest else {},
        standings=_standings(contest.id, track) if contest else [],
        publish=PublishForm(prefix="publish"),
        final=FinalForm(prefix="final"),
        finalists=_finalists(contest.id, track) if contest else [],
        final_lines=_final_lines(contest.id, track) if contest else [],
        prepare=FlaskForm(),
    )


def _experts_of(contest_id: UUID, track: int) -> dict[str, list[UUID]]:
    return {
        line.pseudonym: list(line.experts)
        for line in judging_desk().reads().judging.reviews(contest_id, track)
    }


def _standings(contest_id: UUID, track: int) -> list[dict[str, Any]]:
    jd = judging_desk()
    try:
        names = jd.team_names(contest_id)
        return [{"team": names[s.team_id], **s.record()} for s in jd.standings(contest_id, track)]
    except DomainError:  # no rules published yet: no standings to show
        return []


def _finalists(contest_id: UUID, track: int) -> list[dict[str, Any]]:
    app = judging_desk().judging
    found = app.final_round(contest_id, track)
    return [{"team": app.team(f["team_id"]).name, **f} for f in found.finalists]


def _final_lines(contest_id: UUID, track: int) -> list[dict[str, Any]]:
    jd = judging_desk()
    if not jd.judging.final_round(contest_id, track).finalists:
        return []
    return [
        {"team": jd.judging.team(line["team_id"]).name, **line}
        for line in final_standings(jd, contest_id, track)
    ]


@blueprint.route("/results/publish", methods=["POST"])
@admits(Role.ORGANISER)
def publish() -> Any:
    track = _track()
    form = PublishForm(prefix="publish")
    if checked(form):
        with acting():
            number = publish_results(
                judging_desk(),
                current_user.actor,
                require_contest().id,
                track,
                mode=form.mode.data,
                freeze_at=_freeze_at(form.freeze_at.data),
                signer=signer(form),
            )
            flash(_("Publication %(n)s of track %(t)s is out.", n=number, t=track), "info")
    return back("organiser.judging", track=track)


def _freeze_at(text: str | None) -> datetime:
    """The freeze instant as given (a time without a zone is Asia/Shanghai); now if empty."""
    if not text:
        return desk().now
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ServiceRefused(_("%(text)s is not an ISO time.", text=text)) from None
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


@blueprint.route("/final/<any(advance, award):step>", methods=["POST"])
@admits(Role.ORGANISER)
def final(step: str) -> Any:
    """Names the finalists (as ``final advance``) or gives the awards (``final award``)."""
    track = _track()
    form = FinalForm(prefix="final")
    if checked(form):
        done = _("The finalists are named.") if step == "advance" else _("The awards are given.")
        with acting(done):
            decide = advance if step == "advance" else award
            decide(judging_desk(), current_user.actor, require_contest().id, track, signer(form))
    return back("organiser.judging", track=track)


@blueprint.route("/final/certificate/<uuid:team_id>")
@admits(Role.ORGANISER)
def certificate_pdf(team_id: UUID) -> Any:
    track = _track()
    data, _position, _leaf = certificate(judging_desk(), require_contest(), track, team_id)
    name = f"certificate-{track}-{team_id}.pdf"
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
