"""Fine-tuning: the one training loop behind the shipped model, users' own adaptations and the distilled student.

    import interference_clf as ic
    clf = ic.train("my_labelled.jsonl", output_dir="my-model")     # adapts the shipped model
    clf = ic.load("my-model")

Steps: run the frozen bottom layers once and cache their outputs; train the
top ``trained_layers`` and the head (one sigmoid per label) on the train rows;
keep the epoch with the best dev macro-F1; fit a temperature per label, then a
threshold per label, on the dev rows. Needs the ``train`` extra (scikit-learn, scipy).
"""

from __future__ import annotations

import copy
import json
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .calibration import fit_temperatures, fit_thresholds
from .classifier import Classifier, base_encoder_identity, load, sigmoid
from .config import ClassifierConfig
from .data import LabelledData, read_labelled
from .encoder import ensure_base_encoder
from .evaluation import classification_metrics, expected_calibration_error
from .labels import LABELS
from .modeling import ThreatModel, keep_layers, load_base_encoder, pad_batch, round_to_storage
from .progress import progress
from .tokenization import load_tokenizer
from .training_args import TrainingArguments


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def base_classifier(max_length: int = 256, encoder_layers: Sequence[int] | None = None, seed: int = 13) -> Classifier:
    """A classifier on the pretrained base encoder with a new, untrained head: where the shipped recipe starts."""
    torch.manual_seed(seed)
    files = ensure_base_encoder()
    encoder = load_base_encoder(files)
    if encoder_layers is not None:
        keep_layers(encoder, encoder_layers)
    config = ClassifierConfig(max_length=max_length, base_encoder=base_encoder_identity(files.source_sha256),
                              encoder_layers=None if encoder_layers is None else list(encoder_layers))
    return Classifier(config, load_tokenizer(files.tokenizer), model=ThreatModel(encoder, len(LABELS)))


