"""The review page: a labelled file, as ``interference-clf label`` writes it, as one self-contained HTML file.

The page lists every row with its label chips, its scores and its evidence highlighted in the
text; it filters the rows by label (``none`` and ``error`` included), language and minimum score,
sorts them by a label's score or the highest one, and counts the labels of the rows shown. Rows
that could not be labelled are listed with the reason, and a banner says how many there are.

It stays responsive with tens of thousands of rows: the rows live in memory as the embedded JSON,
a filter or sort is one pass over them, and only one page of ``ROWS_PER_PAGE`` rows is ever in
the document, so a row's text is cut into highlighted pieces only when its page is shown.
"""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .batch.readers import EXTENSION_FORMATS, FORMATS, SourceRow, open_source
from .html_page import evidence_spans, html_page, write_page
from .labels import LABELS

ROWS_PER_PAGE = 50
# The fields `label` adds that CSV holds as JSON text.
JSON_FIELDS = ("labels", "scores", "passages", "evidence")


class ReviewFileError(ValueError):
    """The file cannot be reviewed: it cannot be read, or it is not what ``interference-clf label`` writes."""


class _RowProblem(ValueError):
    """What is wrong with one row; the reader adds the file and the row's place."""


@dataclass(frozen=True)
class ReviewSummary:
    rows: int
    errored: int
    page: Path

    def __str__(self) -> str:
        rows = f"{self.rows} row{'' if self.rows == 1 else 's'}"
        return f"{rows} ({self.errored} that could not be labelled) in {self.page}"


# ----- reading ---------------------------------------------------------------------------


def read_review_rows(
    path: str | os.PathLike[str], *, text_key: str = "text", id_key: str = "id", fmt: str | None = None
) -> list[dict[str, Any]]:
    """The rows of a labelled JSONL, CSV or Parquet file, checked and ready to embed in the page.

    Each row has its 1-based number ``row``, ``text`` and, where the file has them, ``id`` and
    ``lang``; then ``labels``, ``scores``, ``evidence`` (``[label, start, end, score]`` lists,
    offsets in code points) and, for split documents, the number of ``passages``; or, for a row
    that could not be labelled, ``error``. Raises ``ReviewFileError`` naming the file, the row
    and the problem.
    """
    path = os.fspath(path)
    input_format = _input_format(path, fmt)
    if not Path(path).is_file():
        raise ReviewFileError(f"{path}: no such file")
    rows = []
    for number, source_row in enumerate(_source_rows(path, input_format), start=1):
        where = f"line {source_row.line}" if source_row.line is not None else f"row {number}"
        try:
            if source_row.problem is not None:
                raise _RowProblem(source_row.problem)
            rows.append(_review_row(source_row.record, number, text_key, id_key, input_format == "csv"))
        except _RowProblem as problem:
            raise ReviewFileError(f"{path}: {where}: {problem}") from None
    if not rows:
        raise ReviewFileError(f"{path}: no rows to review")
    return rows


