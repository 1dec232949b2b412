"""Inference backends: what turns token windows into logits.

The classifier does tokenisation, windowing, calibration and thresholds; a
backend only scores windows. ``"torch"`` runs the fp32 model as trained;
``"onnx-int8"`` and ``"onnx-fp32"`` run an ONNX export of it with ONNX Runtime
(``pip install 'interference-clf[onnx]'``), built once per model into the
per-user cache. ``"auto"`` takes ``"onnx-int8"`` when ONNX Runtime is installed
and ``"torch"`` otherwise.

Backends are imported only when asked for, and receive what they need (the
config, the padding id, a way to build the torch network) rather than the
classifier: when a verified ONNX export is cached, scoring never imports torch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from ..config import ClassifierConfig
    from ..modeling import ThreatModel

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


def create_backend(
    name: str, config: ClassifierConfig, pad_id: int, load_model: Callable[[], ThreatModel]
) -> WindowScorer:
    """The backend called ``name``; ``load_model`` is called only if the torch network is needed."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name == TORCH:
        from .torch_backend import TorchScorer

        return TorchScorer(load_model(), pad_id)
    try:
        from .onnx_backend import OnnxScorer
    except ImportError as error:
        if name != AUTO:
            raise ImportError(f"backend {name!r} needs ONNX Runtime: {INSTALL_HINT} ({error})") from error
        logger.warning("backend='auto': ONNX Runtime is not importable (%s); using the slower torch backend. %s",
                       error, INSTALL_HINT)
        from .torch_backend import TorchScorer

        return TorchScorer(load_model(), pad_id)
    return OnnxScorer.for_model(config, pad_id, load_model, quantised=name in (AUTO, ONNX_INT8))
