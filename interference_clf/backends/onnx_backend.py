"""ONNX Runtime backends: scoring a cached ONNX export of the model, optionally with int8 weights.

The export lives in the per-user cache under ``onnx/<weights_sha256>/``, keyed by
the hash of the model's weights file, so a retrained model never meets a stale
graph. A manifest holds every file's SHA-256; each load checks the file it uses.
Scoring needs only ONNX Runtime and numpy: torch is imported (by
``onnx_export``) only when the export is missing or fails its check.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import onnxruntime as ort

from ..encoder import cache_root, sha256_file
from . import ONNX_FP32, ONNX_INT8

if TYPE_CHECKING:
    from ..config import ClassifierConfig
    from ..modeling import ThreatModel

CACHE_FORMAT = 1
FP32_FILE = "model-fp32.onnx"
INT8_FILE = "model-int8.onnx"
MANIFEST_FILE = "manifest.json"

logger = logging.getLogger(__name__)


class OnnxCacheError(RuntimeError):
    """The ONNX export could not be built or verified."""


def onnx_cache_folder(weights_sha256: str) -> Path:
    return cache_root() / "onnx" / weights_sha256


def read_manifest(folder: Path, weights_sha256: str) -> dict[str, str]:
    """File name → SHA-256 recorded at build time; empty when the manifest is absent or for another model."""
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return {}
    if manifest.get("format") != CACHE_FORMAT or manifest.get("weights_sha256") != weights_sha256:
        return {}
    return dict(manifest.get("files", {}))


def is_verified(folder: Path, name: str, weights_sha256: str) -> bool:
    expected = read_manifest(folder, weights_sha256).get(name)
    return expected is not None and (folder / name).is_file() and sha256_file(folder / name) == expected


def onnx_file_name(quantised: bool) -> str:
    return INT8_FILE if quantised else FP32_FILE


def verified_onnx_file(weights_sha256: str, quantised: bool) -> Path | None:
    """The cached export for these weights if its hash checks out, else None."""
    folder = onnx_cache_folder(weights_sha256)
    name = onnx_file_name(quantised)
    return folder / name if weights_sha256 and is_verified(folder, name, weights_sha256) else None


def worker_count() -> int:
    """The CPUs this process may run on (or OMP_NUM_THREADS, when the user set it)."""
    configured = os.environ.get("OMP_NUM_THREADS", "")
    return int(configured) if configured.isdigit() and int(configured) > 0 else len(os.sched_getaffinity(0))


def session(path: Path) -> ort.InferenceSession:
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
        self.session = session(path)

    @classmethod
    def for_model(cls, config: ClassifierConfig, pad_id: int, load_model: Callable[[], ThreatModel],
                  quantised: bool) -> OnnxScorer:
        path = verified_onnx_file(config.weights_sha256, quantised)
        if path is None:
            from .onnx_export import build_onnx_cache

            path = build_onnx_cache(load_model(), pad_id, config.weights_sha256, quantised)
        return cls(path, config.num_labels, quantised, workers=worker_count())

    def _score_window(self, window: list[int]) -> np.ndarray:
        input_ids = np.asarray([window], dtype=np.int64)
        return self.session.run(["logits"], {"input_ids": input_ids, "attention_mask": np.ones_like(input_ids)})[0][0]

    def logits(self, windows: list[list[int]], batch_size: int) -> np.ndarray:
        if not windows:
            return np.zeros((0, self.num_labels), dtype=np.float32)
        if len(windows) == 1 or self.workers == 1:
            return np.stack([self._score_window(w) for w in windows]).astype(np.float32, copy=False)
        # ONNX Runtime releases the GIL while it runs, so threads score windows in parallel.
        with ThreadPoolExecutor(max_workers=min(self.workers, len(windows))) as pool:
            return np.stack(list(pool.map(self._score_window, windows))).astype(np.float32, copy=False)
