import csv
import io
import json

import pytest

from interference_clf import cli
from interference_clf.batch import LabelFileError, LabelSummary, label_file

from ..conftest import SAMPLE_TEXTS
from .conftest import read_jsonl, run_cli, write_jsonl


def test_ten_thousand_rows_with_one_percent_malformed_all_come_out_in_order(tiny_classifier, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", 10_000, malformed_every=100)
    summary = label_file(tiny_classifier, source, tmp_path / "out.jsonl", batch_size=64, show_progress=False)
    rows = read_jsonl(tmp_path / "out.jsonl")
    assert len(rows) == 10_000
    assert (summary.rows_read, summary.labelled, summary.errored) == (10_000, 9_900, 100)
    for line_number, row in enumerate(rows, start=1):
        if line_number % 100 == 0:
            assert row["line"] == line_number and row["raw"].startswith(f'{{"id": {line_number - 1},')
            assert row["error"].startswith("malformed JSON") and "labels" not in row
        else:
            assert row["id"] == line_number - 1 and row["text"] == SAMPLE_TEXTS[(line_number - 1) % 8]
            assert set(row["labels"]) <= set(tiny_classifier.labels) and "error" not in row
            assert list(row["scores"]) == list(tiny_classifier.labels)
    assert summary.first_errors[0].startswith("line 100: malformed JSON")


def test_bad_rows_are_flagged_and_kept(tiny_classifier, tmp_path):
    lines = [
        '{"id": "a", "text": "Hackers broke into the servers."}',
        '{"id": "b"}',
        '{"id": "c", "text": 42}',
        '{"id": "d", "text": "   "}',
        '{"id": "e", "text": null, "labels": ["gold"]}',
        "[1, 2]",
        "",
        '{"id": "f", "text": "lone \\ud800 surrogate"}',
    ]
    source = tmp_path / "in.jsonl"
    source.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "g", "text": "\xff"}\n')
    summary = label_file(tiny_classifier, source, tmp_path / "out.jsonl", show_progress=False)
    rows = read_jsonl(tmp_path / "out.jsonl")
    assert [row.get("id") for row in rows] == ["a", "b", "c", "d", "e", None, "f", None]
    assert "error" not in rows[0] and rows[0]["labels"] is not None
    assert rows[1]["error"] == "no 'text' field"
    assert rows[2]["error"] == "field 'text': text is of type int, expected a string"
    assert rows[3]["error"] == "field 'text': text is empty or whitespace only"
    assert rows[4] == {"id": "e", "text": None, "error": "field 'text': text is None, expected a string"}
    assert rows[5] == {"raw": "[1, 2]", "line": 6, "error": "line holds an array, expected a JSON object"}
    assert rows[6]["text"] == "lone \ud800 surrogate" and "unpaired surrogate" in rows[6]["error"]
    assert rows[7]["line"] == 9 and rows[7]["error"] == "line is not valid UTF-8 (byte 21)"
    assert (summary.labelled, summary.errored) == (1, 7)
    assert summary.first_errors[0] == "line 2 (id 'b'): no 'text' field"


def test_other_text_and_id_keys(tiny_classifier, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"key": 7, "body": "Spies were caught."}\n{"key": 8, "text": "no body"}\n')
    summary = label_file(tiny_classifier, source, tmp_path / "out.jsonl", text_key="body", id_key="key",
                         show_progress=False)
    rows = read_jsonl(tmp_path / "out.jsonl")
    assert "labels" in rows[0] and rows[1]["error"] == "no 'body' field"
    assert summary.first_errors == ["line 2 (key 8): no 'body' field"]


def test_only_the_first_errors_are_described_by_row_number_where_rows_have_no_line(tiny_classifier, tmp_path):
    pa = pytest.importorskip("pyarrow", reason="Parquet needs pyarrow (the parquet extra)")
    import pyarrow.parquet as pq

    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": list(range(40)), "text": [None] * 40}), source)
    summary = label_file(tiny_classifier, source, tmp_path / "out.parquet", batch_size=1, show_progress=False)
    assert (summary.rows_read, summary.errored) == (40, 40)
    assert summary.first_errors == [f"row {n} (id {n - 1}): field 'text': text is None, expected a string"
                                    for n in range(1, 6)]
    assert str(summary).splitlines()[-1] == "  … and 35 more rows with an error field"


def test_summary_reads_as_one_line_per_reported_error():
    summary = LabelSummary(rows_read=10, labelled=9, errored=1, resumed_after=32, seconds=2.0,
                           first_errors=["line 3: no 'text' field"])
    assert str(summary) == ("read 10 rows after 32 rows kept from an earlier run: 9 labelled, 1 errored in 2.0s "
                            "(5.0 rows/s)\n  line 3: no 'text' field")
    assert LabelSummary(0, 0, 0, 0, 0.0).rows_per_second == 0.0


