"""The rules document: shipped defaults, fingerprint, and errors that name the bad key."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from domain.retention import STORE_KINDS
from scoring.rules import (
    APPEAL_ITEMS,
    REMEDIES,
    RETENTION_KINDS,
    RulesInvalid,
    default_rules_path,
    load_rules,
    parse_rules,
    rules_sha256,
)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = default_rules_path().read_bytes()


def _edited(change) -> bytes:
    document = yaml.safe_load(DEFAULT)
    change(document)
    return yaml.safe_dump(document).encode()


def test_shipped_rules_are_the_documented_example_byte_for_byte():
    assert (ROOT / "docs" / "examples" / "rules-2026.yaml").read_bytes() == DEFAULT


def test_defaults_carry_the_published_figures():
    rules = load_rules()
    assert rules.version == "2026.1"
    assert dict(rules.weights) == {"quality": 0.60, "efficiency": 0.10, "expert": 0.30}
    assert set(rules.final_weights.values()) == {0.25}
    assert rules.authenticity.macro_f1_min == 0.90
    assert rules.authenticity.false_rejection_max == 0.05
    assert rules.conformity.duplicate_pair_f1_min == 0.90
    assert rules.track(1).params["fp_rates"] == (0.125, 0.25, 0.5, 1, 2, 4, 8)
    assert rules.track(2).params["surface_dice_tolerance_mm"] == (1.0331, 1.1329, 1.1498)
    assert rules.track(4).params["hd95_empty_penalty_mm"] == 374
    assert rules.track(3).params["fp_rates"] == (0.5, 1, 2)
    assert len(rules.track(8).params["labels"]) == 14
    assert rules.tie_break == ("primary_metric", "efficiency", "submission_time")
    assert rules.expert_rubric.top_grade == 5


def test_defaults_carry_the_judging_appeal_and_final_rules():
    rules = load_rules()
    review = rules.review
    assert (review.experts_per_submission, review.aggregation, review.trim) == (3, "mean", 0)
    assert review.one_expert_per_team is True
    appeals = rules.appeals
    assert appeals.window_days == 5
    assert appeals.items == APPEAL_ITEMS
    assert appeals.remedies == REMEDIES
    assert appeals.one_per_item is True
    assert appeals.arbitrators == 1
    final = rules.final
    assert final.advance_per_track == 3
    assert final.scale_max == 100
    assert final.weights is rules.final_weights
    assert [(a.key, a.places) for a in final.awards] == [
        ("first_prize", 1),
        ("second_prize", 1),
        ("third_prize", 1),
    ]
    assert [a.name["zh"] for a in final.awards] == ["一等奖", "二等奖", "三等奖"]
    assert final.awards[0].name["en"] == "First prize"


def test_defaults_carry_the_retention_periods():
    retention = load_rules().retention
    assert (retention.models_days, retention.predictions_days, retention.testsets_days) == (
        180,
        180,
        365,
    )
    assert [retention.days(kind) for kind in RETENTION_KINDS] == [180, 180, 365]
    assert RETENTION_KINDS == STORE_KINDS  # the rules name exactly the stores the domain knows


def test_a_retention_of_zero_days_is_accepted():
    def change(document):
        document["retention"].update(models_days=0, predictions_days=0, testsets_days=0)

    assert parse_rules(_edited(change)).retention.days("testsets") == 0


def _trimmed(experts, trim):
    def change(document):
        document["preliminary"]["review"].update(
            experts_per_submission=experts, aggregation="trimmed_mean", trim=trim
        )

    return change


def test_a_trimmed_mean_within_bounds_is_accepted():
    review = parse_rules(_edited(_trimmed(5, 2))).review
    assert (review.experts_per_submission, review.aggregation, review.trim) == (
        5,
        "trimmed_mean",
        2,
    )


def test_an_appeal_may_be_limited_to_some_items_and_remedies():
    def change(document):
        document["appeals"].update(items=["gates", "quality"], remedies=["rescore"])

    appeals = parse_rules(_edited(change)).appeals
    assert (appeals.items, appeals.remedies) == (("gates", "quality"), ("rescore",))


def test_sha256_is_over_the_exact_bytes():
    assert rules_sha256(DEFAULT) == hashlib.sha256(DEFAULT).hexdigest()
    assert load_rules().sha256 == rules_sha256(DEFAULT)
    # The same rules with one more trailing newline are another document.
    assert parse_rules(DEFAULT + b"\n").sha256 != load_rules().sha256


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda d: d.pop("version"), "version"),
        (
            lambda d: d["gates"]["authenticity"].update(macro_f1_min=1.5),
            "gates.authenticity.macro_f1_min",
        ),
        (
            lambda d: d["gates"]["conformity"].update(stiched_f1_min=0.9),
            "gates.conformity.stiched_f1_min",
        ),
        (lambda d: d["tracks"][1].update(fp_rates=[1, 0.5]), "tracks.1.fp_rates"),
        (lambda d: d["tracks"][3].update(primary="cpm"), "tracks.3.primary"),
        (lambda d: d["tracks"].pop(5), "tracks.5"),
        (
            lambda d: d["tracks"][2].update(surface_dice_tolerance_mm=[1.0]),
            "tracks.2.surface_dice_tolerance_mm",
        ),
        (lambda d: d["tracks"][7].update(t_ref_seconds=0), "tracks.7.t_ref_seconds"),
        (lambda d: d["tracks"][8].update(labels=["Mass", "Mass"]), "tracks.8.labels"),
        (lambda d: d["preliminary"]["weights"].update(quality=0.7), "preliminary.weights"),
        (
            lambda d: d["preliminary"]["expert_rubric"]["grades"].update({7: ""}),
            "preliminary.expert_rubric.grades.7",
        ),
        (lambda d: d.update(tie_break=["luck"]), "tie_break"),
        (
            lambda d: d["gates"]["authenticity"].update(classes=["human", "phantom"]),
            "gates.authenticity.classes",
        ),
        # preliminary.review
        (lambda d: d["preliminary"].pop("review"), "preliminary.review"),
        (
            lambda d: d["preliminary"]["review"].pop("one_expert_per_team"),
            "preliminary.review.one_expert_per_team",
        ),
        (
            lambda d: d["preliminary"]["review"].update(experts_per_submission=0),
            "preliminary.review.experts_per_submission",
        ),
        (
            lambda d: d["preliminary"]["review"].update(experts_per_submission=3.0),
            "preliminary.review.experts_per_submission",
        ),
        (
            lambda d: d["preliminary"]["review"].update(aggregation="median"),
            "preliminary.review.aggregation",
        ),
        (lambda d: d["preliminary"]["review"].update(trim=1), "preliminary.review.trim"),
        (lambda d: d["preliminary"]["review"].update(trim=-1), "preliminary.review.trim"),
        (_trimmed(4, 1), "preliminary.review.aggregation"),
        (_trimmed(5, 0), "preliminary.review.trim"),
        (_trimmed(5, 3), "preliminary.review.trim"),
        (_trimmed(6, 3), "preliminary.review.trim"),
        (
            lambda d: d["preliminary"]["review"].update(one_expert_per_team="yes"),
            "preliminary.review.one_expert_per_team",
        ),
        (
            lambda d: d["preliminary"]["review"].update(expert_per_team=True),
            "preliminary.review.expert_per_team",
        ),
        # appeals
        (lambda d: d.pop("appeals"), "appeals"),
        (lambda d: d["appeals"].pop("window_days"), "appeals.window_days"),
        (lambda d: d["appeals"].update(window_days=0), "appeals.window_days"),
        (lambda d: d["appeals"].update(window_days=True), "appeals.window_days"),
        (lambda d: d["appeals"].update(items=[]), "appeals.items"),
        (lambda d: d["appeals"].update(items=["quality", "ranking"]), "appeals.items"),
        (lambda d: d["appeals"].update(items=["gates", "gates"]), "appeals.items"),
        (lambda d: d["appeals"].update(remedies=["refund"]), "appeals.remedies"),
        (lambda d: d["appeals"].update(remedies=[]), "appeals.remedies"),
        (lambda d: d["appeals"].update(one_per_item=1), "appeals.one_per_item"),
        (lambda d: d["appeals"].update(arbitrators=0), "appeals.arbitrators"),
        (lambda d: d["appeals"].pop("arbitrators"), "appeals.arbitrators"),
        (lambda d: d["appeals"].update(deadline=3), "appeals.deadline"),
        # final
        (lambda d: d["final"].pop("advance_per_track"), "final.advance_per_track"),
        (lambda d: d["final"].update(advance_per_track=0), "final.advance_per_track"),
        (lambda d: d["final"].update(scale_max=0), "final.scale_max"),
        (lambda d: d["final"].update(scale_max="100"), "final.scale_max"),
        (
            lambda d: d["final"]["weights"].pop("engineering_and_wide_use"),
            "final.weights.engineering_and_wide_use",
        ),
        (lambda d: d["final"]["weights"].update(engineering_and_wide_use=0.5), "final.weights"),
        (lambda d: d["final"].update(awards=[]), "final.awards"),
        (lambda d: d["final"].update(awards={"first_prize": 1}), "final.awards"),
        (lambda d: d["final"].update(advance_per_track=2), "final.awards"),
        (lambda d: d["final"]["awards"][1].update(key="first_prize"), "final.awards"),
        (lambda d: d["final"]["awards"][0].update(key="First prize"), "final.awards[0].key"),
        (lambda d: d["final"]["awards"][2].pop("places"), "final.awards[2].places"),
        (lambda d: d["final"]["awards"][2].update(places=0), "final.awards[2].places"),
        (lambda d: d["final"]["awards"][1]["name"].pop("en"), "final.awards[1].name.en"),
        (lambda d: d["final"]["awards"][1]["name"].update(zh=" "), "final.awards[1].name.zh"),
        (
            lambda d: d["final"]["awards"][1]["name"].update(fr="Deuxième"),
            "final.awards[1].name.fr",
        ),
        (lambda d: d["final"]["awards"][0].update(money=1), "final.awards[0].money"),
        (lambda d: d["final"]["awards"].__setitem__(0, "first_prize"), "final.awards[0]"),
        (lambda d: d["final"].update(prizes=[]), "final.prizes"),
        # retention
        (lambda d: d.pop("retention"), "retention"),
        (lambda d: d.update(retention=[180, 180, 365]), "retention"),
        (lambda d: d["retention"].pop("models_days"), "retention.models_days"),
        (lambda d: d["retention"].pop("testsets_days"), "retention.testsets_days"),
        (lambda d: d["retention"].update(predictions_days=-1), "retention.predictions_days"),
        (lambda d: d["retention"].update(models_days=0.5), "retention.models_days"),
        (lambda d: d["retention"].update(models_days=True), "retention.models_days"),
        (lambda d: d["retention"].update(testsets_days="365"), "retention.testsets_days"),
        (lambda d: d["retention"].update(personal_data_days=0), "retention.personal_data_days"),
        (lambda d: d["retention"].update(reports_days=30), "retention.reports_days"),
    ],
)
def test_a_bad_rules_document_names_the_bad_key(change, key):
    with pytest.raises(RulesInvalid) as caught:
        parse_rules(_edited(change))
    assert caught.value.key == key
    assert key in str(caught.value)


def test_not_yaml_is_refused():
    with pytest.raises(RulesInvalid, match="not valid YAML"):
        parse_rules(b"version: [unclosed")
