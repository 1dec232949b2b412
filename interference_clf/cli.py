"""The ``interference-clf`` command."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import numpy as np

from .progress import Progress


def _info(args: argparse.Namespace) -> int:
    from .classifier import SHIPPED_MODEL, load
    from .encoder import cache_root

    clf = load(args.model)
    config = clf.config
    info = {
        "model": str(args.model or SHIPPED_MODEL),
        "labels": list(clf.labels),
        "thresholds": clf.thresholds,
        "temperatures": config.temperatures,
        "base_encoder": config.base_encoder,
        "max_length": config.max_length,
        "prefix": config.prefix,
        "cache": str(cache_root()),
    }
    print(json.dumps(info, indent=2, ensure_ascii=False))
    return 0


def _predict(args: argparse.Namespace) -> int:
    from .classifier import load

    texts = args.text or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    clf = load(args.model)
    for text, prediction in zip(texts, clf.predict(texts, batch_size=args.batch_size)):
        record = {"text": text, "labels": prediction.labels,
                  "scores": {k: round(v, 4) for k, v in prediction.scores.items()}}
        print(json.dumps(record, ensure_ascii=False))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from .classifier import load
    from .evaluation import evaluate, markdown_summary, read_labelled_jsonl, write_report

    texts, y_true, languages = read_labelled_jsonl(args.data)
    clf = load(args.model)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="interference-clf",
        description="Label passages with election-threat areas: cyberattack, disinformation, espionage.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    info = commands.add_parser("info", help="show the model, labels, thresholds, base encoder and cache")
    info.add_argument("--model", help="model folder (default: the shipped model)")
    info.set_defaults(run=_info)

    predict = commands.add_parser("predict", help="label texts given as arguments (or one per stdin line)")
    predict.add_argument("text", nargs="*", help="texts to label")
    predict.add_argument("--model", help="model folder (default: the shipped model)")
    predict.add_argument("--batch-size", type=int, default=32)
    predict.set_defaults(run=_predict)

    evaluate = commands.add_parser("evaluate", help="score a labelled JSONL file (text, labels, optional lang)")
    evaluate.add_argument("data", help="JSONL with text, labels and optional lang")
    evaluate.add_argument("--model", help="model folder (default: the shipped model)")
    evaluate.add_argument("--report", help="folder for metrics.json, report.md and PNG plots")
    evaluate.add_argument("--batch-size", type=int, default=32)
    evaluate.set_defaults(run=_evaluate)
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
