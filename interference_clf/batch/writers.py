"""Writing the output: a sink per format, each chunk appended whole and synced to disk; the output's Arrow schema."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from .readers import STDIO, Record, Source, dumps, import_pyarrow, json_default

if TYPE_CHECKING:
    import pyarrow as pa


class Sink(Protocol):
    def write(self, records: list[Record]) -> None: ...
    def finish(self) -> None: ...
    def stored(self, value: object) -> object:
        """``value`` as reading this sink's output gives it back (to check a resume against the input)."""
        ...


class JsonlSink:
    def __init__(self, stream: BinaryIO, durable: bool):
        self.stream, self.durable = stream, durable

    def write(self, records: list[Record]) -> None:
        # backslashreplace writes a lone surrogate as \udXXX, which inside a JSON string is that same character.
        data = b"".join(dumps(record).encode("utf-8", "backslashreplace") + b"\n" for record in records)
        _append(self.stream, data, self.durable)

    def finish(self) -> None:
        self.stream.flush()

    def stored(self, value: object) -> object:
        return json.loads(dumps(value))


class CsvSink:
    def __init__(self, stream: BinaryIO, columns: list[str], durable: bool, write_header: bool):
        self.stream, self.columns, self.durable = stream, columns, durable
        if write_header:
            _append(stream, self._encode([columns]), durable)

    def write(self, records: list[Record]) -> None:
        _append(self.stream, self._encode([[self.stored(r.get(c)) for c in self.columns] for r in records]), self.durable)

    def _encode(self, rows: list[list[object]]) -> bytes:
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(rows)
        return text.getvalue().encode("utf-8", "surrogateescape")

    def finish(self) -> None:
        self.stream.flush()

    def stored(self, value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, (dict, list, tuple, bool, int, float)):
            return dumps(value)
        return str(json_default(value))


class ParquetSink:
    """One part file per chunk, each written under a temporary name and renamed, so parts are always whole."""

    def __init__(self, parts: Path, schema: pa.Schema, destination: str, first_part: int):
        self.pa = import_pyarrow()
        self.parts, self.schema, self.destination, self.next_part = parts, schema, destination, first_part

    def write(self, records: list[Record]) -> None:
        table = self.pa.Table.from_pylist(records, schema=self.schema)
        path = _part_path(self.parts, self.next_part)
        self.pa.parquet.write_table(table, f"{path}.tmp")
        _sync_file(f"{path}.tmp")
        os.replace(f"{path}.tmp", path)
        self.next_part += 1

    def finish(self) -> None:
        """Join the parts into the output, one row group per part; the parts go only once it is complete."""
        if self.destination == STDIO:
            buffer = io.BytesIO()
            self._assemble(buffer)
            sys.stdout.buffer.write(buffer.getvalue())
            sys.stdout.buffer.flush()
            return
        assembled = f"{self.destination}.tmp"
        self._assemble(assembled)
        _sync_file(assembled)
        os.replace(assembled, self.destination)
        shutil.rmtree(self.parts)

    def _assemble(self, where: str | BinaryIO) -> None:
        with self.pa.parquet.ParquetWriter(where, self.schema) as writer:
            for path in part_paths(self.parts):
                writer.write_table(self.pa.parquet.read_table(path, schema=self.schema))

    def stored(self, value: object) -> object:
        return value


def stdout_sink(output_format: str, columns: list[str], source: Source, labels: Sequence[str],
                stack: ExitStack) -> Sink:
    if output_format == "jsonl":
        return JsonlSink(sys.stdout.buffer, durable=False)
    if output_format == "csv":
        return CsvSink(sys.stdout.buffer, columns, durable=False, write_header=True)
    parts = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="interference-clf-parts-")))
    return ParquetSink(parts, arrow_schema(source, columns, labels), STDIO, 0)


def _append(stream: BinaryIO, data: bytes, durable: bool) -> None:
    stream.write(data)
    stream.flush()
    if durable:
        os.fsync(stream.fileno())


def _sync_file(path: str) -> None:
    with open(path, "rb") as stream:
        os.fsync(stream.fileno())


def _part_path(parts: Path, number: int) -> Path:
    return parts / f"part-{number:08d}.parquet"


def part_paths(parts: Path) -> list[Path]:
    return sorted(parts.glob("part-*.parquet"))


def parts_folder(output_path: str) -> Path:
    return Path(f"{output_path}.parts")


def arrow_schema(source: Source, columns: list[str], labels: Sequence[str]) -> pa.Schema:
    pa = import_pyarrow()
    scores = pa.struct([(label, pa.float64()) for label in labels])
    span = pa.struct([("start", pa.int64()), ("end", pa.int64()), ("score", pa.float64())])
    evidence = pa.struct([(label, pa.list_(span)) for label in labels])
    passage_fields = [("start", pa.int64()), ("end", pa.int64()), ("labels", pa.list_(pa.string())), ("scores", scores)]
    if "evidence" in columns:
        passage_fields.append(("evidence", evidence))
    added = {"labels": pa.list_(pa.string()), "scores": scores, "passages": pa.list_(pa.struct(passage_fields)),
             "evidence": evidence, "error": pa.string()}
    given = {f.name: f.type for f in source.arrow_schema} if source.arrow_schema is not None else {}
    return pa.schema([(name, added.get(name) or given.get(name, pa.string())) for name in columns])
