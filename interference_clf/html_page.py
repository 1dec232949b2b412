"""What the HTML pages (the review page, the evaluation report) share: label colours, CSS, evidence highlighting.

Every page is one self-contained file: its data sits in a ``<script type="application/json">``
element, its CSS and JavaScript inline, its images as ``data:`` URIs. Its Content-Security-Policy
allows nothing else, so a page opened from disk never reaches the network, even by mistake.
Data reaches the page only as JSON and is put on screen with ``textContent``, never parsed as HTML.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from .labels import LABELS

# One colour per label wherever labels are drawn (chips, highlights, plots): Okabe-Ito, safe for colour-blind readers.
LABEL_COLOURS: dict[str, str] = {"cyberattack": "#0072B2", "disinformation": "#E69F00", "espionage": "#009E73"}
# The two categories that are not labels: a row given none of them, a row that could not be labelled.
CATEGORY_COLOURS: dict[str, str] = {**LABEL_COLOURS, "none": "#6B7280", "error": "#B3261E"}
DARK_INK, LIGHT_INK = "#1A1A1A", "#FFFFFF"
HIGHLIGHT_ALPHA = "55"  # hex alpha of an evidence highlight over the text: tinted, the text stays readable
CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
DATA_ELEMENT_ID = "page-data"


def _luminance(colour: str) -> float:
    """WCAG relative luminance of a ``#RRGGBB`` colour."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(first: str, second: str) -> float:
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def ink_for(colour: str) -> str:
    """The text colour, dark or white, with the higher contrast on ``colour``: every chip stays readable."""
    return max((DARK_INK, LIGHT_INK), key=lambda ink: _contrast(colour, ink))


def _category_css() -> str:
    variables = "".join(f"--{name}:{colour};--{name}-ink:{ink_for(colour)};"
                        for name, colour in CATEGORY_COLOURS.items())
    tints = "".join(f"--{label}-tint:{colour}{HIGHLIGHT_ALPHA};" for label, colour in LABEL_COLOURS.items())
    chips = "".join(f".chip.{name}{{background:var(--{name});color:var(--{name}-ink)}}" for name in CATEGORY_COLOURS)
    scores = "".join(f".score.{label}::before{{background:var(--{label})}}" for label in LABEL_COLOURS)
    return f":root{{{variables}{tints}}}{chips}{scores}"


BASE_CSS = _category_css() + """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:#1A1A1A;
  background:#F6F7F9;margin:0;padding:0 1.5rem 2rem}
h1{font-size:1.4rem;margin:1rem 0 .3rem}h2{font-size:1.15rem;margin:1.6rem 0 .5rem}h3{font-size:1rem}
.muted{color:#5B6270}
.chip{display:inline-block;border-radius:999px;padding:.05rem .6rem;font-size:.8rem;font-weight:600;
  margin-right:.25rem;white-space:nowrap}
.chips{display:inline-flex;flex-wrap:wrap;gap:.15rem}
.scores{display:inline-flex;flex-wrap:wrap;gap:.7rem;font-size:.8rem;color:#5B6270;font-variant-numeric:tabular-nums}
.score::before{content:"";display:inline-block;width:.6rem;height:.6rem;border-radius:2px;margin-right:.25rem}
.row{background:#FFF;border:1px solid #DDE1E6;border-radius:8px;padding:.6rem .8rem;margin:.5rem 0}
.row header{display:flex;flex-wrap:wrap;align-items:center;gap:.6rem;margin-bottom:.35rem}
.row.failed{border-color:var(--error);border-left-width:5px}
.reason{color:var(--error);font-weight:600;margin:.2rem 0}
.where,.id,.lang{font-size:.8rem;color:#5B6270}.id{font-weight:600;color:#1A1A1A}
.lang{border:1px solid #C5CAD3;border-radius:4px;padding:0 .3rem}
.text{white-space:pre-wrap;overflow-wrap:anywhere;max-height:16em;overflow:auto}
mark.evidence{color:inherit;border-radius:2px;padding:.05rem 0}
table{border-collapse:collapse;background:#FFF;margin:.4rem 0}
th,td{border:1px solid #DDE1E6;padding:.25rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}
"""

