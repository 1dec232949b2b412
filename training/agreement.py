"""Agreement between the corpus labels and a blind second pass over a sample.

    python -m training.agreement training/data/review/blind_relabel.jsonl
    python -m training.agreement training/data/review/blind_relabel_round3_{a,b,c}.jsonl

The second pass labels a sample from the spec alone, without seeing the corpus
labels; this prints per-label agreement and Cohen's kappa for the data card.
With several files, a later file's label for an id replaces an earlier one's (a
fresh blind label for a passage rewritten after the first pass).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import cohen_kappa_score

from interference_clf.labels import LABELS, to_indicator

from .corpus import read_records


def agreement_table(*second_passes: Path) -> tuple[str, list[tuple[str, list[str], list[str]]]]:
    corpus = {r["id"]: r for r in read_records()}
    latest: dict[str, dict] = {}
    for path in second_passes:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                latest[row["id"]] = row
    rows = list(latest.values())
    missing = [row["id"] for row in rows if row["id"] not in corpus]
    if missing:
        raise ValueError(f"second-pass ids not in the corpus: {missing[:5]}")
    first = np.array([to_indicator(corpus[row["id"]]["labels"]) for row in rows])
    second = np.array([to_indicator(row["labels"]) for row in rows])
    lines = [f"{len(rows)} passages re-labelled blind; exact label-set agreement "
             f"{(first == second).all(1).mean():.1%}.", "",
             "| label | agreement | Cohen's kappa | corpus positives | second-pass positives |", "|---|---|---|---|---|"]
    for i, label in enumerate(LABELS):
        lines.append(f"| {label} | {(first[:, i] == second[:, i]).mean():.1%} | "
                     f"{cohen_kappa_score(first[:, i], second[:, i]):.3f} | {first[:, i].sum()} | {second[:, i].sum()} |")
    none_first, none_second = ~first.any(1), ~second.any(1)
    lines.append(f"| (none) | {(none_first == none_second).mean():.1%} | "
                 f"{cohen_kappa_score(none_first, none_second):.3f} | {none_first.sum()} | {none_second.sum()} |")
    disagreements = [(row["id"], list(corpus[row["id"]]["labels"]), row["labels"])
                     for row, a, b in zip(rows, first, second) if (a != b).any()]
    return "\n".join(lines) + "\n", disagreements


if __name__ == "__main__":
    table, disagreements = agreement_table(*map(Path, sys.argv[1:]))
    print(table)
    for passage_id, corpus_labels, second_labels in disagreements:
        print(f"{passage_id}: corpus {corpus_labels} vs second pass {second_labels}")
