"""The judging part of the README demo: the second half of the contest, after the automated
scores. Six experts and two arbitrators are enrolled, sign the confidentiality agreement and
declare their ties; each track's entries are reviewed anonymously and graded; the organiser
publishes the results; one appeal is upheld and re-scored from the recorded inputs, one is
dismissed; the finalists are named, scored on site and awarded; each awarded team gets its
certificate. It calls the same steps as the commands (services/judging_steps.py).

Its own timeline starts on 2 October 2026, after the preliminary round.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from demo.registration import DemoAccount, personal_signer
from domain.accounts import PRIVILEGED, Account, Actor, Role
from domain.judging import Judging
from domain.registration import Registration
from domain.signatures import Signer
from domain.time import SHANGHAI
from ledger.application import open_application
from ledger.settings import Settings
from services import totp
from services.credentials import Credential, seal_credential
from services.desk import Desk
from services.judging_steps import (
    JudgingDesk,
    advance,
    award,
    carry_out_rescore,
    certificate,
    prepare_review,
    publish_results,
)

JUDGING_START = datetime(2026, 10, 2, 9, 0, tzinfo=SHANGHAI)
FINAL_DAY = datetime(2026, 10, 13, 9, 0, tzinfo=SHANGHAI)
EXPERTS = tuple(f"expert-{n}" for n in range(1, 7))
ARBITRATORS = ("arbitrator-1", "arbitrator-2")
COMPLIANCE = "compliance-1"
_ROLE_NAMES = {
    Role.EXPERT: "expert",
    Role.ARBITRATOR: "arbitrator",
    Role.COMPLIANCE_OFFICER: "compliance officer",
}
AGREEMENT = "保密协议：评审材料与数据只进不出。\nConfidentiality: data goes in, never out.\n"
REASONS = {
    "appeal": "We believe the recorded quality figure does not match our predictions.",
    "upheld": "Re-scored from the recorded inputs under rules version 1.",
    "dismissed": "The efficiency figure follows the published reference time.",
}


@dataclasses.dataclass
class Person:
    actor: Actor
    signer: Signer
    password: str = ""
    totp: str | None = None  # the second factor's secret, for a privileged role


def clock_from(start: datetime) -> Iterator[datetime]:
    return iter(start + timedelta(minutes=10 * step) for step in range(10_000))


def panel_member(desk: Desk, organiser: Actor, login: str, role: Role, now: datetime) -> Person:
    """An account the organiser opens, whose owner then sets their own password (and so a
    key pair of their own, which alone may sign) and, in a privileged role, enrols a TOTP
    second factor, as they must before signing in."""
    vault, blobs, app = desk.vault, desk.blobs, desk.app
    login_key = vault.keyed_hash(login)
    account_id = Account.create_id(login_key)
    first, public_key = Credential.new(login, secrets.token_urlsafe(12))
    name = json.dumps({"name": f"Demo {login}"}).encode()
    app.open_account(
        login_key=login_key, role=role, credential=seal_credential(vault, blobs, account_id, first),
        actor=organiser, now=now, person=vault.seal_to(blobs, account_id, name),
        public_key=public_key.hex(),
    )  # fmt: skip
    actor = app.account(account_id).actor
    password = secrets.token_urlsafe(12)
    own, own_key = Credential.new(login, password)
    app.take_own_key(credential=seal_credential(vault, blobs, account_id, own),
                     public_key=own_key.hex(), actor=actor, now=now)  # fmt: skip
    secret = None
    if role in PRIVILEGED:
        secret = totp.new_secret()
        with_code = dataclasses.replace(own, totp_secret=secret)
        app.enrol_second_factor(credential=seal_credential(vault, blobs, account_id, with_code),
                                actor=actor, now=now)  # fmt: skip
    return Person(actor, personal_signer(own, password), password, secret)


def enrol_panel(
    desk: Desk, contest_id: UUID, organiser: Person, clock: Iterator[datetime]
) -> dict[str, Person]:
    app, blobs = desk.app, desk.blobs
    data = AGREEMENT.encode()
    sha256 = hashlib.sha256(data).hexdigest()
    app.publish_agreement(contest_id, sha256=sha256, blob=blobs.put(data),
                          actor=organiser.actor, now=next(clock),
                          signer=organiser.signer)  # fmt: skip
    people = {}
    for login in (*EXPERTS, *ARBITRATORS):
        role = Role.EXPERT if login in EXPERTS else Role.ARBITRATOR
        person = panel_member(desk, organiser.actor, login, role, next(clock))
        app.enrol_expert(contest_id, person.actor.account_id, fields=["医学影像"],
                         organisations=[f"评审单位 {login}"], actor=organiser.actor,
                         now=next(clock))  # fmt: skip
        app.sign_agreement(person.actor.account_id, agreement_sha256=sha256, actor=person.actor,
                           now=next(clock), signer=person.signer)  # fmt: skip
        # arbitrator-2 declares a tie to the yongjiang team's university: never theirs
        ties = ["广西示例大学"] if login == "arbitrator-2" else []
        app.declare_ties(person.actor.account_id, organisations=ties, identity_keys=[],
                         actor=person.actor, now=next(clock), signer=person.signer)  # fmt: skip
        people[login] = person
    return people


def play_judging(
    settings: Settings, registration: Registration, summary: dict[str, Any]
) -> dict[str, Any]:
    """The second half of the contest; what happened, for the demo's summary."""
    clock = clock_from(JUDGING_START)
    signers = summary["signers"]
    organiser = Person(
        registration.account_by_login(Desk.open().vault.keyed_hash("organiser")).actor,
        signers["organiser"],
    )

    def at(moment: datetime) -> JudgingDesk:
        desk = dataclasses.replace(Desk.open(), now=moment)
        return JudgingDesk(desk, open_application(Judging, settings))

    jd = at(next(clock))
    contest = jd.desk.contest(None)
    panel = enrol_panel(jd.desk, contest.id, organiser, clock)
    compliance = panel_member(jd.desk, organiser.actor, COMPLIANCE, Role.COMPLIANCE_OFFICER,
                              next(clock))  # fmt: skip
    tracks = sorted(
        {track for team in summary["teams"].values() if team["status"] == "approved"
         and not team["disqualified"] for track in registration.team(team["id"]).tracks}
    )  # fmt: skip
    outcome: dict[str, Any] = {"tracks": {}, "appeals": [], "certificates": []}
    outcome["accounts"] = [
        DemoAccount(login, role, person.password, person.totp)
        for login, person in (*panel.items(), (COMPLIANCE, compliance))
        for role in [_ROLE_NAMES[person.actor.role]]
    ]
    for track in tracks:
        jd = at(next(clock))
        entries = prepare_review(jd, organiser.actor, contest.id, track)
        for review in jd.judging.reviews(contest.id, track):
            for expert in review.current["experts"]:
                person = next(p for p in panel.values() if p.actor.account_id == expert)
                grade = (
                    3
                    + int(hashlib.sha256(f"{review.pseudonym}{expert}".encode()).hexdigest(), 16)
                    % 3
                )
                jd = at(next(clock))
                rubric = jd.rules(contest.id)[0].expert_rubric
                jd.judging.score_review(
                    contest.id, review.pseudonym, grades=dict.fromkeys(rubric.dimensions, grade),
                    dimensions=rubric.dimensions, levels=sorted(rubric.grades),
                    actor=person.actor, now=jd.desk.now, signer=person.signer,
                )  # fmt: skip
        jd = at(next(clock))
        publish_results(jd, organiser.actor, contest.id, track, mode="full",
                        freeze_at=jd.desk.now, signer=organiser.signer)  # fmt: skip
        outcome["tracks"][track] = {"entries": len(entries)}
    outcome["appeals"] = play_appeals(at, clock, contest.id, summary, panel, organiser)
    final_clock = clock_from(FINAL_DAY)
    for track in tracks:
        jd = at(next(final_clock))
        finalists = advance(jd, organiser.actor, contest.id, track, organiser.signer)
        names = tuple(jd.rules(contest.id)[0].final.weights)
        for finalist in finalists:
            for login in EXPERTS[:2]:
                jd = at(next(final_clock))
                jd.judging.score_final(
                    contest.id, track, finalist["team_id"], dimensions=dict.fromkeys(names, 85.0),
                    names=names, scale_max=jd.rules(contest.id)[0].final.scale_max,
                    actor=panel[login].actor, now=jd.desk.now, signer=panel[login].signer,
                )  # fmt: skip
        jd = at(next(final_clock))
        for given in award(jd, organiser.actor, contest.id, track, organiser.signer):
            data, position, _ = certificate(jd, contest, track, given["team_id"])
            path = _certificate_path(settings, track, jd.judging.team(given["team_id"]).name)
            path.write_bytes(data)
            outcome["certificates"].append((track, given["award"], position, path))
    return outcome