# Shared by every page: reading the embedded data, chips, scores and evidence highlighting.
BASE_JS = r"""
"use strict";
const PAGE = JSON.parse(document.getElementById("page-data").textContent);

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// A coloured chip for a label, "none" or "error".
function chip(category) {
  const node = element("span", `chip ${category}`, category);
  node.dataset.category = category;
  return node;
}

function labelChips(labels) {
  const box = element("span", "chips");
  for (const label of labels.length ? labels : ["none"]) box.append(chip(label));
  return box;
}

function scoreList(scores) {
  const box = element("span", "scores");
  for (const label of PAGE.labels) {
    if (label in scores) box.append(element("span", `score ${label}`, `${label} ${scores[label].toFixed(2)}`));
  }
  return box;
}

// The text with each evidence span [label, start, end, score] highlighted in its label's colour; where spans of
// several labels overlap, the mark is striped with all their colours. Offsets are Python str indices, which count
// code points, while JS strings count UTF-16 units: the text is cut as an array of code points, so an emoji
// before a span does not shift it.
function textWithEvidence(text, spans) {
  const box = element("div", "text");
  const characters = Array.from(text);
  const cuts = new Set([0, characters.length]);
  for (const [, start, end] of spans) cuts.add(start).add(end);
  const points = [...cuts].sort((a, b) => a - b);
  for (let i = 0; i + 1 < points.length; i++) {
    const [from, to] = [points[i], points[i + 1]];
    const piece = characters.slice(from, to).join("");
    const covering = spans.filter(([, start, end]) => start <= from && to <= end);
    if (!covering.length) {
      box.append(piece);
      continue;
    }
    const labels = [...new Set(covering.map(([label]) => label))];
    const mark = element("mark", "evidence", piece);
    mark.dataset.labels = labels.join(" ");
    mark.title = covering.map(([label, , , score]) => `${label} evidence (score drop ${score})`).join("\n");
    const band = 100 / labels.length;
    const bands = labels.map((label, k) => `var(--${label}-tint) ${k * band}% ${(k + 1) * band}%`);
    mark.style.background = `linear-gradient(${bands.join(", ")})`;
    mark.style.borderBottom = `2px solid var(--${labels[0]})`;
    box.append(mark);
  }
  return box;
}
"""


def chip_html(category: str) -> str:
    """A chip drawn by the server side, the same markup the JavaScript ``chip`` builds."""
    name = html.escape(category)
    return f'<span class="chip {name}" data-category="{name}">{name}</span>'


def evidence_spans(evidence: Mapping[str, Iterable[Mapping[str, float]]]) -> list[list]:
    """Evidence as ``label`` writes it, ``{label: [{"start", "end", "score"}]}``, flattened into the
    ``[label, start, end, score]`` lists the pages highlight."""
    return [[label, span["start"], span["end"], span["score"]] for label, spans in evidence.items() for span in spans]


def embedded_json(data: object) -> str:
    """``data`` as JSON that is safe inside a ``<script>`` element.

    Every ``<`` becomes ``\\u003c`` (outside strings JSON has none), so no text can close the
    element (``</script>``) or open a comment in it.
    """
    # NaN is not JSON: the page could not parse it, so it is refused here rather than there.
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":")).replace("<", "\\u003c")


def html_page(title: str, body: str, data: Mapping[str, object], script: str, css: str = "") -> str:
    """A whole page: ``body`` (trusted HTML), ``data`` and the label set as JSON, the shared JavaScript, ``script``."""
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{BASE_CSS}{css}</style>",
        "</head>",
        f"<body>{body}",
        f'<script type="application/json" id="{DATA_ELEMENT_ID}">',
        embedded_json({"labels": list(LABELS), **data}),
        "</script>",
        f"<script>{BASE_JS}{script}</script>",
        "</body></html>",
    ])


def write_page(path: str | Path, page: str) -> Path:
    """Write a page as UTF-8; a lone surrogate (from undecodable input bytes) becomes its JSON escape ``\\udcXX``."""
    path = Path(path)
    path.write_text(page, encoding="utf-8", errors="backslashreplace")
    return path
