import json

import numpy as np
import pytest

from interference_clf.evaluation import evaluate, markdown_summary
from interference_clf.evidence import EvidenceSpan
from interference_clf.reports import write_report

from .html_helpers import embedded_data

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
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "slow results" not in page.read_text() + (tmp_path / "misjudged.jsonl").read_text() + html
    assert "| d |" in page.read_text()
    rows = [row for group in embedded_data(html)["groups"] for row in group["rows"]]
    assert [row["id"] for row in rows] == ["d", "b"] and not any("text" in row for row in rows)


def test_html_report_is_one_file_with_the_misjudged_rows_and_their_evidence(tmp_path):
    result = evaluate(Y_TRUE, SCORES, [0.5, 0.5, 0.5], LANGS)
    write_report(tmp_path, "t", Y_TRUE, SCORES, result, texts=TEXTS, row_ids=list("abcdef"), languages=LANGS,
                 evidence={3: {"cyberattack": [EvidenceSpan(2, 6, 0.3)]}})
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert html.count('src="data:image/png;base64,') == 3 and 'src="pr_curves.png"' not in html
    groups = {group["name"]: group["rows"] for group in embedded_data(html)["groups"]}
    assert groups["false cyberattack"] == [{
        "id": "d", "gold": [], "predicted": ["cyberattack"], "scores": {"cyberattack": 0.6, "disinformation": 0.1,
                                                                       "espionage": 0.1},
        "lang": "fr", "text": "a slow results site", "evidence": [["cyberattack", 2, 6, 0.3]]}]
    assert groups["missed disinformation"][0]["evidence"] == [] and groups["false espionage"] == []