def test_runs_that_cannot_start_say_why(tiny_classifier, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", 2)
    with pytest.raises(LabelFileError, match="batch_size must be positive, got 0"):
        label_file(tiny_classifier, source, tmp_path / "out.jsonl", batch_size=0, show_progress=False)
    with pytest.raises(LabelFileError, match="cannot resume standard output"):
        label_file(tiny_classifier, source, "-", resume=True, show_progress=False)


def test_existing_output_is_never_silently_replaced(tiny_classifier, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", 5)
    output = tmp_path / "out.jsonl"
    output.write_text("precious\n")
    with pytest.raises(LabelFileError, match="--resume .* --overwrite"):
        label_file(tiny_classifier, source, output, show_progress=False)
    assert output.read_text() == "precious\n"
    label_file(tiny_classifier, source, output, overwrite=True, show_progress=False)
    assert len(read_jsonl(output)) == 5
    before = source.read_bytes()
    with pytest.raises(LabelFileError, match="also the input"):
        label_file(tiny_classifier, source, source, overwrite=True, show_progress=False)
    assert source.read_bytes() == before


# ----- documents, streams, the command -------------------------------------------------------


def test_split_documents_adds_passages_with_exact_offsets(tiny_classifier, tmp_path):
    document = "Hackers broke into the servers. Bots spread a fake poll 🙂.\n\n选举委员会的网站遭到攻击。间谍被抓了！"
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": 1, "text": document}) + "\n" + json.dumps({"id": 2, "text": ""}) + "\n")
    label_file(tiny_classifier, source, tmp_path / "out.jsonl", split_documents=True, show_progress=False)
    labelled, errored = read_jsonl(tmp_path / "out.jsonl")
    passages = labelled["passages"]
    assert len(passages) > 1
    bounds = [(p["start"], p["end"]) for p in passages]
    assert bounds == sorted(bounds)
    assert all(document[start:end] == document[start:end].strip() != "" for start, end in bounds)
    gaps = zip([0] + [end for _, end in bounds], [start for start, _ in bounds] + [len(document)])
    assert all(not document[start:end].strip() for start, end in gaps)  # only whitespace between passages
    labels = tiny_classifier.labels
    assert labelled["labels"] == [label for label in labels if any(label in p["labels"] for p in passages)]
    assert labelled["scores"] == {label: max(p["scores"][label] for p in passages) for label in labels}
    assert "passages" not in errored and errored["error"].endswith("empty or whitespace only")


def test_split_documents_with_evidence_points_into_the_row_text(tiny_classifier, tmp_path):
    document = "Intro line here. Hackers broke into the servers.\n\n选举委员会的网站遭到攻击。间谍被抓了！ Bots spread a fake poll 🙂."
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": 1, "text": document}) + "\n")
    label_file(tiny_classifier, source, tmp_path / "out.jsonl", split_documents=True, evidence=True,
               show_progress=False)
    [row] = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert row["labels"] and set(row["evidence"]) == set(row["labels"])
    for passage in row["passages"]:
        assert set(passage.get("evidence", {})) == set(passage["labels"])
        for spans in passage.get("evidence", {}).values():
            for span in spans:  # offsets into the row's text, inside the passage they came from
                assert passage["start"] <= span["start"] < span["end"] <= passage["end"]
                assert document[span["start"] : span["end"]].strip()
    row_spans = {(s["start"], s["end"]) for spans in row["evidence"].values() for s in spans}
    passage_spans = {(s["start"], s["end"]) for p in row["passages"] for spans in p.get("evidence", {}).values()
                     for s in spans}
    assert row_spans <= passage_spans


def test_stdin_to_stdout_through_the_command(tiny_classifier_folder):
    lines = [json.dumps({"id": i, "text": SAMPLE_TEXTS[i % 8]}) for i in range(40)] + ["not json"]
    result = run_cli("label", "-", "-", "--model", str(tiny_classifier_folder), "--batch-size", "4",
                     stdin=("\n".join(lines) + "\n").encode())
    assert result.returncode == 0, result.stderr.decode()
    rows = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [row.get("id") for row in rows] == [*range(40), None]
    assert rows[-1] == {"raw": "not json", "line": 41, "error": "malformed JSON: Expecting value at column 1"}
    assert "read 41 rows: 40 labelled, 1 errored" in result.stderr.decode()

    csv_in = "id,text\n1,Hackers broke in.\n2,\n"
    result = run_cli("label", "-", "-", "--format", "csv", "--model", str(tiny_classifier_folder),
                     stdin=csv_in.encode())
    assert result.returncode == 0, result.stderr.decode()
    rows = list(csv.DictReader(io.StringIO(result.stdout.decode())))
    assert [row["id"] for row in rows] == ["1", "2"] and rows[1]["error"] and not rows[0]["error"]


def test_command_fails_with_a_message_only_on_io_or_model_problems(tiny_classifier_folder, tmp_path, capsys):
    model = ["--model", str(tiny_classifier_folder)]
    source = write_jsonl(tmp_path / "in.jsonl", 3, malformed_every=2)
    assert cli.main(["label", str(source), str(tmp_path / "out.jsonl"), *model]) == 0
    assert cli.main(["label", str(tmp_path / "missing.jsonl"), str(tmp_path / "x.jsonl"), *model]) == 2
    assert "missing.jsonl" in capsys.readouterr().err
    assert cli.main(["label", str(source), str(tmp_path / "out.jsonl"), *model]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert cli.main(["label", str(source), str(tmp_path / "y.jsonl"), "--model", str(tmp_path / "nowhere")]) == 2
