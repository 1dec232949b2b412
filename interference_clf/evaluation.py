"""Evaluation: how well scores match gold labels, per label and per language.

All metrics come from scikit-learn (an optional dependency: ``pip install
interference-clf[eval]``); this module only arranges them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

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
    return result


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


def _plots(y_true: np.ndarray, scores: np.ndarray, result: dict, folder: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import precision_recall_curve

    written = []
    fig, ax = plt.subplots(figsize=(5, 4))
    for i, label in enumerate(LABELS):
        if 0 < y_true[:, i].sum() < len(y_true):
            precision, recall, _ = precision_recall_curve(y_true[:, i], scores[:, i])
            ax.plot(recall, precision, label=label)
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall per label", xlim=(0, 1), ylim=(0, 1.02))
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "pr_curves.png", dpi=110)
    written.append("pr_curves.png")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([0, 1], [0, 1], "k:", label="perfect")
    for i, label in enumerate(LABELS):
        true_frac, mean_score = calibration_curve(y_true[:, i], scores[:, i], n_bins=CALIBRATION_BINS)
        ax.plot(mean_score, true_frac, "o-", label=label)
    ax.set(xlabel="mean score", ylabel="fraction positive", title="Reliability diagram")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "reliability.png", dpi=110)
    written.append("reliability.png")
    plt.close(fig)

    if "per_language" in result:
        langs = list(result["per_language"])
        fig, ax = plt.subplots(figsize=(max(5, 0.5 * len(langs)), 4))
        ax.bar(langs, [result["per_language"][lang]["macro_f1"] for lang in langs])
        ax.set(ylabel="macro-F1", ylim=(0, 1), title="Macro-F1 per language")
        fig.tight_layout()
        fig.savefig(folder / "per_language.png", dpi=110)
        written.append("per_language.png")
        plt.close(fig)
    return written


def write_report(y_true: np.ndarray, scores: np.ndarray, result: dict, folder: str | Path, title: str) -> Path:
    """``metrics.json`` for machines, ``report.md`` with PNG plots for people."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
    page = [f"# {title}", "", markdown_summary(result, "Summary")]
    try:
        images = _plots(np.asarray(y_true), np.asarray(scores), result, folder)
    except ImportError:
        images = []
        page.append("_(plots skipped: matplotlib is not installed)_\n")
    page += [f"![{name}]({name})\n" for name in images]
    page += ["## Gold (rows) vs predicted (columns) label counts", "",
             "| gold \\ predicted | " + " | ".join(LABELS) + " |", "|---" * (len(LABELS) + 1) + "|"]
    page += [f"| {label} | " + " | ".join(str(v) for v in row) + " |"
             for label, row in zip(LABELS, result["gold_vs_predicted"])]
    (folder / "report.md").write_text("\n".join(page) + "\n")
    return folder / "report.md"


def read_labelled_jsonl(path: str | Path) -> tuple[list[str], np.ndarray, list[str]]:
    """Texts, a (n, 3) label matrix and languages (``"?"`` if absent) from a JSONL file.

    Each line needs ``text`` and ``labels``; ``lang`` is optional.
    """
    from .labels import to_indicator

    texts, rows, languages = [], [], []
    with open(path, encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                texts.append(record["text"])
                rows.append(to_indicator(record["labels"]))
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{path}:{line_number}: not a labelled record ({error})") from None
            languages.append(str(record.get("lang") or "?"))
    return texts, np.array(rows, dtype=int).reshape(-1, len(LABELS)), languages
