"""Which layers int8 may quantise: agreement with fp32 and speed when some stay fp32. Run by hand, not a test.

    python benchmarks/quantisation.py                          # the default shipped model
    python benchmarks/quantisation.py --model interference-e5-small-6l

The shipped int8 file quantises every linear layer (dynamic, per-channel, 7-bit weights). This
quantises the model's fp32 ONNX export again (``quantise_int8``) with groups of linear layers left in fp32 and,
for each, reports on the corpus dev split the share of passages whose label set equals the fp32
one, the largest score change, and passages/s (one passage per call, as the ONNX backend scores).
The trial files go to a temporary folder; the user's cache is only read.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from inference_speed import corpus_split

# Groups of MatMul nodes kept in fp32, by the names torch's exporter gives a BERT encoder's linear layers.
KEPT_FP32 = {
    "none (as shipped)": (),
    "feed-forward output": ("/output/dense/MatMul",),
    "feed-forward in and out": ("/output/dense/MatMul", "/intermediate/dense/MatMul"),
}


def kept_nodes(model_path: Path, suffixes: tuple[str, ...]) -> list[str]:
    import onnx

    graph = onnx.load(str(model_path), load_external_data=False).graph
    return [node.name for node in graph.node
            if node.op_type == "MatMul" and "/attention/" not in node.name and node.name.endswith(suffixes)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="a shipped model's name or a folder (default: the shipped default)")
    args = parser.parse_args()

    import interference_clf as ic
    from interference_clf.backends.onnx_backend import session
    from interference_clf.backends.onnx_export import quantise_int8
    from interference_clf.machine import cpu_line

    texts, _ = corpus_split("dev")
    fp32 = ic.load(args.model, backend="onnx-fp32")
    started = time.perf_counter()
    reference = fp32.predict_proba(texts)
    fp32_rate = len(texts) / (time.perf_counter() - started)
    thresholds = np.array([fp32.thresholds[label] for label in fp32.labels])
    trial = ic.load(args.model, backend="onnx-int8")
    print(f"CPU: {cpu_line()} · model {args.model or 'default'} · corpus dev split, {len(texts)} passages\n")
    print("| linear layers kept in fp32 | nodes | dev label sets = fp32 | max score Δ | passages/s |")
    print("|---|---|---|---|---|")
    print(f"| all (the fp32 file) | — | 100.0% | 0.000 | {fp32_rate:.1f} |")
    with tempfile.TemporaryDirectory() as folder:
        for name, suffixes in KEPT_FP32.items():
            kept = kept_nodes(fp32.backend.path, suffixes) if suffixes else []
            target = Path(folder) / "trial.onnx"
            quantise_int8(fp32.backend.path, target, kept_fp32=kept)
            trial.backend.session = session(target)
            started = time.perf_counter()
            scores = trial.predict_proba(texts)
            rate = len(texts) / (time.perf_counter() - started)
            same = ((scores >= thresholds) == (reference >= thresholds)).all(axis=1).mean()
            print(f"| {name} | {len(kept)} | {same:.1%} | {np.abs(scores - reference).max():.3f} | {rate:.1f} |",
                  flush=True)


if __name__ == "__main__":
    main()
