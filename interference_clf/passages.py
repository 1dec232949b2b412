"""Splitting documents into passages the model can read whole, and labelling documents by their passages.

A document is cut into paragraphs at blank lines. A paragraph that fits the
model's token budget is one passage; a longer one is cut into lines and
sentences, those into words, and words into characters, only as far as needed,
and the pieces are packed back greedily into passages that fit. Every passage
is a span of the original text (``text[start:end]`` is the passage), starts and
ends on a non-whitespace character, and the passages of a document are in order,
do not overlap and together hold every non-whitespace character of it.

Sentences end at ``. ! ? … ؟ ۔ ।`` followed by whitespace, and at the
full-width ``。 ！ ？`` with or without it (Chinese and Japanese put no
space between sentences). Characters that render as one (an emoji with skin
tone or zero-width joiners, a flag, a letter and its combining accents) are
never cut apart.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .inputs import validate_texts

if TYPE_CHECKING:
    from .classifier import Classifier
    from .evidence import EvidenceSpan

CountTokens = Callable[[str], int]

PARAGRAPH_BREAK = re.compile(r"\n\s*\n|\u2029")
SENTENCE_END = re.compile(
    r"[.!?…؟۔।‼⁇⁈⁉]+[\"'”’»)\]}」』）】〉》›]*(?=\s)"  # needs a space after: "3.5" and "e.g.x" are not ends
    r"|[。．！？｡]+[\"'”’»)\]}」』）】〉》›]*"  # full-width ends need no space after
    r"|[\n\r\u2028\x85\x0b\x0c]"
)
WORD = re.compile(r"\S+")
ZERO_WIDTH_JOINER = "\u200d"


class Span(NamedTuple):
    """Character offsets of a passage: ``text[start:end]``."""

    start: int
    end: int


@dataclass(frozen=True)
class PassagePrediction:
    start: int
    end: int
    labels: list[str]
    scores: dict[str, float]
    evidence: dict[str, list[EvidenceSpan]] | None = None


@dataclass(frozen=True)
class DocumentPrediction:
    """A document's labels (the union of its passages' labels), scores (per label, the best passage's) and passages."""

    labels: list[str]
    scores: dict[str, float]
    passages: list[PassagePrediction]
    evidence: dict[str, list[EvidenceSpan]] | None = None


def sentence_spans(text: str) -> list[Span]:
    """The sentences of ``text`` in order, trimmed of whitespace; a paragraph break also ends a sentence."""
    whole = Span(0, len(text))
    paragraphs = _cut(text, whole, _match_spans(PARAGRAPH_BREAK, text, whole))
    return [sentence for paragraph in paragraphs for sentence in _sentences(text, paragraph)]


def split_passages(text: str, max_tokens: int, count_tokens: CountTokens) -> list[Span]:
    """Cut ``text`` into passages of at most ``max_tokens`` tokens as counted by ``count_tokens``.

    A passage is longer than the budget only when it is a single character
    (cluster) that alone exceeds it. Whitespace-only text has no passages.
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be positive, got {max_tokens}")
    refiners = (_sentences, _words, _clusters)
    return [
        passage
        for paragraph in _cut(text, Span(0, len(text)), _match_spans(PARAGRAPH_BREAK, text, Span(0, len(text))))
        for passage in _fit(text, paragraph, max_tokens, count_tokens, refiners)
    ]


def _fit(
    text: str,
    span: Span,
    max_tokens: int,
    count_tokens: CountTokens,
    refiners: Sequence[Callable[[str, Span], list[Span]]],
) -> list[Span]:
    """``span`` as one passage when it fits, else its pieces (refined further where needed) packed back together."""
    if not refiners or count_tokens(text[span.start : span.end]) <= max_tokens:
        return [span]
    split, finer = refiners[0], refiners[1:]
    pieces = [fitted for piece in split(text, span) for fitted in _fit(text, piece, max_tokens, count_tokens, finer)]
    return _pack(text, pieces, max_tokens, count_tokens)


def _pack(text: str, pieces: list[Span], max_tokens: int, count_tokens: CountTokens) -> list[Span]:
    """Join runs of consecutive pieces into the longest passages that fit."""

    def fits(first: int, last: int) -> bool:
        return count_tokens(text[pieces[first].start : pieces[last].end]) <= max_tokens

    packed: list[Span] = []
    first = 0
    while first < len(pieces):
        last = _last_fitting(first, len(pieces), fits)
        packed.append(Span(pieces[first].start, pieces[last].end))
        first = last + 1
    return packed


def _last_fitting(first: int, end: int, fits: Callable[[int, int], bool]) -> int:
    """The largest ``last`` for which ``fits(first, last)`` (``first`` itself if none).

    Galloping then bisecting keeps the number of token counts logarithmic in the
    passage length, which matters for long texts with no spaces or punctuation.
    Every answer but ``first`` has been checked to fit.
    """
    reach = 1
    while first + reach < end and fits(first, first + reach):
        reach *= 2
    fitting, too_far = first + reach // 2, min(first + reach, end)
    while too_far - fitting > 1:
        middle = (fitting + too_far) // 2
        if fits(first, middle):
            fitting = middle
        else:
            too_far = middle
    return fitting


def _match_spans(pattern: re.Pattern[str], text: str, span: Span) -> Iterable[Span]:
    return (Span(*match.span()) for match in pattern.finditer(text, span.start, span.end))


def _cut(text: str, span: Span, separators: Iterable[Span]) -> list[Span]:
    """The parts of ``span`` between ``separators``, trimmed of whitespace, empty parts left out."""
    parts: list[Span] = []
    start = span.start
    for separator in separators:
        parts.extend(_trimmed(text, start, separator.start))
        start = separator.end
    parts.extend(_trimmed(text, start, span.end))
    return parts


def _trimmed(text: str, start: int, end: int) -> list[Span]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return [Span(start, end)] if start < end else []


def _sentences(text: str, span: Span) -> list[Span]:
    # A sentence keeps its closing punctuation: the separator is the empty string after it.
    ends = (Span(end, end) for _, end in _match_spans(SENTENCE_END, text, span))
    return _cut(text, span, ends)


def _words(text: str, span: Span) -> list[Span]:
    return list(_match_spans(WORD, text, span))


def _clusters(text: str, span: Span) -> list[Span]:
    starts = [i for i in range(span.start, span.end) if i == span.start or not _continues_cluster(text, i)]
    return [Span(start, end) for start, end in zip(starts, [*starts[1:], span.end])]


def _continues_cluster(text: str, index: int) -> bool:
    """Whether ``text[index]`` belongs with the character before it (an approximation of grapheme clusters)."""
    char, previous = text[index], text[index - 1]
    code = ord(char)
    if previous == ZERO_WIDTH_JOINER or char == ZERO_WIDTH_JOINER or unicodedata.category(char).startswith("M"):
        return True
    if 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF:  # variation selectors
        return True
    if 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F:  # skin tones, tag characters
        return True
    if previous == "\r" and char == "\n":
        return True
    return _is_regional_indicator(char) and _regional_indicators_before(text, index) % 2 == 1


def _is_regional_indicator(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _regional_indicators_before(text: str, index: int) -> int:
    """Flags are pairs of regional indicators: an odd count before this one means it completes a flag."""
    count = 0
    while index - count - 1 >= 0 and _is_regional_indicator(text[index - count - 1]):
        count += 1
    return count


def predict_documents(
    clf: Classifier,
    texts: str | Iterable[str],
    max_tokens: int,
    batch_size: int,
    max_length: int | None = None,
    evidence: bool = False,
) -> list[DocumentPrediction]:
    """Label every passage of every document, all passages batched together, and roll them up per document.

    With ``evidence``, each labelled passage gets its evidence spans (as offsets into the document) and a
    document's evidence for a label is that of its passages with the label, best first.
    """
    documents, _ = validate_texts(texts)
    spans = [split_passages(document, max_tokens, clf.text_encoder.count_tokens) for document in documents]
    passage_texts = [document[s.start : s.end] for document, ss in zip(documents, spans) for s in ss]
    predictions = clf.predict(passage_texts, batch_size=batch_size, max_length=max_length, evidence=evidence)
    results: list[DocumentPrediction] = []
    first = 0
    for document_spans in spans:
        last = first + len(document_spans)
        passages = [
            PassagePrediction(span.start, span.end, p.labels, p.scores, _shifted(p.evidence, span.start))
            for span, p in zip(document_spans, predictions[first:last])
        ]
        # Thresholding the best score per label gives exactly the union of the passages' labels.
        best = np.array([[p.scores[label] for label in clf.labels] for p in passages]).max(axis=0, keepdims=True)
        document = clf.decide(best)[0]
        document_evidence = None
        if evidence:
            document_evidence = {
                label: sorted((s for p in passages if label in p.labels for s in p.evidence[label]),
                              key=lambda s: -s.score)
                for label in document.labels
            }
        results.append(DocumentPrediction(document.labels, document.scores, passages, document_evidence))
        first = last
    return results


def _shifted(evidence: dict[str, list[EvidenceSpan]] | None, offset: int) -> dict[str, list[EvidenceSpan]] | None:
    if evidence is None:
        return None
    return {label: [replace(s, start=s.start + offset, end=s.end + offset) for s in spans]
            for label, spans in evidence.items()}


__all__ = ["DocumentPrediction", "PassagePrediction", "Span", "predict_documents", "sentence_spans", "split_passages"]
