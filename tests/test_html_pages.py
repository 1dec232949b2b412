"""The evaluation report's ``index.html`` in a real browser, and ``evaluate --report`` giving it evidence."""

import json

import numpy as np

from interference_clf.classifier import Classifier
from interference_clf.cli import main
from interference_clf.evaluation import evaluate
from interference_clf.evidence import EvidenceSpan, evidence_fields
from interference_clf.html_page import evidence_spans
from interference_clf.labels import LABELS
from interference_clf.reports import write_report

from .conftest import SAMPLE_TEXTS
from .html_helpers import embedded_data
from .test_reports import LANGS, SCORES, Y_TRUE

TEXTS = ["hack", "a fake poll", "spy", "🙂 The results site was slow. Hackers? No, traffic.", "hack and spy", "weather"]
# Row 3 is the false cyberattack; its evidence starts after the emoji (code point 2).
EVIDENCE = {3: {"cyberattack": [EvidenceSpan(2, 28, 0.31)]}}


def table_rows(page, index: int) -> list[list[str]]:
    cells = "table => [...table.tBodies[0].rows].map(row => [...row.cells].map(cell => cell.textContent))"
    return page.locator("table").nth(index).evaluate(cells)


def test_report_page_in_a_browser(open_page, tmp_path):
    result = evaluate(Y_TRUE, SCORES, [0.5, 0.5, 0.5], LANGS)
    write_report(tmp_path, "Test report", Y_TRUE, SCORES, result, texts=TEXTS, row_ids=list("abcdef"),
                 languages=LANGS, evidence=EVIDENCE)
    opened = open_page(tmp_path / "index.html")
    page = opened.page

    per_label = table_rows(page, 0)
    assert [row[0] for row in per_label] == list(LABELS)
    assert [row[-1] for row in per_label] == [str(result["per_label"][label]["support"]) for label in LABELS]
    assert [(row[0], row[1]) for row in table_rows(page, 1)] == [("de", "2"), ("en", "2"), ("fr", "2")]
    images = page.eval_on_selector_all("img", "images => images.map(i => [i.src.slice(0, 22), i.naturalWidth])")
    assert len(images) == 3 and all(src == "data:image/png;base64," and width > 0 for src, width in images)

    false_cyberattack = page.locator('details[data-group="false cyberattack"] article')
    assert false_cyberattack.count() == 1
    assert false_cyberattack.locator('mark[data-labels="cyberattack"]').text_content() == TEXTS[3][2:28]
    assert TEXTS[3][2:28] == "The results site was slow."
    missed = page.locator('details[data-group="missed disinformation"] article')
    assert missed.locator(".text").text_content() == "a fake poll" and missed.locator("mark").count() == 0
    assert page.locator('details[data-group="false espionage"] article').count() == 0
    assert opened.problems == []
    assert all(url.startswith(("file://", "data:")) for url in opened.requests)


def test_report_draws_long_groups_a_batch_at_a_time(open_page, tmp_path):
    mistakes = 250
    y_true = np.zeros((mistakes + 1, 3), dtype=int)
    y_true[0, 0] = 1  # one right answer, so that the plots have something to draw
    scores = np.tile([0.9, 0.1, 0.1], (mistakes + 1, 1))
    result = evaluate(y_true, scores, [0.5, 0.5, 0.5])
    write_report(tmp_path, "t", y_true, scores, result, texts=[f"text {i}" for i in range(mistakes + 1)])
    page = open_page(tmp_path / "index.html").page

    group = page.locator('details[data-group="false cyberattack"]')
    assert group.locator("article").count() == 100
    group.locator("button.more").click()
    assert group.locator("article").count() == 200
    group.locator("button.more").click()
    assert group.locator("article").count() == mistakes and group.locator("button.more").is_hidden()


def test_evaluate_report_has_the_evidence_of_the_misjudged_rows_only(tiny_classifier_folder, tmp_path, monkeypatch):
    clf = Classifier.from_pretrained(tiny_classifier_folder)
    texts = SAMPLE_TEXTS[:6]
    predictions = clf.predict(texts, evidence=True)
    # The first two rows are gold as predicted; the others are gold none, so misjudged wherever a label was given.
    wrong = [i for i in range(2, len(texts)) if predictions[i].labels]
    assert wrong, "the tiny model should give some label to these texts"
    data = tmp_path / "gold.jsonl"
    data.write_text("".join(json.dumps({"text": text, "labels": predictions[i].labels if i < 2 else [], "lang": "en"})
                            + "\n" for i, text in enumerate(texts)), encoding="utf-8")
    asked_for_evidence = []
    predict = Classifier.predict

    def recording_predict(self, texts, *args, **kwargs):
        if kwargs.get("evidence"):
            asked_for_evidence.append(list(texts))
        return predict(self, texts, *args, **kwargs)

    monkeypatch.setattr(Classifier, "predict", recording_predict)
    assert main(["evaluate", str(data), "--model", str(tiny_classifier_folder), "--report", str(tmp_path / "r")]) == 0

    assert asked_for_evidence == [[texts[i] for i in wrong]]
    groups = embedded_data((tmp_path / "r" / "index.html").read_text(encoding="utf-8"))["groups"]
    shown = {row["text"]: row["evidence"] for group in groups for row in group["rows"]}
    assert set(shown) == {texts[i] for i in wrong}
    for i in wrong:
        assert shown[texts[i]] == evidence_spans(evidence_fields(predictions[i].evidence))
