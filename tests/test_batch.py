import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from interference_clf import cli
from interference_clf.batch import CHUNK_BATCHES, LabelFileError, label_file, resolve_formats

from .conftest import SAMPLE_TEXTS

REPO = Path(__file__).resolve().parent.parent
# The tiny model gains nothing from threads, and on a busy machine competing threads slow it a hundredfold.
SINGLE_THREAD_ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}


@pytest.fixture(autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def write_jsonl(path: Path, rows: int, malformed_every: int = 0) -> Path:
    with path.open("w", encoding="utf-8") as stream:
        for index in range(rows):
            if malformed_every and index % malformed_every == malformed_every - 1:
                stream.write(f'{{"id": {index}, "text": "unterminated\n')
            else:
                stream.write(json.dumps({"id": index, "text": SAMPLE_TEXTS[index % len(SAMPLE_TEXTS)]}) + "\n")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def run_cli(*args: str, stdin: bytes = b"", timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "interference_clf.cli", *args], input=stdin, capture_output=True,
                          env=SINGLE_THREAD_ENV, timeout=timeout, cwd=REPO, check=False)


# ----- every row out, once, in order -------------------------------------------------------


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


# ----- crash safety --------------------------------------------------------------------------


def test_killed_run_resumes_to_the_same_bytes(tiny_classifier, tiny_classifier_folder, tmp_path):
    rows = 3000
    source = write_jsonl(tmp_path / "in.jsonl", rows, malformed_every=97)
    expected = tmp_path / "expected.jsonl"
    label_file(tiny_classifier, source, expected, batch_size=1, show_progress=False)

    output = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "interference_clf.cli", "label", str(source), str(output),
               "--model", str(tiny_classifier_folder), "--batch-size", "1"]
    process = subprocess.Popen(command, env=SINGLE_THREAD_ENV, cwd=REPO, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if output.exists() and output.stat().st_size > 20_000:
            break
        time.sleep(0.01)
    assert process.poll() is None, "the run finished (or failed) before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    written = output.read_bytes()
    assert 0 < written.count(b"\n") < rows

    resumed = run_cli("label", str(source), str(output), "--model", str(tiny_classifier_folder),
                      "--batch-size", "1", "--resume")
    assert resumed.returncode == 0, resumed.stderr.decode()
    assert b"kept from an earlier run" in resumed.stderr
    assert output.read_bytes() == expected.read_bytes()


@pytest.mark.parametrize("cut", [1, 0.37, 0.5, 0.999])
def test_resume_after_a_cut_anywhere_gives_the_same_bytes(tiny_classifier, tmp_path, cut):
    source = write_jsonl(tmp_path / "in.jsonl", 200, malformed_every=13)
    expected = tmp_path / "expected.jsonl"
    label_file(tiny_classifier, source, expected, batch_size=2, show_progress=False)
    complete = expected.read_bytes()
    output = tmp_path / "out.jsonl"
    output.write_bytes(complete[: int(len(complete) * cut)])  # mid-line, mid-chunk: what a kill leaves
    summary = label_file(tiny_classifier, source, output, batch_size=2, resume=True, show_progress=False)
    assert output.read_bytes() == complete
    assert summary.resumed_after % (2 * CHUNK_BATCHES) == 0  # only whole chunks are kept
    assert summary.resumed_after + summary.rows_read == 200


def test_resume_refuses_output_from_another_input(tiny_classifier, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", 100)
    output = tmp_path / "out.jsonl"
    label_file(tiny_classifier, source, output, batch_size=1, show_progress=False)
    other = tmp_path / "other.jsonl"
    other.write_text("".join(json.dumps({"id": f"x{i}", "text": "other"}) + "\n" for i in range(100)))
    with pytest.raises(LabelFileError, match="written from another input"):
        label_file(tiny_classifier, other, output, batch_size=1, resume=True, show_progress=False)
    with pytest.raises(LabelFileError, match="the input only 3"):
        label_file(tiny_classifier, write_jsonl(tmp_path / "short.jsonl", 3), output, batch_size=1, resume=True,
                   show_progress=False)


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


def interrupting_after(clf, calls: int):
    """Make the model fail on its ``calls``-th call, as a crash mid-run would."""
    original, count = clf.predict_proba, [0]

    def predict_proba(*args, **kwargs):
        count[0] += 1
        if count[0] == calls:
            raise RuntimeError("simulated crash")
        return original(*args, **kwargs)

    clf.predict_proba = predict_proba
    return lambda: setattr(clf, "predict_proba", original)


# ----- CSV and Parquet -----------------------------------------------------------------------


def write_csv(path: Path, rows: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "text", "note"])
        for index in range(rows):
            text = SAMPLE_TEXTS[index % 8] + ("\nsecond line, with a comma" if index % 5 == 0 else "")
            writer.writerow([index, "" if index == 7 else text, f'say "{index}"'])
        stream.write("extra,values,in,this,row\n")
    return path


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


def test_formats_come_from_extensions_unless_given():
    assert resolve_formats("a.csv", "b.jsonl") == ("csv", "jsonl")
    assert resolve_formats("-", "b.parquet") == ("parquet", "parquet")
    assert resolve_formats("a.CSV", "-") == ("csv", "csv")
    assert resolve_formats("-", "-") == ("jsonl", "jsonl")
    assert resolve_formats("a.txt", "b.txt", "csv") == ("csv", "csv")
    with pytest.raises(LabelFileError, match="no fixed columns"):
        resolve_formats("a.jsonl", "b.csv")
    with pytest.raises(LabelFileError, match="unknown format"):
        resolve_formats("a", "b", "xml")


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
