"""Evaluation reports: ``metrics.json``, the misjudged rows grouped by confusion, Markdown and HTML with plots."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .evaluation import CALIBRATION_BINS, markdown_summary, misjudged_rows
from .evidence import evidence_fields
from .html_page import LABEL_COLOURS, chip_html, evidence_spans, html_page, write_page
from .labels import LABELS

if TYPE_CHECKING:
    from .evidence import EvidenceSpan

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
            ax.plot(recall, precision, label=label, color=LABEL_COLOURS[label])
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
        ax.plot(mean_score, true_frac, "o-", label=label, color=LABEL_COLOURS[label])
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
    evidence: Mapping[int, Mapping[str, Sequence[EvidenceSpan]]] | None = None,
) -> Path:
    """``metrics.json`` and ``misjudged.jsonl`` for machines; ``report.md`` with PNG plots, and ``index.html``, for people.

    The misjudged rows are grouped by confusion (false/missed label), most confident mistakes first;
    without ``texts`` they are named by id only (for data whose text must not be copied into a report).
    ``evidence`` (row index: the evidence of each label predicted for it, as ``predict(evidence=True)``
    gives it) is highlighted in the texts of ``index.html``, a self-contained page with the plots inside.
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
    body = html_report_body(title, result, [folder / name for name in images], texts is not None, evidence is not None)
    data = {"groups": misjudged_data(groups, texts, languages, evidence)}
    write_page(folder / "index.html", html_page(title, body, data, REPORT_JS, REPORT_CSS))
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


# ----- HTML ------------------------------------------------------------------------------


def misjudged_data(
    groups: dict[str, list[dict]],
    texts: Sequence[str] | None,
    languages: Sequence[str] | None,
    evidence: Mapping[int, Mapping[str, Sequence[EvidenceSpan]]] | None,
) -> list[dict]:
    """The misjudged rows for the HTML page; texts, and so evidence, only when ``texts`` are given."""
    data = []
    for group, rows in groups.items():
        kind, label = group.split(" ", 1)
        shown = []
        for row in rows:
            item = {"id": row["id"], "gold": row["gold"], "predicted": row["predicted"], "scores": row["scores"]}
            if languages is not None:
                item["lang"] = languages[row["row"]]
            if texts is not None:
                item["text"] = texts[row["row"]]
                item["evidence"] = evidence_spans(evidence_fields((evidence or {}).get(row["row"], {})))
            shown.append(item)
        data.append({"name": group, "kind": kind, "label": label, "rows": shown})
    return data


def html_report_body(title: str, result: dict, images: list[Path], with_texts: bool, with_evidence: bool) -> str:
    """The static part of ``index.html``: headline, tables and plots; the misjudged rows are drawn from the data."""
    parts = [f"<h1>{html.escape(title)}</h1>", _headline_html(result), "<h2>Per label</h2>", _per_label_table(result)]
    if "per_language" in result:
        parts += ["<h2>Per language</h2>", _per_language_table(result["per_language"])]
    if images:
        parts.append('<div class="plots">' + "".join(
            f'<img alt="{html.escape(image.stem)}" src="data:image/png;base64,'
            f'{base64.b64encode(image.read_bytes()).decode("ascii")}">' for image in images) + "</div>")
    parts += ["<h2>Gold (rows) vs predicted (columns) label counts</h2>", _table(
        ["gold \\ predicted", *map(chip_html, LABELS)],
        [[chip_html(label), *map(str, row)] for label, row in zip(LABELS, result["gold_vs_predicted"])])]
    if not with_texts:
        note = "Texts are not part of this report: rows are named by id only."
    elif with_evidence:
        note = "Highlighted: the evidence for each label the model gave, in that label's colour."
    else:
        note = "No evidence was computed for this report."
    parts += ["<h2>Misjudged rows, by confusion</h2>",
              f'<p class="muted">Most confident mistakes first; all of them are in misjudged.jsonl. {note}</p>',
              '<div id="misjudged"></div>']
    return "\n".join(parts)


def _headline_html(result: dict) -> str:
    numbers = [f"n = {result['n']}", f"macro-F1 <b>{result['macro_f1']:.3f}</b>", f"micro-F1 {result['micro_f1']:.3f}",
               f"exact match {result['exact_match']:.3f}",
               f"none-vs-threat accuracy {result['none_vs_threat_accuracy']:.3f}"]
    if "calibration" in result:
        numbers.append(f"ECE {result['calibration']['ece']:.3f}")
    return f'<p class="headline">{" · ".join(numbers)}</p>'


def _per_label_table(result: dict) -> str:
    rows = []
    for label, row in result["per_label"].items():
        average_precision = row.get("average_precision")
        rows.append([chip_html(label), f"{result['thresholds'][label]:.2f}", f"{row['precision']:.3f}",
                     f"{row['recall']:.3f}", f"{row['f1']:.3f}",
                     "–" if average_precision is None else f"{average_precision:.3f}", str(row["support"])])
    return _table(["label", "threshold", "precision", "recall", "F1", "average precision", "n (support)"], rows)


def _per_language_table(per_language: dict) -> str:
    rows = [[html.escape(lang), str(row["n"]), f"{row['macro_f1']:.3f}", f"{row['micro_f1']:.3f}",
             f"{row['exact_match']:.3f}", f"{row['none_vs_threat_accuracy']:.3f}"]
            for lang, row in per_language.items()]
    return _table(["language", "n", "macro-F1", "micro-F1", "exact match", "none-vs-threat"], rows)


def _table(head: list[str], rows: list[list[str]]) -> str:
    """An HTML table of cells that are already HTML (escaped text or chips)."""
    header = "".join(f"<th>{cell}</th>" for cell in head)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


REPORT_CSS = """
.headline{font-size:1.05rem}
.plots{display:flex;flex-wrap:wrap;gap:1rem}.plots img{background:#FFF;border:1px solid #DDE1E6;border-radius:8px}
details.group{margin:.6rem 0}details.group summary{cursor:pointer;font-weight:600}
.more{margin:.3rem 0}
"""

REPORT_JS = r"""
// Rows drawn at a time in a group, so a report with thousands of mistakes still opens at once.
const BATCH = 100;

function misjudgedCard(row) {
  const card = element("article", "row");
  const head = element("header");
  head.append(element("span", "id", row.id));
  if (row.lang !== undefined) head.append(element("span", "lang", row.lang));
  head.append(element("span", "muted", "gold"), labelChips(row.gold),
              element("span", "muted", "predicted"), labelChips(row.predicted), scoreList(row.scores));
  card.append(head);
  if (row.text !== undefined) card.append(textWithEvidence(row.text, row.evidence));
  return card;
}

function groupSection(group) {
  const section = element("details", "group");
  section.dataset.group = group.name;
  section.open = group.rows.length > 0;
  const summary = element("summary", "", `${group.kind} `);
  summary.append(chip(group.label), ` (${group.rows.length})`);
  const list = element("div", "rows");
  const more = element("button", "more");
  more.type = "button";
  const drawMore = () => {
    const drawn = list.childElementCount;
    list.append(...group.rows.slice(drawn, drawn + BATCH).map(misjudgedCard));
    const left = group.rows.length - list.childElementCount;
    more.hidden = left === 0;
    more.textContent = `show ${Math.min(BATCH, left)} more (${left} left)`;
  };
  more.addEventListener("click", drawMore);
  drawMore();
  section.append(summary, list, more);
  return section;
}

document.getElementById("misjudged").append(...PAGE.groups.map(groupSection));
"""
