"""Labelling datasets bigger than one machine with Ray Data (``pip install interference-clf[ray]``).

``RayPredictor`` is a callable class for ``Dataset.map_batches``: Ray builds one
per worker, so the model is loaded once per worker, not once per batch::

    import ray
    from interference_clf.integrations.ray import RayPredictor

    labelled = ray.data.read_parquet("s3://bucket/passages/").map_batches(
        RayPredictor,
        fn_constructor_kwargs={"model_path": "models/interference-e5-small", "text_column": "text"},
        compute=ray.data.ActorPoolStrategy(size=4),  # workers, each with its own copy of the model
        batch_size=512,
    )
    labelled.write_parquet("s3://bucket/labelled/")

Each batch gains a ``labels`` column (a list of label names), one
``score_<label>`` column per label (rounded like ``interference-clf label``) and
an ``error`` column: None for labelled rows, else why the row's text could not
be labelled (its labels are then empty and its scores missing: NaN, null in Parquet).
Rows are never dropped.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from ..classifier import DEFAULT_BATCH_SIZE, load
from .columns import prediction_columns

if TYPE_CHECKING:
    import pandas as pd

Batch = dict[str, np.ndarray]


class RayPredictor:
    """Adds labels, per-label scores and errors to a Ray Data batch (a dict of arrays or a pandas DataFrame)."""

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        text_column: str = "text",
        batch_size: int = DEFAULT_BATCH_SIZE,
    ):
        self.classifier = load(model_path)
        self.text_column = text_column
        self.batch_size = batch_size

    def __call__(self, batch: Batch | pd.DataFrame) -> Batch | pd.DataFrame:
        if self.text_column not in batch:
            raise KeyError(f"the batch has no {self.text_column!r} column; its columns are {list(batch)}")
        columns = self.label_columns(list(batch[self.text_column]))
        if isinstance(batch, dict):
            return {**batch, **columns}
        return batch.assign(**columns)

    def label_columns(self, texts: list[Any]) -> Batch:
        """The added columns for ``texts``, in order."""
        columns = prediction_columns(self.classifier, texts, self.batch_size)
        labels = np.empty(len(texts), dtype=object)  # filled one by one: a list per cell, not a 2-D array
        for row, names in enumerate(columns.pop("labels")):
            labels[row] = names
        errors = np.array(columns.pop("error"), dtype=object)
        return {"labels": labels, **{name: np.array(values) for name, values in columns.items()}, "error": errors}
