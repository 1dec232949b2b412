import csv
import json
import re

import pytest

from interference_clf.batch import label_file
from interference_clf.cli import main
from interference_clf.html_page import LABEL_COLOURS, write_page
from interference_clf.review import ROWS_PER_PAGE, ReviewFileError, read_review_rows, review_html, write_review

from .html_helpers import embedded_data

LABELLED = [
    {"id": "a1", "lang": "en", "text": "👩‍💻🙂 Bots spread a fake poll. The weather was fine.",
     "labels": ["disinformation"], "scores": {"cyberattack": 0.1, "disinformation": 0.91, "espionage": 0.05},
     "evidence": {"disinformation": [{"start": 5, "end": 29, "score": 0.6}]}},
    {"id": "a2", "lang": "fr", "text": "Des pirates ont attaqué le site. Un espion a été arrêté.",
     "labels": ["cyberattack", "espionage"], "scores": {"cyberattack": 0.8, "disinformation": 0.1, "espionage": 0.7},
     "evidence": {"cyberattack": [{"start": 0, "end": 32, "score": 0.5}],
                  "espionage": [{"start": 33, "end": 56, "score": 0.4}]}},
    {"id": "a3", "lang": "de", "text": "Das Wetter ist schön. </script><script>alert(1)</script><!--",
     "labels": [], "scores": {"cyberattack": 0.1, "disinformation": 0.1, "espionage": 0.05}, "evidence": {}},
    {"raw": "{not json", "line": 4, "error": "malformed JSON: Expecting property name at column 2"},
    {"id": "a5", "lang": "fr", "text": "Un espion russe a été arrêté à Paris.",
     "labels": ["espionage"], "scores": {"cyberattack": 0.02, "disinformation": 0.03, "espionage": 0.97},
     "evidence": {"espionage": [{"start": 0, "end": 37, "score": 0.9}]}},
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


# ----- reading labelled files ------------------------------------------------------------


def write_input(path, rows, fmt):
    if fmt == "jsonl":
        write_jsonl(path, rows)
    elif fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, ["id", "lang", "text"])
            writer.writeheader()
            writer.writerows(rows)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)


@pytest.mark.parametrize(("fmt", "split_documents", "evidence"), [
    ("jsonl", False, False), ("jsonl", True, True), ("csv", False, True), ("csv", True, True),
    ("parquet", True, True), ("parquet", False, False),
])
def test_reads_what_label_writes(tiny_classifier, tmp_path, fmt, split_documents, evidence):
    texts = ["Hackers broke in. Bots spread a fake poll 🙂 before the vote. The weather is sunny.",
             "Шпигуна затримали у Києві.", "选举委员会的网站遭到攻击。"]
    rows = [{"id": f"r{i}", "lang": lang, "text": text}
            for i, (lang, text) in enumerate(zip(["en", "uk", "zh"], texts))]
    rows.insert(1, {"id": "blank", "lang": "en", "text": "   "})
    source, labelled = tmp_path / f"in.{fmt}", tmp_path / f"out.{fmt}"
    write_input(source, rows, fmt)
    label_file(tiny_classifier, source, labelled, split_documents=split_documents, evidence=evidence,
               show_progress=False)

    review = read_review_rows(labelled)

    assert [row["id"] for row in review] == ["r0", "blank", "r1", "r2"]
    assert [row.get("lang") for row in review] == ["en", "en", "uk", "zh"]
    assert review[1]["error"] == "field 'text': text is empty or whitespace only" and "labels" not in review[1]
    labelled_rows = [review[0], *review[2:]]
    predict = tiny_classifier.predict_documents if split_documents else tiny_classifier.predict
    for row, text, prediction in zip(labelled_rows, texts, predict(texts, evidence=evidence)):
        assert row["text"] == text and row["labels"] == prediction.labels
        assert row["scores"] == pytest.approx(prediction.scores, abs=1e-4)
        expected = [[label, s.start, s.end] for label, spans in (prediction.evidence or {}).items() for s in spans]
        assert [span[:3] for span in row["evidence"]] == expected
        assert row.get("passages") == (len(prediction.passages) if split_documents else None)
    assert any(row["evidence"] for row in labelled_rows) == evidence


