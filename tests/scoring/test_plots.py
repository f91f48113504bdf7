"""Figures render to deterministic PNG bytes."""

from __future__ import annotations

from scoring.figures import ConfusionData, FrocData, RocCurveData, RocData
from scoring.plots import render, write_figures

ROC = RocData("roc", (0, 0, 1, 1), (0.1, 0.4, 0.35, 0.8))
FROC = FrocData("froc", (1.0, 0.5, 0.0, 0.0), (1.0, 0.5, 0.5, 0.0), (0.5, 1.0), (0.5, 1.0))
CONFUSION = ConfusionData("cm", ("a", "b"), ((3, 1), (0, 2)))
CURVE = RocCurveData("roc", (0.0, 0.1, 0.4, 1.0), (0.0, 0.6, 0.9, 1.0), 0.87)


def test_each_kind_renders_a_png_and_the_same_data_the_same_bytes():
    for figure in (ROC, CURVE, FROC, CONFUSION):
        png = render(figure)
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert render(figure) == png
        assert b"Software" not in png  # no version tag that would differ between hosts


def test_other_data_draw_another_picture():
    assert render(ROC) != render(RocData("roc", (0, 0, 1, 1), (0.9, 0.4, 0.35, 0.8)))


def test_an_undefined_roc_still_draws(tmp_path):
    (path,) = write_figures([RocData("flat", (1, 1), (0.2, 0.3))], tmp_path)
    assert path.name == "flat.png" and path.read_bytes().startswith(b"\x89PNG")


def test_a_recorded_curve_draws_its_points_and_auc():
    assert render(CURVE) != render(RocCurveData("roc", (0.0, 0.5, 1.0), (0.0, 0.9, 1.0), 0.87))
    assert render(CURVE) != render(RocCurveData("roc", CURVE.fpr, CURVE.tpr, 0.91))  # legend
    for undefined in (RocCurveData("flat", (), (), None), RocCurveData("few", (0, 1), (0, 1), 0.7)):
        assert render(undefined).startswith(b"\x89PNG")
