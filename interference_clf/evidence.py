"""Evidence: which sentences of a text carry each label it was given.

The evidence is measured, not guessed: every sentence is deleted from the text
in turn and the text is scored again; a sentence's evidence score is how far
the label's score falls without it. When deleting the best sentence alone
leaves the label above its threshold (the text says it twice), the span starts
again from the sentence that scores highest on its own and grows by the
neighbour that scores higher on its own, up to ``MAX_RUN`` sentences, but never
to the whole text. So the top span is, as far as the model is concerned, the
part of the text that makes the label.

Cost: one extra model call per sentence of each labelled text; when a span has
to grow, one more per sentence of that text and one per growth step (at most
``MAX_RUN - 1``). Texts with no label cost nothing, and nothing is computed
unless evidence is asked for. A one-sentence text is its own evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from .passages import Span, sentence_spans

if TYPE_CHECKING:
    from .classifier import Classifier, Prediction

# The most sentences one evidence span may join, and the most spans listed per label.
MAX_RUN = 3
MAX_SPANS = 3
# Further sentences are listed only when deleting one alone lowers the label's score at least this much.
MIN_SECONDARY_DROP = 0.05


@dataclass(frozen=True)
class EvidenceSpan:
    """``text[start:end]`` carries the label; ``score`` is how far the label's score falls without it."""

    start: int
    end: int
    score: float


def without(text: str, start: int, end: int) -> str:
    """``text`` with ``text[start:end]`` deleted, the two sides joined by one space."""
    before, after = text[:start].rstrip(), text[end:].lstrip()
    return f"{before} {after}" if before and after else before or after


@dataclass
class _Search:
    """The evidence search for one label of one text."""

    text_index: int
    label_index: int
    sentences: list[Span]
    drops: np.ndarray  # per sentence: how far the score falls when it alone is deleted
    run: tuple[int, int]  # first and last sentence of the current span
    run_drop: float
    done: bool = False
    # Which neighbour a growing span takes first: each sentence's score on its own.
    alone: np.ndarray | None = None

    def span(self) -> Span:
        return Span(self.sentences[self.run[0]].start, self.sentences[self.run[1]].end)

    def next_run(self) -> tuple[int, int] | None:
        """The run one sentence longer, on the side whose sentence matters more; None if it may not grow."""
        first, last = self.run
        if last - first + 1 >= MAX_RUN or last - first + 2 >= len(self.sentences):
            return None
        weights = self.drops if self.alone is None else self.alone
        left = weights[first - 1] if first > 0 else -np.inf
        right = weights[last + 1] if last + 1 < len(self.sentences) else -np.inf
        return (first - 1, last) if left > right else (first, last + 1)

    def restart_from_strongest_sentence(self, alone: np.ndarray) -> None:
        """No single deletion removes the label: start from the sentence that says it most clearly alone."""
        self.alone = alone
        best = int(np.lexsort((-self.drops, -alone))[0])
        self.run, self.run_drop = (best, best), float(self.drops[best])


