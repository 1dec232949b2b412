"""Labelling whole files: rows of JSONL, CSV or Parquet in, the same rows with labels and scores out.

Rows stream through in chunks of ``batch_size * CHUNK_BATCHES``, so memory stays
flat whatever the file size. Every input row comes out exactly once and in
order, with its fields plus ``labels`` and ``scores`` (and ``passages`` with
``split_documents``), or plus ``error`` when it could not be labelled: bad rows
never stop a run. Input fields named like the added ones are replaced.

Each chunk is appended whole and synced to disk (Parquet: one part file per
chunk, assembled at the end), so a run killed at any moment leaves output that
``resume=True`` completes: it keeps the whole chunks already written, drops
anything after them, skips as many input rows and carries on, after checking
that the last row kept has the ``id_key`` and ``text_key`` values of the input
row it stands for. Resumed with the same input, ``batch_size`` and
``split_documents``, the result is byte for byte what an uninterrupted run writes.
"""

from __future__ import annotations

import base64
import codecs
import csv
import io
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, Union

from .inputs import describe_problem
from .passages import DocumentPrediction
from .evidence import evidence_fields
from .progress import progress

if TYPE_CHECKING:
    import pyarrow as pa

    from .classifier import Classifier, Prediction

Record = dict[str, Any]
Outcome = Union["Prediction", DocumentPrediction, str]

STDIO = "-"
FORMATS = ("jsonl", "csv", "parquet")
EXTENSION_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
# Enough rows per chunk that length-sorted batching pays off, few enough that a crash loses little.
CHUNK_BATCHES = 16
SCORE_DECIMALS = 4
REPORTED_ERRORS = 5
JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}


class LabelFileError(ValueError):
    """The run cannot start or continue as asked (a conflicting output, a resume that does not fit)."""


@dataclass(frozen=True)
class SourceRow:
    """One input row: its fields (for an unreadable line, ``raw`` and ``line``) and why it is unreadable."""

    record: Record
    problem: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class LabelSummary:
    rows_read: int
    labelled: int
    errored: int
    resumed_after: int
    seconds: float
    first_errors: list[str] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0

    def __str__(self) -> str:
        kept = f" after {self.resumed_after} rows kept from an earlier run" if self.resumed_after else ""
        lines = [
            (
                f"read {self.rows_read} rows{kept}: {self.labelled} labelled, {self.errored} errored "
                f"in {self.seconds:.1f}s ({self.rows_per_second:.1f} rows/s)"
            )
        ]
        lines += [f"  {error}" for error in self.first_errors]
        if self.errored > len(self.first_errors):
            lines.append(f"  … and {self.errored - len(self.first_errors)} more rows with an error field")
        return "\n".join(lines)


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


def _import_pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet  # makes pyarrow.parquet reachable as an attribute
    except ImportError:
        raise LabelFileError("Parquet needs pyarrow: pip install 'interference-clf[parquet]'") from None
    return pyarrow


def _json_default(value: object) -> object:
    """JSON for the Parquet values JSON lacks (dates, decimals, bytes), the same on every run."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_default)


# ----- reading ---------------------------------------------------------------------------


@dataclass
class Source:
    rows: Iterator[SourceRow]
    # Fixed columns (CSV header, Parquet schema); None for JSONL, whose rows may each differ.
    fields: list[str] | None = None
    arrow_schema: pa.Schema | None = None
    total: int | None = None


def _open_source(input_path: str, input_format: str, stack: ExitStack) -> Source:
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
    extra = _dumps(values[len(header) :])
    return SourceRow(record, f"row has {len(values)} fields but the header {len(header)}; extra values: {extra}", line)


def _parquet_source(binary: BinaryIO, from_stdin: bool) -> Source:
    pa = _import_pyarrow()
    # Parquet keeps its index at the end of the file, so a stream has to be read whole first.
    parquet = pa.parquet.ParquetFile(io.BytesIO(binary.read()) if from_stdin else binary)
    rows = (SourceRow(row) for batch in parquet.iter_batches() for row in batch.to_pylist())
    schema = parquet.schema_arrow
    return Source(rows, fields=schema.names, arrow_schema=schema, total=parquet.metadata.num_rows)


# ----- labelling -------------------------------------------------------------------------


def label_texts(
    clf: Classifier,
    texts: Sequence[object],
    problems: Sequence[str | None],
    batch_size: int,
    split_documents: bool = False,
    evidence: bool = False,
) -> list[Outcome]:
    """Each text's problem where it has one, else its prediction; one model call for all the rest."""
    chosen = [text for text, problem in zip(texts, problems) if problem is None]
    if split_documents:
        predictions: list[Any] = clf.predict_documents(chosen, batch_size=batch_size, evidence=evidence)
    else:
        predictions = clf.predict(chosen, batch_size=batch_size, evidence=evidence)
    in_order = iter(predictions)
    return [next(in_order) if problem is None else problem for problem in problems]


