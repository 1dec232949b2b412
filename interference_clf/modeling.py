"""The network in PyTorch: a BERT encoder, mean pooling over real tokens, one logit per label.

The classifier, the torch backend, the ONNX exporter and the trainer all build
the network here; this module imports none of them. Importing it imports torch
and transformers, so the library only does so to train, to export, or to score
with the torch backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .offline import enforce_offline

enforce_offline()

import torch  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402
from torch import nn  # noqa: E402
from transformers import BertConfig, BertModel  # noqa: E402
from transformers.utils import logging as transformers_logging  # noqa: E402

from .config import ENCODER_CONFIG_FILE, WEIGHTS_FILE, ClassifierConfig, ModelFormatError  # noqa: E402
from .encoder import BaseEncoderFiles, ensure_base_encoder  # noqa: E402

transformers_logging.disable_progress_bar()

HEAD_PREFIX = "head."
ENCODER_PREFIX = "encoder."
STORAGE_DTYPES = {"float32": torch.float32, "float16": torch.float16}


class ThreatModel(nn.Module):
    """Encoder, mean pooling over real tokens, dropout and a linear layer with one logit per label."""

    def __init__(self, encoder: BertModel, num_labels: int, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(encoder.config.hidden_size, num_labels)

    @staticmethod
    def pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.pool(hidden, attention_mask)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(self.embed(input_ids, attention_mask)))


def pad_batch(sequences: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad to the longest sequence of this batch (dynamic padding)."""
    width = max(len(ids) for ids in sequences)
    input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, ids in enumerate(sequences):
        input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        attention_mask[row, : len(ids)] = 1
    return input_ids, attention_mask


def load_base_encoder(files: BaseEncoderFiles | None = None) -> BertModel:
    """The pretrained encoder (without pooler) from the verified cache."""
    files = files or ensure_base_encoder()
    encoder = BertModel.from_pretrained(str(files.folder), add_pooling_layer=False, local_files_only=True)
    return encoder.eval()


def keep_layers(encoder: BertModel, layers: Sequence[int]) -> BertModel:
    """The encoder with only ``layers`` (in that order): how a shallower student starts from its teacher."""
    total = encoder.config.num_hidden_layers
    if not layers or any(not 0 <= i < total for i in layers):
        raise ValueError(f"layers {list(layers)} are not a non-empty subset of the encoder's {total}")
    encoder.encoder.layer = nn.ModuleList([encoder.encoder.layer[i] for i in layers])
    encoder.config.num_hidden_layers = len(layers)
    return encoder


def build_model(config: ClassifierConfig, folder: str | Path) -> ThreatModel:
    """The network of a saved classifier: the base encoder (or the one stored whole) plus the stored tensors."""
    folder = Path(folder)
    state = load_file(str(folder / WEIGHTS_FILE))
    if config.base_encoder is None:
        encoder = BertModel(BertConfig.from_json_file(str(folder / ENCODER_CONFIG_FILE)), add_pooling_layer=False)
    else:
        encoder = load_base_encoder(ensure_base_encoder(config.base_encoder["source_sha256"]))
        if config.encoder_layers is not None:
            keep_layers(encoder, config.encoder_layers)
    model = ThreatModel(encoder, num_labels=config.num_labels)
    encoder_state = {k.removeprefix(ENCODER_PREFIX): v for k, v in state.items() if k.startswith(ENCODER_PREFIX)}
    head_state = {k.removeprefix(HEAD_PREFIX): v for k, v in state.items() if k.startswith(HEAD_PREFIX)}
    missing = set(config.stored_encoder_tensors) - set(encoder_state)
    if missing:
        raise ModelFormatError(f"{folder / WEIGHTS_FILE} lacks encoder tensors {sorted(missing)[:5]}")
    # load_state_dict copies into the fp32 parameters, so tensors stored as float16 come back as float32.
    model.encoder.load_state_dict(encoder_state, strict=config.base_encoder is None)
    model.head.load_state_dict(head_state)
    return model.eval()


def save_weights(model: ThreatModel, config: ClassifierConfig, path: str | Path) -> list[str]:
    """Write the head and the encoder tensors that differ from the base; returns the encoder tensor names."""
    encoder_state = model.encoder.state_dict()
    names = list(encoder_state) if config.base_encoder is None else list(config.stored_encoder_tensors)
    dtype = STORAGE_DTYPES[config.weights_dtype]
    state = {f"{HEAD_PREFIX}{k}": v.float() for k, v in model.head.state_dict().items()}
    state.update({f"{ENCODER_PREFIX}{name}": encoder_state[name].to(dtype) for name in names})
    save_file({k: v.detach().contiguous().cpu() for k, v in state.items()}, str(path))
    return names


def round_to_storage(model: ThreatModel, names: Sequence[str], weights_dtype: str) -> None:
    """Give the encoder tensors in ``names`` the values they will have once stored in ``weights_dtype``,
    so that what is calibrated and evaluated in memory is exactly what is saved."""
    dtype = STORAGE_DTYPES[weights_dtype]
    state = model.encoder.state_dict()
    with torch.no_grad():
        for name in names:
            state[name].copy_(state[name].to(dtype).float())
