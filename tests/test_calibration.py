import numpy as np
import pytest

from interference_clf.calibration import fit_temperatures, fit_thresholds


def test_temperature_undoes_overconfidence():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 2, size=(4000, 1))
    y = (rng.random((4000, 1)) < 1 / (1 + np.exp(-true_logits))).astype(int)
    overconfident = true_logits * 3
    assert fit_temperatures(overconfident, y)[0] == pytest.approx(3.0, rel=0.15)


def test_threshold_maximises_f1():
    y = np.array([[0], [0], [0], [1], [1], [1]])
    scores = np.array([[0.1], [0.2], [0.35], [0.3], [0.6], [0.9]])
    threshold = fit_thresholds(y, scores)[0]
    predicted = scores[:, 0] >= threshold
    # Cutting at 0.3 keeps all three positives for one false positive: F1 6/7, the best available.
    assert predicted.tolist() == [False, False, True, True, True, True]
    assert threshold == pytest.approx(0.25)  # midway between the chosen score and the next lower one