def _prediction_fields(prediction: Prediction | DocumentPrediction) -> Record:
    """The fields a labelled row gains, with scores rounded so that reruns write the same bytes."""
    fields: Record = {"labels": list(prediction.labels), "scores": _rounded(prediction.scores)}
    if isinstance(prediction, DocumentPrediction):
        fields["passages"] = [
            {"start": p.start, "end": p.end, "labels": list(p.labels), "scores": _rounded(p.scores),
             **({} if p.evidence is None else {"evidence": evidence_fields(p.evidence)})}
            for p in prediction.passages
        ]
    if prediction.evidence is not None:
        fields["evidence"] = evidence_fields(prediction.evidence)
    return fields


def _rounded(scores: dict[str, float]) -> dict[str, float]:
    return {label: round(float(score), SCORE_DECIMALS) for label, score in scores.items()}


def _added_fields(split_documents: bool, evidence: bool = False) -> list[str]:
    return ["labels", "scores", *(["passages"] if split_documents else []), *(["evidence"] if evidence else []),
            "error"]


def _text_problem(record: Record, text_key: str) -> str | None:
    if text_key not in record:
        return f"no {text_key!r} field"
    problem = describe_problem(record[text_key])
    return None if problem is None else f"field {text_key!r}: {problem}"


def _label_chunk(
    clf: Classifier, rows: list[SourceRow], text_key: str, batch_size: int, split_documents: bool, evidence: bool
) -> list[tuple[Record, str | None]]:
    """Output records in input order, each with the problem that kept it from being labelled."""
    problems = [row.problem or _text_problem(row.record, text_key) for row in rows]
    texts = [row.record.get(text_key) for row in rows]
    outcomes = label_texts(clf, texts, problems, batch_size, split_documents, evidence)
    replaced = _added_fields(split_documents, evidence)
    labelled: list[tuple[Record, str | None]] = []
    for row, outcome in zip(rows, outcomes):
        kept = {key: value for key, value in row.record.items() if key not in replaced}
        if isinstance(outcome, str):
            labelled.append(({**kept, "error": outcome}, outcome))
        else:
            labelled.append(({**kept, **_prediction_fields(outcome)}, None))
    return labelled


# ----- writing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    """What an earlier run left that is kept: whole chunks only."""

    rows: int = 0
    last: Record | None = None


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
        data = b"".join(_dumps(record).encode("utf-8", "backslashreplace") + b"\n" for record in records)
        _append(self.stream, data, self.durable)

    def finish(self) -> None:
        self.stream.flush()

    def stored(self, value: object) -> object:
        return json.loads(_dumps(value))


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
            return _dumps(value)
        return str(_json_default(value))


class ParquetSink:
    """One part file per chunk, each written under a temporary name and renamed, so parts are always whole."""

    def __init__(self, parts: Path, schema: pa.Schema, destination: str, first_part: int):
        self.pa = _import_pyarrow()
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
            for path in _part_paths(self.parts):
                writer.write_table(self.pa.parquet.read_table(path, schema=self.schema))

    def stored(self, value: object) -> object:
        return value


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


def _part_paths(parts: Path) -> list[Path]:
    return sorted(parts.glob("part-*.parquet"))


def _parts_folder(output_path: str) -> Path:
    return Path(f"{output_path}.parts")


