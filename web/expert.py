"""The expert pages (docs/web/panel.md): the declarations an expert signs before any work, the
anonymised review queue, an entry's sanitised report and the rubric, graded under the expert's
signature. The same services as ``huiyan expert`` and ``huiyan judging`` (services/experts.py,
services/review_tasks.py).

Nothing here names a team: an entry is its pseudonym, its aggregate metrics and the sanitised
copy of its report, and nothing an expert can reach carries a team's name, member,
organisation or id (tests/web/test_expert.py walks every page and download and searches them).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import Field, HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Regexp

from domain.accounts import Role
from domain.errors import ExpertNotEnrolled, ReviewNotAssigned, ReviewNotFound
from scoring.rules import ExpertRubric
from services import experts, review_tasks
from services.judging_steps import tasks
from services.refusals import REFUSALS
from web.access import admits
from web.context import desk, judging_desk
from web.errors import refusal
from web.panel import as_json, embeddable, json_response, refused_here
from web.signing import SignForm, signer

blueprint = Blueprint("expert", __name__, url_prefix="/expert")
F = TypeVar("F", bound=Callable[..., Any])

# The rubric's dimensions as the 2026 rules name them; a dimension a later rules document adds
# is shown by its own name.
DIMENSIONS = {
    "innovation": _l("Innovation"),
    "reliability": _l("Reliability"),
    "technical_soundness": _l("Technical soundness"),
    "uniqueness": _l("Uniqueness"),
}
PSEUDONYM_LENGTH = 16
MAX_DECLARED = 500


# --- where the expert stands ----------------------------------------------------------------


def _standing() -> experts.Standing | None:
    """The signed-in expert's standing, or None when they are not enrolled in a contest."""
    try:
        return experts.standing(desk(), current_user.actor)
    except ExpertNotEnrolled:
        return None


def working(view: F) -> F:
    """A page of the review itself: open once the agreement in force is signed and the
    conflicts declared; until then the expert is sent to the declarations. The view gets
    the expert's standing as ``standing``."""

    @functools.wraps(view)
    def opened(*args: Any, **kwargs: Any) -> Any:
        standing = _standing()
        if standing is None:
            return redirect(url_for("expert.declarations"))
        if standing.ineligible is not None:
            flash(_("Sign the confidentiality agreement and declare your conflicts first."), "info")
            return redirect(url_for("expert.declarations"))
        return view(*args, standing=standing, **kwargs)

    return opened  # type: ignore[return-value]


# --- the declarations -----------------------------------------------------------------------


class AgreementForm(SignForm):
    sha256 = HiddenField(validators=[InputRequired(), Regexp(r"^[0-9a-f]{64}$")])


class DeclarationForm(SignForm):
    organisations = TextAreaField(
        _l("Organisations you are tied to (one a line)"), validators=[Length(max=50_000)]
    )
    people = TextAreaField(
        _l("People you are tied to, by identity document (one a line)"),
        validators=[Length(max=50_000)],
    )


@blueprint.route("/declarations")
@admits(Role.EXPERT)
def declarations() -> Any:
    return _declarations_page(AgreementForm(), DeclarationForm())


def _declarations_page(
    agreement: AgreementForm, declaration: DeclarationForm, status: int = 200
) -> Any:
    """The page, again with a refused form's errors (and a 400) when there are."""
    standing = _standing()
    if agreement.errors or declaration.errors:
        status = 400
    if standing is not None and standing.agreement is not None:
        agreement.sha256.data = standing.agreement["sha256"]
    page = render_template(
        "expert/declarations.html",
        standing=standing,
        agreement_form=agreement,
        declaration_form=declaration,
    )
    return page, status


@blueprint.route("/agreement", methods=["POST"])
@admits(Role.EXPERT)
def sign_agreement() -> Any:
    """Signs the agreement whose hash the page showed (``expert sign-agreement --sha256``):
    a version published since is refused, not signed unread."""
    form = AgreementForm()
    if not form.validate_on_submit():
        return _declarations_page(form, DeclarationForm())
    try:
        version, _sha = experts.sign_agreement(
            desk(), current_user.actor, form.sha256.data, signer(form)
        )
    except REFUSALS as error:
        flash(refusal(error), "error")
        return _declarations_page(form, DeclarationForm(), 400)
    flash(_("You signed version %(version)s of the agreement.", version=version), "info")
    return redirect(url_for("expert.declarations"))


@blueprint.route("/declaration", methods=["POST"])
@admits(Role.EXPERT)
def declare() -> Any:
    """A conflict-of-interest declaration from the form's lines (``expert declare``)."""
    form = DeclarationForm()
    if not form.validate_on_submit():
        return _declarations_page(AgreementForm(), form)
    try:
        document = {
            "organisations": _lines(form.organisations.data),
            "people": [_person(line) for line in _lines(form.people.data)],
        }
        organisations, people = experts.ties_of(Path("(form)"), document)
        number = experts.declare(desk(), current_user.actor, organisations, people, signer(form))
    except REFUSALS as error:
        flash(refusal(error), "error")
        return _declarations_page(AgreementForm(), form, 400)
    flash(_("Declaration %(number)s recorded.", number=number), "info")
    return redirect(url_for("expert.declarations"))


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()][: MAX_DECLARED + 1]


