"""The run: label each chunk of rows, write it, tally the errors, resume where an earlier run stopped."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from ..evidence import evidence_fields
from ..inputs import describe_problem
from ..passages import DocumentPrediction
from ..progress import progress
from .readers import STDIO, LabelFileError, Record, Source, SourceRow, open_source, resolve_formats
from .resume import FinishedSink, Written, finished_parquet, resume_csv, resume_jsonl, resume_parquet, skip_written
from .writers import CsvSink, JsonlSink, ParquetSink, Sink, arrow_schema, part_paths, parts_folder, stdout_sink

if TYPE_CHECKING:
    from ..classifier import Classifier, Prediction

Outcome = Union["Prediction", DocumentPrediction, str]

# Enough rows per chunk that length-sorted batching pays off, few enough that a crash loses little.
CHUNK_BATCHES = 16
SCORE_DECIMALS = 4
REPORTED_ERRORS = 5


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
        return stdout_sink(output_format, columns, source, clf.labels, stack), Written()
    _check_overwrite(input_path, output_path, output_format, options)
    chunk_rows = options.batch_size * CHUNK_BATCHES
    if output_format == "parquet":
        parts = parts_folder(output_path)
        if options.resume and Path(output_path).exists() and not parts.exists():
            return FinishedSink(output_path), finished_parquet(output_path)
        if not options.resume:
            shutil.rmtree(parts, ignore_errors=True)
        parts.mkdir(parents=True, exist_ok=True)
        written = resume_parquet(parts)
        schema = arrow_schema(source, columns, clf.labels)
        return ParquetSink(parts, schema, output_path, len(part_paths(parts))), written
    resuming = options.resume and Path(output_path).exists()
    stream = stack.enter_context(open(output_path, "r+b" if resuming else "wb"))
    if output_format == "jsonl":
        return JsonlSink(stream, durable=True), resume_jsonl(stream, chunk_rows) if resuming else Written()
    written, needs_header = resume_csv(stream, chunk_rows, columns) if resuming else (Written(), True)
    return CsvSink(stream, columns, durable=True, write_header=needs_header), written


def _check_overwrite(input_path: str, output_path: str, output_format: str, options: RunOptions) -> None:
    if input_path != STDIO and Path(output_path).exists() and os.path.samefile(input_path, output_path):
        raise LabelFileError(f"{output_path} is also the input; write the labelled rows to another file")
    if options.resume or options.overwrite:
        return
    path = Path(output_path)
    started = path.exists() and path.stat().st_size > 0
    if started or (output_format == "parquet" and parts_folder(output_path).exists()):
        raise LabelFileError(
            f"{output_path} already exists; pass --resume to continue it or --overwrite to start again"
        )


def _output_columns(fields: list[str] | None, split_documents: bool, evidence: bool) -> list[str]:
    """CSV and Parquet columns: the input's, then the added ones (JSONL rows carry their own fields)."""
    if fields is None:
        return []
    added = _added_fields(split_documents, evidence)
    return [name for name in fields if name not in added] + added


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
        source = open_source(input_path, input_format, stack)
        sink, written = _open_sink(input_path, output_path, output_format, source, clf, options, stack)
        skip_written(source.rows, written, sink, options.id_key, options.text_key)
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
