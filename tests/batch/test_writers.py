import csv
import datetime
import decimal
import io
import json
from pathlib import Path

import pytest

from interference_clf.batch import CHUNK_BATCHES, LabelFileError, label_file
from interference_clf.batch.readers import Source
from interference_clf.batch.writers import CsvSink, JsonlSink, arrow_schema

from ..conftest import SAMPLE_TEXTS
from .conftest import interrupting_after, read_jsonl, write_csv


def test_jsonl_lines_keep_unicode_escape_lone_surrogates_and_write_dates_and_decimals_as_text():
    stream = io.BytesIO()
    sink = JsonlSink(stream, durable=False)
    sink.write([{"text": "café \ud800", "day": datetime.date(2024, 2, 29), "amount": decimal.Decimal("1.50")}, {}])
    assert stream.getvalue() == '{"text": "café \\ud800", "day": "2024-02-29", "amount": "1.50"}\n{}\n'.encode()
    assert json.loads(stream.getvalue().splitlines()[0])["text"] == "café \ud800"
    assert sink.stored(datetime.date(2024, 2, 29)) == "2024-02-29"


def test_csv_cells_hold_json_for_structures_and_give_back_undecodable_bytes():
    stream = io.BytesIO()
    sink = CsvSink(stream, ["text", "scores", "flag", "day", "blob", "missing"], durable=False, write_header=True)
    sink.write([{"text": "caf\udce9", "scores": {"a": [1, 2.5]}, "flag": True, "day": datetime.date(2024, 2, 29),
                 "blob": b"\x00\xff"}])
    header = b"text,scores,flag,day,blob,missing\n"
    assert stream.getvalue() == header + b'caf\xe9,"{""a"": [1, 2.5]}",true,2024-02-29,AP8=,\n'
    assert (sink.stored(None), sink.stored(7), sink.stored(decimal.Decimal("1.50"))) == ("", "7", "1.50")


def test_arrow_schema_types_the_added_columns_and_keeps_the_input_types():
    pa = pytest.importorskip("pyarrow", reason="Parquet needs pyarrow (the parquet extra)")

    given_schema = pa.schema([("id", pa.int32()), ("text", pa.large_string())])
    given = Source(iter(()), fields=given_schema.names, arrow_schema=given_schema)
    columns = ["id", "text", "labels", "scores", "passages", "evidence", "error"]
    schema = arrow_schema(given, columns, ["a", "b"])
    span = pa.struct([("start", pa.int64()), ("end", pa.int64()), ("score", pa.float64())])
    evidence = pa.struct([("a", pa.list_(span)), ("b", pa.list_(span))])
    scores = pa.struct([("a", pa.float64()), ("b", pa.float64())])
    assert schema.names == columns
    assert [schema.field(name).type for name in ("id", "text", "labels", "scores", "evidence", "error")] == [
        pa.int32(), pa.large_string(), pa.list_(pa.string()), scores, evidence, pa.string()]
    passage = schema.field("passages").type.value_type
    assert [(f.name, f.type) for f in passage] == [("start", pa.int64()), ("end", pa.int64()),
                                                   ("labels", pa.list_(pa.string())), ("scores", scores),
                                                   ("evidence", evidence)]
    from_csv = arrow_schema(Source(iter(()), fields=["note"]), ["note", "labels", "scores", "passages", "error"], ["a"])
    assert from_csv.field("note").type == pa.string()
    assert [f.name for f in from_csv.field("passages").type.value_type] == ["start", "end", "labels", "scores"]


def without_nulls(value):
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def test_passages_and_evidence_go_into_parquet_as_they_go_into_jsonl(tiny_classifier, tmp_path):
    pytest.importorskip("pyarrow", reason="Parquet needs pyarrow (the parquet extra)")
    import pyarrow.parquet as pq

    source = tmp_path / "in.csv"
    source.write_text("id,text\n1,Hackers broke into the servers. Bots spread a fake poll.\n2,\n3,Spies were caught.\n")
    options = {"split_documents": True, "evidence": True, "show_progress": False}
    label_file(tiny_classifier, source, tmp_path / "out.parquet", **options)
    label_file(tiny_classifier, source, tmp_path / "out.jsonl", **options)
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.column_names == ["id", "text", "labels", "scores", "passages", "evidence", "error"]
    from_parquet, from_jsonl = table.to_pylist(), read_jsonl(tmp_path / "out.jsonl")
    # A struct column has every label; JSONL evidence names only the labels with spans.
    assert [without_nulls(row) for row in from_parquet] == from_jsonl
    assert from_parquet[1]["passages"] is None and from_parquet[1]["error"].endswith("empty or whitespace only")