def _input_format(path: str, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise ReviewFileError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSION_FORMATS:
        raise ReviewFileError(
            f"{path}: cannot tell the format from the extension {suffix!r}; use .jsonl, .csv or .parquet, or --format"
        )
    return EXTENSION_FORMATS[suffix]


def _source_rows(path: str, input_format: str) -> Iterator[SourceRow]:
    """The file's rows, read as ``label`` reads its input; a file that cannot be parsed at all is a ReviewFileError."""
    with ExitStack() as stack:
        try:
            yield from open_source(path, input_format, stack).rows
        except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
            raise ReviewFileError(f"{path}: cannot be read as {input_format}: {error}") from error


def _review_row(record: dict[str, Any], number: int, text_key: str, id_key: str, csv_cells: bool) -> dict[str, Any]:
    fields = {key: _decoded(record.get(key), key) if csv_cells else record.get(key) for key in JSON_FIELDS}
    row = {"row": number, "id": _optional_text(record.get(id_key)), "lang": _optional_text(record.get("lang"))}
    text = record.get(text_key)
    error = _optional_text(record.get("error"))
    if error is not None:
        # A line `label` could not parse keeps its content as `raw`, in place of the text.
        shown = text if isinstance(text, str) else record.get("raw")
        row.update(text=shown if isinstance(shown, str) else "", error=error)
    else:
        if fields["labels"] is None:
            raise _RowProblem("no 'labels' and no 'error' field: review a file written by `interference-clf label`")
        if not isinstance(text, str):
            raise _RowProblem(f"no text in the field {text_key!r} (name the text field with --text-key)")
        row.update(text=text, labels=_labels(fields["labels"]), scores=_scores(fields["scores"]),
                   evidence=evidence_spans(_evidence(fields["evidence"], len(text))))
        if fields["passages"] is not None:
            row["passages"] = _passage_count(fields["passages"])
    return {key: value for key, value in row.items() if value is not None}


def _decoded(cell: object, name: str) -> object:
    """A CSV cell of a field `label` writes as JSON; an empty cell is no value."""
    if cell == "":
        return None
    if not isinstance(cell, str):
        return cell
    try:
        return json.loads(cell)
    except json.JSONDecodeError as error:
        raise _RowProblem(f"{name!r} is not valid JSON ({error.msg} at column {error.colno}): {cell[:80]!r}") from None


def _optional_text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _labels(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(label, str) for label in value):
        raise _RowProblem(f"'labels' holds {value!r}, expected a list of label names")
    unknown = [label for label in value if label not in LABELS]
    if unknown:
        raise _RowProblem(f"'labels' holds unknown label(s) {unknown}; the labels are {list(LABELS)}")
    return value


def _scores(value: object) -> dict[str, float]:
    if not isinstance(value, dict):
        raise _RowProblem(f"'scores' holds {value!r}, expected an object of label: score")
    for label, score in value.items():
        if label not in LABELS:
            raise _RowProblem(f"'scores' has the unknown label {label!r}; the labels are {list(LABELS)}")
        if not _is_number(score) or not 0 <= score <= 1:
            raise _RowProblem(f"'scores' gives {label} the score {score!r}, expected a number from 0 to 1")
    return value


def _evidence(value: object, text_length: int) -> dict[str, list[dict]]:
    """Evidence spans, checked to lie inside the text (offsets count code points, as Python indexes a str)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _RowProblem(f"'evidence' holds {value!r}, expected an object of label: spans")
    checked = {}
    for label, spans in value.items():
        if label not in LABELS:
            raise _RowProblem(f"'evidence' has the unknown label {label!r}; the labels are {list(LABELS)}")
        checked[label] = [_span(span, label, text_length) for span in spans or []]  # Parquet: null for no spans
    return checked


def _span(span: object, label: str, text_length: int) -> dict:
    if not (isinstance(span, dict) and all(isinstance(span.get(k), int) for k in ("start", "end"))
            and _is_number(span.get("score"))):
        raise _RowProblem(f"'evidence' for {label} holds {span!r}, expected {{\"start\": int, \"end\": int, "
                          f"\"score\": number}}")
    if not 0 <= span["start"] < span["end"] <= text_length:
        raise _RowProblem(f"'evidence' for {label} spans characters {span['start']}-{span['end']} but the text has "
                          f"{text_length}: is the text in another field (--text-key)?")
    return span


def _passage_count(value: object) -> int:
    if not isinstance(value, list):
        raise _RowProblem(f"'passages' holds {value!r}, expected a list")
    return len(value)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# ----- the page --------------------------------------------------------------------------


def review_html(rows: list[dict[str, Any]], title: str) -> str:
    """The whole review page for rows from ``read_review_rows``."""
    body = REVIEW_BODY.replace("{title}", html.escape(title))
    return html_page(title, body, {"rows": rows, "rowsPerPage": ROWS_PER_PAGE}, REVIEW_JS, REVIEW_CSS)


def write_review(
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    text_key: str = "text",
    id_key: str = "id",
    fmt: str | None = None,
) -> ReviewSummary:
    """Read a labelled file and write its review page to ``output_path``."""
    rows = read_review_rows(input_path, text_key=text_key, id_key=id_key, fmt=fmt)
    page = write_page(output_path, review_html(rows, f"Review of {Path(input_path).name}"))
    return ReviewSummary(len(rows), sum("error" in row for row in rows), page)


REVIEW_BODY = """
<header>
<h1>{title}</h1>
<p id="file-summary" class="muted"></p>
<p id="error-banner" class="banner" hidden></p>
<div id="controls">
  <div id="label-filter" role="group" aria-label="Show rows with these labels">
    <span class="muted">Show rows with (none chosen: all)</span></div>
  <label id="language-control">Language <select id="language"></select></label>
  <label>Score <select id="score-by"></select></label>
  <label>at least <input id="min-score" type="number" min="0" max="1" step="0.05" value="0"></label>
  <label>Sort <select id="sort">
    <option value="file">file order</option>
    <option value="high">score, highest first</option>
    <option value="low">score, lowest first</option>
  </select></label>
</div>
<p id="counts"></p>
</header>
<main id="rows"></main>
<nav id="pager"><button type="button" id="previous">&larr; previous</button>
<span id="pager-status"></span><button type="button" id="next">next &rarr;</button></nav>
"""

REVIEW_CSS = """
#controls{display:flex;flex-wrap:wrap;gap:.6rem 1.4rem;align-items:center;background:#FFF;border:1px solid #DDE1E6;
  border-radius:8px;padding:.5rem .8rem}
