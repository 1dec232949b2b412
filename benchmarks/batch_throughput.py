"""Throughput and memory of ``label_file`` on a synthetic multilingual JSONL; run by hand, not a test.

    python -m benchmarks.batch_throughput                      # 100,000 rows, shipped model
    python -m benchmarks.batch_throughput --rows 2000 --model /path/to/model --batch-size 64

(from the repository root; ``python benchmarks/batch_throughput.py`` works too once the package is installed).

Rows are ~60-word passages stitched together from a few seed sentences in several
languages: meaningless, but with realistic lengths and scripts, which is all that
speed depends on. Prints rows/s and the peak resident memory before and after
labelling; with streaming, the second should not grow with ``--rows``.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

SEED_SENTENCES = [
    "Hackers broke into the election commission servers and leaked voter rolls.",
    "Officials say the results will be published on Monday after a full recount.",
    "Des comptes automatisés ont diffusé une fausse annonce sur le report du scrutin.",
    "Die Behörden ermitteln gegen einen mutmaßlichen Spion im Wahlkampfteam.",
    "Los observadores internacionales no encontraron irregularidades en los colegios electorales.",
    "Хакеры атаковали сайт избирательной комиссии накануне голосования.",
    "Шпигуна затримали під час передачі документів іноземному агенту.",
    "نشرت حسابات مزيفة شائعات عن تزوير الانتخابات قبل يوم التصويت.",
    "选举委员会的网站昨晚遭到大规模网络攻击。",
    "Kampanya ekibi, sahte anket sonuçlarının sosyal medyada yayıldığını açıkladı.",
]
WORDS_PER_ROW = 60


def synthesise(path: Path, rows: int, seed: int = 0) -> None:
    """Write ``rows`` JSONL rows of about ``WORDS_PER_ROW`` words each."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as stream:
        for index in range(rows):
            sentences: list[str] = []
            while sum(len(s.split()) for s in sentences) < WORDS_PER_ROW:
                sentences.append(rng.choice(SEED_SENTENCES))
            stream.write(json.dumps({"id": index, "text": " ".join(sentences)}, ensure_ascii=False) + "\n")


def peak_rss_mib() -> float:
    # ru_maxrss is in KiB on Linux and in bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--model", help="model folder (default: the shipped model)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--split-documents", action="store_true")
    args = parser.parse_args()

    from interference_clf.batch import label_file
    from interference_clf.classifier import load

    with tempfile.TemporaryDirectory(prefix="batch-throughput-") as folder:
        source, output = Path(folder) / "input.jsonl", Path(folder) / "output.jsonl"
        synthesise(source, args.rows)
        clf = load(args.model)
        before = peak_rss_mib()
        started = time.perf_counter()
        summary = label_file(
            clf, source, output, batch_size=args.batch_size, split_documents=args.split_documents, show_progress=True
        )
        seconds = time.perf_counter() - started
    print(f"rows: {summary.rows_read} ({summary.errored} errored), batch size {args.batch_size}")
    print(f"throughput: {summary.rows_read / seconds:.1f} rows/s ({seconds:.1f}s)")
    print(f"peak RSS: {before:.0f} MiB after loading the model, {peak_rss_mib():.0f} MiB after labelling")


if __name__ == "__main__":
    main()
