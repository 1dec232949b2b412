"""The classifier: scores, thresholds, windows, documents and evidence, and its folder on disk.

Inference lives here; training does not (see ``trainer``). The network itself
is in ``modeling`` and is built only when something needs it: scoring a cached,
verified ONNX export needs no torch at all.

Long texts are never silently truncated: they are scored over overlapping
windows (see ``tokenization``) and a text's score for a label is the highest
score any of its windows got (a threat named anywhere in a text makes the text
about that threat).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from .backends import AUTO, TORCH, WindowScorer, create_backend
from .config import (
    CARD_FILE,
    ENCODER_CONFIG_FILE,
    TOKENIZER_FILE,
    WEIGHTS_FILE,
    ClassifierConfig,
    ModelFormatError,
)
from .encoder import (
    BASE_ENCODER_NAME,
    base_encoder_config,
    ensure_base_encoder,
    sha256_file,
    verified_base_tokenizer,
)
from .inputs import validate_texts
from .labels import LABELS
from .offline import check_local_path
from .shipped import resolve_model
from .tokenization import TextEncoder, load_tokenizer

if TYPE_CHECKING:
    from tokenizers import Tokenizer

    from .evidence import EvidenceSpan
    from .modeling import ThreatModel
    from .passages import DocumentPrediction

DEFAULT_BATCH_SIZE = 32


@dataclass(frozen=True)
class Prediction:
    """The labels a text was given, the score of every label and, when asked for, the evidence.

    ``evidence`` maps each given label to spans of the text, best first (see ``interference_clf.evidence``).
    """

    labels: list[str]
    scores: dict[str, float]
    evidence: dict[str, list[EvidenceSpan]] | None = None


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class Classifier:
    """Labels texts with any of ``cyberattack``, ``disinformation``, ``espionage``.

    >>> clf = interference_clf.load()
    >>> clf.predict("Hackers defaced the electoral commission's website.").labels
    ['cyberattack']
    """

    def __init__(
        self,
        config: ClassifierConfig,
        tokenizer: Tokenizer,
        model: ThreatModel | None = None,
        backend: str = TORCH,
        folder: str | Path | None = None,
    ):
        if tuple(config.labels) != LABELS:
            raise ModelFormatError(f"model labels {config.labels} differ from the library's {LABELS}")
        if model is None and folder is None:
            raise ValueError("a Classifier needs its network or the folder it was saved in")
        self.config = config
        self.tokenizer = tokenizer
        self.text_encoder = TextEncoder(tokenizer, config.prefix)
        self.folder = None if folder is None else Path(folder)
        self._model = model
        # The encoder's shape, read from its config so that no torch network is built for it.
        self.encoder_config = self._encoder_config()
        self.max_positions = int(self.encoder_config["max_position_embeddings"])
        self.backend: WindowScorer = create_backend(backend, config, self.text_encoder.pad_id, lambda: self.model)

    @property
    def model(self) -> ThreatModel:
        """The torch network, built from the saved folder the first time it is needed."""
        if self._model is None:
            from .modeling import build_model

            self._model = build_model(self.config, self.folder)
        return self._model

    def _encoder_config(self) -> dict:
        if self._model is not None:
            return self._model.encoder.config.to_dict()
        if self.config.base_encoder is None:
            return json.loads((self.folder / ENCODER_CONFIG_FILE).read_text())
        return base_encoder_config(self.config.base_encoder["source_sha256"])

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.config.labels)

    @property
    def thresholds(self) -> dict[str, float]:
        return dict(self.config.thresholds)

    @property
    def num_layers(self) -> int:
        if self.config.encoder_layers is not None:
            return len(self.config.encoder_layers)
        return int(self.encoder_config["num_hidden_layers"])

    # ----- inference -------------------------------------------------------------------

    def window_logits(self, windows: list[list[int]], batch_size: int) -> np.ndarray:
        """Raw logits per window, from the backend chosen at load time."""
        return self.backend.logits(windows, batch_size)

    def _temperatures(self) -> np.ndarray:
        return np.array([self.config.temperatures[label] for label in self.labels], dtype=np.float32)

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
        if max_length > self.max_positions:
            raise ValueError(f"max_length={max_length} exceeds the encoder's {self.max_positions} positions")
        items, _ = validate_texts(texts)
        if not items:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        windows, owners = self.text_encoder.windows(items, max_length)
        window_scores = sigmoid(self.window_logits(windows, batch_size) / self._temperatures())
        scores = np.zeros((len(items), len(self.labels)), dtype=np.float32)
        np.maximum.at(scores, np.asarray(owners), window_scores.astype(np.float32))
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
    def predict(self, texts: str, batch_size: int = ..., max_length: int | None = ...,
                evidence: bool = ...) -> Prediction: ...
    @overload
    def predict(self, texts: Iterable[str], batch_size: int = ..., max_length: int | None = ...,
                evidence: bool = ...) -> list[Prediction]: ...

    def predict(self, texts, batch_size=DEFAULT_BATCH_SIZE, max_length=None, evidence=False):
        """Labels and scores; a single string gives one ``Prediction``, a list gives a list.

        ``evidence=True`` adds, for each label given, the spans of the text that carry it (it costs
        a few more model calls per labelled text; without it nothing extra is computed).
        """
        single = isinstance(texts, str)
        items, _ = validate_texts(texts)
        predictions = self.decide(self.predict_proba(items, batch_size=batch_size, max_length=max_length))
        if evidence:
            from .evidence import attach_evidence

            predictions = attach_evidence(self, items, predictions, batch_size=batch_size, max_length=max_length)
        return predictions[0] if single else predictions

    def predict_documents(
        self,
        texts: str | Iterable[str],
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_length: int | None = None,
        evidence: bool = False,
    ) -> list[DocumentPrediction]:
        """Split documents into passages that fit the model, label each passage, roll them up per document.

        A document's labels are the union of its passages' labels and its score for a label is its best
        passage's; each passage comes with its character span. See ``interference_clf.passages``.
        """
        from .passages import predict_documents

        max_length = max_length or self.config.max_length
        # The room for text that one window leaves, so that no passage needs windowing.
        return predict_documents(self, texts, self.text_encoder.text_budget(max_length), batch_size=batch_size,
                                 max_length=max_length, evidence=evidence)

    def predict_dataset(self, dataset: Any, text_column: str = "text", batch_size: int = DEFAULT_BATCH_SIZE,
                        **map_kwargs: Any) -> Any:
        """A ``datasets.Dataset`` with ``labels`` and ``score_<label>`` columns added (a batched ``map``)."""
        from .integrations.datasets import predict_dataset

        return predict_dataset(self, dataset, text_column=text_column, batch_size=batch_size, **map_kwargs)

    def evaluate(self, data: Any, batch_size: int = DEFAULT_BATCH_SIZE, text_column: str = "text") -> dict:
        """Metrics on labelled data (a path, a ``datasets.Dataset`` or rows): see ``evaluation.evaluate_classifier``."""
        from .evaluation import evaluate_classifier

        return evaluate_classifier(self, data, batch_size=batch_size, text_column=text_column).result

    # ----- persistence -----------------------------------------------------------------

    def save_pretrained(self, folder: str | Path, model_card: str | None = None) -> Path:
        """Write config, weights (safetensors) and model card; only tensors not in the base are stored."""
        from .model_card import render_model_card
        from .modeling import save_weights

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        names = save_weights(self.model, self.config, folder / WEIGHTS_FILE)
        if self.config.base_encoder is None:
            (folder / ENCODER_CONFIG_FILE).write_text(self.model.encoder.config.to_json_string())
            self.tokenizer.save(str(folder / TOKENIZER_FILE))
        self.config.stored_encoder_tensors = names
        self.config.weights_sha256 = sha256_file(folder / WEIGHTS_FILE)
        self.config.write(folder)
        (folder / CARD_FILE).write_text(model_card or render_model_card(self.config), encoding="utf-8")
        self.folder = folder
        return folder

    @classmethod
    def from_pretrained(cls, folder: str | Path | None = None, backend: str = AUTO) -> Classifier:
        """Load a shipped model by name (None: the default one) or a folder written by ``save_pretrained``.

        Weights whose hash does not match the config are refused. ``backend``: ``"auto"`` (ONNX Runtime
        int8 when installed, else torch), ``"torch"``, ``"onnx-int8"`` or ``"onnx-fp32"``; see
        ``interference_clf.backends``.
        """
        folder = resolve_model(folder)
        check_local_path(folder)
        config = ClassifierConfig.read(folder)
        weights = folder / WEIGHTS_FILE
        if not weights.is_file():
            raise ModelFormatError(f"{folder} has no {WEIGHTS_FILE}")
        actual = sha256_file(weights)
        if actual != config.weights_sha256:
            raise ModelFormatError(
                f"{weights} has sha256 {actual[:12]}…, but the config expects {config.weights_sha256[:12]}…; "
                "the weights were changed or corrupted, refusing to load them"
            )
        if config.base_encoder is None:
            tokenizer_path = folder / TOKENIZER_FILE
        else:
            source = config.base_encoder["source_sha256"]
            tokenizer_path = verified_base_tokenizer(source) or ensure_base_encoder(source).tokenizer
        return cls(config, load_tokenizer(tokenizer_path), backend=backend, folder=folder)


def base_encoder_identity(source_sha256: str) -> dict[str, str]:
    return {"name": BASE_ENCODER_NAME, "source_sha256": source_sha256}


def load(path: str | Path | None = None, backend: str = AUTO) -> Classifier:
    """A shipped model by name (None: the default), or the saved classifier at ``path``, scored by ``backend``."""
    return Classifier.from_pretrained(path, backend=backend)

