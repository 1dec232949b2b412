"""Exporting the torch network to ONNX and quantising it to int8, into the verified per-user cache."""

from __future__ import annotations

import json
import logging
import os
import uuid
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from ..encoder import sha256_file
from ..modeling import ThreatModel, pad_batch
from .onnx_backend import (
    CACHE_FORMAT,
    FP32_FILE,
    INT8_FILE,
    MANIFEST_FILE,
    OnnxCacheError,
    is_verified,
    onnx_cache_folder,
    onnx_file_name,
    read_manifest,
    session,
)

OPSET = 17
# The exported graph must reproduce torch's logits this closely on a probe batch.
EXPORT_TOLERANCE = 1e-3

logger = logging.getLogger(__name__)


def _write_atomically(folder: Path, name: str, write: Callable[[Path], None]) -> None:
    """Let ``write(path)`` fill a temporary file, then rename it: a crash never leaves half a file, and
    processes building the same cache at once each rename a complete one."""
    temporary = folder / f".{name}.{uuid.uuid4().hex}.tmp"
    try:
        write(temporary)
        os.replace(temporary, folder / name)
    finally:
        temporary.unlink(missing_ok=True)


def _probe_batch(model: ThreatModel, pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    # Rows of different lengths, so the traced graph takes the padded-attention path.
    vocab = model.encoder.config.vocab_size
    return pad_batch([[(7 * i) % vocab for i in range(1, 12)], [(11 * i) % vocab for i in range(1, 5)]], pad_id)


def export_fp32(model: ThreatModel, pad_id: int, path: Path) -> None:
    """Trace ``model`` to ONNX (logits before temperature) and check it agrees with torch."""
    model = model.eval()
    input_ids, attention_mask = _probe_batch(model, pad_id)
    with torch.inference_mode():
        expected = model(input_ids, attention_mask).numpy()
    # The legacy TorchScript exporter: the dynamo exporter fails on this BERT. Its tracer warns about
    # shape checks frozen into the graph; the comparison with torch below is the check that counts.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (input_ids, attention_mask),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                          "logits": {0: "batch"}},
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    actual = session(path).run(["logits"], {"input_ids": input_ids.numpy(),
                                            "attention_mask": attention_mask.numpy()})[0]
    gap = float(np.abs(actual - expected).max())
    if gap > EXPORT_TOLERANCE:
        raise OnnxCacheError(f"the ONNX export differs from torch by {gap:.2e} (> {EXPORT_TOLERANCE}) on a probe batch")


def quantise_int8(source: Path, target: Path, kept_fp32: Sequence[str] = ()) -> None:
    """Dynamic int8: weights quantised once per output channel, activations at run time, once per call.

    ``kept_fp32`` names graph nodes left unquantised (``benchmarks/quantisation.py`` tries groups of them).
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Per-channel keeps macro-F1 where per-tensor weights cost about 2.5 points. 7-bit weights (reduce_range):
    # without VNNI, the AVX2 int8 kernels add u8*s8 products in pairs into saturating int16, which full-range
    # weights overflow; on the test model that made the logit error 13 times larger.
    quantize_dynamic(source, target, per_channel=True, reduce_range=True, weight_type=QuantType.QInt8,
                     nodes_to_exclude=list(kept_fp32))


def build_onnx_cache(model: ThreatModel, pad_id: int, weights_sha256: str, quantised: bool,
                     rebuild: bool = False) -> Path:
    """The verified cached ONNX file for this model, exported (and quantised) first when needed."""
    if not weights_sha256:
        raise OnnxCacheError("ONNX backends need a model loaded with Classifier.from_pretrained (its weights hash)")
    folder = onnx_cache_folder(weights_sha256)
    target = onnx_file_name(quantised)
    if not rebuild and is_verified(folder, target, weights_sha256):
        return folder / target
    folder.mkdir(parents=True, exist_ok=True)
    files = {} if rebuild else read_manifest(folder, weights_sha256)
    if rebuild or not is_verified(folder, FP32_FILE, weights_sha256):
        logger.warning("exporting the model to ONNX in %s (once per model)", folder)
        _write_atomically(folder, FP32_FILE, lambda path: export_fp32(model, pad_id, path))
        files[FP32_FILE] = sha256_file(folder / FP32_FILE)
    if quantised:
        logger.warning("quantising the ONNX model to int8 in %s (once per model)", folder)
        _write_atomically(folder, INT8_FILE, lambda path: quantise_int8(folder / FP32_FILE, path))
        files[INT8_FILE] = sha256_file(folder / INT8_FILE)
    manifest = {"format": CACHE_FORMAT, "weights_sha256": weights_sha256, "files": files}
    _write_atomically(folder, MANIFEST_FILE, lambda path: path.write_text(json.dumps(manifest, indent=2) + "\n"))
    if not is_verified(folder, target, weights_sha256):
        raise OnnxCacheError(f"the ONNX cache at {folder} could not be written and verified")
    return folder / target
