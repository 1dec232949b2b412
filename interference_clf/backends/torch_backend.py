"""The fp32 PyTorch backend: the model exactly as trained."""

from __future__ import annotations

import numpy as np
import torch

from ..modeling import ThreatModel, pad_batch
from . import TORCH


class TorchScorer:
    name = TORCH

    def __init__(self, model: ThreatModel, pad_id: int):
        self.model = model.eval()
        self.pad_id = pad_id
        self.num_labels = model.head.out_features

    def logits(self, windows: list[list[int]], batch_size: int) -> np.ndarray:
        """Batches are cut from length-sorted windows, so little padding is computed, then rows go back in order."""
        logits = np.zeros((len(windows), self.num_labels), dtype=np.float32)
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]), reverse=True)
        # inference_mode rather than no_grad: it also skips autograd's version counting.
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chosen = order[start : start + batch_size]
                input_ids, attention_mask = pad_batch([windows[i] for i in chosen], self.pad_id)
                logits[chosen] = self.model(input_ids, attention_mask).float().numpy()
        return logits