class SplitEncoder:
    """Runs the frozen bottom of the encoder once, then its trainable top as often as needed."""

    def __init__(self, model: ThreatModel, trained_layers: int):
        self.model = model
        self.layers = model.encoder.encoder.layer
        self.cut = max(0, len(self.layers) - trained_layers)

    def unfreeze_top(self) -> list[str]:
        """Freeze the encoder but its top layers; the names of the encoder tensors left trainable."""
        for param in self.model.encoder.parameters():
            param.requires_grad_(False)
        for layer in self.layers[self.cut :]:
            for param in layer.parameters():
                param.requires_grad_(True)
        return [name for name, param in self.model.encoder.named_parameters() if param.requires_grad]

    @staticmethod
    def mask(attention_mask: torch.Tensor) -> torch.Tensor:
        # A (batch, 1, 1, length) boolean mask: which keys each query may attend to.
        return attention_mask[:, None, None, :].bool()

    @torch.inference_mode()
    def bottom(self, windows: list[list[int]], pad_id: int, batch_size: int = 64) -> list[torch.Tensor]:
        encoder = self.model.encoder.eval()
        out: list[torch.Tensor | None] = [None] * len(windows)
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            ids, attention = pad_batch([windows[i] for i in chosen], pad_id)
            hidden = encoder.embeddings(input_ids=ids)
            for layer in self.layers[: self.cut]:
                hidden = layer(hidden, attention_mask=self.mask(attention))
            for row, i in enumerate(chosen):
                out[i] = hidden[row, : len(windows[i])].clone()
        return out  # type: ignore[return-value]

    def pooled(self, hidden: list[torch.Tensor]) -> torch.Tensor:
        """Run the top layers over cached bottom outputs and mean-pool."""
        width = max(h.shape[0] for h in hidden)
        states = torch.zeros(len(hidden), width, hidden[0].shape[1])
        attention = torch.zeros(len(hidden), width, dtype=torch.long)
        for row, h in enumerate(hidden):
            states[row, : h.shape[0]] = h
            attention[row, : h.shape[0]] = 1
        for layer in self.layers[self.cut :]:
            states = layer(states, attention_mask=self.mask(attention))
        return self.model.pool(states, attention)

    def logits(self, hidden: list[torch.Tensor], training: bool = False) -> torch.Tensor:
        return self.model.head(self.model.dropout(self.pooled(hidden))) if training else self.model.head(
            self.pooled(hidden))

    def predict_logits(self, hidden: list[torch.Tensor], batch_size: int = 64) -> np.ndarray:
        return self._batched(hidden, batch_size, self.logits, self.model.head.out_features)

    def embeddings(self, hidden: list[torch.Tensor], batch_size: int = 64) -> np.ndarray:
        """Mean-pooled, L2-normalised sentence embeddings (E5's own use), from the current top layers."""
        normalised = lambda chosen: nn.functional.normalize(self.pooled(chosen), dim=-1)  # noqa: E731
        return self._batched(hidden, batch_size, normalised, self.model.head.in_features)

    def _batched(self, hidden: list[torch.Tensor], batch_size: int,
                 forward: Callable[[list[torch.Tensor]], torch.Tensor], width: int) -> np.ndarray:
        """``forward`` over length-sorted batches in eval mode, rows back in input order."""
        self.model.eval()
        order = sorted(range(len(hidden)), key=lambda i: hidden[i].shape[0])
        out = np.zeros((len(hidden), width), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chosen = order[start : start + batch_size]
                out[chosen] = forward([hidden[i] for i in chosen]).numpy()
        return out


def length_bucketed_batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar lengths, so padding stays small."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rng.random()))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


@dataclass
class TrainingResult:
    """What a run produced, beside the classifier: its history and the dev measurements behind its choices."""

    history: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    seconds: float = 0.0
    sizes: dict[str, int] = field(default_factory=dict)
    calibration: dict[str, float] = field(default_factory=dict)
    skipped_rows: list[str] = field(default_factory=list)


class Trainer:
    """Fine-tunes a classifier's top layers and head; ``train`` returns a new, calibrated classifier.

    ``model``: where to start (default: the shipped model; ``base_classifier()`` for a fresh head).
    """

    def __init__(self, model: Classifier | None = None, args: TrainingArguments | None = None,
                 show_progress: bool = True):
        self.start = model
        self.args = args or TrainingArguments()
        self.show_progress = show_progress
        self.result = TrainingResult()
        # Called with the frozen bottom's cached outputs, before training changes the top (baselines use it).
        self.on_cached: Callable[[SplitEncoder, dict[str, list[torch.Tensor]]], None] | None = None

    def train(self, train: LabelledData, dev: LabelledData, targets: np.ndarray | None = None,
              extra_sets: dict[str, list[str]] | None = None) -> Classifier:
        """Fine-tune on ``train`` (``targets``: soft scores in [0, 1] to learn instead of its gold labels),
        choose the epoch and calibrate on ``dev``. ``extra_sets`` are texts whose frozen bottom is cached
        alongside, for ``on_cached``."""
        args = self.args
        y_train = torch.tensor(train.labels if targets is None else targets, dtype=torch.float32)
        if y_train.shape != (len(train), len(LABELS)):
            raise ValueError(f"targets must have shape ({len(train)}, {len(LABELS)}), got {tuple(y_train.shape)}")
        seed_everything(args.seed)
        started = time.time()
        self.result = TrainingResult(sizes={"train": len(train), "dev": len(dev)})
        start = self.start if self.start is not None else load(backend="torch")
        # Training changes the network in place: work on a copy, so the starting classifier stays as it was.
        model: ThreatModel = copy.deepcopy(start.model)
        model.dropout.p = args.dropout
        splitter = SplitEncoder(model, args.trained_layers)
        trained_names = splitter.unfreeze_top()

        encoder = start.text_encoder
        texts = {"train": train.texts, "dev": dev.texts, **(extra_sets or {})}
        hidden = {name: splitter.bottom(encoder.truncated(items, args.max_length), encoder.pad_id)
                  for name, items in texts.items()}
        if self.on_cached is not None:
            self.on_cached(splitter, hidden)

        self._fit(splitter, hidden["train"], y_train, hidden["dev"], dev, trained_names)
        round_to_storage(model, trained_names, args.weights_dtype)
        temperatures, thresholds = self._calibrate(splitter, hidden["dev"], dev)
        order = {name: i for i, name in enumerate(model.encoder.state_dict())}
        stored = sorted((set(start.config.stored_encoder_tensors) & set(order)) | set(trained_names), key=order.get)
        config = replace(
            start.config,
            max_length=args.max_length,
            temperatures=dict(zip(LABELS, map(float, temperatures))),
            thresholds=dict(zip(LABELS, map(float, thresholds))),
            stored_encoder_tensors=stored if start.config.base_encoder is not None else [],
            weights_dtype=args.weights_dtype,
            weights_sha256="",
        )
        self.result.seconds = round(time.time() - started, 1)
        return Classifier(config, start.tokenizer, model=model)

    def _fit(self, splitter: SplitEncoder, train_hidden: list[torch.Tensor], y_train: torch.Tensor,
             dev_hidden: list[torch.Tensor], dev: LabelledData, trained_names: list[str]) -> None:
        """The epochs: AdamW with warm-up and linear decay; the network ends with its best dev epoch's weights."""
        args, model = self.args, splitter.model
        layer_params = [p for layer in splitter.layers[splitter.cut :] for p in layer.parameters()]
        optimizer = torch.optim.AdamW(
            [{"params": layer_params, "lr": args.learning_rate},
             {"params": model.head.parameters(), "lr": args.head_learning_rate}],
            weight_decay=args.weight_decay,
        )
        rng = random.Random(args.seed)
        steps_per_epoch = math.ceil(len(train_hidden) / args.batch_size)
        total_steps = steps_per_epoch * args.epochs
        warmup = max(1, int(args.warmup_share * total_steps))
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lambda step: min((step + 1) / warmup, max(0.0, (total_steps - step) / max(1, total_steps - warmup))),
        )
        loss_fn = nn.BCEWithLogitsLoss()
        lengths = [h.shape[0] for h in train_hidden]
        best_f1, best_state = -1.0, None
        for epoch in range(1, args.epochs + 1):
            model.train()
            epoch_started, running = time.time(), 0.0
            bar = progress(steps_per_epoch, f"epoch {epoch}/{args.epochs}", "steps", enabled=self.show_progress)
            for batch in length_bucketed_batches(lengths, args.batch_size, rng):
                loss = loss_fn(splitter.logits([train_hidden[i] for i in batch], training=True), y_train[batch])
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(layer_params, 1.0)
                optimizer.step()
                scheduler.step()
                running += loss.item() * len(batch)
                bar.update(1)
            bar.close()
            dev_scores = sigmoid(splitter.predict_logits(dev_hidden))
            dev_f1 = classification_metrics(dev.labels, (dev_scores >= 0.5).astype(int))["macro_f1"]
            self.result.history.append({"epoch": epoch, "train_loss": round(running / len(train_hidden), 5),
                                        "dev_macro_f1@0.5": round(dev_f1, 4),
                                        "seconds": round(time.time() - epoch_started, 1)})
            if self.show_progress:
                print(json.dumps(self.result.history[-1]), file=sys.stderr, flush=True)
            if dev_f1 > best_f1:
                best_f1, self.result.best_epoch = dev_f1, epoch
                best_state = {name: value.detach().clone() for name, value in model.state_dict().items()
                              if name.removeprefix("encoder.") in trained_names or name.startswith("head.")}
        model.load_state_dict(best_state, strict=False)
        model.eval()

    def _calibrate(self, splitter: SplitEncoder, dev_hidden: list[torch.Tensor],
                   dev: LabelledData) -> tuple[np.ndarray, np.ndarray]:
        """A temperature per label (dev log-loss), then a threshold per label (dev F1) on the calibrated scores."""
        dev_logits = splitter.predict_logits(dev_hidden)
        temperatures = fit_temperatures(dev_logits, dev.labels)
        calibrated = sigmoid(dev_logits / temperatures)
        self.result.calibration = {
            "dev_ece_before_temperature": expected_calibration_error(dev.labels, sigmoid(dev_logits)),
            "dev_ece_after_temperature": expected_calibration_error(dev.labels, calibrated),
        }
        return temperatures, fit_thresholds(dev.labels, calibrated)


