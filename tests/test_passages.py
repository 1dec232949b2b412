import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interference_clf.passages import Span, split_passages


def count_words(text: str) -> int:
    """A stand-in tokenizer: a token per word, and per wide character (Chinese, Japanese, emoji), which have no spaces."""
    wide = sum(unicodedata.east_asian_width(c) in "WF" for c in text)
    narrow_words = len("".join(c if unicodedata.east_asian_width(c) not in "WF" else " " for c in text).split())
    return wide + narrow_words


def texts_of(text: str, spans: list[Span]) -> list[str]:
    return [text[start:end] for start, end in spans]


def test_a_text_that_fits_is_one_passage():
    text = "  Hackers broke in.\nThe vote goes on.  "
    assert texts_of(text, split_passages(text, 50, count_words)) == ["Hackers broke in.\nThe vote goes on."]


def test_blank_lines_separate_paragraphs_even_when_they_would_fit_together():
    text = "First paragraph here.\n\n  \nSecond one.\r\n\r\nThird."
    assert texts_of(text, split_passages(text, 50, count_words)) == ["First paragraph here.", "Second one.", "Third."]


def test_long_paragraphs_split_at_sentences_then_pack_sentences_up_to_the_budget():
    text = "One two three. Four five six! Seven eight? Nine ten eleven twelve."
    assert texts_of(text, split_passages(text, 6, count_words)) == [
        "One two three. Four five six!",
        "Seven eight? Nine ten eleven twelve.",
    ]


def test_decimal_points_and_closing_quotes():
    text = 'Turnout was 3.5 percent higher. "Was it rigged?" he asked. No.'
    assert texts_of(text, split_passages(text, 5, count_words)) == [
        "Turnout was 3.5 percent higher.",
        '"Was it rigged?" he asked.',
        "No.",
    ]


def test_chinese_and_japanese_sentences_split_without_spaces():
    text = "选举委员会的网站遭到攻击。黑客窃取了数据！是谁干的？本当ですか？はい。"
    passages = texts_of(text, split_passages(text, 8, count_words))
    # The first sentence alone is over budget, so it is cut between characters; the others end at 。！？
    assert passages == ["选举委员会的网站", "遭到攻击。", "黑客窃取了数据！", "是谁干的？", "本当ですか？", "はい。"]
    assert "".join(passages) == text


def test_arabic_question_mark_ends_a_sentence():
    text = "هل ستجري الانتخابات في الربيع؟ نعم ستجري."
    assert texts_of(text, split_passages(text, 5, count_words)) == ["هل ستجري الانتخابات في الربيع؟", "نعم ستجري."]


def test_a_word_longer_than_the_budget_is_cut_into_characters_but_emoji_stay_whole():
    family, flag, accented = "👨\u200d👩\u200d👧", "🇫🇷", "e\u0301"
    text = f"{family}{flag}{flag}{accented}x"
    passages = texts_of(text, split_passages(text, 1, len))
    assert passages == [family, flag, flag, accented, "x"]  # over budget only where one cluster is


@pytest.mark.parametrize(
    "text",
    [
        "Выборы прошли спокойно. Наблюдатели довольны.\n\nAber die Hacker 🙂 waren schneller!",
        "東京で選挙。投票率は低かった！\nالانتخابات ستجري في الربيع؟ ربما.",
        "Bots 🤖🤖🤖 spread lies.\u2029Next paragraph… really.",
    ],
)
def test_offsets_are_exact_on_multilingual_text(text):
    spans = split_passages(text, 4, count_words)
    assert spans
    for start, end in spans:
        passage = text[start:end]
        assert passage == passage.strip() and passage
    gaps = zip([0] + [end for _, end in spans], [start for start, _ in spans] + [len(text)])
    assert all(not text[start:end].strip() for start, end in gaps)  # nothing but whitespace is left out


def test_whitespace_only_text_has_no_passages_and_budget_must_be_positive():
    assert split_passages(" \n\t ", 10, count_words) == []
    with pytest.raises(ValueError, match="max_tokens"):
        split_passages("text", 0, count_words)


ALPHABET = st.sampled_from(list("ab cd\n\n.!?。！？؟ 选举攻击が😀🙂xyz,'\"")) | st.characters(
    blacklist_categories=("Cs", "Mn", "Mc", "Me", "So", "Sk", "Cf", "Co", "Cn")
)


@settings(max_examples=300, deadline=None)
@given(text=st.text(ALPHABET, max_size=200), max_tokens=st.integers(1, 12))
def test_passages_are_ordered_disjoint_trimmed_cover_everything_and_fit(text, max_tokens):
    spans = split_passages(text, max_tokens, len)
    ends = [0] + [end for _, end in spans]
    for (start, end), previous_end in zip(spans, ends):
        assert previous_end <= start < end <= len(text)  # in order, not overlapping, not empty
        assert not text[start].isspace() and not text[end - 1].isspace()
        # Every code point here is its own cluster, so every passage can and must fit.
        assert end - start <= max_tokens
    covered = {i for start, end in spans for i in range(start, end)}
    assert {i for i, c in enumerate(text) if not c.isspace()} <= covered


@settings(max_examples=100, deadline=None)
@given(text=st.text(ALPHABET, max_size=300), max_tokens=st.integers(1, 30))
def test_passages_fit_a_tokenizer_that_is_not_additive(text, max_tokens):
    # Word-ish counting is not additive over concatenation; every passage still has to be checked as a whole.
    for start, end in split_passages(text, max_tokens, count_words):
        passage = text[start:end]
        assert count_words(passage) <= max_tokens  # no single character here counts more than one token


def test_documents_are_labelled_by_their_passages(tiny_classifier):
    clf = tiny_classifier
    document = "Hackers broke into the election commission servers. " * 3 + "\n\n选举委员会的网站遭到攻击。Шпигуна затримали."
    [result] = clf.predict_documents([document])
    prefix_tokens = len(clf.text_encoder.prefix_ids)
    budget = clf.config.max_length - 2 - prefix_tokens  # no passage should need the classifier's windowing
    texts = [document[p.start : p.end] for p in result.passages]
    assert len(texts) > 1
    for text in texts:
        assert clf.text_encoder.count_tokens(text) <= budget
    scores = clf.predict_proba(texts)
    for passage, row in zip(result.passages, scores):
        assert [passage.scores[label] for label in clf.labels] == pytest.approx(row.tolist(), abs=1e-5)
    assert result.scores == {label: max(p.scores[label] for p in result.passages) for label in clf.labels}
    assert result.labels == [label for label in clf.labels if any(label in p.labels for p in result.passages)]
