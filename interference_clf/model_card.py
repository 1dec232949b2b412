"""The model card (README.md) written beside every saved classifier."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .labels import DESCRIPTIONS

if TYPE_CHECKING:
    from .classifier import ClassifierConfig

TEMPLATE = """# {title}

Multi-label classifier for election-threat passages: `cyberattack`, `disinformation`,
`espionage` (any subset; none = empty set). Library: `interference_clf`. What each label
means, with the judging rules for hard cases: `docs/LABELS.md` in the library's repository.

## Labels and decision thresholds
| label | means | threshold | temperature |
|---|---|---|---|
{label_rows}

## Base encoder
{base}

Input prefix `{prefix}`, windows of at most {max_length} tokens (longer texts are scored over
overlapping windows and a label's score is its highest window score), mean pooling, one sigmoid
per label. Stored encoder tensors: {stored}.

{sections}"""


def render_model_card(config: ClassifierConfig, title: str = "interference_clf model",
                      sections: dict[str, str] | None = None) -> str:
    label_rows = "\n".join(
        f"| `{label}` | {DESCRIPTIONS[label]} | {config.thresholds[label]:.3f} | {config.temperatures[label]:.3f} |"
        for label in config.labels
    )
    if config.base_encoder:
        base = f"{config.base_encoder['name']}, source sha256 `{config.base_encoder['source_sha256']}`."
    else:
        base = "Stored whole in this folder (no pretrained base)."
    stored = f"{len(config.stored_encoder_tensors)}"
    body = "\n".join(f"## {heading}\n{text.strip()}\n" for heading, text in (sections or {}).items())
    return TEMPLATE.format(title=title, label_rows=label_rows, base=base, prefix=config.prefix,
                           max_length=config.max_length, stored=stored, sections=body)
