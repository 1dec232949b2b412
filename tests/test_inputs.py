import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interference_clf.inputs import describe_problem, validate_texts


@pytest.mark.parametrize(
    ("texts", "error", "message"),
    [
        (None, TypeError, "texts is None"),
        (["ok", None], TypeError, r"texts\[1\] is None"),
        (["ok", "fine", 3], TypeError, r"texts\[2\] is of type int"),
        ([""], ValueError, r"texts\[0\] is empty"),
        (["a", " \n\t "], ValueError, r"texts\[1\] is empty or whitespace"),
        (["bad \ud800 surrogate"], ValueError, r"texts\[0\] contains an unpaired surrogate at character 4"),
        (b"bytes", TypeError, "decode"),
        (42, TypeError, "not int"),
    ],
)
def test_bad_input_names_index_and_reason(texts, error, message):
    with pytest.raises(error, match=message):
        validate_texts(texts)


def test_single_string_and_generators_are_accepted():
    assert validate_texts("one") == (["one"], True)
    assert validate_texts(t for t in ["a", "b"]) == (["a", "b"], False)


def test_describe_problem():
    assert describe_problem("fine") is None
    assert describe_problem(None) == "text is None, expected a string"


@pytest.mark.parametrize(
    "text",
    [
        "control\x00\x07\x1b characters",
        "emoji 🙂🔥🗳️ and mixed scripts: Wahl выборы 选举 انتخابات",
        "\u200b\u200d zero-width only around text \ufeff",
        "x" * 1_000_000,
        "Ａ" * 10,
    ],
)
def test_awkward_but_valid_text_is_classified(tiny_classifier, text):
    prediction = tiny_classifier.predict(text)
    assert set(prediction.scores) == set(tiny_classifier.labels)


def test_bad_item_in_a_batch_is_named(tiny_classifier):
    with pytest.raises(ValueError, match=r"texts\[2\] is empty"):
        tiny_classifier.predict(["a", "b", "   "])


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.text(max_size=60), st.none(), st.integers()), min_size=1, max_size=4))
def test_random_unicode_never_crashes(tiny_classifier, texts):
    try:
        scores = tiny_classifier.predict_proba(texts, batch_size=2)
    except (TypeError, ValueError) as error:
        assert "texts[" in str(error)
        bad = [i for i, t in enumerate(texts) if describe_problem(t) is not None]
        assert bad and f"texts[{bad[0]}]" in str(error)
    else:
        assert scores.shape == (len(texts), 3)
        assert ((scores >= 0) & (scores <= 1)).all()
        assert all(describe_problem(t) is None for t in texts)
