"""What an earlier run left: the whole chunks of its output kept, the rest dropped, checked against the input."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .readers import LabelFileError, Record, SourceRow, import_pyarrow
from .writers import Sink, part_paths


@dataclass(frozen=True)
class Written:
    """What an earlier run left that is kept: whole chunks only."""

    rows: int = 0
    last: Record | None = None


def _whole_chunks(rows: Iterable[tuple[int, Any]], chunk_rows: int, start: int) -> tuple[int, int, Any]:
    """Rows kept, the byte offset after them and the last of them, counting only whole chunks.

    A crash can cut a chunk short; redoing it from its start keeps the model's
    batches, and so every score, exactly as in an uninterrupted run.
    """
    kept, offset, last = 0, start, None
    for count, (end, row) in enumerate(rows, start=1):
        if count % chunk_rows == 0:
            kept, offset, last = count, end, row
    return kept, offset, last


def _complete_lines(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """Each line that ends in a newline, with the byte offset after it."""
    offset = 0
    for line in stream:
        if not line.endswith(b"\n"):
            return  # cut short by the crash
        offset += len(line)
        yield offset, line


def resume_jsonl(stream: BinaryIO, chunk_rows: int) -> Written:
    kept, offset, last = _whole_chunks(_complete_lines(stream), chunk_rows, 0)
    _truncate(stream, offset)
    return Written(kept, None if last is None else json.loads(last))


def resume_csv(stream: BinaryIO, chunk_rows: int, columns: list[str]) -> tuple[Written, bool]:
    """What is kept, and whether the header still has to be written."""
    lines = _CountedLines(stream)
    # strict: a quoted cell cut short by the crash is an error here, not a row.
    reader = csv.reader(lines, strict=True)
    header = next(reader, None)
    if header is None:
        _truncate(stream, 0)
        return Written(), True
    if header != columns:
        raise LabelFileError(f"cannot resume: the output's columns {header} are not the expected {columns}")
    kept, offset, last = _whole_chunks(_csv_rows_written(reader, lines), chunk_rows, lines.consumed)
    _truncate(stream, offset)
    return Written(kept, None if last is None else dict(zip(columns, last))), False


class _CountedLines:
    """The complete lines of a stream, decoded, keeping count of the bytes handed out so far."""

    def __init__(self, stream: BinaryIO):
        self.stream, self.consumed = stream, 0

    def __iter__(self) -> Iterator[str]:
        for offset, line in _complete_lines(self.stream):
            self.consumed = offset
            yield line.decode("utf-8", "surrogateescape")


def _csv_rows_written(reader: Any, lines: _CountedLines) -> Iterator[tuple[int, list[str]]]:
    while True:
        try:
            row = next(reader)
        except (StopIteration, csv.Error):
            return
        yield lines.consumed, row


def _truncate(stream: BinaryIO, offset: int) -> None:
    stream.seek(offset)
    stream.truncate()


class FinishedSink:
    """A complete Parquet output being resumed: there is nothing left to write, and it is left untouched."""

    def __init__(self, output_path: str):
        self.output_path = output_path

    def write(self, records: list[Record]) -> None:
        raise LabelFileError(
            f"{self.output_path} is complete but the input has more rows; pass --overwrite to label it again"
        )

    def finish(self) -> None:
        pass

    def stored(self, value: object) -> object:
        return value


def finished_parquet(output_path: str) -> Written:
    pa = import_pyarrow()
    parquet = pa.parquet.ParquetFile(output_path)
    if parquet.metadata.num_rows == 0:
        return Written()
    last_group = parquet.read_row_group(parquet.num_row_groups - 1)
    return Written(parquet.metadata.num_rows, last_group.slice(last_group.num_rows - 1).to_pylist()[0])


def resume_parquet(parts: Path) -> Written:
    pa = import_pyarrow()
    for leftover in parts.glob("*.tmp"):
        leftover.unlink()
    paths = part_paths(parts)
    if not paths:
        return Written()
    rows = sum(pa.parquet.ParquetFile(path).metadata.num_rows for path in paths)
    last = pa.parquet.read_table(paths[-1]).to_pylist()[-1]
    return Written(rows, last)


def skip_written(rows: Iterator[SourceRow], written: Written, sink: Sink, id_key: str, text_key: str) -> None:
    """Skip the input rows already in the output, checking that the last of them is the same row."""
    last: SourceRow | None = None
    for count in range(written.rows):
        last = next(rows, None)
        if last is None:
            raise LabelFileError(f"cannot resume: the output holds {written.rows} rows but the input only {count}")
    if last is None or written.last is None:
        return
    for key in (id_key, text_key):
        expected, found = sink.stored(last.record.get(key)), written.last.get(key)
        if sink.stored(found) != expected:
            raise LabelFileError(
                f"cannot resume: row {written.rows} of the output has {key}={found!r} but that input row has "
                f"{expected!r}; the output was written from another input (pass --overwrite to start again)"
            )