def play_appeals(
    at: Any, clock: Iterator[datetime], contest_id: UUID, summary: dict[str, Any],
    panel: dict[str, Person], organiser: Person,
) -> list[str]:  # fmt: skip
    """Two appeals on the reviewed entries, by different teams where there are two: the first
    against its quality, upheld with a re-score from the recorded inputs; the second against
    its efficiency, dismissed."""
    jd = at(next(clock))
    entries = sorted(jd.judging.reviews(contest_id), key=lambda r: (r.track, r.pseudonym))
    chosen = entries[:1]
    chosen += [r for r in entries if r.team_id != entries[0].team_id][:1] if entries else []
    told = []
    for review, (item, outcome) in zip(
        chosen, (("quality", "upheld"), ("efficiency", "dismissed")), strict=False
    ):
        jd = at(next(clock))
        leader = Person(_leader(jd, review.team_id), summary["leaders"][review.team_id])
        rules = jd.rules(contest_id)[0].appeals
        reasons = jd.desk.vault.seal_to(jd.desk.blobs, review.team_id, REASONS["appeal"].encode())
        appeal_id = jd.judging.file_appeal(
            review.team_id, review.track, item=item, reasons_sha256=reasons, evidence=[],
            items=rules.items, window_days=rules.window_days, one_per_item=rules.one_per_item,
            arbitrators=rules.arbitrators, actor=leader.actor, now=jd.desk.now,
            signer=leader.signer,
        )  # fmt: skip
        name, found = jd.judging.team(review.team_id).name, jd.judging.appeal(appeal_id)
        if not found.arbitrators:
            told.append(f"{name}, track {review.track}, {item}: waiting ({found.waiting})")
            continue
        arbitrator = next(p for p in panel.values() if p.actor.account_id == found.arbitrators[0])
        ruling = jd.desk.vault.seal_to(jd.desk.blobs, review.team_id, REASONS[outcome].encode())
        jd = at(next(clock))
        jd.judging.rule(
            appeal_id, outcome=outcome,
            remedy={"kind": "rescore", "rules_version": 1} if outcome == "upheld" else None,
            reasons_sha256=ruling, remedies=rules.remedies, actor=arbitrator.actor,
            now=jd.desk.now, signer=arbitrator.signer,
        )  # fmt: skip
        if outcome == "upheld":
            carry_out_rescore(at(next(clock)), organiser.actor, appeal_id)
        told.append(f"{name}, track {review.track}, {item}: {outcome}")
    return told


def _leader(jd: JudgingDesk, team_id: UUID) -> Actor:
    team = jd.judging.team(team_id)
    leader = next(m for m in team.members if m["leader"])
    return jd.judging.account(leader["account_id"]).actor


def _certificate_path(settings: Settings, track: int, team_name: str) -> Path:
    folder = settings.home / "demo-data" / "certificates"
    folder.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() else "-" for c in team_name)
    return folder / f"track-{track}-{safe}.pdf"
