"""Reading the input: which formats a run reads and writes, and the rows of a JSONL, CSV or Parquet source."""

from __future__ import annotations

import base64
import codecs
import csv
import io
import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    import pyarrow as pa

Record = dict[str, Any]

STDIO = "-"
FORMATS = ("jsonl", "csv", "parquet")
EXTENSION_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}


class LabelFileError(ValueError):
    """The run cannot start or continue as asked (a conflicting output, a resume that does not fit)."""


@dataclass(frozen=True)
class SourceRow:
    """One input row: its fields (for an unreadable line, ``raw`` and ``line``) and why it is unreadable."""

    record: Record
    problem: str | None = None
    line: int | None = None


# ----- formats ---------------------------------------------------------------------------


def resolve_formats(input_path: str, output_path: str, fmt: str | None = None) -> tuple[str, str]:
    """Input and output formats: ``fmt`` for both, else each file's extension, else the other side's, else JSONL."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise LabelFileError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        return fmt, fmt
    from_input, from_output = _format_of(input_path), _format_of(output_path)
    input_format = from_input or from_output or "jsonl"
    output_format = from_output or input_format
    if input_format == "jsonl" and output_format != "jsonl":
        raise LabelFileError(
            f"cannot write {output_format} from JSONL: JSONL rows have no fixed columns; write JSONL instead"
        )
    return input_format, output_format


def _format_of(path: str) -> str | None:
    return None if path == STDIO else EXTENSION_FORMATS.get(Path(path).suffix.lower())


def import_pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet  # makes pyarrow.parquet reachable as an attribute
    except ImportError:
        raise LabelFileError("Parquet needs pyarrow: pip install 'interference-clf[parquet]'") from None
    return pyarrow


def json_default(value: object) -> object:
    """JSON for the Parquet values JSON lacks (dates, decimals, bytes), the same on every run."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=json_default)


# ----- reading ---------------------------------------------------------------------------


@dataclass
class Source:
    rows: Iterator[SourceRow]
    # Fixed columns (CSV header, Parquet schema); None for JSONL, whose rows may each differ.
    fields: list[str] | None = None
    arrow_schema: pa.Schema | None = None
    total: int | None = None


def open_source(input_path: str, input_format: str, stack: ExitStack) -> Source:
    binary: BinaryIO = sys.stdin.buffer if input_path == STDIO else stack.enter_context(open(input_path, "rb"))
    if input_format == "jsonl":
        # Counting first gives an ETA; a pipe can only be read once, so it goes uncounted.
        total = _count_jsonl_rows(input_path) if input_path != STDIO and Path(input_path).is_file() else None
        return Source(_jsonl_rows(binary), total=total)
    if input_format == "csv":
        # Undecodable bytes survive as lone surrogates and are written back unchanged.
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
        stack.callback(text.detach)  # closing the wrapper would close stdin too
        return _csv_source(text)
    return _parquet_source(binary, input_path == STDIO)


def _count_jsonl_rows(path: str) -> int:
    with open(path, "rb") as stream:
        return sum(1 for line in stream if line.strip())


def _jsonl_rows(stream: BinaryIO) -> Iterator[SourceRow]:
    for number, line in enumerate(stream, start=1):
        if line.strip():  # blank lines (a trailing newline, spacing) are not rows
            yield _parse_jsonl_line(line.rstrip(b"\r\n"), number)


def _parse_jsonl_line(raw: bytes, number: int) -> SourceRow:
    if number == 1:
        raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return _unreadable(raw.decode("utf-8", "replace"), number, f"line is not valid UTF-8 (byte {error.start})")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return _unreadable(text, number, f"malformed JSON: {error.msg} at column {error.colno}")
    if not isinstance(value, dict):
        kind = "null" if value is None else JSON_TYPES[type(value)]
        return _unreadable(text, number, f"line holds {kind}, expected a JSON object")
    return SourceRow(value, line=number)


def _unreadable(raw: str, number: int, problem: str) -> SourceRow:
    return SourceRow({"raw": raw, "line": number}, problem, number)


def _csv_source(stream: io.TextIOBase) -> Source:
    # Documents can be long; the csv module's default 128 KiB cell limit would turn them into errors.
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
    reader = csv.reader(stream)
    header = next(reader, [])
    return Source(_csv_rows(reader, header), fields=header)


def _csv_rows(reader: Any, header: list[str]) -> Iterator[SourceRow]:
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield SourceRow({}, f"unreadable CSV row ending on line {reader.line_num}: {error}", reader.line_num)
            continue
        if values:
            yield _csv_row(header, values, reader.line_num)


def _csv_row(header: list[str], values: list[str], line: int) -> SourceRow:
    record = dict(zip(header, values))
    if len(values) <= len(header):
        return SourceRow(record, line=line)
    extra = dumps(values[len(header) :])
    return SourceRow(record, f"row has {len(values)} fields but the header {len(header)}; extra values: {extra}", line)


def _parquet_source(binary: BinaryIO, from_stdin: bool) -> Source:
    pa = import_pyarrow()
    # Parquet keeps its index at the end of the file, so a stream has to be read whole first.
    parquet = pa.parquet.ParquetFile(io.BytesIO(binary.read()) if from_stdin else binary)
    rows = (SourceRow(row) for batch in parquet.iter_batches() for row in batch.to_pylist())
    schema = parquet.schema_arrow
    return Source(rows, fields=schema.names, arrow_schema=schema, total=parquet.metadata.num_rows)
