"""Predictions as columns (``labels``, ``score_<label>``, ``error``), shared by the dataframe-style integrations."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..batch import SCORE_DECIMALS, label_texts
from ..inputs import describe_problem

if TYPE_CHECKING:
    from ..classifier import Classifier


def prediction_columns(clf: Classifier, texts: Sequence[Any], batch_size: int) -> dict[str, list]:
    """One entry per text, in order: its labels (a list of names), each label's score and its error.

    A text that cannot be labelled keeps its row: empty labels, NaN scores and the reason in ``error``.
    """
    problems = [describe_problem(text) for text in texts]
    outcomes = label_texts(clf, list(texts), problems, batch_size)
    columns: dict[str, list] = {"labels": [], **{f"score_{label}": [] for label in clf.labels}, "error": []}
    for outcome in outcomes:
        failed = isinstance(outcome, str)
        columns["labels"].append([] if failed else list(outcome.labels))
        for label in clf.labels:
            columns[f"score_{label}"].append(math.nan if failed else round(outcome.scores[label], SCORE_DECIMALS))
        columns["error"].append(outcome if failed else None)
    return columns
