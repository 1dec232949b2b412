"""Evidence spans: the search on a scorer whose answers are known, and the library path on the tiny model."""


import numpy as np
import pytest

import interference_clf as ic
from interference_clf.classifier import Prediction
from interference_clf.evidence import MAX_RUN, EvidenceSpan, find_evidence, without
from interference_clf.passages import sentence_spans
from training.corpus import read_records


class KeywordScorer:
    """cyberattack scores 0.9 when "hackers" is in the text, espionage 0.8 when "spy" is; else 0.1."""

    labels = ic.LABELS
    thresholds = {"cyberattack": 0.5, "disinformation": 0.5, "espionage": 0.5}

    def predict_proba(self, texts, batch_size=32, max_length=None):
        return np.array([[0.9 if "hackers" in t else 0.1, 0.1, 0.8 if "spy" in t else 0.1] for t in texts])

    def predict(self, texts):
        scores = self.predict_proba(texts)
        return [Prediction([label for label, s in zip(self.labels, row) if s >= 0.5],
                           dict(zip(self.labels, map(float, row)))) for row in scores]


def evidence_of(texts):
    scorer = KeywordScorer()
    return find_evidence(scorer, texts, scorer.predict(texts), batch_size=8)


def test_the_sentence_that_makes_the_label_is_the_evidence():
    text = "Turnout was high. Then hackers hit the site. The count went on."
    [found] = evidence_of([text])
    assert list(found) == ["cyberattack"]
    [top] = found["cyberattack"]
    assert text[top.start : top.end] == "Then hackers hit the site." and top.score == pytest.approx(0.8)


def test_each_label_gets_its_own_evidence():
    text = "A spy was arrested.\n\nLater, hackers leaked the files. Nobody commented."
    [found] = evidence_of([text])
    assert text[slice(*_span(found["espionage"][0]))] == "A spy was arrested."
    assert text[slice(*_span(found["cyberattack"][0]))] == "Later, hackers leaked the files."


def test_a_label_said_twice_grows_the_span_until_deleting_it_removes_the_label():
    text = "It rained. The hackers struck. The hackers struck again. It stopped."
    [found] = evidence_of([text])
    top = found["cyberattack"][0]
    assert text[top.start : top.end] == "The hackers struck. The hackers struck again."
    assert KeywordScorer().predict_proba([without(text, top.start, top.end)])[0, 0] < 0.5


def test_the_span_never_grows_past_max_run_or_to_the_whole_text():
    repeated = " ".join(["The hackers struck."] * (MAX_RUN + 2))
    short = "The hackers struck. The hackers struck again."
    found_long, found_short = evidence_of([repeated, short])
    top = found_long["cyberattack"][0]
    assert repeated[top.start : top.end].count(".") == MAX_RUN
    # Two sentences that each carry the label: one alone is the most a span may be, and it is honest about it.
    top = found_short["cyberattack"][0]
    assert short[top.start : top.end] in ("The hackers struck.", "The hackers struck again.") and top.score == 0


def test_one_sentence_texts_are_their_own_evidence_and_unlabelled_texts_have_none():
    found = evidence_of(["The hackers did it, officials said", "Sunny weather today."])
    assert found[1] == {}
    assert found[0]["cyberattack"] == [EvidenceSpan(0, 34, 0.9)]


def test_without_joins_the_remaining_text():
    assert without("One. Two. Three.", 5, 9) == "One. Three."
    assert without("One. Two.", 0, 4) == "Two."


def test_predict_with_evidence_on_the_tiny_model(tiny_classifier):
    texts = ["Hackers broke into the election commission servers. Bots spread a fake poll 🙂 before the vote.",
             "Das Wetter ist heute sonnig und warm."]
    plain = tiny_classifier.predict(texts)
    assert all(p.evidence is None for p in plain)
    with_evidence = tiny_classifier.predict(texts, evidence=True)
    for text, p, q in zip(texts, with_evidence, plain):
        assert p.labels == q.labels and p.scores == q.scores
        assert set(p.evidence) == set(p.labels)
        for spans in p.evidence.values():
            assert spans and all(0 <= s.start < s.end <= len(text) and not text[s.start].isspace() for s in spans)


def _span(span):
    return span.start, span.end


def _corpus_test_rows():
    return [row for row in read_records() if row["split"] == "test"]


@pytest.mark.real_model
def test_in_an_article_with_one_relevant_sentence_the_evidence_is_that_sentence():
    """The analyst's case: one act reported in the middle of unrelated text, in the passage's own language."""
    rows = _corpus_test_rows()
    unrelated: dict[str, list[str]] = {}
    for row in rows:
        if not row["labels"]:
            unrelated.setdefault(row["lang"], []).append(row["text"])
    acts = [r for r in rows if r["labels"] and len(sentence_spans(r["text"])) == 1][:40]
    articles, places = [], []
    for i, row in enumerate(acts):
        before, after = unrelated[row["lang"]][i % 5], unrelated[row["lang"]][5 + i % 5]
        articles.append(f"{before} {row['text']} {after}")
        places.append((len(before) + 1, len(before) + 1 + len(row["text"])))
    clf = ic.load()
    found, inside, removed = 0, 0, 0
    for row, article, (start, end), prediction in zip(acts, articles, places, clf.predict(articles, evidence=True)):
        for label in set(prediction.labels) & set(row["labels"]):
            top = prediction.evidence[label][0]
            found += 1
            inside += top.start < end and start < top.end
            after = clf.predict_proba([without(article, top.start, top.end)])[0, clf.labels.index(label)]
            removed += after < clf.thresholds[label]
    assert found >= 15 and inside / found >= 0.9 and removed / found >= 0.9


@pytest.mark.real_model
def test_deleting_the_top_span_removes_the_label_where_deleting_another_sentence_does_not():
    """Faithfulness on a sample of the corpus test split (benchmarks/evidence.py measures the whole split).

    The corpus's passages often state their act in more than one sentence, and the model then keeps
    the label after any one short span is deleted; so the share is well under one here (the issue's
    target, 0.8, is missed: see the README). What must hold is that the span the search picks
    matters and an arbitrary other sentence does not.
    """
    # Texts of two sentences or more: a one-sentence text is its own evidence, and deleting it proves nothing.
    positives = [r for r in _corpus_test_rows() if r["labels"] and len(sentence_spans(r["text"])) > 1]
    sample = positives[:: max(1, len(positives) // 60)][:60]
    clf = ic.load()
    predictions = clf.predict([r["text"] for r in sample], evidence=True)
    removed, removed_by_another, total = 0, 0, 0
    for row, prediction in zip(sample, predictions):
        for label in set(prediction.labels) & set(row["labels"]):  # correctly predicted positives
            top = prediction.evidence[label][0]
            another = next(s for s in sentence_spans(row["text"]) if s.end <= top.start or s.start >= top.end)
            after = clf.predict_proba([without(row["text"], top.start, top.end),
                                       without(row["text"], another.start, another.end)])[:, clf.labels.index(label)]
            removed += after[0] < clf.thresholds[label]
            removed_by_another += after[1] < clf.thresholds[label]
            total += 1
    assert total >= 30 and removed / total >= 0.5 and (removed - removed_by_another) / total >= 0.4
