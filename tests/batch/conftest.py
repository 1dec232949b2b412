"""Helpers shared by the batch tests: input files, reading the output back, the command, a simulated crash."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import SAMPLE_TEXTS

REPO = Path(__file__).resolve().parents[2]
# The tiny model gains nothing from threads, and on a busy machine competing threads slow it a hundredfold.
SINGLE_THREAD_ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}


@pytest.fixture(autouse=True)
def _single_torch_thread(one_torch_thread):
    yield


def write_jsonl(path: Path, rows: int, malformed_every: int = 0) -> Path:
    with path.open("w", encoding="utf-8") as stream:
        for index in range(rows):
            if malformed_every and index % malformed_every == malformed_every - 1:
                stream.write(f'{{"id": {index}, "text": "unterminated\n')
            else:
                stream.write(json.dumps({"id": index, "text": SAMPLE_TEXTS[index % len(SAMPLE_TEXTS)]}) + "\n")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_csv(path: Path, rows: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "text", "note"])
        for index in range(rows):
            text = SAMPLE_TEXTS[index % 8] + ("\nsecond line, with a comma" if index % 5 == 0 else "")
            writer.writerow([index, "" if index == 7 else text, f'say "{index}"'])
        stream.write("extra,values,in,this,row\n")
    return path


def run_cli(*args: str, stdin: bytes = b"", timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "interference_clf.cli", *args], input=stdin, capture_output=True,
                          env=SINGLE_THREAD_ENV, timeout=timeout, cwd=REPO, check=False)


def interrupting_after(clf, calls: int):
    """Make the model fail on its ``calls``-th call, as a crash mid-run would."""
    original, count = clf.predict_proba, [0]

    def predict_proba(*args, **kwargs):
        count[0] += 1
        if count[0] == calls:
            raise RuntimeError("simulated crash")
        return original(*args, **kwargs)

    clf.predict_proba = predict_proba
    return lambda: setattr(clf, "predict_proba", original)
