"""Labelled passages in: JSONL, CSV, Parquet, a ``datasets.Dataset`` or a list of dicts.

Columns: ``text``, ``labels`` (a list of label names; ``[]`` is none), and
optionally ``lang`` and ``split`` (``train``/``dev``/``test``). In CSV, labels
are a JSON array (``["cyberattack"]``) or names joined by ``;``, ``,`` or ``|``
(an empty cell is none). Every bad row is reported by its row number, with the
reason, before anything is trained or scored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .inputs import describe_problem
from .labels import LABELS, normalise_labels, to_indicator

SPLITS = ("train", "dev", "test")
LABEL_SEPARATORS = re.compile(r"\s*[;,|]\s*")
REPORTED_ROWS = 20


class BadRowsError(ValueError):
    """Some rows cannot be used; ``problems`` lists each as ``row N: reason``."""

    def __init__(self, source: str, problems: list[str]):
        self.problems = problems
        shown = "\n  ".join(problems[:REPORTED_ROWS])
        more = f"\n  … and {len(problems) - REPORTED_ROWS} more" if len(problems) > REPORTED_ROWS else ""
        super().__init__(f"{source}: {len(problems)} bad row(s):\n  {shown}{more}")


@dataclass
class LabelledData:
    """Texts with their gold labels as an ``(n, 3)`` 0/1 matrix in ``LABELS`` order."""

    texts: list[str]
    labels: np.ndarray
    languages: list[str]
    splits: list[str | None]
    # 1-based row numbers in the source, for messages about a row.
    rows: list[int] = field(default_factory=list)
    # The rows' own ids where they have an ``id`` field, else their row numbers.
    ids: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, chosen: Iterable[int]) -> LabelledData:
        chosen = list(chosen)
        return LabelledData([self.texts[i] for i in chosen], self.labels[chosen].reshape(-1, len(LABELS)),
                            [self.languages[i] for i in chosen], [self.splits[i] for i in chosen],
                            [self.rows[i] for i in chosen], [self.ids[i] for i in chosen])

    def concat(self, other: LabelledData) -> LabelledData:
        return LabelledData(self.texts + other.texts, np.vstack([self.labels, other.labels]),
                            self.languages + other.languages, self.splits + other.splits, self.rows + other.rows,
                            self.ids + other.ids)

    def split(self, name: str) -> LabelledData:
        return self.subset(i for i, split in enumerate(self.splits) if split == name)

    def to_dataset(self) -> Any:
        """This data as a ``datasets.Dataset`` (text, labels as names, lang, split)."""
        from datasets import Dataset

        names = [[label for label, on in zip(LABELS, row) if on] for row in self.labels]
        return Dataset.from_dict({"text": self.texts, "labels": names, "lang": self.languages,
                                  "split": [s or "" for s in self.splits]})


def read_labelled(
    source: str | Path | Any,
    *,
    text_column: str = "text",
    labels_column: str = "labels",
    skip_bad_rows: bool = False,
) -> LabelledData:
    """Read and check labelled rows; bad rows raise ``BadRowsError`` unless ``skip_bad_rows``.

    With ``skip_bad_rows`` they are left out and listed in ``LabelledData.skipped``.
    """
    name = str(source) if isinstance(source, (str, Path)) else type(source).__name__
    data = LabelledData([], np.zeros((0, len(LABELS)), dtype=int), [], [], [], [])
    rows: list[list[int]] = []
    problems: list[str] = []
    for number, record in enumerate(_records(source), start=1):
        problem, parsed = _parse_row(record, text_column, labels_column)
        if problem is not None:
            problems.append(f"row {number}: {problem}")
            continue
        text, indicator, lang, split = parsed
        data.texts.append(text)
        rows.append(indicator)
        data.languages.append(lang)
        data.splits.append(split)
        data.rows.append(number)
        data.ids.append(str(record.get("id", number)))
    if problems and not skip_bad_rows:
        raise BadRowsError(name, problems)
    if not data.texts:
        raise BadRowsError(name, problems or ["no rows"])
    data.labels = np.array(rows, dtype=int).reshape(-1, len(LABELS))
    data.skipped = problems
    return data


def _records(source: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        suffix = path.suffix.lower()
        if suffix in (".jsonl", ".ndjson", ".json"):
            yield from _jsonl_records(path)
        elif suffix == ".csv":
            yield from _csv_records(path)
        elif suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(path).iter_batches():
                yield from batch.to_pylist()
        else:
            raise ValueError(f"{path}: unknown format {suffix!r}; use .jsonl, .csv or .parquet")
        return
    if isinstance(source, Mapping):
        raise TypeError("expected rows (a Dataset or a list of dicts), got a single mapping")
    yield from source  # a datasets.Dataset iterates as dicts, and so does a list of dicts


def _jsonl_records(path: Path) -> Iterator[Mapping[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as error:
                yield {"__problem__": f"malformed JSON ({error.msg} at column {error.colno})"}


def _csv_records(path: Path) -> Iterator[Mapping[str, Any]]:
    import csv

    with path.open(encoding="utf-8-sig", newline="") as handle:
        yield from csv.DictReader(handle)


def _parse_row(record: Any, text_column: str, labels_column: str) -> tuple[str | None, tuple]:
    if not isinstance(record, Mapping):
        return f"expected an object with {text_column!r} and {labels_column!r}, got {type(record).__name__}", ()
    if "__problem__" in record:
        return record["__problem__"], ()
    if text_column not in record:
        return f"no {text_column!r} field", ()
    problem = describe_problem(record[text_column])
    if problem is not None:
        return f"{text_column!r} {problem.removeprefix('text ')}", ()
    if labels_column not in record:
        return f"no {labels_column!r} field (use [] for a passage with none of the labels)", ()
    labels = _label_list(record[labels_column])
    if isinstance(labels, str):
        return f"{labels_column!r}: {labels}", ()
    try:
        indicator = to_indicator(normalise_labels(labels, where=repr(labels_column)))
    except (TypeError, ValueError) as error:
        return str(error), ()
    lang = record.get("lang")
    if lang is not None and not isinstance(lang, str):
        return f"'lang' is of type {type(lang).__name__}, expected a string", ()
    split = record.get("split") or None
    if split is not None and split not in SPLITS:
        return f"'split' is {split!r}, expected one of {', '.join(SPLITS)} or nothing", ()
    return None, (record[text_column], indicator, lang or "?", split)


def _label_list(value: Any) -> list[str] | str:
    """The label names in a cell, or why it cannot be read."""
    if value is None:
        return "is missing (use [] for none)"
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                value = json.loads(stripped)
            except json.JSONDecodeError:
                return f"{value!r} is not a JSON array"
        else:
            return [part for part in LABEL_SEPARATORS.split(stripped) if part]
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        return f"expected a list of label names, got {value!r}"
    return list(value)
