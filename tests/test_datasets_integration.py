import math

import pytest

from .conftest import SAMPLE_TEXTS

datasets = pytest.importorskip("datasets")


def test_predict_dataset_adds_labels_scores_and_errors(tiny_classifier):
    ds = datasets.Dataset.from_dict({"id": [1, 2, 3], "body": [SAMPLE_TEXTS[0], "   ", SAMPLE_TEXTS[4]]})
    labelled = tiny_classifier.predict_dataset(ds, text_column="body", batch_size=2)
    assert labelled.column_names == ["id", "body", "labels", "score_cyberattack", "score_disinformation",
                                     "score_espionage", "error"]
    expected = tiny_classifier.predict([SAMPLE_TEXTS[0], SAMPLE_TEXTS[4]])
    for row, prediction in zip((0, 2), expected):
        assert labelled[row]["labels"] == prediction.labels and labelled[row]["error"] is None
        for label in tiny_classifier.labels:
            assert labelled[row][f"score_{label}"] == pytest.approx(prediction.scores[label], abs=1e-4)
    assert labelled[1]["error"] == "text is empty or whitespace only" and labelled[1]["labels"] == []
    assert math.isnan(labelled[1]["score_espionage"])


def test_a_missing_text_column_is_named(tiny_classifier):
    with pytest.raises(KeyError, match="no 'text' column; its columns are \\['body'\\]"):
        tiny_classifier.predict_dataset(datasets.Dataset.from_dict({"body": ["x"]}))
