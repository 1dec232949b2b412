"""The ``interference-clf`` command."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .backends import AUTO, BACKENDS

if TYPE_CHECKING:
    import numpy as np

    from .classifier import Classifier
    from .evidence import EvidenceSpan

LABEL_SPEC = "docs/LABELS.md"
SPEED_FILE = "speed.json"


def _info(args: argparse.Namespace) -> int:
    from .classifier import load
    from .encoder import cache_root
    from .shipped import resolve_model

    if args.models:
        print(json.dumps(_shipped_models_info(), indent=2, ensure_ascii=False))
        return 0
    clf = load(args.model, backend=args.backend)
    config = clf.config
    info = {
        "model": str(resolve_model(args.model)),
        "labels": list(clf.labels),
        "label_spec": LABEL_SPEC,
        "thresholds": clf.thresholds,
        "temperatures": config.temperatures,
        "base_encoder": config.base_encoder,
        "encoder_layers": clf.num_layers,
        "max_length": config.max_length,
        "prefix": config.prefix,
        "backend": clf.backend.name,
        "cache": str(cache_root()),
    }
    print(json.dumps(info, indent=2, ensure_ascii=False))
    return 0


def _shipped_models_info() -> list[dict]:
    """Every shipped model: size on disk, layers, and the speed its benchmark measured (``speed.json``)."""
    from .config import ClassifierConfig
    from .shipped import DEFAULT_MODEL, shipped_models

    rows = []
    for name, folder in shipped_models().items():
        config = ClassifierConfig.read(folder)
        speed = folder / SPEED_FILE
        rows.append({
            "name": name,
            "default": name == DEFAULT_MODEL,
            "size_mb": round(sum(f.stat().st_size for f in folder.iterdir() if f.is_file()) / 1e6, 1),
            "layers": len(config.encoder_layers) if config.encoder_layers is not None else 12,
            "speed": json.loads(speed.read_text()) if speed.is_file() else "not measured",
        })
    return rows


def _predict(args: argparse.Namespace) -> int:
    from .classifier import load
    from .evidence import evidence_fields

    texts = args.text or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    clf = load(args.model, backend=args.backend)
    for text, prediction in zip(texts, clf.predict(texts, batch_size=args.batch_size, evidence=args.evidence)):
        record = {"text": text, "labels": prediction.labels,
                  "scores": {k: round(v, 4) for k, v in prediction.scores.items()}}
        if prediction.evidence is not None:
            record["evidence"] = evidence_fields(prediction.evidence)
        print(json.dumps(record, ensure_ascii=False))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from .classifier import load
    from .evaluation import evaluate_classifier, markdown_summary
    from .reports import write_report

    clf = load(args.model, backend=args.backend)
    run = evaluate_classifier(clf, args.data, batch_size=args.batch_size, text_column=args.text_column)
    result, data, scores = run.result, run.data, run.scores
    result["data"], result["model"] = str(args.data), str(args.model or "shipped")
    if args.report:
        thresholds = [clf.thresholds[label] for label in clf.labels]
        evidence = _misjudged_evidence(clf, data.texts, data.labels, scores, thresholds, args.batch_size)
        page = write_report(args.report, f"Evaluation of {result['model']} on {args.data}", data.labels, scores,
                            result, texts=data.texts, row_ids=data.ids, languages=data.languages, evidence=evidence)
        print(f"report: {page} and {page.with_name('index.html')}", file=sys.stderr)
    print(markdown_summary(result, f"{args.data}"))
    return 0


def _misjudged_evidence(clf: Classifier, texts: list[str], y_true: np.ndarray, scores: np.ndarray,
                        thresholds: list[float], batch_size: int) -> dict[int, dict[str, list[EvidenceSpan]]]:
    """The evidence of the rows the report lists as misjudged, and of no other: it costs a model call per sentence."""
    from .evaluation import misjudged_rows

    rows = sorted({row["row"] for group in misjudged_rows(y_true, scores, thresholds).values() for row in group})
    predictions = clf.predict([texts[i] for i in rows], batch_size=batch_size, evidence=True)
    return {i: prediction.evidence for i, prediction in zip(rows, predictions) if prediction.evidence}


def _label(args: argparse.Namespace) -> int:
    from .batch import label_file
    from .classifier import load

    summary = label_file(
        load(args.model, backend=args.backend), args.input, args.output,
        text_key=args.text_key, id_key=args.id_key, fmt=args.format, batch_size=args.batch_size,
        resume=args.resume, overwrite=args.overwrite, split_documents=args.split_documents, evidence=args.evidence,
    )
    print(f"interference-clf label: {summary}", file=sys.stderr)
    return 0


def _review(args: argparse.Namespace) -> int:
    from .review import write_review

    summary = write_review(args.labelled, args.output, text_key=args.text_key, id_key=args.id_key, fmt=args.format)
    print(f"interference-clf review: {summary}", file=sys.stderr)
    return 0


def _train(args: argparse.Namespace) -> int:
    from .classifier import load
    from .data import read_labelled
    from .trainer import base_classifier, train
    from .training_args import TrainingArguments

    training_args = TrainingArguments.from_namespace(args)
    data = read_labelled(args.data, text_column=args.text_column, skip_bad_rows=args.skip_bad_rows)
    for problem in data.skipped:
        print(f"skipped {problem}", file=sys.stderr)
    dev = None if args.dev is None else read_labelled(args.dev, text_column=args.text_column,
                                                        skip_bad_rows=args.skip_bad_rows)
    if args.start == "base":
        start = base_classifier(training_args.max_length, seed=training_args.seed)
    else:
        start = load(args.start, backend="torch")
    train(data, args.output, model=start, args=training_args, dev_data=dev)
    print(f"interference-clf train: saved to {args.output}; load it with interference_clf.load({str(args.output)!r})",
          file=sys.stderr)
    return 0


def _export_onnx(args: argparse.Namespace) -> int:
    from .backends.onnx_export import build_onnx_cache
    from .classifier import load

    clf = load(args.model, backend="torch")
    path = build_onnx_cache(clf.model, clf.text_encoder.pad_id, clf.config.weights_sha256, quantised=True,
                            rebuild=args.force)
    print(f"ONNX export (fp32 and int8) verified in {path.parent}", file=sys.stderr)
    return 0


def _model_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--model", help="a shipped model's name or a model folder (default: the shipped default)")
    command.add_argument("--backend", choices=BACKENDS, default=AUTO,
                         help="inference backend (default: auto = ONNX Runtime int8 when installed, else torch)")


def build_parser() -> argparse.ArgumentParser:
    from .batch import FORMATS
    from .training_args import TrainingArguments

    parser = argparse.ArgumentParser(
        prog="interference-clf",
        description="Label passages with election-threat areas: cyberattack, disinformation, espionage. "
        f"What each label means: {LABEL_SPEC}.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    info = commands.add_parser("info", help="show the model, labels, thresholds, base encoder and cache")
    _model_options(info)
    info.add_argument("--models", action="store_true", help="list the shipped models with size, layers and speed")
    info.set_defaults(run=_info)

    predict = commands.add_parser("predict", help="label texts given as arguments (or one per stdin line)")
    predict.add_argument("text", nargs="*", help="texts to label")
    _model_options(predict)
    predict.add_argument("--batch-size", type=int, default=32)
    predict.add_argument("--evidence", action="store_true", help="add the spans of each text that carry its labels")
    predict.set_defaults(run=_predict)

    evaluate = commands.add_parser("evaluate", help="score labelled data (JSONL, CSV or Parquet: text, labels, lang)")
    evaluate.add_argument("data", help="labelled file: text, labels and optional lang, id")
    _model_options(evaluate)
    evaluate.add_argument("--report", help="folder for metrics.json, misjudged.jsonl, report.md and plots")
    evaluate.add_argument("--text-column", default="text")
    evaluate.add_argument("--batch-size", type=int, default=32)
    evaluate.set_defaults(run=_evaluate)

    label = commands.add_parser(
        "label", help="label every row of a JSONL, CSV or Parquet file",
        description="Label every row of INPUT into OUTPUT, in order, with labels and scores added; rows that "
        "cannot be labelled get an error field instead. Safe to kill: --resume completes the output.",
    )
    label.add_argument("input", help="JSONL, CSV or Parquet file ('-': standard input)")
    label.add_argument("output", help="file to write ('-': standard output)")
    _model_options(label)
    label.add_argument("--text-key", default="text", help="field holding the text (default: text)")
    label.add_argument("--id-key", default="id", help="field naming rows in error reports and resume checks")
    label.add_argument("--format", choices=FORMATS,
                       help="format of input and output (default: from the extensions, else jsonl)")
    label.add_argument("--batch-size", type=int, default=32, help="keep it the same when resuming")
    label.add_argument("--split-documents", action="store_true",
                       help="label each passage of long documents; rows get passages and a roll-up")
    label.add_argument("--evidence", action="store_true",
                       help="add an evidence field: for each label, the spans of the text that carry it")
    existing = label.add_mutually_exclusive_group()
    existing.add_argument("--resume", action="store_true", help="complete an output left by an interrupted run")
    existing.add_argument("--overwrite", action="store_true", help="replace an existing output")
    label.set_defaults(run=_label)

    review = commands.add_parser(
        "review", help="turn a labelled file into one self-contained HTML page to review it in a browser",
        description="Write LABELLED (a file written by `interference-clf label`, with or without --evidence and "
        "--split-documents) as one HTML file that needs no server and no network: label chips, evidence "
        "highlighted in the text, filters by label, language and score, sorting by score, label counts.",
    )
    review.add_argument("labelled", help="JSONL, CSV or Parquet file written by `interference-clf label`")
    review.add_argument("-o", "--output", required=True, help="HTML file to write (replaced if it exists)")
    review.add_argument("--text-key", default="text", help="field holding the text (default: text)")
    review.add_argument("--id-key", default="id", help="field naming each row (default: id)")
    review.add_argument("--format", choices=FORMATS, help="format of LABELLED (default: from its extension)")
    review.set_defaults(run=_review)

    train = commands.add_parser(
        "train", help="fine-tune on your own labelled data (JSONL, CSV or Parquet: text, labels, optional lang, split)",
        description="Fine-tune the shipped model (or the base encoder) on labelled rows; pick the epoch and fit "
        "thresholds on the rows whose split is dev (else on a seeded --dev-fraction), save to --output.",
    )
    train.add_argument("data", help="labelled file: text, labels (a list; [] for none), optional lang and split")
    train.add_argument("--output", required=True, help="folder to save the trained model in")
    train.add_argument("--from", dest="start", default=None,
                       help="start from this shipped model or folder (default: the shipped default), or 'base' "
                       "for the pretrained encoder with a new head")
    train.add_argument("--dev", help="separate labelled file to pick the epoch and fit thresholds on")
    train.add_argument("--text-column", default="text")
    train.add_argument("--skip-bad-rows", action="store_true",
                       help="leave out rows that cannot be used (listed) instead of stopping")
    TrainingArguments.add_to_parser(train)
    train.set_defaults(run=_train)

    export = commands.add_parser("export-onnx", help="export the model to ONNX (fp32 + int8) into the per-user cache")
    export.add_argument("--model", help="a shipped model's name or a model folder (default: the shipped default)")
    export.add_argument("--force", action="store_true", help="rebuild even when a verified export is cached")
    export.set_defaults(run=_export_onnx)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, TypeError, OSError, RuntimeError) as error:
        print(f"interference-clf: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
