"""The label set: the three election-threat areas named by France's SGDSN.

The full definitions and the judging rules are in ``docs/LABELS.md``; a
passage carries any subset of these, and the empty set means "none".
"""

from __future__ import annotations

from collections.abc import Iterable

LABELS: tuple[str, ...] = ("cyberattack", "disinformation", "espionage")

DESCRIPTIONS: dict[str, str] = {
    "cyberattack": "someone broke into, disrupted or abused computer systems, networks or accounts",
    "disinformation": "someone deliberately spread false or manipulated information, or faked its origin or reach",
    "espionage": "a state or its proxy gathered intelligence covertly or worked through covert agents, "
    "bribes or surveillance of people",
}


def normalise_labels(labels: Iterable[str], *, where: str = "labels") -> list[str]:
    """Validate a label collection and return it sorted in ``LABELS`` order."""
    if isinstance(labels, str):
        raise TypeError(f"{where}: expected a list of labels, got the string {labels!r}")
    given = list(labels)
    unknown = [label for label in given if label not in LABELS]
    if unknown:
        raise ValueError(f"{where}: unknown label(s) {unknown}; the labels are {list(LABELS)}")
    return [label for label in LABELS if label in given]


def to_indicator(labels: Iterable[str]) -> list[int]:
    """One 0/1 entry per label, in ``LABELS`` order."""
    chosen = set(normalise_labels(labels))
    return [int(label in chosen) for label in LABELS]