def split_dev(data: LabelledData, dev_fraction: float, seed: int) -> tuple[LabelledData, LabelledData]:
    """Train and dev parts: the data's own ``split`` column when it names a dev part, else a seeded random share."""
    if any(split == "dev" for split in data.splits):
        return data.split("train"), data.split("dev")
    order = np.random.default_rng(seed).permutation(len(data))
    size = max(1, round(dev_fraction * len(data)))
    if len(data) - size < 1:
        raise ValueError(f"{len(data)} rows are too few to hold out a dev part and still train")
    return data.subset(sorted(order[size:])), data.subset(sorted(order[:size]))


def train(
    data: str | Path | LabelledData | Any,
    output_dir: str | Path | None = None,
    *,
    model: Classifier | None = None,
    args: TrainingArguments | None = None,
    dev_data: str | Path | LabelledData | Any | None = None,
    text_column: str = "text",
    labels_column: str = "labels",
    skip_bad_rows: bool = False,
    show_progress: bool = True,
) -> Classifier:
    """Fine-tune ``model`` (default: the shipped model) on labelled rows and return the calibrated classifier.

    ``data``: a JSONL/CSV/Parquet path, a ``datasets.Dataset`` or a list of dicts with ``text`` and ``labels``
    (optional ``lang``, ``split``). Without ``dev_data`` the rows whose split is ``dev`` pick the epoch and fit
    thresholds, or, without such rows, a seeded ``args.dev_fraction`` of them. Bad rows stop the run before
    any training (``BadRowsError`` lists them by row number) unless ``skip_bad_rows``. With ``output_dir``
    the result is saved there with its model card.
    """
    args = args or TrainingArguments()

    def read(source: Any) -> LabelledData:
        if isinstance(source, LabelledData):
            return source
        return read_labelled(source, text_column=text_column, labels_column=labels_column,
                             skip_bad_rows=skip_bad_rows)

    labelled = read(data)
    if dev_data is None:
        train_part, dev_part = split_dev(labelled, args.dev_fraction, args.seed)
    else:
        train_part, dev_part = labelled, read(dev_data)
    trainer = Trainer(model, args, show_progress=show_progress)
    clf = trainer.train(train_part, dev_part)
    trainer.result.skipped_rows = labelled.skipped
    if output_dir is not None:
        from .model_card import render_model_card

        card = render_model_card(clf.config, title=Path(output_dir).name,
                                 sections=adaptation_card_sections(trainer, args, dev_part))
        clf.save_pretrained(output_dir, model_card=card)
    return clf


def adaptation_card_sections(trainer: Trainer, args: TrainingArguments, dev: LabelledData) -> dict[str, str]:
    result = trainer.result
    start = "the shipped model" if trainer.start is None else "the given classifier"
    return {
        "Training": (
            f"Fine-tuned from {start} with `interference_clf.train` on {result.sizes['train']} rows, "
            f"{result.sizes['dev']} dev rows ({len(result.skipped_rows)} bad rows skipped): top "
            f"{args.trained_layers} encoder layers and the head, {args.epochs} epochs, batch {args.batch_size}, "
            f"lr {args.learning_rate} / head {args.head_learning_rate}, seed {args.seed}. Best dev epoch "
            f"{result.best_epoch}; {result.seconds:.0f} s. Temperatures and thresholds fitted on the dev rows."
        ),
        "History": "\n".join(f"- epoch {h['epoch']}: train loss {h['train_loss']}, dev macro-F1 at 0.5 "
                             f"{h['dev_macro_f1@0.5']}" for h in result.history),
    }
