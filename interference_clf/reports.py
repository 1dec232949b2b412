"""Evaluation reports: ``metrics.json``, the misjudged rows grouped by confusion, Markdown with plots."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .evaluation import CALIBRATION_BINS, markdown_summary, misjudged_rows
from .labels import LABELS

MARKDOWN_ROWS_PER_GROUP = 25


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


def write_report(
    folder: str | Path,
    title: str,
    y_true: np.ndarray,
    scores: np.ndarray,
    result: dict,
    texts: Sequence[str] | None = None,
    row_ids: Sequence[str] | None = None,
    languages: Sequence[str] | None = None,
) -> Path:
    """``metrics.json`` and ``misjudged.jsonl`` for machines, ``report.md`` with PNG plots for people.

    The misjudged rows are grouped by confusion (false/missed label), most confident mistakes first;
    without ``texts`` they are named by id only (for data whose text must not be copied into a report).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
    groups = misjudged_rows(y_true, scores, [result["thresholds"][label] for label in LABELS], row_ids)
    with (folder / "misjudged.jsonl").open("w", encoding="utf-8") as handle:
        for group, rows in groups.items():
            for row in rows:
                extra = {"lang": languages[row["row"]]} if languages is not None else {}
                extra.update({"text": texts[row["row"]]} if texts is not None else {})
                handle.write(json.dumps({"group": group, **row, **extra}, ensure_ascii=False) + "\n")
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
    page += ["", *misjudged_markdown(groups, texts, languages)]
    (folder / "report.md").write_text("\n".join(page) + "\n", encoding="utf-8")
    return folder / "report.md"


def misjudged_markdown(groups: dict[str, list[dict]], texts: Sequence[str] | None,
                       languages: Sequence[str] | None) -> list[str]:
    lines = ["## Misjudged rows, by confusion", "",
             "Most confident mistakes first; all of them are in `misjudged.jsonl`.", ""]
    for group, rows in groups.items():
        lines += [f"### {group} ({len(rows)})", ""]
        if not rows:
            continue
        lines += ["| id | lang | gold | predicted | " + " | ".join(LABELS) + (" | text |" if texts else ""),
                  "|---" * (4 + len(LABELS) + (1 if texts else 0)) + "|"]
        for row in rows[:MARKDOWN_ROWS_PER_GROUP]:
            cells = [row["id"], languages[row["row"]] if languages is not None else "",
                     ", ".join(row["gold"]) or "none", ", ".join(row["predicted"]) or "none",
                     *(f"{row['scores'][label]:.2f}" for label in LABELS)]
            if texts is not None:
                cells.append(_table_cell(texts[row["row"]]))
            lines.append("| " + " | ".join(cells) + " |")
        if len(rows) > MARKDOWN_ROWS_PER_GROUP:
            lines.append(f"\n… and {len(rows) - MARKDOWN_ROWS_PER_GROUP} more in `misjudged.jsonl`.")
        lines.append("")
    return lines


def _table_cell(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
