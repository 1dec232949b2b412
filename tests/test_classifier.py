import json

import numpy as np
import pytest

import interference_clf as ic
from interference_clf.config import ModelFormatError

from .conftest import SAMPLE_TEXTS


def test_public_api_shape(tiny_classifier):
    clf = tiny_classifier
    assert clf.labels == ("cyberattack", "disinformation", "espionage") == ic.LABELS
    assert set(clf.thresholds) == set(clf.labels)
    predictions = clf.predict(SAMPLE_TEXTS)
    assert isinstance(predictions, list) and len(predictions) == len(SAMPLE_TEXTS)
    for p in predictions:
        assert isinstance(p, ic.Prediction)
        assert set(p.scores) == set(clf.labels)
        assert all(0.0 <= v <= 1.0 for v in p.scores.values())
        assert p.labels == [label for label in clf.labels if p.scores[label] >= clf.thresholds[label]]
    single = clf.predict(SAMPLE_TEXTS[0])
    assert isinstance(single, ic.Prediction) and single == predictions[0]


def test_predict_proba_columns_follow_labels(tiny_classifier):
    scores = tiny_classifier.predict_proba(SAMPLE_TEXTS)
    assert scores.shape == (len(SAMPLE_TEXTS), 3)
    predictions = tiny_classifier.predict(SAMPLE_TEXTS)
    for row, p in zip(scores, predictions):
        assert [p.scores[label] for label in tiny_classifier.labels] == pytest.approx(row.tolist())


def test_same_input_same_output_whatever_the_batch_size(tiny_classifier):
    first = tiny_classifier.predict_proba(SAMPLE_TEXTS, batch_size=3)
    again = tiny_classifier.predict_proba(SAMPLE_TEXTS, batch_size=3)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_allclose(tiny_classifier.predict_proba(SAMPLE_TEXTS, batch_size=1), first, atol=1e-5)


def test_order_of_inputs_is_kept(tiny_classifier):
    forward = tiny_classifier.predict_proba(SAMPLE_TEXTS)
    backward = tiny_classifier.predict_proba(SAMPLE_TEXTS[::-1])
    np.testing.assert_allclose(backward[::-1], forward, atol=1e-5)


def test_empty_list_gives_empty_matrix(tiny_classifier):
    assert tiny_classifier.predict_proba([]).shape == (0, 3)
    assert tiny_classifier.predict([]) == []


def test_long_text_is_scored_over_windows_not_truncated(tiny_classifier):
    # max_length 24 in the tiny model: the long text spans many windows.
    short = "the election hackers"  # whole-word pieces in the tiny vocabulary: one window
    long_text = " ".join(SAMPLE_TEXTS * 6)
    windows, owners = tiny_classifier.text_encoder.windows([short, long_text], 24)
    assert owners.count(0) == 1 and owners.count(1) > 5
    assert all(len(w) <= 24 for w in windows)
    # The aggregate is the per-label maximum over the text's windows.
    scores = tiny_classifier.predict_proba([long_text])[0]
    logits = tiny_classifier.window_logits([w for w, o in zip(windows, owners) if o == 1], batch_size=4)
    window_scores = 1 / (1 + np.exp(-logits / tiny_classifier._temperatures()))
    np.testing.assert_allclose(scores, window_scores.max(axis=0), atol=1e-5)


def test_max_length_and_batch_size_are_checked(tiny_classifier):
    with pytest.raises(ValueError, match="batch_size"):
        tiny_classifier.predict_proba(["x"], batch_size=0)
    with pytest.raises(ValueError, match="exceeds"):
        tiny_classifier.predict_proba(["x"], max_length=10_000)
    with pytest.raises(ValueError, match="no room"):
        tiny_classifier.predict_proba(["x"], max_length=3)


def test_save_and_load_round_trip(tiny_classifier, tmp_path):
    tiny_classifier.save_pretrained(tmp_path / "copy")
    restored = ic.Classifier.from_pretrained(tmp_path / "copy")
    np.testing.assert_array_equal(restored.predict_proba(SAMPLE_TEXTS), tiny_classifier.predict_proba(SAMPLE_TEXTS))
    assert restored.thresholds == tiny_classifier.thresholds
    config = json.loads((tmp_path / "copy" / "config.json").read_text())
    assert config["labels"] == list(ic.LABELS) and len(config["weights_sha256"]) == 64
    assert (tmp_path / "copy" / "README.md").read_text().startswith("# ")
    assert ic.load(tmp_path / "copy").thresholds == tiny_classifier.thresholds


def test_tampered_weights_are_refused(tiny_classifier, tmp_path):
    folder = tiny_classifier.save_pretrained(tmp_path / "m")
    weights = folder / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelFormatError, match="refusing"):
        ic.Classifier.from_pretrained(folder)


def test_folders_without_a_model_are_refused(tmp_path):
    with pytest.raises(ModelFormatError, match="config.json"):
        ic.Classifier.from_pretrained(tmp_path)
    with pytest.raises(Exception, match="never downloads"):
        ic.load("intfloat/multilingual-e5-small")


def test_unknown_config_fields_are_refused(tiny_classifier, tmp_path):
    folder = tiny_classifier.save_pretrained(tmp_path / "m")
    config = json.loads((folder / "config.json").read_text())
    config["surprise"] = 1
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFormatError, match="surprise"):
        ic.Classifier.from_pretrained(folder)


def test_weights_are_safetensors_only(tiny_classifier_folder):
    names = sorted(p.name for p in tiny_classifier_folder.iterdir())
    assert "model.safetensors" in names
    assert not [n for n in names if n.endswith((".bin", ".pt", ".pth", ".pkl", ".ckpt"))]
