"""Speed, memory and agreement of the inference backends; run by hand, not a test.

    python benchmarks/inference_speed.py                                   # shipped model, everything
    python benchmarks/inference_speed.py --model /path/to/model --passages 64 --backends torch,onnx-int8

Prints one Markdown table. Rows: every backend asked for, and ``naive``: the same fp32
model scored the plain way (input order, every window padded to ``max_length``,
``torch.no_grad``), the baseline the speed-up is quoted against. Columns:

- passages/s: ``predict_proba`` on ``--passages`` passages of 45-75 words from the
  corpus test split (all languages written with spaces), at the default batch size,
  tokenisation included;
- latency p50/p95: one passage per call;
- cold load: ``from_pretrained`` (library imports excluded) in a fresh process with an empty ONNX cache (the
  export and quantisation included); warm load: the same with the cache built;
- peak RSS of the process that loaded the model once and did all the scoring;
- macro-F1 (at the model's thresholds) and the largest score difference from the
  ``torch`` backend, on the corpus test split (``training/data/passages/*.jsonl``,
  ``split == "test"``) and on ``../shared/data/realworld-dev.jsonl``. Evaluation only:
  nothing is tuned on either.

Each backend runs in processes of its own, so its memory and load times are its own.
The ONNX exports go to a temporary cache, deleted at the end; the user's cache is
only read (for the base encoder).
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
REALWORLD = ROOT.parent / "shared" / "data" / "realworld-dev.jsonl"
NAIVE = "naive"
REFERENCE = "torch"
DEFAULT_BACKENDS = ("torch", "onnx-int8", "onnx-fp32")
SPEED_WORDS = (45, 75)
FULL_RUN_PASSAGES = 512
LATENCY_CALLS = 50


# ----- data ------------------------------------------------------------------------------


def corpus_test_split() -> tuple[list[str], np.ndarray]:
    from interference_clf.labels import to_indicator

    texts, rows = [], []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record["split"] == "test":
                texts.append(record["text"])
                rows.append(to_indicator(record["labels"]))
    return texts, np.array(rows, dtype=int)


def evaluation_sets() -> dict[str, tuple[list[str], np.ndarray]]:
    from interference_clf.evaluation import read_labelled_jsonl

    sets = {"test": corpus_test_split()}
    if REALWORLD.is_file():
        texts, labels, _ = read_labelled_jsonl(REALWORLD)
        sets["realworld"] = (texts, labels)
    return sets


def speed_passages(count: int) -> list[str]:
    """``count`` test-split passages of 45-75 words, cycling through them if there are fewer."""
    low, high = SPEED_WORDS
    texts = [text for text in corpus_test_split()[0] if low <= len(text.split()) <= high]
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
        self.pad_id = clf.tokenizer.pad_token_id
        self.width = clf.config.max_length

    def logits(self, windows: list[list[int]], batch_size: int) -> np.ndarray:
        import torch
        from torch.nn.functional import pad

        from interference_clf.classifier import pad_batch

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
        for name, (set_texts, _) in evaluation_sets().items():
            chosen = evenly(set_texts, args.passages)
            np.save(Path(args.scores) / f"{args.backend}-{name}.npy", clf.predict_proba([set_texts[i] for i in chosen]))
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def cold_load(args: argparse.Namespace) -> dict:
    started = time.perf_counter()
    load(args.model, args.backend)
    return {"cold_load_s": time.perf_counter() - started}


# ----- the driver ----------------------------------------------------------------------------


def run_worker(task: str, backend: str, args: argparse.Namespace, cache: Path, scores: Path) -> dict:
    command = [sys.executable, __file__, "--worker", task, "--backend", backend, "--scores", str(scores)]
    if args.model:
        command += ["--model", args.model]
    if args.passages:
        command += ["--passages", str(args.passages)]
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


def agreement(backend: str, scores_folder: Path, thresholds: list[float], limit: int | None,
              sets: dict[str, tuple[list[str], np.ndarray]]) -> dict[str, str]:
    from interference_clf.evaluation import classification_metrics

    cells = {}
    for name, (texts, labels) in sets.items():
        path = scores_folder / f"{backend}-{name}.npy"
        if not path.is_file():
            cells[name] = "—"
            continue
        scores, reference = np.load(path), np.load(scores_folder / f"{REFERENCE}-{name}.npy")
        truth = labels[evenly(texts, limit)]
        f1 = classification_metrics(truth, scores >= np.asarray(thresholds))["macro_f1"]
        f1_reference = classification_metrics(truth, reference >= np.asarray(thresholds))["macro_f1"]
        cells[name] = f"{f1:.3f} ({f1 - f1_reference:+.3f}), max Δ {np.abs(scores - reference).max():.4f}"
    return cells


def table(results: dict[str, dict], cells: dict[str, dict[str, str]], n_eval: dict[str, int]) -> str:
    naive_speed = results.get(NAIVE, {}).get("passages_per_s")
    header = ["backend", "passages/s", "× naive", "latency p50 / p95 ms", "cold load s", "warm load s",
              "peak RSS MB"] + [f"{name} (n={n}) macro-F1 (Δ), max Δscore vs torch" for name, n in n_eval.items()]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for backend, r in results.items():
        speedup = f"{r['passages_per_s'] / naive_speed:.1f}" if naive_speed else "—"
        row = [backend, f"{r['passages_per_s']:.1f}", speedup,
               f"{r['latency_p50_ms']:.0f} / {r['latency_p95_ms']:.0f}", f"{r['cold_load_s']:.1f}",
               f"{r['warm_load_s']:.2f}", f"{r['peak_rss_mb']:.0f}"] + [cells[backend][name] for name in n_eval]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="model folder (default: the shipped model)")
    parser.add_argument("--backends", default=",".join(DEFAULT_BACKENDS),
                        help=f"comma-separated; {REFERENCE} is always added as the reference, {NAIVE} as the baseline")
    parser.add_argument("--passages", type=int,
                        help=f"a quick run: N passages for speed (default {FULL_RUN_PASSAGES}) and at most N rows "
                        "per evaluation set (default all)")
    parser.add_argument("--worker", choices=("measure", "cold"), help=argparse.SUPPRESS)
    parser.add_argument("--backend", help=argparse.SUPPRESS)
    parser.add_argument("--scores", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))  # so that it runs from a checkout, installed or not
    if args.worker:
        import interference_clf  # noqa: F401  (before any clock starts: load times leave out library imports)

        print(json.dumps((measure if args.worker == "measure" else cold_load)(args)))
        return

    requested = [b.strip() for b in args.backends.split(",") if b.strip()]
    backends = [NAIVE, REFERENCE] + [b for b in requested if b not in (NAIVE, REFERENCE)]
    root = Path(tempfile.mkdtemp(prefix="inference-speed-"))
    try:
        cache, scores = scratch_cache(root), root / "scores"
        scores.mkdir()
        results = {}
        for backend in backends:
            shutil.rmtree(cache / "onnx", ignore_errors=True)  # cold: not even another backend's export
            print(f"{backend}: cold load ...", file=sys.stderr, flush=True)
            cold = run_worker("cold", backend, args, cache, scores)
            print(f"{backend}: measuring ...", file=sys.stderr, flush=True)
            results[backend] = {**cold, **run_worker("measure", backend, args, cache, scores)}
        thresholds, sets = results[REFERENCE]["thresholds"], evaluation_sets()
        cells = {b: agreement(b, scores, thresholds, args.passages, sets) for b in backends}
        n_eval = {name: len(evenly(texts, args.passages)) for name, (texts, _) in sets.items()}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    low, high = SPEED_WORDS
    print(f"model: {args.model or 'shipped'} · {args.passages or FULL_RUN_PASSAGES} passages of {low}-{high} words "
          f"· default batch size · {os.cpu_count()} CPUs\n")
    print(table(results, cells, n_eval))


if __name__ == "__main__":
    main()