def _arrow_schema(source: Source, columns: list[str], labels: Sequence[str]) -> pa.Schema:
    pa = _import_pyarrow()
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


# ----- resuming --------------------------------------------------------------------------


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


def _resume_jsonl(stream: BinaryIO, chunk_rows: int) -> Written:
    kept, offset, last = _whole_chunks(_complete_lines(stream), chunk_rows, 0)
    _truncate(stream, offset)
    return Written(kept, None if last is None else json.loads(last))


def _resume_csv(stream: BinaryIO, chunk_rows: int, columns: list[str]) -> tuple[Written, bool]:
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


class _FinishedSink:
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


def _finished_parquet(output_path: str) -> Written:
    pa = _import_pyarrow()
    parquet = pa.parquet.ParquetFile(output_path)
    if parquet.metadata.num_rows == 0:
        return Written()
    last_group = parquet.read_row_group(parquet.num_row_groups - 1)
    return Written(parquet.metadata.num_rows, last_group.slice(last_group.num_rows - 1).to_pylist()[0])


def _resume_parquet(parts: Path) -> Written:
    pa = _import_pyarrow()
    for leftover in parts.glob("*.tmp"):
        leftover.unlink()
    paths = _part_paths(parts)
    if not paths:
        return Written()
    rows = sum(pa.parquet.ParquetFile(path).metadata.num_rows for path in paths)
    last = pa.parquet.read_table(paths[-1]).to_pylist()[-1]
    return Written(rows, last)


# ----- the run ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RunOptions:
    text_key: str
    id_key: str
    batch_size: int
    resume: bool
    overwrite: bool
    split_documents: bool
    evidence: bool = False


def _open_sink(
    input_path: str,
    output_path: str,
    output_format: str,
    source: Source,
    clf: Classifier,
    options: RunOptions,
    stack: ExitStack,
) -> tuple[Sink, Written]:
    """The sink to write to and what an earlier run left in it (nothing unless resuming)."""
    columns = _output_columns(source.fields, options.split_documents, options.evidence)
    if output_path == STDIO:
        if options.resume:
            raise LabelFileError("cannot resume standard output; write to a file to be able to resume")
        return _stdout_sink(output_format, columns, source, clf, stack), Written()
    _check_overwrite(input_path, output_path, output_format, options)
    chunk_rows = options.batch_size * CHUNK_BATCHES
    if output_format == "parquet":
        parts = _parts_folder(output_path)
        if options.resume and Path(output_path).exists() and not parts.exists():
            return _FinishedSink(output_path), _finished_parquet(output_path)
        if not options.resume:
            shutil.rmtree(parts, ignore_errors=True)
        parts.mkdir(parents=True, exist_ok=True)
        written = _resume_parquet(parts)
        schema = _arrow_schema(source, columns, clf.labels)
        return ParquetSink(parts, schema, output_path, len(_part_paths(parts))), written
    resuming = options.resume and Path(output_path).exists()
    stream = stack.enter_context(open(output_path, "r+b" if resuming else "wb"))
    if output_format == "jsonl":
        return JsonlSink(stream, durable=True), _resume_jsonl(stream, chunk_rows) if resuming else Written()
    written, needs_header = _resume_csv(stream, chunk_rows, columns) if resuming else (Written(), True)
    return CsvSink(stream, columns, durable=True, write_header=needs_header), written


def _stdout_sink(output_format: str, columns: list[str], source: Source, clf: Classifier,
                 stack: ExitStack) -> Sink:
    if output_format == "jsonl":
        return JsonlSink(sys.stdout.buffer, durable=False)
    if output_format == "csv":
        return CsvSink(sys.stdout.buffer, columns, durable=False, write_header=True)
    parts = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="interference-clf-parts-")))
    return ParquetSink(parts, _arrow_schema(source, columns, clf.labels), STDIO, 0)


def _check_overwrite(input_path: str, output_path: str, output_format: str, options: RunOptions) -> None:
    if input_path != STDIO and Path(output_path).exists() and os.path.samefile(input_path, output_path):
        raise LabelFileError(f"{output_path} is also the input; write the labelled rows to another file")
    if options.resume or options.overwrite:
        return
    path = Path(output_path)
    started = path.exists() and path.stat().st_size > 0
    if started or (output_format == "parquet" and _parts_folder(output_path).exists()):
        raise LabelFileError(
            f"{output_path} already exists; pass --resume to continue it or --overwrite to start again"
        )


