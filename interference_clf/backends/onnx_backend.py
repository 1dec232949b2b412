"""ONNX Runtime backends: the model exported to ONNX, optionally with int8 weights.

The export lives in the per-user cache under ``onnx/<weights_sha256>/``, keyed by
the hash of the model's weights file, so a retrained model never meets a stale
graph. A manifest holds every file's SHA-256; each load checks the file it uses
and rebuilds it when it is missing or does not match.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from ..classifier import ThreatModel, pad_batch
from ..encoder import cache_root, sha256_file
from . import ONNX_FP32, ONNX_INT8

CACHE_FORMAT = 1
FP32_FILE = "model-fp32.onnx"
INT8_FILE = "model-int8.onnx"
MANIFEST_FILE = "manifest.json"
OPSET = 17
# The exported graph must reproduce torch's logits this closely on a probe batch.
EXPORT_TOLERANCE = 1e-3

logger = logging.getLogger(__name__)


class OnnxCacheError(RuntimeError):
    """The ONNX export could not be built or verified."""


def onnx_cache_folder(weights_sha256: str) -> Path:
    return cache_root() / "onnx" / weights_sha256


def _read_manifest(folder: Path, weights_sha256: str) -> dict[str, str]:
    """File name → SHA-256 recorded at build time; empty when the manifest is absent or for another model."""
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return {}
    if manifest.get("format") != CACHE_FORMAT or manifest.get("weights_sha256") != weights_sha256:
        return {}
    return dict(manifest.get("files", {}))


def _is_verified(folder: Path, name: str, weights_sha256: str) -> bool:
    expected = _read_manifest(folder, weights_sha256).get(name)
    return expected is not None and (folder / name).is_file() and sha256_file(folder / name) == expected


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
    session = _session(path)
    actual = session.run(["logits"], {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()})[0]
    gap = float(np.abs(actual - expected).max())
    if gap > EXPORT_TOLERANCE:
        raise OnnxCacheError(f"the ONNX export differs from torch by {gap:.2e} (> {EXPORT_TOLERANCE}) on a probe batch")


def quantise_int8(source: Path, target: Path) -> None:
    """Dynamic int8: weights quantised once per output channel, activations at run time, once per call."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Per-channel keeps macro-F1 where per-tensor weights cost about 2.5 points. 7-bit weights (reduce_range):
    # without VNNI, the AVX2 int8 kernels add u8*s8 products in pairs into saturating int16, which full-range
    # weights overflow; on the test model that made the logit error 13 times larger.
    quantize_dynamic(source, target, per_channel=True, reduce_range=True, weight_type=QuantType.QInt8)


def ensure_onnx_model(model: ThreatModel, pad_id: int, weights_sha256: str, quantised: bool,
                      rebuild: bool = False) -> Path:
    """The verified cached ONNX file for this model, exported (and quantised) first when needed."""
    if not weights_sha256:
        raise OnnxCacheError("ONNX backends need a model loaded with Classifier.from_pretrained (its weights hash)")
    folder = onnx_cache_folder(weights_sha256)
    target = INT8_FILE if quantised else FP32_FILE
    if not rebuild and _is_verified(folder, target, weights_sha256):
        return folder / target
    folder.mkdir(parents=True, exist_ok=True)
    files = {} if rebuild else _read_manifest(folder, weights_sha256)
    if rebuild or not _is_verified(folder, FP32_FILE, weights_sha256):
        logger.warning("exporting the model to ONNX in %s (once per model)", folder)
        _write_atomically(folder, FP32_FILE, lambda path: export_fp32(model, pad_id, path))
        files[FP32_FILE] = sha256_file(folder / FP32_FILE)
    if quantised:
        logger.warning("quantising the ONNX model to int8 in %s (once per model)", folder)
        _write_atomically(folder, INT8_FILE, lambda path: quantise_int8(folder / FP32_FILE, path))
        files[INT8_FILE] = sha256_file(folder / INT8_FILE)
    manifest = {"format": CACHE_FORMAT, "weights_sha256": weights_sha256, "files": files}
    _write_atomically(folder, MANIFEST_FILE, lambda path: path.write_text(json.dumps(manifest, indent=2) + "\n"))
    if not _is_verified(folder, target, weights_sha256):
        raise OnnxCacheError(f"the ONNX cache at {folder} could not be written and verified")
    return folder / target


def _session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    # One thread per call: parallelism comes from scoring several windows at once (see OnnxScorer).
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Basic folding only: ORT's BERT fusions did not make this model faster on AVX2 CPUs (slower on one
    # machine, within noise on another), and they lengthen every session start.
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxScorer:
    """Scores each window in a call of its own, one worker thread per core.

    Alone, a window needs no padding, and its int8 scores cannot depend on its neighbours:
    dynamic quantisation picks one activation scale per call, so in a shared batch the other
    windows would shift it. The same text therefore always gets the same scores, whatever it
    is batched with. ``batch_size`` is not used.
    """

    def __init__(self, path: Path, num_labels: int, quantised: bool, workers: int):
        self.name = ONNX_INT8 if quantised else ONNX_FP32
        self.path = path
        self.num_labels = num_labels
        self.workers = workers
        self.session = _session(path)

    @classmethod
    def for_model(cls, model: ThreatModel, pad_id: int, weights_sha256: str, quantised: bool) -> OnnxScorer:
        path = ensure_onnx_model(model, pad_id, weights_sha256, quantised)
        # torch's thread count: the physical cores unless the user set it, the same budget the torch backend uses.
        return cls(path, model.head.out_features, quantised, workers=torch.get_num_threads())

    def _score_window(self, window: list[int]) -> np.ndarray:
        input_ids = np.asarray([window], dtype=np.int64)
        return self.session.run(["logits"], {"input_ids": input_ids, "attention_mask": np.ones_like(input_ids)})[0][0]

    def logits(self, windows: list[list[int]], batch_size: int) -> np.ndarray:
        if not windows:
            return np.zeros((0, self.num_labels), dtype=np.float32)
        # ONNX Runtime releases the GIL while it runs, so threads score windows in parallel.
        with ThreadPoolExecutor(max_workers=min(self.workers, len(windows))) as pool:
            return np.stack(list(pool.map(self._score_window, windows))).astype(np.float32, copy=False)
