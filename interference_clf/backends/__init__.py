"""Inference backends: what turns token windows into logits.

The classifier does tokenisation, windowing, calibration and thresholds; a
backend only scores windows. ``"torch"`` runs the fp32 model as trained;
``"onnx-int8"`` and ``"onnx-fp32"`` run an ONNX export of it with ONNX Runtime
(``pip install 'interference-clf[onnx]'``), built once per model into the
per-user cache. ``"auto"`` takes ``"onnx-int8"`` when ONNX Runtime is installed
and ``"torch"`` otherwise.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from ..classifier import ThreatModel

TORCH = "torch"
ONNX_INT8 = "onnx-int8"
ONNX_FP32 = "onnx-fp32"
AUTO = "auto"
BACKENDS = (AUTO, TORCH, ONNX_INT8, ONNX_FP32)

INSTALL_HINT = "pip install 'interference-clf[onnx]'"

logger = logging.getLogger(__name__)


class WindowScorer(Protocol):
    """Scores token windows (each already holding special tokens and prefix)."""

    name: str

    def logits(self, windows: list[list[int]], batch_size: int) -> np.ndarray:
        """Raw logits, shape ``(len(windows), num_labels)``, rows in the order of ``windows``.

        ``batch_size`` is the most windows scored in one forward pass; a backend that scores
        windows one at a time may ignore it.
        """
        ...


def create_backend(name: str, model: ThreatModel, pad_id: int, weights_sha256: str) -> WindowScorer:
    """The backend called ``name`` for ``model``; ONNX backends export the model on first use and cache it."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name == TORCH:
        return _torch_backend(model, pad_id)
    try:
        from .onnx_backend import OnnxScorer
    except ImportError as error:
        if name != AUTO:
            raise ImportError(f"backend {name!r} needs ONNX Runtime: {INSTALL_HINT} ({error})") from error
        logger.warning("backend='auto': ONNX Runtime is not importable (%s); using the slower torch backend. %s",
                       error, INSTALL_HINT)
        return _torch_backend(model, pad_id)
    return OnnxScorer.for_model(model, pad_id, weights_sha256, quantised=name in (AUTO, ONNX_INT8))


def _torch_backend(model: ThreatModel, pad_id: int) -> WindowScorer:
    # Imported here: the backend modules import classifier, which imports this package.
    from .torch_backend import TorchScorer

    return TorchScorer(model, pad_id)
