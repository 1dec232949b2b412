import numpy as np
import pytest

from interference_clf.evaluation import evaluate, expected_calibration_error, misjudged_rows

Y_TRUE = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0], [1, 0, 1], [0, 0, 0]])
SCORES = np.array([[0.9, 0.1, 0.2], [0.2, 0.4, 0.1], [0.1, 0.2, 0.8], [0.6, 0.1, 0.1], [0.7, 0.2, 0.9], [0.1, 0.1, 0.1]])


def test_metrics_on_a_hand_checked_example():
    result = evaluate(Y_TRUE, SCORES, [0.5, 0.5, 0.5], ["en", "en", "fr", "fr", "de", "de"])
    # cyberattack: TP rows 0,4; FP row 3 -> P 2/3, R 1; disinformation: FN row 1 -> F1 0; espionage perfect.
    assert result["per_label"]["cyberattack"]["precision"] == pytest.approx(2 / 3)
    assert result["per_label"]["cyberattack"]["recall"] == 1.0
    assert result["per_label"]["disinformation"]["f1"] == 0.0
    assert result["per_label"]["espionage"]["f1"] == 1.0
    assert result["macro_f1"] == pytest.approx((0.8 + 0 + 1) / 3)
    assert result["exact_match"] == pytest.approx(4 / 6)  # rows 1 and 3 wrong
    assert result["none_vs_threat_accuracy"] == pytest.approx(4 / 6)
    assert result["per_language"]["fr"]["n"] == 2
    assert result["gold_vs_predicted"][0] == [2, 0, 1]  # gold cyberattack rows got cyber twice, espionage once
    assert result["per_label"]["cyberattack"]["confusion"] == [[3, 1], [0, 2]]


def test_thresholds_change_decisions():
    loose = evaluate(Y_TRUE, SCORES, [0.5, 0.3, 0.5])
    assert loose["per_label"]["disinformation"]["recall"] == 1.0


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="must both be"):
        evaluate(Y_TRUE, SCORES[:, :2], [0.5, 0.5])


def test_expected_calibration_error():
    assert expected_calibration_error(np.array([1, 0, 1, 0]), np.array([1.0, 0.0, 1.0, 0.0])) == 0.0
    # every score 0.9 but only half are positive -> 0.4
    assert expected_calibration_error(np.array([1, 0, 1, 0]), np.full(4, 0.9)) == pytest.approx(0.4)


def test_misjudged_rows_are_grouped_by_confusion_most_confident_first():
    groups = misjudged_rows(Y_TRUE, SCORES, [0.5, 0.5, 0.5], row_ids=[f"r{i}" for i in range(6)])
    assert [row["id"] for row in groups["false cyberattack"]] == ["r3"]
    assert [row["id"] for row in groups["missed disinformation"]] == ["r1"]
    assert groups["false espionage"] == [] and groups["missed espionage"] == []
    row = groups["false cyberattack"][0]
    assert row["gold"] == [] and row["predicted"] == ["cyberattack"] and row["scores"]["cyberattack"] == 0.6
    scores = SCORES.copy()
    scores[5, 2] = 0.95  # a second, more confident false espionage comes first
    scores[3, 2] = 0.7
    assert [row["row"] for row in misjudged_rows(Y_TRUE, scores, [0.5] * 3)["false espionage"]] == [5, 3]
    assert evaluate(Y_TRUE, scores, [0.5] * 3)["misjudged"]["false espionage"] == 2


def test_a_classifier_is_evaluated_on_a_dataset_as_on_a_file(tiny_classifier, tmp_path):
    import json

    from datasets import Dataset

    rows = [{"text": "hackers hit the election site", "labels": ["cyberattack"], "lang": "en"},
            {"text": "sunny weather today", "labels": [], "lang": "en"},
            {"text": "un espion arrêté", "labels": ["espionage"], "lang": "fr"}]
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    from_file = tiny_classifier.evaluate(path)
    from_dataset = tiny_classifier.evaluate(Dataset.from_list(rows))
    assert from_file == from_dataset and from_file["n"] == 3 and set(from_file["per_language"]) == {"en", "fr"}
