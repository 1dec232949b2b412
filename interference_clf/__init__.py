"""interference_clf: label passages with the election-threat areas cyberattack, disinformation, espionage.

>>> import interference_clf as ic
>>> clf = ic.load()
>>> clf.predict(["Des pirates ont paralysé le site de la commission électorale."])[0].labels
['cyberattack']

The label spec is ``docs/LABELS.md``. Importing the package does not import
torch: training (``ic.train``, ``ic.Trainer``) and the torch backend do, when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .classifier import Classifier, Prediction, load
from .config import ClassifierConfig, ModelFormatError
from .data import BadRowsError, LabelledData, read_labelled
from .labels import LABELS

if TYPE_CHECKING:
    from .trainer import Trainer, train
    from .training_args import TrainingArguments

__all__ = [
    "LABELS", "BadRowsError", "Classifier", "ClassifierConfig", "LabelledData", "ModelFormatError", "Prediction",
    "Trainer", "TrainingArguments", "load", "read_labelled", "train",
]
__version__ = "0.2.0"

_LAZY = {"Trainer": ".trainer", "train": ".trainer", "TrainingArguments": ".training_args"}


def __getattr__(name: str) -> Any:
    # Training needs torch; it is imported only when a training name is first used.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
