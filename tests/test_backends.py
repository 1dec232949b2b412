"""Backends give the torch backend's answers; the ONNX cache is verified and rebuilt; "auto" degrades cleanly."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import numpy as np
import pytest

import interference_clf as ic
from interference_clf.encoder import CACHE_ENV

from .conftest import SAMPLE_TEXTS

# Short and multi-window texts (the tiny model has max_length 24) in several scripts.
AGREEMENT_TEXTS = SAMPLE_TEXTS + [
    "Les hackers ont publié des courriels falsifiés du parti. " * 4,
    "Шпионы следили за кандидатом, а боты распространяли фальшивые опросы. " * 3,
    "الجواسيس راقبوا المرشح",
    "选举委员会",
]
# Exported fp32 differs from torch only by float reordering.
FP32_TOLERANCE = 1e-5
# Dynamic int8 on the random 32-wide test model; the real model's gap is measured by benchmarks/inference_speed.py.
INT8_TOLERANCE = 0.02


@pytest.fixture()
def onnx_cache(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture()
def torch_scores(tiny_classifier_folder) -> np.ndarray:
    return ic.Classifier.from_pretrained(tiny_classifier_folder, backend="torch").predict_proba(AGREEMENT_TEXTS)


def labels_of(clf: ic.Classifier, scores: np.ndarray) -> list[list[str]]:
    return [p.labels for p in clf.decide(scores)]


def test_onnx_fp32_matches_torch(tiny_classifier_folder, onnx_cache, torch_scores):
    clf = ic.Classifier.from_pretrained(tiny_classifier_folder, backend="onnx-fp32")
    assert clf.backend.name == "onnx-fp32"
    scores = clf.predict_proba(AGREEMENT_TEXTS)
    np.testing.assert_allclose(scores, torch_scores, atol=FP32_TOLERANCE)
    assert labels_of(clf, scores) == labels_of(clf, torch_scores)


def test_onnx_int8_agrees_with_torch(tiny_classifier_folder, onnx_cache, torch_scores):
    clf = ic.Classifier.from_pretrained(tiny_classifier_folder, backend="onnx-int8")
    assert clf.backend.name == "onnx-int8"
    scores = clf.predict_proba(AGREEMENT_TEXTS)
    np.testing.assert_allclose(scores, torch_scores, atol=INT8_TOLERANCE)
    # Every decision torch makes by more than the tolerance is the same; a score closer than that to its
    # threshold may land either side on another CPU's int8 kernels (3 of the 36 here).
    thresholds = np.array([clf.thresholds[label] for label in clf.labels])
    clear = np.abs(torch_scores - thresholds) > INT8_TOLERANCE
    assert clear.mean() > 0.9
    np.testing.assert_array_equal((scores >= thresholds)[clear], (torch_scores >= thresholds)[clear])


def test_int8_logits_do_not_depend_on_batch_company(tiny_classifier_folder, onnx_cache):
    clf = ic.Classifier.from_pretrained(tiny_classifier_folder, backend="onnx-int8")
    windows, _ = clf.text_encoder.windows(AGREEMENT_TEXTS, clf.config.max_length)
    together = clf.window_logits(windows, batch_size=5)
    alone = np.vstack([clf.window_logits([window], batch_size=1) for window in windows])
    np.testing.assert_array_equal(alone, together)


def test_auto_prefers_onnx_int8(tiny_classifier_folder, onnx_cache):
    assert ic.load(tiny_classifier_folder).backend.name == "onnx-int8"


def test_corrupt_or_missing_cache_file_is_rebuilt(tiny_classifier_folder, onnx_cache):
    from interference_clf.backends.onnx_backend import MANIFEST_FILE

    first = ic.Classifier.from_pretrained(tiny_classifier_folder, backend="onnx-int8")
    expected = first.predict_proba(AGREEMENT_TEXTS)
    path = first.backend.path
    assert path.is_relative_to(onnx_cache / "onnx" / first.config.weights_sha256)
    original = path.read_bytes()

    path.write_bytes(original[: len(original) // 2])
    rebuilt = ic.Classifier.from_pretrained(tiny_classifier_folder, backend="onnx-int8")
    assert path.read_bytes() == original
    np.testing.assert_array_equal(rebuilt.predict_proba(AGREEMENT_TEXTS), expected)

    path.unlink()
    (path.parent / MANIFEST_FILE).write_text("not json")
    ic.Classifier.from_pretrained(tiny_classifier_folder, backend="onnx-int8")
    assert path.read_bytes() == original


def test_auto_falls_back_to_torch_without_onnxruntime(tiny_classifier_folder, monkeypatch, caplog):
    # None in sys.modules makes "import onnxruntime" raise ImportError, as if it were not installed.
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    monkeypatch.delitem(sys.modules, "interference_clf.backends.onnx_backend", raising=False)
    with caplog.at_level(logging.WARNING, logger="interference_clf.backends"):
        clf = ic.load(tiny_classifier_folder)
    assert clf.backend.name == "torch"
    assert "using the slower torch backend" in caplog.text and "interference-clf[onnx]" in caplog.text
    assert len(clf.predict(SAMPLE_TEXTS)) == len(SAMPLE_TEXTS)


def test_asking_for_onnx_without_onnxruntime_says_how_to_install(tiny_classifier_folder, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    monkeypatch.delitem(sys.modules, "interference_clf.backends.onnx_backend", raising=False)
    with pytest.raises(ImportError, match=r"backend 'onnx-int8' needs ONNX Runtime: pip install"):
        ic.load(tiny_classifier_folder, backend="onnx-int8")


def test_unknown_backend_is_a_clear_error(tiny_classifier_folder):
    with pytest.raises(ValueError, match=r"unknown backend 'tensorrt'; choose one of auto, torch, onnx-int8, onnx-"):
        ic.Classifier.from_pretrained(tiny_classifier_folder, backend="tensorrt")


PREDICT_WITHOUT_TORCH = """
import sys, interference_clf as ic
clf = ic.load(sys.argv[1])
clf.predict(["Hackers broke into the election commission servers.", "sunny weather"], evidence=True)
print(clf.backend.name, "torch" in sys.modules, "transformers" in sys.modules)
"""


def test_a_cached_onnx_export_is_scored_without_importing_torch(tiny_classifier_folder, onnx_cache):
    ic.Classifier.from_pretrained(tiny_classifier_folder, backend="onnx-int8")  # builds the export (needs torch)
    env = {**os.environ, "INTERFERENCE_CLF_CACHE": str(onnx_cache)}
    out = subprocess.run([sys.executable, "-c", PREDICT_WITHOUT_TORCH, str(tiny_classifier_folder)], env=env,
                         capture_output=True, text=True, check=True).stdout
    assert out.split() == ["onnx-int8", "False", "False"]
