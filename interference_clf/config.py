"""A saved classifier's folder: its file names and its ``config.json``.

Reading a config needs nothing but the standard library, so a model can be
inspected, and scored through ONNX Runtime, without importing torch.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .labels import LABELS

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "README.md"
ENCODER_CONFIG_FILE = "encoder_config.json"
TOKENIZER_FILE = "tokenizer.json"
FORMAT_VERSION = 1
DEFAULT_PREFIX = "passage: "
DEFAULT_MAX_LENGTH = 256


class ModelFormatError(ValueError):
    """A model folder is incomplete, inconsistent or tampered with."""


@dataclass
class ClassifierConfig:
    labels: tuple[str, ...] = LABELS
    thresholds: dict[str, float] = field(default_factory=lambda: {label: 0.5 for label in LABELS})
    # One temperature per label divides the logits before the sigmoid (1.0 = uncalibrated).
    temperatures: dict[str, float] = field(default_factory=lambda: {label: 1.0 for label in LABELS})
    prefix: str = DEFAULT_PREFIX
    max_length: int = DEFAULT_MAX_LENGTH
    pooling: str = "mean"
    # None: the encoder is stored whole in the folder (tiny test models).
    base_encoder: dict[str, str] | None = None
    # Encoder layers kept from the base, in order (a distilled student keeps fewer); None: all of them.
    encoder_layers: list[int] | None = None
    # Names of the encoder tensors stored in the weights file; the rest come from the base.
    stored_encoder_tensors: list[str] = field(default_factory=list)
    # How the stored encoder tensors are kept on disk ("float16" halves the shipped files); the head is float32.
    weights_dtype: str = "float32"
    weights_sha256: str = ""
    format_version: int = FORMAT_VERSION

    @classmethod
    def from_dict(cls, data: dict) -> ClassifierConfig:
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ModelFormatError(f"config has unknown fields {sorted(unknown)}")
        data = dict(data)
        data["labels"] = tuple(data.get("labels", LABELS))
        return cls(**data)

    @classmethod
    def read(cls, folder: str | Path) -> ClassifierConfig:
        path = Path(folder) / CONFIG_FILE
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise ModelFormatError(f"{folder} has no {CONFIG_FILE}; it is not a saved classifier") from None
        except json.JSONDecodeError as error:
            raise ModelFormatError(f"{path} is not valid JSON ({error})") from None

    def write(self, folder: str | Path) -> None:
        text = json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"
        (Path(folder) / CONFIG_FILE).write_text(text, encoding="utf-8")

    @property
    def num_labels(self) -> int:
        return len(self.labels)
