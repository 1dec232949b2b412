"""The authored training corpus in ``training/data/passages/*.jsonl``.

Splits are assigned per scenario (every passage about one story lands in
the same split), from a hash of the scenario id, so they never drift when
passages are added.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from datasets import DatasetDict

DATA_DIR = Path(__file__).resolve().parent / "data" / "passages"
SPLITS = ("train", "dev", "test")
SPLIT_SHARES = (0.70, 0.15, 0.15)
REGISTERS = (
    "news_report", "wire_brief", "official_statement", "analyst_report", "speech",
    "social_post", "reader_comment", "interview_quote", "fact_check", "encyclopedic",
    "opinion_column", "satire", "history",
)
FIELDS = ("id", "text", "lang", "labels", "register", "scenario", "split")
# hard_negative on every none passage; focus and pair on round-3 and round-4 contrastive pairs (WRITING_GUIDE.md).
OPTIONAL_FIELDS = ("hard_negative", "focus", "pair")
FOCUSES = ("state_hacking", "intel_mentioned", "disinfo_words", "spy_smear", "cyber_mentioned",
           "intel_context", "other_agents", "target_decides", "propaganda_claims", "incident_one_liners")


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


def load_corpus(folder: Path = DATA_DIR) -> DatasetDict:
    """The corpus as a ``datasets.DatasetDict`` with train, dev and test, built in memory (no datasets cache)."""
    from datasets import Dataset, DatasetDict

    records = read_records(folder)
    columns = [*FIELDS, *OPTIONAL_FIELDS]
    by_split = {split: [r for r in records if r["split"] == split] for split in SPLITS}
    return DatasetDict({
        split: Dataset.from_dict({name: [r.get(name) for r in rows] for name in columns})
        for split, rows in by_split.items()
    })


def write_splits(folder: Path = DATA_DIR) -> None:
    """Store each passage's split (from its scenario) in its file, keeping field order."""
    for path in sorted(folder.glob("*.jsonl")):
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        out = []
        for record in lines:
            record["split"] = split_for_scenario(record["scenario"])
            ordered = {k: record[k] for k in FIELDS} | {k: record[k] for k in OPTIONAL_FIELDS if k in record}
            out.append(json.dumps(ordered, ensure_ascii=False))
        path.write_text("\n".join(out) + "\n", encoding="utf-8")


def merge_staged(staging: Path, folder: Path = DATA_DIR) -> dict[str, int]:
    """Append each ``staging/<lang>.jsonl`` (a writing round) to ``folder/<lang>.jsonl``, then assign splits.

    Returns the passages added per language; the staged files are removed once merged.
    """
    added = {}
    for path in sorted(staging.glob("*.jsonl")):
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        target = folder / path.name
        existing = target.read_text(encoding="utf-8") if target.is_file() else ""
        target.write_text(existing + "".join(line + "\n" for line in lines), encoding="utf-8")
        added[path.stem] = len(lines)
        path.unlink()
    write_splits(folder)
    return added


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Assign every passage's split from its scenario.")
    parser.add_argument("--merge", type=Path, help="first append the staged <lang>.jsonl files of a writing round")
    options = parser.parse_args(argv)
    if options.merge:
        print(merge_staged(options.merge))
    else:
        write_splits()


if __name__ == "__main__":
    main()
