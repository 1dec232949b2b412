"""Validation of the texts handed to the classifier.

Bad input is refused with the index of the offending item and the reason,
never silently dropped or scored as something else.
"""

from __future__ import annotations

from collections.abc import Iterable


def _problem(text: object) -> tuple[type[Exception], str] | None:
    if text is None:
        return TypeError, "is None, expected a string"
    if not isinstance(text, str):
        return TypeError, f"is of type {type(text).__name__}, expected a string"
    if not text.strip():
        return ValueError, "is empty or whitespace only"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return ValueError, f"contains an unpaired surrogate at character {error.start}"
    return None


def describe_problem(text: object) -> str | None:
    """Why ``text`` cannot be classified, or None when it can."""
    problem = _problem(text)
    return None if problem is None else f"text {problem[1]}"


def validate_texts(texts: str | Iterable[str]) -> tuple[list[str], bool]:
    """Return the texts as a list and whether a single string was given.

    Raises ``TypeError`` or ``ValueError`` naming the first bad item's index.
    """
    single = isinstance(texts, str)
    if texts is None:
        raise TypeError("texts is None; expected a string or a list of strings")
    if single:
        items = [texts]
    elif isinstance(texts, (bytes, bytearray)):
        raise TypeError("texts is bytes; decode it to str first")
    else:
        try:
            items = list(texts)
        except TypeError:
            raise TypeError(f"texts must be a string or an iterable of strings, not {type(texts).__name__}") from None
    for index, text in enumerate(items):
        problem = _problem(text)
        if problem is not None:
            kind, reason = problem
            raise kind(f"texts[{index}] {reason}")
    return items, single