def _person(line: str) -> dict[str, Any]:
    """``id_card NUMBER`` or ``passport COUNTRY NUMBER``, as a ties file's ``identity``; the
    schema's own checks say what is wrong with a line."""
    words = line.split()
    if len(words) == 3:
        return {"identity": {"type": words[0], "country": words[1], "number": words[2]}}
    if len(words) == 2:
        return {"identity": {"type": words[0], "number": words[1]}}
    return {"identity": {"type": words[0] if words else "", "number": ""}}


# --- the queue ------------------------------------------------------------------------------


@blueprint.route("/")
@admits(Role.EXPERT)
@working
def index(standing: experts.Standing) -> Any:
    """The review queue, once the agreement is signed and the conflicts declared."""
    queue = _queue(standing)
    return render_template("expert/index.html", queue=queue)


@blueprint.route("/tasks.json")
@admits(Role.EXPERT)
@working
def tasks_json(standing: experts.Standing) -> Any:
    """The queue in JSON, as ``judging tasks`` prints it."""
    return json_response(_queue(standing))


def _queue(standing: experts.Standing) -> list[dict[str, Any]]:
    jd, acting = judging_desk(), current_user.actor
    return [
        review_tasks.task_view(jd, review, acting)
        for review in tasks(jd, standing.contest_id, acting)
    ]


# --- one entry: its report and the rubric -----------------------------------------------------


def grade_form(rubric: ExpertRubric) -> SignForm:
    """The rubric as a signed form: one choice of the described grades per dimension."""

    class GradeForm(SignForm):
        pass

    choices = [SelectChoice(grade, f"{grade} — {text}") for grade, text in rubric.grades.items()]
    for number, dimension in enumerate(rubric.dimensions):
        field = RadioField(
            DIMENSIONS.get(dimension, dimension), choices=choices, coerce=int,
            validators=[InputRequired()],
        )  # fmt: skip
        setattr(GradeForm, f"grade_{number}", field)
    return GradeForm()


def _grades(form: SignForm, rubric: ExpertRubric) -> dict[str, int]:
    fields = _fields(form, rubric)
    return {dimension: f.data for dimension, f in zip(rubric.dimensions, fields, strict=True)}


def _fields(form: SignForm, rubric: ExpertRubric) -> list[Field]:
    return [form[f"grade_{number}"] for number in range(len(rubric.dimensions))]


@blueprint.route("/tasks/<pseudonym>", methods=["GET", "POST"])
@admits(Role.EXPERT)
@working
def task(pseudonym: str, standing: experts.Standing) -> Any:
    """One entry: its figures, its sanitised report and the rubric (``judging score``)."""
    jd, acting = judging_desk(), current_user.actor
    _task(standing, pseudonym)
    rubric = review_tasks.rubric(jd, standing.contest_id)
    form = grade_form(rubric)
    status = 200
    if form.validate_on_submit():
        try:
            grades = _grades(form, rubric)
            review_tasks.score(jd, acting, standing.contest_id, pseudonym, grades, signer(form))
        except REFUSALS as error:
            flash(refusal(error), "error")
            status = 400
        else:
            flash(_("Your grades for %(pseudonym)s are signed and recorded.", pseudonym=pseudonym),
                  "info")  # fmt: skip
            return redirect(url_for("expert.task", pseudonym=pseudonym))
    elif request.method == "POST":
        status = 400
    view = next(
        (v for v in _queue(standing) if v["pseudonym"] == pseudonym),
        None,
    )
    if view is None:  # assigned in the aggregate, not yet in the read models
        abort(404)
    page = render_template(
        "expert/task.html",
        task=view,
        rubric=rubric,
        names={d: str(DIMENSIONS.get(d, d)) for d in rubric.dimensions},
        form=form,
        grade_fields=_fields(form, rubric),
        metrics=as_json(view["metrics"]),
    )
    return page, status


def _task(standing: experts.Standing, pseudonym: str) -> Any:
    """One of the expert's entries: 404 for no such pseudonym, 403 for another's."""
    if len(pseudonym) > PSEUDONYM_LENGTH:
        abort(404)
    try:
        return judging_desk().judging.task(standing.contest_id, pseudonym, current_user.actor)
    except ReviewNotFound:
        abort(404)
    except ReviewNotAssigned:
        refused_here(pseudonym)


@blueprint.route("/tasks/<pseudonym>/report.pdf")
@admits(Role.EXPERT)
@embeddable
@working
def report(pseudonym: str, standing: experts.Standing) -> Any:
    """The sanitised report, shown inline (its bytes only: no name in the file name)."""
    _task(standing, pseudonym)
    data = review_tasks.sanitised_report(
        judging_desk(), current_user.actor, standing.contest_id, pseudonym
    )
    answer = Response(data, mimetype="application/pdf")
    answer.headers["Content-Disposition"] = f'inline; filename="{pseudonym}.pdf"'
    answer.headers["Cache-Control"] = "no-store"
    return answer