def test_unreadable_lines_are_kept_as_errors_with_their_content(tiny_classifier, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "ok", "text": "Hackers broke into the servers."}\n{broken\n', encoding="utf-8")
    label_file(tiny_classifier, source, tmp_path / "out.jsonl", show_progress=False)
    broken = read_review_rows(tmp_path / "out.jsonl")[1]
    assert broken["text"] == "{broken" and broken["error"].startswith("malformed JSON")


def test_fields_named_by_the_caller(tmp_path):
    rows = [{"key": 7, "body": "Un espion.", "labels": ["espionage"],
             "scores": {"cyberattack": 0.1, "disinformation": 0.1, "espionage": 0.9}}]
    review = read_review_rows(write_jsonl(tmp_path / "l.ndjson", rows), text_key="body", id_key="key")
    assert review == [{"row": 1, "id": "7", "text": "Un espion.", "labels": ["espionage"],
                       "scores": rows[0]["scores"], "evidence": []}]


def test_format_named_for_any_extension(tmp_path):
    path = write_jsonl(tmp_path / "labelled.txt", LABELLED)
    assert [row["row"] for row in read_review_rows(path, fmt="jsonl")] == [1, 2, 3, 4, 5]


GOOD_SCORES = '{"cyberattack": 0.1, "disinformation": 0.1, "espionage": 0.1}'


@pytest.mark.parametrize(("name", "content", "problem"), [
    ("rows.txt", '{"text": "x"}\n', "cannot tell the format from the extension '.txt'"),
    ("bad.jsonl", '{not json\n', "line 1: malformed JSON"),
    ("unlabelled.jsonl", '{"text": "hi"}\n', "line 1: no 'labels' and no 'error' field"),
    ("no-text.jsonl", f'{{"body": "hi", "labels": [], "scores": {GOOD_SCORES}}}\n', "no text in the field 'text'"),
    ("unknown.jsonl", f'{{"text": "hi", "labels": ["hacking"], "scores": {GOOD_SCORES}}}\n',
     "unknown label(s) ['hacking']"),
    ("score.jsonl", '{"text": "hi", "labels": [], "scores": {"espionage": 3}}\n',
     "gives espionage the score 3, expected a number from 0 to 1"),
    ("offsets.jsonl", f'{{"text": "hi", "labels": ["espionage"], "scores": {GOOD_SCORES}, '
     '"evidence": {"espionage": [{"start": 0, "end": 99, "score": 0.5}]}}\n',
     "'evidence' for espionage spans characters 0-99 but the text has 2"),
    ("cells.csv", 'text,labels,scores\nhi,[],{oops\n', "line 2: 'scores' is not valid JSON"),
    ("empty.jsonl", "", "no rows to review"),
    ("broken.parquet", "not a parquet file", "cannot be read as parquet"),
])
def test_bad_files_are_clear_errors(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ReviewFileError) as raised:
        read_review_rows(path)
    assert str(raised.value).startswith(str(path)) and problem in str(raised.value)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ReviewFileError, match="no such file"):
        read_review_rows(tmp_path / "nope.jsonl")


# ----- the page, without a browser -------------------------------------------------------


def test_text_cannot_close_the_data_script(tmp_path):
    rows = read_review_rows(write_jsonl(tmp_path / "l.jsonl", LABELLED))
    page = review_html(rows, "Review of </title><script>alert(1)</script>")
    assert page.count("</script>") == 2  # the data element's end and the code's end, nothing from the data
    assert "&lt;/title&gt;" in page
    assert embedded_data(page)["rows"] == rows


def test_lone_surrogates_survive_into_the_page(tmp_path):
    """CSV keeps undecodable bytes as lone surrogates: UTF-8 cannot hold them, the page's JSON escapes them."""
    rows = [{"row": 1, "text": "bad \udcff byte", "labels": [], "scores": {}, "evidence": []}]
    path = write_page(tmp_path / "review.html", review_html(rows, "t"))
    assert embedded_data(path.read_text(encoding="utf-8"))["rows"][0]["text"] == "bad \udcff byte"


def test_cli_review_writes_one_self_contained_page(tmp_path, capsys):
    labelled = write_jsonl(tmp_path / "labelled.jsonl", LABELLED)
    assert main(["review", str(labelled), "-o", str(tmp_path / "review.html")]) == 0
    assert "5 rows (1 that could not be labelled)" in capsys.readouterr().err
    page = (tmp_path / "review.html").read_text(encoding="utf-8")
    assert '<script type="application/json" id="page-data">' in page
    assert not re.search(r"""\b(src|href)\s*=|https?://|@import|url\(""", page)  # nothing outside the file
    assert [row["row"] for row in embedded_data(page)["rows"]] == [1, 2, 3, 4, 5]


def test_cli_review_of_a_bad_file_fails_clearly(tmp_path, capsys):
    unlabelled = write_jsonl(tmp_path / "passages.jsonl", [{"text": "not labelled yet"}])
    assert main(["review", str(unlabelled), "-o", str(tmp_path / "review.html")]) == 2
    assert "passages.jsonl: line 1: no 'labels' and no 'error' field" in capsys.readouterr().err
    assert not (tmp_path / "review.html").exists()


# ----- the page in a browser -------------------------------------------------------------


