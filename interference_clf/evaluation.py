"""Evaluation: how well scores match gold labels, per label and per language.

All metrics come from scikit-learn (an optional dependency: ``pip install
interference-clf[eval]``); this module only arranges them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .data import LabelledData, read_labelled
from .labels import LABELS

CALIBRATION_BINS = 10


def _sklearn_metrics():
    try:
        from sklearn import metrics
    except ImportError as error:  # pragma: no cover - exercised only without the extra
        raise ImportError("evaluation needs scikit-learn: pip install 'interference-clf[eval]'") from error
    return metrics


def expected_calibration_error(y_true: np.ndarray, scores: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Mean |accuracy - confidence| over equal-width score bins, weighted by bin size, pooled over labels."""
    truth, prob = np.asarray(y_true).ravel(), np.asarray(scores).ravel()
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(prob, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        chosen = which == b
        if chosen.any():
            total += chosen.sum() * abs(truth[chosen].mean() - prob[chosen].mean())
    return float(total / max(len(prob), 1))


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Micro/macro and per-label P/R/F1, exact match, none-vs-threat accuracy."""
    metrics = _sklearn_metrics()
    y_true, y_pred = np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)
    p, r, f, support = metrics.precision_recall_fscore_support(y_true, y_pred, average=None, zero_division=0)
    result = {
        "n": len(y_true),
        "micro_f1": float(metrics.f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "macro_f1": float(metrics.f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "exact_match": float(metrics.accuracy_score(y_true, y_pred)),
        "none_vs_threat_accuracy": float(metrics.accuracy_score(y_true.any(1), y_pred.any(1))),
        "per_label": {
            label: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(support[i])}
            for i, label in enumerate(LABELS)
        },
    }
    return result


def evaluate(
    y_true: np.ndarray,
    scores: np.ndarray,
    thresholds: Sequence[float] | np.ndarray,
    languages: Sequence[str] | None = None,
) -> dict:
    """Everything a report needs, as plain JSON-able values."""
    metrics = _sklearn_metrics()
    y_true = np.asarray(y_true, dtype=int)
    scores = np.asarray(scores, dtype=float)
    if y_true.shape != scores.shape or y_true.ndim != 2 or y_true.shape[1] != len(LABELS):
        raise ValueError(f"y_true {y_true.shape} and scores {scores.shape} must both be (n, {len(LABELS)})")
    y_pred = (scores >= np.asarray(thresholds)[None, :]).astype(int)
    result = classification_metrics(y_true, y_pred)
    result["thresholds"] = {label: float(t) for label, t in zip(LABELS, thresholds)}
    confusion = metrics.multilabel_confusion_matrix(y_true, y_pred)
    for i, label in enumerate(LABELS):
        has_both = 0 < y_true[:, i].sum() < len(y_true)
        result["per_label"][label]["average_precision"] = (
            float(metrics.average_precision_score(y_true[:, i], scores[:, i])) if has_both else None
        )
        # [[true negatives, false positives], [false negatives, true positives]]
        result["per_label"][label]["confusion"] = confusion[i].tolist()
    # How often gold label i co-occurs with predicted label j.
    result["gold_vs_predicted"] = (y_true.T @ y_pred).tolist()
    result["calibration"] = {
        "ece": expected_calibration_error(y_true, scores),
        "brier": {label: float(metrics.brier_score_loss(y_true[:, i], scores[:, i])) for i, label in enumerate(LABELS)},
    }
    if languages is not None:
        languages = np.asarray(list(languages))
        result["per_language"] = {
            lang: classification_metrics(y_true[languages == lang], y_pred[languages == lang])
            for lang in sorted(set(languages.tolist()))
        }
    result["misjudged"] = {group: len(rows) for group, rows in misjudged_rows(y_true, scores, thresholds).items()}
    return result


def misjudged_rows(
    y_true: np.ndarray,
    scores: np.ndarray,
    thresholds: Sequence[float] | np.ndarray,
    row_ids: Sequence[str] | None = None,
) -> dict[str, list[dict]]:
    """The rows a label was wrongly given to ("false espionage") or wrongly denied ("missed espionage").

    Each group lists its rows, the most confident mistakes first, with gold and predicted labels and every
    score; a row with several mistakes is in several groups. ``row_ids`` name the rows (default: row numbers).
    """
    y_true = np.asarray(y_true, dtype=int)
    scores = np.asarray(scores, dtype=float)
    y_pred = scores >= np.asarray(thresholds)[None, :]
    names = list(row_ids) if row_ids is not None else [str(i + 1) for i in range(len(y_true))]
    groups: dict[str, list[dict]] = {}
    for j, label in enumerate(LABELS):
        for kind, wrong, confidence in (("false", y_pred[:, j] & (y_true[:, j] == 0), scores[:, j]),
                                        ("missed", ~y_pred[:, j] & (y_true[:, j] == 1), -scores[:, j])):
            rows = np.flatnonzero(wrong)
            groups[f"{kind} {label}"] = [
                {
                    "row": int(i),
                    "id": names[i],
                    "gold": [name for name, on in zip(LABELS, y_true[i]) if on],
                    "predicted": [name for name, on in zip(LABELS, y_pred[i]) if on],
                    "scores": {name: round(float(v), 4) for name, v in zip(LABELS, scores[i])},
                }
                for i in rows[np.argsort(-confidence[rows], kind="stable")]
            ]
    return groups


def markdown_summary(result: dict, title: str = "Evaluation", level: int = 2) -> str:
    """The headline numbers, per-label and per-language tables as Markdown, under a heading of ``level``."""
    lines = [
        f"{'#' * level} {title}",
        "",
        f"n = {result['n']} · macro-F1 **{result['macro_f1']:.3f}** · micro-F1 {result['micro_f1']:.3f} · "
        f"exact match {result['exact_match']:.3f} · none-vs-threat accuracy {result['none_vs_threat_accuracy']:.3f}"
        + (f" · ECE {result['calibration']['ece']:.3f}" if "calibration" in result else ""),
        "",
        "| label | precision | recall | F1 | support |",
        "|---|---|---|---|---|",
    ]
    for label, row in result["per_label"].items():
        lines.append(f"| {label} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | {row['support']} |")
    if "per_language" in result:
        lines += ["", "| language | n | macro-F1 | micro-F1 | exact match | none-vs-threat |", "|---|---|---|---|---|---|"]
        for lang, row in result["per_language"].items():
            lines.append(
                f"| {lang} | {row['n']} | {row['macro_f1']:.3f} | {row['micro_f1']:.3f} | "
                f"{row['exact_match']:.3f} | {row['none_vs_threat_accuracy']:.3f} |"
            )
    return "\n".join(lines) + "\n"


def score_texts(clf: Any, texts: Sequence[str], batch_size: int = 32, show_progress: bool = True) -> np.ndarray:
    """``clf.predict_proba`` over ``texts`` in chunks, with a progress bar."""
    from .progress import progress

    scores = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
    chunk = max(batch_size * 8, 1)
    bar = progress(len(texts), "scoring", "texts", enabled=show_progress)
    for start in range(0, len(texts), chunk):
        scores[start : start + chunk] = clf.predict_proba(list(texts[start : start + chunk]), batch_size=batch_size)
        bar.update(len(texts[start : start + chunk]))
    bar.close()
    return scores


@dataclass
class Evaluation:
    """A model's scores on labelled data and the metrics of its decisions (``result``, JSON-ready)."""

    data: LabelledData
    scores: np.ndarray
    result: dict


def evaluate_classifier(clf: Any, data: Any, batch_size: int = 32, text_column: str = "text",
                        show_progress: bool = True) -> Evaluation:
    """Score ``data`` (a labelled JSONL/CSV/Parquet path, a ``datasets.Dataset``, rows or ``LabelledData``)
    with ``clf`` and measure it: per label, per language, calibration, misjudged rows by confusion."""
    labelled = data if isinstance(data, LabelledData) else read_labelled(data, text_column=text_column)
    scores = score_texts(clf, labelled.texts, batch_size, show_progress)
    thresholds = [clf.thresholds[label] for label in clf.labels]
    return Evaluation(labelled, scores, evaluate(labelled.labels, scores, thresholds, labelled.languages))
