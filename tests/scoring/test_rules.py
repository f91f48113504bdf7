"""The rules document: shipped defaults, fingerprint, and errors that name the bad key."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from scoring.rules import RulesInvalid, default_rules_path, load_rules, parse_rules, rules_sha256

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
