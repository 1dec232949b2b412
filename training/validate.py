"""Check the authored corpus against its schema and the minimums of the data card.

``python -m training.validate`` prints the data card's tables (Markdown) and
exits non-zero listing every problem found.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np

from interference_clf.labels import LABELS

from .corpus import DATA_DIR, FIELDS, FOCUSES, REGISTERS, SPLITS, read_records

# ISO 639-1 codes this corpus may use.
LANGUAGES = frozenset(
    "ar bg cs da de el en es et fa fi fr he hi hr hu id it ja ka ko lt lv nl no pl pt ro ru sk sl sr sv "
    "tr uk vi zh".split()
)
REQUIRED_LANGUAGES = ("en", "fr", "de", "es", "it", "pl", "ru", "uk", "nl", "pt", "ro", "bg", "el")
# Each group needs at least one of its languages.
ONE_OF_LANGUAGES = (("ar", "tr", "zh", "fa"), ("cs", "hu"))
MIN_PASSAGES = 5000
MIN_LANGUAGES = 16
MIN_PER_LANGUAGE = 150
# Round 3 (acts, not topics): contrastive pairs, at least this many, at least this share none.
MIN_CONTRASTIVE = 1200
MIN_CONTRASTIVE_NONE_SHARE = 0.45
MIN_POSITIVES_PER_LABEL = 600
MIN_NONE_SHARE = 0.35
MIN_HARD_SHARE_OF_NONE = 0.5
MIN_MULTI_LABEL_SHARE = 0.10
MAX_WORDS = 200
NEAR_DUPLICATE_JACCARD = 0.8
SHINGLE_CHARS = 5


def shingles(text: str, size: int = SHINGLE_CHARS) -> set[str]:
    squeezed = " ".join(text.lower().split())
    return {squeezed[i : i + size] for i in range(max(1, len(squeezed) - size + 1))}


def near_duplicate_pairs(texts: list[str], threshold: float = NEAR_DUPLICATE_JACCARD) -> list[tuple[int, int, float]]:
    """Pairs whose character-shingle Jaccard similarity is at least ``threshold``."""
    from scipy import sparse

    vocabulary: dict[str, int] = {}
    rows, cols = [], []
    for row, text in enumerate(texts):
        for shingle in shingles(text):
            rows.append(row)
            cols.append(vocabulary.setdefault(shingle, len(vocabulary)))
    matrix = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(len(texts), len(vocabulary)))
    sizes = np.asarray(matrix.sum(axis=1)).ravel()
    overlap = (matrix @ matrix.T).tocoo()
    pairs = []
    for i, j, shared in zip(overlap.row, overlap.col, overlap.data):
        if i < j:
            jaccard = shared / (sizes[i] + sizes[j] - shared)
            if jaccard >= threshold:
                pairs.append((int(i), int(j), float(jaccard)))
    return pairs


def schema_problems(record: dict) -> list[str]:
    where = record.get("_where", "?")
    problems = []
    missing = [f for f in FIELDS if f not in record]
    if missing:
        return [f"{where}: missing fields {missing}"]
    if not isinstance(record["text"], str) or not record["text"].strip():
        problems.append(f"{where}: empty text")
    labels = record["labels"]
    if not isinstance(labels, list) or any(label not in LABELS for label in labels):
        problems.append(f"{where}: bad labels {labels!r}")
    elif labels != [label for label in LABELS if label in labels]:
        problems.append(f"{where}: labels not sorted/unique {labels!r}")
    if record["lang"] not in LANGUAGES:
        problems.append(f"{where}: unknown language code {record['lang']!r}")
    if record["register"] not in REGISTERS:
        problems.append(f"{where}: unknown register {record['register']!r}")
    if record["split"] not in SPLITS:
        problems.append(f"{where}: unknown split {record['split']!r}")
    if not labels and not isinstance(record.get("hard_negative"), bool):
        problems.append(f"{where}: a none passage needs hard_negative true/false")
    if labels and "hard_negative" in record:
        problems.append(f"{where}: hard_negative is for none passages only")
    if ("focus" in record) != ("pair" in record):
        problems.append(f"{where}: a contrastive passage needs both focus and pair")
    elif "focus" in record and record["focus"] not in FOCUSES:
        problems.append(f"{where}: unknown focus {record['focus']!r}")
    if len(record["text"].split()) > MAX_WORDS:
        problems.append(f"{where}: {len(record['text'].split())} words, over {MAX_WORDS}")
    return problems


def corpus_problems(records: list[dict]) -> list[str]:
    problems = [p for record in records for p in schema_problems(record)]
    if problems:
        return problems
    ids = Counter(r["id"] for r in records)
    problems += [f"id {i!r} used {n} times" for i, n in ids.items() if n > 1]
    scenario_splits: dict[str, set[str]] = {}
    for r in records:
        scenario_splits.setdefault(r["scenario"], set()).add(r["split"])
    problems += [f"scenario {s!r} is in splits {sorted(v)}" for s, v in scenario_splits.items() if len(v) > 1]
    for i, j, jaccard in near_duplicate_pairs([r["text"] for r in records]):
        problems.append(f"near duplicates (Jaccard {jaccard:.2f}): {records[i]['_where']} and {records[j]['_where']}")

    n = len(records)
    languages = Counter(r["lang"] for r in records)
    if n < MIN_PASSAGES:
        problems.append(f"{n} passages, fewer than {MIN_PASSAGES}")
    if len(languages) < MIN_LANGUAGES:
        problems.append(f"{len(languages)} languages, fewer than {MIN_LANGUAGES}")
    problems += [f"language {lang} is missing" for lang in REQUIRED_LANGUAGES if lang not in languages]
    problems += [f"none of {group} is present" for group in ONE_OF_LANGUAGES
                 if not any(lang in languages for lang in group)]
    problems += contrastive_problems(records)
    problems += [f"language {lang}: {c} passages, fewer than {MIN_PER_LANGUAGE}"
                 for lang, c in languages.items() if c < MIN_PER_LANGUAGE]
    for label in LABELS:
        positives = sum(label in r["labels"] for r in records)
        if positives < MIN_POSITIVES_PER_LABEL:
            problems.append(f"{label}: {positives} positives, fewer than {MIN_POSITIVES_PER_LABEL}")
    none = [r for r in records if not r["labels"]]
    if len(none) < MIN_NONE_SHARE * n:
        problems.append(f"none share {len(none) / n:.3f} below {MIN_NONE_SHARE}")
    hard = sum(r["hard_negative"] for r in none)
    if hard < MIN_HARD_SHARE_OF_NONE * len(none):
        problems.append(f"hard negatives are {hard} of {len(none)} none passages, under half")
    multi = sum(len(r["labels"]) > 1 for r in records)
    if multi < MIN_MULTI_LABEL_SHARE * n:
        problems.append(f"multi-label share {multi / n:.3f} below {MIN_MULTI_LABEL_SHARE}")
    return problems


def contrastive_problems(records: list[dict]) -> list[str]:
    """Round 3: every pair is two passages of one scenario, told apart by their labels; enough of them, enough none."""
    pairs: dict[str, list[dict]] = {}
    for record in records:
        if "pair" in record:
            pairs.setdefault(record["pair"], []).append(record)
    problems = []
    for pair, members in pairs.items():
        wheres = ", ".join(m["_where"] for m in members)
        if len(members) != 2:
            problems.append(f"pair {pair!r} has {len(members)} passages ({wheres}), not 2")
        elif members[0]["scenario"] != members[1]["scenario"]:
            problems.append(f"pair {pair!r} spans two scenarios ({wheres})")
        elif members[0]["labels"] == members[1]["labels"]:
            problems.append(f"pair {pair!r} has the same labels on both sides ({wheres}): no contrast")
    contrastive = [r for r in records if "pair" in r]
    if len(contrastive) < MIN_CONTRASTIVE:
        problems.append(f"{len(contrastive)} contrastive passages, fewer than {MIN_CONTRASTIVE}")
    none = sum(not r["labels"] for r in contrastive)
    if contrastive and none < MIN_CONTRASTIVE_NONE_SHARE * len(contrastive):
        problems.append(f"contrastive passages are {none / len(contrastive):.1%} none, under "
                        f"{MIN_CONTRASTIVE_NONE_SHARE:.0%}")
    return problems


def _table(rows: list[str], columns: list[str], count: Counter, row_title: str) -> str:
    lines = [f"| {row_title} | " + " | ".join(columns) + " | total |", "|---" * (len(columns) + 2) + "|"]
    for row in rows:
        values = [count[(row, c)] for c in columns]
        lines.append(f"| {row} | " + " | ".join(map(str, values)) + f" | {sum(values)} |")
    totals = [sum(count[(row, c)] for row in rows) for c in columns]
    lines.append("| **total** | " + " | ".join(map(str, totals)) + f" | {sum(totals)} |")
    return "\n".join(lines)


def card_tables(records: list[dict]) -> str:
    def label_keys(r: dict) -> list[str]:
        return list(r["labels"]) or ["none"]

    label_columns = [*LABELS, "none"]
    langs = sorted({r["lang"] for r in records})
    by_lang = Counter((r["lang"], k) for r in records for k in label_keys(r))
    by_split = Counter((r["split"], k) for r in records for k in label_keys(r))
    by_register = Counter((r["register"], r["split"]) for r in records)
    lang_split = Counter((r["lang"], r["split"]) for r in records)
    by_focus = Counter((r["focus"], k) for r in records if "focus" in r for k in label_keys(r))
    n = len(records)
    none = [r for r in records if not r["labels"]]
    multi = sum(len(r["labels"]) > 1 for r in records)
    hard = sum(r["hard_negative"] for r in none)
    words = np.array([len(r["text"].split()) for r in records])
    combos = Counter("+".join(r["labels"]) or "none" for r in records)
    parts = [
        f"{n} passages, {len(langs)} languages, {len({r['scenario'] for r in records})} scenarios.",
        f"none: {len(none)} ({len(none) / n:.1%}), of which hard negatives {hard} ({hard / max(len(none), 1):.1%}); "
        f"multi-label: {multi} ({multi / n:.1%}); words per passage: min {words.min()}, median "
        f"{int(np.median(words))}, max {words.max()} (whitespace words; zh counts whole runs).",
        "",
        "### Label combinations",
        "| labels | passages |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in sorted(combos.items(), key=lambda kv: -kv[1])],
        "",
        "### Labels × language (a multi-label passage counts once per label)",
        _table(langs, label_columns, by_lang, "language"),
        "",
        "### Labels × split",
        _table(list(SPLITS), label_columns, by_split, "split"),
        "",
        "### Language × split (passages)",
        _table(langs, list(SPLITS), lang_split, "language"),
        "",
        "### Register × split (passages)",
        _table(list(REGISTERS), list(SPLITS), by_register, "register"),
        "",
        "### Contrastive passages (rounds 3 and 4), focus × labels",
        _table(list(FOCUSES), label_columns, by_focus, "focus"),
    ]
    return "\n".join(parts) + "\n"


def main(folder: Path = DATA_DIR) -> int:
    records = read_records(folder)
    problems = corpus_problems(records)
    if not any(schema_problems(record) for record in records):
        print(card_tables(records))
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    print(f"{len(problems)} problem(s) in {len(records)} passages", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA_DIR))