def _output_columns(fields: list[str] | None, split_documents: bool, evidence: bool) -> list[str]:
    """CSV and Parquet columns: the input's, then the added ones (JSONL rows carry their own fields)."""
    if fields is None:
        return []
    added = _added_fields(split_documents, evidence)
    return [name for name in fields if name not in added] + added


def _skip_written(rows: Iterator[SourceRow], written: Written, sink: Sink, options: RunOptions) -> None:
    """Skip the input rows already in the output, checking that the last of them is the same row."""
    last: SourceRow | None = None
    for count in range(written.rows):
        last = next(rows, None)
        if last is None:
            raise LabelFileError(f"cannot resume: the output holds {written.rows} rows but the input only {count}")
    if last is None or written.last is None:
        return
    for key in (options.id_key, options.text_key):
        expected, found = sink.stored(last.record.get(key)), written.last.get(key)
        if sink.stored(found) != expected:
            raise LabelFileError(
                f"cannot resume: row {written.rows} of the output has {key}={found!r} but that input row has "
                f"{expected!r}; the output was written from another input (pass --overwrite to start again)"
            )


@dataclass
class _ErrorTally:
    """How many rows errored, and the first few described by line (or row number) and id."""

    id_key: str
    count: int = 0
    first: list[str] = field(default_factory=list)

    def add(self, row: SourceRow, number: int, problem: str) -> None:
        self.count += 1
        if len(self.first) < REPORTED_ERRORS:
            where = f"line {row.line}" if row.line is not None else f"row {number}"
            identifier = row.record.get(self.id_key)
            self.first.append(f"{where}{'' if identifier is None else f' ({self.id_key} {identifier!r})'}: {problem}")


def _chunks(rows: Iterator[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def label_file(
    clf: Classifier,
    input_path: str | os.PathLike[str],
    output_path: str | os.PathLike[str],
    *,
    text_key: str = "text",
    id_key: str = "id",
    fmt: str | None = None,
    batch_size: int = 32,
    resume: bool = False,
    overwrite: bool = False,
    split_documents: bool = False,
    evidence: bool = False,
    show_progress: bool = True,
) -> LabelSummary:
    """Label every row of ``input_path`` (``"-"``: stdin) into ``output_path`` (``"-"``: stdout).

    ``fmt`` (jsonl, csv, parquet) overrides the formats the extensions give.
    ``id_key`` names rows in error reports and checks a resume against the input.
    Raises ``LabelFileError`` for a run that cannot start, ``OSError`` for I/O failures.
    """
    if batch_size < 1:
        raise LabelFileError(f"batch_size must be positive, got {batch_size}")
    started = time.monotonic()
    input_path, output_path = os.fspath(input_path), os.fspath(output_path)
    input_format, output_format = resolve_formats(input_path, output_path, fmt)
    options = RunOptions(text_key, id_key, batch_size, resume, overwrite, split_documents, evidence)
    with ExitStack() as stack:
        source = _open_source(input_path, input_format, stack)
        sink, written = _open_sink(input_path, output_path, output_format, source, clf, options, stack)
        _skip_written(source.rows, written, sink, options)
        total = None if source.total is None else source.total - written.rows
        bar = progress(total, "labelling", "rows", enabled=show_progress)
        read, errors = 0, _ErrorTally(id_key)
        for chunk in _chunks(source.rows, batch_size * CHUNK_BATCHES):
            labelled = _label_chunk(clf, chunk, text_key, batch_size, split_documents, evidence)
            sink.write([record for record, _ in labelled])
            for index, (row, (_, problem)) in enumerate(zip(chunk, labelled)):
                if problem is not None:
                    errors.add(row, written.rows + read + index + 1, problem)
            read += len(chunk)
            bar.update(len(chunk))
        sink.finish()
        bar.close()
    seconds = time.monotonic() - started
    return LabelSummary(read, read - errors.count, errors.count, written.rows, seconds, errors.first)
