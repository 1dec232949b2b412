"""Speed, memory and agreement of every shipped model on every backend; run by hand, not a test.

    python benchmarks/inference_speed.py                                  # all shipped models, all backends
    python benchmarks/inference_speed.py --models interference-e5-small-6l --passages 64 --backends onnx-int8
    python benchmarks/inference_speed.py --realworld REAL.jsonl --write-speed   # as reported in the README

Prints the CPU (model, cores, instruction sets) and one Markdown table. Rows: each model
on each backend asked for, and ``naive``: the same model's fp32 network scored the plain
way (input order, every window padded to ``max_length``, ``torch.no_grad``), the baseline
speed-ups are quoted against; ``× naive`` divides by the *first* model's naive speed (the
teacher's, as the issues quote it). Columns:

- passages/s: ``predict_proba`` on ``--passages`` passages of 45-75 words from the
  corpus test split (all languages written with spaces), at the default batch size,
  tokenisation included;
- latency p50/p95: one passage per call;
- cold load: ``from_pretrained`` (library imports excluded) in a fresh process with an empty ONNX cache (the
  export and quantisation included); warm load: the same with the cache built;
- peak RSS of the process that loaded the model once and did all the scoring;
- on the corpus dev split: the share of passages whose label set equals the same model's
  torch (fp32) label set, and the largest score difference from it; macro-F1 (at the model's
  thresholds, Δ vs its torch backend) on the corpus test split and, with ``--realworld``,
  on a real labelled set. Evaluation only: nothing is tuned on either.

Each model and backend runs in processes of its own, so memory and load times are its own.
The ONNX exports go to a temporary cache, deleted at the end; the user's cache is only read
(for the base encoder). ``--write-speed`` stores each model's passages/s per backend, with the
CPU, in ``models/<name>/speed.json`` (what ``interference-clf info --models`` shows).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from interference_clf import Classifier

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "training" / "data" / "passages"
SPEED_FILE = "speed.json"
NAIVE = "naive"
REFERENCE = "torch"
DEFAULT_BACKENDS = ("torch", "onnx-int8", "onnx-fp32")
SPEED_WORDS = (45, 75)
FULL_RUN_PASSAGES = 512
LATENCY_CALLS = 50


# ----- data ------------------------------------------------------------------------------


def corpus_split(split: str) -> tuple[list[str], np.ndarray]:
    from interference_clf.data import read_labelled

    rows = [json.loads(line) for path in sorted(CORPUS.glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    data = read_labelled([row for row in rows if row["split"] == split])
    return data.texts, data.labels


def evaluation_sets(realworld: str | None) -> dict[str, tuple[list[str], np.ndarray]]:
    from interference_clf.data import read_labelled

    sets = {"dev": corpus_split("dev"), "test": corpus_split("test")}
    if realworld:
        data = read_labelled(realworld)
        sets["realworld"] = (data.texts, data.labels)
    return sets


def speed_passages(count: int) -> list[str]:
    """``count`` test-split passages of 45-75 words, cycling through them if there are fewer."""
    low, high = SPEED_WORDS
    texts = [text for text in corpus_split("test")[0] if low <= len(text.split()) <= high]
    return [texts[i % len(texts)] for i in range(count)]


def evenly(items: list, limit: int | None) -> list[int]:
    """Indices of at most ``limit`` items spread over the whole list (every language, not just the first)."""
    if limit is None or limit >= len(items):
        return list(range(len(items)))
    return np.linspace(0, len(items) - 1, limit).round().astype(int).tolist()


# ----- measurements inside one worker process ---------------------------------------------


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class NaiveScorer:
    """Plain PyTorch: windows in input order, each padded to ``max_length``, under ``no_grad``."""

    name = NAIVE

    def __init__(self, clf: Classifier):
        self.model = clf.model
        self.pad_id = clf.text_encoder.pad_id
        self.width = clf.config.max_length

    def logits(self, windows: list[list[int]], batch_size: int) -> np.ndarray:
        import torch
        from torch.nn.functional import pad

        from interference_clf.modeling import pad_batch

        rows = []
        with torch.no_grad():
            for start in range(0, len(windows), batch_size):
                input_ids, attention_mask = pad_batch(windows[start : start + batch_size], self.pad_id)
                missing = (0, self.width - input_ids.shape[1])
                input_ids, attention_mask = pad(input_ids, missing, value=self.pad_id), pad(attention_mask, missing)
                rows.append(self.model(input_ids, attention_mask).numpy())
        return np.concatenate(rows)


def load(model: str | None, backend: str) -> Classifier:
    import interference_clf as ic

    clf = ic.load(model, backend=REFERENCE if backend == NAIVE else backend)
    if backend == NAIVE:
        clf.backend = NaiveScorer(clf)
    return clf


def measure(args: argparse.Namespace) -> dict:
    from interference_clf.classifier import DEFAULT_BATCH_SIZE

    started = time.perf_counter()
    clf = load(args.model, args.backend)
    result = {"warm_load_s": time.perf_counter() - started}
    texts = speed_passages(args.passages or FULL_RUN_PASSAGES)
    clf.predict_proba(texts[:DEFAULT_BATCH_SIZE])  # first calls allocate and tune; not what is measured
    started = time.perf_counter()
    clf.predict_proba(texts)
    result["passages_per_s"] = len(texts) / (time.perf_counter() - started)
    latencies = []
    for text in texts[:LATENCY_CALLS]:
        started = time.perf_counter()
        clf.predict_proba([text])
        latencies.append(time.perf_counter() - started)
    result["latency_p50_ms"], result["latency_p95_ms"] = (1000 * np.percentile(latencies, [50, 95])).tolist()
    result["thresholds"] = [clf.thresholds[label] for label in clf.labels]
    if args.backend != NAIVE:  # the naive path scores exactly as torch does, only slower
        for name, (set_texts, _) in evaluation_sets(args.realworld).items():
            chosen = evenly(set_texts, args.passages)
            np.save(Path(args.scores) / f"{slug(args.model)}-{args.backend}-{name}.npy", clf.predict_proba([set_texts[i] for i in chosen]))
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def cold_load(args: argparse.Namespace) -> dict:
    started = time.perf_counter()
    load(args.model, args.backend)
    return {"cold_load_s": time.perf_counter() - started}


# ----- the driver ----------------------------------------------------------------------------


def run_worker(task: str, model: str, backend: str, args: argparse.Namespace, cache: Path, scores: Path) -> dict:
    command = [sys.executable, __file__, "--worker", task, "--model", model, "--backend", backend,
               "--scores", str(scores)]
    if args.passages:
        command += ["--passages", str(args.passages)]
    if args.realworld:
        command += ["--realworld", args.realworld]
    environment = {**os.environ, "INTERFERENCE_CLF_CACHE": str(cache)}
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{task} {backend} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def scratch_cache(root: Path) -> Path:
    """An empty cache that shares the user's base encoder (built here first if needed), so cold loads
    rebuild only what the backend itself adds."""
    from interference_clf.encoder import cache_root, ensure_base_encoder

    ensure_base_encoder()
    cache = root / "cache"
    cache.mkdir()
    for entry in cache_root().glob("e5-small-*"):
        (cache / entry.name).symlink_to(entry)
    return cache


def slug(model: str) -> str:
    return Path(model).name


def agreement(model: str, backend: str, scores_folder: Path, thresholds: list[float], limit: int | None,
              sets: dict[str, tuple[list[str], np.ndarray]]) -> dict[str, str]:
    """Per evaluation set: how this backend's decisions and F1 compare with the same model's torch backend."""
    from interference_clf.evaluation import classification_metrics

    cells = {}
    for name, (texts, labels) in sets.items():
        path = scores_folder / f"{slug(model)}-{backend}-{name}.npy"
        if not path.is_file():
            cells[name] = "—"
            continue
        scores, reference = np.load(path), np.load(scores_folder / f"{slug(model)}-{REFERENCE}-{name}.npy")
        decided, decided_reference = scores >= np.asarray(thresholds), reference >= np.asarray(thresholds)
        if name == "dev":
            same = (decided == decided_reference).all(axis=1).mean()
            cells[name] = f"{same:.1%} same label sets, max Δ {np.abs(scores - reference).max():.3f}"
            continue
        truth = labels[evenly(texts, limit)]
        f1 = classification_metrics(truth, decided)["macro_f1"]
        f1_reference = classification_metrics(truth, decided_reference)["macro_f1"]
        cells[name] = f"{f1:.3f} ({f1 - f1_reference:+.3f})"
    return cells


def table(results: dict[tuple[str, str], dict], cells: dict[tuple[str, str], dict[str, str]],
          n_eval: dict[str, int]) -> str:
    naive_speed = next((r["passages_per_s"] for (_, backend), r in results.items() if backend == NAIVE), None)
    header = ["model", "backend", "passages/s", "× naive (first model)", "latency p50 / p95 ms", "cold load s",
              "warm load s", "peak RSS MB", f"dev (n={n_eval['dev']}) vs the model's torch"] + [
        f"{name} (n={n}) macro-F1 (Δ vs torch)" for name, n in n_eval.items() if name != "dev"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for (model, backend), r in results.items():
        speedup = f"{r['passages_per_s'] / naive_speed:.1f}" if naive_speed else "—"
        row = [slug(model), backend, f"{r['passages_per_s']:.1f}", speedup,
               f"{r['latency_p50_ms']:.0f} / {r['latency_p95_ms']:.0f}", f"{r['cold_load_s']:.1f}",
               f"{r['warm_load_s']:.2f}", f"{r['peak_rss_mb']:.0f}"] + [cells[(model, backend)][name] for name in n_eval]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def write_speed(model: str, results: dict[tuple[str, str], dict], cpu: str) -> None:
    from interference_clf.shipped import resolve_model

    speeds = {backend: round(r["passages_per_s"], 1) for (name, backend), r in results.items()
              if name == model and backend != NAIVE}
    record = {"passages_per_s": speeds, "cpu": cpu, "measured_with": "python benchmarks/inference_speed.py"}
    (resolve_model(model) / SPEED_FILE).write_text(json.dumps(record, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", help="comma-separated shipped names or folders (default: every shipped model)")
    parser.add_argument("--backends", default=",".join(DEFAULT_BACKENDS),
                        help=f"comma-separated; {REFERENCE} is always added as the reference, {NAIVE} as the baseline")
    parser.add_argument("--passages", type=int,
                        help=f"a quick run: N passages for speed (default {FULL_RUN_PASSAGES}) and at most N rows "
                        "per evaluation set (default all)")
    parser.add_argument("--realworld", help="a labelled real-world JSONL file to report macro-F1 on as well")
    parser.add_argument("--write-speed", action="store_true", help="store each model's speeds in its speed.json")
    parser.add_argument("--worker", choices=("measure", "cold"), help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--backend", help=argparse.SUPPRESS)
    parser.add_argument("--scores", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))  # so that it runs from a checkout, installed or not
    if args.worker:
        import interference_clf  # noqa: F401  (before any clock starts: load times leave out library imports)

        print(json.dumps((measure if args.worker == "measure" else cold_load)(args)))
        return

    from interference_clf.machine import cpu_line
    from interference_clf.shipped import shipped_models

    models = [m.strip() for m in args.models.split(",")] if args.models else list(shipped_models())
    requested = [b.strip() for b in args.backends.split(",") if b.strip()]
    backends = [NAIVE, REFERENCE] + [b for b in requested if b not in (NAIVE, REFERENCE)]
    root = Path(tempfile.mkdtemp(prefix="inference-speed-"))
    try:
        cache, scores = scratch_cache(root), root / "scores"
        scores.mkdir()
        results, cells = {}, {}
        sets = evaluation_sets(args.realworld)
        for model in models:
            for backend in backends:
                shutil.rmtree(cache / "onnx", ignore_errors=True)  # cold: not even another backend's export
                print(f"{model} {backend}: cold load ...", file=sys.stderr, flush=True)
                cold = run_worker("cold", model, backend, args, cache, scores)
                print(f"{model} {backend}: measuring ...", file=sys.stderr, flush=True)
                results[(model, backend)] = {**cold, **run_worker("measure", model, backend, args, cache, scores)}
            thresholds = results[(model, REFERENCE)]["thresholds"]
            for backend in backends:
                cells[(model, backend)] = agreement(model, backend, scores, thresholds, args.passages, sets)
        n_eval = {name: len(evenly(texts, args.passages)) for name, (texts, _) in sets.items()}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    low, high = SPEED_WORDS
    cpu = cpu_line()
    print(f"CPU: {cpu} · {args.passages or FULL_RUN_PASSAGES} passages of {low}-{high} words · default batch size\n")
    print(table(results, cells, n_eval))
    if args.write_speed:
        for model in models:
            write_speed(model, results, cpu)


if __name__ == "__main__":
    main()
