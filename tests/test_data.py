import json

import numpy as np
import pytest

from interference_clf.data import BadRowsError, read_labelled

ROWS = [
    {"id": "a", "text": "hackers hit the site", "labels": ["cyberattack"], "lang": "en", "split": "train"},
    {"id": "b", "text": "un espion arrêté", "labels": ["espionage"], "lang": "fr", "split": "dev"},
    {"id": "c", "text": "sunny weather", "labels": [], "split": "train"},
]


def test_jsonl_rows_with_language_split_and_ids(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS) + "\n")
    data = read_labelled(path)
    assert data.texts == [r["text"] for r in ROWS]
    assert data.labels.tolist() == [[1, 0, 0], [0, 0, 1], [0, 0, 0]]
    assert data.languages == ["en", "fr", "?"] and data.splits == ["train", "dev", "train"]
    assert data.ids == ["a", "b", "c"] and data.rows == [1, 2, 3]
    assert data.split("dev").texts == ["un espion arrêté"]


def test_csv_labels_as_json_or_separated_names(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('text,labels\nfirst,"[""cyberattack"", ""espionage""]"\nsecond,disinformation; espionage\n'
                    "third,\n", encoding="utf-8")
    assert read_labelled(path).labels.tolist() == [[1, 0, 1], [0, 1, 1], [0, 0, 0]]


def test_parquet_and_datasets_and_lists_give_the_same_data(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import Dataset

    pq.write_table(pa.Table.from_pylist(ROWS), tmp_path / "d.parquet")
    from_parquet = read_labelled(tmp_path / "d.parquet")
    from_dataset = read_labelled(Dataset.from_list(ROWS))
    from_list = read_labelled(ROWS)
    for data in (from_dataset, from_list):
        assert data.texts == from_parquet.texts and np.array_equal(data.labels, from_parquet.labels)
    assert from_list.to_dataset()["labels"] == [["cyberattack"], ["espionage"], []]


def test_every_bad_row_is_reported_by_number(tmp_path):
    path = tmp_path / "bad.jsonl"
    lines = [json.dumps(ROWS[0]), '{"text": "x", "labels": ["spying"]}', "{not json", json.dumps({"labels": []}),
             json.dumps({"text": 5, "labels": []}), json.dumps({"text": "y"}), json.dumps({"text": "z", "labels": "[x"}),
             json.dumps({"text": "w", "labels": [], "split": "holdout"})]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BadRowsError) as caught:
        read_labelled(path)
    problems = caught.value.problems
    assert [p.split(":")[0] for p in problems] == [f"row {n}" for n in range(2, 9)]
    assert "unknown label(s) ['spying']" in problems[0] and "malformed JSON" in problems[1]
    assert "no 'text' field" in problems[2] and "'text' is of type int" in problems[3] and "no 'labels' field" in problems[4]
    assert "not a JSON array" in problems[5] and "'holdout'" in problems[6]
    skipped = read_labelled(path, skip_bad_rows=True)
    assert skipped.texts == [ROWS[0]["text"]] and skipped.skipped == problems


def test_no_usable_rows_and_unknown_formats_are_errors(tmp_path):
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(BadRowsError, match="no rows"):
        read_labelled(tmp_path / "empty.jsonl")
    (tmp_path / "d.txt").write_text("x")
    with pytest.raises(ValueError, match="unknown format"):
        read_labelled(tmp_path / "d.txt")
    with pytest.raises(FileNotFoundError):
        read_labelled(tmp_path / "missing.jsonl")
