import json

import numpy as np
import pytest

from interference_clf.evaluation import (
    evaluate,
    expected_calibration_error,
    markdown_summary,
    read_labelled_jsonl,
    write_report,
)

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


def test_report_files(tmp_path):
    result = evaluate(Y_TRUE, SCORES, [0.5, 0.5, 0.5], ["en", "en", "fr", "fr", "de", "de"])
    page = write_report(Y_TRUE, SCORES, result, tmp_path, "Test report")
    assert json.loads((tmp_path / "metrics.json").read_text())["macro_f1"] == pytest.approx(result["macro_f1"])
    text = page.read_text()
    assert "| cyberattack |" in text and "| fr |" in text
    for image in ("pr_curves.png", "reliability.png", "per_language.png"):
        assert (tmp_path / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({image})" in text
    assert "macro-F1 **" in markdown_summary(result)


def test_read_labelled_jsonl(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "a", "labels": ["espionage"], "lang": "fr"}\n\n{"text": "b", "labels": []}\n')
    texts, y, langs = read_labelled_jsonl(path)
    assert texts == ["a", "b"] and y.tolist() == [[0, 0, 1], [0, 0, 0]] and langs == ["fr", "?"]
    path.write_text('{"text": "a", "labels": ["spying"]}\n')
    with pytest.raises(ValueError, match="d.jsonl:1"):
        read_labelled_jsonl(path)
