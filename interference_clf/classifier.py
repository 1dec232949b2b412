"""The classifier: a fine-tuned e5 encoder with one sigmoid per label.

Inference, thresholds and the on-disk format live here; training does not.

Long texts are never silently truncated: the tokens after the prefix are cut
into overlapping windows that each fit ``max_length``; every window is scored
and a text's score for a label is the highest score any of its windows got
(a threat named anywhere in a text makes the text about that threat).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import overload

from .offline import check_local_path, enforce_offline

enforce_offline()

import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402
from torch import nn  # noqa: E402
from transformers import BertConfig, BertModel, PreTrainedTokenizerFast  # noqa: E402

from .backends import AUTO, TORCH, WindowScorer, create_backend  # noqa: E402
from .encoder import (  # noqa: E402
    BASE_ENCODER_NAME,
    ensure_base_encoder,
    load_base_encoder,
    load_tokenizer,
    sha256_file,
)
from .inputs import validate_texts  # noqa: E402
from .labels import LABELS  # noqa: E402
from .passages import DocumentPrediction  # noqa: E402

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "README.md"
ENCODER_CONFIG_FILE = "encoder_config.json"
TOKENIZER_FILE = "tokenizer.json"
FORMAT_VERSION = 1
DEFAULT_PREFIX = "passage: "
DEFAULT_MAX_LENGTH = 256
DEFAULT_BATCH_SIZE = 32
SHIPPED_MODEL = Path(__file__).resolve().parent.parent / "models" / "interference-e5-small"


class ModelFormatError(ValueError):
    """A model folder is incomplete, inconsistent or tampered with."""


@dataclass(frozen=True)
class Prediction:
    """The labels a text was given and the score of every label."""

    labels: list[str]
    scores: dict[str, float]


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
    # Names of the encoder tensors stored in the weights file; the rest come from the base.
    stored_encoder_tensors: list[str] = field(default_factory=list)
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


class ThreatModel(nn.Module):
    """Encoder, mean pooling over real tokens, dropout and a linear layer with one logit per label."""

    def __init__(self, encoder: BertModel, num_labels: int = len(LABELS), dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, num_labels)

    def pool(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.pool(hidden, attention_mask)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.embed(input_ids, attention_mask)))


def split_windows(token_ids: Sequence[int], size: int) -> list[list[int]]:
    """Cut a token sequence into windows of at most ``size`` overlapping by a quarter."""
    if size < 1:
        raise ValueError(f"window size must be positive, got {size}")
    if len(token_ids) <= size:
        return [list(token_ids)]
    step = max(1, size - size // 4)
    starts = list(range(0, len(token_ids) - size, step)) + [len(token_ids) - size]
    return [list(token_ids[start : start + size]) for start in starts]


def pad_batch(sequences: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad to the longest sequence of this batch (dynamic padding)."""
    width = max(len(ids) for ids in sequences)
    input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, ids in enumerate(sequences):
        input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        attention_mask[row, : len(ids)] = 1
    return input_ids, attention_mask


