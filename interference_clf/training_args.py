"""The knobs of a fine-tuning run (the defaults are the shipped model's recipe, chosen on the corpus dev split)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields


@dataclass
class TrainingArguments:
    # Top encoder layers fine-tuned; the frozen layers below run once and are cached.
    trained_layers: int = 12
    epochs: int = 6
    batch_size: int = 16
    learning_rate: float = 5e-5
    head_learning_rate: float = 2e-3
    weight_decay: float = 0.01
    warmup_share: float = 0.1
    dropout: float = 0.1
    max_length: int = 256
    seed: int = 13
    # Share of the rows held out to pick the epoch and fit thresholds when the data has no split column.
    dev_fraction: float = 0.15
    # Trained encoder tensors are stored in this precision; float16 halves the model folder.
    weights_dtype: str = "float16"

    def __post_init__(self) -> None:
        checks = {
            "trained_layers": self.trained_layers >= 0, "epochs": self.epochs >= 1, "batch_size": self.batch_size >= 1,
            "learning_rate": self.learning_rate > 0, "head_learning_rate": self.head_learning_rate > 0,
            "warmup_share": 0 <= self.warmup_share < 1, "dropout": 0 <= self.dropout < 1,
            "max_length": self.max_length >= 8, "dev_fraction": 0 < self.dev_fraction < 1,
            "weights_dtype": self.weights_dtype in ("float32", "float16"),
        }
        wrong = [name for name, ok in checks.items() if not ok]
        if wrong:
            raise ValueError("invalid training arguments: " + ", ".join(f"{n}={getattr(self, n)!r}" for n in wrong))

    @classmethod
    def add_to_parser(cls, parser: argparse.ArgumentParser) -> None:
        """One ``--flag`` per field, with its default."""
        for f in fields(cls):
            parser.add_argument("--" + f.name.replace("_", "-"), type=type(f.default), default=f.default,
                                help=f"(default: {f.default})")

    @classmethod
    def from_namespace(cls, namespace: argparse.Namespace) -> TrainingArguments:
        return cls(**{f.name: getattr(namespace, f.name) for f in fields(cls)})
