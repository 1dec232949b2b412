"""The authored training corpus in ``training/data/passages/*.jsonl``.

Splits are assigned per scenario (every passage about one story lands in
the same split), from a hash of the scenario id, so they never drift when
passages are added.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from interference_clf.labels import LABELS, to_indicator

DATA_DIR = Path(__file__).resolve().parent / "data" / "passages"
SPLITS = ("train", "dev", "test")
SPLIT_SHARES = (0.70, 0.15, 0.15)
REGISTERS = (
    "news_report", "wire_brief", "official_statement", "analyst_report", "speech",
    "social_post", "reader_comment", "interview_quote", "fact_check", "encyclopedic",
)
FIELDS = ("id", "text", "lang", "labels", "register", "scenario", "split")


@dataclass(frozen=True)
class Passage:
    id: str
    text: str
    lang: str
    labels: tuple[str, ...]
    register: str
    scenario: str
    split: str


def split_for_scenario(scenario: str) -> str:
    """train / dev / test from a stable hash of the scenario id."""
    fraction = int(hashlib.sha256(scenario.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    cumulative = np.cumsum(SPLIT_SHARES)
    return SPLITS[int(np.searchsorted(cumulative, fraction, side="right").clip(max=len(SPLITS) - 1))]


def read_records(folder: Path = DATA_DIR) -> list[dict]:
    records = []
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            for line_number, line in enumerate(handle, 1):
                if line.strip():
                    record = json.loads(line)
                    record["_where"] = f"{path.name}:{line_number}"
                    records.append(record)
    return records


def load_passages(folder: Path = DATA_DIR, splits: Iterable[str] = SPLITS) -> list[Passage]:
    wanted = set(splits)
    return [
        Passage(r["id"], r["text"], r["lang"], tuple(r["labels"]), r["register"], r["scenario"], r["split"])
        for r in read_records(folder)
        if r["split"] in wanted
    ]


def label_matrix(passages: Iterable[Passage]) -> np.ndarray:
    return np.array([to_indicator(p.labels) for p in passages], dtype=int).reshape(-1, len(LABELS))


def write_splits(folder: Path = DATA_DIR) -> None:
    """Store each passage's split (from its scenario) in its file, keeping field order."""
    for path in sorted(folder.glob("*.jsonl")):
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        out = []
        for record in lines:
            record["split"] = split_for_scenario(record["scenario"])
            out.append(json.dumps({k: record[k] for k in FIELDS}, ensure_ascii=False))
        path.write_text("\n".join(out) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_splits()