def test_page_shows_chips_evidence_and_errors(open_page, tmp_path):
    write_review(write_jsonl(tmp_path / "labelled.jsonl", LABELLED), tmp_path / "review.html")
    opened = open_page(tmp_path / "review.html")
    page = opened.page

    assert page.inner_text("#counts .shown") == "5 of 5 rows"
    assert page.locator("#rows article").count() == 5
    emoji_row = LABELLED[0]
    mark = page.locator('article[data-row="1"] mark[data-labels="disinformation"]')
    assert mark.text_content() == emoji_row["text"][5:29] == "Bots spread a fake poll."
    espionage = page.locator('article[data-row="2"] mark[data-labels="espionage"]')
    assert espionage.text_content() == "Un espion a été arrêté."
    for label, colour in LABEL_COLOURS.items():
        red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
        shown = page.eval_on_selector(f"#counts .chip.{label}", "chip => getComputedStyle(chip).backgroundColor")
        assert shown == f"rgb({red}, {green}, {blue})"
    assert page.inner_text('article[data-row="3"] .text') == LABELLED[2]["text"]  # markup in the text stays text
    assert page.inner_text("article.failed .reason") == LABELLED[3]["error"]
    assert page.is_visible("#error-banner")
    assert opened.problems == [] and opened.requests == [(tmp_path / "review.html").as_uri()]


def shown_rows(page) -> list[int]:
    return [int(row) for row in page.eval_on_selector_all("#rows article", "rows => rows.map(r => r.dataset.row)")]


def test_filters_sorting_and_counts(open_page, tmp_path):
    write_review(write_jsonl(tmp_path / "labelled.jsonl", LABELLED), tmp_path / "review.html")
    page = open_page(tmp_path / "review.html").page

    page.click('#label-filter .toggle[data-category="espionage"]')
    assert shown_rows(page) == [2, 5]
    assert page.inner_text("#counts .shown") == "2 of 5 rows"
    assert page.inner_text('#counts [data-category="espionage"] .n') == "2"
    assert page.inner_text('#counts [data-category="cyberattack"] .n') == "1"
    page.click('#label-filter .toggle[data-category="none"]')  # a second label widens the choice
    assert shown_rows(page) == [2, 3, 5]

    page.click("#error-banner button")
    assert shown_rows(page) == [4]
    page.click('#label-filter .toggle[data-category="error"]')  # nothing chosen: every row
    assert shown_rows(page) == [1, 2, 3, 4, 5]

    page.select_option("#language", label="fr")
    assert shown_rows(page) == [2, 5]
    page.select_option("#language", label="all")
    page.fill("#min-score", "0.9")
    assert shown_rows(page) == [1, 4, 5]  # the error row has no score and stays
    page.fill("#min-score", "0")
    page.select_option("#score-by", "espionage")
    page.select_option("#sort", "high")
    assert shown_rows(page) == [5, 2, 1, 3, 4]  # rows without a score last
    page.select_option("#sort", "low")
    assert shown_rows(page) == [1, 3, 2, 5, 4]


def test_ten_thousand_rows_open_and_filter(open_page, tmp_path):
    labels = [["cyberattack"], ["disinformation"], ["espionage"], [], ["cyberattack", "espionage"]]
    rows = []
    for i in range(10_000):
        if i % 97 == 0:
            rows.append({"id": f"r{i}", "text": "", "error": "field 'text': text is empty or whitespace only"})
            continue
        chosen = labels[i % len(labels)]
        text = f"🙂 Passage {i}. Something happened before the vote, and people wrote about it at length."
        rows.append({"id": f"r{i}", "lang": ["en", "fr", "de"][i % 3], "text": text, "labels": chosen,
                     "scores": {label: 0.9 if label in chosen else 0.1 for label in LABEL_COLOURS},
                     "evidence": {label: [{"start": 2, "end": 9, "score": 0.5}] for label in chosen}})
    write_review(write_jsonl(tmp_path / "big.jsonl", rows), tmp_path / "big.html")
    opened = open_page(tmp_path / "big.html")
    page = opened.page

    assert page.inner_text("#counts .shown") == "10,000 of 10,000 rows"
    assert page.locator("#rows article").count() == ROWS_PER_PAGE
    assert page.inner_text("#pager-status") == "rows 1–50 of 10,000 · page 1 of 200"

    page.click('#label-filter .toggle[data-category="espionage"]')
    expected = [i + 1 for i, row in enumerate(rows) if "espionage" in row.get("labels", [])]
    assert page.inner_text("#counts .shown") == f"{len(expected):,} of 10,000 rows"
    assert page.inner_text('#counts [data-category="espionage"] .n') == f"{len(expected):,}"
    assert shown_rows(page) == expected[:ROWS_PER_PAGE]
    page.click("#next")
    assert shown_rows(page) == expected[ROWS_PER_PAGE : 2 * ROWS_PER_PAGE]
    marks = page.eval_on_selector_all("#rows mark", "marks => marks.map(m => m.textContent)")
    assert len(marks) == ROWS_PER_PAGE and set(marks) == {"Passage"}  # code points 2-9, after the emoji
    assert opened.problems == []
