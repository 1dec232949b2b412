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

The work is split by job: ``readers`` (formats, input rows), ``writers`` (sinks,
durable appends), ``resume`` (what an earlier run left) and ``run`` (labelling
chunks, the run loop); the names below are the package's public API.
"""

from .readers import (
    EXTENSION_FORMATS,
    FORMATS,
    JSON_TYPES,
    STDIO,
    LabelFileError,
    Record,
    Source,
    SourceRow,
    resolve_formats,
)
from .resume import Written
from .run import (
    CHUNK_BATCHES,
    REPORTED_ERRORS,
    SCORE_DECIMALS,
    LabelSummary,
    Outcome,
    RunOptions,
    label_file,
    label_texts,
)
from .writers import CsvSink, JsonlSink, ParquetSink, Sink

__all__ = [
    "CHUNK_BATCHES", "EXTENSION_FORMATS", "FORMATS", "JSON_TYPES", "REPORTED_ERRORS", "SCORE_DECIMALS", "STDIO",
    "CsvSink", "JsonlSink", "LabelFileError", "LabelSummary", "Outcome", "ParquetSink", "Record", "RunOptions",
    "Sink", "Source", "SourceRow", "Written", "label_file", "label_texts", "resolve_formats",
]
