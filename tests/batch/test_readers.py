import codecs
from contextlib import ExitStack

import pytest

from interference_clf.batch import LabelFileError, resolve_formats
from interference_clf.batch.readers import SourceRow, open_source


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


def test_jsonl_rows_skip_blank_lines_drop_a_leading_bom_and_keep_their_line_numbers(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_bytes(codecs.BOM_UTF8 + b'{"id": 1, "text": "a"}\r\n\n  \nnull\n"text"\n{"id": 2}')
    with ExitStack() as stack:
        opened = open_source(str(source), "jsonl", stack)
        rows = list(opened.rows)
    assert (opened.total, opened.fields) == (4, None)
    assert rows == [
        SourceRow({"id": 1, "text": "a"}, line=1),
        SourceRow({"raw": "null", "line": 4}, "line holds null, expected a JSON object", 4),
        SourceRow({"raw": '"text"', "line": 5}, "line holds a string, expected a JSON object", 5),
        SourceRow({"id": 2}, line=6),
    ]


def test_csv_rows_drop_a_bom_and_keep_undecodable_bytes_multiline_cells_and_short_rows(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(codecs.BOM_UTF8 + b'id,text\n1,caf\xe9\n\n2,"two\nlines"\n3\n')
    with ExitStack() as stack:
        opened = open_source(str(source), "csv", stack)
        rows = list(opened.rows)
    assert (opened.fields, opened.total) == (["id", "text"], None)
    assert rows == [
        SourceRow({"id": "1", "text": "caf\udce9"}, line=2),  # written back as the byte it was
        SourceRow({"id": "2", "text": "two\nlines"}, line=5),
        SourceRow({"id": "3"}, line=6),
    ]