def find_evidence(
    clf: Classifier,
    texts: Sequence[str],
    predictions: Sequence[Prediction],
    batch_size: int,
    max_length: int | None = None,
) -> list[dict[str, list[EvidenceSpan]]]:
    """For each text, each given label's evidence spans, best first."""
    labels = list(clf.labels)
    thresholds = np.array([clf.thresholds[label] for label in labels])
    results: list[dict[str, list[EvidenceSpan]]] = [{} for _ in texts]
    sentences = [sentence_spans(text) if p.labels else [] for text, p in zip(texts, predictions)]

    occluded = [(t, i) for t, spans in enumerate(sentences) if len(spans) > 1 for i in range(len(spans))]
    scores = _score(clf, [without(texts[t], *sentences[t][i]) for t, i in occluded], batch_size, max_length)
    drops: dict[int, np.ndarray] = {}
    for row, (t, i) in enumerate(occluded):
        full = np.array([predictions[t].scores[label] for label in labels])
        drops.setdefault(t, np.zeros((len(sentences[t]), len(labels))))[i] = full - scores[row]

    searches: list[_Search] = []
    for t, prediction in enumerate(predictions):
        for label in prediction.labels:
            j = labels.index(label)
            if len(sentences[t]) == 1:
                only = sentences[t][0]
                results[t][label] = [EvidenceSpan(only.start, only.end, round(prediction.scores[label], 4))]
                continue
            best = int(np.argmax(drops[t][:, j]))
            search = _Search(t, j, sentences[t], drops[t][:, j], (best, best), float(drops[t][best, j]))
            remaining = prediction.scores[label] - search.run_drop
            search.done = remaining < thresholds[j]
            searches.append(search)
    _restart_unfinished(clf, texts, searches, batch_size, max_length)
    _grow(clf, texts, predictions, searches, thresholds, labels, batch_size, max_length)

    for search in searches:
        label = labels[search.label_index]
        top = search.span()
        spans = [EvidenceSpan(top.start, top.end, round(search.run_drop, 4))]
        first, last = search.run
        others = [i for i in np.argsort(-search.drops, kind="stable")
                  if not first <= i <= last and search.drops[i] >= MIN_SECONDARY_DROP]
        spans += [EvidenceSpan(search.sentences[i].start, search.sentences[i].end, round(float(search.drops[i]), 4))
                  for i in others[: MAX_SPANS - 1]]
        results[search.text_index][label] = spans
    return results


def _restart_unfinished(clf: Classifier, texts: Sequence[str], searches: list[_Search], batch_size: int,
                        max_length: int | None) -> None:
    """Score alone every sentence of the texts whose best single deletion did not remove a label."""
    unfinished = [search for search in searches if not search.done]
    needed = sorted({search.text_index for search in unfinished})
    sentences = [(t, span) for t in needed for span in next(s.sentences for s in unfinished if s.text_index == t)]
    scores = _score(clf, [texts[t][span.start : span.end] for t, span in sentences], batch_size, max_length)
    alone: dict[int, list[np.ndarray]] = {}
    for (t, _), row in zip(sentences, scores):
        alone.setdefault(t, []).append(row)
    for search in unfinished:
        search.restart_from_strongest_sentence(np.array(alone[search.text_index])[:, search.label_index])


def _grow(clf: Classifier, texts: Sequence[str], predictions: Sequence[Prediction], searches: list[_Search],
          thresholds: np.ndarray, labels: list[str], batch_size: int, max_length: int | None) -> None:
    """Lengthen each unfinished span by a sentence at a time, all texts' candidates scored together."""
    for _ in range(MAX_RUN - 1):
        growing = [(search, run) for search in searches if not search.done and (run := search.next_run())]
        if not growing:
            return
        candidates = [without(texts[s.text_index], s.sentences[run[0]].start, s.sentences[run[1]].end)
                      for s, run in growing]
        scores = _score(clf, candidates, batch_size, max_length)
        for (search, run), row in zip(growing, scores):
            full = predictions[search.text_index].scores[labels[search.label_index]]
            search.run, search.run_drop = run, float(full - row[search.label_index])
            search.done = row[search.label_index] < thresholds[search.label_index]


def _score(clf: Classifier, texts: list[str], batch_size: int, max_length: int | None) -> np.ndarray:
    if not texts:
        return np.zeros((0, len(clf.labels)), dtype=np.float32)
    return clf.predict_proba(texts, batch_size=batch_size, max_length=max_length)


def attach_evidence(
    clf: Classifier, texts: Sequence[str], predictions: list[Prediction], batch_size: int, max_length: int | None
) -> list[Prediction]:
    found = find_evidence(clf, texts, predictions, batch_size, max_length)
    return [replace(prediction, evidence=evidence) for prediction, evidence in zip(predictions, found)]


def evidence_fields(evidence: dict[str, list[EvidenceSpan]], offset: int = 0) -> dict[str, list[dict]]:
    """Evidence as JSON-ready rows, offsets shifted by ``offset`` (a passage's start in its document)."""
    return {label: [{"start": s.start + offset, "end": s.end + offset, "score": s.score} for s in spans]
            for label, spans in evidence.items()}
