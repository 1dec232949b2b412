"""Is the evidence faithful, and what does it cost? Run by hand, not a test.

    python benchmarks/evidence.py                       # the default shipped model, corpus test split
    python benchmarks/evidence.py --model interference-e5-small --backend torch

Faithfulness: for every correctly predicted positive (a label both gold and given) on the
corpus test split, delete the label's top evidence span from the text and score it again;
the figure is the share of cases where the label's score falls below its threshold. It is
reported for all cases and for texts of two sentences or more apart, since a one-sentence
text is its own evidence and deleting it always removes the label.

Cost: ``predict`` with and without ``evidence=True`` on the same texts, seconds per passage.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from inference_speed import corpus_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="a shipped model's name or a folder (default: the shipped default)")
    parser.add_argument("--backend", default="auto")
    args = parser.parse_args()

    import interference_clf as ic
    from interference_clf.evidence import without
    from interference_clf.machine import cpu_line
    from interference_clf.passages import sentence_spans

    texts, gold = corpus_split("test")
    clf = ic.load(args.model, backend=args.backend)
    clf.predict(texts[:32])  # first calls allocate; not what is measured

    started = time.perf_counter()
    plain = clf.predict(texts)
    plain_seconds = time.perf_counter() - started
    started = time.perf_counter()
    explained = clf.predict(texts, evidence=True)
    evidence_seconds = time.perf_counter() - started
    assert [p.labels for p in plain] == [p.labels for p in explained]

    cases, deleted = [], []
    for row, (text, prediction) in enumerate(zip(texts, explained)):
        for label in prediction.labels:
            if gold[row, clf.labels.index(label)]:
                top = prediction.evidence[label][0]
                cases.append((label, len(sentence_spans(text)) > 1))
                deleted.append(without(text, top.start, top.end))
    # A one-sentence text is its own evidence: deleting it leaves nothing, which carries no label.
    left = [i for i, text in enumerate(deleted) if text.strip()]
    scores = np.zeros((len(deleted), len(clf.labels)))
    if left:
        scores[left] = clf.predict_proba([deleted[i] for i in left])
    removed = np.array([scores[i, clf.labels.index(label)] < clf.thresholds[label]
                        for i, (label, _) in enumerate(cases)])
    several = np.array([multi for _, multi in cases])

    print(f"CPU: {cpu_line()} · model {args.model or 'default'} · backend {clf.backend.name}")
    print(f"corpus test split: {len(texts)} passages, {len(cases)} correctly predicted positives")
    print(f"deleting the top span drops the label below its threshold: {removed.mean():.1%} of all cases; "
          f"{removed[several].mean():.1%} of the {several.sum()} in texts of two sentences or more")
    for label in clf.labels:
        chosen = np.array([name == label for name, _ in cases])
        print(f"  {label}: {removed[chosen].mean():.1%} of {chosen.sum()}")
    per_passage = (evidence_seconds - plain_seconds) / len(texts)
    print(f"time: {plain_seconds / len(texts) * 1000:.1f} ms per passage without evidence, "
          f"{evidence_seconds / len(texts) * 1000:.1f} ms with it (+{per_passage * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
