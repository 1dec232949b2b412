"""The ``interference-clf`` command."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import numpy as np

from .backends import AUTO, BACKENDS
from .batch import FORMATS
from .progress import Progress


def _info(args: argparse.Namespace) -> int:
    from .classifier import SHIPPED_MODEL, load
    from .encoder import cache_root

    clf = load(args.model, backend=args.backend)
    config = clf.config
    info = {
        "model": str(args.model or SHIPPED_MODEL),
        "labels": list(clf.labels),
        "thresholds": clf.thresholds,
        "temperatures": config.temperatures,
        "base_encoder": config.base_encoder,
        "max_length": config.max_length,
        "prefix": config.prefix,
        "backend": clf.backend.name,
        "cache": str(cache_root()),
    }
    print(json.dumps(info, indent=2, ensure_ascii=False))
    return 0


def _predict(args: argparse.Namespace) -> int:
    from .classifier import load

    texts = args.text or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    clf = load(args.model, backend=args.backend)
    for text, prediction in zip(texts, clf.predict(texts, batch_size=args.batch_size)):
        record = {"text": text, "labels": prediction.labels,
                  "scores": {k: round(v, 4) for k, v in prediction.scores.items()}}
        print(json.dumps(record, ensure_ascii=False))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from .classifier import load
    from .evaluation import evaluate, markdown_summary, read_labelled_jsonl, write_report

    texts, y_true, languages = read_labelled_jsonl(args.data)
    clf = load(args.model, backend=args.backend)
    scores = np.zeros((len(texts), len(clf.labels)), dtype=np.float32)
    chunk = max(args.batch_size * 8, 1)
    progress = Progress(len(texts), "scoring")
    for start in range(0, len(texts), chunk):
        scores[start : start + chunk] = clf.predict_proba(texts[start : start + chunk], batch_size=args.batch_size)
        progress.update(min(start + chunk, len(texts)))
    progress.close()
    thresholds = [clf.thresholds[label] for label in clf.labels]
    result = evaluate(y_true, scores, thresholds, languages)
    result["data"], result["model"] = str(args.data), str(args.model or "shipped")
    if args.report:
        page = write_report(y_true, scores, result, args.report, f"Evaluation of {result['model']} on {args.data}")
        print(f"report: {page}", file=sys.stderr)
    print(markdown_summary(result, f"{args.data}"))
    return 0


def _label(args: argparse.Namespace) -> int:
    from .batch import label_file
    from .classifier import load

    summary = label_file(
        load(args.model, backend=args.backend), args.input, args.output,
        text_key=args.text_key, id_key=args.id_key, fmt=args.format, batch_size=args.batch_size,
        resume=args.resume, overwrite=args.overwrite, split_documents=args.split_documents,
    )
    print(f"interference-clf label: {summary}", file=sys.stderr)
    return 0


def _export_onnx(args: argparse.Namespace) -> int:
    from .backends.onnx_backend import ensure_onnx_model
    from .classifier import load

    clf = load(args.model, backend="torch")
    path = ensure_onnx_model(clf.model, clf.tokenizer.pad_token_id, clf.config.weights_sha256,
                             quantised=True, rebuild=args.force)
    print(f"ONNX export (fp32 and int8) verified in {path.parent}", file=sys.stderr)
    return 0


def _model_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--model", help="model folder (default: the shipped model)")
    command.add_argument("--backend", choices=BACKENDS, default=AUTO,
                         help="inference backend (default: auto = ONNX Runtime int8 when installed, else torch)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="interference-clf",
        description="Label passages with election-threat areas: cyberattack, disinformation, espionage.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    info = commands.add_parser("info", help="show the model, labels, thresholds, base encoder and cache")
    _model_options(info)
    info.set_defaults(run=_info)

    predict = commands.add_parser("predict", help="label texts given as arguments (or one per stdin line)")
    predict.add_argument("text", nargs="*", help="texts to label")
    _model_options(predict)
    predict.add_argument("--batch-size", type=int, default=32)
    predict.set_defaults(run=_predict)

    evaluate = commands.add_parser("evaluate", help="score a labelled JSONL file (text, labels, optional lang)")
    evaluate.add_argument("data", help="JSONL with text, labels and optional lang")
    _model_options(evaluate)
    evaluate.add_argument("--report", help="folder for metrics.json, report.md and PNG plots")
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
    existing = label.add_mutually_exclusive_group()
    existing.add_argument("--resume", action="store_true", help="complete an output left by an interrupted run")
    existing.add_argument("--overwrite", action="store_true", help="replace an existing output")
    label.set_defaults(run=_label)

    export = commands.add_parser("export-onnx", help="export the model to ONNX (fp32 + int8) into the per-user cache")
    export.add_argument("--model", help="model folder (default: the shipped model)")
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
