"""Per-label temperature scaling and decision thresholds, both fitted on the dev split only."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.metrics import log_loss, precision_recall_curve


def fit_temperatures(logits: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    """The temperature per label that minimises dev log-loss of sigmoid(logit / T)."""
    temperatures = []
    for i in range(logits.shape[1]):
        def loss(log_t: float, i: int = i) -> float:
            prob = 1.0 / (1.0 + np.exp(-logits[:, i] / np.exp(log_t)))
            return log_loss(y_true[:, i], np.clip(prob, 1e-7, 1 - 1e-7), labels=[0, 1])

        temperatures.append(float(np.exp(minimize_scalar(loss, bounds=(-2.5, 2.5), method="bounded").x)))
    return np.array(temperatures)


def fit_thresholds(y_true: np.ndarray, scores: np.ndarray, floor: float = 0.05, ceiling: float = 0.95) -> np.ndarray:
    """The per-label score threshold with the best dev F1, kept inside [floor, ceiling]."""
    thresholds = []
    for i in range(scores.shape[1]):
        if not 0 < y_true[:, i].sum() < len(y_true):
            thresholds.append(0.5)  # a label the dev part never (or always) has: nothing to fit
            continue
        precision, recall, candidates = precision_recall_curve(y_true[:, i], scores[:, i])
        f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
        usable = (candidates >= floor) & (candidates <= ceiling)
        if not usable.any():
            thresholds.append(0.5)
            continue
        best = np.argmax(np.where(usable, f1, -1.0))
        # Midway to the next lower candidate score, so the choice is not on a single dev example.
        lower = candidates[best - 1] if best > 0 else candidates[best]
        thresholds.append(float(np.clip((candidates[best] + lower) / 2, floor, ceiling)))
    return np.array(thresholds)
