"""Labelling a Hugging Face ``datasets.Dataset`` in place of a file (``pip install datasets``).

``clf.predict_dataset(ds, text_column="text")`` returns ``ds`` with ``labels``,
``score_<label>`` and ``error`` columns, computed by a batched ``Dataset.map``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .columns import prediction_columns

if TYPE_CHECKING:
    from datasets import Dataset

    from ..classifier import Classifier

# Rows per map call: enough for length-sorted batching to pay off inside each call.
MAP_BATCH_ROWS = 512


def predict_dataset(clf: Classifier, dataset: Dataset, text_column: str = "text", batch_size: int = 32,
                    **map_kwargs: Any) -> Dataset:
    if text_column not in dataset.column_names:
        raise KeyError(f"the dataset has no {text_column!r} column; its columns are {dataset.column_names}")
    map_kwargs.setdefault("batch_size", MAP_BATCH_ROWS)
    map_kwargs.setdefault("desc", "labelling")
    return dataset.map(lambda batch: prediction_columns(clf, batch[text_column], batch_size), batched=True,
                       **map_kwargs)