def test_csv_round_trip_keeps_columns_and_resumes_byte_identical(tiny_classifier, tmp_path):
    source = write_csv(tmp_path / "in.csv", 120)
    expected = tmp_path / "expected.csv"
    summary = label_file(tiny_classifier, source, expected, batch_size=2, show_progress=False)
    with source.open(newline="") as stream:
        given = list(csv.DictReader(stream))
    with expected.open(newline="") as stream:
        reader = csv.DictReader(stream)
        labelled = list(reader)
    assert reader.fieldnames == ["id", "text", "note", "labels", "scores", "error"]
    assert len(labelled) == len(given) == 121 and summary.errored == 2
    for before, after in zip(given[:120], labelled):
        assert {key: after[key] for key in ("id", "text", "note")} == {k: before[k] for k in ("id", "text", "note")}
    assert set(json.loads(labelled[0]["labels"])) <= set(tiny_classifier.labels)
    assert set(json.loads(labelled[0]["scores"])) == set(tiny_classifier.labels)
    assert labelled[7]["error"] == "field 'text': text is empty or whitespace only" and labelled[7]["labels"] == ""
    assert labelled[120]["error"].startswith("row has 5 fields but the header 3")

    complete = expected.read_bytes()
    inside_quoted_cell = complete.index(b"second line", len(complete) // 2)
    output = tmp_path / "out.csv"
    output.write_bytes(complete[:inside_quoted_cell])
    label_file(tiny_classifier, source, output, batch_size=2, resume=True, show_progress=False)
    assert output.read_bytes() == complete


def test_parquet_round_trip_keeps_types_and_resumes_after_a_crash(tiny_classifier, tmp_path):
    pa = pytest.importorskip("pyarrow", reason="Parquet needs pyarrow (the parquet extra)")
    import pyarrow.parquet as pq

    source = tmp_path / "in.parquet"
    texts = [SAMPLE_TEXTS[i % 8] if i % 9 else None for i in range(150)]
    pq.write_table(pa.table({"id": list(range(150)), "text": texts, "score": [i / 3 for i in range(150)]}), source)
    expected = tmp_path / "expected.parquet"
    label_file(tiny_classifier, source, expected, batch_size=2, show_progress=False)
    table = pq.read_table(expected)
    assert table.column_names == ["id", "text", "score", "labels", "scores", "error"]
    assert table.schema.field("id").type == pa.int64() and table.schema.field("score").type == pa.float64()
    rows = table.to_pylist()
    assert [row["id"] for row in rows] == list(range(150))
    assert rows[0]["error"] == "field 'text': text is None, expected a string" and rows[0]["labels"] is None
    assert set(rows[1]["scores"]) == set(tiny_classifier.labels) and rows[1]["error"] is None

    output = tmp_path / "out.parquet"
    restore = interrupting_after(tiny_classifier, 3)
    with pytest.raises(RuntimeError, match="simulated crash"):
        label_file(tiny_classifier, source, output, batch_size=2, show_progress=False)
    restore()
    assert not output.exists() and len(list(Path(f"{output}.parts").glob("*.parquet"))) == 2
    summary = label_file(tiny_classifier, source, output, batch_size=2, resume=True, show_progress=False)
    assert summary.resumed_after == 2 * 2 * CHUNK_BATCHES
    assert output.read_bytes() == expected.read_bytes()
    assert not Path(f"{output}.parts").exists()
    again = label_file(tiny_classifier, source, output, batch_size=2, resume=True, show_progress=False)
    assert (again.resumed_after, again.rows_read) == (150, 0) and output.read_bytes() == expected.read_bytes()
    longer = tmp_path / "longer.parquet"
    pq.write_table(pa.table({"id": [*range(150), 150], "text": [*texts, "more"], "score": [0.0] * 151}), longer)
    with pytest.raises(LabelFileError, match="complete but the input has more rows"):
        label_file(tiny_classifier, longer, output, batch_size=2, resume=True, show_progress=False)


def test_csv_to_parquet_and_parquet_to_jsonl(tiny_classifier, tmp_path):
    pytest.importorskip("pyarrow", reason="Parquet needs pyarrow (the parquet extra)")
    import pyarrow.parquet as pq

    source = write_csv(tmp_path / "in.csv", 20)
    label_file(tiny_classifier, source, tmp_path / "mid.parquet", show_progress=False)
    assert pq.read_table(tmp_path / "mid.parquet").num_rows == 21
    label_file(tiny_classifier, tmp_path / "mid.parquet", tmp_path / "out.jsonl", show_progress=False)
    rows = read_jsonl(tmp_path / "out.jsonl")
    assert [row["id"] for row in rows[:20]] == [str(i) for i in range(20)]