class Classifier:
    """Labels texts with any of ``cyberattack``, ``disinformation``, ``espionage``.

    >>> clf = interference_clf.load()
    >>> clf.predict("Hackers defaced the electoral commission's website.").labels
    ['cyberattack']
    """

    def __init__(
        self, model: ThreatModel, tokenizer: PreTrainedTokenizerFast, config: ClassifierConfig, backend: str = TORCH
    ):
        if tuple(config.labels) != LABELS:
            raise ModelFormatError(f"model labels {config.labels} differ from the library's {LABELS}")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.config = config
        self.backend: WindowScorer = create_backend(backend, self.model, tokenizer.pad_token_id, config.weights_sha256)
        self._prefix_ids = tokenizer(config.prefix.strip(), add_special_tokens=False)["input_ids"]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.config.labels)

    @property
    def thresholds(self) -> dict[str, float]:
        return dict(self.config.thresholds)

    # ----- inference -------------------------------------------------------------------

    def _encode_windows(self, texts: list[str], max_length: int) -> tuple[list[list[int]], list[int]]:
        """Token windows, each with special tokens and prefix, and the text each belongs to."""
        budget = max_length - 2 - len(self._prefix_ids)
        if budget < 1:
            raise ValueError(f"max_length={max_length} leaves no room for text after the prefix")
        bos, eos = self.tokenizer.bos_token_id, self.tokenizer.eos_token_id
        content = self.tokenizer(texts, add_special_tokens=False)["input_ids"]
        windows: list[list[int]] = []
        owners: list[int] = []
        for index, ids in enumerate(content):
            for chunk in split_windows(ids, budget):
                windows.append([bos, *self._prefix_ids, *chunk, eos])
                owners.append(index)
        return windows, owners

    def _temperatures(self) -> torch.Tensor:
        return torch.tensor([self.config.temperatures[label] for label in self.labels])

    def window_logits(self, windows: list[list[int]], batch_size: int) -> np.ndarray:
        """Raw logits per window, from the backend chosen at load time."""
        return self.backend.logits(windows, batch_size)

    def predict_proba(
        self,
        texts: str | Iterable[str],
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_length: int | None = None,
    ) -> np.ndarray:
        """Calibrated scores, shape ``(n, 3)``, columns in ``labels`` order."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        max_length = max_length or self.config.max_length
        limit = self.model.encoder.config.max_position_embeddings
        if max_length > limit:
            raise ValueError(f"max_length={max_length} exceeds the encoder's {limit} positions")
        items, _ = validate_texts(texts)
        if not items:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        windows, owners = self._encode_windows(items, max_length)
        logits = torch.from_numpy(self.window_logits(windows, batch_size))
        window_scores = torch.sigmoid(logits / self._temperatures()).numpy()
        scores = np.zeros((len(items), len(self.labels)), dtype=np.float32)
        np.maximum.at(scores, np.asarray(owners), window_scores)
        return scores

    def decide(self, scores: np.ndarray) -> list[Prediction]:
        """Apply the per-label thresholds to a score matrix."""
        thresholds = np.array([self.config.thresholds[label] for label in self.labels])
        return [
            Prediction(
                labels=[label for label, on in zip(self.labels, row >= thresholds) if on],
                scores={label: float(value) for label, value in zip(self.labels, row)},
            )
            for row in scores
        ]

    @overload
    def predict(self, texts: str, batch_size: int = ..., max_length: int | None = ...) -> Prediction: ...
    @overload
    def predict(self, texts: Iterable[str], batch_size: int = ..., max_length: int | None = ...) -> list[Prediction]: ...

    def predict(self, texts, batch_size=DEFAULT_BATCH_SIZE, max_length=None):
        """Labels and scores; a single string gives one ``Prediction``, a list gives a list."""
        single = isinstance(texts, str)
        predictions = self.decide(self.predict_proba(texts, batch_size=batch_size, max_length=max_length))
        return predictions[0] if single else predictions

    # ----- persistence -----------------------------------------------------------------

    def save_pretrained(self, folder: str | Path, model_card: str | None = None) -> Path:
        """Write config, weights (safetensors) and model card; only tensors not in the base are stored."""
        from .model_card import render_model_card

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = {f"head.{k}": v for k, v in self.model.head.state_dict().items()}
        encoder_state = self.model.encoder.state_dict()
        if self.config.base_encoder is None:
            names = list(encoder_state)
            (folder / ENCODER_CONFIG_FILE).write_text(self.model.encoder.config.to_json_string())
            self.tokenizer.backend_tokenizer.save(str(folder / TOKENIZER_FILE))
        else:
            names = list(self.config.stored_encoder_tensors)
        state.update({f"encoder.{name}": encoder_state[name] for name in names})
        save_file({k: v.detach().contiguous().cpu() for k, v in state.items()}, str(folder / WEIGHTS_FILE))
        self.config.stored_encoder_tensors = names
        self.config.weights_sha256 = sha256_file(folder / WEIGHTS_FILE)
        (folder / CONFIG_FILE).write_text(json.dumps(asdict(self.config), indent=2, ensure_ascii=False) + "\n")
        (folder / CARD_FILE).write_text(model_card or render_model_card(self.config))
        return folder

    @classmethod
    def from_pretrained(cls, folder: str | Path = SHIPPED_MODEL, backend: str = AUTO) -> Classifier:
        """Load a folder written by ``save_pretrained``; refuses weights whose hash does not match.

        ``backend``: ``"auto"`` (ONNX Runtime int8 when installed, else torch), ``"torch"``,
        ``"onnx-int8"`` or ``"onnx-fp32"``; see ``interference_clf.backends``.
        """
        check_local_path(folder)
        folder = Path(folder)
        try:
            config = ClassifierConfig.from_dict(json.loads((folder / CONFIG_FILE).read_text()))
        except FileNotFoundError:
            raise ModelFormatError(f"{folder} has no {CONFIG_FILE}; it is not a saved classifier") from None
        weights = folder / WEIGHTS_FILE
        if not weights.is_file():
            raise ModelFormatError(f"{folder} has no {WEIGHTS_FILE}")
        actual = sha256_file(weights)
        if actual != config.weights_sha256:
            raise ModelFormatError(
                f"{weights} has sha256 {actual[:12]}…, but the config expects {config.weights_sha256[:12]}…; "
                "the weights were changed or corrupted, refusing to load them"
            )
        state = load_file(str(weights))
        if config.base_encoder is None:
            encoder = BertModel(BertConfig.from_json_file(str(folder / ENCODER_CONFIG_FILE)), add_pooling_layer=False)
            tokenizer = load_tokenizer(folder / TOKENIZER_FILE)
        else:
            files = ensure_base_encoder(config.base_encoder["source_sha256"])
            encoder, tokenizer = load_base_encoder(files)
        model = ThreatModel(encoder, num_labels=len(config.labels))
        encoder_state = {k.removeprefix("encoder."): v for k, v in state.items() if k.startswith("encoder.")}
        head_state = {k.removeprefix("head."): v for k, v in state.items() if k.startswith("head.")}
        missing = set(config.stored_encoder_tensors) - set(encoder_state)
        if missing:
            raise ModelFormatError(f"{weights} lacks encoder tensors {sorted(missing)[:5]}")
        model.encoder.load_state_dict(encoder_state, strict=config.base_encoder is None)
        model.head.load_state_dict(head_state)
        return cls(model, tokenizer, config, backend=backend)

    # ----- documents -------------------------------------------------------------------

    def predict_documents(
        self,
        texts: str | Iterable[str],
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_length: int | None = None,
    ) -> list[DocumentPrediction]:
        """Split documents into passages that fit the model, label each passage, roll them up per document.

        A document's labels are the union of its passages' labels and its score for a label is its best
        passage's; each passage comes with its character span. See ``interference_clf.passages``.
        """
        from .passages import predict_documents

        max_length = max_length or self.config.max_length
        # The room for text that _encode_windows leaves, so that no passage needs windowing.
        passage_tokens = max_length - 2 - len(self._prefix_ids)
        return predict_documents(self, texts, passage_tokens, batch_size=batch_size, max_length=max_length)


def base_encoder_identity(source_sha256: str) -> dict[str, str]:
    return {"name": BASE_ENCODER_NAME, "source_sha256": source_sha256}


def load(path: str | Path | None = None, backend: str = AUTO) -> Classifier:
    """The shipped model, or the saved classifier at ``path``, scored by ``backend`` (see ``from_pretrained``)."""
    return Classifier.from_pretrained(SHIPPED_MODEL if path is None else path, backend=backend)
