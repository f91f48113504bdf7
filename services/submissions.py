"""Submitting a model and adding a test set: the file work around the submission desk, shared
by the CLI, the web application and the demo.

The model is unpacked and stored, the report checked and sealed under the team's key, a test
set copied and hashed, all outside the domain: the domain sees only digests. Every rule that
does not need the file is checked first, so a refused team unpacks nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from uuid import UUID

from domain.accounts import Actor
from domain.contest import Contest
from domain.submissions import Submissions
from ledger.application import open_application
from services.desk import Desk
from services.strict_files import FileInvalid
from services.uploads import read_pdf
from workers.models import (
    FolderStore,
    IntakeRefused,
    StoredModel,
    add_bundle,
    docker_inspect,
    model_store,
    resolve_image,
    take_model,
    testset_store,
)

TESTSET_FILES = ("input/cases.json", "truth/truth.json")


@dataclass
class RoundDesk:
    """The registration desk (accounts, contests) and the submission desk on one ledger."""

    desk: Desk
    submissions: Submissions

    @classmethod
    def open(cls) -> RoundDesk:
        desk = Desk.open()
        return cls(desk, open_application(Submissions, desk.settings))


SUBMIT_STEPS = ("check", "report", "model", "record")
ModelKind = Literal["any", "bundle", "image"]


def submit_model(
    round_desk: RoundDesk,
    team_id: UUID,
    track: int,
    model: str,
    report: Path,
    acting: Actor,
    step: Callable[[str], None] | None = None,
    kind: ModelKind = "any",
) -> UUID:
    """Check, store and record one submission; the CLI, the web and the demo come through here.

    ``step``, when given, is called with each of SUBMIT_STEPS as it begins (for progress).
    ``kind``: what ``model`` may be. The CLI's ``any`` takes a path or an image reference; the
    web says which it received (``bundle``: an uploaded archive's path; ``image``: a reference
    typed into a form, never looked up as a path on the server)."""
    desk, app = round_desk.desk, round_desk.submissions
    begin = step or (lambda name: None)
    # Every rule that does not need the model first: a refused team unpacks nothing.
    begin("check")
    app.require_eligible(team_id=team_id, track=track, actor=acting, now=desk.now)
    begin("report")
    checked = read_pdf(report)
    begin("model")
    stored = _taken(model, kind, model_store(desk.settings))
    begin("record")
    # The report may name people: sealed under the team's key like every team document.
    sealed = desk.vault.seal_to(desk.blobs, team_id, checked.data)
    try:
        return app.submit(
            team_id=team_id,
            track=track,
            model_kind=stored.kind,
            model_ref=stored.ref,
            report_sha256=sealed,
            actor=acting,
            now=desk.now,
        )
    except BaseException:
        desk.blobs.discard(sealed)
        raise


def _taken(model: str, kind: ModelKind, store: FolderStore) -> StoredModel:
    if kind == "bundle":
        return add_bundle(store, Path(model))
    if kind == "image":
        if model.startswith(("/", ".", "~")) or "\\" in model:
            raise IntakeRefused(f"{model}: not an image reference")
        return resolve_image(model, docker_inspect)
    return take_model(model, store)


def add_testset(
    round_desk: RoundDesk,
    contest: Contest,
    track: int,
    folder: Path,
    acting: Actor,
    reason: str = "",
    public: bool = False,
) -> tuple[str, int]:
    """Store a hidden test set and make it the track's current one: (SHA-256, cases)."""
    desk = round_desk.desk
    contest.track(track)
    stored = testset_store(desk.settings).add(folder, required=TESTSET_FILES)
    cases = _case_count(stored.path / "input" / "cases.json")
    truth = hashlib.sha256((stored.path / "truth" / "truth.json").read_bytes()).hexdigest()
    round_desk.submissions.register_testset(
        contest.id,
        track=track,
        sha256=stored.sha256,
        truth_sha256=truth,
        cases=cases,
        actor=acting,
        now=desk.now,
        reason=reason,
        public=public,
    )
    return stored.sha256, cases


def _case_count(path: Path) -> int:
    try:
        listing = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as error:
        raise FileInvalid(path, "(cases)", f"not JSON: {error}") from None
    if not isinstance(listing, list) or not listing:
        raise FileInvalid(path, "(cases)", "must be a non-empty list of cases")
    return len(listing)