#label-filter{display:flex;flex-wrap:wrap;align-items:center;gap:.3rem;flex-basis:100%}
.toggle{border:2px solid transparent;background:none;border-radius:999px;padding:.1rem .2rem;cursor:pointer;
  font:inherit}
.toggle[aria-pressed=true]{border-color:#1A1A1A}
#label-filter.active .toggle[aria-pressed=false]{opacity:.45}
.total{font-size:.8rem;color:#5B6270;margin-right:.2rem}
#counts{display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center}
.count .n{font-weight:600;font-variant-numeric:tabular-nums}
.banner{background:#FDECEA;border:1px solid var(--error);border-radius:8px;padding:.4rem .8rem}
.banner button{margin-left:.6rem}
#pager{display:flex;gap:1rem;align-items:center;justify-content:center;margin-top:1rem}
"""

REVIEW_JS = r"""
const ROWS = PAGE.rows;
const CATEGORIES = [...PAGE.labels, "none", "error"];
const failed = (row) => row.error !== undefined;
for (const row of ROWS) {
  row.categories = failed(row) ? ["error"] : row.labels.length ? row.labels : ["none"];
  row.best = failed(row) ? null : Math.max(0, ...Object.values(row.scores));
}
const LANGUAGES = [...new Set(ROWS.map((row) => row.lang ?? ""))].sort();
const state = {show: new Set(), language: null, scoreBy: "best", minScore: 0, sort: "file", page: 0};
let matching = ROWS;
const number = (n) => n.toLocaleString("en");
const rowsCount = (n) => `${number(n)} ${n === 1 ? "row" : "rows"}`;
const byId = (id) => document.getElementById(id);

function scoreOf(row) {
  return state.scoreBy === "best" ? row.best : row.scores[state.scoreBy] ?? 0;
}

function matches(row) {
  if (state.show.size && !row.categories.some((category) => state.show.has(category))) return false;
  if (state.language !== null && (row.lang ?? "") !== state.language) return false;
  // A row that could not be labelled has no score: only the label filter hides it.
  return failed(row) || scoreOf(row) >= state.minScore;
}

function update() {
  matching = ROWS.filter(matches);
  if (state.sort !== "file") {
    const direction = state.sort === "high" ? -1 : 1;
    // Rows without a score go last; equal scores keep file order (the sort is stable).
    matching.sort((a, b) => failed(a) - failed(b) || (failed(a) ? 0 : direction * (scoreOf(a) - scoreOf(b))));
  }
  state.page = 0;
  renderCounts();
  renderPage();
}

function categoryCounts(rows) {
  const counts = Object.fromEntries(CATEGORIES.map((category) => [category, 0]));
  for (const row of rows) for (const category of row.categories) counts[category]++;
  return counts;
}

function renderCounts() {
  const counts = categoryCounts(matching);
  const items = CATEGORIES.map((category) => {
    const item = element("span", "count");
    item.dataset.category = category;
    item.append(chip(category), element("span", "n", number(counts[category])));
    return item;
  });
  const shown = `${number(matching.length)} of ${rowsCount(ROWS.length)}`;
  byId("counts").replaceChildren(element("span", "shown", shown), ...items);
}

function renderPage() {
  const pages = Math.max(1, Math.ceil(matching.length / PAGE.rowsPerPage));
  const first = state.page * PAGE.rowsPerPage;
  const rows = matching.slice(first, first + PAGE.rowsPerPage);
  byId("rows").replaceChildren(...(rows.length ? rows.map(rowCard) : [element("p", "muted", "No row matches.")]));
  const range = `rows ${number(first + 1)}–${number(first + rows.length)} of ${number(matching.length)}`;
  byId("pager-status").textContent = rows.length ? `${range} · page ${state.page + 1} of ${pages}` : "";
  byId("previous").disabled = state.page === 0;
  byId("next").disabled = state.page >= pages - 1;
}

function rowCard(row) {
  const card = element("article", failed(row) ? "row failed" : "row");
  card.dataset.row = row.row;
  const head = element("header");
  head.append(element("span", "where", `#${row.row}`));
  if (row.id !== undefined) head.append(element("span", "id", row.id));
  if (row.lang !== undefined) head.append(element("span", "lang", row.lang));
  if (failed(row)) {
    head.append(chip("error"));
    card.append(head, element("p", "reason", row.error));
    if (row.text) card.append(textWithEvidence(row.text, []));
    return card;
  }
  head.append(labelChips(row.labels), scoreList(row.scores));
  if (row.passages !== undefined) head.append(element("span", "muted", `${row.passages} passages`));
  card.append(head, textWithEvidence(row.text, row.evidence));
  return card;
}

function showOnly(categories) {
  state.show = new Set(categories);
  for (const toggle of document.querySelectorAll("#label-filter .toggle")) {
    toggle.setAttribute("aria-pressed", state.show.has(toggle.dataset.category));
  }
  byId("label-filter").classList.toggle("active", state.show.size > 0);
  update();
}

function setUpLabelFilter(totals) {
  for (const category of CATEGORIES) {
    const toggle = element("button", "toggle");
    Object.assign(toggle, {type: "button", title: `show only rows with ${category} (click again to show all)`});
    toggle.dataset.category = category;
    toggle.setAttribute("aria-pressed", "false");
    toggle.append(chip(category), element("span", "total", number(totals[category])));
    toggle.addEventListener("click", () => {
      const show = new Set(state.show);
      show.has(category) ? show.delete(category) : show.add(category);
      showOnly(show);
    });
    byId("label-filter").append(toggle);
  }
}

function setUpLanguages() {
  const language = byId("language");
  language.append(new Option("all", "all"));
  for (const [index, code] of LANGUAGES.entries()) language.append(new Option(code || "(none given)", index));
  byId("language-control").hidden = LANGUAGES.length === 1 && LANGUAGES[0] === "";
  language.addEventListener("change", () => {
    state.language = language.value === "all" ? null : LANGUAGES[Number(language.value)];
    update();
  });
}

function setUpScoreAndPages() {
  const scoreBy = byId("score-by");
  scoreBy.append(new Option("highest label", "best"), ...PAGE.labels.map((label) => new Option(label, label)));
  scoreBy.addEventListener("change", () => { state.scoreBy = scoreBy.value; update(); });
  byId("min-score").addEventListener("input", (event) => {
    const value = Number(event.target.value);
    state.minScore = Number.isFinite(value) ? value : 0;
    update();
  });
  byId("sort").addEventListener("change", (event) => { state.sort = event.target.value; update(); });
  for (const [id, step] of [["previous", -1], ["next", 1]]) {
    byId(id).addEventListener("click", () => {
      state.page += step;
      renderPage();
      byId("rows").scrollIntoView();
    });
  }
}

function summarise(totals) {
  const labelled = ROWS.length - totals.error;
  byId("file-summary").textContent =
    `${rowsCount(ROWS.length)} · ${number(labelled)} labelled · ${number(totals.error)} could not be labelled`;
  if (!totals.error) return;
  const banner = byId("error-banner");
  const button = element("button", "", "show only these");
  button.type = "button";
  button.addEventListener("click", () => showOnly(["error"]));
  banner.append(`⚠ ${rowsCount(totals.error)} could not be labelled; each is listed with the reason.`, button);
  banner.hidden = false;
}

const totals = categoryCounts(ROWS);
setUpLabelFilter(totals);
setUpLanguages();
setUpScoreAndPages();
summarise(totals);
update();
"""
