"""Start-up cost of the library and of a one-shot CLI call; run by hand, not a test.

    python benchmarks/startup.py                         # every shipped model, default backend
    python benchmarks/startup.py --models interference-e5-small --runs 5

Measures, each in fresh processes with a warm per-user cache (a first untimed call
builds whatever the cache lacks):

- ``python -c "import interference_clf"``: wall time;
- ``interference-clf predict --model NAME "one passage"``: wall time end to end (interpreter
  start, imports, load, tokenise, score, print) and the process's peak RSS;
- whether that call imported torch or transformers.

Medians over ``--runs``; the CPU line names the instruction sets the figures depend on.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time

PASSAGE = "Hackers broke into the electoral commission's servers and leaked the voter roll."
# Runs the CLI in-process after noting nothing, so that the wrapper can read the peak RSS of exactly this call.
CLI_CHILD = """
import resource, subprocess, sys, json
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"rc": done.returncode, "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "stderr": done.stderr[-2000:]}))
"""
IMPORTS_CHILD = """
import sys
from interference_clf.cli import main
main(["predict", "--model", sys.argv[1], sys.argv[2]])
print("torch" in sys.modules, "transformers" in sys.modules, file=sys.stderr)
"""


def timed(command: list[str]) -> tuple[float, dict]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CLI_CHILD, *command], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    result = json.loads(done.stdout)
    if result["rc"] != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result['stderr']}")
    return seconds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", help="comma-separated shipped names or folders (default: every shipped model)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from interference_clf.machine import cpu_line
    from interference_clf.shipped import shipped_models

    cli = shutil.which("interference-clf")
    if cli is None:
        raise SystemExit("interference-clf is not on PATH: pip install -e . first")
    imports = [timed([sys.executable, "-c", "import interference_clf"])[0] for _ in range(args.runs)]
    print(f"CPU: {cpu_line()} · medians of {args.runs} runs, warm cache\n")
    print(f"`import interference_clf`: {statistics.median(imports):.2f} s\n")
    print("| model | `interference-clf predict \"one passage\"` s | peak RSS MB | torch imported | transformers imported |")
    print("|---|---|---|---|---|")
    models = [m.strip() for m in args.models.split(",")] if args.models else list(shipped_models())
    for model in models:
        command = [cli, "predict", "--model", model, PASSAGE]
        timed(command)  # warms the cache: builds the ONNX export if it is missing
        runs = [timed(command) for _ in range(args.runs)]
        seconds = statistics.median(s for s, _ in runs)
        rss = statistics.median(r["peak_rss_mb"] for _, r in runs)
        flags = subprocess.run([sys.executable, "-c", IMPORTS_CHILD, model, PASSAGE], capture_output=True,
                               text=True, check=True).stderr.split()[-2:]
        print(f"| {model} | {seconds:.2f} | {rss:.0f} | {flags[0]} | {flags[1]} |")


if __name__ == "__main__":
    main()
