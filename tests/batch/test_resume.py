import io
import json
import signal
import subprocess
import sys
import time

import pytest

from interference_clf.batch import CHUNK_BATCHES, LabelFileError, label_file
from interference_clf.batch.readers import SourceRow
from interference_clf.batch.resume import Written, resume_csv, resume_parquet, skip_written
from interference_clf.batch.writers import CsvSink

from .conftest import REPO, SINGLE_THREAD_ENV, run_cli, write_jsonl


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


@pytest.mark.parametrize(("cut", "options"), [
    (1, {}), (0.37, {}), (0.5, {}), (0.999, {}),
    (0.41, {"evidence": True}), (0.63, {"evidence": True, "split_documents": True}),
])
def test_resume_after_a_cut_anywhere_gives_the_same_bytes(tiny_classifier, tmp_path, cut, options):
    source = write_jsonl(tmp_path / "in.jsonl", 200, malformed_every=13)
    expected = tmp_path / "expected.jsonl"
    label_file(tiny_classifier, source, expected, batch_size=2, show_progress=False, **options)
    complete = expected.read_bytes()
    if options.get("evidence"):
        assert b'"evidence"' in complete
    output = tmp_path / "out.jsonl"
    output.write_bytes(complete[: int(len(complete) * cut)])  # mid-line, mid-chunk: what a kill leaves
    summary = label_file(tiny_classifier, source, output, batch_size=2, resume=True, show_progress=False,
                         **options)
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


def test_skip_written_compares_values_as_the_output_stores_them():
    sink = CsvSink(io.BytesIO(), ["id", "text"], durable=False, write_header=False)
    rows = iter([SourceRow({"id": index, "text": f"text {index}"}) for index in range(4)])
    skip_written(rows, Written(2, {"id": "1", "text": "text 1"}), sink, "id", "text")  # CSV gives the id back as text
    assert next(rows).record["id"] == 2
    rows = iter([SourceRow({"id": index, "text": f"text {index}"}) for index in range(4)])
    with pytest.raises(LabelFileError, match=r"row 2 of the output has text='other' but that input row has 'text 1'"):
        skip_written(rows, Written(2, {"id": "1", "text": "other"}), sink, "id", "text")


def test_csv_resume_writes_a_header_cut_short_again_and_refuses_other_columns():
    cut_in_header = io.BytesIO(b"id,te")
    assert resume_csv(cut_in_header, 2, ["id", "text"]) == (Written(), True)
    assert cut_in_header.getvalue() == b""
    other_columns = io.BytesIO(b"id,body\n1,x\n")
    with pytest.raises(LabelFileError, match=r"columns \['id', 'body'\] are not the expected \['id', 'text'\]"):
        resume_csv(other_columns, 2, ["id", "text"])
    assert other_columns.getvalue() == b"id,body\n1,x\n"


def test_parquet_resume_drops_a_half_written_part(tmp_path):
    pa = pytest.importorskip("pyarrow", reason="Parquet needs pyarrow (the parquet extra)")
    import pyarrow.parquet as pq

    parts = tmp_path / "out.parquet.parts"
    parts.mkdir()
    pq.write_table(pa.table({"id": [0, 1]}), parts / "part-00000000.parquet")
    pq.write_table(pa.table({"id": [2, 3]}), parts / "part-00000001.parquet")
    (parts / "part-00000002.parquet.tmp").write_bytes(b"half a part")
    assert resume_parquet(parts) == Written(4, {"id": 3})
    assert sorted(path.name for path in parts.iterdir()) == ["part-00000000.parquet", "part-00000001.parquet"]
