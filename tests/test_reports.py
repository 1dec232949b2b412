import json

import numpy as np
import pytest

from interference_clf.evaluation import evaluate, markdown_summary
from interference_clf.reports import write_report

Y_TRUE = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0], [1, 0, 1], [0, 0, 0]])
SCORES = np.array([[0.9, 0.1, 0.2], [0.2, 0.4, 0.1], [0.1, 0.2, 0.8], [0.6, 0.1, 0.1], [0.7, 0.2, 0.9], [0.1, 0.1, 0.1]])
LANGS = ["en", "en", "fr", "fr", "de", "de"]
TEXTS = ["hack", "a fake | poll", "spy", "a slow results site", "hack and spy", "weather"]


def test_report_files(tmp_path):
    result = evaluate(Y_TRUE, SCORES, [0.5, 0.5, 0.5], LANGS)
    page = write_report(tmp_path, "Test report", Y_TRUE, SCORES, result, texts=TEXTS, languages=LANGS)
    assert json.loads((tmp_path / "metrics.json").read_text())["macro_f1"] == pytest.approx(result["macro_f1"])
    text = page.read_text()
    assert "| cyberattack |" in text and "| fr |" in text
    for image in ("pr_curves.png", "reliability.png", "per_language.png"):
        assert (tmp_path / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({image})" in text
    assert "macro-F1 **" in markdown_summary(result)


def test_report_lists_misjudged_rows_by_confusion(tmp_path):
    result = evaluate(Y_TRUE, SCORES, [0.5, 0.5, 0.5], LANGS)
    page = write_report(tmp_path, "t", Y_TRUE, SCORES, result, texts=TEXTS, row_ids=list("abcdef"), languages=LANGS)
    rows = [json.loads(line) for line in (tmp_path / "misjudged.jsonl").read_text().splitlines()]
    assert [(r["group"], r["id"], r["text"], r["lang"]) for r in rows] == [
        ("false cyberattack", "d", "a slow results site", "fr"), ("missed disinformation", "b", "a fake | poll", "en")]
    text = page.read_text()
    assert "### false cyberattack (1)" in text and "### missed disinformation (1)" in text
    assert "a fake \\| poll" in text  # the table cell escapes the pipe


def test_report_without_texts_names_rows_by_id_only(tmp_path):
    result = evaluate(Y_TRUE, SCORES, [0.5, 0.5, 0.5], LANGS)
    page = write_report(tmp_path, "t", Y_TRUE, SCORES, result, row_ids=list("abcdef"))
    assert "slow results" not in page.read_text() + (tmp_path / "misjudged.jsonl").read_text()
    assert "| d |" in page.read_text()
